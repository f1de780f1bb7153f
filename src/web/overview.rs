//! The deployment overview (`/deployments/{id}/overview`): the spec in words, the topology
//! diagram, the route tester, DNS records and certificate status. The deployment page includes
//! it with htmx; a direct visit gets it as a page of its own.
//!
//! It shows the last applied spec when there is one (that is what serves traffic), else the
//! draft; `?view=draft` shows the draft.

use super::{Routes, Shell, render};
use crate::AppState;
use crate::auth::{Access, CurrentUser, Viewer};
use crate::db::deployments::DeploymentRow;
use crate::db::live_facts::LiveRow;
use crate::domain::certificates::{self, AuthorizationRecord, DnsRecord, Explanation};
use crate::domain::plan::ResourceKind;
use crate::domain::preview::{self, PreviewRow};
use crate::domain::spec::{BackendKind, Endpoint, Protocol, Spec};
use crate::domain::{chain, describe, parse, topology};
use crate::error::{AppError, AppResult, Path, Query};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

pub fn routes(r: Routes) -> Routes {
    r.get("/deployments/{id}/overview", Access::Viewer, overview)
        .get("/deployments/{id}/route-test", Access::Viewer, route_test)
        .post("/deployments/{id}/drift", Access::Editor, check_drift)
        .get("/deployments/{id}/certificate", Access::Viewer, certificate)
}

/// How often the certificate section asks again while the certificate provisions.
pub const CERT_POLL_SECS: u64 = 5;

/// The certificate is read from the cloud at most this often for the polling sections, a
/// little under the poll interval so a single open page gets a fresh read on every poll.
const CERT_READ_EVERY: std::time::Duration = std::time::Duration::from_secs(CERT_POLL_SECS - 1);

/// HTTP 286: htmx 2 stops polling when it gets this (and still swaps the content in).
const STOP_POLLING: u16 = 286;

/// The event a live read sends (`HX-Trigger`): the certificate section reloads on it.
const LIVE_READ_EVENT: &str = "live-read";

/// The certificate section: the managed certificate's status and each domain's.
pub struct CertView {
    pub id: i64,
    /// The shown spec serves HTTPS (otherwise there is no section).
    pub https: bool,
    pub name: Option<String>,
    pub status: Option<Explanation>,
    pub domains: Vec<DomainCert>,
    pub checked_at: Option<String>,
    /// Google is still provisioning: the section asks again every few seconds.
    pub polling: bool,
    /// Editors get "Check now" once there is something applied to read.
    pub can_check: bool,
    pub view_draft: bool,
}

impl CertView {
    fn new(
        id: i64,
        spec: Option<&Spec>,
        live: Option<&LiveRow>,
        can_check: bool,
        view_draft: bool,
    ) -> CertView {
        let mut c = CertView {
            id,
            // Certificate Manager's certificates are reported with their CNAME records, in
            // the DNS section; this one is about the classic managed certificate.
            https: spec.is_some_and(|s| {
                s.frontend.protocol == Protocol::Https && s.frontend.certificate.is_managed()
            }),
            name: live.and_then(|l| l.certificate.clone()),
            status: None,
            domains: Vec::new(),
            checked_at: live.map(|l| l.checked_at.clone()),
            polling: false,
            can_check,
            view_draft,
        };
        // Before the first apply there is no certificate to report on.
        if let (Some(spec), Some(l)) = (spec, live.filter(|l| l.certificate.is_some()))
            && c.https
        {
            let ip = l.ip.as_deref();
            let status = certificates::certificate_status(l.cert_status.as_deref());
            c.polling = status.health == certificates::Health::Pending;
            c.status = Some(status);
            c.domains = spec
                .frontend
                .domains
                .iter()
                .map(|dom| DomainCert {
                    explanation: certificates::domain_status(dom, l.domain(dom).as_deref(), ip),
                    domain: dom.clone(),
                })
                .collect();
        }
        c
    }

    /// The section's own URL, keeping the view it was shown in.
    pub fn url(&self) -> String {
        format!(
            "/deployments/{}/certificate{}",
            self.id,
            if self.view_draft { "?view=draft" } else { "" }
        )
    }

