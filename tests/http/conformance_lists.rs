//! Conformance, lists (API-NOTES §0, §21.1, §1): Compute's list shape, `maxResults` and
//! `pageToken` paging, no `items` on an empty page; Cloud Run's service and operation lists,
//! `pageSize` paging and `{}` when empty.

use crate::conformance_support::*;
use serde_json::{Value, json};

async fn health_checks(c: &crate::cloud_support::TestCloud, n: usize) {
    for i in 0..n {
        create(
            c,
            &g("healthChecks"),
            json!({"name": format!("h{i}"), "type": "HTTP"}),
        )
        .await;
    }
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn s0_a_list_has_computes_shape() {
    let c = cloud().await;
    health_checks(&c, 1).await;
    let page = get(&c, &g("healthChecks")).await.ok().clone();
    assert_eq!(page["kind"], "compute#healthCheckList");
    assert_eq!(page["id"], "projects/acme/global/healthChecks");
    assert_eq!(page["selfLink"], link("global/healthChecks"));
    assert_eq!(names(&page), ["h0"]);
    assert!(page.get("nextPageToken").is_none());
}

#[tokio::test]
async fn s21_1_an_empty_list_has_no_items() {
    let c = cloud().await;
    let page = get(&c, &reg("networkEndpointGroups")).await.ok().clone();
    assert_eq!(
        page,
        json!({"kind": "compute#networkEndpointGroupList",
            "id": format!("projects/acme/regions/{R}/networkEndpointGroups"),
            "selfLink": link(&format!("regions/{R}/networkEndpointGroups"))})
    );
}

#[tokio::test]
async fn s0_max_results_and_page_tokens_page_through_by_name() {
    let c = cloud().await;
    health_checks(&c, 3).await;
    let first = get(&c, &format!("{}?maxResults=2", g("healthChecks")))
        .await
        .ok()
        .clone();
    assert_eq!(names(&first), ["h0", "h1"]);
    let token = first["nextPageToken"].as_str().unwrap();
    let second = get(
        &c,
        &format!("{}?maxResults=2&pageToken={token}", g("healthChecks")),
    )
    .await
    .ok()
    .clone();
    assert_eq!(names(&second), ["h2"]);
    assert!(second.get("nextPageToken").is_none());
    // 0, like no value, is the default of 500.
    let all = get(&c, &format!("{}?maxResults=0", g("healthChecks"))).await;
    assert_eq!(names(all.ok()).len(), 3);
}

#[tokio::test]
async fn s0_max_results_above_500_and_bad_tokens_are_refused() {
    let c = cloud().await;
    get(&c, &format!("{}?maxResults=501", g("healthChecks")))
        .await
        .is_error(
            400,
            "invalid",
            "Invalid value for field 'maxResults': '501'. Must be between 0 and 500.",
        );
    get(&c, &format!("{}?pageToken=-", g("healthChecks")))
        .await
        .is_error(
            400,
            "invalid",
            "Invalid value for field 'pageToken': '-'. Invalid page token.",
        );
}

#[tokio::test]
async fn s21_1_filters_and_other_orders_are_refused_by_the_sandbox() {
    let c = cloud().await;
    get(&c, &format!("{}?filter=name%3Dh0", g("healthChecks")))
        .await
        .is_error(
            400,
            "invalid",
            "Invalid value for field 'filter': 'name=h0'. The sandbox does not implement list filters; list everything and filter locally.",
        );
    get(
        &c,
        &format!("{}?orderBy=creationTimestamp%20desc", g("healthChecks")),
    )
    .await
    .is_error(
        400,
        "invalid",
        "Invalid value for field 'orderBy': 'creationTimestamp desc'. The sandbox lists by name only; leave orderBy unset or set it to 'name'.",
    );
    assert_eq!(
        get(&c, &format!("{}?orderBy=name", g("healthChecks")))
            .await
            .ok()["kind"],
        "compute#healthCheckList"
    );
}

async fn run_service(c: &crate::cloud_support::TestCloud, id: &str) -> Value {
    post(
        c,
        &run(&format!("services?serviceId={id}")),
        json!({"template": {"containers": [{"image": "us-docker.pkg.dev/cloudrun/container/hello"}]}}),
    )
    .await
    .ok()
    .clone()
}

#[tokio::test]
async fn s1_cloud_run_service_lists_page_and_an_empty_one_is_empty() {
    let c = cloud().await;
    assert_eq!(get(&c, &run("services")).await.ok(), &json!({}));
    for id in ["a", "b", "c"] {
        run_service(&c, id).await;
    }
    let first = get(&c, &format!("{}?pageSize=2", run("services")))
        .await
        .ok()
        .clone();
    let ids = |p: &Value| -> Vec<String> {
        p["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                s["name"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(ids(&first), ["a", "b"]);
    let token = first["nextPageToken"].as_str().unwrap();
    let second = get(
        &c,
        &format!("{}?pageSize=2&pageToken={token}", run("services")),
    )
    .await
    .ok()
    .clone();
    assert_eq!(ids(&second), ["c"]);
    assert!(second.get("nextPageToken").is_none());
}

#[tokio::test]
async fn s1_cloud_run_operations_list_newest_first_by_page_with_the_done_filter() {
    let c = cloud().await;
    assert_eq!(get(&c, &run("operations")).await.ok(), &json!({}));
    let mut started = Vec::new();
    for id in ["a", "b", "c"] {
        started.push(
            run_service(&c, id).await["name"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let op_names = |p: &Value| -> Vec<String> {
        p["operations"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|o| o["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let first = get(&c, &format!("{}?pageSize=2", run("operations")))
        .await
        .ok()
        .clone();
    assert_eq!(op_names(&first), [started[2].clone(), started[1].clone()]);
    let token = first["nextPageToken"].as_str().unwrap();
    let second = get(
        &c,
        &format!("{}?pageSize=2&pageToken={token}", run("operations")),
    )
    .await
    .ok()
    .clone();
    assert_eq!(op_names(&second), [started[0].clone()]);
    assert!(second.get("nextPageToken").is_none());
    // Each entry is the operation as GET answers it.
    let running = get(&c, &format!("{}?filter=done%3Afalse", run("operations")))
        .await
        .ok()
        .clone();
    for op in running["operations"].as_array().into_iter().flatten() {
        assert!(op.get("done").is_none(), "{op}");
    }
    for name in &started {
        let op = post(&c, &format!("/v2/{name}:wait"), json!({}))
            .await
            .ok()
            .clone();
        assert_eq!(op["done"], true);
    }
    let finished = get(&c, &format!("{}?filter=done%3Atrue", run("operations")))
        .await
        .ok()
        .clone();
    assert_eq!(op_names(&finished).len(), 3);
    assert_eq!(
        get(&c, &format!("{}?filter=done%3Afalse", run("operations")))
            .await
            .ok(),
        &json!({})
    );
    get(&c, &format!("{}?filter=metadata.x%3D1", run("operations")))
        .await
        .is_error(
            400,
            "INVALID_ARGUMENT",
            "The filter 'metadata.x=1' is not supported: use done:true, done:false or none.",
        );
}
