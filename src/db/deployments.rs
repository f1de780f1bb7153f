//! Deployments, their saved versions and the edits refused by optimistic locking.

use super::Db;
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct DeploymentRow {
    pub id: i64,
    pub name: String,
    pub spec: String,
    pub version: i64,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct VersionRow {
    pub version: i64,
    pub spec: String,
    pub author: String,
    pub created_at: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct ConflictRow {
    pub id: i64,
    pub based_on: i64,
    pub spec: String,
    pub author: String,
    pub created_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("deployment not found")]
    NotFound,
    #[error("a deployment named {0:?} already exists")]
    NameTaken(String),
    /// Another save came first; the refused edit was kept as conflict `conflict_id`.
    #[error("version {expected} is no longer current: {current_by} saved version {current} first")]
    Stale {
        expected: i64,
        current: i64,
        current_by: String,
        conflict_id: i64,
    },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

// The table's applied_spec and applied_version columns (0007) are no longer written: what is
// applied is read from the jobs (`deploy::applied_spec`).
const COLUMNS: &str = "id, name, spec, version, created_by, updated_by, created_at, updated_at";

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

pub async fn create(
    db: &Db,
    name: &str,
    spec: &str,
    author: &str,
) -> Result<DeploymentRow, SaveError> {
    let mut tx = db.begin().await?;
    let row: DeploymentRow = sqlx::query_as(&format!(
        "INSERT INTO deployments (name, spec, created_by, updated_by) VALUES (?, ?, ?, ?) RETURNING {COLUMNS}"
    ))
    .bind(name)
    .bind(spec)
    .bind(author)
    .bind(author)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            SaveError::NameTaken(name.to_string())
        } else {
            SaveError::Db(e)
        }
    })?;
    sqlx::query("INSERT INTO deployment_versions (deployment_id, version, spec, author) VALUES (?, 1, ?, ?)")
        .bind(row.id)
        .bind(spec)
        .bind(author)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<DeploymentRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM deployments WHERE id = ? AND deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn list(db: &Db) -> Result<Vec<DeploymentRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM deployments WHERE deleted_at IS NULL ORDER BY updated_at DESC, id DESC"
    ))
    .fetch_all(db)
    .await
}

/// The id and name of every live deployment.
pub async fn names(db: &Db) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, name FROM deployments WHERE deleted_at IS NULL ORDER BY name")
        .fetch_all(db)
        .await
}

/// Saves `spec` as the next version if `expected_version` is still current. Otherwise nothing
/// is overwritten: the refused edit is stored as a conflict so its author can recover it.
pub async fn update(
    db: &Db,
    id: i64,
    expected_version: i64,
    name: &str,
    spec: &str,
    author: &str,
) -> Result<DeploymentRow, SaveError> {
    let mut tx = db.begin().await?;
    let updated: Option<DeploymentRow> = sqlx::query_as(&format!(
        "UPDATE deployments SET name = ?, spec = ?, version = version + 1, updated_by = ?, \
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
         WHERE id = ? AND version = ? AND deleted_at IS NULL RETURNING {COLUMNS}"
    ))
    .bind(name)
    .bind(spec)
    .bind(author)
    .bind(id)
    .bind(expected_version)
    .fetch_optional(&mut *tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            SaveError::NameTaken(name.to_string())
        } else {
            SaveError::Db(e)
        }
    })?;
    match updated {
        Some(row) => {
            sqlx::query(
                "INSERT INTO deployment_versions (deployment_id, version, spec, author) VALUES (?, ?, ?, ?)",
            )
            .bind(row.id)
            .bind(row.version)
            .bind(spec)
            .bind(author)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(row)
        }
        None => {
            let current: Option<(i64, String)> = sqlx::query_as(
                "SELECT version, updated_by FROM deployments WHERE id = ? AND deleted_at IS NULL",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((current, current_by)) = current else {
                return Err(SaveError::NotFound);
            };
            let (conflict_id,): (i64,) = sqlx::query_as(
                "INSERT INTO deployment_conflicts (deployment_id, based_on, spec, author) \
                 VALUES (?, ?, ?, ?) RETURNING id",
            )
            .bind(id)
            .bind(expected_version)
            .bind(spec)
            .bind(author)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Err(SaveError::Stale {
                expected: expected_version,
                current,
                current_by,
                conflict_id,
            })
        }
    }
}

/// Replaces the draft kept in conflict copy `conflict_id` (of deployment `id`, by `author`):
/// a tab that lost an edit war goes on saving into its one copy instead of a new copy per
/// keystroke. False when there is no such copy.
pub async fn update_conflict(
    db: &Db,
    id: i64,
    conflict_id: i64,
    author: &str,
    spec: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE deployment_conflicts SET spec = ? WHERE id = ? AND deployment_id = ? AND author = ?",
    )
    .bind(spec)
    .bind(conflict_id)
    .bind(id)
    .bind(author)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the deployment deleted; its versions stay for the history. Nothing happens (false)
