//! [`ConsoleIndex`] on PostgreSQL: the index rows written with every record version, and the
//! console's lists and figures over them (the SQLite queries are `store::console_query`).

use super::{Pg, Query};
use crate::store::console_index::{ConsoleIndex, TallyKey, TallyPeriod, decision_str, visit_at};
use crate::store::console_query::{
    Cursor, FactsBuilder, FactsRow, HazardFilter, HazardRow, OverdueRow, RecordFilter, RecordRow,
    TallyBuilder, TallyRow, counted_by_tally, day_start_ms, merged_page_sql, page_part_sql,
    page_parts,
};
use crate::store::{StoreError, StoreResult};
use app_core::figures::{RecordFacts, TalliedFacts};
use app_core::geo::Day;
use app_core::hazard::Hazard;
use app_core::inspection::Inspection;
use postgres::GenericClient;
use postgres::types::ToSql;

/// Rewrites the index rows of `records` (`(record, existed)`, distinct ids), in the
/// transaction that stores them: a handful of statements whatever their number.
pub(super) fn index_records(
    c: &mut impl Query,
    records: &[(&Inspection, bool)],
) -> StoreResult<()> {
    if records.is_empty() {
        return Ok(());
    }
    let existed: Vec<&str> = records
        .iter()
        .filter(|(_, existed)| *existed)
        .map(|(r, _)| r.id.as_str())
        .collect();
    // The tallies: each record's old place out, its new one in (nothing when neither
    // changed), summed over the records so that each tally row is written once.
    let mut old = indexed_tally_keys(c, &existed)?;
    let mut deltas = TallyDeltas::default();
    for (record, _) in records {
        let old = old.remove(record.id.as_str());
        let new = (record.violations().is_empty()).then(|| TallyKey::of(record));
        if old != new {
            if let Some(old) = &old {
                deltas.add(old, -1);
            }
            if let Some(new) = &new {
                deltas.add(new, 1);
            }
        }
    }
    deltas.write(c)?;
    let mut rows = RecordColumns::default();
    let mut hazards = HazardColumns::default();
    for (record, _) in records {
        rows.push(record);
        for h in record.hazards.values() {
            hazards.push(record, h);
        }
    }
    rows.write(c)?;
    if !existed.is_empty() {
        c.execute(
            "DELETE FROM console_hazards WHERE record_id = ANY($1)",
            &[&existed],
        )?;
    }
    hazards.write(c)
}

/// The columns of `console_records` for several records, written in one statement.
#[derive(Default)]
struct RecordColumns<'a> {
    id: Vec<&'a str>,
    unit: Vec<&'a str>,
    kind: Vec<String>,
    status: Vec<&'a str>,
    enterprise_id: Vec<&'a str>,
    enterprise_name: Vec<&'a str>,
    plan: Vec<Option<&'a str>>,
    inspectors: Vec<String>,
    created_at: Vec<i64>,
    started_at: Vec<Option<i64>>,
    completed_at: Vec<Option<i64>>,
    visit_at: Vec<i64>,
    review_decision: Vec<Option<&'static str>>,
    review_by: Vec<Option<&'a str>>,
    review_at: Vec<Option<i64>>,
    review_comment: Vec<Option<&'a str>>,
    hazards: Vec<i64>,
    violations: Vec<i64>,
}

impl<'a> RecordColumns<'a> {
    fn push(&mut self, record: &'a Inspection) {
        let review = record.review.as_ref();
        let kind = serde_json::to_value(record.kind).expect("kinds serialise");
        self.id.push(record.id.as_str());
        self.unit.push(record.unit.as_str());
        self.kind.push(kind.as_str().unwrap_or_default().to_owned());
        self.status.push(record.status.as_str());
        self.enterprise_id.push(record.enterprise.id.as_str());
        self.enterprise_name.push(&record.enterprise.name);
        self.plan.push(record.plan.as_ref().map(|p| p.as_str()));
        let names: Vec<&str> = record
            .inspectors
            .values()
            .map(|i| i.name.as_str())
            .collect();
        self.inspectors.push(names.join("、"));
        self.created_at.push(record.created_at.0);
        self.started_at.push(record.started_at.map(|t| t.0));
        self.completed_at.push(record.completed_at.map(|t| t.0));
        self.visit_at.push(visit_at(record));
        self.review_decision
            .push(review.map(|r| decision_str(r.decision)));
        self.review_by.push(review.map(|r| r.by.as_str()));
        self.review_at.push(review.map(|r| r.at.0));
        self.review_comment.push(review.map(|r| r.comment.as_str()));
        self.hazards.push(record.hazards.len() as i64);
        self.violations.push(record.violations().len() as i64);
    }

