//! The tablet's sync client: signs in once online, registers the device's Ed25519 key,
//! fetches reference data, and syncs records (push what the server lacks, pull what changed)
//! in one round trip per batch. The store lock is never held during network I/O, so
//! capture goes on while a sync runs.
//!
//! Photo originals travel before the records that name them ([`upload_then_sync`]): the
//! server accepts a record naming a photo only from the device that uploaded it (or from a
//! user who may already read a record naming it). A record the server refuses (for that or
//! any other reason) is not marked pushed: it stays pending, is not offered again in the same
//! sync (so it cannot hold back the records after it), and is pushed again by the next one.

use crate::blobs::BlobStore;
use crate::store::{Store, StoreError};
use crate::tls::Server;
use crate::upload::{BlobClient, UploadProgress, UploadReport};
use app_core::geo::Timestamp;
use app_core::ids::{DeviceId, InspectionId, UserId};
use app_core::messages::ConnectionRefusal;
use app_core::messages::DeviceRevoked;
use app_core::user::User;
use app_core::wire::http::{
    ErrorBody, LoginRequest, LoginResponse, ReferenceBundle, RegisterDevice, registration_message,
};
use app_core::wire::{DocChanges, PROTOCOL_VERSION, SyncRequest, SyncResponse};
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("network: {0}")]
    Network(reqwest::Error),
    /// The tablet would not talk to the server (plain `http://` off this device, or a
    /// certificate it does not trust): nothing was sent.
    #[error(transparent)]
    Refused(#[from] ConnectionRefusal),
    #[error("server answered {status}: {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    #[error("not signed in")]
    NotSignedIn,
    #[error("bad answer from the server: {0}")]
    Protocol(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A certificate refused during the handshake becomes [`SyncError::Refused`].
impl From<reqwest::Error> for SyncError {
    fn from(e: reqwest::Error) -> Self {
        match crate::tls::refusal_of(&e) {
            Some(r) => SyncError::Refused(r),
            None => SyncError::Network(e),
        }
    }
}

impl SyncError {
    /// Worth retrying later (network down, server restarting), as opposed to a refusal.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Network(_) => true,
            SyncError::Server { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// What one sync did, what the background sync publishes and what the sync indicator reads:
/// the contract's own types (`tablet-api`), used here as they are.
pub use tablet_api::{SyncReport, SyncState, SyncStatus};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub user: User,
}

/// How many records one request pushes at most.
const PUSH_BATCH: u32 = 200;

#[derive(Debug, Clone)]
pub struct SyncClient {
    base: String,
    server: Server,
    /// The HTTPS client, or why the tablet will not talk to this server.
    http: Result<reqwest::blocking::Client, ConnectionRefusal>,
    session: Option<Session>,
}

pub(crate) fn check(
    resp: reqwest::blocking::Response,
) -> Result<reqwest::blocking::Response, SyncError> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status().as_u16();
    let (code, message) = match resp.json::<ErrorBody>() {
        Ok(b) => (b.error.code, b.error.message),
        Err(_) => ("unknown".into(), format!("HTTP {status}")),
    };
    Err(SyncError::Server {
        status,
        code,
        message,
    })
}

/// The device's signing key, created at first use and kept in the store.
pub fn device_key(store: &Store) -> Result<SigningKey, StoreError> {
    if let Some(hex) = store.meta("device_signing_key")? {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .collect();
        let secret: [u8; 32] = bytes
            .try_into()
            .map_err(|_| StoreError::Corrupt("device signing key".into()))?;
        return Ok(SigningKey::from_bytes(&secret));
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| StoreError::Corrupt(format!("no randomness: {e}")))?;
    store.set_meta("device_signing_key", &app_core::evidence::hex(&secret))?;
    Ok(SigningKey::from_bytes(&secret))
}

impl SyncClient {
    /// A client of `server` (an address alone is trusted through the public roots; see
    /// [`crate::tls`]). An address the tablet refuses makes every request fail with
    /// [`SyncError::Refused`].
    pub fn new(server: impl Into<Server>) -> Self {
        let server: Server = server.into();
        Self {
            base: server.url.clone(),
            http: crate::tls::client(
                &server,
                Duration::from_secs(5),
                Some(Duration::from_secs(60)),
            ),
            server,
            session: None,
        }
    }

    fn http(&self) -> Result<&reqwest::blocking::Client, SyncError> {
        self.http
            .as_ref()
            .map_err(|e| SyncError::Refused(e.clone()))
    }

    /// The server and whom the tablet trusts for it.
    pub fn server(&self) -> &Server {
        &self.server
    }

    pub fn with_session(mut self, session: Session) -> Self {
        self.session = Some(session);
        self
    }

    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The signed-in user's id.
    pub(crate) fn user_id(&self) -> Result<UserId, SyncError> {
        self.session
            .as_ref()
            .map(|s| s.user.id.clone())
            .ok_or(SyncError::NotSignedIn)
    }

    fn token(&self) -> Result<&str, SyncError> {
        self.session
            .as_ref()
            .map(|s| s.token.as_str())
            .ok_or(SyncError::NotSignedIn)
    }

    /// Signs in and registers this device's key under the user.
    pub fn sign_in(
        &mut self,
        user: &str,
        password: &str,
        store: &Store,
    ) -> Result<&Session, SyncError> {
        let resp = self
            .http()?
            .post(format!("{}/api/v1/login", self.base))
            .json(&LoginRequest {
                user: user.to_owned(),
                password: password.to_owned(),
            })
            .send()?;
        let body: serde_json::Value = check(resp)?.json()?;
        let LoginResponse { token, user, .. } =
            serde_json::from_value(body).map_err(|e| SyncError::Protocol(e.to_string()))?;
        let key = device_key(store)?;
        let device = store.device().as_str();
        let signature = key.sign(registration_message(device, user.id.as_str()).as_bytes());
        check(
            self.http()?
                .post(format!("{}/api/v1/devices", self.base))
                .bearer_auth(&token)
                .json(&RegisterDevice {
                    device_id: device.to_owned(),
                    public_key: app_core::evidence::hex(key.verifying_key().as_bytes()),
                    signature: app_core::evidence::hex(&signature.to_bytes()),
                })
                .send()?,
        )?;
        self.session = Some(Session { token, user });
        Ok(self.session.as_ref().expect("just set"))
    }

    /// Stores the reference data this user may see, for offline work. Sends the `ETag` of
    /// the bundle it stored last: when nothing changed the server answers 304 and nothing is
    /// downloaded or rewritten.
    pub fn fetch_reference(&self, store: &Mutex<Store>) -> Result<(), SyncError> {
        let held = lock(store).meta(REFERENCE_ETAG)?;
        let mut request = self
            .http()?
            .get(format!("{}/api/v1/reference", self.base))
            .bearer_auth(self.token()?);
        if let Some(tag) = &held {
            request = request.header(reqwest::header::IF_NONE_MATCH, tag);
        }
        let resp = request.send()?;
        if resp.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(());
        }
        let resp = check(resp)?;
        let tag = resp
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bundle: ReferenceBundle = resp.json()?;
        let mut store = lock(store);
        store.replace_reference_bundle(&bundle)?;
        store.set_meta(REFERENCE_ETAG, tag.as_deref().unwrap_or(""))?;
        Ok(())
    }

    /// A CBOR body posted to `path` with the session's token (the answer unchecked).
    pub(crate) fn post_cbor(
        &self,
        path: &str,
        body: Vec<u8>,
    ) -> Result<reqwest::blocking::Response, SyncError> {
        Ok(self
            .http()?
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.token()?)
            .header(reqwest::header::CONTENT_TYPE, "application/cbor")
            .body(body)
            .send()?)
    }

    /// One full sync: the records, then the penalty cases ([`SyncClient::sync_cases`]). The
    /// report's documents are the records'; its round trips and bytes count both; a case the
    /// server refuses is in [`SyncReport::rejected`] beside the refused records.
    ///
    /// The case round trip is skipped when the records' last answer said no case changes wait
    /// for this device and it has none to push: a sync where nothing changed stays one round
    /// trip.
    pub fn sync(&self, store: &Mutex<Store>, now: Timestamp) -> Result<SyncReport, SyncError> {
        let (mut report, cases_wait) = self.sync_records(store, now)?;
        report.round_trips += self.fetch_incomplete(store, now)?;
        if cases_wait != Some(false) || lock(store).pending_cases()? > 0 {
            let cases = self.sync_cases(store, now)?;
            report.round_trips += cases.round_trips;
            report.bytes_sent += cases.bytes_sent;
            report.bytes_received += cases.bytes_received;
            report.rejected.extend(cases.rejected);
        }
        Ok(report)
    }

    /// The records' sync: round trips until nothing is left to push and the server has
    /// nothing more to send. The store is locked only between round trips. Records the server
    /// refuses stay pending (see [`SyncReport::rejected`]) and are not offered again until
    /// the next sync. Also answers whether case changes wait for this device (the server's
    /// word in the last answer; `None` when it did not say).
    fn sync_records(
        &self,
        store: &Mutex<Store>,
        now: Timestamp,
    ) -> Result<(SyncReport, Option<bool>), SyncError> {
        let user = self.user_id()?;
        let mut report = SyncReport::default();
        // Records refused in this sync: they stay pending, but are not pushed again before the
        // next sync (a refused batch must not hide the records after it).
        let mut refused: HashSet<String> = HashSet::new();
        loop {
            let (pushes, cursor, epoch, case_cursor) = {
                let mut s = lock(store);
                let pushes = s.pending_pushes(PUSH_BATCH + refused.len() as u32)?;
                let pushes = unrefused(pushes, &refused, PUSH_BATCH, |p| p.id.as_str());
                let epoch = s.server_epoch()?;
                (pushes, s.sync_cursor(&user)?, epoch, s.case_cursor(&user)?)
            };
            let request = SyncRequest {
                version: PROTOCOL_VERSION,
                cursor,
                epoch: Some(epoch.clone().unwrap_or_default()),
                case_cursor: Some(case_cursor),
                push: pushes
                    .iter()
                    .map(|p| DocChanges {
                        id: p.id.to_string(),
                        bytes: p.bytes.clone(),
                        receipt: p.receipt.clone(),
                    })
                    .collect(),
            };
            let mut body = Vec::new();
            ciborium::into_writer(&request, &mut body).expect("writing to a Vec cannot fail");
            report.bytes_sent += body.len() as u64;
            report.pushed += pushes.len() as u32;
            let resp = self
                .http()?
                .post(format!("{}/api/v1/sync", self.base))
                .bearer_auth(self.token()?)
                .header(reqwest::header::CONTENT_TYPE, "application/cbor")
                .body(body)
                .send()?;
            let bytes = check(resp)?.bytes()?;
            report.bytes_received += bytes.len() as u64;
            report.round_trips += 1;
            let response: SyncResponse = ciborium::from_reader(&bytes[..])
                .map_err(|e| SyncError::Protocol(e.to_string()))?;
            // Another epoch than the one this tablet last synced with: the server was restored
            // from a backup and may lack what it once acknowledged. Nothing of this answer's
            // marks is trusted: every record is pushed again whole, every photo offered
            // again, the pull starts over, and the number blocks are announced again.
            if let Some(now_epoch) = &response.epoch
                && epoch.as_deref() != Some(now_epoch.as_str())
            {
                let mut s = lock(store);
                if epoch.is_some() {
                    s.forget_server_state()?;
                    s.forget_case_server_state()?;
                    s.set_sync_cursor(&user, 0)?;
                    s.set_server_epoch(now_epoch)?;
                    refused.clear();
                    continue;
                }
                s.set_server_epoch(now_epoch)?;
            }
            {
                let mut s = lock(store);
                s.mark_all_pushed(&accepted_of(&pushes, &response.accepted))?;
                s.apply_pull(&response.pull, &user, response.cursor, now)?;
                // No case change waits up to the state this whole answer was read from (the
                // cursor is the latest change when nothing more is to come): the case cursor
                // moves there, so the server's next look starts there, not at the tablet's
                // last case sync.
                if response.cases == Some(false) && !response.more {
                    s.advance_case_cursor(&user, response.cursor)?;
                }
            }
            report.accepted += response.accepted.len() as u32;
            report.pulled += response.pull.len() as u32;
            if response.revoked {
                report.revoked = Some(DeviceRevoked::Uploading);
            }
            let round = Round {
                pushed: pushes.len(),
                batch: PUSH_BATCH,
                accepted: response.accepted.len(),
                more: response.more,
            };
            if round.last(response.rejected, &mut refused, &mut report.rejected) {
                return Ok((report, response.cases));
            }
        }
    }
}

