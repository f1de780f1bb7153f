//! Export a deployment's spec as a JSON file; import one (pasted) as a new draft.

use super::{load, wizard_css_url};
use crate::AppState;
use crate::auth::{Editor, Viewer};
use crate::db::deployments::{self as store, SaveError};
use crate::domain::draft::Draft;
use crate::error::{AppError, AppResult, Form, Path};
use crate::web::{Shell, render};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The spec as a download. A complete draft is exported as the canonical spec; an incomplete
/// one as the draft (it imports back as a draft).
pub(crate) async fn export(
    State(state): State<AppState>,
    Viewer(_): Viewer,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let l = load(&state, id).await?;
    let value = match l.draft.to_spec() {
        Ok(spec) => serde_json::to_value(&spec)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("serializing a spec: {e}")))?,
        Err(_) => l.draft.to_json(),
    };
    let mut body = serde_json::to_string_pretty(&value)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("serializing a spec: {e}")))?;
    body.push('\n');
    // Names are RFC 1035 labels once valid; anything else is replaced so the header stays safe.
    let file: String = l
        .row
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}.json\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

#[derive(Template)]
#[template(path = "deployments/import.html")]
struct ImportPage {
    shell: Shell,
    css_url: &'static str,
    spec: String,
    name: String,
    error: Option<String>,
}

pub(crate) async fn import_page(Editor(_): Editor, shell: Shell) -> AppResult<Response> {
    render(
        StatusCode::OK,
        &ImportPage {
            shell,
            css_url: wizard_css_url(),
            spec: String::new(),
            name: String::new(),
            error: None,
        },
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct ImportForm {
    #[serde(default)]
    spec: String,
    /// Overrides the spec's name (to import a second copy next to the first).
    #[serde(default)]
    name: String,
}

/// Imports a pasted spec (or an exported draft) as a new draft. It must read as a spec or a
/// draft; whether it is valid is for the Review step to say, as for any draft.
pub(crate) async fn import(
    State(state): State<AppState>,
    Editor(user): Editor,
    shell: Shell,
    Form(f): Form<ImportForm>,
) -> AppResult<Response> {
    let again = |shell, error: String| {
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ImportPage {
                shell,
                css_url: wizard_css_url(),
                spec: f.spec.clone(),
                name: f.name.clone(),
                error: Some(error),
            },
        )
    };
    if f.spec.trim().is_empty() {
        return again(shell, "paste the spec's JSON".into());
    }
    let mut d = match Draft::from_json(&f.spec) {
        Ok(d) => d,
        Err(e) => return again(shell, format!("not imported: {e}")),
    };
    if !f.name.trim().is_empty() {
        d.name = f.name.trim().to_string();
    }
    if d.name.is_empty() {
        return again(
            shell,
            "the spec has no name: give one in the name field".into(),
        );
    }
    match store::create(&state.db, &d.name, &d.to_json().to_string(), &user.name).await {
        Ok(row) => {
            Ok(Redirect::to(&format!("/deployments/{}/edit/review", row.id)).into_response())
        }
        Err(SaveError::NameTaken(n)) => again(
            shell,
            format!("a deployment named `{n}` already exists: give another name in the name field"),
        ),
        Err(SaveError::Db(e)) => Err(e.into()),
        Err(e) => Err(AppError::Internal(e.into())),
    }
}
