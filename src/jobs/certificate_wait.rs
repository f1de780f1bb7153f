//! The `wait` step: holds a job until a new Google-managed certificate is ACTIVE, so nothing
//! that serves traffic moves onto it before it can serve.
//!
//! Google issues a managed certificate only once every domain's DNS points at the load
//! balancer and it has validated them, which takes minutes to an hour (docs/google-cloud.md §6).
//! The wait is therefore real time: it polls with a growing interval, records each domain's
//! status as the step's progress (the job page shows it live), survives a restart (the step is
//! simply run again: it sends nothing), and gives way to a cancel between two polls, leaving
//! both certificates attached, which is safe. PROVISIONING_FAILED is not the end: Google keeps
//! retrying, and so does the wait; only PROVISIONING_FAILED_PERMANENTLY fails the step.

use super::{Level, StepContext, StepError, StepOutcome};
use crate::cloud::types::SslCertificate;
use crate::cloud::{Client, ResourceRef};
use crate::db::jobs::StepRecord;
use crate::domain::certificates;
use std::time::{Duration, Instant};

/// How often the wait reads the certificate: `first` at the start, growing to `max`.
#[derive(Debug, Clone, Copy)]
pub struct CertificatePoll {
    pub first: Duration,
    pub max: Duration,
}

impl CertificatePoll {
    /// From the `--certificate-poll-ms` setting: that interval at first, up to six times it (5 s
    /// growing to 30 s by default: a quick answer for a fast validation, few reads for a slow one).
    pub fn from_millis(ms: u64) -> CertificatePoll {
        let first = Duration::from_millis(ms.max(1));
        CertificatePoll {
            first,
            max: first * 6,
        }
    }
}

impl Default for CertificatePoll {
    fn default() -> Self {
        CertificatePoll::from_millis(5000)
    }
}

/// The certificate's state in one line: its status, then each domain's.
fn describe(cert: &SslCertificate) -> (Option<String>, String) {
    let Some(managed) = &cert.managed else {
        return (
            Some("ACTIVE".into()),
            "self-managed certificate: nothing to wait for".into(),
        );
    };
    let status = managed.status.clone();
    let explained = certificates::certificate_status(status.as_deref());
    let domains: Vec<String> = managed
        .domains
        .iter()
        .map(|d| {
            let s = managed
                .domain_status
                .get(d)
                .map(String::as_str)
                .unwrap_or("no status yet");
            format!("{d} {s}")
        })
        .collect();
    let line = format!(
        "{} ({}): {}",
        explained.status,
        explained.summary,
        domains.join(", ")
    );
    (status, line)
}

pub async fn wait_until_active(
    client: &Client,
    poll: CertificatePoll,
    step: &StepRecord,
    ctx: &StepContext,
) -> Result<StepOutcome, StepError> {
    let reference = ResourceRef::parse(&step.resource)
        .ok_or_else(|| StepError(format!("not a resource path: {}", step.resource)))?;
    let started = Instant::now();
    let mut delay = poll.first;
    let mut changes = ctx.changes();
    let mut last = String::new();
    ctx.log(
        Level::Info,
        &format!(
            "waiting for {} to be ACTIVE before traffic moves onto it (Google validates each domain by DNS: minutes to an hour)",
            step.resource
        ),
    )
    .await;
    loop {
        if ctx.cancel_requested().await {
            return Ok(StepOutcome::stopped(format!(
                "job cancelled while waiting for {}; the certificates attached so far stay attached, which is safe",
                step.resource
            )));
        }
        let cert: Option<SslCertificate> = client
            .get(&reference)
            .await
            .map_err(|e| StepError(format!("reading {}: {e}", step.resource)))?;
        let Some(cert) = cert else {
            return Err(StepError(format!(
                "{} disappeared while the job waited for it to be ACTIVE",
                step.resource
            )));
        };
        let (status, line) = describe(&cert);
        if line != last {
            ctx.set_progress(&line).await;
            ctx.log(Level::Info, &line).await;
            last = line;
        }
        match status.as_deref() {
            Some("ACTIVE") => {
                return Ok(StepOutcome::summary(format!(
                    "ACTIVE after {} s",
                    started.elapsed().as_secs()
                )));
            }
            Some("PROVISIONING_FAILED_PERMANENTLY") => {
                let explained = certificates::certificate_status(status.as_deref());
                return Err(StepError(format!(
                    "{} will never become ACTIVE (PROVISIONING_FAILED_PERMANENTLY): {} {} The old certificate is still attached and serving.",
                    step.resource, explained.cause, explained.fix
                )));
            }
            _ => {}
        }
        // Sleep, but wake at once for a cancel (or any other change of the job).
        let _ = tokio::time::timeout(delay, changes.changed()).await;
        delay = (delay * 2).min(poll.max);
    }
}
