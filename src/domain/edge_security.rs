//! Edge security and delivery options of a backend (docs/contract.md §2.8): Cloud Armor
//! policies by name, Identity-Aware Proxy on the load balancer or on Cloud Run, Cloud CDN's
//! cache mode and TTLs, request logging; and the rules Google applies to them (API-NOTES §20),
//! checked before a single call. The lints about them are in `edge_lint`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::spec::{Backend, BackendKind, Spec};

/// The per-backend options, flattened into the backend's JSON object. All absent is what a
/// backend meant before these existed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendEdge {
    /// An existing Cloud Armor backend policy (type `CLOUD_ARMOR`) in the backend service's
    /// project, attached by `setSecurityPolicy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_policy: Option<String>,
    /// An existing Cloud Armor edge policy (type `CLOUD_ARMOR_EDGE`), by `setEdgeSecurityPolicy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_security_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iap: Option<Iap>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cdn_policy: Option<CdnPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
}

impl BackendEdge {
    /// The options in words, for the deployment's description: `filtered by the Cloud Armor
    /// policy armor, …`. Empty when none is set.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(p) = &self.edge_security_policy {
            out.push(format!(
                "filtered at Google's edge by the Cloud Armor edge policy {p}"
            ));
        }
        if let Some(p) = &self.security_policy {
            out.push(format!("filtered by the Cloud Armor policy {p}"));
        }
        match self.iap {
            Some(Iap::LoadBalancer) => out.push(
                "behind Identity-Aware Proxy on the load balancer (only its path is guarded)"
                    .to_string(),
            ),
            Some(Iap::CloudRun) => out.push(
                "behind Identity-Aware Proxy on the Cloud Run service (run.app too is guarded)"
                    .to_string(),
            ),
            None => {}
        }
        if let Some(c) = &self.cdn_policy {
            out.push(format!("cache mode {}", c.mode().api_value()));
        }
        if let Some(l) = &self.logging {
            out.push(format!(
                "{}% of requests logged",
                (l.rate() * 1000.0).round() / 10.0
            ));
        }
        out
    }
}

/// Where Identity-Aware Proxy checks who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Iap {
    /// On the backend service (`iap.enabled`, Google-managed OAuth client): guards the load
    /// balancer's path only.
    LoadBalancer,
    /// On the Cloud Run service itself (`iapEnabled`): guards run.app and every load balancer.
    CloudRun,
}

impl Iap {
    pub fn as_str(self) -> &'static str {
        match self {
            Iap::LoadBalancer => "load-balancer",
            Iap::CloudRun => "cloud-run",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CacheMode {
    CacheAllStatic,
    UseOriginHeaders,
    ForceCacheAll,
}

impl CacheMode {
    pub const ALL: [CacheMode; 3] = [
        CacheMode::CacheAllStatic,
        CacheMode::UseOriginHeaders,
        CacheMode::ForceCacheAll,
    ];

    pub fn api_value(self) -> &'static str {
        match self {
            CacheMode::CacheAllStatic => "CACHE_ALL_STATIC",
            CacheMode::UseOriginHeaders => "USE_ORIGIN_HEADERS",
            CacheMode::ForceCacheAll => "FORCE_CACHE_ALL",
        }
    }

    pub fn from_api(s: &str) -> Option<CacheMode> {
        CacheMode::ALL.into_iter().find(|m| m.api_value() == s)
    }

    /// The TTL fields Google accepts with this mode: origin headers decide everything with
    /// USE_ORIGIN_HEADERS, and FORCE_CACHE_ALL overrides every response's TTL, so no maximum.
    fn accepts(self, ttl: Ttl) -> bool {
        match self {
            CacheMode::CacheAllStatic => true,
            CacheMode::UseOriginHeaders => false,
            CacheMode::ForceCacheAll => ttl != Ttl::Max,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ttl {
    Default,
    Max,
    Client,
}

impl Ttl {
    const ALL: [Ttl; 3] = [Ttl::Default, Ttl::Max, Ttl::Client];

    fn spec_key(self) -> &'static str {
        match self {
            Ttl::Default => "default_ttl",
            Ttl::Max => "max_ttl",
            Ttl::Client => "client_ttl",
        }
    }

    fn api_key(self) -> &'static str {
        match self {
            Ttl::Default => "defaultTtl",
            Ttl::Max => "maxTtl",
            Ttl::Client => "clientTtl",
        }
    }

    /// Cloud CDN's defaults (disc:ce `BackendServiceCdnPolicy`; doc: cache modes).
    fn default_seconds(self) -> u32 {
        match self {
            Ttl::Default | Ttl::Client => 3600,
            Ttl::Max => 86400,
        }
    }
}

/// The longest TTL Cloud CDN takes: 31,622,400 s, one year (disc:ce).
pub const MAX_TTL_SECONDS: u32 = 31_622_400;

/// Cloud CDN settings; absent fields are Google's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CdnPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_mode: Option<CacheMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_ttl: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ttl: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ttl: Option<u32>,
}

impl CdnPolicy {
    pub fn mode(&self) -> CacheMode {
        self.cache_mode.unwrap_or(CacheMode::CacheAllStatic)
    }

