//! The rules Compute applies when it accepts a URL map (docs/google-cloud.md §11.8), with its limits and its
//! error wording; the sandbox answers with them and the validator checks a spec's map against them.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Serialize;

use super::model::{HttpRedirectAction, HttpRouteAction, HttpRouteRule, PathRule, UrlMap};

/// Most tests a URL map may carry (docs/google-cloud.md §5).
pub const MAX_TESTS: usize = 100;
pub const MAX_WEIGHT: i64 = 1000;
pub const MAX_PATH_PREFIX_REWRITE: usize = 1024;
pub const MAX_HOST_REWRITE: usize = 255;
const MAX_PATH: usize = 1024;
const MAX_PRIORITY: i64 = 2_147_483_647;

/// One rule the URL map breaks, named the way Compute names it (`resource.pathMatchers[0]...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UrlMapError {
    /// `resource.`-prefixed field path, as in Compute's 400 `invalid` messages.
    pub field: String,
    /// The offending value as text (empty when the problem is a missing value).
    pub value: String,
    pub message: String,
}

impl fmt::Display for UrlMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Invalid value for field '{}': '{}'. {}",
            self.field, self.value, self.message
        )
    }
}

impl std::error::Error for UrlMapError {}

#[derive(Default)]
struct Checker {
    errors: Vec<UrlMapError>,
}

impl Checker {
    fn err(
        &mut self,
        field: impl Into<String>,
        value: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.errors.push(UrlMapError {
            field: field.into(),
            value: value.into(),
            message: message.into(),
        });
    }
}

