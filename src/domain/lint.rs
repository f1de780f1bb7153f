//! Lint: specs that are valid (Google would accept them) but probably not what the author wants.
//! Each warning says what is wrong, why it matters and how to fix it, so the wizard can show it
//! next to the field. Several come straight from the mistakes in the walkthroughs we learnt from:
//! health checks and `--max-rate` weighting on serverless NEGs (seed 001), the 404 from a
//! `*.run.app` internet backend without a Host override (seed 002), DNS for managed certificates
//! (seed 000).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::plan;
use super::preview::{sample_host, sample_paths};
use super::spec::{BackendKind, EnvSource, Ingress, IpKind, Protocol, Spec, Target};
use super::urlmap::{self, Outcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Probably a mistake: traffic will not behave as the spec suggests.
    Warning,
    /// Worth knowing; nothing is wrong.
    Info,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Stable identifier (`single-region`), for documentation links and tests.
    pub code: &'static str,
    pub level: Level,
    /// Spec field the warning is about (`backends[0].regions`).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// Why it matters.
    pub why: String,
    /// What to do about it.
    pub fix: String,
}

struct Out(Vec<Warning>);

impl Out {
    fn push(
        &mut self,
        code: &'static str,
        level: Level,
        field: impl Into<String>,
        message: impl Into<String>,
        why: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.0.push(Warning {
            code,
            level,
            field: field.into(),
            message: message.into(),
            why: why.into(),
            fix: fix.into(),
        });
    }
}

/// Rejected by the API for serverless NEGs, quoted so that a reader coming from a walkthrough
/// that uses them recognises the error (docs/google-cloud.md §4).
pub const SERVERLESS_LIMITS: &str = "Serverless NEG backends take no health checks: the API rejects one on the backend service (\"A backend service cannot have a healthcheck with Serverless network endpoint group backends\"), and it rejects balancing mode RATE, --max-rate and max utilization for serverless NEGs, so regions cannot be weighted that way either. The load balancer sends each client to the closest region; traffic splitting is done with weighted backend services in the URL map (a `split` target here).";

/// A Cloud Run service the panel has listed (in any project), with the hosts Cloud Run gave it:
/// what tells a `*.run.app` internet backend's service and project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownService {
    pub project: String,
    pub name: String,
    pub region: String,
    /// The `run.app` hosts of its `uri` and `urls`, without scheme.
    pub hosts: Vec<String>,
}

/// All warnings for a spec, in document order. Meant for specs that validate; on an invalid spec
/// it still runs but may say less.
pub fn lint(spec: &Spec) -> Vec<Warning> {
    lint_knowing(spec, &[])
}

/// [`lint`], knowing the Cloud Run services the panel listed: a `*.run.app` internet backend
/// whose service is among them (or among the spec's `services`) is told it can be reached by
/// cross-project service referencing instead.
pub fn lint_knowing(spec: &Spec, known: &[KnownService]) -> Vec<Warning> {
    let mut out = Out(Vec::new());
    frontend(&mut out, spec);
    backends(&mut out, spec);
    run_app_services(&mut out, spec, known);
    services(&mut out, spec);
    out.0.extend(super::edge_lint::lint(spec));
    routing(&mut out, spec);
    out.0.extend(super::frontend_options::lints(spec));
    out.0
}

fn frontend(out: &mut Out, spec: &Spec) {
    let f = &spec.frontend;
    match f.protocol {
        Protocol::Http => {
            out.push(
                "http-unencrypted",
                Level::Warning,
                "frontend.protocol",
                "The load balancer answers plain HTTP only.",
                "Requests and responses, cookies and credentials included, cross the internet unencrypted and can be read or changed on the way.",
                "On the Frontend step, choose HTTPS and list your domains (a Google-managed certificate is free), and tick “Redirect HTTP to HTTPS” to send port-80 visitors to https.",
            );
            if !f.domains.is_empty() {
                out.push(
                    "http-domains-unused",
                    Level::Warning,
                    "frontend.domains",
                    "Domains are listed but the frontend is plain HTTP.",
                    "Domains only feed the managed certificate of an HTTPS frontend; with HTTP they are ignored and no certificate is made.",
                    "On the Frontend step, choose HTTPS, or remove the domains (to route by host, use a rule’s Hosts on the Routing step).",
                );
            }
        }
        Protocol::Https => {
            if !f.domains.is_empty() {
                out.push(
                    "managed-cert-dns",
                    Level::Info,
                    "frontend.domains",
                    format!(
                        "Point the DNS A record of {} at the load balancer's IP address.",
                        f.domains.join(", ")
                    ),
                    "Google only issues the managed certificate once each domain resolves to the load balancer; until then the domain shows FAILED_NOT_VISIBLE and browsers get TLS errors. Provisioning can take from minutes to about an hour after DNS is right.",
                    "After apply, create an A record per domain with the reserved address, and keep any CAA record allowing pki.goog.",
                );
            }
            if f.ip == IpKind::Ephemeral {
                out.push(
                    "ephemeral-ip-dns",
                    Level::Warning,
                    "frontend.ip",
                    "The load balancer's address is ephemeral but domains point at it.",
                    "An ephemeral address is released when the forwarding rule is replaced or deleted; the domains' DNS records then point at nothing (or someone else), and the certificate cannot renew.",
                    "On the Frontend step, set IP address to static to reserve a global address that survives changes.",
                );
                if f.http_redirect {
                    out.push(
                        "redirect-ephemeral-ip",
                        Level::Warning,
                        "frontend.http_redirect",
                        "The port-80 redirect and the https listener get different ephemeral addresses.",
                        "Each forwarding rule without a reserved address gets its own IP, so a domain's A record can point at only one of them: either https or the redirect will not be reached.",
                        "On the Frontend step, set IP address to static so both forwarding rules share one address.",
                    );
                }
            }
            if !f.http_redirect {
                out.push(
                    "no-http-redirect",
                    Level::Info,
                    "frontend.http_redirect",
                    "Nothing answers on port 80.",
                    "Visitors who type the domain without https:// get a connection error instead of the site.",
                    "On the Frontend step, tick “Redirect HTTP to HTTPS” to answer port 80 with a 301 to https.",
                );
            }
        }
    }
}

