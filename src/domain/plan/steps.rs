//! `steps`: the plan as a graph of REST calls, ordered so every call's prerequisites come first.
//!
//! Creation follows references (NEG → backend service → URL map → proxy → forwarding rule, with
//! certificate → HTTPS proxy and address → forwarding rule). A delete waits for every step that
//! makes a referrer let go of the resource and for the deletion of every referrer, which gives
//! both the reverse order on destroy and make-before-break on a change.
//!
//! A certificate whose domains change is created under its new name and attached to the live
//! HTTPS proxy *beside* the old one (a proxy serves each request the certificate that matches
//! its SNI); a `wait` step then holds the job until Google has issued it, and only then is the
//! old one detached and deleted. A Google-managed certificate stays PROVISIONING for minutes to
//! an hour after it is created, so swapping it in at once would break HTTPS for every domain the
//! old one covered. The same wait holds back an HTTP proxy that starts redirecting to HTTPS.

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
    /// Certificates this plan creates (classic and Certificate Manager): not ACTIVE for a
    /// while after their create succeeds.
    new_certificates: BTreeSet<String>,
    /// The redirect URL map, when the spec has one: an HTTP proxy moved onto it stops serving
    /// the site over HTTP, so the move waits for the HTTPS side to be able to serve it.
    redirect_map: Option<String>,
    /// The HTTPS forwarding rule: Google provisions a managed certificate only once it is
    /// reachable through one, so a wait for a new certificate starts after it.
    https_rule: Option<String>,
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

