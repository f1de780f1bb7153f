//! Target HTTP and HTTPS proxies: a URL map always, certificates (at most 15) on HTTPS, and the
//! `setUrlMap` / `setSslCertificates` setters.

use super::Ctx;
use super::names::{one_of, str_field};
use crate::cloud::sandbox::{ApiError, ApiResult};
use crate::db::sandbox as sql;
use crate::domain::links::{CERTIFICATE_MANAGER_BASE, certificate_manager_url, link_path};
use serde_json::{Value, json};
use sqlx::SqliteConnection;

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

/// `setCertificateMap` (HTTPS proxies): the map, or none.
pub(super) fn set_certificate_map(body: &mut Value, req: &Value) {
    match req.get("certificateMap").and_then(Value::as_str) {
        Some(map) if !map.is_empty() => body["certificateMap"] = json!(map),
        _ => {
            if let Some(o) = body.as_object_mut() {
                o.remove("certificateMap");
            }
        }
    }
}

/// `setSslPolicy` (HTTPS proxies): the policy, or none for an empty reference.
pub(super) fn set_ssl_policy(body: &mut Value, req: &Value) {
    match req.get("sslPolicy").and_then(Value::as_str) {
        Some(policy) if !policy.is_empty() => body["sslPolicy"] = json!(policy),
        _ => {
            if let Some(o) = body.as_object_mut() {
                o.remove("sslPolicy");
            }
        }
    }
}

/// `setQuicOverride` (HTTPS proxies); the value is checked with the rest of the proxy.
pub(super) fn set_quic_override(body: &mut Value, req: &Value) {
    body["quicOverride"] = req.get("quicOverride").cloned().unwrap_or(json!("NONE"));
}

/// A proxy's certificate map must exist in Certificate Manager (location `global`), and is
/// stored in the `//certificatemanager.googleapis.com/` form Google answers, whichever form
/// came in. Certificate Manager certificates cannot sit in `sslCertificates` (API-NOTES §14.5).
pub(super) async fn check_certificate_map(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    body: &mut Value,
) -> ApiResult<()> {
    let in_list = body["sslCertificates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|c| c.contains("certificatemanager") || c.contains("/locations/"));
    if let Some(c) = in_list {
        return Err(ApiError::invalid(
            "resource.sslCertificates",
            c,
            "Certificate Manager certificates are attached through a certificate map (certificateMap), not in sslCertificates.",
        ));
    }
    let Some(map) = body.get("certificateMap").and_then(Value::as_str) else {
        return Ok(());
    };
    let path = link_path(map).to_string();
    let parts: Vec<&str> = path.split('/').collect();
    let [
        "projects",
        project,
        "locations",
        location,
        "certificateMaps",
        name,
    ] = parts.as_slice()
    else {
        return Err(ApiError::invalid(
            "resource.certificateMap",
            map,
            &format!(
                "Use the form {CERTIFICATE_MANAGER_BASE}projects/PROJECT/locations/global/certificateMaps/MAP."
            ),
        ));
    };
    let key = sql::Key {
        api: "certificatemanager",
        project,
        location,
        collection: "certificateMaps",
        name,
    };
    if sql::get_resource(conn, key).await?.is_none() {
        return Err(ApiError::compute(
            400,
            "invalid",
            format!(
                "Invalid value for field 'resource.certificateMap': '{map}'. The certificate map does not exist in project {}.",
                ctx.project
            ),
        ));
    }
    body["certificateMap"] = json!(certificate_manager_url(&path));
    Ok(())
}
