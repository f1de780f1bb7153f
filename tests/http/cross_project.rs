//! Cross-project service referencing against the sandbox, over real sockets: seed 002 redone
//! with the URL map in one project and the backend services and serverless NEGs in the other
//! applies, re-plans as all noop and destroys to nothing in both projects; with the permission
//! denied in the backend project the plan is refused before anything is mutated, naming the
//! role to grant where; the sandbox refuses what Google refuses, and counts the traffic in the
//! load balancer's project.

use crate::common::TestApp;
use crate::deploy::{actions, create_deployment, post, run_job, sandbox, sandbox_control, seed};
use crate::deployments_support::ClientExt;
use serde_json::{Value, json};
use switchyard::auth::Role;
use switchyard::cloud::ResourceRef;

const LB: &str = "my-lb-project";
const RUN: &str = "my-run-project";
const SEED: &str = "seed-002-cross-project.json";
const URL_MAP: &str = "hello-lb-urlmap";

fn bs_link(backend: &str) -> String {
    format!(
        "https://www.googleapis.com/compute/v1/projects/{RUN}/global/backendServices/hello-lb-bs-{backend}"
    )
}

/// The sandbox's IAM control for `project`.
async fn sandbox_iam(app: &TestApp, project: &str, body: Value) {
    sandbox_control(app, &format!("projects/{project}/iam"), body).await;
}

/// Every resource of the deployment in `project`.
async fn owned_in(app: &TestApp, project: &str) -> Vec<String> {
    crate::deploy::owned_in(app, project, "hello-lb", &["us-central1"]).await
}

async fn plan(c: &mut crate::common::Client, id: i64) -> Value {
    let (status, body) = post(c, &format!("/api/v1/deployments/{id}/plan")).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn seed_002_with_cross_project_referencing_applies_replans_as_noop_and_destroys_in_both_projects()
 {
    let app = crate::common::spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 20 })).await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let spec = seed(SEED);
    let id = create_deployment(&app, &spec).await;

    let first = plan(&mut c, id).await;
    assert_eq!(first["conflicts"], json!([]), "{first}");
    let first = actions(&first);
    assert!(first.iter().all(|a| a.starts_with("create ")), "{first:?}");
    let job = run_job(&mut c, id, "apply").await;
    assert_eq!(job["status"], "succeeded", "{job}");

    // The backend project holds the NEGs and backend services, the load balancer's the rest.
    let run_side = owned_in(&app, RUN).await;
    let lb_side = owned_in(&app, LB).await;
    assert_eq!(run_side.len(), 4, "{run_side:?}");
    assert!(
        run_side
            .iter()
            .all(|p| p.contains("/backendServices/") || p.contains("/networkEndpointGroups/")),
        "{run_side:?}"
    );
    assert!(
        lb_side
            .iter()
            .all(|p| !p.contains("/backendServices/") && !p.contains("/networkEndpointGroups/")),
        "{lb_side:?}"
    );
    assert_eq!(run_side.len() + lb_side.len(), first.len());

    // The live URL map in the load balancer's project uses the other project's services.
    let map: Value = app
        .state
        .cloud
        .get(&ResourceRef::global(LB, "urlMaps", URL_MAP))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(map["defaultService"], bs_link("hello"), "{map:#}");
    assert_eq!(
        map["pathMatchers"][0]["pathRules"][0]["routeAction"]["weightedBackendServices"][0]["backendService"],
        bs_link("hello2"),
        "{map:#}"
    );
    let bs: Value = app
        .state
        .cloud
        .get(&ResourceRef::global(
            RUN,
            "backendServices",
            "hello-lb-bs-hello",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        bs["usedBy"][0]["reference"],
        format!("https://www.googleapis.com/compute/v1/projects/{LB}/global/urlMaps/{URL_MAP}"),
        "{bs:#}"
    );

    // Now the services exist, the check asks about them: still granted, still nothing to do.
    let again = plan(&mut c, id).await;
    assert_eq!(again["conflicts"], json!([]), "{again}");
    let again = actions(&again);
    assert!(again.iter().all(|a| a.starts_with("noop ")), "{again:?}");
    assert_eq!(again.len(), first.len());

    // Its metrics are the forwarding rule's project's, and name the other project's service.
    let hour = switchyard::cloud::monitoring::Range::ending(
        time::OffsetDateTime::now_utc(),
        std::time::Duration::from_secs(3600),
        60,
    );
    let t = app
        .state
        .cloud
        .lb_traffic(LB, URL_MAP, &hour)
        .await
        .unwrap();
    let backends: std::collections::BTreeSet<&str> = t
        .rps
        .iter()
        .map(|s| s.label("backend_target_name"))
        .collect();
    assert_eq!(
        backends,
        ["hello-lb-bs-hello"].into_iter().collect(),
        "{:?}",
        t.rps
    );
    let none = app
        .state
        .cloud
        .lb_traffic(RUN, URL_MAP, &hour)
        .await
        .unwrap();
    assert!(none.rps.is_empty());

    let job = run_job(&mut c, id, "destroy").await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(owned_in(&app, LB).await, Vec::<String>::new());
    assert_eq!(owned_in(&app, RUN).await, Vec::<String>::new());
}

