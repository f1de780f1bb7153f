//! The routing spec, version 1 (CONTRACT.md §2): one JSON document per load balancer.
//!
//! These types only describe the shape. Parsing with serde rejects unknown fields so a typo in a
//! script is an error rather than a silently ignored setting; the semantic rules live in the
//! validation module.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub name: String,
    pub project: String,
    pub frontend: Frontend,
    #[serde(default)]
    pub backends: Vec<Backend>,
    pub routing: Routing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Http,
    Https,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IpKind {
    Static,
    Ephemeral,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frontend {
    pub protocol: Protocol,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default = "default_ip")]
    pub ip: IpKind,
    #[serde(default)]
    pub http_redirect: bool,
}

fn default_ip() -> IpKind {
    IpKind::Static
}

// serde cannot deny unknown fields next to `flatten`; validation reports them instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backend {
    pub name: String,
    #[serde(flatten)]
    pub kind: BackendKind,
    #[serde(default)]
    pub cdn: bool,
    #[serde(default)]
    pub outlier_detection: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum BackendKind {
    /// A Cloud Run service in the load balancer's project: one serverless NEG per region.
    Serverless {
        service: String,
        regions: Vec<String>,
    },
    /// Any HTTPS endpoint by FQDN and port, with an optional Host override.
    Internet {
        fqdn: String,
        #[serde(default = "default_port")]
        port: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host_header: Option<String>,
    },
}

fn default_port() -> u16 {
    443
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    pub default: Target,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// Where matched traffic goes: one backend, or a weighted split across several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Target {
    Backend { backend: String },
    Split { split: Vec<WeightedBackend> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightedBackend {
    pub backend: String,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    #[serde(default = "any_host")]
    pub hosts: Vec<String>,
    pub paths: Vec<String>,
    #[serde(flatten)]
    pub target: Target,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_rewrite: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_rewrite: Option<String>,
}

fn any_host() -> Vec<String> {
    vec!["*".to_string()]
}

impl Spec {
    pub fn backend(&self, name: &str) -> Option<&Backend> {
        self.backends.iter().find(|b| b.name == name)
    }
}

impl Target {
    /// The backends this target sends traffic to, with their weights (a single backend is 100 %).
    pub fn weighted(&self) -> Vec<(&str, u32)> {
        match self {
            Target::Backend { backend } => vec![(backend.as_str(), 1)],
            Target::Split { split } => split
                .iter()
                .map(|w| (w.backend.as_str(), w.weight))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_example_round_trips() {
        let json = r#"{
          "name": "shop", "project": "acme-edge",
          "frontend": { "protocol": "https", "domains": ["shop.example.com"], "ip": "static", "http_redirect": true },
          "backends": [
            { "name": "web", "type": "serverless", "service": "my-app",
              "regions": ["us-central1", "europe-west1", "asia-east1"], "cdn": false, "outlier_detection": true },
            { "name": "hello2", "type": "internet", "fqdn": "hello2-3qx7k2dz6a-uc.a.run.app",
              "port": 443, "host_header": "hello2-3qx7k2dz6a-uc.a.run.app" }
          ],
          "routing": {
            "default": { "backend": "web" },
            "rules": [ { "hosts": ["*"], "paths": ["/hello2", "/hello2/*"], "backend": "hello2", "prefix_rewrite": "/" } ]
          }
        }"#;
        let spec: Spec = serde_json::from_str(json).unwrap();
        assert_eq!(spec.backends.len(), 2);
        assert!(matches!(
            spec.backends[1].kind,
            BackendKind::Internet { port: 443, .. }
        ));
        assert_eq!(spec.routing.rules[0].prefix_rewrite.as_deref(), Some("/"));
        let again: Spec = serde_json::from_value(serde_json::to_value(&spec).unwrap()).unwrap();
        assert_eq!(spec, again);
    }
}
