//! The Traffic section in a real Chromium at 1366 pixels: seed 001 applied to the sandbox shows
//! its charts (three regions in each, with hover values) without pushing the page sideways; the
//! window links swap the section; the failover drill, clicked, shows Europe's traffic moving to
//! the US.

use crate::common::spawn_app;
use crate::sandbox_apply::apply_in_sandbox;
use crate::support::{Browser, click, screenshot, sign_in_from, wait_for_text};
use fantoccini::Locator;
use switchyard::auth::Role;

async fn click_css(b: &fantoccini::Client, css: &str) {
    let e = b.wait().for_element(Locator::Css(css)).await;
    e.unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

fn seed_001_http() -> String {
    let path = format!(
        "{}/tests/data/seeds/seed-001.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    spec["frontend"]["protocol"] = "http".into();
    spec["frontend"]["domains"] = serde_json::json!([]);
    spec.to_string()
}

#[tokio::test]
async fn the_traffic_section_charts_the_sandbox_and_the_drill_shows_the_move() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let (id, _) = apply_in_sandbox(&app, &seed_001_http(), "ed").await;

    let browser = Browser::start().await;
    let b = &browser.client;
    b.set_window_size(1366, 1000).await.unwrap();
    sign_in_from(b, &app.base, &format!("/deployments/{id}"), "ed").await;
    b.wait()
        .for_element(Locator::Css("#traffic svg.chart polyline"))
        .await
        .unwrap();
    b.execute(
        "document.getElementById('traffic').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    let facts = b
        .execute(
            "const card = document.getElementById('traffic').getBoundingClientRect();
             const charts = [...document.querySelectorAll('#traffic svg.chart')];
             const boxes = charts.map(c => c.getBoundingClientRect());
             return {
               charts: charts.length,
               lines: document.querySelectorAll('#traffic svg.chart .series').length,
               hovers: document.querySelectorAll('#traffic svg.chart circle title').length,
               legend: [...document.querySelectorAll('#traffic .legend-item')].map(l => l.textContent),
               cut: boxes.filter(r => r.left < card.left || r.right > card.right).length,
               page_scrolls: document.documentElement.scrollWidth > window.innerWidth,
               age: document.getElementById('traffic-age').textContent,
             };",
            vec![],
        )
        .await
        .unwrap();
    screenshot(b, "traffic-section").await;
    println!("traffic section at 1366 px: {facts}");
    assert_eq!(facts["charts"], 3, "{facts}");
    assert_eq!(facts["lines"], 9, "three regions in each chart: {facts}");
    assert!(facts["hovers"].as_u64().unwrap() >= 9 * 30, "{facts}");
    assert_eq!(
        facts["legend"].as_array().unwrap()[..3],
        ["asia-east1", "europe-west1", "us-central1"].map(serde_json::Value::from),
        "{facts}"
    );
    assert_eq!(
        facts["cut"], 0,
        "charts cut off at the card's edge: {facts}"
    );
    assert_eq!(facts["page_scrolls"], false, "{facts}");
    assert!(
        facts["age"]
            .as_str()
            .unwrap()
            .starts_with("The newest point is "),
        "{facts}"
    );

    // Another window through htmx: the section is swapped, the page stays.
    click_css(b, ".traffic-window[data-window='21600']").await;
    b.wait()
        .for_element(Locator::Css("strong.traffic-window[data-window='21600']"))
        .await
        .unwrap();
    assert_eq!(
        crate::support::current_path(b).await,
        format!("/deployments/{id}")
    );

    // The drill: Europe fails, outlier detection ejects it, the US takes its requests.
    click_css(b, "#drill-region option[value='europe-west1']").await;
    click(b, "drill-run").await;
    let summary = wait_for_text(b, "drill-summary", "Outlier detection ejected europe-west1").await;
    assert!(
        summary.contains("us-central1 took its traffic"),
        "{summary}"
    );
    let after = b
        .execute(
            "return [...document.querySelectorAll('#drill-table tbody tr')]
               .map(r => [...r.cells].map(c => c.textContent));",
            vec![],
        )
        .await
        .unwrap();
    println!("drill: {after}");
    let rows = after.as_array().unwrap();
    let eu = rows
        .iter()
        .find(|r| r[0] == "europe-west1 (failed)")
        .unwrap_or_else(|| panic!("{after}"));
    assert_eq!(eu[1], "3.00");
    assert!(
        eu[2].as_str().unwrap().parse::<f64>().unwrap() < 0.5,
        "{after}"
    );
    let us = rows.iter().find(|r| r[0] == "us-central1").unwrap();
    assert!(
        us[2].as_str().unwrap().parse::<f64>().unwrap() > 7.5,
        "{after}"
    );
    b.execute(
        "document.getElementById('failover-drill').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    screenshot(b, "traffic-drill").await;
    browser.close().await;
}
