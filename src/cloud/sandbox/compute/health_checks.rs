//! Health checks: a known type and Google's default intervals and thresholds.

use super::names::{one_of, str_field};
use crate::cloud::sandbox::ApiResult;
use serde_json::{Value, json};

pub(super) fn prepare(body: &mut Value) -> ApiResult<()> {
    one_of(
        "resource.type",
        str_field(body, "type"),
        &[
            "HTTP",
            "HTTPS",
            "HTTP2",
            "TCP",
            "SSL",
            "GRPC",
            "GRPC_WITH_TLS",
        ],
        "",
    )?;
    for (k, d) in [
        ("checkIntervalSec", 5),
        ("timeoutSec", 5),
        ("healthyThreshold", 2),
        ("unhealthyThreshold", 2),
    ] {
        if body.get(k).is_none() {
            body[k] = json!(d);
        }
    }
    Ok(())
}
