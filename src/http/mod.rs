//! The HTTP plumbing both the pages ([`crate::web`]) and the JSON API ([`crate::api`]) sit in:
//! the route registry, the application's middleware stack (request ids and trace spans, who is
//! asking, sessions, CSRF, security headers) and the one place errors become responses.
//!
//! The HTML error page belongs to the web layer; it is handed in as an [`ErrorPage`] function so
//! this module needs nothing from `web`.

pub mod client_addr;
pub mod routes;

pub use routes::{RouteInfo, RouteTable, Routes};

use crate::AppState;
use crate::auth::{Access, AuthMethod, CurrentUser};
use crate::error::{AppError, ErrorBody};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::{Expiry, Session, SessionManagerLayer, cookie::SameSite};

/// Renders the HTML error page for a failed page request: the error, who is signed in (if
/// anyone), the path asked for and the request id to quote when reporting it.
pub type ErrorPage = fn(&AppState, &ErrorBody, Option<CurrentUser>, &str, &str) -> Response;

/// The header that carries each request's id (set when the client sent none, echoed back).
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The routes of the plumbing itself.
pub fn routes() -> Routes {
    Routes::new().get("/healthz", Access::Public, healthz)
}

/// True for a request htmx sent (it swaps a fragment rather than loading a page).
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// The error code of a form post refused by the CSRF layer (a 403 that no role would change).
pub const CROSS_SITE: &str = "cross_site";

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "switchyard_session";
/// Key of the signed-in user in the session.
const SESSION_AUTH_KEY: &str = "auth";

/// The Content-Security-Policy of every response: no inline script, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The whole application: routes, then authentication, sessions, CSRF, error rendering and
/// security headers.
pub fn app(state: AppState, router: Router<AppState>, error_page: ErrorPage) -> Router {
    let sessions = SessionManagerLayer::new(crate::db::sessions::store(&state.db))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(false) // made Secure per request by `secure_cookies_over_tls`
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(12)));
    let csrf = tower_http::csrf::CsrfLayer::new();

    router
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .layer(sessions)
        .layer(csrf)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                AppError::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
            },
        ))
        .layer(middleware::from_fn_with_state(
            (state.clone(), error_page),
            render_errors,
        ))
        .layer(middleware::from_fn(secure_cookies_over_tls))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(middleware::from_fn(count_activity))
        .with_state(state)
}

/// Counts the request's start and its end for [`crate::memory::trim_when_quiet`]: a burst is
/// over only once its last requests have finished and freed what they held.
async fn count_activity(req: Request, next: Next) -> Response {
    crate::memory::note_activity();
    let res = next.run(req).await;
    crate::memory::note_activity();
    res
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if crate::db::ping(&state.db).await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// What the session remembers about the signed-in user.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionAuth {
    user_id: i64,
    auth_version: i64,
}

/// Starts a session for `user` (a new session id, against fixation).
pub async fn sign_in_session(
    session: &Session,
    user: &crate::db::users::User,
) -> anyhow::Result<()> {
    session.cycle_id().await?;
    session
        .insert(
            SESSION_AUTH_KEY,
            SessionAuth {
                user_id: user.id,
                auth_version: user.auth_version,
            },
        )
        .await?;
    Ok(())
}

/// Finds who is asking: a bearer token first, else the session. Puts [`CurrentUser`] in the
/// request's (and the response's) extensions.
async fn authenticate(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let user = match identify(&state, &session, req.headers()).await {
        Ok(user) => user,
        Err(e) => return e.into_response(),
    };
    if let Some(u) = &user {
        tracing::Span::current().record("user", u.name.as_str());
        req.extensions_mut().insert(u.clone());
    }
    record_subject(req.uri().path());
    let mut res = next.run(req).await;
    if let Some(u) = user {
        res.extensions_mut().insert(u);
    }
    res
}

async fn identify(
    state: &AppState,
    session: &Session,
    headers: &axum::http::HeaderMap,
) -> Result<Option<CurrentUser>, AppError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                AppError::BadCredentials("the Authorization header must be `Bearer TOKEN`".into())
            })?;
        let user = crate::db::tokens::user_for_hash(&state.db, &crate::auth::token_hash(token))
            .await?
            .filter(|u| !u.disabled)
            .ok_or_else(|| AppError::BadCredentials("invalid or revoked API token".into()))?;
        return Ok(Some(CurrentUser {
            id: user.id,
            name: user.name,
            role: user.role,
            method: AuthMethod::Token,
        }));
    }
    let auth: Option<SessionAuth> = session
        .get(SESSION_AUTH_KEY)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("session store: {e}")))?;
    let Some(auth) = auth else { return Ok(None) };
    match crate::db::users::by_id(&state.db, auth.user_id).await? {
        Some(u) if !u.disabled && u.auth_version == auth.auth_version => Ok(Some(CurrentUser {
            id: u.id,
            name: u.name,
            role: u.role,
            method: AuthMethod::Session,
        })),
        _ => {
            // Disabled, deleted, or the password was reset since: the session is over.
            let _ = session.flush().await;
            Ok(None)
        }
    }
}

