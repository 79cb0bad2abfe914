//! The inspection record (one case) and its rules.
//!
//! Every edit is a [`Command`]; [`Inspection::apply`] checks it against the rules (status,
//! role, checklist, lifecycle) and either applies it or returns an error that says why. The
//! Automerge document ([`crate::document`]) runs the same function, so the tablet, the server
//! and the console enforce one set of rules.
//!
//! Status moves, the whole table (anything else is refused):
//!
//! | from       | to        | who        | requires                                              |
//! |------------|-----------|------------|-------------------------------------------------------|
//! | draft      | on_site   | inspector  | ≥ 2 inspectors; 四不两直: arrival proof + attestations |
//! | on_site    | completed | inspector  | every applicable item answered, on-site person, all signatures |
//! | completed  | submitted | inspector  | a signed version recorded                             |
//! | submitted  | approved  | supervisor |                                                       |
//! | submitted  | returned  | supervisor | a comment                                             |
//! | returned   | submitted | inspector  | a signed version recorded after the return            |

use crate::checklist::{ChecklistTemplate, TemplateRef};
use crate::docnumber::IssuedDocument;
use crate::enterprise::{Enterprise, Industry};
use crate::evidence::{PhotoRef, Sha256Hex};
use crate::geo::{Position, Timestamp};
use crate::hazard::{Hazard, HazardAction, HazardError};
use crate::ids::{EnterpriseId, HazardId, InspectionId, ItemCode, PlanId, UnitId, UserId};
use crate::kind::InspectionKind;
use crate::signing::SignedVersion;
use crate::uscc::Uscc;
use crate::user::{CertificateNo, Role, User};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InspectionStatus {
    /// 草稿
    Draft,
    /// 现场检查中
    OnSite,
    /// 已完成 (signed on site)
    Completed,
    /// 已提交 (awaiting review)
    Submitted,
    /// 已审核通过
    Approved,
    /// 已退回
    Returned,
}

impl InspectionStatus {
    pub const ALL: [InspectionStatus; 6] = [
        InspectionStatus::Draft,
        InspectionStatus::OnSite,
        InspectionStatus::Completed,
        InspectionStatus::Submitted,
        InspectionStatus::Approved,
        InspectionStatus::Returned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InspectionStatus::Draft => "draft",
            InspectionStatus::OnSite => "on_site",
            InspectionStatus::Completed => "completed",
            InspectionStatus::Submitted => "submitted",
            InspectionStatus::Approved => "approved",
            InspectionStatus::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            InspectionStatus::Draft => "草稿",
            InspectionStatus::OnSite => "现场检查中",
            InspectionStatus::Completed => "已完成",
            InspectionStatus::Submitted => "已提交",
            InspectionStatus::Approved => "已审核",
            InspectionStatus::Returned => "已退回",
        }
    }

    /// Whether the record's content (answers, notes, photos, hazards, people) may change.
    /// After signing, changes are still possible in `completed` and `returned` and show as
    /// amendments against the signed version; under review and after approval they are not.
    pub fn allows_content_edits(self) -> bool {
        !matches!(
            self,
            InspectionStatus::Submitted | InspectionStatus::Approved
        )
    }

    /// Whether the visit has taken place (counted in figures).
    pub fn visit_done(self) -> bool {
        !matches!(self, InspectionStatus::Draft | InspectionStatus::OnSite)
    }
}

/// Who may make a status move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mover {
    Inspector,
    Supervisor,
}

/// The table of allowed status moves: the one place it is written down.
pub fn allowed_move(from: InspectionStatus, to: InspectionStatus) -> Option<Mover> {
    use InspectionStatus::*;
    match (from, to) {
        (Draft, OnSite) | (OnSite, Completed) | (Completed, Submitted) | (Returned, Submitted) => {
            Some(Mover::Inspector)
        }
        (Submitted, Approved) | (Submitted, Returned) => Some(Mover::Supervisor),
        _ => None,
    }
}

/// An inspector on the visit, with the certificate they showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectorRef {
    pub user: UserId,
    pub name: String,
    pub certificate: CertificateNo,
}

/// The enterprise as it was when the inspection started (documents must show that, even if
/// the reference data changes later).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterpriseSnapshot {
    pub id: EnterpriseId,
    pub name: String,
    pub uscc: Uscc,
    pub address: String,
    pub legal_representative: String,
    pub phone: String,
    /// Decides which of the template's categories apply (e.g. only the 冶金 articles for a
    /// steel works).
    pub industry: Industry,
}

impl From<&Enterprise> for EnterpriseSnapshot {
    fn from(e: &Enterprise) -> Self {
        Self {
            id: e.id.clone(),
            name: e.name.clone(),
            uscc: e.uscc.clone(),
            address: e.address.clone(),
            legal_representative: e.legal_representative.clone(),
            phone: e.phone.clone(),
            industry: e.industry,
        }
    }
}

