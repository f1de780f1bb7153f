//! `diff`: what has to change to get from the live resources to the desired ones.

use super::{
    Action, Conflict, DesiredGraph, DesiredResource, FieldChange, LiveState, Plan, PlanEntry,
    ResourceKind, link_path,
};
use super::{INVOKER_ROLE, PUBLIC_MEMBER};
use crate::domain::{frontend_options, names, validate};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Fields the API fills in itself; never compared even if a body happened to carry them.
/// `description` is not compared either: it holds the owner marker, checked separately.
const OUTPUT_ONLY: &[&str] = &[
    "id",
    "selfLink",
    "creationTimestamp",
    "fingerprint",
    "kind",
    "status",
    "usedBy",
    "users",
    "size",
    "region",
    "name",
    "description",
];

/// Optional fields we set on some resources: when the spec stops asking for them and the live
/// resource still has them, that is a change too (comparing only the fields present in the
/// desired body would miss it).
fn managed_optional(kind: &ResourceKind) -> &'static [&'static str] {
    match kind {
        ResourceKind::BackendService => &[
            "outlierDetection",
            "customRequestHeaders",
            "securityPolicy",
            "edgeSecurityPolicy",
            "iap",
            "cdnPolicy",
            "logConfig",
        ],
        // Moving between classic certificates and a certificate map changes both fields.
        // Removing an SSL policy or the HTTP/3 choice from the spec changes the proxy too.
        ResourceKind::TargetHttpsProxy => &[
            "sslCertificates",
            "certificateMap",
            "sslPolicy",
            "quicOverride",
        ],
        ResourceKind::UrlMap | ResourceKind::RedirectUrlMap => &[
            "defaultService",
            "defaultRouteAction",
            "defaultUrlRedirect",
            "hostRules",
            "pathMatchers",
        ],
        _ => &[],
    }
}

/// A value the API treats the same as an absent field. A settings object switched off
/// (`iap {enabled: false, ...}`, `logConfig {enable: false}`) is one: what else it holds
/// then does nothing.
pub fn is_empty_default(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => {
            o.is_empty()
                || ["enabled", "enable"]
                    .iter()
                    .any(|k| o.get(*k) == Some(&Value::Bool(false)))
        }
        Value::Number(_) => false,
    }
}

/// Whether `live` agrees with everything `desired` sets. Extra live fields are ignored, links
/// compare by path, and int64 values (which Compute sends as strings) equal their numbers.
pub(super) fn subset_eq(desired: &Value, live: &Value) -> bool {
    match (desired, live) {
        (Value::Object(d), Value::Object(l)) => d.iter().all(|(k, dv)| match l.get(k) {
            Some(lv) => subset_eq(dv, lv),
            None => is_empty_default(dv),
        }),
        (Value::Array(d), Value::Array(l)) => {
            d.len() == l.len() && d.iter().zip(l).all(|(a, b)| subset_eq(a, b))
        }
        (Value::String(d), Value::String(l)) => link_path(d) == link_path(l),
        (Value::Number(d), Value::String(l)) | (Value::String(l), Value::Number(d)) => {
            d.to_string() == *l
        }
        (Value::Number(d), Value::Number(l)) => d.as_f64() == l.as_f64(),
        (d, Value::Null) => is_empty_default(d),
        (d, l) => d == l,
    }
}

/// True when any string inside `body` is a link to `id`.
pub(super) fn mentions(body: &Value, id: &str) -> bool {
    match body {
        Value::String(s) => link_path(s) == id,
        Value::Array(a) => a.iter().any(|v| mentions(v, id)),
        Value::Object(o) => o.values().any(|v| mentions(v, id)),
        _ => false,
    }
}

