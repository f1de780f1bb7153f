//! `plans`: pinned plans, each made from one draft version and one reading of the cloud.

use super::Db;
use sqlx::FromRow;

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PlanRow {
    pub id: String,
    pub deployment_id: i64,
    pub kind: String,
    pub version: i64,
    pub services: bool,
    pub live_digest: String,
    pub plan: String,
    pub steps: String,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub job_id: Option<i64>,
}

impl PlanRow {
    /// True once its expiry has passed (both sides are the same UTC text format).
    pub fn is_expired(&self, now: &str) -> bool {
        self.expires_at.as_str() <= now
    }
}

/// What a new plan record holds.
pub struct NewPlan<'a> {
    pub id: &'a str,
    pub deployment_id: i64,
    pub kind: &'a str,
    pub version: i64,
    pub services: bool,
    pub live_digest: &'a str,
    pub plan: &'a str,
    pub steps: &'a str,
    pub created_by: &'a str,
    pub ttl_secs: u64,
}

const COLUMNS: &str = "id, deployment_id, kind, version, services, live_digest, plan, steps, \
     created_by, created_at, expires_at, job_id";

pub async fn insert(db: &Db, p: &NewPlan<'_>) -> Result<PlanRow, sqlx::Error> {
    // Plans are cheap to make again: expired ones older than a week are dropped as new ones come.
    sqlx::query("DELETE FROM plans WHERE job_id IS NULL AND expires_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')")
        .execute(db)
        .await?;
    sqlx::query_as::<_, PlanRow>(&format!(
        "INSERT INTO plans (id, deployment_id, kind, version, services, live_digest, plan, steps, \
         created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, \
         strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || ? || ' seconds')) RETURNING {COLUMNS}"
    ))
    .bind(p.id)
    .bind(p.deployment_id)
    .bind(p.kind)
    .bind(p.version)
    .bind(p.services)
    .bind(p.live_digest)
    .bind(p.plan)
    .bind(p.steps)
    .bind(p.created_by)
    .bind(p.ttl_secs as i64)
    .fetch_one(db)
    .await
}

pub async fn get(db: &Db, id: &str) -> Result<Option<PlanRow>, sqlx::Error> {
    sqlx::query_as::<_, PlanRow>(&format!("SELECT {COLUMNS} FROM plans WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Records the job that ran the plan; false when another job ran it first.
pub async fn mark_run(db: &Db, id: &str, job_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE plans SET job_id = ? WHERE id = ? AND job_id IS NULL")
        .bind(job_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The current time in the format `expires_at` is stored in.
pub async fn now(db: &Db) -> Result<String, sqlx::Error> {
    let (now,): (String,) = sqlx::query_as("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')")
        .fetch_one(db)
        .await?;
    Ok(now)
}
