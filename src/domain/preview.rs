//! Route preview: sample requests for a spec and where each one lands, computed by building the
//! URL map (`plan::url_map`) and evaluating it (`urlmap::evaluate`) — the same code the
//! sandbox uses to answer requests, so the preview cannot disagree with it.

use serde::Serialize;

use super::plan;
use super::spec::{BackendKind, Protocol, Spec};
use super::urlmap::{self, Outcome};

/// Stand-in for the load balancer's address when a rule matches any host and the spec has no
/// domain (TEST-NET-3, reserved for documentation).
pub const SAMPLE_IP: &str = "203.0.113.10";

/// One sample request and its fate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewRow {
    /// `https` or `http` (the port-80 redirect listener).
    pub scheme: String,
    pub host: String,
    pub path: String,
    /// Index in `routing.rules` of the rule that matched; `None` for the default target.
    pub rule: Option<usize>,
    /// Backends receiving the request (several for a split); empty for a redirect.
    pub targets: Vec<PreviewTarget>,
    /// Where the client is redirected instead, if it is.
    pub redirect: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewTarget {
    pub backend: String,
    pub weight: u32,
    /// Share of the requests, 0 to 100.
    pub percent: f64,
    /// Path the backend receives (after `prefix_rewrite`).
    pub path: String,
    /// Host header the backend receives (after `host_rewrite` and the backend's `host_header`).
    pub host: String,
}

/// A concrete host matching a host pattern: `*` becomes the first frontend domain (or
/// `SAMPLE_IP`), `*.example.com` becomes `www.example.com`, `*-x.com` becomes `a-x.com`.
pub fn sample_host(pattern: &str, spec: &Spec) -> String {
    if pattern == "*" {
        return spec
            .frontend
            .domains
            .first()
            .cloned()
            .unwrap_or_else(|| SAMPLE_IP.to_string());
    }
    match pattern.strip_prefix('*') {
        Some(rest) if rest.starts_with('.') => format!("www{rest}"),
        Some(rest) => format!("a{rest}"),
        None => pattern.to_string(),
    }
}

/// Sample paths for a path pattern: the pattern itself and a sub-path. For `/x` that is `/x` and
/// `/x/example` (showing whether sub-paths follow); for `/x/*`, `/x/` and `/x/example`.
pub fn sample_paths(pattern: &str) -> Vec<String> {
    match pattern.strip_suffix('*') {
        Some(prefix) => vec![prefix.to_string(), format!("{prefix}example")],
        None if pattern == "/" => vec!["/".to_string()],
        None => vec![pattern.to_string(), format!("{pattern}/example")],
    }
}

/// For each spec rule, the path matcher and path rule `plan::url_map` gives it.
pub(crate) fn rule_positions(spec: &Spec) -> Vec<(usize, usize)> {
    let mut sets: Vec<(Vec<String>, usize)> = Vec::new();
    spec.routing
        .rules
        .iter()
        .map(|r| {
            let mut hosts: Vec<String> = r.hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
            hosts.sort();
            hosts.dedup();
            match sets.iter().position(|(h, _)| *h == hosts) {
                Some(k) => {
                    sets[k].1 += 1;
                    (k, sets[k].1 - 1)
                }
                None => {
                    sets.push((hosts, 1));
                    (sets.len() - 1, 0)
                }
            }
        })
        .collect()
}

/// Which spec rule an evaluation label (`pathMatchers[k].pathRules[r]`) stands for.
fn rule_of(label: &str, positions: &[(usize, usize)]) -> Option<usize> {
    let rest = label.strip_prefix("pathMatchers[")?;
    let (k, rest) = rest.split_once("].pathRules[")?;
    let r = rest.strip_suffix(']')?;
    let pos = (k.parse().ok()?, r.parse().ok()?);
    positions.iter().position(|p| *p == pos)
}

/// Evaluates one request against the spec's URL map and fills in what the backends see.
pub fn preview_request(spec: &Spec, host: &str, path: &str) -> PreviewRow {
    let map = plan::url_map(spec, &|b| b.to_string());
    row(spec, &map, &rule_positions(spec), host, path)
}

fn row(
    spec: &Spec,
    map: &urlmap::UrlMap,
    positions: &[(usize, usize)],
    host: &str,
    path: &str,
) -> PreviewRow {
    let mut out = PreviewRow {
        scheme: match spec.frontend.protocol {
            Protocol::Https => "https",
            Protocol::Http => "http",
        }
        .to_string(),
        host: host.to_string(),
        path: path.to_string(),
        rule: None,
        targets: Vec::new(),
        redirect: None,
    };
    match urlmap::evaluate(map, host, path) {
        Outcome::Route {
            services,
            path: received_path,
            host: received_host,
            matched,
        } => {
            out.rule = rule_of(&matched, positions);
            let total: u64 = services.iter().map(|(_, w)| u64::from(*w)).sum();
            out.targets = services
                .into_iter()
                .map(|(backend, weight)| {
                    // The backend service's Host header replaces whatever the URL map left: it
                    // is set by the backend service, after URL map routing. (Which wins when
                    // both are set is UNCONFIRMED on Google; lint warns against combining them.)
                    let host_header = spec.backend(&backend).and_then(|b| match &b.kind {
                        BackendKind::Internet { host_header, .. } => host_header.clone(),
                        BackendKind::Serverless { .. } => None,
                    });
                    let host = host_header.unwrap_or_else(|| received_host.clone());
                    PreviewTarget {
                        percent: if total == 0 {
                            0.0
                        } else {
                            (f64::from(weight) * 100.0 / total as f64 * 10.0).round() / 10.0
                        },
                        backend,
                        weight,
                        path: received_path.clone(),
                        host,
                    }
                })
                .collect();
        }
        Outcome::Redirect { url, .. } => out.redirect = Some(url),
        Outcome::NoRoute => {}
    }
    out
}

