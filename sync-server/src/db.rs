//! The server's embedded SQLite database: one connection behind a mutex, used from blocking
//! tasks. WAL with `synchronous = FULL`: a sync is acknowledged only after its transaction
//! is on disk.

use anyhow::Context;
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};

const MIGRATIONS: &[&str] = &[
    // 1: accounts, devices, tokens, documents and their change log, blobs.
    "
    CREATE TABLE accounts (
        user_id TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL
    );
    CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        public_key BLOB NOT NULL,
        registered_at INTEGER NOT NULL
    );
    CREATE TABLE tokens (
        token_hash BLOB PRIMARY KEY,
        user_id TEXT NOT NULL,
        device_id TEXT,
        expires_at INTEGER NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE docs (
        id TEXT PRIMARY KEY,
        unit TEXT NOT NULL,
        plan TEXT,
        status TEXT NOT NULL,
        snapshot BLOB NOT NULL,
        heads TEXT NOT NULL
    );
    CREATE TABLE doc_inspectors (
        doc_id TEXT NOT NULL REFERENCES docs(id),
        user_id TEXT NOT NULL,
        PRIMARY KEY (doc_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX doc_inspectors_by_user ON doc_inspectors (user_id);
    -- The global change log: seq is every device's cursor.
    CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_id TEXT NOT NULL REFERENCES docs(id),
        origin_device TEXT NOT NULL,
        bytes BLOB NOT NULL
    );
    CREATE INDEX changes_by_doc ON changes (doc_id, seq);
    CREATE TABLE doc_photos (
        doc_id TEXT NOT NULL REFERENCES docs(id),
        sha256 TEXT NOT NULL,
        PRIMARY KEY (sha256, doc_id)
    ) WITHOUT ROWID;
    CREATE TABLE blobs (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        uploaded_by TEXT NOT NULL
    ) WITHOUT ROWID;
    ",
];

#[derive(Debug, Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
        Self::init(conn)
    }

    pub fn open_in_memory() -> anyhow::Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> anyhow::Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        anyhow::ensure!(
            found <= MIGRATIONS.len() as i64,
            "database schema {found} is newer than this server ({})",
            MIGRATIONS.len()
        );
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {}; COMMIT;",
                i + 1
            ))?;
        }
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on a blocking thread.
    pub async fn call<T, E>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static + From<anyhow::Error>,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| E::from(anyhow::anyhow!("database task failed: {e}")))?
    }
}
