//! Cloud Monitoring's PromQL `query_range` in the sandbox (API-NOTES §19.6), answered from the
//! traffic model: the project's live URL maps and backend services decide where the synthetic
//! requests go, and `POST /sandbox/v1/traffic` decides which regions fail or slow down.
//!
//! Series are per minute and become visible [`VISIBILITY_DELAY_S`] after their minute ends, as
//! the load balancer's do (§19.1), so a caller that assumes fresh data sees the gap.

use super::promql::{self, Labels, Raw};
use super::request::admit;
use super::traffic::{self, Route};
use super::{Api, ApiError, ApiResult, Sandbox, now_ms};
use crate::cloud::monitoring::promql as q;
use crate::db::sandbox as sql;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Seconds after a minute ends before its series can be read (§19.1: up to 210 s).
pub const VISIBILITY_DELAY_S: i64 = 210;

/// At most this many minutes are simulated per query (a week), so a query stays cheap.
const MAX_MINUTES: i64 = 7 * 24 * 60 + 240;

pub(super) async fn handle(
    State(sb): State<Arc<Sandbox>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let mut call = admit(&sb, Api::Monitoring, &method, &uri, &headers, &body).await?;
        if call.param("location") != Some("global") {
            return Err(ApiError::run(
                400,
                "INVALID_ARGUMENT",
                "location must be global",
            ));
        }
        if sb.traffic_model().monitoring_unavailable {
            return Err(ApiError::run(
                503,
                "UNAVAILABLE",
                "The service is currently unavailable.",
            ));
        }
        let project = call.param("projectsId").unwrap_or_default().to_string();
        match call.method.id.as_str() {
            "monitoring.projects.location.prometheus.api.v1.query_range" => {
                let body = call.take_body();
                query_range(&sb, &project, &body).await
            }
            id => Err(ApiError::not_implemented(Api::Monitoring, id)),
        }
    }
    .await;
    result.unwrap_or_else(|e| e.into_response())
}

fn bad_data(message: impl Into<String>) -> Response {
    (
        axum::http::StatusCode::BAD_REQUEST,
        axum::Json(json!({"status": "error", "errorType": "bad_data", "error": message.into()})),
    )
        .into_response()
}

/// RFC 3339 or float UNIX seconds.
fn timestamp(v: &Value) -> Option<i64> {
    let s = v.as_str()?;
    if let Ok(f) = s.parse::<f64>() {
        return Some(f as i64);
    }
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// A Prometheus duration (`60s`, `5m`, `1h`) or float seconds.
fn seconds(v: &Value) -> Option<i64> {
    let s = v.as_str()?;
    if let Ok(f) = s.parse::<f64>() {
        return Some(f as i64);
    }
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = n.parse().ok()?;
    Some(match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return None,
    })
}

async fn query_range(sb: &Sandbox, project: &str, body: &Value) -> ApiResult {
    let Some(query) = body["query"].as_str() else {
        return Ok(bad_data("invalid parameter \"query\": missing"));
    };
    let (Some(start), Some(end)) = (timestamp(&body["start"]), timestamp(&body["end"])) else {
        return Ok(bad_data(
            "invalid parameter \"start\" or \"end\": cannot parse to a valid timestamp",
        ));
    };
    let Some(step) = seconds(&body["step"]).filter(|s| *s > 0) else {
        return Ok(bad_data(
            "invalid parameter \"step\": zero or negative query resolution step widths are not accepted",
        ));
    };
    if end < start {
        return Ok(bad_data(
            "invalid parameter \"end\": end timestamp must not be before start time",
        ));
    }
    let now = now_ms() / 1000;
    let (routes, run) = routes(sb, project).await?;
    let model = sb.traffic_model();
    // Simulate from two hours before `start` (the longest rate window the panel asks), up
    // to the last minute already visible.
    let last_visible = (now - VISIBILITY_DELAY_S) / 60;
    let first = ((start - 7200) / 60).max(end / 60 - MAX_MINUTES);
    let last = (end / 60).min(last_visible);
    let mut raw = RawSeries::new();
    for (url_map, routes) in &routes {
        if last < first {
            break;
        }
        let minutes = model.simulate(routes, first, (last - first) as usize);
        for (i, m) in minutes.iter().enumerate() {
            let minute = first + i as i64;
            for ((backend, region), cell) in m {
                series_of(url_map, backend, region, cell, minute, &mut raw);
                if let Some(service) = run.get(&(backend.clone(), region.clone())) {
                    run_series_of(service, region, cell, minute, &mut raw);
                }
            }
        }
    }
    let raw: Vec<Raw> = raw
        .into_iter()
        .map(|(labels, per_minute)| Raw { labels, per_minute })
        .collect();
    // Points whose rate window reaches minutes not yet visible are left out, not understated.
    let end = end.min(last * 60 + 59);
    match promql::eval(query, &raw, start, end, step) {
        Err(e) => Ok(bad_data(e)),
        Ok(out) => {
            let result: Vec<Value> = out
                .into_iter()
                .map(|(labels, values)| {
                    json!({"metric": labels, "values": values.into_iter()
                        .map(|(t, v)| json!([t, prom_value(v)])).collect::<Vec<_>>()})
                })
                .collect();
            Ok(axum::Json(json!({"status": "success",
                "data": {"resultType": "matrix", "result": result}}))
            .into_response())
        }
    }
}

