//! [`RecordStore`] on PostgreSQL: documents, the global change log and the derived rows.

use super::{Pg, Query};
use crate::store::StoreResult;
use crate::store::records::{
    AccessRows, ChangePage, DocWrite, PullFilter, RecordStore, parse_heads,
};
use app_core::ids::{PlanId, UnitId, UserId};
use postgres::GenericClient;

/// The newest number of the one global change sequence: records' changes and cases'
/// (`store::cases`).
pub(super) const LATEST_SEQ: &str = "GREATEST((SELECT COALESCE(MAX(seq), 0) FROM changes),
    (SELECT COALESCE(MAX(seq), 0) FROM case_changes))::bigint";
/// The next number of the sequence (taken under the change-log lock, see `store::pg`).
pub(super) const NEXT_SEQ: &str = "GREATEST((SELECT COALESCE(MAX(seq), 0) FROM changes),
    (SELECT COALESCE(MAX(seq), 0) FROM case_changes))::bigint + 1";

/// Rows fetched per round trip while paging the change log by bytes.
pub(super) const CHANGE_ROWS: i64 = 256;

/// Appends a change to a change log (`table_and_id`: `changes (seq, doc_id` or
/// `case_changes (seq, case_id`) with the next number of the global sequence. Changes become
/// visible in seq order and without gaps: the number is taken under a lock held until the
/// transaction ends (see `store::pg`).
pub(super) fn append_change(
    tx: &mut impl Query,
    table_and_id: &str,
    id: &str,
    origin_device: &str,
    bytes: &[u8],
) -> StoreResult<()> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&super::CHANGE_LOG_LOCK],
    )?;
    tx.execute(
        &format!(
            "INSERT INTO {table_and_id}, origin_device, bytes)
             SELECT {NEXT_SEQ}, $1::text, $2::text, $3::bytea"
        ),
        &[&id, &origin_device, &bytes],
    )?;
    Ok(())
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
        let mut c = self.c();
        let Some(row) = c.query_opt("SELECT unit, plan FROM docs WHERE id = $1", &[&id])? else {
            return Ok(None);
        };
        let inspectors = c
            .query(
                "SELECT user_id FROM doc_inspectors WHERE doc_id = $1",
                &[&id],
            )?
            .iter()
            .map(|r| UserId::new(r.get::<_, String>(0)))
            .collect();
        Ok(Some(AccessRows {
            unit: UnitId::new(row.get::<_, String>(0)),
            plan: row.get::<_, Option<String>>(1).map(PlanId::new),
            inspectors,
        }))
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

    fn snapshot(&self, id: &str) -> StoreResult<Option<(Vec<u8>, Vec<String>)>> {
        let mut c = self.c();
        let Some(row) = c.query_opt("SELECT snapshot, heads FROM docs WHERE id = $1", &[&id])?
        else {
            return Ok(None);
        };
        let mut snapshot: Vec<u8> = row.get(0);
        let heads: String = row.get(1);
        if snapshot.is_empty() {
            // Never updated since it arrived: the document is its change log (see
            // `DocWrite::snapshot`).
            for r in c.query(
                "SELECT bytes FROM changes WHERE doc_id = $1 ORDER BY seq",
                &[&id],
            )? {
                snapshot.extend_from_slice(r.get::<_, &[u8]>(0));
            }
        }
        Ok(Some((snapshot, parse_heads(&heads)?)))
    }

    fn heads(&self, id: &str) -> StoreResult<Option<Vec<String>>> {
        self.c()
            .query_opt("SELECT heads FROM docs WHERE id = $1", &[&id])?
            .map(|r| parse_heads(r.get(0)))
            .transpose()
    }

    fn write(&self, w: &DocWrite<'_>) -> StoreResult<()> {
        self.atomic(|tx| {
            let r = w.record;
            let heads = serde_json::to_string(w.heads).expect("strings serialise");
            tx.execute(
                "INSERT INTO docs (id, unit, plan, status, snapshot, heads)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (id) DO UPDATE SET unit = $2, plan = $3, status = $4,
                     snapshot = $5, heads = $6",
                &[
                    &w.id,
                    &r.unit.as_str(),
                    &r.plan.as_ref().map(|p| p.as_str()),
                    &r.status.as_str(),
                    &w.snapshot.unwrap_or_default(),
                    &heads,
                ],
            )?;
            if w.existed {
                tx.execute("DELETE FROM doc_inspectors WHERE doc_id = $1", &[&w.id])?;
            }
            let users: Vec<&str> = r.inspectors.keys().map(|u| u.as_str()).collect();
            tx.execute(
                "INSERT INTO doc_inspectors (doc_id, user_id)
                 SELECT $1::text, u FROM unnest($2::text[]) AS u ON CONFLICT DO NOTHING",
                &[&w.id, &users],
            )?;
            if w.existed {
                tx.execute("DELETE FROM doc_recipients WHERE doc_id = $1", &[&w.id])?;
            }
            let recipients: Vec<&str> = crate::store::records::recipients(r).into_iter().collect();
            tx.execute(
                "INSERT INTO doc_recipients (user_id, doc_id)
                 SELECT u, $1::text FROM unnest($2::text[]) AS u ON CONFLICT DO NOTHING",
                &[&w.id, &recipients],
            )?;
            let digests = r.photo_digests();
            let photos: Vec<&str> = digests.iter().map(|s| s.as_str()).collect();
            tx.execute(
                "INSERT INTO photo_refs (sha256, doc_id)
                 SELECT s, $1::text FROM unnest($2::text[]) AS s ON CONFLICT DO NOTHING",
                &[&w.id, &photos],
            )?;
            append_change(tx, "changes (seq, doc_id", w.id, w.origin_device, w.change)?;
            super::console::index_record(tx, r, w.existed)?;
            Ok(())
        })
    }

    fn changes_after(&self, f: &PullFilter<'_>) -> StoreResult<ChangePage> {
        let mut c = self.c();
        let (plans, user) = f.inspector.unwrap_or((&[], ""));
        let inspector = f.inspector.is_some();
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
                    &inspector,
                    &plans,
                    &user,
                    &CHANGE_ROWS,
                ],
            )?)
        })
    }

    fn lock_record(&self, id: &str) -> StoreResult<()> {
        self.c().execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&super::RECORD_LOCKS, &id],
        )?;
        Ok(())
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
