use super::*;
use crate::domain::names;
use crate::domain::spec::{Protocol, Spec};
use serde_json::{Value, json};

fn spec(v: Value) -> Spec {
    serde_json::from_value(v).unwrap()
}

/// docs/contract.md §2: multi-region serverless backend plus a cross-project internet backend.
fn contract_example() -> Spec {
    spec(json!({
      "name": "shop", "project": "acme-edge",
      "frontend": { "protocol": "https", "domains": ["shop.example.com"], "ip": "static", "http_redirect": true },
      "backends": [
        { "name": "web", "type": "serverless", "service": "my-app",
          "regions": ["us-central1", "europe-west1", "asia-east1"], "cdn": false, "outlier_detection": true },
        { "name": "hello2", "type": "internet", "fqdn": "hello2-3qx7k2dz6a-uc.a.run.app",
          "port": 443, "host_header": "hello2-3qx7k2dz6a-uc.a.run.app" }
      ],
      "routing": {
        "default": { "backend": "web" },
        "rules": [ { "hosts": ["*"], "paths": ["/hello2", "/hello2/*"], "backend": "hello2", "prefix_rewrite": "/" } ]
      }
    }))
}

/// Seed 000: one Cloud Run service in one region behind HTTPS with CDN.
fn seed_single_region() -> Spec {
    spec(json!({
      "name": "global-app", "project": "my-project",
      "frontend": { "protocol": "https", "domains": ["your-domain.com"], "ip": "static" },
      "backends": [
        { "name": "run", "type": "serverless", "service": "my-global-app", "regions": ["us-central1"], "cdn": true }
      ],
      "routing": { "default": { "backend": "run" } }
    }))
}

/// Seed 001: three regions, traffic split between a stable and a canary service, plain HTTP.
fn seed_split() -> Spec {
    spec(json!({
      "name": "multi", "project": "my-project",
      "frontend": { "protocol": "http", "ip": "ephemeral" },
      "backends": [
        { "name": "stable", "type": "serverless", "service": "my-app",
          "regions": ["us-central1", "europe-west1", "asia-east1"], "outlier_detection": true },
        { "name": "canary", "type": "serverless", "service": "my-app-canary", "regions": ["us-central1"] }
      ],
      "routing": { "default": { "split": [ { "backend": "stable", "weight": 90 }, { "backend": "canary", "weight": 10 } ] } }
    }))
}

/// Seed 002: services in other projects reached through internet NEGs; two backends share one
/// origin (same fqdn and port) with different Host headers.
fn seed_cross_project() -> Spec {
    spec(json!({
      "name": "xproj", "project": "lb-project",
      "frontend": { "protocol": "https", "domains": ["api.example.com", "www.example.com"], "ip": "ephemeral", "http_redirect": true },
      "backends": [
        { "name": "a", "type": "internet", "fqdn": "svc-a-abc-ew.a.run.app", "port": 443 },
        { "name": "b", "type": "internet", "fqdn": "shared-lb.example.net", "port": 443, "host_header": "b.internal" },
        { "name": "c", "type": "internet", "fqdn": "shared-lb.example.net", "port": 443, "host_header": "c.internal" }
      ],
      "routing": {
        "default": { "backend": "a" },
        "rules": [
          { "hosts": ["api.example.com"], "paths": ["/b/*"], "backend": "b" },
          { "hosts": ["api.example.com"], "paths": ["/c/*"], "backend": "c", "prefix_rewrite": "/" }
        ]
      }
    }))
}

fn all_seeds() -> Vec<Spec> {
    vec![
        contract_example(),
        seed_single_region(),
        seed_split(),
        seed_cross_project(),
    ]
}

/// What `get` would return after our inserts: full links, output-only fields, int64 as
/// strings, the literal IP on forwarding rules and `443-443` port ranges.
fn as_server_returns(graph: &DesiredGraph) -> LiveState {
    fn fully_qualify(v: &mut Value) {
        match v {
            Value::String(s) if s.starts_with("projects/") => *s = full_url(s),
            Value::Array(a) => a.iter_mut().for_each(fully_qualify),
            Value::Object(o) => o.values_mut().for_each(fully_qualify),
            Value::Number(n) if n.is_u64() && n.as_u64() == Some(30) => {
                *v = Value::String("30".into())
            }
            _ => {}
        }
    }
    let mut live = LiveState::new();
    for r in &graph.resources {
        let mut v = r.body.clone();
        fully_qualify(&mut v);
        v["id"] = json!("1234567890");
        v["kind"] = json!("compute#whatever");
        v["selfLink"] = json!(full_url(&r.id));
        v["creationTimestamp"] = json!("2026-11-23T03:00:00.000-08:00");
        match r.kind {
            ResourceKind::BackendService | ResourceKind::UrlMap | ResourceKind::RedirectUrlMap => {
                v["fingerprint"] = json!("abc=");
            }
            ResourceKind::GlobalAddress => {
                v["address"] = json!("34.111.1.1");
                v["status"] = json!("IN_USE");
            }
            ResourceKind::GlobalForwardingRule => {
                if v.get("IPAddress").is_some() {
                    v["IPAddress"] = json!("34.111.1.1");
                } else {
                    v["IPAddress"] = json!("34.99.9.9");
                }
                let port = v["portRange"].as_str().unwrap().to_string();
                v["portRange"] = json!(format!("{port}-{port}"));
            }
            ResourceKind::InternetNeg => v["size"] = json!(1),
            ResourceKind::ServerlessNeg { ref region } => {
                v["size"] = json!(0);
                // The NEG's own project: a cross-project backend's is not the graph's.
                let project = r.id.split('/').nth(1).unwrap_or(&graph.project);
                v["region"] = json!(full_url(&format!("projects/{project}/regions/{region}")));
            }
            _ => {}
        }
        if let ResourceKind::BackendService = r.kind {
            for b in v["backends"].as_array_mut().unwrap() {
                b["balancingMode"] = json!("UTILIZATION");
                b["capacityScaler"] = json!(1);
            }
            v["sessionAffinity"] = json!("NONE");
            v["timeoutSec"] = json!(30);
        }
        live.insert(r.id.clone(), Some(v));
    }
    live
}

fn nothing_live(graph: &DesiredGraph) -> LiveState {
    graph
        .resources
        .iter()
        .map(|r| (r.id.clone(), None))
        .collect()
}

fn risk_kinds(plan: &Plan) -> Vec<&str> {
    plan.risks.iter().map(|r| r.kind.as_str()).collect()
}

#[test]
fn a_first_apply_and_an_unchanged_one_have_no_risks() {
    for s in all_seeds() {
        let graph = compile(&s);
        assert!(
            diff(&graph, &nothing_live(&graph)).risks.is_empty(),
            "{}",
            s.name
        );
        assert!(
            diff(&graph, &as_server_returns(&graph)).risks.is_empty(),
            "{}",
            s.name
        );
    }
}

#[test]
fn a_new_certificate_on_a_serving_proxy_is_a_risk() {
    let live = as_server_returns(&compile(&contract_example()));
    let mut s = contract_example();
    s.frontend.domains.push("www.example.com".into());
    let plan = diff(&compile(&s), &live);
    assert_eq!(risk_kinds(&plan), ["certificate_not_active"]);
    assert!(
        plan.risks[0]
            .message
            .contains("shop.example.com and www.example.com")
    );
}