/// At most `batch` of `pending`, leaving out those refused earlier in this sync (they stay
/// pending, but must not hide the ones after them).
pub(crate) fn unrefused<T>(
    mut pending: Vec<T>,
    refused: &HashSet<String>,
    batch: u32,
    id: impl Fn(&T) -> &str,
) -> Vec<T> {
    pending.retain(|p| !refused.contains(id(p)));
    pending.truncate(batch as usize);
    pending
}

/// The pushes the server accepted, by their positions in the request.
pub(crate) fn accepted_of<'a, T>(pushes: &'a [T], accepted: &[u32]) -> Vec<&'a T> {
    accepted
        .iter()
        .filter_map(|&i| pushes.get(i as usize))
        .collect()
}

/// What one round trip of a sync (records' or cases') pushed and was answered.
pub(crate) struct Round {
    pub pushed: usize,
    pub batch: u32,
    pub accepted: usize,
    /// The server has more to pull.
    pub more: bool,
}

impl Round {
    /// Keeps the round's refusals (in `rejected`, and in `refused`: not offered again in this
    /// sync) and says whether it was the last round: the server has nothing more and no full
    /// batch was settled (every round must settle something, or pushing again would send the
    /// same batch).
    pub(crate) fn last(
        &self,
        refusals: Vec<app_core::wire::Rejection>,
        refused: &mut HashSet<String>,
        rejected: &mut Vec<app_core::wire::Rejection>,
    ) -> bool {
        let settled = self.accepted > 0 || !refusals.is_empty();
        refused.extend(refusals.iter().map(|r| r.id.clone()));
        rejected.extend(refusals);
        let more_to_push = self.pushed as u32 == self.batch && settled;
        !self.more && !more_to_push
    }
}

