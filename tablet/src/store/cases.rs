//! Penalty cases (行政处罚案件, `app_core::penalty::CaseDoc`), stored like records but in
//! tables of their own: the Automerge document (a snapshot plus the changes saved since, in
//! `case_docs` and `case_changes`) and the index rows the case list reads (`cases`,
//! `case_inspectors`), always written in one transaction (a savepoint, so a pulled page is one
//! transaction). What the server holds is `synced_heads` (NULL: never pushed) and `dirty`
//! marks changes it lacks; the case sync's cursor is kept apart from the records'.
//!
//! The store only persists: every command goes through [`CaseDoc::apply`] (the rules, in
//! app-core) before anything is written, and a refused command writes nothing. Documents are
//! read from the database for every use (cases are few and small), so memory is never ahead
//! of the disk.

use super::{COMPACT_AFTER, Result, Store, StoreError, new_change_bytes};
use app_core::docnumber::{DocumentKind, Series};
use app_core::geo::{Day, Timestamp};
use app_core::ids::{EnterpriseId, InspectionId, UnitId, UserId};
use app_core::penalty::{
    CaseCommand, CaseContext, CaseDoc, CaseDocError, CaseDocKind, CaseId, CaseSource, CaseStage,
    DeadlineKind, DiscretionTable, IssuedNumber, OpenCase, PenaltyCase, PenaltySettings,
    WorkCalendar, case_deadlines,
};
use rusqlite::{OptionalExtension, params};

/// The case list's row is the screens' type (in `tablet-api`).
pub use tablet_api::CaseRow;

/// The rules a case is kept with on this tablet: the unit's penalty settings, working-day
/// calendar and discretion table, as the server sent them with the reference data (resolved
/// there with inheritance from the units above, `sync-server/src/service/case_rules.rs`), so
/// a command the tablet allows is one the server replays alike. A unit the server sent no
/// rules for (an older server) gets app-core's defaults and no discretion table: a penalty
/// proposal is then refused on the tablet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseRules {
    pub settings: PenaltySettings,
    pub calendar: WorkCalendar,
    pub discretion: Option<DiscretionTable>,
}

/// The rules of `unit`'s cases (see [`CaseRules`]), read in the caller's transaction.
fn rules_in(conn: &rusqlite::Connection, unit: &UnitId) -> Result<CaseRules> {
    Ok(match super::reference::penalty_rules_in(conn, unit)? {
        Some(r) => CaseRules {
            settings: r.settings,
            calendar: r.calendar,
            discretion: r.discretion,
        },
        None => CaseRules::default(),
    })
}

impl Store {
    /// The rules of `unit`'s cases (see [`CaseRules`]).
    pub fn case_rules(&self, unit: &UnitId) -> Result<CaseRules> {
        rules_in(&self.conn, unit)
    }
}

/// Local changes of one case that the server does not hold yet.
#[derive(Debug, Clone)]
pub struct PendingCase {
    pub id: CaseId,
    pub bytes: Vec<u8>,
    /// The heads these bytes bring the server to.
    pub heads: String,
}

/// Where an edit came from: this tablet, or the server at sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Local,
    Remote,
}

fn heads_of(doc: &mut CaseDoc) -> String {
    let heads: Vec<String> = doc.heads().iter().map(ToString::to_string).collect();
    serde_json::to_string(&heads).expect("strings serialise")
}

fn parse_heads(id: &CaseId, raw: &str) -> Result<Vec<automerge::ChangeHash>> {
    let heads: Vec<String> = serde_json::from_str(raw)
        .map_err(|e| StoreError::Corrupt(format!("heads of case {id}: {e}")))?;
    heads
        .iter()
        .map(|h| {
            h.parse()
                .map_err(|e| StoreError::Corrupt(format!("heads of case {id}: {e:?}")))
        })
        .collect()
}

