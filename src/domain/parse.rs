//! Parsing a routing spec: bytes to a `Spec`, or a shape error (bad JSON, wrong type, unknown or
//! missing field) naming the spec field at fault. The API answers 400 for these.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::spec::Spec;
use super::urlmap::MAX_WEIGHT;

/// The document is not a spec at all: bad JSON, wrong type, unknown or missing field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseError {
    /// The spec field at fault when known (`frontend.protocol`); `None` for JSON syntax errors.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ParseError {}

/// Parses a spec document. Unknown fields are errors (a typo in a script must not be a silently
/// ignored setting); serde cannot deny them next to `flatten`, so the raw JSON is walked first.
pub fn parse(input: impl AsRef<[u8]>) -> Result<Spec, ParseError> {
    let value: Value = serde_json::from_slice(input.as_ref()).map_err(|e| ParseError {
        field: None,
        message: format!("not valid JSON: {e}"),
    })?;
    check_shape(&value)?;
    serde_path_to_error::deserialize(&value).map_err(|e| {
        let path = e.path().to_string();
        // Paths through `flatten` carry `?` segments; keep the part that locates the field.
        let path = path
            .split(".?")
            .next()
            .unwrap_or_default()
            .trim_end_matches('?')
            .trim_end_matches('.')
            .to_string();
        let message = e.into_inner().to_string();
        let path = (path != "." && !path.is_empty()).then_some(path);
        // serde reports a missing field at its parent; name the field itself.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let field = match (path, missing) {
            (Some(p), Some(m)) => Some(format!("{p}.{m}")),
            (None, Some(m)) => Some(m.to_string()),
            (p, None) => p,
        };
        ParseError { field, message }
    })
}

fn shape_err(field: impl Into<String>, message: impl Into<String>) -> ParseError {
    ParseError {
        field: Some(field.into()),
        message: message.into(),
    }
}

