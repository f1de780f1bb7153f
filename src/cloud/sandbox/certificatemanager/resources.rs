//! Reads and changes of the four Certificate Manager kinds, with the rules of API-NOTES §14:
//! immutable fields, wildcards only through DNS authorization, at most four certificates per
//! entry, exactly one of `hostname` and `matcher`, and nothing deleted while something uses it.

use super::dns;
use super::{Target, err, invalid, key, not_found, precondition};
use crate::cloud::sandbox::{
    ApiError, ApiResult, Sandbox, merge_patch, now_ms, random_hex, rfc3339,
};
use crate::db::sandbox as sql;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

/// Fields a patch may change, per kind (API-NOTES §14.7).
fn mutable(collection: &str) -> &'static [&'static str] {
    match collection {
        "certificateMapEntries" => &["description", "labels", "certificates"],
        _ => &["description", "labels"],
    }
}

async fn stored(conn: &mut SqliteConnection, t: &Target) -> Result<Option<Value>, ApiError> {
    let name = t.key_name();
    Ok(
        sql::get_resource(conn, key(&t.project, t.collection, &name))
            .await
            .map_err(err)?
            .map(|r| r.body),
    )
}

async fn put(conn: &mut SqliteConnection, t: &Target, body: &Value) -> Result<(), ApiError> {
    let now = now_ms();
    let name = t.key_name();
    sql::put_resource(
        conn,
        key(&t.project, t.collection, &name),
        body,
        &json!({}),
        now,
        now,
    )
    .await
    .map_err(err)
}

/// All of a kind in the project (entries: of every map).
async fn all(
    conn: &mut SqliteConnection,
    project: &str,
    collection: &str,
) -> Result<Vec<Value>, ApiError> {
    Ok(
        sql::list_resources(conn, super::API, project, "global", collection, now_ms())
            .await
            .map_err(err)?
            .into_iter()
            .map(|r| r.body)
            .collect(),
    )
}