    fn write(&self, c: &mut impl Query) -> StoreResult<()> {
        c.execute(
            "INSERT INTO console_records (id, unit, kind, status, enterprise_id,
                enterprise_name, plan, inspectors, created_at, started_at, completed_at,
                visit_at, review_decision, review_by, review_at, review_comment, hazards,
                violations)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[],
                $11::bigint[], $12::bigint[], $13::text[], $14::text[], $15::bigint[],
                $16::text[], $17::bigint[], $18::bigint[])
             ON CONFLICT (id) DO UPDATE SET unit = excluded.unit, kind = excluded.kind,
                status = excluded.status, enterprise_id = excluded.enterprise_id,
                enterprise_name = excluded.enterprise_name, plan = excluded.plan,
                inspectors = excluded.inspectors, created_at = excluded.created_at,
                started_at = excluded.started_at, completed_at = excluded.completed_at,
                visit_at = excluded.visit_at, review_decision = excluded.review_decision,
                review_by = excluded.review_by, review_at = excluded.review_at,
                review_comment = excluded.review_comment, hazards = excluded.hazards,
                violations = excluded.violations",
            &[
                &self.id,
                &self.unit,
                &self.kind,
                &self.status,
                &self.enterprise_id,
                &self.enterprise_name,
                &self.plan,
                &self.inspectors,
                &self.created_at,
                &self.started_at,
                &self.completed_at,
                &self.visit_at,
                &self.review_decision,
                &self.review_by,
                &self.review_at,
                &self.review_comment,
                &self.hazards,
                &self.violations,
            ],
        )?;
        Ok(())
    }
}

/// The columns of `console_hazards` for the hazards of several records, in one statement.
#[derive(Default)]
struct HazardColumns<'a> {
    record_id: Vec<&'a str>,
    hazard_id: Vec<&'a str>,
    unit: Vec<&'a str>,
    enterprise_id: Vec<&'a str>,
    enterprise_name: Vec<&'a str>,
    level: Vec<String>,
    stage: Vec<&'a str>,
    registered_on: Vec<String>,
    deadline: Vec<Option<String>>,
    supervised: Vec<bool>,
    closed_on: Vec<Option<String>>,
    hazard: Vec<String>,
}

impl<'a> HazardColumns<'a> {
    fn push(&mut self, record: &'a Inspection, h: &'a Hazard) {
        let level = serde_json::to_value(h.level).expect("levels serialise");
        self.record_id.push(record.id.as_str());
        self.hazard_id.push(h.id.as_str());
        self.unit.push(record.unit.as_str());
        self.enterprise_id.push(record.enterprise.id.as_str());
        self.enterprise_name.push(&record.enterprise.name);
        self.level
            .push(level.as_str().unwrap_or_default().to_owned());
        self.stage.push(h.stage.as_str());
        self.registered_on.push(h.registered_on.to_string());
        self.deadline.push(h.deadline.map(|d| d.to_string()));
        self.supervised.push(h.supervision.is_some());
        self.closed_on.push(h.closed_on.map(|d| d.to_string()));
        self.hazard
            .push(serde_json::to_string(h).expect("hazards serialise"));
    }

    fn write(&self, c: &mut impl Query) -> StoreResult<()> {
        if self.record_id.is_empty() {
            return Ok(());
        }
        c.execute(
            "INSERT INTO console_hazards (record_id, hazard_id, unit, enterprise_id,
                enterprise_name, level, stage, registered_on, deadline, supervised, closed_on,
                hazard)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                $6::text[], $7::text[], $8::text[], $9::text[], $10::boolean[], $11::text[],
                $12::text[])",
            &[
                &self.record_id,
                &self.hazard_id,
                &self.unit,
                &self.enterprise_id,
                &self.enterprise_name,
                &self.level,
                &self.stage,
                &self.registered_on,
                &self.deadline,
                &self.supervised,
                &self.closed_on,
                &self.hazard,
            ],
        )?;
        Ok(())
    }
}

/// A tally row's key in `console_tally`: unit, month, kind, status, level, stage,
/// supervised, day (`console_tally_month`: the same without the day).
type TallyRowKey = (String, i64, String, String, String, String, bool, i64);

