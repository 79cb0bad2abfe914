//! The console's index of records and hazards (`store::ConsoleIndex`) for records stored
//! before it existed, or before a migration emptied it: indexed once, from the stored
//! documents.

use crate::store::records::SERVER_DEVICE;
use crate::store::{Commit, ConsoleIndex, RecordStore, StoreResult, Transactions};
use app_core::document::InspectionDoc;
use app_core::ids::DeviceId;

/// Indexes every stored record that has no index row, in one transaction, if the store says a
/// backfill is pending; says how many were indexed. Cheap when there is nothing to do (one
/// lookup). A stored document that does not read as a record is logged and skipped, never
/// deleted.
pub fn backfill<C>(conn: &mut C) -> StoreResult<usize>
where
    C: Transactions + ConsoleIndex,
    for<'a> C::Tx<'a>: RecordStore + ConsoleIndex,
{
    if !conn.backfill_pending()? {
        return Ok(0);
    }
    let tx = conn.begin()?;
    let device = DeviceId::from(SERVER_DEVICE);
    let mut done = 0;
    for id in tx.unindexed_records()? {
        let snapshot = match tx.snapshot(&id) {
            Ok(s) => s.map(|(bytes, _)| bytes).unwrap_or_default(),
            Err(e) => {
                tracing::error!(doc = %id, error = %e, "cannot read stored record");
                continue;
            }
        };
        match InspectionDoc::load(&snapshot, &device) {
            Ok(doc) => {
                tx.index_record(doc.record(), true)?;
                done += 1;
            }
            Err(e) => tracing::error!(doc = %id, error = %e, "cannot index stored record"),
        }
    }
    tx.backfill_done()?;
    tx.commit()?;
    if done > 0 {
        tracing::info!(records = done, "console index backfilled");
    }
    Ok(done)
}