/// References in a body's list field, in the path form the plan uses for ids.
fn references(body: Option<&Value>, field: &str) -> Vec<String> {
    body.and_then(|b| b.get(field))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(|r| link_path(r).to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The step that holds the job until the new certificate `cert` is ACTIVE (one per
/// certificate, however many changes wait for it).
fn wait_step(b: &mut Builder, cert: &str, after: Vec<String>) -> String {
    let id = format!("wait:{cert}");
    if let Some(existing) = b.steps.iter_mut().find(|s| s.id == id) {
        for dep in after {
            if !existing.depends_on.contains(&dep) {
                existing.depends_on.push(dep);
            }
        }
        return id;
    }
    let api = match ResourceKind::from_path(cert, "") {
        Some(kind) => kind.api(),
        None => Api::Compute,
    };
    b.push(
        id,
        StepAction::Wait,
        cert,
        after,
        Call {
            api,
            verb: Verb::Get,
            path: cert.to_string(),
            body: None,
            scope: Scope::Global,
            needs_fingerprint: false,
        },
    )
}

/// Waits for every certificate the plan creates, once the HTTPS frontend that will serve them
/// exists (the steps that make the HTTPS forwarding rule ready, or `fallback`).
fn waits_for_new_certificates(b: &mut Builder, fallback: &[String]) -> Vec<String> {
    let after = b
        .https_rule
        .as_ref()
        .and_then(|rule| b.ready.get(rule))
        .filter(|steps| !steps.is_empty())
        .cloned()
        .unwrap_or_else(|| fallback.to_vec());
    let certs: Vec<String> = b.new_certificates.iter().cloned().collect();
    certs
        .iter()
        .map(|cert| wait_step(b, cert, after.clone()))
        .collect()
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
    if e.kind.is_certificate_manager() {
        return vec![certificate_manager_create(b, e, d, after)];
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
            body: Some(without_verb_fields(&e.kind, d.body.clone())),
            scope: scope_of(e),
            needs_fingerprint: false,
        },
    );
    let mut ready = vec![create.clone()];
    if let Some(endpoint) = &d.endpoint {
        ready.push(attach_step(b, e, vec![create.clone()], endpoint));
    }
    let set: Vec<String> = e
        .kind
        .set_by_verb()
        .iter()
        .filter(|(f, _)| d.body.get(*f).is_some())
        .map(|(f, _)| (*f).to_string())
        .collect();
    ready.extend(verb_field_steps(b, e, d, &set, vec![create]));
    ready
}

/// The body without the fields only their own verbs set (output-only in it).
fn without_verb_fields(kind: &ResourceKind, mut body: Value) -> Value {
    if let Some(o) = body.as_object_mut() {
        for (f, _) in kind.set_by_verb() {
            o.remove(*f);
        }
    }
    body
}

/// One call per changed field that only its own verb sets (a backend service's Cloud Armor
/// policies): the policy's link, or no link to detach it (as gcloud does).
fn verb_field_steps(
    b: &mut Builder,
    e: &PlanEntry,
    d: &super::DesiredResource,
    fields: &[String],
    after: Vec<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (field, verb) in e.kind.set_by_verb() {
        if !fields.iter().any(|f| f == field) {
            continue;
        }
        let body = match d.body.get(*field) {
            Some(link) => json!({ "securityPolicy": link }),
            None => json!({}),
        };
        out.push(setter_step(b, e, verb, &e.resource, body, after.clone()));
    }
    out
}

/// Certificate Manager creates name the new resource in the query (`certificateId=...`) and
/// carry no `name` in the body, which is the server's to fill in (API-NOTES §14.1).
fn certificate_manager_create(
    b: &mut Builder,
    e: &PlanEntry,
    d: &super::DesiredResource,
    after: Vec<String>,
) -> String {
    let id_param = match e.kind {
        ResourceKind::DnsAuthorization => "dnsAuthorizationId",
        ResourceKind::ManagedCertificate => "certificateId",
        ResourceKind::CertificateMap => "certificateMapId",
        _ => "certificateMapEntryId",
    };
    let mut body = d.body.clone();
    if let Some(o) = body.as_object_mut() {
        o.remove("name");
    }
    b.push(
        format!("create:{}", e.resource),
        StepAction::Create,
        &e.resource,
        after,
        Call {
            api: Api::CertificateManager,
            verb: Verb::Post,
            path: format!("{}?{id_param}={}", collection_path(&e.resource), e.name),
            body: Some(body),
            scope: Scope::Global,
            needs_fingerprint: false,
        },
    )
}

/// A Certificate Manager patch: the changed fields, named in the `updateMask` it requires.
fn certificate_manager_patch(
    b: &mut Builder,
    e: &PlanEntry,
    d: &super::DesiredResource,
    fields: &[String],
    after: Vec<String>,
) -> String {
    let body: serde_json::Map<String, Value> = fields
        .iter()
        .filter_map(|f| d.body.get(f).map(|v| (f.clone(), v.clone())))
        .collect();
    b.push(
        format!("update:{}", e.resource),
        StepAction::Update,
        &e.resource,
        after,
        Call {
            api: Api::CertificateManager,
            verb: Verb::Patch,
            path: format!("{}?updateMask={}", e.resource, fields.join(",")),
            body: Some(Value::Object(body)),
            scope: Scope::Global,
            needs_fingerprint: false,
        },
    )
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
                "networkEndpoints": [endpoint.api_json()]
            })),
            scope: scope_of(e),
            needs_fingerprint: false,
        },
    )
}

