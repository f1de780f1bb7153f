//! Cloud Monitoring's PromQL API (`projects.location.prometheus.api.v1.query_range`,
//! API-NOTES §19.2): the load balancer's and Cloud Run's traffic as time series.
//!
//! Calls go through the same transport as the rest of the client (token, retries, errors).
//! The answer is upstream Prometheus JSON; sample values are strings and may be `NaN` (a
//! ratio over no requests) or `±Inf`, which [`Sample::value`] keeps and [`Sample::finite`]
//! drops. Monitoring data arrives minutes late (§19.1), so callers show how old the newest
//! point is ([`Series::last`]).

pub mod promql;

use super::client::Client;
use super::error::{CloudError, Result};
use promql::LbGrouping;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The time span and resolution of a range query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub step: Duration,
}

impl Range {
    /// The `window` before `end`, in about `points` steps of at least the 60-second sampling
    /// period (§19.4).
    pub fn ending(end: OffsetDateTime, window: Duration, points: u32) -> Range {
        let step = Duration::from_secs((window.as_secs() / u64::from(points.max(1))).max(60));
        Range {
            start: end - window,
            end,
            step,
        }
    }
}

/// One sample: UNIX seconds and the value (`NaN` and `±Inf` kept as such).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sample {
    pub at: f64,
    pub value: f64,
}

impl Sample {
    /// The value when it is a number one can draw.
    pub fn finite(&self) -> Option<f64> {
        self.value.is_finite().then_some(self.value)
    }
}

/// One labelled series of a matrix answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub samples: Vec<Sample>,
}

impl Series {
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map(String::as_str).unwrap_or("")
    }

    /// The newest sample with a finite value.
    pub fn last(&self) -> Option<Sample> {
        self.samples
            .iter()
            .rev()
            .find(|s| s.value.is_finite())
            .copied()
    }
}

#[derive(Serialize)]
struct QueryRangeRequest<'a> {
    query: &'a str,
    start: String,
    end: String,
    step: String,
    timeout: &'static str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromAnswer {
    status: String,
    #[serde(default)]
    data: Option<PromData>,
    #[serde(default)]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromData {
    result_type: String,
    #[serde(default)]
    result: Vec<PromSeries>,
}

#[derive(Deserialize)]
struct PromSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
    /// An instant vector's single sample.
    #[serde(default)]
    value: Option<(f64, String)>,
}

/// Reads a Prometheus sample value: a decimal, `NaN`, `+Inf` or `-Inf`.
fn sample_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

/// Reads a `query_range` answer (upstream Prometheus JSON) into series.
pub fn parse_answer(body: &serde_json::Value, query: &str) -> Result<Vec<Series>> {
    let answer: PromAnswer = serde_json::from_value(body.clone())
        .map_err(|e| CloudError::Decode(format!("PromQL answer to {query:?}: {e}")))?;
    if answer.status != "success" {
        return Err(CloudError::Invalid {
            field: None,
            message: format!(
                "{}: {}",
                answer.error_type.unwrap_or_else(|| answer.status.clone()),
                answer.error.unwrap_or_default()
            ),
        });
    }
    let Some(data) = answer.data else {
        return Err(CloudError::Decode(format!(
            "PromQL answer to {query:?} has no data"
        )));
    };
    if data.result_type != "matrix" && data.result_type != "vector" {
        return Err(CloudError::Decode(format!(
            "PromQL answer to {query:?} is a {}, not a matrix",
            data.result_type
        )));
    }
    data.result
        .into_iter()
        .map(|s| {
            let samples = s
                .values
                .iter()
                .chain(s.value.iter())
                .map(|(at, v)| {
                    sample_value(v)
                        .map(|value| Sample { at: *at, value })
                        .ok_or_else(|| {
                            CloudError::Decode(format!(
                                "PromQL answer to {query:?}: sample value {v:?} is not a number"
                            ))
                        })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Series {
                labels: s.metric,
                samples,
            })
        })
        .collect()
}

fn rfc3339(t: OffsetDateTime) -> Result<String> {
    t.format(&Rfc3339)
        .map_err(|e| CloudError::Decode(format!("cannot format {t}: {e}")))
}

/// The load balancer's traffic for one URL map, split by backend service and serving region:
/// what the traffic API and the deployment page show.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LbTraffic {
    pub rps: Vec<Series>,
    pub error_ratio: Vec<Series>,
    pub p95_ms: Vec<Series>,
}

/// One Cloud Run service's own series, per region (`location`): request rate, 5xx ratio, p95
/// latency, and its container instances by `state` (`active`, `idle`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunTraffic {
    pub rps: Vec<Series>,
    pub error_ratio: Vec<Series>,
    pub p95_ms: Vec<Series>,
    pub instances: Vec<Series>,
}

impl Client {
    fn monitoring_url(&self, project: &str, method: &str) -> String {
        format!(
            "{}v1/projects/{project}/location/global/prometheus/api/v1/{method}",
            self.config().monitoring_endpoint
        )
    }

