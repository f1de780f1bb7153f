//! Puts a spec's resources into the sandbox cloud the way an apply does (the planner's compiled
//! resources, in creation order, each insert waited for; internet NEGs get their endpoint) and
//! records the result as an apply would: the applied spec and a succeeded apply job.
#![allow(dead_code)]

use crate::common::TestApp;
use switchyard::cloud::ResourceRef;
use switchyard::domain::plan;

/// Creates `spec` as a deployment, creates its resources in the sandbox, marks it applied and
/// records a succeeded apply job by `by`. Returns the deployment id.
pub async fn apply_in_sandbox(app: &TestApp, spec: &str, by: &str) -> i64 {
    let parsed = switchyard::domain::validate::parse(spec).expect("a valid spec");
    let db = &app.state.db;
    let d = switchyard::db::deployments::create(db, &parsed.name, spec, by)
        .await
        .expect("deployment saved");
    let cloud = &app.state.cloud;
    let graph = plan::compile(&parsed);
    for r in &graph.resources {
        let rref = ResourceRef::parse(&r.id).expect("a resource path");
        let op = cloud
            .insert(&rref.collection, &r.body, uuid::Uuid::new_v4())
            .await
            .unwrap_or_else(|e| panic!("insert {}: {e}", r.id));
        cloud
            .wait_operation(&op)
            .await
            .unwrap_or_else(|e| panic!("waiting for {}: {e}", r.id));
        if let Some(ep) = &r.endpoint {
            let op = cloud
                .attach_network_endpoints(
                    &graph.project,
                    &r.name,
                    vec![switchyard::cloud::types::NetworkEndpoint {
                        fqdn: Some(ep.fqdn.clone()),
                        port: Some(i32::from(ep.port)),
                        ..Default::default()
                    }],
                    uuid::Uuid::new_v4(),
                )
                .await
                .unwrap_or_else(|e| panic!("attach endpoint to {}: {e}", r.id));
            cloud.wait_operation(&op).await.expect("attach waited");
        }
    }
    switchyard::db::deployments::mark_applied(db, d.id, d.version, spec)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO jobs (deployment, kind, status, spec, plan, created_by, started_at, finished_at) \
         VALUES (?, 'apply', 'succeeded', ?, '{}', ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), \
         strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
    )
    .bind(&parsed.name)
    .bind(spec)
    .bind(by)
    .execute(db)
    .await
    .unwrap();
    d.id
}
