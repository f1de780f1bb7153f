//! Checks at every step, in a real Chromium: each invalid value typed on its step is said
//! under its field by the save's own answer, the value stays as typed (and saved), the step
//! bar marks the step, and a fixed value clears the message. Review lists every problem of an
//! incomplete draft at once, each linked to its field; a tab that lost an edit war keeps one
//! conflict copy however much it types.

use crate::common::{TestApp, spawn_app};
use crate::support::{Browser, click, current_path, fill, prop, screenshot, sign_in, text_of};
use fantoccini::{Client, Locator};
use std::time::Duration;
use switchyard::auth::Role;
use switchyard::domain::draft::Draft;

/// WebDriver's Tab key: leaves a field, so its `change` fires.
const TAB: &str = "\u{E004}";

async fn draft_of(app: &TestApp, id: i64) -> Draft {
    let row = switchyard::db::deployments::get(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    Draft::from_json(&row.spec).unwrap()
}

/// Waits until the stored draft satisfies `ok` (the htmx saves are asynchronous).
async fn saved(app: &TestApp, id: i64, ok: impl Fn(&Draft) -> bool) -> Draft {
    for _ in 0..100 {
        let d = draft_of(app, id).await;
        if ok(&d) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the draft was not saved as expected: {:?}",
        draft_of(app, id).await
    );
}

/// The message under field `id`, read in one step in the page: the save's answer swaps the
/// slot, so an element found a moment before may be gone.
async fn slot(b: &Client, id: &str) -> String {
    b.execute(
        "const e = document.getElementById('err-' + arguments[0]); return e ? e.textContent : null",
        vec![serde_json::json!(id)],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or_else(|| panic!("no message slot under #{id}"))
    .trim()
    .to_string()
}

/// Waits until the message under field `id` contains `text`, and returns it.
async fn message_under(b: &Client, id: &str, text: &str) -> String {
    for _ in 0..100 {
        let t = slot(b, id).await;
        if t.contains(text) {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("#err-{id} never said {text:?}: {:?}", slot(b, id).await);
}

/// Waits until field `id` has no message any more.
async fn no_message_under(b: &Client, id: &str) {
    for _ in 0..100 {
        if slot(b, id).await.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("#err-{id} still says {:?}", slot(b, id).await);
}

/// Whether the step bar marks step `slug` as having problems.
async fn step_marked(b: &Client, slug: &str) -> bool {
    b.find(Locator::Css(&format!(
        "#wizard-steps li.has-errors #step-{slug}"
    )))
    .await
    .is_ok()
}

async fn new_draft(app: &TestApp, name: &str) -> i64 {
    let d = Draft::new(name, "acme-edge").unwrap();
    switchyard::db::deployments::create(&app.state.db, name, &d.to_json().to_string(), "ed")
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn basics_says_a_bad_name_or_project_under_the_field_at_once_and_keeps_it() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let id = new_draft(&app, "shop").await;
    let browser = Browser::start().await;
    let b = &browser.client;
    b.set_window_size(1366, 900).await.unwrap();
    sign_in(b, &app.base, "ed").await;
    b.goto(&format!("{}/deployments/{id}/edit/basics", app.base))
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::Id("basics-form"))
        .await
        .unwrap();
    // The limit is said before anything is typed: an HTTP-only draft has no certificate.
    let hint = text_of(b, "#name-limit").await;
    assert!(
        hint.contains("At most 52 characters") && hint.contains("NAME-http-proxy"),
        "{hint}"
    );
    assert!(!hint.contains("cert"), "{hint}");
    assert!(!step_marked(b, "basics").await);

    fill(b, "basics-name", "My_App").await;
    let m = message_under(b, "basics-name", "must start with a lowercase letter").await;
    assert!(m.contains("`My_App`"), "{m}");
    assert_eq!(
        prop(b, "basics-name", "value").await.as_deref(),
        Some("My_App")
    );
    saved(&app, id, |d| d.name == "My_App").await;
    assert!(step_marked(b, "basics").await);

    fill(b, "basics-project", "X").await;
    message_under(b, "basics-project", "is not a project id").await;
    assert_eq!(
        prop(b, "basics-project", "value").await.as_deref(),
        Some("X")
    );
    saved(&app, id, |d| d.project == "X").await;
    // Both messages at once, each under its own field.
    assert!(!slot(b, "basics-name").await.is_empty());
    let shot = screenshot(b, "wizard-basics-with-errors").await;
    println!("screenshot: {}", shot.display());

    // 70 characters are kept, not cut to 63, and said to be too long.
    let long = "a".repeat(70);
    fill(b, "basics-name", &long).await;
    message_under(b, "basics-name", "is 70 characters long, at most 63").await;
    assert_eq!(
        prop(b, "basics-name", "value").await.as_deref(),
        Some(long.as_str())
    );
    saved(&app, id, |d| d.name == long).await;
    // Nothing about a certificate: this deployment creates none.
    assert!(!slot(b, "basics-name").await.contains("certificate"));

    // Fixed values clear their messages and the step's mark.
    fill(b, "basics-name", "my-app").await;
    no_message_under(b, "basics-name").await;
    fill(b, "basics-project", "acme-edge").await;
    no_message_under(b, "basics-project").await;
    saved(&app, id, |d| d.name == "my-app" && d.project == "acme-edge").await;
    assert!(!step_marked(b, "basics").await);
    browser.close().await;
}

#[tokio::test]
async fn backends_and_services_say_each_bad_value_under_its_field_and_clear_it_once_fixed() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let id = new_draft(&app, "shop").await;
    let browser = Browser::start().await;
    let b = &browser.client;
    b.set_window_size(1366, 1000).await.unwrap();
    sign_in(b, &app.base, "ed").await;

    // Backends: a serverless backend in a region that does not exist.
    b.goto(&format!("{}/deployments/{id}/edit/backends", app.base))
        .await
        .unwrap();
    fill(b, "serverless-service", "web").await;
    fill(b, "serverless-regions", "mars-north1").await;
    click(b, "add-serverless-submit").await;
    b.wait()
        .for_element(Locator::Id("backend-0"))
        .await
        .unwrap();
    message_under(
        b,
        "backend-0-regions",
        "`mars-north1` is not a Cloud Run region",
    )
    .await;
    assert_eq!(
        prop(b, "backend-0-regions", "value").await.as_deref(),
        Some("mars-north1")
    );
    assert!(step_marked(b, "backends").await);
    fill(b, "backend-0-regions", "us-central1").await;
    fill(b, "backend-0-regions", &format!("us-central1{TAB}")).await;
    no_message_under(b, "backend-0-regions").await;
    saved(&app, id, |d| {
        d.backends[0].name == "web" && format!("{:?}", d.backends[0].kind).contains("us-central1")
    })
    .await;
    assert!(!step_marked(b, "backends").await);
    // The row above the form follows the edit without a reload.
    row_follows(b, "#backend-0-detail-text", "us-central1").await;

    // Services: every bad value of the issue at once, kept as typed.
    b.goto(&format!("{}/deployments/{id}/edit/services", app.base))
        .await
        .unwrap();
    fill(b, "service-name", "web").await;
    fill(
        b,
        "service-image",
        "us-docker.pkg.dev/cloudrun/container/hello",
    )
    .await;
    fill(b, "service-regions-input", "mars-north1").await;
    fill(b, "service-min", "5").await;
    let add = b.find(Locator::Id("add-service")).await.unwrap();
    for (name, value) in [
        ("max_instances", "2"),
        ("cpu", "3"),
        ("memory", "lots"),
        ("env", "PORT=8080"),
    ] {
        let field = add
            .find(Locator::Css(&format!("[name='{name}']")))
            .await
            .unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }
    click(b, "add-service-submit").await;
    b.wait()
        .for_element(Locator::Id("service-0"))
        .await
        .unwrap();
    let expected = [
        (
            "service-0-regions",
            "`mars-north1` is not a Cloud Run region",
            "mars-north1",
        ),
        (
            "service-0-min_instances",
            "min instances (5) cannot exceed max instances (2)",
            "5",
        ),
        ("service-0-cpu", "`3` is not a Cloud Run CPU limit", "3"),
        ("service-0-memory", "`lots` is not a memory limit", "lots"),
        (
            "service-0-env",
            "`PORT` is set by Cloud Run itself",
            "PORT=8080",
        ),
    ];
    for (field, message, value) in expected {
        message_under(b, field, message).await;
        assert_eq!(
            prop(b, field, "value").await.as_deref(),
            Some(value),
            "{field}"
        );
    }
    assert!(step_marked(b, "services").await);
    let d = draft_of(&app, id).await;
    let s = &d.services[0];
    assert_eq!(
        (
            s.cpu.as_str(),
            s.memory.as_str(),
            s.min_instances,
            s.max_instances
        ),
        ("3", "lots", 5, 2),
        "the draft keeps what was typed"
    );
    let shot = screenshot(b, "wizard-services-with-errors").await;
    println!("screenshot: {}", shot.display());

    // Each fix, saved as the field is left, clears its own message only.
    let fixes = [
        ("service-0-regions", "us-central1"),
        ("service-0-min_instances", "1"),
        ("service-0-cpu", "1"),
        ("service-0-memory", "512Mi"),
        ("service-0-env", "MODE=prod"),
    ];
    for (i, (field, value)) in fixes.iter().enumerate() {
        fill(b, field, &format!("{value}{TAB}")).await;
        no_message_under(b, field).await;
        for (later, _) in &fixes[i + 1..] {
            assert!(!slot(b, later).await.is_empty(), "{later}");
        }
    }
    let d = saved(&app, id, |d| {
        d.services[0].env.first().is_some_and(|e| e.name == "MODE")
    })
    .await;
    assert_eq!(d.services[0].cpu, "1");
    assert!(!step_marked(b, "services").await);

    // What cannot be read at all is refused, said under its field, and left as typed.
    fill(b, "service-0-max_instances", &format!("abc{TAB}")).await;
    message_under(b, "service-0-max_instances", "`abc` is not a whole number").await;
    assert_eq!(
        prop(b, "service-0-max_instances", "value").await.as_deref(),
        Some("abc")
    );
    fill(b, "service-0-max_instances", &format!("3{TAB}")).await;
    no_message_under(b, "service-0-max_instances").await;
    saved(&app, id, |d| d.services[0].max_instances == 3).await;
    // The service's row above its form follows every edit without a reload.
    let text = text_of(b, "#service-0-detail-text").await;
    assert!(text.ends_with(" in us-central1"), "{text}");
    let text = text_of(b, "#service-0-env-text").await;
    assert!(text.contains("MODE"), "{text}");
    row_follows(b, "#service-0-extras-text", "–3 instances").await;
    browser.close().await;
}

#[tokio::test]
async fn review_lists_every_missing_and_invalid_part_linked_to_its_field() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let mut d = Draft::new("My_App", "X").unwrap();
    d.frontend.protocol = None;
    let row = switchyard::db::deployments::create(
        &app.state.db,
        "My_App",
        &d.to_json().to_string(),
        "ed",
    )
    .await
    .unwrap();
    let browser = Browser::start().await;
    let b = &browser.client;
    b.set_window_size(1366, 900).await.unwrap();
    sign_in(b, &app.base, "ed").await;
    b.goto(&format!("{}/deployments/{}/edit/review", app.base, row.id))
        .await
        .unwrap();
    let list = b
        .wait()
        .for_element(Locator::Id("review-error-list"))
        .await
        .unwrap();
    let items = list.find_all(Locator::Css("li")).await.unwrap();
    let mut texts = Vec::new();
    for i in &items {
        texts.push(i.text().await.unwrap());
    }
    let has = |field: &str, words: &str| {
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with(&format!("{field}:")) && t.contains(words)),
            "no {field} ({words}) in {texts:#?}"
        );
    };
    has("frontend.protocol", "choose HTTP or HTTPS");
    has("backends", "add at least one backend");
    has("routing.default", "default backend");
    has("name", "`My_App`");
    has("project", "`X` is not a project id");
    assert_eq!(texts.len(), 5, "{texts:#?}");
    let shot = screenshot(b, "wizard-review-all-errors").await;
    println!("screenshot: {}", shot.display());
    // Every step with a problem is marked in the bar.
    for step in ["basics", "frontend", "backends", "routing"] {
        assert!(step_marked(b, step).await, "{step}");
    }

    // A link goes to the field itself, focused.
    b.find(Locator::XPath(
        "//ul[@id='review-error-list']/li[starts-with(., 'project:')]/a",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    b.wait()
        .for_element(Locator::Id("basics-form"))
        .await
        .unwrap();
    assert!(current_path(b).await.ends_with("/edit/basics"));
    assert_eq!(
        b.current_url().await.unwrap().fragment(),
        Some("basics-project")
    );
    let focused = b
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap();
    assert_eq!(focused, serde_json::json!("basics-project"));
    let shot = screenshot(b, "wizard-review-link-focused").await;
    println!("screenshot: {}", shot.display());
    assert!(
        slot(b, "basics-project")
            .await
            .contains("is not a project id")
    );
    browser.close().await;
}

#[tokio::test]
async fn a_tab_that_lost_an_edit_war_keeps_one_copy_and_is_offered_the_latest_version() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    app.create_user("ann", Role::Editor).await;
    let id = new_draft(&app, "shop").await;
    let page = format!("{}/deployments/{id}/edit/frontend", app.base);

    // Two people, two browsers: ann saves first.
    let eds = Browser::start().await;
    let anns = Browser::start().await;
    let (ed, ann) = (&eds.client, &anns.client);
    sign_in(ed, &app.base, "ed").await;
    sign_in(ann, &app.base, "ann").await;
    ed.goto(&page).await.unwrap();
    ed.wait()
        .for_element(Locator::Id("frontend-form"))
        .await
        .unwrap();
    ann.goto(&page).await.unwrap();
    ann.wait()
        .for_element(Locator::Id("frontend-form"))
        .await
        .unwrap();
    fill(ann, "frontend-domains", "ann.example.com").await;
    saved(&app, id, |d| d.frontend.domains == ["ann.example.com"]).await;

    // Ed goes on typing on version 1: refused, told once, and every later keystroke goes
    // into the same copy.
    fill(ed, "frontend-domains", "ed.example.com").await;
    let status = crate::support::wait_for_text(ed, "save-status", "Not saved").await;
    assert!(
        status.contains("ann saved version 2 while you were editing version 1"),
        "{status}"
    );
    assert!(
        status.contains("Reload version 2 (your edit stays in copy #"),
        "{status}"
    );
    for more in [",", " shop.example.com", ", api.example.com"] {
        crate::support::type_into(ed, "frontend-domains", more).await;
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }
    let copies = || async {
        switchyard::db::deployments::conflicts(&app.state.db, id)
            .await
            .unwrap()
    };
    let mut kept = copies().await;
    for _ in 0..40 {
        if kept.len() == 1 && kept[0].spec.contains("api.example.com") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        kept = copies().await;
    }
    assert_eq!(kept.len(), 1, "one copy per lost edit war: {kept:#?}");
    assert!(kept[0].spec.contains("ed.example.com") && kept[0].spec.contains("api.example.com"));
    // Ann's version stands.
    let current = switchyard::db::deployments::get(&app.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current.version, 2);
    assert!(current.spec.contains("ann.example.com") && !current.spec.contains("ed.example.com"));

    // The offer: load the latest version; the copy is there to restore.
    ed.find(Locator::XPath(
        "//div[@id='save-status']/a[starts-with(., 'Reload version 2')]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    ed.wait()
        .for_element(Locator::Id("frontend-form"))
        .await
        .unwrap();
    assert_eq!(
        prop(ed, "frontend-domains", "value").await.as_deref(),
        Some("ann.example.com")
    );
    // From the latest version his saves go through again.
    fill(ed, "frontend-domains", "both.example.com").await;
    crate::support::wait_for_text(ed, "save-status", "Saved · version 3").await;
    assert_eq!(copies().await.len(), 1);
    eds.close().await;
    anns.close().await;
}

/// The list row's text at `css` comes to contain `part` without a reload (the save's answer
/// carries it), and reads then exactly as a reload of the page shows it.
async fn row_follows(b: &Client, css: &str, part: &str) {
    let mut seen = String::new();
    for _ in 0..50 {
        seen = text_of(b, css).await;
        if seen.contains(part) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen.contains(part), "{css} reads {seen:?}, not {part:?}");
    b.refresh().await.unwrap();
    assert_eq!(text_of(b, css).await, seen, "{css} after a reload");
}

/// The Frontend step offers Certificate Manager for a new HTTPS deployment; a wildcard domain
/// with classic certificates is refused under the Domains field, naming the way out, and is
/// accepted once Certificate Manager is chosen again.
#[tokio::test]
async fn a_wildcard_needs_certificate_manager_and_the_step_says_so() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let browser = Browser::start().await;
    let b = &browser.client;
    b.set_window_size(1366, 900).await.unwrap();
    sign_in(b, &app.base, "ed").await;
    b.goto(&format!("{}/deployments", app.base)).await.unwrap();
    click(b, "new-deployment").await;
    crate::support::type_into(b, "basics-name", "wild").await;
    crate::support::type_into(b, "basics-project", "wild-project").await;
    let id = crate::support::create_draft(b).await;

    click(b, "protocol-https").await;
    assert_eq!(
        prop(b, "certificate-manager", "checked").await.as_deref(),
        Some("true")
    );
    click(b, "certificate-classic").await;
    crate::support::type_into(b, "frontend-domains", "*.example.com").await;
    let said = crate::support::wait_for_text(b, "err-frontend-domains", "wildcard").await;
    assert!(said.contains("Certificate Manager"), "{said}");
    screenshot(b, "wizard-frontend-wildcard-refused").await;

    click(b, "certificate-manager").await;
    let d = saved(&app, id, |d| {
        d.frontend.domains == ["*.example.com"] && !d.frontend.certificate.is_managed()
    })
    .await;
    assert_eq!(d.frontend.domains, ["*.example.com"]);
    let started = std::time::Instant::now();
    while !text_of(b, "#err-frontend-domains").await.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the message stays"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
