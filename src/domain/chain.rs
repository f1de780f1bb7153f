//! Chained load balancers: an internet backend that names another deployment of this panel
//! (`backends[].deployment`) instead of an FQDN or IP. The other deployment is looked up by
//! the caller (in the database and the cloud) and passed in as plain data; here it becomes the
//! endpoint the front load balancer's internet NEG points at: the back one's first domain when
//! it has domains (an FQDN NEG whose Host header is that domain, so certificate and host rules
//! match), else its IP (an `INTERNET_IP_PORT` NEG), as seed 002's second design does by hand.

use serde::{Deserialize, Serialize};

use super::spec::{BackendKind, Endpoint, Protocol, Spec};
use super::validate::FieldError;

/// What the panel knows of a deployment that a backend may follow.
#[derive(Debug, Clone)]
pub struct Back {
    pub name: String,
    /// The spec its last apply put in the cloud and the IP its forwarding rule has there;
    /// `None` when nothing of it is applied (never applied, or destroyed since).
    pub applied: Option<(Spec, Option<String>)>,
}

/// One chained backend, resolved: where the front's internet NEG points and with which Host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    /// The front deployment's backend that follows `deployment`.
    pub backend: String,
    pub deployment: String,
    /// The back deployment's first domain, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    /// The back deployment's IP, when it has no domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The back deployment's frontend port: 443 for HTTPS, 80 for HTTP.
    pub port: u16,
    pub protocol: Protocol,
    /// The Host header the front sends; `None` keeps the client's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_header: Option<String>,
}

impl Hop {
    /// `shop.example.com:443` or `34.1.2.3:443`.
    pub fn endpoint_text(&self) -> String {
        let address = self.fqdn.as_deref().or(self.ip.as_deref()).unwrap_or("?");
        format!("{address}:{}", self.port)
    }

    /// The plan's line for this hop.
    pub fn describe(&self) -> String {
        let what = if self.fqdn.is_some() {
            "its first domain"
        } else {
            "its IP address (it has no domain)"
        };
        let host = match &self.host_header {
            Some(h) => format!("Host: {h}"),
            None => "the client's Host header".to_string(),
        };
        format!(
            "Backend “{}” follows deployment {}: {} ({what}), with {host}.",
            self.backend,
            self.deployment,
            self.endpoint_text()
        )
    }
}

/// Resolves every backend of `spec` that names another deployment. Each one that cannot be
/// followed (no such deployment, or nothing of it applied) is an error on its `deployment`
/// field, so a plan is refused with the reason at the field.
pub fn resolve(spec: &Spec, backs: &[Back]) -> Result<Vec<Hop>, Vec<FieldError>> {
    let mut hops = Vec::new();
    let mut errors = Vec::new();
    for (i, b) in spec.backends.iter().enumerate() {
        let (Some(Endpoint::Deployment(name)), BackendKind::Internet { host_header, .. }) =
            (b.kind.endpoint(), &b.kind)
        else {
            continue;
        };
        let field = format!("backends[{i}].deployment");
        let fail = |message: String| FieldError {
            field: field.clone(),
            message,
        };
        let Some(back) = backs.iter().find(|x| x.name == name) else {
            errors.push(fail(format!(
                "there is no deployment named `{name}` in this panel"
            )));
            continue;
        };
        let Some((applied, ip)) = &back.applied else {
            errors.push(fail(format!(
                "deployment `{name}` has not been applied, so it has no IP address or domain to follow yet: apply it first"
            )));
            continue;
        };
        let protocol = applied.frontend.protocol;
        let port = match protocol {
            Protocol::Https => 443,
            Protocol::Http => 80,
        };
        let hop = match applied.frontend.domains.first() {
            Some(domain) => Hop {
                backend: b.name.clone(),
                deployment: name.to_string(),
                fqdn: Some(domain.trim_end_matches('.').to_string()),
                ip: None,
                port,
                protocol,
                host_header: Some(host_header.clone().unwrap_or_else(|| domain.clone())),
            },
            None => match ip {
                Some(ip) => Hop {
                    backend: b.name.clone(),
                    deployment: name.to_string(),
                    fqdn: None,
                    ip: Some(ip.clone()),
                    port,
                    protocol,
                    host_header: host_header.clone(),
                },
                None => {
                    errors.push(fail(format!(
                        "deployment `{name}` has no IP address in the cloud (its forwarding rule is missing): apply it again"
                    )));
                    continue;
                }
            },
        };
        hops.push(hop);
    }
    if errors.is_empty() {
        Ok(hops)
    } else {
        Err(errors)
    }
}

