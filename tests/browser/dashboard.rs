//! The dashboard's pages in a real Chromium: the deployment overview draws the topology and
//! the route tester answers through htmx.

use crate::common::{PASSWORD, TestApp, spawn_app};
use crate::support::Browser;
use fantoccini::Locator;
use switchyard::auth::Role;

const SEED_002: &str = include_str!("../data/seeds/seed-002.json");

async fn sign_in(b: &fantoccini::Client, app: &TestApp, name: &str, next: &str) {
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
