//! Adopting existing load balancers (docs/contract.md §3):
//!
//! | call | answer |
//! | --- | --- |
//! | `GET /api/v1/projects/{project}/load-balancers` (viewer) | `{"load_balancers": [...]}` every global external Application Load Balancer found |
//! | `POST /api/v1/projects/{project}/load-balancers/{lb_id}/adopt` (editor) | `201` the new draft, whose spec keeps the existing names; `409` when something refuses adoption or a deployment already manages it |

use crate::AppState;
use crate::auth::{Access, Editor, Viewer};
use crate::db::deployments::{self as store, SaveError};
use crate::domain::adopt::LoadBalancer;
use crate::domain::{parse, plan, validate};
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

/// The load balancers of `project`, each with the deployment (id) that manages any of its
/// resources, under a derived or a kept name.
async fn found(
    state: &AppState,
    project: &str,
) -> Result<Vec<(LoadBalancer, Option<i64>)>, AppError> {
    check_project(project)?;
    // The reader plans and drift checks use, so discovery sees the cloud as they do.
    let lbs = crate::deploy::discover::discover(state.deployer.reader().as_ref(), project)
        .await
        .map_err(|e| AppError::Upstream(e.to_string()))?;
    let mut owned: Vec<(i64, Vec<String>)> = Vec::new();
    for row in store::list(&state.db).await? {
        let Ok(parsed) = parse::parse(&row.spec) else {
            continue;
        };
        let graph = plan::compile(&parsed);
        let mut ids: Vec<String> = graph.resources.into_iter().map(|r| r.id).collect();
        ids.extend(graph.adopted);
        owned.push((row.id, ids));
    }
    Ok(lbs
        .into_iter()
        .map(|lb| {
            let by = owned
                .iter()
                .find(|(_, ids)| lb.resources.iter().any(|r| ids.contains(r)))
                .map(|(id, _)| *id);
            (lb, by)
        })
        .collect())
}

fn lb_json(lb: &LoadBalancer, managed_by: Option<i64>) -> Value {
    let mut v = serde_json::to_value(lb).expect("a load balancer always serialises");
    v["resources"] = json!(
        lb.resources
            .iter()
            .map(|r| crate::domain::links::full_url(r))
            .collect::<Vec<_>>()
    );
    v["managed_by"] = json!(managed_by);
    v["adoptable"] = json!(lb.spec.is_some() && managed_by.is_none());
    v
}

async fn list(
    State(state): State<AppState>,
    Viewer(_user): Viewer,
    Path(project): Path<String>,
) -> Result<Response, AppError> {
    let lbs = found(&state, &project).await?;
    let items: Vec<Value> = lbs.iter().map(|(lb, by)| lb_json(lb, *by)).collect();
    Ok(axum::Json(json!({ "load_balancers": items })).into_response())
}

async fn adopt(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path((project, lb_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let lbs = found(&state, &project).await?;
    let Some((lb, by)) = lbs.into_iter().find(|(lb, _)| lb.id == lb_id) else {
        return Err(AppError::NotFound);
    };
    if let Some(id) = by {
        return Err(AppError::Conflict(format!(
            "{lb_id} is already managed by deployment {id}"
        )));
    }
    let Some(spec) = &lb.spec else {
        return Err(AppError::Conflict(format!(
            "{lb_id} cannot be adopted: {}",
            lb.refusals().join("; ")
        )));
    };
    let text = serde_json::to_string_pretty(spec).expect("a spec always serialises");
    match store::create(&state.db, &spec.name, &text, &user.name).await {
        Ok(row) => {
            crate::audit::record(
                &state.db,
                &user.name,
                crate::audit::Action::DeploymentCreate,
                &crate::audit::deployment(row.id),
                json!({"name": row.name, "version": row.version, "via": "API",
                       "adopted": format!("projects/{project}/global/forwardingRules/{lb_id}")}),
            )
            .await;
            Ok((
                StatusCode::CREATED,
                axum::Json(crate::api::deployments::DeploymentJson::from(row)),
            )
                .into_response())
        }
        Err(SaveError::NameTaken(n)) => Err(AppError::invalid(
            "name",
            format!("a deployment named `{n}` already exists; rename it before adopting"),
        )),
        Err(SaveError::Db(e)) => Err(e.into()),
        Err(e) => Err(AppError::Internal(e.into())),
    }
}
