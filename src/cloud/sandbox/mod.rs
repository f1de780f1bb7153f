//! The sandbox cloud: a local implementation of the Compute Engine v1 and Cloud Run v2 REST
//! calls the panel makes, faithful to the rules of docs/google-cloud.md §11, served over HTTP on a port of
//! its own. The panel reaches it through the very same [`Client`](super::Client) and the real
//! gcp_auth service-account flow (a generated key whose `token_uri` is [`SandboxHandle::token_uri`]),
//! so sandbox mode exercises the production code path end to end.
//!
//! State lives in the panel's SQLite database (tables `sandbox_*`), so simulated deployments
//! survive a restart. Operations complete by the clock (DONE once their latency has passed), which
//! needs no background task and also survives restarts.
//!
//! It is as strict as Google where the rules are known (docs/google-cloud.md §10, §11): every
//! request is matched to a method of the vendored discovery documents and checked against it
//! (`request`, on `cloud::discovery`), references are stored as full URLs, resources appear and
//! disappear with their operations.
//!
//! Routes:
//! - `/compute/v1/...`: Compute (see `compute/`);
//! - `/v2/...`: Cloud Run (see `run/`);
//! - `/v3/...`: Resource Manager's `projects.search` (see `resourcemanager`);
//! - `/v1/...`: Certificate Manager (see `certificatemanager`);
//! - anything else that is no method of either API: Google's HTML 404;
//! - `POST /token`: OAuth2 JWT-bearer token endpoint for gcp_auth;
//! - `/v1/projects/{p}/location/global/prometheus/api/v1/query_range`: Cloud Monitoring's
//!   PromQL, answered from the traffic model (see `monitoring`, `traffic`);
//! - `GET|POST /sandbox/v1/traffic`: read the traffic model, make a region fail or slow down, or
//!   take Cloud Monitoring down (`monitoringUnavailable`)
//!   (`{"region", "errorRatio", "extraLatencyMs"}`);
//! - `GET|POST /sandbox/v1/faults`: read or change latency and fault injection;
//! - `POST /sandbox/v1/projects/{p}/sslCertificates/{name}:provision`: flip a managed
//!   certificate to ACTIVE or a failed state;
//! - `GET|POST /sandbox/v1/projects/{p}/dnsRecords`: the CNAME records "published" for DNS
//!   authorizations (Certificate Manager certificates become ACTIVE once theirs resolve);
//! - `GET|POST /sandbox/v1/projects/{p}/iam`: the project's organization and the permissions
//!   the panel lacks there (`{"organization", "deniedPermissions"}`, see `iam`).

mod certificatemanager;
mod compute;
mod errors;
pub mod iam;
mod keys;
mod monitoring;
mod promql;
mod request;
mod resourcemanager;
mod run;
mod settings;
pub mod traffic;

pub(crate) use errors::{Api, ApiError, ApiResult};

pub use settings::SandboxArgs;

use crate::db::Db;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

pub use keys::CLIENT_EMAIL;

/// Project id written into the generated key file.
pub const SANDBOX_PROJECT: &str = "switchyard-sandbox";

/// How the sandbox behaves. `Default` is what the panel uses in `--gcp sandbox` mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SandboxConfig {
    /// Time a Compute operation stays RUNNING before it is DONE.
    #[serde(with = "millis")]
    pub operation_latency: Duration,
    /// Time a new Cloud Run revision takes to become Ready (and its operation to finish).
    #[serde(with = "millis")]
    pub run_latency: Duration,
    /// Longest a `wait` call blocks before answering "still running" (Google: about 2 min).
    #[serde(with = "millis")]
    pub wait_cap: Duration,
    /// When set, a managed certificate becomes ACTIVE by itself this long after creation, once it
    /// is attached to an HTTPS proxy that a forwarding rule serves. `None`: only the admin hook
    /// provisions certificates.
    #[serde(with = "opt_millis")]
    pub certificate_provision_after: Option<Duration>,
    /// Prefix of the links in responses (Google: `https://www.googleapis.com/compute/v1/`).
    pub self_link_base: String,
    /// Accept only tokens issued by `/token` (the panel); otherwise any bearer token (tools).
    pub require_issued_tokens: bool,
    pub faults: FaultConfig,
}

