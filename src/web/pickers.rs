//! The wizard's pick lists: the projects the panel's credentials can see (Resource Manager
//! `projects.search`), the Cloud Run services of a deployment's project with the regions they
//! run in. Each is a `<datalist>` that the step loads after the page (htmx, `load`), so a slow
//! or failing Google never holds up the form: typing stays possible, and when a list cannot be
//! had the note beside it says why, quietly.
//!
//! Lists are kept [`TTL`] (failures too), so neither reloads nor many open wizards call Google
//! more than once a minute per list.

use crate::AppState;
use crate::auth::Viewer;
use crate::cloud::types::RunService;
use crate::cloud::{Client, CloudError};
use crate::domain::lint::KnownService;
use crate::domain::validate;
use crate::error::{AppResult, Path};
use crate::web::{Routes, render};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a list is kept.
pub const TTL: Duration = Duration::from_secs(60);

/// Longest a list may take: the client's retries wait out rate limits for minutes, which a
/// pick list should not.
const PATIENCE: Duration = Duration::from_secs(15);

pub fn routes(r: Routes) -> Routes {
    use crate::auth::Access;
    r.get("/pickers/projects", Access::Viewer, projects).get(
        "/deployments/{id}/pickers/services",
        Access::Viewer,
        services,
    )
}

/// One offer of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    /// What the browser shows beside the value (a display name; a service's regions).
    pub label: String,
    /// A service's regions, `europe-west1, us-central1`, which picking it fills in.
    pub regions: String,
}

/// What a list offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List {
    pub choices: Vec<Choice>,
    /// The services listed, with their project, region and run.app hosts: what the Review's
    /// lint recognises a `*.run.app` internet backend by.
    pub known: Vec<KnownService>,
    /// The regions whose services could not be read, and why, when only some answered.
    pub unread: Option<String>,
}

/// A list, or why there is none.
pub type Offers = Result<List, String>;

type Kept = (Instant, Arc<Offers>);

/// The kept lists.
#[derive(Default)]
pub struct Pickers {
    /// Held while the project list is read, so requests that find it stale wait for one read.
    projects: tokio::sync::Mutex<Option<Kept>>,
    /// Service lists by project.
    services: tokio::sync::Mutex<HashMap<String, Kept>>,
}

impl Pickers {
    pub async fn projects(&self, cloud: &Client) -> Arc<Offers> {
        let mut kept = self.projects.lock().await;
        if let Some((at, offers)) = kept.as_ref()
            && at.elapsed() < TTL
        {
            return offers.clone();
        }
        let offers = Arc::new(within_patience(project_offers(cloud)).await);
        *kept = Some((Instant::now(), offers.clone()));
        offers
    }

    pub async fn services(&self, cloud: &Client, project: &str) -> Arc<Offers> {
        let mut kept = self.services.lock().await;
        if let Some((at, offers)) = kept.get(project)
            && at.elapsed() < TTL
        {
            return offers.clone();
        }
        let offers = Arc::new(within_patience(service_offers(cloud, project)).await);
        kept.retain(|_, (at, _)| at.elapsed() < TTL);
        kept.insert(project.to_string(), (Instant::now(), offers.clone()));
        offers
    }

    /// Every Cloud Run service in the service lists kept now, without asking Google: what the
    /// panel has seen lately. Empty while a list is being read.
    pub fn known_services(&self) -> Vec<KnownService> {
        let Ok(kept) = self.services.try_lock() else {
            return Vec::new();
        };
        kept.values()
            .filter(|(at, _)| at.elapsed() < TTL)
            .filter_map(|(_, offers)| offers.as_ref().as_ref().ok())
            .flat_map(|list| list.known.iter().cloned())
            .collect()
    }
}

/// A listed service as the lint knows it: `projects/P/locations/R/services/S` and its URLs.
fn known_service(s: &RunService) -> Option<KnownService> {
    let parts: Vec<&str> = s.name.as_deref()?.split('/').collect();
    let ["projects", project, "locations", region, "services", name] = parts.as_slice() else {
        return None;
    };
    let hosts = s
        .uri
        .iter()
        .chain(&s.urls)
        .filter_map(|u| u.strip_prefix("https://"))
        .map(|h| h.trim_end_matches('/').to_string())
        .collect();
    Some(KnownService {
        project: project.to_string(),
        name: name.to_string(),
        region: region.to_string(),
        hosts,
    })
}