/// Proof that a 四不两直 visit was unannounced: when and where the inspectors arrived, and a
/// photo taken at the entrance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArrivalProof {
    pub at: Timestamp,
    pub position: Position,
    pub entrance_photo: Sha256Hex,
}

/// The inspectors' statement for a 四不两直 visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Attestations {
    /// 未提前通知
    pub no_notice_given: bool,
    /// 未接受陪同和接待
    pub no_escort_accepted: bool,
}

/// The answer to a checklist item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// 符合
    Complies,
    /// 不符合
    Fails,
    /// 不涉及 (the official forms' label; texts before issue 17 said 不适用)
    NotApplicable,
}

impl Answer {
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Complies => "complies",
            Answer::Fails => "fails",
            Answer::NotApplicable => "not_applicable",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Answer::Complies, Answer::Fails, Answer::NotApplicable]
            .into_iter()
            .find(|a| a.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Answer::Complies => "符合",
            Answer::Fails => "不符合",
            Answer::NotApplicable => "不涉及",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ItemResult {
    pub answer: Option<Answer>,
    pub note: String,
    pub photos: BTreeMap<Sha256Hex, PhotoRef>,
}

/// The enterprise's person in charge on site (现场负责人).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnsitePerson {
    pub name: String,
    pub position: String,
    pub phone: String,
}

/// Who signs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "signer", content = "user", rename_all = "snake_case")]
pub enum Signer {
    Inspector(UserId),
    /// The enterprise's person in charge on site.
    Enterprise,
}

impl Signer {
    /// The key of the signature in the record: one signature per signer.
    pub fn key(&self) -> String {
        match self {
            Signer::Inspector(u) => format!("inspector:{u}"),
            Signer::Enterprise => "enterprise".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SignOutcome {
    /// The handwritten signature, captured as an image blob.
    Signed { image: Sha256Hex },
    /// 拒绝签字: recorded with a witness (见证人), as 《安全生产法》第六十八条 requires.
    Refused { witness: String, note: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub signer: Signer,
    pub name: String,
    pub outcome: SignOutcome,
    pub at: Timestamp,
    /// The documents the signer read before signing (the full-screen preview): which
    /// document, and the [`crate::paper::reading_hash`] of the text shown. Empty in
    /// signatures made before the preview existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read: Vec<ReadDocument>,
}

/// A document a signer read before signing, and the version of its text they read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadDocument {
    pub kind: crate::docnumber::DocumentKind,
    pub hash: Sha256Hex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Approved,
    Returned,
}

/// A supervisor's decision on a submitted record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub by: UserId,
    pub at: Timestamp,
    pub decision: ReviewDecision,
    pub comment: String,
    /// Comments that point at checklist items (item code → comment). Absent in reviews
    /// written before they existed (read as none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub items: BTreeMap<ItemCode, String>,
}

/// One inspection record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    pub id: InspectionId,
    pub kind: InspectionKind,
    pub unit: UnitId,
    pub enterprise: EnterpriseSnapshot,
    /// The checklist template and version this record was made with.
    pub template: TemplateRef,
    pub plan: Option<PlanId>,
    pub created_at: Timestamp,
    pub created_by: UserId,
    pub inspectors: BTreeMap<UserId, InspectorRef>,
    pub arrival: Option<ArrivalProof>,
    pub attestations: Attestations,
    /// 检查场所: the places inspected.
    pub places: String,
    /// 检查情况: what was found, in the inspectors' words.
    pub summary: String,
    pub results: BTreeMap<ItemCode, ItemResult>,
    pub hazards: BTreeMap<HazardId, Hazard>,
    pub onsite_person: Option<OnsitePerson>,
    /// Keyed by [`Signer::key`].
    pub signatures: BTreeMap<String, Signature>,
    pub status: InspectionStatus,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub review: Option<Review>,
    pub signed_versions: BTreeMap<String, SignedVersion>,
    /// Issued documents keyed by their number.
    pub documents: BTreeMap<String, IssuedDocument>,
    /// How each issued document was served (送达), keyed by its number.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, crate::delivery::Service>,
}

/// One edit of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    AddInspector(InspectorRef),
    RemoveInspector {
        user: UserId,
    },
    SetArrival(ArrivalProof),
    SetAttestations(Attestations),
    SetPlaces {
        text: String,
    },
    SetSummary {
        text: String,
    },
    Answer {
        item: ItemCode,
        answer: Option<Answer>,
    },
    SetNote {
        item: ItemCode,
        text: String,
    },
    AddItemPhoto {
        item: ItemCode,
        photo: PhotoRef,
    },
    RegisterHazard(Hazard),
    AddHazardPhoto {
        hazard: HazardId,
        photo: PhotoRef,
    },
    SetHazardText {
        hazard: HazardId,
        description: String,
        place: String,
    },
    Hazard {
        hazard: HazardId,
        action: HazardAction,
    },
    SetOnsitePerson(OnsitePerson),
    Sign(Signature),
    Transition {
        to: InspectionStatus,
        comment: String,
    },
    RecordSignedVersion {
        id: String,
        version: SignedVersion,
    },
    IssueDocument(IssuedDocument),
    /// A supervisor's decision (approved or returned) with comments on items: a
    /// [`Command::Transition`] that also records `items` (item code → comment) in the review.
    ReviewWithItems {
        to: InspectionStatus,
        comment: String,
        items: BTreeMap<ItemCode, String>,
    },
    /// 本节不涉及: marks every unanswered item of one checklist section 不涉及 at once. The
    /// command names the items it marks, and they must be exactly the section's unanswered
    /// items in the state it is applied to ([`Inspection::unanswered_in_section`]): an item
    /// already answered (a 不符合 among them) is never overwritten, and the change says
    /// which items it touched.
    MarkSectionNotApplicable {
        category: String,
        items: Vec<ItemCode>,
    },
    /// Unlinks a photo from an item (to delete or retake it). Only while nothing is signed:
    /// the original blob is never deleted (evidence), only the record's link to it.
    RemoveItemPhoto {
        item: ItemCode,
        sha256: Sha256Hex,
    },
    /// Unlinks a photo from a hazard, under the same rule as [`Command::RemoveItemPhoto`].
    RemoveHazardPhoto {
        hazard: HazardId,
        sha256: Sha256Hex,
    },
    /// 送达: how and when an issued, signed document was served.
    RecordService(crate::delivery::Service),
}

