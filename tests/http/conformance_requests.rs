//! Conformance, the front door (API-NOTES §10, §11.1): which paths and verbs exist, what the
//! query may hold, and what a body may hold by the method's schema in the discovery document.

use crate::conformance_support::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn s11_1_compute_paths_take_googles_global_query_parameters() {
    let c = cloud().await;
    let r = get(
        &c,
        &format!(
            "{}?alt=json&prettyPrint=false&fields=items&quotaUser=u",
            g("backendServices")
        ),
    )
    .await;
    assert_eq!(r.ok()["kind"], "compute#backendServiceList");
}

#[tokio::test]
async fn s11_1_a_path_no_method_has_is_googles_html_404() {
    let c = cloud().await;
    for path in [
        g("bogus"),
        g("backendServices/b/bogusVerb"),
        "/compute/v1/projects/acme".to_string() + "/global",
        "/compute/v2/projects/acme/global/backendServices".to_string(),
        "/v1/projects/acme/locations/us-central1/services".to_string(),
        run("services/s/revisions/r/bogus"),
        "/nothing/here".to_string(),
    ] {
        get(&c, &path).await.is_html_404(&path);
    }
}

#[tokio::test]
async fn s11_1_a_verb_the_api_lacks_for_a_path_is_html_404() {
    let c = cloud().await;
    // Certificates and addresses have no patch or update; proxies have no update.
    let body = Some(json!({"description": "x"}));
    for (verb, path) in [
        (Method::PATCH, g("sslCertificates/c")),
        (Method::PUT, g("sslCertificates/c")),
        (Method::PATCH, g("addresses/a")),
        (Method::PUT, g("targetHttpsProxies/p")),
        (Method::DELETE, g("backendServices")),
        (Method::PUT, run("services/s")),
    ] {
        call(&c, verb, &path, body.clone()).await.is_html_404(&path);
    }
    // setUrlMap has no /global/ segment (API-NOTES §7): with one, there is no such method.
    let path = g("targetHttpsProxies/p/setUrlMap");
    post(&c, &path, json!({"urlMap": "x"}))
        .await
        .is_html_404(&path);
}

#[tokio::test]
async fn s11_1_a_real_method_the_sandbox_does_not_model_is_501_naming_it() {
    let c = cloud().await;
    let unmodelled = |id: &str| {
        format!("Method {id} exists in the Google API but is not implemented by the sandbox.")
    };
    post(&c, &g("urlMaps/m/invalidateCache"), json!({"path": "/*"}))
        .await
        .is_error(
            501,
            "notImplemented",
            &unmodelled("compute.urlMaps.invalidateCache"),
        );
    get(&c, "/compute/v1/projects/acme/aggregated/backendServices")
        .await
        .is_error(
            501,
            "notImplemented",
            &unmodelled("compute.backendServices.aggregatedList"),
        );
    get(&c, &g("operations")).await.is_error(
        501,
        "notImplemented",
        &unmodelled("compute.globalOperations.list"),
    );
    post(
        &c,
        &g("forwardingRules/p/setLabels"),
        json!({"labels": {"team": "edge"}, "labelFingerprint": "42WmSpB8rSM="}),
    )
    .await
    .is_error(
        501,
        "notImplemented",
        &unmodelled("compute.globalForwardingRules.setLabels"),
    );
    get(&c, &run("jobs")).await.is_error(
        501,
        "UNIMPLEMENTED",
        &unmodelled("run.projects.locations.jobs.list"),
    );
}

#[tokio::test]
async fn s11_12_a_path_is_routed_before_credentials_are_checked() {
    let c = cloud().await;
    let url = |p: &str| format!("{}{p}", c.handle.base_url());
    let bogus = reqwest::get(url(&g("bogus"))).await.unwrap();
    assert_eq!(bogus.status(), 404);
    let real = reqwest::get(url(&g("backendServices"))).await.unwrap();
    assert_eq!(real.status(), 401);
    let body: serde_json::Value = real.json().await.unwrap();
    assert_eq!(body["error"]["errors"][0]["reason"], "authError");
}

