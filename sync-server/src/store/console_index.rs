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
use app_core::figures::{RecordFacts, TalliedFacts};
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

/// Migration (issue 18, the console at city scale): what a city's million records need.
/// - `console_records_by_unit_status`: the record list filtered by unit and status (its page
///   and its count walk one index range instead of every record of the unit).
/// - `console_hazards` becomes a table with row ids: its rows (about 1 KB, the hazard's JSON)
///   spilled into overflow pages in the `WITHOUT ROWID` layout, whose rows may hold only a
///   quarter of a page, and reading one cost 20–25 µs (the overdue ledger of a city reads a few
///   thousand).
/// - `console_hazards_by_unit_stage`: the open hazards past their deadline of some units (the
///   overdue ledger) without reading all their hazards, and everything the figures' overdue
///   count needs (read from the index alone).
/// - `console_tally`: how many records, and how many of their hazards, there are per unit,
///   visit day (Asia/Shanghai, `yyyymmdd`; `month` is `yyyymm`), kind and status (hazards also
///   per level, stage and 挂牌督办; `level` is empty on the records' row). Kept by
///   [`index_record`] with the other index rows, only for records whose merged state breaks
///   no rule, as the figures count them; `console_tally_month` holds the same per month. The
///   figures read the months the period covers whole and the days of its partial months: a
///   few ten thousand rows for a city's year instead of every record of the period (see
///   `console_query::figure_tallies`). Filled from the index as it stands by [`TALLY_FILL`].
pub(crate) const MIGRATION_TALLY: &str = "
    CREATE INDEX console_records_by_unit_status ON console_records (unit, status, visit_at, id);
    CREATE TABLE console_hazards_rows (
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
        hazard TEXT NOT NULL,
        PRIMARY KEY (record_id, hazard_id)
    );
    INSERT INTO console_hazards_rows SELECT record_id, hazard_id, unit, enterprise_id,
        enterprise_name, level, stage, registered_on, deadline, supervised, closed_on, hazard
        FROM console_hazards;
    DROP TABLE console_hazards;
    ALTER TABLE console_hazards_rows RENAME TO console_hazards;
    CREATE INDEX console_hazards_by_unit ON console_hazards (unit, registered_on);
    CREATE INDEX console_hazards_by_stage ON console_hazards (stage, deadline);
    CREATE INDEX console_hazards_by_unit_stage
        ON console_hazards (unit, stage, deadline, level, supervised, record_id);
    CREATE TABLE console_tally (
        unit TEXT NOT NULL,
        month INTEGER NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        level TEXT NOT NULL,
        stage TEXT NOT NULL,
        supervised INTEGER NOT NULL,
        day INTEGER NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (unit, month, kind, status, level, stage, supervised, day)
    ) WITHOUT ROWID;
    CREATE TABLE console_tally_month (
        unit TEXT NOT NULL,
        month INTEGER NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        level TEXT NOT NULL,
        stage TEXT NOT NULL,
        supervised INTEGER NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (unit, month, kind, status, level, stage, supervised)
    ) WITHOUT ROWID;
";

/// Migration (issue 18, the record list's count at city scale): the records whose merged
/// state breaks a rule, by unit and visit. The list's count adds them to what the tally counts
/// (the tally holds only the records without violations; see `console_query::count_records`),
/// so that a city's year is counted from a few thousand tally rows rather than from every
/// record of the year.
pub(crate) const MIGRATION_VIOLATING: &str = "
    CREATE INDEX console_records_violating ON console_records (unit, visit_at)
        WHERE violations <> 0;
";

/// The tallies counted from the index rows (with [`MIGRATION_TALLY`]; into empty tables).
pub const TALLY_FILL: &str = "
    INSERT INTO console_tally (unit, month, kind, status, level, stage, supervised, day, n)
        SELECT unit, CAST(strftime('%Y%m', visit_at / 1000, 'unixepoch', '+8 hours') AS INTEGER),
            kind, status, '', '', 0,
            CAST(strftime('%Y%m%d', visit_at / 1000, 'unixepoch', '+8 hours') AS INTEGER), count(*)
        FROM console_records WHERE violations = 0
        GROUP BY 1, 2, 3, 4, 8;
    INSERT INTO console_tally (unit, month, kind, status, level, stage, supervised, day, n)
        SELECT r.unit,
            CAST(strftime('%Y%m', r.visit_at / 1000, 'unixepoch', '+8 hours') AS INTEGER),
            r.kind, r.status, h.level, h.stage, h.supervised,
            CAST(strftime('%Y%m%d', r.visit_at / 1000, 'unixepoch', '+8 hours') AS INTEGER),
            count(*)
        FROM console_hazards h JOIN console_records r ON r.id = h.record_id
        WHERE r.violations = 0
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
    INSERT INTO console_tally_month (unit, month, kind, status, level, stage, supervised, n)
        SELECT unit, month, kind, status, level, stage, supervised, sum(n) FROM console_tally
        GROUP BY 1, 2, 3, 4, 5, 6, 7;
