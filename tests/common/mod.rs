//! Shared by the `http` and `browser` test binaries: `spawn_app()` starts a real server on
//! 127.0.0.1:0 with its own temporary SQLite file; helpers create users and tokens and sign in.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use switchyard::auth::Role;
use switchyard::config::{GcpMode, Settings};

/// The password every helper-created user gets.
pub const PASSWORD: &str = "correct horse battery";

/// A running panel. Dropping it stops the server (and deletes the database with the last copy
/// of its temp dir).
pub struct TestApp {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub settings: Settings,
    /// The one-time setup link printed on a start with no users.
    pub setup_url: Option<String>,
    pub state: switchyard::AppState,
    dir: Arc<tempfile::TempDir>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Settings for a test server on `db_path` (sandbox mode, port 0).
pub fn test_settings(db_path: &std::path::Path) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: format!("sqlite://{}", db_path.display()),
        gcp: GcpMode::Sandbox,
        compute_endpoint: "https://compute.googleapis.com/compute/v1/".into(),
        run_endpoint: "https://run.googleapis.com/".into(),
        resourcemanager_endpoint: "https://cloudresourcemanager.googleapis.com/".into(),
        certificatemanager_endpoint: "https://certificatemanager.googleapis.com/".into(),
        monitoring_endpoint: "https://monitoring.googleapis.com/".into(),
        drift_interval: 0,
        plan_ttl: switchyard::deploy::DEFAULT_PLAN_TTL_SECS,
        certificate_poll_ms: 100,
        trusted_proxies: Vec::new(),
        // Millisecond retry waits: the tests that inject faults stay quick, with the budgets
        // (minutes of rate limits) of the defaults.
        engine: switchyard::config::EngineSettings::fast(),
    }
}

/// Starts a panel on a fresh database.
pub async fn spawn_app() -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let settings = test_settings(&dir.path().join("switchyard.db"));
    start(settings, dir).await
}

/// Starts a panel with these settings (e.g. `gcp: Google`) on a fresh database file.
pub async fn spawn_app_with(f: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut settings = test_settings(&dir.path().join("switchyard.db"));
    f(&mut settings);
    start(settings, dir).await
}

async fn start(settings: Settings, dir: Arc<tempfile::TempDir>) -> TestApp {
    switchyard::telemetry::init_for_tests();
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .expect("bind 127.0.0.1:0");
    let app = switchyard::App::build(settings.clone(), listener)
        .await
        .expect("build the app");
    let addr = app.addr;
    let setup_url = app.setup_url.clone();
    let state = app.state.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async {
        let _ = rx.await;
    }));
    let t = TestApp {
        addr,
        base: format!("http://{addr}"),
        settings,
        setup_url,
        state,
        dir,
        stop: Some(tx),
        server: Some(server),
    };
    t.wait_healthy().await;
    t
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn wait_healthy(&self) {
        let c = reqwest::Client::new();
        for _ in 0..100 {
            if let Ok(r) = c.get(self.url("/healthz")).send().await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the server did not become healthy");
    }

    /// Stops the server and waits for it to exit cleanly.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            h.await
                .expect("server task")
                .expect("server exited cleanly");
        }
    }

    /// Stops this server and starts a new one on the same database file (on a new port).
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let settings = self.settings.clone();
        let dir = self.dir.clone();
        // Drop the old app (and its job runner) before the new one starts, as a real restart
        // would: two runners must never work on the same jobs.
        drop(self);
        start(settings, dir).await
    }

    /// Creates an enabled user with [`PASSWORD`].
    pub async fn create_user(&self, name: &str, role: Role) -> i64 {
        let hash = switchyard::auth::hash_password(PASSWORD.into())
            .await
            .unwrap();
        switchyard::db::users::create(&self.state.db, name, role, &hash)
            .await
            .unwrap()
            .expect("user name free")
            .id
    }

    /// Creates an API token for that user and returns the secret.
    pub async fn create_token(&self, user_id: i64) -> String {
        let secret = switchyard::auth::random_secret(switchyard::auth::TOKEN_PREFIX);
        switchyard::db::tokens::create(
            &self.state.db,
            user_id,
            "test",
            &switchyard::auth::token_hash(&secret),
        )
        .await
        .unwrap();
        secret
    }

    pub async fn disable(&self, user_id: i64) {
        switchyard::db::users::set_disabled(&self.state.db, user_id, true)
            .await
            .unwrap();
    }

    /// A client with no identity.
    pub fn anonymous(&self) -> Client {
        Client::new(&self.base)
    }

    /// A client signed in through the sign-in form.
    pub async fn sign_in(&self, name: &str, password: &str) -> Client {
        let mut c = self.anonymous();
        let r = c
            .post_form("/signin", &[("name", name), ("password", password)])
            .await;
        assert_eq!(r.status(), 303, "sign-in of {name} should redirect");
        assert!(c.cookie.is_some(), "sign-in should set the session cookie");
        c
    }

    /// Creates a user with that role and signs it in.
    pub async fn user_client(&self, name: &str, role: Role) -> Client {
        self.create_user(name, role).await;
        self.sign_in(name, PASSWORD).await
    }

    /// A client sending `Authorization: Bearer` with a new token of a new user with that role.
    pub async fn token_client(&self, name: &str, role: Role) -> Client {
        let id = self.create_user(name, role).await;
        let token = self.create_token(id).await;
        self.anonymous().with_token(&token)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// An HTTP client that never follows redirects and keeps the session cookie by hand.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    /// `switchyard_session=...`
    pub cookie: Option<String>,
    pub token: Option<String>,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_string(),
            cookie: None,
            token: None,
        }
    }

    pub fn with_token(mut self, token: &str) -> Client {
        self.token = Some(token.to_string());
        self
    }

    /// Points the client (and its cookie) at another server, e.g. after a restart.
    pub fn at(mut self, base: &str) -> Client {
        self.base = base.to_string();
        self
    }

    /// A request with the cookie and token attached.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut b = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(c) = &self.cookie {
            b = b.header("cookie", c);
        }
        if let Some(t) = &self.token {
            b = b.bearer_auth(t);
        }
        b
    }

    fn remember(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all("set-cookie") {
            let s = v.to_str().unwrap_or_default();
            if let Some(pair) = s.split(';').next()
                && pair.starts_with("switchyard_session=")
            {
                let expired = s.contains("Max-Age=0") || pair == "switchyard_session=";
                self.cookie = if expired {
                    None
                } else {
                    Some(pair.to_string())
                };
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> reqwest::Response {
        let r = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .unwrap();
        self.remember(&r);
        r
    }

    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let r = self
            .request(reqwest::Method::POST, path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .unwrap();
        self.remember(&r);
        r
    }

    pub async fn post_json(&mut self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        let r = self
            .request(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .unwrap();
        self.remember(&r);
        r
    }

    /// True when the response sends an anonymous user to the sign-in page.
    pub fn is_signin_redirect(r: &reqwest::Response) -> bool {
        r.status().is_redirection()
            && r.headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .is_some_and(|l| l.starts_with("/signin?next="))
    }
}

/// Deploys the hello image as service `id` of `project` in `region` and waits until it is Ready.
pub async fn deploy_hello(
    client: &switchyard::cloud::Client,
    project: &str,
    region: &str,
    id: &str,
) {
    let op = client
        .run_services(project, region)
        .create(
            id,
            &switchyard::cloud::types::RunService::with_image(
                "us-docker.pkg.dev/cloudrun/container/hello",
            ),
        )
        .await
        .unwrap();
    client.wait(&op.reference()).await.unwrap();
}
