//! A multi-region Cloud Run service in the plan: one service under `locations/global` for all
//! its regions, the NEGs per region waiting for it, a readiness probe in its container, and a
//! change of regions or probe as an update in place.

use super::*;
use crate::domain::spec::{BackendKind, ReadinessProbe};

fn multi_region() -> Spec {
    let mut s = seed_with_services(None);
    s.services[0].multi_region = true;
    s.services[0].readiness_probe = Some(ReadinessProbe {
        path: "/ready".into(),
        period_seconds: Some(5),
        timeout_seconds: None,
        failure_threshold: None,
    });
    s
}

#[test]
fn one_global_service_for_every_region_with_the_negs_after_it() {
    let graph = compile(&multi_region());
    let services: Vec<&DesiredResource> = graph
        .resources
        .iter()
        .filter(|r| matches!(r.kind, ResourceKind::RunService { .. }))
        .collect();
    assert_eq!(services.len(), 1);
    let svc = services[0];
    assert_eq!(svc.id, run_id("global"));
    assert_eq!(
        svc.body["multiRegionSettings"]["regions"],
        json!(["us-central1", "europe-west1", "asia-east1"])
    );
    assert_eq!(svc.body["launchStage"], "BETA");
    assert_eq!(
        svc.body["template"]["containers"][0]["readinessProbe"],
        json!({ "httpGet": { "path": "/ready" }, "periodSeconds": 5, "timeoutSeconds": 1, "failureThreshold": 3 })
    );
    let negs: Vec<&DesiredResource> = graph
        .resources
        .iter()
        .filter(|r| matches!(r.kind, ResourceKind::ServerlessNeg { .. }))
        .collect();
    assert_eq!(negs.len(), 3);
    for neg in negs {
        assert_eq!(neg.depends_on, vec![run_id("global")], "{}", neg.id);
        assert_eq!(neg.body["cloudRun"]["service"], "my-app");
    }
}

#[test]
fn a_new_region_or_probe_is_an_update_of_the_one_service() {
    let spec = multi_region();
    let graph = compile(&spec);
    let mut live = LiveState::new();
    live_service(&graph, &mut live, true);
    let mut changed = spec.clone();
    changed.services[0].regions.push("us-east1".into());
    changed.backends[0].kind = BackendKind::Serverless {
        service: "my-app".into(),
        regions: changed.services[0].regions.clone(),
    };
    changed.services[0].readiness_probe.as_mut().unwrap().path = "/healthz".into();
    let desired = compile(&changed);
    let mut state = live.clone();
    for r in &desired.resources {
        state.entry(r.id.clone()).or_insert(None);
    }
    let plan = diff(&desired, &state);
    let entry = plan
        .entries
        .iter()
        .find(|e| e.resource == run_id("global"))
        .unwrap();
    assert_eq!(
        entry.action,
        Action::Update {
            fields: vec!["regions".into(), "readiness probe".into()]
        }
    );
    let steps = steps(&plan).unwrap();
    let deploy = steps
        .iter()
        .find(|s| s.resource == run_id("global") && s.action == StepAction::Update)
        .unwrap();
    assert_eq!(deploy.call.api, Api::Run);
    assert_eq!(
        deploy.call.path,
        format!("{}?allowMissing=true", run_id("global"))
    );
    // The unchanged service reads back as no change at all.
    let again = diff(&graph, &{
        let mut s = live.clone();
        for r in &graph.resources {
            s.entry(r.id.clone()).or_insert(None);
        }
        s
    });
    assert!(
        again
            .entries
            .iter()
            .filter(|e| matches!(e.kind, ResourceKind::RunService { .. }))
            .all(|e| e.action == Action::Noop)
    );
}
