//! Photo originals as content-addressed blobs, uploaded in resumable chunks.
//!
//! - `PUT /api/v1/blobs/{sha256}?offset=N&total=T` (`application/octet-stream`) appends one
//!   chunk to `<blobs>/partial/<sha256>`, but only if `N` is exactly the number of bytes
//!   already received; otherwise 409 with `received`, so the client resumes from there. A
//!   chunk is appended whole or not at all (a cut connection loses at most that chunk), and
//!   is fsync'd before it is acknowledged. When `received == T` the whole file is hashed
//!   again: if it is the named SHA-256 it is fsync'd, renamed atomically to
//!   `<blobs>/<2 hex>/<64 hex>`, both folders are fsync'd and a row is committed in `blobs`;
//!   only then is the upload acknowledged (201). Otherwise the partial file is deleted and
//!   the answer is 422 `hash_mismatch`. A blob the server holds answers 200 at once.
//! - `GET /api/v1/blobs/{sha256}/status` → `{ "held": bool, "received": n }`.
//! - `GET /api/v1/blobs/{sha256}` → the bytes, for a user who may read a record referring
//!   to the photo (app-core's `can_read_record`) or who uploaded it; 404 otherwise, exactly
//!   like a blob that does not exist.
//!
//! "Held" means a `blobs` row exists. The row is written only after the file and its folder
//! are durable, so a row always has its file; a file without a row (a crash between the
//! rename and the commit) is not "held", and the next upload of it replaces the file with the
//! same bytes and writes the row.
//!
//! Concurrent requests for one digest (two tablets, or a retry while a cut request is still
//! being read) are serialised by a lock taken only around the file operations, never while
//! a body is read from the network; each write re-checks the received length under it.

use crate::auth::Session;
use crate::error::ApiError;
use crate::state::AppState;
use app_core::access::{RecordScope, can_read_record};
use app_core::evidence::Sha256Hex;
use app_core::ids::{UnitId, UserId};
use app_core::user::User;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The largest blob accepted (`total`); larger ones get 413.
pub const MAX_BLOB_BYTES: u64 = 64 * 1024 * 1024;

/// The largest body of one `PUT` (one chunk); larger ones get 413. Clients send far less
/// (the tablet sends 256 KiB), so an interruption costs little.
pub const MAX_CHUNK_BYTES: usize = 8 * 1024 * 1024;

pub const OCTET_STREAM: &str = "application/octet-stream";

/// Folder (under the blob root) of uploads in progress.
const PARTIAL: &str = "partial";

/// Read size when hashing a completed upload.
const HASH_CHUNK: usize = 256 * 1024;

/// What the status endpoint and every accepted `PUT` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobStatus {
    /// The server holds the whole, verified blob.
    pub held: bool,
    /// Bytes received: the blob's size if held, else the length of the partial upload.
    pub received: u64,
}

/// Errors of the blob endpoints: the common API errors plus the ones that carry more.
#[derive(Debug)]
enum BlobError {
    Api(ApiError),
    /// 409: the client's offset is not what the server has; resume from `received`.
    Offset {
        offset: u64,
        received: u64,
    },
    /// 413.
    TooLarge(String),
    /// 422: the complete upload does not hash to its name.
    HashMismatch {
        expected: String,
        found: String,
    },
}

impl From<ApiError> for BlobError {
    fn from(e: ApiError) -> Self {
        BlobError::Api(e)
    }
}

impl From<rusqlite::Error> for BlobError {
    fn from(e: rusqlite::Error) -> Self {
        BlobError::Api(e.into())
    }
}

impl From<anyhow::Error> for BlobError {
    fn from(e: anyhow::Error) -> Self {
        BlobError::Api(ApiError::Internal(e))
    }
}

fn io_error(action: &str, path: &Path, e: io::Error) -> BlobError {
    BlobError::Api(ApiError::Internal(anyhow::anyhow!(
        "could not {action} {}: {e}",
        path.display()
    )))
}

#[derive(Serialize)]
struct ErrorBody {
    error: ErrorInner,
    #[serde(skip_serializing_if = "Option::is_none")]
    received: Option<u64>,
}

#[derive(Serialize)]
struct ErrorInner {
    code: &'static str,
    message: String,
}

impl IntoResponse for BlobError {
    fn into_response(self) -> Response {
        let (status, code, message, received) = match self {
            BlobError::Api(e) => return e.into_response(),
            BlobError::Offset { offset, received } => (
                StatusCode::CONFLICT,
                "offset_mismatch",
                format!(
                    "offset {offset} does not match the {received} bytes received; resume from {received}"
                ),
                Some(received),
            ),
            BlobError::TooLarge(message) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "too_large", message, None)
            }
            BlobError::HashMismatch { expected, found } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "hash_mismatch",
                format!("the uploaded bytes hash to {found}, not {expected}; nothing was stored"),
                None,
            ),
        };
        let body = ErrorBody {
            error: ErrorInner { code, message },
            received,
        };
        (status, Json(body)).into_response()
    }
}

