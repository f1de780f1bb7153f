//! The routing spec, version 1 (docs/contract.md §2): one JSON document per load balancer.
//!
//! These types only describe the shape. Parsing with serde rejects unknown fields so a typo in a
//! script is an error rather than a silently ignored setting; the semantic rules live in the
//! validation module.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use super::edge_security::BackendEdge;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub name: String,
    pub project: String,
    pub frontend: Frontend,
    #[serde(default)]
    pub backends: Vec<Backend>,
    pub routing: Routing,
    /// Cloud Run services the deployment deploys itself (one image to many regions). Optional:
    /// a spec may also only front services deployed by other means.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
    /// Existing resource names to keep (an adopted load balancer); every resource not named
    /// here gets the name derived from the deployment's (`domain::names`).
    #[serde(default, skip_serializing_if = "ExplicitNames::is_empty")]
    pub names: ExplicitNames,
}

/// Names of existing resources a deployment manages under the names they already have. Each
/// applies only while the spec still asks for what the resource was made of (the domains of a
/// certificate, the service of a serverless NEG, the endpoint of an internet NEG): those cannot
/// change in place, so a changed one gets a new, derived name and is replaced make-before-break.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplicitNames {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_map: Option<String>,
    /// The URL map's path matcher names, in the order the spec's host sets first appear.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path_matchers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url_map: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https_proxy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_proxy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https_forwarding_rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_forwarding_rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateName>,
    /// The HTTPS proxy's SSL policy (`frontend.ssl_policy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_policy: Option<String>,
    /// Per spec backend name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub backends: BTreeMap<String, BackendNames>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateName {
    pub name: String,
    /// The domains the certificate was made for.
    pub domains: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendNames {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_service: Option<String>,
    /// Serverless NEG name per region, for the Cloud Run service `service`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub negs: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The internet NEG's name, for the endpoint `endpoint` (`fqdn:port` or `ip:port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_neg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Not a name but kept the same way: the protocol the adopted backend service talks to its
    /// backends with (`HTTP`, `HTTPS`, `HTTP2`), where the panel would otherwise send HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

impl ExplicitNames {
    pub fn is_empty(&self) -> bool {
        *self == ExplicitNames::default()
    }

    /// Every name given, with the field it is under, for validation.
    pub fn all(&self) -> Vec<(String, &str)> {
        let mut out: Vec<(String, &str)> = [
            ("url_map", &self.url_map),
            ("redirect_url_map", &self.redirect_url_map),
            ("https_proxy", &self.https_proxy),
            ("http_proxy", &self.http_proxy),
            ("address", &self.address),
            ("https_forwarding_rule", &self.https_forwarding_rule),
            ("http_forwarding_rule", &self.http_forwarding_rule),
            ("ssl_policy", &self.ssl_policy),
        ]
        .into_iter()
        .filter_map(|(f, v)| Some((format!("names.{f}"), v.as_deref()?)))
        .collect();
        for (i, m) in self.path_matchers.iter().enumerate() {
            out.push((format!("names.path_matchers[{i}]"), m));
        }
        if let Some(c) = &self.certificate {
            out.push(("names.certificate.name".into(), &c.name));
        }
        for (b, n) in &self.backends {
            if let Some(bs) = &n.backend_service {
                out.push((format!("names.backends.{b}.backend_service"), bs));
            }
            for (r, neg) in &n.negs {
                out.push((format!("names.backends.{b}.negs.{r}"), neg));
            }
            if let Some(neg) = &n.internet_neg {
                out.push((format!("names.backends.{b}.internet_neg"), neg));
            }
        }
        out
    }
}

/// One Cloud Run service, deployed with the same settings to every listed region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub name: String,
    pub image: String,
    pub regions: Vec<String>,
    #[serde(default)]
    pub min_instances: u32,
    #[serde(default = "default_max_instances")]
    pub max_instances: u32,
    #[serde(default = "default_memory")]
    pub memory: String,
    #[serde(default = "default_cpu", deserialize_with = "string_or_number")]
    pub cpu: String,
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
    /// Accepted as `{"K": "V"}` or `[{"name": "K", "value": "V"}]` (a Secret Manager reference,
    /// `{"name": "K", "secret": "S", "version": "V"}`, only in the list); kept as the list, in
    /// order.
    #[serde(
        default,
        deserialize_with = "env_map_or_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env: Vec<EnvVar>,
    #[serde(default)]
    pub ingress: Ingress,
    #[serde(default = "yes")]
    pub allow_unauthenticated: bool,
    /// One Cloud Run multi-region service (`multiRegionSettings`) for all of `regions` instead
    /// of one service per region (docs/contract.md §2.4).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multi_region: bool,
    /// What Cloud Run asks each instance before sending it requests; with at least one
    /// minimum instance per region it also tells the load balancer which regions are healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<ReadinessProbe>,
    /// `false` disables the service's run.app URL (`defaultUriDisabled`), so that only the load
    /// balancer (and domain mappings) reach it.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub default_url: bool,
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A readiness probe by HTTP GET (Cloud Run v2 `Container.readinessProbe.httpGet`). Absent
/// numbers are Cloud Run's defaults: every 10 s, 1 s to answer, 3 failures in a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadinessProbe {
    #[serde(default = "root_path")]
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<u32>,
}