    fn ttl(&self, t: Ttl) -> Option<u32> {
        match t {
            Ttl::Default => self.default_ttl,
            Ttl::Max => self.max_ttl,
            Ttl::Client => self.client_ttl,
        }
    }

    /// The TTL in effect: given, else Google's default, for a field the mode takes.
    fn effective(&self, t: Ttl) -> Option<u32> {
        self.mode()
            .accepts(t)
            .then(|| self.ttl(t).unwrap_or(t.default_seconds()))
    }

    /// Compute's `cdnPolicy`, with the defaults written out so a TTL removed from the spec
    /// is a change back to Google's default rather than no change.
    pub fn api_json(&self) -> Value {
        cdn_view(self)
    }
}

/// The cache settings the spec manages, as Compute writes them, from a live `cdnPolicy`
/// (absent: Google's defaults); fields the mode does not take are left out on both sides.
pub fn live_cdn_policy(live: Option<&Value>) -> CdnPolicy {
    let live = live.unwrap_or(&Value::Null);
    let ttl = |t: Ttl| {
        let v = &live[t.api_key()];
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .and_then(|n| u32::try_from(n).ok())
    };
    CdnPolicy {
        cache_mode: live["cacheMode"].as_str().and_then(CacheMode::from_api),
        default_ttl: ttl(Ttl::Default),
        max_ttl: ttl(Ttl::Max),
        client_ttl: ttl(Ttl::Client),
    }
}

fn cdn_view(p: &CdnPolicy) -> Value {
    let mut out = json!({ "cacheMode": p.mode().api_value() });
    for t in Ttl::ALL {
        if let Some(s) = p.effective(t) {
            out[t.api_key()] = json!(s);
        }
    }
    out
}

/// Whether two `cdnPolicy` values (desired body, live) set the same cache mode and TTLs.
pub fn cdn_policy_eq(desired: Option<&Value>, live: Option<&Value>) -> bool {
    cdn_view(&live_cdn_policy(desired)) == cdn_view(&live_cdn_policy(live))
}

/// The spec's `cdn_policy` for a live one: only what differs from Google's defaults, so an
/// adopted backend with default caching gets none.
pub fn adopted_cdn_policy(live: Option<&Value>) -> Option<CdnPolicy> {
    let l = live_cdn_policy(live);
    let mode = l.mode();
    let p = CdnPolicy {
        cache_mode: (mode != CacheMode::CacheAllStatic).then_some(mode),
        default_ttl: l
            .default_ttl
            .filter(|s| mode.accepts(Ttl::Default) && *s != Ttl::Default.default_seconds()),
        max_ttl: l
            .max_ttl
            .filter(|s| mode.accepts(Ttl::Max) && *s != Ttl::Max.default_seconds()),
        client_ttl: l
            .client_ttl
            .filter(|s| mode.accepts(Ttl::Client) && *s != Ttl::Client.default_seconds()),
    };
    (p != CdnPolicy::default()).then_some(p)
}

/// Whether two `logConfig` values log the same: off equals absent, and an absent sample rate
/// is Google's default, every request.
pub fn log_config_eq(desired: Option<&Value>, live: Option<&Value>) -> bool {
    let view = |v: Option<&Value>| {
        let v = v.unwrap_or(&Value::Null);
        v["enable"]
            .as_bool()
            .unwrap_or(false)
            .then(|| v["sampleRate"].as_f64().unwrap_or(1.0))
    };
    view(desired) == view(live)
}

/// The edge options of an adopted backend service, read from the live resource; or the field
/// the spec cannot express, with why. `project` is the backend service's.
pub fn adopted(bs: &Value, project: &str) -> Result<BackendEdge, (&'static str, String)> {
    let policy = |field: &'static str| -> Result<Option<String>, (&'static str, String)> {
        let Some(link) = bs[field].as_str().filter(|l| !l.is_empty()) else {
            return Ok(None);
        };
        let path = super::links::link_path(link);
        match path.split('/').collect::<Vec<_>>().as_slice() {
            ["projects", p, "global", "securityPolicies", name] if *p == project => {
                Ok(Some((*name).to_string()))
            }
            _ => Err((
                field,
                format!(
                    "the Cloud Armor policy {path} is not a global policy of project {project}, and the spec names policies in the backend service's own project"
                ),
            )),
        }
    };
    let iap = &bs["iap"];
    let iap = if iap["enabled"].as_bool().unwrap_or(false) {
        if !iap["oauth2ClientId"]
            .as_str()
            .unwrap_or_default()
            .is_empty()
        {
            return Err((
                "iap",
                "IAP uses its own OAuth client here; the spec turns IAP on with Google's managed OAuth client only, and an update would drop the client".to_string(),
            ));
        }
        Some(Iap::LoadBalancer)
    } else {
        None
    };
    let cdn = bs["enableCDN"].as_bool().unwrap_or(false);
    let log = &bs["logConfig"];
    Ok(BackendEdge {
        security_policy: policy("securityPolicy")?,
        edge_security_policy: policy("edgeSecurityPolicy")?,
        iap,
        cdn_policy: if cdn {
            adopted_cdn_policy(bs.get("cdnPolicy"))
        } else {
            None
        },
        logging: log["enable"].as_bool().unwrap_or(false).then(|| Logging {
            sample_rate: log["sampleRate"].as_f64().map(SampleRate),
        }),
    })
}

