//! `admin rotate-key` and `admin key-history`: the server's case-file signing key.
//!
//! A rotation makes a new key for every case file exported from now on; the outgoing and the
//! new key both sign the change, and the history (`server-keys.json`: every public key with
//! its validity period) lets any verifier that trusts one of the keys trust the others and
//! check that a case file was signed while its key was valid (`casefile::keys`). A running
//! server picks the new key up at its next export (it reads the key from the database).

use crate::service::casefiles;
use crate::store::engine::Engine;
use anyhow::{Result, anyhow};
use rusqlite::Connection;
use std::path::Path;

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn open(data: &Path) -> Result<Connection> {
    let path = data.join(super::backup::DATABASE);
    if !path.exists() {
        anyhow::bail!("no database at {}", path.display());
    }
    let conn = Connection::open_writer(&path).map_err(|e| anyhow!("{e}"))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(conn)
}

/// Rotates the key; returns (old public key, new public key), hex.
pub fn rotate(data: &Path) -> Result<(String, String)> {
    let mut conn = open(data)?;
    let now = now_secs();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let old = casefiles::server_key(&*tx, now).map_err(|e| anyhow!("{e}"))?;
    let new = casefiles::rotate_key(&*tx, now).map_err(|e| anyhow!("{e}"))?;
    tx.commit()?;
    Ok((
        app_core::evidence::hex(old.verifying_key().as_bytes()),
        app_core::evidence::hex(new.verifying_key().as_bytes()),
    ))
}

/// The key history as JSON (what `casefile verify --key-history` reads).
pub fn history(data: &Path) -> Result<String> {
    let conn = open(data)?;
    let h = casefiles::key_history(&conn, now_secs()).map_err(|e| anyhow!("{e}"))?;
    Ok(h.to_json())
}
