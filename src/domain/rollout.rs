//! Gated rollouts of traffic weights: the draft moves traffic between backends (its splits'
//! weights differ from the applied spec's, nothing else does), and instead of one apply the
//! URL map goes there in stages (`rollout.steps`, default 10 → 50 → 100 percent of the way).
//! Each stage holds `soak_seconds`, then the backends gaining traffic must show a 5xx ratio
//! and p95 within `max_error_ratio` and `max_p95_ms`; a breach puts the applied weights back.
//!
//! Pure: which stages, what each stage's spec is, which backends are judged. The job that
//! carries them out is `jobs::rollout`.

use super::explicit_names;
use super::spec::{BackendKind, Limit, Rollout, Spec, Target, WeightedBackend};
use serde_json::Value;

/// How a stage says it put the applied weights back: after a breach (the step's error) and
/// after an abort during its hold (the job log). The job page reads them to say where the
/// rollout left the traffic.
pub const BREACH_BACK: &str = "rolled back to the applied weights";
pub const ABORTED_BACK: &str = "the URL map is back at the applied weights";
/// How an image canary says it put the previous revision back, after a breach or an abort.
pub const CANARY_BACK: &str = "the previous revision is back in the canary region";

/// The stages when the spec names none.
pub const DEFAULT_STEPS: [u32; 3] = [10, 50, 100];

/// Longest soak a stage may ask for: a day.
pub const MAX_SOAK_SECONDS: u64 = 86_400;

/// What a stage must show to go on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Gate {
    pub soak_seconds: u64,
    pub max_error_ratio: Option<f64>,
    pub max_p95_ms: Option<f64>,
}

impl Gate {
    /// The gate of a spec, when it asks for a gated rollout.
    pub fn of(spec: &Spec) -> Option<Gate> {
        let r = spec.rollout.as_ref()?;
        Some(Gate {
            soak_seconds: r.soak_seconds?,
            max_error_ratio: r.max_error_ratio.map(|l| l.0),
            max_p95_ms: r.max_p95_ms.map(|l| l.0),
        })
    }

    /// Why a stage that measured `error_ratio` and `p95_ms` may not go on, if it may not.
    pub fn breach(&self, error_ratio: Option<f64>, p95_ms: Option<f64>) -> Option<String> {
        if let (Some(max), Some(v)) = (self.max_error_ratio, error_ratio)
            && v > max
        {
            return Some(format!(
                "5xx ratio {:.2}% is above max_error_ratio {:.2}%",
                v * 100.0,
                max * 100.0
            ));
        }
        if let (Some(max), Some(v)) = (self.max_p95_ms, p95_ms)
            && v > max
        {
            return Some(format!(
                "p95 latency {v:.0} ms is above max_p95_ms {max:.0} ms"
            ));
        }
        None
    }
}

/// What a `soak` step carries in its call's body.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StageCall {
    pub percent: u32,
    /// `canary 10, stable 90`, per target that moves.
    pub weights: Vec<String>,
    /// The URL map of this stage, and the one to put back on a breach (the applied one).
    pub stage: serde_json::Value,
    pub rollback: serde_json::Value,
    pub gate: Gate,
    /// Where the metrics are: the load balancer's project and URL map.
    pub project: String,
    pub url_map: String,
    /// The backend services gaining traffic, whose metrics are judged.
    pub backend_services: Vec<String>,
    /// Their names in the spec, for the job log.
    pub backends: Vec<String>,
    /// An image canary instead of a weight stage: the region whose new revision the stage
    /// judges, alone. The step before it deployed that revision, so `stage` is unused and
    /// `rollback` is the Cloud Run service as it was (its previous revision template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_region: Option<String>,
}

impl StageCall {
    /// `stage 10%` or `canary asia-east1`: how the job log names the stage.
    pub fn short(&self) -> String {
        match &self.canary_region {
            Some(region) => format!("canary {region}"),
            None => format!("stage {}%", self.percent),
        }
    }

    /// The short name with what the stage puts in place: `stage 10% (canary 10, stable 90)`.
    pub fn title(&self) -> String {
        format!("{} ({})", self.short(), self.weights.join("; "))
    }