    /// When the section reloads: on every live read of the page, and every few seconds while
    /// Google provisions.
    pub fn trigger(&self) -> String {
        let on_read = format!("{LIVE_READ_EVENT} from:body");
        if self.polling {
            format!("every {CERT_POLL_SECS}s, {on_read}")
        } else {
            on_read
        }
    }
}

#[derive(Template)]
#[template(path = "certificate_partial.html")]
struct CertificatePartial {
    cert: CertView,
}

/// The certificate section alone, polled while the certificate provisions. Each poll reads the
/// certificate from the cloud (at most once an interval per deployment, however many pages
/// poll) and answers 286 once the status is final, which stops the polling.
async fn certificate(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<i64>,
    Query(q): Query<ViewQuery>,
) -> AppResult<Response> {
    let d = crate::db::deployments::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let applied = applied(&state.db, id).await?;
    let spec = chosen_spec(&d, applied.as_ref(), q.view).0.ok();
    let mut live = crate::db::live_facts::live(&state.db, id).await?;
    let view_draft = q.view == View::Draft;
    let can_check = user.can_edit() && applied.is_some();
    let before = CertView::new(id, spec.as_ref(), live.as_ref(), can_check, view_draft);
    if before.polling && state.pages.certificate_reads.due(id, CERT_READ_EVERY) {
        crate::drift::read_certificate(&state.db, state.deployer.reader().as_ref(), id).await?;
        live = crate::db::live_facts::live(&state.db, id).await?;
    }
    let cert = CertView::new(id, spec.as_ref(), live.as_ref(), can_check, view_draft);
    let status = if cert.polling {
        StatusCode::OK
    } else {
        StatusCode::from_u16(STOP_POLLING).unwrap_or(StatusCode::OK)
    };
    render(status, &CertificatePartial { cert })
}

/// The drift section: the newest check and its differences.
pub struct DriftView {
    pub id: i64,
    /// The deployment has been applied (there is something to compare).
    pub applied: bool,
    pub can_check: bool,
    /// Seconds between periodic checks; 0 when they are off.
    pub interval: u64,
    pub last: Option<crate::db::drift_checks::DriftRow>,
    pub differences: Vec<DiffView>,
}

pub struct DiffView {
    pub resource: String,
    pub summary: &'static str,
    pub reason: Option<String>,
    /// (field, as applied, live), values as compact JSON.
    pub fields: Vec<(String, String, String)>,
}

