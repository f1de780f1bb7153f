//! The per-frontend options against the sandbox over HTTP: seed 000 with IPv6, HTTP/3 and an
//! SSL policy applies (the proxy shows `quicOverride` and the policy, IPv6 rules share the
//! proxies, the DNS section lists the AAAA record), re-plans as nothing to do and is destroyed
//! to nothing, the policy too. A changed profile patches the policy in place; a removed policy
//! is detached before it is deleted; IPv6 turned off deletes only the IPv6 resources. The
//! sandbox refuses what Google refuses (a policy in use, features without CUSTOM, a stale
//! fingerprint), and the API names the field of a bad option.

use crate::common::{TestApp, spawn_app};
use crate::deploy::{sandbox, seed};
use crate::deployments_support::ClientExt;
use crate::sandbox_apply::apply_in_sandbox;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use switchyard::auth::Role;
use switchyard::cloud::{CloudError, CollectionRef, ResourceRef};
use switchyard::domain::plan::{self, Action, StepAction};

const PROJECT: &str = "my-project";
const POLICY: &str = "global-app-ssl-policy";
const PROXY: &str = "global-app-https-proxy";

fn spec_with_options() -> Value {
    let mut v = seed("seed-000.json");
    v["frontend"]["http_redirect"] = json!(true);
    v["frontend"]["ipv6"] = json!(true);
    v["frontend"]["http3"] = json!(true);
    v["frontend"]["ssl_policy"] = json!({ "min_tls_version": "1.2", "profile": "MODERN" });
    v
}

async fn get(app: &TestApp, collection: &str, name: &str) -> Option<Value> {
    app.state
        .cloud
        .get(&ResourceRef::global(PROJECT, collection, name))
        .await
        .unwrap()
}

