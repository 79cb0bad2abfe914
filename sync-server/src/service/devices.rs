//! Registering a tablet under the signed-in user: the device proves it holds the private key
//! of the Ed25519 public key it registers by signing [`registration_message`]; the key is kept
//! for verifying case files signed on that device, and the session's token is bound to the
//! device (syncing needs a token bound to a registered device).

use crate::store::devices::DeviceRow;
use crate::store::{AccountStore, Commit, DeviceStore, StoreError, Transactions};
use app_core::judge::SERVER_DEVICE;
use app_core::wire::http::{RegisterDevice, registration_message};

/// Why a device was not registered.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// A malformed request: `code` is `bad_device`, `bad_key` or `bad_signature`.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// The device id is registered with another key or user.
    #[error("device {0} is registered with another key or user")]
    Taken(String),
    /// The device was revoked (a lost tablet): no new session may be bound to it.
    #[error("device {0} was revoked")]
    Revoked(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn bad(code: &'static str, message: impl Into<String>) -> RegisterError {
    RegisterError::BadRequest {
        code,
        message: message.into(),
    }
}

fn unhex<const N: usize>(s: &str, what: &'static str) -> Result<[u8; N], RegisterError> {
    let err = || bad("bad_key", format!("{what} must be {N} bytes in hex"));
    if s.len() != N * 2 {
        return Err(err());
    }
    let mut out = [0u8; N];
    for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
        let text = std::str::from_utf8(chunk).map_err(|_| err())?;
        out[i] = u8::from_str_radix(text, 16).map_err(|_| err())?;
    }
    Ok(out)
}

/// Checks a registration by `user` (the id, the key, the signature) and returns the public
/// key's bytes. No storage involved.
pub fn check(user: &str, req: &RegisterDevice) -> Result<[u8; 32], RegisterError> {
    if req.device_id.trim().is_empty() || req.device_id.len() > 100 {
        return Err(bad("bad_device", "device id must be 1–100 characters"));
    }
    if req.device_id == SERVER_DEVICE || req.device_id.chars().any(|c| c.is_control()) {
        // The server writes under its own device name (console decisions); no tablet may
        // register it and so push changes under the server's Automerge actor.
        return Err(bad(
            "bad_device",
            "this device id is reserved or contains control characters",
        ));
    }
    let key_bytes: [u8; 32] = unhex(&req.public_key, "public_key")?;
    let sig_bytes: [u8; 64] = unhex(&req.signature, "signature")?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key_bytes)
        .map_err(|_| bad("bad_key", "public_key is not an Ed25519 key"))?;
    let signature = ed25519_dalek::Signature::from_bytes(&sig_bytes);
    key.verify_strict(
        registration_message(&req.device_id, user).as_bytes(),
        &signature,
    )
    .map_err(|_| {
        bad(
            "bad_signature",
            "the signature does not verify with public_key",
        )
    })?;
    Ok(key_bytes)
}

/// Registers `device` with `public_key` under `user` at `now` (unless it already is, with the
/// same key and user) and binds the session's token to it, in one transaction.
pub fn register<C>(
    conn: &mut C,
    user: &str,
    device: &str,
    public_key: [u8; 32],
    token_hash: &[u8],
    now: i64,
) -> Result<(), RegisterError>
where
    C: Transactions,
    for<'a> C::Tx<'a>: DeviceStore + AccountStore,
{
    let tx = conn.begin()?;
    if tx.revoked_at(device)?.is_some() {
        return Err(RegisterError::Revoked(device.to_owned()));
    }
    match tx.device(device)? {
        Some(existing) if existing.user != user || existing.public_key != public_key => {
            return Err(RegisterError::Taken(device.to_owned()));
        }
        Some(_) => {}
        None => tx.insert_device(
            &DeviceRow {
                id: device.to_owned(),
                user: user.to_owned(),
                public_key: public_key.to_vec(),
            },
            now,
        )?,
    }
    tx.bind_token(token_hash, device)?;
    tx.commit()?;
    Ok(())
}