impl Default for SandboxConfig {
    /// Latencies short enough to keep the UI brisk yet long enough that the panel visibly goes
    /// through RUNNING → DONE, as it will against Google (where this takes 10 s to minutes).
    fn default() -> Self {
        SandboxConfig {
            operation_latency: Duration::from_millis(800),
            run_latency: Duration::from_millis(2000),
            wait_cap: Duration::from_secs(120),
            certificate_provision_after: Some(Duration::from_secs(30)),
            self_link_base: crate::cloud::COMPUTE_LINK_BASE.into(),
            require_issued_tokens: true,
            faults: FaultConfig::default(),
        }
    }
}

/// Random fault rates (0.0–1.0 per request) and Cloud Run images that never become Ready.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FaultConfig {
    /// 503 `backendError` / `UNAVAILABLE`.
    pub transient_rate: f64,
    /// 429 `rateLimitExceeded` / `RESOURCE_EXHAUSTED` with `Retry-After: 1`.
    pub rate_limit_rate: f64,
    /// Mutations whose operation ends DONE with an error (nothing is changed).
    pub operation_error_rate: f64,
    /// Mutations that are applied but answered with a 503, as if the reply were lost.
    pub lost_reply_rate: f64,
    /// A Cloud Run revision whose container image contains one of these strings never becomes
    /// Ready: `terminalCondition` ends CONDITION_FAILED and the operation fails.
    pub failing_images: Vec<String>,
}

/// One scripted fault, applied to the next request it fits (queued with [`Sandbox::push_fault`]
/// or `POST /sandbox/v1/faults {"queue": [...]}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Fault {
    /// Next request: 503.
    Transient,
    /// Next request: 429 with `Retry-After: 1`.
    RateLimited,
    /// Next Compute request: 403 `rateLimitExceeded` (Compute's quota answer).
    RateLimited403,
    /// Next Compute request: 400 `resourceNotReady`.
    ResourceNotReady,
    /// Next mutation: its operation ends with an error and nothing changes.
    OperationError,
    /// Next mutation: applied, then answered with a 503 as if the reply were lost.
    LostReply,
    /// Next Cloud Run `setIamPolicy`: another writer changes the policy just before it (adds a
    /// `roles/run.developer` binding for `user:racer@example.com`), so the etag sent is stale.
    IamRace,
}

impl Fault {
    fn is_mutation_fault(self) -> bool {
        matches!(self, Fault::OperationError | Fault::LostReply)
    }
}

struct Runtime {
    config: SandboxConfig,
    queue: VecDeque<Fault>,
    traffic: traffic::Model,
    /// Per project: its organization and the permissions denied there (`iam`).
    iam: std::collections::BTreeMap<String, iam::ProjectIam>,
}

/// The sandbox's shared state.
pub struct Sandbox {
    db: Db,
    runtime: Mutex<Runtime>,
    /// Serialises mutations so that checks ("is it in use?") and writes cannot interleave.
    write: tokio::sync::Mutex<()>,
    account: keys::ServiceAccount,
    base_url: String,
    /// Compute and Cloud Run requests received (token and admin calls excluded).
    requests: std::sync::atomic::AtomicU64,
}

impl Sandbox {
    /// The traffic model as now set (client rates, failing and slow regions).
    pub fn traffic_model(&self) -> traffic::Model {
        self.runtime.lock().expect("sandbox lock").traffic.clone()
    }

    /// Makes `region` fail `error_ratio` of its requests and answer `extra_latency_ms` slower
    /// (both 0: healthy again), as `POST /sandbox/v1/traffic` does.
    pub fn set_region_condition(&self, region: &str, condition: traffic::Condition) {
        let mut rt = self.runtime.lock().expect("sandbox lock");
        if condition == traffic::Condition::default() {
            rt.traffic.conditions.remove(region);
        } else {
            rt.traffic.conditions.insert(region.to_string(), condition);
        }
    }

