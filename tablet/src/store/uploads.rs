//! What the photo uploader needs from the store: the photo digests the records refer to,
//! and which of them the server is known to hold.
//!
//! The records are the truth (a photo can be referred to from an item, a hazard, a
//! re-inspection, the arrival proof or a signature, and records pulled from other tablets
//! refer to photos too). Decoding every record on every upload run would grow with the
//! archive, so the digests of each record are cached in `blob_refs` together with the
//! record's `next_seq` (which every saved change moves, and compaction does not): only
//! records changed since the last scan are read again.

use super::{Result, Store, StoreError};
use app_core::evidence::Sha256Hex;
use app_core::ids::InspectionId;
use rusqlite::{OptionalExtension, params};

fn parse_digest(raw: String) -> Result<Sha256Hex> {
    Sha256Hex::parse(&raw).map_err(|e| StoreError::Corrupt(format!("photo reference: {e}")))
}

impl Store {
    /// Brings the cached photo references up to date with the records; returns how many
    /// records were read again.
    pub fn refresh_photo_refs(&mut self) -> Result<usize> {
        let stale: Vec<(String, i64)> = {
            let mut stmt = self.conn.prepare_cached(
                "SELECT d.id, d.next_seq FROM docs d
                 LEFT JOIN blob_ref_scans s ON s.inspection_id = d.id
                 WHERE s.seq IS NULL OR s.seq <> d.next_seq",
            )?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        for (id, seq) in &stale {
            let photos = self
                .document(&InspectionId::new(id.clone()))?
                .record()
                .photo_digests();
            let tx = self.conn.transaction()?;
            tx.execute("DELETE FROM blob_refs WHERE inspection_id = ?1", [id])?;
            for sha in &photos {
                tx.execute(
                    "INSERT INTO blob_refs (inspection_id, sha256) VALUES (?1, ?2)",
                    params![id, sha.as_str()],
                )?;
            }
            tx.execute(
                "INSERT INTO blob_ref_scans (inspection_id, seq) VALUES (?1, ?2)
                 ON CONFLICT (inspection_id) DO UPDATE SET seq = ?2",
                params![id, seq],
            )?;
            tx.commit()?;
        }
        Ok(stale.len())
    }

    /// Every photo digest any record refers to, in digest order.
    pub fn referenced_photos(&mut self) -> Result<Vec<Sha256Hex>> {
        self.refresh_photo_refs()?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT sha256 FROM blob_refs ORDER BY sha256")?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(parse_digest).collect()
    }

    /// Photos the records refer to and recordings the cases name that the server is not
    /// known to hold, in digest order. Some may not be on this tablet (photos of records made
    /// elsewhere): the uploader skips those.
    pub fn pending_uploads(&mut self) -> Result<Vec<Sha256Hex>> {
        self.refresh_photo_refs()?;
        self.refresh_case_media()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.sha256 FROM (SELECT sha256 FROM blob_refs UNION SELECT sha256 FROM case_media) r
             WHERE NOT EXISTS (SELECT 1 FROM uploaded_blobs u WHERE u.sha256 = r.sha256)
             ORDER BY r.sha256",
        )?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(parse_digest).collect()
    }

    /// Records that the server holds `sha` (it confirmed a complete upload, or said it has
    /// it): it is not offered again.
    pub fn mark_uploaded(&self, sha: &Sha256Hex) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO uploaded_blobs (sha256) VALUES (?1)",
            [sha.as_str()],
        )?;
        Ok(())
    }

    pub fn is_uploaded(&self, sha: &Sha256Hex) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM uploaded_blobs WHERE sha256 = ?1",
                [sha.as_str()],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::evidence::PhotoRef;
    use app_core::geo::{Position, PositionSource, Timestamp};
    use app_core::inspection::{ArrivalProof, Command, Context};
    use app_core::user::User;

    use crate::test_fixtures::{T0, routine_record};

    fn photo(tag: &str, by: &User) -> PhotoRef {
        PhotoRef {
            sha256: Sha256Hex::of(tag.as_bytes()),
            added_at: Timestamp(T0),
            added_by: by.id.clone(),
        }
    }

    #[test]
    fn pending_uploads_follow_the_records_and_the_marks() {
        let mut store = Store::open_in_memory().unwrap();
        let (id, t, w) = routine_record(&mut store);
        assert!(store.pending_uploads().unwrap().is_empty());
        let cx = Context {
            actor: &w,
            now: Timestamp(T0),
            template: &t,
        };
        let item = t.items().next().unwrap().code.clone();
        store
            .apply(
                &id,
                &Command::AddItemPhoto {
                    item: item.clone(),
                    photo: photo("one", &w),
                },
                &cx,
            )
            .unwrap();
        store
            .apply(
                &id,
                &Command::SetArrival(ArrivalProof {
                    at: Timestamp(T0),
                    position: Position::new(32.0, 118.8, PositionSource::Device).unwrap(),
                    entrance_photo: Sha256Hex::of(b"gate"),
                }),
                &cx,
            )
            .unwrap();
        let mut expected = vec![Sha256Hex::of(b"one"), Sha256Hex::of(b"gate")];
        expected.sort();
        assert_eq!(store.pending_uploads().unwrap(), expected);
        assert_eq!(
            store.refresh_photo_refs().unwrap(),
            0,
            "nothing changed: nothing is read again"
        );
        store.mark_uploaded(&Sha256Hex::of(b"one")).unwrap();
        assert!(store.is_uploaded(&Sha256Hex::of(b"one")).unwrap());
        assert_eq!(
            store.pending_uploads().unwrap(),
            vec![Sha256Hex::of(b"gate")]
        );
        store
            .apply(
                &id,
                &Command::AddItemPhoto {
                    item,
                    photo: photo("two", &w),
                },
                &cx,
            )
            .unwrap();
        let mut expected = vec![Sha256Hex::of(b"two"), Sha256Hex::of(b"gate")];
        expected.sort();
        assert_eq!(store.pending_uploads().unwrap(), expected);
        assert_eq!(store.referenced_photos().unwrap().len(), 3);
        // Compaction rewrites the snapshot but not the content: no rescan needed.
        store.compact(&id).unwrap();
        assert_eq!(store.refresh_photo_refs().unwrap(), 0);
    }
}
