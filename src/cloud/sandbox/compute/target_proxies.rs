//! Target HTTP and HTTPS proxies: a URL map always, certificates (at most 15) on HTTPS, and the
//! `setUrlMap` / `setSslCertificates` setters.

use super::names::{one_of, str_field};
use crate::cloud::sandbox::{ApiError, ApiResult};
use serde_json::{Value, json};

pub(super) fn prepare_http_proxy(body: &Value) -> ApiResult<()> {
    if str_field(body, "urlMap").is_none_or(str::is_empty) {
        return Err(ApiError::compute(
            400,
            "required",
            "Required field 'resource.urlMap' not specified",
        ));
    }
    Ok(())
}

pub(super) fn prepare_https_proxy(body: &mut Value) -> ApiResult<()> {
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

/// `setUrlMap` (HTTP and HTTPS proxies).
pub(super) fn set_url_map(body: &mut Value, req: &Value) {
    let um = req
        .get("urlMap")
        .and_then(Value::as_str)
        .unwrap_or_default();
    body["urlMap"] = json!(um);
}

/// `setSslCertificates` (HTTPS proxies).
pub(super) fn set_ssl_certificates(body: &mut Value, req: &Value) {
    body["sslCertificates"] = req.get("sslCertificates").cloned().unwrap_or(json!([]));
}
