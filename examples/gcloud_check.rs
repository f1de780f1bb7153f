//! Runs every gcloud command the panel prints, for each seed and for a spec using every feature,
//! through the real gcloud with no network, and says which parse. Not part of `cargo test`: it
//! needs Google's Cloud SDK (`gcloud` on the PATH, or `GCLOUD` naming it) and `unshare`, which a
//! fresh machine may lack; the tests check instead that every field of every request appears in
//! the commands (`src/domain/gcloud/tests.rs`).
//!
//! ```sh
//! cargo run --example gcloud_check
//! ```
//!
//! A command that parses stops at the missing login ("do not currently have an active
//! account"); any other answer is printed as a failure, and the exit code is 1.

use std::process::Command;
use switchyard::domain::{gcloud, parse};

const SPECS: &[(&str, &str)] = &[
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
    (
        "everything",
        include_str!("../tests/data/specs/everything.json"),
    ),
    (
        "multi-region",
        include_str!("../tests/data/specs/multi-region.json"),
    ),
    (
        "every-option",
        include_str!("../tests/data/specs/every-option.json"),
    ),
];

fn main() -> std::process::ExitCode {
    let program = std::env::var("GCLOUD").unwrap_or_else(|_| "gcloud".into());
    let (mut parsed, mut failed) = (0, 0);
    for (name, text) in SPECS {
        let spec = parse::parse(text).unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
        let dir = tempfile::tempdir().expect("a temp dir");
        let config = tempfile::tempdir().expect("a temp config dir");
        for step in gcloud::commands(&spec).steps {
            if let Some(f) = &step.file {
                std::fs::write(dir.path().join(&f.name), &f.content).expect("write the file");
            }
            // A private network namespace with nothing but a down loopback: no call can leave.
            let out = Command::new("unshare")
                .arg("-rn")
                .arg(&program)
                .args(&step.args[1..])
                .current_dir(dir.path())
                .env("CLOUDSDK_CONFIG", config.path())
                .env("CLOUDSDK_CORE_DISABLE_PROMPTS", "1")
                .env("CLOUDSDK_CORE_DISABLE_USAGE_REPORTING", "true")
                .env("CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK", "true")
                .env("CLOUDSDK_CORE_CHECK_GCE_METADATA", "false")
                .output()
                .unwrap_or_else(|e| panic!("cannot run unshare {program}: {e}"));
            let err = String::from_utf8_lossy(&out.stderr);
            if err.contains("do not currently have an active account") {
                parsed += 1;
            } else {
                failed += 1;
                println!("FAIL {name}: {}\n  {}", step.command(), err.trim());
            }
        }
    }
    println!("{parsed} commands parse, {failed} do not");
    if failed == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
