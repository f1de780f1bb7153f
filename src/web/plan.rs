//! The plan page of a deployment, the destroy page, and the apply / destroy actions behind their
//! buttons. Each page shows a pinned plan (see `deploy::pinned`): its buttons carry the plan's
//! id, so what runs is what the person read, or nothing.

use super::{Routes, Shell, render};
use crate::AppState;
use crate::auth::{Access, Editor, Viewer};
use crate::db;
use crate::deploy::{DeployError, PinnedPlan, PlanKind};
use crate::domain::env_values::EnvValues;
use crate::domain::plan::{Action, PlanEntry, summary};
use crate::error::{AppError, AppResult, Form, Path, Query};
use crate::web::deployments::wizard;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub fn routes(r: Routes) -> Routes {
    r.get("/deployments/{id}/plan", Access::Viewer, plan_page)
        .post("/deployments/{id}/apply", Access::Editor, apply)
        .get("/deployments/{id}/destroy", Access::Viewer, destroy_page)
        .post("/deployments/{id}/destroy", Access::Editor, destroy)
}

/// One resource of the plan, in words first and with its whole diff.
struct Row {
    action: &'static str,
    symbol: &'static str,
    kind: &'static str,
    name: String,
    location: String,
    resource: String,
    summary: String,
    /// Field, before, after: whole values, pretty-printed, never cut.
    changes: Vec<(String, String, String)>,
}

