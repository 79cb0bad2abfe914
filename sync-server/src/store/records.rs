//! Where record documents live on the server: one row per record in `docs` (the latest
//! Automerge snapshot and its heads), every change that reached the server in `changes` (the
//! global sequence tablets pull by), and the rows derived from the record (`doc_inspectors`,
//! `photo_refs`, the console's index). Everything that writes a record goes through
//! [`RecordStore::write`], in the caller's transaction, so these never disagree.
//!
//! The sync protocol and the console reach record storage only through [`RecordStore`],
//! implemented here for SQLite (`rusqlite::Connection`, and so for a transaction). The SQL of
//! these tables lives here (and the console index's in `crate::index`). A
//! province-wide deployment would implement it for a PostgreSQL transaction: the trait holds
//! no state of its own, and nothing about records is kept in the server process, so several
//! server instances can share one database (see docs/ARCHITECTURE.md).

use super::{StoreError, StoreResult};
use app_core::document::InspectionDoc;
use app_core::ids::{DeviceId, PlanId, UnitId, UserId};
use app_core::inspection::Inspection;
use rusqlite::{OptionalExtension, params};

/// Migration 1 (with accounts, tokens, devices and `blobs`): documents, their
/// inspectors, the change log and (until migration 5) photo references.
pub(crate) const MIGRATION_1: &str = "
    CREATE TABLE docs (
        id TEXT PRIMARY KEY,
        unit TEXT NOT NULL,
        plan TEXT,
        status TEXT NOT NULL,
        snapshot BLOB NOT NULL,
        heads TEXT NOT NULL
    );
    CREATE TABLE doc_inspectors (
        doc_id TEXT NOT NULL REFERENCES docs(id),
        user_id TEXT NOT NULL,
        PRIMARY KEY (doc_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX doc_inspectors_by_user ON doc_inspectors (user_id);
    -- The global change log: seq is every device's cursor.
    CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_id TEXT NOT NULL REFERENCES docs(id),
        origin_device TEXT NOT NULL,
        bytes BLOB NOT NULL
    );
    CREATE INDEX changes_by_doc ON changes (doc_id, seq);
    CREATE TABLE doc_photos (
        doc_id TEXT NOT NULL REFERENCES docs(id),
        sha256 TEXT NOT NULL,
        PRIMARY KEY (sha256, doc_id)
    ) WITHOUT ROWID;
";

/// Migration 5: photo references keyed for cheap writes. `doc_photos` was keyed by (sha256, doc):
/// every photo of a pushed record landed on a random page of a wide index, about a fifth of
/// the sync's time. `photo_refs` rows are appended (rowid order) and only a 16-hex-digit
/// prefix of the digest is indexed (dense, so far fewer pages are dirtied per commit);
/// lookups match the prefix, then the whole digest.
pub(crate) const MIGRATION_5: &str = "
    CREATE TABLE photo_refs (
        sha_key TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        doc_id TEXT NOT NULL REFERENCES docs(id)
    );
    CREATE INDEX photo_refs_by_key ON photo_refs (sha_key);
    INSERT INTO photo_refs (sha_key, sha256, doc_id)
        SELECT substr(sha256, 1, 16), sha256, doc_id FROM doc_photos ORDER BY doc_id;
    DROP TABLE doc_photos;
";

/// Migration: photo references keyed by an integer. The 16-hex-digit text prefix took about
/// 25 bytes per index entry; a record's dozen or more photos land on random pages of that
/// index, so with the many records of a group commit most of its pages were written to the
/// log at every commit. The first 7 hex digits as an integer (28 bits: a 4-byte value, about
/// 13 bytes per entry) make the index about half as large, and so about half the pages a
/// commit writes for it. Lookups still compare the whole digest ([`photo_key`]). The rows
/// keep their order (rowid).
pub(crate) const MIGRATION_PHOTO_KEY: &str = "
    CREATE TABLE photo_refs_int (
        sha_key INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        doc_id TEXT NOT NULL REFERENCES docs(id)
    );
    INSERT INTO photo_refs_int (rowid, sha_key, sha256, doc_id)
        SELECT rowid,
               (instr('0123456789abcdef', substr(sha256, 1, 1)) - 1) * 16777216
             + (instr('0123456789abcdef', substr(sha256, 2, 1)) - 1) * 1048576
             + (instr('0123456789abcdef', substr(sha256, 3, 1)) - 1) * 65536
             + (instr('0123456789abcdef', substr(sha256, 4, 1)) - 1) * 4096
             + (instr('0123456789abcdef', substr(sha256, 5, 1)) - 1) * 256
             + (instr('0123456789abcdef', substr(sha256, 6, 1)) - 1) * 16
             + (instr('0123456789abcdef', substr(sha256, 7, 1)) - 1),
               sha256, doc_id
        FROM photo_refs ORDER BY rowid;
    DROP TABLE photo_refs;
    ALTER TABLE photo_refs_int RENAME TO photo_refs;
    CREATE INDEX photo_refs_by_key ON photo_refs (sha_key);
";

/// Migration (issue 18, sync as deployed): whom a record is pulled to by default, and the
/// records an inspector fetched on demand. An inspector's tablet no longer pulls every record
/// of its unit (see docs/ARCHITECTURE.md, "What a tablet pulls"): only the records it has a
/// part in (`doc_recipients`, derived from the record like `doc_inspectors`: its creator, its
/// inspectors, whoever recorded a re-inspection of one of its hazards), the records of plans
/// assigned to it, and what it fetched (`record_fetches`, kept until the record is gone).
/// Existing records start with their inspectors; a record's creator and re-inspectors join at
/// its next write (its creator is on it as an inspector unless removed).
pub(crate) const MIGRATION_PULL_SCOPE: &str = "
    CREATE TABLE doc_recipients (
        user_id TEXT NOT NULL,
        doc_id TEXT NOT NULL REFERENCES docs(id),
        PRIMARY KEY (user_id, doc_id)
    ) WITHOUT ROWID;
    INSERT INTO doc_recipients (user_id, doc_id) SELECT user_id, doc_id FROM doc_inspectors;
    CREATE INDEX doc_recipients_by_doc ON doc_recipients (doc_id);
    CREATE TABLE record_fetches (
        user_id TEXT NOT NULL,
        doc_id TEXT NOT NULL REFERENCES docs(id),
        at INTEGER NOT NULL,
        PRIMARY KEY (user_id, doc_id)
    ) WITHOUT ROWID;
";

/// Who receives a record at sync without asking for it, besides the assignees of its plan:
/// its creator, its inspectors, and whoever recorded a re-inspection (复查) of one of its
/// hazards (the one who re-inspects follows the rectification to its end).
pub fn recipients(record: &Inspection) -> std::collections::BTreeSet<&str> {
    std::iter::once(record.created_by.as_str())
        .chain(record.inspectors.keys().map(|u| u.as_str()))
        .chain(
            record
                .hazards
                .values()
                .flat_map(|h| h.reinspections.values().map(|r| r.by.as_str())),
        )
        .collect()
}

/// The device name the server writes its own changes under (e.g. a supervisor's decision
/// made in the console).
pub use app_core::judge::SERVER_DEVICE;

/// A stored record's document bytes and heads, as read without opening it.
pub type Snapshot = (Vec<u8>, Vec<String>);

/// A record as stored: the document and the heads the server holds.
#[derive(Debug)]
pub struct StoredDoc {
    pub doc: InspectionDoc,
    pub heads: Vec<String>,
}

/// One page of the change log for a device (see [`RecordStore::changes_after`]).
#[derive(Debug, Default)]
pub struct ChangePage {
    /// `(seq, record id, change bytes)`, oldest first.
    pub changes: Vec<(i64, String, Vec<u8>)>,
    /// The page stopped at the byte limit; more follow.
    pub more: bool,
    /// The bytes of `changes`.
    size: usize,
}

impl ChangePage {
    /// Adds the next change unless it would take the page past `max_bytes` (the first change
    /// is always taken); false: the page is full and `more` is set.
    pub fn add(&mut self, max_bytes: usize, change: (i64, String, Vec<u8>)) -> bool {
        if self.size > 0 && self.size + change.2.len() > max_bytes {
            self.more = true;
            return false;
        }
        self.size += change.2.len();
        self.changes.push(change);
        true
    }
}

/// Which records a device may pull (the SQL mirror of `app_core::access::can_read_record`).
#[derive(Debug)]
pub struct PullFilter<'a> {
    pub cursor: i64,
    /// Changes from this device are not sent back to it.
    pub device: &'a str,
    /// Records of these units.
    pub units: &'a [String],
    /// For a person (an inspector or a supervisor): also records of these plans, records this
    /// user has a part in ([`recipients`]) and records this user fetched
    /// ([`RecordStore::follow`]).
    pub person: Option<(&'a [String], &'a str)>,
    /// Stop adding changes past this many bytes (at least one is always returned).
    pub max_bytes: usize,
}

