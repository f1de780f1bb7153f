//! Conformance, the front of a load balancer (API-NOTES §6, §7, §8, §11.9, §11.10): managed
//! certificates, target proxies and their setters, addresses and forwarding rules.

use crate::conformance_support::*;
use reqwest::Method;
use serde_json::json;

fn invalid(field: &str, value: &str, why: &str) -> String {
    format!("Invalid value for field '{field}': '{value}'. {why}")
}

#[tokio::test]
async fn s6_s11_9_a_managed_certificate_provisions_through_the_hook() {
    let c = cloud().await;
    certificate(&c, "cert").await;
    let cert = get(&c, &g("sslCertificates/cert")).await.ok().clone();
    assert_eq!(cert["type"], "MANAGED");
    assert_eq!(cert["managed"]["status"], "PROVISIONING");
    assert_eq!(
        cert["managed"]["domainStatus"],
        json!({"shop.example.com": "PROVISIONING"})
    );
    let hook = |body| {
        let url = format!(
            "{}/sandbox/v1/projects/acme/sslCertificates/cert:provision",
            c.handle.base_url()
        );
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    assert!(
        hook(json!({"status": "PROVISIONING", "domainStatus": "FAILED_NOT_VISIBLE"}))
            .await
            .status()
            .is_success()
    );
    let cert = get(&c, &g("sslCertificates/cert")).await.ok().clone();
    assert_eq!(
        cert["managed"]["domainStatus"],
        json!({"shop.example.com": "FAILED_NOT_VISIBLE"})
    );
    assert!(hook(json!({})).await.status().is_success());
    let cert = get(&c, &g("sslCertificates/cert")).await.ok().clone();
    assert_eq!(cert["managed"]["status"], "ACTIVE");
    assert_eq!(cert["subjectAlternativeNames"], json!(["shop.example.com"]));
    assert!(cert["expireTime"].is_string());
}

#[tokio::test]
async fn s6_a_certificate_has_no_patch_or_update() {
    let c = cloud().await;
    certificate(&c, "cert").await;
    for verb in [Method::PATCH, Method::PUT] {
        let path = g("sslCertificates/cert");
        call(&c, verb, &path, Some(json!({"description": "x"})))
            .await
            .is_html_404(&path);
    }
}

#[tokio::test]
async fn s6_s15_1_managed_domains_are_at_most_100_and_never_wildcards() {
    let c = cloud().await;
    post(
        &c,
        &g("sslCertificates"),
        json!({"name": "w", "type": "MANAGED", "managed": {"domains": ["*.example.com"]}}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "resource.managed.domains[0]",
            "*.example.com",
            "Domains must be fully qualified names; wildcards are not supported by Google-managed certificates.",
        ),
    );
    let many: Vec<String> = (0..101).map(|i| format!("d{i}.example.com")).collect();
    post(
        &c,
        &g("sslCertificates"),
        json!({"name": "many", "type": "MANAGED", "managed": {"domains": many}}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "resource.managed.domains",
            "101",
            "At most 100 domains per managed certificate.",
        ),
    );
}

#[tokio::test]
async fn s7_s15_1_an_https_proxy_needs_a_certificate_and_takes_at_most_15() {
    let c = cloud().await;
    create(
        &c,
        &g("urlMaps"),
        json!({"name": "m", "defaultUrlRedirect": {"httpsRedirect": true}}),
    )
    .await;
    let map = link("global/urlMaps/m");
    post(
        &c,
        &g("targetHttpsProxies"),
        json!({"name": "p", "urlMap": map}),
    )
    .await
    .is_error(
        400,
        "required",
        "Required field 'resource.sslCertificates' not specified",
    );
    let certs: Vec<String> = (0..16)
        .map(|i| link(&format!("global/sslCertificates/c{i}")))
        .collect();
    post(
        &c,
        &g("targetHttpsProxies"),
        json!({"name": "p", "urlMap": map, "sslCertificates": certs}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "resource.sslCertificates",
            "16",
            "At most 15 SSL certificates per target HTTPS proxy.",
        ),
    );
    post(&c, &g("targetHttpProxies"), json!({"name": "p"}))
        .await
        .is_error(
            400,
            "required",
            "Required field 'resource.urlMap' not specified",
        );
}

#[tokio::test]
async fn s7_the_proxy_setters_have_no_global_segment_and_check_what_they_set() {
    let c = cloud().await;
    let bs = backend_service(&c, "b").await;
    let map = url_map(&c, "m", &bs).await;
    let other = url_map(&c, "other", &bs).await;
    let cert = certificate(&c, "cert").await;
    https_proxy(&c, "p", &map, &cert).await;
    done(
        &c,
        Method::POST,
        "/compute/v1/projects/acme/targetHttpsProxies/p/setUrlMap",
        Some(json!({"urlMap": "global/urlMaps/other"})),
    )
    .await;
    let proxy = get(&c, &g("targetHttpsProxies/p")).await.ok().clone();
    assert_eq!(proxy["urlMap"], other);
    post(
        &c,
        "/compute/v1/projects/acme/targetHttpsProxies/p/setSslCertificates",
        json!({"sslCertificates": [link("global/sslCertificates/missing")]}),
    )
    .await
    .is_error(
        404,
        "notFound",
        "The resource 'projects/acme/global/sslCertificates/missing' was not found",
    );
    post(
        &c,
        "/compute/v1/projects/acme/targetHttpsProxies/p/setUrlMap",
        json!({"urlMap": 7}),
    )
    .await
    .is_error(
        400,
        "invalid",
        "Invalid value at 'resource.urlMap' (TYPE_STRING), 7",
    );
}

#[tokio::test]
async fn s8_forwarding_rules_on_one_ip_may_not_overlap_ports() {
    let c = cloud().await;
    let ip = address(&c, "ip").await;
    create(
        &c,
        &g("urlMaps"),
        json!({"name": "m", "defaultUrlRedirect": {"httpsRedirect": true}}),
    )
    .await;
    let proxy = http_proxy(&c, "p", &link("global/urlMaps/m")).await;
    forwarding_rule(&c, "fr1", &proxy, Some(&ip)).await;
    let literal = get(&c, &g("addresses/ip")).await.ok()["address"]
        .as_str()
        .unwrap()
        .to_string();
    post(
        &c,
        &g("forwardingRules"),
        json!({"name": "fr2", "target": proxy, "IPAddress": ip, "portRange": "79-81"}),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "resource.IPAddress",
            &literal,
            "Specified IP address is in-use and would result in a conflict with forwarding rule 'fr1'.",
        ),
    );
    // Another port on the same IP is fine.
    create(
        &c,
        &g("forwardingRules"),
        json!({"name": "fr3", "target": proxy, "IPAddress": ip, "portRange": "8080"}),
    )
    .await;
    post(&c, &g("forwardingRules"), json!({"name": "fr4"}))
        .await
        .is_error(
            400,
            "required",
            "Required field 'resource.target' not specified",
        );
}

