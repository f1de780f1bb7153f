//! Cloud Run Admin API v2 in the sandbox: services with revisions that become Ready after the
//! configured latency, URIs, long-running operations whose metadata is the Service
//! (docs/google-cloud.md §1), IAM policies with etags, and the failing-image fault.
//!
//! This file turns an admitted request (`request::admit`) into the handler of its method;
//! `services` holds reads and changes of services, `service_body` what a change stores,
//! `operations` the operations and their list, `iam` the policies.

mod iam;
mod multi_region;
mod operations;
mod service_body;
mod services;

use super::request::{Call, admit};
use super::{Api, ApiError, ApiResult, Sandbox};
use crate::db::sandbox::Key;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use regex::Regex;
use std::sync::{Arc, LazyLock};

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

fn run_err(e: sqlx::Error) -> ApiError {
    ApiError::internal(e, Api::Run)
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

pub(super) async fn handle(
    State(sb): State<Arc<Sandbox>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let call = admit(&sb, Api::Run, &method, &uri, &headers, &body).await?;
        dispatch(&sb, call).await
    }
    .await;
    result.unwrap_or_else(|e| e.into_response())
}

async fn dispatch(sb: &Sandbox, mut call: Call<'_>) -> ApiResult {
    let project = call.param("projectsId").unwrap_or_default().to_string();
    let location = call.param("locationsId").unwrap_or_default().to_string();
    let ctx = Ctx {
        sb,
        project: &project,
        location: &location,
    };
    let id = call
        .param("servicesId")
        .or(call.param("operationsId"))
        .unwrap_or_default()
        .to_string();
    match (call.resource(), call.verb()) {
        ("services", "list") => services::list(&ctx, &call).await,
        ("services", "get") => services::get(&ctx, &id).await,
        ("services", "create") => {
            let id = call.query("serviceId").unwrap_or_default().to_string();
            let body = call.take_body();
            services::mutate(&ctx, &id, services::Mutation::Create, &call, body).await
        }
        ("services", "patch") => {
            let body = call.take_body();
            services::mutate(&ctx, &id, services::Mutation::Patch, &call, body).await
        }
        ("services", "delete") => {
            services::mutate(
                &ctx,
                &id,
                services::Mutation::Delete,
                &call,
                Default::default(),
            )
            .await
        }
        ("services", "getIamPolicy") => iam::get_iam(&ctx, &id).await,
        ("services", "setIamPolicy") => iam::set_iam(&ctx, &id, call.take_body()).await,
        ("operations", "get") => operations::get(&ctx, &id, None).await,
        ("operations", "wait") => operations::get(&ctx, &id, Some(&call.take_body())).await,
        ("operations", "delete") => operations::delete(&ctx, &id).await,
        ("operations", "list") => operations::list(&ctx, &call).await,
        _ => Err(ApiError::not_implemented(Api::Run, &call.method.id)),
    }
}
