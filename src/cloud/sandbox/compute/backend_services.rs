//! Backend services: NEG backends only, with the rules for serverless and internet NEGs (no
//! health checks, no balancing settings), server defaults, and `usedBy` shown on read.

use super::names::{one_of, str_field};
use super::references::split_path;
use super::users::Users;
use super::{API, Ctx};
use crate::cloud::sandbox::ApiError;
use crate::cloud::sandbox::ApiResult;
use crate::db::sandbox::{self as sql, Key};
use crate::domain::links::compute_path;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

/// Read-time field: the URL maps (and other resources) that reference this service.
pub(super) async fn render(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    users: &mut Users,
    path: &str,
    body: &mut Value,
) -> ApiResult<()> {
    let users = users.of(conn, ctx.now, path, None).await?;
    if !users.is_empty() {
        body["usedBy"] = json!(
            users
                .iter()
                .map(|u| json!({"reference": ctx.link(u)}))
                .collect::<Vec<_>>()
        );
    }
    Ok(())
}

/// What the service account holds on a backend service: what its project grants (the sandbox
/// has no per-resource policies). A service that does not exist is 404, as for `get`.
pub(super) async fn test_iam_permissions(ctx: &Ctx<'_>, name: &str, asked: Value) -> ApiResult {
    let mut conn = ctx.sb.db.acquire().await?;
    sql::get_resource(&mut conn, ctx.key("backendServices", name))
        .await?
        .filter(|r| r.visible(ctx.now))
        .ok_or_else(|| ApiError::not_found(&ctx.path("backendServices", name)))?;
    Ok(crate::cloud::sandbox::iam::permissions_answer(
        ctx.sb.held_of(ctx.project, &asked),
    ))
}

/// NEG types behind a backend service's backends (their groups are full URLs by now, see
/// `references::normalise`). A group that is not there is 404, as any missing reference.
async fn backend_neg_types(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    body: &Value,
) -> ApiResult<Vec<String>> {
    let mut types = Vec::new();
    for (i, b) in body["backends"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let field = format!("resource.backends[{i}].group");
        let group = str_field(b, "group").unwrap_or_default();
        let path = compute_path(group).unwrap_or_default();
        let Some((p, loc, c, n)) = split_path(&path) else {
            return Err(ApiError::compute(
                400,
                "required",
                format!("Required field '{field}' not specified"),
            ));
        };
        if c != "networkEndpointGroups" {
            return Err(ApiError::invalid(
                &field,
                group,
                "The sandbox implements network endpoint group backends only.",
            ));
        }
        let key = Key {
            api: API,
            project: &p,
            location: &loc,
            collection: &c,
            name: &n,
        };
        let neg = sql::get_resource(conn, key)
            .await?
            .filter(|r| r.visible(ctx.now))
            .ok_or_else(|| ApiError::not_found(&path))?;
        // doc:sneg: the backend service, its serverless NEGs and the Cloud Run service share
        // one project; another project's URL map reaches them through the backend service
        // (API-NOTES §16.1). Google's wording of this refusal is UNCONFIRMED.
        if p != ctx.project && str_field(&neg.body, "networkEndpointType") == Some("SERVERLESS") {
            return Err(ApiError::invalid(
                &field,
                group,
                "A serverless network endpoint group must be in the same project as the backend service.",
            ));
        }
        types.push(
            str_field(&neg.body, "networkEndpointType")
                .unwrap_or_default()
                .to_string(),
        );
    }
    Ok(types)
}

