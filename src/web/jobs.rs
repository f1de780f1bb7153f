//! The team's job history (`/jobs`): every apply and destroy, newest first, filtered by
//! deployment, user and status, paged by key (`?before=CREATED_AT,ID`, never OFFSET) so a page
//! deep in a million jobs costs what the first one costs.

use super::audit::{cursor_text, parse_cursor};
use super::{Routes, Shell, render, urlencode};
use crate::AppState;
use crate::auth::{Access, Viewer};
use crate::db::audit::Cursor;
use crate::db::dash::{JobFilter, JobSummary};
use crate::error::{AppError, AppResult, Query};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

pub fn routes(r: Routes) -> Routes {
    r.get("/jobs", Access::Viewer, jobs_page)
}

/// Jobs per page.
const PAGE: i64 = 50;

/// CONTRACT.md §3's job statuses.
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

#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsPage {
    shell: Shell,
    jobs: Vec<JobSummary>,
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
    let mut jobs =
        crate::db::dash::jobs_page(&state.db, &filter, before.as_ref(), PAGE + 1).await?;
    let more = jobs.len() as i64 > PAGE;
    jobs.truncate(PAGE as usize);

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
