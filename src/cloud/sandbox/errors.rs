//! Error answers in Google's shapes (docs/google-cloud.md §10, §1): Compute's
//! `{"error": {code, message, errors: [{reason}]}}`, Cloud Run's `{"error": {code, message,
//! status}}`, the `google.rpc.BadRequest` details Google's JSON front end adds when it refuses a
//! body, its HTML page for a path no method has, and 501 for a real method the sandbox lacks.

use super::Fault;
use crate::cloud::discovery::Violation;
use crate::cloud::discovery::methods::QueryProblem;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Which API a request is for: decides the error JSON shape (and the discovery document).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    Compute,
    Run,
    /// Cloud Resource Manager: the same google.rpc error shape as Cloud Run.
    ResourceManager,
    /// Certificate Manager: google.rpc errors too (API-NOTES §14.8).
    CertificateManager,
    /// Cloud Monitoring: google.rpc errors too (PromQL errors are answered in Prometheus's shape).
    Monitoring,
}

/// An error answer. Compute `errors[].reason` (lowerCamel), Cloud Run `status` (UPPER_SNAKE).
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) api: Api,
    status: StatusCode,
    /// Compute reason (`notFound`) or Cloud Run status (`NOT_FOUND`).
    pub(crate) reason: String,
    pub(crate) message: String,
    retry_after: Option<u64>,
    /// (field, description) of each problem, for a refusal of a request's JSON: Google then
    /// adds `status: INVALID_ARGUMENT` and a `google.rpc.BadRequest` detail, even on Compute.
    violations: Vec<(String, String)>,
    /// A path no method has: Google's front end answers its HTML 404 page, not JSON.
    html_path: Option<String>,
}

/// Google's 404 page for a URL no API method serves (trimmed of its inline style and logo).
fn html_404(path: &str) -> String {
    let path = path
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <meta name=viewport content=\"initial-scale=1, minimum-scale=1, width=device-width\">\n  <title>Error 404 (Not Found)!!1</title>\n  <a href=//www.google.com/><span id=logo aria-label=Google></span></a>\n  <p><b>404.</b> <ins>That\u{2019}s an error.</ins>\n  <p>The requested URL <code>{path}</code> was not found on this server.  <ins>That\u{2019}s all we know.</ins>\n"
    )
}

