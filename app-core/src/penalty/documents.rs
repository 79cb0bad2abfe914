//! The documents of a penalty case as typed content: what a PDF of each will show, built
//! from the case. Each document is numbered (文号 of the shape
//! `（单位简称）应急<类别>〔年份〕<序号>号`, the shape [`crate::docnumber::DocNumber`] formats)
//! and frozen when it is signed: the command that signs it stores its content and the
//! SHA-256 of that content's canonical JSON in the case ([`FrozenDocument`]). What was
//! signed is what is printed later, whatever changed since; [`FrozenDocument::verify`]
//! re-hashes it and [`FrozenDocument::differs_from_case`] shows a later change as such.

use super::Penalty;
use super::calendar::WorkCalendar;
use super::case::{CaseServiceMethod, CaseSource, PenaltyCase, ReviewOpinion};
use super::deadlines::PenaltySettings;
use super::evidence::{MeasureKind, MediaKind, PageSigner};
use crate::evidence::Sha256Hex;
use crate::geo::{Day, Timestamp};
use crate::ids::{DeviceId, UserId};
use crate::inspection::SignOutcome;
use crate::legal::LegalBasis;
use serde::{Deserialize, Serialize};

/// The documents of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseDocKind {
    /// 立案审批表
    FilingApproval,
    /// 询问笔录
    Interview,
    /// 现场处理措施决定书
    OnSiteMeasures,
    /// 先行登记保存证据通知书
    EvidencePreservation,
    /// 行政处罚告知书
    Notice,
    /// 陈述申辩笔录
    Statement,
    /// 听证笔录
    Hearing,
    /// 法制审核意见
    LegalReview,
    /// 行政处罚决定书
    Decision,
    /// 送达回证
    ServiceReceipt,
    /// 结案审批表
    ClosingApproval,
}

impl CaseDocKind {
    /// The order a case file lists them in (卷内目录 order by kind).
    pub const ALL: [CaseDocKind; 11] = [
        CaseDocKind::FilingApproval,
        CaseDocKind::Interview,
        CaseDocKind::OnSiteMeasures,
        CaseDocKind::EvidencePreservation,
        CaseDocKind::Notice,
        CaseDocKind::Statement,
        CaseDocKind::Hearing,
        CaseDocKind::LegalReview,
        CaseDocKind::Decision,
        CaseDocKind::ServiceReceipt,
        CaseDocKind::ClosingApproval,
    ];

    /// The kind code in the number. 现决 is the code domain.md records for the
    /// 现场处理措施决定书; the others are this system's choice (依据待核: the unit's own
    /// numbering rules decide).
    pub fn code(self) -> &'static str {
        match self {
            CaseDocKind::FilingApproval => "立审",
            CaseDocKind::Interview => "询问",
            CaseDocKind::OnSiteMeasures => "现决",
            CaseDocKind::EvidencePreservation => "先保",
            CaseDocKind::Notice => "罚告",
            CaseDocKind::Statement => "陈申",
            CaseDocKind::Hearing => "听证",
            CaseDocKind::LegalReview => "法审",
            CaseDocKind::Decision => "罚决",
            CaseDocKind::ServiceReceipt => "送回",
            CaseDocKind::ClosingApproval => "结审",
        }
    }

    pub fn title_zh(self) -> &'static str {
        match self {
            CaseDocKind::FilingApproval => "立案审批表",
            CaseDocKind::Interview => "询问笔录",
            CaseDocKind::OnSiteMeasures => "现场处理措施决定书",
            CaseDocKind::EvidencePreservation => "先行登记保存证据通知书",
            CaseDocKind::Notice => "行政处罚告知书",
            CaseDocKind::Statement => "陈述申辩笔录",
            CaseDocKind::Hearing => "听证笔录",
            CaseDocKind::LegalReview => "法制审核意见书",
            CaseDocKind::Decision => "行政处罚决定书",
            CaseDocKind::ServiceReceipt => "送达回证",
            CaseDocKind::ClosingApproval => "结案审批表",
        }
    }

    pub fn title_en(self) -> &'static str {
        match self {
            CaseDocKind::FilingApproval => "Case filing approval",
            CaseDocKind::Interview => "Interview record",
            CaseDocKind::OnSiteMeasures => "On-site measures decision",
            CaseDocKind::EvidencePreservation => "Evidence preservation notice",
            CaseDocKind::Notice => "Notice of intended penalty",
            CaseDocKind::Statement => "Statement and defence record",
            CaseDocKind::Hearing => "Hearing record",
            CaseDocKind::LegalReview => "Legal review opinion",
            CaseDocKind::Decision => "Penalty decision",
            CaseDocKind::ServiceReceipt => "Delivery receipt",
            CaseDocKind::ClosingApproval => "Case closing approval",
        }
    }

    /// Whether the document is served on the party (and gets a 送达回证).
    pub fn is_served(self) -> bool {
        matches!(
            self,
            CaseDocKind::OnSiteMeasures
                | CaseDocKind::EvidencePreservation
                | CaseDocKind::Notice
                | CaseDocKind::Decision
        )
    }
}

