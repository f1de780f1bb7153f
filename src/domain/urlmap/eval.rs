//! The evaluator: where a request for a host and path goes through a URL map, and the map's own
//! `tests[]` run against it.
//!
//! Matching rules implemented (docs/google-cloud.md §5, Compute's field documentation):
//! - hosts: port stripped unless the pattern names a port; exact beats `*.suffix`/`*-suffix`
//!   (longest suffix wins), which beats `*`; no host rule matches → the map's defaults;
//! - pathRules: longest pattern wins whatever the order; `/x/*` matches `/x/` and below, `/x`
//!   only `/x`; an exact pattern beats a prefix pattern of the same length;
//! - routeRules: lowest `priority` first, first rule with a matching `matchRules[]` entry wins;
//!   match rules with header or query-parameter conditions never match, since the evaluator only
//!   sees host and path; `pathTemplateMatch` is not evaluated (never matches);
//! - nothing matched in a path matcher → that matcher's defaults.

use serde::Serialize;

use super::check::MAX_WEIGHT;
use super::model::{
    HostRule, HttpRedirectAction, HttpRouteAction, HttpRouteRule, HttpRouteRuleMatch, PathRule,
    UrlMap,
};

/// Where a request ends up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Forwarded to backend services (a single service has weight 1), with the path and host
    /// the backend receives after `urlRewrite`. `matched` names the rule that decided, in
    /// Compute's field notation without the `resource.` prefix (`pathMatchers[0].pathRules[1]`,
    /// `defaultService`...).
    Route {
        services: Vec<(String, u32)>,
        path: String,
        host: String,
        matched: String,
    },
    /// Answered by the load balancer with a redirect.
    Redirect {
        code: u16,
        url: String,
        matched: String,
    },
    /// The map has no applicable default (only possible for a map that fails `check`).
    NoRoute,
}

/// The part of a pattern that matched, which `pathPrefixRewrite`/`prefixRedirect` replace.
#[derive(Clone, Copy)]
enum Matched {
    /// The first `n` bytes of the path.
    Prefix(usize),
    /// The whole path.
    Whole,
}

struct Request<'a> {
    host: &'a str,
    /// Path without query string or fragment: matching never sees the query.
    path: &'a str,
    /// `?...` including the question mark, or empty.
    query: &'a str,
}

fn split_query(path: &str) -> (&str, &str) {
    let path = path.split('#').next().unwrap_or_default();
    match path.find('?') {
        Some(i) => (&path[..i], &path[i..]),
        None => (path, ""),
    }
}

/// Lowercased host without its port (`[v6]:port` aware).
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// Which host rule serves `host`: exact pattern, then the longest matching `*`-prefixed suffix,
/// then `*`. A pattern with a port is compared with the host as sent (port included).
fn select_host_rule<'m>(map: &'m UrlMap, host: &str) -> Option<&'m HostRule> {
    let with_port = host.to_ascii_lowercase();
    let bare = strip_port(&with_port);
    let mut best: Option<((u8, usize), &HostRule)> = None;
    for hr in &map.host_rules {
        for pattern in &hr.hosts {
            let p = pattern.to_ascii_lowercase();
            let subject = if p != "*" && strip_port(&p) != p {
                with_port.as_str()
            } else {
                bare
            };
            let score = if p == "*" {
                Some((0, 0))
            } else if let Some(suffix) = p.strip_prefix('*') {
                (subject.len() > suffix.len() && subject.ends_with(suffix))
                    .then_some((1, suffix.len()))
            } else {
                (subject == p).then_some((2, p.len()))
            };
            if let Some(s) = score
                && best.as_ref().is_none_or(|(b, _)| s > *b)
            {
                best = Some((s, hr));
            }
        }
    }
    best.map(|(_, hr)| hr)
}

