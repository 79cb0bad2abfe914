//! Sign-in that cannot be abused (used by `auth::sign_in` and the console's sign-in form).
//!
//! - **Bounded Argon2.** Passwords are verified on a few dedicated, long-lived threads (one per
//!   core by default), each reusing one Argon2 work area (19 MiB with the default parameters)
//!   for every verification. Requests wait in a bounded queue; when it is full the sign-in is
//!   refused at once with 503 instead of piling up. Verifying never holds the database
//!   connection. Before this, each verification ran on a blocking thread of its own (up to
//!   512) with a fresh 19 MiB buffer, which the allocator kept per thread: a flood of wrong
//!   passwords took the server from under 200 MB to several GB.
//! - **Throttle in the database** (so that several instances on one database share it). Failed
//!   sign-ins are counted per account name and per client address in fixed windows; reaching
//!   the limit locks the key for a while (`Limits`). Only failures count; a successful
//!   sign-in clears the account's counter. A supervisor may lift an account's lock from the
//!   console (`/console/lockouts`). Account names are counted whether or not the account
//!   exists, and an unknown name is verified against a fixed dummy hash, so neither the time
//!   nor the lockout tells which names exist.
//!
//! Settings: the `[signin]` table of the configuration (see `config.rs`), given to
//! [`configure`] once at start; the defaults otherwise (tests that build the router in
//! process).

use crate::error::{ApiError, ApiResult};
use crate::store::{StoreResult, ThrottleStore};
use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use axum::extract::FromRequestParts;
use axum::extract::connect_info::{ConnectInfo, MockConnectInfo};
use axum::http::request::Parts;
use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};

/// Failed sign-ins allowed before a lock, and how long windows and locks last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Failures per account name in one window before the account is locked.
    pub account_failures: i64,
    /// Failures per client address in one window before the address is locked (higher: an
    /// office may share one address).
    pub address_failures: i64,
    pub window_secs: i64,
    pub lock_secs: i64,
    /// `false`: nothing is counted or locked (`SYNC_SERVER_SIGNIN_THROTTLE=off`).
    pub enabled: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            account_failures: 5,
            address_failures: 20,
            window_secs: 15 * 60,
            lock_secs: 15 * 60,
            enabled: true,
        }
    }
}

/// The sign-in settings of the process (see [`configure`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Threads verifying passwords.
    pub threads: usize,
    /// Verifications waiting beyond those being verified.
    pub queue: usize,
    pub limits: Limits,
}

impl Default for Settings {
    /// One thread per core (at most 8), 32 waiting, [`Limits::default`].
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(2, |n| n.get().min(8)),
            queue: 32,
            limits: Limits::default(),
        }
    }
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Sets the process's sign-in settings; call once before serving. False (and nothing
/// changes) when they were already set or already used.
pub fn configure(settings: Settings) -> bool {
    if !settings.limits.enabled {
        tracing::warn!("signin.throttle is off: failed sign-ins are not limited");
    }
    SETTINGS.set(settings).is_ok()
}

fn settings() -> &'static Settings {
    SETTINGS.get_or_init(Settings::default)
}

/// The limits in force.
pub fn limits() -> &'static Limits {
    &settings().limits
}

/// An Argon2id hash (default parameters) of a password nobody uses: unknown user names are
/// verified against it, so that they cost the same time as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2lnbi1pbi1kdW1teS1zYWx0$NYfgPGNLW6XWEtFlkmXj5Q50U1FLH9r585owKfiQ+5M";

/// Longer passwords are refused without hashing (Argon2 would first digest all of them).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Verifies `password` against the PHC string `phc` using `memory` as Argon2's work area
/// (grown when the hash needs more, and kept for the next verification).
fn verify_with(memory: &mut Vec<Block>, password: &[u8], phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) =
        (Algorithm::try_from(hash.algorithm), Params::try_from(&hash))
    else {
        return false;
    };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    // A stored hash asking for more than 256 MiB is not one this server made.
    if blocks > 256 * 1024 {
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params);
    if argon
        .hash_password_into_with_memory(password, salt, &mut out, &mut memory[..blocks])
        .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time.
    argon2::password_hash::Output::new(&out).is_ok_and(|o| o == expected)
}

struct Job {
    password: String,
    /// The stored hash; `None`: verify against the dummy hash (and fail).
    hash: Option<String>,
    reply: tokio::sync::oneshot::Sender<bool>,
}