/// Each place (default or rule) that sends to a backend, as whether it is part of a split with
/// more than one entry.
type Uses<'a> = HashMap<&'a str, Vec<bool>>;

fn uses<'a>(spec: &'a Spec) -> Uses<'a> {
    let mut m: Uses<'a> = HashMap::new();
    let mut add = |t: &'a Target| {
        let split = matches!(t, Target::Split { split } if split.len() > 1);
        for (b, _) in t.weighted() {
            m.entry(b).or_default().push(split);
        }
    };
    add(&spec.routing.default);
    for r in &spec.routing.rules {
        add(&r.target);
    }
    m
}

/// Whether `host` is one Cloud Run gives service `name`: `NAME-HASH-CODE.a.run.app` or
/// `NAME-PROJECTNUMBER.REGION.run.app` (docs/google-cloud.md §1).
fn is_run_app_host_of(host: &str, name: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let Some(rest) = host.strip_prefix(name).and_then(|r| r.strip_prefix('-')) else {
        return false;
    };
    let labels: Vec<&str> = rest.split('.').collect();
    match labels.as_slice() {
        [first, "a", "run", "app"] => matches!(
            first.split('-').collect::<Vec<_>>().as_slice(),
            [hash, code] if hash.len() == 10
                && hash.bytes().all(|b| b.is_ascii_alphanumeric())
                && code.len() == 2
                && code.bytes().all(|b| b.is_ascii_lowercase())
        ),
        [number, region, "run", "app"] => {
            !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit())
                && crate::domain::validate::CLOUD_RUN_REGIONS.contains(region)
        }
        _ => false,
    }
}

/// An internet backend to a `*.run.app` host of a service the panel knows: inside one
/// organization Google recommends cross-project service referencing over the 2021 internet-NEG
/// pattern (API-NOTES §16.5): a serverless NEG in the service's project, no Host override.
fn run_app_services(out: &mut Out, spec: &Spec, known: &[KnownService]) {
    for (i, b) in spec.backends.iter().enumerate() {
        let BackendKind::Internet {
            fqdn: Some(fqdn), ..
        } = &b.kind
        else {
            continue;
        };
        let host = fqdn.trim_end_matches('.').to_ascii_lowercase();
        if !host.ends_with(".run.app") {
            continue;
        }
        let found = known
            .iter()
            .find(|k| k.hosts.iter().any(|h| h.trim_end_matches('.') == host))
            .map(|k| (k.name.clone(), k.project.clone(), Some(k.region.clone())))
            .or_else(|| {
                spec.services
                    .iter()
                    .find(|s| is_run_app_host_of(&host, &s.name))
                    .map(|s| {
                        (
                            s.name.clone(),
                            spec.service_project(&s.name).to_string(),
                            s.regions.first().cloned(),
                        )
                    })
            });
        let Some((service, project, region)) = found else {
            continue;
        };
        let region = region.unwrap_or_else(|| "REGION".into());
        let (message, fix) = if project == spec.project {
            (
                format!(
                    "Backend `{}` reaches Cloud Run service `{service}` of this project over the internet.",
                    b.name
                ),
                format!(
                    "Make it a serverless backend: {{\"type\": \"serverless\", \"service\": \"{service}\", \"regions\": [\"{region}\"]}} (and drop fqdn, port and host_header)."
                ),
            )
        } else {
            (
                format!(
                    "Backend `{}` reaches Cloud Run service `{service}` of project {project} over the internet.",
                    b.name
                ),
                format!(
                    "If {project} is in this project's organization, make it a serverless backend in that project: {{\"type\": \"serverless\", \"service\": \"{service}\", \"regions\": [\"{region}\"], \"project\": \"{project}\"}} (and drop fqdn, port and host_header); the panel then needs roles/compute.loadBalancerServiceUser on {project}."
                ),
            )
        };
        out.push(
            "run-app-cross-project",
            Level::Info,
            format!("backends[{i}].fqdn"),
            message,
            "An internet NEG to a run.app host sends traffic over the public internet, needs the service's ingress open to all and a Host override, and has no failover signal. Cross-project service referencing (GA 2024) puts a serverless NEG and backend service next to the service, which this load balancer's URL map then uses: internal traffic, ingress limited to load balancers, outlier detection. The internet NEG stays right for a service in another organization.",
            fix,
        );
    }
}