impl ReadinessProbe {
    pub const DEFAULT_PERIOD: u32 = 10;
    pub const DEFAULT_TIMEOUT: u32 = 1;
    pub const DEFAULT_FAILURES: u32 = 3;

    pub fn period(&self) -> u32 {
        self.period_seconds.unwrap_or(Self::DEFAULT_PERIOD)
    }

    pub fn timeout(&self) -> u32 {
        self.timeout_seconds.unwrap_or(Self::DEFAULT_TIMEOUT)
    }

    pub fn failures(&self) -> u32 {
        self.failure_threshold.unwrap_or(Self::DEFAULT_FAILURES)
    }
}

fn root_path() -> String {
    "/".to_string()
}

/// One environment variable of a service: a plain `value`, or a reference to a Secret Manager
/// `secret` (and its `version`, `latest` when absent) that Cloud Run reads when an instance
/// starts. Validation makes sure exactly one of `value` and `secret` is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvVar {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The version a secret reference without one reads (Secret Manager's alias for the newest).
pub const LATEST: &str = "latest";

/// Where an environment variable's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvSource<'a> {
    /// Written in the spec: a secret of its own as far as viewers are concerned.
    Value(&'a str),
    /// Read by Cloud Run from Secret Manager; the spec only names it.
    Secret { secret: &'a str, version: &'a str },
}

impl EnvVar {
    /// A plain `NAME=value` variable.
    pub fn plain(name: impl Into<String>, value: impl Into<String>) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: Some(value.into()),
            secret: None,
            version: None,
        }
    }

    /// A variable read from Secret Manager.
    pub fn from_secret(
        name: impl Into<String>,
        secret: impl Into<String>,
        version: impl Into<String>,
    ) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: None,
            secret: Some(secret.into()),
            version: Some(version.into()),
        }
    }

    /// The value's source. A secret wins over a value (validation refuses both), and neither
    /// reads as the empty value Cloud Run would give it.
    pub fn source(&self) -> EnvSource<'_> {
        match &self.secret {
            Some(secret) => EnvSource::Secret {
                secret,
                version: self.version.as_deref().unwrap_or(LATEST),
            },
            None => EnvSource::Value(self.value.as_deref().unwrap_or_default()),
        }
    }
}

/// Who may reach the service's own `run.app` URL (docs/google-cloud.md §1 `ingress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ingress {
    All,
    Internal,
    /// Internal traffic and Google Cloud load balancers: what a serverless NEG needs while
    /// keeping `*.run.app` closed to the internet.
    #[default]
    InternalAndCloudLoadBalancing,
}

impl Ingress {
    /// The Cloud Run v2 enum value.
    pub fn api_value(self) -> &'static str {
        match self {
            Ingress::All => "INGRESS_TRAFFIC_ALL",
            Ingress::Internal => "INGRESS_TRAFFIC_INTERNAL_ONLY",
            Ingress::InternalAndCloudLoadBalancing => "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Ingress::All => "all",
            Ingress::Internal => "internal",
            Ingress::InternalAndCloudLoadBalancing => "internal-and-cloud-load-balancing",
        }
    }
}

/// How a new revision reaches the regions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    /// Deploy this region first; the other regions start only once it is Ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_region: Option<String>,
    /// A gated rollout (`domain::rollout`): each stage holds this long, then its metrics are
    /// compared with the limits below.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soak_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_error_ratio: Option<Limit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_p95_ms: Option<Limit>,
    /// The share (percent) of the weight change each stage makes, ending at 100; default
    /// 10, 50, 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<u32>>,
}

