//! Deployments over JSON: create, list, get, update with optimistic locking.
//!
//! | call | answer |
//! | --- | --- |
//! | `POST /api/v1/deployments` (editor) | `201` the deployment, `version: 1`, `Location` |
//! | `GET /api/v1/deployments` (viewer) | `{ "deployments": [ ... ] }`, most recently changed first |
//! | `GET /api/v1/deployments/{id}` (viewer) | the deployment, with `ETag: "VERSION"` |
//! | `PUT /api/v1/deployments/{id}` (editor) + `If-Match: VERSION` | `200` the next version |
//! | `GET /api/v1/deployments/{id}/versions` (viewer) | `{ "versions": [...], "conflicts": [...] }` newest first: every saved version and every refused edit kept as a conflict copy |
//! | `DELETE /api/v1/deployments/{id}` (editor) | `204`; `409` while a job of it is queued or running, or while it has resources in the cloud (destroy first, or forget) |
//! | `POST /api/v1/deployments/{id}/forget` (editor) + `{"confirm": NAME}` | `200` the record of what it left running; the deployment is gone from the panel |
//!
//! A deployment is `{ id, name, version, spec, created_by, updated_by, created_at, updated_at,
//! applied_version, last_job }`; `last_job` is the newest apply or destroy job, `null` before the first. `spec` is the stored
//! document: a complete spec for deployments made here, possibly an incomplete draft for one
//! still being written in the wizard. A viewer gets it with every plain environment value
//! hidden (`domain::env_values`); only editors, who may write the spec, read them.
//!
//! Errors (`{"error": {"code", "message", "field"}}`):
//! - the body is not JSON, not an object, or not `application/json`: `400 bad_request`;
//! - the body is JSON but not a valid spec (wrong type, unknown or missing field, or a rule of
//!   validation): `422 invalid`, `field` naming the first field at fault and `errors` listing
//!   every `{field, message}`;
//! - a name another live deployment has: `422 invalid`, field `name`;
//! - `PUT` of another `name` or `project` while the deployment has resources in the cloud:
//!   `422 invalid` on that field (its resources would be left to nobody);
//! - `PUT` without `If-Match`: `428 precondition_required` (a blind overwrite is never done);
//!   an `If-Match` that is not a version number: `400`;
//! - `PUT` whose `If-Match` is not the current version: `412 precondition_failed`, with
//!   `current_version`, `updated_by` and `conflict_id` (the refused spec is kept as that
//!   conflict copy, so it is not lost either).

use crate::AppState;
use crate::auth::{Access, Editor, Viewer};
use crate::db::deployments::{self as store, DeploymentRow, SaveError};
use crate::domain::parse;
use crate::domain::spec::Spec;
use crate::domain::validate::{self, FieldError};
use crate::error::{AppError, Path};
use crate::http::Routes;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub fn routes(r: Routes) -> Routes {
    r.get("/api/v1/deployments", Access::Viewer, list)
        .post("/api/v1/deployments", Access::Editor, create)
        .get("/api/v1/deployments/{id}", Access::Viewer, get)
        .put("/api/v1/deployments/{id}", Access::Editor, update)
        .delete("/api/v1/deployments/{id}", Access::Editor, delete)
        .get(
            "/api/v1/deployments/{id}/versions",
            Access::Viewer,
            versions,
        )
        .post("/api/v1/deployments/{id}/forget", Access::Editor, forget)
}

#[derive(Debug, Serialize)]
pub struct DeploymentJson {
    pub id: i64,
    pub name: String,
    pub version: i64,
    pub spec: Value,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub applied_version: Option<i64>,
    /// The newest job of this deployment; `null` until it has one.
    pub last_job: Option<Value>,
}

impl From<DeploymentRow> for DeploymentJson {
    fn from(row: DeploymentRow) -> Self {
        DeploymentJson {
            id: row.id,
            name: row.name,
            version: row.version,
            // Stored specs are written by this server as JSON; a row that is not (a hand-edited
            // database) is shown as its text rather than failing the whole list.
            spec: stored_json(&row.spec),
            created_by: row.created_by,
            updated_by: row.updated_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
            applied_version: None,
            last_job: None,
        }
    }
}

