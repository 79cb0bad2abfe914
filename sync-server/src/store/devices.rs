//! Registered tablets (`devices`): which user a device belongs to, its Ed25519 public key and
//! when it was registered.

use super::StoreResult;
use rusqlite::{Connection, OptionalExtension};

/// Storage of registered devices.
pub trait DeviceStore {
    /// When `device` was registered (seconds since the Unix epoch), if it is.
    fn registered_at(&self, device: &str) -> StoreResult<Option<i64>>;
    /// The registered Ed25519 public key of `device`.
    fn device_key(&self, device: &str) -> StoreResult<Option<Vec<u8>>>;
}

impl DeviceStore for Connection {
    fn registered_at(&self, device: &str) -> StoreResult<Option<i64>> {
        Ok(self
            .prepare_cached("SELECT registered_at FROM devices WHERE id = ?1")?
            .query_row([device], |r| r.get(0))
            .optional()?)
    }

    fn device_key(&self, device: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .prepare_cached("SELECT public_key FROM devices WHERE id = ?1")?
            .query_row([device], |r| r.get(0))
            .optional()?)
    }
}
