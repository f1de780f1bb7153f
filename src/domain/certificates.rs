//! Google-managed certificates in plain words: what each certificate status and each domain
//! status means, why it happens and what to do (docs/google-cloud.md §6), and the DNS records a deployment
//! needs so that Google can issue its certificate.
//!
//! Google issues a managed certificate only once three things hold: the certificate is attached
//! to the HTTPS proxy, the proxy is behind a forwarding rule on port 443, and every domain's DNS
//! resolves to that forwarding rule's IP. Most failures are the third one.

use serde::Serialize;

/// How a status should look: fine, wait, act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Ok,
    Pending,
    Failed,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Pending => "pending",
            Health::Failed => "failed",
        }
    }
}

/// A status, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The status as Google reports it, or `none yet` when it is missing.
    pub status: String,
    pub health: Health,
    /// A few words for a table cell.
    pub summary: String,
    /// Why this happens.
    pub cause: String,
    /// What to do; empty when nothing is needed.
    pub fix: String,
}

fn explain(status: &str, health: Health, summary: &str, cause: &str, fix: &str) -> Explanation {
    Explanation {
        status: status.to_string(),
        health,
        summary: summary.to_string(),
        cause: cause.to_string(),
        fix: fix.to_string(),
    }
}

/// The DNS record to name in fixes: `the A record hello.example.com → 203.0.113.7`.
fn a_record(domain: &str, ip: Option<&str>) -> String {
    match ip {
        Some(ip) => format!("the A record {domain} → {ip}"),
        None => format!("an A record for {domain} pointing at the load balancer's IP"),
    }
}

/// Explains the certificate's `managed.status`. A missing status is normal right after the
/// certificate is created (docs/google-cloud.md §6), so it is not an error.
pub fn certificate_status(status: Option<&str>) -> Explanation {
    match status {
        Some("ACTIVE") => explain(
            "ACTIVE",
            Health::Ok,
            "issued and served",
            "Google issued the certificate and the load balancer serves it; Google renews it \
             before it expires as long as DNS keeps pointing here.",
            "",
        ),
        Some("PROVISIONING") => explain(
            "PROVISIONING",
            Health::Pending,
            "being issued",
            "Google is obtaining the certificate. This only progresses once every domain's DNS \
             points at the load balancer's IP, and it usually takes 15 to 60 minutes after that.",
            "Create the DNS records below if you have not; then wait. Each domain's status says \
             what it is waiting for.",
        ),
        Some("PROVISIONING_FAILED") => explain(
            "PROVISIONING_FAILED",
            Health::Failed,
            "failed, Google is retrying",
            "Google could not issue the certificate for at least one domain and keeps retrying \
             for a while. The domain statuses say which domain failed and why (usually DNS).",
            "Fix the cause shown for each failing domain; Google retries by itself.",
        ),
        Some("PROVISIONING_FAILED_PERMANENTLY") => explain(
            "PROVISIONING_FAILED_PERMANENTLY",
            Health::Failed,
            "failed, Google stopped retrying",
            "Google gave up on this certificate after failing for too long; it will never \
             become active.",
            "Fix the cause shown for each failing domain first. Then a new certificate is \
             needed: certificates cannot be edited, so change the deployment's domain list (a \
             new domain list makes a new certificate) or destroy and apply the deployment again.",
        ),
        Some("RENEWAL_FAILED") => explain(
            "RENEWAL_FAILED",
            Health::Failed,
            "renewal failing",
            "Google could not renew the certificate. The current certificate is still served \
             until it expires; renewal usually fails because a domain's DNS no longer points at \
             the load balancer or a CAA record now forbids Google's certificate authorities.",
            "Fix the cause shown for each failing domain before the certificate expires; Google \
             retries by itself.",
        ),
        Some("MANAGED_CERTIFICATE_STATUS_UNSPECIFIED") | None => explain(
            status.unwrap_or("none yet"),
            Health::Pending,
            "no status yet",
            "Google has not reported a status yet, which is normal for a short while after the \
             certificate is created.",
            "Wait a minute and check again.",
        ),
        Some(other) => explain(
            other,
            Health::Pending,
            "unrecognised status",
            "Google reported a status this panel does not know.",
            "Look the status up in the Google Cloud documentation for managed SSL certificates.",
        ),
    }
}