fn stage_str(stage: CaseStage) -> String {
    match serde_json::to_value(stage).expect("stages serialise") {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

fn parse_stage(s: String) -> rusqlite::Result<CaseStage> {
    serde_json::from_value(serde_json::Value::String(s)).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn parse_day(s: Option<String>) -> rusqlite::Result<Option<Day>> {
    s.map(|s| {
        Day::parse(&s).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
    })
    .transpose()
}

/// The next deadline of the unit's own that is not met (the party's periods are left out:
/// nothing for the unit to do by them).
fn next_deadline(
    conn: &rusqlite::Connection,
    case: &PenaltyCase,
    today: Day,
) -> Result<Option<Day>> {
    let rules = rules_in(conn, &case.unit)?;
    Ok(
        case_deadlines(case, &rules.settings, &rules.calendar, today)
            .into_iter()
            .filter(|d| {
                d.met_on.is_none()
                    && !matches!(
                        d.kind,
                        DeadlineKind::Statement | DeadlineKind::HearingRequest
                    )
            })
            .map(|d| d.due)
            .min(),
    )
}

/// Rewrites the index rows of one case (inside the caller's transaction).
fn write_index(tx: &rusqlite::Connection, doc: &CaseDoc, updated_at: Timestamp) -> Result<()> {
    let c = doc.case();
    let source = match &c.source {
        CaseSource::Inspection { inspection, .. } => Some(inspection.as_str()),
        _ => None,
    };
    tx.execute(
        "INSERT INTO cases (id, unit, enterprise_id, enterprise_name, stage, source_inspection,
             opened_at, filed_on, deadline, updated_at, conflicts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (id) DO UPDATE SET unit = ?2, enterprise_id = ?3, enterprise_name = ?4,
             stage = ?5, source_inspection = ?6, opened_at = ?7, filed_on = ?8, deadline = ?9,
             updated_at = ?10, conflicts = ?11",
        params![
            c.id.as_str(),
            c.unit.as_str(),
            c.enterprise.id.as_str(),
            c.enterprise.name,
            stage_str(c.stage),
            source,
            c.opened_at.0,
            c.opened_on().map(|d| d.to_string()),
            next_deadline(tx, c, updated_at.shanghai_date())?.map(|d| d.to_string()),
            updated_at.0,
            doc.conflicts().len() as i64,
        ],
    )?;
    tx.execute(
        "DELETE FROM case_inspectors WHERE case_id = ?1",
        [c.id.as_str()],
    )?;
    let mut insert =
        tx.prepare_cached("INSERT INTO case_inspectors (case_id, user_id) VALUES (?1, ?2)")?;
    for user in c.inspectors.keys() {
        insert.execute([c.id.as_str(), user.as_str()])?;
    }
    write_media_index(tx, c)
}

/// The originals `case` names (its recordings and the signature images of its 询问笔录,
/// `PenaltyCase::originals`), for the uploader; marks the case indexed.
fn write_media_index(tx: &rusqlite::Connection, case: &PenaltyCase) -> Result<()> {
    let id = case.id.as_str();
    tx.prepare_cached("DELETE FROM case_media WHERE case_id = ?1")?
        .execute([id])?;
    let mut insert =
        tx.prepare_cached("INSERT OR IGNORE INTO case_media (case_id, sha256) VALUES (?1, ?2)")?;
    for sha in case.originals() {
        insert.execute([id, sha.as_str()])?;
    }
    tx.prepare_cached("UPDATE cases SET media_indexed = 1 WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// A rule's refusal or a document error of a case as the store's error.
fn case_error(e: CaseDocError) -> StoreError {
    match e {
        CaseDocError::Case(e) => StoreError::CaseRefused(e),
        CaseDocError::Doc(e) => StoreError::Doc(e),
    }
}

/// A number to issue with a case command: the series in this tablet's pool and how the
/// number reads (see [`Store::apply_case_numbered`]).
#[derive(Debug, Clone)]
pub struct CaseNumbering {
    /// The case document the number is for.
    pub kind: CaseDocKind,
    /// The pool's series the number is taken from.
    pub pool_kind: DocumentKind,
    pub unit: UnitId,
    pub unit_short_name: String,
}

impl Store {
    /// 立案 on this tablet: the case as [`CaseDoc::open`] makes it (the rules: facts,
    /// provisions, two inspectors with certificates, the opener on the case), stored as a new
    /// document with its index rows in one transaction, to be pushed.
    pub fn open_case(&mut self, open: OpenCase, cx: &CaseContext<'_>) -> Result<PenaltyCase> {
        let device = self.device.clone();
        let mut doc = CaseDoc::open(open, cx, &device).map_err(case_error)?;
        let id = doc.case().id.clone();
        let tx = self.conn.savepoint()?;
        let exists: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM case_docs WHERE id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_some() {
            return Err(StoreError::CaseExists(id));
        }
        tx.execute(
            "INSERT INTO case_docs (id, snapshot, heads, dirty) VALUES (?1, ?2, ?3, 1)",
            params![id.as_str(), doc.save(), heads_of(&mut doc)],
        )?;
        write_index(&tx, &doc, cx.now)?;
        tx.commit()?;
        Ok(doc.into_case())
    }

    /// Whether case `id` is on this tablet.
    pub fn has_case(&self, id: &CaseId) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM case_docs WHERE id = ?1")?
            .query_row([id.as_str()], |r| r.get::<_, i64>(0))
            .optional()?
            .is_some())
    }

    /// A case's stored bytes: the snapshot, then each change saved since, in order (Automerge
    /// loads the concatenation as one document).
    fn case_bytes(&self, id: &CaseId) -> Result<Vec<u8>> {
        let mut bytes: Vec<u8> = self
            .conn
            .prepare_cached("SELECT snapshot FROM case_docs WHERE id = ?1")?
            .query_row([id.as_str()], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::CaseNotFound(id.clone()))?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT bytes FROM case_changes WHERE case_id = ?1 ORDER BY seq")?;
        let mut rows = stmt.query([id.as_str()])?;
        while let Some(row) = rows.next()? {
            bytes.extend_from_slice(row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?);
        }
        Ok(bytes)
    }

    /// The document of case `id`, read from the database, acting as this device.
    pub fn case_doc(&self, id: &CaseId) -> Result<CaseDoc> {
        let bytes = self.case_bytes(id)?;
        self.load_case(id, &bytes)
            .map_err(|e| StoreError::Corrupt(format!("stored case {id}: {e}")))
    }

    /// `bytes` as case `id`'s document (acting as this device): a document holding another
    /// case is refused.
    fn load_case(&self, id: &CaseId, bytes: &[u8]) -> Result<CaseDoc> {
        let doc = CaseDoc::load(bytes, &self.device)?;
        if &doc.case().id != id {
            return Err(StoreError::Corrupt(format!(
                "document of case {id} holds case {}",
                doc.case().id
            )));
        }
        Ok(doc)
    }

    /// The current state of case `id`.
    pub fn penalty_case(&self, id: &CaseId) -> Result<PenaltyCase> {
        Ok(self.case_doc(id)?.into_case())
    }

    /// Whether case `id` has changes the server does not hold yet.
    pub fn case_unsynced(&self, id: &CaseId) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT dirty FROM case_docs WHERE id = ?1")?
            .query_row([id.as_str()], |r| r.get::<_, i64>(0))
            .optional()?
            .ok_or_else(|| StoreError::CaseNotFound(id.clone()))?
            != 0)
    }

    /// Applies one command to case `id` under the rules ([`CaseDoc::apply`] as `cx.actor` on
    /// this device) and saves it durably with the index rows. Refused: nothing is written.
    pub fn apply_case(
        &mut self,
        id: &CaseId,
        command: &CaseCommand,
        cx: &CaseContext<'_>,
    ) -> Result<PenaltyCase> {
        let device = self.device.clone();
        let mut doc = self.case_doc(id)?;
        let before = doc.heads();
        doc.apply(command, cx, &device).map_err(case_error)?;
        let bytes = new_change_bytes(doc.automerge_mut(), &before);
        self.write_case_change(id, &mut doc, &bytes, cx.now, Origin::Local, &|_| Ok(()))?;
        Ok(doc.into_case())
    }

    /// Like [`Store::apply_case`] for a command that carries a document number (文号): the
    /// next number of `numbering`'s series for the year of `cx.now` (Asia/Shanghai) is issued
    /// from this device's pool and given to `command`, and the pool with that number used is
    /// written in the same transaction as the case's change (with a compare-and-swap on the
    /// pool as stored), so a number is never issued twice nor lost, whatever moment the app
    /// is killed at. None left: [`StoreError::Number`] (`Exhausted`) and nothing changes; the
    /// rules refuse: nothing is spent.
    pub fn apply_case_numbered(
        &mut self,
        id: &CaseId,
        numbering: &CaseNumbering,
        command: impl FnOnce(IssuedNumber) -> CaseCommand,
        cx: &CaseContext<'_>,
    ) -> Result<(PenaltyCase, IssuedNumber)> {
        let device = self.device.clone();
        let year = cx.now.shanghai_date().year();
        let series = Series {
            unit: numbering.unit.clone(),
            kind: numbering.pool_kind,
            year,
        };
        let (issued, before_pool, after) = self.next_number(&series)?;
        let number = IssuedNumber::new(
            &numbering.unit_short_name,
            numbering.kind,
            year,
            issued.seq,
            device.clone(),
        );
        let command = command(number.clone());
        let mut doc = self.case_doc(id)?;
        let before = doc.heads();
        doc.apply(&command, cx, &device).map_err(case_error)?;
        let bytes = new_change_bytes(doc.automerge_mut(), &before);
        self.write_case_change(id, &mut doc, &bytes, cx.now, Origin::Local, &|tx| {
            super::numbers::swap_pool(tx, device.as_str(), &before_pool, &after)
        })?;
        Ok((doc.into_case(), number))
    }

    /// Writes one change of case `id` (its bytes), what the server holds, and the index rows,
    /// in one savepoint (its own transaction, or part of a pulled page's).
    fn write_case_change(
        &mut self,
        id: &CaseId,
        doc: &mut CaseDoc,
        bytes: &[u8],
        now: Timestamp,
        origin: Origin,
        extra: &dyn Fn(&rusqlite::Connection) -> Result<()>,
    ) -> Result<()> {
        let heads = heads_of(doc);
        let tx = self.conn.savepoint()?;
        extra(&tx)?;
        match origin {
            // The server lacks this change until the next push.
            Origin::Local => {
                tx.execute(
                    "UPDATE case_docs SET dirty = 1 WHERE id = ?1",
                    [id.as_str()],
                )?;
            }
            // Pulled: if nothing local is pending, the server holds it all.
            Origin::Remote => {
                tx.execute(
                    "UPDATE case_docs SET synced_heads = ?2 WHERE id = ?1 AND dirty = 0",
                    params![id.as_str(), heads],
                )?;
            }
        }
        let (count, seq): (i64, i64) = tx.query_row(
            "UPDATE case_docs SET change_count = change_count + 1, next_seq = next_seq + 1,
                 heads = ?2
             WHERE id = ?1 RETURNING change_count, next_seq - 1",
            params![id.as_str(), heads],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if count > COMPACT_AFTER {
            // Cases change rarely: fold into a new snapshot inline, in this transaction.
            tx.execute(
                "UPDATE case_docs SET snapshot = ?2, change_count = 0 WHERE id = ?1",
                params![id.as_str(), doc.save()],
            )?;
            tx.execute("DELETE FROM case_changes WHERE case_id = ?1", [id.as_str()])?;
        } else {
            tx.prepare_cached(
                "INSERT INTO case_changes (case_id, seq, bytes) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![id.as_str(), seq, bytes])?;
        }
        write_index(&tx, doc, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Merges changes of one case received from the server. Bytes that do not read as a
    /// valid case leave nothing.
    fn apply_remote_case(&mut self, id: &CaseId, bytes: &[u8], now: Timestamp) -> Result<()> {
        if !self.has_case(id)? {
            let mut doc = self.load_case(id, bytes)?;
            let heads = heads_of(&mut doc);
            let tx = self.conn.savepoint()?;
            // Loaded strictly into exactly this document: stored as it came, already in sync.
            tx.execute(
                "INSERT INTO case_docs (id, snapshot, heads, synced_heads, dirty)
                 VALUES (?1, ?2, ?3, ?3, 0)",
                params![id.as_str(), bytes, heads],
            )?;
            write_index(&tx, &doc, now)?;
            tx.commit()?;
            return Ok(());
        }
        let mut doc = self.case_doc(id)?;
        let before = doc.heads();
        doc.load_incremental(bytes)?;
        if doc.heads() == before {
            return Ok(());
        }
        let bytes = doc.save_after(&before);
        self.write_case_change(id, &mut doc, &bytes, now, Origin::Remote, &|_| Ok(()))
    }

    /// Stores one pulled page of cases and the case cursor after it in one transaction: the
    /// cursor never moves past what is stored. On a failure nothing of the page is kept (the
    /// next sync asks for it again).
    pub fn apply_case_pull(
        &mut self,
        cases: &[app_core::wire::DocChanges],
        user: &UserId,
        cursor: u64,
        now: Timestamp,
    ) -> Result<()> {
        self.in_savepoint("case_pull_page", |s| {
            for c in cases {
                s.apply_remote_case(&CaseId::new(c.id.clone()), &c.bytes, now)?;
            }
            s.set_meta(&cursor_key(user), &cursor.to_string())
        })
    }

    /// Lists the originals of cases indexed before `case_media` existed (once per case; see
    /// migration 9); returns how many cases were read again.
    pub(crate) fn refresh_case_media(&mut self) -> Result<usize> {
        let stale: Vec<String> = self
            .conn
            .prepare_cached("SELECT id FROM cases WHERE media_indexed = 0")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in &stale {
            let doc = self.case_doc(&CaseId::new(id.clone()))?;
            let tx = self.conn.transaction()?;
            write_media_index(&tx, doc.case())?;
            tx.commit()?;
        }
        Ok(stale.len())
    }

    /// Moves the case cursor of `user` forward to `cursor` (never back): the server said, in
    /// the snapshot that cursor was read from, that no case change waits for this device
    /// before it (`SyncResponse::cases`). The next "do cases wait?" is then asked from there.
    pub fn advance_case_cursor(&mut self, user: &UserId, cursor: u64) -> Result<()> {
        if cursor > self.case_cursor(user)? {
            self.set_meta(&cursor_key(user), &cursor.to_string())?;
        }
        Ok(())
    }

    /// The case sync's cursor for `user` (0 before the first case sync).
    pub fn case_cursor(&self, user: &UserId) -> Result<u64> {
        Ok(self
            .meta(&cursor_key(user))?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Up to `limit` cases with local changes, each with the bytes the server lacks: the
    /// whole document if it was never pushed, else the changes after the heads it holds.
    pub fn pending_case_pushes(&self, limit: u32) -> Result<Vec<PendingCase>> {
        let rows: Vec<(String, Option<String>, String)> = {
            let mut stmt = self.conn.prepare_cached(
                "SELECT id, synced_heads, heads FROM case_docs WHERE dirty = 1 ORDER BY id LIMIT ?1",
            )?;
            stmt.query_map([limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::with_capacity(rows.len());
        for (id, synced, heads) in rows {
            let id = CaseId::new(id);
            let mut doc = self.case_doc(&id)?;
            let bytes = match synced {
                None => doc.save(),
                Some(raw) => doc.save_after(&parse_heads(&id, &raw)?),
            };
            out.push(PendingCase { id, bytes, heads });
        }
        Ok(out)
    }

    /// Records that the server durably holds `pushes`, in one transaction; a case changed
    /// again meanwhile stays marked for the next push.
    pub fn mark_cases_pushed(&mut self, pushes: &[&PendingCase]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut update = tx.prepare_cached(
                "UPDATE case_docs SET synced_heads = ?2, dirty = (heads <> ?2) WHERE id = ?1",
            )?;
            for push in pushes {
                update.execute(params![push.id.as_str(), push.heads])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Cases waiting to be pushed.
    pub fn pending_cases(&self) -> Result<u32> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM case_docs WHERE dirty = 1", [], |r| {
                r.get(0)
            })?)
    }

    /// Forgets what the server was known to hold of the cases (it was restored from a
    /// backup): every case is pushed again whole and the case pull starts over.
    pub fn forget_case_server_state(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("UPDATE case_docs SET synced_heads = NULL, dirty = 1", [])?;
        tx.execute("DELETE FROM meta WHERE key LIKE 'case_cursor:%'", [])?;
        tx.commit()?;
        Ok(())
    }

    /// The cases on this tablet, last changed first; only those opened from `record` if
    /// given.
    pub fn list_cases(&self, record: Option<&InspectionId>) -> Result<Vec<CaseRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, unit, enterprise_id, enterprise_name, stage, source_inspection,
                 opened_at, filed_on, deadline, updated_at, conflicts
             FROM cases WHERE (?1 IS NULL OR source_inspection = ?1)
             ORDER BY updated_at DESC, id",
        )?;
        let rows = stmt.query_map([record.map(InspectionId::as_str)], |r| {
            Ok(CaseRow {
                id: CaseId::new(r.get::<_, String>(0)?),
                unit: UnitId::new(r.get::<_, String>(1)?),
                enterprise_id: EnterpriseId::new(r.get::<_, String>(2)?),
                enterprise_name: r.get(3)?,
                stage: parse_stage(r.get(4)?)?,
                source_inspection: r.get::<_, Option<String>>(5)?.map(InspectionId::new),
                opened_at: Timestamp(r.get(6)?),
                filed_on: parse_day(r.get(7)?)?,
                deadline: parse_day(r.get(8)?)?,
                updated_at: Timestamp(r.get(9)?),
                conflicts: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn cursor_key(user: &UserId) -> String {
    format!("case_cursor:{user}")
}
