//! Contract tests: every request the client builds is checked against the stored discovery
//! documents (tests/data/*.discovery.json.gz, copies of ../shared/gcp/: Compute, Cloud Run,
//! Resource Manager and Certificate Manager). The URL must match a
//! method's path template and HTTP verb, every query parameter must be one the method (or the API)
//! declares, and the body must fit the method's request schema: an unknown field, a wrong JSON
//! type or a value outside an enum fails.
//!
//! The client is driven through a recording proxy in front of the sandbox, so the requests checked
//! are the ones it really sends, for every typed wrapper.

use crate::cloud_support::{P, R, fast_config, start};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, Uri};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use switchyard::cloud::discovery::{self, Api, Strictness};
use switchyard::cloud::types::*;
use switchyard::cloud::{Client, ClientConfig, GcpAuthTokens, ResourceRef, RetryPolicy};
use uuid::Uuid;

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
}

/// Checks one request against its discovery document with the library's checker (the one the
/// sandbox answers with), in its canonical mode: the client must send what Google documents,
/// not merely what it tolerates. Returns the method id it matched.
fn check_request(doc: &Api, r: &Recorded) -> Result<String, String> {
    let m = doc.find(&r.method, &r.path).ok_or_else(|| {
        format!(
            "{} {}: no discovery method has this verb and path",
            r.method, r.path
        )
    })?;
    let id = m.method.id.clone();
    m.method
        .check_request(doc, &m, &r.query)
        .map_err(|p| format!("{} {} ({id}): {}", r.method, r.path, p.message()))?;
    match (&m.method.request, &r.body) {
        (None, Some(b)) if !b.is_null() => Err(format!(
            "{} {}: {id} takes no body, got {b}",
            r.method, r.path
        )),
        (Some(schema), Some(b)) => {
            let problems = doc.check_body(schema, doc.body_root(schema), b, Strictness::Canonical);
            if problems.is_empty() {
                Ok(id)
            } else {
                Err(format!(
                    "{} {} ({id}): {}",
                    r.method,
                    r.path,
                    problems
                        .iter()
                        .map(|p| p.message.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
            }
        }
        (Some(schema), None) if m.method.verb != "GET" && m.method.verb != "DELETE" => Err(
            format!("{} {}: {id} expects a {schema} body", r.method, r.path),
        ),
        _ => Ok(id),
    }
}

type Log = Arc<Mutex<Vec<Recorded>>>;

#[derive(Clone)]
struct Proxy {
    upstream: String,
    log: Log,
    http: reqwest::Client,
}

/// Records each request, then forwards it to the sandbox and relays the answer.
async fn record(
    State(p): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    p.log.lock().unwrap().push(Recorded {
        method: method.to_string(),
        path: uri.path().trim_start_matches('/').to_string(),
        query,
        body: (!body.is_empty()).then(|| serde_json::from_slice(&body).unwrap()),
    });
    let mut req = p
        .http
        .request(method, format!("{}{}", p.upstream, uri))
        .body(body);
    for (k, v) in headers.iter() {
        if k == "authorization" || k == "content-type" {
            req = req.header(k, v);
        }
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let bytes = resp.bytes().await.unwrap();
    (status, [("content-type", "application/json")], bytes).into_response()
}

use axum::response::IntoResponse;

fn all_methods_client(proxy_base: &str, key: &str) -> Client {
    let mut config = ClientConfig::new(
        &format!("{proxy_base}/compute/v1/"),
        &format!("{proxy_base}/"),
    )
    .with_resourcemanager(&format!("{proxy_base}/"))
    .with_certificatemanager(&format!("{proxy_base}/"));
    config.retry = RetryPolicy::fast();
    Client::new(
        config,
        Arc::new(GcpAuthTokens::service_account_json(key).unwrap()),
    )
    .unwrap()
}

fn rid() -> Uuid {
    Uuid::new_v4()
}

/// Drives every call the client offers, the way a deployment would use them.
async fn exercise(c: &Client) {
    let negs = c.serverless_negs(P, R);
    c.wait_operation(
        &negs
            .insert(&NetworkEndpointGroup::serverless("neg", "my-app"), rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    negs.get("neg").await.unwrap().unwrap();
    negs.list().await.unwrap();
    let ineg = NetworkEndpointGroup {
        description: Some("switchyard:deployment=shop".into()),
        ..NetworkEndpointGroup::internet_fqdn("ineg", 443)
    };
    c.wait_operation(&c.global_negs(P).insert(&ineg, rid()).await.unwrap())
        .await
        .unwrap();
    let ep = NetworkEndpoint {
        fqdn: Some("hello2-x-uc.a.run.app".into()),
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
    c.list_network_endpoints(P, "ineg").await.unwrap();
    c.wait_operation(
        &c.detach_network_endpoints(P, "ineg", vec![ep], rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    c.wait_operation(
        &c.health_checks(P)
            .insert(
                &HealthCheck {
                    name: "hc".into(),
                    check_type: Some("HTTP".into()),
                    http_health_check: Some(json!({"port": 80, "requestPath": "/"})),
                    ..Default::default()
                },
                rid(),
            )
            .await
            .unwrap(),
    )
    .await
    .unwrap();

    let bs = BackendService {
        name: "bs".into(),
        description: Some("switchyard:deployment=shop".into()),
        load_balancing_scheme: Some("EXTERNAL_MANAGED".into()),
        protocol: Some("HTTPS".into()),
        backends: vec![Backend {
            group: negs.link("neg"),
            description: Some("r1".into()),
            balancing_mode: Some("UTILIZATION".into()),
            capacity_scaler: Some(1.0),
            ..Default::default()
        }],
        enable_cdn: Some(true),
        cdn_policy: Some(CdnPolicy {
            cache_mode: Some("CACHE_ALL_STATIC".into()),
            default_ttl: Some(3600),
            max_ttl: Some(86400),
            client_ttl: Some(3600),
        }),
        custom_request_headers: vec!["X-Client: switchyard".into()],
        custom_response_headers: vec!["X-Cache: {cdn_cache_status}".into()],
        outlier_detection: Some(OutlierDetection {
            consecutive_errors: Some(5),
            consecutive_gateway_failure: Some(3),
            enforcing_consecutive_errors: Some(0),
            enforcing_consecutive_gateway_failure: Some(100),
            interval: Some(Duration {
                seconds: Some("1".into()),
                nanos: Some(0),
            }),
            base_ejection_time: Some(Duration {
                seconds: Some("30".into()),
                nanos: None,
            }),
            max_ejection_percent: Some(50),
        }),
        log_config: Some(LogConfig {
            enable: Some(true),
            sample_rate: Some(1.0),
        }),
        session_affinity: Some("NONE".into()),
        ..Default::default()
    };
    let bss = c.backend_services(P);
    c.wait_operation(&bss.insert(&bs, rid()).await.unwrap())
        .await
        .unwrap();
    let current = bss.get("bs").await.unwrap().unwrap();
    let patch = BackendService {
        name: "bs".into(),
        fingerprint: current.fingerprint.clone(),
        custom_request_headers: vec!["Host: a.run.app".into()],
        ..Default::default()
    };
    c.wait_operation(&bss.patch("bs", &patch, rid()).await.unwrap())
        .await
        .unwrap();
    // Update sends back a GET answer (output fields included), as a read-modify-write does.
    let mut whole = bss.get("bs").await.unwrap().unwrap();
    whole.description = Some("updated".into());
    c.wait_operation(&bss.update("bs", &whole, rid()).await.unwrap())
        .await
        .unwrap();
    edge_security(c).await;
    bss.list().await.unwrap();
    // The permission a URL map of another project needs to use it (cross-project referencing),
    // on the service and, for one not made yet, on its project.
    let held = c
        .test_iam_permissions(
            &ResourceRef::global(P, "backendServices", "bs"),
            &["compute.backendServices.use"],
        )
        .await
        .unwrap();
    assert_eq!(held, ["compute.backendServices.use"]);
    let held = c
        .test_project_permissions(P, &["compute.backendServices.use"])
        .await
        .unwrap();
    assert_eq!(held, ["compute.backendServices.use"]);

    let map: switchyard::domain::urlmap::UrlMap = serde_json::from_value(json!({
        "name": "um", "description": "switchyard:deployment=shop", "defaultService": bss.link("bs"),
        "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
        "pathMatchers": [{"name": "pm", "defaultService": bss.link("bs"),
            "pathRules": [{"paths": ["/hello2", "/hello2/*"], "routeAction": {
                "weightedBackendServices": [{"backendService": bss.link("bs"), "weight": 100}],
                "urlRewrite": {"pathPrefixRewrite": "/"}}}]}],
        "tests": [{"host": "shop.example.com", "path": "/hello2/x", "service": bss.link("bs")}]
    }))
    .unwrap();
    c.validate_url_map(P, "um", &map, &["EXTERNAL_MANAGED"])
        .await
        .unwrap();
    let ums = c.url_maps(P);
    c.wait_operation(&ums.insert(&map, rid()).await.unwrap())
        .await
        .unwrap();
    let mut got = ums.get("um").await.unwrap().unwrap();
    got.description = Some("patched".into());
    c.wait_operation(&ums.patch("um", &got, rid()).await.unwrap())
        .await
        .unwrap();
    let got = ums.get("um").await.unwrap().unwrap();
    c.wait_operation(&ums.update("um", &got, rid()).await.unwrap())
        .await
        .unwrap();
    ums.list().await.unwrap();
    let redirect: switchyard::domain::urlmap::UrlMap = serde_json::from_value(json!({
        "name": "redirect", "defaultUrlRedirect": {"httpsRedirect": true, "redirectResponseCode": "MOVED_PERMANENTLY_DEFAULT", "stripQuery": false}
    })).unwrap();
    c.wait_operation(&ums.insert(&redirect, rid()).await.unwrap())
        .await
        .unwrap();

    let certs = c.ssl_certificates(P);
    c.wait_operation(
        &certs
            .insert(
                &SslCertificate {
                    description: Some("d".into()),
                    ..SslCertificate::managed("cert", &["shop.example.com".into()])
                },
                rid(),
            )
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    certs.get("cert").await.unwrap();
    certs.list().await.unwrap();

    let https = TargetHttpsProxy {
        name: "https".into(),
        description: Some("d".into()),
        url_map: Some(ums.link("um")),
        ssl_certificates: vec![certs.link("cert")],
        quic_override: Some("NONE".into()),
        http_keep_alive_timeout_sec: Some(610),
        ..Default::default()
    };
    let hps = c.target_https_proxies(P);
    c.wait_operation(&hps.insert(&https, rid()).await.unwrap())
        .await
        .unwrap();
    let cur = hps.get("https").await.unwrap().unwrap();
    c.wait_operation(
        &hps.patch(
            "https",
            &TargetHttpsProxy {
                name: "https".into(),
                fingerprint: cur.fingerprint,
                quic_override: Some("ENABLE".into()),
                ..Default::default()
            },
            rid(),
        )
        .await
        .unwrap(),
    )
    .await
    .unwrap();
    c.wait_operation(
        &c.set_https_proxy_url_map(P, "https", &ums.link("um"), rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    c.wait_operation(
        &c.set_ssl_certificates(P, "https", vec![certs.link("cert")], rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    certificate_manager(c).await;
    frontend_options(c).await;
    hps.list().await.unwrap();
    let hp = c.target_http_proxies(P);
    c.wait_operation(
        &hp.insert(
            &TargetHttpProxy {
                name: "http".into(),
                url_map: Some(ums.link("redirect")),
                ..Default::default()
            },
            rid(),
        )
        .await
        .unwrap(),
    )
    .await
    .unwrap();
    let cur = hp.get("http").await.unwrap().unwrap();
    c.wait_operation(
        &hp.patch(
            "http",
            &TargetHttpProxy {
                name: "http".into(),
                fingerprint: cur.fingerprint,
                description: Some("d".into()),
                ..Default::default()
            },
            rid(),
        )
        .await
        .unwrap(),
    )
    .await
    .unwrap();
    c.wait_operation(
        &c.set_http_proxy_url_map(P, "http", &ums.link("redirect"), rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();

    let addrs = c.global_addresses(P);
    c.wait_operation(
        &addrs
            .insert(
                &Address {
                    name: "ip".into(),
                    description: Some("d".into()),
                    ip_version: Some("IPV4".into()),
                    address_type: Some("EXTERNAL".into()),
                    network_tier: Some("PREMIUM".into()),
                    ..Default::default()
                },
                rid(),
            )
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    addrs.get("ip").await.unwrap();
    addrs.list().await.unwrap();
    let frs = c.global_forwarding_rules(P);
    let fr = ForwardingRule {
        name: "fr".into(),
        description: Some("d".into()),
        ip_address: Some(addrs.link("ip")),
        ip_protocol: Some("TCP".into()),
        port_range: Some("443".into()),
        load_balancing_scheme: Some("EXTERNAL_MANAGED".into()),
        target: Some(hps.link("https")),
        network_tier: Some("PREMIUM".into()),
        ip_version: Some("IPV4".into()),
        ..Default::default()
    };
    c.wait_operation(&frs.insert(&fr, rid()).await.unwrap())
        .await
        .unwrap();
    c.wait_operation(
        &frs.patch(
            "fr",
            &ForwardingRule {
                name: "fr".into(),
                network_tier: Some("PREMIUM".into()),
                ..Default::default()
            },
            rid(),
        )
        .await
        .unwrap(),
    )
    .await
    .unwrap();
    c.wait_operation(
        &c.set_forwarding_rule_target(P, "fr", &hps.link("https"), rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    frs.list().await.unwrap();
    let op = frs.delete("fr", rid()).await.unwrap();
    c.get_operation(&op.reference().unwrap()).await.unwrap();
    c.wait(&op.reference().unwrap()).await.unwrap();
    c.wait_operation(&hps.delete("https", rid()).await.unwrap())
        .await
        .unwrap();
    c.wait_operation(&hp.delete("http", rid()).await.unwrap())
        .await
        .unwrap();
    c.wait_operation(&addrs.delete("ip", rid()).await.unwrap())
        .await
        .unwrap();
    c.wait_operation(&certs.delete("cert", rid()).await.unwrap())
        .await
        .unwrap();
    c.wait_operation(&ums.delete("um", rid()).await.unwrap())
        .await
        .unwrap();
    c.wait_operation(&bss.delete("bs", rid()).await.unwrap())
        .await
        .unwrap();
    let op = negs.delete("neg", rid()).await.unwrap();
    c.get_operation(&op.reference().unwrap()).await.unwrap();
    c.wait_operation(&op).await.unwrap();

    // Cloud Run.
    let run = c.run_services(P, R);
    let op = run.create("svc", &full_service()).await.unwrap();
    c.get_operation(&op.reference()).await.unwrap();
    c.wait(&op.reference()).await.unwrap();
    run.get("svc").await.unwrap().unwrap();
    run.list().await.unwrap();
    let op = run
        .patch(
            "svc",
            &RunService::with_image("img:2"),
            true,
            Some("template"),
        )
        .await
        .unwrap();
    c.wait(&op.reference()).await.unwrap();
    // Sending a GET answer back (output fields and all) is also a valid body.
    let current = run.get("svc").await.unwrap().unwrap();
    let op = run.patch("svc", &current, false, None).await.unwrap();
    c.wait(&op.reference()).await.unwrap();
    let mut policy = run.get_iam_policy("svc").await.unwrap();
    policy.grant("roles/run.invoker", "allUsers");
    run.set_iam_policy("svc", &policy).await.unwrap();
    let svc = run.get("svc").await.unwrap().unwrap();
    let op = run.delete("svc", svc.etag.as_deref()).await.unwrap();
    c.wait(&op.reference()).await.unwrap();
    run.delete_operation(&op.name).await.unwrap();

    // What the wizard picks from.
    c.search_projects().await.unwrap();
    for (_, listed) in c.run_services_in(P, &[R, "europe-west1"]).await {
        listed.unwrap();
    }
}

/// Certificate Manager as a job uses it (the very calls `plan::steps` stores), then the proxy
/// moved onto the map and its classic certificates patched off.
/// Cloud Armor (API-NOTES §20.1): the policies a team creates (the tests create them the same
/// way), and the plan's own attach and detach calls, sent as the job runner sends a step.
async fn edge_security(c: &Client) {
    let policies = switchyard::cloud::CollectionRef::global(P, "securityPolicies");
    for (name, kind) in [("armor", "CLOUD_ARMOR"), ("edge", "CLOUD_ARMOR_EDGE")] {
        let op = c
            .insert(&policies, &json!({ "name": name, "type": kind }), rid())
            .await
            .unwrap();
        c.wait_operation(&op).await.unwrap();
    }
    let armor: Option<Value> = c
        .get(&ResourceRef::global(P, "securityPolicies", "armor"))
        .await
        .unwrap();
    assert_eq!(armor.unwrap()["type"], "CLOUD_ARMOR");
    assert_eq!(c.list::<Value>(&policies).await.unwrap().len(), 2);
    let mut spec: Value =
        serde_json::from_str(include_str!("../data/seeds/seed-000.json")).unwrap();
    spec["project"] = json!(P);
    spec["backends"][0]["security_policy"] = json!("armor");
    spec["backends"][0]["edge_security_policy"] = json!("edge");
    let spec = switchyard::domain::parse::parse(spec.to_string()).unwrap();
    let graph = switchyard::domain::plan::compile(&spec);
    let live = graph
        .resources
        .iter()
        .map(|r| (r.id.clone(), None))
        .collect();
    let steps =
        switchyard::domain::plan::steps(&switchyard::domain::plan::diff(&graph, &live)).unwrap();
    let setters: Vec<&switchyard::domain::plan::Call> = steps
        .iter()
        .filter(|s| s.id.contains("SecurityPolicy"))
        .map(|s| &s.call)
        .collect();
    assert_eq!(setters.len(), 2);
    for call in setters {
        let (_, verb) = call.path.rsplit_once('/').unwrap();
        let path = format!("projects/{P}/global/backendServices/bs/{verb}");
        // Attach, then detach as a spec without the policy does.
        for body in [call.body.clone(), Some(json!({}))] {
            let op = c
                .mutate_path(reqwest::Method::POST, &path, body, rid())
                .await
                .unwrap();
            c.wait_operation(&op).await.unwrap();
        }
    }
    for name in ["armor", "edge"] {
        let op = c
            .delete(&ResourceRef::global(P, "securityPolicies", name), rid())
            .await
            .unwrap();
        c.wait_operation(&op).await.unwrap();
    }
}

async fn certificate_manager(c: &Client) {
    use reqwest::Method;
    let global = format!("projects/{P}/locations/global");
    let q = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    let auth = format!("{global}/dnsAuthorizations/auth");
    let cert = format!("{global}/certificates/cmcert");
    let map = format!("{global}/certificateMaps/map");
    let entry = format!("{map}/certificateMapEntries/entry");
    let calls = [
        (
            format!("{global}/dnsAuthorizations"),
            q("dnsAuthorizationId", "auth"),
            json!({ "description": "switchyard:deployment=shop", "domain": "shop.example.com" }),
        ),
        (
            format!("{global}/certificates"),
            q("certificateId", "cmcert"),
            json!({ "description": "d", "managed": {
                "domains": ["shop.example.com"], "dnsAuthorizations": [auth] } }),
        ),
        (
            format!("{global}/certificateMaps"),
            q("certificateMapId", "map"),
            json!({ "description": "d" }),
        ),
        (
            format!("{map}/certificateMapEntries"),
            q("certificateMapEntryId", "entry"),
            json!({ "description": "d", "hostname": "shop.example.com", "certificates": [cert] }),
        ),
        (
            format!("{map}/certificateMapEntries"),
            q("certificateMapEntryId", "primary"),
            json!({ "description": "d", "matcher": "PRIMARY", "certificates": [cert] }),
        ),
    ];
    for (path, query, body) in calls {
        let op = c
            .certificate_manager_call(Method::POST, &path, &query, Some(body))
            .await
            .unwrap();
        let r = switchyard::cloud::OperationRef::CertificateManager { name: op.name };
        c.get_operation(&r).await.unwrap();
        c.wait(&r).await.unwrap();
    }
    let op = c
        .certificate_manager_call(
            Method::PATCH,
            &entry,
            &q("updateMask", "certificates"),
            Some(json!({ "certificates": [cert] })),
        )
        .await
        .unwrap();
    c.wait(&switchyard::cloud::OperationRef::CertificateManager { name: op.name })
        .await
        .unwrap();
    for path in [&auth, &cert, &map, &entry] {
        c.certificate_manager_get(path).await.unwrap().unwrap();
    }
    for collection in [
        format!("{global}/dnsAuthorizations"),
        format!("{global}/certificates"),
        format!("{global}/certificateMaps"),
        format!("{map}/certificateMapEntries"),
    ] {
        assert!(
            !c.certificate_manager_list(&collection)
                .await
                .unwrap()
                .is_empty()
        );
    }
    let proxy = format!("projects/{P}/global/targetHttpsProxies/https");
    let set = c
        .mutate_path(
            Method::POST,
            &format!("{proxy}/setCertificateMap"),
            Some(json!({ "certificateMap": format!("//certificatemanager.googleapis.com/{map}") })),
            rid(),
        )
        .await
        .unwrap();
    c.wait_operation(&set).await.unwrap();
    clear_proxy_field(c, &proxy, "sslCertificates").await;
    // Back to the classic certificate, and the map detached, as the reverse move does.
    c.wait_operation(
        &c.set_ssl_certificates(P, "https", vec![c.ssl_certificates(P).link("cert")], rid())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    clear_proxy_field(c, &proxy, "certificateMap").await;
    for path in [
        &entry,
        &format!("{map}/certificateMapEntries/primary"),
        &map,
        &cert,
        &auth,
    ] {
        let op = c
            .certificate_manager_call(Method::DELETE, path, &[], None)
            .await
            .unwrap();
        c.wait(&switchyard::cloud::OperationRef::CertificateManager { name: op.name })
            .await
            .unwrap();
    }
}

/// The calls `plan::steps` stores for the frontend options (`frontend.ipv6`, `http3`,
/// `ssl_policy`), taken from the planner itself: the SSL policy and IPv6 address inserts, an
/// IPv6 forwarding rule, `setQuicOverride` and `setSslPolicy` on a live proxy, the policy's
/// patch under its fingerprint, the policy detached by an empty reference, and the deletes.
/// The planned proxy is the exercise's `https` one.
async fn frontend_options(c: &Client) {
    use reqwest::Method;
    use switchyard::domain::plan::{self, Action, LiveState, ResourceKind};
    let spec_of = |options: Value| {
        let mut v = json!({
            "name": "opts", "project": P,
            "frontend": { "protocol": "https", "domains": ["shop.example.com"] },
            "backends": [{ "name": "web", "type": "serverless", "service": "web", "regions": [R] }],
            "routing": { "default": { "backend": "web" } }
        });
        for (k, o) in options.as_object().unwrap() {
            v["frontend"][k] = o.clone();
        }
        switchyard::domain::parse::parse(v.to_string()).unwrap()
    };
    // `base`: the exercise's live proxy, whose URL map and certificates the planned one keeps.
    let planned = |spec: &switchyard::domain::spec::Spec, live: &LiveState, base: &Value| {
        let mut graph = plan::compile(spec);
        for r in &mut graph.resources {
            if r.kind == ResourceKind::TargetHttpsProxy {
                r.body["urlMap"] = base["urlMap"].clone();
                r.body["sslCertificates"] = base["sslCertificates"].clone();
            }
        }
        // Only the frontend's own resources: the rest exists in the exercise under other names.
        graph.resources.retain(|r| {
            matches!(
                r.kind,
                ResourceKind::SslPolicy
                    | ResourceKind::TargetHttpsProxy
                    | ResourceKind::GlobalAddress
                    | ResourceKind::GlobalForwardingRule
            ) && (r.kind != ResourceKind::GlobalAddress || r.name.ends_with("-ipv6"))
                && (r.kind != ResourceKind::GlobalForwardingRule
                    || r.name.ends_with("-https-fr-ipv6"))
        });
        plan::steps(&plan::diff(&graph, live)).unwrap()
    };
    let proxy = format!("projects/{P}/global/targetHttpsProxies/https");
    let to_exercise = |s: &str| {
        s.replace(
            "targetHttpsProxies/opts-https-proxy",
            "targetHttpsProxies/https",
        )
    };
    let send = |call: plan::Call| async move {
        let mut body = call.body.clone();
        if call.needs_fingerprint {
            let current: Value = c
                .get(&ResourceRef::parse(&call.path).unwrap())
                .await
                .unwrap()
                .unwrap();
            body.as_mut().unwrap()["fingerprint"] = current["fingerprint"].clone();
        }
        let verb = match call.verb {
            plan::Verb::Post => Method::POST,
            plan::Verb::Patch => Method::PATCH,
            plan::Verb::Delete => Method::DELETE,
            other => panic!("{other:?}"),
        };
        let op = c.mutate_path(verb, &call.path, body, rid()).await.unwrap();
        c.wait_operation(&op).await.unwrap();
    };
    let on = spec_of(json!({ "ipv6": true, "http3": false,
        "ssl_policy": { "min_tls_version": "1.2", "profile": "MODERN" } }));
    let owner = json!("switchyard:deployment=opts");
    // The proxy is live without the options (HTTP/3 on from the patch above): creates for the
    // policy, address and rule, then the two setters.
    let mut live = LiveState::new();
    let mut live_proxy: Value = c
        .get(&ResourceRef::parse(&proxy).unwrap())
        .await
        .unwrap()
        .unwrap();
    live_proxy["description"] = owner.clone();
    let planned_proxy = format!("projects/{P}/global/targetHttpsProxies/opts-https-proxy");
    live.insert(planned_proxy.clone(), Some(live_proxy.clone()));
    let steps = planned(&on, &live, &live_proxy);
    let mut verbs = Vec::new();
    for mut s in steps {
        s.call.path = to_exercise(&s.call.path);
        if let Some(b) = s.call.body.as_mut()
            && b.get("target").is_some()
        {
            b["target"] = json!(proxy);
        }
        verbs.push(s.id.rsplit(':').next().unwrap().to_string());
        send(s.call).await;
    }
    assert!(verbs.contains(&"setQuicOverride".to_string()), "{verbs:?}");
    assert!(verbs.contains(&"setSslPolicy".to_string()), "{verbs:?}");
    let policy_path = format!("projects/{P}/global/sslPolicies/opts-ssl-policy");
    c.get::<Value>(&ResourceRef::parse(&policy_path).unwrap())
        .await
        .unwrap()
        .unwrap();
    c.list::<Value>(&switchyard::cloud::CollectionRef::global(P, "sslPolicies"))
        .await
        .unwrap();

    // Another profile: the policy's patch.
    let restricted = spec_of(json!({ "ipv6": true, "http3": false,
        "ssl_policy": { "min_tls_version": "1.2", "profile": "RESTRICTED" } }));
    let mut live = LiveState::new();
    let mut live_policy: Value = c
        .get(&ResourceRef::parse(&policy_path).unwrap())
        .await
        .unwrap()
        .unwrap();
    live_policy["description"] = owner.clone();
    live.insert(policy_path.clone(), Some(live_policy));
    let steps = planned(&restricted, &live, &live_proxy);
    let patch = steps
        .into_iter()
        .find(|s| s.resource == policy_path && s.action == plan::StepAction::Update)
        .unwrap();
    send(patch.call).await;

    // No policy and no HTTP/3 choice: setSslPolicy with an empty reference, setQuicOverride
    // NONE, then the deletes.
    let off = spec_of(json!({}));
    let mut live_proxy: Value = c
        .get(&ResourceRef::parse(&proxy).unwrap())
        .await
        .unwrap()
        .unwrap();
    live_proxy["description"] = owner.clone();
    let mut live = LiveState::new();
    live.insert(planned_proxy.clone(), Some(live_proxy.clone()));
    let updates = planned(&off, &live, &live_proxy);
    assert_eq!(updates.len(), 2, "{updates:?}");
    for mut s in updates {
        s.call.path = to_exercise(&s.call.path);
        send(s.call).await;
    }
    for (collection, name) in [
        ("forwardingRules", "opts-https-fr-ipv6"),
        ("addresses", "opts-ipv6"),
        ("sslPolicies", "opts-ssl-policy"),
    ] {
        let path = format!("projects/{P}/global/{collection}/{name}");
        let kind = ResourceKind::from_path(&path, "opts").unwrap();
        let mut live = LiveState::new();
        let mut v: Value = c
            .get(&ResourceRef::parse(&path).unwrap())
            .await
            .unwrap()
            .unwrap();
        v["description"] = owner.clone();
        live.insert(path.clone(), Some(v));
        let p = plan::destroy("opts", P, &live);
        assert!(
            p.entries
                .iter()
                .all(|e| e.action == Action::Delete && e.kind == kind)
        );
        for s in plan::steps(&p).unwrap() {
            send(s.call).await;
        }
    }
}

/// Compute's merge-patch of a proxy removing `field`, with the fingerprint read just before, as
/// the job's detaching steps send it.
async fn clear_proxy_field(c: &Client, proxy: &str, field: &str) {
    let current: Value = c
        .get(&switchyard::cloud::ResourceRef::parse(proxy).unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut body = json!({ "fingerprint": current["fingerprint"] });
    body[field] = Value::Null;
    let patch = c
        .mutate_path(reqwest::Method::PATCH, proxy, Some(body), rid())
        .await
        .unwrap();
    c.wait_operation(&patch).await.unwrap();
}

fn full_service() -> RunService {
    RunService {
        description: Some("shop web".into()),
        labels: [("app".to_string(), "shop".to_string())].into(),
        annotations: [("note".to_string(), "x".to_string())].into(),
        ingress: Some("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER".into()),
        invoker_iam_disabled: Some(false),
        template: Some(RevisionTemplate {
            revision: None,
            labels: [("tier".to_string(), "web".to_string())].into(),
            containers: vec![Container {
                name: Some("app".into()),
                image: "us-docker.pkg.dev/cloudrun/container/hello".into(),
                command: vec!["/server".into()],
                args: vec!["--port=8080".into()],
                env: vec![
                    EnvVar {
                        name: "MODE".into(),
                        value: Some("prod".into()),
                        value_source: None,
                    },
                    EnvVar {
                        name: "DB_PASS".into(),
                        value: None,
                        value_source: Some(EnvVarSource {
                            secret_key_ref: Some(SecretKeySelector {
                                secret: "db-pass".into(),
                                version: Some("latest".into()),
                            }),
                        }),
                    },
                ],
                resources: Some(ResourceRequirements {
                    limits: [
                        ("cpu".to_string(), "1".to_string()),
                        ("memory".to_string(), "512Mi".to_string()),
                    ]
                    .into(),
                    cpu_idle: Some(true),
                    startup_cpu_boost: Some(true),
                }),
                ports: vec![ContainerPort {
                    name: Some("http1".into()),
                    container_port: Some(8080),
                }],
            }],
            scaling: Some(RevisionScaling {
                min_instance_count: Some(0),
                max_instance_count: Some(10),
            }),
            max_instance_request_concurrency: Some(80),
            timeout: Some("300s".into()),
            service_account: Some("sa@acme.iam.gserviceaccount.com".into()),
            execution_environment: Some("EXECUTION_ENVIRONMENT_GEN2".into()),
        }),
        scaling: Some(ServiceScaling {
            min_instance_count: Some(0),
            max_instance_count: None,
            manual_instance_count: None,
            scaling_mode: Some("AUTOMATIC".into()),
        }),
        traffic: vec![TrafficTarget {
            target_type: Some("TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST".into()),
            revision: None,
            percent: Some(100),
            tag: None,
        }],
        ..Default::default()
    }
}

#[tokio::test]
async fn every_request_the_client_sends_fits_the_discovery_documents() {
    let cloud = start(fast_config()).await;
    let log: Log = Arc::default();
    let proxy = Proxy {
        upstream: cloud.handle.base_url().to_string(),
        log: log.clone(),
        http: reqwest::Client::new(),
    };
    let app = axum::Router::new().fallback(record).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = all_methods_client(&base, &cloud.handle.sandbox.service_account_key_json());
    exercise(&client).await;

    let compute = discovery::compute();
    let run = discovery::run();
    let resourcemanager = discovery::resourcemanager();
    let certificatemanager = discovery::certificatemanager();
    let mut problems = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let recorded = log.lock().unwrap().clone();
    for r in &recorded {
        let doc = if r.path.starts_with("compute/v1/") {
            compute
        } else if r.path.starts_with("v3/") {
            resourcemanager
        } else if r.path.starts_with("v1/") {
            certificatemanager
        } else {
            run
        };
        match check_request(doc, r) {
            Ok(id) => *seen.entry(id).or_default() += 1,
            Err(e) => problems.push(e),
        }
    }
    assert!(
        problems.is_empty(),
        "requests that do not fit the discovery documents:\n{}",
        problems.join("\n")
    );
    // Every call of docs/google-cloud.md §1–§10 was exercised (so a new wrapper cannot escape this test).
    let expected = [
        "compute.regionNetworkEndpointGroups.insert",
        "compute.regionNetworkEndpointGroups.get",
        "compute.regionNetworkEndpointGroups.list",
        "compute.regionNetworkEndpointGroups.delete",
        "compute.globalNetworkEndpointGroups.insert",
        "compute.globalNetworkEndpointGroups.attachNetworkEndpoints",
        "compute.globalNetworkEndpointGroups.detachNetworkEndpoints",
        "compute.globalNetworkEndpointGroups.listNetworkEndpoints",
        "compute.healthChecks.insert",
        "compute.backendServices.insert",
        "compute.backendServices.get",
        "compute.backendServices.patch",
        "compute.backendServices.update",
        "compute.backendServices.list",
        "compute.backendServices.delete",
        "compute.backendServices.testIamPermissions",
        "compute.backendServices.setSecurityPolicy",
        "compute.backendServices.setEdgeSecurityPolicy",
        "compute.securityPolicies.insert",
        "compute.securityPolicies.get",
        "compute.securityPolicies.list",
        "compute.securityPolicies.delete",
        "compute.urlMaps.validate",
        "compute.urlMaps.insert",
        "compute.urlMaps.get",
        "compute.urlMaps.patch",
        "compute.urlMaps.update",
        "compute.urlMaps.list",
        "compute.urlMaps.delete",
        "compute.sslCertificates.insert",
        "compute.sslCertificates.get",
        "compute.sslCertificates.list",
        "compute.sslCertificates.delete",
        "compute.targetHttpsProxies.insert",
        "compute.targetHttpsProxies.get",
        "compute.targetHttpsProxies.patch",
        "compute.targetHttpsProxies.setUrlMap",
        "compute.targetHttpsProxies.setSslCertificates",
        "compute.targetHttpsProxies.setCertificateMap",
        "compute.targetHttpsProxies.setQuicOverride",
        "compute.targetHttpsProxies.setSslPolicy",
        "compute.sslPolicies.insert",
        "compute.sslPolicies.get",
        "compute.sslPolicies.list",
        "compute.sslPolicies.patch",
        "compute.sslPolicies.delete",
        "compute.targetHttpsProxies.list",
        "compute.targetHttpsProxies.delete",
        "compute.targetHttpProxies.insert",
        "compute.targetHttpProxies.get",
        "compute.targetHttpProxies.patch",
        "compute.targetHttpProxies.setUrlMap",
        "compute.targetHttpProxies.delete",
        "compute.globalAddresses.insert",
        "compute.globalAddresses.get",
        "compute.globalAddresses.list",
        "compute.globalAddresses.delete",
        "compute.globalForwardingRules.insert",
        "compute.globalForwardingRules.patch",
        "compute.globalForwardingRules.setTarget",
        "compute.globalForwardingRules.list",
        "compute.globalForwardingRules.delete",
        "compute.globalOperations.get",
        "compute.globalOperations.wait",
        "compute.regionOperations.get",
        "compute.regionOperations.wait",
        "run.projects.locations.services.create",
        "run.projects.locations.services.get",
        "run.projects.locations.services.list",
        "run.projects.locations.services.patch",
        "run.projects.locations.services.delete",
        "run.projects.locations.services.getIamPolicy",
        "run.projects.locations.services.setIamPolicy",
        "run.projects.locations.operations.get",
        "run.projects.locations.operations.wait",
        "run.projects.locations.operations.delete",
        "cloudresourcemanager.projects.search",
        "cloudresourcemanager.projects.testIamPermissions",
        "certificatemanager.projects.locations.dnsAuthorizations.create",
        "certificatemanager.projects.locations.dnsAuthorizations.get",
        "certificatemanager.projects.locations.dnsAuthorizations.list",
        "certificatemanager.projects.locations.dnsAuthorizations.delete",
        "certificatemanager.projects.locations.certificates.create",
        "certificatemanager.projects.locations.certificates.get",
        "certificatemanager.projects.locations.certificates.list",
        "certificatemanager.projects.locations.certificates.delete",
        "certificatemanager.projects.locations.certificateMaps.create",
        "certificatemanager.projects.locations.certificateMaps.get",
        "certificatemanager.projects.locations.certificateMaps.list",
        "certificatemanager.projects.locations.certificateMaps.delete",
        "certificatemanager.projects.locations.certificateMaps.certificateMapEntries.create",
        "certificatemanager.projects.locations.certificateMaps.certificateMapEntries.get",
        "certificatemanager.projects.locations.certificateMaps.certificateMapEntries.list",
        "certificatemanager.projects.locations.certificateMaps.certificateMapEntries.patch",
        "certificatemanager.projects.locations.certificateMaps.certificateMapEntries.delete",
        "certificatemanager.projects.locations.operations.get",
    ];
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|id| !seen.contains_key(*id))
        .collect();
    assert!(missing.is_empty(), "not exercised: {missing:?}");
}

#[test]
fn the_schema_check_rejects_unknown_mistyped_and_out_of_enum_fields() {
    let compute = discovery::compute();
    let check = |body: Value| -> Vec<String> {
        compute
            .check_body("BackendService", "resource", &body, Strictness::Canonical)
            .into_iter()
            .map(|p| p.message)
            .collect()
    };
    assert_eq!(
        check(json!({"name": "x", "enableCdn": true})),
        [
            "Invalid JSON payload received. Unknown name \"enableCdn\" at 'resource': Cannot find field."
        ]
    );
    assert_eq!(check(json!({"name": "x", "timeoutSec": "30"})).len(), 1);
    assert_eq!(
        check(json!({"name": "x", "loadBalancingScheme": "MANAGED"})).len(),
        1
    );
    assert_eq!(
        check(json!({"outlierDetection": {"interval": {"seconds": 1}}})).len(),
        1,
        "int64 must be a string"
    );
    let wrong_path = Recorded {
        method: "POST".into(),
        path: "compute/v1/projects/p/global/targetHttpsProxies/t/setUrlMap".into(),
        query: vec![],
        body: Some(json!({"urlMap": "x"})),
    };
    assert!(
        check_request(compute, &wrong_path).is_err(),
        "setUrlMap has no /global/"
    );
    let wrong_verb = Recorded {
        method: "PATCH".into(),
        path: "compute/v1/projects/p/global/sslCertificates/c".into(),
        query: vec![],
        body: Some(json!({})),
    };
    assert!(
        check_request(compute, &wrong_verb).is_err(),
        "certificates have no patch"
    );
}

/// The typed structs with every field set, beyond what the exercise sends.
#[test]
fn fully_populated_types_fit_their_schemas() {
    let compute = discovery::compute();
    let run = discovery::run();
    let mut svc = full_service();
    svc.name = Some("projects/p/locations/r/services/s".into());
    svc.uid = Some("u".into());
    svc.generation = Some("2".into());
    svc.observed_generation = Some("2".into());
    svc.create_time = Some("2026-01-01T00:00:00Z".into());
    svc.update_time = Some("2026-01-01T00:00:00Z".into());
    svc.creator = Some("a@b".into());
    svc.last_modifier = Some("a@b".into());
    svc.terminal_condition = Some(Condition {
        condition_type: Some("Ready".into()),
        state: Some("CONDITION_SUCCEEDED".into()),
        message: Some("m".into()),
        reason: Some("REVISION_FAILED".into()),
        revision_reason: Some("PENDING".into()),
        severity: Some("INFO".into()),
        last_transition_time: Some("2026-01-01T00:00:00Z".into()),
    });
    svc.conditions = vec![svc.terminal_condition.clone().unwrap()];
    svc.latest_ready_revision = Some("s-1".into());
    svc.latest_created_revision = Some("s-1".into());
    svc.traffic_statuses = vec![TrafficTargetStatus {
        target_type: Some("TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST".into()),
        revision: Some("s-1".into()),
        percent: Some(100),
        tag: Some("t".into()),
        uri: Some("https://t.run.app".into()),
    }];
    svc.uri = Some("https://s.run.app".into());
    svc.urls = vec!["https://s.run.app".into()];
    svc.reconciling = Some(false);
    svc.etag = Some("e".into());
    let cases: Vec<(&Api, &str, Value)> = vec![
        (
            run,
            "GoogleCloudRunV2Service",
            serde_json::to_value(&svc).unwrap(),
        ),
        (
            run,
            "GoogleIamV1SetIamPolicyRequest",
            serde_json::to_value(SetIamPolicyRequest {
                policy: IamPolicy {
                    version: Some(1),
                    bindings: vec![IamBinding {
                        role: "roles/run.invoker".into(),
                        members: vec!["allUsers".into()],
                    }],
                    etag: Some("BwX=".into()),
                },
                update_mask: Some("bindings".into()),
            })
            .unwrap(),
        ),
        (
            run,
            "GoogleLongrunningWaitOperationRequest",
            serde_json::to_value(WaitOperationRequest {
                timeout: Some("60s".into()),
            })
            .unwrap(),
        ),
        (
            compute,
            "NetworkEndpointGroup",
            serde_json::to_value(NetworkEndpointGroup {
                kind: Some("compute#networkEndpointGroup".into()),
                id: Some("1".into()),
                description: Some("d".into()),
                cloud_run: Some(NegCloudRun {
                    service: Some("s".into()),
                    tag: Some("t".into()),
                    url_mask: Some("m".into()),
                }),
                default_port: Some(443),
                network: Some("n".into()),
                region: Some("r".into()),
                size: Some(0),
                self_link: Some("l".into()),
                creation_timestamp: Some("t".into()),
                ..NetworkEndpointGroup::serverless("n", "s")
            })
            .unwrap(),
        ),
        (
            compute,
            "GlobalNetworkEndpointGroupsAttachEndpointsRequest",
            serde_json::to_value(NetworkEndpointsRequest {
                network_endpoints: vec![NetworkEndpoint {
                    fqdn: Some("a.b".into()),
                    ip_address: Some("1.2.3.4".into()),
                    port: Some(443),
                }],
            })
            .unwrap(),
        ),
        (
            compute,
            "BackendService",
            serde_json::to_value(BackendService {
                kind: Some("compute#backendService".into()),
                id: Some("1".into()),
                health_checks: vec!["h".into()],
                timeout_sec: Some(30),
                port_name: Some("http".into()),
                security_policy: Some("s".into()),
                fingerprint: Some("Zg==".into()),
                self_link: Some("l".into()),
                creation_timestamp: Some("t".into()),
                backends: vec![Backend {
                    group: "g".into(),
                    description: None,
                    balancing_mode: Some("RATE".into()),
                    capacity_scaler: Some(1.0),
                    max_rate: Some(10),
                    max_utilization: Some(0.8),
                }],
                ..Default::default()
            })
            .unwrap(),
        ),
        (
            compute,
            "SslCertificate",
            serde_json::to_value(SslCertificate {
                kind: Some("compute#sslCertificate".into()),
                id: Some("1".into()),
                subject_alternative_names: vec!["a.b".into()],
                expire_time: Some("t".into()),
                self_link: Some("l".into()),
                creation_timestamp: Some("t".into()),
                managed: Some(ManagedCertificate {
                    domains: vec!["a.b".into()],
                    status: Some("ACTIVE".into()),
                    domain_status: [("a.b".to_string(), "ACTIVE".to_string())].into(),
                }),
                ..SslCertificate::managed("c", &[])
            })
            .unwrap(),
        ),
        (
            compute,
            "TargetHttpsProxy",
            serde_json::to_value(TargetHttpsProxy {
                kind: Some("compute#targetHttpsProxy".into()),
                id: Some("1".into()),
                name: "p".into(),
                description: Some("d".into()),
                url_map: Some("u".into()),
                ssl_certificates: vec!["c".into()],
                quic_override: Some("NONE".into()),
                ssl_policy: Some("s".into()),
                http_keep_alive_timeout_sec: Some(610),
                fingerprint: Some("Zg==".into()),
                self_link: Some("l".into()),
                creation_timestamp: Some("t".into()),
            })
            .unwrap(),
        ),
        (
            compute,
            "TargetHttpProxy",
            serde_json::to_value(TargetHttpProxy {
                kind: Some("k".into()),
                id: Some("1".into()),
                name: "p".into(),
                description: Some("d".into()),
                url_map: Some("u".into()),
                http_keep_alive_timeout_sec: Some(610),
                fingerprint: Some("Zg==".into()),
                self_link: Some("l".into()),
                creation_timestamp: Some("t".into()),
            })
            .unwrap(),
        ),
        (
            compute,
            "Address",
            serde_json::to_value(Address {
                kind: Some("k".into()),
                id: Some("1".into()),
                name: "a".into(),
                description: Some("d".into()),
                address: Some("1.2.3.4".into()),
                address_type: Some("EXTERNAL".into()),
                ip_version: Some("IPV4".into()),
                network_tier: Some("PREMIUM".into()),
                status: Some("IN_USE".into()),
                users: vec!["u".into()],
                self_link: Some("l".into()),
                creation_timestamp: Some("t".into()),
            })
            .unwrap(),
        ),
        (
            compute,
            "ForwardingRule",
            serde_json::to_value(ForwardingRule {
                kind: Some("k".into()),
                id: Some("1".into()),
                name: "f".into(),
                description: Some("d".into()),
                ip_address: Some("1.2.3.4".into()),
                ip_protocol: Some("TCP".into()),
                port_range: Some("443".into()),
                load_balancing_scheme: Some("EXTERNAL_MANAGED".into()),
                target: Some("t".into()),
                network_tier: Some("PREMIUM".into()),
                ip_version: Some("IPV4".into()),
                fingerprint: Some("Zg==".into()),
                self_link: Some("l".into()),
                creation_timestamp: Some("t".into()),
            })
            .unwrap(),
        ),
        (
            compute,
            "UrlMapReference",
            serde_json::to_value(UrlMapReference {
                url_map: "u".into(),
            })
            .unwrap(),
        ),
        (
            compute,
            "TargetHttpsProxiesSetSslCertificatesRequest",
            serde_json::to_value(SslCertificatesRequest {
                ssl_certificates: vec!["c".into()],
            })
            .unwrap(),
        ),
        (
            compute,
            "TargetReference",
            serde_json::to_value(TargetReference { target: "t".into() }).unwrap(),
        ),
    ];
    let mut problems = Vec::new();
    for (doc, schema, value) in cases {
        problems.extend(
            doc.check_body(schema, schema, &value, Strictness::Canonical)
                .into_iter()
                .map(|p| p.message),
        );
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The Cloud Run service bodies the planner compiles (what apply sends, `PATCH
/// …?allowMissing=true`), with plain values and Secret Manager references, fit the schema;
/// and a misspelt reference would not (`secretKeyRef.name` is v1's spelling, not v2's).
#[test]
fn compiled_run_services_with_secret_references_fit_the_schema() {
    let run = discovery::run();
    let mut spec: Value =
        serde_json::from_str(include_str!("../data/seeds/seed-001-services.json")).unwrap();
    spec["services"][0]["env"] = json!([
        { "name": "MODE", "value": "prod" },
        { "name": "DB_PASS", "secret": "db-pass", "version": "3" },
        { "name": "API_KEY", "secret": "projects/other-proj/secrets/api-key" }
    ]);
    let spec = switchyard::domain::parse::parse(spec.to_string()).unwrap();
    let graph = switchyard::domain::plan::compile(&spec);
    let bodies: Vec<&Value> = graph
        .resources
        .iter()
        .filter(|r| r.id.contains("/locations/"))
        .map(|r| &r.body)
        .collect();
    assert_eq!(bodies.len(), 3);
    for b in &bodies {
        assert!(b.to_string().contains("secretKeyRef"), "{b}");
        let problems = run.check_body("GoogleCloudRunV2Service", "", b, Strictness::Canonical);
        assert!(problems.is_empty(), "{problems:#?}");
    }
    let mut wrong = bodies[0].clone();
    wrong["template"]["containers"][0]["env"][1]["valueSource"]["secretKeyRef"]["name"] =
        json!("db-pass");
    let problems = run.check_body("GoogleCloudRunV2Service", "", &wrong, Strictness::Canonical);
    assert!(
        problems
            .iter()
            .any(|p| p.field.contains("secretKeyRef.name")),
        "{problems:?}"
    );
}

#[test]
fn compiled_edge_security_bodies_fit_the_schemas() {
    let compute = discovery::compute();
    let run = discovery::run();
    let spec =
        switchyard::domain::parse::parse(include_str!("../data/specs/every-option.json")).unwrap();
    assert_eq!(switchyard::domain::validate::validate(&spec), Ok(()));
    let graph = switchyard::domain::plan::compile(&spec);
    let mut seen = (0, 0);
    for r in &graph.resources {
        let problems = if r.id.contains("/backendServices/") {
            seen.0 += 1;
            compute.check_body("BackendService", "resource", &r.body, Strictness::Canonical)
        } else if r.id.contains("/services/") {
            seen.1 += 1;
            run.check_body(
                "GoogleCloudRunV2Service",
                "",
                &r.body,
                Strictness::Canonical,
            )
        } else {
            continue;
        };
        // Outlier detection's durations are compiled with int64 seconds as JSON numbers,
        // which Google's parser takes and the canonical check does not: not this test's topic.
        let problems: Vec<_> = problems
            .into_iter()
            .filter(|p| !p.field.starts_with("resource.outlierDetection."))
            .collect();
        assert!(problems.is_empty(), "{}: {problems:#?}", r.id);
    }
    let text = serde_json::to_string(&graph.resources).unwrap();
    for field in [
        "\"iap\"",
        "cdnPolicy",
        "logConfig",
        "iapEnabled",
        "defaultUriDisabled",
    ] {
        assert!(text.contains(field), "{field} is compiled");
    }
    assert!(seen.0 >= 2 && seen.1 >= 1, "{seen:?}");
}

/// A Prometheus peer standing in for Cloud Monitoring: it records each request and answers in
/// the upstream shape, one 503 first (to show the retry), a 400 `bad_data` for a query naming
/// `nonsense`, and otherwise a matrix with a NaN sample and an empty one in turn.
async fn prometheus_peer(
    State(state): State<(Log, Arc<Mutex<u32>>)>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> axum::response::Response {
    let body: Value = serde_json::from_slice(&body).unwrap();
    state.0.lock().unwrap().push(Recorded {
        method: method.to_string(),
        path: uri.path().trim_start_matches('/').to_string(),
        query: Vec::new(),
        body: Some(body.clone()),
    });
    let n = {
        let mut n = state.1.lock().unwrap();
        *n += 1;
        *n
    };
    let json = |status: u16, v: Value| {
        (
            axum::http::StatusCode::from_u16(status).unwrap(),
            [("content-type", "application/json")],
            v.to_string(),
        )
            .into_response()
    };
    if n == 1 {
        return json(
            503,
            json!({"error": {"code": 503, "message": "try again", "status": "UNAVAILABLE"}}),
        );
    }
    if body["query"].as_str().unwrap().contains("nonsense") {
        return json(
            400,
            json!({"status": "error", "errorType": "bad_data", "error": "1:1: parse error: unexpected identifier \"nonsense\""}),
        );
    }
    let result = if n % 2 == 0 {
        json!([{"metric": {"backend_target_name": "shop-bs", "backend_scope": "europe-west1"},
                "values": [[1764583200, "0.5"], [1764583260, "NaN"]]}])
    } else {
        json!([])
    };
    json(
        200,
        json!({"status": "success", "data": {"resultType": "matrix", "result": result}}),
    )
}

#[tokio::test]
async fn monitoring_queries_fit_the_discovery_document_and_answers_parse() {
    use switchyard::cloud::monitoring::{Range, promql};
    let log: Log = Arc::default();
    let app = axum::Router::new()
        .fallback(prometheus_peer)
        .with_state((log.clone(), Arc::new(Mutex::new(0u32))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut config = ClientConfig::new(&base, &base).with_monitoring(&base);
    config.retry = RetryPolicy::fast();
    let client = Client::new(config, Arc::new(switchyard::cloud::StaticToken("t".into()))).unwrap();
    let end = time::OffsetDateTime::from_unix_timestamp(1_764_583_300).unwrap();
    let range = Range::ending(end, std::time::Duration::from_secs(3600), 60);

    // The first call meets a 503 and is retried; the answer keeps its NaN.
    let traffic = client.lb_traffic(P, "shop-map", &range).await.unwrap();
    assert_eq!(traffic.rps.len(), 1);
    assert_eq!(traffic.rps[0].label("backend_scope"), "europe-west1");
    assert!(traffic.rps[0].samples[1].value.is_nan());
    assert!(
        traffic.error_ratio.is_empty(),
        "an empty result is no series"
    );
    assert_eq!(traffic.p95_ms[0].last().unwrap().value, 0.5);
    let w = promql::rate_window(range.step);
    for q in [
        promql::run_request_rate("shop", w),
        promql::run_error_ratio("shop", w),
        promql::run_latency("shop", 0.99, w),
        promql::run_instances("shop"),
    ] {
        client.query_range(P, &q, &range).await.unwrap();
    }
    let err = client.query_range(P, "nonsense", &range).await.unwrap_err();
    assert!(
        matches!(&err, switchyard::cloud::CloudError::Invalid { message, .. }
            if message.starts_with("bad_data: 1:1: parse error")),
        "{err:?}"
    );

    let doc = discovery::monitoring();
    let recorded = log.lock().unwrap().clone();
    assert_eq!(recorded.len(), 9);
    for r in &recorded {
        assert_eq!(
            check_request(doc, r).unwrap(),
            "monitoring.projects.location.prometheus.api.v1.query_range"
        );
        assert_eq!(
            r.path,
            format!("v1/projects/{P}/location/global/prometheus/api/v1/query_range")
        );
        let b = r.body.as_ref().unwrap();
        assert_eq!(b["start"], "2025-12-01T09:01:40Z");
        assert_eq!(b["end"], "2025-12-01T10:01:40Z");
        assert_eq!(b["step"], "60s");
    }
}
