//! Benchmark (printed, not asserted): time from process start to the first 200 from `/healthz`,
//! idle memory (RSS) after start, and memory under and after a fixed load. Targets: under
//! 150 ms, under 25 MB idle, and back within 20 MB of the one-of-each figure (below) once the
//! load has ended.
//!
//! ```sh
//! cargo build --release && cargo run --release --example startup
//! ```
//!
//! It runs `target/release/switchyard` (or the binary named by `SWITCHYARD_BIN`) on a fresh
//! temporary database, so the time includes creating and migrating it.
//!
//! The load (`BENCH_REQUESTS`, default 10,000, over `BENCH_CONCURRENCY` = 32 connections) mixes
//! what the hardening probe sent: sign-ins with wrong passwords (Argon2 hashes of 19 MiB each),
//! dashboard and jobs pages under many distinct cursors and filters, drafts created from the
//! seeds and from broken documents, plans against the sandbox, and reads of the API. RSS is
//! printed before it, after one request of each kind (what the panel loads once: the sandbox's
//! discovery documents, SQLite's page caches), at its peak (VmHWM), right after it and after 5 s
//! of quiet; the target compares the last with the one-of-each figure.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn healthz(addr: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if n >= 12 && &buf[9..12] == b"200")
}

fn rss_kb(pid: u32) -> Option<u64> {
    proc_status_kb(pid, "VmRSS:")
}

fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    let bin = std::env::var("SWITCHYARD_BIN").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/switchyard").to_string()
    });
    assert!(
        std::path::Path::new(&bin).exists(),
        "{bin} not found: run `cargo build --release` first"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("bench.db").display());

    let start = Instant::now();
    let mut child = Command::new(&bin)
        .args(["serve", "--listen", &addr, "--database", &db])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start switchyard");
    let mut ready = None;
    while start.elapsed() < Duration::from_secs(10) {
        if healthz(&addr) {
            ready = Some(start.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let ready = ready.expect("no 200 from /healthz within 10 s");
    std::thread::sleep(Duration::from_secs(1));
    let rss = rss_kb(child.id());

    println!(
        "start to first 200 from /healthz: {:.1} ms (target < 150 ms)",
        ready.as_secs_f64() * 1000.0
    );
    match rss {
        Some(kb) => println!(
            "idle RSS after start:             {:.1} MB (target < 25 MB)",
            kb as f64 / 1024.0
        ),
        None => println!("idle RSS after start: unavailable (no /proc)"),
    }

    let bin_dir = std::path::Path::new(&bin).to_path_buf();
    let loaded = load_phase(&bin_dir, &db, &addr, child.id());
    let _ = child.kill();
    let _ = child.wait();
    let Some(m) = loaded else {
        println!("memory under load: unavailable (no /proc)");
        return;
    };
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!(
        "load: {} requests ({} errors, {} answered 5xx) in {:.1} s",
        m.requests, m.errors, m.server_errors, m.seconds
    );
    println!("RSS before the load:              {:.1} MB", mb(m.before));
    println!(
        "RSS after one request of each kind: {:.1} MB (what is loaded once)",
        mb(m.warm)
    );
    println!("RSS peak during the load (VmHWM): {:.1} MB", mb(m.peak));
    println!("RSS right after the load:         {:.1} MB", mb(m.after));
    println!(
        "RSS 5 s after the load:           {:.1} MB ({:+.1} MB over idle, {:+.1} MB over one of each; target < +20 MB over one of each)",
        mb(m.settled),
        mb(m.settled) - mb(m.before),
        mb(m.settled) - mb(m.warm)
    );
}

struct Memory {
    requests: u64,
    errors: u64,
    server_errors: u64,
    seconds: f64,
    before: u64,
    /// After one request of each kind.
    warm: u64,
    peak: u64,
    after: u64,
    settled: u64,
}

const SEEDS: [&str; 5] = [
    include_str!("../tests/data/seeds/seed-000.json"),
    include_str!("../tests/data/seeds/seed-001.json"),
    include_str!("../tests/data/seeds/seed-001-services.json"),
    include_str!("../tests/data/seeds/seed-002.json"),
    include_str!("../tests/data/seeds/seed-002-http.json"),
];

/// An admin and its token made with the panel's own commands on the running panel's database.
fn admin_token(bin: &std::path::Path, db: &str) -> String {
    let mut add = Command::new(bin)
        .args([
            "user",
            "add",
            "bench",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .args(["--database", db])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("switchyard user add");
    add.stdin
        .take()
        .unwrap()
        .write_all(b"bench password 1\n")
        .unwrap();
    assert!(add.wait().unwrap().success(), "user add failed");
    let out = Command::new(bin)
        .args(["token", "create", "bench", "--database", db])
        .env("RUST_LOG", "warn")
        .output()
        .expect("switchyard token create");
    assert!(out.status.success(), "token create failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .find(|w| w.starts_with("sy_"))
        .expect("a token in the output")
        .to_string()
}

/// The `n`th request of the mix: method, path, body (JSON unless it is the sign-in form).
fn request(n: u64, ids: &[i64]) -> (reqwest::Method, String, Option<String>, bool) {
    use reqwest::Method;
    let id = ids[(n as usize) % ids.len()];
    match n % 20 {
        0 => (
            Method::POST,
            "/signin".into(),
            Some(format!("name=user{}&password=wrong+{n}", n % 97)),
            true,
        ),
        1..=4 => (
            Method::GET,
            format!("/?after=bench-{:05}", n * 7919 % 100_000),
            None,
            false,
        ),
        5..=7 => (
            Method::GET,
            format!("/jobs?deployment=bench-{}&status=failed", n % 5000),
            None,
            false,
        ),
        8 | 9 => {
            let mut spec: serde_json::Value =
                serde_json::from_str(SEEDS[(n % 5) as usize]).unwrap();
            spec["name"] = format!("load-{n}").into();
            if n.is_multiple_of(3) {
                spec["backends"][0]["max_rate"] = n.into();
            }
            (
                Method::POST,
                "/api/v1/deployments".into(),
                Some(spec.to_string()),
                false,
            )
        }
        10 | 11 => (
            Method::POST,
            format!("/api/v1/deployments/{id}/plan"),
            Some("{}".into()),
            false,
        ),
        12 => (Method::GET, format!("/deployments/{id}"), None, false),
        13 => (
            Method::GET,
            format!("/deployments/{id}/overview"),
            None,
            false,
        ),
        14 => (Method::GET, "/api/v1/deployments".into(), None, false),
        15 => (
            Method::GET,
            format!("/api/v1/jobs?deployment={id}"),
            None,
            false,
        ),
        16 => (Method::GET, "/audit".into(), None, false),
        17 => (
            Method::POST,
            "/api/v1/deployments".into(),
            Some(format!(
                "{{\"name\": \"{}\", \"x\": [{}]}}",
                "n".repeat(1500),
                "1,".repeat(900) + "1"
            )),
            false,
        ),
        18 => (
            Method::GET,
            format!("/deployments/{id}/versions"),
            None,
            false,
        ),
        _ => (Method::GET, "/healthz".into(), None, false),
    }
}

enum Outcome {
    Ok,
    ServerError,
    Failed,
}

/// Sends the `n`th request of the mix and reads its answer.
async fn send(client: &reqwest::Client, base: &str, token: &str, n: u64, ids: &[i64]) -> Outcome {
    let (method, path, body, form) = request(n, ids);
    let mut req = client.request(method, format!("{base}{path}"));
    if !form {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        let kind = if form {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        };
        req = req.header("content-type", kind).body(body);
    }
    match req.send().await {
        Ok(r) if r.status().is_server_error() => Outcome::ServerError,
        Ok(r) => {
            let _ = r.bytes().await;
            Outcome::Ok
        }
        Err(_) => Outcome::Failed,
    }
}

fn load_phase(bin: &std::path::Path, db: &str, addr: &str, pid: u32) -> Option<Memory> {
    let before = rss_kb(pid)?;
    let token = admin_token(bin, db);
    let total: u64 = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let concurrency: u64 = std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let base = format!("http://{addr}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut warm = None;
    let mut started = Instant::now();
    let (errors, server_errors) = rt.block_on(async {
        let client = reqwest::Client::new();
        // A few deployments from the seeds for the plans and pages to work on.
        let mut ids = Vec::new();
        for (i, seed) in SEEDS.iter().enumerate() {
            let mut spec: serde_json::Value = serde_json::from_str(seed).unwrap();
            spec["name"] = format!("base-{i}").into();
            let r = client
                .post(format!("{base}/api/v1/deployments"))
                .bearer_auth(&token)
                .json(&spec)
                .send()
                .await
                .expect("create a deployment");
            let body: serde_json::Value = r.json().await.unwrap();
            ids.push(body["id"].as_i64().expect("a deployment id"));
        }
        // One request of each kind, so that what the panel loads once (the sandbox's discovery
        // documents, templates, prepared statements) is in the figure the load is compared to.
        for n in 0..20 {
            send(&client, &base, &token, n, &ids).await;
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        warm = rss_kb(pid);
        started = Instant::now();
        let ids = Arc::new(ids);
        let next = Arc::new(AtomicU64::new(20));
        let errors = Arc::new(AtomicU64::new(0));
        let server_errors = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (client, base, token, ids) =
                (client.clone(), base.clone(), token.clone(), ids.clone());
            let (next, errors, server_errors) =
                (next.clone(), errors.clone(), server_errors.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total + 20 {
                        break;
                    }
                    match send(&client, &base, &token, n, &ids).await {
                        Outcome::Ok => {}
                        Outcome::ServerError => {
                            server_errors.fetch_add(1, Ordering::Relaxed);
                        }
                        Outcome::Failed => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        (
            errors.load(Ordering::Relaxed),
            server_errors.load(Ordering::Relaxed),
        )
    });
    let seconds = started.elapsed().as_secs_f64();
    let warm = warm?;
    let peak = proc_status_kb(pid, "VmHWM:")?;
    let after = rss_kb(pid)?;
    for _ in 0..5 {
        std::thread::sleep(Duration::from_secs(1));
        if std::env::var_os("BENCH_TRACE").is_some() {
            eprintln!("  RSS {:.1} MB", rss_kb(pid)? as f64 / 1024.0);
        }
    }
    let settled = rss_kb(pid)?;
    if let Some(hold) = std::env::var("BENCH_HOLD")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        eprintln!("  holding the panel (pid {pid}) for {hold} s");
        std::thread::sleep(Duration::from_secs(hold));
    }
    Some(Memory {
        requests: total,
        errors,
        server_errors,
        seconds,
        before,
        warm,
        peak,
        after,
        settled,
    })
}
