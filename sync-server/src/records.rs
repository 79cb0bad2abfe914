//! Read endpoints for single resources (the use cases are `service::reads`). Each answers 404
//! both when the resource does not exist and when the user may not see it, so existence never
//! leaks (sealed plans above all).

use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::service::reads;
use crate::state::AppState;
use app_core::document::Conflict;
use app_core::enterprise::Enterprise;
use app_core::inspection::Inspection;
use app_core::plan::Plan;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct RecordView {
    pub record: Inspection,
    pub conflicts: Vec<Conflict>,
}

pub async fn record(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> ApiResult<Json<RecordView>> {
    let reference = state.reference.clone();
    let loaded = state
        .db
        .call(move |conn| -> ApiResult<_> { Ok(reads::load_record(conn, &reference, &id)?) })
        .await?;
    let doc = reads::readable_record(&state.reference, &session.user, loaded)
        .ok_or(ApiError::NotFound)?;
    Ok(Json(RecordView {
        conflicts: doc.conflicts(),
        record: doc.record().clone(),
    }))
}

pub async fn plan(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> ApiResult<Json<Plan>> {
    let reference = state.reference.clone();
    let user = session.user.clone();
    state
        .db
        .call(move |conn| -> ApiResult<_> {
            Ok(reads::readable_plan(conn, &reference, &user, &id)?)
        })
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

pub async fn enterprise(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> ApiResult<Json<Enterprise>> {
    let (reference, user) = (state.reference.clone(), session.user.clone());
    state
        .db
        .call(move |conn| -> ApiResult<_> {
            Ok(reads::readable_enterprise(conn, &reference, &user, &id)?)
        })
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}
