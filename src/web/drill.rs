//! The failover drill (sandbox only): an editor makes one region of the applied load balancer
//! fail every request in the sandbox's traffic model, and the page shows where the traffic went
//! (requests per region before and after, and the region outlier detection ejected). "Heal"
//! makes the region healthy again. Against Google there is no drill: failing a real region is
//! not the panel's to do, so the form is absent and the route refuses.

use super::traffic::{load, serving_spec};
use super::{Routes, Shell};
use crate::AppState;
use crate::auth::{Access, Editor};
use crate::cloud::sandbox::traffic::Condition;
use crate::deploy::traffic::{self, Snapshot, Target};
use crate::domain::spec::{BackendKind, Spec};
use crate::error::{AppError, AppResult, Form, Path};
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

pub fn routes(r: Routes) -> Routes {
    r.post("/deployments/{id}/failover-drill", Access::Editor, drill)
}

/// The averaging window of the before/after numbers.
const WINDOW: Duration = Duration::from_secs(300);

/// The drill's form, and what the last drill showed.
pub struct DrillView {
    pub id: i64,
    /// The regions of the applied spec's serverless backends, in spec order.
    pub regions: Vec<String>,
    /// An editor: the form is shown.
    pub can_run: bool,
    /// Regions failing in the sandbox now.
    pub failing: Vec<String>,
    pub result: Option<DrillResult>,
}

/// Requests per second per region around the drill.
pub struct DrillResult {
    pub region: String,
    pub healed: bool,
    /// (region, before, after), requests per second over all backends.
    pub rows: Vec<(String, String, String)>,
    /// What moved, in words.
    pub summary: String,
}

fn regions_of(spec: &Spec) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for b in &spec.backends {
        if let BackendKind::Serverless { regions, .. } = &b.kind {
            for r in regions {
                if !out.contains(r) {
                    out.push(r.clone());
                }
            }
        }
    }
    out
}

/// The drill's section for a deployment serving `spec`; `None` outside the sandbox or without
/// a serverless region to fail.
pub fn view(state: &AppState, id: i64, spec: &Spec, can_run: bool) -> Option<DrillView> {
    let sandbox = state.sandbox.as_ref()?;
    let regions = regions_of(spec);
    if regions.is_empty() {
        return None;
    }
    let model = sandbox.traffic_model();
    Some(DrillView {
        id,
        failing: regions
            .iter()
            .filter(|r| {
                model
                    .conditions
                    .get(*r)
                    .is_some_and(|c| c.error_ratio > 0.0)
            })
            .cloned()
            .collect(),
        regions,
        can_run,
        result: None,
    })
}

fn per_region(s: &Snapshot) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for r in &s.regions {
        *out.entry(r.region.clone()).or_default() += r.rps.unwrap_or(0.0);
    }
    out
}

/// What the before/after numbers say: which regions lost their traffic and which took it.
pub fn summarise(
    region: &str,
    healed: bool,
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
) -> DrillResult {
    let regions: Vec<&String> = before.keys().chain(after.keys()).collect();
    let mut names: Vec<String> = regions.iter().map(|r| r.to_string()).collect();
    names.sort();
    names.dedup();
    let get = |m: &BTreeMap<String, f64>, r: &str| m.get(r).copied().unwrap_or(0.0);
    let rows = names
        .iter()
        .map(|r| {
            (
                r.clone(),
                format!("{:.2}", get(before, r)),
                format!("{:.2}", get(after, r)),
            )
        })
        .collect();
    let gained: Vec<String> = names
        .iter()
        .filter(|r| r.as_str() != region && get(after, r) > get(before, r) + 0.05)
        .cloned()
        .collect();
    let (b, a) = (get(before, region), get(after, region));
    let summary = if healed {
        format!("{region} is healthy again: {a:.2} requests per second reach it (was {b:.2}).")
    } else if b > 0.0 && a < b * 0.5 {
        format!(
            "Outlier detection ejected {region}: it went from {b:.2} to {a:.2} requests per second, and {} took its traffic.",
            if gained.is_empty() {
                "no other region".to_string()
            } else {
                gained.join(", ")
            }
        )
    } else {
        format!(
            "{region} fails every request but keeps {a:.2} requests per second (was {b:.2}): nothing ejected it. Outlier detection is what moves traffic away from a failing serverless region; turn it on for the backend."
        )
    };
    DrillResult {
        region: region.to_string(),
        healed,
        rows,
        summary,
    }
}

