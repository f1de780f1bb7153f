//! Reads what a project holds for `domain::adopt`: the global collections a global external
//! Application Load Balancer is made of, listed in full (the sandbox, like Google without a
//! filter, answers plain per-collection lists), then the regional NEGs and Cloud Run services
//! the backend services name, read one by one (API-NOTES §21.2).

use super::live::{LiveError, LiveReader};
use crate::domain::adopt::{self, Found, LoadBalancer};
use crate::domain::links::link_path;
use serde_json::Value;

const GLOBAL: &[&str] = &[
    "forwardingRules",
    "targetHttpsProxies",
    "targetHttpProxies",
    "urlMaps",
    "backendServices",
    "networkEndpointGroups",
    "sslCertificates",
    "addresses",
    "sslPolicies",
];

/// Everything the load balancers of `project` are made of.
pub async fn read(reader: &dyn LiveReader, project: &str) -> Result<Found, LiveError> {
    let lists = futures::future::try_join_all(GLOBAL.iter().map(|c| async move {
        reader
            .list(&format!("projects/{project}/global/{c}"), "")
            .await
    }))
    .await?;
    let mut found = Found::new();
    for (path, v) in lists.into_iter().flatten() {
        found.insert(path, Some(v));
    }
    // Backend services of other projects that the URL maps name (cross-project service
    // referencing): read one by one, with whatever they name in turn below.
    let mut foreign = std::collections::BTreeSet::new();
    for (path, v) in &found {
        if let (true, Some(map)) = (path.contains("/global/urlMaps/"), v) {
            adopt::collect_services(map, &mut foreign);
        }
    }
    for bs in foreign
        .into_iter()
        .filter(|p| p.contains("/backendServices/") && p.split('/').nth(1) != Some(project))
    {
        if let std::collections::btree_map::Entry::Vacant(e) = found.entry(bs) {
            let v = reader.get(e.key()).await?;
            e.insert(v);
        }
    }
    // Regional serverless NEGs, only known from the backend services that name them.
    let groups: Vec<String> = found
        .iter()
        .filter(|(p, _)| p.contains("/global/backendServices/"))
        .filter_map(|(_, v)| v.as_ref())
        .flat_map(|bs| {
            bs.get("backends")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|b| {
            b.get("group")
                .and_then(Value::as_str)
                .map(|g| link_path(g).to_string())
        })
        .filter(|g| g.contains("/regions/"))
        .collect();
    for g in groups {
        if let std::collections::btree_map::Entry::Vacant(e) = found.entry(g) {
            let v = reader.get(e.key()).await?;
            e.insert(v);
        }
    }
    // The Cloud Run services those NEGs front: a missing one is a broken chain, reported.
    let services: Vec<String> = found
        .iter()
        .filter(|(p, _)| p.contains("/regions/"))
        .filter_map(|(p, v)| {
            let service = v.as_ref()?.get("cloudRun")?.get("service")?.as_str()?;
            let mut parts = p.split('/');
            let (proj, region) = (parts.nth(1)?, parts.nth(1)?);
            Some(format!(
                "projects/{proj}/locations/{region}/services/{service}"
            ))
        })
        .collect();
    for s in services {
        if let std::collections::btree_map::Entry::Vacant(e) = found.entry(s) {
            let v = reader.get(e.key()).await?;
            e.insert(v);
        }
    }
    Ok(found)
}

/// The global external Application Load Balancers of `project`.
pub async fn discover(
    reader: &dyn LiveReader,
    project: &str,
) -> Result<Vec<LoadBalancer>, LiveError> {
    Ok(adopt::discover(project, &read(reader, project).await?))
}
