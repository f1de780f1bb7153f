//! The REST client: one generic way to talk to any Compute collection or Cloud Run service.
//!
//! A Compute resource is addressed by a [`ResourceRef`] (project, scope, collection, name); every
//! call builds its URL from the configured endpoint and that reference, never from a link found
//! in a response (docs/google-cloud.md §9), so a client pointed at a proxy or the sandbox never escapes to
//! the public host.

use super::auth::TokenSource;
use super::error::{CloudError, Result};
use super::retry::{Attempts, RetryPolicy};
use super::retry_notice;
use super::types::*;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Canonical prefix of Compute links inside resources (`backends[].group` must be a full URL).
pub use crate::domain::links::COMPUTE_BASE as COMPUTE_LINK_BASE;

/// Where a Compute resource lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `projects/{p}/global/...`
    Global,
    /// `projects/{p}/regions/{region}/...`
    Region(String),
    /// `projects/{p}/...` with no scope segment: only the target proxies' `setUrlMap` and
    /// `setSslCertificates` live there; their operations are global.
    Project,
}

impl Scope {
    fn segment(&self) -> String {
        match self {
            Scope::Global => "global/".into(),
            Scope::Region(r) => format!("regions/{r}/"),
            Scope::Project => String::new(),
        }
    }
}

/// A Compute collection: `projects/{project}/{scope}/{collection}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CollectionRef {
    pub project: String,
    pub scope: Scope,
    pub collection: String,
}

impl CollectionRef {
    pub fn global(project: &str, collection: &str) -> Self {
        CollectionRef {
            project: project.into(),
            scope: Scope::Global,
            collection: collection.into(),
        }
    }

    pub fn regional(project: &str, region: &str, collection: &str) -> Self {
        CollectionRef {
            project: project.into(),
            scope: Scope::Region(region.into()),
            collection: collection.into(),
        }
    }

    pub fn path(&self) -> String {
        format!(
            "projects/{}/{}{}",
            self.project,
            self.scope.segment(),
            self.collection
        )
    }

    pub fn resource(&self, name: &str) -> ResourceRef {
        ResourceRef {
            collection: self.clone(),
            name: name.into(),
        }
    }
}

/// One Compute resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceRef {
    pub collection: CollectionRef,
    pub name: String,
}

impl ResourceRef {
    pub fn global(project: &str, collection: &str, name: &str) -> Self {
        CollectionRef::global(project, collection).resource(name)
    }

    pub fn regional(project: &str, region: &str, collection: &str, name: &str) -> Self {
        CollectionRef::regional(project, region, collection).resource(name)
    }

    /// `projects/p/global/urlMaps/x`: the form links are compared by.
    pub fn path(&self) -> String {
        format!("{}/{}", self.collection.path(), self.name)
    }

    /// The canonical full URL (`https://www.googleapis.com/compute/v1/projects/...`) to put
    /// in references.
    pub fn link(&self) -> String {
        format!("{COMPUTE_LINK_BASE}{}", self.path())
    }

    /// Parses a link in any accepted form (full URL on any host, `projects/...`).
    pub fn parse(link: &str) -> Option<ResourceRef> {
        let path = link_path(link)?;
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            ["projects", p, "global", coll, name] => Some(Self::global(p, coll, name)),
            ["projects", p, "regions", r, coll, name] => Some(Self::regional(p, r, coll, name)),
            _ => None,
        }
    }
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

use crate::domain::links::compute_path as link_path;
pub use crate::domain::links::same_resource;

/// A long-running operation, by what is needed to poll it again (e.g. after a restart).
/// Its string form is the operation's path, which is what to store:
/// `projects/p/global/operations/N`, `projects/p/regions/r/operations/N` (Compute) or
/// `projects/p/locations/r/operations/N` (Cloud Run).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OperationRef {
    Compute {
        project: String,
        /// `Scope::Global` or `Scope::Region`.
        scope: Scope,
        name: String,
    },
    Run {
        /// `projects/p/locations/r/operations/N`
        name: String,
    },
    /// Certificate Manager: `projects/p/locations/global/operations/N` (Cloud Run has no
    /// `global` location, so the two never share a name).
    CertificateManager { name: String },
}

impl OperationRef {
    pub fn path(&self) -> String {
        match self {
            OperationRef::Compute {
                project,
                scope,
                name,
            } => {
                let scope = match scope {
                    Scope::Region(r) => format!("regions/{r}"),
                    _ => "global".into(),
                };
                format!("projects/{project}/{scope}/operations/{name}")
            }
            OperationRef::Run { name } | OperationRef::CertificateManager { name } => name.clone(),
        }
    }

    /// Parses the string form (also accepts a Compute `selfLink`).
    pub fn parse(s: &str) -> Option<OperationRef> {
        let path = link_path(s).unwrap_or_else(|| s.to_string());
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            ["projects", p, "global", "operations", n] => Some(OperationRef::Compute {
                project: p.to_string(),
                scope: Scope::Global,
                name: n.to_string(),
            }),
            ["projects", p, "regions", r, "operations", n] => Some(OperationRef::Compute {
                project: p.to_string(),
                scope: Scope::Region(r.to_string()),
                name: n.to_string(),
            }),
            ["projects", _, "locations", "global", "operations", _] => {
                Some(OperationRef::CertificateManager { name: path.clone() })
            }
            ["projects", _, "locations", _, "operations", _] => {
                Some(OperationRef::Run { name: path.clone() })
            }
            _ => None,
        }
    }
}