fn backends(out: &mut Out, spec: &Spec) {
    let uses = uses(spec);
    for (i, b) in spec.backends.iter().enumerate() {
        let base = format!("backends[{i}]");
        let used = uses.get(b.name.as_str()).cloned().unwrap_or_default();
        if used.is_empty() {
            out.push(
                "unused-backend",
                Level::Warning,
                format!("{base}.name"),
                format!("Backend `{}` receives no traffic: neither the default nor any rule names it.", b.name),
                "It is still created (NEGs and a backend service) and costs a place in quotas, but no request reaches it.",
                "On the Routing step, send the default or a rule to it, or remove it on the Backends step.",
            );
        }
        if b.cdn && used.iter().any(|split| *split) {
            out.push(
                "cdn-with-split",
                Level::Warning,
                format!("{base}.cdn"),
                format!("Backend `{}` has Cloud CDN on and is part of a weighted split.", b.name),
                "Cached responses are served from the edge without consulting the split: only cache misses follow the weights, so the actual share of each backend differs from the configured one (a canary may see almost nothing, or serve cached pages to everyone).",
                "Untick “Cloud CDN” on the backends of a split while the split is in use, or send cacheable paths to one backend with a rule on the Routing step.",
            );
        }
        match &b.kind {
            BackendKind::Serverless { service, regions } => {
                if !b.outlier_detection {
                    out.push(
                        "serverless-no-outlier-detection",
                        Level::Warning,
                        format!("{base}.outlier_detection"),
                        format!("Backend `{}` has no failover signal.", b.name),
                        format!("{SERVERLESS_LIMITS} Without outlier detection the load balancer keeps sending a region's share of requests to it even when its service returns only errors."),
                        if regions.len() > 1 {
                            "Tick “Outlier detection” on this backend (Backends step): the load balancer then ejects a region's NEG after consecutive 5xx errors and sends its clients to the next closest region.".to_string()
                        } else {
                            "Add a second region to this backend's Regions and tick “Outlier detection” (Backends step): the load balancer then ejects a failing region's NEG after consecutive 5xx errors and sends its clients to the other region.".to_string()
                        },
                    );
                } else if regions.len() > 1 {
                    out.push(
                        "serverless-regions-by-proximity",
                        Level::Info,
                        format!("{base}.regions"),
                        format!("Requests to `{}` go to the closest of its {} regions, not by weight.", b.name, regions.len()),
                        SERVERLESS_LIMITS,
                        "To send fixed shares to regions, make one backend per region and route with a weighted split on the Routing step; to fail over, keep “Outlier detection” ticked (it is).",
                    );
                }
                if regions.len() == 1 {
                    out.push(
                        "single-region",
                        Level::Warning,
                        format!("{base}.regions"),
                        format!("Backend `{}` runs in one region only ({}).", b.name, regions[0]),
                        "If that region or the service there fails, there is no other region to fail over to: the load balancer's global reach does not add availability by itself.",
                        format!("Deploy Cloud Run service `{service}` to a second region and add it to this backend's Regions on the Backends step (with “Outlier detection” ticked)."),
                    );
                }
            }
            BackendKind::Internet {
                fqdn,
                port,
                host_header,
                ..
            } => {
                // The Cloud Run checks below are about a named origin; an IP or another
                // deployment has no run.app name to compare.
                let fqdn = fqdn.as_deref().unwrap_or_default();
                if b.outlier_detection {
                    out.push(
                        "internet-neg-outlier-detection",
                        Level::Warning,
                        format!("{base}.outlier_detection"),
                        format!("Backend `{}` is an internet NEG and asks for outlier detection.", b.name),
                        "The API does not support outlier detection for backend services with internet NEGs, so Switchyard leaves it out of the backend service (and of the gcloud commands).",
                        "Set outlier_detection: false on this backend.",
                    );
                }
                let run_app = fqdn.trim_end_matches('.').ends_with(".run.app");
                match host_header {
                    None if run_app && !used.is_empty() => out.push(
                        "run-app-no-host-header",
                        Level::Warning,
                        format!("{base}.host_header"),
                        format!("Requests to `{}` will get 404 from Cloud Run.", b.name),
                        "Cloud Run picks the service by the Host header. Without an override the load balancer forwards the client's Host (your domain or the load balancer's IP), which no Cloud Run service answers to.",
                        format!("Set host_header to \"{fqdn}\"."),
                    ),
                    Some(h) if run_app && h.trim_end_matches('.') != fqdn.trim_end_matches('.') => {
                        let (message, why) = if h.ends_with(".run.app") {
                            (
                                format!("Backend `{}` connects to {fqdn} but asks for {h}.", b.name),
                                "All *.run.app names share Google's front end, which routes by Host: requests reach the service named in the Host header, not the one in fqdn. It works, but the spec says one service and traffic goes to another.".to_string(),
                            )
                        } else {
                            (
                                format!("The Host override of `{}` is not its Cloud Run address.", b.name),
                                format!("Cloud Run routes by Host; {h} only works if it is a domain mapped to that service, otherwise every request gets 404."),
                            )
                        };
                        out.push(
                            "host-header-mismatch",
                            Level::Warning,
                            format!("{base}.host_header"),
                            message,
                            why,
                            format!("Set host_header to \"{fqdn}\" (the service's own host)."),
                        );
                    }
                    _ => {}
                }
                if *port == 80 {
                    out.push(
                        "internet-port-80",
                        Level::Warning,
                        format!("{base}.port"),
                        format!("Backend `{}` is reached on port 80, which usually serves plain HTTP.", b.name),
                        "The load balancer speaks HTTPS to internet backends, so a plain-HTTP port fails the TLS handshake (502s); and a backend reached over plain HTTP would carry traffic across the public internet unencrypted.",
                        "Use port 443 (or the port where the origin serves HTTPS).",
                    );
                } else if *port != 443 {
                    out.push(
                        "internet-port-not-443",
                        Level::Info,
                        format!("{base}.port"),
                        format!("Backend `{}` is reached on port {port}.", b.name),
                        "The load balancer connects with HTTPS; the origin must serve TLS on that port, or every request fails.",
                        "Check that the origin answers HTTPS on this port; use 443 otherwise.",
                    );
                }
            }
        }
    }
}

