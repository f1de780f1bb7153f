//! The settings of docs/contract.md §1: every one a flag with a `SWITCHYARD_*` twin (flag wins).
//! The commands that take them are in [`crate::cli`].

use crate::cloud::RetryPolicy;
use crate::jobs::RunnerOptions;
use clap::builder::TypedValueParser;
use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::time::Duration;

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
    /// Base URL of the Cloud Resource Manager API (the projects the wizard offers).
    #[arg(
        long,
        env = "SWITCHYARD_RESOURCEMANAGER_ENDPOINT",
        default_value = crate::cloud::RESOURCE_MANAGER_ENDPOINT,
        global = true
    )]
    pub resourcemanager_endpoint: String,
    /// Base URL of the Certificate Manager API (DNS authorizations, certificates, maps).
    #[arg(
        long,
        env = "SWITCHYARD_CERTIFICATEMANAGER_ENDPOINT",
        default_value = crate::cloud::CERTIFICATE_MANAGER_ENDPOINT,
        global = true
    )]
    pub certificatemanager_endpoint: String,
    /// Base URL of the Cloud Monitoring API (the load balancer's traffic, through PromQL).
    #[arg(
        long,
        env = "SWITCHYARD_MONITORING_ENDPOINT",
        default_value = crate::cloud::MONITORING_ENDPOINT,
        global = true
    )]
    pub monitoring_endpoint: String,
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
    /// How jobs pace themselves against Google Cloud.
    #[command(flatten)]
    pub engine: EngineSettings,
}

/// The job engine's pace: steps in flight, and how long calls are retried. Defaults come from
/// [`RunnerOptions::default`] and [`RetryPolicy::default`], so there is one place for each.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct EngineSettings {
    /// Most steps of one job in flight at once. Compute's quotas on mutations are per project
    /// and per minute, shared with every other tool in the project: more parallel steps meet
    /// more rate limits (which are waited out, not failed).
    #[arg(
        long,
        env = "SWITCHYARD_MAX_PARALLEL_STEPS",
        default_value_t = RunnerOptions::default().concurrency,
        value_parser = clap::value_parser!(u16).range(1..).map(usize::from),
        global = true
    )]
    pub max_parallel_steps: usize,
    /// Seconds one Google Cloud call keeps retrying while Google answers "rate limited" or
    /// "quota exceeded" (per-minute quotas clear by waiting).
    #[arg(
        long,
        env = "SWITCHYARD_RETRY_RATE_LIMIT_SECS",
        default_value_t = RetryPolicy::default().rate_limit_budget.as_secs(),
        global = true
    )]
    pub retry_rate_limit_secs: u64,
    /// Attempts in all of a call that fails with a 5xx, `resourceNotReady` or a lost connection.
    #[arg(
        long,
        env = "SWITCHYARD_RETRY_TRANSIENT_ATTEMPTS",
        default_value_t = RetryPolicy::default().transient_attempts,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub retry_transient_attempts: u32,
    /// Milliseconds before the first retry of a call; doubled after each.
    #[arg(
        long,
        env = "SWITCHYARD_RETRY_FIRST_DELAY_MS",
        default_value_t = RetryPolicy::default().initial_delay.as_millis() as u64,
        global = true
    )]
    pub retry_first_delay_ms: u64,
    /// Longest wait between two attempts, in milliseconds (a Retry-After is capped to it).
    #[arg(
        long,
        env = "SWITCHYARD_RETRY_MAX_DELAY_MS",
        default_value_t = RetryPolicy::default().max_delay.as_millis() as u64,
        global = true
    )]
    pub retry_max_delay_ms: u64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings::from_parts(&RunnerOptions::default(), &RetryPolicy::default())
    }
}

impl EngineSettings {
    fn from_parts(runner: &RunnerOptions, retry: &RetryPolicy) -> Self {
        EngineSettings {
            max_parallel_steps: runner.concurrency,
            retry_rate_limit_secs: retry.rate_limit_budget.as_secs(),
            retry_transient_attempts: retry.transient_attempts,
            retry_first_delay_ms: retry.initial_delay.as_millis() as u64,
            retry_max_delay_ms: retry.max_delay.as_millis() as u64,
        }
    }

    /// Millisecond waits between attempts (the budgets stay the defaults), so tests that
    /// inject faults run quickly and still never give up on a rate limit.
    pub fn fast() -> Self {
        EngineSettings {
            retry_first_delay_ms: 2,
            retry_max_delay_ms: 20,
            ..EngineSettings::default()
        }
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            transient_attempts: self.retry_transient_attempts.max(1),
            rate_limit_budget: Duration::from_secs(self.retry_rate_limit_secs),
            initial_delay: Duration::from_millis(self.retry_first_delay_ms),
            max_delay: Duration::from_millis(self.retry_max_delay_ms),
        }
    }

    pub fn runner_options(&self) -> RunnerOptions {
        RunnerOptions {
            concurrency: self.max_parallel_steps.max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        settings: Settings,
    }

    #[test]
    fn engine_settings_default_to_the_engine_defaults_and_parse_from_flags() {
        let cmd = Cmd::try_parse_from(["x"]).unwrap();
        assert_eq!(
            cmd.settings.resourcemanager_endpoint,
            "https://cloudresourcemanager.googleapis.com/"
        );
        assert_eq!(
            cmd.settings.certificatemanager_endpoint,
            "https://certificatemanager.googleapis.com/"
        );
        assert_eq!(
            cmd.settings.monitoring_endpoint,
            "https://monitoring.googleapis.com/"
        );
        assert_eq!(cmd.settings.engine, EngineSettings::default());
        assert_eq!(cmd.settings.engine.max_parallel_steps, 8);
        assert_eq!(cmd.settings.engine.retry_policy(), RetryPolicy::default());

        let cmd = Cmd::try_parse_from([
            "x",
            "--max-parallel-steps",
            "3",
            "--retry-rate-limit-secs",
            "120",
            "--retry-transient-attempts",
            "2",
            "--retry-first-delay-ms",
            "10",
            "--retry-max-delay-ms",
            "30000",
        ])
        .unwrap();
        assert_eq!(cmd.settings.engine.runner_options().concurrency, 3);
        assert_eq!(
            cmd.settings.engine.retry_policy(),
            RetryPolicy {
                transient_attempts: 2,
                rate_limit_budget: Duration::from_secs(120),
                initial_delay: Duration::from_millis(10),
                max_delay: Duration::from_secs(30),
            }
        );
        assert!(Cmd::try_parse_from(["x", "--max-parallel-steps", "0"]).is_err());
    }
}
