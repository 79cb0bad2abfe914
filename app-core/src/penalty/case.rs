//! The case, its commands and the one function that applies them.

use super::calendar::WorkCalendar;
use super::deadlines::PenaltySettings;
use super::discretion::{DiscretionRef, DiscretionTable, Grade, ProposeError, propose};
use super::documents::{CaseDocKind, FrozenDocument, IssuedNumber};
use super::evidence::{
    Interview, MeasureKind, MediaEvidence, MediaKind, MediaSource, OnSiteMeasure, PageSignature,
    PageSigner, PreservationOutcome,
};
use super::{CaseId, Penalty};
use crate::evidence::Sha256Hex;
use crate::forms::Finding;
use crate::geo::{Day, Timestamp};
use crate::ids::{HazardId, InspectionId, ItemCode, UnitId, UserId};
use crate::inspection::{EnterpriseSnapshot, Inspection, InspectorRef, SignOutcome};
use crate::legal::LegalBasis;
use crate::user::{Role, User};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStage {
    /// 立案 (awaiting the approval of the 立案审批表)
    Opened,
    /// 调查取证
    Investigating,
    /// 告知 (行政处罚告知书 issued)
    Notified,
    /// 陈述申辩/听证
    Defence,
    /// 法制审核
    LegalReview,
    /// 决定 (行政处罚决定书 issued)
    Decided,
    /// 送达 (the decision served)
    Served,
    /// 执行
    Executing,
    /// 结案
    Closed,
}

impl CaseStage {
    pub const ALL: [CaseStage; 9] = [
        CaseStage::Opened,
        CaseStage::Investigating,
        CaseStage::Notified,
        CaseStage::Defence,
        CaseStage::LegalReview,
        CaseStage::Decided,
        CaseStage::Served,
        CaseStage::Executing,
        CaseStage::Closed,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            CaseStage::Opened => "立案",
            CaseStage::Investigating => "调查取证",
            CaseStage::Notified => "告知",
            CaseStage::Defence => "陈述申辩/听证",
            CaseStage::LegalReview => "法制审核",
            CaseStage::Decided => "决定",
            CaseStage::Served => "送达",
            CaseStage::Executing => "执行",
            CaseStage::Closed => "结案",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            CaseStage::Opened => "Opened",
            CaseStage::Investigating => "Investigation",
            CaseStage::Notified => "Notified",
            CaseStage::Defence => "Statement / hearing",
            CaseStage::LegalReview => "Legal review",
            CaseStage::Decided => "Decided",
            CaseStage::Served => "Decision served",
            CaseStage::Executing => "Execution",
            CaseStage::Closed => "Closed",
        }
    }

    /// Whether a decision has been made.
    pub fn is_decided(self) -> bool {
        matches!(
            self,
            CaseStage::Decided | CaseStage::Served | CaseStage::Executing | CaseStage::Closed
        )
    }
}

/// Where the case came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum CaseSource {
    /// A failed checklist item (and the hazard registered on it) of an inspection record.
    Inspection {
        inspection: InspectionId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<ItemCode>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hazard: Option<HazardId>,
    },
    /// 举报 / 投诉.
    Complaint { reference: String, received_on: Day },
    /// 移送: another body referred the case.
    Referral {
        from: String,
        reference: String,
        received_on: Day,
    },
}

/// What opening a case takes: the 立案审批表's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenCase {
    pub id: CaseId,
    pub unit: UnitId,
    pub enterprise: EnterpriseSnapshot,
    pub source: CaseSource,
    /// 案件事实 / 案由, as found so far.
    pub facts: String,
    /// 违法依据: the provisions violated.
    pub violated: Vec<LegalBasis>,
    /// 处罚依据: the provisions that punish the violation.
    pub penalty_basis: Vec<LegalBasis>,
    /// The responsible inspectors (承办人), at least two, with their certificates.
    pub inspectors: Vec<InspectorRef>,
}

impl OpenCase {
    /// The opening of a case from an inspection's failed item: the enterprise as the record
    /// has it, the item's 违法依据 and 处罚依据 as the record's checklist version gives them
    /// (a citation marked 依据待核 stays marked), the inspector's note as the first facts,
    /// and the first hazard registered on the item.
    pub fn from_finding(
        id: CaseId,
        record: &Inspection,
        finding: &Finding,
        inspectors: Vec<InspectorRef>,
    ) -> Self {
        let facts = if finding.note.trim().is_empty() {
            finding.text.trim().to_owned()
        } else {
            format!("{}：{}", finding.text.trim(), finding.note.trim())
        };
        Self {
            id,
            unit: record.unit.clone(),
            enterprise: record.enterprise.clone(),
            source: CaseSource::Inspection {
                inspection: record.id.clone(),
                item: Some(finding.item.clone()),
                hazard: finding.hazards.first().cloned(),
            },
            facts,
            violated: finding.basis.clone(),
            penalty_basis: finding.penalty.clone(),
            inspectors,
        }
    }
}

/// A supervisor's approval (立案审批, 结案审批).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub number: String,
    pub by: UserId,
    pub name: String,
    pub at: Timestamp,
    pub comment: String,
}

/// Why a decision is major (重大执法决定) and so needs 法制审核 first (《行政处罚法》第五十八条).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "reason", content = "text", rename_all = "snake_case")]
pub enum MajorReason {
    /// 涉及重大公共利益
    PublicInterest,
    /// 案件情况疑难复杂、涉及多个法律关系
    Complex,
    /// 法律、法规规定应当进行法制审核的其他情形 (named)
    Other(String),
}

/// The penalty the inspectors propose, with the circumstance of the discretion table applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedPenalty {
    pub penalty: Penalty,
    pub basis: LegalBasis,
    pub discretion: DiscretionRef,
    pub circumstance: String,
    pub grade: Grade,
    pub fine_min: u64,
    pub fine_max: u64,
    /// 裁量理由.
    pub reasons: String,
    pub by: UserId,
    pub at: Timestamp,
}

/// A statement or defence (陈述、申辩) the party made, and the inspectors' review of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub number: String,
    pub at: Timestamp,
    pub recorded_by: UserId,
    /// Who spoke for the party.
    pub speaker: String,
    pub text: String,
    /// 复核意见: whether the facts, reasons and evidence stated hold.
    pub review: String,
}

/// The party's waiver of its rights (放弃陈述申辩 / 放弃听证).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    pub at: Timestamp,
    pub recorded_by: UserId,
    pub speaker: String,
    pub statement: bool,
    pub hearing: bool,
}

/// A hearing held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldHearing {
    pub number: String,
    pub at: Timestamp,
    /// 主持人: appointed by the unit, not one of the case's investigators (第六十四条).
    pub host: UserId,
    pub host_name: String,
    pub place: String,
    pub summary: String,
}

/// A hearing scheduled: the party is told its time and place at least the unit's notice
/// period before (七日前, 《行政处罚法》第六十四条(二)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledHearing {
    pub at: Timestamp,
    pub place: String,
    pub host: UserId,
    pub host_name: String,
    /// When the party was told.
    pub notified_at: Timestamp,
}

