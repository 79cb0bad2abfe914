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
    Ok(scopes(store, reference, &[id])?.pop().flatten())
}

/// [`scope`] of several records, in the order of `ids` (their rows read together; each plan
/// looked up once).
pub fn scopes<S: RecordStore + PlanStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    ids: &[&str],
) -> StoreResult<Vec<Option<RecordScope>>> {
    let mut plans_seen: std::collections::HashMap<String, Vec<app_core::ids::UserId>> =
        Default::default();
    store
        .access_rows_many(ids)?
        .into_iter()
        .map(|rows| {
            let Some(rows) = rows else {
                return Ok(None);
            };
            let assigned = match &rows.plan {
                Some(p) => match plans_seen.get(p.as_str()) {
                    Some(assigned) => assigned.clone(),
                    None => {
                        let assigned = plans::find(store, reference, p.as_str())?
                            .map(|p| p.assigned)
                            .unwrap_or_default();
                        plans_seen.insert(p.to_string(), assigned.clone());
                        assigned
                    }
                },
                None => Vec::new(),
            };
            Ok(Some(RecordScope {
                unit: rows.unit,
                inspectors: rows.inspectors,
                assigned,
            }))
        })
        .collect()
}

/// The units whose records, draws and figures `user` oversees in the console: a supervisor's
/// subtree; nothing for anyone else.
pub fn overseen_units(reference: &ReferenceData, user: &app_core::user::User) -> Vec<Unit> {
    match user.role {
        app_core::user::Role::Supervisor => reference.units.subtree(&user.unit).cloned().collect(),
        _ => Vec::new(),
    }
}

/// The units a console page searches: the subtree of `unit` when `viewer` oversees it,
/// otherwise every unit `viewer` oversees. Returns the ids and the chosen unit (`None` when
/// `unit` was absent or not one of the viewer's).
pub fn searched_units(
    reference: &ReferenceData,
    viewer: &app_core::user::User,
    unit: Option<&str>,
) -> (Vec<String>, Option<String>) {
    let overseen = overseen_units(reference, viewer);
    let chosen = unit
        .filter(|u| overseen.iter().any(|x| x.id.as_str() == *u))
        .map(str::to_owned);
    let ids = match &chosen {
        Some(u) => {
            let root = app_core::ids::UnitId::new(u.clone());
            reference
                .units
                .subtree(&root)
                .map(|x| x.id.to_string())
                .collect()
        }
        None => overseen.iter().map(|u| u.id.to_string()).collect(),
    };
    (ids, chosen)
}