pub(super) async fn prepare(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    body: &mut Value,
) -> ApiResult<()> {
    let scheme = one_of(
        "resource.loadBalancingScheme",
        str_field(body, "loadBalancingScheme"),
        &["EXTERNAL", "EXTERNAL_MANAGED", "INTERNAL_SELF_MANAGED"],
        "EXTERNAL",
    )?;
    body["loadBalancingScheme"] = json!(scheme);
    let protocol = one_of(
        "resource.protocol",
        str_field(body, "protocol"),
        &[
            "HTTP",
            "HTTPS",
            "HTTP2",
            "H2C",
            "TCP",
            "SSL",
            "GRPC",
            "UDP",
            "UNSPECIFIED",
        ],
        "HTTP",
    )?;
    body["protocol"] = json!(protocol);
    let types = backend_neg_types(ctx, conn, body).await?;
    let mut groups: Vec<&str> = Vec::new();
    let backends = body["backends"].as_array().cloned().unwrap_or_default();
    for (i, b) in backends.iter().enumerate() {
        let g = str_field(b, "group").unwrap_or_default();
        if groups
            .iter()
            .any(|x| crate::domain::links::same_resource(x, g))
        {
            return Err(ApiError::invalid(
                &format!("resource.backends[{i}].group"),
                g,
                "Duplicate backend group.",
            ));
        }
        groups.push(g);
    }
    let serverless = types.iter().any(|t| t == "SERVERLESS");
    let internet = types.iter().any(|t| t.starts_with("INTERNET_"));
    if serverless && types.iter().any(|t| t != "SERVERLESS") {
        return Err(ApiError::invalid(
            "resource.backends",
            "",
            "Serverless network endpoint groups cannot be mixed with other backend types.",
        ));
    }
    let has_health_checks = body["healthChecks"]
        .as_array()
        .is_some_and(|h| !h.is_empty());
    if has_health_checks && serverless {
        return Err(ApiError::invalid(
            "resource.healthChecks",
            "",
            "A backend service cannot have a healthcheck with Serverless network endpoint group backends.",
        ));
    }
    if has_health_checks && internet && scheme != "INTERNAL_SELF_MANAGED" {
        return Err(ApiError::invalid(
            "resource.healthChecks",
            "",
            &format!(
                "Health checks are not allowed for GLOBAL {protocol} backend services with {scheme} load balancing scheme that have an Internet NEG."
            ),
        ));
    }
    for (i, (b, t)) in backends.iter().zip(&types).enumerate() {
        let label = if t == "SERVERLESS" {
            "Serverless network endpoint groups"
        } else {
            "Internet network endpoint groups"
        };
        let f = |k: &str| format!("resource.backends[{i}].{k}");
        if let Some(mode) = str_field(b, "balancingMode")
            && mode != "UTILIZATION"
        {
            return Err(ApiError::invalid(
                &f("balancingMode"),
                mode,
                &format!("Balancing mode is not supported for {label}."),
            ));
        }
        for k in [
            "maxRate",
            "maxRatePerInstance",
            "maxRatePerEndpoint",
            "maxConnections",
            "maxConnectionsPerInstance",
            "maxConnectionsPerEndpoint",
        ] {
            if let Some(v) = b.get(k) {
                return Err(ApiError::invalid(
                    &f(k),
                    &v.to_string(),
                    &format!("{k} is not supported for {label}."),
                ));
            }
        }
        if let Some(v) = b.get("maxUtilization") {
            return Err(ApiError::invalid(
                &f("maxUtilization"),
                &v.to_string(),
                &format!("Max utilization is not supported for {label}."),
            ));
        }
        if let Some(v) = b.get("capacityScaler").and_then(Value::as_f64)
            && (v - 1.0).abs() > f64::EPSILON
        {
            return Err(ApiError::invalid(
                &f("capacityScaler"),
                &v.to_string(),
                &format!("Capacity scaler is not supported for {label}."),
            ));
        }
    }
    if serverless {
        if let Some(v) = body.get("timeoutSec") {
            return Err(ApiError::invalid(
                "resource.timeoutSec",
                &v.to_string(),
                "Timeout sec is not supported for a backend service with Serverless network endpoint groups.",
            ));
        }
        if let Some(v) = str_field(body, "portName") {
            return Err(ApiError::invalid(
                "resource.portName",
                v,
                "Port name is not supported for a backend service with Serverless network endpoint groups.",
            ));
        }
    }
    if let Some(mode) = body.pointer("/cdnPolicy/cacheMode").and_then(Value::as_str) {
        one_of(
            "resource.cdnPolicy.cacheMode",
            Some(mode),
            &[
                "CACHE_ALL_STATIC",
                "USE_ORIGIN_HEADERS",
                "FORCE_CACHE_ALL",
                "INVALID_CACHE_MODE",
            ],
            "",
        )?;
    }
    for (i, h) in body["customRequestHeaders"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let h = h.as_str().unwrap_or_default();
        if !h.contains(':') {
            return Err(ApiError::invalid(
                &format!("resource.customRequestHeaders[{i}]"),
                h,
                "Headers take the form 'Name: value'.",
            ));
        }
    }
    // Server defaults seen on GET (docs/google-cloud.md §4).
    if body.get("sessionAffinity").is_none() {
        body["sessionAffinity"] = json!("NONE");
    }
    if body.get("affinityCookieTtlSec").is_none() {
        body["affinityCookieTtlSec"] = json!(0);
    }
    if body.get("connectionDraining").is_none() {
        body["connectionDraining"] =
            json!({"drainingTimeoutSec": if serverless { 0 } else { 300 }});
    }
    if !serverless && body.get("timeoutSec").is_none() {
        body["timeoutSec"] = json!(30);
    }
    if body.get("enableCDN").is_none() {
        body["enableCDN"] = json!(false);
    }
    Ok(())
}
