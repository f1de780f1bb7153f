//! HTTP-level tests: the panel, its JSON API and the cloud client against the sandbox, each over a
//! real socket with a real SQLite file. One module per area.

#[path = "../common/mod.rs"]
pub mod common;
#[path = "../common/hand_built.rs"]
mod hand_built;
#[path = "../common/sandbox_apply.rs"]
mod sandbox_apply;

mod adopt;
mod adopt_seeds;
mod auth;
mod authz_matrix;
mod canary;
mod certificate_manager;
mod chain;
mod chain_wizard;
mod cli;
mod cloud_auth;
mod cloud_client;
mod cloud_contract;
mod cloud_pickers;
mod cloud_run;
mod cloud_sandbox;
mod cloud_scale;
mod cloud_support;
mod cloud_traffic;
mod conformance_auth;
mod conformance_compute;
mod conformance_frontend;
mod conformance_in_use;
mod conformance_jobs;
mod conformance_lists;
mod conformance_negs;
mod conformance_requests;
mod conformance_run;
mod conformance_support;
mod conformance_urlmaps;
mod cross_project;
mod dash_audit;
mod dash_certificate;
mod dash_dashboard;
mod dash_drift;
mod dash_jobs;
mod dash_overview;
mod deploy;
mod deploy_certificates;
mod deployments_api;
mod deployments_fuzz;
mod deployments_pickers;
mod deployments_support;
mod deployments_wizard;
mod edge_frontend;
mod edge_frontend_wizard;
mod edge_security;
mod env_values;
mod errors;
mod healthz;
mod job_control;
mod job_waits;
mod multi_region;
mod orphans;
mod pinned_plans;
mod rollout;
mod run_services;
mod traffic;
