//! Compute operations: the record a mutation writes with its change (or instead of it, when a
//! fault makes the operation fail), their RUNNING → DONE lifecycle by the clock, get/wait/delete,
//! and requestId replay.

use super::{API, Ctx};
use crate::cloud::sandbox::{Api, ApiError, ApiResult, Fault, now_ms, random_id, rfc3339};
use crate::db::sandbox::{self as sql, Key, StoredOperation};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sqlx::SqliteConnection;
use std::time::Duration;

/// A planned write, applied together with its operation record (or not at all when the
/// operation is made to fail).
pub(super) enum Write {
    /// A new resource, there to read once the operation is DONE.
    Create {
        location: String,
        collection: String,
        name: String,
        body: Value,
        internal: Value,
    },
    /// A change in place, seen at once.
    Replace {
        location: String,
        collection: String,
        name: String,
        body: Value,
        internal: Value,
    },
    /// A delete, complete once the operation is DONE; until then the resource is still there.
    Delete {
        location: String,
        collection: String,
        name: String,
    },
}

pub(super) struct Change {
    pub(super) op_type: String,
    pub(super) target_path: String,
    pub(super) target_id: Option<String>,
    pub(super) writes: Vec<Write>,
}

/// `requestId` must be a UUID other than the all-zero one (docs/google-cloud.md §9).
pub(super) fn parse_request_id(rid: Option<&str>) -> ApiResult<Option<String>> {
    let Some(rid) = rid else { return Ok(None) };
    match uuid::Uuid::parse_str(rid) {
        Ok(u) if !u.is_nil() => Ok(Some(u.hyphenated().to_string())),
        _ => Err(ApiError::invalid(
            "requestId",
            rid,
            "The request id must be a valid UUID with the exception that zero UUID is not supported (00000000-0000-0000-0000-000000000000).",
        )),
    }
}

pub(super) async fn commit(
    ctx: &Ctx<'_>,
    request_id: Option<String>,
    change: Change,
    fault: Option<Fault>,
) -> ApiResult {
    // The operation runs from the request's arrival, as Google's insertTime says.
    let now = ctx.now;
    let latency = ctx.sb.config().operation_latency;
    let name = format!("operation-{now}-{}", uuid::Uuid::new_v4());
    let scope = ctx.scope_path(ctx.location);
    let mut op = json!({
        "kind": "compute#operation",
        "id": random_id(),
        "name": name,
        "operationType": change.op_type,
        "targetLink": ctx.link(&change.target_path),
        "insertTime": rfc3339(now),
        "startTime": rfc3339(now),
        "user": ctx.sb.account.client_email,
        "selfLink": ctx.link(&format!("{scope}/operations/{name}")),
    });
    if let Some(id) = &change.target_id {
        op["targetId"] = json!(id);
    }
    if ctx.location != "global" {
        op["region"] = json!(ctx.link(&scope));
    }
    if let Some(rid) = &request_id {
        op["clientOperationId"] = json!(rid);
    }
    let error = (fault == Some(Fault::OperationError)).then(|| {
        json!({
            "error": {"errors": [{"code": "INTERNAL_ERROR",
                "message": "Internal error. Please try again or contact Google Support. (sandbox fault injection)"}]},
            "httpErrorStatusCode": 500,
            "httpErrorMessage": "INTERNAL SERVER ERROR",
        })
    });
    let done_at = now + latency.as_millis() as i64;
    let mut tx = ctx.sb.db.begin().await?;
    sql::purge_gone(&mut tx, now).await?;
    if error.is_none() {
        for w in &change.writes {
            match w {
                Write::Create {
                    location,
                    collection,
                    name,
                    body,
                    internal,
                } => {
                    let key = key(ctx.project, location, collection, name);
                    sql::put_resource_visible_at(&mut tx, key, body, internal, 0, now, done_at)
                        .await?;
                }
                Write::Replace {
                    location,
                    collection,
                    name,
                    body,
                    internal,
                } => {
                    let key = key(ctx.project, location, collection, name);
                    sql::put_resource(&mut tx, key, body, internal, 0, now).await?;
                }
                Write::Delete {
                    location,
                    collection,
                    name,
                } => {
                    sql::delete_resource_at(
                        &mut tx,
                        key(ctx.project, location, collection, name),
                        done_at,
                    )
                    .await?;
                }
            }
        }
    }
    sql::insert_operation(
        &mut tx,
        API,
        ctx.project,
        ctx.location,
        &name,
        &op,
        error.as_ref(),
        done_at,
        request_id.as_deref(),
        now,
    )
    .await?;
    tx.commit().await?;
    if fault == Some(Fault::LostReply) {
        return Err(ApiError::for_fault(Fault::LostReply, Api::Compute));
    }
    let stored = StoredOperation {
        location: ctx.location.to_string(),
        name,
        body: op,
        error,
        // The reply to a mutation always shows the operation just started, as Google's does,
        // however long the commit took; only a zero latency answers DONE at once.
        done_at_ms: if latency.is_zero() { done_at } else { i64::MAX },
        created_ms: now,
    };
    Ok(axum::Json(render_operation(&stored)).into_response())
}

