//! The jobs tables as lists and the job page read them: summaries, steps and log tails.

use super::Db;
use super::audit::Cursor;
use sqlx::{FromRow, QueryBuilder, Sqlite};

/// A job as lists show it (without its spec and plan, which can be large).
#[derive(Debug, Clone, PartialEq, Eq, FromRow, serde::Deserialize)]
pub struct JobSummary {
    pub id: i64,
    /// The jobs' key of the deployment: its id as text (`deploy::job_key`).
    pub deployment: String,
    /// The deployment's name, unless it was deleted since.
    pub deployment_name: Option<String>,
    pub kind: String,
    pub status: String,
    pub created_by: String,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub error: Option<String>,
}

const JOB_SUMMARY: &str = "j.id, j.deployment, dd.name AS deployment_name, j.kind, j.status, \
     j.created_by, j.created_at, j.started_at, j.finished_at, j.error";

/// Jobs key their deployment by its id as text; the join reads the name by primary key.
const JOBS_FROM: &str = "FROM jobs j LEFT JOIN deployments dd \
     ON dd.id = CAST(j.deployment AS INTEGER) AND dd.deleted_at IS NULL";

/// Equality filters of the jobs page; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct JobFilter {
    /// The deployment's jobs key (`deploy::job_key`).
    pub deployment: Option<String>,
    pub user: Option<String>,
    pub status: Option<String>,
}

/// The columns of [`JOB_SUMMARY`] as one JSON object with [`JobSummary`]'s field names.
const JOB_SUMMARY_JSON: &str = "json_object('id', id, 'deployment', deployment, \
     'deployment_name', deployment_name, 'kind', kind, 'status', status, \
     'created_by', created_by, 'created_at', created_at, 'started_at', started_at, \
     'finished_at', finished_at, 'error', error)";

/// Pushes the statement that selects a jobs page.
fn push_jobs_page(
    q: &mut QueryBuilder<'_, Sqlite>,
    filter: &JobFilter,
    before: Option<&Cursor>,
    limit: i64,
) {
    q.push(format!("SELECT {JOB_SUMMARY} {JOBS_FROM} WHERE 1 = 1"));
    if let Some(d) = &filter.deployment {
        q.push(" AND j.deployment = ").push_bind(d.clone());
    }
    if let Some(u) = &filter.user {
        q.push(" AND j.created_by = ").push_bind(u.clone());
    }
    if let Some(s) = &filter.status {
        q.push(" AND j.status = ").push_bind(s.clone());
    }
    if let Some(c) = before {
        q.push(" AND (j.created_at, j.id) < (")
            .push_bind(c.at.clone())
            .push(", ")
            .push_bind(c.id)
            .push(")");
    }
    q.push(" ORDER BY j.created_at DESC, j.id DESC LIMIT ")
        .push_bind(limit);
}

/// Up to `limit` jobs matching `filter`, newest first, strictly older than `before`. Each filter
/// has an index that starts with it and continues with `(created_at DESC, id DESC)`, so a page
/// is one index range scan however many jobs there are.
///
/// SQLite hands the page over as one JSON array rather than row by row: every row crosses from
/// the connection's thread to the caller's separately, and for a page of fifty that hand-over
/// cost more than the query.
pub async fn jobs_page(
    db: &Db,
    filter: &JobFilter,
    before: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<JobSummary>, sqlx::Error> {
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "SELECT coalesce(json_group_array({JOB_SUMMARY_JSON} ORDER BY created_at DESC, id DESC), \
         '[]') FROM ("
    ));
    push_jobs_page(&mut q, filter, before, limit);
    q.push(")");
    let (page,): (String,) = q.build_query_as().fetch_one(db).await?;
    serde_json::from_str(&page).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

pub async fn job(db: &Db, id: i64) -> Result<Option<JobSummary>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {JOB_SUMMARY} {JOBS_FROM} WHERE j.id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Whether someone asked the job to stop; the runner lets the steps in flight finish first, so
/// a job can be `running` for a while after.
pub async fn cancel_requested(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let row: Option<(bool,)> = sqlx::query_as("SELECT cancel_requested FROM jobs WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.is_some_and(|(c,)| c))
}

/// A step as the job page shows it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct StepSummary {
    pub idx: i64,
    pub step_id: String,
    pub action: String,
    pub resource: String,
    pub status: String,
    pub operation: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    /// What a long-running step (a wait) has seen so far.
    pub progress: Option<String>,
}

pub async fn job_steps(db: &Db, job_id: i64) -> Result<Vec<StepSummary>, sqlx::Error> {
    sqlx::query_as(
        "SELECT idx, step_id, action, resource, status, operation, started_at, finished_at, error, \
         progress FROM job_steps WHERE job_id = ? ORDER BY idx",
    )
    .bind(job_id)
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct LogEntry {
    pub seq: i64,
    pub at: String,
    pub step: Option<String>,
    pub level: String,
    pub message: String,
}

/// The last `limit` log lines, oldest first, and whether earlier ones were left out.
pub async fn job_log_tail(
    db: &Db,
    job_id: i64,
    limit: i64,
) -> Result<(Vec<LogEntry>, bool), sqlx::Error> {
    let mut rows: Vec<LogEntry> = sqlx::query_as(
        "SELECT seq, at, step, level, message FROM job_log WHERE job_id = ? \
         ORDER BY seq DESC LIMIT ?",
    )
    .bind(job_id)
    .bind(limit + 1)
    .fetch_all(db)
    .await?;
    let cut = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    rows.reverse();
    Ok((rows, cut))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::dashboard::{DashboardCounts, dashboard_counts};

    #[tokio::test]
    async fn every_jobs_page_is_one_index_range_scan() {
        let (_dir, db) = crate::db::test_db().await;
        let cursor = Cursor {
            at: "2026-01-01T00:00:00.000Z".into(),
            id: 5,
        };
        for (filter, index) in [
            (JobFilter::default(), "jobs_by_created"),
            (
                JobFilter {
                    deployment: Some("d".into()),
                    ..JobFilter::default()
                },
                "jobs_by_deployment",
            ),
            (
                JobFilter {
                    user: Some("u".into()),
                    ..JobFilter::default()
                },
                "jobs_by_user",
            ),
            (
                JobFilter {
                    status: Some("failed".into()),
                    ..JobFilter::default()
                },
                "jobs_by_status",
            ),
        ] {
            // The statement jobs_page runs, explained.
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("EXPLAIN QUERY PLAN ");
            push_jobs_page(&mut q, &filter, Some(&cursor), 51);
            let plan: Vec<(i64, i64, i64, String)> =
                q.build_query_as().fetch_all(&db).await.unwrap();
            let text: String = plan
                .iter()
                .map(|p| p.3.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            assert!(text.contains(index), "{filter:?}: {text}");
            assert!(!text.contains("TEMP B-TREE"), "{filter:?} sorts: {text}");
        }
        // And the functions run.
        assert!(
            jobs_page(&db, &JobFilter::default(), Some(&cursor), 50)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            dashboard_counts(&db).await.unwrap(),
            DashboardCounts {
                users: 0,
                active_jobs: 0
            }
        );
    }
}
