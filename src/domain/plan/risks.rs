//! Risks: the planned actions that can interrupt or move traffic, named in words before anyone
//! applies them. A plan with risks is applied only with an explicit confirmation.
//!
//! Everything here reads the plan alone (its entries carry both the live and the desired
//! resource), so the same plan always names the same risks.

use super::summary::kind_words;
use super::{Action, PlanEntry, ResourceKind, link_path};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One named risk of a plan (`risks[]` of the API's plan JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    pub resource: String,
    /// `certificate_not_active`, `replace_in_use`, `route_removed`, `backend_removed`,
    /// `weights_changed`, `ip_changes`, `run_service_deleted`, `chained_front`.
    pub kind: String,
    pub message: String,
}

impl Risk {
    /// Other deployments send their traffic through this one (`chain::destroy_warning`):
    /// destroying it breaks theirs. `resource` is the deployment's name.
    pub fn chained_front(deployment: &str, message: String) -> Risk {
        Risk::new(deployment, "chained_front", message)
    }

    fn new(resource: &str, kind: &str, message: String) -> Risk {
        Risk {
            resource: resource.to_string(),
            kind: kind.to_string(),
            message,
        }
    }
}

/// Every risk of applying `entries`, in plan order.
pub fn risks(entries: &[PlanEntry]) -> Vec<Risk> {
    let live_proxy = entries.iter().any(|e| {
        e.kind == ResourceKind::TargetHttpsProxy
            && e.live.is_some()
            && !matches!(e.action, Action::Delete)
    });
    let live_rule = entries
        .iter()
        .any(|e| e.kind == ResourceKind::GlobalForwardingRule && e.live.is_some());
    let mut out = Vec::new();
    for e in entries {
        match (&e.kind, &e.action) {
            // A brand-new load balancer has no traffic yet: its certificate cannot interrupt any.
            (ResourceKind::SslCertificate, Action::Create | Action::Replace { .. })
                if live_proxy || live_rule =>
            {
                let domains = managed_domains(e.desired.as_ref().map(|d| &d.body));
                out.push(Risk::new(
                    &e.resource,
                    "certificate_not_active",
                    if live_proxy {
                        format!(
                            "certificate {} is new and will not be ACTIVE at first: Google issues it once {} resolve to the load balancer (minutes to an hour); the current certificate keeps serving its domains until then",
                            e.name, domains
                        )
                    } else {
                        format!(
                            "certificate {} will not be ACTIVE when traffic arrives: HTTPS for {} works only once their DNS points at the load balancer's IP and Google has validated them (minutes to an hour)",
                            e.name, domains
                        )
                    },
                ));
            }
            (ResourceKind::GlobalAddress, Action::Create) if live_rule => out.push(Risk::new(
                &e.resource,
                "ip_changes",
                format!(
                    "the load balancer moves to the new static address {}: its IP changes, and DNS records must follow",
                    e.name
                ),
            )),
            (ResourceKind::GlobalAddress, Action::Delete | Action::Replace { .. }) => {
                out.push(Risk::new(
                    &e.resource,
                    "ip_changes",
                    format!(
                        "address {} ({}) is released: DNS records that point at it stop working",
                        e.name,
                        live_field(e, "address").unwrap_or("its IP")
                    ),
                ))
            }
            (ResourceKind::GlobalForwardingRule, Action::Replace { .. }) => {
                out.push(Risk::new(
                    &e.resource,
                    "ip_changes",
                    format!(
                        "forwarding rule {} is recreated: traffic stops until the new one serves{}",
                        e.name,
                        if live_field(e, "IPAddress").is_some() && !has_static_address(e) {
                            ", and its ephemeral IP changes (DNS must follow)"
                        } else {
                            ""
                        }
                    ),
                ))
            }
            (ResourceKind::GlobalForwardingRule, Action::Delete) => out.push(Risk::new(
                &e.resource,
                "ip_changes",
                format!(
                    "forwarding rule {} ({}) is deleted: it stops answering",
                    e.name,
                    live_field(e, "IPAddress").unwrap_or("its IP")
                ),
            )),
            (ResourceKind::RunService { region }, Action::Delete) => out.push(Risk::new(
                &e.resource,
                "run_service_deleted",
                format!(
                    "Cloud Run service {} in {region} is deleted, with its revisions and its own run.app URL",
                    e.name
                ),
            )),
            (ResourceKind::BackendService, Action::Delete) if e.live.is_some() => {
                out.push(Risk::new(
                    &e.resource,
                    "backend_removed",
                    format!(
                        "backend service {} is removed: the requests it receives now go elsewhere or fail",
                        e.name
                    ),
                ))
            }
            (kind, Action::Replace { reason }) if in_use(e, entries) => out.push(Risk::new(
                &e.resource,
                "replace_in_use",
                format!(
                    "{} {} is in use and is replaced ({reason}): whatever references it is moved to the new one first",
                    kind_words(kind),
                    e.name
                ),
            )),
            (ResourceKind::UrlMap, Action::Update { .. }) => {
                let (Some(live), Some(desired)) = (&e.live, e.desired.as_ref().map(|d| &d.body))
                else {
                    continue;
                };
                let before = routes(live);
                let after = routes(desired);
                for (route, weights) in &before {
                    match after.get(route) {
                        None => out.push(Risk::new(
                            &e.resource,
                            "route_removed",
                            format!("rule {route} is removed: its requests go to the default"),
                        )),
                        Some(new) if weights.len() > 1 || new.len() > 1 => {
                            if new != weights {
                                out.push(Risk::new(
                                    &e.resource,
                                    "weights_changed",
                                    format!(
                                        "weights of {route} change: {} → {}",
                                        weight_words(weights),
                                        weight_words(new)
                                    ),
                                ));
                            }
                        }
                        Some(_) => {}
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn live_field<'a>(e: &'a PlanEntry, field: &str) -> Option<&'a str> {
    e.live.as_ref()?.get(field)?.as_str()
}

/// A forwarding rule whose desired IP is a reserved address keeps that IP when recreated.
fn has_static_address(e: &PlanEntry) -> bool {
    e.desired
        .as_ref()
        .and_then(|d| d.body.get("IPAddress"))
        .and_then(Value::as_str)
        .is_some_and(|ip| ip.contains("/addresses/"))
}

/// True when another live resource of the plan references `e` (by link).
fn in_use(e: &PlanEntry, entries: &[PlanEntry]) -> bool {
    entries.iter().any(|other| {
        other.resource != e.resource
            && other.kind.can_reference(&e.kind)
            && other
                .live
                .as_ref()
                .is_some_and(|v| mentions(v, &e.resource))
    })
}

fn mentions(v: &Value, resource: &str) -> bool {
    match v {
        Value::String(s) => link_path(s) == resource,
        Value::Array(a) => a.iter().any(|x| mentions(x, resource)),
        Value::Object(o) => o.values().any(|x| mentions(x, resource)),
        _ => false,
    }
}

fn managed_domains(body: Option<&Value>) -> String {
    let domains: Vec<String> = body
        .and_then(|b| b.pointer("/managed/domains"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    match domains.as_slice() {
        [] => "its domains".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The last segment of a link: the resource's name.
fn name_of(link: &str) -> String {
    link.rsplit('/').next().unwrap_or(link).to_string()
}

/// Each route of a URL map body (`host path`, or `host (default)`) with where it sends
/// requests: one backend, or the weighted split as (backend, weight) pairs.
pub(super) fn routes(map: &Value) -> BTreeMap<String, Vec<(String, u64)>> {
    let mut out = BTreeMap::new();
    let matchers: BTreeMap<&str, &Value> = map
        .get("pathMatchers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m.get("name")?.as_str()?, m)))
        .collect();
    for rule in map
        .get("hostRules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let hosts: Vec<&str> = rule
            .get("hosts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let hosts = hosts.join(",");
        let host_words = if hosts == "*" {
            String::new()
        } else {
            format!(" on {hosts}")
        };
        let Some(m) = rule
            .get("pathMatcher")
            .and_then(Value::as_str)
            .and_then(|n| matchers.get(n))
        else {
            continue;
        };
        for pr in m
            .get("pathRules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let target = targets(pr);
            for p in pr
                .get("paths")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                out.insert(format!("{p}{host_words}"), target.clone());
            }
        }
        for rr in m
            .get("routeRules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let target = targets(rr);
            for mr in rr
                .get("matchRules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let p = mr
                    .get("prefixMatch")
                    .or_else(|| mr.get("fullPathMatch"))
                    .and_then(Value::as_str)
                    .unwrap_or("/");
                out.insert(format!("{p}{host_words}"), target.clone());
            }
        }
    }
    out.insert("the default route".to_string(), targets(map));
    out
}

/// Where a rule (or the map's default) sends requests.
fn targets(rule: &Value) -> Vec<(String, u64)> {
    let action = rule
        .get("routeAction")
        .or_else(|| rule.get("defaultRouteAction"));
    if let Some(ws) = action
        .and_then(|a| a.get("weightedBackendServices"))
        .and_then(Value::as_array)
    {
        return ws
            .iter()
            .map(|w| {
                (
                    name_of(
                        w.get("backendService")
                            .and_then(Value::as_str)
                            .unwrap_or(""),
                    ),
                    w.get("weight").and_then(Value::as_u64).unwrap_or(0),
                )
            })
            .collect();
    }
    rule.get("service")
        .or_else(|| rule.get("defaultService"))
        .and_then(Value::as_str)
        .map(|s| vec![(name_of(s), 100)])
        .unwrap_or_default()
}

/// `50/30/20` (the backends named when they differ from the other side is left to the diff).
pub(super) fn weight_words(ws: &[(String, u64)]) -> String {
    ws.iter()
        .map(|(_, w)| w.to_string())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(kind: ResourceKind, name: &str, action: Action, live: Value) -> PlanEntry {
        let collection = kind.collection();
        PlanEntry {
            resource: format!("projects/p/global/{collection}/{name}"),
            kind,
            name: name.into(),
            action,
            changes: Vec::new(),
            desired: None,
            live: Some(live),
        }
    }

    #[test]
    fn replacing_what_a_live_resource_references_is_a_risk() {
        let neg = entry(
            ResourceKind::InternetNeg,
            "n",
            Action::Replace {
                reason: "its endpoint changes".into(),
            },
            json!({}),
        );
        let used = entry(
            ResourceKind::BackendService,
            "b",
            Action::Noop,
            json!({"backends": [{"group":
                "https://www.googleapis.com/compute/v1/projects/p/global/networkEndpointGroups/n"}]}),
        );
        let r = risks(&[neg.clone(), used]);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].kind, "replace_in_use");
        assert!(r[0].message.contains("internet NEG n is in use"));
        let unused = entry(ResourceKind::BackendService, "b", Action::Noop, json!({}));
        assert!(risks(&[neg, unused]).is_empty());
    }
}
