//! `CloudError`: the one error type of the cloud layer, built from Google's error JSON.
//!
//! Compute Engine answers `{"error":{"code","message","errors":[{"reason","message"}]}}` with
//! lowerCamel reasons; Cloud Run answers `{"error":{"code","message","status"}}` with
//! UPPER_SNAKE statuses (docs/google-cloud.md §10, §1). Both are folded into the same variants so a caller
//! matches on meaning, not on which API answered.

use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CloudError {
    /// 409 `alreadyExists` / `ALREADY_EXISTS`.
    #[error("{resource} already exists: {message}")]
    AlreadyExists { resource: String, message: String },
    /// 404 `notFound` / `NOT_FOUND`: the resource, or a resource it references, does not exist.
    #[error("not found: {message}")]
    NotFound { resource: String, message: String },
    /// 400 `resourceInUseByAnotherResource`: delete (or replace) something still referenced.
    /// `by` names the user when Google's message says who it is.
    #[error("{resource} is still used by {by}; delete or repoint {by} first ({message})")]
    InUse {
        resource: String,
        by: String,
        message: String,
    },
    /// 400 `invalid` / `INVALID_ARGUMENT` / `FAILED_PRECONDITION`: the request was refused as
    /// written. `field` is the offending field (`resource.backends[0].balancingMode`) when known.
    #[error("invalid request{}: {message}", field.as_ref().map(|f| format!(" (field {f})")).unwrap_or_default())]
    Invalid {
        field: Option<String>,
        message: String,
    },
    /// 412 `conditionNotMet`: the fingerprint sent is not the current one. Read the resource
    /// again and re-apply the change on top of what is there now.
    #[error(
        "{resource} changed since it was read (stale fingerprint); read it again and retry: {message}"
    )]
    StaleFingerprint { resource: String, message: String },
    /// 409 other than "already exists" (Cloud Run `ABORTED` on a stale etag, concurrent edits).
    #[error("conflicting concurrent change: {message}")]
    Conflict { message: String },
    /// 429, or 403 with a rate-limit or quota reason. Retried automatically for the policy's
    /// time budget; seen only when that ran out.
    #[error("rate limited by Google Cloud (retry later): {message}")]
    RateLimited {
        message: String,
        retry_after: Option<Duration>,
    },
    /// 5xx, 400 `resourceNotReady`, or the connection failed. Retried automatically a number of
    /// times; seen only when those ran out.
    #[error("temporary Google Cloud failure (HTTP {status}): {message}")]
    Transient { status: u16, message: String },
    /// 401, or no token could be obtained. Check the credentials (`GOOGLE_APPLICATION_CREDENTIALS`,
    /// `gcloud auth application-default login`, or the VM's service account).
    #[error("not authenticated to Google Cloud: {message}")]
    Unauthenticated { message: String },
    /// 403 that is not a rate limit: the credentials lack a permission, or the API is disabled.
    #[error("permission denied: {message}")]
    PermissionDenied { message: String },
    /// The operation finished (DONE) with an error, even though the call that started it
    /// succeeded. `code` is Google's (`RESOURCE_IN_USE_BY_ANOTHER_RESOURCE`, `FAILED_PRECONDITION`).
    #[error("operation {operation} failed ({code}): {message}")]
    OperationFailed {
        operation: String,
        code: String,
        message: String,
        http_status: Option<u16>,
    },
    /// Waiting for an operation took longer than the client's operation timeout. The operation
    /// may still finish; wait on it again by its reference.
    #[error("gave up waiting for operation {operation} after {waited:?}; it may still complete")]
    Timeout { operation: String, waited: Duration },
    /// Any other HTTP error status.
    #[error("Google Cloud answered HTTP {status}: {message}")]
    Http { status: u16, message: String },
    /// A reply that is not the JSON expected.
    #[error("unexpected reply from Google Cloud: {0}")]
    Decode(String),
}

pub type Result<T, E = CloudError> = std::result::Result<T, E>;