#[tokio::test]
async fn s8_s11_10_an_address_is_reserved_then_in_use_while_a_rule_holds_it() {
    let c = cloud().await;
    let ip = address(&c, "ip").await;
    assert_eq!(get(&c, &g("addresses/ip")).await.ok()["status"], "RESERVED");
    create(
        &c,
        &g("urlMaps"),
        json!({"name": "m", "defaultUrlRedirect": {"httpsRedirect": true}}),
    )
    .await;
    let proxy = http_proxy(&c, "p", &link("global/urlMaps/m")).await;
    forwarding_rule(&c, "fr", &proxy, Some(&ip)).await;
    let a = get(&c, &g("addresses/ip")).await.ok().clone();
    assert_eq!(a["status"], "IN_USE");
    assert_eq!(a["users"], json!([link("global/forwardingRules/fr")]));
    let op = delete(&c, &g("forwardingRules/fr")).await;
    wait(&c, op.ok()).await;
    let a = get(&c, &g("addresses/ip")).await.ok().clone();
    assert_eq!(a["status"], "RESERVED");
    assert!(a.get("users").is_none(), "{a}");
}

#[tokio::test]
async fn s21_3_a_forwarding_rule_patch_changes_only_the_network_tier() {
    let c = cloud().await;
    create(
        &c,
        &g("urlMaps"),
        json!({"name": "m", "defaultUrlRedirect": {"httpsRedirect": true}}),
    )
    .await;
    let proxy = http_proxy(&c, "p", &link("global/urlMaps/m")).await;
    forwarding_rule(&c, "fr", &proxy, None).await;
    call(
        &c,
        Method::PATCH,
        &g("forwardingRules/fr"),
        Some(json!({"description": "x"})),
    )
    .await
    .is_error(
        400,
        "invalid",
        &invalid(
            "resource.description",
            "x",
            "Currently, you can only patch the network_tier field.",
        ),
    );
    // The target changes by setTarget.
    let other = http_proxy(&c, "other", &link("global/urlMaps/m")).await;
    done(
        &c,
        Method::POST,
        &g("forwardingRules/fr/setTarget"),
        Some(json!({"target": other})),
    )
    .await;
    assert_eq!(
        get(&c, &g("forwardingRules/fr")).await.ok()["target"],
        other
    );
}
