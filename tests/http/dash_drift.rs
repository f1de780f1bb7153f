//! Drift against the sandbox cloud: right after an apply the live resources match; a change
//! made behind the panel's back (through the sandbox's Compute API) is reported with the field
//! that differs; the IP and certificate status are read on the way.

use crate::common::spawn_app;
use crate::sandbox_apply::apply_in_sandbox;
use switchyard::auth::Role;
use switchyard::cloud::ResourceRef;

const SEED_002: &str = include_str!("../data/seeds/seed-002.json");

#[tokio::test]
async fn a_change_behind_the_panels_back_is_drift() {
    let app = spawn_app().await;
    let mut editor = app.user_client("ed", Role::Editor).await;
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let (id, _) = apply_in_sandbox(&app, SEED_002, "ed").await;

    // Check now, right after the apply: in sync, and the IP is known.
    let r = editor
        .post_form(&format!("/deployments/{id}/drift"), &[])
        .await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let page = viewer
        .get(&format!("/deployments/{id}/overview"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("in sync"),
        "right after the apply nothing differs"
    );
    let live = switchyard::db::live_facts::live(&app.state.db, id)
        .await
        .unwrap()
        .expect("live facts recorded");
    let ip = live.ip.expect("the reserved address");
    assert!(ip.parse::<std::net::Ipv4Addr>().is_ok(), "{ip}");
    assert!(live.certificate.is_some());
    let dashboard = viewer.get("/").await.text().await.unwrap();
    assert!(dashboard.contains(&ip));

    // Someone turns Cloud CDN on in the console.
    let bs = ResourceRef::global("my-lb-project", "backendServices", "hello-lb-bs-hello2");
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

    // A viewer may not check; an editor may.
    let r = viewer
        .post_form(&format!("/deployments/{id}/drift"), &[])
        .await;
    assert_eq!(r.status(), 403);
    let r = editor
        .request(reqwest::Method::POST, &format!("/deployments/{id}/drift"))
        .header("hx-request", "true")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let frag = r.text().await.unwrap();
    assert!(
        frag.starts_with("<section class=\"card\" id=\"drift\">"),
        "{frag}"
    );
    assert!(frag.contains("live differs"));
    assert!(
        frag.contains("hello-lb-bs-hello2") && frag.contains("<code>enableCDN</code>"),
        "{frag}"
    );
    assert!(frag.contains("changed outside the panel"));

    let dashboard = viewer.get("/").await.text().await.unwrap();
    assert!(dashboard.contains("live differs"));
    let check = switchyard::db::drift_checks::latest_drift(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (check.result.as_str(), check.requested_by.as_str()),
        ("drifted", "ed")
    );

    // The periodic task's unit of work finds the same thing.
    let reader = switchyard::deploy::CloudLiveReader::new(app.state.cloud.clone());
    assert_eq!(
        switchyard::drift::check_all(&app.state.db, &reader)
            .await
            .unwrap(),
        1
    );
    let check = switchyard::db::drift_checks::latest_drift(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (check.result.as_str(), check.requested_by.as_str()),
        ("drifted", "(schedule)")
    );

    // Manual checks are audited.
    let mut admin = app.user_client("root", Role::Admin).await;
    let audit = admin
        .get("/audit?action=deployment.drift_check")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(audit.matches("<tr id=\"audit-").count(), 2);
}

#[tokio::test]
async fn drafts_cannot_be_checked_and_missing_deployments_are_404() {
    let app = spawn_app().await;
    let mut editor = app.user_client("ed", Role::Editor).await;
    let d = switchyard::db::deployments::create(&app.state.db, "hello-lb", SEED_002, "ed")
        .await
        .unwrap();
    let r = editor
        .post_form(&format!("/deployments/{}/drift", d.id), &[])
        .await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("never been applied"));
    let r = editor.post_form("/deployments/999999/drift", &[]).await;
    assert_eq!(r.status(), 404);
}
