//! Where each problem of a draft is shown: every spec field (`services[0].cpu`) belongs to one
//! form field of one step (`service-0-cpu` on Services), whose message slot sits under it.
//! The steps render the slots from [`Checks`], and an htmx save answers with every slot of the
//! step again (out of band), so a message appears as soon as it is true and goes once fixed.

use std::collections::HashMap;

use crate::domain::draft::{self, Draft};
use crate::domain::spec::{BackendKind, EnvSource};
use crate::domain::validate::FieldError;

/// The fields of a service's edit form that can hold a message.
const SERVICE_FIELDS: [&str; 16] = [
    "name",
    "image",
    "regions",
    "min_instances",
    "max_instances",
    "cpu",
    "memory",
    "concurrency",
    "env",
    "secrets",
    "ingress",
    "multi_region",
    "readiness_path",
    "readiness_period",
    "readiness_timeout",
    "readiness_failures",
];

/// The form field of a readiness probe's spec field (`readiness_probe.timeout_seconds`).
fn probe_field(within: &str) -> &'static str {
    match within {
        "period_seconds" => "readiness_period",
        "timeout_seconds" => "readiness_timeout",
        "failure_threshold" => "readiness_failures",
        _ => "readiness_path",
    }
}

const RULE_FIELDS: [&str; 6] = ["hosts", "paths", "backend", "split", "prefix", "host"];

/// One problem, placed.
#[derive(Debug, Clone)]
pub(crate) struct Placed {
    pub field: String,
    pub message: String,
    pub step: &'static str,
    /// The id of the form field it is about.
    pub id: String,
}

/// Every problem of a draft, by the form field it is shown under.
#[derive(Debug, Default)]
pub(crate) struct Checks {
    pub all: Vec<Placed>,
    by_id: HashMap<String, Vec<String>>,
}

impl Checks {
    pub fn of(d: &Draft) -> Checks {
        let all: Vec<Placed> = draft::check(d)
            .into_iter()
            .map(|FieldError { field, message }| {
                let (step, id) = locate(&field, d);
                Placed {
                    field,
                    message,
                    step,
                    id,
                }
            })
            .collect();
        let mut by_id: HashMap<String, Vec<String>> = HashMap::new();
        for p in &all {
            let messages = by_id.entry(p.id.clone()).or_default();
            // A list field (regions, domains) can be wrong twice in the same words' shape;
            // each message once is enough under one input.
            if !messages.contains(&p.message) {
                messages.push(p.message.clone());
            }
        }
        Checks { all, by_id }
    }

    /// The message(s) under the form field `id`, empty when it is fine.
    pub fn message(&self, id: &str) -> String {
        self.by_id.get(id).map(|m| m.join("; ")).unwrap_or_default()
    }

    /// How many problems are the step's.
    pub fn count(&self, step: &str) -> usize {
        self.all.iter().filter(|p| p.step == step).count()
    }

    /// Whether any field of list item `prefix` (`service-0`) has a message.
    pub fn item_has(&self, prefix: &str) -> bool {
        let prefix = format!("{prefix}-");
        self.by_id.keys().any(|id| id.starts_with(&prefix))
    }
}

/// Splits `services[0].env[1].name` into `services`, `Some(0)` and `env[1].name`.
fn head(field: &str) -> (&str, Option<usize>, &str) {
    let (first, rest) = field.split_once('.').unwrap_or((field, ""));
    match first.split_once('[') {
        Some((name, index)) => (name, index.trim_end_matches(']').parse().ok(), rest),
        None => (first, None, rest),
    }
}

