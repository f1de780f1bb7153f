//! Promotions of gated rollout stages (`rollout_promotions`) and what each stage measured when
//! it was judged (`rollout_measurements`).

use super::Db;

/// Promotes the `soak` step of job `job_id` that is running now. Returns the step's index, or
/// `None` when no stage of the job is holding.
pub async fn promote_running(db: &Db, job_id: i64, by: &str) -> Result<Option<i64>, sqlx::Error> {
    let step: Option<(i64,)> = sqlx::query_as(
        "SELECT idx FROM job_steps WHERE job_id = ? AND action = 'soak' AND status = 'running' \
         ORDER BY idx LIMIT 1",
    )
    .bind(job_id)
    .fetch_optional(db)
    .await?;
    let Some((idx,)) = step else {
        return Ok(None);
    };
    sqlx::query(
        "INSERT INTO rollout_promotions (job_id, idx, promoted_by) VALUES (?, ?, ?) \
         ON CONFLICT (job_id, idx) DO NOTHING",
    )
    .bind(job_id)
    .bind(idx)
    .bind(by)
    .execute(db)
    .await?;
    Ok(Some(idx))
}

/// Who promoted step `idx` of job `job_id`, if anyone did.
pub async fn promoted_by(db: &Db, job_id: i64, idx: i64) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT promoted_by FROM rollout_promotions WHERE job_id = ? AND idx = ?")
            .bind(job_id)
            .bind(idx)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(b,)| b))
}

/// Keeps what step `idx` of job `job_id` measured (JSON), replacing an earlier attempt's.
pub async fn record_measurement(
    db: &Db,
    job_id: i64,
    idx: i64,
    series: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO rollout_measurements (job_id, idx, series) VALUES (?, ?, ?) \
         ON CONFLICT (job_id, idx) DO UPDATE SET series = excluded.series",
    )
    .bind(job_id)
    .bind(idx)
    .bind(series)
    .execute(db)
    .await?;
    Ok(())
}

/// What step `idx` of job `job_id` measured, if it got as far as judging.
pub async fn measurement(db: &Db, job_id: i64, idx: i64) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT series FROM rollout_measurements WHERE job_id = ? AND idx = ?")
            .bind(job_id)
            .bind(idx)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(s,)| s))
}