/// Where `host` + `path` goes. `path` may carry a query string, which is kept on the forwarded
/// request (and on redirects unless `stripQuery`). Requests are taken to arrive over plain HTTP,
/// as in Compute's URL map tests, so a redirect without `httpsRedirect` keeps `http://`.
pub fn evaluate(map: &UrlMap, host: &str, path: &str) -> Outcome {
    let (path_only, query) = split_query(path);
    let req = Request {
        host,
        path: path_only,
        query,
    };
    let Some(hr) = select_host_rule(map, host) else {
        return resolve(
            &req,
            map.default_service.as_deref(),
            map.default_route_action.as_ref(),
            map.default_url_redirect.as_ref(),
            default_match(req.path),
            default_label(
                "",
                map.default_url_redirect.is_some(),
                map.default_service.is_some(),
            ),
        );
    };
    let Some((mi, pm)) = map
        .path_matchers
        .iter()
        .enumerate()
        .find(|(_, pm)| pm.name == hr.path_matcher)
    else {
        return Outcome::NoRoute;
    };
    let base = format!("pathMatchers[{mi}]");

    if let Some((ri, matched)) = best_path_rule(&pm.path_rules, req.path) {
        let r = &pm.path_rules[ri];
        return resolve(
            &req,
            r.service.as_deref(),
            r.route_action.as_ref(),
            r.url_redirect.as_ref(),
            matched,
            format!("{base}.pathRules[{ri}]"),
        );
    }
    if let Some((ri, matched)) = first_route_rule(&pm.route_rules, req.path) {
        let r = &pm.route_rules[ri];
        return resolve(
            &req,
            r.service.as_deref(),
            r.route_action.as_ref(),
            r.url_redirect.as_ref(),
            matched,
            format!("{base}.routeRules[{ri}]"),
        );
    }
    resolve(
        &req,
        pm.default_service.as_deref(),
        pm.default_route_action.as_ref(),
        pm.default_url_redirect.as_ref(),
        default_match(req.path),
        default_label(
            &format!("{base}."),
            pm.default_url_redirect.is_some(),
            pm.default_service.is_some(),
        ),
    )
}

/// A default behaves like a `/*` path rule: its matched portion is the leading slash.
fn default_match(path: &str) -> Matched {
    Matched::Prefix(usize::from(path.starts_with('/')))
}

fn default_label(prefix: &str, redirect: bool, service: bool) -> String {
    let field = if redirect {
        "defaultUrlRedirect"
    } else if service {
        "defaultService"
    } else {
        "defaultRouteAction"
    };
    format!("{prefix}{field}")
}

/// Longest-match over every pattern of every rule; order of rules is irrelevant.
///
/// The matched portion — what `pathPrefixRewrite` replaces — is the pattern without its `*` for
/// a prefix pattern, and the whole path for an exact one. So with paths `["/hello2",
/// "/hello2/*"]` and rewrite `/`: `/hello2` matches exactly and becomes `/`; `/hello2/x`
/// matches `/hello2/*`, whose matched portion is `/hello2/`, and becomes `/x` (not `//x`: that
/// would need the matched portion to be `/hello2`, which is a routeRule `prefixMatch`, not a
/// pathRule). This is the reading of Compute's "the matching portion of the request's path is
/// replaced by pathPrefixRewrite" that makes the seed-002 walkthrough work as described
/// (/hello2 → / and sub-paths reaching the service at the root); docs/google-cloud.md §5 marks the exact
/// real behaviour UNCONFIRMED, so the planner should prove it with a URL-map test on Google.
fn best_path_rule(rules: &[PathRule], path: &str) -> Option<(usize, Matched)> {
    // Score: (length of the literal part, exact beats prefix at equal length).
    let mut best: Option<((usize, u8), usize, Matched)> = None;
    for (i, r) in rules.iter().enumerate() {
        for p in &r.paths {
            let hit = match p.strip_suffix('*') {
                Some(prefix) => path
                    .starts_with(prefix)
                    .then_some(((prefix.len(), 0), Matched::Prefix(prefix.len()))),
                None => (path == p).then_some(((p.len(), 1), Matched::Whole)),
            };
            if let Some((score, matched)) = hit
                && best.as_ref().is_none_or(|(b, _, _)| score > *b)
            {
                best = Some((score, i, matched));
            }
        }
    }
    best.map(|(_, i, m)| (i, m))
}

