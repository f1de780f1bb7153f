//! Conformance, Cloud Run Admin v2 (API-NOTES §1, §11.11): operations whose metadata is the
//! Service and that have no `done` until they finish, 409/404 in Cloud Run's own shape, ids,
//! `allowMissing`, readiness, IAM etags and the labels v2 refuses.

use crate::conformance_support::*;
use reqwest::Method;
use serde_json::{Value, json};

fn service() -> Value {
    json!({"template": {"containers": [{"image": "us-docker.pkg.dev/cloudrun/container/hello"}]}})
}

async fn wait_run(c: &crate::cloud_support::TestCloud, op: &Value) -> Value {
    let name = op["name"].as_str().unwrap();
    loop {
        let done = post(c, &format!("/v2/{name}:wait"), json!({"timeout": "10s"}))
            .await
            .ok()
            .clone();
        if done["done"] == true {
            return done;
        }
    }
}

#[tokio::test]
async fn s1_create_answers_an_operation_without_done_whose_metadata_is_the_service() {
    // Long enough to read the service while its revision starts.
    let c = crate::cloud_support::start(switchyard::cloud::sandbox::SandboxConfig {
        run_latency: std::time::Duration::from_millis(1500),
        ..crate::cloud_support::fast_config()
    })
    .await;
    let op = post(&c, &run("services?serviceId=app"), service())
        .await
        .ok()
        .clone();
    assert!(op.get("done").is_none(), "{op}");
    assert!(
        op["name"]
            .as_str()
            .unwrap()
            .starts_with("projects/acme/locations/us-central1/operations/")
    );
    assert_eq!(
        op["metadata"]["@type"],
        "type.googleapis.com/google.cloud.run.v2.Service"
    );
    assert_eq!(op["metadata"]["reconciling"], true);
    let svc = get(&c, &run("services/app")).await.ok().clone();
    assert_eq!(svc["terminalCondition"]["state"], "CONDITION_RECONCILING");
    let done = wait_run(&c, &op).await;
    assert_eq!(
        done["response"]["@type"],
        "type.googleapis.com/google.cloud.run.v2.Service"
    );
    let svc = get(&c, &run("services/app")).await.ok().clone();
    assert_eq!(svc["reconciling"], false);
    assert_eq!(svc["terminalCondition"]["type"], "Ready");
    assert_eq!(svc["terminalCondition"]["state"], "CONDITION_SUCCEEDED");
    assert!(svc["uri"].as_str().unwrap().ends_with(".a.run.app"));
    assert_eq!(svc["urls"].as_array().unwrap().len(), 2);
    assert_eq!(svc["ingress"], "INGRESS_TRAFFIC_ALL");
    assert_eq!(svc["template"]["timeout"], "300s");
}

#[tokio::test]
async fn s1_an_existing_id_is_409_already_exists() {
    let c = cloud().await;
    let op = post(&c, &run("services?serviceId=app"), service()).await;
    wait_run(&c, op.ok()).await;
    let r = post(&c, &run("services?serviceId=app"), service()).await;
    r.is_error(409, "ALREADY_EXISTS", "Resource 'app' already exists.");
    assert!(
        r.json["error"].get("errors").is_none(),
        "Cloud Run has no errors[]"
    );
}

#[tokio::test]
async fn s1_a_missing_service_is_404_in_cloud_runs_shape() {
    let c = cloud().await;
    get(&c, &run("services/nope")).await.is_error(
        404,
        "NOT_FOUND",
        "service \"projects/acme/locations/us-central1/services/nope\" not found",
    );
    call(&c, Method::PATCH, &run("services/nope"), Some(service()))
        .await
        .is_error(
            404,
            "NOT_FOUND",
            "service \"projects/acme/locations/us-central1/services/nope\" not found",
        );
    get(&c, &run("operations/nope")).await.is_error(
        404,
        "NOT_FOUND",
        "operation \"projects/acme/locations/us-central1/operations/nope\" not found",
    );
}

