//! Validation of a parsed routing spec: everything Google would reject, caught before a single
//! API call, each error naming the spec field to fix (`backends[1].fqdn`). The API answers 422
//! for these; `parse` (the 400s) comes first.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Serialize;

use super::names::{self, MAX_NAME};
use super::plan;
use super::spec::{
    Backend, BackendKind, CertificateMode, DEFAULT_PORT, Endpoint, IpKind, Protocol, Spec, Target,
};
use super::urlmap::{self, MAX_HOST_REWRITE, MAX_PATH_PREFIX_REWRITE, MAX_WEIGHT};

/// One problem with one spec field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Path in the spec document: `name`, `frontend.domains[0]`, `routing.rules[2].paths[1]`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Most domains one managed certificate may carry (docs/google-cloud.md §6, §15.1).
pub const MAX_DOMAINS: usize = 100;

/// Largest URL map a global external Application Load Balancer accepts (Google's "URL map size
/// and quota units" page: 1 MB since the Envoy-based load balancers; classic ones keep 64 KB).
pub const MAX_URL_MAP_BYTES: usize = 1024 * 1024;

/// Regions where Cloud Run (fully managed) runs services, 2026-11.
pub const CLOUD_RUN_REGIONS: &[&str] = &[
    "africa-south1",
    "asia-east1",
    "asia-east2",
    "asia-northeast1",
    "asia-northeast2",
    "asia-northeast3",
    "asia-south1",
    "asia-south2",
    "asia-southeast1",
    "asia-southeast2",
    "australia-southeast1",
    "australia-southeast2",
    "europe-central2",
    "europe-north1",
    "europe-north2",
    "europe-southwest1",
    "europe-west1",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-west6",
    "europe-west8",
    "europe-west9",
    "europe-west10",
    "europe-west12",
    "me-central1",
    "me-central2",
    "me-west1",
    "northamerica-northeast1",
    "northamerica-northeast2",
    "northamerica-south1",
    "southamerica-east1",
    "southamerica-west1",
    "us-central1",
    "us-east1",
    "us-east4",
    "us-east5",
    "us-south1",
    "us-west1",
    "us-west2",
    "us-west3",
    "us-west4",
];

#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }
}

/// All semantic problems of a spec, in document order.
pub fn validate(spec: &Spec) -> Result<(), Vec<FieldError>> {
    let mut e = Errors::default();
    // Backend-derived names are only judged once the deployment's own part is sound, so one
    // mistake gives one message.
    let name_ok = check_resource_name(&mut e, "name", &spec.name)
        && check_derived_deployment_names(&mut e, spec);
    check_project(&mut e, &spec.project);
    check_frontend(&mut e, spec);
    check_backends(&mut e, spec, name_ok);
    check_services(&mut e, spec);
    check_routing(&mut e, spec);
    check_explicit_names(&mut e, spec);
    for (field, message) in super::rollout::problems(spec.rollout.as_ref()) {
        e.add(field, message);
    }
    for (field, message) in super::frontend_options::problems(spec) {
        e.add(field, message);
    }
    for (field, message) in super::edge_security::problems(spec) {
        e.add(field, message);
    }

    // Belt and braces: the URL map these rules let through must pass the API's own checks.
    // A failure here is a gap in the rules above, reported rather than sent to Google.
    if e.0.is_empty() {
        let map = plan::url_map(spec, &|b| b.to_string());
        if let Err(err) = urlmap::check(&map) {
            e.add("routing", format!("the URL map would be rejected: {err}"));
        }
        // Google's own bound on a URL map of a global external Application Load Balancer,
        // measured with links as long as the ones sent.
        let long_links = plan::url_map(spec, &|b| {
            crate::domain::links::full_url(&format!(
                "projects/{}/global/backendServices/{}",
                spec.backend(b)
                    .map_or(spec.project.as_str(), |bk| spec.backend_project(bk)),
                names::backend_service(&spec.name, b)
            ))
        });
        let size = serde_json::to_vec(&long_links).map_or(0, |v| v.len());
        if size > MAX_URL_MAP_BYTES {
            e.add(
                "routing",
                format!(
                    "the URL map would be {} KB; Google accepts at most 1 MB per URL map of a global external Application Load Balancer: use fewer or shorter rules",
                    size / 1024
                ),
            );
        }
    }
    if e.0.is_empty() { Ok(()) } else { Err(e.0) }
}

/// RFC 1035 label, 1 to 63 characters: `[a-z]([-a-z0-9]*[a-z0-9])?`.
pub fn is_resource_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_NAME
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && !s.ends_with('-')
}

fn check_resource_name(e: &mut Errors, field: &str, s: &str) -> bool {
    let ok = is_resource_name(s);
    if !ok {
        let why = if s.is_empty() {
            "must not be empty".to_string()
        } else if s.len() > MAX_NAME {
            format!("is {} characters long, at most {MAX_NAME} allowed", s.len())
        } else {
            "must start with a lowercase letter and contain only lowercase letters, digits and hyphens, not ending with a hyphen".to_string()
        };
        e.add(
            field,
            format!("`{s}` {why} (Google Cloud resource name rule, RFC 1035)"),
        );
    }
    ok
}

/// Kept names follow the same rule as any resource name, and belong to backends the spec has.
fn check_explicit_names(e: &mut Errors, spec: &Spec) {
    for (field, name) in spec.names.all() {
        check_resource_name(e, &field, name);
    }
    for b in spec.names.backends.keys() {
        if spec.backend(b).is_none() {
            e.add(
                format!("names.backends.{b}"),
                format!("names a backend `{b}` the spec does not have"),
            );
        }
    }
}

fn too_long(e: &mut Errors, field: &str, derived: &str, what: &str) -> bool {
    if derived.len() > MAX_NAME {
        e.add(
            field,
            format!(
                "too long: the {what} name `{derived}` derived from it would be {} characters, at most {MAX_NAME} allowed; choose a shorter name",
                derived.len()
            ),
        );
        true
    } else {
        false
    }
}

/// The resources named after the deployment alone that this spec creates, with what each is:
/// an HTTP-only spec has no certificate or HTTPS proxy, so their longer names do not limit it.
pub fn deployment_names(spec: &Spec) -> Vec<(String, &'static str)> {
    let d = &spec.name;
    let f = &spec.frontend;
    let mut out = vec![(names::url_map(d), "URL map")];
    if f.ip == IpKind::Static {
        out.push((names::address(d), "address"));
    }
    match f.protocol {
        Protocol::Https => {
            match (f.certificate, f.domains.first()) {
                (CertificateMode::CertificateManager, Some(domain)) => {
                    out.push((names::dns_authorization(d, domain), "DNS authorization"));
                    out.push((names::cm_certificate(d, domain), "certificate"));
                    out.push((names::certificate_map(d), "certificate map"));
                    out.push((names::certificate_map_entry(d, domain), "map entry"));
                }
                _ => out.push((names::certificate(d, &f.domains), "certificate")),
            }
            out.push((names::https_proxy(d), "HTTPS proxy"));
            out.push((names::https_forwarding_rule(d), "forwarding rule"));
            if f.ssl_policy.is_some() {
                out.push((names::ssl_policy(d), "SSL policy"));
            }
            if f.ipv6 {
                out.push((names::https_forwarding_rule_ipv6(d), "forwarding rule"));
            }
            if f.http_redirect {
                out.push((names::redirect_url_map(d), "redirect URL map"));
                out.push((names::http_proxy(d), "HTTP proxy"));
                out.push((names::http_forwarding_rule(d), "forwarding rule"));
            }
        }
        Protocol::Http => {
            out.push((names::http_proxy(d), "HTTP proxy"));
            out.push((names::http_forwarding_rule(d), "forwarding rule"));
            if f.ipv6 {
                out.push((names::http_forwarding_rule_ipv6(d), "forwarding rule"));
            }
        }
    }
    for b in &spec.backends {
        // The hash in the name has the same length whatever the endpoint resolves to.
        if let (Some(endpoint), BackendKind::Internet { port, .. }) = (b.kind.endpoint(), &b.kind) {
            let address = match endpoint {
                Endpoint::Fqdn(a) | Endpoint::Ip(a) | Endpoint::Deployment(a) => a,
            };
            out.push((names::internet_neg(d, address, *port), "internet NEG"));
        }
    }
    out
}

/// How long the deployment name may be for this spec: the longest name made from it must
/// stay within [`MAX_NAME`]. Also every backend's own names count, since they start with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameLimit {
    /// Most characters the deployment name may have.
    pub max: usize,
    /// What the longest derived name is (`certificate`, `serverless NEG (region ...)`).
    pub what: String,
    /// That name with the deployment name written `NAME`, e.g. `NAME-cert-1a2b3c4d`.
    pub pattern: String,
}

