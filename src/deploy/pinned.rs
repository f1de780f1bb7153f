//! Pinned plans: the plan a person reviewed is the plan that runs.
//!
//! Planning stores a record (draft version, a digest of the live state read, the actions and
//! steps, who and when). Applying names that record and is refused when the draft has a newer
//! version, when the plan expired or already ran, when its risks were not accepted, or when the
//! cloud, read again right before the job starts, would make the plan come out differently.

use super::{DeployError, Deployer, Planned};
use crate::db::{self, deployments::DeploymentRow, plans::PlanRow};
use crate::domain::plan;
use serde_json::{Value, json};

/// What a plan is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanKind {
    Apply,
    /// `services`: also delete the Cloud Run services the spec deploys.
    Destroy {
        services: bool,
    },
}

impl PlanKind {
    pub fn name(&self) -> &'static str {
        match self {
            PlanKind::Apply => "apply",
            PlanKind::Destroy { .. } => "destroy",
        }
    }
}

/// A stored plan with the plan itself, for the pages.
pub struct PinnedPlan {
    pub record: PlanRow,
    /// The plan JSON of the API: actions, counts, risks, conflicts, warnings, plus `plan_id`,
    /// `version`, `kind` and `expires_at`.
    pub json: Value,
    pub planned: Planned,
}

impl Deployer {
    async fn fresh(&self, row: &DeploymentRow, kind: PlanKind) -> Result<Planned, DeployError> {
        match kind {
            PlanKind::Apply => self.plan(row).await,
            PlanKind::Destroy { services } => self.destroy_plan(row, services).await,
        }
    }

    /// Plans against the live cloud and stores the plan so that it can be applied as reviewed.
    pub async fn pin(
        &self,
        row: &DeploymentRow,
        kind: PlanKind,
        user: &str,
    ) -> Result<PinnedPlan, DeployError> {
        let planned = self.fresh(row, kind).await?;
        // A blocked plan is stored too (the page shows why); applying it is refused.
        let steps = plan::steps(&planned.plan).unwrap_or_default();
        let id = uuid::Uuid::new_v4().to_string();
        let mut body = planned.plan.api_json();
        body["plan_id"] = json!(id);
        body["kind"] = json!(kind.name());
        body["version"] = json!(row.version);
        let services = matches!(kind, PlanKind::Destroy { services: true });
        if matches!(kind, PlanKind::Destroy { .. }) {
            body["services"] = json!(services);
        }
        let record = db::plans::insert(
            &self.db,
            &db::plans::NewPlan {
                id: &id,
                deployment_id: row.id,
                kind: kind.name(),
                version: row.version,
                services,
                live_digest: &planned.live_digest,
                plan: &body.to_string(),
                steps: &serde_json::to_string(&steps).expect("steps always serialise"),
                created_by: user,
                ttl_secs: self.plan_ttl_secs,
            },
        )
        .await
        .map_err(db::jobs::JobsDbError::from)?;
        body["created_by"] = json!(record.created_by);
        body["created_at"] = json!(record.created_at);
        body["expires_at"] = json!(record.expires_at);
        Ok(PinnedPlan {
            record,
            json: body,
            planned,
        })
    }

