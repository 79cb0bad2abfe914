//! What the tablet app's screens call: one service over the store, the blob store and the
//! sync client. The screens send typed requests (`tablet_api::Request`, one per operation,
//! each naming its answer's type); the Tauri shell (`src-tauri/`) is a thin adapter that
//! hands them to [`App::handle`] and raw photo/signature bytes to [`App::ingest_photo`] /
//! [`App::ingest_signature`]; everything here is testable without a window, and tests call
//! [`App::call`] with the same typed requests.
//!
//! Nothing the inspector typed is lost: every tap is a store command (durable before the
//! answer returns), notes are saved as they are typed, and forms not yet committed as a
//! command are kept in the `app_drafts` table.
//!
//! One module per use case: `session` (sign-in, home), `records` (start, commands, the
//! record view), `signing` (complete and sign with document numbers), `cases` (penalty
//! cases: open, commands with numbers, list, view), `photos`, `export`
//! (case files), `sync` (sync and number stock), `serve` (the typed requests to these
//! methods), `errors` (library errors as `ApiError`).

mod cases;
mod enterprise;
mod errors;
mod export;
mod hazards;
mod photos;
mod preview;
mod records;
mod serve;
mod session;
mod signing;
mod sync;

pub use export::export_file_name;
pub use photos::ThumbResponse;
pub use tablet_api::{ApiError, ApiResult, ErrorCode};

use crate::blobs::BlobStore;
use crate::numbers::{Keeper, KeeperSetup, NumberClient, NumbersError};
use crate::store::Store;
use crate::sync::{BackgroundSync, Session, SyncClient};
use crate::tls::{Server, ServerTrust};
use app_core::geo::{Day, Timestamp};
use app_core::ids::InspectionId;
use app_core::messages::ConnectionRefusal;
use app_core::user::User;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tablet_api::{ExportStatus, SyncOutcome, SyncState};

/// Where the app keeps its data and which server it talks to.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub db: PathBuf,
    pub blobs: PathBuf,
    /// Where exported case files (电子案卷) are written.
    pub exports: PathBuf,
    pub server: String,
    /// The bureau's CA certificate for the server (PEM text, or the path of a PEM file), if it
    /// runs its own CA; see [`crate::tls`]. Kept in the store once given.
    pub server_ca: Option<String>,
    /// Or SHA-256 pins of the server's key (`sha256//BASE64`, comma-separated).
    pub server_pins: Option<String>,
    /// How often the background sync runs, and its longest back-off while offline.
    pub sync_interval: Duration,
    pub sync_max_backoff: Duration,
    /// Where recordings are looked for to add to a case (`tablet_api::ListRecordings`): the
    /// tablet's own recordings folder, and where a body camera's card appears.
    pub media_roots: Vec<PathBuf>,
}

impl AppConfig {
    /// From the environment (`INSPECTION_DATA`, `INSPECTION_SERVER`, `INSPECTION_SERVER_CA`,
    /// `INSPECTION_SERVER_PIN`, `INSPECTION_SYNC_INTERVAL_MS`,
    /// `INSPECTION_SYNC_MAX_BACKOFF_MS`), with `default_data` (the platform's app data
    /// folder) when no data folder is given.
    pub fn from_env(default_data: PathBuf) -> Self {
        let data = std::env::var_os("INSPECTION_DATA")
            .map(PathBuf::from)
            .unwrap_or(default_data);
        let ms = |name: &str, default: u64| {
            Duration::from_millis(
                std::env::var(name)
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(default),
            )
        };
        let mut config = Self::in_folder(
            &data,
            std::env::var("INSPECTION_SERVER").unwrap_or_else(|_| "http://127.0.0.1:8080".into()),
            ms("INSPECTION_SYNC_INTERVAL_MS", 30_000),
            ms("INSPECTION_SYNC_MAX_BACKOFF_MS", 300_000),
        );
        config.server_ca = std::env::var("INSPECTION_SERVER_CA").ok();
        config.server_pins = std::env::var("INSPECTION_SERVER_PIN").ok();
        // Where a body camera's card is mounted: `INSPECTION_MEDIA_ROOTS` (separated by `:`),
        // else the usual places on Linux and Android.
        match std::env::var_os("INSPECTION_MEDIA_ROOTS") {
            Some(roots) => config
                .media_roots
                .extend(std::env::split_paths(&roots).filter(|p| !p.as_os_str().is_empty())),
            None => config.media_roots.extend(
                ["/media", "/run/media", "/mnt", "/storage"]
                    .iter()
                    .map(PathBuf::from),
            ),
        }
        config
    }

