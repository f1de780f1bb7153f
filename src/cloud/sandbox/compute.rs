//! Compute Engine v1 in the sandbox: NEGs, backend services, URL maps, SSL certificates, target
//! proxies, global addresses, global forwarding rules, health checks and their operations, with
//! the validation and dependency rules of API-NOTES §2–§11.

use super::{
    Api, ApiError, ApiResult, CertPathExtract, Fault, Sandbox, merge_patch, now_ms, random_hex,
    random_id, rfc3339,
};
use crate::cloud::client::link_path;
use crate::db::sandbox::{self as sql, Key, StoredOperation, StoredResource};
use crate::domain::urlmap::{self, UrlMap};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use regex::Regex;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::SqliteConnection;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

const API: &str = "compute";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fingerprint {
    /// patch/update must carry the current fingerprint (backend services, URL maps, proxies).
    Required,
    /// Checked only when sent (forwarding rules).
    Optional,
    None,
}

struct Coll {
    name: &'static str,
    global: bool,
    regional: bool,
    patch: bool,
    update: bool,
    fingerprint: Fingerprint,
    kind: &'static str,
    /// As in Google's "The url_map resource '…' is already being used by '…'".
    singular: &'static str,
}

const COLLECTIONS: &[Coll] = &[
    Coll {
        name: "networkEndpointGroups",
        global: true,
        regional: true,
        patch: false,
        update: false,
        fingerprint: Fingerprint::None,
        kind: "compute#networkEndpointGroup",
        singular: "network_endpoint_group",
    },
    Coll {
        name: "backendServices",
        global: true,
        regional: false,
        patch: true,
        update: true,
        fingerprint: Fingerprint::Required,
        kind: "compute#backendService",
        singular: "backend_service",
    },
    Coll {
        name: "urlMaps",
        global: true,
        regional: false,
        patch: true,
        update: true,
        fingerprint: Fingerprint::Required,
        kind: "compute#urlMap",
        singular: "url_map",
    },
    Coll {
        name: "sslCertificates",
        global: true,
        regional: false,
        patch: false,
        update: false,
        fingerprint: Fingerprint::None,
        kind: "compute#sslCertificate",
        singular: "ssl_certificate",
    },
    Coll {
        name: "targetHttpProxies",
        global: true,
        regional: false,
        patch: true,
        update: false,
        fingerprint: Fingerprint::Required,
        kind: "compute#targetHttpProxy",
        singular: "target_http_proxy",
    },
    Coll {
        name: "targetHttpsProxies",
        global: true,
        regional: false,
        patch: true,
        update: false,
        fingerprint: Fingerprint::Required,
        kind: "compute#targetHttpsProxy",
        singular: "target_https_proxy",
    },
    Coll {
        name: "addresses",
        global: true,
        regional: false,
        patch: false,
        update: false,
        fingerprint: Fingerprint::None,
        kind: "compute#address",
        singular: "address",
    },
    Coll {
        name: "forwardingRules",
        global: true,
        regional: false,
        patch: true,
        update: false,
        fingerprint: Fingerprint::Optional,
        kind: "compute#forwardingRule",
        singular: "forwarding_rule",
    },
    Coll {
        name: "healthChecks",
        global: true,
        regional: false,
        patch: true,
        update: true,
        fingerprint: Fingerprint::None,
        kind: "compute#healthCheck",
        singular: "health_check",
    },
];

fn coll(name: &str, location: &str) -> Option<&'static Coll> {
    COLLECTIONS.iter().find(|c| {
        c.name == name
            && if location == "global" {
                c.global
            } else {
                c.regional
            }
    })
}

static NAME_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$").expect("valid regex"));

/// RFC 1035 label, 1–63 characters (API-NOTES §0).
pub(crate) fn check_name(field: &str, name: &str) -> ApiResult<()> {
    if NAME_RE.is_match(name) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            name,
            "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
        ))
    }
}

/// What a request resolved to.
struct Ctx<'a> {
    sb: &'a Sandbox,
    project: &'a str,
    location: &'a str,
    base: String,
}

impl Ctx<'_> {
    fn scope_path(&self, location: &str) -> String {
        if location == "global" {
            format!("projects/{}/global", self.project)
        } else {
            format!("projects/{}/regions/{location}", self.project)
        }
    }

    fn path(&self, collection: &str, name: &str) -> String {
        format!("{}/{collection}/{name}", self.scope_path(self.location))
    }

    fn link(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn key<'k>(&'k self, collection: &'k str, name: &'k str) -> Key<'k> {
        Key {
            api: API,
            project: self.project,
            location: self.location,
            collection,
            name,
        }
    }
}

