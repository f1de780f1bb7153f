//! Benchmark (printed, not asserted): time from process start to the first 200 from `/healthz`,
//! and idle memory (RSS) after start. Targets: under 150 ms and under 25 MB.
//!
//! ```sh
//! cargo build --release && cargo run --release --example startup
//! ```
//!
//! It runs `target/release/switchyard` (or the binary named by `SWITCHYARD_BIN`) on a fresh
//! temporary database, so the time includes creating and migrating it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
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
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
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
    let _ = child.kill();
    let _ = child.wait();

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
}