impl fmt::Display for OperationRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

impl Operation {
    /// How to poll this operation again; from its `selfLink` path.
    pub fn reference(&self) -> Option<OperationRef> {
        OperationRef::parse(self.self_link.as_deref()?)
    }

    pub fn is_done(&self) -> bool {
        self.status == OperationStatus::Done
    }

    /// The error of a DONE operation, as a `CloudError::OperationFailed`.
    pub fn failure(&self) -> Option<CloudError> {
        let errors = self.error.as_ref()?;
        let first = errors.errors.first();
        let message = errors
            .errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        Some(CloudError::from_operation(
            &self.name,
            first.map(|e| e.code.as_str()).unwrap_or("UNKNOWN"),
            &message,
            self.http_error_status_code.map(|c| c as u16),
        ))
    }
}

impl RunOperation {
    pub fn reference(&self) -> OperationRef {
        OperationRef::Run {
            name: self.name.clone(),
        }
    }

    /// The error of a done operation, as a `CloudError::OperationFailed`.
    pub fn failure(&self) -> Option<CloudError> {
        let e = self.error.as_ref()?;
        Some(CloudError::from_operation(
            &self.name,
            rpc_code_name(e.code),
            &e.message,
            None,
        ))
    }
}

/// google.rpc.Code number → name.
pub fn rpc_code_name(code: i32) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    }
}

/// A finished operation: Compute or Cloud Run.
#[derive(Debug, Clone, PartialEq)]
pub enum CompletedOperation {
    Compute(Box<Operation>),
    Run(RunOperation),
    /// google.longrunning, as Cloud Run's.
    CertificateManager(RunOperation),
}

/// Endpoints and timing of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Compute base URL, e.g. `https://compute.googleapis.com/compute/v1/`.
    pub compute_endpoint: String,
    /// Cloud Run base URL, e.g. `https://run.googleapis.com/`.
    pub run_endpoint: String,
    /// Cloud Resource Manager base URL, [`RESOURCE_MANAGER_ENDPOINT`] unless set.
    pub resourcemanager_endpoint: String,
    /// Certificate Manager base URL, [`CERTIFICATE_MANAGER_ENDPOINT`] unless set.
    pub certificatemanager_endpoint: String,
    /// Cloud Monitoring base URL, [`MONITORING_ENDPOINT`] unless set.
    pub monitoring_endpoint: String,
    pub retry: RetryPolicy,
    /// How long `wait` keeps polling one operation before giving up with `Timeout`.
    pub operation_timeout: Duration,
    /// Timeout of one HTTP exchange. Above the two minutes a server-side `wait` may block.
    pub request_timeout: Duration,
}

/// Google's Cloud Resource Manager, where `projects.search` lives.
pub const RESOURCE_MANAGER_ENDPOINT: &str = "https://cloudresourcemanager.googleapis.com/";

/// Between two reads of a Certificate Manager operation.
const CERTIFICATE_MANAGER_POLL: Duration = Duration::from_millis(500);

/// Google's Certificate Manager: DNS authorizations, certificates and certificate maps.
pub const CERTIFICATE_MANAGER_ENDPOINT: &str = "https://certificatemanager.googleapis.com/";

/// Google's Cloud Monitoring, whose PromQL API serves the load balancer's metrics.
pub const MONITORING_ENDPOINT: &str = "https://monitoring.googleapis.com/";

impl ClientConfig {
    /// Points the Resource Manager calls at `endpoint` (a proxy, the sandbox).
    pub fn with_resourcemanager(mut self, endpoint: &str) -> Self {
        self.resourcemanager_endpoint = with_slash(endpoint);
        self
    }

    /// Points the Certificate Manager calls at `endpoint`.
    pub fn with_certificatemanager(mut self, endpoint: &str) -> Self {
        self.certificatemanager_endpoint = with_slash(endpoint);
        self
    }

    /// Points the Cloud Monitoring calls at `endpoint`.
    pub fn with_monitoring(mut self, endpoint: &str) -> Self {
        self.monitoring_endpoint = with_slash(endpoint);
        self
    }

    pub fn new(compute_endpoint: &str, run_endpoint: &str) -> Self {
        ClientConfig {
            compute_endpoint: with_slash(compute_endpoint),
            run_endpoint: with_slash(run_endpoint),
            resourcemanager_endpoint: RESOURCE_MANAGER_ENDPOINT.to_string(),
            certificatemanager_endpoint: CERTIFICATE_MANAGER_ENDPOINT.to_string(),
            monitoring_endpoint: MONITORING_ENDPOINT.to_string(),
            retry: RetryPolicy::default(),
            operation_timeout: Duration::from_secs(30 * 60),
            request_timeout: Duration::from_secs(150),
        }
    }
}

fn with_slash(s: &str) -> String {
    if s.ends_with('/') {
        s.to_string()
    } else {
        format!("{s}/")
    }
}

/// The Compute Engine and Cloud Run REST client. Cheap to share behind an `Arc`.
/// `TestPermissionsResponse` (Compute) and `TestIamPermissionsResponse` (Resource Manager):
/// the permissions held, absent when none is.
#[derive(serde::Deserialize)]
struct TestPermissions {
    #[serde(default)]
    permissions: Vec<String>,
}