impl Command {
    /// A short name for logs and the audit trail.
    pub fn name(&self) -> &'static str {
        match self {
            Command::AddInspector(_) => "add_inspector",
            Command::RemoveInspector { .. } => "remove_inspector",
            Command::SetArrival(_) => "set_arrival",
            Command::SetAttestations(_) => "set_attestations",
            Command::SetPlaces { .. } => "set_places",
            Command::SetSummary { .. } => "set_summary",
            Command::Answer { .. } => "answer",
            Command::SetNote { .. } => "set_note",
            Command::AddItemPhoto { .. } => "add_item_photo",
            Command::RegisterHazard(_) => "register_hazard",
            Command::AddHazardPhoto { .. } => "add_hazard_photo",
            Command::SetHazardText { .. } => "set_hazard_text",
            Command::Hazard { .. } => "hazard_action",
            Command::SetOnsitePerson(_) => "set_onsite_person",
            Command::Sign(_) => "sign",
            Command::Transition { .. } => "transition",
            Command::RecordSignedVersion { .. } => "record_signed_version",
            Command::IssueDocument(_) => "issue_document",
            Command::ReviewWithItems { .. } => "review_with_items",
            Command::MarkSectionNotApplicable { .. } => "mark_section_not_applicable",
            Command::RemoveItemPhoto { .. } => "remove_item_photo",
            Command::RemoveHazardPhoto { .. } => "remove_hazard_photo",
            Command::RecordService(_) => "record_service",
        }
    }

    /// Whether the command changes what was inspected and found (frozen under review).
    pub fn is_content_edit(&self) -> bool {
        !matches!(
            self,
            Command::Transition { .. }
                | Command::Hazard { .. }
                | Command::RecordSignedVersion { .. }
                | Command::IssueDocument(_)
                | Command::ReviewWithItems { .. }
                | Command::RecordService(_)
        )
    }
}

/// What a command is checked against besides the record itself.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub actor: &'a User,
    pub now: Timestamp,
    /// The template the record was made with (its `reference()` equals `record.template`).
    pub template: &'a ChecklistTemplate,
}

