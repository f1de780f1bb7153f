//! Compute Engine v1 `UrlMap`: the subset Switchyard writes, a checker with the API's rules, and
//! an evaluator that answers "where does this request go".
//!
//! One evaluator serves three callers: the sandbox cloud (insert/update/validate run `check` and
//! `run_tests`), the planner (`from_spec`) and the route preview and lint (which evaluate the map
//! `from_spec` builds). Keeping one implementation means the preview cannot disagree with what the
//! sandbox accepts.
//!
//! Field names follow Compute's JSON (camelCase). Every struct keeps the fields it does not model
//! in `extra`, so a client's `headerAction`, `kind`, `selfLink`, `headerMatches`... survive a
//! store-and-return round trip instead of being silently dropped.
//!
//! Matching rules implemented (API-NOTES §5, Compute's field documentation):
//! - hosts: port stripped unless the pattern names a port; exact beats `*.suffix`/`*-suffix`
//!   (longest suffix wins), which beats `*`; no host rule matches → the map's defaults;
//! - pathRules: longest pattern wins whatever the order; `/x/*` matches `/x/` and below, `/x`
//!   only `/x`; an exact pattern beats a prefix pattern of the same length;
//! - routeRules: lowest `priority` first, first rule with a matching `matchRules[]` entry wins;
//!   match rules with header or query-parameter conditions never match, since the evaluator only
//!   sees host and path; `pathTemplateMatch` is not evaluated (never matches);
//! - nothing matched in a path matcher → that matcher's defaults.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::names;
use super::spec::{Spec, Target};

/// Fields a client sent that this model does not name; kept verbatim.
pub type Extra = Map<String, Value>;

/// Most tests a URL map may carry (API-NOTES §5).
pub const MAX_TESTS: usize = 100;
pub const MAX_WEIGHT: i64 = 1000;
pub const MAX_PATH_PREFIX_REWRITE: usize = 1024;
pub const MAX_HOST_REWRITE: usize = 255;
const MAX_PATH: usize = 1024;
const MAX_PRIORITY: i64 = 2_147_483_647;

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

// ------------------------------------------------------------------------------------------
// check

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

/// The API's acceptance rules (API-NOTES §11.8); the first violation, as Compute reports one.
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

// ------------------------------------------------------------------------------------------
// evaluate

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
/// (/hello2 → / and sub-paths reaching the service at the root); API-NOTES §5 marks the exact
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
                        .any(|(s, w)| *w > 0 && same_resource(s, want))
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

/// Whether two references name the same Compute resource, whatever their form: full URL on
/// either host (`https://www.googleapis.com/compute/v1/projects/P/global/backendServices/N`),
/// `projects/P/global/backendServices/N`, `global/backendServices/N`, or a bare name (compared by
/// last segment). A project is only compared when both sides name one.
pub fn same_resource(a: &str, b: &str) -> bool {
    fn parts(s: &str) -> (Option<&str>, &str) {
        let s = s.split_once("/compute/v1/").map_or(s, |(_, rest)| rest);
        let s = s.trim_matches('/');
        match s.strip_prefix("projects/").and_then(|r| r.split_once('/')) {
            Some((project, rest)) => (Some(project), rest),
            None => (None, s),
        }
    }
    let (pa, ra) = parts(a);
    let (pb, rb) = parts(b);
    if !ra.contains('/') || !rb.contains('/') {
        return ra.rsplit('/').next() == rb.rsplit('/').next();
    }
    ra == rb && (pa.is_none() || pb.is_none() || pa == pb)
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

/// Fields that need backend services with scheme `EXTERNAL_MANAGED` (weighted splits, host
/// rewrites, header actions), as Compute field paths; empty when a classic `EXTERNAL` load
/// balancer could serve the map (API-NOTES §5).
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

// ------------------------------------------------------------------------------------------
// from the spec

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

/// Path matcher names `from_spec` gives: `hosts-1`, `hosts-2`... in order of first appearance.
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
pub fn from_spec(spec: &Spec, bs_ref: &dyn Fn(&str) -> String) -> UrlMap {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> UrlMap {
        serde_json::from_value(v).unwrap()
    }

    fn field_of(m: &UrlMap) -> String {
        check(m).unwrap_err().field
    }

    /// The seed-002 shape: default to hello, /hello2 and below to hello2 with the prefix rewritten.
    fn seed2() -> UrlMap {
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

    fn route(o: Outcome) -> (Vec<String>, String, String) {
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

    fn rt(services: &[&str], path: &str, host: &str) -> (Vec<String>, String, String) {
        (
            services.iter().map(|s| s.to_string()).collect(),
            path.into(),
            host.into(),
        )
    }

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

    #[test]
    fn resource_references_compare_by_path() {
        assert!(same_resource(
            "https://compute.googleapis.com/compute/v1/projects/p/global/backendServices/a",
            "https://www.googleapis.com/compute/v1/projects/p/global/backendServices/a"
        ));
        assert!(same_resource(
            "global/backendServices/a",
            "projects/p/global/backendServices/a"
        ));
        assert!(same_resource("a", "projects/p/global/backendServices/a"));
        assert!(!same_resource(
            "projects/p/global/backendServices/a",
            "projects/q/global/backendServices/a"
        ));
        assert!(!same_resource(
            "global/backendServices/a",
            "global/backendServices/b"
        ));
    }

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
        let m = from_spec(&s, &|b| format!("global/backendServices/shop-bs-{b}"));
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
        let m = from_spec(&s, &|b| b.to_string());
        check(&m).unwrap();
        assert_eq!(m.default_service.as_deref(), Some("web"));
        assert!(m.host_rules.is_empty() && m.path_matchers.is_empty());
        assert_eq!(route(evaluate(&m, "x", "/anything")).0, vec!["web"]);
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