/// What several records add to and take from the tallies, summed per row.
#[derive(Default)]
struct TallyDeltas(std::collections::BTreeMap<TallyRowKey, i64>);

impl TallyDeltas {
    /// `delta` (1 or -1) records of `key`, and its hazards (one row for the record, one for
    /// each of its hazards).
    fn add(&mut self, key: &TallyKey, delta: i64) {
        let (month, day) = key.month_day();
        let rows = std::iter::once((String::new(), String::new(), false))
            .chain(key.hazards.iter().cloned());
        for (level, stage, supervised) in rows {
            let row = (
                key.unit.clone(),
                month,
                key.kind.clone(),
                key.status.clone(),
                level,
                stage,
                supervised,
                day,
            );
            *self.0.entry(row).or_default() += delta;
        }
    }

    /// Adds the sums to `console_tally` and `console_tally_month`; rows that reach zero are
    /// removed.
    fn write(&self, c: &mut impl Query) -> StoreResult<()> {
        let mut months: std::collections::BTreeMap<_, i64> = Default::default();
        for ((unit, month, kind, status, level, stage, supervised, _), n) in &self.0 {
            *months
                .entry((unit, *month, kind, status, level, stage, *supervised))
                .or_default() += n;
        }
        let days = TallyColumns::of(
            self.0
                .iter()
                .map(|(k, n)| ((&k.0, k.1, &k.2, &k.3, &k.4, &k.5, k.6), Some(k.7), *n)),
        );
        let months = TallyColumns::of(months.into_iter().map(|(k, n)| (k, None, n)));
        months.write(c, "console_tally_month")?;
        days.write(c, "console_tally")
    }
}

/// Tally rows as columns (`day`: only for `console_tally`).
#[derive(Default)]
struct TallyColumns<'a> {
    unit: Vec<&'a str>,
    month: Vec<i64>,
    kind: Vec<&'a str>,
    status: Vec<&'a str>,
    level: Vec<&'a str>,
    stage: Vec<&'a str>,
    supervised: Vec<bool>,
    day: Vec<i64>,
    n: Vec<i64>,
    /// Some row went down (then rows at zero are removed).
    fell: bool,
}

type TallyMonthKey<'a> = (
    &'a String,
    i64,
    &'a String,
    &'a String,
    &'a String,
    &'a String,
    bool,
);

impl<'a> TallyColumns<'a> {
    /// The rows whose sum is not zero.
    fn of(rows: impl Iterator<Item = (TallyMonthKey<'a>, Option<i64>, i64)>) -> Self {
        let mut c = Self::default();
        for ((unit, month, kind, status, level, stage, supervised), day, n) in rows {
            if n == 0 {
                continue;
            }
            c.unit.push(unit);
            c.month.push(month);
            c.kind.push(kind);
            c.status.push(status);
            c.level.push(level);
            c.stage.push(stage);
            c.supervised.push(supervised);
            c.day.extend(day);
            c.n.push(n);
            c.fell |= n < 0;
        }
        c
    }

    fn write(&self, c: &mut impl Query, table: &str) -> StoreResult<()> {
        if self.n.is_empty() {
            return Ok(());
        }
        let with_day = !self.day.is_empty();
        let (day_column, day_type, day_match) = if with_day {
            (", day", ", $9::bigint[]", " AND t.day = k.day")
        } else {
            ("", "", "")
        };
        let keys = format!(
            "unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::boolean[], $8::bigint[]{day_type})
                AS k(unit, month, kind, status, level, stage, supervised, n{day_column})"
        );
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![
            &self.unit,
            &self.month,
            &self.kind,
            &self.status,
            &self.level,
            &self.stage,
            &self.supervised,
            &self.n,
        ];
        if with_day {
            params.push(&self.day);
        }
        c.execute(
            &format!(
                "INSERT INTO {table} (unit, month, kind, status, level, stage, supervised,
                    n{day_column})
                 SELECT unit, month, kind, status, level, stage, supervised, n{day_column}
                 FROM {keys}
                 ON CONFLICT (unit, month, kind, status, level, stage, supervised{day_column})
                 DO UPDATE SET n = {table}.n + excluded.n"
            ),
            &params,
        )?;
        if self.fell {
            c.execute(
                &format!(
                    "DELETE FROM {table} t USING {keys}
                     WHERE t.unit = k.unit AND t.month = k.month AND t.kind = k.kind
                        AND t.status = k.status AND t.level = k.level AND t.stage = k.stage
                        AND t.supervised = k.supervised{day_match} AND k.n < 0 AND t.n <= 0"
                ),
                &params,
            )?;
        }
        Ok(())
    }
}

