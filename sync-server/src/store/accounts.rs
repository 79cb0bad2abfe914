//! Accounts and sessions: password hashes (`accounts`) and bearer tokens (`tokens`: the
//! token's SHA-256, the user, the device it is bound to, expiry, revoked flag). The token
//! itself is never stored. Sign-in throttling (`signin_throttle`) is in `crate::signin`.

use super::{Sqlite, StoreResult};
use rusqlite::{OptionalExtension, params};

/// Migration 1 (with `devices`, the records' tables and `blobs`): accounts and
/// bearer tokens.
pub(crate) const MIGRATION_1: &str = "
    CREATE TABLE accounts (
        user_id TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL
    );
    CREATE TABLE tokens (
        token_hash BLOB PRIMARY KEY,
        user_id TEXT NOT NULL,
        device_id TEXT,
        expires_at INTEGER NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    );
";

/// A live token: whose it is and the device it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    pub user: String,
    pub device: Option<String>,
}

/// Storage of accounts and tokens.
pub trait AccountStore {
    /// The stored Argon2 hash (PHC string) of `user`'s password.
    fn password_hash(&self, user: &str) -> StoreResult<Option<String>>;
    /// Creates an account (`user` must have none).
    fn create_account(&self, user: &str, password_hash: &str) -> StoreResult<()>;
    /// Whether `user` has an account.
    fn has_account(&self, user: &str) -> StoreResult<bool>;
    /// Stores a new token (by its hash), not yet bound to a device.
    fn insert_token(&self, token_hash: &[u8], user: &str, expires_at: i64) -> StoreResult<()>;
    /// The owner of a token that is neither revoked nor expired at `now`.
    fn token_owner(&self, token_hash: &[u8], now: i64) -> StoreResult<Option<TokenOwner>>;
    /// Binds a token to a registered device.
    fn bind_token(&self, token_hash: &[u8], device: &str) -> StoreResult<()>;
    /// Revokes a token.
    fn revoke_token(&self, token_hash: &[u8]) -> StoreResult<()>;
    /// Sets `user`'s password hash (creating the account if it has none).
    fn set_password_hash(&self, user: &str, password_hash: &str) -> StoreResult<()>;
}

impl<C: Sqlite> AccountStore for C {
    fn password_hash(&self, user: &str) -> StoreResult<Option<String>> {
        Ok(self
            .sqlite()
            .query_row(
                "SELECT password_hash FROM accounts WHERE user_id = ?1",
                [user],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn create_account(&self, user: &str, password_hash: &str) -> StoreResult<()> {
        self.sqlite().execute(
            "INSERT INTO accounts (user_id, password_hash) VALUES (?1, ?2)",
            params![user, password_hash],
        )?;
        Ok(())
    }

    fn has_account(&self, user: &str) -> StoreResult<bool> {
        let exists: Option<i64> = self
            .sqlite()
            .query_row("SELECT 1 FROM accounts WHERE user_id = ?1", [user], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(exists.is_some())
    }

    fn insert_token(&self, token_hash: &[u8], user: &str, expires_at: i64) -> StoreResult<()> {
        self.sqlite().execute(
            "INSERT INTO tokens (token_hash, user_id, device_id, expires_at) VALUES (?1, ?2, NULL, ?3)",
            params![token_hash, user, expires_at],
        )?;
        Ok(())
    }

    fn token_owner(&self, token_hash: &[u8], now: i64) -> StoreResult<Option<TokenOwner>> {
        Ok(self
            .sqlite()
            .query_row(
                "SELECT user_id, device_id FROM tokens
                 WHERE token_hash = ?1 AND revoked = 0 AND expires_at > ?2",
                params![token_hash, now],
                |r| {
                    Ok(TokenOwner {
                        user: r.get(0)?,
                        device: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    fn bind_token(&self, token_hash: &[u8], device: &str) -> StoreResult<()> {
        self.sqlite().execute(
            "UPDATE tokens SET device_id = ?1 WHERE token_hash = ?2",
            params![device, token_hash],
        )?;
        Ok(())
    }

    fn revoke_token(&self, token_hash: &[u8]) -> StoreResult<()> {
        self.sqlite().execute(
            "UPDATE tokens SET revoked = 1 WHERE token_hash = ?1",
            [token_hash],
        )?;
        Ok(())
    }

    fn set_password_hash(&self, user: &str, password_hash: &str) -> StoreResult<()> {
        self.sqlite().execute(
            "INSERT INTO accounts (user_id, password_hash) VALUES (?1, ?2)
             ON CONFLICT (user_id) DO UPDATE SET password_hash = ?2",
            params![user, password_hash],
        )?;
        Ok(())
    }
}
