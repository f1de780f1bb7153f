//! The PromQL the panel asks Cloud Monitoring: the load balancer's request rate, 5xx ratio and
//! latency percentiles for one URL map, and Cloud Run's per-region counterparts for one service
//! (API-NOTES §19.3, §19.4). Pure text: the sandbox's evaluator reads the same forms back.

use std::fmt::Write;
use std::time::Duration;

/// PromQL names of the metrics (§19.3: the first `/` becomes `:`, other `.` and `/` become `_`).
pub const LB_REQUESTS: &str = "loadbalancing_googleapis_com:https_request_count";
pub const LB_BACKEND_REQUESTS: &str = "loadbalancing_googleapis_com:https_backend_request_count";
pub const LB_TOTAL_LATENCIES: &str = "loadbalancing_googleapis_com:https_total_latencies";
pub const LB_BACKEND_LATENCIES: &str = "loadbalancing_googleapis_com:https_backend_latencies";
pub const RUN_REQUESTS: &str = "run_googleapis_com:request_count";
pub const RUN_LATENCIES: &str = "run_googleapis_com:request_latencies";
pub const RUN_INSTANCES: &str = "run_googleapis_com:container_instance_count";

/// How the load balancer's series are split: by serving region (`backend_scope`), by backend
/// service (`backend_target_name`), or by both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LbGrouping {
    Region,
    Backend,
    BackendRegion,
}

impl LbGrouping {
    fn labels(self) -> &'static str {
        match self {
            LbGrouping::Region => "backend_scope",
            LbGrouping::Backend => "backend_target_name",
            LbGrouping::BackendRegion => "backend_target_name, backend_scope",
        }
    }
}

/// A PromQL string literal: double quotes, with `\` and `"` escaped.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Prometheus duration (`300s`), whole seconds, at least one.
pub fn duration(d: Duration) -> String {
    format!("{}s", d.as_secs().max(1))
}

/// The `rate()` window for a chart step: five minutes, or two steps when those are longer, so
/// that every window holds at least two 60-second samples (§19.4).
pub fn rate_window(step: Duration) -> Duration {
    Duration::from_secs((step.as_secs() * 2).max(300))
}

fn selector(metric: &str, resource: &str, filters: &[(&str, &str)]) -> String {
    let mut s = format!("{metric}{{monitored_resource={}", quote(resource));
    for (k, v) in filters {
        let _ = write!(s, ", {k}={}", quote(v));
    }
    s.push('}');
    s
}

fn lb(metric: &str, url_map: &str, extra: &[(&str, &str)]) -> String {
    let mut filters = vec![("url_map_name", url_map)];
    filters.extend_from_slice(extra);
    selector(metric, "https_lb_rule", &filters)
}

fn run(metric: &str, service: &str, extra: &[(&str, &str)]) -> String {
    let mut filters = vec![("service_name", service)];
    filters.extend_from_slice(extra);
    selector(metric, "cloud_run_revision", &filters)
}

fn sum_rate(by: &str, series: &str, window: Duration) -> String {
    format!("sum by ({by}) (rate({series}[{}]))", duration(window))
}

fn quantile(q: f64, by: &str, buckets: &str, window: Duration) -> String {
    format!(
        "histogram_quantile({q}, sum by (le, {by}) (rate({buckets}[{}])))",
        duration(window)
    )
}

/// Requests per second the backends served, per `by`.
pub fn lb_request_rate(url_map: &str, by: LbGrouping, window: Duration) -> String {
    sum_rate(by.labels(), &lb(LB_BACKEND_REQUESTS, url_map, &[]), window)
}

/// Share of answers that were 5xx (`response_code_class="500"` on the load balancer), per `by`.
pub fn lb_error_ratio(url_map: &str, by: LbGrouping, window: Duration) -> String {
    format!(
        "{} / {}",
        sum_rate(
            by.labels(),
            &lb(
                LB_BACKEND_REQUESTS,
                url_map,
                &[("response_code_class", "500")]
            ),
            window
        ),
        sum_rate(by.labels(), &lb(LB_BACKEND_REQUESTS, url_map, &[]), window)
    )
}

/// The `q` quantile (0.5, 0.95, 0.99) of backend latency in milliseconds, per `by`.
pub fn lb_latency(url_map: &str, q: f64, by: LbGrouping, window: Duration) -> String {
    quantile(
        q,
        by.labels(),
        &lb(&format!("{LB_BACKEND_LATENCIES}_bucket"), url_map, &[]),
        window,
    )
}

/// Cloud Run requests per second, per region (`location`).
pub fn run_request_rate(service: &str, window: Duration) -> String {
    sum_rate("location", &run(RUN_REQUESTS, service, &[]), window)
}

/// Cloud Run's share of 5xx answers (`response_code_class="5xx"`), per region.
pub fn run_error_ratio(service: &str, window: Duration) -> String {
    format!(
        "{} / {}",
        sum_rate(
            "location",
            &run(RUN_REQUESTS, service, &[("response_code_class", "5xx")]),
            window
        ),
        sum_rate("location", &run(RUN_REQUESTS, service, &[]), window)
    )
}

/// The `q` quantile of Cloud Run request latency in milliseconds, per region.
pub fn run_latency(service: &str, q: f64, window: Duration) -> String {
    quantile(
        q,
        "location",
        &run(&format!("{RUN_LATENCIES}_bucket"), service, &[]),
        window,
    )
}

/// Container instances per region, active and idle apart.
pub fn run_instances(service: &str) -> String {
    format!(
        "sum by (location, state) ({})",
        run(RUN_INSTANCES, service, &[])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_read_as_the_documented_examples() {
        let w = Duration::from_secs(300);
        assert_eq!(
            lb_request_rate("sy-map", LbGrouping::Region, w),
            "sum by (backend_scope) (rate(loadbalancing_googleapis_com:https_backend_request_count\
             {monitored_resource=\"https_lb_rule\", url_map_name=\"sy-map\"}[300s]))"
        );
        assert_eq!(
            lb_latency("sy-map", 0.95, LbGrouping::BackendRegion, w),
            "histogram_quantile(0.95, sum by (le, backend_target_name, backend_scope) \
             (rate(loadbalancing_googleapis_com:https_backend_latencies_bucket\
             {monitored_resource=\"https_lb_rule\", url_map_name=\"sy-map\"}[300s])))"
        );
        assert_eq!(
            run_instances("sy-app"),
            "sum by (location, state) (run_googleapis_com:container_instance_count\
             {monitored_resource=\"cloud_run_revision\", service_name=\"sy-app\"})"
        );
        assert!(run_error_ratio("sy-app", w).contains("response_code_class=\"5xx\""));
        assert!(
            lb_error_ratio("m", LbGrouping::Backend, w).contains("response_code_class=\"500\"")
        );
    }

    #[test]
    fn label_values_cannot_break_out_of_their_quotes() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert!(
            lb_request_rate("x\"}) or up{", LbGrouping::Region, Duration::ZERO)
                .contains(r#"url_map_name="x\"}) or up{""#)
        );
    }

    #[test]
    fn rate_windows_hold_two_samples() {
        assert_eq!(
            rate_window(Duration::from_secs(60)),
            Duration::from_secs(300)
        );
        assert_eq!(
            rate_window(Duration::from_secs(3600)),
            Duration::from_secs(7200)
        );
    }
}