    /// Makes Cloud Monitoring answer every query 503 (`true`) or answer again.
    pub fn set_monitoring_unavailable(&self, down: bool) {
        self.runtime
            .lock()
            .expect("sandbox lock")
            .traffic
            .monitoring_unavailable = down;
    }

    pub fn config(&self) -> SandboxConfig {
        self.runtime.lock().expect("sandbox lock").config.clone()
    }

    /// Replaces the configuration (latency, fault rates) while running.
    pub fn set_config(&self, config: SandboxConfig) {
        self.runtime.lock().expect("sandbox lock").config = config;
    }

    /// Queues a scripted fault for the next request it fits.
    pub fn push_fault(&self, fault: Fault) {
        self.runtime
            .lock()
            .expect("sandbox lock")
            .queue
            .push_back(fault);
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// How many Compute and Cloud Run requests arrived so far (to observe retries in tests).
    pub fn request_count(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Scripted faults not yet consumed.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.runtime
            .lock()
            .expect("sandbox lock")
            .queue
            .iter()
            .copied()
            .collect()
    }

    pub fn token_uri(&self) -> String {
        format!("{}/token", self.base_url)
    }

    /// The service-account key file (JSON) for this sandbox. It holds a private key: give it
    /// only to the client that talks to this sandbox, never log it.
    pub fn service_account_key_json(&self) -> String {
        self.account.key_json(&self.token_uri(), SANDBOX_PROJECT)
    }

    fn self_link_base(&self) -> String {
        self.config().self_link_base
    }

    /// A request-level fault for this request, scripted first, then random.
    fn request_fault(&self, api: Api) -> Option<Fault> {
        let mut rt = self.runtime.lock().expect("sandbox lock");
        if let Some(pos) = rt.queue.iter().position(|f| {
            !f.is_mutation_fault()
                && *f != Fault::IamRace
                && (api == Api::Compute
                    || !matches!(f, Fault::RateLimited403 | Fault::ResourceNotReady))
        }) {
            return rt.queue.remove(pos);
        }
        let f = &rt.config.faults;
        let mut rng = rand::rng();
        if f.transient_rate > 0.0 && rng.random::<f64>() < f.transient_rate {
            return Some(Fault::Transient);
        }
        if f.rate_limit_rate > 0.0 && rng.random::<f64>() < f.rate_limit_rate {
            return Some(Fault::RateLimited);
        }
        None
    }

    /// Takes a queued `IamRace`, if any: the caller plays the other writer.
    pub(crate) fn take_iam_race(&self) -> bool {
        let mut rt = self.runtime.lock().expect("sandbox lock");
        match rt.queue.iter().position(|f| *f == Fault::IamRace) {
            Some(pos) => rt.queue.remove(pos).is_some(),
            None => false,
        }
    }

    /// A mutation-level fault (operation error or lost reply) for this mutation.
    fn mutation_fault(&self) -> Option<Fault> {
        let mut rt = self.runtime.lock().expect("sandbox lock");
        if let Some(pos) = rt.queue.iter().position(|f| f.is_mutation_fault()) {
            return rt.queue.remove(pos);
        }
        let f = &rt.config.faults;
        let mut rng = rand::rng();
        if f.operation_error_rate > 0.0 && rng.random::<f64>() < f.operation_error_rate {
            return Some(Fault::OperationError);
        }
        if f.lost_reply_rate > 0.0 && rng.random::<f64>() < f.lost_reply_rate {
            return Some(Fault::LostReply);
        }
        None
    }

    /// Authentication, then request-level faults: what every API call goes through first.
    async fn gate(&self, api: Api, headers: &HeaderMap) -> ApiResult<()> {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let unauth = |msg: &str| match api {
            Api::Compute => ApiError::compute(401, "authError", msg),
            Api::Run | Api::ResourceManager | Api::CertificateManager | Api::Monitoring => {
                ApiError::run(401, "UNAUTHENTICATED", msg)
            }
        };
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            return Err(unauth(
                "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
            ));
        };
        if self.config().require_issued_tokens {
            let mut conn = self
                .db
                .acquire()
                .await
                .map_err(|e| ApiError::internal(e, api))?;
            let valid = crate::db::sandbox::token_valid(&mut conn, &sha256_hex(token), now_ms())
                .await
                .map_err(|e| ApiError::internal(e, api))?;
            if !valid {
                return Err(unauth(
                    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                ));
            }
        }
        match self.request_fault(api) {
            Some(f) => Err(ApiError::for_fault(f, api)),
            None => Ok(()),
        }
    }
}