/// Explains one domain's entry of `managed.domainStatus`. `ip` is the load balancer's address
/// when known, so fixes can name the exact record.
pub fn domain_status(domain: &str, status: Option<&str>, ip: Option<&str>) -> Explanation {
    let record = a_record(domain, ip);
    match status {
        Some("ACTIVE") => explain(
            "ACTIVE",
            Health::Ok,
            "covered",
            "The certificate covers this domain.",
            "",
        ),
        Some("PROVISIONING") => explain(
            "PROVISIONING",
            Health::Pending,
            "waiting for Google",
            "Google is checking that this domain reaches the load balancer before issuing the \
             certificate. It only succeeds once DNS for the domain resolves to the load \
             balancer's IP.",
            &format!("Make sure {record} exists, then wait; this can take up to an hour."),
        ),
        Some("FAILED_NOT_VISIBLE") => explain(
            "FAILED_NOT_VISIBLE",
            Health::Failed,
            "DNS does not point here",
            "Google could not reach the load balancer through this domain: its DNS does not \
             resolve to the load balancer's IP (a missing or wrong A record, an extra A or AAAA \
             record pointing elsewhere, or a DNS change not yet propagated), or the forwarding \
             rule on port 443 is not serving yet.",
            &format!(
                "Create {record}, remove any other A or AAAA records for {domain} (the load \
                 balancer has one IPv4 address), and wait for DNS to propagate; Google retries \
                 by itself."
            ),
        ),
        Some("FAILED_CAA_CHECKING") => explain(
            "FAILED_CAA_CHECKING",
            Health::Failed,
            "CAA lookup failed",
            "Google could not check the domain's CAA records: the domain's DNS servers did not \
             answer the CAA query properly (a timeout or a server error), which is a DNS \
             configuration problem rather than a refusal.",
            &format!(
                "Fix the DNS servers of {domain} so they answer CAA queries (an empty answer is \
                 fine); Google retries by itself."
            ),
        ),
        Some("FAILED_CAA_FORBIDDEN") => explain(
            "FAILED_CAA_FORBIDDEN",
            Health::Failed,
            "CAA forbids Google",
            "The domain's CAA records list which certificate authorities may issue for it, and \
             they exclude the ones Google uses.",
            &format!(
                "Add CAA records for {domain} (or its parent) allowing Google's authorities: \
                 0 issue \"pki.goog\" and 0 issue \"letsencrypt.org\"; or remove the CAA records."
            ),
        ),
        Some("FAILED_RATE_LIMITED") => explain(
            "FAILED_RATE_LIMITED",
            Health::Failed,
            "rate limited",
            "The certificate authority refused because too many certificates were issued for \
             this domain recently (for example after creating and deleting certificates \
             repeatedly).",
            "Wait: Google retries after the limit resets, which can take days. Avoid recreating \
             certificates for this domain in the meantime.",
        ),
        Some("DOMAIN_STATUS_UNSPECIFIED") | None => explain(
            status.unwrap_or("none yet"),
            Health::Pending,
            "no status yet",
            "Google has not reported a status for this domain yet, which is normal right after \
             the certificate is created.",
            &format!("Make sure {record} exists, then check again in a minute."),
        ),
        Some(other) => explain(
            other,
            Health::Pending,
            "unrecognised status",
            "Google reported a status this panel does not know.",
            "Look the status up in the Google Cloud documentation for managed SSL certificates.",
        ),
    }
}

/// One DNS record to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    /// The record's name as a zone file writes it, with the final dot.
    pub name: String,
    /// `A` for the global IPv4 address; `AAAA` for the IPv6 one (`frontend.ipv6`).
    pub kind: &'static str,
    /// The IP, or `None` before the first apply has reserved it.
    pub value: Option<String>,
    /// A short TTL so a correction propagates quickly.
    pub ttl: u32,
}

impl DnsRecord {
    /// The record as one zone-file line, e.g. `hello.example.com. 300 IN A 203.0.113.7`.
    pub fn zone_line(&self) -> Option<String> {
        self.value
            .as_ref()
            .map(|ip| format!("{} {} IN {} {ip}", self.name, self.ttl, self.kind))
    }
}