/// A number issued for a case document from the device's offline-safe blocks (the same
/// per-device block discipline as [`crate::docnumber::DevicePool`]): the formatted text, its
/// year and sequence, and the device that issued it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedNumber {
    /// `（玄武）应急罚决〔2026〕3号`.
    pub text: String,
    pub year: i32,
    pub seq: u32,
    pub device: DeviceId,
}

impl IssuedNumber {
    /// The number `seq` of `kind` in `year` for the unit with `unit_short_name`, formatted as
    /// [`crate::docnumber::DocNumber::format`] formats the inspection documents'.
    pub fn new(
        unit_short_name: &str,
        kind: CaseDocKind,
        year: i32,
        seq: u32,
        device: DeviceId,
    ) -> Self {
        Self {
            text: format!("（{unit_short_name}）应急{}〔{year}〕{seq}号", kind.code()),
            year,
            seq,
            device,
        }
    }

    /// Whether the number is one of `kind` in `year`: `（…）应急<code>〔year〕seq号`, seq ≥ 1.
    pub fn is_of(&self, kind: CaseDocKind, year: i32) -> bool {
        let tail = format!("应急{}〔{}〕{}号", kind.code(), self.year, self.seq);
        self.year == year
            && self.seq >= 1
            && self.text.starts_with('（')
            && self.text.ends_with(&tail)
            && self.text.len() > tail.len() + '（'.len_utf8()
            && self.text[..self.text.len() - tail.len()].ends_with('）')
    }
}

/// A person named on a document with the certificate they hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficerLine {
    pub name: String,
    pub certificate: String,
}

/// The party (当事人) as the documents name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyLine {
    pub name: String,
    pub uscc: String,
    pub address: String,
    pub legal_representative: String,
    pub phone: String,
}

/// 立案审批表.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingApprovalContent {
    pub party: PartyLine,
    /// 案件来源, as the form words it.
    pub source: String,
    pub facts: String,
    pub violated: Vec<LegalBasis>,
    pub penalty_basis: Vec<LegalBasis>,
    pub officers: Vec<OfficerLine>,
    pub opened_on: Day,
    pub approver: String,
    pub comment: String,
    pub approved_on: Day,
}

/// A signature line of an interview page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageSignatureLine {
    pub who: String,
    /// The signature image, or none for a refusal.
    pub image: Option<Sha256Hex>,
    /// `拒绝签字（见证人：…）…` for a refusal.
    pub refusal: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterviewPageContent {
    pub lines: Vec<(String, String)>,
    pub signatures: Vec<PageSignatureLine>,
}

/// 询问笔录.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterviewContent {
    pub party: String,
    pub interviewee: String,
    pub position: String,
    pub place: String,
    pub from: Timestamp,
    pub to: Timestamp,
    pub asked_by: OfficerLine,
    pub recorded_by: OfficerLine,
    pub pages: Vec<InterviewPageContent>,
}

