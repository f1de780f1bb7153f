//! Edge security in the plan: the Cloud Armor policies attached by their own verbs after the
//! backend service exists (and never sent in its body), a changed or removed policy as one
//! setter call, IAP, CDN cache settings and logging compared with Google's defaults.

use super::*;

fn edge(f: impl FnOnce(&mut Value)) -> Spec {
    let mut v = json!({
        "name": "shop", "project": "p",
        "frontend": { "protocol": "http", "ip": "ephemeral" },
        "backends": [
            { "name": "web", "type": "serverless", "service": "app", "regions": ["us-central1"],
              "security_policy": "armor", "edge_security_policy": "edge",
              "iap": "load-balancer", "logging": { "sample_rate": 0.5 } }
        ],
        "routing": { "default": { "backend": "web" } }
    });
    f(&mut v);
    spec(v)
}

const BS: &str = "projects/p/global/backendServices/shop-bs-web";

fn bs_body(graph: &DesiredGraph) -> &Value {
    &graph.get(BS).unwrap().body
}

#[test]
fn policies_are_attached_after_the_backend_service_and_never_sent_in_it() {
    let graph = compile(&edge(|_| {}));
    let body = bs_body(&graph);
    assert_eq!(
        body["securityPolicy"],
        "projects/p/global/securityPolicies/armor"
    );
    assert_eq!(body["iap"], json!({ "enabled": true }));
    assert_eq!(
        body["logConfig"],
        json!({ "enable": true, "sampleRate": 0.5 })
    );
    let plan = diff(&graph, &nothing_live(&graph));
    let steps = steps(&plan).unwrap();
    let create = &steps[pos(&steps, &format!("create:{BS}"))];
    let sent = create.call.body.as_ref().unwrap();
    assert!(sent.get("securityPolicy").is_none() && sent.get("edgeSecurityPolicy").is_none());
    assert_eq!(
        sent["iap"],
        json!({ "enabled": true }),
        "no OAuth client, no secret"
    );
    let set = &steps[pos(&steps, &format!("update:{BS}:setSecurityPolicy"))];
    assert_eq!(set.call.path, format!("{BS}/setSecurityPolicy"));
    assert_eq!(
        set.call.body,
        Some(json!({ "securityPolicy": "projects/p/global/securityPolicies/armor" }))
    );
    assert!(reaches(&steps, &set.id, &create.id));
    let edge_set = format!("update:{BS}:setEdgeSecurityPolicy");
    assert!(reaches(&steps, &edge_set, &create.id));
    // The URL map waits until the policies guard the backend service.
    assert!(reaches(
        &steps,
        "create:projects/p/global/urlMaps/shop-urlmap",
        &set.id
    ));
}

#[test]
fn as_google_returns_it_the_same_spec_is_no_change_and_a_new_policy_name_is_one_setter() {
    let graph = compile(&edge(|_| {}));
    let mut live = as_server_returns(&graph);
    let bs = live.get_mut(BS).unwrap().as_mut().unwrap();
    bs["iap"] = json!({ "enabled": true, "oauth2ClientId": "", "oauth2ClientSecretSha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" });
    assert!(
        diff(&graph, &live).is_noop(),
        "{:?}",
        diff(&graph, &live).entries
    );

    let renamed = compile(&edge(|v| {
        v["backends"][0]["security_policy"] = json!("armor2")
    }));
    let plan = diff(&renamed, &live);
    assert_eq!(
        entry(&plan, BS).action,
        Action::Update {
            fields: vec!["securityPolicy".into()]
        }
    );
    let calls = steps(&plan).unwrap();
    assert_eq!(ids(&calls), [format!("update:{BS}:setSecurityPolicy")]);

    let removed = compile(&edge(|v| {
        v["backends"][0]
            .as_object_mut()
            .unwrap()
            .remove("security_policy");
    }));
    let calls = steps(&diff(&removed, &live)).unwrap();
    assert_eq!(ids(&calls), [format!("update:{BS}:setSecurityPolicy")]);
    assert_eq!(calls[0].call.body, Some(json!({})), "detached");
}

