//! Inspection plans: the fixture plans of the reference data and the sealed plans made from
//! 双随机 draws in the console, which are stored (`crate::store::PlanStore`) next to the
//! draw's recorded inputs, so that anyone can repeat a draw and compare.
//!
//! Every reader of plans goes through [`find`], [`assigned_to`] or [`visible_to`], which cover
//! both sources.

use crate::reference::{ReferenceBundle, ReferenceData};
use crate::store::{PlanStore, StoreResult};
use app_core::access::{can_read_enterprise, can_read_plan};
use app_core::ids::UserId;
use app_core::plan::Plan;
use app_core::user::User;

pub use crate::store::plans::DrawRecord;

/// The plan `id`, from the fixtures or the store.
pub fn find(
    store: &(impl PlanStore + ?Sized),
    reference: &ReferenceData,
    id: &str,
) -> StoreResult<Option<Plan>> {
    if let Some(p) = reference.plans.iter().find(|p| p.id.as_str() == id) {
        return Ok(Some(p.clone()));
    }
    store.sealed_plan(id)
}

/// Every plan `user` is assigned to, from the fixtures and the store.
pub fn assigned_to(
    store: &(impl PlanStore + ?Sized),
    reference: &ReferenceData,
    user: &UserId,
) -> StoreResult<Vec<Plan>> {
    let mut out: Vec<Plan> = reference
        .plans
        .iter()
        .filter(|p| p.assigned.contains(user))
        .cloned()
        .collect();
    out.extend(store.sealed_plans_assigned_to(user)?);
    Ok(out)
}

/// Every plan `user` may see (app-core's `can_read_plan`), from both sources.
pub fn visible_to(
    store: &(impl PlanStore + ?Sized),
    reference: &ReferenceData,
    user: &User,
) -> StoreResult<Vec<Plan>> {
    let mut out: Vec<Plan> = reference
        .plans
        .iter()
        .filter(|p| can_read_plan(user, p, &reference.units))
        .cloned()
        .collect();
    out.extend(
        store
            .sealed_plans()?
            .into_iter()
            .filter(|plan| can_read_plan(user, plan, &reference.units)),
    );
    Ok(out)
}

/// What a tablet receives: the reference bundle with the stored plans the user may see, and
/// the enterprises those plans send them to.
pub fn bundle_for(
    store: &(impl PlanStore + ?Sized),
    reference: &ReferenceData,
    user: &User,
) -> StoreResult<ReferenceBundle> {
    let mut bundle = reference.bundle_for(user);
    let plans = visible_to(store, reference, user)?;
    for e in &reference.enterprises {
        if !bundle.enterprises.iter().any(|x| x.id == e.id)
            && can_read_enterprise(user, e, &reference.units, &plans)
        {
            bundle.enterprises.push(e.clone());
        }
    }
    bundle.plans = plans;
    Ok(bundle)
}
