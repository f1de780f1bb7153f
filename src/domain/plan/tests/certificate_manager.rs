//! Certificate Manager in the plan: what a spec compiles to, the first apply, and the moves
//! between classic certificates and a certificate map without a moment uncovered.

use super::*;
use crate::domain::spec::CertificateMode;

fn with_certificate_manager(mut s: Spec) -> Spec {
    s.frontend.certificate = CertificateMode::CertificateManager;
    s
}

fn cm(kind: ResourceKind, name: &str) -> String {
    resource_path("my-project", &kind, name)
}

const PROXY: &str = "projects/my-project/global/targetHttpsProxies/global-app-https-proxy";

#[test]
fn a_certificate_manager_frontend_compiles_to_authorization_certificate_map_and_entries() {
    let mut spec = with_certificate_manager(seed_single_region());
    spec.frontend.domains = vec!["your-domain.com".into(), "*.your-domain.com".into()];
    let graph = compile(&spec);
    let kinds: Vec<&str> = graph
        .resources
        .iter()
        .map(|r| summary::kind_words(&r.kind))
        .collect();
    assert!(
        !kinds.contains(&"certificate"),
        "no classic certificate: {kinds:?}"
    );
    // One authorization covers the domain and its wildcard.
    let auths: Vec<&DesiredResource> = graph
        .resources
        .iter()
        .filter(|r| r.kind == ResourceKind::DnsAuthorization)
        .collect();
    assert_eq!(auths.len(), 1);
    assert_eq!(auths[0].body["domain"], "your-domain.com");
    let wildcard = cm(
        ResourceKind::ManagedCertificate,
        &names::cm_certificate("global-app", "*.your-domain.com"),
    );
    let cert = graph.get(&wildcard).unwrap();
    assert_eq!(
        cert.body["managed"],
        json!({ "domains": ["*.your-domain.com"], "dnsAuthorizations": [auths[0].id] })
    );
    let map = cm(ResourceKind::CertificateMap, "global-app-certmap");
    let entries: Vec<&DesiredResource> = graph
        .resources
        .iter()
        .filter(|r| matches!(r.kind, ResourceKind::CertificateMapEntry { .. }))
        .collect();
    assert_eq!(entries.len(), 3, "two hostnames and the primary entry");
    assert!(
        entries
            .iter()
            .all(|e| e.id.starts_with(&format!("{map}/certificateMapEntries/")))
    );
    let primary = entries
        .iter()
        .find(|e| e.body.get("matcher").is_some())
        .unwrap();
    assert_eq!(primary.body["matcher"], "PRIMARY");
    let proxy = graph.get(PROXY).unwrap();
    assert_eq!(
        proxy.body["certificateMap"],
        format!("//certificatemanager.googleapis.com/{map}")
    );
    assert!(proxy.body.get("sslCertificates").is_none());
    for e in &entries {
        assert!(
            proxy.depends_on.contains(&e.id),
            "the proxy waits for {}",
            e.id
        );
    }
}

#[test]
fn a_first_certificate_manager_apply_creates_in_order_and_waits_for_nothing() {
    let graph = compile(&with_certificate_manager(seed_single_region()));
    let plan = diff(&graph, &nothing_live(&graph));
    let steps = steps(&plan).unwrap();
    assert_ordered(&steps);
    assert!(steps.iter().all(|s| s.action != StepAction::Wait));
    let auth = cm(
        ResourceKind::DnsAuthorization,
        &names::dns_authorization("global-app", "your-domain.com"),
    );
    let create = &steps[pos(&steps, &format!("create:{auth}"))];
    assert_eq!(create.call.api, Api::CertificateManager);
    assert_eq!(
        create.call.path,
        format!(
            "projects/my-project/locations/global/dnsAuthorizations?dnsAuthorizationId={}",
            names::dns_authorization("global-app", "your-domain.com")
        )
    );
    assert!(create.call.body.as_ref().unwrap().get("name").is_none());
    assert!(reaches(
        &steps,
        &format!("create:{PROXY}"),
        &format!("create:{auth}")
    ));
    // Applied again, nothing changes.
    let again = diff(&graph, &as_server_returns(&graph));
    assert!(
        again.is_noop(),
        "{:#?}",
        again
            .entries
            .iter()
            .filter(|e| e.action != Action::Noop)
            .collect::<Vec<_>>()
    );
}

