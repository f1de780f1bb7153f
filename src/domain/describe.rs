//! A spec in words: a few plain sentences saying what the load balancer does, for the
//! deployment page (a reader should not need to know the JSON to check it).
//!
//! Environment variables are counted, never quoted: their values may be secrets.

use super::draft::Draft;
use super::spec::{
    Backend, BackendKind, Endpoint, Ingress, IpKind, Protocol, Service, Spec, Target,
};
use super::validate::cpu_count;

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

/// What a backend is. When the spec deploys services, a serverless backend also says whether
/// its service is one of them or must exist already; a spec without `services` reads as before.
fn backend(b: &Backend, spec: &Spec) -> String {
    let mut s = match &b.kind {
        BackendKind::Serverless { service, regions } => {
            let origin = if spec.services.is_empty() {
                " in"
            } else if spec.service(service).is_some() {
                ", deployed by this spec, in"
            } else {
                ", which must already exist in"
            };
            let mut s = format!(
                "{} is the Cloud Run service {service}{origin} {}",
                b.name,
                list(regions)
            );
            if regions.len() > 1 {
                s.push_str(" (requests go to the nearest region that is serving)");
            }
            let project = spec.backend_project(b);
            if project != spec.project {
                s.push_str(&format!(
                    ", in project {project}, whose backend service the URL map uses across projects"
                ));
            }
            s
        }
        BackendKind::Internet {
            port, host_header, ..
        } => {
            let mut s = match b.kind.endpoint() {
                Some(Endpoint::Deployment(d)) => format!(
                    "{} is deployment {d}, followed by its domain or IP address (chained load balancers)",
                    b.name
                ),
                Some(Endpoint::Ip(ip)) => {
                    format!("{} is the HTTPS endpoint at IP {ip}:{port}", b.name)
                }
                Some(Endpoint::Fqdn(fqdn)) => {
                    format!("{} is the HTTPS endpoint {fqdn}:{port}", b.name)
                }
                None => format!("{} is an internet endpoint not given yet", b.name),
            };
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
    let edge = b.edge.describe();
    if !edge.is_empty() {
        s.push_str(&format!("; {}", edge.join("; ")));
    }
    s.push('.');
    s
}

/// `n thing` or `n things`.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The spec's canary region for `s`, when it has one to stage: a service in a single region
/// has no other region to hold back.
fn canary<'a>(spec: &'a Spec, s: &Service) -> Option<&'a str> {
    spec.canary_region()
        .filter(|c| s.regions.len() > 1 && s.regions.iter().any(|r| r == c))
}

/// One service the deployment deploys: where, how big, who may reach it.
fn service(s: &Service, spec: &Spec) -> String {
    let mut out = format!(
        "Switchyard deploys the Cloud Run {}service {} (image {}) to {}",
        if s.multi_region { "multi-region " } else { "" },
        s.name,
        s.image,
        list(&s.regions)
    );
    if s.multi_region {
        out.push_str(" as one service, one revision for every region");
    }
    if let Some(p) = &s.readiness_probe {
        out.push_str(&format!(
            "; instances are ready when GET {} answers (every {} s)",
            p.path,
            p.period()
        ));
    }
    if let Some(c) = canary(spec, s) {
        out.push_str(&format!(
            " ({c} first as the canary, the other regions once it is ready)"
        ));
    }
    let instances = if s.min_instances == s.max_instances {
        format!(
            "always {}",
            count(s.max_instances.into(), "instance", "instances")
        )
    } else {
        format!("{} to {} instances", s.min_instances, s.max_instances)
    };
    let cpu = match cpu_count(&s.cpu) {
        Some(n) => count(n.into(), "CPU", "CPUs"),
        None => format!("{} CPU", s.cpu),
    };
    out.push_str(&format!(
        "; {instances}, each with {} memory and {cpu}, serving up to {} at a time",
        s.memory,
        count(s.concurrency.into(), "request", "requests")
    ));
    out.push_str(match s.ingress {
        Ingress::InternalAndCloudLoadBalancing => {
            "; reachable through a load balancer or internal networks, not directly from the internet"
        }
        Ingress::All => "; also reachable directly at its run.app URL, bypassing the load balancer",
        Ingress::Internal => "; reachable only from internal networks, not through this load balancer",
    });
    out.push_str(&format!(" (ingress {})", s.ingress.as_str()));
    out.push_str(if s.allow_unauthenticated {
        "; open to unauthenticated requests (allUsers may invoke)"
    } else {
        "; callers need the Cloud Run Invoker role (allUsers may not invoke)"
    });
    if !s.env.is_empty() {
        // The count only: a value may be a secret.
        out.push_str(&format!(
            "; {} set (values not shown)",
            count(
                s.env.len() as u64,
                "environment variable",
                "environment variables"
            )
        ));
    }
    let routed = spec
        .backends
        .iter()
        .any(|b| matches!(&b.kind, BackendKind::Serverless { service, .. } if *service == s.name));
    if !routed {
        out.push_str("; no backend routes traffic to it");
    }
    out.push('.');
    out
}

