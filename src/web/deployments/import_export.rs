//! Export a deployment's spec as a JSON file; import one (an uploaded file or pasted text) as a
//! new draft.

use super::{load, wizard_css_url};
use crate::AppState;
use crate::auth::{Editor, Viewer};
use crate::db::deployments::{self as store, SaveError};
use crate::domain::draft::Draft;
use crate::error::{AppError, AppResult, Form, Path};
use crate::web::{Shell, render};
use askama::Template;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The spec as a download. A complete draft is exported as the canonical spec; an incomplete
/// one as the draft (it imports back as a draft). A viewer's export has the environment values
/// hidden, and so does not import back as it is (the import names each hidden value).
pub(crate) async fn export(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let l = load(&state, id).await?;
    let mut value = match l.draft.to_spec() {
        Ok(spec) => serde_json::to_value(&spec)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("serializing a spec: {e}")))?,
        Err(_) => l.draft.to_json(),
    };
    user.env_values().document(&mut value);
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

/// Reads the import form: `multipart/form-data` (the page's form, with the file input) or
/// URL-encoded (scripts, or a paste without the file). A chosen file wins over the text area.
async fn read_import_form(state: &AppState, req: Request) -> AppResult<ImportForm> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if !multipart {
        let Form(f) = Form::<ImportForm>::from_request(req, state).await?;
        return Ok(f);
    }
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::BadRequest(format!(
                "could not read the uploaded form: {}",
                e.body_text()
            ))
        }
    };
    let mut mp = Multipart::from_request(req, state).await.map_err(|e| {
        AppError::BadRequest(format!(
            "could not read the uploaded form: {}",
            e.body_text()
        ))
    })?;
    let mut form = ImportForm {
        spec: String::new(),
        name: String::new(),
    };
    let mut file: Option<String> = None;
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let key = field.name().unwrap_or_default().to_string();
        let bytes = field.bytes().await.map_err(bad)?;
        let text = || {
            String::from_utf8(bytes.to_vec())
                .map_err(|_| AppError::invalid(key.clone(), "must be UTF-8 text (a JSON file)"))
        };
        match key.as_str() {
            // A file input with no file chosen still sends an empty part.
            "file" if !bytes.is_empty() => file = Some(text()?),
            "spec" => form.spec = text()?,
            "name" => form.name = text()?,
            _ => {}
        }
    }
    if let Some(f) = file {
        form.spec = f;
    }
    Ok(form)
}

/// Imports a spec (or an exported draft) as a new draft. It must read as a spec or a draft;
/// whether it is valid is for the Review step to say, as for any draft.
pub(crate) async fn import(
    State(state): State<AppState>,
    Editor(user): Editor,
    shell: Shell,
    req: Request,
) -> AppResult<Response> {
    let f = read_import_form(&state, req).await?;
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
        return again(shell, "choose a spec file or paste the spec's JSON".into());
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
    super::refuse_oversized(&d.to_json())?;
    match store::create(&state.db, &d.name, &d.to_json().to_string(), &user.name).await {
        Ok(row) => {
            crate::audit::record(
                &state.db,
                &user.name,
                crate::audit::Action::DeploymentImport,
                &crate::audit::deployment(row.id),
                serde_json::json!({"name": row.name, "version": row.version}),
            )
            .await;
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