";

/// A record's place in `console_tally`: its unit, kind, status and visit instant, and each
/// hazard's level, stage and whether it is listed for supervision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TallyKey {
    pub unit: String,
    pub kind: String,
    pub status: String,
    pub visit_at: i64,
    pub hazards: Vec<(String, String, bool)>,
}

impl TallyKey {
    pub fn of(record: &Inspection) -> Self {
        Self {
            unit: record.unit.as_str().to_owned(),
            kind: kind_str(record),
            status: record.status.as_str().to_owned(),
            visit_at: visit_at(record),
            hazards: record
                .hazards
                .values()
                .map(|h| {
                    (
                        level_str(h.level),
                        h.stage.as_str().to_owned(),
                        h.supervision.is_some(),
                    )
                })
                .collect(),
        }
    }

    /// The visit's month (`yyyymm`) and day (`yyyymmdd`) in Asia/Shanghai.
    pub fn month_day(&self) -> (i64, i64) {
        month_day(self.visit_at)
    }
}

/// The month (`yyyymm`) and day (`yyyymmdd`) of instant `at` in Asia/Shanghai.
pub fn month_day(at: i64) -> (i64, i64) {
    day_month(app_core::geo::Timestamp(at).shanghai_date())
}

/// `day` as (`yyyymm`, `yyyymmdd`).
pub fn day_month(day: Day) -> (i64, i64) {
    let d = day.0;
    let month = i64::from(d.year()) * 100 + i64::from(u8::from(d.month()));
    (month, month * 100 + i64::from(d.day()))
}

/// How `console_tally` covers the period `from..=to`: the months it holds whole (first and
/// last, `yyyymm`; empty when the first is after the last), read from `console_tally_month`,
/// and the partial months (at most two) whose days are read from `console_tally`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TallyPeriod {
    pub whole: (i64, i64),
    pub partial: Vec<i64>,
    /// The period's first and last day (`yyyymmdd`).
    pub days: (i64, i64),
}

impl TallyPeriod {
    pub fn new(from: Day, to: Day) -> Self {
        let ((first, day_from), (last, day_to)) = (day_month(from), day_month(to));
        let next = |m: i64| if m % 100 == 12 { m + 89 } else { m + 1 };
        let prev = |m: i64| if m % 100 == 1 { m - 89 } else { m - 1 };
        let from_whole = from.0.day() == 1;
        let to_whole = to.plus_days(1).0.day() == 1;
        let whole = (
            if from_whole { first } else { next(first) },
            if to_whole { last } else { prev(last) },
        );
        let mut partial = Vec::new();
        if !from_whole && first <= last {
            partial.push(first);
        }
        if !to_whole && last != first {
            partial.push(last);
        }
        if !to_whole && last == first && from_whole {
            partial.push(last);
        }
        Self {
            whole,
            partial,
            days: (day_from, day_to),
        }
    }

    /// How the tally covers the days from `from` to `to`, either of them open (no bound:
    /// every month on that side, read whole), as the record list's count needs it.
    pub fn between(from: Option<Day>, to: Option<Day>) -> Self {
        if let (Some(from), Some(to)) = (from, to) {
            return Self::new(from, to);
        }
        let mut period = Self {
            whole: (i64::MIN, i64::MAX),
            partial: Vec::new(),
            days: (i64::MIN, i64::MAX),
        };
        if let Some(from) = from {
            let (month, day) = day_month(from);
            period.days.0 = day;
            period.whole.0 = if from.0.day() == 1 {
                month
            } else {
                period.partial.push(month);
                if month % 100 == 12 {
                    month + 89
                } else {
                    month + 1
                }
            };
        }
        if let Some(to) = to {
            let (month, day) = day_month(to);
            period.days.1 = day;
            period.whole.1 = if to.plus_days(1).0.day() == 1 {
                month
            } else {
                period.partial.push(month);
                if month % 100 == 1 {
                    month - 89
                } else {
                    month - 1
                }
            };
        }
        period
    }
}

