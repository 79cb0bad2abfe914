//! Signed versions. Signing a record freezes what was signed: the Automerge heads at that
//! moment and the SHA-256 of the signed content are recorded in the record itself. Later the
//! signed version is re-materialised exactly from the document (whatever edits came after),
//! checked against its hash, and every later edit shows as an amendment.
//!
//! The signed content is the record without its workflow state (status, review, signed
//! versions, issued documents): what the inspectors found and what the parties signed.
//! It is hashed as compact JSON with map keys in sorted order (all maps are `BTreeMap`s),
//! so the same content always gives the same bytes.

use crate::checklist::ChecklistTemplate;
use crate::docnumber::DocumentKind;
use crate::document::{ChangeEntry, DocError, InspectionDoc};
use crate::evidence::Sha256Hex;
use crate::geo::Timestamp;
use crate::ids::{DeviceId, HazardId, UserId};
use crate::inspection::{Command, Context, Inspection, InspectionStatus, RecordError, Unmet};
use crate::user::User;
use automerge::ChangeHash;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// A signed version: the Automerge heads at signing and the content hash of what was signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedVersion {
    /// Automerge change hashes (hex) of the document's heads when it was signed.
    pub heads: Vec<String>,
    pub content_hash: Sha256Hex,
    pub at: Timestamp,
    pub by: UserId,
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("no signed version {0} in this record")]
    Unknown(String),
    #[error("signed version {0} names heads that are not valid change hashes")]
    BadHeads(String),
    #[error(
        "signed version {id}: the content at its heads hashes to {found}, but {recorded} was signed"
    )]
    HashMismatch {
        id: String,
        recorded: Sha256Hex,
        found: Sha256Hex,
    },
    #[error(transparent)]
    Doc(#[from] DocError),
}

/// The part of a record that signatures cover, as a JSON value.
pub fn signed_content(record: &Inspection) -> Value {
    let mut v = serde_json::to_value(record).expect("records serialise");
    if let Value::Object(map) = &mut v {
        for workflow in [
            "status",
            "completed_at",
            "review",
            "signed_versions",
            "documents",
            "services",
        ] {
            map.remove(workflow);
        }
    }
    v
}

/// SHA-256 of the signed content's canonical JSON.
pub fn content_hash(record: &Inspection) -> Sha256Hex {
    let bytes = serde_json::to_vec(&signed_content(record)).expect("values serialise");
    Sha256Hex::of(&bytes)
}

/// A field whose signed value differs from its current one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// JSON-pointer-like path, e.g. `/results/GM-01/answer`.
    pub path: String,
    pub signed: Option<Value>,
    pub now: Option<Value>,
}

/// What changed since a signed version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Amendments {
    /// The Automerge changes made after the signature (who, when, on which device, what).
    pub changes: Vec<ChangeEntry>,
    /// The fields of the signed content that now read differently.
    pub fields: Vec<FieldChange>,
}

impl Amendments {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

fn parse_heads(id: &str, heads: &[String]) -> Result<Vec<ChangeHash>, SignError> {
    heads
        .iter()
        .map(|h| h.parse().map_err(|_| SignError::BadHeads(id.to_owned())))
        .collect()
}

impl InspectionDoc {
    /// Records a signed version of the current state under `id` and returns it.
    pub fn sign(
        &mut self,
        id: &str,
        cx: &Context<'_>,
        device: &DeviceId,
    ) -> Result<SignedVersion, DocError> {
        let version = SignedVersion {
            heads: self.heads().iter().map(ToString::to_string).collect(),
            content_hash: content_hash(self.record()),
            at: cx.now,
            by: cx.actor.id.clone(),
        };
        self.apply(
            &Command::RecordSignedVersion {
                id: id.to_owned(),
                version: version.clone(),
            },
            cx,
            device,
        )?;
        Ok(version)
    }

