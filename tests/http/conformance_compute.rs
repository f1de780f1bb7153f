//! Conformance, Compute's common rules (API-NOTES §0, §4, §8, §9, §11.2–§11.5): names,
//! references in full URL form, server defaults on GET, operations and when their resources
//! appear and disappear, requestId, and the 404/409/412 answers.

use crate::conformance_support::*;
use reqwest::Method;
use serde_json::json;
use switchyard::cloud::sandbox::Fault;

const NAME_RULE: &str = "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'";

#[tokio::test]
async fn s11_2_names_are_rfc1035_labels_of_at_most_63_characters() {
    let c = cloud().await;
    for bad in ["Shop", "1shop", "shop-", "shop_web", &"a".repeat(64)] {
        post(&c, &g("healthChecks"), json!({"name": bad, "type": "HTTP"}))
            .await
            .is_error(
                400,
                "invalid",
                &format!("Invalid value for field 'resource.name': '{bad}'. {NAME_RULE}"),
            );
    }
    post(&c, &g("healthChecks"), json!({"type": "HTTP"}))
        .await
        .is_error(
            400,
            "required",
            "Required field 'resource.name' not specified",
        );
    create(
        &c,
        &g("healthChecks"),
        json!({"name": "a".repeat(63), "type": "HTTP"}),
    )
    .await;
}

#[tokio::test]
async fn s0_references_are_stored_as_full_urls_whatever_form_was_sent() {
    let c = cloud().await;
    create(&c, &g("healthChecks"), json!({"name": "h", "type": "HTTP"})).await;
    create(
        &c,
        &g("backendServices"),
        json!({"name": "b", "healthChecks": ["global/healthChecks/h"]}),
    )
    .await;
    let bs = get(&c, &g("backendServices/b")).await;
    assert_eq!(
        bs.ok()["healthChecks"],
        json!([link("global/healthChecks/h")])
    );
    create(
        &c,
        &g("urlMaps"),
        json!({"name": "m", "defaultService": "projects/acme/global/backendServices/b",
            "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
            "pathMatchers": [{"name": "pm",
                "defaultService": "https://compute.googleapis.com/compute/v1/projects/acme/global/backendServices/b",
                "pathRules": [{"paths": ["/a/*"], "service": "global/backendServices/b"}]}]}),
    )
    .await;
    let map = get(&c, &g("urlMaps/m")).await;
    let map = map.ok();
    let bs_link = link("global/backendServices/b");
    assert_eq!(map["defaultService"], bs_link);
    assert_eq!(map["pathMatchers"][0]["defaultService"], bs_link);
    assert_eq!(map["pathMatchers"][0]["pathRules"][0]["service"], bs_link);
    create(
        &c,
        &g("targetHttpProxies"),
        json!({"name": "p", "urlMap": "global/urlMaps/m"}),
    )
    .await;
    forwarding_rule(&c, "fr", "projects/acme/global/targetHttpProxies/p", None).await;
    let fr = get(&c, &g("forwardingRules/fr")).await;
    assert_eq!(fr.ok()["target"], link("global/targetHttpProxies/p"));
    let proxy = get(&c, &g("targetHttpProxies/p")).await;
    assert_eq!(proxy.ok()["urlMap"], link("global/urlMaps/m"));
}

#[tokio::test]
async fn s0_a_reference_that_is_no_link_is_malformed() {
    let c = cloud().await;
    for bad in ["m", "urlMaps/m", "https://example.com/m", "global/urlMaps"] {
        post(
            &c,
            &g("targetHttpProxies"),
            json!({"name": "p", "urlMap": bad}),
        )
        .await
        .is_error(
            400,
            "invalid",
            &format!("Invalid value for field 'resource.urlMap': '{bad}'. The URL is malformed."),
        );
    }
}

