//! The jobs page: everyone's history newest first, filters, keyset paging, links to each job,
//! bad input answered with a 422.

use crate::common::{Client, TestApp, spawn_app};
use switchyard::auth::Role;

/// Inserts a job as the runner would leave it, `seconds` after a fixed start. `deployment` is
/// the deployment's id (jobs key deployments by id).
pub async fn insert_job(
    app: &TestApp,
    deployment: i64,
    kind: &str,
    status: &str,
    by: &str,
    seconds: i64,
) -> i64 {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO jobs (deployment, kind, status, spec, plan, created_by, created_at, finished_at) \
         VALUES (?, ?, ?, '{}', '{}', ?, strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || ? || ' seconds'), \
         CASE WHEN ? IN ('queued', 'running') THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || (? + 5) || ' seconds') END) \
         RETURNING id",
    )
    .bind(deployment.to_string())
    .bind(kind)
    .bind(status)
    .bind(by)
    .bind(seconds)
    .bind(status)
    .bind(seconds)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    id
}

/// The job ids listed on a page, in order.
fn ids(body: &str) -> Vec<i64> {
    body.split("<tr id=\"job-")
        .skip(1)
        .map(|p| p.split('"').next().unwrap().parse().unwrap())
        .collect()
}

fn older_link(body: &str) -> Option<String> {
    let i = body.find("id=\"jobs-older\"")?;
    let head = &body[..i];
    let start = head.rfind("<a href=\"")? + "<a href=\"".len();
    Some(head[start..].split('"').next()?.replace("&amp;", "&"))
}

#[tokio::test]
async fn everyone_reads_the_history_filtered_and_paged_by_key() {
    let app = spawn_app().await;
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let statuses = ["succeeded", "failed", "cancelled"];
    let mut deps = Vec::new();
    for n in 0..4 {
        let d =
            switchyard::db::deployments::create(&app.state.db, &format!("dep-{n}"), "{}", "ann")
                .await
                .unwrap();
        deps.push(d.id);
    }
    for i in 0..130 {
        let dep = deps[i % 3];
        let by = if i % 2 == 0 { "ann" } else { "bob" };
        let kind = if i % 10 == 9 { "destroy" } else { "apply" };
        // Every 4th pair shares a timestamp: the id breaks ties.
        insert_job(&app, dep, kind, statuses[i % 3], by, (i / 2) as i64).await;
    }
    let running = insert_job(&app, deps[3], "apply", "running", "ann", 1000).await;

    let first = viewer.get("/jobs").await;
    assert_eq!(first.status(), 200);
    let body = first.text().await.unwrap();
    let page = ids(&body);
    assert_eq!(page.len(), 50);
    assert_eq!(page[0], running, "newest first");
    assert!(
        body.contains(&format!("href=\"/jobs/{running}\"")),
        "each job links to its page"
    );

    let mut seen = page;
    let mut next = older_link(&body);
    while let Some(path) = next {
        let body = viewer.get(&path).await.text().await.unwrap();
        seen.extend(ids(&body));
        next = older_link(&body);
    }
    assert_eq!(seen.len(), 131);
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, each once");

    // Filters, alone and together.
    let count = |body: &str| ids(body).len();
    let body = viewer
        .get("/jobs?deployment=dep-1")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(count(&body), 43);
    let body = viewer
        .get("/jobs?deployment=dep-1&user=bob&status=failed")
        .await
        .text()
        .await
        .unwrap();
    // i % 3 == 1 (dep-1 and failed), odd (bob): i % 6 == 1 → 22 of 130.
    assert_eq!(count(&body), 22);
    let body = viewer
        .get("/jobs?status=running")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(ids(&body), vec![running]);
    let body = viewer.get("/jobs?user=nobody").await.text().await.unwrap();
    assert!(body.contains("No jobs match these filters."));
}