fn prom_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

type RawSeries = BTreeMap<Labels, BTreeMap<i64, f64>>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Adds one cell's requests to the counter `base`, split by `response_code_class`: the
/// metric's names for answered and failed (`200`/`500` at the load balancer, `2xx`/`5xx` in
/// Cloud Run).
fn add_requests(
    raw: &mut RawSeries,
    base: &Labels,
    cell: &traffic::Cell,
    minute: i64,
    classes: [&str; 2],
) {
    for (class, n) in [
        (classes[0], cell.requests - cell.errors),
        (classes[1], cell.errors),
    ] {
        let mut l = base.clone();
        l.insert("response_code_class".into(), class.into());
        *raw.entry(l).or_default().entry(minute).or_default() += n as f64;
    }
}

/// Adds one cell's latencies to the histogram `base` (named `…_bucket`), as cumulative buckets.
fn add_latencies(raw: &mut RawSeries, base: &Labels, cell: &traffic::Cell, minute: i64) {
    let mut cumulative = 0;
    for (i, n) in cell.latency.iter().enumerate() {
        cumulative += n;
        let le = traffic::LATENCY_BUCKETS_MS
            .get(i)
            .map(|b| b.to_string())
            .unwrap_or_else(|| "+Inf".into());
        let mut l = base.clone();
        l.insert("le".into(), le);
        *raw.entry(l).or_default().entry(minute).or_default() += cumulative as f64;
    }
}

/// The load balancer's series for one cell of one minute: request counts by response class,
/// and the latency histogram's cumulative buckets.
fn series_of(
    url_map: &str,
    backend: &str,
    region: &str,
    cell: &traffic::Cell,
    minute: i64,
    raw: &mut RawSeries,
) {
    let base = |name: &str| {
        labels(&[
            ("__name__", name),
            ("monitored_resource", "https_lb_rule"),
            ("url_map_name", url_map),
            ("backend_target_name", backend),
            ("backend_scope", region),
            ("backend_scope_type", "REGION"),
        ])
    };
    for name in [q::LB_REQUESTS, q::LB_BACKEND_REQUESTS] {
        add_requests(raw, &base(name), cell, minute, ["200", "500"]);
    }
    for name in [q::LB_BACKEND_LATENCIES, q::LB_TOTAL_LATENCIES] {
        add_latencies(raw, &base(&format!("{name}_bucket")), cell, minute);
    }
}

/// Requests per second one instance serves in the model, for the instance count.
const RPS_PER_INSTANCE: f64 = 5.0;

/// What Cloud Run reports for the same requests (API-NOTES §19.1): its request count by
/// `response_code_class` (`2xx`, `5xx`), its latency histogram, and the instances it ran
/// (`active` enough for the rate, one `idle` kept warm), labelled by service and region.
fn run_series_of(
    service: &str,
    region: &str,
    cell: &traffic::Cell,
    minute: i64,
    raw: &mut RawSeries,
) {
    let base = |name: &str| {
        labels(&[
            ("__name__", name),
            ("monitored_resource", "cloud_run_revision"),
            ("service_name", service),
            ("location", region),
        ])
    };
    add_requests(raw, &base(q::RUN_REQUESTS), cell, minute, ["2xx", "5xx"]);
    add_latencies(
        raw,
        &base(&format!("{}_bucket", q::RUN_LATENCIES)),
        cell,
        minute,
    );
    let active = (cell.requests as f64 / 60.0 / RPS_PER_INSTANCE).ceil();
    for (state, n) in [("active", active), ("idle", 1.0)] {
        let mut l = base(q::RUN_INSTANCES);
        l.insert("state".into(), state.into());
        // A gauge is set, not added up: with two URL maps on one service, the larger share.
        let v = raw.entry(l).or_default().entry(minute).or_default();
        *v = v.max(n);
    }
}