/// The tally keys of the records `ids` as their index rows hold them, for those counted.
fn indexed_tally_keys(
    c: &mut impl Query,
    ids: &[&str],
) -> StoreResult<std::collections::HashMap<String, TallyKey>> {
    let mut keys = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(keys);
    }
    for row in c.query(
        "SELECT id, unit, kind, status, visit_at FROM console_records
         WHERE id = ANY($1) AND violations = 0",
        &[&ids],
    )? {
        keys.insert(
            row.get::<_, String>(0),
            TallyKey {
                unit: row.get(1),
                kind: row.get(2),
                status: row.get(3),
                visit_at: row.get(4),
                hazards: Vec::new(),
            },
        );
    }
    for row in c.query(
        "SELECT record_id, level, stage, supervised FROM console_hazards
         WHERE record_id = ANY($1) ORDER BY record_id, hazard_id",
        &[&ids],
    )? {
        if let Some(key) = keys.get_mut(row.get::<_, &str>(0)) {
            key.hazards.push((row.get(1), row.get(2), row.get(3)));
        }
    }
    Ok(keys)
}

/// A query's parameters, numbered as they are added.
#[derive(Default)]
struct Params(Vec<Box<dyn ToSql + Sync>>);

impl Params {
    /// Adds `v` and says its placeholder (`$n`).
    fn add(&mut self, v: impl ToSql + Sync + 'static) -> String {
        self.0.push(Box::new(v));
        format!("${}", self.0.len())
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0.iter().map(|b| b.as_ref()).collect()
    }
}

fn record_where(f: &RecordFilter, p: &mut Params) -> String {
    // One unit (a county's own list) as an equality: the index on (unit, …, visit_at, id)
    // then gives the rows in the list's order.
    let mut clauses = vec![match f.units.as_slice() {
        [unit] => format!("r.unit = {}", p.add(unit.clone())),
        units => format!("r.unit = ANY({})", p.add(units.to_vec())),
    }];
    if let Some(d) = f.from {
        clauses.push(format!("r.visit_at >= {}", p.add(day_start_ms(d))));
    }
    if let Some(d) = f.to {
        clauses.push(format!(
            "r.visit_at < {}",
            p.add(day_start_ms(d.plus_days(1)))
        ));
    }
    for (column, value) in [
        ("r.kind", &f.kind),
        ("r.status", &f.status),
        ("r.enterprise_id", &f.enterprise),
    ] {
        if let Some(v) = value {
            clauses.push(format!("{column} = {}", p.add(v.clone())));
        }
    }
    if let Some(u) = &f.inspector {
        clauses.push(format!(
            "r.id IN (SELECT doc_id FROM doc_inspectors WHERE user_id = {})",
            p.add(u.clone())
        ));
    }
    clauses.join(" AND ")
}

fn hazard_from_json(json: &str) -> StoreResult<Hazard> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("indexed hazard: {e}")))
}

impl<C: GenericClient> ConsoleIndex for Pg<C> {
    fn index_record(&self, record: &Inspection, existed: bool) -> StoreResult<()> {
        self.atomic(|tx| index_records(tx, &[(record, existed)]))
    }