/// A few long-lived threads verifying passwords, fed through a bounded queue.
#[derive(Debug)]
pub struct VerifyPool {
    queue: SyncSender<Job>,
    threads: usize,
}

impl VerifyPool {
    /// `threads` verifying threads and room for `waiting` more verifications in the queue.
    pub fn new(threads: usize, waiting: usize) -> std::io::Result<Self> {
        let (queue, jobs) = std::sync::mpsc::sync_channel::<Job>(waiting);
        let jobs = Arc::new(Mutex::new(jobs));
        for i in 0..threads.max(1) {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || worker(&jobs))?;
        }
        Ok(Self {
            queue,
            threads: threads.max(1),
        })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Whether `password` matches `hash` (always `false` for `None`, after the same work).
    /// Refused with 503 when the queue is full.
    pub async fn verify(&self, password: String, hash: Option<String>) -> ApiResult<bool> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Job {
            password,
            hash,
            reply,
        };
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(ApiError::Busy(
                    "too many sign-ins are being checked right now; try again in a few seconds"
                        .into(),
                ));
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::Internal(crate::internal!(
                    "the password-checking threads have stopped"
                )));
            }
        }
        answer
            .await
            .map_err(|_| ApiError::Internal(crate::internal!("a password check was dropped")))
    }
}

fn worker(jobs: &Mutex<Receiver<Job>>) {
    // Argon2's work area, reused by every verification on this thread.
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = {
            let jobs = jobs.lock().unwrap_or_else(|p| p.into_inner());
            match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        // The client gave up while waiting: skip the work.
        if job.reply.is_closed() {
            continue;
        }
        let ok = match &job.hash {
            Some(hash) => verify_with(&mut memory, job.password.as_bytes(), hash),
            None => {
                verify_with(&mut memory, job.password.as_bytes(), DUMMY_HASH);
                false
            }
        };
        let _ = job.reply.send(ok);
    }
}

/// The process's verifying pool (see the module's settings).
pub fn pool() -> ApiResult<&'static VerifyPool> {
    static POOL: OnceLock<Result<VerifyPool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        let s = settings();
        VerifyPool::new(s.threads, s.queue).map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| ApiError::Internal(crate::internal!("cannot start password checking: {e}")))
}

/// The client's address when the server is served with
/// `into_make_service_with_connect_info::<SocketAddr>()` (or a test's `MockConnectInfo`);
/// `None` otherwise, and then only accounts are throttled.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ext = &parts.extensions;
        // The serving loop's client address (a trusted proxy's X-Forwarded-For), else the peer.
        if let Some(crate::net::ClientIp(ip)) = ext.get::<crate::net::ClientIp>() {
            return Ok(ClientAddress(Some(*ip)));
        }
        let addr = ext
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
            .or_else(|| ext.get::<MockConnectInfo<SocketAddr>>().map(|m| m.0));
        Ok(ClientAddress(addr.map(|a| a.ip())))
    }
}

/// The throttle keys of one sign-in: the account name and, when known, the client address.
#[derive(Debug, Clone)]
pub struct Keys {
    pub account: String,
    pub address: Option<String>,
}

impl Keys {
    pub fn new(user: &str, address: Option<IpAddr>) -> Self {
        // Bounded, so that made-up names cannot make large rows.
        let name: String = user.chars().take(100).collect();
        Self {
            account: account_key(&name),
            address: address.map(address_key),
        }
    }

    fn all(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.account).chain(self.address.as_ref())
    }
}

fn account_key(user: &str) -> String {
    format!("account:{user}")
}

