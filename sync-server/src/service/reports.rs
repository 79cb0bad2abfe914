//! The console's reports over the index: the list of random-draw visits to publish. (The
//! figures page reads `ConsoleIndex::record_facts` and runs `app_core::figures::compute` after
//! releasing the database, so a county's year of records is never counted under the lock.)

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