    /// ` in asia-east1` for an image canary's judged region, empty for a weight stage.
    pub fn in_region(&self) -> String {
        self.canary_region
            .as_deref()
            .map(|r| format!(" in {r}"))
            .unwrap_or_default()
    }

    /// How a breach of this stage ends its error: where it put the traffic back.
    pub fn back(&self) -> &'static str {
        match self.canary_region {
            Some(_) => CANARY_BACK,
            None => BREACH_BACK,
        }
    }

    /// What an image canary's plan says it will do, in words.
    pub fn canary_words(&self) -> String {
        let region = self.canary_region.as_deref().unwrap_or_default();
        let mut limits = Vec::new();
        if let Some(max) = self.gate.max_error_ratio {
            limits.push(format!("a 5xx ratio above {:.2}%", max * 100.0));
        }
        if let Some(max) = self.gate.max_p95_ms {
            limits.push(format!("a p95 latency above {max:.0} ms"));
        }
        format!(
            "{} goes to {region} first and holds {} s; then {} in {region} is judged on the load \
             balancer's metrics, and {} puts the previous revision back there and stops before \
             any other region is deployed",
            self.weights.join("; "),
            self.gate.soak_seconds,
            self.backends.join(", "),
            limits.join(" or ")
        )
    }

    /// How an abort during this stage's hold says where it put the traffic back.
    pub fn aborted_back(&self) -> &'static str {
        match self.canary_region {
            Some(_) => CANARY_BACK,
            None => ABORTED_BACK,
        }
    }

    /// Whether the series of `backend_service` in `region` are this stage's to judge.
    pub fn judges(&self, backend_service: &str, region: &str) -> bool {
        self.backend_services.iter().any(|b| b == backend_service)
            && self.canary_region.as_deref().is_none_or(|r| r == region)
    }
}

/// An image canary's gate, from the spec: when the Cloud Run services of the canary region
/// get a new revision, the other regions wait until that region has held `soak_seconds` within
/// the limits, on the load balancer's own metrics for that region.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CanaryGate {
    pub region: String,
    pub gate: Gate,
    pub project: String,
    pub url_map: String,
    /// Per Cloud Run service: the spec's serverless backends in the canary region that send
    /// it traffic, as (backend, backend service).
    pub serving: Vec<(String, Vec<(String, String)>)>,
}

impl CanaryGate {
    /// The gate of a spec with a canary region and a gated rollout.
    pub fn of(spec: &Spec) -> Option<CanaryGate> {
        let region = spec.canary_region()?.to_string();
        let gate = Gate::of(spec)?;
        let serving = spec
            .services
            .iter()
            .filter(|s| !s.multi_region && s.regions.contains(&region))
            .map(|s| {
                let backends = spec
                    .backends
                    .iter()
                    .filter(|b| match &b.kind {
                        BackendKind::Serverless {
                            service, regions, ..
                        } => *service == s.name && regions.contains(&region),
                        _ => false,
                    })
                    .map(|b| {
                        (
                            b.name.clone(),
                            explicit_names::backend_service(spec, &b.name),
                        )
                    })
                    .collect();
                (s.name.clone(), backends)
            })
            .collect();
        Some(CanaryGate {
            region,
            gate,
            project: spec.project.clone(),
            url_map: explicit_names::url_map(spec),
            serving,
        })
    }

    /// The stage that judges the new revision `desired` of `service` in the canary region, and
    /// puts `live` (the service as it is now) back on a breach. `None` when no backend of the
    /// spec sends that service traffic: there would be nothing to judge it by.
    pub fn stage(&self, service: &str, desired: &Value, live: &Value) -> Option<StageCall> {
        let (_, serving) = self.serving.iter().find(|(s, _)| s == service)?;
        if serving.is_empty() {
            return None;
        }
        let mut rollback = desired.clone();
        rollback["template"] = live["template"].clone();
        let image = desired["template"]["containers"][0]["image"]
            .as_str()
            .unwrap_or_default();
        Some(StageCall {
            percent: 0,
            weights: vec![format!("{service} at {image}")],
            stage: Value::Null,
            rollback,
            gate: self.gate.clone(),
            project: self.project.clone(),
            url_map: self.url_map.clone(),
            backend_services: serving.iter().map(|(_, bs)| bs.clone()).collect(),
            backends: serving.iter().map(|(b, _)| b.clone()).collect(),
            canary_region: Some(self.region.clone()),
        })
    }
}

