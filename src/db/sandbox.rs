//! SQL of the sandbox cloud (tables `sandbox_*`, migrations 0002, 0012 and 0020).

use serde_json::Value;
use sqlx::{Row, SqliteConnection};

/// A stored simulated resource.
#[derive(Debug, Clone)]
pub struct StoredResource {
    pub project: String,
    pub location: String,
    pub collection: String,
    pub name: String,
    pub body: Value,
    pub internal: Value,
    pub ready_at_ms: i64,
    pub created_ms: i64,
    /// When an insert's operation is DONE: before that, the resource is not there to read.
    pub visible_at_ms: i64,
    /// When a delete's operation is DONE: until then the resource is still there (and in use).
    pub gone_at_ms: Option<i64>,
}

impl StoredResource {
    /// Whether a read at `now` sees it: its insert is done and its delete is not.
    pub fn visible(&self, now_ms: i64) -> bool {
        self.visible_at_ms <= now_ms && !self.gone(now_ms)
    }

    /// Whether its delete has completed by `now`.
    pub fn gone(&self, now_ms: i64) -> bool {
        self.gone_at_ms.is_some_and(|g| g <= now_ms)
    }

    /// Whether an operation on it is still running at `now` (an insert or a delete).
    pub fn busy(&self, now_ms: i64) -> bool {
        self.visible_at_ms > now_ms || self.gone_at_ms.is_some_and(|g| g > now_ms)
    }
}

const COLUMNS: &str = "project, location, collection, name, body, internal, ready_at_ms, \
                       created_ms, visible_at_ms, gone_at_ms";

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
        project: row.get("project"),
        location: row.get("location"),
        collection: row.get("collection"),
        name: row.get("name"),
        body: parse(row.get::<&str, _>("body")),
        internal: parse(row.get::<&str, _>("internal")),
        ready_at_ms: row.get("ready_at_ms"),
        created_ms: row.get("created_ms"),
        visible_at_ms: row.get("visible_at_ms"),
        gone_at_ms: row.get("gone_at_ms"),
    }
}

pub async fn get_resource(
    conn: &mut SqliteConnection,
    key: Key<'_>,
) -> sqlx::Result<Option<StoredResource>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sandbox_resources
         WHERE api = ? AND project = ? AND location = ? AND collection = ? AND name = ?"
    ))
    .bind(key.api)
    .bind(key.project)
    .bind(key.location)
    .bind(key.collection)
    .bind(key.name)
    .fetch_optional(conn)
    .await?;
    Ok(row.as_ref().map(resource_from_row))
}

/// Resources of one collection not deleted by `now` (including inserts still running), by name.
pub async fn list_resources(
    conn: &mut SqliteConnection,
    api: &str,
    project: &str,
    location: &str,
    collection: &str,
    now_ms: i64,
) -> sqlx::Result<Vec<StoredResource>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sandbox_resources
         WHERE api = ? AND project = ? AND location = ? AND collection = ?
           AND (gone_at_ms IS NULL OR gone_at_ms > ?)
         ORDER BY name"
    ))
    .bind(api)
    .bind(project)
    .bind(location)
    .bind(collection)
    .bind(now_ms)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(resource_from_row).collect())
}

/// One page of a collection as a read at `now` sees it: at most `limit` resources named after
/// `after`, by name. Paging by name rather than by offset keeps each page's cost to the page,
/// however deep it is.
#[allow(clippy::too_many_arguments)]
pub async fn list_page(
    conn: &mut SqliteConnection,
    api: &str,
    project: &str,
    location: &str,
    collection: &str,
    after: Option<&str>,
    limit: u32,
    now_ms: i64,
) -> sqlx::Result<Vec<StoredResource>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sandbox_resources
         WHERE api = ? AND project = ? AND location = ? AND collection = ? AND name > ?
           AND visible_at_ms <= ? AND (gone_at_ms IS NULL OR gone_at_ms > ?)
         ORDER BY name
         LIMIT ?"
    ))
    .bind(api)
    .bind(project)
    .bind(location)
    .bind(collection)
    .bind(after.unwrap_or(""))
    .bind(now_ms)
    .bind(now_ms)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(resource_from_row).collect())
}

/// Every project that holds a resource a read at `now` sees, by id: the projects the sandbox's
/// Resource Manager knows besides its own.
pub async fn projects_in_use(
    conn: &mut SqliteConnection,
    now_ms: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT project FROM sandbox_resources
         WHERE visible_at_ms <= ? AND (gone_at_ms IS NULL OR gone_at_ms > ?)
         ORDER BY project",
    )
    .bind(now_ms)
    .bind(now_ms)
    .fetch_all(conn)
    .await
}

/// The resources of some collections in every project and location, not deleted by `now`,
/// ordered by project, location, collection and name: the resources that may hold a reference
/// to a kind (a backend service's users are URL maps, of any project, since references cross
/// projects).
pub async fn collections_resources(
    conn: &mut SqliteConnection,
    api: &str,
    collections: &[&str],
    now_ms: i64,
) -> sqlx::Result<Vec<StoredResource>> {
    // One search per collection: each walks its slice of the by-collection index.
    let mut out = Vec::new();
    for c in collections {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM sandbox_resources
             WHERE api = ? AND collection = ? AND (gone_at_ms IS NULL OR gone_at_ms > ?)"
        ))
        .bind(api)
        .bind(*c)
        .bind(now_ms)
        .fetch_all(&mut *conn)
        .await?;
        out.extend(rows.iter().map(resource_from_row));
    }
    out.sort_by(|a, b| {
        (&a.project, &a.location, &a.collection, &a.name).cmp(&(
            &b.project,
            &b.location,
            &b.collection,
            &b.name,
        ))
    });
    Ok(out)
}

