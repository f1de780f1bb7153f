//! Logging setup: human-readable by default, filter with `RUST_LOG`.

use tracing_subscriber::EnvFilter;

/// `RUST_LOG`, or the default filter when it is unset or invalid.
fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"))
}

/// The server's logging: standard output.
pub fn init() {
    // A second init is harmless.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .try_init();
}

/// The tests' logging (unit and integration tests alike): nothing unless `TEST_LOG` is set,
/// then written through the test harness, so a failing test shows its own log with its output
/// and a passing one shows nothing. Filtered by `RUST_LOG` like the server. Every test calls
/// it (through its fixtures); only the first call in a test binary installs the subscriber.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_none() {
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_test_writer()
        .try_init();
}