#[test]
fn ip_changes_are_risks_both_ways() {
    let live = as_server_returns(&compile(&seed_single_region()));
    let mut s = seed_single_region();
    s.frontend.ip = crate::domain::spec::IpKind::Ephemeral;
    let plan = diff(&compile(&s), &live);
    assert_eq!(risk_kinds(&plan), ["ip_changes", "ip_changes"]);
    assert!(plan.risks.iter().any(|r| r.message.contains("34.111.1.1")));

    let live = as_server_returns(&compile(&seed_split()));
    let mut s = seed_split();
    s.frontend.ip = crate::domain::spec::IpKind::Static;
    let plan = diff(&compile(&s), &live);
    assert!(
        risk_kinds(&plan).contains(&"ip_changes"),
        "{:?}",
        plan.risks
    );
}

#[test]
fn changed_weights_removed_rules_and_backends_are_risks() {
    let live = as_server_returns(&compile(&seed_split()));
    let mut s = seed_split();
    s.routing.default = serde_json::from_value(json!({ "split": [
        { "backend": "stable", "weight": 50 }, { "backend": "canary", "weight": 50 } ] }))
    .unwrap();
    let plan = diff(&compile(&s), &live);
    assert_eq!(risk_kinds(&plan), ["weights_changed"]);
    assert!(
        plan.risks[0].message.contains("90/10 → 50/50"),
        "{}",
        plan.risks[0].message
    );

    let live = as_server_returns(&compile(&contract_example()));
    let mut s = contract_example();
    s.routing.rules.clear();
    s.backends.retain(|b| b.name != "hello2");
    let plan = diff(&compile(&s), &live);
    let kinds = risk_kinds(&plan);
    assert!(kinds.contains(&"route_removed"), "{kinds:?}");
    assert!(kinds.contains(&"backend_removed"), "{kinds:?}");
    assert!(
        plan.risks
            .iter()
            .any(|r| r.message.contains("rule /hello2/* is removed"))
    );
}

#[test]
fn deleting_a_cloud_run_service_is_a_risk() {
    let graph = compile(&seed_with_services(None));
    let mut live = as_server_returns(&graph);
    live_service(&graph, &mut live, true);
    let plan = destroy("my-app", "my-project", &live);
    let kinds = risk_kinds(&plan);
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "run_service_deleted")
            .count(),
        3
    );
    assert!(kinds.contains(&"ip_changes"));
}

fn summaries(plan: &Plan) -> Vec<String> {
    plan.entries
        .iter()
        .filter(|e| e.action != Action::Noop)
        .map(summary::summary)
        .collect()
}

#[test]
fn changes_are_said_in_words() {
    let live = as_server_returns(&compile(&seed_split()));
    let mut s = seed_split();
    s.routing.default = serde_json::from_value(json!({ "split": [
        { "backend": "stable", "weight": 50 }, { "backend": "canary", "weight": 50 } ] }))
    .unwrap();
    assert_eq!(
        summaries(&diff(&compile(&s), &live)),
        ["weights of the default route 90/10 → 50/50"]
    );

    let live = as_server_returns(&compile(&contract_example()));
    let mut s = contract_example();
    if let crate::domain::spec::BackendKind::Serverless { regions, .. } = &mut s.backends[0].kind {
        regions.push("us-east1".into());
    }
    s.routing.rules.clear();
    let words = summaries(&diff(&compile(&s), &live));
    assert!(
        words
            .iter()
            .any(|w| w.starts_with("creates serverless NEG") && w.ends_with("(us-east1)")),
        "{words:?}"
    );
    assert!(
        words
            .iter()
            .any(|w| w.starts_with("adds region us-east1 to backend")),
        "{words:?}"
    );
    assert!(
        words.iter().any(|w| w.contains("rule /hello2/* removed")),
        "{words:?}"
    );

    let graph = compile(&seed_with_services(None));
    let mut live = as_server_returns(&graph);
    live_service(&graph, &mut live, true);
    let mut s = seed_with_services(None);
    s.services[0].image = "us-docker.pkg.dev/cloudrun/container/hello:v2".into();
    let words = summaries(&diff(&compile(&s), &live));
    assert_eq!(words.len(), 3, "{words:?}");
    assert!(words[0].starts_with("image us-docker.pkg.dev/cloudrun/container/hello → us-docker.pkg.dev/cloudrun/container/hello:v2 in "), "{words:?}");
}

fn pos(steps: &[StepSpec], id: &str) -> usize {
    steps
        .iter()
        .position(|s| s.id == id)
        .unwrap_or_else(|| panic!("no step {id} in {:#?}", ids(steps)))
}

fn ids(steps: &[StepSpec]) -> Vec<&str> {
    steps.iter().map(|s| s.id.as_str()).collect()
}

/// Every step comes after all its dependencies, and ids are unique.
fn assert_ordered(steps: &[StepSpec]) {
    for (i, s) in steps.iter().enumerate() {
        for d in &s.depends_on {
            assert!(pos(steps, d) < i, "{} runs before its dependency {d}", s.id);
        }
        assert_eq!(steps.iter().filter(|t| t.id == s.id).count(), 1);
    }
}

/// True when `later` depends on `earlier`, directly or through other steps.
fn reaches(steps: &[StepSpec], later: &str, earlier: &str) -> bool {
    let step = &steps[pos(steps, later)];
    step.depends_on
        .iter()
        .any(|d| d == earlier || reaches(steps, d, earlier))
}

fn entry<'a>(plan: &'a Plan, id: &str) -> &'a PlanEntry {
    plan.entries
        .iter()
        .find(|e| e.resource == id)
        .unwrap_or_else(|| panic!("no plan entry for {id}"))
}

