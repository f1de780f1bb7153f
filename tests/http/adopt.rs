//! Adopting a hand-built load balancer, against the sandbox over HTTP: seed 000 built with the
//! calls its gcloud commands send and its names, discovered, adopted under those names with an
//! all-noop first plan, then changed make-before-break and destroyed to nothing.

use crate::common::{TestApp, spawn_app};
use crate::deploy::sandbox;
use crate::hand_built::{P, R, build_seed_000, everything, everything_with_ids};
use serde_json::{Value, json};
use switchyard::cloud::ResourceRef;
use switchyard::domain::plan::{Action, RecordedIn};

async fn run(app: &TestApp, job: i64) {
    let done = app.state.deployer.runner().wait(job).await.unwrap();
    assert_eq!(done.status, "succeeded", "job {job}: {:?}", done.error);
}

#[tokio::test]
async fn seed_000_is_adopted_under_its_names_then_changed_and_destroyed() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    build_seed_000(&app).await;

    let reader = switchyard::deploy::cloud_reader::CloudLiveReader::new(app.state.cloud.clone());
    let lbs = switchyard::deploy::discover::discover(&reader, P)
        .await
        .unwrap();
    assert_eq!(lbs.len(), 1, "{lbs:?}");
    let lb = &lbs[0];
    assert_eq!(lb.id, "https-forwarding-rule");
    assert_eq!(lb.domains, vec!["your-domain.com"]);
    assert!(lb.refusals().is_empty(), "{:?}", lb.unexpressible);
    assert!(!lb.shared_ip && lb.shared_backend_services.is_empty());
    assert_eq!(lb.resources.len(), 7, "{:?}", lb.resources);
    let spec = lb.spec.clone().expect("an adoptable spec");
    let v = serde_json::to_value(&spec).unwrap();
    assert_eq!(v["names"]["url_map"], "cloudrun-url-map");
    assert_eq!(v["names"]["certificate"]["name"], "my-ssl-cert");
    assert_eq!(
        v["names"]["backends"]["cloudrun-backend"]["negs"][R],
        "cloudrun-neg"
    );
    assert_eq!(v["names"]["address"], "global-ip");
    assert_eq!(v["backends"][0]["service"], "my-global-app");
    assert_eq!(v["backends"][0]["cdn"], true);

    let db = &app.state.db;
    let row = switchyard::db::deployments::create(db, &spec.name, &v.to_string(), "tester")
        .await
        .unwrap();
    let planned = app.state.deployer.plan(&row).await.unwrap();
    crate::hand_built::assert_first_plan_noop(&planned.plan);
    // The claim goes where Google lets it: descriptions that a patch can change, else the
    // panel's records; nothing is recreated, and the second plan has nothing left to record.
    let recorded: Vec<(&str, RecordedIn)> = planned
        .plan
        .ownership
        .iter()
        .map(|o| (o.resource.rsplit('/').next().unwrap(), o.recorded_in))
        .collect();
    assert_eq!(
        recorded,
        vec![
            ("cloudrun-neg", RecordedIn::Panel),
            ("cloudrun-backend", RecordedIn::Description),
            ("cloudrun-url-map", RecordedIn::Description),
            ("global-ip", RecordedIn::Panel),
            ("my-ssl-cert", RecordedIn::Panel),
            ("https-proxy", RecordedIn::Description),
            ("https-forwarding-rule", RecordedIn::Panel),
        ]
    );
    let before = everything_with_ids(&app, P, &[R]).await;
    let job = app.state.deployer.apply(&row, "tester").await.unwrap();
    run(&app, job).await;
    assert_eq!(
        everything_with_ids(&app, P, &[R]).await,
        before,
        "nothing recreated"
    );
    let steps = switchyard::db::jobs::job_steps(db, job).await.unwrap();
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert!(
        steps.iter().all(|s| s.request.contains("\"PATCH\"")),
        "{steps:?}"
    );
    let map: Value = app
        .state
        .cloud
        .get(&ResourceRef::global(P, "urlMaps", "cloudrun-url-map"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(map["description"], "switchyard:deployment=cloudrun-url-map");
    let again = app.state.deployer.plan(&row).await.unwrap();
    assert!(
        again.plan.is_noop() && again.plan.ownership.is_empty(),
        "{:?}",
        again.plan.ownership
    );
    // Drift compares the cloud with the adopted spec: in sync after the ownership apply.
    let drift =
        switchyard::drift::check(db, app.state.deployer.reader().as_ref(), row.id, "tester")
            .await
            .unwrap();
    assert_eq!(drift.result, "in_sync", "{}", drift.differences);

    // A new domain: a new certificate beside the old one, the proxy moved, the old one deleted.
    let mut changed = v.clone();
    changed["frontend"]["domains"] = json!(["your-domain.com", "www.your-domain.com"]);
    let row = switchyard::db::deployments::update(
        db,
        row.id,
        row.version,
        &spec.name,
        &changed.to_string(),
        "tester",
    )
    .await
    .unwrap();
    let planned = app.state.deployer.plan(&row).await.unwrap();
    let actions: Vec<(String, Action)> = planned
        .plan
        .entries
        .iter()
        .filter(|e| e.action != Action::Noop)
        .map(|e| (e.resource.clone(), e.action.clone()))
        .collect();
    let old_cert = format!("projects/{P}/global/sslCertificates/my-ssl-cert");
    assert!(
        actions
            .iter()
            .any(|(r, a)| *r == old_cert && *a == Action::Delete),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(
            |(r, a)| r.contains("/sslCertificates/cloudrun-url-map-cert-") && *a == Action::Create
        ),
        "{actions:?}"
    );
    assert!(
        !actions
            .iter()
            .any(|(_, a)| matches!(a, Action::Replace { .. })),
        "{actions:?}"
    );
    let job = app.state.deployer.apply(&row, "tester").await.unwrap();
    run(&app, job).await;
    let proxy: Value = app
        .state
        .cloud
        .get(&ResourceRef::global(P, "targetHttpsProxies", "https-proxy"))
        .await
        .unwrap()
        .unwrap();
    let certs = proxy["sslCertificates"].to_string();
    assert!(
        certs.contains("cloudrun-url-map-cert-") && !certs.contains("my-ssl-cert"),
        "{certs}"
    );
    let after = app.state.deployer.plan(&row).await.unwrap();
    assert!(after.plan.is_noop(), "{:?}", after.plan.entries);

    let job = app
        .state
        .deployer
        .destroy(&row, "tester", false)
        .await
        .unwrap();
    run(&app, job).await;
    assert_eq!(everything(&app, P, &[R]).await, Vec::<String>::new());
}

#[tokio::test]
async fn the_api_lists_seed_000_and_editors_adopt_it_once() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    build_seed_000(&app).await;
    let mut viewer = app.token_client("vi", switchyard::auth::Role::Viewer).await;
    let mut editor = app.token_client("ed", switchyard::auth::Role::Editor).await;

    let r = viewer
        .get(&format!("/api/v1/projects/{P}/load-balancers"))
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let lb = &body["load_balancers"][0];
    assert_eq!(lb["id"], "https-forwarding-rule", "{body}");
    assert_eq!(lb["managed_by"], Value::Null);
    assert_eq!(
        lb["url_map"],
        format!("projects/{P}/global/urlMaps/cloudrun-url-map")
    );
    assert!(
        lb["resources"][0].as_str().unwrap().starts_with("https://"),
        "{lb}"
    );

    let adopt = format!("/api/v1/projects/{P}/load-balancers/https-forwarding-rule/adopt");
    let r = viewer.post_json(&adopt, &json!({})).await;
    assert_eq!(r.status(), 403);
    let r = editor.post_json(&adopt, &json!({})).await;
    assert_eq!(r.status(), 201);
    let made: Value = r.json().await.unwrap();
    assert_eq!(
        made["spec"]["names"]["https_proxy"], "https-proxy",
        "{made}"
    );

    let body: Value = viewer
        .get(&format!("/api/v1/projects/{P}/load-balancers"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["load_balancers"][0]["managed_by"], made["id"],
        "{body}"
    );
    let r = editor.post_json(&adopt, &json!({})).await;
    assert_eq!(r.status(), 409);

    let r = viewer
        .get("/api/v1/projects/Not_A_Project/load-balancers")
        .await;
    assert_eq!(r.status(), 422);
}