impl SyncClient {
    /// Fetches whole the records the server sent only in part (the user came to have a part
    /// in them after this tablet's cursor passed their first changes; see
    /// `Store::store_pulled`); a record the user may no longer read is given up. Answers the
    /// round trips made. One left over (a cut connection, or not stored) is fetched at the
    /// next sync.
    fn fetch_incomplete(&self, store: &Mutex<Store>, now: Timestamp) -> Result<u32, SyncError> {
        let ids = lock(store).incomplete_records()?;
        for id in &ids {
            let query = app_core::wire::FetchQuery::Record(id.to_string());
            let settled = match self.fetch(store, query, now) {
                Ok(stored) => stored.contains(id),
                Err(SyncError::Server { status: 403, .. }) => true,
                Err(e) => return Err(e),
            };
            if settled {
                lock(store).drop_incomplete(id)?;
            }
        }
        Ok(ids.len() as u32)
    }

    /// Fetches on demand records the user may read but that are not pulled to this tablet by
    /// default (another inspector's record of the unit, or the records of an enterprise), and
    /// stores them as if pulled (with their receipts): from then on they sync like the
    /// tablet's own, their later changes arriving at the next syncs (the server follows them
    /// for the user). Answers the ids stored. A record the user may not read (another unit's)
    /// is refused by the server: [`SyncError::Server`] with status 403 and code `forbidden`.
    pub fn fetch(
        &self,
        store: &Mutex<Store>,
        query: app_core::wire::FetchQuery,
        now: Timestamp,
    ) -> Result<Vec<InspectionId>, SyncError> {
        let request = app_core::wire::FetchRequest {
            version: PROTOCOL_VERSION,
            query,
        };
        let mut body = Vec::new();
        ciborium::into_writer(&request, &mut body).expect("writing to a Vec cannot fail");
        let resp = self
            .http()?
            .post(format!("{}{}", self.base, app_core::wire::FETCH_PATH))
            .bearer_auth(self.token()?)
            .header(reqwest::header::CONTENT_TYPE, "application/cbor")
            .body(body)
            .send()?;
        let bytes = check(resp)?.bytes()?;
        let response: app_core::wire::FetchResponse =
            ciborium::from_reader(&bytes[..]).map_err(|e| SyncError::Protocol(e.to_string()))?;
        let mut s = lock(store);
        Ok(s.store_pulled(&response.docs, now)?)
    }
}

