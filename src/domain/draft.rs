//! Drafts: a routing spec as the wizard builds it, possibly incomplete, and the pure functions
//! that merge one wizard step's form fields into it. Nothing here knows about HTTP: the web
//! layer deserializes a form into the plain structs below and calls these functions.
//!
//! A draft serializes to the spec JSON of docs/contract.md §2 with the parts the user has not filled
//! in yet left out (no `frontend.protocol` until one is chosen, no `routing.default` until a
//! target is picked), so a complete draft *is* a spec: [`Draft::to_spec`] parses it with the
//! same `parse::parse` the API uses, and the errors name the same fields.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::parse::{self, ParseError};
use super::spec::{
    Backend, BackendKind, CertificateMode, DEFAULT_PORT, EnvSource, EnvVar, Ingress, IpKind,
    Protocol, ReadinessProbe, Rollout, Rule, Service, Spec, Target, WeightedBackend,
};
use super::validate::{self, FieldError};

/// The spec being edited. Field for field the spec, with what may still be missing optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub project: String,
    #[serde(default)]
    pub frontend: DraftFrontend,
    #[serde(default)]
    pub backends: Vec<Backend>,
    #[serde(default)]
    pub routing: DraftRouting,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftFrontend {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default = "static_ip")]
    pub ip: IpKind,
    #[serde(default)]
    pub http_redirect: bool,
    #[serde(default, skip_serializing_if = "CertificateMode::is_managed")]
    pub certificate: CertificateMode,
    /// The per-frontend options (`domain::frontend_options`), carried as the spec has them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ipv6: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http3: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_policy: Option<crate::domain::frontend_options::SslPolicy>,
}

fn static_ip() -> IpKind {
    IpKind::Static
}

impl Default for DraftFrontend {
    fn default() -> Self {
        DraftFrontend {
            protocol: None,
            domains: Vec::new(),
            ip: IpKind::Static,
            http_redirect: false,
            certificate: CertificateMode::Managed,
            ipv6: false,
            http3: None,
            ssl_policy: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftRouting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Target>,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// A form field the user has to correct; `field` is the form's field name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftError {
    pub field: String,
    pub message: String,
}

impl DraftError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        DraftError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for DraftError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

type Result<T> = std::result::Result<T, DraftError>;

/// The first field (as a spec path, `backends[0].max_rate`) that `input` sets and `kept` lacks.
fn dropped_field(input: &Value, kept: &Value, path: &str) -> Option<String> {
    match (input, kept) {
        (Value::Object(i), Value::Object(k)) => i.iter().find_map(|(key, v)| {
            let at = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            match k.get(key) {
                None if !is_empty(v) => Some(at),
                None => None,
                Some(kv) => dropped_field(v, kv, &at),
            }
        }),
        (Value::Array(i), Value::Array(k)) => i
            .iter()
            .zip(k)
            .enumerate()
            .find_map(|(n, (v, kv))| dropped_field(v, kv, &format!("{path}[{n}]"))),
        _ => None,
    }
}

/// What a draft leaves out when it writes itself (nothing, an empty list, the default `false`).
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(_) | Value::Bool(true) => false,
    }
}

impl Draft {
    /// A new draft from the Basics step: everything else is left for the later steps.
    pub fn new(name: &str, project: &str) -> Result<Draft> {
        let mut d = Draft::default();
        // The console's frontend form starts on HTTP too; HTTPS is one click on Frontend.
        d.frontend.protocol = Some(Protocol::Http);
        apply_basics(
            &mut d,
            &BasicsForm {
                name: name.into(),
                project: project.into(),
            },
        )?;
        Ok(d)
    }

    /// A draft from any spec.
    pub fn from_spec(spec: &Spec) -> Draft {
        Draft {
            name: spec.name.clone(),
            project: spec.project.clone(),
            frontend: DraftFrontend {
                protocol: Some(spec.frontend.protocol),
                domains: spec.frontend.domains.clone(),
                ip: spec.frontend.ip,
                http_redirect: spec.frontend.http_redirect,
                certificate: spec.frontend.certificate,
                ipv6: spec.frontend.ipv6,
                http3: spec.frontend.http3,
                ssl_policy: spec.frontend.ssl_policy.clone(),
            },
            backends: spec.backends.clone(),
            routing: DraftRouting {
                default: Some(spec.routing.default.clone()),
                rules: spec.routing.rules.clone(),
            },
            services: spec.services.clone(),
            rollout: spec.rollout.clone(),
        }
    }

