//! Switchyard: a web panel that puts Google Cloud's global load balancer in front of Cloud Run.

pub mod api;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod cloud;
pub mod config;
pub mod db;
pub mod deploy;
pub mod domain;
pub mod drift;
pub mod error;
pub mod http;
pub mod jobs;
pub mod memory;
pub mod telemetry;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Everything a running panel shares between requests and background work.
#[derive(Clone)]
pub struct AppState {
    pub db: db::Db,
    /// Shared, so cloning the state for each request copies no strings.
    pub settings: Arc<config::Settings>,
    /// Setup link and sign-in throttle.
    pub auth: Arc<auth::AuthState>,
    /// Every route with its access rule (the shell builds its navigation from it).
    pub routes: Arc<http::RouteTable>,
    /// The Google Cloud client (talking to the built-in sandbox with `--gcp sandbox`).
    pub cloud: Arc<cloud::Client>,
    /// Plans and runs apply/destroy jobs.
    pub deployer: Arc<deploy::Deployer>,
    /// What dashboard rows derive from their specs, by version.
    pub spec_facts: Arc<web::state::FactsMemo>,
    /// Pages the whole team reloads, kept while nothing they show changes.
    pub pages: Arc<web::page_cache::Pages>,
    /// The built-in sandbox in `--gcp sandbox` mode (the failover drill sets its traffic).
    pub sandbox: Option<Arc<cloud::sandbox::Sandbox>>,
}

/// A panel ready to serve: database migrated, router built, listener bound.
pub struct App {
    pub state: AppState,
    /// `http://ADDR/setup?token=...` when the database has no users yet (printed by [`serve`]).
    pub setup_url: Option<String>,
    pub addr: SocketAddr,
    listener: TcpListener,
    router: axum::Router,
    /// The built-in sandbox cloud, kept alive as long as the panel serves.
    sandbox: Option<cloud::sandbox::SandboxHandle>,
}

impl App {
    /// Opens (creating and migrating) the database and builds the app on `listener`.
    pub async fn build(settings: config::Settings, listener: TcpListener) -> anyhow::Result<App> {
        let db = db::connect(&settings.database).await?;
        db::migrate(&db).await?;
        let (cloud, sandbox) = connect_cloud(&settings, &db).await?;
        let executor = Arc::new(
            jobs::cloud_executor::CloudExecutor::new(cloud.clone()).with_certificate_poll(
                jobs::certificate_wait::CertificatePoll::from_millis(settings.certificate_poll_ms),
            ),
        );
        let runner = Arc::new(jobs::Runner::new(
            db.clone(),
            executor,
            settings.engine.runner_options(),
        ));
        // Jobs a previous process left running continue: operations are re-polled, pending
        // mutations re-sent with their own requestIds.
        let recovered = runner.recover().await?;
        if !recovered.is_empty() {
            tracing::info!(jobs = ?recovered, "continuing jobs left running by the previous process");
        }
        let reader = Arc::new(deploy::CloudLiveReader::new(cloud.clone()));
        let deployer = Arc::new(
            deploy::Deployer::new(db.clone(), reader, runner).with_plan_ttl(settings.plan_ttl),
        );
        let (router, table) = routes().into_parts();
        let state = AppState {
            db,
            settings: Arc::new(settings),
            auth: Arc::new(auth::AuthState::default()),
            routes: Arc::new(table),
            cloud,
            deployer,
            spec_facts: Arc::default(),
            pages: Arc::default(),
            sandbox: sandbox.as_ref().map(|h| h.sandbox.clone()),
        };
        let addr = listener.local_addr()?;
        let setup_url = if db::users::count(&state.db).await? == 0 {
            let token = state.auth.arm_setup_token();
            Some(format!("http://{addr}/setup?token={token}"))
        } else {
            None
        };
        let router = http::app(state.clone(), router, web::error_page);
        Ok(App {
            state,
            setup_url,
            addr,
            listener,
            router,
            sandbox,
        })
    }

    /// Serves until `shutdown` resolves, then drains open requests.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.addr, gcp = ?self.state.settings.gcp, "switchyard listening");
        let cleanup = tokio::spawn(delete_expired_sessions(self.state.db.clone()));
        let trim = tokio::spawn(memory::trim_when_quiet(std::time::Duration::from_secs(1)));
        let drift = drift::spawn_periodic(
            &self.state.db,
            self.state.deployer.reader().clone(),
            self.state.settings.drift_interval,
        );
        let res = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        cleanup.abort();
        trim.abort();
        for d in drift {
            d.abort();
        }
        if let Some(sandbox) = self.sandbox {
            sandbox.stop().await;
        }
        self.state.db.close().await;
        tracing::info!("switchyard stopped");
        Ok(res?)
    }
}

/// Every route the panel serves: the plumbing's, the pages' and the JSON API's.
pub fn routes() -> http::Routes {
    http::routes()
        .merge(web::routes(http::Routes::new()))
        .merge(api::routes(http::Routes::new()))
}

/// The table of every route the app serves (method, path pattern, access).
pub fn route_table() -> http::RouteTable {
    routes().table()
}

/// The client the panel uses, per `--gcp`: in sandbox mode the sandbox is started on a loopback
/// port (state in `db`) and the client reaches it over HTTP with gcp_auth and the sandbox's
/// generated service-account key; in google mode the configured endpoints and Application
/// Default Credentials, resolved on first use. The returned handle keeps the sandbox running.
async fn connect_cloud(
    settings: &config::Settings,
    db: &db::Db,
) -> anyhow::Result<(Arc<cloud::Client>, Option<cloud::sandbox::SandboxHandle>)> {
    match settings.gcp {
        config::GcpMode::Google => {
            let mut config =
                cloud::ClientConfig::new(&settings.compute_endpoint, &settings.run_endpoint)
                    .with_resourcemanager(&settings.resourcemanager_endpoint)
                    .with_certificatemanager(&settings.certificatemanager_endpoint)
                    .with_monitoring(&settings.monitoring_endpoint);
            config.retry = settings.engine.retry_policy();
            let tokens = Arc::new(cloud::GcpAuthTokens::application_default());
            Ok((Arc::new(cloud::Client::new(config, tokens)?), None))
        }
        config::GcpMode::Sandbox => {
            let config = cloud::sandbox::SandboxArgs::from_env()?.to_config();
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let handle = cloud::sandbox::spawn(db.clone(), config, listener).await?;
            let client = handle.client(settings.engine.retry_policy())?;
            Ok((Arc::new(client), Some(handle)))
        }
    }
}

async fn delete_expired_sessions(db: db::Db) {
    use tower_sessions::session_store::ExpiredDeletion;
    let store = db::sessions::store(&db);
    let _ = store
        .continuously_delete_expired(std::time::Duration::from_secs(3600))
        .await;
}

/// Serves the panel on a listener the caller bound (tests bind port 0) until `shutdown` resolves.
/// With no users yet, prints the one-time setup link first.
pub async fn serve(
    settings: config::Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = App::build(settings, listener).await?;
    if let Some(url) = &app.setup_url {
        println!("No users yet. Open this one-time link to create the first admin:\n  {url}");
    }
    app.run(shutdown).await
}
