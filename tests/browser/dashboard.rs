//! The dashboard's pages in a real Chromium: the deployment overview draws the topology and
//! the route tester answers through htmx.

use crate::common::spawn_app;
use crate::support::{Browser, click, current_path, fill, sign_in_from, text_of};
use fantoccini::Locator;
use switchyard::auth::Role;

const SEED_002: &str = include_str!("../data/seeds/seed-002.json");

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
    sign_in_from(b, &app.base, &page, "vic").await;
    assert_eq!(current_path(b).await, page);

    // The diagram is drawn: both backends and the rewrite are visible texts of the SVG.
    let svg = b.find(Locator::Css("#topology svg")).await.unwrap();
    assert!(svg.is_displayed().await.unwrap());
    let all = diagram_texts(b).await;
    assert!(all.iter().any(|t| t == "hello"), "{all:?}");
    assert!(all.iter().any(|t| t == "hello2"), "{all:?}");
    assert!(all.iter().any(|t| t == "rewrite /hello2/* → /"), "{all:?}");

    // The route tester answers in place (htmx), without leaving the page.
    fill(b, "route-host", "hello.example.com").await;
    fill(b, "route-path", "/hello2/x").await;
    click(b, "route-test-submit").await;
    let answer = b
        .wait()
        .for_element(Locator::Css("#route-answer .route-target"))
        .await
        .unwrap();
    assert_eq!(
        answer.attr("data-backend").await.unwrap().as_deref(),
        Some("hello2")
    );
    let path = text_of(b, "#route-answer .route-path").await;
    assert_eq!(path, "/x");
    assert_eq!(current_path(b).await, page, "no navigation");

    // A bad path is explained in place.
    fill(b, "route-path", "nope").await;
    click(b, "route-test-submit").await;
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
    sign_in_from(b, &app.base, "/", "ed").await;

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
    let state = text_of(b, &format!("{row} .deployment-state")).await;
    assert_eq!(state, "applied");
    let last_job = text_of(b, &format!("{row} .job-status")).await;
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
    click(b, "route-test-submit").await;
    let answer = b
        .wait()
        .for_element(Locator::Css("#route-answer .route-target"))
        .await
        .unwrap();
    assert_eq!(
        answer.attr("data-backend").await.unwrap().as_deref(),
        Some("hello2")
    );
    let path = text_of(b, "#route-answer .route-path").await;
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
    click(b, "drift-check").await;
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
    let badge = text_of(b, "#drift-result").await;
    assert_eq!(badge, "live differs");
    b.goto(&format!("{}/", app.base)).await.unwrap();
    let cell = b
        .find(Locator::Css(&format!("{row} .status-drifted")))
        .await
        .unwrap();
    assert_eq!(cell.text().await.unwrap(), "live differs");
    browser.close().await;
}

/// The empty dashboard leads an editor to "New deployment"; a 63-character deployment name and a
/// long domain wrap inside the deployments card at 1366 pixels instead of pushing the table out.
#[tokio::test]
async fn empty_dashboard_links_to_new_and_long_names_stay_in_the_card() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let browser = Browser::start().await;
    let b = &browser.client;
    b.set_window_size(1366, 900).await.unwrap();
    sign_in_from(b, &app.base, "/", "ed").await;
    let empty = text_of(b, "#dashboard-empty").await;
    assert!(empty.contains("No deployments yet"), "{empty}");
    click(b, "dashboard-new").await;
    assert_eq!(current_path(b).await, "/deployments/new");

    let long = format!("a{}", "-very-long-name".repeat(4))
        .chars()
        .take(63)
        .collect::<String>();
    let spec = SEED_002.replace(
        "\"hello.example.com\"",
        "\"a-rather-long-subdomain-for-the-team.customer-facing.example.com\"",
    );
    switchyard::db::deployments::create(&app.state.db, &long, &spec, "ed")
        .await
        .unwrap();
    b.goto(&format!("{}/", app.base)).await.unwrap();
    let fits: bool = b
        .execute(
            "const card = document.getElementById('deployments');
             const table = document.getElementById('deployments-table');
             return table.getBoundingClientRect().right <= card.getBoundingClientRect().right
                 && card.scrollWidth <= card.clientWidth;",
            vec![],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap();
    crate::support::screenshot(b, "dashboard-long-name").await;
    assert!(fits, "the deployments table overflows its card");
    let name = text_of(b, "#deployments-table td.deployment-name strong").await;
    assert_eq!(name.replace('\n', ""), long, "the whole name is shown");
    browser.close().await;
}