pub fn name_limit(spec: &Spec) -> NameLimit {
    let d = &spec.name;
    let mut all: Vec<(String, String)> = deployment_names(spec)
        .into_iter()
        .map(|(n, w)| (n, w.to_string()))
        .collect();
    for b in &spec.backends {
        all.push((
            names::backend_service(d, &b.name),
            format!("backend service of `{}`", b.name),
        ));
        if let BackendKind::Serverless { service, regions } = &b.kind {
            for r in regions {
                all.push((
                    names::serverless_neg(d, &b.name, r, service),
                    format!("serverless NEG of `{}` in {r}", b.name),
                ));
            }
        }
    }
    // Every derived name is the deployment name and a suffix: the longest suffix sets the limit.
    let (longest, what) = all
        .into_iter()
        .filter_map(|(n, w)| n.strip_prefix(d.as_str()).map(|s| (s.to_string(), w)))
        .max_by_key(|(suffix, _)| suffix.len())
        .unwrap_or_default();
    NameLimit {
        max: MAX_NAME.saturating_sub(longest.len()),
        what,
        pattern: format!("NAME{longest}"),
    }
}

/// Names that depend on the deployment name alone, as far as this spec creates them.
fn check_derived_deployment_names(e: &mut Errors, spec: &Spec) -> bool {
    !deployment_names(spec)
        .iter()
        .any(|(name, what)| too_long(e, "name", name, what))
}

/// Project ids: 6 to 30 characters, lowercase letter first, letters digits hyphens, no trailing
/// hyphen.
pub fn is_project_id(s: &str) -> bool {
    let b = s.as_bytes();
    (6..=30).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && !s.ends_with('-')
}

fn check_project(e: &mut Errors, p: &str) {
    if !is_project_id(p) {
        e.add(
            "project",
            format!("`{p}` is not a project id: 6 to 30 characters, a lowercase letter first, then lowercase letters, digits or hyphens, not ending with a hyphen"),
        );
    }
}

/// A serverless backend's `project` (cross-project service referencing): a project id, and
/// one project per Cloud Run service the spec deploys, since the service is deployed where its
/// NEGs are (a serverless NEG only reaches a service of its own project).
fn check_backend_project(e: &mut Errors, spec: &Spec, base: &str, b: &Backend, service: &str) {
    let Some(p) = &b.project else { return };
    let field = format!("{base}.project");
    if !is_project_id(p) {
        e.add(
            field,
            format!("`{p}` is not a project id: 6 to 30 characters, a lowercase letter first, then lowercase letters, digits or hyphens, not ending with a hyphen"),
        );
        return;
    }
    if spec.service(service).is_some() && spec.service_project(service) != spec.backend_project(b) {
        e.add(
            field,
            format!("the spec deploys `{service}` to {}, where another backend fronts it; a serverless NEG reaches only a Cloud Run service of its own project, so every backend of `{service}` needs the same project", spec.service_project(service)),
        );
    }
}

/// Cloud Run service ids (docs/google-cloud.md §1): letter first, fewer than 50 characters, lowercase
/// letters, digits and hyphens, no trailing hyphen.
pub fn is_cloud_run_service_id(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() < 50
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && !s.ends_with('-')
}

/// Why `s` is not a fully qualified DNS name (letters, digits, hyphens; at least two labels;
/// labels 1..=63 without leading or trailing hyphen; at most 253 characters; optional trailing
/// dot; a top-level label that is not all digits, so an IP address is refused). `None` if fine.
pub fn dns_name_problem(s: &str) -> Option<String> {
    if s.contains("://") {
        return Some("give the name only, without a scheme such as https://".into());
    }
    if s.contains('/') {
        return Some("give the name only, without a path".into());
    }
    if s.contains(':') {
        return Some("give the name only, without a port".into());
    }
    if s.contains('*') {
        return Some("wildcards are not allowed here".into());
    }
    let name = s.strip_suffix('.').unwrap_or(s);
    if name.is_empty() || name.len() > 253 {
        return Some("must be 1 to 253 characters long".into());
    }
    if name.bytes().any(|c| c.is_ascii_uppercase()) {
        return Some("must be lowercase".into());
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Some("must be a fully qualified name such as app.example.com".into());
    }
    for l in &labels {
        if l.is_empty() || l.len() > 63 {
            return Some("each dot-separated label must be 1 to 63 characters long".into());
        }
        if !l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
            return Some("may only contain letters, digits, hyphens and dots".into());
        }
        if l.starts_with('-') || l.ends_with('-') {
            return Some("a label must not start or end with a hyphen".into());
        }
    }
    if labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|c| c.is_ascii_digit()))
    {
        return Some("must be a DNS name, not an IP address".into());
    }
    None
}

/// Why `s` cannot be the IP endpoint of an internet NEG (`INTERNET_IP_PORT`): Google takes a
/// publicly routable IPv4 address there (docs/google-cloud.md §17.2). `None` if fine.
pub fn ip_address_problem(s: &str) -> Option<String> {
    match s.parse::<std::net::IpAddr>() {
        Err(_) if s.contains(':') && s.contains('.') && !s.contains("::") => Some(
            "give the address only, without a port (the port is the `port` field)".into(),
        ),
        Err(_) => Some("not an IPv4/IPv6 address".into()),
        Ok(std::net::IpAddr::V6(_)) => Some(
            "an IPv6 address; an internet NEG endpoint by IP takes a public IPv4 address (give the IPv4 address of the load balancer)".into(),
        ),
        Ok(std::net::IpAddr::V4(a)) => {
            non_public_ipv4(a).map(|why| format!("{why}; Google accepts only a publicly routable address here"))
        }
    }
}

/// Which non-public range `a` is in, if any: what Google refuses as an internet endpoint
/// (private, loopback, link-local and the other special-use ranges).
pub fn non_public_ipv4(a: std::net::Ipv4Addr) -> Option<&'static str> {
    let o = a.octets();
    if a.is_private() {
        Some("a private address (RFC 1918)")
    } else if a.is_loopback() {
        Some("a loopback address")
    } else if a.is_link_local() {
        Some("a link-local address")
    } else if a.is_unspecified() || o[0] == 0 {
        Some("an unspecified address (0.0.0.0/8)")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("a shared address (100.64.0.0/10, carrier-grade NAT)")
    } else if a.is_multicast() {
        Some("a multicast address")
    } else if o[0] >= 240 {
        Some("a reserved address (240.0.0.0/4)")
    } else {
        None
    }
}

fn check_frontend(e: &mut Errors, spec: &Spec) {
    let f = &spec.frontend;
    if f.protocol == Protocol::Https && f.domains.is_empty() {
        e.add(
            "frontend.domains",
            "https needs at least one domain for the Google-managed certificate",
        );
    }
    if f.http_redirect && f.protocol != Protocol::Https {
        e.add(
            "frontend.http_redirect",
            "the HTTP-to-HTTPS redirect only makes sense with protocol https",
        );
    }
    let certificate_manager = f.certificate == CertificateMode::CertificateManager;
    if certificate_manager && f.protocol != Protocol::Https {
        e.add(
            "frontend.certificate",
            "Certificate Manager certificates serve HTTPS: choose protocol https or leave the field out",
        );
    }
    if !certificate_manager && f.domains.len() > MAX_DOMAINS {
        e.add(
            "frontend.domains",
            format!(
                "{} domains; a managed certificate takes at most {MAX_DOMAINS}",
                f.domains.len()
            ),
        );
    }
    let mut seen = HashSet::new();
    for (i, d) in f.domains.iter().enumerate() {
        let field = format!("frontend.domains[{i}]");
        // Certificate Manager issues a wildcard through the DNS authorization of its parent
        // (API-NOTES §14.2); classic certificates cannot.
        let name = match d.strip_prefix("*.") {
            Some(parent) if certificate_manager => parent,
            _ => d.as_str(),
        };
        if name.contains('*') {
            let why = if certificate_manager {
                "a wildcard is `*.` followed by a name, such as `*.example.com`"
            } else {
                "classic Google-managed certificates do not cover wildcard domains; list each name, or choose Certificate Manager (`frontend.certificate`)"
            };
            e.add(field, format!("`{d}`: {why}"));
        } else if let Some(p) = dns_name_problem(name) {
            e.add(field, format!("`{d}`: {p}"));
        } else if !seen.insert(d.trim_end_matches('.')) {
            e.add(field, format!("`{d}` is listed twice"));
        }
    }
}

