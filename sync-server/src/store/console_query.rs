//! The SQLite queries over the console's index (`console_index.rs`, behind its
//! `ConsoleIndex` trait): the filtered, keyset-paged record list, the hazard ledger and the
//! facts the figures are computed from. Plain functions over a connection, so tests and
//! benchmarks call them directly.

use app_core::figures::{HazardFacts, RecordFacts, TalliedFacts};
use app_core::geo::{Day, SHANGHAI, Timestamp};
use app_core::hazard::Hazard;
use app_core::hazard::{HazardLevel, HazardStage};
use app_core::ids::UnitId;
use app_core::inspection::InspectionStatus;
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};
use std::collections::BTreeMap;

/// The first instant (UTC ms) of `day` in Asia/Shanghai.
pub fn day_start_ms(day: Day) -> i64 {
    let t = day.0.midnight().assume_offset(SHANGHAI);
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Filters of the record list. `units` is the set of units searched (a subtree the user may
/// read); the others are optional.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    pub units: Vec<String>,
    pub from: Option<Day>,
    pub to: Option<Day>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub enterprise: Option<String>,
    pub inspector: Option<String>,
}

/// Where a page starts: after this (visit_at, id), in descending order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub visit_at: i64,
    pub id: String,
}

impl Cursor {
    pub fn parse(s: &str) -> Option<Self> {
        let (t, id) = s.split_once('~')?;
        Some(Self {
            visit_at: t.parse().ok()?,
            id: id.to_owned(),
        })
    }

