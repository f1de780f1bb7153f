//! Who uses a resource: the resources whose references name it (in any project, since
//! references cross projects, docs/google-cloud.md §16), or, for an address, the forwarding
//! rules that hold its IP. Deletes refuse a resource in use (§11.6); reads show `usedBy` and
//! `users`. A resource being deleted still uses what it references until its delete is DONE.

use super::API;
use super::references::{REF_FIELDS, references, split_path};
use crate::cloud::sandbox::ApiResult;
use crate::db::sandbox::{self as sql, StoredResource};
use serde_json::Value;
use sqlx::SqliteConnection;
use std::collections::HashMap;

/// The collections that can hold a reference to a resource of kind `collection`: those whose
/// reference fields point at it, and forwarding rules for addresses (by IP).
pub(super) fn holders(collection: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = REF_FIELDS
        .iter()
        .filter(|f| f.targets.contains(&collection))
        .flat_map(|f| f.holders.iter().copied())
        .collect();
    if collection == "addresses" {
        out.push("forwardingRules");
    }
    out.sort_unstable();
    out.dedup();
    out
}

pub(super) fn resource_path(r: &StoredResource) -> String {
    if r.location == "global" {
        format!("projects/{}/global/{}/{}", r.project, r.collection, r.name)
    } else {
        format!(
            "projects/{}/regions/{}/{}/{}",
            r.project, r.location, r.collection, r.name
        )
    }
}

/// Who uses what, read at most once per kind in a request: a list page answers every item's
/// users from what was read for the first, where reading again for each item made listing a
/// collection cost the square of its size.
#[derive(Default)]
pub(super) struct Users {
    by_kind: HashMap<String, KindUsers>,
}

/// The holders of references to one kind: their paths in order (project, location,
/// collection, name) and, for each target path or address IP, the indexes of those that use it.
#[derive(Default)]
struct KindUsers {
    paths: Vec<String>,
    by_target: HashMap<String, Vec<usize>>,
    by_ip: HashMap<String, Vec<usize>>,
}

impl KindUsers {
    async fn read(conn: &mut SqliteConnection, collection: &str, now: i64) -> ApiResult<KindUsers> {
        let mut users = KindUsers::default();
        let rows = sql::collections_resources(conn, API, &holders(collection), now).await?;
        for (i, r) in rows.iter().enumerate() {
            users.paths.push(resource_path(r));
            let mut targets: Vec<String> = references(&r.project, &r.collection, &r.body)
                .into_iter()
                .map(|r| r.path)
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
    /// in order.
    pub(super) async fn of(
        &mut self,
        conn: &mut SqliteConnection,
        now: i64,
        target_path: &str,
        address_ip: Option<&str>,
    ) -> ApiResult<Vec<String>> {
        let kind = split_path(target_path)
            .map(|(_, _, c, _)| c)
            .unwrap_or_default();
        if !self.by_kind.contains_key(&kind) {
            let read = KindUsers::read(conn, &kind, now).await?;
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
    now: i64,
    target_path: &str,
    address_ip: Option<&str>,
) -> ApiResult<Vec<String>> {
    Users::default()
        .of(conn, now, target_path, address_ip)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

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