pub struct Client {
    http: reqwest::Client,
    config: ClientConfig,
    tokens: Arc<dyn TokenSource>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("compute_endpoint", &self.config.compute_endpoint)
            .field("run_endpoint", &self.config.run_endpoint)
            .field(
                "resourcemanager_endpoint",
                &self.config.resourcemanager_endpoint,
            )
            .field(
                "certificatemanager_endpoint",
                &self.config.certificatemanager_endpoint,
            )
            .field("monitoring_endpoint", &self.config.monitoring_endpoint)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(config: ClientConfig, tokens: Arc<dyn TokenSource>) -> Result<Client> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CloudError::Decode(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            config,
            tokens,
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    // --- generic Compute calls ---------------------------------------------------------------

    /// GET a resource; `None` when it does not exist.
    pub async fn get<T: DeserializeOwned>(&self, r: &ResourceRef) -> Result<Option<T>> {
        let url = self.compute_url(&r.path());
        match self.call(Method::GET, &url, &[], None, &r.path()).await {
            Ok(v) => decode(v).map(Some),
            Err(CloudError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every item of a collection, following `nextPageToken`.
    pub async fn list<T: DeserializeOwned>(&self, c: &CollectionRef) -> Result<Vec<T>> {
        let url = self.compute_url(&c.path());
        let size = [("maxResults".to_string(), "500".to_string())];
        self.every_page(Method::GET, &url, &size, &c.path(), |p: ListPage<T>| {
            (p.items, p.next_page_token)
        })
        .await
    }

    /// Every item of a paged call: `first` (the page size, say) plus the `pageToken` of each
    /// answer's `nextPageToken`, until an answer has none. `split` takes a page apart.
    async fn every_page<P: DeserializeOwned, T>(
        &self,
        method: Method,
        url: &str,
        first: &[(String, String)],
        resource: &str,
        split: impl Fn(P) -> (Vec<T>, Option<String>),
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = first.to_vec();
            if let Some(t) = token.take() {
                query.push(("pageToken".into(), t));
            }
            let answer = self
                .call(method.clone(), url, &query, None, resource)
                .await?;
            let (items, next) = split(decode(answer)?);
            out.extend(items);
            match next {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(out),
            }
        }
    }

    /// POST a new resource into a collection.
    pub async fn insert<B: Serialize>(
        &self,
        c: &CollectionRef,
        body: &B,
        request_id: Uuid,
    ) -> Result<Operation> {
        let url = self.compute_url(&c.path());
        self.mutate(
            Method::POST,
            &url,
            Some(to_json(body)?),
            request_id,
            &c.path(),
        )
        .await
    }

    /// PATCH (JSON merge-patch). Resources with a `fingerprint` need the current one in `body`.
    pub async fn patch<B: Serialize>(
        &self,
        r: &ResourceRef,
        body: &B,
        request_id: Uuid,
    ) -> Result<Operation> {
        let url = self.compute_url(&r.path());
        self.mutate(
            Method::PATCH,
            &url,
            Some(to_json(body)?),
            request_id,
            &r.path(),
        )
        .await
    }

    /// PUT (replaces the whole resource). Needs the current `fingerprint` in `body`.
    pub async fn update<B: Serialize>(
        &self,
        r: &ResourceRef,
        body: &B,
        request_id: Uuid,
    ) -> Result<Operation> {
        let url = self.compute_url(&r.path());
        self.mutate(
            Method::PUT,
            &url,
            Some(to_json(body)?),
            request_id,
            &r.path(),
        )
        .await
    }

    pub async fn delete(&self, r: &ResourceRef, request_id: Uuid) -> Result<Operation> {
        let url = self.compute_url(&r.path());
        self.mutate(Method::DELETE, &url, None, request_id, &r.path())
            .await
    }

    /// A mutating custom verb (`POST {resource}/{verb}`, e.g. `setTarget`) with a requestId.
    pub async fn mutate_verb<B: Serialize>(
        &self,
        r: &ResourceRef,
        verb: &str,
        body: &B,
        request_id: Uuid,
    ) -> Result<Operation> {
        let path = format!("{}/{verb}", r.path());
        let url = self.compute_url(&path);
        self.mutate(
            Method::POST,
            &url,
            Some(to_json(body)?),
            request_id,
            &r.path(),
        )
        .await
    }

    /// Any Compute mutation by its path under the endpoint, for callers that stored the call
    /// itself (the job runner replays a step's call after a restart). Same retries and requestId
    /// handling as the typed methods.
    pub async fn mutate_path(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        request_id: Uuid,
    ) -> Result<Operation> {
        let url = self.compute_url(path);
        self.mutate(method, &url, body, request_id, path).await
    }

    /// A non-mutating custom verb (`validate`, `listNetworkEndpoints`): no requestId.
    pub async fn call_verb<T: DeserializeOwned>(
        &self,
        r: &ResourceRef,
        verb: &str,
        body: Option<serde_json::Value>,
    ) -> Result<T> {
        let path = format!("{}/{verb}", r.path());
        let url = self.compute_url(&path);
        decode(self.call(Method::POST, &url, &[], body, &r.path()).await?)
    }

    async fn mutate(
        &self,
        method: Method,
        url: &str,
        body: Option<serde_json::Value>,
        request_id: Uuid,
        resource: &str,
    ) -> Result<Operation> {
        let query = [("requestId".to_string(), request_id.to_string())];
        decode(self.call(method, url, &query, body, resource).await?)
    }

    // --- operations ---------------------------------------------------------------------------

    /// One GET of an operation, without waiting.
    pub async fn get_operation(&self, op: &OperationRef) -> Result<OperationState> {
        match op {
            OperationRef::Compute { .. } => {
                let url = self.compute_url(&op.path());
                let o: Operation =
                    decode(self.call(Method::GET, &url, &[], None, &op.path()).await?)?;
                Ok(OperationState::Compute(Box::new(o)))
            }
            OperationRef::Run { name } => {
                let url = self.run_url(name);
                let o: RunOperation = decode(self.call(Method::GET, &url, &[], None, name).await?)?;
                Ok(OperationState::Run(o))
            }
            OperationRef::CertificateManager { name } => {
                let url = self.certificate_manager_url(name);
                let o: RunOperation = decode(self.call(Method::GET, &url, &[], None, name).await?)?;
                Ok(OperationState::Run(o))
            }
        }
    }

    /// Waits until the operation is DONE, using the API's `wait` method in a loop (it may
    /// return early). An operation that finished with an error is `Err(OperationFailed)`.
    pub async fn wait(&self, op: &OperationRef) -> Result<CompletedOperation> {
        match op {
            OperationRef::Compute { .. } => self
                .wait_compute(op)
                .await
                .map(|o| CompletedOperation::Compute(Box::new(o))),
            OperationRef::Run { .. } => self.wait_run(op).await.map(CompletedOperation::Run),
            OperationRef::CertificateManager { .. } => self
                .wait_certificate_manager(op)
                .await
                .map(CompletedOperation::CertificateManager),
        }
    }

    /// Certificate Manager operations have no `wait` method (API-NOTES §14.1): poll `get`,
    /// half a second apart (gcloud backs off from about there up to 15 s).
    async fn wait_certificate_manager(&self, op: &OperationRef) -> Result<RunOperation> {
        let started = Instant::now();
        let url = self.certificate_manager_url(&op.path());
        loop {
            let o: RunOperation =
                decode(self.call(Method::GET, &url, &[], None, &op.path()).await?)?;
            if o.done {
                return match o.failure() {
                    Some(e) => Err(e),
                    None => Ok(o),
                };
            }
            if started.elapsed() >= self.config.operation_timeout {
                return Err(CloudError::Timeout {
                    operation: op.path(),
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(CERTIFICATE_MANAGER_POLL).await;
        }
    }

    /// `wait` for a Compute operation just returned by a mutation.
    pub async fn wait_operation(&self, op: &Operation) -> Result<Operation> {
        if op.is_done() {
            return match op.failure() {
                Some(e) => Err(e),
                None => Ok(op.clone()),
            };
        }
        let r = op.reference().ok_or_else(|| {
            CloudError::Decode(format!("operation {} has no usable selfLink", op.name))
        })?;
        self.wait_compute(&r).await
    }

    async fn wait_compute(&self, op: &OperationRef) -> Result<Operation> {
        let started = Instant::now();
        let url = self.compute_url(&format!("{}/wait", op.path()));
        loop {
            let round = Instant::now();
            let o: Operation = decode(self.call(Method::POST, &url, &[], None, &op.path()).await?)?;
            if o.is_done() {
                return match o.failure() {
                    Some(e) => Err(e),
                    None => Ok(o),
                };
            }
            self.pace(started, round, op).await?;
        }
    }

    async fn wait_run(&self, op: &OperationRef) -> Result<RunOperation> {
        let started = Instant::now();
        let url = self.run_url(&format!("{}:wait", op.path()));
        let body = serde_json::to_value(WaitOperationRequest {
            timeout: Some("60s".into()),
        })
        .expect("serialisable");
        loop {
            let round = Instant::now();
            let o: RunOperation = decode(
                self.call(Method::POST, &url, &[], Some(body.clone()), &op.path())
                    .await?,
            )?;
            if o.done {
                return match o.failure() {
                    Some(e) => Err(e),
                    None => Ok(o),
                };
            }
            self.pace(started, round, op).await?;
        }
    }

    /// Between two `wait` calls: give up after the operation timeout, and if the server
    /// answered "not done" quickly, pause so the loop does not spin.
    async fn pace(&self, started: Instant, round: Instant, op: &OperationRef) -> Result<()> {
        if started.elapsed() >= self.config.operation_timeout {
            return Err(CloudError::Timeout {
                operation: op.path(),
                waited: started.elapsed(),
            });
        }
        let min_round = Duration::from_millis(250);
        if round.elapsed() < min_round {
            tokio::time::sleep(min_round - round.elapsed()).await;
        }
        Ok(())
    }

    // --- Cloud Run ------------------------------------------------------------------------------

    /// GET any Cloud Run v2 path (`projects/p/locations/r/services/s`); `None` when missing.
    pub async fn run_get<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        let url = self.run_url(name);
        match self.call(Method::GET, &url, &[], None, name).await {
            Ok(v) => decode(v).map(Some),
            Err(CloudError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Any Cloud Run v2 call: `path` is after `v2/` (`projects/.../services/s:setIamPolicy`).
    pub async fn run_call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<serde_json::Value>,
    ) -> Result<T> {
        let url = self.run_url(path);
        decode(self.call(method, &url, query, body, path).await?)
    }

    /// Each of `regions` with the Cloud Run services of `project` there, or why they could
    /// not be listed, in the order given; a few regions at a time. `services.list` takes no
    /// `-` wildcard location (run-v2 discovery, `parent`), so there is one list per region, and
    /// one region refusing (not offered to this project, say) leaves the others' answers.
    pub async fn run_services_in(
        &self,
        project: &str,
        regions: &[&str],
    ) -> Vec<(String, Result<Vec<RunService>>)> {
        use futures::StreamExt;
        // Owned regions: a stream of futures borrowing `&&str` is not `Send` for every
        // lifetime, which an axum handler awaiting this needs.
        let lists: Vec<_> = regions
            .iter()
            .map(|r| r.to_string())
            .map(|region| self.run_services_of(project, region))
            .collect();
        futures::stream::iter(lists).buffered(8).collect().await
    }

    async fn run_services_of(
        &self,
        project: &str,
        region: String,
    ) -> (String, Result<Vec<RunService>>) {
        let listed = self.run_services(project, &region).list().await;
        (region, listed)
    }

    // --- Certificate Manager --------------------------------------------------------------------

    /// GET a Certificate Manager resource (`projects/p/locations/global/certificates/c`);
    /// `None` when missing.
    pub async fn certificate_manager_get(&self, path: &str) -> Result<Option<serde_json::Value>> {
        let url = self.certificate_manager_url(path);
        match self.call(Method::GET, &url, &[], None, path).await {
            Ok(v) => Ok(Some(v)),
            Err(CloudError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every resource of a Certificate Manager collection (`…/locations/global/certificates`,
    /// or a map's `…/certificateMapEntries`), all pages; a collection whose parent map does not
    /// exist is empty.
    pub async fn certificate_manager_list(
        &self,
        collection: &str,
    ) -> Result<Vec<serde_json::Value>> {
        let field = collection
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let url = self.certificate_manager_url(collection);
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = Vec::new();
            if let Some(t) = &token {
                query.push(("pageToken".to_string(), t.clone()));
            }
            let page = match self.call(Method::GET, &url, &query, None, collection).await {
                Ok(v) => v,
                Err(CloudError::NotFound { .. }) => return Ok(out),
                Err(e) => return Err(e),
            };
            if let Some(items) = page.get(&field).and_then(serde_json::Value::as_array) {
                out.extend(items.iter().cloned());
            }
            match page
                .get("nextPageToken")
                .and_then(serde_json::Value::as_str)
            {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }

    /// A Certificate Manager mutation (`path` after `v1/`, query pairs apart); the answer is
    /// a google.longrunning operation.
    pub async fn certificate_manager_call(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<serde_json::Value>,
    ) -> Result<RunOperation> {
        let url = self.certificate_manager_url(path);
        decode(self.call(method, &url, query, body, path).await?)
    }

    // --- Resource Manager -----------------------------------------------------------------------

    /// `projects.search` with no query: every project the credentials may `get`, whatever its
    /// state (a caller offering projects keeps the [`Project::is_active`] ones), every page.
    pub async fn search_projects(&self) -> Result<Vec<Project>> {
        let url = format!("{}v3/projects:search", self.config.resourcemanager_endpoint);
        let size = [("pageSize".to_string(), "100".to_string())];
        self.every_page(
            Method::GET,
            &url,
            &size,
            "projects:search",
            |p: SearchProjectsResponse| (p.projects, p.next_page_token),
        )
        .await
    }

    /// Project-level `testIamPermissions` (Resource Manager v3): the subset of `permissions`
    /// the caller holds on `projects/{project}`, what a resource made there inherits.
    pub async fn test_project_permissions(
        &self,
        project: &str,
        permissions: &[&str],
    ) -> Result<Vec<String>> {
        let resource = format!("projects/{project}");
        let url = format!(
            "{}v3/{resource}:testIamPermissions",
            self.config.resourcemanager_endpoint
        );
        let body = serde_json::json!({ "permissions": permissions });
        let held: TestPermissions = decode(
            self.call(Method::POST, &url, &[], Some(body), &resource)
                .await?,
        )?;
        Ok(held.permissions)
    }

    /// A Compute resource's `testIamPermissions`: the subset of `permissions` the caller holds
    /// on it (a backend service another project's URL map is to use).
    pub async fn test_iam_permissions(
        &self,
        r: &ResourceRef,
        permissions: &[&str],
    ) -> Result<Vec<String>> {
        let body = serde_json::json!({ "permissions": permissions });
        let held: TestPermissions = self.call_verb(r, "testIamPermissions", Some(body)).await?;
        Ok(held.permissions)
    }

    // --- transport ----------------------------------------------------------------------------

    fn compute_url(&self, path: &str) -> String {
        format!("{}{path}", self.config.compute_endpoint)
    }

    fn run_url(&self, path: &str) -> String {
        format!("{}v2/{path}", self.config.run_endpoint)
    }

    fn certificate_manager_url(&self, path: &str) -> String {
        format!("{}v1/{path}", self.config.certificatemanager_endpoint)
    }

    /// One logical call with retries. Returns the JSON body of a 2xx answer (`null` if empty).
    pub(super) async fn call(
        &self,
        method: Method,
        url: &str,
        query: &[(String, String)],
        body: Option<serde_json::Value>,
        resource: &str,
    ) -> Result<serde_json::Value> {
        let mut attempts = Attempts::new(&self.config.retry);
        loop {
            let err = match self
                .exchange(&method, url, query, body.as_ref(), resource)
                .await
            {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let Some(wait) = attempts.after(&err, Instant::now()) else {
                return Err(err);
            };
            tracing::warn!(%method, resource, retry = wait.retry, reason = ?wait.reason,
                delay = ?wait.delay, error = %err, "retrying Google Cloud call");
            retry_notice::notify(&wait).await;
            tokio::time::sleep(wait.delay).await;
        }
    }

    async fn exchange(
        &self,
        method: &Method,
        url: &str,
        query: &[(String, String)],
        body: Option<&serde_json::Value>,
        resource: &str,
    ) -> Result<serde_json::Value> {
        let token = self.tokens.token().await?;
        let mut req = self
            .http
            .request(method.clone(), url)
            .query(query)
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| CloudError::Transient {
            status: 0,
            message: format!("{method} {resource}: {}", e.without_url()),
        })?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = resp.bytes().await.map_err(|e| CloudError::Transient {
            status: status.as_u16(),
            message: format!("{method} {resource}: reply cut short: {}", e.without_url()),
        })?;
        if !status.is_success() {
            return Err(CloudError::from_response(
                status.as_u16(),
                &bytes,
                retry_after,
                resource,
            ));
        }
        if bytes.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| CloudError::Decode(format!("{method} {resource}: {e}")))
    }

    // --- typed collections ------------------------------------------------------------------

    pub fn collection<T>(&self, c: CollectionRef) -> Collection<'_, T> {
        Collection {
            client: self,
            coll: c,
            _t: PhantomData,
        }
    }

    /// Regional serverless NEGs (`regionNetworkEndpointGroups`).
    pub fn serverless_negs(
        &self,
        project: &str,
        region: &str,
    ) -> Collection<'_, NetworkEndpointGroup> {
        self.collection(CollectionRef::regional(
            project,
            region,
            "networkEndpointGroups",
        ))
    }

    /// Global NEGs (`globalNetworkEndpointGroups`): internet NEGs.
    pub fn global_negs(&self, project: &str) -> Collection<'_, NetworkEndpointGroup> {
        self.collection(CollectionRef::global(project, "networkEndpointGroups"))
    }

    pub fn backend_services(&self, project: &str) -> Collection<'_, BackendService> {
        self.collection(CollectionRef::global(project, "backendServices"))
    }

    /// URL maps, typed with the domain's model (`domain::urlmap::UrlMap`, which keeps unmodelled
    /// fields in `extra`).
    pub fn url_maps(&self, project: &str) -> Collection<'_, crate::domain::urlmap::UrlMap> {
        self.collection(CollectionRef::global(project, "urlMaps"))
    }

    pub fn ssl_certificates(&self, project: &str) -> Collection<'_, SslCertificate> {
        self.collection(CollectionRef::global(project, "sslCertificates"))
    }

    pub fn target_http_proxies(&self, project: &str) -> Collection<'_, TargetHttpProxy> {
        self.collection(CollectionRef::global(project, "targetHttpProxies"))
    }

    pub fn target_https_proxies(&self, project: &str) -> Collection<'_, TargetHttpsProxy> {
        self.collection(CollectionRef::global(project, "targetHttpsProxies"))
    }

    pub fn global_addresses(&self, project: &str) -> Collection<'_, Address> {
        self.collection(CollectionRef::global(project, "addresses"))
    }

    pub fn global_forwarding_rules(&self, project: &str) -> Collection<'_, ForwardingRule> {
        self.collection(CollectionRef::global(project, "forwardingRules"))
    }

    pub fn health_checks(&self, project: &str) -> Collection<'_, HealthCheck> {
        self.collection(CollectionRef::global(project, "healthChecks"))
    }

