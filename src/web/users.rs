//! The admins' Users page: add users, change roles, disable and enable, reset passwords, create,
//! list and revoke API tokens (a new token is shown once).

use super::{Routes, Shell, render};
use crate::AppState;
use crate::auth::{self, Access, Admin, Role};
use crate::db::tokens::ApiToken;
use crate::db::users::User;
use crate::error::{AppError, AppResult, Form, Path};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub fn routes(r: Routes) -> Routes {
    r.get("/users", Access::Admin, list)
        .post("/users", Access::Admin, add)
        .post("/users/{id}/role", Access::Admin, change_role)
        .post("/users/{id}/disable", Access::Admin, disable)
        .post("/users/{id}/enable", Access::Admin, enable)
        .post("/users/{id}/password", Access::Admin, reset_password)
        .post("/users/{id}/tokens", Access::Admin, create_token)
        .post(
            "/users/{id}/tokens/{token_id}/revoke",
            Access::Admin,
            revoke_token,
        )
}

pub struct UserRow {
    pub user: User,
    pub tokens: Vec<ApiToken>,
    pub is_self: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    shell: Shell,
    rows: Vec<UserRow>,
    roles: [Role; 3],
    error: Option<String>,
    notice: Option<String>,
    new_name: String,
    new_role: Role,
}

#[derive(Template)]
#[template(path = "token_created.html")]
struct TokenCreated {
    shell: Shell,
    user_name: String,
    label: String,
    token: String,
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    shell: Shell,
    me: i64,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
    new_name: String,
    new_role: Role,
) -> AppResult<Response> {
    let users = crate::db::users::list(&state.db).await?;
    let tokens = crate::db::tokens::list_all(&state.db).await?;
    let rows = users
        .into_iter()
        .map(|u| UserRow {
            tokens: tokens
                .iter()
                .filter(|t| t.user_id == u.id)
                .cloned()
                .collect(),
            is_self: u.id == me,
            user: u,
        })
        .collect();
    render(
        status,
        &UsersPage {
            shell,
            rows,
            roles: Role::ALL,
            error,
            notice,
            new_name,
            new_role,
        },
    )
}

#[derive(Debug, Deserialize)]
struct Notice {
    notice: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Admin(me): Admin,
    shell: Shell,
    crate::error::Query(q): crate::error::Query<Notice>,
) -> AppResult<Response> {
    // Only our own fixed notices are shown, never text from the query string.
    let notice = q
        .notice
        .as_deref()
        .and_then(notice_text)
        .map(str::to_string);
    page(
        &state,
        shell,
        me.id,
        StatusCode::OK,
        None,
        notice,
        String::new(),
        Role::Viewer,
    )
    .await
}

fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "added" => "User added.",
        "role" => "Role changed.",
        "disabled" => "User disabled: their sessions and tokens no longer work.",
        "enabled" => "User enabled.",
        "password" => "Password reset: the user was signed out everywhere.",
        "revoked" => "Token revoked.",
        _ => return None,
    })
}

fn done(notice: &str) -> Response {
    Redirect::to(&format!("/users?notice={notice}")).into_response()
}

/// Re-renders the page with the error for invalid input and conflicts; other errors pass.
async fn or_page(
    state: &AppState,
    shell: Shell,
    me: i64,
    result: AppResult<Response>,
    new_name: String,
    new_role: Role,
) -> AppResult<Response> {
    match result {
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            page(
                state,
                shell,
                me,
                e.status(),
                Some(e.to_string()),
                None,
                new_name,
                new_role,
            )
            .await
        }
        other => other,
    }
}

#[derive(Debug, Deserialize)]
struct AddForm {
    name: String,
    role: Role,
    password: String,
}

async fn add(
    State(state): State<AppState>,
    Admin(me): Admin,
    shell: Shell,
    Form(form): Form<AddForm>,
) -> AppResult<Response> {
    let name = form.name.trim().to_string();
    let result = async {
        auth::validate_user_name(&name)?;
        auth::validate_password(&form.password)?;
        let hash = auth::hash_password(form.password).await?;
        match crate::db::users::create(&state.db, &name, form.role, &hash).await? {
            Some(u) => {
                tracing::info!(admin = %me.name, user = %u.name, role = %u.role, "user added");
                crate::audit::record(
                    &state.db,
                    &me.name,
                    crate::audit::Action::UserAdd,
                    &crate::audit::user(&u.name),
                    serde_json::json!({"role": u.role}),
                )
                .await;
                Ok(done("added"))
            }
            None => Err(AppError::invalid(
                "name",
                format!("a user named {name:?} already exists"),
            )),
        }
    }
    .await;
    or_page(&state, shell, me.id, result, name, form.role).await
}

