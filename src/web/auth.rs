//! Sign-in, sign-out and the one-time setup page that creates the first admin.

use super::{Routes, Shell, render};
use crate::AppState;
use crate::auth::{self, Access, CurrentUser, Role, throttle};
use crate::error::{AppError, AppResult, Form, Query};
use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::net::SocketAddr;
use tower_sessions::Session;

pub fn routes(r: Routes) -> Routes {
    r.get("/signin", Access::Public, signin_page)
        .post("/signin", Access::Public, signin)
        .post("/signout", Access::Public, signout)
        .get("/setup", Access::Public, setup_page)
        .post("/setup", Access::Public, setup)
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage {
    shell: Shell,
    name: String,
    next: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only local paths: never an open redirect.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/".into(),
    }
}

async fn signin_page(
    shell: Shell,
    user: Option<CurrentUser>,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    let next = safe_next(q.next.as_deref());
    if user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    render(
        StatusCode::OK,
        &SigninPage {
            shell,
            name: String::new(),
            next,
            error: None,
        },
    )
}

#[derive(Debug, Deserialize)]
struct SigninForm {
    name: String,
    password: String,
    next: Option<String>,
}

fn client_addr(state: &AppState, ext: &Extensions, headers: &axum::http::HeaderMap) -> String {
    ext.get::<ConnectInfo<SocketAddr>>()
        .map(|c| {
            crate::http::client_addr::client_addr(
                c.0.ip(),
                headers,
                &state.settings.trusted_proxies,
            )
            .to_string()
        })
        .unwrap_or_else(|| "unknown".into())
}

async fn signin(
    State(state): State<AppState>,
    shell: Shell,
    session: Session,
    ext: Extensions,
    headers: axum::http::HeaderMap,
    Form(form): Form<SigninForm>,
) -> AppResult<Response> {
    let next = safe_next(form.next.as_deref());
    let from = client_addr(&state, &ext, &headers);
    let name = form.name.trim().to_string();
    let user_key = format!("user:{}", name.to_lowercase());
    let client_key = format!("client:{from}");
    let again = |status: StatusCode, error: String| {
        render(
            status,
            &SigninPage {
                shell: shell.clone(),
                name: name.clone(),
                next: next.clone(),
                error: Some(error),
            },
        )
    };
    if let Err(secs) = state
        .auth
        .throttle
        .check(&[user_key.clone(), client_key.clone()])
    {
        let mut res = again(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many failed sign-ins; try again in {secs} seconds."),
        )?;
        res.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, secs.into());
        return Ok(res);
    }
    let user = crate::db::users::by_name(&state.db, &name).await?;
    // Verify against a real hash even for unknown names, so timing does not tell names apart.
    let hash = match &user {
        Some(u) => u.password_hash.clone(),
        None => dummy_hash().await,
    };
    let ok = auth::verify_password(form.password, hash).await?;
    match user {
        Some(u) if ok && !u.disabled => {
            state.auth.throttle.succeed(&user_key);
            crate::http::sign_in_session(&session, &u).await?;
            tracing::info!(user = %u.name, "signed in");
            crate::audit::record(
                &state.db,
                &u.name,
                crate::audit::Action::SignIn,
                &crate::audit::user(&u.name),
                serde_json::json!({"from": from}),
            )
            .await;
            Ok(Redirect::to(&next).into_response())
        }
        Some(u) if ok => {
            tracing::info!(user = %u.name, "sign-in refused: account disabled");
            crate::audit::record(
                &state.db,
                crate::audit::ANONYMOUS,
                crate::audit::Action::SignInFailed,
                &crate::audit::user(&u.name),
                serde_json::json!({"reason": "account disabled", "from": from}),
            )
            .await;
            again(StatusCode::FORBIDDEN, "This account is disabled.".into())
        }
        _ => {
            state.auth.throttle.fail(&[
                (user_key, throttle::FREE_FAILURES),
                (client_key, throttle::FREE_FAILURES_PER_CLIENT),
            ]);
            tracing::info!(user = %name, "failed sign-in");
            // The name as typed (cut short): it may be mistyped, but it is never the password.
            let tried: String = name.chars().take(64).collect();
            crate::audit::record(
                &state.db,
                crate::audit::ANONYMOUS,
                crate::audit::Action::SignInFailed,
                &crate::audit::user(&tried),
                serde_json::json!({"reason": "wrong name or password", "from": from}),
            )
            .await;
            again(
                StatusCode::UNAUTHORIZED,
                "Wrong user name or password.".into(),
            )
        }
    }
}

async fn dummy_hash() -> String {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_init(|| async {
        auth::hash_password("not a real password".into())
            .await
            .unwrap_or_default()
    })
    .await
    .clone()
}

async fn signout(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
) -> AppResult<Redirect> {
    if let Some(u) = &user {
        crate::audit::record(
            &state.db,
            &u.name,
            crate::audit::Action::SignOut,
            &crate::audit::user(&u.name),
            serde_json::Value::Null,
        )
        .await;
    }
    session
        .flush()
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("session store: {e}")))?;
    Ok(Redirect::to("/signin"))
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    shell: Shell,
    token: String,
    name: String,
    error: Option<String>,
    valid: bool,
}

#[derive(Debug, Deserialize)]
struct SetupQuery {
    token: Option<String>,
}

async fn setup_page(
    State(state): State<AppState>,
    shell: Shell,
    Query(q): Query<SetupQuery>,
) -> AppResult<Response> {
    let token = q.token.unwrap_or_default();
    let valid = state.auth.setup_token_matches(&token);
    render(
        if valid {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        },
        &SetupPage {
            shell,
            token: if valid { token } else { String::new() },
            name: String::new(),
            error: None,
            valid,
        },
    )
}

#[derive(Debug, Deserialize)]
struct SetupForm {
    token: String,
    name: String,
    password: String,
}

async fn setup(
    State(state): State<AppState>,
    shell: Shell,
    session: Session,
    Form(form): Form<SetupForm>,
) -> AppResult<Response> {
    if !state.auth.setup_token_matches(&form.token) {
        return render(
            StatusCode::NOT_FOUND,
            &SetupPage {
                shell,
                token: String::new(),
                name: String::new(),
                error: None,
                valid: false,
            },
        );
    }
    let name = form.name.trim().to_string();
    if let Err(e) =
        auth::validate_user_name(&name).and_then(|_| auth::validate_password(&form.password))
    {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SetupPage {
                shell,
                token: form.token,
                name,
                error: Some(e.to_string()),
                valid: true,
            },
        );
    }
    let hash = auth::hash_password(form.password).await?;
    let Some(user) = crate::db::users::create_first(&state.db, &name, Role::Admin, &hash).await?
    else {
        state.auth.consume_setup_token(&form.token);
        return Err(AppError::Conflict(
            "the first admin already exists; sign in instead".into(),
        ));
    };
    if !state.auth.consume_setup_token(&form.token) {
        // Another request used the link at the same moment; the database kept only one admin.
        return Err(AppError::Conflict("the setup link was already used".into()));
    }
    tracing::info!(user = %user.name, "first admin created through the setup link");
    crate::audit::record(
        &state.db,
        &user.name,
        crate::audit::Action::UserAdd,
        &crate::audit::user(&user.name),
        serde_json::json!({"role": "admin", "via": "setup link"}),
    )
    .await;
    crate::http::sign_in_session(&session, &user).await?;
    Ok(Redirect::to("/").into_response())
}
