//! What a URL map may hold depends on the load-balancing scheme of its backend services
//! (docs/google-cloud.md §5, and the field descriptions of disc:ce it quotes): a classic
//! (`EXTERNAL`) load balancer takes only `urlRewrite` in route actions; regular expressions,
//! metadata filters and stream durations are for `INTERNAL_SELF_MANAGED` in a global map (the
//! regional `EXTERNAL_MANAGED` and `INTERNAL_MANAGED` maps take regular expressions too, but
//! the sandbox serves global maps only), so a global external Application Load Balancer refuses
//! them.

use super::references::{references, split_path};
use super::{API, Ctx};
use crate::cloud::sandbox::ApiResult;
use crate::db::sandbox::{self as sql, Key};
use crate::domain::urlmap::{self, UrlMap};
use serde_json::Value;
use sqlx::SqliteConnection;

/// The schemes a map is used with: those of its backend services, or those `validate` names.
pub(super) struct Schemes(Vec<String>);

impl Schemes {
    pub(super) fn requested(schemes: Vec<String>) -> Schemes {
        Schemes(schemes)
    }

    /// The schemes of the backend services the map references (that exist).
    pub(super) async fn of_backends(
        ctx: &Ctx<'_>,
        conn: &mut SqliteConnection,
        map: &Value,
    ) -> ApiResult<Schemes> {
        let mut out: Vec<String> = Vec::new();
        for r in references(ctx.project, "urlMaps", map) {
            let Some((p, loc, c, n)) = split_path(&r.path) else {
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
                && let Some(s) = bs.body["loadBalancingScheme"].as_str()
                && !out.iter().any(|o| o == s)
            {
                out.push(s.to_string());
            }
        }
        Ok(Schemes(out))
    }

    fn classic(&self) -> bool {
        self.0.iter().any(|s| s == "EXTERNAL")
    }

    /// Only when every backend service is `INTERNAL_SELF_MANAGED` (and there is one): a map
    /// with no backend service serves no such load balancer.
    fn self_managed(&self) -> bool {
        !self.0.is_empty() && self.0.iter().all(|s| s == "INTERNAL_SELF_MANAGED")
    }
}

/// One refusal: the field, its value as sent, and why.
pub(super) struct Problem {
    pub(super) field: String,
    pub(super) value: String,
    pub(super) why: String,
}

impl Problem {
    /// Compute's 400 `invalid` for it.
    pub(super) fn error(&self) -> crate::cloud::sandbox::ApiError {
        crate::cloud::sandbox::ApiError::invalid(&self.field, &self.value, &self.why)
    }
}

const REGEX: &str = "Regular expressions can only be used when the loadBalancingScheme is set to INTERNAL_SELF_MANAGED, EXTERNAL_MANAGED (regional scope) or INTERNAL_MANAGED.";

/// Fields a global external load balancer refuses, with the wording of their descriptions.
const SELF_MANAGED_ONLY: &[(&str, &str)] = &[
    ("regexMatch", REGEX),
    (
        "allowOriginRegexes",
        "Regular expressions can only be used when the loadBalancingScheme is set to INTERNAL_SELF_MANAGED.",
    ),
    (
        "metadataFilters",
        "metadataFilters only applies to load balancers that have loadBalancingScheme set to INTERNAL_SELF_MANAGED.",
    ),
    (
        "maxStreamDuration",
        "This field is only allowed if the Url map is used with backend services with loadBalancingScheme set to INTERNAL_SELF_MANAGED.",
    ),
];

/// Fields a classic load balancer refuses beyond the route-action features of
/// `urlmap::advanced_features`.
const NOT_CLASSIC: &[(&str, &str)] = &[
    (
        "rangeMatch",
        "rangeMatch is not supported for load balancers that have loadBalancingScheme set to EXTERNAL.",
    ),
    (
        "faultInjectionPolicy",
        "Fault injection is not supported with the classic Application Load Balancer.",
    ),
];

/// Every occurrence of one of `keys` in the map, with its field path and value.
fn find(v: &Value, path: &str, keys: &[(&str, &str)], out: &mut Vec<(String, String, String)>) {
    match v {
        Value::Object(obj) => {
            for (k, x) in obj {
                let field = format!("{path}.{k}");
                if let Some((_, why)) = keys.iter().find(|(key, _)| key == k) {
                    let shown = x
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| x.to_string());
                    out.push((field, shown, why.to_string()));
                } else {
                    find(x, &field, keys, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                find(x, &format!("{path}[{i}]"), keys, out);
            }
        }
        _ => {}
    }
}

pub(super) fn scheme_problems(map: &UrlMap, body: &Value, schemes: &Schemes) -> Vec<Problem> {
    let mut found = Vec::new();
    if !schemes.self_managed() {
        find(body, "resource", SELF_MANAGED_ONLY, &mut found);
    }
    let mut out: Vec<Problem> = found
        .into_iter()
        .map(|(field, value, why)| Problem { field, value, why })
        .collect();
    if schemes.classic() {
        for f in urlmap::advanced_features(map) {
            out.push(Problem {
                why: format!("{f} is only supported with load balancing scheme EXTERNAL_MANAGED."),
                field: f,
                value: String::new(),
            });
        }
        let mut classic = Vec::new();
        find(body, "resource", NOT_CLASSIC, &mut classic);
        out.extend(
            classic
                .into_iter()
                .map(|(field, value, why)| Problem { field, value, why }),
        );
    }
    out
}
