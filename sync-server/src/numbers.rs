//! Document numbers (文号) for tablets: the endpoint (the use case is
//! `crate::service::numbers`, the table behind `crate::store::NumberStore`).
//! `POST /api/v1/numbers/reserve` reserves, for the
//! calling device, one block of [`BLOCK_SIZE`] numbers of each series (unit, kind, year) it
//! asks for. Tablets issue numbers offline from their own blocks (`app_core::docnumber::
//! DevicePool`); the server's only job is that no two blocks ever overlap.
//!
//! Every block handed out is a row of `number_blocks`. A reservation runs in one
//! `BEGIN IMMEDIATE` transaction: it reads the series' blocks, rebuilds app-core's
//! [`Allocator`] from them, reserves the next block and stores it. The write lock is taken
//! before the read, so two requests — in this process or in another server instance on the
//! same database — never read the same "next number", and a restarted server continues after
//! the highest number ever reserved. The table's primary key (series, first number) would
//! refuse a duplicate block even if that reasoning were wrong.
//!
//! Who may reserve: an inspector (any kind), or a supervisor (only the case documents he
//! signs: `app_core::docnumber::SUPERVISOR_KINDS`), with a token bound to a registered
//! device, for their own unit only (403 otherwise, and nothing is stored). The kinds are the
//! inspection documents' and, one series each, the penalty case documents'
//! (`app_core::docnumber::CASE_KINDS`). The
//! year is the current one in Asia/Shanghai unless the request names one; a named year may be
//! the previous, current or next one (a tablet syncing on 31 December reserves for January).
//! Kept out of the sync protocol on purpose: a quiet sync stays a few bytes, and a tablet asks
//! here only when one of its series runs low.
//!
//! Request (JSON): `{"series": [{"unit": "xw", "kind": "inspection_record", "year": 2026}]}`
//! (`year` optional; at most [`MAX_SERIES`] series, each at most once). Answer:
//! `{"block_size": 20, "blocks": [{"series": {…}, "device": "tablet-…", "first": 41,
//! "last": 60}]}`, one block per series, in the order asked.

use crate::auth::Session;
use crate::error::{ApiError, ApiResult, JsonBody};
use crate::service::numbers::ReserveError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;

pub use crate::service::numbers::{BLOCK_SIZE, MAX_SERIES, RESTORE_GAP, claim, reserve, validate};

/// The request and answer (declared with the other HTTP messages in app-core).
pub use app_core::wire::http::{ReserveRequest, ReserveResponse, SeriesRequest};

impl From<ReserveError> for ApiError {
    fn from(e: ReserveError) -> Self {
        match e {
            ReserveError::Forbidden(m) => ApiError::Forbidden(m),
            ReserveError::BadRequest { code, message } => ApiError::BadRequest(code, message),
            ReserveError::Exhausted(m) => ApiError::Conflict(m),
            ReserveError::Store(e) => e.into(),
        }
    }
}

pub async fn reserve_blocks(
    State(state): State<AppState>,
    session: Session,
    JsonBody(req): JsonBody<ReserveRequest>,
) -> ApiResult<Json<ReserveResponse>> {
    let now = state.now();
    let series = validate(&session.user, session.device.as_ref(), &req, now)?;
    let device = session.device()?.clone();
    let user = session.user.id.to_string();
    let (device2, user2) = (device.clone(), user.clone());
    let blocks = state
        .db
        .call(move |conn| -> ApiResult<_> { Ok(reserve(conn, &series, &device2, &user2, now)?) })
        .await?;
    for b in &blocks {
        tracing::info!(
            user = %user, device = %device, unit = %b.series.unit, kind = ?b.series.kind,
            year = b.series.year, first = b.first, last = b.last, "document numbers reserved"
        );
    }
    Ok(Json(ReserveResponse {
        block_size: BLOCK_SIZE,
        blocks,
    }))
}

/// `POST /api/v1/numbers/claim`: a tablet that saw a new server epoch announces the blocks it
/// holds (see `crate::service::numbers::claim`).
pub async fn claim_blocks(
    State(state): State<AppState>,
    session: Session,
    JsonBody(req): JsonBody<app_core::wire::http::ClaimRequest>,
) -> ApiResult<Json<app_core::wire::http::ClaimResponse>> {
    let now = state.now();
    let device = session.device()?.clone();
    let user = session.user.clone();
    let answer = state
        .db
        .call(move |conn| -> ApiResult<_> { Ok(claim(conn, &user, &device, &req.blocks, now)?) })
        .await?;
    tracing::info!(
        user = %session.user.id, restored = answer.restored, conflicts = answer.conflicts.len(),
        "document-number blocks claimed after a restore"
    );
    Ok(Json(answer))
}
