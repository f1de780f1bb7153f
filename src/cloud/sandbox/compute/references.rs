//! References between resources: which fields hold them, how every accepted form is written
//! back as the full URL Google returns, and the check that each names a resource that exists
//! (docs/google-cloud.md §0, §10, §11.5).

use super::{API, Ctx};
use crate::cloud::sandbox::{ApiError, ApiResult};
use crate::db::sandbox::{self as sql, Key};
use crate::domain::links::compute_path;
use serde_json::Value;
use sqlx::SqliteConnection;

/// A field that holds references: its key, the collections whose resources carry it, and the
/// collections it may point at.
pub(super) struct RefField {
    pub(super) key: &'static str,
    pub(super) holders: &'static [&'static str],
    pub(super) targets: &'static [&'static str],
}

const PROXIES: &[&str] = &["targetHttpProxies", "targetHttpsProxies"];
const SERVICES: &[&str] = &["backendServices", "backendBuckets"];

/// Every reference field of the collections the sandbox models. A URL map's keys are found at
/// any depth (default services, path and route rules, weighted services, mirror policies,
/// error services, tests); the others are top-level or in `backends[]`.
pub(super) const REF_FIELDS: &[RefField] = &[
    RefField {
        key: "target",
        holders: &["forwardingRules"],
        targets: PROXIES,
    },
    RefField {
        key: "urlMap",
        holders: PROXIES,
        targets: &["urlMaps"],
    },
    RefField {
        key: "sslCertificates",
        holders: &["targetHttpsProxies"],
        targets: &["sslCertificates"],
    },
    RefField {
        key: "sslPolicy",
        holders: &["targetHttpsProxies"],
        targets: &["sslPolicies"],
    },
    RefField {
        key: "group",
        holders: &["backendServices"],
        targets: &["networkEndpointGroups", "instanceGroups"],
    },
    RefField {
        key: "healthChecks",
        holders: &["backendServices"],
        targets: &["healthChecks"],
    },
    RefField {
        key: "defaultService",
        holders: &["urlMaps"],
        targets: SERVICES,
    },
    RefField {
        key: "service",
        holders: &["urlMaps"],
        targets: SERVICES,
    },
    RefField {
        key: "backendService",
        holders: &["urlMaps"],
        targets: SERVICES,
    },
    RefField {
        key: "errorService",
        holders: &["urlMaps"],
        targets: SERVICES,
    },
    RefField {
        key: "securityPolicy",
        holders: &["backendServices"],
        targets: &["securityPolicies"],
    },
    RefField {
        key: "edgeSecurityPolicy",
        holders: &["backendServices"],
        targets: &["securityPolicies"],
    },
];

/// One reference found in a body.
pub(super) struct Reference {
    /// `resource.pathMatchers[0].defaultService`.
    pub(super) field: String,
    pub(super) spec: &'static RefField,
    /// `projects/p/global/backendServices/b`.
    pub(super) path: String,
}

/// `(project, location, collection, name)` of a resource path; the location is `global`, a
/// region, or `zones/Z` for a zonal resource (which the sandbox never holds).
pub(super) fn split_path(path: &str) -> Option<(String, String, String, String)> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["projects", p, "global", c, n] if [p, c, n].iter().all(|s| !s.is_empty()) => {
            Some((p.to_string(), "global".into(), c.to_string(), n.to_string()))
        }
        ["projects", p, "regions", r, c, n] if [p, r, c, n].iter().all(|s| !s.is_empty()) => {
            Some((p.to_string(), r.to_string(), c.to_string(), n.to_string()))
        }
        ["projects", p, "zones", z, c, n] if [p, z, c, n].iter().all(|s| !s.is_empty()) => Some((
            p.to_string(),
            format!("zones/{z}"),
            c.to_string(),
            n.to_string(),
        )),
        _ => None,
    }
}

/// The resource path of any form Compute accepts: a full URL on any host,
/// `projects/P/global/…`, or `global/…` / `regions/…` / `zones/…` in `project`. A bare name,
/// or anything else that does not name a resource, is not a link.
pub(super) fn resource_path_of(project: &str, link: &str) -> Option<String> {
    let path = match compute_path(link) {
        Some(p) => p,
        None if ["global/", "regions/", "zones/"]
            .iter()
            .any(|p| link.starts_with(p)) =>
        {
            format!("projects/{project}/{}", link.trim_end_matches('/'))
        }
        None => return None,
    };
    split_path(&path).map(|_| path)
}

