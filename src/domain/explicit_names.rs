//! The name each resource of a spec gets: the one `spec.names` keeps (an adopted load
//! balancer), while it still fits what the spec asks for, else the derived one (`names`).
//!
//! Every function here is what the planner, the topology and drift use, so they all agree.

use super::names;
use super::spec::{Backend, BackendKind, Spec};

fn or_derived(explicit: &Option<String>, derived: impl FnOnce() -> String) -> String {
    explicit.clone().unwrap_or_else(derived)
}

pub fn url_map(spec: &Spec) -> String {
    or_derived(&spec.names.url_map, || names::url_map(&spec.name))
}

pub fn redirect_url_map(spec: &Spec) -> String {
    or_derived(&spec.names.redirect_url_map, || {
        names::redirect_url_map(&spec.name)
    })
}

pub fn https_proxy(spec: &Spec) -> String {
    or_derived(&spec.names.https_proxy, || names::https_proxy(&spec.name))
}

pub fn http_proxy(spec: &Spec) -> String {
    or_derived(&spec.names.http_proxy, || names::http_proxy(&spec.name))
}

pub fn address(spec: &Spec) -> String {
    or_derived(&spec.names.address, || names::address(&spec.name))
}

pub fn https_forwarding_rule(spec: &Spec) -> String {
    or_derived(&spec.names.https_forwarding_rule, || {
        names::https_forwarding_rule(&spec.name)
    })
}

pub fn http_forwarding_rule(spec: &Spec) -> String {
    or_derived(&spec.names.http_forwarding_rule, || {
        names::http_forwarding_rule(&spec.name)
    })
}

pub fn ssl_policy(spec: &Spec) -> String {
    or_derived(&spec.names.ssl_policy, || names::ssl_policy(&spec.name))
}

fn sorted(domains: &[String]) -> Vec<String> {
    let mut d: Vec<String> = domains.iter().map(|d| d.to_ascii_lowercase()).collect();
    d.sort();
    d.dedup();
    d
}

/// The kept certificate only while the spec asks for exactly its domains: a managed
/// certificate's domains cannot change, so new domains mean a new certificate beside it.
pub fn certificate(spec: &Spec) -> String {
    match &spec.names.certificate {
        Some(c) if sorted(&c.domains) == sorted(&spec.frontend.domains) => c.name.clone(),
        _ => names::certificate(&spec.name, &spec.frontend.domains),
    }
}

pub fn backend_service(spec: &Spec, backend: &str) -> String {
    spec.names
        .backends
        .get(backend)
        .and_then(|n| n.backend_service.clone())
        .unwrap_or_else(|| names::backend_service(&spec.name, backend))
}

/// A serverless NEG cannot be repointed, so the kept name holds only for the service it was
/// made for.
pub fn serverless_neg(spec: &Spec, backend: &Backend, region: &str) -> String {
    let BackendKind::Serverless { service, .. } = &backend.kind else {
        return String::new();
    };
    spec.names
        .backends
        .get(&backend.name)
        .filter(|n| n.service.as_deref() == Some(service.as_str()))
        .and_then(|n| n.negs.get(region).cloned())
        .unwrap_or_else(|| names::serverless_neg(&spec.name, &backend.name, region, service))
}

/// `address:port`, the form `BackendNames::endpoint` records.
pub fn endpoint_key(address: &str, port: u16) -> String {
    format!("{address}:{port}")
}

/// An internet NEG's endpoint cannot be edited either: the kept name holds for its endpoint.
pub fn internet_neg(spec: &Spec, backend: &str, address: &str, port: u16) -> String {
    let key = endpoint_key(address, port);
    spec.names
        .backends
        .get(backend)
        .filter(|n| n.endpoint.as_deref() == Some(key.as_str()))
        .and_then(|n| n.internet_neg.clone())
        .unwrap_or_else(|| names::internet_neg(&spec.name, address, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(names: serde_json::Value) -> Spec {
        serde_json::from_value(json!({
            "name": "global-app", "project": "my-project",
            "frontend": { "protocol": "https", "domains": ["your-domain.com"] },
            "backends": [ { "name": "cloudrun", "type": "serverless", "service": "my-global-app",
                            "regions": ["us-central1"] } ],
            "routing": { "default": { "backend": "cloudrun" } },
            "names": names
        }))
        .unwrap()
    }

    #[test]
    fn kept_names_hold_while_what_made_them_is_unchanged() {
        let mut s = spec(json!({
            "certificate": { "name": "my-ssl-cert", "domains": ["your-domain.com"] },
            "backends": { "cloudrun": { "backend_service": "cloudrun-backend",
                                        "service": "my-global-app",
                                        "negs": { "us-central1": "cloudrun-neg" } } }
        }));
        assert_eq!(certificate(&s), "my-ssl-cert");
        assert_eq!(backend_service(&s, "cloudrun"), "cloudrun-backend");
        assert_eq!(
            serverless_neg(&s, &s.backends[0].clone(), "us-central1"),
            "cloudrun-neg"
        );
        assert_eq!(url_map(&s), "global-app-urlmap");
        s.frontend.domains.push("www.your-domain.com".into());
        assert_eq!(
            certificate(&s),
            names::certificate("global-app", &s.frontend.domains)
        );
        if let BackendKind::Serverless { service, .. } = &mut s.backends[0].kind {
            *service = "other".into();
        }
        let b = s.backends[0].clone();
        assert_eq!(
            serverless_neg(&s, &b, "us-central1"),
            names::serverless_neg("global-app", "cloudrun", "us-central1", "other")
        );
        // The backend service is edited in place: its name stays.
        assert_eq!(backend_service(&s, "cloudrun"), "cloudrun-backend");
    }

    #[test]
    fn a_spec_without_names_round_trips_without_the_field() {
        let s: Spec = serde_json::from_value(json!({
            "name": "a", "project": "p", "frontend": { "protocol": "http" },
            "routing": { "default": { "backend": "web" } }
        }))
        .unwrap();
        let v = serde_json::to_value(&s).unwrap();
        assert!(v.get("names").is_none(), "{v}");
        let typo = serde_json::from_value::<Spec>(json!({
            "name": "a", "project": "p", "frontend": { "protocol": "http" },
            "routing": { "default": { "backend": "web" } }, "names": { "urlmap": "x" }
        }));
        assert!(typo.unwrap_err().to_string().contains("urlmap"));
    }
}
