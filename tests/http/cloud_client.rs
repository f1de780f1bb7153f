//! The REST client against the sandbox over a real socket: create, wait, get, conflict, in-use
//! delete, retries on injected faults, requestId reuse after a lost reply.

use crate::cloud_support::{P, R, fast_config, rid, start};
use switchyard::cloud::sandbox::{Fault, FaultConfig, SandboxConfig};
use switchyard::cloud::types::*;
use switchyard::cloud::{CloudError, OperationRef, RetryPolicy, Scope};
use switchyard::domain::urlmap::UrlMap;

fn url_map(name: &str, default_service: &str) -> UrlMap {
    serde_json::from_value(serde_json::json!({"name": name, "defaultService": default_service}))
        .unwrap()
}

#[tokio::test]
async fn builds_a_whole_load_balancer_and_tears_it_down_in_order() {
    let cloud = start(fast_config()).await;
    let c = &cloud.client;

    // Serverless NEG: regional operation, RUNNING first, DONE after wait.
    let negs = c.serverless_negs(P, R);
    let op = negs
        .insert(
            &NetworkEndpointGroup::serverless("shop-web-r1", "my-app"),
            rid(),
        )
        .await
        .unwrap();
    assert_eq!(op.status, OperationStatus::Running);
    let op_ref = op.reference().unwrap();
    assert!(matches!(&op_ref, OperationRef::Compute { scope: Scope::Region(r), .. } if r == R));
    let done = c.wait_operation(&op).await.unwrap();
    assert_eq!(done.status, OperationStatus::Done);
    assert_eq!(done.progress, Some(100));
    let neg = negs.get("shop-web-r1").await.unwrap().unwrap();
    assert_eq!(neg.network_endpoint_type.as_deref(), Some("SERVERLESS"));
    assert_eq!(neg.size, Some(0));
    assert!(
        neg.self_link.unwrap().starts_with(
            "https://www.googleapis.com/compute/v1/projects/acme/regions/us-central1/"
        )
    );
    assert!(negs.get("missing").await.unwrap().is_none());

    // Same name again: a typed conflict, not retried.
    let err = negs
        .insert(
            &NetworkEndpointGroup::serverless("shop-web-r1", "my-app"),
            rid(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CloudError::AlreadyExists { .. }), "{err:?}");

    let bs = BackendService {
        name: "shop-bs-web".into(),
        load_balancing_scheme: Some("EXTERNAL_MANAGED".into()),
        protocol: Some("HTTPS".into()),
        backends: vec![Backend {
            group: negs.link("shop-web-r1"),
            ..Default::default()
        }],
        ..Default::default()
    };
    let bss = c.backend_services(P);
    c.wait_operation(&bss.insert(&bs, rid()).await.unwrap())
        .await
        .unwrap();
    let um = url_map("shop-urlmap", &bss.link("shop-bs-web"));
    c.wait_operation(&c.url_maps(P).insert(&um, rid()).await.unwrap())
        .await
        .unwrap();
    let cert = SslCertificate::managed("shop-cert", &["shop.example.com".to_string()]);
    c.wait_operation(&c.ssl_certificates(P).insert(&cert, rid()).await.unwrap())
        .await
        .unwrap();
    let proxy = TargetHttpsProxy {
        name: "shop-https-proxy".into(),
        url_map: Some(c.url_maps(P).link("shop-urlmap")),
        ssl_certificates: vec![c.ssl_certificates(P).link("shop-cert")],
        ..Default::default()
    };
    c.wait_operation(
        &c.target_https_proxies(P)
            .insert(&proxy, rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    let addr = Address {
        name: "shop-ip".into(),
        ip_version: Some("IPV4".into()),
        address_type: Some("EXTERNAL".into()),
        ..Default::default()
    };
    c.wait_operation(&c.global_addresses(P).insert(&addr, rid()).await.unwrap())
        .await
        .unwrap();
    let reserved = c.global_addresses(P).get("shop-ip").await.unwrap().unwrap();
    assert_eq!(reserved.status.as_deref(), Some("RESERVED"));
    let ip = reserved.address.clone().unwrap();
    let fr = ForwardingRule {
        name: "shop-https-fr".into(),
        ip_address: Some(c.global_addresses(P).link("shop-ip")),
        ip_protocol: Some("TCP".into()),
        port_range: Some("443".into()),
        load_balancing_scheme: Some("EXTERNAL_MANAGED".into()),
        target: Some(c.target_https_proxies(P).link("shop-https-proxy")),
        network_tier: Some("PREMIUM".into()),
        ..Default::default()
    };
    c.wait_operation(
        &c.global_forwarding_rules(P)
            .insert(&fr, rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    let in_use = c.global_addresses(P).get("shop-ip").await.unwrap().unwrap();
    assert_eq!(in_use.status.as_deref(), Some("IN_USE"));
    assert!(in_use.users[0].ends_with("/global/forwardingRules/shop-https-fr"));
    let rule = c
        .global_forwarding_rules(P)
        .get("shop-https-fr")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rule.ip_address.as_deref(), Some(ip.as_str()));

    // Deleting the URL map while the proxy uses it: typed InUse naming the proxy.
    let err = c
        .url_maps(P)
        .delete("shop-urlmap", rid())
        .await
        .unwrap_err();
    match &err {
        CloudError::InUse { by, resource, .. } => {
            assert_eq!(
                by,
                "projects/acme/global/targetHttpsProxies/shop-https-proxy"
            );
            assert_eq!(resource, "projects/acme/global/urlMaps/shop-urlmap");
        }
        other => panic!("expected InUse, got {other:?}"),
    }
    assert!(!err.is_retryable());

    // Teardown in the order of docs/google-cloud.md §10.
    let fr_op = c
        .global_forwarding_rules(P)
        .delete("shop-https-fr", rid())
        .await
        .unwrap();
    c.wait_operation(&fr_op).await.unwrap();
    c.wait_operation(
        &c.target_https_proxies(P)
            .delete("shop-https-proxy", rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    c.wait_operation(&c.url_maps(P).delete("shop-urlmap", rid()).await.unwrap())
        .await
        .unwrap();
    c.wait_operation(
        &c.ssl_certificates(P)
            .delete("shop-cert", rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    c.wait_operation(&bss.delete("shop-bs-web", rid()).await.unwrap())
        .await
        .unwrap();
    c.wait_operation(&negs.delete("shop-web-r1", rid()).await.unwrap())
        .await
        .unwrap();
    c.wait_operation(
        &c.global_addresses(P)
            .delete("shop-ip", rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert!(c.global_addresses(P).list().await.unwrap().is_empty());
    assert!(negs.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn wait_by_stored_reference_works_after_the_fact() {
    let cloud = start(SandboxConfig {
        operation_latency: std::time::Duration::from_millis(1500),
        ..fast_config()
    })
    .await;
    let c = &cloud.client;
    let op = c
        .global_negs(P)
        .insert(&NetworkEndpointGroup::internet_fqdn("ineg", 443), rid())
        .await
        .unwrap();
    // What a job runner stores, and parses again after a restart.
    let stored = op.reference().unwrap().to_string();
    assert!(stored.starts_with("projects/acme/global/operations/operation-"));
    let again = OperationRef::parse(&stored).unwrap();
    match c.get_operation(&again).await.unwrap() {
        switchyard::cloud::OperationState::Compute(o) => {
            assert_eq!(o.status, OperationStatus::Running)
        }
        other => panic!("{other:?}"),
    }
    let done = c.wait(&again).await.unwrap();
    match done {
        switchyard::cloud::CompletedOperation::Compute(o) => {
            assert_eq!(o.name, op.name);
            assert!(
                o.target_link
                    .unwrap()
                    .ends_with("/global/networkEndpointGroups/ineg")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn retries_transient_faults_and_rate_limits_then_succeeds() {
    let cloud = start(fast_config()).await;
    let sb = &cloud.handle.sandbox;
    for f in [
        Fault::Transient,
        Fault::RateLimited403,
        Fault::ResourceNotReady,
    ] {
        sb.push_fault(f);
    }
    let before = sb.request_count();
    let list = cloud.client.backend_services(P).list().await.unwrap();
    assert!(list.is_empty());
    assert_eq!(
        sb.request_count() - before,
        4,
        "three faults, then the answer"
    );
    assert!(sb.pending_faults().is_empty());

    // 429 carries Retry-After: 1, which the client honours (capped by the policy's max delay).
    sb.push_fault(Fault::RateLimited);
    let started = std::time::Instant::now();
    cloud.client.backend_services(P).list().await.unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(45));
}

#[tokio::test]
async fn rate_limits_are_retried_for_the_time_budget_then_a_typed_error() {
    let mut config = fast_config();
    config.faults = FaultConfig {
        rate_limit_rate: 1.0,
        ..FaultConfig::default()
    };
    let cloud = start(config).await;
    let before = cloud.handle.sandbox.request_count();
    let started = std::time::Instant::now();
    let err = cloud.client.url_maps(P).list().await.unwrap_err();
    assert!(matches!(err, CloudError::RateLimited { .. }), "{err:?}");
    let policy = RetryPolicy::fast();
    assert!(
        started.elapsed() >= policy.rate_limit_budget,
        "kept at it for the budget"
    );
    // Waits of at most 50 ms over 400 ms: more attempts than a transient failure gets.
    assert!(
        cloud.handle.sandbox.request_count() - before > policy.transient_attempts as u64,
        "rate limits are not counted like failures"
    );
}

#[tokio::test]
async fn transient_failures_are_retried_a_number_of_times_then_a_typed_error() {
    let mut config = fast_config();
    config.faults = FaultConfig {
        transient_rate: 1.0,
        ..FaultConfig::default()
    };
    let cloud = start(config).await;
    let before = cloud.handle.sandbox.request_count();
    let err = cloud.client.url_maps(P).list().await.unwrap_err();
    assert!(matches!(err, CloudError::Transient { .. }), "{err:?}");
    assert_eq!(
        cloud.handle.sandbox.request_count() - before,
        RetryPolicy::fast().transient_attempts as u64
    );
}

#[tokio::test]
async fn never_retries_invalid_requests() {
    let cloud = start(fast_config()).await;
    let before = cloud.handle.sandbox.request_count();
    let err = cloud
        .client
        .global_negs(P)
        .insert(&NetworkEndpointGroup::internet_fqdn("Bad_Name", 443), rid())
        .await
        .unwrap_err();
    match err {
        CloudError::Invalid { field, .. } => assert_eq!(field.as_deref(), Some("resource.name")),
        other => panic!("{other:?}"),
    }
    assert_eq!(cloud.handle.sandbox.request_count() - before, 1);
}

#[tokio::test]
async fn a_lost_reply_is_retried_with_the_same_request_id_and_applied_once() {
    let cloud = start(fast_config()).await;
    let sb = &cloud.handle.sandbox;
    sb.push_fault(Fault::LostReply);
    let request_id = rid();
    let negs = cloud.client.global_negs(P);
    // The first attempt is applied but answered 503; the retry with the same requestId gets
    // the original operation instead of a 409.
    let op = negs
        .insert(
            &NetworkEndpointGroup::internet_fqdn("lost", 443),
            request_id,
        )
        .await
        .unwrap();
    assert_eq!(
        op.client_operation_id.as_deref(),
        Some(request_id.to_string().as_str())
    );
    cloud.client.wait_operation(&op).await.unwrap();
    // A crash-restart resend later: same operation again, nothing applied twice.
    let replay = negs
        .insert(
            &NetworkEndpointGroup::internet_fqdn("lost", 443),
            request_id,
        )
        .await
        .unwrap();
    assert_eq!(replay.name, op.name);
    assert_eq!(negs.list().await.unwrap().len(), 1);
    // A fresh requestId is a new mutation: now the name is taken.
    let err = negs
        .insert(&NetworkEndpointGroup::internet_fqdn("lost", 443), rid())
        .await
        .unwrap_err();
    assert!(matches!(err, CloudError::AlreadyExists { .. }));
}

#[tokio::test]
async fn an_operation_that_ends_in_error_is_an_error_and_changes_nothing() {
    let cloud = start(fast_config()).await;
    cloud.handle.sandbox.push_fault(Fault::OperationError);
    let op = cloud
        .client
        .global_negs(P)
        .insert(&NetworkEndpointGroup::internet_fqdn("doomed", 443), rid())
        .await
        .unwrap();
    let err = cloud.client.wait_operation(&op).await.unwrap_err();
    match &err {
        CloudError::OperationFailed {
            operation,
            code,
            http_status,
            ..
        } => {
            assert_eq!(operation, &op.name);
            assert_eq!(code, "INTERNAL_ERROR");
            assert_eq!(*http_status, Some(500));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        cloud
            .client
            .global_negs(P)
            .get("doomed")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn internet_neg_endpoints_attach_list_detach() {
    let cloud = start(fast_config()).await;
    let c = &cloud.client;
    c.wait_operation(
        &c.global_negs(P)
            .insert(&NetworkEndpointGroup::internet_fqdn("ineg", 443), rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    let ep = NetworkEndpoint {
        fqdn: Some("hello2-3qx7k2dz6a-uc.a.run.app".into()),
        port: Some(443),
        ..Default::default()
    };
    c.wait_operation(
        &c.attach_network_endpoints(P, "ineg", vec![ep.clone()], rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    let listed = c.list_network_endpoints(P, "ineg").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].network_endpoint, ep);
    assert_eq!(
        c.global_negs(P).get("ineg").await.unwrap().unwrap().size,
        Some(1)
    );
    // A second endpoint is refused: one per internet NEG.
    let other = NetworkEndpoint {
        fqdn: Some("other.a.run.app".into()),
        port: Some(443),
        ..Default::default()
    };
    let err = c
        .attach_network_endpoints(P, "ineg", vec![other], rid())
        .await
        .unwrap_err();
    assert!(matches!(err, CloudError::Invalid { .. }), "{err:?}");
    c.wait_operation(
        &c.detach_network_endpoints(P, "ineg", vec![ep], rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert!(
        c.list_network_endpoints(P, "ineg")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn stale_fingerprint_is_a_typed_error_and_a_fresh_one_works() {
    let cloud = start(fast_config()).await;
    let c = &cloud.client;
    c.wait_operation(
        &c.global_negs(P)
            .insert(&NetworkEndpointGroup::internet_fqdn("n", 443), rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    let bs = BackendService {
        name: "bs".into(),
        load_balancing_scheme: Some("EXTERNAL_MANAGED".into()),
        backends: vec![Backend {
            group: c.global_negs(P).link("n"),
            ..Default::default()
        }],
        ..Default::default()
    };
    c.wait_operation(&c.backend_services(P).insert(&bs, rid()).await.unwrap())
        .await
        .unwrap();
    let current = c.backend_services(P).get("bs").await.unwrap().unwrap();
    let mut change = BackendService {
        name: "bs".into(),
        custom_request_headers: vec!["Host: hello2.a.run.app".into()],
        fingerprint: Some("c3RhbGU=".into()),
        ..Default::default()
    };
    let err = c
        .backend_services(P)
        .patch("bs", &change, rid())
        .await
        .unwrap_err();
    assert!(
        matches!(err, CloudError::StaleFingerprint { .. }),
        "{err:?}"
    );
    change.fingerprint = current.fingerprint.clone();
    c.wait_operation(
        &c.backend_services(P)
            .patch("bs", &change, rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    let after = c.backend_services(P).get("bs").await.unwrap().unwrap();
    assert_eq!(
        after.custom_request_headers,
        vec!["Host: hello2.a.run.app".to_string()]
    );
    assert_ne!(
        after.fingerprint, current.fingerprint,
        "fingerprint changes on every update"
    );
    assert_eq!(after.backends.len(), 1, "merge-patch keeps fields not sent");
}

#[tokio::test]
async fn setters_swap_url_map_certificates_and_target() {
    let cloud = start(fast_config()).await;
    let c = &cloud.client;
    c.wait_operation(
        &c.global_negs(P)
            .insert(&NetworkEndpointGroup::internet_fqdn("n", 443), rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    let bs = BackendService {
        name: "bs".into(),
        load_balancing_scheme: Some("EXTERNAL_MANAGED".into()),
        backends: vec![Backend {
            group: c.global_negs(P).link("n"),
            ..Default::default()
        }],
        ..Default::default()
    };
    c.wait_operation(&c.backend_services(P).insert(&bs, rid()).await.unwrap())
        .await
        .unwrap();
    for m in ["um-a", "um-b"] {
        c.wait_operation(
            &c.url_maps(P)
                .insert(&url_map(m, &c.backend_services(P).link("bs")), rid())
                .await
                .unwrap(),
        )
        .await
        .unwrap();
    }
    for cert in ["cert-a", "cert-b"] {
        c.wait_operation(
            &c.ssl_certificates(P)
                .insert(
                    &SslCertificate::managed(cert, &["a.example.com".into()]),
                    rid(),
                )
                .await
                .unwrap(),
        )
        .await
        .unwrap();
    }
    let https = TargetHttpsProxy {
        name: "https".into(),
        url_map: Some(c.url_maps(P).link("um-a")),
        ssl_certificates: vec![c.ssl_certificates(P).link("cert-a")],
        ..Default::default()
    };
    c.wait_operation(
        &c.target_https_proxies(P)
            .insert(&https, rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    let http = TargetHttpProxy {
        name: "http".into(),
        url_map: Some(c.url_maps(P).link("um-a")),
        ..Default::default()
    };
    c.wait_operation(&c.target_http_proxies(P).insert(&http, rid()).await.unwrap())
        .await
        .unwrap();
    let op = c
        .set_https_proxy_url_map(P, "https", &c.url_maps(P).link("um-b"), rid())
        .await
        .unwrap();
    // The setter's path has no /global/, its operation is global all the same.
    assert!(matches!(
        op.reference().unwrap(),
        OperationRef::Compute {
            scope: Scope::Global,
            ..
        }
    ));
    c.wait_operation(&op).await.unwrap();
    c.wait_operation(
        &c.set_http_proxy_url_map(P, "http", &c.url_maps(P).link("um-b"), rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    c.wait_operation(
        &c.set_ssl_certificates(
            P,
            "https",
            vec![c.ssl_certificates(P).link("cert-b")],
            rid(),
        )
        .await
        .unwrap(),
    )
    .await
    .unwrap();
    let p = c
        .target_https_proxies(P)
        .get("https")
        .await
        .unwrap()
        .unwrap();
    assert!(switchyard::cloud::same_resource(
        p.url_map.as_deref().unwrap(),
        &c.url_maps(P).link("um-b")
    ));
    assert!(p.ssl_certificates[0].ends_with("/sslCertificates/cert-b"));
    // The old map and certificate are free now.
    c.wait_operation(&c.url_maps(P).delete("um-a", rid()).await.unwrap())
        .await
        .unwrap();
    c.wait_operation(&c.ssl_certificates(P).delete("cert-a", rid()).await.unwrap())
        .await
        .unwrap();

    let fr = ForwardingRule {
        name: "fr".into(),
        port_range: Some("80".into()),
        load_balancing_scheme: Some("EXTERNAL_MANAGED".into()),
        target: Some(c.target_http_proxies(P).link("http")),
        ..Default::default()
    };
    c.wait_operation(
        &c.global_forwarding_rules(P)
            .insert(&fr, rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    c.wait_operation(
        &c.set_forwarding_rule_target(P, "fr", &c.target_https_proxies(P).link("https"), rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    let rule = c
        .global_forwarding_rules(P)
        .get("fr")
        .await
        .unwrap()
        .unwrap();
    assert!(rule.target.unwrap().ends_with("/targetHttpsProxies/https"));
    assert!(
        rule.ip_address.unwrap().parse::<std::net::IpAddr>().is_ok(),
        "ephemeral IP allocated"
    );
    c.wait_operation(
        &c.target_http_proxies(P)
            .delete("http", rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn validate_url_map_reports_test_failures_without_storing() {
    let cloud = start(fast_config()).await;
    let c = &cloud.client;
    c.wait_operation(
        &c.global_negs(P)
            .insert(&NetworkEndpointGroup::internet_fqdn("n", 443), rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    for name in ["web", "hello2"] {
        let bs = BackendService {
            name: name.into(),
            load_balancing_scheme: Some("EXTERNAL_MANAGED".into()),
            backends: vec![Backend {
                group: c.global_negs(P).link("n"),
                ..Default::default()
            }],
            ..Default::default()
        };
        c.wait_operation(&c.backend_services(P).insert(&bs, rid()).await.unwrap())
            .await
            .unwrap();
    }
    let web = c.backend_services(P).link("web");
    let hello2 = c.backend_services(P).link("hello2");
    let map: UrlMap = serde_json::from_value(serde_json::json!({
        "name": "m",
        "defaultService": web,
        "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
        "pathMatchers": [{"name": "pm", "defaultService": web,
            "pathRules": [{"paths": ["/hello2", "/hello2/*"], "service": hello2,
                           "routeAction": {"urlRewrite": {"pathPrefixRewrite": "/"}}}]}],
        "tests": [{"host": "shop.example.com", "path": "/hello2/x", "service": hello2},
                  {"host": "shop.example.com", "path": "/other", "service": hello2}]
    }))
    .unwrap();
    let result = c
        .validate_url_map(P, "m", &map, &["EXTERNAL_MANAGED"])
        .await
        .unwrap();
    assert!(result.load_succeeded);
    assert_eq!(result.test_passed, Some(false));
    assert_eq!(result.test_failures.len(), 1);
    assert_eq!(result.test_failures[0]["path"], "/other");
    assert!(
        c.url_maps(P).get("m").await.unwrap().is_none(),
        "validate stores nothing"
    );
    // The same failing test blocks an insert.
    let err = c.url_maps(P).insert(&map, rid()).await.unwrap_err();
    match err {
        CloudError::Invalid { field, .. } => {
            assert_eq!(field.as_deref(), Some("resource.tests[1]"))
        }
        other => panic!("{other:?}"),
    }
}
