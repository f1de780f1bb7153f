//! Nothing orphaned, against the sandbox over HTTP: a deployment with resources in the cloud is
//! not deleted (page or API) until it is destroyed, nor while a job of it runs; forgetting it on
//! purpose needs its name typed, is audited, and its resources then block a new deployment of
//! the same name; an applied deployment is not renamed; a destroyed one shows no IP, DNS records
//! or certificate.

use crate::common::{Client, TestApp, spawn_app};
use crate::deploy::{create_deployment, post, run_job, sandbox, seed, start_job, wait_job};
use crate::deployments_support::ClientExt;
use serde_json::{Value, json};
use switchyard::auth::Role;

async fn delete_api(c: &Client, id: i64) -> (u16, Value) {
    let r = c
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/deployments/{id}"),
        )
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn page(c: &mut Client, path: &str) -> (u16, String) {
    let r = c.get(path).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn exists(app: &TestApp, id: i64) -> bool {
    switchyard::db::deployments::get(&app.state.db, id)
        .await
        .unwrap()
        .is_some()
}

async fn url_map(app: &TestApp, project: &str, name: &str) -> Option<Value> {
    let r = switchyard::cloud::ResourceRef::global(project, "urlMaps", name);
    app.state.cloud.get(&r).await.unwrap()
}

#[tokio::test]
async fn an_applied_deployment_is_deleted_only_once_destroyed() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    let mut api = app.token_client("bot", Role::Editor).await;
    let mut ed = app.user_client("ed", Role::Editor).await;
    let id = create_deployment(&app, &seed("seed-002.json")).await;
    let apply = run_job(&mut api, id, "apply").await;
    assert_eq!(apply["status"], "succeeded", "{apply}");

    let (status, body) = delete_api(&api, id).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("hello-lb has resources in Google Cloud")
            && message.contains("destroy it first"),
        "{message}"
    );

    // The page has no delete button, says why and offers to forget it instead.
    let (_, html) = page(&mut ed, &format!("/deployments/{id}")).await;
    assert!(!html.contains("id=\"delete\""), "{html}");
    assert!(html.contains("id=\"delete-deployed\"") && html.contains("id=\"forget\""));
    // A post from an older page is refused all the same.
    let r = ed
        .post_form(&format!("/deployments/{id}/delete"), &[])
        .await;
    assert_eq!(r.status(), 409);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Not deleted: hello-lb has resources in Google Cloud")
            && html.contains(&format!("href=\"/deployments/{id}/destroy\"")),
        "{html}"
    );
    // Through htmx (the button's confirmation), the refusal is swapped in with a 200.
    let r = ed
        .request(reqwest::Method::POST, &format!("/deployments/{id}/delete"))
        .header("hx-request", "true")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["hx-push-url"], "false");
    assert!(r.text().await.unwrap().contains("Not deleted"));
    assert!(exists(&app, id).await);

    let destroy = run_job(&mut api, id, "destroy").await;
    assert_eq!(destroy["status"], "succeeded", "{destroy}");
    let (_, html) = page(&mut ed, &format!("/deployments/{id}")).await;
    assert!(html.contains("id=\"delete\"") && !html.contains("id=\"forget\""));
    let (status, body) = delete_api(&api, id).await;
    assert_eq!(status, 204, "{body}");
    assert!(!exists(&app, id).await);
    let (status, _) = delete_api(&api, id).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn deleting_or_forgetting_during_a_job_is_refused_naming_the_job() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 400 })).await;
    let mut api = app.token_client("bot", Role::Editor).await;
    let mut ed = app.user_client("ed", Role::Editor).await;
    let id = create_deployment(&app, &seed("seed-000.json")).await;
    let job = start_job(&mut api, id, "apply").await;

    let (status, body) = delete_api(&api, id).await;
    assert_eq!(status, 409, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&format!("job {job}")), "{message}");

    let r = ed
        .post_form(&format!("/deployments/{id}/delete"), &[])
        .await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains(&format!("job {job}")));
    let (_, html) = page(&mut ed, &format!("/deployments/{id}")).await;
    assert!(html.contains("id=\"delete-busy\"") && !html.contains("id=\"delete\""));

    let (status, body) = post_json(
        &mut api,
        &format!("/api/v1/deployments/{id}/forget"),
        json!({"confirm": "global-app"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("job {job}")),
        "{body}"
    );
    assert!(exists(&app, id).await);
    assert_eq!(wait_job(&mut api, job).await["status"], "succeeded");
}