fn key<'k>(project: &'k str, location: &'k str, collection: &'k str, name: &'k str) -> Key<'k> {
    Key {
        api: API,
        project,
        location,
        collection,
        name,
    }
}

/// A repeated requestId answers the original operation and changes nothing (docs/google-cloud.md §9).
pub(super) async fn replay(
    conn: &mut SqliteConnection,
    project: &str,
    request_id: &str,
) -> ApiResult<Option<Response>> {
    Ok(sql::operation_by_request_id(conn, API, project, request_id)
        .await?
        .map(|op| axum::Json(render_operation(&op)).into_response()))
}

/// An operation as of now: RUNNING until its time has come, then DONE (with its error, if any).
fn render_operation(op: &StoredOperation) -> Value {
    let mut body = op.body.clone();
    if now_ms() >= op.done_at_ms {
        body["status"] = json!("DONE");
        body["progress"] = json!(100);
        body["endTime"] = json!(rfc3339(op.done_at_ms));
        if let Some(Value::Object(err)) = &op.error {
            for (k, v) in err {
                body[k] = v.clone();
            }
        }
    } else {
        body["status"] = json!("RUNNING");
        body["progress"] = json!(0);
    }
    body
}

pub(super) async fn get_operation(ctx: &Ctx<'_>, name: &str) -> ApiResult {
    let mut conn = ctx.sb.db.acquire().await?;
    let op = sql::get_operation(&mut conn, API, ctx.project, ctx.location, name)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(&format!(
                "{}/operations/{name}",
                ctx.scope_path(ctx.location)
            ))
        })?;
    Ok(axum::Json(render_operation(&op)).into_response())
}

/// Blocks until the operation is DONE or the wait cap passes, as Compute's `wait` does.
pub(super) async fn wait_operation(ctx: &Ctx<'_>, name: &str) -> ApiResult {
    let op = {
        let mut conn = ctx.sb.db.acquire().await?;
        sql::get_operation(&mut conn, API, ctx.project, ctx.location, name)
            .await?
            .ok_or_else(|| {
                ApiError::not_found(&format!(
                    "{}/operations/{name}",
                    ctx.scope_path(ctx.location)
                ))
            })?
    };
    let remaining = op.done_at_ms - now_ms();
    if remaining > 0 {
        let cap = ctx.sb.config().wait_cap;
        tokio::time::sleep(Duration::from_millis(remaining as u64).min(cap)).await;
    }
    Ok(axum::Json(render_operation(&op)).into_response())
}

pub(super) async fn delete_operation(ctx: &Ctx<'_>, name: &str) -> ApiResult {
    let mut conn = ctx.sb.db.acquire().await?;
    if sql::delete_operation(&mut conn, API, ctx.project, ctx.location, name).await? {
        Ok(axum::Json(json!({})).into_response())
    } else {
        Err(ApiError::not_found(&format!(
            "{}/operations/{name}",
            ctx.scope_path(ctx.location)
        )))
    }
}
