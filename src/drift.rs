//! What the live resources say about a deployment: its IP and its certificate's status (kept in
//! `deployment_live` for the dashboard), read from the same live state the planner diffs.

use crate::domain::names;
use crate::domain::spec::{IpKind, Protocol, Spec};
use serde_json::Value;
use std::collections::BTreeMap;

/// Resource path → the resource as `get` returned it (`None`: it does not exist); the planner's
/// `LiveState`.
pub type Live = BTreeMap<String, Option<Value>>;

/// The facts the dashboard shows without calling the cloud.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LiveFacts {
    pub ip: Option<String>,
    pub certificate: Option<String>,
    pub cert_status: Option<String>,
    /// Domain → status, as Google reports `managed.domainStatus`.
    pub domain_status: Value,
}

/// The live resource `collection/name` (global), matched by path so a full URL or a path with a
/// different prefix still matches.
fn find<'a>(live: &'a Live, collection: &str, name: &str) -> Option<(&'a str, &'a Value)> {
    let suffix = format!("global/{collection}/{name}");
    live.iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.as_str(), v)))
        .find(|(k, _)| k.ends_with(&suffix))
}

pub fn live_facts(spec: &Spec, live: &Live) -> LiveFacts {
    let dep = spec.name.as_str();
    // A static address is its own resource; an ephemeral one only shows on the forwarding rules.
    let from_address = (spec.frontend.ip == IpKind::Static)
        .then(|| find(live, "addresses", &names::address(dep)))
        .flatten()
        .and_then(|(_, a)| a["address"].as_str().map(str::to_string));
    let from_rule = [
        names::https_forwarding_rule(dep),
        names::http_forwarding_rule(dep),
    ]
    .iter()
    .filter_map(|n| find(live, "forwardingRules", n))
    .find_map(|(_, fr)| {
        fr["IPAddress"]
            .as_str()
            // A rule created with the address's URL may echo the URL; only a literal IP counts.
            .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
            .map(str::to_string)
    });
    let mut facts = LiveFacts {
        ip: from_address.or(from_rule),
        domain_status: Value::Object(Default::default()),
        ..LiveFacts::default()
    };
    if spec.frontend.protocol == Protocol::Https {
        let wanted = names::certificate(dep, &spec.frontend.domains);
        // The certificate the spec asks for; during a domain change, the one still being replaced.
        let prefix = format!("global/sslCertificates/{dep}-cert-");
        let cert = find(live, "sslCertificates", &wanted).or_else(|| {
            live.iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| (k.as_str(), v)))
                .find(|(k, _)| k.contains(&prefix))
        });
        if let Some((_, c)) = cert {
            facts.certificate = c["name"].as_str().map(str::to_string);
            facts.cert_status = c["managed"]["status"].as_str().map(str::to_string);
            if let Some(m) = c["managed"]["domainStatus"].as_object() {
                facts.domain_status = Value::Object(m.clone());
            }
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seed2() -> Spec {
        crate::domain::validate::parse(include_str!("../tests/data/seeds/seed-002.json")).unwrap()
    }

    #[test]
    fn facts_from_live_resources() {
        let spec = seed2();
        let cert = names::certificate("hello-lb", &spec.frontend.domains);
        let mut live = Live::new();
        live.insert(
            "projects/my-lb-project/global/addresses/hello-lb-ip".into(),
            Some(json!({"name": "hello-lb-ip", "address": "203.0.113.9"})),
        );
        live.insert(
            format!("projects/my-lb-project/global/sslCertificates/{cert}"),
            Some(json!({"name": cert, "managed": {"status": "PROVISIONING",
                "domainStatus": {"hello.example.com": "FAILED_NOT_VISIBLE"}}})),
        );
        live.insert(
            "projects/my-lb-project/global/urlMaps/hello-lb-urlmap".into(),
            None,
        );
        let f = live_facts(&spec, &live);
        assert_eq!(f.ip.as_deref(), Some("203.0.113.9"));
        assert_eq!(f.certificate.as_deref(), Some(cert.as_str()));
        assert_eq!(f.cert_status.as_deref(), Some("PROVISIONING"));
        assert_eq!(f.domain_status["hello.example.com"], "FAILED_NOT_VISIBLE");
    }

    #[test]
    fn ephemeral_ip_comes_from_the_forwarding_rule_and_nothing_live_is_nothing() {
        let mut spec = seed2();
        assert_eq!(
            live_facts(&spec, &Live::new()),
            LiveFacts {
                domain_status: json!({}),
                ..LiveFacts::default()
            }
        );
        spec.frontend.ip = IpKind::Ephemeral;
        let mut live = Live::new();
        live.insert(
            "projects/p/global/forwardingRules/hello-lb-https-fr".into(),
            Some(json!({"IPAddress": "198.51.100.4"})),
        );
        live.insert(
            "projects/p/global/forwardingRules/hello-lb-http-fr".into(),
            Some(json!({"IPAddress": "https://www.googleapis.com/compute/v1/projects/p/global/addresses/x"})),
        );
        assert_eq!(live_facts(&spec, &live).ip.as_deref(), Some("198.51.100.4"));
    }
}
