//! The console's index of records and hazards: plain SQL rows derived from each stored record,
//! rewritten whenever the record changes (in the transaction that stores it, see
//! `RecordStore::write`), so lists, filters, the hazard ledger and the figures never have to open
//! Automerge documents.
//!
//! - `console_records`: one row per record — unit, kind, status, enterprise, inspectors'
//!   names, plan, times, the review decision and the number of hazards. `visit_at` (the start
//!   of the on-site check, or the creation for a visit that never started) is what lists sort
//!   by and periods filter on, the same instant the figures count by.
//! - `console_hazards`: one row per hazard with its level, stage, dates and whether it is
//!   listed for supervision (挂牌督办), plus the whole hazard as JSON so that the ledger judges
//!   "overdue" with app-core's own rule rather than a copy of it in SQL.
//! - `violations`: how many rules the record's merged state breaks
//!   (`Inspection::violations`); a record with any is not counted in the figures nor
//!   published, and its page lists them.
//! - Inspectors are filtered through `doc_inspectors`, which the store keeps anyway.

use super::console_query::{self, Cursor, HazardFilter, HazardRow, RecordFilter, RecordRow};
use super::{Sqlite, StoreResult};
use app_core::figures::RecordFacts;
use app_core::geo::Day;
use app_core::inspection::{Inspection, ReviewDecision};
use rusqlite::{Connection, OptionalExtension, params};

