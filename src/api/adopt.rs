//! Adopting existing load balancers (docs/contract.md §3):
//!
//! | call | answer |
//! | --- | --- |
//! | `GET /api/v1/projects/{project}/load-balancers` (viewer) | `{"load_balancers": [...]}` every global external Application Load Balancer found |
//! | `POST /api/v1/projects/{project}/load-balancers/{lb_id}/adopt` (editor) | `201` the new draft, whose spec keeps the existing names; `409` when something refuses adoption or a deployment already manages it |

use crate::AppState;
use crate::auth::{Access, Editor, Viewer};
use crate::deploy::Discovered;
use crate::domain::validate;
use crate::error::{AppError, Path};
use crate::http::Routes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub fn routes(r: Routes) -> Routes {
    r.get(
        "/api/v1/projects/{project}/load-balancers",
        Access::Viewer,
        list,
    )
    .post(
        "/api/v1/projects/{project}/load-balancers/{lb_id}/adopt",
        Access::Editor,
        adopt,
    )
}

/// The `project` path segment, checked before anything is read with it.
fn check_project(project: &str) -> Result<(), AppError> {
    if validate::is_project_id(project) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "project",
            format!("`{project}` is not a Google Cloud project id"),
        ))
    }
}

fn lb_json(d: &Discovered) -> Value {
    let mut v = serde_json::to_value(&d.lb).expect("a load balancer always serialises");
    v["resources"] = json!(
        d.lb.resources
            .iter()
            .map(|r| crate::domain::links::full_url(r))
            .collect::<Vec<_>>()
    );
    v["managed_by"] = json!(d.managed_by);
    v["adoptable"] = json!(d.adoptable());
    v
}

async fn list(
    State(state): State<AppState>,
    Viewer(_user): Viewer,
    Path(project): Path<String>,
) -> Result<Response, AppError> {
    check_project(&project)?;
    let lbs = state.deployer.load_balancers(&project).await?;
    let items: Vec<Value> = lbs.iter().map(lb_json).collect();
    Ok(axum::Json(json!({ "load_balancers": items })).into_response())
}

async fn adopt(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path((project, lb_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    check_project(&project)?;
    let row = state.deployer.adopt(&project, &lb_id, &user.name).await?;
    crate::audit::record_adoption(&state.db, &user.name, &row, &project, &lb_id, "API").await;
    Ok((
        StatusCode::CREATED,
        axum::Json(crate::api::deployments::DeploymentJson::from(row)),
    )
        .into_response())
}
