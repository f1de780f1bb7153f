//! Compute Engine v1 `UrlMap`: the typed model (`model`), the rules the API applies to it
//! (`check`) and the evaluator that answers "where does this request go" (`eval`), re-exported
//! here so callers name `urlmap::X` whichever file holds it.
//!
//! One implementation serves every caller: the sandbox cloud (insert/update/validate run `check`
//! and `run_tests`), the validator (which checks the map `plan::url_map` builds for a spec) and
//! the route preview and lint (which evaluate that map). So the preview cannot disagree with what
//! the sandbox accepts.
//!
//! Field names follow Compute's JSON (camelCase). Every struct keeps the fields it does not model
//! in `extra`, so a client's `headerAction`, `kind`, `selfLink`, `headerMatches`... survive a
//! store-and-return round trip instead of being silently dropped.

mod check;
mod eval;
mod model;

#[cfg(test)]
pub(crate) mod fixtures;

pub use check::{
    MAX_HOST_REWRITE, MAX_PATH_PREFIX_REWRITE, MAX_TESTS, MAX_WEIGHT, UrlMapError,
    advanced_features, check, check_all, host_pattern_problem, path_pattern_problem,
};
pub use eval::{Outcome, TestFailure, evaluate, run_tests};
pub use model::{
    Extra, HostRule, HttpRedirectAction, HttpRouteAction, HttpRouteRule, HttpRouteRuleMatch,
    PathMatcher, PathRule, UrlMap, UrlMapTest, UrlRewrite, WeightedBackendService,
    referenced_services,
};