#[tokio::test]
async fn s10_an_undeclared_query_parameter_is_refused() {
    let c = cloud().await;
    let message = "Invalid JSON payload received. Unknown name \"bogus\": Cannot bind query parameter. Field 'bogus' could not be found in request message.";
    let r = get(&c, &format!("{}?bogus=1", g("backendServices"))).await;
    r.is_error(400, "invalid", message);
    assert_eq!(r.violated_fields(), ["bogus"]);
    // A requestId is for mutations: validate does not take one.
    post(
        &c,
        &format!("{}?requestId={}", g("urlMaps/m/validate"), uuid::Uuid::new_v4()),
        json!({"resource": {"name": "m"}}),
    )
    .await
    .is_error(
        400,
        "invalid",
        "Invalid JSON payload received. Unknown name \"requestId\": Cannot bind query parameter. Field 'requestId' could not be found in request message.",
    );
    get(&c, &format!("{}?bogus=1", run("services")))
        .await
        .is_error(400, "INVALID_ARGUMENT", message);
}

#[tokio::test]
async fn s10_a_query_value_of_the_wrong_type_is_refused() {
    let c = cloud().await;
    get(&c, &format!("{}?maxResults=ten", g("backendServices")))
        .await
        .is_error(
            400,
            "invalid",
            "Invalid value at 'maxResults' (TYPE_UINT32), \"ten\"",
        );
    get(&c, &format!("{}?showDeleted=maybe", run("services")))
        .await
        .is_error(
            400,
            "INVALID_ARGUMENT",
            "Invalid value at 'showDeleted' (TYPE_BOOL), \"maybe\"",
        );
    get(&c, &format!("{}?pageSize=many", run("services")))
        .await
        .is_error(
            400,
            "INVALID_ARGUMENT",
            "Invalid value at 'pageSize' (TYPE_INT32), \"many\"",
        );
}

#[tokio::test]
async fn s10_a_path_value_must_match_its_parameters_pattern() {
    let c = cloud().await;
    get(&c, &g("backendServices/Bad_Name")).await.is_error(
        400,
        "invalidParameter",
        "Invalid value 'Bad_Name'. Values must match the following regular expression: '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]{0,19}'",
    );
    get(&c, "/compute/v1/projects/Acme!/global/backendServices")
        .await
        .is_error(
            400,
            "invalidParameter",
            "Invalid value 'Acme!'. Values must match the following regular expression: '(?:(?:[-a-z0-9]{1,63}\\.)*(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?):)?(?:[0-9]{1,19}|(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?))'",
        );
}

#[tokio::test]
async fn s10_an_unknown_body_field_is_refused_naming_it() {
    let c = cloud().await;
    let r = post(
        &c,
        &g("backendServices"),
        json!({"name": "b", "enableCdn": true}),
    )
    .await;
    r.is_error(
        400,
        "invalid",
        "Invalid JSON payload received. Unknown name \"enableCdn\" at 'resource': Cannot find field.",
    );
    assert_eq!(r.violated_fields(), ["resource.enableCdn"]);
    // At any depth, in array items too.
    post(
        &c,
        &g("backendServices"),
        json!({"name": "b", "backends": [{"group": "g", "weight": 5}]}),
    )
    .await
    .is_error(
        400,
        "invalid",
        "Invalid JSON payload received. Unknown name \"weight\" at 'resource.backends[0]': Cannot find field.",
    );
    // Nothing was made.
    get(&c, &g("backendServices/b")).await.is_error(
        404,
        "notFound",
        "The resource 'projects/acme/global/backendServices/b' was not found",
    );
}