/// A requirement that a status move found unmet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "unmet", content = "detail", rename_all = "snake_case")]
pub enum Unmet {
    FewerThanTwoInspectors(usize),
    NoArrivalProof,
    NoNoticeNotAttested,
    NoEscortNotAttested,
    UnansweredItems(Vec<ItemCode>),
    NoOnsitePerson,
    MissingSignature(String),
    RefusalWithoutWitness,
    NoSignedVersion,
    NoReturnComment,
    ActorNotOnRecord(UserId),
    /// A signature made before the latest re-inspection's day: the 整改复查意见书 reporting
    /// it would carry an older date than its own, so the signer signs again (the name).
    SignedBeforeReinspection(String),
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unmet::FewerThanTwoInspectors(n) => write!(
                f,
                "at least two inspectors with certificates are required (行政处罚法 第四十二条), found {n}"
            ),
            Unmet::NoArrivalProof => write!(
                f,
                "an unannounced (四不两直) visit needs the arrival proof: time, position and entrance photo"
            ),
            Unmet::NoNoticeNotAttested => write!(
                f,
                "the inspectors have not attested that no notice was given"
            ),
            Unmet::NoEscortNotAttested => write!(
                f,
                "the inspectors have not attested that no escort was accepted"
            ),
            Unmet::UnansweredItems(items) => {
                let shown: Vec<&str> = items.iter().take(5).map(ItemCode::as_str).collect();
                write!(
                    f,
                    "{} checklist item(s) unanswered: {}",
                    items.len(),
                    shown.join(", ")
                )?;
                if items.len() > 5 {
                    write!(f, ", …")?;
                }
                Ok(())
            }
            Unmet::NoOnsitePerson => write!(
                f,
                "the enterprise's person in charge on site is not recorded"
            ),
            Unmet::MissingSignature(who) => write!(f, "signature missing: {who}"),
            Unmet::RefusalWithoutWitness => write!(f, "a refusal to sign must name a witness"),
            Unmet::NoSignedVersion => write!(
                f,
                "the record must be signed (a signed version recorded) first"
            ),
            Unmet::NoReturnComment => {
                write!(f, "returning a record needs a comment for the inspectors")
            }
            Unmet::ActorNotOnRecord(u) => {
                write!(f, "user {u} is not one of this record's inspectors")
            }
            Unmet::SignedBeforeReinspection(who) => write!(
                f,
                "{who} signed before the latest re-inspection: sign again so the re-inspection opinion and its signatures carry the same date"
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("cannot move a record from {from:?} to {to:?}: that move does not exist")]
    NoSuchMove {
        from: InspectionStatus,
        to: InspectionStatus,
    },
    #[error("cannot move a record from {from:?} to {to:?}: only a {needed:?} may do that")]
    WrongRole {
        from: InspectionStatus,
        to: InspectionStatus,
        needed: Mover,
    },
    #[error("cannot move a record from {from:?} to {to:?}: {}", join(.unmet))]
    Unmet {
        from: InspectionStatus,
        to: InspectionStatus,
        unmet: Vec<Unmet>,
    },
    #[error("the record is {0:?}: its content cannot change now")]
    Frozen(InspectionStatus),
    #[error("only inspectors edit a record's content")]
    NotAnInspector,
    #[error("item {item} is not in checklist {template} version {version}")]
    UnknownItem {
        item: ItemCode,
        template: String,
        version: u32,
    },
    #[error("the context's template {given:?} is not the record's {record:?}")]
    TemplateMismatch {
        given: TemplateRef,
        record: TemplateRef,
    },
    #[error("no hazard {0} in this record")]
    UnknownHazard(HazardId),
    #[error("hazard {0} is already registered")]
    DuplicateHazard(HazardId),
    #[error(transparent)]
    Hazard(#[from] HazardError),
    #[error("inspector signature for {0}, who is not on this record")]
    SignerNotOnRecord(UserId),
    #[error("only the enterprise may refuse to sign; inspectors sign")]
    InspectorCannotRefuse,
    #[error("a refusal to sign must name a witness")]
    RefusalWithoutWitness,
    #[error("a record is made by inspectors; {0} is a supervisor or admin")]
    InspectorRole(UserId),
    #[error("signed version {0} is already recorded")]
    DuplicateSignedVersion(String),
    #[error("document number {0} is already used in this record")]
    DuplicateDocument(String),
    #[error("not allowed while the record is {0:?}")]
    NotInStatus(InspectionStatus),
    #[error("the review's comment on item {0} is empty")]
    EmptyItemComment(ItemCode),
    #[error("checklist section `{0}` does not apply to this record")]
    UnknownSection(String),
    #[error("section `{category}`: the items marked 不涉及 must be exactly its unanswered items")]
    SectionItemsMismatch { category: String },
    #[error("photo {0} is not linked there")]
    NoSuchPhoto(Sha256Hex),
    #[error("the record is signed: its photos can no longer be removed")]
    PhotoRemovalAfterSigning,
    #[error(transparent)]
    Service(#[from] crate::delivery::ServiceError),
    #[error("the {} read before signing is not the one the record yields now; show it again", .0.title_zh())]
    StaleReading(crate::docnumber::DocumentKind),
    /// A hazard registered on an item whose failure is a major accident hazard (the item
    /// has a 判定依据) must be major: there is no downgrade (the standard says such a
    /// situation 判定为重大事故隐患).
    #[error(
        "item {item} is a major accident hazard (重大事故隐患) situation under {basis}: its hazard is registered as major, not general"
    )]
    MajorHazardItem {
        item: ItemCode,
        basis: crate::legal::LegalBasis,
    },
    /// A hazard registered on an item must carry the item's 处罚依据 as the record's
    /// checklist version gives them (what the penalty case reads).
    #[error(
        "the hazard on item {0} must carry the item's penalty provisions (处罚依据) from the record's checklist version"
    )]
    PenaltyNotTheItems(ItemCode),
}