/// The bodies of a collection in every project not deleted by `now`: every address and
/// forwarding rule IP in use (IPs are global).
pub async fn all_bodies(
    conn: &mut SqliteConnection,
    api: &str,
    collection: &str,
    now_ms: i64,
) -> sqlx::Result<Vec<Value>> {
    let rows = sqlx::query(
        "SELECT body FROM sandbox_resources
         WHERE api = ? AND collection = ? AND (gone_at_ms IS NULL OR gone_at_ms > ?)",
    )
    .bind(api)
    .bind(collection)
    .bind(now_ms)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| parse(r.get::<&str, _>("body")))
        .collect())
}

/// Writes a resource that every read sees at once (Cloud Run services, changes in place).
pub async fn put_resource(
    conn: &mut SqliteConnection,
    key: Key<'_>,
    body: &Value,
    internal: &Value,
    ready_at_ms: i64,
    now_ms: i64,
) -> sqlx::Result<()> {
    put_resource_visible_at(conn, key, body, internal, ready_at_ms, now_ms, 0).await
}

/// Writes a resource that reads see from `visible_at_ms` on (a Compute insert, once its
/// operation is DONE). A row whose delete had completed is replaced as a new resource.
pub async fn put_resource_visible_at(
    conn: &mut SqliteConnection,
    key: Key<'_>,
    body: &Value,
    internal: &Value,
    ready_at_ms: i64,
    now_ms: i64,
    visible_at_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sandbox_resources
             (api, project, location, collection, name, body, internal, ready_at_ms, created_ms,
              visible_at_ms, gone_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
         ON CONFLICT (api, project, location, collection, name)
         DO UPDATE SET body = excluded.body, internal = excluded.internal,
                       ready_at_ms = excluded.ready_at_ms,
                       created_ms = CASE WHEN gone_at_ms IS NULL THEN created_ms
                                         ELSE excluded.created_ms END,
                       visible_at_ms = CASE WHEN gone_at_ms IS NULL THEN visible_at_ms
                                            ELSE excluded.visible_at_ms END,
                       gone_at_ms = NULL",
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
    .bind(visible_at_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a resource deleted from `gone_at_ms` on (a Compute delete, once its operation is
/// DONE); until then reads still see it.
pub async fn delete_resource_at(
    conn: &mut SqliteConnection,
    key: Key<'_>,
    gone_at_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sandbox_resources SET gone_at_ms = ?
         WHERE api = ? AND project = ? AND location = ? AND collection = ? AND name = ?",
    )
    .bind(gone_at_ms)
    .bind(key.api)
    .bind(key.project)
    .bind(key.location)
    .bind(key.collection)
    .bind(key.name)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the rows whose delete completed before `now` (they are invisible already).
pub async fn purge_gone(conn: &mut SqliteConnection, now_ms: i64) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM sandbox_resources WHERE gone_at_ms IS NOT NULL AND gone_at_ms <= ?",
    )
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
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
    pub created_ms: i64,
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
        created_ms: row.get("created_ms"),
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
        "SELECT location, name, body, error, done_at_ms, created_ms FROM sandbox_operations
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
        "SELECT location, name, body, error, done_at_ms, created_ms FROM sandbox_operations
         WHERE api = ? AND project = ? AND request_id = ?",
    )
    .bind(api)
    .bind(project)
    .bind(request_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.as_ref().map(operation_from_row))
}

/// Which operations a list answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoneFilter {
    Any,
    Done,
    Running,
}

/// One page of a location's operations, newest first: at most `limit` created before the
/// `(created_ms, name)` of the previous page's last one. Keyset paging on an index keeps each
/// page's cost to the page.
#[allow(clippy::too_many_arguments)]
pub async fn list_operations_page(
    conn: &mut SqliteConnection,
    api: &str,
    project: &str,
    location: &str,
    before: Option<(i64, &str)>,
    done: DoneFilter,
    limit: u32,
    now_ms: i64,
) -> sqlx::Result<Vec<StoredOperation>> {
    let (created, name) = before.unwrap_or((i64::MAX, ""));
    let rows = sqlx::query(
        "SELECT location, name, body, error, done_at_ms, created_ms FROM sandbox_operations
         WHERE api = ? AND project = ? AND location = ?
           AND (created_ms < ? OR (created_ms = ? AND name < ?))
           AND (? = 0 OR (? = 1 AND done_at_ms <= ?) OR (? = 2 AND done_at_ms > ?))
         ORDER BY created_ms DESC, name DESC
         LIMIT ?",
    )
    .bind(api)
    .bind(project)
    .bind(location)
    .bind(created)
    .bind(created)
    .bind(name)
    .bind(done as i64)
    .bind(done as i64)
    .bind(now_ms)
    .bind(done as i64)
    .bind(now_ms)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(operation_from_row).collect())
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
