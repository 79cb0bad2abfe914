//! [`ConsoleIndex`] on PostgreSQL: the index rows written with every record version, and the
//! console's lists and figures over them (the SQLite queries are `store::console_query`).

use super::Pg;
use crate::store::console_index::{ConsoleIndex, TallyKey, TallyPeriod, decision_str, visit_at};
use crate::store::console_query::{
    Cursor, FactsBuilder, FactsRow, HazardFilter, HazardRow, OverdueRow, RECORD_COLUMNS,
    RecordFilter, RecordRow, TallyBuilder, TallyRow, counted_by_tally, day_start_ms, page_parts,
};
use crate::store::{StoreError, StoreResult};
use app_core::figures::{RecordFacts, TalliedFacts};
use app_core::geo::Day;
use app_core::hazard::Hazard;
use app_core::inspection::Inspection;
use postgres::GenericClient;
use postgres::types::ToSql;

/// Rewrites the index rows of `record` (in the transaction that stores it).
pub(super) fn index_record(
    c: &mut impl GenericClient,
    record: &Inspection,
    existed: bool,
) -> StoreResult<()> {
    let id = record.id.as_str();
    let inspectors: Vec<&str> = record
        .inspectors
        .values()
        .map(|i| i.name.as_str())
        .collect();
    let kind = serde_json::to_value(record.kind).expect("kinds serialise");
    let review = record.review.as_ref();
    // The tally: the record's old place out, its new one in (nothing when neither changed).
    let old = if existed {
        indexed_tally_key(c, id)?
    } else {
        None
    };
    let violations = record.violations().len() as i64;
    let new = (violations == 0).then(|| TallyKey::of(record));
    if old != new {
        if let Some(old) = &old {
            tally(c, old, -1)?;
        }
        if let Some(new) = &new {
            tally(c, new, 1)?;
        }
    }
    c.execute(
        "INSERT INTO console_records (id, unit, kind, status, enterprise_id,
            enterprise_name, plan, inspectors, created_at, started_at, completed_at, visit_at,
            review_decision, review_by, review_at, review_comment, hazards, violations)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
         ON CONFLICT (id) DO UPDATE SET unit = $2, kind = $3, status = $4, enterprise_id = $5,
            enterprise_name = $6, plan = $7, inspectors = $8, created_at = $9,
            started_at = $10, completed_at = $11, visit_at = $12, review_decision = $13,
            review_by = $14, review_at = $15, review_comment = $16, hazards = $17,
            violations = $18",
        &[
            &id,
            &record.unit.as_str(),
            &kind.as_str().unwrap_or_default(),
            &record.status.as_str(),
            &record.enterprise.id.as_str(),
            &record.enterprise.name,
            &record.plan.as_ref().map(|p| p.as_str()),
            &inspectors.join("、"),
            &record.created_at.0,
            &record.started_at.map(|t| t.0),
            &record.completed_at.map(|t| t.0),
            &visit_at(record),
            &review.map(|r| decision_str(r.decision)),
            &review.map(|r| r.by.as_str()),
            &review.map(|r| r.at.0),
            &review.map(|r| r.comment.as_str()),
            &(record.hazards.len() as i64),
            &violations,
        ],
    )?;
    if existed {
        c.execute("DELETE FROM console_hazards WHERE record_id = $1", &[&id])?;
    }
    for h in record.hazards.values() {
        let level = serde_json::to_value(h.level).expect("levels serialise");
        c.execute(
            "INSERT INTO console_hazards (record_id, hazard_id, unit, enterprise_id,
                enterprise_name, level, stage, registered_on, deadline, supervised, closed_on,
                hazard)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                &id,
                &h.id.as_str(),
                &record.unit.as_str(),
                &record.enterprise.id.as_str(),
                &record.enterprise.name,
                &level.as_str().unwrap_or_default(),
                &h.stage.as_str(),
                &h.registered_on.to_string(),
                &h.deadline.map(|d| d.to_string()),
                &h.supervision.is_some(),
                &h.closed_on.map(|d| d.to_string()),
                &serde_json::to_string(h).expect("hazards serialise"),
            ],
        )?;
    }
    Ok(())
}

