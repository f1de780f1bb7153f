//! Shared set-up for the cloud tests: a sandbox on port 0 with its own SQLite file, and a client
//! that reaches it over HTTP through gcp_auth with the sandbox's generated key.

use serde_json::Value;
use std::time::Duration;
use switchyard::cloud::sandbox::{self, SandboxConfig, SandboxHandle};
use switchyard::cloud::{Client, RetryPolicy};

pub struct TestCloud {
    pub handle: SandboxHandle,
    pub client: Client,
    pub dir: tempfile::TempDir,
    token: tokio::sync::OnceCell<String>,
}

/// Short latencies so tests still see RUNNING → DONE but finish quickly.
pub fn fast_config() -> SandboxConfig {
    SandboxConfig {
        operation_latency: Duration::from_millis(60),
        run_latency: Duration::from_millis(150),
        certificate_provision_after: None,
        ..SandboxConfig::default()
    }
}

pub async fn start(config: SandboxConfig) -> TestCloud {
    let dir = tempfile::tempdir().unwrap();
    start_in(dir, config).await
}

/// Starts (or restarts) a sandbox on the database inside `dir`.
pub async fn start_in(dir: tempfile::TempDir, config: SandboxConfig) -> TestCloud {
    let url = format!("sqlite://{}", dir.path().join("cloud.db").display());
    let db = switchyard::db::connect(&url).await.unwrap();
    switchyard::db::migrate(&db).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = sandbox::spawn(db.clone(), config, listener).await.unwrap();
    let client = handle.client(RetryPolicy::fast()).unwrap();
    TestCloud {
        handle,
        client,
        dir,
        token: tokio::sync::OnceCell::new(),
    }
}

pub fn rid() -> uuid::Uuid {
    uuid::Uuid::new_v4()
}

pub const P: &str = "acme";
pub const R: &str = "us-central1";

/// An access token the sandbox issued, through the same gcp_auth flow as the client's.
pub async fn token(cloud: &TestCloud) -> &str {
    cloud
        .token
        .get_or_init(|| async {
            let key = cloud.handle.sandbox.service_account_key_json();
            let account = gcp_auth::CustomServiceAccount::from_json(&key).unwrap();
            gcp_auth::TokenProvider::token(
                &account,
                &["https://www.googleapis.com/auth/cloud-platform"],
            )
            .await
            .unwrap()
            .as_str()
            .to_string()
        })
        .await
}

/// A raw call with a token the sandbox issued (through the same gcp_auth flow), for checking
/// exact status codes and error shapes.
pub async fn raw(
    cloud: &TestCloud,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let token = token(cloud).await;
    let url = format!("{}{path}", cloud.handle.base_url());
    let mut req = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub use crate::common::deploy_hello;