async fn post_json(c: &mut Client, path: &str, body: Value) -> (u16, Value) {
    let r = c.post_json(path, &body).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_forgotten_deployments_resources_block_a_new_deployment_of_its_name() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    let mut api = app.token_client("ann", Role::Editor).await;
    let spec = seed("seed-002.json");
    let id = create_deployment(&app, &spec).await;
    assert_eq!(run_job(&mut api, id, "apply").await["status"], "succeeded");
    let forget = format!("/api/v1/deployments/{id}/forget");

    // The name must be typed.
    for body in [json!({}), json!({"confirm": "hello"})] {
        let (status, answer) = post_json(&mut api, &forget, body).await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["error"]["field"], "confirm");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("hello-lb")
        );
    }
    assert!(exists(&app, id).await);

    let (status, record) = post_json(&mut api, &forget, json!({"confirm": "hello-lb"})).await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["name"], "hello-lb");
    assert_eq!(record["project"], "my-lb-project");
    assert_eq!(record["forgotten_by"], "ann");
    assert_eq!(record["spec"]["name"], "hello-lb");
    let resources: Vec<&str> = record["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        resources.contains(&"projects/my-lb-project/global/urlMaps/hello-lb-urlmap"),
        "{resources:?}"
    );
    assert!(!exists(&app, id).await);
    // Left running, as asked.
    assert!(
        url_map(&app, "my-lb-project", "hello-lb-urlmap")
            .await
            .is_some()
    );

    let audit = switchyard::db::audit::page(
        &app.state.db,
        &switchyard::db::audit::Filter {
            action: Some("deployment.forget".into()),
            ..Default::default()
        },
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].actor, "ann");
    assert_eq!(audit[0].target, format!("deployment:{id}"));
    assert!(audit[0].detail.contains("hello-lb"), "{}", audit[0].detail);

    // The deployments page keeps the record in sight.
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let (_, html) = page(&mut viewer, "/deployments").await;
    assert!(html.contains("id=\"forgotten\"") && html.contains("hello-lb"));

    // A new deployment of the same name: its plan says whose the resources are and is refused.
    let (status, created) = post_json(&mut api, "/api/v1/deployments", spec.clone()).await;
    assert_eq!(status, 201, "{created}");
    let new_id = created["id"].as_i64().unwrap();
    let (status, plan) = post(&mut api, &format!("/api/v1/deployments/{new_id}/plan")).await;
    assert_eq!(status, 200, "{plan}");
    let conflicts = plan["conflicts"].as_array().unwrap();
    assert!(!conflicts.is_empty(), "{plan}");
    let urlmap = conflicts
        .iter()
        .find(|c| c["resource"] == "projects/my-lb-project/global/urlMaps/hello-lb-urlmap")
        .unwrap_or_else(|| panic!("{plan}"));
    let message = urlmap["message"].as_str().unwrap();
    assert!(
        message.starts_with("hello-lb-urlmap belongs to deployment hello-lb (forgotten by ann on ")
            && message.contains("its resources are still running"),
        "{message}"
    );
    assert!(
        plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["action"] == "create"),
        "nothing of the forgotten one is updated or deleted: {plan}"
    );
    let (status, body) = post(&mut api, &format!("/api/v1/deployments/{new_id}/apply")).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("belongs to deployment hello-lb (forgotten by ann"),
        "{body}"
    );
    // Nor may it destroy them.
    let (status, body) = post(&mut api, &format!("/api/v1/deployments/{new_id}/destroy")).await;
    assert_eq!(status, 409, "{body}");
    // The plan page shows it.
    let mut ed = app.user_client("ed", Role::Editor).await;
    let (_, html) = page(&mut ed, &format!("/deployments/{new_id}/plan")).await;
    assert!(
        html.contains("id=\"plan-conflicts\"")
            && html.contains("hello-lb-urlmap belongs to deployment hello-lb (forgotten by ann"),
        "{html}"
    );
    assert!(
        url_map(&app, "my-lb-project", "hello-lb-urlmap")
            .await
            .is_some()
    );

    // Forgetting something with nothing in the cloud is refused: that is a delete.
    let (status, body) = post_json(
        &mut api,
        &format!("/api/v1/deployments/{new_id}/forget"),
        json!({"confirm": "hello-lb"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("delete it instead")
    );
}

#[tokio::test]
async fn forgetting_from_the_page_needs_the_name_typed() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    let mut api = app.token_client("bot", Role::Editor).await;
    let mut ed = app.user_client("ed", Role::Editor).await;
    let id = create_deployment(&app, &seed("seed-000.json")).await;
    assert_eq!(run_job(&mut api, id, "apply").await["status"], "succeeded");

    let r = ed
        .post_form(
            &format!("/deployments/{id}/forget"),
            &[("confirm", "global")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Not forgotten: type the deployment&#39;s name, global-app, to confirm")
    );
    assert!(exists(&app, id).await);
    let r = ed
        .post_form(
            &format!("/deployments/{id}/forget"),
            &[("confirm", "global-app")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/deployments#forgotten");
    assert!(!exists(&app, id).await);
}

#[tokio::test]
async fn renaming_an_applied_deployment_is_refused_on_name() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    let mut api = app.token_client("bot", Role::Editor).await;
    let mut ed = app.user_client("ed", Role::Editor).await;
    let spec = seed("seed-002.json");
    let id = create_deployment(&app, &spec).await;
    assert_eq!(run_job(&mut api, id, "apply").await["status"], "succeeded");

    let writer = api.clone();
    let put = move |spec: Value, version: i64| {
        let api = writer.clone();
        async move {
            let r = api
                .request(reqwest::Method::PUT, &format!("/api/v1/deployments/{id}"))
                .header("if-match", version.to_string())
                .json(&spec)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let mut renamed = spec.clone();
    renamed["name"] = json!("hello-lb-2");
    let (status, body) = put(renamed.clone(), 1).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "name");
    assert!(
        body["error"]["message"].as_str().unwrap().contains(
            "this deployment is applied as hello-lb; destroy it first, or create a new deployment"
        ),
        "{body}"
    );
    let mut moved = spec.clone();
    moved["project"] = json!("another-project");
    let (status, body) = put(moved, 1).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "project");

    // The wizard's Basics step, plain and through htmx.
    let basics = format!("/deployments/{id}/edit/basics");
    let form = [
        ("version", "1"),
        ("name", "hello-lb-2"),
        ("project", "my-lb-project"),
    ];
    let r = ed.post_form(&basics, &form).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Not saved: name: this deployment is applied as hello-lb")
    );
    let r = ed.hx_post(&basics, &form).await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Not saved: name: this deployment is applied as hello-lb")
    );
    let d = switchyard::db::deployments::get(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((d.name.as_str(), d.version), ("hello-lb", 1));

    // Other edits still save.
    let mut edited = spec.clone();
    edited["backends"][1]["cdn"] = json!(true);
    assert_eq!(put(edited, 1).await.0, 200);

    // A draft renamed before saves were checked (here: straight in the database) is refused
    // when planned, rather than planning a second load balancer.
    switchyard::db::deployments::update(
        &app.state.db,
        id,
        2,
        "hello-lb-2",
        &renamed.to_string(),
        "ed",
    )
    .await
    .unwrap();
    let (status, body) = post(&mut api, &format!("/api/v1/deployments/{id}/plan")).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "name");
    let (status, html) = page(&mut ed, &format!("/deployments/{id}/plan")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("name: this deployment is applied as hello-lb"),
        "{html}"
    );

    // Destroy still finds what the last apply made; then the name is free to change.
    assert_eq!(
        run_job(&mut api, id, "destroy").await["status"],
        "succeeded"
    );
    assert!(
        url_map(&app, "my-lb-project", "hello-lb-urlmap")
            .await
            .is_none()
    );
    let (status, body) = put(renamed, 3).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "hello-lb-2");
}

