//! The image canary's hold in a plan's steps: when the spec gates its rollouts and names a
//! canary region, a new revision of a Cloud Run service there is followed by a `soak` step
//! (`jobs::rollout`) that holds it and judges that region on the load balancer's metrics.
//! Everything that waited for the canary's deploy (the other regions' deploys) waits for the
//! soak instead, so a bad revision never leaves the canary region: on a breach the soak puts
//! the previous revision back there and the job fails saying why.
//!
//! Only updates are held. A first deploy has no previous revision to go back to, and serves
//! nothing yet.

use super::{Action, Api, Call, Plan, PlanEntry, ResourceKind, StepAction, StepSpec, Verb};

/// The canary entries of `plan`: updates that deploy a new revision in the canary region, with
/// the stage that judges each.
pub fn held(plan: &Plan) -> Vec<(&PlanEntry, crate::domain::rollout::StageCall)> {
    let Some(gate) = &plan.canary else {
        return Vec::new();
    };
    plan.entries
        .iter()
        .filter(
            |e| matches!(&e.kind, ResourceKind::RunService { region } if *region == gate.region),
        )
        .filter(|e| match &e.action {
            Action::Update { fields } => fields.iter().any(|f| f != "public access"),
            _ => false,
        })
        .filter_map(|e| {
            let stage = gate.stage(&e.name, &e.desired.as_ref()?.body, e.live.as_ref()?)?;
            Some((e, stage))
        })
        .collect()
}

/// Puts a soak after each held deploy and makes its followers wait for it.
pub(super) fn hold(steps: &mut Vec<StepSpec>, plan: &Plan) {
    for (e, stage) in held(plan) {
        let deploy = format!("update:{}", e.resource);
        if !steps.iter().any(|s| s.id == deploy) {
            continue;
        }
        let soak = format!("soak:{}:canary", e.resource);
        for s in steps.iter_mut() {
            if s.resource != e.resource && s.depends_on.contains(&deploy) {
                s.depends_on.push(soak.clone());
            }
        }
        steps.push(StepSpec {
            id: soak,
            action: StepAction::Soak,
            resource: e.resource.clone(),
            depends_on: vec![deploy],
            call: Call {
                api: Api::Run,
                verb: Verb::Patch,
                path: format!("{}?allowMissing=true", e.resource),
                body: Some(serde_json::to_value(&stage).expect("a stage always serialises")),
                scope: e.kind.scope(),
                needs_fingerprint: false,
            },
        });
    }
}