    /// The record exactly as signed in version `id`, verified against the recorded hash.
    pub fn signed_record(&mut self, id: &str) -> Result<Inspection, SignError> {
        let version = self
            .record()
            .signed_versions
            .get(id)
            .cloned()
            .ok_or_else(|| SignError::Unknown(id.to_owned()))?;
        let heads = parse_heads(id, &version.heads)?;
        let past = self.record_at(&heads)?;
        let found = content_hash(&past);
        if found != version.content_hash {
            return Err(SignError::HashMismatch {
                id: id.to_owned(),
                recorded: version.content_hash,
                found,
            });
        }
        Ok(past)
    }

    /// Everything changed since signed version `id`.
    pub fn amendments(&mut self, id: &str) -> Result<Amendments, SignError> {
        let signed = self.signed_record(id)?;
        let version = &self.record().signed_versions[id];
        let heads = parse_heads(id, &version.heads)?;
        let mut fields = Vec::new();
        diff_values(
            "",
            Some(&signed_content(&signed)),
            Some(&signed_content(self.record())),
            &mut fields,
        );
        let changes = self.changes_since(&heads);
        Ok(Amendments { changes, fields })
    }
}

/// Collects the leaf paths where `a` and `b` differ.
fn diff_values(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<FieldChange>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                diff_values(&format!("{path}/{k}"), x.get(k), y.get(k), out);
            }
        }
        _ => out.push(FieldChange {
            path: path.to_owned(),
            signed: a.cloned(),
            now: b.cloned(),
        }),
    }
}

/// Whether the rules allow signing `record` now, as `actor`: on site with every requirement
/// of completing met (the first signing completes the visit), or completed or returned (a new
/// signed version of what is there now). The tablet checks this before it spends any
/// document number.
pub fn check_signing(
    record: &Inspection,
    actor: &User,
    template: &ChecklistTemplate,
) -> Result<(), RecordError> {
    let mut unmet = match record.status {
        InspectionStatus::OnSite => {
            record.unmet_for(InspectionStatus::Completed, actor, template, "")
        }
        InspectionStatus::Completed | InspectionStatus::Returned => Vec::new(),
        status => return Err(RecordError::NotInStatus(status)),
    };
    unmet.extend(
        stale_signatures(record)
            .into_iter()
            .map(|key| Unmet::SignedBeforeReinspection(record.signatures[&key].name.clone())),
    );
    if unmet.is_empty() {
        Ok(())
    } else {
        Err(RecordError::Unmet {
            from: record.status,
            to: InspectionStatus::Completed,
            unmet,
        })
    }
}

/// The signatures (by [`crate::inspection::Signer::key`]) made on a day before the latest
/// re-inspection. A signing after a re-inspection issues the 整改复查意见书, dated the day it
/// is issued; it prints the signatures the record holds, so each must be made on or after
/// the re-inspection's day, or the opinion would show signatures older than itself (the
/// 12月2日 opinion with three 11月23日 signatures). Such a signer signs again.
pub fn stale_signatures(record: &Inspection) -> Vec<String> {
    let Some(latest) = record
        .hazards
        .values()
        .flat_map(|h| h.reinspections.values())
        .map(|r| r.on)
        .max()
    else {
        return Vec::new();
    };
    record
        .signatures
        .iter()
        .filter(|(_, s)| s.at.shanghai_date() < latest)
        .map(|(k, _)| k.clone())
        .collect()
}

/// What a record's signing section offers, as the rules decide it (the tablet puts it in the
/// record's view; the screen only shows it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOffer {
    /// "Complete and sign" is offered: on site (the first signing), or completed or returned
    /// with something to sign — not signed since the last review, or changed since the
    /// latest signed version.
    pub can_sign: bool,
    /// "Submit for review" is offered: completed or returned, and signed since the last
    /// review.
    pub can_submit: bool,
    /// What the rules still require before the signing can go ahead (a signing now is
    /// refused for these); empty when nothing blocks it.
    pub blockers: Vec<Unmet>,
}

