//! Photo originals as content-addressed blobs, uploaded in resumable chunks.
//!
//! **The right to a photo.** Knowing a photo's SHA-256 gives no right to it. A device has
//! the right to blob `sha` if it uploaded it (it sent every byte and they hashed to `sha`;
//! recorded in `blob_uploaders`), or if its user may read (app-core's `can_read_record`) a
//! stored record that names the photo. A record may name a photo only with that right
//! ([`may_name`], called by the sync's push check), and the status and download endpoints
//! answer by the same rule: to anyone without it a held blob looks exactly like one the
//! server does not have.
//!
//! - `PUT /api/v1/blobs/{sha256}?offset=N&total=T` (`application/octet-stream`, device-bound
//!   token) appends one chunk to this device's partial upload in the blob store
//!   (`crate::blobstore`: a local folder or S3-compatible object storage), but only if `N`
//!   is exactly the number of bytes it already received from this device; otherwise 409
//!   with `received`, so the client resumes from there. A chunk is stored whole or not at
//!   all (a cut connection loses at most that chunk), durably, before it is acknowledged.
//!   When `received == T` the whole upload is hashed again: if it is the named SHA-256 it is
//!   put in place under `<2 hex>/<64 hex>` (or, if the server already holds the blob,
//!   discarded: the stored bytes are never rewritten) and the `blobs` row and the device's
//!   `blob_uploaders` row are committed; only then is the upload acknowledged (201).
//!   Otherwise the partial upload is discarded and the answer is 422 `hash_mismatch`. A blob the
//!   server holds answers 200 at once only to a device that already uploaded it; any other
//!   device must send the bytes to prove it has them (the answers are those of a blob the
//!   server lacks, so a `PUT` does not tell whether the server holds it either).
//! - `GET /api/v1/blobs/{sha256}/status` → `{ "held": bool, "received": n }`: `held` only
//!   for a device with the right to the blob; `received` counts this device's own partial
//!   upload (never another device's progress).
//! - `GET /api/v1/blobs/{sha256}` → the bytes, for a device with the right to the blob; 404
//!   otherwise, exactly like a blob that does not exist.
//!
//! "Held" means a `blobs` row exists. The row is written only after the bytes are durable in
//! the store, so a row always has its bytes; bytes without a row (a crash between putting
//! them in place and the commit) are not "held", and the next upload of them writes the row.
//!
//! The progress of an upload is kept in the store, never only in a process (see
//! `crate::blobstore`): with S3, an upload begun through one server node finishes through
//! another.

use crate::auth::Session;
use crate::blobstore::{Appended, BlobBytes, BlobStoreError, UploadKey};
use crate::error::ApiError;
use crate::service::photos;
use crate::state::AppState;
use crate::store::blobs::Upload;
use crate::store::{BlobStore, Transactions};
use app_core::evidence::Sha256Hex;
use app_core::wire::http::ErrorBody;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

/// The largest blob accepted (`total`); larger ones get 413. Audio and video evidence of
/// 1–4 GB (and body-camera files past 4 GiB) fits; the bytes are only ever streamed: a chunk
/// at a time into the store, hashed from the file, served in pieces.
pub const MAX_BLOB_BYTES: u64 = 16 << 30;

/// The largest body of one `PUT` (one chunk); larger ones get 413. Clients send less (the
/// tablet sends 256 KiB for a photo, 4 MiB for a recording), so an interruption costs little.
pub const MAX_CHUNK_BYTES: usize = 8 * 1024 * 1024;

pub const OCTET_STREAM: &str = "application/octet-stream";

/// What the status endpoint and every accepted `PUT` answer (declared with the other HTTP
/// messages in app-core).
pub use app_core::wire::http::BlobStatus;

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

impl From<crate::store::StoreError> for BlobError {
    fn from(e: crate::store::StoreError) -> Self {
        BlobError::Api(e.into())
    }
}

impl From<crate::error::Internal> for BlobError {
    fn from(e: crate::error::Internal) -> Self {
        BlobError::Api(ApiError::Internal(e))
    }
}

