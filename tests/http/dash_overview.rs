//! The deployment overview: spec in words, topology, route tester, DNS and certificate
//! sections; drafts that are not complete specs; bad tester input answered inline.

use crate::common::spawn_app;
use switchyard::auth::Role;

const SEED_002: &str = include_str!("../data/seeds/seed-002.json");

async fn deployment(app: &crate::common::TestApp, name: &str, spec: &str) -> i64 {
    switchyard::db::deployments::create(&app.state.db, name, spec, "ann")
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn overview_shows_words_topology_dns_and_tests_routes() {
    let app = spawn_app().await;
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let id = deployment(&app, "hello-lb", SEED_002).await;

    let r = viewer.get(&format!("/deployments/{id}/overview")).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("<html"), "a direct visit is a whole page");
    assert!(page.contains("Showing the draft version 1."));
    assert!(page.contains("with the matched path prefix rewritten to /"));
    assert!(page.contains("<svg "));
    assert!(page.contains("rewrite /hello2/* → /"));
    assert!(
        page.contains("hello.example.com."),
        "the A record to create"
    );
    assert!(page.contains("the IP address, once the first apply reserves it"));
    assert!(page.contains("id=\"cert-none\""));

    // The same thing as an htmx fragment.
    let r = viewer
        .request(reqwest::Method::GET, &format!("/deployments/{id}/overview"))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    let frag = r.text().await.unwrap();
    assert!(!frag.contains("<html") && frag.contains("id=\"deployment-overview\""));

    // After an apply: the applied spec is shown, with the IP, the certificate's status and the
    // job in the history.
    let job = crate::dash_jobs::insert_apply(&app, id, SEED_002, 5).await;
    switchyard::db::live_facts::set_live(
        &app.state.db,
        id,
        Some("203.0.113.7"),
        Some("hello-lb-cert-021fe3b1"),
        Some("PROVISIONING"),
        &serde_json::json!({"hello.example.com": "FAILED_NOT_VISIBLE"}),
    )
    .await
    .unwrap();
    let page = viewer
        .get(&format!("/deployments/{id}/overview"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Showing the applied spec (applied 2026-01-01T00:00:10.000Z)."));
    assert!(page.contains("static IP 203.0.113.7"));
    assert!(page.contains("<code>203.0.113.7</code>"));
    assert!(page.contains("FAILED_NOT_VISIBLE"));
    assert!(page.contains("the A record hello.example.com → 203.0.113.7"));
    assert!(page.contains(&format!("id=\"history-job-{job}\"")));

    // The route tester: fragment and no-JS fallback agree.
    let r = viewer
        .get(&format!(
            "/deployments/{id}/route-test?host=hello.example.com&path=%2Fhello2%2Fx"
        ))
        .await;
    assert_eq!(r.status(), 200);
    let frag = r.text().await.unwrap();
    assert!(frag.contains("data-backend=\"hello2\""), "{frag}");
    assert!(
        frag.contains("<code class=\"route-path\">/x</code>"),
        "{frag}"
    );
    let page = viewer
        .get(&format!(
            "/deployments/{id}/overview?host=hello.example.com&path=%2F"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-backend=\"hello\""));
}

#[tokio::test]
async fn incomplete_drafts_and_bad_input_are_not_errors() {
    let app = spawn_app().await;
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let id = deployment(&app, "draft", r#"{"name": "draft"}"#).await;
    let r = viewer.get(&format!("/deployments/{id}/overview")).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"overview-incomplete\""));
    assert!(!page.contains("<svg "));
    let r = viewer
        .get(&format!("/deployments/{id}/route-test?host=a&path=%2F"))
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("not a complete spec"));

    let id = deployment(&app, "hello-lb", SEED_002).await;
    for q in [
        "host=&path=%2F",
        "host=a&path=nope",
        "host=%3Cscript%3E&path=%2F%3Cscript%3E",
        "",
    ] {
        let r = viewer
            .get(&format!("/deployments/{id}/route-test?{q}"))
            .await;
        assert_eq!(r.status(), 200, "{q}");
        let body = r.text().await.unwrap();
        assert!(!body.contains("<script>"), "{q}: {body}");
    }
    for path in [
        "/deployments/999999/overview",
        "/deployments/abc/overview",
        "/deployments/999999/route-test?host=a&path=%2F",
    ] {
        assert_eq!(viewer.get(path).await.status(), 404, "{path}");
    }
    let r = viewer
        .get(&format!("/deployments/{id}/overview?view=sideways"))
        .await;
    assert_eq!(r.status(), 422);
    let r = app
        .anonymous()
        .get(&format!("/deployments/{id}/overview"))
        .await;
    assert!(crate::common::Client::is_signin_redirect(&r));
}

/// A spec that deploys its own Cloud Run service: the words and the diagram say what is deployed
/// where, and never an environment variable's value.
#[tokio::test]
async fn overview_shows_the_services_the_spec_deploys_without_env_values() {
    let app = spawn_app().await;
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let mut spec: serde_json::Value =
        serde_json::from_str(include_str!("../data/seeds/seed-001-services.json")).unwrap();
    spec["services"][0]["env"] = serde_json::json!({"DB_PASSWORD": "hunter2-secret-value"});
    spec["rollout"] = serde_json::json!({"canary_region": "europe-west1"});
    let id = deployment(&app, "my-app", &spec.to_string()).await;

    let page = viewer
        .get(&format!("/deployments/{id}/overview"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Switchyard deploys the Cloud Run service my-app (image "),
        "{page}"
    );
    assert!(page.contains("europe-west1 first as the canary"));
    assert!(page.contains("1 environment variable set (values not shown)"));
    assert!(
        page.contains("canary: deployed first"),
        "the diagram marks the canary"
    );
    assert!(!page.contains("hunter2"), "an env value reached the page");
}
