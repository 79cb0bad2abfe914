//! Bookkeeping of photo blobs: which blobs the server holds (`blobs`: digest, size, first
//! uploader) and which devices uploaded each (`blob_uploaders`). The bytes themselves are
//! files in a content-addressed folder (`crate::blobs`); a row is written only after its file
//! is durable.

use super::{Sqlite, StoreResult};
use rusqlite::{OptionalExtension, params};
use std::collections::HashSet;

/// Migration 1 (with accounts, tokens, devices and the records' tables): the
/// blobs the server holds.
pub(crate) const MIGRATION_1: &str = "
    CREATE TABLE blobs (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        uploaded_by TEXT NOT NULL
    ) WITHOUT ROWID;
";

/// Migration 8: who uploaded each blob, per device (`blobs.rs`): a device may name a photo in a record
/// it pushes if it uploaded it (sent every byte, hash-checked), or if its user may read a
/// record that already names it; blob status and downloads follow the same rule. Blobs
/// stored before were credited to a user only: every device of that user counts as one of
/// their uploaders.
pub(crate) const MIGRATION_8: &str = "
    CREATE TABLE blob_uploaders (
        sha256 TEXT NOT NULL,
        device_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        uploaded_at INTEGER NOT NULL,
        PRIMARY KEY (sha256, device_id)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO blob_uploaders (sha256, device_id, user_id, uploaded_at)
        SELECT b.sha256, d.id, b.uploaded_by, 0 FROM blobs b JOIN devices d ON d.user_id = b.uploaded_by;
";

/// Storage of blob rows.
pub trait BlobStore {
    /// The size of blob `sha` if the server holds it.
    fn held_size(&self, sha: &str) -> StoreResult<Option<u64>>;
    /// Whether `device` completed an upload of `sha` (one primary-key lookup).
    fn is_uploader(&self, sha: &str, device: &str) -> StoreResult<bool>;
    /// Which of `digests` `device` uploaded (one query).
    fn uploaded_by(&self, device: &str, digests: &[&str]) -> StoreResult<HashSet<String>>;
    /// Records a completed, verified upload: the blob row (if new) and the device's uploader
    /// row (if new).
    fn record_upload(&self, upload: &Upload<'_>) -> StoreResult<()>;
}

/// A completed, verified upload of blob `sha` (`size` bytes) by `user` on `device` at `at`
/// (seconds).
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub sha: &'a str,
    pub size: u64,
    pub user: &'a str,
    pub device: &'a str,
    pub at: i64,
}

impl<C: Sqlite> BlobStore for C {
    fn held_size(&self, sha: &str) -> StoreResult<Option<u64>> {
        Ok(self
            .sqlite()
            .prepare_cached("SELECT size FROM blobs WHERE sha256 = ?1")?
            .query_row([sha], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|s| s as u64))
    }

    fn is_uploader(&self, sha: &str, device: &str) -> StoreResult<bool> {
        Ok(self
            .sqlite()
            .prepare_cached("SELECT 1 FROM blob_uploaders WHERE sha256 = ?1 AND device_id = ?2")?
            .exists([sha, device])?)
    }

    fn uploaded_by(&self, device: &str, digests: &[&str]) -> StoreResult<HashSet<String>> {
        let list = serde_json::to_string(digests).expect("strings serialise");
        Ok(self
            .sqlite()
            .prepare_cached(
                "SELECT sha256 FROM blob_uploaders
                 WHERE device_id = ?1 AND sha256 IN (SELECT value FROM json_each(?2))",
            )?
            .query_map(params![device, list], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn record_upload(&self, upload: &Upload<'_>) -> StoreResult<()> {
        let Upload {
            sha,
            size,
            user,
            device,
            at,
        } = *upload;
        self.sqlite().execute(
            "INSERT OR IGNORE INTO blobs (sha256, size, uploaded_by) VALUES (?1, ?2, ?3)",
            params![sha, size as i64, user],
        )?;
        self.sqlite().execute(
            "INSERT OR IGNORE INTO blob_uploaders (sha256, device_id, user_id, uploaded_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![sha, device, user, at],
        )?;
        Ok(())
    }
}
