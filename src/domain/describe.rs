//! A spec in words: a few plain sentences saying what the load balancer does, for the
//! deployment page (a reader should not need to know the JSON to check it).

use super::spec::{Backend, BackendKind, IpKind, Protocol, Spec, Target};

/// `a`, `a and b`, `a, b and c`.
fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn target(t: &Target) -> String {
    match t {
        Target::Backend { backend } => backend.clone(),
        Target::Split { split } => {
            let total: u64 = split.iter().map(|w| u64::from(w.weight)).sum();
            let parts: Vec<String> = split
                .iter()
                .map(|w| {
                    let p = if total == 0 {
                        0.0
                    } else {
                        (f64::from(w.weight) * 1000.0 / total as f64).round() / 10.0
                    };
                    if p.fract() == 0.0 {
                        format!("{p:.0} % to {}", w.backend)
                    } else {
                        format!("{p:.1} % to {}", w.backend)
                    }
                })
                .collect();
            format!("a split of {}", list(&parts))
        }
    }
}

fn backend(b: &Backend) -> String {
    let mut s = match &b.kind {
        BackendKind::Serverless { service, regions } => {
            let mut s = format!(
                "{} is the Cloud Run service {service} in {}",
                b.name,
                list(regions)
            );
            if regions.len() > 1 {
                s.push_str(" (requests go to the nearest region that is serving)");
            }
            s
        }
        BackendKind::Internet {
            fqdn,
            port,
            host_header,
        } => {
            let mut s = format!("{} is the HTTPS endpoint {fqdn}:{port}", b.name);
            if let Some(h) = host_header {
                s.push_str(&format!(", called with the Host header {h}"));
            }
            s
        }
    };
    let extras: Vec<String> = [
        (b.cdn, "Cloud CDN caching"),
        (b.outlier_detection, "outlier detection"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, w)| w.to_string())
    .collect();
    if !extras.is_empty() {
        s.push_str(&format!(", with {}", list(&extras)));
    }
    s.push('.');
    s
}

/// The spec as sentences, in the order a request meets them: frontend, rules, default, then
/// what each backend is.
pub fn describe(spec: &Spec) -> Vec<String> {
    let mut out = Vec::new();
    let ip = match spec.frontend.ip {
        IpKind::Static => "a reserved static IP address",
        IpKind::Ephemeral => {
            "an ephemeral IP address (it changes if the load balancer is recreated)"
        }
    };
    match spec.frontend.protocol {
        Protocol::Https => {
            let domains = if spec.frontend.domains.is_empty() {
                "no domain yet".to_string()
            } else {
                list(&spec.frontend.domains)
            };
            out.push(format!(
                "Serves HTTPS on port 443 for {domains} with a Google-managed certificate, on {ip}."
            ));
            if spec.frontend.http_redirect {
                out.push(
                    "Port 80 answers every request with a redirect to the same URL over HTTPS."
                        .into(),
                );
            }
        }
        Protocol::Http => out.push(format!(
            "Serves plain HTTP on port 80 (no certificate), on {ip}."
        )),
    }
    for rule in &spec.routing.rules {
        let hosts = if rule.hosts.iter().any(|h| h == "*") {
            "any host".to_string()
        } else {
            format!("host {}", or_list(&rule.hosts))
        };
        let mut s = format!(
            "Requests for {hosts} with path {} go to {}",
            or_list(&rule.paths),
            target(&rule.target)
        );
        let mut rewrites = Vec::new();
        if let Some(p) = &rule.prefix_rewrite {
            rewrites.push(format!("the matched path prefix rewritten to {p}"));
        }
        if let Some(h) = &rule.host_rewrite {
            rewrites.push(format!("the Host header rewritten to {h}"));
        }
        if !rewrites.is_empty() {
            s.push_str(&format!(", with {}", list(&rewrites)));
        }
        s.push('.');
        out.push(s);
    }
    out.push(if spec.routing.rules.is_empty() {
        format!("Every request goes to {}.", target(&spec.routing.default))
    } else {
        format!("Everything else goes to {}.", target(&spec.routing.default))
    });
    out.extend(spec.backends.iter().map(backend));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validate;

    #[test]
    fn seed_002_in_words() {
        let spec = validate::parse(include_str!("../../tests/data/seeds/seed-002.json")).unwrap();
        let words = describe(&spec);
        assert_eq!(
            words[0],
            "Serves HTTPS on port 443 for hello.example.com with a Google-managed certificate, \
             on a reserved static IP address."
        );
        assert!(words[1].contains("redirect"));
        assert_eq!(
            words[2],
            "Requests for any host with path /hello2 or /hello2/* go to hello2, with the matched \
             path prefix rewritten to /."
        );
        assert_eq!(words[3], "Everything else goes to hello.");
        assert_eq!(
            words[5],
            "hello2 is the HTTPS endpoint hello2-3qx7k2dz6a-uc.a.run.app:443, called with the \
             Host header hello2-3qx7k2dz6a-uc.a.run.app."
        );
    }

    #[test]
    fn seed_001_and_splits_in_words() {
        let spec = validate::parse(include_str!("../../tests/data/seeds/seed-001.json")).unwrap();
        let words = describe(&spec);
        assert_eq!(words[1], "Every request goes to my-app.");
        assert!(words[2].contains("in us-central1, europe-west1 and asia-east1"));
        assert!(words[2].ends_with("with outlier detection."));
        let mut spec = spec;
        spec.routing.default = Target::Split {
            split: vec![
                super::super::spec::WeightedBackend {
                    backend: "a".into(),
                    weight: 9,
                },
                super::super::spec::WeightedBackend {
                    backend: "b".into(),
                    weight: 1,
                },
            ],
        };
        assert_eq!(
            describe(&spec)[1],
            "Every request goes to a split of 90 % to a and 10 % to b."
        );
    }
}
