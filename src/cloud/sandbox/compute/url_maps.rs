//! URL maps: the domain rules of `domain::urlmap` checked on every insert and update, the
//! features a classic (`EXTERNAL`) backend cannot serve, and the `validate` verb.

use super::shared::{check_references, norm, one_of, split_path};
use super::{API, Ctx, json_body};
use crate::cloud::sandbox::{ApiError, ApiResult};
use crate::db::sandbox::{self as sql, Key};
use crate::domain::urlmap::{self, UrlMap};
use axum::body::Bytes;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

/// The URL map rules of docs/google-cloud.md §11.8 come from `domain::urlmap`, the one implementation the
/// planner and the route preview also use; tests run on every insert and update.
pub(super) async fn prepare(
    conn: &mut SqliteConnection,
    project: &str,
    body: Value,
) -> ApiResult<Value> {
    let map: UrlMap = serde_json::from_value(body)
        .map_err(|e| ApiError::invalid("resource", "", &format!("Not a valid URL map: {e}")))?;
    if let Err(e) = urlmap::check(&map) {
        return Err(ApiError::invalid(&e.field, &e.value, &e.message));
    }
    let as_value = serde_json::to_value(&map).expect("a URL map serialises");
    check_references(conn, project, "urlMaps", &as_value).await?;
    if let Some(problem) = scheme_problems(conn, project, &map, &[])
        .await?
        .into_iter()
        .next()
    {
        return Err(ApiError::invalid(&problem.0, "", &problem.1));
    }
    if let Some(f) = urlmap::run_tests(&map).first() {
        return Err(ApiError::invalid(
            &format!("resource.tests[{}]", f.index),
            &format!("{}{}", f.host, f.path),
            &format!("Test failure: {}", f.message),
        ));
    }
    Ok(as_value)
}

/// Features a classic (`EXTERNAL`) load balancer cannot serve, when the map's backend services
/// (or the requested schemes) are `EXTERNAL`: (field, message).
async fn scheme_problems(
    conn: &mut SqliteConnection,
    project: &str,
    map: &UrlMap,
    requested: &[String],
) -> ApiResult<Vec<(String, String)>> {
    let mut classic = requested.iter().any(|s| s == "EXTERNAL");
    if requested.is_empty() {
        for s in urlmap::referenced_services(map) {
            let Some((p, loc, c, n)) = norm(project, &s).as_deref().and_then(split_path) else {
                continue;
            };
            let key = Key {
                api: API,
                project: &p,
                location: &loc,
                collection: &c,
                name: &n,
            };
            if let Some(bs) = sql::get_resource(conn, key).await?
                && bs.body["loadBalancingScheme"] == "EXTERNAL"
            {
                classic = true;
            }
        }
    }
    if !classic {
        return Ok(Vec::new());
    }
    Ok(urlmap::advanced_features(map)
        .into_iter()
        .map(|f| {
            let m = format!("{f} is only supported with load balancing scheme EXTERNAL_MANAGED.");
            (f, m)
        })
        .collect())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidateRequest {
    resource: Value,
    #[serde(default)]
    load_balancing_schemes: Vec<String>,
}

/// `urlMaps.validate`: loads and tests a URL map without storing anything.
pub(super) async fn validate_url_map(ctx: &Ctx<'_>, body: &Bytes) -> ApiResult {
    let req: ValidateRequest = serde_json::from_value(json_body(body)?)
        .map_err(|e| ApiError::invalid("resource", "", &format!("Not a valid request: {e}")))?;
    for s in &req.load_balancing_schemes {
        one_of(
            "loadBalancingSchemes",
            Some(s),
            &["EXTERNAL", "EXTERNAL_MANAGED"],
            "",
        )?;
    }
    let map: UrlMap = serde_json::from_value(req.resource)
        .map_err(|e| ApiError::invalid("resource", "", &format!("Not a valid URL map: {e}")))?;
    let mut conn = ctx.sb.db.acquire().await?;
    let mut load_errors: Vec<String> = urlmap::check_all(&map)
        .iter()
        .map(|e| e.to_string())
        .collect();
    let as_value = serde_json::to_value(&map).expect("a URL map serialises");
    if let Err(e) = check_references(&mut conn, ctx.project, "urlMaps", &as_value).await {
        load_errors.push(e.message.clone());
    }
    for (_, m) in scheme_problems(&mut conn, ctx.project, &map, &req.load_balancing_schemes).await?
    {
        load_errors.push(m);
    }
    let result = if load_errors.is_empty() {
        let failures = urlmap::run_tests(&map);
        let mut r = json!({"loadSucceeded": true, "testPassed": failures.is_empty()});
        if !failures.is_empty() {
            r["testFailures"] = serde_json::to_value(&failures).expect("serialisable");
        }
        r
    } else {
        json!({"loadSucceeded": false, "loadErrors": load_errors, "testPassed": false})
    };
    Ok(axum::Json(json!({"result": result})).into_response())
}