    /// Reads a stored draft or an imported file: a complete spec, or a draft with parts missing.
    /// Unknown fields are refused as they are for specs.
    pub fn from_json(text: &str) -> std::result::Result<Draft, ParseError> {
        match parse::parse(text) {
            Ok(spec) => Ok(Draft::from_spec(&spec)),
            Err(spec_err) => {
                // Not a spec; an incomplete draft is fine, as long as what is there has the
                // spec's shape. When it is not even that, the spec's error says most. (Only an
                // object: serde would read a struct from a JSON array too.)
                let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(text) else {
                    return Err(spec_err);
                };
                let d: Draft = serde_json::from_value(v.clone()).map_err(|_| spec_err.clone())?;
                // A field the draft does not hold would be dropped without a word: refuse it
                // the way the API does, naming it.
                match dropped_field(&v, &d.to_json(), "") {
                    Some(field) => Err(ParseError {
                        message: format!(
                            "unknown field `{}`: it is not part of a spec, and importing would drop it",
                            field.rsplit(['.', ']']).next().unwrap_or(&field)
                        ),
                        field: Some(field),
                    }),
                    None => Ok(d),
                }
            }
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The draft as a spec, or the first thing missing or malformed (with its field).
    pub fn to_spec(&self) -> std::result::Result<Spec, ParseError> {
        parse::parse(self.to_json().to_string())
    }

    /// Names of the backends, for the routing step's choices.
    pub fn backend_names(&self) -> Vec<String> {
        self.backends.iter().map(|b| b.name.clone()).collect()
    }
}

/// Splits a list the user typed: commas, newlines or spaces between items, blanks dropped.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

// ------------------------------------------------------------------------------------------
// Basics

#[derive(Debug, Clone, Default, Deserialize)]
pub struct BasicsForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub project: String,
}

/// Name and project. Both are required here (the name keys the deployment in the list);
/// their format is judged by validation ([`check`]), like every other field, so a bad name is
/// saved as typed and said under its field.
pub fn apply_basics(d: &mut Draft, f: &BasicsForm) -> Result<()> {
    let name = f.name.trim();
    let project = f.project.trim();
    if name.is_empty() {
        return Err(DraftError::new("name", "give the deployment a name"));
    }
    if project.is_empty() {
        return Err(DraftError::new(
            "project",
            "give the Google Cloud project id",
        ));
    }
    d.name = name.to_string();
    d.project = project.to_string();
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Frontend

#[derive(Debug, Clone, Default, Deserialize)]
pub struct FrontendForm {
    /// `http`, `https` or empty (not chosen yet).
    #[serde(default)]
    pub protocol: String,
    /// Comma, space or newline separated.
    #[serde(default)]
    pub domains: String,
    /// `static` or `ephemeral`.
    #[serde(default)]
    pub ip: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    pub http_redirect: Option<String>,
    /// `certificate-manager`, `managed`, or empty (keep what the draft has).
    #[serde(default)]
    pub certificate: String,
    /// A checkbox: present when ticked (`frontend.ipv6`).
    #[serde(default)]
    pub ipv6: Option<String>,
    /// `on`, `off`, or empty: Google decides (`frontend.http3`).
    #[serde(default)]
    pub http3: String,
    /// `COMPATIBLE`, `MODERN`, `RESTRICTED`, or empty: no SSL policy.
    #[serde(default)]
    pub ssl_profile: String,
    /// `1.0`, `1.1`, `1.2` (with a profile), or empty: TLS 1.0.
    #[serde(default)]
    pub min_tls_version: String,
}

pub fn apply_frontend(d: &mut Draft, f: &FrontendForm) -> Result<()> {
    let protocol = match f.protocol.trim() {
        "" => None,
        "http" => Some(Protocol::Http),
        "https" => Some(Protocol::Https),
        other => {
            return Err(DraftError::new(
                "protocol",
                format!("`{other}` is not a protocol: choose http or https"),
            ));
        }
    };
    let ip = match f.ip.trim() {
        "" | "static" => IpKind::Static,
        "ephemeral" => IpKind::Ephemeral,
        other => {
            return Err(DraftError::new(
                "ip",
                format!("`{other}` is not an address kind: choose static or ephemeral"),
            ));
        }
    };
    let certificate = match f.certificate.trim() {
        "" => d.frontend.certificate,
        "managed" => CertificateMode::Managed,
        "certificate-manager" => CertificateMode::CertificateManager,
        other => {
            return Err(DraftError::new(
                "certificate",
                format!(
                    "`{other}` is not a kind of certificate: choose certificate-manager or managed"
                ),
            ));
        }
    };
    let (http3, ssl_policy) = frontend_option_fields(f)?;
    d.frontend = DraftFrontend {
        protocol,
        domains: split_list(&f.domains)
            .into_iter()
            .map(|s| s.to_ascii_lowercase())
            .collect(),
        ip,
        // The redirect is an https feature; with http the box is hidden, so drop a stale tick
        // rather than let validation complain about a field the user cannot see.
        http_redirect: f.http_redirect.is_some() && protocol != Some(Protocol::Http),
        // Certificates only exist for https; an http draft keeps no stale choice.
        certificate: if protocol == Some(Protocol::Https) {
            certificate
        } else {
            CertificateMode::Managed
        },
        ipv6: f.ipv6.is_some(),
        // HTTPS-only, hidden with http: a stale choice is dropped, as for the redirect.
        http3: http3.filter(|_| protocol == Some(Protocol::Https)),
        ssl_policy: ssl_policy.filter(|_| protocol == Some(Protocol::Https)),
    };
    Ok(())
}

/// The HTTP/3 and SSL policy fields of the form, in the spec's terms.
fn frontend_option_fields(
    f: &FrontendForm,
) -> Result<(
    Option<bool>,
    Option<crate::domain::frontend_options::SslPolicy>,
)> {
    use crate::domain::frontend_options::{SslPolicy, SslProfile, TlsVersion};
    let http3 = match f.http3.trim() {
        "" => None,
        "on" => Some(true),
        "off" => Some(false),
        other => {
            return Err(DraftError::new(
                "http3",
                format!("`{other}` is not an HTTP/3 choice: choose on, off or Google's default"),
            ));
        }
    };
    let profile = match f.ssl_profile.trim() {
        "" => return Ok((http3, None)),
        p => SslProfile::from_api(p).ok_or_else(|| {
            DraftError::new(
                "ssl_profile",
                format!("`{p}` is not a profile: choose COMPATIBLE, MODERN or RESTRICTED"),
            )
        })?,
    };
    let min_tls_version = match f.min_tls_version.trim() {
        "" => None,
        v => Some(
            [TlsVersion::Tls10, TlsVersion::Tls11, TlsVersion::Tls12]
                .into_iter()
                .find(|t| t.as_str() == v)
                .ok_or_else(|| {
                    DraftError::new(
                        "min_tls_version",
                        format!("`{v}` is not a TLS version: choose 1.0, 1.1 or 1.2"),
                    )
                })?,
        ),
    };
    Ok((
        http3,
        Some(SslPolicy {
            min_tls_version,
            profile: Some(profile),
        }),
    ))
}

// ------------------------------------------------------------------------------------------
// Backends

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServerlessForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub service: String,
    /// Comma, space or newline separated; the form's checkboxes send one `regions` each, which
    /// the web layer joins.
    #[serde(default)]
    pub regions: String,
    #[serde(default)]
    pub cdn: Option<String>,
    #[serde(default)]
    pub outlier_detection: Option<String>,
    /// Edge security (docs/contract.md §2.8): policy names, `iap` (`""`, `load-balancer`,
    /// `cloud-run`) and the CDN cache mode (`""` for Google's default).
    #[serde(default)]
    pub security_policy: String,
    #[serde(default)]
    pub edge_security_policy: String,
    #[serde(default)]
    pub iap: String,
    #[serde(default)]
    pub cache_mode: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct InternetForm {
    #[serde(default)]
    pub name: String,
    /// What the backend reaches: `fqdn` (the default), `ip` or `deployment`.
    #[serde(default)]
    pub target: String,
    /// A Cloud Run URL (`https://hello2-abc-uc.a.run.app/`) or a plain FQDN, with optional
    /// port; with `target=ip`, an IPv4 address with optional port.
    #[serde(default)]
    pub endpoint: String,
    /// With `target=deployment`: the other deployment's name.
    #[serde(default)]
    pub deployment: String,
    /// `fqdn` (default: Host header = the FQDN), `custom` (use `host_header`), `none`.
    #[serde(default)]
    pub host_mode: String,
    #[serde(default)]
    pub host_header: String,
    #[serde(default)]
    pub cdn: Option<String>,
    #[serde(default)]
    pub outlier_detection: Option<String>,
    /// Edge security (docs/contract.md §2.8): policy names, `iap` (`""`, `load-balancer`,
    /// `cloud-run`) and the CDN cache mode (`""` for Google's default).
    #[serde(default)]
    pub security_policy: String,
    #[serde(default)]
    pub edge_security_policy: String,
    #[serde(default)]
    pub iap: String,
    #[serde(default)]
    pub cache_mode: String,
}

/// FQDN and port from what the user pasted: a URL (`https://x.a.run.app/path`, whose scheme
/// gives the port unless one is written) or a bare `host[:port]`.
pub fn parse_endpoint(input: &str) -> Result<(String, u16)> {
    let input = input.trim();
    if input.is_empty() {
        return Err(DraftError::new(
            "endpoint",
            "paste a Cloud Run URL or type a fully qualified domain name",
        ));
    }
    let with_scheme = if input.contains("://") {
        input.to_string()
    } else {
        format!("https://{input}")
    };
    let url = url::Url::parse(&with_scheme)
        .map_err(|e| DraftError::new("endpoint", format!("`{input}` is not a URL or FQDN: {e}")))?;
    let port = match url.scheme() {
        "https" | "http" => url.port_or_known_default().unwrap_or(443),
        other => {
            return Err(DraftError::new(
                "endpoint",
                format!("`{other}://` is not a web address: use https://"),
            ));
        }
    };
    let host = match url.host() {
        Some(url::Host::Domain(h)) => h.trim_end_matches('.').to_string(),
        Some(_) => {
            return Err(DraftError::new(
                "endpoint",
                "that is an IP address: choose “IP address” (reached by IP) to chain to a load balancer by its IP, or give a domain name",
            ));
        }
        None => return Err(DraftError::new("endpoint", "the URL has no host name")),
    };
    Ok((host, port))
}

/// What an internet backend form reaches, owned.
enum Endpoint {
    Fqdn(String),
    Ip(String),
    Deployment(String),
}

/// An IP address and port from `203.0.113.5` or `203.0.113.5:8443` (443 when none is written),
/// checked as the spec's `ip` is.
pub fn parse_ip_endpoint(input: &str) -> Result<(String, u16)> {
    let input = input.trim();
    if input.is_empty() {
        return Err(DraftError::new(
            "endpoint",
            "type the IP address of the load balancer or server, e.g. 34.120.1.2",
        ));
    }
    let (address, port) = match input.rsplit_once(':') {
        Some((a, p)) if !a.contains(':') => {
            let port = p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                DraftError::new("endpoint", format!("`{p}` is not a port from 1 to 65535"))
            })?;
            (a, port)
        }
        _ => (input, DEFAULT_PORT),
    };
    if let Some(p) = crate::domain::validate::ip_address_problem(address) {
        return Err(DraftError::new("endpoint", format!("`{address}`: {p}")));
    }
    Ok((address.to_string(), port))
}

/// A backend name suggested from an FQDN: for a Cloud Run URL
/// (`SERVICE-PROJECTHASH-REGION.a.run.app`) the service, otherwise the first label.
pub fn suggest_backend_name(fqdn: &str) -> String {
    let first = fqdn.split('.').next().unwrap_or_default();
    let base = if fqdn.ends_with(".run.app") {
        let parts: Vec<&str> = first.rsplitn(3, '-').collect();
        if parts.len() == 3 { parts[2] } else { first }
    } else {
        first
    };
    let name: String = base
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = name.trim_matches('-');
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        format!("backend-{name}").trim_end_matches('-').to_string()
    } else {
        name.to_string()
    }
}

/// A name not yet taken by a backend of the draft: `want`, else `want-2`, `want-3`...
fn free_backend_name(d: &Draft, want: &str) -> String {
    if d.backends.iter().all(|b| b.name != want) {
        return want.to_string();
    }
    (2..)
        .map(|i| format!("{want}-{i}"))
        .find(|n| d.backends.iter().all(|b| b.name != *n))
        .unwrap_or_default()
}

fn check_new_name(d: &Draft, name: &str) -> Result<()> {
    if d.backends.iter().any(|b| b.name == name) {
        return Err(DraftError::new(
            "name",
            format!("there is already a backend named `{name}`"),
        ));
    }
    Ok(())
}

pub fn add_serverless(d: &mut Draft, f: &ServerlessForm) -> Result<()> {
    let service = f.service.trim().to_string();
    if service.is_empty() {
        return Err(DraftError::new(
            "service",
            "give the Cloud Run service name",
        ));
    }
    let regions = split_list(&f.regions);
    if regions.is_empty() {
        return Err(DraftError::new(
            "regions",
            "choose at least one region the service runs in",
        ));
    }
    let name = match f.name.trim() {
        "" => free_backend_name(d, &suggest_backend_name(&service)),
        n => {
            check_new_name(d, n)?;
            n.to_string()
        }
    };
    d.backends.push(Backend {
        name,
        kind: BackendKind::Serverless { service, regions },
        cdn: f.cdn.is_some(),
        outlier_detection: f.outlier_detection.is_some(),
        project: None,
        edge: edge_from_form(
            &f.security_policy,
            &f.edge_security_policy,
            &f.iap,
            &f.cache_mode,
        )?,
    });
    Ok(())
}

