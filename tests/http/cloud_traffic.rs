//! The sandbox's traffic, read the way the panel reads it: the real client's PromQL calls over a
//! socket against a load balancer built with the real client (seed 001's three regions).

use crate::cloud_support::{P, fast_config, rid, start};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use switchyard::cloud::Client;
use switchyard::cloud::monitoring::{LbTraffic, Range, promql};
use switchyard::cloud::sandbox::traffic::Condition;
use switchyard::cloud::types::*;

const REGIONS: [&str; 3] = ["us-central1", "europe-west1", "asia-east1"];

/// Three backend services over the same three regions' NEGs, with outlier detection, behind a
/// URL map splitting 50/30/20.
async fn load_balancer(c: &Client) {
    for r in REGIONS {
        let negs = c.serverless_negs(P, r);
        c.wait_operation(
            &negs
                .insert(&NetworkEndpointGroup::serverless("my-app", "my-app"), rid())
                .await
                .unwrap(),
        )
        .await
        .unwrap();
    }
    for b in ["blue", "green", "canary"] {
        let bs = BackendService {
            name: b.into(),
            load_balancing_scheme: Some("EXTERNAL_MANAGED".into()),
            backends: REGIONS
                .iter()
                .map(|r| Backend {
                    group: c.serverless_negs(P, r).link("my-app"),
                    ..Default::default()
                })
                .collect(),
            outlier_detection: Some(OutlierDetection {
                consecutive_errors: Some(5),
                ..Default::default()
            }),
            ..Default::default()
        };
        c.wait_operation(&c.backend_services(P).insert(&bs, rid()).await.unwrap())
            .await
            .unwrap();
    }
    let bss = c.backend_services(P);
    let map: switchyard::domain::urlmap::UrlMap = serde_json::from_value(json!({
        "name": "my-app-map",
        "defaultRouteAction": {"weightedBackendServices": [
            {"backendService": bss.link("blue"), "weight": 50},
            {"backendService": bss.link("green"), "weight": 30},
            {"backendService": bss.link("canary"), "weight": 20},
        ]}
    }))
    .unwrap();
    c.wait_operation(&c.url_maps(P).insert(&map, rid()).await.unwrap())
        .await
        .unwrap();
}

fn last_hour() -> Range {
    Range::ending(
        time::OffsetDateTime::now_utc(),
        Duration::from_secs(3600),
        60,
    )
}

/// The newest request rate per label value, summed over the other label.
fn newest_by(t: &LbTraffic, label: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for s in &t.rps {
        *out.entry(s.label(label).to_string()).or_default() += s.last().unwrap().value;
    }
    out
}

#[tokio::test]
async fn per_backend_rates_follow_the_url_map_split() {
    let cloud = start(fast_config()).await;
    load_balancer(&cloud.client).await;
    let t = cloud
        .client
        .lb_traffic(P, "my-app-map", &last_hour())
        .await
        .unwrap();
    let rates = newest_by(&t, "backend_target_name");
    let all: f64 = rates.values().sum();
    assert!((all - 10.0).abs() < 0.01, "10 rps in all, got {all}");
    for (b, share) in [("blue", 0.5), ("green", 0.3), ("canary", 0.2)] {
        let got = rates[b] / all;
        assert!(
            (got - share).abs() < 0.05,
            "{b}: {got} of the traffic, not {share}"
        );
    }
    // Nothing fails: every ratio is 0 and p95 is a plausible latency.
    assert_eq!(t.error_ratio.len(), 9);
    assert!(t.error_ratio.iter().all(|s| s.last().unwrap().value == 0.0));
    assert!(
        t.p95_ms
            .iter()
            .all(|s| (10.0..500.0).contains(&s.last().unwrap().value))
    );
    // The newest point is at least the visibility delay old.
    let newest = t
        .rps
        .iter()
        .filter_map(|s| s.last())
        .map(|s| s.at)
        .fold(0.0, f64::max);
    let age = time::OffsetDateTime::now_utc().unix_timestamp() as f64 - newest;
    assert!(age >= 60.0, "the newest point is {age} s old");
    // Another project has no load balancer and no series.
    let none = cloud
        .client
        .lb_traffic("other-project", "my-app-map", &last_hour())
        .await
        .unwrap();
    assert!(none.rps.is_empty());
}

