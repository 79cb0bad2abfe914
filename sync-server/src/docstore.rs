//! Where record documents live on the server: one row per record in `docs` (the latest
//! Automerge snapshot and its heads), every change that reached the server in `changes` (the
//! global sequence tablets pull by), and the rows derived from the record (`doc_inspectors`,
//! `doc_photos`, the console's index). Everything that writes a record goes through
//! [`write`], in the caller's transaction, so these never disagree.

use crate::error::{ApiError, ApiResult};
use app_core::document::InspectionDoc;
use app_core::ids::DeviceId;
use app_core::inspection::Inspection;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

/// The device name the server writes its own changes under (e.g. a supervisor's decision
/// made in the console).
pub const SERVER_DEVICE: &str = "server";

/// A record as stored: the document and the heads the server holds.
#[derive(Debug)]
pub struct StoredDoc {
    pub doc: InspectionDoc,
    pub heads: Vec<String>,
}

/// The stored snapshot and heads of a record, without opening the document.
pub fn snapshot(conn: &Connection, id: &str) -> ApiResult<Option<(Vec<u8>, Vec<String>)>> {
    let row: Option<(Vec<u8>, String)> = conn
        .prepare_cached("SELECT snapshot, heads FROM docs WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(snapshot, heads)| Ok((snapshot, parse_heads(&heads)?)))
        .transpose()
}

/// The heads the server holds for a record, if it has it.
pub fn heads(conn: &Connection, id: &str) -> ApiResult<Option<Vec<String>>> {
    let raw: Option<String> = conn
        .prepare_cached("SELECT heads FROM docs WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    raw.map(|h| parse_heads(&h)).transpose()
}

fn parse_heads(raw: &str) -> ApiResult<Vec<String>> {
    serde_json::from_str(raw).map_err(|e| ApiError::Internal(anyhow::anyhow!("stored heads: {e}")))
}

/// Opens the stored record `id`, writing as `device`.
pub fn load(conn: &Connection, id: &str) -> ApiResult<Option<StoredDoc>> {
    load_as(conn, id, &DeviceId::from(SERVER_DEVICE))
}

/// Opens the stored record `id`; changes made to it are attributed to `device`.
pub fn load_as(conn: &Connection, id: &str, device: &DeviceId) -> ApiResult<Option<StoredDoc>> {
    snapshot(conn, id)?
        .map(|(bytes, heads)| {
            let doc = InspectionDoc::load(&bytes, device)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored record {id}: {e}")))?;
            Ok(StoredDoc { doc, heads })
        })
        .transpose()
}

/// One version of a record, ready to be written.
#[derive(Debug)]
pub struct DocWrite<'a> {
    pub id: &'a str,
    /// The record as the new version reads.
    pub record: &'a Inspection,
    /// The whole document (the new snapshot).
    pub snapshot: &'a [u8],
    /// What the server did not hold before (the whole document for a new record): tablets
    /// pull exactly these bytes.
    pub change: &'a [u8],
    pub heads: &'a [String],
    /// The device the change came from (it is not sent back there).
    pub origin_device: &'a str,
    /// Whether the server held the record before (then its derived rows are rewritten).
    pub existed: bool,
}

/// Writes a record version and everything derived from it, in the caller's transaction.
pub fn write(tx: &Transaction<'_>, w: &DocWrite<'_>) -> ApiResult<()> {
    let r = w.record;
    tx.prepare_cached(
        "INSERT INTO docs (id, unit, plan, status, snapshot, heads) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET unit = ?2, plan = ?3, status = ?4, snapshot = ?5, heads = ?6",
    )?
    .execute(params![
        w.id,
        r.unit.as_str(),
        r.plan.as_ref().map(|p| p.as_str()),
        r.status.as_str(),
        w.snapshot,
        serde_json::to_string(w.heads).expect("strings serialise"),
    ])?;
    if w.existed {
        tx.prepare_cached("DELETE FROM doc_inspectors WHERE doc_id = ?1")?
            .execute([w.id])?;
    }
    {
        let mut insert =
            tx.prepare_cached("INSERT INTO doc_inspectors (doc_id, user_id) VALUES (?1, ?2)")?;
        for u in r.inspectors.keys() {
            insert.execute(params![w.id, u.as_str()])?;
        }
    }
    {
        let mut insert =
            tx.prepare_cached("INSERT OR IGNORE INTO doc_photos (doc_id, sha256) VALUES (?1, ?2)")?;
        for sha in r.photo_digests() {
            insert.execute(params![w.id, sha.as_str()])?;
        }
    }
    tx.prepare_cached("INSERT INTO changes (doc_id, origin_device, bytes) VALUES (?1, ?2, ?3)")?
        .execute(params![w.id, w.origin_device, w.change])?;
    crate::index::index_record(tx, r)?;
    Ok(())
}

/// Stores what `doc` gained since `before_heads` as a change from `origin_device` (tablets
/// pull it at their next sync), with the new snapshot and derived rows. Nothing is written if
/// the document holds nothing new.
pub fn store_update(
    tx: &Transaction<'_>,
    id: &str,
    doc: &mut InspectionDoc,
    before_heads: &[String],
    origin_device: &str,
) -> ApiResult<()> {
    let heads: Vec<String> = doc.heads().iter().map(ToString::to_string).collect();
    if heads == before_heads {
        return Ok(());
    }
    let before: Vec<automerge::ChangeHash> = before_heads
        .iter()
        .map(|h| h.parse())
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored heads of {id}: {e:?}")))?;
    let change = doc.automerge_mut().save_after(&before);
    let snapshot = doc.save();
    let record = doc.record().clone();
    write(
        tx,
        &DocWrite {
            id,
            record: &record,
            snapshot: &snapshot,
            change: &change,
            heads: &heads,
            origin_device,
            existed: true,
        },
    )
}