/// One line of a stage's measurements: `backend · region` and its points (UNIX seconds, value;
/// `None` where there is none).
pub type SeriesLine = (String, Vec<(f64, Option<f64>)>);

/// What a stage saw of the backends it judged when it was judged.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StageSeries {
    pub error_ratio: Vec<SeriesLine>,
    pub p95_ms: Vec<SeriesLine>,
}

/// Problems of `rollout`'s gate fields, each with its field.
pub fn problems(rollout: Option<&Rollout>) -> Vec<(&'static str, String)> {
    let Some(r) = rollout else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let limits = r.max_error_ratio.is_some() || r.max_p95_ms.is_some();
    match r.soak_seconds {
        None if limits || r.steps.is_some() => out.push((
            "rollout.soak_seconds",
            "a gated rollout needs soak_seconds: how long each stage holds before its metrics are judged".to_string(),
        )),
        Some(s) if s > MAX_SOAK_SECONDS => out.push((
            "rollout.soak_seconds",
            format!("{s} is above the longest soak, {MAX_SOAK_SECONDS} seconds (a day)"),
        )),
        Some(_) if !limits => out.push((
            "rollout.max_error_ratio",
            "a gated rollout needs a limit to judge by: give max_error_ratio, max_p95_ms or both".to_string(),
        )),
        _ => {}
    }
    if let Some(Limit(v)) = r.max_error_ratio
        && !(0.0..=1.0).contains(&v)
    {
        out.push((
            "rollout.max_error_ratio",
            format!("{v} is not a share between 0 and 1 (0.05 is 5 %)"),
        ));
    }
    if let Some(Limit(v)) = r.max_p95_ms
        && !(v > 0.0 && v <= 600_000.0)
    {
        out.push((
            "rollout.max_p95_ms",
            format!("{v} is not a latency in milliseconds above 0 and at most 600000"),
        ));
    }
    if let Some(steps) = &r.steps {
        let rising = steps.windows(2).all(|w| w[0] < w[1]);
        if steps.is_empty()
            || !rising
            || steps.last() != Some(&100)
            || steps.iter().any(|s| !(1..=100).contains(s))
        {
            out.push((
                "rollout.steps",
                "give rising percentages from 1 to 100 that end at 100, e.g. [10, 50, 100]"
                    .to_string(),
            ));
        }
    }
    out
}

/// A spec with every target and the rollout options taken out: two specs that agree on this
/// differ only in where their routes send traffic (which backends, with what weights), or in
/// how they roll out.
fn without_weights(spec: &Spec) -> Spec {
    let mut s = spec.clone();
    s.rollout = None;
    for t in std::iter::once(&mut s.routing.default)
        .chain(s.routing.rules.iter_mut().map(|r| &mut r.target))
    {
        *t = Target::Backend {
            backend: String::new(),
        };
    }
    s
}

/// A target's backends and weights, sorted by backend; a single backend weighs 100.
fn shares(t: &Target) -> Vec<(String, u32)> {
    let mut v: Vec<(String, u32)> = match t {
        Target::Backend { backend } => vec![(backend.clone(), 100)],
        Target::Split { split } => split
            .iter()
            .map(|w| (w.backend.clone(), w.weight))
            .collect(),
    };
    v.sort();
    v
}

/// Every backend of both targets with its weight in each, as shares of 100.
fn paired(from: &Target, to: &Target) -> Vec<(String, f64, f64)> {
    let norm = |t: &Target| {
        let s = shares(t);
        let total: u32 = s.iter().map(|(_, w)| w).sum();
        s.into_iter()
            .map(|(b, w)| (b, f64::from(w) * 100.0 / f64::from(total.max(1))))
            .collect::<Vec<_>>()
    };
    let (a, b) = (norm(from), norm(to));
    let mut names: Vec<String> = a.iter().chain(&b).map(|(n, _)| n.clone()).collect();
    names.sort();
    names.dedup();
    let get = |v: &[(String, f64)], n: &str| {
        v.iter()
            .find(|(x, _)| x == n)
            .map(|(_, w)| *w)
            .unwrap_or(0.0)
    };
    names
        .into_iter()
        .map(|n| {
            let (x, y) = (get(&a, &n), get(&b, &n));
            (n, x, y)
        })
        .collect()
}

