//! Conformance, URL maps (API-NOTES §5, §11.8): the structural checks, tests run on insert and
//! update, `validate`, and what only some load balancers accept: a classic (`EXTERNAL`) one
//! refuses the advanced route actions, and a global external one refuses regular expressions,
//! which only Traffic Director (`INTERNAL_SELF_MANAGED`) and regional load balancers take.

use crate::conformance_support::*;
use reqwest::Method;
use serde_json::{Value, json};

fn invalid(field: &str, value: &str, why: &str) -> String {
    format!("Invalid value for field '{field}': '{value}'. {why}")
}

async fn refused(
    c: &crate::cloud_support::TestCloud,
    map: Value,
    field: &str,
    value: &str,
    why: &str,
) {
    post(c, &g("urlMaps"), map)
        .await
        .is_error(400, "invalid", &invalid(field, value, why));
}

#[tokio::test]
async fn s5_exactly_one_default_is_set() {
    let c = cloud().await;
    let bs = backend_service(&c, "b").await;
    refused(
        &c,
        json!({"name": "m"}),
        "resource.defaultService",
        "",
        "Exactly one of defaultService, defaultRouteAction.weightedBackendServices or defaultUrlRedirect must be set.",
    )
    .await;
    refused(
        &c,
        json!({"name": "m", "defaultService": bs, "defaultUrlRedirect": {"httpsRedirect": true}}),
        "resource.defaultUrlRedirect",
        "",
        "Only one of defaultService, defaultRouteAction.weightedBackendServices or defaultUrlRedirect may be set.",
    )
    .await;
}

#[tokio::test]
async fn s5_a_host_rule_names_an_existing_path_matcher() {
    let c = cloud().await;
    let bs = backend_service(&c, "b").await;
    refused(
        &c,
        json!({"name": "m", "defaultService": bs,
            "hostRules": [{"hosts": ["*"], "pathMatcher": "nope"}]}),
        "resource.hostRules[0].pathMatcher",
        "nope",
        "The host rule names a path matcher that does not exist in this URL map.",
    )
    .await;
    refused(
        &c,
        json!({"name": "m", "defaultService": bs,
            "hostRules": [{"hosts": ["a*.example.com"], "pathMatcher": "pm"}],
            "pathMatchers": [{"name": "pm", "defaultService": bs}]}),
        "resource.hostRules[0].hosts[0]",
        "a*.example.com",
        "'*' is only allowed as the first character of a host pattern.",
    )
    .await;
}

#[tokio::test]
async fn s5_path_rules_and_route_rules_are_exclusive() {
    let c = cloud().await;
    let bs = backend_service(&c, "b").await;
    refused(
        &c,
        json!({"name": "m", "defaultService": bs,
            "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
            "pathMatchers": [{"name": "pm", "defaultService": bs,
                "pathRules": [{"paths": ["/a"], "service": bs}],
                "routeRules": [{"priority": 1, "matchRules": [{"prefixMatch": "/b"}], "service": bs}]}]}),
        "resource.pathMatchers[0].routeRules",
        "",
        "A path matcher may have pathRules or routeRules, not both.",
    )
    .await;
}

#[tokio::test]
async fn s5_paths_follow_the_path_syntax() {
    let c = cloud().await;
    let bs = backend_service(&c, "b").await;
    let with_path = |p: &str| {
        json!({"name": "m", "defaultService": bs,
            "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
            "pathMatchers": [{"name": "pm", "defaultService": bs,
                "pathRules": [{"paths": [p], "service": bs}]}]})
    };
    for (p, why) in [
        ("a/b", "A path must start with '/'."),
        ("/a?b", "A path must not contain '?' or '#'."),
        (
            "/a*",
            "'*' is only allowed at the end of a path, right after '/'.",
        ),
        (
            "/*/b",
            "'*' is only allowed at the end of a path, right after '/'.",
        ),
    ] {
        refused(
            &c,
            with_path(p),
            "resource.pathMatchers[0].pathRules[0].paths[0]",
            p,
            why,
        )
        .await;
    }
}

