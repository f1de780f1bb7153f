//! Cloud Run Admin API v2 in the sandbox: services with revisions that become Ready after the
//! configured latency, URIs, long-running operations whose metadata is the Service (docs/google-cloud.md §1),
//! IAM policies with etags, and the failing-image fault.

use super::{Api, ApiError, ApiResult, Fault, Sandbox, now_ms, random_hex, rfc3339, sha256_hex};
use crate::db::sandbox::{self as sql, Key, StoredResource};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use regex::Regex;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::SqliteConnection;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

const API: &str = "run";
const SERVICE_TYPE: &str = "type.googleapis.com/google.cloud.run.v2.Service";

static SERVICE_ID_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$").expect("valid regex"));

/// Starts with a letter, lowercase letters, digits and hyphens, no trailing hyphen, < 50 chars.
pub(crate) fn valid_service_id(id: &str) -> bool {
    SERVICE_ID_RE.is_match(id)
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::run(400, "INVALID_ARGUMENT", message)
}

fn not_found(name: &str) -> ApiError {
    ApiError::run(404, "NOT_FOUND", format!("service \"{name}\" not found"))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct RunQuery {
    service_id: Option<String>,
    validate_only: Option<bool>,
    allow_missing: Option<bool>,
    force_new_revision: Option<bool>,
    update_mask: Option<String>,
    etag: Option<String>,
    page_size: Option<usize>,
    page_token: Option<String>,
}

pub(super) async fn handle(
    State(sb): State<Arc<Sandbox>>,
    method: Method,
    Path((project, location, rest)): Path<(String, String, String)>,
    Query(q): Query<RunQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle_inner(&sb, method, &project, &location, &rest, &q, &headers, &body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

struct Ctx<'a> {
    sb: &'a Sandbox,
    project: &'a str,
    location: &'a str,
}

impl Ctx<'_> {
    fn parent(&self) -> String {
        format!("projects/{}/locations/{}", self.project, self.location)
    }

    fn name(&self, id: &str) -> String {
        format!("{}/services/{id}", self.parent())
    }

    fn key<'k>(&'k self, id: &'k str) -> Key<'k> {
        Key {
            api: API,
            project: self.project,
            location: self.location,
            collection: "services",
            name: id,
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn handle_inner(
    sb: &Sandbox,
    method: Method,
    project: &str,
    location: &str,
    rest: &str,
    q: &RunQuery,
    headers: &HeaderMap,
    body: &Bytes,
) -> ApiResult {
    sb.gate(Api::Run, headers).await?;
    let ctx = Ctx {
        sb,
        project,
        location,
    };
    let segs: Vec<&str> = rest.split('/').collect();
    let unknown = || {
        ApiError::run(
            404,
            "NOT_FOUND",
            format!(
                "The requested URL {method} /v2/{}/{rest} was not found.",
                ctx.parent()
            ),
        )
    };
    match (&method, segs.as_slice()) {
        (&Method::GET, ["services"]) => list(&ctx, q).await,
        (&Method::POST, ["services"]) => {
            let id = q.service_id.clone().unwrap_or_default();
            mutate(&ctx, &id, Mutation::Create, q, body).await
        }
        (&Method::GET, ["services", id]) => match id.split_once(':') {
            Some((id, "getIamPolicy")) => get_iam(&ctx, id).await,
            Some(_) => Err(unknown()),
            None => get(&ctx, id).await,
        },
        (&Method::POST, ["services", id]) => match id.split_once(':') {
            Some((id, "setIamPolicy")) => set_iam(&ctx, id, body).await,
            _ => Err(unknown()),
        },
        (&Method::PATCH, ["services", id]) => mutate(&ctx, id, Mutation::Patch, q, body).await,
        (&Method::DELETE, ["services", id]) => mutate(&ctx, id, Mutation::Delete, q, body).await,
        (&Method::GET, ["operations", id]) => operation(&ctx, id, false).await,
        (&Method::POST, ["operations", id]) => match id.split_once(':') {
            Some((id, "wait")) => operation(&ctx, id, true).await,
            _ => Err(unknown()),
        },
        (&Method::DELETE, ["operations", id]) => {
            let mut conn = sb.db.acquire().await.map_err(run_err)?;
            let name = format!("{}/operations/{id}", ctx.parent());
            if sql::delete_operation(&mut conn, API, project, location, id)
                .await
                .map_err(run_err)?
            {
                Ok(axum::Json(json!({})).into_response())
            } else {
                Err(ApiError::run(
                    404,
                    "NOT_FOUND",
                    format!("operation \"{name}\" not found"),
                ))
            }
        }
        _ => Err(unknown()),
    }
}

fn run_err(e: sqlx::Error) -> ApiError {
    ApiError::internal(e, Api::Run)
}

/// The service as GET answers it now: reconciling until its revision's time has come, then
/// Ready (or failed, for a failing image).
fn render(r: &StoredResource, at_ms: i64) -> Value {
    let mut s = r.body.clone();
    let created_rev = s["latestCreatedRevision"].clone();
    let fail = r.internal["failReason"].as_str();
    if at_ms < r.ready_at_ms {
        s["reconciling"] = json!(true);
        s["terminalCondition"] = json!({
            "type": "Ready", "state": "CONDITION_RECONCILING",
            "lastTransitionTime": rfc3339(r.ready_at_ms.min(at_ms)),
        });
        s["conditions"] = json!([s["terminalCondition"].clone()]);
        if let Some(prev) = r.internal["readyRevision"].as_str() {
            s["latestReadyRevision"] = json!(prev);
        }
    } else if let Some(reason) = fail {
        s["reconciling"] = json!(false);
        s["terminalCondition"] = json!({
            "type": "Ready", "state": "CONDITION_FAILED", "reason": "REVISION_FAILED",
            "revisionReason": "HEALTH_CHECK_CONTAINER_ERROR", "severity": "ERROR",
            "message": reason, "lastTransitionTime": rfc3339(r.ready_at_ms),
        });
        s["conditions"] = json!([s["terminalCondition"].clone()]);
        if let Some(prev) = r.internal["readyRevision"].as_str() {
            s["latestReadyRevision"] = json!(prev);
        }
    } else {
        s["reconciling"] = json!(false);
        s["terminalCondition"] = json!({
            "type": "Ready", "state": "CONDITION_SUCCEEDED",
            "lastTransitionTime": rfc3339(r.ready_at_ms),
        });
        s["conditions"] = json!([
            s["terminalCondition"].clone(),
            {"type": "RoutesReady", "state": "CONDITION_SUCCEEDED", "lastTransitionTime": rfc3339(r.ready_at_ms)},
            {"type": "ConfigurationsReady", "state": "CONDITION_SUCCEEDED", "lastTransitionTime": rfc3339(r.ready_at_ms)},
        ]);
        s["latestReadyRevision"] = created_rev;
        s["trafficStatuses"] =
            json!([{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}]);
    }
    s
}

async fn get(ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let mut conn = ctx.sb.db.acquire().await.map_err(run_err)?;
    let r = sql::get_resource(&mut conn, ctx.key(id))
        .await
        .map_err(run_err)?
        .ok_or_else(|| not_found(&ctx.name(id)))?;
    Ok(axum::Json(render(&r, now_ms())).into_response())
}

async fn list(ctx: &Ctx<'_>, q: &RunQuery) -> ApiResult {
    let size = q.page_size.unwrap_or(100).clamp(1, 1000);
    // The token is the last name of the previous page: each page is one indexed range read,
    // however deep it is.
    let after = match q.page_token.as_deref() {
        None | Some("") => None,
        Some(t)
            if t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
        {
            Some(t)
        }
        Some(_) => return Err(invalid("Invalid page token.")),
    };
    let mut conn = ctx.sb.db.acquire().await.map_err(run_err)?;
    let mut rows = sql::list_page(
        &mut conn,
        API,
        ctx.project,
        ctx.location,
        "services",
        after,
        size as u32 + 1,
    )
    .await
    .map_err(run_err)?;
    let more = rows.len() > size;
    rows.truncate(size);
    let now = now_ms();
    let services: Vec<Value> = rows.iter().map(|r| render(r, now)).collect();
    let mut page = json!({ "services": services });
    if more && let Some(last) = rows.last() {
        page["nextPageToken"] = json!(last.name);
    }
    Ok(axum::Json(page).into_response())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mutation {
    Create,
    Patch,
    Delete,
}

/// Label and annotation prefixes v2 refuses (docs/google-cloud.md §1).
const RESERVED_PREFIXES: &[&str] = &[
    "run.googleapis.com",
    "cloud.googleapis.com",
    "serving.knative.dev",
    "autoscaling.knative.dev",
];

/// Validates the input fields of a Service body.
fn check_service(body: &Value) -> ApiResult<()> {
    let containers = body
        .pointer("/template/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if containers.is_empty() {
        return Err(invalid(
            "template.containers: at least one container is required.",
        ));
    }
    for (i, c) in containers.iter().enumerate() {
        if c["image"].as_str().is_none_or(str::is_empty) {
            return Err(invalid(format!(
                "template.containers[{i}].image: Image is required."
            )));
        }
        if c["ports"].as_array().is_some_and(|p| p.len() > 1) {
            return Err(invalid(format!(
                "template.containers[{i}].ports: at most one port may be specified."
            )));
        }
        if let Some(name) = c.pointer("/ports/0/name").and_then(Value::as_str)
            && name != "http1"
            && name != "h2c"
        {
            return Err(invalid(format!(
                "template.containers[{i}].ports[0].name: must be 'http1' or 'h2c'."
            )));
        }
        for (j, e) in c["env"].as_array().into_iter().flatten().enumerate() {
            check_env(&format!("template.containers[{i}].env[{j}]"), e)?;
        }
    }
    if let Some(ingress) = body["ingress"].as_str()
        && ![
            "INGRESS_TRAFFIC_ALL",
            "INGRESS_TRAFFIC_INTERNAL_ONLY",
            "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
            "INGRESS_TRAFFIC_NONE",
        ]
        .contains(&ingress)
    {
        return Err(invalid(format!("ingress: invalid value '{ingress}'.")));
    }
    for field in ["labels", "annotations"] {
        for obj in [body.get(field), body.pointer(&format!("/template/{field}"))]
            .into_iter()
            .flatten()
        {
            if let Some(m) = obj.as_object() {
                for k in m.keys() {
                    if RESERVED_PREFIXES.iter().any(|p| k.starts_with(p)) {
                        return Err(invalid(format!(
                            "{field}: the key '{k}' uses a reserved prefix and is not supported in Cloud Run v2."
                        )));
                    }
                }
            }
        }
    }
    if let Some(traffic) = body["traffic"].as_array()
        && !traffic.is_empty()
    {
        let total: i64 = traffic.iter().filter_map(|t| t["percent"].as_i64()).sum();
        if total != 100 {
            return Err(invalid(format!(
                "traffic: percentages must add up to 100, got {total}."
            )));
        }
    }
    Ok(())
}

/// One `EnvVar` (docs/google-cloud.md §1): a name, and a literal `value` or a
/// `valueSource.secretKeyRef` naming a Secret Manager secret, not both. The secret is kept as
/// sent and given back as sent; the sandbox has no Secret Manager, so any well-formed secret
/// and version resolve.
fn check_env(at: &str, e: &Value) -> ApiResult<()> {
    if e["name"].as_str().is_none_or(str::is_empty) {
        return Err(invalid(format!("{at}.name: Required.")));
    }
    let Some(source) = e.get("valueSource") else {
        return Ok(());
    };
    if e.get("value").is_some_and(|v| !v.is_null()) {
        return Err(invalid(format!(
            "{at}: value and valueSource cannot both be set."
        )));
    }
    let secret = source
        .pointer("/secretKeyRef/secret")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if secret.is_empty() {
        return Err(invalid(format!(
            "{at}.valueSource.secretKeyRef.secret: Required."
        )));
    }
    if !crate::domain::validate::is_secret_reference(secret) {
        return Err(invalid(format!(
            "{at}.valueSource.secretKeyRef.secret: '{secret}' is not a valid secret name."
        )));
    }
    let version = source
        .pointer("/secretKeyRef/version")
        .and_then(Value::as_str)
        .unwrap_or("latest");
    let alias = |v: &str| {
        !v.is_empty()
            && v.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
    };
    if !alias(version) {
        return Err(invalid(format!(
            "{at}.valueSource.secretKeyRef.version: '{version}' is not a valid secret version."
        )));
    }
    Ok(())
}

/// A deterministic 12-digit project number for a project id.
fn project_number(project: &str) -> String {
    let h = sha256_hex(project);
    let n = u64::from_str_radix(&h[..12], 16).unwrap_or(1) % 900_000_000_000 + 100_000_000_000;
    n.to_string()
}

fn region_code(region: &str) -> String {
    // Google's short codes (us-central1 → uc); the initials are close enough for an opaque URL.
    region.split('-').filter_map(|p| p.chars().next()).collect()
}

async fn mutate(ctx: &Ctx<'_>, id: &str, kind: Mutation, q: &RunQuery, body: &Bytes) -> ApiResult {
    if !valid_service_id(id) {
        return Err(invalid(format!(
            "service_id '{id}' is invalid: must start with a letter, contain only lowercase letters, digits and hyphens, not end with a hyphen, and be fewer than 50 characters."
        )));
    }
    let input: Value = if kind == Mutation::Delete {
        Value::Null
    } else {
        if body.is_empty() {
            return Err(invalid("A Service body is required."));
        }
        serde_json::from_slice(body)
            .map_err(|e| invalid(format!("Invalid JSON payload received. {e}")))?
    };
    let _serial = ctx.sb.write.lock().await;
    let mut conn = ctx.sb.db.acquire().await.map_err(run_err)?;
    let existing = sql::get_resource(&mut conn, ctx.key(id))
        .await
        .map_err(run_err)?;
    let name = ctx.name(id);
    let now = now_ms();
    let config = ctx.sb.config();
    let latency = config.run_latency.as_millis() as i64;
    let validate_only = q.validate_only.unwrap_or(false);

    let (new_row, delete, metadata, response, op_error, done_at) = match kind {
        Mutation::Delete => {
            let r = existing.ok_or_else(|| not_found(&name))?;
            if let Some(etag) = &q.etag
                && Some(etag.as_str()) != r.body["etag"].as_str()
            {
                return Err(ApiError::run(
                    409,
                    "ABORTED",
                    format!("etag mismatch for service \"{name}\": read it again and retry."),
                ));
            }
            let snapshot = render(&r, now);
            (
                None,
                true,
                snapshot.clone(),
                Some(snapshot),
                None,
                now + latency,
            )
        }
        Mutation::Create | Mutation::Patch => {
            if kind == Mutation::Create && existing.is_some() {
                return Err(ApiError::run(
                    409,
                    "ALREADY_EXISTS",
                    format!("Resource '{id}' already exists."),
                ));
            }
            if kind == Mutation::Patch && existing.is_none() && !q.allow_missing.unwrap_or(false) {
                return Err(not_found(&name));
            }
            if let (Some(r), Some(etag)) = (&existing, input["etag"].as_str())
                && Some(etag) != r.body["etag"].as_str()
            {
                return Err(ApiError::run(
                    409,
                    "ABORTED",
                    format!("etag mismatch for service \"{name}\": read it again and retry."),
                ));
            }
            let mut wanted = input.clone();
            if let (Some(r), Some(mask)) = (&existing, q.update_mask.as_deref()) {
                // Only the masked top-level fields change; the rest is kept.
                let mut merged = r.body.clone();
                for f in mask.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                    let top = f.split('.').next().unwrap_or(f);
                    match input.get(top) {
                        Some(v) => merged[top] = v.clone(),
                        None => {
                            merged.as_object_mut().expect("object").remove(top);
                        }
                    }
                }
                wanted = merged;
            }
            check_service(&wanted)?;
            let (row, internal, ready_at) = build_service(
                ctx,
                id,
                &wanted,
                existing.as_ref(),
                q.force_new_revision.unwrap_or(false),
                now,
                latency,
                &config.faults.failing_images,
            );
            let stored = StoredResource {
                location: ctx.location.into(),
                collection: "services".into(),
                name: id.into(),
                body: row.clone(),
                internal: internal.clone(),
                ready_at_ms: ready_at,
                created_ms: existing.as_ref().map(|r| r.created_ms).unwrap_or(now),
            };
            let metadata = render(&stored, now);
            let finished = render(&stored, ready_at);
            let error = internal["failReason"]
                .as_str()
                .map(|m| json!({"code": 9, "message": m}));
            let response = if error.is_none() {
                Some(finished)
            } else {
                None
            };
            (Some(stored), false, metadata, response, error, ready_at)
        }
    };
    if validate_only {
        return Ok(axum::Json(json!({"name": format!("{}/operations/validate-only", ctx.parent()), "done": true,
            "metadata": with_type(&metadata), "response": with_type(response.as_ref().unwrap_or(&metadata))})).into_response());
    }
    let fault = ctx.sb.mutation_fault();
    let op_id = uuid::Uuid::new_v4().to_string();
    let op_name = format!("{}/operations/{op_id}", ctx.parent());
    let mut op = json!({"name": op_name, "metadata": with_type(&metadata)});
    let mut error = op_error;
    if fault == Some(Fault::OperationError) {
        error = Some(
            json!({"code": 13, "message": "Internal error (sandbox fault injection); nothing was changed."}),
        );
    } else if let Some(resp) = &response {
        op["response"] = with_type(resp);
    }
    let mut tx = ctx.sb.db.begin().await.map_err(run_err)?;
    if fault != Some(Fault::OperationError) {
        if delete {
            sql::delete_resource(&mut tx, ctx.key(id))
                .await
                .map_err(run_err)?;
        }
        if let Some(row) = &new_row {
            sql::put_resource(
                &mut tx,
                ctx.key(id),
                &row.body,
                &row.internal,
                row.ready_at_ms,
                row.created_ms,
            )
            .await
            .map_err(run_err)?;
        }
    }
    sql::insert_operation(
        &mut tx,
        API,
        ctx.project,
        ctx.location,
        &op_id,
        &op,
        error.as_ref(),
        done_at,
        None,
        now,
    )
    .await
    .map_err(run_err)?;
    tx.commit().await.map_err(run_err)?;
    if fault == Some(Fault::LostReply) {
        return Err(ApiError::for_fault(Fault::LostReply, Api::Run));
    }
    // The reply shows the operation just started (no `done`), whatever the commit took.
    let reply_done_at = if latency == 0 { done_at } else { i64::MAX };
    Ok(axum::Json(render_op(&op, error.as_ref(), reply_done_at)).into_response())
}

fn with_type(service: &Value) -> Value {
    let mut v = json!({"@type": SERVICE_TYPE});
    if let Some(m) = service.as_object() {
        for (k, x) in m {
            v[k] = x.clone();
        }
    }
    v
}

/// The operation as of now: no `done` (false) until its time, then `done` with `response` or
/// `error`.
fn render_op(op: &Value, error: Option<&Value>, done_at: i64) -> Value {
    let mut v = json!({"name": op["name"], "metadata": op["metadata"]});
    if now_ms() >= done_at {
        v["done"] = json!(true);
        match error {
            Some(e) => v["error"] = e.clone(),
            None => v["response"] = op["response"].clone(),
        }
    }
    v
}

/// The stored Service for a create or patch: server fields, a new revision when the template
/// changed, and when that revision will be Ready.
#[allow(clippy::too_many_arguments)]
fn build_service(
    ctx: &Ctx<'_>,
    id: &str,
    input: &Value,
    existing: Option<&StoredResource>,
    force_new_revision: bool,
    now: i64,
    latency: i64,
    failing_images: &[String],
) -> (Value, Value, i64) {
    let mut s = input.clone();
    let obj = s.as_object_mut().expect("object");
    for f in [
        "name",
        "uid",
        "generation",
        "createTime",
        "updateTime",
        "creator",
        "lastModifier",
        "observedGeneration",
        "terminalCondition",
        "conditions",
        "latestReadyRevision",
        "latestCreatedRevision",
        "trafficStatuses",
        "uri",
        "urls",
        "reconciling",
        "etag",
    ] {
        obj.remove(f);
    }
    let email = ctx.sb.account.client_email.clone();
    let number = project_number(ctx.project);
    // Server defaults seen in recordings.
    if s["ingress"].is_null() {
        s["ingress"] = json!("INGRESS_TRAFFIC_ALL");
    }
    if s["launchStage"].is_null() {
        s["launchStage"] = json!("GA");
    }
    if s["traffic"].as_array().is_none_or(Vec::is_empty) {
        s["traffic"] = json!([{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}]);
    }
    let t = &mut s["template"];
    if t["timeout"].is_null() {
        t["timeout"] = json!("300s");
    }
    if t["maxInstanceRequestConcurrency"].is_null() {
        t["maxInstanceRequestConcurrency"] = json!(80);
    }
    if t["serviceAccount"].is_null() {
        t["serviceAccount"] = json!(format!("{number}-compute@developer.gserviceaccount.com"));
    }
    if t["executionEnvironment"].is_null() {
        t["executionEnvironment"] = json!("EXECUTION_ENVIRONMENT_GEN2");
    }
    if t["scaling"].is_null() {
        t["scaling"] = json!({"maxInstanceCount": 100});
    }
    if let Some(cs) = t["containers"].as_array_mut() {
        for c in cs {
            if c["resources"].is_null() {
                c["resources"] =
                    json!({"limits": {"cpu": "1000m", "memory": "512Mi"}, "cpuIdle": true});
            }
            if c["ports"].as_array().is_none_or(Vec::is_empty) {
                c["ports"] = json!([{"name": "http1", "containerPort": 8080}]);
            }
        }
    }
    let generation = existing
        .and_then(|r| r.body["generation"].as_str())
        .and_then(|g| g.parse::<i64>().ok())
        .unwrap_or(0)
        + 1;
    let template_changed = existing.is_none_or(|r| {
        let mut old = r.body["template"].clone();
        let mut new = s["template"].clone();
        if let Some(o) = old.as_object_mut() {
            o.remove("revision");
        }
        if let Some(o) = new.as_object_mut() {
            o.remove("revision");
        }
        old != new
    });
    let revision_index = existing
        .and_then(|r| r.internal["revisionIndex"].as_i64())
        .unwrap_or(0)
        + i64::from(template_changed || force_new_revision);
    let revision = match s.pointer("/template/revision").and_then(Value::as_str) {
        Some(r) if template_changed => r.to_string(),
        _ => format!("{id}-{revision_index:05}-{}", &random_hex(2)[..3]),
    };
    let revision = if template_changed || force_new_revision || existing.is_none() {
        revision
    } else {
        existing
            .and_then(|r| r.body["latestCreatedRevision"].as_str())
            .unwrap_or(&revision)
            .to_string()
    };
    let hash = &project_number(&format!("{}/{id}", ctx.project))[..10];
    let uri = format!(
        "https://{id}-{hash}-{}.a.run.app",
        region_code(ctx.location)
    );
    s["name"] = json!(ctx.name(id));
    s["uid"] = json!(
        existing
            .and_then(|r| r.body["uid"].as_str().map(str::to_string))
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
    );
    s["generation"] = json!(generation.to_string());
    s["observedGeneration"] = json!(generation.to_string());
    s["createTime"] = existing
        .map(|r| r.body["createTime"].clone())
        .unwrap_or_else(|| json!(rfc3339(now)));
    s["updateTime"] = json!(rfc3339(now));
    s["creator"] = existing
        .map(|r| r.body["creator"].clone())
        .unwrap_or_else(|| json!(email));
    s["lastModifier"] = json!(email);
    s["latestCreatedRevision"] = json!(revision);
    s["uri"] = json!(uri);
    s["urls"] = json!([
        uri,
        format!("https://{id}-{number}.{}.run.app", ctx.location)
    ]);
    s["etag"] = json!(format!("\"{}\"", random_hex(12)));

    let mut internal = existing
        .map(|r| r.internal.clone())
        .unwrap_or_else(|| json!({}));
    // The revision that served before this change keeps serving while the new one starts.
    if let Some(prev) = existing.map(|r| render(r, now))
        && prev["terminalCondition"]["state"] == "CONDITION_SUCCEEDED"
    {
        internal["readyRevision"] = prev["latestReadyRevision"].clone();
    }
    internal["revisionIndex"] = json!(revision_index);
    let images: Vec<String> = s
        .pointer("/template/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["image"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    match images.iter().find(|img| {
        failing_images
            .iter()
            .any(|f| !f.is_empty() && img.contains(f.as_str()))
    }) {
        Some(img) => {
            internal["failReason"] = json!(format!(
                "Revision '{revision}' is not ready and cannot serve traffic. The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable within the allocated timeout. Image '{img}'."
            ));
        }
        None => {
            internal
                .as_object_mut()
                .expect("object")
                .remove("failReason");
        }
    }
    (s, internal, now + latency)
}

async fn operation(ctx: &Ctx<'_>, id: &str, wait: bool) -> ApiResult {
    let name = format!("{}/operations/{id}", ctx.parent());
    let mut conn = ctx.sb.db.acquire().await.map_err(run_err)?;
    let op = sql::get_operation(&mut conn, API, ctx.project, ctx.location, id)
        .await
        .map_err(run_err)?
        .ok_or_else(|| {
            ApiError::run(404, "NOT_FOUND", format!("operation \"{name}\" not found"))
        })?;
    drop(conn);
    if wait {
        let remaining = op.done_at_ms - now_ms();
        if remaining > 0 {
            let cap = ctx.sb.config().wait_cap;
            tokio::time::sleep(Duration::from_millis(remaining as u64).min(cap)).await;
        }
    }
    Ok(axum::Json(render_op(&op.body, op.error.as_ref(), op.done_at_ms)).into_response())
}

// --- IAM -------------------------------------------------------------------------------------

fn policy_of(r: &StoredResource) -> Value {
    let p = &r.internal["iam"];
    json!({
        "version": 1,
        "etag": p["etag"].as_str().unwrap_or("ACAB"),
        "bindings": p["bindings"].as_array().cloned().unwrap_or_default(),
    })
}

async fn get_iam(ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let mut conn = ctx.sb.db.acquire().await.map_err(run_err)?;
    let r = sql::get_resource(&mut conn, ctx.key(id))
        .await
        .map_err(run_err)?
        .ok_or_else(|| not_found(&ctx.name(id)))?;
    let mut p = policy_of(&r);
    if p["bindings"].as_array().is_some_and(Vec::is_empty) {
        p.as_object_mut().expect("object").remove("bindings");
    }
    Ok(axum::Json(p).into_response())
}

fn valid_member(m: &str) -> bool {
    m == "allUsers"
        || m == "allAuthenticatedUsers"
        || [
            "user:",
            "serviceAccount:",
            "group:",
            "domain:",
            "principal:",
            "principalSet:",
        ]
        .iter()
        .any(|p| m.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

async fn set_iam(ctx: &Ctx<'_>, id: &str, body: &Bytes) -> ApiResult {
    let req: Value = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("Invalid JSON payload received. {e}")))?;
    let policy = req
        .get("policy")
        .cloned()
        .ok_or_else(|| invalid("policy is required."))?;
    let _serial = ctx.sb.write.lock().await;
    let mut conn: sqlx::pool::PoolConnection<sqlx::Sqlite> =
        ctx.sb.db.acquire().await.map_err(run_err)?;
    let r = sql::get_resource(&mut conn, ctx.key(id))
        .await
        .map_err(run_err)?
        .ok_or_else(|| not_found(&ctx.name(id)))?;
    let mut r = r;
    if ctx.sb.take_iam_race() {
        // The other writer's change lands first, with a new etag.
        let mut theirs = policy_of(&r)["bindings"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        theirs.push(json!({"role": "roles/run.developer", "members": ["user:racer@example.com"]}));
        let etag = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            random_hex(6).as_bytes(),
        );
        r.internal["iam"] = json!({"etag": etag, "bindings": theirs});
        let internal = r.internal.clone();
        store_internal(&mut conn, ctx, id, &r, &internal).await?;
    }
    let current = policy_of(&r);
    if let Some(etag) = policy["etag"].as_str()
        && etag != current["etag"].as_str().unwrap_or_default()
    {
        return Err(ApiError::run(
            409,
            "ABORTED",
            "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.",
        ));
    }
    let bindings = policy["bindings"].as_array().cloned().unwrap_or_default();
    for (i, b) in bindings.iter().enumerate() {
        let role = b["role"].as_str().unwrap_or_default();
        if !role.starts_with("roles/") {
            return Err(invalid(format!(
                "policy.bindings[{i}].role: '{role}' is not a valid role."
            )));
        }
        for m in b["members"].as_array().cloned().unwrap_or_default() {
            let m = m.as_str().unwrap_or_default();
            if !valid_member(m) {
                return Err(invalid(format!(
                    "policy.bindings[{i}].members: '{m}' is not a valid member."
                )));
            }
        }
    }
    let etag = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        random_hex(6).as_bytes(),
    );
    let mut internal = r.internal.clone();
    internal["iam"] = json!({"etag": etag, "bindings": bindings});
    store_internal(&mut conn, ctx, id, &r, &internal).await?;
    Ok(axum::Json(json!({"version": 1, "etag": etag, "bindings": bindings})).into_response())
}

async fn store_internal(
    conn: &mut SqliteConnection,
    ctx: &Ctx<'_>,
    id: &str,
    r: &StoredResource,
    internal: &Value,
) -> ApiResult<()> {
    sql::put_resource(
        conn,
        ctx.key(id),
        &r.body,
        internal,
        r.ready_at_ms,
        r.created_ms,
    )
    .await
    .map_err(run_err)
}
