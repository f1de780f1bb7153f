//! The flow every collection shares: get and list (with paging) and the read-time fields, then
//! insert, delete, patch/update and the setters, each validated whole by `prepare`, which calls
//! the kind's own rules and fills the server's fields.

use super::operations::{Change, Write};
use super::shared::{
    Users, check_name, check_references, resource_path, str_field, users_of, valid_name,
};
use super::{
    API, Coll, Ctx, Fingerprint, ListQuery, addresses, backend_services, coll, forwarding_rules,
    health_checks, negs, ssl_certificates, target_proxies, url_maps,
};
use crate::cloud::sandbox::{
    ApiError, ApiResult, merge_patch, now_ms, random_hex, random_id, rfc3339,
};
use crate::db::sandbox::{self as sql, StoredResource};
use axum::response::IntoResponse;
use base64::Engine;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

pub(super) async fn get(ctx: &Ctx<'_>, c: &str, n: &str) -> ApiResult {
    let mut conn = ctx.sb.db.acquire().await?;
    let res = sql::get_resource(&mut conn, ctx.key(c, n))
        .await?
        .ok_or_else(|| ApiError::not_found(&ctx.path(c, n)))?;
    let mut users = Users::default();
    Ok(axum::Json(render(ctx, &mut conn, &mut users, &res).await?).into_response())
}

pub(super) async fn list(ctx: &Ctx<'_>, c: &str, q: &ListQuery) -> ApiResult {
    if q.filter.as_deref().is_some_and(|f| !f.trim().is_empty()) {
        return Err(ApiError::invalid(
            "filter",
            q.filter.as_deref().unwrap_or_default(),
            "The sandbox does not implement list filters; list everything and filter locally.",
        ));
    }
    let max = match q.max_results.as_deref() {
        None => 500,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n <= 500 => n.max(1),
            _ => {
                return Err(ApiError::invalid(
                    "maxResults",
                    s,
                    "Must be between 0 and 500.",
                ));
            }
        },
    };
    // The token is the last name of the previous page: each page is one indexed range read,
    // however deep into the collection it is.
    let after = match q.page_token.as_deref() {
        None | Some("") => None,
        Some(t) if valid_name(t) => Some(t),
        Some(t) => return Err(ApiError::invalid("pageToken", t, "Invalid page token.")),
    };
    let mut conn = ctx.sb.db.acquire().await?;
    let mut rows = sql::list_page(
        &mut conn,
        API,
        ctx.project,
        ctx.location,
        c,
        after,
        max as u32 + 1,
    )
    .await?;
    let next = (rows.len() > max).then(|| {
        rows.truncate(max);
        rows.last().map(|r| r.name.clone()).unwrap_or_default()
    });
    // Read once for the page: reading them again for each item made a list cost the square of
    // the collection. The work stays within the page (at most 500 items) and within this
    // request's future, which hyper drops when the client goes away.
    let mut users = Users::default();
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(render(ctx, &mut conn, &mut users, r).await?);
    }
    let kind = coll(c, ctx.location).map(|s| s.kind).unwrap_or_default();
    let mut page = json!({
        "kind": format!("{kind}List"),
        "id": format!("{}/{c}", ctx.scope_path(ctx.location)),
        "items": items,
        "selfLink": ctx.link(&format!("{}/{c}", ctx.scope_path(ctx.location))),
    });
    if let Some(token) = next {
        page["nextPageToken"] = json!(token);
    }
    Ok(axum::Json(page).into_response())
}

