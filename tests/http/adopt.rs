//! Adopting a hand-built load balancer, against the sandbox over HTTP: seed 000 built with the
//! calls its gcloud commands send and its names, discovered, adopted under those names with an
//! all-noop first plan, then changed make-before-break and destroyed to nothing.

use crate::common::{TestApp, spawn_app};
use crate::deploy::sandbox;
use serde_json::{Value, json};
use switchyard::cloud::types::RunService;
use switchyard::cloud::{CollectionRef, ResourceRef};
use switchyard::domain::plan::{Action, RecordedIn};

const P: &str = "my-project";
const R: &str = "us-central1";

fn rid() -> uuid::Uuid {
    uuid::Uuid::new_v4()
}

async fn insert(app: &TestApp, c: CollectionRef, body: Value) {
    let cloud = &app.state.cloud;
    let op = cloud
        .collection::<Value>(c)
        .insert(&body, rid())
        .await
        .unwrap();
    cloud
        .wait_operation(&op)
        .await
        .unwrap_or_else(|e| panic!("{body}: {e}"));
}

fn link(path: &str) -> String {
    switchyard::domain::links::full_url(path)
}

/// Seed 000: the Cloud Run service, then the nine gcloud commands' requests, in order.
async fn build_seed_000(app: &TestApp) {
    let cloud = &app.state.cloud;
    cloud
        .run_services(P, R)
        .create(
            "my-global-app",
            &RunService::with_image("us-docker.pkg.dev/cloudrun/container/hello"),
        )
        .await
        .unwrap();
    // gcloud compute network-endpoint-groups create cloudrun-neg --region=us-central1
    //   --network-endpoint-type=SERVERLESS --cloud-run-service=my-global-app
    insert(
        app,
        CollectionRef::regional(P, R, "networkEndpointGroups"),
        json!({ "name": "cloudrun-neg", "networkEndpointType": "SERVERLESS",
                "cloudRun": { "service": "my-global-app" } }),
    )
    .await;
    // gcloud compute backend-services create cloudrun-backend --global
    //   --load-balancing-scheme=EXTERNAL_MANAGED --enable-cdn (gcloud's protocol default: HTTP)
    insert(
        app,
        CollectionRef::global(P, "backendServices"),
        json!({ "name": "cloudrun-backend", "loadBalancingScheme": "EXTERNAL_MANAGED",
                "protocol": "HTTP", "enableCDN": true }),
    )
    .await;
    // gcloud compute backend-services add-backend: a get, then an update with the NEG added.
    let bs_ref = ResourceRef::global(P, "backendServices", "cloudrun-backend");
    let mut bs: Value = cloud.get(&bs_ref).await.unwrap().unwrap();
    // The server's default `timeoutSec` comes back on get but is refused next to a serverless
    // NEG, so the update leaves it out, as gcloud's add-backend does.
    bs.as_object_mut().unwrap().remove("timeoutSec");
    bs["backends"] = json!([{ "group": link(&format!("projects/{P}/regions/{R}/networkEndpointGroups/cloudrun-neg")) }]);
    let op = cloud.update(&bs_ref, &bs, rid()).await.unwrap();
    cloud.wait_operation(&op).await.unwrap();
    // gcloud compute url-maps create cloudrun-url-map --default-service=cloudrun-backend
    insert(
        app,
        CollectionRef::global(P, "urlMaps"),
        json!({ "name": "cloudrun-url-map",
                "defaultService": link(&format!("projects/{P}/global/backendServices/cloudrun-backend")) }),
    )
    .await;
    // gcloud compute ssl-certificates create my-ssl-cert --domains=your-domain.com
    insert(
        app,
        CollectionRef::global(P, "sslCertificates"),
        json!({ "name": "my-ssl-cert", "type": "MANAGED",
                "managed": { "domains": ["your-domain.com"] } }),
    )
    .await;
    // gcloud compute target-https-proxies create https-proxy --ssl-certificates=my-ssl-cert
    //   --url-map=cloudrun-url-map
    insert(
        app,
        CollectionRef::global(P, "targetHttpsProxies"),
        json!({ "name": "https-proxy",
                "urlMap": link(&format!("projects/{P}/global/urlMaps/cloudrun-url-map")),
                "sslCertificates": [link(&format!("projects/{P}/global/sslCertificates/my-ssl-cert"))] }),
    )
    .await;
    // gcloud compute addresses create global-ip --global
    insert(
        app,
        CollectionRef::global(P, "addresses"),
        json!({ "name": "global-ip" }),
    )
    .await;
    // gcloud compute addresses describe global-ip --global --format='value(address)'
    let address: Value = cloud
        .get(&ResourceRef::global(P, "addresses", "global-ip"))
        .await
        .unwrap()
        .unwrap();
    // gcloud compute forwarding-rules create https-forwarding-rule --address=IP --global
    //   --target-https-proxy=https-proxy --ports=443, with the scheme of the backend service
    //   (without --load-balancing-scheme gcloud asks for a classic EXTERNAL rule).
    insert(
        app,
        CollectionRef::global(P, "forwardingRules"),
        json!({ "name": "https-forwarding-rule", "IPAddress": address["address"],
                "IPProtocol": "TCP", "portRange": "443", "loadBalancingScheme": "EXTERNAL_MANAGED",
                "networkTier": "PREMIUM",
                "target": link(&format!("projects/{P}/global/targetHttpsProxies/https-proxy")) }),
    )
    .await;
}

async fn everything(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    let mut colls: Vec<CollectionRef> = [
        "forwardingRules",
        "targetHttpsProxies",
        "targetHttpProxies",
        "urlMaps",
        "backendServices",
        "networkEndpointGroups",
        "sslCertificates",
        "addresses",
    ]
    .iter()
    .map(|c| CollectionRef::global(P, c))
    .collect();
    colls.push(CollectionRef::regional(P, R, "networkEndpointGroups"));
    for c in colls {
        let items: Vec<Value> = app.state.cloud.list(&c).await.unwrap();
        out.extend(
            items
                .iter()
                .map(|i| format!("{}/{}", c.path(), i["name"].as_str().unwrap())),
        );
    }
    out
}

/// Every resource with its server-assigned id: a recreated resource gets a new one.
async fn everything_with_ids(app: &TestApp) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in everything(app).await {
        let v: Value = app
            .state
            .cloud
            .get(&switchyard::cloud::ResourceRef::parse(&path).unwrap())
            .await
            .unwrap()
            .unwrap();
        out.push((path, v["id"].to_string()));
    }
    out
}

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
    assert!(
        planned.plan.conflicts.is_empty(),
        "{:?}",
        planned.plan.conflicts
    );
    assert!(planned.plan.is_noop(), "{:?}", planned.plan.entries);
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
    let before = everything_with_ids(&app).await;
    let job = app.state.deployer.apply(&row, "tester").await.unwrap();
    run(&app, job).await;
    assert_eq!(everything_with_ids(&app).await, before, "nothing recreated");
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
    assert_eq!(everything(&app).await, Vec::<String>::new());
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
