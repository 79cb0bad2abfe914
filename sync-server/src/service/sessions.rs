//! Signing in, in the three steps `auth::sign_in` runs around the password check (which runs
//! on the verifying pool of `crate::signin`, never while the database is held): read the
//! lock and the stored hash, then record a failure or issue the token. The throttling policy
//! is `crate::signin`'s. Then who is behind a token (the API's and the console's sessions),
//! who may use the console, and signing out.

use crate::reference::ReferenceData;
use crate::service::index;
use crate::signin::{self, Keys};
use crate::store::{
    AccountStore, ConsoleIndex, DeviceStore, RecordStore, StoreError, StoreResult, ThrottleStore,
    Transactions,
};
use app_core::ids::DeviceId;
use app_core::user::{Role, User};
use sha2::{Digest, Sha256};

/// Before the check: the end of a lock on the account or address still in force at `now`,
/// and the stored password hash of `user` (if any).
pub fn before_check<S: ThrottleStore + AccountStore + ?Sized>(
    store: &S,
    keys: &Keys,
    user: &str,
    now: i64,
) -> StoreResult<(Option<i64>, Option<String>)> {
    let locked = signin::locked_until(store, keys, now)?;
    let stored = store.password_hash(user)?;
    Ok((locked, stored))
}

/// After a failed check: counts it, and says until when the account or address is locked now
/// (if it is).
pub fn failed<S: ThrottleStore + ?Sized>(
    store: &S,
    keys: &Keys,
    now: i64,
) -> StoreResult<Option<i64>> {
    signin::record_failure(store, keys, now)?;
    signin::locked_until(store, keys, now)
}

/// After a successful check: stores the new token (by its hash) for `user` until
/// `expires_at` and clears the account's failures — unless a lock came into force while the
/// password was being checked (by parallel guesses): then nothing is stored and the lock's end
/// is returned, so that a guess racing the lock learns nothing.
pub fn succeeded<S: ThrottleStore + AccountStore + ?Sized>(
    store: &S,
    keys: &Keys,
    user: &str,
    token_hash: &[u8],
    expires_at: i64,
    now: i64,
) -> StoreResult<Result<(), i64>> {
    if let Some(until) = signin::locked_until(store, keys, now)? {
        return Ok(Err(until));
    }
    signin::record_success(store, keys)?;
    store.insert_token(token_hash, user, expires_at)?;
    Ok(Ok(()))
}

/// The form in which a bearer token is stored and looked up (its SHA-256): the token itself
/// is never stored.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Who is behind a token: the user and the device the token is bound to.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub device: Option<DeviceId>,
    /// The device was revoked (a lost tablet): it may only upload what it still holds.
    pub revoked: bool,
}

/// The user behind the token with hash `token_hash` at `now`; `None` when the token is
/// unknown, revoked or expired, or its user is no longer in the reference data.
pub fn signed_in<S: AccountStore + DeviceStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    token_hash: &[u8],
    now: i64,
) -> StoreResult<Option<SignedIn>> {
    let Some(owner) = store.token_owner(token_hash, now)? else {
        return Ok(None);
    };
    let Some(user) = reference.user(&owner.user) else {
        return Ok(None);
    };
    let revoked = match &owner.device {
        Some(d) => {
            store.touch_device(d, now)?;
            store.revoked_at(d)?.is_some()
        }
        None => false,
    };
    Ok(Some(SignedIn {
        user,
        device: owner.device.map(DeviceId::new),
        revoked,
    }))
}

/// Why a console session is refused.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleAccess {
    /// No valid session.
    #[error("sign in first")]
    SignIn,
    /// An inspector (or anyone without console access).
    #[error("the console is for supervisors and admins")]
    NotForRole,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether `user` may use the supervisors' console (supervisors and admins).
pub fn may_use_console(user: &User) -> bool {
    matches!(user.role, Role::Supervisor | Role::Admin)
}

/// The console user behind the token with hash `token_hash` at `now`. Records stored before
/// the console's index existed are indexed first, once (`service::index::backfill`).
pub fn console_user<C>(
    conn: &mut C,
    reference: &ReferenceData,
    token_hash: &[u8],
    now: i64,
) -> Result<User, ConsoleAccess>
where
    C: Transactions + ConsoleIndex + AccountStore + DeviceStore,
    for<'a> C::Tx<'a>: RecordStore + ConsoleIndex,
{
    index::backfill(conn)?;
    // A token bound to a revoked device (a lost tablet) never opens the console.
    let user = signed_in(conn, reference, token_hash, now)?
        .filter(|s| !s.revoked)
        .ok_or(ConsoleAccess::SignIn)?
        .user;
    if may_use_console(&user) {
        Ok(user)
    } else {
        Err(ConsoleAccess::NotForRole)
    }
}

/// After a console sign-in as `user` with the token of hash `token_hash`: someone who may not
/// use the console is refused, and the token just issued is revoked at once.
pub fn keep_console_session<S: AccountStore + ?Sized>(
    store: &S,
    user: &User,
    token_hash: &[u8],
) -> Result<(), ConsoleAccess> {
    if may_use_console(user) {
        return Ok(());
    }
    store.revoke_token(token_hash)?;
    Err(ConsoleAccess::NotForRole)
}

/// Signs out: revokes the token with hash `token_hash`.
pub fn sign_out<S: AccountStore + ?Sized>(store: &S, token_hash: &[u8]) -> StoreResult<()> {
    store.revoke_token(token_hash)
}