/// How far Google has got with one domain of a Certificate Manager certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validation {
    /// Nothing applied yet: the first apply creates the authorization that names the record.
    NotCreated,
    /// The authorization exists; Google has not yet seen its CNAME.
    Waiting,
    Validated,
    /// Google gave up (`FAILED`), with its reason when it gave one.
    Failed(String),
}

impl Validation {
    /// The state in a few words, for the badge.
    pub fn label(&self) -> &'static str {
        match self {
            Validation::NotCreated => "not created yet:",
            Validation::Waiting => "waiting for the CNAME:",
            Validation::Validated => "validated:",
            Validation::Failed(_) => "failed:",
        }
    }

    /// What it means, under the badge.
    pub fn detail(&self) -> String {
        match self {
            Validation::NotCreated => "the first apply creates the record to publish".into(),
            Validation::Waiting => "Google validates the domain once this record resolves".into(),
            Validation::Validated => "the certificate is issued".into(),
            Validation::Failed(why) => why.clone(),
        }
    }

    /// `ok`, `pending` or `bad`, for the status badge.
    pub fn health(&self) -> &'static str {
        match self {
            Validation::Validated => "ok",
            Validation::Failed(_) => "bad",
            _ => "pending",
        }
    }
}

/// The CNAME record a Certificate Manager DNS authorization needs for one domain, and how far
/// validation has got. Unlike the A records, it can be published before the domain points at
/// the load balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRecord {
    pub domain: String,
    /// `_acme-challenge.example.com.`, once the authorization exists.
    pub name: Option<String>,
    pub data: Option<String>,
    pub validation: Validation,
}

/// The CNAME records of a Certificate Manager frontend, from the live authorizations and
/// certificates (`live` answers a resource path with the resource as Google returns it).
pub fn authorization_records(
    spec: &crate::domain::spec::Spec,
    live: &dyn Fn(&str) -> Option<serde_json::Value>,
) -> Vec<AuthorizationRecord> {
    use crate::domain::names;
    use crate::domain::plan::{ResourceKind, resource_path};
    let d = &spec.name;
    spec.frontend
        .domains
        .iter()
        .map(|domain| {
            let auth = live(&resource_path(
                &spec.project,
                &ResourceKind::DnsAuthorization,
                &names::dns_authorization(d, domain),
            ));
            let cert = live(&resource_path(
                &spec.project,
                &ResourceKind::ManagedCertificate,
                &names::cm_certificate(d, domain),
            ));
            let record = auth.as_ref().map(|a| a["dnsResourceRecord"].clone());
            let field = |k: &str| {
                record
                    .as_ref()
                    .and_then(|r| r[k].as_str())
                    .map(str::to_string)
            };
            let validation = match (&auth, cert.as_ref().map(|c| &c["managed"])) {
                (None, _) => Validation::NotCreated,
                (Some(_), Some(m)) if m["state"] == "ACTIVE" => Validation::Validated,
                (Some(_), Some(m)) if m["state"] == "FAILED" => Validation::Failed(
                    m["provisioningIssue"]["details"]
                        .as_str()
                        .unwrap_or("Google could not validate the domain")
                        .to_string(),
                ),
                (Some(_), _) => Validation::Waiting,
            };
            AuthorizationRecord {
                domain: domain.clone(),
                name: field("name"),
                data: field("data"),
                validation,
            }
        })
        .collect()
}

/// The A record each domain needs. Domains are written as users gave them; a trailing dot (which
/// Google accepts) is not doubled, and names are lowercased since DNS is case-insensitive.
pub fn dns_records(domains: &[String], ip: Option<&str>) -> Vec<DnsRecord> {
    records_of_kind(domains, "A", ip)
}

/// The A records and, with `frontend.ipv6`, each domain's AAAA record right after its A record
/// (`ipv6` is the IPv6 address, `None` before the first apply has one).
pub fn dns_records_dual(
    domains: &[String],
    ip: Option<&str>,
    ipv6: Option<Option<&str>>,
) -> Vec<DnsRecord> {
    let a = dns_records(domains, ip);
    let Some(ipv6) = ipv6 else { return a };
    let aaaa = records_of_kind(domains, "AAAA", ipv6);
    a.into_iter()
        .zip(aaaa)
        .flat_map(|(a, aaaa)| [a, aaaa])
        .collect()
}

