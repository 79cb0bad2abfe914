//! Photos and case-file exports: what the screens send with a photo's bytes, and what they
//! read back.

use crate::error::ApiError;
use app_core::evidence::Sha256Hex;
use app_core::geo::Timestamp;
use app_core::ids::{HazardId, InspectionId, ItemCode};
use serde::{Deserialize, Serialize};

/// What an incoming photo is linked to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoLink {
    /// A checklist item's evidence.
    Item(ItemCode),
    /// A hazard's evidence.
    Hazard(HazardId),
    /// Kept loose for a command that links it later (entrance photo, re-inspection photo,
    /// signature image).
    Loose,
}

/// Where an incoming photo goes (sent beside the photo's raw bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoArgs {
    pub id: InspectionId,
    pub link: PhotoLink,
}

/// An ingested photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoAnswer {
    pub sha256: Sha256Hex,
    /// Where the thumbnail is served ([`crate::thumb_url`]).
    pub thumb: String,
    /// Where the photo says it was taken (EXIF GPS), if it says.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Set (in Chinese) when the photo is kept as evidence but cannot be displayed (its data
    /// is truncated or corrupt): the thumbnail is then a placeholder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// What linking the photo changed in the record (none for a loose photo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<crate::RecordChange>,
}

/// Where a case-file export stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportState {
    Running,
    Done,
    Failed,
}

/// A document that was made but prints something differently from the record (a character
/// no font has, printed as `[U+2EBF0]`; the record keeps it): the export or the copy
/// succeeded, and the screen shows this beside it (texts from `app_core::messages`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentNotice {
    /// The document's file name (e.g. `现场检查记录.pdf`).
    pub file: String,
    pub zh: String,
    pub en: String,
}

/// A case-file (电子案卷) export, as the record screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportStatus {
    pub id: InspectionId,
    /// The signed version exported.
    pub signed_version: String,
    pub state: ExportState,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// Bytes of content written so far, of all (a progress bar's numbers).
    pub bytes_done: u64,
    pub bytes_total: u64,
    /// Files begun so far, and the one being written.
    pub files_done: u32,
    pub current: String,
    /// The case file's full path (it exists only once `state` is `done`) and its name.
    pub path: String,
    pub file_name: String,
    /// Fingerprint of this device's signing key, which signs the manifest.
    pub fingerprint: String,
    /// When done: the file's size, SHA-256, how many files and original photos it holds.
    pub size: Option<u64>,
    pub sha256: Option<Sha256Hex>,
    pub files: Option<usize>,
    pub photos: Option<usize>,
    /// When failed: why, in Chinese and English. No file is left behind.
    pub error: Option<ApiError>,
    /// When done: what its documents print differently from the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<DocumentNotice>,
}

impl ExportStatus {
    pub fn running(&self) -> bool {
        self.state == ExportState::Running
    }

    /// Whole percent done (0 before the size is known).
    pub fn percent(&self) -> u64 {
        (self.bytes_done.min(self.bytes_total) * 100)
            .checked_div(self.bytes_total)
            .unwrap_or(0)
    }
}
