//! One stage of a gated rollout (a `soak` step, planned by `deploy::rollout`): put the stage's
//! URL map in place, hold it for `soak_seconds`, then read the load balancer's metrics for the
//! backends gaining traffic and compare them with the limits. A breach, or metrics that
//! cannot be read, puts the applied URL map back and fails the step with the reason, so the job
//! fails saying why. A cancel during the hold is "abort": the applied URL map goes back too. A
//! promote (`db::rollouts`) ends the hold early; the stage is still judged.
//!
//! Sending the stage again on a resume is harmless: it is the same URL map.

use super::cloud_executor::CloudExecutor;
use super::{Level, StepContext, StepError, StepOutcome, call_of};
use crate::cloud::CloudError;
use crate::cloud::monitoring::{LbTraffic, Range, Series};
use crate::db::jobs::StepRecord;
use crate::domain::rollout::{SeriesLine, StageCall, StageSeries};
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// How often a holding stage looks for a cancel or a promote.
const POLL: Duration = Duration::from_millis(200);

/// What a stage measured for the backends it judges, over every region.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    pub rps: f64,
    pub error_ratio: Option<f64>,
    pub p95_ms: Option<f64>,
}

fn key(s: &Series) -> (String, String) {
    (
        s.label("backend_target_name").to_string(),
        s.label("backend_scope").to_string(),
    )
}

/// The newest values of the series `judged` picks by (backend service, region): requests
/// summed, the 5xx ratio weighted by requests, the slowest region's p95. `None` when they had
/// no requests.
pub fn measure(t: &LbTraffic, judged: impl Fn(&str, &str) -> bool) -> Option<Measured> {
    let newest = |series: &[Series], k: &(String, String)| {
        series
            .iter()
            .find(|s| &key(s) == k)
            .and_then(|s| s.last())
            .map(|p| p.value)
    };
    let (mut rps, mut errors, mut p95): (f64, f64, Option<f64>) = (0.0, 0.0, None);
    for s in t.rps.iter().filter(|s| {
        let (bs, region) = key(s);
        judged(&bs, &region)
    }) {
        let Some(r) = s.last().map(|p| p.value) else {
            continue;
        };
        let k = key(s);
        rps += r;
        errors += r * newest(&t.error_ratio, &k).unwrap_or(0.0);
        if let Some(p) = newest(&t.p95_ms, &k) {
            p95 = Some(p95.map_or(p, |m: f64| m.max(p)));
        }
    }
    (rps > 0.0).then(|| Measured {
        rps,
        error_ratio: Some(errors / rps),
        p95_ms: p95,
    })
}

pub use crate::domain::rollout::{ABORTED_BACK, BREACH_BACK, CANARY_BACK};

impl CloudExecutor {
    /// Carries out one `soak` step.
    pub(super) async fn soak(
        &self,
        step: &StepRecord,
        ctx: &StepContext,
    ) -> Result<StepOutcome, StepError> {
        let call = call_of(step)?;
        let stage: StageCall = serde_json::from_value(call.body.clone().unwrap_or_default())
            .map_err(|e| {
                StepError(format!(
                    "step {} has an unreadable stage: {e}",
                    step.step_id
                ))
            })?;
        let (short, title) = (stage.short(), stage.title());
        let back = stage.back();
        if stage.canary_region.is_some() {
            // The deploy step before this one put the new revision in place. A recorded
            // operation is the rollback's: an earlier run was stopped while putting the previous
            // revision back, so it finishes that and fails as the earlier run would have.
            if ctx.operation().is_some() {
                self.roll_back(step, &call, &stage, ctx).await?;
                return Err(StepError(format!(
                    "{title} was stopped during its rollback; {back}"
                )));
            }
            ctx.log(
                Level::Info,
                &format!(
                    "{short}: {} is deployed there first; holding {} s",
                    stage.weights.join("; "),
                    stage.gate.soak_seconds
                ),
            )
            .await;
        } else {
            let mut put = call.clone();
            put.body = Some(stage.stage.clone());
            // A resumed stage sends its URL map again as a new request: the earlier one is done.
            let request_id = match ctx.operation() {
                None => Uuid::parse_str(&step.request_id)
                    .map_err(|e| StepError(format!("step has an invalid requestId: {e}")))?,
                Some(_) => Uuid::new_v4(),
            };
            self.send(step, &put, request_id, ctx)
                .await
                .map_err(|e| StepError(format!("{short}: {e}")))?;
            ctx.log(
                Level::Info,
                &format!(
                    "{short}: the URL map now weighs {}; holding {} s",
                    stage.weights.join("; "),
                    stage.gate.soak_seconds
                ),
            )
            .await;
        }

        let until = tokio::time::Instant::now() + Duration::from_secs(stage.gate.soak_seconds);
        loop {
            if ctx.cancel_requested().await {
                self.roll_back(step, &call, &stage, ctx).await?;
                return Ok(StepOutcome::stopped(format!(
                    "aborted by hand during {short}: {}",
                    stage.aborted_back()
                )));
            }
            if let Ok(Some(by)) =
                crate::db::rollouts::promoted_by(&ctx.db, ctx.job_id, ctx.idx).await
            {
                ctx.log(
                    Level::Info,
                    &format!("{short}: promoted by {by}, hold ended"),
                )
                .await;
                break;
            }
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            ctx.set_progress(&format!("{title}: holding, {} s left", left.as_secs()))
                .await;
            tokio::time::sleep(left.min(POLL)).await;
        }

        let read = self.read_stage(&stage).await;
        self.record_series(&stage, ctx).await;
        let verdict = match read {
            Err(e) => Err(format!("Cloud Monitoring could not be read: {e}")),
            Ok(None) => Err(format!(
                "no requests reached {}{} to judge",
                stage.backends.join(", "),
                stage.in_region()
            )),
            Ok(Some(m)) => match stage.gate.breach(m.error_ratio, m.p95_ms) {
                Some(why) => Err(format!("{}: {why}", stage.backends.join(", "))),
                None => Ok(m),
            },
        };
        match verdict {
            Ok(m) => {
                let summary = format!(
                    "{title} within the limits: {} 5xx, p95 {}",
                    m.error_ratio
                        .map(|v| format!("{:.2}%", v * 100.0))
                        .unwrap_or_else(|| "no".into()),
                    m.p95_ms
                        .map(|v| format!("{v:.0} ms"))
                        .unwrap_or_else(|| "unknown".into())
                );
                ctx.log(Level::Info, &summary).await;
                Ok(StepOutcome::summary(summary))
            }
            Err(why) => {
                self.roll_back(step, &call, &stage, ctx).await?;
                Err(StepError(format!("{title} failed its gate: {why}; {back}")))
            }
        }
    }

