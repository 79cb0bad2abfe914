//! Document numbers (文号) for tablets: `POST /api/v1/numbers/reserve` reserves, for the
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
//! Who may reserve: an inspector (only inspectors issue documents), with a token bound to a
//! registered device, for their own unit only (403 otherwise, and nothing is stored). The
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
use crate::state::AppState;
use app_core::docnumber::{Allocator, Block, DocumentKind, Series};
use app_core::geo::Timestamp;
use app_core::ids::DeviceId;
use axum::Json;
use axum::extract::State;
use rusqlite::{TransactionBehavior, params};

/// Numbers per block: enough for a few days of visits offline, small enough that an unused
/// block leaves a short gap.
pub const BLOCK_SIZE: u32 = 20;

/// Series one request may ask for (a tablet needs three kinds, for one or two years).
pub const MAX_SERIES: usize = 8;

/// The request and answer (declared with the other HTTP messages in app-core).
pub use app_core::wire::http::{ReserveRequest, ReserveResponse, SeriesRequest};

fn kind_str(kind: DocumentKind) -> String {
    match serde_json::to_value(kind).expect("kinds serialise") {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Checks a request against the rules above and says which series to reserve.
fn validate(session: &Session, req: &ReserveRequest, now_secs: i64) -> ApiResult<Vec<Series>> {
    if !session.user.is_inspector() {
        return Err(ApiError::forbidden(
            "only inspectors issue enforcement documents and reserve their numbers",
        ));
    }
    if session.device.is_none() {
        return Err(ApiError::forbidden(
            "register this device before reserving document numbers",
        ));
    }
    if req.series.is_empty() {
        return Err(ApiError::BadRequest(
            "bad_series",
            "series must name at least one series (unit, kind, year)".into(),
        ));
    }
    if req.series.len() > MAX_SERIES {
        return Err(ApiError::BadRequest(
            "bad_series",
            format!(
                "at most {MAX_SERIES} series per request, {} asked",
                req.series.len()
            ),
        ));
    }
    let this_year = Timestamp(now_secs.saturating_mul(1000))
        .shanghai_date()
        .year();
    let mut out: Vec<Series> = Vec::with_capacity(req.series.len());
    for (i, s) in req.series.iter().enumerate() {
        if s.unit != session.user.unit {
            return Err(ApiError::forbidden(format!(
                "series[{i}]: unit {} is not your unit ({}); numbers are reserved only for your own unit",
                s.unit, session.user.unit
            )));
        }
        let year = s.year.unwrap_or(this_year);
        if !(this_year - 1..=this_year + 1).contains(&year) {
            return Err(ApiError::BadRequest(
                "bad_year",
                format!(
                    "series[{i}]: year {year} is out of range; numbers are reserved for {}, {this_year} or {} (Asia/Shanghai)",
                    this_year - 1,
                    this_year + 1
                ),
            ));
        }
        let series = Series {
            unit: s.unit.clone(),
            kind: s.kind,
            year,
        };
        if out.contains(&series) {
            return Err(ApiError::BadRequest(
                "bad_series",
                format!(
                    "series[{i}]: {} {} {year} is asked twice",
                    series.unit,
                    kind_str(series.kind)
                ),
            ));
        }
        out.push(series);
    }
    Ok(out)
}

/// Every block of `series` handed out so far (inside the caller's transaction).
fn blocks_of(conn: &rusqlite::Connection, series: &Series) -> rusqlite::Result<Vec<Block>> {
    let mut stmt = conn.prepare_cached(
        "SELECT device_id, first, last FROM number_blocks
         WHERE unit = ?1 AND kind = ?2 AND year = ?3",
    )?;
    let rows = stmt.query_map(
        params![series.unit.as_str(), kind_str(series.kind), series.year],
        |r| {
            Ok(Block {
                series: series.clone(),
                device: DeviceId::new(r.get::<_, String>(0)?),
                first: r.get(1)?,
                last: r.get(2)?,
            })
        },
    )?;
    rows.collect()
}

/// Reserves one block of each series for `device`, all or nothing, in one `BEGIN IMMEDIATE`
/// transaction (see the module documentation).
pub fn reserve(
    conn: &mut rusqlite::Connection,
    series: &[Series],
    device: &DeviceId,
    user: &str,
    now_secs: i64,
) -> ApiResult<Vec<Block>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut out = Vec::with_capacity(series.len());
    for s in series {
        let mut allocator = Allocator::from_blocks(&blocks_of(&tx, s)?);
        let block = allocator
            .reserve(s.clone(), device.clone(), BLOCK_SIZE)
            .map_err(|e| ApiError::Conflict(format!("{} {}: {e}", s.unit, s.year)))?;
        tx.execute(
            "INSERT INTO number_blocks (unit, kind, year, first, last, device_id, user_id, reserved_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                s.unit.as_str(),
                kind_str(s.kind),
                s.year,
                block.first,
                block.last,
                device.as_str(),
                user,
                now_secs
            ],
        )?;
        out.push(block);
    }
    tx.commit()?;
    Ok(out)
}

pub async fn reserve_blocks(
    State(state): State<AppState>,
    session: Session,
    JsonBody(req): JsonBody<ReserveRequest>,
) -> ApiResult<Json<ReserveResponse>> {
    let now = state.now();
    let series = validate(&session, &req, now)?;
    let device = session.device()?.clone();
    let user = session.user.id.to_string();
    let (device2, user2) = (device.clone(), user.clone());
    let blocks = state
        .db
        .call(move |conn| reserve(conn, &series, &device2, &user2, now))
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