#[tokio::test]
async fn without_the_use_permission_in_the_backend_project_nothing_is_applied_and_the_role_is_named()
 {
    let app = crate::common::spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 20 })).await;
    sandbox_iam(
        &app,
        RUN,
        json!({ "deniedPermissions": ["compute.backendServices.use"] }),
    )
    .await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let id = create_deployment(&app, &seed(SEED)).await;

    let refused = plan(&mut c, id).await;
    let conflicts = refused["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 2, "one per backend service: {refused}");
    let message = conflicts[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "roles/compute.loadBalancerServiceUser on project {RUN}"
        )) && message.contains("compute.backendServices.use"),
        "{message}"
    );
    assert!(message.contains(&format!(
        "projects/{RUN}/global/backendServices/hello-lb-bs-"
    )));

    // The plan page says the same and offers no Apply.
    let mut page = app.user_client("pat", Role::Editor).await;
    let (status, html) = page.text(&format!("/deployments/{id}/plan")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"plan-conflicts\""), "{html}");
    assert!(
        html.contains("roles/compute.loadBalancerServiceUser on project my-run-project"),
        "{html}"
    );
    assert!(!html.contains("id=\"apply\""), "{html}");

    let (status, body) = post(&mut c, &format!("/api/v1/deployments/{id}/apply")).await;
    assert_eq!(status, 409, "{body}");
    let said = body["error"]["message"].as_str().unwrap();
    assert!(
        said.contains("roles/compute.loadBalancerServiceUser"),
        "{said}"
    );
    let jobs: Value = c
        .get(&format!("/api/v1/jobs?deployment={id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(jobs["jobs"], json!([]), "no job was started: {jobs}");
    assert_eq!(owned_in(&app, LB).await, Vec::<String>::new());
    assert_eq!(owned_in(&app, RUN).await, Vec::<String>::new());

    // Granted, it applies; the grant taken back, the next plan (which now asks the backend
    // service itself) is refused again before touching anything.
    sandbox_iam(&app, RUN, json!({})).await;
    let job = run_job(&mut c, id, "apply").await;
    assert_eq!(job["status"], "succeeded", "{job}");
    sandbox_iam(
        &app,
        RUN,
        json!({ "deniedPermissions": ["compute.backendServices.use"] }),
    )
    .await;
    let refused = plan(&mut c, id).await;
    assert_eq!(
        refused["conflicts"].as_array().unwrap().len(),
        2,
        "{refused}"
    );
}

/// A URL map whose default service is `bs` of another project.
fn map_using(bs: &str) -> switchyard::domain::urlmap::UrlMap {
    serde_json::from_value(json!({ "name": "xmap", "defaultService": bs })).unwrap()
}

#[tokio::test]
async fn the_sandbox_refuses_a_reference_without_the_permission_or_across_organizations() {
    let cloud = crate::cloud_support::start(crate::cloud_support::fast_config()).await;
    let c = &cloud.client;
    let bs = switchyard::cloud::types::BackendService {
        name: "svc".into(),
        load_balancing_scheme: Some("EXTERNAL_MANAGED".into()),
        protocol: Some("HTTPS".into()),
        ..Default::default()
    };
    let op = c
        .backend_services(RUN)
        .insert(&bs, uuid::Uuid::new_v4())
        .await
        .unwrap();
    c.wait_operation(&op).await.unwrap();
    let link = c.backend_services(RUN).link("svc");
    let svc = ResourceRef::global(RUN, "backendServices", "svc");
    let use_ = ["compute.backendServices.use"];

    sandbox_iam_at(&cloud, RUN, json!({ "deniedPermissions": use_ })).await;
    assert_eq!(
        c.test_iam_permissions(&svc, &use_).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        c.test_project_permissions(RUN, &use_).await.unwrap(),
        Vec::<String>::new()
    );
    let err = c
        .url_maps(LB)
        .insert(&map_using(&link), uuid::Uuid::new_v4())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "Required 'compute.backendServices.use' permission for 'projects/{RUN}/global/backendServices/svc'"
        )),
        "{err}"
    );

    sandbox_iam_at(
        &cloud,
        RUN,
        json!({ "organization": "organizations/200000000002" }),
    )
    .await;
    assert_eq!(c.test_iam_permissions(&svc, &use_).await.unwrap(), use_);
    let err = c
        .url_maps(LB)
        .insert(&map_using(&link), uuid::Uuid::new_v4())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("same organization"), "{err}");

    // Same organization and the permission held: accepted, and only by its full reference.
    sandbox_iam_at(&cloud, RUN, json!({})).await;
    let op = c
        .url_maps(LB)
        .insert(&map_using(&link), uuid::Uuid::new_v4())
        .await
        .unwrap();
    c.wait_operation(&op).await.unwrap();
    let err = c
        .url_maps(LB)
        .insert(
            &serde_json::from_value(
                json!({ "name": "short", "defaultService": "global/backendServices/svc" }),
            )
            .unwrap(),
            uuid::Uuid::new_v4(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "projects/{LB}/global/backendServices/svc' was not found"
        )),
        "{err}"
    );
    // In use by the other project's URL map, the backend service cannot go first.
    let err = c
        .backend_services(RUN)
        .delete("svc", uuid::Uuid::new_v4())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "is already being used by 'projects/{LB}/global/urlMaps/xmap'"
        )),
        "{err}"
    );
}

