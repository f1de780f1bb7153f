//! The wizard: one page per step, each saved as the user goes.
//!
//! The Basics, Frontend and Routing (default target) forms and each rule's form save as the
//! user types and on change with htmx (`hx-post`, answered by a small status partial and an
//! out-of-band swap of every hidden `version` input on the page); without JavaScript the same
//! forms post normally and the server redirects back. Adding, editing and removing backends and
//! adding and removing rules are plain form posts that redirect back to the step; the backend
//! and service edit forms save on change with htmx. Every form carries the version it was
//! rendered from, and the conflict copy its tab saves into once it lost an edit war.
//!
//! Every answer to a save carries the draft's checks (see [`checks`]): each problem under its
//! field, the step bar's counts, and on Basics the name's length limit.

mod checks;

use super::{Flash, Loaded, Saved, form_as, form_object, form_version, load, save, wizard_css_url};
use crate::AppState;
use crate::auth::{CurrentUser, Editor, Viewer};
use crate::db::deployments as store;
use crate::domain::draft::{self, Draft, DraftError};
use crate::domain::shared_names::{self, Neighbour};
use crate::domain::spec::{BackendKind, CertificateMode, Endpoint, IpKind, Protocol, Target};
use crate::domain::{gcloud, lint, preview, validate};
use crate::error::{AppError, AppResult, Form, Path, Query};
use crate::web::{Shell, render};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use checks::Checks;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The steps in order: slug (in the URL) and title.
pub(crate) const STEPS: [(&str, &str); 6] = [
    ("basics", "Basics"),
    ("frontend", "Frontend"),
    ("backends", "Backends"),
    ("services", "Services"),
    ("routing", "Routing"),
    ("review", "Review"),
];

fn step_slug(s: &str) -> AppResult<&'static str> {
    STEPS
        .iter()
        .map(|(slug, _)| *slug)
        .find(|slug| *slug == s)
        .ok_or(AppError::NotFound)
}

/// The wizard's page for a spec field, opened with that field in focus.
pub(crate) fn field_href(id: i64, field: &str, d: &Draft) -> String {
    let (step, slot) = checks::locate(field, d);
    format!("{}?focus={slot}#{slot}", step_url(id, step))
}

/// A spec field in the wizard's words (`Backend “api”: Regions`).
pub(crate) fn field_label(field: &str, d: &Draft) -> String {
    checks::label(field, d)
}

fn step_url(id: i64, step: &str) -> String {
    format!("/deployments/{id}/edit/{step}")
}

pub(crate) struct StepLink {
    pub slug: &'static str,
    pub title: &'static str,
    pub href: String,
    pub current: bool,
    pub number: usize,
    /// Problems on this step, shown in the step bar.
    pub errors: usize,
}

pub(crate) struct BackendView {
    pub index: usize,
    pub name: String,
    pub kind: &'static str,
    /// One line in words: `Cloud Run service my-app in us-central1, europe-west1`.
    pub detail: String,
    pub extras: String,
    // The edit form's fields.
    pub service: String,
    pub regions: String,
    pub endpoint: String,
    /// What an internet backend reaches: `fqdn`, `ip` or `deployment`.
    pub target: &'static str,
    /// The deployment an internet backend follows, with `target` `deployment`.
    pub deployment: String,
    /// `fqdn`, `custom` or `none`.
    pub host_mode: &'static str,
    pub host_header: String,
    pub cdn: bool,
    pub outlier_detection: bool,
    /// Edge security: Cloud Armor policy names, `iap` (`""`, `load-balancer`, `cloud-run`)
    /// and the CDN cache mode (`""`: Google's default).
    pub security_policy: String,
    pub edge_security_policy: String,
    pub iap: &'static str,
    pub cache_mode: &'static str,
}

/// The add-internet-backend form: empty, or what was typed when it was refused.
pub(crate) struct AddInternetView {
    /// `fqdn`, `ip` or `deployment`.
    pub target: String,
    pub endpoint: String,
    pub deployment: String,
    pub name: String,
    pub host_mode: String,
    pub host_header: String,
    /// The refused field (`endpoint`, `deployment`, `host_header`, `name`) and why.
    pub error_field: String,
    pub error: String,
}

impl AddInternetView {
    fn of(typed: Option<(&draft::InternetForm, &DraftError)>) -> AddInternetView {
        let Some((f, e)) = typed else {
            return AddInternetView {
                target: "fqdn".into(),
                endpoint: String::new(),
                deployment: String::new(),
                name: String::new(),
                host_mode: "fqdn".into(),
                host_header: String::new(),
                error_field: String::new(),
                error: String::new(),
            };
        };
        let or = |v: &str, default: &str| {
            if v.trim().is_empty() {
                default.to_string()
            } else {
                v.to_string()
            }
        };
        AddInternetView {
            target: or(&f.target, "fqdn"),
            endpoint: f.endpoint.clone(),
            deployment: f.deployment.clone(),
            name: f.name.clone(),
            host_mode: or(&f.host_mode, "fqdn"),
            host_header: f.host_header.clone(),
            error_field: e.field.to_string(),
            error: e.message.clone(),
        }
    }

    /// The message under field `field` of the form, if it was the one refused.
    fn msg(&self, field: &str) -> &str {
        if self.error_field == field {
            &self.error
        } else {
            ""
        }
    }
}

/// The add-service form: its defaults, or what was typed when it was refused (a number that
/// is not one, an environment line without `=`), with the refusal under its field.
pub(crate) struct AddServiceView {
    pub form: draft::ServiceForm,
    pub allow_unauthenticated: bool,
    /// The refused field (`min_instances`, `env`, ...) and why.
    pub error_field: String,
    pub error: String,
}