async fn target(state: &AppState, id: i64) -> AppResult<User> {
    crate::db::users::by_id(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Refuses a change that would leave no active admin.
async fn keep_an_admin(state: &AppState, user: &User) -> AppResult<()> {
    if user.role == Role::Admin
        && !user.disabled
        && crate::db::users::count_active_admins(&state.db).await? <= 1
    {
        return Err(AppError::Conflict(format!(
            "{} is the last active admin; make someone else admin first",
            user.name
        )));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct RoleForm {
    role: Role,
}

async fn change_role(
    State(state): State<AppState>,
    Admin(me): Admin,
    shell: Shell,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> AppResult<Response> {
    let result = async {
        let user = target(&state, id).await?;
        if form.role != Role::Admin {
            keep_an_admin(&state, &user).await?;
        }
        crate::db::users::set_role(&state.db, id, form.role).await?;
        tracing::info!(admin = %me.name, user = %user.name, role = %form.role, "role changed");
        crate::audit::record(
            &state.db,
            &me.name,
            crate::audit::Action::UserRole,
            &crate::audit::user(&user.name),
            serde_json::json!({"from": user.role, "to": form.role}),
        )
        .await;
        Ok(done("role"))
    }
    .await;
    or_page(&state, shell, me.id, result, String::new(), Role::Viewer).await
}

async fn disable(
    State(state): State<AppState>,
    Admin(me): Admin,
    shell: Shell,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let result = async {
        let user = target(&state, id).await?;
        if user.id == me.id {
            return Err(AppError::Conflict("you cannot disable yourself".into()));
        }
        keep_an_admin(&state, &user).await?;
        crate::db::users::set_disabled(&state.db, id, true).await?;
        tracing::info!(admin = %me.name, user = %user.name, "user disabled");
        crate::audit::record(
            &state.db,
            &me.name,
            crate::audit::Action::UserDisable,
            &crate::audit::user(&user.name),
            serde_json::Value::Null,
        )
        .await;
        Ok(done("disabled"))
    }
    .await;
    or_page(&state, shell, me.id, result, String::new(), Role::Viewer).await
}

async fn enable(
    State(state): State<AppState>,
    Admin(me): Admin,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let user = target(&state, id).await?;
    crate::db::users::set_disabled(&state.db, id, false).await?;
    tracing::info!(admin = %me.name, user = %user.name, "user enabled");
    crate::audit::record(
        &state.db,
        &me.name,
        crate::audit::Action::UserEnable,
        &crate::audit::user(&user.name),
        serde_json::Value::Null,
    )
    .await;
    Ok(done("enabled"))
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    password: String,
}

async fn reset_password(
    State(state): State<AppState>,
    Admin(me): Admin,
    shell: Shell,
    Path(id): Path<i64>,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let result = async {
        let user = target(&state, id).await?;
        auth::validate_password(&form.password)?;
        let hash = auth::hash_password(form.password).await?;
        crate::db::users::set_password(&state.db, id, &hash).await?;
        tracing::info!(admin = %me.name, user = %user.name, "password reset");
        crate::audit::record(
            &state.db,
            &me.name,
            crate::audit::Action::UserPasswordReset,
            &crate::audit::user(&user.name),
            serde_json::Value::Null,
        )
        .await;
        Ok(done("password"))
    }
    .await;
    or_page(&state, shell, me.id, result, String::new(), Role::Viewer).await
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    label: String,
}

/// Creates an API token for a user and returns the secret (stored hashed; shown once).
pub async fn new_token(state: &AppState, user_id: i64, label: &str) -> AppResult<String> {
    let label = label.trim();
    if label.is_empty() || label.len() > 100 {
        return Err(AppError::invalid(
            "label",
            "a token label is 1 to 100 characters",
        ));
    }
    let secret = auth::random_secret(auth::TOKEN_PREFIX);
    crate::db::tokens::create(&state.db, user_id, label, &auth::token_hash(&secret)).await?;
    Ok(secret)
}

async fn create_token(
    State(state): State<AppState>,
    Admin(me): Admin,
    shell: Shell,
    Path(id): Path<i64>,
    Form(form): Form<TokenForm>,
) -> AppResult<Response> {
    let user = target(&state, id).await?;
    let result = new_token(&state, id, &form.label).await;
    let token = match result {
        Ok(t) => t,
        Err(e) => {
            return or_page(&state, shell, me.id, Err(e), String::new(), Role::Viewer).await;
        }
    };
    tracing::info!(admin = %me.name, user = %user.name, label = %form.label, "API token created");
    crate::audit::record(
        &state.db,
        &me.name,
        crate::audit::Action::TokenCreate,
        &crate::audit::user(&user.name),
        serde_json::json!({"label": form.label.trim()}),
    )
    .await;
    render(
        StatusCode::CREATED,
        &TokenCreated {
            shell,
            user_name: user.name,
            label: form.label.trim().to_string(),
            token,
        },
    )
}

async fn revoke_token(
    State(state): State<AppState>,
    Admin(me): Admin,
    Path((id, token_id)): Path<(i64, i64)>,
) -> AppResult<Response> {
    if !crate::db::tokens::revoke(&state.db, id, token_id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(admin = %me.name, user_id = id, token_id, "API token revoked");
    let name = crate::db::users::by_id(&state.db, id)
        .await?
        .map(|u| u.name)
        .unwrap_or_default();
    crate::audit::record(
        &state.db,
        &me.name,
        crate::audit::Action::TokenRevoke,
        &crate::audit::user(&name),
        serde_json::json!({"token_id": token_id}),
    )
    .await;
    Ok(done("revoked"))
}
