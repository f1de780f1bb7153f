//! Cross-project service referencing in the plan: a serverless backend with its own `project`
//! has its NEGs, backend service (and deployed Cloud Run service) there, and the load
//! balancer's URL map names that backend service by its full URL.

use super::*;

const LB: &str = "lb-project";
const RUN: &str = "run-project";

/// Seed 002 redone: the two Cloud Run services of the walkthrough's other project reached
/// through serverless NEGs and backend services in that project instead of internet NEGs.
fn seed_002_cross_project() -> Spec {
    spec(json!({
      "name": "hello-lb", "project": LB,
      "frontend": { "protocol": "https", "domains": ["hello.example.com"], "ip": "static", "http_redirect": true },
      "backends": [
        { "name": "hello", "type": "serverless", "service": "hello", "regions": ["us-central1"], "project": RUN },
        { "name": "hello2", "type": "serverless", "service": "hello2", "regions": ["us-central1"], "project": RUN }
      ],
      "routing": {
        "default": { "backend": "hello" },
        "rules": [ { "hosts": ["*"], "paths": ["/hello2", "/hello2/*"], "backend": "hello2", "prefix_rewrite": "/" } ]
      }
    }))
}

fn in_project(graph: &DesiredGraph, project: &str) -> Vec<ResourceKind> {
    graph
        .resources
        .iter()
        .filter(|r| r.id.starts_with(&format!("projects/{project}/")))
        .map(|r| r.kind.clone())
        .collect()
}

fn bs(project: &str, backend: &str) -> String {
    format!("projects/{project}/global/backendServices/hello-lb-bs-{backend}")
}

const URL_MAP: &str = "projects/lb-project/global/urlMaps/hello-lb-urlmap";

#[test]
fn negs_and_backend_services_live_in_the_backend_project_and_the_map_names_them_in_full() {
    let graph = compile(&seed_002_cross_project());
    let run_side = in_project(&graph, RUN);
    assert_eq!(
        run_side,
        [
            ResourceKind::ServerlessNeg {
                region: "us-central1".into()
            },
            ResourceKind::BackendService,
            ResourceKind::ServerlessNeg {
                region: "us-central1".into()
            },
            ResourceKind::BackendService,
        ]
    );
    let lb_side = in_project(&graph, LB);
    assert!(
        lb_side.iter().all(|k| !matches!(
            k,
            ResourceKind::BackendService | ResourceKind::ServerlessNeg { .. }
        )),
        "{lb_side:?}"
    );
    assert_eq!(lb_side.len() + run_side.len(), graph.resources.len());
    let service = graph.get(&bs(RUN, "hello")).unwrap();
    assert_eq!(
        service.body["backends"][0]["group"],
        full_url(&service.depends_on[0])
    );
    assert!(service.depends_on[0].starts_with("projects/run-project/regions/us-central1/"));
    let map = graph.get(URL_MAP).unwrap();
    assert_eq!(map.body["defaultService"], full_url(&bs(RUN, "hello")));
    let weighted = &map.body["pathMatchers"][0]["pathRules"][0]["routeAction"]["weightedBackendServices"]
        [0]["backendService"];
    assert_eq!(*weighted, full_url(&bs(RUN, "hello2")), "{:#}", map.body);
    assert!(map.depends_on.contains(&bs(RUN, "hello")));
    assert!(map.depends_on.contains(&bs(RUN, "hello2")));
}

#[test]
fn the_load_balancers_own_project_means_the_same_as_none() {
    let mut same = seed_002_cross_project();
    for b in &mut same.backends {
        b.project = Some(LB.into());
    }
    let mut none = seed_002_cross_project();
    for b in &mut none.backends {
        b.project = None;
    }
    assert_eq!(compile(&same), compile(&none));
    // Within one project the map keeps the short project-qualified form it always sent.
    let graph = compile(&none);
    assert_eq!(
        graph.get(URL_MAP).unwrap().body["defaultService"],
        bs(LB, "hello")
    );
    // And a spec without the field serialises without it.
    assert!(
        !serde_json::to_value(&none).unwrap()["backends"][0]
            .as_object()
            .unwrap()
            .contains_key("project")
    );
}

