//! Global addresses: reserved external IPs (given or allocated, unique across projects), shown
//! RESERVED or IN_USE with their users on read.

use super::names::{one_of, str_field};
use super::users::Users;
use super::{API, Ctx};
use crate::cloud::sandbox::{ApiError, ApiResult};
use crate::db::sandbox::{self as sql, StoredResource};
use serde_json::{Value, json};
use sqlx::SqliteConnection;

/// Read-time fields: RESERVED, or IN_USE with the forwarding rules that use the address.
pub(super) async fn render(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    users: &mut Users,
    path: &str,
    body: &mut Value,
) -> ApiResult<()> {
    let ip = body
        .get("address")
        .and_then(Value::as_str)
        .map(str::to_string);
    let users = users.of(conn, ctx.now, path, ip.as_deref()).await?;
    if users.is_empty() {
        body["status"] = json!("RESERVED");
    } else {
        body["status"] = json!("IN_USE");
        body["users"] = json!(users.iter().map(|u| ctx.link(u)).collect::<Vec<_>>());
    }
    Ok(())
}

pub(super) async fn prepare(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    body: &mut Value,
    existing: Option<&StoredResource>,
) -> ApiResult<()> {
    let at = one_of(
        "resource.addressType",
        str_field(body, "addressType"),
        &["EXTERNAL"],
        "EXTERNAL",
    )?;
    let version = one_of(
        "resource.ipVersion",
        str_field(body, "ipVersion"),
        &["IPV4", "IPV6"],
        "IPV4",
    )?;
    let tier = one_of(
        "resource.networkTier",
        str_field(body, "networkTier"),
        &["PREMIUM"],
        "PREMIUM",
    )?;
    body["addressType"] = json!(at);
    body["ipVersion"] = json!(version);
    body["networkTier"] = json!(tier);
    if let Some(r) = existing {
        body["address"] = r.body["address"].clone();
        return Ok(());
    }
    let taken: Vec<String> = sql::all_bodies(conn, API, "addresses", ctx.now)
        .await?
        .iter()
        .chain(
            sql::all_bodies(conn, API, "forwardingRules", ctx.now)
                .await?
                .iter(),
        )
        .filter_map(|b| {
            b.get("address")
                .or_else(|| b.get("IPAddress"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    if let Some(ip) = str_field(body, "address") {
        let parsed: std::net::IpAddr = ip
            .parse()
            .map_err(|_| ApiError::invalid("resource.address", ip, "Not a valid IP address."))?;
        if parsed.is_ipv4() != (version == "IPV4") {
            return Err(ApiError::invalid(
                "resource.address",
                ip,
                "The address does not match ipVersion.",
            ));
        }
        if taken.iter().any(|t| t == ip) {
            return Err(ApiError::invalid(
                "resource.address",
                ip,
                "The address is already reserved.",
            ));
        }
        return Ok(());
    }
    body["address"] = json!(allocate_ip(&version, &taken));
    if version == "IPV6" {
        body["prefixLength"] = json!(64);
    }
    Ok(())
}

/// A free address: IPv4 from ranges Google uses for global load balancers, IPv6 from the
/// documentation range 2001:db8::/32 (RFC 3849), so a sandbox address never names a real host.
pub(super) fn allocate_ip(version: &str, taken: &[String]) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    loop {
        let ip = if version == "IPV6" {
            format!("2001:db8:0:{:x}::", rng.random_range(0x1000..0xffffu32))
        } else {
            format!(
                "34.{}.{}.{}",
                rng.random_range(104..=160u8),
                rng.random::<u8>(),
                rng.random_range(1..=254u8)
            )
        };
        if !taken.contains(&ip) {
            return ip;
        }
    }
}