#[test]
fn contract_example_compiles_to_the_resources_it_needs() {
    let g = compile(&contract_example());
    let id = |kind: &ResourceKind, name: String| resource_path("acme-edge", kind, &name);
    let neg_us = id(
        &ResourceKind::ServerlessNeg {
            region: "us-central1".into(),
        },
        names::serverless_neg("shop", "web", "us-central1", "my-app"),
    );
    assert!(
        neg_us.starts_with(
            "projects/acme-edge/regions/us-central1/networkEndpointGroups/shop-web-us-central1-"
        ),
        "{neg_us}"
    );
    let neg = g.get(&neg_us).unwrap();
    assert_eq!(neg.scope, Scope::Region("us-central1".into()));
    assert_eq!(
        neg.body,
        json!({ "name": names::serverless_neg("shop", "web", "us-central1", "my-app"), "description": "switchyard:deployment=shop",
                "networkEndpointType": "SERVERLESS", "cloudRun": { "service": "my-app" } })
    );

    let ineg_name = names::internet_neg("shop", "hello2-3qx7k2dz6a-uc.a.run.app", 443);
    let ineg = g.get(&id(&ResourceKind::InternetNeg, ineg_name)).unwrap();
    assert_eq!(ineg.body["networkEndpointType"], "INTERNET_FQDN_PORT");
    assert_eq!(ineg.body["defaultPort"], 443);
    assert_eq!(
        ineg.endpoint,
        Some(NetworkEndpoint {
            fqdn: Some("hello2-3qx7k2dz6a-uc.a.run.app".into()),
            ip_address: None,
            port: 443
        })
    );

    let web = g
        .get("projects/acme-edge/global/backendServices/shop-bs-web")
        .unwrap();
    assert_eq!(web.body["loadBalancingScheme"], "EXTERNAL_MANAGED");
    assert_eq!(web.body["protocol"], "HTTPS");
    assert_eq!(web.body["enableCDN"], false);
    assert_eq!(web.body["backends"].as_array().unwrap().len(), 3);
    assert_eq!(
        web.body["backends"][0]["group"],
        format!("https://www.googleapis.com/compute/v1/{neg_us}")
    );
    assert!(web.body["outlierDetection"].is_object());
    assert!(web.body.get("customRequestHeaders").is_none());
    assert_eq!(web.depends_on.len(), 3);
    let hello = g
        .get("projects/acme-edge/global/backendServices/shop-bs-hello2")
        .unwrap();
    assert_eq!(
        hello.body["customRequestHeaders"],
        json!(["Host: hello2-3qx7k2dz6a-uc.a.run.app"])
    );
    for bs in [web, hello] {
        for forbidden in ["healthChecks", "timeoutSec", "portName"] {
            assert!(bs.body.get(forbidden).is_none());
        }
        for backend in bs.body["backends"].as_array().unwrap() {
            assert_eq!(backend.as_object().unwrap().len(), 1, "only `group`");
        }
    }

    let cert_name = names::certificate("shop", &["shop.example.com".into()]);
    let cert_id = id(&ResourceKind::SslCertificate, cert_name);
    let cert = g.get(&cert_id).unwrap();
    assert_eq!(cert.body["type"], "MANAGED");
    assert_eq!(cert.body["managed"]["domains"], json!(["shop.example.com"]));

    let proxy = g
        .get("projects/acme-edge/global/targetHttpsProxies/shop-https-proxy")
        .unwrap();
    assert_eq!(
        proxy.body["urlMap"],
        "projects/acme-edge/global/urlMaps/shop-urlmap"
    );
    assert_eq!(proxy.body["sslCertificates"], json!([cert_id]));

    let fr = g
        .get("projects/acme-edge/global/forwardingRules/shop-https-fr")
        .unwrap();
    assert_eq!(
        fr.body,
        json!({
            "name": "shop-https-fr", "description": "switchyard:deployment=shop",
            "IPAddress": "projects/acme-edge/global/addresses/shop-ip", "IPProtocol": "TCP",
            "portRange": "443", "loadBalancingScheme": "EXTERNAL_MANAGED",
            "target": "projects/acme-edge/global/targetHttpsProxies/shop-https-proxy",
            "networkTier": "PREMIUM"
        })
    );
    let address = g
        .get("projects/acme-edge/global/addresses/shop-ip")
        .unwrap();
    assert_eq!(address.body["ipVersion"], "IPV4");
    assert_eq!(address.body["addressType"], "EXTERNAL");

    let redirect = g
        .get("projects/acme-edge/global/urlMaps/shop-redirect")
        .unwrap();
    assert_eq!(redirect.body["defaultUrlRedirect"]["httpsRedirect"], true);
    let http_fr = g
        .get("projects/acme-edge/global/forwardingRules/shop-http-fr")
        .unwrap();
    assert_eq!(
        http_fr.body["target"],
        "projects/acme-edge/global/targetHttpProxies/shop-http-proxy"
    );
    assert_eq!(http_fr.body["portRange"], "80");

    let url_map = g
        .get("projects/acme-edge/global/urlMaps/shop-urlmap")
        .unwrap();
    assert_eq!(
        url_map.body["defaultService"],
        "projects/acme-edge/global/backendServices/shop-bs-web"
    );
    let rule = &url_map.body["pathMatchers"][0]["pathRules"][0];
    assert_eq!(rule["routeAction"]["urlRewrite"]["pathPrefixRewrite"], "/");

    // 3 serverless NEGs, 1 internet NEG, 2 backend services, 2 URL maps, cert, 2 proxies,
    // address, 2 forwarding rules.
    assert_eq!(g.resources.len(), 14);
    for r in &g.resources {
        assert_eq!(
            r.body["description"], "switchyard:deployment=shop",
            "{}",
            r.id
        );
        assert_eq!(r.body["name"], r.name.as_str());
        for dep in &r.depends_on {
            assert!(g.get(dep).is_some(), "{} depends on unknown {dep}", r.id);
        }
    }
}

#[test]
fn http_with_ephemeral_ip_has_no_certificate_address_or_redirect() {
    let g = compile(&seed_split());
    let kinds: Vec<&ResourceKind> = g.resources.iter().map(|r| &r.kind).collect();
    assert!(!kinds.contains(&&ResourceKind::SslCertificate));
    assert!(!kinds.contains(&&ResourceKind::GlobalAddress));
    assert!(!kinds.contains(&&ResourceKind::TargetHttpsProxy));
    assert!(!kinds.contains(&&ResourceKind::RedirectUrlMap));
    let fr = g
        .get("projects/my-project/global/forwardingRules/multi-http-fr")
        .unwrap();
    assert!(fr.body.get("IPAddress").is_none());
    assert_eq!(fr.body["portRange"], "80");
    assert_eq!(
        fr.body["target"],
        "projects/my-project/global/targetHttpProxies/multi-http-proxy"
    );
    let url_map = g
        .get("projects/my-project/global/urlMaps/multi-urlmap")
        .unwrap();
    let split = &url_map.body["defaultRouteAction"]["weightedBackendServices"];
    assert_eq!(split[0]["weight"], 90);
    assert_eq!(split[1]["weight"], 10);
    assert!(url_map.body.get("defaultService").is_none());
}

#[test]
fn backends_with_the_same_origin_share_one_internet_neg() {
    let g = compile(&seed_cross_project());
    let negs: Vec<&DesiredResource> = g
        .resources
        .iter()
        .filter(|r| r.kind == ResourceKind::InternetNeg)
        .collect();
    assert_eq!(negs.len(), 2);
    let b = g
        .get("projects/lb-project/global/backendServices/xproj-bs-b")
        .unwrap();
    let c = g
        .get("projects/lb-project/global/backendServices/xproj-bs-c")
        .unwrap();
    assert_eq!(b.body["backends"], c.body["backends"]);
    assert_eq!(b.body["customRequestHeaders"], json!(["Host: b.internal"]));
    assert_eq!(c.body["customRequestHeaders"], json!(["Host: c.internal"]));
    // The shared NEG is created and attached once.
    let plan = diff(&g, &nothing_live(&g));
    let steps = steps(&plan).unwrap();
    assert_ordered(&steps);
    assert_eq!(
        steps
            .iter()
            .filter(|s| s.id.ends_with(":attachNetworkEndpoints"))
            .count(),
        2
    );
}

#[test]
fn every_seed_creates_everything_in_dependency_order() {
    for spec in all_seeds() {
        let g = compile(&spec);
        let plan = diff(&g, &nothing_live(&g));
        assert!(plan.conflicts.is_empty() && plan.warnings.is_empty());
        assert!(plan.entries.iter().all(|e| e.action == Action::Create));
        let steps = steps(&plan).unwrap();
        assert_ordered(&steps);
        for r in &g.resources {
            let create = format!("create:{}", r.id);
            let step = &steps[pos(&steps, &create)];
            assert_eq!(step.call.verb, Verb::Post);
            assert_eq!(step.call.scope, r.scope);
            assert_eq!(step.call.body.as_ref(), Some(&r.body));
            assert_eq!(format!("{}/{}", step.call.path, r.name), r.id);
            for dep in &r.depends_on {
                assert!(
                    reaches(&steps, &create, &format!("create:{dep}")),
                    "{create} must wait for {dep}"
                );
            }
        }
    }
}

#[test]
fn independent_resources_have_no_dependencies_between_them() {
    let g = compile(&contract_example());
    let steps = steps(&diff(&g, &nothing_live(&g))).unwrap();
    // The three regional NEGs, the certificate and the address can all start at once.
    let roots: Vec<&str> = steps
        .iter()
        .filter(|s| s.depends_on.is_empty())
        .map(|s| s.id.as_str())
        .collect();
    assert!(roots.len() >= 6, "{roots:?}");
    assert!(roots.contains(&"create:projects/acme-edge/global/addresses/shop-ip"));
}

#[test]
fn nothing_to_do_when_live_matches_desired() {
    for spec in all_seeds() {
        let g = compile(&spec);
        let live = as_server_returns(&g);
        let plan = diff(&g, &live);
        for e in &plan.entries {
            assert_eq!(e.action, Action::Noop, "{}: {:#?}", e.resource, e.changes);
        }
        assert!(plan.is_noop());
        assert!(steps(&plan).unwrap().is_empty());
    }
}

