//! Each planned action said in words ("adds region us-east1 to backend web", "image v1 → v2"),
//! for the plan page and the `summary` of the API's plan actions. The field-level diff stays
//! beside it for whoever wants every detail.

use super::{Action, FieldChange, PlanEntry, ResourceKind, Scope, risks};
use serde_json::Value;
use std::collections::BTreeSet;

/// What a resource is, in words.
pub fn kind_words(kind: &ResourceKind) -> &'static str {
    match kind {
        ResourceKind::ServerlessNeg { .. } => "serverless NEG",
        ResourceKind::InternetNeg => "internet NEG",
        ResourceKind::BackendService => "backend service",
        ResourceKind::UrlMap => "URL map",
        ResourceKind::RedirectUrlMap => "redirect URL map",
        ResourceKind::SslCertificate => "certificate",
        ResourceKind::TargetHttpsProxy => "HTTPS proxy",
        ResourceKind::TargetHttpProxy => "HTTP proxy",
        ResourceKind::GlobalAddress => "address",
        ResourceKind::GlobalForwardingRule => "forwarding rule",
        ResourceKind::RunService { .. } => "Cloud Run service",
        ResourceKind::DnsAuthorization => "DNS authorization",
        ResourceKind::ManagedCertificate => "Certificate Manager certificate",
        ResourceKind::CertificateMap => "certificate map",
        ResourceKind::CertificateMapEntry { .. } => "certificate map entry",
        ResourceKind::SslPolicy => "SSL policy",
    }
}

/// `global` or the resource's region.
/// Where a Cloud Run service runs, in words: a multi-region one runs in all of its regions.
fn run_where(region: &str) -> &str {
    if region == super::compile::MULTI_REGION {
        "all of its regions"
    } else {
        region
    }
}

pub fn location(kind: &ResourceKind) -> String {
    match kind.scope() {
        Scope::Global => "global".to_string(),
        Scope::Region(r) => r,
    }
}

/// The action in one sentence.
pub fn summary(e: &PlanEntry) -> String {
    let what = format!("{} {}", kind_words(&e.kind), e.name);
    match &e.action {
        Action::Create => format!("creates {what} ({})", location(&e.kind)),
        Action::Delete => format!("deletes {what} ({})", location(&e.kind)),
        Action::Noop => format!("{what} is unchanged"),
        Action::Replace { reason } => format!("replaces {what}: {reason}"),
        Action::Update { .. } => {
            let parts: Vec<String> = if e.kind == ResourceKind::UrlMap {
                url_map_words(e)
            } else {
                e.changes.iter().flat_map(|c| change_words(e, c)).collect()
            };
            if parts.is_empty() {
                format!("updates {what}")
            } else {
                parts.join("; ")
            }
        }
    }
}

fn last_segment(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// A value in a few words: scalars as they are, links by their name.
fn short(v: &Value) -> String {
    match v {
        Value::Null => "none".to_string(),
        Value::String(s) if s.contains("projects/") => last_segment(s).to_string(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
            a.iter().map(short).collect::<Vec<_>>().join(", ")
        }
        Value::Array(a) => format!("{} entries", a.len()),
        Value::Object(_) => "settings".to_string(),
        other => other.to_string(),
    }
}

/// The NEG links of a backend service's `backends`, by region (serverless NEGs) or name.
fn groups(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b.get("group")?.as_str())
        .map(|g| {
            let parts: Vec<&str> = g.split('/').collect();
            match parts.iter().position(|p| *p == "regions") {
                Some(i) if i + 1 < parts.len() => format!("region {}", parts[i + 1]),
                _ => format!("NEG {}", last_segment(g)),
            }
        })
        .collect()
}