/// A share of requests from 0.0 to 1.0, a number JSON can carry (never NaN), so specs stay `Eq`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SampleRate(pub f64);

impl Eq for SampleRate {}

/// Request logging of the backend service (`logConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logging {
    /// Absent: every request (Google's default, 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<SampleRate>,
}

impl Logging {
    pub fn rate(&self) -> f64 {
        self.sample_rate.map_or(1.0, |r| r.0)
    }
}

/// The policy's path in the backend service's project, as the plan sets it.
pub fn policy_path(project: &str, name: &str) -> String {
    format!("projects/{project}/global/securityPolicies/{name}")
}

/// Cloud Armor policy types (disc:ce `SecurityPolicy.type`).
pub const BACKEND_POLICY: &str = "CLOUD_ARMOR";
pub const EDGE_POLICY: &str = "CLOUD_ARMOR_EDGE";

/// The backend service fields the edge options set, added to its compiled body. Security
/// policies are output-only there: the plan attaches them with their own calls.
pub fn backend_service_fields(project: &str, b: &Backend, body: &mut Value) {
    let e = &b.edge;
    if let Some(p) = &e.security_policy {
        body["securityPolicy"] = json!(policy_path(project, p));
    }
    if let Some(p) = &e.edge_security_policy {
        body["edgeSecurityPolicy"] = json!(policy_path(project, p));
    }
    if e.iap == Some(Iap::LoadBalancer) {
        // No OAuth client: Google's managed one (API-NOTES §20.2); no secret is ever sent.
        body["iap"] = json!({ "enabled": true });
    }
    if b.cdn
        && let Some(p) = &e.cdn_policy
    {
        body["cdnPolicy"] = p.api_json();
    }
    if let Some(l) = &e.logging {
        body["logConfig"] = json!({ "enable": true, "sampleRate": l.rate() });
    }
}

/// The Cloud Run service fields the edge options set (API-NOTES §20.2, §20.3), only when
/// on, so a service body without them is what it was before.
pub fn run_service_fields(spec: &Spec, svc: &super::spec::Service, body: &mut Value) {
    if cloud_run_iap(spec, &svc.name) {
        body["iapEnabled"] = json!(true);
    }
    if !svc.default_url {
        body["defaultUriDisabled"] = json!(true);
    }
}

/// One security policy a plan attaches, to be checked before any mutation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyCheck {
    /// `backends[0].security_policy`.
    pub field: String,
    pub name: String,
    /// `projects/P/global/securityPolicies/N`.
    pub path: String,
    /// The type it must have: `CLOUD_ARMOR` or `CLOUD_ARMOR_EDGE`.
    pub kind: &'static str,
}

