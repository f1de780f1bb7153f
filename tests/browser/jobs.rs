//! Job control in a real Chromium: an editor cancels a running apply from its page; a failed
//! apply says what it left in the cloud, its draft is fixed in the wizard, and Resume on the
//! job page finishes the same job. The page follows the job through htmx polling throughout.

use crate::common::{TestApp, spawn_app};
use crate::support::sign_in_from;
use crate::support::{Browser, click, screenshot, scroll_to, wait_for_css_text};
use fantoccini::Locator;
use serde_json::{Value, json};
use std::time::Duration;
use switchyard::auth::Role;

const SEED_002: &str = include_str!("../data/seeds/seed-002.json");
const SEED_001_SERVICES: &str = include_str!("../data/seeds/seed-001-services.json");
const HELLO: &str = "us-docker.pkg.dev/cloudrun/container/hello";

/// Changes the sandbox's latency and faults at run time.
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

async fn text(b: &fantoccini::Client, css: &str) -> String {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_editor_cancels_a_running_apply_from_its_page() {
    let app = spawn_app().await;
    // Slow operations: the job is still running when the page opens and the button is clicked.
    sandbox(&app, json!({ "operationLatencyMs": 3000 })).await;
    app.create_user("ed", Role::Editor).await;
    let row = switchyard::db::deployments::create(&app.state.db, "hello-lb", SEED_002, "ed")
        .await
        .unwrap();
    let job = app.state.deployer.apply(&row, "ed").await.unwrap();

    let browser = Browser::start().await;
    let b = &browser.client;
    b.set_window_size(1366, 1000).await.unwrap();
    let page = format!("/jobs/{job}");
    sign_in_from(b, &app.base, &page, "ed").await;
    assert_eq!(text(b, "#job-status").await, "running");
    screenshot(b, "job-running").await;

    click(b, "job-cancel").await;
    // A plain form: the browser posts and lands on the job page again.
    b.wait()
        .for_element(Locator::Id("job-progress"))
        .await
        .unwrap();
    assert_eq!(b.current_url().await.unwrap().path(), page);
    if b.find(Locator::Id("job-cancelling")).await.is_ok() {
        screenshot(b, "job-cancelling").await;
    }
    // The steps in flight finish, then the job stops; polling brings the page along.
    wait_for_css_text(b, "#job-status", "cancelled", Duration::from_secs(30)).await;
    let status = app.state.deployer.runner().wait(job).await.unwrap().status;
    assert_eq!(status, "cancelled");
    assert!(
        b.find(Locator::Id("job-cancel")).await.is_err(),
        "nothing left to cancel"
    );
    let summary = text(b, "#outcome-summary").await;
    assert!(summary.starts_with("It was cancelled with"), "{summary}");
    assert!(text(b, "#outcome-not-run").await.contains("Create"));
    assert_eq!(
        text(b, "#job-resume").await,
        "Resume where it stopped",
        "a cancelled job can go on"
    );
    screenshot(b, "job-cancelled").await;
    scroll_to(b, "job-moves").await;
    screenshot(b, "job-cancelled-moves").await;
    browser.close().await;
}

#[tokio::test]
async fn a_failed_apply_is_fixed_in_the_draft_and_resumed_from_its_page() {
    let app = spawn_app().await;
    // Compute quick, Cloud Run slow: the address, certificate and redirect are made by the
    // time the canary region fails on its image.
    sandbox(
        &app,
        json!({ "operationLatencyMs": 20, "runLatencyMs": 1000, "faults": { "failingImages": ["broken"] } }),
    )
    .await;
    app.create_user("ed", Role::Editor).await;
    let mut spec: Value = serde_json::from_str(SEED_001_SERVICES).unwrap();
    spec["frontend"]["http_redirect"] = json!(true);
    spec["rollout"] = json!({ "canary_region": "us-central1" });
    spec["services"][0]["image"] = json!(format!("{HELLO}:broken"));
    let row = switchyard::db::deployments::create(&app.state.db, "my-app", &spec.to_string(), "ed")
        .await
        .unwrap();
    let job = app.state.deployer.apply(&row, "ed").await.unwrap();

    let browser = Browser::start().await;
    let b = &browser.client;
    b.set_window_size(1366, 1000).await.unwrap();
    let page = format!("/jobs/{job}");
    sign_in_from(b, &app.base, &page, "ed").await;
    wait_for_css_text(b, "#job-status", "failed", Duration::from_secs(30)).await;
    let done = text(b, "#outcome-done").await;
    for made in [
        "Created the IP address my-app-ip",
        "Created the managed certificate my-app-cert-",
        "Created the HTTP-to-HTTPS redirect my-app-redirect",
    ] {
        assert!(done.contains(made), "{made}: {done}");
    }
    let failed = text(b, "#outcome-failed").await;
    assert!(failed.contains("Deploy the Cloud Run service my-app in us-central1"));
    scroll_to(b, "job-outcome").await;
    screenshot(b, "job-failed").await;
    scroll_to(b, "job-moves").await;
    screenshot(b, "job-failed-moves").await;

    // Fix the draft: the link goes to the wizard step that holds the image.
    click(b, "job-fix").await;
    b.wait()
        .for_element(Locator::Id("edit-service-0"))
        .await
        .unwrap();
    assert_eq!(
        b.current_url().await.unwrap().path(),
        format!("/deployments/{}/edit/services", row.id)
    );
    b.find(Locator::Css("#edit-service-0 summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let image = b
        .find(Locator::Css("#edit-service-0 input[name=image]"))
        .await
        .unwrap();
    image.clear().await.unwrap();
    image.send_keys(HELLO).await.unwrap();
    click(b, "save-service-0").await;
    let mut saved = false;
    for _ in 0..50 {
        let d = switchyard::db::deployments::get(&app.state.db, row.id)
            .await
            .unwrap()
            .unwrap();
        if d.version > row.version {
            let spec: Value = serde_json::from_str(&d.spec).unwrap();
            assert_eq!(spec["services"][0]["image"], HELLO);
            saved = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(saved, "the wizard saved the new image");

    // Back on the job page, Resume runs the failed and not-run steps with the new image.
    b.goto(&format!("{}{page}", app.base)).await.unwrap();
    click(b, "job-resume").await;
    b.wait()
        .for_element(Locator::Id("job-progress"))
        .await
        .unwrap();
    wait_for_css_text(b, "#job-status", "succeeded", Duration::from_secs(60)).await;
    assert!(b.find(Locator::Id("job-outcome")).await.is_err());
    assert!(b.find(Locator::Id("job-resume")).await.is_err());
    screenshot(b, "job-resumed").await;
    for region in ["us-central1", "europe-west1", "asia-east1"] {
        let s = app
            .state
            .cloud
            .run_services("my-project", region)
            .get("my-app")
            .await
            .unwrap()
            .unwrap();
        assert!(s.is_ready(), "{region}");
    }
    browser.close().await;
}
