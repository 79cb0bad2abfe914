//! Inspection plans: the fixture plans of the reference data and the sealed plans made from
//! 双随机 draws in the console, which live in the database (`plans`, `plan_assignees`) next to
//! the draw's recorded inputs (`draws`: the canonical input JSON, the result, the due date,
//! who drew and when), so that anyone can repeat a draw and compare.
//!
//! Every reader of plans goes through [`find`], [`assigned_to`] or [`visible_to`], which cover
//! both sources.

use crate::reference::{ReferenceBundle, ReferenceData};
use app_core::access::{can_read_enterprise, can_read_plan};
use app_core::draw::{DrawInput, DrawResult};
use app_core::ids::UserId;
use app_core::plan::Plan;
use app_core::user::User;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

fn parse_plan(json: String) -> rusqlite::Result<Plan> {
    serde_json::from_str(&json).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// The plan `id`, from the fixtures or the database.
pub fn find(
    conn: &Connection,
    reference: &ReferenceData,
    id: &str,
) -> rusqlite::Result<Option<Plan>> {
    if let Some(p) = reference.plans.iter().find(|p| p.id.as_str() == id) {
        return Ok(Some(p.clone()));
    }
    conn.prepare_cached("SELECT plan FROM plans WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, String>(0))
        .optional()?
        .map(parse_plan)
        .transpose()
}

/// Every plan `user` is assigned to, from the fixtures and the database.
pub fn assigned_to(
    conn: &Connection,
    reference: &ReferenceData,
    user: &UserId,
) -> rusqlite::Result<Vec<Plan>> {
    let mut out: Vec<Plan> = reference
        .plans
        .iter()
        .filter(|p| p.assigned.contains(user))
        .cloned()
        .collect();
    let mut stmt = conn.prepare_cached(
        "SELECT p.plan FROM plan_assignees a JOIN plans p ON p.id = a.plan_id
         WHERE a.user_id = ?1 ORDER BY p.id",
    )?;
    for json in stmt.query_map([user.as_str()], |r| r.get::<_, String>(0))? {
        out.push(parse_plan(json?)?);
    }
    Ok(out)
}

/// Every plan `user` may see (app-core's `can_read_plan`), from both sources.
pub fn visible_to(
    conn: &Connection,
    reference: &ReferenceData,
    user: &User,
) -> rusqlite::Result<Vec<Plan>> {
    let mut out: Vec<Plan> = reference
        .plans
        .iter()
        .filter(|p| can_read_plan(user, p, &reference.units))
        .cloned()
        .collect();
    let mut stmt = conn.prepare_cached("SELECT plan FROM plans ORDER BY id")?;
    for json in stmt.query_map([], |r| r.get::<_, String>(0))? {
        let plan = parse_plan(json?)?;
        if can_read_plan(user, &plan, &reference.units) {
            out.push(plan);
        }
    }
    Ok(out)
}

/// What a tablet receives: the reference bundle with the database plans the user may see, and
/// the enterprises those plans send them to.
pub fn bundle_for(
    conn: &Connection,
    reference: &ReferenceData,
    user: &User,
) -> rusqlite::Result<ReferenceBundle> {
    let mut bundle = reference.bundle_for(user);
    let plans = visible_to(conn, reference, user)?;
    for e in &reference.enterprises {
        if !bundle.enterprises.iter().any(|x| x.id == e.id)
            && can_read_enterprise(user, e, &reference.units, &plans)
        {
            bundle.enterprises.push(e.clone());
        }
    }
    bundle.plans = plans;
    Ok(bundle)
}

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

fn json_err(e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
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

const DRAW_COLUMNS: &str = "id, input, result, due, drawn_by, drawn_at";

/// The recorded draw `id`.
pub fn draw(conn: &Connection, id: &str) -> rusqlite::Result<Option<DrawRecord>> {
    conn.query_row(
        &format!("SELECT {DRAW_COLUMNS} FROM draws WHERE id = ?1"),
        [id],
        draw_from_row,
    )
    .optional()
}

/// The recorded draw whose input has this digest (the same input always has the same digest).
pub fn draw_by_digest(conn: &Connection, digest: &str) -> rusqlite::Result<Option<DrawRecord>> {
    conn.query_row(
        &format!("SELECT {DRAW_COLUMNS} FROM draws WHERE input_digest = ?1"),
        [digest],
        draw_from_row,
    )
    .optional()
}

/// Recorded draws of these units, newest first.
pub fn draws_of(conn: &Connection, units: &[String]) -> rusqlite::Result<Vec<DrawRecord>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {DRAW_COLUMNS} FROM draws WHERE unit IN (SELECT value FROM json_each(?1))
         ORDER BY drawn_at DESC, id"
    ))?;
    let units = serde_json::to_string(units).expect("strings serialise");
    stmt.query_map([units], draw_from_row)?.collect()
}

/// The plans made from draw `id`, in draw order.
pub fn plans_of_draw(conn: &Connection, id: &str) -> rusqlite::Result<Vec<Plan>> {
    let mut stmt = conn.prepare("SELECT plan FROM plans WHERE draw_id = ?1 ORDER BY rowid")?;
    let plans = stmt
        .query_map([id], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    plans.into_iter().map(parse_plan).collect()
}

/// Records a draw and its sealed plans, in the caller's transaction. The caller has run the
/// draw from `record.input` and checked who may make plans for its unit.
pub fn insert_draw(
    tx: &Transaction<'_>,
    record: &DrawRecord,
    plans: &[Plan],
) -> rusqlite::Result<()> {
    tx.execute(
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
        tx.execute(
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
            tx.execute(
                "INSERT OR IGNORE INTO plan_assignees (plan_id, user_id) VALUES (?1, ?2)",
                params![plan.id.as_str(), user.as_str()],
            )?;
        }
    }
    Ok(())
}
