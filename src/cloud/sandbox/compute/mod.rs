//! Compute Engine v1 in the sandbox: NEGs, backend services, URL maps, SSL certificates, target
//! proxies, global addresses, global forwarding rules, health checks and their operations, with
//! the validation and dependency rules of docs/google-cloud.md §2–§11.
//!
//! This file turns an admitted request (`request::admit`: a method of the discovery document,
//! its query and body already checked) into the handler of that method; `crud` holds the flow
//! every collection shares, `operations` the operation records, `names`, `references` and
//! `users` the rules about names, links and who uses what, and one file per resource kind that
//! kind's own rules.

mod addresses;
mod backend_services;
mod crud;
mod forwarding_rules;
mod health_checks;
mod lists;
mod names;
mod negs;
mod operations;
mod references;
mod security_policies;
mod ssl_certificates;
mod ssl_policies;
mod target_proxies;
mod url_map_hosts;
mod url_map_schemes;
mod url_maps;
mod users;

pub(super) use ssl_certificates::provision_certificate;

use super::request::{Call, admit};
use super::{Api, ApiError, ApiResult, Sandbox};
use crate::db::sandbox::Key;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
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

/// A collection the sandbox models, and the discovery resources (and their verbs) that reach
/// it. A method of the discovery document outside this table answers 501.
struct Coll {
    name: &'static str,
    /// The discovery resource of its global and its regional methods.
    global: Option<&'static str>,
    regional: Option<&'static str>,
    /// The verbs of those resources the sandbox implements.
    verbs: &'static [&'static str],
    fingerprint: Fingerprint,
    kind: &'static str,
    /// As in Google's "The url_map resource '…' is already being used by '…'".
    singular: &'static str,
}

const COLLECTIONS: &[Coll] = &[
    Coll {
        name: "networkEndpointGroups",
        global: Some("globalNetworkEndpointGroups"),
        regional: Some("regionNetworkEndpointGroups"),
        verbs: &[
            "insert",
            "get",
            "list",
            "delete",
            "attachNetworkEndpoints",
            "detachNetworkEndpoints",
            "listNetworkEndpoints",
        ],
        fingerprint: Fingerprint::None,
        kind: "compute#networkEndpointGroup",
        singular: "network_endpoint_group",
    },
    Coll {
        name: "backendServices",
        global: Some("backendServices"),
        regional: None,
        verbs: &[
            "insert",
            "get",
            "list",
            "delete",
            "patch",
            "update",
            "testIamPermissions",
            "setSecurityPolicy",
            "setEdgeSecurityPolicy",
        ],
        fingerprint: Fingerprint::Required,
        kind: "compute#backendService",
        singular: "backend_service",
    },
    Coll {
        name: "urlMaps",
        global: Some("urlMaps"),
        regional: None,
        verbs: &[
            "insert", "get", "list", "delete", "patch", "update", "validate",
        ],
        fingerprint: Fingerprint::Required,
        kind: "compute#urlMap",
        singular: "url_map",
    },
    Coll {
        name: "sslCertificates",
        global: Some("sslCertificates"),
        regional: None,
        verbs: &["insert", "get", "list", "delete"],
        fingerprint: Fingerprint::None,
        kind: "compute#sslCertificate",
        singular: "ssl_certificate",
    },
    Coll {
        name: "targetHttpProxies",
        global: Some("targetHttpProxies"),
        regional: None,
        verbs: &["insert", "get", "list", "delete", "patch", "setUrlMap"],
        fingerprint: Fingerprint::Required,
        kind: "compute#targetHttpProxy",
        singular: "target_http_proxy",
    },
    Coll {
        name: "targetHttpsProxies",
        global: Some("targetHttpsProxies"),
        regional: None,
        verbs: &[
            "insert",
            "get",
            "list",
            "delete",
            "patch",
            "setUrlMap",
            "setSslCertificates",
            "setCertificateMap",
            "setSslPolicy",
            "setQuicOverride",
        ],
        fingerprint: Fingerprint::Required,
        kind: "compute#targetHttpsProxy",
        singular: "target_https_proxy",
    },
    Coll {
        name: "addresses",
        global: Some("globalAddresses"),
        regional: None,
        verbs: &["insert", "get", "list", "delete"],
        fingerprint: Fingerprint::None,
        kind: "compute#address",
        singular: "address",
    },
    Coll {
        name: "forwardingRules",
        global: Some("globalForwardingRules"),
        regional: None,
        verbs: &["insert", "get", "list", "delete", "patch", "setTarget"],
        fingerprint: Fingerprint::Optional,
        kind: "compute#forwardingRule",
        singular: "forwarding_rule",
    },
    Coll {
        name: "sslPolicies",
        global: Some("sslPolicies"),
        regional: None,
        verbs: &["insert", "get", "list", "delete", "patch"],
        fingerprint: Fingerprint::Required,
        kind: "compute#sslPolicy",
        singular: "ssl_policy",
    },
    Coll {
        name: "healthChecks",
        global: Some("healthChecks"),
        regional: None,
        verbs: &["insert", "get", "list", "delete", "patch", "update"],
        fingerprint: Fingerprint::None,
        kind: "compute#healthCheck",
        singular: "health_check",
    },
    Coll {
        name: "securityPolicies",
        global: Some("securityPolicies"),
        regional: None,
        verbs: &["insert", "get", "list", "delete", "patch"],
        fingerprint: Fingerprint::Optional,
        kind: "compute#securityPolicy",
        singular: "security_policy",
    },
];