/// 现场处理措施决定书 / 先行登记保存证据通知书.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureContent {
    pub party: PartyLine,
    pub kind: MeasureKind,
    pub items: Vec<String>,
    pub basis: Vec<LegalBasis>,
    pub on: Day,
    pub officers: Vec<OfficerLine>,
}

/// The rights a notice states, with their last days (unknown until it is served: the form
/// then states the period in days).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsLine {
    pub statement_days: u32,
    pub hearing: bool,
    pub hearing_days: u32,
}

/// 行政处罚告知书.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeContent {
    pub party: PartyLine,
    pub facts: String,
    pub evidence: Vec<String>,
    pub violated: Vec<LegalBasis>,
    pub basis: LegalBasis,
    pub circumstance: String,
    pub penalty: Penalty,
    pub rights: RightsLine,
    pub on: Day,
}

/// 陈述申辩笔录.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementContent {
    pub party: String,
    pub notice: String,
    pub speaker: String,
    pub text: String,
    pub review: String,
    pub at: Timestamp,
    pub recorded_by: OfficerLine,
}

/// 听证笔录.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HearingContent {
    pub party: String,
    pub notice: String,
    pub requested_by: String,
    pub host: String,
    pub place: String,
    pub at: Timestamp,
    pub investigators: Vec<OfficerLine>,
    pub summary: String,
}

/// 法制审核意见书.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalReviewContent {
    pub party: String,
    pub notice: String,
    pub penalty: Penalty,
    pub reviewer: String,
    pub opinion: ReviewOpinion,
    pub text: String,
    pub on: Day,
}

/// 行政处罚决定书: the party, the facts and evidence, the provisions, the penalty and the
/// circumstance applied, how and by when to perform it, the remedies, the unit's date
/// (contents after 《行政处罚法》第五十九条 as domain.md records it, 依据待核).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionContent {
    pub party: PartyLine,
    pub facts: String,
    pub evidence: Vec<String>,
    pub violated: Vec<LegalBasis>,
    pub basis: LegalBasis,
    pub circumstance: String,
    pub penalty: Penalty,
    /// The statement and hearing, as the decision recites them.
    pub defence: Vec<String>,
    /// Days to pay after service (the 15 days domain.md gives after 第六十七条, 依据待核).
    pub payment_days: u32,
    /// 申请行政复议 within 60 days, 提起行政诉讼 within 6 months (domain.md).
    pub remedies: String,
    pub on: Day,
}

/// 送达回证.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceReceiptContent {
    pub party: String,
    pub document: String,
    pub title: String,
    pub method: CaseServiceMethod,
    pub at: Timestamp,
    pub served_by: Vec<OfficerLine>,
}

/// 结案审批表.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosingApprovalContent {
    pub party: String,
    pub decision: String,
    pub penalty: Penalty,
    pub paid_yuan: u64,
    pub executions: Vec<String>,
    pub published: Option<Day>,
    pub approver: String,
    pub comment: String,
    pub on: Day,
}

/// A case document's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum CaseDocument {
    FilingApproval(FilingApprovalContent),
    Interview(InterviewContent),
    Measure(MeasureContent),
    Notice(NoticeContent),
    Statement(StatementContent),
    Hearing(HearingContent),
    LegalReview(LegalReviewContent),
    Decision(DecisionContent),
    ServiceReceipt(ServiceReceiptContent),
    ClosingApproval(ClosingApprovalContent),
    /// What a document's source no longer yields (cannot happen through the rules).
    Missing {
        reason: String,
    },
}

/// A signed case document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrozenDocument {
    pub kind: CaseDocKind,
    pub number: String,
    /// Which interview, measure or served document it is about (empty when the case has
    /// one of its kind at a time).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    pub content: CaseDocument,
    pub content_hash: Sha256Hex,
    pub at: Timestamp,
    pub by: UserId,
}

/// SHA-256 of a content's canonical JSON (structs in field order, maps sorted).
pub fn content_hash(content: &CaseDocument) -> Sha256Hex {
    Sha256Hex::of(&serde_json::to_vec(content).expect("documents serialise"))
}

