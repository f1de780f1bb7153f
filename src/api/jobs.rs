//! Plan, apply and destroy a deployment; read, cancel and resume jobs.

use crate::AppState;
use crate::auth::{Access, Editor, Viewer};
use crate::db::{self, jobs::JobRow, jobs::StepRecord};
use crate::deploy::PlanKind;
use crate::error::{AppError, AppResult, Json, Path, Query};
use crate::http::Routes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes(r: Routes) -> Routes {
    r.post("/api/v1/deployments/{id}/plan", Access::Viewer, plan)
        .post("/api/v1/deployments/{id}/apply", Access::Editor, apply)
        .post("/api/v1/deployments/{id}/destroy", Access::Editor, destroy)
        .get("/api/v1/jobs", Access::Viewer, list)
        .get("/api/v1/jobs/{id}", Access::Viewer, get)
        .post("/api/v1/jobs/{id}/cancel", Access::Editor, cancel)
        .post("/api/v1/jobs/{id}/resume", Access::Editor, resume)
}

async fn deployment(state: &AppState, id: i64) -> AppResult<db::deployments::DeploymentRow> {
    db::deployments::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// An optional JSON object body (none, empty or `{}` is no options) with only `allowed` keys.
fn options(body: &[u8], allowed: &[&str]) -> AppResult<serde_json::Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    let Value::Object(o) = v else {
        return Err(AppError::invalid(
            "body",
            format!("give a JSON object with any of: {}", allowed.join(", ")),
        ));
    };
    if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(AppError::invalid(
            k.clone(),
            format!("unknown field `{k}`, expected: {}", allowed.join(", ")),
        ));
    }
    Ok(o)
}

fn flag(o: &serde_json::Map<String, Value>, key: &str, meaning: &str) -> AppResult<bool> {
    match o.get(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(AppError::invalid(
            key,
            format!("must be true ({meaning}) or false"),
        )),
    }
}

fn plan_id(o: &serde_json::Map<String, Value>) -> AppResult<Option<String>> {
    match o.get("plan_id") {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 64 => Ok(Some(s.clone())),
        Some(_) => Err(AppError::invalid(
            "plan_id",
            "must be the plan_id a plan answered",
        )),
    }
}

/// Planning only reads the cloud, so viewers may look at what an apply would do. The plan is
/// stored: its `plan_id` is what apply (or destroy) runs, exactly as reviewed.
async fn plan(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> AppResult<Json<Value>> {
    let o = options(&body, &["kind", "services"])?;
    let kind = match o.get("kind").map(|k| k.as_str()) {
        None | Some(Some("apply")) => PlanKind::Apply,
        Some(Some("destroy")) => PlanKind::Destroy {
            services: flag(&o, "services", "also delete the Cloud Run services")?,
        },
        Some(_) => {
            return Err(AppError::invalid(
                "kind",
                "must be \"apply\" (the default) or \"destroy\"",
            ));
        }
    };
    let row = deployment(&state, id).await?;
    let pinned = state.deployer.pin(&row, kind, &user.name).await?;
    crate::audit::record(
        &state.db,
        &user.name,
        crate::audit::Action::Plan,
        &crate::audit::deployment(row.id),
        serde_json::json!({"version": row.version, "plan": pinned.record.id,
            "kind": kind.name(), "via": "API"}),
    )
    .await;
    let mut body = pinned.json;
    body["deployment"] = json!(row.id);
    // A viewer may plan, and a Cloud Run env change carries the values on both sides.
    user.env_values().plan(&mut body);
    Ok(Json(body))
}

async fn apply(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> AppResult<(StatusCode, Json<Value>)> {
    let o = options(&body, &["plan_id", "accept_risks"])?;
    let accept = flag(&o, "accept_risks", "apply despite the plan's risks")?;
    let plan = plan_id(&o)?;
    let row = deployment(&state, id).await?;
    let job_id = match &plan {
        Some(p) => {
            state
                .deployer
                .apply_pinned(&row, "apply", p, accept, &user.name)
                .await?
        }
        None => state.deployer.apply(&row, &user.name).await?,
    };
    crate::audit::record(
        &state.db,
        &user.name,
        crate::audit::Action::Apply,
        &crate::audit::deployment(row.id),
        serde_json::json!({"job": job_id, "version": row.version, "plan": plan,
            "accepted_risks": accept, "via": "API"}),
    )
    .await;
    Ok((StatusCode::ACCEPTED, Json(json!({ "job_id": job_id }))))
}

async fn destroy(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> AppResult<(StatusCode, Json<Value>)> {
    let o = options(&body, &["services", "plan_id", "accept_risks"])?;
    let services = flag(&o, "services", "also delete the Cloud Run services")?;
    let accept = flag(&o, "accept_risks", "destroy despite the plan's risks")?;
    let plan = plan_id(&o)?;
    let row = deployment(&state, id).await?;
    let job_id = match &plan {
        Some(p) => {
            if o.contains_key("services") {
                return Err(AppError::invalid(
                    "services",
                    "a destroy plan already says whether services are deleted: plan with {\"kind\": \"destroy\", \"services\": true}",
                ));
            }
            state
                .deployer
                .apply_pinned(&row, "destroy", p, accept, &user.name)
                .await?
        }
        None => state.deployer.destroy(&row, &user.name, services).await?,
    };
    // Said even when the caller did not look at a plan: other deployments lose their backend.
    let warnings: Vec<String> = crate::deploy::chain::destroy_warning(
        &state.db,
        state.deployer.reader().as_ref(),
        &row.name,
    )
    .await?
    .into_iter()
    .collect();
    crate::audit::record(
        &state.db,
        &user.name,
        crate::audit::Action::Destroy,
        &crate::audit::deployment(row.id),
        serde_json::json!({"job": job_id, "services": services, "plan": plan,
            "accepted_risks": accept, "via": "API"}),
    )
    .await;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "job_id": job_id, "warnings": warnings })),
    ))
}

