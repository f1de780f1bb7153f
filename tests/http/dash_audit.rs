//! The audit log page: admins only, filters, keyset paging, bad input answered with a 4xx.

use crate::common::spawn_app;
use switchyard::audit::{self, Action};
use switchyard::auth::Role;

#[tokio::test]
async fn admins_read_the_audit_log_with_filters_and_pages() {
    let app = spawn_app().await;
    let mut admin = app.user_client("root", Role::Admin).await;
    let mut editor = app.user_client("ed", Role::Editor).await;
    let db = &app.state.db;
    for i in 0..120 {
        let actor = if i % 3 == 0 { "ann" } else { "bob" };
        audit::record(
            db,
            actor,
            Action::DeploymentEdit,
            &audit::deployment(i % 2 + 1),
            serde_json::json!({ "version": i, "note": "<b>not html</b>" }),
        )
        .await;
    }
    audit::record(
        db,
        "ann",
        Action::UserRole,
        &audit::user("bob"),
        serde_json::json!({"to": "editor"}),
    )
    .await;

    let r = editor.get("/audit").await;
    assert_eq!(r.status(), 403);

    let r = admin.get("/audit").await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert_eq!(page.matches("<tr id=\"audit-").count(), 50);
    assert!(page.contains("changed a role"), "the newest entry is first");
    assert!(page.contains("not html") && !page.contains("<b>not html</b>"));

    // Follow "Older" to the end: every entry exactly once, newest first.
    let mut seen: Vec<i64> = Vec::new();
    let mut next = Some("/audit".to_string());
    while let Some(path) = next {
        let body = admin.get(&path).await.text().await.unwrap();
        for part in body.split("<tr id=\"audit-").skip(1) {
            seen.push(part.split('"').next().unwrap().parse().unwrap());
        }
        next = body
            .split("id=\"audit-older\"")
            .next()
            .filter(|_| body.contains("id=\"audit-older\""))
            .and_then(|head| head.rsplit("<a href=\"").next())
            .map(|h| h.split('"').next().unwrap().replace("&amp;", "&"));
    }
    // 121 recorded here, plus the sign-ins of root and ed.
    assert_eq!(seen.len(), 123);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats"
    );

    // Filters combine.
    let body = admin
        .get("/audit?actor=ann&action=deployment.edit&target=deployment%3A1")
        .await
        .text()
        .await
        .unwrap();
    let n = body.matches("<tr id=\"audit-").count();
    // ann edited when i % 3 == 0, deployment 1 when i is even: i % 6 == 0, 20 of 120.
    assert_eq!(n, 20);
    assert!(!body.contains("id=\"audit-older\""));
}

#[tokio::test]
async fn bad_audit_queries_are_4xx_not_500() {
    let app = spawn_app().await;
    let mut admin = app.user_client("root", Role::Admin).await;
    for q in [
        "/audit?before=garbage",
        "/audit?before=2026-01-01T00:00:00Z,notanumber",
        "/audit?before=%3Cscript%3E,1",
        "/audit?action=nope",
    ] {
        let r = admin.get(q).await;
        assert_eq!(r.status(), 422, "{q}");
        let body = r.text().await.unwrap();
        assert!(!body.contains("<script>"), "{q}");
    }
    let r = admin
        .get("/audit?before=2026-01-01T00:00:00Z,5&actor=")
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("No older entries."));
    let r = app.anonymous().get("/audit").await;
    assert!(crate::common::Client::is_signin_redirect(&r));
}

/// The audit entries' actions, newest first, as the admin page lists them.
async fn actions(admin: &mut crate::common::Client) -> Vec<String> {
    let body = admin.get("/audit").await.text().await.unwrap();
    actions_in(&body)
}

