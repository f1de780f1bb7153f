//! The wizard in a real Chromium: seed 002 (two internet backends with Host overrides,
//! `/hello2` and `/hello2/*` to the second with the prefix rewritten to `/`) built step by
//! step, with reloads in the middle that must find everything kept, and the review's route
//! preview.

use crate::common::spawn_app;
use crate::support::{
    Browser, click, current_path, prop, sign_in, text_of, type_into, wait_for_text,
};
use fantoccini::Locator;
use std::time::Duration;
use switchyard::auth::Role;
use switchyard::domain::draft::Draft;
use switchyard::domain::spec::Protocol;

/// Waits until the stored draft satisfies `ok` (the htmx saves are asynchronous).
async fn saved(app: &crate::common::TestApp, id: i64, ok: impl Fn(&Draft) -> bool) -> Draft {
    for _ in 0..100 {
        let row = switchyard::db::deployments::get(&app.state.db, id)
            .await
            .unwrap()
            .unwrap();
        let d = Draft::from_json(&row.spec).unwrap();
        if ok(&d) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the draft was not saved as expected");
}

#[tokio::test]
async fn build_seed_002_in_the_wizard_with_reloads_and_review_the_routes() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let browser = Browser::start().await;
    let b = &browser.client;
    sign_in(b, &app.base, "ed").await;

    // Basics.
    b.goto(&format!("{}/deployments", app.base)).await.unwrap();
    click(b, "new-deployment").await;
    type_into(b, "basics-name", "hello-lb").await;
    type_into(b, "basics-project", "my-lb-project").await;
    click(b, "create").await;
    b.wait()
        .for_element(Locator::Id("frontend-form"))
        .await
        .unwrap();
    let path = current_path(b).await;
    assert!(path.ends_with("/edit/frontend"), "{path}");
    let id: i64 = path.split('/').nth(2).unwrap().parse().unwrap();

    // Frontend, saved as we go (no button pressed).
    click(b, "protocol-https").await;
    // A new HTTPS deployment is offered Certificate Manager; seed 002 uses classic certificates.
    assert_eq!(
        prop(b, "certificate-manager", "checked").await.as_deref(),
        Some("true")
    );
    click(b, "certificate-classic").await;
    type_into(b, "frontend-domains", "hello.example.com").await;
    click(b, "frontend-redirect").await;
    saved(&app, id, |d| {
        d.frontend.http_redirect
            && d.frontend.certificate.is_managed()
            && d.frontend.domains == ["hello.example.com"]
    })
    .await;
    wait_for_text(b, "save-status", "Saved").await;

    // Reload: everything is still there.
    b.refresh().await.unwrap();
    b.wait()
        .for_element(Locator::Id("frontend-form"))
        .await
        .unwrap();
    assert_eq!(
        prop(b, "protocol-https", "checked").await.as_deref(),
        Some("true")
    );
    assert_eq!(
        prop(b, "ip-static", "checked").await.as_deref(),
        Some("true")
    );
    assert_eq!(
        prop(b, "frontend-redirect", "checked").await.as_deref(),
        Some("true")
    );
    assert_eq!(
        prop(b, "frontend-domains", "value").await.as_deref(),
        Some("hello.example.com")
    );
    click(b, "next").await;
    b.wait()
        .for_element(Locator::Id("add-internet"))
        .await
        .unwrap();
    assert!(current_path(b).await.ends_with("/edit/backends"));

    // Backends: paste the Cloud Run URLs; the Host override comes from them.
    for (i, url) in [
        "https://hello-3qx7k2dz6a-uc.a.run.app/",
        "https://hello2-3qx7k2dz6a-uc.a.run.app/",
    ]
    .iter()
    .enumerate()
    {
        type_into(b, "internet-endpoint", url).await;
        click(b, "add-internet-submit").await;
        // The post redirects back to the step, now listing the new backend.
        b.wait()
            .for_element(Locator::Id(&format!("backend-{i}")))
            .await
            .unwrap();
    }
    b.refresh().await.unwrap();
    b.wait()
        .for_element(Locator::Id("backend-1"))
        .await
        .unwrap();
    let row = text_of(b, "#backend-1").await;
    assert!(row.contains("hello2"), "{row}");
    assert!(
        row.contains(
            "hello2-3qx7k2dz6a-uc.a.run.app:443, Host header hello2-3qx7k2dz6a-uc.a.run.app"
        ),
        "{row}"
    );
    assert!(
        text_of(b, "#backend-0")
            .await
            .contains("Host header hello-3qx7k2dz6a-uc.a.run.app")
    );
    click(b, "next").await;
    // Services: seed 002 deploys none (its services live in other projects).
    b.wait()
        .for_element(Locator::Id("no-services"))
        .await
        .unwrap();
    click(b, "next").await;
    b.wait()
        .for_element(Locator::Id("default-form"))
        .await
        .unwrap();

    // Routing: the default (saved as we go), then the rule.
    b.find(Locator::Id("default-backend"))
        .await
        .unwrap()
        .select_by_value("hello")
        .await
        .unwrap();
    saved(&app, id, |d| d.routing.default.is_some()).await;
    type_into(b, "new-rule-paths", "/hello2\n/hello2/*").await;
    b.find(Locator::Id("new-rule-backend"))
        .await
        .unwrap()
        .select_by_value("hello2")
        .await
        .unwrap();
    type_into(b, "new-rule-prefix", "/").await;
    click(b, "add-rule-submit").await;
    b.wait().for_element(Locator::Id("rule-0")).await.unwrap();

    // Reload in the middle of routing: default and rule kept.
    b.refresh().await.unwrap();
    b.wait().for_element(Locator::Id("rule-0")).await.unwrap();
    assert_eq!(
        prop(b, "default-backend", "value").await.as_deref(),
        Some("hello")
    );
    assert_eq!(
        prop(b, "rule-0-paths", "value").await.as_deref(),
        Some("/hello2\n/hello2/*")
    );
    assert_eq!(
        prop(b, "rule-0-backend", "value").await.as_deref(),
        Some("hello2")
    );
    assert_eq!(
        prop(b, "rule-0-prefix", "value").await.as_deref(),
        Some("/")
    );
    assert_eq!(prop(b, "rule-0-hosts", "value").await.as_deref(), Some("*"));

    // The stored draft is seed 002.
    let d = saved(&app, id, |d| !d.routing.rules.is_empty()).await;
    let want: serde_json::Value =
        serde_json::from_str(include_str!("../data/seeds/seed-002.json")).unwrap();
    assert_eq!(serde_json::to_value(d.to_spec().unwrap()).unwrap(), want);

    // Review: valid, and the preview says where each request goes and with what path.
    click(b, "next").await;
    b.wait()
        .for_element(Locator::Id("route-preview"))
        .await
        .unwrap();
    assert!(b.find(Locator::Id("review-valid")).await.is_ok());
    let rows = b
        .find_all(Locator::Css("#route-preview tbody tr"))
        .await
        .unwrap();
    let mut table = Vec::new();
    for r in rows {
        table.push(r.text().await.unwrap());
    }
    let find = |req: &str| {
        table
            .iter()
            .find(|t| t.starts_with(req) && t[req.len()..].starts_with(char::is_whitespace))
            .unwrap_or_else(|| panic!("no preview row for {req}: {table:#?}"))
            .clone()
    };
    let root = find("https://hello.example.com/");
    assert!(
        root.contains("default") && root.contains("hello") && !root.contains("hello2"),
        "{root}"
    );
    let exact = find("https://hello.example.com/hello2");
    assert!(
        exact.contains("rule 1") && exact.contains("hello2"),
        "{exact}"
    );
    let sub = find("https://hello.example.com/hello2/example");
    assert!(
        sub.contains("rule 1") && sub.contains("hello2") && sub.contains("/example"),
        "{sub}"
    );
    assert!(
        sub.contains("hello2-3qx7k2dz6a-uc.a.run.app"),
        "the backend receives its own Host: {sub}"
    );
    let redirect = find("http://hello.example.com/");
    assert!(
        redirect.contains("redirect to https://hello.example.com/"),
        "{redirect}"
    );
    let gcloud = text_of(b, "#gcloud").await;
    assert!(
        gcloud.contains("--path-prefix-rewrite") || gcloud.contains("pathPrefixRewrite"),
        "{gcloud}"
    );
    browser.close().await;
}