fn check_backends(e: &mut Errors, spec: &Spec, deployment_ok: bool) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, b) in spec.backends.iter().enumerate() {
        let base = format!("backends[{i}]");
        let name_field = format!("{base}.name");
        let mut name_ok = check_resource_name(e, &name_field, &b.name);
        if name_ok && let Some(prev) = seen.insert(b.name.as_str(), i) {
            e.add(
                &name_field,
                format!("`{}` is already the name of backends[{prev}]", b.name),
            );
            name_ok = false;
        }
        if name_ok && deployment_ok {
            too_long(
                e,
                &name_field,
                &names::backend_service(&spec.name, &b.name),
                "backend service",
            );
        }
        match &b.kind {
            BackendKind::Serverless { service, regions } => {
                if !is_cloud_run_service_id(service) {
                    e.add(
                        format!("{base}.service"),
                        format!("`{service}` is not a Cloud Run service id: a lowercase letter first, fewer than 50 characters, lowercase letters, digits and hyphens, not ending with a hyphen"),
                    );
                }
                if regions.is_empty() {
                    e.add(
                        format!("{base}.regions"),
                        "a serverless backend needs at least one region",
                    );
                }
                let mut seen_regions = HashSet::new();
                for (j, r) in regions.iter().enumerate() {
                    let field = format!("{base}.regions[{j}]");
                    if !CLOUD_RUN_REGIONS.contains(&r.as_str()) {
                        e.add(field, format!("`{r}` is not a Cloud Run region"));
                    } else if !seen_regions.insert(r.as_str()) {
                        e.add(field, format!("`{r}` is listed twice"));
                    } else if name_ok && deployment_ok {
                        let neg = names::serverless_neg(&spec.name, &b.name, r, service);
                        if too_long(
                            e,
                            &name_field,
                            &neg,
                            &format!("serverless NEG (region {r})"),
                        ) {
                            // One message per backend is enough: the fix is the same.
                            name_ok = false;
                        }
                    }
                }
                check_backend_project(e, spec, &base, b, service);
            }
            BackendKind::Internet {
                fqdn,
                ip,
                deployment,
                port,
                host_header,
            } => {
                let given: Vec<&str> = [("fqdn", fqdn), ("ip", ip), ("deployment", deployment)]
                    .into_iter()
                    .filter_map(|(k, v)| v.as_ref().map(|_| k))
                    .collect();
                match given.as_slice() {
                    [] => e.add(
                        format!("{base}.fqdn"),
                        "an internet backend needs its endpoint: give `fqdn`, `ip` or `deployment`",
                    ),
                    [_] => {}
                    [first, rest @ ..] => e.add(
                        format!("{base}.{}", rest[0]),
                        format!("give only one of `fqdn`, `ip` and `deployment`; `{first}` is already given"),
                    ),
                }
                if let Some(fqdn) = fqdn {
                    if fqdn.parse::<std::net::IpAddr>().is_ok() {
                        e.add(
                            format!("{base}.fqdn"),
                            format!("`{fqdn}` is an IP address: give it as `ip` instead of `fqdn` (an INTERNET_IP_PORT NEG)"),
                        );
                    } else if let Some(p) = dns_name_problem(fqdn) {
                        e.add(format!("{base}.fqdn"), format!("`{fqdn}`: {p}"));
                    }
                }
                if let Some(ip) = ip
                    && let Some(p) = ip_address_problem(ip)
                {
                    e.add(format!("{base}.ip"), format!("`{ip}`: {p}"));
                }
                if let Some(other) = deployment {
                    if !is_resource_name(other) {
                        e.add(
                            format!("{base}.deployment"),
                            format!("`{other}` is not a deployment name: a lowercase letter first, then lowercase letters, digits or hyphens"),
                        );
                    } else if *other == spec.name {
                        e.add(
                            format!("{base}.deployment"),
                            format!("`{other}` is this deployment: a load balancer cannot be its own backend"),
                        );
                    }
                    if *port != DEFAULT_PORT {
                        e.add(
                            format!("{base}.port"),
                            "leave `port` out: a backend that follows another deployment uses that deployment's port (443 for HTTPS, 80 for HTTP)",
                        );
                    }
                }
                if *port == 0 {
                    e.add(format!("{base}.port"), "the port must be from 1 to 65535");
                }
                if let Some(h) = host_header
                    && let Some(p) = host_header_problem(h)
                {
                    e.add(format!("{base}.host_header"), format!("`{h}`: {p}"));
                }
            }
        }
    }
}

/// Cloud Run's CPU limits (docs/google-cloud.md §1): whole CPUs 1, 2, 4, 8, also written in millicores.
/// Returns the number of CPUs.
pub fn cpu_count(cpu: &str) -> Option<u32> {
    let n = match cpu.strip_suffix('m') {
        Some(milli) => {
            let m: u32 = milli.parse().ok()?;
            if !m.is_multiple_of(1000) {
                return None;
            }
            m / 1000
        }
        None => cpu.parse().ok()?,
    };
    [1, 2, 4, 8].contains(&n).then_some(n)
}

/// A memory limit in Mi or Gi (`512Mi`, `2Gi`), in MiB. Cloud Run accepts 128Mi to 32Gi.
pub fn memory_mib(memory: &str) -> Option<u64> {
    let (digits, unit) = memory.split_at(memory.find(|c: char| !c.is_ascii_digit())?);
    if digits.is_empty() || digits.starts_with('0') {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    let mib = match unit {
        "Mi" => n,
        "Gi" => n.checked_mul(1024)?,
        _ => return None,
    };
    (128..=32 * 1024).contains(&mib).then_some(mib)
}

/// Why `image` is not a container image reference (`[host/]path[:tag][@sha256:digest]`).
pub fn image_problem(image: &str) -> Option<&'static str> {
    if image.trim().is_empty() {
        return Some(
            "give the container image to deploy, e.g. us-docker.pkg.dev/PROJECT/REPO/IMAGE:TAG",
        );
    }
    if image.contains("://") {
        return Some("give the image reference without a scheme such as https://");
    }
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    if let Some(d) = digest
        && !d
            .strip_prefix("sha256:")
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|c| c.is_ascii_hexdigit()))
    {
        return Some("a digest is written @sha256: followed by 64 hex digits");
    }
    // The tag follows the last colon after the last slash (a colon before it is a port).
    let last = name.rsplit('/').next().unwrap_or(name);
    let (path_last, tag) = match last.split_once(':') {
        Some((p, t)) => (p, Some(t)),
        None => (last, None),
    };
    if let Some(t) = tag
        && (t.is_empty()
            || t.len() > 128
            || !t
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c)))
    {
        return Some("a tag is up to 128 letters, digits, dots, dashes or underscores");
    }
    let repo_ok = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"._-".contains(&c))
    };
    let mut parts: Vec<&str> = name.split('/').collect();
    parts.pop();
    let host_ok = |h: &str| {
        !h.is_empty()
            && h.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b".-:".contains(&c))
    };
    let ok = repo_ok(path_last)
        && parts
            .iter()
            .enumerate()
            .all(|(i, p)| if i == 0 { host_ok(p) } else { repo_ok(p) });
    (!ok).then_some(
        "not an image reference: lowercase path segments separated by /, an optional :tag or @sha256:digest",
    )
}