/// The Host header a request sent by a chained backend arrives with at the deployment it
/// follows: the backend's own override (already in `sent`, the Host the route preview says the
/// backend receives), else that deployment's first domain, as the plan resolves it; a
/// deployment without domains is reached by IP and gets the Host that was `sent`.
pub fn host_at_back(sent: &str, host_header: Option<&str>, back: &Spec) -> String {
    match (host_header, back.frontend.domains.first()) {
        (None, Some(domain)) => domain.trim_end_matches('.').to_string(),
        _ => sent.to_string(),
    }
}

/// The deployments `spec` chains to, with the backend that does: `(backend, deployment)`.
pub fn backs_of(spec: &Spec) -> Vec<(&str, &str)> {
    spec.backends
        .iter()
        .filter_map(|b| match b.kind.endpoint() {
            Some(Endpoint::Deployment(d)) => Some((b.name.as_str(), d)),
            _ => None,
        })
        .collect()
}

/// How a deployment can be reached by another one's backend: by its name in the panel, by one
/// of its domains or by its IP.
#[derive(Debug, Clone, Copy)]
pub struct Reach<'a> {
    pub name: &'a str,
    pub domains: &'a [String],
    pub ip: Option<&'a str>,
}

/// Which of `others` (name, spec) send traffic to the deployment `back`, whether they name
/// it (`deployment`) or give its domain (`fqdn`) or IP (`ip`): `(front, backend)` pairs.
pub fn fronts_of<'a>(back: &Reach<'_>, others: &'a [(String, Spec)]) -> Vec<(&'a str, &'a str)> {
    let same = |a: &str, b: &str| {
        a.trim_end_matches('.')
            .eq_ignore_ascii_case(b.trim_end_matches('.'))
    };
    let mut out = Vec::new();
    for (front, spec) in others.iter().filter(|(front, _)| front != back.name) {
        for b in &spec.backends {
            let reaches = match b.kind.endpoint() {
                Some(Endpoint::Deployment(d)) => d == back.name,
                Some(Endpoint::Fqdn(f)) => back.domains.iter().any(|d| same(d, f)),
                Some(Endpoint::Ip(ip)) => back.ip == Some(ip),
                None => false,
            };
            if reaches {
                out.push((front.as_str(), b.name.as_str()));
            }
        }
    }
    out
}

