//! The sync endpoint: `POST /api/v1/sync` with a CBOR [`SyncRequest`], answered with a CBOR
//! [`SyncResponse`] (see `app_core::wire` for the protocol).
//!
//! Every change the server stores gets the next number of one global sequence (`changes.seq`),
//! and a device's cursor is the highest number it has received. A sync therefore reads only
//! the changes after the cursor — its cost grows with what changed, not with how many
//! documents exist, and when nothing changed both messages are a few bytes. Changes are never
//! sent back to the device they came from.
//!
//! A push is checked before anything of it is stored, each document on its own: a user who
//! may neither write nor review an existing record is refused at once (`forbidden`, the same
//! answer as for a record that does not exist); otherwise every pushed change the server does
//! not hold is judged by `app_core::judge` as the authenticated user and device — its author,
//! its time, its command replayed through the rules on the state its author saw, a new
//! record's fresh creation, and the right to every photo it adds.
//!
//! Replaying a batch is harmless: changes the server already holds leave its heads unchanged
//! and nothing is stored. The response is sent only after the transaction holding every
//! accepted push has committed (WAL, synchronous = FULL).

use crate::auth::Session;
use crate::blobs;
use crate::error::{ApiError, ApiResult};
use crate::plans;
use crate::service::sync::{self as service, Author};
use crate::state::AppState;
use crate::store::StoreResult;
use app_core::evidence::Sha256Hex;
use app_core::plan::Plan;
use app_core::wire::{OLDEST_PROTOCOL_VERSION, PROTOCOL_VERSION, SyncRequest};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The steps themselves (and the pull's page size) are in `crate::service::sync`.
pub use crate::service::sync::MAX_PULL_BYTES;

pub const CBOR: &str = "application/cbor";

pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    ciborium::from_reader(bytes)
        .map_err(|e| ApiError::BadRequest("malformed", format!("not a valid sync message: {e}")))
}

pub fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("writing to a Vec cannot fail");
    out
}

pub fn require_content_type(headers: &HeaderMap, expected: &'static str) -> ApiResult<()> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case(expected))
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(expected))
    }
}

/// Refuses a protocol version this server does not speak (sync and fetch alike).
pub(crate) fn supported(version: u32) -> ApiResult<()> {
    if (OLDEST_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&version) {
        return Ok(());
    }
    Err(ApiError::BadRequest(
        "version",
        format!(
            "protocol version {version} is not supported (server speaks {OLDEST_PROTOCOL_VERSION} to {PROTOCOL_VERSION})"
        ),
    ))
}

