//! Per-frontend options (docs/contract.md §2.2): IPv6 beside the IPv4 address, HTTP/3 through
//! the HTTPS proxy's `quicOverride`, and an SSL policy (minimum TLS version and profile) on the
//! HTTPS proxy. A spec without them means what it meant before: no IPv6 rules, `quicOverride`
//! left to Google (`NONE`), no SSL policy (Google's default, COMPATIBLE with TLS 1.0).
//!
//! Here: the spec's types for the options, their validation and lint, and the values the plan
//! sends. Compile, diff and steps call these; the names are in `names`.

use super::lint::{Level, Warning};
use super::spec::{Frontend, Protocol, Spec};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The lowest TLS version the load balancer accepts from clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TlsVersion {
    #[serde(rename = "1.0")]
    Tls10,
    #[serde(rename = "1.1")]
    Tls11,
    #[serde(rename = "1.2")]
    Tls12,
}

impl TlsVersion {
    /// The `SslPolicy.minTlsVersion` value.
    pub fn api_value(&self) -> &'static str {
        match self {
            TlsVersion::Tls10 => "TLS_1_0",
            TlsVersion::Tls11 => "TLS_1_1",
            TlsVersion::Tls12 => "TLS_1_2",
        }
    }

    pub fn from_api(v: &str) -> Option<TlsVersion> {
        [TlsVersion::Tls10, TlsVersion::Tls11, TlsVersion::Tls12]
            .into_iter()
            .find(|t| t.api_value() == v)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            TlsVersion::Tls10 => "1.0",
            TlsVersion::Tls11 => "1.1",
            TlsVersion::Tls12 => "1.2",
        }
    }
}

/// One of Google's pre-configured profiles (CUSTOM, with its own feature list, is not offered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SslProfile {
    Compatible,
    Modern,
    Restricted,
}

impl SslProfile {
    /// The `SslPolicy.profile` value, which is also how the spec writes it.
    pub fn api_value(&self) -> &'static str {
        match self {
            SslProfile::Compatible => "COMPATIBLE",
            SslProfile::Modern => "MODERN",
            SslProfile::Restricted => "RESTRICTED",
        }
    }

    pub fn from_api(v: &str) -> Option<SslProfile> {
        [
            SslProfile::Compatible,
            SslProfile::Modern,
            SslProfile::Restricted,
        ]
        .into_iter()
        .find(|p| p.api_value() == v)
    }
}

/// `frontend.ssl_policy`: both members default to what Google uses without them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SslPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_tls_version: Option<TlsVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<SslProfile>,
}

impl SslPolicy {
    pub fn min_tls(&self) -> TlsVersion {
        self.min_tls_version.unwrap_or(TlsVersion::Tls10)
    }

    pub fn profile(&self) -> SslProfile {
        self.profile.unwrap_or(SslProfile::Compatible)
    }

    /// The `sslPolicies.insert` body (without name and description, which compile adds).
    pub fn body(&self) -> Value {
        json!({
            "profile": self.profile().api_value(),
            "minTlsVersion": self.min_tls().api_value(),
        })
    }
}

/// The keys `frontend.ssl_policy` may have, for the parser's unknown-key check.
pub const SSL_POLICY_KEYS: &[&str] = &["min_tls_version", "profile"];

/// What the HTTPS proxy's `quicOverride` is: the spec's choice, or `NONE` (Google decides)
/// when it has none, which is also what Google reports for a proxy created without one.
pub fn quic_override(f: &Frontend) -> &'static str {
    match f.http3 {
        Some(true) => "ENABLE",
        Some(false) => "DISABLE",
        None => "NONE",
    }
}

/// The value a live proxy without `quicOverride` has.
pub const QUIC_DEFAULT: &str = "NONE";

/// The options in one sentence for the deployment's description, or `None` without any.
pub fn describe(f: &Frontend) -> Option<String> {
    let mut parts = Vec::new();
    if f.ipv6 {
        parts.push("answers on IPv6 too, on a second address".to_string());
    }
    if f.protocol == Protocol::Https {
        match f.http3 {
            Some(true) => parts.push("offers HTTP/3 (QUIC)".to_string()),
            Some(false) => parts.push("never offers HTTP/3".to_string()),
            None => {}
        }
        if let Some(p) = &f.ssl_policy {
            parts.push(format!(
                "accepts TLS {} or later with the {} SSL profile",
                p.min_tls().as_str(),
                p.profile().api_value()
            ));
        }
    }
    if parts.is_empty() {
        return None;
    }
    let mut s = parts.join("; ");
    if let Some(first) = s.get(..1) {
        s = first.to_ascii_uppercase() + &s[1..];
    }
    Some(format!("{s}."))
}

