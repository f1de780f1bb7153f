//! How large a stored document may be, checked at the edge before anything is saved: a draft or
//! spec of any size would otherwise be stored, and every page showing it would carry it.
//!
//! The limits are far above anything Google accepts in the fields they end up in (resource names
//! 63, domains 253, paths and rewrites 1024, a Cloud Run environment value 32 KiB), so a real
//! spec never meets them; validation then says what the field's own rule is.

use serde_json::Value;

/// Longest string in any field but an environment value.
pub const MAX_TEXT: usize = 2048;
/// Longest environment variable value (Cloud Run's own limit is 32 KiB).
pub const MAX_ENV_VALUE: usize = 32 * 1024;
/// Most entries in any one list of a spec (regions, domains, backends, rules, paths...).
pub const MAX_ITEMS: usize = 1000;

/// The first field that is too large, as (field path, message).
pub fn oversized(doc: &Value) -> Option<(String, String)> {
    walk("", doc, false)
}

fn walk(path: &str, v: &Value, in_env: bool) -> Option<(String, String)> {
    match v {
        Value::String(s) => {
            let max = if in_env { MAX_ENV_VALUE } else { MAX_TEXT };
            (s.len() > max).then(|| {
                (
                    path.to_string(),
                    format!("is {} characters long; at most {max} are accepted", s.len()),
                )
            })
        }
        Value::Array(a) => {
            if a.len() > MAX_ITEMS {
                return Some((
                    path.to_string(),
                    format!("has {} entries; at most {MAX_ITEMS} are accepted", a.len()),
                ));
            }
            a.iter()
                .enumerate()
                .find_map(|(i, x)| walk(&format!("{path}[{i}]"), x, in_env))
        }
        Value::Object(o) => {
            if o.len() > MAX_ITEMS {
                return Some((
                    path.to_string(),
                    format!("has {} entries; at most {MAX_ITEMS} are accepted", o.len()),
                ));
            }
            o.iter().find_map(|(k, x)| {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if k.len() > MAX_TEXT {
                    return Some((p, format!("has a key of {} characters", k.len())));
                }
                walk(&p, x, in_env || k == "env")
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_first_oversized_field_is_named() {
        assert_eq!(
            oversized(&json!({"name": "shop", "backends": [{"name": "web"}]})),
            None
        );
        let (field, msg) = oversized(&json!({"name": "x".repeat(1_900_000)})).unwrap();
        assert_eq!(field, "name");
        assert!(msg.contains("1900000 characters"), "{msg}");
        let (field, _) =
            oversized(&json!({"backends": [{"name": "a"}, {"service": "s".repeat(3000)}]}))
                .unwrap();
        assert_eq!(field, "backends[1].service");
        let env = json!({"services": [{"env": {"CERT": "c".repeat(20_000)}}]});
        assert_eq!(oversized(&env), None, "environment values may be long");
        let regions: Vec<String> = (0..3000).map(|i| format!("r{i}")).collect();
        let (field, msg) = oversized(&json!({"backends": regions})).unwrap();
        assert_eq!(field, "backends");
        assert!(msg.contains("3000 entries"));
    }
}