/// Every policy the spec names, with the type its field needs.
pub fn policy_checks(spec: &Spec) -> Vec<PolicyCheck> {
    let mut out = Vec::new();
    for (i, b) in spec.backends.iter().enumerate() {
        let project = spec.backend_project(b);
        for (key, name, kind) in [
            ("security_policy", &b.edge.security_policy, BACKEND_POLICY),
            (
                "edge_security_policy",
                &b.edge.edge_security_policy,
                EDGE_POLICY,
            ),
        ] {
            if let Some(name) = name {
                out.push(PolicyCheck {
                    field: format!("backends[{i}].{key}"),
                    name: name.clone(),
                    path: policy_path(project, name),
                    kind,
                });
            }
        }
    }
    out
}

impl PolicyCheck {
    /// The conflict that blocks the plan when the policy as read (`None`: missing) is not one
    /// this field can attach; a plan with conflicts yields no steps, so nothing is applied.
    pub fn conflict(&self, found: Option<&Value>) -> Option<super::plan::Conflict> {
        let message = self.problem(found)?;
        Some(super::plan::Conflict {
            resource: self.path.clone(),
            owner: format!(
                "project {}",
                self.path.split('/').nth(1).unwrap_or_default()
            ),
            message,
        })
    }

    /// What is wrong with the policy as read (`None`: it does not exist), if anything.
    pub fn problem(&self, found: Option<&Value>) -> Option<String> {
        let project = self.path.split('/').nth(1).unwrap_or_default();
        match found {
            None => Some(format!(
                "{}: the Cloud Armor policy `{}` does not exist in project {project}. The panel attaches policies but does not create them: create it (gcloud compute security-policies create {} --type={}) or correct the name, then plan again",
                self.field, self.name, self.name, self.kind
            )),
            Some(p) => {
                let kind = p["type"].as_str().unwrap_or(BACKEND_POLICY);
                (kind != self.kind).then(|| {
                    format!(
                        "{}: the Cloud Armor policy `{}` in project {project} is of type {kind}, but this field takes a {} policy{}",
                        self.field,
                        self.name,
                        self.kind,
                        if self.kind == EDGE_POLICY {
                            ": name a backend policy under `security_policy` instead"
                        } else {
                            ": name an edge policy under `edge_security_policy` instead"
                        }
                    )
                })
            }
        }
    }
}

/// Keys of the edge options in a backend's JSON object, for the parser's known-keys list.
pub const BACKEND_KEYS: &[&str] = &[
    "security_policy",
    "edge_security_policy",
    "iap",
    "cdn_policy",
    "logging",
];

/// The shape of the edge options in one backend's raw JSON (serde loses field names behind
/// `flatten`): `Err((field, message))` for the first problem.
pub fn shape(b: &serde_json::Map<String, Value>, base: &str) -> Result<(), (String, String)> {
    let err = |k: &str, m: &str| Err((format!("{base}{k}"), m.to_string()));
    for k in ["security_policy", "edge_security_policy"] {
        if b.get(k).is_some_and(|v| !v.is_string()) {
            return err(k, "must be the name of a Cloud Armor policy (a string)");
        }
    }
    if let Some(v) = b.get("iap")
        && !matches!(v.as_str(), Some("load-balancer" | "cloud-run"))
    {
        return err("iap", "must be \"load-balancer\" or \"cloud-run\"");
    }
    if let Some(v) = b.get("cdn_policy") {
        let Some(o) = v.as_object() else {
            return err(
                "cdn_policy",
                "must be an object: {\"cache_mode\", \"default_ttl\", \"max_ttl\", \"client_ttl\"}",
            );
        };
        let allowed = ["cache_mode", "default_ttl", "max_ttl", "client_ttl"];
        if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
            return err(
                &format!("cdn_policy.{k}"),
                &format!(
                    "unknown field `{k}`, expected one of: {}",
                    allowed.join(", ")
                ),
            );
        }
        if let Some(m) = o.get("cache_mode")
            && m.as_str().is_none_or(|m| CacheMode::from_api(m).is_none())
        {
            return err(
                "cdn_policy.cache_mode",
                "must be \"CACHE_ALL_STATIC\", \"USE_ORIGIN_HEADERS\" or \"FORCE_CACHE_ALL\"",
            );
        }
        for k in ["default_ttl", "max_ttl", "client_ttl"] {
            if o.get(k)
                .is_some_and(|v| v.as_u64().is_none_or(|n| n > u64::from(u32::MAX)))
            {
                return err(
                    &format!("cdn_policy.{k}"),
                    "must be a whole number of seconds, 0 or more",
                );
            }
        }
    }
    if let Some(v) = b.get("logging") {
        let Some(o) = v.as_object() else {
            return err(
                "logging",
                "must be an object: {\"sample_rate\": 0.0 to 1.0}",
            );
        };
        if let Some(k) = o.keys().find(|k| *k != "sample_rate") {
            return err(
                &format!("logging.{k}"),
                &format!("unknown field `{k}`, expected one of: sample_rate"),
            );
        }
        if o.get("sample_rate").is_some_and(|v| !v.is_number()) {
            return err("logging.sample_rate", "must be a number from 0.0 to 1.0");
        }
    }
    Ok(())
}

