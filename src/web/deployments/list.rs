//! The drafts list, creating a draft (the wizard's Basics step), the overview, duplicate,
//! delete, and the versions page where refused edits are recovered.

use super::wizard::{BackendView, backend_view};
use super::{
    Flash, Link, Saved, form_object, form_version, load, message_page, save, wizard_css_url,
};
use crate::AppState;
use crate::auth::{Editor, Viewer};
use crate::db::deployments::{self as store, SaveError};
use crate::domain::describe;
use crate::domain::draft::{self, Draft};
use crate::domain::env_values::EnvValues;
use crate::domain::spec_changes::spec_changes;
use crate::domain::validate;
use crate::error::{AppError, AppResult, Form, Path};
use crate::web::{Shell, render};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

pub(crate) struct Row {
    id: i64,
    name: String,
    project: String,
    version: i64,
    owner: String,
    updated_by: String,
    updated_at: String,
    /// `valid`, `invalid` or `incomplete`.
    state: &'static str,
}

/// A forgotten deployment whose resources were left running.
pub(crate) struct ForgottenView {
    name: String,
    project: String,
    by: String,
    at: String,
    resources: usize,
}

#[derive(Template)]
#[template(path = "deployments/list.html")]
struct ListPage {
    shell: Shell,
    css_url: &'static str,
    can_edit: bool,
    rows: Vec<Row>,
    forgotten: Vec<ForgottenView>,
}

/// How far a draft is: a valid spec, a spec with errors, or parts still missing.
fn draft_state(d: &Draft) -> &'static str {
    match d.to_spec() {
        Ok(spec) if validate::validate(&spec).is_ok() => "valid",
        Ok(_) => "invalid",
        Err(_) => "incomplete",
    }
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    shell: Shell,
) -> AppResult<Response> {
    let rows = store::list(&state.db)
        .await?
        .into_iter()
        .map(|r| {
            let d = Draft::from_json(&r.spec).ok();
            Row {
                id: r.id,
                project: d.as_ref().map(|d| d.project.clone()).unwrap_or_default(),
                state: d.as_ref().map(draft_state).unwrap_or("invalid"),
                name: r.name,
                version: r.version,
                owner: r.created_by,
                updated_by: r.updated_by,
                updated_at: r.updated_at.clone(),
            }
        })
        .collect();
    let forgotten = crate::db::forgotten::list(&state.db)
        .await?
        .into_iter()
        .map(|f| ForgottenView {
            resources: f.resource_paths().len(),
            name: f.name,
            project: f.project,
            by: f.forgotten_by,
            at: f.forgotten_at,
        })
        .collect();
    render(
        StatusCode::OK,
        &ListPage {
            shell,
            css_url: wizard_css_url(),
            can_edit: user.can_edit(),
            rows,
            forgotten,
        },
    )
}

/// `2026-11-23T11:58:11.123Z` → `2026-11-23 11:58 UTC`.
/// How long before `now` the UTC time `t` was, in words (the pages' one rule, `web::when`).
pub(crate) fn ago(t: &str, now: time::OffsetDateTime) -> String {
    crate::web::when::ago_at(t, now)
}

#[derive(Template)]
#[template(path = "deployments/new.html")]
struct NewPage {
    shell: Shell,
    css_url: &'static str,
    name: String,
    project: String,
    error: Option<String>,
    /// How long the name may be for a new draft (HTTP, the default, and no backends yet).
    name_hint: String,
    /// Every step the wizard will have.
    steps: Vec<&'static str>,
}

fn new_draft_hint() -> String {
    Draft::new("name", "project")
        .map(|d| super::wizard::name_hint(&d))
        .unwrap_or_default()
}

fn step_titles() -> Vec<&'static str> {
    super::wizard::STEPS.iter().map(|(_, t)| *t).collect()
}

pub(crate) async fn new_page(Editor(_): Editor, shell: Shell) -> AppResult<Response> {
    render(
        StatusCode::OK,
        &NewPage {
            shell,
            css_url: wizard_css_url(),
            name: String::new(),
            project: String::new(),
            error: None,
            name_hint: new_draft_hint(),
            steps: step_titles(),
        },
    )
}