impl AddServiceView {
    fn of(typed: Option<(&draft::ServiceForm, &DraftError)>) -> AddServiceView {
        match typed {
            Some((f, e)) => AddServiceView {
                form: f.clone(),
                allow_unauthenticated: f.allow_unauthenticated.is_some(),
                error_field: e.field.to_string(),
                error: e.message.clone(),
            },
            None => AddServiceView {
                form: draft::ServiceForm {
                    min_instances: "1".into(),
                    max_instances: "100".into(),
                    cpu: "1".into(),
                    memory: "512Mi".into(),
                    concurrency: "80".into(),
                    ingress: "internal-and-cloud-load-balancing".into(),
                    ..Default::default()
                },
                allow_unauthenticated: true,
                error_field: String::new(),
                error: String::new(),
            },
        }
    }

    /// The message under field `field` of the form, if it was the one refused.
    fn msg(&self, field: &str) -> &str {
        if self.error_field == field {
            &self.error
        } else {
            ""
        }
    }
}

/// A Cloud Run service the deployment deploys, as the Services step lists and edits it.
pub(crate) struct ServiceView {
    pub index: usize,
    pub name: String,
    /// One line in words: `us-docker.pkg.dev/...:v1 in us-central1, europe-west1`.
    pub detail: String,
    /// Scaling, resources and access in words.
    pub extras: String,
    pub image: String,
    pub regions: String,
    pub min_instances: u32,
    pub max_instances: u32,
    pub memory: String,
    pub cpu: String,
    pub concurrency: u32,
    /// The plain variables, `NAME=value` per line (editors only: the edit form).
    pub env: String,
    /// The Secret Manager references, `NAME=SECRET:VERSION` per line.
    pub secrets: String,
    /// Every variable by name, with a plain one's value hidden: what the table shows everyone
    /// (`none` without any).
    pub env_summary: String,
    pub ingress: &'static str,
    pub allow_unauthenticated: bool,
    pub multi_region: bool,
    /// The readiness probe's fields as the form shows them (empty: none, or the default).
    pub readiness_path: String,
    pub readiness_period: String,
    pub readiness_timeout: String,
    pub readiness_failures: String,
}

fn service_view(index: usize, s: &crate::domain::spec::Service) -> ServiceView {
    ServiceView {
        index,
        name: s.name.clone(),
        detail: format!("{} in {}", s.image, s.regions.join(", ")),
        extras: format!(
            "{}{}–{} instances, {} CPU, {}, {} requests each, ingress {}, {}{}",
            if s.multi_region {
                "one multi-region service, "
            } else {
                ""
            },
            s.min_instances,
            s.max_instances,
            s.cpu,
            s.memory,
            s.concurrency,
            s.ingress.as_str(),
            if s.allow_unauthenticated {
                "public"
            } else {
                "authenticated callers only"
            },
            s.readiness_probe
                .as_ref()
                .map(|p| format!(", readiness probe GET {}", p.path))
                .unwrap_or_default()
        ),
        image: s.image.clone(),
        regions: s.regions.join(", "),
        min_instances: s.min_instances,
        max_instances: s.max_instances,
        memory: s.memory.clone(),
        cpu: s.cpu.clone(),
        concurrency: s.concurrency,
        env: draft::env_text(&s.env),
        secrets: draft::secrets_text(&s.env),
        env_summary: match env_summary(&s.env) {
            e if e.is_empty() => "none".to_string(),
            e => e,
        },
        ingress: s.ingress.as_str(),
        allow_unauthenticated: s.allow_unauthenticated,
        multi_region: s.multi_region,
        readiness_path: probe_text(s, |p| Some(p.path.clone())),
        readiness_period: probe_text(s, |p| p.period_seconds.map(|n| n.to_string())),
        readiness_timeout: probe_text(s, |p| p.timeout_seconds.map(|n| n.to_string())),
        readiness_failures: probe_text(s, |p| p.failure_threshold.map(|n| n.to_string())),
    }
}

fn probe_text(
    s: &crate::domain::spec::Service,
    f: impl Fn(&crate::domain::spec::ReadinessProbe) -> Option<String>,
) -> String {
    s.readiness_probe.as_ref().and_then(f).unwrap_or_default()
}

