//! 双随机 draws in the console: checking an input against what the supervisor may draw from,
//! sealing a draw (re-run from its input, recorded with the plans it makes, once per input)
//! and reading a recorded draw its viewer may see. The draw itself is app-core's `run_draw`.

use crate::reference::ReferenceData;
use crate::service::access::overseen_units;
use crate::store::plans::DrawRecord;
use crate::store::{Commit, PlanStore, StoreError, Transactions};
use app_core::access::can_write_plan;
use app_core::draw::{DrawInput, DrawResult, inspector_roster, run_draw};
use app_core::ids::{UnitId, UserId};
use app_core::plan::Plan;
use app_core::user::User;

/// Why a draw was not made or shown.
#[derive(Debug, thiserror::Error)]
pub enum DrawError {
    /// A territory, draw or plan outside the user's units (not told apart from a missing one).
    #[error("not found")]
    NotFound,
    /// The input does not match what the user may draw from, in Chinese and English.
    #[error("{en}")]
    Invalid { zh: String, en: String },
    /// The draw's rules refuse the input (e.g. too few inspectors).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether `user` oversees `unit` (and so may draw for it and see its draws).
pub fn oversees(reference: &ReferenceData, user: &User, unit: &UnitId) -> bool {
    overseen_units(reference, user)
        .iter()
        .any(|u| &u.id == unit)
}

/// The inspectors a draw by `user` may put on its roster.
pub fn eligible_roster(reference: &ReferenceData, user: &User) -> Vec<UserId> {
    inspector_roster(&reference.users, &reference.units, &user.unit)
}

/// Checks that a (possibly edited) input only uses what `user` may draw from: a territory
/// they oversee, the enterprises its filter selects, inspectors of their subtree.
pub fn check_input(
    reference: &ReferenceData,
    user: &User,
    input: &DrawInput,
) -> Result<(), DrawError> {
    if !oversees(reference, user, &input.filter.unit) {
        return Err(DrawError::NotFound);
    }
    let canonical = input.canonical();
    let pool = input
        .filter
        .select(&reference.enterprises, &reference.units);
    if canonical.pool != pool {
        return Err(DrawError::Invalid {
            zh: "抽查对象库与筛选条件当前选出的企业不一致。".into(),
            en: "The pool differs from what the filter selects now.".into(),
        });
    }
    let allowed = eligible_roster(reference, user);
    if let Some(u) = canonical.roster.iter().find(|u| !allowed.contains(u)) {
        return Err(DrawError::Invalid {
            zh: format!("{u} 不是本辖区执法人员。"),
            en: format!("{u} is not an inspector of your units."),
        });
    }
    Ok(())
}

/// Checks `input` and runs the draw (nothing is stored).
pub fn draw(
    reference: &ReferenceData,
    user: &User,
    input: &DrawInput,
) -> Result<DrawResult, DrawError> {
    check_input(reference, user, input)?;
    run_draw(input).map_err(|e| DrawError::Refused(e.to_string()))
}

/// Re-runs the draw from `input` as `user` at `now` (seconds) and makes what sealing it
/// records: the draw and its plans (due `due`). Nothing is stored (see [`record`]).
pub fn seal(
    reference: &ReferenceData,
    user: &User,
    input: &DrawInput,
    due: Option<String>,
    now: i64,
) -> Result<(DrawRecord, Vec<Plan>), DrawError> {
    let result = draw(reference, user, input)?;
    let plans = result.plans(due.as_deref());
    if let Some(p) = plans
        .iter()
        .find(|p| !can_write_plan(user, p, &reference.units))
    {
        tracing::warn!(user = %user.id, plan = %p.id, "draw plan outside the user's units");
        return Err(DrawError::NotFound);
    }
    let record = DrawRecord {
        id: result.draw_id(),
        input: input.canonical(),
        result,
        due,
        drawn_by: user.id.clone(),
        drawn_at: now,
    };
    Ok((record, plans))
}

/// Records a sealed draw with its plans, in one transaction, unless a draw with the same
/// input is recorded already (the same input always makes the same draw).
pub fn record<C>(conn: &mut C, record: &DrawRecord, plans: &[Plan]) -> Result<(), DrawError>
where
    C: Transactions,
    for<'a> C::Tx<'a>: PlanStore,
{
    let tx = conn.begin()?;
    if tx.draw_by_digest(&record.result.input_digest)?.is_none() {
        tx.insert_draw(record, plans)?;
    }
    tx.commit()?;
    Ok(())
}

/// Recorded draw `id` and its plans, if `user` oversees its territory.
pub fn visible_draw<S: PlanStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    user: &User,
    id: &str,
) -> Result<(DrawRecord, Vec<Plan>), DrawError> {
    let record = store.draw(id)?.ok_or(DrawError::NotFound)?;
    let plans = store.plans_of_draw(id)?;
    if !oversees(reference, user, &record.result.unit) {
        return Err(DrawError::NotFound);
    }
    Ok((record, plans))
}

/// The draw recorded for this input (by its digest) and its plans, if there is one and `user`
/// oversees its territory (another unit's draw is not revealed, not even its existence).
pub fn recorded_for_input<S: PlanStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    user: &User,
    digest: &str,
) -> Result<Option<(DrawRecord, Vec<Plan>)>, DrawError> {
    let Some(record) = store.draw_by_digest(digest)? else {
        return Ok(None);
    };
    if !oversees(reference, user, &record.result.unit) {
        return Ok(None);
    }
    let plans = store.plans_of_draw(&record.id)?;
    Ok(Some((record, plans)))
}
