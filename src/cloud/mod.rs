//! The Google Cloud boundary: the REST client for Compute Engine v1 and Cloud Run v2, its auth,
//! and the sandbox cloud that implements the same REST API locally.
//!
//! See the crate-level documentation of [`Client`] and the README section "Cloud client" for
//! examples; in short:
//!
//! ```no_run
//! # async fn demo(client: &switchyard::cloud::Client) -> Result<(), switchyard::cloud::CloudError> {
//! use switchyard::cloud::{CloudError, types::NetworkEndpointGroup};
//! use uuid::Uuid;
//! let negs = client.serverless_negs("acme", "us-central1");
//! // The caller chooses the requestId and stores it, so a retry after a crash reuses it.
//! let request_id = Uuid::new_v4();
//! match negs.insert(&NetworkEndpointGroup::serverless("shop-web-us-central1", "my-app"), request_id).await {
//!     Ok(op) => {
//!         // Store op.reference() (a string path) to re-poll after a restart.
//!         client.wait_operation(&op).await?;
//!     }
//!     Err(CloudError::AlreadyExists { .. }) => {}
//!     Err(e) => return Err(e),
//! }
//! let neg = negs.get("shop-web-us-central1").await?; // Option<NetworkEndpointGroup>
//! # let _ = neg; Ok(()) }
//! ```

pub mod auth;
pub mod client;
pub mod error;
pub mod retry;
pub mod types;

pub use auth::{GcpAuthTokens, StaticToken, TokenSource};
pub use client::{
    COMPUTE_LINK_BASE, Client, ClientConfig, Collection, CollectionRef, CompletedOperation,
    OperationRef, OperationState, ResourceRef, RunServices, Scope, link_path, same_resource,
};
pub use error::CloudError;
pub use retry::RetryPolicy;
pub mod sandbox;

use std::sync::Arc;

/// The client the panel uses, per `--gcp`: in sandbox mode the sandbox is started on a loopback
/// port (state in `db`) and the client reaches it over HTTP with gcp_auth and the sandbox's
/// generated service-account key; in google mode the configured endpoints and Application
/// Default Credentials, resolved on first use. Keep the returned handle alive as long as the
/// client is used: dropping it stops the sandbox.
pub async fn connect(
    settings: &crate::config::Settings,
    db: &crate::db::Db,
) -> anyhow::Result<(Arc<Client>, Option<sandbox::SandboxHandle>)> {
    match settings.gcp {
        crate::config::GcpMode::Google => {
            let config = ClientConfig::new(&settings.compute_endpoint, &settings.run_endpoint);
            let client = Client::new(config, Arc::new(GcpAuthTokens::application_default()))?;
            Ok((Arc::new(client), None))
        }
        crate::config::GcpMode::Sandbox => {
            let config = sandbox::SandboxArgs::from_env()?.to_config();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let handle = sandbox::spawn(db.clone(), config, listener).await?;
            let client = handle.client(RetryPolicy::default())?;
            Ok((Arc::new(client), Some(handle)))
        }
    }
}