#[test]
fn changed_certificate_domains_make_before_break() {
    let old = compile(&contract_example());
    let live = as_server_returns(&old);
    let mut spec = contract_example();
    spec.frontend.domains.push("www.shop.example.com".into());
    let new = compile(&spec);
    let plan = diff(&new, &live);

    let old_cert = resource_path(
        "acme-edge",
        &ResourceKind::SslCertificate,
        &names::certificate("shop", &["shop.example.com".into()]),
    );
    let new_cert = resource_path(
        "acme-edge",
        &ResourceKind::SslCertificate,
        &names::certificate("shop", &spec.frontend.domains),
    );
    let proxy = "projects/acme-edge/global/targetHttpsProxies/shop-https-proxy";
    assert_eq!(entry(&plan, &new_cert).action, Action::Create);
    assert_eq!(entry(&plan, &old_cert).action, Action::Delete);
    assert_eq!(
        entry(&plan, proxy).action,
        Action::Update {
            fields: vec!["sslCertificates".into()]
        }
    );
    let changed: Vec<&PlanEntry> = plan
        .entries
        .iter()
        .filter(|e| e.action != Action::Noop)
        .collect();
    assert_eq!(changed.len(), 3, "{changed:#?}");

    let steps = steps(&plan).unwrap();
    assert_ordered(&steps);
    let set = format!("update:{proxy}:setSslCertificates");
    let beside = format!("{set}:beside");
    let wait = format!("wait:{new_cert}");
    assert_eq!(
        ids(&steps),
        vec![
            format!("create:{new_cert}").as_str(),
            beside.as_str(),
            wait.as_str(),
            set.as_str(),
            format!("delete:{old_cert}").as_str()
        ]
    );
    // Both certificates serve while the new one provisions.
    let s = &steps[pos(&steps, &beside)];
    assert_eq!(
        s.call.path,
        "projects/acme-edge/targetHttpsProxies/shop-https-proxy/setSslCertificates"
    );
    assert_eq!(
        s.call.body,
        Some(json!({ "sslCertificates": [old_cert, new_cert] }))
    );
    let w = &steps[pos(&steps, &wait)];
    assert_eq!(w.action, StepAction::Wait);
    assert_eq!(
        (w.call.verb, w.call.path.as_str()),
        (Verb::Get, new_cert.as_str())
    );
    assert_eq!(w.depends_on, vec![beside.clone()]);
    // The old one is detached only after the wait, and deleted only after that.
    let s = &steps[pos(&steps, &set)];
    assert_eq!(s.call.body, Some(json!({ "sslCertificates": [new_cert] })));
    assert!(s.depends_on.contains(&wait));
    assert!(reaches(&steps, &format!("delete:{old_cert}"), &set));
    assert!(!reaches(&steps, &beside, &format!("delete:{old_cert}")));
}

#[test]
fn moving_http_to_https_redirects_only_once_the_certificate_is_active() {
    let mut http = contract_example();
    http.frontend.protocol = Protocol::Http;
    http.frontend.http_redirect = false;
    let live = as_server_returns(&compile(&http));
    let plan = diff(&compile(&contract_example()), &live);
    let steps = steps(&plan).unwrap();
    assert_ordered(&steps);

    let cert = resource_path(
        "acme-edge",
        &ResourceKind::SslCertificate,
        &names::certificate("shop", &["shop.example.com".into()]),
    );
    let wait = format!("wait:{cert}");
    let redirect = "update:projects/acme-edge/global/targetHttpProxies/shop-http-proxy:setUrlMap";
    assert!(reaches(&steps, redirect, &wait), "{:#?}", ids(&steps));
    assert!(reaches(
        &steps,
        &wait,
        "create:projects/acme-edge/global/forwardingRules/shop-https-fr"
    ));
}

#[test]
fn a_first_https_apply_does_not_wait_for_its_certificate() {
    let plan = diff(&compile(&contract_example()), &LiveState::new());
    let steps = steps(&plan).unwrap();
    assert!(steps.iter().all(|s| s.action != StepAction::Wait));
}

#[test]
fn a_resource_owned_by_someone_else_stops_the_plan() {
    let g = compile(&contract_example());
    let mut live = nothing_live(&g);
    let url_map = "projects/acme-edge/global/urlMaps/shop-urlmap";
    live.insert(
        url_map.into(),
        Some(json!({ "name": "shop-urlmap", "description": "switchyard:deployment=shopfront" })),
    );
    let proxy = "projects/acme-edge/global/targetHttpsProxies/shop-https-proxy";
    live.insert(
        proxy.into(),
        Some(json!({ "name": "shop-https-proxy", "description": "made by hand" })),
    );
    let plan = diff(&g, &live);
    assert!(plan.is_blocked());
    assert_eq!(plan.conflicts.len(), 2);
    assert_eq!(plan.conflicts[0].resource, url_map);
    assert!(plan.conflicts[0].owner.contains("'shopfront'"));
    assert!(plan.conflicts[0].message.contains(url_map));
    assert!(plan.conflicts[1].owner.contains("no owner marker"));
    match steps(&plan) {
        Err(PlanError::Conflicts(c)) => assert_eq!(c.len(), 2),
        other => panic!("expected conflicts, got {other:?}"),
    }
}

#[test]
fn destroy_deletes_what_the_deployment_owns_in_reverse_order() {
    let g = compile(&contract_example());
    let mut live = as_server_returns(&g);
    // Shares the name prefix but not the owner: left alone.
    live.insert(
        "projects/acme-edge/global/backendServices/shop-bs-legacy".into(),
        Some(json!({ "description": "hand-made" })),
    );
    let plan = destroy("shop", "acme-edge", &live);
    assert_eq!(plan.entries.len(), g.resources.len());
    assert!(plan.entries.iter().all(|e| e.action == Action::Delete));
    assert_eq!(plan.warnings.len(), 1);
    assert!(plan.warnings[0].contains("shop-bs-legacy"));
    let steps = steps(&plan).unwrap();
    assert_ordered(&steps);
    assert!(steps.iter().all(|s| s.call.verb == Verb::Delete));
    let d = |id: &str| format!("delete:projects/acme-edge/{id}");
    let chains = [
        (
            "global/forwardingRules/shop-https-fr",
            "global/targetHttpsProxies/shop-https-proxy",
        ),
        (
            "global/forwardingRules/shop-http-fr",
            "global/targetHttpProxies/shop-http-proxy",
        ),
        (
            "global/forwardingRules/shop-https-fr",
            "global/addresses/shop-ip",
        ),
        (
            "global/forwardingRules/shop-http-fr",
            "global/addresses/shop-ip",
        ),
        (
            "global/targetHttpsProxies/shop-https-proxy",
            "global/urlMaps/shop-urlmap",
        ),
        (
            "global/targetHttpProxies/shop-http-proxy",
            "global/urlMaps/shop-redirect",
        ),
        (
            "global/urlMaps/shop-urlmap",
            "global/backendServices/shop-bs-web",
        ),
        (
            "global/urlMaps/shop-urlmap",
            "global/backendServices/shop-bs-hello2",
        ),
        (
            "global/backendServices/shop-bs-web",
            &format!(
                "regions/europe-west1/networkEndpointGroups/{}",
                names::serverless_neg("shop", "web", "europe-west1", "my-app")
            ),
        ),
    ];
    for (first, then) in chains {
        assert!(
            reaches(&steps, &d(then), &d(first)),
            "{then} must wait for {first}"
        );
    }
    let cert = steps
        .iter()
        .find(|s| s.resource.contains("/sslCertificates/"))
        .unwrap();
    assert!(reaches(
        &steps,
        &cert.id,
        &d("global/targetHttpsProxies/shop-https-proxy")
    ));
    // Regional NEGs are deleted in their region's scope.
    let neg = &steps[pos(
        &steps,
        &d(&format!(
            "regions/asia-east1/networkEndpointGroups/{}",
            names::serverless_neg("shop", "web", "asia-east1", "my-app")
        )),
    )];
    assert_eq!(neg.call.scope, Scope::Region("asia-east1".into()));
}