/// A limit of a gated rollout: a number JSON can carry (never NaN), so specs stay `Eq`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Limit(pub f64);

impl Eq for Limit {}

fn default_max_instances() -> u32 {
    100
}
fn default_memory() -> String {
    "512Mi".into()
}
fn default_cpu() -> String {
    "1".into()
}
fn default_concurrency() -> u32 {
    80
}
fn yes() -> bool {
    true
}

/// `cpu: 2` and `cpu: "2"` both mean two CPUs; people write either.
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        S(String),
        N(u64),
    }
    match Either::deserialize(d)
        .map_err(|_| serde::de::Error::custom("must be a string such as \"1\" or \"1000m\""))?
    {
        Either::S(s) => Ok(s),
        Either::N(n) => Ok(n.to_string()),
    }
}

fn env_map_or_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<EnvVar>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Map(std::collections::BTreeMap<String, String>),
        List(Vec<EnvVar>),
    }
    match Either::deserialize(d).map_err(|_| {
        serde::de::Error::custom(
            "must be an object of NAME: \"value\" or a list of {\"name\", \"value\"} or {\"name\", \"secret\", \"version\"}",
        )
    })? {
        Either::Map(m) => Ok(m
            .into_iter()
            .map(|(name, value)| EnvVar::plain(name, value))
            .collect()),
        Either::List(l) => Ok(l),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Http,
    Https,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IpKind {
    Static,
    Ephemeral,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frontend {
    pub protocol: Protocol,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default = "default_ip")]
    pub ip: IpKind,
    #[serde(default)]
    pub http_redirect: bool,
    /// Which certificates serve HTTPS; absent means the classic managed certificates, so specs
    /// written before Certificate Manager keep meaning what they meant.
    #[serde(default, skip_serializing_if = "CertificateMode::is_managed")]
    pub certificate: CertificateMode,
    /// A second, IPv6 address and its forwarding rules beside the IPv4 ones
    /// (`domain::frontend_options`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ipv6: bool,
    /// HTTP/3: `quicOverride` ENABLE or DISABLE on the HTTPS proxy; absent leaves it to Google.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http3: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_policy: Option<crate::domain::frontend_options::SslPolicy>,
}

/// Where the HTTPS frontend's certificates come from (docs/contract.md §2.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CertificateMode {
    /// Classic Google-managed `sslCertificates` on the proxy: issued only once DNS points at
    /// the load balancer, no wildcards.
    #[default]
    #[serde(rename = "managed")]
    Managed,
    /// Certificate Manager: one certificate per domain, authorised by a DNS record (so it can
    /// be issued before the domain points here, and may be a wildcard), served through a
    /// certificate map.
    #[serde(rename = "certificate-manager")]
    CertificateManager,
}

impl CertificateMode {
    pub fn is_managed(&self) -> bool {
        *self == CertificateMode::Managed
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            CertificateMode::Managed => "managed",
            CertificateMode::CertificateManager => "certificate-manager",
        }
    }
}

fn default_ip() -> IpKind {
    IpKind::Static
}

// serde cannot deny unknown fields next to `flatten`; validation reports them instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backend {
    pub name: String,
    #[serde(flatten)]
    pub kind: BackendKind,
    #[serde(default)]
    pub cdn: bool,
    #[serde(default)]
    pub outlier_detection: bool,
    /// Serverless only: the project of the Cloud Run service when it is not the load
    /// balancer's. Its NEGs and backend service are made there and the URL map references them
    /// across projects (docs/contract.md §2, cross-project service referencing). Absent, or
    /// equal to the spec's `project`, means the load balancer's project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Cloud Armor, IAP, CDN cache settings and logging (docs/contract.md §2.8).
    #[serde(flatten)]
    pub edge: BackendEdge,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum BackendKind {
    /// A Cloud Run service in the load balancer's project: one serverless NEG per region.
    Serverless {
        service: String,
        regions: Vec<String>,
    },
    /// Any HTTPS endpoint by FQDN, by IP address, or another deployment of this panel (the
    /// endpoint then follows that deployment's domain or IP); exactly one of the three, which
    /// validation enforces. With an optional Host override.
    Internet {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fqdn: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ip: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deployment: Option<String>,
        #[serde(default = "default_port")]
        port: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host_header: Option<String>,
    },
}