impl CloudError {
    /// Whether the client retries this error by itself (with backoff).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            CloudError::RateLimited { .. } | CloudError::Transient { .. }
        )
    }

    /// Retry-After hint carried by a rate-limit answer.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CloudError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Builds the error for an HTTP error reply. `resource` is the path the request was about
    /// (used when Google's message does not name one).
    pub fn from_response(
        status: u16,
        body: &[u8],
        retry_after: Option<Duration>,
        resource: &str,
    ) -> CloudError {
        // The PromQL API answers bad queries the way upstream Prometheus does
        // (`{"status":"error","errorType":"bad_data","error":"…"}`, API-NOTES §19.2).
        if let Ok(p) = serde_json::from_slice::<PromError>(body) {
            let message = format!("{}: {}", p.error_type, p.error);
            return classify(status, None, None, message, retry_after, resource);
        }
        let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
        let Some(ErrorBody { error }) = parsed else {
            let text = String::from_utf8_lossy(body);
            let message = if text.trim().is_empty() {
                format!("HTTP {status} with an empty body")
            } else {
                text.chars().take(300).collect()
            };
            return classify(status, None, None, message, retry_after, resource);
        };
        let reason = error.errors.first().and_then(|e| e.reason.clone());
        let message = if error.message.is_empty() {
            error
                .errors
                .first()
                .and_then(|e| e.message.clone())
                .unwrap_or_else(|| format!("HTTP {status}"))
        } else {
            error.message
        };
        classify(
            status,
            reason.as_deref(),
            error.status.as_deref(),
            message,
            retry_after,
            resource,
        )
    }

    /// Builds the error for an operation that finished with `error`. Known Compute codes keep
    /// their meaning so that, e.g., a delete refused inside the operation still reads "in use".
    pub fn from_operation(
        operation: &str,
        code: &str,
        message: &str,
        http_status: Option<u16>,
    ) -> CloudError {
        CloudError::OperationFailed {
            operation: operation.to_string(),
            code: code.to_string(),
            message: message.to_string(),
            http_status,
        }
    }

    /// For an `OperationFailed` whose code says "in use", the user named in its message.
    pub fn in_use_by(&self) -> Option<String> {
        match self {
            CloudError::InUse { by, .. } => Some(by.clone()),
            CloudError::OperationFailed { code, message, .. }
                if code == "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE" =>
            {
                Some(used_by(message).unwrap_or_else(|| "another resource".into()))
            }
            _ => None,
        }
    }
}

