//! Compute `list`: pages of at most `maxResults` (default and most 500) by name, continued with
//! the opaque `nextPageToken`, in Google's list shape, which has no `items` at all when a page
//! is empty (docs/google-cloud.md §0, §21.1).

use super::crud::render;
use super::names::valid_name;
use super::users::Users;
use super::{API, Coll, Ctx};
use crate::cloud::sandbox::request::Call;
use crate::cloud::sandbox::{ApiError, ApiResult};
use crate::db::sandbox as sql;
use axum::response::IntoResponse;
use serde_json::json;

const MAX_RESULTS: usize = 500;

pub(super) async fn list(ctx: &Ctx<'_>, spec: &Coll, call: &Call<'_>) -> ApiResult {
    if let Some(f) = call.query("filter").filter(|f| !f.trim().is_empty()) {
        return Err(ApiError::invalid(
            "filter",
            f,
            "The sandbox does not implement list filters; list everything and filter locally.",
        ));
    }
    if let Some(o) = call
        .query("orderBy")
        .filter(|o| !o.trim().is_empty() && *o != "name")
    {
        return Err(ApiError::invalid(
            "orderBy",
            o,
            "The sandbox lists by name only; leave orderBy unset or set it to 'name'.",
        ));
    }
    // The query check made sure it is a uint32; 0, like no value, means the default.
    let max = match call.query("maxResults").map(str::parse::<usize>) {
        None | Some(Ok(0)) | Some(Err(_)) => MAX_RESULTS,
        Some(Ok(n)) if n <= MAX_RESULTS => n,
        Some(Ok(n)) => {
            return Err(ApiError::invalid(
                "maxResults",
                &n.to_string(),
                "Must be between 0 and 500.",
            ));
        }
    };
    // The token is the last name of the previous page: each page is one indexed range read,
    // however deep into the collection it is.
    let after = match call.query("pageToken") {
        None | Some("") => None,
        Some(t) if valid_name(t) => Some(t),
        Some(t) => return Err(ApiError::invalid("pageToken", t, "Invalid page token.")),
    };
    let mut conn = ctx.sb.db.acquire().await?;
    let mut rows = sql::list_page(
        &mut conn,
        API,
        ctx.project,
        ctx.location,
        spec.name,
        after,
        max as u32 + 1,
        ctx.now,
    )
    .await?;
    let next = (rows.len() > max).then(|| {
        rows.truncate(max);
        rows.last().map(|r| r.name.clone()).unwrap_or_default()
    });
    // Read once for the page: reading them again for each item made a list cost the square of
    // the collection. The work stays within the page (at most 500 items) and within this
    // request's future, which hyper drops when the client goes away.
    let mut users = Users::default();
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(render(ctx, &mut conn, &mut users, r).await?);
    }
    let collection_path = format!("{}/{}", ctx.scope_path(ctx.location), spec.name);
    let mut page = json!({
        "kind": format!("{}List", spec.kind),
        "id": collection_path,
        "selfLink": ctx.link(&collection_path),
    });
    if !items.is_empty() {
        page["items"] = json!(items);
    }
    if let Some(token) = next {
        page["nextPageToken"] = json!(token);
    }
    Ok(axum::Json(page).into_response())
}
