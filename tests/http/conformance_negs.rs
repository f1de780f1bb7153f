//! Conformance, serverless and internet NEGs and the backend services in front of them
//! (API-NOTES §2, §3, §4, §11.7), with the messages Google answers.

use crate::conformance_support::*;
use reqwest::Method;
use serde_json::{Value, json};

fn invalid(field: &str, value: &str, why: &str) -> String {
    format!("Invalid value for field '{field}': '{value}'. {why}")
}

#[tokio::test]
async fn s2_a_serverless_neg_is_regional_only() {
    let c = cloud().await;
    post(
        &c,
        &g("networkEndpointGroups"),
        json!({"name": "n", "networkEndpointType": "SERVERLESS", "cloudRun": {"service": "app"}}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "resource.networkEndpointType",
            "SERVERLESS",
            "Network endpoint of type SERVERLESS is only allowed in regional scope.",
        ),
    );
}

#[tokio::test]
async fn s2_a_serverless_neg_takes_no_network_subnetwork_or_default_port() {
    let c = cloud().await;
    for (field, value, shown) in [
        (
            "network",
            json!("global/networks/default"),
            "global/networks/default",
        ),
        (
            "subnetwork",
            json!("regions/r/subnetworks/s"),
            "regions/r/subnetworks/s",
        ),
        ("defaultPort", json!(443), "443"),
    ] {
        let mut body = json!({"name": "n", "networkEndpointType": "SERVERLESS", "cloudRun": {"service": "app"}});
        body[field] = value;
        post(&c, &reg("networkEndpointGroups"), body)
            .await
            .is_error(
                400,
                "invalid",
                &invalid(
                    &format!("resource.{field}"),
                    shown,
                    "This field must not be set for network endpoint groups of type SERVERLESS.",
                ),
            );
    }
}

#[tokio::test]
async fn s2_a_serverless_neg_has_exactly_one_target() {
    let c = cloud().await;
    post(
        &c,
        &reg("networkEndpointGroups"),
        json!({"name": "n", "networkEndpointType": "SERVERLESS",
            "cloudRun": {"service": "app"}, "appEngine": {"service": "x"}}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "resource",
            "",
            "A SERVERLESS network endpoint group needs exactly one of cloudRun, appEngine, cloudFunction.",
        ),
    );
    post(
        &c,
        &reg("networkEndpointGroups"),
        json!({"name": "n", "networkEndpointType": "SERVERLESS", "cloudRun": {"tag": "blue"}}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "resource.cloudRun",
            "",
            "Either service or urlMask must be set.",
        ),
    );
}

#[tokio::test]
async fn s2_a_serverless_neg_reads_back_in_the_recorded_shape() {
    let c = cloud().await;
    serverless_neg(&c, "n").await;
    let neg = get(&c, &reg("networkEndpointGroups/n")).await.ok().clone();
    assert_eq!(neg["kind"], "compute#networkEndpointGroup");
    assert_eq!(neg["networkEndpointType"], "SERVERLESS");
    assert_eq!(neg["cloudRun"], json!({"service": "app"}));
    assert_eq!(neg["region"], link(&format!("regions/{R}")));
    assert_eq!(neg["selfLink"], serverless_group("n"));
    assert_eq!(neg["size"], 0);
    post(
        &c,
        &reg("networkEndpointGroups/n/attachNetworkEndpoints"),
        json!({"networkEndpoints": [{"fqdn": "a.example.com"}]}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "resource.networkEndpointType",
            "SERVERLESS",
            "Serverless network endpoint groups have no endpoints to attach or detach.",
        ),
    );
}

#[tokio::test]
async fn s3_an_internet_neg_holds_one_endpoint() {
    let c = cloud().await;
    internet_neg(&c, "i").await;
    let endpoints = post(
        &c,
        &g("networkEndpointGroups/i/listNetworkEndpoints"),
        json!({}),
    )
    .await;
    assert_eq!(
        endpoints.ok(),
        &json!({"kind": "compute#networkEndpointGroupsListNetworkEndpoints"}),
        "no items when empty"
    );
    done(
        &c,
        Method::POST,
        &g("networkEndpointGroups/i/attachNetworkEndpoints"),
        Some(json!({"networkEndpoints": [{"fqdn": "app-x.a.run.app"}]})),
    )
    .await;
    let endpoints = post(
        &c,
        &g("networkEndpointGroups/i/listNetworkEndpoints"),
        json!({}),
    )
    .await;
    assert_eq!(
        endpoints.ok()["items"],
        json!([{"networkEndpoint": {"fqdn": "app-x.a.run.app", "port": 443}, "healths": []}])
    );
    assert_eq!(get(&c, &g("networkEndpointGroups/i")).await.ok()["size"], 1);
    post(
        &c,
        &g("networkEndpointGroups/i/attachNetworkEndpoints"),
        json!({"networkEndpoints": [{"fqdn": "other.example.com", "port": 443}]}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "networkEndpoints",
            "2",
            "Only one internet endpoint is allowed in each internet network endpoint group.",
        ),
    );
    post(
        &c,
        &g("networkEndpointGroups/i/detachNetworkEndpoints"),
        json!({"networkEndpoints": [{"fqdn": "other.example.com", "port": 443}]}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "networkEndpoints[0]",
            "{\"fqdn\":\"other.example.com\",\"port\":443}",
            "The network endpoint is not attached to this group.",
        ),
    );
}

