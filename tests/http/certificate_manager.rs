//! Certificate Manager against the sandbox over HTTP: seed 000 served by a certificate map is
//! applied before any DNS points at the load balancer, its certificate becomes ACTIVE once the
//! sandbox's DNS holds the authorization's CNAME, and the deployment page lists that record
//! (then the A record). An applied classic-certificate deployment moves to Certificate Manager
//! with a watcher reading the proxy every 100 ms: never a sample without an ACTIVE certificate
//! for the domain. Destroy leaves nothing.

use crate::common::{Client, TestApp, spawn_app};
use crate::deploy::{create_deployment, run_job, sandbox, seed, wait_job};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard::auth::Role;
use switchyard::cloud::{Client as Cloud, ResourceRef};

const PROJECT: &str = "my-project";
const DOMAIN: &str = "your-domain.com";
const PROXY: &str = "global-app-https-proxy";
const GLOBAL: &str = "projects/my-project/locations/global";

fn seed_000(certificate: &str) -> Value {
    let mut spec = seed("seed-000.json");
    spec["frontend"]["certificate"] = json!(certificate);
    spec
}

async fn cm_list(cloud: &Cloud, collection: &str) -> Vec<Value> {
    cloud
        .certificate_manager_list(&format!("{GLOBAL}/{collection}"))
        .await
        .unwrap()
}

/// Publishes a CNAME in the sandbox's DNS, as a team would at its DNS provider.
async fn publish(app: &TestApp, record: &Value) {
    let compute = app.state.cloud.config().compute_endpoint.clone();
    let base = compute.trim_end_matches("compute/v1/");
    let r = reqwest::Client::new()
        .post(format!("{base}sandbox/v1/projects/{PROJECT}/dnsRecords"))
        .json(record)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "publish: {}", r.status());
}

async fn https_proxy(cloud: &Cloud) -> Value {
    cloud
        .get(&ResourceRef::global(PROJECT, "targetHttpsProxies", PROXY))
        .await
        .unwrap()
        .unwrap()
}

async fn the_authorization_record(app: &TestApp) -> Value {
    let auths = cm_list(&app.state.cloud, "dnsAuthorizations").await;
    assert_eq!(auths.len(), 1, "{auths:?}");
    assert_eq!(auths[0]["domain"], DOMAIN);
    auths[0]["dnsResourceRecord"].clone()
}

