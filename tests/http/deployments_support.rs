//! A test server and clients for the deployments tests: a real server on 127.0.0.1:0 with its
//! own SQLite file, users created straight in the database, sessions from the sign-in form.

use serde_json::Value;
use std::time::Duration;
use switchyard::auth::Role;
use switchyard::config::{GcpMode, Settings};

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub base: String,
    pub state: switchyard::AppState,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: format!("sqlite://{}", dir.path().join("t.db").display()),
        gcp: GcpMode::Sandbox,
        compute_endpoint: "https://compute.googleapis.com/compute/v1/".into(),
        run_endpoint: "https://run.googleapis.com/".into(),
    };
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .unwrap();
    let app = switchyard::App::build(settings, listener).await.unwrap();
    let base = format!("http://{}", app.addr);
    let state = app.state.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run(async {
        let _ = rx.await;
    }));
    let c = reqwest::Client::new();
    for _ in 0..100 {
        if c.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    TestApp {
        base,
        state,
        _dir: dir,
        stop: Some(tx),
    }
}

impl TestApp {
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

    /// A client signed in through the sign-in form.
    pub async fn session(&self, name: &str, role: Role) -> Client {
        self.create_user(name, role).await;
        let mut c = Client::new(&self.base);
        let r = c
            .post_form("/signin", &[("name", name), ("password", PASSWORD)])
            .await;
        assert_eq!(r.status(), 303, "sign-in of {name}");
        assert!(c.cookie.is_some());
        c
    }

    /// A client with an API token of a new user.
    pub async fn token(&self, name: &str, role: Role) -> Client {
        let id = self.create_user(name, role).await;
        let secret = switchyard::auth::random_secret(switchyard::auth::TOKEN_PREFIX);
        switchyard::db::tokens::create(
            &self.state.db,
            id,
            "test",
            &switchyard::auth::token_hash(&secret),
        )
        .await
        .unwrap();
        let mut c = Client::new(&self.base);
        c.token = Some(secret);
        c
    }
}

#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
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
                self.cookie = Some(pair.to_string());
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

    pub async fn text(&mut self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        (r.status().as_u16(), r.text().await.unwrap())
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

    /// A form post as htmx sends it (`HX-Request: true`).
    pub async fn hx_post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.request(reqwest::Method::POST, path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("hx-request", "true")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .unwrap()
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> (u16, Value) {
        let mut b = self.request(method, path).json(body);
        if let Some(v) = if_match {
            b = b.header("if-match", v);
        }
        let r = b.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn json(&self, path: &str) -> (u16, Value) {
        let r = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

pub fn seed(name: &str) -> Value {
    let path = format!(
        "{}/tests/data/seeds/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The `Location` of a redirect.
pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}
