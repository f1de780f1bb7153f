//! The real gcp_auth service-account flow against the sandbox's token endpoint.

use crate::cloud_support::{P, fast_config, start};
use aws_lc_rs::encoding::AsDer;
use base64::Engine;
use std::sync::Arc;
use switchyard::cloud::{
    Client, ClientConfig, CloudError, GcpAuthTokens, RetryPolicy, StaticToken, TokenSource,
};

fn client_with(cloud: &crate::cloud_support::TestCloud, tokens: Arc<dyn TokenSource>) -> Client {
    let mut config = ClientConfig::new(
        &cloud.handle.compute_endpoint(),
        &cloud.handle.run_endpoint(),
    );
    config.retry = RetryPolicy::fast();
    Client::new(config, tokens).unwrap()
}

#[tokio::test]
async fn a_key_file_pointing_at_the_sandbox_token_endpoint_authenticates() {
    let cloud = start(fast_config()).await;
    let key = cloud.handle.sandbox.service_account_key_json();
    let parsed: serde_json::Value = serde_json::from_str(&key).unwrap();
    assert_eq!(parsed["token_uri"], cloud.handle.token_uri());
    assert!(
        parsed["private_key"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----\n")
    );
    let path = cloud.dir.path().join("key.json");
    std::fs::write(&path, &key).unwrap();
    let account = gcp_auth::CustomServiceAccount::from_file(&path).unwrap();
    let tokens = GcpAuthTokens::from_provider(Arc::new(account));
    let token = tokens.token().await.unwrap();
    assert!(token.starts_with("ya29.sandbox-"));
    let client = client_with(&cloud, Arc::new(tokens));
    assert!(client.global_addresses(P).list().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_key_the_sandbox_did_not_issue_is_refused_at_the_token_endpoint() {
    let cloud = start(fast_config()).await;
    let mut key: serde_json::Value =
        serde_json::from_str(&cloud.handle.sandbox.service_account_key_json()).unwrap();
    let other = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let der = other.as_der().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let body: Vec<String> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    key["private_key"] = serde_json::json!(format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        body.join("\n")
    ));
    let tokens = GcpAuthTokens::service_account_json(&key.to_string()).unwrap();
    let client = client_with(&cloud, Arc::new(tokens));
    let err = client.global_addresses(P).list().await.unwrap_err();
    assert!(matches!(err, CloudError::Unauthenticated { .. }), "{err:?}");
    assert_eq!(
        cloud.handle.sandbox.request_count(),
        0,
        "no API call without a token"
    );
}

#[tokio::test]
async fn an_unknown_bearer_token_is_unauthenticated_and_not_retried() {
    let cloud = start(fast_config()).await;
    let client = client_with(&cloud, Arc::new(StaticToken("ya29.not-issued".into())));
    let err = client
        .run_services(P, "us-central1")
        .list()
        .await
        .unwrap_err();
    assert!(matches!(err, CloudError::Unauthenticated { .. }), "{err:?}");
    assert_eq!(cloud.handle.sandbox.request_count(), 1);
}

#[tokio::test]
async fn the_key_is_kept_across_restarts() {
    let cloud = start(fast_config()).await;
    let key1: serde_json::Value =
        serde_json::from_str(&cloud.handle.sandbox.service_account_key_json()).unwrap();
    let crate::cloud_support::TestCloud { handle, dir, .. } = cloud;
    handle.stop().await;
    let again = crate::cloud_support::start_in(dir, fast_config()).await;
    let key2: serde_json::Value =
        serde_json::from_str(&again.handle.sandbox.service_account_key_json()).unwrap();
    assert_eq!(key1["private_key"], key2["private_key"]);
}
