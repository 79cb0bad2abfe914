//! [`RecordStore`] on PostgreSQL: documents, the global change log and the derived rows.

use super::{Pg, Query};
use crate::store::StoreResult;
use crate::store::records::{
    AccessRows, ChangePage, DocWrite, PullFilter, RecordStore, Snapshot, parse_heads,
};
use app_core::ids::{PlanId, UnitId, UserId};
use postgres::GenericClient;

/// The newest number of the one global change sequence: records' changes and cases'
/// (`store::cases`).
pub(super) const LATEST_SEQ: &str = "GREATEST((SELECT COALESCE(MAX(seq), 0) FROM changes),
    (SELECT COALESCE(MAX(seq), 0) FROM case_changes))::bigint";
/// Rows fetched per round trip while paging the change log by bytes.
pub(super) const CHANGE_ROWS: i64 = 256;

/// Appends changes to a change log (`table_and_id`: `changes (seq, doc_id` or
/// `case_changes (seq, case_id`), in the order given, with the next numbers of the global
/// sequence: `(id, origin device, bytes)` each. Changes become visible in seq order and
/// without gaps: the numbers are taken under a lock held until the transaction ends (see
/// `store::pg`), in a statement begun after it was taken (so its snapshot sees every change
/// committed before).
pub(super) fn append_changes(
    tx: &mut impl Query,
    table_and_id: &str,
    ids: &[&str],
    origin_devices: &[&str],
    bytes: &[&[u8]],
) -> StoreResult<()> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&super::CHANGE_LOG_LOCK],
    )?;
    tx.execute(
        &format!(
            "INSERT INTO {table_and_id}, origin_device, bytes)
             SELECT s.latest + t.n, t.id, t.origin, t.bytes
             FROM unnest($1::text[], $2::text[], $3::bytea[])
                 WITH ORDINALITY AS t(id, origin, bytes, n),
                 (SELECT {LATEST_SEQ} AS latest) s
             ORDER BY t.n"
        ),
        &[&ids, &origin_devices, &bytes],
    )?;
    Ok(())
}

/// Inserts rows of two text columns (`table_and_columns`: `table (a, b)`) from two equally
/// long lists, rows already there left as they are.
fn insert_pairs(
    tx: &mut impl Query,
    table_and_columns: &str,
    (a, b): &(Vec<&str>, Vec<&str>),
) -> StoreResult<()> {
    if a.is_empty() {
        return Ok(());
    }
    tx.execute(
        &format!(
            "INSERT INTO {table_and_columns}
             SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING"
        ),
        &[a, b],
    )?;
    Ok(())
}

/// Writes record versions of distinct ids and their derived rows: a handful of statements
/// whatever their number (a sync brings many records at once, and each statement is a round
/// trip). One record is written the same way.
fn write_docs(tx: &mut impl Query, writes: &[DocWrite<'_>]) -> StoreResult<()> {
    let mut ids = Vec::with_capacity(writes.len());
    let (mut units, mut plans, mut statuses) = (Vec::new(), Vec::new(), Vec::new());
    let (mut snapshots, mut heads, mut existed) = (Vec::new(), Vec::new(), Vec::new());
    let (mut origins, mut changes) = (Vec::new(), Vec::new());
    // (record, user) pairs of `doc_inspectors` and `doc_recipients`; (digest, record) of
    // `photo_refs`.
    let (mut inspectors, mut recipients, mut photos) = (
        (Vec::new(), Vec::new()),
        (Vec::new(), Vec::new()),
        (Vec::new(), Vec::new()),
    );
    let digests: Vec<_> = writes.iter().map(|w| w.record.photo_digests()).collect();
    for (w, digests) in writes.iter().zip(&digests) {
        let r = w.record;
        ids.push(w.id);
        units.push(r.unit.as_str());
        plans.push(r.plan.as_ref().map(|p| p.as_str()));
        statuses.push(r.status.as_str());
        snapshots.push(w.snapshot.unwrap_or_default());
        heads.push(serde_json::to_string(w.heads).expect("strings serialise"));
        if w.existed {
            existed.push(w.id);
        }
        origins.push(w.origin_device);
        changes.push(w.change);
        for u in r.inspectors.keys() {
            inspectors.0.push(w.id);
            inspectors.1.push(u.as_str());
        }
        for u in crate::store::records::recipients(r) {
            recipients.0.push(w.id);
            recipients.1.push(u);
        }
        for d in digests {
            photos.0.push(d.as_str());
            photos.1.push(w.id);
        }
    }
    tx.execute(
        "INSERT INTO docs (id, unit, plan, status, snapshot, heads)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[],
             $6::text[])
         ON CONFLICT (id) DO UPDATE SET unit = excluded.unit, plan = excluded.plan,
             status = excluded.status, snapshot = excluded.snapshot, heads = excluded.heads",
        &[&ids, &units, &plans, &statuses, &snapshots, &heads],
    )?;
    if !existed.is_empty() {
        tx.execute(
            "DELETE FROM doc_inspectors WHERE doc_id = ANY($1)",
            &[&existed],
        )?;
        tx.execute(
            "DELETE FROM doc_recipients WHERE doc_id = ANY($1)",
            &[&existed],
        )?;
    }
    insert_pairs(tx, "doc_inspectors (doc_id, user_id)", &inspectors)?;
    insert_pairs(tx, "doc_recipients (doc_id, user_id)", &recipients)?;
    insert_pairs(tx, "photo_refs (sha256, doc_id)", &photos)?;
    append_changes(tx, "changes (seq, doc_id", &ids, &origins, &changes)?;
    let records: Vec<_> = writes.iter().map(|w| (w.record, w.existed)).collect();
    super::console::index_records(tx, &records)
}