async fn within_patience(list: impl Future<Output = Result<List, CloudError>>) -> Offers {
    match tokio::time::timeout(PATIENCE, list).await {
        Ok(Ok(choices)) => Ok(choices),
        Ok(Err(e)) => {
            tracing::info!(error = %e, "a wizard pick list could not be read");
            Err(why(&e))
        }
        Err(_) => Err("Google Cloud took too long to answer".into()),
    }
}

/// Why a list is empty, in a few words (the error's own text carries Google's message).
fn why(e: &CloudError) -> String {
    match e {
        CloudError::Unauthenticated { .. } => {
            "the panel has no Google Cloud credentials it can use".into()
        }
        CloudError::PermissionDenied { message } => {
            format!("the panel's credentials may not list them: {message}")
        }
        other => other.to_string(),
    }
}

/// The ACTIVE projects, by id, with their display names.
async fn project_offers(cloud: &Client) -> Result<List, CloudError> {
    let mut choices: Vec<Choice> = cloud
        .search_projects()
        .await?
        .into_iter()
        .filter(|p| p.is_active())
        .map(|p| Choice {
            label: p
                .display_name
                .filter(|n| *n != p.project_id)
                .unwrap_or_default(),
            value: p.project_id,
            regions: String::new(),
        })
        .collect();
    choices.sort_by(|a, b| a.value.cmp(&b.value));
    Ok(List {
        choices,
        known: Vec::new(),
        unread: None,
    })
}

/// Every Cloud Run service of `project` in any Cloud Run region, each with its regions.
async fn service_offers(cloud: &Client, project: &str) -> Result<List, CloudError> {
    services_list(
        cloud
            .run_services_in(project, validate::CLOUD_RUN_REGIONS)
            .await,
    )
}

/// The services of the regions that answered, by name with their regions; an error only when
/// no region answered (then the list would only mislead).
fn services_list(
    answers: Vec<(String, Result<Vec<RunService>, CloudError>)>,
) -> Result<List, CloudError> {
    let mut by_name: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut unread: Vec<(String, CloudError)> = Vec::new();
    let mut known = Vec::new();
    let mut answered = false;
    for (region, listed) in answers {
        match listed {
            Ok(services) => {
                answered = true;
                known.extend(services.iter().filter_map(known_service));
                for s in services {
                    if let Some(name) = s.name.as_deref().and_then(|n| n.rsplit('/').next()) {
                        by_name
                            .entry(name.to_string())
                            .or_default()
                            .push(region.clone());
                    }
                }
            }
            Err(e) => unread.push((region, e)),
        }
    }
    if !answered && !unread.is_empty() {
        return Err(unread.swap_remove(0).1);
    }
    let choices = by_name
        .into_iter()
        .map(|(name, mut regions)| {
            regions.sort();
            let regions = regions.join(", ");
            Choice {
                label: format!("{name} — {regions}"),
                value: name,
                regions,
            }
        })
        .collect();
    let unread = unread.first().map(|(_, e)| {
        let names: Vec<&str> = unread.iter().map(|(r, _)| r.as_str()).collect();
        format!("{} ({})", names.join(", "), why(e))
    });
    Ok(List {
        choices,
        known,
        unread,
    })
}

#[derive(Template)]
#[template(path = "deployments/picker_partial.html")]
struct Picker {
    /// The datalist's id (the inputs' `list`).
    id: &'static str,
    choices: Vec<Choice>,
    note: String,
}

