//! Read endpoints for single resources. Each answers 404 both when the resource does not
//! exist and when the user may not see it, so existence never leaks (sealed plans above all).

use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use app_core::access::{RecordScope, can_read_enterprise, can_read_plan, can_read_record};
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
    let found = state
        .db
        .call(move |conn| -> ApiResult<_> {
            let Some(stored) = crate::docstore::load(conn, &id)? else {
                return Ok(None);
            };
            let plan = match &stored.doc.record().plan {
                Some(p) => crate::plans::find(conn, &reference, p.as_str())?,
                None => None,
            };
            Ok(Some((stored.doc, plan)))
        })
        .await?;
    let (doc, plan) = found.ok_or(ApiError::NotFound)?;
    let record = doc.record();
    if !can_read_record(
        &session.user,
        &RecordScope::of(record, plan.as_ref()),
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
    let reference = state.reference.clone();
    let plan = state
        .db
        .call(move |conn| -> ApiResult<_> { Ok(crate::plans::find(conn, &reference, &id)?) })
        .await?;
    plan.filter(|p| can_read_plan(&session.user, p, &state.reference.units))
        .map(Json)
        .ok_or(ApiError::NotFound)
}

pub async fn enterprise(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> ApiResult<Json<Enterprise>> {
    let (reference, user) = (state.reference.clone(), session.user.clone());
    let visible_plans = state
        .db
        .call(move |conn| -> ApiResult<_> {
            Ok(crate::plans::visible_to(conn, &reference, &user)?)
        })
        .await?;
    let data = &state.reference;
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