enum Action<'a> {
    List(&'a str),
    Get(&'a str, &'a str),
    Insert(&'a str),
    Delete(&'a str, &'a str),
    Patch(&'a str, &'a str),
    Update(&'a str, &'a str),
    Verb(&'a str, &'a str, &'a str),
    GetOp(&'a str),
    WaitOp(&'a str),
    DeleteOp(&'a str),
}

impl Action<'_> {
    fn is_mutation(&self) -> bool {
        match self {
            Action::Insert(_) | Action::Delete(..) | Action::Patch(..) | Action::Update(..) => true,
            Action::Verb(_, _, verb) => !matches!(*verb, "listNetworkEndpoints" | "validate"),
            _ => false,
        }
    }
}

/// A planned write, applied together with its operation record (or not at all when the
/// operation is made to fail).
enum Write {
    Put {
        location: String,
        collection: String,
        name: String,
        body: Value,
        internal: Value,
    },
    Delete {
        location: String,
        collection: String,
        name: String,
    },
}

struct Change {
    op_type: String,
    target_path: String,
    target_id: Option<String>,
    writes: Vec<Write>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListQuery {
    request_id: Option<String>,
    max_results: Option<String>,
    page_token: Option<String>,
    filter: Option<String>,
}

pub(super) async fn handle(
    State(sb): State<Arc<Sandbox>>,
    method: Method,
    Path((project, rest)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle_inner(&sb, method, &project, &rest, &q, &headers, &body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn not_routed(method: &Method, rest: &str) -> ApiError {
    ApiError::compute(
        404,
        "notFound",
        format!(
            "The requested URL {method} /compute/v1/projects/.../{rest} was not found on this server."
        ),
    )
}

#[allow(clippy::too_many_arguments)]
async fn handle_inner(
    sb: &Sandbox,
    method: Method,
    project: &str,
    rest: &str,
    q: &ListQuery,
    headers: &HeaderMap,
    body: &Bytes,
) -> ApiResult {
    sb.gate(Api::Compute, headers).await?;
    let segs: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    // Target proxies' setUrlMap / setSslCertificates have no `/global/` segment.
    let (location, tail): (&str, Vec<&str>) = match segs.as_slice() {
        ["global", tail @ ..] => ("global", tail.to_vec()),
        ["regions", region, tail @ ..] => (region, tail.to_vec()),
        [c @ ("targetHttpsProxies" | "targetHttpProxies"), name, verb]
            if matches!(*verb, "setUrlMap" | "setSslCertificates")
                && !(*c == "targetHttpProxies" && *verb == "setSslCertificates") =>
        {
            ("global", vec![*c, *name, *verb])
        }
        _ => return Err(not_routed(&method, rest)),
    };
    let action = match (&method, tail.as_slice()) {
        (&Method::GET, ["operations", name]) => Action::GetOp(name),
        (&Method::DELETE, ["operations", name]) => Action::DeleteOp(name),
        (&Method::POST, ["operations", name, "wait"]) => Action::WaitOp(name),
        (&Method::GET, [c]) => Action::List(c),
        (&Method::POST, [c]) => Action::Insert(c),
        (&Method::GET, [c, n]) => Action::Get(c, n),
        (&Method::DELETE, [c, n]) => Action::Delete(c, n),
        (&Method::PATCH, [c, n]) => Action::Patch(c, n),
        (&Method::PUT, [c, n]) => Action::Update(c, n),
        (&Method::POST, [c, n, verb]) => Action::Verb(c, n, verb),
        _ => return Err(not_routed(&method, rest)),
    };
    let ctx = Ctx {
        sb,
        project,
        location,
        base: sb.self_link_base(),
    };
    let collection = match &action {
        Action::List(c)
        | Action::Get(c, _)
        | Action::Insert(c)
        | Action::Delete(c, _)
        | Action::Patch(c, _)
        | Action::Update(c, _)
        | Action::Verb(c, _, _) => Some(*c),
        _ => None,
    };
    let spec = match collection {
        Some(c) => Some(coll(c, location).ok_or_else(|| not_routed(&method, rest))?),
        None => None,
    };
    if !action.is_mutation() {
        return match action {
            Action::GetOp(name) => get_operation(&ctx, name).await,
            Action::WaitOp(name) => wait_operation(&ctx, name).await,
            Action::DeleteOp(name) => {
                let mut conn = sb.db.acquire().await?;
                if sql::delete_operation(&mut conn, API, project, location, name).await? {
                    Ok(axum::Json(json!({})).into_response())
                } else {
                    Err(ApiError::not_found(&format!(
                        "{}/operations/{name}",
                        ctx.scope_path(location)
                    )))
                }
            }
            Action::List(c) => list(&ctx, c, q).await,
            Action::Get(c, n) => {
                let mut conn = sb.db.acquire().await?;
                let res = sql::get_resource(&mut conn, ctx.key(c, n))
                    .await?
                    .ok_or_else(|| ApiError::not_found(&ctx.path(c, n)))?;
                Ok(axum::Json(render(&ctx, &mut conn, &res).await?).into_response())
            }
            Action::Verb("networkEndpointGroups", n, "listNetworkEndpoints") => {
                list_network_endpoints(&ctx, n).await
            }
            Action::Verb("urlMaps", _, "validate") => validate_url_map(&ctx, body).await,
            _ => Err(not_routed(&method, rest)),
        };
    }
    let spec = spec.expect("mutations name a collection");
    let request_id = parse_request_id(q.request_id.as_deref())?;
    let _serial = sb.write.lock().await;
    let mut conn = sb.db.acquire().await?;
    // A repeated requestId answers the original operation and changes nothing (API-NOTES §9).
    if let Some(rid) = &request_id
        && let Some(op) = sql::operation_by_request_id(&mut conn, API, project, rid).await?
    {
        return Ok(axum::Json(render_operation(&op)).into_response());
    }
    let fault = sb.mutation_fault();
    let change = match action {
        Action::Insert(_) => insert(&ctx, &mut conn, spec, json_body(body)?).await?,
        Action::Delete(c, n) => delete(&ctx, &mut conn, spec, c, n).await?,
        Action::Patch(c, n) | Action::Update(c, n) => {
            let is_patch = matches!(action, Action::Patch(..));
            if (is_patch && !spec.patch) || (!is_patch && !spec.update) {
                return Err(ApiError::compute(
                    405,
                    "methodNotAllowed",
                    format!(
                        "{c} cannot be {}",
                        if is_patch { "patched" } else { "updated" }
                    ),
                ));
            }
            modify(&ctx, &mut conn, spec, n, json_body(body)?, is_patch).await?
        }
        Action::Verb(c, n, verb) => {
            mutate_verb(&ctx, &mut conn, spec, c, n, verb, json_body(body)?).await?
        }
        _ => unreachable!("non-mutations returned above"),
    };
    drop(conn);
    commit(&ctx, request_id, change, fault).await
}

fn json_body(body: &Bytes) -> ApiResult<Value> {
    if body.is_empty() {
        return Err(ApiError::compute(
            400,
            "required",
            "Required field 'resource' not specified",
        ));
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::compute(
            400,
            "parseError",
            format!("Invalid JSON payload received. {e}"),
        )
    })?;
    if !v.is_object() {
        return Err(ApiError::compute(
            400,
            "parseError",
            "Invalid JSON payload received: expected an object",
        ));
    }
    Ok(v)
}

/// `requestId` must be a UUID other than the all-zero one (API-NOTES §9).
fn parse_request_id(rid: Option<&str>) -> ApiResult<Option<String>> {
    let Some(rid) = rid else { return Ok(None) };
    match uuid::Uuid::parse_str(rid) {
        Ok(u) if !u.is_nil() => Ok(Some(u.hyphenated().to_string())),
        _ => Err(ApiError::invalid(
            "requestId",
            rid,
            "The request id must be a valid UUID with the exception that zero UUID is not supported (00000000-0000-0000-0000-000000000000).",
        )),
    }
}

async fn commit(
    ctx: &Ctx<'_>,
    request_id: Option<String>,
    change: Change,
    fault: Option<Fault>,
) -> ApiResult {
    let now = now_ms();
    let latency = ctx.sb.config().operation_latency;
    let name = format!("operation-{now}-{}", uuid::Uuid::new_v4());
    let scope = ctx.scope_path(ctx.location);
    let mut op = json!({
        "kind": "compute#operation",
        "id": random_id(),
        "name": name,
        "operationType": change.op_type,
        "targetLink": ctx.link(&change.target_path),
        "insertTime": rfc3339(now),
        "startTime": rfc3339(now),
        "user": ctx.sb.account.client_email,
        "selfLink": ctx.link(&format!("{scope}/operations/{name}")),
    });
    if let Some(id) = &change.target_id {
        op["targetId"] = json!(id);
    }
    if ctx.location != "global" {
        op["region"] = json!(ctx.link(&scope));
    }
    if let Some(rid) = &request_id {
        op["clientOperationId"] = json!(rid);
    }
    let error = (fault == Some(Fault::OperationError)).then(|| {
        json!({
            "error": {"errors": [{"code": "INTERNAL_ERROR",
                "message": "Internal error. Please try again or contact Google Support. (sandbox fault injection)"}]},
            "httpErrorStatusCode": 500,
            "httpErrorMessage": "INTERNAL SERVER ERROR",
        })
    });
    let mut tx = ctx.sb.db.begin().await?;
    if error.is_none() {
        for w in &change.writes {
            match w {
                Write::Put {
                    location,
                    collection,
                    name,
                    body,
                    internal,
                } => {
                    let key = Key {
                        api: API,
                        project: ctx.project,
                        location,
                        collection,
                        name,
                    };
                    sql::put_resource(&mut tx, key, body, internal, 0, now).await?;
                }
                Write::Delete {
                    location,
                    collection,
                    name,
                } => {
                    let key = Key {
                        api: API,
                        project: ctx.project,
                        location,
                        collection,
                        name,
                    };
                    sql::delete_resource(&mut tx, key).await?;
                }
            }
        }
    }
    let done_at = now + latency.as_millis() as i64;
    sql::insert_operation(
        &mut tx,
        API,
        ctx.project,
        ctx.location,
        &name,
        &op,
        error.as_ref(),
        done_at,
        request_id.as_deref(),
        now,
    )
    .await?;
    tx.commit().await?;
    if fault == Some(Fault::LostReply) {
        return Err(ApiError::for_fault(Fault::LostReply, Api::Compute));
    }
    let stored = StoredOperation {
        location: ctx.location.to_string(),
        name,
        body: op,
        error,
        // The reply to a mutation always shows the operation just started, as Google's does,
        // however long the commit took; only a zero latency answers DONE at once.
        done_at_ms: if latency.is_zero() { done_at } else { i64::MAX },
    };
    Ok(axum::Json(render_operation(&stored)).into_response())
}

/// An operation as of now: RUNNING until its time has come, then DONE (with its error, if any).
fn render_operation(op: &StoredOperation) -> Value {
    let mut body = op.body.clone();
    if now_ms() >= op.done_at_ms {
        body["status"] = json!("DONE");
        body["progress"] = json!(100);
        body["endTime"] = json!(rfc3339(op.done_at_ms));
        if let Some(Value::Object(err)) = &op.error {
            for (k, v) in err {
                body[k] = v.clone();
            }
        }
    } else {
        body["status"] = json!("RUNNING");
        body["progress"] = json!(0);
    }
    body
}

async fn get_operation(ctx: &Ctx<'_>, name: &str) -> ApiResult {
    let mut conn = ctx.sb.db.acquire().await?;
    let op = sql::get_operation(&mut conn, API, ctx.project, ctx.location, name)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(&format!(
                "{}/operations/{name}",
                ctx.scope_path(ctx.location)
            ))
        })?;
    Ok(axum::Json(render_operation(&op)).into_response())
}

/// Blocks until the operation is DONE or the wait cap passes, as Compute's `wait` does.
async fn wait_operation(ctx: &Ctx<'_>, name: &str) -> ApiResult {
    let op = {
        let mut conn = ctx.sb.db.acquire().await?;
        sql::get_operation(&mut conn, API, ctx.project, ctx.location, name)
            .await?
            .ok_or_else(|| {
                ApiError::not_found(&format!(
                    "{}/operations/{name}",
                    ctx.scope_path(ctx.location)
                ))
            })?
    };
    let remaining = op.done_at_ms - now_ms();
    if remaining > 0 {
        let cap = ctx.sb.config().wait_cap;
        tokio::time::sleep(Duration::from_millis(remaining as u64).min(cap)).await;
    }
    Ok(axum::Json(render_operation(&op)).into_response())
}

async fn list(ctx: &Ctx<'_>, c: &str, q: &ListQuery) -> ApiResult {
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
    let start = match q.page_token.as_deref() {
        None | Some("") => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| ApiError::invalid("pageToken", t, "Invalid page token."))?,
    };
    let mut conn = ctx.sb.db.acquire().await?;
    let all = sql::list_resources(&mut conn, API, ctx.project, ctx.location, c).await?;
    let mut items = Vec::new();
    for r in all.iter().skip(start).take(max) {
        items.push(render(ctx, &mut conn, r).await?);
    }
    let kind = coll(c, ctx.location).map(|s| s.kind).unwrap_or_default();
    let mut page = json!({
        "kind": format!("{kind}List"),
        "id": format!("{}/{c}", ctx.scope_path(ctx.location)),
        "items": items,
        "selfLink": ctx.link(&format!("{}/{c}", ctx.scope_path(ctx.location))),
    });
    if start + max < all.len() {
        page["nextPageToken"] = json!((start + max).to_string());
    }
    Ok(axum::Json(page).into_response())
}

// --- references and dependencies ---------------------------------------------------------------

/// `projects/p/global/x/n` for any accepted form of a link; relative `global/...` forms are
/// resolved against `project`.
fn norm(project: &str, s: &str) -> Option<String> {
    if let Some(p) = link_path(s) {
        return Some(p);
    }
    if s.starts_with("global/") || s.starts_with("regions/") {
        return Some(format!("projects/{project}/{}", s.trim_end_matches('/')));
    }
    None
}

/// (location, collection, name) of a normalised path.
fn split_path(path: &str) -> Option<(String, String, String, String)> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["projects", p, "global", c, n] => {
            Some((p.to_string(), "global".into(), c.to_string(), n.to_string()))
        }
        ["projects", p, "regions", r, c, n] => {
            Some((p.to_string(), r.to_string(), c.to_string(), n.to_string()))
        }
        _ => None,
    }
}

/// Fields that hold references, and which collections they may point at.
const REF_FIELDS: &[(&str, &[&str])] = &[
    ("target", &["targetHttpProxies", "targetHttpsProxies"]),
    ("urlMap", &["urlMaps"]),
    ("sslCertificates", &["sslCertificates"]),
    ("group", &["networkEndpointGroups"]),
    ("healthChecks", &["healthChecks"]),
];

/// Every reference a stored or proposed resource holds: (field path, normalised target path).
fn references(project: &str, collection: &str, body: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if collection == "urlMaps" {
        if let Ok(map) = serde_json::from_value::<UrlMap>(body.clone()) {
            for s in urlmap::referenced_services(&map) {
                if let Some(p) = norm(project, &s) {
                    out.push(("resource.defaultService".to_string(), p));
                }
            }
        }
        return out;
    }
    fn walk(project: &str, field: &str, v: &Value, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let f = format!("{field}.{k}");
                    if REF_FIELDS.iter().any(|(name, _)| name == k) {
                        match v {
                            Value::String(s) => {
                                if let Some(p) = norm(project, s) {
                                    out.push((f, p));
                                }
                            }
                            Value::Array(items) => {
                                for (i, item) in items.iter().enumerate() {
                                    if let Some(p) = item.as_str().and_then(|s| norm(project, s)) {
                                        out.push((format!("{f}[{i}]"), p));
                                    }
                                }
                            }
                            _ => {}
                        }
                    } else {
                        walk(project, &f, v, out);
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(project, &format!("{field}[{i}]"), item, out);
                }
            }
            _ => {}
        }
    }
    walk(project, "resource", body, &mut out);
    out
}

