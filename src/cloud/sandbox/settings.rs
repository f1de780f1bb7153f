//! Command-line and environment settings of the sandbox (`switchyard sandbox` flags, and the
//! same `SWITCHYARD_SANDBOX_*` variables for the sandbox `switchyard serve` starts).

use super::{FaultConfig, SandboxConfig};
use clap::{Args, Parser};
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Milliseconds a Compute operation stays RUNNING.
    #[arg(
        long = "sandbox-latency-ms",
        env = "SWITCHYARD_SANDBOX_LATENCY_MS",
        default_value_t = 800
    )]
    pub latency_ms: u64,
    /// Milliseconds a new Cloud Run revision takes to become Ready.
    #[arg(
        long = "sandbox-run-latency-ms",
        env = "SWITCHYARD_SANDBOX_RUN_LATENCY_MS",
        default_value_t = 2000
    )]
    pub run_latency_ms: u64,
    /// Seconds after which a served managed certificate becomes ACTIVE by itself (0: never;
    /// use the admin hook).
    #[arg(
        long = "sandbox-certificate-secs",
        env = "SWITCHYARD_SANDBOX_CERTIFICATE_SECS",
        default_value_t = 30
    )]
    pub certificate_secs: u64,
    /// Share of requests answered 503 (0.0–1.0).
    #[arg(
        long = "sandbox-transient-rate",
        env = "SWITCHYARD_SANDBOX_TRANSIENT_RATE",
        default_value_t = 0.0
    )]
    pub transient_rate: f64,
    /// Share of requests answered 429.
    #[arg(
        long = "sandbox-rate-limit-rate",
        env = "SWITCHYARD_SANDBOX_RATE_LIMIT_RATE",
        default_value_t = 0.0
    )]
    pub rate_limit_rate: f64,
    /// Share of mutations whose operation ends in an error.
    #[arg(
        long = "sandbox-operation-error-rate",
        env = "SWITCHYARD_SANDBOX_OPERATION_ERROR_RATE",
        default_value_t = 0.0
    )]
    pub operation_error_rate: f64,
    /// Share of mutations applied but answered 503 (lost reply).
    #[arg(
        long = "sandbox-lost-reply-rate",
        env = "SWITCHYARD_SANDBOX_LOST_REPLY_RATE",
        default_value_t = 0.0
    )]
    pub lost_reply_rate: f64,
    /// Cloud Run images containing one of these strings never become Ready (comma-separated).
    #[arg(
        long = "sandbox-failing-images",
        env = "SWITCHYARD_SANDBOX_FAILING_IMAGES",
        value_delimiter = ','
    )]
    pub failing_images: Vec<String>,
    /// Accept any bearer token instead of only those the sandbox's /token issued.
    #[arg(
        long = "sandbox-accept-any-token",
        env = "SWITCHYARD_SANDBOX_ACCEPT_ANY_TOKEN"
    )]
    pub accept_any_token: bool,
}

#[derive(Parser)]
struct EnvOnly {
    #[command(flatten)]
    args: SandboxArgs,
}

impl SandboxArgs {
    /// The settings from `SWITCHYARD_SANDBOX_*` variables alone (for `switchyard serve`).
    pub fn from_env() -> anyhow::Result<SandboxArgs> {
        Ok(EnvOnly::try_parse_from(["switchyard"])?.args)
    }

    pub fn to_config(&self) -> SandboxConfig {
        SandboxConfig {
            operation_latency: Duration::from_millis(self.latency_ms),
            run_latency: Duration::from_millis(self.run_latency_ms),
            certificate_provision_after: (self.certificate_secs > 0)
                .then(|| Duration::from_secs(self.certificate_secs)),
            require_issued_tokens: !self.accept_any_token,
            faults: FaultConfig {
                transient_rate: self.transient_rate,
                rate_limit_rate: self.rate_limit_rate,
                operation_error_rate: self.operation_error_rate,
                lost_reply_rate: self.lost_reply_rate,
                failing_images: self.failing_images.clone(),
            },
            ..SandboxConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        args: SandboxArgs,
    }

    #[test]
    fn flags_become_a_sandbox_config() {
        let cmd = Cmd::try_parse_from([
            "x",
            "--sandbox-latency-ms",
            "5",
            "--sandbox-certificate-secs",
            "0",
            "--sandbox-lost-reply-rate",
            "0.25",
            "--sandbox-failing-images",
            "broken,crash",
            "--sandbox-accept-any-token",
        ])
        .unwrap();
        let c = cmd.args.to_config();
        assert_eq!(c.operation_latency, Duration::from_millis(5));
        assert_eq!(c.run_latency, Duration::from_millis(2000));
        assert_eq!(c.certificate_provision_after, None);
        assert_eq!(c.faults.lost_reply_rate, 0.25);
        assert_eq!(c.faults.failing_images, vec!["broken", "crash"]);
        assert!(!c.require_issued_tokens);
    }
}
