//! Planning: from a spec to the Compute resources it needs (`compile`), from those and what the
//! cloud holds now to a list of changes (`diff`), and from the changes to an ordered graph of API
//! calls (`steps`). Pure functions: reading the live resources and making the calls belong to the
//! caller (the job runner's executor and live reader).
//!
//! The URL maps a spec needs (`url_map`, `redirect_map`) are public: the route preview, lint,
//! validator and gcloud export read the same maps the planner sends.

pub mod access;
mod canary;
mod compile;
mod diff;
mod owners;
mod ownership;
mod risks;
mod steps;
pub mod summary;
mod urlmap_body;

pub use crate::domain::links::{full_url, link_path};
pub use canary::held as canary_held;
pub use compile::{compile, compile_chained};
pub use diff::{destroy, destroy_adopted, diff, is_empty_default};
pub use owners::{OtherDeployment, Whose, claim_others};
pub use ownership::{Ownership, RecordedIn};
pub use risks::Risk;
pub use steps::steps;
pub use urlmap_body::{path_matcher_name, redirect_map, url_map};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Where a resource lives, which is also where its operations are polled (docs/google-cloud.md §9).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "region", rename_all = "lowercase")]
pub enum Scope {
    Global,
    Region(String),
}

/// The Compute resource kinds a deployment is made of.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    ServerlessNeg {
        region: String,
    },
    InternetNeg,
    BackendService,
    UrlMap,
    RedirectUrlMap,
    SslCertificate,
    TargetHttpsProxy,
    TargetHttpProxy,
    GlobalAddress,
    GlobalForwardingRule,
    /// A Cloud Run service in one region (Cloud Run Admin v2, not Compute).
    RunService {
        region: String,
    },
    /// Certificate Manager (location `global`): proof of control of a domain through a CNAME.
    DnsAuthorization,
    /// Certificate Manager: a Google-managed certificate for one domain, authorised by DNS.
    ManagedCertificate,
    /// Certificate Manager: what the HTTPS proxy serves certificates from, by SNI.
    CertificateMap,
    /// Certificate Manager: one hostname (or the primary entry) of `map`.
    CertificateMapEntry {
        map: String,
    },
    /// The HTTPS proxy's SSL policy (`frontend.ssl_policy`): minimum TLS version and profile.
    SslPolicy,
}