fn description(live: &Value) -> &str {
    live.get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The marker is one whitespace-separated token, so `deployment=shop` does not match a
/// description written for `deployment=shop2`.
pub(super) fn is_owned(live: &Value, deployment: &str) -> bool {
    let marker = names::owner_marker(deployment);
    description(live).split_whitespace().any(|t| t == marker)
}

/// The deployment a live resource's owner marker names, if it has one.
pub(super) fn marked_owner(live: &Value) -> Option<&str> {
    let prefix = names::owner_marker("");
    description(live)
        .split_whitespace()
        .find_map(|t| t.strip_prefix(prefix.as_str()))
}

/// Who a live resource belongs to, for the conflict message.
fn owner_of(live: &Value) -> String {
    marked_owner(live)
        .map(|d| format!("Switchyard deployment '{d}'"))
        .unwrap_or_else(|| "someone outside this deployment (no owner marker)".to_string())
}

/// `portRange` comes back as `443-443` for a rule created with `443`.
fn port_range_eq(desired: &Value, live: &Value) -> bool {
    let norm = |v: &Value| {
        let s = v.as_str().unwrap_or_default().to_string();
        match s.split_once('-') {
            Some((a, b)) if a == b => a.to_string(),
            _ => s,
        }
    };
    norm(desired) == norm(live)
}

/// A forwarding rule's `IPAddress` comes back as the literal IP even when it was created with
/// the address's link, so a match is either form. With no address desired (ephemeral IP) the
/// live rule must not be holding one of the addresses we know about.
fn ip_address_eq(desired: Option<&Value>, live: Option<&Value>, state: &LiveState) -> bool {
    let live_ip = live.and_then(Value::as_str).unwrap_or_default();
    let address_ip = |id: &str| {
        state
            .get(id)
            .and_then(Option::as_ref)
            .and_then(|a| a.get("address"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match desired.and_then(Value::as_str) {
        Some(link) => {
            link_path(link) == link_path(live_ip)
                || address_ip(link_path(link)).as_deref() == Some(live_ip)
        }
        None => {
            live_ip.is_empty()
                || !(link_path(live_ip).contains("/addresses/")
                    || state.iter().any(|(id, v)| {
                        id.contains("/global/addresses/")
                            && v.as_ref()
                                .and_then(|a| a.get("address"))
                                .and_then(Value::as_str)
                                == Some(live_ip)
                    }))
        }
    }
}

/// Path matchers with each path rule to a single backend service written one way. The rule
/// can say it two ways: `service` beside a `routeAction` that only rewrites (how the console
/// and gcloud write it), or a `routeAction` whose one weighted backend gets every request (how
/// the plan writes it, as for any split).
fn one_backend(matchers: &Value) -> Value {
    let mut v = matchers.clone();
    let rules = v
        .as_array_mut()
        .into_iter()
        .flatten()
        .filter_map(|pm| pm.get_mut("pathRules").and_then(Value::as_array_mut))
        .flatten();
    for rule in rules {
        let Some(r) = rule.as_object_mut() else {
            continue;
        };
        let only = r
            .get("routeAction")
            .and_then(|a| a.get("weightedBackendServices"))
            .and_then(Value::as_array)
            .filter(|w| w.len() == 1)
            .and_then(|w| w[0].get("backendService"))
            .cloned();
        let (Some(backend), false) = (only, r.contains_key("service")) else {
            continue;
        };
        r.insert("service".into(), backend);
        if let Some(action) = r.get_mut("routeAction").and_then(Value::as_object_mut) {
            action.remove("weightedBackendServices");
            if action.is_empty() {
                r.remove("routeAction");
            }
        }
    }
    v
}

/// Request headers as the load balancer sends them: a header's name is case-insensitive and
/// the space after the colon optional, so `host:x` set by hand equals the plan's `Host: x`.
fn headers(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|h| match h.split_once(':') {
            Some((name, value)) => (name.trim().to_ascii_lowercase(), value.trim().to_string()),
            None => (h.trim().to_ascii_lowercase(), String::new()),
        })
        .collect()
}

/// The fields of `desired` that differ from `live`, one entry per top-level field.
fn changes(desired: &DesiredResource, live: &Value, state: &LiveState) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let body = desired.body.as_object().cloned().unwrap_or_default();
    let mut keys: BTreeSet<&str> = body.keys().map(String::as_str).collect();
    keys.extend(managed_optional(&desired.kind));
    if desired.kind == ResourceKind::GlobalForwardingRule {
        keys.insert("IPAddress");
    }
    for key in keys {
        if OUTPUT_ONLY.contains(&key) {
            continue;
        }
        let (d, l) = (body.get(key), live.get(key));
        let canonical = (key == "pathMatchers").then(|| (d.map(one_backend), l.map(one_backend)));
        let (d, l) = match &canonical {
            Some((cd, cl)) => (cd.as_ref(), cl.as_ref()),
            None => (d, l),
        };
        let same = match key {
            "IPAddress" if desired.kind == ResourceKind::GlobalForwardingRule => {
                ip_address_eq(d, l, state)
            }
            "portRange" => port_range_eq(d.unwrap_or(&Value::Null), l.unwrap_or(&Value::Null)),
            "customRequestHeaders" => headers(d) == headers(l),
            // Google reports `NONE` for a proxy that never had a choice made.
            "quicOverride" => {
                let quic = |v: Option<&Value>| {
                    v.and_then(Value::as_str)
                        .unwrap_or(frontend_options::QUIC_DEFAULT)
                        .to_string()
                };
                quic(d) == quic(l)
            }
            // Cache settings matter only with Cloud CDN on, and compare with Google's
            // defaults filled in.
            "cdnPolicy" if desired.kind == ResourceKind::BackendService => {
                body.get("enableCDN") != Some(&Value::Bool(true))
                    || crate::domain::edge_security::cdn_policy_eq(d, l)
            }
            "logConfig" if desired.kind == ResourceKind::BackendService => {
                crate::domain::edge_security::log_config_eq(d, l)
            }
            _ => match (d, l) {
                (Some(d), Some(l)) => subset_eq(d, l),
                (Some(d), None) => is_empty_default(d),
                (None, Some(l)) => is_empty_default(l),
                (None, None) => true,
            },
        };
        if !same {
            out.push(FieldChange {
                field: key.to_string(),
                live: live.get(key).cloned().unwrap_or(Value::Null),
                desired: body.get(key).cloned().unwrap_or(Value::Null),
            });
        }
    }
    if let Some(endpoint) = &desired.endpoint {
        // `get` on a NEG does not list its endpoints. The live reader may add them under
        // `networkEndpoints` (from listNetworkEndpoints); otherwise `size` tells whether the
        // endpoint was attached, and a missing `size` is taken as attached.
        let wanted = serde_json::json!([endpoint.api_json()]);
        let attached = match live.get("networkEndpoints") {
            Some(list) => subset_eq(&wanted, list),
            None => live.get("size").and_then(Value::as_u64) != Some(0),
        };
        if !attached {
            out.push(FieldChange {
                field: "networkEndpoints".to_string(),
                live: live
                    .get("networkEndpoints")
                    .cloned()
                    .unwrap_or(Value::Array(Vec::new())),
                desired: wanted,
            });
        }
    }
    out
}

/// A readiness probe as the spec can say it (an HTTP path and three numbers), with Cloud Run's
/// defaults filled in, so a probe read back with its defaults equals the one sent.
fn readiness(probe: &Value) -> Value {
    if probe.is_null() {
        return Value::Null;
    }
    let n = |k: &str, d: u64| probe[k].as_u64().unwrap_or(d);
    json!({
        "path": probe["httpGet"]["path"].as_str().unwrap_or("/"),
        "period_seconds": n("periodSeconds", 10),
        "timeout_seconds": n("timeoutSeconds", 1),
        "failure_threshold": n("failureThreshold", 3),
    })
}

/// The settings of a Cloud Run service that the spec controls, in a form where the API's
/// spellings and defaults compare equal (`cpu: "1"` and `"1000m"`, an absent max and 100).
fn run_settings(service: &Value) -> Vec<(&'static str, Value)> {
    let t = &service["template"];
    let c = &t["containers"][0];
    let limits = &c["resources"]["limits"];
    let int = |v: &Value, default: u64| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(default)
    };
    let cpu = limits["cpu"].as_str().unwrap_or("1");
    let memory = limits["memory"].as_str().unwrap_or("512Mi");
    let env = run_env(&c["env"]);
    vec![
        ("image", json!(c["image"].as_str().unwrap_or_default())),
        (
            "min instances",
            json!(int(&t["scaling"]["minInstanceCount"], 0)),
        ),
        (
            "max instances",
            json!(int(&t["scaling"]["maxInstanceCount"], 100)),
        ),
        (
            "cpu",
            json!(validate::cpu_count(cpu).map_or(cpu.to_string(), |n| n.to_string())),
        ),
        (
            "memory",
            json!(
                validate::memory_mib(memory).map_or(memory.to_string(), |m| if m % 1024 == 0 {
                    format!("{}Gi", m / 1024)
                } else {
                    format!("{m}Mi")
                })
            ),
        ),
        (
            "concurrency",
            json!(int(&t["maxInstanceRequestConcurrency"], 80)),
        ),
        ("env", json!(env)),
        (
            "ingress",
            json!(service["ingress"].as_str().unwrap_or("INGRESS_TRAFFIC_ALL")),
        ),
        ("regions", {
            let mut r: Vec<&str> = service["multiRegionSettings"]["regions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            r.sort_unstable();
            json!(r)
        }),
        ("readiness probe", readiness(&c["readinessProbe"])),
        (
            "IAP",
            json!(service["iapEnabled"].as_bool().unwrap_or(false)),
        ),
        (
            "default URL",
            json!(!service["defaultUriDisabled"].as_bool().unwrap_or(false)),
        ),
    ]
}

/// A container's `env` in the spec's own terms, by name: `{name, value}` or `{name, secret,
/// version}`. By name, because Cloud Run gives the order no meaning (no variable references),
/// so a spec that lists the same variables in another order is no change; in the spec's terms,
/// so the plan reads like the spec and a viewer's copy hides values the way it does in a spec
/// (`domain::env_values`). An absent value is Cloud Run's default, the empty string.
fn run_env(env: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = env
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let name = e["name"].as_str().unwrap_or_default();
            match e.pointer("/valueSource/secretKeyRef") {
                Some(r) => json!({
                    "name": name,
                    "secret": r["secret"].as_str().unwrap_or_default(),
                    "version": r["version"].as_str().unwrap_or_default(),
                }),
                None => json!({ "name": name, "value": e["value"].as_str().unwrap_or_default() }),
            }
        })
        .collect();
    out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    out
}