fn compact(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "(absent)".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The drift section for `user`: Check now for editors, and a viewer's differences with the
/// environment values hidden (a Cloud Run `env` difference has them as applied and as live).
pub async fn drift_view(
    state: &AppState,
    d: &DeploymentRow,
    applied: bool,
    user: &CurrentUser,
) -> AppResult<DriftView> {
    let can_check = user.can_edit();
    let env = user.env_values();
    let last = crate::db::drift_checks::latest_drift(&state.db, d.id).await?;
    let differences = last
        .as_ref()
        .map(|l| {
            serde_json::from_str::<Vec<crate::drift::Difference>>(&l.differences)
                .unwrap_or_default()
        })
        .unwrap_or_default()
        .into_iter()
        .map(|x| DiffView {
            summary: x.summary(),
            fields: x
                .fields
                .iter()
                .map(|f| {
                    let (mut expected, mut live) = (f.expected.clone(), f.live.clone());
                    env.change(&f.field, &mut expected);
                    env.change(&f.field, &mut live);
                    (f.field.clone(), compact(&expected), compact(&live))
                })
                .collect(),
            resource: x.resource,
            reason: x.reason,
        })
        .collect();
    Ok(DriftView {
        id: d.id,
        applied,
        can_check,
        interval: state.settings.drift_interval,
        last,
        differences,
    })
}

#[derive(Template)]
#[template(path = "drift_partial.html")]
struct DriftPartial {
    drift: DriftView,
}

#[derive(Debug, Default, Deserialize)]
struct DriftQuery {
    /// The section the button was in, where a page without JS returns to.
    then: Option<String>,
}

/// "Check now" (in the drift and the certificate sections): compares the live resources with
/// the last apply and shows the result. The read also refreshes the IP and certificate status,
/// so the htmx answer tells the page (`HX-Trigger`) and the certificate section reloads.
async fn check_drift(
    State(state): State<AppState>,
    crate::auth::Editor(user): crate::auth::Editor,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<DriftQuery>,
) -> AppResult<Response> {
    let reader = state.deployer.reader();
    match crate::drift::check(&state.db, reader.as_ref(), id, &user.name).await {
        Ok(_) => {}
        Err(crate::drift::CheckError::NotFound) => return Err(AppError::NotFound),
        Err(e @ crate::drift::CheckError::NotApplied(_)) => {
            return Err(AppError::Conflict(e.to_string()));
        }
        Err(crate::drift::CheckError::Db(e)) => return Err(e.into()),
    }
    if crate::http::is_htmx(&headers) {
        let d = crate::db::deployments::get(&state.db, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let applied = applied(&state.db, id).await?.is_some();
        let drift = drift_view(&state, &d, applied, &user).await?;
        let mut response = render(StatusCode::OK, &DriftPartial { drift })?;
        response.headers_mut().insert(
            "HX-Trigger",
            axum::http::HeaderValue::from_static(LIVE_READ_EVENT),
        );
        Ok(response)
    } else {
        let section = match q.then.as_deref() {
            Some("certificate") => "certificate",
            _ => "drift",
        };
        Ok(
            axum::response::Redirect::to(&format!("/deployments/{id}/overview#{section}"))
                .into_response(),
        )
    }
}

/// Jobs listed in the overview's history (the jobs page has the rest).
const JOB_HISTORY: i64 = 10;

/// Which spec the overview shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// The applied spec when there is one, else the draft.
    #[default]
    Current,
    Draft,
}

#[derive(Debug, Default, Deserialize)]
struct ViewQuery {
    #[serde(default)]
    view: View,
}

#[derive(Debug, Default, Deserialize)]
struct OverviewQuery {
    #[serde(default)]
    view: View,
    host: Option<String>,
    path: Option<String>,
}

/// The live DNS authorizations and certificates of a Certificate Manager frontend, as CNAME
/// records with each domain's validation. A read that fails shows as not created rather than
/// failing the page: the drift section reports reads that fail.
async fn read_authorizations(state: &AppState, spec: &Spec) -> Vec<AuthorizationRecord> {
    let reader = state.deployer.reader();
    let mut found = std::collections::BTreeMap::new();
    for r in crate::domain::plan::compile(spec).resources {
        if matches!(
            r.kind,
            ResourceKind::DnsAuthorization | ResourceKind::ManagedCertificate
        ) && let Ok(Some(v)) = reader.get(&r.id).await
        {
            found.insert(r.id, v);
        }
    }
    certificates::authorization_records(spec, &|path| found.get(path).cloned())
}

/// One domain's certificate line.
pub struct DomainCert {
    pub domain: String,
    pub explanation: Explanation,
}

/// The answer of the route tester.
pub struct RouteAnswer {
    pub host: String,
    pub path: String,
    pub error: Option<String>,
    pub row: Option<PreviewRow>,
    /// Where a request routed to a chained backend goes next, one hop a deployment.
    pub hops: Vec<HopAnswer>,
}

/// One more load balancer a request passes through: the deployment a chained backend follows,
/// the request as it arrives there and how that deployment routes it.
pub struct HopAnswer {
    /// The backend (of the previous load balancer) that sends the request on.
    pub via: String,
    pub deployment: String,
    /// The deployment's page, when it is in the panel.
    pub href: Option<String>,
    pub host: String,
    pub path: String,
    /// How the deployment routes it; `None` with `note` saying why it cannot be followed.
    pub row: Option<PreviewRow>,
    pub note: Option<String>,
}

/// Most load balancers a route test follows: a chain longer than this (or a loop) stops.
const MAX_HOPS: usize = 4;

/// Follows the route tester's answer through chained backends: for each target that names
/// another deployment, the request as that deployment receives it (Host as the plan sends it,
/// the path after the rewrite) is routed by that deployment's URL map (its applied spec when
/// there is one, else its draft), and so on.
async fn follow_chain(state: &AppState, spec: &Spec, answer: &mut RouteAnswer) -> AppResult<()> {
    let Some(first) = answer.row.clone() else {
        return Ok(());
    };
    let rows = crate::db::deployments::list(&state.db).await?;
    let mut queue = vec![(spec.clone(), first)];
    let mut seen = vec![spec.name.clone()];
    while let Some((from, row)) = queue.pop() {
        for t in &row.targets {
            let Some(b) = from.backend(&t.backend) else {
                continue;
            };
            let (Some(Endpoint::Deployment(name)), BackendKind::Internet { host_header, .. }) =
                (b.kind.endpoint(), &b.kind)
            else {
                continue;
            };
            if answer.hops.len() >= MAX_HOPS {
                return Ok(());
            }
            let back_row = rows.iter().find(|r| r.name == name);
            let mut hop = HopAnswer {
                via: t.backend.clone(),
                deployment: name.to_string(),
                href: back_row.map(|r| format!("/deployments/{}", r.id)),
                host: t.host.clone(),
                path: t.path.clone(),
                row: None,
                note: None,
            };
            let back = match back_row {
                None => Err(format!(
                    "There is no deployment named {name} in this panel."
                )),
                Some(r) => {
                    let applied = applied(&state.db, r.id).await?;
                    chosen_spec(r, applied.as_ref(), View::Current).0
                }
            };
            match back {
                Err(why) => hop.note = Some(why),
                Ok(_) if seen.iter().any(|s| s == name) => {
                    hop.note = Some(format!(
                        "{name} is already on this path: the chain loops, and requests would go round until they time out."
                    ));
                }
                Ok(back) => {
                    hop.host = chain::host_at_back(&t.host, host_header.as_deref(), &back);
                    let next = preview::preview_request(&back, &hop.host, &hop.path);
                    hop.row = Some(next.clone());
                    seen.push(name.to_string());
                    queue.push((back, next));
                }
            }
            answer.hops.push(hop);
        }
    }
    Ok(())
}

/// Everything the overview partial shows.
pub struct Overview {
    pub id: i64,
    pub name: String,
    /// What is shown: `applied version N` or `draft version N`.
    pub showing: String,
    /// Link to the other view, with its label, when both exist and differ.
    pub other_view: Option<(String, &'static str)>,
    /// Why nothing can be drawn (the draft is incomplete), if so.
    pub incomplete: Option<String>,
    pub words: Vec<String>,
    pub svg: String,
    /// The chain this deployment is part of, by box: `→ back-lb` or `front-lb → here`, with
    /// the other deployment's page.
    pub chained: Vec<(String, Option<String>)>,
    pub https: bool,
    /// `destroyed 5 minutes ago by ann (2026-11-23 11:58 UTC)` when the last succeeded job is
    /// a destroy.
    pub destroyed: Option<String>,
    pub ip: Option<String>,
    /// With `frontend.ipv6`: the IPv6 address (`None` inside before the first apply has one).
    pub ipv6: Option<Option<String>>,
    /// A job holding until a new certificate is ACTIVE: (job id, certificate, progress).
    pub certificate_change: Option<(i64, String, Option<String>)>,
    pub dns: Vec<DnsRecord>,
    /// With Certificate Manager: the CNAME record each domain's authorization needs.
    pub authorizations: Vec<AuthorizationRecord>,
    pub cert: CertView,
    pub sample_host: String,
    pub tester: Option<RouteAnswer>,
    /// `?view=draft` was asked for (kept by the route tester's form).
    pub view_draft: bool,
    pub drift: DriftView,
    /// Where an adopted deployment came from, and what of it the spec leaves alone.
    pub adoption: Option<crate::db::adoptions::AdoptionRow>,
    pub not_managed: Vec<crate::db::adoptions::Kept>,
    /// Request rates, 5xx ratios and latency from Cloud Monitoring (`web::traffic`).
    pub traffic: super::traffic::TrafficView,
    /// The newest jobs of this deployment.
    pub jobs: Vec<crate::db::job_summaries::JobSummary>,
    pub more_jobs: bool,
}

#[derive(Template)]
#[template(path = "deployment_overview.html")]
struct OverviewPage {
    shell: Shell,
    o: Overview,
}

#[derive(Template)]
#[template(path = "deployment_overview_partial.html")]
struct OverviewPartial {
    o: Overview,
}

#[derive(Template)]
#[template(path = "route_test_partial.html")]
struct RouteTestPartial {
    answer: RouteAnswer,
}

/// The spec to show and its label; `Err` says why the draft cannot be shown. `applied` is the
/// deployed spec with when it was applied.
fn chosen_spec(
    d: &DeploymentRow,
    applied: Option<&(String, Option<String>)>,
    view: View,
) -> (Result<Spec, String>, String) {
    let parsed = applied.and_then(|(s, _)| parse::parse(s).ok());
    match (view, parsed) {
        (View::Current, Some(spec)) => (
            Ok(spec),
            match applied.and_then(|(_, at)| at.as_deref()) {
                Some(at) => format!("applied spec (applied {at})"),
                None => "applied spec".to_string(),
            },
        ),
        _ => (
            parse::parse(&d.spec).map_err(|e| {
                format!(
                    "The draft is not a complete spec yet ({}{}), so there is nothing to draw.",
                    e.field
                        .as_deref()
                        .map(|f| format!("{f}: "))
                        .unwrap_or_default(),
                    e.message
                )
            }),
            format!("draft version {}", d.version),
        ),
    }
}

/// Checks and runs one route-tester request against `spec`.
pub fn test_route(spec: &Spec, host: &str, path: &str) -> RouteAnswer {
    let host = host.trim().to_string();
    let path = path.trim().to_string();
    let error = if host.is_empty() {
        Some("Enter a host, e.g. the deployment's domain.".to_string())
    } else if host.len() > 253 || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("A host is at most 253 characters, without spaces.".to_string())
    } else if !path.starts_with('/') {
        Some("A path starts with /.".to_string())
    } else if path.len() > 2048 || path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("A path is at most 2048 characters, without spaces.".to_string())
    } else {
        None
    };
    let row = error
        .is_none()
        .then(|| preview::preview_request(spec, &host, &path));
    RouteAnswer {
        host,
        path,
        error,
        row,
        hops: Vec::new(),
    }
}

