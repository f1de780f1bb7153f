//! The domain: routing spec, validation, lint, URL-map evaluation and planning.
//! Pure Rust: nothing here knows about HTTP servers, SQL or the REST client.
//!
//! How the pieces fit:
//!
//! ```text
//! bytes ──parse::parse─────▶ Spec ──validate::validate──▶ ok / Vec<FieldError>   (400 / 422)
//!                             │
//!                             ├─ lint::lint ───────────▶ Vec<Warning> (what, why, fix)
//!                             ├─ plan::url_map ────────▶ UrlMap ──urlmap::evaluate──▶ Outcome
//!                             │                                    (the one evaluator; the
//!                             │                                     sandbox and preview share it)
//!                             ├─ preview::preview ─────▶ Vec<PreviewRow>
//!                             └─ gcloud::commands ─────▶ GcloudScript (equivalent gcloud)
//! ```
//!
//! Exported API:
//!
//! - [`spec`]: `Spec`, `Frontend`, `Protocol`, `IpKind`, `Backend`, `BackendKind`, `Routing`,
//!   `Target`, `WeightedBackend`, `Rule` (serde, docs/contract.md §2).
//! - [`names`]: derived Google Cloud resource names and the owner marker.
//! - [`draft`]: `Draft` (a spec being written in the wizard, parts possibly missing;
//!   `from_json`, `to_spec`, `to_json`) and the pure per-step merges the wizard calls:
//!   `apply_basics`, `apply_frontend`, `add_serverless`, `add_internet` (FQDN, port and Host
//!   override from a pasted Cloud Run URL), `update_backend` (a rename follows into the
//!   routing), `remove_backend`, `apply_default`, `add_rule`, `update_rule`, `remove_rule`;
//!   `step_of_field` maps a spec field to the wizard step that owns it.
//! - [`parse`]: `parse(input: impl AsRef<[u8]>) -> Result<Spec, ParseError>`; `ParseError {
//!   field: Option<String>, message }` (field is `None` only when the input is not a JSON
//!   object). Unknown fields are errors.
//! - [`validate`]:
//!   - `validate(&Spec) -> Result<(), Vec<FieldError>>`; `FieldError { field, message }` with
//!     fields like `backends[1].fqdn`, `routing.rules[0].paths[1]`.
//!   - helpers: `is_resource_name`, `is_project_id`, `is_cloud_run_service_id`,
//!     `dns_name_problem`, `CLOUD_RUN_REGIONS`, `MAX_DOMAINS`.
//!   - decisions: `http` with `domains` is valid (lint warns they are unused); `http_redirect`
//!     requires `https`; a host may belong to one host set only (Compute forbids a host in two
//!     host rules).
//! - [`urlmap`] (Compute v1 JSON, unknown fields kept in `extra`):
//!   - types `UrlMap`, `HostRule`, `PathMatcher`, `PathRule`, `HttpRouteRule`,
//!     `HttpRouteRuleMatch`, `HttpRouteAction`, `WeightedBackendService`, `UrlRewrite`,
//!     `HttpRedirectAction`, `UrlMapTest`;
//!   - `check(&UrlMap) -> Result<(), UrlMapError>` (first violation) and
//!     `check_all(&UrlMap) -> Vec<UrlMapError>`; `UrlMapError { field, value, message }`
//!     displays as Compute's "Invalid value for field 'resource.X': 'V'. ...";
//!   - `evaluate(&UrlMap, host: &str, path: &str) -> Outcome` with
//!     `Outcome::{Route { services: Vec<(String, u32)>, path, host, matched }, Redirect { code,
//!     url, matched }, NoRoute}`;
//!   - `run_tests(&UrlMap) -> Vec<TestFailure>` (serialises like Compute's `testFailures[]`);
//!   - `same_resource(a, b) -> bool` (compares references by path after `/compute/v1/`),
//!     `referenced_services(&UrlMap) -> Vec<String>`, `advanced_features(&UrlMap) ->
//!     Vec<String>` (fields that need `EXTERNAL_MANAGED`), `path_pattern_problem`,
//!     `host_pattern_problem`.
//! - [`plan`]: `compile`, `diff`, `destroy`, `steps` (spec → resources → changes → API calls);
//!   `url_map(&Spec, &dyn Fn(&str) -> String) -> UrlMap` (the spec's map, which the preview and
//!   lint evaluate), `redirect_map(deployment: &str) -> UrlMap`, `path_matcher_name(usize) ->
//!   String`.
//! - [`lint`]: `lint(&Spec) -> Vec<Warning>`; `Warning { code, level, field, message, why,
//!   fix }`, `Level::{Warning, Info}`.
//! - [`preview`]: `preview(&Spec) -> Vec<PreviewRow>`, `preview_request(&Spec, host, path) ->
//!   PreviewRow`; `PreviewRow { scheme, host, path, rule, targets: Vec<PreviewTarget>, redirect }`,
//!   `PreviewTarget { backend, weight, percent, path, host }`; `sample_host`, `sample_paths`.
//! - [`gcloud`]: `commands(&Spec) -> GcloudScript`; `GcloudScript { steps }` with
//!   `to_shell() -> String`; `GcloudStep { comment, file: Option<GcloudFile>, args }` with
//!   `command() -> String`; `outlier_detection() -> serde_json::Value` (the settings Switchyard
//!   applies when a backend asks for outlier detection); `to_yaml(&Value) -> String`.
//!
//! - [`chain`]: chained load balancers. `Back` (another deployment as the caller found it:
//!   its applied spec and IP), `resolve(&Spec, &[Back]) -> Result<Vec<Hop>, Vec<FieldError>>`
//!   (each `backends[].deployment` to the first domain, else the IP, that `plan::compile_chained`
//!   points the NEG at), `backs_of`, `fronts_of`, `destroy_warning`, `host_at_back` (the Host a
//!   request arrives with at the back deployment, for the route tester).
//!
//! - [`env_values`]: `EnvValues::{Shown, Hidden}` (whether the reader may see plain environment
//!   values: editors do, viewers see names) with `services`, `document`, `change` and `plan`,
//!   the masks for each form a spec leaves the server in; `HIDDEN` is the text shown instead.
//!
//! Spec fixtures for the seed walkthroughs live in `tests/data/seeds/` (see its README).

pub mod adopt;
pub mod certificates;
pub mod chain;
pub mod describe;
pub mod draft;
pub mod edge_lint;
pub mod edge_security;
pub mod env_values;
pub mod explicit_names;
pub mod frontend_options;
pub mod gcloud;
pub mod links;
pub mod lint;
pub mod names;
pub mod parse;
pub mod plan;
pub mod preview;
pub mod rollout;
pub mod shared_names;
pub mod sizes;
pub mod spec;
pub mod spec_changes;
pub mod topology;
pub mod urlmap;
pub mod validate;

#[cfg(test)]
mod tests;