    // --- resource-specific verbs ------------------------------------------------------------

    /// `attachNetworkEndpoints` on a global (internet) NEG.
    pub async fn attach_network_endpoints(
        &self,
        project: &str,
        neg: &str,
        endpoints: Vec<NetworkEndpoint>,
        request_id: Uuid,
    ) -> Result<Operation> {
        let r = ResourceRef::global(project, "networkEndpointGroups", neg);
        let body = NetworkEndpointsRequest {
            network_endpoints: endpoints,
        };
        self.mutate_verb(&r, "attachNetworkEndpoints", &body, request_id)
            .await
    }

    /// `detachNetworkEndpoints` on a global (internet) NEG.
    pub async fn detach_network_endpoints(
        &self,
        project: &str,
        neg: &str,
        endpoints: Vec<NetworkEndpoint>,
        request_id: Uuid,
    ) -> Result<Operation> {
        let r = ResourceRef::global(project, "networkEndpointGroups", neg);
        let body = NetworkEndpointsRequest {
            network_endpoints: endpoints,
        };
        self.mutate_verb(&r, "detachNetworkEndpoints", &body, request_id)
            .await
    }

    /// `listNetworkEndpoints` (a POST without body) on a global NEG; every page.
    pub async fn list_network_endpoints(
        &self,
        project: &str,
        neg: &str,
    ) -> Result<Vec<NetworkEndpointWithHealth>> {
        let r = ResourceRef::global(project, "networkEndpointGroups", neg);
        let base = self.compute_url(&format!("{}/listNetworkEndpoints", r.path()));
        self.every_page(
            Method::POST,
            &base,
            &[],
            &r.path(),
            |p: NetworkEndpointList| (p.items, p.next_page_token),
        )
        .await
    }

