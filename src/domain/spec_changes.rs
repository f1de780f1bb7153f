//! What changed between two versions of a spec, field by field ("frontend.http_redirect: true →
//! false"), for the versions page: a reader compares two drafts without reading two documents.
//!
//! Environment values are never quoted (they may be secrets): a changed value reads "changed".
//! That holds in both forms `env` is stored in, `{"NAME": "value"}` and the list of
//! `{"name", "value"}`; a variable's name and its Secret Manager reference are quoted.

use serde_json::Value;

/// One line per changed leaf field, in document order, with its dotted path.
pub fn spec_changes(before: &Value, after: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk("", before, after, &mut out);
    out
}

/// Whether the field at `path` may hold an environment value: `env` itself, anything under its
/// map form, and anything of a list entry but its `name`, `secret` and `version`.
fn secret(path: &str) -> bool {
    let Some(at) = path.find(".env") else {
        return false;
    };
    let rest = &path[at + ".env".len()..];
    if rest.is_empty() || rest.starts_with('.') {
        return true;
    }
    let Some(entry) = rest.strip_prefix('[') else {
        // `.environment...`: some other field.
        return false;
    };
    match entry.split_once("].") {
        Some((_, key)) => !matches!(key, "name" | "secret" | "version"),
        None => true,
    }
}

fn words(path: &str, v: &Value) -> String {
    if secret(path) {
        return "(a value)".to_string();
    }
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(path: &str, before: &Value, after: &Value, out: &mut Vec<String>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (k, bv) in b {
                let p = join(path, k);
                match a.get(k) {
                    Some(av) => walk(&p, bv, av, out),
                    None => out.push(format!("{p} removed (was {})", words(&p, bv))),
                }
            }
            for (k, av) in a.iter().filter(|(k, _)| !b.contains_key(*k)) {
                let p = join(path, k);
                out.push(format!("{p} added: {}", words(&p, av)));
            }
        }
        (Value::Array(b), Value::Array(a)) if b.iter().chain(a).any(Value::is_object) => {
            for i in 0..b.len().max(a.len()) {
                let p = format!("{path}[{i}]");
                match (b.get(i), a.get(i)) {
                    (Some(bv), Some(av)) => walk(&p, bv, av, out),
                    (Some(bv), None) => out.push(format!("{p} removed{}", name_of(bv))),
                    (None, Some(av)) => out.push(format!("{p} added{}", name_of(av))),
                    (None, None) => {}
                }
            }
        }
        (b, a) if b != a => {
            if secret(path) {
                out.push(format!("{path} changed"));
            } else {
                out.push(format!("{path}: {} → {}", words(path, b), words(path, a)));
            }
        }
        _ => {}
    }
}

fn name_of(v: &Value) -> String {
    v.get("name")
        .and_then(Value::as_str)
        .map(|n| format!(" ({n})"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_read_field_by_field_and_never_quote_env_values() {
        let before = json!({"name": "shop", "frontend": {"http_redirect": true, "domains": ["a.com"]},
            "backends": [{"name": "web", "cdn": false}],
            "services": [{"name": "s", "env": {"API_KEY": "old-secret"}}]});
        let after = json!({"name": "shop", "frontend": {"http_redirect": false, "domains": ["a.com", "b.com"]},
            "backends": [{"name": "web", "cdn": true}, {"name": "api"}],
            "services": [{"name": "s", "env": {"API_KEY": "new-secret", "MODE": "x"}}]});
        let lines = spec_changes(&before, &after);
        assert_eq!(
            lines,
            [
                "backends[0].cdn: false → true",
                "backends[1] added (api)",
                "frontend.domains: [\"a.com\"] → [\"a.com\",\"b.com\"]",
                "frontend.http_redirect: true → false",
                "services[0].env.API_KEY changed",
                "services[0].env.MODE added: (a value)",
            ]
        );
        assert!(!lines.join(" ").contains("secret"));
        assert!(spec_changes(&before, &before).is_empty());
    }

    /// Stored specs keep `env` as a list (that is how the server writes them), and a value there
    /// was quoted before: `services[0].env[0].value: "old" → "new"`.
    #[test]
    fn values_in_the_list_form_are_never_quoted_either() {
        let before = json!({"services": [{"name": "s", "env": [
            {"name": "DB_PASS", "value": "old-s3cret"},
            {"name": "TOKEN", "value": "tok-s3cret"}]}]});
        let after = json!({"services": [{"name": "s", "env": [
            {"name": "DB_PASS", "value": "new-s3cret"},
            {"name": "TOKEN", "secret": "api-token", "version": "2"},
            {"name": "MODE", "value": "mode-s3cret"}]}]});
        let lines = spec_changes(&before, &after);
        assert_eq!(
            lines,
            [
                "services[0].env[0].value changed",
                "services[0].env[1].value removed (was (a value))",
                "services[0].env[1].secret added: \"api-token\"",
                "services[0].env[1].version added: \"2\"",
                "services[0].env[2] added (MODE)",
            ]
        );
        assert!(!lines.join(" ").contains("s3cret"), "{lines:?}");
        assert!(secret("services[0].env") && secret("services[0].env[3]"));
        assert!(!secret("services[0].env[3].name") && !secret("services[0].environment"));
    }
}
