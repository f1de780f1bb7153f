//! Applies a spec in the sandbox cloud through the panel's own deploy service (plan, then an
//! apply job run by the job runner with the cloud executor), waiting for the job to finish.
#![allow(dead_code)]

use crate::common::TestApp;

/// Saves `spec` as a deployment by `by`, applies it and waits for the job. Returns the
/// deployment id and the job id.
pub async fn apply_in_sandbox(app: &TestApp, spec: &str, by: &str) -> (i64, i64) {
    let parsed = switchyard::domain::parse::parse(spec).expect("a valid spec");
    let db = &app.state.db;
    let d = switchyard::db::deployments::create(db, &parsed.name, spec, by)
        .await
        .expect("deployment saved");
    let job = app
        .state
        .deployer
        .apply(&d, by)
        .await
        .unwrap_or_else(|e| panic!("apply: {e}"));
    let done = app
        .state
        .deployer
        .runner()
        .wait(job)
        .await
        .unwrap_or_else(|e| panic!("waiting for job {job}: {e}"));
    assert_eq!(
        done.status, "succeeded",
        "apply job {job}: {:?}",
        done.error
    );
    (d.id, job)
}
