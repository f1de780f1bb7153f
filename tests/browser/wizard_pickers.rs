//! A draft built by picking from the lists in a real Chromium: the project from the projects
//! the panel's sandbox knows, a Cloud Run service from that project's services, whose regions
//! the pick fills in (in the add form and in a backend's edit form, which saves it); and a
//! region list that offers the next region after those typed.

use crate::common::{TestApp, spawn_app};
use crate::support::{Browser, click, create_draft, prop, screenshot, sign_in, wait_for_text};
use fantoccini::Locator;
use fantoccini::key::Key;
use std::time::Duration;
use switchyard::auth::Role;
use switchyard::domain::spec::BackendKind;

async fn deploy(app: &TestApp, project: &str, region: &str, id: &str) {
    crate::common::deploy_hello(&app.state.cloud, project, region, id).await;
}

/// The values a datalist offers once its list has arrived.
async fn offered(b: &fantoccini::Client, list: &str, at_least: usize) -> Vec<String> {
    for _ in 0..100 {
        let options = b
            .find_all(Locator::Css(&format!("datalist#{list} option")))
            .await
            .unwrap();
        if options.len() >= at_least {
            let mut values = Vec::new();
            for o in options {
                values.push(o.prop("value").await.unwrap().unwrap_or_default());
            }
            return values;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("#{list} did not offer {at_least} options");
}

/// Picks the first suggestion of the input's list that starts with `start`. Headless Chromium
/// draws no datalist popup that WebDriver could reach, so this does what Chromium does on a pick:
/// the option's value replaces the input's, announced by an `input` event of type
/// `insertReplacementText`. The option must be in the list the page loaded.
async fn pick(b: &fantoccini::Client, id: &str, start: &str) -> String {
    let picked = b
        .execute(
            r#"const [id, start] = arguments;
               const input = document.getElementById(id);
               const option = Array.from(input.list.options).find(o => o.value.startsWith(start));
               if (!option) return null;
               input.focus();
               input.value = option.value;
               input.dispatchEvent(new InputEvent("input", {bubbles: true, inputType: "insertReplacementText"}));
               return option.value;"#,
            vec![id.into(), start.into()],
        )
        .await
        .unwrap();
    picked
        .as_str()
        .unwrap_or_else(|| panic!("#{id}'s list offers nothing starting with {start:?}"))
        .to_string()
}

#[tokio::test]
async fn a_draft_built_by_picking_the_project_a_service_and_its_regions() {
    let app = spawn_app().await;
    deploy(&app, "acme-shop", "europe-west1", "hello").await;
    deploy(&app, "acme-shop", "us-central1", "hello").await;
    deploy(&app, "acme-shop", "us-central1", "api").await;
    app.create_user("ed", Role::Editor).await;
    let browser = Browser::start().await;
    let b = &browser.client;
    b.set_window_size(1366, 900).await.unwrap();
    sign_in(b, &app.base, "ed").await;

    // New: the project from the list.
    b.goto(&format!("{}/deployments/new", app.base))
        .await
        .unwrap();
    assert_eq!(
        offered(b, "project-choices", 2).await,
        ["acme-shop", "switchyard-sandbox"]
    );
    wait_for_text(b, "project-choices-note", "2 projects to pick from").await;
    b.find(Locator::Id("basics-name"))
        .await
        .unwrap()
        .send_keys("shop")
        .await
        .unwrap();
    assert_eq!(pick(b, "basics-project", "acme").await, "acme-shop");
    screenshot(b, "wizard-pickers-new").await;
    assert_eq!(
        prop(b, "basics-project", "value").await.as_deref(),
        Some("acme-shop")
    );
    let id = create_draft(b).await;

    // Backends: the service from the project's list; picking it fills its regions.
    b.goto(&format!("{}/deployments/{id}/edit/backends", app.base))
        .await
        .unwrap();
    assert_eq!(offered(b, "service-choices", 2).await, ["api", "hello"]);
    assert_eq!(pick(b, "serverless-service", "hel").await, "hello");
    assert_eq!(
        prop(b, "serverless-service", "value").await.as_deref(),
        Some("hello")
    );
    let mut regions = None;
    for _ in 0..40 {
        regions = prop(b, "serverless-regions", "value").await;
        if regions.as_deref().is_some_and(|r| !r.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(regions.as_deref(), Some("europe-west1, us-central1"));
    b.execute(
        "document.getElementById('add-serverless').scrollIntoView({block: 'center'})",
        vec![],
    )
    .await
    .unwrap();
    let shot = screenshot(b, "wizard-pickers-backends").await;
    eprintln!("screenshot: {}", shot.display());
    click(b, "add-serverless-submit").await;
    b.wait()
        .for_element(Locator::Id("backend-0"))
        .await
        .unwrap();

    let row = switchyard::db::deployments::get(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    let d = switchyard::domain::draft::Draft::from_json(&row.spec).unwrap();
    assert_eq!(d.project, "acme-shop");
    match &d.backends[0].kind {
        BackendKind::Serverless { service, regions } => {
            assert_eq!(service, "hello");
            assert_eq!(regions, &["europe-west1", "us-central1"]);
        }
        other => panic!("{other:?}"),
    }

    // In the backend's edit form a pick fills the regions too, and the form saves it.
    b.find(Locator::Css("#edit-backend-0 summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.find(Locator::Id("backend-0-service"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    assert_eq!(pick(b, "backend-0-service", "ap").await, "api");
    assert_eq!(
        prop(b, "backend-0-regions", "value").await.as_deref(),
        Some("us-central1")
    );
    let mut saved = false;
    for _ in 0..100 {
        let row = switchyard::db::deployments::get(&app.state.db, id)
            .await
            .unwrap()
            .unwrap();
        let d = switchyard::domain::draft::Draft::from_json(&row.spec).unwrap();
        if let BackendKind::Serverless { service, regions } = &d.backends[0].kind
            && service == "api"
            && regions == &["us-central1"]
        {
            saved = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(saved, "the picked service and its regions were not saved");

    // A region list offers, after the regions typed, each region not yet in it.
    let input = b.find(Locator::Id("backend-0-regions")).await.unwrap();
    input.click().await.unwrap();
    input
        .send_keys(&format!("{},", char::from(Key::End)))
        .await
        .unwrap();
    let offers = offered(b, "cloud-run-regions", 1).await;
    let prefix = "us-central1, ";
    assert!(offers.iter().all(|o| o.starts_with(prefix)), "{offers:?}");
    assert!(offers.iter().any(|o| o == "us-central1, europe-west1"));
    assert!(!offers.iter().any(|o| o.ends_with(", us-central1")));
    assert_eq!(
        offers.len(),
        switchyard::domain::validate::CLOUD_RUN_REGIONS.len() - 1
    );
    browser.close().await;
}