fn join(unmet: &[Unmet]) -> String {
    unmet
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Inspection {
    /// A new draft. The ids, the time and the creator come from the caller.
    pub fn new_draft(
        id: InspectionId,
        kind: InspectionKind,
        unit: UnitId,
        enterprise: EnterpriseSnapshot,
        template: TemplateRef,
        created_by: UserId,
        created_at: Timestamp,
    ) -> Self {
        Self {
            id,
            kind,
            unit,
            enterprise,
            template,
            plan: None,
            created_at,
            created_by,
            inspectors: BTreeMap::new(),
            arrival: None,
            attestations: Attestations::default(),
            places: String::new(),
            summary: String::new(),
            results: BTreeMap::new(),
            hazards: BTreeMap::new(),
            onsite_person: None,
            signatures: BTreeMap::new(),
            status: InspectionStatus::Draft,
            started_at: None,
            completed_at: None,
            review: None,
            signed_versions: BTreeMap::new(),
            documents: BTreeMap::new(),
            services: BTreeMap::new(),
        }
    }

    /// Checks a command and applies it, or leaves the record unchanged and says why not.
    pub fn apply(&mut self, command: &Command, cx: &Context<'_>) -> Result<(), RecordError> {
        let mut next = self.clone();
        next.apply_in_place(command, cx)?;
        *self = next;
        Ok(())
    }

    /// [`Inspection::apply`] without the copy that keeps the record unchanged on error: on
    /// error the record may be half changed and must be dropped (the judge does).
    pub(crate) fn apply_in_place(
        &mut self,
        command: &Command,
        cx: &Context<'_>,
    ) -> Result<(), RecordError> {
        // Compared field by field: `reference()` would allocate for every command judged.
        if cx.template.id != self.template.id || cx.template.version != self.template.version {
            return Err(RecordError::TemplateMismatch {
                given: cx.template.reference(),
                record: self.template.clone(),
            });
        }
        if command.is_content_edit() {
            if !self.status.allows_content_edits() {
                return Err(RecordError::Frozen(self.status));
            }
            if !cx.actor.is_inspector() {
                return Err(RecordError::NotAnInspector);
            }
        }
        self.apply_unchecked(command, cx)?;
        // An item with no answer, note or photo is the same as an untouched one.
        self.results.retain(|_, r| !r.is_empty());
        Ok(())
    }

    fn item_known(&self, item: &ItemCode, cx: &Context<'_>) -> Result<(), RecordError> {
        match cx.template.item(item) {
            Some(_) => Ok(()),
            None => Err(RecordError::UnknownItem {
                item: item.clone(),
                template: self.template.id.clone(),
                version: self.template.version,
            }),
        }
    }

    /// A photo link may be removed only while nothing is signed (no signature, no signed
    /// version): what someone signed keeps its photos.
    fn photos_removable(&self) -> Result<(), RecordError> {
        if self.signatures.is_empty() && self.signed_versions.is_empty() {
            Ok(())
        } else {
            Err(RecordError::PhotoRemovalAfterSigning)
        }
    }

    /// The items an enterprise of the record's industry is checked against that have no
    /// answer yet, in template order (what 完成 lists as missing).
    pub fn unanswered(&self, template: &ChecklistTemplate) -> Vec<ItemCode> {
        template
            .items_for(self.enterprise.industry)
            .filter(|i| self.results.get(&i.code).and_then(|r| r.answer).is_none())
            .map(|i| i.code.clone())
            .collect()
    }

    /// How many of the items the record is checked against are answered, and how many there
    /// are (`已答 12/43`).
    pub fn progress(&self, template: &ChecklistTemplate) -> (usize, usize) {
        let total = template.items_for(self.enterprise.industry).count();
        (total - self.unanswered(template).len(), total)
    }

    /// The unanswered items of section `category`, in template order: what 本节不涉及
    /// marks 不涉及. Refused if the section does not apply to the record's industry.
    pub fn unanswered_in_section(
        &self,
        template: &ChecklistTemplate,
        category: &str,
    ) -> Result<Vec<ItemCode>, RecordError> {
        let section = template
            .categories_for(self.enterprise.industry)
            .find(|c| c.name == category)
            .ok_or_else(|| RecordError::UnknownSection(category.to_owned()))?;
        Ok(section
            .items
            .iter()
            .filter(|i| self.results.get(&i.code).and_then(|r| r.answer).is_none())
            .map(|i| i.code.clone())
            .collect())
    }

    fn hazard_mut(&mut self, id: &HazardId) -> Result<&mut Hazard, RecordError> {
        self.hazards
            .get_mut(id)
            .ok_or_else(|| RecordError::UnknownHazard(id.clone()))
    }

    fn apply_unchecked(&mut self, command: &Command, cx: &Context<'_>) -> Result<(), RecordError> {
        match command {
            Command::AddInspector(i) => {
                self.inspectors.insert(i.user.clone(), i.clone());
            }
            Command::RemoveInspector { user } => {
                self.inspectors.remove(user);
            }
            Command::SetArrival(a) => self.arrival = Some(a.clone()),
            Command::SetAttestations(a) => self.attestations = *a,
            Command::SetPlaces { text } => self.places = text.clone(),
            Command::SetSummary { text } => self.summary = text.clone(),
            Command::Answer { item, answer } => {
                self.item_known(item, cx)?;
                self.results.entry(item.clone()).or_default().answer = *answer;
            }
            Command::SetNote { item, text } => {
                self.item_known(item, cx)?;
                self.results.entry(item.clone()).or_default().note = text.clone();
            }
            Command::AddItemPhoto { item, photo } => {
                self.item_known(item, cx)?;
                self.results
                    .entry(item.clone())
                    .or_default()
                    .photos
                    .insert(photo.sha256.clone(), photo.clone());
            }
            Command::RegisterHazard(h) => {
                if self.hazards.contains_key(&h.id) {
                    return Err(RecordError::DuplicateHazard(h.id.clone()));
                }
                if let Some(code) = &h.item {
                    self.item_known(code, cx)?;
                    if let Some(item) = cx.template.item(code) {
                        if let Some(basis) = &item.major_hazard
                            && h.level != crate::hazard::HazardLevel::Major
                        {
                            return Err(RecordError::MajorHazardItem {
                                item: code.clone(),
                                basis: basis.clone(),
                            });
                        }
                        if h.penalty != item.penalty {
                            return Err(RecordError::PenaltyNotTheItems(code.clone()));
                        }
                    }
                }
                h.validate_new()?;
                self.hazards.insert(h.id.clone(), h.clone());
            }
            Command::AddHazardPhoto { hazard, photo } => {
                self.hazard_mut(hazard)?
                    .photos
                    .insert(photo.sha256.clone(), photo.clone());
            }
            Command::SetHazardText {
                hazard,
                description,
                place,
            } => {
                let h = self.hazard_mut(hazard)?;
                h.description = description.clone();
                h.place = place.clone();
            }
            Command::Hazard { hazard, action } => {
                if self.status == InspectionStatus::Draft {
                    return Err(RecordError::NotInStatus(self.status));
                }
                if !cx.actor.is_inspector() {
                    return Err(RecordError::NotAnInspector);
                }
                self.hazard_mut(hazard)?.apply(action)?;
            }
            Command::MarkSectionNotApplicable { category, items } => {
                let expected = self.unanswered_in_section(cx.template, category)?;
                if items.is_empty() || *items != expected {
                    return Err(RecordError::SectionItemsMismatch {
                        category: category.clone(),
                    });
                }
                for item in items {
                    self.results.entry(item.clone()).or_default().answer =
                        Some(Answer::NotApplicable);
                }
            }
            Command::RemoveItemPhoto { item, sha256 } => {
                self.item_known(item, cx)?;
                self.photos_removable()?;
                let removed = self
                    .results
                    .get_mut(item)
                    .and_then(|r| r.photos.remove(sha256));
                if removed.is_none() {
                    return Err(RecordError::NoSuchPhoto(sha256.clone()));
                }
            }
            Command::RemoveHazardPhoto { hazard, sha256 } => {
                self.photos_removable()?;
                if self.hazard_mut(hazard)?.photos.remove(sha256).is_none() {
                    return Err(RecordError::NoSuchPhoto(sha256.clone()));
                }
            }
            Command::SetOnsitePerson(p) => self.onsite_person = Some(p.clone()),
            Command::Sign(s) => {
                match (&s.signer, &s.outcome) {
                    (Signer::Inspector(u), _) if !self.inspectors.contains_key(u) => {
                        return Err(RecordError::SignerNotOnRecord(u.clone()));
                    }
                    (Signer::Inspector(_), SignOutcome::Refused { .. }) => {
                        return Err(RecordError::InspectorCannotRefuse);
                    }
                    (Signer::Enterprise, SignOutcome::Refused { witness, .. })
                        if witness.trim().is_empty() =>
                    {
                        return Err(RecordError::RefusalWithoutWitness);
                    }
                    _ => {}
                }
                // What the signer says they read must be what the record yields now.
                let yields = crate::signing::documents_for(self);
                for read in &s.read {
                    let now = yields
                        .contains(&read.kind)
                        .then(|| crate::paper::reading_hash(read.kind, self, cx.template).ok())
                        .flatten();
                    if now.as_ref() != Some(&read.hash) {
                        return Err(RecordError::StaleReading(read.kind));
                    }
                }
                self.signatures.insert(s.signer.key(), s.clone());
            }
            Command::Transition { to, comment } => self.transition(*to, comment, cx)?,
            Command::RecordSignedVersion { id, version } => {
                if !matches!(
                    self.status,
                    InspectionStatus::OnSite
                        | InspectionStatus::Completed
                        | InspectionStatus::Returned
                ) {
                    return Err(RecordError::NotInStatus(self.status));
                }
                if self.signed_versions.contains_key(id) {
                    return Err(RecordError::DuplicateSignedVersion(id.clone()));
                }
                self.signed_versions.insert(id.clone(), version.clone());
            }
            Command::IssueDocument(d) => {
                if !cx.actor.is_inspector() {
                    return Err(RecordError::NotAnInspector);
                }
                if self.documents.contains_key(&d.number) {
                    return Err(RecordError::DuplicateDocument(d.number.clone()));
                }
                self.documents.insert(d.number.clone(), d.clone());
            }
            Command::ReviewWithItems { to, comment, items } => {
                if !matches!(to, InspectionStatus::Approved | InspectionStatus::Returned) {
                    return Err(RecordError::NoSuchMove {
                        from: self.status,
                        to: *to,
                    });
                }
                for (item, text) in items {
                    self.item_known(item, cx)?;
                    if text.trim().is_empty() {
                        return Err(RecordError::EmptyItemComment(item.clone()));
                    }
                }
                self.transition(*to, comment, cx)?;
                if let Some(r) = self.review.as_mut() {
                    r.items = items
                        .iter()
                        .map(|(k, v)| (k.clone(), v.trim().to_owned()))
                        .collect();
                }
            }
            Command::RecordService(service) => {
                if self.status == InspectionStatus::Draft {
                    return Err(RecordError::NotInStatus(self.status));
                }
                if !cx.actor.is_inspector() {
                    return Err(RecordError::NotAnInspector);
                }
                crate::delivery::check(self, service, &cx.actor.id, cx.now)?;
                self.services
                    .insert(service.number.clone(), service.clone());
            }
        }
        Ok(())
    }

    /// The requirements for moving to `to` that are not met now (empty: the move may happen).
    pub fn unmet_for(
        &self,
        to: InspectionStatus,
        actor: &User,
        template: &ChecklistTemplate,
        comment: &str,
    ) -> Vec<Unmet> {
        let mut unmet = Vec::new();
        let on_record = |unmet: &mut Vec<Unmet>| {
            if !self.inspectors.contains_key(&actor.id) {
                unmet.push(Unmet::ActorNotOnRecord(actor.id.clone()));
            }
        };
        match to {
            InspectionStatus::OnSite => {
                on_record(&mut unmet);
                unmet.extend(self.inspector_requirements());
                if self.kind == InspectionKind::Unannounced {
                    if self.arrival.is_none() {
                        unmet.push(Unmet::NoArrivalProof);
                    }
                    if !self.attestations.no_notice_given {
                        unmet.push(Unmet::NoNoticeNotAttested);
                    }
                    if !self.attestations.no_escort_accepted {
                        unmet.push(Unmet::NoEscortNotAttested);
                    }
                }
            }
            InspectionStatus::Completed => {
                on_record(&mut unmet);
                unmet.extend(self.inspector_requirements());
                let unanswered = self.unanswered(template);
                if !unanswered.is_empty() {
                    unmet.push(Unmet::UnansweredItems(unanswered));
                }
                if self.onsite_person.is_none() {
                    unmet.push(Unmet::NoOnsitePerson);
                }
                unmet.extend(self.signature_requirements());
            }
            InspectionStatus::Submitted => {
                on_record(&mut unmet);
                let returned_at = self.review.as_ref().map(|r| r.at);
                let signed_after_return = self
                    .signed_versions
                    .values()
                    .any(|v| returned_at.is_none_or(|t| v.at >= t));
                if !signed_after_return {
                    unmet.push(Unmet::NoSignedVersion);
                }
            }
            InspectionStatus::Returned if comment.trim().is_empty() => {
                unmet.push(Unmet::NoReturnComment);
            }
            _ => {}
        }
        unmet
    }

    fn inspector_requirements(&self) -> Vec<Unmet> {
        if self.inspectors.len() < 2 {
            vec![Unmet::FewerThanTwoInspectors(self.inspectors.len())]
        } else {
            Vec::new()
        }
    }

    fn signature_requirements(&self) -> Vec<Unmet> {
        let mut unmet = Vec::new();
        for i in self.inspectors.values() {
            if !self
                .signatures
                .contains_key(&Signer::Inspector(i.user.clone()).key())
            {
                unmet.push(Unmet::MissingSignature(format!("inspector {}", i.name)));
            }
        }
        match self.signatures.get(&Signer::Enterprise.key()) {
            None => unmet.push(Unmet::MissingSignature(
                "the enterprise's person in charge (or a recorded refusal)".into(),
            )),
            Some(Signature {
                outcome: SignOutcome::Refused { witness, .. },
                ..
            }) if witness.trim().is_empty() => unmet.push(Unmet::RefusalWithoutWitness),
            Some(_) => {}
        }
        unmet
    }

    fn transition(
        &mut self,
        to: InspectionStatus,
        comment: &str,
        cx: &Context<'_>,
    ) -> Result<(), RecordError> {
        let from = self.status;
        let needed = allowed_move(from, to).ok_or(RecordError::NoSuchMove { from, to })?;
        let role_ok = match needed {
            Mover::Inspector => cx.actor.is_inspector(),
            Mover::Supervisor => matches!(cx.actor.role, Role::Supervisor),
        };
        if !role_ok {
            return Err(RecordError::WrongRole { from, to, needed });
        }
        let unmet = self.unmet_for(to, cx.actor, cx.template, comment);
        if !unmet.is_empty() {
            return Err(RecordError::Unmet { from, to, unmet });
        }
        match to {
            InspectionStatus::OnSite => self.started_at = Some(cx.now),
            InspectionStatus::Completed => self.completed_at = Some(cx.now),
            InspectionStatus::Approved | InspectionStatus::Returned => {
                self.review = Some(Review {
                    by: cx.actor.id.clone(),
                    at: cx.now,
                    decision: if to == InspectionStatus::Approved {
                        ReviewDecision::Approved
                    } else {
                        ReviewDecision::Returned
                    },
                    comment: comment.to_owned(),
                    items: BTreeMap::new(),
                });
            }
            _ => {}
        }
        self.status = to;
        Ok(())
    }

    /// The latest signed version's id (by time, then id): the one a case file, the
    /// enterprise's copy and the console's documents are made from.
    pub fn latest_signed_version(&self) -> Option<String> {
        self.signed_versions
            .iter()
            .max_by(|a, b| a.1.at.cmp(&b.1.at).then(a.0.cmp(b.0)))
            .map(|(id, _)| id.clone())
    }

    /// Every photo digest the record refers to: items, hazards, re-inspections, the arrival's
    /// entrance photo and signature images (what must travel with it as blobs).
    pub fn photo_digests(&self) -> std::collections::BTreeSet<Sha256Hex> {
        let mut out = std::collections::BTreeSet::new();
        for r in self.results.values() {
            out.extend(r.photos.keys().cloned());
        }
        for h in self.hazards.values() {
            out.extend(h.photos.keys().cloned());
            for r in h.reinspections.values() {
                out.extend(r.photos.keys().cloned());
            }
        }
        if let Some(a) = &self.arrival {
            out.insert(a.entrance_photo.clone());
        }
        for s in self.signatures.values() {
            if let SignOutcome::Signed { image } = &s.outcome {
                out.insert(image.clone());
            }
        }
        out
    }

    /// At least two inspectors, each with a certificate (the type guarantees a valid number).
    pub fn validate_inspectors(&self) -> Result<(), Unmet> {
        match self.inspector_requirements().pop() {
            Some(u) => Err(u),
            None => Ok(()),
        }
    }

    /// Invariants that must hold in any reachable state. Each replica only makes valid moves,
    /// but concurrent moves merged together may combine into a state no single replica made;
    /// this lists what is wrong with such a state so it is surfaced, never silently accepted.
    pub fn violations(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.status != InspectionStatus::Draft && self.inspectors.len() < 2 {
            out.push(format!(
                "status {:?} with {} inspector(s); at least two are required",
                self.status,
                self.inspectors.len()
            ));
        }
        if self.status.visit_done() {
            for u in self.signature_requirements() {
                out.push(format!("status {:?} but {u}", self.status));
            }
        }
        match (&self.status, &self.review) {
            (InspectionStatus::Approved, Some(r)) if r.decision != ReviewDecision::Approved => {
                out.push("status approved but the latest review returned the record".into())
            }
            (InspectionStatus::Returned, Some(r)) if r.decision != ReviewDecision::Returned => {
                out.push("status returned but the latest review approved the record".into())
            }
            (InspectionStatus::Approved | InspectionStatus::Returned, None) => {
                out.push(format!("status {:?} without a review", self.status))
            }
            _ => {}
        }
        for h in self.hazards.values() {
            out.extend(h.violations());
        }
        out
    }
}

#[cfg(test)]
#[path = "inspection_tests.rs"]
mod tests;
