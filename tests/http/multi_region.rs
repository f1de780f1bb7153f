//! A multi-region Cloud Run service against the sandbox over HTTP: seed 001 with
//! `multi_region` and a readiness probe applies as one service in `locations/global` with the
//! three NEGs after it, re-plans as nothing to do, and is destroyed with its service; the
//! sandbox refuses a global service without regions and a probe that times out after its period.

use crate::common::spawn_app;
use crate::deploy::sandbox;
use crate::sandbox_apply::apply_in_sandbox;
use reqwest::Method;
use serde_json::{Value, json};
use switchyard::cloud::CloudError;

const SEED_001: &str = include_str!("../data/seeds/seed-001-services.json");
const REGIONS: [&str; 3] = ["us-central1", "europe-west1", "asia-east1"];
const SERVICE: &str = "projects/my-project/locations/global/services/my-app";

fn multi_region_spec() -> String {
    let mut v: Value = serde_json::from_str(SEED_001).unwrap();
    v["services"][0]["multi_region"] = json!(true);
    v["services"][0]["min_instances"] = json!(1);
    v["services"][0]["readiness_probe"] = json!({ "path": "/ready", "period_seconds": 5 });
    v.to_string()
}

#[tokio::test]
async fn seed_001_as_one_multi_region_service_applies_replans_clean_and_is_destroyed() {
    let app = spawn_app().await;
    sandbox(
        &app,
        json!({ "operationLatencyMs": 10, "runLatencyMs": 10 }),
    )
    .await;
    let (id, _) = apply_in_sandbox(&app, &multi_region_spec(), "ed").await;
    let cloud = &app.state.cloud;

    let svc: Value = cloud.run_get(SERVICE).await.unwrap().expect("the service");
    assert_eq!(svc["multiRegionSettings"]["regions"], json!(REGIONS));
    assert!(
        svc["multiRegionSettings"]["multiRegionId"].is_string(),
        "{svc}"
    );
    assert_eq!(
        svc["template"]["containers"][0]["readinessProbe"]["httpGet"]["path"],
        "/ready"
    );
    for r in REGIONS {
        let ready = svc["conditions"].as_array().unwrap().iter().any(|c| {
            c["type"] == format!("MultiRegionReady/{r}") && c["state"] == "CONDITION_SUCCEEDED"
        });
        assert!(ready, "{r}: {}", svc["conditions"]);
        let regional: Option<Value> = cloud
            .run_get(&format!(
                "projects/my-project/locations/{r}/services/my-app"
            ))
            .await
            .unwrap();
        assert!(regional.is_none(), "no regional service in {r}");
    }
    let mut negs: Vec<Value> = Vec::new();
    for r in REGIONS {
        let c =
            switchyard::cloud::CollectionRef::regional("my-project", r, "networkEndpointGroups");
        negs.extend(cloud.list::<Value>(&c).await.unwrap());
    }
    assert_eq!(negs.len(), 3);
    assert!(negs.iter().all(|n| n["cloudRun"]["service"] == "my-app"));

    let row = switchyard::db::deployments::get(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    let again = app.state.deployer.plan(&row).await.unwrap();
    assert!(again.plan.is_noop(), "{:?}", again.plan.entries);

    let job = app.state.deployer.destroy(&row, "ed", true).await.unwrap();
    let done = app.state.deployer.runner().wait(job).await.unwrap();
    assert_eq!(done.status, "succeeded", "{:?}", done.error);
    assert!(cloud.run_get::<Value>(SERVICE).await.unwrap().is_none());
}

#[tokio::test]
async fn the_sandbox_refuses_a_global_service_without_regions_and_a_slow_probe() {
    let app = spawn_app().await;
    let cloud = &app.state.cloud;
    let create = |location: &str, body: Value| {
        let path = format!("projects/my-project/locations/{location}/services");
        async move {
            cloud
                .run_call::<Value>(
                    Method::POST,
                    &path,
                    &[("serviceId".to_string(), "web".to_string())],
                    Some(body),
                )
                .await
        }
    };
    let image =
        json!({ "containers": [{ "image": "us-docker.pkg.dev/cloudrun/container/hello" }] });
    let err = create("global", json!({ "template": image }))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CloudError::Invalid { message, .. } if message.contains("multi_region_settings.regions")),
        "{err:?}"
    );
    let err = create(
        "us-central1",
        json!({ "template": image, "multiRegionSettings": { "regions": ["us-central1", "europe-west1"] } }),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, CloudError::Invalid { message, .. } if message.contains("only a service in location global")),
        "{err:?}"
    );
    let slow = json!({ "containers": [{ "image": "us-docker.pkg.dev/cloudrun/container/hello",
        "readinessProbe": { "httpGet": { "path": "/" }, "periodSeconds": 2, "timeoutSeconds": 2 } }] });
    let err = create("us-central1", json!({ "template": slow }))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CloudError::Invalid { message, .. } if message.contains("timeout_seconds: must be less than period_seconds")),
        "{err:?}"
    );
    let ok = create(
        "global",
        json!({ "launchStage": "BETA", "template": image,
                "multiRegionSettings": { "regions": ["us-central1", "europe-west1"] } }),
    )
    .await;
    assert!(ok.is_ok(), "{ok:?}");
}
