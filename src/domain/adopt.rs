//! Adopting a hand-built load balancer: the resources found in a project (`deploy::discover`
//! reads them) shaped into load balancers, each with the spec that reproduces it under its
//! existing names, and what the spec cannot express.
//!
//! The spec is checked the only way that counts: it is compiled and planned against the very
//! resources it came from, and anything the first plan would change is reported rather than
//! adopted silently (docs/contract.md §3, "its first plan is all noop").

use super::explicit_names::endpoint_key;
use super::frontend_options;
use super::links::link_path;
use super::lint::SERVERLESS_LIMITS;
use super::plan::{self, Action, LiveState};
use super::spec::{
    Backend, BackendKind, BackendNames, CertificateName, ExplicitNames, Frontend, IpKind, Protocol,
    Routing, Rule, Spec, Target, WeightedBackend,
};
use super::validate;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;

/// What adopting does with a part the spec cannot express.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Left as it is: the plan never sends the field, the overview shows it as not managed.
    Kept,
    /// The load balancer cannot be adopted, for this reason.
    Refused { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unexpressible {
    /// Resource path.
    pub resource: String,
    pub what: String,
    pub meaning: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// One global external Application Load Balancer found in a project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadBalancer {
    /// The name of its main forwarding rule (the HTTPS one when there is one).
    pub id: String,
    pub ip: Option<String>,
    pub domains: Vec<String>,
    /// URL map path.
    pub url_map: Option<String>,
    /// Every resource path it is made of.
    pub resources: Vec<String>,
    /// Backend service names, with what each fronts.
    pub backends: Vec<String>,
    /// Another load balancer found uses the same IP / one of the same backend services.
    pub shared_ip: bool,
    pub shared_backend_services: Vec<String>,
    pub unexpressible: Vec<Unexpressible>,
    /// The draft spec, when nothing refuses adoption.
    #[serde(skip)]
    pub spec: Option<Spec>,
}

impl LoadBalancer {
    pub fn refusals(&self) -> Vec<&str> {
        self.unexpressible
            .iter()
            .filter_map(|u| match &u.outcome {
                Outcome::Refused { reason } => Some(reason.as_str()),
                Outcome::Kept => None,
            })
            .collect()
    }
}

/// Everything read from the project: resource path → resource (`None`: referenced, absent).
pub type Found = LiveState;

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or_default()
}

fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

struct Walk<'a> {
    found: &'a Found,
    resources: BTreeSet<String>,
    notes: Vec<Unexpressible>,
}

impl Walk<'_> {
    fn get(&self, link: &str) -> Option<&Value> {
        self.found.get(link_path(link)).and_then(Option::as_ref)
    }

    fn note(&mut self, resource: &str, what: &str, meaning: &str, outcome: Outcome) {
        self.notes.push(Unexpressible {
            resource: link_path(resource).to_string(),
            what: what.to_string(),
            meaning: meaning.to_string(),
            outcome,
        });
    }

    fn refuse(&mut self, resource: &str, what: &str, reason: &str) {
        self.note(
            resource,
            what,
            reason,
            Outcome::Refused {
                reason: reason.to_string(),
            },
        );
    }

    fn keep(&mut self, resource: &str, what: &str, meaning: &str) {
        self.note(resource, what, meaning, Outcome::Kept);
    }

    /// Fields the spec has no word for but that the plan never sends: kept as they are.
    fn keep_extras(&mut self, path: &str, v: &Value, fields: &[(&str, &str)]) {
        for (field, meaning) in fields {
            if v.get(*field).is_some_and(|x| !plan::is_empty_default(x)) {
                self.keep(path, field, meaning);
            }
        }
    }
}

/// Cloud Armor, IAP, CDN cache settings and logging are the spec's (`edge_security::adopted`).
const BS_EXTRAS: &[(&str, &str)] = &[("customResponseHeaders", "headers added to every response")];