/// The port an internet backend uses when the spec gives none (and the only one a backend
/// that follows another deployment may name: that deployment's own frontend sets the port).
pub const DEFAULT_PORT: u16 = 443;

fn default_port() -> u16 {
    DEFAULT_PORT
}

/// Where an internet backend sends its traffic, as the spec says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint<'a> {
    Fqdn(&'a str),
    Ip(&'a str),
    /// Another deployment of this panel, resolved at plan time to its domain or IP.
    Deployment(&'a str),
}

impl BackendKind {
    /// The internet backend's endpoint: the first of `fqdn`, `ip`, `deployment` that is given
    /// (validation makes sure exactly one is). `None` for serverless backends, or when none is.
    pub fn endpoint(&self) -> Option<Endpoint<'_>> {
        match self {
            BackendKind::Internet {
                fqdn,
                ip,
                deployment,
                ..
            } => fqdn
                .as_deref()
                .map(Endpoint::Fqdn)
                .or(ip.as_deref().map(Endpoint::Ip))
                .or(deployment.as_deref().map(Endpoint::Deployment)),
            BackendKind::Serverless { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    pub default: Target,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// Where matched traffic goes: one backend, or a weighted split across several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Target {
    Backend { backend: String },
    Split { split: Vec<WeightedBackend> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightedBackend {
    pub backend: String,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    #[serde(default = "any_host")]
    pub hosts: Vec<String>,
    pub paths: Vec<String>,
    #[serde(flatten)]
    pub target: Target,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_rewrite: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_rewrite: Option<String>,
}

fn any_host() -> Vec<String> {
    vec!["*".to_string()]
}

impl Spec {
    pub fn backend(&self, name: &str) -> Option<&Backend> {
        self.backends.iter().find(|b| b.name == name)
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The project a backend's NEGs and backend service live in: its own `project` when it
    /// names one, else the load balancer's.
    pub fn backend_project<'a>(&'a self, backend: &'a Backend) -> &'a str {
        backend.project.as_deref().unwrap_or(&self.project)
    }

    /// The project a Cloud Run service of `services` is deployed to: that of the first
    /// serverless backend fronting it (validation makes sure they agree), else the load
    /// balancer's.
    pub fn service_project(&self, service: &str) -> &str {
        self.backends
            .iter()
            .find(|b| matches!(&b.kind, BackendKind::Serverless { service: s, .. } if s == service))
            .map_or(self.project.as_str(), |b| self.backend_project(b))
    }

    pub fn canary_region(&self) -> Option<&str> {
        self.rollout.as_ref()?.canary_region.as_deref()
    }
}

impl Target {
    /// The backends this target sends traffic to, with their weights (a single backend is 100 %).
    pub fn weighted(&self) -> Vec<(&str, u32)> {
        match self {
            Target::Backend { backend } => vec![(backend.as_str(), 1)],
            Target::Split { split } => split
                .iter()
                .map(|w| (w.backend.as_str(), w.weight))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_example_round_trips() {
        let json = r#"{
          "name": "shop", "project": "acme-edge",
          "frontend": { "protocol": "https", "domains": ["shop.example.com"], "ip": "static", "http_redirect": true },
          "backends": [
            { "name": "web", "type": "serverless", "service": "my-app",
              "regions": ["us-central1", "europe-west1", "asia-east1"], "cdn": false, "outlier_detection": true },
            { "name": "hello2", "type": "internet", "fqdn": "hello2-3qx7k2dz6a-uc.a.run.app",
              "port": 443, "host_header": "hello2-3qx7k2dz6a-uc.a.run.app" }
          ],
          "routing": {
            "default": { "backend": "web" },
            "rules": [ { "hosts": ["*"], "paths": ["/hello2", "/hello2/*"], "backend": "hello2", "prefix_rewrite": "/" } ]
          }
        }"#;
        let spec: Spec = serde_json::from_str(json).unwrap();
        assert_eq!(spec.backends.len(), 2);
        assert!(matches!(
            spec.backends[1].kind,
            BackendKind::Internet { port: 443, .. }
        ));
        assert_eq!(spec.routing.rules[0].prefix_rewrite.as_deref(), Some("/"));
        let again: Spec = serde_json::from_value(serde_json::to_value(&spec).unwrap()).unwrap();
        assert_eq!(spec, again);
    }
}
