//! The settings of docs/contract.md §1: every one a flag with a `SWITCHYARD_*` twin (flag wins).
//! The commands that take them are in [`crate::cli`].

use clap::{Args, ValueEnum};
use std::net::SocketAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GcpMode {
    /// The built-in simulated Google Cloud.
    Sandbox,
    /// The real Google Cloud APIs.
    Google,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address the panel listens on.
    #[arg(
        long,
        env = "SWITCHYARD_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,
    /// SQLite database URL; the file is created when missing.
    #[arg(
        long,
        env = "SWITCHYARD_DATABASE",
        default_value = "sqlite://switchyard.db",
        global = true
    )]
    pub database: String,
    /// Which cloud the panel acts on.
    #[arg(
        long,
        env = "SWITCHYARD_GCP",
        value_enum,
        default_value = "sandbox",
        global = true
    )]
    pub gcp: GcpMode,
    /// Base URL of the Compute Engine v1 API.
    #[arg(
        long,
        env = "SWITCHYARD_COMPUTE_ENDPOINT",
        default_value = "https://compute.googleapis.com/compute/v1/",
        global = true
    )]
    pub compute_endpoint: String,
    /// Base URL of the Cloud Run Admin API.
    #[arg(
        long,
        env = "SWITCHYARD_RUN_ENDPOINT",
        default_value = "https://run.googleapis.com/",
        global = true
    )]
    pub run_endpoint: String,
    /// Seconds between periodic drift checks of every applied deployment; 0 turns them off.
    #[arg(
        long,
        env = "SWITCHYARD_DRIFT_INTERVAL",
        default_value_t = 600,
        global = true
    )]
    pub drift_interval: u64,
    /// Seconds a plan may be applied after it was made; after that, plan again.
    #[arg(
        long,
        env = "SWITCHYARD_PLAN_TTL",
        default_value_t = crate::deploy::DEFAULT_PLAN_TTL_SECS,
        global = true
    )]
    pub plan_ttl: u64,
    /// Milliseconds between the first reads of a new managed certificate while a job waits for
    /// it to be ACTIVE; the interval then grows to six times this.
    #[arg(
        long,
        env = "SWITCHYARD_CERTIFICATE_POLL_MS",
        default_value_t = 5000,
        global = true
    )]
    pub certificate_poll_ms: u64,
    /// Addresses of the TLS-terminating proxies in front of the panel (comma-separated). Only
    /// for a request from one of them is the client's address taken from `X-Forwarded-For`,
    /// so the per-address sign-in throttle counts clients, not the proxy.
    #[arg(
        long,
        env = "SWITCHYARD_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}
