//! The URL map bodies, kept apart from `compile` because their source of truth is the URL-map
//! module (`crate::domain::urlmap::from_spec` / `redirect_map`), which is built on another branch.
//! Until it is merged, this file renders the same Compute JSON directly from the spec; once it is,
//! these two functions become `serde_json::to_value(urlmap::from_spec(spec, link))` and the rest
//! of the planner does not change.

use crate::domain::spec::{Spec, Target};
use serde_json::{Map, Value, json};

fn weighted(target: &Target, link: &dyn Fn(&str) -> String) -> Value {
    Value::Array(
        target
            .weighted()
            .into_iter()
            .map(|(backend, weight)| {
                // A single backend written as a split still needs a non-zero weight.
                let weight = if matches!(target, Target::Backend { .. }) {
                    100
                } else {
                    weight
                };
                json!({ "backendService": link(backend), "weight": weight })
            })
            .collect(),
    )
}

/// The main URL map: `name` and `description` are filled in by `compile`.
pub fn url_map_body(spec: &Spec, link: &dyn Fn(&str) -> String) -> Value {
    let mut body = Map::new();
    let default = &spec.routing.default;
    let default_fields = |obj: &mut Map<String, Value>| match default {
        Target::Backend { backend } => {
            obj.insert("defaultService".into(), json!(link(backend)));
        }
        Target::Split { .. } => {
            obj.insert(
                "defaultRouteAction".into(),
                json!({ "weightedBackendServices": weighted(default, link) }),
            );
        }
    };
    default_fields(&mut body);

    // One path matcher per distinct host list, in the order the rules first name it.
    let mut matchers: Vec<(Vec<String>, Vec<Value>)> = Vec::new();
    for rule in &spec.routing.rules {
        let mut path_rule = Map::new();
        path_rule.insert("paths".into(), json!(rule.paths));
        let rewrite = rule.prefix_rewrite.is_some() || rule.host_rewrite.is_some();
        match (&rule.target, rewrite) {
            (Target::Backend { backend }, false) => {
                path_rule.insert("service".into(), json!(link(backend)));
            }
            (target, _) => {
                let mut action = Map::new();
                action.insert("weightedBackendServices".into(), weighted(target, link));
                if rewrite {
                    let mut url_rewrite = Map::new();
                    if let Some(prefix) = &rule.prefix_rewrite {
                        url_rewrite.insert("pathPrefixRewrite".into(), json!(prefix));
                    }
                    if let Some(host) = &rule.host_rewrite {
                        url_rewrite.insert("hostRewrite".into(), json!(host));
                    }
                    action.insert("urlRewrite".into(), Value::Object(url_rewrite));
                }
                path_rule.insert("routeAction".into(), Value::Object(action));
            }
        }
        match matchers.iter_mut().find(|(hosts, _)| *hosts == rule.hosts) {
            Some((_, rules)) => rules.push(Value::Object(path_rule)),
            None => matchers.push((rule.hosts.clone(), vec![Value::Object(path_rule)])),
        }
    }
    if !matchers.is_empty() {
        let mut host_rules = Vec::new();
        let mut path_matchers = Vec::new();
        for (i, (hosts, rules)) in matchers.into_iter().enumerate() {
            let name = format!("matcher{}", i + 1);
            host_rules.push(json!({ "hosts": hosts, "pathMatcher": name }));
            let mut matcher = Map::new();
            matcher.insert("name".into(), json!(name));
            default_fields(&mut matcher);
            matcher.insert("pathRules".into(), Value::Array(rules));
            path_matchers.push(Value::Object(matcher));
        }
        body.insert("hostRules".into(), Value::Array(host_rules));
        body.insert("pathMatchers".into(), Value::Array(path_matchers));
    }
    Value::Object(body)
}

/// The port-80 map that sends everything to https.
pub fn redirect_map_body() -> Value {
    json!({
        "defaultUrlRedirect": {
            "httpsRedirect": true,
            "redirectResponseCode": "MOVED_PERMANENTLY_DEFAULT",
            "stripQuery": false
        }
    })
}