/// One sync cycle: first the photo originals the server lacks (if `blobs` is given; resuming
/// interrupted uploads, `progress` after every chunk), then the records. The records are
/// synced even if the photo upload run failed: a record naming a photo the server refuses
/// to accept yet stays pending and goes with a later cycle. A failed upload run is still
/// reported as this cycle's error (after the records were synced), so it is retried with
/// back-off. `clock` is read when the records are synced.
pub fn upload_then_sync(
    client: &SyncClient,
    store: &Mutex<Store>,
    blobs: Option<&BlobStore>,
    clock: impl Fn() -> Timestamp,
    progress: impl FnMut(UploadProgress),
) -> Result<(SyncReport, Option<UploadReport>), SyncError> {
    let epoch_before = lock(store).server_epoch()?;
    let mut progress = progress;
    let mut uploads = match blobs {
        Some(blobs) => {
            let token = client.token()?.to_owned();
            Some(BlobClient::new(client.server(), token).upload_pending(
                store,
                blobs,
                &mut progress,
            ))
        }
        None => None,
    };
    let mut report = client.sync(store, clock())?;
    // The server turned out to be restored (see [`SyncClient::sync`]): its photos are offered
    // again and the records it refused for want of them pushed once more, in this cycle.
    let epoch_after = lock(store).server_epoch()?;
    if epoch_before.is_some() && epoch_after != epoch_before {
        if let Some(blobs) = blobs {
            let token = client.token()?.to_owned();
            uploads = Some(BlobClient::new(client.server(), token).upload_pending(
                store,
                blobs,
                &mut progress,
            ));
        }
        let again = client.sync(store, clock())?;
        report.pushed += again.pushed;
        report.accepted += again.accepted;
        report.pulled += again.pulled;
        report.bytes_sent += again.bytes_sent;
        report.bytes_received += again.bytes_received;
        report.round_trips += again.round_trips;
        report.rejected = again.rejected;
    }
    if report.revoked.is_some()
        && let Some(blobs) = blobs
    {
        report.revoked = Some(settle_revocation(store, blobs, clock())?);
    }
    let uploads = uploads
        .transpose()
        .map_err(|e| SyncError::Protocol(format!("photo upload: {e}")))?;
    Ok((report, uploads))
}