    /// `urlMaps.validate`: checks a URL map (and runs its `tests`) without storing anything.
    pub async fn validate_url_map(
        &self,
        project: &str,
        name: &str,
        url_map: &crate::domain::urlmap::UrlMap,
        load_balancing_schemes: &[&str],
    ) -> Result<UrlMapValidationResult> {
        let r = ResourceRef::global(project, "urlMaps", name);
        let body = UrlMapsValidateRequest {
            resource: to_json(url_map)?,
            load_balancing_schemes: load_balancing_schemes
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        let resp: UrlMapsValidateResponse = self
            .call_verb(&r, "validate", Some(to_json(&body)?))
            .await?;
        Ok(resp.result)
    }

    /// `setUrlMap` on a target HTTP proxy (path without `/global/`).
    pub async fn set_http_proxy_url_map(
        &self,
        project: &str,
        proxy: &str,
        url_map_link: &str,
        request_id: Uuid,
    ) -> Result<Operation> {
        let r = project_scoped(project, "targetHttpProxies", proxy);
        let body = UrlMapReference {
            url_map: url_map_link.into(),
        };
        self.mutate_verb(&r, "setUrlMap", &body, request_id).await
    }

    /// `setUrlMap` on a target HTTPS proxy (path without `/global/`).
    pub async fn set_https_proxy_url_map(
        &self,
        project: &str,
        proxy: &str,
        url_map_link: &str,
        request_id: Uuid,
    ) -> Result<Operation> {
        let r = project_scoped(project, "targetHttpsProxies", proxy);
        let body = UrlMapReference {
            url_map: url_map_link.into(),
        };
        self.mutate_verb(&r, "setUrlMap", &body, request_id).await
    }

    /// `setSslCertificates` on a target HTTPS proxy (path without `/global/`).
    pub async fn set_ssl_certificates(
        &self,
        project: &str,
        proxy: &str,
        certificate_links: Vec<String>,
        request_id: Uuid,
    ) -> Result<Operation> {
        let r = project_scoped(project, "targetHttpsProxies", proxy);
        let body = SslCertificatesRequest {
            ssl_certificates: certificate_links,
        };
        self.mutate_verb(&r, "setSslCertificates", &body, request_id)
            .await
    }

    /// `setTarget` on a global forwarding rule.
    pub async fn set_forwarding_rule_target(
        &self,
        project: &str,
        rule: &str,
        target_link: &str,
        request_id: Uuid,
    ) -> Result<Operation> {
        let r = ResourceRef::global(project, "forwardingRules", rule);
        let body = TargetReference {
            target: target_link.into(),
        };
        self.mutate_verb(&r, "setTarget", &body, request_id).await
    }

    /// Cloud Run services of one project and region.
    pub fn run_services(&self, project: &str, region: &str) -> RunServices<'_> {
        RunServices {
            client: self,
            parent: format!("projects/{project}/locations/{region}"),
        }
    }
}

