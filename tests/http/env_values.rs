//! Environment values are secrets to viewers (#13 item 8). A deployment whose Cloud Run service
//! has a plain `DB_PASSWORD` and a Secret Manager reference is applied, changed behind the
//! panel's back (drift), edited (a second version) and edited from a stale version (a kept
//! conflict copy). Then every page and API answer a viewer may read, found from the route table
//! so that a new route is covered too, is asked for by a viewer's token and a viewer's session:
//! none carries any of the values. An editor reads them in the same answers.

use crate::common::{Client, TestApp, spawn_app};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use switchyard::auth::{Access, Role};

const PROJECT: &str = "my-project";
/// The applied value, the draft's, the refused edit's and the one set in Cloud Run by hand.
const APPLIED: &str = "appl1ed-S3CRET-value";
const DRAFT: &str = "dr4ft-S3CRET-value";
const CONFLICT: &str = "c0nflict-S3CRET-value";
const LIVE: &str = "l1ve-S3CRET-value";
const VALUES: [&str; 4] = [APPLIED, DRAFT, CONFLICT, LIVE];

fn spec(value: &str) -> Value {
    let path = format!(
        "{}/tests/data/seeds/seed-001-services.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    s["services"][0]["env"] = json!([
        { "name": "DB_PASSWORD", "value": value },
        { "name": "API_TOKEN", "secret": "api-token", "version": "latest" }
    ]);
    s
}