/// A revoked tablet (the server's sync answer said `revoked`) after a sync: while it still
/// holds something the server lacks — a record not acknowledged (pending, or refused by the
/// server: evidence is never thrown away), a photo original not uploaded — it keeps
/// everything and goes on uploading (`Uploading`). Once it holds nothing more, it wipes its
/// local copy: every row of the store including the session and the device key, and every
/// photo blob (`Wiped`).
pub fn settle_revocation(
    store: &Mutex<Store>,
    blobs: &BlobStore,
    now: Timestamp,
) -> Result<DeviceRevoked, SyncError> {
    let mut s = lock(store);
    let records = s.pending()?.records;
    let photos = s.pending_uploads()?.len();
    if records > 0 || photos > 0 || s.pending_cases()? > 0 {
        return Ok(DeviceRevoked::Uploading);
    }
    s.wipe_revoked(now)?;
    blobs
        .wipe()
        .map_err(|e| SyncError::Protocol(format!("wiping the photos: {e}")))?;
    Ok(DeviceRevoked::Wiped)
}

/// The store, even after a thread panicked holding it (its writes are transactions).
pub(crate) fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// The store's setting holding the `ETag` of the reference data stored last.
const REFERENCE_ETAG: &str = "reference_etag";

/// The background sync refreshes the reference data every this many successful rounds (every
/// five minutes at the default 30 s interval).
pub const REFERENCE_EVERY: u32 = 10;