fn keys_of(collection: &str) -> Vec<&'static RefField> {
    REF_FIELDS
        .iter()
        .filter(|f| f.holders.contains(&collection))
        .collect()
}

/// Visits every reference string of `body` with its field path; `deep` searches below the top
/// level (URL maps), otherwise only top-level fields and `backends[]` are looked at.
fn visit(
    body: &mut Value,
    path: &str,
    keys: &[&'static RefField],
    deep: bool,
    f: &mut dyn FnMut(&'static RefField, &str, &mut String) -> ApiResult<()>,
) -> ApiResult<()> {
    match body {
        Value::Object(obj) => {
            for (k, v) in obj.iter_mut() {
                let field = format!("{path}.{k}");
                if let Some(spec) = keys.iter().find(|r| r.key == k) {
                    match v {
                        Value::String(s) => f(spec, &field, s)?,
                        Value::Array(items) => {
                            for (i, item) in items.iter_mut().enumerate() {
                                if let Value::String(s) = item {
                                    f(spec, &format!("{field}[{i}]"), s)?;
                                }
                            }
                        }
                        _ => {}
                    }
                } else if deep || k == "backends" {
                    visit(v, &field, keys, deep, f)?;
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                visit(item, &format!("{path}[{i}]"), keys, deep, f)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Rewrites every reference in `body` (of a resource of `collection`) as the full URL Google
/// answers with, whatever form was sent; a value that is not a link is refused as Compute
/// does. `backends[].group` must be sent as a full URL (docs/google-cloud.md §0).
pub(super) fn normalise(ctx: &Ctx<'_>, collection: &str, body: &mut Value) -> ApiResult<()> {
    let keys = keys_of(collection);
    visit(
        body,
        "resource",
        &keys,
        collection == "urlMaps",
        &mut |spec, field, s| {
            // An empty reference is an absent one; the kind's rules say whether it is needed.
            if s.is_empty() {
                return Ok(());
            }
            if spec.key == "group" && !(s.starts_with("https://") || s.starts_with("http://")) {
                return Err(ApiError::invalid(
                    field,
                    s,
                    "The group must be a fully-qualified URL; partial URLs are not supported for backends[].group.",
                ));
            }
            let path = resource_path_of(ctx.project, s)
                .ok_or_else(|| ApiError::invalid(field, s, "The URL is malformed."))?;
            *s = ctx.link(&path);
            Ok(())
        },
    )
}

/// Every reference a stored or proposed resource of `collection` in `project` holds. Stored
/// bodies hold full URLs; a short form (from before references were normalised) is resolved in
/// the resource's own project. A URL map test's expected service is written as a full URL like
/// any link but is no reference: a test naming a missing service fails as a test
/// (docs/google-cloud.md §5), and it keeps nothing in use.
pub(super) fn references(project: &str, collection: &str, body: &Value) -> Vec<Reference> {
    let keys = keys_of(collection);
    let mut out = Vec::new();
    let mut copy = body.clone();
    let _ = visit(
        &mut copy,
        "resource",
        &keys,
        collection == "urlMaps",
        &mut |spec, field, s| {
            if field.starts_with("resource.tests[") {
                return Ok(());
            }
            if let Some(path) = resource_path_of(project, s) {
                out.push(Reference {
                    field: field.to_string(),
                    spec,
                    path,
                });
            }
            Ok(())
        },
    );
    out
}

/// Checks that every reference names a resource of a kind its field allows, which exists now:
/// a missing one (or one whose insert is not DONE) is 404 `notFound`, one being deleted is
/// `resourceNotReady`.
pub(super) async fn check_references(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    collection: &str,
    body: &Value,
) -> ApiResult<()> {
    for r in references(ctx.project, collection, body) {
        let (p, loc, c, n) = split_path(&r.path).expect("references are resource paths");
        if !r.spec.targets.contains(&c.as_str()) {
            return Err(ApiError::invalid(
                &r.field,
                &ctx.link(&r.path),
                &format!(
                    "Expected a reference to one of: {}.",
                    r.spec.targets.join(", ")
                ),
            ));
        }
        if p != ctx.project && r.spec.targets == SERVICES {
            cross_project_use(ctx, &r, &p, &c)?;
        }
        let key = Key {
            api: API,
            project: &p,
            location: &loc,
            collection: &c,
            name: &n,
        };
        match sql::get_resource(conn, key).await? {
            Some(t) if t.visible(ctx.now) && !t.busy(ctx.now) => {}
            Some(t) if t.visible(ctx.now) => return Err(ApiError::not_ready(&r.path)),
            _ => return Err(ApiError::not_found(&r.path)),
        }
    }
    Ok(())
}

/// Cross-project service referencing (API-NOTES §16): a URL map may use a backend service (or
/// bucket) of another project of its organization when the caller holds its `use` permission.
/// The 403 follows Compute's "Required '…' permission for '…'" form (§16.4); the wording of the
/// other-organization refusal is UNCONFIRMED.
fn cross_project_use(
    ctx: &Ctx<'_>,
    r: &Reference,
    project: &str,
    collection: &str,
) -> ApiResult<()> {
    if ctx.sb.organization_of(project) != ctx.sb.organization_of(ctx.project) {
        return Err(ApiError::invalid(
            &r.field,
            &ctx.link(&r.path),
            &format!(
                "Cross-project references are only allowed between projects of the same organization; project '{project}' is not in the organization of project '{}'.",
                ctx.project
            ),
        ));
    }
    let permission = if collection == "backendBuckets" {
        "compute.backendBuckets.use"
    } else {
        "compute.backendServices.use"
    };
    if !ctx.sb.holds(project, permission) {
        return Err(ApiError::compute(
            403,
            "forbidden",
            format!("Required '{permission}' permission for '{}'", r.path),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_accepted_form_names_the_same_path() {
        let want = Some("projects/p/global/urlMaps/m".to_string());
        for form in [
            "https://www.googleapis.com/compute/v1/projects/p/global/urlMaps/m",
            "https://compute.googleapis.com/compute/v1/projects/p/global/urlMaps/m",
            "projects/p/global/urlMaps/m",
            "global/urlMaps/m",
        ] {
            assert_eq!(resource_path_of("p", form), want, "{form}");
        }
        assert_eq!(resource_path_of("p", "m"), None);
        assert_eq!(resource_path_of("p", "global/urlMaps"), None);
        assert_eq!(resource_path_of("p", "https://example.com/m"), None);
    }

    #[test]
    fn references_cover_every_link_field() {
        let fr = json!({"target": "https://www.googleapis.com/compute/v1/projects/p/global/targetHttpsProxies/t"});
        assert_eq!(
            references("p", "forwardingRules", &fr)[0].path,
            "projects/p/global/targetHttpsProxies/t"
        );
        let bs = json!({"backends": [{"group": "https://x/compute/v1/projects/p/regions/r/networkEndpointGroups/n"}], "healthChecks": ["global/healthChecks/h"]});
        let refs = references("p", "backendServices", &bs);
        assert_eq!(refs[0].field, "resource.backends[0].group");
        assert_eq!(refs[0].path, "projects/p/regions/r/networkEndpointGroups/n");
        assert_eq!(refs[1].path, "projects/p/global/healthChecks/h");
        let neg = json!({"cloudRun": {"service": "my-app"}});
        assert!(references("p", "networkEndpointGroups", &neg).is_empty());
        let map = json!({"defaultService": "global/backendServices/a",
            "pathMatchers": [{"name": "pm", "defaultService": "global/backendServices/b",
                "routeRules": [{"priority": 1, "routeAction": {
                    "requestMirrorPolicy": {"backendService": "global/backendServices/c"}}}]}]});
        let paths: Vec<String> = references("p", "urlMaps", &map)
            .into_iter()
            .map(|r| r.path)
            .collect();
        assert_eq!(
            paths,
            [
                "projects/p/global/backendServices/a",
                "projects/p/global/backendServices/b",
                "projects/p/global/backendServices/c"
            ]
        );
    }
}