type BlobResult<T> = Result<T, BlobError>;

fn parse_sha(raw: &str) -> BlobResult<Sha256Hex> {
    Sha256Hex::parse(raw).map_err(|_| {
        ApiError::BadRequest(
            "bad_digest",
            "a blob is named by its SHA-256: 64 lower-case hex characters".into(),
        )
        .into()
    })
}

fn final_path(root: &Path, sha: &Sha256Hex) -> PathBuf {
    let hex = sha.as_str();
    root.join(&hex[..2]).join(hex)
}

fn partial_path(root: &Path, sha: &Sha256Hex) -> PathBuf {
    root.join(PARTIAL).join(sha.as_str())
}

/// Striped locks for the file operations of one digest. They are taken only on blocking
/// threads and never across network I/O.
static STRIPES: [Mutex<()>; 64] = [const { Mutex::new(()) }; 64];

fn lock_for(sha: &Sha256Hex) -> MutexGuard<'static, ()> {
    let n = usize::from_str_radix(&sha.as_str()[..2], 16).unwrap_or(0);
    // The lock guards no data: a panic while holding it leaves nothing to repair.
    STRIPES[n % STRIPES.len()]
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// Makes a folder's entries durable (Unix); elsewhere the rename is still atomic.
fn sync_dir(dir: &Path) -> BlobResult<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("sync the folder", dir, e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Creates `dir` (and makes its name durable in its parent) if missing.
fn ensure_dir(dir: &Path) -> BlobResult<()> {
    if dir.is_dir() {
        return Ok(());
    }
    match fs::create_dir_all(dir) {
        Ok(()) => sync_dir(dir.parent().unwrap_or(dir)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_error("create the folder", dir, e)),
    }
}

fn partial_len(path: &Path) -> BlobResult<u64> {
    match fs::metadata(path) {
        Ok(m) => Ok(m.len()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(io_error("read the size of", path, e)),
    }
}

fn held_size(conn: &Connection, sha: &str) -> rusqlite::Result<Option<u64>> {
    conn.query_row("SELECT size FROM blobs WHERE sha256 = ?1", [sha], |r| {
        r.get::<_, i64>(0)
    })
    .optional()
    .map(|s| s.map(|s| s as u64))
}

async fn held(state: &AppState, sha: &Sha256Hex) -> BlobResult<Option<u64>> {
    let key = sha.as_str().to_owned();
    state
        .db
        .call(move |conn| -> BlobResult<_> { Ok(held_size(conn, &key)?) })
        .await
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> BlobResult<T> + Send + 'static,
) -> BlobResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| BlobError::from(anyhow::anyhow!("blob task failed: {e}")))?
}

/// What appending one chunk led to.
enum Appended {
    /// More bytes are expected; this many are received.
    Partial(u64),
    /// The blob is complete, verified and in place.
    Complete,
}

/// Appends `body` at `offset` and, if that completes the blob, verifies and installs it.
/// Runs on a blocking thread under the digest's lock.
fn append_chunk(
    root: &Path,
    sha: &Sha256Hex,
    offset: u64,
    total: u64,
    body: &[u8],
) -> BlobResult<Appended> {
    let _guard = lock_for(sha);
    let partial = partial_path(root, sha);
    ensure_dir(partial.parent().unwrap_or(root))?;
    let received = partial_len(&partial)?;
    if received != offset {
        return Err(BlobError::Offset { offset, received });
    }
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&partial)
        .map_err(|e| io_error("open", &partial, e))?;
    if !body.is_empty() {
        let written = file.write_all(body).and_then(|()| file.sync_data());
        if let Err(e) = written {
            // Leave exactly the bytes acknowledged before: a torn append must not count.
            let _ = file.set_len(offset);
            return Err(io_error("append to", &partial, e));
        }
    }
    let received = offset + body.len() as u64;
    if received < total {
        return Ok(Appended::Partial(received));
    }
    drop(file);
    install(root, sha, &partial)?;
    Ok(Appended::Complete)
}