    /// The app's files in `data` (the database, the photo blobs, the exported case files),
    /// syncing with `server`.
    pub fn in_folder(
        data: &std::path::Path,
        server: String,
        sync_interval: Duration,
        sync_max_backoff: Duration,
    ) -> Self {
        Self {
            db: data.join("tablet.db"),
            blobs: data.join("blobs"),
            exports: data.join("exports"),
            server,
            server_ca: None,
            server_pins: None,
            sync_interval,
            sync_max_backoff,
            media_roots: vec![data.join("recordings")],
        }
    }

    /// The server and whom to trust for it, from these settings or, when they name no CA
    /// and no pin, what the store kept for the same address (the trust a tablet received at
    /// enrollment survives a restart without its settings). New settings are kept.
    fn server_in(&self, store: &Store) -> ApiResult<Server> {
        let untrusted = |r: ConnectionRefusal| {
            use app_core::messages::Bilingual;
            ApiError::new(ErrorCode::Untrusted, r.zh(), r.en())
        };
        let ca = match self.server_ca.as_deref().map(str::trim) {
            Some(pem) if pem.starts_with("-----BEGIN") => Some(pem.to_owned()),
            Some(path) if !path.is_empty() => Some(std::fs::read_to_string(path).map_err(|e| {
                untrusted(ConnectionRefusal::BadTrustSetting(format!("{path}: {e}")))
            })?),
            _ => None,
        };
        let given = ServerTrust::from_settings(ca.as_deref(), self.server_pins.as_deref())
            .map_err(untrusted)?;
        let server = Server::new(self.server.clone(), given);
        if server.trust != ServerTrust::System {
            store.set_meta(
                SERVER_KEY,
                &serde_json::to_string(&server).map_err(errors::bad_args)?,
            )?;
            return Ok(server);
        }
        let kept: Option<Server> = store
            .meta(SERVER_KEY)?
            .and_then(|s| serde_json::from_str(&s).ok());
        Ok(match kept {
            Some(kept) if kept.url == server.url => kept,
            _ => server,
        })
    }
}

/// Now, as the record's clock.
pub fn now() -> Timestamp {
    timestamp_of(std::time::SystemTime::now()).unwrap_or(Timestamp(0))
}

/// A system time (the clock, a file's time) as the record's clock; `None` before 1970.
pub fn timestamp_of(t: std::time::SystemTime) -> Option<Timestamp> {
    t.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| Timestamp(d.as_millis() as i64))
}

const SESSION_KEY: &str = "app_session";
/// The server and its trust (CA or pins) as last configured (`tls::Server`, JSON).
const SERVER_KEY: &str = "server_trust";

#[derive(Debug)]
pub struct App {
    config: AppConfig,
    /// The server and whom the tablet trusts for it (see [`AppConfig::server_in`]).
    server: Server,
    store: Arc<Mutex<Store>>,
    blobs: BlobStore,
    session: Mutex<Option<Session>>,
    background: Mutex<Option<BackgroundSync>>,
    /// Tops the pool of document numbers up after background syncs (see `numbers.rs`).
    keeper: Mutex<Option<Keeper>>,
    numbers: Arc<crate::numbers::Shared>,
    /// The result of the last sync started from the sync screen.
    manual: Mutex<Option<SyncOutcome>>,
    /// Case-file exports of this session, the latest per record (running ones updated by
    /// their thread).
    exports: Arc<Mutex<BTreeMap<InspectionId, ExportStatus>>>,
    /// Tests: the next export waits at its first progress report until this receives.
    #[cfg(test)]
    export_gate: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
}