impl From<BlobStoreError> for BlobError {
    fn from(e: BlobStoreError) -> Self {
        match e {
            BlobStoreError::Offset { offset, received } => BlobError::Offset { offset, received },
            BlobStoreError::HashMismatch { expected, found } => {
                BlobError::HashMismatch { expected, found }
            }
            BlobStoreError::Io(message) => BlobError::Api(ApiError::Internal(crate::internal!(
                "blob store: {message}"
            ))),
        }
    }
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
            received,
            ..ErrorBody::new(code, message)
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

/// The right to a photo, as the sync's push check and these endpoints ask it (the rule is in
/// `service::photos`, the rows behind `store::BlobStore`).
pub use crate::service::photos::{first_unnamable, may_name};

/// What the server knows of `sha` for `session` (see `service::photos::held_for`).
async fn held_for(
    state: &AppState,
    session: &Session,
    sha: &Sha256Hex,
) -> BlobResult<(Option<u64>, bool)> {
    let (reference, user, device, key) = (
        state.reference.clone(),
        session.user.clone(),
        session.device.clone(),
        sha.as_str().to_owned(),
    );
    state
        .db
        .call(move |conn| -> BlobResult<_> {
            Ok(photos::held_for(
                conn,
                &reference,
                &user,
                device.as_ref(),
                &key,
            )?)
        })
        .await
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
    let held = {
        let key = sha.as_str().to_owned();
        let device = device.clone();
        state
            .db
            .call(move |conn| -> BlobResult<_> {
                let size = conn.held_size(&key)?;
                let uploader = size.is_some() && conn.is_uploader(&key, device.as_str())?;
                Ok((size, uploader))
            })
            .await?
    };
    if let (Some(size), true) = held {
        tracing::debug!(user = %session.user.id, device = %device, sha256 = %sha, "blob already uploaded by this device");
        return Ok(status_response(
            StatusCode::OK,
            BlobStatus {
                held: true,
                received: size,
            },
        ));
    }
    // Held or not, a device that has not uploaded the blob sends its bytes, into its own
    // partial file, and answers look like those for a blob the server lacks.
    let held = held.0.is_some();
    let upload = UploadKey::new(&device, &sha);
    // Refuse a wrong offset before reading the body (it would be thrown away).
    let received = state.blobs.received(&upload).await?;
    if received != offset {
        tracing::info!(user = %session.user.id, sha256 = %sha, offset, received, "blob offset mismatch");
        return Err(BlobError::Offset { offset, received });
    }
    let bytes = match read_chunk(body, declared, MAX_CHUNK_BYTES).await {
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
    let outcome = state
        .blobs
        .append(&upload, held, offset, total, bytes)
        .await
        .map_err(BlobError::from);
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
            let (key, user, at) = (sha.to_string(), session.user.id.to_string(), state.now());
            let uploader = device.to_string();
            state
                .db
                .call(move |conn| -> BlobResult<()> {
                    let tx = conn.begin()?;
                    tx.record_upload(&Upload {
                        sha: &key,
                        size: total,
                        user: &user,
                        device: &uploader,
                        at,
                    })?;
                    tx.commit()?;
                    Ok(())
                })
                .await?;
            state.known_uploads.remember(&device, sha.as_str());
            tracing::info!(user = %session.user.id, device = %device, sha256 = %sha, size = total, already_held = held, "blob upload completed");
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

/// Reads one chunk's body into a buffer of its declared length (one allocation of the
/// chunk's size, no growing and no second copy: a recording's 4 MiB chunks cost 4 MiB each),
/// refusing more than `limit` bytes.
async fn read_chunk(
    body: Body,
    declared: Option<u64>,
    limit: usize,
) -> Result<bytes::Bytes, String> {
    use futures_util::StreamExt;
    let mut buf =
        bytes::BytesMut::with_capacity(declared.map_or(64 * 1024, |d| d as usize).min(limit));
    let mut stream = body.into_data_stream();
    while let Some(frame) = stream.next().await {
        let frame = frame.map_err(|e| e.to_string())?;
        if buf.len() + frame.len() > limit {
            return Err(format!("more than {limit} bytes"));
        }
        buf.extend_from_slice(&frame);
    }
    Ok(buf.freeze())
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

/// `GET /api/v1/blobs/{sha256}/status`: whether the server holds the blob for this device
/// (see the module docs), and how much of this device's unfinished upload it has.
pub async fn blob_status(
    State(state): State<AppState>,
    session: Session,
    UrlPath(raw_sha): UrlPath<String>,
) -> Response {
    async {
        let sha = parse_sha(&raw_sha)?;
        if let (Some(size), _) = held_for(&state, &session, &sha).await? {
            return Ok(BlobStatus {
                held: true,
                received: size,
            });
        }
        let received = match &session.device {
            Some(device) => state.blobs.received(&UploadKey::new(device, &sha)).await?,
            None => 0,
        };
        Ok(BlobStatus {
            held: false,
            received,
        })
    }
    .await
    .map(|s| Json(s).into_response())
    .unwrap_or_else(|e: BlobError| e.into_response())
}

/// `GET /api/v1/blobs/{sha256}`: the original's bytes, for users who may see it; 404 for
/// everyone else, exactly as for a blob that does not exist. Streamed from the store (never
/// whole in memory), with range requests (`crate::ranges`: 206, `Accept-Ranges`, `If-Range`,
/// 416), so a large download resumes and a video seeks.
pub async fn get_blob(
    State(state): State<AppState>,
    session: Session,
    UrlPath(raw_sha): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    async {
        let sha = parse_sha(&raw_sha)?;
        let (allowed, _) = held_for(&state, &session, &sha).await?;
        if allowed.is_none() {
            tracing::info!(user = %session.user.id, sha256 = %sha, "blob not found or not readable");
            return Err(BlobError::Api(ApiError::NotFound));
        }
        let Some(response) = ranged_response(&state.blobs, &sha, &headers, OCTET_STREAM).await?
        else {
            tracing::error!(sha256 = %sha, "blob has a row but no file");
            return Err(BlobError::Api(ApiError::NotFound));
        };
        tracing::debug!(user = %session.user.id, sha256 = %sha, status = %response.status(), "blob sent");
        let mut response = response;
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=31536000, immutable"),
        );
        Ok(response)
    }
    .await
    .unwrap_or_else(|e: BlobError| e.into_response())
}

/// The answer to a `GET` of blob `sha` (the caller has checked the right to it): the whole
/// blob or the range asked for (`crate::ranges`), streamed from the store, with
/// `content_type`, `ETag` (the SHA-256: the content never changes) and `Accept-Ranges`.
/// `None` when the store lacks the bytes.
pub async fn ranged_response(
    blobs: &crate::blobstore::Blobs,
    sha: &Sha256Hex,
    headers: &HeaderMap,
    content_type: &str,
) -> Result<Option<Response>, crate::blobstore::BlobStoreError> {
    let Some(size) = blobs.size(sha).await? else {
        return Ok(None);
    };
    let etag = format!("\"{sha}\"");
    let plan = crate::ranges::plan(headers, size, &etag);
    let (status, range_headers) = crate::ranges::headers_for(plan, size);
    let (start, end) = match plan {
        crate::ranges::Plan::Whole => (0, size),
        crate::ranges::Plan::Part { start, end } => (start, end),
        crate::ranges::Plan::Unsatisfiable => (0, 0),
    };
    let body = if plan == crate::ranges::Plan::Unsatisfiable {
        Body::empty()
    } else {
        match blobs.body(sha, start, end).await? {
            Some(b) => b,
            None => return Ok(None),
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    for (name, value) in range_headers {
        h.insert(name, value);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    if plan != crate::ranges::Plan::Unsatisfiable
        && let Ok(v) = HeaderValue::from_str(content_type)
    {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(Some(response))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;
    use crate::reference::ReferenceData;
    use app_core::ids::DeviceId;
    use app_core::user::User;
    use rusqlite::{Connection, params};
    use std::path::Path;

    fn reference() -> ReferenceData {
        ReferenceData::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")).unwrap()
    }

    fn user(reference: &ReferenceData, id: &str) -> User {
        reference
            .users
            .iter()
            .find(|u| u.id.as_str() == id)
            .cloned()
            .unwrap()
    }

    fn uploaded(conn: &Connection, sha: &Sha256Hex, device: &str, user: &str) {
        conn.execute(
            "INSERT OR IGNORE INTO blobs (sha256, size, uploaded_by) VALUES (?1, 3, ?2)",
            params![sha.as_str(), user],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO blob_uploaders (sha256, device_id, user_id, uploaded_at)
             VALUES (?1, ?2, ?3, 0)",
            params![sha.as_str(), device, user],
        )
        .unwrap();
    }

    /// A stored record of `unit` with `inspectors`, naming photo `sha`.
    fn record_naming(
        conn: &Connection,
        id: &str,
        unit: &str,
        inspectors: &[&str],
        sha: &Sha256Hex,
    ) {
        conn.execute(
            "INSERT INTO docs (id, unit, plan, status, snapshot, heads)
             VALUES (?1, ?2, NULL, 'draft', x'', '[]')",
            params![id, unit],
        )
        .unwrap();
        for u in inspectors {
            conn.execute(
                "INSERT INTO doc_inspectors (doc_id, user_id) VALUES (?1, ?2)",
                params![id, u],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO photo_refs (sha_key, sha256, doc_id) VALUES (?1, ?2, ?3)",
            params![crate::docstore::photo_key(sha.as_str()), sha.as_str(), id],
        )
        .unwrap();
    }

    #[test]
    fn a_device_may_name_what_it_uploaded_and_no_other_device_may() {
        let reference = reference();
        let (wang, chen) = (user(&reference, "u-wang"), user(&reference, "u-chen"));
        let (tablet_w, tablet_w2, tablet_c) = (
            DeviceId::new("tablet-wang"),
            DeviceId::new("tablet-wang-2"),
            DeviceId::new("tablet-chen"),
        );
        let sha = Sha256Hex::of(b"photo");
        Db::open_in_memory().unwrap().with_conn(|conn| {
            let conn = conn.expect_sqlite();
            assert!(!may_name(conn, &reference, &wang, &tablet_w, &sha).unwrap());
            uploaded(conn, &sha, tablet_w.as_str(), "u-wang");
            assert!(may_name(conn, &reference, &wang, &tablet_w, &sha).unwrap());
            // Another unit's inspector on his own device: knowing the digest is not enough.
            assert!(!may_name(conn, &reference, &chen, &tablet_c, &sha).unwrap());
            // Nor the same user on a device that did not upload it.
            assert!(!may_name(conn, &reference, &wang, &tablet_w2, &sha).unwrap());
            // Nor another unit's inspector using a device id that did upload another photo.
            let other = Sha256Hex::of(b"other photo");
            uploaded(conn, &other, tablet_c.as_str(), "u-chen");
            assert!(!may_name(conn, &reference, &chen, &tablet_c, &sha).unwrap());
        });
    }

    #[test]
    fn a_user_may_name_a_photo_a_readable_record_names() {
        let reference = reference();
        let (wang, li, zhao, chen, sun) = (
            user(&reference, "u-wang"),
            user(&reference, "u-li"),
            user(&reference, "u-zhao"),
            user(&reference, "u-chen"),
            user(&reference, "u-sun"),
        );
        let device = DeviceId::new("some-tablet");
        let sha = Sha256Hex::of("photo of a 玄武 record".as_bytes());
        Db::open_in_memory().unwrap().with_conn(|conn| {
            let conn = conn.expect_sqlite();
            uploaded(conn, &sha, "tablet-wang", "u-wang");
            assert!(!may_name(conn, &reference, &li, &device, &sha).unwrap());
            record_naming(conn, "rec-xw", "xw", &["u-wang", "u-li"], &sha);
            // Colleagues of the unit and its supervisor may read the record: they may name it.
            for u in [&wang, &li, &zhao] {
                assert!(
                    may_name(conn, &reference, u, &device, &sha).unwrap(),
                    "{}",
                    u.id
                );
            }
            // Another unit's inspector and supervisor may not.
            for u in [&chen, &sun] {
                assert!(
                    !may_name(conn, &reference, u, &device, &sha).unwrap(),
                    "{}",
                    u.id
                );
            }
            // Unless they are listed on a record of that unit that names it.
            record_naming(conn, "rec-xw-2", "xw", &["u-li", "u-chen"], &sha);
            assert!(may_name(conn, &reference, &chen, &device, &sha).unwrap());
            assert!(!may_name(conn, &reference, &sun, &device, &sha).unwrap());
            // The blob need not be held: a record may name a photo not uploaded yet.
            let later = Sha256Hex::of(b"not uploaded yet");
            record_naming(conn, "rec-xw-3", "xw", &["u-wang"], &later);
            assert!(may_name(conn, &reference, &li, &device, &later).unwrap());
            assert!(!may_name(conn, &reference, &sun, &device, &later).unwrap());
        });
    }
}
