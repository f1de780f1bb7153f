//! Seed 002's second design, built through the panel in the sandbox: a multi-region HTTPS
//! deployment behind a second load balancer whose internet backend names it (and variants by
//! IP). The front's NEG points at the back's domain or IP, the route tester follows a request
//! through both, both topologies show the chain, and destroying the back warns about the front.

use crate::common::{Client, TestApp, spawn_app};
use crate::deploy::{create_deployment, run_job, sandbox, seed, wait_job};
use serde_json::{Value, json};
use switchyard::auth::Role;
use switchyard::domain::names;

fn front(name: &str, endpoint: Value) -> Value {
    let mut backend = json!({ "name": "multi", "type": "internet" });
    backend
        .as_object_mut()
        .unwrap()
        .extend(endpoint.as_object().unwrap().clone());
    json!({
        "name": name, "project": "edge-project",
        "frontend": { "protocol": "http", "ip": "static" },
        "backends": [backend],
        "routing": { "default": { "backend": "multi" } }
    })
}

async fn plan(c: &mut Client, id: i64, kind: &str) -> (u16, Value) {
    let r = c
        .post_json(
            &format!("/api/v1/deployments/{id}/plan"),
            &json!({ "kind": kind }),
        )
        .await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Planning `id` is refused (422) at `field`, saying `says`.
async fn refused(c: &mut Client, id: i64, field: &str, says: &str) {
    let (status, body) = plan(c, id, "apply").await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    assert!(text.contains(field), "{text}");
    assert!(text.contains(says), "{text}");
}

/// A page or fragment's text.
async fn text(c: &mut Client, path: &str) -> String {
    let r = c.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

async fn apply(c: &mut Client, id: i64) {
    let job = run_job(c, id, "apply").await;
    assert_eq!(job["status"], "succeeded", "{job}");
}

/// The one endpoint of `neg` in the sandbox, as listNetworkEndpoints answers it.
async fn endpoint_of(app: &TestApp, neg: &str) -> Value {
    let items = app
        .state
        .cloud
        .list_network_endpoints("edge-project", neg)
        .await
        .unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    serde_json::to_value(&items[0].network_endpoint).unwrap()
}

/// The IP address the sandbox gave deployment `spec`'s forwarding rule.
async fn ip_of(app: &TestApp, project: &str, rule: &str) -> String {
    let rules: Vec<Value> = app
        .state
        .cloud
        .list(&switchyard::cloud::CollectionRef::global(
            project,
            "forwardingRules",
        ))
        .await
        .unwrap();
    rules
        .iter()
        .find(|r| r["name"] == rule)
        .and_then(|r| r["IPAddress"].as_str())
        .unwrap_or_else(|| panic!("no forwarding rule {rule}: {rules:?}"))
        .to_string()
}

#[tokio::test]
async fn a_front_deployment_follows_the_back_by_domain_and_the_chain_shows_everywhere() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 20 })).await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let back = seed("seed-001.json");
    let back_id = create_deployment(&app, &back).await;
    let front_id =
        create_deployment(&app, &front("edge-lb", json!({ "deployment": "my-app" }))).await;

    // Nothing of the back one is applied yet: no IP or domain to follow.
    refused(
        &mut c,
        front_id,
        "backends[0].deployment",
        "has not been applied",
    )
    .await;

    apply(&mut c, back_id).await;
    let (status, body) = plan(&mut c, front_id, "apply").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["chains"][0]["deployment"], "my-app", "{body}");
    assert_eq!(body["chains"][0]["fqdn"], "app.example.com");
    assert_eq!(body["chains"][0]["host_header"], "app.example.com");
    apply(&mut c, front_id).await;
    let neg = names::internet_neg("edge-lb", "app.example.com", 443);
    assert_eq!(
        endpoint_of(&app, &neg).await,
        json!({ "fqdn": "app.example.com", "port": 443 })
    );
    // The variant by IP, as seed 002 does it by hand: the back one's anycast IP on 443.
    let back_ip = ip_of(&app, "my-project", &names::https_forwarding_rule("my-app")).await;
    let by_ip = create_deployment(
        &app,
        &front(
            "edge-ip",
            json!({ "ip": back_ip.clone(), "host_header": "app.example.com" }),
        ),
    )
    .await;
    apply(&mut c, by_ip).await;
    assert_eq!(
        endpoint_of(&app, &names::internet_neg("edge-ip", &back_ip, 443)).await,
        json!({ "ipAddress": back_ip, "port": 443 })
    );

    // Review's gcloud commands are the plan's: the NEG points at the back one's domain.
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let review = text(&mut viewer, &format!("/deployments/{front_id}/edit/review")).await;
    assert!(
        review.contains(&format!(
            "gcloud compute network-endpoint-groups update {neg} "
        )),
        "{review}"
    );
    assert!(
        review.contains("--add-endpoint=fqdn=app.example.com,port=443"),
        "{review}"
    );
    // A drift check follows the chain too: what was applied is what the cloud holds.
    let drift = switchyard::drift::check(
        &app.state.db,
        app.state.deployer.reader().as_ref(),
        front_id,
        "tester",
    )
    .await
    .unwrap();
    assert_eq!(drift.result, "in_sync", "{drift:?}");
    // Applied as planned: a second plan changes nothing.
    let (_, again) = plan(&mut c, front_id, "apply").await;
    assert!(
        again["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["action"] == "noop"),
        "{again}"
    );

    // The route tester follows the request into the back deployment's URL map.
    let frag = text(
        &mut viewer,
        &format!("/deployments/{front_id}/route-test?host=203.0.113.9&path=%2Fcart"),
    )
    .await;
    assert!(frag.contains("data-deployment=\"my-app\""), "{frag}");
    assert!(
        frag.contains("<code class=\"hop-host\">Host: app.example.com</code>"),
        "{frag}"
    );
    assert!(
        frag.contains(&format!("<a href=\"/deployments/{back_id}\">my-app</a>")),
        "{frag}"
    );
    assert!(
        frag.contains("class=\"route-target hop-target\" data-backend=\"my-app\""),
        "{frag}"
    );

    // Both topologies show the chain, each linking to the other deployment.
    let page = text(&mut viewer, &format!("/deployments/{front_id}/overview")).await;
    assert!(
        page.contains(&format!(
            "<a class=\"chain-link\" href=\"/deployments/{back_id}\">→ my-app</a>"
        )),
        "{page}"
    );
    assert!(page.contains("data-node=\"deployment:my-app\""));
    assert!(page.contains("now app.example.com:443"), "{page}");
    let page = text(&mut viewer, &format!("/deployments/{back_id}/overview")).await;
    assert!(
        page.contains(&format!(
            "<a class=\"chain-link\" href=\"/deployments/{front_id}\">edge-lb → here</a>"
        )),
        "{page}"
    );

    // Destroying the back one warns that the front one depends on it: on its page (where the
    // destroy and delete buttons are), in the plan's risks and in the answer of a destroy
    // started without a plan.
    let mut ed = app.user_client("edna", Role::Editor).await;
    let page = text(&mut ed, &format!("/deployments/{back_id}")).await;
    let warning = page
        .split("id=\"chain-warning\">")
        .nth(1)
        .unwrap_or_else(|| panic!("no chain warning: {page}"));
    assert!(
        warning.starts_with(
            "Deployments edge-ip (backend “multi”), edge-lb (backend “multi”) chain to my-app"
        ),
        "{warning}"
    );
    let (status, body) = plan(&mut c, back_id, "destroy").await;
    assert_eq!(status, 200, "{body}");
    let risk = body["risks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "chained_front")
        .unwrap_or_else(|| panic!("no chained_front risk: {body}"))
        .clone();
    assert!(
        risk["message"].as_str().unwrap().starts_with(
            "Deployments edge-ip (backend “multi”), edge-lb (backend “multi”) chain to my-app"
        ),
        "{risk}"
    );
    let r = c
        .post_json(
            &format!("/api/v1/deployments/{back_id}/destroy"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["warnings"][0]
            .as_str()
            .unwrap()
            .contains("edge-lb (backend “multi”)"),
        "{body}"
    );
    let job = wait_job(&mut c, body["job_id"].as_i64().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    // Gone from the cloud: the front cannot be planned until it points elsewhere.
    let (status, body) = plan(&mut c, front_id, "apply").await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.to_string().contains("backends[0].deployment"),
        "{body}"
    );
}

#[tokio::test]
async fn a_back_deployment_without_domains_is_followed_by_its_ip_as_is_a_backend_by_ip() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 20 })).await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let mut back = seed("seed-001.json");
    back["name"] = json!("multi-http");
    back["frontend"] = json!({ "protocol": "http", "ip": "static" });
    let back_id = create_deployment(&app, &back).await;
    apply(&mut c, back_id).await;
    let ip = ip_of(
        &app,
        "my-project",
        &names::http_forwarding_rule("multi-http"),
    )
    .await;

    // By deployment: the back one's IP, on its port 80, with the client's Host.
    let by_name = create_deployment(
        &app,
        &front("edge-by-name", json!({ "deployment": "multi-http" })),
    )
    .await;
    let (status, body) = plan(&mut c, by_name, "apply").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["chains"][0]["ip"], json!(ip), "{body}");
    assert_eq!(body["chains"][0]["port"], 80);
    assert_eq!(body["chains"][0].get("host_header"), None);
    apply(&mut c, by_name).await;
    assert_eq!(
        endpoint_of(&app, &names::internet_neg("edge-by-name", &ip, 80)).await,
        json!({ "ipAddress": ip, "port": 80 })
    );

    // By IP, as seed 002 does by hand: an INTERNET_IP_PORT NEG with that address.
    let by_ip = create_deployment(
        &app,
        &front("edge-by-ip", json!({ "ip": ip.clone(), "port": 443 })),
    )
    .await;
    apply(&mut c, by_ip).await;
    let neg = names::internet_neg("edge-by-ip", &ip, 443);
    assert_eq!(
        endpoint_of(&app, &neg).await,
        json!({ "ipAddress": ip, "port": 443 })
    );
    let negs: Vec<Value> = app
        .state
        .cloud
        .list(&switchyard::cloud::CollectionRef::global(
            "edge-project",
            "networkEndpointGroups",
        ))
        .await
        .unwrap();
    let made = negs.iter().find(|n| n["name"] == neg.as_str()).unwrap();
    assert_eq!(made["networkEndpointType"], "INTERNET_IP_PORT");

    // The route tester goes on with the Host the client sent (an IP carries no name).
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let frag = text(
        &mut viewer,
        &format!("/deployments/{by_name}/route-test?host=shop.example.com&path=%2F"),
    )
    .await;
    assert!(
        frag.contains("<code class=\"hop-host\">Host: shop.example.com</code>"),
        "{frag}"
    );

    // A private address is refused at the field before anything is planned.
    let private =
        create_deployment(&app, &front("edge-private", json!({ "ip": "10.1.2.3" }))).await;
    refused(
        &mut c,
        private,
        "backends[0].ip",
        "a private address (RFC 1918)",
    )
    .await;
}