fn put_step(b: &mut Builder, e: &PlanEntry, id: String, body: Value, after: Vec<String>) -> String {
    let mut body = without_verb_fields(&e.kind, body);
    if let (Some(live), Some(fields)) = (&e.live, body.as_object_mut()) {
        for f in e.kind.carried_fields() {
            if let Some(v) = live.get(*f).filter(|_| !fields.contains_key(*f)) {
                fields.insert((*f).to_string(), v.clone());
            }
        }
    }
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

/// `POST {path}/{verb}`: a call that sets one thing of a live resource by its own method
/// (`setUrlMap`, `setSecurityPolicy`, `setSslPolicy`, …), step id `update:{resource}:{verb}`.
fn setter_step(
    b: &mut Builder,
    e: &PlanEntry,
    verb: &str,
    path: &str,
    body: Value,
    after: Vec<String>,
) -> String {
    b.push(
        format!("update:{}:{verb}", e.resource),
        StepAction::Update,
        &e.resource,
        after,
        Call {
            api: Api::Compute,
            verb: Verb::Post,
            path: format!("{path}/{verb}"),
            body: Some(body),
            scope: scope_of(e),
            needs_fingerprint: false,
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
        setter_step(b, e, verb, &path, body, after.clone())
    };
    match &e.kind {
        ResourceKind::RunService { .. } => {
            let deploy = fields.iter().any(|f| f != "public access");
            let iam = fields.iter().any(|f| f == "public access");
            run_service_steps(b, e, deploy, iam, after)
        }
        k if k.is_certificate_manager() => {
            // An entry moved onto a certificate this plan creates (the primary entry, when the
            // first domain changes) keeps serving the old one until the new one is ACTIVE.
            let mut held = after.clone();
            for cert in references(Some(&d.body), "certificates") {
                if b.new_certificates.contains(&cert) {
                    let ready = b.ready.get(&cert).cloned().unwrap_or_default();
                    held.push(wait_step(b, &cert, ready));
                }
            }
            vec![certificate_manager_patch(b, e, d, fields, held)]
        }
        ResourceKind::TargetHttpsProxy | ResourceKind::TargetHttpProxy => {
            let mut out = Vec::new();
            if fields.iter().any(|f| f == "urlMap") {
                let body = json!({ "urlMap": d.body["urlMap"] });
                let to_redirect = b.redirect_map.as_deref()
                    == d.body["urlMap"].as_str().map(link_path)
                    && e.kind == ResourceKind::TargetHttpProxy;
                if to_redirect && !b.new_certificates.is_empty() {
                    // Port 80 keeps serving the site until HTTPS can take its visitors.
                    let mut held = after.clone();
                    held.extend(waits_for_new_certificates(b, &after));
                    out.push(b.push(
                        format!("update:{}:setUrlMap", e.resource),
                        StepAction::Update,
                        &e.resource,
                        held,
                        Call {
                            api: Api::Compute,
                            verb: Verb::Post,
                            path: format!("{}/setUrlMap", without_global(&e.resource)),
                            body: Some(body),
                            scope: scope_of(e),
                            needs_fingerprint: false,
                        },
                    ));
                } else {
                    out.push(setter(b, "setUrlMap", without_global(&e.resource), body));
                }
            }
            out.extend(frontend_option_steps(b, e, d, fields, &after));
            let to_map = fields.iter().any(|f| f == "certificateMap")
                && d.body.get("certificateMap").is_some();
            if to_map {
                out.extend(certificate_map_steps(b, e, d, after.clone()));
            } else if fields.iter().any(|f| f == "sslCertificates") {
                out.push(certificate_steps(b, e, d, after.clone()));
            }
            out
        }
        // sslPolicies have `patch` and no `update`: the changed fields, under the fingerprint.
        ResourceKind::SslPolicy => {
            let body: serde_json::Map<String, Value> = fields
                .iter()
                .filter_map(|f| d.body.get(f).map(|v| (f.clone(), v.clone())))
                .collect();
            vec![compute_patch(b, e, "patch", Value::Object(body), after)]
        }
        ResourceKind::GlobalForwardingRule => {
            let body = json!({ "target": d.body["target"] });
            vec![setter(b, "setTarget", e.resource.clone(), body)]
        }
        ResourceKind::InternetNeg => match &d.endpoint {
            Some(endpoint) => vec![attach_step(b, e, after, endpoint)],
            None => Vec::new(),
        },
        ResourceKind::BackendService => {
            let by_verb = |f: &String| e.kind.set_by_verb().iter().any(|(v, _)| v == f);
            let mut out = Vec::new();
            let mut then = after.clone();
            if fields.iter().any(|f| !by_verb(f)) {
                // The setters renew the fingerprint the update carries: they go after it.
                let put = put_step(
                    b,
                    e,
                    format!("update:{}", e.resource),
                    d.body.clone(),
                    after,
                );
                then = vec![put.clone()];
                out.push(put);
            }
            out.extend(verb_field_steps(b, e, d, fields, then));
            out
        }
        _ => vec![put_step(
            b,
            e,
            format!("update:{}", e.resource),
            d.body.clone(),
            after,
        )],
    }
}

/// A live HTTPS proxy's HTTP/3 choice and SSL policy (`domain::frontend_options`), each by
/// its setter (both paths have `/global/`). A policy the spec dropped is detached by an empty
/// reference, and its delete waits for that step since the body no longer names it.
fn frontend_option_steps(
    b: &mut Builder,
    e: &PlanEntry,
    d: &super::DesiredResource,
    fields: &[String],
    after: &[String],
) -> Vec<String> {
    let mut out = Vec::new();
    let mut set = |b: &mut Builder, verb: &str, body: Value| {
        out.push(setter_step(b, e, verb, &e.resource, body, after.to_vec()));
    };
    if fields.iter().any(|f| f == "quicOverride") {
        let quic = d.body["quicOverride"]
            .as_str()
            .unwrap_or(crate::domain::frontend_options::QUIC_DEFAULT);
        set(b, "setQuicOverride", json!({ "quicOverride": quic }));
    }
    if fields.iter().any(|f| f == "sslPolicy") {
        let body = match d.body.get("sslPolicy") {
            Some(policy) => json!({ "sslPolicy": policy }),
            None => json!({}),
        };
        set(b, "setSslPolicy", body);
    }
    out
}

/// A live HTTPS proxy's certificates change: attach the new ones beside those it has, wait for
/// each new one to be ACTIVE, then set the final list (after which the old ones can go).
fn certificate_steps(
    b: &mut Builder,
    e: &PlanEntry,
    d: &super::DesiredResource,
    after: Vec<String>,
) -> String {
    let set = |b: &mut Builder, id: String, list: &[String], after: Vec<String>| {
        b.push(
            id,
            StepAction::Update,
            &e.resource,
            after,
            Call {
                api: Api::Compute,
                verb: Verb::Post,
                path: format!("{}/setSslCertificates", without_global(&e.resource)),
                body: Some(json!({ "sslCertificates": list })),
                scope: scope_of(e),
                needs_fingerprint: false,
            },
        )
    };
    let desired = references(Some(&d.body), "sslCertificates");
    let live = references(e.live.as_ref(), "sslCertificates");
    let any_fresh = desired
        .iter()
        .any(|c| b.new_certificates.contains(c) && !live.contains(c));
    let final_id = format!("update:{}:setSslCertificates", e.resource);
    let live_map = e
        .live
        .as_ref()
        .and_then(|l| l.get("certificateMap"))
        .is_some_and(|m| !m.is_null());
    if live_map {
        // Back from a certificate map: the map goes on serving (it wins over the list) while
        // the classic certificates are attached and issued, and is detached only then.
        let attached = set(b, final_id, &desired, after);
        let mut held = vec![attached];
        let fresh: Vec<String> = desired
            .iter()
            .filter(|c| b.new_certificates.contains(*c))
            .cloned()
            .collect();
        for cert in fresh {
            held.push(wait_step(b, &cert, held[..1].to_vec()));
        }
        return compute_patch(
            b,
            e,
            "clearCertificateMap",
            json!({ "certificateMap": null }),
            held,
        );
    }
    if !any_fresh || live.is_empty() {
        return set(b, final_id, &desired, after);
    }
    let mut beside = live.clone();
    beside.extend(desired.iter().filter(|c| !live.contains(c)).cloned());
    let beside_id = set(
        b,
        format!("update:{}:setSslCertificates:beside", e.resource),
        &beside,
        after.clone(),
    );
    let mut held = after;
    let fresh: Vec<&String> = desired
        .iter()
        .filter(|c| b.new_certificates.contains(*c) && !live.contains(c))
        .collect();
    for cert in fresh {
        held.push(wait_step(b, cert, vec![beside_id.clone()]));
    }
    set(b, final_id, &desired, held)
}

/// A merge-patch (Compute's `patch`): `null` removes a field, which is how a proxy's
/// certificate map or classic certificates are detached once the other serves.
fn compute_patch(
    b: &mut Builder,
    e: &PlanEntry,
    what: &str,
    body: Value,
    after: Vec<String>,
) -> String {
    b.push(
        format!("update:{}:{what}", e.resource),
        StepAction::Update,
        &e.resource,
        after,
        Call {
            api: Api::Compute,
            verb: Verb::Patch,
            path: e.resource.clone(),
            body: Some(body),
            scope: scope_of(e),
            needs_fingerprint: true,
        },
    )
}

/// A live HTTPS proxy moves onto a certificate map (API-NOTES §14.11): once every certificate
/// of the map that this plan creates is ACTIVE, the map is attached beside the classic
/// certificates (the map wins, so this is the switch), and only then are the classic ones
/// detached, so that no moment passes without a valid certificate for each domain.
fn certificate_map_steps(
    b: &mut Builder,
    e: &PlanEntry,
    d: &super::DesiredResource,
    after: Vec<String>,
) -> Vec<String> {
    let mut held = after;
    let fresh: Vec<String> = b
        .new_certificates
        .iter()
        .filter(|c| c.contains("/locations/"))
        .cloned()
        .collect();
    for cert in fresh {
        let ready = b.ready.get(&cert).cloned().unwrap_or_default();
        held.push(wait_step(b, &cert, ready));
    }
    let attached = b.push(
        format!("update:{}:setCertificateMap", e.resource),
        StepAction::Update,
        &e.resource,
        held,
        Call {
            api: Api::Compute,
            verb: Verb::Post,
            path: format!("{}/setCertificateMap", e.resource),
            body: Some(json!({ "certificateMap": d.body["certificateMap"] })),
            scope: scope_of(e),
            needs_fingerprint: false,
        },
    );
    let live_certificates = !references(e.live.as_ref(), "sslCertificates").is_empty();
    if !live_certificates {
        return vec![attached];
    }
    vec![compute_patch(
        b,
        e,
        "clearSslCertificates",
        json!({ "sslCertificates": null }),
        vec![attached],
    )]
}

fn delete_step(b: &mut Builder, e: &PlanEntry) -> String {
    b.push(
        format!("delete:{}", e.resource),
        StepAction::Delete,
        &e.resource,
        Vec::new(),
        Call {
            api: e.kind.api(),
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
    let desired_of = |kind: ResourceKind| {
        plan.entries
            .iter()
            .find(|e| e.kind == kind && e.desired.is_some())
            .map(|e| e.resource.clone())
    };
    let https_proxy = desired_of(ResourceKind::TargetHttpsProxy);
    let mut b = Builder {
        steps: Vec::new(),
        ready: BTreeMap::new(),
        new_certificates: plan
            .entries
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    ResourceKind::SslCertificate | ResourceKind::ManagedCertificate
                )
            })
            .filter(|e| matches!(e.action, Action::Create | Action::Replace { .. }))
            .map(|e| e.resource.clone())
            .collect(),
        redirect_map: desired_of(ResourceKind::RedirectUrlMap),
        https_rule: plan
            .entries
            .iter()
            .filter(|e| e.kind == ResourceKind::GlobalForwardingRule)
            .filter_map(|e| e.desired.as_ref())
            .find(|d| https_proxy.as_deref() == d.body["target"].as_str().map(link_path))
            .map(|d| d.id.clone()),
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

    // An adopted resource that stays gets the owner marker once its other calls are done, so
    // the patch reads the fingerprint they leave.
    for o in &plan.ownership {
        let (Some(description), Some(e)) = (&o.description, by_id.get(o.resource.as_str())) else {
            continue;
        };
        let after = b.ready.get(&o.resource).cloned().unwrap_or_default();
        compute_patch(
            &mut b,
            e,
            "owner",
            json!({ "description": description }),
            after,
        );
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

    super::canary::hold(&mut b.steps, plan);

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