/// The resource as GET answers it now: stored body plus fields that depend on other resources
/// (an address's users, a backend service's usedBy) or on time (certificate provisioning).
async fn render(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    users: &mut Users,
    r: &StoredResource,
) -> ApiResult<Value> {
    let mut body = r.body.clone();
    let path = resource_path(ctx.project, r);
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

/// Output-only fields a client may echo back from a GET; the server's values win.
const OUTPUT_FIELDS: &[&str] = &[
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

pub(super) async fn insert(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    spec: &Coll,
    body: Value,
) -> ApiResult<Change> {
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if name.is_empty() {
        return Err(ApiError::compute(
            400,
            "required",
            "Required field 'resource.name' not specified",
        ));
    }
    check_name("resource.name", &name)?;
    if sql::get_resource(conn, ctx.key(spec.name, &name))
        .await?
        .is_some()
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
        writes: vec![Write::Put {
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
    c: &str,
    n: &str,
) -> ApiResult<Change> {
    let path = ctx.path(c, n);
    let r = sql::get_resource(conn, ctx.key(c, n))
        .await?
        .ok_or_else(|| ApiError::not_found(&path))?;
    let ip = (c == "addresses")
        .then(|| {
            r.body
                .get("address")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .flatten();
    if let Some(user) = users_of(conn, ctx.project, &path, ip.as_deref())
        .await?
        .first()
    {
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
    let r = sql::get_resource(conn, ctx.key(spec.name, n))
        .await?
        .ok_or_else(|| ApiError::not_found(&path))?;
    check_fingerprint(spec.fingerprint, &r.body, &body)?;
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
    }
    merged["name"] = json!(n);
    let (body, internal) = prepare(ctx, conn, spec, merged, Some(&r)).await?;
    Ok(Change {
        op_type: if is_patch { "patch" } else { "update" }.into(),
        target_path: path,
        target_id: body["id"].as_str().map(str::to_string),
        writes: vec![Write::Put {
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
    c: &str,
    n: &str,
    verb: &str,
    req: Value,
) -> ApiResult<Change> {
    let path = ctx.path(c, n);
    let r = sql::get_resource(conn, ctx.key(c, n))
        .await?
        .ok_or_else(|| ApiError::not_found(&path))?;
    let mut body = r.body.clone();
    let mut internal = r.internal.clone();
    match (c, verb) {
        ("networkEndpointGroups", "attachNetworkEndpoints" | "detachNetworkEndpoints") => {
            negs::attach_or_detach(ctx, &body, &mut internal, verb, &req)?;
        }
        ("forwardingRules", "setTarget") => forwarding_rules::set_target(&mut body, &req),
        ("targetHttpsProxies" | "targetHttpProxies", "setUrlMap") => {
            target_proxies::set_url_map(&mut body, &req)
        }
        ("targetHttpsProxies", "setSslCertificates") => {
            target_proxies::set_ssl_certificates(&mut body, &req)
        }
        _ => {
            return Err(ApiError::compute(
                404,
                "notFound",
                format!("Method {c}.{verb} is not implemented by the sandbox"),
            ));
        }
    }
    // The setters are changes like any other: the whole resource is checked again.
    let (body, _) = prepare(ctx, conn, spec, body, Some(&r)).await?;
    Ok(Change {
        op_type: verb.into(),
        target_path: path,
        target_id: body["id"].as_str().map(str::to_string),
        writes: vec![Write::Put {
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
    for f in OUTPUT_FIELDS {
        obj.remove(*f);
    }
    obj.remove("fingerprint");
    let name = str_field(&body, "name").unwrap_or_default().to_string();
    let path = ctx.path(spec.name, &name);
    let mut internal = existing
        .map(|r| r.internal.clone())
        .unwrap_or_else(|| json!({}));
    match spec.name {
        "networkEndpointGroups" => negs::prepare(ctx, &mut body, &mut internal)?,
        "backendServices" => backend_services::prepare(conn, &mut body).await?,
        "urlMaps" => body = url_maps::prepare(conn, ctx.project, body).await?,
        "sslCertificates" => ssl_certificates::prepare(&mut body)?,
        "targetHttpsProxies" => target_proxies::prepare_https_proxy(&mut body)?,
        "targetHttpProxies" => target_proxies::prepare_http_proxy(&body)?,
        "addresses" => addresses::prepare(conn, &mut body, existing).await?,
        "forwardingRules" => forwarding_rules::prepare(conn, ctx, &mut body).await?,
        "healthChecks" => health_checks::prepare(&mut body)?,
        _ => {}
    }
    check_references(conn, ctx.project, spec.name, &body).await?;
    // Server-assigned fields: kept across changes, fingerprint renewed on each.
    let (id, created) = match existing {
        Some(r) => (r.body["id"].clone(), r.body["creationTimestamp"].clone()),
        None => (json!(random_id()), json!(rfc3339(now_ms()))),
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
