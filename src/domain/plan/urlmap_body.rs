//! The URL maps a spec needs, typed (the route preview, lint and gcloud export evaluate or print
//! them) and as insert bodies; one translation, so what the panel shows is what it sends.

use crate::domain::names;
use crate::domain::spec::{Spec, Target};
use crate::domain::urlmap::{
    Extra, HostRule, HttpRedirectAction, HttpRouteAction, PathMatcher, PathRule, UrlMap,
    UrlRewrite, WeightedBackendService,
};
use serde_json::Value;

/// Weight a single backend gets when it has to be expressed as a weighted backend service.
const SOLE_WEIGHT: i64 = 100;

fn target_action(
    target: &Target,
    bs_ref: &dyn Fn(&str) -> String,
    rewrite: Option<UrlRewrite>,
) -> (Option<String>, Option<HttpRouteAction>) {
    match (target, rewrite) {
        (Target::Backend { backend }, None) => (Some(bs_ref(backend)), None),
        (target, url_rewrite) => {
            let weighted_backend_services = match target {
                Target::Backend { backend } => vec![WeightedBackendService {
                    backend_service: bs_ref(backend),
                    weight: SOLE_WEIGHT,
                    extra: Extra::new(),
                }],
                Target::Split { split } => split
                    .iter()
                    .map(|w| WeightedBackendService {
                        backend_service: bs_ref(&w.backend),
                        weight: i64::from(w.weight),
                        extra: Extra::new(),
                    })
                    .collect(),
            };
            (
                None,
                Some(HttpRouteAction {
                    weighted_backend_services,
                    url_rewrite,
                    extra: Extra::new(),
                }),
            )
        }
    }
}

/// Path matcher names `url_map` gives: `hosts-1`, `hosts-2`... in order of first appearance.
pub fn path_matcher_name(index: usize) -> String {
    format!("hosts-{}", index + 1)
}

/// The URL map for a spec. `bs_ref` turns a spec backend name into the reference written into
/// the map: the planner passes full URLs (`names::backend_service` under the project), the route
/// preview passes the backend name itself.
///
/// Rules with the same host set (compared as a set) share one host rule and path matcher, whose
/// default is the spec's default target: a host that matches but a path that does not still
/// reaches the default backend. A rule with a rewrite or a split becomes a `routeAction` with
/// `weightedBackendServices` (a lone backend gets weight 100) and `urlRewrite`; a plain rule
/// becomes `service`. Host sets are sorted so that reordering hosts is not a change.
pub fn url_map(spec: &Spec, bs_ref: &dyn Fn(&str) -> String) -> UrlMap {
    let (default_service, default_route_action) =
        target_action(&spec.routing.default, bs_ref, None);
    let mut map = UrlMap {
        name: names::url_map(&spec.name),
        description: Some(names::owner_marker(&spec.name)),
        default_service: default_service.clone(),
        default_route_action: default_route_action.clone(),
        ..UrlMap::default()
    };

    let mut groups: Vec<(Vec<String>, Vec<PathRule>)> = Vec::new();
    for rule in &spec.routing.rules {
        let mut hosts: Vec<String> = rule.hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
        hosts.sort();
        hosts.dedup();
        let rewrite =
            (rule.prefix_rewrite.is_some() || rule.host_rewrite.is_some()).then(|| UrlRewrite {
                path_prefix_rewrite: rule.prefix_rewrite.clone(),
                host_rewrite: rule.host_rewrite.clone(),
                ..UrlRewrite::default()
            });
        let (service, route_action) = target_action(&rule.target, bs_ref, rewrite);
        let path_rule = PathRule {
            paths: rule.paths.clone(),
            service,
            route_action,
            ..PathRule::default()
        };
        match groups.iter_mut().find(|(h, _)| *h == hosts) {
            Some((_, rules)) => rules.push(path_rule),
            None => groups.push((hosts, vec![path_rule])),
        }
    }

    for (i, (hosts, path_rules)) in groups.into_iter().enumerate() {
        let name = path_matcher_name(i);
        map.host_rules.push(HostRule {
            hosts,
            path_matcher: name.clone(),
            ..HostRule::default()
        });
        map.path_matchers.push(PathMatcher {
            name,
            default_service: default_service.clone(),
            default_route_action: default_route_action.clone(),
            path_rules,
            ..PathMatcher::default()
        });
    }
    map
}

