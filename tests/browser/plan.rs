//! The plan page in a real Chromium: a plan reviewed in one tab is not applied after the draft
//! changed in another; planning again and applying works.

use crate::common::spawn_app;
use crate::support::{Browser, click, current_path, sign_in, wait_for_job_page, wait_for_text};
use switchyard::auth::Role;

const SEED_002: &str = include_str!("../data/seeds/seed-002.json");

#[tokio::test]
async fn a_plan_reviewed_in_one_tab_is_refused_after_an_edit_in_another() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let id = switchyard::db::deployments::create(&app.state.db, "hello-lb", SEED_002, "ann")
        .await
        .unwrap()
        .id;
    let browser = Browser::start().await;
    let b = &browser.client;
    sign_in(b, &app.base, "ed").await;

    // Tab 1: the plan of version 1.
    b.goto(&format!("{}/deployments/{id}/plan", app.base))
        .await
        .unwrap();
    let counts = crate::support::text_of(b, "#plan-counts").await;
    assert!(counts.starts_with("+"), "{counts}");
    let first = b.window().await.unwrap();

    // Tab 2: the draft changes (the redirect is turned off and saved).
    let tab = b.new_window(true).await.unwrap();
    b.switch_to_window(tab.handle).await.unwrap();
    b.goto(&format!("{}/deployments/{id}/edit/frontend", app.base))
        .await
        .unwrap();
    click(b, "frontend-redirect").await;
    wait_for_text(b, "save-status", "Saved").await;

    // Back in tab 1, Apply is refused with the reason, and a new plan is shown instead.
    b.switch_to_window(first).await.unwrap();
    click(b, "apply").await;
    let why = wait_for_text(b, "plan-refused", "Not applied").await;
    assert!(
        why.contains("version 1") && why.contains("version 2"),
        "{why}"
    );
    assert_eq!(current_path(b).await, format!("/deployments/{id}/apply"));

    // Applying the new plan works: the job page opens.
    click(b, "apply").await;
    let job = wait_for_job_page(b).await;
    let row = switchyard::db::jobs::get_job(&app.state.db, job)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.kind, "apply");
    let plan: serde_json::Value = serde_json::from_str(&row.plan).unwrap();
    assert_eq!(
        plan["version"], 2,
        "the job runs the plan of the new version"
    );
    browser.close().await;
}

#[tokio::test]
async fn roll_back_to_an_earlier_version_through_its_plan() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let (id, _) = crate::sandbox_apply::apply_in_sandbox(&app, SEED_002, "ann").await;
    // Version 2 drops the /hello2 rule and is applied.
    let mut v2: serde_json::Value = serde_json::from_str(SEED_002).unwrap();
    v2["routing"]["rules"] = serde_json::json!([]);
    let row = switchyard::db::deployments::update(
        &app.state.db,
        id,
        1,
        "hello-lb",
        &v2.to_string(),
        "ann",
    )
    .await
    .unwrap();
    let job = app.state.deployer.apply(&row, "ann").await.unwrap();
    let done = app.state.deployer.runner().wait(job).await.unwrap();
    assert_eq!(done.status, "succeeded");

    let browser = Browser::start().await;
    let b = &browser.client;
    sign_in(b, &app.base, "ed").await;
    b.goto(&format!("{}/deployments/{id}/versions", app.base))
        .await
        .unwrap();
    let changes = crate::support::text_of(b, "#version-2 .version-changes").await;
    assert!(changes.contains("routing.rules[0] removed"), "{changes}");

    // Rolling back to version 1 shows the plan back to it before anything changes.
    click(b, "rollback-version-1").await;
    let summary = wait_for_text(b, "plan-table", "rule /hello2/* added").await;
    assert!(summary.contains("URL map"), "{summary}");
    assert_eq!(current_path(b).await, format!("/deployments/{id}/plan"));
    let row = switchyard::db::deployments::get(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.version, 3, "the rollback is a new version");
    assert_eq!(
        switchyard::deploy::applied_version(&app.state.db, id)
            .await
            .unwrap(),
        Some(2),
        "nothing is applied before the plan is"
    );
    click(b, "apply").await;
    wait_for_job_page(b).await;
    browser.close().await;
}
