//! The Traffic section of the deployment overview: request rate, 5xx ratio and p95 latency per
//! backend and region from Cloud Monitoring, for the last hour, 6 hours, day or week, as
//! server-rendered SVG (`/deployments/{id}/traffic?window=SECONDS`: the section for htmx, a
//! page of its own on a direct visit, so the window links work without JavaScript), and the
//! dashboard's error-ratio sparkline (`/deployments/{id}/sparkline.svg`, an image).
//!
//! Monitoring failing never fails the page: the section says what went wrong.

use super::charts::{self, Line, Unit};
use super::{Routes, Shell, render};
use crate::AppState;
use crate::auth::{Access, Viewer};
use crate::cloud::monitoring::{LbTraffic, Series};
use crate::deploy::traffic::{self, Snapshot, Target};
use crate::domain::spec::Spec;
use crate::error::{AppError, AppResult, Path, Query};
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::time::Duration;
use time::OffsetDateTime;

pub fn routes(r: Routes) -> Routes {
    r.get("/deployments/{id}/traffic", Access::Viewer, section)
        .get("/deployments/{id}/sparkline.svg", Access::Viewer, sparkline)
}

/// The windows the section offers: (seconds, label, points drawn).
pub const WINDOWS: [(u64, &str, u32); 4] = [
    (3600, "1 hour", 60),
    (21_600, "6 hours", 72),
    (86_400, "1 day", 96),
    (604_800, "1 week", 84),
];

/// The section's window when none is asked for.
pub const DEFAULT_WINDOW: u64 = 3600;

/// One chart with its legend.
pub struct ChartView {
    pub svg: String,
    pub legend: Vec<(&'static str, String)>,
}

/// The three charts of one backend.
pub struct BackendCharts {
    pub backend: String,
    pub charts: Vec<ChartView>,
}

pub struct TrafficView {
    pub id: i64,
    pub window: u64,
    /// (seconds, label) of every window offered.
    pub windows: Vec<(u64, &'static str)>,
    pub backends: Vec<BackendCharts>,
    /// How old the newest point is, in words.
    pub age: Option<String>,
    /// Why there is nothing to draw.
    pub empty: Option<String>,
    /// Cloud Monitoring could not be read.
    pub error: Option<String>,
    /// The failover drill (sandbox only).
    pub drill: Option<super::drill::DrillView>,
    /// An editor, and the draft asks for a gated rollout: the "Roll out" button is shown.
    pub can_roll_out: bool,
    /// Cloud Run's own figures per service and region, over the last five minutes.
    pub run: Vec<RunRow>,
    /// Cloud Run's series could not be read (the load balancer's still show).
    pub run_error: Option<String>,
}

/// One row of the Cloud Run table, in words (`n/a` where there is no value).
pub struct RunRow {
    pub service: String,
    pub region: String,
    pub rps: String,
    pub errors: String,
    pub p95: String,
    pub instances: String,
}

/// Cloud Run's table looks at this window, whatever the charts show.
const RUN_WINDOW: Duration = Duration::from_secs(300);

fn run_row(r: traffic::RunNow) -> RunRow {
    let or_na = |v: Option<f64>, u: Unit| v.map(|v| u.format(v)).unwrap_or_else(|| "n/a".into());
    let count = |v: Option<f64>| v.map(|v| format!("{v:.0}")).unwrap_or_else(|| "n/a".into());
    RunRow {
        rps: or_na(r.rps, Unit::PerSecond),
        errors: or_na(r.error_ratio, Unit::Ratio),
        p95: or_na(r.p95_ms, Unit::Millis),
        instances: format!(
            "{} active, {} idle",
            count(r.active_instances),
            count(r.idle_instances)
        ),
        service: r.service,
        region: r.region,
    }
}

impl TrafficView {
    fn new(id: i64, window: u64) -> TrafficView {
        TrafficView {
            id,
            window,
            windows: WINDOWS.iter().map(|(s, l, _)| (*s, *l)).collect(),
            backends: Vec::new(),
            age: None,
            empty: None,
            error: None,
            drill: None,
            can_roll_out: false,
            run: Vec::new(),
            run_error: None,
        }
    }