fn kind_str(record: &Inspection) -> String {
    serde_json::to_value(record.kind)
        .expect("kinds serialise")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn level_str(level: app_core::hazard::HazardLevel) -> String {
    serde_json::to_value(level)
        .expect("levels serialise")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Adds `delta` (1 or -1) records of `key`, and its hazards, to `console_tally` and
/// `console_tally_month`; rows that reach zero are removed.
fn tally(conn: &Connection, key: &TallyKey, delta: i64) -> rusqlite::Result<()> {
    let (month, day) = key.month_day();
    let mut add_month = conn.prepare_cached(
        "INSERT INTO console_tally_month (unit, month, kind, status, level, stage, supervised, n)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (unit, month, kind, status, level, stage, supervised)
         DO UPDATE SET n = n + excluded.n",
    )?;
    let mut add = conn.prepare_cached(
        "INSERT INTO console_tally (unit, month, kind, status, level, stage, supervised, day, n)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (unit, month, kind, status, level, stage, supervised, day)
         DO UPDATE SET n = n + excluded.n",
    )?;
    let rows = std::iter::once(("", "", false)).chain(
        key.hazards
            .iter()
            .map(|(l, s, sup)| (l.as_str(), s.as_str(), *sup)),
    );
    for (level, stage, supervised) in rows {
        add.execute(params![
            key.unit, month, key.kind, key.status, level, stage, supervised, day, delta
        ])?;
        add_month.execute(params![
            key.unit, month, key.kind, key.status, level, stage, supervised, delta
        ])?;
        if delta < 0 {
            conn.prepare_cached(
                "DELETE FROM console_tally_month WHERE unit = ?1 AND month = ?2 AND kind = ?3
                    AND status = ?4 AND level = ?5 AND stage = ?6 AND supervised = ?7
                    AND n <= 0",
            )?
            .execute(params![
                key.unit, month, key.kind, key.status, level, stage, supervised
            ])?;
            conn.prepare_cached(
                "DELETE FROM console_tally WHERE unit = ?1 AND month = ?2 AND kind = ?3
                    AND status = ?4 AND level = ?5 AND stage = ?6 AND supervised = ?7
                    AND day = ?8 AND n <= 0",
            )?
            .execute(params![
                key.unit, month, key.kind, key.status, level, stage, supervised, day
            ])?;
        }
    }
    Ok(())
}

/// The tally key of the record `id` as its index rows hold it, if it is counted (it has rows
/// and no violations).
fn indexed_tally_key(conn: &Connection, id: &str) -> rusqlite::Result<Option<TallyKey>> {
    let Some(mut key) = conn
        .prepare_cached(
            "SELECT unit, kind, status, visit_at FROM console_records
             WHERE id = ?1 AND violations = 0",
        )?
        .query_row([id], |r| {
            Ok(TallyKey {
                unit: r.get(0)?,
                kind: r.get(1)?,
                status: r.get(2)?,
                visit_at: r.get(3)?,
                hazards: Vec::new(),
            })
        })
        .optional()?
    else {
        return Ok(None);
    };
    key.hazards = conn
        .prepare_cached(
            "SELECT level, stage, supervised FROM console_hazards WHERE record_id = ?1
             ORDER BY hazard_id",
        )?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(key))
}

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
    // The tally: the record's old place out, its new one in (nothing when neither changed,
    // as for most edits).
    let old = if existed {
        indexed_tally_key(conn, id)?
    } else {
        None
    };
    let violations = record.violations().len() as i64;
    let new = (violations == 0).then(|| TallyKey::of(record));
    if old != new {
        if let Some(old) = &old {
            tally(conn, old, -1)?;
        }
        if let Some(new) = &new {
            tally(conn, new, 1)?;
        }
    }
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
        violations,
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
    /// The tallies app-core's figures are computed from (`figures::compute_tallied`): the
    /// same counts as [`ConsoleIndex::record_facts`] gives, from `console_tally` and the
    /// hazards that may be overdue, without reading every record of the period.
    fn figure_tallies(
        &self,
        units: &[String],
        from: Day,
        to: Day,
        today: Day,
    ) -> StoreResult<Vec<TalliedFacts>>;
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
    fn figure_tallies(
        &self,
        units: &[String],
        from: Day,
        to: Day,
        today: Day,
    ) -> StoreResult<Vec<TalliedFacts>> {
        Ok(console_query::figure_tallies(
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the tally read for `p` counts day `d`: in a month read whole, or a day of a
    /// partial month within the period's days.
    fn covers(p: &TallyPeriod, d: Day) -> bool {
        let (month, day) = day_month(d);
        (p.whole.0 <= month && month <= p.whole.1)
            || (p.partial.contains(&month) && p.days.0 <= day && day <= p.days.1)
    }

    #[test]
    fn a_period_open_or_not_covers_exactly_its_days() {
        let start = Day::ymd(2025, 11, 20);
        let days: Vec<Day> = (0..110).map(|i| start.plus_days(i)).collect();
        let bounds: Vec<Option<Day>> = std::iter::once(None)
            .chain(days.iter().step_by(3).copied().map(Some))
            .chain(
                [
                    Day::ymd(2025, 12, 1),
                    Day::ymd(2025, 12, 31),
                    Day::ymd(2026, 2, 28),
                ]
                .map(Some),
            )
            .collect();
        for &from in &bounds {
            for &to in &bounds {
                let p = TallyPeriod::between(from, to);
                for &d in &days {
                    let inside = from.is_none_or(|f| f <= d) && to.is_none_or(|t| d <= t);
                    assert_eq!(covers(&p, d), inside, "{d} in {from:?}..={to:?}: {p:?}");
                }
            }
        }
    }
}