/// The spec as sentences, in the order a request meets them: frontend, rules, default, then
/// what each backend is, then the Cloud Run services the deployment deploys itself.
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
    out.extend(super::frontend_options::describe(&spec.frontend));
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
    out.extend(spec.backends.iter().map(|b| backend(b, spec)));
    out.extend(spec.services.iter().map(|s| service(s, spec)));
    out
}

/// A draft's frontend in one sentence (a draft may not have chosen everything yet).
pub fn draft_frontend(d: &Draft) -> String {
    let f = &d.frontend;
    let ip = match f.ip {
        IpKind::Static => "a reserved static IP address",
        IpKind::Ephemeral => "an ephemeral IP address",
    };
    match f.protocol {
        None => "Protocol not chosen yet.".to_string(),
        Some(Protocol::Http) => format!("Plain HTTP on port 80, on {ip}."),
        Some(Protocol::Https) => format!(
            "HTTPS on port 443 with {} for {}, on {ip}{}.",
            if f.certificate.is_managed() {
                "a Google-managed certificate"
            } else {
                "Certificate Manager certificates (authorised by DNS)"
            },
            if f.domains.is_empty() {
                "no domain yet".to_string()
            } else {
                f.domains.join(", ")
            },
            if f.http_redirect {
                "; port 80 redirects to HTTPS"
            } else {
                ""
            }
        ),
    }
}

