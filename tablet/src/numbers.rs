//! Document numbers (文号) on the tablet: which documents a signing must number, reserving
//! blocks of numbers from the server, and the stock the screens show.
//!
//! - The server reserves blocks per device (`POST /api/v1/numbers/reserve`, JSON, the same
//!   device-bound token as sync); the tablet keeps them in its store (`Store::
//!   add_number_blocks`) and issues from them offline (`Store::issue_document`), one
//!   transaction per number together with the record's change.
//! - [`top_up`] asks only for the series that run low (fewer than [`LOW_WATER`] left): the
//!   three documents an inspector issues (现场检查记录, 责令限期整改指令书, 整改复查意见书) of
//!   the inspector's own unit for the current year in Asia/Shanghai, and from 20 December also
//!   for the next year, so a tablet that last synced before New Year still has numbers in
//!   January. The app calls it at sign-in, after a sync, and when a signing finds a series
//!   empty. It holds the store's lock only to read the pool and to store the blocks, never
//!   during network I/O.
//! - Which numbers a signing must issue so that the documents the signed version yields
//!   carry them, and which series an inspector needs, are app-core's rules
//!   ([`documents_to_number`], [`series_needed`]), re-exported here.

use crate::store::{Store, StoreError};
use app_core::docnumber::{Block, Series};
use app_core::geo::Timestamp;
use app_core::ids::UnitId;
use app_core::user::User;
use app_core::wire::http::{
    ClaimRequest, ClaimResponse, ErrorBody, ReserveRequest, ReserveResponse, SeriesRequest,
};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::Duration;

/// A series with fewer numbers than this left on the tablet is topped up (the server's
/// blocks are 20 numbers).
pub const LOW_WATER: u32 = 10;

/// The documents an inspector issues and the series they need (app-core's rules).
pub use app_core::docnumber::{INSPECTOR_KINDS as KINDS, series_for, series_needed};
/// Which numbers a signing must issue (app-core's rule, see its documentation).
pub use app_core::signing::documents_to_number;

/// How many numbers of one series the tablet holds, and the last top-up: what the screens
/// read (`tablet-api`'s types, used as they are).
pub use tablet_api::{Stock, TopUpOutcome};

/// The stock of every series an inspector of `unit` needs at `now` (what a signing draws on).
pub fn stock(store: &Store, unit: &UnitId, now: Timestamp) -> Result<Vec<Stock>, StoreError> {
    stock_of(store, series_needed(unit, now))
}

/// The stock of every series `user` keeps on this tablet at `now` ([`series_for`]: an
/// inspector's three, and the case documents' the user issues once the tablet holds a case):
/// what the sync screen lists.
pub fn stock_for(store: &Store, user: &User, now: Timestamp) -> Result<Vec<Stock>, StoreError> {
    stock_of(store, series_for(user, holds_cases(store)?, now))
}

fn stock_of(store: &Store, series: Vec<Series>) -> Result<Vec<Stock>, StoreError> {
    let pool = store.number_pool()?;
    Ok(series
        .into_iter()
        .map(|s| Stock {
            remaining: pool.remaining(&s),
            unit: s.unit,
            kind: s.kind,
            year: s.year,
        })
        .collect())
}

