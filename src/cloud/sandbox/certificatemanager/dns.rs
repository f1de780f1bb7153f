//! The sandbox's DNS: the records a team would publish at its DNS provider. Google validates a
//! DNS authorization by resolving its CNAME; here a test or a person tells the sandbox the
//! record exists (`POST /sandbox/v1/projects/{project}/dnsRecords`), and certificates whose
//! every domain's record is in place become ACTIVE on their next read.

use super::err;
use crate::cloud::sandbox::{ApiError, ApiResult, Sandbox, now_ms};
use crate::db::sandbox::{self as sql, Key};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

const API: &str = "dns";

/// `_acme-challenge.shop.example.com.`: lowercase, one trailing dot.
fn canonical(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.').to_ascii_lowercase())
}

fn key<'a>(project: &'a str, name: &'a str) -> Key<'a> {
    Key {
        api: API,
        project,
        location: "global",
        collection: "records",
        name,
    }
}

#[derive(Debug, Deserialize)]
pub(in crate::cloud::sandbox) struct Record {
    name: String,
    #[serde(rename = "type", default = "cname")]
    kind: String,
    data: String,
}

fn cname() -> String {
    "CNAME".into()
}

/// `POST /sandbox/v1/projects/{project}/dnsRecords` `{"name", "type": "CNAME", "data"}`:
/// publishes (or replaces) a record.
pub(in crate::cloud::sandbox) async fn publish(
    State(sb): State<Arc<Sandbox>>,
    Path(project): Path<String>,
    Json(record): Json<Record>,
) -> ApiResult {
    if record.kind != "CNAME" {
        return Err(ApiError::certificate_manager(
            400,
            "INVALID_ARGUMENT",
            "The sandbox's DNS holds CNAME records only (what DNS authorizations need).",
        ));
    }
    let name = canonical(&record.name);
    let body = json!({ "name": name, "type": "CNAME", "data": canonical(&record.data) });
    let now = now_ms();
    let mut conn = sb.db.acquire().await.map_err(err)?;
    sql::put_resource(&mut conn, key(&project, &name), &body, &json!({}), now, now)
        .await
        .map_err(err)?;
    Ok(Json(body).into_response())
}

/// `GET /sandbox/v1/projects/{project}/dnsRecords`: what is published.
pub(in crate::cloud::sandbox) async fn list(
    State(sb): State<Arc<Sandbox>>,
    Path(project): Path<String>,
) -> ApiResult {
    let mut conn = sb.db.acquire().await.map_err(err)?;
    let rows = sql::list_resources(&mut conn, API, &project, "global", "records", now_ms())
        .await
        .map_err(err)?;
    let records: Vec<Value> = rows.into_iter().map(|r| r.body).collect();
    Ok(Json(json!({ "records": records })).into_response())
}

/// Whether the CNAME `record` (`{name, type, data}` as an authorization shows it) resolves.
pub(super) async fn resolves(
    conn: &mut sqlx::SqliteConnection,
    project: &str,
    record: &Value,
) -> Result<bool, ApiError> {
    let (Some(name), Some(data)) = (record["name"].as_str(), record["data"].as_str()) else {
        return Ok(false);
    };
    let name = canonical(name);
    let found = sql::get_resource(conn, key(project, &name))
        .await
        .map_err(err)?;
    Ok(found.is_some_and(|r| r.body["data"].as_str() == Some(canonical(data).as_str())))
}