    pub fn url(&self, window: &u64) -> String {
        format!("/deployments/{}/traffic?window={window}", self.id)
    }
}

/// `4 min` / `2 h 5 min`.
fn duration_words(secs: i64) -> String {
    let secs = secs.max(0);
    if secs < 60 {
        format!("{secs} s")
    } else if secs < 3600 {
        format!("{} min", secs / 60)
    } else {
        format!("{} h {} min", secs / 3600, secs % 3600 / 60)
    }
}

/// The sentence that says how old the newest point is.
pub fn age_words(as_of: OffsetDateTime, now: OffsetDateTime) -> String {
    format!(
        "The newest point is {} old (measured {:02}:{:02} UTC): Cloud Monitoring publishes load balancer series up to 3.5 minutes late.",
        duration_words((now - as_of).whole_seconds()),
        as_of.hour(),
        as_of.minute()
    )
}

fn lines_of(target: &Target, series: &[Series], backend: &str) -> Vec<Line> {
    let mut lines: Vec<Line> = series
        .iter()
        .filter(|s| target.backend_of(s) == backend)
        .map(|s| Line {
            label: s.label("backend_scope").to_string(),
            points: s.samples.iter().map(|p| (p.at, p.finite())).collect(),
        })
        .collect();
    lines.sort_by(|a, b| a.label.cmp(&b.label));
    lines
}

/// The charts of `t`, one row per backend that has series.
pub fn charts_of(
    id: i64,
    target: &Target,
    spec: &Spec,
    t: &LbTraffic,
    start: f64,
    end: f64,
) -> Vec<BackendCharts> {
    let mut out = Vec::new();
    for b in &spec.backends {
        let rps = lines_of(target, &t.rps, &b.name);
        if rps.is_empty() {
            continue;
        }
        let charts = [
            ("rps", "Requests per second", Unit::PerSecond, &t.rps, 1.0),
            ("errors", "5xx ratio", Unit::Ratio, &t.error_ratio, 0.05),
            ("p95", "p95 latency", Unit::Millis, &t.p95_ms, 100.0),
        ]
        .into_iter()
        .map(|(key, title, unit, series, floor)| {
            let lines = lines_of(target, series, &b.name);
            ChartView {
                svg: charts::line_chart(
                    &format!("chart-{id}-{}-{key}", b.name),
                    &format!("{title}: {}", b.name),
                    unit,
                    &lines,
                    start,
                    end,
                    floor,
                ),
                legend: charts::legend(&lines),
            }
        })
        .collect();
        out.push(BackendCharts {
            backend: b.name.clone(),
            charts,
        });
    }
    out
}

/// The section for the deployment's applied spec (`None`: nothing serves, `why` says so), and
/// the newest values per backend and region for the topology's region boxes.
pub async fn load(
    state: &AppState,
    id: i64,
    spec: Option<&Spec>,
    why_none: &str,
    window: u64,
    can_edit: bool,
) -> (TrafficView, Option<Snapshot>) {
    let mut v = TrafficView::new(id, window);
    let Some(spec) = spec else {
        v.empty = Some(why_none.to_string());
        return (v, None);
    };
    v.drill = super::drill::view(state, id, spec, can_edit);
    let points = WINDOWS
        .iter()
        .find(|(s, _, _)| *s == window)
        .map(|(_, _, p)| *p)
        .unwrap_or(60);
    let target = Target::of(spec);
    let now = OffsetDateTime::now_utc();
    let t = match traffic::history(
        &state.cloud,
        &target,
        Duration::from_secs(window),
        points,
        now,
    )
    .await
    {
        Ok(t) => t,
        Err(e) => {
            v.error = Some(format!("Cloud Monitoring could not be read: {e}"));
            return (v, None);
        }
    };
    let snap = traffic::snapshot_of(&target, &t);
    match traffic::run_snapshot(&state.cloud, spec, RUN_WINDOW, now).await {
        Ok(rows) => v.run = rows.into_iter().map(run_row).collect(),
        Err(e) => v.run_error = Some(format!("Cloud Run's series could not be read: {e}")),
    }
    let end = now.unix_timestamp() as f64;
    v.backends = charts_of(id, &target, spec, &t, end - window as f64, end);
    match snap.as_of {
        Some(at) => v.age = Some(age_words(at, now)),
        None => {
            v.empty = Some(format!(
                "Cloud Monitoring has no series for URL map {} in project {} in this window: the load balancer had no requests, or it is only a few minutes old (series arrive up to 3.5 minutes late).",
                target.url_map, target.project
            ));
        }
    }
    (v, Some(snap))
}

/// The line a Cloud Run region box gets: `5xx 0.0% · p95 48 ms`, over the backends of
/// `service` that serve from `region`.
pub fn region_line(spec: &Spec, snap: &Snapshot, service: &str, region: &str) -> Option<String> {
    use crate::domain::spec::BackendKind;
    let backends: Vec<&str> = spec
        .backends
        .iter()
        .filter(|b| matches!(&b.kind, BackendKind::Serverless { service: s, .. } if s == service))
        .map(|b| b.name.as_str())
        .collect();
    let r = snap.region(region, &backends)?;
    let errors = r
        .error_ratio
        .map(|v| Unit::Ratio.format(v))
        .unwrap_or_else(|| "n/a".into());
    let p95 = r
        .p95_ms
        .map(|v| Unit::Millis.format(v))
        .unwrap_or_else(|| "n/a".into());
    Some(format!("5xx {errors} · p95 {p95}"))
}

#[derive(Debug, Default, Deserialize)]
struct WindowQuery {
    window: Option<String>,
}

/// The window asked for: one the section offers, else a 400 naming `window`.
fn chosen_window(raw: Option<&str>) -> AppResult<u64> {
    match raw {
        None => Ok(DEFAULT_WINDOW),
        Some(r) => r
            .parse::<u64>()
            .ok()
            .filter(|s| WINDOWS.iter().any(|(w, _, _)| w == s))
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "window must be one of 3600, 21600, 86400 or 604800 seconds, not {r:?}"
                ))
            }),
    }
}