#[test]
fn services_the_spec_deploys_go_to_the_backend_project_before_their_negs() {
    let mut s = seed_002_cross_project();
    s.services = vec![
        serde_json::from_value(json!({
            "name": "hello", "image": "us-docker.pkg.dev/cloudrun/container/hello",
            "regions": ["us-central1"]
        }))
        .unwrap(),
    ];
    let graph = compile(&s);
    let run = "projects/run-project/locations/us-central1/services/hello";
    assert!(graph.get(run).is_some(), "{:#?}", graph.resources);
    assert!(graph.resources.iter().all(|r| {
        !r.id
            .starts_with("projects/lb-project/locations/us-central1/services/")
    }));
    let neg = graph
        .resources
        .iter()
        .find(|r| r.depends_on.iter().any(|d| d == run))
        .expect("the NEG waits for its service");
    assert!(
        neg.id
            .starts_with("projects/run-project/regions/us-central1/networkEndpointGroups/")
    );

    // A multi-region service too: its one resource in `locations/global` is the backend's.
    s.services[0].multi_region = true;
    let graph = compile(&s);
    let global = "projects/run-project/locations/global/services/hello";
    assert!(graph.get(global).is_some(), "{:#?}", graph.resources);
    assert!(
        graph
            .resources
            .iter()
            .any(|r| r.depends_on.iter().any(|d| d == global))
    );
}

#[test]
fn a_first_apply_creates_the_backend_projects_side_before_the_map_and_a_replan_is_noop() {
    let graph = compile(&seed_002_cross_project());
    let plan = diff(&graph, &nothing_live(&graph));
    let steps = steps(&plan).unwrap();
    assert_ordered(&steps);
    for backend in ["hello", "hello2"] {
        assert!(reaches(
            &steps,
            &format!("create:{URL_MAP}"),
            &format!("create:{}", bs(RUN, backend))
        ));
    }
    let live = as_server_returns(&graph);
    let again = diff(&graph, &live);
    assert!(again.is_noop(), "{:#?}", again.entries);
}

#[test]
fn destroy_deletes_both_projects_resources_map_first() {
    let graph = compile(&seed_002_cross_project());
    let live = as_server_returns(&graph);
    let plan = destroy("hello-lb", LB, &live);
    assert_eq!(plan.entries.len(), graph.resources.len());
    assert!(plan.entries.iter().all(|e| e.action == Action::Delete));
    let steps = steps(&plan).unwrap();
    assert_ordered(&steps);
    for backend in ["hello", "hello2"] {
        assert!(reaches(
            &steps,
            &format!("delete:{}", bs(RUN, backend)),
            &format!("delete:{URL_MAP}")
        ));
    }
}

#[test]
fn moving_a_backend_into_its_own_project_is_make_before_break() {
    let mut before = seed_002_cross_project();
    before.backends[1].project = None;
    let old = compile(&before);
    let live = as_server_returns(&old);
    let plan = diff(&compile(&seed_002_cross_project()), &live);
    assert_eq!(entry(&plan, &bs(RUN, "hello2")).action, Action::Create);
    assert_eq!(entry(&plan, &bs(LB, "hello2")).action, Action::Delete);
    assert!(matches!(
        entry(&plan, URL_MAP).action,
        Action::Update { .. }
    ));
    let steps = steps(&plan).unwrap();
    assert_ordered(&steps);
    let map_update = steps
        .iter()
        .find(|s| s.resource == URL_MAP)
        .map(|s| s.id.clone())
        .unwrap();
    // The map moves onto the new backend service, then the old one goes.
    assert!(reaches(
        &steps,
        &map_update,
        &format!("create:{}", bs(RUN, "hello2"))
    ));
    assert!(reaches(
        &steps,
        &format!("delete:{}", bs(LB, "hello2")),
        &map_update
    ));
}
