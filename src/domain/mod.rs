//! The domain: routing spec, validation, lint, URL-map evaluation and planning.
//! Pure Rust: nothing here knows about HTTP servers, SQL or the REST client.

pub mod gcloud;
pub mod lint;
pub mod names;
pub mod preview;
pub mod spec;
pub mod urlmap;
pub mod validate;

#[cfg(test)]
mod tests;