fn change_words(e: &PlanEntry, c: &FieldChange) -> Vec<String> {
    let owner = &e.name;
    match (&e.kind, c.field.as_str()) {
        (ResourceKind::BackendService, "backends") => {
            let (before, after) = (groups(&c.live), groups(&c.desired));
            let mut out: Vec<String> = after
                .difference(&before)
                .map(|g| format!("adds {g} to backend {owner}"))
                .collect();
            out.extend(
                before
                    .difference(&after)
                    .map(|g| format!("removes {g} from backend {owner}")),
            );
            if out.is_empty() {
                out.push(format!("changes the backends' settings of {owner}"));
            }
            out
        }
        (ResourceKind::RunService { region }, "env") => {
            vec![env_words(owner, run_where(region), &c.live, &c.desired)]
        }
        (ResourceKind::RunService { region }, field) if field.contains("image") => {
            vec![format!(
                "image {} → {} in {}",
                short(&c.live),
                short(&c.desired),
                run_where(region)
            )]
        }
        (_, field) => {
            let complex = |v: &Value| {
                v.is_object()
                    || v.as_array()
                        .is_some_and(|a| a.iter().any(|x| x.is_object()))
            };
            if complex(&c.live) || complex(&c.desired) {
                vec![format!(
                    "changes {field} of {} {owner}",
                    kind_words(&e.kind)
                )]
            } else {
                vec![format!(
                    "{field} of {} {owner}: {} → {}",
                    kind_words(&e.kind),
                    short(&c.live),
                    short(&c.desired)
                )]
            }
        }
    }
}

/// A URL map's update as the routes it adds, removes and redirects.
fn url_map_words(e: &PlanEntry) -> Vec<String> {
    let (Some(live), Some(desired)) = (&e.live, e.desired.as_ref().map(|d| &d.body)) else {
        return vec![format!("updates URL map {}", e.name)];
    };
    let before = risks::routes(live);
    let after = risks::routes(desired);
    let mut out = Vec::new();
    for (route, to) in &after {
        match before.get(route) {
            None => out.push(format!("rule {route} added ({})", targets_words(to))),
            Some(was) if was != to => {
                let same_backends = was.iter().map(|w| &w.0).eq(to.iter().map(|w| &w.0));
                if same_backends && to.len() > 1 {
                    out.push(format!(
                        "weights of {route} {} → {}",
                        risks::weight_words(was),
                        risks::weight_words(to)
                    ));
                } else {
                    out.push(format!(
                        "{route}: {} → {}",
                        targets_words(was),
                        targets_words(to)
                    ));
                }
            }
            Some(_) => {}
        }
    }
    for route in before.keys().filter(|r| !after.contains_key(*r)) {
        out.push(format!("rule {route} removed"));
    }
    // Changes the routes do not show (rewrites, headers, policies) by field name.
    if out.is_empty() {
        let fields: Vec<&str> = e.changes.iter().map(|c| c.field.as_str()).collect();
        out.push(format!(
            "changes {} of URL map {}",
            fields.join(", "),
            e.name
        ));
    }
    out.dedup();
    out
}

fn targets_words(to: &[(String, u64)]) -> String {
    match to {
        [] => "nowhere".to_string(),
        [(b, _)] => format!("to {b}"),
        many => format!(
            "split {}",
            many.iter()
                .map(|(b, w)| format!("{b} {w}"))
                .collect::<Vec<_>>()
                .join(" / ")
        ),
    }
}

/// What an environment change does, by variable name only: a summary is shown to everyone, and
/// values may be secrets (`run_env` in `diff` gives both sides as `{name, ...}` entries).
fn env_words(service: &str, region: &str, live: &Value, desired: &Value) -> String {
    let by_name = |v: &Value| -> std::collections::BTreeMap<String, Value> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| Some((e["name"].as_str()?.to_string(), e.clone())))
            .collect()
    };
    let (before, after) = (by_name(live), by_name(desired));
    let list = |names: Vec<&String>| {
        names
            .into_iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let added = list(after.keys().filter(|k| !before.contains_key(*k)).collect());
    let changed = list(
        after
            .iter()
            .filter(|(k, v)| before.get(*k).is_some_and(|b| b != *v))
            .map(|(k, _)| k)
            .collect(),
    );
    let removed = list(before.keys().filter(|k| !after.contains_key(*k)).collect());
    let parts: Vec<String> = [("sets", added), ("changes", changed), ("removes", removed)]
        .into_iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(verb, names)| format!("{verb} {names}"))
        .collect();
    format!(
        "environment of Cloud Run service {service} in {region}: {}",
        parts.join("; ")
    )
}
