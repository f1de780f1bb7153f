//! The wizard's internet backend form, by IP address and by another deployment: a refused
//! value is shown again with its message under the field, and the other deployments are
//! offered in a list.

use crate::deployments_support::{Client, ClientExt, location, seed, spawn_app};
use serde_json::{Value, json};
use switchyard::auth::Role;

async fn spec_of(c: &Client, id: &str) -> Value {
    let (status, v) = c.json(&format!("/api/v1/deployments/{id}")).await;
    assert_eq!(status, 200);
    v["spec"].clone()
}

async fn add(
    c: &mut Client,
    id: &str,
    version: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("version", version), ("type", "internet")];
    form.extend_from_slice(fields);
    c.post_form(&format!("/deployments/{id}/backends"), &form)
        .await
}

#[tokio::test]
async fn an_internet_backend_is_added_by_ip_or_by_deployment_and_a_refusal_keeps_the_typing() {
    let app = spawn_app().await;
    switchyard::db::deployments::create(
        &app.state.db,
        "my-app",
        &seed("seed-001").to_string(),
        "ann",
    )
    .await
    .unwrap();
    let mut ann = app.user_client("ann", Role::Editor).await;
    let r = ann
        .post_form(
            "/deployments",
            &[("name", "edge-lb"), ("project", "edge-project")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let id = location(&r).split('/').nth(2).unwrap().to_string();

    let (status, html) = ann.text(&format!("/deployments/{id}/edit/backends")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"internet-target-ip\""), "{html}");
    assert!(
        html.contains("<option value=\"my-app\">my-app</option>"),
        "the other deployments are offered: {html}"
    );
    assert!(
        !html.contains("<option value=\"edge-lb\""),
        "a deployment is not offered as its own backend"
    );

    // Seed 002's chaining by IP with a private address: refused, and what was typed stays.
    let r = add(
        &mut ann,
        &id,
        "1",
        &[
            ("target", "ip"),
            ("endpoint", "10.1.2.3"),
            ("name", "multi"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("value=\"ip\" id=\"internet-target-ip\" checked"),
        "{html}"
    );
    assert!(
        html.contains("id=\"internet-endpoint\" value=\"10.1.2.3\""),
        "{html}"
    );
    assert!(
        html.contains("id=\"internet-name\" value=\"multi\""),
        "{html}"
    );
    let under = html
        .split("id=\"err-internet-endpoint\" role=\"alert\">")
        .nth(1)
        .unwrap();
    assert!(
        under.starts_with("`10.1.2.3`: a private address (RFC 1918)"),
        "{under}"
    );
    assert_eq!(spec_of(&ann, &id).await["backends"], json!([]));

    // A public one with a port is saved as `ip` and `port`, keeping the client's Host.
    let r = add(
        &mut ann,
        &id,
        "1",
        &[
            ("target", "ip"),
            ("endpoint", "34.120.1.2:8443"),
            ("name", "multi"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        spec_of(&ann, &id).await["backends"][0],
        json!({"name": "multi", "type": "internet", "ip": "34.120.1.2", "port": 8443,
               "cdn": false, "outlier_detection": false})
    );

    // Another deployment: one must be chosen.
    let r = add(
        &mut ann,
        &id,
        "2",
        &[("target", "deployment"), ("deployment", "")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("value=\"deployment\" id=\"internet-target-deployment\" checked"),
        "{html}"
    );
    assert!(
        html.contains("choose the deployment this backend sends its traffic to"),
        "{html}"
    );
    let r = add(
        &mut ann,
        &id,
        "2",
        &[
            ("target", "deployment"),
            ("deployment", "my-app"),
            ("name", "back"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        spec_of(&ann, &id).await["backends"][1],
        json!({"name": "back", "type": "internet", "deployment": "my-app", "port": 443,
               "cdn": false, "outlier_detection": false})
    );
    // Its edit form names the deployment, and the table says where it goes.
    let (_, html) = ann.text(&format!("/deployments/{id}/edit/backends")).await;
    assert!(html.contains("→ deployment my-app"), "{html}");
    assert!(
        html.contains("<option value=\"my-app\" selected>my-app</option>"),
        "{html}"
    );
}
