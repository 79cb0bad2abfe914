//! What the home and record screens read.

use crate::sync::SyncStatus;
use app_core::checklist::ChecklistTemplate;
use app_core::docnumber::{Block, DocumentKind};
use app_core::enterprise::Enterprise;
use app_core::geo::Timestamp;
use app_core::ids::{InspectionId, UnitId, UserId};
use app_core::inspection::{Inspection, InspectionStatus};
use app_core::kind::InspectionKind;
use app_core::plan::Plan;
use app_core::settings::SuggestedDeadlines;
use app_core::signing::SignOffer;
use app_core::user::User;
use serde::{Deserialize, Serialize};

/// Who is signed in on this tablet (nobody before the first sign-in) and which server it
/// syncs with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppStatus {
    pub user: Option<User>,
    pub server: String,
}

/// A plan on the home screen, with the enterprise's name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    pub plan: Plan,
    pub enterprise: Option<Enterprise>,
    /// The inspection made for this plan on this tablet, if one was started (the home
    /// screen shows 检查中 / 已检查 and opens it instead of offering 开始检查).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspection: Option<PlanInspection>,
}

/// The record started for a plan, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInspection {
    pub id: InspectionId,
    pub status: InspectionStatus,
}

/// One line of the inspection list (the tablet store's index row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionRow {
    pub id: InspectionId,
    pub kind: InspectionKind,
    pub status: InspectionStatus,
    pub enterprise_name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub open_hazards: u32,
    pub conflicts: u32,
}

/// An open hazard and when it is due, for the home screen (the tablet store's index row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HazardRow {
    pub inspection_id: InspectionId,
    pub hazard_id: String,
    pub level: String,
    pub stage: String,
    pub deadline: Option<String>,
    pub reported_on: Option<String>,
}

/// A record a supervisor returned (退回), with who returned it and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnedView {
    pub id: InspectionId,
    pub enterprise_name: String,
    pub comment: String,
    pub by: UserId,
}

/// An open hazard due within the coming month (or overdue), with what the list shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HazardDue {
    pub row: HazardRow,
    pub enterprise_name: String,
    pub description: String,
}

/// The home screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Home {
    pub user: User,
    pub plans: Vec<PlanView>,
    pub records: Vec<InspectionRow>,
    pub returned: Vec<ReturnedView>,
    pub hazards: Vec<HazardDue>,
    pub sync: SyncStatus,
}

/// A signed version of a record and what changed since (amendments).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedView {
    pub id: String,
    pub at: Timestamp,
    pub content_hash: String,
    pub verified: bool,
    /// Paths changed since signing (amendments).
    pub amendments: Vec<String>,
}

/// A record with what its screens need: the template's applicable categories, the signed
/// versions with their amendments, and what the rules decide for its forms (the tablet
/// computes these with app-core; the screens only show them). Answered when a screen opens
/// a record; edits answer a [`crate::RecordChange`], which [`RecordView::apply`] applies.
/// Photos are not inside: the screens load thumbnails by URL ([`crate::thumb_url`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordView {
    pub record: Inspection,
    pub template: ChecklistTemplate,
    pub signed: Vec<SignedView>,
    /// The record's revision (see [`crate::RecordChange`]).
    pub revision: crate::Revision,
    /// What the signing section offers: complete and sign, submit, and what still blocks the
    /// signing (`app_core::signing::sign_offer`).
    pub signing: SignOffer,
    /// The documents whose numbers (文号) the next signing issues
    /// (`app_core::signing::documents_to_number`), and how many numbers of each series the
    /// inspector needs this tablet holds.
    pub to_number: Vec<DocumentKind>,
    pub numbers: Vec<Stock>,
    /// Those of `to_number` this tablet holds no number for: the signing would ask to sync
    /// first (`app_core::docnumber::missing_series`).
    pub numbers_missing: Vec<DocumentKind>,
    /// The rectification deadline a hazard registered today is prefilled with, per level (the
    /// unit's settings, `UnitSettings::suggested_deadlines`).
    pub deadlines: SuggestedDeadlines,
}

/// How many document numbers (文号) of one series the tablet holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stock {
    pub unit: UnitId,
    pub kind: DocumentKind,
    pub year: i32,
    pub remaining: u32,
}

/// The last reservation of numbers from the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopUpOutcome {
    pub at: Timestamp,
    /// Blocks received (empty when nothing ran low).
    pub received: Vec<Block>,
    /// Why it failed, in Chinese and English.
    pub error_zh: Option<String>,
    pub error_en: Option<String>,
}

/// The tablet's document numbers (文号): the stock per series and the last top-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumbersView {
    pub stock: Vec<Stock>,
    pub last_top_up: Option<TopUpOutcome>,
}

/// One document as the next signing would sign it (`app_core::paper`, the model the PDF
/// prints), shown full screen before any signature pad opens, with what a signature records
/// of it once the signer confirmed 已阅读.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentPreview {
    pub paper: app_core::paper::Paper,
    pub read: app_core::inspection::ReadDocument,
}

/// One file of the enterprise's copy, written to the export folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyFile {
    pub name: String,
    pub path: String,
    pub sha256: app_core::evidence::Sha256Hex,
    pub bytes: u64,
}

/// The enterprise's copy of a signed record: the PDFs written for sharing, and the QR code
/// (SVG) carrying the record, the signed version and each file's SHA-256 (`payload`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterpriseCopy {
    pub version: String,
    pub files: Vec<CopyFile>,
    pub payload: String,
    pub qr_svg: String,
    /// What the documents print differently from the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<crate::DocumentNotice>,
}