#[tokio::test]
async fn bad_jobs_queries_are_4xx() {
    let app = spawn_app().await;
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    for q in [
        "/jobs?status=exploded",
        "/jobs?before=yesterday",
        "/jobs?before=2026-01-01T00:00:00Z,x",
    ] {
        assert_eq!(viewer.get(q).await.status(), 422, "{q}");
    }
    let r = viewer.get("/jobs?before=2026-01-01T00:00:00.000Z,1").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("No older jobs."));
    let r = app.anonymous().get("/jobs").await;
    assert!(Client::is_signin_redirect(&r));
}

#[tokio::test]
async fn the_job_page_shows_steps_and_log_and_polls_until_the_job_is_over() {
    let app = spawn_app().await;
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let dep = switchyard::db::deployments::create(&app.state.db, "shop", "{}", "ann")
        .await
        .unwrap();
    let id = insert_job(&app, dep.id, "apply", "running", "ann", 0).await;
    let db = &app.state.db;
    for (idx, status, op, err) in [
        (0, "succeeded", Some("operation-1"), None),
        (
            1,
            "failed",
            None,
            Some("QUOTA_EXCEEDED: <too many> backend services"),
        ),
        (2, "pending", None, None),
    ] {
        sqlx::query(
            "INSERT INTO job_steps (job_id, idx, step_id, action, resource, depends_on, request, request_id, status, operation, started_at, finished_at, error) \
             VALUES (?, ?, ?, 'create', ?, '[]', '{}', 'r', ?, ?, '2026-01-01T00:00:00.000Z', \
             CASE WHEN ? = 'pending' THEN NULL ELSE '2026-01-01T00:00:02.500Z' END, ?)",
        )
        .bind(id)
        .bind(idx)
        .bind(format!("s{idx}"))
        .bind(format!("projects/p/global/backendServices/shop-bs-{idx}"))
        .bind(status)
        .bind(op)
        .bind(status)
        .bind(err)
        .execute(db)
        .await
        .unwrap();
    }
    sqlx::query("INSERT INTO job_log (job_id, seq, step, level, message) VALUES (?, 1, 's1', 'error', 'step s1 failed: <quota>')")
        .bind(id)
        .execute(db)
        .await
        .unwrap();

    let r = viewer.get(&format!("/jobs/{id}")).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains(&format!("href=\"/deployments/{}\"", dep.id)));
    assert!(body.contains("1 of 3 steps done, 1 failed"));
    assert!(body.contains("operation-1") && body.contains("2.5 s"));
    assert!(body.contains("QUOTA_EXCEEDED") && !body.contains("<too many>"));
    assert!(body.contains("step s1 failed") && !body.contains("<quota>"));
    assert!(body.contains(&format!("hx-get=\"/jobs/{id}/progress\"")) && body.contains("every 1s"));

    let r = viewer.get(&format!("/jobs/{id}/progress")).await;
    assert_eq!(r.status(), 200, "still running: keep polling");
    sqlx::query("UPDATE jobs SET status = 'failed', error = 'step s1 failed', finished_at = '2026-01-01T00:00:03.000Z' WHERE id = ?")
        .bind(id)
        .execute(db)
        .await
        .unwrap();
    let r = viewer.get(&format!("/jobs/{id}/progress")).await;
    assert_eq!(r.status(), 286, "over: htmx stops polling");
    let frag = r.text().await.unwrap();
    assert!(frag.contains("data-status=\"failed\"") && !frag.contains("hx-trigger"));

    for path in ["/jobs/999999", "/jobs/abc", "/jobs/999999/progress"] {
        assert_eq!(viewer.get(path).await.status(), 404, "{path}");
    }
}

/// Records a succeeded apply of `spec` (what the deploy service treats as deployed).
pub async fn insert_apply(app: &TestApp, deployment: i64, spec: &str, seconds: i64) -> i64 {
    let id = insert_job(app, deployment, "apply", "succeeded", "ann", seconds).await;
    sqlx::query("UPDATE jobs SET spec = ? WHERE id = ?")
        .bind(spec)
        .bind(id)
        .execute(&app.state.db)
        .await
        .unwrap();
    id
}
