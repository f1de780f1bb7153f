//! HTTP-level tests: the panel, its JSON API and the cloud client against the sandbox, each over a
//! real socket with a real SQLite file. One module per area.

mod cloud_auth;
mod cloud_client;
mod cloud_contract;
mod cloud_run;
mod cloud_sandbox;
mod cloud_support;
mod healthz;