/// A managed certificate still PROVISIONING is issued once every domain's authorization
/// record resolves; stored so, as Google keeps it.
async fn with_state(
    conn: &mut SqliteConnection,
    t: &Target,
    mut cert: Value,
) -> Result<Value, ApiError> {
    if t.collection != "certificates" || cert["managed"]["state"] != "PROVISIONING" {
        return Ok(cert);
    }
    let authorizations: Vec<String> = cert["managed"]["dnsAuthorizations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let mut attempts = Vec::new();
    let mut all_authorized = !authorizations.is_empty();
    for domain in cert["managed"]["domains"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let domain = domain.as_str().unwrap_or_default().to_string();
        let parent = crate::domain::names::authorization_domain(&domain).to_string();
        let mut record = Value::Null;
        for a in &authorizations {
            let id = a.rsplit('/').next().unwrap_or_default();
            if let Some(r) = sql::get_resource(conn, key(&t.project, "dnsAuthorizations", id))
                .await
                .map_err(err)?
                && r.body["domain"] == parent.as_str()
            {
                record = r.body["dnsResourceRecord"].clone();
            }
        }
        let ok = dns::resolves(conn, &t.project, &record).await?;
        all_authorized &= ok;
        let mut attempt = json!({
            "domain": domain,
            "state": if ok { "AUTHORIZED" } else { "AUTHORIZING" },
            "attemptTime": rfc3339(now_ms()),
        });
        if !ok {
            attempt["troubleshooting"] = json!({
                "cname": {
                    "name": record["name"],
                    "expectedData": record["data"],
                    "resolvedData": [],
                },
                "issues": ["CNAME_MISMATCH"],
            });
        }
        attempts.push(attempt);
    }
    cert["managed"]["authorizationAttemptInfo"] = json!(attempts);
    if all_authorized {
        cert["managed"]["state"] = json!("ACTIVE");
        cert["pemCertificate"] =
            json!("-----BEGIN CERTIFICATE-----\nc2FuZGJveA==\n-----END CERTIFICATE-----\n");
        cert["expireTime"] = json!(rfc3339(now_ms() + 90 * 24 * 3600 * 1000));
        put(conn, t, &cert).await?;
    }
    Ok(cert)
}

pub(super) async fn get(sb: &Sandbox, t: &Target) -> ApiResult {
    let mut conn = sb.db.acquire().await.map_err(err)?;
    let found = stored(&mut conn, t)
        .await?
        .ok_or_else(|| not_found(&t.name()))?;
    let found = with_state(&mut conn, t, found).await?;
    Ok(axum::Json(found).into_response())
}

pub(super) async fn list(sb: &Sandbox, t: &Target) -> ApiResult {
    let mut conn = sb.db.acquire().await.map_err(err)?;
    if t.collection == "certificateMapEntries" {
        let map = t.parent.rsplit('/').next().unwrap_or_default();
        if stored_map(&mut conn, &t.project, map).await?.is_none() {
            return Err(not_found(&t.parent));
        }
    }
    let mut items = Vec::new();
    for v in all(&mut conn, &t.project, t.collection).await? {
        if v["name"]
            .as_str()
            .is_some_and(|n| n.starts_with(&format!("{}/", t.parent)))
        {
            let at = Target {
                project: t.project.clone(),
                collection: t.collection,
                parent: t.parent.clone(),
                id: v["name"]
                    .as_str()
                    .unwrap_or_default()
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            };
            items.push(with_state(&mut conn, &at, v).await?);
        }
    }
    let mut page = json!({});
    if !items.is_empty() {
        page[t.collection] = json!(items);
    }
    Ok(axum::Json(page).into_response())
}

async fn stored_map(
    conn: &mut SqliteConnection,
    project: &str,
    map: &str,
) -> Result<Option<Value>, ApiError> {
    Ok(
        sql::get_resource(conn, key(project, "certificateMaps", map))
            .await
            .map_err(err)?
            .map(|r| r.body),
    )
}

/// Certificate Manager ids: RFC 1035-like, 1 to 63 characters (API-NOTES §14.1 treats them
/// as Compute names until Google says otherwise).
fn valid_id(id: &str) -> bool {
    let b = id.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
}

pub(super) async fn create(sb: &Sandbox, t: &Target, mut body: Value) -> ApiResult<Value> {
    if !valid_id(&t.id) {
        return Err(invalid(format!(
            "Invalid resource id '{}': use 1 to 63 lowercase letters, digits and hyphens, starting with a letter.",
            t.id
        )));
    }
    let _serial = sb.write.lock().await;
    let mut conn = sb.db.acquire().await.map_err(err)?;
    if stored(&mut conn, t).await?.is_some() {
        return Err(ApiError::certificate_manager(
            409,
            "ALREADY_EXISTS",
            format!("Resource '{}' already exists", t.name()),
        ));
    }
    let now = rfc3339(now_ms());
    match t.collection {
        "dnsAuthorizations" => authorization(&mut body, &t.id)?,
        "certificates" => certificate(&mut conn, t, &mut body).await?,
        "certificateMaps" => body["gclbTargets"] = json!([]),
        _ => entry(&mut conn, t, &mut body).await?,
    }
    if t.collection == "certificateMapEntries" {
        let map = t.parent.rsplit('/').next().unwrap_or_default();
        if stored_map(&mut conn, &t.project, map).await?.is_none() {
            return Err(not_found(&t.parent));
        }
        body["state"] = json!("ACTIVE");
    }
    body["name"] = json!(t.name());
    body["createTime"] = json!(now);
    body["updateTime"] = json!(now);
    put(&mut conn, t, &body).await?;
    Ok(body)
}

fn authorization(body: &mut Value, id: &str) -> Result<(), ApiError> {
    let domain = body["domain"].as_str().unwrap_or_default().to_string();
    if domain.is_empty() {
        return Err(invalid("Field 'domain' is required."));
    }
    if domain.contains('*') {
        return Err(invalid(format!(
            "Invalid domain '{domain}': authorize the parent domain; one DNS authorization covers the domain and its wildcard."
        )));
    }
    let kind = body["type"].as_str().unwrap_or("FIXED_RECORD").to_string();
    body["type"] = json!(kind);
    let name = match kind.as_str() {
        "PER_PROJECT_RECORD" => format!("_acme-challenge_{}.{domain}", random_hex(8)),
        _ => format!("_acme-challenge.{domain}."),
    };
    // Google's value is `<uuid-like>.<n>.authorize.certificatemanager.goog.`; the sandbox
    // derives both parts from the id, so a record published once stays right.
    let digest = crate::cloud::sandbox::sha256_hex(id);
    let shard = u8::from_str_radix(&digest[32..33], 16).unwrap_or(0) % 10;
    body["dnsResourceRecord"] = json!({
        "name": name,
        "type": "CNAME",
        "data": format!("{}.{shard}.authorize.certificatemanager.goog.", &digest[..32]),
    });
    Ok(())
}

async fn certificate(
    conn: &mut SqliteConnection,
    t: &Target,
    body: &mut Value,
) -> Result<(), ApiError> {
    if body.get("selfManaged").is_some() {
        return Err(invalid(
            "The sandbox models Google-managed certificates only (managed).",
        ));
    }
    let domains: Vec<String> = body["managed"]["domains"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    if domains.is_empty() {
        return Err(invalid("Field 'managed.domains' is required."));
    }
    let authorizations: Vec<String> = body["managed"]["dnsAuthorizations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    if authorizations.is_empty() && domains.iter().any(|d| d.starts_with("*.")) {
        return Err(invalid(
            "Wildcard domains are only supported with DNS challenge resolution",
        ));
    }
    for a in &authorizations {
        let id = a.rsplit('/').next().unwrap_or_default();
        if sql::get_resource(conn, key(&t.project, "dnsAuthorizations", id))
            .await
            .map_err(err)?
            .is_none()
        {
            return Err(not_found(a));
        }
    }
    body["managed"]["state"] = json!("PROVISIONING");
    body["scope"] = json!(body["scope"].as_str().unwrap_or("DEFAULT"));
    body["sanDnsnames"] = json!(domains);
    Ok(())
}

async fn entry(conn: &mut SqliteConnection, t: &Target, body: &mut Value) -> Result<(), ApiError> {
    let hostname = body.get("hostname").and_then(Value::as_str).is_some();
    let primary = body.get("matcher").and_then(Value::as_str) == Some("PRIMARY");
    if hostname == primary {
        return Err(invalid(
            "A certificate map entry has exactly one of 'hostname' and 'matcher: PRIMARY'.",
        ));
    }
    check_entry_certificates(conn, &t.project, &body["certificates"]).await
}

async fn check_entry_certificates(
    conn: &mut SqliteConnection,
    project: &str,
    certs: &Value,
) -> Result<(), ApiError> {
    let certs: Vec<&str> = certs
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if certs.len() > 4 {
        return Err(invalid(format!(
            "{} certificates: a certificate map entry holds at most 4.",
            certs.len()
        )));
    }
    for c in certs {
        let id = c.rsplit('/').next().unwrap_or_default();
        if sql::get_resource(conn, key(project, "certificates", id))
            .await
            .map_err(err)?
            .is_none()
        {
            return Err(not_found(c));
        }
    }
    Ok(())
}

pub(super) async fn patch(sb: &Sandbox, t: &Target, mask: &str, body: Value) -> ApiResult<Value> {
    let _serial = sb.write.lock().await;
    let mut conn = sb.db.acquire().await.map_err(err)?;
    let mut current = stored(&mut conn, t)
        .await?
        .ok_or_else(|| not_found(&t.name()))?;
    let allowed = mutable(t.collection);
    let mut changes = json!({});
    for field in mask.split(',').map(str::trim) {
        if !allowed.contains(&field) {
            return Err(invalid(format!(
                "Field '{field}' cannot be changed: it is immutable (change it by creating a new resource)."
            )));
        }
        changes[field] = body.get(field).cloned().unwrap_or(Value::Null);
    }
    if t.collection == "certificateMapEntries" && changes.get("certificates").is_some() {
        check_entry_certificates(&mut conn, &t.project, &changes["certificates"]).await?;
    }
    merge_patch(&mut current, &changes);
    current["updateTime"] = json!(rfc3339(now_ms()));
    put(&mut conn, t, &current).await?;
    Ok(current)
}

/// What still uses the resource, which Google refuses to delete (API-NOTES §14.8-9).
async fn users(
    conn: &mut SqliteConnection,
    t: &Target,
    name: &str,
) -> Result<Vec<String>, ApiError> {
    let mentions = |v: &Value, field: &str| {
        v[field]
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x.as_str() == Some(name)))
    };
    let mut out = Vec::new();
    match t.collection {
        "dnsAuthorizations" => {
            for c in all(conn, &t.project, "certificates").await? {
                if mentions(&c["managed"], "dnsAuthorizations") {
                    out.push(c["name"].as_str().unwrap_or_default().to_string());
                }
            }
        }
        "certificates" => {
            for e in all(conn, &t.project, "certificateMapEntries").await? {
                if mentions(&e, "certificates") {
                    out.push(e["name"].as_str().unwrap_or_default().to_string());
                }
            }
        }
        "certificateMaps" => {
            for e in all(conn, &t.project, "certificateMapEntries").await? {
                if e["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(&format!("{name}/")))
                {
                    out.push(e["name"].as_str().unwrap_or_default().to_string());
                }
            }
            let proxies = sql::list_resources(
                conn,
                "compute",
                &t.project,
                "global",
                "targetHttpsProxies",
                now_ms(),
            )
            .await
            .map_err(err)?;
            for p in proxies {
                let map = p.body["certificateMap"].as_str().unwrap_or_default();
                if crate::domain::links::link_path(map) == name {
                    out.push(p.body["selfLink"].as_str().unwrap_or(&p.name).to_string());
                }
            }
        }
        _ => {}
    }
    Ok(out)
}

pub(super) async fn delete(sb: &Sandbox, t: &Target) -> ApiResult<()> {
    let _serial = sb.write.lock().await;
    let mut conn = sb.db.acquire().await.map_err(err)?;
    let name = t.name();
    if stored(&mut conn, t).await?.is_none() {
        return Err(not_found(&name));
    }
    let users = users(&mut conn, t, &name).await?;
    if !users.is_empty() {
        let why = if t.collection == "certificateMaps" {
            "A Certificate Map can't be deleted if it contains Certificate Map Entries or is attached to a target proxy. Remove all the entries from the map and detach it before calling this method."
        } else {
            "It is still in use; remove the references to it first."
        };
        return Err(precondition(format!(
            "Resource '{name}' is used by {}. {why}",
            users.join(", ")
        )));
    }
    let key_name = t.key_name();
    sql::delete_resource(&mut conn, key(&t.project, t.collection, &key_name))
        .await
        .map_err(err)?;
    Ok(())
}