/// Rejects keys the spec does not know, and targets that are neither/both `backend` and `split`
/// (which serde's untagged enum would report without a field, or silently accept).
fn check_shape(v: &Value) -> Result<(), ParseError> {
    let Some(top) = v.as_object() else {
        return Err(ParseError {
            field: None,
            message: "a spec is a JSON object".into(),
        });
    };
    keys(
        top,
        "",
        &[
            "name", "project", "frontend", "backends", "routing", "services", "rollout", "names",
        ],
    )?;
    if let Some(ss) = top.get("services").and_then(Value::as_array) {
        for (i, svc) in ss.iter().enumerate() {
            let Some(svc) = svc.as_object() else { continue };
            let base = format!("services[{i}].");
            keys(svc, &base, SERVICE_KEYS)?;
            for (k, kind) in [
                ("name", Kind::Str),
                ("image", Kind::Str),
                ("regions", Kind::StrList),
                ("memory", Kind::Str),
                ("ingress", Kind::Str),
                ("allow_unauthenticated", Kind::Bool),
                ("multi_region", Kind::Bool),
                ("default_url", Kind::Bool),
                ("min_instances", Kind::Count),
                ("max_instances", Kind::Count),
                ("concurrency", Kind::Count),
            ] {
                if let Some(v) = svc.get(k)
                    && let Some(expected) = kind.mismatch(v)
                {
                    return Err(shape_err(format!("{base}{k}"), expected));
                }
            }
            if let Some(env) = svc.get("env") {
                env_shape(env, &format!("{base}env"))?;
            }
            if let Some(p) = svc.get("readiness_probe").and_then(Value::as_object) {
                let base = format!("{base}readiness_probe.");
                keys(
                    p,
                    &base,
                    &[
                        "path",
                        "period_seconds",
                        "timeout_seconds",
                        "failure_threshold",
                    ],
                )?;
                for (k, kind) in [
                    ("path", Kind::Str),
                    ("period_seconds", Kind::Count),
                    ("timeout_seconds", Kind::Count),
                    ("failure_threshold", Kind::Count),
                ] {
                    if let Some(v) = p.get(k)
                        && let Some(expected) = kind.mismatch(v)
                    {
                        return Err(shape_err(format!("{base}{k}"), expected));
                    }
                }
            }
        }
    }
    if let Some(r) = top.get("rollout").and_then(Value::as_object) {
        keys(
            r,
            "rollout.",
            &[
                "canary_region",
                "soak_seconds",
                "max_error_ratio",
                "max_p95_ms",
                "steps",
            ],
        )?;
    }
    if let Some(f) = top.get("frontend").and_then(Value::as_object) {
        keys(
            f,
            "frontend.",
            &[
                "protocol",
                "domains",
                "ip",
                "http_redirect",
                "certificate",
                "ipv6",
                "http3",
                "ssl_policy",
            ],
        )?;
        if let Some(p) = f.get("ssl_policy").and_then(Value::as_object) {
            keys(
                p,
                "frontend.ssl_policy.",
                crate::domain::frontend_options::SSL_POLICY_KEYS,
            )?;
        }
    }
    if let Some(bs) = top.get("backends").and_then(Value::as_array) {
        for (i, b) in bs.iter().enumerate() {
            let Some(b) = b.as_object() else { continue };
            let base = format!("backends[{i}].");
            // Backend fields sit behind `flatten`, where serde loses the field name of a type
            // error (`backends[1]` instead of `backends[1].port`): check their types here.
            let kind_keys: &[(&str, Kind)] = match b.get("type").and_then(Value::as_str) {
                Some("serverless") => &[
                    ("service", Kind::Str),
                    ("regions", Kind::StrList),
                    ("project", Kind::Str),
                ],
                Some("internet") => {
                    // An internet NEG lives with the load balancer and reaches its endpoint
                    // wherever that is; only a serverless backend can live in another project.
                    if b.contains_key("project") {
                        return Err(shape_err(
                            format!("{base}project"),
                            "only a serverless backend has a `project` (cross-project service referencing); an internet backend reaches its endpoint from the load balancer's project: remove `project`, or make it a serverless backend for a Cloud Run service in that project",
                        ));
                    }
                    // One of the three is the endpoint; which one is validation's to judge.
                    if !["fqdn", "ip", "deployment"]
                        .iter()
                        .any(|k| b.contains_key(*k))
                    {
                        return Err(shape_err(
                            format!("{base}fqdn"),
                            "missing field `fqdn`: an internet backend needs `fqdn`, `ip` or `deployment`",
                        ));
                    }
                    &[
                        ("fqdn", Kind::Str),
                        ("ip", Kind::Str),
                        ("deployment", Kind::Str),
                        ("port", Kind::Port),
                        ("host_header", Kind::OptStr),
                    ]
                }
                Some(other) => {
                    return Err(shape_err(
                        format!("{base}type"),
                        format!("unknown backend type `{other}`, expected serverless or internet"),
                    ));
                }
                None => {
                    return Err(shape_err(
                        format!("{base}type"),
                        "missing or not a string: give \"serverless\" or \"internet\"",
                    ));
                }
            };
            let common = [
                ("name", Kind::Str),
                ("type", Kind::Str),
                ("cdn", Kind::Bool),
                ("outlier_detection", Kind::Bool),
            ];
            let all: Vec<(&str, Kind)> = common.iter().chain(kind_keys).copied().collect();
            let mut allowed: Vec<&str> = all.iter().map(|(k, _)| *k).collect();
            allowed.extend(super::edge_security::BACKEND_KEYS);
            keys(b, &base, &allowed)?;
            super::edge_security::shape(b, &base).map_err(|(f, m)| shape_err(f, m))?;
            for (k, kind) in all {
                if let Some(v) = b.get(k)
                    && let Some(expected) = kind.mismatch(v)
                {
                    return Err(shape_err(format!("{base}{k}"), expected));
                }
            }
        }
    }
    if let Some(r) = top.get("routing").and_then(Value::as_object) {
        keys(r, "routing.", &["default", "rules"])?;
        if let Some(d) = r.get("default").and_then(Value::as_object) {
            keys(d, "routing.default.", &["backend", "split"])?;
            target_shape(d, "routing.default")?;
        }
        if let Some(rules) = r.get("rules").and_then(Value::as_array) {
            for (i, rule) in rules.iter().enumerate() {
                let Some(rule) = rule.as_object() else {
                    continue;
                };
                let base = format!("routing.rules[{i}]");
                keys(
                    rule,
                    &format!("{base}."),
                    &[
                        "hosts",
                        "paths",
                        "backend",
                        "split",
                        "prefix_rewrite",
                        "host_rewrite",
                    ],
                )?;
                target_shape(rule, &base)?;
            }
        }
    }
    Ok(())
}