/// A draft's routing, one sentence per rule.
pub fn draft_routing(d: &Draft) -> Vec<String> {
    let mut out = vec![match &d.routing.default {
        Some(t) => format!("Requests that match no rule go to {}.", target(t)),
        None => "No default backend chosen yet.".to_string(),
    }];
    for (i, r) in d.routing.rules.iter().enumerate() {
        let hosts = if r.hosts.iter().any(|h| h == "*") {
            "any host".to_string()
        } else {
            r.hosts.join(", ")
        };
        let mut s = format!(
            "Rule {}: {} on {} go to {}",
            i + 1,
            r.paths.join(", "),
            hosts,
            target(&r.target)
        );
        if let Some(p) = &r.prefix_rewrite {
            s.push_str(&format!(", the matched prefix rewritten to {p}"));
        }
        if let Some(h) = &r.host_rewrite {
            s.push_str(&format!(", with Host {h}"));
        }
        s.push('.');
        out.push(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::parse;

    #[test]
    fn a_backend_in_another_project_says_so() {
        let spec = parse::parse(include_str!(
            "../../tests/data/seeds/seed-002-cross-project.json"
        ))
        .unwrap();
        let words = describe(&spec);
        assert!(
            words.iter().any(|w| w.starts_with(
                "hello is the Cloud Run service hello in us-central1, in project my-run-project, whose backend service the URL map uses across projects"
            )),
            "{words:#?}"
        );
    }

    #[test]
    fn seed_002_in_words() {
        let spec = parse::parse(include_str!("../../tests/data/seeds/seed-002.json")).unwrap();
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
    fn edge_security_in_words() {
        let spec = parse::parse(include_str!("../../tests/data/specs/every-option.json")).unwrap();
        let words = describe(&spec);
        let of = |name: &str| {
            words
                .iter()
                .find(|w| w.starts_with(&format!("{name} is ")))
                .unwrap_or_else(|| panic!("{name}: {words:#?}"))
                .clone()
        };
        assert!(
            of("web").ends_with(
                "; filtered at Google's edge by the Cloud Armor edge policy every-edge; filtered \
                 by the Cloud Armor policy every-armor; behind Identity-Aware Proxy on the load \
                 balancer (only its path is guarded); 50% of requests logged."
            ),
            "{}",
            of("web")
        );
        assert!(
            of("static").contains(", with Cloud CDN caching and outlier detection; ")
                && of("static").contains("cache mode CACHE_ALL_STATIC; 10% of requests logged."),
            "{}",
            of("static")
        );
        assert!(of("portal").contains("Identity-Aware Proxy on the Cloud Run service"));
    }

    #[test]
    fn seed_001_and_splits_in_words() {
        let spec = parse::parse(include_str!("../../tests/data/seeds/seed-001.json")).unwrap();
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

    use crate::domain::tests::{services_seed, valid};

    #[test]
    fn seed_001_services_in_words() {
        let words = describe(&valid(&services_seed()));
        assert_eq!(
            words,
            [
                "Serves HTTPS on port 443 for app.example.com with a Google-managed certificate, \
                 on a reserved static IP address.",
                "Every request goes to my-app.",
                "my-app is the Cloud Run service my-app, deployed by this spec, in us-central1, \
                 europe-west1 and asia-east1 (requests go to the nearest region that is serving), \
                 with outlier detection.",
                "Switchyard deploys the Cloud Run service my-app (image \
                 us-docker.pkg.dev/cloudrun/container/hello) to us-central1, europe-west1 and \
                 asia-east1; 1 to 100 instances, each with 512Mi memory and 1 CPU, serving up to \
                 80 requests at a time; reachable through a load balancer or internal networks, \
                 not directly from the internet (ingress internal-and-cloud-load-balancing); open \
                 to unauthenticated requests (allUsers may invoke).",
            ]
        );
    }

    #[test]
    fn services_canary_env_and_existing_services_in_words() {
        let mut v = services_seed();
        v["services"][0]["image"] =
            serde_json::json!("europe-docker.pkg.dev/acme-prod/containers/my-app:v2");
        v["services"][0]["min_instances"] = serde_json::json!(2);
        v["services"][0]["max_instances"] = serde_json::json!(2);
        v["services"][0]["memory"] = serde_json::json!("1Gi");
        v["services"][0]["cpu"] = serde_json::json!("2000m");
        v["services"][0]["concurrency"] = serde_json::json!(1);
        v["services"][0]["env"] =
            serde_json::json!({"DB_PASSWORD": "hunter2-s3cret", "MODE": "prod-only-value"});
        v["services"][0]["ingress"] = serde_json::json!("all");
        v["services"][0]["allow_unauthenticated"] = serde_json::json!(false);
        v["services"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "name": "worker", "image": "us-docker.pkg.dev/cloudrun/container/job",
                "regions": ["europe-west1"], "ingress": "internal",
                "env": [{"name": "TOKEN", "value": "tok-very-secret"}]
            }));
        v["rollout"] = serde_json::json!({"canary_region": "europe-west1"});
        v["backends"].as_array_mut().unwrap().push(serde_json::json!({
            "name": "legacy", "type": "serverless", "service": "old-app", "regions": ["us-central1"]
        }));
        v["routing"]["rules"] = serde_json::json!([{"paths": ["/old/*"], "backend": "legacy"}]);
        let words = describe(&valid(&v));
        assert_eq!(
            words[3],
            "my-app is the Cloud Run service my-app, deployed by this spec, in us-central1, \
             europe-west1 and asia-east1 (requests go to the nearest region that is serving), \
             with outlier detection."
        );
        assert_eq!(
            words[4],
            "legacy is the Cloud Run service old-app, which must already exist in us-central1."
        );
        assert_eq!(
            words[5],
            "Switchyard deploys the Cloud Run service my-app (image \
             europe-docker.pkg.dev/acme-prod/containers/my-app:v2) to us-central1, europe-west1 \
             and asia-east1 (europe-west1 first as the canary, the other regions once it is \
             ready); always 2 instances, each with 1Gi memory and 2 CPUs, serving up to 1 \
             request at a time; also reachable directly at its run.app URL, bypassing the load \
             balancer (ingress all); callers need the Cloud Run Invoker role (allUsers may not \
             invoke); 2 environment variables set (values not shown)."
        );
        // One region: nothing to stage, so no canary; no backend uses it.
        assert_eq!(
            words[6],
            "Switchyard deploys the Cloud Run service worker (image \
             us-docker.pkg.dev/cloudrun/container/job) to europe-west1; 0 to 100 instances, each \
             with 512Mi memory and 1 CPU, serving up to 80 requests at a time; reachable only \
             from internal networks, not through this load balancer (ingress internal); open to \
             unauthenticated requests (allUsers may invoke); 1 environment variable set (values \
             not shown); no backend routes traffic to it."
        );
        assert_eq!(words.len(), 7);
        let all = words.join("\n");
        for secret in ["hunter2", "prod-only-value", "tok-very-secret"] {
            assert!(!all.contains(secret), "an env value leaked: {all}");
        }
        assert_eq!(all.matches("canary").count(), 1);
    }

    #[test]
    fn specs_without_services_read_as_before() {
        let words = |json: &str| describe(&parse::parse(json).unwrap());
        let seed = |n| match n {
            "000" => include_str!("../../tests/data/seeds/seed-000.json"),
            "001" => include_str!("../../tests/data/seeds/seed-001.json"),
            "002" => include_str!("../../tests/data/seeds/seed-002.json"),
            _ => include_str!("../../tests/data/seeds/seed-002-http.json"),
        };
        assert_eq!(
            words(seed("000")),
            [
                "Serves HTTPS on port 443 for your-domain.com with a Google-managed certificate, \
                 on a reserved static IP address.",
                "Every request goes to cloudrun.",
                "cloudrun is the Cloud Run service my-global-app in us-central1, with Cloud CDN \
                 caching.",
            ]
        );
        let seed_001 = [
            "Serves HTTPS on port 443 for app.example.com with a Google-managed certificate, on \
             a reserved static IP address.",
            "Every request goes to my-app.",
            "my-app is the Cloud Run service my-app in us-central1, europe-west1 and asia-east1 \
             (requests go to the nearest region that is serving), with outlier detection.",
        ];
        assert_eq!(words(seed("001")), seed_001);
        let mut without = services_seed();
        without.as_object_mut().unwrap().remove("services");
        assert_eq!(describe(&valid(&without)), seed_001);
        let endpoints = [
            "hello is the HTTPS endpoint hello-3qx7k2dz6a-uc.a.run.app:443, called with the Host \
             header hello-3qx7k2dz6a-uc.a.run.app.",
            "hello2 is the HTTPS endpoint hello2-3qx7k2dz6a-uc.a.run.app:443, called with the \
             Host header hello2-3qx7k2dz6a-uc.a.run.app.",
        ];
        let rule = "Requests for any host with path /hello2 or /hello2/* go to hello2, with the \
                    matched path prefix rewritten to /.";
        assert_eq!(
            words(seed("002")),
            [
                "Serves HTTPS on port 443 for hello.example.com with a Google-managed \
                 certificate, on a reserved static IP address.",
                "Port 80 answers every request with a redirect to the same URL over HTTPS.",
                rule,
                "Everything else goes to hello.",
                endpoints[0],
                endpoints[1],
            ]
        );
        assert_eq!(
            words(seed("002-http")),
            [
                "Serves plain HTTP on port 80 (no certificate), on a reserved static IP address.",
                rule,
                "Everything else goes to hello.",
                endpoints[0],
                endpoints[1],
            ]
        );
    }

    #[test]
    fn a_draft_in_words() {
        let d = Draft::from_json(include_str!("../../tests/data/seeds/seed-002.json")).unwrap();
        assert_eq!(
            draft_frontend(&d),
            "HTTPS on port 443 with a Google-managed certificate for hello.example.com, on a reserved static IP address; port 80 redirects to HTTPS."
        );
        assert_eq!(
            draft_routing(&d),
            [
                "Requests that match no rule go to hello.",
                "Rule 1: /hello2, /hello2/* on any host go to hello2, the matched prefix rewritten to /."
            ]
        );
    }
}