fn project_scoped(project: &str, collection: &str, name: &str) -> ResourceRef {
    ResourceRef {
        collection: CollectionRef {
            project: project.into(),
            scope: Scope::Project,
            collection: collection.into(),
        },
        name: name.into(),
    }
}

/// One GET of an operation (done or not).
#[derive(Debug, Clone, PartialEq)]
pub enum OperationState {
    Compute(Box<Operation>),
    Run(RunOperation),
}

fn to_json<B: Serialize>(body: &B) -> Result<serde_json::Value> {
    serde_json::to_value(body)
        .map_err(|e| CloudError::Decode(format!("cannot encode request: {e}")))
}

fn decode<T: DeserializeOwned>(v: serde_json::Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| CloudError::Decode(e.to_string()))
}

/// A typed view of one Compute collection.
pub struct Collection<'a, T> {
    client: &'a Client,
    coll: CollectionRef,
    _t: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Collection<'_, T> {
    pub fn reference(&self, name: &str) -> ResourceRef {
        self.coll.resource(name)
    }

    /// Full canonical URL of `name` in this collection, for references.
    pub fn link(&self, name: &str) -> String {
        self.coll.resource(name).link()
    }

    pub async fn get(&self, name: &str) -> Result<Option<T>> {
        self.client.get(&self.coll.resource(name)).await
    }

    pub async fn list(&self) -> Result<Vec<T>> {
        self.client.list(&self.coll).await
    }

    pub async fn insert(&self, body: &T, request_id: Uuid) -> Result<Operation> {
        self.client.insert(&self.coll, body, request_id).await
    }

    pub async fn patch(&self, name: &str, body: &T, request_id: Uuid) -> Result<Operation> {
        self.client
            .patch(&self.coll.resource(name), body, request_id)
            .await
    }

    pub async fn update(&self, name: &str, body: &T, request_id: Uuid) -> Result<Operation> {
        self.client
            .update(&self.coll.resource(name), body, request_id)
            .await
    }

    pub async fn delete(&self, name: &str, request_id: Uuid) -> Result<Operation> {
        self.client
            .delete(&self.coll.resource(name), request_id)
            .await
    }
}

