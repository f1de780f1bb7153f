//! The dashboard's rows, counts and change count (a read model over deployments, jobs, live
//! facts and drift checks).

use super::Db;
use sqlx::FromRow;

/// One deployment with everything its dashboard row shows, but its specs: what the row derives
/// from them is remembered by version (see [`row_specs`]), so a page reads no spec text once warm.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct DashboardRow {
    pub id: i64,
    pub name: String,
    pub version: i64,
    /// The last succeeded job when it was an apply (a later destroy means nothing is deployed):
    /// its spec is what the deploy service treats as applied.
    pub applied_job: Option<i64>,
    pub applied_at: Option<String>,
    /// The last succeeded job was a destroy: nothing of it is live.
    pub destroyed: bool,
    /// The live facts and the drift result are those of resources that are still there: none
    /// once a destroy succeeded (older ones may still be stored).
    pub ip: Option<String>,
    pub cert_status: Option<String>,
    pub domain_status: Option<String>,
    pub job_id: Option<i64>,
    pub job_kind: Option<String>,
    pub job_status: Option<String>,
    pub job_by: Option<String>,
    pub job_at: Option<String>,
    pub job_finished_at: Option<String>,
    pub drift: Option<String>,
    pub drift_at: Option<String>,
}

/// The newest job, the newest succeeded job and the newest drift check of each deployment come
/// from correlated subqueries that walk one index (jobs_by_deployment, drift_checks_deployment)
/// from its newest entry.
/// The unary `+` on `status` keeps SQLite from choosing `jobs_by_status` for the succeeded-job
/// lookup: that index walks the succeeded jobs of every deployment, newest first, until it meets
/// this one's (EXPLAIN QUERY PLAN showed SQLite picking it).
const DASHBOARD_SELECT: &str = "SELECT d.id, d.name, d.version, \
     CASE WHEN s.kind = 'apply' THEN s.id END AS applied_job, \
     CASE WHEN s.kind = 'apply' THEN s.finished_at END AS applied_at, \
     COALESCE(s.kind = 'destroy', 0) AS destroyed, \
     CASE WHEN s.kind IS NOT 'destroy' THEN l.ip END AS ip, \
     CASE WHEN s.kind IS NOT 'destroy' THEN l.cert_status END AS cert_status, \
     CASE WHEN s.kind IS NOT 'destroy' THEN l.domain_status END AS domain_status, \
     j.id AS job_id, j.kind AS job_kind, j.status AS job_status, j.created_by AS job_by, \
     j.created_at AS job_at, j.finished_at AS job_finished_at, \
     CASE WHEN s.kind IS NOT 'destroy' THEN dc.result END AS drift, dc.at AS drift_at \
     FROM deployments d \
     LEFT JOIN deployment_live l ON l.deployment_id = d.id \
     LEFT JOIN jobs j ON j.id = (SELECT j2.id FROM jobs j2 \
         WHERE j2.deployment = CAST(d.id AS TEXT) \
         ORDER BY j2.created_at DESC, j2.id DESC LIMIT 1) \
     LEFT JOIN jobs s ON s.id = (SELECT s2.id FROM jobs s2 \
         WHERE s2.deployment = CAST(d.id AS TEXT) AND +s2.status = 'succeeded' \
         ORDER BY s2.created_at DESC, s2.id DESC LIMIT 1) \
     LEFT JOIN drift_checks dc ON dc.id = (SELECT c.id FROM drift_checks c \
         WHERE c.deployment_id = d.id ORDER BY c.id DESC LIMIT 1) \
     WHERE d.deleted_at IS NULL";

/// Up to `limit` deployments by name, after `after` (keyset on the unique live name).
pub async fn dashboard_page(
    db: &Db,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<DashboardRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{DASHBOARD_SELECT} AND d.name > ? ORDER BY d.name LIMIT ?"
    ))
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn dashboard_row(db: &Db, id: i64) -> Result<Option<DashboardRow>, sqlx::Error> {
    sqlx::query_as(&format!("{DASHBOARD_SELECT} AND d.id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// A deployment's draft as it is now and the spec a job applied.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct RowSpecs {
    pub id: i64,
    /// The draft's version now (it may have moved on since the row was read).
    pub version: i64,
    pub spec: String,
    pub applied_job: Option<i64>,
    pub applied_spec: Option<String>,
}

/// The specs behind dashboard rows: each `(deployment id, applied job)` in one statement.
pub async fn row_specs(db: &Db, keys: &[(i64, Option<i64>)]) -> Result<Vec<RowSpecs>, sqlx::Error> {
    let keys = serde_json::Value::from(
        keys.iter()
            .map(|(d, j)| serde_json::json!([d, j]))
            .collect::<Vec<_>>(),
    );
    sqlx::query_as(
        "SELECT d.id, d.version, d.spec, j.id AS applied_job, j.spec AS applied_spec \
         FROM json_each(?) k \
         JOIN deployments d ON d.id = k.value ->> 0 \
         LEFT JOIN jobs j ON j.id = k.value ->> 1",
    )
    .bind(keys.to_string())
    .fetch_all(db)
    .await
}

/// The count that every change to the dashboard's and the jobs page's tables moves forward
/// (migration 0011's triggers).
pub async fn change_count(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT n FROM change_count WHERE id = 1")
        .fetch_one(db)
        .await
}

/// The figures above the dashboard's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct DashboardCounts {
    pub users: i64,
    /// Jobs queued or running.
    pub active_jobs: i64,
}

pub async fn dashboard_counts(db: &Db) -> Result<DashboardCounts, sqlx::Error> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM users) AS users, \
         (SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')) AS active_jobs",
    )
    .fetch_one(db)
    .await
}

/// The live deployment with this name (jobs name their deployment), if any.
pub async fn deployment_id_by_name(db: &Db, name: &str) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM deployments WHERE name = ? AND deleted_at IS NULL")
            .bind(name)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|r| r.0))
}
