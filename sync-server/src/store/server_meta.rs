//! The server's own facts kept in its database (`server_meta`): its epoch, and what a restore
//! left for the number allocator. One row per key.
//!
//! **Epoch.** A random id made when the database is created and replaced by `admin restore`
//! (see `crate::admin::backup`). Every sync answer names it (`app_core::wire::SyncResponse::
//! epoch`), so a tablet notices when the server it syncs with was put back to an older state
//! and pushes again what it may lack.

use super::{Sqlite, StoreResult};
use rusqlite::{OptionalExtension, params};

/// The `server_meta` table and the first epoch (16 random bytes, hex).
pub(crate) const MIGRATION_EPOCH: &str = "
    CREATE TABLE server_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO server_meta (key, value) VALUES ('epoch', lower(hex(randomblob(16))));
";

/// The key of the epoch.
pub const EPOCH: &str = "epoch";
/// The key of the last restore's number gap, `"<restored_at secs> <gap>"` (see
/// `crate::service::numbers`).
pub const NUMBER_RESTORE: &str = "number_restore";

/// Storage of the server's own facts.
pub trait MetaStore {
    fn meta(&self, key: &str) -> StoreResult<Option<String>>;
    fn set_meta(&self, key: &str, value: &str) -> StoreResult<()>;
    /// The server's epoch.
    fn epoch(&self) -> StoreResult<String> {
        Ok(self.meta(EPOCH)?.unwrap_or_default())
    }
}

impl<C: Sqlite> MetaStore for C {
    fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(self
            .sqlite()
            .prepare_cached("SELECT value FROM server_meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&self, key: &str, value: &str) -> StoreResult<()> {
        self.sqlite().execute(
            "INSERT INTO server_meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = ?2",
            params![key, value],
        )?;
        Ok(())
    }
}

/// A new random epoch (16 bytes, hex).
pub fn new_epoch() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the system's random source");
    app_core::evidence::hex(&bytes)
}
