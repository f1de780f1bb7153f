//! The team's job history (`/jobs`): every apply and destroy, newest first, filtered by
//! deployment, user and status, paged by key (`?before=CREATED_AT,ID`, never OFFSET) so a page
//! deep in a million jobs costs what the first one costs.

use super::audit::{cursor_text, parse_cursor};
use super::{Routes, Shell, render, urlencode};
use crate::AppState;
use crate::auth::{Access, Viewer};
use crate::db::audit::Cursor;
use crate::db::job_summaries::{JobFilter, JobSummary, LogEntry, StepSummary};
use crate::error::{AppError, AppResult, Path, Query};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

pub fn routes(r: Routes) -> Routes {
    r.get("/jobs", Access::Viewer, jobs_page)
        .get("/jobs/{id}", Access::Viewer, job_page)
        .get("/jobs/{id}/progress", Access::Viewer, job_progress)
}

/// Jobs per page.
const PAGE: i64 = 50;

/// docs/contract.md §3's job statuses.
pub const STATUSES: [&str; 5] = ["queued", "running", "succeeded", "failed", "cancelled"];

#[derive(Debug, Default, Deserialize)]
struct JobsQuery {
    deployment: Option<String>,
    user: Option<String>,
    status: Option<String>,
    before: Option<String>,
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// A jobs page's filters (the deployment by name) and cursor `(created_at, id)`.
pub type JobsKey = (JobFilter, Option<(String, i64)>);

/// Up to a page and one more job (which tells there is an older page).
async fn load_page(
    state: &AppState,
    filter: &JobFilter,
    before: Option<&Cursor>,
) -> AppResult<Vec<JobSummary>> {
    // People filter by name; jobs key their deployment by id. An unknown name matches nothing.
    let deployment = match &filter.deployment {
        Some(name) => Some(
            crate::db::dashboard::deployment_id_by_name(&state.db, name)
                .await?
                .map(crate::db::jobs::deployment_key)
                .unwrap_or_default(),
        ),
        None => None,
    };
    let by_key = JobFilter {
        deployment,
        ..filter.clone()
    };
    Ok(crate::db::job_summaries::jobs_page(&state.db, &by_key, before, PAGE + 1).await?)
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsPage<'a> {
    shell: Shell,
    jobs: &'a [JobSummary],
    statuses: [&'static str; 5],
    deployment: String,
    user: String,
    status: String,
    older: Option<String>,
    paged: bool,
    first: String,
}

async fn jobs_page(
    State(state): State<AppState>,
    Viewer(_): Viewer,
    shell: Shell,
    Query(q): Query<JobsQuery>,
) -> AppResult<Response> {
    let filter = JobFilter {
        deployment: nonempty(q.deployment),
        user: nonempty(q.user),
        status: nonempty(q.status),
    };
    if let Some(s) = &filter.status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(AppError::invalid(
            "status",
            format!("unknown job status {s:?}: one of {}", STATUSES.join(", ")),
        ));
    }
    for (field, v) in [("deployment", &filter.deployment), ("user", &filter.user)] {
        if v.as_ref().is_some_and(|v| v.len() > 200) {
            return Err(AppError::invalid(field, "too long"));
        }
    }
    let before: Option<Cursor> = nonempty(q.before)
        .map(|b| parse_cursor("before", &b))
        .transpose()?;
    let key: JobsKey = (
        filter.clone(),
        before.as_ref().map(|c| (c.at.clone(), c.id)),
    );
    let jobs = state
        .pages
        .jobs
        .get_or_load(&state.db, key, || {
            load_page(&state, &filter, before.as_ref())
        })
        .await?;
    let more = jobs.len() as i64 > PAGE;
    let jobs = &jobs[..jobs.len().min(PAGE as usize)];

    let mut base = String::from("/jobs?");
    for (k, v) in [
        ("deployment", &filter.deployment),
        ("user", &filter.user),
        ("status", &filter.status),
    ] {
        if let Some(v) = v {
            base.push_str(&format!("{k}={}&", urlencode(v)));
        }
    }
    let older = match jobs.last() {
        Some(last) if more => Some(format!(
            "{base}before={}",
            urlencode(&cursor_text(&Cursor {
                at: last.created_at.clone(),
                id: last.id,
            }))
        )),
        _ => None,
    };
    let first = base.trim_end_matches(['&', '?']).to_string();
    render(
        StatusCode::OK,
        &JobsPage {
            shell,
            jobs,
            statuses: STATUSES,
            deployment: filter.deployment.unwrap_or_default(),
            user: filter.user.unwrap_or_default(),
            status: filter.status.unwrap_or_default(),
            older,
            paged: before.is_some(),
            first,
        },
    )
}

/// Log lines shown on the job page (the newest ones).
const LOG_LINES: i64 = 1000;

/// HTTP 286: htmx 2 stops polling when it gets this (and still swaps the content in).
const STOP_POLLING: u16 = 286;

pub struct StepView {
    pub step: StepSummary,
    /// `1.2 s`, or empty before the step finished.
    pub duration: String,
}

/// Everything the job page's live part shows.
pub struct Progress {
    pub job: JobSummary,
    pub deployment_id: Option<i64>,
    pub steps: Vec<StepView>,
    pub counts: String,
    pub log: Vec<LogEntry>,
    pub log_cut: bool,
    pub duration: String,
}

impl Progress {
    pub fn is_over(&self) -> bool {
        matches!(
            self.job.status.as_str(),
            "succeeded" | "failed" | "cancelled"
        )
    }
}

fn parse_time(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// `0.4 s`, `12 s`, `3 min 5 s` between two stored timestamps; empty when one is missing.
pub fn duration(start: Option<&str>, end: Option<&str>) -> String {
    let (Some(a), Some(b)) = (start.and_then(parse_time), end.and_then(parse_time)) else {
        return String::new();
    };
    let secs = (b - a).as_seconds_f64().max(0.0);
    if secs < 10.0 {
        format!("{secs:.1} s")
    } else if secs < 60.0 {
        format!("{secs:.0} s")
    } else {
        let s = secs.round() as u64;
        format!("{} min {} s", s / 60, s % 60)
    }
}

async fn progress(state: &AppState, id: i64) -> AppResult<Progress> {
    let job = crate::db::job_summaries::job(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let steps = crate::db::job_summaries::job_steps(&state.db, id).await?;
    let (log, log_cut) = crate::db::job_summaries::job_log_tail(&state.db, id, LOG_LINES).await?;
    // Only while the deployment exists: a deleted one has no page to link to.
    let deployment_id = job
        .deployment_name
        .is_some()
        .then(|| job.deployment.parse::<i64>().ok())
        .flatten();
    let done = steps.iter().filter(|s| s.status == "succeeded").count();
    let failed = steps.iter().filter(|s| s.status == "failed").count();
    let counts = format!(
        "{done} of {} steps done{}",
        steps.len(),
        if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        }
    );
    Ok(Progress {
        duration: duration(
            job.started_at.as_deref().or(Some(job.created_at.as_str())),
            job.finished_at.as_deref(),
        ),
        steps: steps
            .into_iter()
            .map(|s| StepView {
                duration: duration(s.started_at.as_deref(), s.finished_at.as_deref()),
                step: s,
            })
            .collect(),
        job,
        deployment_id,
        counts,
        log,
        log_cut,
    })
}

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    shell: Shell,
    p: Progress,
}

#[derive(Template)]
#[template(path = "job_progress_partial.html")]
struct JobProgressPartial {
    p: Progress,
}

async fn job_page(
    State(state): State<AppState>,
    Viewer(_): Viewer,
    shell: Shell,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let p = progress(&state, id).await?;
    render(StatusCode::OK, &JobPage { shell, p })
}

/// The live part of the job page, polled every second while the job runs; answers 286 once the
/// job is over so the browser stops asking.
async fn job_progress(
    State(state): State<AppState>,
    Viewer(_): Viewer,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let p = progress(&state, id).await?;
    let status = if p.is_over() {
        StatusCode::from_u16(STOP_POLLING).unwrap_or(StatusCode::OK)
    } else {
        StatusCode::OK
    };
    render(status, &JobProgressPartial { p })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        let d = |a: &str, b: &str| duration(Some(a), Some(b));
        assert_eq!(
            d("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.400Z"),
            "0.4 s"
        );
        assert_eq!(d("2026-01-01T00:00:00Z", "2026-01-01T00:00:12Z"), "12 s");
        assert_eq!(
            d("2026-01-01T00:00:00Z", "2026-01-01T00:03:05Z"),
            "3 min 5 s"
        );
        assert_eq!(duration(Some("2026-01-01T00:00:00Z"), None), "");
        assert_eq!(duration(Some("garbage"), Some("2026-01-01T00:00:00Z")), "");
    }
}
