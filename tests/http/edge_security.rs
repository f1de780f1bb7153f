//! Edge security per backend against the sandbox, over real sockets: seed 000 with a Cloud
//! Armor backend policy and an edge policy, IAP on the load balancer, logging at half the
//! requests and its Cloud Run service closed to run.app applies, shows all of it on the live
//! resources, re-plans as nothing to do, moves to another policy with one setSecurityPolicy
//! call, detaches it, and destroys to nothing while the policies (not the panel's) stay; a
//! missing or mistyped policy blocks the plan naming the field; IAP with CDN is refused by
//! validation and by the sandbox; CDN cache settings apply and re-plan clean.

use crate::common::TestApp;
use crate::deploy::{actions, create_deployment, owned_in, post, run_job, sandbox, seed};
use crate::deployments_support::ClientExt;
use reqwest::Method;
use serde_json::{Value, json};
use switchyard::auth::Role;
use switchyard::cloud::{CloudError, CollectionRef, ResourceRef};
use uuid::Uuid;

const P: &str = "my-project";
const BS: &str = "global-app-bs-cloudrun";
const RUN: &str = "projects/my-project/locations/us-central1/services/my-global-app";

/// Creates a Cloud Armor policy through the sandbox's compute API, as a team would by hand.
pub(crate) async fn create_policy(app: &TestApp, name: &str, kind: &str) {
    let cloud = &app.state.cloud;
    let op = cloud
        .insert(
            &CollectionRef::global(P, "securityPolicies"),
            &json!({ "name": name, "type": kind, "description": "made by hand" }),
            Uuid::new_v4(),
        )
        .await
        .unwrap();
    cloud.wait_operation(&op).await.unwrap();
}

async fn policy(app: &TestApp, name: &str) -> Option<Value> {
    app.state
        .cloud
        .get(&ResourceRef::global(P, "securityPolicies", name))
        .await
        .unwrap()
}

async fn backend_service(app: &TestApp) -> Value {
    app.state
        .cloud
        .get(&ResourceRef::global(P, "backendServices", BS))
        .await
        .unwrap()
        .expect("the backend service")
}

/// Seed 000 behind Cloud Armor and IAP, with its service deployed by the panel and reachable
/// only through the load balancer.
fn guarded() -> Value {
    let mut spec = seed("seed-000.json");
    let b = &mut spec["backends"][0];
    b["cdn"] = json!(false);
    b["security_policy"] = json!("armor");
    b["edge_security_policy"] = json!("edge");
    b["iap"] = json!("load-balancer");
    b["logging"] = json!({ "sample_rate": 0.5 });
    spec["services"] = json!([{
        "name": "my-global-app", "image": "us-docker.pkg.dev/cloudrun/container/hello",
        "regions": ["us-central1"], "min_instances": 1, "allow_unauthenticated": false,
        "ingress": "internal-and-cloud-load-balancing", "default_url": false
    }]);
    spec
}

