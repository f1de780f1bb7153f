//! Plan and apply as tracked jobs, against the sandbox cloud over real sockets: the seeds apply,
//! re-plan as all-noop and destroy to nothing; a killed panel finishes its job after a restart;
//! injected faults still converge (certificate changes: deploy_certificates.rs).

use crate::common::{TestApp, spawn_app};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use switchyard::auth::Role;
use switchyard::cloud::CollectionRef;

const SEEDS: &[&str] = &["seed-000.json", "seed-001.json", "seed-002.json"];

pub(crate) fn seed(name: &str) -> Value {
    let path = format!("{}/tests/data/seeds/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The sandbox's admin hook, found from the client's configured endpoint.
pub(crate) async fn sandbox(app: &TestApp, body: Value) {
    sandbox_control(app, "faults", body).await;
}

/// `POST /sandbox/v1/{control}` (`faults`, `projects/P/iam`, ...) of the panel's sandbox.
pub(crate) async fn sandbox_control(app: &TestApp, control: &str, body: Value) {
    let compute = app.state.cloud.config().compute_endpoint.clone();
    let base = compute.trim_end_matches("compute/v1/");
    let r = reqwest::Client::new()
        .post(format!("{base}sandbox/v1/{control}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "sandbox {control}: {}", r.status());
}

pub(crate) async fn create_deployment(app: &TestApp, spec: &Value) -> i64 {
    let name = spec["name"].as_str().unwrap();
    switchyard::db::deployments::create(&app.state.db, name, &spec.to_string(), "tester")
        .await
        .unwrap()
        .id
}

pub(crate) async fn post(c: &mut crate::common::Client, path: &str) -> (u16, Value) {
    let r = c.post_json(path, &json!({})).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn start_job(c: &mut crate::common::Client, id: i64, kind: &str) -> i64 {
    let (status, body) = post(c, &format!("/api/v1/deployments/{id}/{kind}")).await;
    assert_eq!(status, 202, "{kind}: {body}");
    body["job_id"].as_i64().unwrap()
}

pub(crate) async fn run_job(c: &mut crate::common::Client, id: i64, kind: &str) -> Value {
    let job = start_job(c, id, kind).await;
    wait_job(c, job).await
}

pub(crate) async fn wait_job(c: &mut crate::common::Client, job: i64) -> Value {
    let started = Instant::now();
    loop {
        let body: Value = c
            .get(&format!("/api/v1/jobs/{job}"))
            .await
            .json()
            .await
            .unwrap();
        if matches!(
            body["status"].as_str(),
            Some("succeeded" | "failed" | "cancelled")
        ) {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "job {job} did not finish: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn plan_actions(c: &mut crate::common::Client, id: i64) -> Vec<String> {
    let (status, body) = post(c, &format!("/api/v1/deployments/{id}/plan")).await;
    assert_eq!(status, 200, "{body}");
    actions(&body)
}

/// `"action resource"` of each entry of a plan as the API answers it.
pub(crate) fn actions(plan: &Value) -> Vec<String> {
    plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["action"].as_str().unwrap(),
                a["resource"].as_str().unwrap()
            )
        })
        .collect()
}

/// Every resource in the sandbox whose name starts with the deployment's prefix.
async fn owned(app: &TestApp, spec: &Value) -> Vec<String> {
    let project = spec["project"].as_str().unwrap();
    let regions: Vec<&str> = spec["backends"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["regions"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    owned_in(app, project, spec["name"].as_str().unwrap(), &regions).await
}

/// Every resource of `project` (global, or regional NEGs in `regions`) whose name starts with
/// `deployment`'s prefix.
pub(crate) async fn owned_in(
    app: &TestApp,
    project: &str,
    deployment: &str,
    regions: &[&str],
) -> Vec<String> {
    let prefix = format!("{deployment}-");
    let mut collections: Vec<CollectionRef> = [
        "networkEndpointGroups",
        "backendServices",
        "urlMaps",
        "sslCertificates",
        "targetHttpsProxies",
        "targetHttpProxies",
        "addresses",
        "forwardingRules",
    ]
    .iter()
    .map(|c| CollectionRef::global(project, c))
    .collect();
    for r in regions {
        collections.push(CollectionRef::regional(project, r, "networkEndpointGroups"));
    }
    let mut out = Vec::new();
    for c in collections {
        let items: Vec<Value> = app.state.cloud.list(&c).await.unwrap();
        for item in items {
            let name = item["name"].as_str().unwrap().to_string();
            if name.starts_with(&prefix) {
                out.push(format!("{}/{name}", c.path()));
            }
        }
    }
    out
}

#[tokio::test]
async fn seeds_apply_replan_as_noop_and_destroy_to_nothing() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 20 })).await;
    let mut c = app.token_client("ed", Role::Editor).await;
    for name in SEEDS {
        let spec = seed(name);
        let id = create_deployment(&app, &spec).await;

        let first = plan_actions(&mut c, id).await;
        assert!(
            !first.is_empty() && first.iter().all(|a| a.starts_with("create ")),
            "{first:?}"
        );
        let job = run_job(&mut c, id, "apply").await;
        assert_eq!(job["status"], "succeeded", "{name}: {job}");
        let live = owned(&app, &spec).await;
        assert_eq!(
            live.len(),
            first.len(),
            "{name}: every planned resource exists once: {live:?}"
        );

        let d: Value = c
            .get(&format!("/api/v1/deployments/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(d["last_job"]["id"], job["id"], "{d}");
        assert_eq!(d["last_job"]["status"], "succeeded");
        assert_eq!(d["applied_version"], 1);
        // An edit's answer is the same representation: still applied at version 1.
        let put: Value = c
            .request(reqwest::Method::PUT, &format!("/api/v1/deployments/{id}"))
            .header("if-match", "\"1\"")
            .json(&spec)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(put["version"], 2, "{put}");
        assert_eq!(put["applied_version"], 1, "{put}");
        assert_eq!(put["last_job"]["id"], job["id"]);

        let again = plan_actions(&mut c, id).await;
        assert!(
            again.iter().all(|a| a.starts_with("noop ")),
            "{name}: {again:?}"
        );
        // Re-applying an unchanged deployment makes no mutating call.
        let job = run_job(&mut c, id, "apply").await;
        assert_eq!(job["status"], "succeeded");
        assert_eq!(job["steps"].as_array().unwrap().len(), 0, "{job}");

        let job = run_job(&mut c, id, "destroy").await;
        assert_eq!(job["status"], "succeeded", "{name}: {job}");
        assert_eq!(
            owned(&app, &spec).await,
            Vec::<String>::new(),
            "{name}: nothing left"
        );
        let d: Value = c
            .get(&format!("/api/v1/deployments/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(d["last_job"]["kind"], "destroy");
        assert_eq!(
            d["applied_version"],
            Value::Null,
            "nothing applied after a destroy"
        );
    }
}

#[tokio::test]
async fn a_second_apply_is_refused_naming_the_running_job() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 300 })).await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let id = create_deployment(&app, &seed("seed-000.json")).await;
    let job = start_job(&mut c, id, "apply").await;
    let (status, body) = post(&mut c, &format!("/api/v1/deployments/{id}/apply")).await;
    assert_eq!(status, 409, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("job {job}")) && message.contains("ed"),
        "{message}"
    );
    assert_eq!(wait_job(&mut c, job).await["status"], "succeeded");
}

#[tokio::test]
async fn a_panel_killed_mid_apply_finishes_the_job_after_a_restart() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 400 })).await;
    let spec = seed("seed-001.json");
    let id = create_deployment(&app, &spec).await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let job = start_job(&mut c, id, "apply").await;
    // Wait until some steps are done and others are in flight, then kill the panel.
    let started = Instant::now();
    loop {
        let body: Value = c
            .get(&format!("/api/v1/jobs/{job}"))
            .await
            .json()
            .await
            .unwrap();
        let steps = body["steps"].as_array().unwrap();
        let done = steps.iter().filter(|s| s["status"] == "succeeded").count();
        if done >= 2 && done < steps.len() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let app = app.restart().await;
    let mut c = app.token_client("ed2", Role::Editor).await;
    let body = wait_job(&mut c, job).await;
    assert_eq!(body["status"], "succeeded", "{body}");
    let live = owned(&app, &spec).await;
    let unique: BTreeSet<_> = live.iter().collect();
    assert_eq!(unique.len(), live.len());
    let again = plan_actions(&mut c, id).await;
    assert!(again.iter().all(|a| a.starts_with("noop ")), "{again:?}");
    assert_eq!(
        live.len(),
        again.len(),
        "no resource beyond the plan: {live:?}"
    );
}

