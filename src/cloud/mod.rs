//! The Google Cloud boundary: the REST client for Compute Engine v1 and Cloud Run v2, its auth,
//! and the sandbox cloud that implements the same REST API locally.

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
