//! Helpers several resource kinds share: name and field checks, and references between
//! resources (normalising links, checking that targets exist, finding who uses a resource).

use super::API;
use crate::cloud::client::link_path;
use crate::cloud::sandbox::{ApiError, ApiResult};
use crate::db::sandbox::{self as sql, Key, StoredResource};
use crate::domain::urlmap::{self, UrlMap};
use regex::Regex;
use serde_json::Value;
use sqlx::SqliteConnection;
use std::sync::LazyLock;

static NAME_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$").expect("valid regex"));

/// RFC 1035 label, 1–63 characters (API-NOTES §0).
pub(crate) fn check_name(field: &str, name: &str) -> ApiResult<()> {
    if NAME_RE.is_match(name) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            name,
            "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
        ))
    }
}

pub(super) fn valid_domain(d: &str) -> bool {
    let d = d.strip_suffix('.').unwrap_or(d);
    !d.is_empty()
        && d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

pub(super) fn str_field<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(Value::as_str)
}

pub(super) fn one_of(
    field: &str,
    value: Option<&str>,
    allowed: &[&str],
    default: &str,
) -> ApiResult<String> {
    let v = value.unwrap_or(default);
    if allowed.contains(&v) {
        Ok(v.to_string())
    } else {
        Err(ApiError::invalid(
            field,
            v,
            &format!("Must be one of: {}.", allowed.join(", ")),
        ))
    }
}

/// `projects/p/global/x/n` for any accepted form of a link; relative `global/...` forms are
/// resolved against `project`.
pub(super) fn norm(project: &str, s: &str) -> Option<String> {
    if let Some(p) = link_path(s) {
        return Some(p);
    }
    if s.starts_with("global/") || s.starts_with("regions/") {
        return Some(format!("projects/{project}/{}", s.trim_end_matches('/')));
    }
    None
}

/// (location, collection, name) of a normalised path.
pub(super) fn split_path(path: &str) -> Option<(String, String, String, String)> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["projects", p, "global", c, n] => {
            Some((p.to_string(), "global".into(), c.to_string(), n.to_string()))
        }
        ["projects", p, "regions", r, c, n] => {
            Some((p.to_string(), r.to_string(), c.to_string(), n.to_string()))
        }
        _ => None,
    }
}

/// Fields that hold references, and which collections they may point at.
const REF_FIELDS: &[(&str, &[&str])] = &[
    ("target", &["targetHttpProxies", "targetHttpsProxies"]),
    ("urlMap", &["urlMaps"]),
    ("sslCertificates", &["sslCertificates"]),
    ("group", &["networkEndpointGroups"]),
    ("healthChecks", &["healthChecks"]),
];

/// Every reference a stored or proposed resource holds: (field path, normalised target path).
pub(super) fn references(project: &str, collection: &str, body: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if collection == "urlMaps" {
        if let Ok(map) = serde_json::from_value::<UrlMap>(body.clone()) {
            for s in urlmap::referenced_services(&map) {
                if let Some(p) = norm(project, &s) {
                    out.push(("resource.defaultService".to_string(), p));
                }
            }
        }
        return out;
    }
    fn walk(project: &str, field: &str, v: &Value, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let f = format!("{field}.{k}");
                    if REF_FIELDS.iter().any(|(name, _)| name == k) {
                        match v {
                            Value::String(s) => {
                                if let Some(p) = norm(project, s) {
                                    out.push((f, p));
                                }
                            }
                            Value::Array(items) => {
                                for (i, item) in items.iter().enumerate() {
                                    if let Some(p) = item.as_str().and_then(|s| norm(project, s)) {
                                        out.push((format!("{f}[{i}]"), p));
                                    }
                                }
                            }
                            _ => {}
                        }
                    } else {
                        walk(project, &f, v, out);
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(project, &format!("{field}[{i}]"), item, out);
                }
            }
            _ => {}
        }
    }
    walk(project, "resource", body, &mut out);
    out
}

/// Checks that every reference names an existing resource of an allowed kind.
pub(super) async fn check_references(
    conn: &mut SqliteConnection,
    project: &str,
    collection: &str,
    body: &Value,
) -> ApiResult<()> {
    for (field, path) in references(project, collection, body) {
        let Some((p, loc, c, n)) = split_path(&path) else {
            return Err(ApiError::invalid(
                &field,
                &path,
                "Not a valid resource reference.",
            ));
        };
        let leaf = field
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .split('[')
            .next()
            .unwrap_or_default()
            .to_string();
        let allowed: &[&str] = if collection == "urlMaps" {
            &["backendServices", "backendBuckets"]
        } else {
            REF_FIELDS
                .iter()
                .find(|(f, _)| *f == leaf)
                .map(|(_, a)| *a)
                .unwrap_or(&[])
        };
        if !allowed.contains(&c.as_str()) {
            return Err(ApiError::invalid(
                &field,
                &path,
                &format!("Expected a reference to one of: {}.", allowed.join(", ")),
            ));
        }
        let key = Key {
            api: API,
            project: &p,
            location: &loc,
            collection: &c,
            name: &n,
        };
        if sql::get_resource(conn, key).await?.is_none() {
            return Err(ApiError::not_found(&path));
        }
    }
    Ok(())
}

/// Paths of the resources that use `target` (by reference, or an address by its IP).
pub(super) async fn users_of(
    conn: &mut SqliteConnection,
    project: &str,
    target_path: &str,
    address_ip: Option<&str>,
) -> ApiResult<Vec<String>> {
    let mut users = Vec::new();
    for r in sql::project_resources(conn, API, project).await? {
        let path = resource_path(project, &r);
        if path == target_path {
            continue;
        }
        let uses = references(project, &r.collection, &r.body)
            .iter()
            .any(|(_, p)| p == target_path)
            || (r.collection == "forwardingRules"
                && address_ip.is_some()
                && r.body.get("IPAddress").and_then(Value::as_str) == address_ip);
        if uses {
            users.push(path);
        }
    }
    Ok(users)
}

pub(super) fn resource_path(project: &str, r: &StoredResource) -> String {
    if r.location == "global" {
        format!("projects/{project}/global/{}/{}", r.collection, r.name)
    } else {
        format!(
            "projects/{project}/regions/{}/{}/{}",
            r.location, r.collection, r.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_follow_rfc1035() {
        for ok in ["a", "shop-urlmap", "a1", &"a".repeat(63)] {
            assert!(check_name("resource.name", ok).is_ok(), "{ok}");
        }
        for bad in ["", "1a", "A", "a-", "a_b", &"a".repeat(64)] {
            assert!(check_name("resource.name", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn references_cover_every_link_field() {
        let fr = json!({"target": "https://www.googleapis.com/compute/v1/projects/p/global/targetHttpsProxies/t"});
        assert_eq!(
            references("p", "forwardingRules", &fr)[0].1,
            "projects/p/global/targetHttpsProxies/t"
        );
        let bs = json!({"backends": [{"group": "https://x/compute/v1/projects/p/regions/r/networkEndpointGroups/n"}], "healthChecks": ["global/healthChecks/h"]});
        let refs = references("p", "backendServices", &bs);
        assert_eq!(
            refs[0],
            (
                "resource.backends[0].group".to_string(),
                "projects/p/regions/r/networkEndpointGroups/n".to_string()
            )
        );
        assert_eq!(refs[1].1, "projects/p/global/healthChecks/h");
        let neg = json!({"cloudRun": {"service": "my-app"}});
        assert!(references("p", "networkEndpointGroups", &neg).is_empty());
    }
}
