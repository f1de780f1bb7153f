//! The wizard and the drafts pages over HTTP: saving step by step (plain posts and htmx),
//! concurrent edits, viewers, import and export, duplicate and delete.

use crate::deployments_support::{Client, ClientExt, location, seed, spawn_app};
use serde_json::Value;
use switchyard::auth::Role;

/// The current version shown in a page's hidden `version` inputs.
fn page_version(html: &str) -> String {
    let marker = "class=\"draft-version\" value=\"";
    let start = html.find(marker).expect("a version input") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

async fn spec_of(c: &Client, id: &str) -> Value {
    let (status, v) = c.json(&format!("/api/v1/deployments/{id}")).await;
    assert_eq!(status, 200);
    v
}

/// Seed 001 saved through the API as `c`; returns the deployment id.
async fn create_seed_001(c: &mut Client) -> String {
    let (status, created) = c
        .send_json(
            reqwest::Method::POST,
            "/api/v1/deployments",
            &seed("seed-001"),
            None,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created["id"].to_string()
}

/// Builds seed 002 through the wizard's forms; returns the deployment id.
async fn build_seed_002(c: &mut Client) -> String {
    let r = c
        .post_form(
            "/deployments",
            &[("name", "hello-lb"), ("project", "my-lb-project")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.ends_with("/edit/frontend"), "{to}");
    let id = to.split('/').nth(2).unwrap().to_string();
    let base = format!("/deployments/{id}");

    // Frontend, saved with htmx: a status partial and the new version for every form.
    let r = c
        .hx_post(
            &format!("{base}/edit/frontend"),
            &[
                ("version", "1"),
                ("protocol", "https"),
                ("domains", "hello.example.com"),
                ("ip", "static"),
                ("http_redirect", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("Saved · version 2"), "{body}");
    assert!(
        body.contains("hx-swap-oob=\"outerHTML:.draft-version\""),
        "{body}"
    );
    assert!(body.contains("value=\"2\""), "{body}");
    // The same form again (htmx sends it on `input` and on `change`): no new version.
    let r = c
        .hx_post(
            &format!("{base}/edit/frontend"),
            &[
                ("version", "2"),
                ("protocol", "https"),
                ("domains", "hello.example.com"),
                ("ip", "static"),
                ("http_redirect", "on"),
            ],
        )
        .await;
    assert!(r.text().await.unwrap().contains("Saved · version 2"));

    // Backends: pasted Cloud Run URLs, Host override derived on the server.
    for (v, url) in [
        ("2", "https://hello-3qx7k2dz6a-uc.a.run.app/"),
        ("3", "https://hello2-3qx7k2dz6a-uc.a.run.app/"),
    ] {
        let r = c
            .post_form(
                &format!("{base}/backends"),
                &[
                    ("version", v),
                    ("type", "internet"),
                    ("endpoint", url),
                    ("host_mode", "fqdn"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), format!("{base}/edit/backends"));
    }
    let (_, html) = c.text(&format!("{base}/edit/backends")).await;
    assert!(html.contains(
        "hello2-3qx7k2dz6a-uc.a.run.app:443, Host header hello2-3qx7k2dz6a-uc.a.run.app"
    ));

    // Routing: default (plain post with Next), then the rule.
    let r = c
        .post_form(
            &format!("{base}/edit/routing?next=review"),
            &[
                ("version", "4"),
                ("default_kind", "backend"),
                ("default_backend", "hello"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("{base}/edit/review"));
    let r = c
        .post_form(
            &format!("{base}/rules"),
            &[
                ("version", "5"),
                ("hosts", "*"),
                ("paths", "/hello2\n/hello2/*"),
                ("kind", "backend"),
                ("backend", "hello2"),
                ("prefix_rewrite", "/"),
                ("host_rewrite", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    id
}

#[tokio::test]
async fn the_wizard_builds_seed_002_and_reviews_it() {
    let app = spawn_app().await;
    let mut ann = app.user_client("ann", Role::Editor).await;
    let id = build_seed_002(&mut ann).await;
    let got = spec_of(&ann, &id).await;
    assert_eq!(got["version"], 6);
    assert_eq!(got["spec"], seed("seed-002"));

    let (status, html) = ann.text(&format!("/deployments/{id}/edit/review")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"review-valid\""), "{html}");
    assert!(html.contains("https://hello.example.com/hello2/example"));
    assert!(html.contains("gcloud compute url-maps"));
    assert!(html.contains("id=\"route-preview\""));

    let (status, html) = ann.text(&format!("/deployments/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(
        "/hello2, /hello2/* on any host go to hello2, the matched prefix rewritten to /."
    ));

    let (status, html) = ann.text("/deployments").await;
    assert_eq!(status, 200);
    assert!(html.contains("hello-lb") && html.contains("state-valid"));
}

#[tokio::test]
async fn review_links_each_error_to_its_step() {
    let app = spawn_app().await;
    let mut ann = app.user_client("ann", Role::Editor).await;
    let r = ann
        .post_form("/deployments", &[("name", "Bad_Name"), ("project", "p")])
        .await;
    let id = location(&r).split('/').nth(2).unwrap().to_string();
    let (_, html) = ann.text(&format!("/deployments/{id}/edit/review")).await;
    // Everything at once: what is missing and what is wrong, each linked to its field.
    assert!(
        html.contains("add at least one backend on the Backends step"),
        "{html}"
    );
    assert!(html.contains(&format!(
        "href=\"/deployments/{id}/edit/backends?focus=backends#backends\" class=\"fix-link\">fix on the Backends step"
    )));
    assert!(html.contains(&format!(
        "href=\"/deployments/{id}/edit/basics?focus=basics-name#basics-name\" class=\"fix-link\">fix on the Basics step"
    )));
    assert!(html.contains("<code>project</code>"));
    // HTTP is already chosen (the default); a default target naming no backend is wrong.
    ann.post_form(
        &format!("/deployments/{id}/edit/routing"),
        &[
            ("version", "1"),
            ("default_kind", "backend"),
            ("default_backend", "ghost"),
        ],
    )
    .await;
    let (_, html) = ann.text(&format!("/deployments/{id}/edit/review")).await;
    assert!(html.contains("<code>name</code>"), "{html}");
    assert!(html.contains("<code>project</code>"));
    assert!(html.contains("<code>routing.default.backend</code>"));
    assert!(html.contains(&format!(
        "href=\"/deployments/{id}/edit/routing?focus=default-backend#default-backend\" class=\"fix-link\">fix on the Routing step"
    )));
}

#[tokio::test]
async fn a_second_concurrent_edit_is_refused_and_both_versions_are_recoverable() {
    let app = spawn_app().await;
    let mut ann = app.user_client("ann", Role::Editor).await;
    let mut bob = app.user_client("bob", Role::Editor).await;
    let r = ann
        .post_form(
            "/deployments",
            &[("name", "shop"), ("project", "acme-edge")],
        )
        .await;
    let id = location(&r).split('/').nth(2).unwrap().to_string();
    let page = format!("/deployments/{id}/edit/frontend");

    // Both open the same step at version 1.
    let (_, a) = ann.text(&page).await;
    let (_, b) = bob.text(&page).await;
    assert_eq!(page_version(&a), "1");
    assert_eq!(page_version(&b), "1");

    let r = ann
        .hx_post(
            &format!("/deployments/{id}/edit/frontend"),
            &[
                ("version", "1"),
                ("protocol", "https"),
                ("domains", "ann.example.com"),
            ],
        )
        .await;
    assert!(r.text().await.unwrap().contains("Saved · version 2"));

    // Bob's save from version 1, with htmx: told who came first, nothing overwritten.
    let r = bob
        .hx_post(
            &format!("/deployments/{id}/edit/frontend"),
            &[
                ("version", "1"),
                ("protocol", "http"),
                ("domains", "bob.example.com"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let msg = r.text().await.unwrap();
    assert!(
        msg.contains("Not saved: ann saved version 2 while you were editing version 1"),
        "{msg}"
    );
    assert!(
        !msg.contains("draft-version"),
        "a refused save must not advance the form's version"
    );
    // The page's forms save into that one copy from now on.
    assert!(msg.contains("class=\"draft-conflict\" value=\""), "{msg}");
    assert!(msg.contains(&format!("/deployments/{id}/versions#conflict-")));

    // Without htmx the same refusal is a 409 page showing the winning version.
    let r = bob
        .post_form(
            &format!("/deployments/{id}/edit/frontend"),
            &[
                ("version", "1"),
                ("protocol", "http"),
                ("domains", "bob2.example.com"),
            ],
        )
        .await;
    assert_eq!(r.status(), 409);
    let html = r.text().await.unwrap();
    assert!(html.contains("ann saved version 2"));
    assert!(
        html.contains("ann.example.com"),
        "the page shows the current version"
    );

    let current = spec_of(&ann, &id).await;
    assert_eq!(current["version"], 2);
    assert_eq!(current["spec"]["frontend"]["domains"][0], "ann.example.com");

    // Both are recoverable: ann's is current (and in the history), bob's is a kept copy.
    let (_, html) = bob.text(&format!("/deployments/{id}/versions")).await;
    assert!(html.contains("bob.example.com") && html.contains("ann.example.com"));
    let conflicts = switchyard::db::deployments::conflicts(&app.state.db, id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(conflicts.len(), 2);
    let bobs = conflicts
        .iter()
        .find(|c| c.spec.contains("\"bob.example.com\""))
        .unwrap();
    let r = bob
        .post_form(
            &format!("/deployments/{id}/restore"),
            &[
                ("version", "2"),
                ("source", &format!("conflict:{}", bobs.id)),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let restored = spec_of(&ann, &id).await;
    assert_eq!(restored["version"], 3);
    assert_eq!(
        restored["spec"]["frontend"]["domains"][0],
        "bob.example.com"
    );
    let versions = switchyard::db::deployments::versions(&app.state.db, id.parse().unwrap())
        .await
        .unwrap();
    assert!(
        versions
            .iter()
            .any(|v| v.version == 2 && v.spec.contains("ann.example.com"))
    );
}

#[tokio::test]
async fn viewers_look_but_cannot_edit() {
    let app = spawn_app().await;
    let mut ann = app.user_client("ann", Role::Editor).await;
    let id = build_seed_002(&mut ann).await;
    let mut vic = app.user_client("vic", Role::Viewer).await;
    for step in ["basics", "frontend", "backends", "routing", "review"] {
        let (status, html) = vic.text(&format!("/deployments/{id}/edit/{step}")).await;
        assert_eq!(status, 200, "{step}");
        assert!(html.contains("id=\"read-only\""), "{step}");
        for control in [
            "id=\"next\"",
            "id=\"save-default\"",
            "id=\"add-internet-submit\"",
            "id=\"add-rule-submit\"",
            "id=\"remove-backend-0\"",
            "Save rule",
        ] {
            assert!(
                !html.contains(control),
                "{step} shows {control} to a viewer"
            );
        }
    }
    let (status, html) = vic.text(&format!("/deployments/{id}/edit/frontend")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<fieldset disabled>"));
    assert_eq!(vic.text("/deployments").await.0, 200);
    assert_eq!(vic.text(&format!("/deployments/{id}")).await.0, 200);
    assert_eq!(
        vic.text(&format!("/deployments/{id}/versions")).await.0,
        200
    );
    assert_eq!(vic.text(&format!("/deployments/{id}/export")).await.0, 200);
    assert_eq!(vic.text("/deployments/new").await.0, 403);
    for path in [
        format!("/deployments/{id}/edit/frontend"),
        format!("/deployments/{id}/backends"),
        format!("/deployments/{id}/rules"),
        format!("/deployments/{id}/delete"),
        format!("/deployments/{id}/duplicate"),
        "/deployments".to_string(),
        "/deployments/import".to_string(),
    ] {
        let r = vic
            .post_form(&path, &[("version", "6"), ("protocol", "http")])
            .await;
        assert_eq!(r.status(), 403, "{path}");
    }
    assert_eq!(spec_of(&ann, &id).await["version"], 6);
}

#[tokio::test]
async fn export_import_duplicate_and_delete() {
    let app = spawn_app().await;
    let mut ann = app.user_client("ann", Role::Editor).await;
    let id = build_seed_002(&mut ann).await;

    let r = ann.get(&format!("/deployments/{id}/export")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"hello-lb.json\""
    );
    let exported = r.text().await.unwrap();
    let as_json: Value = serde_json::from_str(&exported).unwrap();
    assert_eq!(as_json, seed("seed-002"));

    // Same name: refused with a message; with a new name: a new draft, straight to Review.
    let r = ann
        .post_form("/deployments/import", &[("spec", &exported)])
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("already exists"));
    let r = ann
        .post_form(
            "/deployments/import",
            &[("spec", &exported), ("name", "hello-lb-2")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.ends_with("/edit/review"));
    let (_, html) = ann.text(&to).await;
    assert!(html.contains("id=\"review-valid\""));

    // The page's form uploads the file (multipart); a chosen file wins over the text area.
    let boundary = "XyZzy0123";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hello-lb.json\"\r\n\
         Content-Type: application/json\r\n\r\n{exported}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"spec\"\r\n\r\n{{not used\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nhello-lb-3\r\n\
         --{boundary}--\r\n"
    );
    let r = ann
        .request(reqwest::Method::POST, "/deployments/import")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let uploaded = spec_of(&ann, location(&r).split('/').nth(2).unwrap()).await;
    assert_eq!(uploaded["name"], "hello-lb-3");
    assert_eq!(uploaded["spec"]["routing"], seed("seed-002")["routing"]);
    // A broken upload is a 400, never a 500.
    let r = ann
        .request(reqwest::Method::POST, "/deployments/import")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body("--XyZzy0123\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nunterminated")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    for bad in ["{nope", "[]", "{\"name\": \"x\", \"colour\": 1}"] {
        let r = ann.post_form("/deployments/import", &[("spec", bad)]).await;
        assert_eq!(r.status(), 422, "{bad}");
        assert!(r.text().await.unwrap().contains("not imported"), "{bad}");
    }

    let r = ann
        .post_form(&format!("/deployments/{id}/duplicate"), &[])
        .await;
    assert_eq!(r.status(), 303);
    let copy = location(&r).split('/').nth(2).unwrap().to_string();
    let copied = spec_of(&ann, &copy).await;
    assert_eq!(copied["name"], "hello-lb-copy");
    assert_eq!(copied["spec"]["routing"], seed("seed-002")["routing"]);

    let r = ann
        .post_form(&format!("/deployments/{id}/delete"), &[])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(ann.text(&format!("/deployments/{id}")).await.0, 404);
    let (_, list) = ann.text("/deployments").await;
    assert!(
        list.contains("hello-lb-copy")
            && list.contains("hello-lb-2")
            && list.contains("hello-lb-3")
    );
}

#[tokio::test]
async fn bad_form_input_is_a_message_never_a_500() {
    let app = spawn_app().await;
    let mut ann = app.user_client("ann", Role::Editor).await;
    let r = ann
        .post_form("/deployments", &[("name", ""), ("project", "p")])
        .await;
    assert_eq!(r.status(), 422);
    let r = ann
        .post_form(
            "/deployments",
            &[("name", "shop"), ("project", "acme-edge")],
        )
        .await;
    let id = location(&r).split('/').nth(2).unwrap().to_string();
    let base = format!("/deployments/{id}");

    // No version: the form is refused, naming the field.
    let r = ann
        .post_form(&format!("{base}/edit/frontend"), &[("protocol", "http")])
        .await;
    assert_eq!(r.status(), 422);
    // A value no form offers.
    let r = ann
        .post_form(
            &format!("{base}/edit/frontend"),
            &[("version", "1"), ("protocol", "ftp")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("is not a protocol"));
    let r = ann
        .hx_post(
            &format!("{base}/edit/frontend"),
            &[("version", "1"), ("protocol", "ftp")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Not saved"));
    // Unknown step, out-of-range index, bad endpoint, non-numeric id.
    assert_eq!(ann.text(&format!("{base}/edit/nope")).await.0, 404);
    let r = ann
        .post_form(&format!("{base}/rules/7/remove"), &[("version", "1")])
        .await;
    assert_eq!(r.status(), 422);
    let r = ann
        .post_form(&format!("{base}/backends/x/remove"), &[("version", "1")])
        .await;
    assert_eq!(r.status(), 404);
    let r = ann
        .post_form(
            &format!("{base}/backends"),
            &[
                ("version", "1"),
                ("type", "internet"),
                ("endpoint", "ftp://x"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = ann
        .post_form(
            &format!("{base}/backends"),
            &[("version", "1"), ("type", "vm")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(ann.text("/deployments/abc").await.0, 404);
    assert_eq!(ann.text("/deployments/999/edit/basics").await.0, 404);
    let r = ann
        .post_form(
            "/deployments/999/edit/basics",
            &[("version", "1"), ("name", "x"), ("project", "y")],
        )
        .await;
    assert_eq!(r.status(), 404);
    // Nothing was saved by any of it.
    assert_eq!(spec_of(&ann, &id).await["version"], 1);
}

#[tokio::test]
async fn a_backend_is_edited_in_place_and_its_routes_follow_a_rename() {
    let app = spawn_app().await;
    let mut ann = app.user_client("ann", Role::Editor).await;
    let id = build_seed_002(&mut ann).await;
    let (_, html) = ann.text(&format!("/deployments/{id}/edit/backends")).await;
    assert!(html.contains("id=\"edit-backend-1\""));
    let r = ann
        .post_form(
            &format!("/deployments/{id}/backends/1"),
            &[
                ("version", "6"),
                ("name", "second"),
                ("endpoint", "hello2-3qx7k2dz6a-uc.a.run.app"),
                ("host_mode", "custom"),
                ("host_header", "hello2.internal.example.com"),
                ("cdn", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let got = spec_of(&ann, &id).await;
    assert_eq!(got["version"], 7);
    let b = &got["spec"]["backends"][1];
    assert_eq!(b["name"], "second");
    assert_eq!(b["host_header"], "hello2.internal.example.com");
    assert_eq!(b["cdn"], true);
    assert_eq!(got["spec"]["routing"]["rules"][0]["backend"], "second");
    // A clash with another backend's name is refused, naming it; nothing changes.
    let r = ann
        .post_form(
            &format!("/deployments/{id}/backends/1"),
            &[
                ("version", "7"),
                ("name", "hello"),
                ("endpoint", "x.example.com"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("already a backend named `hello`")
    );
    assert_eq!(spec_of(&ann, &id).await["version"], 7);
}

#[tokio::test]
async fn the_services_step_deploys_seed_001s_image_with_a_canary_and_review_lints_it() {
    let app = spawn_app().await;
    let mut ann = app.user_client("ann", Role::Editor).await;
    let id = create_seed_001(&mut ann).await;
    let base = format!("/deployments/{id}");

    let (status, html) = ann.text(&format!("{base}/edit/services")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"no-services\""), "{html}");
    // Backends → Services → Routing.
    assert!(
        html.contains("Back: Backends") && html.contains("Next: Routing"),
        "{html}"
    );

    let add = |v: &str, min: &'static str| {
        vec![
            ("version", v.to_string()),
            ("name", "my-app".to_string()),
            (
                "image",
                "us-docker.pkg.dev/cloudrun/container/hello".to_string(),
            ),
            (
                "regions",
                "us-central1, europe-west1, asia-east1".to_string(),
            ),
            ("min_instances", min.to_string()),
            ("max_instances", "100".to_string()),
            ("cpu", "1".to_string()),
            ("memory", "512Mi".to_string()),
            ("concurrency", "80".to_string()),
            ("env", "".to_string()),
            ("ingress", "internal-and-cloud-load-balancing".to_string()),
            ("allow_unauthenticated", "on".to_string()),
        ]
    };
    let pairs = add("1", "0");
    let form: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = ann.post_form(&format!("{base}/services"), &form).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("{base}/edit/services"));

    // A bad number is a message naming what to fix, not a 500.
    let mut bad = add("2", "one");
    bad[1].1 = "other".into();
    let form: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = ann.post_form(&format!("{base}/services"), &form).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    // Said under the field it is about, with everything typed into the add form kept.
    assert!(
        html.contains(
            "id=\"err-service-min_instances\" role=\"alert\">`one` is not a whole number</span>"
        ),
        "{html}"
    );
    assert!(
        html.contains("id=\"service-name\" value=\"other\""),
        "{html}"
    );
    assert!(html.contains("id=\"service-min\" value=\"one\""), "{html}");
    assert!(
        html.contains("value=\"us-central1, europe-west1, asia-east1\""),
        "{html}"
    );

    // Min instances 0 shows in Review's lint, linked to the field.
    let (_, html) = ann.text(&format!("{base}/edit/review")).await;
    assert!(html.contains("scales to zero"), "{html}");

    // Edit to min 1, and pick a canary region with the autosaving rollout form.
    let pairs = add("2", "1");
    let form: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = ann.post_form(&format!("{base}/services/0"), &form).await;
    assert_eq!(r.status(), 303);
    let r = ann
        .hx_post(
            &format!("{base}/edit/services"),
            &[("version", "3"), ("canary_region", "us-central1")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Saved · version 4"));

    let got = spec_of(&ann, &id).await;
    let mut want = seed("seed-001-services");
    want["rollout"] = serde_json::json!({ "canary_region": "us-central1" });
    // The wizard writes the defaults out (concurrency, ingress); the meaning is the seed's.
    let parse = |v: &Value| switchyard::domain::parse::parse(v.to_string()).unwrap();
    assert_eq!(parse(&got["spec"]), parse(&want));
    let (_, html) = ann.text(&format!("{base}/edit/review")).await;
    assert!(html.contains("id=\"review-valid\""), "{html}");
    assert!(!html.contains("scales to zero"));

    // A canary region the service does not use is a Review error linked to the Services step.
    let r = ann
        .hx_post(
            &format!("{base}/edit/services"),
            &[("version", "4"), ("canary_region", "us-east1")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let (_, html) = ann.text(&format!("{base}/edit/review")).await;
    assert!(
        html.contains(&format!(
            "href=\"/deployments/{id}/edit/services?focus=canary-region#canary-region\" class=\"fix-link\">fix on the Services step"
        )),
        "{html}"
    );

    let r = ann
        .post_form(&format!("{base}/services/0/remove"), &[("version", "5")])
        .await;
    assert_eq!(r.status(), 303);
    assert!(spec_of(&ann, &id).await["spec"].get("services").is_none());

    // The canary outlives the service: its field stays on the Services step with its message
    // there, not only on Review, so it can be cleared where it was set.
    let (_, html) = ann.text(&format!("{base}/edit/services")).await;
    let slot = html
        .split("id=\"err-canary-region\"")
        .nth(1)
        .and_then(|rest| rest.split("</span>").next())
        .unwrap_or_else(|| panic!("no canary field on the Services step: {html}"));
    assert!(
        slot.contains("a canary region only applies to services the spec deploys"),
        "{slot}"
    );
    assert!(html.contains("value=\"us-east1\""), "{html}");
    let r = ann
        .hx_post(
            &format!("{base}/edit/services"),
            &[("version", "6"), ("canary_region", "")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(spec_of(&ann, &id).await["spec"].get("rollout").is_none());
    let (_, html) = ann.text(&format!("{base}/edit/services")).await;
    assert!(!html.contains("id=\"canary-region\""), "{html}");
}

#[tokio::test]
async fn the_rollout_form_sets_the_gate_and_names_the_field_it_cannot_read() {
    let app = spawn_app().await;
    let mut ann = app.user_client("ann", Role::Editor).await;
    let id = create_seed_001(&mut ann).await;
    let base = format!("/deployments/{id}");
    // The gate is on the Services step even without services: weight rollouts use it too.
    let (_, html) = ann.text(&format!("{base}/edit/services")).await;
    assert!(html.contains("id=\"rollout-soak\""), "{html}");
    assert!(!html.contains("id=\"canary-region\""), "{html}");
    let r = ann
        .hx_post(
            &format!("{base}/edit/services"),
            &[
                ("version", "1"),
                ("canary_region", ""),
                ("soak_seconds", "300"),
                ("max_error_percent", "5"),
                ("max_p95_ms", "800"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Saved · version 2"));
    let got = spec_of(&ann, &id).await;
    assert_eq!(
        got["spec"]["rollout"],
        serde_json::json!({"soak_seconds": 300, "max_error_ratio": 0.05, "max_p95_ms": 800.0})
    );
    let (_, html) = ann.text(&format!("{base}/edit/services")).await;
    assert!(
        html.contains("name=\"max_error_percent\" id=\"rollout-max-error\" value=\"5\""),
        "{html}"
    );

    // A soak that is not a number is refused under its field; the saved gate stays.
    let r = ann
        .hx_post(
            &format!("{base}/edit/services"),
            &[
                ("version", "2"),
                ("canary_region", ""),
                ("soak_seconds", "five minutes"),
                ("max_error_percent", "5"),
                ("max_p95_ms", "800"),
            ],
        )
        .await;
    let body = r.text().await.unwrap();
    assert!(
        body.contains("`five minutes` is not a whole number of seconds"),
        "{body}"
    );
    assert_eq!(
        spec_of(&ann, &id).await["spec"]["rollout"]["soak_seconds"],
        300
    );

    // A soak without a limit is a problem shown under the limit, linked from Review.
    let r = ann
        .hx_post(
            &format!("{base}/edit/services"),
            &[
                ("version", "2"),
                ("canary_region", ""),
                ("soak_seconds", "60"),
                ("max_error_percent", ""),
                ("max_p95_ms", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let (_, html) = ann.text(&format!("{base}/edit/services")).await;
    let slot = html
        .split("id=\"err-rollout-max-error\"")
        .nth(1)
        .and_then(|rest| rest.split("</span>").next())
        .unwrap_or_default();
    assert!(
        slot.contains("a gated rollout needs a limit to judge by"),
        "{html}"
    );
    let (_, html) = ann.text(&format!("{base}/edit/review")).await;
    assert!(
        html.contains(&format!(
            "href=\"/deployments/{id}/edit/services?focus=rollout-max-error#rollout-max-error\""
        )),
        "{html}"
    );
}

#[tokio::test]
async fn the_services_step_adds_secret_references_and_review_lints_a_plain_password() {
    let app = spawn_app().await;
    let mut ann = app.user_client("ann", Role::Editor).await;
    let id = create_seed_001(&mut ann).await;
    let base = format!("/deployments/{id}");
    let (_, html) = ann.text(&format!("{base}/edit/services")).await;
    assert!(html.contains("name=\"secrets\""), "{html}");
    let form = [
        ("version", "1"),
        ("name", "my-app"),
        ("image", "us-docker.pkg.dev/cloudrun/container/hello"),
        ("regions", "us-central1, europe-west1, asia-east1"),
        ("min_instances", "1"),
        ("env", "MODE=prod\nDB_PASSWORD=hunter2"),
        ("secrets", "API_TOKEN=api-token:3\nSIGNING_KEY=signing-key"),
        ("allow_unauthenticated", "on"),
    ];
    let r = ann.post_form(&format!("{base}/services"), &form).await;
    assert_eq!(r.status(), 303);
    let got = spec_of(&ann, &id).await;
    assert_eq!(
        got["spec"]["services"][0]["env"],
        serde_json::json!([
            { "name": "MODE", "value": "prod" },
            { "name": "DB_PASSWORD", "value": "hunter2" },
            { "name": "API_TOKEN", "secret": "api-token", "version": "3" },
            { "name": "SIGNING_KEY", "secret": "signing-key", "version": "latest" }
        ])
    );
    // The edit form gives each kind back in its own box; the table names them all.
    let (_, html) = ann.text(&format!("{base}/edit/services")).await;
    assert!(
        html.contains("API_TOKEN=api-token:3\nSIGNING_KEY=signing-key:latest</textarea>"),
        "{html}"
    );
    assert!(
        html.contains("DB_PASSWORD (value hidden), API_TOKEN from secret api-token:3"),
        "{html}"
    );
    // Review: valid, with gcloud's --set-secrets, and the lint on the plain password only.
    let (_, html) = ann.text(&format!("{base}/edit/review")).await;
    assert!(html.contains("id=\"review-valid\""), "{html}");
    assert!(
        html.contains("--set-secrets=API_TOKEN=api-token:3,SIGNING_KEY=signing-key:latest"),
        "{html}"
    );
    assert!(
        html.contains("`DB_PASSWORD` of service `my-app` looks like a secret"),
        "{html}"
    );
    assert!(!html.contains("`SIGNING_KEY` of service"), "{html}");
    // A malformed secret is a Review error on its field, linked to the Services step.
    let bad = [
        ("version", "2"),
        ("name", "my-app"),
        ("image", "us-docker.pkg.dev/cloudrun/container/hello"),
        ("regions", "us-central1, europe-west1, asia-east1"),
        ("min_instances", "1"),
        ("secrets", "API_TOKEN=api token:0"),
    ];
    let r = ann.post_form(&format!("{base}/services/0"), &bad).await;
    assert_eq!(r.status(), 303);
    let (_, html) = ann.text(&format!("{base}/edit/review")).await;
    assert!(html.contains("services[0].env[0].secret"), "{html}");
    assert!(html.contains("services[0].env[0].version"), "{html}");
}

#[tokio::test]
async fn the_new_page_shows_every_step_and_the_name_limit_and_cuts_nothing() {
    let app = spawn_app().await;
    let mut ann = app.user_client("ann", Role::Editor).await;
    let (status, html) = ann.text("/deployments/new").await;
    assert_eq!(status, 200);
    let steps = [
        "1. Basics",
        "2. Frontend",
        "3. Backends",
        "4. Services",
        "5. Routing",
        "6. Review",
    ];
    for s in steps {
        assert!(html.contains(s), "{s} missing: {html}");
    }
    assert!(!html.contains("maxlength"), "{html}");
    assert!(html.contains("At most 52 characters"), "{html}");

    // A 70-character name is kept as typed; the draft opens on Basics, where it is said.
    let long = "a".repeat(70);
    let r = ann
        .post_form("/deployments", &[("name", &long), ("project", "acme-edge")])
        .await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.ends_with("/edit/basics"), "{to}");
    let id = to.split('/').nth(2).unwrap().to_string();
    assert_eq!(spec_of(&ann, &id).await["spec"]["name"], long.as_str());
    let (_, html) = ann.text(&to).await;
    assert!(html.contains("is 70 characters long, at most 63"), "{html}");
    assert!(!html.contains("maxlength"));
    assert!(
        !html.contains("certificate"),
        "HTTP-only: no certificate to name"
    );
}

/// Import is as strict as the API: a field that is not part of a spec is refused, named, and
/// the pasted text stays in the form; no draft is made.
#[tokio::test]
async fn import_refuses_an_unknown_field_naming_it_and_keeps_the_text() {
    let app = crate::common::spawn_app().await;
    let mut ed = app.user_client("ed", switchyard::auth::Role::Editor).await;
    let mut spec: serde_json::Value =
        serde_json::from_str(include_str!("../data/seeds/seed-002-http.json")).unwrap();
    spec["backends"][0]["max_rate"] = 100.into();
    let text = spec.to_string();
    let r = ed
        .post_form("/deployments/import", &[("spec", &text), ("name", "")])
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("backends[0].max_rate"), "{html}");
    assert!(html.contains("unknown field"), "{html}");
    assert!(
        html.contains("max_rate&quot;:100") || html.contains("max_rate&#34;:100"),
        "the text stays: {html}"
    );
    assert!(
        switchyard::db::deployments::list(&app.state.db)
            .await
            .unwrap()
            .is_empty()
    );
    // The API says the same about the same document.
    let mut robot = app
        .token_client("robot", switchyard::auth::Role::Editor)
        .await;
    let r = robot.post_json("/api/v1/deployments", &spec).await;
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["field"], "backends[0].max_rate");
}

#[tokio::test]
async fn review_and_plan_name_what_another_deployment_also_uses() {
    let app = spawn_app().await;
    let mut ann = app.token_client("ann", Role::Editor).await;
    let mut first = seed("seed-000");
    first["name"] = "shop".into();
    let r = ann.post_json("/api/v1/deployments", &first).await;
    assert_eq!(r.status(), 201);
    // A copy under another name: the same domain, the same Cloud Run service.
    let mut copy = first.clone();
    copy["name"] = "shop-copy".into();
    let r = ann.post_json("/api/v1/deployments", &copy).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let domain = first["frontend"]["domains"][0]
        .as_str()
        .unwrap()
        .to_string();

    let mut ed = app.user_client("ed", Role::Editor).await;
    let (status, html) = ed.text(&format!("/deployments/{id}/edit/review")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!(
            "Domain {domain} is also a domain of deployment “shop”."
        )),
        "{html}"
    );
    // Named in the wizard's words and linked to the field.
    assert!(
        html.contains(&format!(
            "<a href=\"/deployments/{id}/edit/frontend?focus=frontend-domains#frontend-domains\">Domains</a>"
        )),
        "{html}"
    );
    let (status, html) = ed.text(&format!("/deployments/{id}/plan")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!(
            "Domain {domain} is also a domain of deployment “shop”."
        )),
        "{html}"
    );

    // Once the first one is gone, nothing is shared.
    let (_, v) = ed.json("/api/v1/deployments").await;
    let shop = v["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "shop")
        .map(|d| d["id"].as_i64().unwrap())
        .expect("shop is listed");
    let r = ann
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/deployments/{shop}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (_, html) = ed.text(&format!("/deployments/{id}/edit/review")).await;
    assert!(!html.contains("is also a domain of deployment"), "{html}");
}

#[tokio::test]
async fn the_services_step_makes_a_multi_region_service_with_a_readiness_probe() {
    let app = spawn_app().await;
    let mut ann = app.user_client("ann", Role::Editor).await;
    let id = create_seed_001(&mut ann).await;
    let base = format!("/deployments/{id}");
    let mut form = vec![
        ("version", "1"),
        ("name", "my-app"),
        ("image", "us-docker.pkg.dev/cloudrun/container/hello"),
        ("regions", "us-central1, europe-west1, asia-east1"),
        ("min_instances", "1"),
        ("allow_unauthenticated", "on"),
        ("multi_region", "on"),
        ("readiness_path", "/ready"),
        ("readiness_timeout", "20"),
    ];
    // A number that is not one is refused under its field, and nothing is saved.
    form.push(("readiness_period", "often"));
    let r = ann.post_form(&format!("{base}/services"), &form).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(
            "id=\"err-service-readiness_period\" role=\"alert\">`often` is not a whole number"
        ),
        "{html}"
    );
    form.pop();
    let r = ann.post_form(&format!("{base}/services"), &form).await;
    assert_eq!(r.status(), 303);
    let got = spec_of(&ann, &id).await;
    let svc = &got["spec"]["services"][0];
    assert_eq!(svc["multi_region"], true, "{got}");
    assert_eq!(
        svc["readiness_probe"],
        serde_json::json!({ "path": "/ready", "timeout_seconds": 20 })
    );
    // A timeout past the default period is a Review error under the probe's timeout field.
    let (_, html) = ann.text(&format!("{base}/edit/review")).await;
    assert!(
        html.contains("services[0].readiness_probe.timeout_seconds"),
        "{html}"
    );
    assert!(html.contains("Readiness probe"), "{html}");
    let (_, html) = ann.text(&format!("{base}/edit/services")).await;
    assert!(
        html.contains("id=\"service-0-multi_region\" checked"),
        "{html}"
    );
    assert!(
        html.contains("value=\"20\" id=\"service-0-readiness_timeout\""),
        "{html}"
    );
    // Fixed, the review lints the failover in words.
    let fixed = [
        ("version", "2"),
        ("name", "my-app"),
        ("image", "us-docker.pkg.dev/cloudrun/container/hello"),
        ("regions", "us-central1, europe-west1, asia-east1"),
        ("min_instances", "1"),
        ("allow_unauthenticated", "on"),
        ("multi_region", "on"),
        ("readiness_path", "/ready"),
    ];
    let r = ann.post_form(&format!("{base}/services/0"), &fixed).await;
    assert_eq!(r.status(), 303);
    let (_, html) = ann.text(&format!("{base}/edit/review")).await;
    assert!(html.contains("id=\"review-valid\""), "{html}");
    assert!(
        html.contains("If us-central1 fails its readiness probes, its traffic moves to the next closest healthy region (europe-west1, asia-east1)"),
        "{html}"
    );
    assert!(html.contains("gcloud alpha run deploy my-app"), "{html}");
}
