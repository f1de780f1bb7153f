//! Reading what the cloud holds now, for `plan::diff` and `plan::destroy`.
//!
//! The cloud client implements [`LiveReader`]; this module decides what to read: every desired
//! resource by id, and every resource in the collections a deployment uses whose name starts
//! with the deployment's prefix (the candidates for deletion).

use crate::domain::plan::{DesiredGraph, LiveState, ResourceKind};
use async_trait::async_trait;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read {resource}: {message}")]
pub struct LiveError {
    pub resource: String,
    pub message: String,
}

#[async_trait]
pub trait LiveReader: Send + Sync {
    /// `get` of one resource by path; `Ok(None)` when it does not exist.
    async fn get(&self, path: &str) -> Result<Option<Value>, LiveError>;
    /// Every resource in a collection (`projects/P/global/urlMaps`, or a regional one) whose
    /// name starts with `prefix`, as (path, resource).
    async fn list(&self, collection: &str, prefix: &str)
    -> Result<Vec<(String, Value)>, LiveError>;
    /// The subset of `permissions` the panel's identity holds on `resource`: a Compute
    /// resource path, or a project as `projects/P`.
    async fn test_permissions(
        &self,
        resource: &str,
        permissions: &[&str],
    ) -> Result<Vec<String>, LiveError>;
}

/// Where else to look for what a deployment owns, beyond what its desired graph names: the
/// regions and the certificate map of the previously applied spec (or the draft, for destroy),
/// so that what the spec dropped is still found and deleted.
#[derive(Debug, Clone, Default)]
pub struct Leftovers {
    pub regions: Vec<String>,
    /// Search Certificate Manager too. Only when a spec used it: a project that never did
    /// may not have the API enabled, and every plan would fail on listing it.
    pub certificate_manager: bool,
    /// Projects other than the load balancer's that held a backend's NEGs and backend service
    /// (cross-project service referencing).
    pub projects: Vec<String>,
    /// Search the SSL policies too: only when a spec had one, so that other deployments'
    /// plans send no more requests than before.
    pub ssl_policy: bool,
}

impl Leftovers {
    /// What `spec` may have left in the cloud.
    pub fn of(spec: &crate::domain::spec::Spec) -> Leftovers {
        Leftovers {
            regions: spec
                .backends
                .iter()
                .flat_map(|b| match &b.kind {
                    crate::domain::spec::BackendKind::Serverless { regions, .. } => regions.clone(),
                    crate::domain::spec::BackendKind::Internet { .. } => Vec::new(),
                })
                .collect(),
            certificate_manager: spec.frontend.protocol == crate::domain::spec::Protocol::Https
                && !spec.frontend.certificate.is_managed(),
            projects: spec
                .backends
                .iter()
                .map(|b| spec.backend_project(b))
                .filter(|p| *p != spec.project)
                .map(str::to_string)
                .collect(),
            ssl_policy: spec.frontend.ssl_policy.is_some(),
        }
    }

    pub fn and(mut self, other: Leftovers) -> Leftovers {
        self.regions.extend(other.regions);
        self.projects.extend(other.projects);
        self.certificate_manager |= other.certificate_manager;
        self.ssl_policy |= other.ssl_policy;
        self
    }
}

/// Certificate Manager collections a deployment can own resources in: its map's entries too.
fn certificate_manager_collections(project: &str, deployment: &str) -> Vec<String> {
    let global = format!("projects/{project}/locations/global");
    vec![
        format!("{global}/dnsAuthorizations"),
        format!("{global}/certificates"),
        format!("{global}/certificateMaps"),
        format!(
            "{global}/certificateMaps/{}/certificateMapEntries",
            crate::domain::names::certificate_map(deployment)
        ),
    ]
}

/// Collections a deployment can own resources in. Regional NEGs are listed in `regions`: the
/// desired graph's regions plus those of the previous spec, so a region dropped from the spec
/// is still found and deleted.
fn collections(project: &str, regions: &[String]) -> Vec<String> {
    let mut out: Vec<String> = [
        ResourceKind::InternetNeg,
        ResourceKind::BackendService,
        ResourceKind::UrlMap,
        ResourceKind::SslCertificate,
        ResourceKind::TargetHttpsProxy,
        ResourceKind::TargetHttpProxy,
        ResourceKind::GlobalAddress,
        ResourceKind::GlobalForwardingRule,
    ]
    .iter()
    .map(|k| format!("projects/{project}/global/{}", k.collection()))
    .collect();
    for region in regions {
        out.push(format!(
            "projects/{project}/regions/{region}/networkEndpointGroups"
        ));
    }
    out
}

