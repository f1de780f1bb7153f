//! Deployment pages: the drafts list, the console-style wizard (Basics → Frontend → Backends →
//! Services → Routing → Review), the overview, versions and conflict copies, import and export.
//!
//! Every save goes through [`save`], which uses the deployments table's optimistic locking: a
//! form carries the version it was rendered from, and a save based on an older version is
//! refused (and kept as a conflict copy) instead of overwriting someone else's edit.

mod import_export;
mod list;
pub(crate) use list::ago;
pub(crate) mod wizard;

use crate::AppState;
use crate::auth::{Access, CurrentUser};
use crate::db::deployments::{self as store, DeploymentRow, SaveError};
use crate::domain::draft::Draft;
use crate::error::{AppError, AppResult};
use crate::web::{Routes, Shell, render};
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

pub fn routes(r: Routes) -> Routes {
    r.get("/deployments", Access::Viewer, list::list)
        .get("/deployments/new", Access::Editor, list::new_page)
        .post("/deployments", Access::Editor, list::create)
        .get(
            "/deployments/import",
            Access::Editor,
            import_export::import_page,
        )
        .post("/deployments/import", Access::Editor, import_export::import)
        .get("/deployments/{id}", Access::Viewer, list::overview)
        .get(
            "/deployments/{id}/export",
            Access::Viewer,
            import_export::export,
        )
        .post(
            "/deployments/{id}/duplicate",
            Access::Editor,
            list::duplicate,
        )
        .post("/deployments/{id}/delete", Access::Editor, list::delete)
        .post("/deployments/{id}/forget", Access::Editor, list::forget)
        .get("/deployments/{id}/versions", Access::Viewer, list::versions)
        .post("/deployments/{id}/restore", Access::Editor, list::restore)
        .get(
            "/deployments/{id}/edit/{step}",
            Access::Viewer,
            wizard::step_page,
        )
        .post(
            "/deployments/{id}/edit/{step}",
            Access::Editor,
            wizard::save_step,
        )
        .post(
            "/deployments/{id}/backends",
            Access::Editor,
            wizard::change_item::<wizard::AddBackend>,
        )
        .post(
            "/deployments/{id}/backends/{index}",
            Access::Editor,
            wizard::change_item::<wizard::UpdateBackend>,
        )
        .post(
            "/deployments/{id}/backends/{index}/remove",
            Access::Editor,
            wizard::change_item::<wizard::RemoveBackend>,
        )
        .post(
            "/deployments/{id}/services",
            Access::Editor,
            wizard::change_item::<wizard::AddService>,
        )
        .post(
            "/deployments/{id}/services/{index}",
            Access::Editor,
            wizard::change_item::<wizard::UpdateService>,
        )
        .post(
            "/deployments/{id}/services/{index}/remove",
            Access::Editor,
            wizard::change_item::<wizard::RemoveService>,
        )
        .post(
            "/deployments/{id}/rules",
            Access::Editor,
            wizard::change_item::<wizard::AddRule>,
        )
        .post(
            "/deployments/{id}/rules/{index}",
            Access::Editor,
            wizard::change_item::<wizard::UpdateRule>,
        )
        .post(
            "/deployments/{id}/rules/{index}/remove",
            Access::Editor,
            wizard::change_item::<wizard::RemoveRule>,
        )
}

pub use crate::web::assets::wizard_css_url;

/// A deployment row with its draft read from the stored JSON.
pub(crate) struct Loaded {
    pub row: DeploymentRow,
    pub draft: Draft,
    /// The other deployments, read only for the pages that compare with them (Review).
    pub neighbours: Vec<crate::domain::shared_names::Neighbour>,
    /// The names of the panel's other deployments, which an internet backend may follow.
    pub others: Vec<String>,
    /// Where the draft's backends that follow another deployment point now, read only for
    /// Review (its gcloud commands are those of the plan).
    pub hops: Vec<crate::domain::chain::Hop>,
    /// The Cloud Run services the panel listed lately, in any project, read only for Review
    /// (its lint recognises a `*.run.app` internet backend's service by them).
    pub known: Vec<crate::domain::lint::KnownService>,
}

pub(crate) async fn load(state: &AppState, id: i64) -> AppResult<Loaded> {
    let row = store::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    // Everything stored was written by this server (a validated spec or a draft), so a row that
    // does not read back is a bug or a hand-edited database, not a user error.
    let draft = Draft::from_json(&row.spec).map_err(|e| {
        AppError::Internal(anyhow::anyhow!(
            "deployment {id} has a stored spec that does not read back: {e}"
        ))
    })?;
    let others = store::names(&state.db)
        .await?
        .into_iter()
        .filter(|(other, _)| *other != id)
        .map(|(_, name)| name)
        .collect();
    Ok(Loaded {
        row,
        draft,
        neighbours: Vec::new(),
        others,
        hops: Vec::new(),
        known: Vec::new(),
    })
}

/// What became of a save.
pub(crate) enum Saved {
    Done(DeploymentRow),
    /// Someone saved first; the refused draft is conflict copy `conflict_id`.
    Stale {
        expected: i64,
        current: i64,
        current_by: String,
        conflict_id: i64,
    },
    NameTaken(String),
    /// The draft moves an applied deployment to another name or project (`field`).
    Moved {
        field: &'static str,
        message: String,
    },
}

/// Refuses a draft with a field too large to store (see `domain::sizes`), naming the field.
pub(crate) fn refuse_oversized(doc: &serde_json::Value) -> AppResult<()> {
    match crate::domain::sizes::oversized(doc) {
        Some((field, message)) => Err(AppError::invalid(field, message)),
        None => Ok(()),
    }
}

