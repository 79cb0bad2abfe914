//! Signing in, in the three steps `auth::sign_in` runs around the password check (which runs
//! on the verifying pool of `crate::signin`, never while the database is held): read the
//! lock and the stored hash, then record a failure or issue the token. The throttling policy
//! is `crate::signin`'s.

use crate::signin::{self, Keys};
use crate::store::{AccountStore, StoreResult, ThrottleStore};

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
