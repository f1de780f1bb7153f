//! `forgotten_deployments` (migration 0015): deployments taken off the panel with their
//! resources left running, and what those resources were.

use super::Db;
use sqlx::FromRow;

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ForgottenRow {
    pub id: i64,
    pub deployment_id: i64,
    pub name: String,
    pub project: String,
    pub spec: String,
    /// JSON array of resource paths.
    pub resources: String,
    pub job_id: Option<i64>,
    pub forgotten_by: String,
    pub forgotten_at: String,
}

impl ForgottenRow {
    pub fn resource_paths(&self) -> Vec<String> {
        serde_json::from_str(&self.resources).unwrap_or_default()
    }
}

/// What forgetting records.
pub struct NewForgotten<'a> {
    pub deployment_id: i64,
    pub name: &'a str,
    pub project: &'a str,
    pub spec: &'a str,
    pub resources: &'a [String],
    pub job_id: Option<i64>,
    pub forgotten_by: &'a str,
}

const COLUMNS: &str =
    "id, deployment_id, name, project, spec, resources, job_id, forgotten_by, forgotten_at";

/// Marks the deployment deleted and keeps the record, in one transaction; `None` (and nothing
/// written) when the deployment is gone or a job of it is queued or running.
pub async fn forget(db: &Db, f: &NewForgotten<'_>) -> Result<Option<ForgottenRow>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE deployments SET deleted_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
         WHERE id = ? AND deleted_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.deployment = CAST(deployments.id AS TEXT) \
             AND j.status IN ('queued', 'running'))",
    )
    .bind(f.deployment_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(None);
    }
    let resources = serde_json::to_string(f.resources).expect("strings always serialise");
    let row: ForgottenRow = sqlx::query_as(&format!(
        "INSERT INTO forgotten_deployments \
         (deployment_id, name, project, spec, resources, job_id, forgotten_by) \
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
    ))
    .bind(f.deployment_id)
    .bind(f.name)
    .bind(f.project)
    .bind(f.spec)
    .bind(resources)
    .bind(f.job_id)
    .bind(f.forgotten_by)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(row))
}

/// The forgotten deployments whose resources are in `project`, oldest first.
pub async fn in_project(db: &Db, project: &str) -> Result<Vec<ForgottenRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM forgotten_deployments WHERE project = ? ORDER BY forgotten_at, id"
    ))
    .bind(project)
    .fetch_all(db)
    .await
}

/// Takes `paths` out of the records of the deployments forgotten in `project`: adopting a
/// load balancer a forgotten deployment left running is taking those resources back on
/// purpose. A record left with nothing is deleted (the audit log keeps the forgetting), since
/// plans read a record as claiming whatever of its name was made before it. Returns the names
/// of the records that held any of them.
pub async fn reclaim(db: &Db, project: &str, paths: &[String]) -> Result<Vec<String>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let rows: Vec<ForgottenRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM forgotten_deployments WHERE project = ? ORDER BY id"
    ))
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    let mut names = Vec::new();
    for row in rows {
        let before = row.resource_paths();
        let kept: Vec<String> = before
            .iter()
            .filter(|p| !paths.contains(p))
            .cloned()
            .collect();
        if kept.len() == before.len() {
            continue;
        }
        if kept.is_empty() {
            sqlx::query("DELETE FROM forgotten_deployments WHERE id = ?")
                .bind(row.id)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("UPDATE forgotten_deployments SET resources = ? WHERE id = ?")
                .bind(serde_json::to_string(&kept).expect("strings always serialise"))
                .bind(row.id)
                .execute(&mut *tx)
                .await?;
        }
        names.push(row.name);
    }
    tx.commit().await?;
    Ok(names)
}

/// Every forgotten deployment, newest first.
pub async fn list(db: &Db) -> Result<Vec<ForgottenRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM forgotten_deployments ORDER BY forgotten_at DESC, id DESC"
    ))
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn forgetting_deletes_the_row_and_keeps_the_record() {
        let (_dir, db) = crate::db::test_db().await;
        let d = crate::db::deployments::create(&db, "shop", "{}", "ann")
            .await
            .unwrap();
        let paths = vec!["projects/p/global/urlMaps/shop-urlmap".to_string()];
        let f = NewForgotten {
            deployment_id: d.id,
            name: "shop",
            project: "p",
            spec: "{}",
            resources: &paths,
            job_id: None,
            forgotten_by: "ann",
        };
        let row = forget(&db, &f).await.unwrap().unwrap();
        assert_eq!(row.resource_paths(), paths);
        assert!(
            crate::db::deployments::get(&db, d.id)
                .await
                .unwrap()
                .is_none()
        );
        assert!(forget(&db, &f).await.unwrap().is_none(), "forgotten once");
        assert_eq!(in_project(&db, "p").await.unwrap(), vec![row.clone()]);
        assert!(in_project(&db, "q").await.unwrap().is_empty());
        assert_eq!(list(&db).await.unwrap(), vec![row]);
        // The name is free again.
        crate::db::deployments::create(&db, "shop", "{}", "bob")
            .await
            .unwrap();
    }
}