impl FrozenDocument {
    pub(crate) fn new(
        kind: CaseDocKind,
        number: String,
        key: String,
        content: CaseDocument,
        at: Timestamp,
        by: UserId,
    ) -> Self {
        Self {
            kind,
            number,
            key,
            content_hash: content_hash(&content),
            content,
            at,
            by,
        }
    }

    /// Whether the stored content still hashes to what was signed.
    pub fn verify(&self) -> bool {
        content_hash(&self.content) == self.content_hash
    }

    /// Whether the case now yields other content for this document (an amendment since
    /// signing, shown as such; the signed content stays what is printed).
    pub fn differs_from_case(
        &self,
        case: &PenaltyCase,
        settings: &PenaltySettings,
        calendar: &WorkCalendar,
    ) -> bool {
        content(self.kind, case, &self.key, settings, calendar, self.at) != self.content
    }
}

impl PenaltyCase {
    /// The case's signed documents in the order a case-file review reads them (after the
    /// 卷内目录, which lists them): by procedure step ([`CaseDocKind::ALL`]), each 送达回证
    /// right after the document it served, documents of one kind by signing time.
    pub fn documents_in_file_order(&self) -> Vec<&FrozenDocument> {
        let rank = |k: CaseDocKind| {
            CaseDocKind::ALL
                .iter()
                .position(|x| *x == k)
                .unwrap_or(usize::MAX)
        };
        let mut docs: Vec<&FrozenDocument> = self.documents.values().collect();
        docs.sort_by_key(|d| {
            let served = (d.kind == CaseDocKind::ServiceReceipt)
                .then(|| self.documents.get(&d.key))
                .flatten();
            match served {
                Some(s) => (rank(s.kind), s.at, 1, d.at),
                None => (rank(d.kind), d.at, 0, d.at),
            }
        });
        docs
    }
}

fn party(case: &PenaltyCase) -> PartyLine {
    let e = &case.enterprise;
    PartyLine {
        name: e.name.clone(),
        uscc: e.uscc.as_str().to_owned(),
        address: e.address.clone(),
        legal_representative: e.legal_representative.clone(),
        phone: e.phone.clone(),
    }
}

fn officer(case: &PenaltyCase, user: &UserId) -> OfficerLine {
    case.inspectors
        .get(user)
        .map(|i| OfficerLine {
            name: i.name.clone(),
            certificate: i.certificate.as_str().to_owned(),
        })
        .unwrap_or_else(|| OfficerLine {
            name: user.to_string(),
            certificate: String::new(),
        })
}

fn officers(case: &PenaltyCase) -> Vec<OfficerLine> {
    case.inspectors.keys().map(|u| officer(case, u)).collect()
}

fn source_zh(source: &CaseSource) -> String {
    match source {
        CaseSource::Inspection {
            inspection, item, ..
        } => match item {
            Some(item) => format!("监督检查发现（检查记录 {inspection}，检查项 {item}）"),
            None => format!("监督检查发现（检查记录 {inspection}）"),
        },
        CaseSource::Complaint {
            reference,
            received_on,
        } => format!("投诉举报（{reference}，{received_on} 收到）"),
        CaseSource::Referral {
            from,
            reference,
            received_on,
        } => format!("{from}移送（{reference}，{received_on} 收到）"),
    }
}

/// The evidence list the notice and the decision recite.
fn evidence_list(case: &PenaltyCase) -> Vec<String> {
    let mut out: Vec<String> = case
        .interviews
        .values()
        .map(|i| format!("询问笔录（{}，被询问人：{}）", i.number, i.interviewee.name))
        .collect();
    for kind in [MediaKind::Photo, MediaKind::Audio, MediaKind::Video] {
        let n = case.media.values().filter(|m| m.kind == kind).count();
        if n > 0 {
            let label = match kind {
                MediaKind::Photo => "照片",
                MediaKind::Audio => "录音",
                MediaKind::Video => "视频",
            };
            out.push(format!("{label}{n}份"));
        }
    }
    out.extend(
        case.measures
            .values()
            .map(|m| format!("{}（{}）", m.kind.title_zh(), m.number)),
    );
    out
}

