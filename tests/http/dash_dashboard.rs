//! The dashboard: each deployment's state, IP, domains with certificate status, last job and
//! drift; rows with a job in progress poll until it is over; paging by name.

use crate::common::{TestApp, spawn_app};
use crate::dash_jobs::{insert_apply, insert_job};
use switchyard::auth::Role;

const SEED_002: &str = include_str!("../data/seeds/seed-002.json");

async fn deployment(app: &TestApp, name: &str, applied: bool) -> i64 {
    let mut spec: serde_json::Value = serde_json::from_str(SEED_002).unwrap();
    spec["name"] = name.into();
    let spec = spec.to_string();
    let d = switchyard::db::deployments::create(&app.state.db, name, &spec, "ann")
        .await
        .unwrap();
    if applied {
        insert_apply(app, d.id, &spec, 1).await;
    }
    d.id
}

/// The `<tr>` of one deployment.
fn row(body: &str, id: i64) -> &str {
    let start = body
        .find(&format!("<tr id=\"deployment-{id}\""))
        .unwrap_or_else(|| panic!("no row for deployment {id}"));
    let end = body[start..].find("</tr>").unwrap() + start;
    &body[start..end]
}

#[tokio::test]
async fn every_deployment_with_state_ip_certificates_and_last_job() {
    let app = spawn_app().await;
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let db = &app.state.db;

    let draft = deployment(&app, "a-draft", false).await;
    let applied = deployment(&app, "b-applied", true).await;

    switchyard::db::live_facts::set_live(
        db,
        applied,
        Some("203.0.113.7"),
        Some("b-applied-cert-1"),
        Some("PROVISIONING"),
        &serde_json::json!({"hello.example.com": "FAILED_NOT_VISIBLE"}),
    )
    .await
    .unwrap();
    let changed = deployment(&app, "c-changed", true).await;
    let mut edited: serde_json::Value = serde_json::from_str(SEED_002).unwrap();
    edited["name"] = "c-changed".into();
    edited["routing"]["rules"] = serde_json::json!([]);
    switchyard::db::deployments::update(db, changed, 1, "c-changed", &edited.to_string(), "bob")
        .await
        .unwrap();
    let failed = deployment(&app, "d-failed", false).await;
    insert_job(&app, failed, "apply", "failed", "bob", 20).await;
    let busy = deployment(&app, "e-busy", true).await;
    let job = insert_job(&app, busy, "destroy", "running", "carol", 30).await;
    let drifted = deployment(&app, "f-drifted", true).await;
    switchyard::db::drift_checks::insert_drift(
        db,
        drifted,
        "(schedule)",
        Some(1),
        "drifted",
        &serde_json::json!([]),
        None,
    )
    .await
    .unwrap();

    let body = viewer.get("/").await.text().await.unwrap();
    assert!(row(&body, draft).contains("data-state=\"draft\""));
    let r = row(&body, applied);
    assert!(r.contains("data-state=\"applied\""), "{r}");
    assert!(r.contains("203.0.113.7"));
    assert!(r.contains("hello.example.com") && r.contains("DNS does not point here"));
    assert!(r.contains("by ann"));
    assert!(row(&body, changed).contains("changed since apply"));
    assert!(row(&body, failed).contains("data-state=\"failed\""));
    let r = row(&body, busy);
    assert!(
        r.contains("destroying") && r.contains(&format!("/jobs/{job}")) && r.contains("by carol")
    );
    assert!(r.contains(&format!("hx-get=\"/dashboard/rows/{busy}\"")) && r.contains("every 1s"));
    assert!(
        !row(&body, applied).contains("hx-trigger"),
        "only busy rows poll"
    );
    assert!(row(&body, drifted).contains("live differs"));
    assert!(body.contains("1 job in progress"));

    // The busy row's own URL, once the job is over, answers a row that no longer polls.
    sqlx::query("UPDATE jobs SET status = 'succeeded', finished_at = '2026-01-01T01:00:00.000Z' WHERE id = ?")
        .bind(job)
        .execute(db)
        .await
        .unwrap();
    let r = viewer.get(&format!("/dashboard/rows/{busy}")).await;
    assert_eq!(r.status(), 200);
    let frag = r.text().await.unwrap();
    assert!(frag.starts_with("<tr id=\"deployment-"), "{frag}");
    assert!(!frag.contains("hx-trigger"));
    assert_eq!(viewer.get("/dashboard/rows/999999").await.status(), 404);
}

