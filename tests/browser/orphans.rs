//! Nothing orphaned in a real Chromium: the list's Delete button (an htmx post behind a
//! confirmation) shows why an applied deployment is not deleted; forgetting it from its page
//! takes the typed name and leaves it on the list of forgotten deployments.

use crate::common::spawn_app;
use crate::sandbox_apply::apply_in_sandbox;
use crate::support::{Browser, click, current_path, sign_in, type_into, wait_for_text};
use fantoccini::Locator;
use switchyard::auth::Role;

const SEED_002: &str = include_str!("../data/seeds/seed-002.json");

#[tokio::test]
async fn an_applied_deployment_is_not_deleted_but_can_be_forgotten() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let (id, _) = apply_in_sandbox(&app, SEED_002, "ann").await;
    let browser = Browser::start().await;
    let b = &browser.client;
    sign_in(b, &app.base, "ed").await;

    b.goto(&format!("{}/deployments", app.base)).await.unwrap();
    b.find(Locator::Css(&format!("#deployment-{id} button.danger")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.accept_alert().await.unwrap();
    let why = wait_for_text(b, "message", "Not deleted").await;
    assert!(
        why.contains("hello-lb has resources in Google Cloud") && why.contains("destroy it first"),
        "{why}"
    );
    assert_eq!(
        current_path(b).await,
        "/deployments",
        "the post is not in the history"
    );
    assert!(
        switchyard::db::deployments::get(&app.state.db, id)
            .await
            .unwrap()
            .is_some()
    );

    b.goto(&format!("{}/deployments/{id}", app.base))
        .await
        .unwrap();
    assert!(b.find(Locator::Id("delete")).await.is_err());
    type_into(b, "forget-confirm", "hello-lb").await;
    click(b, "forget").await;
    let kept = wait_for_text(b, "forgotten", "hello-lb").await;
    assert!(
        kept.contains("my-lb-project") && kept.contains("by ed"),
        "{kept}"
    );
    assert_eq!(current_path(b).await, "/deployments");
    browser.close().await;
}