pub async fn load(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    view: View,
    test: Option<(&str, &str)>,
) -> AppResult<Overview> {
    let d = crate::db::deployments::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let destroyed =
        crate::db::jobs::last_succeeded_job(&state.db, &crate::db::jobs::deployment_key(id))
            .await?
            .filter(|j| j.kind == "destroy");
    // What a destroy deleted is not shown, even while its last-seen facts are still stored.
    let live: Option<LiveRow> = crate::db::live_facts::live(&state.db, id)
        .await?
        .filter(|_| destroyed.is_none());
    let ip = live.as_ref().and_then(|l| l.ip.clone());
    let applied = applied(&state.db, id).await?;
    let (spec, showing) = chosen_spec(&d, applied.as_ref(), view);
    let serving = applied
        .as_ref()
        .filter(|_| destroyed.is_none())
        .and_then(|(s, _)| parse::parse(s).ok());
    let why_none = if destroyed.is_some() {
        "The deployment is destroyed: there is no load balancer and no traffic to show."
    } else {
        "Nothing is applied yet, so there is no load balancer and no traffic to show."
    };
    let (mut traffic, snapshot) = super::traffic::load(
        state,
        id,
        serving.as_ref(),
        why_none,
        super::traffic::DEFAULT_WINDOW,
        user.can_edit(),
    )
    .await;
    traffic.can_roll_out = user.can_edit()
        && serving.is_some()
        && parse::parse(&d.spec)
            .ok()
            .as_ref()
            .and_then(crate::domain::rollout::Gate::of)
            .is_some();
    let differs = applied
        .as_ref()
        .is_some_and(|(a, _)| !super::state::same_spec(a, &d.spec));
    let other_view = match view {
        View::Current if differs => Some((
            format!("/deployments/{id}/overview?view=draft"),
            "Show the draft instead",
        )),
        View::Draft if applied.is_some() => Some((
            format!("/deployments/{id}/overview"),
            "Show the applied spec",
        )),
        _ => None,
    };
    let mut o = Overview {
        id,
        name: d.name.clone(),
        showing,
        other_view,
        incomplete: None,
        words: Vec::new(),
        svg: String::new(),
        chained: Vec::new(),
        https: false,
        destroyed: destroyed.map(|j| {
            let at = j.finished_at.unwrap_or(j.created_at);
            format!(
                "destroyed {} by {} ({})",
                super::deployments::ago(&at, time::OffsetDateTime::now_utc()),
                j.created_by,
                crate::web::when::exact(&at)
            )
        }),
        ip: ip.clone(),
        ipv6: None,
        certificate_change: crate::db::jobs::waiting_for_certificate(
            &state.db,
            &crate::db::jobs::deployment_key(id),
        )
        .await?
        .map(|(job, cert, progress)| {
            let name = cert.rsplit('/').next().unwrap_or(&cert).to_string();
            (job, name, progress)
        }),
        dns: Vec::new(),
        authorizations: Vec::new(),
        cert: CertView::new(
            id,
            None,
            None,
            user.can_edit() && applied.is_some(),
            view == View::Draft,
        ),
        sample_host: preview::SAMPLE_IP.to_string(),
        tester: None,
        view_draft: view == View::Draft,
        drift: drift_view(state, &d, applied.is_some(), user).await?,
        adoption: None,
        not_managed: Vec::new(),
        traffic,
        jobs: Vec::new(),
        more_jobs: false,
    };
    o.adoption = crate::db::adoptions::get(&state.db, id).await?;
    o.not_managed = o.adoption.as_ref().map(|a| a.kept()).unwrap_or_default();
    let filter = crate::db::job_summaries::JobFilter {
        deployment: Some(crate::db::jobs::deployment_key(d.id)),
        ..Default::default()
    };
    o.jobs = crate::db::job_summaries::jobs_page(&state.db, &filter, None, JOB_HISTORY + 1).await?;
    o.more_jobs = o.jobs.len() as i64 > JOB_HISTORY;
    o.jobs.truncate(JOB_HISTORY as usize);
    let spec = match spec {
        Ok(spec) => spec,
        Err(why) => {
            o.incomplete = Some(why);
            return Ok(o);
        }
    };
    o.words = describe::describe(&spec);
    // The SVG escapes every text it draws (topology::escape), so the template may embed it.
    let mut topo = topology::from_spec(&spec, ip.as_deref());
    let fronts =
        crate::deploy::chain::fronts(&state.db, state.deployer.reader().as_ref(), &d.name).await?;
    let pairs: Vec<(&str, &str)> = fronts
        .iter()
        .map(|(f, b)| (f.as_str(), b.as_str()))
        .collect();
    topo.add_fronts(&pairs);
    // Where the chain points now; one that cannot be followed yet is said by the plan.
    if let Ok(hops) =
        crate::deploy::chain::resolve(&state.db, state.deployer.reader().as_ref(), &spec).await
    {
        topo.show_hops(&hops);
    }
    let ids = crate::db::deployments::names(&state.db).await?;
    topo.link_deployments(&|name| {
        ids.iter()
            .find(|(_, n)| n == name)
            .map(|(id, _)| format!("/deployments/{id}"))
    });
    // The applied spec's boxes get their traffic; a draft's regions may not serve yet.
    if let (Some(snap), Some(serving)) = (&snapshot, &serving)
        && serving == &spec
    {
        topo.show_region_traffic(&|service, region| {
            super::traffic::region_line(serving, snap, service, region)
        });
    }
    o.chained = topo
        .chained()
        .into_iter()
        .map(|n| (n.title.clone(), n.href.clone()))
        .collect();
    o.svg = topology::to_svg(&topo);
    o.https = spec.frontend.protocol == Protocol::Https;
    let ipv6 = live.as_ref().and_then(|l| l.ipv6.as_deref());
    o.dns = certificates::dns_records_dual(
        &spec.frontend.domains,
        ip.as_deref(),
        spec.frontend.ipv6.then_some(ipv6),
    );
    o.ipv6 = spec.frontend.ipv6.then(|| ipv6.map(str::to_string));
    if o.https && !spec.frontend.certificate.is_managed() {
        o.authorizations = read_authorizations(state, &spec).await;
    }
    o.cert = CertView::new(
        id,
        Some(&spec),
        live.as_ref(),
        o.cert.can_check,
        o.cert.view_draft,
    );
    o.sample_host = ip
        .clone()
        .filter(|_| spec.frontend.domains.is_empty())
        .unwrap_or_else(|| preview::sample_host("*", &spec));
    if let Some((host, path)) = test {
        let mut answer = test_route(&spec, host, path);
        follow_chain(state, &spec, &mut answer).await?;
        o.tester = Some(answer);
    }
    Ok(o)
}

