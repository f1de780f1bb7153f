//! Load balancers built by hand in the sandbox, with exactly the calls the seeds' gcloud
//! commands (or console steps) send and their names: what adoption is tested against.
#![allow(dead_code)]

use crate::common::TestApp;
use serde_json::{Value, json};
use switchyard::cloud::types::RunService;
use switchyard::cloud::{CollectionRef, ResourceRef};

pub const P: &str = "my-project";
pub const R: &str = "us-central1";

fn rid() -> uuid::Uuid {
    uuid::Uuid::new_v4()
}

pub async fn insert(app: &TestApp, c: CollectionRef, body: Value) {
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

pub fn link(path: &str) -> String {
    switchyard::domain::links::full_url(path)
}

/// Seed 000: the Cloud Run service, then the nine gcloud commands' requests, in order.
pub async fn build_seed_000(app: &TestApp) {
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

/// `gcloud compute backend-services add-backend`: a get, then an update with the NEG added,
/// leaving out the server's default `timeoutSec` as gcloud does next to a serverless NEG.
pub async fn add_backend(app: &TestApp, project: &str, bs: &str, group: &str) {
    let cloud = &app.state.cloud;
    let bs_ref = ResourceRef::global(project, "backendServices", bs);
    let mut v: Value = cloud.get(&bs_ref).await.unwrap().unwrap();
    v.as_object_mut().unwrap().remove("timeoutSec");
    let mut backends = v["backends"].as_array().cloned().unwrap_or_default();
    backends.push(json!({ "group": link(group) }));
    v["backends"] = json!(backends);
    let op = cloud.update(&bs_ref, &v, rid()).await.unwrap();
    cloud.wait_operation(&op).await.unwrap();
}

/// Reserves `name` and returns its IP (`addresses create` then `addresses describe`).
async fn reserve(app: &TestApp, project: &str, name: &str) -> Value {
    insert(
        app,
        CollectionRef::global(project, "addresses"),
        json!({ "name": name }),
    )
    .await;
    let address: Value = app
        .state
        .cloud
        .get(&ResourceRef::global(project, "addresses", name))
        .await
        .unwrap()
        .unwrap();
    address["address"].clone()
}

pub const SEED_001_REGIONS: [(&str, &str); 3] = [
    ("us-central1", "my-app-neg-us"),
    ("europe-west1", "my-app-neg-eu"),
    ("asia-east1", "my-app-neg-asia"),
];

/// Seed 001, steps 1 to 3: `my-app` deployed to three regions, a serverless NEG in each, all
/// three in one backend service, behind HTTPS. (Its step 4, `--max-rate` on serverless NEGs,
/// is what Google refuses: not part of a load balancer that can exist.)
pub async fn build_seed_001(app: &TestApp) {
    let cloud = &app.state.cloud;
    for (region, neg) in SEED_001_REGIONS {
        // gcloud run deploy my-app --image=gcr.io/my-project/my-app:v1.0.0 --region=REGION
        //   --allow-unauthenticated --min-instances=1 --max-instances=100 --memory=512Mi --cpu=1
        cloud
            .run_services(P, region)
            .create(
                "my-app",
                &RunService::with_image("gcr.io/my-project/my-app:v1.0.0"),
            )
            .await
            .unwrap();
        // gcloud compute network-endpoint-groups create NEG --region=REGION
        //   --network-endpoint-type=serverless --cloud-run-service=my-app
        insert(
            app,
            CollectionRef::regional(P, region, "networkEndpointGroups"),
            json!({ "name": neg, "networkEndpointType": "SERVERLESS",
                    "cloudRun": { "service": "my-app" } }),
        )
        .await;
    }
    // gcloud compute backend-services create my-app-backend --global
    //   --load-balancing-scheme=EXTERNAL_MANAGED
    insert(
        app,
        CollectionRef::global(P, "backendServices"),
        json!({ "name": "my-app-backend", "loadBalancingScheme": "EXTERNAL_MANAGED",
                "protocol": "HTTP" }),
    )
    .await;
    for (region, neg) in SEED_001_REGIONS {
        add_backend(
            app,
            P,
            "my-app-backend",
            &format!("projects/{P}/regions/{region}/networkEndpointGroups/{neg}"),
        )
        .await;
    }
    // gcloud compute url-maps create my-app-url-map --default-service=my-app-backend
    insert(
        app,
        CollectionRef::global(P, "urlMaps"),
        json!({ "name": "my-app-url-map",
                "defaultService": link(&format!("projects/{P}/global/backendServices/my-app-backend")) }),
    )
    .await;
    // gcloud compute addresses create my-app-ip --global --ip-version=IPV4
    let ip = reserve(app, P, "my-app-ip").await;
    // gcloud compute ssl-certificates create my-app-cert --domains=app.example.com --global
    insert(
        app,
        CollectionRef::global(P, "sslCertificates"),
        json!({ "name": "my-app-cert", "type": "MANAGED",
                "managed": { "domains": ["app.example.com"] } }),
    )
    .await;
    // gcloud compute target-https-proxies create my-app-proxy --url-map=my-app-url-map
    //   --ssl-certificates=my-app-cert
    insert(
        app,
        CollectionRef::global(P, "targetHttpsProxies"),
        json!({ "name": "my-app-proxy",
                "urlMap": link(&format!("projects/{P}/global/urlMaps/my-app-url-map")),
                "sslCertificates": [link(&format!("projects/{P}/global/sslCertificates/my-app-cert"))] }),
    )
    .await;
    // gcloud compute forwarding-rules create my-app-forwarding --global
    //   --target-https-proxy=my-app-proxy --address=my-app-ip --ports=443
    insert(
        app,
        CollectionRef::global(P, "forwardingRules"),
        json!({ "name": "my-app-forwarding", "IPAddress": ip, "IPProtocol": "TCP",
                "portRange": "443", "loadBalancingScheme": "EXTERNAL_MANAGED",
                "networkTier": "PREMIUM",
                "target": link(&format!("projects/{P}/global/targetHttpsProxies/my-app-proxy")) }),
    )
    .await;
}

/// The project of seed 002's load balancer; its Cloud Run services live elsewhere.
pub const P2: &str = "my-lb-project";
pub const HELLO: &str = "hello-3qx7k2dz6a-uc.a.run.app";
pub const HELLO2: &str = "hello2-3qx7k2dz6a-uc.a.run.app";

/// Seed 002 as its console steps leave it: one "generic" internet NEG whose endpoint is a
/// run.app name, shared by two HTTPS backend services that each override the Host header with
/// their Cloud Run service's name; `/hello2` goes to the second with its prefix rewritten to
/// `/`; HTTP on an ephemeral IP (the seed's "simplest configuration").
pub async fn build_seed_002(app: &TestApp) {
    let cloud = &app.state.cloud;
    let neg = format!("projects/{P2}/global/networkEndpointGroups/cloudrun-internet-neg");
    insert(
        app,
        CollectionRef::global(P2, "networkEndpointGroups"),
        json!({ "name": "cloudrun-internet-neg", "networkEndpointType": "INTERNET_FQDN_PORT",
                "defaultPort": 443 }),
    )
    .await;
    let op = cloud
        .attach_network_endpoints(
            P2,
            "cloudrun-internet-neg",
            vec![switchyard::cloud::types::NetworkEndpoint {
                fqdn: Some(HELLO.into()),
                ip_address: None,
                port: Some(443),
            }],
            rid(),
        )
        .await
        .unwrap();
    cloud.wait_operation(&op).await.unwrap();
    for (bs, host) in [("hello-backend", HELLO), ("hello2-backend", HELLO2)] {
        insert(
            app,
            CollectionRef::global(P2, "backendServices"),
            json!({ "name": bs, "loadBalancingScheme": "EXTERNAL_MANAGED", "protocol": "HTTPS",
                    "customRequestHeaders": [format!("host: {host}")],
                    "backends": [{ "group": link(&neg) }] }),
        )
        .await;
    }
    let bs = |n: &str| link(&format!("projects/{P2}/global/backendServices/{n}"));
    insert(
        app,
        CollectionRef::global(P2, "urlMaps"),
        json!({ "name": "hello-lb", "defaultService": bs("hello-backend"),
                "hostRules": [{ "hosts": ["*"], "pathMatcher": "path-matcher-1" }],
                "pathMatchers": [{ "name": "path-matcher-1", "defaultService": bs("hello-backend"),
                    "pathRules": [{ "paths": ["/hello2", "/hello2/*"], "service": bs("hello2-backend"),
                        "routeAction": { "urlRewrite": { "pathPrefixRewrite": "/" } } }] }] }),
    )
    .await;
    insert(
        app,
        CollectionRef::global(P2, "targetHttpProxies"),
        json!({ "name": "hello-lb-target-proxy",
                "urlMap": link(&format!("projects/{P2}/global/urlMaps/hello-lb")) }),
    )
    .await;
    insert(
        app,
        CollectionRef::global(P2, "forwardingRules"),
        json!({ "name": "hello-lb-frontend", "IPProtocol": "TCP", "portRange": "80",
                "loadBalancingScheme": "EXTERNAL_MANAGED", "networkTier": "PREMIUM",
                "target": link(&format!("projects/{P2}/global/targetHttpProxies/hello-lb-target-proxy")) }),
    )
    .await;
}

/// Every load-balancing resource of `project` (global, and regional NEGs in `regions`).
pub async fn everything(app: &TestApp, project: &str, regions: &[&str]) -> Vec<String> {
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
    .map(|c| CollectionRef::global(project, c))
    .collect();
    for r in regions {
        colls.push(CollectionRef::regional(project, r, "networkEndpointGroups"));
    }
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

/// [`everything`] with each resource's server-assigned id: a recreated resource gets a new one.
pub async fn everything_with_ids(
    app: &TestApp,
    project: &str,
    regions: &[&str],
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in everything(app, project, regions).await {
        let v: Value = app
            .state
            .cloud
            .get(&ResourceRef::parse(&path).unwrap())
            .await
            .unwrap()
            .unwrap();
        out.push((path, v["id"].to_string()));
    }
    out
}

/// A change made behind the panel's back (the console's edit): a patch of `r` with its
/// current fingerprint, waited for.
pub async fn change_by_hand(app: &TestApp, r: &ResourceRef, mut patch: Value) {
    let cloud = &app.state.cloud;
    let current: Value = cloud.get(r).await.unwrap().unwrap();
    patch["fingerprint"] = current["fingerprint"].clone();
    let op = cloud.patch(r, &patch, rid()).await.unwrap();
    cloud.wait_operation(&op).await.unwrap();
}

/// The checks every adoption's first plan passes: nothing belongs to anyone else, nothing
/// changes.
pub fn assert_first_plan_noop(plan: &switchyard::domain::plan::Plan) {
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    assert!(plan.is_noop(), "{:?}", plan.entries);
}

/// The project of the Cloud Run service in [`build_cross_project`].
pub const RUN_PROJECT: &str = "my-run-project";

/// Cross-project service referencing built by hand: the Cloud Run service, its serverless NEG
/// and its backend service in `RUN_PROJECT`; the URL map (naming that backend service by its
/// full URL), HTTP proxy, address and forwarding rule in `P`.
pub async fn build_cross_project(app: &TestApp) {
    let cloud = &app.state.cloud;
    cloud
        .run_services(RUN_PROJECT, R)
        .create(
            "orders",
            &RunService::with_image("us-docker.pkg.dev/cloudrun/container/hello"),
        )
        .await
        .unwrap();
    insert(
        app,
        CollectionRef::regional(RUN_PROJECT, R, "networkEndpointGroups"),
        json!({ "name": "orders-neg", "networkEndpointType": "SERVERLESS",
                "cloudRun": { "service": "orders" } }),
    )
    .await;
    insert(
        app,
        CollectionRef::global(RUN_PROJECT, "backendServices"),
        json!({ "name": "orders-backend", "loadBalancingScheme": "EXTERNAL_MANAGED",
                "protocol": "HTTPS" }),
    )
    .await;
    add_backend(
        app,
        RUN_PROJECT,
        "orders-backend",
        &format!("projects/{RUN_PROJECT}/regions/{R}/networkEndpointGroups/orders-neg"),
    )
    .await;
    insert(
        app,
        CollectionRef::global(P, "urlMaps"),
        json!({ "name": "shop-map",
                "defaultService": link(&format!("projects/{RUN_PROJECT}/global/backendServices/orders-backend")) }),
    )
    .await;
    insert(
        app,
        CollectionRef::global(P, "targetHttpProxies"),
        json!({ "name": "shop-proxy",
                "urlMap": link(&format!("projects/{P}/global/urlMaps/shop-map")) }),
    )
    .await;
    let ip = reserve(app, P, "shop-ip").await;
    insert(
        app,
        CollectionRef::global(P, "forwardingRules"),
        json!({ "name": "shop-rule", "IPAddress": ip, "IPProtocol": "TCP", "portRange": "80",
                "loadBalancingScheme": "EXTERNAL_MANAGED", "networkTier": "PREMIUM",
                "target": link(&format!("projects/{P}/global/targetHttpProxies/shop-proxy")) }),
    )
    .await;
}