#[tokio::test]
async fn s0_backend_groups_must_be_full_urls() {
    let c = cloud().await;
    serverless_neg(&c, "n").await;
    let partial = format!("projects/acme/regions/{R}/networkEndpointGroups/n");
    post(
        &c,
        &g("backendServices"),
        json!({"name": "b", "loadBalancingScheme": "EXTERNAL_MANAGED", "backends": [{"group": partial}]}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &format!("Invalid value for field 'resource.backends[0].group': '{partial}'. The group must be a fully-qualified URL; partial URLs are not supported for backends[].group."),
    );
    // Any host names the resource; the stored link is on www.googleapis.com.
    let private = format!(
        "https://compute.googleapis.com/compute/v1/projects/acme/regions/{R}/networkEndpointGroups/n"
    );
    create(
        &c,
        &g("backendServices"),
        json!({"name": "b", "loadBalancingScheme": "EXTERNAL_MANAGED", "backends": [{"group": private}]}),
    )
    .await;
    let bs = get(&c, &g("backendServices/b")).await;
    assert_eq!(bs.ok()["backends"][0]["group"], serverless_group("n"));
}

#[tokio::test]
async fn s4_a_backend_service_shows_the_servers_defaults() {
    let c = cloud().await;
    create(&c, &g("backendServices"), json!({"name": "b"})).await;
    let bs = get(&c, &g("backendServices/b")).await;
    let bs = bs.ok();
    assert_eq!(bs["kind"], "compute#backendService");
    assert_eq!(bs["selfLink"], link("global/backendServices/b"));
    assert!(bs["id"].as_str().unwrap().parse::<u64>().is_ok());
    assert!(bs["creationTimestamp"].is_string());
    assert!(bs["fingerprint"].is_string());
    assert_eq!(bs["loadBalancingScheme"], "EXTERNAL");
    assert_eq!(bs["protocol"], "HTTP");
    assert_eq!(bs["sessionAffinity"], "NONE");
    assert_eq!(bs["affinityCookieTtlSec"], 0);
    assert_eq!(bs["connectionDraining"], json!({"drainingTimeoutSec": 300}));
    assert_eq!(bs["timeoutSec"], 30);
    assert_eq!(bs["enableCDN"], false);
}

#[tokio::test]
async fn s8_addresses_and_forwarding_rules_show_the_servers_defaults() {
    let c = cloud().await;
    let ip = address(&c, "ip").await;
    let a = get(&c, &g("addresses/ip")).await.ok().clone();
    assert_eq!(a["status"], "RESERVED");
    assert_eq!(a["addressType"], "EXTERNAL");
    assert_eq!(a["ipVersion"], "IPV4");
    assert_eq!(a["networkTier"], "PREMIUM");
    assert!(a["labelFingerprint"].is_string());
    let literal = a["address"].as_str().unwrap().to_string();
    assert!(literal.parse::<std::net::Ipv4Addr>().is_ok());
    create(
        &c,
        &g("urlMaps"),
        json!({"name": "m", "defaultUrlRedirect": {"httpsRedirect": true}}),
    )
    .await;
    let proxy = http_proxy(&c, "p", &link("global/urlMaps/m")).await;
    forwarding_rule(&c, "fr", &proxy, Some(&ip)).await;
    let fr = get(&c, &g("forwardingRules/fr")).await.ok().clone();
    assert_eq!(fr["IPAddress"], literal, "the address's IP, not its link");
    assert_eq!(fr["IPProtocol"], "TCP");
    assert_eq!(fr["portRange"], "80-80");
    assert_eq!(fr["networkTier"], "PREMIUM");
    assert_eq!(fr["ipVersion"], "IPV4");
    assert!(fr["fingerprint"].is_string() && fr["labelFingerprint"].is_string());
    let a = get(&c, &g("addresses/ip")).await.ok().clone();
    assert_eq!(a["status"], "IN_USE");
    assert_eq!(a["users"], json!([link("global/forwardingRules/fr")]));
}

#[tokio::test]
async fn s9_s11_3_mutations_answer_running_operations_in_their_own_collection() {
    let c = cloud().await;
    let rid = uuid::Uuid::new_v4();
    let op = post(
        &c,
        &format!("{}?requestId={rid}", reg("networkEndpointGroups")),
        json!({"name": "n", "networkEndpointType": "SERVERLESS", "cloudRun": {"service": "app"}}),
    )
    .await
    .ok()
    .clone();
    assert_eq!(op["kind"], "compute#operation");
    assert_eq!(op["status"], "RUNNING");
    assert_eq!(op["progress"], 0);
    assert_eq!(
        op["operationType"],
        "compute.regionNetworkEndpointGroups.insert"
    );
    assert_eq!(op["targetLink"], serverless_group("n"));
    assert_eq!(op["clientOperationId"], rid.to_string());
    assert_eq!(op["region"], link(&format!("regions/{R}")));
    let name = op["name"].as_str().unwrap();
    assert!(name.starts_with("operation-"), "{name}");
    assert_eq!(
        op["selfLink"],
        link(&format!("regions/{R}/operations/{name}"))
    );
    assert!(op["insertTime"].is_string() && op["user"].is_string());
    assert!(op.get("endTime").is_none());
    let finished = wait(&c, &op).await;
    assert_eq!(finished["progress"], 100);
    assert!(finished["endTime"].is_string());
    // The global collection does not hold it.
    get(&c, &g(&format!("operations/{name}"))).await.is_error(
        404,
        "notFound",
        &format!("The resource 'projects/acme/global/operations/{name}' was not found"),
    );
}

#[tokio::test]
async fn s9_wait_returns_done_and_delete_removes_the_record() {
    let c = cloud().await;
    let op = post(&c, &g("healthChecks"), json!({"name": "h", "type": "HTTP"}))
        .await
        .ok()
        .clone();
    let name = op["name"].as_str().unwrap();
    let path = g(&format!("operations/{name}"));
    assert_eq!(wait(&c, &op).await["status"], "DONE");
    assert_eq!(get(&c, &path).await.ok()["status"], "DONE");
    assert_eq!(delete(&c, &path).await.ok(), &json!({}));
    get(&c, &path).await.is_error(
        404,
        "notFound",
        &format!("The resource 'projects/acme/global/operations/{name}' was not found"),
    );
}

#[tokio::test]
async fn s11_3_an_insert_is_not_there_until_its_operation_is_done() {
    let c = slow_cloud().await;
    let op = post(&c, &g("healthChecks"), json!({"name": "h", "type": "HTTP"}))
        .await
        .ok()
        .clone();
    get(&c, &g("healthChecks/h")).await.is_error(
        404,
        "notFound",
        "The resource 'projects/acme/global/healthChecks/h' was not found",
    );
    assert!(
        get(&c, &g("healthChecks"))
            .await
            .ok()
            .get("items")
            .is_none()
    );
    // The name is taken from the insert on.
    post(&c, &g("healthChecks"), json!({"name": "h", "type": "HTTP"}))
        .await
        .is_error(
            409,
            "alreadyExists",
            "The resource 'projects/acme/global/healthChecks/h' already exists",
        );
    // It takes no other change while its insert runs.
    call(
        &c,
        Method::PATCH,
        &g("healthChecks/h"),
        Some(json!({"description": "d"})),
    )
    .await
    .is_error(
        400,
        "resourceNotReady",
        "The resource 'projects/acme/global/healthChecks/h' is not ready",
    );
    wait(&c, &op).await;
    assert_eq!(get(&c, &g("healthChecks/h")).await.ok()["name"], "h");
}

#[tokio::test]
async fn s11_3_a_reference_to_a_resource_whose_insert_runs_is_not_found() {
    let c = slow_cloud().await;
    let op = post(
        &c,
        &g("urlMaps"),
        json!({"name": "m", "defaultUrlRedirect": {"httpsRedirect": true}}),
    )
    .await
    .ok()
    .clone();
    post(
        &c,
        &g("targetHttpProxies"),
        json!({"name": "p", "urlMap": link("global/urlMaps/m")}),
    )
    .await
    .is_error(
        404,
        "notFound",
        "The resource 'projects/acme/global/urlMaps/m' was not found",
    );
    wait(&c, &op).await;
    http_proxy(&c, "p", &link("global/urlMaps/m")).await;
}

#[tokio::test]
async fn s11_3_a_deleted_resource_is_there_until_its_delete_is_done() {
    let c = slow_cloud().await;
    create(&c, &g("healthChecks"), json!({"name": "h", "type": "HTTP"})).await;
    let op = delete(&c, &g("healthChecks/h")).await.ok().clone();
    assert_eq!(op["operationType"], "delete");
    assert_eq!(get(&c, &g("healthChecks/h")).await.ok()["name"], "h");
    let list = get(&c, &g("healthChecks")).await;
    assert_eq!(list.ok()["items"].as_array().unwrap().len(), 1);
    delete(&c, &g("healthChecks/h")).await.is_error(
        400,
        "resourceNotReady",
        "The resource 'projects/acme/global/healthChecks/h' is not ready",
    );
    wait(&c, &op).await;
    get(&c, &g("healthChecks/h")).await.is_error(
        404,
        "notFound",
        "The resource 'projects/acme/global/healthChecks/h' was not found",
    );
    // The name is free again.
    create(
        &c,
        &g("healthChecks"),
        json!({"name": "h", "type": "HTTPS"}),
    )
    .await;
    assert_eq!(get(&c, &g("healthChecks/h")).await.ok()["type"], "HTTPS");
}

#[tokio::test]
async fn s11_3_an_operation_can_end_done_with_an_error_and_change_nothing() {
    let c = cloud().await;
    c.handle.sandbox.push_fault(Fault::OperationError);
    let op = post(&c, &g("healthChecks"), json!({"name": "h", "type": "HTTP"}))
        .await
        .ok()
        .clone();
    let done = wait(&c, &op).await;
    assert_eq!(done["error"]["errors"][0]["code"], "INTERNAL_ERROR");
    assert_eq!(done["httpErrorStatusCode"], 500);
    assert_eq!(done["httpErrorMessage"], "INTERNAL SERVER ERROR");
    assert_eq!(get(&c, &g("healthChecks/h")).await.status, 404);
}

#[tokio::test]
async fn s11_4_a_request_id_must_be_a_uuid_other_than_zero() {
    let c = cloud().await;
    for bad in ["abc", "00000000-0000-0000-0000-000000000000"] {
        post(
            &c,
            &format!("{}?requestId={bad}", g("healthChecks")),
            json!({"name": "h", "type": "HTTP"}),
        )
        .await
        .is_error(
            400,
            "invalid",
            &format!("Invalid value for field 'requestId': '{bad}'. The request id must be a valid UUID with the exception that zero UUID is not supported (00000000-0000-0000-0000-000000000000)."),
        );
    }
}

#[tokio::test]
async fn s11_4_a_repeated_request_id_answers_the_original_operation_and_changes_nothing() {
    let c = cloud().await;
    let rid = uuid::Uuid::new_v4();
    let path = format!("{}?requestId={rid}", g("healthChecks"));
    let first = post(&c, &path, json!({"name": "h1", "type": "HTTP"}))
        .await
        .ok()
        .clone();
    wait(&c, &first).await;
    let again = post(&c, &path, json!({"name": "h2", "type": "HTTP"}))
        .await
        .ok()
        .clone();
    assert_eq!(again["name"], first["name"]);
    assert_eq!(again["clientOperationId"], rid.to_string());
    assert_eq!(again["status"], "DONE");
    assert_eq!(get(&c, &g("healthChecks/h2")).await.status, 404);
}

#[tokio::test]
async fn s11_5_a_taken_name_is_409_already_exists() {
    let c = cloud().await;
    create(&c, &g("healthChecks"), json!({"name": "h", "type": "HTTP"})).await;
    let r = post(&c, &g("healthChecks"), json!({"name": "h", "type": "HTTP"})).await;
    r.is_error(
        409,
        "alreadyExists",
        "The resource 'projects/acme/global/healthChecks/h' already exists",
    );
    assert!(
        r.json["error"].get("status").is_none(),
        "Compute leaves out status"
    );
}

#[tokio::test]
async fn s11_5_a_missing_resource_is_404_in_computes_shape() {
    let c = cloud().await;
    let r = get(&c, &g("urlMaps/nope")).await;
    r.is_error(
        404,
        "notFound",
        "The resource 'projects/acme/global/urlMaps/nope' was not found",
    );
    assert!(r.json["error"].get("status").is_none());
    delete(&c, &reg("networkEndpointGroups/nope"))
        .await
        .is_error(
            404,
            "notFound",
            &format!(
                "The resource 'projects/acme/regions/{R}/networkEndpointGroups/nope' was not found"
            ),
        );
}

#[tokio::test]
async fn s11_5_a_missing_reference_is_404() {
    let c = cloud().await;
    post(
        &c,
        &g("targetHttpProxies"),
        json!({"name": "p", "urlMap": link("global/urlMaps/nope")}),
    )
    .await
    .is_error(
        404,
        "notFound",
        "The resource 'projects/acme/global/urlMaps/nope' was not found",
    );
    post(
        &c,
        &g("urlMaps"),
        json!({"name": "m", "defaultService": "global/backendServices/nope"}),
    )
    .await
    .is_error(
        404,
        "notFound",
        "The resource 'projects/acme/global/backendServices/nope' was not found",
    );
}

#[tokio::test]
async fn s11_5_a_reference_to_the_wrong_kind_is_refused() {
    let c = cloud().await;
    create(&c, &g("healthChecks"), json!({"name": "h", "type": "HTTP"})).await;
    post(
        &c,
        &g("targetHttpProxies"),
        json!({"name": "p", "urlMap": "global/healthChecks/h"}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &format!(
            "Invalid value for field 'resource.urlMap': '{}'. Expected a reference to one of: urlMaps.",
            link("global/healthChecks/h")
        ),
    );
}

const STALE: &str =
    "Supplied fingerprint does not match current fingerprint. Read the resource again and retry.";

#[tokio::test]
async fn s11_5_a_stale_or_missing_fingerprint_is_412_and_every_change_renews_it() {
    let c = cloud().await;
    create(&c, &g("backendServices"), json!({"name": "b"})).await;
    let fp = get(&c, &g("backendServices/b")).await.ok()["fingerprint"].clone();
    let path = g("backendServices/b");
    let patch = |body| call(&c, Method::PATCH, &path, Some(body));
    patch(json!({"description": "x"}))
        .await
        .is_error(412, "conditionNotMet", STALE);
    patch(json!({"description": "x", "fingerprint": "c3RhbGU="}))
        .await
        .is_error(412, "conditionNotMet", STALE);
    let op = patch(json!({"description": "x", "fingerprint": fp}))
        .await
        .ok()
        .clone();
    wait(&c, &op).await;
    let after = get(&c, &g("backendServices/b")).await.ok().clone();
    assert_eq!(after["description"], "x");
    assert_ne!(after["fingerprint"], fp);
    call(
        &c,
        Method::PUT,
        &g("backendServices/b"),
        Some(json!({"name": "b", "fingerprint": fp})),
    )
    .await
    .is_error(412, "conditionNotMet", STALE);
}

#[tokio::test]
async fn s0_a_forwarding_rules_fingerprint_is_checked_only_when_sent() {
    let c = cloud().await;
    create(
        &c,
        &g("urlMaps"),
        json!({"name": "m", "defaultUrlRedirect": {"httpsRedirect": true}}),
    )
    .await;
    let proxy = http_proxy(&c, "p", &link("global/urlMaps/m")).await;
    forwarding_rule(&c, "fr", &proxy, None).await;
    done(
        &c,
        Method::PATCH,
        &g("forwardingRules/fr"),
        Some(json!({"networkTier": "PREMIUM"})),
    )
    .await;
    call(
        &c,
        Method::PATCH,
        &g("forwardingRules/fr"),
        Some(json!({"networkTier": "PREMIUM", "fingerprint": "c3RhbGU="})),
    )
    .await
    .is_error(412, "conditionNotMet", STALE);
}

#[tokio::test]
async fn s21_3_a_name_cannot_change() {
    let c = cloud().await;
    create(&c, &g("healthChecks"), json!({"name": "h", "type": "HTTP"})).await;
    call(
        &c,
        Method::PATCH,
        &g("healthChecks/h"),
        Some(json!({"name": "other"})),
    )
    .await
    .is_error(
        400,
        "invalid",
        "Invalid value for field 'resource.name': 'other'. The name of a resource cannot be changed.",
    );
}