/// The API's acceptance rules (docs/google-cloud.md §11.8); the first violation, as Compute reports one.
/// Tests are not run here: `run_tests` does that, so `validate` can report both separately.
pub fn check(map: &UrlMap) -> Result<(), UrlMapError> {
    match check_all(map).into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Every violation, in document order (for UIs that want to show them all at once).
pub fn check_all(map: &UrlMap) -> Vec<UrlMapError> {
    let mut c = Checker::default();
    check_defaults(
        &mut c,
        "resource.",
        &map.default_service,
        &map.default_route_action,
        &map.default_url_redirect,
    );

    let mut matcher_names: HashSet<&str> = HashSet::new();
    for (i, pm) in map.path_matchers.iter().enumerate() {
        let base = format!("resource.pathMatchers[{i}]");
        if pm.name.is_empty() {
            c.err(format!("{base}.name"), "", "A path matcher needs a name.");
        } else if !matcher_names.insert(pm.name.as_str()) {
            c.err(
                format!("{base}.name"),
                &pm.name,
                "Duplicate path matcher name.",
            );
        }
        check_defaults(
            &mut c,
            &format!("{base}."),
            &pm.default_service,
            &pm.default_route_action,
            &pm.default_url_redirect,
        );
        if !pm.path_rules.is_empty() && !pm.route_rules.is_empty() {
            c.err(
                format!("{base}.routeRules"),
                "",
                "A path matcher may have pathRules or routeRules, not both.",
            );
        }
        check_path_rules(&mut c, &base, &pm.path_rules);
        check_route_rules(&mut c, &base, &pm.route_rules);
    }

    let mut seen_hosts: HashMap<String, usize> = HashMap::new();
    for (i, hr) in map.host_rules.iter().enumerate() {
        let base = format!("resource.hostRules[{i}]");
        if hr.hosts.is_empty() {
            c.err(
                format!("{base}.hosts"),
                "",
                "A host rule needs at least one host pattern.",
            );
        }
        for (j, h) in hr.hosts.iter().enumerate() {
            let field = format!("{base}.hosts[{j}]");
            if let Some(problem) = host_pattern_problem(h) {
                c.err(&field, h, problem);
                continue;
            }
            if let Some(prev) = seen_hosts.insert(h.to_ascii_lowercase(), i) {
                c.err(
                    &field,
                    h,
                    format!("Duplicate host pattern: also listed in hostRules[{prev}]."),
                );
            }
        }
        if !matcher_names.contains(hr.path_matcher.as_str()) {
            c.err(
                format!("{base}.pathMatcher"),
                &hr.path_matcher,
                "The host rule names a path matcher that does not exist in this URL map.",
            );
        }
    }

    if map.tests.len() > MAX_TESTS {
        c.err(
            "resource.tests",
            map.tests.len().to_string(),
            format!("A URL map may have at most {MAX_TESTS} tests."),
        );
    }
    for (i, t) in map.tests.iter().enumerate() {
        let base = format!("resource.tests[{i}]");
        if t.host.is_empty() {
            c.err(format!("{base}.host"), "", "A test needs a host.");
        }
        if !t.path.starts_with('/') {
            c.err(
                format!("{base}.path"),
                &t.path,
                "A test path must start with '/'.",
            );
        }
        if t.service.is_some() && t.expected_redirect_response_code.is_some() {
            c.err(
                format!("{base}.expectedRedirectResponseCode"),
                t.expected_redirect_response_code
                    .unwrap_or_default()
                    .to_string(),
                "A test expects either a service or a redirect, not both.",
            );
        }
        if t.service.is_none()
            && t.expected_redirect_response_code.is_none()
            && t.expected_output_url.is_none()
        {
            c.err(
                format!("{base}.service"),
                "",
                "A test must expect a service, an output URL or a redirect response code.",
            );
        }
    }
    c.errors
}

/// `defaultService` / `defaultRouteAction.weightedBackendServices` / `defaultUrlRedirect`:
/// exactly one of the three, at the top level and in each path matcher.
fn check_defaults(
    c: &mut Checker,
    prefix: &str,
    service: &Option<String>,
    action: &Option<HttpRouteAction>,
    redirect: &Option<HttpRedirectAction>,
) {
    let weighted = action
        .as_ref()
        .is_some_and(|a| !a.weighted_backend_services.is_empty());
    let set = [service.is_some(), weighted, redirect.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if set == 0 {
        c.err(
            format!("{prefix}defaultService"),
            "",
            "Exactly one of defaultService, defaultRouteAction.weightedBackendServices or defaultUrlRedirect must be set.",
        );
    } else if set > 1 {
        // Name the later of the conflicting fields, as the one to remove.
        let field = if redirect.is_some() {
            "defaultUrlRedirect"
        } else {
            "defaultRouteAction.weightedBackendServices"
        };
        c.err(
            format!("{prefix}{field}"),
            "",
            "Only one of defaultService, defaultRouteAction.weightedBackendServices or defaultUrlRedirect may be set.",
        );
    }
    if redirect.is_some() && action.is_some() && !weighted {
        c.err(
            format!("{prefix}defaultRouteAction"),
            "",
            "defaultRouteAction cannot be combined with defaultUrlRedirect.",
        );
    }
    if let Some(s) = service {
        check_service_ref(c, &format!("{prefix}defaultService"), s);
    }
    if let Some(a) = action {
        check_route_action(c, &format!("{prefix}defaultRouteAction"), a);
    }
    if let Some(r) = redirect {
        check_redirect(c, &format!("{prefix}defaultUrlRedirect"), r);
    }
}

/// service / routeAction.weightedBackendServices / urlRedirect of a path or route rule.
fn check_rule_target(
    c: &mut Checker,
    base: &str,
    service: &Option<String>,
    action: &Option<HttpRouteAction>,
    redirect: &Option<HttpRedirectAction>,
) {
    let weighted = action
        .as_ref()
        .is_some_and(|a| !a.weighted_backend_services.is_empty());
    let set = [service.is_some(), weighted, redirect.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if set == 0 {
        c.err(
            format!("{base}.service"),
            "",
            "Exactly one of service, routeAction.weightedBackendServices or urlRedirect must be set.",
        );
    } else if set > 1 {
        c.err(
            format!("{base}.service"),
            service.clone().unwrap_or_default(),
            "Only one of service, routeAction.weightedBackendServices or urlRedirect may be set.",
        );
    }
    if redirect.is_some() && action.is_some() && !weighted {
        c.err(
            format!("{base}.routeAction"),
            "",
            "routeAction cannot be combined with urlRedirect.",
        );
    }
    if let Some(s) = service {
        check_service_ref(c, &format!("{base}.service"), s);
    }
    if let Some(a) = action {
        check_route_action(c, &format!("{base}.routeAction"), a);
    }
    if let Some(r) = redirect {
        check_redirect(c, &format!("{base}.urlRedirect"), r);
    }
}

fn check_service_ref(c: &mut Checker, field: &str, s: &str) {
    if s.trim().is_empty() {
        c.err(field, s, "A backend service reference must not be empty.");
    }
}

fn check_route_action(c: &mut Checker, base: &str, a: &HttpRouteAction) {
    let wbs = &a.weighted_backend_services;
    for (i, w) in wbs.iter().enumerate() {
        let f = format!("{base}.weightedBackendServices[{i}]");
        check_service_ref(c, &format!("{f}.backendService"), &w.backend_service);
        if !(0..=MAX_WEIGHT).contains(&w.weight) {
            c.err(
                format!("{f}.weight"),
                w.weight.to_string(),
                format!("Weight must be between 0 and {MAX_WEIGHT}."),
            );
        }
    }
    if !wbs.is_empty() && wbs.iter().all(|w| w.weight <= 0) {
        c.err(
            format!("{base}.weightedBackendServices"),
            "",
            "At least one weighted backend service must have a weight greater than 0.",
        );
    }
    if let Some(r) = &a.url_rewrite {
        let f = format!("{base}.urlRewrite");
        if let Some(p) = &r.path_prefix_rewrite {
            if p.is_empty() || p.len() > MAX_PATH_PREFIX_REWRITE {
                c.err(
                    format!("{f}.pathPrefixRewrite"),
                    p,
                    format!(
                        "pathPrefixRewrite must be 1 to {MAX_PATH_PREFIX_REWRITE} characters long."
                    ),
                );
            }
            if r.path_template_rewrite.is_some() {
                c.err(
                    format!("{f}.pathTemplateRewrite"),
                    r.path_template_rewrite.clone().unwrap_or_default(),
                    "Only one of pathPrefixRewrite or pathTemplateRewrite may be set.",
                );
            }
        }
        if let Some(h) = &r.host_rewrite
            && (h.is_empty() || h.len() > MAX_HOST_REWRITE)
        {
            c.err(
                format!("{f}.hostRewrite"),
                h,
                format!("hostRewrite must be 1 to {MAX_HOST_REWRITE} characters long."),
            );
        }
    }
}

const REDIRECT_CODES: [&str; 5] = [
    "MOVED_PERMANENTLY_DEFAULT",
    "FOUND",
    "SEE_OTHER",
    "TEMPORARY_REDIRECT",
    "PERMANENT_REDIRECT",
];

fn check_redirect(c: &mut Checker, base: &str, r: &HttpRedirectAction) {
    if let Some(code) = &r.redirect_response_code
        && !REDIRECT_CODES.contains(&code.as_str())
    {
        c.err(
            format!("{base}.redirectResponseCode"),
            code,
            format!("Must be one of {}.", REDIRECT_CODES.join(", ")),
        );
    }
    if let Some(h) = &r.host_redirect
        && (h.is_empty() || h.len() > MAX_HOST_REWRITE)
    {
        c.err(
            format!("{base}.hostRedirect"),
            h,
            format!("hostRedirect must be 1 to {MAX_HOST_REWRITE} characters long."),
        );
    }
    for (name, v) in [
        ("pathRedirect", &r.path_redirect),
        ("prefixRedirect", &r.prefix_redirect),
    ] {
        if let Some(p) = v
            && (p.is_empty() || p.len() > MAX_PATH)
        {
            c.err(
                format!("{base}.{name}"),
                p,
                format!("{name} must be 1 to {MAX_PATH} characters long."),
            );
        }
    }
    if r.path_redirect.is_some() && r.prefix_redirect.is_some() {
        c.err(
            format!("{base}.prefixRedirect"),
            r.prefix_redirect.clone().unwrap_or_default(),
            "Only one of pathRedirect or prefixRedirect may be set.",
        );
    }
}

fn check_path_rules(c: &mut Checker, matcher: &str, rules: &[PathRule]) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, r) in rules.iter().enumerate() {
        let base = format!("{matcher}.pathRules[{i}]");
        if r.paths.is_empty() {
            c.err(
                format!("{base}.paths"),
                "",
                "A path rule needs at least one path.",
            );
        }
        for (j, p) in r.paths.iter().enumerate() {
            let field = format!("{base}.paths[{j}]");
            if let Some(problem) = path_pattern_problem(p) {
                c.err(&field, p, problem);
            } else if let Some(prev) = seen.insert(p.as_str(), i) {
                c.err(
                    &field,
                    p,
                    format!("Duplicate path pattern: also listed in pathRules[{prev}]."),
                );
            }
        }
        check_rule_target(c, &base, &r.service, &r.route_action, &r.url_redirect);
    }
}

fn check_route_rules(c: &mut Checker, matcher: &str, rules: &[HttpRouteRule]) {
    let mut priorities: HashMap<i64, usize> = HashMap::new();
    for (i, r) in rules.iter().enumerate() {
        let base = format!("{matcher}.routeRules[{i}]");
        if !(0..=MAX_PRIORITY).contains(&r.priority) {
            c.err(
                format!("{base}.priority"),
                r.priority.to_string(),
                format!("Priority must be between 0 and {MAX_PRIORITY}."),
            );
        } else if let Some(prev) = priorities.insert(r.priority, i) {
            c.err(
                format!("{base}.priority"),
                r.priority.to_string(),
                format!("Priorities must be unique within a path matcher: routeRules[{prev}] has the same."),
            );
        }
        for (j, m) in r.match_rules.iter().enumerate() {
            let f = format!("{base}.matchRules[{j}]");
            let kinds = [
                m.prefix_match.is_some(),
                m.full_path_match.is_some(),
                m.regex_match.is_some(),
                m.path_template_match.is_some(),
            ];
            if kinds.iter().filter(|b| **b).count() > 1 {
                c.err(
                    &f,
                    "",
                    "Only one of prefixMatch, fullPathMatch, regexMatch or pathTemplateMatch may be set.",
                );
            }
            for (name, v) in [
                ("prefixMatch", &m.prefix_match),
                ("fullPathMatch", &m.full_path_match),
            ] {
                if let Some(p) = v {
                    if !p.starts_with('/') || p.len() > MAX_PATH {
                        c.err(
                            format!("{f}.{name}"),
                            p,
                            format!("{name} must start with '/' and be at most {MAX_PATH} characters long."),
                        );
                    } else if p.contains(['?', '#']) {
                        c.err(
                            format!("{f}.{name}"),
                            p,
                            "A path must not contain '?' or '#'.",
                        );
                    }
                }
            }
            if let Some(re) = &m.regex_match
                && (re.len() > MAX_PATH || regex::Regex::new(re).is_err())
            {
                c.err(
                    format!("{f}.regexMatch"),
                    re,
                    "regexMatch must be a valid RE2 expression of at most 1024 characters.",
                );
            }
        }
        check_rule_target(c, &base, &r.service, &r.route_action, &r.url_redirect);
    }
}

/// Path-rule pattern syntax: leading `/`, `*` only as the last character right after `/`,
/// no `?` or `#` (matching never sees the query string). `None` when the pattern is fine.
pub fn path_pattern_problem(p: &str) -> Option<&'static str> {
    if !p.starts_with('/') {
        return Some("A path must start with '/'.");
    }
    if p.len() > MAX_PATH {
        return Some("A path must be at most 1024 characters long.");
    }
    if p.contains(['?', '#']) {
        return Some("A path must not contain '?' or '#'.");
    }
    if let Some(star) = p.find('*')
        && (star != p.len() - 1 || !p.ends_with("/*"))
    {
        return Some("'*' is only allowed at the end of a path, right after '/'.");
    }
    None
}

