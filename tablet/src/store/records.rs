//! Inspection records: the Automerge document (a compacted snapshot plus the incremental
//! changes since) and the index rows derived from it, always written in one transaction.

use super::{CACHE_LIMIT, COMPACT_AFTER, COMPACT_HARD_LIMIT, Result, Store, StoreError};
use app_core::checklist::ChecklistTemplate;
use app_core::document::{DocError, InspectionDoc};
use app_core::geo::{Day, Timestamp};
use app_core::ids::InspectionId;
use app_core::inspection::{Command, Context, Inspection, InspectionStatus};
use app_core::kind::InspectionKind;
use app_core::signing::SignedVersion;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// Where an edit came from: this tablet, or the server at sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Local,
    Remote,
}

pub(crate) fn heads_json(doc: &mut InspectionDoc) -> String {
    let heads: Vec<String> = doc.heads().iter().map(ToString::to_string).collect();
    serde_json::to_string(&heads).expect("strings serialise")
}

/// The index rows the lists read are the screens' types (in `tablet-api`).
pub use tablet_api::{HazardRow, InspectionRow};

/// What the list shows: newest first, optionally one status, kind or enterprise, one page at
/// a time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListFilter {
    pub status: Option<InspectionStatus>,
    pub kind: Option<InspectionKind>,
    pub enterprise: Option<app_core::ids::EnterpriseId>,
    pub limit: u32,
    pub offset: u32,
}

