//! Jobs, their steps and their log (migration 0004).

use super::Db;
use serde_json::Value;
use sqlx::FromRow;

const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

#[derive(Debug, thiserror::Error)]
pub enum JobsDbError {
    #[error(
        "deployment {deployment} already has job {job_id} in progress, started by {created_by}"
    )]
    DeploymentBusy {
        deployment: String,
        job_id: i64,
        created_by: String,
    },
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error("stored JSON is invalid: {0}")]
    Json(#[from] serde_json::Error),
}

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct JobRow {
    pub id: i64,
    pub deployment: String,
    pub kind: String,
    pub status: String,
    pub spec: String,
    pub plan: String,
    pub created_by: String,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    pub cancel_requested: bool,
}

impl JobRow {
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "succeeded" | "failed" | "cancelled")
    }
}

/// One step as stored: what to call, with which requestId, and how far it got.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct StepRecord {
    pub job_id: i64,
    pub idx: i64,
    pub step_id: String,
    pub action: String,
    pub resource: String,
    pub depends_on: String,
    pub request: String,
    pub request_id: String,
    pub status: String,
    pub operation: Option<String>,
    pub operation_scope: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    /// What a long-running step (a wait) has seen so far, in words.
    pub progress: Option<String>,
}

impl StepRecord {
    pub fn depends_on(&self) -> Vec<String> {
        serde_json::from_str(&self.depends_on).unwrap_or_default()
    }

    pub fn request_json(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_str(&self.request)
    }
}

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct LogLine {
    pub job_id: i64,
    pub seq: i64,
    pub at: String,
    pub step: Option<String>,
    pub level: String,
    pub message: String,
}

/// A step to store with a new job.
#[derive(Debug, Clone)]
pub struct NewStep {
    pub step_id: String,
    pub action: String,
    pub resource: String,
    pub depends_on: Vec<String>,
    pub request: Value,
}

#[derive(Debug, Clone)]
pub struct NewJob {
    pub deployment: String,
    pub kind: String,
    pub spec: Value,
    pub plan: Value,
    pub created_by: String,
    pub steps: Vec<NewStep>,
}

const JOB_COLUMNS: &str = "id, deployment, kind, status, spec, plan, created_by, created_at, \
     started_at, finished_at, error, cancel_requested";

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

async fn busy_error(db: &Db, deployment: &str) -> JobsDbError {
    match active_job_for(db, deployment).await {
        Ok(Some(job)) => JobsDbError::DeploymentBusy {
            deployment: deployment.to_string(),
            job_id: job.id,
            created_by: job.created_by,
        },
        Ok(None) => JobsDbError::DeploymentBusy {
            deployment: deployment.to_string(),
            job_id: 0,
            created_by: "unknown".to_string(),
        },
        Err(e) => e,
    }
}