async fn sandbox_iam_at(cloud: &crate::cloud_support::TestCloud, project: &str, body: Value) {
    let r = reqwest::Client::new()
        .post(format!(
            "{}/sandbox/v1/projects/{project}/iam",
            cloud.handle.base_url()
        ))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "sandbox iam: {}", r.status());
}

#[tokio::test]
async fn review_suggests_cross_project_referencing_for_a_run_app_backend_to_a_listed_service() {
    let app = crate::common::spawn_app().await;
    crate::common::deploy_hello(&app.state.cloud, RUN, "us-central1", "hello2").await;
    let svc = app
        .state
        .cloud
        .run_services(RUN, "us-central1")
        .get("hello2")
        .await
        .unwrap()
        .unwrap();
    let host = svc.uri.unwrap().trim_start_matches("https://").to_string();
    let mut ann = app.user_client("ann", Role::Editor).await;
    let mut spec = seed("seed-002.json");
    spec["backends"][1]["fqdn"] = json!(host);
    spec["backends"][1]["host_header"] = json!(host);
    let id = create_deployment(&app, &spec).await;
    let suggestion =
        format!("reaches Cloud Run service `hello2` of project {RUN} over the internet");

    // Not listed yet: the panel cannot tell whose service the host is.
    let (status, html) = ann.text(&format!("/deployments/{id}/edit/review")).await;
    assert_eq!(status, 200);
    assert!(!html.contains(&suggestion), "{html}");

    // The wizard of a deployment in that project lists its services; from then on the panel
    // knows the host, and the Review says what to write instead.
    let r = ann
        .post_form("/deployments", &[("name", "run-side"), ("project", RUN)])
        .await;
    assert_eq!(r.status(), 303);
    let other = crate::deployments_support::location(&r)
        .split('/')
        .nth(2)
        .unwrap()
        .to_string();
    let (status, listed) = ann
        .text(&format!("/deployments/{other}/pickers/services"))
        .await;
    assert_eq!(status, 200, "{listed}");
    assert!(listed.contains("hello2"), "{listed}");
    let (_, html) = ann.text(&format!("/deployments/{id}/edit/review")).await;
    assert!(html.contains(&suggestion), "{html}");
    assert!(
        html.contains("roles/compute.loadBalancerServiceUser"),
        "{html}"
    );
}

#[tokio::test]
async fn the_api_refuses_a_project_on_an_internet_backend_or_a_malformed_one_naming_the_field() {
    let app = crate::common::spawn_app().await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let mut internet = seed("seed-002.json");
    internet["backends"][1]["project"] = json!(RUN);
    let mut malformed = seed(SEED);
    malformed["backends"][0]["project"] = json!("My_Run");
    for (spec, field, says) in [
        (internet, "backends[1].project", "only a serverless backend"),
        (malformed, "backends[0].project", "not a project id"),
    ] {
        let r = c.post_json("/api/v1/deployments", &spec).await;
        assert_eq!(r.status(), 422, "{field}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["field"], field, "{body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{body}"
        );
    }
    // The load balancer's own project is the same as none, and is accepted.
    let mut same = seed(SEED);
    for b in same["backends"].as_array_mut().unwrap() {
        b["project"] = json!(LB);
    }
    let r = c.post_json("/api/v1/deployments", &same).await;
    assert_eq!(r.status(), 201);
}