/// `MODE (value hidden), DB_PASS from secret db-pass:latest`: names and where values come
/// from, never a value, so the table can be the same for everyone.
fn env_summary(env: &[crate::domain::spec::EnvVar]) -> String {
    use crate::domain::spec::EnvSource;
    env.iter()
        .map(|e| match e.source() {
            EnvSource::Value(_) => format!("{} (value hidden)", e.name),
            EnvSource::Secret { secret, version } => {
                format!("{} from secret {secret}:{version}", e.name)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) struct RuleView {
    pub index: usize,
    pub number: usize,
    pub hosts: String,
    pub paths: String,
    pub kind: &'static str,
    pub backend: String,
    pub split: String,
    pub prefix_rewrite: String,
    pub host_rewrite: String,
}

pub(crate) struct ErrorView {
    pub field: String,
    pub message: String,
    pub step_title: &'static str,
    pub href: String,
}

pub(crate) struct WarningView {
    pub level: &'static str,
    /// The form field it is about, in the wizard's words, and where it is.
    pub label: String,
    pub href: String,
    pub message: String,
    pub why: String,
    pub fix: String,
}

pub(crate) struct PreviewTargetView {
    pub backend: String,
    pub percent: String,
    pub path: String,
    pub host: String,
}

pub(crate) struct PreviewRowView {
    pub request: String,
    pub matched: String,
    pub targets: Vec<PreviewTargetView>,
    pub redirect: String,
}

#[derive(Default)]
pub(crate) struct Review {
    /// The draft reads as a spec (nothing missing or malformed).
    pub parses: bool,
    pub valid: bool,
    pub errors: Vec<ErrorView>,
    pub warnings: Vec<WarningView>,
    pub preview: Vec<PreviewRowView>,
    pub gcloud: String,
}

#[derive(Template)]
#[template(path = "deployments/wizard.html")]
struct WizardPage {
    shell: Shell,
    css_url: &'static str,
    /// The script of the pick lists (a picked service fills its regions).
    pickers_js_url: &'static str,
    id: i64,
    version: i64,
    name: String,
    can_edit: bool,
    step: &'static str,
    step_title: &'static str,
    steps: Vec<StepLink>,
    prev: Option<StepLink>,
    next: Option<StepLink>,
    flash: Option<Flash>,
    /// The id of the step's own auto-saved form, which the Save and Next buttons submit; empty
    /// when the step has none (its lists have their own forms).
    step_form: &'static str,
    // Basics
    project: String,
    // Frontend
    protocol: String,
    domains: String,
    ip: String,
    http_redirect: bool,
    /// The per-frontend options (`domain::frontend_options`), as the form's values.
    ipv6: bool,
    http3: &'static str,
    ssl_profile: &'static str,
    min_tls_version: &'static str,
    /// `certificate-manager` or `managed`: a draft that does not serve HTTPS yet is offered
    /// Certificate Manager, as Google recommends for new load balancers.
    certificate: &'static str,
    // Backends
    backends: Vec<BackendView>,
    add_internet: AddInternetView,
    add_service: AddServiceView,
    other_deployments: Vec<String>,
    regions: Vec<&'static str>,
    // Services
    services: Vec<ServiceView>,
    canary_region: String,
    /// The rollout gate as the form shows it: blank when unset, the 5xx limit in percent.
    soak_seconds: String,
    max_error_percent: String,
    max_p95_ms: String,
    // Routing
    backend_names: Vec<String>,
    default_kind: String,
    default_backend: String,
    default_split: String,
    rules: Vec<RuleView>,
    // Review
    review: Review,
    /// Every problem of the draft, by form field: each step shows its own under the fields.
    checks: Checks,
    /// The form field a Review link points at: it gets the focus.
    focus: String,
    /// How long the name may be, from the resources this draft creates.
    name_hint: String,
}

/// What the step templates ask about the checks.
impl WizardPage {
    fn msg(&self, id: &str) -> String {
        self.checks.message(id)
    }

    /// The message of field `field` of list item `kind-index` (`service-0-cpu`).
    fn msg_at(&self, kind: &str, index: &usize, field: &str) -> String {
        self.checks.message(&format!("{kind}-{index}-{field}"))
    }

    fn af(&self, id: &str) -> &'static str {
        if self.focus == id { "autofocus" } else { "" }
    }

    fn af_at(&self, kind: &str, index: &usize, field: &str) -> &'static str {
        self.af(&format!("{kind}-{index}-{field}"))
    }

    /// A list item's edit form starts open when something in it is wrong or is linked to.
    fn open_item(&self, kind: &str, index: &usize) -> bool {
        let prefix = format!("{kind}-{index}");
        self.checks.item_has(&prefix) || self.focus.starts_with(&format!("{prefix}-"))
    }
}

/// `At most 52 characters: ...`: said by the name field before anything is typed too long.
pub(crate) fn name_hint(d: &Draft) -> String {
    match draft::name_limit(d) {
        Some(l) if !l.what.is_empty() => format!(
            "At most {} characters with what this deployment creates: its longest resource name, the {} `{}`, adds {} to it.",
            l.max,
            l.what,
            l.pattern,
            l.pattern.len() - "NAME".len()
        ),
        Some(l) => format!("At most {} characters.", l.max),
        None => String::new(),
    }
}

pub(crate) fn backend_view(index: usize, b: &crate::domain::spec::Backend) -> BackendView {
    let (kind, detail) = match &b.kind {
        BackendKind::Serverless { service, regions } => (
            "serverless",
            format!(
                "Cloud Run service {service}{} in {}",
                b.project
                    .as_ref()
                    .map(|p| format!(" of project {p}"))
                    .unwrap_or_default(),
                if regions.is_empty() {
                    "no region yet".to_string()
                } else {
                    regions.join(", ")
                }
            ),
        ),
        BackendKind::Internet {
            port, host_header, ..
        } => (
            "internet",
            format!(
                "{}, {}",
                match b.kind.endpoint() {
                    Some(Endpoint::Fqdn(a)) => format!("{a}:{port}"),
                    Some(Endpoint::Ip(a)) => format!("IP {a}:{port}"),
                    Some(Endpoint::Deployment(d)) => format!("→ deployment {d}"),
                    None => "no endpoint yet".to_string(),
                },
                match host_header {
                    Some(h) => format!("Host header {h}"),
                    None => "Host header left as the client sent it".to_string(),
                }
            ),
        ),
    };
    let (service, regions, endpoint, host_mode, host_header) = match &b.kind {
        BackendKind::Serverless { service, regions } => (
            service.clone(),
            regions.join(", "),
            String::new(),
            "fqdn",
            String::new(),
        ),
        BackendKind::Internet {
            fqdn,
            ip,
            port,
            host_header,
            ..
        } => {
            let mode = match host_header {
                None => "none",
                Some(h) if Some(h) == fqdn.as_ref() => "fqdn",
                Some(_) => "custom",
            };
            let address = fqdn.as_deref().or(ip.as_deref()).unwrap_or_default();
            (
                String::new(),
                String::new(),
                draft::endpoint_text(address, *port),
                mode,
                host_header.clone().unwrap_or_default(),
            )
        }
    };
    let (target, deployment) = match b.kind.endpoint() {
        Some(Endpoint::Ip(_)) => ("ip", String::new()),
        Some(Endpoint::Deployment(d)) => ("deployment", d.to_string()),
        _ => ("fqdn", String::new()),
    };
    let mut extras = Vec::new();
    if b.cdn {
        extras.push("Cloud CDN");
    }
    if b.outlier_detection {
        extras.push("outlier detection");
    }
    BackendView {
        index,
        name: b.name.clone(),
        kind,
        detail,
        extras: extras.join(", "),
        service,
        regions,
        endpoint,
        target,
        deployment,
        host_mode,
        host_header,
        cdn: b.cdn,
        outlier_detection: b.outlier_detection,
        security_policy: b.edge.security_policy.clone().unwrap_or_default(),
        edge_security_policy: b.edge.edge_security_policy.clone().unwrap_or_default(),
        iap: b.edge.iap.map_or("", |i| i.as_str()),
        cache_mode: b
            .edge
            .cdn_policy
            .as_ref()
            .and_then(|p| p.cache_mode)
            .map_or("", |m| m.api_value()),
    }
}

fn target_fields(t: Option<&Target>) -> (String, String, String) {
    match t {
        None => (String::new(), String::new(), String::new()),
        Some(Target::Backend { backend }) => ("backend".into(), backend.clone(), String::new()),
        Some(Target::Split { split }) => ("split".into(), String::new(), draft::split_text(split)),
    }
}

/// Everything the Review step shows, computed from the draft: every problem at once, missing
/// or invalid, each linked to its form field.
pub(crate) fn review(
    id: i64,
    d: &Draft,
    checks: &Checks,
    neighbours: &[Neighbour],
    hops: &[crate::domain::chain::Hop],
    known: &[lint::KnownService],
) -> Review {
    let errors: Vec<ErrorView> = checks
        .all
        .iter()
        .map(|p| ErrorView {
            field: p.field.clone(),
            message: p.message.clone(),
            step_title: STEPS
                .iter()
                .find(|(s, _)| *s == p.step)
                .map(|(_, t)| *t)
                .unwrap_or("Basics"),
            href: format!("{}?focus={}#{}", step_url(id, p.step), p.id, p.id),
        })
        .collect();
    let Ok(spec) = d.to_spec() else {
        return Review {
            errors,
            ..Review::default()
        };
    };
    let mut r = Review {
        parses: true,
        valid: errors.is_empty(),
        errors,
        ..Review::default()
    };
    let mut warnings = lint::lint_knowing(&spec, known);
    warnings.extend(shared_names::shared_names(d, neighbours));
    r.warnings = warnings
        .into_iter()
        .map(|w| WarningView {
            level: match w.level {
                lint::Level::Warning => "warning",
                lint::Level::Info => "info",
            },
            label: field_label(&w.field, d),
            href: field_href(id, &w.field, d),
            message: w.message,
            why: w.why,
            fix: w.fix,
        })
        .collect();
    r.preview = preview::preview(&spec)
        .into_iter()
        .map(|row| PreviewRowView {
            request: format!("{}://{}{}", row.scheme, row.host, row.path),
            matched: match row.rule {
                Some(i) => format!("rule {}", i + 1),
                None if row.redirect.is_some() => "port 80".to_string(),
                None if row.targets.is_empty() => "no route".to_string(),
                None => "default".to_string(),
            },
            targets: row
                .targets
                .into_iter()
                .map(|t| PreviewTargetView {
                    backend: t.backend,
                    percent: format!("{:.0} %", t.percent),
                    path: t.path,
                    host: t.host,
                })
                .collect(),
            redirect: row.redirect.unwrap_or_default(),
        })
        .collect();
    r.gcloud = gcloud::commands_chained(&spec, hops).to_shell();
    r
}

/// How many problems the Basics step has (a new draft goes there first when it has some).
pub(crate) fn basics_problems(d: &Draft) -> usize {
    Checks::of(d).count("basics")
}

/// The step bar: every step, the current one marked, each with its count of problems.
fn step_links(id: i64, pos: usize, checks: &Checks) -> Vec<StepLink> {
    (0..STEPS.len())
        .map(|i| step_link(id, pos, i, checks))
        .collect()
}

fn step_link(id: i64, pos: usize, i: usize, checks: &Checks) -> StepLink {
    StepLink {
        slug: STEPS[i].0,
        title: STEPS[i].1,
        href: step_url(id, STEPS[i].0),
        current: i == pos,
        number: i + 1,
        errors: checks.count(STEPS[i].0),
    }
}

/// One wizard step as a page. `typed` is what was typed into the add-internet-backend form
/// when that form was refused, so the form shows it again with the message under its field.
#[allow(clippy::too_many_arguments)]
pub(crate) fn render_step(
    shell: Shell,
    user: &CurrentUser,
    loaded: &Loaded,
    step: &'static str,
    flash: Option<Flash>,
    status: StatusCode,
    focus: &str,
    typed: Option<(&Typed, &DraftError)>,
) -> AppResult<Response> {
    let Loaded {
        row,
        draft,
        neighbours,
        others,
        hops,
        known,
    } = loaded;
    let checks = Checks::of(draft);
    // Every step, the Review's gcloud commands included, is made from the draft as this user
    // may see it: a viewer's with the environment values hidden.
    let mut shown = draft.clone();
    user.env_values().services(&mut shown.services);
    let d = &shown;
    let id = row.id;
    let pos = STEPS.iter().position(|(s, _)| *s == step).unwrap_or(0);
    let link = |i: usize| step_link(id, pos, i, &checks);
    let (default_kind, default_backend, default_split) = target_fields(d.routing.default.as_ref());
    let page = WizardPage {
        shell,
        css_url: wizard_css_url(),
        pickers_js_url: crate::web::assets::pickers_js_url(),
        id,
        version: row.version,
        name: row.name.clone(),
        can_edit: user.can_edit(),
        step,
        step_title: STEPS[pos].1,
        steps: step_links(id, pos, &checks),
        prev: pos.checked_sub(1).map(link),
        next: (pos + 1 < STEPS.len()).then(|| link(pos + 1)),
        flash,
        step_form: match step {
            "basics" => "basics-form",
            "frontend" => "frontend-form",
            "services" if !d.services.is_empty() => "rollout-form",
            "routing" => "default-form",
            _ => "",
        },
        project: d.project.clone(),
        protocol: match d.frontend.protocol {
            None => String::new(),
            Some(Protocol::Http) => "http".into(),
            Some(Protocol::Https) => "https".into(),
        },
        domains: d.frontend.domains.join("\n"),
        ip: match d.frontend.ip {
            IpKind::Static => "static".into(),
            IpKind::Ephemeral => "ephemeral".into(),
        },
        http_redirect: d.frontend.http_redirect,
        ipv6: d.frontend.ipv6,
        http3: match d.frontend.http3 {
            Some(true) => "on",
            Some(false) => "off",
            None => "",
        },
        ssl_profile: d
            .frontend
            .ssl_policy
            .as_ref()
            .map_or("", |p| p.profile().api_value()),
        min_tls_version: d
            .frontend
            .ssl_policy
            .as_ref()
            .and_then(|p| p.min_tls_version)
            .map_or("", |t| t.as_str()),
        certificate: match d.frontend.protocol {
            Some(Protocol::Https) => d.frontend.certificate.as_str(),
            _ => CertificateMode::CertificateManager.as_str(),
        },
        backends: d
            .backends
            .iter()
            .enumerate()
            .map(|(i, b)| backend_view(i, b))
            .collect(),
        add_internet: AddInternetView::of(match typed {
            Some((Typed::Internet(f), e)) => Some((&**f, e)),
            _ => None,
        }),
        add_service: AddServiceView::of(match typed {
            Some((Typed::Service(f), e)) => Some((&**f, e)),
            _ => None,
        }),
        other_deployments: others.clone(),
        regions: validate::CLOUD_RUN_REGIONS.to_vec(),
        services: d
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| service_view(i, s))
            .collect(),
        canary_region: d
            .rollout
            .as_ref()
            .and_then(|r| r.canary_region.clone())
            .unwrap_or_default(),
        soak_seconds: d
            .rollout
            .as_ref()
            .and_then(|r| r.soak_seconds)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        // Rounded so that 0.05 shows as 5, not 5.000000000000001.
        max_error_percent: d
            .rollout
            .as_ref()
            .and_then(|r| r.max_error_ratio)
            .map(|l| ((l.0 * 100.0 * 1e6).round() / 1e6).to_string())
            .unwrap_or_default(),
        max_p95_ms: d
            .rollout
            .as_ref()
            .and_then(|r| r.max_p95_ms)
            .map(|l| l.0.to_string())
            .unwrap_or_default(),
        backend_names: d.backend_names(),
        default_kind,
        default_backend,
        default_split,
        rules: d
            .routing
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (kind, backend, split) = target_fields(Some(&r.target));
                RuleView {
                    index: i,
                    number: i + 1,
                    hosts: r.hosts.join(", "),
                    paths: r.paths.join("\n"),
                    kind: if kind == "split" { "split" } else { "backend" },
                    backend,
                    split,
                    prefix_rewrite: r.prefix_rewrite.clone().unwrap_or_default(),
                    host_rewrite: r.host_rewrite.clone().unwrap_or_default(),
                }
            })
            .collect(),
        review: if step == "review" {
            review(id, d, &checks, neighbours, hops, known)
        } else {
            Review::default()
        },
        name_hint: name_hint(draft),
        checks,
        focus: focus.to_string(),
    };
    render(status, &page)
}

