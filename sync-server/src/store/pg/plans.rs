//! Plans and draws, document-number blocks and case-file jobs on PostgreSQL.

use super::{Pg, Query};
use crate::store::casefiles::{
    CaseFileStore, DeviceKeyRow, JOB_COLUMNS, Job, JobOutcome, job_state,
};
use crate::store::numbers::{NumberStore, kind_str};
use crate::store::plans::{DRAW_COLUMNS, DrawRecord, PlanStore, parse_plan};
use crate::store::{StoreError, StoreResult};
use app_core::docnumber::{Block, Series};
use app_core::ids::{DeviceId, UserId};
use app_core::plan::Plan;
use postgres::GenericClient;

fn draw_from_row(r: &postgres::Row) -> StoreResult<DrawRecord> {
    let bad = |e: serde_json::Error| StoreError::Corrupt(format!("stored draw: {e}"));
    Ok(DrawRecord {
        id: r.get(0),
        input: serde_json::from_str(r.get(1)).map_err(bad)?,
        result: serde_json::from_str(r.get(2)).map_err(bad)?,
        due: r.get(3),
        drawn_by: UserId::new(r.get::<_, String>(4)),
        drawn_at: r.get(5),
    })
}

fn plans(rows: Vec<postgres::Row>) -> StoreResult<Vec<Plan>> {
    rows.into_iter().map(|r| parse_plan(r.get(0))).collect()
}

impl<C: GenericClient> PlanStore for Pg<C> {
    fn sealed_plan(&self, id: &str) -> StoreResult<Option<Plan>> {
        self.c()
            .query_opt("SELECT plan FROM plans WHERE id = $1", &[&id])?
            .map(|r| parse_plan(r.get(0)))
            .transpose()
    }

    fn sealed_plans_assigned_to(&self, user: &UserId) -> StoreResult<Vec<Plan>> {
        plans(self.c().query(
            "SELECT p.plan FROM plan_assignees a JOIN plans p ON p.id = a.plan_id
             WHERE a.user_id = $1 ORDER BY p.id",
            &[&user.as_str()],
        )?)
    }

    fn sealed_plans(&self) -> StoreResult<Vec<Plan>> {
        plans(self.c().query("SELECT plan FROM plans ORDER BY id", &[])?)
    }

    fn draw(&self, id: &str) -> StoreResult<Option<DrawRecord>> {
        self.c()
            .query_opt(
                &format!("SELECT {DRAW_COLUMNS} FROM draws WHERE id = $1"),
                &[&id],
            )?
            .as_ref()
            .map(draw_from_row)
            .transpose()
    }

    fn draw_by_digest(&self, digest: &str) -> StoreResult<Option<DrawRecord>> {
        self.c()
            .query_opt(
                &format!("SELECT {DRAW_COLUMNS} FROM draws WHERE input_digest = $1"),
                &[&digest],
            )?
            .as_ref()
            .map(draw_from_row)
            .transpose()
    }

    fn draws_of(&self, units: &[String]) -> StoreResult<Vec<DrawRecord>> {
        self.c()
            .query(
                &format!(
                    "SELECT {DRAW_COLUMNS} FROM draws WHERE unit = ANY($1)
                     ORDER BY drawn_at DESC, id"
                ),
                &[&units],
            )?
            .iter()
            .map(draw_from_row)
            .collect()
    }

    fn plans_of_draw(&self, id: &str) -> StoreResult<Vec<Plan>> {
        plans(self.c().query(
            "SELECT plan FROM plans WHERE draw_id = $1 ORDER BY n",
            &[&id],
        )?)
    }

    fn insert_draw(&self, record: &DrawRecord, plans: &[Plan]) -> StoreResult<()> {
        self.atomic(|tx| {
            tx.execute(
                "INSERT INTO draws (id, input_digest, unit, input, result, due, drawn_by, drawn_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &record.id,
                    &record.result.input_digest,
                    &record.result.unit.as_str(),
                    &record.input.canonical_json(),
                    &serde_json::to_string(&record.result).expect("results serialise"),
                    &record.due,
                    &record.drawn_by.as_str(),
                    &record.drawn_at,
                ],
            )?;
            for plan in plans {
                tx.execute(
                    "INSERT INTO plans (id, unit, plan, draw_id, created_at)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        &plan.id.as_str(),
                        &plan.unit.as_str(),
                        &serde_json::to_string(plan).expect("plans serialise"),
                        &record.id,
                        &record.drawn_at,
                    ],
                )?;
                for user in &plan.assigned {
                    tx.execute(
                        "INSERT INTO plan_assignees (plan_id, user_id) VALUES ($1, $2)
                         ON CONFLICT DO NOTHING",
                        &[&plan.id.as_str(), &user.as_str()],
                    )?;
                }
            }
            Ok(())
        })
    }
}

fn number(v: i64) -> StoreResult<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("stored block bound {v}")))
}

impl<C: GenericClient> NumberStore for Pg<C> {
    fn blocks_of(&self, series: &Series) -> StoreResult<Vec<Block>> {
        self.c()
            .query(
                "SELECT device_id, first, last FROM number_blocks
                 WHERE unit = $1 AND kind = $2 AND year = $3",
                &[&series.unit.as_str(), &kind_str(series.kind), &series.year],
            )?
            .iter()
            .map(|r| {
                Ok(Block {
                    series: series.clone(),
                    device: DeviceId::new(r.get::<_, String>(0)),
                    first: number(r.get(1))?,
                    last: number(r.get(2))?,
                })
            })
            .collect()
    }

