//! What a create or patch stores for a Cloud Run service: the server's fields and defaults, a
//! new revision when the template changed, and when that revision will be Ready (or that it
//! never will, for a failing image).

use super::Ctx;
use super::services::{region_code, render};
use crate::cloud::sandbox::{project_number, random_hex, rfc3339};
use crate::db::sandbox::StoredResource;
use serde_json::{Value, json};

/// The stored Service for a create or patch: server fields, a new revision when the template
/// changed, and when that revision will be Ready.
#[allow(clippy::too_many_arguments)]
pub(super) fn build_service(
    ctx: &Ctx<'_>,
    id: &str,
    input: &Value,
    existing: Option<&StoredResource>,
    force_new_revision: bool,
    now: i64,
    latency: i64,
    failing_images: &[String],
) -> (Value, Value, i64) {
    let mut s = input.clone();
    let obj = s.as_object_mut().expect("object");
    for f in [
        "name",
        "uid",
        "generation",
        "createTime",
        "updateTime",
        "creator",
        "lastModifier",
        "observedGeneration",
        "terminalCondition",
        "conditions",
        "latestReadyRevision",
        "latestCreatedRevision",
        "trafficStatuses",
        "uri",
        "urls",
        "reconciling",
        "etag",
    ] {
        obj.remove(f);
    }
    let email = ctx.sb.account.client_email.clone();
    let number = project_number(ctx.project);
    // Server defaults seen in recordings.
    if s["ingress"].is_null() {
        s["ingress"] = json!("INGRESS_TRAFFIC_ALL");
    }
    if s["launchStage"].is_null() {
        s["launchStage"] = json!("GA");
    }
    if s["traffic"].as_array().is_none_or(Vec::is_empty) {
        s["traffic"] = json!([{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}]);
    }
    let t = &mut s["template"];
    if t["timeout"].is_null() {
        t["timeout"] = json!("300s");
    }
    if t["maxInstanceRequestConcurrency"].is_null() {
        t["maxInstanceRequestConcurrency"] = json!(80);
    }
    if t["serviceAccount"].is_null() {
        t["serviceAccount"] = json!(format!("{number}-compute@developer.gserviceaccount.com"));
    }
    if t["executionEnvironment"].is_null() {
        t["executionEnvironment"] = json!("EXECUTION_ENVIRONMENT_GEN2");
    }
    if t["scaling"].is_null() {
        t["scaling"] = json!({"maxInstanceCount": 100});
    }
    if let Some(cs) = t["containers"].as_array_mut() {
        for c in cs {
            if c["resources"].is_null() {
                c["resources"] =
                    json!({"limits": {"cpu": "1000m", "memory": "512Mi"}, "cpuIdle": true});
            }
            if c["ports"].as_array().is_none_or(Vec::is_empty) {
                c["ports"] = json!([{"name": "http1", "containerPort": 8080}]);
            }
        }
    }
    let generation = existing
        .and_then(|r| r.body["generation"].as_str())
        .and_then(|g| g.parse::<i64>().ok())
        .unwrap_or(0)
        + 1;
    let template_changed = existing.is_none_or(|r| {
        let mut old = r.body["template"].clone();
        let mut new = s["template"].clone();
        if let Some(o) = old.as_object_mut() {
            o.remove("revision");
        }
        if let Some(o) = new.as_object_mut() {
            o.remove("revision");
        }
        old != new
    });
    let revision_index = existing
        .and_then(|r| r.internal["revisionIndex"].as_i64())
        .unwrap_or(0)
        + i64::from(template_changed || force_new_revision);
    let revision = match s.pointer("/template/revision").and_then(Value::as_str) {
        Some(r) if template_changed => r.to_string(),
        _ => format!("{id}-{revision_index:05}-{}", &random_hex(2)[..3]),
    };
    let revision = if template_changed || force_new_revision || existing.is_none() {
        revision
    } else {
        existing
            .and_then(|r| r.body["latestCreatedRevision"].as_str())
            .unwrap_or(&revision)
            .to_string()
    };
    let hash = &project_number(&format!("{}/{id}", ctx.project))[..10];
    let uri = format!(
        "https://{id}-{hash}-{}.a.run.app",
        region_code(ctx.location)
    );
    s["name"] = json!(ctx.name(id));
    s["uid"] = json!(
        existing
            .and_then(|r| r.body["uid"].as_str().map(str::to_string))
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
    );
    s["generation"] = json!(generation.to_string());
    s["observedGeneration"] = json!(generation.to_string());
    s["createTime"] = existing
        .map(|r| r.body["createTime"].clone())
        .unwrap_or_else(|| json!(rfc3339(now)));
    s["updateTime"] = json!(rfc3339(now));
    s["creator"] = existing
        .map(|r| r.body["creator"].clone())
        .unwrap_or_else(|| json!(email));
    s["lastModifier"] = json!(email);
    s["latestCreatedRevision"] = json!(revision);
    s["uri"] = json!(uri);
    s["urls"] = json!([
        uri,
        format!("https://{id}-{number}.{}.run.app", ctx.location)
    ]);
    s["etag"] = json!(format!("\"{}\"", random_hex(12)));
    if s.pointer("/multiRegionSettings/regions").is_some() {
        s["multiRegionSettings"]["multiRegionId"] = existing
            .and_then(|r| {
                r.body
                    .pointer("/multiRegionSettings/multiRegionId")
                    .cloned()
            })
            .unwrap_or_else(|| json!(uuid::Uuid::new_v4().to_string()));
    }

    let mut internal = existing
        .map(|r| r.internal.clone())
        .unwrap_or_else(|| json!({}));
    // The revision that served before this change keeps serving while the new one starts.
    if let Some(prev) = existing.map(|r| render(r, now))
        && prev["terminalCondition"]["state"] == "CONDITION_SUCCEEDED"
    {
        internal["readyRevision"] = prev["latestReadyRevision"].clone();
    }
    internal["revisionIndex"] = json!(revision_index);
    let images: Vec<String> = s
        .pointer("/template/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["image"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    match images.iter().find(|img| {
        failing_images
            .iter()
            .any(|f| !f.is_empty() && img.contains(f.as_str()))
    }) {
        Some(img) => {
            internal["failReason"] = json!(format!(
                "Revision '{revision}' is not ready and cannot serve traffic. The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable within the allocated timeout. Image '{img}'."
            ));
        }
        None => {
            internal
                .as_object_mut()
                .expect("object")
                .remove("failReason");
        }
    }
    (s, internal, now + latency)
}