/// Service health (API-NOTES §18.3): Cloud Run reports each region's readiness to the load
/// balancer through the serverless NEGs, which moves traffic away from a region whose instances
/// fail their readiness probes, if it has a minimum instance and somewhere else to send it.
fn service_health(out: &mut Out, base: &str, s: &super::spec::Service, behind_neg: &[&str]) {
    let Some(probe) = &s.readiness_probe else {
        return;
    };
    if behind_neg.is_empty() {
        return;
    }
    if s.regions.len() < 2 {
        out.push(
            "service-health-one-region",
            Level::Warning,
            format!("{base}.regions"),
            format!("Service `{}` has a readiness probe but runs in one region.", s.name),
            "Failover needs the service in two regions or more: when the only region fails its readiness probes, the load balancer has nowhere healthy to send requests and answers \"no healthy upstream\".",
            "Add a second region to the service (and to its serverless backend).",
        );
    } else if s.min_instances == 0 {
        out.push(
            "service-health-min-instances",
            Level::Warning,
            format!("{base}.min_instances"),
            format!("Service `{}` has a readiness probe but may scale to zero.", s.name),
            "Cloud Run computes a region's health from the readiness of its instances, so service health needs at least one minimum instance in every region; a region without instances gives the load balancer no health to act on.",
            "On the Services step, set Min instances to 1 or more.",
        );
    } else {
        let first = &s.regions[0];
        let rest = s.regions[1..].join(", ");
        out.push(
            "service-health-failover",
            Level::Info,
            format!("{base}.readiness_probe"),
            format!(
                "If {first} fails its readiness probes, its traffic moves to the next closest healthy region ({rest}), and back gradually once it recovers."
            ),
            format!(
                "Cloud Run asks each instance GET {} every {} s; an instance that fails {} times in a row is not ready, and a region is healthy while at least 60% of its instances are ready. The load balancer reads that through the serverless NEGs of backend `{}`: no health check is involved (serverless backends take none).",
                probe.path,
                probe.period(),
                probe.failures(),
                behind_neg.join("`, `")
            ),
            "Nothing to change: keep at least one minimum instance in each region.",
        );
    }
}

fn services(out: &mut Out, spec: &Spec) {
    for (i, s) in spec.services.iter().enumerate() {
        let base = format!("services[{i}]");
        let behind_neg: Vec<&str> = spec
            .backends
            .iter()
            .filter(|b| matches!(&b.kind, BackendKind::Serverless { service, .. } if *service == s.name))
            .map(|b| b.name.as_str())
            .collect();
        // Cloud Run's URLs begin with the service id (`{id}-{hash}-{code}.a.run.app` or
        // `{id}-{number}.{region}.run.app`), which is how an internet backend is tied to it.
        let via_internet: Vec<&str> = spec
            .backends
            .iter()
            .filter(|b| match &b.kind {
                BackendKind::Internet {
                    fqdn: Some(fqdn), ..
                } => {
                    let fqdn = fqdn.trim_end_matches('.');
                    fqdn.ends_with(".run.app") && fqdn.starts_with(&format!("{}-", s.name))
                }
                _ => false,
            })
            .map(|b| b.name.as_str())
            .collect();
        if s.min_instances == 0 {
            out.push(
                "min-instances-zero",
                Level::Warning,
                format!("{base}.min_instances"),
                format!("Service `{}` scales to zero when idle.", s.name),
                "The first request after a quiet period waits for a cold start (often seconds). A region with no instances also gives the load balancer no failover signal: outlier detection only sees errors from requests that are actually sent, so a broken region is discovered by users.",
                "On the Services step, set Min instances to 1 (or more) to keep an instance warm in every region; it is billed while idle.",
            );
        }
        if s.regions.len() < 2 {
            out.push(
                "service-single-region",
                Level::Warning,
                format!("{base}.regions"),
                format!("Service `{}` is deployed to {} region{}.", s.name, s.regions.len(), if s.regions.len() == 1 { "" } else { "s" }),
                "With one region there is nothing to fail over to when that region or the revision there fails.",
                "Add a second region to the service's Regions on the Services step (and to the serverless backend's Regions, with “Outlier detection” ticked).",
            );
        }
        service_health(out, &base, s, &behind_neg);
        // With Cloud Armor or IAP in front, `edge_lint` says it more strongly.
        if super::edge_lint::open_on_run_app(s)
            && !behind_neg.is_empty()
            && !super::edge_lint::bypassed(spec).contains(&s.name.as_str())
        {
            out.push(
                "ingress-all-behind-neg",
                Level::Warning,
                format!("{base}.ingress"),
                format!("Service `{}` accepts traffic from anywhere, although it is reached through the load balancer (backend `{}`).", s.name, behind_neg.join("`, `")),
                "Its run.app URL stays open to the internet, so clients can bypass the load balancer and everything it adds (HTTPS on your domain, Cloud Armor, CDN, routing rules).",
                "On the Services step, set Ingress to “Internal and Cloud Load Balancing”: the serverless NEG still reaches the service, the run.app URL does not. `default_url: false` also turns the run.app URL off.",
            );
        }
        for (j, e) in s.env.iter().enumerate() {
            if matches!(e.source(), EnvSource::Value(_)) && looks_secret(&e.name) {
                out.push(
                    "plain-secret-env",
                    Level::Warning,
                    format!("{base}.env[{j}].value"),
                    format!("`{}` of service `{}` looks like a secret but is a plain value in the spec.", e.name, s.name),
                    "A plain value is stored in every version of the spec, in the panel's database and in the Cloud Run service itself, where anyone with run.services.get on the project reads it; editors here see it too. Secret Manager keeps it out of all of those, with its own access control, audit log and versions.",
                    format!("Store it in Secret Manager (`gcloud secrets create {} --data-file=-`), grant the service's runtime service account roles/secretmanager.secretAccessor on it, and reference it: {{\"name\": \"{}\", \"secret\": \"{}\", \"version\": \"latest\"}} (the wizard's Secrets box: {}={}:latest).", secret_id_for(&e.name), e.name, secret_id_for(&e.name), e.name, secret_id_for(&e.name)),
                );
            }
        }
        if s.ingress != Ingress::All && !via_internet.is_empty() {
            out.push(
                "internet-neg-needs-ingress-all",
                Level::Warning,
                format!("{base}.ingress"),
                format!("Backend `{}` reaches service `{}` through its run.app URL, but the service's ingress is `{}`.", via_internet.join("`, `"), s.name, s.ingress.as_str()),
                "An internet NEG connects to the public run.app address like any client; Cloud Run does not recognise that traffic as coming from a load balancer, so anything but ingress `all` answers it with 404/403.",
                "On the Services step, set Ingress to “all”, or use a serverless backend for this service instead of an internet one.",
            );
        }
    }
}