#[derive(Debug, Deserialize)]
struct DrillForm {
    region: String,
    /// Present: make the region healthy again instead.
    #[serde(default)]
    heal: Option<String>,
}

async fn drill(
    State(state): State<AppState>,
    Editor(user): Editor,
    headers: axum::http::HeaderMap,
    shell: Shell,
    Path(id): Path<i64>,
    Form(f): Form<DrillForm>,
) -> AppResult<Response> {
    let d = crate::db::deployments::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(sandbox) = state.sandbox.clone() else {
        return Err(AppError::Conflict(
            "the failover drill runs only against the sandbox: with --gcp google it would fail a real region".into(),
        ));
    };
    let (spec, why) = serving_spec(&state, id).await?;
    let Some(spec) = spec else {
        return Err(AppError::Conflict(why.to_string()));
    };
    let region = f.region.trim().to_string();
    let regions = regions_of(&spec);
    if !regions.contains(&region) {
        return Err(AppError::invalid(
            "region",
            format!(
                "choose one of the regions the load balancer serves from: {}",
                regions.join(", ")
            ),
        ));
    }
    let target = Target::of(&spec);
    let read = |state: AppState, target: Target| async move {
        traffic::snapshot(
            &state.cloud,
            &target,
            WINDOW,
            time::OffsetDateTime::now_utc(),
        )
        .await
        .map(|s| per_region(&s))
        .map_err(|e| AppError::Upstream(format!("Cloud Monitoring: {e}")))
    };
    let before = read(state.clone(), target.clone()).await?;
    let healed = f.heal.is_some();
    let condition = if healed {
        Condition::default()
    } else {
        Condition {
            error_ratio: 1.0,
            extra_latency_ms: 0.0,
        }
    };
    sandbox.set_region_condition(&region, condition);
    tracing::info!(deployment = id, %region, healed, user = %user.name, "failover drill");
    let after = read(state.clone(), target).await?;
    let (mut traffic, _) = load(
        &state,
        id,
        Some(&spec),
        why,
        super::traffic::DEFAULT_WINDOW,
        true,
    )
    .await;
    if let Some(drill) = traffic.drill.as_mut() {
        drill.result = Some(summarise(&region, healed, &before, &after));
    }
    super::traffic::respond(&headers, shell, d.name, traffic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(v: &[(&str, f64)]) -> BTreeMap<String, f64> {
        v.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn the_summary_names_the_ejected_region_and_where_its_traffic_went() {
        let before = m(&[
            ("asia-east1", 2.0),
            ("europe-west1", 3.0),
            ("us-central1", 5.0),
        ]);
        let after = m(&[
            ("asia-east1", 2.0),
            ("europe-west1", 0.1),
            ("us-central1", 7.9),
        ]);
        let r = summarise("europe-west1", false, &before, &after);
        assert_eq!(
            r.summary,
            "Outlier detection ejected europe-west1: it went from 3.00 to 0.10 requests per second, and us-central1 took its traffic."
        );
        assert_eq!(
            r.rows[1],
            ("europe-west1".into(), "3.00".into(), "0.10".into())
        );
        let kept = summarise("europe-west1", false, &before, &before);
        assert!(
            kept.summary.contains("nothing ejected it"),
            "{}",
            kept.summary
        );
        let healed = summarise("europe-west1", true, &after, &before);
        assert!(healed.summary.starts_with("europe-west1 is healthy again"));
    }
}