/// The warning a destroy (or delete) of `name` carries when other deployments chain to it.
pub fn destroy_warning(name: &str, fronts: &[(&str, &str)]) -> Option<String> {
    if fronts.is_empty() {
        return None;
    }
    let list: Vec<String> = fronts
        .iter()
        .map(|(front, backend)| format!("{front} (backend “{backend}”)"))
        .collect();
    let (names, chain, they) = if fronts.len() == 1 {
        ("Deployment", "chains", "it sends")
    } else {
        ("Deployments", "chain", "they send")
    };
    Some(format!(
        "{names} {} {chain} to {name}: {they} traffic to {name}'s IP address or domain. Once {name} is destroyed, those requests fail (502) until the front deployment points elsewhere.",
        list.join(", "),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::parse::parse;
    use serde_json::json;

    fn front(backend: serde_json::Value) -> Spec {
        parse(
            json!({
                "name": "front", "project": "front-project",
                "frontend": {"protocol": "http"},
                "backends": [backend],
                "routing": {"default": {"backend": "back"}}
            })
            .to_string(),
        )
        .unwrap()
    }

    fn back(domains: &[&str], ip: Option<&str>) -> Back {
        let protocol = if domains.is_empty() { "http" } else { "https" };
        let spec = parse(
            json!({
                "name": "multi", "project": "multi-project",
                "frontend": {"protocol": protocol, "domains": domains},
                "backends": [{"name": "web", "type": "serverless", "service": "app", "regions": ["us-central1"]}],
                "routing": {"default": {"backend": "web"}}
            })
            .to_string(),
        )
        .unwrap();
        Back {
            name: "multi".into(),
            applied: Some((spec, ip.map(str::to_string))),
        }
    }

    fn chained() -> Spec {
        front(json!({"name": "back", "type": "internet", "deployment": "multi"}))
    }

    #[test]
    fn a_deployment_with_a_domain_is_followed_by_its_domain_with_that_host() {
        let hops = resolve(&chained(), &[back(&["app.example.com"], Some("34.1.2.3"))]).unwrap();
        assert_eq!(hops.len(), 1);
        let h = &hops[0];
        assert_eq!(h.fqdn.as_deref(), Some("app.example.com"));
        assert_eq!(h.ip, None);
        assert_eq!((h.port, h.protocol), (443, Protocol::Https));
        assert_eq!(h.host_header.as_deref(), Some("app.example.com"));
        assert!(
            h.describe().contains("app.example.com:443"),
            "{}",
            h.describe()
        );
    }

    #[test]
    fn a_deployment_without_domains_is_followed_by_its_ip() {
        let hops = resolve(&chained(), &[back(&[], Some("34.1.2.3"))]).unwrap();
        let h = &hops[0];
        assert_eq!(
            (h.fqdn.as_deref(), h.ip.as_deref()),
            (None, Some("34.1.2.3"))
        );
        assert_eq!((h.port, h.protocol), (80, Protocol::Http));
        assert_eq!(h.host_header, None);
        assert_eq!(h.endpoint_text(), "34.1.2.3:80");
    }

    #[test]
    fn a_missing_or_unapplied_deployment_is_refused_at_the_field() {
        let missing = resolve(&chained(), &[]).unwrap_err();
        assert_eq!(missing[0].field, "backends[0].deployment");
        assert!(missing[0].message.contains("no deployment named `multi`"));
        let unapplied = resolve(
            &chained(),
            &[Back {
                name: "multi".into(),
                applied: None,
            }],
        )
        .unwrap_err();
        assert!(
            unapplied[0].message.contains("has not been applied"),
            "{unapplied:?}"
        );
        let no_ip = resolve(&chained(), &[back(&[], None)]).unwrap_err();
        assert!(no_ip[0].message.contains("no IP address"), "{no_ip:?}");
    }

    #[test]
    fn the_back_deployment_is_reached_with_its_domain_unless_overridden() {
        let with_domain = back(&["app.example.com"], None).applied.unwrap().0;
        let without = back(&[], None).applied.unwrap().0;
        assert_eq!(
            host_at_back("shop.example.com", None, &with_domain),
            "app.example.com"
        );
        assert_eq!(
            host_at_back("api.example.com", Some("api.example.com"), &with_domain),
            "api.example.com"
        );
        assert_eq!(
            host_at_back("shop.example.com", None, &without),
            "shop.example.com"
        );
    }

    #[test]
    fn fronts_are_found_and_named_in_the_destroy_warning() {
        let others = vec![
            ("front".to_string(), chained()),
            ("multi".to_string(), chained()),
            (
                "by-ip".to_string(),
                front(json!({"name": "old", "type": "internet", "ip": "34.1.2.3"})),
            ),
            (
                "by-name".to_string(),
                front(json!({"name": "www", "type": "internet", "fqdn": "App.example.com."})),
            ),
            (
                "elsewhere".to_string(),
                front(json!({"name": "x", "type": "internet", "ip": "34.9.9.9"})),
            ),
        ];
        let domains = vec!["app.example.com".to_string()];
        let reach = Reach {
            name: "multi",
            domains: &domains,
            ip: Some("34.1.2.3"),
        };
        assert_eq!(
            fronts_of(&reach, &others),
            vec![("front", "back"), ("by-ip", "old"), ("by-name", "www")]
        );
        let fronts = fronts_of(
            &Reach {
                name: "multi",
                domains: &[],
                ip: None,
            },
            &others,
        );
        assert_eq!(fronts, vec![("front", "back")]);
        let w = destroy_warning("multi", &fronts).unwrap();
        assert!(
            w.starts_with("Deployment front (backend “back”) chains to multi"),
            "{w}"
        );
        assert_eq!(destroy_warning("multi", &[]), None);
    }
}
