//! Multi-region services and readiness probes (API-NOTES §18.1, §18.2, §18.5): a service under
//! `locations/global` names its regions in `multiRegionSettings`, a regional one does not; a
//! probe has exactly one action and a timeout shorter than its period. Google's exact wording
//! for these refusals is not in the notes (§18, UNCONFIRMED), so the messages are ours, in the
//! API's `field: reason` form.

use super::invalid;
use crate::cloud::sandbox::ApiResult;
use crate::domain::validate::CLOUD_RUN_REGIONS;
use serde_json::{Value, json};

/// The location of a multi-region service.
pub(super) const GLOBAL: &str = "global";

pub(super) fn check(location: &str, body: &Value) -> ApiResult<()> {
    let regions = body.pointer("/multiRegionSettings/regions");
    if location == GLOBAL {
        let listed: Vec<&str> = regions
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if listed.is_empty() {
            return Err(invalid(
                "multi_region_settings.regions: a service in location global is a multi-region service and must list the regions to deploy to.",
            ));
        }
        if let Some(r) = listed.iter().find(|r| !CLOUD_RUN_REGIONS.contains(r)) {
            return Err(invalid(format!(
                "multi_region_settings.regions: '{r}' is not a Cloud Run region."
            )));
        }
    } else if regions.is_some() {
        return Err(invalid(format!(
            "multi_region_settings: only a service in location global is deployed to several regions, not one in {location}."
        )));
    }
    let containers = body
        .pointer("/template/containers")
        .and_then(Value::as_array);
    for (i, c) in containers.into_iter().flatten().enumerate() {
        if let Some(p) = c.get("readinessProbe") {
            check_probe(&format!("template.containers[{i}].readiness_probe"), p)?;
        }
    }
    Ok(())
}

fn check_probe(at: &str, p: &Value) -> ApiResult<()> {
    let actions = ["httpGet", "tcpSocket", "grpc"]
        .iter()
        .filter(|a| p.get(**a).is_some())
        .count();
    if actions != 1 {
        return Err(invalid(format!(
            "{at}: exactly one of http_get, tcp_socket or grpc must be set."
        )));
    }
    let n = |k: &str, d: i64| p.get(k).and_then(Value::as_i64).unwrap_or(d);
    let (period, timeout, failures) = (
        n("periodSeconds", 10),
        n("timeoutSeconds", 1),
        n("failureThreshold", 3),
    );
    if period < 1 || timeout < 1 || failures < 1 {
        return Err(invalid(format!(
            "{at}: period_seconds, timeout_seconds and failure_threshold must be at least 1."
        )));
    }
    if timeout >= period {
        return Err(invalid(format!(
            "{at}.timeout_seconds: must be less than period_seconds ({period})."
        )));
    }
    Ok(())
}

/// What GET adds for a multi-region service: a `MultiRegionReady/<region>` condition per
/// region (the form gcloud reads, API-NOTES §18.1) in the state of the service as a whole.
pub(super) fn render(service: &mut Value) {
    let Some(regions) = service
        .pointer("/multiRegionSettings/regions")
        .and_then(Value::as_array)
        .cloned()
    else {
        return;
    };
    let state = service["terminalCondition"]["state"].clone();
    let at = service["terminalCondition"]["lastTransitionTime"].clone();
    if let Some(conditions) = service["conditions"].as_array_mut() {
        for r in regions.iter().filter_map(Value::as_str) {
            conditions.push(json!({
                "type": format!("MultiRegionReady/{r}"), "state": state, "lastTransitionTime": at,
            }));
        }
    }
}
