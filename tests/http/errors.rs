//! Malformed forms and JSON get a 400 or 422 with a message, never a 500.

use crate::common::spawn_app;
use switchyard::auth::Role;

#[tokio::test]
async fn malformed_forms_get_a_4xx_with_a_message() {
    let app = spawn_app().await;
    let admin = app.user_client("boss", Role::Admin).await;
    let cases: &[(&str, Option<&str>, &[u8], u16)] = &[
        (
            "/signin",
            Some("application/x-www-form-urlencoded"),
            b"",
            422,
        ),
        (
            "/signin",
            Some("application/x-www-form-urlencoded"),
            b"name=a",
            422,
        ),
        ("/signin", None, b"name=a&password=b", 400),
        ("/signin", Some("application/json"), b"{}", 400),
        (
            "/signin",
            Some("application/x-www-form-urlencoded"),
            b"name=\xff\xfe&password=x",
            400,
        ),
        (
            "/users",
            Some("application/x-www-form-urlencoded"),
            b"name=x&role=god&password=12345678",
            422,
        ),
        (
            "/users/1/role",
            Some("application/x-www-form-urlencoded"),
            b"role=",
            422,
        ),
        (
            "/users/notanumber/role",
            Some("application/x-www-form-urlencoded"),
            b"role=viewer",
            404,
        ),
    ];
    for (path, ctype, body, want) in cases {
        let mut req = admin
            .request(reqwest::Method::POST, path)
            .body(body.to_vec());
        if let Some(c) = ctype {
            req = req.header("content-type", *c);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), *want, "{path} {body:?}");
        let text = r.text().await.unwrap();
        assert!(text.contains("error-message"), "{path}: {text}");
    }
}

#[tokio::test]
async fn malformed_json_gets_a_4xx_json_error() {
    let app = spawn_app().await;
    let admin = app.token_client("boss", Role::Admin).await;
    let cases: &[(Option<&str>, &str, u16, Option<&str>)] = &[
        (Some("application/json"), "{not json", 400, None),
        (Some("application/json"), "", 400, None),
        (Some("application/json"), "[1,2]", 422, None),
        (
            Some("application/json"),
            r#"{"name":"x","password":"12345678"}"#,
            422,
            Some("role"),
        ),
        (
            Some("application/json"),
            r#"{"name":"x","role":"god","password":"12345678"}"#,
            422,
            Some("role"),
        ),
        (
            Some("application/json"),
            r#"{"name":7,"role":"viewer","password":"12345678"}"#,
            422,
            Some("name"),
        ),
        (
            Some("application/json"),
            r#"{"name":"x y","role":"viewer","password":"12345678"}"#,
            422,
            Some("name"),
        ),
        (
            Some("application/json"),
            r#"{"name":"xy","role":"viewer","password":"1"}"#,
            422,
            Some("password"),
        ),
        (Some("text/plain"), "{}", 400, None),
        (None, "{}", 400, None),
    ];
    for (ctype, body, want, field) in cases {
        let mut req = admin
            .request(reqwest::Method::POST, "/api/v1/users")
            .body(body.to_string());
        if let Some(c) = ctype {
            req = req.header("content-type", *c);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), *want, "{body}");
        let v: serde_json::Value = r.json().await.unwrap();
        let err = &v["error"];
        assert!(err["code"].is_string(), "{v}");
        assert!(!err["message"].as_str().unwrap().is_empty(), "{v}");
        if let Some(f) = field {
            assert_eq!(err["field"], *f, "{body}: {v}");
        }
    }
    let mut c = admin.clone();
    let r = c
        .post_json(
            "/api/v1/users",
            &serde_json::json!({"name": "ok", "role": "viewer", "password": "12345678"}),
        )
        .await;
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn unknown_api_paths_and_methods_answer_json() {
    let app = spawn_app().await;
    let mut c = app.token_client("v", Role::Viewer).await;
    let r = c.get("/api/v1/nothing-here").await;
    assert_eq!(r.status(), 404);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "not_found");
    let r = c
        .request(reqwest::Method::DELETE, "/api/v1/me")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "method_not_allowed");
    let r = app.anonymous().get("/api/v1/me").await;
    assert_eq!(r.status(), 401);
}

/// A failure a user reports can be found in the log: every response carries its request id,
/// and error pages and JSON errors show it.
#[tokio::test]
async fn errors_show_the_request_id_of_their_response() {
    let app = spawn_app().await;
    let mut web = app.user_client("vic", Role::Viewer).await;
    let r = web.get("/deployments/424242").await;
    assert_eq!(r.status(), 404);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!("<code id=\"request-id\">{id}</code>")),
        "{html}"
    );

    let mut api = app.token_client("bot", Role::Viewer).await;
    let r = api.get("/api/v1/deployments/424242").await;
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["request_id"], serde_json::json!(id));

    // Two requests never share an id.
    let a = api.get("/api/v1/me").await.headers()["x-request-id"].clone();
    let b = api.get("/api/v1/me").await.headers()["x-request-id"].clone();
    assert_ne!(a, b);
}

/// Error pages say what to do next, for who is asking: a viewer on an editor's page is told an
/// editor is needed, a missing page points at the dashboard (and admins at the audit log).
#[tokio::test]
async fn error_pages_say_what_to_do_next() {
    let app = spawn_app().await;
    let mut viewer = app.user_client("vera", Role::Viewer).await;
    let r = viewer.get("/deployments/new").await;
    assert_eq!(r.status(), 403);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"next-steps\""), "{html}");
    assert!(
        html.contains("signed in as vera with the viewer role"),
        "{html}"
    );
    assert!(html.contains("need an editor"), "{html}");
    assert!(
        html.contains("<nav aria-label=\"Main\">"),
        "a shell page with the navigation: {html}"
    );

    let r = viewer.get("/deployments/9999").await;
    assert_eq!(r.status(), 404);
    let html = r.text().await.unwrap();
    assert!(html.contains("Nothing is at this address"), "{html}");
    assert!(!html.contains("href=\"/audit\">the audit log"), "{html}");

    let mut admin = app.user_client("boss", Role::Admin).await;
    let html = admin.get("/deployments/9999").await.text().await.unwrap();
    assert!(html.contains("href=\"/audit\">the audit log"), "{html}");
}