    fn insert_block(&self, block: &Block, user: &str, now_secs: i64) -> StoreResult<()> {
        let s = &block.series;
        self.c().execute(
            "INSERT INTO number_blocks
                (unit, kind, year, first, last, device_id, user_id, reserved_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &s.unit.as_str(),
                &kind_str(s.kind),
                &s.year,
                &i64::from(block.first),
                &i64::from(block.last),
                &block.device.as_str(),
                &user,
                &now_secs,
            ],
        )?;
        Ok(())
    }

    fn highest_before(&self, series: &Series, secs: i64) -> StoreResult<u32> {
        number(
            self.c()
                .query_one(
                    "SELECT COALESCE(MAX(last), 0)::bigint FROM number_blocks
                     WHERE unit = $1 AND kind = $2 AND year = $3 AND reserved_at < $4",
                    &[
                        &series.unit.as_str(),
                        &kind_str(series.kind),
                        &series.year,
                        &secs,
                    ],
                )?
                .get(0),
        )
    }
}

fn job_from_row(r: &postgres::Row, now: i64) -> Job {
    Job {
        id: r.get(0),
        record_id: r.get(1),
        requested_by: r.get(2),
        requested_at: r.get(3),
        state: job_state(r.get(4), r.get(8), now),
        bytes_done: r.get::<_, i64>(5).max(0) as u64,
        bytes_total: r.get::<_, i64>(6).max(0) as u64,
        current: r.get(7),
        signed_version: r.get(9),
        size: r.get::<_, Option<i64>>(10).map(|s| s.max(0) as u64),
        manifest_sha256: r.get(11),
        error_zh: r.get(12),
        error_en: r.get(13),
    }
}

impl<C: GenericClient> CaseFileStore for Pg<C> {
    fn server_secret(&self) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .c()
            .query_opt("SELECT secret FROM server_key WHERE id = 1", &[])?
            .map(|r| r.get(0)))
    }

    fn insert_server_secret(&self, secret: &[u8], now: i64) -> StoreResult<()> {
        self.c().execute(
            "INSERT INTO server_key (id, secret, created_at) VALUES (1, $1, $2)
             ON CONFLICT DO NOTHING",
            &[&secret, &now],
        )?;
        Ok(())
    }

    fn replace_server_secret(&self, secret: &[u8], now: i64) -> StoreResult<()> {
        self.c().execute(
            "INSERT INTO server_key (id, secret, created_at) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET secret = $1, created_at = $2",
            &[&secret, &now],
        )?;
        Ok(())
    }

    fn device_keys(&self) -> StoreResult<Vec<DeviceKeyRow>> {
        Ok(self
            .c()
            .query(
                "SELECT id, user_id, public_key FROM devices ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    fn insert_job(&self, id: &str, record: &str, user: &str, now: i64) -> StoreResult<()> {
        self.c().execute(
            "INSERT INTO casefile_exports
                (id, record_id, requested_by, requested_at, state, updated_at)
             VALUES ($1, $2, $3, $4, 'running', $4)",
            &[&id, &record, &user, &now],
        )?;
        Ok(())
    }

    fn job(&self, id: &str, now: i64) -> StoreResult<Option<Job>> {
        Ok(self
            .c()
            .query_opt(
                &format!("SELECT {JOB_COLUMNS} FROM casefile_exports WHERE id = $1"),
                &[&id],
            )?
            .map(|r| job_from_row(&r, now)))
    }

    fn recent_jobs(&self, record: &str, now: i64) -> StoreResult<Vec<Job>> {
        Ok(self
            .c()
            .query(
                &format!(
                    "SELECT {JOB_COLUMNS} FROM casefile_exports WHERE record_id = $1
                     ORDER BY requested_at DESC, id DESC LIMIT 5"
                ),
                &[&record],
            )?
            .iter()
            .map(|r| job_from_row(r, now))
            .collect())
    }

    fn job_progress(
        &self,
        id: &str,
        bytes_done: u64,
        bytes_total: u64,
        current: &str,
        now: i64,
    ) -> StoreResult<()> {
        self.c().execute(
            "UPDATE casefile_exports SET bytes_done = $2, bytes_total = $3, current = $4,
             updated_at = $5 WHERE id = $1 AND state = 'running'",
            &[
                &id,
                &(bytes_done as i64),
                &(bytes_total as i64),
                &current,
                &now,
            ],
        )?;
        Ok(())
    }

    fn finish_job(&self, id: &str, outcome: JobOutcome<'_>, now: i64) -> StoreResult<()> {
        match outcome {
            JobOutcome::Done {
                signed_version,
                size,
                manifest_sha256,
            } => self.c().execute(
                "UPDATE casefile_exports SET state = 'done', bytes_done = bytes_total,
                 current = '', updated_at = $2, signed_version = $3, size = $4,
                 manifest_sha256 = $5 WHERE id = $1",
                &[&id, &now, &signed_version, &(size as i64), &manifest_sha256],
            )?,
            JobOutcome::Failed { error_zh, error_en } => self.c().execute(
                "UPDATE casefile_exports SET state = 'failed', current = '', updated_at = $2,
                 error_zh = $3, error_en = $4 WHERE id = $1",
                &[&id, &now, &error_zh, &error_en],
            )?,
        };
        Ok(())
    }
}