/// The list `id` with its note: how many `what` there are to pick from (and what a pick does,
/// `on_pick`), or why there are none, and that `typing` remains.
fn picker(
    id: &'static str,
    offers: &Offers,
    what: &str,
    on_pick: &str,
    typing: &str,
) -> AppResult<Response> {
    let (choices, mut note) = match offers {
        Ok(List { choices: c, .. }) if c.is_empty() => {
            (Vec::new(), format!("No {what} found; {typing}."))
        }
        Ok(List { choices: c, .. }) => (
            c.clone(),
            format!(
                "{} {what} to pick from{on_pick}, or {typing}.",
                c.len(),
                what = if c.len() == 1 {
                    what.trim_end_matches('s')
                } else {
                    what
                }
            ),
        ),
        Err(why) => (
            Vec::new(),
            format!("No list of {what}: {why}. {}.", capitalise(typing)),
        ),
    };
    if let Ok(List {
        unread: Some(unread),
        ..
    }) = offers
    {
        note.push_str(&format!(" Not read: {unread}."));
    }
    render(StatusCode::OK, &Picker { id, choices, note })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

const SERVICE_PICK: &str = " (a pick fills in the regions it runs in)";

/// `GET /pickers/projects`: the Basics step's list of projects.
async fn projects(State(state): State<AppState>, Viewer(_): Viewer) -> AppResult<Response> {
    let offers = state.pages.pickers.projects(&state.cloud).await;
    picker(
        "project-choices",
        &offers,
        "projects",
        "",
        "type the project id",
    )
}

/// `GET /deployments/{id}/pickers/services`: the Cloud Run services of the deployment's project.
async fn services(
    State(state): State<AppState>,
    Viewer(_): Viewer,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let loaded = super::deployments::load(&state, id).await?;
    let project = loaded.draft.project.trim();
    if !validate::is_project_id(project) {
        return picker(
            "service-choices",
            &Err("the project on Basics is not a project id yet".into()),
            "Cloud Run services",
            SERVICE_PICK,
            "type the service name",
        );
    }
    let offers = state.pages.pickers.services(&state.cloud, project).await;
    picker(
        "service-choices",
        &offers,
        "Cloud Run services",
        SERVICE_PICK,
        "type the service name",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(project: &str, region: &str, id: &str) -> RunService {
        RunService {
            name: Some(format!(
                "projects/{project}/locations/{region}/services/{id}"
            )),
            ..RunService::default()
        }
    }

    #[test]
    fn services_are_offered_by_name_with_their_regions_and_the_unread_regions_said() {
        let denied = || CloudError::PermissionDenied {
            message: "Location asia-x1 is not available".into(),
        };
        let list = services_list(vec![
            (
                "us-central1".into(),
                Ok(vec![service("p", "us-central1", "hello")]),
            ),
            ("asia-x1".into(), Err(denied())),
            (
                "europe-west1".into(),
                Ok(vec![
                    service("p", "europe-west1", "hello"),
                    service("p", "europe-west1", "api"),
                ]),
            ),
        ])
        .unwrap();
        let offered: Vec<(&str, &str, &str)> = list
            .choices
            .iter()
            .map(|c| (c.value.as_str(), c.label.as_str(), c.regions.as_str()))
            .collect();
        assert_eq!(
            offered,
            [
                ("api", "api — europe-west1", "europe-west1"),
                (
                    "hello",
                    "hello — europe-west1, us-central1",
                    "europe-west1, us-central1"
                ),
            ]
        );
        assert_eq!(
            list.known
                .iter()
                .map(|k| (k.project.as_str(), k.region.as_str(), k.name.as_str()))
                .collect::<Vec<_>>(),
            [
                ("p", "us-central1", "hello"),
                ("p", "europe-west1", "hello"),
                ("p", "europe-west1", "api")
            ]
        );
        assert_eq!(
            list.unread.as_deref(),
            Some(
                "asia-x1 (the panel's credentials may not list them: Location asia-x1 is not available)"
            )
        );
        // No region answered: the first refusal is the answer.
        let none = services_list(vec![
            ("asia-x1".into(), Err(denied())),
            (
                "us-central1".into(),
                Err(CloudError::Unauthenticated {
                    message: "x".into(),
                }),
            ),
        ]);
        assert_eq!(none, Err(denied()));
        assert_eq!(services_list(vec![]), Ok(List::default()));
    }
}