#[tokio::test]
async fn s3_an_internet_neg_endpoint_needs_a_fully_qualified_name() {
    let c = cloud().await;
    internet_neg(&c, "i").await;
    post(
        &c,
        &g("networkEndpointGroups/i/attachNetworkEndpoints"),
        json!({"networkEndpoints": [{"fqdn": "localhost"}]}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "networkEndpoints[0].fqdn",
            "localhost",
            "An INTERNET_FQDN_PORT endpoint needs a valid fully qualified domain name.",
        ),
    );
}

/// A backend service body on the serverless NEG `n`, with `extra` merged into its backend.
fn serverless_bs(backend_extra: Value, extra: Value) -> Value {
    let mut backend = json!({"group": serverless_group("n")});
    for (k, v) in backend_extra.as_object().unwrap() {
        backend[k] = v.clone();
    }
    let mut bs = json!({"name": "b", "loadBalancingScheme": "EXTERNAL_MANAGED", "protocol": "HTTPS",
        "backends": [backend]});
    for (k, v) in extra.as_object().unwrap() {
        bs[k] = v.clone();
    }
    bs
}

#[tokio::test]
async fn s4_a_backend_service_with_serverless_negs_takes_no_health_check() {
    let c = cloud().await;
    serverless_neg(&c, "n").await;
    create(&c, &g("healthChecks"), json!({"name": "h", "type": "HTTP"})).await;
    post(
        &c,
        &g("backendServices"),
        serverless_bs(json!({}), json!({"healthChecks": [link("global/healthChecks/h")]})),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "resource.healthChecks",
            "",
            "A backend service cannot have a healthcheck with Serverless network endpoint group backends.",
        ),
    );
}

#[tokio::test]
async fn s4_a_global_backend_service_with_an_internet_neg_takes_no_health_check() {
    let c = cloud().await;
    internet_neg(&c, "i").await;
    create(
        &c,
        &g("healthChecks"),
        json!({"name": "h", "type": "HTTPS"}),
    )
    .await;
    post(
        &c,
        &g("backendServices"),
        json!({"name": "b", "loadBalancingScheme": "EXTERNAL_MANAGED", "protocol": "HTTPS",
            "backends": [{"group": link("global/networkEndpointGroups/i")}],
            "healthChecks": [link("global/healthChecks/h")]}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "resource.healthChecks",
            "",
            "Health checks are not allowed for GLOBAL HTTPS backend services with EXTERNAL_MANAGED load balancing scheme that have an Internet NEG.",
        ),
    );
}

#[tokio::test]
async fn s4_serverless_backends_take_no_balancing_settings() {
    let c = cloud().await;
    serverless_neg(&c, "n").await;
    let label = "Serverless network endpoint groups";
    for (backend, field, value, why) in [
        (
            json!({"balancingMode": "RATE"}),
            "balancingMode",
            "RATE",
            format!("Balancing mode is not supported for {label}."),
        ),
        (
            json!({"maxRate": 10}),
            "maxRate",
            "10",
            format!("maxRate is not supported for {label}."),
        ),
        (
            json!({"maxRatePerEndpoint": 5.0}),
            "maxRatePerEndpoint",
            "5.0",
            format!("maxRatePerEndpoint is not supported for {label}."),
        ),
        (
            json!({"maxUtilization": 0.8}),
            "maxUtilization",
            "0.8",
            format!("Max utilization is not supported for {label}."),
        ),
        (
            json!({"capacityScaler": 0.5}),
            "capacityScaler",
            "0.5",
            format!("Capacity scaler is not supported for {label}."),
        ),
    ] {
        post(&c, &g("backendServices"), serverless_bs(backend, json!({})))
            .await
            .is_error(
                400,
                "invalid",
                &invalid(&format!("resource.backends[0].{field}"), value, &why),
            );
    }
    // The default values are tolerated.
    create(
        &c,
        &g("backendServices"),
        serverless_bs(
            json!({"balancingMode": "UTILIZATION", "capacityScaler": 1.0}),
            json!({}),
        ),
    )
    .await;
}

