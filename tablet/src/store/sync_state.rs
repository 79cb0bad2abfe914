//! What the sync client needs from the store: the changes the server lacks, marking them
//! pushed, the cursor, and counts for the progress indicator.

use super::records::heads_json;
use super::{Result, Store, StoreError};
use app_core::ids::{InspectionId, UserId};
use rusqlite::{OptionalExtension, params};

/// The records waiting to be pushed, first `?1` by id, read from the pending index (tablet
/// migration 12) without their snapshots.
pub(crate) const PENDING_SQL: &str =
    "SELECT id, synced_heads, heads FROM docs WHERE dirty = 1 ORDER BY id LIMIT ?1";
/// The heads of record `?1` while it waits to be pushed, from the same index.
pub(crate) const PENDING_HEADS_SQL: &str =
    "SELECT heads FROM docs INDEXED BY docs_pending WHERE id = ?1 AND dirty = 1";

/// Local changes of one record that the server does not hold yet.
#[derive(Debug, Clone)]
pub struct PendingPush {
    pub id: InspectionId,
    pub bytes: Vec<u8>,
    /// The heads these bytes bring the server to.
    pub heads: String,
    /// The server's latest receipt for the record, when it is pushed whole and was pulled
    /// before (see [`app_core::wire::Receipt`]).
    pub receipt: Option<app_core::wire::Receipt>,
}

/// Counts for the sync indicator (the screens' type, in `tablet-api`).
pub use tablet_api::Pending;

