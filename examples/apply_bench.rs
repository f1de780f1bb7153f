//! Apply benchmark (issues "Plan and apply as tracked jobs" and "a job engine at the
//! critical-path bound"): the seed-001 load balancer applied against the sandbox cloud with
//! every Compute operation taking exactly 300 ms (the sandbox's latency settings, no faults).
//!
//! Prints, per run and as the median of the runs:
//! - the apply's wall time, the plan's reads included, as a ratio to the critical-path bound:
//!   5 dependent operations (NEG → backend service → URL map → HTTPS proxy → forwarding rule)
//!   × 300 ms. Target ≤ 1.10;
//! - the gap between an operation reaching DONE (its `endTime`) and the request of the step
//!   that waited for it (the `insertTime` of that step's operation): the job engine's own
//!   overhead on the critical path. Target under 5 ms;
//! - the API requests per resource created, in all and without the plan's reads (target ≤ 2.5),
//!   and how many the plan's reads are (one list per collection, in parallel).
//!
//! Run with `cargo run --release --example apply_bench`; `BENCH_RUNS` (default 3) sets the
//! number of runs, each on a fresh database and sandbox.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard::cloud::sandbox::{self, SandboxArgs};
use switchyard::cloud::{OperationRef, OperationState, RetryPolicy};
use switchyard::deploy::Deployer;
use switchyard::jobs::{Runner, RunnerOptions, cloud_executor::CloudExecutor};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const LATENCY_MS: u64 = 300;
const CRITICAL_PATH_OPERATIONS: u32 = 5;

struct Run {
    wall: Duration,
    plan_time: Duration,
    plan_requests: u64,
    requests: u64,
    created: usize,
    steps: usize,
    /// Milliseconds from DONE of the last dependency to the dependent's request, per step.
    gaps: Vec<f64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let latency = Duration::from_millis(LATENCY_MS);
    let bound = latency * CRITICAL_PATH_OPERATIONS;
    println!(
        "seed-001 apply, every sandbox operation exactly {latency:?}, bound {CRITICAL_PATH_OPERATIONS} × {latency:?} = {bound:?}"
    );
    let mut all = Vec::new();
    for i in 1..=runs {
        let r = run().await?;
        println!(
            "  run {i}: {:.2} of the bound ({:.0} ms); gap DONE → dependent request: median {:.1} ms, max {:.1} ms over {} dependent steps",
            ratio(&r, bound),
            r.wall.as_secs_f64() * 1000.0,
            median(&r.gaps),
            r.gaps.iter().cloned().fold(0.0, f64::max),
            r.gaps.len()
        );
        all.push(r);
    }
    all.sort_by_key(|a| a.wall);
    let r = &all[all.len() / 2];
    let mut gaps: Vec<f64> = all.iter().flat_map(|r| r.gaps.iter().copied()).collect();
    gaps.sort_by(f64::total_cmp);
    println!("median run:");
    println!("  steps: {} ({} resources created)", r.steps, r.created);
    println!(
        "  wall time: {:.0} ms (plan included; its reads alone {:.0} ms)",
        r.wall.as_secs_f64() * 1000.0,
        r.plan_time.as_secs_f64() * 1000.0
    );
    println!(
        "  wall / critical path: {:.2}  (target ≤ 1.10)",
        ratio(r, bound)
    );
    println!(
        "  gap from DONE to the dependent's request, all runs: median {:.1} ms, p90 {:.1} ms, max {:.1} ms  (target < 5 ms)",
        median(&gaps),
        percentile(&gaps, 0.9),
        gaps.last().copied().unwrap_or(0.0)
    );
    let per = |n: u64| n as f64 / r.created.max(1) as f64;
    println!(
        "  API requests: {} in all, {:.2} per resource; the job's calls alone: {:.2} per resource  (target ≤ 2.5)",
        r.requests,
        per(r.requests),
        per(r.requests.saturating_sub(r.plan_requests))
    );
    println!(
        "  of which the plan's reads: {} (one list per collection, in parallel)",
        r.plan_requests
    );
    Ok(())
}

fn ratio(r: &Run, bound: Duration) -> f64 {
    r.wall.as_secs_f64() / bound.as_secs_f64()
}

fn median(v: &[f64]) -> f64 {
    percentile(v, 0.5)
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return 0.0;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// The sandbox's own settings (as `switchyard sandbox` reads them), with every operation taking
/// exactly the benchmark's latency and no faults.
fn sandbox_args() -> anyhow::Result<SandboxArgs> {
    let mut args = SandboxArgs::from_env()?;
    args.latency_ms = LATENCY_MS;
    args.run_latency_ms = LATENCY_MS;
    args.certificate_secs = 0;
    args.transient_rate = 0.0;
    args.rate_limit_rate = 0.0;
    args.operation_error_rate = 0.0;
    args.lost_reply_rate = 0.0;
    args.failing_images.clear();
    Ok(args)
}

async fn run() -> anyhow::Result<Run> {
    let dir = tempfile::tempdir()?;
    let db = switchyard::db::connect(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .await?;
    switchyard::db::migrate(&db).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let handle = sandbox::spawn(db.clone(), sandbox_args()?.to_config(), listener).await?;
    let client = Arc::new(handle.client(RetryPolicy::default())?);
    let runner = Arc::new(Runner::new(
        db.clone(),
        Arc::new(CloudExecutor::new(client.clone())),
        RunnerOptions::default(),
    ));
    let reader = Arc::new(switchyard::deploy::CloudLiveReader::new(client.clone()));
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
    let plan_started = Instant::now();
    deployer.plan(&row).await?;
    let plan_time = plan_started.elapsed();
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
    // Each step's operation as the sandbox recorded it: when its request came in, when it was
    // DONE. Read after the job, so these reads are not counted above.
    let mut times: HashMap<String, (OffsetDateTime, OffsetDateTime)> = HashMap::new();
    for s in &steps {
        let Some(op) = s.operation.as_deref().and_then(OperationRef::parse) else {
            continue;
        };
        if let OperationState::Compute(o) = client.get_operation(&op).await? {
            let at = |t: &Option<String>| {
                t.as_deref()
                    .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
            };
            if let (Some(insert), Some(end)) = (at(&o.insert_time), at(&o.end_time)) {
                times.insert(s.step_id.clone(), (insert, end));
            }
        }
    }
    let gaps = steps
        .iter()
        .filter_map(|s| {
            let (requested, _) = times.get(&s.step_id)?;
            let ready = s
                .depends_on()
                .iter()
                .filter_map(|d| times.get(d).map(|t| t.1))
                .max()?;
            Some((*requested - ready).as_seconds_f64() * 1000.0)
        })
        .collect();
    handle.stop().await;
    Ok(Run {
        wall,
        plan_time,
        plan_requests,
        requests,
        created: steps.iter().filter(|s| s.action == "create").count(),
        steps: steps.len(),
        gaps,
    })
}