/// An IPv4 address as is; an IPv6 address by its /64 (one host usually has a whole /64).
fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("address:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("address:{v4}"),
            None => {
                let s = v6.segments();
                format!("address:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The latest end of a lock on any of `keys` still in force at `now`.
pub fn locked_until(
    store: &(impl ThrottleStore + ?Sized),
    keys: &Keys,
    now: i64,
) -> StoreResult<Option<i64>> {
    if !limits().enabled {
        return Ok(None);
    }
    let mut latest = None;
    for key in keys.all() {
        latest = latest.max(store.locked_until(key, now)?);
    }
    Ok(latest)
}

/// Counts a failed sign-in against every key; a key reaching its limit is locked.
pub fn record_failure(
    store: &(impl ThrottleStore + ?Sized),
    keys: &Keys,
    now: i64,
) -> StoreResult<()> {
    let limits = limits();
    if !limits.enabled {
        return Ok(());
    }
    let counted = [
        Some((&keys.account, limits.account_failures)),
        keys.address.as_ref().map(|a| (a, limits.address_failures)),
    ];
    for (key, limit) in counted.into_iter().flatten() {
        // A window older than `window_secs` starts again at this failure.
        let locked = store.count_failure(key, now, limits.window_secs, limits.lock_secs, limit)?;
        if locked {
            tracing::warn!(key = %key, minutes = limits.lock_secs / 60, "sign-in locked after repeated failures");
        }
    }
    // Now and then, forget counters whose window and lock are over.
    if now % 16 == 0 {
        store.forget_expired(now - limits.window_secs, now)?;
    }
    Ok(())
}

/// A successful sign-in clears the account's counter (not the address's).
pub fn record_success(store: &(impl ThrottleStore + ?Sized), keys: &Keys) -> StoreResult<()> {
    store.clear(&keys.account)?;
    Ok(())
}

/// An account whose sign-in is locked, or that had failures in the current window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountThrottle {
    pub user_id: String,
    pub failures: i64,
    /// 0 when not locked.
    pub locked_until: i64,
}

/// Accounts locked at `now`, or with failures in the current window, of the given users.
pub fn accounts(
    store: &(impl ThrottleStore + ?Sized),
    now: i64,
    users: &[String],
) -> StoreResult<Vec<AccountThrottle>> {
    let window = limits().window_secs;
    let mut out = Vec::new();
    for user in users {
        let row = store.counter(&account_key(user), now, window)?;
        if let Some((failures, locked_until)) = row {
            out.push(AccountThrottle {
                user_id: user.clone(),
                failures,
                locked_until: if locked_until > now { locked_until } else { 0 },
            });
        }
    }
    Ok(out)
}

/// Lifts the lock (and clears the failures) of `user`'s account; records who did it.
/// Returns whether there was anything to lift.
pub fn lift(
    store: &(impl ThrottleStore + ?Sized),
    user: &str,
    by: &str,
    now: i64,
) -> StoreResult<bool> {
    let removed = store.clear(&account_key(user))?;
    store.record_unlock(user, by, now)?;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_has_the_default_parameters_and_verifies_its_own_password() {
        let hash = PasswordHash::new(DUMMY_HASH).unwrap();
        let (params, default) = (Params::try_from(&hash).unwrap(), Params::default());
        let costs = |p: &Params| (p.m_cost(), p.t_cost(), p.p_cost());
        assert_eq!(costs(&params), costs(&default));
        let salt = argon2::password_hash::SaltString::from_b64("c2lnbi1pbi1kdW1teS1zYWx0").unwrap();
        let made = argon2::PasswordHasher::hash_password(
            &Argon2::default(),
            b"not a real password",
            &salt,
        )
        .unwrap()
        .to_string();
        assert_eq!(DUMMY_HASH, made);
        let mut memory = Vec::new();
        assert!(verify_with(&mut memory, b"not a real password", DUMMY_HASH));
        assert!(!verify_with(&mut memory, b"anything else", DUMMY_HASH));
    }

    #[test]
    fn reused_memory_verifies_like_the_library() {
        let hash = crate::auth::hash_password("demo-2026").unwrap();
        let mut memory = Vec::new();
        for _ in 0..2 {
            assert!(verify_with(&mut memory, b"demo-2026", &hash));
            assert!(!verify_with(&mut memory, b"demo-2027", &hash));
        }
        assert!(!verify_with(&mut memory, b"demo-2026", "not a hash"));
        assert_eq!(memory.len(), Params::default().block_count());
    }

    #[test]
    fn ipv6_addresses_are_keyed_by_their_64_bit_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_eq!(address_key(a), "address:2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:10.0.0.7".parse().unwrap();
        assert_eq!(address_key(mapped), "address:10.0.0.7");
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_rather_than_grown() {
        let pool = VerifyPool::new(1, 1).unwrap();
        let pool: &'static VerifyPool = Box::leak(Box::new(pool));
        let tasks: Vec<_> = (0..8)
            .map(|_| tokio::spawn(pool.verify("x".into(), None)))
            .collect();
        let mut busy = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(ok) => assert!(!ok),
                Err(ApiError::Busy(_)) => busy += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(busy >= 5, "{busy} of 8 refused");
    }
}
