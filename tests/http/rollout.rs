//! Gated rollouts against the sandbox: a weight move from the stable backend to the canary in
//! stages, each judged on the canary's own 5xx ratio and p95 from the sandbox's Cloud
//! Monitoring. Healthy, the live URL map shows every step and ends at the draft; a canary made
//! to fail is rolled back and the job fails saying why; promote and abort work by hand.

use crate::common::{Client, TestApp, spawn_app};
use crate::deploy::{create_deployment, post, wait_job};
use crate::traffic::{applied, seed_001_http};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use switchyard::auth::Role;
use switchyard::cloud::sandbox::traffic::Condition;

/// Seed 001's backend as `stable`, and a `canary` of another service in us-central1 only,
/// all traffic on `stable`.
fn stable_and_canary() -> Value {
    let mut spec = seed_001_http();
    spec["name"] = "shop".into();
    spec["backends"] = json!([
        {"name": "stable", "type": "serverless", "service": "my-app",
         "regions": ["us-central1", "europe-west1", "asia-east1"], "outlier_detection": true},
        {"name": "canary", "type": "serverless", "service": "my-app-canary",
         "regions": ["us-central1"], "outlier_detection": true}
    ]);
    spec["routing"] = json!({"default": {"backend": "stable"}, "rules": []});
    spec
}

/// Saves `spec` as the next draft version (the deployment is at `version`).
async fn save(c: &mut Client, id: i64, version: i64, spec: &Value) -> reqwest::Response {
    c.request(reqwest::Method::PUT, &format!("/api/v1/deployments/{id}"))
        .header("If-Match", version.to_string())
        .json(spec)
        .send()
        .await
        .unwrap()
}

/// The draft that moves everything to the canary, gated.
fn to_canary(soak: u64) -> Value {
    let mut spec = stable_and_canary();
    spec["routing"]["default"] = json!({"backend": "canary"});
    spec["rollout"] = json!({"soak_seconds": soak, "max_error_ratio": 0.05, "max_p95_ms": 2000});
    spec
}