#[tokio::test]
async fn a_destroyed_deployment_shows_no_ip_dns_records_or_certificate() {
    let app = spawn_app().await;
    sandbox(&app, json!({ "operationLatencyMs": 10 })).await;
    let mut api = app.token_client("ann", Role::Editor).await;
    let mut ed = app.user_client("ed", Role::Editor).await;
    let id = create_deployment(&app, &seed("seed-002.json")).await;
    assert_eq!(run_job(&mut api, id, "apply").await["status"], "succeeded");
    // A check reads the IP and the certificate's status from the cloud.
    let r = ed.post_form(&format!("/deployments/{id}/drift"), &[]).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let live = switchyard::db::live_facts::live(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    let ip = live.ip.clone().unwrap();

    let row = format!("/dashboard/rows/{id}");
    let overview = format!("/deployments/{id}/overview");
    let (_, html) = page(&mut ed, &row).await;
    assert!(
        html.contains(&format!("<code class=\"deployment-ip\">{ip}</code>")),
        "{html}"
    );
    assert!(html.contains("title="), "a certificate status: {html}");
    let (_, html) = page(&mut ed, &overview).await;
    assert!(
        html.contains(&ip) && html.contains("id=\"cert-status\""),
        "{html}"
    );

    assert_eq!(
        run_job(&mut api, id, "destroy").await["status"],
        "succeeded"
    );
    // What was read before the destroy is gone with it.
    assert!(
        switchyard::db::live_facts::live(&app.state.db, id)
            .await
            .unwrap()
            .is_none()
    );
    // Even facts still stored (read by a check that raced the destroy) are not shown.
    switchyard::db::live_facts::set_live(
        &app.state.db,
        id,
        Some(&ip),
        live.certificate.as_deref(),
        Some("ACTIVE"),
        &json!({"hello.example.com": "ACTIVE"}),
    )
    .await
    .unwrap();
    for path in ["/", row.as_str()] {
        let (status, html) = page(&mut ed, path).await;
        assert_eq!(status, 200);
        assert!(!html.contains(&ip), "{path}: {html}");
        assert!(
            !html.contains("deployment-ip") && !html.contains("ACTIVE"),
            "{path}: {html}"
        );
        assert!(html.contains("none: destroyed"), "{path}: {html}");
        assert!(html.contains("destroy #"), "{path}: {html}");
    }
    let (_, html) = page(&mut ed, &overview).await;
    assert!(!html.contains(&ip), "{html}");
    assert!(!html.contains("id=\"dns-records\""), "{html}");
    assert!(!html.contains("id=\"cert-status\"") && !html.contains("id=\"cert-domains\""));
    assert!(
        html.contains("Nothing is deployed: destroyed just now by ann ("),
        "{html}"
    );
}
