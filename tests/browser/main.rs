//! Browser tests: a real headless Chromium driven through chromedriver (fantoccini).

#[path = "../common/mod.rs"]
pub mod common;
mod support;

mod dashboard;
mod shell;
mod wizard;