#[tokio::test]
async fn a_failed_region_loses_its_traffic_once_ejected() {
    let cloud = start(fast_config()).await;
    load_balancer(&cloud.client).await;
    let before = newest_by(
        &cloud
            .client
            .lb_traffic(P, "my-app-map", &last_hour())
            .await
            .unwrap(),
        "backend_scope",
    );
    assert!((before["europe-west1"] - 3.0).abs() < 0.01, "{before:?}");
    let http = reqwest::Client::new();
    let set = http
        .post(format!("{}/sandbox/v1/traffic", cloud.handle.base_url()))
        .json(&json!({"region": "europe-west1", "errorRatio": 1.0}))
        .send()
        .await
        .unwrap();
    assert!(set.status().is_success());
    let after_t = cloud
        .client
        .lb_traffic(P, "my-app-map", &last_hour())
        .await
        .unwrap();
    let after = newest_by(&after_t, "backend_scope");
    assert!(after["europe-west1"] < 0.5, "{after:?}");
    assert!(
        after["us-central1"] > 7.5,
        "Europe's traffic moved to the US: {after:?}"
    );
    assert!((after["asia-east1"] - 2.0).abs() < 0.01, "{after:?}");
    let eu_errors = after_t
        .error_ratio
        .iter()
        .filter(|s| s.label("backend_scope") == "europe-west1")
        .map(|s| s.last().unwrap().value)
        .fold(0.0, f64::max);
    assert_eq!(eu_errors, 1.0, "what still reaches Europe fails");
    // A bad condition is refused with a message; healthy again restores the split.
    let bad = http
        .post(format!("{}/sandbox/v1/traffic", cloud.handle.base_url()))
        .json(&json!({"region": "europe-west1", "errorRatio": 2.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    cloud
        .handle
        .sandbox
        .set_region_condition("europe-west1", Condition::default());
    let healed = newest_by(
        &cloud
            .client
            .lb_traffic(P, "my-app-map", &last_hour())
            .await
            .unwrap(),
        "backend_scope",
    );
    // Sums of per-minute rates: equal up to floating-point rounding.
    assert_eq!(
        healed.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    for (region, rps) in &before {
        assert!(
            (healed[region] - rps).abs() < 1e-9,
            "{healed:?} != {before:?}"
        );
    }
}

#[tokio::test]
async fn bad_promql_and_other_locations_are_refused() {
    let cloud = start(fast_config()).await;
    let err = cloud
        .client
        .query_range(P, "sum by (x (rate(y[5m]))", &last_hour())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, switchyard::cloud::CloudError::Invalid { message, .. } if message.starts_with("bad_data: 1:")),
        "{err:?}"
    );
    let q = promql::lb_request_rate("m", promql::LbGrouping::Region, Duration::from_secs(300));
    assert!(
        cloud
            .client
            .query_range(P, &q, &last_hour())
            .await
            .unwrap()
            .is_empty()
    );
    let token = crate::cloud_support::token(&cloud).await;
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/v1/projects/{P}/location/us-central1/prometheus/api/v1/query_range",
            cloud.handle.base_url()
        ))
        .bearer_auth(token)
        .json(&json!({"query": q, "start": "0", "end": "60", "step": "60s"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let unauthenticated = reqwest::Client::new()
        .post(format!(
            "{}/v1/projects/{P}/location/global/prometheus/api/v1/query_range",
            cloud.handle.base_url()
        ))
        .json(&json!({"query": q, "start": "0", "end": "60", "step": "60s"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
}