#[tokio::test]
async fn s1_a_service_id_starts_with_a_letter_and_is_shorter_than_50() {
    let c = cloud().await;
    for bad in ["1app", "app-", "App", &"a".repeat(50)] {
        post(&c, &run(&format!("services?serviceId={bad}")), service())
            .await
            .is_error(
                400,
                "INVALID_ARGUMENT",
                &format!("service_id '{bad}' is invalid: must start with a letter, contain only lowercase letters, digits and hyphens, not end with a hyphen, and be fewer than 50 characters."),
            );
    }
}

#[tokio::test]
async fn s1_patch_with_allow_missing_creates_or_updates() {
    let c = cloud().await;
    let op = call(
        &c,
        Method::PATCH,
        &run("services/app?allowMissing=true"),
        Some(service()),
    )
    .await;
    wait_run(&c, op.ok()).await;
    let first = get(&c, &run("services/app")).await.ok().clone();
    assert_eq!(first["generation"], "1");
    let mut changed = service();
    changed["template"]["containers"][0]["image"] =
        json!("us-docker.pkg.dev/cloudrun/container/hello:2");
    let op = call(
        &c,
        Method::PATCH,
        &run("services/app?allowMissing=true"),
        Some(changed),
    )
    .await;
    wait_run(&c, op.ok()).await;
    let second = get(&c, &run("services/app")).await.ok().clone();
    assert_eq!(second["generation"], "2");
    assert_ne!(second["latestReadyRevision"], first["latestReadyRevision"]);
}

#[tokio::test]
async fn s1_a_service_needs_a_container_image() {
    let c = cloud().await;
    post(&c, &run("services?serviceId=app"), json!({}))
        .await
        .is_error(
            400,
            "INVALID_ARGUMENT",
            "template.containers: at least one container is required.",
        );
    post(
        &c,
        &run("services?serviceId=app"),
        json!({"template": {"containers": [{"name": "c"}]}}),
    )
    .await
    .is_error(
        400,
        "INVALID_ARGUMENT",
        "template.containers[0].image: Image is required.",
    );
}

#[tokio::test]
async fn s1_labels_under_googles_prefixes_are_refused() {
    let c = cloud().await;
    let mut body = service();
    body["labels"] = json!({"run.googleapis.com/x": "y"});
    post(&c, &run("services?serviceId=app"), body)
        .await
        .is_error(
            400,
            "INVALID_ARGUMENT",
            "labels: the key 'run.googleapis.com/x' uses a reserved prefix and is not supported in Cloud Run v2.",
        );
}

#[tokio::test]
async fn s1_set_iam_policy_replaces_under_the_etag_read() {
    let c = cloud().await;
    let op = post(&c, &run("services?serviceId=app"), service()).await;
    wait_run(&c, op.ok()).await;
    let policy = get(&c, &run("services/app:getIamPolicy"))
        .await
        .ok()
        .clone();
    let etag = policy["etag"].as_str().unwrap().to_string();
    let set = post(
        &c,
        &run("services/app:setIamPolicy"),
        json!({"policy": {"etag": etag,
            "bindings": [{"role": "roles/run.invoker", "members": ["allUsers"]}]}}),
    )
    .await
    .ok()
    .clone();
    assert_ne!(set["etag"], etag.as_str());
    post(
        &c,
        &run("services/app:setIamPolicy"),
        json!({"policy": {"etag": etag, "bindings": []}}),
    )
    .await
    .is_error(
        409,
        "ABORTED",
        "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.",
    );
}

#[tokio::test]
async fn s1_a_delete_is_an_operation_and_a_stale_etag_is_aborted() {
    let c = cloud().await;
    let op = post(&c, &run("services?serviceId=app"), service()).await;
    wait_run(&c, op.ok()).await;
    delete(&c, &run("services/app?etag=%22stale%22")).await.is_error(
        409,
        "ABORTED",
        "etag mismatch for service \"projects/acme/locations/us-central1/services/app\": read it again and retry.",
    );
    let op = delete(&c, &run("services/app")).await.ok().clone();
    wait_run(&c, &op).await;
    assert_eq!(get(&c, &run("services/app")).await.status, 404);
}
