//! `gcloud run deploy` from the Cloud Run v2 Service body the job sends.

use serde_json::Value;

use super::shell::list_delimiter;
use super::{GcloudStep, last_segment, str_at};
use crate::domain::plan::DesiredResource;

/// The flag value gcloud takes for each `ingress` the API knows.
fn ingress_flag(api: &str) -> &str {
    match api {
        "INGRESS_TRAFFIC_INTERNAL_ONLY" => "internal",
        "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" => "internal-and-cloud-load-balancing",
        _ => "all",
    }
}

pub fn deploy(r: &DesiredResource, region: &str, canary: bool, project: &str) -> GcloudStep {
    let b = &r.body;
    let name = last_segment(str_at(b, "/name"));
    let c = &b["template"]["containers"][0];
    let regions: Vec<&str> = b["multiRegionSettings"]["regions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let probe = c.get("readinessProbe");
    // gcloud 528 has `--readiness-probe` in alpha only; `--regions` (a multi-region service),
    // `--iap` and `--no-default-url` from beta on.
    let beta = !regions.is_empty()
        || b["iapEnabled"].as_bool() == Some(true)
        || b["defaultUriDisabled"].as_bool() == Some(true);
    let track: &[&str] = match (probe.is_some(), beta) {
        (true, _) => &["gcloud", "alpha", "run", "deploy"],
        (false, true) => &["gcloud", "beta", "run", "deploy"],
        (false, false) => &["gcloud", "run", "deploy"],
    };
    let comment = match (canary, regions.is_empty()) {
        (_, false) => format!(
            "Cloud Run multi-region service {name} in {}",
            regions.join(", ")
        ),
        (true, true) => format!(
            "Cloud Run service {name} in {region}, the canary region: check it is Ready before the others"
        ),
        (false, true) => format!("Cloud Run service {name} in {region}"),
    };
    let mut step = GcloudStep::new(comment, track)
        .arg(name)
        .arg(format!("--image={}", str_at(c, "/image")))
        .arg(if regions.is_empty() {
            format!("--region={region}")
        } else {
            format!("--regions={}", regions.join(","))
        });
    if let Some(p) = probe {
        step = step.arg(format!(
            "--readiness-probe=httpGet.path={},periodSeconds={},timeoutSeconds={},failureThreshold={}",
            str_at(p, "/httpGet/path"),
            p["periodSeconds"],
            p["timeoutSeconds"],
            p["failureThreshold"]
        ));
    }
    let scaling = &b["template"]["scaling"];
    for (flag, field) in [
        ("--min-instances", "minInstanceCount"),
        ("--max-instances", "maxInstanceCount"),
    ] {
        if let Some(n) = scaling.get(field) {
            step = step.arg(format!("{flag}={n}"));
        }
    }
    let limits = &c["resources"]["limits"];
    step = step
        .arg(format!("--memory={}", str_at(limits, "/memory")))
        .arg(format!("--cpu={}", str_at(limits, "/cpu")));
    // `cpuIdle: true` is request-based billing, which gcloud calls CPU throttling.
    step = step.arg(match c["resources"]["cpuIdle"].as_bool() {
        Some(false) => "--no-cpu-throttling",
        _ => "--cpu-throttling",
    });
    if let Some(n) = b["template"].get("maxInstanceRequestConcurrency") {
        step = step.arg(format!("--concurrency={n}"));
    }
    step = step
        .arg(format!("--ingress={}", ingress_flag(str_at(b, "/ingress"))))
        .arg(if r.public == Some(true) {
            "--allow-unauthenticated"
        } else {
            "--no-allow-unauthenticated"
        })
        .arg(format!("--description={}", str_at(b, "/description")));
    if b["iapEnabled"].as_bool() == Some(true) {
        step = step.arg("--iap");
    }
    if b["defaultUriDisabled"].as_bool() == Some(true) {
        step = step.arg("--no-default-url");
    }
    if let Some(labels) = b["labels"].as_object() {
        let l: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect();
        step = step.arg(format!("--labels={}", l.join(",")));
    }
    let mut env = Vec::new();
    let mut secrets = Vec::new();
    for e in c["env"].as_array().into_iter().flatten() {
        let key = str_at(e, "/name");
        match e.get("value") {
            Some(Value::String(v)) => env.push(format!("{key}={v}")),
            _ => secrets.push(format!(
                "{key}={}:{}",
                str_at(e, "/valueSource/secretKeyRef/secret"),
                str_at(e, "/valueSource/secretKeyRef/version")
            )),
        }
    }
    if !env.is_empty() {
        step = step.arg(format!("--set-env-vars={}", delimited(&env)));
    }
    if !secrets.is_empty() {
        step = step.arg(format!("--set-secrets={}", delimited(&secrets)));
    }
    step.arg(format!("--project={project}"))
}

/// `items` as one gcloud list, switching the separator (`^D^`) when a comma is in the way.
fn delimited(items: &[String]) -> String {
    match list_delimiter(items) {
        None => items.join(","),
        Some(d) => format!("^{d}^{}", items.join(&d)),
    }
}
