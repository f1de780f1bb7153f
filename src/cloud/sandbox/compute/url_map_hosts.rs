//! A URL map cannot change the Host header of requests to internet NEGs: Google's internet NEG
//! page says "modifying the Host header is not supported in the URL map"; the Host they receive
//! is set with a custom request header on the backend service instead (API-NOTES §16.5, §17.2).
//! The API's exact words for the refusal are not published, so the sandbox answers Compute's
//! usual `invalid` field error with the documentation's sentence.

use super::references::{resource_path_of, split_path};
use super::url_map_schemes::Problem;
use super::{API, Ctx};
use crate::cloud::sandbox::ApiResult;
use crate::db::sandbox::{self as sql, Key};
use serde_json::Value;
use sqlx::SqliteConnection;

const WHY: &str = "Modifying the Host header is not supported in the URL map for backend services with Internet network endpoint groups; set it with a custom request header (\"Host: NAME\") on the backend service instead.";

/// A route action that rewrites the host, with the backend services it sends to.
struct HostRewrite {
    field: String,
    host: String,
    services: Vec<String>,
}

/// Every `urlRewrite.hostRewrite` of the map (an already normalised body), and where it sends.
fn rewrites(v: &Value, path: &str, out: &mut Vec<HostRewrite>) {
    match v {
        Value::Object(obj) => {
            for (key, sibling) in [
                ("routeAction", "service"),
                ("defaultRouteAction", "defaultService"),
            ] {
                let Some(action) = obj.get(key) else { continue };
                let Some(host) = action["urlRewrite"]["hostRewrite"].as_str() else {
                    continue;
                };
                let mut services: Vec<String> = action["weightedBackendServices"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|w| w["backendService"].as_str().map(str::to_string))
                    .collect();
                services.extend(obj.get(sibling).and_then(Value::as_str).map(str::to_string));
                out.push(HostRewrite {
                    field: format!("{path}.{key}.urlRewrite.hostRewrite"),
                    host: host.to_string(),
                    services,
                });
            }
            for (k, x) in obj {
                rewrites(x, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                rewrites(x, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

async fn resource(
    conn: &mut SqliteConnection,
    project: &str,
    link: &str,
) -> ApiResult<Option<Value>> {
    let Some((p, loc, c, n)) = resource_path_of(project, link)
        .as_deref()
        .and_then(split_path)
    else {
        return Ok(None);
    };
    let key = Key {
        api: API,
        project: &p,
        location: &loc,
        collection: &c,
        name: &n,
    };
    Ok(sql::get_resource(conn, key).await?.map(|r| r.body))
}

/// Whether a backend service has a global internet NEG among its backends.
async fn has_internet_neg(
    conn: &mut SqliteConnection,
    project: &str,
    service: &str,
) -> ApiResult<bool> {
    let Some(bs) = resource(conn, project, service).await? else {
        return Ok(false);
    };
    for group in bs["backends"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["group"].as_str())
    {
        if let Some(neg) = resource(conn, project, group).await?
            && neg["networkEndpointType"]
                .as_str()
                .is_some_and(|t| t.starts_with("INTERNET_"))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The first host rewrite towards a backend service with an internet NEG, if any.
pub(super) async fn host_rewrite_problem(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    map: &Value,
) -> ApiResult<Option<Problem>> {
    let mut found = Vec::new();
    rewrites(map, "resource", &mut found);
    for r in found {
        for s in &r.services {
            if has_internet_neg(conn, ctx.project, s).await? {
                return Ok(Some(Problem {
                    field: r.field,
                    value: r.host,
                    why: WHY.to_string(),
                }));
            }
        }
    }
    Ok(None)
}