/// One stage: how far along it is, and the spec whose URL map it serves.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub percent: u32,
    pub spec: Spec,
    /// `canary 10, stable 90` for each target that moves.
    pub weights: Vec<String>,
}

/// Why the draft cannot be rolled out in stages from the applied spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RolloutError {
    #[error(
        "the spec has no gated rollout: set rollout.soak_seconds and a limit (max_error_ratio, max_p95_ms)"
    )]
    NoGate,
    #[error("the draft's weights are the applied ones: there is no traffic to move")]
    NothingToMove,
    #[error(
        "the draft changes more than the split weights; a gated rollout only moves traffic between the backends the load balancer has: apply the other changes first"
    )]
    NotOnlyWeights,
}

/// The stages from `applied` to `draft`, the last one being `draft` itself.
pub fn stages(applied: &Spec, draft: &Spec) -> Result<Vec<Stage>, RolloutError> {
    Gate::of(draft).ok_or(RolloutError::NoGate)?;
    if without_weights(applied) != without_weights(draft) {
        return Err(RolloutError::NotOnlyWeights);
    }
    let targets = |s: &Spec| -> Vec<Target> {
        std::iter::once(s.routing.default.clone())
            .chain(s.routing.rules.iter().map(|r| r.target.clone()))
            .collect()
    };
    let (from, to) = (targets(applied), targets(draft));
    if from.iter().zip(&to).all(|(a, b)| shares(a) == shares(b)) {
        return Err(RolloutError::NothingToMove);
    }
    let steps = draft
        .rollout
        .as_ref()
        .and_then(|r| r.steps.clone())
        .unwrap_or_else(|| DEFAULT_STEPS.to_vec());
    Ok(steps
        .into_iter()
        .map(|percent| {
            let mut spec = draft.clone();
            let mut words = Vec::new();
            if percent < 100 {
                let mut moved = from
                    .iter()
                    .zip(&to)
                    .map(|(a, b)| step_target(a, b, percent));
                spec.routing.default = moved.next().expect("the default target");
                for r in spec.routing.rules.iter_mut() {
                    r.target = moved.next().expect("one target per rule");
                }
            }
            for (a, b) in from.iter().zip(&to) {
                if shares(a) != shares(b) {
                    let t = if percent < 100 {
                        step_target(a, b, percent)
                    } else {
                        b.clone()
                    };
                    words.push(
                        shares(&t)
                            .iter()
                            .map(|(n, w)| format!("{n} {w}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                    );
                }
            }
            Stage {
                percent,
                spec,
                weights: words,
            }
        })
        .collect())
}

/// `percent` of the way from `a` to `b`, as a split of whole weights summing to 100.
fn step_target(a: &Target, b: &Target, percent: u32) -> Target {
    if shares(a) == shares(b) {
        return b.clone();
    }
    let p = f64::from(percent) / 100.0;
    Target::Split {
        split: paired(a, b)
            .into_iter()
            .map(|(backend, x, y)| WeightedBackend {
                backend,
                weight: (x + (y - x) * p).round() as u32,
            })
            .collect(),
    }
}

/// The backends that gain traffic from `applied` to `draft`: the stage's judged ones.
pub fn rising(applied: &Spec, draft: &Spec) -> Vec<String> {
    let targets = |s: &Spec| -> Vec<Target> {
        std::iter::once(s.routing.default.clone())
            .chain(s.routing.rules.iter().map(|r| r.target.clone()))
            .collect()
    };
    let mut out: Vec<String> = targets(applied)
        .iter()
        .zip(&targets(draft))
        .flat_map(|(a, b)| paired(a, b))
        .filter(|(_, x, y)| y > x)
        .map(|(n, _, _)| n)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(default: serde_json::Value, rollout: serde_json::Value) -> Spec {
        serde_json::from_value(json!({
            "name": "shop", "project": "p",
            "frontend": {"protocol": "http"},
            "backends": [
                {"name": "stable", "type": "serverless", "service": "s", "regions": ["us-central1"]},
                {"name": "canary", "type": "serverless", "service": "c", "regions": ["us-central1"]}
            ],
            "routing": {"default": default},
            "rollout": rollout,
        }))
        .unwrap()
    }

    fn gate() -> serde_json::Value {
        json!({"soak_seconds": 30, "max_error_ratio": 0.05})
    }

    #[test]
    fn weights_move_in_the_configured_steps_and_end_at_the_draft() {
        let applied = spec(json!({"backend": "stable"}), json!(null));
        let draft = spec(json!({"backend": "canary"}), gate());
        let s = stages(&applied, &draft).unwrap();
        assert_eq!(
            s.iter().map(|s| s.percent).collect::<Vec<_>>(),
            [10, 50, 100]
        );
        assert_eq!(s[0].weights, ["canary 10, stable 90"]);
        assert_eq!(s[1].weights, ["canary 50, stable 50"]);
        assert_eq!(s[2].weights, ["canary 100"]);
        assert_eq!(s[2].spec, draft);
        assert_eq!(rising(&applied, &draft), ["canary"]);

        let mut steps = gate();
        steps["steps"] = json!([25, 100]);
        let from = spec(
            json!({"split": [{"backend": "stable", "weight": 80}, {"backend": "canary", "weight": 20}]}),
            json!(null),
        );
        let to = spec(
            json!({"split": [{"backend": "stable", "weight": 40}, {"backend": "canary", "weight": 60}]}),
            steps,
        );
        let s = stages(&from, &to).unwrap();
        assert_eq!(s[0].weights, ["canary 30, stable 70"]);
        assert_eq!(s[1].spec, to);
    }

    #[test]
    fn only_a_weight_change_with_a_gate_can_be_staged() {
        let applied = spec(json!({"backend": "stable"}), json!(null));
        let no_gate = spec(json!({"backend": "canary"}), json!(null));
        assert_eq!(stages(&applied, &no_gate), Err(RolloutError::NoGate));
        let same = spec(json!({"backend": "stable"}), gate());
        assert_eq!(stages(&applied, &same), Err(RolloutError::NothingToMove));
        let mut other = spec(json!({"backend": "canary"}), gate());
        other.frontend.http_redirect = true;
        other.backends[1].cdn = true;
        assert_eq!(stages(&applied, &other), Err(RolloutError::NotOnlyWeights));
    }

    #[test]
    fn gate_fields_are_checked_by_name() {
        let fields = |r: serde_json::Value| -> Vec<&'static str> {
            let s = spec(json!({"backend": "stable"}), r);
            problems(s.rollout.as_ref())
                .into_iter()
                .map(|(f, _)| f)
                .collect()
        };
        assert!(fields(gate()).is_empty());
        assert!(fields(json!({"canary_region": "us-central1"})).is_empty());
        assert_eq!(
            fields(json!({"max_error_ratio": 0.1})),
            ["rollout.soak_seconds"]
        );
        assert_eq!(
            fields(json!({"soak_seconds": 10})),
            ["rollout.max_error_ratio"]
        );
        assert_eq!(
            fields(json!({"soak_seconds": 10, "max_error_ratio": 1.5})),
            ["rollout.max_error_ratio"]
        );
        assert_eq!(
            fields(json!({"soak_seconds": 10, "max_p95_ms": 0})),
            ["rollout.max_p95_ms"]
        );
        assert_eq!(
            fields(json!({"soak_seconds": 100000, "max_p95_ms": 500})),
            ["rollout.soak_seconds"]
        );
        for steps in [
            json!([]),
            json!([50, 10, 100]),
            json!([10, 50]),
            json!([0, 100]),
        ] {
            assert_eq!(
                fields(json!({"soak_seconds": 10, "max_p95_ms": 500, "steps": steps})),
                ["rollout.steps"],
                "{steps}"
            );
        }
    }

    #[test]
    fn a_gate_says_which_limit_a_stage_broke() {
        let g = Gate {
            soak_seconds: 1,
            max_error_ratio: Some(0.05),
            max_p95_ms: Some(800.0),
        };
        assert_eq!(g.breach(Some(0.01), Some(100.0)), None);
        assert_eq!(
            g.breach(Some(0.5), Some(100.0)).unwrap(),
            "5xx ratio 50.00% is above max_error_ratio 5.00%"
        );
        assert_eq!(
            g.breach(None, Some(1200.0)).unwrap(),
            "p95 latency 1200 ms is above max_p95_ms 800 ms"
        );
    }
}