/// Route rules by ascending priority; the first with a matching match rule wins.
fn first_route_rule(rules: &[HttpRouteRule], path: &str) -> Option<(usize, Matched)> {
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|&i| rules[i].priority);
    order.into_iter().find_map(|i| {
        rules[i]
            .match_rules
            .iter()
            .find_map(|m| match_rule(m, path))
            .map(|matched| (i, matched))
    })
}

fn match_rule(m: &HttpRouteRuleMatch, path: &str) -> Option<Matched> {
    // Conditions on headers or query parameters cannot hold for a request that has none.
    let has_conditions = ["headerMatches", "queryParameterMatches", "metadataFilters"]
        .iter()
        .any(|k| {
            m.extra
                .get(*k)
                .is_some_and(|v| v.as_array().is_none_or(|a| !a.is_empty()))
        });
    if has_conditions || m.path_template_match.is_some() {
        return None;
    }
    let ignore_case = m.ignore_case.unwrap_or(false);
    let eq = |a: &str, b: &str| {
        if ignore_case {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    if let Some(prefix) = &m.prefix_match {
        let n = prefix.len();
        return (path.len() >= n && path.is_char_boundary(n) && eq(&path[..n], prefix))
            .then_some(Matched::Prefix(n));
    }
    if let Some(full) = &m.full_path_match {
        return eq(path, full).then_some(Matched::Whole);
    }
    if let Some(re) = &m.regex_match {
        let anchored = format!("^(?:{re})$");
        let re = regex::RegexBuilder::new(&anchored)
            .case_insensitive(ignore_case)
            .build()
            .ok()?;
        return re.is_match(path).then_some(Matched::Whole);
    }
    // No path condition at all: matches every path.
    Some(Matched::Prefix(0))
}

fn replace_matched(path: &str, matched: Matched, replacement: &str) -> String {
    match matched {
        Matched::Whole => replacement.to_string(),
        Matched::Prefix(n) => {
            // Out of range or inside a character only for malformed paths; match nothing then.
            let n = if path.get(..n).is_some() { n } else { 0 };
            format!("{replacement}{}", &path[n..])
        }
    }
}

fn resolve(
    req: &Request<'_>,
    service: Option<&str>,
    action: Option<&HttpRouteAction>,
    redirect: Option<&HttpRedirectAction>,
    matched: Matched,
    label: String,
) -> Outcome {
    if let Some(r) = redirect {
        let https = r.https_redirect.unwrap_or(false);
        let scheme = if https { "https" } else { "http" };
        let host = match &r.host_redirect {
            Some(h) => h.clone(),
            // Switching to https drops an explicit port: it belonged to the plain-HTTP listener.
            None if https => strip_port(req.host).to_string(),
            None => req.host.to_string(),
        };
        let path = match (&r.path_redirect, &r.prefix_redirect) {
            (Some(p), _) => p.clone(),
            (None, Some(prefix)) => replace_matched(req.path, matched, prefix),
            (None, None) => req.path.to_string(),
        };
        let query = if r.strip_query.unwrap_or(false) {
            ""
        } else {
            req.query
        };
        return Outcome::Redirect {
            code: redirect_code(r.redirect_response_code.as_deref()),
            url: format!("{scheme}://{host}{path}{query}"),
            matched: label,
        };
    }
    let services: Vec<(String, u32)> = match action {
        Some(a) if !a.weighted_backend_services.is_empty() => a
            .weighted_backend_services
            .iter()
            .map(|w| {
                (
                    w.backend_service.clone(),
                    w.weight.clamp(0, MAX_WEIGHT) as u32,
                )
            })
            .collect(),
        _ => match service {
            Some(s) => vec![(s.to_string(), 1)],
            None => return Outcome::NoRoute,
        },
    };
    let rewrite = action.and_then(|a| a.url_rewrite.as_ref());
    let path = match rewrite.and_then(|r| r.path_prefix_rewrite.as_deref()) {
        Some(p) => replace_matched(req.path, matched, p),
        None => req.path.to_string(),
    };
    let host = match rewrite.and_then(|r| r.host_rewrite.as_deref()) {
        Some(h) => h.to_string(),
        None => req.host.to_string(),
    };
    Outcome::Route {
        services,
        path: format!("{path}{}", req.query),
        host,
        matched: label,
    }
}

fn redirect_code(code: Option<&str>) -> u16 {
    match code {
        Some("FOUND") => 302,
        Some("SEE_OTHER") => 303,
        Some("TEMPORARY_REDIRECT") => 307,
        Some("PERMANENT_REDIRECT") => 308,
        _ => 301,
    }
}

// ------------------------------------------------------------------------------------------
// tests[]

/// A failed URL map test, shaped like Compute's `UrlMapValidationResult.testFailures[]` so the
/// sandbox can return it as is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestFailure {
    #[serde(skip)]
    pub index: usize,
    pub host: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_output_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_output_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_redirect_response_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_redirect_response_code: Option<i64>,
    /// Human-readable reason (not a Compute field; skipped from the JSON).
    #[serde(skip)]
    pub message: String,
}

/// Evaluates every entry of `tests[]`; empty when all pass.
///
/// A test naming a `service` passes when that service receives traffic (weight > 0) — for a
/// weighted split any of its services counts. `expectedOutputUrl` is compared without its scheme
/// for forwarded requests (Compute ignores it when `service` is given) and in full for
/// redirects.
pub fn run_tests(map: &UrlMap) -> Vec<TestFailure> {
    let mut failures = Vec::new();
    for (index, t) in map.tests.iter().enumerate() {
        let outcome = evaluate(map, &t.host, &t.path);
        let mut f = TestFailure {
            index,
            host: t.host.clone(),
            path: t.path.clone(),
            expected_service: t.service.clone(),
            expected_output_url: t.expected_output_url.clone(),
            expected_redirect_response_code: t.expected_redirect_response_code,
            ..TestFailure::default()
        };
        let mut problems: Vec<String> = Vec::new();
        match &outcome {
            Outcome::Route {
                services,
                path,
                host,
                ..
            } => {
                let main = services
                    .iter()
                    .max_by_key(|(_, w)| *w)
                    .map(|(s, _)| s.clone());
                f.actual_service = main.clone();
                let actual_url = format!("http://{host}{path}");
                f.actual_output_url = Some(actual_url.clone());
                if let Some(want) = &t.service
                    && !services
                        .iter()
                        .any(|(s, w)| *w > 0 && crate::domain::links::same_reference(s, want))
                {
                    problems.push(format!(
                        "expected service {want}, got {}",
                        main.unwrap_or_default()
                    ));
                }
                if let Some(want) = &t.expected_output_url
                    && without_scheme(want) != without_scheme(&actual_url)
                {
                    problems.push(format!("expected output URL {want}, got {actual_url}"));
                }
                if t.expected_redirect_response_code.is_some() {
                    problems.push("expected a redirect, the request is forwarded".into());
                }
            }
            Outcome::Redirect { code, url, .. } => {
                f.actual_redirect_response_code = Some(i64::from(*code));
                f.actual_output_url = Some(url.clone());
                if t.service.is_some() {
                    problems.push(format!("expected a service, got a {code} redirect"));
                }
                if let Some(want) = t.expected_redirect_response_code
                    && want != i64::from(*code)
                {
                    problems.push(format!("expected redirect code {want}, got {code}"));
                }
                if let Some(want) = &t.expected_output_url
                    && !same_url(want, url)
                {
                    problems.push(format!("expected output URL {want}, got {url}"));
                }
            }
            Outcome::NoRoute => problems.push("no route for this request".into()),
        }
        if !problems.is_empty() {
            f.message = problems.join("; ");
            failures.push(f);
        }
    }
    failures
}

fn without_scheme(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest)
}

