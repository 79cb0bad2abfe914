//! The console's reports over the index: the list of random-draw visits to publish, and the
//! default period of a report. (The figures are `service::figures`.)

use crate::store::console_query::{RecordFilter, RecordRow};
use crate::store::{ConsoleIndex, StoreResult};
use app_core::geo::Day;
use app_core::inspection::InspectionStatus;

/// The random-draw visits of `units` in `from..=to` to publish: visits that took place
/// (completed or later), as the figures count them, and none whose merged state breaks a
/// rule until it is resolved.
pub fn published<S: ConsoleIndex + ?Sized>(
    store: &S,
    units: Vec<String>,
    from: Day,
    to: Day,
) -> StoreResult<Vec<RecordRow>> {
    let f = RecordFilter {
        units,
        from: Some(from),
        to: Some(to),
        kind: Some("random_draw".into()),
        ..RecordFilter::default()
    };
    let rows = store.list_records(&f, None, 1_000_000)?.0;
    Ok(rows
        .into_iter()
        .filter(|r| InspectionStatus::parse(&r.status).is_some_and(|s| s.visit_done()))
        .filter(|r| r.violations == 0)
        .collect())
}

/// A report's period: `from` and `to` as given, by default from the first of January of
/// `today`'s year to `today`.
pub fn period_or_year_to_date(from: Option<Day>, to: Option<Day>, today: Day) -> (Day, Day) {
    let year_start = Day::parse(&format!("{:04}-01-01", today.year())).unwrap_or(today);
    (from.unwrap_or(year_start), to.unwrap_or(today))
}
