//! The app's own small tables beside the store: drafts of forms not yet committed as a
//! record command (hazard form, arrival position, on-site person, re-inspection), so that
//! nothing typed is lost if the app is closed or killed; and the metadata of photos taken
//! before the command that links them (entrance photo, re-inspection photos).
//!
//! The table is created with `CREATE TABLE IF NOT EXISTS` when the app opens the store; it
//! is not part of the store's schema migrations (other tools never read it).

use crate::photo::IngestedPhoto;
use crate::store::{Store, StoreError};
use rusqlite::{OptionalExtension, params};

/// Creates the drafts table if it is missing.
pub fn init(store: &Store) -> Result<(), StoreError> {
    store.connection().execute_batch(
        "CREATE TABLE IF NOT EXISTS app_drafts (
             key TEXT PRIMARY KEY,
             value TEXT NOT NULL,
             saved_at INTEGER NOT NULL DEFAULT (strftime('%s','now'))
         );",
    )?;
    Ok(())
}

/// The saved draft under `key`, if any.
pub fn get(store: &Store, key: &str) -> Result<Option<String>, StoreError> {
    Ok(store
        .connection()
        .query_row("SELECT value FROM app_drafts WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Saves (replaces) the draft under `key`; durable when this returns (the store's
/// connection commits with `synchronous = FULL`).
pub fn put(store: &Store, key: &str, value: &str) -> Result<(), StoreError> {
    store.connection().execute(
        "INSERT INTO app_drafts (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = ?2, saved_at = strftime('%s','now')",
        params![key, value],
    )?;
    Ok(())
}

/// Drops the draft under `key` (its form was committed).
pub fn delete(store: &Store, key: &str) -> Result<(), StoreError> {
    store
        .connection()
        .execute("DELETE FROM app_drafts WHERE key = ?1", [key])?;
    Ok(())
}

/// Keeps the metadata (EXIF, copies) of a photo ingested before a command links it, so its
/// thumbnail can be shown and its EXIF read like any linked photo's.
pub fn record_loose_photo(store: &Store, photo: &IngestedPhoto) -> Result<(), StoreError> {
    crate::store::photos::insert_photo(store.connection(), photo, crate::app::now())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_survive_reopening_and_are_replaced_then_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let store = Store::open(&path).unwrap();
            init(&store).unwrap();
            put(&store, "hazard:x", "{\"measures\":\"加装防护罩\"}").unwrap();
            put(&store, "hazard:x", "{\"measures\":\"加装防护罩并培训\"}").unwrap();
        }
        let store = Store::open(&path).unwrap();
        init(&store).unwrap();
        assert_eq!(
            get(&store, "hazard:x").unwrap().as_deref(),
            Some("{\"measures\":\"加装防护罩并培训\"}")
        );
        delete(&store, "hazard:x").unwrap();
        assert_eq!(get(&store, "hazard:x").unwrap(), None);
    }
}