/// Verifies a complete partial file and renames it into place, durably. On a mismatch the
/// partial file is deleted.
fn install(root: &Path, sha: &Sha256Hex, partial: &Path) -> BlobResult<()> {
    let mut file = File::open(partial).map_err(|e| io_error("open", partial, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; HASH_CHUNK];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error("read", partial, e)),
        }
    }
    let found = Sha256Hex::from_digest(&hasher.finalize());
    let partial_dir = partial.parent().unwrap_or(root);
    if &found != sha {
        fs::remove_file(partial).map_err(|e| io_error("remove", partial, e))?;
        sync_dir(partial_dir)?;
        return Err(BlobError::HashMismatch {
            expected: sha.to_string(),
            found: found.to_string(),
        });
    }
    file.sync_all().map_err(|e| io_error("sync", partial, e))?;
    drop(file);
    let target = final_path(root, sha);
    let shard = target.parent().unwrap_or(root);
    ensure_dir(shard)?;
    fs::rename(partial, &target).map_err(|e| io_error("rename", partial, e))?;
    sync_dir(shard)?;
    sync_dir(partial_dir)?;
    Ok(())
}

fn query_u64(query: &HashMap<String, String>, name: &str) -> BlobResult<u64> {
    query
        .get(name)
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::BadRequest(
                "bad_range",
                format!("query parameter {name} must be a non-negative integer"),
            )
            .into()
        })
}

