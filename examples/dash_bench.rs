//! Benchmark (prints, does not assert): the dashboard and the jobs page under load.
//!
//! ```sh
//! cargo run --release --example dash_bench
//! ```
//!
//! 1. With 1,000 deployments and 100,000 jobs: median and p99 latency and requests per second of
//!    `/` (the dashboard), `/jobs` (first page, a page half-way down, filtered by status and by
//!    deployment) and the trivial route `/healthz` of the same server, at 64 concurrent
//!    connections, each also as a ratio to `/healthz` measured right before it. Targets: at
//!    least 0.5 of `/healthz`'s throughput, p99 under 25 ms. Both pages keep what they read
//!    until something they show changes, so they are measured once more while a writer changes
//!    a deployment's live facts `BENCH_CHANGES` times a second.
//! 2. The jobs page at 1,000 and at 1,000,000 jobs (fresh databases): the statement each page
//!    runs when it is not kept (the only part of the request whose work depends on the number
//!    of jobs), median and p99 over 2,000 runs, and the ratio of the medians. Target: within 30 %.
//!
//! Settings (environment): `BENCH_SECONDS` per route (default 5), `BENCH_CONCURRENCY` (64),
//! `BENCH_DEPLOYMENTS` (1000), `BENCH_JOBS` (100000), `BENCH_SCALE_JOBS` (1000000; 0 skips
//! part 2), `BENCH_ROUTES` (words of the labels to measure in part 1; all by default),
//! `BENCH_CHANGES` (100: changes a second while the dashboard and the jobs page are measured
//! once more; 0 skips those rows).
//! Seeding a million jobs takes about a minute on two cores.
//!
//! The server runs in this process on its own Tokio runtime and the load generator on another,
//! over loopback with keep-alive connections; every request carries an API token, so the
//! trivial route pays for the same authentication as the pages.

use clap::Parser;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use switchyard::auth::Role;
use switchyard::db::Db;

const SEED_002: &str = include_str!("../tests/data/seeds/seed-002.json");

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Fills the database: `deployments` applied deployments (seed 002 under other names) with live
/// facts, and `jobs` jobs spread over them and ten users, one second apart; the newest few are
/// running (one per deployment at most, as the runner guarantees). Jobs key their deployment by
/// its id as text, as the deploy service writes them. The newest ten jobs of each deployment
/// carry its spec (the dashboard compares the last applied one with the draft); older ones carry
/// a small document, which no measured page reads, so a million jobs fit in a few hundred MB.
async fn seed(db: &Db, deployments: u64, jobs: u64) -> anyhow::Result<()> {
    let spec: serde_json::Value = serde_json::from_str(SEED_002)?;
    let mut tx = db.begin().await?;
    for n in 0..deployments {
        let name = format!("bench-{n:05}");
        let mut s = spec.clone();
        s["name"] = name.clone().into();
        let s = s.to_string();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO deployments (name, spec, created_by, updated_by) \
             VALUES (?, ?, 'bench', 'bench') RETURNING id",
        )
        .bind(&name)
        .bind(&s)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO deployment_live (deployment_id, ip, certificate, cert_status, domain_status) \
             VALUES (?, ?, 'cert', 'ACTIVE', '{\"hello.example.com\": \"ACTIVE\"}')",
        )
        .bind(id)
        .bind(format!("203.0.{}.{}", n / 250, n % 250))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let running = 20.min(deployments);
    // One statement: a recursive counter generates the rows inside SQLite.
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1) \
         INSERT INTO jobs (deployment, kind, status, spec, plan, created_by, created_at, started_at, finished_at, error) \
         SELECT CAST(d0.first + i % ?2 AS TEXT), \
                CASE WHEN i % 10 = 9 THEN 'destroy' ELSE 'apply' END, \
                CASE WHEN i >= ?1 - ?3 THEN 'running' WHEN i % 7 = 3 THEN 'failed' \
                     WHEN i % 13 = 5 THEN 'cancelled' ELSE 'succeeded' END, \
                CASE WHEN i >= ?1 - 10 * ?2 \
                     THEN (SELECT json(spec) FROM deployments WHERE id = d0.first + i % ?2) ELSE '{}' END, \
                '{\"entries\": []}', printf('user-%d', i % 10), \
                strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || i || ' seconds'), \
                strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || i || ' seconds'), \
                CASE WHEN i >= ?1 - ?3 THEN NULL \
                     ELSE strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || (i + 30) || ' seconds') END, \
                CASE WHEN i % 7 = 3 THEN 'step 3 failed: quota exceeded' END \
         FROM n, (SELECT min(id) AS first FROM deployments) d0",
    )
    .bind(jobs as i64)
    .bind(deployments.max(1) as i64)
    .bind(running as i64)
    .execute(db)
    .await?;
    sqlx::query("ANALYZE").execute(db).await?;
    Ok(())
}