#[tokio::test]
async fn s10_a_value_of_the_wrong_json_type_is_refused() {
    let c = cloud().await;
    let cases = [
        (
            json!({"name": "b", "enableCDN": "yes"}),
            "Invalid value at 'resource.enableCDN' (TYPE_BOOL), \"yes\"",
        ),
        (
            json!({"name": "b", "timeoutSec": 2.5}),
            "Invalid value at 'resource.timeoutSec' (TYPE_INT32), 2.5",
        ),
        (
            json!({"name": "b", "timeoutSec": 3000000000u64}),
            "Invalid value at 'resource.timeoutSec' (TYPE_INT32), 3000000000",
        ),
        (
            json!({"name": ["b"]}),
            "Invalid JSON payload received. Unknown name \"name\" at 'resource': Proto field is not repeating, cannot start list.",
        ),
        (
            json!({"name": "b", "description": {"text": "x"}}),
            "Invalid value at 'resource.description' (TYPE_STRING), Starting an object on a scalar field",
        ),
        (
            json!({"name": "b", "cdnPolicy": "on"}),
            "Invalid value at 'resource.cdnPolicy' (type.googleapis.com/google.cloud.compute.v1.BackendServiceCdnPolicy), \"on\"",
        ),
        (
            json!({"name": "b", "healthChecks": "global/healthChecks/h"}),
            "Invalid value at 'resource.healthChecks' (TYPE_STRING), \"global/healthChecks/h\"",
        ),
    ];
    for (body, message) in cases {
        post(&c, &g("backendServices"), body)
            .await
            .is_error(400, "invalid", message);
    }
}

#[tokio::test]
async fn s10_a_value_outside_its_enum_is_refused() {
    let c = cloud().await;
    let r = post(
        &c,
        &g("backendServices"),
        json!({"name": "b", "loadBalancingScheme": "MANAGED"}),
    )
    .await;
    r.is_error(
        400,
        "invalid",
        "Invalid value at 'resource.loadBalancingScheme' (type.googleapis.com/google.cloud.compute.v1.BackendService.LoadBalancingScheme), \"MANAGED\"",
    );
    assert_eq!(r.violated_fields(), ["resource.loadBalancingScheme"]);
    post(
        &c,
        &run("services?serviceId=s"),
        json!({"ingress": "PUBLIC", "template": {"containers": [{"image": "i"}]}}),
    )
    .await
    .is_error(
        400,
        "INVALID_ARGUMENT",
        "Invalid value at 'service.ingress' (type.googleapis.com/google.cloud.run.v2.Service.Ingress), \"PUBLIC\"",
    );
}

#[tokio::test]
async fn s10_a_value_outside_its_format_is_refused() {
    let c = cloud().await;
    post(
        &c,
        &g("backendServices"),
        json!({"name": "b", "fingerprint": "not base64!"}),
    )
    .await
    .is_error(
        400,
        "invalid",
        "Invalid value at 'resource.fingerprint' (TYPE_BYTES), \"not base64!\"",
    );
    post(
        &c,
        &g("backendServices"),
        json!({"name": "b", "outlierDetection": {"interval": {"seconds": "soon"}}}),
    )
    .await
    .is_error(
        400,
        "invalid",
        "Invalid value at 'resource.outlierDetection.interval.seconds' (TYPE_INT64), \"soon\"",
    );
    post(
        &c,
        &run("services?serviceId=s"),
        json!({"template": {"timeout": "5m", "containers": [{"image": "i"}]}}),
    )
    .await
    .is_error(
        400,
        "INVALID_ARGUMENT",
        "Invalid value at 'service.template.timeout' (type.googleapis.com/google.protobuf.Duration), \"5m\"",
    );
}

