//! Access tokens for the REST client, through gcp_auth.
//!
//! `--gcp google` uses Application Default Credentials, discovered lazily on the first call:
//! `gcp_auth::provider()` probes the metadata server, which must not happen at start-up or in
//! sandbox mode. The sandbox uses the same service-account flow with a generated key whose
//! `token_uri` is the sandbox's token endpoint, so both modes exercise one code path.
//! Tokens are never logged: they only leave this module inside an `Authorization` header that
//! reqwest marks as sensitive.

use super::error::CloudError;
use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Covers Compute Engine and Cloud Run alike.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Where the client gets a bearer token for each request.
#[async_trait]
pub trait TokenSource: Send + Sync {
    async fn token(&self) -> Result<String, CloudError>;
}

/// Tokens from gcp_auth: Application Default Credentials, or an explicit service-account key.
pub struct GcpAuthTokens {
    provider: OnceCell<Arc<dyn gcp_auth::TokenProvider>>,
}

impl GcpAuthTokens {
    /// Application Default Credentials, resolved on the first token request.
    pub fn application_default() -> Self {
        GcpAuthTokens {
            provider: OnceCell::new(),
        }
    }

    /// A service-account key (the JSON of a key file). Its `token_uri` is where tokens come from.
    pub fn service_account_json(json: &str) -> Result<Self, CloudError> {
        let account = gcp_auth::CustomServiceAccount::from_json(json).map_err(|e| {
            CloudError::Unauthenticated {
                message: format!("the service-account key cannot be used: {e}"),
            }
        })?;
        Ok(Self::from_provider(Arc::new(account)))
    }

    pub fn from_provider(provider: Arc<dyn gcp_auth::TokenProvider>) -> Self {
        GcpAuthTokens {
            provider: OnceCell::new_with(Some(provider)),
        }
    }
}

#[async_trait]
impl TokenSource for GcpAuthTokens {
    async fn token(&self) -> Result<String, CloudError> {
        let provider = self
            .provider
            .get_or_try_init(|| async {
                gcp_auth::provider()
                    .await
                    .map_err(|e| CloudError::Unauthenticated {
                        message: format!(
                            "no Google Cloud credentials found ({e}); set GOOGLE_APPLICATION_CREDENTIALS \
                             to a service-account key, run `gcloud auth application-default login`, \
                             or run on a VM with a service account"
                        ),
                    })
            })
            .await?;
        let token = provider.token(&[CLOUD_PLATFORM_SCOPE]).await.map_err(|e| {
            CloudError::Unauthenticated {
                message: format!("could not obtain an access token: {e}"),
            }
        })?;
        Ok(token.as_str().to_string())
    }
}

/// A fixed token: for tools and tests that talk to a sandbox accepting any bearer token.
pub struct StaticToken(pub String);

#[async_trait]
impl TokenSource for StaticToken {
    async fn token(&self) -> Result<String, CloudError> {
        Ok(self.0.clone())
    }
}
