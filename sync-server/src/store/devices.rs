//! Registered tablets (`devices`): which user a device belongs to, its Ed25519 public key and
//! when it was registered.

use super::{Sqlite, StoreResult};
use rusqlite::{OptionalExtension, params};

/// Migration 1 (with accounts, tokens, the records' tables and `blobs`):
/// registered devices.
pub(crate) const MIGRATION_1: &str = "
    CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        public_key BLOB NOT NULL,
        registered_at INTEGER NOT NULL
    );
";

/// A registered device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub id: String,
    pub user: String,
    pub public_key: Vec<u8>,
}

/// Storage of registered devices.
pub trait DeviceStore {
    /// When `device` was registered (seconds since the Unix epoch), if it is.
    fn registered_at(&self, device: &str) -> StoreResult<Option<i64>>;
    /// The registered device `id`.
    fn device(&self, id: &str) -> StoreResult<Option<DeviceRow>>;
    /// Registers a device at `now` (seconds).
    fn insert_device(&self, device: &DeviceRow, now: i64) -> StoreResult<()>;
}

impl<C: Sqlite> DeviceStore for C {
    fn registered_at(&self, device: &str) -> StoreResult<Option<i64>> {
        Ok(self
            .sqlite()
            .query_row(
                "SELECT registered_at FROM devices WHERE id = ?1",
                [device],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn device(&self, id: &str) -> StoreResult<Option<DeviceRow>> {
        Ok(self
            .sqlite()
            .query_row(
                "SELECT user_id, public_key FROM devices WHERE id = ?1",
                [id],
                |r| {
                    Ok(DeviceRow {
                        id: id.to_owned(),
                        user: r.get(0)?,
                        public_key: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    fn insert_device(&self, device: &DeviceRow, now: i64) -> StoreResult<()> {
        self.sqlite().execute(
            "INSERT INTO devices (id, user_id, public_key, registered_at) VALUES (?1, ?2, ?3, ?4)",
            params![device.id, device.user, device.public_key, now],
        )?;
        Ok(())
    }
}