impl ResourceKind {
    /// The REST collection, as it appears in resource paths.
    pub fn collection(&self) -> &'static str {
        match self {
            ResourceKind::ServerlessNeg { .. } | ResourceKind::InternetNeg => {
                "networkEndpointGroups"
            }
            ResourceKind::BackendService => "backendServices",
            ResourceKind::UrlMap | ResourceKind::RedirectUrlMap => "urlMaps",
            ResourceKind::SslCertificate => "sslCertificates",
            ResourceKind::TargetHttpsProxy => "targetHttpsProxies",
            ResourceKind::TargetHttpProxy => "targetHttpProxies",
            ResourceKind::GlobalAddress => "addresses",
            ResourceKind::GlobalForwardingRule => "forwardingRules",
            ResourceKind::RunService { .. } => "services",
            ResourceKind::DnsAuthorization => "dnsAuthorizations",
            ResourceKind::ManagedCertificate => "certificates",
            ResourceKind::CertificateMap => "certificateMaps",
            ResourceKind::CertificateMapEntry { .. } => "certificateMapEntries",
            ResourceKind::SslPolicy => "sslPolicies",
        }
    }

    /// Whether the resource lives in Certificate Manager rather than Compute or Cloud Run.
    pub fn is_certificate_manager(&self) -> bool {
        matches!(
            self,
            ResourceKind::DnsAuthorization
                | ResourceKind::ManagedCertificate
                | ResourceKind::CertificateMap
                | ResourceKind::CertificateMapEntry { .. }
        )
    }

    /// The API whose calls create, change and delete this kind.
    pub fn api(&self) -> Api {
        match self {
            ResourceKind::RunService { .. } => Api::Run,
            k if k.is_certificate_manager() => Api::CertificateManager,
            _ => Api::Compute,
        }
    }

    pub fn scope(&self) -> Scope {
        match self {
            ResourceKind::ServerlessNeg { region } | ResourceKind::RunService { region } => {
                Scope::Region(region.clone())
            }
            _ => Scope::Global,
        }
    }

    /// Position in the delete order (docs/google-cloud.md §10): forwarding rule first, address last.
    /// Creation runs the other way round.
    pub fn delete_rank(&self) -> u8 {
        match self {
            ResourceKind::GlobalForwardingRule => 0,
            ResourceKind::TargetHttpsProxy | ResourceKind::TargetHttpProxy => 1,
            ResourceKind::UrlMap
            | ResourceKind::RedirectUrlMap
            | ResourceKind::SslCertificate
            | ResourceKind::SslPolicy
            | ResourceKind::CertificateMapEntry { .. } => 2,
            ResourceKind::BackendService | ResourceKind::CertificateMap => 3,
            ResourceKind::ServerlessNeg { .. }
            | ResourceKind::InternetNeg
            | ResourceKind::ManagedCertificate => 4,
            ResourceKind::GlobalAddress | ResourceKind::DnsAuthorization => 5,
            // A serverless NEG names its service without holding it, so Cloud Run would let the
            // service go first; deleting it last keeps the NEGs from pointing at nothing.
            ResourceKind::RunService { .. } => 6,
        }
    }

    /// True when `self` is a kind of resource that can hold a reference to a `target` resource,
    /// so deleting `target` has to wait until `self` lets go of it.
    pub fn can_reference(&self, target: &ResourceKind) -> bool {
        use ResourceKind::*;
        matches!(
            (self, target),
            (BackendService, ServerlessNeg { .. } | InternetNeg)
                | (ServerlessNeg { .. }, RunService { .. })
                | (UrlMap | RedirectUrlMap, BackendService)
                | (
                    TargetHttpsProxy,
                    UrlMap | RedirectUrlMap | SslCertificate | CertificateMap | SslPolicy
                )
                // The proxy serves what its map's entries hold: no entry goes before the map
                // is detached from it.
                | (TargetHttpsProxy, CertificateMapEntry { .. })
                // An entry lives inside its map, which cannot be deleted before it.
                | (CertificateMapEntry { .. }, CertificateMap | ManagedCertificate)
                | (ManagedCertificate, DnsAuthorization)
                | (TargetHttpProxy, UrlMap | RedirectUrlMap)
                | (
                    GlobalForwardingRule,
                    TargetHttpsProxy | TargetHttpProxy | GlobalAddress
                )
        )
    }

    /// Whether the API can change this resource in place (with update/patch or a set* verb).
    /// NEGs, certificates and addresses can only be deleted and created again.
    pub fn is_mutable(&self) -> bool {
        !matches!(
            self,
            ResourceKind::ServerlessNeg { .. }
                | ResourceKind::InternetNeg
                | ResourceKind::SslCertificate
                | ResourceKind::GlobalAddress
                | ResourceKind::DnsAuthorization
                | ResourceKind::ManagedCertificate
        )
    }

    /// Settings of a live resource that the spec has no word for and plans never compare
    /// (response headers on a backend service): an update that replaces the whole resource
    /// sends them back as they are, so what was set outside the panel, or kept when a load
    /// balancer was adopted, survives it.
    pub fn carried_fields(&self) -> &'static [&'static str] {
        match self {
            ResourceKind::BackendService => &["customResponseHeaders"],
            _ => &[],
        }
    }

    /// Fields of the desired body that are output-only in the API and set by a verb of their
    /// own (`setSecurityPolicy`, `setEdgeSecurityPolicy`): compared like the others, never
    /// sent in an insert or update.
    pub fn set_by_verb(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            ResourceKind::BackendService => &[
                ("securityPolicy", "setSecurityPolicy"),
                ("edgeSecurityPolicy", "setEdgeSecurityPolicy"),
            ],
            _ => &[],
        }
    }

    /// Recovers the kind from a resource path (`projects/P/global/urlMaps/N`), for live
    /// resources that no desired resource accounts for. URL maps are told apart by name.
    pub fn from_path(path: &str, deployment: &str) -> Option<ResourceKind> {
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            ["projects", _, "regions", region, "networkEndpointGroups", _] => {
                Some(ResourceKind::ServerlessNeg {
                    region: (*region).to_string(),
                })
            }
            ["projects", _, "locations", region, "services", _] => Some(ResourceKind::RunService {
                region: (*region).to_string(),
            }),
            ["projects", _, "locations", "global", collection, _] => match *collection {
                "dnsAuthorizations" => Some(ResourceKind::DnsAuthorization),
                "certificates" => Some(ResourceKind::ManagedCertificate),
                "certificateMaps" => Some(ResourceKind::CertificateMap),
                _ => None,
            },
            [
                "projects",
                _,
                "locations",
                "global",
                "certificateMaps",
                map,
                "certificateMapEntries",
                _,
            ] => Some(ResourceKind::CertificateMapEntry {
                map: (*map).to_string(),
            }),
            ["projects", _, "global", collection, name] => Some(match *collection {
                "networkEndpointGroups" => ResourceKind::InternetNeg,
                "backendServices" => ResourceKind::BackendService,
                "urlMaps" if *name == crate::domain::names::redirect_url_map(deployment) => {
                    ResourceKind::RedirectUrlMap
                }
                "urlMaps" => ResourceKind::UrlMap,
                "sslCertificates" => ResourceKind::SslCertificate,
                "sslPolicies" => ResourceKind::SslPolicy,
                "targetHttpsProxies" => ResourceKind::TargetHttpsProxy,
                "targetHttpProxies" => ResourceKind::TargetHttpProxy,
                "addresses" => ResourceKind::GlobalAddress,
                "forwardingRules" => ResourceKind::GlobalForwardingRule,
                _ => return None,
            }),
            _ => None,
        }
    }
}