async fn plan(c: &mut crate::common::Client, id: i64) -> Value {
    let (status, body) = post(c, &format!("/api/v1/deployments/{id}/plan")).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Saves `spec` as the deployment's next version.
async fn edit(c: &crate::common::Client, id: i64, version: u32, spec: &Value) {
    let (status, body) = c
        .send_json(
            Method::PUT,
            &format!("/api/v1/deployments/{id}"),
            spec,
            Some(&version.to_string()),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

fn step_ids(job: &Value) -> Vec<String> {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

/// A panel on a quick sandbox where the Cloud Armor policies `policies` (name, type) exist, and
/// an editor's API client.
async fn with_policies(policies: &[(&str, &str)]) -> (TestApp, crate::common::Client) {
    let app = crate::common::spawn_app().await;
    sandbox(
        &app,
        json!({ "operationLatencyMs": 10, "runLatencyMs": 10 }),
    )
    .await;
    for (name, kind) in policies {
        create_policy(&app, name, kind).await;
    }
    let c = app.token_client("ed", Role::Editor).await;
    (app, c)
}

#[tokio::test]
async fn seed_000_behind_armor_and_iap_applies_replans_clean_moves_policies_and_destroys() {
    let (app, mut c) =
        with_policies(&[("armor", "CLOUD_ARMOR"), ("edge", "CLOUD_ARMOR_EDGE")]).await;
    let mut spec = guarded();
    let id = create_deployment(&app, &spec).await;

    let first = plan(&mut c, id).await;
    assert_eq!(first["conflicts"], json!([]), "{first}");
    let job = run_job(&mut c, id, "apply").await;
    assert_eq!(job["status"], "succeeded", "{job}");

    let bs = backend_service(&app).await;
    let link = |n: &str| {
        format!("https://www.googleapis.com/compute/v1/projects/{P}/global/securityPolicies/{n}")
    };
    assert_eq!(bs["securityPolicy"], link("armor"), "{bs}");
    assert_eq!(bs["edgeSecurityPolicy"], link("edge"), "{bs}");
    assert_eq!(bs["iap"]["enabled"], true, "{bs}");
    assert!(bs["iap"].get("oauth2ClientSecret").is_none(), "{bs}");
    assert_eq!(
        bs["logConfig"],
        json!({ "enable": true, "sampleRate": 0.5 })
    );
    let svc: Value = app.state.cloud.run_get(RUN).await.unwrap().unwrap();
    assert_eq!(svc["defaultUriDisabled"], true, "{svc}");
    assert_eq!(svc["ingress"], "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER");
    // The panel does not own the policies, so they are not among its resources.
    let err = app
        .state
        .cloud
        .delete(
            &ResourceRef::global(P, "securityPolicies", "edge"),
            Uuid::new_v4(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("is already being used by"),
        "an attached policy cannot be deleted: {err}"
    );

    let again = plan(&mut c, id).await;
    assert!(
        actions(&again).iter().all(|a| a.starts_with("noop ")),
        "{again}"
    );

    // Detached by hand, the edge policy is drift, and the next apply attaches it again.
    let op = app
        .state
        .cloud
        .mutate_verb(
            &ResourceRef::global(P, "backendServices", BS),
            "setEdgeSecurityPolicy",
            &json!({}),
            Uuid::new_v4(),
        )
        .await
        .unwrap();
    app.state.cloud.wait_operation(&op).await.unwrap();
    let drift = switchyard::drift::check(
        &app.state.db,
        app.state.deployer.reader().as_ref(),
        id,
        "ed",
    )
    .await
    .unwrap();
    assert_eq!(drift.result, "drifted", "{drift:?}");
    assert!(
        drift.differences.contains("edgeSecurityPolicy"),
        "{drift:?}"
    );
    let job = run_job(&mut c, id, "apply").await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        backend_service(&app).await["edgeSecurityPolicy"],
        link("edge")
    );

    // Another policy: one setSecurityPolicy call, nothing else.
    create_policy(&app, "armor2", "CLOUD_ARMOR").await;
    spec["backends"][0]["security_policy"] = json!("armor2");
    edit(&c, id, 1, &spec).await;
    let moved = plan(&mut c, id).await;
    let changed: Vec<String> = actions(&moved)
        .into_iter()
        .filter(|a| !a.starts_with("noop "))
        .collect();
    assert_eq!(
        changed,
        [format!("update projects/{P}/global/backendServices/{BS}")],
        "{moved}"
    );
    let job = run_job(&mut c, id, "apply").await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        step_ids(&job),
        [format!(
            "update:projects/{P}/global/backendServices/{BS}:setSecurityPolicy"
        )],
        "{job}"
    );
    assert_eq!(
        backend_service(&app).await["securityPolicy"],
        link("armor2")
    );

    // Removed from the spec: detached.
    spec["backends"][0]
        .as_object_mut()
        .unwrap()
        .remove("security_policy");
    edit(&c, id, 2, &spec).await;
    let job = run_job(&mut c, id, "apply").await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        step_ids(&job),
        [format!(
            "update:projects/{P}/global/backendServices/{BS}:setSecurityPolicy"
        )],
        "{job}"
    );
    let bs = backend_service(&app).await;
    assert!(bs.get("securityPolicy").is_none(), "{bs}");
    assert_eq!(bs["edgeSecurityPolicy"], link("edge"));
    let again = plan(&mut c, id).await;
    assert!(
        actions(&again).iter().all(|a| a.starts_with("noop ")),
        "{again}"
    );

    let job = run_job(&mut c, id, "destroy").await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        owned_in(&app, P, "global-app", &["us-central1"]).await,
        Vec::<String>::new()
    );
    for name in ["armor", "armor2", "edge"] {
        assert!(policy(&app, name).await.is_some(), "{name} stays");
    }
}

#[tokio::test]
async fn a_missing_or_mistyped_policy_blocks_the_plan_naming_the_field() {
    let (app, mut c) = with_policies(&[("edge", "CLOUD_ARMOR_EDGE")]).await;
    let mut spec = guarded();
    spec["backends"][0]["edge_security_policy"] = json!("armor");
    spec["backends"][0]["security_policy"] = json!("edge");
    let id = create_deployment(&app, &spec).await;

    let refused = plan(&mut c, id).await;
    let messages: Vec<&str> = refused["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 2, "{refused}");
    assert!(
        messages[0].starts_with("backends[0].security_policy: the Cloud Armor policy `edge`")
            && messages[0].contains("is of type CLOUD_ARMOR_EDGE"),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].starts_with("backends[0].edge_security_policy: the Cloud Armor policy `armor` does not exist in project my-project"),
        "{}",
        messages[1]
    );
    let (status, body) = post(&mut c, &format!("/api/v1/deployments/{id}/apply")).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        owned_in(&app, P, "global-app", &["us-central1"]).await,
        Vec::<String>::new(),
        "nothing applied"
    );
    assert!(
        app.state
            .cloud
            .run_get::<Value>(RUN)
            .await
            .unwrap()
            .is_none(),
        "not even the Cloud Run service"
    );
}

