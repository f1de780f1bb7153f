//! A deployment's traffic as Cloud Monitoring reports it: which URL map and project to ask
//! (the load balancer's series land in the forwarding rule's project, API-NOTES §19.1), and
//! the answer per spec backend and serving region. The traffic API, the deployment page, the
//! dashboard and a gated rollout's stages all read through here.

use crate::cloud::monitoring::{LbTraffic, Range, Series};
use crate::cloud::{Client, CloudError};
use crate::domain::explicit_names;
use crate::domain::spec::Spec;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;
use time::OffsetDateTime;

/// Shortest and longest `window` the traffic API accepts: one sampling period, one week (what
/// the longest chart shows).
pub const MIN_WINDOW_S: u64 = 60;
pub const MAX_WINDOW_S: u64 = 7 * 24 * 3600;

/// How far back a snapshot looks for its newest point: the series arrive up to 3.5 minutes
/// late (§19.1), so the last quarter hour always holds some.
const SNAPSHOT_LOOKBACK: Duration = Duration::from_secs(15 * 60);

/// Where a deployment's load balancer metrics are, and how to name its backend services.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub project: String,
    pub url_map: String,
    /// Backend service name → the spec's backend name.
    backends: BTreeMap<String, String>,
}

impl Target {
    pub fn of(spec: &Spec) -> Target {
        Target {
            project: spec.project.clone(),
            url_map: explicit_names::url_map(spec),
            backends: spec
                .backends
                .iter()
                .map(|b| {
                    (
                        explicit_names::backend_service(spec, &b.name),
                        b.name.clone(),
                    )
                })
                .collect(),
        }
    }

    /// The spec's name for a series' backend service (its own name when the spec has none).
    pub fn backend_of(&self, s: &Series) -> String {
        let bs = s.label("backend_target_name");
        self.backends
            .get(bs)
            .cloned()
            .unwrap_or_else(|| bs.to_string())
    }

    /// The backend service name of the spec's backend `name`.
    pub fn service_of(&self, name: &str) -> Option<&str> {
        self.backends
            .iter()
            .find(|(_, b)| b.as_str() == name)
            .map(|(bs, _)| bs.as_str())
    }
}

/// One backend in one region, averaged over the window. `None`: no value (no requests, so no
/// ratio or latency).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionNow {
    pub backend: String,
    pub region: String,
    pub rps: Option<f64>,
    pub error_ratio: Option<f64>,
    pub p95_ms: Option<f64>,
}

/// The newest values per backend and region.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Snapshot {
    /// When the newest point was measured; `None` when there is no data at all.
    #[serde(serialize_with = "rfc3339")]
    pub as_of: Option<OffsetDateTime>,
    pub regions: Vec<RegionNow>,
}

impl Snapshot {
    /// The values of one region over every backend: requests summed, the error ratio weighted
    /// by requests, the slowest backend's p95 (percentiles do not add up).
    pub fn region(&self, region: &str, backends: &[&str]) -> Option<RegionNow> {
        let rows: Vec<&RegionNow> = self
            .regions
            .iter()
            .filter(|r| r.region == region && backends.contains(&r.backend.as_str()))
            .collect();
        if rows.is_empty() {
            return None;
        }
        let rps: f64 = rows.iter().filter_map(|r| r.rps).sum();
        let errors: f64 = rows
            .iter()
            .filter_map(|r| Some(r.rps? * r.error_ratio?))
            .sum();
        Some(RegionNow {
            backend: backends.join(", "),
            region: region.to_string(),
            rps: Some(rps),
            error_ratio: (rps > 0.0).then(|| errors / rps),
            p95_ms: rows
                .iter()
                .filter_map(|r| r.p95_ms)
                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v)))),
        })
    }
}

fn rfc3339<S: serde::Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
    use time::format_description::well_known::Rfc3339;
    match t.and_then(|t| t.format(&Rfc3339).ok()) {
        Some(text) => s.serialize_str(&text),
        None => s.serialize_none(),
    }
}

/// The newest point of each series, keyed by (backend, region).
fn newest(target: &Target, series: &[Series]) -> BTreeMap<(String, String), (f64, Option<f64>)> {
    series
        .iter()
        .filter_map(|s| {
            let key = (target.backend_of(s), s.label("backend_scope").to_string());
            // The newest sample, even NaN (no requests): its time still says how fresh.
            let at = s.samples.last()?.at;
            Some((key, (at, s.last().filter(|l| l.at == at).map(|l| l.value))))
        })
        .collect()
}

/// Rates, 5xx ratios and p95 per backend and region, each averaged over the last `window`
/// that Cloud Monitoring has.
pub async fn snapshot(
    client: &Client,
    target: &Target,
    window: Duration,
    now: OffsetDateTime,
) -> Result<Snapshot, CloudError> {
    let range = Range {
        start: now - SNAPSHOT_LOOKBACK,
        end: now,
        step: Duration::from_secs(60),
    };
    let t = client
        .lb_traffic_over(&target.project, &target.url_map, &range, window)
        .await?;
    Ok(snapshot_of(target, &t))
}

pub fn snapshot_of(target: &Target, t: &LbTraffic) -> Snapshot {
    let rps = newest(target, &t.rps);
    let errors = newest(target, &t.error_ratio);
    let p95 = newest(target, &t.p95_ms);
    let as_of = rps
        .values()
        .map(|(at, _)| *at)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
        .and_then(|at| OffsetDateTime::from_unix_timestamp(at as i64).ok());
    let regions = rps
        .iter()
        .map(|((backend, region), (_, v))| {
            let key = (backend.clone(), region.clone());
            RegionNow {
                backend: backend.clone(),
                region: region.clone(),
                rps: *v,
                error_ratio: errors.get(&key).and_then(|(_, v)| *v),
                p95_ms: p95.get(&key).and_then(|(_, v)| *v),
            }
        })
        .collect();
    Snapshot { as_of, regions }
}

