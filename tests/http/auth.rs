//! Accounts: the setup link, sign-in and sign-out, disabled users, tokens, sessions across a
//! restart, the sign-in throttle, cookies and security headers.

use crate::common::{PASSWORD, spawn_app};
use switchyard::auth::Role;

#[tokio::test]
async fn the_setup_link_works_once_and_never_again() {
    let app = spawn_app().await;
    let url = app.setup_url.clone().expect("a setup link on first start");
    let path = url.strip_prefix(&app.base).unwrap().to_string();
    let token = url.split("token=").nth(1).unwrap().to_string();

    let mut c = app.anonymous();
    assert_eq!(c.get(&path).await.status(), 200);
    let r = c
        .post_form(
            "/setup",
            &[("token", &token), ("name", "root"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = c.get("/").await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("root") && body.contains("admin"), "{body}");

    // Never again: not the page, not the form, not with another name.
    let mut other = app.anonymous();
    assert_eq!(other.get(&path).await.status(), 404);
    let r = other
        .post_form(
            "/setup",
            &[
                ("token", &token),
                ("name", "mallory"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 404);
    assert!(other.cookie.is_none());
    let users = switchyard::db::users::list(&app.state.db).await.unwrap();
    assert_eq!(users.len(), 1);

    // A restart with a user in the database prints no link.
    let app = app.restart().await;
    assert!(app.setup_url.is_none());
}

#[tokio::test]
async fn a_bad_setup_token_creates_nobody() {
    let app = spawn_app().await;
    let mut c = app.anonymous();
    assert_eq!(c.get("/setup?token=guess").await.status(), 404);
    let r = c
        .post_form(
            "/setup",
            &[("token", "guess"), ("name", "x"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        switchyard::db::users::count(&app.state.db).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn sign_in_and_sign_out() {
    let app = spawn_app().await;
    app.create_user("ann", Role::Viewer).await;
    let mut c = app.anonymous();
    let r = c.get("/").await;
    assert_eq!(r.headers()["location"], "/signin?next=%2F");

    let r = c
        .post_form(
            "/signin",
            &[("name", "ann"), ("password", "wrong password")],
        )
        .await;
    assert_eq!(r.status(), 401);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Wrong user name or password")
    );

    let r = c
        .post_form(
            "/signin",
            &[("name", "ann"), ("password", PASSWORD), ("next", "/users")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/users");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");

    // A viewer gets a 403 page on an admin page, with the shell.
    let r = c.get("/users").await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Signed in as"));

    let old = c.clone();
    let r = c.post_form("/signout", &[]).await;
    assert_eq!(r.status(), 303);
    let mut old = old;
    assert!(crate::common::Client::is_signin_redirect(
        &old.get("/").await
    ));
}

#[tokio::test]
async fn an_open_redirect_is_refused() {
    let app = spawn_app().await;
    app.create_user("ann", Role::Viewer).await;
    let mut c = app.anonymous();
    let r = c
        .post_form(
            "/signin",
            &[
                ("name", "ann"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.headers()["location"], "/");
}

#[tokio::test]
async fn cookies_are_secure_behind_tls() {
    let app = spawn_app().await;
    app.create_user("ann", Role::Viewer).await;
    let c = app.anonymous();
    let r = c
        .request(reqwest::Method::POST, "/signin")
        .header("x-forwarded-proto", "https")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("name=ann&password={}", PASSWORD.replace(' ', "+")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_or_use_a_token() {
    let app = spawn_app().await;
    let id = app.create_user("dan", Role::Editor).await;
    let token = app.create_token(id).await;
    let mut session = app.sign_in("dan", PASSWORD).await;
    let mut api = app.anonymous().with_token(&token);
    assert_eq!(api.get("/api/v1/me").await.status(), 200);
    assert_eq!(api.get("/").await.status(), 200, "tokens work on pages too");

    app.disable(id).await;

    let r = api.get("/api/v1/me").await;
    assert_eq!(r.status(), 401);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "unauthorized");
    assert_eq!(api.get("/").await.status(), 401);
    assert!(crate::common::Client::is_signin_redirect(
        &session.get("/").await
    ));
    let r = app
        .anonymous()
        .post_form("/signin", &[("name", "dan"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("disabled"));

    // Enabling again starts from nothing: the old session and the old token stay dead.
    switchyard::db::users::set_disabled(&app.state.db, id, false)
        .await
        .unwrap();
    assert_eq!(
        api.get("/api/v1/me").await.status(),
        401,
        "the token is gone"
    );
    assert!(
        crate::common::Client::is_signin_redirect(&session.get("/").await),
        "the old session does not come back"
    );
    let mut fresh = app.sign_in("dan", PASSWORD).await;
    assert_eq!(fresh.get("/").await.status(), 200, "a new sign-in works");
}

#[tokio::test]
async fn sessions_survive_a_restart() {
    let app = spawn_app().await;
    app.create_user("sue", Role::Viewer).await;
    let c = app.sign_in("sue", PASSWORD).await;
    let app = app.restart().await;
    let mut c = c.at(&app.base);
    let r = c.get("/").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("sue"));
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_slowed_down() {
    let app = spawn_app().await;
    app.create_user("tim", Role::Viewer).await;
    let mut c = app.anonymous();
    for _ in 0..switchyard::auth::throttle::FREE_FAILURES {
        let r = c
            .post_form("/signin", &[("name", "tim"), ("password", "nope nope")])
            .await;
        assert_eq!(r.status(), 401);
    }
    // Even the right password waits now.
    let r = c
        .post_form("/signin", &[("name", "tim"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Too many failed sign-ins; try again in"),
        "{body}"
    );
}

#[tokio::test]
async fn admins_manage_users_and_tokens() {
    let app = spawn_app().await;
    let mut admin = app.user_client("boss", Role::Admin).await;
    let r = admin
        .post_form(
            "/users",
            &[
                ("name", "newbie"),
                ("role", "viewer"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let newbie = switchyard::db::users::by_name(&app.state.db, "newbie")
        .await
        .unwrap()
        .unwrap();
    let id = newbie.id.to_string();

    let r = admin
        .post_form(&format!("/users/{id}/role"), &[("role", "editor")])
        .await;
    assert_eq!(r.status(), 303);

    // A token is shown once and stored hashed.
    let r = admin
        .post_form(&format!("/users/{id}/tokens"), &[("label", "ci")])
        .await;
    assert_eq!(r.status(), 201);
    let body = r.text().await.unwrap();
    let token = body
        .split("id=\"new-token\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_string();
    assert!(token.starts_with("sy_"));
    let mut api = app.anonymous().with_token(&token);
    let me: serde_json::Value = api.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["name"], "newbie");
    assert_eq!(me["role"], "editor");
    let list = admin.get("/users").await.text().await.unwrap();
    assert!(list.contains("ci") && !list.contains(&token));

    // Password reset signs the user out everywhere.
    let mut newbie_session = app.sign_in("newbie", PASSWORD).await;
    let r = admin
        .post_form(
            &format!("/users/{id}/password"),
            &[("password", "a brand new one")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(crate::common::Client::is_signin_redirect(
        &newbie_session.get("/").await
    ));
    app.sign_in("newbie", "a brand new one").await;

    // Revoke the token.
    let tokens = switchyard::db::tokens::list_for_user(&app.state.db, newbie.id)
        .await
        .unwrap();
    let r = admin
        .post_form(&format!("/users/{id}/tokens/{}/revoke", tokens[0].id), &[])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(api.get("/api/v1/me").await.status(), 401);

    // The last admin cannot be demoted.
    let boss = switchyard::db::users::by_name(&app.state.db, "boss")
        .await
        .unwrap()
        .unwrap();
    let r = admin
        .post_form(&format!("/users/{}/role", boss.id), &[("role", "viewer")])
        .await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("last active admin"));
}

#[tokio::test]
async fn pages_carry_the_security_headers() {
    let app = spawn_app().await;
    let r = app.anonymous().get("/signin").await;
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(h.contains_key("referrer-policy"));
    let r = app
        .anonymous()
        .get("/static/vendor/htmx-2.0.11.min.js")
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused() {
    let app = spawn_app().await;
    app.create_user("ann", Role::Viewer).await;
    let r = app
        .anonymous()
        .request(reqwest::Method::POST, "/signin")
        .header("origin", "http://evil.example")
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=ann&password=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("cross-site"));
}

/// Behind the trusted TLS proxy the per-address throttle counts the clients the proxy names,
/// not the proxy: one client's failures do not lock everyone else out. A peer that is not a
/// trusted proxy cannot dodge the throttle with the header.
#[tokio::test]
async fn the_address_throttle_counts_clients_behind_a_trusted_proxy() {
    use switchyard::auth::throttle::FREE_FAILURES_PER_CLIENT as FREE;
    let app = crate::common::spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let attempt = |from: &'static str, name: String| {
        let url = app.url("/signin");
        async move {
            reqwest::Client::new()
                .post(url)
                .header("x-forwarded-for", from)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("name={name}&password=nope+nope"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for i in 0..FREE {
        assert_eq!(attempt("203.0.113.1", format!("u{i}")).await, 401);
    }
    assert_eq!(
        attempt("203.0.113.1", "other".into()).await,
        429,
        "that client waits"
    );
    assert_eq!(
        attempt("203.0.113.2", "other".into()).await,
        401,
        "another client does not"
    );

    // Without the setting, the header is not believed: the peer is throttled.
    let app = spawn_app().await;
    let url = app.url("/signin");
    for i in 0..=FREE {
        let status = reqwest::Client::new()
            .post(&url)
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("name=v{i}&password=nope+nope"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, if i < FREE { 401 } else { 429 }, "attempt {i}");
    }
}
