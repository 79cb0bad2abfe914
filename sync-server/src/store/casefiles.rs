//! Case files made in the console: the server's own Ed25519 signing key (`server_key`, one
//! row) and the export jobs (`casefile_exports`: who asked, progress, outcome), so that every
//! instance on the same database signs alike and can show any export's progress.

use super::{Sqlite, StoreResult};
use rusqlite::{OptionalExtension, params};

/// Migration 3: case files (电子案卷) made in the console (`console/casefile.rs`): the server's own
/// Ed25519 signing key, one row shared by every instance on this database, made on first
/// use; and export jobs with their progress, readable by any instance (the file itself is
/// written under the data folder's `exports/`).
pub(crate) const MIGRATION_3: &str = "
    CREATE TABLE server_key (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        secret BLOB NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE casefile_exports (
        id TEXT PRIMARY KEY,
        record_id TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        requested_at INTEGER NOT NULL,
        -- running, done or failed
        state TEXT NOT NULL,
        bytes_done INTEGER NOT NULL DEFAULT 0,
        bytes_total INTEGER NOT NULL DEFAULT 0,
        current TEXT NOT NULL DEFAULT '',
        -- the worker's heartbeat: a running job not updated for long died with its instance
        updated_at INTEGER NOT NULL,
        signed_version TEXT,
        size INTEGER,
        manifest_sha256 TEXT,
        error_zh TEXT,
        error_en TEXT
    );
    CREATE INDEX casefile_exports_by_record ON casefile_exports (record_id, requested_at);
";

/// A running export not updated for this long died with its server instance.
pub const STALLED_SECS: i64 = 120;

/// One export, as stored.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub record_id: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub state: JobState,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub current: String,
    pub signed_version: Option<String>,
    pub size: Option<u64>,
    pub manifest_sha256: Option<String>,
    pub error_zh: Option<String>,
    pub error_en: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Running,
    Done,
    Failed,
    /// Still marked running, but its worker stopped updating it (its instance died).
    Stalled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Stalled => "stalled",
        }
    }
}

/// How a finished export ended.
#[derive(Debug, Clone, Copy)]
pub enum JobOutcome<'a> {
    Done {
        signed_version: &'a str,
        size: u64,
        manifest_sha256: &'a str,
    },
    Failed {
        error_zh: &'a str,
        error_en: &'a str,
    },
}

/// A registered device's key, as the verifier trusts it: (device, user, public key bytes).
pub type DeviceKeyRow = (String, String, Vec<u8>);