/// The step and form field id of a spec field.
pub(crate) fn locate(field: &str, d: &Draft) -> (&'static str, String) {
    let (name, index, rest) = head(field);
    let (sub, sub_index, within) = head(rest);
    match (name, index) {
        ("name", _) => ("basics", "basics-name".into()),
        ("project", _) => ("basics", "basics-project".into()),
        ("frontend", _) => (
            "frontend",
            match sub {
                "domains" => "frontend-domains",
                "http_redirect" => "frontend-redirect",
                "ip" => "frontend-ip",
                "certificate" => "frontend-certificate",
                "ipv6" => "frontend-ipv6",
                "http3" => "frontend-http3",
                "ssl_policy" => "frontend-ssl-policy",
                _ => "frontend-protocol",
            }
            .into(),
        ),
        ("backends", Some(i)) => {
            let f = match sub {
                "service" | "regions" | "host_header" | "deployment" => sub,
                "fqdn" | "ip" | "port" => "endpoint",
                _ => "name",
            };
            ("backends", format!("backend-{i}-{f}"))
        }
        ("backends", None) => ("backends", "backends".into()),
        ("services", Some(i)) => {
            let f = match sub {
                // A variable is in the plain box or the secrets box, as the form shows it.
                "env" => {
                    let secret = sub_index
                        .and_then(|j| d.services.get(i)?.env.get(j))
                        .is_some_and(|v| matches!(v.source(), EnvSource::Secret { .. }));
                    if secret { "secrets" } else { "env" }
                }
                "readiness_probe" => probe_field(within),
                s if SERVICE_FIELDS.contains(&s) => s,
                _ => "name",
            };
            ("services", format!("service-{i}-{f}"))
        }
        ("rollout", _) => ("services", rollout_id(sub).into()),
        ("services", None) => ("services", "canary-region".into()),
        ("routing", _) => ("routing", routing_id(rest)),
        _ => ("basics", "basics-name".into()),
    }
}

/// How the wizard names a spec field: the form field's label, with the item it belongs to
/// (`Backend “api”: Regions`), so a warning reads in the words of the page it links to.
pub(crate) fn label(field: &str, d: &Draft) -> String {
    let (name, index, rest) = head(field);
    let (sub, _, _) = head(rest);
    let named = |kind: &str, item: Option<&str>, i: usize| match item {
        Some(n) if !n.is_empty() => format!("{kind} “{n}”"),
        _ => format!("{kind} {}", i + 1),
    };
    match (name, index) {
        ("name", _) => "Name".into(),
        ("project", _) => "Project".into(),
        ("frontend", _) => match sub {
            "domains" => "Domains",
            "http_redirect" => "Redirect HTTP to HTTPS",
            "ip" => "IP address",
            "certificate" => "Certificates",
            "ipv6" => "IPv6",
            "http3" => "HTTP/3",
            "ssl_policy" => "SSL policy",
            _ => "Protocol",
        }
        .into(),
        ("backends", Some(i)) => {
            let field = match sub {
                "service" => "Cloud Run service",
                "regions" => "Regions",
                "host_header" => "Host header",
                "fqdn" | "port" => "Cloud Run URL or FQDN",
                "ip" => "IP address",
                "deployment" => "Deployment",
                "cdn" => "Cloud CDN",
                "outlier_detection" => "Outlier detection",
                _ => "Name",
            };
            let item = d.backends.get(i).map(|b| b.name.as_str());
            format!("{}: {field}", named("Backend", item, i))
        }
        ("services", Some(i)) => {
            let field = match sub {
                "image" => "Image",
                "regions" => "Regions",
                "min_instances" => "Min instances",
                "max_instances" => "Max instances",
                "cpu" => "CPU",
                "memory" => "Memory",
                "concurrency" => "Concurrency",
                "env" if locate(field, d).1.ends_with("secrets") => "Secrets",
                "env" => "Environment",
                "ingress" => "Ingress",
                "multi_region" => "Multi-region service",
                "readiness_probe" => "Readiness probe",
                _ => "Service name",
            };
            let item = d.services.get(i).map(|s| s.name.as_str());
            format!("{}: {field}", named("Service", item, i))
        }
        ("rollout", _) => match sub {
            "soak_seconds" | "steps" => "Soak time",
            "max_error_ratio" => "Max 5xx ratio",
            "max_p95_ms" => "Max p95 latency",
            _ => "Canary region",
        }
        .into(),
        ("services", None) => "Canary region".into(),
        ("routing", _) => {
            let (part, index, within) = head(rest);
            match (part, index) {
                ("rules", Some(i)) => {
                    let (f, _, _) = head(within);
                    let field = match f {
                        "hosts" => "Hosts",
                        "backend" | "split" => "Backend",
                        "prefix_rewrite" => "Prefix rewrite",
                        "host_rewrite" => "Host rewrite",
                        _ => "Paths",
                    };
                    format!("Rule {}: {field}", i + 1)
                }
                _ => "Default backend".into(),
            }
        }
        _ => field.to_string(),
    }
}