#[tokio::test]
async fn a_save_after_someone_elses_is_refused_in_the_page_and_recoverable() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let db = &app.state.db;
    // No protocol chosen yet (a draft from before HTTP was the default), so a click on HTTP
    // is a change.
    let mut d = Draft::new("shop", "acme-edge").unwrap();
    d.frontend.protocol = None;
    let row = switchyard::db::deployments::create(db, "shop", &d.to_json().to_string(), "ann")
        .await
        .unwrap();
    let browser = Browser::start().await;
    let b = &browser.client;
    sign_in(b, &app.base, "ed").await;
    b.goto(&format!(
        "{}/deployments/{}/edit/frontend",
        app.base, row.id
    ))
    .await
    .unwrap();
    b.wait()
        .for_element(Locator::Id("frontend-form"))
        .await
        .unwrap();

    // Meanwhile, in another tab, ann saves version 2.
    let mut theirs = d.clone();
    theirs.frontend.domains = vec!["ann.example.com".into()];
    switchyard::db::deployments::update(
        db,
        row.id,
        1,
        "shop",
        &theirs.to_json().to_string(),
        "ann",
    )
    .await
    .unwrap();

    // Ed's change, saved as he goes from version 1: refused in the page, with the way out.
    click(b, "protocol-http").await;
    let status = wait_for_text(b, "save-status", "Not saved").await;
    assert!(
        status.contains("ann saved version 2 while you were editing version 1"),
        "{status}"
    );
    assert!(status.contains("Reload version 2") && status.contains("See and restore your copy"));
    let current = switchyard::db::deployments::get(db, row.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current.version, 2);
    assert!(current.spec.contains("ann.example.com"));

    // His copy is kept: restore it from the versions page.
    b.find(Locator::LinkText("See and restore your copy"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let restore = b
        .wait()
        .for_element(Locator::Css("[id^='restore-conflict-']"))
        .await
        .unwrap();
    restore.click().await.unwrap();
    b.wait().for_element(Locator::Id("summary")).await.unwrap();
    let frontend = text_of(b, "#summary-frontend").await;
    assert!(frontend.starts_with("Plain HTTP"), "{frontend}");
    let versions = switchyard::db::deployments::versions(db, row.id)
        .await
        .unwrap();
    assert_eq!(versions.len(), 3);
    assert!(versions.iter().any(|v| v.spec.contains("ann.example.com")));
    browser.close().await;
}

#[tokio::test]
async fn import_a_spec_file() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let browser = Browser::start().await;
    let b = &browser.client;
    sign_in(b, &app.base, "ed").await;
    b.goto(&format!("{}/deployments", app.base)).await.unwrap();
    click(b, "import-deployment").await;
    let file = format!(
        "{}/tests/data/seeds/seed-002.json",
        env!("CARGO_MANIFEST_DIR")
    );
    type_into(b, "import-file", &file).await;
    click(b, "import").await;
    b.wait()
        .for_element(Locator::Id("route-preview"))
        .await
        .unwrap();
    assert!(b.find(Locator::Id("review-valid")).await.is_ok());
    assert!(current_path(b).await.ends_with("/edit/review"));
    browser.close().await;
}