#[tokio::test]
async fn s4_serverless_backend_services_take_no_timeout_or_port_name() {
    let c = cloud().await;
    serverless_neg(&c, "n").await;
    post(&c, &g("backendServices"), serverless_bs(json!({}), json!({"timeoutSec": 60})))
        .await
        .is_error(
            400,
            "invalid",
            &invalid(
                "resource.timeoutSec",
                "60",
                "Timeout sec is not supported for a backend service with Serverless network endpoint groups.",
            ),
        );
    post(&c, &g("backendServices"), serverless_bs(json!({}), json!({"portName": "http"})))
        .await
        .is_error(
            400,
            "invalid",
            &invalid(
                "resource.portName",
                "http",
                "Port name is not supported for a backend service with Serverless network endpoint groups.",
            ),
        );
}

#[tokio::test]
async fn s4_serverless_negs_are_not_mixed_or_repeated() {
    let c = cloud().await;
    serverless_neg(&c, "n").await;
    internet_neg(&c, "i").await;
    post(
        &c,
        &g("backendServices"),
        json!({"name": "b", "loadBalancingScheme": "EXTERNAL_MANAGED",
            "backends": [{"group": serverless_group("n")}, {"group": link("global/networkEndpointGroups/i")}]}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "resource.backends",
            "",
            "Serverless network endpoint groups cannot be mixed with other backend types.",
        ),
    );
    post(
        &c,
        &g("backendServices"),
        json!({"name": "b", "loadBalancingScheme": "EXTERNAL_MANAGED",
            "backends": [{"group": serverless_group("n")}, {"group": serverless_group("n")}]}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "resource.backends[1].group",
            &serverless_group("n"),
            "Duplicate backend group.",
        ),
    );
}

#[tokio::test]
async fn s4_a_serverless_backend_service_shows_its_defaults() {
    let c = cloud().await;
    serverless_neg(&c, "n").await;
    create(
        &c,
        &g("backendServices"),
        serverless_bs(json!({}), json!({})),
    )
    .await;
    let bs = get(&c, &g("backendServices/b")).await.ok().clone();
    assert!(bs.get("timeoutSec").is_none(), "{bs}");
    assert_eq!(bs["connectionDraining"], json!({"drainingTimeoutSec": 0}));
    assert_eq!(bs["sessionAffinity"], "NONE");
    assert_eq!(bs["enableCDN"], false);
}

#[tokio::test]
async fn s17_an_ip_neg_takes_one_public_ipv4_endpoint() {
    let c = cloud().await;
    create(
        &c,
        &g("networkEndpointGroups"),
        json!({"name": "ip", "networkEndpointType": "INTERNET_IP_PORT", "defaultPort": 443}),
    )
    .await;
    let attach = "networkEndpointGroups/ip/attachNetworkEndpoints";
    for (ip, why) in [
        (
            "10.0.0.1",
            "The IP address of an internet network endpoint must be a publicly routable address.",
        ),
        (
            "192.168.1.1",
            "The IP address of an internet network endpoint must be a publicly routable address.",
        ),
        (
            "127.0.0.1",
            "The IP address of an internet network endpoint must be a publicly routable address.",
        ),
        (
            "169.254.1.1",
            "The IP address of an internet network endpoint must be a publicly routable address.",
        ),
        (
            "2001:db8::1",
            "An INTERNET_IP_PORT endpoint needs a valid IP address.",
        ),
        (
            "app.example.com",
            "An INTERNET_IP_PORT endpoint needs a valid IP address.",
        ),
    ] {
        post(
            &c,
            &g(attach),
            json!({"networkEndpoints": [{"ipAddress": ip}]}),
        )
        .await
        .is_error(
            400,
            "invalid",
            &invalid("networkEndpoints[0].ipAddress", ip, why),
        );
    }
    // An FQDN beside the address is not for this type.
    post(
        &c,
        &g(attach),
        json!({"networkEndpoints": [{"ipAddress": "34.120.1.2", "fqdn": "a.example.com"}]}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "networkEndpoints[0].fqdn",
            "a.example.com",
            "Not allowed for INTERNET_IP_PORT endpoints.",
        ),
    );
    done(
        &c,
        Method::POST,
        &g(attach),
        Some(json!({"networkEndpoints": [{"ipAddress": "34.120.1.2"}]})),
    )
    .await;
    let endpoints = post(
        &c,
        &g("networkEndpointGroups/ip/listNetworkEndpoints"),
        json!({}),
    )
    .await;
    assert_eq!(
        endpoints.ok()["items"],
        json!([{"networkEndpoint": {"ipAddress": "34.120.1.2", "port": 443}, "healths": []}])
    );
    post(
        &c,
        &g(attach),
        json!({"networkEndpoints": [{"ipAddress": "34.120.1.3", "port": 443}]}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "networkEndpoints",
            "2",
            "Only one internet endpoint is allowed in each internet network endpoint group.",
        ),
    );
}
