//! Shared set-up of the conformance suite (`conformance_*.rs`): raw calls to the sandbox that
//! keep the status, content type and body, assertions on Google's error shapes, and the
//! resources most rules need, created through the API and waited for.

use crate::cloud_support::{TestCloud, fast_config, start, token};
use reqwest::Method;
use serde_json::{Value, json};
use switchyard::cloud::sandbox::SandboxConfig;

pub use crate::cloud_support::{P, R};

/// Where the sandbox's links point, for the project of most tests.
pub const WWW: &str = "https://www.googleapis.com/compute/v1/projects/acme";

/// `/compute/v1/projects/acme/global/{rest}`.
pub fn g(rest: &str) -> String {
    format!("/compute/v1/projects/{P}/global/{rest}")
}

/// `/compute/v1/projects/acme/regions/us-central1/{rest}`.
pub fn reg(rest: &str) -> String {
    format!("/compute/v1/projects/{P}/regions/{R}/{rest}")
}

/// `/v2/projects/acme/locations/us-central1/{rest}`.
pub fn run(rest: &str) -> String {
    format!("/v2/projects/{P}/locations/{R}/{rest}")
}

/// A full link in the sandbox's answers: `{WWW}/{rest}`.
pub fn link(rest: &str) -> String {
    format!("{WWW}/{rest}")
}

pub async fn cloud() -> TestCloud {
    start(fast_config()).await
}

/// Operations that take long enough to look at a resource while one runs.
pub async fn slow_cloud() -> TestCloud {
    start(SandboxConfig {
        operation_latency: std::time::Duration::from_millis(1500),
        ..fast_config()
    })
    .await
}

/// One answer, whatever its type.
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub text: String,
    pub json: Value,
}

impl Reply {
    /// Compute's `errors[0].reason`, or Cloud Run's `status`.
    pub fn reason(&self) -> &str {
        self.json["error"]["errors"][0]["reason"]
            .as_str()
            .or(self.json["error"]["status"].as_str())
            .unwrap_or_default()
    }

    pub fn message(&self) -> &str {
        self.json["error"]["message"].as_str().unwrap_or_default()
    }

    /// Asserts an error answer: its status, reason and exact message, and (Compute) that the
    /// one `errors[]` entry repeats the message in domain `global`.
    #[track_caller]
    pub fn is_error(&self, status: u16, reason: &str, message: &str) -> &Reply {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.reason(), reason, "{}", self.text);
        assert_eq!(self.message(), message, "{}", self.text);
        assert_eq!(self.json["error"]["code"], status, "{}", self.text);
        if let Some(errors) = self.json["error"]["errors"].as_array() {
            assert_eq!(errors.len(), 1, "{}", self.text);
            assert_eq!(errors[0]["message"], message, "{}", self.text);
            assert_eq!(errors[0]["domain"], "global", "{}", self.text);
        }
        self
    }

    /// Asserts Google's HTML 404 page for `path`.
    #[track_caller]
    pub fn is_html_404(&self, path: &str) {
        assert_eq!(self.status, 404, "{}", self.text);
        assert_eq!(self.content_type, "text/html; charset=UTF-8");
        assert!(
            self.text
                .contains("<title>Error 404 (Not Found)!!1</title>")
        );
        assert!(
            self.text.contains(&format!(
                "The requested URL <code>{path}</code> was not found on this server."
            )),
            "{}",
            self.text
        );
    }

    /// The fields of the `google.rpc.BadRequest` detail, in order.
    pub fn violated_fields(&self) -> Vec<String> {
        assert_eq!(self.json["error"]["status"], "INVALID_ARGUMENT");
        let detail = &self.json["error"]["details"][0];
        assert_eq!(detail["@type"], "type.googleapis.com/google.rpc.BadRequest");
        detail["fieldViolations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["field"].as_str().unwrap().to_string())
            .collect()
    }

    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.text);
        &self.json
    }
}

/// A call with a raw body (sent as JSON), or none.
pub async fn send(cloud: &TestCloud, method: Method, path: &str, body: Option<&str>) -> Reply {
    let url = format!("{}{path}", cloud.handle.base_url());
    let mut req = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token(cloud).await);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = resp.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        content_type,
        text,
        json,
    }
}

pub async fn call(cloud: &TestCloud, method: Method, path: &str, body: Option<Value>) -> Reply {
    let text = body.map(|b| b.to_string());
    send(cloud, method, path, text.as_deref()).await
}

pub async fn get(cloud: &TestCloud, path: &str) -> Reply {
    call(cloud, Method::GET, path, None).await
}

pub async fn post(cloud: &TestCloud, path: &str, body: Value) -> Reply {
    call(cloud, Method::POST, path, Some(body)).await
}

pub async fn delete(cloud: &TestCloud, path: &str) -> Reply {
    call(cloud, Method::DELETE, path, None).await
}