    /// Starts exactly the stored plan `plan_id`, or says why it no longer can.
    pub async fn apply_pinned(
        &self,
        row: &DeploymentRow,
        asked: &str,
        plan_id: &str,
        accept_risks: bool,
        user: &str,
    ) -> Result<i64, DeployError> {
        let record = db::plans::get(&self.db, plan_id)
            .await
            .map_err(db::jobs::JobsDbError::from)?
            .filter(|p| p.deployment_id == row.id)
            .ok_or_else(|| DeployError::PlanNotFound(plan_id.to_string()))?;
        if record.kind != asked {
            return Err(DeployError::PlanKind {
                plan: record.kind,
                asked: asked.to_string(),
            });
        }
        if let Some(job) = record.job_id {
            return Err(DeployError::PlanStale(format!(
                "plan {plan_id} already ran as job {job}; plan again"
            )));
        }
        let now = db::plans::now(&self.db)
            .await
            .map_err(db::jobs::JobsDbError::from)?;
        if record.is_expired(&now) {
            return Err(DeployError::PlanStale(format!(
                "plan {plan_id} expired at {}; plan again",
                record.expires_at
            )));
        }
        if record.version != row.version {
            return Err(DeployError::PlanStale(format!(
                "the draft changed since this plan was made: plan {plan_id} is of version {}, the draft is now at version {}; plan again and review the new plan",
                record.version, row.version
            )));
        }
        self.refuse_if_busy(row.id).await?;
        let stored: Value =
            serde_json::from_str(&record.plan).map_err(db::jobs::JobsDbError::from)?;
        let risks: Vec<String> = stored["risks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["message"].as_str().map(String::from))
            .collect();
        if !risks.is_empty() && !accept_risks {
            return Err(DeployError::RisksNotAccepted(risks));
        }
        let kind = if record.kind == "destroy" {
            PlanKind::Destroy {
                services: record.services,
            }
        } else {
            PlanKind::Apply
        };
        let planned = self.fresh(row, kind).await?;
        let moved = moved_resources(&stored["actions"], &planned.plan.api_json()["actions"]);
        if !moved.is_empty() {
            return Err(DeployError::PlanStale(format!(
                "the live resources changed since plan {plan_id} was made ({}): plan again and review the new plan",
                moved.join(", ")
            )));
        }
        let steps = plan::steps(&planned.plan).map_err(DeployError::Blocked)?;
        let job_kind = match kind {
            PlanKind::Apply => crate::jobs::JobKind::Apply,
            PlanKind::Destroy { .. } => crate::jobs::JobKind::Destroy,
        };
        let id = self
            .start(row, job_kind, &planned, stored, steps, user)
            .await?;
        db::plans::mark_run(&self.db, plan_id, id)
            .await
            .map_err(db::jobs::JobsDbError::from)?;
        Ok(id)
    }
}

/// The resources whose planned action or diff differ between two plans' `actions`, in words
/// (`update projects/p/global/backendServices/b`).
fn moved_resources(before: &Value, after: &Value) -> Vec<String> {
    let index = |v: &Value| -> std::collections::BTreeMap<String, Value> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| Some((a["resource"].as_str()?.to_string(), a.clone())))
            .collect()
    };
    let (b, a) = (index(before), index(after));
    let mut out = Vec::new();
    for (resource, was) in &b {
        match a.get(resource) {
            None => out.push(format!("{resource} is no longer in the plan")),
            Some(now) if now["action"] != was["action"] => out.push(format!(
                "{resource}: {} in the plan, {} now",
                was["action"].as_str().unwrap_or("?"),
                now["action"].as_str().unwrap_or("?")
            )),
            Some(now) if now["diff"] != was["diff"] => {
                out.push(format!("{resource} differs from what the plan read"))
            }
            Some(_) => {}
        }
    }
    for resource in a.keys().filter(|r| !b.contains_key(*r)) {
        out.push(format!("{resource} is new in the cloud"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moved_resources_name_what_changed() {
        let before = json!([
            {"resource": "a", "action": "noop", "diff": {"changes": []}},
            {"resource": "b", "action": "update", "diff": {"changes": [1]}},
            {"resource": "c", "action": "noop", "diff": {"changes": []}}
        ]);
        let after = json!([
            {"resource": "a", "action": "update", "diff": {"changes": [2]}},
            {"resource": "b", "action": "update", "diff": {"changes": [3]}},
            {"resource": "d", "action": "delete", "diff": {"changes": []}}
        ]);
        assert_eq!(
            moved_resources(&before, &after),
            [
                "a: noop in the plan, update now",
                "b differs from what the plan read",
                "c is no longer in the plan",
                "d is new in the cloud"
            ]
        );
        assert!(moved_resources(&before, &before).is_empty());
    }
}