#[test]
fn a_removed_backend_is_deleted_after_the_url_map_stops_using_it() {
    let old = compile(&contract_example());
    let live = as_server_returns(&old);
    let mut spec = contract_example();
    spec.backends.retain(|b| b.name != "hello2");
    spec.routing.rules.clear();
    let plan = diff(&compile(&spec), &live);
    let url_map = "projects/acme-edge/global/urlMaps/shop-urlmap";
    match &entry(&plan, url_map).action {
        Action::Update { fields } => {
            assert!(fields.contains(&"hostRules".to_string()));
            assert!(fields.contains(&"pathMatchers".to_string()));
        }
        other => panic!("{other:?}"),
    }
    let steps = steps(&plan).unwrap();
    assert_ordered(&steps);
    let update = format!("update:{url_map}");
    let put = &steps[pos(&steps, &update)];
    assert_eq!(put.call.verb, Verb::Put);
    assert!(put.call.needs_fingerprint);
    let bs = "delete:projects/acme-edge/global/backendServices/shop-bs-hello2";
    assert!(reaches(&steps, bs, &update));
    let neg = steps
        .iter()
        .find(|s| {
            s.action == StepAction::Delete
                && s.resource.contains("/networkEndpointGroups/shop-ineg-")
        })
        .unwrap();
    assert!(reaches(&steps, &neg.id, bs));
    assert_eq!(steps.len(), 3);
}

#[test]
fn backend_settings_are_updated_in_place() {
    let live = as_server_returns(&compile(&contract_example()));
    let mut spec = contract_example();
    spec.backends[0].cdn = true;
    spec.backends[0].outlier_detection = false;
    let plan = diff(&compile(&spec), &live);
    let bs = "projects/acme-edge/global/backendServices/shop-bs-web";
    let e = entry(&plan, bs);
    assert_eq!(
        e.action,
        Action::Update {
            fields: vec!["enableCDN".into(), "outlierDetection".into()]
        }
    );
    assert_eq!(e.changes[0].live, json!(false));
    assert_eq!(e.changes[0].desired, json!(true));
    let steps = steps(&plan).unwrap();
    assert_eq!(ids(&steps), vec![format!("update:{bs}").as_str()]);
}