/// A running sandbox; dropping it stops the server.
pub struct SandboxHandle {
    pub sandbox: Arc<Sandbox>,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SandboxHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> &str {
        self.sandbox.base_url()
    }

    /// The value for `--compute-endpoint`.
    pub fn compute_endpoint(&self) -> String {
        format!("{}/compute/v1/", self.base_url())
    }

    /// The value for `--run-endpoint`.
    pub fn run_endpoint(&self) -> String {
        format!("{}/", self.base_url())
    }

    /// The value for `--resourcemanager-endpoint`.
    pub fn resourcemanager_endpoint(&self) -> String {
        format!("{}/", self.base_url())
    }

    /// The value for `--certificatemanager-endpoint`.
    pub fn certificatemanager_endpoint(&self) -> String {
        format!("{}/", self.base_url())
    }

    /// The value for `--monitoring-endpoint`.
    pub fn monitoring_endpoint(&self) -> String {
        format!("{}/", self.base_url())
    }

    pub fn token_uri(&self) -> String {
        self.sandbox.token_uri()
    }

    /// A client for this sandbox authenticating through gcp_auth with the generated key.
    pub fn client(&self, retry: crate::cloud::RetryPolicy) -> anyhow::Result<crate::cloud::Client> {
        let tokens = crate::cloud::GcpAuthTokens::service_account_json(
            &self.sandbox.service_account_key_json(),
        )?;
        let mut config =
            crate::cloud::ClientConfig::new(&self.compute_endpoint(), &self.run_endpoint())
                .with_resourcemanager(&self.resourcemanager_endpoint())
                .with_certificatemanager(&self.certificatemanager_endpoint())
                .with_monitoring(&self.monitoring_endpoint());
        config.retry = retry;
        Ok(crate::cloud::Client::new(config, Arc::new(tokens))?)
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts the sandbox on `listener`, keeping its state in `db` (migrations must have run).
pub async fn spawn(
    db: Db,
    config: SandboxConfig,
    listener: TcpListener,
) -> anyhow::Result<SandboxHandle> {
    let addr = listener.local_addr()?;
    let account = {
        let mut conn = db.acquire().await?;
        keys::ServiceAccount::load_or_create(&mut conn).await?
    };
    let sandbox = Arc::new(Sandbox {
        db,
        runtime: Mutex::new(Runtime {
            config,
            queue: VecDeque::new(),
            traffic: traffic::Model::standard(1),
            iam: std::collections::BTreeMap::new(),
        }),
        write: tokio::sync::Mutex::new(()),
        account,
        base_url: format!("http://{addr}"),
        requests: std::sync::atomic::AtomicU64::new(0),
    });
    let app = router(sandbox.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "sandbox server stopped");
        }
    });
    tracing::info!(%addr, "sandbox cloud listening");
    Ok(SandboxHandle {
        sandbox,
        addr,
        stop: Some(tx),
        task: Some(task),
    })
}

