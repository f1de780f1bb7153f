//! A certificate change on a live HTTPS deployment, against the sandbox over HTTP, with a
//! watcher that reads the target proxy and its certificates every 100 ms for the whole job: at
//! every sample each domain the old certificate covered is covered by an attached ACTIVE
//! certificate; the job waits (with each domain's status as progress) until Google reports the
//! new one ACTIVE; at the end the old one is gone. The same across a restart of the panel while
//! the job waits, and with a cancel (both stay attached) followed by a resume.

use crate::common::{Client, TestApp, spawn_app};
use crate::deploy::{create_deployment, sandbox, wait_job};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard::auth::Role;
use switchyard::cloud::{Client as Cloud, ResourceRef};

const PROJECT: &str = "my-lb-project";
const PROXY: &str = "hello-lb-https-proxy";
const OLD_DOMAIN: &str = "hello.example.com";
const NEW_DOMAIN: &str = "www.hello.example.com";

fn seed() -> Value {
    crate::deploy::seed("seed-002.json")
}

/// Sets a certificate's status through the sandbox's admin hook, as Google would.
async fn provision(app: &TestApp, cert_url: &str, status: &str) {
    let name = cert_url.rsplit('/').next().unwrap();
    let compute = app.state.cloud.config().compute_endpoint.clone();
    let base = compute.trim_end_matches("compute/v1/");
    let domain_status = if status == "ACTIVE" {
        "ACTIVE"
    } else {
        "FAILED_NOT_VISIBLE"
    };
    let r = reqwest::Client::new()
        .post(format!(
            "{base}sandbox/v1/projects/{PROJECT}/sslCertificates/{name}:provision"
        ))
        .json(&json!({ "status": status, "domainStatus": domain_status }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "provision: {}", r.status());
}

async fn attached(cloud: &Cloud) -> Vec<String> {
    let proxy: Value = cloud
        .get(&ResourceRef::global(PROJECT, "targetHttpsProxies", PROXY))
        .await
        .unwrap()
        .unwrap();
    proxy["sslCertificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

/// One look at the proxy: the certificates attached and the domains an ACTIVE one covers.
#[derive(Debug)]
struct Sample {
    attached: Vec<String>,
    covered: BTreeSet<String>,
}

async fn sample(cloud: &Cloud) -> Sample {
    let attached = attached(cloud).await;
    let mut covered = BTreeSet::new();
    for url in &attached {
        let cert: Option<Value> = cloud.get(&ResourceRef::parse(url).unwrap()).await.unwrap();
        let Some(cert) = cert else { continue };
        if cert["managed"]["status"] == "ACTIVE" {
            for d in cert["managed"]["domains"].as_array().unwrap() {
                covered.insert(d.as_str().unwrap().to_string());
            }
        }
    }
    Sample { attached, covered }
}

/// Samples every 100 ms until told to stop.
struct Watcher {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Vec<Sample>>,
}

fn watch(cloud: Arc<Cloud>) -> Watcher {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut seen = Vec::new();
        loop {
            seen.push(sample(&cloud).await);
            if stopped.try_recv().is_ok() {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    Watcher { stop, task }
}

impl Watcher {
    async fn finish(self) -> Vec<Sample> {
        let _ = self.stop.send(());
        self.task.await.unwrap()
    }
}

fn assert_always_covered(samples: &[Sample]) {
    assert!(!samples.is_empty());
    for (i, s) in samples.iter().enumerate() {
        assert!(
            s.covered.contains(OLD_DOMAIN),
            "sample {i}: {OLD_DOMAIN} not covered by an attached ACTIVE certificate: {s:?}"
        );
    }
}

/// Applies seed 002, makes its certificate ACTIVE, then adds a domain and starts the pinned
/// apply of that change. Returns the deployment, the job and the old certificate's URL.
async fn start_domain_change(app: &TestApp, c: &mut Client) -> (i64, i64, String) {
    sandbox(
        app,
        json!({ "operationLatencyMs": 100, "certificateProvisionMs": 0 }),
    )
    .await;
    let mut spec = seed();
    let id = create_deployment(app, &spec).await;
    let job = crate::deploy::run_job(c, id, "apply").await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let old = attached(&app.state.cloud).await;
    assert_eq!(old.len(), 1);
    provision(app, &old[0], "ACTIVE").await;

    spec["frontend"]["domains"] = json!([OLD_DOMAIN, NEW_DOMAIN]);
    let r = c
        .request(reqwest::Method::PUT, &format!("/api/v1/deployments/{id}"))
        .header("if-match", "1")
        .json(&spec)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post_json(&format!("/api/v1/deployments/{id}/plan"), &json!({}))
        .await;
    let plan: Value = r.json().await.unwrap();
    let kinds: Vec<&str> = plan["risks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"certificate_not_active"), "{plan}");
    let r = c
        .post_json(
            &format!("/api/v1/deployments/{id}/apply"),
            &json!({ "plan_id": plan["plan_id"], "accept_risks": true }),
        )
        .await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    (id, body["job_id"].as_i64().unwrap(), old[0].clone())
}

/// Waits until the job holds at its wait step with a progress line, and returns that step.
async fn until_waiting(c: &mut Client, job: i64) -> Value {
    let started = Instant::now();
    loop {
        let body: Value = c
            .get(&format!("/api/v1/jobs/{job}"))
            .await
            .json()
            .await
            .unwrap();
        let wait = body["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["action"] == "wait")
            .cloned()
            .expect("the job has a wait step");
        if wait["status"] == "running" && wait["progress"].is_string() {
            return wait;
        }
        assert!(
            matches!(body["status"].as_str(), Some("queued" | "running")),
            "{body}"
        );
        assert!(started.elapsed() < Duration::from_secs(60), "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn new_certificate(attached: &[String], old: &str) -> String {
    attached.iter().find(|c| *c != old).unwrap().clone()
}

/// Once the new certificate is ACTIVE the job ends with only it attached and the old one gone.
async fn assert_finished(app: &TestApp, c: &mut Client, job: i64, old: &str, new: &str) {
    let body = wait_job(c, job).await;
    assert_eq!(body["status"], "succeeded", "{body}");
    assert_eq!(attached(&app.state.cloud).await, vec![new.to_string()]);
    let gone: Option<Value> = app
        .state
        .cloud
        .get(&ResourceRef::parse(old).unwrap())
        .await
        .unwrap();
    assert!(gone.is_none(), "the old certificate is deleted");
}

#[tokio::test]
async fn a_domain_change_keeps_every_domain_on_an_active_certificate() {
    let app = spawn_app().await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let (id, job, old) = start_domain_change(&app, &mut c).await;
    let watcher = watch(app.state.cloud.clone());

    let wait = until_waiting(&mut c, job).await;
    let progress = wait["progress"].as_str().unwrap();
    assert!(
        progress.contains("PROVISIONING") && progress.contains(NEW_DOMAIN),
        "{progress}"
    );
    // Both certificates serve while the new one provisions; the deployment page says so.
    let now = attached(&app.state.cloud).await;
    assert_eq!(now.len(), 2, "{now:?}");
    assert_eq!(now[0], old);
    let mut browser = app.user_client("ann", Role::Viewer).await;
    // The deployment page loads this part of itself from /overview.
    let page = browser
        .get(&format!("/deployments/{id}/overview"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Certificate change in progress"), "{page}");
    let job_page = browser
        .get(&format!("/jobs/{job}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(job_page.contains("step-progress"), "{job_page}");

    // Still provisioning a while later: the job keeps waiting, nothing is detached.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(attached(&app.state.cloud).await.len(), 2);
    let new = new_certificate(&now, &old);
    provision(&app, &new, "ACTIVE").await;
    assert_finished(&app, &mut c, job, &old, &new).await;

    let samples = watcher.finish().await;
    assert!(samples.len() >= 8, "{} samples", samples.len());
    assert_always_covered(&samples);
    assert!(samples.iter().any(|s| s.attached.len() == 2));
    assert!(samples.last().unwrap().covered.contains(NEW_DOMAIN));
}

#[tokio::test]
async fn a_restart_while_waiting_for_active_keeps_waiting_and_finishes() {
    let app = spawn_app().await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let (_, job, old) = start_domain_change(&app, &mut c).await;
    let watcher = watch(app.state.cloud.clone());
    until_waiting(&mut c, job).await;
    let before = watcher.finish().await;

    let app = app.restart().await;
    sandbox(
        &app,
        json!({ "operationLatencyMs": 100, "certificateProvisionMs": 0 }),
    )
    .await;
    let mut c = c.at(&app.base);
    let watcher = watch(app.state.cloud.clone());
    let wait = until_waiting(&mut c, job).await;
    assert!(wait["progress"].as_str().unwrap().contains("PROVISIONING"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let now = attached(&app.state.cloud).await;
    assert_eq!(now.len(), 2, "still both after the restart: {now:?}");
    let new = new_certificate(&now, &old);
    provision(&app, &new, "ACTIVE").await;
    assert_finished(&app, &mut c, job, &old, &new).await;

    let after = watcher.finish().await;
    assert_always_covered(&before);
    assert_always_covered(&after);
}

#[tokio::test]
async fn a_cancelled_wait_leaves_both_attached_and_a_resume_finishes() {
    let app = spawn_app().await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let (_, job, old) = start_domain_change(&app, &mut c).await;
    let watcher = watch(app.state.cloud.clone());
    until_waiting(&mut c, job).await;

    let r = c
        .post_json(&format!("/api/v1/jobs/{job}/cancel"), &json!({}))
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let body = wait_job(&mut c, job).await;
    assert_eq!(body["status"], "cancelled", "{body}");
    let wait = body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["action"] == "wait")
        .unwrap();
    assert_eq!(wait["status"], "skipped", "{body}");
    let now = attached(&app.state.cloud).await;
    assert_eq!(now.len(), 2, "both stay attached: {now:?}");

    let r = c
        .post_json(&format!("/api/v1/jobs/{job}/resume"), &json!({}))
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    until_waiting(&mut c, job).await;
    let new = new_certificate(&now, &old);
    provision(&app, &new, "ACTIVE").await;
    assert_finished(&app, &mut c, job, &old, &new).await;
    assert_always_covered(&watcher.finish().await);
}

#[tokio::test]
async fn a_certificate_google_gives_up_on_fails_the_job_with_the_old_one_serving() {
    let app = spawn_app().await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let (_, job, old) = start_domain_change(&app, &mut c).await;
    until_waiting(&mut c, job).await;
    let now = attached(&app.state.cloud).await;
    let new = new_certificate(&now, &old);

    // A failure Google retries is waited through; a permanent one fails the step.
    provision(&app, &new, "PROVISIONING_FAILED").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let body: Value = c
        .get(&format!("/api/v1/jobs/{job}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "running", "{body}");
    provision(&app, &new, "PROVISIONING_FAILED_PERMANENTLY").await;
    let body = wait_job(&mut c, job).await;
    assert_eq!(body["status"], "failed", "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("PROVISIONING_FAILED_PERMANENTLY"),
        "{body}"
    );
    let now = attached(&app.state.cloud).await;
    assert!(
        now.contains(&old),
        "the old certificate still serves: {now:?}"
    );
}