/// What the access rules need of a stored record without opening it: its unit, its plan and
/// its inspectors (`docs`, `doc_inspectors`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRows {
    pub unit: UnitId,
    pub plan: Option<PlanId>,
    pub inspectors: Vec<UserId>,
}

/// Record storage: documents, their change log and the rows derived from them.
pub trait RecordStore {
    /// The unit, plan and inspectors of a stored record (`None` if it is not stored).
    fn access_rows(&self, id: &str) -> StoreResult<Option<AccessRows>>;
    /// [`RecordStore::access_rows`] of several records, in the order of `ids`.
    fn access_rows_many(&self, ids: &[&str]) -> StoreResult<Vec<Option<AccessRows>>> {
        ids.iter().map(|id| self.access_rows(id)).collect()
    }
    /// The stored records that name photo `sha256`, by id.
    fn records_naming_photo(&self, sha256: &str) -> StoreResult<Vec<String>>;
    /// The stored snapshot and heads of a record, without opening the document.
    fn snapshot(&self, id: &str) -> StoreResult<Option<Snapshot>>;
    /// The heads the server holds for a record, if it has it.
    fn heads(&self, id: &str) -> StoreResult<Option<Vec<String>>>;
    /// Writes a record version and everything derived from it (inside a transaction).
    fn write(&self, w: &DocWrite<'_>) -> StoreResult<()>;
    /// Writes versions of several records (distinct ids), as [`RecordStore::write`] writes
    /// each, all or nothing; their changes take numbers in the order given. PostgreSQL writes
    /// them in a few statements whatever their number (a sync pushes many records at once,
    /// and each statement is a round trip); SQLite one by one.
    fn write_many(&self, writes: &[DocWrite<'_>]) -> StoreResult<()> {
        writes.iter().try_for_each(|w| self.write(w))
    }
    /// The stored snapshots and heads of several records, in the order of `ids` (as
    /// [`RecordStore::snapshot`] reads each).
    fn snapshots(&self, ids: &[&str]) -> StoreResult<Vec<Option<Snapshot>>> {
        ids.iter().map(|id| self.snapshot(id)).collect()
    }
    /// The heads the server holds for several records, in the order of `ids`.
    fn heads_many(&self, ids: &[&str]) -> StoreResult<Vec<Option<Vec<String>>>> {
        ids.iter().map(|id| self.heads(id)).collect()
    }
    /// The change log after `filter.cursor` that the filter lets through, paged by bytes.
    fn changes_after(&self, filter: &PullFilter<'_>) -> StoreResult<ChangePage>;
    /// The newest change number (0 when there is none).
    fn latest_seq(&self) -> StoreResult<i64>;
    /// Holds record `id` for this transaction's writer (until it ends), so that a
    /// read-check-write of the record does not interleave with another writer's. SQLite: a
    /// no-op (one writer holds the database). PostgreSQL: a transaction-scoped lock on the
    /// record's id, which also covers a record not stored yet (two nodes storing the same new
    /// record). Take the locks of several records in id order.
    fn lock_record(&self, id: &str) -> StoreResult<()>;
    /// [`RecordStore::lock_record`] for each of `ids`, in the order given (sorted and
    /// without repeats: the caller's).
    fn lock_records(&self, ids: &[&str]) -> StoreResult<()> {
        ids.iter().try_for_each(|id| self.lock_record(id))
    }
    /// Notes that `user` fetched record `id` on demand: its later changes are pulled to the
    /// user's tablets like those of the user's own records (idempotent).
    fn follow(&self, user: &str, id: &str, at: i64) -> StoreResult<()>;
    /// The stored records of enterprise `enterprise`, newest visit first, at most `limit`
    /// (from the console index; the caller filters them by the access rules).
    fn records_of_enterprise(&self, enterprise: &str, limit: usize) -> StoreResult<Vec<String>>;
}

/// Opens the stored record `id`; changes made to it are attributed to the server.
pub fn load(store: &(impl RecordStore + ?Sized), id: &str) -> StoreResult<Option<StoredDoc>> {
    load_as(store, id, &DeviceId::from(SERVER_DEVICE))
}

/// Opens the stored record `id`; changes made to it are attributed to `device`.
pub fn load_as(
    store: &(impl RecordStore + ?Sized),
    id: &str,
    device: &DeviceId,
) -> StoreResult<Option<StoredDoc>> {
    store
        .snapshot(id)?
        .map(|(bytes, heads)| {
            let doc = InspectionDoc::load(&bytes, device)
                .map_err(|e| StoreError::Corrupt(format!("stored record {id}: {e}")))?;
            Ok(StoredDoc { doc, heads })
        })
        .transpose()
}

/// Stored heads (hex strings) as Automerge change hashes.
pub fn change_hashes(id: &str, heads: &[String]) -> StoreResult<Vec<automerge::ChangeHash>> {
    heads
        .iter()
        .map(|h| h.parse())
        .collect::<Result<_, _>>()
        .map_err(|e| StoreError::Corrupt(format!("stored heads of {id}: {e:?}")))
}

/// The indexed key of a photo digest in `photo_refs`: its first 7 hex digits as an integer
/// (see [`MIGRATION_PHOTO_KEY`], which computes the same in SQL for the rows it moves). Any
/// string has a key; rows are matched on the whole digest too.
pub fn photo_key(sha256: &str) -> i64 {
    sha256.bytes().take(7).fold(0, |key, c| {
        key * 16 + (c as char).to_digit(16).map_or(0, i64::from)
    })
}

pub(crate) fn parse_heads(raw: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("stored heads: {e}")))
}

/// One version of a record, ready to be written.
#[derive(Debug)]
pub struct DocWrite<'a> {
    pub id: &'a str,
    /// The record as the new version reads.
    pub record: &'a Inspection,
    /// The whole document (the new snapshot).
    /// The whole document; `None` when it is the change itself (a record pushed whole for the
    /// first time): its bytes are then stored once, in the change log, and `docs.snapshot`
    /// stays empty until the record's first update.
    pub snapshot: Option<&'a [u8]>,
    /// What the server did not hold before (the whole document for a new record): tablets
    /// pull exactly these bytes.
    pub change: &'a [u8],
    pub heads: &'a [String],
    /// The device the change came from (it is not sent back there).
    pub origin_device: &'a str,
    /// Whether the server held the record before (then its derived rows are rewritten).
    pub existed: bool,
}

