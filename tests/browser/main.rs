//! Browser tests: a real headless Chromium driven through chromedriver (fantoccini).

#[path = "../common/mod.rs"]
pub mod common;
#[path = "../common/hand_built.rs"]
mod hand_built;
#[path = "../common/sandbox_apply.rs"]
mod sandbox_apply;
mod support;

mod adopt;
mod canary;
mod certificate;
mod chain;
mod dashboard;
mod edge_frontend;
mod jobs;
mod orphans;
mod plan;
mod shell;
mod topology;
mod traffic;
mod wizard;
mod wizard_checks;
mod wizard_pickers;
