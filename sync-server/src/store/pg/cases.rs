//! [`CaseStore`] on PostgreSQL: penalty cases, their inspectors and their change log, whose
//! numbers come from the one global sequence (the highest of `changes` and `case_changes`
//! plus one, under the change-log lock, as a record change's).

use super::{Pg, Query};
use crate::store::StoreResult;
use crate::store::cases::{
    CasePullFilter, CaseRow, CaseStore, CaseWrite, source_record, stage_name,
};
use crate::store::records::{ChangePage, parse_heads};
use app_core::ids::{UnitId, UserId};
use postgres::GenericClient;

const CASE_COLUMNS: &str = "id, unit, enterprise_id, stage, opened_at, inspection";

fn case_row_of(r: &postgres::Row) -> CaseRow {
    CaseRow {
        id: r.get(0),
        unit: UnitId::new(r.get::<_, String>(1)),
        enterprise: r.get(2),
        stage: r.get(3),
        opened_at: r.get(4),
        inspection: r.get(5),
        inspectors: Vec::new(),
    }
}

fn inspectors_of(c: &mut impl Query, id: &str) -> StoreResult<Vec<UserId>> {
    Ok(c.query(
        "SELECT user_id FROM case_inspectors WHERE case_id = $1 ORDER BY user_id",
        &[&id],
    )?
    .iter()
    .map(|r| UserId::new(r.get::<_, String>(0)))
    .collect())
}

impl<C: GenericClient> CaseStore for Pg<C> {
    fn case_snapshot(&self, id: &str) -> StoreResult<Option<(Vec<u8>, Vec<String>)>> {
        self.c()
            .query_opt("SELECT snapshot, heads FROM cases WHERE id = $1", &[&id])?
            .map(|r| Ok((r.get(0), parse_heads(r.get(1))?)))
            .transpose()
    }

    fn case_heads(&self, id: &str) -> StoreResult<Option<Vec<String>>> {
        self.c()
            .query_opt("SELECT heads FROM cases WHERE id = $1", &[&id])?
            .map(|r| parse_heads(r.get(0)))
            .transpose()
    }

    fn case_row(&self, id: &str) -> StoreResult<Option<CaseRow>> {
        let mut c = self.c();
        let Some(row) = c.query_opt(
            &format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1"),
            &[&id],
        )?
        else {
            return Ok(None);
        };
        let mut row = case_row_of(&row);
        row.inspectors = inspectors_of(&mut c, id)?;
        Ok(Some(row))
    }

    fn write_case(&self, w: &CaseWrite<'_>) -> StoreResult<()> {
        self.atomic(|tx| {
            let case = w.case;
            let heads = serde_json::to_string(w.heads).expect("strings serialise");
            tx.execute(
                "INSERT INTO cases (id, unit, enterprise_id, stage, opened_at, inspection,
                     snapshot, heads)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (id) DO UPDATE SET unit = $2, enterprise_id = $3, stage = $4,
                     opened_at = $5, inspection = $6, snapshot = $7, heads = $8",
                &[
                    &w.id,
                    &case.unit.as_str(),
                    &case.enterprise.id.as_str(),
                    &stage_name(case.stage),
                    &case.opened_at.0,
                    &source_record(case),
                    &w.snapshot,
                    &heads,
                ],
            )?;
            if w.existed {
                tx.execute("DELETE FROM case_inspectors WHERE case_id = $1", &[&w.id])?;
            }
            let users: Vec<&str> = case.inspectors.keys().map(|u| u.as_str()).collect();
            tx.execute(
                "INSERT INTO case_inspectors (user_id, case_id)
                 SELECT u, $1::text FROM unnest($2::text[]) AS u ON CONFLICT DO NOTHING",
                &[&w.id, &users],
            )?;
            super::records::append_changes(
                tx,
                "case_changes (seq, case_id",
                &[w.id],
                &[w.origin_device],
                &[w.change],
            )?;
            Ok(())
        })
    }

    fn case_changes_after(&self, f: &CasePullFilter<'_>) -> StoreResult<ChangePage> {
        let mut c = self.c();
        let inspector = f.inspector.unwrap_or("");
        super::records::paged(f.cursor, f.max_bytes, |cursor| {
            Ok(c.query(
                "SELECT k.seq, k.case_id, k.bytes FROM case_changes k
                     JOIN cases d ON d.id = k.case_id
                 WHERE k.seq > $1 AND k.origin_device <> $2
                   AND (d.unit = ANY($3)
                        OR EXISTS (SELECT 1 FROM case_inspectors i
                                   WHERE i.user_id = $4 AND i.case_id = d.id))
                 ORDER BY k.seq LIMIT $5",
                &[
                    &cursor,
                    &f.device,
                    &f.units,
                    &inspector,
                    &super::records::CHANGE_ROWS,
                ],
            )?)
        })
    }

    fn case_changes_wait(&self, f: &CasePullFilter<'_>) -> StoreResult<bool> {
        let mut c = self.c();
        let inspector = f.inspector.unwrap_or("");
        Ok(c.query_one(
            "SELECT EXISTS (SELECT 1 FROM case_changes k JOIN cases d ON d.id = k.case_id
             WHERE k.seq > $1 AND k.origin_device <> $2
               AND (d.unit = ANY($3)
                    OR EXISTS (SELECT 1 FROM case_inspectors i
                               WHERE i.user_id = $4 AND i.case_id = d.id)))",
            &[&f.cursor, &f.device, &f.units, &inspector],
        )?
        .get(0))
    }

    fn cases_of_units(&self, units: &[String], limit: usize) -> StoreResult<Vec<CaseRow>> {
        let mut c = self.c();
        let rows: Vec<CaseRow> = c
            .query(
                &format!(
                    "SELECT {CASE_COLUMNS} FROM cases WHERE unit = ANY($1)
                     ORDER BY opened_at DESC, id LIMIT $2"
                ),
                &[&units, &(limit as i64)],
            )?
            .iter()
            .map(case_row_of)
            .collect();
        rows.into_iter()
            .map(|mut row| {
                row.inspectors = inspectors_of(&mut c, &row.id)?;
                Ok(row)
            })
            .collect()
    }
}
