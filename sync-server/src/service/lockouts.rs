//! Sign-in locks in the console: a supervisor sees the accounts of the units they oversee that
//! are locked after failed sign-ins (or have failures in the current window) and lifts a
//! lock. Anyone else, and any account outside those units, is "not found". The throttling
//! policy (limits, keys, when to lock) is `crate::signin`'s.

use crate::reference::ReferenceData;
use crate::signin::{self, AccountThrottle};
use crate::store::{StoreError, ThrottleStore};
use app_core::user::{Role, User};

/// Why a lock list or a lift was refused.
#[derive(Debug, thiserror::Error)]
pub enum LockoutError {
    /// Not a supervisor, or an account outside the units they oversee (not told apart).
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The accounts of the units `viewer` oversees (a supervisor's subtree); none for anyone else.
pub fn overseen_accounts(reference: &ReferenceData, viewer: &User) -> Vec<User> {
    if !matches!(viewer.role, Role::Supervisor) {
        return Vec::new();
    }
    reference
        .users
        .iter()
        .filter(|u| reference.units.is_in_subtree(&u.unit, &viewer.unit))
        .cloned()
        .collect()
}

/// The overseen accounts and, of those, the ones locked or with failures at `now`.
#[derive(Debug, Clone)]
pub struct Lockouts {
    pub accounts: Vec<User>,
    pub throttled: Vec<AccountThrottle>,
}

impl Lockouts {
    /// The name of overseen account `id` (empty if it is not one).
    pub fn name(&self, id: &str) -> String {
        self.account(id).map(|u| u.name.clone()).unwrap_or_default()
    }

    /// Overseen account `id`.
    pub fn account(&self, id: &str) -> Option<&User> {
        self.accounts.iter().find(|u| u.id.as_str() == id)
    }
}

/// What `viewer` sees on the lockouts page at `now`.
pub fn lockouts<S: ThrottleStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    viewer: &User,
    now: i64,
) -> Result<Lockouts, LockoutError> {
    if !matches!(viewer.role, Role::Supervisor) {
        return Err(LockoutError::NotFound);
    }
    let accounts = overseen_accounts(reference, viewer);
    let ids: Vec<String> = accounts.iter().map(|u| u.id.to_string()).collect();
    let throttled = signin::accounts(store, now, &ids)?;
    Ok(Lockouts {
        accounts,
        throttled,
    })
}

/// `viewer` lifts the sign-in lock (and clears the failures) of account `target` at `now`;
/// recorded with who did it. Returns the account and whether there was anything to lift.
pub fn lift<S: ThrottleStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    viewer: &User,
    target: &str,
    now: i64,
) -> Result<(User, bool), LockoutError> {
    let account = overseen_accounts(reference, viewer)
        .into_iter()
        .find(|u| u.id.as_str() == target)
        .ok_or(LockoutError::NotFound)?;
    let lifted = signin::lift(store, account.id.as_str(), viewer.id.as_str(), now)?;
    Ok((account, lifted))
}