impl ApiError {
    fn new(api: Api, status: u16, reason: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            api,
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            reason: reason.into(),
            message: message.into(),
            retry_after: None,
            violations: Vec::new(),
            html_path: None,
        }
    }

    pub(crate) fn compute(status: u16, reason: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(Api::Compute, status, reason, message)
    }

    pub(crate) fn run(status: u16, rpc_status: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(Api::Run, status, rpc_status, message)
    }

    pub(crate) fn certificate_manager(
        status: u16,
        rpc_status: &str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError::new(Api::CertificateManager, status, rpc_status, message)
    }

    /// Compute 400 `invalid` with the API's "Invalid value for field" wording.
    pub(crate) fn invalid(field: &str, value: &str, why: &str) -> ApiError {
        ApiError::compute(
            400,
            "invalid",
            format!("Invalid value for field '{field}': '{value}'. {why}"),
        )
    }

    pub(crate) fn not_found(path: &str) -> ApiError {
        ApiError::compute(
            404,
            "notFound",
            format!("The resource '{path}' was not found"),
        )
    }

    /// 400 `resourceNotReady`: the resource has an operation in progress (an insert not yet
    /// DONE, or a delete). Message UNCONFIRMED (docs/google-cloud.md §10).
    pub(crate) fn not_ready(path: &str) -> ApiError {
        ApiError::compute(
            400,
            "resourceNotReady",
            format!("The resource '{path}' is not ready"),
        )
    }

    /// Google's HTML 404 for a path and verb no method of the API has.
    pub(crate) fn no_such_path(api: Api, path: &str) -> ApiError {
        let mut e = ApiError::new(api, 404, "notFound", "Not Found");
        e.html_path = Some(path.to_string());
        e
    }

    /// 501 for a method the real API has (it is in the discovery document) but the sandbox
    /// does not model.
    pub(crate) fn not_implemented(api: Api, method_id: &str) -> ApiError {
        let (reason, message) = (
            match api {
                Api::Compute => "notImplemented",
                Api::Run | Api::ResourceManager | Api::CertificateManager | Api::Monitoring => {
                    "UNIMPLEMENTED"
                }
            },
            format!(
                "Method {method_id} exists in the Google API but is not implemented by the sandbox."
            ),
        );
        ApiError::new(api, 501, reason, message)
    }

    /// 400 for a body Google's JSON reader refuses: every problem in one message, one line
    /// each, and one field violation each.
    pub(crate) fn bad_body(api: Api, violations: &[Violation]) -> ApiError {
        let message = violations
            .iter()
            .map(|v| v.message.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let reason = match api {
            Api::Compute => "invalid",
            Api::Run | Api::ResourceManager | Api::CertificateManager | Api::Monitoring => {
                "INVALID_ARGUMENT"
            }
        };
        let mut e = ApiError::new(api, 400, reason, message);
        e.violations = violations
            .iter()
            .map(|v| (v.field.clone(), v.message.clone()))
            .collect();
        e
    }

    /// 400 for a path value or query parameter Google refuses before reading a body.
    pub(crate) fn bad_query(api: Api, problem: &QueryProblem) -> ApiError {
        let message = problem.message();
        match (problem, api) {
            (QueryProblem::PathPattern { .. }, Api::Compute) => {
                ApiError::compute(400, "invalidParameter", message)
            }
            (
                QueryProblem::PathPattern { .. },
                Api::Run | Api::ResourceManager | Api::CertificateManager | Api::Monitoring,
            ) => ApiError::run(400, "INVALID_ARGUMENT", message),
            (QueryProblem::Unknown { name } | QueryProblem::Invalid { name, .. }, _) => {
                let mut e = ApiError::new(
                    api,
                    400,
                    match api {
                        Api::Compute => "invalid",
                        Api::Run
                        | Api::ResourceManager
                        | Api::CertificateManager
                        | Api::Monitoring => "INVALID_ARGUMENT",
                    },
                    message.clone(),
                );
                e.violations = vec![(name.clone(), message)];
                e
            }
        }
    }

    pub(crate) fn internal(e: impl std::fmt::Display, api: Api) -> ApiError {
        tracing::error!(error = %e, "sandbox storage failure");
        let reason = match api {
            Api::Compute => "backendError",
            Api::Run | Api::ResourceManager | Api::CertificateManager | Api::Monitoring => {
                "INTERNAL"
            }
        };
        ApiError::new(api, 500, reason, "Internal error in the sandbox")
    }

    pub(crate) fn for_fault(fault: Fault, api: Api) -> ApiError {
        let (status, reason, run_status, message) = match fault {
            Fault::RateLimited => (
                429,
                "rateLimitExceeded",
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per region' (sandbox fault injection)",
            ),
            Fault::RateLimited403 => (
                403,
                "rateLimitExceeded",
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per region' of service 'compute.googleapis.com' (sandbox fault injection)",
            ),
            Fault::ResourceNotReady => (
                400,
                "resourceNotReady",
                "FAILED_PRECONDITION",
                "The resource is not ready (sandbox fault injection)",
            ),
            Fault::LostReply => (
                503,
                "backendError",
                "UNAVAILABLE",
                "The service is currently unavailable (sandbox fault injection: the change was applied but its reply lost)",
            ),
            // IamRace is never answered as an error by itself (set_iam plays the other writer);
            // listed here so the match stays exhaustive.
            Fault::Transient | Fault::OperationError | Fault::IamRace => (
                503,
                "backendError",
                "UNAVAILABLE",
                "The service is currently unavailable (sandbox fault injection)",
            ),
        };
        let mut e = match api {
            Api::Compute => ApiError::compute(status, reason, message),
            Api::Run | Api::ResourceManager | Api::CertificateManager | Api::Monitoring => {
                ApiError::run(status, run_status, message)
            }
        };
        if fault == Fault::RateLimited {
            e.retry_after = Some(1);
        }
        e
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::internal(e, Api::Compute)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(path) = &self.html_path {
            return (
                StatusCode::NOT_FOUND,
                [("content-type", "text/html; charset=UTF-8")],
                html_404(path),
            )
                .into_response();
        }
        let code = self.status.as_u16();
        let mut body = match self.api {
            Api::Compute => json!({"error": {
                "code": code,
                "message": self.message,
                "errors": [{"message": self.message, "domain": "global", "reason": self.reason}],
            }}),
            Api::Run | Api::ResourceManager | Api::CertificateManager | Api::Monitoring => {
                json!({"error": {
                    "code": code,
                    "message": self.message,
                    "status": self.reason,
                }})
            }
        };
        if !self.violations.is_empty() {
            body["error"]["status"] = json!("INVALID_ARGUMENT");
            body["error"]["details"] = json!([{
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": self.violations.iter()
                    .map(|(field, description)| json!({"field": field, "description": description}))
                    .collect::<Vec<_>>(),
            }]);
        }
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                s.to_string().parse().expect("digits are a valid header"),
            );
        }
        resp
    }
}

pub(crate) type ApiResult<T = Response> = Result<T, ApiError>;
