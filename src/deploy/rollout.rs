//! Starting a gated rollout: the draft's weight change as one apply job whose steps are the
//! stages of `domain::rollout`, each a `soak` step carried out by `jobs::rollout`.

use super::{DeployError, Deployer, applied_spec, valid_spec};
use crate::db::deployments::DeploymentRow;
use crate::domain::explicit_names;
use crate::domain::plan::{self, Api, Call, ResourceKind, Scope, StepAction, StepSpec, Verb};
use crate::domain::rollout::{self, Gate, RolloutError, StageCall};
use crate::domain::spec::Spec;
use crate::jobs::JobKind;
use serde_json::{Value, json};

fn url_map_of(spec: &Spec) -> Option<(String, Value)> {
    plan::compile(spec)
        .resources
        .into_iter()
        .find(|r| r.kind == ResourceKind::UrlMap)
        .map(|r| (r.id, r.body))
}

/// The steps of a gated rollout from `applied` to `draft`: one `soak` step per stage, each
/// after the one before.
pub fn rollout_steps(applied: &Spec, draft: &Spec) -> Result<Vec<StepSpec>, RolloutError> {
    let stages = rollout::stages(applied, draft)?;
    let gate = Gate::of(draft).ok_or(RolloutError::NoGate)?;
    let (resource, rollback) = url_map_of(applied).ok_or(RolloutError::NothingToMove)?;
    let backends = rollout::rising(applied, draft);
    let mut steps: Vec<StepSpec> = Vec::new();
    for stage in stages {
        let (_, body) = url_map_of(&stage.spec).ok_or(RolloutError::NothingToMove)?;
        let call = StageCall {
            percent: stage.percent,
            weights: stage.weights,
            stage: body,
            rollback: rollback.clone(),
            gate: gate.clone(),
            project: draft.project.clone(),
            url_map: explicit_names::url_map(draft),
            backend_services: backends
                .iter()
                .map(|b| explicit_names::backend_service(draft, b))
                .collect(),
            backends: backends.clone(),
            canary_region: None,
        };
        steps.push(StepSpec {
            id: format!("soak:{resource}:{}", stage.percent),
            action: StepAction::Soak,
            resource: resource.clone(),
            depends_on: steps.last().map(|s| s.id.clone()).into_iter().collect(),
            call: Call {
                api: Api::Compute,
                verb: Verb::Put,
                path: resource.clone(),
                body: Some(serde_json::to_value(&call).expect("a stage always serialises")),
                scope: Scope::Global,
                needs_fingerprint: true,
            },
        });
    }
    Ok(steps)
}

impl Deployer {
    /// Starts a gated rollout of the draft's weights (`POST .../rollout`).
    pub async fn rollout(&self, row: &DeploymentRow, user: &str) -> Result<i64, DeployError> {
        self.refuse_if_busy(row.id).await?;
        let draft = valid_spec(row)?;
        let applied = applied_spec(&self.db, row.id)
            .await?
            .ok_or(DeployError::NothingDeployed)?;
        let steps = rollout_steps(&applied, &draft)?;
        let stages: Vec<Value> = steps
            .iter()
            .filter_map(|s| serde_json::from_value::<StageCall>(s.call.body.clone()?).ok())
            .map(|c| json!({"percent": c.percent, "weights": c.weights}))
            .collect();
        let id = self
            .runner
            .start(crate::jobs::JobRequest {
                deployment: crate::db::jobs::deployment_key(row.id),
                kind: JobKind::Apply,
                spec: serde_json::to_value(&draft).expect("a spec always serialises"),
                // The draft version this puts in the cloud once every stage passed.
                plan: json!({"actions": [], "version": row.version, "rollout": stages}),
                created_by: user.to_string(),
                steps,
            })
            .await?;
        Ok(id)
    }
}