impl<S: super::Sqlite> RecordStore for S {
    fn access_rows(&self, id: &str) -> StoreResult<Option<AccessRows>> {
        let c = self.sqlite();
        let row: Option<(String, Option<String>)> = c
            .prepare_cached("SELECT unit, plan FROM docs WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((unit, plan)) = row else {
            return Ok(None);
        };
        let inspectors = c
            .prepare_cached("SELECT user_id FROM doc_inspectors WHERE doc_id = ?1")?
            .query_map([id], |r| r.get::<_, String>(0).map(UserId::new))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some(AccessRows {
            unit: UnitId::new(unit),
            plan: plan.map(PlanId::new),
            inspectors,
        }))
    }

    fn records_naming_photo(&self, sha256: &str) -> StoreResult<Vec<String>> {
        let c = self.sqlite();
        Ok(c.prepare_cached(
            "SELECT DISTINCT doc_id FROM photo_refs WHERE sha_key = ?1 AND sha256 = ?2
                 ORDER BY doc_id",
        )?
        .query_map(params![photo_key(sha256), sha256], |r| {
            r.get::<_, String>(0)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn snapshot(&self, id: &str) -> StoreResult<Option<Snapshot>> {
        let c = self.sqlite();
        let row: Option<(Vec<u8>, String)> = c
            .prepare_cached("SELECT snapshot, heads FROM docs WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((mut snapshot, heads)) = row else {
            return Ok(None);
        };
        if snapshot.is_empty() {
            // Never updated since it arrived: the document is its change log (one row, the
            // bytes as pushed), see `DocWrite::snapshot`.
            let mut stmt =
                c.prepare_cached("SELECT bytes FROM changes WHERE doc_id = ?1 ORDER BY seq")?;
            let mut rows = stmt.query([id])?;
            while let Some(row) = rows.next()? {
                snapshot.extend_from_slice(&row.get::<_, Vec<u8>>(0)?);
            }
        }
        Ok(Some((snapshot, parse_heads(&heads)?)))
    }

    fn heads(&self, id: &str) -> StoreResult<Option<Vec<String>>> {
        let c = self.sqlite();
        let raw: Option<String> = c
            .prepare_cached("SELECT heads FROM docs WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        raw.map(|h| parse_heads(&h)).transpose()
    }

    fn write(&self, w: &DocWrite<'_>) -> StoreResult<()> {
        let c = self.sqlite();
        let tx = c;
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
            w.snapshot.unwrap_or_default(),
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
            if w.existed {
                tx.prepare_cached("DELETE FROM doc_recipients WHERE doc_id = ?1")?
                    .execute([w.id])?;
            }
            let mut insert =
                tx.prepare_cached("INSERT INTO doc_recipients (user_id, doc_id) VALUES (?1, ?2)")?;
            for u in recipients(r) {
                insert.execute(params![u, w.id])?;
            }
        }
        {
            // A record stored just now has no references yet; an update adds only new ones.
            let mut insert = tx.prepare_cached(if w.existed {
                "INSERT INTO photo_refs (sha_key, sha256, doc_id)
                 SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM photo_refs
                     WHERE sha_key = ?1 AND sha256 = ?2 AND doc_id = ?3)"
            } else {
                "INSERT INTO photo_refs (sha_key, sha256, doc_id) VALUES (?1, ?2, ?3)"
            })?;
            for sha in r.photo_digests() {
                insert.execute(params![photo_key(sha.as_str()), sha.as_str(), w.id])?;
            }
        }
        tx.prepare_cached(
            "INSERT INTO changes (doc_id, origin_device, bytes) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![w.id, w.origin_device, w.change])?;
        super::ConsoleIndex::index_record(tx, r, w.existed)?;
        Ok(())
    }

    fn changes_after(&self, f: &PullFilter<'_>) -> StoreResult<ChangePage> {
        let c = self.sqlite();
        let units = serde_json::to_string(f.units).expect("strings serialise");
        let (plans, user) = f.person.unwrap_or((&[], ""));
        let plans = serde_json::to_string(plans).expect("strings serialise");
        let mut stmt = c.prepare_cached(
            "SELECT c.seq, c.doc_id, c.bytes FROM changes c JOIN docs d ON d.id = c.doc_id
             WHERE c.seq > ?1 AND c.origin_device <> ?2
               AND (d.unit IN (SELECT value FROM json_each(?3))
                    OR (?4 AND (d.plan IN (SELECT value FROM json_each(?5))
                                OR EXISTS (SELECT 1 FROM doc_recipients i
                                           WHERE i.user_id = ?6 AND i.doc_id = d.id)
                                OR EXISTS (SELECT 1 FROM record_fetches f
                                           WHERE f.user_id = ?6 AND f.doc_id = d.id))))
             ORDER BY c.seq",
        )?;
        let mut rows = stmt.query(params![
            f.cursor,
            f.device,
            units,
            f.person.is_some(),
            plans,
            user
        ])?;
        let mut page = ChangePage::default();
        while let Some(row) = rows.next()? {
            if !page.add(f.max_bytes, (row.get(0)?, row.get(1)?, row.get(2)?)) {
                break;
            }
        }
        Ok(page)
    }

    fn lock_record(&self, _id: &str) -> StoreResult<()> {
        Ok(())
    }

    fn follow(&self, user: &str, id: &str, at: i64) -> StoreResult<()> {
        self.sqlite()
            .prepare_cached(
                "INSERT INTO record_fetches (user_id, doc_id, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (user_id, doc_id) DO NOTHING",
            )?
            .execute(params![user, id, at])?;
        Ok(())
    }

    fn records_of_enterprise(&self, enterprise: &str, limit: usize) -> StoreResult<Vec<String>> {
        let c = self.sqlite();
        Ok(c.prepare_cached(
            "SELECT id FROM console_records WHERE enterprise_id = ?1
             ORDER BY visit_at DESC, id LIMIT ?2",
        )?
        .query_map(params![enterprise, limit as i64], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn latest_seq(&self) -> StoreResult<i64> {
        let c = self.sqlite();
        // One sequence for records' and cases' changes (see `store::cases`).
        Ok(c.prepare_cached(
            "SELECT MAX((SELECT COALESCE(MAX(seq), 0) FROM changes),
                        (SELECT COALESCE(MAX(seq), 0) FROM case_changes))",
        )?
        .query_row([], |r| r.get(0))?)
    }
}

/// Stores what `doc` gained since `before_heads` as a change from `origin_device` (tablets
/// pull it at their next sync), with the new snapshot and derived rows. Nothing is written if
/// the document holds nothing new.
pub fn store_update(
    tx: &(impl RecordStore + ?Sized),
    id: &str,
    doc: &mut InspectionDoc,
    before_heads: &[String],
    origin_device: &str,
) -> StoreResult<()> {
    let heads: Vec<String> = doc.heads().iter().map(ToString::to_string).collect();
    if heads == before_heads {
        return Ok(());
    }
    let change = doc
        .automerge_mut()
        .save_after(&change_hashes(id, before_heads)?);
    let snapshot = doc.save();
    let record = doc.record().clone();
    tx.write(&DocWrite {
        id,
        record: &record,
        snapshot: Some(&snapshot),
        change: &change,
        heads: &heads,
        origin_device,
        existed: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The migration's SQL computes the same key as [`photo_key`] for the rows it moves, and
    /// keeps their order.
    #[test]
    fn the_photo_key_migration_computes_photo_key() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE docs (id TEXT PRIMARY KEY);
             CREATE TABLE photo_refs (sha_key TEXT NOT NULL, sha256 TEXT NOT NULL,
                 doc_id TEXT NOT NULL REFERENCES docs(id));
             CREATE INDEX photo_refs_by_key ON photo_refs (sha_key);",
        )
        .unwrap();
        let digests: Vec<String> = (0..200u32)
            .map(|i| app_core::evidence::Sha256Hex::of(&i.to_le_bytes()).to_string())
            .chain(["0000000f".repeat(8), "ffffffff".repeat(8)])
            .collect();
        for (i, d) in digests.iter().enumerate() {
            conn.execute("INSERT INTO docs (id) VALUES (?1)", [format!("doc-{i}")])
                .unwrap();
            conn.execute(
                "INSERT INTO photo_refs (sha_key, sha256, doc_id) VALUES (?1, ?2, ?3)",
                params![&d[..16], d, format!("doc-{i}")],
            )
            .unwrap();
        }
        conn.execute_batch(MIGRATION_PHOTO_KEY).unwrap();
        let rows: Vec<(i64, String, String)> = conn
            .prepare("SELECT sha_key, sha256, doc_id FROM photo_refs ORDER BY rowid")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(rows.len(), digests.len());
        for (i, ((key, sha, doc), d)) in rows.iter().zip(&digests).enumerate() {
            assert_eq!(sha, d);
            assert_eq!(doc, &format!("doc-{i}"));
            assert_eq!(*key, photo_key(d), "{d}");
        }
        assert_eq!(photo_key(&"ffffffff".repeat(8)), (1 << 28) - 1);
        assert_eq!(photo_key("0000001"), 1);
        assert_eq!(photo_key(""), 0);
    }
}