async fn plan(c: &mut Client, id: i64) -> Value {
    let r = c
        .post_json(&format!("/api/v1/deployments/{id}/plan"), &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn seed_000_with_certificate_manager_is_issued_by_dns_before_traffic_points_here() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 50 })).await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let spec = seed_000("certificate-manager");
    let id = create_deployment(&app, &spec).await;
    let job = run_job(&mut c, id, "apply").await;
    assert_eq!(job["status"], "succeeded", "{job}");

    // The proxy serves the map; nothing classic was made.
    let proxy = https_proxy(&app.state.cloud).await;
    assert_eq!(
        proxy["certificateMap"],
        format!("//certificatemanager.googleapis.com/{GLOBAL}/certificateMaps/global-app-certmap")
    );
    assert!(proxy.get("sslCertificates").is_none(), "{proxy}");
    let certs = cm_list(&app.state.cloud, "certificates").await;
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0]["managed"]["state"], "PROVISIONING");

    // The page lists the CNAME to publish and says the domain is not validated yet.
    let record = the_authorization_record(&app).await;
    assert_eq!(record["name"], format!("_acme-challenge.{DOMAIN}."));
    let mut viewer = app.user_client("vi", Role::Viewer).await;
    let page = viewer
        .get(&format!("/deployments/{id}/overview"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(record["name"].as_str().unwrap()), "{page}");
    assert!(page.contains(record["data"].as_str().unwrap()), "{page}");
    assert!(page.contains("waiting for the CNAME"), "{page}");

    // Once DNS holds the record, Google issues the certificate: no DNS A record needed.
    publish(&app, &record).await;
    let certs = cm_list(&app.state.cloud, "certificates").await;
    assert_eq!(certs[0]["managed"]["state"], "ACTIVE", "{certs:?}");
    let page = viewer
        .get(&format!("/deployments/{id}/overview"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("validated"), "{page}");
    let address = app
        .state
        .cloud
        .get::<Value>(&ResourceRef::global(PROJECT, "addresses", "global-app-ip"))
        .await
        .unwrap()
        .unwrap();
    // The A record shows the address once the read after the apply has recorded it.
    let ip = address["address"].as_str().unwrap();
    let started = Instant::now();
    loop {
        let page = viewer
            .get(&format!("/deployments/{id}/overview"))
            .await
            .text()
            .await
            .unwrap();
        let dns = &page[page.find(r#"id="dns""#).unwrap()..];
        let dns = &dns[..dns.find("</section>").unwrap()];
        if dns.contains(&format!("<code>{ip}</code>")) {
            assert!(dns.contains("validated"), "{dns}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no A record for {ip}: {dns}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A second plan changes nothing; destroy leaves nothing behind in Certificate Manager.
    let again = plan(&mut c, id).await;
    assert!(
        again["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["action"] == "noop"),
        "{again}"
    );
    let job = run_job(&mut c, id, "destroy").await;
    assert_eq!(job["status"], "succeeded", "{job}");
    for collection in ["dnsAuthorizations", "certificates", "certificateMaps"] {
        assert!(
            cm_list(&app.state.cloud, collection).await.is_empty(),
            "{collection}"
        );
    }
}

/// One look at the proxy: the domains an attached ACTIVE certificate covers, by the map when it
/// has one (the map wins), else by its classic certificates.
async fn covered(cloud: &Cloud) -> (bool, BTreeSet<String>) {
    let proxy = https_proxy(cloud).await;
    let mut out = BTreeSet::new();
    if let Some(map) = proxy["certificateMap"].as_str() {
        let map = map.trim_start_matches("//certificatemanager.googleapis.com/");
        let entries = cloud
            .certificate_manager_list(&format!("{map}/certificateMapEntries"))
            .await
            .unwrap();
        for e in entries {
            for cert in e["certificates"].as_array().into_iter().flatten() {
                let cert = cloud
                    .certificate_manager_get(cert.as_str().unwrap())
                    .await
                    .unwrap();
                if let (Some(cert), Some(host)) = (cert, e["hostname"].as_str())
                    && cert["managed"]["state"] == "ACTIVE"
                {
                    out.insert(host.to_string());
                }
            }
        }
        return (true, out);
    }
    for url in proxy["sslCertificates"].as_array().into_iter().flatten() {
        let cert: Option<Value> = cloud
            .get(&ResourceRef::parse(url.as_str().unwrap()).unwrap())
            .await
            .unwrap();
        if let Some(cert) = cert
            && cert["managed"]["status"] == "ACTIVE"
        {
            for d in cert["managed"]["domains"].as_array().unwrap() {
                out.insert(d.as_str().unwrap().to_string());
            }
        }
    }
    (false, out)
}

#[tokio::test]
async fn a_live_deployment_moves_to_certificate_manager_without_a_moment_uncovered() {
    let app = spawn_app().await;
    sandbox(
        &app,
        json!({ "operationLatencyMs": 50, "certificateProvisionMs": 100 }),
    )
    .await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let classic = seed_000("managed");
    let id = create_deployment(&app, &classic).await;
    let job = run_job(&mut c, id, "apply").await;
    assert_eq!(job["status"], "succeeded", "{job}");
    // The classic certificate serves before the move starts.
    let started = Instant::now();
    while !covered(&app.state.cloud).await.1.contains(DOMAIN) {
        assert!(started.elapsed() < Duration::from_secs(20));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let cloud = app.state.cloud.clone();
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let watcher = tokio::spawn(watch(cloud, move || stopped.try_recv().is_ok()));

    let r = c
        .request(reqwest::Method::PUT, &format!("/api/v1/deployments/{id}"))
        .header("if-match", "1")
        .json(&seed_000("certificate-manager"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let planned = plan(&mut c, id).await;
    let r = c
        .post_json(
            &format!("/api/v1/deployments/{id}/apply"),
            &json!({ "plan_id": planned["plan_id"], "accept_risks": true }),
        )
        .await;
    assert_eq!(r.status(), 202, "{planned}");
    let job: Value = r.json().await.unwrap();
    let job = job["job_id"].as_i64().unwrap();

    // The job holds at the new certificate until its CNAME resolves; the map is not attached.
    let started = Instant::now();
    loop {
        let body: Value = c
            .get(&format!("/api/v1/jobs/{job}"))
            .await
            .json()
            .await
            .unwrap();
        let waiting = body["steps"].as_array().unwrap().iter().any(|s| {
            s["action"] == "wait" && s["status"] == "running" && s["progress"].is_string()
        });
        if waiting {
            break;
        }
        assert!(
            matches!(body["status"].as_str(), Some("queued" | "running")),
            "{body}"
        );
        assert!(started.elapsed() < Duration::from_secs(30), "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !covered(&app.state.cloud).await.0,
        "the map waits for its certificate"
    );
    publish(&app, &the_authorization_record(&app).await).await;
    let body = wait_job(&mut c, job).await;
    assert_eq!(body["status"], "succeeded", "{body}");

    let _ = stop.send(());
    let samples = watcher.await.unwrap();
    assert!(samples.len() >= 5, "{} samples", samples.len());
    for (i, (_, domains)) in samples.iter().enumerate() {
        assert!(
            domains.contains(DOMAIN),
            "sample {i}: {DOMAIN} uncovered: {samples:?}"
        );
    }
    assert!(samples.iter().any(|(map, _)| !map) && samples.last().unwrap().0);
    // Only the map remains; the classic certificate is deleted.
    let proxy = https_proxy(&app.state.cloud).await;
    assert!(proxy.get("sslCertificates").is_none(), "{proxy}");
    let classic_left: Vec<Value> = app
        .state
        .cloud
        .list(&switchyard::cloud::CollectionRef::global(
            PROJECT,
            "sslCertificates",
        ))
        .await
        .unwrap();
    assert!(classic_left.is_empty(), "{classic_left:?}");
    let again = plan(&mut c, id).await;
    assert!(
        again["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["action"] == "noop"),
        "{again}"
    );
}

async fn watch(cloud: Arc<Cloud>, stop: impl FnMut() -> bool) -> Vec<(bool, BTreeSet<String>)> {
    let mut stop = stop;
    let mut seen = Vec::new();
    loop {
        seen.push(covered(&cloud).await);
        if stop() {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
