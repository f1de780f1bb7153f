//! The deployment page's topology in a real Chromium at 1366 pixels: three regions and four
//! backends (a split, an internet backend, a bucket-free path rule) fit the card, every box
//! whole, with the text still at a readable size.

use crate::common::spawn_app;
use crate::support::{Browser, screenshot, sign_in_from};
use fantoccini::Locator;
use serde_json::json;
use switchyard::auth::Role;

fn wide_spec() -> String {
    let regions = json!(["us-central1", "europe-west1", "asia-northeast1"]);
    json!({
        "name": "storefront-production",
        "project": "acme-storefront-prod",
        "frontend": {"protocol": "https", "domains": ["shop.example.com", "www.shop.example.com"],
                     "ip": "static", "http_redirect": true},
        "backends": [
            {"name": "storefront-web", "type": "serverless", "service": "storefront-web",
             "regions": regions, "outlier_detection": true},
            {"name": "storefront-web-next", "type": "serverless", "service": "storefront-web-next",
             "regions": regions},
            {"name": "checkout-api", "type": "serverless", "service": "checkout-api",
             "regions": regions},
            {"name": "legacy-catalogue", "type": "internet",
             "fqdn": "catalogue-3qx7k2dz6a-uc.a.run.app",
             "host_header": "catalogue-3qx7k2dz6a-uc.a.run.app"}
        ],
        "routing": {
            "default": {"split": [{"backend": "storefront-web", "weight": 90},
                                  {"backend": "storefront-web-next", "weight": 10}]},
            "rules": [
                {"paths": ["/checkout", "/checkout/*"], "backend": "checkout-api"},
                {"paths": ["/catalogue/*"], "backend": "legacy-catalogue", "prefix_rewrite": "/"}
            ]
        }
    })
    .to_string()
}

#[tokio::test]
async fn three_regions_and_four_backends_fit_a_1366_pixel_window() {
    let app = spawn_app().await;
    app.create_user("ed", Role::Editor).await;
    let row = switchyard::db::deployments::create(
        &app.state.db,
        "storefront-production",
        &wide_spec(),
        "ed",
    )
    .await
    .unwrap();

    let browser = Browser::start().await;
    let b = &browser.client;
    b.set_window_size(1366, 1000).await.unwrap();
    sign_in_from(b, &app.base, &format!("/deployments/{}", row.id), "ed").await;
    b.wait()
        .for_element(Locator::Css("#topology svg .node"))
        .await
        .unwrap();
    b.execute(
        "document.getElementById('topology').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    let facts = b
        .execute(
            "const card = document.getElementById('topology').getBoundingClientRect();
             const svg = document.querySelector('#topology svg');
             const box = svg.getBoundingClientRect();
             const scale = box.width / svg.viewBox.baseVal.width;
             const nodes = [...svg.querySelectorAll('.node rect')].map(r => r.getBoundingClientRect());
             const cut = nodes.filter(n => n.left < card.left || n.right > card.right).length;
             const scroller = svg.parentElement;
             return {
               nodes: nodes.length,
               cut,
               scale,
               scrolls: scroller.scrollWidth > scroller.clientWidth,
               page_scrolls: document.documentElement.scrollWidth > window.innerWidth,
             };",
            vec![],
        )
        .await
        .unwrap();
    screenshot(b, "topology-wide").await;
    println!("topology at 1366 px: {facts}");
    // 2 forwarding rules, proxies, URL maps, 4 backend services, 9 serverless NEGs + 1 internet
    // NEG, and what they point at: well over 15 boxes.
    assert!(facts["nodes"].as_u64().unwrap() >= 15, "{facts}");
    assert_eq!(facts["cut"], 0, "boxes cut off at the card's edge: {facts}");
    assert_eq!(
        facts["scrolls"], false,
        "the topology scrolls sideways: {facts}"
    );
    assert_eq!(
        facts["page_scrolls"], false,
        "the page scrolls sideways: {facts}"
    );
    // Scaled to fit, but not to a size nobody can read: 11 px text stays above 8.5 px.
    let scale = facts["scale"].as_f64().unwrap();
    assert!(scale >= 0.78, "the topology shrank to {scale:.2}: {facts}");
    browser.close().await;
}