/// Whether an IAM policy (as `getIamPolicy` returns it) lets anyone invoke the service.
pub fn is_public(policy: &Value) -> bool {
    policy["bindings"].as_array().is_some_and(|bs| {
        bs.iter().any(|b| {
            b["role"] == INVOKER_ROLE
                && b["members"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|m| m == PUBLIC_MEMBER))
        })
    })
}

/// What differs between a desired Cloud Run service and the live one, field by field in plain
/// words (`image` a → b, `min instances` 0 → 1). `public access` compares the invoker binding,
/// which the live reader puts under `iamPolicy` next to the service.
fn run_changes(desired: &DesiredResource, live: &Value) -> Vec<FieldChange> {
    let mut out: Vec<FieldChange> = run_settings(&desired.body)
        .into_iter()
        .zip(run_settings(live))
        .filter(|((_, d), (_, l))| d != l)
        .map(|((field, d), (_, l))| FieldChange {
            field: field.to_string(),
            live: l,
            desired: d,
        })
        .collect();
    if let Some(public) = desired.public {
        let live_public = live.get("iamPolicy").map(is_public);
        if live_public != Some(public) {
            out.push(FieldChange {
                field: "public access".to_string(),
                live: live_public.map_or(Value::Null, Value::Bool),
                desired: Value::Bool(public),
            });
        }
    }
    out
}

