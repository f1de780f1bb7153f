//! The wizard's pick lists over HTTP, against the panel's own sandbox: the projects on Basics,
//! the Cloud Run services (with their regions) on Backends, kept a minute, signed-in users only,
//! and a quiet note instead of a list when the cloud cannot answer.

use crate::common::TestApp;
use crate::deployments_support::{ClientExt, location, spawn_app};
use switchyard::auth::Role;

async fn deploy(app: &TestApp, project: &str, region: &str, id: &str) {
    crate::cloud_support::deploy_hello(&app.state.cloud, project, region, id).await;
}

async fn new_draft(c: &mut crate::common::Client, project: &str) -> String {
    let r = c
        .post_form("/deployments", &[("name", "shop"), ("project", project)])
        .await;
    assert_eq!(r.status(), 303);
    location(&r).split('/').nth(2).unwrap().to_string()
}

/// The `<option>` tags of a picker answer.
fn options(html: &str) -> Vec<String> {
    html.split("<option ")
        .skip(1)
        .map(|o| o.split('>').next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn basics_offers_the_projects_and_backends_the_services_with_their_regions() {
    let app = spawn_app().await;
    deploy(&app, "acme-shop", "europe-west1", "hello").await;
    deploy(&app, "acme-shop", "us-central1", "hello").await;
    deploy(&app, "acme-shop", "us-central1", "api").await;
    deploy(&app, "other-team", "us-central1", "theirs").await;
    let mut ann = app.user_client("ann", Role::Editor).await;
    let (status, new) = ann.text("/deployments/new").await;
    assert_eq!(status, 200);
    assert!(new.contains(r#"list="project-choices""#), "{new}");
    assert!(new.contains(r#"hx-get="/pickers/projects""#), "{new}");
    let id = new_draft(&mut ann, "acme-shop").await;

    // The step loads its list after the page, and the field names it.
    let (status, basics) = ann.text(&format!("/deployments/{id}/edit/basics")).await;
    assert_eq!(status, 200);
    assert!(basics.contains(r#"list="project-choices""#), "{basics}");
    assert!(basics.contains(r#"hx-get="/pickers/projects""#), "{basics}");
    assert!(basics.contains("/static/js/pickers.js?v="), "{basics}");

    let (status, projects) = ann.text("/pickers/projects").await;
    assert_eq!(status, 200, "{projects}");
    assert_eq!(
        options(&projects),
        [
            r#"value="acme-shop""#,
            r#"value="other-team""#,
            r#"value="switchyard-sandbox""#,
        ]
    );
    assert!(
        projects.contains("3 projects to pick from, or type the project id."),
        "{projects}"
    );

    let (status, backends) = ann.text(&format!("/deployments/{id}/edit/backends")).await;
    assert_eq!(status, 200);
    assert!(
        backends.contains(&format!(r#"hx-get="/deployments/{id}/pickers/services""#)),
        "{backends}"
    );
    assert!(
        backends.contains(r#"list="service-choices" data-fills-regions="serverless-regions""#),
        "{backends}"
    );
    let (status, services) = ann
        .text(&format!("/deployments/{id}/pickers/services"))
        .await;
    assert_eq!(status, 200, "{services}");
    assert_eq!(
        options(&services),
        [
            r#"value="api" label="api — us-central1" data-regions="us-central1""#,
            r#"value="hello" label="hello — europe-west1, us-central1" data-regions="europe-west1, us-central1""#,
        ]
    );
    assert!(
        services.contains("2 Cloud Run services to pick from (a pick fills in the regions it runs in), or type the service name."),
        "{services}"
    );

    // Kept for a minute: a service deployed since is not asked for on every keystroke.
    deploy(&app, "acme-shop", "asia-east1", "late").await;
    let (_, again) = ann
        .text(&format!("/deployments/{id}/pickers/services"))
        .await;
    assert_eq!(options(&again), options(&services));

    // A viewer reads the lists too; someone not signed in does not.
    let mut vic = app.user_client("vic", Role::Viewer).await;
    let (status, _) = vic.text("/pickers/projects").await;
    assert_eq!(status, 200);
    let mut anon = app.anonymous();
    let r = anon.get("/pickers/projects").await;
    assert!(crate::common::Client::is_signin_redirect(&r), "{r:?}");
    let r = anon
        .get(&format!("/deployments/{id}/pickers/services"))
        .await;
    assert!(crate::common::Client::is_signin_redirect(&r), "{r:?}");
    let (status, _) = ann.text("/deployments/999999/pickers/services").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn when_the_cloud_cannot_answer_the_form_still_works_and_says_why_the_list_is_empty() {
    let app = spawn_app().await;
    let mut ann = app.user_client("ann", Role::Editor).await;
    // Every attempt of the client's (eight) answered 503.
    let faults = format!("{}sandbox/v1/faults", app.state.cloud.config().run_endpoint);
    let r = reqwest::Client::new()
        .post(&faults)
        .json(&serde_json::json!({"queue": vec!["transient"; 8]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, projects) = ann.text("/pickers/projects").await;
    assert_eq!(status, 200, "{projects}");
    assert!(options(&projects).is_empty(), "{projects}");
    assert!(
        projects.contains("No list of projects: temporary Google Cloud failure (HTTP 503)"),
        "{projects}"
    );
    assert!(projects.contains("Type the project id."), "{projects}");

    // A draft whose project is not a project id yet is not looked up at all.
    let id = new_draft(&mut ann, "acme-shop").await;
    let r = ann
        .post_form(
            &format!("/deployments/{id}/edit/basics"),
            &[("version", "1"), ("name", "shop"), ("project", "X")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (status, services) = ann
        .text(&format!("/deployments/{id}/pickers/services"))
        .await;
    assert_eq!(status, 200, "{services}");
    assert!(
        services.contains(
            "No list of Cloud Run services: the project on Basics is not a project id yet."
        ),
        "{services}"
    );
    // Typing stays possible: the field takes any value and the step saves it.
    let (_, basics) = ann.text(&format!("/deployments/{id}/edit/basics")).await;
    assert!(basics.contains(r#"value="X""#), "{basics}");
}
