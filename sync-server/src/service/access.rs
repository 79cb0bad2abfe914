//! A stored record's access scope: what app-core's access rules need to decide who may read,
//! write or review it, read without opening the document.

use crate::plans;
use crate::reference::ReferenceData;
use crate::store::{PlanStore, RecordStore, StoreResult};
use app_core::access::RecordScope;
use app_core::unit::Unit;

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

/// The units whose records, draws and figures `user` oversees in the console: a supervisor's
/// subtree; nothing for anyone else.
pub fn overseen_units(reference: &ReferenceData, user: &app_core::user::User) -> Vec<Unit> {
    match user.role {
        app_core::user::Role::Supervisor => reference.units.subtree(&user.unit).cloned().collect(),
        _ => Vec::new(),
    }
}
