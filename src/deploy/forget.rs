//! Nothing orphaned: a deployment with resources in the cloud is not deleted, renamed or moved
//! to another project (each would leave those resources to nobody); it is destroyed first, or
//! forgotten on purpose, which keeps a record of what it left running. That record, and the
//! panel's other deployments, are what plans check resources named like theirs against.

use super::{DeployError, Deployer};
use crate::db::{self, Db, deployments::DeploymentRow, forgotten::ForgottenRow, jobs::JobRow};
use crate::domain::plan::{self, OtherDeployment, Whose};
use crate::domain::spec::Spec;

fn sql(e: sqlx::Error) -> DeployError {
    DeployError::Db(e.into())
}

/// The newest apply that may have left resources in the cloud, if any (`db::jobs::resource_jobs`).
async fn newest_resource_job(db: &Db, deployment_id: i64) -> Result<Option<JobRow>, DeployError> {
    Ok(db::jobs::resource_jobs(db, deployment_id)
        .await
        .map_err(sql)?
        .into_iter()
        .next())
}

/// Refuses a save that gives a deployment with resources in the cloud another `name` or
/// `project`: its resources are found by name and project, so the next apply would create a
/// second load balancer and leave the first one running with nobody to destroy it.
pub async fn refuse_moving_applied(
    db: &Db,
    deployment_id: i64,
    name: &str,
    project: &str,
) -> Result<(), DeployError> {
    let Some(job) = newest_resource_job(db, deployment_id).await? else {
        return Ok(());
    };
    let applied: serde_json::Value = serde_json::from_str(&job.spec).unwrap_or_default();
    let was = |key: &str| applied[key].as_str().unwrap_or_default().to_string();
    refuse_move(&was("name"), &was("project"), name, project)
}

/// The refusal of [`refuse_moving_applied`] for a deployment applied as `old_name` in
/// `old_project` (either empty when unknown).
pub(super) fn refuse_move(
    old_name: &str,
    old_project: &str,
    name: &str,
    project: &str,
) -> Result<(), DeployError> {
    if !old_name.is_empty() && old_name != name {
        return Err(DeployError::Moved {
            field: "name",
            message: format!(
                "this deployment is applied as {old_name}; destroy it first, or create a new deployment"
            ),
        });
    }
    if !old_project.is_empty() && old_project != project {
        return Err(DeployError::Moved {
            field: "project",
            message: format!(
                "this deployment is applied in project {old_project}; destroy it first, or create a new deployment"
            ),
        });
    }
    Ok(())
}

impl Deployer {
    /// The panel's deployments other than `row` and the forgotten ones of `project` (the one
    /// planned in), for `plan::claim_others`.
    pub(super) async fn others(
        &self,
        row: &DeploymentRow,
        project: &str,
    ) -> Result<Vec<OtherDeployment>, DeployError> {
        let mut out: Vec<OtherDeployment> = db::deployments::names(&self.db)
            .await
            .map_err(sql)?
            .into_iter()
            .filter(|(id, _)| *id != row.id)
            .map(|(_, name)| OtherDeployment {
                name,
                project: String::new(),
                whose: Whose::Panel,
            })
            .collect();
        for f in db::forgotten::in_project(&self.db, project)
            .await
            .map_err(sql)?
        {
            out.push(OtherDeployment {
                whose: Whose::Forgotten {
                    resources: f.resource_paths(),
                    by: f.forgotten_by,
                    at: f.forgotten_at,
                },
                name: f.name,
                project: f.project,
            });
        }
        Ok(out)
    }

    /// Why the deployment cannot be deleted now, if it cannot.
    async fn refuse_delete(&self, row: &DeploymentRow) -> Result<(), DeployError> {
        self.refuse_if_busy(row.id).await?;
        if let Some(job) = newest_resource_job(&self.db, row.id).await? {
            return Err(DeployError::Deployed {
                name: row.name.clone(),
                job_id: job.id,
            });
        }
        Ok(())
    }

    /// Deletes the deployment unless a job of it is queued or running or it may have resources
    /// in the cloud.
    pub async fn delete(&self, row: &DeploymentRow) -> Result<(), DeployError> {
        self.refuse_delete(row).await?;
        if db::deployments::delete(&self.db, row.id)
            .await
            .map_err(sql)?
        {
            return Ok(());
        }
        // A job started between the check and the guarded statement: say which.
        self.refuse_delete(row).await?;
        Err(DeployError::NotFound)
    }

    /// Takes the deployment off the panel and leaves its resources running, keeping a record of
    /// them (which blocks any plan that would touch them). `confirm` is the name, typed.
    pub async fn forget(
        &self,
        row: &DeploymentRow,
        confirm: &str,
        user: &str,
    ) -> Result<ForgottenRow, DeployError> {
        if confirm.trim() != row.name {
            return Err(DeployError::NotConfirmed(row.name.clone()));
        }
        self.refuse_if_busy(row.id).await?;
        let jobs = db::jobs::resource_jobs(&self.db, row.id)
            .await
            .map_err(sql)?;
        let Some(newest) = jobs.first() else {
            return Err(DeployError::NothingToForget(row.name.clone()));
        };
        let mut resources: Vec<String> = jobs
            .iter()
            .filter_map(|j| serde_json::from_str::<Spec>(&j.spec).ok())
            .flat_map(|s| plan::compile(&s).resources)
            .map(|r| r.id)
            .collect();
        resources.sort();
        resources.dedup();
        let project = match project_of(&newest.spec) {
            p if p.is_empty() => project_of(&row.spec),
            p => p,
        };
        let record = db::forgotten::forget(
            &self.db,
            &db::forgotten::NewForgotten {
                deployment_id: row.id,
                name: &row.name,
                project: &project,
                spec: &newest.spec,
                resources: &resources,
                job_id: Some(newest.id),
                forgotten_by: user,
            },
        )
        .await
        .map_err(sql)?;
        match record {
            Some(r) => Ok(r),
            None => {
                self.refuse_if_busy(row.id).await?;
                Err(DeployError::NotFound)
            }
        }
    }
}

/// A spec document's project, read leniently (a draft may be incomplete).
fn project_of(spec: &str) -> String {
    serde_json::from_str::<serde_json::Value>(spec)
        .ok()
        .and_then(|v| v["project"].as_str().map(str::to_string))
        .unwrap_or_default()
}
