//! Helpers several resource kinds share: name and field checks, and references between
//! resources (normalising links, checking that targets exist, finding who uses a resource).

use super::API;
use crate::cloud::sandbox::{ApiError, ApiResult};
use crate::db::sandbox::{self as sql, Key, StoredResource};
use crate::domain::links::compute_path;
use crate::domain::urlmap::{self, UrlMap};
use regex::Regex;
use serde_json::Value;
use sqlx::SqliteConnection;
use std::collections::HashMap;
use std::sync::LazyLock;

static NAME_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$").expect("valid regex"));

/// True for an RFC 1035 label of 1–63 characters.
pub(super) fn valid_name(name: &str) -> bool {
    NAME_RE.is_match(name)
}

/// RFC 1035 label, 1–63 characters (docs/google-cloud.md §0).
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
    if let Some(p) = compute_path(s) {
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

/// Fields that hold references: (field, the collections whose resources carry it, the
/// collections it may point at). A field is checked wherever it appears; the carriers say where
/// a resource's users are looked for, so that finding them reads those collections only.
const REF_FIELDS: &[(&str, &[&str], &[&str])] = &[
    (
        "target",
        &["forwardingRules"],
        &["targetHttpProxies", "targetHttpsProxies"],
    ),
    (
        "urlMap",
        &["targetHttpProxies", "targetHttpsProxies"],
        &["urlMaps"],
    ),
    (
        "sslCertificates",
        &["targetHttpsProxies"],
        &["sslCertificates"],
    ),
    ("group", &["backendServices"], &["networkEndpointGroups"]),
    ("healthChecks", &["backendServices"], &["healthChecks"]),
];

/// The collections that can hold a reference to a resource of kind `collection`: URL maps point
/// at services through their own fields, forwarding rules at addresses by IP.
fn holders(collection: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = REF_FIELDS
        .iter()
        .filter(|(_, _, to)| to.contains(&collection))
        .flat_map(|(_, from, _)| from.iter().copied())
        .collect();
    match collection {
        "backendServices" | "backendBuckets" => out.push("urlMaps"),
        "addresses" => out.push("forwardingRules"),
        _ => {}
    }
    out.sort_unstable();
    out.dedup();
    out
}

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
                    if REF_FIELDS.iter().any(|(name, _, _)| name == k) {
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
                .find(|(f, _, _)| *f == leaf)
                .map(|(_, _, to)| *to)
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

/// Who uses what in one project, read at most once per kind in a request: a list page answers
/// every item's users from what was read for the first, where reading the project again for
/// each item made listing a collection cost the square of its size.
#[derive(Default)]
pub(super) struct Users {
    by_kind: HashMap<String, KindUsers>,
}

/// The holders of references to one kind: their paths in project order (location, collection,
/// name) and, for each target path or address IP, the indexes of those that use it.
#[derive(Default)]
struct KindUsers {
    paths: Vec<String>,
    by_target: HashMap<String, Vec<usize>>,
    by_ip: HashMap<String, Vec<usize>>,
}

impl KindUsers {
    async fn read(
        conn: &mut SqliteConnection,
        project: &str,
        collection: &str,
    ) -> ApiResult<KindUsers> {
        let mut users = KindUsers::default();
        let holders = holders(collection);
        for (i, r) in sql::collections_resources(conn, API, project, &holders)
            .await?
            .iter()
            .enumerate()
        {
            users.paths.push(resource_path(project, r));
            let mut targets: Vec<String> = references(project, &r.collection, &r.body)
                .into_iter()
                .map(|(_, p)| p)
                .collect();
            targets.sort_unstable();
            targets.dedup();
            for t in targets {
                users.by_target.entry(t).or_default().push(i);
            }
            if r.collection == "forwardingRules"
                && let Some(ip) = r.body.get("IPAddress").and_then(Value::as_str)
            {
                users.by_ip.entry(ip.to_string()).or_default().push(i);
            }
        }
        Ok(users)
    }
}

impl Users {
    /// Paths of the resources that use `target_path` (by reference, or an address by its IP),
    /// in project order.
    pub(super) async fn of(
        &mut self,
        conn: &mut SqliteConnection,
        project: &str,
        target_path: &str,
        address_ip: Option<&str>,
    ) -> ApiResult<Vec<String>> {
        let kind = split_path(target_path)
            .map(|(_, _, c, _)| c)
            .unwrap_or_default();
        if !self.by_kind.contains_key(&kind) {
            let read = KindUsers::read(conn, project, &kind).await?;
            self.by_kind.insert(kind.clone(), read);
        }
        let users = &self.by_kind[&kind];
        let by_ip = address_ip.and_then(|ip| users.by_ip.get(ip));
        let mut found: Vec<usize> = users
            .by_target
            .get(target_path)
            .into_iter()
            .chain(by_ip)
            .flatten()
            .copied()
            .collect();
        found.sort_unstable();
        found.dedup();
        Ok(found
            .into_iter()
            .map(|i| users.paths[i].clone())
            .filter(|p| p != target_path)
            .collect())
    }
}

/// Paths of the resources that use `target_path`, for a request that asks about one resource.
pub(super) async fn users_of(
    conn: &mut SqliteConnection,
    project: &str,
    target_path: &str,
    address_ip: Option<&str>,
) -> ApiResult<Vec<String>> {
    Users::default()
        .of(conn, project, target_path, address_ip)
        .await
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

    #[test]
    fn users_are_looked_for_where_references_to_the_kind_live() {
        assert_eq!(holders("backendServices"), ["urlMaps"]);
        assert_eq!(holders("addresses"), ["forwardingRules"]);
        assert_eq!(holders("networkEndpointGroups"), ["backendServices"]);
        assert_eq!(holders("healthChecks"), ["backendServices"]);
        assert_eq!(holders("sslCertificates"), ["targetHttpsProxies"]);
        assert_eq!(
            holders("urlMaps"),
            ["targetHttpProxies", "targetHttpsProxies"]
        );
        assert_eq!(holders("targetHttpsProxies"), ["forwardingRules"]);
        assert!(holders("forwardingRules").is_empty());
    }
}