/// Redirect URLs: scheme compared case-insensitively, a missing path means `/`.
fn same_url(a: &str, b: &str) -> bool {
    fn norm(u: &str) -> String {
        let (scheme, rest) = u.split_once("://").unwrap_or(("http", u));
        let rest = if rest.contains('/') {
            rest.to_string()
        } else {
            format!("{rest}/")
        };
        format!("{}://{rest}", scheme.to_ascii_lowercase())
    }
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::plan::redirect_map;
    use crate::domain::urlmap::UrlMapTest;
    use crate::domain::urlmap::check;
    use crate::domain::urlmap::fixtures::{field_of, map, route, rt, seed2};
    use serde_json::json;

    #[test]
    fn seed2_checks_and_rewrites_sub_paths_to_the_root() {
        let m = seed2();
        check(&m).unwrap();
        let (s, p, h) = route(evaluate(&m, "34.1.2.3", "/hello2"));
        assert_eq!(
            (s, p, h),
            rt(&["global/backendServices/hello2"], "/", "34.1.2.3")
        );
        let (_, p, _) = route(evaluate(&m, "34.1.2.3", "/hello2/x"));
        assert_eq!(p, "/x");
        let (_, p, _) = route(evaluate(&m, "34.1.2.3", "/hello2/a/b?q=1"));
        assert_eq!(p, "/a/b?q=1");
        let (s, p, h) = route(evaluate(&m, "34.1.2.3", "/hello22"));
        assert_eq!(
            (s, p, h),
            rt(&["global/backendServices/hello"], "/hello22", "34.1.2.3")
        );
        let (s, _, _) = route(evaluate(&m, "34.1.2.3", "/"));
        assert_eq!(s, vec!["global/backendServices/hello"]);
    }

    #[test]
    fn host_matching_precedence() {
        let m = map(json!({"name": "m", "defaultService": "def",
        "hostRules": [
            {"hosts": ["*"], "pathMatcher": "star"},
            {"hosts": ["*.example.com"], "pathMatcher": "wide"},
            {"hosts": ["*.api.example.com"], "pathMatcher": "narrow"},
            {"hosts": ["exact.api.example.com"], "pathMatcher": "exact"},
            {"hosts": ["ported.com:8080"], "pathMatcher": "ported"}
        ],
        "pathMatchers": [
            {"name": "star", "defaultService": "star"},
            {"name": "wide", "defaultService": "wide"},
            {"name": "narrow", "defaultService": "narrow"},
            {"name": "exact", "defaultService": "exact"},
            {"name": "ported", "defaultService": "ported"}
        ]}));
        check(&m).unwrap();
        let svc = |h: &str| route(evaluate(&m, h, "/")).0[0].to_string();
        assert_eq!(svc("exact.api.example.com"), "exact");
        assert_eq!(svc("EXACT.api.example.com:443"), "exact");
        assert_eq!(svc("x.api.example.com"), "narrow");
        assert_eq!(svc("x.example.com"), "wide");
        assert_eq!(svc("example.com"), "star");
        assert_eq!(svc("ported.com:8080"), "ported");
        assert_eq!(svc("ported.com"), "star");
        let no_star = map(json!({"name": "m", "defaultService": "def",
            "hostRules": [{"hosts": ["a.com"], "pathMatcher": "a"}],
            "pathMatchers": [{"name": "a", "defaultService": "a"}]}));
        let (s, _, _) = route(evaluate(&no_star, "b.com", "/"));
        assert_eq!(s, vec!["def"]);
    }

    #[test]
    fn path_rules_longest_match_and_exactness() {
        let m = map(json!({"name": "m", "defaultService": "def",
        "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
        "pathMatchers": [{"name": "pm", "defaultService": "pmdef", "pathRules": [
            {"paths": ["/*"], "service": "root"},
            {"paths": ["/x"], "service": "x-exact"},
            {"paths": ["/x/*"], "service": "x-tree"},
            {"paths": ["/x/y/*"], "service": "xy-tree"}
        ]}]}));
        check(&m).unwrap();
        let svc = |p: &str| route(evaluate(&m, "h", p)).0[0].to_string();
        assert_eq!(svc("/x"), "x-exact");
        assert_eq!(svc("/x/"), "x-tree");
        assert_eq!(svc("/x/a"), "x-tree");
        assert_eq!(svc("/x/y/z"), "xy-tree");
        assert_eq!(svc("/x/y"), "x-tree");
        assert_eq!(svc("/xy"), "root");
        assert_eq!(svc("/x?q"), "x-exact");
    }

    #[test]
    fn route_rules_by_priority_and_prefix_rewrite_semantics() {
        let m = map(json!({"name": "m", "defaultService": "def",
        "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
        "pathMatchers": [{"name": "pm", "defaultService": "pmdef", "routeRules": [
            {"priority": 20, "matchRules": [{"prefixMatch": "/"}], "service": "catchall"},
            {"priority": 10, "matchRules": [{"prefixMatch": "/api"}], "service": "api",
             "routeAction": {"urlRewrite": {"pathPrefixRewrite": "/", "hostRewrite": "api.internal"}}},
            {"priority": 5, "matchRules": [{"fullPathMatch": "/API/V1", "ignoreCase": true}], "service": "v1"},
            {"priority": 1, "matchRules": [{"prefixMatch": "/h", "headerMatches": [{"headerName": "x"}]}], "service": "hdr"},
            {"priority": 3, "matchRules": [{"regexMatch": "/re/[0-9]+"}], "service": "re"}
        ]}]}));
        check(&m).unwrap();
        // A routeRule prefixMatch without a trailing slash leaves that slash in: /api/x → //x.
        let (s, p, h) = route(evaluate(&m, "h", "/api/x"));
        assert_eq!((s, p, h), rt(&["api"], "//x", "api.internal"));
        assert_eq!(route(evaluate(&m, "h", "/api/v1")).0, vec!["v1"]);
        assert_eq!(route(evaluate(&m, "h", "/h")).0, vec!["catchall"]);
        assert_eq!(route(evaluate(&m, "h", "/re/12")).0, vec!["re"]);
        assert_eq!(route(evaluate(&m, "h", "/re/12a")).0, vec!["catchall"]);
    }

    #[test]
    fn redirects() {
        let r = redirect_map("shop");
        check(&r).unwrap();
        assert_eq!(r.name, "shop-redirect");
        assert_eq!(
            evaluate(&r, "shop.example.com:80", "/a?b=1"),
            Outcome::Redirect {
                code: 301,
                url: "https://shop.example.com/a?b=1".into(),
                matched: "defaultUrlRedirect".into()
            }
        );
        let m = map(json!({"name": "m", "defaultService": "def",
        "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
        "pathMatchers": [{"name": "pm", "defaultService": "d", "pathRules": [
            {"paths": ["/old/*"], "urlRedirect": {"prefixRedirect": "/new/", "redirectResponseCode": "FOUND", "stripQuery": true, "hostRedirect": "n.com"}}
        ]}]}));
        check(&m).unwrap();
        match evaluate(&m, "o.com", "/old/a?q") {
            Outcome::Redirect { code, url, .. } => {
                assert_eq!((code, url.as_str()), (302, "http://n.com/new/a"));
            }
            o => panic!("{o:?}"),
        }
        let mut bad = r.clone();
        bad.default_url_redirect
            .as_mut()
            .unwrap()
            .redirect_response_code = Some("MOVED".into());
        assert_eq!(
            field_of(&bad),
            "resource.defaultUrlRedirect.redirectResponseCode"
        );
    }

    #[test]
    fn tests_pass_and_fail_with_compute_shaped_failures() {
        let mut m = seed2();
        m.tests = vec![
            UrlMapTest {
                host: "a.com".into(),
                path: "/hello2/x".into(),
                service: Some(
                    "https://www.googleapis.com/compute/v1/projects/p/global/backendServices/hello2"
                        .into(),
                ),
                expected_output_url: Some("https://a.com/x".into()),
                ..UrlMapTest::default()
            },
            UrlMapTest {
                host: "a.com".into(),
                path: "/".into(),
                service: Some("projects/p/global/backendServices/hello".into()),
                ..UrlMapTest::default()
            },
            UrlMapTest {
                host: "a.com".into(),
                path: "/hello2".into(),
                service: Some("global/backendServices/hello".into()),
                ..UrlMapTest::default()
            },
            UrlMapTest {
                host: "a.com".into(),
                path: "/".into(),
                expected_redirect_response_code: Some(301),
                ..UrlMapTest::default()
            },
        ];
        check(&m).unwrap();
        let f = run_tests(&m);
        assert_eq!(f.iter().map(|f| f.index).collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(
            f[0].actual_service.as_deref(),
            Some("global/backendServices/hello2")
        );
        let j = serde_json::to_value(&f[1]).unwrap();
        assert_eq!(j["expectedRedirectResponseCode"], 301);
        assert!(j.get("index").is_none());
    }
}
