//! What the wizard picks from, through the client against the sandbox over HTTP: the projects of
//! Resource Manager's `projects.search` (its shape, its paging, a refused page token) and the
//! Cloud Run services of a project with the regions they run in.

use crate::cloud_support::{deploy_hello, fast_config, raw, start};
use reqwest::Method;
use switchyard::cloud::CloudError;
use switchyard::cloud::sandbox::{Fault, SANDBOX_PROJECT};

async fn deploy(cloud: &crate::cloud_support::TestCloud, project: &str, region: &str, id: &str) {
    deploy_hello(&cloud.client, project, region, id).await;
}

#[tokio::test]
async fn projects_search_answers_the_sandbox_project_and_every_project_in_use() {
    let cloud = start(fast_config()).await;
    let only = cloud.client.search_projects().await.unwrap();
    assert_eq!(only.len(), 1, "{only:?}");
    assert_eq!(only[0].project_id, SANDBOX_PROJECT);
    assert!(only[0].is_active());
    assert!(only[0].name.starts_with("projects/"), "{}", only[0].name);
    assert!(
        only[0].name["projects/".len()..]
            .chars()
            .all(|c| c.is_ascii_digit())
    );

    deploy(&cloud, "acme-shop", "europe-west1", "hello").await;
    deploy(&cloud, "beta-tools", "us-central1", "tool").await;
    let ids: Vec<String> = cloud
        .client
        .search_projects()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.project_id)
        .collect();
    assert_eq!(ids, ["acme-shop", "beta-tools", SANDBOX_PROJECT]);
}