fn pretty(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "(none)".to_string(),
        serde_json::Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// One entry as the reader may see it: a viewer's `env` changes have their values hidden.
fn row(e: &PlanEntry, env: EnvValues) -> Row {
    Row {
        action: e.action.name(),
        symbol: match e.action {
            Action::Create => "+",
            Action::Update { .. } => "~",
            Action::Replace { .. } => "±",
            Action::Delete => "−",
            Action::Noop => "=",
        },
        kind: summary::kind_words(&e.kind),
        name: e.name.clone(),
        location: summary::location(&e.kind),
        resource: e.resource.clone(),
        summary: summary::summary(e),
        changes: e
            .changes
            .iter()
            .map(|c| {
                let (mut live, mut desired) = (c.live.clone(), c.desired.clone());
                env.change(&c.field, &mut live);
                env.change(&c.field, &mut desired);
                (c.field.clone(), pretty(&live), pretty(&desired))
            })
            .collect(),
    }
}

/// What both the plan page and the destroy page show of a pinned plan.
struct PlanView {
    plan_id: String,
    made_by: String,
    made_at: String,
    expires_at: String,
    counts: crate::domain::plan::Counts,
    changed: Vec<Row>,
    unchanged: Vec<Row>,
    risks: Vec<crate::domain::plan::Risk>,
    conflicts: Vec<String>,
    warnings: Vec<String>,
    /// Backends that follow another deployment, and where each points (the resolved value).
    chains: Vec<String>,
    /// Adopted resources, with where applying records the deployment's claim on each.
    ownership: Vec<OwnershipLine>,
    /// The image canary's holds: what each does before the other regions are deployed.
    canary: Vec<String>,
}

struct OwnershipLine {
    name: String,
    resource: String,
    in_description: bool,
    detail: String,
}

impl PlanView {
    fn of(p: &PinnedPlan, env: EnvValues) -> PlanView {
        let plan = &p.planned.plan;
        let (unchanged, changed): (Vec<&PlanEntry>, Vec<&PlanEntry>) =
            plan.entries.iter().partition(|e| e.action == Action::Noop);
        PlanView {
            plan_id: p.record.id.clone(),
            made_by: p.record.created_by.clone(),
            made_at: p.record.created_at.clone(),
            expires_at: p.record.expires_at.clone(),
            counts: plan.counts(),
            changed: changed.into_iter().map(|e| row(e, env)).collect(),
            unchanged: unchanged.into_iter().map(|e| row(e, env)).collect(),
            risks: plan.risks.clone(),
            conflicts: plan.conflicts.iter().map(|c| c.message.clone()).collect(),
            warnings: plan.warnings.clone(),
            chains: plan.chains.iter().map(|h| h.describe()).collect(),
            ownership: plan
                .ownership
                .iter()
                .map(|o| OwnershipLine {
                    name: o
                        .resource
                        .rsplit('/')
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                    resource: o.resource.clone(),
                    in_description: o.recorded_in == crate::domain::plan::RecordedIn::Description,
                    detail: o.detail.clone(),
                })
                .collect(),
            canary: crate::domain::plan::canary_held(plan)
                .into_iter()
                .map(|(_, stage)| stage.canary_words())
                .collect(),
        }
    }
}

/// A lint warning as the plan shows it, with the wizard step that fixes it.
struct LintLine {
    label: String,
    href: String,
    message: String,
    fix: String,
}

#[derive(Template)]
#[template(path = "deploy/plan.html")]
struct PlanPage {
    shell: Shell,
    id: i64,
    name: String,
    version: i64,
    plan: Option<PlanView>,
    lint: Vec<LintLine>,
    can_edit: bool,
    /// Why there is no plan (invalid draft, cloud unreachable), in words.
    problem: Option<String>,
    /// Why the last Apply was refused (the plan shown is a new one).
    refused: Option<String>,
    running_job: Option<i64>,
}

async fn deployment(state: &AppState, id: i64) -> AppResult<db::deployments::DeploymentRow> {
    db::deployments::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn running_job(state: &AppState, id: i64) -> AppResult<Option<i64>> {
    Ok(
        db::jobs::active_job_for(&state.db, &db::jobs::deployment_key(id))
            .await?
            .map(|j| j.id),
    )
}

/// Plans now, pins the plan, and renders it (with `refused` when an Apply was just turned down).
async fn show_plan(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    shell: Shell,
    id: i64,
    refused: Option<String>,
) -> AppResult<Response> {
    let row = deployment(state, id).await?;
    let mut page = PlanPage {
        shell,
        id,
        name: row.name.clone(),
        version: row.version,
        plan: None,
        lint: Vec::new(),
        can_edit: user.can_edit(),
        problem: None,
        refused: refused.clone(),
        running_job: running_job(state, id).await?,
    };
    match state.deployer.pin(&row, PlanKind::Apply, &user.name).await {
        Ok(pinned) => {
            let draft = crate::domain::draft::Draft::from_spec(&pinned.planned.spec);
            let neighbours = crate::deploy::neighbours::neighbours(&state.db, id).await?;
            let mut warnings = crate::domain::lint::lint(&pinned.planned.spec);
            warnings.extend(crate::domain::shared_names::shared_names(
                &draft,
                &neighbours,
            ));
            page.lint = warnings
                .into_iter()
                .map(|w| LintLine {
                    label: wizard::field_label(&w.field, &draft),
                    href: wizard::field_href(id, &w.field, &draft),
                    message: w.message,
                    fix: w.fix,
                })
                .collect();
            page.plan = Some(PlanView::of(&pinned, user.env_values()));
            crate::audit::record(
                &state.db,
                &user.name,
                crate::audit::Action::Plan,
                &crate::audit::deployment(row.id),
                serde_json::json!({"version": row.version, "plan": pinned.record.id, "kind": "apply"}),
            )
            .await;
        }
        // A draft that is not valid yet, or a cloud that cannot be read, is shown on the page:
        // the person needs to know why there is no plan, not get an error page.
        Err(e @ (DeployError::Invalid(_) | DeployError::Live(_))) => {
            page.problem = Some(e.to_string());
        }
        Err(DeployError::Moved { field, message }) => {
            page.problem = Some(format!("{field}: {message}"));
        }
        Err(e) => return Err(e.into()),
    }
    let status = if refused.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    render(status, &page)
}

async fn plan_page(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    shell: Shell,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    show_plan(&state, &user, shell, id, None).await
}

#[derive(Debug, Deserialize)]
struct ApplyForm {
    #[serde(default)]
    plan_id: String,
    /// The checkbox is sent only when ticked.
    #[serde(default)]
    accept_risks: Option<String>,
}

async fn apply(
    State(state): State<AppState>,
    Editor(user): Editor,
    shell: Shell,
    Path(id): Path<i64>,
    Form(form): Form<ApplyForm>,
) -> AppResult<Response> {
    let row = deployment(&state, id).await?;
    if form.plan_id.is_empty() {
        return Err(AppError::invalid(
            "plan_id",
            "apply a plan you have reviewed: open the plan page and press Apply there",
        ));
    }
    let accept = form.accept_risks.is_some();
    match state
        .deployer
        .apply_pinned(&row, "apply", &form.plan_id, accept, &user.name)
        .await
    {
        Ok(job) => {
            crate::audit::record(
                &state.db,
                &user.name,
                crate::audit::Action::Apply,
                &crate::audit::deployment(row.id),
                serde_json::json!({"job": job, "version": row.version, "plan": form.plan_id,
                    "accepted_risks": accept}),
            )
            .await;
            Ok(Redirect::to(&format!("/jobs/{job}")).into_response())
        }
        Err(e @ (DeployError::PlanStale(_) | DeployError::RisksNotAccepted(_))) => {
            let why = match &e {
                DeployError::RisksNotAccepted(_) => {
                    "Not applied: this plan has risks; read them and tick the confirmation."
                        .to_string()
                }
                other => format!("Not applied: {other}."),
            };
            show_plan(&state, &user, shell, id, Some(why)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "deploy/destroy.html")]
struct DestroyPage {
    shell: Shell,
    id: i64,
    name: String,
    can_edit: bool,
    services: bool,
    plan: Option<PlanView>,
    problem: Option<String>,
    refused: Option<String>,
    running_job: Option<i64>,
    /// The load balancer this deployment adopted, if it did: destroying it can also mean
    /// releasing it (forgetting the deployment and leaving everything running).
    adopted_from: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DestroyQuery {
    #[serde(default)]
    services: Option<String>,
}

async fn show_destroy(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    shell: Shell,
    id: i64,
    services: bool,
    refused: Option<String>,
) -> AppResult<Response> {
    let row = deployment(state, id).await?;
    let mut page = DestroyPage {
        shell,
        id,
        name: row.name.clone(),
        can_edit: user.can_edit(),
        services,
        plan: None,
        problem: None,
        refused: refused.clone(),
        running_job: running_job(state, id).await?,
        adopted_from: db::adoptions::get(&state.db, id)
            .await?
            .map(|a| a.forwarding_rule),
    };
    match state
        .deployer
        .pin(&row, PlanKind::Destroy { services }, &user.name)
        .await
    {
        Ok(pinned) => page.plan = Some(PlanView::of(&pinned, user.env_values())),
        Err(e @ (DeployError::NothingDeployed | DeployError::Live(_))) => {
            page.problem = Some(e.to_string())
        }
        Err(e) => return Err(e.into()),
    }
    let status = if refused.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    render(status, &page)
}

async fn destroy_page(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    shell: Shell,
    Path(id): Path<i64>,
    Query(q): Query<DestroyQuery>,
) -> AppResult<Response> {
    let services = q.services.is_some_and(|s| !s.is_empty() && s != "0");
    show_destroy(&state, &user, shell, id, services, None).await
}

#[derive(Debug, Deserialize)]
struct DestroyForm {
    #[serde(default)]
    plan_id: String,
    /// The deployment's name, typed: destroying takes a load balancer down.
    #[serde(default)]
    confirm: String,
}

async fn destroy(
    State(state): State<AppState>,
    Editor(user): Editor,
    shell: Shell,
    Path(id): Path<i64>,
    Form(form): Form<DestroyForm>,
) -> AppResult<Response> {
    let row = deployment(&state, id).await?;
    if form.plan_id.is_empty() {
        return Err(AppError::invalid(
            "plan_id",
            "destroy from the destroy page, which lists what will be deleted",
        ));
    }
    let services = db::plans::get(&state.db, &form.plan_id)
        .await?
        .is_some_and(|p| p.services);
    if form.confirm.trim() != row.name {
        let why = format!(
            "Not destroyed: type the deployment's name, {}, to confirm.",
            row.name
        );
        return show_destroy(&state, &user, shell, id, services, Some(why)).await;
    }
    // Typing the name is the confirmation of everything the page listed, risks included.
    match state
        .deployer
        .apply_pinned(&row, "destroy", &form.plan_id, true, &user.name)
        .await
    {
        Ok(job) => {
            crate::audit::record(
                &state.db,
                &user.name,
                crate::audit::Action::Destroy,
                &crate::audit::deployment(row.id),
                serde_json::json!({"job": job, "services": services, "plan": form.plan_id}),
            )
            .await;
            Ok(Redirect::to(&format!("/jobs/{job}")).into_response())
        }
        Err(e @ DeployError::PlanStale(_)) => {
            let why = format!("Not destroyed: {e}.");
            show_destroy(&state, &user, shell, id, services, Some(why)).await
        }
        Err(e) => Err(e.into()),
    }
}