/// Background syncing: tries every `interval`, backs off exponentially (up to `max_backoff`)
/// while the network or server is down, and publishes its status for the UI.
#[derive(Debug)]
pub struct BackgroundSync {
    pub status: Arc<Mutex<SyncStatus>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundSync {
    /// Starts the loop: upload (if `blobs` is given) the photo originals the server lacks,
    /// resuming interrupted uploads, then sync the records (see [`upload_then_sync`]).
    /// Failures back off exponentially.
    pub fn start(
        client: SyncClient,
        store: Arc<Mutex<Store>>,
        blobs: Option<BlobStore>,
        interval: Duration,
        max_backoff: Duration,
        clock: impl Fn() -> Timestamp + Send + 'static,
    ) -> Self {
        let status = Arc::new(Mutex::new(SyncStatus::default()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (status2, stop2) = (status.clone(), stop.clone());
        let lock = |m: &Mutex<SyncStatus>| -> SyncStatus {
            m.lock().unwrap_or_else(|p| p.into_inner()).clone()
        };
        let handle = std::thread::spawn(move || {
            let mut backoff = interval;
            let mut rounds: u32 = 0;
            while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
                status2.lock().unwrap_or_else(|p| p.into_inner()).state = SyncState::Syncing;
                let result = upload_then_sync(&client, &store, blobs.as_ref(), &clock, |p| {
                    let mut st = status2.lock().unwrap_or_else(|e| e.into_inner());
                    st.photos_pending = p.photos_pending;
                    st.upload = Some(p);
                });
                // The reference data (checklist versions a supervisor uploaded, new plans,
                // enterprises) every REFERENCE_EVERY successful rounds; a failure here leaves
                // the last copy in place and the sync's result stands.
                if result.as_ref().is_ok_and(|(r, _)| r.revoked.is_none()) {
                    rounds += 1;
                    if rounds.is_multiple_of(REFERENCE_EVERY)
                        && let Err(e) = client.fetch_reference(&store)
                    {
                        eprintln!("inspection-tablet: warning: reference data refresh failed: {e}");
                    }
                }
                let (pending, photos_pending) = {
                    let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
                    (
                        s.pending().unwrap_or_default(),
                        s.pending_uploads()
                            .map(|v| v.len() as u32)
                            .unwrap_or_default(),
                    )
                };
                let previous = lock(&status2);
                let mut wiped = false;
                let wait = match result {
                    Ok((report, uploads)) => {
                        let photos_failed = uploads.as_ref().is_some_and(|u| !u.failed.is_empty());
                        backoff = interval;
                        let revoked = report.revoked;
                        wiped = revoked == Some(DeviceRevoked::Wiped);
                        *status2.lock().unwrap_or_else(|p| p.into_inner()) = SyncStatus {
                            state: SyncState::Done(report),
                            pending,
                            photos_pending,
                            upload: None,
                            last_upload: uploads.or(previous.last_upload),
                            revoked,
                        };
                        if photos_failed {
                            max_backoff.min(interval * 4)
                        } else {
                            interval
                        }
                    }
                    Err(e) => {
                        backoff = (backoff * 2).min(max_backoff);
                        *status2.lock().unwrap_or_else(|p| p.into_inner()) = SyncStatus {
                            state: SyncState::Waiting {
                                error: e.to_string(),
                                retry_in_secs: backoff.as_secs(),
                            },
                            pending,
                            photos_pending,
                            upload: None,
                            last_upload: previous.last_upload,
                            revoked: previous.revoked,
                        };
                        backoff
                    }
                };
                if wiped {
                    // Nothing left to sync, and no session to sync with.
                    break;
                }
                let until = std::time::Instant::now() + wait;
                while std::time::Instant::now() < until
                    && !stop2.load(std::sync::atomic::Ordering::Relaxed)
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        });
        Self {
            status,
            stop,
            handle: Some(handle),
        }
    }

    pub fn status(&self) -> SyncStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for BackgroundSync {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The device id the server knows this tablet by.
pub fn device_of(store: &Store) -> DeviceId {
    store.device().clone()
}

#[cfg(test)]
mod tests {
    //! The cycle's order and the fate of refused records, against a scripted HTTP server on
    //! loopback that logs every request.
    use super::*;
    use app_core::checklist::ChecklistTemplate;
    use app_core::enterprise::Enterprise;
    use app_core::evidence::{PhotoRef, Sha256Hex};
    use app_core::inspection::{Command, Context, Inspection};
    use app_core::kind::InspectionKind;
    use app_core::wire::Rejection;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};

    use crate::test_fixtures::{T0, fixture, routine_record, user};

    /// What the scripted server does.
    #[derive(Default)]
    struct Script {
        /// Refuse every pushed record (as the server does for a photo it lacks).
        reject: AtomicBool,
        /// Refuse the pushed records with these ids.
        reject_ids: Mutex<HashSet<String>>,
        /// Refuse every chunk of a photo with 403.
        refuse_photos: AtomicBool,
        /// "METHOD path" of every request, in order.
        log: Mutex<Vec<String>>,
    }

    struct FakeServer {
        url: String,
        script: Arc<Script>,
    }

    impl FakeServer {
        fn start() -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let script = Arc::new(Script::default());
            let s = script.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    let Ok(conn) = conn else { break };
                    let s = s.clone();
                    std::thread::spawn(move || serve(conn, &s));
                }
            });
            Self { url, script }
        }

        fn log(&self) -> Vec<String> {
            self.script.log.lock().unwrap().clone()
        }

        fn clear(&self) {
            self.script.log.lock().unwrap().clear();
        }
    }

