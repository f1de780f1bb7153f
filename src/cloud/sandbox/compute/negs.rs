//! Network endpoint groups: global internet NEGs (one FQDN or IP endpoint each, attached and
//! detached by verb) and regional serverless NEGs (one Cloud Run, App Engine or Functions target).

use super::Ctx;
use super::names::{str_field, valid_domain};
use crate::cloud::sandbox::{ApiError, ApiResult};
use crate::db::sandbox as sql;
use axum::response::IntoResponse;
use serde_json::{Value, json};

/// Read-time field: how many endpoints are attached.
pub(super) fn render(body: &mut Value, internal: &Value) {
    let n = internal["endpoints"].as_array().map(Vec::len).unwrap_or(0);
    body["size"] = json!(n);
}

/// `attachNetworkEndpoints` / `detachNetworkEndpoints`.
pub(super) fn attach_or_detach(
    ctx: &Ctx<'_>,
    neg: &Value,
    internal: &mut Value,
    verb: &str,
    req: &Value,
) -> ApiResult<()> {
    if ctx.location != "global" {
        return Err(ApiError::invalid(
            "resource.networkEndpointType",
            "SERVERLESS",
            "Serverless network endpoint groups have no endpoints to attach or detach.",
        ));
    }
    endpoints_change(neg, internal, verb == "attachNetworkEndpoints", req)
}

