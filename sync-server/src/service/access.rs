//! A stored record's access scope: what app-core's access rules need to decide who may read,
//! write or review it, read without opening the document.

use crate::plans;
use crate::reference::ReferenceData;
use crate::store::{PlanStore, RecordStore, StoreResult};
use app_core::access::RecordScope;

/// The unit, inspectors and plan's assignees of stored record `id` (from the record store and
/// the plans). `None` if it is not stored.
pub fn scope<S: RecordStore + PlanStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    id: &str,
) -> StoreResult<Option<RecordScope>> {
    let Some(rows) = store.access_rows(id)? else {
        return Ok(None);
    };
    let assigned = match rows.plan {
        Some(p) => plans::find(store, reference, p.as_str())?
            .map(|p| p.assigned)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    Ok(Some(RecordScope {
        unit: rows.unit,
        inspectors: rows.inspectors,
        assigned,
    }))
}
