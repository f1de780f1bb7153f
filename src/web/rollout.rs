//! The gated rollout's buttons: start one from the deployment page (`POST
//! /deployments/{id}/rollout`, then the job page), and promote a holding stage from the job page
//! (`POST /jobs/{id}/promote`). Abort is the job page's Cancel.

use super::Routes;
use crate::AppState;
use crate::api::rollout::{promote_stage, start_rollout};
use crate::auth::{Access, Editor};
use crate::error::{AppResult, Path};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

pub fn routes(r: Routes) -> Routes {
    r.post("/deployments/{id}/rollout", Access::Editor, start)
        .post("/jobs/{id}/promote", Access::Editor, promote)
}

async fn start(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let job = start_rollout(&state, id, &user.name, "page").await?;
    Ok(Redirect::to(&format!("/jobs/{job}")).into_response())
}

async fn promote(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    promote_stage(&state, id, &user.name).await?;
    Ok(Redirect::to(&format!("/jobs/{id}")).into_response())
}