/// The semantic rules, as `(field, message)` in document order.
pub fn problems(spec: &Spec) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, b) in spec.backends.iter().enumerate() {
        let base = format!("backends[{i}]");
        let e = &b.edge;
        for (key, name) in [
            ("security_policy", &e.security_policy),
            ("edge_security_policy", &e.edge_security_policy),
        ] {
            if let Some(name) = name
                && !super::validate::is_resource_name(name)
            {
                out.push((
                    format!("{base}.{key}"),
                    format!("`{name}` is not a Cloud Armor policy name: 1 to 63 characters, a lowercase letter first, then lowercase letters, digits or hyphens, not ending with a hyphen"),
                ));
            }
        }
        match e.iap {
            Some(Iap::LoadBalancer) if b.cdn => out.push((
                format!("{base}.iap"),
                "IAP and Cloud CDN cannot be enabled on the same backend: Google refuses the combination (IAP is incompatible with Cloud CDN). Turn `cdn` off on this backend, or leave out `iap`".to_string(),
            )),
            Some(Iap::CloudRun) if b.cdn => out.push((
                format!("{base}.iap"),
                "IAP and Cloud CDN cannot be used on the same backend: IAP is incompatible with Cloud CDN, and with IAP on Cloud Run the cache would answer requests that IAP never checked. Turn `cdn` off on this backend, or leave out `iap`".to_string(),
            )),
            _ => {}
        }
        if e.iap == Some(Iap::LoadBalancer) && b.outlier_detection {
            out.push((
                format!("{base}.outlier_detection"),
                "outlier detection cannot be used on a backend service with IAP enabled (Google's serverless NEG limits): set `outlier_detection: false`, or put IAP on Cloud Run (`iap: \"cloud-run\"`)".to_string(),
            ));
        }
        if e.iap == Some(Iap::CloudRun) {
            match &b.kind {
                BackendKind::Serverless { service, .. } if spec.service(service).is_some() => {
                    let on_lb = spec.backends.iter().position(|o| {
                        o.edge.iap == Some(Iap::LoadBalancer)
                            && matches!(&o.kind, BackendKind::Serverless { service: s, .. } if s == service)
                    });
                    if let Some(j) = on_lb {
                        out.push((
                            format!("{base}.iap"),
                            format!("service `{service}` gets IAP on Cloud Run here and IAP on the load balancer through backends[{j}]; IAP cannot be configured on both the load balancer and the Cloud Run service: choose one"),
                        ));
                    }
                }
                BackendKind::Serverless { service, .. } => out.push((
                    format!("{base}.iap"),
                    format!("`cloud-run` turns IAP on in the Cloud Run service, which the panel can do only for a service it deploys: add `{service}` to `services`, or use `iap: \"load-balancer\"`"),
                )),
                BackendKind::Internet { .. } => out.push((
                    format!("{base}.iap"),
                    "`cloud-run` needs a serverless backend for a service in `services`; an internet backend can only have `iap: \"load-balancer\"`".to_string(),
                )),
            }
        }
        if let Some(p) = &e.cdn_policy {
            cdn_problems(&mut out, &base, b.cdn, p);
        }
        if let Some(l) = &e.logging
            && !(0.0..=1.0).contains(&l.rate())
        {
            out.push((
                format!("{base}.logging.sample_rate"),
                format!(
                    "{} is not a share of requests: give a number from 0.0 (none) to 1.0 (every request)",
                    l.rate()
                ),
            ));
        }
    }
    out
}

