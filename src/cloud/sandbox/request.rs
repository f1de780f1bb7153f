//! The front door every Compute, Cloud Run and Resource Manager request goes through, in the order Google's
//! front end takes them (docs/google-cloud.md §10, §11.1): a path and verb no method has get the
//! HTML 404 page; then authentication and request-level faults; then the path values and query
//! parameters are checked against the method; then the body is read and checked against the
//! method's request schema, and its output-only fields dropped. What comes out is a request the
//! resource handlers can trust to be well-formed.

use super::{Api, ApiError, ApiResult, Sandbox};
use crate::cloud::discovery::{self, ApiMethod, Strictness};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use serde_json::Value;

/// An admitted request.
pub(crate) struct Call<'d> {
    pub(crate) method: &'d ApiMethod,
    pub(crate) path_params: Vec<(String, String)>,
    pub(crate) query: Vec<(String, String)>,
    /// The body, checked against the request schema with its output-only fields removed;
    /// `None` when the method takes none.
    pub(crate) body: Option<Value>,
}

impl Call<'_> {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.path_params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The verb of the method id: `insert` of `compute.backendServices.insert`.
    pub(crate) fn verb(&self) -> &str {
        self.method.id.rsplit('.').next().unwrap_or_default()
    }

    /// The resource of the method id: `backendServices` of `compute.backendServices.insert`,
    /// `services` of `run.projects.locations.services.get`.
    pub(crate) fn resource(&self) -> &str {
        let mut parts = self.method.id.rsplit('.');
        parts.next();
        parts.next().unwrap_or_default()
    }

    /// The body, for a method that takes one (admission made sure it is there).
    pub(crate) fn take_body(&mut self) -> Value {
        self.body
            .take()
            .unwrap_or_else(|| Value::Object(Default::default()))
    }
}

fn document(api: Api) -> &'static discovery::Api {
    match api {
        Api::Compute => discovery::compute(),
        Api::Run => discovery::run(),
        Api::ResourceManager => discovery::resourcemanager(),
        Api::CertificateManager => discovery::certificatemanager(),
        Api::Monitoring => discovery::monitoring(),
    }
}

pub(crate) async fn admit(
    sb: &Sandbox,
    api: Api,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> ApiResult<Call<'static>> {
    let doc = document(api);
    let path = uri.path();
    let matched = doc
        .find(method.as_str(), path.trim_start_matches('/'))
        .ok_or_else(|| ApiError::no_such_path(api, path))?;
    sb.gate(api, headers).await?;
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    matched
        .method
        .check_request(doc, &matched, &query)
        .map_err(|p| ApiError::bad_query(api, &p))?;
    let body = match &matched.method.request {
        None => None,
        Some(schema) => Some(read_body(doc, api, schema, body)?),
    };
    Ok(Call {
        method: matched.method,
        path_params: matched.path_params,
        query,
        body,
    })
}

fn read_body(doc: &discovery::Api, api: Api, schema: &str, body: &Bytes) -> ApiResult<Value> {
    let parse_error = |detail: String| match api {
        Api::Compute => ApiError::compute(
            400,
            "parseError",
            format!("Invalid JSON payload received. {detail}"),
        ),
        Api::Run | Api::ResourceManager | Api::CertificateManager | Api::Monitoring => {
            ApiError::run(
                400,
                "INVALID_ARGUMENT",
                format!("Invalid JSON payload received. {detail}"),
            )
        }
    };
    let mut value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        // Compute names the missing body; an empty proto3 body is an empty message to Cloud Run.
        match api {
            Api::Compute => {
                return Err(ApiError::compute(
                    400,
                    "required",
                    "Required field 'resource' not specified",
                ));
            }
            Api::Run | Api::ResourceManager | Api::CertificateManager | Api::Monitoring => {
                Value::Object(Default::default())
            }
        }
    } else {
        serde_json::from_slice(body).map_err(|e| parse_error(e.to_string()))?
    };
    if !value.is_object() {
        return Err(parse_error(format!(
            "Expected an object for '{}', got {value}.",
            doc.body_root(schema)
        )));
    }
    let problems = doc.check_body(schema, doc.body_root(schema), &value, Strictness::Google);
    if !problems.is_empty() {
        return Err(ApiError::bad_body(api, &problems));
    }
    doc.strip_output_only(schema, &mut value);
    Ok(value)
}