struct Server {
    base: String,
    token: String,
    db: Db,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

/// Seeds a fresh database and starts the panel on it, on a runtime of its own.
fn start(deployments: u64, jobs: u64) -> anyhow::Result<Server> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let settings = switchyard::cli::Cli::parse_from([
        "switchyard",
        "--database",
        &url,
        "--listen",
        "127.0.0.1:0",
    ])
    .settings;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let t0 = Instant::now();
    let (app, token) = rt.block_on(async {
        let db = switchyard::db::connect(&url).await?;
        switchyard::db::migrate(&db).await?;
        seed(&db, deployments, jobs).await?;
        let hash = switchyard::auth::hash_password("bench password".into()).await?;
        let user = switchyard::db::users::create(&db, "bench", Role::Admin, &hash)
            .await?
            .expect("fresh database");
        let token = switchyard::auth::random_secret(switchyard::auth::TOKEN_PREFIX);
        switchyard::db::tokens::create(
            &db,
            user.id,
            "bench",
            &switchyard::auth::token_hash(&token),
        )
        .await?;
        db.close().await;
        let listener = tokio::net::TcpListener::bind(settings.listen).await?;
        let app = switchyard::App::build(settings, listener).await?;
        anyhow::Ok((app, token))
    })?;
    eprintln!(
        "seeded {deployments} deployments and {jobs} jobs in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let base = format!("http://{}", app.addr);
    let db = app.state.db.clone();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        rt.block_on(async {
            let _ = app
                .run(async {
                    let _ = rx.await;
                })
                .await;
        });
    });
    Ok(Server {
        base,
        token,
        db,
        stop,
        thread,
        _dir: dir,
    })
}

impl Server {
    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

#[derive(Debug, Clone, Copy)]
struct Stats {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

/// `concurrency` connections each sending requests back to back for `seconds`, after a short
/// warm-up.
async fn load(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    concurrency: u64,
    seconds: u64,
) -> Stats {
    let run = |secs: f64| {
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (client, url, token, stop) = (
                client.clone(),
                url.to_string(),
                token.to_string(),
                stop.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut errors = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    match client.get(&url).bearer_auth(&token).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            lat.push(t.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            }));
        }
        async move {
            let t0 = Instant::now();
            tokio::time::sleep(Duration::from_secs_f64(secs)).await;
            stop.store(true, Ordering::Relaxed);
            let mut all = Vec::new();
            let mut errors = 0;
            for t in tasks {
                let (l, e) = t.await.expect("load task");
                all.extend(l);
                errors += e;
            }
            (all, errors, t0.elapsed())
        }
    };
    let _ = run(0.5).await;
    let (mut lat, errors, took) = run(seconds as f64).await;
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    Stats {
        rps: lat.len() as f64 / took.as_secs_f64(),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        errors,
    }
}

/// Changes one deployment's live facts `per_second` times a second, round the deployments, until
/// aborted.
async fn change(db: Db, per_second: u64) {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second as f64));
    let mut n: i64 = 0;
    loop {
        tick.tick().await;
        n += 1;
        let _ = sqlx::query(
            "UPDATE deployment_live SET checked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
             WHERE deployment_id = (SELECT min(deployment_id) FROM deployment_live) + ? % 1000",
        )
        .bind(n)
        .execute(&db)
        .await;
    }
}