fn last_segment(link: &str) -> &str {
    link.rsplit('/').next().unwrap_or(link)
}

/// The project and name of a backend service link; a short form is in `project`.
fn service_of(link: &str, project: &str) -> (String, String) {
    let path = crate::domain::links::link_path(link);
    match path.split('/').collect::<Vec<_>>().as_slice() {
        ["projects", p, "global", "backendServices", n] => (p.to_string(), n.to_string()),
        _ => (project.to_string(), last_segment(link).to_string()),
    }
}

/// Each live URL map of `project` with the backend services its default route sends traffic
/// to, their weights and regions (from their serverless NEGs' links) and outlier detection.
/// A backend service of another project (cross-project service referencing) counts for the
/// project of the URL map's forwarding rule, where Google puts the series (API-NOTES §16.6).
/// Backend service name and region → the Cloud Run service its serverless NEG there fronts.
type RunServices = BTreeMap<(String, String), String>;

async fn routes(
    sb: &Sandbox,
    project: &str,
) -> ApiResult<(Vec<(String, Vec<Route>)>, RunServices)> {
    let internal = |e: sqlx::Error| ApiError::internal(e, Api::Monitoring);
    let now = now_ms();
    let mut conn = sb.db.acquire().await.map_err(internal)?;
    let maps = sql::list_resources(&mut conn, "compute", project, "global", "urlMaps", now)
        .await
        .map_err(internal)?;
    let mut services: BTreeMap<(String, String), Value> = BTreeMap::new();
    let mut read: std::collections::BTreeSet<String> = Default::default();
    let mut out = Vec::new();
    let mut run = RunServices::new();
    for map in maps.into_iter().filter(|m| m.visible(now)) {
        let weighted: Vec<((String, String), u32)> = match map.body["defaultService"].as_str() {
            Some(s) => vec![(service_of(s, project), 100)],
            None => map.body["defaultRouteAction"]["weightedBackendServices"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|w| {
                    Some((
                        service_of(w["backendService"].as_str()?, project),
                        w["weight"].as_u64().unwrap_or(0) as u32,
                    ))
                })
                .collect(),
        };
        for ((p, _), _) in &weighted {
            if read.insert(p.clone()) {
                let listed =
                    sql::list_resources(&mut conn, "compute", p, "global", "backendServices", now)
                        .await
                        .map_err(internal)?;
                services.extend(
                    listed
                        .into_iter()
                        .filter(|r| r.visible(now))
                        .map(|r| ((p.clone(), r.name), r.body)),
                );
            }
        }
        for (key, _) in &weighted {
            let Some(bs) = services.get(key) else {
                continue;
            };
            for group in bs["backends"].as_array().into_iter().flatten() {
                let path =
                    crate::domain::links::link_path(group["group"].as_str().unwrap_or_default());
                let parts: Vec<&str> = path.split('/').collect();
                let [
                    "projects",
                    p,
                    "regions",
                    region,
                    "networkEndpointGroups",
                    neg,
                ] = parts[..]
                else {
                    continue;
                };
                let k = sql::Key {
                    api: "compute",
                    project: p,
                    location: region,
                    collection: "networkEndpointGroups",
                    name: neg,
                };
                let found = sql::get_resource(&mut conn, k).await.map_err(internal)?;
                if let Some(service) = found
                    .as_ref()
                    .and_then(|n| n.body["cloudRun"]["service"].as_str())
                {
                    run.insert((key.1.clone(), region.to_string()), service.to_string());
                }
            }
        }
        let routes = weighted
            .into_iter()
            .filter_map(|(key, weight)| {
                let bs = services.get(&key)?;
                let name = key.1;
                let regions = bs["backends"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|b| {
                        let link = b["group"].as_str()?;
                        let rest = &link[link.find("/regions/")? + "/regions/".len()..];
                        Some(rest.split('/').next()?.to_string())
                    })
                    .collect();
                let od = &bs["outlierDetection"];
                Some(Route {
                    backend: name,
                    weight,
                    regions,
                    // Google's default is 5 consecutive errors, 30 s ejection.
                    consecutive_errors: od
                        .is_object()
                        .then(|| od["consecutiveErrors"].as_u64().unwrap_or(5) as u32),
                    ejection_seconds: od["baseEjectionTime"]["seconds"]
                        .as_str()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(30),
                })
            })
            .collect();
        out.push((map.name, routes));
    }
    Ok((out, run))
}
