//! The flow every collection shares: get and the read-time fields, then insert, delete,
//! patch/update and the setters, each validated whole by `prepare`, which writes references
//! as full URLs, calls the kind's own rules, checks what the references name and fills the
//! server's fields.
//!
//! A resource appears and disappears with its operation (docs/google-cloud.md §11.3): an
//! insert is not there to read until its operation is DONE, a deleted resource is until its
//! delete is DONE, and while either runs the resource takes no other change.

use super::names::{check_name, str_field};
use super::operations::{Change, Write};
use super::references::{check_references, normalise};
use super::users::{Users, resource_path, users_of};
use super::{
    Coll, Ctx, Fingerprint, addresses, backend_services, forwarding_rules, health_checks, negs,
    security_policies, ssl_certificates, ssl_policies, target_proxies, url_maps,
};
use crate::cloud::sandbox::{ApiError, ApiResult, merge_patch, random_hex, random_id, rfc3339};
use crate::db::sandbox::{self as sql, StoredResource};
use axum::response::IntoResponse;
use base64::Engine;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

pub(super) async fn get(ctx: &Ctx<'_>, c: &str, n: &str) -> ApiResult {
    let mut conn = ctx.sb.db.acquire().await?;
    let res = sql::get_resource(&mut conn, ctx.key(c, n))
        .await?
        .filter(|r| r.visible(ctx.now))
        .ok_or_else(|| ApiError::not_found(&ctx.path(c, n)))?;
    let mut users = Users::default();
    Ok(axum::Json(render(ctx, &mut conn, &mut users, &res).await?).into_response())
}

/// The resource as GET answers it now: stored body plus fields that depend on other resources
/// (an address's users, a backend service's usedBy) or on time (certificate provisioning).
pub(super) async fn render(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    users: &mut Users,
    r: &StoredResource,
) -> ApiResult<Value> {
    let mut body = r.body.clone();
    let path = resource_path(r);
    match r.collection.as_str() {
        "addresses" => addresses::render(ctx, conn, users, &path, &mut body).await?,
        "backendServices" => backend_services::render(ctx, conn, users, &path, &mut body).await?,
        "sslCertificates" => {
            ssl_certificates::render(ctx, conn, users, r, &path, &mut body).await?
        }
        "networkEndpointGroups" => negs::render(&mut body, &r.internal),
        _ => {}
    }
    Ok(body)
}

/// Fields the server sets, dropped from what a patch merges with the stored resource (a
/// request's own output-only fields were dropped on admission); the server's values win.
const SERVER_FIELDS: &[&str] = &[
    "kind",
    "id",
    "selfLink",
    "creationTimestamp",
    "region",
    "usedBy",
    "users",
    "status",
    "size",
];

fn new_fingerprint() -> String {
    base64::engine::general_purpose::STANDARD.encode(random_hex(8).as_bytes())
}

/// The stored resource that a change may act on: there (its insert DONE, no delete yet) and
/// not in the middle of an operation.
async fn existing(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    c: &str,
    n: &str,
) -> ApiResult<StoredResource> {
    let path = ctx.path(c, n);
    match sql::get_resource(conn, ctx.key(c, n)).await? {
        Some(r) if r.busy(ctx.now) && !r.gone(ctx.now) => Err(ApiError::not_ready(&path)),
        Some(r) if r.visible(ctx.now) => Ok(r),
        _ => Err(ApiError::not_found(&path)),
    }
}

pub(super) async fn insert(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    spec: &Coll,
    body: Value,
) -> ApiResult<Change> {
    let name = str_field(&body, "name").unwrap_or_default().to_string();
    if name.is_empty() {
        return Err(ApiError::compute(
            400,
            "required",
            "Required field 'resource.name' not specified",
        ));
    }
    check_name("resource.name", &name)?;
    // A name is taken from the insert on (even before its operation is DONE) until a delete of
    // it is DONE.
    if sql::get_resource(conn, ctx.key(spec.name, &name))
        .await?
        .is_some_and(|r| !r.gone(ctx.now))
    {
        return Err(ApiError::compute(
            409,
            "alreadyExists",
            format!(
                "The resource '{}' already exists",
                ctx.path(spec.name, &name)
            ),
        ));
    }
    let (body, internal) = prepare(ctx, conn, spec, body, None).await?;
    let id = body["id"].as_str().map(str::to_string);
    Ok(Change {
        op_type: op_type(ctx, spec, "insert"),
        target_path: ctx.path(spec.name, &name),
        target_id: id,
        writes: vec![Write::Create {
            location: ctx.location.into(),
            collection: spec.name.into(),
            name,
            body,
            internal,
        }],
    })
}

