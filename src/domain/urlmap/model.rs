//! The typed Compute v1 `UrlMap`: the subset Switchyard writes, with whatever else a client sent
//! kept in `extra`, and the questions asked of its backend-service references.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Fields a client sent that this model does not name; kept verbatim.
pub type Extra = Map<String, Value>;

/// Compute sends `null` for an empty list now and then; treat it as empty rather than failing.
fn vec_or_null<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UrlMap {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_route_action: Option<HttpRouteAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_url_redirect: Option<HttpRedirectAction>,
    #[serde(
        default,
        deserialize_with = "vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub host_rules: Vec<HostRule>,
    #[serde(
        default,
        deserialize_with = "vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub path_matchers: Vec<PathMatcher>,
    #[serde(
        default,
        deserialize_with = "vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tests: Vec<UrlMapTest>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteAction {
    #[serde(
        default,
        deserialize_with = "vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub weighted_backend_services: Vec<WeightedBackendService>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_rewrite: Option<UrlRewrite>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightedBackendService {
    #[serde(default)]
    pub backend_service: String,
    /// Signed and wide so that an out-of-range value reaches `check` and gets Compute's message
    /// instead of a serde error.
    #[serde(default)]
    pub weight: i64,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UrlRewrite {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix_rewrite: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_rewrite: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_template_rewrite: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRedirectAction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https_redirect: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_response_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strip_query: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_redirect: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_redirect: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_redirect: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostRule {
    #[serde(default, deserialize_with = "vec_or_null")]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub path_matcher: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PathMatcher {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_route_action: Option<HttpRouteAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_url_redirect: Option<HttpRedirectAction>,
    #[serde(
        default,
        deserialize_with = "vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub path_rules: Vec<PathRule>,
    #[serde(
        default,
        deserialize_with = "vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub route_rules: Vec<HttpRouteRule>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PathRule {
    #[serde(default, deserialize_with = "vec_or_null")]
    pub paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_action: Option<HttpRouteAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_redirect: Option<HttpRedirectAction>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRule {
    #[serde(default)]
    pub priority: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(
        default,
        deserialize_with = "vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub match_rules: Vec<HttpRouteRuleMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_action: Option<HttpRouteAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_redirect: Option<HttpRedirectAction>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRuleMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_match: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_path_match: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex_match: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_template_match: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_case: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UrlMapTest {
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_output_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_redirect_response_code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Every backend service the map references (defaults, rules, weighted services), in document
/// order without repeats: what the sandbox needs for "backend service in use by URL map".
pub fn referenced_services(map: &UrlMap) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: &str| {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    };
    let mut target = |service: &Option<String>, action: &Option<HttpRouteAction>| {
        if let Some(s) = service {
            push(s);
        }
        if let Some(a) = action {
            for w in &a.weighted_backend_services {
                push(&w.backend_service);
            }
        }
    };
    target(&map.default_service, &map.default_route_action);
    for pm in &map.path_matchers {
        target(&pm.default_service, &pm.default_route_action);
        for r in &pm.path_rules {
            target(&r.service, &r.route_action);
        }
        for r in &pm.route_rules {
            target(&r.service, &r.route_action);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::domain::urlmap::check;
    use crate::domain::urlmap::fixtures::map;
    use serde_json::json;

    #[test]
    fn unknown_fields_round_trip() {
        let v = json!({
            "kind": "compute#urlMap",
            "name": "m",
            "selfLink": "https://www.googleapis.com/compute/v1/projects/p/global/urlMaps/m",
            "defaultService": "global/backendServices/a",
            "headerAction": {"requestHeadersToAdd": [{"headerName": "x", "headerValue": "y"}]},
            "hostRules": [{"hosts": ["a.com"], "pathMatcher": "pm", "x-extra": 1}],
            "pathMatchers": [{
                "name": "pm", "defaultService": "global/backendServices/a",
                "routeRules": [{"priority": 1, "matchRules": [{"prefixMatch": "/", "headerMatches": [{"headerName": "h", "exactMatch": "v"}]}],
                                "service": "global/backendServices/a"}]
            }],
            "tests": [{"host": "a.com", "path": "/", "service": "global/backendServices/a", "headers": [{"name": "h", "value": "v"}]}]
        });
        let m = map(v.clone());
        assert_eq!(serde_json::to_value(&m).unwrap(), v);
    }

    #[test]
    fn nulls_are_tolerated() {
        let m = map(json!({"name": "m", "defaultService": "s", "hostRules": null, "tests": null}));
        assert!(m.host_rules.is_empty());
        assert!(check(&m).is_ok());
    }

    #[test]
    fn resource_references_compare_by_path() {
        assert!(crate::domain::links::same_reference(
            "https://compute.googleapis.com/compute/v1/projects/p/global/backendServices/a",
            "https://www.googleapis.com/compute/v1/projects/p/global/backendServices/a"
        ));
        assert!(crate::domain::links::same_reference(
            "global/backendServices/a",
            "projects/p/global/backendServices/a"
        ));
        assert!(crate::domain::links::same_reference(
            "a",
            "projects/p/global/backendServices/a"
        ));
        assert!(!crate::domain::links::same_reference(
            "projects/p/global/backendServices/a",
            "projects/q/global/backendServices/a"
        ));
        assert!(!crate::domain::links::same_reference(
            "global/backendServices/a",
            "global/backendServices/b"
        ));
    }
}
