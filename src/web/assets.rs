//! Static files, embedded in the binary (nothing is loaded from the internet at run time) and
//! served with immutable caching: vendored files carry their version in the name, our CSS a
//! content hash in the query string.

use crate::error::AppError;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

pub const HTMX_URL: &str = "/static/vendor/htmx-2.0.11.min.js";
pub const HTMX_SSE_URL: &str = "/static/vendor/htmx-ext-sse-2.2.4.js";

const CSS: &str = include_str!("../../static/css/switchyard.css");
const WIZARD_CSS: &str = include_str!("../../static/css/wizard.css");
const PICKERS_JS: &str = include_str!("../../static/js/pickers.js");

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "vendor/htmx-2.0.11.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/vendor/htmx-2.0.11.min.js"),
    ),
    (
        "vendor/htmx-ext-sse-2.2.4.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/vendor/htmx-ext-sse-2.2.4.js"),
    ),
    (
        "vendor/htmx-LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../static/vendor/htmx-LICENSE"),
    ),
    (
        "css/switchyard.css",
        "text/css; charset=utf-8",
        CSS.as_bytes(),
    ),
    (
        "css/wizard.css",
        "text/css; charset=utf-8",
        WIZARD_CSS.as_bytes(),
    ),
    (
        "js/pickers.js",
        "text/javascript; charset=utf-8",
        PICKERS_JS.as_bytes(),
    ),
];

/// `/static/css/switchyard.css?v=HASH`: a new URL whenever the CSS changes.
pub fn css_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| hashed_url("css/switchyard.css", CSS))
}

/// `/static/css/wizard.css?v=HASH`, the wizard's own stylesheet.
pub fn wizard_css_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| hashed_url("css/wizard.css", WIZARD_CSS))
}

/// `/static/js/pickers.js?v=HASH`: the wizard's pick lists (a service fills its regions).
pub fn pickers_js_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| hashed_url("js/pickers.js", PICKERS_JS))
}

/// The URL of a static file with its content hash in the query string: a new URL whenever the
/// file changes, so browsers can cache every URL as immutable.
fn hashed_url(path: &str, contents: &str) -> String {
    let h = Sha256::digest(contents.as_bytes());
    let hex: String = h[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("/static/{path}?v={hex}")
}

pub async fn serve(Path(path): Path<String>) -> Result<Response, AppError> {
    let (_, ctype, bytes) = FILES
        .iter()
        .find(|(p, _, _)| *p == path)
        .ok_or(AppError::NotFound)?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(res)
}