/// A hearing requested by the party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hearing {
    pub requested_at: Timestamp,
    pub requested_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled: Option<ScheduledHearing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<HeldHearing>,
}

/// 法制审核意见.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOpinion {
    /// 同意
    Agree,
    /// 建议补充调查
    Supplement,
    /// 建议改正
    Correct,
}

impl ReviewOpinion {
    pub fn label_zh(self) -> &'static str {
        match self {
            ReviewOpinion::Agree => "同意",
            ReviewOpinion::Supplement => "建议补充调查",
            ReviewOpinion::Correct => "建议改正",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalReview {
    pub number: String,
    pub by: UserId,
    pub name: String,
    pub at: Timestamp,
    pub opinion: ReviewOpinion,
    pub text: String,
}

/// One 行政处罚告知书 and what followed it. A legal review that sends the case back to
/// investigation ends it; the next notice starts afresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub number: String,
    pub at: Timestamp,
    pub by: UserId,
    /// The intended penalty (拟作出的行政处罚) with its circumstance.
    pub proposal: ProposedPenalty,
    /// Whether the party may ask for a hearing (第六十三条).
    pub hearing_right: bool,
    /// The day the notice was served; the periods run from the next day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_on: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_ends: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hearing_ends: Option<Day>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<Statement>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<Waiver>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hearing: Option<Hearing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_review: Option<LegalReview>,
}

impl Notice {
    fn statement_waived(&self) -> bool {
        self.waiver.as_ref().is_some_and(|w| w.statement)
    }

    fn hearing_waived(&self) -> bool {
        self.waiver.as_ref().is_some_and(|w| w.hearing)
    }
}

/// 行政处罚决定.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub number: String,
    pub at: Timestamp,
    pub by: UserId,
    pub name: String,
    pub penalty: Penalty,
    pub basis: LegalBasis,
    pub discretion: DiscretionRef,
    pub circumstance: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_on: Option<Day>,
    /// When the fine is due (the payment period after service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_due: Option<Day>,
}

/// How a case document was served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum CaseServiceMethod {
    /// 直接送达
    Direct { recipient: String },
    /// 留置送达
    Left {
        recipient: String,
        witness: String,
        reason: String,
    },
    /// 邮寄送达
    Post { tracking: String },
    /// 电子送达 (with the party's consent)
    Electronic { address: String },
}

impl CaseServiceMethod {
    pub fn label_zh(&self) -> &'static str {
        match self {
            CaseServiceMethod::Direct { .. } => "直接送达",
            CaseServiceMethod::Left { .. } => "留置送达",
            CaseServiceMethod::Post { .. } => "邮寄送达",
            CaseServiceMethod::Electronic { .. } => "电子送达",
        }
    }
}

/// The service of one case document (its 送达回证 is frozen with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseService {
    /// The number of the document served.
    pub document: String,
    pub kind: CaseDocKind,
    pub method: CaseServiceMethod,
    pub at: Timestamp,
    pub by: UserId,
    /// The 送达回证's own number.
    pub receipt: String,
}

/// 公示 of the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    pub on: Day,
    pub channel: String,
    pub by: UserId,
}

/// A payment of the fine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub on: Day,
    pub amount_yuan: u64,
    /// The receipt's number (罚没款收据 / 缴款书).
    pub receipt: String,
    pub recorded_by: UserId,
}

/// The execution of a penalty other than a fine (or compulsory execution), noted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    pub on: Day,
    pub note: String,
    pub recorded_by: UserId,
}

/// One penalty case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PenaltyCase {
    pub id: CaseId,
    pub unit: UnitId,
    pub enterprise: EnterpriseSnapshot,
    pub source: CaseSource,
    pub facts: String,
    pub violated: Vec<LegalBasis>,
    pub penalty_basis: Vec<LegalBasis>,
    pub inspectors: BTreeMap<UserId, InspectorRef>,
    pub opened_at: Timestamp,
    pub opened_by: UserId,
    pub stage: CaseStage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filing: Option<Approval>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub major: BTreeSet<MajorReason>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub interviews: BTreeMap<String, Interview>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub media: BTreeMap<Sha256Hex, MediaEvidence>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub measures: BTreeMap<String, OnSiteMeasure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal: Option<ProposedPenalty>,
    /// Every notice, the current one last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Notice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<CaseService>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publication: Option<Publication>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payments: Vec<Payment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub executions: Vec<Execution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closing: Option<Approval>,
    /// Every document of the case as signed, keyed by its number.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub documents: BTreeMap<String, FrozenDocument>,
}

/// One edit of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum CaseCommand {
    /// 立案审批: a supervisor approves the 立案审批表; the investigation starts.
    ApproveFiling {
        number: IssuedNumber,
        comment: String,
    },
    SetFacts {
        facts: String,
    },
    MarkMajor {
        reason: MajorReason,
    },
    AddInterview {
        interview: Interview,
        number: IssuedNumber,
    },
    SignInterviewPage {
        interview: String,
        page: usize,
        signature: PageSignature,
    },
    AddMedia(MediaEvidence),
    AddMeasure {
        measure: OnSiteMeasure,
        number: IssuedNumber,
    },
    ResolvePreservation {
        measure: String,
        outcome: PreservationOutcome,
    },
    /// The penalty proposed in the circumstance of discretion-table row `circumstance`.
    ProposePenalty {
        circumstance: String,
        penalty: Penalty,
        reasons: String,
    },
    /// 行政处罚告知书 issued (and signed) with the current proposal.
    Notify {
        number: IssuedNumber,
    },
    RecordStatement {
        speaker: String,
        text: String,
        review: String,
        number: IssuedNumber,
    },
    Waive {
        speaker: String,
        statement: bool,
        hearing: bool,
    },
    RequestHearing {
        by: String,
    },
    /// The hearing's time, place and host, told to the party now.
    ScheduleHearing {
        at: Timestamp,
        place: String,
        host: UserId,
        host_name: String,
    },
    RecordHearing {
        host: UserId,
        host_name: String,
        place: String,
        summary: String,
        number: IssuedNumber,
    },
    SubmitLegalReview,
    RecordLegalReview {
        opinion: ReviewOpinion,
        text: String,
        number: IssuedNumber,
    },
    /// 行政处罚决定书 issued (and signed).
    Decide {
        penalty: Penalty,
        number: IssuedNumber,
    },
    RecordService {
        document: String,
        method: CaseServiceMethod,
        at: Timestamp,
        number: IssuedNumber,
    },
    RecordPublication {
        on: Day,
        channel: String,
    },
    RecordPayment {
        on: Day,
        amount_yuan: u64,
        receipt: String,
    },
    RecordExecution {
        on: Day,
        note: String,
    },
    /// 结案审批: a supervisor approves the 结案审批表.
    Close {
        number: IssuedNumber,
        comment: String,
    },
}

