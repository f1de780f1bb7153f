//! A job step that waits out a rate limit says so while it waits: on the job page and in the
//! API ("waiting: rate limited by Google, retry in 2 s"), and in the job's log for good.

use crate::common::spawn_app_with;
use crate::deploy::{create_deployment, sandbox, seed, start_job, wait_job};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use switchyard::auth::Role;

#[tokio::test]
async fn a_rate_limited_step_shows_its_wait_on_the_job_page_and_in_the_api() {
    // Waits of one to two seconds (the sandbox's 429 says Retry-After: 1): long enough to be
    // seen by polling, short enough for a test.
    let app = spawn_app_with(|s| {
        s.engine.retry_first_delay_ms = 2000;
        s.engine.retry_max_delay_ms = 2000;
    })
    .await;
    sandbox(&app, json!({ "operationLatencyMs": 300 })).await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let id = create_deployment(&app, &seed("seed-001.json")).await;
    let job = start_job(&mut c, id, "apply").await;

    // Once a step waits on its operation, only the job's own calls reach the sandbox: the next
    // one is answered 429.
    let started = Instant::now();
    loop {
        let body: Value = c
            .get(&format!("/api/v1/jobs/{job}"))
            .await
            .json()
            .await
            .unwrap();
        if body["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["operation"].is_string())
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{body}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sandbox(&app, json!({ "queue": ["rateLimited"] })).await;

    let mut in_api = None;
    let mut on_page = false;
    loop {
        let body: Value = c
            .get(&format!("/api/v1/jobs/{job}"))
            .await
            .json()
            .await
            .unwrap();
        if in_api.is_none() {
            in_api = body["steps"]
                .as_array()
                .unwrap()
                .iter()
                .find_map(|s| s["waiting"]["message"].as_str().map(str::to_string));
        }
        if !on_page {
            let html = c
                .get(&format!("/jobs/{job}/progress"))
                .await
                .text()
                .await
                .unwrap();
            on_page = html.contains("id=\"job-waiting\"")
                && html.contains("waiting: rate limited by Google, retry in ");
        }
        if matches!(body["status"].as_str(), Some("succeeded" | "failed")) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let message = in_api.expect("the API showed the wait");
    assert!(
        message.starts_with("waiting: rate limited by Google, retry in "),
        "{message}"
    );
    assert!(on_page, "the job page showed the wait");

    let body = wait_job(&mut c, job).await;
    assert_eq!(body["status"], "succeeded", "{body}");
    assert!(
        body["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["waiting"].is_null()),
        "no wait is left once the job is over: {body}"
    );
    let log: Vec<switchyard::db::jobs::LogLine> =
        switchyard::db::jobs::job_log(&app.state.db, job, 0)
            .await
            .unwrap();
    assert!(
        log.iter().any(|l| l.level == "warn"
            && l.message
                .starts_with("waiting: rate limited by Google, retry in ")
            && l.message.contains("Quota exceeded")),
        "{log:?}"
    );
}
