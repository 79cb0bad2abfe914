//! Figures for a unit (with its subtree) and a period: inspections by kind, the share of
//! unannounced checks against 1/5, the share of random-draw checks against 1/3, hazards
//! open / overdue / closed. Computed by `app_core::figures` from the console index's tallies
//! (records and hazards counted per unit, day, kind and status, kept with the index: a city's
//! year is a few thousand rows, not a third of a million records), in two steps so that the
//! counting happens after the database is released: [`facts`] reads, [`compute`] counts.
//! Penalty cases are counted by [`case_figures`].

use crate::reference::ReferenceData;
use crate::service::{access, reports};
use crate::store::{CaseStore, ConsoleIndex, PenaltyRulesStore, StoreResult};
use app_core::figures::{Figures, Period, TalliedFacts};
use app_core::geo::Day;
use app_core::ids::UnitId;
use app_core::penalty::{CaseFigures, PenaltyCase};
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

/// Penalty cases counted for the figures at most (each is opened to judge its deadlines).
pub const MAX_FIGURE_CASES: usize = 20_000;

/// The penalty-case figures of `scope` (issue 19): of the cases of its units whose filing was
/// approved in its period, how many are closed, have an overdue deadline, have one due soon,
/// and had their decision published late (or not yet, past the deadline), each case judged
/// by `app_core::penalty::figures` with its own unit's rules (`service::case_rules`).
pub fn case_figures<S: CaseStore + PenaltyRulesStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    scope: &FiguresScope,
) -> StoreResult<CaseFigures> {
    let device = app_core::ids::DeviceId::from(crate::store::records::SERVER_DEVICE);
    let mut by_unit: std::collections::BTreeMap<UnitId, Vec<PenaltyCase>> = Default::default();
    for row in store.cases_of_units(&scope.units, MAX_FIGURE_CASES)? {
        let Some((doc, _)) = crate::store::cases::load_case(store, &row.id, &device)? else {
            continue;
        };
        let case = doc.into_case();
        if case
            .opened_on()
            .is_some_and(|d| scope.period.from <= d && d <= scope.period.to)
        {
            by_unit.entry(case.unit.clone()).or_default().push(case);
        }
    }
    let mut total = CaseFigures::default();
    for (unit, cases) in by_unit {
        let rules = super::case_rules::rules_for(store, &reference.units, &unit)?;
        let f = app_core::penalty::figures(&cases, &rules.settings, &rules.calendar, scope.today);
        total.opened += f.opened;
        total.closed += f.closed;
        total.overdue += f.overdue;
        total.due_soon += f.due_soon;
        total.published_late += f.published_late;
    }
    Ok(total)
}