/// The edge options the backend forms carry; TTLs and logging are the spec's only.
fn edge_from_form(
    security_policy: &str,
    edge_security_policy: &str,
    iap: &str,
    cache_mode: &str,
) -> Result<crate::domain::edge_security::BackendEdge> {
    use crate::domain::edge_security::{BackendEdge, CacheMode, CdnPolicy, Iap};
    let name = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let iap = match iap.trim() {
        "" => None,
        "load-balancer" => Some(Iap::LoadBalancer),
        "cloud-run" => Some(Iap::CloudRun),
        other => {
            return Err(DraftError::new(
                "iap",
                format!(
                    "`{other}` is not an IAP choice: none, on the load balancer, or on Cloud Run"
                ),
            ));
        }
    };
    let cdn_policy = match cache_mode.trim() {
        "" => None,
        m => Some(CdnPolicy {
            cache_mode: Some(CacheMode::from_api(m).ok_or_else(|| {
                DraftError::new("cache_mode", format!("`{m}` is not a Cloud CDN cache mode"))
            })?),
            ..CdnPolicy::default()
        }),
    };
    Ok(BackendEdge {
        security_policy: name(security_policy),
        edge_security_policy: name(edge_security_policy),
        iap,
        cdn_policy,
        logging: None,
    })
}

/// Adds an internet backend. The FQDN and port come from the pasted URL; the Host header is
/// the FQDN by default, because a Cloud Run URL reached through the load balancer answers 404
/// without it (seed walkthrough 002).
pub fn add_internet(d: &mut Draft, f: &InternetForm) -> Result<()> {
    let (endpoint, port) = match f.target.trim() {
        "" | "fqdn" => {
            let (fqdn, port) = parse_endpoint(&f.endpoint)?;
            (Endpoint::Fqdn(fqdn), port)
        }
        "ip" => {
            let (ip, port) = parse_ip_endpoint(&f.endpoint)?;
            (Endpoint::Ip(ip), port)
        }
        "deployment" => match f.deployment.trim() {
            "" => {
                return Err(DraftError::new(
                    "deployment",
                    "choose the deployment this backend sends its traffic to",
                ));
            }
            other => (Endpoint::Deployment(other.to_string()), DEFAULT_PORT),
        },
        other => {
            return Err(DraftError::new(
                "target",
                format!("`{other}` is not a choice: fqdn, ip or deployment"),
            ));
        }
    };
    // An address or another deployment has no name of its own to send as Host: keeping the
    // client's is the default there (a chained deployment's domain is sent when it has one).
    let named = match &endpoint {
        Endpoint::Fqdn(fqdn) => Some(fqdn.clone()),
        _ => None,
    };
    let host_header = match f.host_mode.trim() {
        "" | "fqdn" => named.clone(),
        "custom" => match f.host_header.trim() {
            "" => {
                return Err(DraftError::new(
                    "host_header",
                    "give the Host header to send, or choose to send the FQDN",
                ));
            }
            h => Some(h.to_string()),
        },
        "none" => None,
        other => {
            return Err(DraftError::new(
                "host_mode",
                format!("`{other}` is not a choice: fqdn, custom or none"),
            ));
        }
    };
    let suggested = match &endpoint {
        Endpoint::Fqdn(fqdn) => suggest_backend_name(fqdn),
        Endpoint::Deployment(other) => suggest_backend_name(other),
        Endpoint::Ip(_) => "origin".to_string(),
    };
    let name = match f.name.trim() {
        "" => free_backend_name(d, &suggested),
        n => {
            check_new_name(d, n)?;
            n.to_string()
        }
    };
    d.backends.push(Backend {
        name,
        kind: BackendKind::Internet {
            fqdn: named,
            ip: match &endpoint {
                Endpoint::Ip(ip) => Some(ip.clone()),
                _ => None,
            },
            deployment: match &endpoint {
                Endpoint::Deployment(other) => Some(other.clone()),
                _ => None,
            },
            port,
            host_header,
        },
        cdn: f.cdn.is_some(),
        outlier_detection: f.outlier_detection.is_some(),
        project: None,
        edge: edge_from_form(
            &f.security_policy,
            &f.edge_security_policy,
            &f.iap,
            &f.cache_mode,
        )?,
    });
    Ok(())
}

/// Removes backend `index`. Routing that named it keeps the name, so Review shows the dangling
/// reference instead of the route silently changing.
pub fn remove_backend(d: &mut Draft, index: usize) -> Result<()> {
    if index >= d.backends.len() {
        return Err(DraftError::new(
            "index",
            "that backend is no longer in the draft; reload the page",
        ));
    }
    d.backends.remove(index);
    Ok(())
}

/// Changes backend `index` in place from the same form that adds one (`kind` is kept). A new
/// name is carried into the routing that named the old one, as renaming in the console does.
pub fn update_backend(
    d: &mut Draft,
    index: usize,
    serverless: &ServerlessForm,
    internet: &InternetForm,
) -> Result<()> {
    let Some(old) = d.backends.get(index).cloned() else {
        return Err(DraftError::new(
            "index",
            "that backend is no longer in the draft; reload the page",
        ));
    };
    // Build the replacement on a draft without the old backend, so its own name is free and
    // the add functions' checks apply unchanged.
    let mut rest = d.clone();
    rest.backends.remove(index);
    match old.kind {
        BackendKind::Serverless { .. } => {
            let f = ServerlessForm {
                name: match serverless.name.trim() {
                    "" => old.name.clone(),
                    n => n.to_string(),
                },
                ..serverless.clone()
            };
            add_serverless(&mut rest, &f)?;
        }
        BackendKind::Internet { .. } => {
            let f = InternetForm {
                name: match internet.name.trim() {
                    "" => old.name.clone(),
                    n => n.to_string(),
                },
                ..internet.clone()
            };
            add_internet(&mut rest, &f)?;
        }
    }
    let mut new = rest
        .backends
        .pop()
        .expect("the add function pushed the backend");
    // The form has no field for a serverless backend's project, the CDN TTLs or logging: an
    // edit keeps them (the TTLs under the cache mode the form chose).
    new.project = old.project.clone();
    new.edge.logging = old.edge.logging.clone();
    if let Some(kept) = &old.edge.cdn_policy {
        new.edge.cdn_policy = Some(crate::domain::edge_security::CdnPolicy {
            cache_mode: new.edge.cdn_policy.as_ref().and_then(|p| p.cache_mode),
            ..kept.clone()
        })
        .filter(|p| *p != crate::domain::edge_security::CdnPolicy::default());
    }
    if new.name != old.name {
        rename_references(d, &old.name, &new.name);
    }
    d.backends[index] = new;
    Ok(())
}

fn rename_references(d: &mut Draft, from: &str, to: &str) {
    let rename = |t: &mut Target| match t {
        Target::Backend { backend } if backend == from => *backend = to.to_string(),
        Target::Backend { .. } => {}
        Target::Split { split } => {
            for w in split.iter_mut().filter(|w| w.backend == from) {
                w.backend = to.to_string();
            }
        }
    };
    if let Some(t) = d.routing.default.as_mut() {
        rename(t);
    }
    for r in &mut d.routing.rules {
        rename(&mut r.target);
    }
}

/// What the internet backend form shows for an existing backend: `fqdn` or `fqdn:port`.
pub fn endpoint_text(fqdn: &str, port: u16) -> String {
    if port == 443 {
        fqdn.to_string()
    } else {
        format!("{fqdn}:{port}")
    }
}

// ------------------------------------------------------------------------------------------
// Routing

/// A target as the routing step's form gives it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TargetForm {
    /// `backend` (one backend), `split` (weighted) or empty (not chosen).
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub backend: String,
    /// `name=weight` (or `name:weight`) items, comma or newline separated: `web=90, canary=10`.
    #[serde(default)]
    pub split: String,
}

