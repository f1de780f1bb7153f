//! Cloud Run's long-running operations: no `done` until their time, then `done` with the
//! `response` or the `error`; get, wait, delete, and the list, newest first, a page at a time
//! (docs/google-cloud.md §1).

use super::{API, Ctx, invalid, run_err};
use crate::cloud::sandbox::request::Call;
use crate::cloud::sandbox::{ApiError, ApiResult, now_ms};
use crate::db::sandbox::{self as sql, DoneFilter};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::time::Duration;

/// The operation as of now: no `done` (false) until its time, then `done` with `response` or
/// `error`.
pub(super) fn render_op(op: &Value, error: Option<&Value>, done_at: i64) -> Value {
    let mut v = json!({"name": op["name"], "metadata": op["metadata"]});
    if now_ms() >= done_at {
        v["done"] = json!(true);
        match error {
            Some(e) => v["error"] = e.clone(),
            None => v["response"] = op["response"].clone(),
        }
    }
    v
}

/// `get`, or `wait` (up to the request's `timeout`, at most the sandbox's wait cap).
pub(super) async fn get(ctx: &Ctx<'_>, id: &str, wait: Option<&Value>) -> ApiResult {
    let name = format!("{}/operations/{id}", ctx.parent());
    let mut conn = ctx.sb.db.acquire().await.map_err(run_err)?;
    let op = sql::get_operation(&mut conn, API, ctx.project, ctx.location, id)
        .await
        .map_err(run_err)?
        .ok_or_else(|| {
            ApiError::run(404, "NOT_FOUND", format!("operation \"{name}\" not found"))
        })?;
    drop(conn);
    if let Some(req) = wait {
        let remaining = op.done_at_ms - now_ms();
        if remaining > 0 {
            let mut cap = ctx.sb.config().wait_cap;
            if let Some(t) = req["timeout"].as_str().and_then(seconds) {
                cap = cap.min(t);
            }
            tokio::time::sleep(Duration::from_millis(remaining as u64).min(cap)).await;
        }
    }
    Ok(axum::Json(render_op(&op.body, op.error.as_ref(), op.done_at_ms)).into_response())
}

/// A `google.protobuf.Duration` in JSON (`"60s"`, `"1.5s"`; its format was checked on admission).
fn seconds(d: &str) -> Option<Duration> {
    d.strip_suffix('s')?
        .parse::<f64>()
        .ok()
        .filter(|s| *s >= 0.0)
        .map(Duration::from_secs_f64)
}

pub(super) async fn delete(ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let mut conn = ctx.sb.db.acquire().await.map_err(run_err)?;
    if sql::delete_operation(&mut conn, API, ctx.project, ctx.location, id)
        .await
        .map_err(run_err)?
    {
        Ok(axum::Json(json!({})).into_response())
    } else {
        let name = format!("{}/operations/{id}", ctx.parent());
        Err(ApiError::run(
            404,
            "NOT_FOUND",
            format!("operation \"{name}\" not found"),
        ))
    }
}

/// Most operations a page holds ("Requested page size cannot exceed 100", disc:run).
const PAGE_MAX: usize = 100;

/// `operations.list`: newest first, `pageSize` at most 100 (unset or not above 0: 100), the
/// `filter` forms the method documents (`done:true`, `done:false`, or none), and `{}` for an
/// empty page.
pub(super) async fn list(ctx: &Ctx<'_>, call: &Call<'_>) -> ApiResult {
    let done = match call.query("filter").map(str::trim).unwrap_or_default() {
        "" => DoneFilter::Any,
        "done:true" | "done=true" => DoneFilter::Done,
        "done:false" | "done=false" => DoneFilter::Running,
        other => {
            return Err(invalid(format!(
                "The filter '{other}' is not supported: use done:true, done:false or none."
            )));
        }
    };
    let size = match call.query("pageSize").and_then(|s| s.parse::<i64>().ok()) {
        Some(n) if n > 0 => (n as usize).min(PAGE_MAX),
        _ => PAGE_MAX,
    };
    // The token is the creation time and name of the previous page's last operation.
    let before = match call.query("pageToken") {
        None | Some("") => None,
        Some(t) => match t
            .split_once('_')
            .and_then(|(ms, n)| Some((ms.parse::<i64>().ok()?, n)))
        {
            Some(b) => Some(b),
            None => return Err(invalid("Invalid page token.")),
        },
    };
    let mut conn = ctx.sb.db.acquire().await.map_err(run_err)?;
    let mut rows = sql::list_operations_page(
        &mut conn,
        API,
        ctx.project,
        ctx.location,
        before,
        done,
        size as u32 + 1,
        now_ms(),
    )
    .await
    .map_err(run_err)?;
    let more = rows.len() > size;
    rows.truncate(size);
    let mut page = json!({});
    if !rows.is_empty() {
        page["operations"] = json!(
            rows.iter()
                .map(|op| render_op(&op.body, op.error.as_ref(), op.done_at_ms))
                .collect::<Vec<_>>()
        );
    }
    if more && let Some(last) = rows.last() {
        page["nextPageToken"] = json!(format!("{}_{}", last.created_ms, last.name));
    }
    Ok(axum::Json(page).into_response())
}
