//! What the sync indicator and the sync screen read: the tablet's sync client publishes its
//! state in these very types (`tablet::sync` uses them, no conversion), so the screens read
//! what the client reports.

use crate::error::ApiError;
use crate::views::Stock;
use app_core::evidence::Sha256Hex;
use app_core::geo::Timestamp;
use serde::{Deserialize, Serialize};

/// Records waiting to be pushed, and their size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub records: u32,
    pub bytes: u64,
}

/// What the background sync is doing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncState {
    #[default]
    Idle,
    Syncing,
    /// The last attempt failed; the next is scheduled after a back-off.
    Waiting {
        error: String,
        retry_in_secs: u64,
    },
    Done(SyncReport),
}

/// What one sync of the records did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub pushed: u32,
    pub accepted: u32,
    pub rejected: Vec<Rejected>,
    pub pulled: u32,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub round_trips: u32,
    /// The server said this tablet was revoked (a lost tablet): what it pushed was stored,
    /// nothing was pulled; `Wiped` once the tablet held nothing more and wiped itself.
    #[serde(default)]
    pub revoked: Option<app_core::messages::DeviceRevoked>,
}

/// A record the server refused at sync (it stays pending on the tablet): the sync message's
/// own rejection (id, the server's stable code, message).
pub use app_core::wire::Rejection as Rejected;

/// The sync indicator: the background sync's state, what waits, the photo upload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub state: SyncState,
    pub pending: Pending,
    /// Photo originals the server does not hold yet, and the running upload's progress.
    pub photos_pending: u32,
    pub upload: Option<UploadProgress>,
    /// What the last photo upload run did.
    pub last_upload: Option<UploadReport>,
    /// This tablet was revoked by the administrator (what the sync indicator then says).
    #[serde(default)]
    pub revoked: Option<app_core::messages::DeviceRevoked>,
}

/// A running photo upload's progress (what the upload indicator shows; the tablet's upload
/// client reports it after every chunk and every photo).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadProgress {
    /// Photos this run is uploading (on this tablet, not yet known to be on the server).
    pub photos_total: u32,
    pub photos_done: u32,
    pub photos_pending: u32,
    /// Size of those photos, and how much of it the server has confirmed (including bytes
    /// it already had from an earlier, interrupted run).
    pub bytes_total: u64,
    pub bytes_done: u64,
    /// Bytes of photo data this run put on the wire (chunks cut mid-way count whole).
    pub bytes_sent: u64,
    pub current: Option<Sha256Hex>,
}

/// One photo that could not be uploaded (it stays pending).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadFailure {
    pub sha256: Sha256Hex,
    pub error: String,
}

/// What one photo upload run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadReport {
    /// Photos whose upload this run completed.
    pub uploaded: u32,
    /// Photos the server already held: nothing was sent for them.
    pub already_held: u32,
    /// Photos the records refer to that are not on this tablet (made elsewhere).
    pub not_on_tablet: u32,
    pub failed: Vec<UploadFailure>,
    /// Bytes of photo data put on the wire (chunks cut mid-way count whole).
    pub bytes_sent: u64,
    /// Bytes the server had from an earlier attempt and that were therefore not sent.
    pub bytes_resumed: u64,
    pub requests: u32,
    /// Attempts started again after an error.
    pub retries: u32,
}

/// What a sync started from the sync screen did: records, photos, document numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncOutcome {
    pub report: SyncReport,
    pub uploads: UploadReport,
    pub numbers: NumbersAfterSync,
    pub at: Timestamp,
}

/// The document numbers (文号) after a sync: blocks received, why a reservation failed, the
/// stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumbersAfterSync {
    pub received: usize,
    pub error: Option<ApiError>,
    pub stock: Vec<Stock>,
}
