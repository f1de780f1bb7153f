//! What the deployments tests add to the shared test helpers (`tests/common`): htmx posts,
//! JSON calls with `If-Match`, the seed fixtures.

pub use crate::common::{Client, spawn_app};
use serde_json::Value;

pub trait ClientExt {
    /// Status and body of a GET.
    async fn text(&mut self, path: &str) -> (u16, String);
    /// A form post as htmx sends it (`HX-Request: true`).
    async fn hx_post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response;
    /// A JSON call, with an optional `If-Match`; the body read as JSON (or as a string).
    async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> (u16, Value);
    /// Status and JSON body of a GET.
    async fn json(&self, path: &str) -> (u16, Value);
}

async fn read(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

impl ClientExt for Client {
    async fn text(&mut self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn hx_post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.request(reqwest::Method::POST, path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("hx-request", "true")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .unwrap()
    }

    async fn send_json(
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
        read(b.send().await.unwrap()).await
    }

    async fn json(&self, path: &str) -> (u16, Value) {
        read(
            self.request(reqwest::Method::GET, path)
                .send()
                .await
                .unwrap(),
        )
        .await
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
