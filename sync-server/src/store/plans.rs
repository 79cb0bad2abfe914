//! Sealed plans and the draws they came from (`plans`, `plan_assignees`, `draws`): what a
//! 双随机 draw recorded (the canonical input JSON, the result, the due date, who drew and
//! when), so that anyone can repeat a draw and compare. The fixture plans of the reference
//! data are not stored; `crate::plans` combines both sources.

use super::{Sqlite, StoreError, StoreResult};
use app_core::draw::{DrawInput, DrawResult};
use app_core::ids::UserId;
use app_core::plan::Plan;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// Migration 2 (with the console index of `crate::index`): plans made by draws and
/// the draws' recorded inputs.
pub(crate) const MIGRATION_2: &str = "
    CREATE TABLE draws (
        id TEXT PRIMARY KEY,
        input_digest TEXT NOT NULL UNIQUE,
        unit TEXT NOT NULL,
        -- The canonical JSON of the draw input (app_core::draw::DrawInput::canonical_json).
        input TEXT NOT NULL,
        -- The DrawResult as JSON.
        result TEXT NOT NULL,
        due TEXT,
        drawn_by TEXT NOT NULL,
        drawn_at INTEGER NOT NULL
    );
    CREATE INDEX draws_by_unit ON draws (unit, drawn_at);
    CREATE TABLE plans (
        id TEXT PRIMARY KEY,
        unit TEXT NOT NULL,
        -- The plan as JSON (app_core::plan::Plan).
        plan TEXT NOT NULL,
        draw_id TEXT REFERENCES draws(id),
        created_at INTEGER NOT NULL
    );
    CREATE TABLE plan_assignees (
        plan_id TEXT NOT NULL REFERENCES plans(id),
        user_id TEXT NOT NULL,
        PRIMARY KEY (user_id, plan_id)
    ) WITHOUT ROWID;
";

/// A draw as recorded: its inputs, result, and who ran it when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawRecord {
    pub id: String,
    pub input: DrawInput,
    pub result: DrawResult,
    pub due: Option<String>,
    pub drawn_by: UserId,
    /// Seconds since the Unix epoch.
    pub drawn_at: i64,
}

/// Storage of sealed plans and recorded draws.
pub trait PlanStore {
    /// The sealed plan `id`.
    fn sealed_plan(&self, id: &str) -> StoreResult<Option<Plan>>;
    /// Every sealed plan `user` is assigned to, by id.
    fn sealed_plans_assigned_to(&self, user: &UserId) -> StoreResult<Vec<Plan>>;
    /// Every sealed plan, by id.
    fn sealed_plans(&self) -> StoreResult<Vec<Plan>>;
    /// The recorded draw `id`.
    fn draw(&self, id: &str) -> StoreResult<Option<DrawRecord>>;
    /// The recorded draw whose input has this digest (the same input always has the same
    /// digest).
    fn draw_by_digest(&self, digest: &str) -> StoreResult<Option<DrawRecord>>;
    /// Recorded draws of these units, newest first.
    fn draws_of(&self, units: &[String]) -> StoreResult<Vec<DrawRecord>>;
    /// The plans made from draw `id`, in draw order.
    fn plans_of_draw(&self, id: &str) -> StoreResult<Vec<Plan>>;
    /// Records a draw and its sealed plans (inside a transaction).
    fn insert_draw(&self, record: &DrawRecord, plans: &[Plan]) -> StoreResult<()>;
}

fn json_err(e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
}

pub(crate) fn parse_plan(json: String) -> StoreResult<Plan> {
    serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("stored plan: {e}")))
}

fn draw_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DrawRecord> {
    let input: String = r.get(1)?;
    let result: String = r.get(2)?;
    Ok(DrawRecord {
        id: r.get(0)?,
        input: serde_json::from_str(&input).map_err(json_err)?,
        result: serde_json::from_str(&result).map_err(json_err)?,
        due: r.get(3)?,
        drawn_by: UserId::new(r.get::<_, String>(4)?),
        drawn_at: r.get(5)?,
    })
}

