//! `drift_checks`: each comparison of a deployment's applied spec with the live cloud.

use super::Db;
use sqlx::FromRow;

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

/// Live deployments with no queued or running job: those a periodic check may read.
pub async fn deployments_without_active_job(db: &Db) -> Result<Vec<i64>, sqlx::Error> {
    let ids: Vec<(i64,)> = sqlx::query_as(
        "SELECT d.id FROM deployments d WHERE d.deleted_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.deployment = CAST(d.id AS TEXT) \
                         AND j.status IN ('queued', 'running')) ORDER BY d.id",
    )
    .fetch_all(db)
    .await?;
    Ok(ids.into_iter().map(|r| r.0).collect())
}

/// Deployments whose last succeeded job is an apply that finished after their live facts were
/// last read.
pub async fn applied_since_last_check(db: &Db) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT d.id FROM deployments d \
         JOIN jobs s ON s.id = (SELECT s2.id FROM jobs s2 \
             WHERE s2.deployment = CAST(d.id AS TEXT) AND +s2.status = 'succeeded' \
             ORDER BY s2.created_at DESC, s2.id DESC LIMIT 1) \
         LEFT JOIN deployment_live l ON l.deployment_id = d.id \
         WHERE d.deleted_at IS NULL AND s.kind = 'apply' \
           AND (l.checked_at IS NULL OR l.checked_at < s.finished_at)",
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::live_facts::{live, set_live};

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
