//! The wizard's Frontend step with the per-frontend options: IPv6, HTTP/3 and the SSL policy
//! saved from the form into the spec, shown again on the page, and a bad combination answered
//! under the SSL policy field.

use crate::deployments_support::{ClientExt, location, spawn_app};
use switchyard::auth::Role;

#[tokio::test]
async fn the_frontend_step_saves_ipv6_http3_and_an_ssl_policy() {
    let app = spawn_app().await;
    let mut ed = app.user_client("ed", Role::Editor).await;
    let r = ed
        .post_form(
            "/deployments",
            &[("name", "shop"), ("project", "acme-edge")],
        )
        .await;
    let id = location(&r).split('/').nth(2).unwrap().to_string();
    let step = format!("/deployments/{id}/edit/frontend");
    let form = |version: &'static str, profile: &'static str, tls: &'static str| {
        vec![
            ("version", version),
            ("protocol", "https"),
            ("domains", "shop.example.com"),
            ("ip", "static"),
            ("ipv6", "on"),
            ("http3", "on"),
            ("ssl_profile", profile),
            ("min_tls_version", tls),
        ]
    };
    let r = ed.hx_post(&step, &form("1", "MODERN", "1.2")).await;
    let body = r.text().await.unwrap();
    assert!(body.contains("Saved · version 2"), "{body}");
    let (status, spec) = ed.json(&format!("/api/v1/deployments/{id}")).await;
    assert_eq!(status, 200);
    let f = &spec["spec"]["frontend"];
    assert_eq!(f["ipv6"], true, "{spec}");
    assert_eq!(f["http3"], true, "{spec}");
    assert_eq!(f["ssl_policy"]["profile"], "MODERN", "{spec}");
    assert_eq!(f["ssl_policy"]["min_tls_version"], "1.2", "{spec}");

    let (_, page) = ed.text(&step).await;
    assert!(page.contains(r#"id="frontend-ipv6" checked"#), "{page}");
    assert!(page.contains(r#"<option value="on" selected>"#), "{page}");
    assert!(
        page.contains(r#"<option value="MODERN" selected>"#),
        "{page}"
    );
    assert!(page.contains(r#"<option value="1.2" selected>"#), "{page}");

    // RESTRICTED with TLS 1.0: saved as a draft, and told under the SSL policy field.
    let r = ed.hx_post(&step, &form("2", "RESTRICTED", "1.0")).await;
    let body = r.text().await.unwrap();
    assert!(body.contains("err-frontend-ssl-policy"), "{body}");
    assert!(body.contains("supported only by TLS 1.2"), "{body}");

    // A profile the form does not offer is refused naming the field.
    let r = ed.hx_post(&step, &form("3", "CUSTOM", "1.2")).await;
    let body = r.text().await.unwrap();
    assert!(body.contains("is not a profile"), "{body}");
}