fn action_for(kind: &ResourceKind, changes: &[FieldChange]) -> Action {
    if changes.is_empty() {
        return Action::Noop;
    }
    let fields: Vec<String> = changes.iter().map(|c| c.field.clone()).collect();
    let in_place = match kind {
        // Attaching the endpoint is the only thing an existing NEG can have done to it.
        ResourceKind::InternetNeg => fields.iter().all(|f| f == "networkEndpoints"),
        ResourceKind::GlobalForwardingRule => fields.iter().all(|f| f == "target"),
        ResourceKind::TargetHttpsProxy => fields.iter().all(|f| {
            [
                "urlMap",
                "sslCertificates",
                "certificateMap",
                "sslPolicy",
                "quicOverride",
            ]
            .contains(&f.as_str())
        }),
        // Only the certificates of an entry can be patched; its hostname is what it is.
        ResourceKind::CertificateMapEntry { .. } => fields.iter().all(|f| f == "certificates"),
        ResourceKind::TargetHttpProxy => fields.iter().all(|f| f == "urlMap"),
        k => k.is_mutable(),
    };
    if in_place {
        Action::Update { fields }
    } else {
        Action::Replace {
            reason: format!("cannot change {} in place", fields.join(", ")),
        }
    }
}

fn users_of(live: &Value) -> Vec<String> {
    ["usedBy", "users"]
        .iter()
        .filter_map(|k| live.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(|u| {
            u.as_str()
                .or_else(|| u.get("reference").and_then(Value::as_str))
        })
        .map(|s| link_path(s).to_string())
        .collect()
}

/// Compares the desired graph with the live state. `live` must hold every desired id (`None`
/// when missing) and may hold other resources named with the deployment's prefix: those that
/// carry this deployment's owner marker are deleted, others are left alone with a warning.
pub fn diff(desired: &DesiredGraph, live: &LiveState) -> Plan {
    let deployment = desired.deployment.as_str();
    let mut entries = Vec::new();
    let mut conflicts = Vec::new();
    let mut warnings = Vec::new();

    for r in &desired.resources {
        let current = live.get(&r.id).cloned().flatten();
        let (action, changes) = match &current {
            None => (Action::Create, Vec::new()),
            Some(v) if !is_owned(v, deployment) && !desired.adopted.contains(&r.id) => {
                let owner = owner_of(v);
                conflicts.push(Conflict {
                    resource: r.id.clone(),
                    message: format!(
                        "{} already exists and belongs to {owner}; rename the deployment or \
                         remove that resource",
                        r.id
                    ),
                    owner,
                });
                continue;
            }
            Some(v) => {
                let changes = if matches!(r.kind, ResourceKind::RunService { .. }) {
                    run_changes(r, v)
                } else {
                    changes(r, v, live)
                };
                (action_for(&r.kind, &changes), changes)
            }
        };
        entries.push(PlanEntry {
            resource: r.id.clone(),
            kind: r.kind.clone(),
            name: r.name.clone(),
            action,
            changes,
            desired: Some(r.clone()),
            live: current,
        });
    }

    // A resource replaced under the same name takes its referrers with it, except backend
    // services, which let go of a NEG by an update (see `steps`). Repeat until nothing changes,
    // since a replaced proxy drags its forwarding rule along.
    loop {
        let replaced: Vec<String> = entries
            .iter()
            .filter(|e| matches!(e.action, Action::Replace { .. }))
            .map(|e| e.resource.clone())
            .collect();
        let mut changed = false;
        for e in entries.iter_mut() {
            if matches!(e.action, Action::Replace { .. } | Action::Create)
                || e.kind == ResourceKind::BackendService
            {
                continue;
            }
            let deps = e.desired.as_ref().map(|d| d.depends_on.clone());
            if let Some(dep) = deps
                .unwrap_or_default()
                .into_iter()
                .find(|d| replaced.contains(d))
            {
                e.action = Action::Replace {
                    reason: format!("it uses {dep}, which is replaced"),
                };
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

    for e in &entries {
        if let Action::Replace { reason } = &e.action {
            let mut users: Vec<String> = e.live.as_ref().map(users_of).unwrap_or_default();
            for other in &entries {
                let uses = other
                    .desired
                    .as_ref()
                    .is_some_and(|d| d.depends_on.contains(&e.resource));
                if uses && other.live.is_some() && !users.contains(&other.resource) {
                    users.push(other.resource.clone());
                }
            }
            if !users.is_empty() {
                warnings.push(format!(
                    "{} is replaced ({reason}) while in use by {}: traffic through it is \
                     interrupted until the new one is in place",
                    e.resource,
                    users.join(", ")
                ));
            }
        }
    }

    let mut deletes = Vec::new();
    for (id, value) in live {
        let Some(value) = value else { continue };
        if desired.get(id).is_some() {
            continue;
        }
        if !is_owned(value, deployment) && !desired.adopted.contains(id) {
            // Another deployment whose name extends ours (`shop-eu` for `shop`) shares the
            // prefix; its resources are simply not ours. Anything else is worth a mention.
            if description(value).contains(&names::owner_marker("")) {
                continue;
            }
            warnings.push(format!(
                "{id} is not owned by deployment '{deployment}' ({}); left alone",
                owner_of(value)
            ));
            continue;
        }
        match ResourceKind::from_path(id, deployment) {
            Some(kind) => deletes.push(delete_entry(id, kind, value)),
            None => warnings.push(format!("{id} is not a resource kind Switchyard manages")),
        }
    }
    deletes.sort_by_key(|e| e.kind.delete_rank());
    entries.extend(deletes);

    let risks = super::risks::risks(&entries);
    let ownership = super::ownership::records(desired, live, &entries);
    Plan {
        deployment: deployment.to_string(),
        project: desired.project.clone(),
        entries,
        conflicts,
        warnings,
        risks,
        chains: Vec::new(),
        ownership,
        canary: None,
    }
}

fn delete_entry(id: &str, kind: ResourceKind, live: &Value) -> PlanEntry {
    PlanEntry {
        resource: id.to_string(),
        name: id.rsplit('/').next().unwrap_or(id).to_string(),
        kind,
        action: Action::Delete,
        changes: Vec::new(),
        desired: None,
        live: Some(live.clone()),
    }
}

/// The plan that removes everything the deployment owns. Live resources without the owner
/// marker are left alone (with a warning): destroy never deletes what it did not create.
pub fn destroy(deployment: &str, project: &str, live: &LiveState) -> Plan {
    destroy_adopted(deployment, project, &[], live)
}

/// [`destroy`] for a deployment that adopted the resources `adopted` (ids): those are deleted
/// too although they carry no owner marker.
pub fn destroy_adopted(
    deployment: &str,
    project: &str,
    adopted: &[String],
    live: &LiveState,
) -> Plan {
    let empty = DesiredGraph {
        deployment: deployment.to_string(),
        project: project.to_string(),
        resources: Vec::new(),
        adopted: adopted.to_vec(),
    };
    diff(&empty, live)
}
