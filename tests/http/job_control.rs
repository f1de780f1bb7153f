//! Cancelling and resuming jobs: the API's answers for a job in the wrong state or no job at
//! all, and the job page's buttons (editors only), its account of a failed job and the moves it
//! offers.

use crate::common::{TestApp, spawn_app};
use crate::dash_jobs::insert_job;
use serde_json::{Value, json};
use switchyard::auth::Role;

async fn post_api(c: &mut crate::common::Client, path: &str) -> (u16, Value) {
    let r = c.post_json(path, &json!({})).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn deployment(app: &TestApp, name: &str) -> i64 {
    switchyard::db::deployments::create(&app.state.db, name, "{}", "ann")
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn resume_and_cancel_answer_409_in_the_wrong_state_and_404_for_no_job() {
    let app = spawn_app().await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let dep = deployment(&app, "shop").await;
    let succeeded = insert_job(&app, dep, "apply", "succeeded", "ann", 0).await;
    let failed = insert_job(&app, dep, "apply", "failed", "ann", 10).await;
    let cancelled = insert_job(&app, dep, "apply", "cancelled", "ann", 20).await;

    for (path, want, code) in [
        (format!("/api/v1/jobs/{succeeded}/resume"), 409, "conflict"),
        ("/api/v1/jobs/999999/resume".to_string(), 404, "not_found"),
        (format!("/api/v1/jobs/{succeeded}/cancel"), 409, "conflict"),
        (format!("/api/v1/jobs/{failed}/cancel"), 409, "conflict"),
        (format!("/api/v1/jobs/{cancelled}/cancel"), 409, "conflict"),
        ("/api/v1/jobs/999999/cancel".to_string(), 404, "not_found"),
    ] {
        let (status, body) = post_api(&mut c, &path).await;
        assert_eq!(status, want, "{path}: {body}");
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
    }
    let (_, body) = post_api(&mut c, &format!("/api/v1/jobs/{succeeded}/resume")).await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("succeeded") && message.contains("failed or cancelled"),
        "says why: {message}"
    );

    // A running job is cancelled: 202, and the job says a cancel was asked for.
    let running = insert_job(&app, dep, "apply", "running", "ann", 30).await;
    let (status, body) = post_api(&mut c, &format!("/api/v1/jobs/{running}/cancel")).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["cancel_requested"], true, "{body}");
    // Resuming a failed job while another job of the deployment runs: 409 naming it.
    let (status, body) = post_api(&mut c, &format!("/api/v1/jobs/{failed}/resume")).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("job {running}")),
        "{body}"
    );
}