/// Resource path in the form the API uses in links and that we use as the resource's id:
/// `projects/P/global/urlMaps/N` or `projects/P/regions/R/networkEndpointGroups/N`; for Cloud
/// Run and Certificate Manager, their own name form `projects/P/locations/L/services/N`.
pub fn resource_path(project: &str, kind: &ResourceKind, name: &str) -> String {
    match kind {
        ResourceKind::RunService { region } => {
            return format!("projects/{project}/locations/{region}/services/{name}");
        }
        ResourceKind::CertificateMapEntry { map } => {
            return format!(
                "projects/{project}/locations/global/certificateMaps/{map}/certificateMapEntries/{name}"
            );
        }
        k if k.is_certificate_manager() => {
            return format!(
                "projects/{project}/locations/global/{}/{name}",
                k.collection()
            );
        }
        _ => {}
    }
    match kind.scope() {
        Scope::Global => format!("projects/{project}/global/{}/{name}", kind.collection()),
        Scope::Region(region) => {
            format!(
                "projects/{project}/regions/{region}/{}/{name}",
                kind.collection()
            )
        }
    }
}

/// An endpoint attached to an internet NEG after it is created: an FQDN (`INTERNET_FQDN_PORT`)
/// or an IP address (`INTERNET_IP_PORT`). Plans stored before IP endpoints have `fqdn` only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkEndpoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    pub port: u16,
}

impl NetworkEndpoint {
    /// The endpoint as Compute's `NetworkEndpoint` JSON (attach bodies, listNetworkEndpoints).
    pub fn api_json(&self) -> Value {
        match (&self.fqdn, &self.ip_address) {
            (Some(fqdn), _) => serde_json::json!({ "fqdn": fqdn, "port": self.port }),
            (None, ip) => serde_json::json!({ "ipAddress": ip, "port": self.port }),
        }
    }