/// Host pattern syntax: a hostname with an optional `:port`; `*` only as the first character and
/// then followed by `-` or `.`, or the pattern is exactly `*`. `None` when the pattern is fine.
pub fn host_pattern_problem(h: &str) -> Option<&'static str> {
    if h == "*" {
        return None;
    }
    let (name, port) = match h.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (h, None),
    };
    if let Some(p) = port
        && !(p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n))
            && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some("The port of a host pattern must be a number from 1 to 65535.");
    }
    if name.is_empty() || name.len() > 255 {
        return Some("A host pattern must be 1 to 255 characters long.");
    }
    let rest = match name.strip_prefix('*') {
        Some(rest) => {
            if !(rest.starts_with('-') || rest.starts_with('.')) || rest.len() < 2 {
                return Some(
                    "'*' must be the whole pattern or be followed by '-' or '.' and more characters.",
                );
            }
            rest
        }
        None => name,
    };
    if rest.contains('*') {
        return Some("'*' is only allowed as the first character of a host pattern.");
    }
    if !rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Some(
            "A host pattern may only contain letters, digits, '-', '.' and a leading '*'.",
        );
    }
    None
}

/// Fields that need backend services with scheme `EXTERNAL_MANAGED` (weighted splits, host
/// rewrites, header actions), as Compute field paths; empty when a classic `EXTERNAL` load
/// balancer could serve the map (docs/google-cloud.md §5).
pub fn advanced_features(map: &UrlMap) -> Vec<String> {
    let mut out = Vec::new();
    let mut action = |field: String, a: &Option<HttpRouteAction>| {
        if let Some(a) = a {
            if !a.weighted_backend_services.is_empty() {
                out.push(format!("{field}.weightedBackendServices"));
            }
            if a.url_rewrite
                .as_ref()
                .is_some_and(|r| r.host_rewrite.is_some())
            {
                out.push(format!("{field}.urlRewrite.hostRewrite"));
            }
        }
    };
    action(
        "resource.defaultRouteAction".into(),
        &map.default_route_action,
    );
    for (i, pm) in map.path_matchers.iter().enumerate() {
        let base = format!("resource.pathMatchers[{i}]");
        action(
            format!("{base}.defaultRouteAction"),
            &pm.default_route_action,
        );
        for (j, r) in pm.path_rules.iter().enumerate() {
            action(
                format!("{base}.pathRules[{j}].routeAction"),
                &r.route_action,
            );
        }
        for (j, r) in pm.route_rules.iter().enumerate() {
            action(
                format!("{base}.routeRules[{j}].routeAction"),
                &r.route_action,
            );
        }
    }
    if map.extra.contains_key("defaultHeaderAction") || map.extra.contains_key("headerAction") {
        out.push("resource.headerAction".into());
    }
    for (i, pm) in map.path_matchers.iter().enumerate() {
        if pm.extra.contains_key("headerAction") {
            out.push(format!("resource.pathMatchers[{i}].headerAction"));
        }
        for (j, r) in pm.route_rules.iter().enumerate() {
            if r.extra.contains_key("headerAction") {
                out.push(format!(
                    "resource.pathMatchers[{i}].routeRules[{j}].headerAction"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::plan::redirect_map;
    use crate::domain::urlmap::fixtures::{field_of, map, seed2};
    use crate::domain::urlmap::{HostRule, UrlMapTest, referenced_services};
    use serde_json::json;

    #[test]
    fn exactly_one_default() {
        let m = map(json!({"name": "m"}));
        assert_eq!(field_of(&m), "resource.defaultService");
        let m = map(json!({"name": "m", "defaultService": "a",
            "defaultUrlRedirect": {"httpsRedirect": true}}));
        assert_eq!(field_of(&m), "resource.defaultUrlRedirect");
        let m = map(json!({"name": "m", "defaultService": "a",
            "defaultRouteAction": {"weightedBackendServices": [{"backendService": "b", "weight": 1}]}}));
        assert_eq!(
            field_of(&m),
            "resource.defaultRouteAction.weightedBackendServices"
        );
        // defaultService with a routeAction that only rewrites is allowed.
        let m = map(json!({"name": "m", "defaultService": "a",
            "defaultRouteAction": {"urlRewrite": {"pathPrefixRewrite": "/v1/"}}}));
        check(&m).unwrap();
        let m = map(json!({"name": "m", "defaultService": "a",
            "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
            "pathMatchers": [{"name": "pm"}]}));
        assert_eq!(field_of(&m), "resource.pathMatchers[0].defaultService");
    }

    #[test]
    fn error_message_reads_like_compute() {
        let mut m = seed2();
        m.path_matchers[0].path_rules[0].paths[1] = "/hello2*".into();
        let e = check(&m).unwrap_err();
        assert_eq!(e.field, "resource.pathMatchers[0].pathRules[0].paths[1]");
        assert!(
            e.to_string().starts_with(
                "Invalid value for field 'resource.pathMatchers[0].pathRules[0].paths[1]': '/hello2*'. "
            ),
            "{e}"
        );
    }

    #[test]
    fn host_rule_needs_existing_matcher() {
        let mut m = seed2();
        m.host_rules[0].path_matcher = "nope".into();
        assert_eq!(field_of(&m), "resource.hostRules[0].pathMatcher");
    }

    #[test]
    fn path_rules_and_route_rules_are_exclusive() {
        let mut m = seed2();
        m.path_matchers[0].route_rules.push(HttpRouteRule {
            priority: 1,
            service: Some("s".into()),
            ..HttpRouteRule::default()
        });
        assert_eq!(field_of(&m), "resource.pathMatchers[0].routeRules");
    }

    #[test]
    fn path_syntax() {
        for ok in ["/", "/*", "/a", "/a/*", "/a/b-c.d"] {
            assert_eq!(path_pattern_problem(ok), None, "{ok}");
        }
        for bad in ["", "a", "/a*", "/*/a", "/a/**", "/a?b", "/a#b", "*"] {
            assert!(path_pattern_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn host_syntax() {
        for ok in [
            "*",
            "a.com",
            "*.a.com",
            "*-a.com",
            "a.com:8080",
            "A.Com",
            "10.0.0.1",
        ] {
            assert_eq!(host_pattern_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "*a.com",
            "a.*.com",
            "*.",
            "a.com:0",
            "a.com:x",
            "a b.com",
            "**.a.com",
            "https://a.com",
        ] {
            assert!(host_pattern_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn weights_and_rewrites_are_bounded() {
        let mut m = seed2();
        let ra = m.path_matchers[0].path_rules[0]
            .route_action
            .as_mut()
            .unwrap();
        ra.weighted_backend_services[0].weight = 1001;
        assert_eq!(
            field_of(&m),
            "resource.pathMatchers[0].pathRules[0].routeAction.weightedBackendServices[0].weight"
        );
        let ra = m.path_matchers[0].path_rules[0]
            .route_action
            .as_mut()
            .unwrap();
        ra.weighted_backend_services[0].weight = 0;
        assert_eq!(
            field_of(&m),
            "resource.pathMatchers[0].pathRules[0].routeAction.weightedBackendServices"
        );
        let ra = m.path_matchers[0].path_rules[0]
            .route_action
            .as_mut()
            .unwrap();
        ra.weighted_backend_services[0].weight = 1000;
        ra.url_rewrite.as_mut().unwrap().path_prefix_rewrite = Some(String::new());
        assert_eq!(
            field_of(&m),
            "resource.pathMatchers[0].pathRules[0].routeAction.urlRewrite.pathPrefixRewrite"
        );
        let rw = m.path_matchers[0].path_rules[0]
            .route_action
            .as_mut()
            .unwrap()
            .url_rewrite
            .as_mut()
            .unwrap();
        rw.path_prefix_rewrite = Some("/".repeat(1024));
        rw.host_rewrite = Some("h".repeat(256));
        assert_eq!(
            field_of(&m),
            "resource.pathMatchers[0].pathRules[0].routeAction.urlRewrite.hostRewrite"
        );
    }

    #[test]
    fn duplicate_hosts_and_paths_are_rejected() {
        let mut m = seed2();
        m.host_rules.push(HostRule {
            hosts: vec!["a.com".into(), "*".into()],
            path_matcher: "all".into(),
            ..HostRule::default()
        });
        assert_eq!(field_of(&m), "resource.hostRules[1].hosts[1]");
        let mut m = seed2();
        m.path_matchers[0].path_rules.push(PathRule {
            paths: vec!["/hello2".into()],
            service: Some("s".into()),
            ..PathRule::default()
        });
        assert_eq!(
            field_of(&m),
            "resource.pathMatchers[0].pathRules[1].paths[0]"
        );
    }

    #[test]
    fn at_most_100_tests() {
        let mut m = seed2();
        m.tests = (0..101)
            .map(|_| UrlMapTest {
                host: "a".into(),
                path: "/".into(),
                service: Some("global/backendServices/hello".into()),
                ..UrlMapTest::default()
            })
            .collect();
        let e = check(&m).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.value.as_str()),
            ("resource.tests", "101")
        );
        m.tests.truncate(100);
        check(&m).unwrap();
    }

    #[test]
    fn rule_target_must_be_exactly_one() {
        let mut m = seed2();
        m.path_matchers[0].path_rules[0].service = Some("x".into());
        assert_eq!(
            field_of(&m),
            "resource.pathMatchers[0].pathRules[0].service"
        );
        let mut m = seed2();
        m.path_matchers[0].path_rules[0].route_action = None;
        assert_eq!(
            field_of(&m),
            "resource.pathMatchers[0].pathRules[0].service"
        );
    }

    #[test]
    fn route_rule_checks() {
        let m = map(json!({"name": "m", "defaultService": "a",
        "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
        "pathMatchers": [{"name": "pm", "defaultService": "a", "routeRules": [
            {"priority": 1, "matchRules": [{"prefixMatch": "/a"}], "service": "b"},
            {"priority": 1, "matchRules": [{"prefixMatch": "/b"}], "service": "b"}
        ]}]}));
        assert_eq!(
            field_of(&m),
            "resource.pathMatchers[0].routeRules[1].priority"
        );
        let m = map(json!({"name": "m", "defaultService": "a",
        "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
        "pathMatchers": [{"name": "pm", "defaultService": "a", "routeRules": [
            {"priority": 1, "matchRules": [{"prefixMatch": "a"}], "service": "b"}
        ]}]}));
        assert_eq!(
            field_of(&m),
            "resource.pathMatchers[0].routeRules[0].matchRules[0].prefixMatch"
        );
    }

    #[test]
    fn referenced_services_and_advanced_features() {
        let m = seed2();
        assert_eq!(
            referenced_services(&m),
            vec![
                "global/backendServices/hello",
                "global/backendServices/hello2"
            ]
        );
        assert_eq!(
            advanced_features(&m),
            vec!["resource.pathMatchers[0].pathRules[0].routeAction.weightedBackendServices"]
        );
        assert!(advanced_features(&redirect_map("x")).is_empty());
    }
}