/// `env` as a map of strings or a list of `{name, value}` / `{name, secret, version}`, checked
/// here so a mistake names its entry (serde's untagged map-or-list can only blame `env`).
fn env_shape(env: &Value, field: &str) -> Result<(), ParseError> {
    match env {
        Value::Object(m) => match m.iter().find(|(_, v)| !v.is_string()) {
            Some((k, _)) => Err(shape_err(
                format!("{field}.{k}"),
                "must be a string; a Secret Manager reference needs the list form, {\"name\", \"secret\", \"version\"}",
            )),
            None => Ok(()),
        },
        Value::Array(entries) => {
            for (j, e) in entries.iter().enumerate() {
                let at = format!("{field}[{j}]");
                let Some(e) = e.as_object() else {
                    return Err(shape_err(
                        at,
                        "must be an object: {\"name\", \"value\"} or {\"name\", \"secret\", \"version\"}",
                    ));
                };
                // What a viewer's copy carries in place of a value: saving it would replace
                // the real value with nothing, so say so rather than "unknown field".
                if e.contains_key("hidden") {
                    return Err(shape_err(
                        format!("{at}.hidden"),
                        "this value was hidden from a viewer's copy of the spec; give the value (or a secret) again, since saving the copy would lose it",
                    ));
                }
                keys(
                    e,
                    &format!("{at}."),
                    &["name", "value", "secret", "version"],
                )?;
                if !e.contains_key("name") {
                    return Err(shape_err(format!("{at}.name"), "missing field `name`"));
                }
                for k in ["name", "value", "secret", "version"] {
                    if let Some(expected) = e.get(k).and_then(|v| Kind::Str.mismatch(v)) {
                        return Err(shape_err(format!("{at}.{k}"), expected));
                    }
                }
            }
            Ok(())
        }
        _ => Err(shape_err(
            field,
            "must be an object of NAME: \"value\" or a list of {\"name\", \"value\"} or {\"name\", \"secret\", \"version\"}",
        )),
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Str,
    OptStr,
    StrList,
    Bool,
    Port,
    Count,
}

const SERVICE_KEYS: &[&str] = &[
    "name",
    "image",
    "regions",
    "min_instances",
    "max_instances",
    "memory",
    "cpu",
    "concurrency",
    "env",
    "ingress",
    "allow_unauthenticated",
    "multi_region",
    "readiness_probe",
    "default_url",
];

impl Kind {
    /// What was expected, when `v` is not of this kind.
    fn mismatch(self, v: &Value) -> Option<&'static str> {
        let ok = match self {
            Kind::Str => v.is_string(),
            Kind::OptStr => v.is_string() || v.is_null(),
            Kind::StrList => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            Kind::Bool => v.is_boolean(),
            Kind::Port => v.as_u64().is_some_and(|p| p <= u64::from(u16::MAX)),
            Kind::Count => v.as_u64().is_some_and(|n| n <= u64::from(u32::MAX)),
        };
        (!ok).then_some(match self {
            Kind::Str | Kind::OptStr => "must be a string",
            Kind::StrList => "must be a list of strings",
            Kind::Bool => "must be true or false",
            Kind::Port => "must be a port number from 1 to 65535",
            Kind::Count => "must be a whole number, 0 or more",
        })
    }
}

