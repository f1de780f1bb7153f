//! The account part of the JSON API: who am I, and (admins) create users.

use crate::AppState;
use crate::auth::{self, Access, Admin, Role, Viewer};
use crate::error::{AppError, AppResult, Json};
use crate::http::Routes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

pub fn routes(r: Routes) -> Routes {
    r.get("/api/v1/me", Access::Viewer, me)
        .post("/api/v1/users", Access::Admin, create_user)
}

#[derive(Debug, Serialize)]
struct UserJson {
    id: i64,
    name: String,
    role: Role,
    disabled: bool,
}

async fn me(Viewer(user): Viewer) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "id": user.id,
        "name": user.name,
        "role": user.role,
        "method": user.method,
    }))
}

#[derive(Debug, Deserialize)]
struct NewUser {
    name: String,
    role: Role,
    password: String,
}

async fn create_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Json(body): Json<NewUser>,
) -> AppResult<(StatusCode, Json<UserJson>)> {
    let name = body.name.trim().to_string();
    auth::validate_user_name(&name)?;
    auth::validate_password(&body.password)?;
    let hash = auth::hash_password(body.password).await?;
    let user = crate::db::users::create(&state.db, &name, body.role, &hash)
        .await?
        .ok_or_else(|| AppError::Conflict(format!("a user named {name:?} already exists")))?;
    tracing::info!(admin = %admin.name, user = %user.name, role = %user.role, "user added through the API");
    crate::audit::record(
        &state.db,
        &admin.name,
        crate::audit::Action::UserAdd,
        &crate::audit::user(&user.name),
        serde_json::json!({"role": user.role, "via": "API"}),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(UserJson {
            id: user.id,
            name: user.name,
            role: user.role,
            disabled: user.disabled,
        }),
    ))
}