/// The signing section's offer for `record` as `actor` sees it; `amended` says whether the
/// latest signed version has amendments (what changed since it was signed).
pub fn sign_offer(
    record: &Inspection,
    actor: &User,
    template: &ChecklistTemplate,
    amended: bool,
) -> SignOffer {
    let signed_since_review = !record
        .unmet_for(InspectionStatus::Submitted, actor, template, "")
        .contains(&Unmet::NoSignedVersion);
    let after_signing = matches!(
        record.status,
        InspectionStatus::Completed | InspectionStatus::Returned
    );
    let blockers = match check_signing(record, actor, template) {
        Err(RecordError::Unmet { unmet, .. }) => unmet,
        _ => Vec::new(),
    };
    SignOffer {
        can_sign: record.status == InspectionStatus::OnSite
            || (after_signing && (!signed_since_review || amended)),
        can_submit: after_signing && signed_since_review,
        blockers,
    }
}

/// The enforcement documents a record has material for: the 现场检查记录 always; the
/// 责令限期整改指令书 when some hazard has a rectification deadline; the 整改复查意见书 when
/// some hazard has been re-inspected (`pdf_forms::forms_for` renders these).
pub fn documents_for(record: &Inspection) -> Vec<DocumentKind> {
    let mut out = vec![DocumentKind::InspectionRecord];
    if record.hazards.values().any(|h| h.deadline.is_some()) {
        out.push(DocumentKind::RectificationOrder);
    }
    if record.hazards.values().any(|h| !h.reinspections.is_empty()) {
        out.push(DocumentKind::ReinspectionOpinion);
    }
    out
}

/// The latest number of `kind` in the record (the one the document prints).
fn latest_number(record: &Inspection, kind: DocumentKind) -> Option<&str> {
    record
        .documents
        .values()
        .filter(|d| d.kind == kind)
        .max_by_key(|d| (d.at, d.year, d.seq))
        .map(|d| d.number.as_str())
}

/// What a document of `kind` says, as far as its identity goes: the order lists the hazards
/// ordered to be rectified with their deadlines; the opinion, the re-inspections it reports.
fn material(record: &Inspection, kind: DocumentKind) -> BTreeSet<(HazardId, String)> {
    let mut out = BTreeSet::new();
    for h in record.hazards.values() {
        match kind {
            DocumentKind::RectificationOrder => {
                if let Some(d) = h.deadline {
                    out.insert((h.id.clone(), d.to_string()));
                }
            }
            DocumentKind::ReinspectionOpinion => {
                out.extend(h.reinspections.keys().map(|r| (h.id.clone(), r.clone())));
            }
            _ => {}
        }
    }
    out
}

/// The documents whose numbers (文号) the next signing must issue, so that every document the
/// signed version yields ([`documents_for`]) carries its own number:
///
/// - 现场检查记录: once; later signed versions are amendments of the same document.
/// - 责令限期整改指令书 (when a hazard has a rectification deadline) and 整改复查意见书 (when a
///   hazard was re-inspected): when the record has none yet, and again when what the document
///   lists changed since the first signed version that carried its latest number — a new
///   order after a failed re-inspection set a new deadline, or after another hazard was
///   ordered; a new opinion after another re-inspection. A number issued but not yet in any
///   signed version (the app stopped before signing) is used, not replaced.
pub fn documents_to_number(doc: &mut InspectionDoc) -> Vec<DocumentKind> {
    let record = doc.record().clone();
    let mut versions: Vec<(&String, &SignedVersion)> = record.signed_versions.iter().collect();
    versions.sort_by(|a, b| (a.1.at, a.0).cmp(&(b.1.at, b.0)));
    let mut out = Vec::new();
    for kind in documents_for(&record) {
        let Some(number) = latest_number(&record, kind) else {
            out.push(kind);
            continue;
        };
        if kind == DocumentKind::InspectionRecord {
            continue;
        }
        let first_signed = versions.iter().find_map(|(vid, _)| {
            doc.signed_record(vid)
                .ok()
                .filter(|signed| signed.documents.contains_key(number))
        });
        if let Some(signed) = first_signed
            && material(&signed, kind) != material(&record, kind)
        {
            out.push(kind);
        }
    }
    out
}