/// Creates a draft from the Basics step and continues with Frontend.
pub(crate) async fn create(
    State(state): State<AppState>,
    Editor(user): Editor,
    shell: Shell,
    Form(f): Form<draft::BasicsForm>,
) -> AppResult<Response> {
    let again = |shell, error: String| {
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &NewPage {
                shell,
                css_url: wizard_css_url(),
                name: f.name.clone(),
                project: f.project.clone(),
                error: Some(error),
                name_hint: new_draft_hint(),
                steps: step_titles(),
            },
        )
    };
    let d = match Draft::new(&f.name, &f.project) {
        Ok(d) => d,
        Err(e) => return again(shell, e.message),
    };
    super::refuse_oversized(&d.to_json())?;
    match store::create(&state.db, &d.name, &d.to_json().to_string(), &user.name).await {
        Ok(row) => {
            crate::audit::record(
                &state.db,
                &user.name,
                crate::audit::Action::DeploymentCreate,
                &crate::audit::deployment(row.id),
                serde_json::json!({"name": row.name, "version": row.version}),
            )
            .await;
            // A name or project the rules refuse is said under its field on Basics; the draft
            // keeps what was typed either way.
            let step = if super::wizard::basics_problems(&d) > 0 {
                "basics"
            } else {
                "frontend"
            };
            Ok(Redirect::to(&format!("/deployments/{}/edit/{step}", row.id)).into_response())
        }
        Err(SaveError::NameTaken(n)) => again(
            shell,
            format!("a deployment named `{n}` already exists; choose another name"),
        ),
        Err(SaveError::Db(e)) => Err(e.into()),
        Err(e) => Err(AppError::Internal(e.into())),
    }
}

#[derive(Template)]
#[template(path = "deployments/overview.html")]
struct OverviewPage {
    shell: Shell,
    css_url: &'static str,
    id: i64,
    name: String,
    version: i64,
    can_edit: bool,
    owner: String,
    updated_by: String,
    updated_at: String,
    state: &'static str,
    project: String,
    frontend: String,
    backends: Vec<BackendView>,
    routing: Vec<String>,
    conflicts: usize,
    /// The draft version the last successful apply put in the cloud, to roll back to.
    applied_version: Option<i64>,
    /// A job of it queued or running (deleting waits for it).
    active_job: Option<i64>,
    /// The apply whose resources may be in the cloud (deleting waits for a destroy).
    resources_job: Option<i64>,
    /// Other deployments follow this one (`backends[].deployment`): destroying or deleting it
    /// leaves them without their backend.
    chain_warning: Option<String>,
}

pub(crate) async fn overview(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    shell: Shell,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let l = load(&state, id).await?;
    let conflicts = store::conflicts(&state.db, id).await?.len();
    let key = crate::db::jobs::deployment_key(id);
    let active_job = crate::db::jobs::active_job_for(&state.db, &key)
        .await?
        .map(|j| j.id);
    let resources_job = crate::db::jobs::resource_jobs(&state.db, id)
        .await?
        .first()
        .map(|j| j.id);
    let d = &l.draft;
    render(
        StatusCode::OK,
        &OverviewPage {
            shell,
            css_url: wizard_css_url(),
            id,
            name: l.row.name.clone(),
            version: l.row.version,
            can_edit: user.can_edit(),
            owner: l.row.created_by.clone(),
            updated_by: l.row.updated_by.clone(),
            updated_at: l.row.updated_at.clone(),
            state: draft_state(d),
            project: d.project.clone(),
            frontend: describe::draft_frontend(d),
            backends: d
                .backends
                .iter()
                .enumerate()
                .map(|(i, b)| backend_view(i, b))
                .collect(),
            routing: describe::draft_routing(d),
            conflicts,
            applied_version: crate::deploy::applied_version(&state.db, id).await?,
            active_job,
            resources_job,
            chain_warning: crate::deploy::chain::destroy_warning(
                &state.db,
                state.deployer.reader().as_ref(),
                &l.row.name,
            )
            .await?,
        },
    )
}

/// A name for a copy that no live deployment has: `NAME-copy`, `NAME-copy-2`, ... kept within
/// the 63 characters of a resource name.
fn copy_name(name: &str, attempt: usize) -> String {
    let suffix = if attempt == 1 {
        "-copy".to_string()
    } else {
        format!("-copy-{attempt}")
    };
    let keep = 63usize.saturating_sub(suffix.len()).min(name.len());
    let mut base = name.get(..keep).unwrap_or(name).to_string();
    while base.ends_with('-') {
        base.pop();
    }
    format!("{base}{suffix}")
}