fn cdn_problems(out: &mut Vec<(String, String)>, base: &str, cdn: bool, p: &CdnPolicy) {
    let field = |t: Ttl| format!("{base}.cdn_policy.{}", t.spec_key());
    if !cdn {
        out.push((
            format!("{base}.cdn_policy"),
            "cache settings need Cloud CDN on this backend: set `cdn: true`, or leave out `cdn_policy`".to_string(),
        ));
        return;
    }
    let mode = p.mode();
    // Google's rules for TTLs per cache mode (Cloud CDN "cache modes" page); the API's own
    // wording of these refusals is UNCONFIRMED.
    for t in Ttl::ALL {
        let Some(s) = p.ttl(t) else { continue };
        if !mode.accepts(t) {
            let why = match mode {
                CacheMode::UseOriginHeaders => {
                    "with USE_ORIGIN_HEADERS the origin's Cache-Control headers decide, so Google takes no default, max or client TTL"
                }
                _ => {
                    "with FORCE_CACHE_ALL every response is cached for the default TTL, so Google takes no max TTL"
                }
            };
            out.push((field(t), format!("{why}: leave out `{}`", t.spec_key())));
        } else if s > MAX_TTL_SECONDS {
            out.push((
                field(t),
                format!("{s} s is more than Cloud CDN's limit of {MAX_TTL_SECONDS} s (one year)"),
            ));
        }
    }
    if let (Some(d), Some(m)) = (p.effective(Ttl::Default), p.effective(Ttl::Max))
        && d > m
        && d <= MAX_TTL_SECONDS
    {
        out.push((
            field(if p.default_ttl.is_some() {
                Ttl::Default
            } else {
                Ttl::Max
            }),
            format!("the default TTL ({d} s) cannot be greater than the max TTL ({m} s)"),
        ));
    }
    if let (Some(c), Some(m)) = (p.effective(Ttl::Client), p.effective(Ttl::Max))
        && c > m
        && c <= MAX_TTL_SECONDS
    {
        out.push((
            field(if p.client_ttl.is_some() {
                Ttl::Client
            } else {
                Ttl::Max
            }),
            format!("the client TTL ({c} s) cannot be greater than the max TTL ({m} s)"),
        ));
    }
}

