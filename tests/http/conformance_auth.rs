//! Conformance, authentication and injected faults (API-NOTES §11.12, §10): a request needs a
//! bearer token the sandbox issued; the scripted faults answer in Google's shapes.

use crate::conformance_support::*;
use switchyard::cloud::sandbox::Fault;

#[tokio::test]
async fn s11_12_a_request_without_a_valid_token_is_401() {
    let c = cloud().await;
    let plain = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", c.handle.base_url());
    let r = plain.get(url(&g("addresses"))).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["errors"][0]["reason"], "authError");
    assert_eq!(
        body["error"]["message"],
        "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential."
    );
    let r = plain
        .get(url(&run("services")))
        .bearer_auth("ya29.not-issued")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(
        body["error"]["message"],
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."
    );
}

#[tokio::test]
async fn s11_12_injected_faults_answer_in_googles_shapes() {
    let c = cloud().await;
    let sb = &c.handle.sandbox;
    sb.push_fault(Fault::RateLimited);
    let r = get(&c, &g("addresses")).await;
    r.is_error(
        429,
        "rateLimitExceeded",
        "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per region' (sandbox fault injection)",
    );
    sb.push_fault(Fault::RateLimited403);
    get(&c, &g("addresses")).await.is_error(
        403,
        "rateLimitExceeded",
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per region' of service 'compute.googleapis.com' (sandbox fault injection)",
    );
    sb.push_fault(Fault::ResourceNotReady);
    get(&c, &g("addresses")).await.is_error(
        400,
        "resourceNotReady",
        "The resource is not ready (sandbox fault injection)",
    );
    sb.push_fault(Fault::Transient);
    get(&c, &run("services")).await.is_error(
        503,
        "UNAVAILABLE",
        "The service is currently unavailable (sandbox fault injection)",
    );
    // Faults come after routing: a path no method has is still the HTML 404.
    sb.push_fault(Fault::Transient);
    get(&c, &g("bogus")).await.is_html_404(&g("bogus"));
    assert_eq!(sb.pending_faults(), [Fault::Transient]);
}