#[tokio::test]
async fn the_dashboard_pages_by_name() {
    let app = spawn_app().await;
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    for i in 0..120 {
        deployment(&app, &format!("dep-{i:03}"), false).await;
    }
    let body = viewer.get("/").await.text().await.unwrap();
    assert_eq!(body.matches("<tr id=\"deployment-").count(), 50);
    assert!(body.contains("dep-000") && body.contains("dep-049") && !body.contains("dep-050"));
    assert!(body.contains("href=\"/?after=dep-049\""));
    let body = viewer.get("/?after=dep-049").await.text().await.unwrap();
    assert!(body.contains("dep-050") && !body.contains("dep-049<"));
    let body = viewer.get("/?after=dep-099").await.text().await.unwrap();
    assert_eq!(body.matches("<tr id=\"deployment-").count(), 20);
    assert!(!body.contains("id=\"deployments-next\""));
    let long = "x".repeat(300);
    assert_eq!(viewer.get(&format!("/?after={long}")).await.status(), 422);
}

/// The body of a page.
async fn page(c: &mut crate::common::Client, path: &str) -> String {
    c.get(path).await.text().await.unwrap()
}

/// Runs `sql` with `id` bound, on a connection of its own (as another process would).
async fn elsewhere(pool: &sqlx::SqlitePool, sql: &str, id: i64) {
    sqlx::query(sql).bind(id).execute(pool).await.unwrap();
}

/// The dashboard and the jobs page keep what they read while nothing changes; a change made
/// through another connection to the file (as the CLI or a second panel would) shows at once,
/// whichever table it touches.
#[tokio::test]
async fn pages_show_changes_from_another_process_at_once() {
    let app = spawn_app().await;
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let id = deployment(&app, "shop", true).await;
    let other = sqlx::SqlitePool::connect(&app.settings.database)
        .await
        .unwrap();

    // Twice, so the second answer comes from what was kept.
    for _ in 0..2 {
        let body = page(&mut viewer, "/").await;
        assert!(row(&body, id).contains("data-state=\"applied\""));
        assert!(!row(&body, id).contains("198.51.100.9"));
        assert!(body.contains("No job in progress"));
    }
    elsewhere(
        &other,
        "INSERT INTO deployment_live (deployment_id, ip, domain_status) VALUES (?, '198.51.100.9', '{}')",
        id,
    )
    .await;
    let body = page(&mut viewer, "/").await;
    assert!(row(&body, id).contains("198.51.100.9"), "a new live IP");

    elsewhere(
        &other,
        "UPDATE deployments SET spec = json_set(spec, '$.routing.rules', json('[]')), version = version + 1 WHERE id = ?",
        id,
    )
    .await;
    let body = page(&mut viewer, "/").await;
    assert!(
        row(&body, id).contains("changed since apply"),
        "an edited draft"
    );

    let jobs = page(&mut viewer, "/jobs?status=running").await;
    assert!(jobs.contains("id=\"jobs-empty\""), "{jobs}");
    let job = insert_job(&app, id, "apply", "running", "carol", 60).await;
    let jobs = page(&mut viewer, "/jobs?status=running").await;
    assert!(jobs.contains(&format!("/jobs/{job}")), "a new job");
    let body = page(&mut viewer, "/").await;
    assert!(
        row(&body, id).contains("data-state=\"applying\"") && body.contains("1 job in progress")
    );

    elsewhere(
        &other,
        "UPDATE jobs SET status = 'failed', finished_at = '2026-01-01T02:00:00.000Z' WHERE id = ?",
        job,
    )
    .await;
    let jobs = page(&mut viewer, "/jobs?status=running").await;
    assert!(jobs.contains("id=\"jobs-empty\""), "the job is over");
    assert!(row(&page(&mut viewer, "/").await, id).contains("data-state=\"failed\""));

    elsewhere(
        &other,
        "UPDATE deployments SET name = 'shop-renamed' WHERE id = ?",
        id,
    )
    .await;
    let jobs = page(&mut viewer, "/jobs").await;
    assert!(
        jobs.contains("shop-renamed"),
        "the jobs page names the deployment anew"
    );

    let users = |b: &str| b.contains("2 users");
    assert!(!users(&page(&mut viewer, "/").await));
    app.create_user("walt", Role::Viewer).await;
    assert!(
        users(&page(&mut viewer, "/").await),
        "a new user is counted"
    );
}
