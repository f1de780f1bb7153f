//! Cloud Run IAM policies: read, and replace under the etag read (docs/google-cloud.md §1), with
//! the IAM-race fault playing another writer.

use super::{Ctx, invalid, not_found, run_err};
use crate::cloud::sandbox::{ApiError, ApiResult, random_hex};
use crate::db::sandbox::{self as sql, StoredResource};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

fn policy_of(r: &StoredResource) -> Value {
    let p = &r.internal["iam"];
    json!({
        "version": 1,
        "etag": p["etag"].as_str().unwrap_or("ACAB"),
        "bindings": p["bindings"].as_array().cloned().unwrap_or_default(),
    })
}

pub(super) async fn get_iam(ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let mut conn = ctx.sb.db.acquire().await.map_err(run_err)?;
    let r = sql::get_resource(&mut conn, ctx.key(id))
        .await
        .map_err(run_err)?
        .ok_or_else(|| not_found(&ctx.name(id)))?;
    let mut p = policy_of(&r);
    if p["bindings"].as_array().is_some_and(Vec::is_empty) {
        p.as_object_mut().expect("object").remove("bindings");
    }
    Ok(axum::Json(p).into_response())
}

fn valid_member(m: &str) -> bool {
    m == "allUsers"
        || m == "allAuthenticatedUsers"
        || [
            "user:",
            "serviceAccount:",
            "group:",
            "domain:",
            "principal:",
            "principalSet:",
        ]
        .iter()
        .any(|p| m.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

pub(super) async fn set_iam(ctx: &Ctx<'_>, id: &str, req: Value) -> ApiResult {
    let policy = req
        .get("policy")
        .cloned()
        .ok_or_else(|| invalid("policy is required."))?;
    let _serial = ctx.sb.write.lock().await;
    let mut conn: sqlx::pool::PoolConnection<sqlx::Sqlite> =
        ctx.sb.db.acquire().await.map_err(run_err)?;
    let r = sql::get_resource(&mut conn, ctx.key(id))
        .await
        .map_err(run_err)?
        .ok_or_else(|| not_found(&ctx.name(id)))?;
    let mut r = r;
    if ctx.sb.take_iam_race() {
        // The other writer's change lands first, with a new etag.
        let mut theirs = policy_of(&r)["bindings"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        theirs.push(json!({"role": "roles/run.developer", "members": ["user:racer@example.com"]}));
        let etag = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            random_hex(6).as_bytes(),
        );
        r.internal["iam"] = json!({"etag": etag, "bindings": theirs});
        let internal = r.internal.clone();
        store_internal(&mut conn, ctx, id, &r, &internal).await?;
    }
    let current = policy_of(&r);
    if let Some(etag) = policy["etag"].as_str()
        && etag != current["etag"].as_str().unwrap_or_default()
    {
        return Err(ApiError::run(
            409,
            "ABORTED",
            "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.",
        ));
    }
    let bindings = policy["bindings"].as_array().cloned().unwrap_or_default();
    for (i, b) in bindings.iter().enumerate() {
        let role = b["role"].as_str().unwrap_or_default();
        if !role.starts_with("roles/") {
            return Err(invalid(format!(
                "policy.bindings[{i}].role: '{role}' is not a valid role."
            )));
        }
        for m in b["members"].as_array().cloned().unwrap_or_default() {
            let m = m.as_str().unwrap_or_default();
            if !valid_member(m) {
                return Err(invalid(format!(
                    "policy.bindings[{i}].members: '{m}' is not a valid member."
                )));
            }
        }
    }
    let etag = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        random_hex(6).as_bytes(),
    );
    let mut internal = r.internal.clone();
    internal["iam"] = json!({"etag": etag, "bindings": bindings});
    store_internal(&mut conn, ctx, id, &r, &internal).await?;
    Ok(axum::Json(json!({"version": 1, "etag": etag, "bindings": bindings})).into_response())
}

async fn store_internal(
    conn: &mut SqliteConnection,
    ctx: &Ctx<'_>,
    id: &str,
    r: &StoredResource,
    internal: &Value,
) -> ApiResult<()> {
    sql::put_resource(
        conn,
        ctx.key(id),
        &r.body,
        internal,
        r.ready_at_ms,
        r.created_ms,
    )
    .await
    .map_err(run_err)
}