/// Names people give credentials: `*_KEY`, `*_TOKEN`, `*_SECRET`, anything with `PASSWORD`.
fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    n.ends_with("_KEY") || n.ends_with("_TOKEN") || n.ends_with("_SECRET") || n.contains("PASSWORD")
}

/// A Secret Manager id to suggest for a variable: its name, lowercased, in the id's alphabet.
fn secret_id_for(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

fn routing(out: &mut Out, spec: &Spec) {
    let splits = std::iter::once(("routing.default".to_string(), &spec.routing.default)).chain(
        spec.routing
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("routing.rules[{i}]"), &r.target)),
    );
    for (base, target) in splits {
        if let Target::Split { split } = target {
            for (i, w) in split.iter().enumerate() {
                if w.weight == 0 {
                    out.push(
                        "zero-weight",
                        Level::Info,
                        format!("{base}.split[{i}].weight"),
                        format!("Backend `{}` has weight 0 in this split.", w.backend),
                        "It receives no requests from this route.",
                        "Raise its weight in the split on the Routing step when it should take traffic, or remove the entry.",
                    );
                }
            }
        }
    }

    // Paths per host set, as `plan::url_map` groups them.
    let mut by_set: HashMap<Vec<String>, HashSet<&str>> = HashMap::new();
    let set_of = |hosts: &[String]| {
        let mut h: Vec<String> = hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
        h.sort();
        h.dedup();
        h
    };
    for r in &spec.routing.rules {
        by_set
            .entry(set_of(&r.hosts))
            .or_default()
            .extend(r.paths.iter().map(String::as_str));
    }

    let map = plan::url_map(spec, &|b| b.to_string());
    for (i, rule) in spec.routing.rules.iter().enumerate() {
        let base = format!("routing.rules[{i}]");
        if spec.frontend.protocol == Protocol::Https && !spec.frontend.domains.is_empty() {
            for (j, h) in rule.hosts.iter().enumerate() {
                if h != "*" && !covered_by_certificate(h, &spec.frontend.domains) {
                    out.push(
                        "host-not-in-certificate",
                        Level::Warning,
                        format!("{base}.hosts[{j}]"),
                        format!("No certificate domain matches host `{h}`."),
                        "The managed certificate only covers the Frontend step's Domains; browsers reaching this host over https get a certificate error before the rule is ever used.",
                        format!("Add the host name(s) served by `{h}` to Domains on the Frontend step."),
                    );
                }
            }
        }
        let paths = &by_set[&set_of(&rule.hosts)];
        for (j, p) in rule.paths.iter().enumerate() {
            if p == "/" || p == "/*" {
                continue;
            }
            match p.strip_suffix("/*") {
                Some(bare) if !paths.contains(bare) => out.push(
                    "path-missing-bare",
                    Level::Warning,
                    format!("{base}.paths[{j}]"),
                    format!("`{p}` does not match `{bare}` itself."),
                    format!("A `/*` pattern matches what is below the slash; a request for exactly {bare} goes to the default target instead."),
                    format!("Add \"{bare}\" to the rule's Paths on the Routing step if it should reach the same backend."),
                ),
                None if !p.ends_with('/') && !paths.contains(format!("{p}/*").as_str()) => out.push(
                    "path-missing-subtree",
                    Level::Warning,
                    format!("{base}.paths[{j}]"),
                    format!("`{p}` matches only {p} exactly, not {p}/..."),
                    format!("Path rules without `*` are exact: {p}/anything goes to the default target."),
                    format!("Add \"{p}/*\" to the rule's Paths on the Routing step if sub-paths should reach the same backend."),
                ),
                _ => {}
            }
        }
        if let Some(rewrite) = &rule.prefix_rewrite {
            rewrite_examples(out, spec, &map, &base, rule, rewrite);
        }
    }
}

/// Whether some certificate domain is a host this pattern matches (port ignored).
fn covered_by_certificate(pattern: &str, domains: &[String]) -> bool {
    let p = pattern.to_ascii_lowercase();
    let p = p.rsplit_once(':').map_or(p.as_str(), |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            p.as_str()
        }
    });
    domains.iter().any(|d| {
        let d = d.trim_end_matches('.').to_ascii_lowercase();
        match p.strip_prefix('*') {
            Some(suffix) => d.len() > suffix.len() && d.ends_with(suffix),
            None => d == p,
        }
    })
}

