//! Sign-in, device registration and tokens.
//!
//! - Passwords are stored as Argon2id hashes (PHC strings with their own salt), checked on a
//!   small pool of threads with failed sign-ins throttled in the database (`signin.rs`).
//! - A token is 32 random bytes, given to the client in hex; the server keeps only its
//!   SHA-256, the user, the device it is bound to, an expiry and a revoked flag.
//! - A tablet registers its Ed25519 public key, proving it holds the private key by signing
//!   `register-device:<device id>:<user id>`. The key is kept for verifying case files signed
//!   on that device. Syncing needs a token bound to a registered device.

use crate::error::{ApiError, ApiResult, JsonBody};
use crate::service::devices::{self, RegisterError};
use crate::service::sessions::{self, SignedIn, token_hash};
use crate::signin;
use crate::state::AppState;
use app_core::ids::DeviceId;
use app_core::user::User;
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHasher};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use std::net::IpAddr;

pub fn hash_password(password: &str) -> crate::error::InternalResult<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| crate::internal!("no randomness: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| crate::internal!("{e}"))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| crate::internal!("{e}"))?
        .to_string())
}

/// 32 random bytes as unpadded base64url (43 characters: every request carries it).
pub(crate) fn new_token() -> crate::error::InternalResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| crate::internal!("no randomness: {e}"))?;
    Ok(base64url(&bytes))
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// The signed-in user behind a request, and the device its token is bound to.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub device: Option<DeviceId>,
    /// The device was revoked: only [`upload_allowed_when_revoked`] requests reach a handler.
    pub revoked: bool,
    token_hash: Vec<u8>,
}

/// What a revoked device (a lost tablet) may still do: upload what it holds — push its
/// records and cases (`POST /api/v1/sync`, `/api/v1/cases/sync`, answered without a pull), ask for and upload photo originals
/// — and sign out. Everything else (reference data, downloads, reads, document numbers, a
/// device registration) is refused with `device_revoked`; a route added later is refused too
/// unless it is listed here.
pub fn upload_allowed_when_revoked(method: &axum::http::Method, path: &str) -> bool {
    use axum::http::Method;
    let blob = path.strip_prefix("/api/v1/blobs/");
    match *method {
        Method::POST => {
            path == "/api/v1/sync"
                || path == app_core::wire::CASE_SYNC_PATH
                || path == "/api/v1/logout"
        }
        Method::PUT => blob.is_some_and(|rest| !rest.contains('/')),
        Method::GET | Method::HEAD => blob.is_some_and(|rest| {
            rest.strip_suffix("/status")
                .is_some_and(|s| !s.contains('/'))
        }),
        _ => false,
    }
}

impl Session {
    /// The registered device, required for syncing.
    pub fn device(&self) -> ApiResult<&DeviceId> {
        self.device
            .as_ref()
            .ok_or_else(|| ApiError::forbidden("register this device before syncing"))
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or(ApiError::Unauthorized)?
            .trim();
        let hash = token_hash(token);
        let (reference, lookup, now) = (state.reference.clone(), hash.clone(), state.now());
        let found = state
            .db
            .call(move |conn| -> ApiResult<_> {
                Ok(sessions::signed_in(conn, &reference, &lookup, now)?)
            })
            .await?;
        let SignedIn {
            user,
            device,
            revoked,
        } = found.ok_or(ApiError::Unauthorized)?;
        if revoked && !upload_allowed_when_revoked(&parts.method, parts.uri.path()) {
            return Err(ApiError::DeviceRevoked);
        }
        Ok(Session {
            user,
            device,
            revoked,
            token_hash: hash,
        })
    }
}

/// Sign-in and device registration messages (declared with the other HTTP messages in
/// app-core).
pub use app_core::wire::http::{LoginRequest, LoginResponse, RegisterDevice, registration_message};

/// `POST /api/v1/login`. The client address (for the per-address throttle) is known when the
/// server is served with `into_make_service_with_connect_info::<SocketAddr>()`.
pub async fn login(
    State(state): State<AppState>,
    signin::ClientAddress(address): signin::ClientAddress,
    JsonBody(req): JsonBody<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    Ok(Json(sign_in(&state, address, req).await?))
}

