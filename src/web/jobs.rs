//! The team's job history (`/jobs`): every apply and destroy, newest first, filtered by
//! deployment, user and status, paged by key (`?before=CREATED_AT,ID`, never OFFSET) so a page
//! deep in a million jobs costs what the first one costs.

use super::audit::{cursor_text, parse_cursor};
use super::{Routes, Shell, render, urlencode};
use crate::AppState;
use crate::auth::{Access, Editor, Viewer};
use crate::db::audit::Cursor;
use crate::db::job_summaries::{JobFilter, JobSummary, LogEntry, StepSummary};
use crate::error::{AppError, AppResult, Path, Query};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub fn routes(r: Routes) -> Routes {
    r.get("/jobs", Access::Viewer, jobs_page)
        .get("/jobs/{id}", Access::Viewer, job_page)
        .get("/jobs/{id}/progress", Access::Viewer, job_progress)
        .post("/jobs/{id}/cancel", Access::Editor, cancel_job)
        .post("/jobs/{id}/resume", Access::Editor, resume_job)
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
    /// `waiting: rate limited by Google, retry in 40 s` while the step waits to retry a call.
    pub waiting: Option<String>,
}

/// Everything the job page's live part shows.
pub struct Progress {
    pub job: JobSummary,
    pub deployment_id: Option<i64>,
    pub steps: Vec<StepView>,
    pub counts: String,
    /// The first waiting step's note, shown beside the job's status.
    pub waiting: Option<String>,
    pub log: Vec<LogEntry>,
    pub log_cut: bool,
    pub duration: String,
    /// The viewer may cancel and resume (the buttons are shown).
    pub can_edit: bool,
    pub cancel_requested: bool,
    /// For a failed or cancelled job: where it left the cloud.
    pub outcome: Option<Outcome>,
    /// For a gated rollout that stopped: whether the stage it stopped in put the applied
    /// weights back (a breach or an abort during the hold does; a failed call does not).
    pub rolled_back: Option<bool>,
    /// For an apply whose image canary stopped it: the canary region, where the previous
    /// revision is back.
    pub canary_back: Option<String>,
}

impl Progress {
    pub fn is_over(&self) -> bool {
        matches!(
            self.job.status.as_str(),
            "succeeded" | "failed" | "cancelled"
        )
    }

    /// A gated rollout's stage is holding: it can be promoted (or aborted by cancelling).
    pub fn holding(&self) -> bool {
        self.steps
            .iter()
            .any(|s| s.step.action == "soak" && s.step.status == "running")
    }

    pub fn is_destroy(&self) -> bool {
        self.job.kind == "destroy"
    }
}

/// Where a job that stopped short left the cloud, step by step, in words.
pub struct Outcome {
    /// What the succeeded steps did: that much is in the cloud now.
    pub done: Vec<String>,
    /// What each failed step tried, and why it failed.
    pub failed: Vec<(String, String)>,
    /// What was never done (skipped after the failure or the cancel).
    pub not_run: Vec<String>,
    /// The wizard step where the first failed step's resource is described: where a fix of
    /// the draft most likely goes.
    pub fix_step: &'static str,
}

/// The wizard step that edits what `resource` is made from.
fn wizard_step(resource: &str) -> &'static str {
    let mut parts = resource.rsplit('/');
    let name = parts.next().unwrap_or_default();
    match parts.next().unwrap_or_default() {
        "services" => "services",
        "urlMaps" if !name.ends_with("-redirect") => "routing",
        "backendServices" | "networkEndpointGroups" => "backends",
        "urlMaps" | "sslCertificates" | "addresses" | "targetHttpsProxies"
        | "targetHttpProxies" | "forwardingRules" => "frontend",
        _ => "review",
    }
}

