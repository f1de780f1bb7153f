//! The image canary in a real Chromium at 1366 pixels: seed 001's service gated on asia-east1,
//! a new image reviewed on the plan page (which says what the canary does), applied while the
//! sandbox makes asia-east1 answer 5xx: the job page says the previous revision is back there
//! and shows the chart of the breach.

use crate::common::spawn_app;
use crate::sandbox_apply::apply_in_sandbox;
use crate::support::{
    Browser, click, screenshot, scroll_to, sign_in_from, text_of, wait_for_css_text,
    wait_for_job_page,
};
use fantoccini::Locator;
use serde_json::{Value, json};
use std::time::Duration;
use switchyard::auth::Role;
use switchyard::cloud::sandbox::traffic::Condition;

const HELLO: &str = "us-docker.pkg.dev/cloudrun/container/hello";

fn gated(image: &str) -> Value {
    let path = format!(
        "{}/tests/data/seeds/seed-001.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut spec: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    spec["frontend"]["protocol"] = "http".into();
    spec["frontend"]["domains"] = json!([]);
    spec["backends"][0]["outlier_detection"] = json!(false);
    spec["services"] = json!([{
        "name": "my-app", "image": image,
        "regions": ["us-central1", "europe-west1", "asia-east1"], "min_instances": 1
    }]);
    spec["rollout"] = json!({
        "canary_region": "asia-east1", "soak_seconds": 2, "max_error_ratio": 0.05
    });
    spec
}

#[tokio::test]
async fn a_canary_that_breaches_is_reviewed_applied_and_rolled_back_on_the_page() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let (id, _) = apply_in_sandbox(&app, &gated(HELLO).to_string(), "ed").await;
    switchyard::db::deployments::update(
        &app.state.db,
        id,
        1,
        "my-app",
        &gated(&format!("{HELLO}:v2")).to_string(),
        "ed",
    )
    .await
    .unwrap();
    app.state.sandbox.as_ref().unwrap().set_region_condition(
        "asia-east1",
        Condition {
            error_ratio: 1.0,
            extra_latency_ms: 0.0,
        },
    );

    let browser = Browser::start().await;
    let b = &browser.client;
    b.set_window_size(1366, 1000).await.unwrap();
    sign_in_from(b, &app.base, &format!("/deployments/{id}/plan"), "ed").await;
    let canary = text_of(b, "#plan-canary").await;
    assert!(
        canary.contains("goes to asia-east1 first and holds 2 s"),
        "{canary}"
    );
    scroll_to(b, "plan-canary").await;
    screenshot(b, "canary-plan").await;
    if b.find(Locator::Id("accept-risks")).await.is_ok() {
        click(b, "accept-risks").await;
    }
    click(b, "apply").await;
    wait_for_job_page(b).await;
    wait_for_css_text(b, "#job-status", "failed", Duration::from_secs(60)).await;
    let outcome = text_of(b, "#outcome-canary-back").await;
    assert!(
        outcome.contains("put the previous revision back in asia-east1"),
        "{outcome}"
    );
    let failed = text_of(b, "#outcome-failed").await;
    assert!(
        failed.contains("5xx ratio 100.00% is above max_error_ratio 5.00%"),
        "{failed}"
    );
    scroll_to(b, "job-outcome").await;
    screenshot(b, "canary-job-rolled-back").await;
    assert!(b.find(Locator::Id("breach-chart")).await.is_ok());
    scroll_to(b, "breach-chart").await;
    screenshot(b, "canary-breach-chart").await;

    // The Services step carries the gate the rollout used.
    b.goto(&format!("{}/deployments/{id}/edit/services", app.base))
        .await
        .unwrap();
    scroll_to(b, "rollout").await;
    let soak = b.find(Locator::Id("rollout-soak")).await.unwrap();
    assert_eq!(soak.prop("value").await.unwrap().as_deref(), Some("2"));
    screenshot(b, "canary-services-rollout").await;
    browser.close().await;
}
