//! Cloud Resource Manager v3 in the sandbox: `projects.search`, answering the projects a
//! sandbox has: its own (the key file's) and every project that holds a simulated resource,
//! all ACTIVE, in pages (cloudresourcemanager-v3 discovery, `SearchProjectsResponse`).
//!
//! `projects.testIamPermissions` answers what the sandbox's IAM settings (`iam`) let the
//! service account hold. Any other method of the document is a 501, as for the other APIs; a path no method has is
//! Google's HTML 404 (`request::admit`).

use super::request::{Call, admit};
use super::{Api, ApiError, ApiResult, SANDBOX_PROJECT, Sandbox, now_ms, project_number};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::sync::Arc;

/// What Google answers with no `pageSize` ("server picks an appropriate default").
const DEFAULT_PAGE_SIZE: usize = 100;

pub(super) async fn handle(
    State(sb): State<Arc<Sandbox>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let call = admit(&sb, Api::ResourceManager, &method, &uri, &headers, &body).await?;
        match call.method.id.as_str() {
            "cloudresourcemanager.projects.search" => search(&sb, &call).await,
            "cloudresourcemanager.projects.testIamPermissions" => {
                test_iam_permissions(&sb, call).await
            }
            id => Err(ApiError::not_implemented(Api::ResourceManager, id)),
        }
    }
    .await;
    result.unwrap_or_else(|e| e.into_response())
}

/// The page token names the last project of the previous page, encoded so that it reads as
/// the opaque string Google hands out; one that does not decode to a project id is refused.
fn token_for(project_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("after:{project_id}"))
}

fn after_token(token: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let id = text.strip_prefix("after:")?;
    crate::domain::validate::is_project_id(id).then(|| id.to_string())
}

/// Google's answer to a page token it did not hand out. The status is what every Google list
/// answers; the exact wording for Resource Manager is UNCONFIRMED (docs/google-cloud.md §23).
fn bad_page_token() -> ApiError {
    ApiError::run(
        400,
        "INVALID_ARGUMENT",
        "Request contains an invalid argument.",
    )
}

/// What the service account holds on a project (`v3/projects/P:testIamPermissions`). Google
/// accepts the project id or its number; the sandbox knows projects by id.
async fn test_iam_permissions(sb: &Sandbox, mut call: Call<'_>) -> ApiResult {
    let project = call.param("projectsId").unwrap_or_default().to_string();
    let asked = call.take_body();
    Ok(super::iam::permissions_answer(sb.held_of(&project, &asked)))
}

fn project(sb: &Sandbox, id: &str) -> Value {
    json!({
        "name": format!("projects/{}", project_number(id)),
        "projectId": id,
        "displayName": id,
        "state": "ACTIVE",
        "parent": sb.organization_of(id),
        "etag": format!("W/\"{}\"", &project_number(&format!("etag/{id}"))[..8]),
        "createTime": "2026-01-01T00:00:00.000Z",
        "updateTime": "2026-01-01T00:00:00.000Z",
    })
}

async fn search(sb: &Sandbox, call: &Call<'_>) -> ApiResult {
    // The query check made sure pageSize is an int32; unset or not above 0 means the default.
    let size = match call.query("pageSize").and_then(|s| s.parse::<i64>().ok()) {
        Some(n) if n > 0 => (n as usize).min(500),
        _ => DEFAULT_PAGE_SIZE,
    };
    let after = match call.query("pageToken") {
        None | Some("") => None,
        Some(t) => Some(after_token(t).ok_or_else(bad_page_token)?),
    };
    let mut conn = sb
        .db
        .acquire()
        .await
        .map_err(|e| ApiError::internal(e, Api::ResourceManager))?;
    let mut ids = crate::db::sandbox::projects_in_use(&mut conn, now_ms())
        .await
        .map_err(|e| ApiError::internal(e, Api::ResourceManager))?;
    ids.push(SANDBOX_PROJECT.to_string());
    ids.sort();
    ids.dedup();
    let rest: Vec<&String> = ids
        .iter()
        .filter(|id| after.as_ref().is_none_or(|a| id.as_str() > a.as_str()))
        .collect();
    let page = &rest[..rest.len().min(size)];
    // proto3 JSON leaves out an empty repeated field and an empty token.
    let mut body = json!({});
    if !page.is_empty() {
        body["projects"] = json!(page.iter().map(|id| project(sb, id)).collect::<Vec<_>>());
    }
    if rest.len() > page.len()
        && let Some(last) = page.last()
    {
        body["nextPageToken"] = json!(token_for(last));
    }
    Ok(axum::Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_strangers_are_refused() {
        assert_eq!(
            after_token(&token_for("acme-prod")).as_deref(),
            Some("acme-prod")
        );
        assert_eq!(after_token("acme-prod"), None);
        assert_eq!(after_token(&URL_SAFE_NO_PAD.encode("after:X")), None);
        assert_eq!(after_token("%%%"), None);
    }
}