/// A resource path in words: `projects/p/global/addresses/shop-ip` → `the IP address shop-ip`.
pub fn resource_words(resource: &str) -> String {
    let parts: Vec<&str> = resource.split('/').collect();
    let (Some(name), Some(collection)) = (parts.last(), parts.iter().rev().nth(1)) else {
        return resource.to_string();
    };
    let region = parts
        .iter()
        .position(|p| *p == "regions" || *p == "locations")
        .and_then(|i| parts.get(i + 1));
    match (*collection, region) {
        ("addresses", _) => format!("the IP address {name}"),
        ("sslCertificates", _) => format!("the managed certificate {name}"),
        ("urlMaps", _) if name.ends_with("-redirect") => {
            format!("the HTTP-to-HTTPS redirect {name}")
        }
        ("urlMaps", _) => format!("the URL map {name}"),
        ("targetHttpsProxies", _) => format!("the HTTPS proxy {name}"),
        ("targetHttpProxies", _) => format!("the HTTP proxy {name}"),
        ("forwardingRules", _) => format!("the forwarding rule {name}"),
        ("backendServices", _) => format!("the backend service {name}"),
        ("networkEndpointGroups", Some(r)) => format!("the serverless NEG {name} in {r}"),
        ("networkEndpointGroups", None) => format!("the internet NEG {name}"),
        ("services", Some(r)) => format!("the Cloud Run service {name} in {r}"),
        _ => resource.to_string(),
    }
}

/// What a step does, as (done, to do): `("Created the IP address shop-ip", "Create the IP
/// address shop-ip")`. Step ids are `{action}:{resource}` with a suffix naming the call for
/// the secondary calls on a resource; a suffix not known here is still shown, never dropped.
pub fn step_words(action: &str, step_id: &str, resource: &str) -> (String, String) {
    let what = resource_words(resource);
    let call = step_id
        .strip_prefix(&format!("{action}:{resource}"))
        .and_then(|rest| rest.strip_prefix(':'))
        .unwrap_or_default();
    let run = resource.contains("/services/");
    let (done, todo) = match (action, call) {
        ("create", "") if run => (format!("Deployed {what}"), format!("Deploy {what}")),
        ("update", "") if run => (
            format!("Deployed a new revision of {what}"),
            format!("Deploy a new revision of {what}"),
        ),
        ("create", "") => (format!("Created {what}"), format!("Create {what}")),
        ("update", "") => (format!("Updated {what}"), format!("Update {what}")),
        ("delete", "") => (format!("Deleted {what}"), format!("Delete {what}")),
        (_, "setIamPolicy") => (
            format!("Set who may invoke {what}"),
            format!("Set who may invoke {what}"),
        ),
        (_, "attachNetworkEndpoints") => (
            format!("Attached the endpoint to {what}"),
            format!("Attach the endpoint to {what}"),
        ),
        ("soak", "canary") => (
            format!("Held the new revision of {what} and passed the gate"),
            format!(
                "Hold the new revision of {what}, check the limits, then deploy the other regions"
            ),
        ),
        ("soak", pct) => (
            format!("Moved {pct}% of the way to the draft's weights and passed the gate"),
            format!("Move {pct}% of the way to the draft's weights, hold and check the limits"),
        ),
        (_, "setUrlMap") => (
            format!("Pointed {what} at its URL map"),
            format!("Point {what} at its URL map"),
        ),
        (_, "setSslCertificates") => (
            format!("Put the new certificate on {what}"),
            format!("Put the new certificate on {what}"),
        ),
        (_, "setTarget") => (
            format!("Pointed {what} at its proxy"),
            format!("Point {what} at its proxy"),
        ),
        (_, "detach") => (
            format!("Took the NEGs being replaced off {what}"),
            format!("Take the NEGs being replaced off {what}"),
        ),
        (_, other) => (
            format!("Changed {what} ({other})"),
            format!("Change {what} ({other})"),
        ),
    };
    (done, todo)
}