/// Whether `service` (in `services`) gets IAP on Cloud Run from a backend that fronts it.
pub fn cloud_run_iap(spec: &Spec, service: &str) -> bool {
    spec.backends.iter().any(|b| {
        b.edge.iap == Some(Iap::CloudRun)
            && matches!(&b.kind, BackendKind::Serverless { service: s, .. } if s == service)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::parse::parse;
    use crate::domain::parse::tests::{base, parse_field};
    use crate::domain::validate::validate;
    use serde_json::json;

    fn errors(f: impl FnOnce(&mut Value)) -> Vec<(String, String)> {
        let mut v = base();
        f(&mut v);
        let spec = parse(v.to_string()).expect("parses");
        validate(&spec)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    fn fields(f: impl FnOnce(&mut Value)) -> Vec<String> {
        errors(f).into_iter().map(|(f, _)| f).collect()
    }

    fn with_service(v: &mut Value) {
        v["services"] = json!([{ "name": "my-app", "image": "us-docker.pkg.dev/p/r/app:1",
            "regions": ["us-central1", "europe-west1", "asia-east1"] }]);
    }

    #[test]
    fn a_spec_without_edge_options_serialises_as_before() {
        let spec = parse(base().to_string()).unwrap();
        let out = serde_json::to_value(&spec).unwrap();
        for k in BACKEND_KEYS {
            assert!(out["backends"][0].get(*k).is_none(), "{k}");
        }
        assert!(out["backends"][0].get("default_url").is_none());
    }

    #[test]
    fn every_option_round_trips() {
        let mut v = base();
        with_service(&mut v);
        v["services"][0]["default_url"] = json!(false);
        v["backends"][0]["outlier_detection"] = json!(false);
        v["backends"][0]["security_policy"] = json!("armor");
        v["backends"][0]["edge_security_policy"] = json!("edge");
        v["backends"][0]["iap"] = json!("cloud-run");
        v["backends"][0]["logging"] = json!({ "sample_rate": 0.25 });
        v["backends"][1]["cdn"] = json!(true);
        v["backends"][1]["cdn_policy"] =
            json!({ "cache_mode": "FORCE_CACHE_ALL", "default_ttl": 60, "client_ttl": 30 });
        let spec = parse(v.to_string()).unwrap();
        assert_eq!(validate(&spec), Ok(()));
        assert_eq!(spec.backends[0].edge.iap, Some(Iap::CloudRun));
        assert!(!spec.services[0].default_url);
        let again = parse(serde_json::to_string(&spec).unwrap()).unwrap();
        assert_eq!(spec, again);
    }

    #[test]
    fn shape_errors_name_the_field() {
        type Change = Box<dyn FnOnce(&mut Value)>;
        let cases: Vec<(Change, &str)> = vec![
            (
                Box::new(|v| v["backends"][0]["iap"] = json!("both")),
                "backends[0].iap",
            ),
            (
                Box::new(|v| v["backends"][0]["security_policy"] = json!(1)),
                "backends[0].security_policy",
            ),
            (
                Box::new(|v| v["backends"][1]["cdn_policy"] = json!({ "ttl": 1 })),
                "backends[1].cdn_policy.ttl",
            ),
            (
                Box::new(|v| v["backends"][1]["cdn_policy"] = json!({ "cache_mode": "ALL" })),
                "backends[1].cdn_policy.cache_mode",
            ),
            (
                Box::new(|v| v["backends"][1]["cdn_policy"] = json!({ "max_ttl": -1 })),
                "backends[1].cdn_policy.max_ttl",
            ),
            (
                Box::new(|v| v["backends"][0]["logging"] = json!({ "sample_rate": "all" })),
                "backends[0].logging.sample_rate",
            ),
            (
                Box::new(|v| v["backends"][0]["logging"] = json!({ "rate": 1 })),
                "backends[0].logging.rate",
            ),
            (
                Box::new(|v| v["backends"][0]["armor"] = json!("x")),
                "backends[0].armor",
            ),
            (
                Box::new(|v| {
                    with_service(v);
                    v["services"][0]["default_url"] = json!("no");
                }),
                "services[0].default_url",
            ),
        ];
        for (f, field) in cases {
            assert_eq!(parse_field(f).as_deref(), Some(field));
        }
    }

    #[test]
    fn iap_with_cdn_or_outlier_detection_is_refused_with_the_reason() {
        let e = errors(|v| {
            v["backends"][0]["cdn"] = json!(true);
            v["backends"][0]["outlier_detection"] = json!(false);
            v["backends"][0]["iap"] = json!("load-balancer");
        });
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].0, "backends[0].iap");
        assert!(
            e[0].1.contains("IAP is incompatible with Cloud CDN"),
            "{}",
            e[0].1
        );
        assert_eq!(
            fields(|v| v["backends"][0]["iap"] = json!("load-balancer")),
            ["backends[0].outlier_detection"]
        );
    }

    #[test]
    fn iap_on_cloud_run_needs_a_deployed_service_and_not_iap_on_the_load_balancer_too() {
        let e = errors(|v| v["backends"][0]["iap"] = json!("cloud-run"));
        assert_eq!(e[0].0, "backends[0].iap");
        assert!(e[0].1.contains("add `my-app` to `services`"), "{}", e[0].1);
        assert_eq!(
            fields(|v| v["backends"][1]["iap"] = json!("cloud-run")),
            ["backends[1].iap"]
        );
        assert!(
            fields(|v| {
                with_service(v);
                v["backends"][0]["iap"] = json!("cloud-run");
            })
            .is_empty()
        );
        let e = errors(|v| {
            with_service(v);
            v["backends"][0]["iap"] = json!("cloud-run");
            let mut other = v["backends"][0].clone();
            other["name"] = json!("web2");
            other["iap"] = json!("load-balancer");
            other["outlier_detection"] = json!(false);
            v["backends"].as_array_mut().unwrap().push(other);
        });
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].1.contains("cannot be configured on both"),
            "{}",
            e[0].1
        );
    }

    #[test]
    fn cdn_policy_follows_googles_rules_per_cache_mode() {
        let cdn = |p: Value| {
            fields(move |v| {
                v["backends"][1]["cdn"] = json!(true);
                v["backends"][1]["cdn_policy"] = p;
            })
        };
        assert!(cdn(json!({ "cache_mode": "CACHE_ALL_STATIC", "default_ttl": 60, "max_ttl": 600, "client_ttl": 60 })).is_empty());
        assert_eq!(
            cdn(json!({ "cache_mode": "USE_ORIGIN_HEADERS", "default_ttl": 60, "client_ttl": 1 })),
            [
                "backends[1].cdn_policy.default_ttl",
                "backends[1].cdn_policy.client_ttl"
            ]
        );
        assert_eq!(
            cdn(json!({ "cache_mode": "FORCE_CACHE_ALL", "max_ttl": 60 })),
            ["backends[1].cdn_policy.max_ttl"]
        );
        assert!(cdn(json!({ "cache_mode": "FORCE_CACHE_ALL", "default_ttl": 100000 })).is_empty());
        assert_eq!(
            cdn(json!({ "max_ttl": 31_622_401 })),
            ["backends[1].cdn_policy.max_ttl"]
        );
        // Against the default max TTL (one day) too.
        assert_eq!(
            cdn(json!({ "default_ttl": 90000 })),
            ["backends[1].cdn_policy.default_ttl"]
        );
        assert_eq!(
            cdn(json!({ "max_ttl": 60 })),
            [
                "backends[1].cdn_policy.max_ttl",
                "backends[1].cdn_policy.max_ttl"
            ]
        );
        let e = errors(|v| {
            v["backends"][1]["cdn_policy"] = json!({ "cache_mode": "CACHE_ALL_STATIC" })
        });
        assert_eq!(e[0].0, "backends[1].cdn_policy");
        assert!(e[0].1.contains("set `cdn: true`"));
    }

    #[test]
    fn logging_and_policy_names() {
        assert_eq!(
            fields(|v| v["backends"][0]["logging"] = json!({ "sample_rate": 1.5 })),
            ["backends[0].logging.sample_rate"]
        );
        assert!(fields(|v| v["backends"][0]["logging"] = json!({})).is_empty());
        assert_eq!(
            fields(|v| v["backends"][1]["edge_security_policy"] = json!("Edge_1")),
            ["backends[1].edge_security_policy"]
        );
    }

    #[test]
    fn cdn_policies_compare_with_googles_defaults_filled_in() {
        let sent = CdnPolicy {
            cache_mode: Some(CacheMode::CacheAllStatic),
            ..CdnPolicy::default()
        }
        .api_json();
        assert_eq!(
            sent,
            json!({ "cacheMode": "CACHE_ALL_STATIC", "defaultTtl": 3600, "maxTtl": 86400, "clientTtl": 3600 })
        );
        assert!(cdn_policy_eq(
            None,
            Some(
                &json!({ "cacheMode": "CACHE_ALL_STATIC", "defaultTtl": 3600, "negativeCaching": false })
            )
        ));
        assert!(!cdn_policy_eq(
            None,
            Some(&json!({ "cacheMode": "CACHE_ALL_STATIC", "defaultTtl": 60 }))
        ));
        // TTLs a mode does not take are not compared (Google may report them anyway).
        assert!(cdn_policy_eq(
            Some(&json!({ "cacheMode": "USE_ORIGIN_HEADERS" })),
            Some(&json!({ "cacheMode": "USE_ORIGIN_HEADERS", "defaultTtl": 0, "maxTtl": "0" }))
        ));
        assert_eq!(adopted_cdn_policy(Some(&sent)), None);
        assert_eq!(
            adopted_cdn_policy(Some(
                &json!({ "cacheMode": "FORCE_CACHE_ALL", "defaultTtl": 60, "maxTtl": 86400 })
            )),
            Some(CdnPolicy {
                cache_mode: Some(CacheMode::ForceCacheAll),
                default_ttl: Some(60),
                ..CdnPolicy::default()
            })
        );
    }

    #[test]
    fn a_missing_or_mistyped_policy_is_a_problem_naming_the_field() {
        let mut v = base();
        v["backends"][0]["security_policy"] = json!("armor");
        v["backends"][1]["edge_security_policy"] = json!("edge");
        let spec = parse(v.to_string()).unwrap();
        let checks = policy_checks(&spec);
        assert_eq!(checks.len(), 2);
        assert_eq!(
            checks[0].path,
            "projects/acme-edge/global/securityPolicies/armor"
        );
        let missing = checks[0].problem(None).unwrap();
        assert!(
            missing.starts_with(
                "backends[0].security_policy: the Cloud Armor policy `armor` does not exist"
            ),
            "{missing}"
        );
        assert_eq!(
            checks[0].problem(Some(&json!({ "type": "CLOUD_ARMOR" }))),
            None
        );
        let wrong = checks[1]
            .problem(Some(&json!({ "type": "CLOUD_ARMOR" })))
            .unwrap();
        assert!(
            wrong
                .contains("is of type CLOUD_ARMOR, but this field takes a CLOUD_ARMOR_EDGE policy"),
            "{wrong}"
        );
    }
}
