//! The penalty cases' sync endpoint: `POST /api/v1/cases/sync`
//! (`app_core::wire::CASE_SYNC_PATH`) with a CBOR [`CaseSyncRequest`], answered with a CBOR
//! [`app_core::wire::CaseSyncResponse`]. The same four steps as the records' sync
//! (`crate::sync`), each in `crate::service::cases`: read the server's copies, judge every
//! pushed change by replay outside the lock (`app_core::penalty::judge_case` as the
//! authenticated user and device; a refused case is reported with the judge's code and
//! leaves nothing), write the accepted ones in the group commit, numbered in the one global
//! change sequence, then read the pull. Answered only after the write is durable.

use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::service::cases as service;
use crate::service::sync::Author;
use crate::state::AppState;
use crate::sync::{CBOR, SyncSlot, check_slots, decode, encode, require_content_type, supported};
use app_core::evidence::Sha256Hex;
use app_core::wire::{CaseSyncRequest, CaseSyncResponse};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub async fn sync_cases(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    _slot: SyncSlot,
    body: Bytes,
) -> ApiResult<Response> {
    require_content_type(&headers, CBOR)?;
    let request: CaseSyncRequest = decode(&body)?;
    supported(request.version)?;
    let device = session.device()?.clone();
    let user = session.user.clone();
    let reference = state.reference.clone();
    // 1. The server's copies and when the device was registered.
    let ids: Vec<String> = request.cases.iter().map(|p| p.id.clone()).collect();
    let dev = device.clone();
    let (stored, registered_at) = state
        .db
        .read(move |conn| -> ApiResult<_> {
            Ok((
                service::read_stored_cases(conn, &ids)?,
                crate::store::DeviceStore::registered_at(conn, dev.as_str())?,
            ))
        })
        .await?;
    let author = Author::new(user.clone(), device.clone(), registered_at, state.now());
    // 2. The judgement, outside the lock.
    let (r, a, db) = (reference.clone(), author.clone(), state.db.clone());
    let uploads = state.known_uploads.clone();
    let permit = check_slots()
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(crate::internal!("check slots closed: {e}")))?;
    let announced = state.db.expect_write();
    let (request, checked) = tokio::task::spawn_blocking(move || -> ApiResult<_> {
        let mut photos = |digests: &[&Sha256Hex]| {
            db.with_reader(|conn| {
                crate::blobs::first_unnamable(conn, &uploads, &r, &a.user, &a.device, digests)
            })
        };
        let mut rules = |unit: &app_core::ids::UnitId| {
            db.with_reader(|conn| crate::service::case_rules::rules_for(conn, &r.units, unit))
        };
        let mut sources =
            |record: &str| db.with_reader(|conn| crate::service::access::scope(conn, &r, record));
        let checked = request
            .cases
            .iter()
            .zip(stored)
            .map(|(push, stored)| {
                service::check_case(&r, &mut photos, &mut rules, &mut sources, &a, push, stored)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((request, checked))
    })
    .await
    .map_err(|e| ApiError::Internal(crate::internal!("case check task failed: {e}")))??;
    drop(permit);
    // 3. The write, in the group commit (it may run twice: it only borrows what it writes).
    let request = std::sync::Arc::new(request);
    let (r, a, req) = (reference.clone(), author.clone(), request.clone());
    let uploads = state.known_uploads.clone();
    let (accepted, rejected) = state
        .db
        .write_grouped_announced(announced, move |conn| -> ApiResult<_> {
            let mut photos = |digests: &[&Sha256Hex]| {
                crate::blobs::first_unnamable(conn, &uploads, &r, &a.user, &a.device, digests)
            };
            Ok(service::write_case_pushes(
                conn,
                &mut photos,
                &r,
                &a,
                &req.cases,
                &checked,
            )?)
        })
        .await?;
    // 4. The pull (none for a revoked device, as for records).
    let response = if session.revoked {
        CaseSyncResponse {
            cursor: request.cursor,
            accepted,
            rejected,
            cases: Vec::new(),
            more: false,
        }
    } else {
        state
            .db
            .read(move |conn| -> ApiResult<_> {
                Ok(service::pull_cases(
                    conn, &reference, &user, &device, &request, accepted, rejected,
                )?)
            })
            .await?
    };
    tracing::info!(
        user = %session.user.id,
        accepted = response.accepted.len(),
        rejected = response.rejected.len(),
        pulled = response.cases.len(),
        cursor = response.cursor,
        "case sync"
    );
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, CBOR)],
        encode(&response),
    )
        .into_response())
}
