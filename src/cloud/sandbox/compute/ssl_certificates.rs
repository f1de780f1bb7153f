//! SSL certificates: self-managed (PEM, private key write-only) and Google-managed ones, which
//! provision through the admin hook or by themselves once served, when so configured.

use super::names::{one_of, str_field, valid_domain};
use super::users::Users;
use super::{API, Ctx};
use crate::cloud::sandbox::{ApiError, ApiResult, CertPathExtract, Sandbox, now_ms, rfc3339};
use crate::db::sandbox::{self as sql, Key, StoredResource};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::SqliteConnection;
use std::sync::Arc;

/// Read-time change: a managed certificate still PROVISIONING becomes ACTIVE (and is stored so)
/// once its time has come and it is served.
pub(super) async fn render(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    users: &mut Users,
    r: &StoredResource,
    path: &str,
    body: &mut Value,
) -> ApiResult<()> {
    if let Some(after) = ctx.sb.config().certificate_provision_after
        && body["managed"]["status"] == "PROVISIONING"
        && now_ms() - r.created_ms >= after.as_millis() as i64
        && certificate_served(conn, users, ctx.now, path).await?
    {
        set_certificate_status(body, "ACTIVE", "ACTIVE");
        let key = ctx.key(&r.collection, &r.name);
        sql::put_resource(conn, key, body, &r.internal, 0, r.created_ms).await?;
    }
    Ok(())
}

/// A certificate is served when an HTTPS proxy that holds it is the target of a forwarding rule.
async fn certificate_served(
    conn: &mut SqliteConnection,
    users: &mut Users,
    now: i64,
    cert: &str,
) -> ApiResult<bool> {
    for proxy in users.of(conn, now, cert, None).await? {
        if proxy.contains("/targetHttpsProxies/")
            && !users.of(conn, now, &proxy, None).await?.is_empty()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

fn set_certificate_status(body: &mut Value, status: &str, domain_status: &str) {
    let domains: Vec<String> = body["managed"]["domains"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    body["managed"]["status"] = json!(status);
    body["managed"]["domainStatus"] = Value::Object(
        domains
            .iter()
            .map(|d| (d.clone(), json!(domain_status)))
            .collect(),
    );
    if status == "ACTIVE" {
        body["subjectAlternativeNames"] = json!(domains);
        body["expireTime"] = json!(rfc3339(now_ms() + 90 * 24 * 3600 * 1000));
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(in crate::cloud::sandbox) struct ProvisionRequest {
    /// Certificate status: ACTIVE (default), PROVISIONING, PROVISIONING_FAILED, …
    #[serde(default)]
    status: Option<String>,
    /// Status of every domain: ACTIVE, FAILED_NOT_VISIBLE, FAILED_CAA_CHECKING, …
    #[serde(default)]
    domain_status: Option<String>,
}

/// Admin hook `POST /sandbox/v1/projects/{p}/sslCertificates/{name}:provision`.
pub(in crate::cloud::sandbox) async fn provision_certificate(
    State(sb): State<Arc<Sandbox>>,
    Path(p): CertPathExtract,
    axum::Json(req): axum::Json<ProvisionRequest>,
) -> Response {
    let result: ApiResult = async {
        let Some(name) = p.name.strip_suffix(":provision") else {
            return Err(ApiError::compute(404, "notFound", "Use {name}:provision"));
        };
        let _serial = sb.write.lock().await;
        let mut conn = sb.db.acquire().await?;
        let key = Key {
            api: API,
            project: &p.project,
            location: "global",
            collection: "sslCertificates",
            name,
        };
        let path = format!("projects/{}/global/sslCertificates/{name}", p.project);
        let r = sql::get_resource(&mut conn, key)
            .await?
            .filter(|r| r.visible(now_ms()))
            .ok_or_else(|| ApiError::not_found(&path))?;
        if r.body["type"] != "MANAGED" {
            return Err(ApiError::invalid(
                "type",
                "SELF_MANAGED",
                "Only managed certificates provision.",
            ));
        }
        let domain_status = req.domain_status.clone().unwrap_or_else(|| {
            if req.status.as_deref().unwrap_or("ACTIVE") == "ACTIVE" {
                "ACTIVE".into()
            } else {
                "FAILED_NOT_VISIBLE".into()
            }
        });
        let status = req.status.clone().unwrap_or_else(|| {
            if domain_status == "ACTIVE" {
                "ACTIVE".into()
            } else {
                "PROVISIONING".into()
            }
        });
        let mut body = r.body.clone();
        set_certificate_status(&mut body, &status, &domain_status);
        sql::put_resource(&mut conn, key, &body, &r.internal, 0, r.created_ms).await?;
        Ok(axum::Json(body).into_response())
    }
    .await;
    result.unwrap_or_else(|e| e.into_response())
}

pub(super) fn prepare(body: &mut Value) -> ApiResult<()> {
    let t = one_of(
        "resource.type",
        str_field(body, "type"),
        &["MANAGED", "SELF_MANAGED"],
        if body.get("managed").is_some() {
            "MANAGED"
        } else {
            "SELF_MANAGED"
        },
    )?;
    body["type"] = json!(t);
    if t == "SELF_MANAGED" {
        for f in ["certificate", "privateKey"] {
            if !str_field(body, f).is_some_and(|s| s.contains("-----BEGIN")) {
                return Err(ApiError::invalid(
                    &format!("resource.{f}"),
                    "",
                    "A self-managed certificate needs a PEM certificate and private key.",
                ));
            }
        }
        // The private key is write-only, as in Compute.
        body.as_object_mut().expect("object").remove("privateKey");
        return Ok(());
    }
    let domains: Vec<String> = body
        .pointer("/managed/domains")
        .and_then(Value::as_array)
        .map(|d| {
            d.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if domains.is_empty() {
        return Err(ApiError::compute(
            400,
            "required",
            "Required field 'resource.managed.domains' not specified",
        ));
    }
    if domains.len() > 100 {
        return Err(ApiError::invalid(
            "resource.managed.domains",
            &domains.len().to_string(),
            "At most 100 domains per managed certificate.",
        ));
    }
    for (i, d) in domains.iter().enumerate() {
        if d.contains('*') || !valid_domain(d) {
            return Err(ApiError::invalid(
                &format!("resource.managed.domains[{i}]"),
                d,
                "Domains must be fully qualified names; wildcards are not supported by Google-managed certificates.",
            ));
        }
    }
    body["managed"] = json!({"domains": domains});
    set_certificate_status(body, "PROVISIONING", "PROVISIONING");
    Ok(())
}