#[tokio::test]
async fn s5_weights_are_0_to_1000_with_one_above_0() {
    let c = cloud().await;
    let bs = backend_service(&c, "b").await;
    refused(
        &c,
        json!({"name": "m", "defaultRouteAction": {"weightedBackendServices": [
            {"backendService": bs, "weight": 1001}]}}),
        "resource.defaultRouteAction.weightedBackendServices[0].weight",
        "1001",
        "Weight must be between 0 and 1000.",
    )
    .await;
    refused(
        &c,
        json!({"name": "m", "defaultRouteAction": {"weightedBackendServices": [
            {"backendService": bs, "weight": 0}]}}),
        "resource.defaultRouteAction.weightedBackendServices",
        "",
        "At least one weighted backend service must have a weight greater than 0.",
    )
    .await;
}

#[tokio::test]
async fn s5_rewrites_have_their_lengths() {
    let c = cloud().await;
    let bs = backend_service(&c, "b").await;
    let long = format!("/{}", "a".repeat(1024));
    refused(
        &c,
        json!({"name": "m", "defaultService": bs,
            "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
            "pathMatchers": [{"name": "pm", "defaultService": bs,
                "pathRules": [{"paths": ["/a/*"], "service": bs,
                    "routeAction": {"urlRewrite": {"pathPrefixRewrite": long}}}]}]}),
        "resource.pathMatchers[0].pathRules[0].routeAction.urlRewrite.pathPrefixRewrite",
        &long,
        "pathPrefixRewrite must be 1 to 1024 characters long.",
    )
    .await;
    let host = "h".repeat(256);
    refused(
        &c,
        json!({"name": "m", "defaultService": bs,
            "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
            "pathMatchers": [{"name": "pm", "defaultService": bs,
                "pathRules": [{"paths": ["/a/*"], "service": bs,
                    "routeAction": {"urlRewrite": {"hostRewrite": host}}}]}]}),
        "resource.pathMatchers[0].pathRules[0].routeAction.urlRewrite.hostRewrite",
        &host,
        "hostRewrite must be 1 to 255 characters long.",
    )
    .await;
}

#[tokio::test]
async fn s5_tests_run_on_insert_and_update_and_are_at_most_100() {
    let c = cloud().await;
    let bs = backend_service(&c, "b").await;
    let other = backend_service(&c, "other").await;
    refused(
        &c,
        json!({"name": "m", "defaultService": bs,
            "tests": [{"host": "a.example.com", "path": "/", "service": other}]}),
        "resource.tests[0]",
        "a.example.com/",
        &format!("Test failure: expected service {other}, got {bs}"),
    )
    .await;
    let many: Vec<Value> = (0..101)
        .map(|_| json!({"host": "a.example.com", "path": "/", "service": bs}))
        .collect();
    refused(
        &c,
        json!({"name": "m", "defaultService": bs, "tests": many}),
        "resource.tests",
        "101",
        "A URL map may have at most 100 tests.",
    )
    .await;
    create(
        &c,
        &g("urlMaps"),
        json!({"name": "m", "defaultService": bs,
            "tests": [{"host": "a.example.com", "path": "/", "service": bs}]}),
    )
    .await;
    let current = get(&c, &g("urlMaps/m")).await.ok().clone();
    let mut changed = current.clone();
    changed["defaultService"] = json!(other);
    call(&c, Method::PUT, &g("urlMaps/m"), Some(changed))
        .await
        .is_error(
            400,
            "invalid",
            &invalid(
                "resource.tests[0]",
                "a.example.com/",
                &format!("Test failure: expected service {bs}, got {other}"),
            ),
        );
}

#[tokio::test]
async fn s5_validate_answers_a_result_and_stores_nothing() {
    let c = cloud().await;
    let bs = backend_service(&c, "b").await;
    let ok = post(
        &c,
        &g("urlMaps/anything/validate"),
        json!({"resource": {"name": "x", "defaultService": bs,
            "tests": [{"host": "a.example.com", "path": "/", "service": bs}]},
            "loadBalancingSchemes": ["EXTERNAL_MANAGED"]}),
    )
    .await;
    assert_eq!(
        ok.ok(),
        &json!({"result": {"loadSucceeded": true, "testPassed": true}})
    );
    let bad = post(
        &c,
        &g("urlMaps/x/validate"),
        json!({"resource": {"name": "x", "defaultService": bs, "defaultUrlRedirect": {"httpsRedirect": true}}}),
    )
    .await;
    assert_eq!(
        bad.ok(),
        &json!({"result": {"loadSucceeded": false, "testPassed": false, "loadErrors": [invalid(
            "resource.defaultUrlRedirect", "",
            "Only one of defaultService, defaultRouteAction.weightedBackendServices or defaultUrlRedirect may be set.")]}})
    );
    get(&c, &g("urlMaps/x")).await.is_error(
        404,
        "notFound",
        "The resource 'projects/acme/global/urlMaps/x' was not found",
    );
}