pub async fn sync(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    // Taken before the body is read (extractors run in order).
    _slot: SyncSlot,
    body: Bytes,
) -> ApiResult<Response> {
    require_content_type(&headers, CBOR)?;
    let request: SyncRequest = decode(&body)?;
    supported(request.version)?;
    let device = session.device()?.clone();
    let user = session.user.clone();
    let reference = state.reference.clone();
    let pushed = request.push.len();
    // Nothing pushed (most syncs: a tablet asking what is new): no check and no write
    // transaction, only the pull.
    let (request, accepted, rejected) = if request.push.is_empty() {
        (std::sync::Arc::new(request), Vec::new(), Vec::new())
    } else {
        // 1. The server's copies of the pushed records and when the device was registered (on the
        //    reading connection).
        let ids: Vec<String> = request.push.iter().map(|p| p.id.clone()).collect();
        let dev = device.clone();
        let (stored, registered_at) = state
            .db
            .read(move |conn| -> ApiResult<_> { Ok(service::read_stored(conn, &ids, &dev)?) })
            .await?;
        let author = Author::new(user.clone(), device.clone(), registered_at, state.now());
        // 2. The checks and the Automerge work, outside the lock (in parallel across requests).
        let (r, a, db) = (reference.clone(), author.clone(), state.db.clone());
        let uploads = state.known_uploads.clone();
        // As many checks at once as there are cores: more would only interleave them (each
        // request's documents then compete for the caches) and hold more documents in memory.
        let permit = check_slots()
            .acquire()
            .await
            .map_err(|e| ApiError::Internal(crate::internal!("check slots closed: {e}")))?;
        // The write this check leads to, announced so that a group about to commit waits for it
        // (see `Db::expect_write`); withdrawn if the check fails.
        let announced = state.db.expect_write();
        let (request, checked) = tokio::task::spawn_blocking(move || -> ApiResult<_> {
            // Plans are looked up as records name them (a brief lock each, remembered).
            let mut known: std::collections::HashMap<String, Option<Plan>> = Default::default();
            let mut lookup = |id: &str| -> StoreResult<Option<Plan>> {
                if let Some(p) = known.get(id) {
                    return Ok(p.clone());
                }
                let p = db.with_reader(|conn| plans::find(conn, &r, id))?;
                known.insert(id.to_owned(), p.clone());
                Ok(p)
            };
            let mut photos = |digests: &[&Sha256Hex]| -> StoreResult<Option<Sha256Hex>> {
                db.with_reader(|conn| {
                    blobs::first_unnamable(conn, &uploads, &r, &a.user, &a.device, digests)
                })
            };
            let mut keys = || db.with_reader(service::seal_keys_of);
            let checked = request
                .push
                .iter()
                .zip(stored)
                .map(|(push, stored)| {
                    service::check_push(&r, &mut lookup, &mut photos, &mut keys, &a, push, stored)
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((request, checked))
        })
        .await
        .map_err(|e| ApiError::Internal(crate::internal!("sync check task failed: {e}")))??;
        drop(permit);
        // 3. Write what was accepted, in a transaction shared with other requests' writes (group
        //    commit); answered only once that is durable.
        //    The write may run twice (see `db::commit_groups`), so it only borrows what it writes.
        let request = std::sync::Arc::new(request);
        let (r, a, req) = (reference.clone(), author.clone(), request.clone());
        let uploads = state.known_uploads.clone();
        let (accepted, rejected) = state
            .db
            .write_grouped_announced(announced, move |conn| -> ApiResult<_> {
                let mut photos = |digests: &[&Sha256Hex]| {
                    blobs::first_unnamable(conn, &uploads, &r, &a.user, &a.device, digests)
                };
                Ok(service::write_pushes(
                    conn,
                    &mut photos,
                    &r,
                    &a,
                    &req,
                    &checked,
                )?)
            })
            .await?;
        (request, accepted, rejected)
    };
    // 4. The pull: what other devices wrote since the tablet's cursor.
    //    A revoked device (a lost tablet) uploads what it holds and receives nothing (see
    //    `auth::upload_allowed_when_revoked`).
    let response = if session.revoked {
        // The epoch too: a revoked tablet must not wipe what a restored server lacks.
        let epoch = match request.epoch {
            Some(_) => Some(
                state
                    .db
                    .read(|conn| -> ApiResult<_> { Ok(crate::store::MetaStore::epoch(conn)?) })
                    .await?,
            ),
            None => None,
        };
        app_core::wire::SyncResponse {
            cursor: request.cursor,
            accepted,
            rejected,
            pull: Vec::new(),
            more: false,
            revoked: true,
            epoch,
            cases: None,
        }
    } else {
        state
            .db
            .read(move |conn| -> ApiResult<_> {
                let mut response = service::pull(
                    conn, &reference, &user, &device, &request, accepted, rejected,
                )?;
                // The epoch, for a tablet that asks for it (see `app_core::wire`).
                if request.epoch.is_some() {
                    response.epoch = Some(crate::store::MetaStore::epoch(conn)?);
                }
                // Whether the cases' sync has anything for it, for a tablet that asks.
                if let Some(cursor) = request.case_cursor {
                    response.cases = Some(crate::service::cases::cases_waiting(
                        conn, &reference, &user, &device, cursor,
                    )?);
                }
                Ok(response)
            })
            .await?
    };
    tracing::info!(
        user = %session.user.id,
        pushed,
        accepted = response.accepted.len(),
        rejected = response.rejected.len(),
        pulled = response.pull.len(),
        cursor = response.cursor,
        "sync"
    );
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, CBOR)],
        encode(&response),
    )
        .into_response())
}