/// The HTTPS proxy's HTTP/3 choice and SSL policy, in the spec's terms
/// (`frontend.http3`, `frontend.ssl_policy`, the policy's name kept in `names.ssl_policy`). A
/// policy the spec cannot say (CUSTOM or FIPS features, TLS 1.3, or one not found) is refused:
/// the plan manages the proxy's `sslPolicy`, so it could not be left as it is.
fn proxy_options(
    w: &mut Walk,
    proxy_path: &str,
    proxy: &Value,
    names: &mut ExplicitNames,
) -> (Option<bool>, Option<frontend_options::SslPolicy>) {
    let http3 = match s(proxy, "quicOverride") {
        "ENABLE" => Some(true),
        "DISABLE" => Some(false),
        _ => None,
    };
    let link = s(proxy, "sslPolicy");
    if link.is_empty() {
        return (http3, None);
    }
    let path = link_path(link).to_string();
    w.resources.insert(path.clone());
    let Some(policy) = w.get(&path).cloned() else {
        w.refuse(
            proxy_path,
            "sslPolicy",
            "the SSL policy the proxy names was not found",
        );
        return (http3, None);
    };
    let profile = frontend_options::SslProfile::from_api(s(&policy, "profile"));
    let min = frontend_options::TlsVersion::from_api(match s(&policy, "minTlsVersion") {
        "" => "TLS_1_0",
        v => v,
    });
    let custom = policy
        .get("customFeatures")
        .is_some_and(|c| !plan::is_empty_default(c));
    match (profile, min, custom) {
        (Some(profile), Some(min), false) => {
            names.ssl_policy = Some(name_of(&path).to_string());
            (
                http3,
                Some(frontend_options::SslPolicy {
                    min_tls_version: Some(min),
                    profile: Some(profile),
                }),
            )
        }
        _ => {
            w.refuse(&path, "profile", &format!(
                "the SSL policy uses profile {} with minimum {}: the spec offers COMPATIBLE, MODERN and RESTRICTED with TLS 1.0 to 1.2",
                s(&policy, "profile"),
                s(&policy, "minTlsVersion")
            ));
            (http3, None)
        }
    }
}