/// Parses `web=90, canary=10` into a split.
pub fn parse_split(s: &str, field: &str) -> Result<Vec<WeightedBackend>> {
    let items: Vec<&str> = s
        .split([',', '\n', ';'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect();
    if items.is_empty() {
        return Err(DraftError::new(
            field,
            "give the split as backend=weight items, e.g. web=90, canary=10",
        ));
    }
    items
        .into_iter()
        .map(|item| {
            let (b, w) = item.split_once(['=', ':']).ok_or_else(|| {
                DraftError::new(
                    field,
                    format!("`{item}`: write backend=weight, e.g. web=90"),
                )
            })?;
            let weight = w.trim().parse::<u32>().map_err(|_| {
                DraftError::new(
                    field,
                    format!("`{item}`: the weight must be a whole number from 0 to 1000"),
                )
            })?;
            Ok(WeightedBackend {
                backend: b.trim().to_string(),
                weight,
            })
        })
        .collect()
}

/// `None` when no target is chosen yet.
fn target(f: &TargetForm, field_prefix: &str) -> Result<Option<Target>> {
    match f.kind.trim() {
        "" => Ok(None),
        "backend" => match f.backend.trim() {
            "" => Ok(None),
            b => Ok(Some(Target::Backend {
                backend: b.to_string(),
            })),
        },
        "split" => Ok(Some(Target::Split {
            split: parse_split(&f.split, &format!("{field_prefix}split"))?,
        })),
        other => Err(DraftError::new(
            &format!("{field_prefix}kind"),
            format!("`{other}` is not a target kind: backend or split"),
        )),
    }
}

/// The default target: where requests that match no rule go.
pub fn apply_default(d: &mut Draft, f: &TargetForm) -> Result<()> {
    d.routing.default = target(f, "default_")?;
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RuleForm {
    /// Host patterns; empty means any host (`*`).
    #[serde(default)]
    pub hosts: String,
    #[serde(default)]
    pub paths: String,
    #[serde(flatten)]
    pub target: TargetForm,
    #[serde(default)]
    pub prefix_rewrite: String,
    #[serde(default)]
    pub host_rewrite: String,
}

/// Builds a rule from its form.
pub fn rule_from_form(f: &RuleForm) -> Result<Rule> {
    let mut hosts = split_list(&f.hosts);
    if hosts.is_empty() {
        hosts.push("*".to_string());
    }
    let paths = split_list(&f.paths);
    if paths.is_empty() {
        return Err(DraftError::new(
            "paths",
            "give at least one path, e.g. /api/* or /hello2",
        ));
    }
    let target = target(&f.target, "")?.ok_or_else(|| {
        DraftError::new(
            "backend",
            "choose the backend (or split) this rule sends to",
        )
    })?;
    let opt = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_string())
    };
    Ok(Rule {
        hosts,
        paths,
        target,
        prefix_rewrite: opt(&f.prefix_rewrite),
        host_rewrite: opt(&f.host_rewrite),
    })
}

pub fn add_rule(d: &mut Draft, f: &RuleForm) -> Result<()> {
    d.routing.rules.push(rule_from_form(f)?);
    Ok(())
}

pub fn update_rule(d: &mut Draft, index: usize, f: &RuleForm) -> Result<()> {
    let rule = rule_from_form(f)?;
    match d.routing.rules.get_mut(index) {
        Some(r) => {
            *r = rule;
            Ok(())
        }
        None => Err(DraftError::new(
            "index",
            "that rule is no longer in the draft; reload the page",
        )),
    }
}

pub fn remove_rule(d: &mut Draft, index: usize) -> Result<()> {
    if index >= d.routing.rules.len() {
        return Err(DraftError::new(
            "index",
            "that rule is no longer in the draft; reload the page",
        ));
    }
    d.routing.rules.remove(index);
    Ok(())
}

/// A split as the form shows it: `web=90, canary=10`.
pub fn split_text(split: &[WeightedBackend]) -> String {
    split
        .iter()
        .map(|w| format!("{}={}", w.backend, w.weight))
        .collect::<Vec<_>>()
        .join(", ")
}

// ------------------------------------------------------------------------------------------
// Services (Cloud Run services the deployment deploys)

/// The Services step's add and edit form. Numbers arrive as text; blank means the default.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub image: String,
    /// Comma, space or newline separated.
    #[serde(default)]
    pub regions: String,
    #[serde(default)]
    pub min_instances: String,
    #[serde(default)]
    pub max_instances: String,
    #[serde(default)]
    pub memory: String,
    #[serde(default)]
    pub cpu: String,
    #[serde(default)]
    pub concurrency: String,
    /// One `NAME=value` per line.
    #[serde(default)]
    pub env: String,
    /// One `NAME=SECRET:VERSION` per line (as gcloud's `--set-secrets`); `:VERSION` may be left
    /// out for `latest`.
    #[serde(default)]
    pub secrets: String,
    #[serde(default)]
    pub ingress: String,
    #[serde(default)]
    pub allow_unauthenticated: Option<String>,
    /// A checkbox: one multi-region service for all of `regions`.
    #[serde(default)]
    pub multi_region: Option<String>,
    /// The readiness probe's HTTP path; empty for none. The numbers are empty for Cloud Run's
    /// defaults.
    #[serde(default)]
    pub readiness_path: String,
    #[serde(default)]
    pub readiness_period: String,
    #[serde(default)]
    pub readiness_timeout: String,
    #[serde(default)]
    pub readiness_failures: String,
}

fn number(field: &str, text: &str, default: u32) -> Result<u32> {
    match text.trim() {
        "" => Ok(default),
        t => t
            .parse()
            .map_err(|_| DraftError::new(field, format!("`{t}` is not a whole number"))),
    }
}

/// `NAME=value` lines → env vars, in order; blank lines dropped.
pub fn parse_env(text: &str) -> Result<Vec<EnvVar>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok(EnvVar::plain(k.trim(), v)),
            // Only the name: the line may hold a value the person is about to fix, and the
            // message is shown back on the page.
            _ => Err(DraftError::new(
                "env",
                format!(
                    "`{}`: write one NAME=value per line",
                    l.split('=').next().unwrap_or_default()
                ),
            )),
        })
        .collect()
}

/// `NAME=SECRET:VERSION` lines → Secret Manager references, in order; no `:VERSION` means
/// `latest`. Whether the secret and version are well formed is validation's to say ([`check`]).
pub fn parse_secrets(text: &str) -> Result<Vec<EnvVar>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let bad = || {
                DraftError::new(
                    "secrets",
                    format!(
                        "`{l}`: write one NAME=SECRET:VERSION per line, e.g. DB_PASS=db-pass:latest"
                    ),
                )
            };
            let (name, reference) = l.split_once('=').ok_or_else(bad)?;
            let (secret, version) = match reference.trim().split_once(':') {
                Some((s, v)) => (s.trim(), v.trim()),
                None => (reference.trim(), super::spec::LATEST),
            };
            if name.trim().is_empty() || secret.is_empty() || version.is_empty() {
                return Err(bad());
            }
            Ok(EnvVar::from_secret(name.trim(), secret, version))
        })
        .collect()
}

