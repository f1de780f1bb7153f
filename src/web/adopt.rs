//! The adopt page (`/adopt`, editors): the global external Application Load Balancers of a
//! project, each with its IP, domains, backends, a topology picture, whether a deployment
//! already manages it, and what the spec cannot express with what adopting does about it;
//! adopting one creates the draft that keeps its names and opens its first plan.

use super::{Routes, Shell, render};
use crate::AppState;
use crate::auth::{Access, Editor};
use crate::deploy::Discovered;
use crate::domain::adopt::Outcome;
use crate::domain::{topology, validate};
use crate::error::{AppError, AppResult, Form, Query};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub fn routes(r: Routes) -> Routes {
    r.get("/adopt", Access::Editor, adopt_page)
        .post("/adopt", Access::Editor, adopt)
}

/// One resource of a load balancer, as the page lists it.
struct Part {
    kind: String,
    name: String,
    path: String,
}

/// Something the spec cannot express, with what adopting does with it.
struct Gap {
    resource: String,
    what: String,
    meaning: String,
    /// `None`: kept as it is and left alone.
    refused: Option<String>,
}

struct Card {
    id: String,
    ip: String,
    domains: Vec<String>,
    backends: Vec<String>,
    parts: Vec<Part>,
    gaps: Vec<Gap>,
    shared_ip: bool,
    shared_backend_services: Vec<String>,
    /// The deployment that manages it: (id, name).
    managed_by: Option<(i64, String)>,
    adoptable: bool,
    /// The topology the adopted spec describes (escaped by `topology::to_svg`).
    svg: Option<String>,
}

#[derive(Template)]
#[template(path = "adopt.html")]
struct AdoptPage {
    shell: Shell,
    project: String,
    /// The project field's problem, or why the project could not be read.
    error: Option<String>,
    searched: bool,
    cards: Vec<Card>,
}

#[derive(Debug, Default, Deserialize)]
struct AdoptQuery {
    project: Option<String>,
}

/// The kind of resource a path names, in words.
fn kind_of(path: &str) -> &'static str {
    let collection = path.rsplit('/').nth(1).unwrap_or_default();
    match collection {
        "forwardingRules" => "Forwarding rule",
        "targetHttpsProxies" => "HTTPS proxy",
        "targetHttpProxies" => "HTTP proxy",
        "urlMaps" => "URL map",
        "backendServices" => "Backend service",
        "networkEndpointGroups" if path.contains("/global/") => "Internet NEG",
        "networkEndpointGroups" => "Serverless NEG",
        "sslCertificates" => "SSL certificate",
        "addresses" => "Address",
        "services" => "Cloud Run service",
        "certificateMaps" => "Certificate map",
        _ => "Resource",
    }
}

fn card(d: Discovered, names: &[(i64, String)]) -> Card {
    let adoptable = d.adoptable();
    let lb = d.lb;
    Card {
        svg: lb
            .spec
            .as_ref()
            .map(|s| topology::to_svg(&topology::from_spec(s, lb.ip.as_deref()))),
        id: lb.id,
        ip: lb.ip.unwrap_or_default(),
        domains: lb.domains,
        backends: lb.backends,
        parts: lb
            .resources
            .iter()
            .map(|p| Part {
                kind: kind_of(p).to_string(),
                name: p.rsplit('/').next().unwrap_or_default().to_string(),
                path: p.clone(),
            })
            .collect(),
        gaps: lb
            .unexpressible
            .into_iter()
            .map(|u| Gap {
                resource: u
                    .resource
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                what: u.what,
                meaning: u.meaning,
                refused: match u.outcome {
                    Outcome::Kept => None,
                    Outcome::Refused { reason } => Some(reason),
                },
            })
            .collect(),
        shared_ip: lb.shared_ip,
        shared_backend_services: lb.shared_backend_services,
        managed_by: d.managed_by.map(|id| {
            let name = names
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, n)| n.clone())
                .unwrap_or_default();
            (id, name)
        }),
        adoptable,
    }
}

/// The project to offer first: the newest deployment's.
async fn default_project(state: &AppState) -> String {
    crate::db::deployments::list(&state.db)
        .await
        .ok()
        .and_then(|rows| {
            rows.into_iter()
                .max_by_key(|r| r.updated_at.clone())
                .and_then(|r| serde_json::from_str::<serde_json::Value>(&r.spec).ok())
                .and_then(|v| v["project"].as_str().map(str::to_string))
        })
        .unwrap_or_default()
}

async fn adopt_page(
    State(state): State<AppState>,
    Editor(_user): Editor,
    shell: Shell,
    Query(q): Query<AdoptQuery>,
) -> AppResult<Response> {
    let Some(project) = q.project.map(|p| p.trim().to_string()) else {
        let page = AdoptPage {
            shell,
            project: default_project(&state).await,
            error: None,
            searched: false,
            cards: Vec::new(),
        };
        return render(StatusCode::OK, &page);
    };
    let mut page = AdoptPage {
        shell,
        project: project.clone(),
        error: None,
        searched: true,
        cards: Vec::new(),
    };
    if !validate::is_project_id(&project) {
        page.error = Some(format!(
            "`{project}` is not a Google Cloud project id: 6 to 30 lowercase letters, digits and hyphens, starting with a letter"
        ));
        page.searched = false;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    match state.deployer.load_balancers(&project).await {
        Ok(found) => {
            let names = crate::db::deployments::names(&state.db).await?;
            page.cards = found.into_iter().map(|d| card(d, &names)).collect();
            render(StatusCode::OK, &page)
        }
        Err(e) => {
            page.error = Some(format!("could not read the project's load balancers: {e}"));
            page.searched = false;
            render(StatusCode::BAD_GATEWAY, &page)
        }
    }
}

#[derive(Debug, Deserialize)]
struct AdoptForm {
    #[serde(default)]
    project: String,
    #[serde(default)]
    lb: String,
}

async fn adopt(
    State(state): State<AppState>,
    Editor(user): Editor,
    Form(f): Form<AdoptForm>,
) -> AppResult<Response> {
    let project = f.project.trim();
    if !validate::is_project_id(project) {
        return Err(AppError::invalid(
            "project",
            format!("`{project}` is not a Google Cloud project id"),
        ));
    }
    if f.lb.trim().is_empty() {
        return Err(AppError::invalid("lb", "choose a load balancer to adopt"));
    }
    let row = state
        .deployer
        .adopt(project, f.lb.trim(), &user.name)
        .await?;
    crate::audit::record_adoption(&state.db, &user.name, &row, project, f.lb.trim(), "page").await;
    Ok(Redirect::to(&format!("/deployments/{}/plan", row.id)).into_response())
}
