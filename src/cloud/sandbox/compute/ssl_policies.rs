//! Global SSL policies: a pre-configured profile (or CUSTOM with its own features) and a
//! minimum TLS version, under the fingerprint on `patch`; the features a profile enables are
//! shown on read. Deleting one that an HTTPS proxy uses is refused (`crud::delete`, from the
//! proxies' `sslPolicy` references), as Google refuses it.

use super::names::{one_of, str_field};
use crate::cloud::sandbox::{ApiError, ApiResult};
use serde_json::{Value, json};

/// TLS 1.2 suites with forward secrecy and AEAD: what RESTRICTED allows.
const RESTRICTED: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];
/// MODERN adds the ECDHE CBC suites.
const MODERN_EXTRA: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
];
/// COMPATIBLE adds the RSA key-exchange suites.
const COMPATIBLE_EXTRA: &[&str] = &[
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
];

fn features(profile: &str) -> Vec<&'static str> {
    let mut out = RESTRICTED.to_vec();
    if profile != "RESTRICTED" {
        out.extend(MODERN_EXTRA);
    }
    if profile == "COMPATIBLE" {
        out.extend(COMPATIBLE_EXTRA);
    }
    out
}

/// Validates a whole policy (insert, or the result of a patch) and fills its defaults and
/// `enabledFeatures`.
pub(super) fn prepare(body: &mut Value) -> ApiResult<()> {
    let profile = one_of(
        "resource.profile",
        str_field(body, "profile"),
        &[
            "COMPATIBLE",
            "MODERN",
            "RESTRICTED",
            "CUSTOM",
            "FIPS_202205",
        ],
        "COMPATIBLE",
    )?;
    let min_tls = one_of(
        "resource.minTlsVersion",
        str_field(body, "minTlsVersion"),
        &["TLS_1_0", "TLS_1_1", "TLS_1_2", "TLS_1_3"],
        "TLS_1_0",
    )?;
    let custom: Vec<String> = body["customFeatures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    // disc:ce SslPolicy.customFeatures: "This field must be empty if the profile is not CUSTOM."
    if profile != "CUSTOM" && !custom.is_empty() {
        return Err(ApiError::invalid(
            "resource.customFeatures",
            &custom.join(","),
            "This field must be empty if the profile is not CUSTOM.",
        ));
    }
    if profile == "CUSTOM" && custom.is_empty() {
        return Err(ApiError::invalid(
            "resource.customFeatures",
            "",
            "If using CUSTOM, the set of SSL features to enable must be specified in the customFeatures field.",
        ));
    }
    let known = features("COMPATIBLE");
    if let Some(bad) = custom.iter().find(|f| !known.contains(&f.as_str())) {
        return Err(ApiError::invalid(
            "resource.customFeatures",
            bad,
            "Not a feature listAvailableFeatures returns.",
        ));
    }
    // disc:ce SslPolicy.minTlsVersion: "When set to TLS_1_3, the profile field must be set to
    // RESTRICTED."
    if min_tls == "TLS_1_3" && profile != "RESTRICTED" {
        return Err(ApiError::invalid(
            "resource.minTlsVersion",
            &min_tls,
            "When set to TLS_1_3, the profile field must be set to RESTRICTED.",
        ));
    }
    let enabled: Vec<Value> = if profile == "CUSTOM" {
        custom.iter().map(|f| json!(f)).collect()
    } else {
        features(&profile).into_iter().map(|f| json!(f)).collect()
    };
    body["profile"] = json!(profile);
    body["minTlsVersion"] = json!(min_tls);
    body["enabledFeatures"] = json!(enabled);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_take_google_rules() {
        let mut ok = json!({ "profile": "MODERN", "minTlsVersion": "TLS_1_2" });
        prepare(&mut ok).unwrap();
        assert_eq!(ok["enabledFeatures"].as_array().unwrap().len(), 10);
        let mut defaults = json!({});
        prepare(&mut defaults).unwrap();
        assert_eq!(defaults["profile"], "COMPATIBLE");
        assert_eq!(defaults["minTlsVersion"], "TLS_1_0");
        for bad in [
            json!({ "profile": "MODERN", "customFeatures": ["TLS_RSA_WITH_AES_128_CBC_SHA"] }),
            json!({ "profile": "CUSTOM" }),
            json!({ "profile": "MODERN", "minTlsVersion": "TLS_1_3" }),
            json!({ "profile": "STRICT" }),
        ] {
            let mut b = bad.clone();
            assert!(prepare(&mut b).is_err(), "{bad}");
        }
    }
}