impl App {
    /// Opens the store and blob folder; resumes the saved session (and its background sync)
    /// if the inspector signed in before, so the app works offline from the first screen.
    pub fn open(config: AppConfig) -> ApiResult<Self> {
        if let Some(parent) = config.db.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                ApiError::new(
                    ErrorCode::Storage,
                    format!("无法创建数据目录：{e}"),
                    format!("cannot create data folder: {e}"),
                )
            })?;
        }
        let store = Store::open(&config.db)?;
        crate::app_drafts::init(&store)?;
        let blobs = BlobStore::open(&config.blobs).map_err(|e| {
            ApiError::new(
                ErrorCode::Storage,
                format!("无法打开照片目录：{e}"),
                format!("cannot open photo folder: {e}"),
            )
        })?;
        let session: Option<Session> = store
            .meta(SESSION_KEY)?
            .and_then(|s| serde_json::from_str(&s).ok());
        let server = config.server_in(&store)?;
        let app = Self {
            config,
            server,
            store: Arc::new(Mutex::new(store)),
            blobs,
            session: Mutex::new(None),
            background: Mutex::new(None),
            keeper: Mutex::new(None),
            numbers: Arc::default(),
            manual: Mutex::new(None),
            exports: Arc::default(),
            #[cfg(test)]
            export_gate: Mutex::new(None),
        };
        app.remove_partial_exports();
        if let Some(session) = session {
            app.start_session(session);
        }
        Ok(app)
    }

    fn start_session(&self, session: Session) {
        let client = SyncClient::new(&self.server).with_session(session.clone());
        *self.session.lock().unwrap_or_else(|p| p.into_inner()) = Some(session.clone());
        // The background uploader reads originals through its own handle on the same folder
        // (opened when no photo is being written: at app start, or at sign-in).
        let blobs = BlobStore::open(&self.config.blobs).ok();
        let background = BackgroundSync::start(
            client,
            self.store.clone(),
            blobs,
            self.config.sync_interval,
            self.config.sync_max_backoff,
            now,
        );
        let keeper = Keeper::start(
            KeeperSetup {
                store: self.store.clone(),
                client: NumberClient::new(&self.server, session.token.clone()),
                user: session.user.clone(),
                sync_status: background.status.clone(),
                shared: self.numbers.clone(),
                interval: self.config.sync_interval,
                max_backoff: self.config.sync_max_backoff,
            },
            now,
        );
        *self.background.lock().unwrap_or_else(|p| p.into_inner()) = Some(background);
        *self.keeper.lock().unwrap_or_else(|p| p.into_inner()) = Some(keeper);
    }

    /// Reserves document numbers for the series that run low (see `numbers::top_up`); the
    /// store's lock is not held while the server is asked.
    fn top_up_numbers(&self, session: &Session) -> Result<crate::numbers::TopUp, NumbersError> {
        self.numbers.top_up(
            &self.store,
            &NumberClient::new(&self.server, session.token.clone()),
            &session.user,
            now(),
        )
    }

    fn session(&self) -> ApiResult<Session> {
        self.session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| ApiError::new(ErrorCode::NotSignedIn, "请先登录", "not signed in"))
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn user(&self) -> ApiResult<User> {
        self.session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|s| s.user.clone())
            .ok_or_else(|| ApiError::new(ErrorCode::NotSignedIn, "请先登录", "not signed in"))
    }

    /// Dispatches one call from the UI. `args` is the call's JSON object.
    /// Whether the background sync's last attempt succeeded (for tests and logs).
    pub fn last_sync_ok(&self) -> bool {
        matches!(self.sync_status().state, SyncState::Done(_))
    }

    /// Today in Asia/Shanghai.
    pub fn today() -> Day {
        now().shanghai_date()
    }
}

#[cfg(test)]
mod numbers_tests;
#[cfg(test)]
mod tests;
