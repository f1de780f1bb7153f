//! SQL of the sandbox cloud (tables `sandbox_*`, migration 0002).

use serde_json::Value;
use sqlx::{Row, SqliteConnection};

/// A stored simulated resource.
#[derive(Debug, Clone)]
pub struct StoredResource {
    pub location: String,
    pub collection: String,
    pub name: String,
    pub body: Value,
    pub internal: Value,
    pub ready_at_ms: i64,
    pub created_ms: i64,
}

/// Identifies a resource: (api, project, location, collection, name).
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    pub api: &'a str,
    pub project: &'a str,
    pub location: &'a str,
    pub collection: &'a str,
    pub name: &'a str,
}

fn parse(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or(Value::Null)
}

fn resource_from_row(row: &sqlx::sqlite::SqliteRow) -> StoredResource {
    StoredResource {
        location: row.get("location"),
        collection: row.get("collection"),
        name: row.get("name"),
        body: parse(row.get::<&str, _>("body")),
        internal: parse(row.get::<&str, _>("internal")),
        ready_at_ms: row.get("ready_at_ms"),
        created_ms: row.get("created_ms"),
    }
}

pub async fn get_resource(
    conn: &mut SqliteConnection,
    key: Key<'_>,
) -> sqlx::Result<Option<StoredResource>> {
    let row = sqlx::query(
        "SELECT location, collection, name, body, internal, ready_at_ms, created_ms
         FROM sandbox_resources
         WHERE api = ? AND project = ? AND location = ? AND collection = ? AND name = ?",
    )
    .bind(key.api)
    .bind(key.project)
    .bind(key.location)
    .bind(key.collection)
    .bind(key.name)
    .fetch_optional(conn)
    .await?;
    Ok(row.as_ref().map(resource_from_row))
}

/// Resources of one collection, by name.
pub async fn list_resources(
    conn: &mut SqliteConnection,
    api: &str,
    project: &str,
    location: &str,
    collection: &str,
) -> sqlx::Result<Vec<StoredResource>> {
    let rows = sqlx::query(
        "SELECT location, collection, name, body, internal, ready_at_ms, created_ms
         FROM sandbox_resources
         WHERE api = ? AND project = ? AND location = ? AND collection = ?
         ORDER BY name",
    )
    .bind(api)
    .bind(project)
    .bind(location)
    .bind(collection)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(resource_from_row).collect())
}

/// One page of a collection: at most `limit` resources named after `after`, by name. Paging by
/// name rather than by offset keeps each page's cost to the page, however deep it is.
pub async fn list_page(
    conn: &mut SqliteConnection,
    api: &str,
    project: &str,
    location: &str,
    collection: &str,
    after: Option<&str>,
    limit: u32,
) -> sqlx::Result<Vec<StoredResource>> {
    let rows = sqlx::query(
        "SELECT location, collection, name, body, internal, ready_at_ms, created_ms
         FROM sandbox_resources
         WHERE api = ? AND project = ? AND location = ? AND collection = ? AND name > ?
         ORDER BY name
         LIMIT ?",
    )
    .bind(api)
    .bind(project)
    .bind(location)
    .bind(collection)
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(resource_from_row).collect())
}

/// The resources of some collections of a project, every location, ordered by location,
/// collection and name (for dependency checks, which read only the kinds that can point at
/// another).
pub async fn collections_resources(
    conn: &mut SqliteConnection,
    api: &str,
    project: &str,
    collections: &[&str],
) -> sqlx::Result<Vec<StoredResource>> {
    // One search per collection: with `collection IN (...)` SQLite prefers the primary key,
    // whose order matches the ORDER BY, and walks the whole project.
    let mut out = Vec::new();
    for c in collections {
        let rows = sqlx::query(
            "SELECT location, collection, name, body, internal, ready_at_ms, created_ms
             FROM sandbox_resources
             WHERE api = ? AND collection = ? AND project = ?",
        )
        .bind(api)
        .bind(*c)
        .bind(project)
        .fetch_all(&mut *conn)
        .await?;
        out.extend(rows.iter().map(resource_from_row));
    }
    out.sort_by(|a, b| {
        (&a.location, &a.collection, &a.name).cmp(&(&b.location, &b.collection, &b.name))
    });
    Ok(out)
}

/// Every Compute address and forwarding rule IP in use, across projects (IPs are global).
pub async fn all_bodies(
    conn: &mut SqliteConnection,
    api: &str,
    collection: &str,
) -> sqlx::Result<Vec<Value>> {
    let rows = sqlx::query("SELECT body FROM sandbox_resources WHERE api = ? AND collection = ?")
        .bind(api)
        .bind(collection)
        .fetch_all(conn)
        .await?;
    Ok(rows
        .iter()
        .map(|r| parse(r.get::<&str, _>("body")))
        .collect())
}