/// Adds `delta` (1 or -1) records of `key`, and its hazards, to `console_tally` and
/// `console_tally_month`; rows that reach zero are removed.
fn tally(c: &mut impl GenericClient, key: &TallyKey, delta: i64) -> StoreResult<()> {
    let (month, day) = key.month_day();
    let rows = std::iter::once(("", "", false)).chain(
        key.hazards
            .iter()
            .map(|(l, s, sup)| (l.as_str(), s.as_str(), *sup)),
    );
    for (level, stage, supervised) in rows {
        let params: [&(dyn ToSql + Sync); 8] = [
            &key.unit,
            &month,
            &key.kind,
            &key.status,
            &level,
            &stage,
            &supervised,
            &day,
        ];
        let mut with_delta = params.to_vec();
        with_delta.push(&delta);
        let mut month_delta = params[..7].to_vec();
        month_delta.push(&delta);
        c.execute(
            "INSERT INTO console_tally_month (unit, month, kind, status, level, stage,
                supervised, n)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (unit, month, kind, status, level, stage, supervised)
             DO UPDATE SET n = console_tally_month.n + excluded.n",
            &month_delta,
        )?;
        c.execute(
            "INSERT INTO console_tally (unit, month, kind, status, level, stage, supervised,
                day, n)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (unit, month, kind, status, level, stage, supervised, day)
             DO UPDATE SET n = console_tally.n + excluded.n",
            &with_delta,
        )?;
        if delta < 0 {
            c.execute(
                "DELETE FROM console_tally_month WHERE unit = $1 AND month = $2 AND kind = $3
                    AND status = $4 AND level = $5 AND stage = $6 AND supervised = $7
                    AND n <= 0",
                &params[..7],
            )?;
            c.execute(
                "DELETE FROM console_tally WHERE unit = $1 AND month = $2 AND kind = $3
                    AND status = $4 AND level = $5 AND stage = $6 AND supervised = $7
                    AND day = $8 AND n <= 0",
                &params,
            )?;
        }
    }
    Ok(())
}

/// The tally key of the record `id` as its index rows hold it, if it is counted.
fn indexed_tally_key(c: &mut impl GenericClient, id: &str) -> StoreResult<Option<TallyKey>> {
    let Some(row) = c.query_opt(
        "SELECT unit, kind, status, visit_at FROM console_records
         WHERE id = $1 AND violations = 0",
        &[&id],
    )?
    else {
        return Ok(None);
    };
    let hazards = c
        .query(
            "SELECT level, stage, supervised FROM console_hazards WHERE record_id = $1
             ORDER BY hazard_id",
            &[&id],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    Ok(Some(TallyKey {
        unit: row.get(0),
        kind: row.get(1),
        status: row.get(2),
        visit_at: row.get(3),
        hazards,
    }))
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
        self.atomic(|tx| index_record(tx, record, existed))
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
            let columns = if merged {
                "r.visit_at, r.id"
            } else {
                RECORD_COLUMNS
            };
            selects.push(format!(
                "SELECT {columns} FROM console_records r WHERE {clause}
                 ORDER BY r.visit_at DESC, r.id DESC LIMIT {limit_param}"
            ));
        }
        let sql = if merged {
            let limit_param = p.add(limit as i64 + 1);
            format!(
                "WITH page AS (
                    SELECT visit_at, id FROM ({}) AS keys
                    ORDER BY visit_at DESC, id DESC LIMIT {limit_param})
                 SELECT {RECORD_COLUMNS} FROM page p JOIN console_records r ON r.id = p.id
                 ORDER BY p.visit_at DESC, p.id DESC",
                selects
                    .iter()
                    .enumerate()
                    .map(|(i, q)| format!("SELECT * FROM ({q}) AS p{i}"))
                    .collect::<Vec<_>>()
                    .join(" UNION ALL ")
            )
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
        // The hazards that may be overdue (from the partial index of open hazards), then
        // their records counted in the period, by id: two index reads, where one join let the
        // planner scan every record of the period to hash them.
        let hazards = self.c().query(
            "SELECT h.record_id, h.level, h.stage, h.supervised, h.deadline
             FROM console_hazards h
             WHERE h.unit = ANY($2) AND h.stage IN ('registered', 'ordered', 'rectified')
               AND h.deadline < $1",
            &[&today.to_string(), &units],
        )?;
        if hazards.is_empty() {
            return Ok(builder.finish());
        }
        let mut ids: Vec<&str> = hazards.iter().map(|h| h.get(0)).collect();
        ids.sort_unstable();
        ids.dedup();
        let (start, end) = (day_start_ms(from), day_start_ms(to.plus_days(1)));
        let records: std::collections::HashMap<String, (String, String, String, i64)> = self
            .c()
            .query(
                "SELECT id, unit, kind, status, visit_at FROM console_records
                 WHERE id = ANY($1) AND visit_at >= $2 AND visit_at < $3 AND violations = 0",
                &[&ids, &start, &end],
            )?
            .iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3), r.get(4))))
            .collect();
        for h in &hazards {
            let Some((unit, kind, status, visit_at)) = records.get(h.get::<_, &str>(0)) else {
                continue;
            };
            builder.maybe_overdue(
                OverdueRow {
                    unit: unit.clone(),
                    kind: kind.clone(),
                    status: status.clone(),
                    visit_at: *visit_at,
                    level: h.get(1),
                    stage: h.get(2),
                    supervised: h.get(3),
                    deadline: h.get(4),
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
