//! The dashboard's own tables: the last observed live facts of each deployment and the drift
//! checks.

use super::Db;
use sqlx::FromRow;

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

#[cfg(test)]
mod tests {
    use super::*;

    async fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        crate::db::migrate(&db).await.unwrap();
        (dir, db)
    }

    #[tokio::test]
    async fn live_facts_are_replaced_and_drift_checks_kept() {
        let (_dir, db) = db().await;
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