/// Reads the live state for `graph`. `extra_regions` are regions to search for leftovers
/// beyond those the graph uses (from the previously applied spec).
pub async fn read_live(
    reader: &dyn LiveReader,
    graph: &DesiredGraph,
    leftovers: &Leftovers,
) -> Result<LiveState, LiveError> {
    let extra_regions = &leftovers.regions;
    let mut regions: Vec<String> = graph
        .resources
        .iter()
        .filter_map(|r| match &r.kind {
            ResourceKind::ServerlessNeg { region } => Some(region.clone()),
            _ => None,
        })
        .chain(extra_regions.iter().cloned())
        .collect();
    regions.sort();
    regions.dedup();

    // Every resource a deployment owns is named with its prefix, so listing the collections
    // (in parallel) finds the desired ones and the leftovers alike: one request per collection
    // instead of one per resource.
    let prefix = format!("{}-", graph.deployment);
    let mut searched = collections(&graph.project, &regions);
    // A backend in another project has only its NEGs and backend service there.
    let mut backend_projects: Vec<&str> = graph
        .resources
        .iter()
        .filter_map(|r| r.id.split('/').nth(1))
        .chain(leftovers.projects.iter().map(String::as_str))
        .filter(|p| *p != graph.project)
        .collect();
    backend_projects.sort_unstable();
    backend_projects.dedup();
    for project in backend_projects {
        searched.push(format!(
            "projects/{project}/global/{}",
            ResourceKind::BackendService.collection()
        ));
        searched.extend(
            regions
                .iter()
                .map(|r| format!("projects/{project}/regions/{r}/networkEndpointGroups")),
        );
    }
    if leftovers.certificate_manager
        || graph
            .resources
            .iter()
            .any(|r| r.kind.is_certificate_manager())
    {
        searched.extend(certificate_manager_collections(
            &graph.project,
            &graph.deployment,
        ));
    }
    if leftovers.ssl_policy
        || graph
            .resources
            .iter()
            .any(|r| r.kind == ResourceKind::SslPolicy)
    {
        searched.push(format!(
            "projects/{}/global/{}",
            graph.project,
            ResourceKind::SslPolicy.collection()
        ));
    }
    let listed = futures::future::try_join_all(searched.into_iter().map(|collection| {
        let prefix = prefix.clone();
        async move { reader.list(&collection, &prefix).await }
    }))
    .await?;
    let mut live = LiveState::new();
    for (path, value) in listed.into_iter().flatten() {
        live.insert(path, Some(value));
    }
    for r in &graph.resources {
        if !live.contains_key(&r.id) {
            // Not listed under the prefix: only a name outside the convention can hide it.
            // Cloud Run services are not in the listed collections at all, so each is read:
            // one with our prefix may well exist and belong to someone else.
            let listed =
                r.name.starts_with(&prefix) && !matches!(r.kind, ResourceKind::RunService { .. });
            let found = if listed {
                None
            } else {
                reader.get(&r.id).await?
            };
            live.insert(r.id.clone(), found);
        }
    }
    Ok(live)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::plan::{self, Action};
    use serde_json::json;
    use std::collections::BTreeMap;

    /// A cloud as a map of path → resource.
    struct MapReader(BTreeMap<String, Value>);

    #[async_trait]
    impl LiveReader for MapReader {
        async fn get(&self, path: &str) -> Result<Option<Value>, LiveError> {
            Ok(self.0.get(path).cloned())
        }
        async fn list(
            &self,
            collection: &str,
            prefix: &str,
        ) -> Result<Vec<(String, Value)>, LiveError> {
            Ok(self
                .0
                .iter()
                .filter(|(p, _)| {
                    p.rsplit_once('/')
                        .is_some_and(|(c, n)| c == collection && n.starts_with(prefix))
                })
                .map(|(p, v)| (p.clone(), v.clone()))
                .collect())
        }
        async fn test_permissions(
            &self,
            _resource: &str,
            permissions: &[&str],
        ) -> Result<Vec<String>, LiveError> {
            Ok(permissions.iter().map(|p| p.to_string()).collect())
        }
    }

    #[tokio::test]
    async fn finds_desired_resources_and_leftovers_in_dropped_regions() {
        let spec: crate::domain::spec::Spec = serde_json::from_value(json!({
          "name": "shop", "project": "p",
          "frontend": { "protocol": "http", "ip": "ephemeral" },
          "backends": [ { "name": "web", "type": "serverless", "service": "s", "regions": ["us-central1"] } ],
          "routing": { "default": { "backend": "web" } }
        }))
        .unwrap();
        let graph = plan::compile(&spec);
        let mine = json!({ "description": "switchyard:deployment=shop" });
        let mut cloud = BTreeMap::new();
        let kept = "projects/p/regions/us-central1/networkEndpointGroups/shop-web-us-central1";
        let dropped = "projects/p/regions/asia-east1/networkEndpointGroups/shop-web-asia-east1";
        let stranger = "projects/p/global/urlMaps/blog-urlmap";
        for path in [kept, dropped, stranger] {
            cloud.insert(path.to_string(), mine.clone());
        }
        let reader = MapReader(cloud);
        let leftovers = Leftovers {
            regions: vec!["asia-east1".into()],
            ..Leftovers::default()
        };
        let live = read_live(&reader, &graph, &leftovers).await.unwrap();
        assert!(live[kept].is_some());
        assert!(live[dropped].is_some());
        assert!(!live.contains_key(stranger));
        assert!(live["projects/p/global/urlMaps/shop-urlmap"].is_none());
        let plan = plan::diff(&graph, &live);
        let delete = plan.entries.iter().find(|e| e.resource == dropped).unwrap();
        assert_eq!(delete.action, Action::Delete);
    }

    #[tokio::test]
    async fn a_backend_in_another_project_is_searched_there_and_found_after_it_moved_back() {
        let cross = json!({
          "name": "shop", "project": "lb-project",
          "frontend": { "protocol": "http", "ip": "ephemeral" },
          "backends": [ { "name": "web", "type": "serverless", "service": "s",
                          "regions": ["us-central1"], "project": "run-project" } ],
          "routing": { "default": { "backend": "web" } }
        });
        let previous: crate::domain::spec::Spec = serde_json::from_value(cross.clone()).unwrap();
        let mine = json!({ "description": "switchyard:deployment=shop" });
        let bs = "projects/run-project/global/backendServices/shop-bs-web";
        let neg = format!(
            "projects/run-project/regions/us-central1/networkEndpointGroups/{}",
            crate::domain::names::serverless_neg("shop", "web", "us-central1", "s")
        );
        let cloud: BTreeMap<String, Value> = [(bs.to_string(), mine.clone()), (neg.clone(), mine)]
            .into_iter()
            .collect();
        let reader = MapReader(cloud);
        let live = read_live(&reader, &plan::compile(&previous), &Leftovers::default())
            .await
            .unwrap();
        assert!(live[bs].is_some() && live[&neg].is_some());

        // The backend moved back into the load balancer's project: what the last apply made
        // in the other project is found through the leftovers and deleted.
        let mut now = cross;
        now["backends"][0]
            .as_object_mut()
            .unwrap()
            .remove("project");
        let now: crate::domain::spec::Spec = serde_json::from_value(now).unwrap();
        let graph = plan::compile(&now);
        let live = read_live(&reader, &graph, &Leftovers::of(&previous))
            .await
            .unwrap();
        let plan = plan::diff(&graph, &live);
        for id in [bs, neg.as_str()] {
            let e = plan.entries.iter().find(|e| e.resource == id).unwrap();
            assert_eq!(e.action, Action::Delete, "{id}");
        }
    }

    #[tokio::test]
    async fn a_cloud_run_service_named_with_the_prefix_is_read_and_a_foreign_one_refused() {
        let spec: crate::domain::spec::Spec = serde_json::from_value(json!({
          "name": "own", "project": "p",
          "frontend": { "protocol": "http", "ip": "ephemeral" },
          "backends": [ { "name": "web", "type": "serverless", "service": "own-app", "regions": ["us-central1"] } ],
          "routing": { "default": { "backend": "web" } },
          "services": [ { "name": "own-app", "image": "us-docker.pkg.dev/cloudrun/container/hello",
                          "regions": ["us-central1"] } ]
        }))
        .unwrap();
        let graph = plan::compile(&spec);
        let path = "projects/p/locations/us-central1/services/own-app";
        assert!(graph.get(path).is_some());
        let mut cloud = BTreeMap::new();
        cloud.insert(
            path.to_string(),
            json!({ "description": "another team's app", "labels": {"team": "other"} }),
        );
        let live = read_live(&MapReader(cloud), &graph, &Leftovers::default())
            .await
            .unwrap();
        assert!(
            live[path].is_some(),
            "the service is read although it has our prefix"
        );
        let plan = plan::diff(&graph, &live);
        assert!(
            plan.conflicts.iter().any(|c| c.resource == path),
            "{:?}",
            plan.conflicts
        );
    }
}
