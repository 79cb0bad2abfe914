//! Linking ingested photos into records. The original is already durable in the blob store
//! when this runs (ingest commits blobs first), so a committed record never names a photo
//! whose bytes are missing; the photo's metadata, its link and the record change are written
//! in one transaction.

use super::{Result, Store};
use crate::photo::IngestedPhoto;
use app_core::evidence::PhotoRef;
use app_core::ids::{HazardId, InspectionId, ItemCode};
use app_core::inspection::{Command, Context};
use rusqlite::params;

/// Where in the record a photo goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoTarget {
    Item(ItemCode),
    Hazard(HazardId),
}

impl PhotoTarget {
    fn key(&self) -> String {
        match self {
            PhotoTarget::Item(c) => format!("item:{c}"),
            PhotoTarget::Hazard(h) => format!("hazard:{h}"),
        }
    }
}

/// Keeps an ingested photo's metadata (format, size, EXIF, its copies) on this tablet, once:
/// the one place the `photos` row is written, for linked and loose photos alike.
pub(crate) fn insert_photo(
    conn: &rusqlite::Connection,
    photo: &IngestedPhoto,
    at: app_core::geo::Timestamp,
) -> rusqlite::Result<()> {
    let exif = serde_json::to_string(&photo.exif).expect("exif serialises");
    let format = serde_json::to_value(photo.format)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    conn.execute(
        "INSERT OR IGNORE INTO photos (sha256, format, byte_len, width, height, exif,
             display_sha256, thumb_sha256, ingested_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            photo.sha256.as_str(),
            format,
            photo.byte_len as i64,
            photo.width,
            photo.height,
            exif,
            photo.display_sha256.as_str(),
            photo.thumb_sha256.as_str(),
            at.0,
        ],
    )?;
    Ok(())
}

impl Store {
    /// Adds an ingested photo to a checklist item or a hazard of record `id`, under the
    /// record's rules (refused if, say, the record is under review).
    pub fn attach_photo(
        &mut self,
        id: &InspectionId,
        target: &PhotoTarget,
        photo: &IngestedPhoto,
        cx: &Context<'_>,
    ) -> Result<PhotoRef> {
        let reference = PhotoRef {
            sha256: photo.sha256.clone(),
            added_at: cx.now,
            added_by: cx.actor.id.clone(),
        };
        let command = match target {
            PhotoTarget::Item(item) => Command::AddItemPhoto {
                item: item.clone(),
                photo: reference.clone(),
            },
            PhotoTarget::Hazard(hazard) => Command::AddHazardPhoto {
                hazard: hazard.clone(),
                photo: reference.clone(),
            },
        };
        let device = self.device.clone();
        let link = target.key();
        self.persist_edit(
            id,
            cx.now,
            super::records::Origin::Local,
            |doc| doc.apply(&command, cx, &device),
            &|tx| {
                insert_photo(tx, photo, cx.now)?;
                tx.execute(
                    "INSERT OR IGNORE INTO photo_links (sha256, inspection_id, target) VALUES (?1, ?2, ?3)",
                    params![photo.sha256.as_str(), id.as_str(), link],
                )?;
                Ok(())
            },
        )?;
        Ok(reference)
    }

    /// The stored metadata of a photo (EXIF, copies), if this tablet ingested it.
    pub fn photo_exif(&self, sha256: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row("SELECT exif FROM photos WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .optional()?)
    }
}