#[cfg(test)]
mod offer_tests {
    use super::*;
    use crate::geo::Day;
    use crate::hazard::HazardLevel;
    use crate::inspection::{Review, ReviewDecision};
    use crate::kind::InspectionKind;
    use crate::test_support::*;

    /// A 四不两直 record taken through `script`, as each command's actor.
    fn after(script: Vec<(User, Command)>) -> Inspection {
        let t = template();
        let mut r = new_record(InspectionKind::Unannounced);
        for (i, (u, c)) in script.iter().enumerate() {
            r.apply(c, &cx(u, &t, i as i64)).unwrap();
        }
        r
    }

    #[test]
    fn on_site_the_signing_is_offered_and_its_unmet_requirements_listed() {
        let (t, w) = (template(), wang());
        let mut script = on_site_script();
        script.truncate(5); // on site, nothing answered, nobody signed
        let r = after(script);
        let offer = sign_offer(&r, &w, &t, false);
        assert!(offer.can_sign && !offer.can_submit);
        assert!(matches!(offer.blockers[0], Unmet::UnansweredItems(ref i) if i.len() == 3));
        assert!(offer.blockers.contains(&Unmet::NoOnsitePerson));
        assert!(matches!(
            check_signing(&r, &w, &t),
            Err(RecordError::Unmet { .. })
        ));
        let ready = after(on_site_script());
        assert_eq!(
            sign_offer(&ready, &w, &t, false),
            SignOffer {
                can_sign: true,
                can_submit: false,
                blockers: Vec::new()
            }
        );
        assert_eq!(check_signing(&ready, &w, &t), Ok(()));
    }

    #[test]
    fn after_signing_a_new_signature_is_offered_only_for_amendments_or_after_a_return() {
        let (t, w) = (template(), wang());
        let mut r = after(on_site_script());
        r.apply(
            &Command::Transition {
                to: InspectionStatus::Completed,
                comment: String::new(),
            },
            &cx(&w, &t, 30),
        )
        .unwrap();
        // Not yet signed: signing offered, submitting not.
        let offer = sign_offer(&r, &w, &t, false);
        assert!(offer.can_sign && !offer.can_submit && offer.blockers.is_empty());
        r.signed_versions.insert(
            "v1".into(),
            SignedVersion {
                heads: Vec::new(),
                content_hash: content_hash(&r),
                at: Timestamp(T0.0 + 40 * 60_000),
                by: w.id.clone(),
            },
        );
        let offer = sign_offer(&r, &w, &t, false);
        assert!(!offer.can_sign && offer.can_submit);
        assert!(
            sign_offer(&r, &w, &t, true).can_sign,
            "an amendment to sign"
        );
        // Returned after that signature: sign again before submitting.
        r.status = InspectionStatus::Returned;
        r.review = Some(Review {
            by: supervisor().id,
            at: Timestamp(T0.0 + 50 * 60_000),
            decision: ReviewDecision::Returned,
            comment: "补充照片".into(),
            items: Default::default(),
        });
        let offer = sign_offer(&r, &w, &t, false);
        assert!(offer.can_sign && !offer.can_submit);
        // Submitted or approved: nothing offered, signing refused.
        r.status = InspectionStatus::Submitted;
        assert_eq!(sign_offer(&r, &w, &t, true), SignOffer::default());
        assert_eq!(
            check_signing(&r, &w, &t),
            Err(RecordError::NotInStatus(InspectionStatus::Submitted))
        );
    }

    #[test]
    fn the_documents_follow_the_hazards() {
        let mut r = after(on_site_script());
        assert_eq!(documents_for(&r), vec![DocumentKind::InspectionRecord]);
        let mut h = hazard("h1", "T-03", HazardLevel::Major);
        h.deadline = Some(Day::ymd(2026, 12, 23));
        r.hazards.insert(h.id.clone(), h);
        assert_eq!(
            documents_for(&r),
            vec![
                DocumentKind::InspectionRecord,
                DocumentKind::RectificationOrder
            ]
        );
    }