/// A job in the API's shape (docs/contract.md §3).
pub fn job_json(job: &JobRow, steps: Option<&[StepRecord]>) -> Value {
    let mut v = json!({
        "id": job.id,
        "deployment": job.deployment.parse::<i64>().map(Value::from).unwrap_or_else(|_| json!(job.deployment)),
        "kind": job.kind,
        "status": job.status,
        "created_by": job.created_by,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "error": job.error,
        "cancel_requested": job.cancel_requested,
        "plan_id": serde_json::from_str::<Value>(&job.plan).ok().and_then(|p| p.get("plan_id").cloned()),
    });
    if let Some(steps) = steps {
        v["steps"] = steps
            .iter()
            .map(|s| {
                json!({
                    "id": s.step_id,
                    "action": s.action,
                    "resource": s.resource,
                    "status": s.status,
                    "started_at": s.started_at,
                    "finished_at": s.finished_at,
                    "operation": s.operation,
                    "error": s.error,
                    "progress": s.progress,
                })
            })
            .collect();
    }
    v
}

async fn get(
    State(state): State<AppState>,
    _: Viewer,
    Path(id): Path<i64>,
) -> AppResult<Json<Value>> {
    let view = crate::jobs::read_job(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut v = job_json(&view.job, Some(&view.steps));
    // A step waiting out a rate limit or a transient failure says so, with the time left.
    for s in v["steps"].as_array_mut().into_iter().flatten() {
        s["waiting"] = Value::Null;
    }
    for w in &view.waits {
        if let Some(i) = view.steps.iter().position(|s| s.idx == w.idx) {
            v["steps"][i]["waiting"] = json!({
                "message": crate::jobs::wait_words(w),
                "until": w.until,
            });
        }
    }
    // A succeeded step's outcome (for a Cloud Run deploy: `revision R at URL`) is the runner's
    // last log line for it; shown per step so a script sees each region's revision and URL.
    for s in v["steps"].as_array_mut().into_iter().flatten() {
        let id = s["id"].as_str().unwrap_or_default().to_string();
        let prefix = format!("{id} succeeded: ");
        if let Some(summary) = view
            .log
            .iter()
            .rev()
            .filter(|l| l.step.as_deref() == Some(id.as_str()))
            .find_map(|l| l.message.strip_prefix(&prefix))
        {
            s["summary"] = json!(summary);
        }
    }
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    deployment: Option<i64>,
    /// The `next` cursor of the previous page.
    before: Option<String>,
    limit: Option<i64>,
}

/// A cursor is `created_at,id` of the last job of the previous page.
fn parse_cursor(s: &str) -> AppResult<(String, i64)> {
    s.rsplit_once(',')
        .and_then(|(at, id)| Some((at.to_string(), id.parse().ok()?)))
        .ok_or_else(|| AppError::invalid("before", "expected the `next` value of a previous page"))
}

async fn list(
    State(state): State<AppState>,
    _: Viewer,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<Value>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 500"));
    }
    let cursor = q.before.as_deref().map(parse_cursor).transpose()?;
    let deployment = q.deployment.map(crate::db::jobs::deployment_key);
    let jobs = db::jobs::list_jobs(
        &state.db,
        deployment.as_deref(),
        cursor.as_ref().map(|(at, id)| (at.as_str(), *id)),
        limit,
    )
    .await?;
    let next = (jobs.len() as i64 == limit)
        .then(|| jobs.last().map(|j| format!("{},{}", j.created_at, j.id)))
        .flatten();
    Ok(Json(json!({
        "jobs": jobs.iter().map(|j| job_json(j, None)).collect::<Vec<_>>(),
        "next": next,
    })))
}

async fn cancel(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
) -> AppResult<(StatusCode, Json<Value>)> {
    state.deployer.runner().cancel(id).await?;
    crate::audit::record_job(&state.db, &user.name, crate::audit::Action::JobCancel, id).await;
    let job = db::jobs::get_job(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::ACCEPTED, Json(job_json(&job, None))))
}

async fn resume(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
) -> AppResult<(StatusCode, Json<Value>)> {
    state.deployer.resume(id).await?;
    crate::audit::record_job(&state.db, &user.name, crate::audit::Action::JobResume, id).await;
    let job = db::jobs::get_job(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::ACCEPTED, Json(job_json(&job, None))))
}