pub async fn put_resource(
    conn: &mut SqliteConnection,
    key: Key<'_>,
    body: &Value,
    internal: &Value,
    ready_at_ms: i64,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sandbox_resources
             (api, project, location, collection, name, body, internal, ready_at_ms, created_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (api, project, location, collection, name)
         DO UPDATE SET body = excluded.body, internal = excluded.internal,
                       ready_at_ms = excluded.ready_at_ms",
    )
    .bind(key.api)
    .bind(key.project)
    .bind(key.location)
    .bind(key.collection)
    .bind(key.name)
    .bind(body.to_string())
    .bind(internal.to_string())
    .bind(ready_at_ms)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_resource(conn: &mut SqliteConnection, key: Key<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM sandbox_resources
         WHERE api = ? AND project = ? AND location = ? AND collection = ? AND name = ?",
    )
    .bind(key.api)
    .bind(key.project)
    .bind(key.location)
    .bind(key.collection)
    .bind(key.name)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A stored operation.
#[derive(Debug, Clone)]
pub struct StoredOperation {
    pub location: String,
    pub name: String,
    pub body: Value,
    pub error: Option<Value>,
    pub done_at_ms: i64,
}

fn operation_from_row(row: &sqlx::sqlite::SqliteRow) -> StoredOperation {
    StoredOperation {
        location: row.get("location"),
        name: row.get("name"),
        body: parse(row.get::<&str, _>("body")),
        error: row
            .get::<Option<&str>, _>("error")
            .map(parse)
            .filter(|v| !v.is_null()),
        done_at_ms: row.get("done_at_ms"),
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_operation(
    conn: &mut SqliteConnection,
    api: &str,
    project: &str,
    location: &str,
    name: &str,
    body: &Value,
    error: Option<&Value>,
    done_at_ms: i64,
    request_id: Option<&str>,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sandbox_operations
             (api, project, location, name, body, error, done_at_ms, request_id, created_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(api)
    .bind(project)
    .bind(location)
    .bind(name)
    .bind(body.to_string())
    .bind(error.map(|e| e.to_string()))
    .bind(done_at_ms)
    .bind(request_id)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_operation(
    conn: &mut SqliteConnection,
    api: &str,
    project: &str,
    location: &str,
    name: &str,
) -> sqlx::Result<Option<StoredOperation>> {
    let row = sqlx::query(
        "SELECT location, name, body, error, done_at_ms FROM sandbox_operations
         WHERE api = ? AND project = ? AND location = ? AND name = ?",
    )
    .bind(api)
    .bind(project)
    .bind(location)
    .bind(name)
    .fetch_optional(conn)
    .await?;
    Ok(row.as_ref().map(operation_from_row))
}

pub async fn operation_by_request_id(
    conn: &mut SqliteConnection,
    api: &str,
    project: &str,
    request_id: &str,
) -> sqlx::Result<Option<StoredOperation>> {
    let row = sqlx::query(
        "SELECT location, name, body, error, done_at_ms FROM sandbox_operations
         WHERE api = ? AND project = ? AND request_id = ?",
    )
    .bind(api)
    .bind(project)
    .bind(request_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.as_ref().map(operation_from_row))
}

pub async fn delete_operation(
    conn: &mut SqliteConnection,
    api: &str,
    project: &str,
    location: &str,
    name: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM sandbox_operations WHERE api = ? AND project = ? AND location = ? AND name = ?",
    )
    .bind(api)
    .bind(project)
    .bind(location)
    .bind(name)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn insert_token(
    conn: &mut SqliteConnection,
    token_sha256: &str,
    client_email: &str,
    expires_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sandbox_tokens (token_sha256, client_email, expires_ms) VALUES (?, ?, ?)",
    )
    .bind(token_sha256)
    .bind(client_email)
    .bind(expires_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// True when the token was issued and has not expired.
pub async fn token_valid(
    conn: &mut SqliteConnection,
    token_sha256: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let row = sqlx::query("SELECT 1 FROM sandbox_tokens WHERE token_sha256 = ? AND expires_ms > ?")
        .bind(token_sha256)
        .bind(now_ms)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

/// The stored service account: (client_email, PKCS#8 DER private key).
pub async fn service_account(
    conn: &mut SqliteConnection,
) -> sqlx::Result<Option<(String, Vec<u8>)>> {
    let row = sqlx::query(
        "SELECT client_email, private_key_pkcs8 FROM sandbox_service_account WHERE id = 1",
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.get("client_email"), r.get("private_key_pkcs8"))))
}

/// Stores the service account unless one exists; returns the one that is stored.
pub async fn store_service_account(
    conn: &mut SqliteConnection,
    client_email: &str,
    pkcs8: &[u8],
) -> sqlx::Result<(String, Vec<u8>)> {
    sqlx::query(
        "INSERT INTO sandbox_service_account (id, client_email, private_key_pkcs8)
         VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING",
    )
    .bind(client_email)
    .bind(pkcs8)
    .execute(&mut *conn)
    .await?;
    Ok(service_account(conn)
        .await?
        .expect("the row was just inserted or already present"))
}
