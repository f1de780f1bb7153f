//! URL maps and outcome readers shared by the URL-map tests and the planner's.

use serde_json::{Value, json};

use super::{Outcome, UrlMap, check};

pub(crate) fn map(v: Value) -> UrlMap {
    serde_json::from_value(v).unwrap()
}

pub(crate) fn field_of(m: &UrlMap) -> String {
    check(m).unwrap_err().field
}

/// The seed-002 shape: default to hello, /hello2 and below to hello2 with the prefix rewritten.
pub(crate) fn seed2() -> UrlMap {
    map(json!({
        "name": "lb-urlmap",
        "defaultService": "global/backendServices/hello",
        "hostRules": [{"hosts": ["*"], "pathMatcher": "all"}],
        "pathMatchers": [{
            "name": "all",
            "defaultService": "global/backendServices/hello",
            "pathRules": [{
                "paths": ["/hello2", "/hello2/*"],
                "routeAction": {
                    "weightedBackendServices": [{"backendService": "global/backendServices/hello2", "weight": 100}],
                    "urlRewrite": {"pathPrefixRewrite": "/"}
                }
            }]
        }]
    }))
}

pub(crate) fn route(o: Outcome) -> (Vec<String>, String, String) {
    match o {
        Outcome::Route {
            services,
            path,
            host,
            ..
        } => (services.into_iter().map(|(s, _)| s).collect(), path, host),
        other => panic!("expected a route, got {other:?}"),
    }
}

pub(crate) fn rt(services: &[&str], path: &str, host: &str) -> (Vec<String>, String, String) {
    (
        services.iter().map(|s| s.to_string()).collect(),
        path.into(),
        host.into(),
    )
}