async fn deployed(app: &TestApp) -> (i64, Client) {
    let id = applied(app, &stable_and_canary()).await;
    let mut api = app.token_client("roller", Role::Editor).await;
    let r = save(&mut api, id, 1, &to_canary(1)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    (id, api)
}

/// The live URL map's default route: `canary 10, stable 90`, or the one backend.
async fn live_weights(app: &TestApp) -> String {
    let map = app
        .state
        .cloud
        .url_maps("my-project")
        .get("shop-urlmap")
        .await
        .unwrap()
        .unwrap();
    let map = serde_json::to_value(&map).unwrap();
    let name = |link: &Value| {
        let l = link.as_str().unwrap();
        l.rsplit('/')
            .next()
            .unwrap()
            .trim_start_matches("shop-bs-")
            .to_string()
    };
    if let Some(s) = map.get("defaultService") {
        return name(s);
    }
    let mut parts: Vec<String> = map["defaultRouteAction"]["weightedBackendServices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| format!("{} {}", name(&w["backendService"]), w["weight"]))
        .collect();
    parts.sort();
    parts.join(", ")
}

fn statuses(job: &Value) -> Vec<&str> {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect()
}

async fn start_rollout(api: &mut Client, id: i64) -> i64 {
    let (status, body) = post(api, &format!("/api/v1/deployments/{id}/rollout")).await;
    assert_eq!(status, 202, "{body}");
    body["job_id"].as_i64().unwrap()
}

async fn get_json(api: &mut Client, path: &str) -> Value {
    api.get(path).await.json().await.unwrap()
}

async fn job(api: &mut Client, job: i64) -> Value {
    get_json(api, &format!("/api/v1/jobs/{job}")).await
}

#[tokio::test]
async fn a_healthy_canary_takes_the_traffic_step_by_step() {
    let app = spawn_app().await;
    let (id, mut api) = deployed(&app).await;
    let job_id = start_rollout(&mut api, id).await;
    // The live URL map, watched while the job runs: every step shows, in order.
    let mut seen: Vec<String> = vec![live_weights(&app).await];
    let started = Instant::now();
    loop {
        let w = live_weights(&app).await;
        if seen.last() != Some(&w) {
            seen.push(w);
        }
        let j = job(&mut api, job_id).await;
        if j["status"] != "running" && j["status"] != "queued" {
            assert_eq!(j["status"], "succeeded", "{j}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{j}");
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let w = live_weights(&app).await;
    if seen.last() != Some(&w) {
        seen.push(w);
    }
    assert_eq!(
        seen,
        [
            "stable",
            "canary 10, stable 90",
            "canary 50, stable 50",
            "canary"
        ]
    );
    let j = job(&mut api, job_id).await;
    assert_eq!(statuses(&j), ["succeeded"; 3]);
    // The rollout applied the draft: its version is what is in the cloud, and a plan has
    // nothing left to do.
    let d = get_json(&mut api, &format!("/api/v1/deployments/{id}")).await;
    assert_eq!(d["applied_version"], 2, "{d}");
    let (_, plan) = post(&mut api, &format!("/api/v1/deployments/{id}/plan")).await;
    assert!(
        plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["action"] == "noop"),
        "{plan}"
    );
}

#[tokio::test]
async fn a_failing_canary_is_rolled_back_and_the_job_says_why() {
    let app = spawn_app().await;
    let (id, mut api) = deployed(&app).await;
    // us-central1 fails: the stable backend's outlier detection sends its requests elsewhere,
    // but the canary has no other region.
    app.state.sandbox.as_ref().unwrap().set_region_condition(
        "us-central1",
        Condition {
            error_ratio: 1.0,
            extra_latency_ms: 0.0,
        },
    );
    let job_id = start_rollout(&mut api, id).await;
    let j = wait_job(&mut api, job_id).await;
    assert_eq!(j["status"], "failed", "{j}");
    let error = j["error"].as_str().unwrap_or_default().to_string();
    assert!(
        error.contains(
            "stage 10% (canary 10, stable 90) failed its gate: canary: 5xx ratio 100.00% is above max_error_ratio 5.00%; rolled back to the applied weights"
        ),
        "{j}"
    );
    assert_eq!(statuses(&j), ["failed", "skipped", "skipped"]);
    assert_eq!(live_weights(&app).await, "stable");
    // Nothing new is applied, and the job page shows the reason.
    let d = get_json(&mut api, &format!("/api/v1/deployments/{id}")).await;
    assert_eq!(d["applied_version"], 1);
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let page = viewer
        .get(&format!("/jobs/{job_id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("5xx ratio 100.00% is above max_error_ratio 5.00%"),
        "{page}"
    );
    assert!(page.contains(r#"id="outcome-rolled-back""#), "{page}");
    // With the chart of the breach, as the stage saw it before the rollback.
    assert!(page.contains(r#"id="breach-chart""#), "{page}");
    assert!(page.contains("5xx ratio of canary (limit 5.00%)"));
    assert!(
        page.contains("<title>shop-bs-canary · us-central1: 100% at "),
        "{page}"
    );
}

#[tokio::test]
async fn a_stage_is_promoted_or_aborted_by_hand() {
    let app = spawn_app().await;
    let (id, mut api) = deployed(&app).await;
    assert_eq!(save(&mut api, id, 2, &to_canary(600)).await.status(), 200);
    let job_id = start_rollout(&mut api, id).await;
    // No stage holds until the first has put its weights in place.
    let holding = |j: &Value, idx: usize| j["steps"][idx]["status"] == "running";
    let started = Instant::now();
    while !holding(&job(&mut api, job_id).await, 0) || live_weights(&app).await == "stable" {
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let mut editor = app.user_client("ed", Role::Editor).await;
    let page = editor
        .get(&format!("/jobs/{job_id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"id="job-promote""#), "{page}");
    let (status, body) = post(&mut api, &format!("/api/v1/jobs/{job_id}/promote")).await;
    assert_eq!(status, 200, "{body}");
    // The promoted stage is judged at once and the next one holds its 600 s.
    while !holding(&job(&mut api, job_id).await, 1) {
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let j = job(&mut api, job_id).await;
    assert_eq!(j["steps"][0]["status"], "succeeded", "{j}");
    while live_weights(&app).await != "canary 50, stable 50" {
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    // Abort: cancel puts the applied weights back.
    let (status, body) = post(&mut api, &format!("/api/v1/jobs/{job_id}/cancel")).await;
    assert!((200..300).contains(&status), "{body}");
    let j = wait_job(&mut api, job_id).await;
    assert_eq!(j["status"], "cancelled", "{j}");
    assert_eq!(live_weights(&app).await, "stable");
    // The job page says so, although a stage passed before the abort.
    let page = editor
        .get(&format!("/jobs/{job_id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"id="outcome-rolled-back""#), "{page}");
    assert!(!page.contains("What the done steps made is in the cloud now"));
    let (status, body) = post(&mut api, &format!("/api/v1/jobs/{job_id}/promote")).await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn only_a_gated_weight_change_rolls_out() {
    let app = spawn_app().await;
    let id = create_deployment(&app, &stable_and_canary()).await;
    let mut api = app.token_client("roller", Role::Editor).await;
    // Gate fields are checked by name.
    let mut bad = to_canary(1);
    bad["rollout"]["max_error_ratio"] = json!(2);
    let r = save(&mut api, id, 1, &bad).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "rollout.max_error_ratio", "{e}");
    // Nothing applied yet: nothing to move from.
    assert_eq!(save(&mut api, id, 1, &to_canary(1)).await.status(), 200);
    let (status, body) = post(&mut api, &format!("/api/v1/deployments/{id}/rollout")).await;
    assert_eq!(status, 409, "{body}");
    // A draft that changes more than weights is refused, saying so.
    let app = spawn_app().await;
    let (id, mut api) = deployed(&app).await;
    let mut more = to_canary(1);
    more["backends"][1]["cdn"] = json!(true);
    assert_eq!(save(&mut api, id, 2, &more).await.status(), 200);
    let (status, body) = post(&mut api, &format!("/api/v1/deployments/{id}/rollout")).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("changes more than the split weights"),
        "{body}"
    );
}
