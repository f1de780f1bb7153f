//! The plan page of a deployment and the apply / destroy actions behind its buttons.
//! The same `deploy::Deployer` answers the JSON API, so the page shows what a script would get.

use super::{Routes, Shell, render};
use crate::AppState;
use crate::auth::{Access, Editor, Viewer};
use crate::db;
use crate::domain::plan::{Action, PlanEntry};
use crate::error::{AppError, AppResult, Path};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

pub fn routes(r: Routes) -> Routes {
    r.get("/deployments/{id}/plan", Access::Viewer, plan_page)
        .post("/deployments/{id}/apply", Access::Editor, apply)
        .get("/deployments/{id}/destroy", Access::Viewer, destroy_page)
        .post("/deployments/{id}/destroy", Access::Editor, destroy)
}

/// One row of the plan table.
struct Row {
    action: &'static str,
    kind: String,
    name: String,
    resource: String,
    details: Vec<String>,
}

fn plan_row(e: &PlanEntry) -> Row {
    let mut details: Vec<String> = e
        .changes
        .iter()
        .map(|c| format!("{}: {} → {}", c.field, short(&c.live), short(&c.desired)))
        .collect();
    if let Action::Replace { reason } = &e.action {
        details.insert(0, format!("replaced: {reason}"));
    }
    Row {
        action: e.action.name(),
        kind: format!("{:?}", e.kind)
            .split([' ', '{'])
            .next()
            .unwrap_or_default()
            .to_string(),
        name: e.name.clone(),
        resource: e.resource.clone(),
        details,
    }
}

/// A value short enough for a table cell; links shortened to their last segments.
fn short(v: &serde_json::Value) -> String {
    let s = match v {
        serde_json::Value::Null => "(none)".to_string(),
        // Links are shortened; other strings (a container image) are shown whole.
        serde_json::Value::String(s)
            if !(s.starts_with("projects/") || s.contains("/projects/")) =>
        {
            s.clone()
        }
        serde_json::Value::String(s) => s
            .rsplit('/')
            .take(2)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("/"),
        other => other.to_string(),
    };
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}

#[derive(Template)]
#[template(path = "deploy/plan.html")]
struct PlanPage {
    shell: Shell,
    id: i64,
    name: String,
    version: i64,
    rows: Vec<Row>,
    changes: usize,
    conflicts: Vec<String>,
    warnings: Vec<String>,
    can_edit: bool,
    /// Why there is no plan (invalid draft, cloud unreachable), in words.
    problem: Option<String>,
    running_job: Option<i64>,
}

async fn deployment(state: &AppState, id: i64) -> AppResult<db::deployments::DeploymentRow> {
    db::deployments::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn plan_page(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    shell: Shell,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let row = deployment(&state, id).await?;
    let running_job = db::jobs::active_job_for(&state.db, &crate::db::jobs::deployment_key(id))
        .await?
        .map(|j| j.id);
    let mut page = PlanPage {
        shell,
        id,
        name: row.name.clone(),
        version: row.version,
        rows: Vec::new(),
        changes: 0,
        conflicts: Vec::new(),
        warnings: Vec::new(),
        can_edit: user.can_edit(),
        problem: None,
        running_job,
    };
    match state.deployer.plan(&row).await {
        Ok(planned) => {
            page.rows = planned.plan.entries.iter().map(plan_row).collect();
            page.changes = planned
                .plan
                .entries
                .iter()
                .filter(|e| e.action != Action::Noop)
                .count();
            page.conflicts = planned
                .plan
                .conflicts
                .iter()
                .map(|c| c.message.clone())
                .collect();
            page.warnings = planned.plan.warnings.clone();
        }
        // A draft that is not valid yet, or a cloud that cannot be read, is shown on the page:
        // the person needs to know why there is no plan, not get an error page.
        Err(e @ (crate::deploy::DeployError::Invalid(_) | crate::deploy::DeployError::Live(_))) => {
            page.problem = Some(e.to_string());
        }
        Err(e) => return Err(e.into()),
    }
    render(StatusCode::OK, &page)
}

async fn apply(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let row = deployment(&state, id).await?;
    let job = state.deployer.apply(&row, &user.name).await?;
    crate::audit::record(
        &state.db,
        &user.name,
        crate::audit::Action::Apply,
        &crate::audit::deployment(row.id),
        serde_json::json!({"job": job, "version": row.version}),
    )
    .await;
    Ok(Redirect::to(&format!("/jobs/{job}")).into_response())
}

#[derive(Template)]
#[template(path = "deploy/destroy.html")]
struct DestroyPage {
    shell: Shell,
    id: i64,
    name: String,
    can_edit: bool,
}

async fn destroy_page(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    shell: Shell,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let row = deployment(&state, id).await?;
    render(
        StatusCode::OK,
        &DestroyPage {
            shell,
            id,
            name: row.name,
            can_edit: user.can_edit(),
        },
    )
}

async fn destroy(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    // The `services` checkbox is sent only when ticked; a post without a form body (a script,
    // or the button before the option existed) keeps the services.
    let services = url::form_urlencoded::parse(&body).any(|(k, _)| k == "services");
    let row = deployment(&state, id).await?;
    let job = state.deployer.destroy(&row, &user.name, services).await?;
    crate::audit::record(
        &state.db,
        &user.name,
        crate::audit::Action::Destroy,
        &crate::audit::deployment(row.id),
        serde_json::json!({"job": job, "services": services}),
    )
    .await;
    Ok(Redirect::to(&format!("/jobs/{job}")).into_response())
}