/// An error response with extra members in the error object (the full error list, the current
/// version). The error-rendering middleware keeps JSON bodies that handlers write themselves.
fn error_json(
    status: StatusCode,
    code: &str,
    message: &str,
    field: Option<&str>,
    extra: Value,
) -> Response {
    let mut error = json!({ "code": code, "message": message });
    if let Some(f) = field {
        error["field"] = json!(f);
    }
    if let (Some(e), Some(x)) = (error.as_object_mut(), extra.as_object()) {
        for (k, v) in x {
            e.insert(k.clone(), v.clone());
        }
    }
    (status, axum::Json(json!({ "error": error }))).into_response()
}

fn invalid(errors: &[FieldError]) -> Response {
    let first = &errors[0];
    let message = if errors.len() == 1 {
        format!("{}: {}", first.field, first.message)
    } else {
        format!(
            "{}: {} (and {} more)",
            first.field,
            first.message,
            errors.len() - 1
        )
    };
    error_json(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        &message,
        Some(&first.field),
        json!({ "errors": errors }),
    )
}

fn bad_request(message: &str) -> Response {
    error_json(
        StatusCode::BAD_REQUEST,
        "bad_request",
        message,
        None,
        json!({}),
    )
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim().to_ascii_lowercase();
            v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
        })
}

/// The body as a valid spec, with the canonical JSON to store; or the error response.
fn spec_from_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Spec, String), Box<Response>> {
    let body = body.map_err(|rej| {
        Box::new(if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge.into_response()
        } else {
            bad_request(&format!(
                "could not read the request body: {}",
                rej.body_text()
            ))
        })
    })?;
    if !is_json(headers) {
        return Err(Box::new(bad_request(
            "the body must be a spec with Content-Type: application/json",
        )));
    }
    // Too large to store is refused before parsing says anything else.
    if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&body)
        && let Some((field, message)) = crate::domain::sizes::oversized(&doc)
    {
        return Err(Box::new(invalid(&[FieldError { field, message }])));
    }
    let spec = parse::parse(&body).map_err(|e| {
        Box::new(match e.field {
            // Not JSON, or not an object: nothing to name.
            None => bad_request(&e.message),
            Some(field) => invalid(&[FieldError {
                field,
                message: e.message,
            }]),
        })
    })?;
    validate::validate(&spec).map_err(|errs| Box::new(invalid(&errs)))?;
    let text = serde_json::to_string(&spec).map_err(|e| {
        Box::new(AppError::Internal(anyhow::anyhow!("serializing a spec: {e}")).into_response())
    })?;
    Ok((spec, text))
}

fn name_taken(name: &str) -> Response {
    invalid(&[FieldError {
        field: "name".into(),
        message: format!("a deployment named `{name}` already exists; choose another name"),
    }])
}

