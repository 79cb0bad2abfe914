//! Figures for a unit (with its subtree) and a period: inspections by kind, the share of
//! unannounced checks against 1/5, the share of random-draw checks against 1/3, hazards
//! open / overdue / closed. Computed by `app_core::figures` from the console index's tallies
//! (records and hazards counted per unit, day, kind and status, kept with the index: a city's
//! year is a few thousand rows, not a third of a million records), in two steps so that the
//! counting happens after the database is released: [`facts`] reads, [`compute`] counts.

use crate::reference::ReferenceData;
use crate::service::{access, reports};
use crate::store::{ConsoleIndex, StoreResult};
use app_core::figures::{Figures, Period, TalliedFacts};
use app_core::geo::Day;
use app_core::ids::UnitId;
use app_core::user::User;

/// Which figures a viewer asked for, narrowed to what they oversee.
#[derive(Debug, Clone)]
pub struct FiguresScope {
    /// The unit the figures are for (the asked one if the viewer oversees it, otherwise the
    /// viewer's own).
    pub root: String,
    /// The units counted (the root's subtree; all the viewer oversees when none was asked).
    pub units: Vec<String>,
    pub period: Period,
    /// Overdue is judged as of this day.
    pub today: Day,
}

/// The scope of `viewer`'s figures for `unit` and `from..=to` (by default the year to date).
pub fn scope(
    reference: &ReferenceData,
    viewer: &User,
    unit: Option<&str>,
    from: Option<Day>,
    to: Option<Day>,
    today: Day,
) -> FiguresScope {
    let (units, chosen) = access::searched_units(reference, viewer, unit);
    let (from, to) = reports::period_or_year_to_date(from, to, today);
    FiguresScope {
        root: chosen.unwrap_or_else(|| viewer.unit.to_string()),
        units,
        period: Period { from, to },
        today,
    }
}

/// The tallied facts the figures are counted from (two reads of the index: the tally, and
/// the hazards that may be overdue).
pub fn facts<S: ConsoleIndex + ?Sized>(
    store: &S,
    scope: &FiguresScope,
) -> StoreResult<Vec<TalliedFacts>> {
    store.figure_tallies(
        &scope.units,
        scope.period.from,
        scope.period.to,
        scope.today,
    )
}

/// The figures of `scope` from its `facts` (no database).
pub fn compute(reference: &ReferenceData, scope: &FiguresScope, facts: &[TalliedFacts]) -> Figures {
    app_core::figures::compute_tallied(
        &UnitId::new(scope.root.clone()),
        &reference.units,
        scope.period,
        facts,
    )
}
