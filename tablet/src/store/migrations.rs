//! Schema migrations, append-only: never edit a released one, add the next. The database's
//! `user_version` says how many have run; opening an older database runs the rest, each in
//! its own transaction together with the version bump.

use super::{Result, StoreError};
use rusqlite::Connection;

/// Migration `i` (0-based) takes the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: documents, their index, reference data, settings.
    "
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE docs (
        id TEXT PRIMARY KEY,
        snapshot BLOB NOT NULL,
        change_count INTEGER NOT NULL DEFAULT 0,
        next_seq INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE doc_changes (
        doc_id TEXT NOT NULL REFERENCES docs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        bytes BLOB NOT NULL,
        PRIMARY KEY (doc_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE inspections (
        id TEXT PRIMARY KEY REFERENCES docs(id) ON DELETE CASCADE,
        unit TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        enterprise_id TEXT NOT NULL,
        enterprise_name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        completed_at INTEGER,
        updated_at INTEGER NOT NULL,
        open_hazards INTEGER NOT NULL,
        conflicts INTEGER NOT NULL
    );
    CREATE INDEX inspections_by_status ON inspections (status, updated_at DESC, id);
    CREATE INDEX inspections_by_update ON inspections (updated_at DESC, id);
    CREATE INDEX inspections_by_enterprise ON inspections (enterprise_id);
    CREATE TABLE inspection_inspectors (
        inspection_id TEXT NOT NULL REFERENCES inspections(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        PRIMARY KEY (inspection_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX inspectors_by_user ON inspection_inspectors (user_id);
    CREATE TABLE hazards (
        inspection_id TEXT NOT NULL REFERENCES inspections(id) ON DELETE CASCADE,
        hazard_id TEXT NOT NULL,
        level TEXT NOT NULL,
        stage TEXT NOT NULL,
        deadline TEXT,
        reported_on TEXT,
        PRIMARY KEY (inspection_id, hazard_id)
    ) WITHOUT ROWID;
    CREATE INDEX hazards_open_by_deadline ON hazards (deadline)
        WHERE stage IN ('registered', 'ordered', 'rectified');
    CREATE TABLE reference (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        unit TEXT,
        body TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    ) WITHOUT ROWID;
    ",
    // 2: photo evidence metadata (the bytes live in the content-addressed blob folder).
    "
    CREATE TABLE photos (
        sha256 TEXT PRIMARY KEY,
        format TEXT NOT NULL,
        byte_len INTEGER NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        exif TEXT NOT NULL,
        display_sha256 TEXT NOT NULL,
        thumb_sha256 TEXT NOT NULL,
        ingested_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE photo_links (
        sha256 TEXT NOT NULL REFERENCES photos(sha256),
        inspection_id TEXT NOT NULL REFERENCES inspections(id) ON DELETE CASCADE,
        target TEXT NOT NULL,
        PRIMARY KEY (sha256, inspection_id, target)
    ) WITHOUT ROWID;
    ",
    // 3: sync state. `synced_heads` are the heads the server is known to hold (NULL: never
    // pushed); `dirty` marks local changes the server lacks.
    "
    ALTER TABLE docs ADD COLUMN synced_heads TEXT;
    ALTER TABLE docs ADD COLUMN dirty INTEGER NOT NULL DEFAULT 1;
    ",
    // 4: photo uploads. `blob_refs` caches which photo digests each record refers to; it is
    // rebuilt for a record whenever its `next_seq` moves past `blob_ref_scans.seq`.
    // `uploaded_blobs` lists digests the server is known to hold.
    "
    CREATE TABLE blob_refs (
        inspection_id TEXT NOT NULL REFERENCES docs(id) ON DELETE CASCADE,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (inspection_id, sha256)
    ) WITHOUT ROWID;
    CREATE INDEX blob_refs_by_sha ON blob_refs (sha256);
    CREATE TABLE blob_ref_scans (
        inspection_id TEXT PRIMARY KEY REFERENCES docs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE uploaded_blobs (sha256 TEXT PRIMARY KEY) WITHOUT ROWID;
    ",
    // 5: the document's current heads, kept with every write, so a sync can push a record
    // and mark it pushed without opening its document (NULL: unknown, open the document).
    "
    ALTER TABLE docs ADD COLUMN heads TEXT;
    ",
    // 6: the device's pool of document-number blocks (文号) reserved by the server: app-core's
    // `DevicePool` as JSON, one row per device id. Issuing a number rewrites it in the same
    // transaction as the record's change that carries the number (`store/numbers.rs`).
    "
    CREATE TABLE number_pool (
        device TEXT PRIMARY KEY,
        pool TEXT NOT NULL
    ) WITHOUT ROWID;
    ",
    // 7: the server's latest receipt for each record pulled (`app_core::wire::Receipt`): sent
    // with the record when it is pushed whole to a restored server, so that changes of other
    // devices in it are accepted from this tablet.
    "
    CREATE TABLE receipts (
        id TEXT PRIMARY KEY,
        heads BLOB NOT NULL,
        seal BLOB NOT NULL
    ) WITHOUT ROWID;
    ",
    // 8: penalty cases (`app_core::penalty::CaseDoc`), stored like records but apart from
    // them (`store/cases.rs`): the snapshot and the changes saved since, the heads, what the
    // server holds (`synced_heads`, NULL: never pushed) and `dirty`; the index the case list
    // reads (`cases`, `case_inspectors`), rewritten in the same transaction as each change.
    "
    CREATE TABLE case_docs (
        id TEXT PRIMARY KEY,
        snapshot BLOB NOT NULL,
        change_count INTEGER NOT NULL DEFAULT 0,
        next_seq INTEGER NOT NULL DEFAULT 0,
        heads TEXT NOT NULL,
        synced_heads TEXT,
        dirty INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX case_docs_dirty ON case_docs (dirty, id);
    CREATE TABLE case_changes (
        case_id TEXT NOT NULL REFERENCES case_docs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        bytes BLOB NOT NULL,
        PRIMARY KEY (case_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE cases (
        id TEXT PRIMARY KEY REFERENCES case_docs(id) ON DELETE CASCADE,
        unit TEXT NOT NULL,
        enterprise_id TEXT NOT NULL,
        enterprise_name TEXT NOT NULL,
        stage TEXT NOT NULL,
        source_inspection TEXT,
        opened_at INTEGER NOT NULL,
        filed_on TEXT,
        deadline TEXT,
        updated_at INTEGER NOT NULL,
        conflicts INTEGER NOT NULL
    );
    CREATE INDEX cases_by_update ON cases (updated_at DESC, id);
    CREATE INDEX cases_by_inspection ON cases (source_inspection);
    CREATE TABLE case_inspectors (
        case_id TEXT NOT NULL REFERENCES case_docs(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        PRIMARY KEY (case_id, user_id)
    ) WITHOUT ROWID;
    ",
    // 9: the recordings (and other originals) each case names, rewritten with the case's
    // index, so the uploader sends them like the records' photos (`pending_uploads`).
    // `media_indexed` = 0: a case indexed before this table, listed on the next upload run.
    "
    CREATE TABLE case_media (
        case_id TEXT NOT NULL REFERENCES case_docs(id) ON DELETE CASCADE,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (case_id, sha256)
    ) WITHOUT ROWID;
    CREATE INDEX case_media_by_sha ON case_media (sha256);
    ALTER TABLE cases ADD COLUMN media_indexed INTEGER NOT NULL DEFAULT 0;
    ",
    // 10: `case_media` also lists the signature images of the cases' 询问笔录 pages: every
    // case is indexed again on the next upload run.
    "
    UPDATE cases SET media_indexed = 0;
    ",
    // 11: records the server sent only in part (the user came to have a part in them after
    // this tablet's cursor passed their first changes: named on them later, or a plan
    // assigned later), fetched whole by the sync (`SyncClient::sync`).
    "
    CREATE TABLE incomplete_records (id TEXT PRIMARY KEY) WITHOUT ROWID;
    ",
    // 12: the records waiting to be pushed, with the heads a sync reads of them, apart from
    // their snapshots: `dirty` and `heads` lie after the snapshot in a `docs` row, so reading
    // them walked each row's overflow pages (the pending scan read every record's; a tenth of
    // a simulated tablet's CPU in the sync benchmark went to the pending scan and marking).
    "
    CREATE INDEX docs_pending ON docs (id, synced_heads, heads, dirty) WHERE dirty = 1;
    ",
];

pub(crate) fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Runs the migrations the database has not had yet.
pub(crate) fn migrate(conn: &Connection) -> Result<()> {
    migrate_to(conn, current_version())
}

/// Runs migrations up to `target` (tests use this to make an old database).
pub(crate) fn migrate_to(conn: &Connection, target: i64) -> Result<()> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > current_version() {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: current_version(),
        });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(target as usize)
        .skip(found as usize)
    {
        let version = i as i64 + 1;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {version}; COMMIT;"
        ))
        .inspect_err(|_| {
            let _ = conn.execute_batch("ROLLBACK");
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn an_older_database_is_upgraded_and_keeps_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tablet.db");
        {
            let conn = Connection::open(&path).unwrap();
            migrate_to(&conn, 1).unwrap();
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('device_id', 'tablet-old')",
                [],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO reference (kind, id, unit, body) VALUES ('unit', 'xw', NULL, '{}')",
                [],
            )
            .unwrap();
            let v: i64 = conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap();
            assert_eq!(v, 1);
            let photos: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'photos'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(photos, 0, "version 1 has no photo table");
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), current_version());
        assert_eq!(
            store.device().as_str(),
            "tablet-old",
            "data kept across the upgrade"
        );
        let kept: i64 = store
            .connection()
            .query_row("SELECT count(*) FROM reference", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 1);
        store
            .connection()
            .execute(
                "INSERT INTO photos VALUES ('a', 'jpeg', 1, 1, 1, '{}', 'b', 'c', 0)",
                [],
            )
            .unwrap();
        drop(store);
        // Opening again runs nothing twice.
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), current_version());
    }

    #[test]
    fn the_pending_records_are_read_from_their_index_without_the_snapshots() {
        let store = Store::open_in_memory().unwrap();
        let plan = |sql: &str| -> String {
            let mut stmt = store
                .connection()
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap();
            let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
            let rows = stmt
                .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<Vec<_>>>()
                .unwrap();
            rows.join("; ")
        };
        // The queries of `pending_pushes` and `mark_all_pushed` (their parameters NULL).
        use crate::store::sync_state::{PENDING_HEADS_SQL, PENDING_SQL};
        for sql in [PENDING_SQL, PENDING_HEADS_SQL] {
            let plan = plan(sql);
            assert!(
                plan.contains("COVERING INDEX docs_pending"),
                "{sql}: {plan}"
            );
        }
    }

    #[test]
    fn a_database_from_a_newer_app_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tablet.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(
            err,
            StoreError::SchemaTooNew {
                found: 99,
                supported: _
            }
        ));
        let conn = Connection::open(&path).unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, 99);
    }
}