pub(crate) async fn duplicate(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let l = load(&state, id).await?;
    let mut d = l.draft.clone();
    for attempt in 1..=100 {
        d.name = copy_name(&l.draft.name, attempt);
        match store::create(&state.db, &d.name, &d.to_json().to_string(), &user.name).await {
            Ok(row) => {
                crate::audit::record(&state.db, &user.name, crate::audit::Action::DeploymentCreate, &crate::audit::deployment(row.id), serde_json::json!({"name": row.name, "version": row.version, "via": "duplicate"})).await;
                return Ok(
                    Redirect::to(&format!("/deployments/{}/edit/basics", row.id)).into_response(),
                );
            }
            Err(SaveError::NameTaken(_)) => continue,
            Err(SaveError::Db(e)) => return Err(e.into()),
            Err(e) => return Err(AppError::Internal(e.into())),
        }
    }
    Err(AppError::Conflict(
        "there are already 100 copies of this deployment; rename some first".into(),
    ))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    Editor(user): Editor,
    shell: Shell,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let row = store::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    if let Err(e) = state.deployer.delete(&row).await {
        let mut links = Vec::new();
        if matches!(e, crate::deploy::DeployError::Deployed { .. }) {
            links.push(Link {
                href: format!("/deployments/{id}/destroy"),
                label: format!("Destroy {}", row.name),
            });
        }
        links.push(Link {
            href: format!("/deployments/{id}#manage"),
            label: "Back to the deployment".into(),
        });
        return match AppError::from(e) {
            AppError::Conflict(why) => refused(
                shell,
                &headers,
                "Not deleted",
                Flash {
                    kind: "error",
                    message: format!("Not deleted: {why}."),
                    links,
                },
                StatusCode::CONFLICT,
            ),
            other => Err(other),
        };
    }
    crate::audit::record(
        &state.db,
        &user.name,
        crate::audit::Action::DeploymentDelete,
        &crate::audit::deployment(id),
        serde_json::json!({"name": row.name}),
    )
    .await;
    Ok(Redirect::to("/deployments").into_response())
}