#[tokio::test]
async fn s5_a_classic_load_balancer_takes_only_url_rewrites_in_route_actions() {
    let c = cloud().await;
    let classic = bare_backend_service(&c, "classic", "EXTERNAL").await;
    let field = "resource.defaultRouteAction.weightedBackendServices";
    refused(
        &c,
        json!({"name": "m", "defaultRouteAction": {"weightedBackendServices": [
            {"backendService": classic, "weight": 100}]}}),
        field,
        "",
        &format!("{field} is only supported with load balancing scheme EXTERNAL_MANAGED."),
    )
    .await;
    refused(
        &c,
        json!({"name": "m", "defaultService": classic,
            "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
            "pathMatchers": [{"name": "pm", "defaultService": classic,
                "routeRules": [{"priority": 1, "service": classic,
                    "matchRules": [{"prefixMatch": "/", "headerMatches": [
                        {"headerName": "x-n", "rangeMatch": {"rangeStart": "1", "rangeEnd": "9"}}]}]}]}]}),
        "resource.pathMatchers[0].routeRules[0].matchRules[0].headerMatches[0].rangeMatch",
        "{\"rangeEnd\":\"9\",\"rangeStart\":\"1\"}",
        "rangeMatch is not supported for load balancers that have loadBalancingScheme set to EXTERNAL.",
    )
    .await;
    // validate names the scheme asked for.
    let bs = backend_service(&c, "managed").await;
    let v = post(
        &c,
        &g("urlMaps/m/validate"),
        json!({"resource": {"name": "m", "defaultRouteAction": {"weightedBackendServices": [
            {"backendService": bs, "weight": 100}]}}, "loadBalancingSchemes": ["EXTERNAL"]}),
    )
    .await;
    assert_eq!(v.ok()["result"]["loadSucceeded"], false);
}

const REGEX: &str = "Regular expressions can only be used when the loadBalancingScheme is set to INTERNAL_SELF_MANAGED, EXTERNAL_MANAGED (regional scope) or INTERNAL_MANAGED.";

fn with_route_match(bs: &str, match_rule: Value) -> Value {
    json!({"name": "m", "defaultService": bs,
        "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
        "pathMatchers": [{"name": "pm", "defaultService": bs,
            "routeRules": [{"priority": 1, "service": bs, "matchRules": [match_rule]}]}]})
}

#[tokio::test]
async fn s5_a_global_external_load_balancer_refuses_regular_expressions() {
    let c = cloud().await;
    let bs = backend_service(&c, "b").await;
    let base = "resource.pathMatchers[0].routeRules[0].matchRules[0]";
    refused(
        &c,
        with_route_match(&bs, json!({"regexMatch": "^/api/v[0-9]+/"})),
        &format!("{base}.regexMatch"),
        "^/api/v[0-9]+/",
        REGEX,
    )
    .await;
    refused(
        &c,
        with_route_match(
            &bs,
            json!({"prefixMatch": "/", "headerMatches": [{"headerName": "x-v", "regexMatch": "[0-9]+"}]}),
        ),
        &format!("{base}.headerMatches[0].regexMatch"),
        "[0-9]+",
        REGEX,
    )
    .await;
    refused(
        &c,
        with_route_match(
            &bs,
            json!({"prefixMatch": "/", "queryParameterMatches": [{"name": "q", "regexMatch": "a.*"}]}),
        ),
        &format!("{base}.queryParameterMatches[0].regexMatch"),
        "a.*",
        REGEX,
    )
    .await;
    // validate says the same.
    let v = post(
        &c,
        &g("urlMaps/m/validate"),
        json!({"resource": with_route_match(&bs, json!({"regexMatch": "^/a"})),
            "loadBalancingSchemes": ["EXTERNAL_MANAGED"]}),
    )
    .await;
    assert_eq!(
        v.ok()["result"]["loadErrors"],
        json!([invalid(&format!("{base}.regexMatch"), "^/a", REGEX)])
    );
}