async fn sandbox(app: &TestApp, body: Value) {
    let compute = app.state.cloud.config().compute_endpoint.clone();
    let base = compute.trim_end_matches("compute/v1/");
    let r = reqwest::Client::new()
        .post(format!("{base}sandbox/v1/faults"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "sandbox admin: {}", r.status());
}

async fn wait_job(c: &mut Client, job: i64) -> Value {
    let started = Instant::now();
    loop {
        let body: Value = c
            .get(&format!("/api/v1/jobs/{job}"))
            .await
            .json()
            .await
            .unwrap();
        if matches!(
            body["status"].as_str(),
            Some("succeeded" | "failed" | "cancelled")
        ) {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "job {job} did not finish: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn put(c: &Client, id: i64, version: i64, spec: &Value) -> (u16, Value) {
    let r = c
        .request(reqwest::Method::PUT, &format!("/api/v1/deployments/{id}"))
        .header("if-match", version.to_string())
        .json(spec)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Changes `DB_PASSWORD` of the service in us-central1 in Cloud Run itself, as someone with
/// console access would.
async fn set_live_value(app: &TestApp, value: &str) {
    let run = app.state.cloud.run_services(PROJECT, "us-central1");
    let mut svc = run.get("my-app").await.unwrap().unwrap();
    let env = &mut svc.template.as_mut().unwrap().containers[0].env;
    let e = env.iter_mut().find(|e| e.name == "DB_PASSWORD").unwrap();
    e.value = Some(value.to_string());
    // The secret reference survives the read-modify-write of the typed client.
    assert!(env.iter().any(|e| e.value_source.is_some()), "{env:?}");
    let op = run.patch("my-app", &svc, false, None).await.unwrap();
    app.state.cloud.wait(&op.reference()).await.unwrap();
}

/// A deployment in every state that shows environment values somewhere: applied with
/// `APPLIED`, changed to `LIVE` in Cloud Run and drift-checked, its draft at `DRAFT`, and a
/// refused edit with `CONFLICT` kept. Returns the deployment and the apply job.
async fn deployment_with_secrets(app: &TestApp, ed: &mut Client) -> (i64, i64) {
    sandbox(app, json!({ "operationLatencyMs": 10, "runLatencyMs": 50 })).await;
    let r = ed.post_json("/api/v1/deployments", &spec(APPLIED)).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = ed
        .post_json(&format!("/api/v1/deployments/{id}/apply"), &json!({}))
        .await;
    assert_eq!(r.status(), 202);
    let job = r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap();
    let done = wait_job(ed, job).await;
    assert_eq!(done["status"], "succeeded", "{done}");

    set_live_value(app, LIVE).await;
    let r = ed.post_form(&format!("/deployments/{id}/drift"), &[]).await;
    assert!(r.status().is_redirection(), "drift check: {}", r.status());

    let (status, body) = put(ed, id, 1, &spec(DRAFT)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = put(ed, id, 1, &spec(CONFLICT)).await;
    assert_eq!(status, 412, "{body}");
    (id, job)
}

/// Every GET route a viewer may open, with its placeholders filled in, plus the query forms
/// that show something else (the draft, a destroy with the services, a filtered jobs page).
fn viewer_pages(id: i64, job: i64) -> Vec<String> {
    let steps = [
        "basics", "frontend", "backends", "services", "routing", "review",
    ];
    let mut out = Vec::new();
    for r in switchyard::route_table().iter() {
        if r.method != reqwest::Method::GET || r.access != Access::Viewer {
            continue;
        }
        let path = r.path;
        if path.contains("{step}") {
            for s in steps {
                out.push(path.replace("{id}", &id.to_string()).replace("{step}", s));
            }
            continue;
        }
        let filled = if path.starts_with("/jobs/") || path.starts_with("/api/v1/jobs/") {
            path.replace("{id}", &job.to_string())
        } else {
            path.replace("{id}", &id.to_string())
                .replace("{project}", PROJECT)
        };
        assert!(
            !filled.contains('{'),
            "{path}: a viewer route with a placeholder this test does not fill; teach it"
        );
        out.push(filled);
    }
    out.extend([
        format!("/deployments/{id}?view=draft"),
        format!("/deployments/{id}/overview?view=draft"),
        format!("/deployments/{id}/destroy?services=1"),
        "/jobs?deployment=my-app".to_string(),
        format!("/api/v1/jobs?deployment={id}"),
    ]);
    out
}

fn leaked(body: &str) -> Vec<&'static str> {
    VALUES.into_iter().filter(|v| body.contains(v)).collect()
}

#[tokio::test]
async fn a_viewer_reads_names_and_never_values_on_any_route() {
    let app = spawn_app().await;
    let mut ed = app.token_client("ed", Role::Editor).await;
    let (id, job) = deployment_with_secrets(&app, &mut ed).await;
    let viewers = [
        ("viewer token", app.token_client("vt", Role::Viewer).await),
        ("viewer session", app.user_client("vs", Role::Viewer).await),
    ];
    let pages = viewer_pages(id, job);
    assert!(pages.len() > 20, "{pages:?}");
    let mut failures = Vec::new();
    for (who, mut c) in viewers {
        for page in &pages {
            let r = c.get(page).await;
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            if status >= 500 {
                failures.push(format!("{who} GET {page}: {status}"));
            }
            for v in leaked(&body) {
                failures.push(format!("{who} GET {page} ({status}) shows {v}"));
            }
        }
        // The one thing a viewer may post: a plan, whose Cloud Run env change has both sides.
        for body in [json!({}), json!({"kind": "destroy", "services": true})] {
            let path = format!("/api/v1/deployments/{id}/plan");
            let r = c.post_json(&path, &body).await;
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            if status != 200 {
                failures.push(format!("{who} POST {path} {body}: {status} {text}"));
            }
            for v in leaked(&text) {
                failures.push(format!("{who} POST {path} {body} shows {v}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // What a viewer does see: each variable's name, whether its value is hidden, and the
    // Secret Manager reference (not a secret: only where one is kept).
    let mut vt = app.token_client("vt2", Role::Viewer).await;
    let got: Value = vt
        .get(&format!("/api/v1/deployments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        got["spec"]["services"][0]["env"],
        json!([
            { "name": "DB_PASSWORD", "hidden": true },
            { "name": "API_TOKEN", "secret": "api-token", "version": "latest" }
        ])
    );
    let plan: Value = vt
        .post_json(&format!("/api/v1/deployments/{id}/plan"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let env_change = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["resource"] == format!("projects/{PROJECT}/locations/us-central1/services/my-app")
        })
        .and_then(|a| a["diff"]["changes"].as_array())
        .and_then(|c| c.iter().find(|c| c["field"] == "env"))
        .cloned()
        .unwrap_or_else(|| panic!("no env change in {plan}"));
    assert_eq!(
        env_change["desired"],
        json!([
            { "name": "API_TOKEN", "secret": "api-token", "version": "latest" },
            { "name": "DB_PASSWORD", "hidden": true }
        ])
    );
    let services = vt
        .get(&format!("/deployments/{id}/edit/services"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        services.contains("DB_PASSWORD (value hidden)")
            && services.contains("API_TOKEN from secret api-token:latest"),
        "{services}"
    );
    let review = vt
        .get(&format!("/deployments/{id}/edit/review"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        review.contains("DB_PASSWORD=(hidden)")
            && review.contains("--set-secrets=API_TOKEN=api-token:latest"),
        "{review}"
    );
}

#[tokio::test]
async fn an_editor_reads_and_edits_the_values() {
    let app = spawn_app().await;
    let mut ed = app.token_client("ed", Role::Editor).await;
    let (id, job) = deployment_with_secrets(&app, &mut ed).await;
    let mut es = app.user_client("es", Role::Editor).await;
    let has = |body: &str, want: &[&str]| {
        for w in want {
            assert!(body.contains(w), "{w} missing from {body}");
        }
    };
    let text = |r: reqwest::Response| async move { r.text().await.unwrap() };
    has(
        &text(ed.get(&format!("/api/v1/deployments/{id}")).await).await,
        &[DRAFT],
    );
    has(&text(ed.get("/api/v1/deployments").await).await, &[DRAFT]);
    has(
        &text(ed.get(&format!("/api/v1/deployments/{id}/versions")).await).await,
        &[APPLIED, DRAFT, CONFLICT],
    );
    has(
        &text(es.get(&format!("/deployments/{id}/versions")).await).await,
        &[APPLIED, DRAFT, CONFLICT],
    );
    has(
        &text(es.get(&format!("/deployments/{id}/export")).await).await,
        &[DRAFT],
    );
    has(
        &text(es.get(&format!("/deployments/{id}/edit/services")).await).await,
        &[
            &format!("DB_PASSWORD={DRAFT}"),
            "API_TOKEN=api-token:latest",
        ],
    );
    has(
        &text(es.get(&format!("/deployments/{id}/edit/review")).await).await,
        &[&format!("DB_PASSWORD={DRAFT}")],
    );
    // The drift section shows the value as applied and as found live.
    has(
        &text(es.get(&format!("/deployments/{id}/overview")).await).await,
        &[APPLIED, LIVE],
    );
    has(
        &text(es.get(&format!("/deployments/{id}/plan")).await).await,
        &[LIVE, DRAFT],
    );
    has(
        &text(
            ed.post_json(&format!("/api/v1/deployments/{id}/plan"), &json!({}))
                .await,
        )
        .await,
        &[LIVE, DRAFT],
    );
    // Job logs hide values from everyone: the request bodies are logged with names only.
    for page in [format!("/jobs/{job}"), format!("/jobs/{job}/progress")] {
        let body = text(es.get(&page).await).await;
        assert!(leaked(&body).is_empty(), "{page}: {body}");
        assert!(body.contains("DB_PASSWORD"), "{page}: {body}");
    }
}

#[tokio::test]
async fn a_viewers_copy_sent_back_is_refused_and_the_value_kept() {
    let app = spawn_app().await;
    let mut ed = app.token_client("ed", Role::Editor).await;
    let r = ed.post_json("/api/v1/deployments", &spec(APPLIED)).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let mut vt = app.token_client("vt", Role::Viewer).await;
    let copy: Value = vt
        .get(&format!("/api/v1/deployments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    // Viewers cannot save at all ...
    let (status, _) = put(&vt, id, 1, &copy["spec"]).await;
    assert_eq!(status, 403);
    // ... and a script that read with a viewer's token and writes with an editor's is told
    // which value it does not have, rather than saving the copy without it.
    let (status, body) = put(&ed, id, 1, &copy["spec"]).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "services[0].env[0].hidden");
    let stored: Value = ed
        .get(&format!("/api/v1/deployments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["version"], 1);
    assert_eq!(stored["spec"]["services"][0]["env"][0]["value"], APPLIED);
    // The same copy imported as a file is refused the same way.
    let mut es = app.user_client("es", Role::Editor).await;
    let r = es
        .post_form(
            "/deployments/import",
            &[("spec", &copy["spec"].to_string()), ("name", "another")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("services[0].env[0].hidden"),
    );
}