/// while it has a job queued or running or may have resources in the cloud: the guard is part
/// of the statement, so a job started a moment earlier cannot slip past it.
pub async fn delete(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(&format!(
        "UPDATE deployments SET deleted_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
         WHERE id = ? AND deleted_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.deployment = CAST(deployments.id AS TEXT) \
             AND j.status IN ('queued', 'running')) \
         AND NOT EXISTS (SELECT 1 FROM jobs a WHERE {})",
        super::jobs::may_own_resources("CAST(deployments.id AS TEXT)")
    ))
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn versions(db: &Db, id: i64) -> Result<Vec<VersionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT version, spec, author, created_at FROM deployment_versions \
         WHERE deployment_id = ? ORDER BY version DESC",
    )
    .bind(id)
    .fetch_all(db)
    .await
}

pub async fn conflicts(db: &Db, id: i64) -> Result<Vec<ConflictRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, based_on, spec, author, created_at FROM deployment_conflicts \
         WHERE deployment_id = ? ORDER BY id DESC",
    )
    .bind(id)
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stale_save_is_refused_and_kept() {
        let (_dir, db) = crate::db::test_db().await;
        let d = create(&db, "shop", "{\"v\":1}", "ann").await.unwrap();
        assert_eq!(d.version, 1);
        let second = update(&db, d.id, 1, "shop", "{\"v\":2}", "bob")
            .await
            .unwrap();
        assert_eq!(second.version, 2);
        match update(&db, d.id, 1, "shop", "{\"v\":\"ann\"}", "ann").await {
            Err(SaveError::Stale {
                current: 2,
                current_by,
                conflict_id,
                ..
            }) => {
                assert_eq!(current_by, "bob");
                let kept = conflicts(&db, d.id).await.unwrap();
                assert_eq!(kept[0].id, conflict_id);
                assert_eq!(kept[0].spec, "{\"v\":\"ann\"}");
            }
            other => panic!("expected a stale save, got {other:?}"),
        }
        let current = get(&db, d.id).await.unwrap().unwrap();
        assert_eq!(current.spec, "{\"v\":2}");
        assert_eq!(versions(&db, d.id).await.unwrap().len(), 2);
    }

    async fn job(db: &Db, id: i64, kind: &str, steps: usize) -> i64 {
        use crate::db::jobs::{NewJob, NewStep, create_job};
        let steps = (0..steps)
            .map(|i| NewStep {
                step_id: format!("s{i}"),
                action: "create".into(),
                resource: format!("r{i}"),
                depends_on: Vec::new(),
                request: serde_json::json!({}),
            })
            .collect();
        create_job(
            db,
            &NewJob {
                deployment: crate::db::jobs::deployment_key(id),
                kind: kind.into(),
                spec: serde_json::json!({}),
                plan: serde_json::json!({}),
                created_by: "ann".into(),
                steps,
            },
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn deleting_waits_for_jobs_and_for_a_destroy() {
        use crate::db::jobs::{JobWrite, finish_job, resource_jobs, write};
        let (_dir, db) = crate::db::test_db().await;
        let d = create(&db, "shop", "{}", "ann").await.unwrap();

        // An apply that failed before its first step left nothing behind.
        let nothing = job(&db, d.id, "apply", 2).await;
        assert!(!delete(&db, d.id).await.unwrap(), "queued");
        finish_job(&db, nothing, "failed", Some("no"))
            .await
            .unwrap();
        assert!(resource_jobs(&db, d.id).await.unwrap().is_empty());

        // One that got as far as a step may have created something.
        let partial = job(&db, d.id, "apply", 2).await;
        let steps = [
            JobWrite::StepsStarted { idxs: vec![0] },
            JobWrite::StepFinished {
                idx: 0,
                status: "failed",
                error: Some("no".into()),
            },
        ];
        assert!(write(&db, partial, &steps).await.unwrap());
        finish_job(&db, partial, "failed", Some("no"))
            .await
            .unwrap();
        let applied = job(&db, d.id, "apply", 0).await;
        finish_job(&db, applied, "succeeded", None).await.unwrap();
        let ids: Vec<i64> = resource_jobs(&db, d.id)
            .await
            .unwrap()
            .iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(ids, [applied, partial]);
        assert!(!delete(&db, d.id).await.unwrap(), "applied");

        // A failed destroy may have left things; a succeeded one took everything.
        let failed = job(&db, d.id, "destroy", 0).await;
        finish_job(&db, failed, "failed", Some("no")).await.unwrap();
        assert!(!delete(&db, d.id).await.unwrap(), "not destroyed");
        let destroyed = job(&db, d.id, "destroy", 0).await;
        finish_job(&db, destroyed, "succeeded", None).await.unwrap();
        assert!(resource_jobs(&db, d.id).await.unwrap().is_empty());
        assert!(delete(&db, d.id).await.unwrap());
        assert!(get(&db, d.id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn names_are_unique_among_live_deployments() {
        let (_dir, db) = crate::db::test_db().await;
        let d = create(&db, "shop", "{}", "ann").await.unwrap();
        assert!(matches!(
            create(&db, "shop", "{}", "bob").await,
            Err(SaveError::NameTaken(_))
        ));
        assert!(delete(&db, d.id).await.unwrap());
        create(&db, "shop", "{}", "bob").await.unwrap();
    }
}
