//! Where penalty cases (`app_core::penalty::CaseDoc`) live on the server: one row per case in
//! `cases` (its Automerge bytes and heads, and an index row: unit, enterprise, stage, when it
//! was opened, the inspection record it came from), its inspectors in `case_inspectors` (whom
//! it is pulled to), and every change that reached the server in `case_changes`, numbered in
//! the one global change sequence the records' `changes` use: a device's cursor counts both.
//! Everything that writes a case goes through [`CaseStore::write_case`], in the caller's
//! transaction.
//!
//! The sequence on SQLite: `changes.seq` is `AUTOINCREMENT` (SQLite's own counter in
//! `sqlite_sequence`); a case change takes the highest number of either table plus one and
//! raises that counter to it, so the next record change numbers after it. One writer holds
//! the database, so no two changes take the same number.

use super::records::{ChangePage, parse_heads};
use super::{StoreError, StoreResult};
use app_core::ids::{DeviceId, UnitId, UserId};
use app_core::penalty::{CaseDoc, CaseSource, CaseStage, PenaltyCase};
use rusqlite::{OptionalExtension, params};

/// Migration (issue 19): penalty cases, their inspectors and their change log.
pub(crate) const MIGRATION_CASES: &str = "
    CREATE TABLE cases (
        id TEXT PRIMARY KEY,
        unit TEXT NOT NULL,
        enterprise_id TEXT NOT NULL,
        stage TEXT NOT NULL,
        opened_at INTEGER NOT NULL,
        inspection TEXT,
        snapshot BLOB NOT NULL,
        heads TEXT NOT NULL
    );
    CREATE INDEX cases_by_unit ON cases (unit, opened_at);
    CREATE INDEX cases_by_inspection ON cases (inspection);
    CREATE TABLE case_inspectors (
        user_id TEXT NOT NULL,
        case_id TEXT NOT NULL REFERENCES cases(id),
        PRIMARY KEY (user_id, case_id)
    ) WITHOUT ROWID;
    CREATE INDEX case_inspectors_by_case ON case_inspectors (case_id);
    CREATE TABLE case_changes (
        seq INTEGER PRIMARY KEY,
        case_id TEXT NOT NULL REFERENCES cases(id),
        origin_device TEXT NOT NULL,
        bytes BLOB NOT NULL
    );
    CREATE INDEX case_changes_by_case ON case_changes (case_id, seq);
";

/// A stage's name in the index (its serde name, e.g. `investigating`).
pub fn stage_name(stage: CaseStage) -> &'static str {
    match stage {
        CaseStage::Opened => "opened",
        CaseStage::Investigating => "investigating",
        CaseStage::Notified => "notified",
        CaseStage::Defence => "defence",
        CaseStage::LegalReview => "legal_review",
        CaseStage::Decided => "decided",
        CaseStage::Served => "served",
        CaseStage::Executing => "executing",
        CaseStage::Closed => "closed",
    }
}

/// The inspection record a case came from, if it came from one.
pub fn source_record(case: &PenaltyCase) -> Option<&str> {
    match &case.source {
        CaseSource::Inspection { inspection, .. } => Some(inspection.as_str()),
        CaseSource::Complaint { .. } | CaseSource::Referral { .. } => None,
    }
}

/// A case's index row, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    pub id: String,
    pub unit: UnitId,
    pub enterprise: String,
    pub stage: String,
    pub opened_at: i64,
    pub inspection: Option<String>,
    pub inspectors: Vec<UserId>,
}

/// Which cases a device pulls: those of `units` (a supervisor's subtree) and, for an
/// inspector, those naming `inspector` (the SQL mirror of `app_core::access::can_read_record`
/// on the case's scope, narrowed like records' to what the inspector is on).
#[derive(Debug)]
pub struct CasePullFilter<'a> {
    pub cursor: i64,
    /// Changes from this device are not sent back to it.
    pub device: &'a str,
    pub units: &'a [String],
    pub inspector: Option<&'a str>,
    /// Stop adding changes past this many bytes (at least one is always returned).
    pub max_bytes: usize,
}