fn op_type(ctx: &Ctx<'_>, spec: &Coll, verb: &str) -> String {
    // Recorded traffic shows dotted types for regional NEGs and plain ones elsewhere.
    if ctx.location != "global" && spec.name == "networkEndpointGroups" {
        format!("compute.regionNetworkEndpointGroups.{verb}")
    } else {
        verb.to_string()
    }
}

pub(super) async fn delete(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    spec: &Coll,
    n: &str,
) -> ApiResult<Change> {
    let c = spec.name;
    let path = ctx.path(c, n);
    let r = existing(ctx, conn, c, n).await?;
    let ip = (c == "addresses")
        .then(|| {
            r.body
                .get("address")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .flatten();
    if let Some(user) = users_of(conn, ctx.now, &path, ip.as_deref()).await?.first() {
        return Err(ApiError::compute(
            400,
            "resourceInUseByAnotherResource",
            format!(
                "The {} resource '{path}' is already being used by '{user}'",
                spec.singular
            ),
        ));
    }
    Ok(Change {
        op_type: op_type(ctx, spec, "delete"),
        target_path: path,
        target_id: r.body["id"].as_str().map(str::to_string),
        writes: vec![Write::Delete {
            location: ctx.location.into(),
            collection: c.into(),
            name: n.into(),
        }],
    })
}

/// `patch` (merge-patch) and `update` (replace), both under the fingerprint rule.
pub(super) async fn modify(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    spec: &Coll,
    n: &str,
    body: Value,
    is_patch: bool,
) -> ApiResult<Change> {
    let path = ctx.path(spec.name, n);
    let r = existing(ctx, conn, spec.name, n).await?;
    check_fingerprint(spec.fingerprint, &r.body, &body)?;
    if is_patch && spec.name == "forwardingRules" {
        forwarding_rules::check_patch(&body)?;
    }
    if let Some(new_name) = body.get("name").and_then(Value::as_str)
        && new_name != n
    {
        return Err(ApiError::invalid(
            "resource.name",
            new_name,
            "The name of a resource cannot be changed.",
        ));
    }
    let mut merged = if is_patch { r.body.clone() } else { json!({}) };
    if is_patch {
        merge_patch(&mut merged, &body);
    } else {
        merged = body;
        if spec.name == "backendServices" {
            security_policies::keep_attached(&r.body, &mut merged);
        }
    }
    merged["name"] = json!(n);
    let (body, internal) = prepare(ctx, conn, spec, merged, Some(&r)).await?;
    Ok(Change {
        op_type: if is_patch { "patch" } else { "update" }.into(),
        target_path: path,
        target_id: body["id"].as_str().map(str::to_string),
        writes: vec![Write::Replace {
            location: ctx.location.into(),
            collection: spec.name.into(),
            name: n.into(),
            body,
            internal,
        }],
    })
}

fn check_fingerprint(rule: Fingerprint, stored: &Value, sent: &Value) -> ApiResult<()> {
    let sent_fp = sent.get("fingerprint").and_then(Value::as_str);
    let current = stored.get("fingerprint").and_then(Value::as_str);
    let stale = match rule {
        Fingerprint::Required => sent_fp != current,
        Fingerprint::Optional => sent_fp.is_some() && sent_fp != current,
        Fingerprint::None => false,
    };
    if stale {
        return Err(ApiError::compute(
            412,
            "conditionNotMet",
            "Supplied fingerprint does not match current fingerprint. Read the resource again and retry.",
        ));
    }
    Ok(())
}

pub(super) async fn mutate_verb(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    spec: &Coll,
    n: &str,
    verb: &str,
    req: Value,
) -> ApiResult<Change> {
    let c = spec.name;
    let path = ctx.path(c, n);
    let r = existing(ctx, conn, c, n).await?;
    let mut body = r.body.clone();
    let mut internal = r.internal.clone();
    match verb {
        "attachNetworkEndpoints" | "detachNetworkEndpoints" => {
            negs::attach_or_detach(ctx, &body, &mut internal, verb, &req)?;
        }
        "setTarget" => forwarding_rules::set_target(&mut body, &req),
        "setUrlMap" => target_proxies::set_url_map(&mut body, &req),
        "setSslCertificates" => target_proxies::set_ssl_certificates(&mut body, &req),
        "setCertificateMap" => target_proxies::set_certificate_map(&mut body, &req),
        "setSslPolicy" => target_proxies::set_ssl_policy(&mut body, &req),
        "setQuicOverride" => target_proxies::set_quic_override(&mut body, &req),
        "setSecurityPolicy" | "setEdgeSecurityPolicy" => {
            security_policies::set(ctx, conn, &mut body, verb, &req).await?;
        }
        _ => {
            return Err(ApiError::not_implemented(
                crate::cloud::sandbox::Api::Compute,
                &format!("compute.{c}.{verb}"),
            ));
        }
    }
    // The setters are changes like any other: the whole resource is checked again.
    let (body, _) = prepare(ctx, conn, spec, body, Some(&r)).await?;
    Ok(Change {
        op_type: verb.into(),
        target_path: path,
        target_id: body["id"].as_str().map(str::to_string),
        writes: vec![Write::Replace {
            location: ctx.location.into(),
            collection: c.into(),
            name: n.into(),
            body,
            internal,
        }],
    })
}

/// Validates a whole resource (insert, or the result of patch/update/setX) and fills server
/// fields. Returns the body to store and the internal state.
pub(super) async fn prepare(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    spec: &Coll,
    mut body: Value,
    existing: Option<&StoredResource>,
) -> ApiResult<(Value, Value)> {
    let obj = body.as_object_mut().expect("bodies are objects");
    for f in SERVER_FIELDS {
        obj.remove(*f);
    }
    obj.remove("fingerprint");
    let name = str_field(&body, "name").unwrap_or_default().to_string();
    let path = ctx.path(spec.name, &name);
    let mut internal = existing
        .map(|r| r.internal.clone())
        .unwrap_or_else(|| json!({}));
    normalise(ctx, spec.name, &mut body)?;
    match spec.name {
        "networkEndpointGroups" => negs::prepare(ctx, &mut body, &mut internal)?,
        "backendServices" => {
            backend_services::prepare(ctx, conn, &mut body).await?;
            security_policies::check_iap(&mut body)?;
        }
        "securityPolicies" => security_policies::prepare(&mut body, existing)?,
        "urlMaps" => body = url_maps::prepare(ctx, conn, body).await?,
        "sslCertificates" => ssl_certificates::prepare(&mut body)?,
        "sslPolicies" => ssl_policies::prepare(&mut body)?,
        "targetHttpsProxies" => {
            target_proxies::prepare_https_proxy(&mut body)?;
            target_proxies::check_certificate_map(ctx, conn, &mut body).await?;
        }
        "targetHttpProxies" => target_proxies::prepare_http_proxy(&body)?,
        "addresses" => addresses::prepare(ctx, conn, &mut body, existing).await?,
        "forwardingRules" => forwarding_rules::prepare(conn, ctx, &mut body).await?,
        "healthChecks" => health_checks::prepare(&mut body)?,
        _ => {}
    }
    check_references(ctx, conn, spec.name, &body).await?;
    // Server-assigned fields: kept across changes, fingerprint renewed on each.
    let (id, created) = match existing {
        Some(r) => (r.body["id"].clone(), r.body["creationTimestamp"].clone()),
        None => (json!(random_id()), json!(rfc3339(ctx.now))),
    };
    body["kind"] = json!(spec.kind);
    body["id"] = id;
    body["creationTimestamp"] = created;
    body["selfLink"] = json!(ctx.link(&path));
    if ctx.location != "global" {
        body["region"] = json!(ctx.link(&ctx.scope_path(ctx.location)));
    }
    if spec.fingerprint != Fingerprint::None {
        body["fingerprint"] = json!(new_fingerprint());
    }
    if spec.name == "addresses" || spec.name == "forwardingRules" {
        body["labelFingerprint"] = existing
            .and_then(|r| r.body.get("labelFingerprint").cloned())
            .unwrap_or_else(|| json!("42WmSpB8rSM="));
    }
    Ok((body, internal))
}
