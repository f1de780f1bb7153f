//! The deployments calls of the JSON API (docs/contract.md §3).

use crate::deployments_support::{ClientExt, seed, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};
use switchyard::auth::Role;

#[tokio::test]
async fn create_list_get_and_update_with_if_match() {
    let app = spawn_app().await;
    let ann = app.token_client("ann", Role::Editor).await;
    let viewer = app.token_client("vic", Role::Viewer).await;

    let spec = seed("seed-002");
    let (status, created) = ann
        .send_json(Method::POST, "/api/v1/deployments", &spec, None)
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["version"], 1);
    assert_eq!(created["spec"], spec);
    assert_eq!(created["last_job"], Value::Null);
    assert_eq!(created["created_by"], "ann");
    let id = created["id"].as_i64().unwrap();

    let (status, list) = viewer.json("/api/v1/deployments").await;
    assert_eq!(status, 200);
    assert_eq!(list["deployments"].as_array().unwrap().len(), 1);
    assert_eq!(list["deployments"][0]["spec"], spec);

    let r = viewer
        .request(Method::GET, &format!("/api/v1/deployments/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], "\"1\"");
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["version"], 1);
    assert_eq!(got["last_job"], Value::Null);

    let mut changed = spec.clone();
    changed["frontend"]["ip"] = json!("ephemeral");
    let path = format!("/api/v1/deployments/{id}");
    let (status, updated) = ann.send_json(Method::PUT, &path, &changed, Some("1")).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["spec"]["frontend"]["ip"], "ephemeral");

    // Another edit based on version 1 came too late: refused, kept, nothing overwritten.
    let bob = app.token_client("bob", Role::Editor).await;
    let mut late = spec.clone();
    late["frontend"]["domains"] = json!(["late.example.com"]);
    let (status, err) = bob
        .send_json(Method::PUT, &path, &late, Some("\"1\""))
        .await;
    assert_eq!(status, 412, "{err}");
    assert_eq!(err["error"]["code"], "precondition_failed");
    assert_eq!(err["error"]["current_version"], 2);
    assert_eq!(err["error"]["updated_by"], "ann");
    assert!(err["error"]["conflict_id"].as_i64().is_some());
    let (_, now) = viewer.json(&path).await;
    assert_eq!(now["version"], 2);
    assert_eq!(now["spec"]["frontend"]["ip"], "ephemeral");
    let kept = switchyard::db::deployments::conflicts(&app.state.db, id)
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].spec.contains("late.example.com"));
    assert_eq!(kept[0].author, "bob");
    // And through the API: both versions and the refused edit.
    let (status, history) = viewer.json(&format!("{path}/versions")).await;
    assert_eq!(status, 200);
    assert_eq!(history["versions"][0]["version"], 2);
    assert_eq!(history["versions"][1]["spec"], spec);
    assert_eq!(history["conflicts"][0]["id"], err["error"]["conflict_id"]);
    assert_eq!(history["conflicts"][0]["spec"], late);
    assert_eq!(history["conflicts"][0]["based_on"], 1);
    assert_eq!(viewer.json("/api/v1/deployments/999/versions").await.0, 404);

    // No If-Match: 428, never a blind overwrite. A malformed one: 400.
    let (status, err) = ann.send_json(Method::PUT, &path, &changed, None).await;
    assert_eq!(status, 428, "{err}");
    assert_eq!(err["error"]["code"], "precondition_required");
    let (status, _) = ann.send_json(Method::PUT, &path, &changed, Some("*")).await;
    assert_eq!(status, 400);

    // Roles: viewers read, not write; anonymous gets 401.
    let (status, _) = viewer
        .send_json(Method::POST, "/api/v1/deployments", &spec, None)
        .await;
    assert_eq!(status, 403);
    let (status, _) = viewer
        .send_json(Method::PUT, &path, &changed, Some("2"))
        .await;
    assert_eq!(status, 403);
    let anon = app.anonymous();
    assert_eq!(anon.json("/api/v1/deployments").await.0, 401);

    // Unknown and malformed ids.
    assert_eq!(viewer.json("/api/v1/deployments/999").await.0, 404);
    assert_eq!(viewer.json("/api/v1/deployments/abc").await.0, 404);
    let (status, _) = ann
        .send_json(Method::PUT, "/api/v1/deployments/999", &changed, Some("1"))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bad_bodies_are_400_and_invalid_specs_422_naming_the_field() {
    let app = spawn_app().await;
    let ann = app.token_client("ann", Role::Editor).await;
    let post_raw = |body: &'static str, ctype: &'static str| {
        let ann = ann.clone();
        async move {
            let r = ann
                .request(Method::POST, "/api/v1/deployments")
                .header("content-type", ctype)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    for body in ["{not json", "", "[]", "42", "\"spec\""] {
        let (status, err) = post_raw(body, "application/json").await;
        assert_eq!(status, 400, "{body:?}: {err}");
        assert_eq!(err["error"]["code"], "bad_request");
    }
    let (status, _) = post_raw("{}", "text/plain").await;
    assert_eq!(status, 400);

    let cases: Vec<(Value, &str)> = vec![
        (
            {
                let mut s = seed("seed-002");
                s["name"] = json!("Bad_Name");
                s
            },
            "name",
        ),
        (
            {
                let mut s = seed("seed-002");
                s["colour"] = json!("red");
                s
            },
            "colour",
        ),
        (
            {
                let mut s = seed("seed-002");
                s["frontend"]["protocol"] = json!("ftp");
                s
            },
            "frontend.protocol",
        ),
        (
            {
                let mut s = seed("seed-002");
                s["backends"][1]["fqdn"] = json!("https://x.a.run.app/");
                s
            },
            "backends[1].fqdn",
        ),
        (
            {
                let mut s = seed("seed-002");
                s["backends"][0]["port"] = json!("443");
                s
            },
            "backends[0].port",
        ),
        (
            {
                let mut s = seed("seed-002");
                s["routing"]["rules"][0]["paths"] = json!(["hello2"]);
                s
            },
            "routing.rules[0].paths[0]",
        ),
        (
            {
                let mut s = seed("seed-002");
                s.as_object_mut().unwrap().remove("project");
                s
            },
            "project",
        ),
    ];
    for (spec, field) in cases {
        let (status, err) = ann
            .send_json(Method::POST, "/api/v1/deployments", &spec, None)
            .await;
        assert_eq!(status, 422, "{field}: {err}");
        assert_eq!(err["error"]["code"], "invalid");
        assert_eq!(err["error"]["field"], field, "{err}");
        assert!(
            err["error"]["errors"]
                .as_array()
                .is_some_and(|e| !e.is_empty())
        );
    }

    // The name keys live deployments: a second one with the same name is a 422 on `name`.
    let (status, _) = ann
        .send_json(Method::POST, "/api/v1/deployments", &seed("seed-002"), None)
        .await;
    assert_eq!(status, 201);
    let (status, err) = ann
        .send_json(Method::POST, "/api/v1/deployments", &seed("seed-002"), None)
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "name");
}

/// Free text is bounded at the edge: an oversized field is refused naming it, for the API and
/// the wizard alike, and nothing already saved changes.
#[tokio::test]
async fn oversized_fields_are_refused_naming_them() {
    let app = spawn_app().await;
    let ann = app.token_client("ann", Role::Editor).await;
    let mut spec = seed("seed-002");
    spec["backends"][1]["fqdn"] = json!("a".repeat(100_000));
    let (status, body) = ann
        .send_json(Method::POST, "/api/v1/deployments", &spec, None)
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "backends[1].fqdn", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 2048")
    );

    let mut web = app.user_client("ed", Role::Editor).await;
    let r = web
        .post_form(
            "/deployments",
            &[("name", "x".repeat(50_000).as_str()), ("project", "p")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("at most 2048"));
    let r = app
        .token_client("vic", Role::Viewer)
        .await
        .send_json(Method::GET, "/api/v1/deployments", &json!(null), None)
        .await;
    assert_eq!(r.1["deployments"], json!([]), "nothing was saved");
}