/// A page of a change log read [`CHANGE_ROWS`] rows at a time: `rows(cursor)` gives the next
/// rows `(seq, id, bytes)` after `cursor`, in order, at most `CHANGE_ROWS`.
pub(super) fn paged(
    mut cursor: i64,
    max_bytes: usize,
    mut rows: impl FnMut(i64) -> StoreResult<Vec<postgres::Row>>,
) -> StoreResult<ChangePage> {
    let mut page = ChangePage::default();
    loop {
        let rows = rows(cursor)?;
        let full = rows.len() as i64 == CHANGE_ROWS;
        for row in rows {
            cursor = row.get(0);
            if !page.add(max_bytes, (cursor, row.get(1), row.get(2))) {
                return Ok(page);
            }
        }
        if !full {
            return Ok(page);
        }
    }
}

impl<C: GenericClient> RecordStore for Pg<C> {
    fn access_rows(&self, id: &str) -> StoreResult<Option<AccessRows>> {
        Ok(self.access_rows_many(&[id])?.pop().flatten())
    }

    fn access_rows_many(&self, ids: &[&str]) -> StoreResult<Vec<Option<AccessRows>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut c = self.c();
        let mut found: std::collections::HashMap<String, AccessRows> = c
            .query(
                "SELECT id, unit, plan FROM docs WHERE id = ANY($1)",
                &[&ids],
            )?
            .into_iter()
            .map(|r| {
                let rows = AccessRows {
                    unit: UnitId::new(r.get::<_, String>(1)),
                    plan: r.get::<_, Option<String>>(2).map(PlanId::new),
                    inspectors: Vec::new(),
                };
                (r.get(0), rows)
            })
            .collect();
        for r in c.query(
            "SELECT doc_id, user_id FROM doc_inspectors WHERE doc_id = ANY($1)",
            &[&ids],
        )? {
            if let Some(rows) = found.get_mut(r.get::<_, &str>(0)) {
                rows.inspectors.push(UserId::new(r.get::<_, String>(1)));
            }
        }
        Ok(ids.iter().map(|id| found.get(*id).cloned()).collect())
    }

    fn records_naming_photo(&self, sha256: &str) -> StoreResult<Vec<String>> {
        Ok(self
            .c()
            .query(
                "SELECT doc_id FROM photo_refs WHERE sha256 = $1 ORDER BY doc_id",
                &[&sha256],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn snapshot(&self, id: &str) -> StoreResult<Option<Snapshot>> {
        Ok(self.snapshots(&[id])?.pop().flatten())
    }

    fn heads(&self, id: &str) -> StoreResult<Option<Vec<String>>> {
        Ok(self.heads_many(&[id])?.pop().flatten())
    }

    fn write(&self, w: &DocWrite<'_>) -> StoreResult<()> {
        self.write_many(std::slice::from_ref(w))
    }

    fn write_many(&self, writes: &[DocWrite<'_>]) -> StoreResult<()> {
        if writes.is_empty() {
            return Ok(());
        }
        self.atomic(|tx| write_docs(tx, writes))
    }

    fn changes_after(&self, f: &PullFilter<'_>) -> StoreResult<ChangePage> {
        let mut c = self.c();
        let (plans, user) = f.person.unwrap_or((&[], ""));
        let person = f.person.is_some();
        paged(f.cursor, f.max_bytes, |cursor| {
            Ok(c.query(
                "SELECT c.seq, c.doc_id, c.bytes FROM changes c JOIN docs d ON d.id = c.doc_id
                 WHERE c.seq > $1 AND c.origin_device <> $2
                   AND (d.unit = ANY($3)
                        OR ($4 AND (d.plan = ANY($5)
                                    OR EXISTS (SELECT 1 FROM doc_recipients i
                                               WHERE i.user_id = $6 AND i.doc_id = d.id)
                                    OR EXISTS (SELECT 1 FROM record_fetches f
                                               WHERE f.user_id = $6 AND f.doc_id = d.id))))
                 ORDER BY c.seq LIMIT $7",
                &[
                    &cursor,
                    &f.device,
                    &f.units,
                    &person,
                    &plans,
                    &user,
                    &CHANGE_ROWS,
                ],
            )?)
        })
    }

    fn lock_record(&self, id: &str) -> StoreResult<()> {
        self.lock_records(&[id])
    }

    fn lock_records(&self, ids: &[&str]) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        // One statement; the locks are taken row by row in the order of `ids`.
        self.c().query(
            "SELECT pg_advisory_xact_lock($1, hashtext(id))
             FROM unnest($2::text[]) WITH ORDINALITY AS t(id, n) ORDER BY n",
            &[&super::RECORD_LOCKS, &ids],
        )?;
        Ok(())
    }

    fn snapshots(&self, ids: &[&str]) -> StoreResult<Vec<Option<Snapshot>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut c = self.c();
        let mut found: std::collections::HashMap<String, (Vec<u8>, String)> = c
            .query(
                "SELECT id, snapshot, heads FROM docs WHERE id = ANY($1)",
                &[&ids],
            )?
            .into_iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2))))
            .collect();
        // Records never updated since they arrived are their change log (see
        // `DocWrite::snapshot`).
        let whole: Vec<&str> = found
            .iter()
            .filter(|(_, (snapshot, _))| snapshot.is_empty())
            .map(|(id, _)| id.as_str())
            .collect();
        let mut logs: std::collections::HashMap<String, Vec<u8>> = Default::default();
        if !whole.is_empty() {
            for r in c.query(
                "SELECT doc_id, bytes FROM changes WHERE doc_id = ANY($1) ORDER BY doc_id, seq",
                &[&whole],
            )? {
                logs.entry(r.get(0))
                    .or_default()
                    .extend_from_slice(r.get::<_, &[u8]>(1));
            }
        }
        ids.iter()
            .enumerate()
            .map(|(i, id)| {
                // `ids` may name a record twice: each gets its copy, the last one the bytes read.
                let last = ids[i + 1..].iter().all(|later| later != id);
                let Some((snapshot, heads)) = found.get(*id) else {
                    return Ok(None);
                };
                let heads = parse_heads(heads)?;
                let bytes = match (snapshot.is_empty(), last) {
                    (true, true) => logs.remove(*id).unwrap_or_default(),
                    (true, false) => logs.get(*id).cloned().unwrap_or_default(),
                    (false, true) => found.remove(*id).map(|(s, _)| s).unwrap_or_default(),
                    (false, false) => snapshot.clone(),
                };
                Ok(Some((bytes, heads)))
            })
            .collect()
    }

    fn heads_many(&self, ids: &[&str]) -> StoreResult<Vec<Option<Vec<String>>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let found: std::collections::HashMap<String, String> = self
            .c()
            .query("SELECT id, heads FROM docs WHERE id = ANY($1)", &[&ids])?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        ids.iter()
            .map(|id| found.get(*id).map(|h| parse_heads(h)).transpose())
            .collect()
    }

    fn follow(&self, user: &str, id: &str, at: i64) -> StoreResult<()> {
        self.c().execute(
            "INSERT INTO record_fetches (user_id, doc_id, at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, doc_id) DO NOTHING",
            &[&user, &id, &at],
        )?;
        Ok(())
    }

    fn records_of_enterprise(&self, enterprise: &str, limit: usize) -> StoreResult<Vec<String>> {
        Ok(self
            .c()
            .query(
                "SELECT id FROM console_records WHERE enterprise_id = $1
                 ORDER BY visit_at DESC, id LIMIT $2",
                &[&enterprise, &(limit as i64)],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn latest_seq(&self) -> StoreResult<i64> {
        Ok(self
            .c()
            .query_one(&format!("SELECT {LATEST_SEQ}"), &[])?
            .get(0))
    }
}
