//! Cloud Run services: reads (a service reconciles until its revision is Ready), the list, and
//! create, patch (with `allowMissing`) and delete as long-running operations whose metadata is
//! the Service (docs/google-cloud.md §1, §11.11).

use super::operations::render_op;
use super::service_body::build_service;
use super::{API, Ctx, SERVICE_TYPE, invalid, not_found, run_err, valid_service_id};
use crate::cloud::sandbox::request::Call;
use crate::cloud::sandbox::{Api, ApiError, ApiResult, Fault, now_ms, rfc3339};
use crate::db::sandbox::{self as sql, StoredResource};
use axum::response::IntoResponse;
use serde_json::{Value, json};

/// The service as GET answers it now: reconciling until its revision's time has come, then
/// Ready (or failed, for a failing image).
pub(super) fn render(r: &StoredResource, at_ms: i64) -> Value {
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
    super::multi_region::render(&mut s);
    s
}

pub(super) async fn get(ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let mut conn = ctx.sb.db.acquire().await.map_err(run_err)?;
    let r = sql::get_resource(&mut conn, ctx.key(id))
        .await
        .map_err(run_err)?
        .ok_or_else(|| not_found(&ctx.name(id)))?;
    Ok(axum::Json(render(&r, now_ms())).into_response())
}

pub(super) async fn list(ctx: &Ctx<'_>, call: &Call<'_>) -> ApiResult {
    // The parent's own documentation (run-v2 discovery): one region per list, no wildcard.
    if ctx.location == "-" {
        return Err(invalid(
            "Location must be a valid Google Cloud region, and cannot be the \"-\" wildcard.",
        ));
    }
    // The query check made sure pageSize is an int32; unset or not above 0 means the default.
    let size = match call.query("pageSize").and_then(|s| s.parse::<i64>().ok()) {
        Some(n) if n > 0 => (n as usize).min(1000),
        _ => 100,
    };
    // The token is the last name of the previous page: each page is one indexed range read,
    // however deep it is.
    let after = match call.query("pageToken") {
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
        now_ms(),
    )
    .await
    .map_err(run_err)?;
    let more = rows.len() > size;
    rows.truncate(size);
    let now = now_ms();
    let services: Vec<Value> = rows.iter().map(|r| render(r, now)).collect();
    // An empty list is an empty object: proto3 JSON leaves out empty repeated fields.
    let mut page = json!({});
    if !services.is_empty() {
        page["services"] = json!(services);
    }
    if more && let Some(last) = rows.last() {
        page["nextPageToken"] = json!(last.name);
    }
    Ok(axum::Json(page).into_response())
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mutation {
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

pub(super) fn region_code(region: &str) -> String {
    // Google's short codes (us-central1 → uc); the initials are close enough for an opaque URL.
    region.split('-').filter_map(|p| p.chars().next()).collect()
}

pub(super) async fn mutate(
    ctx: &Ctx<'_>,
    id: &str,
    kind: Mutation,
    call: &Call<'_>,
    input: Value,
) -> ApiResult {
    if !valid_service_id(id) {
        return Err(invalid(format!(
            "service_id '{id}' is invalid: must start with a letter, contain only lowercase letters, digits and hyphens, not end with a hyphen, and be fewer than 50 characters."
        )));
    }
    let _serial = ctx.sb.write.lock().await;
    let mut conn = ctx.sb.db.acquire().await.map_err(run_err)?;
    let existing = sql::get_resource(&mut conn, ctx.key(id))
        .await
        .map_err(run_err)?;
    let name = ctx.name(id);
    let now = now_ms();
    let config = ctx.sb.config();
    let latency = config.run_latency.as_millis() as i64;
    let flag = |name: &str| call.query(name) == Some("true");
    let validate_only = flag("validateOnly");

    let (new_row, delete, metadata, response, op_error, done_at) = match kind {
        Mutation::Delete => {
            let r = existing.ok_or_else(|| not_found(&name))?;
            if let Some(etag) = call.query("etag")
                && Some(etag) != r.body["etag"].as_str()
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
            if kind == Mutation::Patch && existing.is_none() && !flag("allowMissing") {
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
            if let (Some(r), Some(mask)) = (&existing, call.query("updateMask")) {
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
            super::multi_region::check(ctx.location, &wanted)?;
            let (row, internal, ready_at) = build_service(
                ctx,
                id,
                &wanted,
                existing.as_ref(),
                flag("forceNewRevision"),
                now,
                latency,
                &config.faults.failing_images,
            );
            let stored = StoredResource {
                project: ctx.project.into(),
                location: ctx.location.into(),
                collection: "services".into(),
                name: id.into(),
                body: row.clone(),
                internal: internal.clone(),
                ready_at_ms: ready_at,
                created_ms: existing.as_ref().map(|r| r.created_ms).unwrap_or(now),
                visible_at_ms: 0,
                gone_at_ms: None,
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
