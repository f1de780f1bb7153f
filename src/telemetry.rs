//! Logging setup: human-readable by default, filter with `RUST_LOG`.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    // A second init (tests start many servers in one process) is harmless.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}
