//! Opening and keeping the database: what the database handle (`crate::db::Db`) needs of the
//! engine beyond the storage traits. For SQLite: the connections' settings, the migration
//! list and its runner, and the WAL checkpoint.
//!
//! **Settings.** WAL with `synchronous = FULL`: a sync is acknowledged only after its
//! transaction is on disk. Pages are kept in memory (64 MiB cache, reads through a memory
//! map). Savepoints journal in memory (`temp_store = MEMORY`): each request's write in a group
//! commit may run in one (see `crate::db`), and its undo copies would otherwise go to a
//! temporary file, a write system call per page; they live only until the group commits and
//! are never needed after a crash (the WAL is the durable journal). Checkpoints run on a
//! thread of their own ([`Engine::checkpoint`], called by `Db`), so the automatic one inside
//! commits is only a backstop at 64 MiB of log.
//!
//! **Migrations.** The SQL of each lives beside the tables it makes or changes (the store
//! modules' `MIGRATION_<n>` constants); [`MIGRATIONS`] is the one ordered, append-only list.
//! `user_version` counts the migrations applied, so an entry is never edited, moved or
//! removed; a database from a newer server is refused untouched.

use super::{StoreError, StoreResult};
use rusqlite::Connection;
use std::path::Path;

/// Every migration, in order: a migration touching several modules' tables lists their pieces,
/// run in this order in one transaction.
const MIGRATIONS: &[&[&str]] = &[
    // 1: accounts, devices, tokens, documents and their change log, blobs.
    &[
        super::accounts::MIGRATION_1,
        super::devices::MIGRATION_1,
        super::records::MIGRATION_1,
        super::blobs::MIGRATION_1,
    ],
    // 2: the console's index; plans made by draws and the draws' recorded inputs.
    &[super::console_index::MIGRATION_2, super::plans::MIGRATION_2],
    // 3: the server's case-file signing key and export jobs.
    &[super::casefiles::MIGRATION_3],
    // 4: document-number blocks.
    &[super::numbers::MIGRATION_4],
    // 5: photo references keyed for cheap writes.
    &[super::records::MIGRATION_5],
    // 6: the sign-in throttle.
    &[super::throttle::MIGRATION_6],
    // 7: the index's `violations` column.
    &[super::console_index::MIGRATION_7],
    // 8: who uploaded each blob, per device.
    &[super::blobs::MIGRATION_8],
    // admin: units, users and enterprises in the database.
    &[super::reference::MIGRATION_REFERENCE],
    // admin: revoked devices (lost tablets) and when each device was last seen.
    &[super::devices::MIGRATION_REVOKE],
    // ops: the server's epoch (and what a restore leaves for the number allocator).
    &[super::server_meta::MIGRATION_EPOCH],
    // ops: the history of the case-file signing keys.
    &[super::server_keys::MIGRATION_KEYS],
    // ops: the console's hash-chained audit log.
    &[super::audit::MIGRATION_AUDIT],
    // issue 17: checklist template versions uploaded per unit.
    &[super::reference::MIGRATION_TEMPLATES],
    // issue 14: photo references keyed by an integer (half the index pages per commit).
    &[super::records::MIGRATION_PHOTO_KEY],
    // issue 18: what an inspector's tablet pulls (its records, its plans', what it fetched).
    &[super::records::MIGRATION_PULL_SCOPE],
    // issue 18: the console at city scale (the list by unit and status, the figures' tally).
    &[
        super::console_index::MIGRATION_TALLY,
        super::console_index::TALLY_FILL,
    ],
    // issue 19: penalty cases, their inspectors and their change log.
    &[super::cases::MIGRATION_CASES],
    // issue 19: each unit's penalty settings, working-day calendar and discretion table.
    &[super::penalty_rules::MIGRATION_PENALTY_RULES],
    // issue 18: the record list's count from the tally (the records breaking a rule beside).
    &[super::console_index::MIGRATION_VIOLATING],
];

/// A database engine's connections: opened for writing (and migrated), for reading, for
/// checkpoints.
pub trait Engine: Sized {
    /// Opens (creating) the database at `path` for writing, with the settings above, and
    /// brings its schema up to date.
    fn open_writer(path: &Path) -> StoreResult<Self>;
    /// A fresh database in memory, set up and migrated like [`Engine::open_writer`].
    fn open_memory() -> StoreResult<Self>;
    /// A second, query-only connection to the database at `path` (reads the last committed
    /// state while the writer commits).
    fn open_reader(path: &Path) -> StoreResult<Self>;
    /// A connection to the database at `path` that only checkpoints.
    fn open_checkpointer(path: &Path) -> StoreResult<Self>;
    /// Copies the write-ahead log into the database file without blocking readers or writers
    /// (SQLite's passive checkpoint).
    fn checkpoint(&self) -> StoreResult<()>;
}

fn opening(path: &Path, e: rusqlite::Error) -> StoreError {
    StoreError::Database(format!("opening {}: {e}", path.display()).into())
}

/// Pages kept in memory rather than read back through the kernel on every statement (the
/// default cache is 2 MiB), and reads through a memory map; for both of the server's
/// connections.
fn use_memory_for_pages(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.pragma_update(None, "mmap_size", 1_i64 << 30)
}

/// The writing connection's settings (see the module's documentation), then the migrations.
fn set_up_writer(conn: Connection) -> StoreResult<Connection> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    use_memory_for_pages(&conn)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "wal_autocheckpoint", 16_384)?;
    migrate(&conn)?;
    Ok(conn)
}

/// Runs the migrations the database has not had yet, each in one `BEGIN IMMEDIATE`
/// transaction with its `user_version`.
fn migrate(conn: &Connection) -> StoreResult<()> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > MIGRATIONS.len() as i64 {
        return Err(StoreError::Corrupt(format!(
            "database schema {found} is newer than this server ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, pieces) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let sql = pieces.join("\n");
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))?;
    }
    Ok(())
}

impl Engine for Connection {
    fn open_writer(path: &Path) -> StoreResult<Self> {
        set_up_writer(Connection::open(path).map_err(|e| opening(path, e))?)
    }

    fn open_memory() -> StoreResult<Self> {
        set_up_writer(Connection::open_in_memory()?)
    }

    fn open_reader(path: &Path) -> StoreResult<Self> {
        let reader = Connection::open(path).map_err(|e| opening(path, e))?;
        use_memory_for_pages(&reader)?;
        reader.pragma_update(None, "query_only", true)?;
        Ok(reader)
    }

    fn open_checkpointer(path: &Path) -> StoreResult<Self> {
        Connection::open(path).map_err(|e| opening(path, e))
    }

    fn checkpoint(&self) -> StoreResult<()> {
        self.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        })?;
        Ok(())
    }
}