    pub fn to_param(&self) -> String {
        format!("{}~{}", self.visit_at, self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRow {
    pub id: String,
    pub unit: String,
    pub kind: String,
    pub status: String,
    pub enterprise_id: String,
    pub enterprise_name: String,
    pub inspectors: String,
    pub visit_at: i64,
    pub review_decision: Option<String>,
    pub review_comment: Option<String>,
    pub hazards: i64,
    /// Rules the merged record breaks (`Inspection::violations`); 0 for a clean record.
    pub violations: i64,
}

fn where_clause(f: &RecordFilter) -> (String, Vec<Value>) {
    // One unit (a county's own list) as an equality, so that the index on (unit, …,
    // visit_at, id) gives the rows in the list's order: a page reads its 50 rows, not every
    // row of the filter sorted.
    let (mut clauses, mut params) = match f.units.as_slice() {
        [unit] => (
            vec!["r.unit = ?".to_owned()],
            vec![Value::Text(unit.clone())],
        ),
        units => (
            vec!["r.unit IN (SELECT value FROM json_each(?))".to_owned()],
            vec![Value::Text(
                serde_json::to_string(units).expect("strings serialise"),
            )],
        ),
    };
    if let Some(d) = f.from {
        clauses.push("r.visit_at >= ?".into());
        params.push(Value::Integer(day_start_ms(d)));
    }
    if let Some(d) = f.to {
        clauses.push("r.visit_at < ?".into());
        params.push(Value::Integer(day_start_ms(d.plus_days(1))));
    }
    for (column, value) in [
        ("r.kind", &f.kind),
        ("r.status", &f.status),
        ("r.enterprise_id", &f.enterprise),
    ] {
        if let Some(v) = value {
            clauses.push(format!("{column} = ?"));
            params.push(Value::Text(v.clone()));
        }
    }
    if let Some(u) = &f.inspector {
        clauses.push("r.id IN (SELECT doc_id FROM doc_inspectors WHERE user_id = ?)".into());
        params.push(Value::Text(u.clone()));
    }
    (clauses.join(" AND "), params)
}

/// Up to this many units, a page is read unit by unit, each in the list's order from its
/// index, and merged (a county with its townships, a city's units); beyond it, in one query.
pub const MERGED_UNITS: usize = 64;

/// The units of a page's parts: each unit alone when there are a few (see [`MERGED_UNITS`]),
/// otherwise all together.
pub fn page_parts(units: &[String]) -> Vec<Vec<String>> {
    if (2..=MERGED_UNITS).contains(&units.len()) {
        units.iter().map(|u| vec![u.clone()]).collect()
    } else {
        vec![units.to_vec()]
    }
}

/// The record list's columns, as [`RecordRow`] holds them.
const RECORD_COLUMNS: &str = "r.id, r.unit, r.kind, r.status, r.enterprise_id, r.enterprise_name,
    r.inspectors, r.visit_at, r.review_decision, r.review_comment, r.hazards, r.violations";

/// One page of records, newest visit first, and the cursor of the next page if there is one.
/// With several units, each unit's first `limit + 1` keys (visit, id) after the cursor are
/// read from its index in order, the page's keys are the newest of those, and only the page's
/// rows are then read from the table: a page costs (units × page) index entries and one page
/// of rows whatever page it is, rather than every row of the filter sorted.
pub fn list_records(
    conn: &Connection,
    f: &RecordFilter,
    after: Option<&Cursor>,
    limit: usize,
) -> rusqlite::Result<(Vec<RecordRow>, Option<Cursor>)> {
    let parts = page_parts(&f.units);
    let merged = parts.len() > 1;
    let mut selects = Vec::new();
    let mut params = Vec::new();
    for units in parts {
        let (mut clause, p) = where_clause(&RecordFilter { units, ..f.clone() });
        params.extend(p);
        if let Some(c) = after {
            // The bound on visit_at alone lets the index range start at the cursor.
            clause.push_str(" AND r.visit_at <= ? AND (r.visit_at, r.id) < (?, ?)");
            params.push(Value::Integer(c.visit_at));
            params.push(Value::Integer(c.visit_at));
            params.push(Value::Text(c.id.clone()));
        }
        params.push(Value::Integer(limit as i64 + 1));
        selects.push(page_part_sql(merged, &clause, "?"));
    }
    let sql = if merged {
        params.push(Value::Integer(limit as i64 + 1));
        // CROSS JOIN: SQLite keeps this join order (the page's keys, then their rows by id).
        merged_page_sql(&selects, "?", "CROSS JOIN")
    } else {
        selects.remove(0)
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt
        .query_map(params_from_iter(params), |r| {
            Ok(RecordRow {
                id: r.get(0)?,
                unit: r.get(1)?,
                kind: r.get(2)?,
                status: r.get(3)?,
                enterprise_id: r.get(4)?,
                enterprise_name: r.get(5)?,
                inspectors: r.get(6)?,
                visit_at: r.get(7)?,
                review_decision: r.get(8)?,
                review_comment: r.get(9)?,
                hazards: r.get(10)?,
                violations: r.get(11)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| Cursor {
            visit_at: r.visit_at,
            id: r.id.clone(),
        })
    } else {
        None
    };
    Ok((rows, next))
}

/// The query of one part of a page (`clause` selects its units' rows after the cursor; at
/// most `limit` rows, a placeholder): the list's columns, or with several parts (`merged`)
/// the keys only, read from the index alone when the filter allows.
pub fn page_part_sql(merged: bool, clause: &str, limit: &str) -> String {
    let columns = if merged {
        "r.visit_at, r.id"
    } else {
        RECORD_COLUMNS
    };
    format!(
        "SELECT {columns} FROM console_records r WHERE {clause}
         ORDER BY r.visit_at DESC, r.id DESC LIMIT {limit}"
    )
}

/// The page made of several parts' keys ([`page_part_sql`]): the newest `limit` of them,
/// then their rows by id (`join`: how the engine is told to read the keys first).
pub fn merged_page_sql(parts: &[String], limit: &str, join: &str) -> String {
    format!(
        "WITH page AS (
            SELECT visit_at, id FROM ({}) AS keys ORDER BY visit_at DESC, id DESC LIMIT {limit})
         SELECT {RECORD_COLUMNS} FROM page p {join} console_records r ON r.id = p.id
         ORDER BY p.visit_at DESC, p.id DESC",
        parts
            .iter()
            .enumerate()
            .map(|(i, p)| format!("SELECT * FROM ({p}) AS p{i}"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ")
    )
}

/// Whether the record list's count may be taken from the tally: it holds units, visit days,
/// kinds and statuses, not enterprises nor inspectors.
pub fn counted_by_tally(f: &RecordFilter) -> bool {
    f.enterprise.is_none() && f.inspector.is_none()
}

/// How many records match the filter. When the tally holds what the filter asks
/// ([`counted_by_tally`]): the records without violations counted by `console_tally_month`
/// for the months the period holds whole and by `console_tally` for the days of its partial
/// months, plus the records breaking a rule (the tally leaves them out) counted from their own
/// index: a city's year costs a few thousand tally rows, not its records. Otherwise every
/// matching record is counted.
pub fn count_records(conn: &Connection, f: &RecordFilter) -> rusqlite::Result<i64> {
    let (clause, mut params) = where_clause(f);
    if !counted_by_tally(f) {
        return conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM console_records r WHERE {clause}"
            ))?
            .query_row(params_from_iter(params), |r| r.get(0));
    }
    let period = crate::store::console_index::TallyPeriod::between(f.from, f.to);
    let units = Value::Text(serde_json::to_string(&f.units).expect("strings serialise"));
    let mut also = String::new();
    let mut also_params = Vec::new();
    for (column, value) in [("kind", &f.kind), ("status", &f.status)] {
        if let Some(v) = value {
            also.push_str(&format!(" AND {column} = ?"));
            also_params.push(Value::Text(v.clone()));
        }
    }
    let mut all = vec![
        units.clone(),
        Value::Integer(period.whole.0),
        Value::Integer(period.whole.1),
    ];
    all.extend(also_params.iter().cloned());
    all.extend([
        units,
        Value::Text(serde_json::to_string(&period.partial).expect("numbers serialise")),
        Value::Integer(period.days.0),
        Value::Integer(period.days.1),
    ]);
    all.extend(also_params);
    all.append(&mut params);
    conn.prepare_cached(&format!(
        "SELECT
            (SELECT coalesce(sum(n), 0) FROM console_tally_month
             WHERE unit IN (SELECT value FROM json_each(?)) AND month BETWEEN ? AND ?
               AND level = ''{also})
          + (SELECT coalesce(sum(n), 0) FROM console_tally
             WHERE unit IN (SELECT value FROM json_each(?))
               AND month IN (SELECT value FROM json_each(?)) AND day BETWEEN ? AND ?
               AND level = ''{also})
          + (SELECT count(*) FROM console_records r INDEXED BY console_records_violating
             WHERE {clause} AND r.violations <> 0)"
    ))?
    .query_row(params_from_iter(all), |r| r.get(0))
}

/// Filters of the hazard ledger.
#[derive(Debug, Clone, Default)]
pub struct HazardFilter {
    pub units: Vec<String>,
    /// Registered on or after / on or before.
    pub from: Option<Day>,
    pub to: Option<Day>,
    pub level: Option<String>,
    pub stage: Option<String>,
    pub enterprise: Option<String>,
    /// Only overdue hazards as of `today`.
    pub overdue: bool,
    /// Only hazards listed for supervision (挂牌督办).
    pub supervised: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HazardRow {
    pub record_id: String,
    pub unit: String,
    pub enterprise_id: String,
    pub enterprise_name: String,
    pub hazard: Hazard,
}

/// Hazards matching the filter, by registration date (newest first), then record and id.
pub fn list_hazards(
    conn: &Connection,
    f: &HazardFilter,
    today: Day,
) -> rusqlite::Result<Vec<HazardRow>> {
    let mut clauses = vec!["h.unit IN (SELECT value FROM json_each(?))".to_owned()];
    let mut params = vec![Value::Text(
        serde_json::to_string(&f.units).expect("strings serialise"),
    )];
    if let Some(d) = f.from {
        clauses.push("h.registered_on >= ?".into());
        params.push(Value::Text(d.to_string()));
    }
    if let Some(d) = f.to {
        clauses.push("h.registered_on <= ?".into());
        params.push(Value::Text(d.to_string()));
    }
    for (column, value) in [
        ("h.level", &f.level),
        ("h.stage", &f.stage),
        ("h.enterprise_id", &f.enterprise),
    ] {
        if let Some(v) = value {
            clauses.push(format!("{column} = ?"));
            params.push(Value::Text(v.clone()));
        }
    }
    if f.overdue {
        // A fast pre-filter; app-core's `Hazard::is_overdue` decides below.
        clauses.push("h.stage IN ('registered', 'ordered', 'rectified') AND h.deadline < ?".into());
        params.push(Value::Text(today.to_string()));
    }
    if f.supervised {
        clauses.push("h.supervised = 1".into());
    }
    let sql = format!(
        "SELECT h.record_id, h.unit, h.enterprise_id, h.enterprise_name, h.hazard
         FROM console_hazards h WHERE {}
         ORDER BY h.registered_on DESC, h.record_id, h.hazard_id",
        clauses.join(" AND ")
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(params), |r| {
            let json: String = r.get(4)?;
            let hazard: Hazard = serde_json::from_str(&json).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    4,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?;
            Ok(HazardRow {
                record_id: r.get(0)?,
                unit: r.get(1)?,
                enterprise_id: r.get(2)?,
                enterprise_name: r.get(3)?,
                hazard,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .filter(|r| !f.overdue || r.hazard.is_overdue(today))
        .collect())
}

/// The facts app-core's figures are computed from: the records of `units` whose visit lies in
/// the period, with their hazards (overdue judged as of `today`). One query over the index.
pub fn record_facts(
    conn: &Connection,
    units: &[String],
    from: Day,
    to: Day,
    today: Day,
) -> rusqlite::Result<Vec<RecordFacts>> {
    let units_json = serde_json::to_string(units).expect("strings serialise");
    let (start, end) = (day_start_ms(from), day_start_ms(to.plus_days(1)));
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, r.unit, r.kind, r.status, r.visit_at, h.hazard
         FROM console_records r LEFT JOIN console_hazards h ON h.record_id = r.id
         WHERE r.unit IN (SELECT value FROM json_each(?1)) AND r.visit_at >= ?2 AND r.visit_at < ?3
           AND r.violations = 0
         ORDER BY r.id",
    )?;
    let mut rows = stmt.query(rusqlite::params![units_json, start, end])?;
    let mut facts = FactsBuilder::new(today);
    while let Some(r) = rows.next()? {
        facts.row(FactsRow {
            id: r.get(0)?,
            unit: r.get(1)?,
            kind: r.get(2)?,
            status: r.get(3)?,
            visit_at: r.get(4)?,
            hazard: r.get(5)?,
        });
    }
    Ok(facts.finish())
}

/// One row of the facts query: a record's index columns and one of its hazards (JSON), or
/// none; a record's rows come together (the query orders by record id).
#[derive(Debug)]
pub struct FactsRow {
    pub id: String,
    pub unit: String,
    pub kind: String,
    pub status: String,
    pub visit_at: i64,
    pub hazard: Option<String>,
}

/// Gathers the facts query's rows into [`RecordFacts`] (the same for every engine).
#[derive(Debug)]
pub struct FactsBuilder {
    out: Vec<RecordFacts>,
    last_id: String,
    /// Whether the current record was readable (unknown kinds or statuses are skipped whole).
    current: bool,
    today: Day,
}

impl FactsBuilder {
    pub fn new(today: Day) -> Self {
        Self {
            out: Vec::new(),
            last_id: String::new(),
            current: false,
            today,
        }
    }

    pub fn row(&mut self, r: FactsRow) {
        if r.id != self.last_id {
            self.last_id = r.id;
            self.current = false;
            let (Some(kind), Some(status)) = (
                crate::console::i18n::kind_from_str(&r.kind),
                InspectionStatus::parse(&r.status),
            ) else {
                return;
            };
            self.out.push(RecordFacts {
                unit: UnitId::new(r.unit),
                kind,
                status,
                visit_day: Timestamp(r.visit_at).shanghai_date(),
                hazards: Vec::new(),
            });
            self.current = true;
        }
        if let (true, Some(json), Some(f)) = (self.current, r.hazard, self.out.last_mut())
            && let Ok(h) = serde_json::from_str::<Hazard>(&json)
        {
            f.hazards.push(HazardFacts {
                level: h.level,
                stage: h.stage,
                overdue: h.is_overdue(self.today),
                supervised: h.supervision.is_some(),
            });
        }
    }

    pub fn finish(self) -> Vec<RecordFacts> {
        self.out
    }
}

/// The tallies the figures are computed from (`ConsoleIndex::figure_tallies`): the rows of
/// `console_tally_month` for the months the period holds whole and of `console_tally` for the
/// days of its partial months, for `units`, gathered by unit, month, kind and status, then the
/// hazards that may be overdue as of `today` (open, deadline passed: few), each judged by
/// app-core's `Hazard::is_overdue`.
pub fn figure_tallies(
    conn: &Connection,
    units: &[String],
    from: Day,
    to: Day,
    today: Day,
) -> rusqlite::Result<Vec<TalliedFacts>> {
    let units_json = serde_json::to_string(units).expect("strings serialise");
    let period = crate::store::console_index::TallyPeriod::new(from, to);
    let partial = serde_json::to_string(&period.partial).expect("numbers serialise");
    let mut builder = TallyBuilder::new();
    // The months the period holds whole, then the days of its partial months (the month
    // rows stand for their first day).
    let mut stmt = conn.prepare_cached(
        "SELECT unit, month, kind, status, level, stage, supervised, month * 100 + 1, n
         FROM console_tally_month
         WHERE unit IN (SELECT value FROM json_each(?1)) AND month BETWEEN ?2 AND ?3
         UNION ALL
         SELECT unit, month, kind, status, level, stage, supervised, day, n
         FROM console_tally
         WHERE unit IN (SELECT value FROM json_each(?1))
           AND month IN (SELECT value FROM json_each(?4)) AND day BETWEEN ?5 AND ?6",
    )?;
    let mut rows = stmt.query(rusqlite::params![
        units_json,
        period.whole.0,
        period.whole.1,
        partial,
        period.days.0,
        period.days.1
    ])?;
    while let Some(r) = rows.next()? {
        builder.tally(TallyRow {
            unit: r.get(0)?,
            month: r.get(1)?,
            kind: r.get(2)?,
            status: r.get(3)?,
            level: r.get(4)?,
            stage: r.get(5)?,
            supervised: r.get(6)?,
            day: r.get(7)?,
            n: r.get(8)?,
        });
    }
    let (start, end) = (day_start_ms(from), day_start_ms(to.plus_days(1)));
    // CROSS JOIN: SQLite keeps this join order, the open hazards past their deadline (few,
    // from their covering index) and then their records by id; left to itself, SQLite 3.40
    // read every record of the period by visit instead (1.9 s for a city's year).
    let mut stmt = conn.prepare_cached(
        "SELECT r.unit, r.kind, r.status, r.visit_at, h.level, h.stage, h.supervised, h.deadline
         FROM console_hazards h CROSS JOIN console_records r ON r.id = h.record_id
         WHERE h.unit IN (SELECT value FROM json_each(?2))
           AND h.stage IN ('registered', 'ordered', 'rectified') AND h.deadline < ?1
           AND r.visit_at >= ?3 AND r.visit_at < ?4 AND r.violations = 0",
    )?;
    let mut rows = stmt.query(rusqlite::params![today.to_string(), units_json, start, end])?;
    while let Some(r) = rows.next()? {
        builder.maybe_overdue(
            OverdueRow {
                unit: r.get(0)?,
                kind: r.get(1)?,
                status: r.get(2)?,
                visit_at: r.get(3)?,
                level: r.get(4)?,
                stage: r.get(5)?,
                supervised: r.get(6)?,
                deadline: r.get(7)?,
            },
            today,
        );
    }
    Ok(builder.finish())
}

/// One grouped row of `console_tally`.
#[derive(Debug)]
pub struct TallyRow {
    pub unit: String,
    pub month: i64,
    pub kind: String,
    pub status: String,
    /// Empty on the records' row.
    pub level: String,
    pub stage: String,
    pub supervised: bool,
    /// A visit day of the row (`yyyymmdd`; the first of the month for a month's row).
    pub day: i64,
    pub n: i64,
}

/// A hazard that may be overdue, as the index holds it, with its record's tally key.
#[derive(Debug)]
pub struct OverdueRow {
    pub unit: String,
    pub kind: String,
    pub status: String,
    pub visit_at: i64,
    pub level: String,
    pub stage: String,
    pub supervised: bool,
    pub deadline: Option<String>,
}

/// Gathers the tally's rows and the overdue hazards into [`TalliedFacts`] (the same for every
/// engine). Hazards are listed as not overdue; each hazard app-core finds overdue then marks
/// one of its group's hazards of the same level, stage and supervision.
#[derive(Debug, Default)]
pub struct TallyBuilder {
    groups: BTreeMap<(String, i64, String, String), TalliedFacts>,
}

fn day_of(yyyymmdd: i64) -> Option<Day> {
    let (y, m, d) = (yyyymmdd / 10_000, (yyyymmdd / 100) % 100, yyyymmdd % 100);
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    time::Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?)
        .ok()
        .map(Day)
}

fn level_of(s: &str) -> Option<HazardLevel> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

impl TallyBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn tally(&mut self, r: TallyRow) {
        let (Some(kind), Some(status), Some(day)) = (
            crate::console::i18n::kind_from_str(&r.kind),
            InspectionStatus::parse(&r.status),
            day_of(r.day),
        ) else {
            return;
        };
        let n = u32::try_from(r.n.max(0)).unwrap_or(u32::MAX);
        let group = self
            .groups
            .entry((r.unit.clone(), r.month, r.kind, r.status))
            .or_insert_with(|| TalliedFacts {
                facts: RecordFacts {
                    unit: UnitId::new(r.unit),
                    kind,
                    status,
                    visit_day: day,
                    hazards: Vec::new(),
                },
                records: 0,
            });
        group.facts.visit_day = group.facts.visit_day.min(day);
        if r.level.is_empty() {
            group.records += n;
        } else if let (Some(level), Some(stage)) =
            (level_of(&r.level), HazardStage::parse(&r.stage))
        {
            group.facts.hazards.extend(std::iter::repeat_n(
                HazardFacts {
                    level,
                    stage,
                    overdue: false,
                    supervised: r.supervised,
                },
                n as usize,
            ));
        }
    }

    /// A hazard that may be overdue (its record's unit, kind, status and visit instant, and
    /// its index columns): if app-core finds it overdue, one hazard of its group is marked so.
    pub fn maybe_overdue(&mut self, r: OverdueRow, today: Day) {
        let (Some(level), Some(stage)) = (level_of(&r.level), HazardStage::parse(&r.stage)) else {
            return;
        };
        let deadline = r.deadline.as_deref().and_then(|d| Day::parse(d).ok());
        if !app_core::hazard::overdue(stage, deadline, today) {
            return;
        }
        let (month, _) = crate::store::console_index::month_day(r.visit_at);
        if let Some(group) = self.groups.get_mut(&(r.unit, month, r.kind, r.status))
            && let Some(f) = group.facts.hazards.iter_mut().find(|f| {
                !f.overdue && f.level == level && f.stage == stage && f.supervised == r.supervised
            })
        {
            f.overdue = true;
        }
    }

    pub fn finish(self) -> Vec<TalliedFacts> {
        self.groups
            .into_values()
            .filter(|t| t.records > 0 || !t.facts.hazards.is_empty())
            .collect()
    }
}