fn records_of_kind(domains: &[String], kind: &'static str, ip: Option<&str>) -> Vec<DnsRecord> {
    let mut out: Vec<DnsRecord> = Vec::new();
    for d in domains {
        let d = d.trim().to_ascii_lowercase();
        if d.is_empty() {
            continue;
        }
        let name = if d.ends_with('.') { d } else { format!("{d}.") };
        if out.iter().any(|r| r.name == name) {
            continue;
        }
        out.push(DnsRecord {
            name,
            kind,
            value: ip.map(str::to_string),
            ttl: 300,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &[&str] = &[
        "PROVISIONING",
        "ACTIVE",
        "PROVISIONING_FAILED",
        "PROVISIONING_FAILED_PERMANENTLY",
        "RENEWAL_FAILED",
        "MANAGED_CERTIFICATE_STATUS_UNSPECIFIED",
    ];
    const DOMAIN: &[&str] = &[
        "PROVISIONING",
        "ACTIVE",
        "FAILED_NOT_VISIBLE",
        "FAILED_CAA_CHECKING",
        "FAILED_CAA_FORBIDDEN",
        "FAILED_RATE_LIMITED",
        "DOMAIN_STATUS_UNSPECIFIED",
    ];

    #[test]
    fn every_known_status_has_its_own_words() {
        let mut summaries = Vec::new();
        for s in CERT {
            let e = certificate_status(Some(s));
            assert_eq!(e.status, *s);
            assert_ne!(e.summary, "unrecognised status", "{s}");
            assert!(!e.cause.is_empty());
            assert_eq!(e.fix.is_empty(), e.health == Health::Ok, "{s}");
            summaries.push(e.summary);
        }
        for s in DOMAIN {
            let e = domain_status("a.example.com", Some(s), Some("203.0.113.7"));
            assert_eq!(e.status, *s);
            assert_ne!(e.summary, "unrecognised status", "{s}");
            assert_eq!(e.fix.is_empty(), e.health == Health::Ok, "{s}");
            summaries.push(e.summary);
        }
        // The two UNSPECIFIED statuses share "no status yet"; everything else is distinct.
        let mut unique = summaries.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), summaries.len() - 1);
    }

    #[test]
    fn failures_are_failures_and_name_the_record_to_fix() {
        let e = domain_status(
            "shop.example.com",
            Some("FAILED_NOT_VISIBLE"),
            Some("1.2.3.4"),
        );
        assert_eq!(e.health, Health::Failed);
        assert!(
            e.fix.contains("the A record shop.example.com → 1.2.3.4"),
            "{}",
            e.fix
        );
        let e = domain_status("shop.example.com", Some("FAILED_NOT_VISIBLE"), None);
        assert!(e.fix.contains("pointing at the load balancer's IP"));
        let e = domain_status("shop.example.com", Some("FAILED_CAA_FORBIDDEN"), None);
        assert!(e.fix.contains("pki.goog"));
        assert_eq!(
            certificate_status(Some("PROVISIONING_FAILED_PERMANENTLY")).health,
            Health::Failed
        );
        assert_eq!(certificate_status(Some("ACTIVE")).health, Health::Ok);
        assert_eq!(
            certificate_status(Some("PROVISIONING")).health,
            Health::Pending
        );
    }

    #[test]
    fn a_missing_status_is_pending_not_an_error() {
        let e = certificate_status(None);
        assert_eq!((e.status.as_str(), e.health), ("none yet", Health::Pending));
        let e = domain_status("a.com", None, None);
        assert_eq!((e.status.as_str(), e.health), ("none yet", Health::Pending));
        let e = domain_status("a.com", Some("SOMETHING_NEW"), None);
        assert_eq!(e.summary, "unrecognised status");
        assert_eq!(e.status, "SOMETHING_NEW");
    }

    #[test]
    fn dns_records_one_a_record_per_domain() {
        let domains = vec![
            "Shop.Example.com".to_string(),
            "www.example.com.".to_string(),
            "shop.example.com".to_string(),
        ];
        let r = dns_records(&domains, Some("203.0.113.7"));
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].name, "shop.example.com.");
        assert_eq!(r[1].name, "www.example.com.");
        assert_eq!(
            r[0].zone_line().as_deref(),
            Some("shop.example.com. 300 IN A 203.0.113.7")
        );
        let r = dns_records(&domains, None);
        assert_eq!(r[0].value, None);
        assert_eq!(r[0].zone_line(), None);
    }
}