/// Cloud Run v2 services of one `projects/{p}/locations/{r}`.
pub struct RunServices<'a> {
    client: &'a Client,
    parent: String,
}

#[derive(Deserialize)]
struct Empty {}

impl RunServices<'_> {
    pub fn name(&self, service_id: &str) -> String {
        format!("{}/services/{service_id}", self.parent)
    }

    /// `services.create`. 409 `AlreadyExists` when the id is taken.
    pub async fn create(&self, service_id: &str, service: &RunService) -> Result<RunOperation> {
        let query = [("serviceId".to_string(), service_id.to_string())];
        self.client
            .run_call(
                Method::POST,
                &format!("{}/services", self.parent),
                &query,
                Some(to_json(service)?),
            )
            .await
    }

    pub async fn get(&self, service_id: &str) -> Result<Option<RunService>> {
        self.client.run_get(&self.name(service_id)).await
    }

    pub async fn list(&self) -> Result<Vec<RunService>> {
        let path = format!("{}/services", self.parent);
        let size = [("pageSize".to_string(), "100".to_string())];
        self.client
            .every_page(
                Method::GET,
                &self.client.run_url(&path),
                &size,
                &path,
                |p: RunServiceList| (p.services, p.next_page_token),
            )
            .await
    }

    /// `services.patch`. With `allow_missing` it creates the service when absent, which makes
    /// it the idempotent way to deploy (safe to retry, Cloud Run has no requestId).
    pub async fn patch(
        &self,
        service_id: &str,
        service: &RunService,
        allow_missing: bool,
        update_mask: Option<&str>,
    ) -> Result<RunOperation> {
        let mut query = vec![("allowMissing".to_string(), allow_missing.to_string())];
        if let Some(m) = update_mask {
            query.push(("updateMask".into(), m.into()));
        }
        self.client
            .run_call(
                Method::PATCH,
                &self.name(service_id),
                &query,
                Some(to_json(service)?),
            )
            .await
    }

    pub async fn delete(&self, service_id: &str, etag: Option<&str>) -> Result<RunOperation> {
        let query: Vec<(String, String)> = etag
            .iter()
            .map(|e| ("etag".to_string(), e.to_string()))
            .collect();
        self.client
            .run_call(Method::DELETE, &self.name(service_id), &query, None)
            .await
    }

    pub async fn get_iam_policy(&self, service_id: &str) -> Result<IamPolicy> {
        self.client
            .run_call(
                Method::GET,
                &format!("{}:getIamPolicy", self.name(service_id)),
                &[],
                None,
            )
            .await
    }

    /// Replaces the policy. Send the `etag` read with `get_iam_policy`: a stale one is 409
    /// `Conflict` (ABORTED), so concurrent edits cannot silently drop bindings.
    pub async fn set_iam_policy(&self, service_id: &str, policy: &IamPolicy) -> Result<IamPolicy> {
        let body = SetIamPolicyRequest {
            policy: policy.clone(),
            update_mask: None,
        };
        self.client
            .run_call(
                Method::POST,
                &format!("{}:setIamPolicy", self.name(service_id)),
                &[],
                Some(to_json(&body)?),
            )
            .await
    }

    /// Deletes a finished operation record (`operations.delete`).
    pub async fn delete_operation(&self, operation: &str) -> Result<()> {
        let _: Option<Empty> = self
            .client
            .run_call::<Option<Empty>>(Method::DELETE, operation, &[], None)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_compare_by_path_whatever_the_host() {
        assert!(same_resource(
            "https://www.googleapis.com/compute/v1/projects/p/global/urlMaps/m",
            "http://127.0.0.1:9/compute/v1/projects/p/global/urlMaps/m"
        ));
        assert!(same_resource(
            "projects/p/global/urlMaps/m",
            "https://compute.googleapis.com/compute/v1/projects/p/global/urlMaps/m"
        ));
        assert!(!same_resource(
            "projects/p/global/urlMaps/m",
            "projects/p/global/urlMaps/n"
        ));
        let r = ResourceRef::parse(
            "https://www.googleapis.com/compute/v1/projects/p/regions/us-central1/networkEndpointGroups/n",
        )
        .unwrap();
        assert_eq!(r.collection.scope, Scope::Region("us-central1".into()));
        assert_eq!(
            r.link(),
            "https://www.googleapis.com/compute/v1/projects/p/regions/us-central1/networkEndpointGroups/n"
        );
    }

    #[test]
    fn operation_refs_round_trip_through_their_string_form() {
        for s in [
            "projects/p/global/operations/operation-1-abc",
            "projects/p/regions/europe-west1/operations/operation-2",
            "projects/p/locations/us-central1/operations/0f1e",
        ] {
            let r = OperationRef::parse(s).unwrap();
            assert_eq!(r.path(), s);
        }
        let from_self_link = OperationRef::parse(
            "https://www.googleapis.com/compute/v1/projects/p/global/operations/op",
        )
        .unwrap();
        assert_eq!(
            from_self_link,
            OperationRef::Compute {
                project: "p".into(),
                scope: Scope::Global,
                name: "op".into()
            }
        );
        assert!(OperationRef::parse("projects/p/global/urlMaps/x").is_none());
    }

    #[test]
    fn project_scoped_setters_have_no_global_segment() {
        let r = project_scoped("p", "targetHttpsProxies", "t");
        assert_eq!(r.path(), "projects/p/targetHttpsProxies/t");
    }
}
