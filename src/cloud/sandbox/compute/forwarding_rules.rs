//! Global forwarding rules: a target proxy, a literal IP (given, from a reserved address, or
//! ephemeral), port ranges that may not overlap another rule's on the same IP, and `setTarget`.

use super::addresses::allocate_ip;
use super::names::{one_of, str_field};
use super::references::{resource_path_of, split_path};
use super::{API, Ctx};
use crate::cloud::sandbox::{ApiError, ApiResult};
use crate::db::sandbox::{self as sql, Key};
use regex::Regex;
use serde_json::{Value, json};
use sqlx::SqliteConnection;
use std::sync::LazyLock;

/// `setTarget`.
pub(super) fn set_target(body: &mut Value, req: &Value) {
    let target = req
        .get("target")
        .and_then(Value::as_str)
        .unwrap_or_default();
    body["target"] = json!(target);
}

/// "Currently, you can only patch the network_tier field" (disc:ce, `globalForwardingRules.patch`);
/// the name and fingerprint ride along. Everything else changes by recreating the rule, or its
/// target by `setTarget`.
pub(super) fn check_patch(patch: &Value) -> ApiResult<()> {
    let other = patch
        .as_object()
        .into_iter()
        .flatten()
        .find(|(k, _)| !matches!(k.as_str(), "networkTier" | "name" | "fingerprint"));
    match other {
        Some((k, v)) => Err(ApiError::invalid(
            &format!("resource.{k}"),
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
                .as_str(),
            "Currently, you can only patch the network_tier field.",
        )),
        None => Ok(()),
    }
}

static PORT_RANGE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d+(-\d+)?$").expect("valid regex"));

fn port_range(s: &str) -> Option<(u32, u32)> {
    if !PORT_RANGE_RE.is_match(s) {
        return None;
    }
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
        None => {
            let p = s.parse().ok()?;
            (p, p)
        }
    };
    (1..=65535).contains(&a).then_some(())?;
    (a <= b && b <= 65535).then_some((a, b))
}

pub(super) async fn prepare(
    conn: &mut SqliteConnection,
    ctx: &Ctx<'_>,
    body: &mut Value,
) -> ApiResult<()> {
    let scheme = one_of(
        "resource.loadBalancingScheme",
        str_field(body, "loadBalancingScheme"),
        &["EXTERNAL", "EXTERNAL_MANAGED"],
        "EXTERNAL",
    )?;
    body["loadBalancingScheme"] = json!(scheme);
    let proto = one_of(
        "resource.IPProtocol",
        str_field(body, "IPProtocol"),
        &["TCP"],
        "TCP",
    )?;
    body["IPProtocol"] = json!(proto);
    let tier = one_of(
        "resource.networkTier",
        str_field(body, "networkTier"),
        &["PREMIUM"],
        "PREMIUM",
    )?;
    body["networkTier"] = json!(tier);
    let target = str_field(body, "target").unwrap_or_default().to_string();
    if target.is_empty() {
        return Err(ApiError::compute(
            400,
            "required",
            "Required field 'resource.target' not specified",
        ));
    }
    let default_port = if target.contains("/targetHttpsProxies/") {
        "443"
    } else {
        "80"
    };
    let range = str_field(body, "portRange")
        .unwrap_or(default_port)
        .to_string();
    let Some((lo, hi)) = port_range(&range) else {
        return Err(ApiError::invalid(
            "resource.portRange",
            &range,
            "Must be a match of regex '\\d+(?:-\\d+)?'",
        ));
    };
    body["portRange"] = json!(if lo == hi {
        format!("{lo}-{hi}")
    } else {
        range.clone()
    });
    // Store the literal IP, as Compute does: a reserved address's IP, a given one, or a new
    // ephemeral one.
    let ip = match str_field(body, "IPAddress") {
        Some(a) if a.parse::<std::net::IpAddr>().is_ok() => a.to_string(),
        Some(link) => {
            let path = resource_path_of(ctx.project, link).ok_or_else(|| {
                ApiError::invalid("resource.IPAddress", link, "The URL is malformed.")
            })?;
            let Some((p, loc, c, n)) = split_path(&path).filter(|(_, _, c, _)| c == "addresses")
            else {
                return Err(ApiError::invalid(
                    "resource.IPAddress",
                    link,
                    "Not an IP address or address reference.",
                ));
            };
            let key = Key {
                api: API,
                project: &p,
                location: &loc,
                collection: &c,
                name: &n,
            };
            let addr = sql::get_resource(conn, key)
                .await?
                .filter(|a| a.visible(ctx.now))
                .ok_or_else(|| ApiError::not_found(&path))?;
            addr.body["address"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
        None => {
            let taken: Vec<String> = sql::all_bodies(conn, API, "addresses", ctx.now)
                .await?
                .iter()
                .filter_map(|b| b["address"].as_str().map(str::to_string))
                .collect();
            allocate_ip(str_field(body, "ipVersion").unwrap_or("IPV4"), &taken)
        }
    };
    let name = str_field(body, "name").unwrap_or_default();
    let others =
        sql::list_resources(conn, API, ctx.project, "global", "forwardingRules", ctx.now).await?;
    for other in others {
        if other.name == name || other.body["IPAddress"].as_str() != Some(ip.as_str()) {
            continue;
        }
        if let Some((a, b)) = other.body["portRange"].as_str().and_then(port_range)
            && a <= hi
            && lo <= b
        {
            return Err(ApiError::invalid(
                "resource.IPAddress",
                &ip,
                &format!(
                    "Specified IP address is in-use and would result in a conflict with forwarding rule '{}'.",
                    other.name
                ),
            ));
        }
    }
    body["IPAddress"] = json!(ip);
    body["ipVersion"] = json!(if ip.contains(':') { "IPV6" } else { "IPV4" });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges_parse_and_reject_nonsense() {
        assert_eq!(port_range("443"), Some((443, 443)));
        assert_eq!(port_range("80-8080"), Some((80, 8080)));
        assert_eq!(port_range("0"), None);
        assert_eq!(port_range("90-80"), None);
        assert_eq!(port_range("http"), None);
    }
}