/// A Secret Manager secret id: 1 to 255 letters, digits, `_` or `-` (Secret Manager's rule).
pub fn is_secret_id(id: &str) -> bool {
    (1..=255).contains(&id.len())
        && id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// A secret as Cloud Run's `secretKeyRef.secret` takes it: its id when it is in the service's
/// project, `projects/PROJECT/secrets/ID` (project id or number) when it is in another.
pub fn is_secret_reference(s: &str) -> bool {
    match s
        .strip_prefix("projects/")
        .and_then(|r| r.split_once("/secrets/"))
    {
        Some((project, id)) => {
            (is_project_id(project)
                || (!project.is_empty() && project.bytes().all(|c| c.is_ascii_digit())))
                && is_secret_id(id)
        }
        None => is_secret_id(s),
    }
}

/// A secret version: `latest`, or a version number (Secret Manager counts from 1).
pub fn is_secret_version(v: &str) -> bool {
    v == crate::domain::spec::LATEST
        || (!v.is_empty()
            && v.len() <= 19
            && !v.starts_with('0')
            && v.bytes().all(|c| c.is_ascii_digit()))
}

/// Exactly one of a value and a secret; a secret named by Secret Manager's rules, and a version
/// only beside a secret.
fn check_env_source(e: &mut Errors, base: &str, v: &crate::domain::spec::EnvVar) {
    match (&v.value, &v.secret) {
        (Some(_), Some(_)) => e.add(
            format!("{base}.secret"),
            format!("`{}` has both a value and a secret: give one of them", v.name),
        ),
        (None, None) => e.add(
            format!("{base}.value"),
            format!(
                "`{}` needs a value, or a Secret Manager secret to read it from",
                v.name
            ),
        ),
        (None, Some(secret)) if !is_secret_reference(secret) => e.add(
            format!("{base}.secret"),
            format!("`{secret}` is not a Secret Manager secret: 1 to 255 letters, digits, `_` or `-` (or projects/PROJECT/secrets/ID for a secret of another project)"),
        ),
        _ => {}
    }
    if let Some(version) = &v.version {
        if v.secret.is_none() {
            e.add(
                format!("{base}.version"),
                "a version only goes with a secret",
            );
        } else if !is_secret_version(version) {
            e.add(
                format!("{base}.version"),
                format!("`{version}` is not a secret version: `latest` or a version number from 1"),
            );
        }
    }
}

/// Environment names Cloud Run sets itself and refuses in a container's `env`.
fn reserved_env(name: &str) -> bool {
    name == "PORT" || name.starts_with("K_") || name.starts_with("CLOUD_RUN_")
}

/// A multi-region service and its readiness probe (API-NOTES §18.1, §18.2).
fn check_multi_region(e: &mut Errors, spec: &Spec, base: &str, s: &super::spec::Service) {
    if s.multi_region {
        if s.regions.len() < 2 {
            e.add(
                format!("{base}.multi_region"),
                "a multi-region service is deployed to two regions or more: add a region, or deploy a regional service",
            );
        }
        if spec
            .canary_region()
            .is_some_and(|c| s.regions.iter().any(|r| r == c))
        {
            e.add(
                "rollout.canary_region",
                format!(
                    "service `{}` is multi-region: one revision goes to all of its regions at once, so no region can go first; deploy it as regional services to roll out region by region",
                    s.name
                ),
            );
        }
    }
    let Some(p) = &s.readiness_probe else {
        return;
    };
    let probe = format!("{base}.readiness_probe");
    if !p.path.starts_with('/') || p.path.len() > 2048 || p.path.chars().any(char::is_whitespace) {
        e.add(
            format!("{probe}.path"),
            format!(
                "`{}` is not a request path: it starts with / and has no spaces",
                p.path
            ),
        );
    }
    if !(1..=3600).contains(&p.period()) {
        e.add(
            format!("{probe}.period_seconds"),
            "the probe runs every 1 to 3600 seconds",
        );
    }
    if p.timeout() == 0 || p.timeout() >= p.period() {
        e.add(
            format!("{probe}.timeout_seconds"),
            format!(
                "the probe's timeout must be at least 1 second and shorter than its period ({} s)",
                p.period()
            ),
        );
    }
    if p.failures() == 0 {
        e.add(
            format!("{probe}.failure_threshold"),
            "at least 1 failure in a row marks an instance not ready",
        );
    }
}

fn check_services(e: &mut Errors, spec: &Spec) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, s) in spec.services.iter().enumerate() {
        let base = format!("services[{i}]");
        if !is_cloud_run_service_id(&s.name) {
            e.add(
                format!("{base}.name"),
                format!("`{}` is not a Cloud Run service id: a lowercase letter first, fewer than 50 characters, lowercase letters, digits and hyphens, not ending with a hyphen", s.name),
            );
        } else if let Some(prev) = seen.insert(s.name.as_str(), i) {
            e.add(
                format!("{base}.name"),
                format!("`{}` is already the name of services[{prev}]", s.name),
            );
        }
        if let Some(p) = image_problem(&s.image) {
            e.add(format!("{base}.image"), format!("`{}`: {p}", s.image));
        }
        if s.regions.is_empty() {
            e.add(
                format!("{base}.regions"),
                "a service needs at least one region",
            );
        }
        let mut seen_regions = HashSet::new();
        for (j, r) in s.regions.iter().enumerate() {
            let field = format!("{base}.regions[{j}]");
            if !CLOUD_RUN_REGIONS.contains(&r.as_str()) {
                e.add(field, format!("`{r}` is not a Cloud Run region"));
            } else if !seen_regions.insert(r.as_str()) {
                e.add(field, format!("`{r}` is listed twice"));
            }
        }
        if s.max_instances == 0 || s.max_instances > 1000 {
            e.add(
                format!("{base}.max_instances"),
                "max instances must be from 1 to 1000",
            );
        }
        if s.min_instances > s.max_instances.min(1000) {
            e.add(
                format!("{base}.min_instances"),
                format!(
                    "min instances ({}) cannot exceed max instances ({})",
                    s.min_instances, s.max_instances
                ),
            );
        }
        if !(1..=1000).contains(&s.concurrency) {
            e.add(
                format!("{base}.concurrency"),
                "concurrency (requests per instance) must be from 1 to 1000",
            );
        }
        let cpu = cpu_count(&s.cpu);
        if cpu.is_none() {
            e.add(
                format!("{base}.cpu"),
                format!(
                    "`{}` is not a Cloud Run CPU limit: use 1, 2, 4 or 8 (or 1000m, 2000m, ...)",
                    s.cpu
                ),
            );
        }
        match memory_mib(&s.memory) {
            None => e.add(
                format!("{base}.memory"),
                format!("`{}` is not a memory limit: write a whole number with Mi or Gi, from 128Mi to 32Gi (e.g. 512Mi, 2Gi)", s.memory),
            ),
            Some(mib) if cpu.is_some_and(|c| c >= 4) && mib < 2048 => e.add(
                format!("{base}.memory"),
                format!("{} CPUs need at least 2Gi of memory", cpu.unwrap_or_default()),
            ),
            Some(_) => {}
        }
        let mut env_seen = HashSet::new();
        for (j, v) in s.env.iter().enumerate() {
            let field = format!("{base}.env[{j}].name");
            let valid = !v.name.is_empty()
                && !v.name.contains('=')
                && v.name.bytes().all(|c| c.is_ascii_graphic());
            if !valid {
                e.add(field, format!("`{}` is not an environment variable name: non-empty, printable, no spaces or `=`", v.name));
            } else if reserved_env(&v.name) {
                e.add(
                    field,
                    format!(
                        "`{}` is set by Cloud Run itself (PORT, K_* and CLOUD_RUN_* are reserved)",
                        v.name
                    ),
                );
            } else if !env_seen.insert(v.name.as_str()) {
                e.add(field, format!("`{}` is set twice", v.name));
            }
            check_env_source(e, &format!("{base}.env[{j}]"), v);
        }
        check_multi_region(e, spec, &base, s);
        if let Some(canary) = spec.canary_region()
            && !s.regions.iter().any(|r| r == canary)
        {
            e.add(
                "rollout.canary_region",
                format!(
                    "`{canary}` is not one of the regions of service `{}`",
                    s.name
                ),
            );
        }
    }
    if spec.canary_region().is_some() && spec.services.is_empty() {
        e.add(
            "rollout.canary_region",
            "a canary region only applies to services the spec deploys; add `services` or remove the rollout option",
        );
    }
    // A serverless backend naming a spec service sends traffic to it in its regions, so the
    // service must be deployed in every one of them; a subset is fine (a region can be in the
    // deployment but kept out of this backend, e.g. while warming up).
    for (i, b) in spec.backends.iter().enumerate() {
        let BackendKind::Serverless { service, regions } = &b.kind else {
            continue;
        };
        let Some(s) = spec.service(service) else {
            continue;
        };
        // A service whose own regions are wrong already has its error; one is enough.
        if s.regions.is_empty()
            || s.regions
                .iter()
                .any(|r| !CLOUD_RUN_REGIONS.contains(&r.as_str()))
        {
            continue;
        }
        for (j, r) in regions.iter().enumerate() {
            if !s.regions.contains(r) {
                e.add(
                    format!("backends[{i}].regions[{j}]"),
                    format!("service `{service}` is not deployed in `{r}` (its regions: {}); add the region to the service or remove it here", s.regions.join(", ")),
                );
            }
        }
    }
}

/// A Host header value: a DNS name with an optional `:port`.
fn host_header_problem(h: &str) -> Option<String> {
    if h.len() > 255 {
        return Some("must be at most 255 characters long".into());
    }
    let (name, port) = match h.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (h, None),
    };
    if let Some(p) = port
        && !(p.bytes().all(|c| c.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n > 0))
    {
        return Some("the port must be a number from 1 to 65535".into());
    }
    dns_name_problem(name)
}