#[tokio::test]
async fn seeds_converge_under_transient_errors_rate_limits_and_lost_replies() {
    let app = spawn_app().await;
    sandbox(
        &app,
        json!({
            "operationLatencyMs": 10,
            "faults": { "transientRate": 0.1, "rateLimitRate": 0.1, "lostReplyRate": 0.05 }
        }),
    )
    .await;
    let mut c = app.token_client("ed", Role::Editor).await;
    for name in SEEDS {
        let spec = seed(name);
        let id = create_deployment(&app, &spec).await;
        let mut job = run_job(&mut c, id, "apply").await;
        // Converging may take a resume when a step ran out of retries; never a duplicate.
        for _ in 0..3 {
            if job["status"] == "succeeded" {
                break;
            }
            let jid = job["id"].as_i64().unwrap();
            let (status, body) = post(&mut c, &format!("/api/v1/jobs/{jid}/resume")).await;
            assert_eq!(status, 202, "{body}");
            job = wait_job(&mut c, jid).await;
        }
        assert_eq!(job["status"], "succeeded", "{name}: {job}");
        let live = owned(&app, &spec).await;
        let unique: BTreeSet<_> = live.iter().collect();
        assert_eq!(unique.len(), live.len(), "{name}: duplicates in {live:?}");
        let expected = job["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["action"] == "create")
            .map(|s| s["resource"].as_str().unwrap().to_string())
            .collect::<BTreeSet<_>>();
        assert_eq!(
            live.iter().cloned().collect::<BTreeSet<_>>(),
            expected,
            "{name}: exactly the planned resources"
        );
    }
}

/// Every seed of tests/data/seeds.
const ALL_SEEDS: &[&str] = &[
    "seed-000.json",
    "seed-001.json",
    "seed-001-services.json",
    "seed-002.json",
    "seed-002-http.json",
];

/// A rate limit is waited out, never a reason to fail: with a fifth of all requests rate
/// limited and a tenth failing transiently for the whole run (the plan's reads included),
/// every seed applies and destroys as its first job, with no resume and no duplicate. The
/// panel's retry waits are milliseconds here (test_settings), its budgets the defaults;
/// `examples/converge_bench.rs` does twenty such runs in a row.
#[tokio::test]
async fn every_seed_converges_under_rate_limits_and_transient_failures_without_a_resume() {
    let app = spawn_app().await;
    sandbox(
        &app,
        json!({
            "operationLatencyMs": 10,
            "runLatencyMs": 20,
            "faults": { "rateLimitRate": 0.2, "transientRate": 0.1 }
        }),
    )
    .await;
    let mut c = app.token_client("ed", Role::Editor).await;
    for name in ALL_SEEDS {
        let spec = seed(name);
        let id = create_deployment(&app, &spec).await;
        let job = run_job(&mut c, id, "apply").await;
        assert_eq!(job["status"], "succeeded", "{name}: {job}");
        let live = owned(&app, &spec).await;
        let unique: BTreeSet<_> = live.iter().cloned().collect();
        assert_eq!(unique.len(), live.len(), "{name}: duplicates in {live:?}");
        let planned = job["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["action"] == "create")
            .map(|s| s["resource"].as_str().unwrap().to_string())
            .filter(|r| !r.contains("/locations/"))
            .collect::<BTreeSet<_>>();
        assert_eq!(unique, planned, "{name}: exactly the planned resources");
        let job = run_job(&mut c, id, "destroy").await;
        assert_eq!(job["status"], "succeeded", "{name}: {job}");
        assert_eq!(owned(&app, &spec).await, Vec::<String>::new(), "{name}");
        // Two seeds share each name: the destroyed one leaves the panel for the next.
        assert!(
            switchyard::db::deployments::delete(&app.state.db, id)
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn the_plan_page_shows_the_changes_and_its_apply_button_starts_a_job() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 20 })).await;
    let id = create_deployment(&app, &seed("seed-002.json")).await;

    let mut viewer = app.user_client("vi", Role::Viewer).await;
    let page = viewer.get(&format!("/deployments/{id}/plan")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("badge-create") && html.contains("hello-lb-urlmap"),
        "{html}"
    );
    assert!(
        !html.contains("id=\"apply\""),
        "viewers get no apply button"
    );

    let mut editor = app.user_client("ed", Role::Editor).await;
    let html = editor
        .get(&format!("/deployments/{id}/plan"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"apply\""));
    let r = editor
        .post_form(&format!("/deployments/{id}/apply"), &[])
        .await;
    assert_eq!(
        r.status(),
        422,
        "an Apply without the reviewed plan's id is refused"
    );
    let r = editor
        .post_form(
            &format!("/deployments/{id}/apply"),
            &[("plan_id", &plan_id_in(&html))],
        )
        .await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let job: i64 = location.trim_start_matches("/jobs/").parse().unwrap();
    let mut api = app.token_client("bot", Role::Viewer).await;
    assert_eq!(wait_job(&mut api, job).await["status"], "succeeded");
    let html = editor
        .get(&format!("/deployments/{id}/plan"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("already matches"), "{html}");

    // A draft that is not a valid spec yet gets its reason on the page, not an error.
    let broken =
        switchyard::db::deployments::create(&app.state.db, "half", "{\"name\":\"half\"}", "ed")
            .await
            .unwrap();
    let page = editor
        .get(&format!("/deployments/{}/plan", broken.id))
        .await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("id=\"plan-problem\""));
}

/// The plan id a plan or destroy page's form carries.
pub fn plan_id_in(html: &str) -> String {
    let at = html
        .find("name=\"plan_id\" value=\"")
        .expect("the page carries a plan id");
    let rest = &html[at + "name=\"plan_id\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}
