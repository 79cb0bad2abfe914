//! Reference data kept in the database: units, users (with an enabled flag) and enterprises,
//! each row the app-core value as JSON (so a field added to the model needs no migration)
//! beside the columns that are looked up or must be unique. On a fresh database they are
//! seeded from the fixtures; afterwards the database is the source of truth and `sync-server
//! admin` changes it (see `crate::admin::reference`).
//!
//! `ref_version` holds one counter, raised by every change in the same transaction: the
//! running server reads it about once a second (one tiny query) and reloads the reference
//! data when it moved, so changes made by `admin` (another process on the same WAL database)
//! are seen without a restart. The row's existence also says the database was seeded.

use super::{Sqlite, StoreError, StoreResult};
use app_core::enterprise::Enterprise;
use app_core::unit::Unit;
use app_core::user::User;
use rusqlite::{OptionalExtension, params};

/// The reference tables and their version counter.
pub(crate) const MIGRATION_REFERENCE: &str = "
    CREATE TABLE ref_units (
        id TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE ref_users (
        id TEXT PRIMARY KEY,
        unit TEXT NOT NULL,
        body TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE ref_enterprises (
        id TEXT PRIMARY KEY,
        uscc TEXT NOT NULL UNIQUE,
        unit TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE TABLE ref_version (
        one INTEGER PRIMARY KEY CHECK (one = 1),
        version INTEGER NOT NULL
    );
";

/// Checklist template versions uploaded by a unit's supervisor (the shipped fixtures are the
/// global versions and are not stored): kept forever, records made with one keep reading it.
pub(crate) const MIGRATION_TEMPLATES: &str = "
    CREATE TABLE ref_templates (
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        unit TEXT NOT NULL,
        body TEXT NOT NULL,
        uploaded_by TEXT NOT NULL,
        uploaded_at INTEGER NOT NULL,
        PRIMARY KEY (id, version)
    );
";

/// A template version uploaded for a unit (published to that unit's subtree).
#[derive(Debug, Clone, PartialEq)]
pub struct UnitTemplate {
    pub unit: app_core::ids::UnitId,
    pub template: app_core::checklist::ChecklistTemplate,
    pub uploaded_by: String,
    /// Unix milliseconds.
    pub uploaded_at: i64,
}

/// A stored row with its enabled flag.
#[derive(Debug, Clone, PartialEq)]
pub struct Flagged<T> {
    pub value: T,
    pub enabled: bool,
}

/// Everything the reference tables hold, in the order rows were added.
#[derive(Debug, Clone, Default)]
pub struct StoredReference {
    pub units: Vec<Flagged<Unit>>,
    pub users: Vec<Flagged<User>>,
    pub enterprises: Vec<Enterprise>,
    /// Uploaded template versions, oldest first.
    pub templates: Vec<UnitTemplate>,
}

pub(crate) fn corrupt(what: &str, id: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("{what} {id}: {e}"))
}

pub(crate) fn json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Storage of units, users and enterprises.
pub trait ReferenceStore {
    /// The version counter; `None` when the database was never seeded.
    fn reference_version(&self) -> StoreResult<Option<i64>>;
    /// Raises the version counter (creating it at 1): call in the transaction of every change.
    fn bump_reference_version(&self) -> StoreResult<i64>;
    /// Every unit, user and enterprise.
    fn stored_reference(&self) -> StoreResult<StoredReference>;
    fn insert_unit(&self, unit: &Unit) -> StoreResult<()>;
    fn set_unit_enabled(&self, id: &str, enabled: bool) -> StoreResult<bool>;
    fn insert_user(&self, user: &User) -> StoreResult<()>;
    fn set_user_enabled(&self, id: &str, enabled: bool) -> StoreResult<bool>;
    fn insert_enterprise(&self, enterprise: &Enterprise) -> StoreResult<()>;
    /// Stores an uploaded template version (its id and version must be new).
    fn insert_template(&self, t: &UnitTemplate) -> StoreResult<()>;
}

impl<C: Sqlite> ReferenceStore for C {
    fn reference_version(&self) -> StoreResult<Option<i64>> {
        Ok(self
            .sqlite()
            .query_row("SELECT version FROM ref_version WHERE one = 1", [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn bump_reference_version(&self) -> StoreResult<i64> {
        Ok(self.sqlite().query_row(
            "INSERT INTO ref_version (one, version) VALUES (1, 1)
             ON CONFLICT (one) DO UPDATE SET version = version + 1
             RETURNING version",
            [],
            |r| r.get(0),
        )?)
    }

    fn stored_reference(&self) -> StoreResult<StoredReference> {
        let conn = self.sqlite();
        let mut out = StoredReference::default();
        let mut stmt = conn.prepare("SELECT id, body, enabled FROM ref_units ORDER BY rowid")?;
        for row in stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
        })? {
            let (id, body, enabled) = row?;
            let value = serde_json::from_str(&body).map_err(|e| corrupt("unit", &id, e))?;
            out.units.push(Flagged { value, enabled });
        }
        let mut stmt = conn.prepare("SELECT id, body, enabled FROM ref_users ORDER BY rowid")?;
        for row in stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
        })? {
            let (id, body, enabled) = row?;
            let value = serde_json::from_str(&body).map_err(|e| corrupt("user", &id, e))?;
            out.users.push(Flagged { value, enabled });
        }
        let mut stmt = conn.prepare("SELECT id, body FROM ref_enterprises ORDER BY rowid")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (id, body) = row?;
            let value = serde_json::from_str(&body).map_err(|e| corrupt("enterprise", &id, e))?;
            out.enterprises.push(value);
        }
        let mut stmt = conn.prepare(
            "SELECT id, version, unit, body, uploaded_by, uploaded_at FROM ref_templates
             ORDER BY rowid",
        )?;
        for row in stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })? {
            let (id, version, unit, body, uploaded_by, uploaded_at) = row?;
            let template = serde_json::from_str(&body)
                .map_err(|e| corrupt("template", &format!("{id} v{version}"), e))?;
            out.templates.push(UnitTemplate {
                unit: app_core::ids::UnitId::new(unit),
                template,
                uploaded_by,
                uploaded_at,
            });
        }
        Ok(out)
    }

    fn insert_unit(&self, unit: &Unit) -> StoreResult<()> {
        self.sqlite().execute(
            "INSERT INTO ref_units (id, body) VALUES (?1, ?2)",
            params![unit.id.as_str(), json(unit)?],
        )?;
        Ok(())
    }

    fn set_unit_enabled(&self, id: &str, enabled: bool) -> StoreResult<bool> {
        Ok(self.sqlite().execute(
            "UPDATE ref_units SET enabled = ?2 WHERE id = ?1",
            params![id, enabled],
        )? == 1)
    }

    fn insert_user(&self, user: &User) -> StoreResult<()> {
        self.sqlite().execute(
            "INSERT INTO ref_users (id, unit, body) VALUES (?1, ?2, ?3)",
            params![user.id.as_str(), user.unit.as_str(), json(user)?],
        )?;
        Ok(())
    }

    fn set_user_enabled(&self, id: &str, enabled: bool) -> StoreResult<bool> {
        Ok(self.sqlite().execute(
            "UPDATE ref_users SET enabled = ?2 WHERE id = ?1",
            params![id, enabled],
        )? == 1)
    }

    fn insert_enterprise(&self, e: &Enterprise) -> StoreResult<()> {
        self.sqlite().execute(
            "INSERT INTO ref_enterprises (id, uscc, unit, body) VALUES (?1, ?2, ?3, ?4)",
            params![e.id.as_str(), e.uscc.as_str(), e.unit.as_str(), json(e)?],
        )?;
        Ok(())
    }

    fn insert_template(&self, t: &UnitTemplate) -> StoreResult<()> {
        self.sqlite().execute(
            "INSERT INTO ref_templates (id, version, unit, body, uploaded_by, uploaded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                t.template.id,
                t.template.version,
                t.unit.as_str(),
                json(&t.template)?,
                t.uploaded_by,
                t.uploaded_at
            ],
        )?;
        Ok(())
    }
}
