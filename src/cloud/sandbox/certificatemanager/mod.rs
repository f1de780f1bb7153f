//! Certificate Manager v1 in the sandbox (API-NOTES §14.12): DNS authorizations with the CNAME
//! record they need, Google-managed certificates that become ACTIVE once the sandbox's DNS holds
//! every domain's record (`dns`), certificate maps and their entries, and google.longrunning
//! operations that are `done` after the Compute latency. Location `global` only.
//!
//! Google leaves the wording of several refusals unpublished (API-NOTES §14.8: deleting what is
//! still referenced, a duplicate id); those messages are ours, in Google's status codes.

pub(super) mod dns;
mod resources;

use super::request::{Call, admit};
use super::{Api, ApiError, ApiResult, Sandbox, now_ms, random_hex, rfc3339};
use crate::db::sandbox::{self as sql, Key};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const API: &str = "certificatemanager";
const LOCATION: &str = "global";

pub(super) fn err(e: sqlx::Error) -> ApiError {
    ApiError::internal(e, Api::CertificateManager)
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::certificate_manager(400, "INVALID_ARGUMENT", message)
}

fn not_found(name: &str) -> ApiError {
    ApiError::certificate_manager(404, "NOT_FOUND", format!("Resource '{name}' was not found"))
}

fn precondition(message: impl Into<String>) -> ApiError {
    ApiError::certificate_manager(400, "FAILED_PRECONDITION", message)
}

/// The four kinds, by collection: the query parameter that names a new one, and the `@type` of
/// an operation's response.
struct Kind {
    collection: &'static str,
    id_param: &'static str,
    message: &'static str,
}

const KINDS: &[Kind] = &[
    Kind {
        collection: "dnsAuthorizations",
        id_param: "dnsAuthorizationId",
        message: "DnsAuthorization",
    },
    Kind {
        collection: "certificates",
        id_param: "certificateId",
        message: "Certificate",
    },
    Kind {
        collection: "certificateMaps",
        id_param: "certificateMapId",
        message: "CertificateMap",
    },
    Kind {
        collection: "certificateMapEntries",
        id_param: "certificateMapEntryId",
        message: "CertificateMapEntry",
    },
];

/// Where a request points: the project, the kind, the parent path (`projects/P/locations/global`
/// or a map) and the resource's id (empty for a collection).
pub(super) struct Target {
    pub(super) project: String,
    collection: &'static str,
    parent: String,
    id: String,
}

impl Target {
    pub(super) fn name(&self) -> String {
        format!("{}/{}/{}", self.parent, self.collection, self.id)
    }

    /// The stored row: entries are keyed by map and entry, so a map's entries list together.
    fn key_name(&self) -> String {
        match self.parent.split_once("/certificateMaps/") {
            Some((_, map)) => format!("{map}/{}", self.id),
            None => self.id.clone(),
        }
    }
}

pub(super) fn key<'a>(project: &'a str, collection: &'a str, name: &'a str) -> Key<'a> {
    Key {
        api: API,
        project,
        location: LOCATION,
        collection,
        name,
    }
}

pub(super) async fn handle(
    State(sb): State<Arc<Sandbox>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let call = admit(&sb, Api::CertificateManager, &method, &uri, &headers, &body).await?;
        dispatch(&sb, call).await
    }
    .await;
    result.unwrap_or_else(|e| e.into_response())
}

