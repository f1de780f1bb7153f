//! The sandbox's own rules, one or more tests per point of docs/google-cloud.md §11, checked with raw HTTP
//! so status codes and error shapes are exact.

use crate::cloud_support::{R, TestCloud, fast_config, raw, start, start_in};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use switchyard::cloud::sandbox::SandboxConfig;

const G: &str = "/compute/v1/projects/acme/global";
const WWW: &str = "https://www.googleapis.com/compute/v1/projects/acme";

fn rid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// POSTs a mutation with a fresh requestId, expects 200 + an operation, waits for it.
async fn create(cloud: &TestCloud, path: &str, body: Value) -> Value {
    let (status, op) = raw(
        cloud,
        Method::POST,
        &format!("{path}?requestId={}", rid()),
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{path}: {op}");
    wait(cloud, &op).await
}

async fn wait(cloud: &TestCloud, op: &Value) -> Value {
    let link = op["selfLink"].as_str().unwrap();
    let path = &link[link.find("/compute/v1/").unwrap()..];
    let (status, done) = raw(cloud, Method::POST, &format!("{path}/wait"), None).await;
    assert_eq!(status, 200);
    assert_eq!(done["status"], "DONE", "{done}");
    done
}

fn reason(body: &Value) -> &str {
    body["error"]["errors"][0]["reason"]
        .as_str()
        .unwrap_or_default()
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

async fn internet_neg(cloud: &TestCloud, name: &str) {
    create(
        cloud,
        &format!("{G}/networkEndpointGroups"),
        json!({"name": name, "networkEndpointType": "INTERNET_FQDN_PORT", "defaultPort": 443}),
    )
    .await;
}

async fn serverless_neg(cloud: &TestCloud, name: &str) {
    create(cloud, &format!("/compute/v1/projects/acme/regions/{R}/networkEndpointGroups"),
        json!({"name": name, "networkEndpointType": "SERVERLESS", "cloudRun": {"service": "my-app"}})).await;
}

fn neg_link(name: &str) -> String {
    format!("{WWW}/regions/{R}/networkEndpointGroups/{name}")
}

async fn backend_service(cloud: &TestCloud, name: &str, group: &str) {
    create(
        cloud,
        &format!("{G}/backendServices"),
        json!({"name": name,
        "loadBalancingScheme": "EXTERNAL_MANAGED", "backends": [{"group": group}]}),
    )
    .await;
}

// §11.1 paths, query parameters, self links
#[tokio::test]
async fn serves_compute_paths_with_google_query_parameters_and_www_links() {
    let cloud = start(fast_config()).await;
    internet_neg(&cloud, "n").await;
    let (status, neg) = raw(
        &cloud,
        Method::GET,
        &format!("{G}/networkEndpointGroups/n?alt=json&prettyPrint=false"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(neg["kind"], "compute#networkEndpointGroup");
    assert_eq!(
        neg["selfLink"],
        format!("{WWW}/global/networkEndpointGroups/n")
    );
    assert!(
        neg["id"].as_str().unwrap().parse::<u64>().is_ok(),
        "uint64 ids are strings"
    );
    let (status, list) = raw(
        &cloud,
        Method::GET,
        &format!("{G}/networkEndpointGroups?maxResults=500"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // The target proxies' setters exist only without /global/.
    let (status, _) = raw(
        &cloud,
        Method::POST,
        &format!("{G}/targetHttpsProxies/t/setUrlMap"),
        Some(json!({"urlMap": "x"})),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn lists_page_with_max_results_and_page_token() {
    let cloud = start(fast_config()).await;
    for n in ["a", "b", "c"] {
        internet_neg(&cloud, n).await;
    }
    let (_, page1) = raw(
        &cloud,
        Method::GET,
        &format!("{G}/networkEndpointGroups?maxResults=2"),
        None,
    )
    .await;
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let token = page1["nextPageToken"].as_str().unwrap();
    let (_, page2) = raw(
        &cloud,
        Method::GET,
        &format!("{G}/networkEndpointGroups?maxResults=2&pageToken={token}"),
        None,
    )
    .await;
    assert_eq!(page2["items"][0]["name"], "c");
    assert!(page2.get("nextPageToken").is_none());
}

// §11.2 names
#[tokio::test]
async fn names_must_be_rfc1035_labels() {
    let cloud = start(fast_config()).await;
    for bad in ["Upper", "1abc", "trailing-", &"a".repeat(64)] {
        let (status, body) = raw(
            &cloud,
            Method::POST,
            &format!("{G}/addresses"),
            Some(json!({"name": bad})),
        )
        .await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(reason(&body), "invalid");
        assert!(message(&body).contains("resource.name"));
    }
    let (status, body) = raw(
        &cloud,
        Method::POST,
        &format!(
            "/v2/projects/acme/locations/{R}/services?serviceId={}",
            "a".repeat(50)
        ),
        Some(json!({"template": {"containers": [{"image": "img"}]}})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
}

// §11.3 operations take time, live in the right collection, can end in error
#[tokio::test]
async fn operations_run_then_finish_in_their_own_collection() {
    let cloud = start(SandboxConfig {
        operation_latency: Duration::from_millis(3000),
        ..fast_config()
    })
    .await;
    let request_id = rid();
    let (status, op) = raw(&cloud, Method::POST,
        &format!("/compute/v1/projects/acme/regions/{R}/networkEndpointGroups?requestId={request_id}"),
        Some(json!({"name": "s", "networkEndpointType": "SERVERLESS", "cloudRun": {"service": "my-app"}}))).await;
    assert_eq!(status, 200);
    assert_eq!(op["status"], "RUNNING");
    assert_eq!(op["progress"], 0);
    assert_eq!(op["clientOperationId"], request_id.as_str());
    assert_eq!(
        op["operationType"],
        "compute.regionNetworkEndpointGroups.insert"
    );
    assert_eq!(op["targetLink"], neg_link("s"));
    assert!(op["insertTime"].is_string() && op.get("endTime").is_none());
    let name = op["name"].as_str().unwrap();
    assert!(
        op["selfLink"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/regions/{R}/operations/{name}"))
    );
    let (status, _) = raw(&cloud, Method::GET, &format!("{G}/operations/{name}"), None).await;
    assert_eq!(
        status, 404,
        "a regional operation is not in globalOperations"
    );
    let (_, still) = raw(
        &cloud,
        Method::GET,
        &format!("/compute/v1/projects/acme/regions/{R}/operations/{name}"),
        None,
    )
    .await;
    assert_eq!(still["status"], "RUNNING");
    let done = wait(&cloud, &op).await;
    assert_eq!(done["progress"], 100);
    assert!(done["endTime"].is_string());
}

#[tokio::test]
async fn an_injected_operation_error_ends_done_with_errors_through_the_admin_hook() {
    let cloud = start(fast_config()).await;
    let resp = reqwest::Client::new()
        .post(format!("{}/sandbox/v1/faults", cloud.handle.base_url()))
        .json(&json!({"queue": ["operationError"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (status, op) = raw(
        &cloud,
        Method::POST,
        &format!("{G}/addresses?requestId={}", rid()),
        Some(json!({"name": "ip"})),
    )
    .await;
    assert_eq!(status, 200, "a mutation that fails later still answers 200");
    let done = wait(&cloud, &op).await;
    assert_eq!(done["error"]["errors"][0]["code"], "INTERNAL_ERROR");
    assert_eq!(done["httpErrorStatusCode"], 500);
    let (status, _) = raw(&cloud, Method::GET, &format!("{G}/addresses/ip"), None).await;
    assert_eq!(status, 404);
}

// §11.4 requestId
#[tokio::test]
async fn request_ids_must_be_uuids_and_dedupe_mutations() {
    let cloud = start(fast_config()).await;
    for bad in ["not-a-uuid", "00000000-0000-0000-0000-000000000000"] {
        let (status, body) = raw(
            &cloud,
            Method::POST,
            &format!("{G}/addresses?requestId={bad}"),
            Some(json!({"name": "ip"})),
        )
        .await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(reason(&body), "invalid");
    }
    let id = rid();
    let (_, first) = raw(
        &cloud,
        Method::POST,
        &format!("{G}/addresses?requestId={id}"),
        Some(json!({"name": "ip"})),
    )
    .await;
    let (status, second) = raw(
        &cloud,
        Method::POST,
        &format!("{G}/addresses?requestId={id}"),
        Some(json!({"name": "ip"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(first["name"], second["name"]);
    // The insert is listed once its operation is DONE, and only once.
    wait(&cloud, &first).await;
    let (_, list) = raw(&cloud, Method::GET, &format!("{G}/addresses"), None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

// §11.5 409 / 404 / 412
#[tokio::test]
async fn conflicts_missing_resources_and_stale_fingerprints_have_google_shapes() {
    let cloud = start(fast_config()).await;
    internet_neg(&cloud, "n").await;
    let (status, body) = raw(
        &cloud,
        Method::POST,
        &format!("{G}/networkEndpointGroups"),
        Some(json!({"name": "n", "networkEndpointType": "INTERNET_FQDN_PORT"})),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(reason(&body), "alreadyExists");
    assert_eq!(
        message(&body),
        "The resource 'projects/acme/global/networkEndpointGroups/n' already exists"
    );

    let (status, body) = raw(&cloud, Method::GET, &format!("{G}/urlMaps/none"), None).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": {"code": 404,
        "message": "The resource 'projects/acme/global/urlMaps/none' was not found",
        "errors": [{"domain": "global", "reason": "notFound",
                    "message": "The resource 'projects/acme/global/urlMaps/none' was not found"}]}})
    );

    // A missing reference on insert is a 404 naming it.
    let (status, body) = raw(
        &cloud,
        Method::POST,
        &format!("{G}/urlMaps"),
        Some(json!({"name": "m", "defaultService": format!("{WWW}/global/backendServices/ghost")})),
    )
    .await;
    assert_eq!(status, 404);
    assert!(message(&body).contains("backendServices/ghost"));

    backend_service(
        &cloud,
        "bs",
        &format!("{WWW}/global/networkEndpointGroups/n"),
    )
    .await;
    let (_, bs) = raw(
        &cloud,
        Method::GET,
        &format!("{G}/backendServices/bs"),
        None,
    )
    .await;
    let fp = bs["fingerprint"].as_str().unwrap().to_string();
    let (status, body) = raw(
        &cloud,
        Method::PATCH,
        &format!("{G}/backendServices/bs"),
        Some(json!({"description": "x"})),
    )
    .await;
    assert_eq!(status, 412, "patch without the fingerprint");
    assert_eq!(reason(&body), "conditionNotMet");
    let (status, op) = raw(
        &cloud,
        Method::PATCH,
        &format!("{G}/backendServices/bs"),
        Some(json!({"description": "x", "fingerprint": fp})),
    )
    .await;
    assert_eq!(status, 200);
    wait(&cloud, &op).await;
    let (status, _) = raw(
        &cloud,
        Method::PATCH,
        &format!("{G}/backendServices/bs"),
        Some(json!({"description": "y", "fingerprint": fp})),
    )
    .await;
    assert_eq!(status, 412, "the old fingerprint is stale after an update");
    let (_, after) = raw(
        &cloud,
        Method::GET,
        &format!("{G}/backendServices/bs"),
        None,
    )
    .await;
    assert_eq!(after["description"], "x");
    assert_ne!(after["fingerprint"], fp.as_str());
}

// §11.6 dependency checks on delete
#[tokio::test]
async fn deletes_of_used_resources_are_refused_naming_the_user() {
    let cloud = start(fast_config()).await;
    serverless_neg(&cloud, "neg").await;
    internet_neg(&cloud, "ineg").await;
    create(
        &cloud,
        &format!("{G}/healthChecks"),
        json!({"name": "hc", "type": "HTTP", "httpHealthCheck": {"port": 80}}),
    )
    .await;
    create(
        &cloud,
        &format!("{G}/backendServices"),
        json!({"name": "checked", "healthChecks": [format!("{WWW}/global/healthChecks/hc")]}),
    )
    .await;
    backend_service(&cloud, "bs", &neg_link("neg")).await;
    backend_service(
        &cloud,
        "bs2",
        &format!("{WWW}/global/networkEndpointGroups/ineg"),
    )
    .await;
    create(&cloud, &format!("{G}/urlMaps"), json!({"name": "um", "defaultService": format!("{WWW}/global/backendServices/bs"),
        "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
        "pathMatchers": [{"name": "pm", "defaultService": format!("{WWW}/global/backendServices/bs"),
            "pathRules": [{"paths": ["/x/*"], "routeAction": {"weightedBackendServices": [
                {"backendService": format!("{WWW}/global/backendServices/bs2"), "weight": 100}]}}]}]})).await;
    create(
        &cloud,
        &format!("{G}/sslCertificates"),
        json!({"name": "cert", "type": "MANAGED", "managed": {"domains": ["a.example.com"]}}),
    )
    .await;
    create(
        &cloud,
        &format!("{G}/targetHttpsProxies"),
        json!({"name": "proxy", "urlMap": format!("{WWW}/global/urlMaps/um"),
        "sslCertificates": [format!("{WWW}/global/sslCertificates/cert")]}),
    )
    .await;
    create(&cloud, &format!("{G}/addresses"), json!({"name": "ip"})).await;
    create(&cloud, &format!("{G}/forwardingRules"), json!({"name": "fr", "IPAddress": format!("{WWW}/global/addresses/ip"),
        "portRange": "443", "loadBalancingScheme": "EXTERNAL_MANAGED", "target": format!("{WWW}/global/targetHttpsProxies/proxy")})).await;

    let cases = [
        (
            "global/addresses/ip",
            "address",
            "global/forwardingRules/fr",
        ),
        (
            "global/targetHttpsProxies/proxy",
            "target_https_proxy",
            "global/forwardingRules/fr",
        ),
        (
            "global/urlMaps/um",
            "url_map",
            "global/targetHttpsProxies/proxy",
        ),
        (
            "global/sslCertificates/cert",
            "ssl_certificate",
            "global/targetHttpsProxies/proxy",
        ),
        (
            "global/backendServices/bs",
            "backend_service",
            "global/urlMaps/um",
        ),
        (
            "global/backendServices/bs2",
            "backend_service",
            "global/urlMaps/um",
        ),
        (
            &format!("regions/{R}/networkEndpointGroups/neg"),
            "network_endpoint_group",
            "global/backendServices/bs",
        ),
        (
            "global/networkEndpointGroups/ineg",
            "network_endpoint_group",
            "global/backendServices/bs2",
        ),
        (
            "global/healthChecks/hc",
            "health_check",
            "global/backendServices/checked",
        ),
    ];
    for (target, singular, user) in cases {
        let (status, body) = raw(
            &cloud,
            Method::DELETE,
            &format!("/compute/v1/projects/acme/{target}?requestId={}", rid()),
            None,
        )
        .await;
        assert_eq!(status, 400, "{target}");
        assert_eq!(reason(&body), "resourceInUseByAnotherResource");
        assert_eq!(
            message(&body),
            format!(
                "The {singular} resource 'projects/acme/{target}' is already being used by 'projects/acme/{user}'"
            )
        );
    }
    // The address reports its user and IN_USE (§11.10).
    let (_, addr) = raw(&cloud, Method::GET, &format!("{G}/addresses/ip"), None).await;
    assert_eq!(addr["status"], "IN_USE");
    assert_eq!(addr["users"][0], format!("{WWW}/global/forwardingRules/fr"));
    let (_, bs) = raw(
        &cloud,
        Method::GET,
        &format!("{G}/backendServices/bs"),
        None,
    )
    .await;
    assert_eq!(
        bs["usedBy"][0]["reference"],
        format!("{WWW}/global/urlMaps/um")
    );
}

// §11.7 serverless and internet NEG rules
#[tokio::test]
async fn serverless_negs_are_regional_only_without_network_settings() {
    let cloud = start(fast_config()).await;
    let (status, body) = raw(
        &cloud,
        Method::POST,
        &format!("{G}/networkEndpointGroups"),
        Some(
            json!({"name": "s", "networkEndpointType": "SERVERLESS", "cloudRun": {"service": "x"}}),
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        message(&body),
        "Invalid value for field 'resource.networkEndpointType': 'SERVERLESS'. Network endpoint of type SERVERLESS is only allowed in regional scope."
    );
    for extra in [
        json!({"defaultPort": 443}),
        json!({"network": "global/networks/default"}),
    ] {
        let mut neg =
            json!({"name": "s", "networkEndpointType": "SERVERLESS", "cloudRun": {"service": "x"}});
        neg.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (status, body) = raw(
            &cloud,
            Method::POST,
            &format!("/compute/v1/projects/acme/regions/{R}/networkEndpointGroups"),
            Some(neg),
        )
        .await;
        assert_eq!(status, 400, "{extra}");
        assert_eq!(reason(&body), "invalid");
    }
    let (status, _) = raw(
        &cloud,
        Method::POST,
        &format!("/compute/v1/projects/acme/regions/{R}/networkEndpointGroups"),
        Some(json!({"name": "s", "networkEndpointType": "SERVERLESS"})),
    )
    .await;
    assert_eq!(status, 400, "needs a cloudRun target");
}

#[tokio::test]
async fn backend_services_refuse_health_checks_and_balancing_settings_on_serverless_and_internet_negs()
 {
    let cloud = start(fast_config()).await;
    serverless_neg(&cloud, "neg").await;
    internet_neg(&cloud, "ineg").await;
    create(
        &cloud,
        &format!("{G}/healthChecks"),
        json!({"name": "hc", "type": "HTTP"}),
    )
    .await;
    let hc = format!("{WWW}/global/healthChecks/hc");
    let serverless = neg_link("neg");
    let internet = format!("{WWW}/global/networkEndpointGroups/ineg");
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"backends": [{"group": serverless}], "healthChecks": [hc]}),
            "A backend service cannot have a healthcheck with Serverless network endpoint group backends.",
        ),
        (
            json!({"backends": [{"group": internet}], "healthChecks": [hc], "loadBalancingScheme": "EXTERNAL"}),
            "Health checks are not allowed for GLOBAL HTTP backend services with EXTERNAL load balancing scheme that have an Internet NEG.",
        ),
        (
            json!({"backends": [{"group": serverless, "balancingMode": "RATE", "maxRatePerEndpoint": 10}]}),
            "resource.backends[0].balancingMode",
        ),
        (
            json!({"backends": [{"group": serverless, "maxUtilization": 0.8}]}),
            "Max utilization is not supported",
        ),
        (
            json!({"backends": [{"group": serverless, "capacityScaler": 0.5}]}),
            "resource.backends[0].capacityScaler",
        ),
        (
            json!({"backends": [{"group": serverless}], "timeoutSec": 60}),
            "Timeout sec is not supported for a backend service with Serverless network endpoint groups.",
        ),
        (
            json!({"backends": [{"group": serverless}], "portName": "http"}),
            "Port name is not supported",
        ),
        (
            json!({"backends": [{"group": internet, "maxRate": 100}]}),
            "resource.backends[0].maxRate",
        ),
        (
            json!({"backends": [{"group": format!("projects/acme/regions/{R}/networkEndpointGroups/neg")}]}),
            "partial URLs are not supported",
        ),
    ];
    for (mut body, expect) in cases {
        body["name"] = json!("bs");
        if body.get("loadBalancingScheme").is_none() {
            body["loadBalancingScheme"] = json!("EXTERNAL_MANAGED");
        }
        let (status, resp) = raw(
            &cloud,
            Method::POST,
            &format!("{G}/backendServices"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(reason(&resp), "invalid");
        assert!(
            message(&resp).contains(expect),
            "{body} → {}",
            message(&resp)
        );
    }
    // The defaults are tolerated (terraform-provider-google#6876).
    create(
        &cloud,
        &format!("{G}/backendServices"),
        json!({"name": "ok", "loadBalancingScheme": "EXTERNAL_MANAGED",
        "backends": [{"group": serverless, "balancingMode": "UTILIZATION", "capacityScaler": 1}]}),
    )
    .await;
}

// §11.8 URL map checks, validate, tests on insert
#[tokio::test]
async fn url_maps_are_checked_by_the_domain_rules_and_tests_run_on_insert() {
    let cloud = start(fast_config()).await;
    internet_neg(&cloud, "n").await;
    backend_service(
        &cloud,
        "bs",
        &format!("{WWW}/global/networkEndpointGroups/n"),
    )
    .await;
    let bs = format!("{WWW}/global/backendServices/bs");
    let (status, body) = raw(
        &cloud,
        Method::POST,
        &format!("{G}/urlMaps"),
        Some(json!({"name": "m",
        "defaultService": bs, "defaultUrlRedirect": {"httpsRedirect": true}})),
    )
    .await;
    assert_eq!(status, 400, "two defaults");
    assert_eq!(reason(&body), "invalid");
    let (status, body) = raw(
        &cloud,
        Method::POST,
        &format!("{G}/urlMaps"),
        Some(json!({"name": "m",
        "defaultService": bs, "hostRules": [{"hosts": ["*"], "pathMatcher": "nope"}]})),
    )
    .await;
    assert_eq!(status, 400, "hostRule naming a missing pathMatcher: {body}");
    assert!(message(&body).contains("resource.hostRules[0]"));
    let (status, body) = raw(&cloud, Method::POST, &format!("{G}/urlMaps"), Some(json!({"name": "m",
        "defaultService": bs, "tests": [{"host": "a.example.com", "path": "/", "service": format!("{WWW}/global/backendServices/other")}]}))).await;
    assert_eq!(status, 400, "failing test");
    assert!(message(&body).contains("resource.tests[0]"));
    create(
        &cloud,
        &format!("{G}/urlMaps"),
        json!({"name": "m", "defaultService": bs,
        "tests": [{"host": "a.example.com", "path": "/", "service": bs}]}),
    )
    .await;
    let (status, v) = raw(&cloud, Method::POST, &format!("{G}/urlMaps/anything/validate"), Some(json!({
        "resource": {"name": "x", "defaultService": bs, "defaultUrlRedirect": {"httpsRedirect": true}}}))).await;
    assert_eq!(status, 200);
    assert_eq!(v["result"]["loadSucceeded"], false);
    assert!(!v["result"]["loadErrors"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn weighted_splits_need_external_managed_backends() {
    let cloud = start(fast_config()).await;
    internet_neg(&cloud, "n").await;
    create(
        &cloud,
        &format!("{G}/backendServices"),
        json!({"name": "classic", "loadBalancingScheme": "EXTERNAL",
        "backends": [{"group": format!("{WWW}/global/networkEndpointGroups/n")}]}),
    )
    .await;
    let classic = format!("{WWW}/global/backendServices/classic");
    let map = json!({"name": "m", "defaultRouteAction": {"weightedBackendServices": [{"backendService": classic, "weight": 100}]}});
    let (status, body) = raw(
        &cloud,
        Method::POST,
        &format!("{G}/urlMaps"),
        Some(map.clone()),
    )
    .await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("weightedBackendServices"), "{body}");
    let (_, v) = raw(
        &cloud,
        Method::POST,
        &format!("{G}/urlMaps/m/validate"),
        Some(json!({"resource": map, "loadBalancingSchemes": ["EXTERNAL"]})),
    )
    .await;
    assert_eq!(v["result"]["loadSucceeded"], false);
}

// §11.9 managed certificates
#[tokio::test]
async fn managed_certificates_provision_through_the_hook_and_are_immutable() {
    let cloud = start(fast_config()).await;
    create(&cloud, &format!("{G}/sslCertificates"), json!({"name": "c", "type": "MANAGED", "managed": {"domains": ["a.example.com", "b.example.com"]}})).await;
    let (_, cert) = raw(&cloud, Method::GET, &format!("{G}/sslCertificates/c"), None).await;
    assert_eq!(cert["managed"]["status"], "PROVISIONING");
    assert_eq!(
        cert["managed"]["domainStatus"]["a.example.com"],
        "PROVISIONING"
    );
    let (status, _) = raw(
        &cloud,
        Method::PATCH,
        &format!("{G}/sslCertificates/c"),
        Some(json!({"description": "x"})),
    )
    .await;
    assert_eq!(
        status, 404,
        "certificates have no patch method: Google's HTML 404"
    );
    let (status, body) = raw(
        &cloud,
        Method::POST,
        &format!("{G}/sslCertificates"),
        Some(json!({"name": "w", "type": "MANAGED", "managed": {"domains": ["*.example.com"]}})),
    )
    .await;
    assert_eq!(status, 400, "wildcards: {body}");
    let hook = |body: Value| {
        let url = format!(
            "{}/sandbox/v1/projects/acme/sslCertificates/c:provision",
            cloud.handle.base_url()
        );
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        hook(json!({"domainStatus": "FAILED_NOT_VISIBLE"})).await,
        200
    );
    let (_, cert) = raw(&cloud, Method::GET, &format!("{G}/sslCertificates/c"), None).await;
    assert_eq!(cert["managed"]["status"], "PROVISIONING");
    assert_eq!(
        cert["managed"]["domainStatus"]["b.example.com"],
        "FAILED_NOT_VISIBLE"
    );
    assert_eq!(hook(json!({"status": "ACTIVE"})).await, 200);
    let (_, cert) = raw(&cloud, Method::GET, &format!("{G}/sslCertificates/c"), None).await;
    assert_eq!(cert["managed"]["status"], "ACTIVE");
    assert_eq!(cert["managed"]["domainStatus"]["a.example.com"], "ACTIVE");
    assert!(cert["expireTime"].is_string());
}

#[tokio::test]
async fn a_served_certificate_provisions_by_itself_when_configured() {
    let cloud = start(SandboxConfig {
        certificate_provision_after: Some(Duration::from_millis(1)),
        ..fast_config()
    })
    .await;
    internet_neg(&cloud, "n").await;
    backend_service(
        &cloud,
        "bs",
        &format!("{WWW}/global/networkEndpointGroups/n"),
    )
    .await;
    create(
        &cloud,
        &format!("{G}/urlMaps"),
        json!({"name": "m", "defaultService": format!("{WWW}/global/backendServices/bs")}),
    )
    .await;
    create(
        &cloud,
        &format!("{G}/sslCertificates"),
        json!({"name": "c", "managed": {"domains": ["a.example.com"]}}),
    )
    .await;
    create(&cloud, &format!("{G}/targetHttpsProxies"), json!({"name": "p", "urlMap": format!("{WWW}/global/urlMaps/m"), "sslCertificates": [format!("{WWW}/global/sslCertificates/c")]})).await;
    let (_, cert) = raw(&cloud, Method::GET, &format!("{G}/sslCertificates/c"), None).await;
    assert_eq!(
        cert["managed"]["status"], "PROVISIONING",
        "not served by a forwarding rule yet"
    );
    create(&cloud, &format!("{G}/forwardingRules"), json!({"name": "fr", "target": format!("{WWW}/global/targetHttpsProxies/p"), "portRange": "443"})).await;
    let (_, cert) = raw(&cloud, Method::GET, &format!("{G}/sslCertificates/c"), None).await;
    assert_eq!(cert["managed"]["status"], "ACTIVE");
}

// §11.10 addresses and forwarding-rule IP conflicts
#[tokio::test]
async fn addresses_allocate_ips_and_forwarding_rules_cannot_overlap_ports() {
    let cloud = start(fast_config()).await;
    create(
        &cloud,
        &format!("{G}/addresses"),
        json!({"name": "ip", "ipVersion": "IPV4"}),
    )
    .await;
    let (_, addr) = raw(&cloud, Method::GET, &format!("{G}/addresses/ip"), None).await;
    assert_eq!(addr["status"], "RESERVED");
    assert!(
        addr["address"]
            .as_str()
            .unwrap()
            .parse::<std::net::Ipv4Addr>()
            .is_ok()
    );
    assert_eq!(addr["networkTier"], "PREMIUM");
    internet_neg(&cloud, "n").await;
    backend_service(
        &cloud,
        "bs",
        &format!("{WWW}/global/networkEndpointGroups/n"),
    )
    .await;
    create(
        &cloud,
        &format!("{G}/urlMaps"),
        json!({"name": "m", "defaultService": format!("{WWW}/global/backendServices/bs")}),
    )
    .await;
    create(
        &cloud,
        &format!("{G}/targetHttpProxies"),
        json!({"name": "p", "urlMap": format!("{WWW}/global/urlMaps/m")}),
    )
    .await;
    let ip = format!("{WWW}/global/addresses/ip");
    let target = format!("{WWW}/global/targetHttpProxies/p");
    create(
        &cloud,
        &format!("{G}/forwardingRules"),
        json!({"name": "fr80", "IPAddress": ip, "portRange": "80", "target": target}),
    )
    .await;
    let (status, body) = raw(
        &cloud,
        Method::POST,
        &format!("{G}/forwardingRules"),
        Some(json!({"name": "clash", "IPAddress": ip, "portRange": "80-81", "target": target})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("resource.IPAddress"));
    create(
        &cloud,
        &format!("{G}/forwardingRules"),
        json!({"name": "fr8080", "IPAddress": ip, "portRange": "8080", "target": target}),
    )
    .await;
    let (_, addr) = raw(&cloud, Method::GET, &format!("{G}/addresses/ip"), None).await;
    assert_eq!(addr["status"], "IN_USE");
    assert_eq!(addr["users"].as_array().unwrap().len(), 2);
}

// §11.11 Cloud Run shapes
#[tokio::test]
async fn cloud_run_answers_in_its_own_shapes() {
    let cloud = start(fast_config()).await;
    let base = format!("/v2/projects/acme/locations/{R}/services");
    let (status, body) = raw(&cloud, Method::GET, &format!("{base}/x"), None).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": {"code": 404, "status": "NOT_FOUND",
        "message": format!("service \"projects/acme/locations/{R}/services/x\" not found")}})
    );
    let svc = json!({"template": {"containers": [{"image": "img"}]}});
    let (status, op) = raw(
        &cloud,
        Method::POST,
        &format!("{base}?serviceId=x"),
        Some(svc.clone()),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        op.get("done").is_none(),
        "no done field while running: {op}"
    );
    assert_eq!(
        op["metadata"]["@type"],
        "type.googleapis.com/google.cloud.run.v2.Service"
    );
    let (status, body) = raw(
        &cloud,
        Method::POST,
        &format!("{base}?serviceId=x"),
        Some(svc),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["status"], "ALREADY_EXISTS");
    assert_eq!(body["error"]["message"], "Resource 'x' already exists.");
    let (status, body) = raw(&cloud, Method::POST, &format!("{base}?serviceId=y"),
        Some(json!({"labels": {"run.googleapis.com/x": "1"}, "template": {"containers": [{"image": "img"}]}}))).await;
    assert_eq!(status, 400, "reserved label prefix: {body}");
    let name = op["name"].as_str().unwrap();
    let (_, done) = raw(
        &cloud,
        Method::POST,
        &format!("/v2/{name}:wait"),
        Some(json!({"timeout": "10s"})),
    )
    .await;
    assert_eq!(done["done"], true);
    assert_eq!(
        done["response"]["terminalCondition"]["state"],
        "CONDITION_SUCCEEDED"
    );
}

// §11.12 auth and faults
#[tokio::test]
async fn requests_need_a_token_the_sandbox_issued() {
    let cloud = start(fast_config()).await;
    let http = reqwest::Client::new();
    let url = format!("{}{G}/addresses", cloud.handle.base_url());
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(&url)
        .bearer_auth("ya29.made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], 401);
    let r = http
        .get(format!(
            "{}/v2/projects/acme/locations/{R}/services",
            cloud.handle.base_url()
        ))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");

    let open = start(SandboxConfig {
        require_issued_tokens: false,
        ..fast_config()
    })
    .await;
    let r = http
        .get(format!("{}{G}/addresses", open.handle.base_url()))
        .bearer_auth("anything")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn injected_rate_limits_have_google_shapes() {
    let cloud = start(fast_config()).await;
    let sb = &cloud.handle.sandbox;
    sb.push_fault(switchyard::cloud::sandbox::Fault::RateLimited403);
    let (status, body) = raw(&cloud, Method::GET, &format!("{G}/addresses"), None).await;
    assert_eq!(status, 403);
    assert_eq!(reason(&body), "rateLimitExceeded");
    sb.push_fault(switchyard::cloud::sandbox::Fault::RateLimited);
    let (status, body) = raw(
        &cloud,
        Method::GET,
        &format!("/v2/projects/acme/locations/{R}/services"),
        None,
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["status"], "RESOURCE_EXHAUSTED");
}

// State lives in SQLite: a restarted sandbox still has everything, operations included.
#[tokio::test]
async fn state_survives_a_restart() {
    let cloud = start(fast_config()).await;
    internet_neg(&cloud, "kept").await;
    let (_, op) = raw(
        &cloud,
        Method::POST,
        &format!("/v2/projects/acme/locations/{R}/services?serviceId=svc"),
        Some(json!({"template": {"containers": [{"image": "img"}]}})),
    )
    .await;
    let TestCloud { handle, dir, .. } = cloud;
    handle.stop().await;
    let again = start_in(dir, fast_config()).await;
    let (status, neg) = raw(
        &again,
        Method::GET,
        &format!("{G}/networkEndpointGroups/kept"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(neg["name"], "kept");
    let name = op["name"].as_str().unwrap();
    let (status, done) = raw(
        &again,
        Method::POST,
        &format!("/v2/{name}:wait"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(done["done"], true);
}