/// `POST /api/v1/fetch` (`app_core::wire::FETCH_PATH`): an on-demand fetch of records the
/// user may read but that are not pulled to the tablet by default, with a CBOR
/// [`app_core::wire::FetchRequest`], answered with a CBOR [`app_core::wire::FetchResponse`].
/// A record asked for by id that the user may not read (an inspector of another unit), or
/// that does not exist, is refused with 403 `forbidden` (one answer for both). Each record
/// fetched is followed: its later changes are pulled like the tablet's own records.
pub async fn fetch(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_content_type(&headers, CBOR)?;
    let request: app_core::wire::FetchRequest = decode(&body)?;
    supported(request.version)?;
    session.device()?;
    let (reference, user, query) = (
        state.reference.clone(),
        session.user.clone(),
        request.query.clone(),
    );
    let ids = state
        .db
        .read(move |conn| -> ApiResult<_> {
            Ok(service::fetch_ids(conn, &reference, &user, &query)?)
        })
        .await?
        .ok_or_else(|| {
            ApiError::Forbidden(app_core::messages::Bilingual::en(
                &app_core::messages::FetchRefused::NotReadable,
            ))
        })?;
    let (user, follow_ids, now) = (session.user.clone(), ids.clone(), state.now());
    state
        .db
        .write_grouped(move |conn| -> ApiResult<_> {
            Ok(service::follow(conn, &user, &follow_ids, now)?)
        })
        .await?;
    let (reference, user, version) = (
        state.reference.clone(),
        session.user.clone(),
        request.version,
    );
    let docs = state
        .db
        .read(move |conn| -> ApiResult<_> {
            Ok(service::fetched(conn, &reference, &user, &ids, version)?)
        })
        .await?;
    tracing::info!(user = %session.user.id, fetched = docs.len(), "fetch");
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, CBOR)],
        encode(&app_core::wire::FetchResponse { docs }),
    )
        .into_response())
}

/// A place among the syncs served at once ([`sync_slots`]). It is taken before the request
/// body is read: a hundred tablets syncing together then wait with their uploads in their
/// sockets, instead of a hundred bodies (and their decoded copies) held in memory and
/// interleaved. In the sync benchmark at 100 tablets it lowered the server's peak memory
/// (648 → 578 MiB).
#[derive(Debug)]
pub struct SyncSlot {
    /// Held until the response is made; released when dropped.
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for SyncSlot {
    type Rejection = ApiError;

    async fn from_request_parts(
        _: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        static SLOTS: std::sync::OnceLock<std::sync::Arc<tokio::sync::Semaphore>> =
            std::sync::OnceLock::new();
        let slots =
            SLOTS.get_or_init(|| std::sync::Arc::new(tokio::sync::Semaphore::new(sync_slots())));
        let permit = slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ApiError::Internal(crate::internal!("sync slots closed: {e}")))?;
        Ok(SyncSlot { _permit: permit })
    }
}

/// How many syncs are served at once: six per core, or `SYNC_SERVER_SYNC_SLOTS` (for the
/// benchmark's side-by-side runs). Only as many as there are cores are checked at once
/// ([`check_slots`]); the others read their bodies, wait for their group's commit or answer.
/// There must be enough of those: a request that was checked holds its place until its group
/// commits, and the group waits (up to `db::GATHER_WAIT`) for the checks still running, so with
/// only twice as many places as cores every place was soon held by a checked request waiting
/// for the commit, no new request could start its check, and a quarter of the machine sat idle
/// in the sync benchmark at 100 tablets.
pub(crate) fn sync_slots() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::env::var("SYNC_SERVER_SYNC_SLOTS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(6 * cores)
}

/// The limit on pushes checked at once (step 2 of [`sync`]): the number of cores.
pub(crate) fn check_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    })
}