    /// `fqdn=NAME,port=P` or `ip=ADDRESS,port=P`, as gcloud's `--add-endpoint` takes it.
    pub fn gcloud_arg(&self) -> String {
        match (&self.fqdn, &self.ip_address) {
            (Some(fqdn), _) => format!("fqdn={fqdn},port={}", self.port),
            (None, ip) => format!(
                "ip={},port={}",
                ip.as_deref().unwrap_or_default(),
                self.port
            ),
        }
    }
}

/// One Compute resource the spec needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredResource {
    pub kind: ResourceKind,
    pub name: String,
    pub scope: Scope,
    /// Resource path, also the resource's id in plans and live maps.
    pub id: String,
    /// The insert body, in Compute's JSON.
    pub body: Value,
    /// Ids of the resources this one references (they must exist first).
    pub depends_on: Vec<String>,
    /// For internet NEGs: the endpoint to attach once the NEG exists.
    pub endpoint: Option<NetworkEndpoint>,
    /// For Cloud Run services: whether `allUsers` holds `roles/run.invoker` (IAM is a separate
    /// policy, not part of the service body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
}

/// Everything one deployment needs, in creation order (dependencies first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredGraph {
    pub deployment: String,
    pub project: String,
    pub resources: Vec<DesiredResource>,
    /// Ids of the resources kept under names the deployment adopted (`spec.names`): theirs
    /// although they carry no owner marker.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adopted: Vec<String>,
}

impl DesiredGraph {
    pub fn get(&self, id: &str) -> Option<&DesiredResource> {
        self.resources.iter().find(|r| r.id == id)
    }
}

/// What the cloud holds now: resource id → the resource as `get` returned it, or `None` when it
/// does not exist. The caller reads every desired id plus every resource whose name starts with
/// the deployment's prefix (the candidates for deletion).
pub type LiveState = BTreeMap<String, Option<Value>>;

/// One changed field: its dotted path and both values (absent = `null`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub live: Value,
    pub desired: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Action {
    Create,
    Update { fields: Vec<String> },
    Replace { reason: String },
    Delete,
    Noop,
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update { .. } => "update",
            Action::Replace { .. } => "replace",
            Action::Delete => "delete",
            Action::Noop => "noop",
        }
    }
}

/// The plan's verdict on one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanEntry {
    pub resource: String,
    pub kind: ResourceKind,
    pub name: String,
    pub action: Action,
    pub changes: Vec<FieldChange>,
    /// What we want (absent for deletes).
    pub desired: Option<DesiredResource>,
    /// What exists (absent for creates).
    pub live: Option<Value>,
}

/// A resource the plan must not touch: it has the name we need but someone else owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub resource: String,
    pub owner: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub deployment: String,
    pub project: String,
    /// Desired resources in creation order, then deletions.
    pub entries: Vec<PlanEntry>,
    /// Any conflict stops the plan from being applied.
    pub conflicts: Vec<Conflict>,
    pub warnings: Vec<String>,
    /// What applying can interrupt or move, in words; applying then needs a confirmation.
    #[serde(default)]
    pub risks: Vec<Risk>,
    /// Backends that follow another deployment, with what each was resolved to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chains: Vec<crate::domain::chain::Hop>,
    /// Adopted resources that stay, with where applying records the deployment's claim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ownership: Vec<Ownership>,
    /// The spec's image canary: a new revision in its region holds and is judged before the
    /// other regions get it (`canary`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<crate::domain::rollout::CanaryGate>,
}

/// How many resources each action touches (the counter at the top of a plan).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub noop: usize,
}

