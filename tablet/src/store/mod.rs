//! The tablet's local store: every inspection's Automerge document in SQLite, the index
//! tables the list views read, and the reference data the server sends, so that a whole
//! inspection can be done with no network at all.
//!
//! Durability: one write connection in WAL mode with `synchronous = FULL`. Every save is one
//! SQLite transaction holding the new Automerge change *and* the index rows derived from the
//! record, so the lists never disagree with the records, and a crash (or `kill -9`, or a
//! flat battery) loses at most the save that was in flight — never a committed one. See
//! docs/ARCHITECTURE.md for why FULL rather than NORMAL.

mod cases;
mod migrations;
mod numbers;
pub(crate) mod photos;
mod records;
mod reference;
mod sync_state;
mod uploads;

pub use cases::{CaseNumbering, CaseRow, CaseRules, PendingCase};
pub use photos::PhotoTarget;
pub use records::{HazardRow, InspectionRow, ListFilter};
pub use reference::ReferenceKind;
pub use sync_state::{Pending, PendingPush};

use app_core::docnumber::NumberError;
use app_core::document::{DocError, InspectionDoc};
use app_core::ids::{DeviceId, InspectionId};
use rusqlite::{Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Doc(#[from] DocError),
    #[error("no inspection {0} in this store")]
    NotFound(InspectionId),
    #[error("inspection {0} already exists")]
    Exists(InspectionId),
    #[error("no penalty case {0} in this store")]
    CaseNotFound(app_core::penalty::CaseId),
    #[error("penalty case {0} already exists")]
    CaseExists(app_core::penalty::CaseId),
    /// A case's rules refused the command; nothing was written.
    #[error(transparent)]
    CaseRefused(app_core::penalty::CaseError),
    /// The device's pool of document numbers refused: none left in a series (sync to reserve
    /// more), or a block from the server that is not this device's or overlaps one it holds.
    #[error(transparent)]
    Number(#[from] NumberError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error(
        "database schema version {found} is newer than this app understands ({supported}); update the app"
    )]
    SchemaTooNew { found: i64, supported: i64 },
}

impl StoreError {
    /// Whether the error is a broken rule or bad input (show it to the user) rather than a
    /// storage failure (retry or report).
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            StoreError::Doc(DocError::Record(_))
                | StoreError::NotFound(_)
                | StoreError::Exists(_)
                | StoreError::CaseNotFound(_)
                | StoreError::CaseExists(_)
                | StoreError::CaseRefused(_)
        )
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How many incremental changes a document may collect before [`Store::compact_due`] (run
/// when the app is idle) folds them into a new snapshot.
pub const COMPACT_AFTER: i64 = 64;

/// Past this many pending changes a save compacts inline, in its own transaction, so the
/// change list stays bounded even if the app never idles.
pub const COMPACT_HARD_LIMIT: i64 = 1024;

/// Documents kept decoded in memory; beyond this the cache is cleared.
const CACHE_LIMIT: usize = 32;

#[derive(Debug)]
pub struct Store {
    conn: Connection,
    device: DeviceId,
    cache: HashMap<InspectionId, InspectionDoc>,
}

impl Store {
    /// Opens (creating and migrating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        Self::init(Connection::open(path)?)
    }

    /// A store that lives in memory only (tests).
    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self> {
        // WAL lets readers and the writer work at once and makes a commit one sequential
        // append; FULL syncs the WAL on every commit so a committed save survives power loss.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Savepoints journal in memory, as on the server (`sync-server`'s `store::engine`): a
        // pulled page is one savepoint with one nested per new record, and SQLite's statement
        // journal otherwise spills to a temporary file past 64 KiB, one write per page a
        // record touches (a twentieth of a simulated tablet's CPU in the sync benchmark).
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations::migrate(&conn)?;
        let device = device_id(&conn)?;
        Ok(Self {
            conn,
            device,
            cache: HashMap::new(),
        })
    }

    /// This tablet's device id (also its Automerge actor).
    pub fn device(&self) -> &DeviceId {
        &self.device
    }

    /// Wipes the local copy of a revoked tablet (see `crate::sync::settle_revocation`): every
    /// row of every table — records, reference data, photos' index, number pool, the session
    /// and the device's signing key — in one transaction with freed pages zeroed, then the file
    /// is rewritten (`VACUUM`) and the log truncated, so the data is gone from disk too. Only
    /// the device id stays, with the time of the wipe (`device_revoked_wiped_at`), so the app
    /// can say why it is empty and the server keeps refusing the device.
    pub fn wipe_revoked(&mut self, at: app_core::geo::Timestamp) -> Result<()> {
        self.cache.clear();
        self.conn.pragma_update(None, "secure_delete", true)?;
        let tx = self.conn.transaction()?;
        tx.pragma_update(None, "defer_foreign_keys", true)?;
        let tables: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        for table in &tables {
            tx.execute(
                &format!("DELETE FROM \"{}\"", table.replace('"', "\"\"")),
                [],
            )?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('device_id', ?1), ('device_revoked_wiped_at', ?2)",
            rusqlite::params![self.device.as_str(), at.0.to_string()],
        )?;
        tx.commit()?;
        self.conn
            .execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }

    /// When this tablet wiped itself after being revoked, if it did.
    pub fn wiped_revoked_at(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'device_revoked_wiped_at'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .and_then(|v| v.parse().ok()))
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// The raw connection, for benchmarks that measure bare SQLite beside the store.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// The bytes of the changes an edit made to a document (a record's or a case's). A local
/// edit makes exactly one change, taken directly (cheap); anything else (a merge) falls back
/// to everything after `before`.
pub(crate) fn new_change_bytes(
    am: &mut automerge::AutoCommit,
    before: &[automerge::ChangeHash],
) -> Vec<u8> {
    if let Some(change) = am.get_last_local_change()
        && change.deps() == before
        && am.get_heads() == [change.hash()]
    {
        return change.raw_bytes().to_vec();
    }
    am.save_after(before)
}

impl Store {
    /// Runs `page` in one savepoint named `name` (a pulled page of records or cases and the
    /// cursor after it): all of it is kept, or, on an error, nothing of it.
    pub(crate) fn in_savepoint(
        &mut self,
        name: &str,
        page: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        self.conn.execute_batch(&format!("SAVEPOINT {name}"))?;
        match page(self) {
            Ok(()) => {
                self.conn.execute_batch(&format!("RELEASE {name}"))?;
                Ok(())
            }
            Err(e) => {
                let _ = self
                    .conn
                    .execute_batch(&format!("ROLLBACK TO {name}; RELEASE {name}"));
                Err(e)
            }
        }
    }
}

/// The device id is created once, at the first open, and kept in the database.
fn device_id(conn: &Connection) -> Result<DeviceId> {
    let existing: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(id) = existing {
        return Ok(DeviceId::new(id));
    }
    let id = format!("tablet-{}", uuid::Uuid::new_v4());
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('device_id', ?1)",
        [&id],
    )?;
    Ok(DeviceId::new(id))
}
