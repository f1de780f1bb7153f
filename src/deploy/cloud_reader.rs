//! The live reader on the real client: what the planner and drift checks read from the cloud.

use super::live::{LiveError, LiveReader};
use crate::cloud::{Client, CloudError, ResourceRef};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;
use std::sync::Arc;

fn resource_ref(path: &str) -> Result<ResourceRef, CloudError> {
    ResourceRef::parse(path)
        .ok_or_else(|| CloudError::Decode(format!("not a resource path: {path}")))
}

/// Reads live resources through the same client, for `plan::diff` and drift checks.
pub struct CloudLiveReader {
    client: Arc<Client>,
}

impl CloudLiveReader {
    pub fn new(client: Arc<Client>) -> Self {
        CloudLiveReader { client }
    }
}

impl CloudLiveReader {
    /// An internet NEG's endpoint is not part of the resource, but the planner needs to know
    /// whether it is attached: read it with `listNetworkEndpoints`.
    async fn with_endpoints(&self, path: &str, mut v: Value) -> Result<Value, LiveError> {
        if v.get("networkEndpointType").and_then(Value::as_str) != Some("INTERNET_FQDN_PORT") {
            return Ok(v);
        }
        let name = v
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let project = path.split('/').nth(1).unwrap_or_default();
        let endpoints = self
            .client
            .list_network_endpoints(project, &name)
            .await
            .map_err(|e| live_error(path, e))?;
        v["networkEndpoints"] = serde_json::to_value(
            endpoints
                .iter()
                .map(|e| &e.network_endpoint)
                .collect::<Vec<_>>(),
        )
        .unwrap_or(Value::Null);
        Ok(v)
    }
}

/// Certificate Manager lives in `locations/global`; so does a multi-region Cloud Run service
/// (`locations/global/services/S`), which is Cloud Run's.
fn is_certificate_manager(path: &str) -> bool {
    path.contains("/locations/global/") && path.split('/').nth(4) != Some("services")
}

fn live_error(resource: &str, e: CloudError) -> LiveError {
    LiveError {
        resource: resource.to_string(),
        message: e.to_string(),
    }
}

#[async_trait]
impl LiveReader for CloudLiveReader {
    async fn get(&self, path: &str) -> Result<Option<Value>, LiveError> {
        if is_certificate_manager(path) {
            return self
                .client
                .certificate_manager_get(path)
                .await
                .map_err(|e| live_error(path, e));
        }
        if path.contains("/locations/") {
            // A Cloud Run service, with its IAM policy beside it: the planner compares the
            // invoker binding too.
            let service: Option<Value> = self
                .client
                .run_get(path)
                .await
                .map_err(|e| live_error(path, e))?;
            let Some(mut service) = service else {
                return Ok(None);
            };
            let policy: Value = self
                .client
                .run_call(Method::GET, &format!("{path}:getIamPolicy"), &[], None)
                .await
                .map_err(|e| live_error(path, e))?;
            service["iamPolicy"] = policy;
            return Ok(Some(service));
        }
        let r = resource_ref(path).map_err(|e| live_error(path, e))?;
        let value: Option<Value> = self.client.get(&r).await.map_err(|e| live_error(path, e))?;
        match value {
            Some(v) => Ok(Some(self.with_endpoints(path, v).await?)),
            None => Ok(None),
        }
    }

    async fn test_permissions(
        &self,
        resource: &str,
        permissions: &[&str],
    ) -> Result<Vec<String>, LiveError> {
        let held = match resource.strip_prefix("projects/") {
            Some(project) if !project.contains('/') => {
                self.client
                    .test_project_permissions(project, permissions)
                    .await
            }
            _ => {
                let r = resource_ref(resource).map_err(|e| live_error(resource, e))?;
                self.client.test_iam_permissions(&r, permissions).await
            }
        };
        match held {
            // Not even allowed to ask (a project the identity cannot see): it holds none.
            Err(CloudError::PermissionDenied { .. }) => Ok(Vec::new()),
            other => other.map_err(|e| live_error(resource, e)),
        }
    }

    async fn list(
        &self,
        collection: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Value)>, LiveError> {
        if is_certificate_manager(collection) {
            // Certificate Manager names are full paths; the prefix applies to the last part.
            let items = self
                .client
                .certificate_manager_list(collection)
                .await
                .map_err(|e| live_error(collection, e))?;
            return Ok(items
                .into_iter()
                .filter_map(|v| {
                    let path = v.get("name")?.as_str()?.to_string();
                    let name = path.rsplit('/').next()?;
                    name.starts_with(prefix).then_some((path, v))
                })
                .collect());
        }
        let parts: Vec<&str> = collection.split('/').collect();
        let c = match parts.as_slice() {
            ["projects", p, "global", coll] => crate::cloud::CollectionRef::global(p, coll),
            ["projects", p, "regions", r, coll] => {
                crate::cloud::CollectionRef::regional(p, r, coll)
            }
            _ => {
                return Err(LiveError {
                    resource: collection.to_string(),
                    message: "not a collection path".into(),
                });
            }
        };
        let items: Vec<Value> = self
            .client
            .list(&c)
            .await
            .map_err(|e| live_error(collection, e))?;
        let mut out = Vec::new();
        for v in items {
            let Some(name) = v.get("name").and_then(Value::as_str).map(str::to_string) else {
                continue;
            };
            if name.starts_with(prefix) {
                let path = format!("{collection}/{name}");
                let v = self.with_endpoints(&path, v).await?;
                out.push((path, v));
            }
        }
        Ok(out)
    }
}