impl CaseCommand {
    /// A short name for logs and the audit trail.
    pub fn name(&self) -> &'static str {
        match self {
            CaseCommand::ApproveFiling { .. } => "approve_filing",
            CaseCommand::SetFacts { .. } => "set_facts",
            CaseCommand::MarkMajor { .. } => "mark_major",
            CaseCommand::AddInterview { .. } => "add_interview",
            CaseCommand::SignInterviewPage { .. } => "sign_interview_page",
            CaseCommand::AddMedia(_) => "add_media",
            CaseCommand::AddMeasure { .. } => "add_measure",
            CaseCommand::ResolvePreservation { .. } => "resolve_preservation",
            CaseCommand::ProposePenalty { .. } => "propose_penalty",
            CaseCommand::Notify { .. } => "notify",
            CaseCommand::RecordStatement { .. } => "record_statement",
            CaseCommand::Waive { .. } => "waive",
            CaseCommand::RequestHearing { .. } => "request_hearing",
            CaseCommand::ScheduleHearing { .. } => "schedule_hearing",
            CaseCommand::RecordHearing { .. } => "record_hearing",
            CaseCommand::SubmitLegalReview => "submit_legal_review",
            CaseCommand::RecordLegalReview { .. } => "record_legal_review",
            CaseCommand::Decide { .. } => "decide",
            CaseCommand::RecordService { .. } => "record_service",
            CaseCommand::RecordPublication { .. } => "record_publication",
            CaseCommand::RecordPayment { .. } => "record_payment",
            CaseCommand::RecordExecution { .. } => "record_execution",
            CaseCommand::Close { .. } => "close",
        }
    }
}

/// What a command is checked against besides the case.
#[derive(Debug, Clone, Copy)]
pub struct CaseContext<'a> {
    pub actor: &'a User,
    pub now: Timestamp,
    pub settings: &'a PenaltySettings,
    pub calendar: &'a WorkCalendar,
    /// The unit's current discretion table (needed to propose a penalty).
    pub discretion: Option<&'a DiscretionTable>,
}

impl CaseContext<'_> {
    fn today(&self) -> Day {
        self.now.shanghai_date()
    }
}

/// Why a command was refused. Chinese texts in [`crate::messages`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("{action} is not possible while the case is at stage {stage:?}")]
    WrongStage {
        action: &'static str,
        stage: CaseStage,
    },
    #[error("user {0} is not one of the case's inspectors")]
    NotOnCase(UserId),
    #[error("only a supervisor may do that")]
    NotSupervisor,
    #[error("user {0} is one of the case's inspectors and may not approve or review it")]
    ApproverOnCase(UserId),
    #[error(
        "at least two inspectors with certificates are required (行政处罚法 第四十二条), found {0}"
    )]
    FewerThanTwoInspectors(usize),
    #[error("inspector {0} is listed twice")]
    DuplicateInspector(UserId),
    #[error("the case's facts are empty")]
    NoFacts,
    #[error("the case names no violated provision (违法依据)")]
    NoViolatedProvision,
    #[error("the case names no penalty provision (处罚依据)")]
    NoPenaltyProvision,
    #[error("{number:?} is not a number of kind {code} for {year}")]
    BadNumber {
        number: String,
        code: &'static str,
        year: i32,
    },
    #[error("document number {0} is already used in this case")]
    DuplicateNumber(String),
    #[error("interview {0} is already recorded")]
    DuplicateInterview(String),
    #[error("no interview {0} in this case")]
    UnknownInterview(String),
    #[error("the interviewer and the recorder must be two of the case's inspectors")]
    InterviewersNotOnCase,
    #[error("an interview record needs at least one page, and every page a question and answer")]
    EmptyInterview,
    #[error("the interview's times are impossible (ends before it starts, or in the future)")]
    InterviewTimes,
    #[error("interview {interview} has no page {page}")]
    NoSuchPage { interview: String, page: usize },
    #[error("that signer does not sign this interview record")]
    NotASigner,
    #[error("that page is already signed by that signer")]
    AlreadySigned,
    #[error("only the interviewee may refuse to sign; inspectors sign")]
    InspectorCannotRefuse,
    #[error("a refusal to sign must name a witness")]
    RefusalWithoutWitness,
    #[error("the interview record is signed: it cannot change")]
    InterviewFrozen,
    #[error("media {0} is already in the case")]
    DuplicateMedia(Sha256Hex),
    #[error("a media file cannot be empty")]
    EmptyMedia,
    #[error("the media type {mime} is not a {kind:?} type")]
    MimeMismatch { kind: MediaKind, mime: String },
    #[error(
        "the media's times are impossible (captured after it was added or imported, or in the future)"
    )]
    MediaTimes,
    #[error("measure {0} is already recorded")]
    DuplicateMeasure(String),
    #[error("no measure {0} in this case")]
    UnknownMeasure(String),
    #[error("the measure lists nothing")]
    NoMeasureItems,
    #[error("measure {0} is not an evidence preservation")]
    NotAPreservation(String),
    #[error("preservation {0} is already decided")]
    AlreadyDecided(String),
    #[error("the outcome is dated before the measure or in the future")]
    OutcomeTimes,
    #[error("no discretion table is available")]
    NoDiscretionTable,
    #[error(transparent)]
    Propose(#[from] ProposeError),
    #[error("the fine {fine} yuan is outside the circumstance's range {min}–{max}")]
    FineOutsideRange { fine: u64, min: u64, max: u64 },
    #[error("the penalty includes a kind the circumstance does not carry")]
    OtherNotInRow,
    #[error("the penalty is empty")]
    EmptyPenalty,
    #[error("the case has no evidence yet")]
    NoEvidence,
    #[error("interview record {0} is not signed on every page")]
    UnsignedInterview(String),
    #[error("no penalty has been proposed")]
    NoProposal,
    #[error("evidence preserved under {0} has not been decided on")]
    PreservationUndecided(String),
    #[error("the notice has not been served yet")]
    NoticeNotServed,
    #[error("the statement period ended on {0}")]
    StatementPeriodOver(Day),
    #[error("the statement is empty")]
    EmptyStatement,
    #[error("the waiver waives nothing")]
    EmptyWaiver,
    #[error("the intended penalty gives no right to a hearing")]
    NoHearingRight,
    #[error("the period to ask for a hearing ended on {0}")]
    HearingPeriodOver(Day),
    #[error("a hearing is already requested")]
    HearingAlreadyRequested,
    #[error("no hearing was requested")]
    NoHearingRequested,
    #[error("the hearing is already recorded")]
    HearingAlreadyHeld,
    #[error("the hearing has not been scheduled")]
    HearingNotScheduled,
    #[error(
        "the hearing must be at least the notice period after the party is told: {earliest} at the earliest"
    )]
    HearingNoticeTooShort { earliest: Day },
    #[error("the hearing is scheduled for later")]
    HearingNotYet,
    #[error("the hearing's host {0} is one of the case's investigators")]
    HostIsInvestigator(UserId),
    #[error("the statement period runs until {0}, and the party has not waived it")]
    StatementPeriodRunning(Day),
    #[error("the hearing request period runs until {0}, and the party has not waived it")]
    HearingPeriodRunning(Day),
    #[error("the requested hearing has not been held")]
    HearingNotHeld,
    #[error("the decision is major: a legal review (法制审核) must agree first")]
    MajorNeedsLegalReview,
    #[error("the legal review has not agreed")]
    LegalReviewNotAgreed,
    #[error("the legal review is already recorded")]
    AlreadyReviewed,
    #[error("the decision is heavier than the penalty the notice announced")]
    HeavierThanNoticed,
    #[error("no document {0} in this case")]
    UnknownDocument(String),
    #[error("a {0:?} is not served on the party")]
    NotServable(CaseDocKind),
    #[error("document {0} is already served")]
    AlreadyServed(String),
    #[error("the service time is in the future or before the document was signed")]
    ServiceTimes,
    #[error("the service must name who received the document")]
    NoRecipient,
    #[error("a refused service (留置送达) needs a witness and the reason")]
    NoWitness,
    #[error("the publication channel is empty")]
    NoChannel,
    #[error("the day is before the decision or in the future")]
    DayOutOfRange,
    #[error("the decision is already published")]
    AlreadyPublished,
    #[error("a payment must be more than 0 yuan and name its receipt")]
    BadPayment,
    #[error("the payment exceeds what is owed ({owed} yuan)")]
    Overpaid { owed: u64 },
    #[error("the note is empty")]
    EmptyNote,
    #[error("the fine is not paid in full: {paid} of {fine} yuan")]
    FineOutstanding { paid: u64, fine: u64 },
    #[error("the penalty's other parts have not been noted as carried out")]
    NotExecuted,
}

