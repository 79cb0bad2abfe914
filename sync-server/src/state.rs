//! What every handler shares: the database, the reference data, the clock and settings.

use crate::db::Db;
use crate::reference::LiveReference;
use app_core::user::User;
use std::path::PathBuf;
use std::sync::Arc;

/// Seconds since the Unix epoch; injectable so tests can move time (token expiry).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// The latest reference data when this state was cloned (one snapshot per request; see
    /// `LiveReference`).
    pub reference: LiveReference,
    /// The data folder (database, keys, case-file exports).
    pub data: PathBuf,
    /// The content-addressed photo blobs: a local folder or S3-compatible object storage.
    pub blobs: crate::blobstore::Blobs,
    pub token_ttl_secs: i64,
    pub clock: Clock,
    /// Completed photo uploads remembered in memory (see `service::photos::KnownUploads`).
    pub known_uploads: Arc<crate::service::photos::KnownUploads>,
    /// Photo EXIF and record facts kept for the evidence-plausibility badges.
    pub plausibility: Arc<crate::service::plausibility::PlausibilityCache>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("data", &self.data)
            .field("blobs", &self.blobs.describe())
            .finish_non_exhaustive()
    }
}

pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    })
}

impl AppState {
    pub fn now(&self) -> i64 {
        (self.clock)()
    }

    pub fn user(&self, id: &str) -> Option<User> {
        self.reference.user(id)
    }
}