/// A refused action's page. The delete buttons post through htmx (for their confirmation),
/// and htmx 2 swaps no 4xx answer: an htmx request gets the page with a 200, without the post's
/// URL in the history.
fn refused(
    shell: Shell,
    headers: &HeaderMap,
    title: &str,
    flash: Flash,
    status: StatusCode,
) -> AppResult<Response> {
    if crate::http::is_htmx(headers) {
        let mut res = message_page(shell, StatusCode::OK, title, flash)?;
        res.headers_mut()
            .insert("hx-push-url", HeaderValue::from_static("false"));
        return Ok(res);
    }
    message_page(shell, status, title, flash)
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct ForgetForm {
    /// The deployment's name, typed.
    #[serde(default)]
    confirm: String,
}

/// "Forget it and leave its resources running": the deployment leaves the panel, and the record
/// kept of its resources stops any later plan from touching them.
pub(crate) async fn forget(
    State(state): State<AppState>,
    Editor(user): Editor,
    shell: Shell,
    Path(id): Path<i64>,
    Form(form): Form<ForgetForm>,
) -> AppResult<Response> {
    let row = store::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let back = Link {
        href: format!("/deployments/{id}#manage"),
        label: "Back to the deployment".into(),
    };
    match state.deployer.forget(&row, &form.confirm, &user.name).await {
        Ok(record) => {
            crate::audit::record(
                &state.db,
                &user.name,
                crate::audit::Action::DeploymentForget,
                &crate::audit::deployment(id),
                serde_json::json!({"name": record.name, "project": record.project,
                    "job": record.job_id, "resources": record.resource_paths().len()}),
            )
            .await;
            Ok(Redirect::to("/deployments#forgotten").into_response())
        }
        Err(e) => match AppError::from(e) {
            AppError::Invalid { message, .. } => message_page(
                shell,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Not forgotten",
                Flash {
                    kind: "error",
                    message: format!("Not forgotten: {message}."),
                    links: vec![back],
                },
            ),
            AppError::Conflict(why) => message_page(
                shell,
                StatusCode::CONFLICT,
                "Not forgotten",
                Flash {
                    kind: "error",
                    message: format!("Not forgotten: {why}."),
                    links: vec![back],
                },
            ),
            other => Err(other),
        },
    }
}

pub(crate) struct VersionView {
    version: i64,
    author: String,
    created_at: String,
    json: String,
    current: bool,
    /// What this version changed from the one before, field by field.
    changes: Vec<String>,
    /// True for the version the last successful apply put in the cloud.
    applied: bool,
}

pub(crate) struct ConflictView {
    id: i64,
    based_on: i64,
    author: String,
    created_at: String,
    json: String,
}

#[derive(Template)]
#[template(path = "deployments/versions.html")]
struct VersionsPage {
    shell: Shell,
    css_url: &'static str,
    id: i64,
    name: String,
    version: i64,
    can_edit: bool,
    versions: Vec<VersionView>,
    conflicts: Vec<ConflictView>,
}

/// A stored document as the reader may see it (environment values hidden from viewers), pretty.
fn pretty(text: &str, env: EnvValues) -> String {
    let mut v = serde_json::from_str::<serde_json::Value>(text)
        .unwrap_or_else(|_| serde_json::Value::String(text.to_string()));
    env.document(&mut v);
    match v {
        serde_json::Value::String(s) => s,
        v => serde_json::to_string_pretty(&v).unwrap_or_default(),
    }
}

pub(crate) async fn versions(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    shell: Shell,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let l = load(&state, id).await?;
    let applied = crate::deploy::applied_version(&state.db, id).await?;
    let stored = store::versions(&state.db, id).await?;
    let parsed = |text: &str| serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    let versions = stored
        .iter()
        .map(|v| {
            let before = stored.iter().find(|p| p.version == v.version - 1);
            VersionView {
                current: v.version == l.row.version,
                version: v.version,
                author: v.author.clone(),
                created_at: v.created_at.clone(),
                json: pretty(&v.spec, user.env_values()),
                changes: match before {
                    Some(p) => spec_changes(&parsed(&p.spec), &parsed(&v.spec)),
                    None => vec!["first version".to_string()],
                },
                applied: applied == Some(v.version),
            }
        })
        .collect();
    let conflicts = store::conflicts(&state.db, id)
        .await?
        .into_iter()
        .map(|c| ConflictView {
            id: c.id,
            based_on: c.based_on,
            author: c.author,
            created_at: c.created_at.clone(),
            json: pretty(&c.spec, user.env_values()),
        })
        .collect();
    render(
        StatusCode::OK,
        &VersionsPage {
            shell,
            css_url: wizard_css_url(),
            id,
            name: l.row.name.clone(),
            version: l.row.version,
            can_edit: user.can_edit(),
            versions,
            conflicts,
        },
    )
}

/// Makes an older version or a kept conflict copy the current draft, as a new version (the
/// version it replaces stays in the history).
pub(crate) async fn restore(
    State(state): State<AppState>,
    Editor(user): Editor,
    shell: Shell,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let form = form_object(pairs);
    let version = form_version(&form)?;
    let source = form
        .get("source")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    let text = if let Some(n) = source.strip_prefix("version:") {
        let n: i64 = n
            .parse()
            .map_err(|_| AppError::invalid("source", "no such version"))?;
        store::versions(&state.db, id)
            .await?
            .into_iter()
            .find(|v| v.version == n)
            .map(|v| v.spec)
    } else if let Some(c) = source.strip_prefix("conflict:") {
        let c: i64 = c
            .parse()
            .map_err(|_| AppError::invalid("source", "no such copy"))?;
        store::conflicts(&state.db, id)
            .await?
            .into_iter()
            .find(|k| k.id == c)
            .map(|k| k.spec)
    } else {
        None
    };
    let text = text.ok_or_else(|| {
        AppError::invalid(
            "source",
            "choose a version or a kept copy of this deployment",
        )
    })?;
    let d = Draft::from_json(&text).map_err(|e| {
        AppError::invalid("source", format!("that copy does not read as a spec: {e}"))
    })?;
    let back = format!("/deployments/{id}/versions");
    // A rollback is a restore followed by the plan from the live state to that version,
    // reviewed and applied like any plan.
    let rollback = form.get("rollback").is_some();
    match save(&state, id, version, &d, &user).await? {
        Saved::Done(saved) => {
            let action = if rollback {
                crate::audit::Action::DeploymentRollback
            } else {
                crate::audit::Action::DeploymentRestore
            };
            crate::audit::record(
                &state.db,
                &user.name,
                action,
                &crate::audit::deployment(id),
                serde_json::json!({"source": source, "version": saved.version}),
            )
            .await;
            let to = if rollback {
                format!("/deployments/{id}/plan")
            } else {
                format!("/deployments/{id}")
            };
            Ok(Redirect::to(&to).into_response())
        }
        Saved::Stale {
            expected,
            current,
            current_by,
            conflict_id,
        } => message_page(
            shell,
            StatusCode::CONFLICT,
            "Not restored",
            Flash::stale(id, &back, expected, current, &current_by, conflict_id),
        ),
        Saved::NameTaken(n) => message_page(
            shell,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not restored",
            Flash::name_taken(&n),
        ),
        Saved::Moved { field, message } => message_page(
            shell,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not restored",
            Flash::moved(field, &message),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_names_fit_and_count_up() {
        assert_eq!(copy_name("shop", 1), "shop-copy");
        assert_eq!(copy_name("shop", 3), "shop-copy-3");
        let long = "a".repeat(63);
        assert_eq!(copy_name(&long, 1).len(), 63);
        assert!(copy_name(&long, 12).ends_with("-copy-12"));
    }
}
