//! The sync server: authentication and device registration, access by unit, the Automerge
//! sync protocol, reference data for tablets. State sits behind the storage traits of
//! `store/` (implemented for an embedded SQLite database in the data folder, see `db.rs`); the
//! use cases are plain functions in `service/`; handlers extract, call them and map the
//! result. The rules are app-core's.

pub mod admin;
pub mod auth;
pub mod blobs;
pub mod blobstore;
pub mod case_sync;
pub mod cli;
pub mod config;
pub mod console;
pub mod db;
pub mod error;
pub mod exif;
pub mod numbers;
pub mod plans;
pub mod ranges;
pub mod records;
pub mod reference;
pub mod service;
pub mod signin;
pub mod state;
pub mod store;
pub mod sync;

pub use net::serve;
pub use reference::{LoadError, ReferenceData};
pub use state::AppState;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

/// The largest request body accepted by default (a sync batch); larger ones get 413
/// (`limits.max_body_bytes`).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    units: usize,
    users: usize,
    enterprises: usize,
    templates: usize,
}

async fn health(State(state): State<AppState>) -> Json<Health> {
    let data = &state.reference;
    Json(Health {
        status: "ok",
        units: data.units.units().count(),
        users: data.users.len(),
        enterprises: data.enterprises.len(),
        templates: data.templates.templates().len(),
    })
}

async fn checklists(
    State(state): State<AppState>,
) -> Json<Vec<app_core::checklist::ChecklistTemplate>> {
    Json(state.reference.templates.templates().to_vec())
}

/// The user's reference data (JSON), with an `ETag` (a hash of the body): a tablet that
/// sends the tag it holds in `If-None-Match` is answered `304 Not Modified` with no body when
/// nothing changed, so its periodic refresh costs a few bytes.
async fn reference_bundle(
    State(state): State<AppState>,
    session: auth::Session,
    headers: axum::http::HeaderMap,
) -> error::ApiResult<axum::response::Response> {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    // The fixtures' plans and the plans sealed from draws in the console (`plans.rs`).
    let reference = state.reference.clone();
    let bundle = state
        .db
        .call(move |conn| -> error::ApiResult<_> {
            let mut bundle = plans::bundle_for(conn, &reference, &session.user)?;
            bundle.penalty_rules =
                crate::reference::penalty_rules_for(conn, &reference.units, &bundle.units)?;
            Ok(bundle)
        })
        .await?;
    let body = serde_json::to_vec(&bundle)
        .map_err(|e| error::ApiError::Internal(internal!("reference bundle: {e}")))?;
    let etag = format!(
        "\"{}\"",
        &app_core::evidence::Sha256Hex::of(&body).as_str()[..32]
    );
    let held = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let common = [
        (header::ETAG, etag),
        (header::CACHE_CONTROL, "no-cache".into()),
    ];
    if held {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    Ok((
        StatusCode::OK,
        common,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// The record store's module under its former name (record documents and their change log).
pub use store::records as docstore;

/// The console's index of records and hazards (`store::console_index`).
pub use store::console_index as index;

/// Every route of the API, with [`MAX_BODY_BYTES`].
pub fn router(state: AppState) -> Router {
    router_with(state, MAX_BODY_BYTES)
}

/// Every route of the API, refusing request bodies over `max_body_bytes` with 413
/// (`limits.max_body_bytes`).
pub fn router_with(state: AppState, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/login", post(auth::login))
        .route("/api/v1/logout", post(auth::logout))
        .route("/api/v1/devices", post(auth::register_device))
        .route("/api/v1/reference", get(reference_bundle))
        .route("/api/v1/reference/checklists", get(checklists))
        .route("/api/v1/sync", post(sync::sync))
        .route(app_core::wire::FETCH_PATH, post(sync::fetch))
        .route(app_core::wire::CASE_SYNC_PATH, post(case_sync::sync_cases))
        .route("/api/v1/numbers/reserve", post(numbers::reserve_blocks))
        .route("/api/v1/numbers/claim", post(numbers::claim_blocks))
        .route("/api/v1/casefile-keys", get(console::key_history_json))
        .route(
            "/api/v1/blobs/{sha256}",
            get(blobs::get_blob).put(blobs::put_blob),
        )
        .route("/api/v1/blobs/{sha256}/status", get(blobs::blob_status))
        .route("/api/v1/records/{id}", get(records::record))
        .route("/api/v1/plans/{id}", get(records::plan))
        .route("/api/v1/enterprises/{id}", get(records::enterprise))
        .merge(console::service())
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}

// Serving connections (timeouts, the connection cap, client addresses): see `net.rs`.
pub mod net;

/// Runs `task` now and then every `every` (a late tick waits rather than bunching up), on
/// the runtime, until it stops: the server's background upkeep.
pub fn periodically<F, Fut>(every: std::time::Duration, mut task: F) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            task().await;
        }
    })
}