#[test]
fn moving_a_live_proxy_to_certificate_manager_switches_only_once_every_certificate_is_active() {
    let classic = compile(&seed_single_region());
    let live = as_server_returns(&classic);
    let plan = diff(
        &compile(&with_certificate_manager(seed_single_region())),
        &live,
    );
    assert_eq!(
        entry(&plan, PROXY).action,
        Action::Update {
            fields: vec!["certificateMap".into(), "sslCertificates".into()]
        }
    );
    let steps = steps(&plan).unwrap();
    assert_ordered(&steps);
    let cert = cm(
        ResourceKind::ManagedCertificate,
        &names::cm_certificate("global-app", "your-domain.com"),
    );
    let wait = format!("wait:{cert}");
    let set = format!("update:{PROXY}:setCertificateMap");
    let clear = format!("update:{PROXY}:clearSslCertificates");
    let old = resource_path(
        "my-project",
        &ResourceKind::SslCertificate,
        &names::certificate("global-app", &["your-domain.com".into()]),
    );
    let w = &steps[pos(&steps, &wait)];
    assert_eq!(
        (w.call.api, w.call.verb),
        (Api::CertificateManager, Verb::Get)
    );
    assert!(steps[pos(&steps, &set)].depends_on.contains(&wait));
    assert_eq!(
        steps[pos(&steps, &set)].call.path,
        format!("{PROXY}/setCertificateMap")
    );
    let c = &steps[pos(&steps, &clear)];
    assert_eq!((c.call.verb, c.call.needs_fingerprint), (Verb::Patch, true));
    assert_eq!(c.call.body, Some(json!({ "sslCertificates": null })));
    assert!(reaches(&steps, &clear, &set));
    assert!(reaches(&steps, &format!("delete:{old}"), &clear));
}

#[test]
fn moving_back_to_classic_certificates_detaches_the_map_after_the_new_certificate_is_active() {
    let mapped = compile(&with_certificate_manager(seed_single_region()));
    let live = as_server_returns(&mapped);
    let plan = diff(&compile(&seed_single_region()), &live);
    let steps = steps(&plan).unwrap();
    assert_ordered(&steps);
    let new = resource_path(
        "my-project",
        &ResourceKind::SslCertificate,
        &names::certificate("global-app", &["your-domain.com".into()]),
    );
    let set = format!("update:{PROXY}:setSslCertificates");
    let wait = format!("wait:{new}");
    let clear = format!("update:{PROXY}:clearCertificateMap");
    assert!(reaches(&steps, &wait, &set));
    assert!(reaches(&steps, &clear, &wait));
    let map = cm(ResourceKind::CertificateMap, "global-app-certmap");
    for e in plan.entries.iter().filter(|e| e.action == Action::Delete) {
        assert!(e.kind.is_certificate_manager(), "{} only", e.resource);
        assert!(reaches(&steps, &format!("delete:{}", e.resource), &clear));
    }
    assert!(reaches(
        &steps,
        &format!("delete:{map}"),
        &format!("delete:{map}/certificateMapEntries/global-app-primary")
    ));
}

#[test]
fn a_domain_added_to_a_map_gets_its_own_certificate_and_entry_and_leaves_the_others_alone() {
    let spec = with_certificate_manager(seed_single_region());
    let live = as_server_returns(&compile(&spec));
    let mut more = spec.clone();
    more.frontend.domains.push("www.your-domain.com".into());
    let plan = diff(&compile(&more), &live);
    let changed: Vec<(&str, &str)> = plan
        .entries
        .iter()
        .filter(|e| e.action != Action::Noop)
        .map(|e| (e.action.name(), summary::kind_words(&e.kind)))
        .collect();
    assert_eq!(
        changed,
        vec![
            ("create", "DNS authorization"),
            ("create", "Certificate Manager certificate"),
            ("create", "certificate map entry"),
        ]
    );
}
