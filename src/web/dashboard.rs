//! The dashboard (`/`): every deployment with its state, IP, domains with their certificate
//! status, last job and drift, paged by name. Rows of deployments with a job in progress poll
//! `/dashboard/rows/{id}` every second and stop once the job is over. With no deployments yet it
//! welcomes the user and shows how to get started.
//!
//! What a page reads is the same for every viewer and kept until something on it changes
//! ([`super::page_cache`]); only the greeting and the links a role may follow are per request.

use super::state::{DeploymentState, SpecFacts, deployment_state};
use super::{Routes, Shell, render, urlencode};
use crate::AppState;
use crate::auth::{Access, Viewer};
use crate::db::dashboard::DashboardRow;
use crate::domain::certificates::{self, Explanation};
use crate::error::{AppError, AppResult, Path, Query};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

pub fn routes(r: Routes) -> Routes {
    r.get("/", Access::Viewer, dashboard)
        .get("/dashboard/rows/{id}", Access::Viewer, dashboard_row)
}

/// Deployments per page.
const PAGE: i64 = 50;

/// One domain of a row, with its certificate status when the deployment is live.
pub struct DomainCell {
    pub domain: String,
    pub cert: Option<Explanation>,
}

pub struct JobCell {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub by: String,
    pub at: String,
}

/// A dashboard row, ready to render.
pub struct Row {
    pub id: i64,
    pub name: String,
    pub state: DeploymentState,
    pub version: i64,
    /// When the deployed spec was applied.
    pub applied_at: Option<String>,
    /// Destroyed since its last apply.
    pub destroyed: bool,
    pub ip: Option<String>,
    pub https: bool,
    pub domains: Vec<DomainCell>,
    pub job: Option<JobCell>,
    /// The newest drift check found differences.
    pub drifted: bool,
    pub drift_at: Option<String>,
}

/// The rows of `raw`, with what each derives from its specs: remembered, or read and derived
/// for the rows seen for the first time at their version.
async fn ready_rows(state: &AppState, raw: Vec<DashboardRow>) -> AppResult<Vec<Row>> {
    let key = |r: &DashboardRow| (r.id, r.version, r.applied_job);
    let mut known: HashMap<i64, Arc<SpecFacts>> = HashMap::new();
    let mut missing = Vec::new();
    for r in &raw {
        match state.spec_facts.get(&key(r)) {
            Some(f) => {
                known.insert(r.id, f);
            }
            None => missing.push((r.id, r.applied_job)),
        }
    }
    if !missing.is_empty() {
        for s in crate::db::dashboard::row_specs(&state.db, &missing).await? {
            let facts = Arc::new(SpecFacts::derive(&s.spec, s.applied_spec.as_deref()));
            state
                .spec_facts
                .insert((s.id, s.version, s.applied_job), facts.clone());
            // Kept for this page even if the draft was saved again since the row was read.
            known.insert(s.id, facts);
        }
    }
    Ok(raw
        .into_iter()
        .filter_map(|r| {
            // A deployment deleted between the two reads has no specs left: it is left out.
            let facts = known.get(&r.id)?.clone();
            Some(row(r, &facts))
        })
        .collect())
}

pub fn row(r: DashboardRow, facts: &SpecFacts) -> Row {
    let last_job = r.job_kind.as_deref().zip(r.job_status.as_deref());
    let state = deployment_state(facts.same_as_applied, last_job);
    let https = facts.https;
    let domains = facts.domains.clone();
    let live_domains: serde_json::Map<String, serde_json::Value> = r
        .domain_status
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    let has_cert = https && (r.cert_status.is_some() || !live_domains.is_empty());
    let domains = domains
        .into_iter()
        .map(|d| {
            let status = live_domains
                .iter()
                .find(|(k, _)| {
                    k.trim_end_matches('.')
                        .eq_ignore_ascii_case(d.trim_end_matches('.'))
                })
                .and_then(|(_, v)| v.as_str());
            DomainCell {
                cert: has_cert.then(|| certificates::domain_status(&d, status, r.ip.as_deref())),
                domain: d,
            }
        })
        .collect();
    let job = match (r.job_id, r.job_kind, r.job_status, r.job_by, r.job_at) {
        (Some(id), Some(kind), Some(status), Some(by), Some(at)) => Some(JobCell {
            id,
            kind,
            status,
            by,
            at: r.job_finished_at.unwrap_or(at),
        }),
        _ => None,
    };
    Row {
        id: r.id,
        name: r.name,
        state,
        version: r.version,
        applied_at: r.applied_at,
        destroyed: r.destroyed,
        ip: r.ip,
        https,
        domains,
        job,
        drifted: r.drift.as_deref() == Some("drifted"),
        drift_at: r.drift_at,
    }
}

/// What a dashboard page reads from the database, the same for every viewer.
pub struct DashboardData {
    pub rows: Vec<Row>,
    pub counts: crate::db::dashboard::DashboardCounts,
    /// The next page's link.
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    shell: Shell,
    user_name: String,
    role: String,
    can_edit: bool,
    is_admin: bool,
    compute_endpoint: String,
    run_endpoint: String,
    data: Arc<DashboardData>,
    /// The page starts after this name (not the first page).
    paged: bool,
}

#[derive(Template)]
#[template(path = "dashboard_row_partial.html")]
struct RowPartial {
    r: Row,
}

#[derive(Debug, Default, Deserialize)]
struct DashboardQuery {
    after: Option<String>,
}

async fn dashboard(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    shell: Shell,
    Query(q): Query<DashboardQuery>,
) -> AppResult<Response> {
    let after = q.after.filter(|a| !a.is_empty());
    if after.as_ref().is_some_and(|a| a.len() > 200) {
        return Err(AppError::invalid("after", "not a deployment name"));
    }
    let data = state
        .pages
        .dashboard
        .get_or_load(&state.db, after.clone(), || {
            load_page(&state, after.as_deref())
        })
        .await?;
    render(
        StatusCode::OK,
        &Dashboard {
            shell,
            user_name: user.name.clone(),
            role: user.role.to_string(),
            can_edit: user.can_edit(),
            is_admin: user.is_admin(),
            compute_endpoint: state.settings.compute_endpoint.clone(),
            run_endpoint: state.settings.run_endpoint.clone(),
            data,
            paged: after.is_some(),
        },
    )
}

async fn load_page(state: &AppState, after: Option<&str>) -> AppResult<DashboardData> {
    let mut rows = crate::db::dashboard::dashboard_page(&state.db, after, PAGE + 1).await?;
    let next = if rows.len() as i64 > PAGE {
        rows.truncate(PAGE as usize);
        rows.last()
            .map(|r| format!("/?after={}", urlencode(&r.name)))
    } else {
        None
    };
    Ok(DashboardData {
        rows: ready_rows(state, rows).await?,
        counts: crate::db::dashboard::dashboard_counts(&state.db).await?,
        next,
    })
}

/// One row, for the live update of a deployment with a job in progress.
async fn dashboard_row(
    State(state): State<AppState>,
    Viewer(_): Viewer,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let r = crate::db::dashboard::dashboard_row(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let r = ready_rows(&state, vec![r])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    render(StatusCode::OK, &RowPartial { r })
}