#[test]
fn switched_off_settings_equal_absent_ones_and_changing_iap_updates_before_the_setters() {
    let graph = compile(&edge(|v| {
        let b = v["backends"][0].as_object_mut().unwrap();
        for k in ["security_policy", "edge_security_policy", "iap", "logging"] {
            b.remove(k);
        }
    }));
    let mut live = as_server_returns(&graph);
    let bs = live.get_mut(BS).unwrap().as_mut().unwrap();
    bs["iap"] =
        json!({ "enabled": false, "oauth2ClientId": "", "oauth2ClientSecretSha256": "e3b0" });
    bs["logConfig"] = json!({ "enable": false, "sampleRate": 1.0 });
    assert!(diff(&graph, &live).is_noop());

    let wanted = compile(&edge(|v| {
        v["backends"][0]
            .as_object_mut()
            .unwrap()
            .remove("edge_security_policy");
    }));
    let plan = diff(&wanted, &live);
    let Action::Update { fields } = &entry(&plan, BS).action else {
        panic!("{:?}", entry(&plan, BS).action)
    };
    assert_eq!(fields, &["iap", "logConfig", "securityPolicy"]);
    let steps = steps(&plan).unwrap();
    let put = &steps[pos(&steps, &format!("update:{BS}"))];
    assert!(
        put.call
            .body
            .as_ref()
            .unwrap()
            .get("securityPolicy")
            .is_none()
    );
    assert!(reaches(
        &steps,
        &format!("update:{BS}:setSecurityPolicy"),
        &put.id
    ));
}

#[test]
fn cdn_cache_settings_compare_with_googles_defaults() {
    let cached = |p: Value| {
        compile(&edge(move |v| {
            let b = v["backends"][0].as_object_mut().unwrap();
            b.remove("iap");
            b.insert("cdn".into(), json!(true));
            b.insert("cdn_policy".into(), p);
        }))
    };
    let graph = cached(json!({ "cache_mode": "CACHE_ALL_STATIC", "default_ttl": 60 }));
    assert_eq!(
        bs_body(&graph)["cdnPolicy"],
        json!({ "cacheMode": "CACHE_ALL_STATIC", "defaultTtl": 60, "maxTtl": 86400, "clientTtl": 3600 })
    );
    let mut live = as_server_returns(&graph);
    live.get_mut(BS).unwrap().as_mut().unwrap()["cdnPolicy"]["negativeCaching"] = json!(false);
    assert!(diff(&graph, &live).is_noop());
    // The TTL removed from the spec goes back to Google's default: a change.
    let plan = diff(&cached(json!({ "cache_mode": "CACHE_ALL_STATIC" })), &live);
    assert_eq!(
        entry(&plan, BS).action,
        Action::Update {
            fields: vec!["cdnPolicy".into()]
        }
    );
}

#[test]
fn iap_and_the_default_url_on_cloud_run_are_in_the_service_body_and_compared() {
    let s = edge(|v| {
        let b = v["backends"][0].as_object_mut().unwrap();
        b.insert("iap".into(), json!("cloud-run"));
        v["services"] = json!([{ "name": "app", "image": "us-docker.pkg.dev/p/r/app:1",
            "regions": ["us-central1"], "default_url": false }]);
    });
    let graph = compile(&s);
    let run = "projects/p/locations/us-central1/services/app";
    let body = &graph.get(run).unwrap().body;
    assert_eq!(body["iapEnabled"], true);
    assert_eq!(body["defaultUriDisabled"], true);
    assert!(bs_body(&graph).get("iap").is_none());
    let mut live = LiveState::new();
    let mut service = body.clone();
    service["iamPolicy"] =
        json!({ "bindings": [ { "role": "roles/run.invoker", "members": ["allUsers"] } ] });
    live.insert(run.into(), Some(service.clone()));
    let plan = diff(&graph, &live);
    assert_eq!(entry(&plan, run).action, Action::Noop);
    service.as_object_mut().unwrap().remove("iapEnabled");
    live.insert(run.into(), Some(service));
    let plan = diff(&graph, &live);
    assert_eq!(
        entry(&plan, run).action,
        Action::Update {
            fields: vec!["IAP".into()]
        }
    );
}