fn classify(
    status: u16,
    reason: Option<&str>,
    rpc_status: Option<&str>,
    message: String,
    retry_after: Option<Duration>,
    resource: &str,
) -> CloudError {
    let resource = quoted_resource(&message).unwrap_or_else(|| resource.to_string());
    match (status, reason, rpc_status) {
        (401, _, _) | (_, _, Some("UNAUTHENTICATED")) => CloudError::Unauthenticated { message },
        // `quotaExceeded` counts as a rate limit: a per-minute quota clears by waiting. A
        // resource quota answered the same way does not, and the call then fails once the
        // rate-limit budget is spent, with Google's own message naming the quota.
        (429, _, _)
        | (_, Some("rateLimitExceeded" | "userRateLimitExceeded" | "quotaExceeded"), _) => {
            CloudError::RateLimited {
                message,
                retry_after,
            }
        }
        (403, _, Some("RESOURCE_EXHAUSTED")) => CloudError::RateLimited {
            message,
            retry_after,
        },
        (403, _, _) => CloudError::PermissionDenied { message },
        (400, Some("resourceNotReady"), _) => CloudError::Transient { status, message },
        (400, Some("resourceInUseByAnotherResource"), _) => CloudError::InUse {
            by: used_by(&message).unwrap_or_else(|| "another resource".into()),
            resource,
            message,
        },
        (400 | 422, _, _) => CloudError::Invalid {
            field: invalid_field(&message),
            message,
        },
        (404, _, _) => CloudError::NotFound { resource, message },
        (409, Some("alreadyExists"), _) | (409, _, Some("ALREADY_EXISTS")) => {
            CloudError::AlreadyExists { resource, message }
        }
        (409, _, _) => CloudError::Conflict { message },
        (412, _, _) => CloudError::StaleFingerprint { resource, message },
        (500..=599, _, _) => CloudError::Transient { status, message },
        _ => CloudError::Http { status, message },
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromError {
    error_type: String,
    error: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(Deserialize)]
struct ErrorItem {
    reason: Option<String>,
    message: Option<String>,
}

/// "… is already being used by 'projects/p/global/targetHttpsProxies/y'" → that path.
fn used_by(message: &str) -> Option<String> {
    let rest = &message[message.find("being used by")? + "being used by".len()..];
    let start = rest.find('\'')? + 1;
    let end = start + rest[start..].find('\'')?;
    Some(rest[start..end].to_string())
}

/// "Invalid value for field 'resource.X': …" → `resource.X`.
fn invalid_field(message: &str) -> Option<String> {
    let rest = &message[message.find("for field '")? + "for field '".len()..];
    Some(rest[..rest.find('\'')?].to_string())
}

/// "The resource 'projects/p/global/x/n' was not found" → the quoted path.
fn quoted_resource(message: &str) -> Option<String> {
    let start = message.find('\'')? + 1;
    let end = start + message[start..].find('\'')?;
    let quoted = &message[start..end];
    (quoted.contains('/')).then(|| quoted.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compute_not_found_names_the_resource() {
        let body = br#"{"error":{"code":404,"message":"The resource 'projects/p/global/urlMaps/x' was not found","errors":[{"domain":"global","reason":"notFound","message":"The resource 'projects/p/global/urlMaps/x' was not found"}]}}"#;
        let e = CloudError::from_response(404, body, None, "req");
        assert_eq!(
            e,
            CloudError::NotFound {
                resource: "projects/p/global/urlMaps/x".into(),
                message: "The resource 'projects/p/global/urlMaps/x' was not found".into()
            }
        );
    }

    #[test]
    fn in_use_names_the_user() {
        let body = br#"{"error":{"code":400,"message":"The url_map resource 'projects/p/global/urlMaps/x' is already being used by 'projects/p/global/targetHttpsProxies/y'","errors":[{"reason":"resourceInUseByAnotherResource"}]}}"#;
        let e = CloudError::from_response(400, body, None, "req");
        match &e {
            CloudError::InUse { resource, by, .. } => {
                assert_eq!(resource, "projects/p/global/urlMaps/x");
                assert_eq!(by, "projects/p/global/targetHttpsProxies/y");
            }
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("targetHttpsProxies/y"));
    }

    #[test]
    fn invalid_names_the_field() {
        let body = br#"{"error":{"code":400,"message":"Invalid value for field 'resource.healthChecks': ''. A backend service cannot have a healthcheck with Serverless network endpoint group backends.","errors":[{"reason":"invalid"}]}}"#;
        let e = CloudError::from_response(400, body, None, "req");
        assert!(
            matches!(e, CloudError::Invalid { field: Some(ref f), .. } if f == "resource.healthChecks")
        );
    }

    #[test]
    fn rate_limits_and_transients_are_retryable_others_not() {
        let rl403 = br#"{"error":{"code":403,"message":"Quota exceeded","errors":[{"reason":"rateLimitExceeded"}]}}"#;
        let e = CloudError::from_response(403, rl403, Some(Duration::from_secs(2)), "r");
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
        let quota = br#"{"error":{"code":403,"message":"Quota exceeded for quota metric 'Write requests'","errors":[{"reason":"quotaExceeded"}]}}"#;
        assert!(matches!(
            CloudError::from_response(403, quota, None, "r"),
            CloudError::RateLimited { .. }
        ));
        let run429 =
            br#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#;
        assert!(CloudError::from_response(429, run429, None, "r").is_retryable());
        let not_ready =
            br#"{"error":{"code":400,"message":"busy","errors":[{"reason":"resourceNotReady"}]}}"#;
        assert!(CloudError::from_response(400, not_ready, None, "r").is_retryable());
        assert!(CloudError::from_response(503, b"", None, "r").is_retryable());
        let denied = br#"{"error":{"code":403,"message":"Permission denied","errors":[{"reason":"forbidden"}]}}"#;
        assert!(matches!(
            CloudError::from_response(403, denied, None, "r"),
            CloudError::PermissionDenied { .. }
        ));
        let exists = br#"{"error":{"code":409,"message":"Resource 'x' already exists.","status":"ALREADY_EXISTS"}}"#;
        let e = CloudError::from_response(409, exists, None, "r");
        assert!(matches!(e, CloudError::AlreadyExists { .. }) && !e.is_retryable());
        let aborted = br#"{"error":{"code":409,"message":"etag mismatch","status":"ABORTED"}}"#;
        assert!(matches!(
            CloudError::from_response(409, aborted, None, "r"),
            CloudError::Conflict { .. }
        ));
        let stale = br#"{"error":{"code":412,"message":"Invalid fingerprint.","errors":[{"reason":"conditionNotMet"}]}}"#;
        assert!(matches!(
            CloudError::from_response(412, stale, None, "projects/p/global/urlMaps/m"),
            CloudError::StaleFingerprint { ref resource, .. } if resource == "projects/p/global/urlMaps/m"
        ));
        let unauth = br#"{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}"#;
        assert!(matches!(
            CloudError::from_response(401, unauth, None, "r"),
            CloudError::Unauthenticated { .. }
        ));
    }

    #[test]
    fn operation_in_use_exposes_the_user() {
        let e = CloudError::from_operation(
            "operation-1",
            "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE",
            "The network_endpoint_group resource 'projects/p/regions/r/networkEndpointGroups/n' is already being used by 'projects/p/global/backendServices/b'",
            Some(400),
        );
        assert_eq!(
            e.in_use_by().as_deref(),
            Some("projects/p/global/backendServices/b")
        );
    }
}
