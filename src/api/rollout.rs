//! Gated rollouts over JSON.
//!
//! | call | answer |
//! | --- | --- |
//! | `POST /api/v1/deployments/{id}/rollout` (editor) | `202 {"job_id"}`: the draft's weight change in gated stages (`domain::rollout`); `409` when the draft changes more than weights, moves nothing, has no gate, or nothing is applied |
//! | `POST /api/v1/jobs/{id}/promote` (editor) | `200 {"job_id", "step"}`: the holding stage ends its hold and is judged now; `409` when no stage of the job is holding |
//!
//! Abort is `POST /api/v1/jobs/{id}/cancel`: a holding stage puts the applied URL map back.

use crate::AppState;
use crate::auth::{Access, Editor};
use crate::error::{AppError, AppResult, Json, Path};
use crate::http::Routes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

pub fn routes(r: Routes) -> Routes {
    r.post("/api/v1/deployments/{id}/rollout", Access::Editor, start)
        .post("/api/v1/jobs/{id}/promote", Access::Editor, promote)
}

async fn start(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let job_id = start_rollout(&state, id, &user.name, "API").await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "job_id": job_id }))))
}

/// Starts the rollout and records who did (pages and the API both come here).
pub async fn start_rollout(state: &AppState, id: i64, user: &str, via: &str) -> AppResult<i64> {
    let row = crate::db::deployments::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let job_id = state.deployer.rollout(&row, user).await?;
    crate::audit::record(
        &state.db,
        user,
        crate::audit::Action::Apply,
        &crate::audit::deployment(row.id),
        json!({"job": job_id, "version": row.version, "rollout": true, "via": via}),
    )
    .await;
    Ok(job_id)
}

/// Promotes the job's holding stage; `Conflict` when none holds.
pub async fn promote_stage(state: &AppState, job: i64, user: &str) -> AppResult<i64> {
    crate::db::jobs::get_job(&state.db, job)
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .ok_or(AppError::NotFound)?;
    crate::db::rollouts::promote_running(&state.db, job, user)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "no stage of job {job} is holding: only a running gated rollout's stage can be promoted"
            ))
        })
}

async fn promote(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
) -> AppResult<Json<Value>> {
    let step = promote_stage(&state, id, &user.name).await?;
    Ok(Json(json!({ "job_id": id, "step": step })))
}