/// Shows what the prefix rewrite does to sample requests, evaluated through the URL map, and
/// warns when it glues path segments together (`/x/*` rewritten to `/v2` turns `/x/a` into
/// `/v2a`).
fn rewrite_examples(
    out: &mut Out,
    spec: &Spec,
    map: &urlmap::UrlMap,
    base: &str,
    rule: &super::spec::Rule,
    rewrite: &str,
) {
    let host = sample_host(rule.hosts.first().map_or("*", String::as_str), spec);
    let mut examples = Vec::new();
    let mut glued = None;
    for p in &rule.paths {
        for sample in sample_paths(p) {
            if let Outcome::Route { path, .. } = urlmap::evaluate(map, &host, &sample) {
                let line = format!("{sample} → {path}");
                if !examples.contains(&line) {
                    examples.push(line);
                }
                if p.ends_with("/*") && !rewrite.ends_with('/') && sample.len() > p.len() - 1 {
                    glued.get_or_insert((p.clone(), sample, path));
                }
            }
        }
    }
    out.push(
        "prefix-rewrite-example",
        Level::Info,
        format!("{base}.prefix_rewrite"),
        format!("With prefix rewrite \"{rewrite}\": {}.", examples.join(", ")),
        "The matched part of the path is replaced: all of it for an exact path, everything up to and including the slash for a `/*` path.",
        "Check that the backend serves the rewritten paths.",
    );
    if let Some((pattern, sample, path)) = glued {
        out.push(
            "prefix-rewrite-glues",
            Level::Warning,
            format!("{base}.prefix_rewrite"),
            format!("Prefix rewrite \"{rewrite}\" turns {sample} into {path}."),
            format!("For `{pattern}` the matched part includes the trailing slash, so a rewrite without one joins the next segment to it."),
            format!("End the rule's Prefix rewrite with a slash (\"{rewrite}/\") on the Routing step."),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn spec(v: Value) -> Spec {
        serde_json::from_value(v).unwrap()
    }

    fn base() -> Value {
        json!({
            "name": "shop", "project": "acme-edge",
            "frontend": {"protocol": "https", "domains": ["shop.example.com"], "http_redirect": true},
            "backends": [
                {"name": "web", "type": "serverless", "service": "my-app", "regions": ["us-central1", "europe-west1"], "outlier_detection": true},
                {"name": "hello2", "type": "internet", "fqdn": "hello2-3qx7k2dz6a-uc.a.run.app", "host_header": "hello2-3qx7k2dz6a-uc.a.run.app"}
            ],
            "routing": {
                "default": {"backend": "web"},
                "rules": [{"hosts": ["*"], "paths": ["/hello2", "/hello2/*"], "backend": "hello2", "prefix_rewrite": "/"}]
            }
        })
    }

    fn codes(f: impl FnOnce(&mut Value)) -> Vec<(&'static str, String)> {
        let mut v = base();
        f(&mut v);
        lint(&spec(v))
            .into_iter()
            .filter(|w| {
                // These two fire on the base spec by design; tests look at the rest.
                !matches!(
                    w.code,
                    "managed-cert-dns"
                        | "prefix-rewrite-example"
                        | "serverless-regions-by-proximity"
                )
            })
            .map(|w| (w.code, w.field))
            .collect()
    }

    fn has(f: impl FnOnce(&mut Value), code: &str, field: &str) {
        let got = codes(f);
        assert!(
            got.iter().any(|(c, fl)| *c == code && fl == field),
            "expected {code} on {field}, got {got:?}"
        );
    }

    /// The base spec plus service `my-app` (warm, two regions, closed ingress), changed by `f`.
    fn service_codes(f: impl FnOnce(&mut Value)) -> Vec<(&'static str, String)> {
        codes(|v| {
            v["services"] = json!([{"name": "my-app", "image": "us-docker.pkg.dev/p/r/app:v1",
                "regions": ["us-central1", "europe-west1"], "min_instances": 1}]);
            f(v)
        })
    }

    #[test]
    fn service_health_preconditions_and_failover_in_words() {
        let probe = |v: &mut Value| {
            v["services"][0]["readiness_probe"] = json!({ "path": "/ready" });
        };
        let got = service_codes(probe);
        assert!(
            got.contains(&(
                "service-health-failover",
                "services[0].readiness_probe".into()
            )),
            "{got:?}"
        );
        let mut v = base();
        probe_spec(&mut v);
        let info = lint(&spec(v))
            .into_iter()
            .find(|w| w.code == "service-health-failover")
            .unwrap();
        assert_eq!(
            info.message,
            "If us-central1 fails its readiness probes, its traffic moves to the next closest healthy region (europe-west1), and back gradually once it recovers."
        );
        let got = service_codes(|v| {
            probe(v);
            v["services"][0]["min_instances"] = json!(0);
        });
        assert!(
            got.contains(&(
                "service-health-min-instances",
                "services[0].min_instances".into()
            )),
            "{got:?}"
        );
        let got = service_codes(|v| {
            probe(v);
            v["services"][0]["regions"] = json!(["us-central1"]);
        });
        assert!(
            got.contains(&("service-health-one-region", "services[0].regions".into())),
            "{got:?}"
        );
    }

    fn probe_spec(v: &mut Value) {
        v["services"] = json!([{"name": "my-app", "image": "us-docker.pkg.dev/p/r/app:v1",
            "regions": ["us-central1", "europe-west1"], "min_instances": 1,
            "readiness_probe": { "path": "/ready" }}]);
    }

    #[test]
    fn service_warnings() {
        assert_eq!(service_codes(|_| {}), vec![]);
        let one = |f: fn(&mut Value), code: &'static str, field: &str| {
            let got = service_codes(f);
            assert!(
                got.iter().any(|(c, fl)| *c == code && fl == field),
                "expected {code} on {field}, got {got:?}"
            );
        };
        one(
            |v| v["services"][0]["min_instances"] = json!(0),
            "min-instances-zero",
            "services[0].min_instances",
        );
        one(
            |v| v["services"][0]["regions"] = json!(["us-central1"]),
            "service-single-region",
            "services[0].regions",
        );
        one(
            |v| v["services"][0]["ingress"] = json!("all"),
            "ingress-all-behind-neg",
            "services[0].ingress",
        );
        // hello2's fqdn is a run.app URL of a service named hello2.
        one(
            |v| {
                v["services"][0]["name"] = json!("hello2");
                v["services"][0]["ingress"] = json!("internal")
            },
            "internet-neg-needs-ingress-all",
            "services[0].ingress",
        );
        for name in [
            "STRIPE_API_KEY",
            "GITHUB_TOKEN",
            "DB_PASSWORD",
            "PasswordHash",
            "APP_SECRET",
        ] {
            let got = service_codes(|v| {
                v["services"][0]["env"] = json!([{"name": "MODE", "value": "prod"},
                    {"name": name, "value": "s3cr3t"}])
            });
            assert_eq!(
                got,
                vec![("plain-secret-env", "services[0].env[1].value".to_string())],
                "{name}"
            );
        }
        // The warning names the variable, never its value, and says what to write instead.
        let spec = spec({
            let mut v = base();
            v["services"] = json!([{"name": "my-app", "image": "us-docker.pkg.dev/p/r/app:v1",
                "regions": ["us-central1", "europe-west1"], "min_instances": 1,
                "env": {"DB_PASSWORD": "s3cr3t"}}]);
            v
        });
        let w = lint(&spec)
            .into_iter()
            .find(|w| w.code == "plain-secret-env")
            .unwrap();
        assert!(w.message.contains("`DB_PASSWORD`"), "{}", w.message);
        assert!(w.fix.contains("\"secret\": \"db-password\""), "{}", w.fix);
        assert!(!format!("{w:?}").contains("s3cr3t"));
        // A Secret Manager reference, or a name that is no secret, is quiet.
        for env in [
            json!([{"name": "DB_PASSWORD", "secret": "db-password", "version": "latest"}]),
            json!({"KEYBOARD": "us", "TOKENS_PER_MINUTE": "60", "MODE": "prod"}),
        ] {
            let got = service_codes(|v| v["services"][0]["env"] = env);
            assert!(got.is_empty(), "{got:?}");
        }
        // Ingress `all` for a service reached only through an internet NEG is what it needs.
        let got = service_codes(|v| {
            v["services"][0]["name"] = json!("hello2");
            v["services"][0]["ingress"] = json!("all")
        });
        assert!(!got.iter().any(|(c, _)| c.contains("ingress")), "{got:?}");
    }

    #[test]
    fn base_spec_is_quiet() {
        assert_eq!(codes(|_| {}), vec![]);
    }

    #[test]
    fn serverless_without_outlier_detection_explains_health_checks_and_max_rate() {
        let mut v = base();
        v["backends"][0]["outlier_detection"] = json!(false);
        let w = lint(&spec(v))
            .into_iter()
            .find(|w| w.code == "serverless-no-outlier-detection")
            .unwrap();
        assert_eq!(w.field, "backends[0].outlier_detection");
        assert!(w.why.contains("healthcheck") && w.why.contains("--max-rate"));
        assert!(w.why.contains("weighted backend services"));
        assert!(w.fix.contains("Tick “Outlier detection”"));
    }

    #[test]
    fn multi_region_serverless_explains_proximity() {
        let w = lint(&spec(base()))
            .into_iter()
            .find(|w| w.code == "serverless-regions-by-proximity")
            .unwrap();
        assert!(w.why.contains("balancing mode RATE"));
    }

    #[test]
    fn single_region() {
        has(
            |v| v["backends"][0]["regions"] = json!(["us-central1"]),
            "single-region",
            "backends[0].regions",
        );
    }

    #[test]
    fn run_app_without_host_header_is_seed_002s_404() {
        has(
            |v| {
                v["backends"][1]
                    .as_object_mut()
                    .unwrap()
                    .remove("host_header");
            },
            "run-app-no-host-header",
            "backends[1].host_header",
        );
    }

    #[test]
    fn a_run_app_backend_to_a_known_service_suggests_cross_project_referencing() {
        let known = KnownService {
            project: "acme-run".into(),
            name: "hello2".into(),
            region: "us-central1".into(),
            hosts: vec!["hello2-3qx7k2dz6a-uc.a.run.app".into()],
        };
        let s = spec(base());
        assert!(!lint(&s).iter().any(|w| w.code == "run-app-cross-project"));
        let got = lint_knowing(&s, std::slice::from_ref(&known));
        let w = got
            .iter()
            .find(|w| w.code == "run-app-cross-project")
            .unwrap();
        assert_eq!(w.field, "backends[1].fqdn");
        assert!(w.message.contains("project acme-run"), "{}", w.message);
        assert!(
            w.fix.contains("\"project\": \"acme-run\"")
                && w.fix.contains("roles/compute.loadBalancerServiceUser"),
            "{}",
            w.fix
        );
        // Another service's host is not this one's.
        let other = KnownService {
            hosts: vec!["hello3-3qx7k2dz6a-uc.a.run.app".into()],
            ..known
        };
        assert!(
            !lint_knowing(&s, &[other])
                .iter()
                .any(|w| w.code == "run-app-cross-project")
        );
        // A service the spec deploys is known by its name in the host Cloud Run gives it.
        let mut v = base();
        v["services"] = json!([{"name": "hello2", "image": "us-docker.pkg.dev/p/r/app:v1",
            "regions": ["us-central1"], "ingress": "all"}]);
        let w = lint(&spec(v))
            .into_iter()
            .find(|w| w.code == "run-app-cross-project")
            .unwrap();
        assert!(w.message.contains("of this project"), "{}", w.message);
        assert!(!w.fix.contains("\"project\""), "{}", w.fix);
    }

    #[test]
    fn run_app_hosts_are_told_apart_by_service_name() {
        assert!(is_run_app_host_of("hello-3qx7k2dz6a-uc.a.run.app", "hello"));
        assert!(is_run_app_host_of(
            "hello-123456789012.europe-west1.run.app",
            "hello"
        ));
        assert!(!is_run_app_host_of(
            "hello-world-3qx7k2dz6a-uc.a.run.app",
            "hello"
        ));
        assert!(!is_run_app_host_of(
            "hello2-3qx7k2dz6a-uc.a.run.app",
            "hello"
        ));
        assert!(!is_run_app_host_of("hello-123.nowhere-1.run.app", "hello"));
    }

    #[test]
    fn host_header_mismatch() {
        has(
            |v| v["backends"][1]["host_header"] = json!("other-3qx7k2dz6a-uc.a.run.app"),
            "host-header-mismatch",
            "backends[1].host_header",
        );
        has(
            |v| v["backends"][1]["host_header"] = json!("www.example.com"),
            "host-header-mismatch",
            "backends[1].host_header",
        );
    }

    #[test]
    fn missing_bare_or_subtree_paths() {
        has(
            |v| v["routing"]["rules"][0]["paths"] = json!(["/hello2"]),
            "path-missing-subtree",
            "routing.rules[0].paths[0]",
        );
        has(
            |v| v["routing"]["rules"][0]["paths"] = json!(["/hello2/*"]),
            "path-missing-bare",
            "routing.rules[0].paths[0]",
        );
        // The pair may be split across two rules for the same hosts.
        let got = codes(|v| {
            v["routing"]["rules"] = json!([
                {"hosts": ["*"], "paths": ["/a"], "backend": "hello2"},
                {"hosts": ["*"], "paths": ["/a/*"], "backend": "hello2"}
            ]);
        });
        assert_eq!(got, vec![]);
    }

    #[test]
    fn prefix_rewrite_examples_come_from_the_evaluator() {
        let w = lint(&spec(base()))
            .into_iter()
            .find(|w| w.code == "prefix-rewrite-example")
            .unwrap();
        assert_eq!(w.field, "routing.rules[0].prefix_rewrite");
        assert!(w.message.contains("/hello2 → /"), "{}", w.message);
        assert!(
            w.message.contains("/hello2/example → /example"),
            "{}",
            w.message
        );
        has(
            |v| v["routing"]["rules"][0]["prefix_rewrite"] = json!("/v2"),
            "prefix-rewrite-glues",
            "routing.rules[0].prefix_rewrite",
        );
    }

    #[test]
    fn frontend_warnings() {
        has(
            |v| v["frontend"] = json!({"protocol": "http"}),
            "http-unencrypted",
            "frontend.protocol",
        );
        has(
            |v| v["frontend"] = json!({"protocol": "http", "domains": ["a.example.com"]}),
            "http-domains-unused",
            "frontend.domains",
        );
        has(
            |v| v["frontend"]["ip"] = json!("ephemeral"),
            "redirect-ephemeral-ip",
            "frontend.http_redirect",
        );
        has(
            |v| v["frontend"]["http_redirect"] = json!(false),
            "no-http-redirect",
            "frontend.http_redirect",
        );
        let w = lint(&spec(base()));
        let dns = w.iter().find(|w| w.code == "managed-cert-dns").unwrap();
        assert!(dns.message.contains("shop.example.com") && dns.message.contains("A record"));
    }

    #[test]
    fn rule_hosts_outside_the_certificate() {
        has(
            |v| v["routing"]["rules"][0]["hosts"] = json!(["api.example.com"]),
            "host-not-in-certificate",
            "routing.rules[0].hosts[0]",
        );
        let got = codes(|v| {
            v["frontend"]["domains"] = json!(["shop.example.com", "api.example.com"]);
            v["routing"]["rules"][0]["hosts"] = json!(["API.example.com:443", "*.example.com"]);
        });
        assert!(
            !got.iter().any(|(c, _)| *c == "host-not-in-certificate"),
            "{got:?}"
        );
    }

    #[test]
    fn internet_ports() {
        has(
            |v| v["backends"][1]["port"] = json!(80),
            "internet-port-80",
            "backends[1].port",
        );
        has(
            |v| v["backends"][1]["port"] = json!(8443),
            "internet-port-not-443",
            "backends[1].port",
        );
    }

    #[test]
    fn cdn_split_zero_weight_unused() {
        has(
            |v| {
                v["backends"][0]["cdn"] = json!(true);
                v["routing"]["default"] = json!({"split": [{"backend": "web", "weight": 9}, {"backend": "hello2", "weight": 0}]});
            },
            "cdn-with-split",
            "backends[0].cdn",
        );
        has(
            |v| v["routing"]["default"] = json!({"split": [{"backend": "web", "weight": 9}, {"backend": "hello2", "weight": 0}]}),
            "zero-weight",
            "routing.default.split[1].weight",
        );
        has(
            |v| v["routing"]["rules"] = json!([]),
            "unused-backend",
            "backends[1].name",
        );
    }
}