    fn list_records(
        &self,
        filter: &RecordFilter,
        after: Option<&Cursor>,
        limit: usize,
    ) -> StoreResult<(Vec<RecordRow>, Option<Cursor>)> {
        // As on SQLite (`console_query::list_records`): with a few units, each unit's keys
        // are read in order from its index and merged, then the page's rows are read.
        let mut p = Params::default();
        let parts = page_parts(&filter.units);
        let merged = parts.len() > 1;
        let mut selects = Vec::new();
        for units in parts {
            let mut clause = record_where(
                &RecordFilter {
                    units,
                    ..filter.clone()
                },
                &mut p,
            );
            if let Some(c) = after {
                // The bound on visit_at alone lets the index range start at the cursor.
                clause.push_str(&format!(
                    " AND r.visit_at <= {} AND (r.visit_at, r.id) < ({}, {})",
                    p.add(c.visit_at),
                    p.add(c.visit_at),
                    p.add(c.id.clone())
                ));
            }
            let limit_param = p.add(limit as i64 + 1);
            selects.push(page_part_sql(merged, &clause, &limit_param));
        }
        let sql = if merged {
            let limit_param = p.add(limit as i64 + 1);
            merged_page_sql(&selects, &limit_param, "JOIN")
        } else {
            selects.remove(0)
        };
        let mut rows: Vec<RecordRow> = self
            .c()
            .query(&sql, &p.refs())?
            .iter()
            .map(|r| RecordRow {
                id: r.get(0),
                unit: r.get(1),
                kind: r.get(2),
                status: r.get(3),
                enterprise_id: r.get(4),
                enterprise_name: r.get(5),
                inspectors: r.get(6),
                visit_at: r.get(7),
                review_decision: r.get(8),
                review_comment: r.get(9),
                hazards: r.get(10),
                violations: r.get(11),
            })
            .collect();
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

    fn count_records(&self, filter: &RecordFilter) -> StoreResult<i64> {
        // As on SQLite (`console_query::count_records`): from the tally when it holds what
        // the filter asks, plus the records breaking a rule.
        let mut p = Params::default();
        if !counted_by_tally(filter) {
            let clause = record_where(filter, &mut p);
            return Ok(self
                .c()
                .query_one(
                    &format!("SELECT count(*) FROM console_records r WHERE {clause}"),
                    &p.refs(),
                )?
                .get(0));
        }
        let period = TallyPeriod::between(filter.from, filter.to);
        let units = p.add(filter.units.clone());
        let mut also = String::new();
        for (column, value) in [("kind", &filter.kind), ("status", &filter.status)] {
            if let Some(v) = value {
                also.push_str(&format!(" AND {column} = {}", p.add(v.clone())));
            }
        }
        let (whole_from, whole_to) = (p.add(period.whole.0), p.add(period.whole.1));
        let partial = p.add(period.partial.clone());
        let (day_from, day_to) = (p.add(period.days.0), p.add(period.days.1));
        let clause = record_where(filter, &mut p);
        Ok(self
            .c()
            .query_one(
                &format!(
                    "SELECT
                        (SELECT coalesce(sum(n), 0) FROM console_tally_month
                         WHERE unit = ANY({units}) AND month BETWEEN {whole_from} AND {whole_to}
                           AND level = ''{also})::bigint
                      + (SELECT coalesce(sum(n), 0) FROM console_tally
                         WHERE unit = ANY({units}) AND month = ANY({partial})
                           AND day BETWEEN {day_from} AND {day_to} AND level = ''{also})::bigint
                      + (SELECT count(*) FROM console_records r
                         WHERE {clause} AND r.violations <> 0)"
                ),
                &p.refs(),
            )?
            .get(0))
    }

    fn list_hazards(&self, f: &HazardFilter, today: Day) -> StoreResult<Vec<HazardRow>> {
        let mut p = Params::default();
        let mut clauses = vec![format!("h.unit = ANY({})", p.add(f.units.clone()))];
        if let Some(d) = f.from {
            clauses.push(format!("h.registered_on >= {}", p.add(d.to_string())));
        }
        if let Some(d) = f.to {
            clauses.push(format!("h.registered_on <= {}", p.add(d.to_string())));
        }
        for (column, value) in [
            ("h.level", &f.level),
            ("h.stage", &f.stage),
            ("h.enterprise_id", &f.enterprise),
        ] {
            if let Some(v) = value {
                clauses.push(format!("{column} = {}", p.add(v.clone())));
            }
        }
        if f.overdue {
            // A fast pre-filter; app-core's `Hazard::is_overdue` decides below.
            clauses.push(format!(
                "h.stage IN ('registered', 'ordered', 'rectified') AND h.deadline < {}",
                p.add(today.to_string())
            ));
        }
        if f.supervised {
            clauses.push("h.supervised".into());
        }
        let sql = format!(
            "SELECT h.record_id, h.unit, h.enterprise_id, h.enterprise_name, h.hazard
             FROM console_hazards h WHERE {}
             ORDER BY h.registered_on DESC, h.record_id, h.hazard_id",
            clauses.join(" AND ")
        );
        let mut out = Vec::new();
        for r in self.c().query(&sql, &p.refs())? {
            let hazard = hazard_from_json(r.get(4))?;
            if f.overdue && !hazard.is_overdue(today) {
                continue;
            }
            out.push(HazardRow {
                record_id: r.get(0),
                unit: r.get(1),
                enterprise_id: r.get(2),
                enterprise_name: r.get(3),
                hazard,
            });
        }
        Ok(out)
    }

    fn record_facts(
        &self,
        units: &[String],
        from: Day,
        to: Day,
        today: Day,
    ) -> StoreResult<Vec<RecordFacts>> {
        let (start, end) = (day_start_ms(from), day_start_ms(to.plus_days(1)));
        let rows = self.c().query(
            "SELECT r.id, r.unit, r.kind, r.status, r.visit_at, h.hazard
             FROM console_records r LEFT JOIN console_hazards h ON h.record_id = r.id
             WHERE r.unit = ANY($1) AND r.visit_at >= $2 AND r.visit_at < $3
               AND r.violations = 0
             ORDER BY r.id",
            &[&units, &start, &end],
        )?;
        let mut facts = FactsBuilder::new(today);
        for r in rows {
            facts.row(FactsRow {
                id: r.get(0),
                unit: r.get(1),
                kind: r.get(2),
                status: r.get(3),
                visit_at: r.get(4),
                hazard: r.get(5),
            });
        }
        Ok(facts.finish())
    }

    fn figure_tallies(
        &self,
        units: &[String],
        from: Day,
        to: Day,
        today: Day,
    ) -> StoreResult<Vec<TalliedFacts>> {
        let period = TallyPeriod::new(from, to);
        let mut builder = TallyBuilder::new();
        for r in self.c().query(
            "SELECT unit, month, kind, status, level, stage, supervised, month * 100 + 1, n
             FROM console_tally_month
             WHERE unit = ANY($1) AND month BETWEEN $2 AND $3
             UNION ALL
             SELECT unit, month, kind, status, level, stage, supervised, day, n
             FROM console_tally
             WHERE unit = ANY($1) AND month = ANY($4) AND day BETWEEN $5 AND $6",
            &[
                &units,
                &period.whole.0,
                &period.whole.1,
                &period.partial,
                &period.days.0,
                &period.days.1,
            ],
        )? {
            builder.tally(TallyRow {
                unit: r.get(0),
                month: r.get(1),
                kind: r.get(2),
                status: r.get(3),
                level: r.get(4),
                stage: r.get(5),
                supervised: r.get(6),
                day: r.get(7),
                n: r.get(8),
            });
        }
        // The hazards that may be overdue (from the partial index of open hazards), each
        // joined to its record by id: a LATERAL subquery with LIMIT (the id is the key, so at
        // most one row anyway) keeps the planner to one key lookup per hazard, where a plain
        // join let it hash a parallel scan of every record of the period (220 ms for a city's
        // year).
        let (start, end) = (day_start_ms(from), day_start_ms(to.plus_days(1)));
        for r in self.c().query(
            "SELECT r.unit, r.kind, r.status, r.visit_at, h.level, h.stage, h.supervised,
                    h.deadline
             FROM console_hazards h CROSS JOIN LATERAL (
                SELECT r.unit, r.kind, r.status, r.visit_at FROM console_records r
                WHERE r.id = h.record_id AND r.visit_at >= $3 AND r.visit_at < $4
                  AND r.violations = 0
                LIMIT 1) r
             WHERE h.unit = ANY($2) AND h.stage IN ('registered', 'ordered', 'rectified')
               AND h.deadline < $1",
            &[&today.to_string(), &units, &start, &end],
        )? {
            builder.maybe_overdue(
                OverdueRow {
                    unit: r.get(0),
                    kind: r.get(1),
                    status: r.get(2),
                    visit_at: r.get(3),
                    level: r.get(4),
                    stage: r.get(5),
                    supervised: r.get(6),
                    deadline: r.get(7),
                },
                today,
            );
        }
        Ok(builder.finish())
    }

    fn backfill_pending(&self) -> StoreResult<bool> {
        Ok(self
            .c()
            .query_opt("SELECT pending FROM console_backfill LIMIT 1", &[])?
            .is_some())
    }

    fn unindexed_records(&self) -> StoreResult<Vec<String>> {
        Ok(self
            .c()
            .query(
                "SELECT d.id FROM docs d
                 WHERE NOT EXISTS (SELECT 1 FROM console_records r WHERE r.id = d.id)
                 ORDER BY d.id",
                &[],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn backfill_done(&self) -> StoreResult<()> {
        self.c().execute("DELETE FROM console_backfill", &[])?;
        Ok(())
    }
}
