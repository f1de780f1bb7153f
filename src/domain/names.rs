//! Names of the Google Cloud resources a deployment owns, all derived from its name.
//!
//! Names are stable functions of the spec so that planning twice finds the same resources. Where
//! a resource must be replaced rather than edited (a managed certificate whose domains change,
//! an internet NEG whose endpoint changes) the name carries a short hash of what makes it, so the
//! replacement can exist beside the old one during a make-before-break swap.

use sha2::{Digest, Sha256};

/// Longest name Compute Engine accepts (RFC 1035 label).
pub const MAX_NAME: usize = 63;

/// Marker written into every owned resource's `description`: `switchyard:deployment=NAME`.
pub fn owner_marker(deployment: &str) -> String {
    format!("switchyard:deployment={deployment}")
}

fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A serverless NEG cannot be repointed at another Cloud Run service, so the service is part of
/// the name: switching services creates the new NEG beside the old one (make-before-break).
pub fn serverless_neg(deployment: &str, backend: &str, region: &str, service: &str) -> String {
    format!(
        "{deployment}-{backend}-{region}-{}",
        &short_hash(&[service])[..6]
    )
}

pub fn internet_neg(deployment: &str, fqdn: &str, port: u16) -> String {
    format!(
        "{deployment}-ineg-{}",
        short_hash(&[fqdn, &port.to_string()])
    )
}

pub fn backend_service(deployment: &str, backend: &str) -> String {
    format!("{deployment}-bs-{backend}")
}

pub fn url_map(deployment: &str) -> String {
    format!("{deployment}-urlmap")
}

pub fn redirect_url_map(deployment: &str) -> String {
    format!("{deployment}-redirect")
}

/// The certificate's name depends on its domains: new domains mean a new certificate.
pub fn certificate(deployment: &str, domains: &[String]) -> String {
    let mut sorted: Vec<&str> = domains.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    format!("{deployment}-cert-{}", short_hash(&sorted))
}

/// The domain a Certificate Manager DNS authorization is for: a wildcard is authorised through
/// its parent (`*.example.com` → `example.com`), and one authorization covers both.
pub fn authorization_domain(domain: &str) -> &str {
    let d = domain.trim_end_matches('.');
    d.strip_prefix("*.").unwrap_or(d)
}

/// A DNS authorization's domain cannot change, so the domain is part of its name.
pub fn dns_authorization(deployment: &str, domain: &str) -> String {
    format!(
        "{deployment}-dnsauth-{}",
        short_hash(&[authorization_domain(domain)])
    )
}

/// One Certificate Manager certificate per domain (its domains are immutable): adding or
/// removing a domain touches that domain's certificate only, never the others'.
pub fn cm_certificate(deployment: &str, domain: &str) -> String {
    format!(
        "{deployment}-cmcert-{}",
        short_hash(&[domain.trim_end_matches('.')])
    )
}

pub fn certificate_map(deployment: &str) -> String {
    format!("{deployment}-certmap")
}

/// The map entry that serves `domain` (matched against the client's SNI).
pub fn certificate_map_entry(deployment: &str, domain: &str) -> String {
    format!(
        "{deployment}-entry-{}",
        short_hash(&[domain.trim_end_matches('.')])
    )
}

/// The map entry for clients that send no SNI, or a name no entry has.
pub fn primary_map_entry(deployment: &str) -> String {
    format!("{deployment}-primary")
}

pub fn https_proxy(deployment: &str) -> String {
    format!("{deployment}-https-proxy")
}

pub fn http_proxy(deployment: &str) -> String {
    format!("{deployment}-http-proxy")
}

pub fn address(deployment: &str) -> String {
    format!("{deployment}-ip")
}

pub fn https_forwarding_rule(deployment: &str) -> String {
    format!("{deployment}-https-fr")
}

pub fn http_forwarding_rule(deployment: &str) -> String {
    format!("{deployment}-http-fr")
}

/// The IPv6 address beside `address` (`frontend.ipv6` with a static IP).
pub fn ipv6_address(deployment: &str) -> String {
    format!("{deployment}-ipv6")
}

pub fn https_forwarding_rule_ipv6(deployment: &str) -> String {
    format!("{deployment}-https-fr-ipv6")
}

pub fn http_forwarding_rule_ipv6(deployment: &str) -> String {
    format!("{deployment}-http-fr-ipv6")
}

/// The SSL policy of the HTTPS proxy (`frontend.ssl_policy`).
pub fn ssl_policy(deployment: &str) -> String {
    format!("{deployment}-ssl-policy")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_name_follows_domains_not_their_order() {
        let a = certificate("shop", &["a.example.com".into(), "b.example.com".into()]);
        let b = certificate("shop", &["b.example.com".into(), "a.example.com".into()]);
        let c = certificate("shop", &["a.example.com".into()]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.starts_with("shop-cert-") && a.len() == "shop-cert-".len() + 8);
    }

    #[test]
    fn a_wildcard_shares_its_parents_authorization_but_has_its_own_certificate() {
        assert_eq!(authorization_domain("*.example.com"), "example.com");
        assert_eq!(
            dns_authorization("shop", "*.example.com"),
            dns_authorization("shop", "example.com")
        );
        assert_ne!(
            cm_certificate("shop", "*.example.com"),
            cm_certificate("shop", "example.com")
        );
        assert_ne!(
            certificate_map_entry("shop", "*.example.com"),
            certificate_map_entry("shop", "example.com")
        );
    }
}
