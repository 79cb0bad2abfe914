//! The tablet's sync of penalty cases (`POST /api/v1/cases/sync`,
//! `app_core::wire::CaseSyncRequest` → `CaseSyncResponse`), run by every
//! [`SyncClient::sync`] after the records: the case changes the server lacks are pushed and
//! the changes of the cases this user is sent are pulled after the case cursor, in round trips
//! of at most [`PUSH_BATCH`] cases, the store locked only between them. Its own message, so
//! the records' messages are unchanged.
//!
//! Nothing is lost on a cut connection: a case is marked pushed only once the server
//! answered that it holds it (what was not acknowledged is pushed again by the next sync, and
//! a replay stores nothing on the server); a pulled page and the cursor after it are one
//! transaction. A case the server refuses stays pending, is reported with the server's code
//! (in [`SyncReport::rejected`], beside the records') and is not pushed again in the same
//! sync. A server without the endpoint (404: older than cases) is not an error: the cases
//! wait on the tablet.

use crate::store::Store;
use crate::sync::{Round, SyncClient, SyncError, accepted_of, lock, unrefused};
use app_core::geo::Timestamp;
use app_core::wire::{
    CASE_SYNC_PATH, CaseSyncRequest, CaseSyncResponse, DocChanges, PROTOCOL_VERSION, Rejection,
};
use std::collections::HashSet;
use std::sync::Mutex;

/// How many cases one request pushes at most.
pub const PUSH_BATCH: u32 = 50;

/// What one case sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseSyncReport {
    pub pushed: u32,
    pub accepted: u32,
    /// Cases the server refused (they stay pending), with its code and message.
    pub rejected: Vec<Rejection>,
    pub pulled: u32,
    pub round_trips: u32,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// The server has no case endpoint (404): nothing was synced.
    pub unsupported: bool,
}

impl SyncClient {
    /// One full case sync for the signed-in user: round trips until nothing is left to push
    /// and the server has nothing more to send (see the module's documentation).
    pub fn sync_cases(
        &self,
        store: &Mutex<Store>,
        now: Timestamp,
    ) -> Result<CaseSyncReport, SyncError> {
        let user = self.user_id()?;
        let mut report = CaseSyncReport::default();
        let mut refused: HashSet<String> = HashSet::new();
        loop {
            let (pushes, cursor) = {
                let s = lock(store);
                let pushes = s.pending_case_pushes(PUSH_BATCH + refused.len() as u32)?;
                let pushes = unrefused(pushes, &refused, PUSH_BATCH, |p| p.id.as_str());
                (pushes, s.case_cursor(&user)?)
            };
            let request = CaseSyncRequest {
                version: PROTOCOL_VERSION,
                cursor,
                cases: pushes
                    .iter()
                    .map(|p| DocChanges {
                        id: p.id.to_string(),
                        bytes: p.bytes.clone(),
                        receipt: None,
                    })
                    .collect(),
            };
            let Some(response) = self.post_cases(&request, &mut report)? else {
                report.unsupported = true;
                return Ok(report);
            };
            report.round_trips += 1;
            report.pushed += pushes.len() as u32;
            {
                let mut s = lock(store);
                s.mark_cases_pushed(&accepted_of(&pushes, &response.accepted))?;
                s.apply_case_pull(&response.cases, &user, response.cursor, now)?;
            }
            report.accepted += response.accepted.len() as u32;
            report.pulled += response.cases.len() as u32;
            let round = Round {
                pushed: pushes.len(),
                batch: PUSH_BATCH,
                accepted: response.accepted.len(),
                more: response.more,
            };
            if round.last(response.rejected, &mut refused, &mut report.rejected) {
                return Ok(report);
            }
        }
    }

    /// One case round trip (its bytes counted in `report`); `None` when the server has no
    /// case endpoint.
    fn post_cases(
        &self,
        request: &CaseSyncRequest,
        report: &mut CaseSyncReport,
    ) -> Result<Option<CaseSyncResponse>, SyncError> {
        let mut body = Vec::new();
        ciborium::into_writer(request, &mut body).expect("writing to a Vec cannot fail");
        report.bytes_sent += body.len() as u64;
        let resp = self.post_cbor(CASE_SYNC_PATH, body)?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let bytes = crate::sync::check(resp)?.bytes()?;
        report.bytes_received += bytes.len() as u64;
        ciborium::from_reader(&bytes[..])
            .map(Some)
            .map_err(|e| SyncError::Protocol(e.to_string()))
    }
}