/// The options' validation problems as (field, message), in document order.
pub fn problems(spec: &Spec) -> Vec<(String, String)> {
    let f = &spec.frontend;
    let mut out = Vec::new();
    let https = f.protocol == Protocol::Https;
    if f.http3.is_some() && !https {
        out.push((
            "frontend.http3".to_string(),
            "HTTP/3 (QUIC) is negotiated by the HTTPS proxy: choose protocol https or leave the field out".to_string(),
        ));
    }
    if let Some(p) = &f.ssl_policy {
        if !https {
            out.push((
                "frontend.ssl_policy".to_string(),
                "an SSL policy governs the TLS of the HTTPS proxy: choose protocol https or leave the field out".to_string(),
            ));
        } else if p.profile() == SslProfile::Restricted && p.min_tls() < TlsVersion::Tls12 {
            out.push((
                "frontend.ssl_policy.min_tls_version".to_string(),
                format!(
                    "the RESTRICTED profile's ciphers are supported only by TLS 1.2, so clients need TLS 1.2 whatever the minimum says ({} {}): set \"1.2\", or choose the MODERN profile",
                    p.min_tls().as_str(),
                    if p.min_tls_version.is_none() { "when absent" } else { "given" }
                ),
            ));
        }
    }
    out
}

/// The options' lint warnings (codes `ssl-policy-old-tls`, `http3-tls13`).
pub fn lints(spec: &Spec) -> Vec<Warning> {
    let f = &spec.frontend;
    let mut out = Vec::new();
    if f.protocol != Protocol::Https {
        return out;
    }
    if let Some(p) = &f.ssl_policy
        && p.min_tls() < TlsVersion::Tls12
    {
        out.push(Warning {
            code: "ssl-policy-old-tls",
            level: Level::Warning,
            field: "frontend.ssl_policy.min_tls_version".into(),
            message: format!(
                "The SSL policy lets clients connect with TLS {}.",
                p.min_tls().as_str()
            ),
            why: "TLS 1.0 and 1.1 are deprecated (RFC 8996) and every current browser has stopped using them; allowing them only helps old clients and keeps weaker ciphers on offer.".into(),
            fix: "Set frontend.ssl_policy.min_tls_version to \"1.2\" (with the MODERN or RESTRICTED profile) unless you know of clients that cannot use TLS 1.2.".into(),
        });
    }
    if f.http3 == Some(true) && f.ssl_policy.is_some() {
        out.push(Warning {
            code: "http3-tls13",
            level: Level::Info,
            field: "frontend.http3".into(),
            message: "HTTP/3 connections use TLS 1.3 whatever the SSL policy says.".into(),
            why: "HTTP/3 runs over QUIC, which uses TLS 1.3 exclusively; the SSL policy's minimum version and profile shape the HTTP/1.1 and HTTP/2 connections over TCP.".into(),
            fix: "Nothing to do if that is what you want; to make every client follow the SSL policy, set frontend.http3 to false.".into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::parse::tests::parse_field;
    use serde_json::json;

    fn spec(f: impl FnOnce(&mut Value)) -> Spec {
        let mut v = json!({
            "name": "shop", "project": "acme-edge",
            "frontend": { "protocol": "https", "domains": ["shop.example.com"] },
            "backends": [{ "name": "web", "type": "serverless", "service": "web", "regions": ["us-central1"] }],
            "routing": { "default": { "backend": "web" } }
        });
        f(&mut v);
        crate::domain::parse::parse(v.to_string()).expect("parses")
    }

    #[test]
    fn options_round_trip_and_absent_ones_are_left_out() {
        let plain = spec(|_| {});
        let text = serde_json::to_value(&plain).unwrap();
        for k in ["ipv6", "http3", "ssl_policy"] {
            assert!(text["frontend"].get(k).is_none(), "{k} written back");
        }
        let s = spec(|v| {
            v["frontend"]["ipv6"] = json!(true);
            v["frontend"]["http3"] = json!(false);
            v["frontend"]["ssl_policy"] = json!({ "min_tls_version": "1.2", "profile": "MODERN" });
        });
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back["frontend"]["ipv6"], json!(true));
        assert_eq!(back["frontend"]["http3"], json!(false));
        assert_eq!(
            back["frontend"]["ssl_policy"],
            json!({ "min_tls_version": "1.2", "profile": "MODERN" })
        );
        assert_eq!(quic_override(&s.frontend), "DISABLE");
        assert_eq!(
            describe(&s.frontend).as_deref(),
            Some(
                "Answers on IPv6 too, on a second address; never offers HTTP/3; accepts TLS 1.2 or later with the MODERN SSL profile."
            )
        );
        assert_eq!(describe(&plain.frontend), None);
        assert_eq!(
            s.frontend.ssl_policy.unwrap().body(),
            json!({ "profile": "MODERN", "minTlsVersion": "TLS_1_2" })
        );
    }

    #[test]
    fn bad_values_name_their_field() {
        assert_eq!(
            parse_field(|v| v["frontend"]["ssl_policy"] = json!({ "profile": "CUSTOM" }))
                .as_deref(),
            Some("frontend.ssl_policy.profile")
        );
        assert_eq!(
            parse_field(|v| v["frontend"]["ssl_policy"] = json!({ "min_tls_version": "1.3" }))
                .as_deref(),
            Some("frontend.ssl_policy.min_tls_version")
        );
        assert_eq!(
            parse_field(|v| v["frontend"]["ssl_policy"] = json!({ "custom_features": [] }))
                .as_deref(),
            Some("frontend.ssl_policy.custom_features")
        );
        assert_eq!(
            parse_field(|v| v["frontend"]["http3"] = json!("yes")).as_deref(),
            Some("frontend.http3")
        );
        assert_eq!(
            parse_field(|v| v["frontend"]["ipv6"] = json!(1)).as_deref(),
            Some("frontend.ipv6")
        );
    }

    #[test]
    fn https_only_options_and_restricted_needs_tls_1_2() {
        let http = spec(|v| {
            v["frontend"] = json!({ "protocol": "http", "http3": true, "ssl_policy": {} });
        });
        let fields: Vec<String> = problems(&http).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["frontend.http3", "frontend.ssl_policy"]);
        let restricted = spec(|v| {
            v["frontend"]["ssl_policy"] =
                json!({ "profile": "RESTRICTED", "min_tls_version": "1.1" });
        });
        let p = problems(&restricted);
        assert_eq!(p[0].0, "frontend.ssl_policy.min_tls_version");
        assert!(p[0].1.contains("TLS 1.2"), "{}", p[0].1);
        let fine = spec(|v| {
            v["frontend"]["ipv6"] = json!(true);
            v["frontend"]["ssl_policy"] =
                json!({ "profile": "RESTRICTED", "min_tls_version": "1.2" });
        });
        assert!(problems(&fine).is_empty());
        assert!(crate::domain::validate::validate(&fine).is_ok());
        let ipv6_http = spec(|v| v["frontend"] = json!({ "protocol": "http", "ipv6": true }));
        assert!(problems(&ipv6_http).is_empty());
    }

    #[test]
    fn lint_warns_of_old_tls_and_notes_http3() {
        let old = spec(|v| v["frontend"]["ssl_policy"] = json!({ "profile": "MODERN" }));
        let codes: Vec<&str> = lints(&old).iter().map(|w| w.code).collect();
        assert_eq!(codes, ["ssl-policy-old-tls"]);
        let quic = spec(|v| {
            v["frontend"]["http3"] = json!(true);
            v["frontend"]["ssl_policy"] = json!({ "profile": "MODERN", "min_tls_version": "1.2" });
        });
        let codes: Vec<&str> = lints(&quic).iter().map(|w| w.code).collect();
        assert_eq!(codes, ["http3-tls13"]);
        assert!(
            crate::domain::lint::lint(&quic)
                .iter()
                .any(|w| w.code == "http3-tls13")
        );
    }
}
