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
use crate::store::{Pending, Store, StoreError};
use crate::upload::{BlobClient, UploadProgress, UploadReport};
use app_core::geo::Timestamp;
use app_core::ids::{DeviceId, InspectionId, UserId};
use app_core::user::User;
use app_core::wire::{DocChanges, PROTOCOL_VERSION, Rejection, SyncRequest, SyncResponse};
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("network: {0}")]
    Network(#[from] reqwest::Error),
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

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub pushed: u32,
    pub accepted: u32,
    pub rejected: Vec<Rejection>,
    pub pulled: u32,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub round_trips: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub user: User,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorInner,
}

#[derive(Debug, Deserialize)]
struct ErrorInner {
    code: String,
    message: String,
}

/// How many records one request pushes at most.
const PUSH_BATCH: u32 = 200;

#[derive(Debug, Clone)]
pub struct SyncClient {
    base: String,
    http: reqwest::blocking::Client,
    session: Option<Session>,
}

fn check(resp: reqwest::blocking::Response) -> Result<reqwest::blocking::Response, SyncError> {
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
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into().trim_end_matches('/').to_owned(),
            http: reqwest::blocking::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(60))
                .build()
                .expect("HTTP client builds"),
            session: None,
        }
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
            .http
            .post(format!("{}/api/v1/login", self.base))
            .json(&serde_json::json!({ "user": user, "password": password }))
            .send()?;
        let body: serde_json::Value = check(resp)?.json()?;
        let token = body["token"]
            .as_str()
            .ok_or_else(|| SyncError::Protocol("no token".into()))?
            .to_owned();
        let user: User = serde_json::from_value(body["user"].clone())
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        let key = device_key(store)?;
        let device = store.device().as_str();
        let signature =
            key.sign(app_core_registration_message(device, user.id.as_str()).as_bytes());
        check(
            self.http
                .post(format!("{}/api/v1/devices", self.base))
                .bearer_auth(&token)
                .json(&serde_json::json!({
                    "device_id": device,
                    "public_key": app_core::evidence::hex(key.verifying_key().as_bytes()),
                    "signature": app_core::evidence::hex(&signature.to_bytes()),
                }))
                .send()?,
        )?;
        self.session = Some(Session { token, user });
        Ok(self.session.as_ref().expect("just set"))
    }

    /// Stores the reference data this user may see, for offline work.
    pub fn fetch_reference(&self, store: &Mutex<Store>) -> Result<(), SyncError> {
        let resp = self
            .http
            .get(format!("{}/api/v1/reference", self.base))
            .bearer_auth(self.token()?)
            .send()?;
        let bundle: ReferenceBundle = check(resp)?.json()?;
        let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
        store.replace_reference(&bundle.units)?;
        store.replace_reference(&bundle.users)?;
        store.replace_reference(&bundle.enterprises)?;
        store.replace_reference(&bundle.templates)?;
        store.replace_reference(&bundle.plans)?;
        Ok(())
    }

    /// One full sync: round trips until nothing is left to push and the server has nothing
    /// more to send. The store is locked only between round trips. Records the server
    /// refuses stay pending (see [`SyncReport::rejected`]) and are not offered again until
    /// the next sync.
    pub fn sync(&self, store: &Mutex<Store>, now: Timestamp) -> Result<SyncReport, SyncError> {
        let user: UserId = self
            .session
            .as_ref()
            .ok_or(SyncError::NotSignedIn)?
            .user
            .id
            .clone();
        let mut report = SyncReport::default();
        // Records refused in this sync: they stay pending, but are not pushed again before the
        // next sync (a refused batch must not hide the records after it).
        let mut refused: HashSet<String> = HashSet::new();
        loop {
            let (pushes, cursor) = {
                let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
                let mut pushes = s.pending_pushes(PUSH_BATCH + refused.len() as u32)?;
                pushes.retain(|p| !refused.contains(p.id.as_str()));
                pushes.truncate(PUSH_BATCH as usize);
                (pushes, s.sync_cursor(&user)?)
            };
            let request = SyncRequest {
                version: PROTOCOL_VERSION,
                cursor,
                push: pushes
                    .iter()
                    .map(|p| DocChanges {
                        id: p.id.to_string(),
                        bytes: p.bytes.clone(),
                    })
                    .collect(),
            };
            let mut body = Vec::new();
            ciborium::into_writer(&request, &mut body).expect("writing to a Vec cannot fail");
            report.bytes_sent += body.len() as u64;
            report.pushed += pushes.len() as u32;
            let resp = self
                .http
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
            {
                let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
                let done: Vec<_> = response
                    .accepted
                    .iter()
                    .filter_map(|&i| pushes.get(i as usize))
                    .collect();
                s.mark_all_pushed(&done)?;
                for d in &response.pull {
                    s.apply_remote(&InspectionId::new(d.id.clone()), &d.bytes, now)?;
                }
                s.set_sync_cursor(&user, response.cursor)?;
            }
            report.accepted += response.accepted.len() as u32;
            report.pulled += response.pull.len() as u32;
            // Every round must settle something, or pushing again would send the same batch.
            let settled = !response.accepted.is_empty() || !response.rejected.is_empty();
            refused.extend(response.rejected.iter().map(|r| r.id.clone()));
            report.rejected.extend(response.rejected);
            let more_to_push = pushes.len() as u32 == PUSH_BATCH && settled;
            if !response.more && !more_to_push {
                return Ok(report);
            }
        }
    }
}

