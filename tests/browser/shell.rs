//! Sign in, see the shell with the sandbox banner, sign out; a form posted from another origin
//! is refused.

use crate::common::spawn_app;
use crate::support::{Browser, click, current_path, sign_in_from, text_of};
use fantoccini::Locator;
use std::time::Duration;
use switchyard::auth::Role;

#[tokio::test]
async fn sign_in_see_the_shell_and_sign_out() {
    let app = spawn_app().await;
    app.create_user("alice", Role::Admin).await;
    let browser = Browser::start().await;
    let b = &browser.client;

    // Anonymous: sent to the sign-in page.
    sign_in_from(b, &app.base, "/", "alice").await;
    assert_eq!(current_path(b).await, "/");
    let who = text_of(b, "#whoami").await;
    let who = who.to_lowercase(); // the role badge is upper-cased by the CSS
    assert!(who.contains("alice") && who.contains("admin"), "{who}");
    let banner = b.find(Locator::Id("sandbox-banner")).await.unwrap();
    assert!(banner.is_displayed().await.unwrap());
    assert!(banner.text().await.unwrap().contains("simulated cloud"));
    let nav = text_of(b, "nav").await;
    assert!(nav.contains("Dashboard") && nav.contains("Users"), "{nav}");
    // The CSS and htmx loaded under the CSP (htmx defines window.htmx).
    let htmx = b
        .execute("return typeof window.htmx", vec![])
        .await
        .unwrap();
    assert_eq!(htmx, "object");

    click(b, "signout").await;
    b.wait().for_element(Locator::Id("signin")).await.unwrap();
    b.goto(&format!("{}/", app.base)).await.unwrap();
    assert!(b.current_url().await.unwrap().path().starts_with("/signin"));
    browser.close().await;
}

#[tokio::test]
async fn a_form_posted_from_another_origin_is_refused() {
    let app = spawn_app().await;
    app.create_user("alice", Role::Admin).await;

    // Another site (a different origin: `localhost` and another port) with a form aimed at us.
    let target = format!("{}/users", app.base);
    let evil_html = format!(
        r#"<!doctype html><html><body>
        <form method="post" action="{target}">
          <input name="name" value="mallory"><input name="role" value="admin">
          <input name="password" value="mallory-password">
          <button id="go" type="submit">go</button>
        </form></body></html>"#
    );
    let evil = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let evil_port = evil.local_addr().unwrap().port();
    let evil_app = axum::Router::new().route(
        "/",
        axum::routing::get(move || async move { axum::response::Html(evil_html) }),
    );
    let evil_server = tokio::spawn(async move { axum::serve(evil, evil_app).await });

    let browser = Browser::start().await;
    let b = &browser.client;
    sign_in_from(b, &app.base, "/", "alice").await;

    b.goto(&format!("http://localhost:{evil_port}/"))
        .await
        .unwrap();
    click(b, "go").await;
    let msg = b
        .wait()
        .for_element(Locator::Id("error-message"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(msg.contains("cross-site"), "{msg}");
    assert!(
        switchyard::db::users::by_name(&app.state.db, "mallory")
            .await
            .unwrap()
            .is_none(),
        "the cross-site post must not create a user"
    );

    // The same form on our own origin works (the layer refuses only cross-site posts).
    b.goto(&format!("{}/users", app.base)).await.unwrap();
    let found = b
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath("//*[contains(., 'Add a user')]"))
        .await;
    assert!(
        found.is_ok(),
        "{}: {}",
        b.current_url().await.unwrap(),
        b.source().await.unwrap()
    );
    browser.close().await;
    evil_server.abort();
}
