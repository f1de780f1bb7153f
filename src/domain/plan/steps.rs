//! `steps`: the plan as a graph of REST calls, ordered so every call's prerequisites come first.
//!
//! Creation follows references (NEG → backend service → URL map → proxy → forwarding rule, with
//! certificate → HTTPS proxy and address → forwarding rule). A delete waits for every step that
//! makes a referrer let go of the resource and for the deletion of every referrer, which gives
//! both the reverse order on destroy and make-before-break on a change: a certificate whose
//! domains change is created under its new name, swapped on the proxy, and only then deleted.

use super::diff::mentions;
use super::{
    Action, Api, Call, INVOKER_ROLE, PUBLIC_MEMBER, Plan, PlanEntry, PlanError, ResourceKind,
    Scope, StepAction, StepSpec, Verb, link_path,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// `projects/P/global/targetHttpsProxies/N` → `projects/P/targetHttpsProxies/N`: the proxies'
/// `setUrlMap` and `setSslCertificates` paths have no `/global/` segment (docs/google-cloud.md §7).
fn without_global(id: &str) -> String {
    id.replacen("/global/", "/", 1)
}

fn collection_path(id: &str) -> &str {
    id.rsplit_once('/').map(|(c, _)| c).unwrap_or(id)
}

struct Builder {
    steps: Vec<StepSpec>,
    /// Resource id → the steps after which it exists as desired.
    ready: BTreeMap<String, Vec<String>>,
}

impl Builder {
    fn push(
        &mut self,
        id: String,
        action: StepAction,
        resource: &str,
        depends_on: Vec<String>,
        call: Call,
    ) -> String {
        self.steps.push(StepSpec {
            id: id.clone(),
            action,
            resource: resource.to_string(),
            depends_on,
            call,
        });
        id
    }
}

fn scope_of(entry: &PlanEntry) -> Scope {
    entry.kind.scope()
}

/// A Cloud Run service: one idempotent upsert (`patch` with `allowMissing`, since Cloud Run has
/// no requestId to make a re-sent create safe), then the invoker binding once it exists. Only
/// the deploy step is returned: NEGs and canary followers need the service, not its IAM.
fn run_service_steps(
    b: &mut Builder,
    e: &PlanEntry,
    deploy: bool,
    iam: bool,
    after: Vec<String>,
) -> Vec<String> {
    let Some(d) = &e.desired else {
        return Vec::new();
    };
    let mut ready = Vec::new();
    let mut iam_after = after.clone();
    if deploy {
        let (prefix, action) = match e.action {
            Action::Create => ("create", StepAction::Create),
            _ => ("update", StepAction::Update),
        };
        let id = b.push(
            format!("{prefix}:{}", e.resource),
            action,
            &e.resource,
            after,
            Call {
                api: Api::Run,
                verb: Verb::Patch,
                path: format!("{}?allowMissing=true", e.resource),
                body: Some(d.body.clone()),
                scope: scope_of(e),
                needs_fingerprint: false,
            },
        );
        iam_after = vec![id.clone()];
        ready.push(id);
    }
    if iam && let Some(public) = d.public {
        b.push(
            format!("update:{}:setIamPolicy", e.resource),
            StepAction::Update,
            &e.resource,
            iam_after,
            Call {
                api: Api::Run,
                verb: Verb::Post,
                path: format!("{}:setIamPolicy", e.resource),
                body: Some(json!({
                    "role": INVOKER_ROLE,
                    "member": PUBLIC_MEMBER,
                    "present": public,
                })),
                scope: scope_of(e),
                needs_fingerprint: false,
            },
        );
    }
    ready
}

fn create_steps(b: &mut Builder, e: &PlanEntry, after: Vec<String>) -> Vec<String> {
    let Some(d) = &e.desired else {
        return Vec::new();
    };
    if matches!(e.kind, ResourceKind::RunService { .. }) {
        return run_service_steps(b, e, true, true, after);
    }
    let create = b.push(
        format!("create:{}", e.resource),
        StepAction::Create,
        &e.resource,
        after,
        Call {
            api: Api::Compute,
            verb: Verb::Post,
            path: collection_path(&e.resource).to_string(),
            body: Some(d.body.clone()),
            scope: scope_of(e),
            needs_fingerprint: false,
        },
    );
    let mut ready = vec![create.clone()];
    if let Some(endpoint) = &d.endpoint {
        ready.push(attach_step(b, e, vec![create], endpoint));
    }
    ready
}

fn attach_step(
    b: &mut Builder,
    e: &PlanEntry,
    after: Vec<String>,
    endpoint: &super::NetworkEndpoint,
) -> String {
    b.push(
        format!("update:{}:attachNetworkEndpoints", e.resource),
        StepAction::Update,
        &e.resource,
        after,
        Call {
            api: Api::Compute,
            verb: Verb::Post,
            path: format!("{}/attachNetworkEndpoints", e.resource),
            body: Some(json!({
                "networkEndpoints": [{ "fqdn": endpoint.fqdn, "port": endpoint.port }]
            })),
            scope: scope_of(e),
            needs_fingerprint: false,
        },
    )
}

fn put_step(b: &mut Builder, e: &PlanEntry, id: String, body: Value, after: Vec<String>) -> String {
    b.push(
        id,
        StepAction::Update,
        &e.resource,
        after,
        Call {
            api: Api::Compute,
            verb: Verb::Put,
            path: e.resource.clone(),
            body: Some(body),
            scope: scope_of(e),
            needs_fingerprint: true,
        },
    )
}

fn update_steps(
    b: &mut Builder,
    e: &PlanEntry,
    fields: &[String],
    after: Vec<String>,
) -> Vec<String> {
    let Some(d) = &e.desired else {
        return Vec::new();
    };
    let setter = |b: &mut Builder, verb: &str, path: String, body: Value| {
        b.push(
            format!("update:{}:{verb}", e.resource),
            StepAction::Update,
            &e.resource,
            after.clone(),
            Call {
                api: Api::Compute,
                verb: Verb::Post,
                path: format!("{path}/{verb}"),
                body: Some(body),
                scope: scope_of(e),
                needs_fingerprint: false,
            },
        )
    };
    match &e.kind {
        ResourceKind::RunService { .. } => {
            let deploy = fields.iter().any(|f| f != "public access");
            let iam = fields.iter().any(|f| f == "public access");
            run_service_steps(b, e, deploy, iam, after)
        }
        ResourceKind::TargetHttpsProxy | ResourceKind::TargetHttpProxy => {
            let mut out = Vec::new();
            if fields.iter().any(|f| f == "urlMap") {
                let body = json!({ "urlMap": d.body["urlMap"] });
                out.push(setter(b, "setUrlMap", without_global(&e.resource), body));
            }
            if fields.iter().any(|f| f == "sslCertificates") {
                let body = json!({ "sslCertificates": d.body["sslCertificates"] });
                out.push(setter(
                    b,
                    "setSslCertificates",
                    without_global(&e.resource),
                    body,
                ));
            }
            out
        }
        ResourceKind::GlobalForwardingRule => {
            let body = json!({ "target": d.body["target"] });
            vec![setter(b, "setTarget", e.resource.clone(), body)]
        }
        ResourceKind::InternetNeg => match &d.endpoint {
            Some(endpoint) => vec![attach_step(b, e, after, endpoint)],
            None => Vec::new(),
        },
        _ => vec![put_step(
            b,
            e,
            format!("update:{}", e.resource),
            d.body.clone(),
            after,
        )],
    }
}

fn delete_step(b: &mut Builder, e: &PlanEntry) -> String {
    b.push(
        format!("delete:{}", e.resource),
        StepAction::Delete,
        &e.resource,
        Vec::new(),
        Call {
            api: match e.kind {
                ResourceKind::RunService { .. } => Api::Run,
                _ => Api::Compute,
            },
            verb: Verb::Delete,
            path: e.resource.clone(),
            body: None,
            scope: scope_of(e),
            needs_fingerprint: false,
        },
    )
}

/// The calls that carry out `plan`, in an order that respects their dependencies. Refuses a
/// plan with conflicts.
pub fn steps(plan: &Plan) -> Result<Vec<StepSpec>, PlanError> {
    if plan.is_blocked() {
        return Err(PlanError::Conflicts(plan.conflicts.clone()));
    }
    let mut b = Builder {
        steps: Vec::new(),
        ready: BTreeMap::new(),
    };
    let by_id: BTreeMap<&str, &PlanEntry> = plan
        .entries
        .iter()
        .map(|e| (e.resource.as_str(), e))
        .collect();

    // Deletes first (their dependencies are filled in at the end), so creates of replaced
    // resources can wait for them.
    let mut deleted: BTreeMap<String, String> = BTreeMap::new();
    for e in &plan.entries {
        if matches!(e.action, Action::Delete | Action::Replace { .. }) {
            deleted.insert(e.resource.clone(), delete_step(&mut b, e));
        }
    }

    // Backend services that keep a NEG being replaced under the same name must let go of it
    // first: one update without those groups, and the full update once the new NEGs exist.
    let mut detached: BTreeSet<String> = BTreeSet::new();
    for e in &plan.entries {
        let Some(d) = &e.desired else { continue };
        if e.kind != ResourceKind::BackendService
            || !matches!(e.action, Action::Noop | Action::Update { .. })
        {
            continue;
        }
        let replaced: Vec<&String> = d
            .depends_on
            .iter()
            .filter(|dep| {
                by_id
                    .get(dep.as_str())
                    .is_some_and(|x| matches!(x.action, Action::Replace { .. }))
            })
            .collect();
        if replaced.is_empty() {
            continue;
        }
        let mut body = d.body.clone();
        if let Some(backends) = body.get_mut("backends").and_then(Value::as_array_mut) {
            backends.retain(|g| {
                let group = g.get("group").and_then(Value::as_str).unwrap_or_default();
                !replaced.iter().any(|r| link_path(group) == r.as_str())
            });
        }
        put_step(
            &mut b,
            e,
            format!("update:{}:detach", e.resource),
            body,
            Vec::new(),
        );
        detached.insert(e.resource.clone());
    }

    // Creates and updates, dependencies first (the desired graph is already in that order).
    for e in &plan.entries {
        let Some(d) = &e.desired else { continue };
        let mut after: Vec<String> = d
            .depends_on
            .iter()
            .flat_map(|dep| b.ready.get(dep).cloned().unwrap_or_default())
            .collect();
        if let Some(del) = deleted.get(&e.resource) {
            after.push(del.clone());
        }
        let ready = match &e.action {
            Action::Create | Action::Replace { .. } => create_steps(&mut b, e, after),
            Action::Update { fields } => update_steps(&mut b, e, fields, after),
            Action::Noop if detached.contains(&e.resource) => vec![put_step(
                &mut b,
                e,
                format!("update:{}", e.resource),
                d.body.clone(),
                after,
            )],
            Action::Noop | Action::Delete => Vec::new(),
        };
        b.ready.insert(e.resource.clone(), ready);
    }

    // A delete waits for the deletion of every referrer, and for every step by which a
    // referrer stops pointing at the resource.
    for e in &plan.entries {
        let Some(del) = deleted.get(&e.resource) else {
            continue;
        };
        let mut deps = Vec::new();
        for s in &b.steps {
            let Some(owner) = by_id.get(s.resource.as_str()) else {
                continue;
            };
            if s.id == *del || !owner.kind.can_reference(&e.kind) {
                continue;
            }
            let lets_go = match s.action {
                StepAction::Delete => true,
                _ => !s
                    .call
                    .body
                    .as_ref()
                    .is_some_and(|body| mentions(body, &e.resource)),
            };
            if lets_go {
                deps.push(s.id.clone());
            }
        }
        if let Some(step) = b.steps.iter_mut().find(|s| s.id == *del) {
            step.depends_on = deps;
        }
    }

    // Creates and updates read first, deletes after, wherever the dependencies allow it.
    let mut ordered = b.steps;
    ordered.sort_by_key(|s| s.action == StepAction::Delete);
    topological(ordered)
}

/// Orders steps so that each comes after its dependencies, keeping the build order otherwise.
fn topological(steps: Vec<StepSpec>) -> Result<Vec<StepSpec>, PlanError> {
    let mut remaining = steps;
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let pos = remaining
            .iter()
            .position(|s| s.depends_on.iter().all(|d| done.contains(d)));
        match pos {
            Some(i) => {
                let s = remaining.remove(i);
                done.insert(s.id.clone());
                out.push(s);
            }
            None => return Err(PlanError::Cycle(remaining[0].id.clone())),
        }
    }
    Ok(out)
}