async fn dispatch(sb: &Sandbox, mut call: Call<'_>) -> ApiResult {
    let project = call.param("projectsId").unwrap_or_default().to_string();
    let location = call.param("locationsId").unwrap_or_default().to_string();
    if location != LOCATION {
        return Err(invalid(format!(
            "Location '{location}' is not supported by the sandbox: the global external Application Load Balancer uses location 'global'."
        )));
    }
    let resource = call.resource().to_string();
    let verb = call.verb().to_string();
    if resource == "operations" {
        let id = call.param("operationsId").unwrap_or_default().to_string();
        return match verb.as_str() {
            "get" => operation(sb, &project, &id).await,
            _ => Err(ApiError::not_implemented(
                Api::CertificateManager,
                &call.method.id,
            )),
        };
    }
    let Some(kind) = KINDS.iter().find(|k| k.collection == resource) else {
        return Err(ApiError::not_implemented(
            Api::CertificateManager,
            &call.method.id,
        ));
    };
    let mut parent = format!("projects/{project}/locations/{LOCATION}");
    if kind.collection == "certificateMapEntries" {
        let map = call.param("certificateMapsId").unwrap_or_default();
        parent = format!("{parent}/certificateMaps/{map}");
    }
    let id_path = match kind.collection {
        "dnsAuthorizations" => "dnsAuthorizationsId",
        "certificates" => "certificatesId",
        "certificateMaps" => "certificateMapsId",
        _ => "certificateMapEntriesId",
    };
    let mut target = Target {
        project: project.clone(),
        collection: kind.collection,
        parent,
        id: call.param(id_path).unwrap_or_default().to_string(),
    };
    match verb.as_str() {
        "get" => resources::get(sb, &target).await,
        "list" => resources::list(sb, &target).await,
        "create" => {
            let id = call.query(kind.id_param).unwrap_or_default().to_string();
            if id.is_empty() {
                return Err(invalid(format!(
                    "Missing required parameter: {}",
                    kind.id_param
                )));
            }
            target.id = id;
            let body = call.take_body();
            let stored = resources::create(sb, &target, body).await?;
            started(sb, &target, "create", Some(stored), kind.message).await
        }
        "patch" => {
            let mask = call.query("updateMask").unwrap_or_default().to_string();
            if mask.trim().is_empty() {
                return Err(invalid(
                    "updateMask is required: name the fields to change.",
                ));
            }
            let body = call.take_body();
            let stored = resources::patch(sb, &target, &mask, body).await?;
            started(sb, &target, "update", Some(stored), kind.message).await
        }
        "delete" => {
            resources::delete(sb, &target).await?;
            started(sb, &target, "delete", None, kind.message).await
        }
        _ => Err(ApiError::not_implemented(
            Api::CertificateManager,
            &call.method.id,
        )),
    }
}

/// Records the operation of a change and answers it as Google first does: without `done`.
async fn started(
    sb: &Sandbox,
    target: &Target,
    verb: &str,
    resource: Option<Value>,
    message: &str,
) -> ApiResult {
    let now = now_ms();
    let id = format!("operation-{now}-{}", random_hex(8));
    let name = format!(
        "projects/{}/locations/{LOCATION}/operations/{id}",
        target.project
    );
    let response = match resource {
        Some(mut r) => {
            r["@type"] = json!(format!(
                "type.googleapis.com/google.cloud.certificatemanager.v1.{message}"
            ));
            r
        }
        None => json!({ "@type": "type.googleapis.com/google.protobuf.Empty" }),
    };
    let op = json!({
        "name": name,
        "metadata": {
            "@type": "type.googleapis.com/google.cloud.certificatemanager.v1.OperationMetadata",
            "createTime": rfc3339(now),
            "target": target.name(),
            "verb": verb,
            "requestedCancellation": false,
            "apiVersion": "v1",
        },
        "response": response,
    });
    let done_at = now + sb.config().operation_latency.as_millis() as i64;
    let mut conn = sb.db.acquire().await.map_err(err)?;
    sql::insert_operation(
        &mut conn,
        API,
        &target.project,
        LOCATION,
        &id,
        &op,
        None,
        done_at,
        None,
        now,
    )
    .await
    .map_err(err)?;
    Ok(axum::Json(render(&op, done_at)).into_response())
}

fn render(op: &Value, done_at: i64) -> Value {
    let mut v = json!({ "name": op["name"], "metadata": op["metadata"] });
    if now_ms() >= done_at {
        v["done"] = json!(true);
        v["response"] = op["response"].clone();
        v["metadata"]["endTime"] = json!(rfc3339(done_at));
    }
    v
}

async fn operation(sb: &Sandbox, project: &str, id: &str) -> ApiResult {
    let mut conn = sb.db.acquire().await.map_err(err)?;
    let op = sql::get_operation(&mut conn, API, project, LOCATION, id)
        .await
        .map_err(err)?
        .ok_or_else(|| {
            not_found(&format!(
                "projects/{project}/locations/{LOCATION}/operations/{id}"
            ))
        })?;
    Ok(axum::Json(render(&op.body, op.done_at_ms)).into_response())
}