fn endpoints_change(neg: &Value, internal: &mut Value, attach: bool, req: &Value) -> ApiResult<()> {
    let kind = neg["networkEndpointType"].as_str().unwrap_or_default();
    let default_port = neg["defaultPort"].as_i64().unwrap_or(443);
    let requested = req
        .get("networkEndpoints")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if requested.is_empty() {
        return Err(ApiError::compute(
            400,
            "required",
            "Required field 'networkEndpoints' not specified",
        ));
    }
    let mut current: Vec<Value> = internal["endpoints"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (i, e) in requested.iter().enumerate() {
        let field = format!("networkEndpoints[{i}]");
        let fqdn = e.get("fqdn").and_then(Value::as_str);
        let ip = e.get("ipAddress").and_then(Value::as_str);
        let port = e
            .get("port")
            .and_then(Value::as_i64)
            .unwrap_or(default_port);
        if !(1..=65535).contains(&port) {
            return Err(ApiError::invalid(
                &format!("{field}.port"),
                &port.to_string(),
                "Port must be between 1 and 65535.",
            ));
        }
        let normalised = match kind {
            "INTERNET_FQDN_PORT" => {
                let Some(f) = fqdn.filter(|f| valid_domain(f)) else {
                    return Err(ApiError::invalid(
                        &format!("{field}.fqdn"),
                        fqdn.unwrap_or_default(),
                        "An INTERNET_FQDN_PORT endpoint needs a valid fully qualified domain name.",
                    ));
                };
                if ip.is_some() {
                    return Err(ApiError::invalid(
                        &format!("{field}.ipAddress"),
                        ip.unwrap_or_default(),
                        "Not allowed for INTERNET_FQDN_PORT endpoints.",
                    ));
                }
                json!({"fqdn": f, "port": port})
            }
            _ => {
                // `ipAddress` is IPv4 (docs/google-cloud.md §17.1), and Google takes only a
                // publicly routable one for an internet endpoint (§17.2).
                let Some(a) = ip.and_then(|a| a.parse::<std::net::Ipv4Addr>().ok()) else {
                    return Err(ApiError::invalid(
                        &format!("{field}.ipAddress"),
                        ip.unwrap_or_default(),
                        "An INTERNET_IP_PORT endpoint needs a valid IP address.",
                    ));
                };
                if crate::domain::validate::non_public_ipv4(a).is_some() {
                    return Err(ApiError::invalid(
                        &format!("{field}.ipAddress"),
                        &a.to_string(),
                        "The IP address of an internet network endpoint must be a publicly routable address.",
                    ));
                }
                if fqdn.is_some() {
                    return Err(ApiError::invalid(
                        &format!("{field}.fqdn"),
                        fqdn.unwrap_or_default(),
                        "Not allowed for INTERNET_IP_PORT endpoints.",
                    ));
                }
                json!({"ipAddress": a.to_string(), "port": port})
            }
        };
        let pos = current.iter().position(|c| *c == normalised);
        if attach {
            if pos.is_some() {
                return Err(ApiError::invalid(
                    &field,
                    &normalised.to_string(),
                    "The network endpoint is already attached.",
                ));
            }
            current.push(normalised);
        } else {
            match pos {
                Some(p) => {
                    current.remove(p);
                }
                None => {
                    return Err(ApiError::invalid(
                        &field,
                        &normalised.to_string(),
                        "The network endpoint is not attached to this group.",
                    ));
                }
            }
        }
    }
    if current.len() > 1 {
        return Err(ApiError::invalid(
            "networkEndpoints",
            &current.len().to_string(),
            "Only one internet endpoint is allowed in each internet network endpoint group.",
        ));
    }
    internal["endpoints"] = json!(current);
    Ok(())
}

pub(super) async fn list_network_endpoints(ctx: &Ctx<'_>, n: &str) -> ApiResult {
    let mut conn = ctx.sb.db.acquire().await?;
    let r = sql::get_resource(&mut conn, ctx.key("networkEndpointGroups", n))
        .await?
        .filter(|r| r.visible(ctx.now))
        .ok_or_else(|| ApiError::not_found(&ctx.path("networkEndpointGroups", n)))?;
    let items: Vec<Value> = r.internal["endpoints"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|e| json!({"networkEndpoint": e, "healths": []}))
        .collect();
    // Like every list, no `items` when there are none (docs/google-cloud.md §21.1).
    let mut page = json!({"kind": "compute#networkEndpointGroupsListNetworkEndpoints"});
    if !items.is_empty() {
        page["items"] = json!(items);
    }
    Ok(axum::Json(page).into_response())
}

pub(super) fn prepare(ctx: &Ctx<'_>, body: &mut Value, internal: &mut Value) -> ApiResult<()> {
    let t = str_field(body, "networkEndpointType")
        .unwrap_or("GCE_VM_IP_PORT")
        .to_string();
    if ctx.location == "global" {
        if t == "SERVERLESS" {
            return Err(ApiError::invalid(
                "resource.networkEndpointType",
                "SERVERLESS",
                "Network endpoint of type SERVERLESS is only allowed in regional scope.",
            ));
        }
        if t != "INTERNET_FQDN_PORT" && t != "INTERNET_IP_PORT" {
            return Err(ApiError::invalid(
                "resource.networkEndpointType",
                &t,
                "The sandbox implements global network endpoint groups of type INTERNET_FQDN_PORT and INTERNET_IP_PORT.",
            ));
        }
        for f in ["network", "subnetwork"] {
            if body.get(f).is_some() {
                return Err(ApiError::invalid(
                    &format!("resource.{f}"),
                    str_field(body, f).unwrap_or_default(),
                    "Global network endpoint groups do not take a network.",
                ));
            }
        }
        for f in ["cloudRun", "appEngine", "cloudFunction"] {
            if body.get(f).is_some() {
                return Err(ApiError::invalid(
                    &format!("resource.{f}"),
                    "",
                    "Only SERVERLESS network endpoint groups take a serverless target.",
                ));
            }
        }
        let port = body
            .get("defaultPort")
            .and_then(Value::as_i64)
            .unwrap_or(443);
        if !(1..=65535).contains(&port) {
            return Err(ApiError::invalid(
                "resource.defaultPort",
                &port.to_string(),
                "Port must be between 1 and 65535.",
            ));
        }
        body["defaultPort"] = json!(port);
        if internal.get("endpoints").is_none() {
            internal["endpoints"] = json!([]);
        }
        return Ok(());
    }
    if t != "SERVERLESS" {
        return Err(ApiError::invalid(
            "resource.networkEndpointType",
            &t,
            "The sandbox implements regional network endpoint groups of type SERVERLESS.",
        ));
    }
    for f in ["network", "subnetwork", "defaultPort"] {
        if let Some(v) = body.get(f) {
            return Err(ApiError::invalid(
                &format!("resource.{f}"),
                v.to_string().trim_matches('"'),
                "This field must not be set for network endpoint groups of type SERVERLESS.",
            ));
        }
    }
    let targets = ["cloudRun", "appEngine", "cloudFunction"]
        .iter()
        .filter(|f| body.get(**f).is_some())
        .count();
    if targets != 1 {
        return Err(ApiError::invalid(
            "resource",
            "",
            "A SERVERLESS network endpoint group needs exactly one of cloudRun, appEngine, cloudFunction.",
        ));
    }
    if let Some(cr) = body.get("cloudRun") {
        let service = str_field(cr, "service");
        let mask = str_field(cr, "urlMask");
        if service.is_none() && mask.is_none() {
            return Err(ApiError::invalid(
                "resource.cloudRun",
                "",
                "Either service or urlMask must be set.",
            ));
        }
        if let Some(s) = service
            && !crate::cloud::sandbox::run::valid_service_id(s)
        {
            return Err(ApiError::invalid(
                "resource.cloudRun.service",
                s,
                "Not a valid Cloud Run service name.",
            ));
        }
    }
    body["networkEndpointType"] = json!("SERVERLESS");
    Ok(())
}