/// The spec backend made from one backend service, with its kept names.
fn backend(w: &mut Walk, bs_path: &str, bs: &Value) -> Option<(Backend, BackendNames)> {
    let name = name_of(bs_path).to_string();
    let mut names = BackendNames {
        backend_service: Some(name.clone()),
        ..BackendNames::default()
    };
    let protocol = s(bs, "protocol");
    if !protocol.is_empty() && protocol != "HTTPS" {
        names.protocol = Some(protocol.to_string());
    }
    if s(bs, "loadBalancingScheme") != "EXTERNAL_MANAGED" {
        w.refuse(
            bs_path,
            "loadBalancingScheme",
            &format!(
                "the backend service uses the {} scheme; the panel manages global external Application Load Balancers (EXTERNAL_MANAGED) only",
                s(bs, "loadBalancingScheme")
            ),
        );
        return None;
    }
    w.keep_extras(bs_path, bs, BS_EXTRAS);
    let project = bs_path.split('/').nth(1).unwrap_or_default();
    let edge = match crate::domain::edge_security::adopted(bs, project) {
        Ok(edge) => edge,
        Err((field, reason)) => {
            w.refuse(bs_path, field, &reason);
            return None;
        }
    };
    let groups: Vec<String> = bs
        .get("backends")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|b| link_path(s(b, "group")).to_string())
        .collect();
    let mut serverless: Vec<(String, String)> = Vec::new();
    let mut internet: Vec<(String, Value)> = Vec::new();
    for group in &groups {
        w.resources.insert(group.clone());
        let Some(neg) = w.get(group).cloned() else {
            w.refuse(
                group,
                "group",
                "the network endpoint group this backend service names does not exist",
            );
            return None;
        };
        match s(&neg, "networkEndpointType") {
            "SERVERLESS" => {
                let run = neg.get("cloudRun");
                let service = run.map(|r| s(r, "service")).unwrap_or_default();
                if run.is_none() || service.is_empty() {
                    w.refuse(group, "networkEndpointType", "a serverless NEG for App Engine or Cloud Functions, or one with a URL mask: the panel fronts Cloud Run services by name only");
                    return None;
                }
                if run.is_some_and(|r| !s(r, "tag").is_empty() || !s(r, "urlMask").is_empty()) {
                    w.refuse(group, "cloudRun", "the NEG picks a revision tag or uses a URL mask, which the spec cannot express");
                    return None;
                }
                let region = group.split('/').nth(3).unwrap_or_default().to_string();
                let run_path = format!(
                    "projects/{}/locations/{region}/services/{service}",
                    group.split('/').nth(1).unwrap_or_default()
                );
                if w.found.get(&run_path).is_some_and(Option::is_none) {
                    w.keep(&run_path, "cloudRun.service", &format!("the Cloud Run service `{service}` in {region} does not exist: requests routed to this NEG fail until it is deployed"));
                }
                serverless.push((region, service.to_string()));
                names.negs.insert(
                    group.split('/').nth(3).unwrap_or_default().to_string(),
                    name_of(group).to_string(),
                );
            }
            "INTERNET_FQDN_PORT" | "INTERNET_IP_PORT" => internet.push((group.clone(), neg)),
            other => {
                w.refuse(group, "networkEndpointType", &format!("a {other} network endpoint group: the panel manages serverless and internet NEG backends only"));
                return None;
            }
        }
    }
    for b in bs
        .get("backends")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mode = s(b, "balancingMode");
        let extra = b.get("maxUtilization").is_some()
            || b.get("maxRatePerEndpoint").is_some()
            || b.get("maxRate").is_some()
            || mode == "RATE";
        if extra {
            w.keep(bs_path, "backends[].balancingMode", SERVERLESS_LIMITS);
        }
    }
    if bs
        .get("healthChecks")
        .and_then(Value::as_array)
        .is_some_and(|h| !h.is_empty())
    {
        w.keep(bs_path, "healthChecks", SERVERLESS_LIMITS);
    }
    let kind = match (serverless.as_slice(), internet.as_slice()) {
        ([], [(neg_path, neg)]) => {
            let endpoint = neg
                .get("networkEndpoints")
                .and_then(Value::as_array)
                .and_then(|e| e.first())
                .cloned()
                .unwrap_or(Value::Null);
            let port = endpoint
                .get("port")
                .and_then(Value::as_u64)
                .or_else(|| neg.get("defaultPort").and_then(Value::as_u64))
                .unwrap_or(443) as u16;
            let fqdn = endpoint
                .get("fqdn")
                .and_then(Value::as_str)
                .map(str::to_string);
            let ip = endpoint
                .get("ipAddress")
                .and_then(Value::as_str)
                .map(str::to_string);
            let Some(address) = fqdn.clone().or(ip.clone()) else {
                w.refuse(
                    neg_path,
                    "networkEndpoints",
                    "the internet NEG has no endpoint, so there is nothing to send traffic to",
                );
                return None;
            };
            let host_header = bs
                .get("customRequestHeaders")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .find_map(|h| {
                    // Header names are case-insensitive: gcloud and the console write `host:`.
                    let (name, value) = h.split_once(':')?;
                    name.trim()
                        .eq_ignore_ascii_case("host")
                        .then(|| value.trim().to_string())
                });
            names.internet_neg = Some(name_of(neg_path).to_string());
            names.endpoint = Some(endpoint_key(&address, port));
            BackendKind::Internet {
                fqdn,
                ip,
                deployment: None,
                port,
                host_header,
            }
        }
        (list, []) if !list.is_empty() => {
            let services: BTreeSet<&str> = list.iter().map(|(_, s)| s.as_str()).collect();
            if services.len() > 1 {
                w.refuse(bs_path, "backends", "its serverless NEGs front differently named Cloud Run services; a spec backend fronts one service in several regions");
                return None;
            }
            let service = list[0].1.clone();
            names.service = Some(service.clone());
            BackendKind::Serverless {
                service,
                regions: list.iter().map(|(r, _)| r.clone()).collect(),
            }
        }
        ([], []) => {
            w.refuse(bs_path, "backends", "the backend service has no backends");
            return None;
        }
        _ => {
            w.refuse(bs_path, "backends", "the backend service mixes NEG types or has several internet NEGs; a spec backend is one serverless service or one internet endpoint");
            return None;
        }
    };
    Some((
        Backend {
            name,
            kind,
            cdn: bs
                .get("enableCDN")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            outlier_detection: bs.get("outlierDetection").is_some(),
            project: None,
            edge,
        },
        names,
    ))
}

