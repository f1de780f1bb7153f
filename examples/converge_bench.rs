//! Convergence under faults (issue "a job engine at the critical-path bound", item 5): every
//! seed of `tests/data/seeds` applied and destroyed while the sandbox answers 20 % of all
//! requests with a rate limit (429) and 10 % with a transient failure (503), for the whole run,
//! the plan's reads included. Each apply and destroy must succeed as its first job (no resume),
//! leave exactly the planned resources once each, and the destroy nothing at all.
//!
//! Prints one line per run and seed (time, requests, the waits the job logged) and a summary.
//! Run with `cargo run --release --example converge_bench`. Settings: `CONVERGE_RUNS` (20),
//! `CONVERGE_RATE_LIMIT_RATE` (0.2), `CONVERGE_TRANSIENT_RATE` (0.1). Retry waits are a few
//! milliseconds (the sandbox's `Retry-After: 1` is capped to them) so the runs are quick; the
//! budgets (5 minutes of rate limits, 6 attempts at a transient failure) are the defaults.

use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard::cloud::sandbox::{self, SandboxArgs};
use switchyard::cloud::{Client, CollectionRef};
use switchyard::config::EngineSettings;
use switchyard::deploy::Deployer;
use switchyard::jobs::{Runner, cloud_executor::CloudExecutor};