fn wrong(action: &'static str, stage: CaseStage) -> CaseError {
    CaseError::WrongStage { action, stage }
}

fn is_supervisor(u: &User) -> bool {
    matches!(u.role, Role::Supervisor)
}

impl PenaltyCase {
    /// 立案: a new case, opened by one of its inspectors, awaiting the approval of its
    /// 立案审批表.
    pub fn open(open: OpenCase, cx: &CaseContext<'_>) -> Result<Self, CaseError> {
        if open.facts.trim().is_empty() {
            return Err(CaseError::NoFacts);
        }
        if open.violated.is_empty() {
            return Err(CaseError::NoViolatedProvision);
        }
        if open.penalty_basis.is_empty() {
            return Err(CaseError::NoPenaltyProvision);
        }
        let mut inspectors = BTreeMap::new();
        for i in open.inspectors {
            let user = i.user.clone();
            if inspectors.insert(user.clone(), i).is_some() {
                return Err(CaseError::DuplicateInspector(user));
            }
        }
        if inspectors.len() < 2 {
            return Err(CaseError::FewerThanTwoInspectors(inspectors.len()));
        }
        if !cx.actor.is_inspector() || !inspectors.contains_key(&cx.actor.id) {
            return Err(CaseError::NotOnCase(cx.actor.id.clone()));
        }
        Ok(Self {
            id: open.id,
            unit: open.unit,
            enterprise: open.enterprise,
            source: open.source,
            facts: open.facts,
            violated: open.violated,
            penalty_basis: open.penalty_basis,
            inspectors,
            opened_at: cx.now,
            opened_by: cx.actor.id.clone(),
            stage: CaseStage::Opened,
            filing: None,
            major: BTreeSet::new(),
            interviews: BTreeMap::new(),
            media: BTreeMap::new(),
            measures: BTreeMap::new(),
            proposal: None,
            notices: Vec::new(),
            decision: None,
            services: Vec::new(),
            publication: None,
            payments: Vec::new(),
            executions: Vec::new(),
            closing: None,
            documents: BTreeMap::new(),
        })
    }

    /// The day the case was opened (立案之日): the day its filing was approved.
    pub fn opened_on(&self) -> Option<Day> {
        self.filing.as_ref().map(|a| a.at.shanghai_date())
    }

    /// The current notice, if any.
    pub fn notice(&self) -> Option<&Notice> {
        self.notices.last()
    }

    /// Whether the intended penalty (the current notice's, else the proposal's) makes the
    /// decision major: a reason marked, a hearing held, or the fine at the unit's threshold.
    pub fn is_major(&self, settings: &PenaltySettings) -> bool {
        let fine = self
            .notice()
            .map(|n| n.proposal.penalty.fine_yuan)
            .or(self.proposal.as_ref().map(|p| p.penalty.fine_yuan))
            .unwrap_or(0);
        !self.major.is_empty()
            || self
                .notice()
                .is_some_and(|n| n.hearing.as_ref().is_some_and(|h| h.held.is_some()))
            || settings.major_fine_threshold.is_some_and(|t| fine >= t)
    }

    /// Every original the case names: its evidence (recordings, photos) and the signature
    /// images on its 询问笔录 pages. What a tablet uploads and a case file carries.
    pub fn originals(&self) -> std::collections::BTreeSet<Sha256Hex> {
        let signatures = self
            .interviews
            .values()
            .flat_map(|i| &i.pages)
            .flat_map(|p| p.signatures.values())
            .filter_map(|s| match &s.outcome {
                crate::inspection::SignOutcome::Signed { image } => Some(image.clone()),
                crate::inspection::SignOutcome::Refused { .. } => None,
            });
        self.media.keys().cloned().chain(signatures).collect()
    }

    /// Fines paid so far.
    pub fn paid(&self) -> u64 {
        self.payments.iter().map(|p| p.amount_yuan).sum()
    }

    /// Checks a command and applies it, or leaves the case unchanged and says why not.
    pub fn apply(&mut self, command: &CaseCommand, cx: &CaseContext<'_>) -> Result<(), CaseError> {
        let mut next = self.clone();
        next.apply_in_place(command, cx)?;
        *self = next;
        Ok(())
    }

    fn require_on_case(&self, cx: &CaseContext<'_>) -> Result<(), CaseError> {
        if cx.actor.is_inspector() && self.inspectors.contains_key(&cx.actor.id) {
            Ok(())
        } else {
            Err(CaseError::NotOnCase(cx.actor.id.clone()))
        }
    }

    /// A supervisor who is not one of the case's inspectors (an approver or reviewer).
    fn require_independent_supervisor(&self, cx: &CaseContext<'_>) -> Result<(), CaseError> {
        if !is_supervisor(cx.actor) {
            return Err(CaseError::NotSupervisor);
        }
        if self.inspectors.contains_key(&cx.actor.id) {
            return Err(CaseError::ApproverOnCase(cx.actor.id.clone()));
        }
        Ok(())
    }

    fn check_number(
        &self,
        number: &IssuedNumber,
        kind: CaseDocKind,
        cx: &CaseContext<'_>,
    ) -> Result<(), CaseError> {
        let year = cx.today().year();
        if !number.is_of(kind, year) {
            return Err(CaseError::BadNumber {
                number: number.text.clone(),
                code: kind.code(),
                year,
            });
        }
        if self.documents.contains_key(&number.text) || self.number_pending(&number.text) {
            return Err(CaseError::DuplicateNumber(number.text.clone()));
        }
        Ok(())
    }