#[tokio::test]
async fn s10_google_reads_int64_as_a_number_or_a_string() {
    let c = cloud().await;
    let neg = "n";
    serverless_neg(&c, neg).await;
    create(
        &c,
        &g("backendServices"),
        json!({"name": "b", "loadBalancingScheme": "EXTERNAL_MANAGED",
            "backends": [{"group": serverless_group(neg)}],
            "outlierDetection": {"interval": {"seconds": 1}, "baseEjectionTime": {"seconds": "30"}}}),
    )
    .await;
    let bs = get(&c, &g("backendServices/b")).await;
    assert_eq!(
        bs.ok()["outlierDetection"]["baseEjectionTime"]["seconds"],
        "30"
    );
}

#[tokio::test]
async fn s10_every_problem_of_a_body_is_listed() {
    let c = cloud().await;
    let r = post(
        &c,
        &g("backendServices"),
        json!({"name": "b", "enableCDN": 1, "protocol": "SPDY"}),
    )
    .await;
    r.is_error(
        400,
        "invalid",
        "Invalid value at 'resource.enableCDN' (TYPE_BOOL), 1\nInvalid value at 'resource.protocol' (type.googleapis.com/google.cloud.compute.v1.BackendService.Protocol), \"SPDY\"",
    );
    assert_eq!(
        r.violated_fields(),
        ["resource.enableCDN", "resource.protocol"]
    );
}

#[tokio::test]
async fn s10_output_only_fields_are_accepted_and_ignored() {
    let c = cloud().await;
    create(
        &c,
        &g("healthChecks"),
        json!({"name": "h", "type": "HTTP", "kind": "compute#somethingElse", "id": "1",
            "selfLink": "https://example.com/not-this", "creationTimestamp": "1999-01-01T00:00:00Z",
            "region": "nowhere"}),
    )
    .await;
    let hc = get(&c, &g("healthChecks/h")).await;
    let hc = hc.ok();
    assert_eq!(hc["kind"], "compute#healthCheck");
    assert_ne!(hc["id"], "1");
    assert_eq!(hc["selfLink"], link("global/healthChecks/h"));
    assert_ne!(hc["creationTimestamp"], "1999-01-01T00:00:00Z");
    assert!(hc.get("region").is_none(), "{hc}");
}

#[tokio::test]
async fn s10_a_missing_or_malformed_body_is_refused() {
    let c = cloud().await;
    send(&c, Method::POST, &g("backendServices"), None)
        .await
        .is_error(400, "required", "Required field 'resource' not specified");
    let r = send(&c, Method::POST, &g("backendServices"), Some("{\"name\": ")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.reason(), "parseError");
    assert!(
        r.message().starts_with("Invalid JSON payload received."),
        "{}",
        r.text
    );
    send(&c, Method::POST, &g("backendServices"), Some("[1]"))
        .await
        .is_error(
            400,
            "parseError",
            "Invalid JSON payload received. Expected an object for 'resource', got [1].",
        );
}

#[tokio::test]
async fn s10_cloud_run_bodies_are_checked_against_their_schema_too() {
    let c = cloud().await;
    let r = post(&c, &run("services?serviceId=s"), json!({"templat": {}})).await;
    r.is_error(
        400,
        "INVALID_ARGUMENT",
        "Invalid JSON payload received. Unknown name \"templat\" at 'service': Cannot find field.",
    );
    assert_eq!(r.violated_fields(), ["service.templat"]);
    // A request that is its own body (setIamPolicy) names its fields without a prefix.
    post(&c, &run("services/s:setIamPolicy"), json!({"polcy": {}}))
        .await
        .is_error(
            400,
            "INVALID_ARGUMENT",
            "Invalid JSON payload received. Unknown name \"polcy\": Cannot find field.",
        );
    post(
        &c,
        &run("services?serviceId=s"),
        json!({"template": {"containers": [{"image": "i", "ports": [{"containerPort": "http"}]}]}}),
    )
    .await
    .is_error(
        400,
        "INVALID_ARGUMENT",
        "Invalid value at 'service.template.containers[0].ports[0].containerPort' (TYPE_INT32), \"http\"",
    );
}
