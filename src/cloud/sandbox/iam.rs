//! Who may do what across projects in the sandbox (API-NOTES §16.6): each project's
//! organization, and the permissions the panel's service account lacks there. By default every
//! project is in one organization and every permission is held, so single-project use never
//! meets this; tests change it with `POST /sandbox/v1/projects/{p}/iam`.
//!
//! What reads it: a URL map that references another project's backend service (refused across
//! organizations, and without `compute.backendServices.use`), and both `testIamPermissions`
//! (Compute's on a backend service, Resource Manager's on a project).

use super::Sandbox;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The organization every project belongs to unless told otherwise.
pub const DEFAULT_ORGANIZATION: &str = "organizations/100000000001";

/// One project's settings, as `GET|POST /sandbox/v1/projects/{p}/iam` reads and writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectIam {
    /// `organizations/N`; absent: [`DEFAULT_ORGANIZATION`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Permissions the service account does not hold on the project or anything in it.
    #[serde(default)]
    pub denied_permissions: BTreeSet<String>,
}

impl Sandbox {
    pub fn project_iam(&self, project: &str) -> ProjectIam {
        self.runtime
            .lock()
            .expect("sandbox lock")
            .iam
            .get(project)
            .cloned()
            .unwrap_or_default()
    }

    /// Replaces a project's settings (the default ones forget it).
    pub fn set_project_iam(&self, project: &str, iam: ProjectIam) {
        let mut rt = self.runtime.lock().expect("sandbox lock");
        if iam == ProjectIam::default() {
            rt.iam.remove(project);
        } else {
            rt.iam.insert(project.to_string(), iam);
        }
    }

    pub(crate) fn organization_of(&self, project: &str) -> String {
        self.project_iam(project)
            .organization
            .unwrap_or_else(|| DEFAULT_ORGANIZATION.to_string())
    }

    /// Whether the service account holds `permission` in `project`.
    pub(crate) fn holds(&self, project: &str, permission: &str) -> bool {
        !self
            .project_iam(project)
            .denied_permissions
            .contains(permission)
    }

    /// The subset of `asked` held in `project`, in the order asked (both testIamPermissions).
    pub(crate) fn held_of(&self, project: &str, asked: &serde_json::Value) -> Vec<String> {
        asked["permissions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str())
            .filter(|p| self.holds(project, p))
            .map(str::to_string)
            .collect()
    }
}

/// Both testIamPermissions answers: proto3 JSON leaves an empty list out.
pub(crate) fn permissions_answer(held: Vec<String>) -> Response {
    if held.is_empty() {
        axum::Json(json!({})).into_response()
    } else {
        axum::Json(json!({ "permissions": held })).into_response()
    }
}

pub(super) async fn get(
    State(sb): State<Arc<Sandbox>>,
    Path(project): Path<String>,
) -> axum::Json<ProjectIam> {
    axum::Json(sb.project_iam(&project))
}

pub(super) async fn set(
    State(sb): State<Arc<Sandbox>>,
    Path(project): Path<String>,
    axum::Json(iam): axum::Json<ProjectIam>,
) -> Response {
    if let Some(org) = &iam.organization
        && !org
            .strip_prefix("organizations/")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "organization must be organizations/NUMBER"})),
        )
            .into_response();
    }
    sb.set_project_iam(&project, iam);
    axum::Json(sb.project_iam(&project)).into_response()
}