    /// `query_range` in `project` (for load balancer series: the forwarding rule's project,
    /// §19.1).
    pub async fn query_range(
        &self,
        project: &str,
        query: &str,
        range: &Range,
    ) -> Result<Vec<Series>> {
        let body = QueryRangeRequest {
            query,
            start: rfc3339(range.start)?,
            end: rfc3339(range.end)?,
            step: promql::duration(range.step),
            timeout: "30s",
        };
        let body = serde_json::to_value(&body)
            .map_err(|e| CloudError::Decode(format!("cannot encode the query: {e}")))?;
        let answer = self
            .call(
                Method::POST,
                &self.monitoring_url(project, "query_range"),
                &[],
                Some(body),
                "prometheus/api/v1/query_range",
            )
            .await?;
        parse_answer(&answer, query)
    }

    /// Request rate, 5xx ratio and p95 latency for `url_map`, per backend service and region.
    pub async fn lb_traffic(
        &self,
        project: &str,
        url_map: &str,
        range: &Range,
    ) -> Result<LbTraffic> {
        self.lb_traffic_over(project, url_map, range, promql::rate_window(range.step))
            .await
    }

    /// [`Client::lb_traffic`] with each point averaged over `w` instead of the chart's window:
    /// what "over the last 10 minutes" means for the traffic API and a rollout's stage.
    pub async fn lb_traffic_over(
        &self,
        project: &str,
        url_map: &str,
        range: &Range,
        w: Duration,
    ) -> Result<LbTraffic> {
        let by = LbGrouping::BackendRegion;
        Ok(LbTraffic {
            rps: self
                .query_range(project, &promql::lb_request_rate(url_map, by, w), range)
                .await?,
            error_ratio: self
                .query_range(project, &promql::lb_error_ratio(url_map, by, w), range)
                .await?,
            p95_ms: self
                .query_range(project, &promql::lb_latency(url_map, 0.95, by, w), range)
                .await?,
        })
    }
}

impl Client {
    /// Cloud Run's view of `service` in `project`, each point averaged over `w`.
    pub async fn run_traffic_over(
        &self,
        project: &str,
        service: &str,
        range: &Range,
        w: Duration,
    ) -> Result<RunTraffic> {
        Ok(RunTraffic {
            rps: self
                .query_range(project, &promql::run_request_rate(service, w), range)
                .await?,
            error_ratio: self
                .query_range(project, &promql::run_error_ratio(service, w), range)
                .await?,
            p95_ms: self
                .query_range(project, &promql::run_latency(service, 0.95, w), range)
                .await?,
            instances: self
                .query_range(project, &promql::run_instances(service), range)
                .await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matrix_answers_keep_labels_strings_and_nan() {
        let body = json!({"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"backend_scope":"europe-west1"},
             "values":[[1764583200,"12.5"],[1764583260.5,"NaN"],[1764583320,"+Inf"]]}]}});
        let s = parse_answer(&body, "q").unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].label("backend_scope"), "europe-west1");
        assert_eq!(s[0].samples[0].value, 12.5);
        assert!(s[0].samples[1].value.is_nan());
        assert_eq!(s[0].samples[1].at, 1764583260.5);
        assert_eq!(s[0].samples[2].value, f64::INFINITY);
        assert_eq!(s[0].last().unwrap().value, 12.5);
        assert_eq!(s[0].samples[1].finite(), None);
    }

    #[test]
    fn empty_results_are_no_series() {
        let body = json!({"status":"success","data":{"resultType":"matrix","result":[]}});
        assert!(parse_answer(&body, "q").unwrap().is_empty());
    }

    #[test]
    fn prometheus_errors_and_odd_shapes_are_errors() {
        let err = parse_answer(
            &json!({"status":"error","errorType":"bad_data","error":"parse error at char 3"}),
            "q",
        )
        .unwrap_err();
        assert!(
            matches!(&err, CloudError::Invalid { message, .. } if message == "bad_data: parse error at char 3"),
            "{err:?}"
        );
        let scalar = json!({"status":"success","data":{"resultType":"scalar","result":[]}});
        assert!(matches!(
            parse_answer(&scalar, "q"),
            Err(CloudError::Decode(_))
        ));
        let text = json!({"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{},"values":[[1,"twelve"]]}]}});
        assert!(
            matches!(parse_answer(&text, "q"), Err(CloudError::Decode(m)) if m.contains("twelve"))
        );
    }

    #[test]
    fn ranges_step_at_least_a_minute() {
        let end = OffsetDateTime::from_unix_timestamp(1_764_583_200).unwrap();
        let r = Range::ending(end, Duration::from_secs(3600), 120);
        assert_eq!(r.step, Duration::from_secs(60));
        assert_eq!((r.end - r.start).whole_seconds(), 3600);
        let week = Range::ending(end, Duration::from_secs(7 * 86400), 168);
        assert_eq!(week.step, Duration::from_secs(3600));
    }
}