pub(crate) async fn step_page(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    shell: Shell,
    Path((id, step)): Path<(i64, String)>,
    Query(q): Query<FocusQuery>,
) -> AppResult<Response> {
    let step = step_slug(&step)?;
    let mut loaded = load(&state, id).await?;
    if step == "review" {
        loaded.neighbours = crate::deploy::neighbours::neighbours(&state.db, id).await?;
        loaded.known = state.pages.pickers.known_services();
        // A chain that cannot be followed yet is said by the lint and refused by the plan;
        // the commands then leave its NEG out, as the plan cannot make it either.
        if let Ok(spec) = loaded.draft.to_spec() {
            loaded.hops =
                crate::deploy::chain::resolve(&state.db, state.deployer.reader().as_ref(), &spec)
                    .await
                    .unwrap_or_default();
        }
    }
    render_step(
        shell,
        &user,
        &loaded,
        step,
        None,
        StatusCode::OK,
        &q.focus,
        None,
    )
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct FocusQuery {
    /// The id of the form field to focus (a link from Review's list of problems).
    #[serde(default)]
    focus: String,
}

/// The save status an htmx form swaps in: the outcome, and (when saved) the new version for
/// every form of the page.
#[derive(Template)]
#[template(path = "deployments/save_status_partial.html")]
struct SaveStatus {
    version: Option<i64>,
    flash: Flash,
    /// The conflict copy this tab now saves into (after a lost edit war).
    conflict: Option<i64>,
    /// Every message slot of the step, empty ones included (so a fixed value clears its
    /// message), and the step bar with its counts; `None` when nothing was saved.
    checks: Option<StepChecks>,
}

struct StepChecks {
    slots: Vec<(String, String)>,
    steps: Vec<StepLink>,
    /// The name's length limit again on Basics (the hint by the name field).
    name_hint: Option<String>,
    /// The texts of the step's list rows (by element id), so a row's summary follows its edit
    /// form without a reload.
    cells: Vec<(String, String)>,
}

impl StepChecks {
    fn of(id: i64, step: &str, d: &Draft) -> StepChecks {
        let checks = Checks::of(d);
        let pos = STEPS.iter().position(|(s, _)| *s == step).unwrap_or(0);
        StepChecks {
            slots: checks::slots(step, d)
                .into_iter()
                .map(|slot| {
                    let m = checks.message(&slot);
                    (slot, m)
                })
                .collect(),
            steps: step_links(id, pos, &checks),
            name_hint: (step == "basics").then(|| name_hint(d)),
            cells: row_cells(step, d),
        }
    }
}

/// What the step's table shows of each item, by the id of the element holding it.
fn row_cells(step: &str, d: &Draft) -> Vec<(String, String)> {
    let mut cells = Vec::new();
    match step {
        "services" => {
            for (i, s) in d.services.iter().enumerate() {
                let v = service_view(i, s);
                cells.push((format!("service-{i}-name-text"), v.name));
                cells.push((format!("service-{i}-detail-text"), v.detail));
                cells.push((format!("service-{i}-extras-text"), v.extras));
                cells.push((format!("service-{i}-env-text"), v.env_summary));
            }
        }
        "backends" => {
            for (i, b) in d.backends.iter().enumerate() {
                let v = backend_view(i, b);
                cells.push((format!("backend-{i}-name-text"), v.name));
                cells.push((format!("backend-{i}-detail-text"), v.detail));
                cells.push((format!("backend-{i}-extras-text"), v.extras));
            }
        }
        _ => {}
    }
    cells
}

fn status_partial(version: Option<i64>, flash: Flash) -> AppResult<Response> {
    // htmx 2 does not swap 4xx answers by default; the message is the answer here, so 200.
    render(
        StatusCode::OK,
        &SaveStatus {
            version,
            flash,
            conflict: None,
            checks: None,
        },
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct NextQuery {
    /// The step to go to once saved (the form's Next button).
    #[serde(default)]
    next: Option<String>,
}

/// The conflict copy a form says its tab already saves into (the hidden `conflict` field that
/// a refused save fills in), if any.
fn form_conflict(form: &Value) -> Option<i64> {
    form.get("conflict")
        .and_then(Value::as_str)
        .and_then(|v| v.trim().parse().ok())
}

/// The draft, the version it was made from and the conflict copy it may go to, as one form
/// sends them.
struct Edit {
    version: i64,
    conflict: Option<i64>,
    /// The list item an edit form changes (its index), so a refusal lands under its field.
    item: Option<usize>,
    /// What was typed into an add form, shown again if it is refused.
    typed: Option<Typed>,
}

/// What was typed into one of the add forms whose fields are not kept by the page itself.
pub(crate) enum Typed {
    Internet(Box<draft::InternetForm>),
    Service(Box<draft::ServiceForm>),
}

/// Applies `change` to the draft and saves it; answers in the way the request asked for (an
/// htmx status partial with the step's messages, or a redirect / re-rendered page for a plain
/// post).
#[allow(clippy::too_many_arguments)]
async fn change_and_answer(
    state: &AppState,
    user: &CurrentUser,
    shell: Shell,
    headers: &HeaderMap,
    id: i64,
    step: &'static str,
    edit: Edit,
    next: Option<&'static str>,
    change: impl FnOnce(&mut Draft) -> Result<(), DraftError>,
) -> AppResult<Response> {
    let htmx = crate::http::is_htmx(headers);
    let version = edit.version;
    let mut loaded = load(state, id).await?;
    let mut d = loaded.draft.clone();
    if let Err(e) = change(&mut d) {
        let flash = Flash::error(format!("Not saved: {}", e.message));
        if htmx {
            // What cannot be read into the draft (`abc` instances) is said under its field
            // too; the field keeps what was typed, since only the status is swapped.
            let slot = checks::form_field_slot(step, edit.item, &e.field);
            let pos = STEPS.iter().position(|(s, _)| *s == step).unwrap_or(0);
            return render(
                StatusCode::OK,
                &SaveStatus {
                    version: None,
                    flash,
                    conflict: None,
                    checks: slot.map(|slot| StepChecks {
                        slots: vec![(slot, e.message.clone())],
                        steps: step_links(id, pos, &Checks::of(&loaded.draft)),
                        name_hint: None,
                        cells: Vec::new(),
                    }),
                },
            );
        }
        return render_step(
            shell,
            user,
            &loaded,
            step,
            Some(flash),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
            edit.typed.as_ref().map(|f| (f, &e)),
        );
    }
    let here = step_url(id, step);
    // A tab that already lost an edit war and was given a conflict copy goes on saving into
    // that copy: one copy per lost war, not one per keystroke.
    if htmx
        && version != loaded.row.version
        && let Some(conflict_id) = edit.conflict
    {
        super::refuse_oversized(&d.to_json())?;
        let text = d.to_json().to_string();
        if store::update_conflict(&state.db, id, conflict_id, &user.name, &text).await? {
            let flash = Flash::stale(
                id,
                &here,
                version,
                loaded.row.version,
                &loaded.row.updated_by,
                conflict_id,
            );
            return stale_partial(flash, conflict_id);
        }
    }
    // Nothing changed (the same form sent on `input` and again on `change`): no new version.
    // Only from the current version: a page based on an older one may hold other stale forms,
    // so it must still be told that someone saved in between.
    let outcome = if d == loaded.draft && version == loaded.row.version {
        Saved::Done(loaded.row.clone())
    } else {
        save(state, id, version, &d, user).await?
    };
    match outcome {
        Saved::Done(row) => {
            let target = step_url(id, next.unwrap_or(step));
            if htmx {
                let problems = Checks::of(&d).count(step);
                let message = match problems {
                    0 => format!("Saved · version {}", row.version),
                    1 => format!(
                        "Saved · version {} · 1 problem on this step, said under its field",
                        row.version
                    ),
                    n => format!(
                        "Saved · version {} · {n} problems on this step, said under their fields",
                        row.version
                    ),
                };
                let mut res = render(
                    StatusCode::OK,
                    &SaveStatus {
                        version: Some(row.version),
                        flash: if problems == 0 {
                            Flash::notice(message)
                        } else {
                            Flash::warning(message)
                        },
                        conflict: None,
                        checks: Some(StepChecks::of(id, step, &d)),
                    },
                )?;
                if next.is_some()
                    && let Ok(v) = HeaderValue::from_str(&target)
                {
                    res.headers_mut().insert("hx-redirect", v);
                }
                Ok(res)
            } else {
                Ok(Redirect::to(&target).into_response())
            }
        }
        Saved::Stale {
            expected,
            current,
            current_by,
            conflict_id,
        } => {
            let flash = Flash::stale(id, &here, expected, current, &current_by, conflict_id);
            if htmx {
                stale_partial(flash, conflict_id)
            } else {
                // Show the version that won, with the message: the page is current again.
                loaded = load(state, id).await?;
                render_step(
                    shell,
                    user,
                    &loaded,
                    step,
                    Some(flash),
                    StatusCode::CONFLICT,
                    "",
                    None,
                )
            }
        }
        Saved::NameTaken(n) => refuse_save(shell, user, &loaded, step, htmx, Flash::name_taken(&n)),
        Saved::Moved { field, message } => refuse_save(
            shell,
            user,
            &loaded,
            step,
            htmx,
            Flash::moved(field, &message),
        ),
    }
}

/// A save refused as stale: the message, and the conflict copy every form of the page saves
/// into from now on.
fn stale_partial(flash: Flash, conflict_id: i64) -> AppResult<Response> {
    render(
        StatusCode::OK,
        &SaveStatus {
            version: None,
            flash,
            conflict: Some(conflict_id),
            checks: None,
        },
    )
}

/// A save refused for what the draft says: the message in the save status, or the step again.
fn refuse_save(
    shell: Shell,
    user: &CurrentUser,
    loaded: &Loaded,
    step: &'static str,
    htmx: bool,
    flash: Flash,
) -> AppResult<Response> {
    if htmx {
        status_partial(None, flash)
    } else {
        render_step(
            shell,
            user,
            loaded,
            step,
            Some(flash),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
            None,
        )
    }
}

fn next_step(q: &NextQuery) -> AppResult<Option<&'static str>> {
    q.next.as_deref().map(step_slug).transpose()
}

/// A change a form asks for, read from the form before the draft is loaded (so a malformed form
/// is refused as such whether or not the deployment loads) and run on the loaded draft.
type Change = Box<dyn FnOnce(&mut Draft) -> Result<(), DraftError> + Send>;

pub(crate) async fn save_step(
    State(state): State<AppState>,
    Editor(user): Editor,
    shell: Shell,
    headers: HeaderMap,
    Path((id, step)): Path<(i64, String)>,
    Query(q): Query<NextQuery>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let step = step_slug(&step)?;
    let next = next_step(&q)?;
    let form = form_object(pairs);
    let edit = Edit {
        version: form_version(&form)?,
        conflict: form_conflict(&form),
        item: None,
        typed: None,
    };
    let change: Change = match step {
        "basics" => {
            let f: draft::BasicsForm = form_as(&form)?;
            Box::new(move |d| draft::apply_basics(d, &f))
        }
        "frontend" => {
            let f: draft::FrontendForm = form_as(&form)?;
            Box::new(move |d| draft::apply_frontend(d, &f))
        }
        "services" => {
            let f: draft::RolloutForm = form_as(&form)?;
            Box::new(move |d| draft::apply_rollout(d, &f))
        }
        "routing" => {
            let f: DefaultForm = form_as(&form)?;
            let t = draft::TargetForm {
                kind: f.default_kind,
                backend: f.default_backend,
                split: f.default_split,
            };
            Box::new(move |d| draft::apply_default(d, &t))
        }
        // Backends have their own add/remove forms and Review has nothing to save: the step's
        // Next button still posts here, so move on without a change.
        _ => {
            let target = step_url(id, next.unwrap_or(step));
            return if crate::http::is_htmx(&headers) {
                let mut res = StatusCode::NO_CONTENT.into_response();
                if let Ok(v) = HeaderValue::from_str(&target) {
                    res.headers_mut().insert("hx-redirect", v);
                }
                Ok(res)
            } else {
                Ok(Redirect::to(&target).into_response())
            };
        }
    };
    change_and_answer(&state, &user, shell, &headers, id, step, edit, next, change).await
}

#[derive(Debug, Default, Deserialize)]
struct DefaultForm {
    #[serde(default)]
    default_kind: String,
    #[serde(default)]
    default_backend: String,
    #[serde(default)]
    default_split: String,
}

/// The path of a list item's route: the deployment id, and for an existing item its index.
pub(crate) trait ItemPath: DeserializeOwned + Send + 'static {
    fn id(&self) -> i64;
    /// The item's index; `None` for a new item.
    fn index(&self) -> Option<usize>;
}

impl ItemPath for i64 {
    fn id(&self) -> i64 {
        *self
    }
    fn index(&self) -> Option<usize> {
        None
    }
}

impl ItemPath for (i64, usize) {
    fn id(&self) -> i64 {
        self.0
    }
    fn index(&self) -> Option<usize> {
        Some(self.1)
    }
}

/// One add, update or remove form of a list on a step (backends, services, routing rules): the
/// step that answers it, what its route's path holds and what its fields change. One handler,
/// [`change_item`], serves them all, so every list edit is read, saved and answered alike.
pub(crate) trait ItemChange {
    const STEP: &'static str;
    type At: ItemPath;
    fn change(form: &Value, at: &Self::At) -> AppResult<Change>;
}

pub(crate) async fn change_item<C: ItemChange>(
    State(state): State<AppState>,
    Editor(user): Editor,
    shell: Shell,
    headers: HeaderMap,
    Path(at): Path<C::At>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let form = form_object(pairs);
    let edit = Edit {
        version: form_version(&form)?,
        conflict: form_conflict(&form),
        item: at.index(),
        typed: match (at.index(), C::STEP) {
            (None, "backends") if form["type"] == "internet" => {
                form_as(&form).ok().map(|f| Typed::Internet(Box::new(f)))
            }
            (None, "services") => form_as(&form).ok().map(|f| Typed::Service(Box::new(f))),
            _ => None,
        },
    };
    let change = C::change(&form, &at)?;
    change_and_answer(
        &state,
        &user,
        shell,
        &headers,
        at.id(),
        C::STEP,
        edit,
        None,
        change,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
struct BackendTypeForm {
    #[serde(default, rename = "type")]
    kind: String,
}

pub(crate) struct AddBackend;

impl ItemChange for AddBackend {
    const STEP: &'static str = "backends";
    type At = i64;
    fn change(form: &Value, _: &i64) -> AppResult<Change> {
        let kind: BackendTypeForm = form_as(form)?;
        match kind.kind.as_str() {
            "serverless" => {
                let f: draft::ServerlessForm = form_as(form)?;
                Ok(Box::new(move |d| draft::add_serverless(d, &f)))
            }
            "internet" => {
                let f: draft::InternetForm = form_as(form)?;
                Ok(Box::new(move |d| draft::add_internet(d, &f)))
            }
            other => Err(AppError::invalid(
                "type",
                format!("`{other}` is not a backend type: serverless or internet"),
            )),
        }
    }
}

pub(crate) struct UpdateBackend;

impl ItemChange for UpdateBackend {
    const STEP: &'static str = "backends";
    type At = (i64, usize);
    fn change(form: &Value, &(_, index): &(i64, usize)) -> AppResult<Change> {
        let serverless: draft::ServerlessForm = form_as(form)?;
        let internet: draft::InternetForm = form_as(form)?;
        Ok(Box::new(move |d| {
            draft::update_backend(d, index, &serverless, &internet)
        }))
    }
}

pub(crate) struct RemoveBackend;

impl ItemChange for RemoveBackend {
    const STEP: &'static str = "backends";
    type At = (i64, usize);
    fn change(_: &Value, &(_, index): &(i64, usize)) -> AppResult<Change> {
        Ok(Box::new(move |d| draft::remove_backend(d, index)))
    }
}

pub(crate) struct AddRule;

impl ItemChange for AddRule {
    const STEP: &'static str = "routing";
    type At = i64;
    fn change(form: &Value, _: &i64) -> AppResult<Change> {
        let f: draft::RuleForm = form_as(form)?;
        Ok(Box::new(move |d| draft::add_rule(d, &f)))
    }
}

pub(crate) struct UpdateRule;

impl ItemChange for UpdateRule {
    const STEP: &'static str = "routing";
    type At = (i64, usize);
    fn change(form: &Value, &(_, index): &(i64, usize)) -> AppResult<Change> {
        let f: draft::RuleForm = form_as(form)?;
        Ok(Box::new(move |d| draft::update_rule(d, index, &f)))
    }
}

pub(crate) struct RemoveRule;

impl ItemChange for RemoveRule {
    const STEP: &'static str = "routing";
    type At = (i64, usize);
    fn change(_: &Value, &(_, index): &(i64, usize)) -> AppResult<Change> {
        Ok(Box::new(move |d| draft::remove_rule(d, index)))
    }
}

pub(crate) struct AddService;

impl ItemChange for AddService {
    const STEP: &'static str = "services";
    type At = i64;
    fn change(form: &Value, _: &i64) -> AppResult<Change> {
        let f: draft::ServiceForm = form_as(form)?;
        Ok(Box::new(move |d| draft::add_service(d, &f)))
    }
}

pub(crate) struct UpdateService;

impl ItemChange for UpdateService {
    const STEP: &'static str = "services";
    type At = (i64, usize);
    fn change(form: &Value, &(_, index): &(i64, usize)) -> AppResult<Change> {
        let f: draft::ServiceForm = form_as(form)?;
        Ok(Box::new(move |d| draft::update_service(d, index, &f)))
    }
}

pub(crate) struct RemoveService;

impl ItemChange for RemoveService {
    const STEP: &'static str = "services";
    type At = (i64, usize);
    fn change(_: &Value, &(_, index): &(i64, usize)) -> AppResult<Change> {
        Ok(Box::new(move |d| draft::remove_service(d, index)))
    }
}