fn enum_str<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v).expect("enums serialise") {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

fn parse_enum<T: serde::de::DeserializeOwned>(s: String) -> rusqlite::Result<T> {
    serde_json::from_value(serde_json::Value::String(s.clone())).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Rewrites the index rows of one record (inside the caller's transaction).
fn write_index(
    tx: &rusqlite::Connection,
    doc: &InspectionDoc,
    updated_at: Timestamp,
) -> Result<()> {
    let r = doc.record();
    let open_hazards = r.hazards.values().filter(|h| h.stage.is_open()).count() as i64;
    let conflicts = doc.conflicts().len() as i64;
    // Cached statements: a sync indexes every record it pulls (a first sign-in thousands).
    tx.prepare_cached(
        "INSERT INTO inspections (id, unit, kind, status, enterprise_id, enterprise_name,
             created_at, started_at, completed_at, updated_at, open_hazards, conflicts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (id) DO UPDATE SET unit = ?2, kind = ?3, status = ?4, enterprise_id = ?5,
             enterprise_name = ?6, created_at = ?7, started_at = ?8, completed_at = ?9,
             updated_at = ?10, open_hazards = ?11, conflicts = ?12",
    )?
    .execute(params![
        r.id.as_str(),
        r.unit.as_str(),
        enum_str(&r.kind),
        r.status.as_str(),
        r.enterprise.id.as_str(),
        r.enterprise.name,
        r.created_at.0,
        r.started_at.map(|t| t.0),
        r.completed_at.map(|t| t.0),
        updated_at.0,
        open_hazards,
        conflicts,
    ])?;
    tx.prepare_cached("DELETE FROM inspection_inspectors WHERE inspection_id = ?1")?
        .execute([r.id.as_str()])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO inspection_inspectors (inspection_id, user_id) VALUES (?1, ?2)",
    )?;
    for user in r.inspectors.keys() {
        insert.execute([r.id.as_str(), user.as_str()])?;
    }
    tx.prepare_cached("DELETE FROM hazards WHERE inspection_id = ?1")?
        .execute([r.id.as_str()])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO hazards (inspection_id, hazard_id, level, stage, deadline, reported_on)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for h in r.hazards.values() {
        insert.execute(params![
            r.id.as_str(),
            h.id.as_str(),
            enum_str(&h.level),
            h.stage.as_str(),
            h.deadline.map(|d| d.to_string()),
            h.reported_on.map(|d| d.to_string()),
        ])?;
    }
    Ok(())
}

impl Store {
    /// Stores a new record as a new document.
    pub fn create_inspection(
        &mut self,
        record: &Inspection,
        template: &ChecklistTemplate,
        now: Timestamp,
    ) -> Result<()> {
        let mut doc = InspectionDoc::create(record, template, &self.device, now)?;
        let tx = self.conn.transaction()?;
        let exists: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM docs WHERE id = ?1",
                [record.id.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_some() {
            return Err(StoreError::Exists(record.id.clone()));
        }
        tx.execute(
            "INSERT INTO docs (id, snapshot, heads) VALUES (?1, ?2, ?3)",
            params![record.id.as_str(), doc.save(), heads_json(&mut doc)],
        )?;
        write_index(&tx, &doc, now)?;
        tx.commit()?;
        self.remember(record.id.clone(), doc);
        Ok(())
    }

    fn remember(&mut self, id: InspectionId, doc: InspectionDoc) {
        if self.cache.len() >= CACHE_LIMIT && !self.cache.contains_key(&id) {
            self.cache.clear();
        }
        self.cache.insert(id, doc);
    }

    /// Reads a document from the database: the snapshot, then every change since.
    fn load_doc(&self, id: &InspectionId) -> Result<InspectionDoc> {
        let snapshot: Vec<u8> = self
            .conn
            .query_row(
                "SELECT snapshot FROM docs WHERE id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(id.clone()))?;
        let mut doc = automerge::AutoCommit::load(&snapshot)
            .map_err(|e| StoreError::Corrupt(format!("snapshot of {id}: {e}")))?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT bytes FROM doc_changes WHERE doc_id = ?1 ORDER BY seq")?;
        let changes = stmt.query_map([id.as_str()], |r| r.get::<_, Vec<u8>>(0))?;
        for change in changes {
            doc.load_incremental(&change?)
                .map_err(|e| StoreError::Corrupt(format!("change of {id}: {e}")))?;
        }
        let doc = doc.with_actor(app_core::document::actor_for(&self.device));
        Ok(InspectionDoc::from_automerge(doc)?)
    }

    /// The document of `id`, from the cache or the database.
    pub fn document(&mut self, id: &InspectionId) -> Result<&mut InspectionDoc> {
        if !self.cache.contains_key(id) {
            let doc = self.load_doc(id)?;
            self.remember(id.clone(), doc);
        }
        Ok(self.cache.get_mut(id).expect("just inserted"))
    }

    /// The current state of a record.
    pub fn inspection(&mut self, id: &InspectionId) -> Result<Inspection> {
        Ok(self.document(id)?.record().clone())
    }

    /// Runs `edit` on the document and persists what it changed — the new Automerge change
    /// and the index rows — in one transaction. If anything fails, the in-memory document is
    /// dropped, so memory is never ahead of the disk.
    pub(crate) fn persist_edit<T>(
        &mut self,
        id: &InspectionId,
        now: Timestamp,
        origin: Origin,
        edit: impl FnOnce(&mut InspectionDoc) -> Result<T, DocError>,
        extra: &dyn Fn(&rusqlite::Connection) -> Result<()>,
    ) -> Result<T> {
        self.document(id)?;
        let mut doc = self.cache.remove(id).expect("loaded above");
        let before = doc.heads();
        let value = match edit(&mut doc) {
            Ok(v) => v,
            Err(e) => {
                // The rules refuse before anything is written, so such a document is still
                // good to keep; after any other failure it is re-read from the database.
                if matches!(e, DocError::Record(_)) {
                    self.cache.insert(id.clone(), doc);
                }
                return Err(e.into());
            }
        };
        if doc.heads() == before {
            // Nothing new (e.g. a replayed sync batch): nothing to write.
            self.cache.insert(id.clone(), doc);
            return Ok(value);
        }
        let bytes = super::new_change_bytes(doc.automerge_mut(), &before);
        match self.write_change(id, &mut doc, &bytes, now, origin, extra) {
            Ok(()) => {
                self.cache.insert(id.clone(), doc);
                Ok(value)
            }
            Err(e) => Err(e),
        }
    }

    /// Compacts every document whose pending changes have passed [`COMPACT_AFTER`]. The app
    /// calls this when idle, so the folding never sits in an inspector's save.
    pub fn compact_due(&mut self) -> Result<usize> {
        let due: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT id FROM docs WHERE change_count > ?1")?;
            stmt.query_map([COMPACT_AFTER], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        for id in &due {
            self.compact(&InspectionId::new(id.clone()))?;
        }
        Ok(due.len())
    }

    fn write_change(
        &mut self,
        id: &InspectionId,
        doc: &mut InspectionDoc,
        bytes: &[u8],
        now: Timestamp,
        origin: Origin,
        extra: &dyn Fn(&rusqlite::Connection) -> Result<()>,
    ) -> Result<()> {
        // A savepoint: its own transaction, or part of a pulled page's ([`Store::apply_pull`]).
        let tx = self.conn.savepoint()?;
        extra(&tx)?;
        match origin {
            // The server lacks this change until the next push.
            Origin::Local => {
                tx.execute("UPDATE docs SET dirty = 1 WHERE id = ?1", [id.as_str()])?;
            }
            // Pulled from the server: if nothing local is pending, the server holds it all.
            Origin::Remote => {
                tx.execute(
                    "UPDATE docs SET synced_heads = ?2 WHERE id = ?1 AND dirty = 0",
                    params![id.as_str(), heads_json(doc)],
                )?;
            }
        }
        let (count, seq): (i64, i64) = tx.query_row(
            "UPDATE docs SET change_count = change_count + 1, next_seq = next_seq + 1, heads = ?2
             WHERE id = ?1 RETURNING change_count, next_seq - 1",
            params![id.as_str(), heads_json(doc)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if count > COMPACT_HARD_LIMIT {
            // Nobody compacted while idle: fold everything into a new snapshot now,
            // atomically with this save, so the change list stays bounded.
            tx.execute(
                "UPDATE docs SET snapshot = ?2, change_count = 0 WHERE id = ?1",
                params![id.as_str(), doc.save()],
            )?;
            tx.execute("DELETE FROM doc_changes WHERE doc_id = ?1", [id.as_str()])?;
        } else {
            tx.prepare_cached("INSERT INTO doc_changes (doc_id, seq, bytes) VALUES (?1, ?2, ?3)")?
                .execute(params![id.as_str(), seq, bytes])?;
        }
        write_index(&tx, doc, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Applies one edit under the rules and saves it durably.
    pub fn apply(&mut self, id: &InspectionId, command: &Command, cx: &Context<'_>) -> Result<()> {
        let device = self.device.clone();
        self.persist_edit(
            id,
            cx.now,
            Origin::Local,
            |doc| doc.apply(command, cx, &device),
            &|_| Ok(()),
        )
    }

    /// Records a signed version of the record's current state.
    pub fn sign(
        &mut self,
        id: &InspectionId,
        version: &str,
        cx: &Context<'_>,
    ) -> Result<SignedVersion> {
        let device = self.device.clone();
        self.persist_edit(
            id,
            cx.now,
            Origin::Local,
            |doc| doc.sign(version, cx, &device),
            &|_| Ok(()),
        )
    }

    /// Merges changes received from elsewhere (sync). Bytes that do not read as a valid
    /// record are refused and nothing is stored.
    pub fn apply_remote(&mut self, id: &InspectionId, bytes: &[u8], now: Timestamp) -> Result<()> {
        let exists: Option<i64> = self
            .conn
            .prepare_cached("SELECT 1 FROM docs WHERE id = ?1")?
            .query_row([id.as_str()], |r| r.get(0))
            .optional()?;
        if exists.is_none() {
            return self.create_from_remote(id, bytes, now);
        }
        self.persist_edit(
            id,
            now,
            Origin::Remote,
            |doc| doc.load_incremental(bytes),
            &|_| Ok(()),
        )
    }

    /// Stores one pulled page (`pull`: records with their receipts) and the sync cursor after
    /// it in one transaction: one durable write for the page rather than one per record, and
    /// the cursor never moves past what is stored (nor the records ahead of the cursor). On a
    /// failure nothing of the page is kept and the cached documents are dropped (memory is
    /// never ahead of the database).
    pub fn apply_pull(
        &mut self,
        pull: &[app_core::wire::DocChanges],
        user: &app_core::ids::UserId,
        cursor: u64,
        now: Timestamp,
    ) -> Result<()> {
        self.in_savepoint("pull_page", |s| {
            s.store_pulled(pull, now)?;
            s.set_sync_cursor(user, cursor)
        })
        .inspect_err(|_| self.cache.clear())
    }

    /// Stores records the server sent (pulled or fetched), each with its receipt, one after
    /// the other; answers their ids.
    pub fn store_pulled(
        &mut self,
        docs: &[app_core::wire::DocChanges],
        now: Timestamp,
    ) -> Result<Vec<InspectionId>> {
        let mut stored = Vec::with_capacity(docs.len());
        for d in docs {
            let id = InspectionId::new(d.id.clone());
            match self.apply_remote(&id, &d.bytes, now) {
                // A record this tablet does not hold, sent from a later change on: the user
                // came to have a part in it after this tablet's cursor passed its first
                // changes. Kept aside, to be fetched whole (nothing of it is stored).
                Err(StoreError::Doc(DocError::Automerge(
                    automerge::AutomergeError::MissingDeps,
                ))) => {
                    self.conn
                        .prepare_cached(
                            "INSERT OR IGNORE INTO incomplete_records (id) VALUES (?1)",
                        )?
                        .execute([id.as_str()])?;
                    continue;
                }
                outcome => outcome?,
            }
            if let Some(receipt) = &d.receipt {
                self.set_receipt(&id, receipt)?;
            }
            stored.push(id);
        }
        Ok(stored)
    }

    /// The records the server sent only in part, to be fetched whole (see
    /// [`Store::store_pulled`]).
    pub fn incomplete_records(&self) -> Result<Vec<InspectionId>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM incomplete_records ORDER BY id")?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .map(|id| id.map(InspectionId::new))
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    /// Takes a record off the incomplete ones: fetched whole, or given up (the user may no
    /// longer read it).
    pub fn drop_incomplete(&self, id: &InspectionId) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM incomplete_records WHERE id = ?1")?
            .execute([id.as_str()])?;
        Ok(())
    }

    /// A record first seen at sync (made on another tablet): stored as the server sent it,
    /// already in sync.
    fn create_from_remote(
        &mut self,
        id: &InspectionId,
        bytes: &[u8],
        now: Timestamp,
    ) -> Result<()> {
        let mut doc = InspectionDoc::load(bytes, &self.device)?;
        if &doc.record().id != id {
            return Err(StoreError::Corrupt(format!(
                "document sent as {id} holds record {}",
                doc.record().id
            )));
        }
        let heads = heads_json(&mut doc);
        let tx = self.conn.savepoint()?;
        // The bytes loaded strictly into exactly this document: stored as they came.
        tx.prepare_cached(
            "INSERT INTO docs (id, snapshot, synced_heads, dirty, heads) VALUES (?1, ?2, ?3, 0, ?3)",
        )?
        .execute(params![id.as_str(), bytes, heads])?;
        write_index(&tx, &doc, now)?;
        tx.commit()?;
        self.remember(id.clone(), doc);
        Ok(())
    }

    /// Compacts a document now: one snapshot, no pending changes.
    pub fn compact(&mut self, id: &InspectionId) -> Result<()> {
        let snapshot = self.document(id)?.save();
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE docs SET snapshot = ?2, change_count = 0 WHERE id = ?1",
            params![id.as_str(), snapshot],
        )?;
        tx.execute("DELETE FROM doc_changes WHERE doc_id = ?1", [id.as_str()])?;
        tx.commit()?;
        Ok(())
    }

    /// One page of the inspection list, newest first.
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<InspectionRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, kind, status, enterprise_name, created_at, updated_at, open_hazards, conflicts
             FROM inspections
             WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR kind = ?2)
               AND (?5 IS NULL OR enterprise_id = ?5)
             ORDER BY updated_at DESC, id
             LIMIT ?3 OFFSET ?4",
        )?;
        let limit = if filter.limit == 0 { 50 } else { filter.limit };
        let rows = stmt.query_map(
            params![
                filter.status.map(|s| s.as_str()),
                filter.kind.map(|k| enum_str(&k)),
                limit,
                filter.offset,
                filter.enterprise.as_ref().map(|e| e.as_str())
            ],
            |r| {
                Ok(InspectionRow {
                    id: InspectionId::new(r.get::<_, String>(0)?),
                    kind: parse_enum(r.get(1)?)?,
                    status: InspectionStatus::parse(&r.get::<_, String>(2)?).ok_or_else(|| {
                        rusqlite::Error::InvalidColumnType(
                            2,
                            "status".into(),
                            rusqlite::types::Type::Text,
                        )
                    })?,
                    enterprise_name: r.get(3)?,
                    created_at: Timestamp(r.get(4)?),
                    updated_at: Timestamp(r.get(5)?),
                    open_hazards: r.get(6)?,
                    conflicts: r.get(7)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Open hazards with a deadline on or before `by` (or awaiting re-inspection), soonest first.
    pub fn hazards_due(&self, by: Day) -> Result<Vec<HazardRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT inspection_id, hazard_id, level, stage, deadline, reported_on FROM hazards
             WHERE stage IN ('registered', 'ordered', 'rectified')
               AND (deadline <= ?1 OR stage = 'rectified')
             ORDER BY deadline, inspection_id, hazard_id",
        )?;
        let rows = stmt.query_map([by.to_string()], |r| {
            Ok(HazardRow {
                inspection_id: InspectionId::new(r.get::<_, String>(0)?),
                hazard_id: r.get(1)?,
                level: r.get(2)?,
                stage: r.get(3)?,
                deadline: r.get(4)?,
                reported_on: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Inspections of one inspector (drafts and records waiting to sync on the home screen).
    pub fn inspections_of(&self, user: &app_core::ids::UserId) -> Result<Vec<InspectionId>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT inspection_id FROM inspection_inspectors WHERE user_id = ?1 ORDER BY inspection_id",
        )?;
        let rows = stmt.query_map([user.as_str()], |r| {
            Ok(InspectionId::new(r.get::<_, String>(0)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