/// The port-80 URL map of an `https` deployment with `http_redirect`: everything answers 301 to
/// the same URL over https, query kept. Takes the deployment name.
pub fn redirect_map(deployment: &str) -> UrlMap {
    UrlMap {
        name: names::redirect_url_map(deployment),
        description: Some(names::owner_marker(deployment)),
        default_url_redirect: Some(HttpRedirectAction {
            https_redirect: Some(true),
            redirect_response_code: Some("MOVED_PERMANENTLY_DEFAULT".into()),
            strip_query: Some(false),
            ..HttpRedirectAction::default()
        }),
        ..UrlMap::default()
    }
}

fn to_body(map: UrlMap) -> Value {
    let mut body = serde_json::to_value(map).expect("a URL map always serialises");
    // `compile` sets name and description itself, as it does for every resource.
    if let Value::Object(obj) = &mut body {
        obj.remove("name");
        obj.remove("description");
    }
    body
}

/// The main URL map.
pub fn url_map_body(spec: &Spec, link: &dyn Fn(&str) -> String) -> Value {
    to_body(url_map(spec, link))
}

/// The port-80 map that redirects every request to https.
pub fn redirect_map_body(deployment: &str) -> Value {
    to_body(redirect_map(deployment))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::urlmap::fixtures::{route, rt};
    use crate::domain::urlmap::{Outcome, check, evaluate};
    use serde_json::json;

    fn spec(v: Value) -> Spec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn from_spec_groups_rules_by_host_set() {
        let s = spec(json!({
            "name": "shop", "project": "p",
            "frontend": {"protocol": "https", "domains": ["a.com"]},
            "backends": [],
            "routing": {
                "default": {"split": [{"backend": "web", "weight": 90}, {"backend": "canary", "weight": 10}]},
                "rules": [
                    {"hosts": ["*"], "paths": ["/hello2", "/hello2/*"], "backend": "hello2", "prefix_rewrite": "/"},
                    {"hosts": ["B.com", "a.com"], "paths": ["/api/*"], "backend": "api"},
                    {"hosts": ["a.com", "b.com"], "paths": ["/img/*"], "backend": "img", "host_rewrite": "img.internal"},
                    {"paths": ["/static/*"], "backend": "static"}
                ]
            }
        }));
        let m = url_map(&s, &|b| format!("global/backendServices/shop-bs-{b}"));
        check(&m).unwrap();
        assert_eq!(m.name, "shop-urlmap");
        assert_eq!(m.description.as_deref(), Some("switchyard:deployment=shop"));
        assert!(m.default_service.is_none());
        assert_eq!(
            m.default_route_action
                .as_ref()
                .unwrap()
                .weighted_backend_services
                .len(),
            2
        );
        assert_eq!(m.host_rules.len(), 2);
        assert_eq!(m.host_rules[0].hosts, vec!["*"]);
        assert_eq!(m.host_rules[1].hosts, vec!["a.com", "b.com"]);
        assert_eq!(m.path_matchers[0].path_rules.len(), 2);
        assert_eq!(m.path_matchers[1].path_rules.len(), 2);
        // Plain rule → service; rewrite → routeAction with one weighted service.
        assert_eq!(
            m.path_matchers[1].path_rules[0].service.as_deref(),
            Some("global/backendServices/shop-bs-api")
        );
        let ra = m.path_matchers[0].path_rules[0]
            .route_action
            .as_ref()
            .unwrap();
        assert_eq!(ra.weighted_backend_services[0].weight, 100);
        let (s, p, h) = route(evaluate(&m, "b.com", "/img/cat.png"));
        assert_eq!(
            (s, p, h),
            rt(
                &["global/backendServices/shop-bs-img"],
                "/img/cat.png",
                "img.internal"
            )
        );
        // Host matches a rule's host set but not its paths: the spec's default split.
        match evaluate(&m, "a.com", "/other") {
            Outcome::Route { services, .. } => assert_eq!(services.len(), 2),
            o => panic!("{o:?}"),
        }
        // Compute JSON uses camelCase.
        let j = serde_json::to_value(&m).unwrap();
        assert!(
            j["defaultRouteAction"]["weightedBackendServices"][0]["backendService"].is_string()
        );
        assert_eq!(
            j["pathMatchers"][0]["pathRules"][0]["routeAction"]["urlRewrite"]["pathPrefixRewrite"],
            "/"
        );
    }

    #[test]
    fn from_spec_single_default_is_default_service() {
        let s = spec(json!({
            "name": "app", "project": "p",
            "frontend": {"protocol": "http"},
            "routing": {"default": {"backend": "web"}}
        }));
        let m = url_map(&s, &|b| b.to_string());
        check(&m).unwrap();
        assert_eq!(m.default_service.as_deref(), Some("web"));
        assert!(m.host_rules.is_empty() && m.path_matchers.is_empty());
        assert_eq!(route(evaluate(&m, "x", "/anything")).0, vec!["web"]);
    }
}
