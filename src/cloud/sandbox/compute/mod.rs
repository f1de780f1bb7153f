//! Compute Engine v1 in the sandbox: NEGs, backend services, URL maps, SSL certificates, target
//! proxies, global addresses, global forwarding rules, health checks and their operations, with
//! the validation and dependency rules of docs/google-cloud.md §2–§11.
//!
//! This file routes a path and verb to its handler; `crud` holds the flow every collection
//! shares, `operations` the operation records, `shared` references and field checks, and one
//! file per resource kind holds that kind's own rules.

mod addresses;
mod backend_services;
mod crud;
mod forwarding_rules;
mod health_checks;
mod negs;
mod operations;
mod shared;
mod ssl_certificates;
mod target_proxies;
mod url_maps;

pub(super) use ssl_certificates::provision_certificate;

use super::{Api, ApiError, ApiResult, Sandbox};
use crate::db::sandbox::Key;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

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
            Action::GetOp(name) => operations::get_operation(&ctx, name).await,
            Action::WaitOp(name) => operations::wait_operation(&ctx, name).await,
            Action::DeleteOp(name) => operations::delete_operation(&ctx, name).await,
            Action::List(c) => crud::list(&ctx, c, q).await,
            Action::Get(c, n) => crud::get(&ctx, c, n).await,
            Action::Verb("networkEndpointGroups", n, "listNetworkEndpoints") => {
                negs::list_network_endpoints(&ctx, n).await
            }
            Action::Verb("urlMaps", _, "validate") => url_maps::validate_url_map(&ctx, body).await,
            _ => Err(not_routed(&method, rest)),
        };
    }
    let spec = spec.expect("mutations name a collection");
    let request_id = operations::parse_request_id(q.request_id.as_deref())?;
    let _serial = sb.write.lock().await;
    let mut conn = sb.db.acquire().await?;
    if let Some(rid) = &request_id
        && let Some(replay) = operations::replay(&mut conn, project, rid).await?
    {
        return Ok(replay);
    }
    let fault = sb.mutation_fault();
    let change = match action {
        Action::Insert(_) => crud::insert(&ctx, &mut conn, spec, json_body(body)?).await?,
        Action::Delete(c, n) => crud::delete(&ctx, &mut conn, spec, c, n).await?,
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
            crud::modify(&ctx, &mut conn, spec, n, json_body(body)?, is_patch).await?
        }
        Action::Verb(c, n, verb) => {
            crud::mutate_verb(&ctx, &mut conn, spec, c, n, verb, json_body(body)?).await?
        }
        _ => unreachable!("non-mutations returned above"),
    };
    drop(conn);
    operations::commit(&ctx, request_id, change, fault).await
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