impl Plan {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for e in &self.entries {
            match e.action {
                Action::Create => c.create += 1,
                Action::Update { .. } => c.update += 1,
                Action::Replace { .. } => c.replace += 1,
                Action::Delete => c.delete += 1,
                Action::Noop => c.noop += 1,
            }
        }
        c
    }

    pub fn is_blocked(&self) -> bool {
        !self.conflicts.is_empty()
    }

    /// The plan in the JSON API's shape (docs/contract.md §3):
    /// `{"actions": [{"action", "resource", "diff"}], "conflicts", "warnings"}`.
    pub fn api_json(&self) -> Value {
        let actions: Vec<Value> = self
            .entries
            .iter()
            .map(|e| {
                let diff = match &e.action {
                    Action::Replace { reason } => {
                        serde_json::json!({ "reason": reason, "changes": e.changes })
                    }
                    _ => serde_json::json!({ "changes": e.changes }),
                };
                serde_json::json!({
                    "action": e.action.name(),
                    "resource": e.resource,
                    "location": summary::location(&e.kind),
                    "summary": summary::summary(e),
                    "diff": diff,
                })
            })
            .collect();
        serde_json::json!({
            "actions": actions,
            "counts": self.counts(),
            "risks": self.risks,
            "chains": self.chains,
            "ownership": self.ownership,
            "canary": canary::held(self)
                .into_iter()
                .map(|(e, stage)| serde_json::json!({
                    "resource": e.resource,
                    "region": stage.canary_region,
                    "revision": stage.weights.join("; "),
                    "soak_seconds": stage.gate.soak_seconds,
                    "max_error_ratio": stage.gate.max_error_ratio,
                    "max_p95_ms": stage.gate.max_p95_ms,
                    "judged_backends": stage.backends,
                }))
                .collect::<Vec<_>>(),
            "conflicts": self.conflicts,
            "warnings": self.warnings,
        })
    }

    /// True when applying would change nothing.
    pub fn is_noop(&self) -> bool {
        self.entries.iter().all(|e| e.action == Action::Noop)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

/// Which Google API a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// Compute Engine v1; what jobs stored before Cloud Run support hold (the serde default).
    #[default]
    Compute,
    /// Cloud Run Admin v2.
    Run,
    /// Certificate Manager v1: DNS authorizations, certificates, maps and their entries.
    #[serde(rename = "certificatemanager")]
    CertificateManager,
}

/// The role and member that make a Cloud Run service callable without authentication.
pub const INVOKER_ROLE: &str = "roles/run.invoker";
pub const PUBLIC_MEMBER: &str = "allUsers";

/// One REST call, fully described so the job can be stored and replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    #[serde(default, skip_serializing_if = "is_compute")]
    pub api: Api,
    pub verb: Verb,
    /// Path under the API's base URL, e.g. `projects/P/global/urlMaps` for an insert; a Cloud
    /// Run path may carry a query (`...services/S?allowMissing=true`).
    pub path: String,
    pub body: Option<Value>,
    /// Where the returned operation lives.
    pub scope: Scope,
    /// `update` needs the resource's current fingerprint; the executor reads it right before the
    /// call because a fingerprint stored at plan time may be stale by then.
    pub needs_fingerprint: bool,
}

fn is_compute(api: &Api) -> bool {
    *api == Api::Compute
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepAction {
    Create,
    Update,
    Delete,
    /// Changes nothing: polls a new managed certificate until Google has issued it, so nothing
    /// that serves traffic moves onto it before it can serve (its call is the certificate's GET).
    Wait,
    /// One stage of a gated rollout (`domain::rollout`): puts the stage's URL map in place,
    /// holds it, judges its metrics, and puts the previous URL map back on a breach.
    Soak,
}

impl StepAction {
    pub fn as_str(&self) -> &'static str {
        match self {
            StepAction::Create => "create",
            StepAction::Update => "update",
            StepAction::Delete => "delete",
            StepAction::Wait => "wait",
            StepAction::Soak => "soak",
        }
    }
}

/// One call in a job, with the steps that must succeed before it may start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepSpec {
    /// Stable within a plan: `{action}:{resource}` plus a suffix for secondary calls.
    pub id: String,
    pub action: StepAction,
    pub resource: String,
    pub depends_on: Vec<String>,
    pub call: Call,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("the plan has conflicts: {}", .0.iter().map(|c| c.message.as_str()).collect::<Vec<_>>().join("; "))]
    Conflicts(Vec<Conflict>),
    #[error("internal planning error: the steps form a cycle through {0}")]
    Cycle(String),
}

#[cfg(test)]
mod tests;