async fn overview(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    headers: axum::http::HeaderMap,
    shell: Shell,
    Path(id): Path<i64>,
    Query(q): Query<OverviewQuery>,
) -> AppResult<Response> {
    let test = match (&q.host, &q.path) {
        (Some(h), Some(p)) => Some((h.as_str(), p.as_str())),
        _ => None,
    };
    let o = load(&state, &user, id, q.view, test).await?;
    if crate::http::is_htmx(&headers) {
        render(StatusCode::OK, &OverviewPartial { o })
    } else {
        render(StatusCode::OK, &OverviewPage { shell, o })
    }
}

#[derive(Debug, Deserialize)]
struct RouteTestQuery {
    #[serde(default)]
    view: View,
    #[serde(default)]
    host: String,
    #[serde(default)]
    path: String,
}

/// The route tester's answer as a fragment. Invalid input is answered in the fragment (with a
/// 200, so htmx swaps it in) rather than as an error page.
async fn route_test(
    State(state): State<AppState>,
    Viewer(_): Viewer,
    Path(id): Path<i64>,
    Query(q): Query<RouteTestQuery>,
) -> AppResult<Response> {
    let d = crate::db::deployments::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let applied = applied(&state.db, id).await?;
    let answer = match chosen_spec(&d, applied.as_ref(), q.view).0 {
        Ok(spec) => {
            let mut answer = test_route(&spec, &q.host, &q.path);
            follow_chain(&state, &spec, &mut answer).await?;
            answer
        }
        Err(why) => RouteAnswer {
            host: q.host,
            path: q.path,
            error: Some(why),
            row: None,
            hops: Vec::new(),
        },
    };
    render(StatusCode::OK, &RouteTestPartial { answer })
}