/// Waits for a Compute operation (its `wait` in its own collection) until DONE.
pub async fn wait(cloud: &TestCloud, op: &Value) -> Value {
    let path = op["selfLink"]
        .as_str()
        .unwrap()
        .trim_start_matches("https://www.googleapis.com");
    loop {
        let done = call(cloud, Method::POST, &format!("{path}/wait"), None).await;
        let v = done.ok().clone();
        if v["status"] == "DONE" {
            return v;
        }
    }
}

/// A mutation that must succeed, waited for; returns the finished operation.
pub async fn done(cloud: &TestCloud, method: Method, path: &str, body: Option<Value>) -> Value {
    let op = call(cloud, method, path, body).await;
    let op = op.ok().clone();
    let finished = wait(cloud, &op).await;
    assert!(finished.get("error").is_none(), "{finished}");
    finished
}

pub async fn create(cloud: &TestCloud, path: &str, body: Value) -> Value {
    done(cloud, Method::POST, path, Some(body)).await
}

pub async fn serverless_neg(cloud: &TestCloud, name: &str) {
    create(
        cloud,
        &reg("networkEndpointGroups"),
        json!({"name": name, "networkEndpointType": "SERVERLESS", "cloudRun": {"service": "app"}}),
    )
    .await;
}

pub async fn internet_neg(cloud: &TestCloud, name: &str) {
    create(
        cloud,
        &g("networkEndpointGroups"),
        json!({"name": name, "networkEndpointType": "INTERNET_FQDN_PORT", "defaultPort": 443}),
    )
    .await;
}

pub fn serverless_group(name: &str) -> String {
    link(&format!("regions/{R}/networkEndpointGroups/{name}"))
}

/// A global external (EXTERNAL_MANAGED) backend service on a serverless NEG of its own.
pub async fn backend_service(cloud: &TestCloud, name: &str) -> String {
    let neg = format!("{name}-neg");
    serverless_neg(cloud, &neg).await;
    create(
        cloud,
        &g("backendServices"),
        json!({"name": name, "loadBalancingScheme": "EXTERNAL_MANAGED", "protocol": "HTTPS",
            "backends": [{"group": serverless_group(&neg)}]}),
    )
    .await;
    link(&format!("global/backendServices/{name}"))
}

/// A backend service without backends, of any scheme.
pub async fn bare_backend_service(cloud: &TestCloud, name: &str, scheme: &str) -> String {
    create(
        cloud,
        &g("backendServices"),
        json!({"name": name, "loadBalancingScheme": scheme}),
    )
    .await;
    link(&format!("global/backendServices/{name}"))
}

pub async fn url_map(cloud: &TestCloud, name: &str, service: &str) -> String {
    create(
        cloud,
        &g("urlMaps"),
        json!({"name": name, "defaultService": service}),
    )
    .await;
    link(&format!("global/urlMaps/{name}"))
}

pub async fn certificate(cloud: &TestCloud, name: &str) -> String {
    create(
        cloud,
        &g("sslCertificates"),
        json!({"name": name, "type": "MANAGED", "managed": {"domains": ["shop.example.com"]}}),
    )
    .await;
    link(&format!("global/sslCertificates/{name}"))
}

pub async fn https_proxy(cloud: &TestCloud, name: &str, map: &str, cert: &str) -> String {
    create(
        cloud,
        &g("targetHttpsProxies"),
        json!({"name": name, "urlMap": map, "sslCertificates": [cert]}),
    )
    .await;
    link(&format!("global/targetHttpsProxies/{name}"))
}

pub async fn http_proxy(cloud: &TestCloud, name: &str, map: &str) -> String {
    create(
        cloud,
        &g("targetHttpProxies"),
        json!({"name": name, "urlMap": map}),
    )
    .await;
    link(&format!("global/targetHttpProxies/{name}"))
}

pub async fn address(cloud: &TestCloud, name: &str) -> String {
    create(cloud, &g("addresses"), json!({"name": name})).await;
    link(&format!("global/addresses/{name}"))
}

pub async fn forwarding_rule(cloud: &TestCloud, name: &str, target: &str, ip: Option<&str>) {
    let mut body =
        json!({"name": name, "loadBalancingScheme": "EXTERNAL_MANAGED", "target": target});
    if let Some(ip) = ip {
        body["IPAddress"] = json!(ip);
    }
    create(cloud, &g("forwardingRules"), body).await;
}

/// The whole HTTPS chain of a load balancer: backend service, URL map, certificate, proxy,
/// address and forwarding rule, named after `prefix`.
pub async fn load_balancer(cloud: &TestCloud, prefix: &str) {
    let bs = backend_service(cloud, &format!("{prefix}-bs")).await;
    let map = url_map(cloud, &format!("{prefix}-map"), &bs).await;
    let cert = certificate(cloud, &format!("{prefix}-cert")).await;
    let proxy = https_proxy(cloud, &format!("{prefix}-proxy"), &map, &cert).await;
    let ip = address(cloud, &format!("{prefix}-ip")).await;
    forwarding_rule(cloud, &format!("{prefix}-fr"), &proxy, Some(&ip)).await;
}