fn check_target(e: &mut Errors, spec: &Spec, base: &str, target: &Target) {
    match target {
        Target::Backend { backend } => check_ref(e, spec, &format!("{base}.backend"), backend),
        Target::Split { split } => {
            if split.is_empty() {
                e.add(
                    format!("{base}.split"),
                    "a split needs at least one backend",
                );
                return;
            }
            let mut seen = HashSet::new();
            for (i, w) in split.iter().enumerate() {
                let f = format!("{base}.split[{i}]");
                check_ref(e, spec, &format!("{f}.backend"), &w.backend);
                if !seen.insert(w.backend.as_str()) {
                    e.add(
                        format!("{f}.backend"),
                        format!(
                            "`{}` appears twice in this split; give it one weight",
                            w.backend
                        ),
                    );
                }
                if i64::from(w.weight) > MAX_WEIGHT {
                    e.add(
                        format!("{f}.weight"),
                        format!("{} is above the maximum weight {MAX_WEIGHT}", w.weight),
                    );
                }
            }
            if split.iter().all(|w| w.weight == 0) {
                e.add(
                    format!("{base}.split"),
                    "at least one weight must be above 0",
                );
            }
        }
    }
}

fn check_ref(e: &mut Errors, spec: &Spec, field: &str, name: &str) {
    if spec.backend(name).is_none() {
        let known: Vec<&str> = spec.backends.iter().map(|b| b.name.as_str()).collect();
        let hint = if known.is_empty() {
            "no backends are defined".to_string()
        } else {
            format!("defined backends: {}", known.join(", "))
        };
        e.add(field, format!("no backend named `{name}` ({hint})"));
    }
}

