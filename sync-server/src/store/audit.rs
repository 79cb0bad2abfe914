//! The console's audit log (`audit_log`, 操作日志): who did what, when and from where —
//! sign-ins (and failed ones), approvals, returns, draws, exports and administrative
//! commands (the console's and the `admin` command line's).
//!
//! **Append-only.** Triggers refuse every `UPDATE` and `DELETE` of a row. **Hash-chained.**
//! Each entry's `hash` is the SHA-256 of the previous entry's hash and the entry's own fields
//! (see [`entry_hash`]); the first entry chains from 64 zeros. [`verify_chain`] recomputes it:
//! an edited row no longer matches its hash, a removed row breaks the next entry's link (and
//! leaves a gap in `seq`). Whoever can rewrite the database file can rewrite the whole chain
//! after the change, so the head hash is shown on the console's page and written into every
//! export: a head noted earlier that is no longer in the chain shows that too.

use super::{Sqlite, StoreError, StoreResult};
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

/// The table and its guards.
pub(crate) const MIGRATION_AUDIT: &str = "
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        unit TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        client TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX audit_log_by_unit ON audit_log (unit, seq);
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
";

/// The hash the first entry chains from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened (before it is chained).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// Unix seconds.
    pub at: i64,
    /// The user id (or the name given to a failed sign-in; `admin` for the command line).
    pub actor: String,
    /// The unit whose supervisors (and its parents') see the entry; empty: only the top.
    pub unit: String,
    /// A stable code: `signin`, `signin_failed`, `approve`, `return`, `draw`, `draw_seal`,
    /// `export_casefile`, `export_table`, `admin_<command>`, …
    pub action: String,
    /// What it concerned (a record id, a draw, a file, the command's arguments).
    pub target: String,
    /// The client's address (`cli` for the command line).
    pub client: String,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: i64,
    pub entry: NewEntry,
    pub prev_hash: String,
    pub hash: String,
}

/// SHA-256 over the previous hash and the entry's fields, each length-prefixed (so no two
/// different entries hash alike by moving text between fields).
pub fn entry_hash(prev: &str, seq: i64, e: &NewEntry) -> String {
    let mut h = Sha256::new();
    h.update(b"inspection-audit/1");
    let seq = seq.to_string();
    let at = e.at.to_string();
    for field in [
        prev,
        seq.as_str(),
        at.as_str(),
        &e.actor,
        &e.unit,
        &e.action,
        &e.target,
        &e.client,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    app_core::evidence::hex(&h.finalize())
}

/// Storage of the audit log.
pub trait AuditStore {
    /// Appends `e` after the last entry (call inside a write transaction, or on the one
    /// writing connection, so that two appends never chain from the same entry).
    fn append_audit(&self, e: &NewEntry) -> StoreResult<Entry>;
    /// Entries of `units` (all when None), newest first, at most `limit`, before `before`.
    fn audit_entries(&self, units: Option<&[String]>, limit: u32) -> StoreResult<Vec<Entry>>;
    /// Every entry in order (for the chain check).
    fn all_audit(&self) -> StoreResult<Vec<Entry>>;
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        seq: r.get(0)?,
        entry: NewEntry {
            at: r.get(1)?,
            actor: r.get(2)?,
            unit: r.get(3)?,
            action: r.get(4)?,
            target: r.get(5)?,
            client: r.get(6)?,
        },
        prev_hash: r.get(7)?,
        hash: r.get(8)?,
    })
}

pub(crate) const COLUMNS: &str = "seq, at, actor, unit, action, target, client, prev_hash, hash";

