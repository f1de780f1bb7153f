//! Adopting seeds 001 and 002 as built by hand, through the JSON API as a script would, and a
//! load balancer with parts the spec cannot express: kept untouched through plan and apply,
//! or refused with the reason, as the listing says.

use crate::common::{TestApp, spawn_app};
use crate::deploy::sandbox;
use crate::hand_built::{
    self, HELLO, HELLO2, P, P2, R, SEED_001_REGIONS, build_seed_000, build_seed_001,
    build_seed_002, everything, everything_with_ids,
};
use serde_json::{Value, json};
use switchyard::auth::Role;
use switchyard::cloud::ResourceRef;
use switchyard::db::deployments::DeploymentRow;

async fn run(app: &TestApp, job: i64) {
    let done = app.state.deployer.runner().wait(job).await.unwrap();
    assert_eq!(done.status, "succeeded", "job {job}: {:?}", done.error);
}

/// Lists `project`'s load balancers and adopts `lb` through the API; returns the listing
/// entry and the new deployment.
async fn adopt(app: &TestApp, project: &str, lb: &str) -> (Value, DeploymentRow) {
    let mut editor = app.token_client("adopter", Role::Editor).await;
    let body: Value = editor
        .get(&format!("/api/v1/projects/{project}/load-balancers"))
        .await
        .json()
        .await
        .unwrap();
    let found = body["load_balancers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == lb)
        .unwrap_or_else(|| panic!("{lb} not found: {body}"))
        .clone();
    let r = editor
        .post_json(
            &format!("/api/v1/projects/{project}/load-balancers/{lb}/adopt"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 201, "{found}");
    let made: Value = r.json().await.unwrap();
    let row = switchyard::db::deployments::get(&app.state.db, made["id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    (found, row)
}

/// The first plan is all noop, and its apply recreates nothing.
async fn apply_adopted(app: &TestApp, row: &DeploymentRow, project: &str, regions: &[&str]) {
    let planned = app.state.deployer.plan(row).await.unwrap();
    hand_built::assert_first_plan_noop(&planned.plan);
    assert!(!planned.plan.ownership.is_empty());
    let before = everything_with_ids(app, project, regions).await;
    let job = app.state.deployer.apply(row, "ed").await.unwrap();
    run(app, job).await;
    assert_eq!(
        everything_with_ids(app, project, regions).await,
        before,
        "nothing recreated"
    );
    let again = app.state.deployer.plan(row).await.unwrap();
    assert!(again.plan.is_noop() && again.plan.ownership.is_empty());
}

async fn drift(app: &TestApp, id: i64) -> switchyard::db::drift_checks::DriftRow {
    switchyard::drift::check(
        &app.state.db,
        app.state.deployer.reader().as_ref(),
        id,
        "ed",
    )
    .await
    .unwrap()
}

async fn destroy(app: &TestApp, id: i64) {
    let row = switchyard::db::deployments::get(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    let job = app.state.deployer.destroy(&row, "ed", false).await.unwrap();
    run(app, job).await;
}

#[tokio::test]
async fn seed_001_three_negs_in_one_backend_service_is_adopted_drifts_and_is_destroyed() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    build_seed_001(&app).await;
    let regions: Vec<&str> = SEED_001_REGIONS.iter().map(|(r, _)| *r).collect();

    let (found, row) = adopt(&app, P, "my-app-forwarding").await;
    assert_eq!(found["domains"], json!(["app.example.com"]), "{found}");
    assert_eq!(found["resources"].as_array().unwrap().len(), 9, "{found}");
    let spec: Value = serde_json::from_str(&row.spec).unwrap();
    assert_eq!(spec["backends"][0]["service"], "my-app");
    let mut seen: Vec<&str> = spec["backends"][0]["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    seen.sort();
    let mut want = regions.clone();
    want.sort();
    assert_eq!(seen, want);
    for (region, neg) in SEED_001_REGIONS {
        assert_eq!(
            spec["names"]["backends"]["my-app-backend"]["negs"][region], neg,
            "{spec}"
        );
    }
    assert_eq!(spec["names"]["address"], "my-app-ip");
    apply_adopted(&app, &row, P, &regions).await;

    assert_eq!(drift(&app, row.id).await.result, "in_sync");
    // Someone turns Cloud CDN on in the console.
    let bs = ResourceRef::global(P, "backendServices", "my-app-backend");
    hand_built::change_by_hand(&app, &bs, json!({"enableCDN": true})).await;
    let d = drift(&app, row.id).await;
    assert_eq!(d.result, "drifted");
    assert!(
        d.differences.contains("my-app-backend") && d.differences.contains("enableCDN"),
        "{}",
        d.differences
    );

    destroy(&app, row.id).await;
    assert_eq!(everything(&app, P, &regions).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_backend_service_in_another_project_is_adopted_as_a_cross_project_backend() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    hand_built::build_cross_project(&app).await;
    let run_project = hand_built::RUN_PROJECT;

    let (found, row) = adopt(&app, P, "shop-rule").await;
    assert!(
        found["resources"]
            .as_array()
            .unwrap()
            .contains(&json!(hand_built::link(&format!(
                "projects/{run_project}/global/backendServices/orders-backend"
            )))),
        "{found}"
    );
    let spec: Value = serde_json::from_str(&row.spec).unwrap();
    let b = &spec["backends"][0];
    assert_eq!(
        (&b["type"], &b["service"], &b["project"]),
        (&json!("serverless"), &json!("orders"), &json!(run_project)),
        "{spec}"
    );
    assert_eq!(b["regions"], json!([R]));
    assert_eq!(
        spec["names"]["backends"]["orders-backend"]["negs"][R],
        "orders-neg"
    );

    // Adopted in place in both projects: nothing recreated in either.
    let before = everything_with_ids(&app, run_project, &[R]).await;
    apply_adopted(&app, &row, P, &[R]).await;
    assert_eq!(everything_with_ids(&app, run_project, &[R]).await, before);
    assert_eq!(drift(&app, row.id).await.result, "in_sync");

    destroy(&app, row.id).await;
    assert_eq!(everything(&app, P, &[R]).await, Vec::<String>::new());
    assert_eq!(
        everything(&app, run_project, &[R]).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn seed_002_one_internet_neg_shared_by_two_backend_services_is_adopted() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    build_seed_002(&app).await;

    let (found, row) = adopt(&app, P2, "hello-lb-frontend").await;
    assert_eq!(found["shared_backend_services"], json!([]), "{found}");
    let spec: Value = serde_json::from_str(&row.spec).unwrap();
    let backends = spec["backends"].as_array().unwrap();
    assert_eq!(backends.len(), 2, "{spec}");
    let host_of = |name: &str| {
        backends
            .iter()
            .find(|b| b["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {spec}"))
    };
    for (b, host) in [("hello-backend", HELLO), ("hello2-backend", HELLO2)] {
        assert_eq!(host_of(b)["type"], "internet");
        assert_eq!(host_of(b)["fqdn"], HELLO, "one NEG, one endpoint");
        assert_eq!(host_of(b)["host_header"], host);
    }
    assert_eq!(spec["frontend"]["protocol"], "http");
    let rule = &spec["routing"]["rules"][0];
    assert_eq!(rule["backend"], "hello2-backend", "{spec}");
    assert_eq!(rule["prefix_rewrite"], "/");
    assert_eq!(rule["paths"], json!(["/hello2", "/hello2/*"]));
    apply_adopted(&app, &row, P2, &[]).await;
    assert_eq!(drift(&app, row.id).await.result, "in_sync");

    destroy(&app, row.id).await;
    assert_eq!(everything(&app, P2, &[]).await, Vec::<String>::new());
}

#[tokio::test]
async fn what_the_spec_cannot_express_is_kept_through_plan_and_apply_or_refuses_adoption() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    build_seed_000(&app).await;
    // Set in the console: request logging, which the spec says (`logging`), and response
    // headers, which nothing in the spec says.
    let bs = ResourceRef::global(P, "backendServices", "cloudrun-backend");
    let log = json!({ "enable": true, "sampleRate": 0.25 });
    hand_built::change_by_hand(
        &app,
        &bs,
        json!({ "logConfig": log, "customResponseHeaders": ["X-Frame-Options: DENY"] }),
    )
    .await;
    let mut editor = app.token_client("ed", Role::Editor).await;
    let body: Value = editor
        .get(&format!("/api/v1/projects/{P}/load-balancers"))
        .await
        .json()
        .await
        .unwrap();
    let lb = &body["load_balancers"][0];
    let kept: Vec<&Value> = lb["unexpressible"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["outcome"] == "kept")
        .collect();
    assert_eq!(kept.len(), 1, "{lb}");
    assert_eq!(kept[0]["what"], "customResponseHeaders");
    assert_eq!(kept[0]["meaning"], "headers added to every response");

    let (_, row) = adopt(&app, P, "https-forwarding-rule").await;
    let adopted: Value = serde_json::from_str(&row.spec).unwrap();
    assert_eq!(
        adopted["backends"][0]["logging"],
        json!({ "sample_rate": 0.25 }),
        "{adopted}"
    );
    // Until an apply records the adoption, destroying the draft claims nothing.
    let destroy_first = app.state.deployer.destroy_plan(&row, false).await.unwrap();
    assert!(
        destroy_first
            .plan
            .entries
            .iter()
            .all(|e| e.action.name() != "delete"),
        "{:?}",
        destroy_first.plan.entries
    );
    apply_adopted(&app, &row, P, &[R]).await;
    // An edit that replaces the whole backend service leaves the headers as they were, and
    // the logging as the spec says.
    let mut spec: Value = serde_json::from_str(&row.spec).unwrap();
    spec["backends"][0]["cdn"] = json!(false);
    let row = switchyard::db::deployments::update(
        &app.state.db,
        row.id,
        row.version,
        &row.name,
        &spec.to_string(),
        "ed",
    )
    .await
    .unwrap();
    let planned = app.state.deployer.plan(&row).await.unwrap();
    let changed: Vec<&str> = planned
        .plan
        .entries
        .iter()
        .filter(|e| e.action.name() != "noop")
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(changed, vec!["cloudrun-backend"]);
    let job = app.state.deployer.apply(&row, "ed").await.unwrap();
    run(&app, job).await;
    let live: Value = app.state.cloud.get(&bs).await.unwrap().unwrap();
    assert_eq!(live["enableCDN"], json!(false), "{live}");
    assert_eq!(live["logConfig"]["sampleRate"], json!(0.25), "{live}");
    assert_eq!(
        live["customResponseHeaders"],
        json!(["X-Frame-Options: DENY"]),
        "{live}"
    );
    assert!(app.state.deployer.plan(&row).await.unwrap().plan.is_noop());

    // The overview lists what it does not manage.
    let mut viewer = app.user_client("vi", Role::Viewer).await;
    let page = viewer
        .get(&format!("/deployments/{}/overview", row.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"not-managed\""), "{page}");
    assert!(page.contains("headers added to every response"));
}

#[tokio::test]
async fn a_classic_load_balancer_is_listed_with_the_reason_and_not_adopted() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    let classic = |v: &mut Value| v["loadBalancingScheme"] = json!("EXTERNAL");
    hand_built::insert(
        &app,
        switchyard::cloud::CollectionRef::global(P, "backendServices"),
        {
            let mut v = json!({ "name": "old-backend", "protocol": "HTTP" });
            classic(&mut v);
            v
        },
    )
    .await;
    hand_built::insert(
        &app,
        switchyard::cloud::CollectionRef::global(P, "urlMaps"),
        json!({ "name": "old-map",
                "defaultService": hand_built::link(&format!("projects/{P}/global/backendServices/old-backend")) }),
    )
    .await;
    hand_built::insert(
        &app,
        switchyard::cloud::CollectionRef::global(P, "targetHttpProxies"),
        json!({ "name": "old-proxy",
                "urlMap": hand_built::link(&format!("projects/{P}/global/urlMaps/old-map")) }),
    )
    .await;
    hand_built::insert(
        &app,
        switchyard::cloud::CollectionRef::global(P, "forwardingRules"),
        {
            let mut v = json!({ "name": "old-rule", "IPProtocol": "TCP", "portRange": "80",
                "target": hand_built::link(&format!("projects/{P}/global/targetHttpProxies/old-proxy")) });
            classic(&mut v);
            v
        },
    )
    .await;
    let mut editor = app.token_client("ed", Role::Editor).await;
    let body: Value = editor
        .get(&format!("/api/v1/projects/{P}/load-balancers"))
        .await
        .json()
        .await
        .unwrap();
    let lb = &body["load_balancers"][0];
    assert_eq!(lb["id"], "old-rule", "{body}");
    assert_eq!(lb["adoptable"], false);
    let refusal = lb["unexpressible"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["outcome"] == "refused")
        .unwrap_or_else(|| panic!("{lb}"));
    assert!(
        refusal["reason"]
            .as_str()
            .unwrap()
            .contains("classic Application Load Balancer"),
        "{refusal}"
    );
    let r = editor
        .post_json(
            &format!("/api/v1/projects/{P}/load-balancers/old-rule/adopt"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 409);
    let why: Value = r.json().await.unwrap();
    assert!(
        why.to_string()
            .contains("classic Application Load Balancer"),
        "{why}"
    );
    assert!(
        switchyard::db::deployments::list(&app.state.db)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn two_load_balancers_sharing_an_ip_or_a_backend_service_are_found_as_such() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    build_seed_000(&app).await;
    let link = hand_built::link;
    let global = |c: &str| switchyard::cloud::CollectionRef::global(P, c);
    // A second load balancer: its own map, proxy and rule, on seed 000's backend service.
    hand_built::insert(
        &app,
        global("urlMaps"),
        json!({ "name": "other-map",
                "defaultService": link(&format!("projects/{P}/global/backendServices/cloudrun-backend")) }),
    )
    .await;
    hand_built::insert(
        &app,
        global("targetHttpProxies"),
        json!({ "name": "other-proxy", "urlMap": link(&format!("projects/{P}/global/urlMaps/other-map")) }),
    )
    .await;
    let address: Value = app
        .state
        .cloud
        .get(&ResourceRef::global(P, "addresses", "global-ip"))
        .await
        .unwrap()
        .unwrap();
    // On the same IP, port 80.
    hand_built::insert(
        &app,
        global("forwardingRules"),
        json!({ "name": "other-rule", "IPAddress": address["address"], "IPProtocol": "TCP",
                "portRange": "80", "loadBalancingScheme": "EXTERNAL_MANAGED", "networkTier": "PREMIUM",
                "target": link(&format!("projects/{P}/global/targetHttpProxies/other-proxy")) }),
    )
    .await;
    let mut viewer = app.token_client("vi", Role::Viewer).await;
    let body: Value = viewer
        .get(&format!("/api/v1/projects/{P}/load-balancers"))
        .await
        .json()
        .await
        .unwrap();
    let lbs = body["load_balancers"].as_array().unwrap();
    assert_eq!(lbs.len(), 2, "{body}");
    for lb in lbs {
        assert_eq!(lb["shared_ip"], true, "{lb}");
        assert_eq!(
            lb["shared_backend_services"],
            json!([format!(
                "projects/{P}/global/backendServices/cloudrun-backend"
            )]),
            "{lb}"
        );
        assert_eq!(lb["adoptable"], false, "{lb}");
    }
}

#[tokio::test]
async fn a_released_load_balancer_can_be_adopted_again() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    build_seed_000(&app).await;
    let (_, row) = adopt(&app, P, "https-forwarding-rule").await;
    apply_adopted(&app, &row, P, &[R]).await;
    let released = app
        .state
        .deployer
        .forget(&row, &row.name, "ed")
        .await
        .unwrap();
    assert!(!released.resource_paths().is_empty());
    // Released: it keeps serving, nobody manages it, and adopting it again takes it back.
    let mut editor = app.token_client("ed2", Role::Editor).await;
    let r = editor
        .post_json(
            &format!("/api/v1/projects/{P}/load-balancers/https-forwarding-rule/adopt"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let made: Value = r.json().await.unwrap();
    let again = switchyard::db::deployments::get(&app.state.db, made["id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    let planned = app.state.deployer.plan(&again).await.unwrap();
    hand_built::assert_first_plan_noop(&planned.plan);
    let record = switchyard::db::forgotten::list(&app.state.db)
        .await
        .unwrap();
    assert!(record.is_empty(), "every resource taken back: {record:?}");
    let audit = switchyard::db::audit::page(
        &app.state.db,
        &switchyard::db::audit::Filter {
            actor: Some("ed2".into()),
            ..Default::default()
        },
        None,
        10,
    )
    .await
    .unwrap();
    assert!(
        audit[0]
            .detail
            .contains("\"reclaimed_from\":\"cloudrun-url-map\""),
        "{audit:?}"
    );
}
