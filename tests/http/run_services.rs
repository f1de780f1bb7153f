//! Cloud Run services deployed by the spec (issue #7), against the sandbox: seed 001 whole (three
//! regions, NEGs, HTTPS), a new image rolled out canary region first, destroy with and without
//! the services; an IAM etag race during apply; a region that never becomes Ready, fixed in the
//! spec and resumed.

use crate::common::{TestApp, spawn_app};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use switchyard::auth::Role;
use switchyard::cloud::types::RunService;

const PROJECT: &str = "my-project";
const REGIONS: &[&str] = &["us-central1", "europe-west1", "asia-east1"];
const HELLO: &str = "us-docker.pkg.dev/cloudrun/container/hello";

fn seed() -> Value {
    let path = format!(
        "{}/tests/data/seeds/seed-001-services.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn sandbox(app: &TestApp, body: Value) {
    let compute = app.state.cloud.config().compute_endpoint.clone();
    let base = compute.trim_end_matches("compute/v1/");
    let r = reqwest::Client::new()
        .post(format!("{base}sandbox/v1/faults"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "sandbox admin: {}", r.status());
}

async fn create_deployment(app: &TestApp, spec: &Value) -> i64 {
    switchyard::db::deployments::create(
        &app.state.db,
        spec["name"].as_str().unwrap(),
        &spec.to_string(),
        "tester",
    )
    .await
    .unwrap()
    .id
}

/// Saves `spec` as the deployment's next draft version.
async fn edit(app: &TestApp, id: i64, spec: &Value) {
    let row = switchyard::db::deployments::get(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    switchyard::db::deployments::update(
        &app.state.db,
        id,
        row.version,
        &row.name,
        &spec.to_string(),
        "tester",
    )
    .await
    .unwrap();
}

async fn post(c: &mut crate::common::Client, path: &str, body: Value) -> (u16, Value) {
    let r = c.post_json(path, &body).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn start(c: &mut crate::common::Client, id: i64, kind: &str, body: Value) -> i64 {
    let (status, reply) = post(c, &format!("/api/v1/deployments/{id}/{kind}"), body).await;
    assert_eq!(status, 202, "{kind}: {reply}");
    reply["job_id"].as_i64().unwrap()
}

async fn wait_job(c: &mut crate::common::Client, job: i64) -> Value {
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

async fn run_job(c: &mut crate::common::Client, id: i64, kind: &str, body: Value) -> Value {
    let job = start(c, id, kind, body).await;
    wait_job(c, job).await
}

/// The job's log as the job page shows it, one line per entry.
async fn job_log(app: &TestApp, job: i64) -> String {
    switchyard::db::jobs::job_log(&app.state.db, job, 0)
        .await
        .unwrap()
        .iter()
        .map(|l| l.message.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The stored dependencies of a job's step.
async fn depends_on(app: &TestApp, job: i64, step: &str) -> Vec<String> {
    let steps = switchyard::db::jobs::job_steps(&app.state.db, job)
        .await
        .unwrap();
    let s = steps.iter().find(|s| s.step_id == step).unwrap();
    serde_json::from_str(&s.depends_on).unwrap()
}

async fn plan(c: &mut crate::common::Client, id: i64) -> Value {
    let (status, body) = post(c, &format!("/api/v1/deployments/{id}/plan"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn service_id(region: &str) -> String {
    format!("projects/{PROJECT}/locations/{region}/services/my-app")
}

async fn service(app: &TestApp, region: &str) -> Option<RunService> {
    app.state
        .cloud
        .run_services(PROJECT, region)
        .get("my-app")
        .await
        .unwrap()
}

fn image_of(s: &RunService) -> String {
    s.template.as_ref().unwrap().containers[0].image.clone()
}

fn step<'a>(job: &'a Value, id: &str) -> &'a Value {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in {job}"))
}

/// Load balancer resources of the deployment (Compute), by listing with its name prefix.
async fn load_balancer(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    let mut collections: Vec<switchyard::cloud::CollectionRef> = [
        "backendServices",
        "urlMaps",
        "sslCertificates",
        "targetHttpsProxies",
        "addresses",
        "forwardingRules",
    ]
    .iter()
    .map(|c| switchyard::cloud::CollectionRef::global(PROJECT, c))
    .collect();
    for r in REGIONS {
        collections.push(switchyard::cloud::CollectionRef::regional(
            PROJECT,
            r,
            "networkEndpointGroups",
        ));
    }
    for c in collections {
        let items: Vec<Value> = app.state.cloud.list(&c).await.unwrap();
        for item in items {
            let name = item["name"].as_str().unwrap();
            if name.starts_with("my-app-") {
                out.push(format!("{}/{name}", c.path()));
            }
        }
    }
    out
}

#[tokio::test]
async fn seed_001_deploys_three_regions_rolls_out_canary_first_and_destroys() {
    let app = spawn_app().await;
    sandbox(
        &app,
        json!({ "operationLatencyMs": 20, "runLatencyMs": 300 }),
    )
    .await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let mut spec = seed();
    let id = create_deployment(&app, &spec).await;

    let first = plan(&mut c, id).await;
    let actions: Vec<String> = first["actions"]
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
        .collect();
    for r in REGIONS {
        assert!(
            actions.contains(&format!("create {}", service_id(r))),
            "{actions:?}"
        );
    }

    let job = run_job(&mut c, id, "apply", json!({})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let job_id = job["id"].as_i64().unwrap();
    let log = job_log(&app, job_id).await;
    for r in REGIONS {
        let s = service(&app, r).await.expect("deployed");
        assert!(s.is_ready(), "{r}: {s:?}");
        assert_eq!(image_of(&s), HELLO);
        let revision = s.latest_ready_revision.clone().unwrap();
        let uri = s.uri.clone().unwrap();
        // The job shows per region the revision and the URL.
        assert!(
            log.contains(&format!("revision {revision} at {uri}")),
            "{r}: revision {revision} at {uri} not in the log:\n{log}"
        );
        assert_eq!(
            step(&job, &format!("create:{}", service_id(r)))["summary"],
            json!(format!("revision {revision} at {uri}"))
        );
        // The NEG of a region waits for that region's service.
        let neg = format!(
            "create:projects/{PROJECT}/regions/{r}/networkEndpointGroups/{}",
            switchyard::domain::names::serverless_neg("my-app", "my-app", r, "my-app")
        );
        let deps = depends_on(&app, job_id, &neg).await;
        assert!(
            deps.contains(&format!("create:{}", service_id(r))),
            "{deps:?}"
        );
        let policy = app
            .state
            .cloud
            .run_services(PROJECT, r)
            .get_iam_policy("my-app")
            .await
            .unwrap();
        assert!(
            policy
                .bindings
                .iter()
                .any(|b| b.role == "roles/run.invoker"
                    && b.members.contains(&"allUsers".to_string())),
            "{policy:?}"
        );
        let scaling = s.template.as_ref().unwrap().scaling.clone().unwrap();
        assert_eq!(scaling.min_instance_count, Some(1));
        assert_eq!(scaling.max_instance_count, Some(100));
        assert_eq!(
            s.ingress.as_deref(),
            Some("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER")
        );
    }
    let lb = load_balancer(&app).await;
    assert_eq!(
        lb.len(),
        3 + 6,
        "three NEGs, backend service, URL map, cert, proxy, address, rule: {lb:?}"
    );
    let backend: Value = app
        .state
        .cloud
        .get(&switchyard::cloud::ResourceRef::global(
            PROJECT,
            "backendServices",
            "my-app-bs-my-app",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(backend["backends"].as_array().unwrap().len(), 3);
    assert!(backend.get("outlierDetection").is_some());

    // Nothing changed: every action is a noop, services included.
    let again = plan(&mut c, id).await;
    assert!(
        again["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["action"] == "noop"),
        "{again}"
    );

    // A new image, canary region first.
    let v2 = format!("{HELLO}:v2");
    spec["services"][0]["image"] = json!(v2);
    spec["rollout"] = json!({ "canary_region": "europe-west1" });
    edit(&app, id, &spec).await;
    let rollout = plan(&mut c, id).await;
    let updates: Vec<&Value> = rollout["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] != "noop")
        .collect();
    assert_eq!(updates.len(), 3, "only the services change: {rollout}");
    for u in &updates {
        assert_eq!(u["action"], "update", "{u}");
        let changes = u["diff"]["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 1, "{u}");
        assert_eq!(changes[0]["field"], "image");
        assert_eq!(changes[0]["live"], HELLO);
        assert_eq!(changes[0]["desired"], json!(v2));
    }
    let job = run_job(&mut c, id, "apply", json!({})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let canary = step(&job, &format!("update:{}", service_id("europe-west1")));
    let canary_done = canary["finished_at"].as_str().unwrap().to_string();
    for r in ["us-central1", "asia-east1"] {
        let other = step(&job, &format!("update:{}", service_id(r)));
        let started = other["started_at"].as_str().unwrap();
        assert!(
            started >= canary_done.as_str(),
            "{r} started {started}, before the canary was Ready at {canary_done}"
        );
    }
    // The canary step only finishes once its service is Ready on the new image: the revision it
    // reported is the service's current one, on v2.
    let log = job_log(&app, job["id"].as_i64().unwrap()).await;
    for r in REGIONS {
        let s = service(&app, r).await.unwrap();
        assert!(s.is_ready());
        assert_eq!(image_of(&s), v2, "{r}");
        let revision = s.latest_ready_revision.clone().unwrap();
        assert!(log.contains(&format!("revision {revision} at ")), "{log}");
    }

    // Destroy without the option: the load balancer goes, the services stay.
    let job = run_job(&mut c, id, "destroy", json!({})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(load_balancer(&app).await, Vec::<String>::new());
    for r in REGIONS {
        assert!(service(&app, r).await.is_some(), "{r} kept");
    }

    // Apply again, then destroy with the services.
    let job = run_job(&mut c, id, "apply", json!({})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let (status, body) = post(
        &mut c,
        &format!("/api/v1/deployments/{id}/destroy"),
        json!({ "services": "yes" }),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let job = run_job(&mut c, id, "destroy", json!({ "services": true })).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(load_balancer(&app).await, Vec::<String>::new());
    for r in REGIONS {
        assert!(service(&app, r).await.is_none(), "{r} deleted");
    }
}

#[tokio::test]
async fn an_iam_etag_conflict_during_apply_is_retried_with_a_fresh_read() {
    let app = spawn_app().await;
    sandbox(
        &app,
        json!({ "operationLatencyMs": 20, "runLatencyMs": 50, "queue": ["iamRace"] }),
    )
    .await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let id = create_deployment(&app, &seed()).await;
    let job = run_job(&mut c, id, "apply", json!({})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let log = job_log(&app, job["id"].as_i64().unwrap()).await;
    assert!(log.contains("changed since it was read"), "{log}");
    let mut raced = 0;
    for r in REGIONS {
        let policy = app
            .state
            .cloud
            .run_services(PROJECT, r)
            .get_iam_policy("my-app")
            .await
            .unwrap();
        assert!(
            policy
                .bindings
                .iter()
                .any(|b| b.role == "roles/run.invoker"
                    && b.members.contains(&"allUsers".to_string())),
            "{r}: {policy:?}"
        );
        // The other writer's binding survived our retry.
        if policy
            .bindings
            .iter()
            .any(|b| b.role == "roles/run.developer")
        {
            raced += 1;
        }
    }
    assert_eq!(raced, 1, "exactly one region raced");

    // Dropping a region from the service and the backend: its NEG goes, its service stays,
    // and the plan says so.
    let mut spec = seed();
    spec["services"][0]["regions"] = json!(["us-central1", "europe-west1"]);
    spec["backends"][0]["regions"] = json!(["us-central1", "europe-west1"]);
    edit(&app, id, &spec).await;
    let p = plan(&mut c, id).await;
    let warnings = p["warnings"].to_string();
    assert!(
        warnings.contains(&format!(
            "{} is no longer in the spec",
            service_id("asia-east1")
        )),
        "{p}"
    );
    assert!(
        p["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["action"] != "delete"
                || a["resource"]
                    .as_str()
                    .unwrap()
                    .contains("networkEndpointGroups")),
        "{p}"
    );
}

#[tokio::test]
async fn a_region_that_never_becomes_ready_fails_with_cloud_runs_reason_and_resume_after_a_fix_finishes()
 {
    let app = spawn_app().await;
    sandbox(
        &app,
        json!({ "operationLatencyMs": 20, "runLatencyMs": 50, "faults": { "failingImages": ["broken"] } }),
    )
    .await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let mut spec = seed();
    spec["services"][0]["image"] = json!(format!("{HELLO}:broken"));
    let id = create_deployment(&app, &spec).await;
    let job = run_job(&mut c, id, "apply", json!({})).await;
    assert_eq!(job["status"], "failed", "{job}");
    let failed = step(&job, &format!("create:{}", service_id("us-central1")));
    assert_eq!(failed["status"], "failed");
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.contains("failed to start"),
        "Cloud Run's reason: {error}"
    );
    // The load balancer did not go ahead without its services.
    let neg = step(
        &job,
        &format!(
            "create:projects/{PROJECT}/regions/us-central1/networkEndpointGroups/{}",
            switchyard::domain::names::serverless_neg("my-app", "my-app", "us-central1", "my-app")
        ),
    );
    assert_ne!(neg["status"], "succeeded", "{neg}");

    spec["services"][0]["image"] = json!(HELLO);
    edit(&app, id, &spec).await;
    let job_id = job["id"].as_i64().unwrap();
    let (status, body) = post(&mut c, &format!("/api/v1/jobs/{job_id}/resume"), json!({})).await;
    assert_eq!(status, 202, "{body}");
    let job = wait_job(&mut c, job_id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    for r in REGIONS {
        let s = service(&app, r).await.unwrap();
        assert!(s.is_ready(), "{r}");
        assert_eq!(image_of(&s), HELLO);
    }
    assert_eq!(load_balancer(&app).await.len(), 9);
}

#[tokio::test]
async fn the_destroy_pages_checkbox_also_deletes_the_services() {
    let app = spawn_app().await;
    sandbox(
        &app,
        json!({ "operationLatencyMs": 20, "runLatencyMs": 50 }),
    )
    .await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let id = create_deployment(&app, &seed()).await;
    let job = run_job(&mut c, id, "apply", json!({})).await;
    assert_eq!(job["status"], "succeeded", "{job}");

    let mut web = app.user_client("ann", Role::Editor).await;
    let html = web
        .get(&format!("/deployments/{id}/destroy"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"destroy-services\""), "{html}");
    let html = web
        .get(&format!("/deployments/{id}/destroy?services=1"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("run_service_deleted"),
        "the services are listed as deleted: {html}"
    );
    let plan = super::deploy::plan_id_in(&html);
    let r = web
        .post_form(
            &format!("/deployments/{id}/destroy"),
            &[("plan_id", plan.as_str()), ("confirm", "wrong")],
        )
        .await;
    assert_eq!(r.status(), 409, "the name must be typed");
    let r = web
        .post_form(
            &format!("/deployments/{id}/destroy"),
            &[("plan_id", plan.as_str()), ("confirm", "my-app")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let job_id: i64 = to.rsplit('/').next().unwrap().parse().unwrap();
    let job = wait_job(&mut c, job_id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(load_balancer(&app).await, Vec::<String>::new());
    for r in REGIONS {
        assert!(service(&app, r).await.is_none(), "{r} deleted");
    }
}

/// A service named with the deployment's prefix (`own-app` of deployment `own`) is read like any
/// other resource: after an apply, the next plan is all noop and an unchanged re-apply sends no
/// mutating call.
#[tokio::test]
async fn a_service_named_with_the_deployment_prefix_replans_as_noop() {
    let app = spawn_app().await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let mut spec = seed();
    spec["name"] = json!("own");
    spec["backends"][0]["service"] = json!("own-app");
    spec["services"][0]["name"] = json!("own-app");
    let id = create_deployment(&app, &spec).await;
    let job = run_job(&mut c, id, "apply", json!({})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let p = plan(&mut c, id).await;
    for a in p["actions"].as_array().unwrap() {
        assert_eq!(a["action"], "noop", "{a}");
    }
    let again = run_job(&mut c, id, "apply", json!({})).await;
    assert_eq!(
        again["steps"],
        json!([]),
        "no call for an unchanged deployment: {again}"
    );
}