fn router(sandbox: Arc<Sandbox>) -> Router {
    Router::new()
        .route("/compute/v1/{*rest}", any(compute::handle))
        .route("/v2/{*rest}", any(run::handle))
        .route("/v3/{*rest}", any(resourcemanager::handle))
        .route("/v1/{*rest}", any(certificatemanager::handle))
        .route(
            "/v1/projects/{project}/location/{location}/prometheus/{*rest}",
            any(monitoring::handle),
        )
        .route("/sandbox/v1/traffic", get(get_traffic).post(set_traffic))
        .route("/token", post(token))
        .route("/sandbox/v1/faults", get(get_faults).post(set_faults))
        .route(
            "/sandbox/v1/projects/{project}/dnsRecords",
            get(certificatemanager::dns::list).post(certificatemanager::dns::publish),
        )
        .route(
            "/sandbox/v1/projects/{project}/iam",
            get(iam::get).post(iam::set),
        )
        .route(
            "/sandbox/v1/projects/{project}/sslCertificates/{name}",
            post(compute::provision_certificate),
        )
        .fallback(no_such_path)
        .with_state(sandbox)
}

/// Anything outside the two APIs and the sandbox's own calls: Google's HTML 404.
async fn no_such_path(uri: axum::http::Uri) -> Response {
    ApiError::no_such_path(Api::Compute, uri.path()).into_response()
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
    assertion: String,
}

/// OAuth2 token endpoint (JWT bearer grant), answering like Google's in shape.
async fn token(
    State(sb): State<Arc<Sandbox>>,
    axum::Form(req): axum::Form<TokenRequest>,
) -> Response {
    let oauth_error = |error: &str, description: &str| {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": error, "error_description": description})),
        )
            .into_response()
    };
    if req.grant_type != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        return oauth_error("unsupported_grant_type", "Invalid grant_type.");
    }
    if let Err(why) = sb
        .account
        .verify_assertion(&req.assertion, &sb.token_uri(), now_ms() / 1000)
    {
        return oauth_error("invalid_grant", why);
    }
    let token = format!("ya29.sandbox-{}", random_hex(24));
    let expires_in: i64 = 3599;
    let stored = async {
        let mut conn = sb.db.acquire().await?;
        crate::db::sandbox::insert_token(
            &mut conn,
            &sha256_hex(&token),
            &sb.account.client_email,
            now_ms() + expires_in * 1000,
        )
        .await
    }
    .await;
    if let Err(e) = stored {
        return ApiError::internal(e, Api::Compute).into_response();
    }
    axum::Json(json!({"access_token": token, "expires_in": expires_in, "token_type": "Bearer"}))
        .into_response()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FaultsView {
    config: SandboxConfig,
    queue: Vec<Fault>,
}

/// Body of `POST /sandbox/v1/traffic`: make `region` fail a share of its requests and/or
/// answer slower (both 0 make it healthy again); `monitoringUnavailable` takes Cloud
/// Monitoring itself down or back up.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TrafficUpdate {
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    error_ratio: f64,
    #[serde(default)]
    extra_latency_ms: f64,
    #[serde(default)]
    monitoring_unavailable: Option<bool>,
}

fn traffic_view(m: &traffic::Model) -> Value {
    let regions: serde_json::Map<String, Value> = m
        .conditions
        .iter()
        .map(|(r, c)| {
            (
                r.clone(),
                json!({"errorRatio": c.error_ratio, "extraLatencyMs": c.extra_latency_ms}),
            )
        })
        .collect();
    json!({
        "seed": m.seed,
        "clients": m.clients.iter().map(|c| json!({"continent": c.continent, "rps": c.rps})).collect::<Vec<_>>(),
        "regions": regions,
        "monitoringUnavailable": m.monitoring_unavailable,
    })
}

async fn get_traffic(State(sb): State<Arc<Sandbox>>) -> axum::Json<Value> {
    axum::Json(traffic_view(&sb.traffic_model()))
}

