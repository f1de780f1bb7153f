//! The certificate section of the deployment page in a real Chromium: it refreshes by itself
//! while the certificate is pending and stops once Google has issued it; "Check now" reads
//! the live state and the section follows.

use crate::common::TestApp;
use crate::common::spawn_app;
use crate::support::sign_in_from;
use crate::support::{Browser, screenshot, wait_for_css_text};
use fantoccini::Locator;
use std::time::Duration;
use switchyard::auth::Role;

const SEED_002: &str = include_str!("../data/seeds/seed-002.json");

/// What Google reports before it has a status for a new certificate.
const PENDING: &str = "MANAGED_CERTIFICATE_STATUS_UNSPECIFIED";

/// Sets the certificate's status through the sandbox's admin hook, as Google would.
async fn provision(app: &TestApp, name: &str, status: &str, domains: &str) {
    let compute = app.state.cloud.config().compute_endpoint.clone();
    let base = compute.trim_end_matches("compute/v1/");
    let r = reqwest::Client::new()
        .post(format!(
            "{base}sandbox/v1/projects/my-lb-project/sslCertificates/{name}:provision"
        ))
        .json(&serde_json::json!({ "status": status, "domainStatus": domains }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "provision: {}", r.status());
}

async fn attr(b: &fantoccini::Client, css: &str, name: &str) -> Option<String> {
    b.find(Locator::Css(css))
        .await
        .unwrap()
        .attr(name)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_certificate_status_refreshes_by_itself_until_it_is_active() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let (id, _) = crate::sandbox_apply::apply_in_sandbox(&app, SEED_002, "ed").await;
    // The panel reads the live state once after the apply; wait for it, then hold the
    // certificate at a pending status the sandbox never changes by itself (it issues a
    // PROVISIONING one 30 s after creating it, which a loaded machine can reach mid-test).
    let mut name = None;
    for _ in 0..100 {
        if let Some(l) = switchyard::db::live_facts::live(&app.state.db, id)
            .await
            .unwrap()
        {
            name = l.certificate;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let name = name.expect("the certificate read after the apply");
    provision(&app, &name, PENDING, "PROVISIONING").await;
    switchyard::drift::check(
        &app.state.db,
        app.state.deployer.reader().as_ref(),
        id,
        "ed",
    )
    .await
    .unwrap();

    let browser = Browser::start().await;
    let b = &browser.client;
    b.set_window_size(1366, 1000).await.unwrap();
    sign_in_from(b, &app.base, &format!("/deployments/{id}"), "ed").await;
    // The deployment page loads its overview with htmx; the certificate section is in it.
    let status = b
        .wait()
        .for_element(Locator::Id("cert-status"))
        .await
        .unwrap();
    assert_eq!(status.text().await.unwrap(), PENDING);
    assert_eq!(
        attr(b, "#certificate", "data-polling").await.as_deref(),
        Some("true")
    );
    b.execute(
        "document.getElementById('certificate').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    screenshot(b, "certificate-pending").await;

    // Google issues it; the page follows without a reload and stops asking.
    provision(&app, &name, "ACTIVE", "ACTIVE").await;
    wait_for_css_text(b, "#cert-status", "ACTIVE", Duration::from_secs(15)).await;
    assert_eq!(
        attr(b, "#certificate", "data-polling").await.as_deref(),
        Some("false")
    );
    assert_eq!(
        b.current_url().await.unwrap().path(),
        format!("/deployments/{id}")
    );
    b.execute(
        "document.getElementById('certificate').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    screenshot(b, "certificate-active").await;

    // The certificate is renewed badly: nothing polls now, "Check now" reads it.
    provision(&app, &name, "RENEWAL_FAILED", "FAILED_NOT_VISIBLE").await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        b.find(Locator::Id("cert-status"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ACTIVE",
        "no polling once ACTIVE"
    );
    b.find(Locator::Id("cert-check"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_css_text(b, "#cert-status", "RENEWAL_FAILED", Duration::from_secs(10)).await;
    assert_eq!(
        b.current_url().await.unwrap().path(),
        format!("/deployments/{id}")
    );
    assert!(
        b.find(Locator::Id("drift-result")).await.is_ok(),
        "the drift section too"
    );
    b.execute(
        "document.getElementById('certificate').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    screenshot(b, "certificate-renewal-failed").await;
    browser.close().await;
}

/// The certificate an HTTPS proxy of seed 002 holds, by name.
async fn attached(app: &TestApp) -> Vec<String> {
    let proxy: serde_json::Value = app
        .state
        .cloud
        .get(&switchyard::cloud::ResourceRef::global(
            "my-lb-project",
            "targetHttpsProxies",
            "hello-lb-https-proxy",
        ))
        .await
        .unwrap()
        .unwrap();
    proxy["sslCertificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().rsplit('/').next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_domain_change_waits_for_the_new_certificate_on_the_job_page() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let (id, _) = crate::sandbox_apply::apply_in_sandbox(&app, SEED_002, "ed").await;
    let old = attached(&app).await.remove(0);
    provision(&app, &old, "ACTIVE", "ACTIVE").await;
    // Only the admin hook issues certificates in this test.
    let compute = app.state.cloud.config().compute_endpoint.clone();
    reqwest::Client::new()
        .post(format!(
            "{}sandbox/v1/faults",
            compute.trim_end_matches("compute/v1/")
        ))
        .json(&serde_json::json!({ "certificateProvisionMs": 0 }))
        .send()
        .await
        .unwrap();
    let mut spec: serde_json::Value = serde_json::from_str(SEED_002).unwrap();
    spec["frontend"]["domains"] = serde_json::json!(["hello.example.com", "www.hello.example.com"]);
    switchyard::db::deployments::update(&app.state.db, id, 1, "hello-lb", &spec.to_string(), "ed")
        .await
        .unwrap();

    let browser = Browser::start().await;
    let b = &browser.client;
    b.set_window_size(1366, 1000).await.unwrap();
    sign_in_from(b, &app.base, &format!("/deployments/{id}/plan"), "ed").await;
    b.find(Locator::Id("accept-risks"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.find(Locator::Id("apply"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The job page shows the wait with each domain's status, live.
    wait_for_css_text(
        b,
        "#job-steps .step-progress",
        "PROVISIONING (being issued): hello.example.com PROVISIONING, www.hello.example.com PROVISIONING",
        Duration::from_secs(30),
    )
    .await;
    let job_path = b.current_url().await.unwrap().path().to_string();
    assert!(job_path.starts_with("/jobs/"), "{job_path}");
    screenshot(b, "certificate-change-waiting").await;
    assert_eq!(attached(&app).await.len(), 2, "both serve while it waits");

    b.goto(&format!("{}/deployments/{id}", app.base))
        .await
        .unwrap();
    let notice = b
        .wait()
        .for_element(Locator::Id("certificate-change"))
        .await
        .unwrap();
    assert!(
        notice
            .text()
            .await
            .unwrap()
            .contains("Certificate change in progress")
    );
    screenshot(b, "certificate-change-deployment").await;

    let new = attached(&app)
        .await
        .into_iter()
        .find(|c| *c != old)
        .unwrap();
    provision(&app, &new, "ACTIVE", "ACTIVE").await;
    b.goto(&format!("{}{job_path}", app.base)).await.unwrap();
    wait_for_css_text(b, "#job-status", "succeeded", Duration::from_secs(30)).await;
    assert_eq!(attached(&app).await, vec![new]);
    browser.close().await;
}

/// Seed 000 served through Certificate Manager: the DNS section lists the CNAME record to
/// publish, unreadable bits wrapped rather than pushing the page sideways at 1366 px, and tells
/// the domain is validated once the sandbox's DNS holds the record.
#[tokio::test]
async fn the_dns_section_lists_the_certificate_manager_cname_and_its_validation() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let mut spec: serde_json::Value =
        serde_json::from_str(include_str!("../data/seeds/seed-000.json")).unwrap();
    spec["frontend"]["certificate"] = serde_json::json!("certificate-manager");
    spec["frontend"]["domains"] = serde_json::json!(["your-domain.com", "*.your-domain.com"]);
    let (id, _) = crate::sandbox_apply::apply_in_sandbox(&app, &spec.to_string(), "ed").await;

    let browser = Browser::start().await;
    let b = &browser.client;
    b.set_window_size(1366, 1000).await.unwrap();
    sign_in_from(b, &app.base, &format!("/deployments/{id}"), "ed").await;
    let table = b
        .wait()
        .for_element(Locator::Id("dns-authorizations"))
        .await
        .unwrap();
    let text = table.text().await.unwrap();
    assert!(text.contains("_acme-challenge.your-domain.com."), "{text}");
    assert!(
        text.contains("authorize.certificatemanager.goog."),
        "{text}"
    );
    assert!(text.contains("*.your-domain.com"), "{text}");
    assert!(text.contains("waiting for the CNAME"), "{text}");
    assert!(
        b.find(Locator::Id("certificate")).await.is_err(),
        "no classic certificate section"
    );
    let sideways = crate::support::scrolls_sideways(b).await;
    b.execute("document.getElementById('dns').scrollIntoView()", vec![])
        .await
        .unwrap();
    let shot = screenshot(b, "dns-certificate-manager").await;
    assert!(
        !sideways,
        "the page scrolls sideways at 1366 px: {}",
        shot.display()
    );

    // Publish the record; a reload shows both domains validated.
    let auths = app
        .state
        .cloud
        .certificate_manager_list("projects/my-project/locations/global/dnsAuthorizations")
        .await
        .unwrap();
    let compute = app.state.cloud.config().compute_endpoint.clone();
    let base = compute.trim_end_matches("compute/v1/");
    let r = reqwest::Client::new()
        .post(format!("{base}sandbox/v1/projects/my-project/dnsRecords"))
        .json(&auths[0]["dnsResourceRecord"])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    b.refresh().await.unwrap();
    let mut text = String::new();
    for _ in 0..100 {
        if let Ok(t) = b.find(Locator::Id("dns-authorizations")).await {
            text = t.text().await.unwrap_or_default();
            if text.matches("validated:").count() == 2 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(text.matches("validated:").count(), 2, "{text}");
}