/// Checks that every reference names an existing resource of an allowed kind.
async fn check_references(
    conn: &mut SqliteConnection,
    project: &str,
    collection: &str,
    body: &Value,
) -> ApiResult<()> {
    for (field, path) in references(project, collection, body) {
        let Some((p, loc, c, n)) = split_path(&path) else {
            return Err(ApiError::invalid(
                &field,
                &path,
                "Not a valid resource reference.",
            ));
        };
        let leaf = field
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .split('[')
            .next()
            .unwrap_or_default()
            .to_string();
        let allowed: &[&str] = if collection == "urlMaps" {
            &["backendServices", "backendBuckets"]
        } else {
            REF_FIELDS
                .iter()
                .find(|(f, _)| *f == leaf)
                .map(|(_, a)| *a)
                .unwrap_or(&[])
        };
        if !allowed.contains(&c.as_str()) {
            return Err(ApiError::invalid(
                &field,
                &path,
                &format!("Expected a reference to one of: {}.", allowed.join(", ")),
            ));
        }
        let key = Key {
            api: API,
            project: &p,
            location: &loc,
            collection: &c,
            name: &n,
        };
        if sql::get_resource(conn, key).await?.is_none() {
            return Err(ApiError::not_found(&path));
        }
    }
    Ok(())
}

/// Paths of the resources that use `target` (by reference, or an address by its IP).
async fn users_of(
    conn: &mut SqliteConnection,
    project: &str,
    target_path: &str,
    address_ip: Option<&str>,
) -> ApiResult<Vec<String>> {
    let mut users = Vec::new();
    for r in sql::project_resources(conn, API, project).await? {
        let path = resource_path(project, &r);
        if path == target_path {
            continue;
        }
        let uses = references(project, &r.collection, &r.body)
            .iter()
            .any(|(_, p)| p == target_path)
            || (r.collection == "forwardingRules"
                && address_ip.is_some()
                && r.body.get("IPAddress").and_then(Value::as_str) == address_ip);
        if uses {
            users.push(path);
        }
    }
    Ok(users)
}

