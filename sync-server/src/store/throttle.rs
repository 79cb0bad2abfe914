//! Sign-in throttling (`signin_throttle`: failed sign-ins per key — an account name or a
//! client address — in the current window, and locks) and who lifted which account's lock
//! (`signin_unlocks`). The policy (limits, keys, when to lock) is `crate::signin`'s.

use super::{Sqlite, StoreResult};
use rusqlite::{OptionalExtension, params};

/// Migration 6: sign-in throttle (policy in `crate::signin`): failed sign-ins per account name and per client
/// address in the current window, and locks; kept here so that every instance on this
/// database sees them. And who lifted which account's lock, when.
pub(crate) const MIGRATION_6: &str = "
    CREATE TABLE signin_throttle (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        window_start INTEGER NOT NULL,
        locked_until INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE TABLE signin_unlocks (
        user_id TEXT NOT NULL,
        lifted_by TEXT NOT NULL,
        lifted_at INTEGER NOT NULL
    );
";

/// Storage of sign-in counters and locks.
pub trait ThrottleStore {
    /// The end of `key`'s lock if it is still in force at `now`.
    fn locked_until(&self, key: &str, now: i64) -> StoreResult<Option<i64>>;
    /// Counts a failure of `key` at `now` (a window older than `window_secs` starts again at
    /// this failure) and locks it for `lock_secs` once it has `limit` failures; says whether
    /// it was locked now.
    fn count_failure(
        &self,
        key: &str,
        now: i64,
        window_secs: i64,
        lock_secs: i64,
        limit: i64,
    ) -> StoreResult<bool>;
    /// Forgets counters whose window started before `window_before` and whose lock is over
    /// at `now`.
    fn forget_expired(&self, window_before: i64, now: i64) -> StoreResult<()>;
    /// Clears `key`'s counter and lock; says whether there was one.
    fn clear(&self, key: &str) -> StoreResult<bool>;
    /// `key`'s (failures, locked until) if it is locked at `now` or had failures in the
    /// window of `window_secs` before it.
    fn counter(&self, key: &str, now: i64, window_secs: i64) -> StoreResult<Option<(i64, i64)>>;
    /// Records that `by` lifted `user`'s lock at `now`.
    fn record_unlock(&self, user: &str, by: &str, now: i64) -> StoreResult<()>;
}

impl<C: Sqlite> ThrottleStore for C {
    fn locked_until(&self, key: &str, now: i64) -> StoreResult<Option<i64>> {
        Ok(self
            .sqlite()
            .query_row(
                "SELECT locked_until FROM signin_throttle WHERE key = ?1 AND locked_until > ?2",
                params![key, now],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn count_failure(
        &self,
        key: &str,
        now: i64,
        window_secs: i64,
        lock_secs: i64,
        limit: i64,
    ) -> StoreResult<bool> {
        self.sqlite().execute(
            "INSERT INTO signin_throttle (key, failures, window_start, locked_until)
             VALUES (?1, 1, ?2, 0)
             ON CONFLICT (key) DO UPDATE SET
                failures = CASE WHEN window_start <= ?2 - ?3 THEN 1 ELSE failures + 1 END,
                window_start = CASE WHEN window_start <= ?2 - ?3 THEN ?2 ELSE window_start END",
            params![key, now, window_secs],
        )?;
        let locked = self.sqlite().execute(
            "UPDATE signin_throttle SET locked_until = ?2 + ?3, failures = 0, window_start = ?2
             WHERE key = ?1 AND failures >= ?4",
            params![key, now, lock_secs, limit],
        )?;
        Ok(locked > 0)
    }

    fn forget_expired(&self, window_before: i64, now: i64) -> StoreResult<()> {
        self.sqlite().execute(
            "DELETE FROM signin_throttle WHERE window_start <= ?1 AND locked_until <= ?2",
            params![window_before, now],
        )?;
        Ok(())
    }

    fn clear(&self, key: &str) -> StoreResult<bool> {
        Ok(self
            .sqlite()
            .execute("DELETE FROM signin_throttle WHERE key = ?1", [key])?
            > 0)
    }

    fn counter(&self, key: &str, now: i64, window_secs: i64) -> StoreResult<Option<(i64, i64)>> {
        Ok(self.sqlite()
            .prepare_cached(
                "SELECT failures, locked_until FROM signin_throttle
                 WHERE key = ?1 AND (locked_until > ?2 OR (failures > 0 AND window_start > ?2 - ?3))",
            )?
            .query_row(params![key, now, window_secs], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn record_unlock(&self, user: &str, by: &str, now: i64) -> StoreResult<()> {
        self.sqlite().execute(
            "INSERT INTO signin_unlocks (user_id, lifted_by, lifted_at) VALUES (?1, ?2, ?3)",
            params![user, by, now],
        )?;
        Ok(())
    }
}
