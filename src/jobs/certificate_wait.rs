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
use crate::cloud::{Client, CloudError, ResourceRef};
use crate::db::jobs::StepRecord;
use crate::domain::certificates;
use serde_json::Value;
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

/// A Certificate Manager certificate's state in one line (API-NOTES §14.3): `managed.state`,
/// then each domain's authorization attempt. Its FAILED is final (only a new certificate
/// helps), so it is reported as the classic one's permanent failure.
fn describe_certificate_manager(cert: &Value) -> (Option<String>, String) {
    let managed = &cert["managed"];
    let state = managed["state"].as_str().unwrap_or("PROVISIONING");
    let domains: Vec<String> = managed["authorizationAttemptInfo"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            format!(
                "{} {}",
                a["domain"].as_str().unwrap_or_default(),
                a["state"].as_str().unwrap_or("AUTHORIZING")
            )
        })
        .collect();
    let mut line = format!("{state}: {}", domains.join(", "));
    if let Some(details) = managed["provisioningIssue"]["details"].as_str() {
        line.push_str(&format!(" ({details})"));
    }
    if state == "PROVISIONING" {
        line.push_str(
            "; Google issues it once each domain's CNAME record (listed in the DNS section of the deployment page) resolves",
        );
    }
    let status = match state {
        "FAILED" => "PROVISIONING_FAILED_PERMANENTLY",
        other => other,
    };
    (Some(status.to_string()), line)
}

/// Reads the certificate the step waits for: `None` when it is gone.
async fn read(
    client: &Client,
    resource: &str,
) -> Result<Option<(Option<String>, String)>, CloudError> {
    if resource.contains("/locations/") {
        let cert = client.certificate_manager_get(resource).await?;
        return Ok(cert.as_ref().map(describe_certificate_manager));
    }
    let reference = ResourceRef::parse(resource)
        .ok_or_else(|| CloudError::Decode(format!("not a resource path: {resource}")))?;
    let cert: Option<SslCertificate> = client.get(&reference).await?;
    Ok(cert.as_ref().map(describe))
}

pub async fn wait_until_active(
    client: &Client,
    poll: CertificatePoll,
    step: &StepRecord,
    ctx: &StepContext,
) -> Result<StepOutcome, StepError> {
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
        let read = read(client, &step.resource)
            .await
            .map_err(|e| StepError(format!("reading {}: {e}", step.resource)))?;
        let Some((status, line)) = read else {
            return Err(StepError(format!(
                "{} disappeared while the job waited for it to be ACTIVE",
                step.resource
            )));
        };
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
            Some("PROVISIONING_FAILED_PERMANENTLY") if step.resource.contains("/locations/") => {
                return Err(StepError(format!(
                    "{} FAILED and Certificate Manager will not try again ({last}). Check the CNAME records and CAA records of its domains, then destroy the certificate by planning without the domain and add it back. What served before still serves.",
                    step.resource
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
