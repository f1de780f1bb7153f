//! The plan page in a real Chromium: a plan reviewed in one tab is not applied after the draft
//! changed in another; planning again and applying works.

use crate::common::spawn_app;
use crate::support::{Browser, click, current_path, sign_in, wait_for_text};
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
    let started = std::time::Instant::now();
    while !current_path(b).await.starts_with("/jobs/") {
        assert!(
            started.elapsed().as_secs() < 20,
            "the job page did not open"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let job: i64 = current_path(b)
        .await
        .trim_start_matches("/jobs/")
        .parse()
        .unwrap();
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