/// The applied spec's text and when its apply finished (see `db::jobs::applied_job`).
async fn applied(
    db: &crate::db::Db,
    id: i64,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    Ok(crate::db::jobs::applied_job(db, id)
        .await?
        .map(|j| (j.spec, j.finished_at)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed2() -> Spec {
        parse::parse(include_str!("../../tests/data/seeds/seed-002.json")).unwrap()
    }

    #[test]
    fn the_tester_uses_the_one_evaluator() {
        let a = test_route(&seed2(), " hello.example.com ", "/hello2/x");
        assert!(a.error.is_none());
        let row = a.row.unwrap();
        assert_eq!(row.rule, Some(0));
        assert_eq!(row.targets[0].backend, "hello2");
        assert_eq!(row.targets[0].path, "/x");
    }

    #[test]
    fn the_certificate_section_polls_only_while_google_has_not_decided() {
        let spec = seed2();
        let live = |status: Option<&str>| LiveRow {
            deployment_id: 1,
            ip: Some("203.0.113.7".into()),
            ipv6: None,
            certificate: Some("hello-lb-cert-1".into()),
            cert_status: status.map(str::to_string),
            domain_status: "{}".into(),
            checked_at: "2026-01-01T00:00:00.000Z".into(),
        };
        for (status, polls) in [
            (Some("PROVISIONING"), true),
            (None, true),
            (Some("ACTIVE"), false),
            (Some("PROVISIONING_FAILED"), false),
            (Some("PROVISIONING_FAILED_PERMANENTLY"), false),
            (Some("RENEWAL_FAILED"), false),
        ] {
            let c = CertView::new(1, Some(&spec), Some(&live(status)), true, false);
            assert!(c.https);
            assert_eq!(c.polling, polls, "{status:?}");
            assert_eq!(c.trigger().starts_with("every 5s, "), polls, "{status:?}");
        }
        // Nothing applied yet: nothing to wait for.
        let c = CertView::new(1, Some(&spec), None, false, true);
        assert!(!c.polling && c.status.is_none());
        assert_eq!(c.url(), "/deployments/1/certificate?view=draft");
        assert_eq!(c.trigger(), "live-read from:body");
    }

    #[test]
    fn bad_tester_input_is_explained() {
        for (h, p) in [("", "/"), ("a b", "/"), ("a.com", "x"), ("a.com", "/a b")] {
            let a = test_route(&seed2(), h, p);
            assert!(a.error.is_some() && a.row.is_none(), "{h} {p}");
        }
        let long = "a".repeat(300);
        assert!(test_route(&seed2(), &long, "/").error.is_some());
    }
}
