//! The history of the server's case-file signing keys (`server_keys`): every public key the
//! server ever signed case files with, its validity period and the two signatures of the
//! rotation that brought it in (see `casefile::keys`). The current secret stays in
//! `server_key` (one row, `store::casefiles`), so everything that signs reads it as before;
//! retired secrets are not kept.

use super::{Sqlite, StoreResult};
use casefile::keys::{KEY_HISTORY_FORMAT, KeyEntry, KeyHistory};
use rusqlite::params;

/// The history table; a key made before it existed becomes its first entry.
pub(crate) const MIGRATION_KEYS: &str = "
    CREATE TABLE server_keys (
        n INTEGER PRIMARY KEY,
        public_key TEXT NOT NULL UNIQUE,
        valid_from INTEGER NOT NULL,
        valid_until INTEGER,
        endorsed_by_previous TEXT,
        endorses_previous TEXT
    );
";

/// Storage of the key history.
pub trait KeyHistoryStore {
    /// Every key, oldest first, as the published history.
    fn key_history(&self) -> StoreResult<KeyHistory>;
    /// Adds the first key (no-op if the history has one).
    fn start_key_history(&self, public_key: &str, valid_from: i64) -> StoreResult<()>;
    /// Ends the current key at `at` and adds `next`, with the rotation's signatures.
    fn add_rotation(&self, next: &KeyEntry) -> StoreResult<()>;
}

impl<C: Sqlite> KeyHistoryStore for C {
    fn key_history(&self) -> StoreResult<KeyHistory> {
        let keys = self
            .sqlite()
            .prepare_cached(
                "SELECT public_key, valid_from, valid_until, endorsed_by_previous, endorses_previous
                 FROM server_keys ORDER BY n",
            )?
            .query_map([], |r| {
                Ok(KeyEntry {
                    public_key: r.get(0)?,
                    valid_from: r.get(1)?,
                    valid_until: r.get(2)?,
                    endorsed_by_previous: r.get(3)?,
                    endorses_previous: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(KeyHistory {
            format: KEY_HISTORY_FORMAT.into(),
            keys,
        })
    }

    fn start_key_history(&self, public_key: &str, valid_from: i64) -> StoreResult<()> {
        self.sqlite().execute(
            "INSERT INTO server_keys (public_key, valid_from)
             SELECT ?1, ?2 WHERE NOT EXISTS (SELECT 1 FROM server_keys)",
            params![public_key, valid_from],
        )?;
        Ok(())
    }

    fn add_rotation(&self, next: &KeyEntry) -> StoreResult<()> {
        self.sqlite().execute(
            "UPDATE server_keys SET valid_until = ?1 WHERE valid_until IS NULL",
            [next.valid_from],
        )?;
        self.sqlite().execute(
            "INSERT INTO server_keys (public_key, valid_from, endorsed_by_previous, endorses_previous)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                next.public_key,
                next.valid_from,
                next.endorsed_by_previous,
                next.endorses_previous
            ],
        )?;
        Ok(())
    }
}
