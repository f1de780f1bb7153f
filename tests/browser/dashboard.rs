//! The dashboard's pages in a real Chromium: the deployment overview draws the topology and
//! the route tester answers through htmx.

use crate::common::{PASSWORD, TestApp, spawn_app};
use crate::support::Browser;
use fantoccini::Locator;
use switchyard::auth::Role;

const SEED_002: &str = include_str!("../data/seeds/seed-002.json");

pub async fn sign_in(b: &fantoccini::Client, app: &TestApp, name: &str, next: &str) {
    b.goto(&format!("{}{next}", app.base)).await.unwrap();
    assert!(b.current_url().await.unwrap().path().starts_with("/signin"));
    b.find(Locator::Id("name"))
        .await
        .unwrap()
        .send_keys(name)
        .await
        .unwrap();
    b.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    b.find(Locator::Id("signin"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait().for_element(Locator::Id("whoami")).await.unwrap();
}

/// Replaces an input's value.
async fn fill(b: &fantoccini::Client, id: &str, value: &str) {
    let e = b.find(Locator::Id(id)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

#[tokio::test]
async fn overview_draws_the_topology_and_tests_routes_with_htmx() {
    let app = spawn_app().await;
    app.create_user("vic", Role::Viewer).await;
    let id = switchyard::db::deployments::create(&app.state.db, "hello-lb", SEED_002, "ann")
        .await
        .unwrap()
        .id;
    let browser = Browser::start().await;
    let b = &browser.client;
    let page = format!("/deployments/{id}/overview");
    sign_in(b, &app, "vic", &page).await;
    assert_eq!(b.current_url().await.unwrap().path(), page);

    // The diagram is drawn: both backends and the rewrite are visible texts of the SVG.
    let svg = b.find(Locator::Css("#topology svg")).await.unwrap();
    assert!(svg.is_displayed().await.unwrap());
    let texts = b
        .find_all(Locator::Css("#topology svg text"))
        .await
        .unwrap();
    let mut all = Vec::new();
    for t in texts {
        all.push(t.text().await.unwrap());
    }
    assert!(all.iter().any(|t| t == "hello"), "{all:?}");
    assert!(all.iter().any(|t| t == "hello2"), "{all:?}");
    assert!(all.iter().any(|t| t == "rewrite /hello2/* → /"), "{all:?}");

    // The route tester answers in place (htmx), without leaving the page.
    fill(b, "route-host", "hello.example.com").await;
    fill(b, "route-path", "/hello2/x").await;
    b.find(Locator::Id("route-test-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let answer = b
        .wait()
        .for_element(Locator::Css("#route-answer .route-target"))
        .await
        .unwrap();
    assert_eq!(
        answer.attr("data-backend").await.unwrap().as_deref(),
        Some("hello2")
    );
    let path = b
        .find(Locator::Css("#route-answer .route-path"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(path, "/x");
    assert_eq!(b.current_url().await.unwrap().path(), page, "no navigation");

    // A bad path is explained in place.
    fill(b, "route-path", "nope").await;
    b.find(Locator::Id("route-test-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let err = b
        .wait()
        .for_element(Locator::Css("#route-answer .flash.error"))
        .await
        .unwrap();
    assert!(err.text().await.unwrap().contains("starts with /"));
    browser.close().await;
}

/// The texts of the topology diagram.
async fn diagram_texts(b: &fantoccini::Client) -> Vec<String> {
    let mut all = Vec::new();
    for t in b
        .find_all(Locator::Css("#topology svg text"))
        .await
        .unwrap()
    {
        all.push(t.text().await.unwrap());
    }
    all
}

#[tokio::test]
async fn seed_002_applied_in_the_sandbox_then_changed_behind_the_panels_back() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let (id, _job) = crate::sandbox_apply::apply_in_sandbox(&app, SEED_002, "ed").await;
    let browser = Browser::start().await;
    let b = &browser.client;
    sign_in(b, &app, "ed", "/").await;

    // The dashboard: applied, with its IP (read from the sandbox right after the apply).
    let row = format!("#deployment-{id}");
    let mut ip = String::new();
    for _ in 0..40 {
        b.goto(&format!("{}/", app.base)).await.unwrap();
        if let Ok(e) = b.find(Locator::Css(&format!("{row} .deployment-ip"))).await {
            ip = e.text().await.unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(
        ip.parse::<std::net::Ipv4Addr>().is_ok(),
        "no IP on the dashboard: {ip:?}"
    );
    let state = b
        .find(Locator::Css(&format!("{row} .deployment-state")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(state, "applied");
    let last_job = b
        .find(Locator::Css(&format!("{row} .job-status")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(last_job, "succeeded");

    // The overview: both backends and the rewrite in the diagram, the live IP in it too.
    b.goto(&format!("{}/deployments/{id}/overview", app.base))
        .await
        .unwrap();
    let texts = diagram_texts(b).await;
    for want in ["hello", "hello2", "rewrite /hello2/* → /"] {
        assert!(texts.iter().any(|t| t == want), "{want}: {texts:?}");
    }
    assert!(
        texts.iter().any(|t| t == &format!("static IP {ip}")),
        "{texts:?}"
    );

    // The route tester: /hello2/x goes to hello2, which receives /x.
    fill(b, "route-host", "hello.example.com").await;
    fill(b, "route-path", "/hello2/x").await;
    b.find(Locator::Id("route-test-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let answer = b
        .wait()
        .for_element(Locator::Css("#route-answer .route-target"))
        .await
        .unwrap();
    assert_eq!(
        answer.attr("data-backend").await.unwrap().as_deref(),
        Some("hello2")
    );
    let path = b
        .find(Locator::Css("#route-answer .route-path"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(path, "/x");

    // Someone turns Cloud CDN on through the (sandbox) Compute API; "Check now" reports it.
    let bs = switchyard::cloud::ResourceRef::global(
        "my-lb-project",
        "backendServices",
        "hello-lb-bs-hello2",
    );
    let current: serde_json::Value = app.state.cloud.get(&bs).await.unwrap().unwrap();
    let op = app
        .state
        .cloud
        .patch(
            &bs,
            &serde_json::json!({"enableCDN": true, "fingerprint": current["fingerprint"]}),
            uuid::Uuid::new_v4(),
        )
        .await
        .unwrap();
    app.state.cloud.wait_operation(&op).await.unwrap();
    b.find(Locator::Id("drift-check"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let result = b
        .wait()
        .for_element(Locator::Css("#drift-differences"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        result.contains("enableCDN") && result.contains("hello-lb-bs-hello2"),
        "{result}"
    );
    let badge = b
        .find(Locator::Id("drift-result"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(badge, "live differs");
    b.goto(&format!("{}/", app.base)).await.unwrap();
    let cell = b
        .find(Locator::Css(&format!("{row} .status-drifted")))
        .await
        .unwrap();
    assert_eq!(cell.text().await.unwrap(), "live differs");
    browser.close().await;
}