/// Checks a user name and password and issues a token, within the limits of `signin.rs`:
/// refused with 429 while the account or the address is locked, 503 when too many sign-ins
/// are waiting to be checked. The database is read, released, the password is checked on the
/// verifying pool, then the outcome is written.
pub async fn sign_in(
    state: &AppState,
    address: Option<IpAddr>,
    req: LoginRequest,
) -> ApiResult<LoginResponse> {
    let keys = signin::Keys::new(&req.user, address);
    let user = state.user(&req.user);
    let now = state.now();
    let (user_id, lookup) = (req.user.clone(), keys.clone());
    let (locked, stored) = state
        .db
        .read(move |conn| -> ApiResult<_> {
            Ok(sessions::before_check(conn, &lookup, &user_id, now)?)
        })
        .await?;
    if let Some(until) = locked {
        return Err(ApiError::TooManyAttempts {
            retry_after: until - now,
        });
    }
    // An unknown user is checked against a dummy hash: the same time as a wrong password.
    let stored = stored.filter(|_| user.is_some());
    let ok = if req.password.len() > signin::MAX_PASSWORD_BYTES {
        false
    } else {
        signin::pool()?.verify(req.password, stored).await?
    };
    let user = match user {
        Some(u) if ok => u,
        _ => {
            let now = state.now();
            let locked = state
                .db
                .write_grouped(move |conn| -> ApiResult<_> {
                    Ok(sessions::failed(conn, &keys, now)?)
                })
                .await?;
            tracing::info!(user = %req.user.chars().take(100).collect::<String>(), address = ?address, "sign-in failed");
            return Err(match locked {
                Some(until) => ApiError::TooManyAttempts {
                    retry_after: until - now,
                },
                None => ApiError::BadCredentials,
            });
        }
    };
    let token = new_token()?;
    let now = state.now();
    let expires_at = now + state.token_ttl_secs;
    let (user_id, hash) = (user.id.to_string(), token_hash(&token));
    state
        .db
        .write_grouped(move |conn| -> ApiResult<()> {
            // Locked while the password was being checked (by parallel guesses): refused like
            // a wrong one, so that a guess racing the lock learns nothing.
            sessions::succeeded(conn, &keys, &user_id, &hash, expires_at, now)?.map_err(|until| {
                ApiError::TooManyAttempts {
                    retry_after: until - now,
                }
            })
        })
        .await?;
    tracing::info!(user = %user.id, "signed in");
    Ok(LoginResponse {
        token,
        expires_at,
        user,
    })
}

impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::BadRequest { code, message } => ApiError::BadRequest(code, message),
            RegisterError::Taken(_) => ApiError::Conflict(e.to_string()),
            RegisterError::Revoked(_) => ApiError::DeviceRevoked,
            RegisterError::Store(e) => e.into(),
        }
    }
}

/// `POST /api/v1/devices` (see `service::devices`).
pub async fn register_device(
    State(state): State<AppState>,
    session: Session,
    JsonBody(req): JsonBody<RegisterDevice>,
) -> ApiResult<Json<serde_json::Value>> {
    let key = devices::check(session.user.id.as_str(), &req)?;
    let now = state.now();
    let user = session.user.id.to_string();
    let device = req.device_id.clone();
    let token = session.token_hash.clone();
    state
        .db
        .call(move |conn| -> ApiResult<()> {
            Ok(devices::register(conn, &user, &device, key, &token, now)?)
        })
        .await?;
    tracing::info!(user = %session.user.id, device = %req.device_id, "device registered");
    Ok(Json(serde_json::json!({ "device_id": req.device_id })))
}

/// Revokes the token the request carries.
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<Json<serde_json::Value>> {
    let hash = session.token_hash.clone();
    state
        .db
        .call(move |conn| -> ApiResult<()> { Ok(sessions::sign_out(conn, &hash)?) })
        .await?;
    Ok(Json(serde_json::json!({ "revoked": true })))
}

/// Creates accounts with `password` for every known user who has none (demo data).
pub fn seed_accounts(
    conn: &(impl crate::store::AccountStore + ?Sized),
    users: &[User],
    password: &str,
) -> crate::error::InternalResult<usize> {
    let mut created = 0;
    for user in users {
        if !conn.has_account(user.id.as_str())? {
            conn.create_account(user.id.as_str(), &hash_password(password)?)?;
            created += 1;
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::base64url;

    #[test]
    fn base64url_matches_rfc_4648_without_padding() {
        for (input, expected) in [
            (&b""[..], ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"foobar", "Zm9vYmFy"),
            (&[0xfb, 0xff, 0xbf], "-_-_"),
        ] {
            assert_eq!(base64url(input), expected);
        }
        assert_eq!(super::new_token().unwrap().len(), 43);
    }
}
