//! The image canary's gate against the sandbox: seed 001 with its Cloud Run service in three
//! regions and `asia-east1` as the canary region. A new image goes to asia-east1 first, holds,
//! and is judged on the load balancer's 5xx ratio and p95 for that region. Healthy, the other
//! regions follow; with asia-east1 answering 5xx, the previous image goes back there, the other
//! regions never get the new one, and the job fails saying why.

use crate::common::{Client, TestApp, spawn_app};
use crate::deploy::{post, wait_job};
use crate::deployments_support::ClientExt;
use crate::traffic::{applied, seed_001_http};
use serde_json::{Value, json};
use switchyard::auth::Role;
use switchyard::cloud::sandbox::traffic::Condition;

const HELLO: &str = "us-docker.pkg.dev/cloudrun/container/hello";
const REGIONS: [&str; 3] = ["us-central1", "europe-west1", "asia-east1"];

/// Seed 001 with its service deployed by the panel and a gated canary region. Outlier
/// detection is off so that a failing region keeps its traffic (and shows its 5xx) instead of
/// being ejected.
fn gated(image: &str) -> Value {
    gated_for(image, 1)
}

fn gated_for(image: &str, soak: u64) -> Value {
    let mut spec = seed_001_http();
    spec["backends"][0]["outlier_detection"] = json!(false);
    spec["services"] = json!([{
        "name": "my-app", "image": image, "regions": REGIONS, "min_instances": 1
    }]);
    spec["rollout"] = json!({
        "canary_region": "asia-east1", "soak_seconds": soak,
        "max_error_ratio": 0.05, "max_p95_ms": 2000
    });
    spec
}