#[derive(Template)]
#[template(path = "traffic_partial.html")]
struct TrafficPartial {
    traffic: TrafficView,
}

#[derive(Template)]
#[template(path = "traffic.html")]
struct TrafficPage {
    shell: Shell,
    name: String,
    traffic: TrafficView,
}

/// The applied spec of deployment `id` and, when there is none, why.
pub async fn serving_spec(state: &AppState, id: i64) -> AppResult<(Option<Spec>, &'static str)> {
    let spec = crate::deploy::applied_spec(&state.db, id).await?;
    let why = if crate::db::jobs::resource_jobs(&state.db, id)
        .await?
        .is_empty()
    {
        "Nothing is applied yet, so there is no load balancer and no traffic to show."
    } else {
        "The last apply did not finish, or the deployment was destroyed: no applied load balancer to report on."
    };
    Ok((spec, why))
}

async fn section(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    headers: axum::http::HeaderMap,
    shell: Shell,
    Path(id): Path<i64>,
    Query(q): Query<WindowQuery>,
) -> AppResult<Response> {
    let window = chosen_window(q.window.as_deref())?;
    let d = crate::db::deployments::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (spec, why) = serving_spec(&state, id).await?;
    let (traffic, _) = load(&state, id, spec.as_ref(), why, window, user.can_edit()).await;
    respond(&headers, shell, d.name, traffic)
}

/// The section alone for htmx, else a page of its own.
pub fn respond(
    headers: &axum::http::HeaderMap,
    shell: Shell,
    name: String,
    traffic: TrafficView,
) -> AppResult<Response> {
    if crate::http::is_htmx(headers) {
        render(StatusCode::OK, &TrafficPartial { traffic })
    } else {
        render(
            StatusCode::OK,
            &TrafficPage {
                shell,
                name,
                traffic,
            },
        )
    }
}

/// The dashboard's sparkline: the deployment's 5xx ratio over the last hour, all backends and
/// regions together. An image, so the dashboard never waits for Cloud Monitoring.
async fn sparkline(
    State(state): State<AppState>,
    Viewer(_): Viewer,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    crate::db::deployments::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (spec, why) = serving_spec(&state, id).await?;
    let svg = match spec {
        None => charts::sparkline(why, &[], 0.05),
        Some(spec) => {
            let target = Target::of(&spec);
            let now = OffsetDateTime::now_utc();
            match traffic::history(&state.cloud, &target, Duration::from_secs(3600), 30, now).await
            {
                Err(e) => charts::sparkline(&format!("Cloud Monitoring: {e}"), &[], 0.05),
                Ok(t) => {
                    let points = overall_error_ratio(&t);
                    let last = points.iter().rev().find_map(|(_, v)| *v);
                    let label = match last {
                        Some(v) => format!("5xx ratio, last hour: {} now", Unit::Ratio.format(v)),
                        None => "5xx ratio, last hour: no requests".to_string(),
                    };
                    charts::sparkline(&label, &points, 0.05)
                }
            }
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, max-age=60"),
        ],
        svg,
    )
        .into_response())
}

/// The 5xx ratio of all traffic at each time: errors over requests, from the per-series rates.
pub fn overall_error_ratio(t: &LbTraffic) -> Vec<(f64, Option<f64>)> {
    use std::collections::BTreeMap;
    let key = |s: &Series| {
        (
            s.label("backend_target_name").to_string(),
            s.label("backend_scope").to_string(),
        )
    };
    let ratios: BTreeMap<_, &Series> = t.error_ratio.iter().map(|s| (key(s), s)).collect();
    let mut sums: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
    for rps in &t.rps {
        let ratio = ratios.get(&key(rps));
        for p in &rps.samples {
            let Some(r) = p.finite() else { continue };
            let e = sums.entry(p.at as i64).or_default();
            e.0 += r;
            let err = ratio
                .and_then(|s| s.samples.iter().find(|q| q.at == p.at))
                .and_then(|q| q.finite())
                .unwrap_or(0.0);
            e.1 += r * err;
        }
    }
    sums.into_iter()
        .map(|(at, (req, err))| (at as f64, (req > 0.0).then(|| err / req)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_windows_read_as_words() {
        let now = OffsetDateTime::from_unix_timestamp(1_764_583_500).unwrap();
        let at = OffsetDateTime::from_unix_timestamp(1_764_583_260).unwrap();
        assert!(
            age_words(at, now).starts_with("The newest point is 4 min old (measured 10:01 UTC)")
        );
        assert_eq!(duration_words(7500), "2 h 5 min");
        assert_eq!(chosen_window(None).unwrap(), 3600);
        assert_eq!(chosen_window(Some("604800")).unwrap(), 604_800);
        assert!(
            matches!(chosen_window(Some("600")), Err(AppError::BadRequest(m)) if m.contains("window"))
        );
    }
}