/// One Cloud Run service in one region, as Cloud Run itself reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunNow {
    pub service: String,
    pub region: String,
    pub rps: Option<f64>,
    pub error_ratio: Option<f64>,
    pub p95_ms: Option<f64>,
    pub active_instances: Option<f64>,
    pub idle_instances: Option<f64>,
}

/// The newest value of each series, by `location` and `state` (empty when it has none).
fn newest_by_location(series: &[Series]) -> BTreeMap<(String, String), f64> {
    series
        .iter()
        .filter_map(|s| {
            let key = (
                s.label("location").to_string(),
                s.label("state").to_string(),
            );
            Some((key, s.last()?.value))
        })
        .collect()
}

/// The Cloud Run services the spec's serverless backends front (each in its project), with
/// their request rate, 5xx ratio, p95 and instances per region over the last `window`.
pub async fn run_snapshot(
    client: &Client,
    spec: &Spec,
    window: Duration,
    now: OffsetDateTime,
) -> Result<Vec<RunNow>, CloudError> {
    let range = Range {
        start: now - SNAPSHOT_LOOKBACK,
        end: now,
        step: Duration::from_secs(60),
    };
    let mut services: Vec<(String, String)> = spec
        .backends
        .iter()
        .filter_map(|b| match &b.kind {
            crate::domain::spec::BackendKind::Serverless { service, .. } => {
                Some((spec.backend_project(b).to_string(), service.clone()))
            }
            _ => None,
        })
        .collect();
    services.sort();
    services.dedup();
    let mut out = Vec::new();
    for (project, service) in services {
        let t = client
            .run_traffic_over(&project, &service, &range, window)
            .await?;
        let rps = newest_by_location(&t.rps);
        let errors = newest_by_location(&t.error_ratio);
        let p95 = newest_by_location(&t.p95_ms);
        let instances = newest_by_location(&t.instances);
        let of = |m: &BTreeMap<(String, String), f64>, region: &str, state: &str| {
            m.get(&(region.to_string(), state.to_string()))
                .copied()
                .filter(|v| v.is_finite())
        };
        for (region, _) in rps.keys() {
            out.push(RunNow {
                service: service.clone(),
                region: region.clone(),
                rps: of(&rps, region, ""),
                error_ratio: of(&errors, region, ""),
                p95_ms: of(&p95, region, ""),
                active_instances: of(&instances, region, "active"),
                idle_instances: of(&instances, region, "idle"),
            });
        }
    }
    Ok(out)
}

/// The series of the `window` before `now` for charts, about `points` points each.
pub async fn history(
    client: &Client,
    target: &Target,
    window: Duration,
    points: u32,
    now: OffsetDateTime,
) -> Result<LbTraffic, CloudError> {
    let range = Range::ending(now, window, points);
    client
        .lb_traffic(&target.project, &target.url_map, &range)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::monitoring::Sample;

    fn series(bs: &str, region: &str, values: &[f64]) -> Series {
        Series {
            labels: [
                ("backend_target_name".to_string(), bs.to_string()),
                ("backend_scope".to_string(), region.to_string()),
            ]
            .into_iter()
            .collect(),
            samples: values
                .iter()
                .enumerate()
                .map(|(i, v)| Sample {
                    at: 1_764_583_200.0 + 60.0 * i as f64,
                    value: *v,
                })
                .collect(),
        }
    }

    fn target() -> Target {
        let spec: Spec =
            serde_json::from_str(include_str!("../../tests/data/seeds/seed-001.json")).unwrap();
        Target::of(&spec)
    }

    #[test]
    fn snapshots_name_spec_backends_and_keep_missing_values_missing() {
        let t = target();
        assert_eq!(t.url_map, "my-app-urlmap");
        assert_eq!(t.service_of("my-app"), Some("my-app-bs-my-app"));
        let traffic = LbTraffic {
            rps: vec![
                series("my-app-bs-my-app", "europe-west1", &[3.0, 2.0]),
                series("my-app-bs-my-app", "asia-east1", &[1.0, 0.0]),
            ],
            error_ratio: vec![
                series("my-app-bs-my-app", "europe-west1", &[0.0, 0.5]),
                series("my-app-bs-my-app", "asia-east1", &[0.0, f64::NAN]),
            ],
            p95_ms: vec![series("my-app-bs-my-app", "europe-west1", &[40.0, 80.0])],
        };
        let s = snapshot_of(&t, &traffic);
        assert_eq!(s.as_of.unwrap().unix_timestamp(), 1_764_583_260);
        let eu = s
            .regions
            .iter()
            .find(|r| r.region == "europe-west1")
            .unwrap();
        assert_eq!(
            (eu.backend.as_str(), eu.rps, eu.error_ratio, eu.p95_ms),
            ("my-app", Some(2.0), Some(0.5), Some(80.0))
        );
        let asia = s.regions.iter().find(|r| r.region == "asia-east1").unwrap();
        assert_eq!((asia.error_ratio, asia.p95_ms), (None, None));
        let all = s.region("europe-west1", &["my-app"]).unwrap();
        assert_eq!(all.error_ratio, Some(0.5));
        assert!(s.region("us-central1", &["my-app"]).is_none());
    }
}
