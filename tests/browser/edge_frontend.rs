//! The deployment page of seed 000 with IPv6 in a real Chromium at 1366 px: the DNS section
//! lists each domain's AAAA record with the IPv6 address right after its A record, without
//! making the page scroll sideways.

use crate::common::spawn_app;
use crate::support::{Browser, screenshot, sign_in_from};
use fantoccini::Locator;
use std::time::Duration;
use switchyard::auth::Role;

#[tokio::test]
async fn the_dns_section_lists_the_aaaa_record_next_to_the_a_record() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let mut spec: serde_json::Value =
        serde_json::from_str(include_str!("../data/seeds/seed-000.json")).unwrap();
    spec["frontend"]["ipv6"] = serde_json::json!(true);
    spec["frontend"]["domains"] = serde_json::json!(["your-domain.com", "www.your-domain.com"]);
    let (id, _) = crate::sandbox_apply::apply_in_sandbox(&app, &spec.to_string(), "ed").await;

    let browser = Browser::start().await;
    let b = &browser.client;
    b.set_window_size(1366, 1000).await.unwrap();
    sign_in_from(b, &app.base, &format!("/deployments/{id}"), "ed").await;
    // The addresses show once the read after the apply has recorded them.
    let mut rows: Vec<String> = Vec::new();
    for _ in 0..20 {
        let table = b
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("dns-records"))
            .await
            .unwrap();
        rows = Vec::new();
        for tr in table.find_all(Locator::Css("tbody tr")).await.unwrap() {
            rows.push(tr.text().await.unwrap_or_default());
        }
        if rows.iter().any(|r| r.contains("2001:db8:")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        b.refresh().await.unwrap();
    }
    assert_eq!(rows.len(), 4, "{rows:?}");
    for (i, (domain, kind)) in [
        ("your-domain.com.", "A"),
        ("your-domain.com.", "AAAA"),
        ("www.your-domain.com.", "A"),
        ("www.your-domain.com.", "AAAA"),
    ]
    .into_iter()
    .enumerate()
    {
        let cells: Vec<&str> = rows[i].split_whitespace().collect();
        assert_eq!(cells[0], domain, "{rows:?}");
        assert_eq!(cells[1], kind, "{rows:?}");
        let ipv6 = cells[2].contains(':');
        assert_eq!(ipv6, kind == "AAAA", "{rows:?}");
    }
    let sideways = crate::support::scrolls_sideways(b).await;
    b.execute("document.getElementById('dns').scrollIntoView()", vec![])
        .await
        .unwrap();
    let shot = screenshot(b, "dns-ipv6").await;
    assert!(
        !sideways,
        "the page scrolls sideways at 1366 px: {}",
        shot.display()
    );
}