/// The Rollout form's field of a `rollout.*` spec field.
fn rollout_id(field: &str) -> &'static str {
    match field {
        "soak_seconds" | "steps" => "rollout-soak",
        "max_error_ratio" => "rollout-max-error",
        "max_p95_ms" => "rollout-max-p95",
        _ => "canary-region",
    }
}

fn routing_id(rest: &str) -> String {
    let (part, index, within) = head(rest);
    match (part, index) {
        ("default", _) if within.starts_with("split") => "default-split".into(),
        ("default", _) => "default-backend".into(),
        ("rules", Some(i)) => {
            let (f, _, _) = head(within);
            let f = match f {
                "hosts" | "paths" | "backend" | "split" => f,
                "prefix_rewrite" => "prefix",
                "host_rewrite" => "host",
                _ => "paths",
            };
            format!("rule-{i}-{f}")
        }
        _ => "routing-rules".into(),
    }
}

/// The message slot of a form field a save could not read (a `DraftError`'s field is the
/// form's field name), on `step`, in list item `item` for an edit form. `None` when the form
/// has no slot for it (the add forms say it in the save status).
pub(crate) fn form_field_slot(step: &str, item: Option<usize>, field: &str) -> Option<String> {
    let id = match (step, item) {
        ("basics", _) => match field {
            "name" => "basics-name".to_string(),
            "project" => "basics-project".to_string(),
            _ => return None,
        },
        ("frontend", _) => match field {
            "protocol" => "frontend-protocol".to_string(),
            "ip" => "frontend-ip".to_string(),
            "http3" => "frontend-http3".to_string(),
            "ssl_profile" | "min_tls_version" => "frontend-ssl-policy".to_string(),
            _ => return None,
        },
        ("services", Some(i)) if SERVICE_FIELDS.contains(&field) => format!("service-{i}-{field}"),
        ("services", None) => match field {
            "canary_region" => "canary-region".to_string(),
            "soak_seconds" => "rollout-soak".to_string(),
            "max_error_percent" => "rollout-max-error".to_string(),
            "max_p95_ms" => "rollout-max-p95".to_string(),
            _ => return None,
        },
        ("backends", Some(i)) => match field {
            "name" | "service" | "regions" | "endpoint" | "host_header" => {
                format!("backend-{i}-{field}")
            }
            "host_mode" => format!("backend-{i}-host_header"),
            _ => return None,
        },
        ("routing", Some(i)) => match field {
            "hosts" | "paths" | "backend" | "split" => format!("rule-{i}-{field}"),
            "kind" => format!("rule-{i}-backend"),
            _ => return None,
        },
        ("routing", None) => match field {
            "default_split" => "default-split".to_string(),
            "default_kind" | "default_backend" => "default-backend".to_string(),
            _ => return None,
        },
        _ => return None,
    };
    Some(id)
}

