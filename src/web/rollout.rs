//! The gated rollout's buttons: start one from the deployment page (`POST
//! /deployments/{id}/rollout`, then the job page), and promote a holding stage from the job page
//! (`POST /jobs/{id}/promote`). Abort is the job page's Cancel. And the chart of a breach on
//! the job page of a rollout whose stage failed its gate.

use super::Routes;
use crate::AppState;
use crate::api::rollout::{promote_stage, start_rollout};
use crate::auth::{Access, Editor};
use crate::error::{AppResult, Path};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

pub fn routes(r: Routes) -> Routes {
    r.post("/deployments/{id}/rollout", Access::Editor, start)
        .post("/jobs/{id}/promote", Access::Editor, promote)
}

async fn start(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let job = start_rollout(&state, id, &user.name, "page").await?;
    Ok(Redirect::to(&format!("/jobs/{job}")).into_response())
}

async fn promote(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    promote_stage(&state, id, &user.name).await?;
    Ok(Redirect::to(&format!("/jobs/{id}")).into_response())
}

/// The chart a failed gated rollout's job page shows: the 5xx ratio (or p95, when that was the
/// limit broken) of the backends the failed stage judged, per region, over the hour before it
/// was judged, as the stage recorded it.
pub struct BreachChart {
    /// `5xx ratio of canary (limit 5.00%)`: what the chart shows, of which backends.
    pub caption: String,
    pub svg: String,
    pub legend: Vec<(&'static str, String)>,
}

pub async fn breach_chart(
    state: &AppState,
    steps: &[crate::db::jobs::StepRecord],
) -> AppResult<Option<BreachChart>> {
    use super::charts::{self, Line, Unit};
    use crate::domain::rollout::{StageCall, StageSeries};
    let Some(failed) = steps
        .iter()
        .find(|s| s.action == "soak" && s.status == "failed")
    else {
        return Ok(None);
    };
    let Some(stage) = crate::jobs::call_of(failed)
        .ok()
        .and_then(|c| c.body)
        .and_then(|b| serde_json::from_value::<StageCall>(b).ok())
    else {
        return Ok(None);
    };
    let Some(recorded) =
        crate::db::rollouts::measurement(&state.db, failed.job_id, failed.idx).await?
    else {
        return Ok(None);
    };
    let recorded: StageSeries = serde_json::from_str(&recorded).unwrap_or_default();
    let latency = failed
        .error
        .as_deref()
        .is_some_and(|e| e.contains("max_p95_ms"));
    let (series, unit, limit, what) = if latency {
        let limit = stage.gate.max_p95_ms.unwrap_or(100.0);
        (recorded.p95_ms, Unit::Millis, limit, "p95 latency")
    } else {
        let limit = stage.gate.max_error_ratio.unwrap_or(0.05);
        (recorded.error_ratio, Unit::Ratio, limit, "5xx ratio")
    };
    let lines: Vec<Line> = series
        .into_iter()
        .map(|(label, points)| Line { label, points })
        .collect();
    let times = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
    let end = times.clone().fold(f64::MIN, f64::max);
    let start = times.fold(f64::MAX, f64::min);
    if lines.is_empty() || start > end {
        return Ok(None);
    }
    // The chart is narrow: its own title says what and the limit, the caption whose.
    Ok(Some(BreachChart {
        caption: format!(
            "{what} of {}{} (limit {})",
            stage.backends.join(", "),
            stage.in_region(),
            unit.format(limit)
        ),
        svg: charts::line_chart(
            "breach-chart",
            &format!("{what}, limit {}", unit.format(limit)),
            unit,
            &lines,
            start,
            end,
            limit,
        ),
        legend: charts::legend(&lines),
    }))
}
