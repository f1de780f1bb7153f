//! The Google Cloud boundary: the REST client for Compute Engine v1 and Cloud Run v2, its auth,
//! and the sandbox cloud that implements the same REST API locally.
//!
//! # Constructing the client
//!
//! The panel builds its client per `--gcp` in `App::build` (and keeps the sandbox running in
//! sandbox mode). Elsewhere: `Client::new(ClientConfig::new(compute, run), tokens)`
//! with a [`TokenSource`] ([`GcpAuthTokens::application_default`],
//! [`GcpAuthTokens::service_account_json`], or [`StaticToken`]), or
//! [`sandbox::SandboxHandle::client`] for a sandbox.
//!
//! # Talking to Compute: one generic collection API
//!
//! Resources are addressed by [`ResourceRef`] (project, [`Scope`] global or regional,
//! collection, name); [`Client::get`], [`Client::list`], [`Client::insert`], [`Client::patch`],
//! [`Client::update`], [`Client::delete`], [`Client::mutate_verb`] (`setTarget`…) and
//! [`Client::call_verb`] (`validate`…) work on any collection. [`Collection<T>`] is the typed view
//! of one collection; the client names the ones the load balancer needs:
//! `serverless_negs(p, region)`, `global_negs(p)`, `backend_services(p)`, `url_maps(p)` (typed as
//! `domain::urlmap::UrlMap`), `ssl_certificates(p)`, `target_http_proxies(p)`,
//! `target_https_proxies(p)`, `global_addresses(p)`, `global_forwarding_rules(p)`,
//! `health_checks(p)`; plus `attach_network_endpoints`, `detach_network_endpoints`,
//! `list_network_endpoints`, `validate_url_map`, `set_http_proxy_url_map`,
//! `set_https_proxy_url_map`, `set_ssl_certificates` (no `/global/` in their paths) and
//! `set_forwarding_rule_target`. `Collection::link(name)` is the canonical full URL to put in
//! references (`backends[].group` must be one); compare links with [`same_resource`].
//!
//! Every mutation takes a caller-chosen `requestId` (a `Uuid`): store it with the job step
//! before sending and reuse it on a retry after a crash; the server then answers the original
//! operation instead of applying the change twice.
//!
//! # Operations
//!
//! A mutation returns the [`types::Operation`]. [`Client::wait_operation`] waits for it;
//! `op.reference()` gives an [`OperationRef`] whose string form (`projects/p/global/operations/N`,
//! `projects/p/regions/r/operations/N`, `projects/p/locations/r/operations/N`) can be stored and
//! parsed back with [`OperationRef::parse`] to [`Client::wait`] or [`Client::get_operation`] after
//! a restart. Waiting uses the API's `wait` method in a loop until DONE, with the poll URL built
//! from the configured endpoint, never from `selfLink`. An operation that ends with an error is
//! `Err(CloudError::OperationFailed)`.
//!
//! # Cloud Run
//!
//! `client.run_services(project, region)` → [`RunServices`]: `create(id, &svc)`, `get(id)`,
//! `list()`, `patch(id, &svc, allow_missing, update_mask)` (the idempotent deploy: Cloud Run has
//! no requestId), `delete(id, etag)`, `get_iam_policy(id)`, `set_iam_policy(id, &policy)` (send
//! the etag you read; a stale one is `Conflict`). They return [`types::RunOperation`]; wait with
//! `client.wait(&op.reference())`; `RunOperation::service()` and `RunService::is_ready()` read
//! the result. `client.run_services_in(project, regions)` lists every region given, each with
//! its own answer (Cloud Run takes no `-` wildcard location).
//!
//! # Resource Manager
//!
//! `client.search_projects()`: `projects.search` (v3), every page, every state; the endpoint is
//! `ClientConfig::with_resourcemanager` (default [`RESOURCE_MANAGER_ENDPOINT`]).
//!
//! # Cloud Monitoring
//!
//! [`monitoring`]: `client.query_range(project, promql, &Range)` (PromQL `query_range`, endpoint
//! `ClientConfig::with_monitoring`) and `client.lb_traffic(project, url_map, &Range)` (request
//! rate, 5xx ratio and p95 per backend service and region); [`monitoring::promql`] writes the
//! queries, Cloud Run's included.
//!
//! # Errors
//!
//! [`CloudError`]: `AlreadyExists`, `NotFound`, `InUse { by }`, `Invalid { field }`,
//! `StaleFingerprint`, `Conflict`, `RateLimited`, `Transient`, `Unauthenticated`,
//! `PermissionDenied`, `OperationFailed { code, .. }`, `Timeout`, `Http`, `Decode`. Rate limits
//! are retried for a time budget, `resourceNotReady`, 5xx and lost connections a number of
//! times, both with exponential backoff and jitter honouring Retry-After ([`RetryPolicy`]);
//! nothing else is. A caller that wants to know about the waits (a job step, to show "waiting:
//! rate limited by Google") runs its calls inside [`observed`].
//!
//! ```no_run
//! # async fn demo(client: &switchyard::cloud::Client) -> Result<(), switchyard::cloud::CloudError> {
//! use switchyard::cloud::{CloudError, OperationRef, types::NetworkEndpointGroup};
//! use uuid::Uuid;
//! let negs = client.serverless_negs("acme", "us-central1");
//! let request_id = Uuid::new_v4(); // persist it first; reuse it when retrying this step
//! match negs.insert(&NetworkEndpointGroup::serverless("shop-web-us-central1", "my-app"), request_id).await {
//!     Ok(op) => {
//!         let stored = op.reference().expect("Compute operations carry a selfLink").to_string();
//!         client.wait(&OperationRef::parse(&stored).unwrap()).await?;
//!     }
//!     Err(CloudError::AlreadyExists { .. }) => {}
//!     Err(e) => return Err(e),
//! }
//! let neg = negs.get("shop-web-us-central1").await?; // Option<NetworkEndpointGroup>
//! # let _ = neg; Ok(()) }
//! ```
//!
//! # The sandbox
//!
//! See [`sandbox`]: `sandbox::spawn(db, SandboxConfig, listener)` → `SandboxHandle` (endpoints,
//! token URI, `client()`); latency and faults via `SandboxConfig`, `Sandbox::push_fault`,
//! `Sandbox::set_config`, `SWITCHYARD_SANDBOX_*` variables, `switchyard sandbox` flags, or
//! `POST /sandbox/v1/faults`.

pub mod auth;
pub mod client;
pub mod discovery;
pub mod error;
pub mod monitoring;
pub mod retry;
pub mod retry_notice;
pub mod types;

pub use auth::{GcpAuthTokens, StaticToken, TokenSource};
pub use client::{
    CERTIFICATE_MANAGER_ENDPOINT, COMPUTE_LINK_BASE, Client, ClientConfig, Collection,
    CollectionRef, CompletedOperation, MONITORING_ENDPOINT, OperationRef, OperationState,
    RESOURCE_MANAGER_ENDPOINT, ResourceRef, RunServices, Scope, same_resource,
};
pub use error::CloudError;
pub use retry::{RetryPolicy, RetryReason, RetryWait};
pub use retry_notice::{RetryObserver, observed};
pub mod sandbox;