/// A URL map's target (service or weighted services, with an optional rewrite) in spec terms.
fn target(
    w: &mut Walk,
    map_path: &str,
    service: Option<&Value>,
    action: Option<&Value>,
) -> Option<(Target, Option<String>, Option<String>)> {
    let service = service.and_then(Value::as_str);
    let Some(action) = action else {
        let svc = service?;
        return Some((
            Target::Backend {
                backend: name_of(link_path(svc)).to_string(),
            },
            None,
            None,
        ));
    };
    let weighted: Vec<(String, u32)> = action
        .get("weightedBackendServices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|x| {
            (
                name_of(link_path(s(x, "backendService"))).to_string(),
                x.get("weight").and_then(Value::as_u64).unwrap_or(0) as u32,
            )
        })
        .collect();
    let others: Vec<&String> = action
        .as_object()
        .into_iter()
        .flat_map(|o| o.keys())
        .filter(|k| *k != "weightedBackendServices" && *k != "urlRewrite")
        .collect();
    if !others.is_empty() {
        let what = others
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        w.refuse(map_path, &format!("routeAction.{what}"), "route actions other than weighted backends and URL rewrites (timeouts, retries, fault injection, mirroring, CORS, header actions) cannot be written in the spec");
        return None;
    }
    let rewrite = action.get("urlRewrite");
    let prefix = rewrite
        .and_then(|r| r.get("pathPrefixRewrite"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let host = rewrite
        .and_then(|r| r.get("hostRewrite"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let t = match weighted.as_slice() {
        // A service with a rewrite (how the console and gcloud write it).
        [] => Target::Backend {
            backend: name_of(link_path(service?)).to_string(),
        },
        [(b, _)] if rewrite.is_some() => Target::Backend { backend: b.clone() },
        _ => Target::Split {
            split: weighted
                .iter()
                .map(|(b, wt)| WeightedBackend {
                    backend: b.clone(),
                    weight: *wt,
                })
                .collect(),
        },
    };
    Some((t, prefix, host))
}

/// The routing of a URL map, with the names of its path matchers.
fn routing(w: &mut Walk, map_path: &str, map: &Value) -> Option<(Routing, Vec<String>)> {
    let Some((default, None, None)) = target(
        w,
        map_path,
        map.get("defaultService"),
        map.get("defaultRouteAction"),
    ) else {
        w.refuse(map_path, "defaultService", "the URL map has no default backend service (a redirect or a backend bucket), which the spec requires");
        return None;
    };
    for field in [
        "defaultUrlRedirect",
        "headerAction",
        "defaultCustomErrorResponsePolicy",
        "tests",
    ] {
        if map.get(field).is_some_and(|v| !plan::is_empty_default(v)) {
            w.refuse(
                map_path,
                field,
                "this URL map setting cannot be written in the spec, and a plan would remove it",
            );
            return None;
        }
    }
    let mut rules = Vec::new();
    let mut matchers = Vec::new();
    let host_rules = map
        .get("hostRules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for pm in map
        .get("pathMatchers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let pm_name = s(pm, "name").to_string();
        let hosts: Vec<String> = host_rules
            .iter()
            .filter(|h| s(h, "pathMatcher") == pm_name)
            .flat_map(|h| {
                h.get("hosts")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|h| h.as_str().map(str::to_string))
            .collect();
        if pm
            .get("routeRules")
            .is_some_and(|v| !plan::is_empty_default(v))
        {
            w.refuse(
                map_path,
                &format!("pathMatchers[{pm_name}].routeRules"),
                "route rules (header and query matches, priorities) cannot be written in the spec",
            );
            return None;
        }
        let pm_default = target(
            w,
            map_path,
            pm.get("defaultService"),
            pm.get("defaultRouteAction"),
        );
        if pm_default.as_ref().map(|(t, _, _)| t) != Some(&default) {
            w.refuse(map_path, &format!("pathMatchers[{pm_name}].defaultService"), "the path matcher sends unmatched paths elsewhere than the map's default; in the spec every host's unmatched paths go to the default");
            return None;
        }
        matchers.push(pm_name);
        for pr in pm
            .get("pathRules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (t, prefix_rewrite, host_rewrite) =
                target(w, map_path, pr.get("service"), pr.get("routeAction"))?;
            let paths = pr
                .get("paths")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect();
            rules.push(Rule {
                hosts: hosts.clone(),
                paths,
                target: t,
                prefix_rewrite,
                host_rewrite,
            });
        }
    }
    Some((Routing { default, rules }, matchers))
}

/// Whether a URL map only redirects to https (the port-80 half of an https load balancer).
fn is_redirect_only(map: &Value) -> bool {
    map.get("defaultUrlRedirect")
        .and_then(|r| r.get("httpsRedirect"))
        .and_then(Value::as_bool)
        == Some(true)
        && map.get("pathMatchers").is_none_or(plan::is_empty_default)
}

/// A forwarding rule of a global external Application Load Balancer, with its proxy.
struct Front<'a> {
    path: String,
    rule: &'a Value,
    proxy_path: String,
    https: bool,
}

fn fronts(found: &Found) -> Vec<Front<'_>> {
    let mut out = Vec::new();
    for (path, v) in found {
        let Some(rule) = v else { continue };
        if !path.contains("/global/forwardingRules/") {
            continue;
        }
        let target = link_path(s(rule, "target")).to_string();
        let https = target.contains("/targetHttpsProxies/");
        if https || target.contains("/targetHttpProxies/") {
            out.push(Front {
                path: path.clone(),
                rule,
                proxy_path: target,
                https,
            });
        }
    }
    out
}

/// Every global external Application Load Balancer in `found`, for the project `project`.
/// An https rule and an http rule on the same IP whose map only redirects to https are one load
/// balancer (`http_redirect`).
pub fn discover(project: &str, found: &Found) -> Vec<LoadBalancer> {
    let all = fronts(found);
    let ip_of = |f: &Front| s(f.rule, "IPAddress").to_string();
    let redirect_of = |f: &Front| -> bool {
        !f.https
            && found
                .get(&f.proxy_path)
                .and_then(Option::as_ref)
                .and_then(|p| found.get(link_path(s(p, "urlMap"))))
                .and_then(Option::as_ref)
                .is_some_and(is_redirect_only)
    };
    let mut lbs = Vec::new();
    let mut used: BTreeSet<String> = BTreeSet::new();
    for f in all.iter().filter(|f| f.https || !redirect_of(f)) {
        let partner = all
            .iter()
            .find(|o| f.https && redirect_of(o) && ip_of(o) == ip_of(f) && !used.contains(&o.path));
        if let Some(p) = partner {
            used.insert(p.path.clone());
        }
        lbs.push(shape(project, found, f, partner));
    }
    // Shared IPs and backend services, across the load balancers found.
    let ips: Vec<Option<String>> = lbs.iter().map(|l| l.ip.clone()).collect();
    let bss: Vec<Vec<String>> = lbs
        .iter()
        .map(|l| {
            l.resources
                .iter()
                .filter(|r| r.contains("/backendServices/"))
                .cloned()
                .collect()
        })
        .collect();
    for (i, lb) in lbs.iter_mut().enumerate() {
        lb.shared_ip =
            lb.ip.is_some() && ips.iter().enumerate().any(|(j, ip)| j != i && *ip == lb.ip);
        lb.shared_backend_services = bss[i]
            .iter()
            .filter(|b| bss.iter().enumerate().any(|(j, o)| j != i && o.contains(b)))
            .cloned()
            .collect();
        if lb.shared_ip {
            let ip = lb.ip.clone().unwrap_or_default();
            let id = lb.id.clone();
            lb.unexpressible.push(Unexpressible { resource: format!("projects/{project}/global/forwardingRules/{id}"), what: "IPAddress".into(), meaning: format!("another load balancer found uses the IP {ip} too"), outcome: Outcome::Refused { reason: format!("the IP {ip} is shared with another load balancer; adopting one would let the panel release an address the other still needs") } });
            lb.spec = None;
        }
        for b in lb.shared_backend_services.clone() {
            lb.unexpressible.push(Unexpressible { resource: b.clone(), what: "usedBy".into(), meaning: "another load balancer found routes to this backend service too".into(), outcome: Outcome::Refused { reason: format!("{} is shared with another load balancer; a change made here would change that one too", name_of(&b)) } });
            lb.spec = None;
        }
    }
    lbs
}

fn shape(project: &str, found: &Found, front: &Front, redirect: Option<&Front>) -> LoadBalancer {
    let mut w = Walk {
        found,
        resources: BTreeSet::new(),
        notes: Vec::new(),
    };
    w.resources.insert(front.path.clone());
    w.resources.insert(front.proxy_path.clone());
    let ip = front
        .rule
        .get("IPAddress")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut names = ExplicitNames::default();
    let id = name_of(&front.path).to_string();
    let proxy = w.get(&front.proxy_path).cloned().unwrap_or(Value::Null);
    let map_path = link_path(s(&proxy, "urlMap")).to_string();
    let map = w.get(&map_path).cloned().unwrap_or(Value::Null);
    w.resources.insert(map_path.clone());
    let (http3, ssl_policy) = if front.https {
        proxy_options(&mut w, &front.proxy_path, &proxy, &mut names)
    } else {
        (None, None)
    };
    if s(front.rule, "loadBalancingScheme") != "EXTERNAL_MANAGED" {
        w.refuse(&front.path, "loadBalancingScheme", &format!("a {} forwarding rule is a classic Application Load Balancer; the panel manages the global external one (EXTERNAL_MANAGED) only", s(front.rule, "loadBalancingScheme")));
    }
    if front
        .rule
        .get("labels")
        .is_some_and(|l| !plan::is_empty_default(l))
    {
        w.keep(&front.path, "labels", "labels on the forwarding rule");
    }

    // Addresses: reserved when a global address holds the IP.
    let address = found.iter().find(|(p, v)| {
        p.contains("/global/addresses/")
            && v.as_ref()
                .is_some_and(|a| Some(s(a, "address")) == ip.as_deref())
    });
    let ip_kind = match address {
        Some((p, _)) => {
            w.resources.insert(p.clone());
            names.address = Some(name_of(p).to_string());
            IpKind::Static
        }
        None => IpKind::Ephemeral,
    };

    // Certificates.
    let mut domains = Vec::new();
    if front.https {
        names.https_proxy = Some(name_of(&front.proxy_path).to_string());
        names.https_forwarding_rule = Some(id.clone());
        if proxy
            .get("certificateMap")
            .is_some_and(|m| !plan::is_empty_default(m))
        {
            w.refuse(&front.proxy_path, "certificateMap", "the proxy serves Certificate Manager certificates; adopting those is not supported yet (classic certificates only)");
        }
        let certs: Vec<String> = proxy
            .get("sslCertificates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|c| link_path(c).to_string())
            .collect();
        match certs.as_slice() {
            [one] => {
                w.resources.insert(one.clone());
                let cert = w.get(one).cloned().unwrap_or(Value::Null);
                if s(&cert, "type") != "MANAGED" {
                    w.refuse(one, "type", "a self-managed certificate: its private key cannot be read back, so the spec cannot reproduce it");
                }
                domains = cert.get("managed").and_then(|m| m.get("domains")).and_then(Value::as_array).into_iter().flatten().filter_map(|d| d.as_str().map(str::to_string)).collect();
                names.certificate = Some(CertificateName { name: name_of(one).to_string(), domains: domains.clone() });
            }
            [] => {}
            _ => w.refuse(&front.proxy_path, "sslCertificates", "the proxy serves several certificates; the spec has one managed certificate for all its domains"),
        }
    } else {
        names.http_proxy = Some(name_of(&front.proxy_path).to_string());
        names.http_forwarding_rule = Some(id.clone());
    }
    if let Some(r) = redirect {
        w.resources.insert(r.path.clone());
        w.resources.insert(r.proxy_path.clone());
        names.http_proxy = Some(name_of(&r.proxy_path).to_string());
        names.http_forwarding_rule = Some(name_of(&r.path).to_string());
        if let Some(p) = w.get(&r.proxy_path).cloned() {
            let m = link_path(s(&p, "urlMap")).to_string();
            names.redirect_url_map = Some(name_of(&m).to_string());
            w.resources.insert(m);
        }
    }
    names.url_map = Some(name_of(&map_path).to_string());

    // Backends: every backend service the map names.
    let mut backend_paths: BTreeSet<String> = BTreeSet::new();
    collect_services(&map, &mut backend_paths);
    let mut backends = Vec::new();
    let mut described = Vec::new();
    for bs_path in &backend_paths {
        w.resources.insert(bs_path.clone());
        if bs_path.contains("/backendBuckets/") {
            w.refuse(bs_path, "backendBucket", "a Cloud Storage backend bucket: the panel manages Cloud Run and internet backends only");
            continue;
        }
        // Cross-project service referencing: a serverless backend whose backend service (and
        // NEGs, and Cloud Run service) live in the service's project (`backends[].project`).
        let other = bs_path
            .split('/')
            .nth(1)
            .filter(|p| *p != project)
            .map(str::to_string);
        let Some(bs) = w.get(bs_path).cloned() else {
            w.refuse(
                bs_path,
                "backendService",
                "the URL map names a backend service that does not exist",
            );
            continue;
        };
        if let Some((mut b, n)) = backend(&mut w, bs_path, &bs) {
            if let Some(other) = other {
                if !matches!(b.kind, BackendKind::Serverless { .. }) {
                    w.refuse(bs_path, "project", "an internet NEG backend service in another project: the spec's internet backends live in the load balancer's project");
                    continue;
                }
                b.project = Some(other);
            }
            described.push(match &b.kind {
                BackendKind::Serverless { service, regions } => {
                    format!("{}: Cloud Run {service} in {}", b.name, regions.join(", "))
                }
                BackendKind::Internet { fqdn, ip, port, .. } => format!(
                    "{}: {}:{port}",
                    b.name,
                    fqdn.clone().or(ip.clone()).unwrap_or_default()
                ),
            });
            names.backends.insert(b.name.clone(), n);
            backends.push(b);
        }
    }
    let routing = routing(&mut w, &map_path, &map);
    let mut lb = LoadBalancer {
        id: id.clone(),
        ip,
        domains: domains.clone(),
        url_map: Some(map_path.clone()).filter(|m| !m.is_empty()),
        resources: w.resources.iter().cloned().collect(),
        backends: described,
        shared_ip: false,
        shared_backend_services: Vec::new(),
        unexpressible: Vec::new(),
        spec: None,
    };
    let refused = w
        .notes
        .iter()
        .any(|n| matches!(n.outcome, Outcome::Refused { .. }));
    if let (Some((routing, matchers)), false) = (routing, refused) {
        names.path_matchers = matchers;
        let spec = Spec {
            name: deployment_name(&map_path),
            project: project.to_string(),
            frontend: Frontend {
                protocol: if front.https {
                    Protocol::Https
                } else {
                    Protocol::Http
                },
                domains,
                ip: ip_kind,
                http_redirect: redirect.is_some(),
                // A proxy serving a certificate map is refused above; classic it is.
                certificate: Default::default(),
                ipv6: false,
                http3,
                ssl_policy,
            },
            backends,
            routing,
            services: Vec::new(),
            rollout: None,
            names,
        };
        match check(&spec, found) {
            Ok(()) => lb.spec = Some(spec),
            Err(notes) => w.notes.extend(notes),
        }
    }
    lb.unexpressible = w.notes;
    lb
}

/// A deployment name from the URL map's name: it already is a valid resource name.
fn deployment_name(map_path: &str) -> String {
    name_of(map_path).to_string()
}

/// Every backend service (or bucket) a URL map names, as resource paths.
pub fn collect_services(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                match (k.as_str(), x) {
                    ("defaultService" | "service" | "backendService", Value::String(l)) => {
                        out.insert(link_path(l).to_string());
                    }
                    _ => collect_services(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_services(x, out)),
        _ => {}
    }
}

/// The draft must be valid and its first plan, against the very resources it came from, all
/// noop; whatever would change is reported as refusing adoption.
fn check(spec: &Spec, found: &Found) -> Result<(), Vec<Unexpressible>> {
    if let Err(errors) = validate::validate(spec) {
        return Err(errors
            .into_iter()
            .map(|e| Unexpressible {
                resource: String::new(),
                what: e.field.clone(),
                meaning: e.message.clone(),
                outcome: Outcome::Refused {
                    reason: format!(
                        "the spec made from it is not valid: {}: {}",
                        e.field, e.message
                    ),
                },
            })
            .collect());
    }
    let graph = plan::compile(spec);
    let live: LiveState = graph
        .resources
        .iter()
        .map(|r| (r.id.clone(), found.get(&r.id).cloned().flatten()))
        .collect();
    let planned = plan::diff(&graph, &live);
    let mut out = Vec::new();
    for e in &planned.entries {
        if e.action == Action::Noop {
            continue;
        }
        let fields: Vec<&str> = e.changes.iter().map(|c| c.field.as_str()).collect();
        let what = if fields.is_empty() {
            "resource".to_string()
        } else {
            fields.join(", ")
        };
        out.push(Unexpressible {
            resource: e.resource.clone(),
            what: what.clone(),
            meaning: format!("the spec cannot reproduce {what} exactly"),
            outcome: Outcome::Refused {
                reason: format!(
                    "the first plan would {} {} ({what})",
                    e.action.name().to_lowercase(),
                    e.resource
                ),
            },
        });
    }
    for c in &planned.conflicts {
        out.push(Unexpressible {
            resource: c.resource.clone(),
            what: "owner".into(),
            meaning: c.message.clone(),
            outcome: Outcome::Refused {
                reason: c.message.clone(),
            },
        });
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const P: &str = "projects/p";

    #[test]
    fn what_adopting_keeps_on_a_backend_service_survives_its_updates() {
        let carried = plan::ResourceKind::BackendService.carried_fields();
        for (field, _) in BS_EXTRAS {
            assert!(
                carried.contains(field),
                "{field} would be lost by an update"
            );
        }
    }

    /// Two forwarding rules on one IP, each with its proxy and map, both maps routing to one
    /// backend service that carries a Cloud Armor policy.
    fn found(second_map_bs: &str) -> Found {
        let mut f = Found::new();
        let mut put = |path: String, v: Value| {
            f.insert(path, Some(v));
        };
        for (fr, proxy, map, bs) in [
            ("a-fr", "a-proxy", "a-map", "shared-bs"),
            ("b-fr", "b-proxy", "b-map", second_map_bs),
        ] {
            put(
                format!("{P}/global/forwardingRules/{fr}"),
                json!({ "name": fr, "IPAddress": "34.1.2.3", "portRange": "80-80", "loadBalancingScheme": "EXTERNAL_MANAGED", "target": format!("{P}/global/targetHttpProxies/{proxy}") }),
            );
            put(
                format!("{P}/global/targetHttpProxies/{proxy}"),
                json!({ "name": proxy, "urlMap": format!("{P}/global/urlMaps/{map}") }),
            );
            put(
                format!("{P}/global/urlMaps/{map}"),
                json!({ "name": map, "defaultService": format!("{P}/global/backendServices/{bs}") }),
            );
        }
        put(
            format!("{P}/global/backendServices/shared-bs"),
            json!({ "name": "shared-bs", "loadBalancingScheme": "EXTERNAL_MANAGED", "protocol": "HTTPS", "securityPolicy": format!("https://www.googleapis.com/compute/v1/{P}/global/securityPolicies/x"), "backends": [ { "group": format!("{P}/regions/r1/networkEndpointGroups/neg") } ] }),
        );
        put(
            format!("{P}/regions/r1/networkEndpointGroups/neg"),
            json!({ "name": "neg", "networkEndpointType": "SERVERLESS", "cloudRun": { "service": "app" } }),
        );
        f
    }

    #[test]
    fn a_shared_ip_and_backend_service_are_found_as_such_and_refused() {
        let lbs = discover("p", &found("shared-bs"));
        assert_eq!(lbs.len(), 2);
        for lb in &lbs {
            assert!(lb.shared_ip, "{lb:?}");
            assert_eq!(
                lb.shared_backend_services,
                vec!["projects/p/global/backendServices/shared-bs"]
            );
            assert!(lb.spec.is_none());
            assert!(
                lb.refusals().iter().any(|r| r.contains("34.1.2.3")),
                "{:?}",
                lb.unexpressible
            );
            // Cloud Armor is the spec's now (`backends[].security_policy`): nothing to keep.
            assert!(!lb.unexpressible.iter().any(|u| u.what == "securityPolicy"));
        }
    }

    #[test]
    fn a_backend_bucket_refuses_adoption_with_the_reason() {
        let lbs = discover("p", &found("missing"));
        let mut f = found("shared-bs");
        f.insert(format!("{P}/global/urlMaps/b-map"), Some(json!({ "name": "b-map", "defaultService": format!("{P}/global/backendBuckets/static") })));
        let b = discover("p", &f)
            .into_iter()
            .find(|l| l.id == "b-fr")
            .unwrap();
        assert!(
            b.refusals().iter().any(|r| r.contains("backend bucket")),
            "{:?}",
            b.unexpressible
        );
        let b = lbs.iter().find(|l| l.id == "b-fr").unwrap();
        assert!(
            b.refusals().iter().any(|r| r.contains("does not exist")),
            "{:?}",
            b.unexpressible
        );
    }
}
