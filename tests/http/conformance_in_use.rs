//! Conformance, deletes of resources in use (API-NOTES §10, §11.6): every kind of reference
//! keeps its target, with a synchronous 400 `resourceInUseByAnotherResource` naming the user,
//! across projects, and while the user's own delete is still running.

use crate::conformance_support::*;
use serde_json::{Value, json};

const IN_USE: &str = "resourceInUseByAnotherResource";

fn used(kind: &str, path: &str, by: &str) -> String {
    format!("The {kind} resource 'projects/acme/{path}' is already being used by 'projects/{by}'")
}

#[tokio::test]
async fn s11_6_every_link_of_a_load_balancer_keeps_its_target_in_use() {
    let c = cloud().await;
    load_balancer(&c, "lb").await;
    let neg = format!("regions/{R}/networkEndpointGroups/lb-bs-neg");
    let cases = [
        (
            "address",
            "global/addresses/lb-ip",
            "acme/global/forwardingRules/lb-fr",
        ),
        (
            "target_https_proxy",
            "global/targetHttpsProxies/lb-proxy",
            "acme/global/forwardingRules/lb-fr",
        ),
        (
            "url_map",
            "global/urlMaps/lb-map",
            "acme/global/targetHttpsProxies/lb-proxy",
        ),
        (
            "ssl_certificate",
            "global/sslCertificates/lb-cert",
            "acme/global/targetHttpsProxies/lb-proxy",
        ),
        (
            "backend_service",
            "global/backendServices/lb-bs",
            "acme/global/urlMaps/lb-map",
        ),
        (
            "network_endpoint_group",
            neg.as_str(),
            "acme/global/backendServices/lb-bs",
        ),
    ];
    for (kind, path, by) in cases {
        let path_of = format!("/compute/v1/projects/acme/{path}");
        delete(&c, &path_of)
            .await
            .is_error(400, IN_USE, &used(kind, path, by));
    }
    // In reverse order, each delete goes through.
    for path in [
        "global/forwardingRules/lb-fr",
        "global/targetHttpsProxies/lb-proxy",
        "global/urlMaps/lb-map",
        "global/sslCertificates/lb-cert",
        "global/backendServices/lb-bs",
        neg.as_str(),
        "global/addresses/lb-ip",
    ] {
        let op = delete(&c, &format!("/compute/v1/projects/acme/{path}")).await;
        wait(&c, op.ok()).await;
    }
}

#[tokio::test]
async fn s11_6_an_address_is_in_use_by_a_rule_holding_its_ip_literally() {
    let c = cloud().await;
    address(&c, "ip").await;
    let literal = get(&c, &g("addresses/ip")).await.ok()["address"]
        .as_str()
        .unwrap()
        .to_string();
    create(
        &c,
        &g("urlMaps"),
        json!({"name": "m", "defaultUrlRedirect": {"httpsRedirect": true}}),
    )
    .await;
    let proxy = http_proxy(&c, "p", &link("global/urlMaps/m")).await;
    forwarding_rule(&c, "fr", &proxy, Some(&literal)).await;
    delete(&c, &g("addresses/ip")).await.is_error(
        400,
        IN_USE,
        &used(
            "address",
            "global/addresses/ip",
            "acme/global/forwardingRules/fr",
        ),
    );
    delete(&c, &g("targetHttpProxies/p")).await.is_error(
        400,
        IN_USE,
        &used(
            "target_http_proxy",
            "global/targetHttpProxies/p",
            "acme/global/forwardingRules/fr",
        ),
    );
    delete(&c, &g("urlMaps/m")).await.is_error(
        400,
        IN_USE,
        &used(
            "url_map",
            "global/urlMaps/m",
            "acme/global/targetHttpProxies/p",
        ),
    );
}

