//! Cloud Armor in the sandbox (API-NOTES §20.1, §20.4): security policies (insert, get, list,
//! patch, delete; `type` set at creation only; an attached policy cannot be deleted, which
//! the generic users check gives), the backend service setters that attach them (its
//! `securityPolicy` and `edgeSecurityPolicy` are output-only otherwise), and the backend
//! service's IAP settings (the OAuth secret stored only as its SHA-256).

use super::Ctx;
use super::names::{one_of, str_field};
use crate::cloud::sandbox::{ApiError, ApiResult};
use crate::db::sandbox::{self as sql, StoredResource};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::SqliteConnection;

/// The priority of the rule every policy ends with (doc:armor).
const DEFAULT_RULE_PRIORITY: i64 = 2_147_483_647;

/// Fields of a backend service that only the setters write: an update (which replaces the
/// resource) keeps them as they were.
const ATTACHED: &[&str] = &["securityPolicy", "edgeSecurityPolicy"];

/// A policy as inserted or patched: its type (immutable once created) and the default rule.
pub(super) fn prepare(body: &mut Value, existing: Option<&StoredResource>) -> ApiResult<()> {
    let kind = one_of(
        "resource.type",
        str_field(body, "type"),
        &["CLOUD_ARMOR", "CLOUD_ARMOR_EDGE", "CLOUD_ARMOR_NETWORK"],
        "CLOUD_ARMOR",
    )?;
    if let Some(r) = existing
        && str_field(&r.body, "type") != Some(kind.as_str())
    {
        // disc:ce "This field can be set only at resource creation time"; the API's wording
        // of the refusal is UNCONFIRMED.
        return Err(ApiError::invalid(
            "resource.type",
            &kind,
            "The type of a security policy can be set only when it is created.",
        ));
    }
    body["type"] = json!(kind);
    let rules = body["rules"].as_array().cloned().unwrap_or_default();
    let has_default = rules
        .iter()
        .any(|r| r["priority"].as_i64() == Some(DEFAULT_RULE_PRIORITY));
    if !has_default {
        let mut rules = rules;
        rules.push(json!({
            "priority": DEFAULT_RULE_PRIORITY,
            "action": "allow",
            "description": "default rule",
            "match": { "versionedExpr": "SRC_IPS_V1", "config": { "srcIpRanges": ["*"] } },
            "preview": false,
            "kind": "compute#securityPolicyRule"
        }));
        body["rules"] = json!(rules);
    }
    Ok(())
}

/// `update` replaces the whole backend service, but cannot set or clear the attached
/// policies (output-only): they stay, as does the stored hash of the IAP secret when no new
/// secret is sent.
pub(super) fn keep_attached(stored: &Value, merged: &mut Value) {
    for f in ATTACHED {
        if let Some(v) = stored.get(*f) {
            merged[*f] = v.clone();
        }
    }
    if let (Some(sha), Some(iap)) = (
        stored.pointer("/iap/oauth2ClientSecretSha256"),
        merged.get_mut("iap").and_then(Value::as_object_mut),
    ) && !iap.contains_key("oauth2ClientSecret")
    {
        iap.insert("oauth2ClientSecretSha256".into(), sha.clone());
    }
}

/// A backend service's `iap`: the secret replaced by its SHA-256 (never stored, never
/// echoed), and the combinations Google refuses.
pub(super) fn check_iap(body: &mut Value) -> ApiResult<()> {
    let cdn = body["enableCDN"].as_bool().unwrap_or(false);
    let outlier = body
        .get("outlierDetection")
        .is_some_and(|o| o.as_object().is_some_and(|o| !o.is_empty()));
    let Some(iap) = body.get_mut("iap").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    if let Some(secret) = iap.remove("oauth2ClientSecret") {
        let hash = Sha256::digest(secret.as_str().unwrap_or_default().as_bytes());
        iap.insert("oauth2ClientSecretSha256".into(), json!(hex(&hash)));
    }
    iap.entry("oauth2ClientSecretSha256")
        .or_insert_with(|| json!(hex(&Sha256::digest(b""))));
    iap.entry("oauth2ClientId").or_insert_with(|| json!(""));
    let enabled = iap
        .entry("enabled")
        .or_insert(json!(false))
        .as_bool()
        .unwrap_or(false);
    // doc:iap-run, doc:sneg: IAP and Cloud CDN cannot share a backend service, nor IAP and
    // outlier detection. Google's wording of both refusals is UNCONFIRMED (API-NOTES §22).
    if enabled && cdn {
        return Err(ApiError::invalid(
            "resource.iap.enabled",
            "true",
            "Identity-Aware Proxy cannot be enabled on a backend service with Cloud CDN enabled.",
        ));
    }
    if enabled && outlier {
        return Err(ApiError::invalid(
            "resource.iap.enabled",
            "true",
            "Identity-Aware Proxy cannot be enabled on a backend service with outlier detection.",
        ));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `setSecurityPolicy` / `setEdgeSecurityPolicy`: attach the named policy (which must exist
/// and be of the verb's type) or, with none named, detach. A backend service holds one of
/// each; a new one replaces the old.
pub(super) async fn set(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    body: &mut Value,
    verb: &str,
    req: &Value,
) -> ApiResult<()> {
    let (field, kind) = if verb == "setEdgeSecurityPolicy" {
        ("edgeSecurityPolicy", "CLOUD_ARMOR_EDGE")
    } else {
        ("securityPolicy", "CLOUD_ARMOR")
    };
    let link = str_field(req, "securityPolicy").unwrap_or_default();
    if link.is_empty() {
        body.as_object_mut()
            .expect("bodies are objects")
            .remove(field);
        return Ok(());
    }
    let scheme = str_field(body, "loadBalancingScheme").unwrap_or("EXTERNAL");
    if !["EXTERNAL", "EXTERNAL_MANAGED", "INTERNAL_MANAGED"].contains(&scheme) {
        return Err(ApiError::invalid(
            "resource.loadBalancingScheme",
            scheme,
            "Security policies can be set only on backend services with load balancing scheme EXTERNAL, EXTERNAL_MANAGED or INTERNAL_MANAGED.",
        ));
    }
    let path =
        super::references::resource_path_of(ctx.project, link).unwrap_or_else(|| link.to_string());
    let found = match super::references::split_path(&path) {
        Some((p, loc, c, n)) if c == "securityPolicies" && loc == "global" => {
            let key = crate::db::sandbox::Key {
                api: super::API,
                project: &p,
                location: &loc,
                collection: &c,
                name: &n,
            };
            sql::get_resource(conn, key)
                .await?
                .filter(|r| r.visible(ctx.now))
        }
        _ => None,
    };
    let Some(policy) = found else {
        return Err(ApiError::not_found(&path));
    };
    let actual = str_field(&policy.body, "type").unwrap_or("CLOUD_ARMOR");
    if actual != kind {
        // Google's wording is UNCONFIRMED; this follows its "Invalid value for field" form.
        return Err(ApiError::invalid(
            "securityPolicy",
            link,
            &format!(
                "The security policy is of type {actual}; {verb} takes a policy of type {kind}."
            ),
        ));
    }
    body[field] = json!(ctx.link(&path));
    Ok(())
}