impl Store {
    /// Up to `limit` records with local changes, each with the bytes the server lacks: the
    /// whole document if it was never pushed, else the changes after the last pushed heads.
    ///
    /// A record never pushed is sent as stored — its snapshot followed by its pending changes,
    /// which Automerge loads as one document — without opening it, so a tablet with a backlog
    /// of finished inspections syncs at the speed of reading them from SQLite.
    pub fn pending_pushes(&mut self, limit: u32) -> Result<Vec<PendingPush>> {
        let rows: Vec<(String, Option<String>, Option<String>)> = {
            let mut stmt = self.conn.prepare_cached(PENDING_SQL)?;
            stmt.query_map([limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::with_capacity(rows.len());
        for (id, synced, heads) in rows {
            let id = InspectionId::new(id);
            if let (None, Some(heads)) = (&synced, heads) {
                out.push(PendingPush {
                    bytes: self.stored_bytes(&id)?,
                    receipt: self.receipt(&id)?,
                    id,
                    heads,
                });
                continue;
            }
            let doc = self.document(&id)?;
            let whole = synced.is_none();
            let bytes = match synced {
                None => doc.save(),
                Some(raw) => {
                    let heads: Vec<String> = serde_json::from_str(&raw)
                        .map_err(|e| StoreError::Corrupt(format!("synced heads of {id}: {e}")))?;
                    let heads: Vec<automerge::ChangeHash> =
                        heads.iter().filter_map(|h| h.parse().ok()).collect();
                    doc.automerge_mut().save_after(&heads)
                }
            };
            let heads = heads_json(doc);
            let receipt = if whole { self.receipt(&id)? } else { None };
            out.push(PendingPush {
                id,
                bytes,
                heads,
                receipt,
            });
        }
        Ok(out)
    }

    /// Keeps the server's receipt for a pulled record (the latest replaces the one before).
    pub fn set_receipt(&self, id: &InspectionId, receipt: &app_core::wire::Receipt) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO receipts (id, heads, seal) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET heads = ?2, seal = ?3",
            )?
            .execute(rusqlite::params![id.as_str(), receipt.heads, receipt.seal])?;
        Ok(())
    }

    /// The server's latest receipt for a record, if it sent one.
    pub fn receipt(&self, id: &InspectionId) -> Result<Option<app_core::wire::Receipt>> {
        Ok(self
            .conn
            .prepare_cached("SELECT heads, seal FROM receipts WHERE id = ?1")?
            .query_row([id.as_str()], |r| {
                Ok(app_core::wire::Receipt {
                    heads: r.get(0)?,
                    seal: r.get(1)?,
                })
            })
            .optional()?)
    }

    /// A record's stored bytes: the snapshot, then each pending change in order.
    fn stored_bytes(&self, id: &InspectionId) -> Result<Vec<u8>> {
        let mut bytes: Vec<u8> = self
            .conn
            .prepare_cached("SELECT snapshot FROM docs WHERE id = ?1")?
            .query_row([id.as_str()], |r| r.get(0))?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT bytes FROM doc_changes WHERE doc_id = ?1 ORDER BY seq")?;
        let mut rows = stmt.query([id.as_str()])?;
        while let Some(row) = rows.next()? {
            bytes.extend_from_slice(row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?);
        }
        Ok(bytes)
    }

    /// Records that the server durably holds `push`. If the record changed again meanwhile it
    /// stays marked for the next push.
    pub fn mark_pushed(&mut self, push: &PendingPush) -> Result<()> {
        self.mark_all_pushed(&[push])
    }

    /// [`Store::mark_pushed`] for many records, in one transaction.
    pub fn mark_all_pushed(&mut self, pushes: &[&PendingPush]) -> Result<()> {
        // Records whose heads are not kept (written before the column existed) are compared
        // by opening their document.
        let mut current = Vec::with_capacity(pushes.len());
        for push in pushes {
            // A pushed record is still pending unless the server's answer crossed another
            // sync's: read from the pending index, without the snapshot.
            let pending: Option<Option<String>> = self
                .conn
                .prepare_cached(PENDING_HEADS_SQL)?
                .query_row([push.id.as_str()], |r| r.get(0))
                .optional()?;
            let known: Option<String> = match pending {
                Some(heads) => heads,
                None => self
                    .conn
                    .prepare_cached("SELECT heads FROM docs WHERE id = ?1")?
                    .query_row([push.id.as_str()], |r| r.get(0))
                    .optional()?
                    .flatten(),
            };
            current.push(match known {
                Some(h) => h,
                None => heads_json(self.document(&push.id)?),
            });
        }
        let tx = self.conn.transaction()?;
        {
            let mut update =
                tx.prepare_cached("UPDATE docs SET synced_heads = ?2, dirty = ?3 WHERE id = ?1")?;
            for (push, current) in pushes.iter().zip(current) {
                update.execute(params![
                    push.id.as_str(),
                    push.heads,
                    i64::from(current != push.heads)
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The server cursor this tablet has reached for `user`.
    pub fn sync_cursor(&self, user: &UserId) -> Result<u64> {
        let raw: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                [format!("cursor:{user}")],
                |r| r.get(0),
            )
            .optional()?;
        Ok(raw.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    pub fn set_sync_cursor(&self, user: &UserId, cursor: u64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
            params![format!("cursor:{user}"), cursor.to_string()],
        )?;
        Ok(())
    }

    /// The epoch of the server this tablet last synced with (None: never synced with a server
    /// that names one).
    pub fn server_epoch(&self) -> Result<Option<String>> {
        self.meta("server_epoch")
    }

    pub fn set_server_epoch(&self, epoch: &str) -> Result<()> {
        self.set_meta("server_epoch", epoch)
    }

    /// Forgets what the server was known to hold, after it was restored from a backup: every
    /// record is pushed again whole (its full history), every photo the records name is
    /// offered again (the uploader asks the server first and sends only what it lacks), and
    /// the document-number blocks are to be announced again (`numbers_claim_due`). The
    /// records, photos and numbers themselves are untouched. One transaction.
    pub fn forget_server_state(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("UPDATE docs SET synced_heads = NULL, dirty = 1", [])?;
        tx.execute("DELETE FROM uploaded_blobs", [])?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('numbers_claim_due', '1')
             ON CONFLICT (key) DO UPDATE SET value = '1'",
            [],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records waiting to be pushed, and their stored size (for the indicator).
    pub fn pending(&self) -> Result<Pending> {
        let (records, bytes): (u32, i64) = self.conn.query_row(
            "SELECT count(*), COALESCE(SUM(length(snapshot)), 0) FROM docs WHERE dirty = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(Pending {
            records,
            bytes: bytes as u64,
        })
    }

    /// A value kept in the store's settings table (e.g. the device's signing key).
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
            params![key, value],
        )?;
        Ok(())
    }
}