    /// Keeps the last hour of the judged backends' series for the job page's breach chart.
    /// Never fails the stage: the chart is for people, the verdict does not depend on it.
    async fn record_series(&self, stage: &StageCall, ctx: &StepContext) {
        let range = Range::ending(OffsetDateTime::now_utc(), Duration::from_secs(3600), 60);
        let Ok(t) = self
            .client()
            .lb_traffic(&stage.project, &stage.url_map, &range)
            .await
        else {
            return;
        };
        let lines = |series: &[Series]| -> Vec<SeriesLine> {
            series
                .iter()
                .filter(|s| {
                    let (bs, region) = key(s);
                    stage.judges(&bs, &region)
                })
                .map(|s| {
                    let (bs, region) = key(s);
                    (
                        format!("{bs} · {region}"),
                        s.samples.iter().map(|p| (p.at, p.finite())).collect(),
                    )
                })
                .collect()
        };
        let recorded = StageSeries {
            error_ratio: lines(&t.error_ratio),
            p95_ms: lines(&t.p95_ms),
        };
        if let Ok(json) = serde_json::to_string(&recorded) {
            let _ =
                crate::db::rollouts::record_measurement(&ctx.db, ctx.job_id, ctx.idx, &json).await;
        }
    }

    /// The stage's measurements, averaged over its soak (at least a minute, one sample).
    async fn read_stage(&self, stage: &StageCall) -> Result<Option<Measured>, CloudError> {
        let now = OffsetDateTime::now_utc();
        let range = Range {
            start: now - Duration::from_secs(15 * 60),
            end: now,
            step: Duration::from_secs(60),
        };
        let window = Duration::from_secs(stage.gate.soak_seconds.max(60));
        let t = self
            .client()
            .lb_traffic_over(&stage.project, &stage.url_map, &range, window)
            .await?;
        Ok(measure(&t, |bs, region| stage.judges(bs, region)))
    }

    async fn roll_back(
        &self,
        step: &StepRecord,
        call: &crate::domain::plan::Call,
        stage: &StageCall,
        ctx: &StepContext,
    ) -> Result<(), StepError> {
        let mut put = call.clone();
        put.body = Some(stage.rollback.clone());
        let short = stage.short();
        if stage.canary_region.is_some() {
            ctx.log(
                Level::Warn,
                &format!("{short}: putting the previous revision back"),
            )
            .await;
            return self
                .run_mutation(step, &put, ctx)
                .await
                .map(|_| ())
                .map_err(|e| {
                    StepError(format!(
                        "{short}: the rollback to the previous revision failed: {e}"
                    ))
                });
        }
        ctx.log(
            Level::Warn,
            &format!("{short}: putting the applied URL map back"),
        )
        .await;
        self.send(step, &put, Uuid::new_v4(), ctx)
            .await
            .map_err(|e| {
                StepError(format!(
                    "{short}: the rollback to the applied weights failed: {e}"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::monitoring::Sample;

    fn s(bs: &str, region: &str, v: f64) -> Series {
        Series {
            labels: [
                ("backend_target_name".to_string(), bs.to_string()),
                ("backend_scope".to_string(), region.to_string()),
            ]
            .into_iter()
            .collect(),
            samples: vec![Sample { at: 60.0, value: v }],
        }
    }

    #[test]
    fn a_stage_is_judged_on_the_backends_gaining_traffic_only() {
        let t = LbTraffic {
            rps: vec![
                s("canary", "us-central1", 1.0),
                s("canary", "europe-west1", 3.0),
                s("stable", "us-central1", 6.0),
            ],
            error_ratio: vec![
                s("canary", "us-central1", 1.0),
                s("canary", "europe-west1", 0.0),
                s("stable", "us-central1", 1.0),
            ],
            p95_ms: vec![
                s("canary", "us-central1", 90.0),
                s("canary", "europe-west1", f64::NAN),
            ],
        };
        let m = measure(&t, |bs, _| bs == "canary").unwrap();
        assert_eq!(
            (m.rps, m.error_ratio, m.p95_ms),
            (4.0, Some(0.25), Some(90.0))
        );
        assert_eq!(measure(&t, |bs, _| bs == "other"), None);
        // A canary judges its own region only.
        let m = measure(&t, |bs, r| bs == "canary" && r == "europe-west1").unwrap();
        assert_eq!((m.rps, m.error_ratio), (3.0, Some(0.0)));
    }
}
