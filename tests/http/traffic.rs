//! A deployment's traffic through the panel: seed 001 applied to the sandbox, read back through
//! the traffic API, the Traffic section of the deployment page, the dashboard's sparkline and
//! the failover drill, each over a real socket.

use crate::common::{TestApp, spawn_app};
use crate::deploy::{create_deployment, run_job, seed};
use serde_json::Value;
use switchyard::auth::Role;

/// Seed 001 (three regions, outlier detection) over plain HTTP, so no certificate is waited for.
pub(crate) fn seed_001_http() -> Value {
    let mut spec = seed("seed-001.json");
    spec["frontend"]["protocol"] = "http".into();
    spec["frontend"]["domains"] = serde_json::json!([]);
    spec
}

/// Creates and applies `spec`; returns the deployment id.
pub(crate) async fn applied(app: &TestApp, spec: &Value) -> i64 {
    let id = create_deployment(app, spec).await;
    let mut api = app.token_client("deployer", Role::Editor).await;
    let job = run_job(&mut api, id, "apply").await;
    assert_eq!(job["status"], "succeeded", "{job}");
    id
}

/// The deployment page's overview, as a signed-in user gets it.
async fn overview(c: &mut crate::common::Client, id: i64) -> String {
    let r = c.get(&format!("/deployments/{id}/overview")).await;
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

fn rps(body: &Value, region: &str) -> f64 {
    body["regions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["region"] == region)
        .map(|r| r["rps"].as_f64().unwrap())
        .sum()
}

#[tokio::test]
async fn the_traffic_api_reports_each_region_of_the_applied_load_balancer() {
    let app = spawn_app().await;
    let id = create_deployment(&app, &seed_001_http()).await;
    let mut viewer = app.token_client("reader", Role::Viewer).await;
    // Nothing applied: no load balancer, no numbers, and a reason.
    let before: Value = viewer
        .get(&format!("/api/v1/deployments/{id}/traffic"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["as_of"], Value::Null, "{before}");
    assert_eq!(before["regions"], serde_json::json!([]));
    assert!(
        before["note"]
            .as_str()
            .unwrap()
            .contains("nothing is applied")
    );

    let mut api = app.token_client("deployer", Role::Editor).await;
    assert_eq!(run_job(&mut api, id, "apply").await["status"], "succeeded");
    let r = viewer
        .get(&format!("/api/v1/deployments/{id}/traffic?window=600"))
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let regions = body["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 3, "{body}");
    for row in regions {
        assert_eq!(row["backend"], "my-app", "{row}");
        assert_eq!(row["error_ratio"].as_f64(), Some(0.0), "{row}");
        let p95 = row["p95_ms"].as_f64().unwrap();
        assert!((10.0..500.0).contains(&p95), "{row}");
    }
    // Seed 001's clients: 5 rps from America, 3 from Europe, 2 from Asia, each served nearby.
    for (region, want) in [
        ("us-central1", 5.0),
        ("europe-west1", 3.0),
        ("asia-east1", 2.0),
    ] {
        let got = rps(&body, region);
        assert!((got - want).abs() < 0.2, "{region}: {got} rps, not {want}");
        // Cloud Run counts the same requests in that region, with the instances they need.
        let run = body["cloud_run"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["region"] == region)
            .unwrap_or_else(|| panic!("{region}: {body}"));
        assert_eq!(run["service"], "my-app");
        let got = run["rps"].as_f64().unwrap();
        assert!((got - want).abs() < 0.2, "{region}: Cloud Run {got} rps");
        assert_eq!(run["active_instances"].as_f64(), Some(1.0), "{run}");
        assert_eq!(run["idle_instances"].as_f64(), Some(1.0), "{run}");
    }
    // Cloud Monitoring is minutes late: the newest point is older than a minute.
    let as_of = time::OffsetDateTime::parse(
        body["as_of"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let age = (time::OffsetDateTime::now_utc() - as_of).whole_seconds();
    assert!((60..900).contains(&age), "the newest point is {age} s old");

    for bad in ["abc", "0", "59", "604801", "-1"] {
        let r = viewer
            .get(&format!("/api/v1/deployments/{id}/traffic?window={bad}"))
            .await;
        assert_eq!(r.status(), 400, "{bad}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["field"], "window", "{bad}: {e}");
    }
    assert_eq!(
        viewer
            .get("/api/v1/deployments/999999/traffic")
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn the_deployment_page_charts_traffic_and_survives_monitoring_failing() {
    let app = spawn_app().await;
    let id = applied(&app, &seed_001_http()).await;
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let page = overview(&mut viewer, id).await;
    assert!(
        page.contains(r#"<section class="card" id="traffic">"#),
        "{page}"
    );
    for chart in ["rps", "errors", "p95"] {
        assert!(
            page.contains(&format!(r#"id="chart-{id}-my-app-{chart}""#)),
            "{chart}"
        );
    }
    // Hover values on the points, a legend with the three regions, and the data's age.
    assert!(
        page.contains("<title>europe-west1: 3.00 req/s at "),
        "{page}"
    );
    assert_eq!(page.matches(r#"<span class="legend-item">"#).count(), 9);
    assert!(page.contains(r#"id="traffic-age">The newest point is "#));
    // Cloud Run's own figures per region: the same requests, and the instances they need.
    for (region, rps) in [
        ("us-central1", "5.00"),
        ("europe-west1", "3.00"),
        ("asia-east1", "2.00"),
    ] {
        assert!(
            page.contains(&format!(
                r#"<tr data-service="my-app" data-region="{region}"><td>my-app</td><td>{region}</td><td>{rps} req/s</td><td>0%</td>"#
            )),
            "{region}: {page}"
        );
    }
    assert!(page.contains("1 active, 1 idle</td>"), "{page}");
    // The topology's region boxes carry the current error ratio and p95.
    assert_eq!(
        page.matches(r#"preserve">5xx 0% · p95 "#).count(),
        3,
        "{page}"
    );
    // A viewer sees the drill but not its form.
    assert!(page.contains(r#"id="drill-editors""#));
    assert!(!page.contains(r#"id="drill-form""#));

    // Another window, by a plain link: a page of its own without JavaScript, the section
    // alone for htmx.
    let r = viewer
        .get(&format!("/deployments/{id}/traffic?window=21600"))
        .await;
    assert_eq!(r.status(), 200);
    let six = r.text().await.unwrap();
    assert!(six.contains("<h1>my-app: traffic</h1>"));
    assert!(six.contains(
        r#"<strong class="traffic-window" aria-current="true" data-window="21600">6 hours</strong>"#
    ));
    let frag = viewer
        .request(
            reqwest::Method::GET,
            &format!("/deployments/{id}/traffic?window=86400"),
        )
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        frag.starts_with(r#"<section class="card" id="traffic">"#),
        "{frag}"
    );
    assert!(frag.contains("-my-app-rps"));
    let bad = viewer
        .get(&format!("/deployments/{id}/traffic?window=5"))
        .await;
    assert_eq!(bad.status(), 400);

    // The dashboard's sparkline is an image.
    let r = viewer
        .get(&format!("/deployments/{id}/sparkline.svg"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let svg = r.text().await.unwrap();
    assert!(svg.contains("5xx ratio, last hour: 0% now"), "{svg}");
    let dash = viewer.get("/").await.text().await.unwrap();
    assert!(dash.contains(&format!(r#"src="/deployments/{id}/sparkline.svg""#)));

    // Every Cloud Monitoring call failing: the page still renders, and says why.
    let base = app.state.sandbox.as_ref().unwrap().base_url().to_string();
    let down = reqwest::Client::new()
        .post(format!("{base}/sandbox/v1/traffic"))
        .json(&serde_json::json!({ "monitoringUnavailable": true }))
        .send()
        .await
        .unwrap();
    assert!(down.status().is_success());
    let r = viewer.get(&format!("/deployments/{id}/overview")).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(
            r#"<p class="notice error" id="traffic-error">Cloud Monitoring could not be read: "#
        ),
        "{page}"
    );
    assert!(page.contains(r#"id="topology""#));
}

#[tokio::test]
async fn the_failover_drill_shows_the_failed_region_losing_its_traffic() {
    let app = spawn_app().await;
    let id = applied(&app, &seed_001_http()).await;
    let mut editor = app.user_client("ed", Role::Editor).await;
    let page = overview(&mut editor, id).await;
    assert!(page.contains(r#"id="drill-form""#));
    let r = editor
        .post_form(
            &format!("/deployments/{id}/failover-drill"),
            &[("region", "europe-west1")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Outlier detection ejected europe-west1: it went from 3.00 to "),
        "{page}"
    );
    assert!(page.contains("and us-central1 took its traffic."), "{page}");
    assert!(page.contains(r#"<tr data-region="europe-west1" class="drill-target"><td>europe-west1 (failed)</td><td>3.00</td>"#), "{page}");
    assert!(page.contains(r#"<strong id="drill-failing">europe-west1</strong>"#));
    // The API agrees: Europe's requests now land in the US.
    let mut api = app.token_client("reader", Role::Viewer).await;
    let body: Value = api
        .get(&format!("/api/v1/deployments/{id}/traffic"))
        .await
        .json()
        .await
        .unwrap();
    assert!(rps(&body, "europe-west1") < 0.5, "{body}");
    assert!(rps(&body, "us-central1") > 7.5, "{body}");

    // Healing puts the split back.
    let page = editor
        .post_form(
            &format!("/deployments/{id}/failover-drill"),
            &[("region", "europe-west1"), ("heal", "1")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("europe-west1 is healthy again: 3.00 requests per second"),
        "{page}"
    );
    assert!(!page.contains(r#"id="drill-failing""#));

    // A region the load balancer does not serve from is refused naming the field; viewers
    // may not run the drill.
    let r = editor
        .post_form(
            &format!("/deployments/{id}/failover-drill"),
            &[("region", "mars-north1")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("region"));
    let mut viewer = app.user_client("vic", Role::Viewer).await;
    let r = viewer
        .post_form(
            &format!("/deployments/{id}/failover-drill"),
            &[("region", "europe-west1")],
        )
        .await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn against_google_there_is_no_drill() {
    let app = crate::common::spawn_app_with(|s| s.gcp = switchyard::config::GcpMode::Google).await;
    let id = create_deployment(&app, &seed_001_http()).await;
    let mut editor = app.user_client("ed", Role::Editor).await;
    let page = overview(&mut editor, id).await;
    assert!(
        page.contains(r#"id="traffic-empty">Nothing is applied yet"#),
        "{page}"
    );
    assert!(!page.contains("failover-drill"));
    let r = editor
        .post_form(
            &format!("/deployments/{id}/failover-drill"),
            &[("region", "europe-west1")],
        )
        .await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("only against the sandbox"));
}
