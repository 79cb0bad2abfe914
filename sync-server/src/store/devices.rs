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

/// Revoked devices (a lost tablet) and when each device was last seen.
pub(crate) const MIGRATION_REVOKE: &str = "
    ALTER TABLE devices ADD COLUMN revoked_at INTEGER;
    ALTER TABLE devices ADD COLUMN last_seen INTEGER;
";

/// A registered device as `sync-server admin devices list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceListing {
    pub id: String,
    pub user: String,
    pub registered_at: i64,
    pub last_seen: Option<i64>,
    pub revoked_at: Option<i64>,
}

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
    /// When `device` was revoked, if it was.
    fn revoked_at(&self, device: &str) -> StoreResult<Option<i64>>;
    /// Revokes `device` at `now` (keeps the first revocation's time); false if unknown.
    fn revoke_device(&self, device: &str, now: i64) -> StoreResult<bool>;
    /// Notes that `device` was seen at `now`; writes only when the last note is a minute old.
    fn touch_device(&self, device: &str, now: i64) -> StoreResult<()>;
    /// Every registered device, by user then registration.
    fn list_devices(&self) -> StoreResult<Vec<DeviceListing>>;
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

    fn revoked_at(&self, device: &str) -> StoreResult<Option<i64>> {
        Ok(self
            .sqlite()
            .query_row(
                "SELECT revoked_at FROM devices WHERE id = ?1",
                [device],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()?
            .flatten())
    }

    fn revoke_device(&self, device: &str, now: i64) -> StoreResult<bool> {
        Ok(self.sqlite().execute(
            "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
            params![device, now],
        )? == 1)
    }

    fn touch_device(&self, device: &str, now: i64) -> StoreResult<()> {
        self.sqlite().execute(
            "UPDATE devices SET last_seen = ?2
             WHERE id = ?1 AND (last_seen IS NULL OR last_seen <= ?2 - 60)",
            params![device, now],
        )?;
        Ok(())
    }

    fn list_devices(&self) -> StoreResult<Vec<DeviceListing>> {
        let mut stmt = self.sqlite().prepare(
            "SELECT id, user_id, registered_at, last_seen, revoked_at FROM devices
             ORDER BY user_id, registered_at, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DeviceListing {
                id: r.get(0)?,
                user: r.get(1)?,
                registered_at: r.get(2)?,
                last_seen: r.get(3)?,
                revoked_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