/// The actions of the entries an audit page shows.
fn actions_in(body: &str) -> Vec<String> {
    body.split("data-action=\"")
        .skip(1)
        .map(|p| p.split('"').next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn sign_ins_users_and_tokens_are_recorded_without_secrets() {
    let app = spawn_app().await;
    let mut admin = app.user_client("root", Role::Admin).await;
    let bob = app.create_user("bob", Role::Viewer).await;

    // A failed sign-in, then a good one and a sign-out.
    let r = app
        .anonymous()
        .post_form(
            "/signin",
            &[("name", "bob"), ("password", "not-the-password")],
        )
        .await;
    assert_eq!(r.status(), 401);
    let mut b = app.sign_in("bob", crate::common::PASSWORD).await;
    assert!(b.post_form("/signout", &[]).await.status().is_redirection());

    // User administration.
    let id = bob.to_string();
    for (path, form) in [
        (format!("/users/{id}/role"), vec![("role", "editor")]),
        (format!("/users/{id}/disable"), vec![]),
        (format!("/users/{id}/enable"), vec![]),
        (
            format!("/users/{id}/password"),
            vec![("password", "another long secret")],
        ),
        (format!("/users/{id}/tokens"), vec![("label", "ci")]),
        (
            "/users".to_string(),
            vec![
                ("name", "carol"),
                ("role", "viewer"),
                ("password", "carol's long secret"),
            ],
        ),
    ] {
        let r = admin.post_form(&path, &form).await;
        assert!(
            r.status().is_success() || r.status().is_redirection(),
            "{path}: {}",
            r.status()
        );
    }
    let tokens = switchyard::db::tokens::list_all(&app.state.db)
        .await
        .unwrap();
    let r = admin
        .post_form(&format!("/users/{id}/tokens/{}/revoke", tokens[0].id), &[])
        .await;
    assert!(r.status().is_redirection());

    let got = actions(&mut admin).await;
    let want = [
        "token.revoke",
        "user.add",
        "token.create",
        "user.password_reset",
        "user.enable",
        "user.disable",
        "user.role",
        "signout",
        "signin",
        "signin.failed",
        // root's own sign-in through the helper comes first in time.
        "signin",
    ];
    assert_eq!(got, want);
    let body = admin.get("/audit?actor=root").await.text().await.unwrap();
    assert!(body.contains("user:bob"));
    assert!(
        body.contains("viewer") && body.contains("editor"),
        "the role change says from and to"
    );
    let all = admin.get("/audit").await.text().await.unwrap();
    for secret in [
        "not-the-password",
        "another long secret",
        "carol's long secret",
        "sy_",
    ] {
        assert!(!all.contains(secret), "the audit log shows {secret:?}");
    }
}

#[tokio::test]
async fn drafts_plans_applies_and_destroys_are_recorded() {
    let app = spawn_app().await;
    let mut admin = app.user_client("root", Role::Admin).await;
    let mut robot = app.token_client("robot", Role::Editor).await;
    let spec: serde_json::Value =
        serde_json::from_str(include_str!("../data/seeds/seed-002-http.json")).unwrap();
    let r = robot.post_json("/api/v1/deployments", &spec).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = robot
        .post_json(
            &format!("/api/v1/deployments/{id}/plan"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = robot
        .post_json(
            &format!("/api/v1/deployments/{id}/apply"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let job = r.json::<serde_json::Value>().await.unwrap()["job_id"]
        .as_i64()
        .unwrap();
    app.state.deployer.runner().wait(job).await.unwrap();
    let r = robot
        .post_json(
            &format!("/api/v1/deployments/{id}/destroy"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let job = r.json::<serde_json::Value>().await.unwrap()["job_id"]
        .as_i64()
        .unwrap();
    app.state.deployer.runner().wait(job).await.unwrap();

    let got = actions(&mut admin).await;
    let robot_actions: Vec<&str> = got
        .iter()
        .map(String::as_str)
        .filter(|a| a.starts_with("deployment."))
        .collect();
    assert_eq!(
        robot_actions,
        [
            "deployment.destroy",
            "deployment.apply",
            "deployment.plan",
            "deployment.create"
        ]
    );
    let body = admin
        .get(&format!("/audit?target=deployment%3A{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("robot") && body.contains("job"));
}

#[tokio::test]
async fn cancels_resumes_and_kept_conflict_copies_are_recorded() {
    let app = spawn_app().await;
    let mut admin = app.user_client("root", Role::Admin).await;
    let mut robot = app.token_client("robot", Role::Editor).await;
    // Slow operations keep the job running long enough to cancel it.
    crate::deploy::sandbox(&app, serde_json::json!({ "operationLatencyMs": 2000 })).await;
    let spec: serde_json::Value =
        serde_json::from_str(include_str!("../data/seeds/seed-002-http.json")).unwrap();
    let r = robot.post_json("/api/v1/deployments", &spec).await;
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();

    // A PUT against version 1 after version 2 was saved keeps the refused spec as a copy.
    let put = |robot: &crate::common::Client, spec: &serde_json::Value| {
        robot
            .request(reqwest::Method::PUT, &format!("/api/v1/deployments/{id}"))
            .header("if-match", "1")
            .json(spec)
            .send()
    };
    assert_eq!(put(&robot, &spec).await.unwrap().status(), 200);
    assert_eq!(put(&robot, &spec).await.unwrap().status(), 412);

    let job = crate::deploy::start_job(&mut robot, id, "apply").await;
    let r = robot
        .post_json(
            &format!("/api/v1/jobs/{job}/cancel"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status(), 202);
    app.state.deployer.runner().wait(job).await.unwrap();
    let r = robot
        .post_json(
            &format!("/api/v1/jobs/{job}/resume"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status(), 202);
    app.state.deployer.runner().wait(job).await.unwrap();

    let got = actions(&mut admin).await;
    for action in ["job.resume", "job.cancel", "deployment.conflict_copy"] {
        assert!(got.iter().any(|a| a == action), "{action} in {got:?}");
    }
    let body = admin
        .get(&format!("/audit?target=job%3A{job}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("cancelled a job") && body.contains("resumed a job"),
        "{body}"
    );
}

/// What people do from the pages is recorded with who did it: an import, a plan looked at on the
/// plan page, a restore of an older version and a rollback.
#[tokio::test]
async fn imports_page_plans_restores_and_rollbacks_are_recorded() {
    let app = spawn_app().await;
    let mut admin = app.user_client("root", Role::Admin).await;
    let mut ed = app.user_client("ed", Role::Editor).await;
    let spec = include_str!("../data/seeds/seed-002-http.json");
    let r = ed
        .post_form("/deployments/import", &[("spec", spec), ("name", "")])
        .await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let id = switchyard::db::deployments::list(&app.state.db)
        .await
        .unwrap()[0]
        .id;

    assert_eq!(
        ed.get(&format!("/deployments/{id}/plan")).await.status(),
        200
    );

    // Version 2 with another project, then back to version 1: a restore, then a rollback.
    let edited = spec.replace("my-lb-project", "my-other-project");
    let row = switchyard::db::deployments::get(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    switchyard::db::deployments::update(&app.state.db, id, row.version, &row.name, &edited, "ed")
        .await
        .unwrap();
    let r = ed
        .post_form(
            &format!("/deployments/{id}/restore"),
            &[("source", "version:1"), ("version", "2")],
        )
        .await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let r = ed
        .post_form(
            &format!("/deployments/{id}/restore"),
            &[("source", "version:2"), ("version", "3"), ("rollback", "1")],
        )
        .await;
    assert!(r.status().is_redirection(), "{}", r.status());

    let body = admin
        .get(&format!("/audit?target=deployment%3A{id}"))
        .await
        .text()
        .await
        .unwrap();
    let got = actions_in(&body);
    for action in [
        "deployment.import",
        "deployment.plan",
        "deployment.restore",
        "deployment.rollback",
    ] {
        assert!(got.iter().any(|a| a == action), "{action} in {got:?}");
    }
    assert!(body.contains("ed"), "{body}");
}
