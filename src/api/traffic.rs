//! A deployment's traffic over JSON.
//!
//! | call | answer |
//! | --- | --- |
//! | `GET /api/v1/deployments/{id}/traffic?window=SECONDS` (viewer) | `{"as_of", "regions": [ {"backend", "region", "rps", "error_ratio", "p95_ms"} ], "cloud_run": [ {"service", "region", "rps", "error_ratio", "p95_ms", "active_instances", "idle_instances"} ]}` |
//!
//! Values are averages over the last `window` seconds Cloud Monitoring has (default 300,
//! 60 to 604800); `as_of` is when the newest point was measured, minutes before now, since
//! the series arrive late. Before the first apply, or after a destroy, there is no load
//! balancer: `as_of` is `null`, `regions` empty and `note` says why. A bad `window` is a 400
//! naming it; Cloud Monitoring failing is a 502 with its message.

use crate::AppState;
use crate::auth::{Access, Viewer};
use crate::deploy::traffic::{self, MAX_WINDOW_S, MIN_WINDOW_S, Snapshot, Target};
use crate::error::{AppError, AppResult, Path, Query};
use crate::http::Routes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

pub fn routes(r: Routes) -> Routes {
    r.get(
        "/api/v1/deployments/{id}/traffic",
        Access::Viewer,
        deployment_traffic,
    )
}

/// The window when the call names none: five minutes, the usual rate window (§19.4).
const DEFAULT_WINDOW_S: u64 = 300;

#[derive(Debug, Deserialize)]
struct TrafficQuery {
    /// Text, so that a window that is not a number is answered naming it.
    window: Option<String>,
}

/// Reads `window`: whole seconds within the accepted range.
pub fn parse_window(raw: Option<&str>) -> Result<Duration, String> {
    let Some(raw) = raw else {
        return Ok(Duration::from_secs(DEFAULT_WINDOW_S));
    };
    match raw.trim().parse::<u64>() {
        Ok(s) if (MIN_WINDOW_S..=MAX_WINDOW_S).contains(&s) => Ok(Duration::from_secs(s)),
        _ => Err(format!(
            "window must be whole seconds from {MIN_WINDOW_S} to {MAX_WINDOW_S}, not {raw:?}"
        )),
    }
}

async fn deployment_traffic(
    State(state): State<AppState>,
    _: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<TrafficQuery>,
) -> AppResult<Response> {
    let window = match parse_window(q.window.as_deref()) {
        Ok(w) => w,
        Err(message) => {
            return Ok((
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": {"code": "bad_request", "message": message, "field": "window"}})),
            )
                .into_response());
        }
    };
    crate::db::deployments::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(spec) = crate::deploy::applied_spec(&state.db, id).await? else {
        return Ok(axum::Json(json!({
            "as_of": null,
            "regions": [],
            "note": "nothing is applied, so there is no load balancer to report on",
        }))
        .into_response());
    };
    let now = time::OffsetDateTime::now_utc();
    let upstream = |e| AppError::Upstream(format!("Cloud Monitoring: {e}"));
    let snap: Snapshot = traffic::snapshot(&state.cloud, &Target::of(&spec), window, now)
        .await
        .map_err(upstream)?;
    let run = traffic::run_snapshot(&state.cloud, &spec, window, now)
        .await
        .map_err(upstream)?;
    let mut body = serde_json::to_value(&snap).expect("a snapshot always serialises");
    body["cloud_run"] = json!(run);
    Ok(axum::Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_whole_seconds_within_a_week() {
        assert_eq!(parse_window(None).unwrap().as_secs(), 300);
        assert_eq!(parse_window(Some("3600")).unwrap().as_secs(), 3600);
        for bad in ["", "abc", "-5", "59", "604801", "1.5"] {
            let e = parse_window(Some(bad)).unwrap_err();
            assert!(e.starts_with("window must be"), "{bad}: {e}");
        }
    }
}