fn app_core_registration_message(device: &str, user: &str) -> String {
    format!("register-device:{device}:{user}")
}

#[derive(Debug, Deserialize)]
struct ReferenceBundle {
    units: Vec<app_core::unit::Unit>,
    users: Vec<User>,
    enterprises: Vec<app_core::enterprise::Enterprise>,
    templates: Vec<app_core::checklist::ChecklistTemplate>,
    plans: Vec<app_core::plan::Plan>,
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
    let uploads = match blobs {
        Some(blobs) => {
            let token = client.token()?.to_owned();
            Some(BlobClient::new(client.base(), token).upload_pending(store, blobs, progress))
        }
        None => None,
    };
    let report = client.sync(store, clock())?;
    let uploads = uploads
        .transpose()
        .map_err(|e| SyncError::Protocol(format!("photo upload: {e}")))?;
    Ok((report, uploads))
}

/// What the sync indicator shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncState {
    #[default]
    Idle,
    Syncing,
    /// The last attempt failed; the next is scheduled after a back-off.
    Waiting {
        error: String,
        retry_in_secs: u64,
    },
    Done(SyncReport),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SyncStatus {
    pub state: SyncState,
    /// Records waiting to be pushed, and their size.
    pub pending: Pending,
    /// Photo originals the server does not hold yet, and the running upload's progress.
    pub photos_pending: u32,
    pub upload: Option<UploadProgress>,
    /// What the last photo upload run did.
    pub last_upload: Option<UploadReport>,
}

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
            while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
                status2.lock().unwrap_or_else(|p| p.into_inner()).state = SyncState::Syncing;
                let result = upload_then_sync(&client, &store, blobs.as_ref(), &clock, |p| {
                    let mut st = status2.lock().unwrap_or_else(|e| e.into_inner());
                    st.photos_pending = p.photos_pending;
                    st.upload = Some(p);
                });
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
                let wait = match result {
                    Ok((report, uploads)) => {
                        let photos_failed = uploads.as_ref().is_some_and(|u| !u.failed.is_empty());
                        backoff = interval;
                        *status2.lock().unwrap_or_else(|p| p.into_inner()) = SyncStatus {
                            state: SyncState::Done(report),
                            pending,
                            photos_pending,
                            upload: None,
                            last_upload: uploads.or(previous.last_upload),
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
                        };
                        backoff
                    }
                };
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