async fn page(c: &mut crate::common::Client, path: &str) -> String {
    let r = c.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

#[tokio::test]
async fn editors_cancel_from_the_job_page_and_viewers_see_no_buttons() {
    let app = spawn_app().await;
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let mut editor = app.user_client("ed", Role::Editor).await;
    let dep = deployment(&app, "shop").await;
    let running = insert_job(&app, dep, "apply", "running", "ann", 0).await;
    let job = format!("/jobs/{running}");

    let body = page(&mut viewer, &job).await;
    assert!(!body.contains("id=\"job-cancel\""), "viewers get no button");
    let body = page(&mut editor, &job).await;
    assert!(
        body.contains(&format!("action=\"/jobs/{running}/cancel\""))
            && body.contains("Cancel this job"),
        "a plain form, which works without JS"
    );

    let r = viewer.post_form(&format!("{job}/cancel"), &[]).await;
    assert_eq!(r.status(), 403);
    let r = viewer.post_form(&format!("{job}/resume"), &[]).await;
    assert_eq!(r.status(), 403);
    let r = editor.post_form(&format!("{job}/cancel"), &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], job.as_str());
    let (asked,): (bool,) = sqlx::query_as("SELECT cancel_requested FROM jobs WHERE id = ?")
        .bind(running)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert!(asked);
    // Until the runner stops it the job still runs: the page says a cancel is on its way.
    let body = page(&mut editor, &job).await;
    assert!(body.contains("id=\"job-cancelling\"") && !body.contains("id=\"job-cancel\""));
    let progress = editor.get(&format!("{job}/progress")).await;
    assert_eq!(progress.status(), 200, "still polled while it runs");

    // Wrong state and no job, as in the API.
    let succeeded = insert_job(&app, dep, "apply", "succeeded", "ann", 10).await;
    for (path, want) in [
        (format!("/jobs/{succeeded}/cancel"), 409),
        (format!("/jobs/{succeeded}/resume"), 409),
        ("/jobs/999999/cancel".to_string(), 404),
        ("/jobs/999999/resume".to_string(), 404),
    ] {
        let r = editor.post_form(&path, &[]).await;
        assert_eq!(r.status(), want, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "an error page"
        );
    }
    let body = page(&mut editor, &format!("/jobs/{succeeded}")).await;
    assert!(
        !body.contains("id=\"job-resume\"") && !body.contains("id=\"job-outcome\""),
        "a succeeded job offers nothing to resume"
    );
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

async fn wait_over(app: &TestApp, job: i64) -> String {
    app.state.deployer.runner().wait(job).await.unwrap().status
}

const HELLO: &str = "us-docker.pkg.dev/cloudrun/container/hello";

/// The example: a canary region that never becomes Ready after the address, the
/// certificate and the redirect were made.
#[tokio::test]
async fn a_failed_apply_says_what_it_left_and_resumes_from_its_page_once_the_draft_is_fixed() {
    let app = spawn_app().await;
    // Compute is quick and Cloud Run slow, so the load balancer's own parts are done by the
    // time the canary fails.
    sandbox(
        &app,
        json!({ "operationLatencyMs": 20, "runLatencyMs": 1000, "faults": { "failingImages": ["broken"] } }),
    )
    .await;
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let mut editor = app.user_client("ed", Role::Editor).await;
    let path = format!(
        "{}/tests/data/seeds/seed-001-services.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut spec: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    spec["frontend"]["http_redirect"] = json!(true);
    spec["rollout"] = json!({ "canary_region": "us-central1" });
    spec["services"][0]["image"] = json!(format!("{HELLO}:broken"));
    let row = switchyard::db::deployments::create(&app.state.db, "my-app", &spec.to_string(), "ed")
        .await
        .unwrap();
    let id = row.id;
    let job = app.state.deployer.apply(&row, "ed").await.unwrap();
    assert_eq!(wait_over(&app, job).await, "failed");

    let body = page(&mut editor, &format!("/jobs/{job}")).await;
    let section = |id: &str| {
        let start = body
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id} in {body}"));
        body[start..].split("</ul>").next().unwrap().to_string()
    };
    let done = section("outcome-done");
    for made in [
        "Created the IP address my-app-ip",
        "Created the managed certificate my-app-cert-",
        "Created the HTTP-to-HTTPS redirect my-app-redirect",
    ] {
        assert!(done.contains(made), "{made}: {done}");
    }
    let failed = section("outcome-failed");
    assert!(
        failed.contains("Deploy the Cloud Run service my-app in us-central1")
            && failed.contains("failed to start"),
        "{failed}"
    );
    let not_run = section("outcome-not-run");
    for region in ["europe-west1", "asia-east1"] {
        assert!(
            not_run.contains(&format!("Deploy the Cloud Run service my-app in {region}")),
            "{region} waits for the canary: {not_run}"
        );
    }
    assert!(body.contains("Resume from the failed step"));
    assert!(body.contains(&format!("action=\"/jobs/{job}/resume\"")));
    assert!(body.contains(&format!("href=\"/deployments/{id}/edit/services\"")));
    assert!(body.contains("Fix the draft and plan again"));
    assert!(body.contains(&format!("href=\"/deployments/{id}/plan\"")));
    assert!(body.contains(&format!("href=\"/deployments/{id}/destroy\"")));

    let body = page(&mut viewer, &format!("/jobs/{job}")).await;
    assert!(
        body.contains("id=\"outcome-done\""),
        "everyone reads the account"
    );
    assert!(!body.contains("id=\"job-resume\"") && !body.contains("id=\"job-fix\""));
    assert!(body.contains("id=\"job-moves-viewer\""));

    // Fix the image in the draft, then Resume on the job page: the same job finishes.
    spec["services"][0]["image"] = json!(HELLO);
    switchyard::db::deployments::update(&app.state.db, id, 1, "my-app", &spec.to_string(), "ed")
        .await
        .unwrap();
    let r = editor.post_form(&format!("/jobs/{job}/resume"), &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], format!("/jobs/{job}").as_str());
    assert_eq!(wait_over(&app, job).await, "succeeded");
    let body = page(&mut editor, &format!("/jobs/{job}")).await;
    assert!(body.contains("data-status=\"succeeded\"") && !body.contains("id=\"job-outcome\""));
    let r = editor.post_form(&format!("/jobs/{job}/resume"), &[]).await;
    assert_eq!(r.status(), 409, "a succeeded job is not resumed twice");
}
