//! Read endpoints for single resources. Each answers 404 both when the resource does not
//! exist and when the user may not see it, so existence never leaks (sealed plans above all).

use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use app_core::access::{RecordScope, can_read_enterprise, can_read_plan, can_read_record};
use app_core::document::{Conflict, InspectionDoc};
use app_core::enterprise::Enterprise;
use app_core::ids::DeviceId;
use app_core::inspection::Inspection;
use app_core::plan::Plan;
use axum::Json;
use axum::extract::{Path, State};
use rusqlite::OptionalExtension;
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
    let snapshot: Option<Vec<u8>> = state
        .db
        .call(move |conn| -> ApiResult<_> {
            Ok(conn
                .query_row("SELECT snapshot FROM docs WHERE id = ?1", [&id], |r| {
                    r.get(0)
                })
                .optional()?)
        })
        .await?;
    let snapshot = snapshot.ok_or(ApiError::NotFound)?;
    let doc = InspectionDoc::load(&snapshot, &DeviceId::from("server"))
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored record: {e}")))?;
    let record = doc.record();
    let plan = record
        .plan
        .as_ref()
        .and_then(|p| state.reference.plans.iter().find(|x| &x.id == p));
    if !can_read_record(
        &session.user,
        &RecordScope::of(record, plan),
        &state.reference.units,
    ) {
        return Err(ApiError::NotFound);
    }
    Ok(Json(RecordView {
        conflicts: doc.conflicts(),
        record: record.clone(),
    }))
}

pub async fn plan(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> ApiResult<Json<Plan>> {
    state
        .reference
        .plans
        .iter()
        .find(|p| p.id.as_str() == id && can_read_plan(&session.user, p, &state.reference.units))
        .cloned()
        .map(Json)
        .ok_or(ApiError::NotFound)
}

pub async fn enterprise(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> ApiResult<Json<Enterprise>> {
    let data = &state.reference;
    let visible_plans: Vec<Plan> = data
        .plans
        .iter()
        .filter(|p| can_read_plan(&session.user, p, &data.units))
        .cloned()
        .collect();
    data.enterprises
        .iter()
        .find(|e| {
            e.id.as_str() == id
                && can_read_enterprise(&session.user, e, &data.units, &visible_plans)
        })
        .cloned()
        .map(Json)
        .ok_or(ApiError::NotFound)
}