/// Sample requests for every rule (each host pattern × each path and a sub-path) plus the
/// default, and, with `http_redirect`, one plain-HTTP request showing the redirect.
pub fn preview(spec: &Spec) -> Vec<PreviewRow> {
    let map = plan::url_map(spec, &|b| b.to_string());
    let positions = rule_positions(spec);
    let mut requests: Vec<(String, String)> = Vec::new();
    let mut push = |h: String, p: String| {
        if !requests.contains(&(h.clone(), p.clone())) {
            requests.push((h, p));
        }
    };
    let default_host = sample_host("*", spec);
    push(default_host.clone(), "/".to_string());
    for rule in &spec.routing.rules {
        for h in &rule.hosts {
            let host = sample_host(h, spec);
            for p in &rule.paths {
                for sample in sample_paths(p) {
                    push(host.clone(), sample);
                }
            }
        }
    }
    let mut rows: Vec<PreviewRow> = requests
        .iter()
        .map(|(h, p)| row(spec, &map, &positions, h, p))
        .collect();
    if spec.frontend.protocol == Protocol::Https && spec.frontend.http_redirect {
        let redirect = plan::redirect_map(&spec.name);
        let url = match urlmap::evaluate(&redirect, &default_host, "/") {
            Outcome::Redirect { url, .. } => Some(url),
            _ => None,
        };
        rows.push(PreviewRow {
            scheme: "http".into(),
            host: default_host,
            path: "/".into(),
            rule: None,
            targets: Vec::new(),
            redirect: url,
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed2() -> Spec {
        serde_json::from_value(serde_json::json!({
            "name": "lb", "project": "acme-edge",
            "frontend": {"protocol": "https", "domains": ["hello.example.com"], "http_redirect": true},
            "backends": [
                {"name": "hello", "type": "internet", "fqdn": "hello-3qx7k2dz6a-uc.a.run.app", "host_header": "hello-3qx7k2dz6a-uc.a.run.app"},
                {"name": "hello2", "type": "internet", "fqdn": "hello2-3qx7k2dz6a-uc.a.run.app", "host_header": "hello2-3qx7k2dz6a-uc.a.run.app"},
                {"name": "api", "type": "serverless", "service": "api", "regions": ["us-central1"]}
            ],
            "routing": {
                "default": {"backend": "hello"},
                "rules": [
                    {"hosts": ["*"], "paths": ["/hello2", "/hello2/*"], "backend": "hello2", "prefix_rewrite": "/"},
                    {"hosts": ["*.api.example.com"], "paths": ["/v1/*"], "split": [{"backend": "api", "weight": 3}, {"backend": "hello", "weight": 1}], "host_rewrite": "internal.example.com"}
                ]
            }
        }))
        .unwrap()
    }

    fn find<'a>(rows: &'a [PreviewRow], host: &str, path: &str) -> &'a PreviewRow {
        rows.iter()
            .find(|r| r.host == host && r.path == path && r.scheme == "https")
            .unwrap_or_else(|| panic!("no row for {host}{path}: {rows:#?}"))
    }

    #[test]
    fn samples() {
        let s = seed2();
        assert_eq!(sample_host("*", &s), "hello.example.com");
        assert_eq!(sample_host("*.a.com", &s), "www.a.com");
        assert_eq!(sample_host("*-a.com", &s), "a-a.com");
        assert_eq!(sample_paths("/x"), ["/x", "/x/example"]);
        assert_eq!(sample_paths("/x/*"), ["/x/", "/x/example"]);
        assert_eq!(sample_paths("/*"), ["/", "/example"]);
    }

    #[test]
    fn seed2_preview_shows_rewrites_and_host_overrides() {
        let rows = preview(&seed2());
        let r = find(&rows, "hello.example.com", "/");
        assert_eq!(r.rule, None);
        assert_eq!(r.targets[0].backend, "hello");
        assert_eq!(r.targets[0].host, "hello-3qx7k2dz6a-uc.a.run.app");
        let r = find(&rows, "hello.example.com", "/hello2");
        assert_eq!(r.rule, Some(0));
        assert_eq!(
            (r.targets[0].backend.as_str(), r.targets[0].path.as_str()),
            ("hello2", "/")
        );
        assert_eq!(r.targets[0].host, "hello2-3qx7k2dz6a-uc.a.run.app");
        let r = find(&rows, "hello.example.com", "/hello2/example");
        assert_eq!(r.targets[0].path, "/example");
        let r = find(&rows, "www.api.example.com", "/v1/example");
        assert_eq!(r.rule, Some(1));
        assert_eq!(r.targets.len(), 2);
        assert_eq!((r.targets[0].percent, r.targets[1].percent), (75.0, 25.0));
        assert_eq!(r.targets[0].host, "internal.example.com");
        // A serverless backend takes the URL map's host rewrite; the internet backend's own
        // Host header still wins for it.
        assert_eq!(r.targets[1].host, "hello-3qx7k2dz6a-uc.a.run.app");
        // Host matches the rule but the path does not: default.
        let r = preview_request(&seed2(), "www.api.example.com", "/other");
        assert_eq!((r.rule, r.targets[0].backend.as_str()), (None, "hello"));
        let redirect = rows.iter().find(|r| r.scheme == "http").unwrap();
        assert_eq!(
            redirect.redirect.as_deref(),
            Some("https://hello.example.com/")
        );
    }
}