fn keys(
    obj: &serde_json::Map<String, Value>,
    prefix: &str,
    allowed: &[&str],
) -> Result<(), ParseError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(shape_err(
            format!("{prefix}{k}"),
            format!(
                "unknown field `{k}`, expected one of: {}",
                allowed.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

fn target_shape(obj: &serde_json::Map<String, Value>, base: &str) -> Result<(), ParseError> {
    let backend = obj.get("backend");
    let split = obj.get("split");
    match (backend, split) {
        (Some(_), Some(_)) => Err(shape_err(
            format!("{base}.split"),
            "give either `backend` or `split`, not both",
        )),
        (None, None) => Err(shape_err(
            format!("{base}.backend"),
            "missing target: give `backend` (one backend) or `split` (weighted backends)",
        )),
        (Some(b), None) if !b.is_string() => Err(shape_err(
            format!("{base}.backend"),
            "must be a backend name (a string)",
        )),
        (None, Some(s)) => {
            let Some(items) = s.as_array() else {
                return Err(shape_err(
                    format!("{base}.split"),
                    "must be a list of { \"backend\": NAME, \"weight\": N }",
                ));
            };
            for (i, item) in items.iter().enumerate() {
                let f = format!("{base}.split[{i}]");
                let Some(o) = item.as_object() else {
                    return Err(shape_err(f, "must be { \"backend\": NAME, \"weight\": N }"));
                };
                keys(o, &format!("{f}."), &["backend", "weight"])?;
                if !o.get("backend").is_some_and(Value::is_string) {
                    return Err(shape_err(
                        format!("{f}.backend"),
                        "must be a backend name (a string)",
                    ));
                }
                let weight = o.get("weight").and_then(Value::as_u64);
                if weight.is_none_or(|w| w > u64::from(u32::MAX)) {
                    return Err(shape_err(
                        format!("{f}.weight"),
                        format!("must be a whole number from 0 to {MAX_WEIGHT}"),
                    ));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// The docs/contract.md §2 example. Shared with the validation tests, which also use `parse_field`
    /// for the shape errors of the fields they cover.
    pub(crate) fn base() -> Value {
        json!({
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
        })
    }

    pub(crate) fn parse_field(f: impl FnOnce(&mut Value)) -> Option<String> {
        let mut v = base();
        f(&mut v);
        parse(v.to_string()).unwrap_err().field
    }

    #[test]
    fn parse_names_the_field() {
        assert_eq!(
            parse_field(|v| v["frontend"]["protocol"] = json!("ftp")).as_deref(),
            Some("frontend.protocol")
        );
        assert_eq!(
            parse_field(|v| v["backends"][1]["colour"] = json!("red")).as_deref(),
            Some("backends[1].colour")
        );
        assert_eq!(
            parse_field(|v| v["frontend"]["cert"] = json!(1)).as_deref(),
            Some("frontend.cert")
        );
        assert_eq!(
            parse_field(|v| v["frontend"]["certificate"] = json!("self-signed")).as_deref(),
            Some("frontend.certificate")
        );
        assert_eq!(
            parse_field(|v| v["routing"]["rules"][0]["split"] = json!([])).as_deref(),
            Some("routing.rules[0].split")
        );
        assert_eq!(
            parse_field(|v| {
                v["routing"]["default"] = json!({});
            })
            .as_deref(),
            Some("routing.default.backend")
        );
        assert_eq!(
            parse_field(
                |v| v["routing"]["default"] = json!({"split": [{"backend": "web", "weight": -1}]})
            )
            .as_deref(),
            Some("routing.default.split[0].weight")
        );
        assert_eq!(
            parse_field(|v| v["backends"][0]["regions"] = json!("us-central1")).as_deref(),
            Some("backends[0].regions")
        );
        assert_eq!(
            parse_field(|v| {
                v.as_object_mut().unwrap().remove("project");
            })
            .as_deref(),
            Some("project")
        );
        assert_eq!(
            parse_field(|v| {
                v["backends"][1].as_object_mut().unwrap().remove("fqdn");
            })
            .as_deref(),
            Some("backends[1].fqdn")
        );
        let e = parse("{not json").unwrap_err();
        assert!(e.field.is_none() && e.message.starts_with("not valid JSON"));
        assert!(parse("[]").is_err());
    }

    #[test]
    fn parse_accepts_unknown_type_gracefully() {
        let e = parse_field(|v| v["backends"][0]["type"] = json!("vm"));
        assert_eq!(e.as_deref(), Some("backends[0].type"));
        let e = parse_field(|v| {
            v["backends"][0].as_object_mut().unwrap().remove("type");
        });
        assert_eq!(e.as_deref(), Some("backends[0].type"));
    }
}