/// Median and p99 in microseconds of the statement behind each jobs page (what the panel runs
/// when the page is not kept), run back to back on the idle server's pool.
async fn statement_timings(db: &Db, jobs: u64) -> anyhow::Result<Vec<(&'static str, (f64, f64))>> {
    use switchyard::db::job_summaries::{JobFilter, jobs_page};
    let (at, id): (String, i64) = sqlx::query_as(
        "SELECT created_at, id FROM jobs ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?",
    )
    .bind((jobs / 2) as i64)
    .fetch_one(db)
    .await?;
    let mid = switchyard::db::audit::Cursor { at, id };
    let one = switchyard::db::dashboard::deployment_id_by_name(db, "bench-00007")
        .await?
        .map(switchyard::db::jobs::deployment_key);
    let pages = [
        ("jobs, first page", JobFilter::default(), None),
        ("jobs, half-way down", JobFilter::default(), Some(&mid)),
        (
            "jobs, status=failed",
            JobFilter {
                status: Some("failed".into()),
                ..JobFilter::default()
            },
            None,
        ),
        (
            "jobs, one deployment",
            JobFilter {
                deployment: one,
                ..JobFilter::default()
            },
            None,
        ),
    ];
    let mut out = Vec::new();
    for (label, filter, before) in pages {
        let mut lat = Vec::new();
        for i in 0..2200 {
            let t = Instant::now();
            let page = jobs_page(db, &filter, before, 51).await?;
            anyhow::ensure!(page.len() == 51, "{label}: a page of {}", page.len());
            if i >= 200 {
                lat.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        lat.sort_by(f64::total_cmp);
        out.push((label, (lat[lat.len() / 2], lat[lat.len() * 99 / 100])));
    }
    Ok(out)
}

/// The `before` cursor of the job half-way down the history.
async fn middle_cursor(db: &Db, jobs: u64) -> String {
    let (at, id): (String, i64) = sqlx::query_as(
        "SELECT created_at, id FROM jobs ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?",
    )
    .bind((jobs / 2) as i64)
    .fetch_one(db)
    .await
    .expect("a job half-way");
    url::form_urlencoded::byte_serialize(format!("{at},{id}").as_bytes()).collect()
}

fn routes(mid: &str) -> Vec<(&'static str, String)> {
    vec![
        ("trivial /healthz", "/healthz".to_string()),
        ("dashboard /", "/".to_string()),
        ("jobs, first page", "/jobs".to_string()),
        ("jobs, half-way down", format!("/jobs?before={mid}")),
        ("jobs, status=failed", "/jobs?status=failed".to_string()),
        (
            "jobs, one deployment",
            "/jobs?deployment=bench-00007".to_string(),
        ),
    ]
}

fn main() -> anyhow::Result<()> {
    let seconds = env("BENCH_SECONDS", 5);
    let concurrency = env("BENCH_CONCURRENCY", 64);
    let deployments = env("BENCH_DEPLOYMENTS", 1000);
    let jobs = env("BENCH_JOBS", 100_000);
    let scale_jobs = env("BENCH_SCALE_JOBS", 1_000_000);
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency as usize)
        .build()?;

    println!(
        "== {deployments} deployments, {jobs} jobs, {concurrency} connections, {seconds} s per route"
    );
    let server = start(deployments, jobs)?;
    let mid = client_rt.block_on(middle_cursor(&server.db, jobs));
    println!(
        "{:<24} {:>10} {:>10} {:>10} {:>14} {:>14} {:>7}",
        "route", "req/s", "p50 ms", "p99 ms", "vs /healthz", "/healthz req/s", "errors"
    );
    // `BENCH_ROUTES=dashboard,status` measures only the routes whose label contains one of the
    // words (and `/healthz`, the base of the ratios), e.g. while profiling one page.
    let only = std::env::var("BENCH_ROUTES").unwrap_or_default();
    let wanted = |label: &str| {
        label.contains("healthz")
            || only.is_empty()
            || only.split(',').any(|w| !w.is_empty() && label.contains(w))
    };
    let churn = env("BENCH_CHANGES", 100);
    let mut rows: Vec<(String, String, u64)> = routes(&mid)
        .into_iter()
        .map(|(l, p)| (l.to_string(), p, 0))
        .collect();
    if churn > 0 {
        // The same pages while the team works: each change (a live fact of some deployment
        // re-read) moves the change count, so the pages are rebuilt after it.
        rows.push((format!("dashboard, {churn} chg/s"), "/".into(), churn));
        rows.push((format!("jobs first, {churn} chg/s"), "/jobs".into(), churn));
    }
    let url = |path: &str| format!("{}{path}", server.base);
    for (label, path, changes) in rows.into_iter().filter(|(l, _, _)| wanted(l)) {
        // The machine's speed drifts (other work on shared cores): each page is compared with
        // `/healthz` measured just before it.
        let base = if path == "/healthz" {
            None
        } else {
            Some(client_rt.block_on(load(
                &client,
                &url("/healthz"),
                &server.token,
                concurrency,
                seconds,
            )))
        };
        let writer = (changes > 0).then(|| client_rt.spawn(change(server.db.clone(), changes)));
        let s = client_rt.block_on(load(
            &client,
            &url(&path),
            &server.token,
            concurrency,
            seconds,
        ));
        if let Some(w) = writer {
            w.abort();
        }
        let base = base.unwrap_or(s);
        println!(
            "{label:<24} {:>10.0} {:>10.2} {:>10.2} {:>13.2}x {:>14.0} {:>7}",
            s.rps,
            s.p50_ms,
            s.p99_ms,
            s.rps / base.rps,
            base.rps,
            s.errors
        );
    }
    server.stop();

    if scale_jobs > 0 {
        // Ten deployments, so that at 1,000 jobs too each filter fills a page.
        println!(
            "\n== the jobs page's statement at 1,000 and at {scale_jobs} jobs (10 deployments)"
        );
        let mut timings = Vec::new();
        for n in [1000, scale_jobs] {
            let server = start(10, n)?;
            timings.push(client_rt.block_on(statement_timings(&server.db, n))?);
            server.stop();
        }
        println!(
            "{:<24} {:>12} {:>12} {:>12} {:>12} {:>8}",
            "page", "1k p50 µs", "big p50 µs", "1k p99 µs", "big p99 µs", "big/1k"
        );
        for ((label, small), (_, big)) in timings[0].iter().zip(&timings[1]) {
            println!(
                "{label:<24} {:>12.0} {:>12.0} {:>12.0} {:>12.0} {:>7.2}x",
                small.0,
                big.0,
                small.1,
                big.1,
                big.0 / small.0
            );
        }
    }
    Ok(())
}
