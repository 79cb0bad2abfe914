//! Reading single resources for the API: a record, a plan, an enterprise. Each is `None` both
//! when it does not exist and when the user may not see it, so existence never leaks (sealed
//! plans above all).

use crate::plans;
use crate::reference::ReferenceData;
use crate::store::console_query::{Cursor, RecordFilter, RecordRow};
use crate::store::records;
use crate::store::{ConsoleIndex, PlanStore, RecordStore, StoreResult};
use app_core::access::{RecordScope, can_read_enterprise, can_read_plan, can_read_record};
use app_core::document::InspectionDoc;
use app_core::enterprise::Enterprise;
use app_core::plan::Plan;
use app_core::user::User;

/// Stored record `id` with its plan, as the access rule needs them (read under the lock; the
/// check and the view are made afterwards by [`readable_record`]).
pub fn load_record<S: RecordStore + PlanStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    id: &str,
) -> StoreResult<Option<(InspectionDoc, Option<Plan>)>> {
    let Some(stored) = records::load(store, id)? else {
        return Ok(None);
    };
    let plan = match &stored.doc.record().plan {
        Some(p) => plans::find(store, reference, p.as_str())?,
        None => None,
    };
    Ok(Some((stored.doc, plan)))
}

/// The loaded record if `user` may read it.
pub fn readable_record(
    reference: &ReferenceData,
    user: &User,
    loaded: Option<(InspectionDoc, Option<Plan>)>,
) -> Option<InspectionDoc> {
    let (doc, plan) = loaded?;
    can_read_record(
        user,
        &RecordScope::of(doc.record(), plan.as_ref()),
        &reference.units,
    )
    .then_some(doc)
}

/// Plan `id` (fixture or sealed) if `user` may read it.
pub fn readable_plan<S: PlanStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    user: &User,
    id: &str,
) -> StoreResult<Option<Plan>> {
    Ok(plans::find(store, reference, id)?.filter(|p| can_read_plan(user, p, &reference.units)))
}

/// Enterprise `id` if `user` may read it (in their units, or sent to by a plan they see).
pub fn readable_enterprise<S: PlanStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    user: &User,
    id: &str,
) -> StoreResult<Option<Enterprise>> {
    let visible_plans = plans::visible_to(store, reference, user)?;
    Ok(reference
        .enterprises
        .iter()
        .find(|e| {
            e.id.as_str() == id && can_read_enterprise(user, e, &reference.units, &visible_plans)
        })
        .cloned())
}

/// One page of the console's record list for `filter` (whose units the caller set to those
/// the viewer may read), the cursor of the next page, and how many records match in all.
pub fn record_list_page<S: ConsoleIndex + ?Sized>(
    store: &S,
    filter: &RecordFilter,
    after: Option<&Cursor>,
    page_size: usize,
) -> StoreResult<(Vec<RecordRow>, Option<Cursor>, i64)> {
    let (rows, next) = store.list_records(filter, after, page_size)?;
    let total = store.count_records(filter)?;
    Ok((rows, next, total))
}