const SEEDS: &[(&str, &str)] = &[
    (
        "seed-000",
        include_str!("../tests/data/seeds/seed-000.json"),
    ),
    (
        "seed-001",
        include_str!("../tests/data/seeds/seed-001.json"),
    ),
    (
        "seed-001-services",
        include_str!("../tests/data/seeds/seed-001-services.json"),
    ),
    (
        "seed-002",
        include_str!("../tests/data/seeds/seed-002.json"),
    ),
    (
        "seed-002-http",
        include_str!("../tests/data/seeds/seed-002-http.json"),
    ),
];

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What one apply-and-destroy of one seed came to.
struct Outcome {
    apply: Duration,
    destroy: Duration,
    requests: u64,
    rate_limit_waits: usize,
    transient_waits: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: usize = env("CONVERGE_RUNS", 20);
    let rate_limit_rate: f64 = env("CONVERGE_RATE_LIMIT_RATE", 0.2);
    let transient_rate: f64 = env("CONVERGE_TRANSIENT_RATE", 0.1);
    println!(
        "{runs} runs of every seed, apply then destroy, {:.0} % of requests rate limited and {:.0} % transient failures",
        rate_limit_rate * 100.0,
        transient_rate * 100.0
    );
    let started = Instant::now();
    let mut failures = Vec::new();
    let (mut waits_rl, mut waits_tr, mut requests) = (0, 0, 0);
    for run in 1..=runs {
        let mut line = format!("run {run:2}:");
        for (name, spec) in SEEDS {
            match converge(spec, rate_limit_rate, transient_rate).await {
                Ok(o) => {
                    line.push_str(&format!(
                        " {name} ok {:.2}+{:.2} s ({} req, {} rate-limit and {} transient waits);",
                        o.apply.as_secs_f64(),
                        o.destroy.as_secs_f64(),
                        o.requests,
                        o.rate_limit_waits,
                        o.transient_waits
                    ));
                    waits_rl += o.rate_limit_waits;
                    waits_tr += o.transient_waits;
                    requests += o.requests;
                }
                Err(e) => {
                    line.push_str(&format!(" {name} FAILED;"));
                    failures.push(format!("run {run} {name}: {e:#}"));
                }
            }
        }
        println!("{}", line.trim_end_matches(';'));
    }
    let total = runs * SEEDS.len();
    println!(
        "converged: {} of {total} (apply and destroy as first jobs, exactly the planned resources, none left after the destroy) in {:.1} s",
        total - failures.len(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "{requests} requests; the jobs waited out {waits_rl} rate limits and {waits_tr} transient failures"
    );
    for f in &failures {
        println!("  {f}");
    }
    anyhow::ensure!(
        failures.is_empty(),
        "{} runs did not converge",
        failures.len()
    );
    Ok(())
}

/// A fresh database, sandbox and engine; the seed applied, checked and destroyed.
async fn converge(
    spec: &str,
    rate_limit_rate: f64,
    transient_rate: f64,
) -> anyhow::Result<Outcome> {
    let dir = tempfile::tempdir()?;
    let db = switchyard::db::connect(&format!(
        "sqlite://{}",
        dir.path().join("converge.db").display()
    ))
    .await?;
    switchyard::db::migrate(&db).await?;
    let mut args = SandboxArgs::from_env()?;
    args.latency_ms = 20;
    args.run_latency_ms = 50;
    // Served certificates turn ACTIVE a second after creation, as Google's would eventually.
    args.certificate_secs = 1;
    args.rate_limit_rate = rate_limit_rate;
    args.transient_rate = transient_rate;
    args.operation_error_rate = 0.0;
    args.lost_reply_rate = 0.0;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let handle = sandbox::spawn(db.clone(), args.to_config(), listener).await?;
    let engine = EngineSettings::fast();
    let client = Arc::new(handle.client(engine.retry_policy())?);
    let runner = Arc::new(Runner::new(
        db.clone(),
        Arc::new(CloudExecutor::new(client.clone())),
        engine.runner_options(),
    ));
    let reader = Arc::new(switchyard::deploy::CloudLiveReader::new(client.clone()));
    let deployer = Deployer::new(db.clone(), reader, runner.clone());
    let parsed: Value = serde_json::from_str(spec)?;
    let row = switchyard::db::deployments::create(
        &db,
        parsed["name"].as_str().unwrap_or("converge"),
        spec,
        "bench",
    )
    .await?;
    let before = handle.sandbox.request_count();

    let t = Instant::now();
    let job = deployer.apply(&row, "bench").await?;
    let done = runner.wait(job).await?;
    let apply = t.elapsed();
    anyhow::ensure!(done.status == "succeeded", "apply: {:?}", done.error);
    let steps = switchyard::db::jobs::job_steps(&db, job).await?;
    let planned: BTreeSet<String> = steps
        .iter()
        .filter(|s| s.action == "create" && !s.resource.contains("/locations/"))
        .map(|s| s.resource.clone())
        .collect();
    let live = owned(&client, &parsed).await?;
    let unique: BTreeSet<String> = live.iter().cloned().collect();
    anyhow::ensure!(unique.len() == live.len(), "duplicates: {live:?}");
    anyhow::ensure!(
        unique == planned,
        "live {unique:?} is not the plan's {planned:?}"
    );
    let (mut rl, mut tr) = waits(&db, job).await?;

    let t = Instant::now();
    let job = deployer.destroy(&row, "bench", true).await?;
    let done = runner.wait(job).await?;
    let destroy = t.elapsed();
    anyhow::ensure!(done.status == "succeeded", "destroy: {:?}", done.error);
    let left = owned(&client, &parsed).await?;
    anyhow::ensure!(left.is_empty(), "left after the destroy: {left:?}");
    let (r, t) = waits(&db, job).await?;
    rl += r;
    tr += t;
    let requests = handle.sandbox.request_count() - before;
    handle.stop().await;
    Ok(Outcome {
        apply,
        destroy,
        requests,
        rate_limit_waits: rl,
        transient_waits: tr,
    })
}

/// The waits a job logged: (rate limits, transient failures).
async fn waits(db: &switchyard::db::Db, job: i64) -> anyhow::Result<(usize, usize)> {
    let log = switchyard::db::jobs::job_log(db, job, 0).await?;
    let count = |what: &str| {
        log.iter()
            .filter(|l| l.message.starts_with(&format!("waiting: {what}")))
            .count()
    };
    Ok((
        count("rate limited"),
        count("temporary Google Cloud failure"),
    ))
}

/// Every Compute resource in the sandbox named with the deployment's prefix.
async fn owned(client: &Client, spec: &Value) -> anyhow::Result<Vec<String>> {
    let project = spec["project"].as_str().unwrap_or_default();
    let prefix = format!("{}-", spec["name"].as_str().unwrap_or_default());
    let mut collections: Vec<CollectionRef> = [
        "networkEndpointGroups",
        "backendServices",
        "urlMaps",
        "sslCertificates",
        "targetHttpsProxies",
        "targetHttpProxies",
        "addresses",
        "forwardingRules",
    ]
    .iter()
    .map(|c| CollectionRef::global(project, c))
    .collect();
    let regions: BTreeSet<&str> = spec["backends"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|b| b["regions"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    for r in regions {
        collections.push(CollectionRef::regional(project, r, "networkEndpointGroups"));
    }
    let mut out = Vec::new();
    for c in collections {
        let items: Vec<Value> = client.list(&c).await?;
        for item in items {
            let name = item["name"].as_str().unwrap_or_default();
            if name.starts_with(&prefix) {
                out.push(format!("{}/{name}", c.path()));
            }
        }
    }
    Ok(out)
}
