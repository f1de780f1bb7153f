//! The dashboard (`/`). The deployments list joins it when deployments land; until then it
//! welcomes the user and shows how to get started.

use super::{Routes, Shell, render};
use crate::AppState;
use crate::auth::{Access, Viewer};
use crate::error::AppResult;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

pub fn routes(r: Routes) -> Routes {
    r.get("/", Access::Viewer, dashboard)
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    shell: Shell,
    user_name: String,
    role: String,
    can_edit: bool,
    is_admin: bool,
    users: i64,
    compute_endpoint: String,
    run_endpoint: String,
}

async fn dashboard(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    shell: Shell,
) -> AppResult<Response> {
    let users = crate::db::users::count(&state.db).await?;
    render(
        StatusCode::OK,
        &Dashboard {
            shell,
            user_name: user.name.clone(),
            role: user.role.to_string(),
            can_edit: user.can_edit(),
            is_admin: user.is_admin(),
            users,
            compute_endpoint: state.settings.compute_endpoint.clone(),
            run_endpoint: state.settings.run_endpoint.clone(),
        },
    )
}
