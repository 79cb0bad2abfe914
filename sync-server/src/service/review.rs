//! A supervisor's decision on a record under review: approve, or return with a comment.
//!
//! The decision is app-core's `Command::Transition`, applied by the same rules as on a tablet
//! to the stored document and stored as a change from the server (`SERVER_DEVICE`), which
//! tablets pull at their next sync. Access is checked on the stored record first; one the
//! supervisor may not read is indistinguishable from a missing one.

use crate::reference::ReferenceData;
use crate::service::access;
use crate::store::records::{self as records, SERVER_DEVICE};
use crate::store::{
    CaseFileStore, Commit, KeyHistoryStore, PlanStore, RecordStore, StoreError, Transactions,
};
use app_core::access::{can_read_record, can_review_record};
use app_core::document::DocError;
use app_core::geo::Timestamp;
use app_core::ids::{DeviceId, ItemCode};
use app_core::inspection::{Command, Context, InspectionStatus};
use app_core::user::User;
use std::collections::BTreeMap;

/// Why a decision was not stored.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// Not stored, or not readable by the reviewer (the two are not told apart).
    #[error("not found")]
    NotFound,
    /// The reviewer may not review this record, or the rules refuse the move: why, in
    /// Chinese (from `app_core::messages`) and in English.
    #[error("{en}")]
    Refused { zh: String, en: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies `to` (approved or returned, with `comment`, and with `items`: comments on
/// checklist items, if any) to stored record `id` as `reviewer` at `now`, and stores it, in
/// one transaction. Without item comments the command is a plain `Command::Transition`.
#[allow(clippy::too_many_arguments)]
pub fn review<C>(
    conn: &mut C,
    reference: &ReferenceData,
    reviewer: &User,
    id: &str,
    to: InspectionStatus,
    comment: String,
    items: BTreeMap<ItemCode, String>,
    now: Timestamp,
) -> Result<(), ReviewError>
where
    C: Transactions,
    for<'a> C::Tx<'a>: RecordStore + PlanStore + CaseFileStore + KeyHistoryStore,
{
    let tx = conn.begin()?;
    // Another node's sync or review of this record waits until this one commits (see
    // `RecordStore::lock_record`), so the update below is made on the newest copy.
    tx.lock_record(id)?;
    let scope = access::scope(&tx, reference, id)?.ok_or(ReviewError::NotFound)?;
    if !can_read_record(reviewer, &scope, &reference.units) {
        return Err(ReviewError::NotFound);
    }
    if !can_review_record(reviewer, &scope, &reference.units) {
        return Err(ReviewError::Refused {
            zh: "无权审核此记录".into(),
            en: "you may not review this record".into(),
        });
    }
    let mut stored = records::load(&tx, id)?.ok_or(ReviewError::NotFound)?;
    let template = reference
        .templates
        .get(&stored.doc.record().template)
        .ok_or_else(|| StoreError::Corrupt(format!("record {id}: unknown checklist template")))?;
    let cmd = if items.is_empty() {
        Command::Transition { to, comment }
    } else {
        Command::ReviewWithItems { to, comment, items }
    };
    let context = Context {
        actor: reviewer,
        now,
        template,
    };
    // Sealed with the server's key, so that a tablet which pulled the decision can carry it
    // back to a server restored from an older backup (`app_core::judge`, sealed changes).
    let key = crate::service::casefiles::server_key(&tx, now.0.div_euclid(1000))
        .map_err(|e| StoreError::Corrupt(format!("the server key: {e}")))?;
    let mut seal = |statement: &[u8]| crate::service::sync::seal(&key, statement);
    stored
        .doc
        .apply_sealed(&cmd, &context, &DeviceId::from(SERVER_DEVICE), &mut seal)
        .map_err(|e| ReviewError::Refused {
            zh: match &e {
                DocError::Record(r) => r.zh(),
                _ => "审核未能写入记录".into(),
            },
            en: e.to_string(),
        })?;
    records::store_update(&tx, id, &mut stored.doc, &stored.heads, SERVER_DEVICE)?;
    tx.commit()?;
    Ok(())
}