pub fn outcome(steps: &[StepSummary]) -> Outcome {
    let mut o = Outcome {
        done: Vec::new(),
        failed: Vec::new(),
        not_run: Vec::new(),
        fix_step: steps
            .iter()
            .find(|s| s.status == "failed")
            .map(|s| wizard_step(&s.resource))
            .unwrap_or("review"),
    };
    for s in steps {
        let (done, todo) = step_words(&s.action, &s.step_id, &s.resource);
        match s.status.as_str() {
            "succeeded" => o.done.push(done),
            "failed" => o.failed.push((
                todo,
                s.error
                    .clone()
                    .unwrap_or_else(|| "no reason recorded".into()),
            )),
            // A step left `running` was cut off (a crash or a panicking executor): whether its
            // call took effect is unknown, and resuming sends it again with the same requestId.
            "running" => o.failed.push((
                todo,
                "interrupted before its result was recorded; resuming sends it again".into(),
            )),
            _ => o.not_run.push(todo),
        }
    }
    o
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

async fn progress(state: &AppState, id: i64, can_edit: bool) -> AppResult<Progress> {
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
    let cancel_requested = crate::db::job_summaries::cancel_requested(&state.db, id).await?;
    let waits = crate::db::jobs::step_waits(&state.db, id).await?;
    let wait_of = |idx: i64| {
        waits
            .iter()
            .find(|w| w.idx == idx)
            .map(crate::jobs::wait_words)
    };
    let outcome = matches!(job.status.as_str(), "failed" | "cancelled").then(|| outcome(&steps));
    // An image canary's soak is on the canary region's Cloud Run service:
    // `projects/P/locations/REGION/services/S`.
    let canary = |s: &crate::db::job_summaries::StepSummary| {
        s.action == "soak" && s.step_id.ends_with(":canary")
    };
    let canary_back = steps
        .iter()
        .filter(|s| canary(s))
        .find(|s| {
            s.error
                .as_deref()
                .is_some_and(|e| e.contains(crate::jobs::rollout::CANARY_BACK))
                || log.iter().any(|l| {
                    l.step.as_deref() == Some(s.step_id.as_str())
                        && l.message.contains(crate::jobs::rollout::CANARY_BACK)
                })
        })
        .and_then(|s| s.resource.split('/').nth(3).map(str::to_string));
    let weights = steps.iter().any(|s| s.action == "soak" && !canary(s));
    let rolled_back = (outcome.is_some() && weights).then(|| {
        steps.iter().any(|s| {
            s.error
                .as_deref()
                .is_some_and(|e| e.contains(crate::jobs::rollout::BREACH_BACK))
        }) || log
            .iter()
            .any(|l| l.message.contains(crate::jobs::rollout::ABORTED_BACK))
    });
    Ok(Progress {
        duration: duration(
            job.started_at.as_deref().or(Some(job.created_at.as_str())),
            job.finished_at.as_deref(),
        ),
        waiting: waits.first().map(crate::jobs::wait_words),
        steps: steps
            .into_iter()
            .map(|s| StepView {
                duration: duration(s.started_at.as_deref(), s.finished_at.as_deref()),
                waiting: wait_of(s.idx),
                step: s,
            })
            .collect(),
        job,
        deployment_id,
        counts,
        log,
        log_cut,
        can_edit,
        cancel_requested,
        outcome,
        rolled_back,
        canary_back,
    })
}

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    shell: Shell,
    p: Progress,
    /// A gated rollout that failed its gate: the chart of the breach.
    breach: Option<super::rollout::BreachChart>,
}

/// The live part alone; once the job is over it brings the breach chart along, so a person
/// watching a rollout fail sees why without reloading.
#[derive(Template)]
#[template(path = "job_progress_partial.html")]
struct JobProgressPartial {
    p: Progress,
    breach: Option<super::rollout::BreachChart>,
}

async fn breach_of(state: &AppState, id: i64) -> AppResult<Option<super::rollout::BreachChart>> {
    let steps = crate::db::jobs::job_steps(&state.db, id)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    super::rollout::breach_chart(state, &steps).await
}

async fn job_page(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    shell: Shell,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let p = progress(&state, id, user.can_edit()).await?;
    let breach = breach_of(&state, id).await?;
    render(StatusCode::OK, &JobPage { shell, p, breach })
}

/// The live part of the job page, polled every second while the job runs; answers 286 once the
/// job is over so the browser stops asking.
async fn job_progress(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let p = progress(&state, id, user.can_edit()).await?;
    let (status, breach) = if p.is_over() {
        (
            StatusCode::from_u16(STOP_POLLING).unwrap_or(StatusCode::OK),
            breach_of(&state, id).await?,
        )
    } else {
        (StatusCode::OK, None)
    };
    render(status, &JobProgressPartial { p, breach })
}

