//! Chaining in the wizard, in a real Chromium: an internet backend by IP (a private address is
//! refused under the field with the typing kept) and by another deployment picked from a list.

use crate::common::spawn_app;
use crate::support::{Browser, click, create_draft, fill, prop, sign_in, type_into, wait_for_text};
use fantoccini::Locator;
use switchyard::auth::Role;

#[tokio::test]
async fn an_internet_backend_by_ip_then_by_another_deployment() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let back = std::fs::read_to_string(format!(
        "{}/tests/data/seeds/seed-001.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    switchyard::db::deployments::create(&app.state.db, "my-app", &back, "ed")
        .await
        .unwrap();
    let browser = Browser::start().await;
    let b = &browser.client;
    sign_in(b, &app.base, "ed").await;
    b.goto(&format!("{}/deployments", app.base)).await.unwrap();
    click(b, "new-deployment").await;
    type_into(b, "basics-name", "edge-lb").await;
    type_into(b, "basics-project", "edge-project").await;
    let id = create_draft(b).await;
    b.goto(&format!("{}/deployments/{id}/edit/backends", app.base))
        .await
        .unwrap();

    // By IP: a private address is refused where it was typed, and stays there.
    click(b, "internet-target-ip").await;
    type_into(b, "internet-endpoint", "10.1.2.3").await;
    click(b, "add-internet-submit").await;
    let message = wait_for_text(b, "err-internet-endpoint", "private address").await;
    assert!(
        message.starts_with("`10.1.2.3`: a private address (RFC 1918)"),
        "{message}"
    );
    assert_eq!(
        prop(b, "internet-endpoint", "value").await.as_deref(),
        Some("10.1.2.3")
    );
    assert_eq!(
        prop(b, "internet-target-ip", "checked").await.as_deref(),
        Some("true")
    );
    // A public one is added.
    fill(b, "internet-endpoint", "34.120.1.2").await;
    click(b, "add-internet-submit").await;
    b.wait()
        .for_element(Locator::Id("backend-0"))
        .await
        .unwrap();
    wait_for_text(b, "backend-0", "IP 34.120.1.2:443").await;

    // By another deployment, picked from the list of the panel's deployments.
    click(b, "internet-target-deployment").await;
    b.find(Locator::Id("internet-deployment"))
        .await
        .unwrap()
        .select_by_value("my-app")
        .await
        .unwrap();
    type_into(b, "internet-name", "back").await;
    click(b, "add-internet-submit").await;
    b.wait()
        .for_element(Locator::Id("backend-1"))
        .await
        .unwrap();
    wait_for_text(b, "backend-1", "→ deployment my-app").await;
    let d = switchyard::db::deployments::get(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    let spec: serde_json::Value = serde_json::from_str(&d.spec).unwrap();
    assert_eq!(spec["backends"][0]["ip"], "34.120.1.2", "{spec}");
    assert_eq!(spec["backends"][1]["deployment"], "my-app", "{spec}");
    browser.close().await;
}
