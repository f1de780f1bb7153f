//! Cancelling and resuming jobs: the API's answers for a job in the wrong state or no job at
//! all, and the job page's buttons (editors only), its account of a failed job and the moves it
//! offers.

use crate::common::{TestApp, spawn_app};
use crate::dash_jobs::insert_job;
use serde_json::{Value, json};
use switchyard::auth::Role;

async fn post_api(c: &mut crate::common::Client, path: &str) -> (u16, Value) {
    let r = c.post_json(path, &json!({})).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn deployment(app: &TestApp, name: &str) -> i64 {
    switchyard::db::deployments::create(&app.state.db, name, "{}", "ann")
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn resume_and_cancel_answer_409_in_the_wrong_state_and_404_for_no_job() {
    let app = spawn_app().await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let dep = deployment(&app, "shop").await;
    let succeeded = insert_job(&app, dep, "apply", "succeeded", "ann", 0).await;
    let failed = insert_job(&app, dep, "apply", "failed", "ann", 10).await;
    let cancelled = insert_job(&app, dep, "apply", "cancelled", "ann", 20).await;

    for (path, want, code) in [
        (format!("/api/v1/jobs/{succeeded}/resume"), 409, "conflict"),
        ("/api/v1/jobs/999999/resume".to_string(), 404, "not_found"),
        (format!("/api/v1/jobs/{succeeded}/cancel"), 409, "conflict"),
        (format!("/api/v1/jobs/{failed}/cancel"), 409, "conflict"),
        (format!("/api/v1/jobs/{cancelled}/cancel"), 409, "conflict"),
        ("/api/v1/jobs/999999/cancel".to_string(), 404, "not_found"),
    ] {
        let (status, body) = post_api(&mut c, &path).await;
        assert_eq!(status, want, "{path}: {body}");
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
    }
    let (_, body) = post_api(&mut c, &format!("/api/v1/jobs/{succeeded}/resume")).await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("succeeded") && message.contains("failed or cancelled"),
        "says why: {message}"
    );

    // A running job is cancelled: 202, and the job says a cancel was asked for.
    let running = insert_job(&app, dep, "apply", "running", "ann", 30).await;
    let (status, body) = post_api(&mut c, &format!("/api/v1/jobs/{running}/cancel")).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["cancel_requested"], true, "{body}");
    // Resuming a failed job while another job of the deployment runs: 409 naming it.
    let (status, body) = post_api(&mut c, &format!("/api/v1/jobs/{failed}/resume")).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("job {running}")),
        "{body}"
    );
}