async fn images(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for r in REGIONS {
        let s = app
            .state
            .cloud
            .run_services("my-project", r)
            .get("my-app")
            .await
            .unwrap()
            .unwrap();
        let s = serde_json::to_value(&s).unwrap();
        out.push(
            s["template"]["containers"][0]["image"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    out
}

/// Applies v1, saves a v2 with a new image, and starts its apply from a reviewed plan.
async fn roll_out_v2(app: &TestApp) -> (i64, i64, Client) {
    roll_out_v2_soaking(app, 1).await
}

async fn roll_out_v2_soaking(app: &TestApp, soak: u64) -> (i64, i64, Client) {
    let id = applied(app, &gated(HELLO)).await;
    let mut api = app.token_client("roller", Role::Editor).await;
    let r = api
        .request(reqwest::Method::PUT, &format!("/api/v1/deployments/{id}"))
        .header("If-Match", "1")
        .json(&gated_for(&format!("{HELLO}:v2"), soak))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // The review says what the canary does before anything is applied.
    let (status, plan) = post(&mut api, &format!("/api/v1/deployments/{id}/plan")).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["canary"][0]["region"], "asia-east1", "{plan}");
    assert_eq!(plan["canary"][0]["judged_backends"], json!(["my-app"]));
    let mut page = app.user_client("rita", Role::Viewer).await;
    let (status, html) = page.text(&format!("/deployments/{id}/plan")).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"id="plan-canary""#), "{html}");
    assert!(
        html.contains(&format!(
            "my-app at {HELLO}:v2 goes to asia-east1 first and holds {soak} s"
        )),
        "{html}"
    );
    let r = api
        .post_json(
            &format!("/api/v1/deployments/{id}/apply"),
            &json!({"plan_id": plan["plan_id"], "accept_risks": true}),
        )
        .await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 202, "{body}");
    (id, body["job_id"].as_i64().unwrap(), api)
}

/// The draft version the deployment has in the cloud, as the API says.
async fn applied_version(api: &mut Client, id: i64) -> i64 {
    let d: Value = api
        .get(&format!("/api/v1/deployments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    d["applied_version"]
        .as_i64()
        .unwrap_or_else(|| panic!("{d}"))
}

fn step<'a>(job: &'a Value, id: &str) -> &'a Value {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id || s["step_id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in {job}"))
}

fn run(region: &str) -> String {
    format!("projects/my-project/locations/{region}/services/my-app")
}

#[tokio::test]
async fn a_healthy_canary_region_lets_the_other_regions_follow() {
    let app = spawn_app().await;
    let (id, job_id, mut api) = roll_out_v2(&app).await;
    let j = wait_job(&mut api, job_id).await;
    assert_eq!(j["status"], "succeeded", "{j}");
    let soak = step(&j, &format!("soak:{}:canary", run("asia-east1")));
    assert_eq!(soak["status"], "succeeded", "{j}");
    let v2 = format!("{HELLO}:v2");
    assert_eq!(images(&app).await, [v2.as_str(); 3]);
    assert_eq!(applied_version(&mut api, id).await, 2);
}

#[tokio::test]
async fn a_failing_canary_region_gets_its_previous_image_back_and_the_job_says_why() {
    let app = spawn_app().await;
    app.state.sandbox.as_ref().unwrap().set_region_condition(
        "asia-east1",
        Condition {
            error_ratio: 1.0,
            extra_latency_ms: 0.0,
        },
    );
    let (id, job_id, mut api) = roll_out_v2(&app).await;
    let j = wait_job(&mut api, job_id).await;
    assert_eq!(j["status"], "failed", "{j}");
    let error = j["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!(
            "canary asia-east1 (my-app at {HELLO}:v2) failed its gate: my-app: 5xx ratio 100.00% is above max_error_ratio 5.00%; the previous revision is back in the canary region"
        )),
        "{j}"
    );
    // The canary region runs the previous image again; the others never left it.
    assert_eq!(images(&app).await, [HELLO; 3]);
    assert_eq!(
        step(&j, &format!("update:{}", run("asia-east1")))["status"],
        "succeeded"
    );
    for r in ["us-central1", "europe-west1"] {
        assert_eq!(
            step(&j, &format!("update:{}", run(r)))["status"],
            "skipped",
            "{r}"
        );
    }
    assert_eq!(applied_version(&mut api, id).await, 1);

    // The job page says where the canary left the traffic, with the chart of the breach.
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let (_, page) = viewer.text(&format!("/jobs/{job_id}")).await;
    assert!(page.contains(r#"id="outcome-canary-back""#), "{page}");
    assert!(
        page.contains("The canary stage put the previous revision back in asia-east1"),
        "{page}"
    );
    assert!(page.contains(r#"id="breach-chart""#), "{page}");
    assert!(
        page.contains("5xx ratio of my-app in asia-east1 (limit 5.00%)"),
        "{page}"
    );
    assert!(page.contains("Hold the new revision of the Cloud Run service my-app in asia-east1"));

    // A plan now shows the three new revisions still to deploy, gated again.
    let (_, plan) = post(&mut api, &format!("/api/v1/deployments/{id}/plan")).await;
    let updates = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "update")
        .count();
    assert_eq!(updates, 3, "{plan}");
}

#[tokio::test]
async fn a_canary_aborted_by_hand_while_it_holds_gets_its_previous_image_back() {
    let app = spawn_app().await;
    let (_, job_id, mut api) = roll_out_v2_soaking(&app, 600).await;
    let soak = format!("soak:{}:canary", run("asia-east1"));
    let started = std::time::Instant::now();
    loop {
        let j: Value = api
            .get(&format!("/api/v1/jobs/{job_id}"))
            .await
            .json()
            .await
            .unwrap();
        if step(&j, &soak)["status"] == "running" {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{j}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // While it holds, the canary region has the new image and the others the old one.
    let v2 = format!("{HELLO}:v2");
    assert_eq!(images(&app).await, [HELLO, HELLO, v2.as_str()]);
    let (status, body) = post(&mut api, &format!("/api/v1/jobs/{job_id}/cancel")).await;
    assert!((200..300).contains(&status), "{body}");
    let j = wait_job(&mut api, job_id).await;
    assert_eq!(j["status"], "cancelled", "{j}");
    assert_eq!(images(&app).await, [HELLO; 3]);
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let (_, page) = viewer.text(&format!("/jobs/{job_id}")).await;
    assert!(page.contains(r#"id="outcome-canary-back""#), "{page}");
}