    /// A number given to a document not yet frozen (an interview being signed).
    fn number_pending(&self, text: &str) -> bool {
        self.interviews.values().any(|i| i.number == text)
    }

    /// The decision may be made (or sent to legal review) as far as the notice goes: served,
    /// its periods over or waived, a requested hearing held.
    fn check_notice_done(&self, cx: &CaseContext<'_>) -> Result<(), CaseError> {
        let notice = self.notice().ok_or(CaseError::NoProposal)?;
        if notice.served_on.is_none() {
            return Err(CaseError::NoticeNotServed);
        }
        let today = cx.today();
        if let Some(end) = notice.statement_ends
            && today <= end
            && !notice.statement_waived()
        {
            return Err(CaseError::StatementPeriodRunning(end));
        }
        match &notice.hearing {
            Some(h) if h.held.is_none() => return Err(CaseError::HearingNotHeld),
            Some(_) => {}
            None => {
                if let Some(end) = notice.hearing_ends
                    && notice.hearing_right
                    && today <= end
                    && !notice.hearing_waived()
                {
                    return Err(CaseError::HearingPeriodRunning(end));
                }
            }
        }
        Ok(())
    }

    fn freeze(&mut self, kind: CaseDocKind, number: &str, key: &str, cx: &CaseContext<'_>) {
        let content = super::documents::content(kind, self, key, cx.settings, cx.calendar, cx.now);
        let doc = FrozenDocument::new(
            kind,
            number.to_owned(),
            key.to_owned(),
            content,
            cx.now,
            cx.actor.id.clone(),
        );
        self.documents.insert(number.to_owned(), doc);
    }

