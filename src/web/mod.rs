//! HTML pages and htmx partials (askama). Every route is registered through
//! [`crate::http::Routes`] with its [`crate::auth::Access`] level; an area exposes
//! `pub fn routes(r: Routes) -> Routes` and [`routes`] below chains them.

pub mod adopt;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod dashboard;
pub mod deployments;
pub mod error_advice;
pub mod jobs;
pub mod overview;
pub mod page_cache;
pub mod pickers;
pub mod plan;
pub mod shell;
pub mod state;
pub mod users;
pub mod when;

pub use crate::http::{Routes, urlencode};
pub use shell::Shell;

use crate::AppState;
use crate::auth::{Access, CurrentUser};
use crate::error::{AppError, ErrorBody};
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// Every page route, with its access rule. Areas add themselves here.
pub fn routes(r: Routes) -> Routes {
    let r = r.get("/static/{*path}", Access::Public, assets::serve);
    let r = auth::routes(r);
    let r = dashboard::routes(r);
    let r = users::routes(r);
    let r = audit::routes(r);
    let r = overview::routes(r);
    let r = jobs::routes(r);
    let r = plan::routes(r);
    let r = pickers::routes(r);
    let r = adopt::routes(r);
    deployments::routes(r)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    shell: Shell,
    status: u16,
    reason: String,
    message: String,
    field: Option<String>,
    next: Vec<error_advice::NextStep>,
    request_id: String,
}

/// The HTML error page, in the page shell: what happened, and the request id to quote.
pub fn error_page(
    state: &AppState,
    body: &ErrorBody,
    user: Option<CurrentUser>,
    path_and_query: &str,
    request_id: &str,
) -> Response {
    let next = error_advice::next_steps(body, user.as_ref(), path_and_query);
    let page = ErrorPage {
        shell: Shell::build(state, user, path_and_query),
        status: body.status.as_u16(),
        reason: body
            .status
            .canonical_reason()
            .unwrap_or("Error")
            .to_string(),
        message: body.message.clone(),
        field: body.field.clone(),
        next,
        request_id: request_id.to_string(),
    };
    match page.render() {
        Ok(html) => (body.status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the error page");
            (body.status, body.message.clone()).into_response()
        }
    }
}

/// Renders an askama template into a response, mapping a render failure to an internal error.
pub fn render(status: StatusCode, t: &impl Template) -> Result<Response, AppError> {
    let html = t
        .render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering a template: {e}")))?;
    Ok((status, Html(html)).into_response())
}