pub(crate) const DRAW_COLUMNS: &str = "id, input, result, due, drawn_by, drawn_at";

impl<C: Sqlite> PlanStore for C {
    fn sealed_plan(&self, id: &str) -> StoreResult<Option<Plan>> {
        self.sqlite()
            .prepare_cached("SELECT plan FROM plans WHERE id = ?1")?
            .query_row([id], |r| r.get::<_, String>(0))
            .optional()?
            .map(parse_plan)
            .transpose()
    }

    fn sealed_plans_assigned_to(&self, user: &UserId) -> StoreResult<Vec<Plan>> {
        let mut stmt = self.sqlite().prepare_cached(
            "SELECT p.plan FROM plan_assignees a JOIN plans p ON p.id = a.plan_id
             WHERE a.user_id = ?1 ORDER BY p.id",
        )?;
        let mut out = Vec::new();
        for json in stmt.query_map([user.as_str()], |r| r.get::<_, String>(0))? {
            out.push(parse_plan(json?)?);
        }
        Ok(out)
    }

    fn sealed_plans(&self) -> StoreResult<Vec<Plan>> {
        let mut stmt = self
            .sqlite()
            .prepare_cached("SELECT plan FROM plans ORDER BY id")?;
        let mut out = Vec::new();
        for json in stmt.query_map([], |r| r.get::<_, String>(0))? {
            out.push(parse_plan(json?)?);
        }
        Ok(out)
    }

    fn draw(&self, id: &str) -> StoreResult<Option<DrawRecord>> {
        Ok(self
            .sqlite()
            .query_row(
                &format!("SELECT {DRAW_COLUMNS} FROM draws WHERE id = ?1"),
                [id],
                draw_from_row,
            )
            .optional()?)
    }

    fn draw_by_digest(&self, digest: &str) -> StoreResult<Option<DrawRecord>> {
        Ok(self
            .sqlite()
            .query_row(
                &format!("SELECT {DRAW_COLUMNS} FROM draws WHERE input_digest = ?1"),
                [digest],
                draw_from_row,
            )
            .optional()?)
    }

    fn draws_of(&self, units: &[String]) -> StoreResult<Vec<DrawRecord>> {
        let mut stmt = self.sqlite().prepare(&format!(
            "SELECT {DRAW_COLUMNS} FROM draws WHERE unit IN (SELECT value FROM json_each(?1))
             ORDER BY drawn_at DESC, id"
        ))?;
        let units = serde_json::to_string(units).expect("strings serialise");
        Ok(stmt
            .query_map([units], draw_from_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn plans_of_draw(&self, id: &str) -> StoreResult<Vec<Plan>> {
        let mut stmt = self
            .sqlite()
            .prepare("SELECT plan FROM plans WHERE draw_id = ?1 ORDER BY rowid")?;
        let plans = stmt
            .query_map([id], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        plans.into_iter().map(parse_plan).collect()
    }

    fn insert_draw(&self, record: &DrawRecord, plans: &[Plan]) -> StoreResult<()> {
        self.sqlite().execute(
            "INSERT INTO draws (id, input_digest, unit, input, result, due, drawn_by, drawn_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                record.id,
                record.result.input_digest,
                record.result.unit.as_str(),
                record.input.canonical_json(),
                serde_json::to_string(&record.result).expect("results serialise"),
                record.due,
                record.drawn_by.as_str(),
                record.drawn_at,
            ],
        )?;
        for plan in plans {
            self.sqlite().execute(
                "INSERT INTO plans (id, unit, plan, draw_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    plan.id.as_str(),
                    plan.unit.as_str(),
                    serde_json::to_string(plan).expect("plans serialise"),
                    record.id,
                    record.drawn_at,
                ],
            )?;
            for user in &plan.assigned {
                self.sqlite().execute(
                    "INSERT OR IGNORE INTO plan_assignees (plan_id, user_id) VALUES (?1, ?2)",
                    params![plan.id.as_str(), user.as_str()],
                )?;
            }
        }
        Ok(())
    }
}
