//! Names and plain field values: the RFC 1035 rule every Compute name follows, domain names,
//! and enum-like fields with a default (docs/google-cloud.md §0, §11.2).

use crate::cloud::sandbox::{ApiError, ApiResult};
use regex::Regex;
use serde_json::Value;
use std::sync::LazyLock;

static NAME_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$").expect("valid regex"));

/// True for an RFC 1035 label of 1–63 characters.
pub(super) fn valid_name(name: &str) -> bool {
    NAME_RE.is_match(name)
}

/// RFC 1035 label, 1–63 characters (docs/google-cloud.md §0).
pub(crate) fn check_name(field: &str, name: &str) -> ApiResult<()> {
    if NAME_RE.is_match(name) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            name,
            "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
        ))
    }
}

pub(super) fn valid_domain(d: &str) -> bool {
    let d = d.strip_suffix('.').unwrap_or(d);
    !d.is_empty()
        && d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

pub(super) fn str_field<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(Value::as_str)
}

/// An enum-like field the sandbox supports only some values of, with the server's default.
pub(super) fn one_of(
    field: &str,
    value: Option<&str>,
    allowed: &[&str],
    default: &str,
) -> ApiResult<String> {
    let v = value.unwrap_or(default);
    if allowed.contains(&v) {
        Ok(v.to_string())
    } else {
        Err(ApiError::invalid(
            field,
            v,
            &format!("Must be one of: {}.", allowed.join(", ")),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_rfc1035() {
        for ok in ["a", "shop-urlmap", "a1", &"a".repeat(63)] {
            assert!(check_name("resource.name", ok).is_ok(), "{ok}");
        }
        for bad in ["", "1a", "A", "a-", "a_b", &"a".repeat(64)] {
            assert!(check_name("resource.name", bad).is_err(), "{bad}");
        }
    }
}
