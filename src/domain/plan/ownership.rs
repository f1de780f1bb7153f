//! Where a deployment's claim on a resource it adopted is written down (docs/contract.md §3,
//! "adoption"). An adopted resource keeps its name and has no owner marker until the first
//! apply records one: in its `description` where Google lets a description change after
//! creation (a `patch` of that field alone, nothing recreated), otherwise in the panel's own
//! records only, the deployment's spec (`names`), which is what plans read it from.

use super::diff::is_owned;
use super::{Action, DesiredGraph, LiveState, PlanEntry, ResourceKind};
use crate::domain::names;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordedIn {
    /// The apply patches the resource's description to carry the owner marker.
    Description,
    /// The resource cannot carry it; the deployment's kept names are the record.
    Panel,
}

/// One adopted resource and where applying records that the deployment manages it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ownership {
    pub resource: String,
    pub recorded_in: RecordedIn,
    /// The description to write (`Description`), the team's own text kept before the marker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// In words, for the plan page.
    pub detail: String,
}

/// Kinds whose `description` Google lets a `patch` change (API-NOTES §21.3): the proxies, the
/// URL maps and backend services. Forwarding rules (patch takes `networkTier` only), addresses,
/// NEGs and SSL certificates keep the description they were created with.
fn description_patchable(kind: &ResourceKind) -> bool {
    matches!(
        kind,
        ResourceKind::UrlMap
            | ResourceKind::RedirectUrlMap
            | ResourceKind::TargetHttpsProxy
            | ResourceKind::TargetHttpProxy
            | ResourceKind::BackendService
    )
}

fn what(kind: &ResourceKind) -> &'static str {
    match kind {
        ResourceKind::GlobalForwardingRule => {
            "a forwarding rule's patch changes only its network tier"
        }
        ResourceKind::GlobalAddress => "an address has no patch",
        ResourceKind::ServerlessNeg { .. } | ResourceKind::InternetNeg => {
            "a network endpoint group has no patch"
        }
        ResourceKind::SslCertificate => "an SSL certificate has no patch",
        _ => "Google offers no way to change its description",
    }
}

/// The adopted resources of `desired` that stay in place (noop or updated) and carry no owner
/// marker yet, with where applying `entries` records the claim; empty once it is recorded.
pub(super) fn records(
    desired: &DesiredGraph,
    live: &LiveState,
    entries: &[PlanEntry],
) -> Vec<Ownership> {
    let deployment = desired.deployment.as_str();
    let mut out = Vec::new();
    for e in entries {
        if !desired.adopted.contains(&e.resource)
            || !matches!(e.action, Action::Noop | Action::Update { .. })
        {
            continue;
        }
        let Some(current) = live.get(&e.resource).cloned().flatten() else {
            continue;
        };
        if is_owned(&current, deployment) {
            continue;
        }
        let record = if description_patchable(&e.kind) {
            let theirs = current
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim();
            let marker = names::owner_marker(deployment);
            Ownership {
                resource: e.resource.clone(),
                recorded_in: RecordedIn::Description,
                description: Some(if theirs.is_empty() {
                    marker.clone()
                } else {
                    format!("{theirs} {marker}")
                }),
                detail: format!("its description gains {marker} (a patch of that field alone)"),
            }
        } else {
            Ownership {
                resource: e.resource.clone(),
                recorded_in: RecordedIn::Panel,
                description: None,
                detail: format!(
                    "in the panel's records only (the deployment's kept names): {}, so its description stays as created",
                    what(&e.kind)
                ),
            }
        };
        out.push(record);
    }
    // Once the descriptions carry the marker the adoption has been applied, and the panel's
    // records already hold the rest: nothing is left to say.
    if out.iter().all(|o| o.description.is_none()) {
        out.clear();
    }
    out
}