fn signature_line(
    case: &PenaltyCase,
    interviewee: &str,
    signer: &PageSigner,
    outcome: &SignOutcome,
) -> PageSignatureLine {
    let who = match signer {
        PageSigner::Interviewee => format!("被询问人 {interviewee}"),
        PageSigner::Inspector(u) => format!("执法人员 {}", officer(case, u).name),
    };
    match outcome {
        SignOutcome::Signed { image } => PageSignatureLine {
            who,
            image: Some(image.clone()),
            refusal: None,
        },
        SignOutcome::Refused { witness, note } => PageSignatureLine {
            who,
            image: None,
            refusal: Some(format!("拒绝签字（见证人：{witness}）{note}")),
        },
    }
}

fn missing(reason: &str) -> CaseDocument {
    CaseDocument::Missing {
        reason: reason.to_owned(),
    }
}

/// The content of the document of `kind` (with `key`, see [`FrozenDocument::key`]) the case
/// yields now, dated `at` (the signing).
pub fn content(
    kind: CaseDocKind,
    case: &PenaltyCase,
    key: &str,
    settings: &PenaltySettings,
    _calendar: &WorkCalendar,
    at: Timestamp,
) -> CaseDocument {
    let on = at.shanghai_date();
    match kind {
        CaseDocKind::FilingApproval => {
            let Some(a) = &case.filing else {
                return missing("no filing approval");
            };
            CaseDocument::FilingApproval(FilingApprovalContent {
                party: party(case),
                source: source_zh(&case.source),
                facts: case.facts.clone(),
                violated: case.violated.clone(),
                penalty_basis: case.penalty_basis.clone(),
                officers: officers(case),
                opened_on: case.opened_at.shanghai_date(),
                approver: a.name.clone(),
                comment: a.comment.clone(),
                approved_on: a.at.shanghai_date(),
            })
        }
        CaseDocKind::Interview => {
            let Some(i) = case.interviews.get(key) else {
                return missing("no such interview");
            };
            let pages = i
                .pages
                .iter()
                .map(|p| InterviewPageContent {
                    lines: p
                        .lines
                        .iter()
                        .map(|l| (l.question.clone(), l.answer.clone()))
                        .collect(),
                    signatures: i
                        .signers()
                        .iter()
                        .filter_map(|s| p.signatures.get(&s.key()))
                        .map(|s| signature_line(case, &i.interviewee.name, &s.signer, &s.outcome))
                        .collect(),
                })
                .collect();
            CaseDocument::Interview(InterviewContent {
                party: case.enterprise.name.clone(),
                interviewee: i.interviewee.name.clone(),
                position: i.interviewee.position.clone(),
                place: i.place.clone(),
                from: i.started_at,
                to: i.ended_at,
                asked_by: officer(case, &i.asked_by),
                recorded_by: officer(case, &i.recorded_by),
                pages,
            })
        }
        CaseDocKind::OnSiteMeasures | CaseDocKind::EvidencePreservation => {
            let Some(m) = case.measures.get(key) else {
                return missing("no such measure");
            };
            CaseDocument::Measure(MeasureContent {
                party: party(case),
                kind: m.kind,
                items: m.items.clone(),
                basis: m.basis.clone(),
                on: m.at.shanghai_date(),
                officers: officers(case),
            })
        }
        CaseDocKind::Notice => {
            let Some(n) = case.notice() else {
                return missing("no notice");
            };
            CaseDocument::Notice(NoticeContent {
                party: party(case),
                facts: case.facts.clone(),
                evidence: evidence_list(case),
                violated: case.violated.clone(),
                basis: n.proposal.basis.clone(),
                circumstance: n.proposal.circumstance.clone(),
                penalty: n.proposal.penalty.clone(),
                rights: RightsLine {
                    statement_days: settings.statement_period.days,
                    hearing: n.hearing_right,
                    hearing_days: settings.hearing_request_period.days,
                },
                on: n.at.shanghai_date(),
            })
        }
        CaseDocKind::Statement => {
            let found = case
                .notices
                .iter()
                .flat_map(|n| n.statements.iter().map(move |s| (n, s)))
                .find(|(_, s)| s.number == key);
            let Some((n, s)) = found else {
                return missing("no such statement");
            };
            CaseDocument::Statement(StatementContent {
                party: case.enterprise.name.clone(),
                notice: n.number.clone(),
                speaker: s.speaker.clone(),
                text: s.text.clone(),
                review: s.review.clone(),
                at: s.at,
                recorded_by: officer(case, &s.recorded_by),
            })
        }
        CaseDocKind::Hearing => {
            let Some((n, h, held)) = case.notices.iter().rev().find_map(|n| {
                let h = n.hearing.as_ref()?;
                Some((n, h, h.held.as_ref()?))
            }) else {
                return missing("no hearing held");
            };
            CaseDocument::Hearing(HearingContent {
                party: case.enterprise.name.clone(),
                notice: n.number.clone(),
                requested_by: h.requested_by.clone(),
                host: held.host_name.clone(),
                place: held.place.clone(),
                at: held.at,
                investigators: officers(case),
                summary: held.summary.clone(),
            })
        }
        CaseDocKind::LegalReview => {
            let Some((n, r)) = case
                .notices
                .iter()
                .rev()
                .find_map(|n| Some((n, n.legal_review.as_ref()?)))
            else {
                return missing("no legal review");
            };
            CaseDocument::LegalReview(LegalReviewContent {
                party: case.enterprise.name.clone(),
                notice: n.number.clone(),
                penalty: n.proposal.penalty.clone(),
                reviewer: r.name.clone(),
                opinion: r.opinion,
                text: r.text.clone(),
                on: r.at.shanghai_date(),
            })
        }
        CaseDocKind::Decision => {
            let Some(d) = &case.decision else {
                return missing("no decision");
            };
            let mut defence = Vec::new();
            if let Some(n) = case.notice() {
                for s in &n.statements {
                    defence.push(format!(
                        "当事人陈述申辩：{}；复核意见：{}",
                        s.text, s.review
                    ));
                }
                if let Some(held) = n.hearing.as_ref().and_then(|h| h.held.as_ref()) {
                    defence.push(format!("听证情况：{}", held.summary));
                }
                if defence.is_empty() {
                    defence.push(if n.waiver.is_some() {
                        "当事人放弃陈述申辩权利".to_owned()
                    } else {
                        "当事人在规定期限内未提出陈述申辩".to_owned()
                    });
                }
            }
            CaseDocument::Decision(DecisionContent {
                party: party(case),
                facts: case.facts.clone(),
                evidence: evidence_list(case),
                violated: case.violated.clone(),
                basis: d.basis.clone(),
                circumstance: d.circumstance.clone(),
                penalty: d.penalty.clone(),
                defence,
                payment_days: settings.payment_period.days,
                remedies: "如不服本决定，可以在收到本决定书之日起六十日内申请行政复议，或者在六个月内依法向人民法院提起行政诉讼".to_owned(),
                on: d.at.shanghai_date(),
            })
        }
        CaseDocKind::ServiceReceipt => {
            let Some(s) = case.services.iter().find(|s| s.document == key) else {
                return missing("no such service");
            };
            CaseDocument::ServiceReceipt(ServiceReceiptContent {
                party: case.enterprise.name.clone(),
                document: s.document.clone(),
                title: s.kind.title_zh().to_owned(),
                method: s.method.clone(),
                at: s.at,
                served_by: vec![officer(case, &s.by)],
            })
        }
        CaseDocKind::ClosingApproval => {
            let (Some(d), Some(c)) = (&case.decision, &case.closing) else {
                return missing("no closing approval");
            };
            CaseDocument::ClosingApproval(ClosingApprovalContent {
                party: case.enterprise.name.clone(),
                decision: d.number.clone(),
                penalty: d.penalty.clone(),
                paid_yuan: case.paid(),
                executions: case.executions.iter().map(|e| e.note.clone()).collect(),
                published: case.publication.as_ref().map(|p| p.on),
                approver: c.name.clone(),
                comment: c.comment.clone(),
                on,
            })
        }
    }
}
