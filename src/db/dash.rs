//! The dashboard's own tables: the last observed live facts of each deployment and the drift
//! checks.

use super::Db;
use super::audit::Cursor;
use sqlx::{FromRow, QueryBuilder, Sqlite};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct LiveRow {
    pub deployment_id: i64,
    pub ip: Option<String>,
    pub certificate: Option<String>,
    pub cert_status: Option<String>,
    /// JSON object: domain → status.
    pub domain_status: String,
    pub checked_at: String,
}

impl LiveRow {
    /// The status Google reported for `domain`, if any.
    pub fn domain(&self, domain: &str) -> Option<String> {
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&self.domain_status).unwrap_or_default();
        map.iter()
            .find(|(d, _)| {
                d.trim_end_matches('.')
                    .eq_ignore_ascii_case(domain.trim_end_matches('.'))
            })
            .and_then(|(_, v)| v.as_str().map(str::to_string))
    }
}

pub async fn live(db: &Db, deployment_id: i64) -> Result<Option<LiveRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT deployment_id, ip, certificate, cert_status, domain_status, checked_at \
         FROM deployment_live WHERE deployment_id = ?",
    )
    .bind(deployment_id)
    .fetch_optional(db)
    .await
}

/// Replaces what is known about the deployment's live resources.
pub async fn set_live(
    db: &Db,
    deployment_id: i64,
    ip: Option<&str>,
    certificate: Option<&str>,
    cert_status: Option<&str>,
    domain_status: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO deployment_live (deployment_id, ip, certificate, cert_status, domain_status, checked_at) \
         VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) \
         ON CONFLICT (deployment_id) DO UPDATE SET ip = excluded.ip, certificate = excluded.certificate, \
         cert_status = excluded.cert_status, domain_status = excluded.domain_status, checked_at = excluded.checked_at",
    )
    .bind(deployment_id)
    .bind(ip)
    .bind(certificate)
    .bind(cert_status)
    .bind(domain_status.to_string())
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct DriftRow {
    pub id: i64,
    pub deployment_id: i64,
    pub at: String,
    pub requested_by: String,
    pub applied_version: Option<i64>,
    /// `in_sync`, `drifted` or `error`.
    pub result: String,
    /// JSON array of differences.
    pub differences: String,
    pub error: Option<String>,
}

const DRIFT_COLUMNS: &str =
    "id, deployment_id, at, requested_by, applied_version, result, differences, error";

pub async fn insert_drift(
    db: &Db,
    deployment_id: i64,
    requested_by: &str,
    applied_version: Option<i64>,
    result: &str,
    differences: &serde_json::Value,
    error: Option<&str>,
) -> Result<DriftRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "INSERT INTO drift_checks (deployment_id, requested_by, applied_version, result, differences, error) \
         VALUES (?, ?, ?, ?, ?, ?) RETURNING {DRIFT_COLUMNS}"
    ))
    .bind(deployment_id)
    .bind(requested_by)
    .bind(applied_version)
    .bind(result)
    .bind(differences.to_string())
    .bind(error)
    .fetch_one(db)
    .await
}

pub async fn latest_drift(db: &Db, deployment_id: i64) -> Result<Option<DriftRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {DRIFT_COLUMNS} FROM drift_checks WHERE deployment_id = ? ORDER BY id DESC LIMIT 1"
    ))
    .bind(deployment_id)
    .fetch_optional(db)
    .await
}

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
     l.ip, l.cert_status, l.domain_status, \
     j.id AS job_id, j.kind AS job_kind, j.status AS job_status, j.created_by AS job_by, \
     j.created_at AS job_at, j.finished_at AS job_finished_at, \
     dc.result AS drift, dc.at AS drift_at \
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

/// The spec of the deployment's last succeeded job when that job was an apply: what is deployed
/// (the same rule as `deploy::applied_spec`), with when it finished.
pub async fn applied_spec(
    db: &Db,
    deployment_id: i64,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    let row: Option<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT kind, spec, finished_at FROM jobs WHERE deployment = ? AND +status = 'succeeded' \
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(crate::deploy::job_key(deployment_id))
    .fetch_optional(db)
    .await?;
    Ok(row
        .filter(|(kind, _, _)| kind == "apply")
        .map(|(_, spec, at)| (spec, at)))
}

pub async fn job(db: &Db, id: i64) -> Result<Option<JobSummary>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {JOB_SUMMARY} {JOBS_FROM} WHERE j.id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await
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
}

pub async fn job_steps(db: &Db, job_id: i64) -> Result<Vec<StepSummary>, sqlx::Error> {
    sqlx::query_as(
        "SELECT idx, step_id, action, resource, status, operation, started_at, finished_at, error \
         FROM job_steps WHERE job_id = ? ORDER BY idx",
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

/// The live deployment with this name (jobs name their deployment), if any.
pub async fn deployment_id_by_name(db: &Db, name: &str) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM deployments WHERE name = ? AND deleted_at IS NULL")
            .bind(name)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|r| r.0))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[tokio::test]
    async fn live_facts_are_replaced_and_drift_checks_kept() {
        let (_dir, db) = crate::db::test_db().await;
        let d = crate::db::deployments::create(&db, "shop", "{}", "ann")
            .await
            .unwrap();
        assert!(live(&db, d.id).await.unwrap().is_none());
        set_live(&db, d.id, None, Some("c1"), None, &serde_json::json!({}))
            .await
            .unwrap();
        set_live(
            &db,
            d.id,
            Some("203.0.113.7"),
            Some("c1"),
            Some("PROVISIONING"),
            &serde_json::json!({"Shop.example.com.": "FAILED_NOT_VISIBLE"}),
        )
        .await
        .unwrap();
        let l = live(&db, d.id).await.unwrap().unwrap();
        assert_eq!(l.ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(
            l.domain("shop.example.com").as_deref(),
            Some("FAILED_NOT_VISIBLE")
        );
        assert_eq!(l.domain("other.example.com"), None);

        insert_drift(
            &db,
            d.id,
            "(schedule)",
            Some(1),
            "in_sync",
            &serde_json::json!([]),
            None,
        )
        .await
        .unwrap();
        let second = insert_drift(
            &db,
            d.id,
            "ann",
            Some(1),
            "drifted",
            &serde_json::json!([{"action": "update"}]),
            None,
        )
        .await
        .unwrap();
        assert_eq!(latest_drift(&db, d.id).await.unwrap().unwrap(), second);
    }
}
