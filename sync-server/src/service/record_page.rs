//! What the console shows of one record: the record, its conflicts and history, each signed
//! version's verified amendments, which photo originals the server holds, whether the viewer
//! may review it, and its latest case-file exports. A record the viewer may not read is
//! indistinguishable from a missing one.

use crate::reference::ReferenceData;
use crate::service::access;
use crate::store::casefiles::{CaseFileStore, Job};
use crate::store::records;
use crate::store::{BlobStore, PlanStore, RecordStore, StoreError};
use app_core::access::{can_read_record, can_review_record};
use app_core::document::{ChangeEntry, Conflict};
use app_core::inspection::Inspection;
use app_core::signing::Amendments;
use app_core::user::User;
use std::collections::BTreeSet;

/// Everything the record page shows.
#[derive(Debug)]
pub struct RecordView {
    pub record: Inspection,
    pub conflicts: Vec<Conflict>,
    pub history: Vec<ChangeEntry>,
    /// Per signed version: the verified amendments, or why verification failed.
    pub versions: Vec<(String, Result<Amendments, String>)>,
    /// Photos whose original the server holds.
    pub held: BTreeSet<String>,
    pub can_review: bool,
    /// The record's latest case-file exports.
    pub exports: Vec<Job>,
    /// The documents of the latest signed version (`service::documents`), in order.
    pub documents: Vec<pdf_forms::FormKind>,
}

/// Why the page cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Not stored, or not readable by the viewer.
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The page of stored record `id` for `viewer` at `now` (seconds, for the exports' state).
pub fn record_view<S>(
    store: &S,
    reference: &ReferenceData,
    viewer: &User,
    id: &str,
    now: i64,
) -> Result<RecordView, PageError>
where
    S: RecordStore + PlanStore + BlobStore + CaseFileStore + ?Sized,
{
    let scope = access::scope(store, reference, id)?.ok_or(PageError::NotFound)?;
    if !can_read_record(viewer, &scope, &reference.units) {
        return Err(PageError::NotFound);
    }
    let mut stored = records::load(store, id)?.ok_or(PageError::NotFound)?;
    let doc = &mut stored.doc;
    let record = doc.record().clone();
    let ids: Vec<String> = record.signed_versions.keys().cloned().collect();
    let versions = ids
        .into_iter()
        .map(|v| {
            let a = doc.amendments(&v).map_err(|e| e.to_string());
            (v, a)
        })
        .collect();
    let mut held = BTreeSet::new();
    for sha in record.photo_digests() {
        if store.held_size(sha.as_str())?.is_some() {
            held.insert(sha.to_string());
        }
    }
    let exports = store.recent_jobs(id, now)?;
    let documents = crate::service::documents::forms(doc);
    Ok(RecordView {
        documents,
        exports,
        conflicts: doc.conflicts(),
        history: doc.history(),
        versions,
        held,
        can_review: can_review_record(viewer, &scope, &reference.units),
        record,
    })
}