    pub(crate) fn apply_in_place(
        &mut self,
        command: &CaseCommand,
        cx: &CaseContext<'_>,
    ) -> Result<(), CaseError> {
        use CaseCommand as C;
        use CaseStage as S;
        let stage = self.stage;
        let today = cx.today();
        match command {
            C::ApproveFiling { number, comment } => {
                if stage != S::Opened {
                    return Err(wrong("approve_filing", stage));
                }
                self.require_independent_supervisor(cx)?;
                self.check_number(number, CaseDocKind::FilingApproval, cx)?;
                self.filing = Some(Approval {
                    number: number.text.clone(),
                    by: cx.actor.id.clone(),
                    name: cx.actor.name.clone(),
                    at: cx.now,
                    comment: comment.clone(),
                });
                self.stage = S::Investigating;
                self.freeze(CaseDocKind::FilingApproval, &number.text, "", cx);
            }
            C::SetFacts { facts } => {
                if !matches!(stage, S::Opened | S::Investigating) {
                    return Err(wrong("set_facts", stage));
                }
                self.require_on_case(cx)?;
                if facts.trim().is_empty() {
                    return Err(CaseError::NoFacts);
                }
                self.facts = facts.clone();
            }
            C::MarkMajor { reason } => {
                if !matches!(
                    stage,
                    S::Opened | S::Investigating | S::Notified | S::Defence
                ) {
                    return Err(wrong("mark_major", stage));
                }
                if !is_supervisor(cx.actor) {
                    self.require_on_case(cx)?;
                }
                self.major.insert(reason.clone());
            }
            C::AddInterview { interview, number } => {
                if !matches!(stage, S::Opened | S::Investigating) {
                    return Err(wrong("add_interview", stage));
                }
                self.require_on_case(cx)?;
                if self.interviews.contains_key(&interview.id) {
                    return Err(CaseError::DuplicateInterview(interview.id.clone()));
                }
                self.check_number(number, CaseDocKind::Interview, cx)?;
                if interview.number != number.text {
                    return Err(CaseError::BadNumber {
                        number: interview.number.clone(),
                        code: CaseDocKind::Interview.code(),
                        year: today.year(),
                    });
                }
                let on_case = |u: &UserId| self.inspectors.contains_key(u);
                if interview.asked_by == interview.recorded_by
                    || !on_case(&interview.asked_by)
                    || !on_case(&interview.recorded_by)
                {
                    return Err(CaseError::InterviewersNotOnCase);
                }
                if interview.pages.is_empty()
                    || interview.pages.iter().any(|p| {
                        p.lines.is_empty()
                            || p.lines
                                .iter()
                                .any(|l| l.question.trim().is_empty() || l.answer.trim().is_empty())
                            || !p.signatures.is_empty()
                    })
                {
                    return Err(CaseError::EmptyInterview);
                }
                if interview.ended_at < interview.started_at || interview.ended_at > cx.now {
                    return Err(CaseError::InterviewTimes);
                }
                self.interviews
                    .insert(interview.id.clone(), interview.clone());
            }
            C::SignInterviewPage {
                interview,
                page,
                signature,
            } => {
                if !matches!(stage, S::Opened | S::Investigating) {
                    return Err(wrong("sign_interview_page", stage));
                }
                self.require_on_case(cx)?;
                let record = self
                    .interviews
                    .get_mut(interview)
                    .ok_or_else(|| CaseError::UnknownInterview(interview.clone()))?;
                if record.is_signed() {
                    return Err(CaseError::InterviewFrozen);
                }
                if !record.signers().contains(&signature.signer) {
                    return Err(CaseError::NotASigner);
                }
                match (&signature.signer, &signature.outcome) {
                    (PageSigner::Inspector(_), SignOutcome::Refused { .. }) => {
                        return Err(CaseError::InspectorCannotRefuse);
                    }
                    (_, SignOutcome::Refused { witness, .. }) if witness.trim().is_empty() => {
                        return Err(CaseError::RefusalWithoutWitness);
                    }
                    _ => {}
                }
                let p = record
                    .pages
                    .get_mut(*page)
                    .ok_or_else(|| CaseError::NoSuchPage {
                        interview: interview.clone(),
                        page: *page,
                    })?;
                let key = signature.signer.key();
                if p.signatures.contains_key(&key) {
                    return Err(CaseError::AlreadySigned);
                }
                let mut signature = signature.clone();
                signature.at = cx.now;
                p.signatures.insert(key, signature);
                if record.is_signed() {
                    let number = record.number.clone();
                    self.freeze(CaseDocKind::Interview, &number, interview, cx);
                }
            }
            C::AddMedia(m) => {
                if !matches!(stage, S::Opened | S::Investigating) {
                    return Err(wrong("add_media", stage));
                }
                self.require_on_case(cx)?;
                if self.media.contains_key(&m.sha256) {
                    return Err(CaseError::DuplicateMedia(m.sha256.clone()));
                }
                if m.size == 0 {
                    return Err(CaseError::EmptyMedia);
                }
                let prefix = match m.kind {
                    MediaKind::Audio => "audio/",
                    MediaKind::Video => "video/",
                    MediaKind::Photo => "image/",
                };
                if !m.mime.starts_with(prefix) {
                    return Err(CaseError::MimeMismatch {
                        kind: m.kind,
                        mime: m.mime.clone(),
                    });
                }
                let added_after = match &m.source {
                    MediaSource::Tablet { .. } => m.captured_at,
                    MediaSource::BodyCamera { imported_at, .. } => {
                        if *imported_at < m.captured_at {
                            return Err(CaseError::MediaTimes);
                        }
                        *imported_at
                    }
                };
                if m.added_at != cx.now || m.added_by != cx.actor.id || added_after > cx.now {
                    return Err(CaseError::MediaTimes);
                }
                self.media.insert(m.sha256.clone(), m.clone());
            }
            C::AddMeasure { measure, number } => {
                if !matches!(stage, S::Opened | S::Investigating) {
                    return Err(wrong("add_measure", stage));
                }
                self.require_on_case(cx)?;
                if self.measures.contains_key(&measure.id) {
                    return Err(CaseError::DuplicateMeasure(measure.id.clone()));
                }
                let kind = match measure.kind {
                    MeasureKind::OnSiteMeasures => CaseDocKind::OnSiteMeasures,
                    MeasureKind::EvidencePreservation => CaseDocKind::EvidencePreservation,
                };
                self.check_number(number, kind, cx)?;
                if measure.number != number.text {
                    return Err(CaseError::BadNumber {
                        number: measure.number.clone(),
                        code: kind.code(),
                        year: today.year(),
                    });
                }
                if measure.items.iter().all(|i| i.trim().is_empty()) {
                    return Err(CaseError::NoMeasureItems);
                }
                let mut measure = measure.clone();
                measure.at = cx.now;
                measure.outcome = None;
                let id = measure.id.clone();
                self.measures.insert(id.clone(), measure);
                self.freeze(kind, &number.text, &id, cx);
            }
            C::ResolvePreservation { measure, outcome } => {
                if !matches!(stage, S::Opened | S::Investigating) {
                    return Err(wrong("resolve_preservation", stage));
                }
                self.require_on_case(cx)?;
                let m = self
                    .measures
                    .get_mut(measure)
                    .ok_or_else(|| CaseError::UnknownMeasure(measure.clone()))?;
                if m.kind != MeasureKind::EvidencePreservation {
                    return Err(CaseError::NotAPreservation(measure.clone()));
                }
                if m.outcome.is_some() {
                    return Err(CaseError::AlreadyDecided(measure.clone()));
                }
                if outcome.on < m.at.shanghai_date() || outcome.on > today {
                    return Err(CaseError::OutcomeTimes);
                }
                if outcome.decision.trim().is_empty() {
                    return Err(CaseError::EmptyNote);
                }
                m.outcome = Some(outcome.clone());
            }
            C::ProposePenalty {
                circumstance,
                penalty,
                reasons,
            } => {
                if stage != S::Investigating {
                    return Err(wrong("propose_penalty", stage));
                }
                self.require_on_case(cx)?;
                let table = cx.discretion.ok_or(CaseError::NoDiscretionTable)?;
                let p = propose(table, &self.penalty_basis, circumstance)?;
                if penalty.is_empty() {
                    return Err(CaseError::EmptyPenalty);
                }
                if penalty.fine_yuan < p.fine_min || penalty.fine_yuan > p.fine_max {
                    return Err(CaseError::FineOutsideRange {
                        fine: penalty.fine_yuan,
                        min: p.fine_min,
                        max: p.fine_max,
                    });
                }
                let row_other: BTreeSet<_> = p.suggested.other.clone();
                if !penalty.other.is_subset(&row_other) {
                    return Err(CaseError::OtherNotInRow);
                }
                self.proposal = Some(ProposedPenalty {
                    penalty: penalty.clone(),
                    basis: p.basis,
                    discretion: p.discretion,
                    circumstance: p.circumstance,
                    grade: p.grade,
                    fine_min: p.fine_min,
                    fine_max: p.fine_max,
                    reasons: reasons.clone(),
                    by: cx.actor.id.clone(),
                    at: cx.now,
                });
            }
            C::Notify { number } => {
                if stage != S::Investigating {
                    return Err(wrong("notify", stage));
                }
                self.require_on_case(cx)?;
                if self.facts.trim().is_empty() {
                    return Err(CaseError::NoFacts);
                }
                if self.interviews.is_empty() && self.media.is_empty() && self.measures.is_empty() {
                    return Err(CaseError::NoEvidence);
                }
                if let Some(i) = self.interviews.values().find(|i| !i.is_signed()) {
                    return Err(CaseError::UnsignedInterview(i.id.clone()));
                }
                if let Some(m) = self
                    .measures
                    .values()
                    .find(|m| m.kind == MeasureKind::EvidencePreservation && m.outcome.is_none())
                {
                    return Err(CaseError::PreservationUndecided(m.id.clone()));
                }
                let proposal = self.proposal.clone().ok_or(CaseError::NoProposal)?;
                self.check_number(number, CaseDocKind::Notice, cx)?;
                let hearing_right = proposal.penalty.fine_yuan
                    >= cx.settings.hearing_fine_threshold
                    || proposal
                        .penalty
                        .other
                        .iter()
                        .any(|o| o.gives_hearing_right());
                self.notices.push(Notice {
                    number: number.text.clone(),
                    at: cx.now,
                    by: cx.actor.id.clone(),
                    proposal,
                    hearing_right,
                    served_on: None,
                    statement_ends: None,
                    hearing_ends: None,
                    statements: Vec::new(),
                    waiver: None,
                    hearing: None,
                    legal_review: None,
                });
                self.stage = S::Notified;
                self.freeze(CaseDocKind::Notice, &number.text, "", cx);
            }
            C::RecordStatement {
                speaker,
                text,
                review,
                number,
            } => {
                if !matches!(stage, S::Notified | S::Defence) {
                    return Err(wrong("record_statement", stage));
                }
                self.require_on_case(cx)?;
                let notice = self.notices.last().ok_or(CaseError::NoProposal)?;
                let end = notice.statement_ends.ok_or(CaseError::NoticeNotServed)?;
                if today > end {
                    return Err(CaseError::StatementPeriodOver(end));
                }
                if text.trim().is_empty() || speaker.trim().is_empty() {
                    return Err(CaseError::EmptyStatement);
                }
                self.check_number(number, CaseDocKind::Statement, cx)?;
                let notice = self.notices.last_mut().ok_or(CaseError::NoProposal)?;
                notice.statements.push(Statement {
                    number: number.text.clone(),
                    at: cx.now,
                    recorded_by: cx.actor.id.clone(),
                    speaker: speaker.clone(),
                    text: text.clone(),
                    review: review.clone(),
                });
                self.stage = S::Defence;
                self.freeze(CaseDocKind::Statement, &number.text, &number.text, cx);
            }
            C::Waive {
                speaker,
                statement,
                hearing,
            } => {
                if !matches!(stage, S::Notified | S::Defence) {
                    return Err(wrong("waive", stage));
                }
                self.require_on_case(cx)?;
                if !statement && !hearing {
                    return Err(CaseError::EmptyWaiver);
                }
                if speaker.trim().is_empty() {
                    return Err(CaseError::EmptyStatement);
                }
                let notice = self.notices.last_mut().ok_or(CaseError::NoProposal)?;
                if notice.served_on.is_none() {
                    return Err(CaseError::NoticeNotServed);
                }
                if *hearing && !notice.hearing_right {
                    return Err(CaseError::NoHearingRight);
                }
                if *hearing && notice.hearing.is_some() {
                    return Err(CaseError::HearingAlreadyRequested);
                }
                let before = notice.waiver.clone();
                notice.waiver = Some(Waiver {
                    at: cx.now,
                    recorded_by: cx.actor.id.clone(),
                    speaker: speaker.clone(),
                    statement: *statement || before.as_ref().is_some_and(|w| w.statement),
                    hearing: *hearing || before.as_ref().is_some_and(|w| w.hearing),
                });
            }
            C::RequestHearing { by } => {
                if !matches!(stage, S::Notified | S::Defence) {
                    return Err(wrong("request_hearing", stage));
                }
                self.require_on_case(cx)?;
                let notice = self.notices.last_mut().ok_or(CaseError::NoProposal)?;
                if !notice.hearing_right {
                    return Err(CaseError::NoHearingRight);
                }
                let end = notice.hearing_ends.ok_or(CaseError::NoticeNotServed)?;
                if notice.hearing.is_some() {
                    return Err(CaseError::HearingAlreadyRequested);
                }
                if today > end || notice.hearing_waived() {
                    return Err(CaseError::HearingPeriodOver(end));
                }
                if by.trim().is_empty() {
                    return Err(CaseError::EmptyStatement);
                }
                notice.hearing = Some(Hearing {
                    requested_at: cx.now,
                    requested_by: by.clone(),
                    scheduled: None,
                    held: None,
                });
                self.stage = S::Defence;
            }
            C::ScheduleHearing {
                at,
                place,
                host,
                host_name,
            } => {
                if stage != S::Defence {
                    return Err(wrong("schedule_hearing", stage));
                }
                self.require_on_case(cx)?;
                if self.inspectors.contains_key(host) {
                    return Err(CaseError::HostIsInvestigator(host.clone()));
                }
                if place.trim().is_empty() || host_name.trim().is_empty() {
                    return Err(CaseError::EmptyNote);
                }
                let earliest = cx.settings.hearing_notice_period.end(today, cx.calendar);
                if at.shanghai_date() < earliest {
                    return Err(CaseError::HearingNoticeTooShort { earliest });
                }
                let notice = self.notices.last_mut().ok_or(CaseError::NoProposal)?;
                let hearing = notice
                    .hearing
                    .as_mut()
                    .ok_or(CaseError::NoHearingRequested)?;
                if hearing.held.is_some() {
                    return Err(CaseError::HearingAlreadyHeld);
                }
                hearing.scheduled = Some(ScheduledHearing {
                    at: *at,
                    place: place.clone(),
                    host: host.clone(),
                    host_name: host_name.clone(),
                    notified_at: cx.now,
                });
            }
            C::RecordHearing {
                host,
                host_name,
                place,
                summary,
                number,
            } => {
                if stage != S::Defence {
                    return Err(wrong("record_hearing", stage));
                }
                self.require_on_case(cx)?;
                if self.inspectors.contains_key(host) {
                    return Err(CaseError::HostIsInvestigator(host.clone()));
                }
                {
                    let notice = self.notice().ok_or(CaseError::NoProposal)?;
                    match &notice.hearing {
                        None => return Err(CaseError::NoHearingRequested),
                        Some(h) if h.held.is_some() => return Err(CaseError::HearingAlreadyHeld),
                        Some(h) => match &h.scheduled {
                            None => return Err(CaseError::HearingNotScheduled),
                            Some(sch) if sch.at > cx.now => return Err(CaseError::HearingNotYet),
                            Some(_) => {}
                        },
                    }
                }
                if summary.trim().is_empty() {
                    return Err(CaseError::EmptyStatement);
                }
                self.check_number(number, CaseDocKind::Hearing, cx)?;
                let notice = self.notices.last_mut().ok_or(CaseError::NoProposal)?;
                if let Some(h) = notice.hearing.as_mut() {
                    h.held = Some(HeldHearing {
                        number: number.text.clone(),
                        at: cx.now,
                        host: host.clone(),
                        host_name: host_name.clone(),
                        place: place.clone(),
                        summary: summary.clone(),
                    });
                }
                self.freeze(CaseDocKind::Hearing, &number.text, "", cx);
            }
            C::SubmitLegalReview => {
                if !matches!(stage, S::Notified | S::Defence) {
                    return Err(wrong("submit_legal_review", stage));
                }
                self.require_on_case(cx)?;
                self.check_notice_done(cx)?;
                self.stage = S::LegalReview;
            }
            C::RecordLegalReview {
                opinion,
                text,
                number,
            } => {
                if stage != S::LegalReview {
                    return Err(wrong("record_legal_review", stage));
                }
                self.require_independent_supervisor(cx)?;
                if self.notice().is_some_and(|n| n.legal_review.is_some()) {
                    return Err(CaseError::AlreadyReviewed);
                }
                if text.trim().is_empty() {
                    return Err(CaseError::EmptyNote);
                }
                self.check_number(number, CaseDocKind::LegalReview, cx)?;
                let notice = self.notices.last_mut().ok_or(CaseError::NoProposal)?;
                notice.legal_review = Some(LegalReview {
                    number: number.text.clone(),
                    by: cx.actor.id.clone(),
                    name: cx.actor.name.clone(),
                    at: cx.now,
                    opinion: *opinion,
                    text: text.clone(),
                });
                if *opinion != ReviewOpinion::Agree {
                    // Back to investigation: a new proposal needs a new notice.
                    self.stage = S::Investigating;
                }
                self.freeze(CaseDocKind::LegalReview, &number.text, "", cx);
            }
            C::Decide { penalty, number } => {
                if !matches!(stage, S::Notified | S::Defence | S::LegalReview) {
                    return Err(wrong("decide", stage));
                }
                if !is_supervisor(cx.actor) {
                    return Err(CaseError::NotSupervisor);
                }
                self.check_notice_done(cx)?;
                let notice = self.notice().ok_or(CaseError::NoProposal)?.clone();
                let agreed = notice
                    .legal_review
                    .as_ref()
                    .is_some_and(|r| r.opinion == ReviewOpinion::Agree);
                if stage == S::LegalReview && !agreed {
                    return Err(CaseError::LegalReviewNotAgreed);
                }
                if self.is_major(cx.settings) && !agreed {
                    return Err(CaseError::MajorNeedsLegalReview);
                }
                if penalty.is_empty() {
                    return Err(CaseError::EmptyPenalty);
                }
                let p = &notice.proposal;
                if penalty.heavier_than(&p.penalty) {
                    return Err(CaseError::HeavierThanNoticed);
                }
                if penalty.fine_yuan < p.fine_min {
                    return Err(CaseError::FineOutsideRange {
                        fine: penalty.fine_yuan,
                        min: p.fine_min,
                        max: p.fine_max,
                    });
                }
                self.check_number(number, CaseDocKind::Decision, cx)?;
                self.decision = Some(Decision {
                    number: number.text.clone(),
                    at: cx.now,
                    by: cx.actor.id.clone(),
                    name: cx.actor.name.clone(),
                    penalty: penalty.clone(),
                    basis: p.basis.clone(),
                    discretion: p.discretion.clone(),
                    circumstance: p.circumstance.clone(),
                    served_on: None,
                    payment_due: None,
                });
                self.stage = S::Decided;
                self.freeze(CaseDocKind::Decision, &number.text, "", cx);
            }
            C::RecordService {
                document,
                method,
                at,
                number,
            } => {
                self.require_on_case(cx)?;
                let doc = self
                    .documents
                    .get(document)
                    .ok_or_else(|| CaseError::UnknownDocument(document.clone()))?;
                let kind = doc.kind;
                if !kind.is_served() {
                    return Err(CaseError::NotServable(kind));
                }
                if self.services.iter().any(|s| &s.document == document) {
                    return Err(CaseError::AlreadyServed(document.clone()));
                }
                match kind {
                    CaseDocKind::Notice
                        if !matches!(stage, S::Notified)
                            || self.notice().map(|n| &n.number) != Some(document) =>
                    {
                        return Err(wrong("record_service", stage));
                    }
                    CaseDocKind::Decision if stage != S::Decided => {
                        return Err(wrong("record_service", stage));
                    }
                    _ => {}
                }
                if *at > cx.now || *at < doc.at {
                    return Err(CaseError::ServiceTimes);
                }
                match method {
                    CaseServiceMethod::Direct { recipient } if recipient.trim().is_empty() => {
                        return Err(CaseError::NoRecipient);
                    }
                    CaseServiceMethod::Left {
                        recipient,
                        witness,
                        reason,
                    } => {
                        if recipient.trim().is_empty() {
                            return Err(CaseError::NoRecipient);
                        }
                        if witness.trim().is_empty() || reason.trim().is_empty() {
                            return Err(CaseError::NoWitness);
                        }
                    }
                    CaseServiceMethod::Post { tracking: r }
                    | CaseServiceMethod::Electronic { address: r }
                        if r.trim().is_empty() =>
                    {
                        return Err(CaseError::NoRecipient);
                    }
                    _ => {}
                }
                self.check_number(number, CaseDocKind::ServiceReceipt, cx)?;
                let served_on = at.shanghai_date();
                match kind {
                    CaseDocKind::Notice => {
                        let s = cx.settings;
                        let notice = self.notices.last_mut().ok_or(CaseError::NoProposal)?;
                        notice.served_on = Some(served_on);
                        notice.statement_ends =
                            Some(s.statement_period.end(served_on, cx.calendar));
                        notice.hearing_ends = notice
                            .hearing_right
                            .then(|| s.hearing_request_period.end(served_on, cx.calendar));
                    }
                    CaseDocKind::Decision => {
                        if let Some(d) = self.decision.as_mut() {
                            d.served_on = Some(served_on);
                            d.payment_due = (d.penalty.fine_yuan > 0)
                                .then(|| cx.settings.payment_period.end(served_on, cx.calendar));
                        }
                        self.stage = S::Served;
                    }
                    _ => {}
                }
                self.services.push(CaseService {
                    document: document.clone(),
                    kind,
                    method: method.clone(),
                    at: *at,
                    by: cx.actor.id.clone(),
                    receipt: number.text.clone(),
                });
                self.freeze(CaseDocKind::ServiceReceipt, &number.text, document, cx);
            }
            C::RecordPublication { on, channel } => {
                if !stage.is_decided() {
                    return Err(wrong("record_publication", stage));
                }
                if !is_supervisor(cx.actor) {
                    self.require_on_case(cx)?;
                }
                if self.publication.is_some() {
                    return Err(CaseError::AlreadyPublished);
                }
                if channel.trim().is_empty() {
                    return Err(CaseError::NoChannel);
                }
                let decided = self.decision.as_ref().map(|d| d.at.shanghai_date());
                if decided.is_some_and(|d| *on < d) || *on > today {
                    return Err(CaseError::DayOutOfRange);
                }
                self.publication = Some(Publication {
                    on: *on,
                    channel: channel.clone(),
                    by: cx.actor.id.clone(),
                });
            }
            C::RecordPayment {
                on,
                amount_yuan,
                receipt,
            } => {
                if !matches!(stage, S::Served | S::Executing) {
                    return Err(wrong("record_payment", stage));
                }
                self.require_on_case(cx)?;
                if *amount_yuan == 0 || receipt.trim().is_empty() {
                    return Err(CaseError::BadPayment);
                }
                let fine = self.decision.as_ref().map_or(0, |d| d.penalty.fine_yuan);
                let owed = fine.saturating_sub(self.paid());
                if *amount_yuan > owed {
                    return Err(CaseError::Overpaid { owed });
                }
                let served = self.decision.as_ref().and_then(|d| d.served_on);
                if served.is_some_and(|d| *on < d) || *on > today {
                    return Err(CaseError::DayOutOfRange);
                }
                self.payments.push(Payment {
                    on: *on,
                    amount_yuan: *amount_yuan,
                    receipt: receipt.clone(),
                    recorded_by: cx.actor.id.clone(),
                });
                self.stage = S::Executing;
            }
            C::RecordExecution { on, note } => {
                if !matches!(stage, S::Served | S::Executing) {
                    return Err(wrong("record_execution", stage));
                }
                self.require_on_case(cx)?;
                if note.trim().is_empty() {
                    return Err(CaseError::EmptyNote);
                }
                let served = self.decision.as_ref().and_then(|d| d.served_on);
                if served.is_some_and(|d| *on < d) || *on > today {
                    return Err(CaseError::DayOutOfRange);
                }
                self.executions.push(Execution {
                    on: *on,
                    note: note.clone(),
                    recorded_by: cx.actor.id.clone(),
                });
                self.stage = S::Executing;
            }
            C::Close { number, comment } => {
                if stage != S::Executing {
                    return Err(wrong("close", stage));
                }
                self.require_independent_supervisor(cx)?;
                let decision = self.decision.as_ref().ok_or(CaseError::NotExecuted)?;
                let fine = decision.penalty.fine_yuan;
                if self.paid() < fine {
                    return Err(CaseError::FineOutstanding {
                        paid: self.paid(),
                        fine,
                    });
                }
                if !decision.penalty.other.is_empty() && self.executions.is_empty() {
                    return Err(CaseError::NotExecuted);
                }
                self.check_number(number, CaseDocKind::ClosingApproval, cx)?;
                self.closing = Some(Approval {
                    number: number.text.clone(),
                    by: cx.actor.id.clone(),
                    name: cx.actor.name.clone(),
                    at: cx.now,
                    comment: comment.clone(),
                });
                self.stage = S::Closed;
                self.freeze(CaseDocKind::ClosingApproval, &number.text, "", cx);
            }
        }
        Ok(())
    }
}
