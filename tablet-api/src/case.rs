//! What the screens read of a penalty case (行政处罚案件, `app_core::penalty`): the case
//! list's row (the tablet store's index row, like [`crate::InspectionRow`]) and the case's
//! view, with what app-core decided for it (its deadlines, its conflicts and what a merge
//! broke). The rules stay in app-core; a refusal is an [`ApiError`] with the rule's own
//! Chinese text.

use crate::error::{ApiError, ErrorCode};
use app_core::document::Conflict;
use app_core::geo::{Day, Timestamp};
use app_core::ids::{DeviceId, EnterpriseId, InspectionId, UnitId};
use app_core::messages::Bilingual;
use app_core::penalty::{
    CaseDeadline, CaseError, CaseId, CaseStage, CaseViolation, IssuedNumber, PenaltyCase, Proposal,
};
use serde::{Deserialize, Serialize};

/// One line of the case list (the tablet store's index row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRow {
    pub id: CaseId,
    pub unit: UnitId,
    pub enterprise_id: EnterpriseId,
    pub enterprise_name: String,
    pub stage: CaseStage,
    /// The inspection record the case was opened from, if it was.
    pub source_inspection: Option<InspectionId>,
    /// When the case was opened on a tablet (立案审批表 drawn up).
    pub opened_at: Timestamp,
    /// 立案之日: the day the filing was approved (None: awaiting approval).
    pub filed_on: Option<Day>,
    /// The next deadline of the unit's that is not met yet (the decision, a preservation, the
    /// publication, the payment), if any; its state is in the case's view.
    pub deadline: Option<Day>,
    pub updated_at: Timestamp,
    pub conflicts: u32,
}

/// A recording the tablet found to add to a case (`ListRecordings`): on a body camera's card
/// or in its own recordings folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingFile {
    /// What `ImportCaseMedia` takes.
    pub path: String,
    /// The file's name, as the screen lists it.
    pub name: String,
    pub size: u64,
    /// The file's time (when the camera wrote it), if the system says.
    pub modified: Option<Timestamp>,
    /// A sound recording (else a video).
    pub audio: bool,
}

/// A text in both languages (what a merged case breaks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseText {
    pub zh: String,
    pub en: String,
}

/// A penalty case with what its screens need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseView {
    pub case: PenaltyCase,
    pub stage: CaseStage,
    /// Every deadline of the case today, each with its state
    /// (`app_core::penalty::case_deadlines` with the unit's settings).
    pub deadlines: Vec<CaseDeadline>,
    /// Where concurrent edits disagreed, and what the merged state breaks
    /// (`CaseDoc::conflicts`).
    pub conflicts: Vec<Conflict>,
    /// What the merged state breaks (`PenaltyCase::violations`), in both languages.
    pub violations: Vec<CaseText>,
    /// Changes of the case this tablet has not pushed yet.
    pub unsynced: bool,
    /// What the unit's discretion table (裁量基准) proposes for the case's 处罚依据, one per
    /// circumstance (`app_core::penalty::proposals`); empty without a table for them.
    #[serde(default)]
    pub proposals: Vec<Proposal>,
}

impl CaseView {
    /// The view of `case` with `deadlines` and `conflicts` as app-core computed them.
    pub fn new(
        case: PenaltyCase,
        deadlines: Vec<CaseDeadline>,
        conflicts: Vec<Conflict>,
        unsynced: bool,
    ) -> Self {
        let violations = case
            .violations()
            .iter()
            .map(|v: &CaseViolation| CaseText {
                zh: v.zh(),
                en: v.en(),
            })
            .collect();
        Self {
            stage: case.stage,
            case,
            deadlines,
            conflicts,
            violations,
            unsynced,
            proposals: Vec::new(),
        }
    }
}

/// The number a screen puts in a command that carries one (`CaseCommand::ApproveFiling`,
/// `AddInterview`, `Notify`, …): the tablet replaces it with a number issued from its pool
/// (文号), in the same transaction as the command's change.
pub fn unnumbered() -> IssuedNumber {
    IssuedNumber {
        text: String::new(),
        year: 0,
        seq: 0,
        device: DeviceId::new(""),
    }
}

impl From<CaseError> for ApiError {
    /// A case rule's refusal: the rule's own Chinese text (`app_core::messages`), its English
    /// `Display`, and the form field it concerns.
    fn from(e: CaseError) -> Self {
        let mut err = ApiError::new(ErrorCode::Refused, e.zh(), e.en());
        err.field = e.field().map(str::to_owned);
        err
    }
}