/// Every message slot of a step, so a save can clear the ones that are fine now.
pub(crate) fn slots(step: &str, d: &Draft) -> Vec<String> {
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match step {
        "basics" => ids(&["basics-name", "basics-project"]),
        "frontend" => ids(&[
            "frontend-protocol",
            "frontend-domains",
            "frontend-ip",
            "frontend-redirect",
            "frontend-ipv6",
            "frontend-http3",
            "frontend-ssl-policy",
        ]),
        "backends" => {
            let mut v = ids(&["backends"]);
            for (i, b) in d.backends.iter().enumerate() {
                let fields: &[&str] = match b.kind {
                    BackendKind::Serverless { .. } => &["name", "service", "regions"],
                    BackendKind::Internet {
                        deployment: Some(_),
                        ..
                    } => &["name", "deployment", "host_header"],
                    BackendKind::Internet { .. } => &["name", "endpoint", "host_header"],
                };
                v.extend(fields.iter().map(|f| format!("backend-{i}-{f}")));
            }
            v
        }
        "services" => {
            let mut v = Vec::new();
            for i in 0..d.services.len() {
                v.extend(SERVICE_FIELDS.iter().map(|f| format!("service-{i}-{f}")));
            }
            // A canary left behind by removed services keeps its field, and so its message.
            if !d.services.is_empty() || d.rollout.is_some() {
                v.push("canary-region".into());
            }
            v.extend(ids(&[
                "rollout-soak",
                "rollout-max-error",
                "rollout-max-p95",
            ]));
            v
        }
        "routing" => {
            let mut v = ids(&["default-backend", "default-split", "routing-rules"]);
            for i in 0..d.routing.rules.len() {
                v.extend(RULE_FIELDS.iter().map(|f| format!("rule-{i}-{f}")));
            }
            v
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::draft::{ServiceForm, add_service};

    #[test]
    fn spec_fields_are_named_with_the_wizards_labels() {
        let mut d = Draft::new("shop", "acme-edge").unwrap();
        add_service(
            &mut d,
            &ServiceForm {
                name: "web".into(),
                image: "us-docker.pkg.dev/cloudrun/container/hello".into(),
                regions: "us-central1".into(),
                env: "MODE=prod".into(),
                secrets: "DB=db-pass".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let l = |f: &str| label(f, &d);
        assert_eq!(l("frontend.http_redirect"), "Redirect HTTP to HTTPS");
        assert_eq!(
            l("services[0].min_instances"),
            "Service “web”: Min instances"
        );
        assert_eq!(l("services[0].env[0].value"), "Service “web”: Environment");
        assert_eq!(l("services[0].env[1].secret"), "Service “web”: Secrets");
        // An item the draft does not have (yet) is named by its place.
        assert_eq!(
            l("backends[2].outlier_detection"),
            "Backend 3: Outlier detection"
        );
        assert_eq!(
            l("routing.rules[0].prefix_rewrite"),
            "Rule 1: Prefix rewrite"
        );
        assert_eq!(l("routing.default.split[1].weight"), "Default backend");
    }

    #[test]
    fn spec_fields_land_under_their_form_fields() {
        let mut d = Draft::new("shop", "acme-edge").unwrap();
        add_service(
            &mut d,
            &ServiceForm {
                name: "web".into(),
                image: "us-docker.pkg.dev/cloudrun/container/hello".into(),
                regions: "us-central1".into(),
                env: "MODE=prod".into(),
                secrets: "DB=db-pass".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let at = |f: &str| locate(f, &d);
        assert_eq!(at("name"), ("basics", "basics-name".into()));
        assert_eq!(
            at("frontend.domains[2]"),
            ("frontend", "frontend-domains".into())
        );
        assert_eq!(
            at("backends[1].fqdn"),
            ("backends", "backend-1-endpoint".into())
        );
        assert_eq!(
            at("backends[0].regions[1]"),
            ("backends", "backend-0-regions".into())
        );
        assert_eq!(at("services[0].cpu"), ("services", "service-0-cpu".into()));
        assert_eq!(
            at("services[0].env[0].name"),
            ("services", "service-0-env".into())
        );
        assert_eq!(
            at("services[0].env[1].secret"),
            ("services", "service-0-secrets".into())
        );
        assert_eq!(
            at("rollout.canary_region"),
            ("services", "canary-region".into())
        );
        assert_eq!(
            at("routing.default.split[0].backend"),
            ("routing", "default-split".into())
        );
        assert_eq!(
            at("routing.default.backend"),
            ("routing", "default-backend".into())
        );
        assert_eq!(
            at("routing.rules[3].prefix_rewrite"),
            ("routing", "rule-3-prefix".into())
        );
        assert_eq!(at("routing"), ("routing", "routing-rules".into()));
        // A form field the save could not read lands under itself in an edit form.
        assert_eq!(
            form_field_slot("services", Some(0), "min_instances").as_deref(),
            Some("service-0-min_instances")
        );
        assert_eq!(form_field_slot("services", None, "min_instances"), None);
        assert_eq!(
            form_field_slot("routing", None, "default_split").as_deref(),
            Some("default-split")
        );
        // Every place a message can land is a slot of its step, so a save can clear it.
        for p in Checks::of(&d).all {
            assert!(slots(p.step, &d).contains(&p.id), "{p:?}");
        }
    }
}