/// `PUT /api/v1/blobs/{sha256}?offset=N&total=T`: one chunk of an upload.
pub async fn put_blob(
    State(state): State<AppState>,
    session: Session,
    UrlPath(raw_sha): UrlPath<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    put_inner(state, session, raw_sha, query, headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn put_inner(
    state: AppState,
    session: Session,
    raw_sha: String,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Body,
) -> BlobResult<Response> {
    let device = session.device()?.clone();
    crate::sync::require_content_type(&headers, OCTET_STREAM)?;
    let sha = parse_sha(&raw_sha)?;
    let offset = query_u64(&query, "offset")?;
    let total = query_u64(&query, "total")?;
    if total > MAX_BLOB_BYTES {
        return Err(BlobError::TooLarge(format!(
            "a blob may have at most {MAX_BLOB_BYTES} bytes; this one has {total}"
        )));
    }
    if offset > total {
        return Err(ApiError::BadRequest(
            "bad_range",
            format!("offset {offset} is past the total {total}"),
        )
        .into());
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared {
        if len > MAX_CHUNK_BYTES as u64 {
            return Err(BlobError::TooLarge(format!(
                "one request may carry at most {MAX_CHUNK_BYTES} bytes; send smaller chunks"
            )));
        }
        if offset + len > total {
            return Err(beyond_total(offset, len, total));
        }
    }
    if let Some(size) = held(&state, &sha).await? {
        tracing::debug!(user = %session.user.id, sha256 = %sha, "blob already held");
        return Ok(status_response(
            StatusCode::OK,
            BlobStatus {
                held: true,
                received: size,
            },
        ));
    }
    // Refuse a wrong offset before reading the body (it would be thrown away).
    let received = {
        let path = partial_path(&state.blobs, &sha);
        blocking(move || partial_len(&path)).await?
    };
    if received != offset {
        tracing::info!(user = %session.user.id, sha256 = %sha, offset, received, "blob offset mismatch");
        return Err(BlobError::Offset { offset, received });
    }
    let bytes = match axum::body::to_bytes(body, MAX_CHUNK_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            // The client went away mid-chunk (or sent too much): nothing of it is kept.
            tracing::info!(user = %session.user.id, sha256 = %sha, offset, error = %e, "blob chunk not received whole");
            return Err(ApiError::BadRequest(
                "incomplete_body",
                format!("the chunk was not received whole: {e}"),
            )
            .into());
        }
    };
    let len = bytes.len() as u64;
    if offset + len > total {
        return Err(beyond_total(offset, len, total));
    }
    let outcome = {
        let (root, sha) = (state.blobs.clone(), sha.clone());
        blocking(move || append_chunk(&root, &sha, offset, total, &bytes)).await
    };
    match outcome {
        Ok(Appended::Partial(received)) => {
            tracing::debug!(user = %session.user.id, sha256 = %sha, received, total, "blob chunk stored");
            Ok(status_response(
                StatusCode::OK,
                BlobStatus {
                    held: false,
                    received,
                },
            ))
        }
        Ok(Appended::Complete) => {
            let (key, user) = (sha.to_string(), session.user.id.to_string());
            state
                .db
                .call(move |conn| -> BlobResult<()> {
                    conn.execute(
                        "INSERT OR IGNORE INTO blobs (sha256, size, uploaded_by) VALUES (?1, ?2, ?3)",
                        params![key, total as i64, user],
                    )?;
                    Ok(())
                })
                .await?;
            tracing::info!(user = %session.user.id, device = %device, sha256 = %sha, size = total, "blob stored");
            Ok(status_response(
                StatusCode::CREATED,
                BlobStatus {
                    held: true,
                    received: total,
                },
            ))
        }
        Err(BlobError::HashMismatch { expected, found }) => {
            tracing::warn!(user = %session.user.id, device = %device, sha256 = %expected, found = %found, "blob upload does not match its digest; discarded");
            Err(BlobError::HashMismatch { expected, found })
        }
        Err(e) => Err(e),
    }
}

fn beyond_total(offset: u64, len: u64, total: u64) -> BlobError {
    ApiError::BadRequest(
        "bad_range",
        format!("{len} bytes at offset {offset} go past the total {total}"),
    )
    .into()
}

fn status_response(code: StatusCode, status: BlobStatus) -> Response {
    (code, Json(status)).into_response()
}

/// `GET /api/v1/blobs/{sha256}/status`: whether the server holds the blob, and how much of
/// an unfinished upload it has.
pub async fn blob_status(
    State(state): State<AppState>,
    _session: Session,
    UrlPath(raw_sha): UrlPath<String>,
) -> Response {
    async {
        let sha = parse_sha(&raw_sha)?;
        if let Some(size) = held(&state, &sha).await? {
            return Ok(BlobStatus {
                held: true,
                received: size,
            });
        }
        let path = partial_path(&state.blobs, &sha);
        let received = blocking(move || partial_len(&path)).await?;
        Ok(BlobStatus {
            held: false,
            received,
        })
    }
    .await
    .map(|s| Json(s).into_response())
    .unwrap_or_else(|e: BlobError| e.into_response())
}

/// Whether `user` may fetch blob `sha`: the server holds it, and the user uploaded it or may
/// read at least one record that refers to it.
fn may_read_blob(
    conn: &Connection,
    reference: &crate::reference::ReferenceData,
    user: &User,
    sha: &str,
) -> rusqlite::Result<bool> {
    let uploader: Option<String> = conn
        .query_row(
            "SELECT uploaded_by FROM blobs WHERE sha256 = ?1",
            [sha],
            |r| r.get(0),
        )
        .optional()?;
    let Some(uploader) = uploader else {
        return Ok(false);
    };
    if uploader == user.id.as_str() {
        return Ok(true);
    }
    let docs: Vec<(String, String, Option<String>)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT d.id, d.unit, d.plan FROM photo_refs p JOIN docs d ON d.id = p.doc_id
             WHERE p.sha_key = ?1 AND p.sha256 = ?2",
        )?;
        stmt.query_map([crate::docstore::photo_key(sha), sha], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    let mut stmt = conn.prepare_cached("SELECT user_id FROM doc_inspectors WHERE doc_id = ?1")?;
    for (doc, unit, plan) in docs {
        let inspectors = stmt
            .query_map([&doc], |r| r.get::<_, String>(0))?
            .map(|r| r.map(UserId::new))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let assigned = match plan {
            Some(p) => crate::plans::find(conn, reference, &p)?
                .map(|p| p.assigned)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let scope = RecordScope {
            unit: UnitId::new(unit),
            inspectors,
            assigned,
        };
        if can_read_record(user, &scope, &reference.units) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `GET /api/v1/blobs/{sha256}`: the original's bytes, for users who may see it; 404 for
/// everyone else, exactly as for a blob that does not exist.
pub async fn get_blob(
    State(state): State<AppState>,
    session: Session,
    UrlPath(raw_sha): UrlPath<String>,
) -> Response {
    async {
        let sha = parse_sha(&raw_sha)?;
        let (reference, user, key) = (
            state.reference.clone(),
            session.user.clone(),
            sha.to_string(),
        );
        let allowed = state
            .db
            .call(move |conn| -> BlobResult<bool> {
                Ok(may_read_blob(conn, &reference, &user, &key)?)
            })
            .await?;
        if !allowed {
            tracing::info!(user = %session.user.id, sha256 = %sha, "blob not found or not readable");
            return Err(BlobError::Api(ApiError::NotFound));
        }
        let path = final_path(&state.blobs, &sha);
        let bytes = blocking(move || match fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("read", &path, e)),
        })
        .await?;
        let Some(bytes) = bytes else {
            tracing::error!(sha256 = %sha, "blob has a row but no file");
            return Err(BlobError::Api(ApiError::NotFound));
        };
        tracing::debug!(user = %session.user.id, sha256 = %sha, size = bytes.len(), "blob sent");
        let mut response = (StatusCode::OK, bytes).into_response();
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(OCTET_STREAM));
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=31536000, immutable"),
        );
        if let Ok(etag) = HeaderValue::from_str(&format!("\"{sha}\"")) {
            h.insert(header::ETAG, etag);
        }
        Ok(response)
    }
    .await
    .unwrap_or_else(|e: BlobError| e.into_response())
}