/// A URL map that references `target` through one field, beside a `main` service.
fn map_through(field: &str, target: &str, main: &str) -> Value {
    let pm = |extra: Value| {
        let mut m = json!({"name": "pm", "defaultService": main});
        for (k, v) in extra.as_object().unwrap() {
            m[k] = v.clone();
        }
        json!({"name": "m", "defaultService": main,
            "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}], "pathMatchers": [m]})
    };
    match field {
        "defaultService" => json!({"name": "m", "defaultService": target}),
        "pathMatchers[].defaultService" => {
            let mut m = pm(json!({}));
            m["pathMatchers"][0]["defaultService"] = json!(target);
            m
        }
        "pathRules[].service" => pm(json!({"pathRules": [{"paths": ["/a/*"], "service": target}]})),
        "routeRules[].service" => pm(json!({"routeRules": [{"priority": 1,
            "matchRules": [{"prefixMatch": "/a/"}], "service": target}]})),
        "weightedBackendServices[].backendService" => json!({"name": "m",
            "defaultRouteAction": {"weightedBackendServices": [
                {"backendService": main, "weight": 90}, {"backendService": target, "weight": 10}]}}),
        "requestMirrorPolicy.backendService" => pm(json!({"routeRules": [{"priority": 1,
            "matchRules": [{"prefixMatch": "/"}], "service": main,
            "routeAction": {"requestMirrorPolicy": {"backendService": target}}}]})),
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn s11_6_a_backend_service_is_in_use_through_every_field_of_a_url_map() {
    let c = cloud().await;
    let main = backend_service(&c, "main").await;
    let target = backend_service(&c, "target").await;
    for field in [
        "defaultService",
        "pathMatchers[].defaultService",
        "pathRules[].service",
        "routeRules[].service",
        "weightedBackendServices[].backendService",
        "requestMirrorPolicy.backendService",
    ] {
        create(&c, &g("urlMaps"), map_through(field, &target, &main)).await;
        delete(&c, &g("backendServices/target")).await.is_error(
            400,
            IN_USE,
            &used(
                "backend_service",
                "global/backendServices/target",
                "acme/global/urlMaps/m",
            ),
        );
        let users = get(&c, &g("backendServices/target")).await.ok()["usedBy"].clone();
        assert_eq!(
            users,
            json!([{"reference": link("global/urlMaps/m")}]),
            "{field}"
        );
        let op = delete(&c, &g("urlMaps/m")).await;
        wait(&c, op.ok()).await;
    }
    let op = delete(&c, &g("backendServices/target")).await;
    wait(&c, op.ok()).await;
}

#[tokio::test]
async fn s11_6_negs_and_health_checks_are_in_use_by_backend_services() {
    let c = cloud().await;
    internet_neg(&c, "origin").await;
    create(
        &c,
        &g("backendServices"),
        json!({"name": "ib", "loadBalancingScheme": "EXTERNAL_MANAGED", "protocol": "HTTPS",
            "backends": [{"group": link("global/networkEndpointGroups/origin")}]}),
    )
    .await;
    delete(&c, &g("networkEndpointGroups/origin"))
        .await
        .is_error(
            400,
            IN_USE,
            &used(
                "network_endpoint_group",
                "global/networkEndpointGroups/origin",
                "acme/global/backendServices/ib",
            ),
        );
    create(&c, &g("healthChecks"), json!({"name": "h", "type": "HTTP"})).await;
    create(
        &c,
        &g("backendServices"),
        json!({"name": "hb", "healthChecks": [link("global/healthChecks/h")]}),
    )
    .await;
    delete(&c, &g("healthChecks/h")).await.is_error(
        400,
        IN_USE,
        &used(
            "health_check",
            "global/healthChecks/h",
            "acme/global/backendServices/hb",
        ),
    );
}

#[tokio::test]
async fn s16_a_reference_from_another_project_keeps_a_resource_in_use() {
    let c = cloud().await;
    let bs = backend_service(&c, "shared").await;
    create(
        &c,
        "/compute/v1/projects/front/global/urlMaps",
        json!({"name": "front-map", "defaultService": bs}),
    )
    .await;
    delete(&c, &g("backendServices/shared")).await.is_error(
        400,
        IN_USE,
        &used(
            "backend_service",
            "global/backendServices/shared",
            "front/global/urlMaps/front-map",
        ),
    );
    let got = get(&c, &g("backendServices/shared")).await;
    assert_eq!(
        got.ok()["usedBy"],
        json!([{"reference": "https://www.googleapis.com/compute/v1/projects/front/global/urlMaps/front-map"}])
    );
}

#[tokio::test]
async fn s11_6_a_resource_being_deleted_still_uses_what_it_references() {
    let c = slow_cloud().await;
    create(
        &c,
        &g("urlMaps"),
        json!({"name": "m", "defaultUrlRedirect": {"httpsRedirect": true}}),
    )
    .await;
    let proxy = http_proxy(&c, "p", &link("global/urlMaps/m")).await;
    forwarding_rule(&c, "fr", &proxy, None).await;
    let op = delete(&c, &g("forwardingRules/fr")).await.ok().clone();
    delete(&c, &g("targetHttpProxies/p")).await.is_error(
        400,
        IN_USE,
        &used(
            "target_http_proxy",
            "global/targetHttpProxies/p",
            "acme/global/forwardingRules/fr",
        ),
    );
    wait(&c, &op).await;
    let op = delete(&c, &g("targetHttpProxies/p")).await;
    wait(&c, op.ok()).await;
}