async fn set_traffic(
    State(sb): State<Arc<Sandbox>>,
    axum::Json(update): axum::Json<TrafficUpdate>,
) -> Response {
    if !(0.0..=1.0).contains(&update.error_ratio)
        || !(0.0..=600_000.0).contains(&update.extra_latency_ms)
    {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "errorRatio must be within 0..1 and extraLatencyMs within 0..600000"})),
        )
            .into_response();
    }
    if update.region.is_none() && update.monitoring_unavailable.is_none() {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "give a region to change, or monitoringUnavailable"})),
        )
            .into_response();
    }
    if let Some(region) = &update.region {
        sb.set_region_condition(
            region,
            traffic::Condition {
                error_ratio: update.error_ratio,
                extra_latency_ms: update.extra_latency_ms,
            },
        );
    }
    if let Some(down) = update.monitoring_unavailable {
        sb.set_monitoring_unavailable(down);
    }
    axum::Json(traffic_view(&sb.traffic_model())).into_response()
}

async fn get_faults(State(sb): State<Arc<Sandbox>>) -> axum::Json<FaultsView> {
    let rt = sb.runtime.lock().expect("sandbox lock");
    axum::Json(FaultsView {
        config: rt.config.clone(),
        queue: rt.queue.iter().copied().collect(),
    })
}

/// Body of `POST /sandbox/v1/faults`: every part optional.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FaultsUpdate {
    #[serde(default)]
    faults: Option<FaultConfig>,
    #[serde(default)]
    operation_latency_ms: Option<u64>,
    #[serde(default)]
    run_latency_ms: Option<u64>,
    /// Milliseconds after which a served managed certificate becomes ACTIVE by itself; 0: only
    /// the `:provision` hook provisions (tests that watch a job wait for ACTIVE use this).
    #[serde(default)]
    certificate_provision_ms: Option<u64>,
    /// Scripted faults appended to the queue.
    #[serde(default)]
    queue: Vec<Fault>,
    /// Empty the queue first.
    #[serde(default)]
    clear_queue: bool,
}

async fn set_faults(
    State(sb): State<Arc<Sandbox>>,
    axum::Json(update): axum::Json<FaultsUpdate>,
) -> axum::Json<FaultsView> {
    {
        let mut rt = sb.runtime.lock().expect("sandbox lock");
        if let Some(f) = update.faults {
            rt.config.faults = f;
        }
        if let Some(ms) = update.operation_latency_ms {
            rt.config.operation_latency = Duration::from_millis(ms);
        }
        if let Some(ms) = update.run_latency_ms {
            rt.config.run_latency = Duration::from_millis(ms);
        }
        if let Some(ms) = update.certificate_provision_ms {
            rt.config.certificate_provision_after = (ms > 0).then(|| Duration::from_millis(ms));
        }
        if update.clear_queue {
            rt.queue.clear();
        }
        rt.queue.extend(update.queue);
    }
    get_faults(State(sb)).await
}

// --- small helpers shared by compute.rs and run.rs ---------------------------------------------

pub(crate) fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// RFC 3339 timestamp of a Unix time in milliseconds.
pub(crate) fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

/// A numeric resource id, as Compute's `id` (uint64 as a string).
pub(crate) fn random_id() -> String {
    rand::rng()
        .random_range(1_000_000_000_000_000u64..u64::MAX / 2)
        .to_string()
}

/// A deterministic 12-digit project number for a project id.
pub(crate) fn project_number(project: &str) -> String {
    let h = sha256_hex(project);
    let n = u64::from_str_radix(&h[..12], 16).unwrap_or(1) % 900_000_000_000 + 100_000_000_000;
    n.to_string()
}

pub(crate) fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// RFC 7386 JSON merge patch: objects merge, `null` removes, anything else replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(t), Some(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

// Millisecond (de)serialisation of durations for the admin hook's JSON.
mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

mod opt_millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_follows_rfc7386() {
        let mut t = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2]});
        merge_patch(&mut t, &json!({"a": null, "b": {"c": 5}, "e": [3]}));
        assert_eq!(t, json!({"b": {"c": 5, "d": 3}, "e": [3]}));
    }
}

/// Path parameters of the admin certificate hook.
#[derive(Deserialize)]
pub(crate) struct CertPath {
    pub project: String,
    pub name: String,
}

pub(crate) type CertPathExtract = Path<CertPath>;
