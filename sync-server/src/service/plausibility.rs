//! The evidence-plausibility badges of stored records (`app_core::plausibility` decides; this
//! gathers what it needs): each photo's EXIF (read once per digest and kept: a digest's
//! bytes never change), the enterprise's registered position, the records of other
//! enterprises naming the same photo (the indexed `photo_refs`), and the answers' times from
//! the record's history. Opening a record's document is the expensive part, so what a
//! record contributes is kept per record and its stored heads: a list page opens only the
//! records that changed since it was last shown.

use crate::blobstore::Blobs;
use crate::exif;
use crate::reference::ReferenceData;
use crate::service::access;
use crate::store::records;
use crate::store::{BlobStore, PlanStore, RecordStore, StoreResult};
use app_core::access::can_read_record;
use app_core::evidence::Sha256Hex;
use app_core::geo::Timestamp;
use app_core::inspection::Inspection;
use app_core::plausibility::{self, Badge, Evidence, PhotoFacts};
use app_core::user::User;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// What one stored record contributes, at its stored heads.
#[derive(Debug)]
struct RecordFacts {
    heads: Vec<String>,
    record: Inspection,
    answer_times: Vec<Timestamp>,
}

/// The kept photo facts and record facts. Shared by every request (in `AppState`).
#[derive(Debug, Default)]
pub struct PlausibilityCache {
    photos: Mutex<HashMap<String, PhotoFacts>>,
    records: Mutex<HashMap<String, Arc<RecordFacts>>>,
}

/// Kept records at most; past it the cache starts afresh (a simple bound, never stale).
const MAX_RECORDS: usize = 20_000;

impl PlausibilityCache {
    fn record<S: RecordStore + ?Sized>(
        &self,
        store: &S,
        id: &str,
    ) -> StoreResult<Option<Arc<RecordFacts>>> {
        let Some(heads) = store.heads(id)? else {
            return Ok(None);
        };
        if let Some(f) = self.records.lock().expect("cache lock").get(id)
            && f.heads == heads
        {
            return Ok(Some(f.clone()));
        }
        let Some(mut stored) = records::load(store, id)? else {
            return Ok(None);
        };
        let history = stored.doc.history();
        let facts = Arc::new(RecordFacts {
            heads: stored.heads.clone(),
            record: stored.doc.record().clone(),
            answer_times: plausibility::answer_times(&history),
        });
        let mut kept = self.records.lock().expect("cache lock");
        if kept.len() >= MAX_RECORDS {
            kept.clear();
        }
        kept.insert(id.to_owned(), facts.clone());
        Ok(Some(facts))
    }

    /// The EXIF facts of a held photo (`None` while the original is not uploaded).
    fn photo<S: BlobStore + ?Sized>(
        &self,
        store: &S,
        blobs: &Blobs,
        sha: &Sha256Hex,
    ) -> StoreResult<Option<PhotoFacts>> {
        if let Some(f) = self.photos.lock().expect("cache lock").get(sha.as_str()) {
            return Ok(Some(*f));
        }
        if store.held_size(sha.as_str())?.is_none() {
            return Ok(None);
        }
        let Ok(Some(bytes)) = blobs.read_blocking(sha) else {
            return Ok(None);
        };
        let read = exif::read(&bytes);
        let facts = PhotoFacts {
            taken_at: read
                .taken_at
                .as_deref()
                .and_then(plausibility::parse_exif_time),
            gps: read.gps,
        };
        self.photos
            .lock()
            .expect("cache lock")
            .insert(sha.to_string(), facts);
        Ok(Some(facts))
    }
}

/// The badges of stored record `id` as `viewer` sees them (another enterprise is named only
/// if the viewer may read its record). Empty if the record is not stored. The caller has
/// checked that the viewer may read record `id`.
pub fn badges<S>(
    store: &S,
    reference: &ReferenceData,
    cache: &PlausibilityCache,
    blobs: &Blobs,
    viewer: &User,
    id: &str,
) -> StoreResult<Vec<Badge>>
where
    S: RecordStore + PlanStore + BlobStore + ?Sized,
{
    let Some(facts) = cache.record(store, id)? else {
        return Ok(Vec::new());
    };
    let r = &facts.record;
    let mut photos = BTreeMap::new();
    let mut elsewhere: BTreeMap<Sha256Hex, Vec<String>> = BTreeMap::new();
    for sha in r.photo_digests() {
        if let Some(f) = cache.photo(store, blobs, &sha)? {
            photos.insert(sha.clone(), f);
        }
        for other in store.records_naming_photo(sha.as_str())? {
            if other == id {
                continue;
            }
            let Some(o) = cache.record(store, &other)? else {
                continue;
            };
            if o.record.enterprise.id == r.enterprise.id {
                continue;
            }
            let readable = access::scope(store, reference, &other)?
                .is_some_and(|s| can_read_record(viewer, &s, &reference.units));
            let name = if readable {
                o.record.enterprise.name.clone()
            } else {
                viewer_cannot_read_name()
            };
            let names = elsewhere.entry(sha.clone()).or_default();
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    let enterprise_position = reference
        .enterprises
        .iter()
        .find(|e| e.id == r.enterprise.id)
        .and_then(|e| e.position);
    Ok(plausibility::badges(&Evidence {
        record: r,
        photos: &photos,
        enterprise_position,
        elsewhere: &elsewhere,
        answer_times: &facts.answer_times,
    }))
}

/// How an enterprise whose record the viewer may not read is named.
fn viewer_cannot_read_name() -> String {
    app_core::messages::Lang::Zh
        .t("辖区外企业", "an enterprise outside your units")
        .to_owned()
}

/// How a person names stored record `id`: its document numbers (文号, the rectification
/// order's first) or, before any is issued, its enterprise and visit date. From the kept
/// record facts, so a page listing many records opens each document once. The caller has
/// checked that the viewer may read the record.
pub fn record_label<S: RecordStore + ?Sized>(
    store: &S,
    cache: &PlausibilityCache,
    id: &str,
) -> StoreResult<Option<String>> {
    let Some(f) = cache.record(store, id)? else {
        return Ok(None);
    };
    let r = &f.record;
    let mut numbers: Vec<&app_core::docnumber::IssuedDocument> = r.documents.values().collect();
    numbers.sort_by_key(|d| {
        (
            d.kind != app_core::docnumber::DocumentKind::RectificationOrder,
            d.seq,
        )
    });
    Ok(Some(match numbers.first() {
        Some(d) => d.number.clone(),
        None => format!(
            "{} {}",
            r.enterprise.name,
            r.arrival
                .as_ref()
                .map(|a| a.at)
                .unwrap_or(r.created_at)
                .shanghai_date()
        ),
    }))
}