/// Marks cookies `Secure` when the panel is reached over TLS (a TLS-terminating proxy in front
/// sets `X-Forwarded-Proto: https`).
async fn secure_cookies_over_tls(req: Request, next: Next) -> Response {
    let tls = req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
        || req.uri().scheme_str() == Some("https");
    let mut res = next.run(req).await;
    if tls {
        let cookies: Vec<HeaderValue> = res
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .cloned()
            .collect();
        res.headers_mut().remove(header::SET_COOKIE);
        for c in cookies {
            let s = c.to_str().unwrap_or_default();
            let v = if s.to_ascii_lowercase().contains("; secure") {
                c
            } else {
                HeaderValue::from_str(&format!("{s}; Secure")).unwrap_or(c)
            };
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// Turns every error response into its final shape: JSON under `/api/`, a redirect to the
/// sign-in page for anonymous page requests, an HTML error page otherwise.
async fn render_errors(
    State((state, error_page)): State<(AppState, ErrorPage)>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let is_get = req.method() == axum::http::Method::GET;
    let is_api = path == "/api" || path.starts_with("/api/");
    let is_htmx = is_htmx(req.headers());
    let request_id = request_id(&req);
    // A request with an Authorization header is a script: it gets a 401, not a sign-in page.
    let is_script = req.headers().contains_key(header::AUTHORIZATION);
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let body = if let Some(b) = res.extensions().get::<Arc<ErrorBody>>() {
        (**b).clone()
    } else if res
        .extensions()
        .get::<tower_http::csrf::ProtectionError>()
        .is_some()
    {
        ErrorBody {
            code: CROSS_SITE,
            message: "cross-site form posts are refused".into(),
            ..ErrorBody::for_status(StatusCode::FORBIDDEN)
        }
    } else {
        let ctype = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if ctype.starts_with("text/html") || ctype.starts_with("application/json") {
            // A handler rendered its own error page or body: keep it.
            return res;
        }
        let plain = ctype.starts_with("text/plain");
        let mut b = ErrorBody::for_status(status);
        if plain && status.is_client_error() {
            let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes).trim().to_string();
            if !text.is_empty() {
                b.message = text;
            }
            let ctx = ErrorContext {
                state: &state,
                error_page,
                user: None,
                as_json: is_api || is_script,
                is_htmx,
                is_get,
                path_and_query: &path_and_query,
                request_id: &request_id,
            };
            return finish(ctx, b, None);
        }
        b
    };
    let user = res.extensions().get::<CurrentUser>().cloned();
    let retry = res.headers().get(header::RETRY_AFTER).cloned();
    // A script whose token was refused gets the JSON 401, not a sign-in page.
    let as_json = is_api || (is_script && body.status == StatusCode::UNAUTHORIZED);
    let ctx = ErrorContext {
        state: &state,
        error_page,
        user,
        as_json,
        is_htmx,
        is_get,
        path_and_query: &path_and_query,
        request_id: &request_id,
    };
    finish(ctx, body, retry)
}

/// What shapes an error response: where it was asked from and by whom.
struct ErrorContext<'a> {
    state: &'a AppState,
    error_page: ErrorPage,
    user: Option<CurrentUser>,
    as_json: bool,
    is_htmx: bool,
    is_get: bool,
    path_and_query: &'a str,
    request_id: &'a str,
}

fn finish(ctx: ErrorContext<'_>, body: ErrorBody, retry_after: Option<HeaderValue>) -> Response {
    let mut res = if ctx.as_json {
        let mut json = body.to_json();
        json["error"]["request_id"] = ctx.request_id.into();
        (body.status, axum::Json(json)).into_response()
    } else if body.status == StatusCode::UNAUTHORIZED && ctx.user.is_none() {
        // Always with `next`, so the sign-out page's plain `/signin` is told apart in tests.
        let next = if ctx.is_get { ctx.path_and_query } else { "/" };
        let target = format!("/signin?next={}", urlencode(next));
        if ctx.is_htmx {
            let mut r = StatusCode::UNAUTHORIZED.into_response();
            if let Ok(v) = HeaderValue::from_str(&target) {
                r.headers_mut().insert("hx-redirect", v);
            }
            r
        } else {
            Redirect::to(&target).into_response()
        }
    } else {
        (ctx.error_page)(
            ctx.state,
            &body,
            ctx.user,
            ctx.path_and_query,
            ctx.request_id,
        )
    };
    if let Some(v) = retry_after {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// The request's id, as the request-id layer set it.
fn request_id(req: &Request) -> String {
    req.extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The span every log line of a request is written in: its id, method and route, and (filled in
/// once known) who asked and which deployment or job the path names.
fn request_span(req: &Request) -> tracing::Span {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    tracing::info_span!(
        "request",
        id = %request_id(req),
        method = %req.method(),
        route,
        user = tracing::field::Empty,
        deployment = tracing::field::Empty,
        job = tracing::field::Empty,
    )
}

/// Records the deployment or job a path names (`/deployments/7/...`, `/api/v1/jobs/12`) in the
/// request's span.
fn record_subject(path: &str) {
    let mut parts = path.trim_start_matches("/api/v1").split('/').skip(1);
    let (Some(kind), Some(id)) = (parts.next(), parts.next()) else {
        return;
    };
    let Ok(id) = id.parse::<i64>() else { return };
    let span = tracing::Span::current();
    match kind {
        "deployments" => {
            span.record("deployment", id);
        }
        "jobs" => {
            span.record("job", id);
        }
        _ => {}
    }
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
