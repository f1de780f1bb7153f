//! Apply benchmark (issue "Plan and apply as tracked jobs"): the seed-001 load balancer applied
//! against the sandbox cloud with every operation taking 300 ms.
//!
//! Prints the apply's wall time as a ratio to the critical-path bound (5 dependent operations:
//! NEG → backend service → URL map → HTTPS proxy → forwarding rule, × 300 ms) and the number of
//! API requests per resource created (in all, and without the plan's reads). Targets: ≤ 1.10 and ≤ 2.5. Run with
//! `cargo run --release --example apply_bench`.

use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard::cloud::sandbox::{self, SandboxConfig};
use switchyard::deploy::Deployer;
use switchyard::jobs::{Runner, RunnerOptions, cloud_executor::CloudExecutor};

const LATENCY: Duration = Duration::from_millis(300);
const CRITICAL_PATH_OPERATIONS: u32 = 5;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = switchyard::db::connect(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .await?;
    switchyard::db::migrate(&db).await?;
    let config = SandboxConfig {
        operation_latency: LATENCY,
        ..SandboxConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let handle = sandbox::spawn(db.clone(), config, listener).await?;
    let client = Arc::new(handle.client(switchyard::cloud::RetryPolicy::default())?);
    let runner = Arc::new(Runner::new(
        db.clone(),
        Arc::new(CloudExecutor::new(client.clone())),
        RunnerOptions::default(),
    ));
    let reader = Arc::new(switchyard::deploy::CloudLiveReader::new(client));
    let deployer = Deployer::new(db.clone(), reader, runner.clone());

    let spec = include_str!("../tests/data/seeds/seed-001.json");
    let name: serde_json::Value = serde_json::from_str(spec)?;
    let row = switchyard::db::deployments::create(
        &db,
        name["name"].as_str().unwrap_or("bench"),
        spec,
        "bench",
    )
    .await?;

    // The plan's reads, measured on their own: the apply below plans again the same way.
    let before_plan = handle.sandbox.request_count();
    deployer.plan(&row).await?;
    let plan_requests = handle.sandbox.request_count() - before_plan;

    let requests_before = handle.sandbox.request_count();
    let started = Instant::now();
    let job = deployer.apply(&row, "bench").await?;
    let done = runner.wait(job).await?;
    let wall = started.elapsed();
    let requests = handle.sandbox.request_count() - requests_before;
    anyhow::ensure!(
        done.status == "succeeded",
        "the apply failed: {:?}",
        done.error
    );

    let steps = switchyard::db::jobs::job_steps(&db, job).await?;
    let created = steps.iter().filter(|s| s.action == "create").count();
    let bound = LATENCY * CRITICAL_PATH_OPERATIONS;
    println!("seed-001 apply, sandbox operation latency {LATENCY:?}");
    println!("  steps: {} ({created} resources created)", steps.len());
    println!("  wall time: {wall:?} (plan included)");
    println!(
        "  wall / critical path ({CRITICAL_PATH_OPERATIONS} × {LATENCY:?} = {bound:?}): {:.2}  (target ≤ 1.10)",
        wall.as_secs_f64() / bound.as_secs_f64()
    );
    let per = |n: u64| n as f64 / created.max(1) as f64;
    println!(
        "  API requests: {requests} in all, {:.2} per resource; the job's calls alone: {:.2} per resource  (target ≤ 2.5)",
        per(requests),
        per(requests.saturating_sub(plan_requests))
    );
    println!("  of which the plan's reads: {plan_requests} (one list per collection)");
    handle.stop().await;
    Ok(())
}