fn resource_path(project: &str, r: &StoredResource) -> String {
    if r.location == "global" {
        format!("projects/{project}/global/{}/{}", r.collection, r.name)
    } else {
        format!(
            "projects/{project}/regions/{}/{}/{}",
            r.location, r.collection, r.name
        )
    }
}

// --- read-time fields ------------------------------------------------------------------------

/// The resource as GET answers it now: stored body plus fields that depend on other resources
/// (an address's users, a backend service's usedBy) or on time (certificate provisioning).
async fn render(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    r: &StoredResource,
) -> ApiResult<Value> {
    let mut body = r.body.clone();
    let path = resource_path(ctx.project, r);
    match r.collection.as_str() {
        "addresses" => {
            let ip = body
                .get("address")
                .and_then(Value::as_str)
                .map(str::to_string);
            let users = users_of(conn, ctx.project, &path, ip.as_deref()).await?;
            if users.is_empty() {
                body["status"] = json!("RESERVED");
            } else {
                body["status"] = json!("IN_USE");
                body["users"] = json!(users.iter().map(|u| ctx.link(u)).collect::<Vec<_>>());
            }
        }
        "backendServices" => {
            let users = users_of(conn, ctx.project, &path, None).await?;
            if !users.is_empty() {
                body["usedBy"] = json!(
                    users
                        .iter()
                        .map(|u| json!({"reference": ctx.link(u)}))
                        .collect::<Vec<_>>()
                );
            }
        }
        "sslCertificates" => {
            if let Some(after) = ctx.sb.config().certificate_provision_after
                && body["managed"]["status"] == "PROVISIONING"
                && now_ms() - r.created_ms >= after.as_millis() as i64
                && certificate_served(conn, ctx.project, &path).await?
            {
                set_certificate_status(&mut body, "ACTIVE", "ACTIVE");
                let key = ctx.key(&r.collection, &r.name);
                sql::put_resource(conn, key, &body, &r.internal, 0, r.created_ms).await?;
            }
        }
        "networkEndpointGroups" => {
            let n = r.internal["endpoints"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0);
            body["size"] = json!(n);
        }
        _ => {}
    }
    Ok(body)
}