#[tokio::test]
async fn s5_traffic_director_backends_may_use_regular_expressions() {
    let c = cloud().await;
    let bs = bare_backend_service(&c, "td", "INTERNAL_SELF_MANAGED").await;
    create(
        &c,
        &g("urlMaps"),
        with_route_match(&bs, json!({"regexMatch": "^/api/v[0-9]+/"})),
    )
    .await;
}

#[tokio::test]
async fn s5_other_traffic_director_only_fields_are_refused() {
    let c = cloud().await;
    let bs = backend_service(&c, "b").await;
    refused(
        &c,
        with_route_match(
            &bs,
            json!({"prefixMatch": "/", "metadataFilters": [{"filterMatchCriteria": "MATCH_ALL",
                "filterLabels": [{"name": "l", "value": "v"}]}]}),
        ),
        "resource.pathMatchers[0].routeRules[0].matchRules[0].metadataFilters",
        "[{\"filterLabels\":[{\"name\":\"l\",\"value\":\"v\"}],\"filterMatchCriteria\":\"MATCH_ALL\"}]",
        "metadataFilters only applies to load balancers that have loadBalancingScheme set to INTERNAL_SELF_MANAGED.",
    )
    .await;
    refused(
        &c,
        json!({"name": "m", "defaultService": bs,
            "defaultRouteAction": {"corsPolicy": {"allowOriginRegexes": [".*"]}}}),
        "resource.defaultRouteAction.corsPolicy.allowOriginRegexes",
        "[\".*\"]",
        "Regular expressions can only be used when the loadBalancingScheme is set to INTERNAL_SELF_MANAGED.",
    )
    .await;
    refused(
        &c,
        json!({"name": "m", "defaultService": bs,
            "defaultRouteAction": {"maxStreamDuration": {"seconds": "60"}}}),
        "resource.defaultRouteAction.maxStreamDuration",
        "{\"seconds\":\"60\"}",
        "This field is only allowed if the Url map is used with backend services with loadBalancingScheme set to INTERNAL_SELF_MANAGED.",
    )
    .await;
}

const HOST_REWRITE: &str = "Modifying the Host header is not supported in the URL map for backend services with Internet network endpoint groups; set it with a custom request header (\"Host: NAME\") on the backend service instead.";

#[tokio::test]
async fn s16_a_host_rewrite_towards_an_internet_neg_is_refused() {
    let c = cloud().await;
    internet_neg(&c, "ext").await;
    create(
        &c,
        &g("backendServices"),
        json!({"name": "ext-bs", "loadBalancingScheme": "EXTERNAL_MANAGED", "protocol": "HTTPS",
            "backends": [{"group": link("global/networkEndpointGroups/ext")}]}),
    )
    .await;
    let ext = link("global/backendServices/ext-bs");
    let run = backend_service(&c, "run").await;
    let map = |target: &str| {
        json!({"name": "m", "defaultService": run,
            "hostRules": [{"hosts": ["*"], "pathMatcher": "pm"}],
            "pathMatchers": [{"name": "pm", "defaultService": run,
                "pathRules": [{"paths": ["/a/*"], "service": target,
                    "routeAction": {"urlRewrite": {"hostRewrite": "other.example.com"}}}]}]})
    };
    let field = "resource.pathMatchers[0].pathRules[0].routeAction.urlRewrite.hostRewrite";
    refused(&c, map(&ext), field, "other.example.com", HOST_REWRITE).await;
    // `validate` reports the same refusal.
    let v = post(&c, &g("urlMaps/m/validate"), json!({"resource": map(&ext)})).await;
    assert_eq!(
        v.ok()["result"]["loadErrors"],
        json!([invalid(field, "other.example.com", HOST_REWRITE)])
    );
    // Towards a serverless NEG the same rewrite is fine.
    create(&c, &g("urlMaps"), map(&run)).await;
}