/// The Cancel button: no new step starts, the steps in flight finish. Back to the job page,
/// which shows the cancel as asked for until the job stops.
async fn cancel_job(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    state.deployer.runner().cancel(id).await?;
    crate::audit::record_job(&state.db, &user.name, crate::audit::Action::JobCancel, id).await;
    Ok(Redirect::to(&format!("/jobs/{id}")).into_response())
}

/// The Resume button, through the same deploy service as the API: an apply's Cloud Run deploys
/// that had not succeeded take the draft's current settings, so a fixed image is picked up.
async fn resume_job(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    state.deployer.resume(id).await?;
    crate::audit::record_job(&state.db, &user.name, crate::audit::Action::JobResume, id).await;
    Ok(Redirect::to(&format!("/jobs/{id}")).into_response())
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

    fn step(idx: i64, step_id: &str, status: &str, error: Option<&str>) -> StepSummary {
        let (action, rest) = step_id.split_once(':').unwrap();
        let resource = rest.split(':').next().unwrap();
        StepSummary {
            idx,
            step_id: step_id.into(),
            action: action.into(),
            resource: resource.into(),
            status: status.into(),
            operation: None,
            started_at: None,
            finished_at: None,
            error: error.map(str::to_string),
            progress: None,
        }
    }

    #[test]
    fn a_failed_canary_says_what_it_left_in_the_cloud() {
        let steps = [
            step(
                0,
                "create:projects/p/global/addresses/shop-ip",
                "succeeded",
                None,
            ),
            step(
                1,
                "create:projects/p/global/sslCertificates/shop-cert-1a2b",
                "succeeded",
                None,
            ),
            step(
                2,
                "create:projects/p/global/urlMaps/shop-redirect",
                "succeeded",
                None,
            ),
            step(
                3,
                "create:projects/p/locations/us-central1/services/app",
                "failed",
                Some("revision app-001 failed to start"),
            ),
            step(
                4,
                "update:projects/p/locations/us-central1/services/app:setIamPolicy",
                "skipped",
                None,
            ),
            step(
                5,
                "create:projects/p/regions/us-central1/networkEndpointGroups/shop-web-us-central1-ab12cd",
                "skipped",
                None,
            ),
            step(
                6,
                "update:projects/p/global/targetHttpsProxies/shop-https-proxy:setSslCertificates",
                "pending",
                None,
            ),
        ];
        let o = outcome(&steps);
        assert_eq!(o.fix_step, "services", "the image is on the services step");
        assert_eq!(
            o.done,
            [
                "Created the IP address shop-ip",
                "Created the managed certificate shop-cert-1a2b",
                "Created the HTTP-to-HTTPS redirect shop-redirect",
            ]
        );
        assert_eq!(
            o.failed,
            [(
                "Deploy the Cloud Run service app in us-central1".to_string(),
                "revision app-001 failed to start".to_string()
            )]
        );
        assert_eq!(
            o.not_run,
            [
                "Set who may invoke the Cloud Run service app in us-central1",
                "Create the serverless NEG shop-web-us-central1-ab12cd in us-central1",
                "Put the new certificate on the HTTPS proxy shop-https-proxy",
            ]
        );
    }

    #[test]
    fn unknown_calls_and_paths_are_still_shown() {
        let (done, todo) = step_words(
            "update",
            "update:projects/p/global/urlMaps/shop-urlmap:invalidateCache",
            "projects/p/global/urlMaps/shop-urlmap",
        );
        assert_eq!(done, "Changed the URL map shop-urlmap (invalidateCache)");
        assert_eq!(todo, "Change the URL map shop-urlmap (invalidateCache)");
        assert_eq!(resource_words("weird"), "weird");
        assert_eq!(
            resource_words("projects/p/global/networkEndpointGroups/shop-ineg-1"),
            "the internet NEG shop-ineg-1"
        );
        let (done, _) = step_words(
            "delete",
            "delete:projects/p/global/forwardingRules/shop-https-fr",
            "projects/p/global/forwardingRules/shop-https-fr",
        );
        assert_eq!(done, "Deleted the forwarding rule shop-https-fr");
    }
}
