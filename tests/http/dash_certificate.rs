//! The certificate section of the deployment page refreshes itself while Google provisions:
//! it polls its own URL, which reads the certificate from the (sandbox) cloud at most once an
//! interval and answers 286 once the status is final; "Check now" reads the live state and
//! tells the page to reload the section.

use crate::common::{TestApp, spawn_app};
use crate::sandbox_apply::apply_in_sandbox;
use std::time::Duration;
use switchyard::auth::Role;

const SEED_002: &str = include_str!("../data/seeds/seed-002.json");

/// What Google reports before it has a status for a new certificate.
const PENDING: &str = "MANAGED_CERTIFICATE_STATUS_UNSPECIFIED";

/// Sets the certificate's status through the sandbox's admin hook, as Google would.
async fn provision(app: &TestApp, name: &str, status: &str) {
    let compute = app.state.cloud.config().compute_endpoint.clone();
    let base = compute.trim_end_matches("compute/v1/");
    let r = reqwest::Client::new()
        .post(format!(
            "{base}sandbox/v1/projects/my-lb-project/sslCertificates/{name}:provision"
        ))
        .json(&serde_json::json!({ "status": status }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "provision: {}", r.status());
}

/// Waits for the panel's own full read after the apply (IP and certificate recorded), so
/// nothing else writes the live facts while the test looks.
async fn after_apply_read(app: &TestApp, id: i64) {
    for _ in 0..100 {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM drift_checks WHERE deployment_id = ? AND requested_by = ?",
        )
        .bind(id)
        .bind(switchyard::drift::AFTER_APPLY)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
        if n > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no read after the apply within 10 s");
}

fn cert_status(html: &str) -> String {
    let start = html
        .find("id=\"cert-status\">")
        .expect("a certificate status")
        + 17;
    html[start..].split('<').next().unwrap().to_string()
}

#[tokio::test]
async fn the_certificate_section_polls_while_pending_and_stops_once_active_or_failed() {
    let app = spawn_app().await;
    let mut editor = app.user_client("ed", Role::Editor).await;
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let (id, _) = apply_in_sandbox(&app, SEED_002, "ed").await;
    after_apply_read(&app, id).await;
    let name = switchyard::db::live_facts::live(&app.state.db, id)
        .await
        .unwrap()
        .unwrap()
        .certificate
        .expect("a certificate");
    // The sandbox issues a served PROVISIONING certificate by itself 30 s after creating it,
    // which a loaded machine can reach mid-test; a certificate without a status yet is just
    // as pending and only changes when told to.
    provision(&app, &name, PENDING).await;
    let r = editor
        .post_form(&format!("/deployments/{id}/drift"), &[])
        .await;
    assert!(r.status().is_redirection());
    let live = switchyard::db::live_facts::live(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();

    let page = viewer
        .get(&format!("/deployments/{id}/overview"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(cert_status(&page), PENDING);
    let url = format!("/deployments/{id}/certificate");
    assert!(page.contains(&format!("hx-get=\"{url}\"")), "{page}");
    assert!(page.contains("hx-trigger=\"every 5s, live-read from:body\""));
    assert!(page.contains("id=\"cert-polling\""));
    assert!(!page.contains("id=\"cert-check\""), "viewers cannot check");
    let page = editor
        .get(&format!("/deployments/{id}/overview"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"cert-check\""));
    assert!(page.contains(&format!(
        "action=\"/deployments/{id}/drift?then=certificate\""
    )));

    // A poll: still provisioning, keep asking.
    let r = viewer.get(&url).await;
    assert_eq!(r.status(), 200);
    assert_eq!(cert_status(&r.text().await.unwrap()), PENDING);

    // Google issues it. The next poll within the interval does not ask the cloud again...
    provision(&app, &name, "ACTIVE").await;
    let r = viewer.get(&url).await;
    assert_eq!(r.status(), 200);
    assert_eq!(cert_status(&r.text().await.unwrap()), PENDING);
    // ...the one after it does, and stops the polling.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let r = viewer.get(&url).await;
    assert_eq!(r.status(), 286, "htmx stops polling");
    let html = r.text().await.unwrap();
    assert_eq!(cert_status(&html), "ACTIVE");
    assert!(
        html.contains("hx-trigger=\"live-read from:body\""),
        "{html}"
    );
    assert!(!html.contains("every 5s") && !html.contains("id=\"cert-polling\""));
    let after = switchyard::db::live_facts::live(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.cert_status.as_deref(), Some("ACTIVE"));
    assert_eq!(
        (after.ip, after.checked_at),
        (live.ip, live.checked_at),
        "a certificate-only read leaves the rest, and when it was read in full"
    );
    let dashboard = viewer.get("/").await.text().await.unwrap();
    assert!(
        dashboard.contains("status-ok\" title=\"The certificate covers this domain.\">covered"),
        "the dashboard shows it too: {dashboard}"
    );

    // A failed certificate is final too.
    provision(&app, &name, "PROVISIONING_FAILED_PERMANENTLY").await;
    let r = editor
        .post_form(&format!("/deployments/{id}/drift"), &[])
        .await;
    assert!(r.status().is_redirection());
    let r = viewer.get(&url).await;
    assert_eq!(r.status(), 286);
    assert_eq!(
        cert_status(&r.text().await.unwrap()),
        "PROVISIONING_FAILED_PERMANENTLY"
    );
    assert_eq!(
        viewer.get("/deployments/999999/certificate").await.status(),
        404
    );
}

#[tokio::test]
async fn check_now_in_the_certificate_section_reads_the_live_state_and_reloads_it() {
    let app = spawn_app().await;
    let mut editor = app.user_client("ed", Role::Editor).await;
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let (id, _) = apply_in_sandbox(&app, SEED_002, "ed").await;
    let path = format!("/deployments/{id}/drift?then=certificate");

    let r = viewer.post_form(&path, &[]).await;
    assert_eq!(r.status(), 403);
    // Without JS: back to the certificate section of the page.
    let r = editor.post_form(&path, &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/deployments/{id}/overview#certificate").as_str()
    );
    // With htmx: the drift section, and an event the certificate section reloads on.
    let r = editor
        .request(reqwest::Method::POST, &format!("/deployments/{id}/drift"))
        .header("HX-Request", "true")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["hx-trigger"], "live-read");
    assert!(r.text().await.unwrap().contains("id=\"drift\""));
    let checks: (i64,) =
        sqlx::query_as("SELECT count(*) FROM drift_checks WHERE deployment_id = ?")
            .bind(id)
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert!(checks.0 >= 2, "each Check now is a drift check");
}