/// The plain env vars as the form shows them (the secret references are in `secrets_text`).
pub fn env_text(env: &[EnvVar]) -> String {
    env.iter()
        .filter_map(|e| match e.source() {
            EnvSource::Value(v) => Some(format!("{}={v}", e.name)),
            EnvSource::Secret { .. } => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The Secret Manager references as the form shows them: `NAME=SECRET:VERSION` per line.
pub fn secrets_text(env: &[EnvVar]) -> String {
    env.iter()
        .filter_map(|e| match e.source() {
            EnvSource::Secret { secret, version } => Some(format!("{}={secret}:{version}", e.name)),
            EnvSource::Value(_) => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn service_from_form(f: &ServiceForm) -> Result<Service> {
    let name = f.name.trim().to_string();
    if name.is_empty() {
        return Err(DraftError::new("name", "give the Cloud Run service name"));
    }
    let image = f.image.trim().to_string();
    if image.is_empty() {
        return Err(DraftError::new(
            "image",
            "give the container image to deploy, e.g. us-docker.pkg.dev/PROJECT/REPO/IMAGE:TAG",
        ));
    }
    let regions = split_list(&f.regions);
    if regions.is_empty() {
        return Err(DraftError::new(
            "regions",
            "choose at least one region to deploy to",
        ));
    }
    let ingress = match f.ingress.trim() {
        "" | "internal-and-cloud-load-balancing" => Ingress::InternalAndCloudLoadBalancing,
        "internal" => Ingress::Internal,
        "all" => Ingress::All,
        other => {
            return Err(DraftError::new(
                "ingress",
                format!(
                    "`{other}` is not an ingress setting: all, internal or internal-and-cloud-load-balancing"
                ),
            ));
        }
    };
    let text_or = |t: &str, d: &str| match t.trim() {
        "" => d.to_string(),
        t => t.to_string(),
    };
    Ok(Service {
        name,
        image,
        regions,
        min_instances: number("min_instances", &f.min_instances, 0)?,
        max_instances: number("max_instances", &f.max_instances, 100)?,
        memory: text_or(&f.memory, "512Mi"),
        cpu: text_or(&f.cpu, "1"),
        concurrency: number("concurrency", &f.concurrency, 80)?,
        env: {
            let mut env = parse_env(&f.env)?;
            env.extend(parse_secrets(&f.secrets)?);
            env
        },
        ingress,
        allow_unauthenticated: f.allow_unauthenticated.is_some(),
        multi_region: f.multi_region.is_some(),
        readiness_probe: readiness_from_form(f)?,
        default_url: true,
    })
}

fn readiness_from_form(f: &ServiceForm) -> Result<Option<ReadinessProbe>> {
    let path = f.readiness_path.trim();
    let optional = |field: &'static str, text: &str| -> Result<Option<u32>> {
        match text.trim() {
            "" => Ok(None),
            t => t.parse().map(Some).map_err(|_| {
                DraftError::new(
                    field,
                    format!("`{t}` is not a whole number of seconds or tries"),
                )
            }),
        }
    };
    let period = optional("readiness_period", &f.readiness_period)?;
    let timeout = optional("readiness_timeout", &f.readiness_timeout)?;
    let failures = optional("readiness_failures", &f.readiness_failures)?;
    if path.is_empty() {
        if period.or(timeout).or(failures).is_some() {
            return Err(DraftError::new(
                "readiness_path",
                "give the path the readiness probe asks, e.g. /ready",
            ));
        }
        return Ok(None);
    }
    Ok(Some(ReadinessProbe {
        path: path.to_string(),
        period_seconds: period,
        timeout_seconds: timeout,
        failure_threshold: failures,
    }))
}

/// Adds a service. Its full rules (id syntax, cpu and memory values, ...) are validation's, shown
/// by [`check`] under each field; this only refuses what cannot be read or a duplicate name.
pub fn add_service(d: &mut Draft, f: &ServiceForm) -> Result<()> {
    let svc = service_from_form(f)?;
    if d.services.iter().any(|s| s.name == svc.name) {
        return Err(DraftError::new(
            "name",
            format!("a service named `{}` is already in the draft", svc.name),
        ));
    }
    d.services.push(svc);
    Ok(())
}

/// Changes service `index` in place; a serverless backend naming the old name follows a rename.
pub fn update_service(d: &mut Draft, index: usize, f: &ServiceForm) -> Result<()> {
    let Some(old) = d.services.get(index).cloned() else {
        return Err(DraftError::new(
            "index",
            "that service is no longer in the draft; reload the page",
        ));
    };
    let svc = service_from_form(f)?;
    if d.services
        .iter()
        .enumerate()
        .any(|(i, s)| i != index && s.name == svc.name)
    {
        return Err(DraftError::new(
            "name",
            format!("a service named `{}` is already in the draft", svc.name),
        ));
    }
    if svc.name != old.name {
        for b in &mut d.backends {
            if let BackendKind::Serverless { service, .. } = &mut b.kind
                && *service == old.name
            {
                *service = svc.name.clone();
            }
        }
    }
    // The form has no field for the default URL: an edit keeps it.
    d.services[index] = Service {
        default_url: old.default_url,
        ..svc
    };
    Ok(())
}

/// Removes service `index`. Backends naming it keep the name: they front a service deployed by
/// other means from then on.
pub fn remove_service(d: &mut Draft, index: usize) -> Result<()> {
    if index >= d.services.len() {
        return Err(DraftError::new(
            "index",
            "that service is no longer in the draft; reload the page",
        ));
    }
    d.services.remove(index);
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RolloutForm {
    /// Blank: every region at once.
    #[serde(default)]
    pub canary_region: String,
    /// The gate, blank for none: seconds each stage holds, the highest 5xx share in percent
    /// (people think of 5 %, the spec holds 0.05), the highest p95 in milliseconds.
    #[serde(default)]
    pub soak_seconds: String,
    #[serde(default)]
    pub max_error_percent: String,
    #[serde(default)]
    pub max_p95_ms: String,
}

fn decimal(field: &str, text: &str) -> Result<Option<f64>> {
    match text.trim() {
        "" => Ok(None),
        t => match t.trim_end_matches('%').trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(DraftError::new(field, format!("`{t}` is not a number"))),
        },
    }
}

pub fn apply_rollout(d: &mut Draft, f: &RolloutForm) -> Result<()> {
    // `steps` is not on this form: it stays as the spec has it.
    let mut r = d.rollout.clone().unwrap_or_default();
    r.canary_region = match f.canary_region.trim() {
        "" => None,
        c => Some(c.to_string()),
    };
    r.soak_seconds = match f.soak_seconds.trim() {
        "" => None,
        t => Some(t.parse().map_err(|_| {
            DraftError::new(
                "soak_seconds",
                format!("`{t}` is not a whole number of seconds"),
            )
        })?),
    };
    r.max_error_ratio = decimal("max_error_percent", &f.max_error_percent)?
        .map(|pct| crate::domain::spec::Limit(pct / 100.0));
    r.max_p95_ms = decimal("max_p95_ms", &f.max_p95_ms)?.map(crate::domain::spec::Limit);
    d.rollout = (r != Rollout::default()).then_some(r);
    Ok(())
}

/// Every problem of the draft at once, each naming its spec field: the parts still missing,
/// and what validation (the API's rules) says about everything that is there. The missing
/// parts are stood in for while validating, and what is said about a stand-in is left out,
/// so an incomplete draft is judged by the same rules as a complete one.
pub fn check(d: &Draft) -> Vec<FieldError> {
    let mut out = Vec::new();
    let missing = |field: &str, message: &str| FieldError {
        field: field.to_string(),
        message: message.to_string(),
    };
    if d.frontend.protocol.is_none() {
        out.push(missing(
            "frontend.protocol",
            "choose HTTP or HTTPS on the Frontend step",
        ));
    }
    if d.backends.is_empty() {
        out.push(missing(
            "backends",
            "add at least one backend on the Backends step",
        ));
    }
    let no_default = d.routing.default.is_none();
    if no_default {
        out.push(missing(
            "routing.default",
            "choose where requests that match no rule go (the default backend) on the Routing step",
        ));
    }
    match completed(d).to_spec() {
        Ok(spec) => {
            if let Err(errs) = validate::validate(&spec) {
                out.extend(
                    errs.into_iter()
                        .filter(|e| !(no_default && e.field.starts_with("routing.default"))),
                );
            }
        }
        // A draft is written by the functions above, so it has the spec's shape; an imported
        // one that does not is still said, with its field.
        Err(e) => out.push(FieldError {
            field: e.field.unwrap_or_default(),
            message: e.message,
        }),
    }
    out
}

/// The draft with its missing parts stood in for: HTTP for no protocol, the first backend (or
/// none) as the default. What it says about the draft's own parts is what a spec would.
fn completed(d: &Draft) -> Draft {
    let mut full = d.clone();
    if full.frontend.protocol.is_none() {
        full.frontend.protocol = Some(Protocol::Http);
    }
    if full.routing.default.is_none() {
        full.routing.default = Some(Target::Backend {
            backend: d
                .backends
                .first()
                .map(|b| b.name.clone())
                .unwrap_or_default(),
        });
    }
    full
}

/// How long the name may be with what the draft creates so far (see [`validate::name_limit`]).
pub fn name_limit(d: &Draft) -> Option<validate::NameLimit> {
    completed(d)
        .to_spec()
        .ok()
        .map(|spec| validate::name_limit(&spec))
}

/// The wizard step that owns a spec field (for links from Review's errors).
pub fn step_of_field(field: &str) -> &'static str {
    let head = field.split(['.', '[']).next().unwrap_or_default();
    match head {
        "name" | "project" => "basics",
        "frontend" => "frontend",
        "backends" => "backends",
        "routing" => "routing",
        "services" | "rollout" => "services",
        _ => "basics",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::spec::Limit;

    #[test]
    fn the_backend_forms_set_edge_security_and_an_edit_keeps_the_ttls_and_logging() {
        use crate::domain::edge_security::{CacheMode, CdnPolicy, Iap, Logging, SampleRate};
        let mut d = Draft::default();
        let form = ServerlessForm {
            service: "web".into(),
            regions: "us-central1".into(),
            cdn: Some("on".into()),
            security_policy: " armor ".into(),
            edge_security_policy: "edge".into(),
            cache_mode: "FORCE_CACHE_ALL".into(),
            ..Default::default()
        };
        add_serverless(&mut d, &form).unwrap();
        let e = &d.backends[0].edge;
        assert_eq!(e.security_policy.as_deref(), Some("armor"));
        assert_eq!(e.edge_security_policy.as_deref(), Some("edge"));
        assert_eq!(
            e.cdn_policy.as_ref().unwrap().mode(),
            CacheMode::ForceCacheAll
        );
        d.backends[0].edge.cdn_policy.as_mut().unwrap().default_ttl = Some(60);
        d.backends[0].edge.logging = Some(Logging {
            sample_rate: Some(SampleRate(0.5)),
        });
        let edited = ServerlessForm {
            cdn: None,
            cache_mode: String::new(),
            iap: "load-balancer".into(),
            security_policy: String::new(),
            ..form.clone()
        };
        update_backend(&mut d, 0, &edited, &InternetForm::default()).unwrap();
        let e = &d.backends[0].edge;
        assert_eq!(e.security_policy, None, "emptied in the form");
        assert_eq!(e.iap, Some(Iap::LoadBalancer));
        assert_eq!(
            e.cdn_policy,
            Some(CdnPolicy {
                default_ttl: Some(60),
                ..CdnPolicy::default()
            })
        );
        assert_eq!(e.logging.as_ref().unwrap().rate(), 0.5);
        let bad = ServerlessForm {
            iap: "both".into(),
            ..form
        };
        assert_eq!(add_serverless(&mut d, &bad).unwrap_err().field, "iap");
    }

    #[test]
    fn an_incomplete_draft_with_an_unknown_field_is_refused_naming_it() {
        let text = r#"{"name": "shop", "backends": [{"name": "a", "type": "serverless", "max_rate": 100}]}"#;
        let e = Draft::from_json(text).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("backends[0].max_rate"), "{e}");
        assert!(e.message.contains("unknown field `max_rate`"), "{e}");
        let whole = r#"{"name": "shop", "health_check": {"port": 80}}"#;
        let e = Draft::from_json(whole).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("health_check"), "{e}");
    }

    #[test]
    fn an_exported_incomplete_draft_imports_again() {
        let d = Draft::from_json(r#"{"name": "shop", "project": "my-project"}"#).unwrap();
        let again = Draft::from_json(&d.to_json().to_string()).unwrap();
        assert_eq!(again.to_json(), d.to_json());
    }
    use crate::domain::validate;

    fn seed_002() -> Spec {
        parse::parse(include_str!("../../tests/data/seeds/seed-002.json")).unwrap()
    }

    #[test]
    fn the_services_step_takes_secret_references_beside_plain_values() {
        let mut d = Draft::from_json(include_str!("../../tests/data/seeds/seed-001.json")).unwrap();
        let form = ServiceForm {
            name: "my-app".into(),
            image: "us-docker.pkg.dev/cloudrun/container/hello".into(),
            regions: "us-central1, europe-west1, asia-east1".into(),
            env: "MODE=prod".into(),
            secrets: "DB_PASS = db-pass:3\nAPI_KEY=projects/other-proj/secrets/api-key".into(),
            ..Default::default()
        };
        add_service(&mut d, &form).unwrap();
        let env = &d.services[0].env;
        assert_eq!(
            env,
            &vec![
                EnvVar::plain("MODE", "prod"),
                EnvVar::from_secret("DB_PASS", "db-pass", "3"),
                EnvVar::from_secret("API_KEY", "projects/other-proj/secrets/api-key", "latest"),
            ]
        );
        // The form shows each kind in its own box, and reads back to the same variables.
        assert_eq!(env_text(env), "MODE=prod");
        assert_eq!(
            secrets_text(env),
            "DB_PASS=db-pass:3\nAPI_KEY=projects/other-proj/secrets/api-key:latest"
        );
        let mut again = parse_env(&env_text(env)).unwrap();
        again.extend(parse_secrets(&secrets_text(env)).unwrap());
        assert_eq!(&again, env);
        assert!(validate::validate(&d.to_spec().unwrap()).is_ok());
        // A line that cannot be read says so, quoting the line (references are not secret).
        let e = parse_secrets("DB_PASS=:3").unwrap_err();
        assert_eq!(e.field, "secrets");
        assert!(e.message.contains("DB_PASS=:3"), "{e}");
        // A plain line without `=` is quoted by its name part only.
        assert!(parse_env("=s3cret").unwrap_err().message.starts_with("``"));
    }

    #[test]
    fn the_services_step_adds_edits_renames_and_removes() {
        let mut d = Draft::from_json(include_str!("../../tests/data/seeds/seed-001.json")).unwrap();
        let form = ServiceForm {
            name: " my-app ".into(),
            image: "us-docker.pkg.dev/cloudrun/container/hello".into(),
            regions: "us-central1, europe-west1\nasia-east1".into(),
            min_instances: "1".into(),
            env: "MODE=prod\n\nGREETING=a=b".into(),
            allow_unauthenticated: Some("on".into()),
            ..Default::default()
        };
        add_service(&mut d, &form).unwrap();
        let s = &d.services[0];
        assert_eq!(s.name, "my-app");
        assert_eq!(s.regions.len(), 3);
        assert_eq!(
            (s.min_instances, s.max_instances, s.concurrency),
            (1, 100, 80)
        );
        assert_eq!((s.memory.as_str(), s.cpu.as_str()), ("512Mi", "1"));
        assert_eq!(s.env[1].value.as_deref(), Some("a=b"));
        assert_eq!(env_text(&s.env), "MODE=prod\nGREETING=a=b");
        assert_eq!(s.ingress, Ingress::InternalAndCloudLoadBalancing);
        assert!(s.allow_unauthenticated);
        // The seed's backend already names my-app: the draft is a valid spec with services.
        let spec = d.to_spec().unwrap();
        assert!(validate::validate(&spec).is_ok());

        assert_eq!(add_service(&mut d, &form).unwrap_err().field, "name");
        let bad = |f: ServiceForm| add_service(&mut d.clone(), &f).unwrap_err().field;
        assert_eq!(
            bad(ServiceForm {
                name: "x".into(),
                image: " ".into(),
                ..form.clone()
            }),
            "image"
        );
        assert_eq!(
            bad(ServiceForm {
                name: "x".into(),
                regions: " ".into(),
                ..form.clone()
            }),
            "regions"
        );
        assert_eq!(
            bad(ServiceForm {
                name: "x".into(),
                min_instances: "one".into(),
                ..form.clone()
            }),
            "min_instances"
        );
        assert_eq!(
            bad(ServiceForm {
                name: "x".into(),
                env: "NOEQUALS".into(),
                ..form.clone()
            }),
            "env"
        );
        assert_eq!(
            bad(ServiceForm {
                name: "x".into(),
                ingress: "public".into(),
                ..form.clone()
            }),
            "ingress"
        );
        assert_eq!(
            bad(ServiceForm {
                name: "x".into(),
                secrets: "DB_PASS".into(),
                ..form.clone()
            }),
            "secrets"
        );

        // Renaming carries into the backend that names it.
        update_service(
            &mut d,
            0,
            &ServiceForm {
                name: "web-app".into(),
                ingress: "all".into(),
                ..form.clone()
            },
        )
        .unwrap();
        assert_eq!(d.services[0].ingress, Ingress::All);
        assert!(
            matches!(&d.backends[0].kind, BackendKind::Serverless { service, .. } if service == "web-app")
        );
        assert_eq!(update_service(&mut d, 5, &form).unwrap_err().field, "index");

        apply_rollout(
            &mut d,
            &RolloutForm {
                canary_region: "asia-east1".into(),
                ..RolloutForm::default()
            },
        )
        .unwrap();
        assert_eq!(d.to_spec().unwrap().canary_region(), Some("asia-east1"));
        apply_rollout(&mut d, &RolloutForm::default()).unwrap();
        assert_eq!(d.rollout, None);
        // The gate's limit is typed in percent and kept as a share.
        let gate = RolloutForm {
            soak_seconds: "120".into(),
            max_error_percent: "2.5 %".into(),
            ..RolloutForm::default()
        };
        apply_rollout(&mut d, &gate).unwrap();
        let r = d.rollout.clone().unwrap();
        assert_eq!(
            (r.soak_seconds, r.max_error_ratio),
            (Some(120), Some(Limit(0.025)))
        );
        let bad = RolloutForm {
            max_p95_ms: "fast".into(),
            ..gate
        };
        assert_eq!(apply_rollout(&mut d, &bad).unwrap_err().field, "max_p95_ms");

        remove_service(&mut d, 0).unwrap();
        assert!(d.services.is_empty());
        assert_eq!(remove_service(&mut d, 0).unwrap_err().field, "index");
    }

    #[test]
    fn services_and_rollout_survive_a_draft_round_trip() {
        let text = include_str!("../../tests/data/seeds/seed-001-services.json");
        let mut v: Value = serde_json::from_str(text).unwrap();
        v["rollout"] = serde_json::json!({ "canary_region": "asia-east1" });
        let d = Draft::from_json(&v.to_string()).unwrap();
        assert_eq!(d.services.len(), 1);
        let spec = d.to_spec().unwrap();
        assert_eq!(
            spec.services[0].image,
            "us-docker.pkg.dev/cloudrun/container/hello"
        );
        assert_eq!(spec.canary_region(), Some("asia-east1"));
        assert_eq!(step_of_field("services[0].cpu"), "services");
    }

    #[test]
    fn a_new_draft_is_incomplete_and_says_what_is_missing() {
        let d = Draft::new(" hello-lb ", "my-lb-project").unwrap();
        assert_eq!(d.name, "hello-lb");
        // HTTP is chosen from the start, as in the console; what is left is said at once.
        assert_eq!(d.frontend.protocol, Some(Protocol::Http));
        let err = d.to_spec().unwrap_err();
        assert_eq!(err.field.as_deref(), Some("routing.default"));
        let fields: Vec<String> = check(&d).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["backends", "routing.default"]);
        assert_eq!(
            Draft::new("", "p").unwrap_err().field,
            "name",
            "a draft needs a name"
        );
    }

    #[test]
    fn check_says_every_missing_and_invalid_part_at_once_with_the_api_rules() {
        let mut d = Draft::new("My_App", "X").unwrap();
        d.frontend.protocol = None;
        add_serverless(
            &mut d,
            &ServerlessForm {
                service: "web".into(),
                regions: "mars-north1".into(),
                ..Default::default()
            },
        )
        .unwrap();
        add_service(
            &mut d,
            &ServiceForm {
                name: "web".into(),
                image: "us-docker.pkg.dev/cloudrun/container/hello".into(),
                regions: "mars-north1".into(),
                min_instances: "5".into(),
                max_instances: "2".into(),
                cpu: "3".into(),
                memory: "lots".into(),
                env: "PORT=8080".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let errors = check(&d);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "frontend.protocol",
                "routing.default",
                "name",
                "project",
                "backends[0].regions[0]",
                "services[0].regions[0]",
                "services[0].min_instances",
                "services[0].cpu",
                "services[0].memory",
                "services[0].env[0].name",
            ]
        );
        // The messages are validation's own, as the API gives them.
        let spec = completed(&d).to_spec().unwrap();
        let api = validate::validate(&spec).unwrap_err();
        for e in api
            .iter()
            .filter(|e| !e.field.starts_with("routing.default"))
        {
            assert!(errors.contains(e), "{e}");
        }
    }

    #[test]
    fn the_name_limit_counts_only_what_the_draft_creates() {
        let http = Draft::new("shop", "acme-edge").unwrap();
        let l = name_limit(&http).unwrap();
        assert_eq!((l.max, l.pattern.as_str()), (52, "NAME-http-proxy"));
        let mut https = http.clone();
        https.frontend.protocol = Some(Protocol::Https);
        https.frontend.domains = vec!["shop.example.com".into()];
        assert_eq!(name_limit(&https).unwrap().max, 49, "NAME-cert-12345678");
        // A 50-character name is fine over HTTP: no certificate to name.
        let long = "a".repeat(50);
        let d = Draft::new(&long, "acme-edge").unwrap();
        assert!(
            check(&d).iter().all(|e| e.field != "name"),
            "{:?}",
            check(&d)
        );
        let mut d = https.clone();
        d.name = long;
        let name_errors: Vec<String> = check(&d)
            .into_iter()
            .filter(|e| e.field == "name")
            .map(|e| e.message)
            .collect();
        assert_eq!(name_errors.len(), 1, "{name_errors:?}");
        assert!(name_errors[0].contains("certificate"), "{name_errors:?}");
        // 70 characters: too long whatever the protocol, and said so.
        let d = Draft::new(&"b".repeat(70), "acme-edge").unwrap();
        assert!(
            check(&d)
                .iter()
                .any(|e| e.field == "name" && e.message.contains("70 characters")),
        );
    }

    #[test]
    fn endpoint_from_a_cloud_run_url() {
        assert_eq!(
            parse_endpoint("https://hello2-abc-uc.a.run.app/").unwrap(),
            ("hello2-abc-uc.a.run.app".to_string(), 443)
        );
        assert_eq!(
            parse_endpoint(" hello2-abc-uc.a.run.app ").unwrap(),
            ("hello2-abc-uc.a.run.app".to_string(), 443)
        );
        assert_eq!(
            parse_endpoint("lb.example.com:8443").unwrap(),
            ("lb.example.com".to_string(), 8443)
        );
        assert_eq!(
            parse_endpoint("http://lb.example.com/x?y").unwrap(),
            ("lb.example.com".to_string(), 80)
        );
        assert_eq!(parse_endpoint("").unwrap_err().field, "endpoint");
        assert_eq!(parse_endpoint("10.0.0.1").unwrap_err().field, "endpoint");
        assert_eq!(parse_endpoint("ftp://x.com").unwrap_err().field, "endpoint");
        assert_eq!(parse_endpoint("https://").unwrap_err().field, "endpoint");
    }

    #[test]
    fn backend_names_are_suggested_and_kept_unique() {
        assert_eq!(
            suggest_backend_name("hello2-3qx7k2dz6a-uc.a.run.app"),
            "hello2"
        );
        assert_eq!(
            suggest_backend_name("my-app-3qx7k2dz6a-ew.a.run.app"),
            "my-app"
        );
        assert_eq!(suggest_backend_name("lb.example.com"), "lb");
        assert_eq!(suggest_backend_name("1lb.example.com"), "backend-1lb");
        let mut d = Draft::default();
        let f = InternetForm {
            endpoint: "https://hello-abc-uc.a.run.app".into(),
            ..Default::default()
        };
        add_internet(&mut d, &f).unwrap();
        add_internet(&mut d, &f).unwrap();
        assert_eq!(d.backend_names(), ["hello", "hello-2"]);
        let named = InternetForm {
            name: "hello".into(),
            ..f
        };
        assert_eq!(add_internet(&mut d, &named).unwrap_err().field, "name");
    }

    #[test]
    fn internet_backend_host_header_follows_the_choice() {
        let mut d = Draft::default();
        let base = InternetForm {
            endpoint: "https://hello2-abc-uc.a.run.app/".into(),
            ..Default::default()
        };
        add_internet(&mut d, &base).unwrap();
        add_internet(
            &mut d,
            &InternetForm {
                host_mode: "none".into(),
                ..base.clone()
            },
        )
        .unwrap();
        add_internet(
            &mut d,
            &InternetForm {
                host_mode: "custom".into(),
                host_header: "api.example.com".into(),
                ..base.clone()
            },
        )
        .unwrap();
        let hosts: Vec<Option<String>> = d
            .backends
            .iter()
            .map(|b| match &b.kind {
                BackendKind::Internet {
                    host_header, port, ..
                } => {
                    assert_eq!(*port, 443);
                    host_header.clone()
                }
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            hosts,
            [
                Some("hello2-abc-uc.a.run.app".to_string()),
                None,
                Some("api.example.com".to_string())
            ]
        );
        let bad = InternetForm {
            host_mode: "custom".into(),
            ..base
        };
        assert_eq!(add_internet(&mut d, &bad).unwrap_err().field, "host_header");
    }

    #[test]
    fn serverless_backend_from_its_form() {
        let mut d = Draft::default();
        add_serverless(
            &mut d,
            &ServerlessForm {
                service: "my-app".into(),
                regions: "us-central1, europe-west1\nasia-east1".into(),
                outlier_detection: Some("on".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            d.backends[0].kind,
            BackendKind::Serverless {
                service: "my-app".into(),
                regions: vec![
                    "us-central1".into(),
                    "europe-west1".into(),
                    "asia-east1".into()
                ]
            }
        );
        assert!(d.backends[0].outlier_detection && !d.backends[0].cdn);
        assert_eq!(
            add_serverless(&mut d, &ServerlessForm::default())
                .unwrap_err()
                .field,
            "service"
        );
        remove_backend(&mut d, 0).unwrap();
        assert!(d.backends.is_empty());
        assert_eq!(remove_backend(&mut d, 0).unwrap_err().field, "index");
    }

    #[test]
    fn editing_a_cross_project_backend_keeps_its_project() {
        let mut d = Draft::from_json(include_str!(
            "../../tests/data/seeds/seed-002-cross-project.json"
        ))
        .unwrap();
        let f = ServerlessForm {
            service: "hello2".into(),
            regions: "us-central1, europe-west1".into(),
            ..Default::default()
        };
        update_backend(&mut d, 1, &f, &InternetForm::default()).unwrap();
        assert_eq!(d.backends[1].project.as_deref(), Some("my-run-project"));
        assert!(matches!(
            &d.backends[1].kind,
            BackendKind::Serverless { regions, .. } if regions.len() == 2
        ));
    }

    #[test]
    fn editing_a_backend_keeps_its_kind_and_renames_its_routes() {
        let mut d = Draft::from_json(include_str!("../../tests/data/seeds/seed-002.json")).unwrap();
        let f = InternetForm {
            name: "second".into(),
            endpoint: "https://hello2-3qx7k2dz6a-uc.a.run.app:8443/".into(),
            host_mode: "fqdn".into(),
            ..Default::default()
        };
        update_backend(&mut d, 1, &ServerlessForm::default(), &f).unwrap();
        assert_eq!(d.backends[1].name, "second");
        assert!(matches!(
            d.backends[1].kind,
            BackendKind::Internet { port: 8443, .. }
        ));
        assert_eq!(
            d.routing.rules[0].target,
            Target::Backend {
                backend: "second".into()
            }
        );
        // Its own name is not a clash; another backend's is.
        let keep = InternetForm {
            name: String::new(),
            ..f.clone()
        };
        update_backend(&mut d, 1, &ServerlessForm::default(), &keep).unwrap();
        assert_eq!(d.backends[1].name, "second");
        let clash = InternetForm {
            name: "hello".into(),
            ..f
        };
        assert_eq!(
            update_backend(&mut d, 1, &ServerlessForm::default(), &clash)
                .unwrap_err()
                .field,
            "name"
        );
        assert_eq!(
            d.backends[1].name, "second",
            "a refused edit changes nothing"
        );
        assert_eq!(
            update_backend(&mut d, 9, &ServerlessForm::default(), &keep)
                .unwrap_err()
                .field,
            "index"
        );
        assert_eq!(endpoint_text("a.example.com", 443), "a.example.com");
        assert_eq!(endpoint_text("a.example.com", 8443), "a.example.com:8443");
    }

    #[test]
    fn frontend_options_follow_the_protocol() {
        let mut d = Draft::new("shop", "acme-edge").unwrap();
        let form = |protocol: &str| FrontendForm {
            protocol: protocol.into(),
            domains: "shop.example.com".into(),
            ipv6: Some("on".into()),
            http3: "off".into(),
            ssl_profile: "MODERN".into(),
            min_tls_version: "1.2".into(),
            ..Default::default()
        };
        apply_frontend(&mut d, &form("https")).unwrap();
        assert!(d.frontend.ipv6);
        assert_eq!(d.frontend.http3, Some(false));
        assert_eq!(
            d.frontend
                .ssl_policy
                .as_ref()
                .and_then(|p| p.min_tls_version),
            Some(crate::domain::frontend_options::TlsVersion::Tls12)
        );
        // IPv6 serves plain HTTP too; HTTP/3 and the SSL policy are HTTPS-only.
        apply_frontend(&mut d, &form("http")).unwrap();
        assert!(d.frontend.ipv6);
        assert_eq!(d.frontend.http3, None);
        assert!(d.frontend.ssl_policy.is_none());
        let bad = FrontendForm {
            min_tls_version: "1.3".into(),
            ..form("https")
        };
        assert_eq!(
            apply_frontend(&mut d, &bad).unwrap_err().field,
            "min_tls_version"
        );
    }

    #[test]
    fn frontend_fields() {
        let mut d = Draft::default();
        apply_frontend(
            &mut d,
            &FrontendForm {
                protocol: "https".into(),
                domains: "Shop.example.com,\n www.example.com".into(),
                ip: "ephemeral".into(),
                http_redirect: Some("on".into()),
                certificate: "certificate-manager".into(),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            d.frontend.certificate,
            crate::domain::spec::CertificateMode::CertificateManager
        );
        assert_eq!(d.frontend.protocol, Some(Protocol::Https));
        assert_eq!(d.frontend.domains, ["shop.example.com", "www.example.com"]);
        assert_eq!(d.frontend.ip, IpKind::Ephemeral);
        assert!(d.frontend.http_redirect);
        apply_frontend(
            &mut d,
            &FrontendForm {
                protocol: "http".into(),
                http_redirect: Some("on".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(!d.frontend.http_redirect);
        assert!(
            d.frontend.certificate.is_managed(),
            "http has no certificates"
        );
        let bad = FrontendForm {
            protocol: "ftp".into(),
            ..Default::default()
        };
        assert_eq!(apply_frontend(&mut d, &bad).unwrap_err().field, "protocol");
        let bad = FrontendForm {
            protocol: "https".into(),
            certificate: "self-signed".into(),
            ..Default::default()
        };
        assert_eq!(
            apply_frontend(&mut d, &bad).unwrap_err().field,
            "certificate"
        );
    }

    #[test]
    fn splits_and_rules() {
        assert_eq!(
            parse_split("web=90, canary:10", "split").unwrap(),
            [
                WeightedBackend {
                    backend: "web".into(),
                    weight: 90
                },
                WeightedBackend {
                    backend: "canary".into(),
                    weight: 10
                }
            ]
        );
        assert!(parse_split("web", "split").is_err());
        assert!(parse_split("web=-1", "split").is_err());
        assert!(parse_split("", "split").is_err());
        assert_eq!(
            split_text(&parse_split("a=1,b=2", "s").unwrap()),
            "a=1, b=2"
        );

        let rule = rule_from_form(&RuleForm {
            hosts: String::new(),
            paths: "/hello2, /hello2/*".into(),
            target: TargetForm {
                kind: "backend".into(),
                backend: "hello2".into(),
                split: String::new(),
            },
            prefix_rewrite: "/".into(),
            host_rewrite: " ".into(),
        })
        .unwrap();
        assert_eq!(rule.hosts, ["*"]);
        assert_eq!(rule.paths, ["/hello2", "/hello2/*"]);
        assert_eq!(rule.prefix_rewrite.as_deref(), Some("/"));
        assert_eq!(rule.host_rewrite, None);
        assert_eq!(
            rule_from_form(&RuleForm {
                paths: "/x".into(),
                ..Default::default()
            })
            .unwrap_err()
            .field,
            "backend"
        );
    }

    #[test]
    fn building_seed_002_step_by_step_gives_the_seed() {
        let mut d = Draft::new("hello-lb", "my-lb-project").unwrap();
        apply_frontend(
            &mut d,
            &FrontendForm {
                protocol: "https".into(),
                domains: "hello.example.com".into(),
                ip: "static".into(),
                http_redirect: Some("on".into()),
                certificate: String::new(),
                ..Default::default()
            },
        )
        .unwrap();
        for url in [
            "https://hello-3qx7k2dz6a-uc.a.run.app/",
            "https://hello2-3qx7k2dz6a-uc.a.run.app/",
        ] {
            add_internet(
                &mut d,
                &InternetForm {
                    endpoint: url.into(),
                    ..Default::default()
                },
            )
            .unwrap();
        }
        apply_default(
            &mut d,
            &TargetForm {
                kind: "backend".into(),
                backend: "hello".into(),
                split: String::new(),
            },
        )
        .unwrap();
        add_rule(
            &mut d,
            &RuleForm {
                hosts: "*".into(),
                paths: "/hello2\n/hello2/*".into(),
                target: TargetForm {
                    kind: "backend".into(),
                    backend: "hello2".into(),
                    split: String::new(),
                },
                prefix_rewrite: "/".into(),
                host_rewrite: String::new(),
            },
        )
        .unwrap();
        let spec = d.to_spec().unwrap();
        assert_eq!(spec, seed_002());
        assert_eq!(validate::validate(&spec), Ok(()));
        // And back: a stored complete draft reads as the same draft.
        assert_eq!(Draft::from_json(&d.to_json().to_string()).unwrap(), d);
    }

    #[test]
    fn from_json_takes_specs_and_drafts_and_refuses_the_rest() {
        let d = Draft::from_json(include_str!("../../tests/data/seeds/seed-002.json")).unwrap();
        assert_eq!(d.to_spec().unwrap(), seed_002());
        let partial = Draft::from_json(r#"{"name":"a","project":"b","frontend":{}}"#).unwrap();
        assert_eq!(partial.frontend.protocol, None);
        let e = Draft::from_json(r#"{"name":"a","colour":"red"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("colour"));
        assert!(Draft::from_json("{nope").unwrap_err().field.is_none());
        assert!(Draft::from_json("[]").is_err());
        assert!(Draft::from_json("[\"a\", \"b\"]").is_err());
    }

    #[test]
    fn fields_map_to_their_steps() {
        assert_eq!(step_of_field("name"), "basics");
        assert_eq!(step_of_field("project"), "basics");
        assert_eq!(step_of_field("frontend.domains[0]"), "frontend");
        assert_eq!(step_of_field("backends[1].fqdn"), "backends");
        assert_eq!(step_of_field("routing.rules[0].paths[1]"), "routing");
    }

    #[test]
    fn internet_backends_by_ip_and_by_deployment() {
        let mut d = Draft::default();
        let by_ip = InternetForm {
            target: "ip".into(),
            endpoint: " 34.120.1.2:8443 ".into(),
            ..InternetForm::default()
        };
        add_internet(&mut d, &by_ip).unwrap();
        assert_eq!(
            d.backends[0].kind,
            BackendKind::Internet {
                fqdn: None,
                ip: Some("34.120.1.2".into()),
                deployment: None,
                port: 8443,
                host_header: None,
            }
        );
        assert_eq!(d.backends[0].name, "origin");
        for (endpoint, says) in [
            ("10.0.0.1", "a private address"),
            ("34.120.1.2:0", "not a port"),
            ("", "type the IP address"),
            ("::1", "an IPv6 address"),
        ] {
            let e = add_internet(
                &mut d,
                &InternetForm {
                    endpoint: endpoint.into(),
                    ..by_ip.clone()
                },
            )
            .unwrap_err();
            assert_eq!(e.field, "endpoint", "{endpoint}");
            assert!(e.message.contains(says), "{endpoint}: {}", e.message);
        }
        // An IP typed as an FQDN points to the right choice.
        let e = add_internet(
            &mut d,
            &InternetForm {
                endpoint: "34.120.1.2".into(),
                ..InternetForm::default()
            },
        )
        .unwrap_err();
        assert!(e.message.contains("choose “IP address”"), "{}", e.message);

        let follow = InternetForm {
            target: "deployment".into(),
            deployment: "my-app".into(),
            ..InternetForm::default()
        };
        add_internet(&mut d, &follow).unwrap();
        assert_eq!(d.backends[1].name, "my-app");
        assert!(matches!(
            &d.backends[1].kind,
            BackendKind::Internet { deployment: Some(x), fqdn: None, ip: None, host_header: None, port: 443 } if x == "my-app"
        ));
        let e = add_internet(
            &mut d,
            &InternetForm {
                deployment: " ".into(),
                ..follow.clone()
            },
        )
        .unwrap_err();
        assert_eq!(e.field, "deployment");
        let e = add_internet(
            &mut d,
            &InternetForm {
                target: "vm".into(),
                ..follow
            },
        )
        .unwrap_err();
        assert_eq!(e.field, "target");
    }
}