pub(crate) async fn save(
    state: &AppState,
    id: i64,
    expected: i64,
    draft: &Draft,
    user: &CurrentUser,
) -> AppResult<Saved> {
    match crate::deploy::refuse_moving_applied(&state.db, id, &draft.name, &draft.project).await {
        Ok(()) => {}
        Err(crate::deploy::DeployError::Moved { field, message }) => {
            return Ok(Saved::Moved { field, message });
        }
        Err(e) => return Err(e.into()),
    }
    let doc = draft.to_json();
    refuse_oversized(&doc)?;
    let text = doc.to_string();
    match store::update(&state.db, id, expected, &draft.name, &text, &user.name).await {
        Ok(row) => {
            crate::audit::record(
                &state.db,
                &user.name,
                crate::audit::Action::DeploymentEdit,
                &crate::audit::deployment(row.id),
                serde_json::json!({"name": row.name, "version": row.version}),
            )
            .await;
            Ok(Saved::Done(row))
        }
        Err(SaveError::Stale {
            expected,
            current,
            current_by,
            conflict_id,
        }) => {
            crate::audit::record(
                &state.db,
                &user.name,
                crate::audit::Action::DeploymentConflictCopy,
                &crate::audit::deployment(id),
                serde_json::json!({"conflict": conflict_id, "edited": expected, "current": current}),
            )
            .await;
            Ok(Saved::Stale {
                expected,
                current,
                current_by,
                conflict_id,
            })
        }
        Err(SaveError::NameTaken(n)) => Ok(Saved::NameTaken(n)),
        Err(SaveError::NotFound) => Err(AppError::NotFound),
        Err(SaveError::Db(e)) => Err(e.into()),
    }
}

/// A message at the top of a page or in the save status, with links that act on it.
#[derive(Debug, Clone)]
pub(crate) struct Flash {
    /// `error` or `notice` (CSS class of the foundation's `.flash`).
    pub kind: &'static str,
    pub message: String,
    pub links: Vec<Link>,
}

#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub href: String,
    pub label: String,
}

impl Flash {
    pub fn error(message: impl Into<String>) -> Flash {
        Flash {
            kind: "error",
            message: message.into(),
            links: Vec::new(),
        }
    }

    /// Done, with something still to fix (a draft saved with problems).
    pub fn warning(message: impl Into<String>) -> Flash {
        Flash {
            kind: "warning",
            message: message.into(),
            links: Vec::new(),
        }
    }

    pub fn notice(message: impl Into<String>) -> Flash {
        Flash {
            kind: "notice",
            message: message.into(),
            links: Vec::new(),
        }
    }

    /// The refused save: who saved first, and where both versions are.
    pub fn stale(
        id: i64,
        reload: &str,
        expected: i64,
        current: i64,
        current_by: &str,
        conflict_id: i64,
    ) -> Flash {
        Flash {
            kind: "error",
            message: format!(
                "Not saved: {current_by} saved version {current} while you were editing version {expected}. Nothing was overwritten: your edit is kept as conflict copy #{conflict_id}, and what you type on this page goes on into that copy."
            ),
            links: vec![
                Link {
                    href: reload.to_string(),
                    label: format!(
                        "Reload version {current} (your edit stays in copy #{conflict_id})"
                    ),
                },
                Link {
                    href: format!("/deployments/{id}/versions#conflict-{conflict_id}"),
                    label: "See and restore your copy".into(),
                },
            ],
        }
    }

    /// The save would leave an applied deployment's resources to nobody.
    pub fn moved(field: &str, message: &str) -> Flash {
        Flash::error(format!("Not saved: {field}: {message}."))
    }

    pub fn name_taken(name: &str) -> Flash {
        Flash::error(format!(
            "Not saved: a deployment named `{name}` already exists; choose another name."
        ))
    }
}

/// A whole page that only says something (a refused plain form post without htmx).
#[derive(Template)]
#[template(path = "deployments/message.html")]
struct MessagePage {
    shell: Shell,
    css_url: &'static str,
    title: String,
    flash: Flash,
}

pub(crate) fn message_page(
    shell: Shell,
    status: StatusCode,
    title: &str,
    flash: Flash,
) -> AppResult<Response> {
    render(
        status,
        &MessagePage {
            shell,
            css_url: wizard_css_url(),
            title: title.to_string(),
            flash,
        },
    )
}

/// Form fields as a JSON object of strings (the last value of a repeated key wins), so one body
/// can be read as the version plus a step's form struct.
pub(crate) fn form_object(pairs: Vec<(String, String)>) -> Value {
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        map.insert(k, Value::String(v));
    }
    Value::Object(map)
}

/// The `version` field every editing form carries.
pub(crate) fn form_version(form: &Value) -> AppResult<i64> {
    form.get("version")
        .and_then(Value::as_str)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|v| *v > 0)
        .ok_or_else(|| {
            AppError::invalid(
                "version",
                "the form must carry the version it was made from; reload the page",
            )
        })
}

/// A step's form struct from the form fields; the structs only have string fields, so the only
/// failure is a non-object, which `form_object` never makes.
pub(crate) fn form_as<T: serde::de::DeserializeOwned>(form: &Value) -> AppResult<T> {
    serde_json::from_value(form.clone())
        .map_err(|e| AppError::BadRequest(format!("unexpected form: {e}")))
}