#[test]
fn a_changed_cloud_run_service_gets_new_negs_before_the_old_ones_go() {
    let live = as_server_returns(&compile(&seed_single_region()));
    let mut spec = seed_single_region();
    if let crate::domain::spec::BackendKind::Serverless { service, .. } = &mut spec.backends[0].kind
    {
        *service = "my-global-app-v2".into();
    }
    let plan = diff(&compile(&spec), &live);
    let neg = |service: &str| {
        format!(
            "projects/my-project/regions/us-central1/networkEndpointGroups/{}",
            names::serverless_neg("global-app", "run", "us-central1", service)
        )
    };
    let (old, new) = (neg("my-global-app"), neg("my-global-app-v2"));
    let bs = "projects/my-project/global/backendServices/global-app-bs-run";
    assert_eq!(entry(&plan, &new).action, Action::Create);
    assert!(matches!(entry(&plan, bs).action, Action::Update { .. }));
    assert_eq!(entry(&plan, &old).action, Action::Delete);

    // Make-before-break: the backend service moves to the new NEG, then the old one goes; the
    // backend service always has a NEG to send traffic to.
    let steps = steps(&plan).unwrap();
    assert_ordered(&steps);
    assert!(reaches(
        &steps,
        &format!("update:{bs}"),
        &format!("create:{new}")
    ));
    assert!(reaches(
        &steps,
        &format!("delete:{old}"),
        &format!("update:{bs}")
    ));
    let update = steps
        .iter()
        .find(|s| s.id == format!("update:{bs}"))
        .unwrap();
    let groups = update.call.body.as_ref().unwrap()["backends"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(groups.len(), 1);
    assert!(
        groups[0]["group"]
            .as_str()
            .unwrap()
            .ends_with(&new[new.rfind('/').unwrap()..])
    );
}

#[test]
fn going_ephemeral_replaces_the_forwarding_rule_before_releasing_the_address() {
    let live = as_server_returns(&compile(&seed_single_region()));
    let mut spec = seed_single_region();
    spec.frontend.ip = crate::domain::spec::IpKind::Ephemeral;
    let plan = diff(&compile(&spec), &live);
    let fr = "projects/my-project/global/forwardingRules/global-app-https-fr";
    let address = "projects/my-project/global/addresses/global-app-ip";
    assert!(matches!(entry(&plan, fr).action, Action::Replace { .. }));
    assert_eq!(entry(&plan, address).action, Action::Delete);
    let steps = steps(&plan).unwrap();
    assert_ordered(&steps);
    assert!(reaches(
        &steps,
        &format!("delete:{address}"),
        &format!("delete:{fr}")
    ));
    assert!(reaches(
        &steps,
        &format!("create:{fr}"),
        &format!("delete:{fr}")
    ));
    assert_eq!(steps.len(), 3);
}

#[test]
fn a_missing_internet_endpoint_is_attached() {
    let g = compile(&seed_cross_project());
    let mut live = as_server_returns(&g);
    let neg = g
        .resources
        .iter()
        .find(|r| r.kind == ResourceKind::InternetNeg)
        .unwrap();
    live.get_mut(&neg.id).unwrap().as_mut().unwrap()["size"] = json!(0);
    let plan = diff(&g, &live);
    assert_eq!(
        entry(&plan, &neg.id).action,
        Action::Update {
            fields: vec!["networkEndpoints".into()]
        }
    );
    let steps = steps(&plan).unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(
        steps[0].call.path,
        format!("{}/attachNetworkEndpoints", neg.id)
    );
}

#[test]
fn a_new_proxy_target_is_set_in_place() {
    let g = compile(&contract_example());
    let mut live = as_server_returns(&g);
    let fr = "projects/acme-edge/global/forwardingRules/shop-https-fr";
    live.get_mut(fr).unwrap().as_mut().unwrap()["target"] = json!(
        "https://www.googleapis.com/compute/v1/projects/acme-edge/global/targetHttpsProxies/old"
    );
    let plan = diff(&g, &live);
    assert_eq!(
        entry(&plan, fr).action,
        Action::Update {
            fields: vec!["target".into()]
        }
    );
    let steps = steps(&plan).unwrap();
    assert_eq!(steps[0].call.path, format!("{fr}/setTarget"));
}

#[test]
fn links_compare_by_path_and_owner_markers_by_token() {
    assert_eq!(
        link_path("https://www.googleapis.com/compute/v1/projects/p/global/urlMaps/u"),
        "projects/p/global/urlMaps/u"
    );
    assert_eq!(
        link_path("http://127.0.0.1:9/compute/v1/projects/p/global/urlMaps/u"),
        "projects/p/global/urlMaps/u"
    );
    assert!(diff::is_owned(
        &json!({"description": "switchyard:deployment=shop"}),
        "shop"
    ));
    assert!(!diff::is_owned(
        &json!({"description": "switchyard:deployment=shop2"}),
        "shop"
    ));
    assert!(!diff::is_owned(&json!({}), "shop"));
    assert!(diff::subset_eq(
        &json!({"a": {"seconds": 30}}),
        &json!({"a": {"seconds": "30", "nanos": 0}, "b": 1})
    ));
    assert!(!diff::subset_eq(&json!({"a": [1, 2]}), &json!({"a": [1]})));
}

#[test]
fn resources_of_a_deployment_sharing_our_prefix_are_ignored_quietly() {
    let g = compile(&seed_single_region());
    let mut live = as_server_returns(&g);
    live.insert(
        "projects/my-project/global/urlMaps/global-app-eu-urlmap".into(),
        Some(json!({ "description": "switchyard:deployment=global-app-eu" })),
    );
    let plan = diff(&g, &live);
    assert!(plan.is_noop());
    assert!(plan.warnings.is_empty());
}

#[test]
fn the_api_shape_lists_actions_with_their_diff() {
    let live = as_server_returns(&compile(&contract_example()));
    let mut spec = contract_example();
    spec.backends[0].cdn = true;
    let json = diff(&compile(&spec), &live).api_json();
    let actions = json["actions"].as_array().unwrap();
    let update = actions.iter().find(|a| a["action"] == "update").unwrap();
    assert_eq!(
        update["resource"],
        "projects/acme-edge/global/backendServices/shop-bs-web"
    );
    assert_eq!(update["diff"]["changes"][0]["field"], "enableCDN");
    assert_eq!(update["diff"]["changes"][0]["desired"], true);
    assert!(actions.iter().filter(|a| a["action"] == "noop").count() > 10);
}

/// Seed 001 with its services: `my-app` deployed to three regions, canary region europe-west1.
fn seed_with_services(canary: Option<&str>) -> Spec {
    let mut v = json!({
      "name": "my-app", "project": "my-project",
      "frontend": { "protocol": "https", "domains": ["app.example.com"] },
      "backends": [
        { "name": "my-app", "type": "serverless", "service": "my-app",
          "regions": ["us-central1", "europe-west1", "asia-east1"], "outlier_detection": true }
      ],
      "routing": { "default": { "backend": "my-app" } },
      "services": [
        { "name": "my-app", "image": "us-docker.pkg.dev/cloudrun/container/hello",
          "regions": ["us-central1", "europe-west1", "asia-east1"], "min_instances": 1,
          "env": { "MODE": "prod" } }
      ]
    });
    if let Some(c) = canary {
        v["rollout"] = json!({ "canary_region": c });
    }
    spec(v)
}

fn run_id(region: &str) -> String {
    format!("projects/my-project/locations/{region}/services/my-app")
}

/// A live service as Cloud Run returns it: the body plus output fields, the server's spelling
/// of cpu, and the IAM policy the live reader puts beside it.
fn live_service(graph: &DesiredGraph, live: &mut LiveState, public: bool) {
    for r in &graph.resources {
        if !matches!(r.kind, ResourceKind::RunService { .. }) {
            continue;
        }
        let mut v = r.body.clone();
        v["template"]["containers"][0]["resources"]["limits"]["cpu"] = json!("1000m");
        v["uri"] = json!("https://my-app-abc-uc.a.run.app");
        v["latestReadyRevision"] = json!("my-app-00001-abc");
        v["generation"] = json!("1");
        v["iamPolicy"] = if public {
            json!({ "etag": "BwX", "bindings": [{ "role": "roles/run.invoker", "members": ["allUsers"] }] })
        } else {
            json!({ "etag": "BwX" })
        };
        live.insert(r.id.clone(), Some(v));
    }
}

#[test]
fn services_deploy_per_region_before_their_negs_with_iam_after_each() {
    let graph = compile(&seed_with_services(None));
    let svc = graph.get(&run_id("asia-east1")).unwrap();
    assert_eq!(
        svc.body["template"]["containers"][0]["image"],
        "us-docker.pkg.dev/cloudrun/container/hello"
    );
    assert_eq!(svc.body["template"]["scaling"]["minInstanceCount"], 1);
    assert_eq!(svc.body["template"]["scaling"]["maxInstanceCount"], 100);
    assert_eq!(svc.body["template"]["maxInstanceRequestConcurrency"], 80);
    assert_eq!(
        svc.body["template"]["containers"][0]["resources"]["cpuIdle"],
        true
    );
    assert_eq!(
        svc.body["template"]["containers"][0]["env"],
        json!([{ "name": "MODE", "value": "prod" }])
    );
    assert_eq!(
        svc.body["ingress"],
        "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    );
    assert_eq!(svc.body["labels"]["managed-by"], "switchyard");
    assert_eq!(svc.body["description"], names::owner_marker("my-app"));

    let plan = diff(&graph, &nothing_live(&graph));
    let steps = steps(&plan).unwrap();
    assert_ordered(&steps);
    for r in ["us-central1", "europe-west1", "asia-east1"] {
        let deploy = format!("create:{}", run_id(r));
        let s = &steps[pos(&steps, &deploy)];
        assert_eq!(s.call.api, Api::Run);
        assert_eq!(s.call.verb, Verb::Patch);
        assert_eq!(s.call.path, format!("{}?allowMissing=true", run_id(r)));
        // Regions deploy in parallel without a canary.
        assert!(s.depends_on.is_empty(), "{deploy}: {:?}", s.depends_on);
        let iam = format!("update:{}:setIamPolicy", run_id(r));
        assert!(reaches(&steps, &iam, &deploy));
        assert_eq!(
            steps[pos(&steps, &iam)].call.body.as_ref().unwrap()["present"],
            true
        );
        let neg = format!(
            "create:projects/my-project/regions/{r}/networkEndpointGroups/{}",
            names::serverless_neg("my-app", "my-app", r, "my-app")
        );
        assert!(reaches(&steps, &neg, &deploy), "{neg} waits for {deploy}");
    }
}

#[test]
fn a_canary_region_deploys_first_and_the_others_wait_for_it() {
    let graph = compile(&seed_with_services(Some("europe-west1")));
    let plan = diff(&graph, &nothing_live(&graph));
    let steps = steps(&plan).unwrap();
    let canary = format!("create:{}", run_id("europe-west1"));
    assert!(steps[pos(&steps, &canary)].depends_on.is_empty());
    for r in ["us-central1", "asia-east1"] {
        let deploy = format!("create:{}", run_id(r));
        assert_eq!(steps[pos(&steps, &deploy)].depends_on, vec![canary.clone()]);
    }
}

#[test]
fn a_gated_canary_holds_its_new_revision_before_the_other_regions_and_can_put_it_back() {
    let gated = |image: &str| {
        let mut v = serde_json::to_value(seed_with_services(Some("asia-east1"))).unwrap();
        v["services"][0]["image"] = json!(image);
        v["rollout"] = json!({"canary_region": "asia-east1", "soak_seconds": 300,
                              "max_error_ratio": 0.05, "max_p95_ms": 800});
        spec(v)
    };
    let applied = gated("us-docker.pkg.dev/cloudrun/container/hello");
    let mut live = as_server_returns(&compile(&applied));
    live_service(&compile(&applied), &mut live, true);

    let draft = gated("us-docker.pkg.dev/cloudrun/container/hello:v2");
    let mut plan = diff(&compile(&draft), &live);
    plan.canary = crate::domain::rollout::CanaryGate::of(&draft);
    let steps = steps(&plan).unwrap();
    assert_ordered(&steps);
    let deploy = format!("update:{}", run_id("asia-east1"));
    let soak = format!("soak:{}:canary", run_id("asia-east1"));
    let s = &steps[pos(&steps, &soak)];
    assert_eq!(s.action, StepAction::Soak);
    assert_eq!(s.depends_on, vec![deploy.clone()]);
    assert_eq!((s.call.api, s.call.verb), (Api::Run, Verb::Patch));
    let stage: crate::domain::rollout::StageCall =
        serde_json::from_value(s.call.body.clone().unwrap()).unwrap();
    assert_eq!(stage.canary_region.as_deref(), Some("asia-east1"));
    assert_eq!(stage.backend_services, ["my-app-bs-my-app"]);
    assert_eq!(stage.gate.soak_seconds, 300);
    // Its rollback is the service as it is: the previous image, the rest of the new body.
    assert_eq!(
        stage.rollback["template"]["containers"][0]["image"],
        "us-docker.pkg.dev/cloudrun/container/hello"
    );
    assert_eq!(stage.rollback["name"], run_id("asia-east1"));
    // The other regions wait for the soak, not only for the deploy.
    for r in ["us-central1", "europe-west1"] {
        let other = &steps[pos(&steps, &format!("update:{}", run_id(r)))];
        assert!(
            other.depends_on.contains(&soak),
            "{r}: {:?}",
            other.depends_on
        );
    }
    // The plan says so, for the review.
    let json = plan.api_json();
    assert_eq!(json["canary"][0]["region"], "asia-east1");
    assert_eq!(json["canary"][0]["judged_backends"], json!(["my-app"]));

    // No gate, a first deploy, or a change of who may invoke only: nothing is held.
    let mut ungated = plan.clone();
    ungated.canary = None;
    assert!(
        !ids(&super::steps(&ungated).unwrap())
            .iter()
            .any(|i| i.starts_with("soak:"))
    );
    let mut first = diff(&compile(&draft), &nothing_live(&compile(&draft)));
    first.canary = crate::domain::rollout::CanaryGate::of(&draft);
    assert!(
        !ids(&super::steps(&first).unwrap())
            .iter()
            .any(|i| i.starts_with("soak:"))
    );
    let mut private = serde_json::to_value(&applied).unwrap();
    private["services"][0]["allow_unauthenticated"] = json!(false);
    let private: Spec = serde_json::from_value(private).unwrap();
    let mut iam_only = diff(&compile(&private), &live);
    iam_only.canary = crate::domain::rollout::CanaryGate::of(&private);
    assert!(
        !ids(&super::steps(&iam_only).unwrap())
            .iter()
            .any(|i| i.starts_with("soak:"))
    );
}

#[test]
fn a_deployed_service_is_a_noop_and_a_new_image_an_update_in_words() {
    let spec = seed_with_services(Some("us-central1"));
    let graph = compile(&spec);
    let mut live = as_server_returns(&graph);
    live_service(&graph, &mut live, true);
    let plan = diff(&graph, &live);
    for r in ["us-central1", "europe-west1", "asia-east1"] {
        assert_eq!(entry(&plan, &run_id(r)).action, Action::Noop, "{r}");
    }

    let mut v = serde_json::to_value(&spec).unwrap();
    v["services"][0]["image"] = json!("us-docker.pkg.dev/cloudrun/container/hello:v2");
    v["services"][0]["min_instances"] = json!(2);
    let changed = compile(&serde_json::from_value(v).unwrap());
    let plan = diff(&changed, &live);
    let e = entry(&plan, &run_id("asia-east1"));
    assert_eq!(
        e.action,
        Action::Update {
            fields: vec!["image".into(), "min instances".into()]
        }
    );
    assert_eq!(
        e.changes[0].live,
        "us-docker.pkg.dev/cloudrun/container/hello"
    );
    assert_eq!(e.changes[1].live, 1);
    assert_eq!(e.changes[1].desired, 2);
    let steps = steps(&plan).unwrap();
    // The update is the upsert again, no IAM call (the binding is already right); the others
    // wait for the canary's update.
    let canary = format!("update:{}", run_id("us-central1"));
    assert_eq!(
        steps[pos(&steps, &format!("update:{}", run_id("asia-east1")))].depends_on,
        vec![canary]
    );
    assert!(!ids(&steps).iter().any(|i| i.ends_with(":setIamPolicy")));
    assert!(
        !ids(&steps)
            .iter()
            .any(|i| i.contains("networkEndpointGroups"))
    );
}

#[test]
fn only_public_access_changing_is_an_iam_step_alone() {
    let graph = compile(&seed_with_services(None));
    let mut live = as_server_returns(&graph);
    live_service(&graph, &mut live, false);
    let plan = diff(&graph, &live);
    let steps = steps(&plan).unwrap();
    for r in ["us-central1", "europe-west1", "asia-east1"] {
        assert!(pos(&steps, &format!("update:{}:setIamPolicy", run_id(r))) < steps.len());
        assert!(!ids(&steps).contains(&format!("update:{}", run_id(r)).as_str()));
    }
}

#[test]
fn destroying_services_deletes_them_after_their_negs() {
    let graph = compile(&seed_with_services(None));
    let mut live = as_server_returns(&graph);
    live_service(&graph, &mut live, true);
    let plan = destroy("my-app", "my-project", &live);
    let steps = steps(&plan).unwrap();
    assert_ordered(&steps);
    for r in ["us-central1", "europe-west1", "asia-east1"] {
        let del = format!("delete:{}", run_id(r));
        let s = &steps[pos(&steps, &del)];
        assert_eq!(s.call.api, Api::Run);
        assert_eq!(s.call.verb, Verb::Delete);
        let neg = format!(
            "delete:projects/my-project/regions/{r}/networkEndpointGroups/{}",
            names::serverless_neg("my-app", "my-app", r, "my-app")
        );
        assert!(reaches(&steps, &del, &neg), "{del} after {neg}");
    }
}

#[test]
fn stored_compute_calls_without_api_still_read() {
    let call: Call = serde_json::from_value(json!({
        "verb": "POST", "path": "projects/p/global/urlMaps", "body": null,
        "scope": { "type": "global" }, "needs_fingerprint": false
    }))
    .unwrap();
    assert_eq!(call.api, Api::Compute);
    assert!(serde_json::to_value(&call).unwrap().get("api").is_none());
}

/// Seed 001's service with a plain value and two Secret Manager references.
fn seed_with_secrets() -> Spec {
    let mut v = serde_json::to_value(seed_with_services(None)).unwrap();
    v["services"][0]["env"] = json!([
        { "name": "MODE", "value": "prod" },
        { "name": "DB_PASS", "secret": "db-pass", "version": "3" },
        { "name": "API_KEY", "secret": "projects/other-proj/secrets/api-key" }
    ]);
    serde_json::from_value(v).unwrap()
}

#[test]
fn secret_references_compile_to_value_source_and_replan_as_noop() {
    let graph = compile(&seed_with_secrets());
    let svc = graph.get(&run_id("us-central1")).unwrap();
    assert_eq!(
        svc.body["template"]["containers"][0]["env"],
        json!([
            { "name": "MODE", "value": "prod" },
            { "name": "DB_PASS",
              "valueSource": { "secretKeyRef": { "secret": "db-pass", "version": "3" } } },
            { "name": "API_KEY",
              "valueSource": { "secretKeyRef": {
                  "secret": "projects/other-proj/secrets/api-key", "version": "latest" } } }
        ])
    );
    // Cloud Run gives the references back as sent: nothing to do on the next plan, and the
    // order of the variables is no change either.
    let mut live = as_server_returns(&graph);
    live_service(&graph, &mut live, true);
    for (_, v) in live.iter_mut() {
        if let Some(env) = v
            .as_mut()
            .and_then(|v| v.pointer_mut("/template/containers/0/env"))
            .and_then(Value::as_array_mut)
        {
            env.reverse();
        }
    }
    let plan = diff(&graph, &live);
    for r in ["us-central1", "europe-west1", "asia-east1"] {
        assert_eq!(entry(&plan, &run_id(r)).action, Action::Noop, "{r}");
    }

    // A new version of one secret, and a plain value moved to Secret Manager: an update whose
    // change is in the spec's own terms and whose summary names the variables only.
    let mut v = serde_json::to_value(seed_with_secrets()).unwrap();
    v["services"][0]["env"][0] = json!({ "name": "MODE", "secret": "mode", "version": "latest" });
    v["services"][0]["env"][1]["version"] = json!("4");
    let changed = compile(&serde_json::from_value(v).unwrap());
    let plan = diff(&changed, &live);
    let e = entry(&plan, &run_id("asia-east1"));
    assert_eq!(
        e.action,
        Action::Update {
            fields: vec!["env".into()]
        }
    );
    assert_eq!(
        e.changes[0].live,
        json!([
            { "name": "API_KEY", "secret": "projects/other-proj/secrets/api-key", "version": "latest" },
            { "name": "DB_PASS", "secret": "db-pass", "version": "3" },
            { "name": "MODE", "value": "prod" }
        ])
    );
    assert_eq!(
        e.changes[0].desired[2],
        json!({ "name": "MODE", "secret": "mode", "version": "latest" })
    );
    assert_eq!(
        summary::summary(e),
        "environment of Cloud Run service my-app in asia-east1: changes DB_PASS, MODE"
    );
}

#[test]
fn env_summaries_never_quote_values() {
    let graph = compile(&seed_with_services(None));
    let mut live = as_server_returns(&graph);
    live_service(&graph, &mut live, true);
    let mut v = serde_json::to_value(seed_with_services(None)).unwrap();
    v["services"][0]["env"] = json!({ "MODE": "s3cr3t-new", "DB_PASS": "s3cr3t-added" });
    let plan = diff(&compile(&serde_json::from_value(v).unwrap()), &live);
    let e = entry(&plan, &run_id("us-central1"));
    let words = summary::summary(e);
    assert_eq!(
        words,
        "environment of Cloud Run service my-app in us-central1: sets DB_PASS; changes MODE"
    );
    assert!(
        !plan.api_json()["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["summary"].as_str().unwrap_or_default().contains("s3cr3t"))
    );
}

/// Seed 002's second design: a front load balancer whose internet NEG points at a back one.
fn front(endpoint: Value) -> Spec {
    let mut backend = json!({ "name": "multi", "type": "internet" });
    backend
        .as_object_mut()
        .unwrap()
        .extend(endpoint.as_object().unwrap().clone());
    spec(json!({
      "name": "front-lb", "project": "front-project",
      "frontend": { "protocol": "http", "ip": "static" },
      "backends": [ backend ],
      "routing": { "default": { "backend": "multi" } }
    }))
}

#[test]
fn an_ip_backend_is_an_internet_ip_port_neg_with_its_address_attached() {
    let s = front(json!({ "ip": "34.120.1.2" }));
    let g = compile(&s);
    let neg_name = names::internet_neg("front-lb", "34.120.1.2", 443);
    let neg = g
        .get(&resource_path(
            "front-project",
            &ResourceKind::InternetNeg,
            &neg_name,
        ))
        .unwrap();
    assert_eq!(neg.body["networkEndpointType"], "INTERNET_IP_PORT");
    assert_eq!(neg.body["defaultPort"], 443);
    let endpoint = neg.endpoint.clone().unwrap();
    assert_eq!(
        endpoint.api_json(),
        json!({ "ipAddress": "34.120.1.2", "port": 443 })
    );
    // No name to send: the client's Host goes on to the other load balancer.
    let bs = g
        .get("projects/front-project/global/backendServices/front-lb-bs-multi")
        .unwrap();
    assert!(bs.body.get("customRequestHeaders").is_none(), "{}", bs.body);
    assert_eq!(bs.body["protocol"], "HTTPS");
    // The attach call sends the address as Compute's `ipAddress`.
    let plan = diff(&g, &nothing_live(&g));
    let steps = steps(&plan).unwrap();
    let attach = steps
        .iter()
        .find(|s| s.id.ends_with(":attachNetworkEndpoints"))
        .unwrap();
    assert_eq!(
        attach.call.body.as_ref().unwrap()["networkEndpoints"],
        json!([{ "ipAddress": "34.120.1.2", "port": 443 }])
    );
    // With a Host override, it is sent.
    let with_host = compile(&front(
        json!({ "ip": "34.120.1.2", "host_header": "app.example.com" }),
    ));
    let bs = with_host
        .get("projects/front-project/global/backendServices/front-lb-bs-multi")
        .unwrap();
    assert_eq!(
        bs.body["customRequestHeaders"],
        json!(["Host: app.example.com"])
    );
}

fn hop(fqdn: Option<&str>, ip: Option<&str>, protocol: Protocol) -> crate::domain::chain::Hop {
    crate::domain::chain::Hop {
        backend: "multi".into(),
        deployment: "multi-lb".into(),
        fqdn: fqdn.map(str::to_string),
        ip: ip.map(str::to_string),
        port: if protocol == Protocol::Https { 443 } else { 80 },
        protocol,
        host_header: fqdn.map(str::to_string),
    }
}

#[test]
fn a_chained_backend_points_where_its_deployment_was_resolved() {
    let s = front(json!({ "deployment": "multi-lb" }));
    // By domain: an FQDN NEG with that domain as Host.
    let g = compile_chained(&s, &[hop(Some("app.example.com"), None, Protocol::Https)]);
    let neg = g
        .resources
        .iter()
        .find(|r| r.kind == ResourceKind::InternetNeg)
        .unwrap();
    assert_eq!(
        neg.name,
        names::internet_neg("front-lb", "app.example.com", 443)
    );
    assert_eq!(neg.body["networkEndpointType"], "INTERNET_FQDN_PORT");
    assert_eq!(
        neg.endpoint.as_ref().unwrap().api_json(),
        json!({ "fqdn": "app.example.com", "port": 443 })
    );
    let bs = g
        .get("projects/front-project/global/backendServices/front-lb-bs-multi")
        .unwrap();
    assert_eq!(
        bs.body["customRequestHeaders"],
        json!(["Host: app.example.com"])
    );
    assert_eq!(bs.body["protocol"], "HTTPS");
    // By IP, to a plain-HTTP load balancer: an IP NEG on port 80, spoken to in HTTP.
    let g = compile_chained(&s, &[hop(None, Some("34.120.9.9"), Protocol::Http)]);
    let neg = g
        .resources
        .iter()
        .find(|r| r.kind == ResourceKind::InternetNeg)
        .unwrap();
    assert_eq!(neg.body["networkEndpointType"], "INTERNET_IP_PORT");
    assert_eq!(neg.body["defaultPort"], 80);
    assert_eq!(
        neg.endpoint.as_ref().unwrap().api_json(),
        json!({ "ipAddress": "34.120.9.9", "port": 80 })
    );
    let bs = g
        .get("projects/front-project/global/backendServices/front-lb-bs-multi")
        .unwrap();
    assert_eq!(bs.body["protocol"], "HTTP");
    // Unresolved (only names are wanted): no NEG, nothing to attach.
    let g = compile(&s);
    assert!(
        g.resources
            .iter()
            .all(|r| r.kind != ResourceKind::InternetNeg)
    );
}

#[test]
fn a_stored_fqdn_endpoint_still_reads() {
    let old: NetworkEndpoint =
        serde_json::from_value(json!({ "fqdn": "x.a.run.app", "port": 443 })).unwrap();
    assert_eq!(old.fqdn.as_deref(), Some("x.a.run.app"));
    assert_eq!(
        serde_json::to_value(&old).unwrap(),
        json!({ "fqdn": "x.a.run.app", "port": 443 })
    );
    assert_eq!(old.gcloud_arg(), "fqdn=x.a.run.app,port=443");
}

mod certificate_manager;
mod cross_project;
mod edge_security;
mod multi_region;