fn check_routing(e: &mut Errors, spec: &Spec) {
    check_target(e, spec, "routing.default", &spec.routing.default);

    // Host sets as `plan::url_map` groups them: hosts lowercased, sorted, deduplicated.
    let host_set = |hosts: &[String]| {
        let mut h: Vec<String> = hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
        h.sort();
        h.dedup();
        h
    };
    // host → (rule index, its host set); path → rule index, per host set.
    let mut host_owner: HashMap<String, (usize, Vec<String>)> = HashMap::new();
    let mut paths_by_set: HashMap<Vec<String>, HashMap<&str, usize>> = HashMap::new();

    for (i, rule) in spec.routing.rules.iter().enumerate() {
        let base = format!("routing.rules[{i}]");
        let set = host_set(&rule.hosts);
        if rule.hosts.is_empty() {
            e.add(
                format!("{base}.hosts"),
                "needs at least one host pattern (use \"*\" for any host)",
            );
        }
        let mut in_rule = HashSet::new();
        for (j, h) in rule.hosts.iter().enumerate() {
            let field = format!("{base}.hosts[{j}]");
            if let Some(p) = urlmap::host_pattern_problem(h) {
                e.add(field, format!("`{h}`: {p}"));
                continue;
            }
            let key = h.to_ascii_lowercase();
            if !in_rule.insert(key.clone()) {
                e.add(field, format!("`{h}` is listed twice"));
                continue;
            }
            match host_owner.get(&key) {
                Some((k, other)) if *other != set => e.add(
                    field,
                    format!("`{h}` is also in routing.rules[{k}] with a different host list; rules for the same host must list exactly the same hosts (each host belongs to one host rule in the URL map)"),
                ),
                Some(_) => {}
                None => {
                    host_owner.insert(key, (i, set.clone()));
                }
            }
        }

        if rule.paths.is_empty() {
            e.add(format!("{base}.paths"), "needs at least one path");
        }
        let seen_paths = paths_by_set.entry(set).or_default();
        for (j, p) in rule.paths.iter().enumerate() {
            let field = format!("{base}.paths[{j}]");
            if let Some(problem) = urlmap::path_pattern_problem(p) {
                e.add(field, format!("`{p}`: {problem}"));
            } else if let Some(k) = seen_paths.insert(p.as_str(), i) {
                let where_ = if k == i {
                    "earlier in this rule".to_string()
                } else {
                    format!("in routing.rules[{k}] for the same hosts")
                };
                e.add(field, format!("`{p}` is already routed {where_}"));
            }
        }

        check_target(e, spec, &base, &rule.target);
        if let Some(p) = &rule.prefix_rewrite
            && (p.is_empty() || p.len() > MAX_PATH_PREFIX_REWRITE)
        {
            e.add(
                format!("{base}.prefix_rewrite"),
                format!("must be 1 to {MAX_PATH_PREFIX_REWRITE} characters long"),
            );
        }
        if let Some(h) = &rule.host_rewrite {
            // API-NOTES §16.5, §17.2: Google's internet NEG page.
            let internet = rule.target.weighted().into_iter().find_map(|(b, _)| {
                spec.backends
                    .iter()
                    .find(|x| x.name == b && matches!(x.kind, BackendKind::Internet { .. }))
            });
            if let Some(b) = internet {
                e.add(
                    format!("{base}.host_rewrite"),
                    format!(
                        "backend `{}` is an internet backend, and Google does not support modifying the Host header in the URL map for internet NEGs: remove the host rewrite and set that backend's host_header instead (a custom request header on its backend service)",
                        b.name
                    ),
                );
            } else if h.is_empty() || h.len() > MAX_HOST_REWRITE {
                e.add(
                    format!("{base}.host_rewrite"),
                    format!("must be 1 to {MAX_HOST_REWRITE} characters long"),
                );
            } else if let Some(p) = host_header_problem(h) {
                e.add(format!("{base}.host_rewrite"), format!("`{h}`: {p}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::parse::parse;
    use crate::domain::parse::tests::{base, parse_field};
    use serde_json::{Value, json};

    /// Applies `f` to the base spec and returns the fields of the validation errors.
    fn fields(f: impl FnOnce(&mut Value)) -> Vec<String> {
        let mut v = base();
        f(&mut v);
        let spec = parse(v.to_string()).expect("parses");
        match validate(&spec) {
            Ok(()) => vec![],
            Err(errs) => errs.into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn contract_example_is_valid() {
        assert_eq!(fields(|_| {}), Vec::<String>::new());
    }

    #[test]
    fn names() {
        assert_eq!(fields(|v| v["name"] = json!("Shop")), ["name"]);
        assert_eq!(fields(|v| v["name"] = json!("shop-")), ["name"]);
        assert_eq!(fields(|v| v["name"] = json!("1shop")), ["name"]);
        // 50 characters: fits 63 alone, but `-cert-` + 8 hash characters does not.
        assert_eq!(fields(|v| v["name"] = json!("a".repeat(50))), ["name"]);
        // 49 fits every deployment-level name, but `<name>-web-europe-west1-<6 hex>` (the
        // serverless NEG) is 73 characters: the backend whose NEG overflows is named.
        assert_eq!(
            fields(|v| v["name"] = json!("a".repeat(49))),
            ["backends[0].name"]
        );
        assert_eq!(
            fields(|v| v["name"] = json!("a".repeat(38))),
            Vec::<String>::new()
        );
        assert_eq!(
            fields(|v| v["backends"][1]["name"] = json!("web")),
            ["backends[1].name", "routing.rules[0].backend"]
        );
        // The serverless NEG name shop-<backend>-northamerica-northeast1 is what gets too long.
        let long = "b".repeat(40);
        let errs = fields(|v| {
            v["backends"][0]["name"] = json!(long);
            v["backends"][0]["regions"] = json!(["northamerica-northeast1", "us-east1"]);
            v["routing"]["default"]["backend"] = json!(long);
        });
        assert_eq!(errs, ["backends[0].name"]);
    }

    #[test]
    fn a_serverless_backend_may_name_its_project_and_an_internet_one_may_not() {
        assert_eq!(
            fields(|v| v["backends"][0]["project"] = json!("acme-run")),
            Vec::<String>::new()
        );
        // The load balancer's own project is the same as no project at all.
        assert_eq!(
            fields(|v| v["backends"][0]["project"] = json!("acme-edge")),
            Vec::<String>::new()
        );
        assert_eq!(
            fields(|v| v["backends"][0]["project"] = json!("Acme_Run")),
            ["backends[0].project"]
        );
        assert_eq!(
            parse_field(|v| v["backends"][1]["project"] = json!("acme-run")).as_deref(),
            Some("backends[1].project")
        );
        assert_eq!(
            parse_field(|v| v["backends"][0]["project"] = json!(7)).as_deref(),
            Some("backends[0].project")
        );
        let mut v = base();
        v["backends"][1]["project"] = json!("acme-run");
        let e = parse(v.to_string()).unwrap_err();
        assert!(
            e.message.contains("only a serverless backend"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_deployed_service_lives_in_one_project() {
        let svc = json!([{ "name": "my-app", "image": "us-docker.pkg.dev/cloudrun/container/hello",
                           "regions": ["us-central1"] }]);
        let second = json!({ "name": "web2", "type": "serverless", "service": "my-app",
                             "regions": ["us-central1"], "project": "acme-run" });
        assert_eq!(
            fields(|v| {
                v["services"] = svc.clone();
                v["backends"][0]["regions"] = json!(["us-central1"]);
                v["backends"].as_array_mut().unwrap().push(second.clone());
            }),
            ["backends[2].project"]
        );
        assert_eq!(
            fields(|v| {
                v["services"] = svc.clone();
                v["backends"][0]["regions"] = json!(["us-central1"]);
                v["backends"][0]["project"] = json!("acme-run");
                v["backends"].as_array_mut().unwrap().push(second.clone());
            }),
            Vec::<String>::new()
        );
    }

    #[test]
    fn project_ids() {
        for ok in ["acme-edge", "abcdef", "a23456789012345678901234567890"] {
            assert!(is_project_id(ok), "{ok}");
        }
        for bad in [
            "abcde",
            "Acme-edge",
            "1acme-edge",
            "acme-edge-",
            "a234567890123456789012345678901",
            "acme_edge",
        ] {
            assert!(!is_project_id(bad), "{bad}");
        }
        assert_eq!(fields(|v| v["project"] = json!("acme")), ["project"]);
    }

    #[test]
    fn frontend_rules() {
        assert_eq!(
            fields(|v| v["frontend"]["domains"] = json!([])),
            ["frontend.domains"]
        );
        assert_eq!(
            fields(|v| v["frontend"] = json!({"protocol": "http", "http_redirect": true})),
            ["frontend.http_redirect"]
        );
        // http with domains is allowed (lint tells they are unused).
        assert!(
            fields(|v| v["frontend"] = json!({"protocol": "http", "domains": ["a.example.com"]}))
                .is_empty()
        );
        assert_eq!(
            fields(|v| v["frontend"]["domains"] = json!(["*.example.com"])),
            ["frontend.domains[0]"]
        );
        assert_eq!(
            fields(|v| v["frontend"]["domains"] = json!(["https://example.com"])),
            ["frontend.domains[0]"]
        );
        assert_eq!(
            fields(|v| v["frontend"]["domains"] = json!(["example"])),
            ["frontend.domains[0]"]
        );
        assert_eq!(
            fields(|v| v["frontend"]["domains"] =
                json!(["a.example.com", "b.example.com", "a.example.com"])),
            ["frontend.domains[2]"]
        );
        let many: Vec<String> = (0..101).map(|i| format!("d{i}.example.com")).collect();
        assert_eq!(
            fields(|v| v["frontend"]["domains"] = json!(many)),
            ["frontend.domains"]
        );
    }

    #[test]
    fn serverless_backend_rules() {
        assert_eq!(
            fields(|v| v["backends"][0]["service"] = json!("My_app")),
            ["backends[0].service"]
        );
        assert_eq!(
            fields(|v| v["backends"][0]["service"] = json!("a".repeat(50))),
            ["backends[0].service"]
        );
        assert!(fields(|v| v["backends"][0]["service"] = json!("a".repeat(49))).is_empty());
        assert_eq!(
            fields(|v| v["backends"][0]["regions"] = json!([])),
            ["backends[0].regions"]
        );
        assert_eq!(
            fields(|v| v["backends"][0]["regions"] = json!(["us-central1", "mars-north1"])),
            ["backends[0].regions[1]"]
        );
        assert_eq!(
            fields(|v| v["backends"][0]["regions"] = json!(["us-central1", "us-central1"])),
            ["backends[0].regions[1]"]
        );
    }

    #[test]
    fn internet_backend_rules() {
        assert_eq!(
            fields(|v| v["backends"][1]["fqdn"] = json!("https://x.a.run.app")),
            ["backends[1].fqdn"]
        );
        assert_eq!(
            fields(|v| v["backends"][1]["fqdn"] = json!("10.0.0.1")),
            ["backends[1].fqdn"]
        );
        assert_eq!(
            fields(|v| v["backends"][1]["port"] = json!(0)),
            ["backends[1].port"]
        );
        assert_eq!(
            parse_field(|v| v["backends"][1]["port"] = json!(70000)).as_deref(),
            Some("backends[1].port")
        );
        assert_eq!(
            fields(|v| v["backends"][1]["host_header"] = json!("a b")),
            ["backends[1].host_header"]
        );
        assert!(
            fields(|v| v["backends"][1]["host_header"] = json!("x.example.com:8443")).is_empty()
        );
    }

    /// The validation errors (field, message) with backends[1] reaching `endpoint` instead of
    /// its fqdn.
    fn endpoint_errors(endpoint: Value) -> Vec<(String, String)> {
        let mut v = base();
        let b = v["backends"][1].as_object_mut().unwrap();
        b.remove("fqdn");
        b.extend(endpoint.as_object().unwrap().clone());
        let spec = parse(v.to_string()).expect("parses");
        match validate(&spec) {
            Ok(()) => vec![],
            Err(errs) => errs.into_iter().map(|e| (e.field, e.message)).collect(),
        }
    }

    #[test]
    fn an_internet_backend_by_ip_takes_a_public_ipv4_address() {
        assert_eq!(endpoint_errors(json!({"ip": "34.120.1.2"})), vec![]);
        assert_eq!(
            endpoint_errors(json!({"ip": "203.0.113.10", "port": 8443})),
            vec![]
        );
        for (ip, says) in [
            ("not-an-ip", "not an IPv4/IPv6 address"),
            ("34.120.1.2:443", "without a port"),
            ("10.1.2.3", "a private address (RFC 1918)"),
            ("192.168.0.1", "a private address (RFC 1918)"),
            ("172.20.0.1", "a private address (RFC 1918)"),
            ("127.0.0.1", "a loopback address"),
            ("169.254.169.254", "a link-local address"),
            ("100.64.0.1", "carrier-grade NAT"),
            ("0.0.0.0", "unspecified"),
            ("224.0.0.1", "multicast"),
            ("2001:db8::1", "an IPv6 address"),
        ] {
            let errs = endpoint_errors(json!({ "ip": ip }));
            assert_eq!(errs.len(), 1, "{ip}: {errs:?}");
            assert_eq!(errs[0].0, "backends[1].ip", "{ip}");
            assert!(
                errs[0].1.starts_with(&format!("`{ip}`: ")),
                "{ip}: {}",
                errs[0].1
            );
            assert!(errs[0].1.contains(says), "{ip}: {}", errs[0].1);
        }
        // An address given as `fqdn` is pointed to `ip`.
        let as_fqdn = endpoint_errors(json!({"fqdn": "34.120.1.2"}));
        assert_eq!(as_fqdn[0].0, "backends[1].fqdn");
        assert!(
            as_fqdn[0].1.contains("give it as `ip` instead"),
            "{as_fqdn:?}"
        );
        // A private one is refused for being private, named as Google's rule.
        let private = endpoint_errors(json!({"ip": "10.1.2.3"}));
        assert!(
            private[0]
                .1
                .ends_with("Google accepts only a publicly routable address here")
        );
    }

    #[test]
    fn an_internet_backend_has_exactly_one_endpoint() {
        let both = endpoint_errors(json!({"fqdn": "x.example.com", "ip": "34.120.1.2"}));
        assert_eq!(both.len(), 1, "{both:?}");
        assert_eq!(both[0].0, "backends[1].ip");
        assert!(
            both[0]
                .1
                .contains("only one of `fqdn`, `ip` and `deployment`")
        );
        let three = endpoint_errors(
            json!({"fqdn": "x.example.com", "ip": "34.120.1.2", "deployment": "back"}),
        );
        assert_eq!(three[0].0, "backends[1].ip");
        // None at all is a shape error: the field is missing.
        assert_eq!(
            parse_field(|v| {
                v["backends"][1].as_object_mut().unwrap().remove("fqdn");
            })
            .as_deref(),
            Some("backends[1].fqdn")
        );
    }

    #[test]
    fn an_internet_backend_may_follow_another_deployment() {
        assert_eq!(endpoint_errors(json!({"deployment": "multi-lb"})), vec![]);
        let own = endpoint_errors(json!({"deployment": "shop"}));
        assert_eq!(own[0].0, "backends[1].deployment");
        assert!(own[0].1.contains("cannot be its own backend"), "{own:?}");
        let bad = endpoint_errors(json!({"deployment": "Multi_LB"}));
        assert_eq!(bad[0].0, "backends[1].deployment");
        let port = endpoint_errors(json!({"deployment": "multi-lb", "port": 8443}));
        assert_eq!(port[0].0, "backends[1].port");
        assert!(
            port[0].1.contains("uses that deployment's port"),
            "{port:?}"
        );
    }

    #[test]
    fn specs_with_fqdn_only_serialise_as_before() {
        let text = r#"{"name":"hello2","type":"internet","fqdn":"hello2-3qx7k2dz6a-uc.a.run.app","port":443,"host_header":"hello2-3qx7k2dz6a-uc.a.run.app","cdn":false,"outlier_detection":false}"#;
        let b: crate::domain::spec::Backend = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&b).unwrap(), text);
        let by_ip = r#"{"name":"multi","type":"internet","ip":"34.120.1.2","port":443,"cdn":false,"outlier_detection":false}"#;
        let b: crate::domain::spec::Backend = serde_json::from_str(by_ip).unwrap();
        assert_eq!(serde_json::to_string(&b).unwrap(), by_ip);
    }

    fn with_services(f: impl FnOnce(&mut Value)) -> Vec<String> {
        fields(|v| {
            v["services"] = json!([{"name": "my-app", "image": "us-docker.pkg.dev/cloudrun/container/hello",
                "regions": ["us-central1", "europe-west1", "asia-east1"]}]);
            f(v)
        })
    }

    #[test]
    fn service_rules() {
        assert!(with_services(|_| {}).is_empty());
        type Case = (fn(&mut Value), &'static str);
        let cases: Vec<Case> = vec![
            (
                |v| v["services"][0]["name"] = json!("My_App"),
                "services[0].name",
            ),
            (
                |v| v["services"][0]["name"] = json!("a-"),
                "services[0].name",
            ),
            (
                |v| v["services"][0]["image"] = json!(""),
                "services[0].image",
            ),
            (
                |v| v["services"][0]["image"] = json!("https://x/y"),
                "services[0].image",
            ),
            (
                |v| v["services"][0]["image"] = json!("Foo/Bar"),
                "services[0].image",
            ),
            (
                |v| v["services"][0]["regions"] = json!(["mars-1"]),
                "services[0].regions[0]",
            ),
            (
                |v| v["services"][0]["regions"] = json!([]),
                "services[0].regions",
            ),
            (|v| v["services"][0]["cpu"] = json!("3"), "services[0].cpu"),
            (
                |v| v["services"][0]["cpu"] = json!("500m"),
                "services[0].cpu",
            ),
            (
                |v| {
                    v["services"][0]["cpu"] = json!(4);
                    v["services"][0]["memory"] = json!("1Gi")
                },
                "services[0].memory",
            ),
            (
                |v| v["services"][0]["memory"] = json!("512MB"),
                "services[0].memory",
            ),
            (
                |v| v["services"][0]["memory"] = json!("64Mi"),
                "services[0].memory",
            ),
            (
                |v| {
                    v["services"][0]["min_instances"] = json!(5);
                    v["services"][0]["max_instances"] = json!(2)
                },
                "services[0].min_instances",
            ),
            (
                |v| v["services"][0]["max_instances"] = json!(1001),
                "services[0].max_instances",
            ),
            (
                |v| v["services"][0]["concurrency"] = json!(0),
                "services[0].concurrency",
            ),
            (
                |v| v["services"][0]["env"] = json!({"PORT": "9"}),
                "services[0].env[0].name",
            ),
            (
                |v| v["services"][0]["env"] = json!([{"name": "K_SERVICE", "value": "x"}]),
                "services[0].env[0].name",
            ),
            (
                |v| v["rollout"] = json!({"canary_region": "us-east1"}),
                "rollout.canary_region",
            ),
            (
                |v| v["backends"][0]["regions"] = json!(["us-central1", "us-east1"]),
                "backends[0].regions[1]",
            ),
            (
                |v| {
                    v["services"][0]["multi_region"] = json!(true);
                    v["services"][0]["regions"] = json!(["us-central1"]);
                    v["backends"][0]["regions"] = json!(["us-central1"]);
                },
                "services[0].multi_region",
            ),
            (
                |v| {
                    v["services"][0]["multi_region"] = json!(true);
                    v["rollout"] = json!({"canary_region": "asia-east1"});
                },
                "rollout.canary_region",
            ),
            (
                |v| v["services"][0]["readiness_probe"] = json!({"path": "ready"}),
                "services[0].readiness_probe.path",
            ),
            (
                |v| {
                    v["services"][0]["readiness_probe"] =
                        json!({"path": "/ready", "period_seconds": 2, "timeout_seconds": 2})
                },
                "services[0].readiness_probe.timeout_seconds",
            ),
            (
                |v| {
                    v["services"][0]["readiness_probe"] =
                        json!({"path": "/ready", "failure_threshold": 0})
                },
                "services[0].readiness_probe.failure_threshold",
            ),
        ];
        for (f, field) in cases {
            assert_eq!(with_services(f), [field]);
        }
        assert!(
            with_services(|v| {
                v["services"][0]["multi_region"] = json!(true);
                v["services"][0]["readiness_probe"] =
                    json!({"path": "/ready", "period_seconds": 5, "timeout_seconds": 2, "failure_threshold": 2});
            })
            .is_empty()
        );
        assert_eq!(
            parse_field(
                |v| v["services"] = json!([{"name": "a", "image": "x", "regions": [],
                "readiness_probe": {"path": "/", "success_threshold": 1}}])
            )
            .as_deref(),
            Some("services[0].readiness_probe.success_threshold")
        );
        // Accepted forms: millicores, a number, Gi, env as a map or a list, a digest, a subset
        // of the service's regions in the backend, a canary among the service's regions.
        assert!(
            with_services(|v| {
                v["services"][0]["cpu"] = json!("2000m");
                v["services"][0]["memory"] = json!("2Gi");
                v["services"][0]["env"] = json!({"MODE": "prod"});
                v["services"][0]["image"] =
                    json!(format!("gcr.io/p/app@sha256:{}", "a".repeat(64)));
                v["backends"][0]["regions"] = json!(["us-central1"]);
                v["rollout"] = json!({"canary_region": "asia-east1"});
            })
            .is_empty()
        );
        assert!(
            with_services(|v| {
                v["services"][0]["cpu"] = json!(8);
                v["services"][0]["memory"] = json!("4Gi");
                v["services"][0]["env"] = json!([{"name": "A", "value": "1"}]);
                v["services"][0]["image"] = json!("localhost:5000/team/app:v1.2_3");
            })
            .is_empty()
        );
        // Shape errors name the field.
        assert_eq!(
            parse_field(|v| v["services"] =
                json!([{"name": "a", "image": "x", "regions": [], "colour": 1}]))
            .as_deref(),
            Some("services[0].colour")
        );
        assert_eq!(
            parse_field(|v| v["services"] =
                json!([{"name": "a", "image": "x", "regions": [], "min_instances": -1}]))
            .as_deref(),
            Some("services[0].min_instances")
        );
        assert_eq!(
            parse_field(|v| v["services"] =
                json!([{"name": "a", "image": "x", "regions": [], "ingress": "public"}]))
            .as_deref(),
            Some("services[0].ingress")
        );
        assert_eq!(
            parse_field(|v| v["rollout"] = json!({"canary": "x"})).as_deref(),
            Some("rollout.canary")
        );
    }

    /// The errors for `services[0].env` set to `env`, as (field, message).
    fn env_errors(env: Value) -> Vec<(String, String)> {
        let mut v = crate::domain::parse::tests::base();
        v["services"] = json!([{"name": "my-app", "image": "us-docker.pkg.dev/cloudrun/container/hello",
            "regions": ["us-central1", "europe-west1", "asia-east1"], "env": env}]);
        let spec = crate::domain::parse::parse(v.to_string()).unwrap();
        validate(&spec)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    #[test]
    fn secret_references_follow_secret_managers_rules() {
        // Accepted: an id in the service's project, another project's secret by id or number,
        // `latest` or a version number, and no version (which means latest).
        let ok = json!([
            {"name": "MODE", "value": "prod"},
            {"name": "EMPTY", "value": ""},
            {"name": "A", "secret": "db-pass", "version": "latest"},
            {"name": "B", "secret": "Db_Pass-2", "version": "12"},
            {"name": "C", "secret": "projects/other-proj/secrets/api-key", "version": "1"},
            {"name": "D", "secret": "projects/123456789012/secrets/api-key"},
            {"name": "E", "secret": "x".repeat(255)}
        ]);
        assert_eq!(env_errors(ok), vec![]);
        let one = |entry: Value, field: &str, words: &str| {
            let got = env_errors(json!([entry]));
            assert_eq!(got.len(), 1, "{got:?}");
            assert_eq!(got[0].0, field, "{got:?}");
            assert!(got[0].1.contains(words), "{got:?}");
        };
        one(
            json!({"name": "A", "secret": "db pass"}),
            "services[0].env[0].secret",
            "`db pass` is not a Secret Manager secret",
        );
        one(
            json!({"name": "A", "secret": "x".repeat(256)}),
            "services[0].env[0].secret",
            "1 to 255 letters",
        );
        one(
            json!({"name": "A", "secret": ""}),
            "services[0].env[0].secret",
            "is not a Secret Manager secret",
        );
        one(
            json!({"name": "A", "secret": "projects/p/secrets/s"}),
            "services[0].env[0].secret",
            "projects/PROJECT/secrets/ID",
        );
        one(
            json!({"name": "A", "secret": "db-pass", "version": "0"}),
            "services[0].env[0].version",
            "`0` is not a secret version",
        );
        one(
            json!({"name": "A", "secret": "db-pass", "version": "newest"}),
            "services[0].env[0].version",
            "`latest` or a version number",
        );
        one(
            json!({"name": "A", "secret": "db-pass", "version": "-1"}),
            "services[0].env[0].version",
            "not a secret version",
        );
        one(
            json!({"name": "A", "value": "x", "version": "1"}),
            "services[0].env[0].version",
            "only goes with a secret",
        );
        one(
            json!({"name": "A", "value": "x", "secret": "db-pass"}),
            "services[0].env[0].secret",
            "both a value and a secret",
        );
        one(
            json!({"name": "A"}),
            "services[0].env[0].value",
            "needs a value, or a Secret Manager secret",
        );
        // The name rules hold for secret references too.
        one(
            json!({"name": "PORT", "secret": "db-pass"}),
            "services[0].env[0].name",
            "set by Cloud Run itself",
        );
        let twice = env_errors(json!([{"name": "A", "value": "1"}, {"name": "A", "secret": "s"}]));
        assert_eq!(twice[0].0, "services[0].env[1].name");
        // Shape errors name the entry's field.
        let shape = |env: Value| {
            parse_field(|v| {
                v["services"] = json!([{"name": "a", "image": "x", "regions": [], "env": env}])
            })
        };
        assert_eq!(
            shape(json!([{"name": "A", "secret": 5}])).as_deref(),
            Some("services[0].env[0].secret")
        );
        assert_eq!(
            shape(json!([{"name": "A", "secret": "s", "key": "k"}])).as_deref(),
            Some("services[0].env[0].key")
        );
        assert_eq!(
            shape(json!([{"value": "x"}])).as_deref(),
            Some("services[0].env[0].name")
        );
        assert_eq!(
            shape(json!([{"name": "A", "hidden": true}])).as_deref(),
            Some("services[0].env[0].hidden")
        );
        assert_eq!(
            shape(json!({"A": {"secret": "s"}})).as_deref(),
            Some("services[0].env.A")
        );
        assert_eq!(shape(json!("A=1")).as_deref(), Some("services[0].env"));
    }

    #[test]
    fn routing_rules() {
        assert_eq!(
            fields(|v| v["routing"]["default"]["backend"] = json!("nope")),
            ["routing.default.backend"]
        );
        assert_eq!(
            fields(
                |v| v["routing"]["default"] = json!({"split": [{"backend": "web", "weight": 0}, {"backend": "hello2", "weight": 0}]})
            ),
            ["routing.default.split"]
        );
        assert_eq!(
            fields(|v| v["routing"]["default"] =
                json!({"split": [{"backend": "web", "weight": 1001}]})),
            ["routing.default.split[0].weight"]
        );
        assert_eq!(
            fields(
                |v| v["routing"]["default"] = json!({"split": [{"backend": "web", "weight": 1}, {"backend": "web", "weight": 2}]})
            ),
            ["routing.default.split[1].backend"]
        );
        assert_eq!(
            fields(|v| v["routing"]["rules"][0]["paths"] = json!(["hello2"])),
            ["routing.rules[0].paths[0]"]
        );
        assert_eq!(
            fields(|v| v["routing"]["rules"][0]["paths"] = json!(["/hello2*"])),
            ["routing.rules[0].paths[0]"]
        );
        assert_eq!(
            fields(|v| v["routing"]["rules"][0]["paths"] = json!([])),
            ["routing.rules[0].paths"]
        );
        assert_eq!(
            fields(|v| v["routing"]["rules"][0]["hosts"] = json!(["*x.com"])),
            ["routing.rules[0].hosts[0]"]
        );
        assert_eq!(
            fields(|v| v["routing"]["rules"][0]["hosts"] = json!([])),
            ["routing.rules[0].hosts"]
        );
        assert_eq!(
            fields(|v| v["routing"]["rules"][0]["prefix_rewrite"] = json!("")),
            ["routing.rules[0].prefix_rewrite"]
        );
        assert_eq!(
            fields(|v| v["routing"]["rules"][0]["prefix_rewrite"] = json!("/".repeat(1025))),
            ["routing.rules[0].prefix_rewrite"]
        );
        assert_eq!(
            fields(|v| {
                v["routing"]["rules"][0]["backend"] = json!("web");
                v["routing"]["rules"][0]["host_rewrite"] = json!("h".repeat(256));
            }),
            ["routing.rules[0].host_rewrite"]
        );
        // Internet NEGs take their Host from the backend service, never from the URL map.
        let spec = parse(
            {
                let mut v = base();
                v["routing"]["rules"][0]["host_rewrite"] = json!("hello2.example.com");
                v
            }
            .to_string(),
        )
        .unwrap();
        let errs = validate(&spec).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "routing.rules[0].host_rewrite");
        assert!(
            errs[0]
                .message
                .contains("backend `hello2` is an internet backend")
                && errs[0].message.contains("host_header"),
            "{}",
            errs[0].message
        );
        // Same host set (in another order): duplicate path; different sets sharing a host: error.
        assert_eq!(
            fields(|v| v["routing"]["rules"] = json!([
                {"hosts": ["a.com", "b.com"], "paths": ["/x"], "backend": "web"},
                {"hosts": ["b.com", "a.com"], "paths": ["/x"], "backend": "hello2"}
            ])),
            ["routing.rules[1].paths[0]"]
        );
        assert_eq!(
            fields(|v| v["routing"]["rules"] = json!([
                {"hosts": ["a.com", "b.com"], "paths": ["/x"], "backend": "web"},
                {"hosts": ["b.com"], "paths": ["/y"], "backend": "hello2"}
            ])),
            ["routing.rules[1].hosts[0]"]
        );
        // Same path under different host sets is fine.
        assert!(
            fields(|v| v["routing"]["rules"] = json!([
                {"hosts": ["a.com"], "paths": ["/x"], "backend": "web"},
                {"hosts": ["b.com"], "paths": ["/x"], "backend": "hello2"}
            ]))
            .is_empty()
        );
    }

    #[test]
    fn every_error_names_a_field_and_errors_accumulate() {
        let errs = fields(|v| {
            v["name"] = json!("BAD");
            v["project"] = json!("x");
            v["backends"][0]["regions"] = json!(["nowhere"]);
        });
        assert_eq!(errs, ["name", "project", "backends[0].regions[0]"]);
    }

    #[test]
    fn a_url_map_over_googles_size_limit_is_refused_naming_the_limit() {
        let mut v = base();
        let rules: Vec<Value> = (0..900)
            .map(|i| {
                json!({ "hosts": ["*"],
                    "paths": [format!("/{i}/{}", "a".repeat(600)), format!("/{i}/{}/*", "b".repeat(600))],
                    "backend": "hello2" })
            })
            .collect();
        v["routing"]["rules"] = json!(rules);
        let spec = parse(v.to_string()).unwrap();
        let errs = validate(&spec).unwrap_err();
        assert!(
            errs.iter()
                .any(|e| e.field == "routing" && e.message.contains("at most 1 MB")),
            "{errs:?}"
        );
        // The same rules, fewer of them, pass.
        v["routing"]["rules"] = json!(rules[..50].to_vec());
        assert!(validate(&parse(v.to_string()).unwrap()).is_ok());
    }
}