    /// The finding: a 整改复查意见书 dated 12月2日 carrying three signatures dated
    /// 11月23日. Signatures older than the re-inspection block the signing until made again,
    /// and then the opinion's date and its signatures' dates are the same day.
    #[test]
    fn an_opinion_and_its_signatures_carry_the_same_date() {
        use crate::docnumber::IssuedDocument;
        use crate::hazard::Reinspection;
        use crate::inspection::{SignOutcome, Signature, Signer};
        use crate::paper::{Block, Cell, Mode, paper};
        let (t, w, l) = (template(), wang(), li());
        let mut r = after(on_site_script());
        r.apply(
            &Command::Transition {
                to: InspectionStatus::Completed,
                comment: String::new(),
            },
            &cx(&w, &t, 30),
        )
        .unwrap();
        let dec2 = Timestamp(T0.0 + 9 * 86_400_000 + 2 * 3_600_000); // 2026-12-02 10:00
        let mut h = hazard("h1", "T-03", HazardLevel::General);
        h.deadline = Some(Day::ymd(2026, 12, 1));
        h.reinspections.insert(
            "ri-1".into(),
            Reinspection {
                on: dec2.shanghai_date(),
                by: w.id.clone(),
                passed: true,
                note: String::new(),
                photos: Default::default(),
                new_deadline: None,
            },
        );
        r.hazards.insert(h.id.clone(), h);
        let issued = |kind: DocumentKind, seq: u32, at: Timestamp| IssuedDocument {
            kind,
            number: format!("（玄武）应急{}〔2026〕{seq}号", kind.code()),
            seq,
            year: 2026,
            at,
            by: w.id.clone(),
            device: "dev-1".into(),
        };
        for d in [
            issued(DocumentKind::InspectionRecord, 1, T0),
            issued(DocumentKind::RectificationOrder, 1, T0),
        ] {
            r.documents.insert(d.number.clone(), d);
        }
        let Err(RecordError::Unmet { unmet, .. }) = check_signing(&r, &w, &t) else {
            panic!("signatures of 11-23 on a 12-02 opinion")
        };
        assert_eq!(
            unmet,
            ["陈经理", "李娜", "王强"]
                .map(|n| Unmet::SignedBeforeReinspection(n.into()))
                .to_vec()
        );
        assert!(unmet[0].zh().contains("请重新签名"));
        // Each signs again on the re-inspection's day.
        let mut cx2 = cx(&w, &t, 0);
        cx2.now = dec2;
        for u in [&w, &l] {
            let Command::Sign(mut s) = sign(u) else {
                unreachable!()
            };
            s.at = dec2;
            r.apply(&Command::Sign(s), &cx2).unwrap();
        }
        r.apply(
            &Command::Sign(Signature {
                signer: Signer::Enterprise,
                name: "陈经理".into(),
                outcome: SignOutcome::Signed {
                    image: digest("sig-chen"),
                },
                at: dec2,
                read: Vec::new(),
            }),
            &cx2,
        )
        .unwrap();
        assert_eq!(check_signing(&r, &w, &t), Ok(()));
        let d = issued(DocumentKind::ReinspectionOpinion, 1, dec2);
        r.documents.insert(d.number.clone(), d);
        let p = paper(
            DocumentKind::ReinspectionOpinion,
            &r,
            Some(&t),
            "南京市玄武区应急管理局",
            Mode::Issued,
        )
        .unwrap();
        let mut dates = Vec::new();
        for b in &p.blocks {
            match b {
                Block::Row { cells } => dates.extend(cells.iter().filter_map(|(_, c)| match c {
                    Cell::Sign(s) => Some(s.below.clone()),
                    _ => None,
                })),
                Block::Seal { date } => dates.push(date.clone()),
                _ => {}
            }
        }
        assert_eq!(dates, vec!["2026年12月2日".to_owned(); 4]);
    }
}