/// One version of a case, ready to be written.
#[derive(Debug)]
pub struct CaseWrite<'a> {
    pub id: &'a str,
    pub case: &'a PenaltyCase,
    /// The whole document.
    pub snapshot: &'a [u8],
    /// What the server did not hold before: tablets pull exactly these bytes.
    pub change: &'a [u8],
    pub heads: &'a [String],
    pub origin_device: &'a str,
    /// Whether the server held the case before (then its inspectors are rewritten).
    pub existed: bool,
}

/// Case storage: documents, their index rows and their change log.
pub trait CaseStore {
    /// The stored bytes and heads of a case.
    fn case_snapshot(&self, id: &str) -> StoreResult<Option<(Vec<u8>, Vec<String>)>>;
    /// The heads the server holds for a case.
    fn case_heads(&self, id: &str) -> StoreResult<Option<Vec<String>>>;
    /// A case's index row and inspectors.
    fn case_row(&self, id: &str) -> StoreResult<Option<CaseRow>>;
    /// Writes a case version, its index row and its change (inside a transaction), the change
    /// numbered in the global sequence.
    fn write_case(&self, w: &CaseWrite<'_>) -> StoreResult<()>;
    /// The case change log after `filter.cursor` that the filter lets through, paged by bytes.
    fn case_changes_after(&self, filter: &CasePullFilter<'_>) -> StoreResult<ChangePage>;
    /// Whether [`CaseStore::case_changes_after`] would return anything (`max_bytes` unused):
    /// one indexed probe, so a records' sync can tell the tablet to skip the cases' one.
    fn case_changes_wait(&self, filter: &CasePullFilter<'_>) -> StoreResult<bool>;
    /// The cases of these units, newest opened first, at most `limit`.
    fn cases_of_units(&self, units: &[String], limit: usize) -> StoreResult<Vec<CaseRow>>;
}

/// Opens stored case `id`; changes made to it are attributed to `device`.
pub fn load_case(
    store: &(impl CaseStore + ?Sized),
    id: &str,
    device: &DeviceId,
) -> StoreResult<Option<(CaseDoc, Vec<String>)>> {
    store
        .case_snapshot(id)?
        .map(|(bytes, heads)| {
            let doc = CaseDoc::load(&bytes, device)
                .map_err(|e| StoreError::Corrupt(format!("stored case {id}: {e}")))?;
            Ok((doc, heads))
        })
        .transpose()
}

fn case_row_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseRow> {
    Ok(CaseRow {
        id: r.get(0)?,
        unit: UnitId::new(r.get::<_, String>(1)?),
        enterprise: r.get(2)?,
        stage: r.get(3)?,
        opened_at: r.get(4)?,
        inspection: r.get(5)?,
        inspectors: Vec::new(),
    })
}

fn inspectors_of(c: &rusqlite::Connection, id: &str) -> StoreResult<Vec<UserId>> {
    Ok(
        c.prepare_cached(
            "SELECT user_id FROM case_inspectors WHERE case_id = ?1 ORDER BY user_id",
        )?
        .query_map([id], |r| r.get::<_, String>(0).map(UserId::new))?
        .collect::<rusqlite::Result<Vec<_>>>()?,
    )
}

const CASE_COLUMNS: &str = "id, unit, enterprise_id, stage, opened_at, inspection";

impl<S: super::Sqlite> CaseStore for S {
    fn case_snapshot(&self, id: &str) -> StoreResult<Option<(Vec<u8>, Vec<String>)>> {
        let row: Option<(Vec<u8>, String)> = self
            .sqlite()
            .prepare_cached("SELECT snapshot, heads FROM cases WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(bytes, heads)| Ok((bytes, parse_heads(&heads)?)))
            .transpose()
    }

    fn case_heads(&self, id: &str) -> StoreResult<Option<Vec<String>>> {
        let raw: Option<String> = self
            .sqlite()
            .prepare_cached("SELECT heads FROM cases WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        raw.map(|h| parse_heads(&h)).transpose()
    }

    fn case_row(&self, id: &str) -> StoreResult<Option<CaseRow>> {
        let c = self.sqlite();
        let Some(mut row) = c
            .prepare_cached(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = ?1"))?
            .query_row([id], case_row_of)
            .optional()?
        else {
            return Ok(None);
        };
        row.inspectors = inspectors_of(c, id)?;
        Ok(Some(row))
    }

    fn write_case(&self, w: &CaseWrite<'_>) -> StoreResult<()> {
        let c = self.sqlite();
        let case = w.case;
        c.prepare_cached(
            "INSERT INTO cases (id, unit, enterprise_id, stage, opened_at, inspection, snapshot, heads)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO UPDATE SET unit = ?2, enterprise_id = ?3, stage = ?4,
                 opened_at = ?5, inspection = ?6, snapshot = ?7, heads = ?8",
        )?
        .execute(params![
            w.id,
            case.unit.as_str(),
            case.enterprise.id.as_str(),
            stage_name(case.stage),
            case.opened_at.0,
            source_record(case),
            w.snapshot,
            serde_json::to_string(w.heads).expect("strings serialise"),
        ])?;
        if w.existed {
            c.prepare_cached("DELETE FROM case_inspectors WHERE case_id = ?1")?
                .execute([w.id])?;
        }
        {
            let mut insert =
                c.prepare_cached("INSERT INTO case_inspectors (user_id, case_id) VALUES (?1, ?2)")?;
            for u in case.inspectors.keys() {
                insert.execute(params![u.as_str(), w.id])?;
            }
        }
        let seq = super::RecordStore::latest_seq(self)? + 1;
        c.prepare_cached(
            "INSERT INTO case_changes (seq, case_id, origin_device, bytes) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![seq, w.id, w.origin_device, w.change])?;
        // The records' counter moves past this number (see the module's documentation).
        let raised = c
            .prepare_cached("UPDATE sqlite_sequence SET seq = ?1 WHERE name = 'changes'")?
            .execute([seq])?;
        if raised == 0 {
            c.prepare_cached("INSERT INTO sqlite_sequence (name, seq) VALUES ('changes', ?1)")?
                .execute([seq])?;
        }
        Ok(())
    }

    fn case_changes_after(&self, f: &CasePullFilter<'_>) -> StoreResult<ChangePage> {
        let c = self.sqlite();
        let units = serde_json::to_string(f.units).expect("strings serialise");
        let mut stmt = c.prepare_cached(
            "SELECT k.seq, k.case_id, k.bytes FROM case_changes k JOIN cases d ON d.id = k.case_id
             WHERE k.seq > ?1 AND k.origin_device <> ?2
               AND (d.unit IN (SELECT value FROM json_each(?3))
                    OR EXISTS (SELECT 1 FROM case_inspectors i
                               WHERE i.user_id = ?4 AND i.case_id = d.id))
             ORDER BY k.seq",
        )?;
        let mut rows = stmt.query(params![
            f.cursor,
            f.device,
            units,
            f.inspector.unwrap_or("")
        ])?;
        let mut page = ChangePage::default();
        while let Some(row) = rows.next()? {
            if !page.add(f.max_bytes, (row.get(0)?, row.get(1)?, row.get(2)?)) {
                break;
            }
        }
        Ok(page)
    }

    fn case_changes_wait(&self, f: &CasePullFilter<'_>) -> StoreResult<bool> {
        let c = self.sqlite();
        let units = serde_json::to_string(f.units).expect("strings serialise");
        Ok(c.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM case_changes k JOIN cases d ON d.id = k.case_id
             WHERE k.seq > ?1 AND k.origin_device <> ?2
               AND (d.unit IN (SELECT value FROM json_each(?3))
                    OR EXISTS (SELECT 1 FROM case_inspectors i
                               WHERE i.user_id = ?4 AND i.case_id = d.id)))",
        )?
        .query_row(
            params![f.cursor, f.device, units, f.inspector.unwrap_or("")],
            |row| row.get(0),
        )?)
    }

    fn cases_of_units(&self, units: &[String], limit: usize) -> StoreResult<Vec<CaseRow>> {
        let c = self.sqlite();
        let units = serde_json::to_string(units).expect("strings serialise");
        let mut rows = c
            .prepare_cached(&format!(
                "SELECT {CASE_COLUMNS} FROM cases WHERE unit IN (SELECT value FROM json_each(?1))
                 ORDER BY opened_at DESC, id LIMIT ?2"
            ))?
            .query_map(params![units, limit as i64], case_row_of)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for row in &mut rows {
            row.inspectors = inspectors_of(c, &row.id)?;
        }
        Ok(rows)
    }
}
