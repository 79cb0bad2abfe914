//! Reference data sent by the server (units, users, enterprises, checklist templates,
//! assigned plans, the units' penalty rules), kept so that an inspection needs no network.
//! Each kind is replaced whole at sync; a fetched bundle is stored in one transaction
//! ([`Store::replace_reference_bundle`]).

use super::{Result, Store, StoreError};
use app_core::checklist::{ChecklistTemplate, TemplateRef};
use app_core::enterprise::Enterprise;
use app_core::ids::UnitId;
use app_core::plan::Plan;
use app_core::unit::Unit;
use app_core::user::User;
use app_core::wire::http::{ReferenceBundle, UnitCaseRules};
use rusqlite::OptionalExtension;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A kind of reference data and how to key it.
pub trait ReferenceKind: Serialize + DeserializeOwned {
    const KIND: &'static str;
    fn key(&self) -> String;
    /// The unit the item belongs to, if it has one (for queries by territory).
    fn unit(&self) -> Option<&str> {
        None
    }
}

impl ReferenceKind for Unit {
    const KIND: &'static str = "unit";
    fn key(&self) -> String {
        self.id.to_string()
    }
}

impl ReferenceKind for User {
    const KIND: &'static str = "user";
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn unit(&self) -> Option<&str> {
        Some(self.unit.as_str())
    }
}

impl ReferenceKind for Enterprise {
    const KIND: &'static str = "enterprise";
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn unit(&self) -> Option<&str> {
        Some(self.unit.as_str())
    }
}

impl ReferenceKind for ChecklistTemplate {
    const KIND: &'static str = "template";
    fn key(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }
}

impl ReferenceKind for Plan {
    const KIND: &'static str = "plan";
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn unit(&self) -> Option<&str> {
        Some(self.unit.as_str())
    }
}

/// A unit's penalty rules as the server resolved them (its own or inherited): what the
/// tablet keeps its cases with (see `Store::case_rules`).
impl ReferenceKind for UnitCaseRules {
    const KIND: &'static str = "penalty_rules";
    fn key(&self) -> String {
        self.unit.to_string()
    }
    fn unit(&self) -> Option<&str> {
        Some(self.unit.as_str())
    }
}

/// Replaces every item of one kind, inside the caller's transaction.
fn replace_kind<T: ReferenceKind>(tx: &rusqlite::Connection, items: &[T]) -> Result<()> {
    tx.execute("DELETE FROM reference WHERE kind = ?1", [T::KIND])?;
    let mut insert =
        tx.prepare_cached("INSERT INTO reference (kind, id, unit, body) VALUES (?1, ?2, ?3, ?4)")?;
    for item in items {
        let body = serde_json::to_string(item).expect("reference data serialises");
        insert.execute(rusqlite::params![T::KIND, item.key(), item.unit(), body])?;
    }
    Ok(())
}

/// The penalty rules the server sent for `unit`, if it sent any (read in the caller's
/// transaction).
pub(super) fn penalty_rules_in(
    conn: &rusqlite::Connection,
    unit: &UnitId,
) -> Result<Option<UnitCaseRules>> {
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM reference WHERE kind = ?1 AND id = ?2")?
        .query_row([UnitCaseRules::KIND, unit.as_str()], |r| r.get(0))
        .optional()?;
    body.map(|b| {
        serde_json::from_str(&b)
            .map_err(|e| StoreError::Corrupt(format!("{} {unit}: {e}", UnitCaseRules::KIND)))
    })
    .transpose()
}

impl Store {
    /// Replaces every item of one kind (what the server sent at the last sync).
    pub fn replace_reference<T: ReferenceKind>(&mut self, items: &[T]) -> Result<()> {
        let tx = self.conn.transaction()?;
        replace_kind(&tx, items)?;
        tx.commit()?;
        Ok(())
    }

    /// Replaces the whole reference data with a bundle the server sent, every kind (the
    /// units' penalty rules included) in one transaction: a case is never judged with rules
    /// older or newer than the units and templates beside them.
    pub fn replace_reference_bundle(&mut self, bundle: &ReferenceBundle) -> Result<()> {
        let tx = self.conn.transaction()?;
        replace_kind(&tx, &bundle.units)?;
        replace_kind(&tx, &bundle.users)?;
        replace_kind(&tx, &bundle.enterprises)?;
        replace_kind(&tx, &bundle.templates)?;
        replace_kind(&tx, &bundle.plans)?;
        replace_kind(&tx, &bundle.penalty_rules)?;
        tx.commit()?;
        Ok(())
    }

    /// Every stored item of one kind.
    pub fn reference<T: ReferenceKind>(&self) -> Result<Vec<T>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, body FROM reference WHERE kind = ?1 ORDER BY id")?;
        let rows = stmt.query_map([T::KIND], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        rows.map(|row| {
            let (id, body) = row?;
            serde_json::from_str(&body)
                .map_err(|e| StoreError::Corrupt(format!("{} {id}: {e}", T::KIND)))
        })
        .collect()
    }

    /// The template a record was made with, by exact id and version.
    pub fn template(&self, reference: &TemplateRef) -> Result<Option<ChecklistTemplate>> {
        Ok(self
            .reference::<ChecklistTemplate>()?
            .into_iter()
            .find(|t| t.reference() == *reference))
    }

    /// Enterprises whose name, USCC or address contains `query` (case-insensitive for
    /// ASCII), at most `limit`, by name.
    pub fn search_enterprises(&self, query: &str, limit: u32) -> Result<Vec<Enterprise>> {
        let pattern = format!(
            "%{}%",
            query
                .trim()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, body FROM reference WHERE kind = 'enterprise' AND (
                 json_extract(body, '$.name') LIKE ?1 ESCAPE '\\'
              OR json_extract(body, '$.uscc') LIKE ?1 ESCAPE '\\'
              OR json_extract(body, '$.address') LIKE ?1 ESCAPE '\\')
             ORDER BY json_extract(body, '$.name') LIMIT ?2",
        )?;
        let rows = stmt.query_map(rusqlite::params![pattern, limit], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        rows.map(|row| {
            let (id, body) = row?;
            serde_json::from_str(&body)
                .map_err(|e| StoreError::Corrupt(format!("enterprise {id}: {e}")))
        })
        .collect()
    }
}
