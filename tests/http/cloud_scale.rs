//! The sandbox with thousands of resources in one project (issue #13 item 4): lists and reads
//! must cost in proportion to what they answer, not to the square of the project's size. The
//! bounds are generous (seconds, where the quadratic sandbox took minutes): they catch the
//! square, not a slow machine.

use crate::cloud_support::{P, R, TestCloud, fast_config, raw, start};
use futures::future::try_join_all;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard::cloud::{CollectionRef, RetryPolicy};
use switchyard::db::sandbox::{self as sql, Key};
use switchyard::deploy::CloudLiveReader;
use switchyard::deploy::live::LiveReader;

const WWW: &str = "https://www.googleapis.com/compute/v1";
const SERVICES: usize = 2000;
/// Far above what a linear sandbox needs in a debug build on a busy machine, far below what the
/// quadratic one took (a minute and more for 2,000 backend services).
const BOUND: Duration = Duration::from_secs(10);

fn global(project: &str, collection: &str, name: &str) -> String {
    format!("{WWW}/projects/{project}/global/{collection}/{name}")
}

/// Writes `n` backend services (`bs-00000`, …) behind one internet NEG, and a URL map that routes
/// to the first two, straight into the sandbox's tables: inserting thousands through the API would
/// spend the test's time on operations rather than on what it measures.
async fn seed(cloud: &TestCloud, project: &str, n: usize) {
    let url = format!("sqlite://{}", cloud.dir.path().join("cloud.db").display());
    let db = switchyard::db::connect(&url).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let now = 1_700_000_000_000;
    let mut put = async |collection: &str, name: &str, body: Value, internal: Value| {
        let key = Key {
            api: "compute",
            project,
            location: "global",
            collection,
            name,
        };
        sql::put_resource(&mut tx, key, &body, &internal, 0, now)
            .await
            .unwrap();
    };
    let neg = global(project, "networkEndpointGroups", "origin");
    put(
        "networkEndpointGroups",
        "origin",
        json!({"kind": "compute#networkEndpointGroup", "id": "1", "name": "origin",
            "networkEndpointType": "INTERNET_FQDN_PORT", "defaultPort": 443, "selfLink": neg}),
        json!({"endpoints": [{"fqdn": "origin.example.com", "port": 443}]}),
    )
    .await;
    for i in 0..n {
        let name = format!("bs-{i:05}");
        let body = json!({
            "kind": "compute#backendService", "id": (10_000 + i).to_string(), "name": name,
            "selfLink": global(project, "backendServices", &name),
            "creationTimestamp": "2024-01-01T00:00:00Z", "fingerprint": "c2FuZGJveA==",
            "loadBalancingScheme": "EXTERNAL_MANAGED", "protocol": "HTTPS",
            "backends": [{"group": neg}], "sessionAffinity": "NONE", "affinityCookieTtlSec": 0,
            "connectionDraining": {"drainingTimeoutSec": 300}, "timeoutSec": 30,
            "enableCDN": false,
            "customRequestHeaders": ["X-Client-Region: {client_region}"],
        });
        put("backendServices", &name, body, json!({})).await;
    }
    let first = global(project, "backendServices", "bs-00000");
    let second = global(project, "backendServices", "bs-00001");
    put(
        "urlMaps",
        "shop-map",
        json!({"kind": "compute#urlMap", "id": "2", "name": "shop-map",
            "selfLink": global(project, "urlMaps", "shop-map"), "fingerprint": "c2FuZGJveA==",
            "defaultService": first,
            "hostRules": [{"hosts": ["shop.example.com"], "pathMatcher": "m"}],
            "pathMatchers": [{"name": "m", "defaultService": first,
                "pathRules": [{"paths": ["/api/*"], "service": second}]}]}),
        json!({}),
    )
    .await;
    tx.commit().await.unwrap();
    db.close().await;
}

async fn list_all(cloud: &TestCloud, project: &str, collection: &str) -> (Vec<Value>, Duration) {
    let started = Instant::now();
    let items: Vec<Value> = cloud
        .client
        .list(&CollectionRef::global(project, collection))
        .await
        .unwrap();
    (items, started.elapsed())
}

#[tokio::test]
async fn lists_and_reads_stay_linear_with_thousands_of_backend_services() {
    let cloud = start(fast_config()).await;
    seed(&cloud, P, SERVICES).await;
    seed(&cloud, "unrelated", 3).await;

    // Every service, once each, in name order, through the client's paging; the URL map's
    // services still show who uses them.
    let (items, took) = list_all(&cloud, P, "backendServices").await;
    eprintln!("listing {SERVICES} backend services took {took:?}");
    let names: Vec<&str> = items.iter().map(|v| v["name"].as_str().unwrap()).collect();
    let expected: Vec<String> = (0..SERVICES).map(|i| format!("bs-{i:05}")).collect();
    assert_eq!(names, expected);
    let used_by = |v: &Value| v["usedBy"].clone();
    let map = json!([{"reference": global(P, "urlMaps", "shop-map")}]);
    assert_eq!(used_by(&items[0]), map);
    assert_eq!(used_by(&items[1]), map);
    assert_eq!(used_by(&items[2]), Value::Null);
    assert!(took < BOUND, "listing took {took:?}");

    // A small project beside the big one does not pay for it.
    let (items, took) = list_all(&cloud, "unrelated", "backendServices").await;
    eprintln!("listing 3 backend services in another project took {took:?}");
    assert_eq!(items.len(), 3);
    assert!(took < BOUND, "listing took {took:?}");

    // What planning a small deployment in the big project reads: every collection it may own
    // resources in, listed in parallel and filtered by its prefix, then its resources one by one.
    let reader = CloudLiveReader::new(Arc::new(cloud.handle.client(RetryPolicy::fast()).unwrap()));
    let started = Instant::now();
    let collections: Vec<String> = [
        "networkEndpointGroups",
        "backendServices",
        "urlMaps",
        "sslCertificates",
        "targetHttpsProxies",
        "targetHttpProxies",
        "addresses",
        "forwardingRules",
    ]
    .iter()
    .map(|c| format!("projects/{P}/global/{c}"))
    .chain([format!("projects/{P}/regions/{R}/networkEndpointGroups")])
    .collect();
    let listed = try_join_all(collections.iter().map(|c| reader.list(c, "shop-")))
        .await
        .unwrap();
    assert_eq!(listed.iter().map(Vec::len).sum::<usize>(), 1, "the URL map");
    for i in 0..10 {
        let path = format!("projects/{P}/global/backendServices/bs-{i:05}");
        assert!(reader.get(&path).await.unwrap().is_some());
    }
    let took = started.elapsed();
    eprintln!("a plan's reads in the big project took {took:?}");
    assert!(took < BOUND, "a plan's reads took {took:?}");

    // Paging by hand: small pages join up to the whole, and a token that is not one is refused.
    let mut seen = 0;
    let mut token = String::new();
    loop {
        let path = format!(
            "/compute/v1/projects/{P}/global/backendServices?maxResults=499&pageToken={token}"
        );
        let (status, page) = raw(&cloud, Method::GET, &path, None).await;
        assert_eq!(status, 200, "{page}");
        seen += page["items"].as_array().unwrap().len();
        match page["nextPageToken"].as_str() {
            Some(t) => token = t.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, SERVICES);
    let (status, _) = raw(
        &cloud,
        Method::GET,
        &format!("/compute/v1/projects/{P}/global/backendServices?pageToken=-"),
        None,
    )
    .await;
    assert_eq!(status, 400);
}