/// Storage of the server key and export jobs.
pub trait CaseFileStore {
    /// The server's key (32 secret bytes), if made.
    fn server_secret(&self) -> StoreResult<Option<Vec<u8>>>;
    /// Stores the server's key unless one exists (the first insert wins).
    fn insert_server_secret(&self, secret: &[u8], now: i64) -> StoreResult<()>;
    /// Replaces the server's key (a rotation; the history is `store::server_keys`).
    fn replace_server_secret(&self, secret: &[u8], now: i64) -> StoreResult<()>;
    /// Every registered device's key, by device id.
    fn device_keys(&self) -> StoreResult<Vec<DeviceKeyRow>>;
    /// Starts a job (running, no progress yet).
    fn insert_job(&self, id: &str, record: &str, user: &str, now: i64) -> StoreResult<()>;
    /// Job `id` as of `now` (a running job not updated for [`STALLED_SECS`] is stalled).
    fn job(&self, id: &str, now: i64) -> StoreResult<Option<Job>>;
    /// The latest five exports of a record, newest first.
    fn recent_jobs(&self, record: &str, now: i64) -> StoreResult<Vec<Job>>;
    /// A running job's progress.
    fn job_progress(
        &self,
        id: &str,
        bytes_done: u64,
        bytes_total: u64,
        current: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// A job's end.
    fn finish_job(&self, id: &str, outcome: JobOutcome<'_>, now: i64) -> StoreResult<()>;
}

pub(crate) const JOB_COLUMNS: &str = "id, record_id, requested_by, requested_at, state, bytes_done, \
     bytes_total, current, updated_at, signed_version, size, manifest_sha256, error_zh, error_en";

/// A job's state as of `now`, from its stored state and heartbeat.
pub fn job_state(stored: &str, updated_at: i64, now: i64) -> JobState {
    match stored {
        "done" => JobState::Done,
        "failed" => JobState::Failed,
        _ if now - updated_at > STALLED_SECS => JobState::Stalled,
        _ => JobState::Running,
    }
}

fn job_from_row(r: &rusqlite::Row<'_>, now: i64) -> rusqlite::Result<Job> {
    let state: String = r.get(4)?;
    let state = job_state(&state, r.get(8)?, now);
    Ok(Job {
        id: r.get(0)?,
        record_id: r.get(1)?,
        requested_by: r.get(2)?,
        requested_at: r.get(3)?,
        state,
        bytes_done: r.get::<_, i64>(5)?.max(0) as u64,
        bytes_total: r.get::<_, i64>(6)?.max(0) as u64,
        current: r.get(7)?,
        signed_version: r.get(9)?,
        size: r.get::<_, Option<i64>>(10)?.map(|s| s.max(0) as u64),
        manifest_sha256: r.get(11)?,
        error_zh: r.get(12)?,
        error_en: r.get(13)?,
    })
}

impl<C: Sqlite> CaseFileStore for C {
    fn server_secret(&self) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .sqlite()
            .query_row("SELECT secret FROM server_key WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn insert_server_secret(&self, secret: &[u8], now: i64) -> StoreResult<()> {
        self.sqlite().execute(
            "INSERT OR IGNORE INTO server_key (id, secret, created_at) VALUES (1, ?1, ?2)",
            params![secret, now],
        )?;
        Ok(())
    }

    fn replace_server_secret(&self, secret: &[u8], now: i64) -> StoreResult<()> {
        self.sqlite().execute(
            "INSERT INTO server_key (id, secret, created_at) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET secret = ?1, created_at = ?2",
            params![secret, now],
        )?;
        Ok(())
    }

    fn device_keys(&self) -> StoreResult<Vec<DeviceKeyRow>> {
        Ok(self
            .sqlite()
            .prepare("SELECT id, user_id, public_key FROM devices ORDER BY id")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn insert_job(&self, id: &str, record: &str, user: &str, now: i64) -> StoreResult<()> {
        self.sqlite().execute(
            "INSERT INTO casefile_exports (id, record_id, requested_by, requested_at, state, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'running', ?4)",
            params![id, record, user, now],
        )?;
        Ok(())
    }

    fn job(&self, id: &str, now: i64) -> StoreResult<Option<Job>> {
        Ok(self
            .sqlite()
            .prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM casefile_exports WHERE id = ?1"
            ))?
            .query_row([id], |r| job_from_row(r, now))
            .optional()?)
    }

    fn recent_jobs(&self, record: &str, now: i64) -> StoreResult<Vec<Job>> {
        Ok(self
            .sqlite()
            .prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM casefile_exports WHERE record_id = ?1
                 ORDER BY requested_at DESC, id DESC LIMIT 5"
            ))?
            .query_map([record], |r| job_from_row(r, now))?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn job_progress(
        &self,
        id: &str,
        bytes_done: u64,
        bytes_total: u64,
        current: &str,
        now: i64,
    ) -> StoreResult<()> {
        self.sqlite().execute(
            "UPDATE casefile_exports SET bytes_done = ?2, bytes_total = ?3, current = ?4,
             updated_at = ?5 WHERE id = ?1 AND state = 'running'",
            params![id, bytes_done as i64, bytes_total as i64, current, now],
        )?;
        Ok(())
    }

    fn finish_job(&self, id: &str, outcome: JobOutcome<'_>, now: i64) -> StoreResult<()> {
        match outcome {
            JobOutcome::Done {
                signed_version,
                size,
                manifest_sha256,
            } => self.sqlite().execute(
                "UPDATE casefile_exports SET state = 'done', bytes_done = bytes_total, current = '',
                 updated_at = ?2, signed_version = ?3, size = ?4, manifest_sha256 = ?5 WHERE id = ?1",
                params![id, now, signed_version, size as i64, manifest_sha256],
            )?,
            JobOutcome::Failed { error_zh, error_en } => self.sqlite().execute(
                "UPDATE casefile_exports SET state = 'failed', current = '', updated_at = ?2,
                 error_zh = ?3, error_en = ?4 WHERE id = ?1",
                params![id, now, error_zh, error_en],
            )?,
        };
        Ok(())
    }
}