/// Stores a queued job with its steps, each with a fresh requestId, in one transaction. Fails
/// with `DeploymentBusy` while the deployment has a queued or running job.
pub async fn create_job(db: &Db, job: &NewJob) -> Result<i64, JobsDbError> {
    let mut tx = db.begin().await?;
    let inserted = sqlx::query_scalar::<_, i64>(
        "INSERT INTO jobs (deployment, kind, status, spec, plan, created_by) \
         VALUES (?, ?, 'queued', ?, ?, ?) RETURNING id",
    )
    .bind(&job.deployment)
    .bind(&job.kind)
    .bind(job.spec.to_string())
    .bind(job.plan.to_string())
    .bind(&job.created_by)
    .fetch_one(&mut *tx)
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => {
            drop(tx);
            return Err(busy_error(db, &job.deployment).await);
        }
        Err(e) => return Err(e.into()),
    };
    for (idx, step) in job.steps.iter().enumerate() {
        sqlx::query(
            "INSERT INTO job_steps (job_id, idx, step_id, action, resource, depends_on, request, \
             request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(idx as i64)
        .bind(&step.step_id)
        .bind(&step.action)
        .bind(&step.resource)
        .bind(serde_json::to_string(&step.depends_on)?)
        .bind(step.request.to_string())
        .bind(uuid::Uuid::new_v4().to_string())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

pub async fn get_job(db: &Db, id: i64) -> Result<Option<JobRow>, JobsDbError> {
    Ok(
        sqlx::query_as::<_, JobRow>(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?"))
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

/// The queued or running job of a deployment, if any.
pub async fn active_job_for(db: &Db, deployment: &str) -> Result<Option<JobRow>, JobsDbError> {
    Ok(sqlx::query_as::<_, JobRow>(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE deployment = ? AND status IN ('queued', 'running')"
    ))
    .bind(deployment)
    .fetch_optional(db)
    .await?)
}

/// Jobs left queued or running, e.g. by a process that stopped mid-job.
pub async fn unfinished_jobs(db: &Db) -> Result<Vec<JobRow>, JobsDbError> {
    Ok(sqlx::query_as::<_, JobRow>(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE status IN ('queued', 'running') ORDER BY id"
    ))
    .fetch_all(db)
    .await?)
}

/// A page of jobs, newest first. `before` is the (created_at, id) of the last job of the
/// previous page (keyset paging, stable while new jobs arrive).
pub async fn list_jobs(
    db: &Db,
    deployment: Option<&str>,
    before: Option<(&str, i64)>,
    limit: i64,
) -> Result<Vec<JobRow>, JobsDbError> {
    let (before_at, before_id) = before.unwrap_or(("\u{10FFFF}", i64::MAX));
    Ok(sqlx::query_as::<_, JobRow>(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs \
         WHERE (?1 IS NULL OR deployment = ?1) AND (created_at, id) < (?2, ?3) \
         ORDER BY created_at DESC, id DESC LIMIT ?4"
    ))
    .bind(deployment)
    .bind(before_at)
    .bind(before_id)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

pub async fn job_steps(db: &Db, job_id: i64) -> Result<Vec<StepRecord>, JobsDbError> {
    Ok(sqlx::query_as::<_, StepRecord>(
        "SELECT job_id, idx, step_id, action, resource, depends_on, request, request_id, status, \
         operation, operation_scope, started_at, finished_at, error, progress \
         FROM job_steps WHERE job_id = ? ORDER BY idx",
    )
    .bind(job_id)
    .fetch_all(db)
    .await?)
}

/// Log lines after `after_seq` (0 for all), oldest first.
pub async fn job_log(db: &Db, job_id: i64, after_seq: i64) -> Result<Vec<LogLine>, JobsDbError> {
    Ok(sqlx::query_as::<_, LogLine>(
        "SELECT job_id, seq, at, step, level, message FROM job_log \
         WHERE job_id = ? AND seq > ? ORDER BY seq",
    )
    .bind(job_id)
    .bind(after_seq)
    .fetch_all(db)
    .await?)
}

pub async fn finish_job(
    db: &Db,
    job_id: i64,
    status: &str,
    error: Option<&str>,
) -> Result<(), JobsDbError> {
    let mut tx = db.begin().await?;
    finish_job_in(&mut tx, job_id, status, error).await?;
    tx.commit().await?;
    Ok(())
}

async fn finish_job_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    job_id: i64,
    status: &str,
    error: Option<&str>,
) -> Result<(), JobsDbError> {
    sqlx::query(&format!(
        "UPDATE jobs SET status = ?, error = ?, finished_at = {NOW} WHERE id = ?"
    ))
    .bind(status)
    .bind(error)
    .bind(job_id)
    .execute(&mut **tx)
    .await?;
    // The IP and certificate last seen belong to resources that a succeeded destroy deleted:
    // kept, they would be shown (and a re-apply's new IP mistaken for them) until the next check.
    if status == "succeeded" {
        sqlx::query(
            "DELETE FROM deployment_live WHERE deployment_id = \
             (SELECT CAST(deployment AS INTEGER) FROM jobs WHERE id = ? AND kind = 'destroy')",
        )
        .bind(job_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Asks a queued or running job to stop. Returns false when the job is not in progress.
pub async fn request_cancel(db: &Db, job_id: i64) -> Result<bool, JobsDbError> {
    let done = sqlx::query(
        "UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status IN ('queued', 'running')",
    )
    .bind(job_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts a failed or cancelled job back in the queue: its failed and skipped steps become
/// pending again and keep their requestIds. Fails with `DeploymentBusy` when another job of
/// the deployment started meanwhile; returns false when the job is not resumable.
pub async fn requeue_for_resume(db: &Db, job_id: i64) -> Result<bool, JobsDbError> {
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE jobs SET status = 'queued', error = NULL, finished_at = NULL, \
         cancel_requested = 0 WHERE id = ? AND status IN ('failed', 'cancelled')",
    )
    .bind(job_id)
    .execute(&mut *tx)
    .await;
    match updated {
        Ok(r) if r.rows_affected() == 0 => return Ok(false),
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            drop(tx);
            let deployment = get_job(db, job_id)
                .await?
                .map(|j| j.deployment)
                .unwrap_or_default();
            return Err(busy_error(db, &deployment).await);
        }
        Err(e) => return Err(e.into()),
    }
    sqlx::query(
        "UPDATE job_steps SET status = 'pending', error = NULL, started_at = NULL, \
         finished_at = NULL WHERE job_id = ? AND status IN ('failed', 'skipped')",
    )
    .bind(job_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// A job of this deployment holding at a `wait` step: (job id, the certificate waited for,
/// its progress so far). The deployment page says a certificate change is in progress.
pub async fn waiting_for_certificate(
    db: &Db,
    deployment: &str,
) -> Result<Option<(i64, String, Option<String>)>, JobsDbError> {
    Ok(sqlx::query_as(
        "SELECT j.id, s.resource, s.progress FROM jobs j \
         JOIN job_steps s ON s.job_id = j.id \
         WHERE j.deployment = ? AND j.status IN ('queued', 'running') \
         AND s.action = 'wait' AND s.status = 'running' \
         ORDER BY j.id DESC LIMIT 1",
    )
    .bind(deployment)
    .fetch_optional(db)
    .await?)
}

/// Whether someone asked for the job to stop (a long wait checks it between polls).
pub async fn cancel_requested(db: &Db, job_id: i64) -> Result<bool, JobsDbError> {
    let row: Option<(bool,)> = sqlx::query_as("SELECT cancel_requested FROM jobs WHERE id = ?")
        .bind(job_id)
        .fetch_optional(db)
        .await?;
    Ok(row.is_some_and(|(c,)| c))
}

/// Replaces the call of a step that has not succeeded (and forgets its operation, which was made
/// for the old call), so a resume sends what the fixed spec asks for.
pub async fn refresh_step_request(
    db: &Db,
    job_id: i64,
    idx: i64,
    request: &str,
) -> Result<bool, JobsDbError> {
    let done = sqlx::query(
        "UPDATE job_steps SET request = ?, operation = NULL, operation_scope = NULL          WHERE job_id = ? AND idx = ? AND status IN ('failed', 'skipped', 'pending')",
    )
    .bind(request)
    .bind(job_id)
    .bind(idx)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The newest job of a deployment that succeeded (an apply means its spec is what the cloud
/// holds; a destroy means nothing is deployed).
pub async fn last_succeeded_job(db: &Db, deployment: &str) -> Result<Option<JobRow>, sqlx::Error> {
    // The unary `+` keeps SQLite on jobs_by_deployment: jobs_by_status would walk the succeeded
    // jobs of every deployment until it met this one's.
    sqlx::query_as::<_, JobRow>(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE deployment = ? AND +status = 'succeeded' \
         ORDER BY created_at DESC, id DESC LIMIT 1"
    ))
    .bind(deployment)
    .fetch_optional(db)
    .await
}

/// The key jobs use for a deployment: its id as text (the runner keys jobs by any string).
pub fn deployment_key(deployment_id: i64) -> String {
    deployment_id.to_string()
}

/// What is deployed now: the deployment's last succeeded job when that job was an apply. The one
/// home of that rule; a destroy since, or no apply at all, means nothing is deployed.
pub async fn applied_job(db: &Db, deployment_id: i64) -> Result<Option<JobRow>, sqlx::Error> {
    Ok(last_succeeded_job(db, &deployment_key(deployment_id))
        .await?
        .filter(|job| job.kind == "apply"))
}

/// The deployment's apply jobs, newest first, that may have left resources in the cloud: those
/// since its last succeeded destroy that succeeded or got as far as starting a step (a failed
/// or cancelled apply may have created some of its resources). Empty means nothing of the
/// deployment can be in the cloud, so deleting its row orphans nothing.
pub async fn resource_jobs(db: &Db, deployment_id: i64) -> Result<Vec<JobRow>, sqlx::Error> {
    sqlx::query_as::<_, JobRow>(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs a WHERE {} ORDER BY created_at DESC, id DESC",
        may_own_resources("?")
    ))
    .bind(deployment_key(deployment_id))
    .fetch_all(db)
    .await
}

/// The condition on `jobs a` of [`resource_jobs`], for the deployment key `key` (a bound
/// parameter or a column), so that a guarded statement can test it in the same statement.
pub(super) fn may_own_resources(key: &str) -> String {
    format!(
        "a.deployment = {key} AND a.kind = 'apply' \
         AND (a.status = 'succeeded' OR EXISTS (SELECT 1 FROM job_steps st \
              WHERE st.job_id = a.id AND st.status NOT IN ('pending', 'skipped'))) \
         AND NOT EXISTS (SELECT 1 FROM jobs x WHERE x.deployment = a.deployment \
              AND x.kind = 'destroy' AND +x.status = 'succeeded' \
              AND (x.created_at > a.created_at OR (x.created_at = a.created_at AND x.id > a.id)))"
    )
}

/// The newest job of a deployment, whatever its outcome.
pub async fn latest_job(db: &Db, deployment: &str) -> Result<Option<JobRow>, JobsDbError> {
    Ok(sqlx::query_as::<_, JobRow>(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE deployment = ? ORDER BY created_at DESC, id DESC LIMIT 1"
    ))
    .bind(deployment)
    .fetch_optional(db)
    .await?)
}

/// One change to a job's records. A running job's changes are written in batches, each batch in
/// one transaction (see `jobs::journal`): a step's completion, its log lines and the start of
/// the steps that were waiting for it commit together, so no dependent waits on several
/// separate commits.
#[derive(Debug, Clone, PartialEq)]
pub enum JobWrite {
    /// The job is running (from its first start; a resume keeps the first `started_at`).
    JobRunning,
    Log {
        step: Option<String>,
        level: &'static str,
        message: String,
    },
    /// The operation a step started, kept so a restarted runner polls it instead of sending the
    /// call again.
    Operation {
        idx: i64,
        name: String,
        scope: String,
    },
    /// What a long-running step (a certificate wait) has seen so far, in words.
    Progress { idx: i64, progress: String },
    /// A step waits `seconds` before its next attempt, for the reason `note` says.
    Waiting {
        idx: i64,
        note: String,
        seconds: f64,
    },
    StepFinished {
        idx: i64,
        status: &'static str,
        error: Option<String>,
    },
    /// These steps start, unless a cancel was asked for: then none does, and [`write`] says so.
    StepsStarted { idxs: Vec<i64> },
    /// The job is over: unfinished steps are skipped (unless it succeeded) and it gets its
    /// status.
    JobFinished {
        status: &'static str,
        error: Option<String>,
    },
}

/// Writes `writes` in order in one transaction. Returns false when a [`JobWrite::StepsStarted`]
/// in them was refused because the job is to be cancelled (nothing else is refused).
pub async fn write(db: &Db, job_id: i64, writes: &[JobWrite]) -> Result<bool, JobsDbError> {
    let mut tx = db.begin().await?;
    let mut started = true;
    for w in writes {
        match w {
            JobWrite::JobRunning => {
                sqlx::query(&format!(
                    "UPDATE jobs SET status = 'running', started_at = COALESCE(started_at, {NOW}) \
                     WHERE id = ?"
                ))
                .bind(job_id)
                .execute(&mut *tx)
                .await?;
            }
            JobWrite::Log {
                step,
                level,
                message,
            } => {
                sqlx::query(
                    "INSERT INTO job_log (job_id, seq, step, level, message) \
                     SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4 FROM job_log \
                     WHERE job_id = ?1",
                )
                .bind(job_id)
                .bind(step)
                .bind(level)
                .bind(message)
                .execute(&mut *tx)
                .await?;
            }
            JobWrite::Operation { idx, name, scope } => {
                sqlx::query(
                    "UPDATE job_steps SET operation = ?, operation_scope = ? \
                     WHERE job_id = ? AND idx = ?",
                )
                .bind(name)
                .bind(scope)
                .bind(job_id)
                .bind(idx)
                .execute(&mut *tx)
                .await?;
            }
            JobWrite::Progress { idx, progress } => {
                sqlx::query("UPDATE job_steps SET progress = ? WHERE job_id = ? AND idx = ?")
                    .bind(progress)
                    .bind(job_id)
                    .bind(idx)
                    .execute(&mut *tx)
                    .await?;
            }
            JobWrite::Waiting { idx, note, seconds } => {
                sqlx::query(
                    "INSERT INTO job_step_waits (job_id, idx, note, until) \
                     VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)) \
                     ON CONFLICT (job_id, idx) DO UPDATE SET note = excluded.note, \
                     until = excluded.until",
                )
                .bind(job_id)
                .bind(idx)
                .bind(note)
                .bind(format!("+{seconds:.3} seconds"))
                .execute(&mut *tx)
                .await?;
            }
            JobWrite::StepFinished { idx, status, error } => {
                sqlx::query(&format!(
                    "UPDATE job_steps SET status = ?, error = ?, finished_at = {NOW} \
                     WHERE job_id = ? AND idx = ?"
                ))
                .bind(status)
                .bind(error)
                .bind(job_id)
                .bind(idx)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM job_step_waits WHERE job_id = ? AND idx = ?")
                    .bind(job_id)
                    .bind(idx)
                    .execute(&mut *tx)
                    .await?;
            }
            JobWrite::StepsStarted { idxs } => {
                let (cancel,): (bool,) =
                    sqlx::query_as("SELECT cancel_requested FROM jobs WHERE id = ?")
                        .bind(job_id)
                        .fetch_one(&mut *tx)
                        .await?;
                if cancel {
                    started = false;
                    continue;
                }
                for idx in idxs {
                    sqlx::query(&format!(
                        "UPDATE job_steps SET status = 'running', \
                         started_at = COALESCE(started_at, {NOW}), error = NULL \
                         WHERE job_id = ? AND idx = ?"
                    ))
                    .bind(job_id)
                    .bind(idx)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            JobWrite::JobFinished { status, error } => {
                if *status != "succeeded" {
                    // Called once nothing is in flight, so a step still `running` here was cut
                    // off (its executor panicked): a resume runs it again, polling its
                    // operation if one was recorded.
                    sqlx::query(
                        "UPDATE job_steps SET status = 'skipped' \
                         WHERE job_id = ? AND status IN ('pending', 'running')",
                    )
                    .bind(job_id)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("DELETE FROM job_step_waits WHERE job_id = ?")
                    .bind(job_id)
                    .execute(&mut *tx)
                    .await?;
                finish_job_in(&mut tx, job_id, status, error.as_deref()).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(started)
}

/// A step's current wait, as the job page and the API show it.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct StepWait {
    pub idx: i64,
    pub note: String,
    pub until: String,
    /// Seconds from now to `until` (positive: only waits not over yet are read).
    pub seconds_left: f64,
}

/// The waits of a job's steps that are not over yet.
pub async fn step_waits(db: &Db, job_id: i64) -> Result<Vec<StepWait>, JobsDbError> {
    Ok(sqlx::query_as::<_, StepWait>(&format!(
        "SELECT idx, note, until, (julianday(until) - julianday('now')) * 86400.0 AS seconds_left \
         FROM job_step_waits WHERE job_id = ? AND until > {NOW} ORDER BY idx"
    ))
    .bind(job_id)
    .fetch_all(db)
    .await?)
}