async fn names_in(app: &TestApp, collection: &str) -> Vec<String> {
    let c = CollectionRef::global(PROJECT, collection);
    let mut out: Vec<String> = app
        .state
        .cloud
        .list::<Value>(&c)
        .await
        .unwrap()
        .iter()
        .filter_map(|v| v["name"].as_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

/// Saves a new version of the deployment's spec and plans it.
async fn edit(app: &TestApp, id: i64, spec: &Value) -> plan::Plan {
    let db = &app.state.db;
    let row = switchyard::db::deployments::get(db, id)
        .await
        .unwrap()
        .unwrap();
    let row = switchyard::db::deployments::update(
        db,
        id,
        row.version,
        &row.name,
        &spec.to_string(),
        "ed",
    )
    .await
    .unwrap();
    app.state.deployer.plan(&row).await.unwrap().plan
}

async fn apply(app: &TestApp, id: i64) {
    let row = switchyard::db::deployments::get(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    let job = app.state.deployer.apply(&row, "ed").await.unwrap();
    let done = app.state.deployer.runner().wait(job).await.unwrap();
    assert_eq!(done.status, "succeeded", "{:?}", done.error);
}

/// The entries that change something, as (action, resource name).
fn changes(p: &plan::Plan) -> Vec<(&'static str, String)> {
    p.entries
        .iter()
        .filter(|e| e.action != Action::Noop)
        .map(|e| (e.action.name(), e.name.clone()))
        .collect()
}

#[tokio::test]
async fn seed_000_with_ipv6_http3_and_an_ssl_policy_applies_replans_clean_and_is_destroyed() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    let (id, _) = apply_in_sandbox(&app, &spec_with_options().to_string(), "ed").await;

    let proxy = get(&app, "targetHttpsProxies", PROXY).await.unwrap();
    assert_eq!(proxy["quicOverride"], "ENABLE", "{proxy}");
    assert!(
        proxy["sslPolicy"]
            .as_str()
            .unwrap()
            .ends_with(&format!("projects/{PROJECT}/global/sslPolicies/{POLICY}")),
        "{proxy}"
    );
    let policy = get(&app, "sslPolicies", POLICY).await.unwrap();
    assert_eq!(policy["profile"], "MODERN");
    assert_eq!(policy["minTlsVersion"], "TLS_1_2");
    assert!(policy["fingerprint"].is_string(), "{policy}");

    let v6 = get(&app, "addresses", "global-app-ipv6").await.unwrap();
    assert_eq!(v6["ipVersion"], "IPV6");
    let ipv6 = v6["address"].as_str().unwrap().to_string();
    assert!(ipv6.starts_with("2001:db8:"), "{ipv6}");
    for (rule, proxy) in [
        (
            "global-app-https-fr-ipv6",
            "targetHttpsProxies/global-app-https-proxy",
        ),
        (
            "global-app-http-fr-ipv6",
            "targetHttpProxies/global-app-http-proxy",
        ),
    ] {
        let fr = get(&app, "forwardingRules", rule).await.expect(rule);
        assert_eq!(fr["IPAddress"], ipv6.as_str(), "{fr}");
        assert_eq!(fr["ipVersion"], "IPV6", "{fr}");
        assert!(fr["target"].as_str().unwrap().ends_with(proxy), "{fr}");
    }
    let v4 = get(&app, "forwardingRules", "global-app-https-fr")
        .await
        .unwrap();
    assert_eq!(v4["ipVersion"], "IPV4", "{v4}");

    // The DNS section lists the AAAA record next to the A record, once the read after the
    // apply has recorded the addresses.
    let mut viewer = app.user_client("vi", Role::Viewer).await;
    let started = Instant::now();
    loop {
        let (_, page) = viewer.text(&format!("/deployments/{id}/overview")).await;
        let dns = &page[page.find(r#"id="dns""#).unwrap()..];
        let dns = dns[..dns.find("</section>").unwrap()].to_string();
        if dns.contains(&format!("<code>{ipv6}</code>")) {
            let a = dns.find(r#"<tr data-type="A">"#).expect("an A row");
            let aaaa = dns.find(r#"<tr data-type="AAAA">"#).expect("an AAAA row");
            assert!(a < aaaa, "{dns}");
            assert!(dns[aaaa..].contains("your-domain.com."), "{dns}");
            assert!(dns.contains("one IPv4 and one IPv6 address"), "{dns}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no AAAA record for {ipv6}: {dns}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    replans_clean_and_destroys(
        &app,
        id,
        false,
        "",
        &[
            "sslPolicies",
            "addresses",
            "forwardingRules",
            "targetHttpsProxies",
            "targetHttpProxies",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_changed_profile_patches_in_place_a_removed_policy_is_detached_first_and_ipv6_off_deletes_only_ipv6()
 {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    let mut spec = spec_with_options();
    let (id, _) = apply_in_sandbox(&app, &spec.to_string(), "ed").await;
    let before = get(&app, "sslPolicies", POLICY).await.unwrap();

    // Another profile: one update of the policy, in place (same resource id).
    spec["frontend"]["ssl_policy"]["profile"] = json!("RESTRICTED");
    let p = edit(&app, id, &spec).await;
    assert_eq!(changes(&p), [("update", POLICY.to_string())]);
    let steps = plan::steps(&p).unwrap();
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(steps[0].call.verb, plan::Verb::Patch);
    assert!(steps[0].call.needs_fingerprint);
    apply(&app, id).await;
    let after = get(&app, "sslPolicies", POLICY).await.unwrap();
    assert_eq!(after["profile"], "RESTRICTED");
    assert_eq!(after["id"], before["id"]);

    // While the proxy uses it, Google refuses to delete it.
    let err = app
        .state
        .cloud
        .delete(
            &ResourceRef::global(PROJECT, "sslPolicies", POLICY),
            uuid::Uuid::new_v4(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CloudError::InUse { .. }), "{err:?}");

    // No policy: the proxy lets go of it, then it is deleted.
    spec["frontend"]
        .as_object_mut()
        .unwrap()
        .remove("ssl_policy");
    let p = edit(&app, id, &spec).await;
    assert_eq!(
        changes(&p),
        [
            ("update", PROXY.to_string()),
            ("delete", POLICY.to_string())
        ]
    );
    let steps = plan::steps(&p).unwrap();
    let detach = steps
        .iter()
        .find(|s| s.id.ends_with(":setSslPolicy"))
        .expect("a setSslPolicy step");
    assert_eq!(detach.call.body, Some(json!({})));
    let delete = steps
        .iter()
        .find(|s| s.action == StepAction::Delete)
        .unwrap();
    assert!(delete.depends_on.contains(&detach.id), "{delete:?}");
    apply(&app, id).await;
    let proxy = get(&app, "targetHttpsProxies", PROXY).await.unwrap();
    assert!(proxy.get("sslPolicy").is_none(), "{proxy}");
    assert_eq!(proxy["quicOverride"], "ENABLE");
    assert!(get(&app, "sslPolicies", POLICY).await.is_none());

    // IPv6 off: the IPv6 address and rules go, the IPv4 rules are not touched.
    let v4_before = get(&app, "forwardingRules", "global-app-https-fr")
        .await
        .unwrap();
    spec["frontend"]["ipv6"] = json!(false);
    let p = edit(&app, id, &spec).await;
    let mut gone = changes(&p);
    gone.sort();
    assert_eq!(
        gone,
        [
            ("delete", "global-app-http-fr-ipv6".to_string()),
            ("delete", "global-app-https-fr-ipv6".to_string()),
            ("delete", "global-app-ipv6".to_string()),
        ]
    );
    apply(&app, id).await;
    assert_eq!(
        names_in(&app, "forwardingRules").await,
        ["global-app-http-fr", "global-app-https-fr"]
    );
    let v4_after = get(&app, "forwardingRules", "global-app-https-fr")
        .await
        .unwrap();
    assert_eq!(v4_after["id"], v4_before["id"]);
    assert_eq!(names_in(&app, "addresses").await, ["global-app-ip"]);

    // HTTP/3 back to Google's choice: setQuicOverride NONE.
    spec["frontend"].as_object_mut().unwrap().remove("http3");
    let p = edit(&app, id, &spec).await;
    assert_eq!(changes(&p), [("update", PROXY.to_string())]);
    apply(&app, id).await;
    let proxy = get(&app, "targetHttpsProxies", PROXY).await.unwrap();
    assert_eq!(proxy["quicOverride"], "NONE");
    let row = switchyard::db::deployments::get(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert!(app.state.deployer.plan(&row).await.unwrap().plan.is_noop());
}

#[tokio::test]
async fn the_sandbox_refuses_features_without_custom_tls_1_3_below_restricted_and_a_stale_fingerprint()
 {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    let cloud = &app.state.cloud;
    let policies = CollectionRef::global(PROJECT, "sslPolicies");
    let insert = |body: Value| {
        let policies = policies.clone();
        async move {
            let op = cloud.insert(&policies, &body, uuid::Uuid::new_v4()).await?;
            cloud.wait_operation(&op).await
        }
    };
    let err = insert(json!({ "name": "p1", "profile": "MODERN",
        "customFeatures": ["TLS_RSA_WITH_AES_128_CBC_SHA"] }))
    .await
    .unwrap_err();
    assert!(
        matches!(&err, CloudError::Invalid { message, .. } if message.contains("must be empty if the profile is not CUSTOM")),
        "{err:?}"
    );
    let err = insert(json!({ "name": "p1", "profile": "MODERN", "minTlsVersion": "TLS_1_3" }))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CloudError::Invalid { message, .. } if message.contains("must be set to RESTRICTED")),
        "{err:?}"
    );
    insert(json!({ "name": "p1", "profile": "COMPATIBLE" }))
        .await
        .unwrap();
    let p1 = ResourceRef::global(PROJECT, "sslPolicies", "p1");
    let stale = cloud
        .patch(
            &p1,
            &json!({ "profile": "MODERN", "fingerprint": "c3RhbGU=" }),
            uuid::Uuid::new_v4(),
        )
        .await;
    assert!(
        matches!(&stale, Err(e) if e.to_string().contains("fingerprint")),
        "{stale:?}"
    );
    let current: Value = cloud.get(&p1).await.unwrap().unwrap();
    let op = cloud
        .patch(
            &p1,
            &json!({ "profile": "MODERN", "fingerprint": current["fingerprint"] }),
            uuid::Uuid::new_v4(),
        )
        .await
        .unwrap();
    cloud.wait_operation(&op).await.unwrap();
    let patched: Value = cloud.get(&p1).await.unwrap().unwrap();
    assert_eq!(patched["profile"], "MODERN");
    assert_ne!(patched["fingerprint"], current["fingerprint"]);
}

/// A change made to seed 000 before it is posted.
type Change = fn(&mut Value);

#[tokio::test]
async fn bad_frontend_options_are_refused_naming_their_field() {
    let app = spawn_app().await;
    let ed = app.token_client("ed", Role::Editor).await;
    let cases: [(Change, &str); 4] = [
        (
            |v| {
                v["frontend"]["ssl_policy"] =
                    json!({ "profile": "RESTRICTED", "min_tls_version": "1.0" })
            },
            "frontend.ssl_policy.min_tls_version",
        ),
        (
            |v| v["frontend"]["ssl_policy"] = json!({ "profile": "CUSTOM" }),
            "frontend.ssl_policy.profile",
        ),
        (
            |v| v["frontend"]["ssl_policy"] = json!({ "custom_features": ["X"] }),
            "frontend.ssl_policy.custom_features",
        ),
        (
            |v| {
                v["frontend"] = json!({ "protocol": "http", "http3": true });
            },
            "frontend.http3",
        ),
    ];
    for (change, field) in cases {
        let mut spec = seed("seed-000.json");
        change(&mut spec);
        let (status, body) = ed
            .send_json(Method::POST, "/api/v1/deployments", &spec, None)
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["field"], field, "{body}");
    }
}

#[tokio::test]
async fn every_option_applies_replans_clean_and_is_destroyed_with_a_static_and_an_ephemeral_ip() {
    let text = std::fs::read_to_string(format!(
        "{}/tests/data/specs/every-option.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    // The Cloud Armor policies its backends name exist already: the panel attaches, never makes.
    crate::edge_security::create_policy(&app, "every-armor", "CLOUD_ARMOR").await;
    crate::edge_security::create_policy(&app, "every-edge", "CLOUD_ARMOR_EDGE").await;
    let mut spec: Value = serde_json::from_str(&text).unwrap();
    for (i, ip) in ["static", "ephemeral"].into_iter().enumerate() {
        spec["name"] = json!(format!("every-option-{i}"));
        spec["frontend"]["ip"] = json!(ip);
        let (id, _) = apply_in_sandbox(&app, &spec.to_string(), "ed").await;
        let rule = get(
            &app,
            "forwardingRules",
            &format!("every-option-{i}-https-fr-ipv6"),
        )
        .await
        .expect("the IPv6 rule");
        assert!(
            rule["IPAddress"].as_str().unwrap().starts_with("2001:db8:"),
            "{ip}: {rule}"
        );
        // With its Cloud Run services, so that the next round can deploy them as its own.
        replans_clean_and_destroys(
            &app,
            id,
            true,
            ip,
            &[
                "sslPolicies",
                "addresses",
                "forwardingRules",
                "targetHttpsProxies",
                "targetHttpProxies",
                "urlMaps",
                "backendServices",
                "sslCertificates",
            ],
        )
        .await;
    }
}

/// Deployment `id` plans as nothing to do, then its destroy (with its Cloud Run services when
/// `services`) leaves none of `collections` in the project; `what` names the case in messages.
async fn replans_clean_and_destroys(
    app: &TestApp,
    id: i64,
    services: bool,
    what: &str,
    collections: &[&str],
) {
    let row = switchyard::db::deployments::get(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    let again = app.state.deployer.plan(&row).await.unwrap();
    assert!(again.plan.is_noop(), "{what}: {:?}", changes(&again.plan));
    let job = app
        .state
        .deployer
        .destroy(&row, "ed", services)
        .await
        .unwrap();
    let done = app.state.deployer.runner().wait(job).await.unwrap();
    assert_eq!(done.status, "succeeded", "{:?}", done.error);
    for c in collections {
        assert!(names_in(app, c).await.is_empty(), "{what}: {c} left");
    }
}

/// Seed 000 built by hand, then given an SSL policy and HTTP/3 on its HTTPS proxy by hand.
async fn seed_000_by_hand_with(app: &TestApp, policy: Value, quic: &str) {
    use crate::hand_built::{build_seed_000, insert};
    build_seed_000(app).await;
    insert(app, CollectionRef::global(PROJECT, "sslPolicies"), policy).await;
    let cloud = &app.state.cloud;
    let proxy = ResourceRef::global(PROJECT, "targetHttpsProxies", "https-proxy");
    for (verb, body) in [
        (
            "setSslPolicy",
            json!({ "sslPolicy": crate::hand_built::link(&format!("projects/{PROJECT}/global/sslPolicies/tls")) }),
        ),
        ("setQuicOverride", json!({ "quicOverride": quic })),
    ] {
        let op = cloud
            .mutate_verb(&proxy, verb, &body, uuid::Uuid::new_v4())
            .await
            .unwrap();
        cloud.wait_operation(&op).await.unwrap();
    }
}

#[tokio::test]
async fn a_hand_built_proxy_with_an_ssl_policy_and_http3_is_adopted_with_both_in_the_spec() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    seed_000_by_hand_with(
        &app,
        json!({ "name": "tls", "profile": "MODERN", "minTlsVersion": "TLS_1_2" }),
        "DISABLE",
    )
    .await;
    let reader = switchyard::deploy::cloud_reader::CloudLiveReader::new(app.state.cloud.clone());
    let lbs = switchyard::deploy::discover::discover(&reader, PROJECT)
        .await
        .unwrap();
    let lb = &lbs[0];
    assert!(lb.refusals().is_empty(), "{:?}", lb.unexpressible);
    let spec = lb.spec.clone().expect("an adoptable spec");
    let v = serde_json::to_value(&spec).unwrap();
    assert_eq!(v["frontend"]["http3"], false);
    assert_eq!(
        v["frontend"]["ssl_policy"],
        json!({ "min_tls_version": "1.2", "profile": "MODERN" })
    );
    assert_eq!(v["names"]["ssl_policy"], "tls");
    let db = &app.state.db;
    let row = switchyard::db::deployments::create(db, &spec.name, &v.to_string(), "ed")
        .await
        .unwrap();
    let planned = app.state.deployer.plan(&row).await.unwrap();
    crate::hand_built::assert_first_plan_noop(&planned.plan);
    let job = app.state.deployer.apply(&row, "ed").await.unwrap();
    let done = app.state.deployer.runner().wait(job).await.unwrap();
    assert_eq!(done.status, "succeeded", "{:?}", done.error);
    assert!(app.state.deployer.plan(&row).await.unwrap().plan.is_noop());
    let job = app.state.deployer.destroy(&row, "ed", false).await.unwrap();
    let done = app.state.deployer.runner().wait(job).await.unwrap();
    assert_eq!(done.status, "succeeded", "{:?}", done.error);
    assert!(names_in(&app, "sslPolicies").await.is_empty());
    assert!(names_in(&app, "targetHttpsProxies").await.is_empty());
}

#[tokio::test]
async fn a_hand_built_custom_ssl_policy_is_refused_with_the_reason() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    seed_000_by_hand_with(
        &app,
        json!({ "name": "tls", "profile": "CUSTOM", "minTlsVersion": "TLS_1_2",
                "customFeatures": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"] }),
        "ENABLE",
    )
    .await;
    let reader = switchyard::deploy::cloud_reader::CloudLiveReader::new(app.state.cloud.clone());
    let lbs = switchyard::deploy::discover::discover(&reader, PROJECT)
        .await
        .unwrap();
    let lb = &lbs[0];
    assert!(lb.spec.is_none());
    let refusals = format!("{:?}", lb.refusals());
    assert!(refusals.contains("profile CUSTOM"), "{refusals}");
}