#[tokio::test]
async fn iap_with_cdn_is_refused_by_validation_and_by_the_sandbox() {
    let app = crate::common::spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    let c = app.token_client("ed", Role::Editor).await;
    let mut spec = seed("seed-000.json");
    spec["backends"][0]["iap"] = json!("load-balancer");
    let (status, err) = c
        .send_json(Method::POST, "/api/v1/deployments", &spec, None)
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "backends[0].iap", "{err}");
    assert!(
        err.to_string()
            .contains("IAP is incompatible with Cloud CDN"),
        "{err}"
    );

    // Sent directly, the sandbox refuses it as Google does; without CDN it stores the OAuth
    // secret only as its SHA-256.
    let cloud = &app.state.cloud;
    let services = CollectionRef::global(P, "backendServices");
    let body = |cdn: bool| {
        json!({ "name": "by-hand", "loadBalancingScheme": "EXTERNAL_MANAGED", "enableCDN": cdn,
                "iap": { "enabled": true, "oauth2ClientId": "id", "oauth2ClientSecret": "s3cret" } })
    };
    let err = cloud
        .insert(&services, &body(true), Uuid::new_v4())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CloudError::Invalid { message, .. } if message.contains("Cloud CDN")),
        "{err:?}"
    );
    let op = cloud
        .insert(&services, &body(false), Uuid::new_v4())
        .await
        .unwrap();
    cloud.wait_operation(&op).await.unwrap();
    let bs: Value = cloud
        .get(&ResourceRef::global(P, "backendServices", "by-hand"))
        .await
        .unwrap()
        .unwrap();
    assert!(!bs.to_string().contains("s3cret"), "{bs}");
    assert_eq!(bs["iap"]["oauth2ClientSecretSha256"], sha256_hex("s3cret"));

    // Attaching: an unknown policy is Google's 404, a policy of the other type is refused.
    let by_hand = ResourceRef::global(P, "backendServices", "by-hand");
    let err = cloud
        .mutate_verb(
            &by_hand,
            "setSecurityPolicy",
            &json!({ "securityPolicy": format!("projects/{P}/global/securityPolicies/nope") }),
            Uuid::new_v4(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "The resource 'projects/{P}/global/securityPolicies/nope' was not found"
        )),
        "{err}"
    );
    create_policy(&app, "armor", "CLOUD_ARMOR").await;
    let err = cloud
        .mutate_verb(
            &by_hand,
            "setEdgeSecurityPolicy",
            &json!({ "securityPolicy": format!("projects/{P}/global/securityPolicies/armor") }),
            Uuid::new_v4(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("takes a policy of type CLOUD_ARMOR_EDGE"),
        "{err}"
    );
    // A policy's type is set once.
    let err = cloud
        .patch(
            &ResourceRef::global(P, "securityPolicies", "armor"),
            &json!({ "type": "CLOUD_ARMOR_EDGE" }),
            Uuid::new_v4(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("can be set only when it is created"),
        "{err}"
    );
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn cdn_cache_mode_and_ttls_apply_and_replan_as_noop() {
    let app = crate::common::spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let mut spec = seed("seed-000.json");
    spec["backends"][0]["cdn_policy"] =
        json!({ "cache_mode": "FORCE_CACHE_ALL", "default_ttl": 600, "client_ttl": 60 });
    let id = create_deployment(&app, &spec).await;
    let job = run_job(&mut c, id, "apply").await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let bs = backend_service(&app).await;
    assert_eq!(bs["enableCDN"], true);
    assert_eq!(
        bs["cdnPolicy"],
        json!({ "cacheMode": "FORCE_CACHE_ALL", "defaultTtl": 600, "clientTtl": 60 }),
        "{bs}"
    );
    let again = plan(&mut c, id).await;
    assert!(
        actions(&again).iter().all(|a| a.starts_with("noop ")),
        "{again}"
    );
    let job = run_job(&mut c, id, "destroy").await;
    assert_eq!(job["status"], "succeeded", "{job}");
}

#[tokio::test]
async fn every_edge_option_at_once_applies_replans_clean_and_destroys() {
    let (app, mut c) = with_policies(&[
        ("every-armor", "CLOUD_ARMOR"),
        ("every-edge", "CLOUD_ARMOR_EDGE"),
    ])
    .await;
    let spec: Value =
        serde_json::from_str(include_str!("../data/specs/every-option.json")).unwrap();
    let id = create_deployment(&app, &spec).await;
    let job = run_job(&mut c, id, "apply").await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let bs = |name: &str| ResourceRef::global(P, "backendServices", &format!("every-bs-{name}"));
    let cloud = &app.state.cloud;
    let stat: Value = cloud.get(&bs("static")).await.unwrap().unwrap();
    assert_eq!(stat["cdnPolicy"]["maxTtl"], 3600, "{stat}");
    assert!(stat.get("securityPolicy").is_none());
    let portal: Value = cloud.get(&bs("portal")).await.unwrap().unwrap();
    assert!(portal.get("iap").is_none(), "IAP is on Cloud Run: {portal}");
    let run: Value = cloud
        .run_get("projects/my-project/locations/us-central1/services/portal")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run["iapEnabled"], true, "{run}");
    let again = plan(&mut c, id).await;
    assert!(
        actions(&again).iter().all(|a| a.starts_with("noop ")),
        "{again}"
    );
    let job = run_job(&mut c, id, "destroy").await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        owned_in(&app, P, "every", &["us-central1", "europe-west1"]).await,
        Vec::<String>::new()
    );
}