#[tokio::test]
async fn projects_search_pages_with_opaque_tokens_and_refuses_one_it_did_not_hand_out() {
    let cloud = start(fast_config()).await;
    deploy(&cloud, "acme-shop", "europe-west1", "hello").await;
    deploy(&cloud, "beta-tools", "us-central1", "tool").await;

    let (status, first) = raw(&cloud, Method::GET, "/v3/projects:search?pageSize=2", None).await;
    assert_eq!(status, 200, "{first}");
    let ids = |page: &serde_json::Value| -> Vec<String> {
        page["projects"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| p["projectId"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&first), ["acme-shop", "beta-tools"]);
    assert_eq!(first["projects"][0]["state"], "ACTIVE");
    assert_eq!(first["projects"][0]["displayName"], "acme-shop");
    let token = first["nextPageToken"].as_str().unwrap();
    assert!(
        !token.contains("beta-tools"),
        "the token is opaque: {token}"
    );

    let (status, last) = raw(
        &cloud,
        Method::GET,
        &format!("/v3/projects:search?pageSize=2&pageToken={token}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{last}");
    assert_eq!(ids(&last), [SANDBOX_PROJECT]);
    assert!(last.get("nextPageToken").is_none(), "{last}");

    let (status, refused) = raw(
        &cloud,
        Method::GET,
        "/v3/projects:search?pageToken=beta-tools",
        None,
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"]["status"], "INVALID_ARGUMENT");
    assert_eq!(refused["error"]["code"], 400);

    // The discovery document decides what exists: a parameter search does not take is refused,
    // a method the sandbox does not model is a 501, a path no method has Google's HTML 404.
    let (status, unknown) = raw(&cloud, Method::GET, "/v3/projects:search?filter=x", None).await;
    assert_eq!(status, 400, "{unknown}");
    let (status, _) = raw(&cloud, Method::GET, "/v3/projects/acme-shop", None).await;
    assert_eq!(status, 501);
    let (status, html) = raw(&cloud, Method::GET, "/v3/nothing:here", None).await;
    assert_eq!((status, html), (404, serde_json::Value::Null));
}

#[tokio::test]
async fn the_client_follows_every_page_and_says_why_it_could_not_search() {
    let cloud = start(switchyard::cloud::sandbox::SandboxConfig {
        operation_latency: std::time::Duration::ZERO,
        ..fast_config()
    })
    .await;
    // More projects than one page of the client's (100) holds.
    for i in 0..101 {
        let op = cloud
            .client
            .serverless_negs(&format!("proj-{i:03}"), "us-central1")
            .insert(
                &switchyard::cloud::types::NetworkEndpointGroup::serverless("neg", "hello"),
                uuid::Uuid::new_v4(),
            )
            .await
            .unwrap();
        cloud.client.wait_operation(&op).await.unwrap();
    }
    let all = cloud.client.search_projects().await.unwrap();
    assert_eq!(all.len(), 102);
    assert_eq!(all[100].project_id, "proj-100");

    // Retried like every other call: one 503 costs nothing.
    cloud.handle.sandbox.push_fault(Fault::Transient);
    assert_eq!(cloud.client.search_projects().await.unwrap().len(), 102);

    let stranger = switchyard::cloud::Client::new(
        switchyard::cloud::ClientConfig::new(
            &cloud.handle.compute_endpoint(),
            &cloud.handle.run_endpoint(),
        )
        .with_resourcemanager(&cloud.handle.resourcemanager_endpoint()),
        std::sync::Arc::new(switchyard::cloud::StaticToken("ya29.not-issued".into())),
    )
    .unwrap();
    match stranger.search_projects().await {
        Err(CloudError::Unauthenticated { .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn run_services_are_listed_with_the_regions_they_run_in() {
    let cloud = start(fast_config()).await;
    deploy(&cloud, "acme", "europe-west1", "hello").await;
    deploy(&cloud, "acme", "us-central1", "hello").await;
    deploy(&cloud, "acme", "us-central1", "api").await;
    deploy(&cloud, "other", "us-central1", "elsewhere").await;

    let regions = ["asia-east1", "europe-west1", "us-central1"];
    let names = |listed: &[switchyard::cloud::types::RunService]| -> Vec<String> {
        let mut n: Vec<String> = listed
            .iter()
            .map(|s| {
                s.name
                    .as_deref()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        n.sort();
        n
    };
    let answers = cloud.client.run_services_in("acme", &regions).await;
    let found: Vec<(String, Vec<String>)> = answers
        .iter()
        .map(|(region, listed)| (region.clone(), names(listed.as_ref().unwrap())))
        .collect();
    assert_eq!(
        found,
        [
            ("asia-east1".to_string(), vec![]),
            ("europe-west1".to_string(), vec!["hello".to_string()]),
            (
                "us-central1".to_string(),
                vec!["api".to_string(), "hello".to_string()]
            ),
        ]
    );

    // One region refusing leaves the others' answers: a client that does not retry, and one
    // 503 for the first list it sends.
    let once = switchyard::cloud::Client::new(
        switchyard::cloud::ClientConfig {
            retry: switchyard::cloud::RetryPolicy {
                transient_attempts: 1,
                ..switchyard::cloud::RetryPolicy::fast()
            },
            ..cloud.client.config().clone()
        },
        std::sync::Arc::new(
            switchyard::cloud::GcpAuthTokens::service_account_json(
                &cloud.handle.sandbox.service_account_key_json(),
            )
            .unwrap(),
        ),
    )
    .unwrap();
    cloud.handle.sandbox.push_fault(Fault::Transient);
    let answers = once.run_services_in("acme", &regions).await;
    let failed: Vec<&str> = answers
        .iter()
        .filter(|(_, l)| matches!(l, Err(CloudError::Transient { .. })))
        .map(|(r, _)| r.as_str())
        .collect();
    assert_eq!(failed.len(), 1, "{answers:?}");
    assert_eq!(answers.iter().filter(|(_, l)| l.is_ok()).count(), 2);

    // Cloud Run takes no `-` wildcard location, and says so in its own words.
    let (status, body) = raw(
        &cloud,
        Method::GET,
        "/v2/projects/acme/locations/-/services",
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");
}
