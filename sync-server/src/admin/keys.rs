//! `admin rotate-key` and `admin key-history`: the server's case-file signing key.
//!
//! A rotation makes a new key for every case file exported from now on; the outgoing and the
//! new key both sign the change, and the history (`server-keys.json`: every public key with
//! its validity period) lets any verifier that trusts one of the keys trust the others and
//! check that a case file was signed while its key was valid (`casefile::keys`). A running
//! server picks the new key up at its next export (it reads the key from the database).

use super::{Target, open_database};
use crate::service::casefiles;
use crate::store::Transactions;
use anyhow::{Result, anyhow};

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Rotates the key; returns (old public key, new public key), hex.
pub fn rotate(server: &Target) -> Result<(String, String)> {
    let mut conn = open_database(server)?;
    let now = now_secs();
    let tx = conn.begin_immediate()?;
    let old = casefiles::server_key(&tx, now).map_err(|e| anyhow!("{e}"))?;
    let new = casefiles::rotate_key(&tx, now).map_err(|e| anyhow!("{e}"))?;
    tx.commit()?;
    Ok((
        app_core::evidence::hex(old.verifying_key().as_bytes()),
        app_core::evidence::hex(new.verifying_key().as_bytes()),
    ))
}

/// The key history as JSON (what `casefile verify --key-history` reads).
pub fn history(server: &Target) -> Result<String> {
    let conn = open_database(server)?;
    let h = casefiles::key_history(&conn, now_secs()).map_err(|e| anyhow!("{e}"))?;
    Ok(h.to_json())
}