/// Migration 2 (with the plans and draws of `store::plans`): the console's index of
/// records and hazards. Records stored before it are indexed by `service::index::backfill`, which runs
/// while `console_backfill` holds a row.
pub(crate) const MIGRATION_2: &str = "
    CREATE TABLE console_records (
        id TEXT PRIMARY KEY,
        unit TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        enterprise_id TEXT NOT NULL,
        enterprise_name TEXT NOT NULL,
        plan TEXT,
        inspectors TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        completed_at INTEGER,
        -- started_at, or created_at for a visit that never started: what lists sort by and
        -- periods filter on (the figures' visit day).
        visit_at INTEGER NOT NULL,
        review_decision TEXT,
        review_by TEXT,
        review_at INTEGER,
        review_comment TEXT,
        hazards INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX console_records_by_unit ON console_records (unit, visit_at, id);
    CREATE INDEX console_records_by_visit ON console_records (visit_at, id);
    CREATE INDEX console_records_by_status ON console_records (status, visit_at);
    CREATE INDEX console_records_by_kind ON console_records (kind, visit_at);
    CREATE INDEX console_records_by_enterprise ON console_records (enterprise_id, visit_at);
    CREATE TABLE console_hazards (
        record_id TEXT NOT NULL,
        hazard_id TEXT NOT NULL,
        unit TEXT NOT NULL,
        enterprise_id TEXT NOT NULL,
        enterprise_name TEXT NOT NULL,
        level TEXT NOT NULL,
        stage TEXT NOT NULL,
        registered_on TEXT NOT NULL,
        deadline TEXT,
        supervised INTEGER NOT NULL,
        closed_on TEXT,
        -- The whole hazard as JSON: the ledger judges overdue with app-core's own rule.
        hazard TEXT NOT NULL,
        PRIMARY KEY (record_id, hazard_id)
    ) WITHOUT ROWID;
    CREATE INDEX console_hazards_by_unit ON console_hazards (unit, registered_on);
    CREATE INDEX console_hazards_by_stage ON console_hazards (stage, deadline);
    CREATE TABLE console_backfill (pending INTEGER PRIMARY KEY);
    INSERT INTO console_backfill (pending) VALUES (1);
";

/// Migration 7: whether a record's merged state breaks a rule each replica kept on its own
/// (`Inspection::violations`: e.g. two concurrent status moves). Such a record is listed,
/// but not counted in the figures nor published. Every record is indexed again (the
/// backfill at start) so that the column holds for records stored before it.
pub(crate) const MIGRATION_7: &str = "
    ALTER TABLE console_records ADD COLUMN violations INTEGER NOT NULL DEFAULT 0;
    DELETE FROM console_hazards;
    DELETE FROM console_records;
    INSERT OR IGNORE INTO console_backfill (pending) VALUES (1);
";

/// The instant a record's visit counts from (figures: the start of the on-site check, or the
/// creation if it never started).
pub fn visit_at(record: &Inspection) -> i64 {
    record.started_at.unwrap_or(record.created_at).0
}

pub fn decision_str(d: ReviewDecision) -> &'static str {
    match d {
        ReviewDecision::Approved => "approved",
        ReviewDecision::Returned => "returned",
    }
}

/// Rewrites the index rows of `record` (called in the transaction that stores it).
/// `existed`: the record may already have rows (false only for a record stored just now).
pub fn index_record(conn: &Connection, record: &Inspection, existed: bool) -> rusqlite::Result<()> {
    let id = record.id.as_str();
    let inspectors: Vec<&str> = record
        .inspectors
        .values()
        .map(|i| i.name.as_str())
        .collect();
    let kind = serde_json::to_value(record.kind).expect("kinds serialise");
    let review = record.review.as_ref();
    conn.prepare_cached(
        "INSERT OR REPLACE INTO console_records (id, unit, kind, status, enterprise_id,
            enterprise_name, plan, inspectors, created_at, started_at, completed_at, visit_at,
            review_decision, review_by, review_at, review_comment, hazards, violations)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    )?
    .execute(params![
        id,
        record.unit.as_str(),
        kind.as_str().unwrap_or_default(),
        record.status.as_str(),
        record.enterprise.id.as_str(),
        record.enterprise.name,
        record.plan.as_ref().map(|p| p.as_str()),
        inspectors.join("、"),
        record.created_at.0,
        record.started_at.map(|t| t.0),
        record.completed_at.map(|t| t.0),
        visit_at(record),
        review.map(|r| decision_str(r.decision)),
        review.map(|r| r.by.as_str()),
        review.map(|r| r.at.0),
        review.map(|r| r.comment.as_str()),
        record.hazards.len() as i64,
        record.violations().len() as i64,
    ])?;
    if existed {
        conn.prepare_cached("DELETE FROM console_hazards WHERE record_id = ?1")?
            .execute([id])?;
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO console_hazards (record_id, hazard_id, unit, enterprise_id, enterprise_name,
            level, stage, registered_on, deadline, supervised, closed_on, hazard)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for h in record.hazards.values() {
        let level = serde_json::to_value(h.level).expect("levels serialise");
        insert.execute(params![
            id,
            h.id.as_str(),
            record.unit.as_str(),
            record.enterprise.id.as_str(),
            record.enterprise.name,
            level.as_str().unwrap_or_default(),
            h.stage.as_str(),
            h.registered_on.to_string(),
            h.deadline.map(|d| d.to_string()),
            h.supervision.is_some(),
            h.closed_on.map(|d| d.to_string()),
            serde_json::to_string(h).expect("hazards serialise"),
        ])?;
    }
    Ok(())
}

/// The console's index: written with every record version (inside the record's transaction),
/// read by the lists, the hazard ledger, the publication list and the figures.
pub trait ConsoleIndex {
    /// Rewrites the index rows of `record` (`existed`: it had rows before).
    fn index_record(&self, record: &Inspection, existed: bool) -> StoreResult<()>;
    /// One page of records, newest visit first, and the cursor of the next page if any.
    fn list_records(
        &self,
        filter: &RecordFilter,
        after: Option<&Cursor>,
        limit: usize,
    ) -> StoreResult<(Vec<RecordRow>, Option<Cursor>)>;
    /// How many records match the filter.
    fn count_records(&self, filter: &RecordFilter) -> StoreResult<i64>;
    /// Hazards matching the filter (overdue judged as of `today`).
    fn list_hazards(&self, filter: &HazardFilter, today: Day) -> StoreResult<Vec<HazardRow>>;
    /// The facts app-core's figures are computed from, for `units` and the period.
    fn record_facts(
        &self,
        units: &[String],
        from: Day,
        to: Day,
        today: Day,
    ) -> StoreResult<Vec<RecordFacts>>;
    /// Whether stored records still wait to be indexed (the migrations that created or
    /// emptied the index leave a row in `console_backfill`): one primary-key lookup.
    fn backfill_pending(&self) -> StoreResult<bool>;
    /// The stored records that have no index row, by id.
    fn unindexed_records(&self) -> StoreResult<Vec<String>>;
    /// Marks the backfill done.
    fn backfill_done(&self) -> StoreResult<()>;
}

impl<C: Sqlite> ConsoleIndex for C {
    fn index_record(&self, record: &Inspection, existed: bool) -> StoreResult<()> {
        Ok(index_record(self.sqlite(), record, existed)?)
    }
    fn list_records(
        &self,
        filter: &RecordFilter,
        after: Option<&Cursor>,
        limit: usize,
    ) -> StoreResult<(Vec<RecordRow>, Option<Cursor>)> {
        Ok(console_query::list_records(
            self.sqlite(),
            filter,
            after,
            limit,
        )?)
    }
    fn count_records(&self, filter: &RecordFilter) -> StoreResult<i64> {
        Ok(console_query::count_records(self.sqlite(), filter)?)
    }
    fn list_hazards(&self, filter: &HazardFilter, today: Day) -> StoreResult<Vec<HazardRow>> {
        Ok(console_query::list_hazards(self.sqlite(), filter, today)?)
    }
    fn record_facts(
        &self,
        units: &[String],
        from: Day,
        to: Day,
        today: Day,
    ) -> StoreResult<Vec<RecordFacts>> {
        Ok(console_query::record_facts(
            self.sqlite(),
            units,
            from,
            to,
            today,
        )?)
    }
    fn backfill_pending(&self) -> StoreResult<bool> {
        Ok(self
            .sqlite()
            .query_row("SELECT pending FROM console_backfill LIMIT 1", [], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .is_some())
    }
    fn unindexed_records(&self) -> StoreResult<Vec<String>> {
        Ok(self
            .sqlite()
            .prepare("SELECT id FROM docs WHERE id NOT IN (SELECT id FROM console_records)")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }
    fn backfill_done(&self) -> StoreResult<()> {
        self.sqlite().execute("DELETE FROM console_backfill", [])?;
        Ok(())
    }
}
