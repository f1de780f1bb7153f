//! Conformance, the client's reaction: when the sandbox refuses a request of an apply or destroy
//! job the way Google would, the job fails at that step and its error says what Google said,
//! naming the field or the user. The refusals come from state made behind the panel's back,
//! as someone with the console would.

use crate::common::{TestApp, spawn_app};
use crate::deploy::{create_deployment, run_job, sandbox, seed};
use serde_json::{Value, json};
use switchyard::auth::Role;
use switchyard::cloud::{CloudError, CollectionRef, OperationRef};
use uuid::Uuid;

const PROJECT: &str = "my-project";
const WWW: &str = "https://www.googleapis.com/compute/v1/projects/my-project";

/// Inserts a resource through the panel's own client and waits for it.
async fn insert(app: &TestApp, collection: &str, body: Value) {
    let cloud = &app.state.cloud;
    let op = cloud
        .insert(
            &CollectionRef::global(PROJECT, collection),
            &body,
            Uuid::new_v4(),
        )
        .await
        .unwrap();
    let reference: OperationRef = op.reference().unwrap();
    cloud.wait(&reference).await.unwrap();
}

/// The failed step of a job, and its error.
fn failed_step(job: &Value) -> (String, String) {
    assert_eq!(job["status"], "failed", "{job}");
    let step = job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "failed")
        .unwrap_or_else(|| panic!("no failed step: {job}"));
    (
        step["resource"].as_str().unwrap_or_default().to_string(),
        step["error"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn an_ip_already_served_on_the_same_port_fails_the_forwarding_rule_step_naming_the_field() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 20 })).await;
    // The deployment's own address (marked as its own), whose IP someone else's rule already
    // serves on 443.
    insert(
        &app,
        "addresses",
        json!({"name": "global-app-ip", "description": "switchyard:deployment=global-app"}),
    )
    .await;
    insert(
        &app,
        "urlMaps",
        json!({"name": "other-map", "defaultUrlRedirect": {"httpsRedirect": true}}),
    )
    .await;
    insert(
        &app,
        "targetHttpProxies",
        json!({"name": "other-proxy", "urlMap": format!("{WWW}/global/urlMaps/other-map")}),
    )
    .await;
    insert(
        &app,
        "forwardingRules",
        json!({"name": "other-fr", "target": format!("{WWW}/global/targetHttpProxies/other-proxy"),
            "IPAddress": format!("{WWW}/global/addresses/global-app-ip"), "portRange": "443",
            "loadBalancingScheme": "EXTERNAL_MANAGED"}),
    )
    .await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let id = create_deployment(&app, &seed("seed-000.json")).await;
    let job = run_job(&mut c, id, "apply").await;
    let (_, error) = failed_step(&job);
    assert!(error.contains("resource.IPAddress"), "{error}");
    assert!(
        error.contains("Specified IP address is in-use and would result in a conflict with forwarding rule 'other-fr'."),
        "{error}"
    );
}

#[tokio::test]
async fn a_backend_service_kept_in_use_from_outside_fails_the_destroy_step_naming_the_user() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 20 })).await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let id = create_deployment(&app, &seed("seed-000.json")).await;
    assert_eq!(run_job(&mut c, id, "apply").await["status"], "succeeded");
    // Someone routes another URL map, in another project, to the deployment's backend service.
    let bs = format!("{WWW}/global/backendServices/global-app-bs-cloudrun");
    let cloud = &app.state.cloud;
    let op = cloud
        .insert(
            &CollectionRef::global("elsewhere", "urlMaps"),
            &json!({"name": "borrowed", "defaultService": bs}),
            Uuid::new_v4(),
        )
        .await
        .unwrap();
    cloud.wait(&op.reference().unwrap()).await.unwrap();
    let job = run_job(&mut c, id, "destroy").await;
    let (_, error) = failed_step(&job);
    assert!(
        error.contains("projects/elsewhere/global/urlMaps/borrowed"),
        "{error}"
    );
    assert!(error.contains("is already being used by"), "{error}");
}

#[tokio::test]
async fn a_url_map_edited_behind_the_panels_back_is_refused_with_the_field_named() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 20 })).await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let id = create_deployment(&app, &seed("seed-000.json")).await;
    assert_eq!(run_job(&mut c, id, "apply").await["status"], "succeeded");
    // What a console user could try on the panel's URL map, refused as Google refuses it: a
    // regular expression on a global external load balancer.
    let cloud = &app.state.cloud;
    let map = switchyard::cloud::ResourceRef::global(PROJECT, "urlMaps", "global-app-urlmap");
    let current: Value = cloud.get(&map).await.unwrap().unwrap();
    let bs = current["defaultService"].clone();
    let edit = json!({"fingerprint": current["fingerprint"],
        "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
        "pathMatchers": [{"name": "pm", "defaultService": bs,
            "routeRules": [{"priority": 1, "service": bs, "matchRules": [{"regexMatch": "^/v[0-9]+/"}]}]}]});
    let err = cloud.patch(&map, &edit, Uuid::new_v4()).await.unwrap_err();
    assert!(
        matches!(&err, CloudError::Invalid { field: Some(f), .. }
            if f == "resource.pathMatchers[0].routeRules[0].matchRules[0].regexMatch"),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("resource.pathMatchers[0].routeRules[0].matchRules[0].regexMatch"),
        "{text}"
    );
    assert!(
        text.contains("Regular expressions can only be used"),
        "{text}"
    );
}
