//! The one error type of the web layer and its only `IntoResponse`.
//!
//! Handlers return `Result<_, AppError>`. The response carries the error in its extensions and
//! `crate::http::render_errors` (a middleware that knows the request path and who is signed in)
//! turns it into an HTML error page for pages or the JSON of docs/contract.md §3 for `/api/` paths:
//! `{"error": {"code": "...", "message": "...", "field": "..."}}`.
//!
//! Use the extractors of this module ([`Form`], [`Json`], [`Query`], [`Path`]) instead of axum's:
//! their rejections become a 400 (unparseable) or a 422 naming the field (invalid), never a 500.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// Every way a request can fail, as the user sees it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No signed-in user or token: pages redirect to the sign-in page, the API answers 401.
    #[error("sign-in required")]
    Unauthorized,
    /// A bearer token that is unknown, revoked or belongs to a disabled user (401).
    #[error("{0}")]
    BadCredentials(String),
    /// Signed in, but the role is too low (403).
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    /// The request cannot be parsed (400).
    #[error("{0}")]
    BadRequest(String),
    /// The request parses but a field is invalid (422). `field` is a path like `frontend.domains`.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// Another change came first (409).
    #[error("{0}")]
    Conflict(String),
    /// A 409 with its own code, for refusals a script tells apart (`plan_stale`,
    /// `risks_not_accepted`).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// `If-Match` does not match (412).
    #[error("{0}")]
    PreconditionFailed(String),
    /// Slowed down, e.g. after repeated failed sign-ins (429).
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("content type must be {0}")]
    UnsupportedMediaType(&'static str),
    /// Google Cloud (or the sandbox) could not be read or refused the call (502).
    #[error("Google Cloud: {0}")]
    Upstream(String),
    /// Anything else: logged (never shown), answered with a 500.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn forbidden() -> Self {
        AppError::Forbidden("your role does not allow this".into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized | AppError::BadCredentials(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) | AppError::Refused { .. } => StatusCode::CONFLICT,
            AppError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            // A body we cannot parse is a 400 (docs/contract.md §3), whatever the reason.
            AppError::UnsupportedMediaType(_) => StatusCode::BAD_REQUEST,
            AppError::Upstream(_) => StatusCode::BAD_GATEWAY,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code of the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized | AppError::BadCredentials(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not_found",
            AppError::BadRequest(_) => "bad_request",
            AppError::Invalid { .. } => "invalid",
            AppError::Conflict(_) => "conflict",
            AppError::Refused { code, .. } => code,
            AppError::PreconditionFailed(_) => "precondition_failed",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::Upstream(_) => "upstream",
            AppError::Internal(_) => "internal",
        }
    }

    /// What the user is told. Internal errors say nothing about their cause.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(_) => "internal error; the details are in the server log".into(),
            other => other.to_string(),
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            status: self.status(),
            code: self.code(),
            message: self.public_message(),
            field: match self {
                AppError::Invalid { field, .. } => Some(field.clone()),
                _ => None,
            },
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => AppError::NotFound,
            _ => AppError::Internal(err.into()),
        }
    }
}

impl From<crate::deploy::DeployError> for AppError {
    fn from(err: crate::deploy::DeployError) -> Self {
        use crate::deploy::DeployError;
        match err {
            DeployError::Invalid(errors) => match errors.into_iter().next() {
                Some(first) => AppError::Invalid {
                    field: first.field,
                    message: format!("the spec is not valid yet: {}", first.message),
                },
                None => AppError::invalid("spec", "the spec is not valid"),
            },
            DeployError::Live(e) => AppError::Upstream(e.to_string()),
            e @ (DeployError::Blocked(_) | DeployError::Busy { .. }) => {
                AppError::Conflict(e.to_string())
            }
            e @ DeployError::NothingDeployed => AppError::Conflict(e.to_string()),
            e @ DeployError::PlanStale(_) => AppError::Refused {
                code: "plan_stale",
                message: e.to_string(),
            },
            e @ DeployError::RisksNotAccepted(_) => AppError::Refused {
                code: "risks_not_accepted",
                message: e.to_string(),
            },
            DeployError::PlanNotFound(id) => AppError::invalid(
                "plan_id",
                format!("no plan {id} for this deployment: make one with POST .../plan"),
            ),
            DeployError::PlanKind { plan, asked } => AppError::invalid(
                "plan_id",
                format!("plan is a {plan} plan; it cannot be used to {asked}"),
            ),
            e @ (DeployError::Deployed { .. } | DeployError::NothingToForget(_)) => {
                AppError::Conflict(e.to_string())
            }
            e @ DeployError::NotConfirmed(_) => AppError::invalid("confirm", e.to_string()),
            DeployError::Moved { field, message } => AppError::invalid(field, message),
            DeployError::NotFound => AppError::NotFound,
            e @ (DeployError::Adopted { .. } | DeployError::NotAdoptable { .. }) => {
                AppError::Conflict(e.to_string())
            }
            e @ DeployError::NameTaken(_) => AppError::invalid("name", e.to_string()),
            // A job that is missing or in the wrong state is the caller's 404 or 409, whether
            // the runner or the deploy service found it out.
            DeployError::Job(e) => e.into(),
            DeployError::Db(e) => AppError::Internal(e.into()),
        }
    }
}