#[tokio::test]
async fn two_tabs_on_one_draft_the_later_save_is_told() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let mut d = Draft::new("shop", "acme-edge").unwrap();
    d.frontend.protocol = None;
    let row =
        switchyard::db::deployments::create(&app.state.db, "shop", &d.to_json().to_string(), "ed")
            .await
            .unwrap();
    let page = format!("{}/deployments/{}/edit/frontend", app.base, row.id);
    let browser = Browser::start().await;
    let b = &browser.client;
    sign_in(b, &app.base, "ed").await;
    b.goto(&page).await.unwrap();
    b.wait()
        .for_element(Locator::Id("frontend-form"))
        .await
        .unwrap();
    let first = b.window().await.unwrap();
    let second = b.new_window(true).await.unwrap().handle;

    // The second tab saves first.
    b.switch_to_window(second).await.unwrap();
    b.goto(&page).await.unwrap();
    b.wait()
        .for_element(Locator::Id("frontend-form"))
        .await
        .unwrap();
    click(b, "protocol-https").await;
    wait_for_text(b, "save-status", "Saved").await;

    // The first tab, still on version 1, is told and keeps its edit as a copy.
    b.switch_to_window(first).await.unwrap();
    click(b, "protocol-http").await;
    let status = wait_for_text(b, "save-status", "Not saved").await;
    assert!(
        status.contains("ed saved version 2 while you were editing version 1"),
        "{status}"
    );
    let current = switchyard::db::deployments::get(&app.state.db, row.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        Draft::from_json(&current.spec).unwrap().frontend.protocol,
        Some(Protocol::Https)
    );
    let kept = switchyard::db::deployments::conflicts(&app.state.db, row.id)
        .await
        .unwrap();
    assert!(!kept.is_empty() && kept[0].spec.contains("\"http\""));
    browser.close().await;
}

#[tokio::test]
async fn a_viewer_sees_the_wizard_read_only() {
    let app = spawn_app().await;
    app.create_user("vic", Role::Viewer).await;
    let spec = include_str!("../data/seeds/seed-002.json");
    let d = Draft::from_json(spec).unwrap();
    let row = switchyard::db::deployments::create(
        &app.state.db,
        "hello-lb",
        &d.to_json().to_string(),
        "ann",
    )
    .await
    .unwrap();
    let browser = Browser::start().await;
    let b = &browser.client;
    sign_in(b, &app.base, "vic").await;
    b.goto(&format!(
        "{}/deployments/{}/edit/frontend",
        app.base, row.id
    ))
    .await
    .unwrap();
    b.wait()
        .for_element(Locator::Id("read-only"))
        .await
        .unwrap();
    let domains = b.find(Locator::Id("frontend-domains")).await.unwrap();
    assert!(!domains.is_enabled().await.unwrap());
    assert!(b.find(Locator::Id("next")).await.is_err());
    click(b, "next-link").await;
    b.wait().for_element(Locator::Id("backends")).await.unwrap();
    assert!(b.find(Locator::Id("add-internet")).await.is_err());
    browser.close().await;
}
