//! The adopt page in a real Chromium: a project id that is not one is refused under the field;
//! seed 000 built by hand is found with its IP, domain and topology, adopted into a draft whose
//! plan changes nothing and records ownership; the overview says where it came from, and the
//! destroy page offers to release it instead, which leaves it running.

use crate::common::spawn_app;
use crate::hand_built::{P, build_seed_000};
use crate::support::{
    Browser, click, current_path, fill, screenshot, sign_in, text_of, wait_for_job_page,
    wait_for_text,
};
use fantoccini::Locator;
use switchyard::auth::Role;

#[tokio::test]
async fn a_hand_built_load_balancer_is_found_adopted_and_released() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    build_seed_000(&app).await;
    let browser = Browser::start().await;
    let b = &browser.client;
    b.set_window_size(1366, 1000).await.unwrap();
    sign_in(b, &app.base, "ed").await;

    b.goto(&format!("{}/deployments", app.base)).await.unwrap();
    click(b, "adopt-deployment").await;
    fill(b, "adopt-project", "Not_A_Project").await;
    b.find(Locator::Css("#adopt-search button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let why = wait_for_text(b, "adopt-error", "project").await;
    assert!(why.contains("not a Google Cloud project id"), "{why}");

    fill(b, "adopt-project", P).await;
    b.find(Locator::Css("#adopt-search button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let card = wait_for_text(b, "lb-https-forwarding-rule", "your-domain.com").await;
    assert!(card.contains("cloudrun-backend"), "{card}");
    assert!(
        b.find(Locator::Css("#lb-https-forwarding-rule svg"))
            .await
            .is_ok(),
        "the topology picture"
    );
    assert!(
        !crate::support::scrolls_sideways(b).await,
        "the page scrolls sideways at 1366 px"
    );
    screenshot(b, "adopt-list").await;

    b.find(Locator::Css("#adopt-https-forwarding-rule button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let owned = wait_for_text(b, "plan-ownership", "cloudrun-url-map").await;
    assert!(owned.contains("description"), "{owned}");
    assert!(owned.contains("in the panel's records only"), "{owned}");
    let counts = text_of(b, "#plan-counts").await;
    assert!(counts.starts_with("+0 ~0 ±0 −0"), "{counts}");
    let apply = text_of(b, "#apply").await;
    assert!(apply.contains("records ownership only"), "{apply}");
    screenshot(b, "adopt-plan").await;
    click(b, "apply").await;
    let job = wait_for_job_page(b).await;
    let done = app.state.deployer.runner().wait(job).await.unwrap();
    assert_eq!(done.status, "succeeded", "{:?}", done.error);
    let id: i64 = done.deployment.parse().unwrap();

    b.goto(&format!("{}/deployments/{id}/overview", app.base))
        .await
        .unwrap();
    let adopted = wait_for_text(b, "adopted", "https-forwarding-rule").await;
    assert!(adopted.contains("by ed"), "{adopted}");

    b.goto(&format!("{}/deployments/{id}/destroy", app.base))
        .await
        .unwrap();
    wait_for_text(b, "destroy-or-release", "release it instead").await;
    screenshot(b, "adopt-destroy-or-release").await;
    fill(b, "release-confirm", "cloudrun-url-map").await;
    click(b, "release").await;
    wait_for_text(b, "forgotten", "cloudrun-url-map").await;
    assert_eq!(current_path(b).await, "/deployments");
    // Released, not deleted: the load balancer still serves.
    let rule: Option<serde_json::Value> = app
        .state
        .cloud
        .get(&switchyard::cloud::ResourceRef::global(
            P,
            "forwardingRules",
            "https-forwarding-rule",
        ))
        .await
        .unwrap();
    assert!(rule.is_some());
    browser.close().await;
}
