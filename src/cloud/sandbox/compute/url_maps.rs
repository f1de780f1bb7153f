//! URL maps: the domain rules of `domain::urlmap` checked on every insert and update, what the
//! load-balancing scheme of the map's backend services allows (`url_map_schemes`), the map's
//! tests, and the `validate` verb.

use super::Ctx;
use super::references::check_references;
use super::url_map_hosts::host_rewrite_problem;
use super::url_map_schemes::{Schemes, scheme_problems};
use crate::cloud::sandbox::{ApiError, ApiResult};
use crate::domain::urlmap::{self, UrlMap};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

fn model(body: Value) -> ApiResult<UrlMap> {
    serde_json::from_value(body)
        .map_err(|e| ApiError::invalid("resource", "", &format!("Not a valid URL map: {e}")))
}

/// The URL map rules of docs/google-cloud.md §11.8 come from `domain::urlmap`, the one
/// implementation the planner and the route preview also use; tests run on every insert and
/// update. `body` has its references written as full URLs already.
pub(super) async fn prepare(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    body: Value,
) -> ApiResult<Value> {
    let map = model(body)?;
    if let Err(e) = urlmap::check(&map) {
        return Err(ApiError::invalid(&e.field, &e.value, &e.message));
    }
    let as_value = serde_json::to_value(&map).expect("a URL map serialises");
    check_references(ctx, conn, "urlMaps", &as_value).await?;
    let schemes = Schemes::of_backends(ctx, conn, &as_value).await?;
    if let Some(p) = scheme_problems(&map, &as_value, &schemes)
        .into_iter()
        .next()
    {
        return Err(p.error());
    }
    if let Some(p) = host_rewrite_problem(ctx, conn, &as_value).await? {
        return Err(p.error());
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

/// `urlMaps.validate` (`UrlMapsValidateRequest`, checked on admission): loads and tests a URL
/// map without storing anything. What insert would refuse comes back as `loadErrors`.
pub(super) async fn validate_url_map(ctx: &Ctx<'_>, req: Value) -> ApiResult {
    let requested: Vec<String> = req["loadBalancingSchemes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if let Some(s) = requested
        .iter()
        .find(|s| !["EXTERNAL", "EXTERNAL_MANAGED"].contains(&s.as_str()))
    {
        return Err(ApiError::invalid(
            "loadBalancingSchemes",
            s,
            "Must be one of: EXTERNAL, EXTERNAL_MANAGED.",
        ));
    }
    let mut resource = req.get("resource").cloned().unwrap_or_else(|| json!({}));
    if let Err(e) = super::references::normalise(ctx, "urlMaps", &mut resource) {
        let result =
            json!({"loadSucceeded": false, "loadErrors": [e.message], "testPassed": false});
        return Ok(axum::Json(json!({"result": result})).into_response());
    }
    let map = model(resource)?;
    let mut conn = ctx.sb.db.acquire().await?;
    let mut load_errors: Vec<String> = urlmap::check_all(&map)
        .iter()
        .map(|e| e.to_string())
        .collect();
    let as_value = serde_json::to_value(&map).expect("a URL map serialises");
    if let Err(e) = check_references(ctx, &mut conn, "urlMaps", &as_value).await {
        load_errors.push(e.message.clone());
    }
    let schemes = if requested.is_empty() {
        Schemes::of_backends(ctx, &mut conn, &as_value).await?
    } else {
        Schemes::requested(requested)
    };
    for p in scheme_problems(&map, &as_value, &schemes) {
        load_errors.push(p.error().message);
    }
    if let Some(p) = host_rewrite_problem(ctx, &mut conn, &as_value).await? {
        load_errors.push(p.error().message);
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
