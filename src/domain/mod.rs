//! The domain: routing spec, validation, lint, URL-map evaluation and planning.
//! Pure Rust: nothing here knows about HTTP servers, SQL or the REST client.

pub mod names;
pub mod plan;
pub mod spec;