impl<C: Sqlite> AuditStore for C {
    fn append_audit(&self, e: &NewEntry) -> StoreResult<Entry> {
        let last: Option<(i64, String)> = self
            .sqlite()
            .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (seq, prev) = match last {
            Some((s, h)) => (s + 1, h),
            None => (1, GENESIS.to_owned()),
        };
        let hash = entry_hash(&prev, seq, e);
        self.sqlite().execute(
            "INSERT INTO audit_log (seq, at, actor, unit, action, target, client, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                seq, e.at, e.actor, e.unit, e.action, e.target, e.client, prev, hash
            ],
        )?;
        Ok(Entry {
            seq,
            entry: e.clone(),
            prev_hash: prev,
            hash,
        })
    }

    fn audit_entries(&self, units: Option<&[String]>, limit: u32) -> StoreResult<Vec<Entry>> {
        let rows = match units {
            None => self
                .sqlite()
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT ?1"
                ))?
                .query_map([limit], row)?
                .collect::<rusqlite::Result<Vec<_>>>()?,
            Some(units) => {
                let json =
                    serde_json::to_string(units).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                self.sqlite()
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM audit_log
                         WHERE unit IN (SELECT value FROM json_each(?1))
                         ORDER BY seq DESC LIMIT ?2"
                    ))?
                    .query_map(params![json, limit], row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?
            }
        };
        Ok(rows)
    }

    fn all_audit(&self) -> StoreResult<Vec<Entry>> {
        Ok(self
            .sqlite()
            .prepare_cached(&format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq"))?
            .query_map([], row)?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

/// Appends `e` in a transaction that holds the write lock from the start (SQLite `BEGIN
/// IMMEDIATE`), so the server and an `admin` command appending at once never chain from the
/// same entry.
pub fn append_locked<C>(conn: &mut C, e: &NewEntry) -> StoreResult<Entry>
where
    C: super::Transactions,
    for<'a> C::Tx<'a>: AuditStore,
{
    let tx = conn.begin_immediate()?;
    let entry = tx.append_audit(e)?;
    super::Commit::commit(tx)?;
    Ok(entry)
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("audit entry {seq} was changed: its fields no longer match its hash")]
    Edited { seq: i64 },
    #[error("audit entries before {seq} were removed: it chains from a hash no entry has")]
    Removed { seq: i64 },
}

/// Checks the whole chain: returns the number of entries and the head hash, or the first
/// break.
pub fn verify_chain(entries: &[Entry]) -> Result<(usize, String), ChainBreak> {
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1;
    for e in entries {
        if e.prev_hash != prev || e.seq != expected_seq {
            return Err(ChainBreak::Removed { seq: e.seq });
        }
        if entry_hash(&e.prev_hash, e.seq, &e.entry) != e.hash {
            return Err(ChainBreak::Edited { seq: e.seq });
        }
        prev = e.hash.clone();
        expected_seq = e.seq + 1;
    }
    Ok((entries.len(), prev))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::engine::Engine;

    fn entry(i: i64, unit: &str) -> NewEntry {
        NewEntry {
            at: 1_800_000_000 + i,
            actor: format!("u-{i}"),
            unit: unit.into(),
            action: "signin".into(),
            target: String::new(),
            client: "127.0.0.1".into(),
        }
    }

    fn chain() -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_memory().unwrap();
        for i in 0..5 {
            conn.append_audit(&entry(i, if i % 2 == 0 { "xw" } else { "qh" }))
                .unwrap();
        }
        conn
    }

    #[test]
    fn the_chain_holds_and_rows_cannot_be_changed_or_removed() {
        let conn = chain();
        let all = conn.all_audit().unwrap();
        let (n, head) = verify_chain(&all).unwrap();
        assert_eq!((n, head), (5, all[4].hash.clone()));
        assert_eq!(all[0].prev_hash, GENESIS);
        let e = conn
            .execute("UPDATE audit_log SET actor = 'x' WHERE seq = 2", [])
            .unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
        let e = conn
            .execute("DELETE FROM audit_log WHERE seq = 2", [])
            .unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
        // Only the units asked for, newest first.
        let xw = conn.audit_entries(Some(&["xw".to_owned()]), 10).unwrap();
        assert_eq!(xw.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![5, 3, 1]);
    }

    #[test]
    fn an_edited_or_removed_row_is_found() {
        let conn = chain();
        // Someone with the database file drops the guards and edits a row.
        conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
            .unwrap();
        conn.execute("UPDATE audit_log SET target = 'forged' WHERE seq = 3", [])
            .unwrap();
        assert_eq!(
            verify_chain(&conn.all_audit().unwrap()),
            Err(ChainBreak::Edited { seq: 3 })
        );
        let conn = chain();
        conn.execute_batch("DROP TRIGGER audit_log_no_delete;")
            .unwrap();
        conn.execute("DELETE FROM audit_log WHERE seq = 2", [])
            .unwrap();
        assert_eq!(
            verify_chain(&conn.all_audit().unwrap()),
            Err(ChainBreak::Removed { seq: 3 })
        );
        // Re-hashing an edited row is not enough: the next entry's link breaks.
        let conn = chain();
        conn.execute_batch("DROP TRIGGER audit_log_no_update;")
            .unwrap();
        let mut all = conn.all_audit().unwrap();
        all[1].entry.target = "forged".into();
        let rehashed = entry_hash(&all[1].prev_hash, 2, &all[1].entry);
        conn.execute(
            "UPDATE audit_log SET target = 'forged', hash = ?1 WHERE seq = 2",
            [&rehashed],
        )
        .unwrap();
        assert_eq!(
            verify_chain(&conn.all_audit().unwrap()),
            Err(ChainBreak::Removed { seq: 3 })
        );
    }
}