fn with_etag(mut res: Response, version: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// The deployment with its newest job (docs/contract.md §3.3).
async fn with_last_job(state: &AppState, row: DeploymentRow) -> Result<DeploymentJson, AppError> {
    let job =
        crate::db::jobs::latest_job(&state.db, &crate::db::jobs::deployment_key(row.id)).await?;
    let applied_version = crate::deploy::applied_version(&state.db, row.id).await?;
    let mut out = DeploymentJson::from(row);
    out.applied_version = applied_version;
    out.last_job = job.map(|j| crate::api::jobs::job_json(&j, None));
    Ok(out)
}

async fn list(State(state): State<AppState>, Viewer(user): Viewer) -> Result<Response, AppError> {
    let rows = store::list(&state.db).await?;
    let mut items: Vec<DeploymentJson> = Vec::with_capacity(rows.len());
    for row in rows {
        let mut item = with_last_job(&state, row).await?;
        user.env_values().document(&mut item.spec);
        items.push(item);
    }
    Ok(axum::Json(json!({ "deployments": items })).into_response())
}

async fn get(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let row = store::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let version = row.version;
    let mut item = with_last_job(&state, row).await?;
    user.env_values().document(&mut item.spec);
    Ok(with_etag(axum::Json(item).into_response(), version))
}

async fn create(
    State(state): State<AppState>,
    Editor(user): Editor,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let (spec, text) = match spec_from_body(&headers, body) {
        Ok(v) => v,
        Err(res) => return Ok(*res),
    };
    match store::create(&state.db, &spec.name, &text, &user.name).await {
        Ok(row) => {
            crate::audit::record(
                &state.db,
                &user.name,
                crate::audit::Action::DeploymentCreate,
                &crate::audit::deployment(row.id),
                serde_json::json!({"name": row.name, "version": row.version, "via": "API"}),
            )
            .await;
            let (id, version) = (row.id, row.version);
            let mut res =
                (StatusCode::CREATED, axum::Json(DeploymentJson::from(row))).into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/deployments/{id}")) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            Ok(with_etag(res, version))
        }
        Err(SaveError::NameTaken(n)) => Ok(name_taken(&n)),
        Err(SaveError::Db(e)) => Err(e.into()),
        Err(e) => Err(AppError::Internal(e.into())),
    }
}

fn stored_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// The history: so a refused edit (`conflict_id` of a 412) can be fetched back.
async fn versions(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    store::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let shown = |text: &str| {
        let mut spec = stored_json(text);
        user.env_values().document(&mut spec);
        spec
    };
    let versions: Vec<Value> = store::versions(&state.db, id)
        .await?
        .into_iter()
        .map(|v| {
            json!({ "version": v.version, "author": v.author, "created_at": v.created_at,
                    "spec": shown(&v.spec) })
        })
        .collect();
    let conflicts: Vec<Value> = store::conflicts(&state.db, id)
        .await?
        .into_iter()
        .map(|c| {
            json!({ "id": c.id, "based_on": c.based_on, "author": c.author,
                    "created_at": c.created_at, "spec": shown(&c.spec) })
        })
        .collect();
    Ok(axum::Json(json!({ "versions": versions, "conflicts": conflicts })).into_response())
}

/// Deleting is refused while it would orphan something: a job in progress, or resources in the
/// cloud (destroy them first, or forget the deployment on purpose).
async fn delete(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let row = store::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    state.deployer.delete(&row).await.map_err(refused_delete)?;
    crate::audit::record(
        &state.db,
        &user.name,
        crate::audit::Action::DeploymentDelete,
        &crate::audit::deployment(id),
        json!({"name": row.name, "via": "API"}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A refused delete, said as such.
fn refused_delete(e: crate::deploy::DeployError) -> AppError {
    match AppError::from(e) {
        AppError::Conflict(m) => AppError::Conflict(format!("not deleted: {m}")),
        other => other,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ForgetBody {
    /// The deployment's name, typed.
    #[serde(default)]
    confirm: String,
}

/// The record kept of a forgotten deployment.
fn forgotten_json(f: &crate::db::forgotten::ForgottenRow) -> Value {
    json!({
        "deployment": f.deployment_id,
        "name": f.name,
        "project": f.project,
        "resources": f.resource_paths(),
        "spec": stored_json(&f.spec),
        "job_id": f.job_id,
        "forgotten_by": f.forgotten_by,
        "forgotten_at": f.forgotten_at,
    })
}

/// Takes the deployment off the panel and leaves its resources running, on purpose: the answer
/// is the record kept of them, which stops any later plan from touching them.
async fn forget(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
    crate::error::Json(body): crate::error::Json<ForgetBody>,
) -> Result<Response, AppError> {
    let row = store::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let record = state
        .deployer
        .forget(&row, &body.confirm, &user.name)
        .await?;
    crate::audit::record(
        &state.db,
        &user.name,
        crate::audit::Action::DeploymentForget,
        &crate::audit::deployment(id),
        json!({"name": record.name, "project": record.project, "job": record.job_id,
            "resources": record.resource_paths().len(), "via": "API"}),
    )
    .await;
    Ok(axum::Json(forgotten_json(&record)).into_response())
}

/// `If-Match: 3`, `"3"` or `W/"3"`: the version the client edited.
pub fn parse_if_match(headers: &HeaderMap) -> Result<Option<i64>, String> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v
        .to_str()
        .map_err(|_| "If-Match must be the version number you edited".to_string())?
        .trim();
    let s = s.strip_prefix("W/").unwrap_or(s).trim_matches('"');
    s.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(Some)
        .ok_or_else(|| format!("If-Match must be the version number you edited (as in the deployment's `version` or ETag), not `{s}`"))
}

async fn update(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let expected = match parse_if_match(&headers) {
        Ok(Some(v)) => v,
        Ok(None) => {
            if store::get(&state.db, id).await?.is_none() {
                return Err(AppError::NotFound);
            }
            return Ok(error_json(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition_required",
                "send If-Match: VERSION (the version you edited) so a newer edit is never overwritten",
                None,
                json!({}),
            ));
        }
        Err(msg) => return Ok(bad_request(&msg)),
    };
    let (spec, text) = match spec_from_body(&headers, body) {
        Ok(v) => v,
        Err(res) => return Ok(*res),
    };
    match crate::deploy::refuse_moving_applied(&state.db, id, &spec.name, &spec.project).await {
        Ok(()) => {}
        Err(crate::deploy::DeployError::Moved { field, message }) => {
            return Ok(invalid(&[FieldError {
                field: field.into(),
                message,
            }]));
        }
        Err(e) => return Err(e.into()),
    }
    match store::update(&state.db, id, expected, &spec.name, &text, &user.name).await {
        Ok(row) => {
            crate::audit::record(
                &state.db,
                &user.name,
                crate::audit::Action::DeploymentEdit,
                &crate::audit::deployment(row.id),
                serde_json::json!({"name": row.name, "version": row.version, "via": "API"}),
            )
            .await;
            let version = row.version;
            // The same representation as GET: an edit does not change what is applied.
            Ok(with_etag(
                axum::Json(with_last_job(&state, row).await?).into_response(),
                version,
            ))
        }
        Err(SaveError::Stale {
            expected,
            current,
            current_by,
            conflict_id,
        }) => {
            crate::audit::record(
                &state.db,
                &user.name,
                crate::audit::Action::DeploymentConflictCopy,
                &crate::audit::deployment(id),
                serde_json::json!({"conflict": conflict_id, "edited": expected, "current": current, "via": "API"}),
            )
            .await;
            Ok(error_json(
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                &format!(
                    "not saved: you edited version {expected}, but {current_by} saved version {current} first. Your spec is kept as conflict copy {conflict_id}; GET the deployment, merge, and PUT with If-Match: {current}"
                ),
                None,
                json!({
                    "current_version": current,
                    "updated_by": current_by,
                    "conflict_id": conflict_id,
                }),
            ))
        }
        Err(SaveError::NotFound) => Err(AppError::NotFound),
        Err(SaveError::NameTaken(n)) => Ok(name_taken(&n)),
        Err(SaveError::Db(e)) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(header::IF_MATCH, HeaderValue::from_str(v).unwrap());
        m
    }

    #[test]
    fn if_match_forms() {
        assert_eq!(parse_if_match(&HeaderMap::new()), Ok(None));
        assert_eq!(parse_if_match(&h("3")), Ok(Some(3)));
        assert_eq!(parse_if_match(&h("\"3\"")), Ok(Some(3)));
        assert_eq!(parse_if_match(&h("W/\"12\"")), Ok(Some(12)));
        assert!(parse_if_match(&h("*")).is_err());
        assert!(parse_if_match(&h("0")).is_err());
        assert!(parse_if_match(&h("abc")).is_err());
    }
}