impl From<crate::db::jobs::JobsDbError> for AppError {
    fn from(err: crate::db::jobs::JobsDbError) -> Self {
        match err {
            e @ crate::db::jobs::JobsDbError::DeploymentBusy { .. } => {
                AppError::Conflict(e.to_string())
            }
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<crate::jobs::JobError> for AppError {
    fn from(err: crate::jobs::JobError) -> Self {
        use crate::jobs::JobError;
        match err {
            JobError::NotFound(_) => AppError::NotFound,
            e @ (JobError::NotResumable { .. } | JobError::NotCancellable { .. }) => {
                AppError::Conflict(e.to_string())
            }
            other => AppError::Internal(other.into()),
        }
    }
}

/// The error as rendered: carried in the response's extensions to the rendering middleware.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ErrorBody {
    /// A body for a bare error status produced outside our handlers (405, 413, CSRF 403...).
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method not allowed"),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "request body too large"),
            StatusCode::FORBIDDEN => ("forbidden", "forbidden"),
            StatusCode::NOT_FOUND => ("not_found", "not found"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ("unsupported_media_type", "unsupported content type")
            }
            StatusCode::REQUEST_TIMEOUT => ("timeout", "request timed out"),
            s if s.is_server_error() => ("internal", "internal error"),
            _ => ("bad_request", "bad request"),
        };
        ErrorBody {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// The JSON of docs/contract.md §3.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "error": self })
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(err) = &self {
            // `{:#}` prints the chain of causes; none of our errors carry secrets.
            tracing::error!(error = format!("{err:#}"), "internal error");
        }
        let body = self.body();
        let mut res = (
            body.status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_json().to_string(),
        )
            .into_response();
        if let AppError::TooManyRequests {
            retry_after_secs, ..
        } = &self
        {
            res.headers_mut()
                .insert(header::RETRY_AFTER, (*retry_after_secs).into());
        }
        res.extensions_mut().insert(Arc::new(body));
        res
    }
}

pub type AppResult<T> = Result<T, AppError>;

fn content_type_is(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}

fn bytes_rejection(rej: BytesRejection) -> AppError {
    if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge
    } else {
        AppError::BadRequest(format!(
            "could not read the request body: {}",
            rej.body_text()
        ))
    }
}

/// `missing field `name`` → `name`.
fn field_from_message(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_string())
}

fn path_to_field(path: &serde_path_to_error::Path, message: &str) -> String {
    let p = path.to_string();
    let missing = message
        .starts_with("missing field")
        .then(|| field_from_message(message))
        .flatten();
    match (p.as_str(), missing) {
        (".", Some(f)) | ("", Some(f)) => f,
        (".", None) | ("", None) => String::new(),
        (p, Some(f)) => format!("{p}.{f}"),
        (p, None) => p.to_string(),
    }
}

/// A JSON body: 400 when it is not JSON, 422 naming the field when it does not fit `T`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !content_type_is(req.headers(), "application/json") {
            return Err(AppError::UnsupportedMediaType("application/json"));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(bytes_rejection)?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(de) {
            Ok(v) => Ok(Json(v)),
            Err(err) => {
                let path = err.path().clone();
                let inner = err.into_inner();
                match inner.classify() {
                    serde_json::error::Category::Data => {
                        let msg = inner.to_string();
                        // serde_json appends " at line L column C"; the field says where.
                        let msg = msg
                            .rsplit_once(" at line ")
                            .map(|(m, _)| m.to_string())
                            .unwrap_or(msg);
                        Err(AppError::Invalid {
                            field: path_to_field(&path, &msg),
                            message: msg,
                        })
                    }
                    _ => Err(AppError::BadRequest(format!("malformed JSON: {inner}"))),
                }
            }
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn urlencoded<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().clone();
        let msg = err.into_inner().to_string();
        AppError::Invalid {
            field: path_to_field(&path, &msg),
            message: msg,
        }
    })
}

/// A URL-encoded form body: 422 naming the field when it does not fit `T`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !content_type_is(req.headers(), "application/x-www-form-urlencoded") {
            return Err(AppError::UnsupportedMediaType(
                "application/x-www-form-urlencoded",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(bytes_rejection)?;
        if std::str::from_utf8(&bytes).is_err() {
            return Err(AppError::BadRequest("the form is not valid UTF-8".into()));
        }
        urlencoded(&bytes).map(Form)
    }
}

/// A query string: 422 naming the parameter when it does not fit `T`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        urlencoded(parts.uri.query().unwrap_or("").as_bytes()).map(Query)
    }
}

impl From<QueryRejection> for AppError {
    fn from(rej: QueryRejection) -> Self {
        AppError::BadRequest(rej.body_text())
    }
}

/// Path parameters: a malformed one (`/users/abc` for a number) is a 404, not a 500.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(PathRejection::FailedToDeserializePathParams(_)) => Err(AppError::NotFound),
            Err(rej) => Err(AppError::Internal(anyhow::anyhow!(
                "path extraction: {}",
                rej.body_text()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        port: u16,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Inner,
    }

    #[test]
    fn form_errors_name_the_field() {
        let err = urlencoded::<Inner>(b"").unwrap_err();
        assert!(matches!(err, AppError::Invalid { ref field, .. } if field == "port"));
        let err = urlencoded::<Inner>(b"port=x").unwrap_err();
        assert!(matches!(err, AppError::Invalid { ref field, .. } if field == "port"));
    }

    #[test]
    fn json_paths_are_dotted() {
        let de = &mut serde_json::Deserializer::from_str(r#"{"name":"a","inner":{"port":"x"}}"#);
        let err = serde_path_to_error::deserialize::<_, Outer>(de).unwrap_err();
        assert_eq!(path_to_field(err.path(), "invalid type"), "inner.port");
    }
}