/// What a request resolved to.
struct Ctx<'a> {
    sb: &'a Sandbox,
    project: &'a str,
    location: &'a str,
    base: String,
    now: i64,
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

/// What a method does, by its discovery verb.
enum Action<'a> {
    List,
    Get(&'a str),
    Insert,
    Delete(&'a str),
    Patch(&'a str),
    Update(&'a str),
    Verb(&'a str, &'a str),
    GetOp(&'a str),
    WaitOp(&'a str),
    DeleteOp(&'a str),
}

pub(super) async fn handle(
    State(sb): State<Arc<Sandbox>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Google stamps an operation's insertTime when the request arrives, before its checks.
    let arrived = super::now_ms();
    let result = async {
        let call = admit(&sb, Api::Compute, &method, &uri, &headers, &body).await?;
        dispatch(&sb, call, arrived).await
    }
    .await;
    result.unwrap_or_else(|e| e.into_response())
}

/// The resource name of a method's path: its last variable other than the project and region.
fn resource_name<'c>(call: &'c Call<'_>) -> &'c str {
    call.path_params
        .iter()
        .rev()
        .find(|(k, _)| k != "project" && k != "region")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

async fn dispatch(sb: &Sandbox, mut call: Call<'_>, arrived: i64) -> ApiResult {
    let project = call.param("project").unwrap_or_default().to_string();
    let location = call.param("region").unwrap_or("global").to_string();
    let resource = call.resource().to_string();
    let verb = call.verb().to_string();
    let not_implemented = || ApiError::not_implemented(Api::Compute, &call.method.id);
    let ops = matches!(resource.as_str(), "globalOperations" | "regionOperations");
    let spec = if ops {
        None
    } else {
        let spec = COLLECTIONS
            .iter()
            .find(|c| c.global == Some(resource.as_str()) || c.regional == Some(resource.as_str()))
            .filter(|c| c.verbs.contains(&verb.as_str()))
            .ok_or_else(not_implemented)?;
        Some(spec)
    };
    let name = resource_name(&call).to_string();
    let action = match (ops, verb.as_str()) {
        (true, "get") => Action::GetOp(&name),
        (true, "wait") => Action::WaitOp(&name),
        (true, "delete") => Action::DeleteOp(&name),
        (true, _) => return Err(not_implemented()),
        (false, "list") => Action::List,
        (false, "get") => Action::Get(&name),
        (false, "insert") => Action::Insert,
        (false, "delete") => Action::Delete(&name),
        (false, "patch") => Action::Patch(&name),
        (false, "update") => Action::Update(&name),
        (false, v) => Action::Verb(&name, v),
    };
    let ctx = Ctx {
        sb,
        project: &project,
        location: &location,
        base: sb.self_link_base(),
        now: arrived,
    };
    // Discovery's own rule: the methods that change something take a requestId.
    let mutation = call.method.params.contains_key("requestId");
    if !mutation {
        return match action {
            Action::GetOp(n) => operations::get_operation(&ctx, n).await,
            Action::WaitOp(n) => operations::wait_operation(&ctx, n).await,
            Action::DeleteOp(n) => operations::delete_operation(&ctx, n).await,
            Action::List => lists::list(&ctx, spec.expect("collections list"), &call).await,
            Action::Get(n) => crud::get(&ctx, spec.expect("collections get").name, n).await,
            Action::Verb(n, "listNetworkEndpoints") => negs::list_network_endpoints(&ctx, n).await,
            Action::Verb(_, "validate") => url_maps::validate_url_map(&ctx, call.take_body()).await,
            Action::Verb(n, "testIamPermissions") => {
                backend_services::test_iam_permissions(&ctx, n, call.take_body()).await
            }
            _ => Err(not_implemented()),
        };
    }
    let spec = spec.expect("mutations name a collection");
    let request_id = operations::parse_request_id(call.query("requestId"))?;
    let _serial = sb.write.lock().await;
    let mut conn = sb.db.acquire().await?;
    if let Some(rid) = &request_id
        && let Some(replay) = operations::replay(&mut conn, &project, rid).await?
    {
        return Ok(replay);
    }
    let fault = sb.mutation_fault();
    let body = call.take_body();
    let change = match action {
        Action::Insert => crud::insert(&ctx, &mut conn, spec, body).await?,
        Action::Delete(n) => crud::delete(&ctx, &mut conn, spec, n).await?,
        Action::Patch(n) => crud::modify(&ctx, &mut conn, spec, n, body, true).await?,
        Action::Update(n) => crud::modify(&ctx, &mut conn, spec, n, body, false).await?,
        Action::Verb(n, v) => crud::mutate_verb(&ctx, &mut conn, spec, n, v, body).await?,
        _ => return Err(not_implemented()),
    };
    drop(conn);
    operations::commit(&ctx, request_id, change, fault).await
}