    /// Answers one request and closes the connection.
    fn serve(conn: TcpStream, script: &Script) {
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_owned(),
            parts.next().unwrap_or("").to_owned(),
        );
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let name = match path {
            app_core::wire::CASE_SYNC_PATH => "cases/sync",
            p => p.rsplit('/').next().unwrap_or(""),
        };
        script.log.lock().unwrap().push(format!("{method} {name}"));
        let json = |status: u16, v: serde_json::Value| {
            (status, "application/json", serde_json::to_vec(&v).unwrap())
        };
        let (status, kind, answer) = match (method.as_str(), path) {
            ("GET", p) if p.ends_with("/status") => {
                json(200, serde_json::json!({ "held": false, "received": 0 }))
            }
            ("PUT", _) if script.refuse_photos.load(Ordering::SeqCst) => json(
                403,
                serde_json::json!({ "error": { "code": "forbidden", "message": "no" } }),
            ),
            ("PUT", _) => {
                let num = |name: &str| -> u64 {
                    query
                        .split('&')
                        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                        .unwrap()
                        .parse()
                        .unwrap()
                };
                let received = num("offset") + body.len() as u64;
                let held = received == num("total");
                json(
                    if held { 201 } else { 200 },
                    serde_json::json!({ "held": held, "received": received }),
                )
            }
            ("POST", "/api/v1/sync") => {
                let request: SyncRequest = ciborium::from_reader(&body[..]).unwrap();
                let mut response = SyncResponse {
                    revoked: false,
                    epoch: None,
                    cases: None,
                    cursor: request.cursor,
                    accepted: Vec::new(),
                    rejected: Vec::new(),
                    pull: Vec::new(),
                    more: false,
                };
                for (i, p) in request.push.iter().enumerate() {
                    if script.reject.load(Ordering::SeqCst)
                        || script.reject_ids.lock().unwrap().contains(&p.id)
                    {
                        response.rejected.push(Rejection {
                            id: p.id.clone(),
                            code: "photo_not_uploaded".into(),
                            message: "upload the photo first".into(),
                        });
                    } else {
                        response.accepted.push(i as u32);
                    }
                }
                let mut out = Vec::new();
                ciborium::into_writer(&response, &mut out).unwrap();
                (200, "application/cbor", out)
            }
            _ => json(404, serde_json::json!({})),
        };
        let mut conn = conn;
        let _ = write!(
            conn,
            "HTTP/1.1 {status} X\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            answer.len()
        );
        let _ = conn.write_all(&answer);
    }

    /// A tablet with record `r1` (by 王强 with 李娜) whose first item has a photo that is in
    /// the tablet's blob folder.
    fn tablet(dir: &tempfile::TempDir) -> (Mutex<Store>, BlobStore, Sha256Hex) {
        let mut store = Store::open_in_memory().unwrap();
        let (id, t, w) = routine_record(&mut store);
        let cx = Context {
            actor: &w,
            now: Timestamp(T0),
            template: &t,
        };
        let blobs = BlobStore::open(dir.path().join("blobs")).unwrap();
        let sha = blobs.put(b"the original photo").unwrap().sha256;
        let item = t.items().next().unwrap().code.clone();
        let photo = PhotoRef {
            sha256: sha.clone(),
            added_at: Timestamp(T0),
            added_by: w.id.clone(),
        };
        store
            .apply(&id, &Command::AddItemPhoto { item, photo }, &cx)
            .unwrap();
        (Mutex::new(store), blobs, sha)
    }

    fn client(server: &FakeServer) -> SyncClient {
        SyncClient::new(server.url.clone()).with_session(Session {
            token: "t".into(),
            user: user("u-wang"),
        })
    }

    fn pending_records(store: &Mutex<Store>) -> u32 {
        store.lock().unwrap().pending().unwrap().records
    }

    #[test]
    fn the_background_sync_refreshes_the_reference_data_every_tenth_round() {
        let dir = tempfile::tempdir().unwrap();
        let server = FakeServer::start();
        let (store, blobs, _) = tablet(&dir);
        let background = BackgroundSync::start(
            client(&server),
            Arc::new(store),
            Some(blobs),
            Duration::from_millis(5),
            Duration::from_millis(50),
            || Timestamp(T0),
        );
        let count = |what: &str| server.log().iter().filter(|l| *l == what).count();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while count("POST sync") < 3 * REFERENCE_EVERY as usize {
            assert!(std::time::Instant::now() < deadline, "{:?}", server.log());
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(background);
        let (syncs, references) = (count("POST sync"), count("GET reference"));
        // Once per REFERENCE_EVERY rounds (this server answers 404 to it: the rounds go on).
        assert!(
            (2..=syncs / REFERENCE_EVERY as usize).contains(&references),
            "{references} reference fetches in {syncs} rounds"
        );
    }

    #[test]
    fn photos_are_uploaded_before_the_records_that_name_them() {
        let dir = tempfile::tempdir().unwrap();
        let server = FakeServer::start();
        let (store, blobs, sha) = tablet(&dir);
        let (report, uploads) = upload_then_sync(
            &client(&server),
            &store,
            Some(&blobs),
            || Timestamp(T0),
            |_| {},
        )
        .unwrap();
        assert_eq!(uploads.unwrap().uploaded, 1);
        assert_eq!((report.pushed, report.accepted), (1, 1), "{report:?}");
        assert_eq!(
            server.log(),
            vec![
                "GET status".to_owned(),
                format!("PUT {sha}"),
                "POST sync".to_owned(),
                // The cases' sync (this server has no case endpoint: 404, nothing synced).
                "POST cases/sync".to_owned()
            ]
        );
        assert!(store.lock().unwrap().is_uploaded(&sha).unwrap());
        assert_eq!(pending_records(&store), 0);
    }

    #[test]
    fn a_refused_record_stays_pending_and_goes_with_the_next_sync() {
        let dir = tempfile::tempdir().unwrap();
        let server = FakeServer::start();
        let (store, blobs, sha) = tablet(&dir);
        let client = client(&server);
        // The photo cannot be uploaded, and the server refuses the record naming it.
        server.script.refuse_photos.store(true, Ordering::SeqCst);
        server.script.reject.store(true, Ordering::SeqCst);
        let failed =
            upload_then_sync(&client, &store, Some(&blobs), || Timestamp(T0), |_| {}).unwrap();
        let uploads = failed.1.unwrap();
        assert_eq!(uploads.failed.len(), 1, "{uploads:?}");
        assert_eq!(failed.0.rejected.len(), 1, "{:?}", failed.0);
        assert_eq!(failed.0.rejected[0].id, "r1");
        assert_eq!(failed.0.accepted, 0);
        // The record was still offered (once: a refused record is not pushed again within the
        // same sync), and it is still pending.
        assert_eq!(
            server
                .log()
                .iter()
                .filter(|l| l.as_str() == "POST sync")
                .count(),
            1
        );
        assert_eq!(pending_records(&store), 1, "a refused record is kept");
        assert!(!store.lock().unwrap().is_uploaded(&sha).unwrap());

        // Later the photo goes through, then the record is accepted.
        server.clear();
        server.script.refuse_photos.store(false, Ordering::SeqCst);
        server.script.reject.store(false, Ordering::SeqCst);
        let (report, uploads) =
            upload_then_sync(&client, &store, Some(&blobs), || Timestamp(T0), |_| {}).unwrap();
        assert_eq!(uploads.unwrap().uploaded, 1);
        assert_eq!((report.pushed, report.accepted), (1, 1), "{report:?}");
        assert!(
            server
                .log()
                .ends_with(&["POST sync".into(), "POST cases/sync".into()]),
            "{:?}",
            server.log()
        );
        assert_eq!(pending_records(&store), 0);
    }

    #[test]
    fn refused_records_do_not_hold_back_the_others() {
        let server = FakeServer::start();
        let dir = tempfile::tempdir().unwrap();
        let (store, _blobs, _sha) = tablet(&dir);
        // A full batch of records the server refuses, sorted before one it accepts.
        {
            let t = ChecklistTemplate::parse_toml(&fixture("checklists/gongmao.toml")).unwrap();
            let enterprises: Vec<Enterprise> =
                serde_json::from_str(&fixture("demo/enterprises.json")).unwrap();
            let e = &enterprises[0];
            let mut s = store.lock().unwrap();
            let mut refused = server.script.reject_ids.lock().unwrap();
            for i in 0..PUSH_BATCH {
                let id = format!("a{i:04}");
                let record = Inspection::new_draft(
                    InspectionId::new(id.clone()),
                    InspectionKind::Routine,
                    e.unit.clone(),
                    e.into(),
                    t.reference(),
                    user("u-wang").id,
                    Timestamp(T0),
                );
                s.create_inspection(&record, &t, Timestamp(T0)).unwrap();
                refused.insert(id);
            }
        }
        let client = client(&server);
        let first = client.sync(&store, Timestamp(T0)).unwrap();
        assert_eq!(
            first.rejected.len() as u32,
            PUSH_BATCH,
            "{:?}",
            first.accepted
        );
        assert_eq!(first.accepted, 1, "r1 went through after the refused batch");
        assert_eq!(
            first.pushed,
            PUSH_BATCH + 1,
            "nothing refused was pushed twice"
        );
        assert_eq!(first.round_trips, 2);
        assert_eq!(
            pending_records(&store),
            PUSH_BATCH,
            "the refused records are kept"
        );
        // Offered again by the next sync.
        server.script.reject_ids.lock().unwrap().clear();
        let second = client.sync(&store, Timestamp(T0)).unwrap();
        assert_eq!(second.accepted, PUSH_BATCH, "{second:?}");
        assert_eq!(pending_records(&store), 0);
    }
}