#[derive(Debug, thiserror::Error)]
pub enum NumbersError {
    #[error("network: {0}")]
    Network(reqwest::Error),
    /// The tablet would not talk to the server (see [`crate::tls`]): nothing was sent.
    #[error(transparent)]
    Refused(#[from] app_core::messages::ConnectionRefusal),
    #[error("server answered {status}: {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    #[error("bad answer from the server: {0}")]
    Protocol(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The server's number endpoint, with the session's token (bound to this device at sign-in).
#[derive(Debug, Clone)]
pub struct NumberClient {
    base: String,
    token: String,
    http: Result<reqwest::blocking::Client, app_core::messages::ConnectionRefusal>,
}

/// A certificate refused during the handshake becomes [`NumbersError::Refused`].
impl From<reqwest::Error> for NumbersError {
    fn from(e: reqwest::Error) -> Self {
        match crate::tls::refusal_of(&e) {
            Some(r) => NumbersError::Refused(r),
            None => NumbersError::Network(e),
        }
    }
}

impl NumberClient {
    pub fn new(server: impl Into<crate::tls::Server>, token: impl Into<String>) -> Self {
        let server: crate::tls::Server = server.into();
        Self {
            base: server.url.clone(),
            token: token.into(),
            // Asked for while an inspector waits (at signing): fail fast when offline.
            http: crate::tls::client(
                &server,
                Duration::from_secs(3),
                Some(Duration::from_secs(20)),
            ),
        }
    }

    /// Announces the blocks this device holds to a server restored from a backup (see
    /// [`claim_if_due`]).
    pub fn claim(&self, blocks: &[Block]) -> Result<ClaimResponse, NumbersError> {
        self.post(
            "claim",
            &ClaimRequest {
                blocks: blocks.to_vec(),
            },
        )
    }

    /// POSTs `body` to `/api/v1/numbers/{path}` and reads the answer or the server's error.
    fn post<R: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<R, NumbersError> {
        let resp = self
            .http
            .as_ref()
            .map_err(|e| NumbersError::Refused(e.clone()))?
            .post(format!("{}/api/v1/numbers/{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()?;
        if !resp.status().is_success() {
            let status = resp.status().as_u16();
            let (code, message) = match resp.json::<ErrorBody>() {
                Ok(b) => (b.error.code, b.error.message),
                Err(_) => ("unknown".into(), format!("HTTP {status}")),
            };
            return Err(NumbersError::Server {
                status,
                code,
                message,
            });
        }
        Ok(resp.json()?)
    }

    /// Reserves one block of each series for this device.
    pub fn reserve(&self, series: &[Series]) -> Result<Vec<Block>, NumbersError> {
        let body = ReserveRequest {
            series: series
                .iter()
                .map(|s| SeriesRequest {
                    unit: s.unit.clone(),
                    kind: s.kind,
                    year: Some(s.year),
                })
                .collect(),
        };
        let answer: ReserveResponse = self.post("reserve", &body)?;
        for b in &answer.blocks {
            if !series.contains(&b.series) {
                return Err(NumbersError::Protocol(format!(
                    "a block of a series not asked for: {:?}",
                    b.series
                )));
            }
        }
        Ok(answer.blocks)
    }
}

/// What a top-up did: the series that ran low and the blocks received for them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopUp {
    pub asked: Vec<Series>,
    pub received: Vec<Block>,
}

/// Whether the tablet holds a penalty case (open or closed): then it keeps numbers of the
/// case documents too (`app_core::docnumber::series_for`).
fn holds_cases(store: &Store) -> Result<bool, StoreError> {
    Ok(!store.list_cases(None)?.is_empty())
}

/// Reserves a block for every series `user` needs that runs low (nothing when none does):
/// an inspector's three, and on a tablet holding penalty cases the case documents' the user
/// issues (a supervisor's: 立案审批表, 法制审核意见书, 决定书, 结案审批表). The store's lock is held only to read the pool and to
/// store the blocks.
pub fn top_up(
    store: &Mutex<Store>,
    client: &NumberClient,
    user: &User,
    now: Timestamp,
) -> Result<TopUp, NumbersError> {
    if !user.is_inspector() && !holds_cases(&store.lock().unwrap_or_else(|p| p.into_inner()))? {
        return Ok(TopUp::default());
    }
    claim_if_due(store, client)?;
    let low: Vec<Series> = {
        let store = store.lock().unwrap_or_else(|p| p.into_inner());
        let pool = store.number_pool()?;
        series_for(user, holds_cases(&store)?, now)
            .into_iter()
            .filter(|s| pool.remaining(s) < LOW_WATER)
            .collect()
    };
    if low.is_empty() {
        return Ok(TopUp::default());
    }
    let received = client.reserve(&low)?;
    store
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .add_number_blocks(&received)?;
    Ok(TopUp {
        asked: low,
        received,
    })
}

/// After the sync found the server restored from a backup (`Store::forget_server_state`),
/// announces every block this device holds, so the restored server never hands them out
/// again, and stops issuing from any it gave to another device meanwhile. Nothing to do
/// otherwise. Returns the claim's answer when one was sent.
pub fn claim_if_due(
    store: &Mutex<Store>,
    client: &NumberClient,
) -> Result<Option<ClaimResponse>, NumbersError> {
    let blocks: Vec<Block> = {
        let store = store.lock().unwrap_or_else(|p| p.into_inner());
        if store.meta("numbers_claim_due")?.as_deref() != Some("1") {
            return Ok(None);
        }
        store.number_pool()?.blocks().cloned().collect()
    };
    let answer = if blocks.is_empty() {
        ClaimResponse {
            restored: 0,
            conflicts: Vec::new(),
        }
    } else {
        client.claim(&blocks)?
    };
    let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
    store.retire_number_blocks(&answer.conflicts)?;
    store.set_meta("numbers_claim_due", "0")?;
    Ok(Some(answer))
}

/// A failed top-up in Chinese.
pub fn error_zh(e: &NumbersError) -> String {
    match e {
        NumbersError::Network(_) => "无法连接服务器，未能取得文书编号".into(),
        NumbersError::Refused(r) => {
            use app_core::messages::Bilingual;
            format!("未能取得文书编号：{}", r.zh())
        }
        NumbersError::Server { status: 401, .. } => "登录已失效，请重新登录后同步".into(),
        NumbersError::Server {
            status: 403,
            message,
            ..
        } => format!("服务器拒绝分配文书编号：{message}"),
        NumbersError::Server { message, .. } => format!("服务器未能分配文书编号：{message}"),
        NumbersError::Protocol(m) => format!("服务器的回答无法识别：{m}"),
        NumbersError::Store(e) => format!("本机存储出错，文书编号未保存：{e}"),
    }
}

/// What the app's threads share about numbers: one top-up at a time, and the last outcome.
#[derive(Debug, Default)]
pub struct Shared {
    running: Mutex<()>,
    last: Mutex<Option<TopUpOutcome>>,
}

impl Shared {
    /// [`top_up`], one at a time (a second caller waits, then finds the pool full and asks
    /// the server nothing), remembering the outcome.
    pub fn top_up(
        &self,
        store: &Mutex<Store>,
        client: &NumberClient,
        user: &User,
        now: Timestamp,
    ) -> Result<TopUp, NumbersError> {
        let _one = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let result = top_up(store, client, user, now);
        let outcome = TopUpOutcome {
            at: now,
            received: result
                .as_ref()
                .map(|t| t.received.clone())
                .unwrap_or_default(),
            error_zh: result.as_ref().err().map(error_zh),
            error_en: result.as_ref().err().map(ToString::to_string),
        };
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
        result
    }

    pub fn last(&self) -> Option<TopUpOutcome> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Tops the pool up in the background while the app runs: every `interval`, when the
/// background sync's last attempt succeeded (the server is reachable) and a series runs low;
/// after a failure it waits longer each time, up to `max_backoff`. Stops when dropped.
#[derive(Debug)]
pub struct Keeper {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

/// What the [`Keeper`] works with.
#[derive(Debug)]
pub struct KeeperSetup {
    pub store: std::sync::Arc<Mutex<Store>>,
    pub client: NumberClient,
    pub user: User,
    /// The background sync's status: top-ups follow its successful syncs.
    pub sync_status: std::sync::Arc<Mutex<crate::sync::SyncStatus>>,
    pub shared: std::sync::Arc<Shared>,
    pub interval: Duration,
    pub max_backoff: Duration,
}

impl Keeper {
    pub fn start(setup: KeeperSetup, clock: impl Fn() -> Timestamp + Send + 'static) -> Self {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let handle = std::thread::Builder::new()
            .name("number-keeper".into())
            .spawn(move || {
                let s = setup;
                let mut backoff = s.interval;
                let mut wait = s.interval;
                loop {
                    let until = std::time::Instant::now() + wait;
                    while std::time::Instant::now() < until {
                        if stopped.load(Ordering::Relaxed) {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    let online = matches!(
                        s.sync_status
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .state,
                        crate::sync::SyncState::Done(_)
                    );
                    if !online {
                        wait = s.interval;
                        continue;
                    }
                    match s.shared.top_up(&s.store, &s.client, &s.user, clock()) {
                        Ok(_) => {
                            backoff = s.interval;
                            wait = s.interval;
                        }
                        Err(_) => {
                            backoff = (backoff * 2).min(s.max_backoff);
                            wait = backoff;
                        }
                    }
                }
            })
            .ok();
        Self { stop, handle }
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