/// A certificate is served when an HTTPS proxy that holds it is the target of a forwarding rule.
async fn certificate_served(
    conn: &mut SqliteConnection,
    project: &str,
    cert: &str,
) -> ApiResult<bool> {
    for proxy in users_of(conn, project, cert, None).await? {
        if proxy.contains("/targetHttpsProxies/")
            && !users_of(conn, project, &proxy, None).await?.is_empty()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

fn set_certificate_status(body: &mut Value, status: &str, domain_status: &str) {
    let domains: Vec<String> = body["managed"]["domains"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    body["managed"]["status"] = json!(status);
    body["managed"]["domainStatus"] = Value::Object(
        domains
            .iter()
            .map(|d| (d.clone(), json!(domain_status)))
            .collect(),
    );
    if status == "ACTIVE" {
        body["subjectAlternativeNames"] = json!(domains);
        body["expireTime"] = json!(rfc3339(now_ms() + 90 * 24 * 3600 * 1000));
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ProvisionRequest {
    /// Certificate status: ACTIVE (default), PROVISIONING, PROVISIONING_FAILED, …
    #[serde(default)]
    status: Option<String>,
    /// Status of every domain: ACTIVE, FAILED_NOT_VISIBLE, FAILED_CAA_CHECKING, …
    #[serde(default)]
    domain_status: Option<String>,
}

/// Admin hook `POST /sandbox/v1/projects/{p}/sslCertificates/{name}:provision`.
pub(super) async fn provision_certificate(
    State(sb): State<Arc<Sandbox>>,
    Path(p): CertPathExtract,
    axum::Json(req): axum::Json<ProvisionRequest>,
) -> Response {
    let result: ApiResult = async {
        let Some(name) = p.name.strip_suffix(":provision") else {
            return Err(ApiError::compute(404, "notFound", "Use {name}:provision"));
        };
        let _serial = sb.write.lock().await;
        let mut conn = sb.db.acquire().await?;
        let key = Key {
            api: API,
            project: &p.project,
            location: "global",
            collection: "sslCertificates",
            name,
        };
        let path = format!("projects/{}/global/sslCertificates/{name}", p.project);
        let r = sql::get_resource(&mut conn, key)
            .await?
            .ok_or_else(|| ApiError::not_found(&path))?;
        if r.body["type"] != "MANAGED" {
            return Err(ApiError::invalid(
                "type",
                "SELF_MANAGED",
                "Only managed certificates provision.",
            ));
        }
        let domain_status = req.domain_status.clone().unwrap_or_else(|| {
            if req.status.as_deref().unwrap_or("ACTIVE") == "ACTIVE" {
                "ACTIVE".into()
            } else {
                "FAILED_NOT_VISIBLE".into()
            }
        });
        let status = req.status.clone().unwrap_or_else(|| {
            if domain_status == "ACTIVE" {
                "ACTIVE".into()
            } else {
                "PROVISIONING".into()
            }
        });
        let mut body = r.body.clone();
        set_certificate_status(&mut body, &status, &domain_status);
        sql::put_resource(&mut conn, key, &body, &r.internal, 0, r.created_ms).await?;
        Ok(axum::Json(body).into_response())
    }
    .await;
    result.unwrap_or_else(|e| e.into_response())
}

// --- mutations ------------------------------------------------------------------------------

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

async fn insert(
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

async fn delete(
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
async fn modify(
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

async fn mutate_verb(
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
            if ctx.location != "global" {
                return Err(ApiError::invalid(
                    "resource.networkEndpointType",
                    "SERVERLESS",
                    "Serverless network endpoint groups have no endpoints to attach or detach.",
                ));
            }
            endpoints_change(&body, &mut internal, verb == "attachNetworkEndpoints", &req)?;
        }
        ("forwardingRules", "setTarget") => {
            let target = req
                .get("target")
                .and_then(Value::as_str)
                .unwrap_or_default();
            body["target"] = json!(target);
        }
        ("targetHttpsProxies" | "targetHttpProxies", "setUrlMap") => {
            let um = req
                .get("urlMap")
                .and_then(Value::as_str)
                .unwrap_or_default();
            body["urlMap"] = json!(um);
        }
        ("targetHttpsProxies", "setSslCertificates") => {
            body["sslCertificates"] = req.get("sslCertificates").cloned().unwrap_or(json!([]));
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

fn endpoints_change(neg: &Value, internal: &mut Value, attach: bool, req: &Value) -> ApiResult<()> {
    let kind = neg["networkEndpointType"].as_str().unwrap_or_default();
    let default_port = neg["defaultPort"].as_i64().unwrap_or(443);
    let requested = req
        .get("networkEndpoints")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if requested.is_empty() {
        return Err(ApiError::compute(
            400,
            "required",
            "Required field 'networkEndpoints' not specified",
        ));
    }
    let mut current: Vec<Value> = internal["endpoints"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (i, e) in requested.iter().enumerate() {
        let field = format!("networkEndpoints[{i}]");
        let fqdn = e.get("fqdn").and_then(Value::as_str);
        let ip = e.get("ipAddress").and_then(Value::as_str);
        let port = e
            .get("port")
            .and_then(Value::as_i64)
            .unwrap_or(default_port);
        if !(1..=65535).contains(&port) {
            return Err(ApiError::invalid(
                &format!("{field}.port"),
                &port.to_string(),
                "Port must be between 1 and 65535.",
            ));
        }
        let normalised = match kind {
            "INTERNET_FQDN_PORT" => {
                let Some(f) = fqdn.filter(|f| valid_domain(f)) else {
                    return Err(ApiError::invalid(
                        &format!("{field}.fqdn"),
                        fqdn.unwrap_or_default(),
                        "An INTERNET_FQDN_PORT endpoint needs a valid fully qualified domain name.",
                    ));
                };
                if ip.is_some() {
                    return Err(ApiError::invalid(
                        &format!("{field}.ipAddress"),
                        ip.unwrap_or_default(),
                        "Not allowed for INTERNET_FQDN_PORT endpoints.",
                    ));
                }
                json!({"fqdn": f, "port": port})
            }
            _ => {
                let Some(a) = ip.filter(|a| a.parse::<std::net::IpAddr>().is_ok()) else {
                    return Err(ApiError::invalid(
                        &format!("{field}.ipAddress"),
                        ip.unwrap_or_default(),
                        "An INTERNET_IP_PORT endpoint needs a valid IP address.",
                    ));
                };
                json!({"ipAddress": a, "port": port})
            }
        };
        let pos = current.iter().position(|c| *c == normalised);
        if attach {
            if pos.is_some() {
                return Err(ApiError::invalid(
                    &field,
                    &normalised.to_string(),
                    "The network endpoint is already attached.",
                ));
            }
            current.push(normalised);
        } else {
            match pos {
                Some(p) => {
                    current.remove(p);
                }
                None => {
                    return Err(ApiError::invalid(
                        &field,
                        &normalised.to_string(),
                        "The network endpoint is not attached to this group.",
                    ));
                }
            }
        }
    }
    if current.len() > 1 {
        return Err(ApiError::invalid(
            "networkEndpoints",
            &current.len().to_string(),
            "Only one internet endpoint is allowed in each internet network endpoint group.",
        ));
    }
    internal["endpoints"] = json!(current);
    Ok(())
}

async fn list_network_endpoints(ctx: &Ctx<'_>, n: &str) -> ApiResult {
    let mut conn = ctx.sb.db.acquire().await?;
    let r = sql::get_resource(&mut conn, ctx.key("networkEndpointGroups", n))
        .await?
        .ok_or_else(|| ApiError::not_found(&ctx.path("networkEndpointGroups", n)))?;
    let items: Vec<Value> = r.internal["endpoints"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|e| json!({"networkEndpoint": e, "healths": []}))
        .collect();
    Ok(axum::Json(
        json!({"kind": "compute#networkEndpointGroupsListNetworkEndpoints", "items": items}),
    )
    .into_response())
}

fn valid_domain(d: &str) -> bool {
    let d = d.strip_suffix('.').unwrap_or(d);
    !d.is_empty()
        && d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn str_field<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(Value::as_str)
}

fn one_of(field: &str, value: Option<&str>, allowed: &[&str], default: &str) -> ApiResult<String> {
    let v = value.unwrap_or(default);
    if allowed.contains(&v) {
        Ok(v.to_string())
    } else {
        Err(ApiError::invalid(
            field,
            v,
            &format!("Must be one of: {}.", allowed.join(", ")),
        ))
    }
}

/// Validates a whole resource (insert, or the result of patch/update/setX) and fills server
/// fields. Returns the body to store and the internal state.
async fn prepare(
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
        "networkEndpointGroups" => prepare_neg(ctx, &mut body, &mut internal)?,
        "backendServices" => prepare_backend_service(conn, &mut body).await?,
        "urlMaps" => body = prepare_url_map(conn, ctx.project, body).await?,
        "sslCertificates" => prepare_certificate(&mut body)?,
        "targetHttpsProxies" => prepare_https_proxy(&mut body)?,
        "targetHttpProxies" if str_field(&body, "urlMap").is_none_or(str::is_empty) => {
            return Err(ApiError::compute(
                400,
                "required",
                "Required field 'resource.urlMap' not specified",
            ));
        }
        "addresses" => prepare_address(conn, &mut body, existing).await?,
        "forwardingRules" => prepare_forwarding_rule(conn, ctx, &mut body).await?,
        "healthChecks" => {
            one_of(
                "resource.type",
                str_field(&body, "type"),
                &[
                    "HTTP",
                    "HTTPS",
                    "HTTP2",
                    "TCP",
                    "SSL",
                    "GRPC",
                    "GRPC_WITH_TLS",
                ],
                "",
            )?;
            for (k, d) in [
                ("checkIntervalSec", 5),
                ("timeoutSec", 5),
                ("healthyThreshold", 2),
                ("unhealthyThreshold", 2),
            ] {
                if body.get(k).is_none() {
                    body[k] = json!(d);
                }
            }
        }
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

fn prepare_neg(ctx: &Ctx<'_>, body: &mut Value, internal: &mut Value) -> ApiResult<()> {
    let t = str_field(body, "networkEndpointType")
        .unwrap_or("GCE_VM_IP_PORT")
        .to_string();
    if ctx.location == "global" {
        if t == "SERVERLESS" {
            return Err(ApiError::invalid(
                "resource.networkEndpointType",
                "SERVERLESS",
                "Network endpoint of type SERVERLESS is only allowed in regional scope.",
            ));
        }
        if t != "INTERNET_FQDN_PORT" && t != "INTERNET_IP_PORT" {
            return Err(ApiError::invalid(
                "resource.networkEndpointType",
                &t,
                "The sandbox implements global network endpoint groups of type INTERNET_FQDN_PORT and INTERNET_IP_PORT.",
            ));
        }
        for f in ["network", "subnetwork"] {
            if body.get(f).is_some() {
                return Err(ApiError::invalid(
                    &format!("resource.{f}"),
                    str_field(body, f).unwrap_or_default(),
                    "Global network endpoint groups do not take a network.",
                ));
            }
        }
        for f in ["cloudRun", "appEngine", "cloudFunction"] {
            if body.get(f).is_some() {
                return Err(ApiError::invalid(
                    &format!("resource.{f}"),
                    "",
                    "Only SERVERLESS network endpoint groups take a serverless target.",
                ));
            }
        }
        let port = body
            .get("defaultPort")
            .and_then(Value::as_i64)
            .unwrap_or(443);
        if !(1..=65535).contains(&port) {
            return Err(ApiError::invalid(
                "resource.defaultPort",
                &port.to_string(),
                "Port must be between 1 and 65535.",
            ));
        }
        body["defaultPort"] = json!(port);
        if internal.get("endpoints").is_none() {
            internal["endpoints"] = json!([]);
        }
        return Ok(());
    }
    if t != "SERVERLESS" {
        return Err(ApiError::invalid(
            "resource.networkEndpointType",
            &t,
            "The sandbox implements regional network endpoint groups of type SERVERLESS.",
        ));
    }
    for f in ["network", "subnetwork", "defaultPort"] {
        if let Some(v) = body.get(f) {
            return Err(ApiError::invalid(
                &format!("resource.{f}"),
                v.to_string().trim_matches('"'),
                "This field must not be set for network endpoint groups of type SERVERLESS.",
            ));
        }
    }
    let targets = ["cloudRun", "appEngine", "cloudFunction"]
        .iter()
        .filter(|f| body.get(**f).is_some())
        .count();
    if targets != 1 {
        return Err(ApiError::invalid(
            "resource",
            "",
            "A SERVERLESS network endpoint group needs exactly one of cloudRun, appEngine, cloudFunction.",
        ));
    }
    if let Some(cr) = body.get("cloudRun") {
        let service = str_field(cr, "service");
        let mask = str_field(cr, "urlMask");
        if service.is_none() && mask.is_none() {
            return Err(ApiError::invalid(
                "resource.cloudRun",
                "",
                "Either service or urlMask must be set.",
            ));
        }
        if let Some(s) = service
            && !super::run::valid_service_id(s)
        {
            return Err(ApiError::invalid(
                "resource.cloudRun.service",
                s,
                "Not a valid Cloud Run service name.",
            ));
        }
    }
    body["networkEndpointType"] = json!("SERVERLESS");
    Ok(())
}

/// NEG types behind a backend service's backends.
async fn backend_neg_types(conn: &mut SqliteConnection, body: &Value) -> ApiResult<Vec<String>> {
    let mut types = Vec::new();
    for (i, b) in body["backends"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let field = format!("resource.backends[{i}].group");
        let group = str_field(b, "group").unwrap_or_default();
        if !(group.starts_with("https://") || group.starts_with("http://"))
            || link_path(group).is_none()
        {
            return Err(ApiError::invalid(
                &field,
                group,
                "The group must be a fully-qualified URL; partial URLs are not supported for backends[].group.",
            ));
        }
        let path = link_path(group).expect("checked");
        let Some((p, loc, c, n)) = split_path(&path) else {
            return Err(ApiError::invalid(
                &field,
                group,
                "Not a valid resource reference.",
            ));
        };
        if c != "networkEndpointGroups" {
            return Err(ApiError::invalid(
                &field,
                group,
                "The sandbox implements network endpoint group backends only.",
            ));
        }
        let key = Key {
            api: API,
            project: &p,
            location: &loc,
            collection: &c,
            name: &n,
        };
        let neg = sql::get_resource(conn, key)
            .await?
            .ok_or_else(|| ApiError::not_found(&path))?;
        types.push(
            str_field(&neg.body, "networkEndpointType")
                .unwrap_or_default()
                .to_string(),
        );
    }
    Ok(types)
}

async fn prepare_backend_service(conn: &mut SqliteConnection, body: &mut Value) -> ApiResult<()> {
    let scheme = one_of(
        "resource.loadBalancingScheme",
        str_field(body, "loadBalancingScheme"),
        &["EXTERNAL", "EXTERNAL_MANAGED", "INTERNAL_SELF_MANAGED"],
        "EXTERNAL",
    )?;
    body["loadBalancingScheme"] = json!(scheme);
    let protocol = one_of(
        "resource.protocol",
        str_field(body, "protocol"),
        &[
            "HTTP",
            "HTTPS",
            "HTTP2",
            "H2C",
            "TCP",
            "SSL",
            "GRPC",
            "UDP",
            "UNSPECIFIED",
        ],
        "HTTP",
    )?;
    body["protocol"] = json!(protocol);
    let types = backend_neg_types(conn, body).await?;
    let mut groups: Vec<&str> = Vec::new();
    let backends = body["backends"].as_array().cloned().unwrap_or_default();
    for (i, b) in backends.iter().enumerate() {
        let g = str_field(b, "group").unwrap_or_default();
        if groups.iter().any(|x| crate::cloud::same_resource(x, g)) {
            return Err(ApiError::invalid(
                &format!("resource.backends[{i}].group"),
                g,
                "Duplicate backend group.",
            ));
        }
        groups.push(g);
    }
    let serverless = types.iter().any(|t| t == "SERVERLESS");
    let internet = types.iter().any(|t| t.starts_with("INTERNET_"));
    if serverless && types.iter().any(|t| t != "SERVERLESS") {
        return Err(ApiError::invalid(
            "resource.backends",
            "",
            "Serverless network endpoint groups cannot be mixed with other backend types.",
        ));
    }
    let has_health_checks = body["healthChecks"]
        .as_array()
        .is_some_and(|h| !h.is_empty());
    if has_health_checks && serverless {
        return Err(ApiError::invalid(
            "resource.healthChecks",
            "",
            "A backend service cannot have a healthcheck with Serverless network endpoint group backends.",
        ));
    }
    if has_health_checks && internet && scheme != "INTERNAL_SELF_MANAGED" {
        return Err(ApiError::invalid(
            "resource.healthChecks",
            "",
            &format!(
                "Health checks are not allowed for GLOBAL {protocol} backend services with {scheme} load balancing scheme that have an Internet NEG."
            ),
        ));
    }
    for (i, (b, t)) in backends.iter().zip(&types).enumerate() {
        let label = if t == "SERVERLESS" {
            "Serverless network endpoint groups"
        } else {
            "Internet network endpoint groups"
        };
        let f = |k: &str| format!("resource.backends[{i}].{k}");
        if let Some(mode) = str_field(b, "balancingMode")
            && mode != "UTILIZATION"
        {
            return Err(ApiError::invalid(
                &f("balancingMode"),
                mode,
                &format!("Balancing mode is not supported for {label}."),
            ));
        }
        for k in [
            "maxRate",
            "maxRatePerInstance",
            "maxRatePerEndpoint",
            "maxConnections",
            "maxConnectionsPerInstance",
            "maxConnectionsPerEndpoint",
        ] {
            if let Some(v) = b.get(k) {
                return Err(ApiError::invalid(
                    &f(k),
                    &v.to_string(),
                    &format!("{k} is not supported for {label}."),
                ));
            }
        }
        if let Some(v) = b.get("maxUtilization") {
            return Err(ApiError::invalid(
                &f("maxUtilization"),
                &v.to_string(),
                &format!("Max utilization is not supported for {label}."),
            ));
        }
        if let Some(v) = b.get("capacityScaler").and_then(Value::as_f64)
            && (v - 1.0).abs() > f64::EPSILON
        {
            return Err(ApiError::invalid(
                &f("capacityScaler"),
                &v.to_string(),
                &format!("Capacity scaler is not supported for {label}."),
            ));
        }
    }
    if serverless {
        if let Some(v) = body.get("timeoutSec") {
            return Err(ApiError::invalid(
                "resource.timeoutSec",
                &v.to_string(),
                "Timeout sec is not supported for a backend service with Serverless network endpoint groups.",
            ));
        }
        if let Some(v) = str_field(body, "portName") {
            return Err(ApiError::invalid(
                "resource.portName",
                v,
                "Port name is not supported for a backend service with Serverless network endpoint groups.",
            ));
        }
    }
    if let Some(mode) = body.pointer("/cdnPolicy/cacheMode").and_then(Value::as_str) {
        one_of(
            "resource.cdnPolicy.cacheMode",
            Some(mode),
            &[
                "CACHE_ALL_STATIC",
                "USE_ORIGIN_HEADERS",
                "FORCE_CACHE_ALL",
                "INVALID_CACHE_MODE",
            ],
            "",
        )?;
    }
    for (i, h) in body["customRequestHeaders"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let h = h.as_str().unwrap_or_default();
        if !h.contains(':') {
            return Err(ApiError::invalid(
                &format!("resource.customRequestHeaders[{i}]"),
                h,
                "Headers take the form 'Name: value'.",
            ));
        }
    }
    // Server defaults seen on GET (API-NOTES §4).
    if body.get("sessionAffinity").is_none() {
        body["sessionAffinity"] = json!("NONE");
    }
    if body.get("affinityCookieTtlSec").is_none() {
        body["affinityCookieTtlSec"] = json!(0);
    }
    if body.get("connectionDraining").is_none() {
        body["connectionDraining"] =
            json!({"drainingTimeoutSec": if serverless { 0 } else { 300 }});
    }
    if !serverless && body.get("timeoutSec").is_none() {
        body["timeoutSec"] = json!(30);
    }
    if body.get("enableCDN").is_none() {
        body["enableCDN"] = json!(false);
    }
    Ok(())
}

/// The URL map rules of API-NOTES §11.8 come from `domain::urlmap`, the one implementation the
/// planner and the route preview also use; tests run on every insert and update.
async fn prepare_url_map(
    conn: &mut SqliteConnection,
    project: &str,
    body: Value,
) -> ApiResult<Value> {
    let map: UrlMap = serde_json::from_value(body)
        .map_err(|e| ApiError::invalid("resource", "", &format!("Not a valid URL map: {e}")))?;
    if let Err(e) = urlmap::check(&map) {
        return Err(ApiError::invalid(&e.field, &e.value, &e.message));
    }
    let as_value = serde_json::to_value(&map).expect("a URL map serialises");
    check_references(conn, project, "urlMaps", &as_value).await?;
    if let Some(problem) = scheme_problems(conn, project, &map, &[])
        .await?
        .into_iter()
        .next()
    {
        return Err(ApiError::invalid(&problem.0, "", &problem.1));
    }
    if let Some(f) = urlmap::run_tests(&map).first() {
        return Err(ApiError::invalid(
            &format!("resource.tests[{}]", f.index),
            &format!("{}{}", f.host, f.path),
            &format!("Test failure: {}", f.message),
        ));
    }
    Ok(as_value)
}

/// Features a classic (`EXTERNAL`) load balancer cannot serve, when the map's backend services
/// (or the requested schemes) are `EXTERNAL`: (field, message).
async fn scheme_problems(
    conn: &mut SqliteConnection,
    project: &str,
    map: &UrlMap,
    requested: &[String],
) -> ApiResult<Vec<(String, String)>> {
    let mut classic = requested.iter().any(|s| s == "EXTERNAL");
    if requested.is_empty() {
        for s in urlmap::referenced_services(map) {
            let Some((p, loc, c, n)) = norm(project, &s).as_deref().and_then(split_path) else {
                continue;
            };
            let key = Key {
                api: API,
                project: &p,
                location: &loc,
                collection: &c,
                name: &n,
            };
            if let Some(bs) = sql::get_resource(conn, key).await?
                && bs.body["loadBalancingScheme"] == "EXTERNAL"
            {
                classic = true;
            }
        }
    }
    if !classic {
        return Ok(Vec::new());
    }
    Ok(urlmap::advanced_features(map)
        .into_iter()
        .map(|f| {
            let m = format!("{f} is only supported with load balancing scheme EXTERNAL_MANAGED.");
            (f, m)
        })
        .collect())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidateRequest {
    resource: Value,
    #[serde(default)]
    load_balancing_schemes: Vec<String>,
}

/// `urlMaps.validate`: loads and tests a URL map without storing anything.
async fn validate_url_map(ctx: &Ctx<'_>, body: &Bytes) -> ApiResult {
    let req: ValidateRequest = serde_json::from_value(json_body(body)?)
        .map_err(|e| ApiError::invalid("resource", "", &format!("Not a valid request: {e}")))?;
    for s in &req.load_balancing_schemes {
        one_of(
            "loadBalancingSchemes",
            Some(s),
            &["EXTERNAL", "EXTERNAL_MANAGED"],
            "",
        )?;
    }
    let map: UrlMap = serde_json::from_value(req.resource)
        .map_err(|e| ApiError::invalid("resource", "", &format!("Not a valid URL map: {e}")))?;
    let mut conn = ctx.sb.db.acquire().await?;
    let mut load_errors: Vec<String> = urlmap::check_all(&map)
        .iter()
        .map(|e| e.to_string())
        .collect();
    let as_value = serde_json::to_value(&map).expect("a URL map serialises");
    if let Err(e) = check_references(&mut conn, ctx.project, "urlMaps", &as_value).await {
        load_errors.push(e.message.clone());
    }
    for (_, m) in scheme_problems(&mut conn, ctx.project, &map, &req.load_balancing_schemes).await?
    {
        load_errors.push(m);
    }
    let result = if load_errors.is_empty() {
        let failures = urlmap::run_tests(&map);
        let mut r = json!({"loadSucceeded": true, "testPassed": failures.is_empty()});
        if !failures.is_empty() {
            r["testFailures"] = serde_json::to_value(&failures).expect("serialisable");
        }
        r
    } else {
        json!({"loadSucceeded": false, "loadErrors": load_errors, "testPassed": false})
    };
    Ok(axum::Json(json!({"result": result})).into_response())
}

fn prepare_certificate(body: &mut Value) -> ApiResult<()> {
    let t = one_of(
        "resource.type",
        str_field(body, "type"),
        &["MANAGED", "SELF_MANAGED"],
        if body.get("managed").is_some() {
            "MANAGED"
        } else {
            "SELF_MANAGED"
        },
    )?;
    body["type"] = json!(t);
    if t == "SELF_MANAGED" {
        for f in ["certificate", "privateKey"] {
            if !str_field(body, f).is_some_and(|s| s.contains("-----BEGIN")) {
                return Err(ApiError::invalid(
                    &format!("resource.{f}"),
                    "",
                    "A self-managed certificate needs a PEM certificate and private key.",
                ));
            }
        }
        // The private key is write-only, as in Compute.
        body.as_object_mut().expect("object").remove("privateKey");
        return Ok(());
    }
    let domains: Vec<String> = body
        .pointer("/managed/domains")
        .and_then(Value::as_array)
        .map(|d| {
            d.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if domains.is_empty() {
        return Err(ApiError::compute(
            400,
            "required",
            "Required field 'resource.managed.domains' not specified",
        ));
    }
    if domains.len() > 100 {
        return Err(ApiError::invalid(
            "resource.managed.domains",
            &domains.len().to_string(),
            "At most 100 domains per managed certificate.",
        ));
    }
    for (i, d) in domains.iter().enumerate() {
        if d.contains('*') || !valid_domain(d) {
            return Err(ApiError::invalid(
                &format!("resource.managed.domains[{i}]"),
                d,
                "Domains must be fully qualified names; wildcards are not supported by Google-managed certificates.",
            ));
        }
    }
    body["managed"] = json!({"domains": domains});
    set_certificate_status(body, "PROVISIONING", "PROVISIONING");
    Ok(())
}

fn prepare_https_proxy(body: &mut Value) -> ApiResult<()> {
    if str_field(body, "urlMap").is_none_or(str::is_empty) {
        return Err(ApiError::compute(
            400,
            "required",
            "Required field 'resource.urlMap' not specified",
        ));
    }
    let certs = body["sslCertificates"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    if certs == 0 && body.get("certificateMap").is_none() {
        return Err(ApiError::compute(
            400,
            "required",
            "Required field 'resource.sslCertificates' not specified",
        ));
    }
    if certs > 15 {
        return Err(ApiError::invalid(
            "resource.sslCertificates",
            &certs.to_string(),
            "At most 15 SSL certificates per target HTTPS proxy.",
        ));
    }
    let quic = one_of(
        "resource.quicOverride",
        str_field(body, "quicOverride"),
        &["NONE", "ENABLE", "DISABLE"],
        "NONE",
    )?;
    body["quicOverride"] = json!(quic);
    if let Some(t) = body.get("httpKeepAliveTimeoutSec").and_then(Value::as_i64)
        && !(5..=1200).contains(&t)
    {
        return Err(ApiError::invalid(
            "resource.httpKeepAliveTimeoutSec",
            &t.to_string(),
            "Must be between 5 and 1200.",
        ));
    }
    Ok(())
}

async fn prepare_address(
    conn: &mut SqliteConnection,
    body: &mut Value,
    existing: Option<&StoredResource>,
) -> ApiResult<()> {
    let at = one_of(
        "resource.addressType",
        str_field(body, "addressType"),
        &["EXTERNAL"],
        "EXTERNAL",
    )?;
    let version = one_of(
        "resource.ipVersion",
        str_field(body, "ipVersion"),
        &["IPV4", "IPV6"],
        "IPV4",
    )?;
    let tier = one_of(
        "resource.networkTier",
        str_field(body, "networkTier"),
        &["PREMIUM"],
        "PREMIUM",
    )?;
    body["addressType"] = json!(at);
    body["ipVersion"] = json!(version);
    body["networkTier"] = json!(tier);
    if let Some(r) = existing {
        body["address"] = r.body["address"].clone();
        return Ok(());
    }
    let taken: Vec<String> = sql::all_bodies(conn, API, "addresses")
        .await?
        .iter()
        .chain(sql::all_bodies(conn, API, "forwardingRules").await?.iter())
        .filter_map(|b| {
            b.get("address")
                .or_else(|| b.get("IPAddress"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    if let Some(ip) = str_field(body, "address") {
        let parsed: std::net::IpAddr = ip
            .parse()
            .map_err(|_| ApiError::invalid("resource.address", ip, "Not a valid IP address."))?;
        if parsed.is_ipv4() != (version == "IPV4") {
            return Err(ApiError::invalid(
                "resource.address",
                ip,
                "The address does not match ipVersion.",
            ));
        }
        if taken.iter().any(|t| t == ip) {
            return Err(ApiError::invalid(
                "resource.address",
                ip,
                "The address is already reserved.",
            ));
        }
        return Ok(());
    }
    body["address"] = json!(allocate_ip(&version, &taken));
    if version == "IPV6" {
        body["prefixLength"] = json!(64);
    }
    Ok(())
}

/// A free address from ranges Google uses for global load balancers.
fn allocate_ip(version: &str, taken: &[String]) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    loop {
        let ip = if version == "IPV6" {
            format!("2600:1901:0:{:x}::", rng.random_range(0x1000..0xffffu32))
        } else {
            format!(
                "34.{}.{}.{}",
                rng.random_range(104..=160u8),
                rng.random::<u8>(),
                rng.random_range(1..=254u8)
            )
        };
        if !taken.contains(&ip) {
            return ip;
        }
    }
}

static PORT_RANGE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d+(-\d+)?$").expect("valid regex"));

fn port_range(s: &str) -> Option<(u32, u32)> {
    if !PORT_RANGE_RE.is_match(s) {
        return None;
    }
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
        None => {
            let p = s.parse().ok()?;
            (p, p)
        }
    };
    (1..=65535).contains(&a).then_some(())?;
    (a <= b && b <= 65535).then_some((a, b))
}

async fn prepare_forwarding_rule(
    conn: &mut SqliteConnection,
    ctx: &Ctx<'_>,
    body: &mut Value,
) -> ApiResult<()> {
    let scheme = one_of(
        "resource.loadBalancingScheme",
        str_field(body, "loadBalancingScheme"),
        &["EXTERNAL", "EXTERNAL_MANAGED"],
        "EXTERNAL",
    )?;
    body["loadBalancingScheme"] = json!(scheme);
    let proto = one_of(
        "resource.IPProtocol",
        str_field(body, "IPProtocol"),
        &["TCP"],
        "TCP",
    )?;
    body["IPProtocol"] = json!(proto);
    let tier = one_of(
        "resource.networkTier",
        str_field(body, "networkTier"),
        &["PREMIUM"],
        "PREMIUM",
    )?;
    body["networkTier"] = json!(tier);
    let target = str_field(body, "target").unwrap_or_default().to_string();
    if target.is_empty() {
        return Err(ApiError::compute(
            400,
            "required",
            "Required field 'resource.target' not specified",
        ));
    }
    let default_port = if target.contains("/targetHttpsProxies/") {
        "443"
    } else {
        "80"
    };
    let range = str_field(body, "portRange")
        .unwrap_or(default_port)
        .to_string();
    let Some((lo, hi)) = port_range(&range) else {
        return Err(ApiError::invalid(
            "resource.portRange",
            &range,
            "Must be a match of regex '\\d+(?:-\\d+)?'",
        ));
    };
    body["portRange"] = json!(if lo == hi {
        format!("{lo}-{hi}")
    } else {
        range.clone()
    });
    // Store the literal IP, as Compute does: a reserved address's IP, a given one, or a new
    // ephemeral one.
    let ip = match str_field(body, "IPAddress") {
        Some(a) if a.parse::<std::net::IpAddr>().is_ok() => a.to_string(),
        Some(link) => {
            let path = norm(ctx.project, link).ok_or_else(|| {
                ApiError::invalid(
                    "resource.IPAddress",
                    link,
                    "Not an IP address or address reference.",
                )
            })?;
            let Some((p, loc, c, n)) = split_path(&path).filter(|(_, _, c, _)| c == "addresses")
            else {
                return Err(ApiError::invalid(
                    "resource.IPAddress",
                    link,
                    "Not an IP address or address reference.",
                ));
            };
            let key = Key {
                api: API,
                project: &p,
                location: &loc,
                collection: &c,
                name: &n,
            };
            let addr = sql::get_resource(conn, key)
                .await?
                .ok_or_else(|| ApiError::not_found(&path))?;
            addr.body["address"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
        None => {
            let taken: Vec<String> = sql::all_bodies(conn, API, "addresses")
                .await?
                .iter()
                .filter_map(|b| b["address"].as_str().map(str::to_string))
                .collect();
            allocate_ip(str_field(body, "ipVersion").unwrap_or("IPV4"), &taken)
        }
    };
    let name = str_field(body, "name").unwrap_or_default();
    for other in sql::list_resources(conn, API, ctx.project, "global", "forwardingRules").await? {
        if other.name == name || other.body["IPAddress"].as_str() != Some(ip.as_str()) {
            continue;
        }
        if let Some((a, b)) = other.body["portRange"].as_str().and_then(port_range)
            && a <= hi
            && lo <= b
        {
            return Err(ApiError::invalid(
                "resource.IPAddress",
                &ip,
                &format!(
                    "Specified IP address is in-use and would result in a conflict with forwarding rule '{}'.",
                    other.name
                ),
            ));
        }
    }
    body["IPAddress"] = json!(ip);
    body["ipVersion"] = json!(if ip.contains(':') { "IPV6" } else { "IPV4" });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_rfc1035() {
        for ok in ["a", "shop-urlmap", "a1", &"a".repeat(63)] {
            assert!(check_name("resource.name", ok).is_ok(), "{ok}");
        }
        for bad in ["", "1a", "A", "a-", "a_b", &"a".repeat(64)] {
            assert!(check_name("resource.name", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn references_cover_every_link_field() {
        let fr = json!({"target": "https://www.googleapis.com/compute/v1/projects/p/global/targetHttpsProxies/t"});
        assert_eq!(
            references("p", "forwardingRules", &fr)[0].1,
            "projects/p/global/targetHttpsProxies/t"
        );
        let bs = json!({"backends": [{"group": "https://x/compute/v1/projects/p/regions/r/networkEndpointGroups/n"}], "healthChecks": ["global/healthChecks/h"]});
        let refs = references("p", "backendServices", &bs);
        assert_eq!(
            refs[0],
            (
                "resource.backends[0].group".to_string(),
                "projects/p/regions/r/networkEndpointGroups/n".to_string()
            )
        );
        assert_eq!(refs[1].1, "projects/p/global/healthChecks/h");
        let neg = json!({"cloudRun": {"service": "my-app"}});
        assert!(references("p", "networkEndpointGroups", &neg).is_empty());
    }

    #[test]
    fn port_ranges_parse_and_reject_nonsense() {
        assert_eq!(port_range("443"), Some((443, 443)));
        assert_eq!(port_range("80-8080"), Some((80, 8080)));
        assert_eq!(port_range("0"), None);
        assert_eq!(port_range("90-80"), None);
        assert_eq!(port_range("http"), None);
    }
}
