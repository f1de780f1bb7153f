//! `compile`: the Compute resources a spec needs, with their insert bodies and references.

use super::{
    DesiredGraph, DesiredResource, NetworkEndpoint, ResourceKind, full_url, resource_path,
    urlmap_body,
};
use crate::domain::chain::Hop;
use crate::domain::explicit_names as named;
use crate::domain::frontend_options;
use crate::domain::links::certificate_manager_url;
use crate::domain::names;
use crate::domain::spec::{
    Backend, BackendKind, CertificateMode, Endpoint, EnvSource, EnvVar, IpKind, Protocol, Service,
    Spec,
};
use serde_json::{Value, json};

struct Builder<'a> {
    spec: &'a Spec,
    marker: String,
    resources: Vec<DesiredResource>,
}

impl Builder<'_> {
    /// Adds a resource of the load balancer's project; see [`Builder::add_in`].
    fn add(
        &mut self,
        kind: ResourceKind,
        name: String,
        body: Value,
        depends_on: Vec<String>,
        endpoint: Option<NetworkEndpoint>,
    ) -> String {
        let project = self.spec.project.clone();
        self.add_in(&project, kind, name, body, depends_on, endpoint)
    }

    /// Adds a resource of `project` unless one with the same id is already there (shared
    /// internet NEGs). Returns its id.
    fn add_in(
        &mut self,
        project: &str,
        kind: ResourceKind,
        name: String,
        mut body: Value,
        depends_on: Vec<String>,
        endpoint: Option<NetworkEndpoint>,
    ) -> String {
        let id = resource_path(project, &kind, &name);
        if self.resources.iter().any(|r| r.id == id) {
            return id;
        }
        body["name"] = json!(name);
        body["description"] = json!(self.marker);
        self.resources.push(DesiredResource {
            scope: kind.scope(),
            kind,
            name,
            id: id.clone(),
            body,
            depends_on,
            endpoint,
            public: None,
        });
        id
    }
}

/// Where a multi-region Cloud Run service lives (API-NOTES §18.1): one resource under
/// `locations/global`, however many regions it is deployed to.
pub const MULTI_REGION: &str = "global";

/// The Cloud Run v2 Service body for `svc` (docs/google-cloud.md §1). Only the fields we manage are set, so
/// a patch leaves the server's defaults (timeout, service account, ...) alone. The owner marker
/// goes in `description`, as on Compute resources, so ownership is checked the same way; the
/// labels make the services findable in the console.
pub(super) fn run_service_body(deployment: &str, marker: &str, svc: &Service, id: &str) -> Value {
    let env: Vec<Value> = svc.env.iter().map(run_env_var).collect();
    let mut container = json!({
        "image": svc.image,
        "resources": {
            "limits": { "cpu": svc.cpu, "memory": svc.memory },
            // Request-based billing, which is the default only when `resources` is absent.
            "cpuIdle": true
        }
    });
    if !env.is_empty() {
        container["env"] = json!(env);
    }
    if let Some(p) = &svc.readiness_probe {
        container["readinessProbe"] = json!({
            "httpGet": { "path": p.path },
            "periodSeconds": p.period(),
            "timeoutSeconds": p.timeout(),
            "failureThreshold": p.failures()
        });
    }
    json!({
        "name": id,
        "description": marker,
        "labels": {
            "managed-by": "switchyard",
            "switchyard-deployment": deployment
        },
        "ingress": svc.ingress.api_value(),
        "template": {
            "containers": [container],
            "scaling": {
                "minInstanceCount": svc.min_instances,
                "maxInstanceCount": svc.max_instances
            },
            "maxInstanceRequestConcurrency": svc.concurrency
        }
    })
}

/// A spec variable as Cloud Run v2's `EnvVar`: a literal `value`, or `valueSource.secretKeyRef`
/// naming the Secret Manager secret and version (docs/google-cloud.md §1), which Cloud Run reads
/// when an instance starts; the value itself never passes through Switchyard.
pub(crate) fn run_env_var(e: &EnvVar) -> Value {
    match e.source() {
        EnvSource::Value(value) => json!({ "name": e.name, "value": value }),
        EnvSource::Secret { secret, version } => json!({
            "name": e.name,
            "valueSource": { "secretKeyRef": { "secret": secret, "version": version } }
        }),
    }
}

/// Outlier detection as the failover signal for serverless backends, which cannot have health
/// checks (docs/google-cloud.md §4). The `enforcing*` percentages are raised from the API's defaults (0 for
/// plain 5xx) so that a region answering errors is actually ejected; the success-rate fields
/// are left out because serverless NEGs do not support them.
fn outlier_detection() -> Value {
    json!({
        "consecutiveErrors": 5,
        "enforcingConsecutiveErrors": 100,
        "consecutiveGatewayFailure": 3,
        "enforcingConsecutiveGatewayFailure": 100,
        "interval": { "seconds": 1 },
        "baseEjectionTime": { "seconds": 30 },
        "maxEjectionPercent": 50
    })
}

/// Where an internet backend's NEG points, with the Host header and the backend service's
/// protocol toward it.
struct InternetTarget {
    endpoint: NetworkEndpoint,
    host: Option<String>,
    protocol: &'static str,
}

fn internet_target(backend: &Backend, hops: &[Hop]) -> Option<InternetTarget> {
    let BackendKind::Internet {
        port, host_header, ..
    } = &backend.kind
    else {
        return None;
    };
    Some(match backend.kind.endpoint()? {
        // Cloud Run routes on Host, and an internet NEG's origin is usually a run.app host
        // that differs from the domain clients asked for.
        Endpoint::Fqdn(fqdn) => InternetTarget {
            endpoint: NetworkEndpoint {
                fqdn: Some(fqdn.to_string()),
                ip_address: None,
                port: *port,
            },
            host: Some(host_header.clone().unwrap_or_else(|| fqdn.to_string())),
            protocol: "HTTPS",
        },
        // An address carries no name to send: the client's Host goes on unless overridden
        // (another load balancer routes on the names its clients use).
        Endpoint::Ip(ip) => InternetTarget {
            endpoint: NetworkEndpoint {
                fqdn: None,
                ip_address: Some(ip.to_string()),
                port: *port,
            },
            host: host_header.clone(),
            protocol: "HTTPS",
        },
        Endpoint::Deployment(_) => {
            let hop = hops.iter().find(|h| h.backend == backend.name)?;
            InternetTarget {
                endpoint: NetworkEndpoint {
                    fqdn: hop.fqdn.clone(),
                    ip_address: hop.ip.clone(),
                    port: hop.port,
                },
                host: hop.host_header.clone(),
                protocol: match hop.protocol {
                    Protocol::Https => "HTTPS",
                    Protocol::Http => "HTTP",
                },
            }
        }
    })
}

/// Certificate Manager's side of an HTTPS frontend (API-NOTES §14.9): a DNS authorization per
/// parent domain, a certificate per domain, and a map with an entry per domain plus the primary
/// entry (the first domain's certificate, for clients that send no SNI). Returns the map's id and
/// its entries', which the proxy waits for: a map attached before its entries serves nothing.
fn certificate_map(b: &mut Builder) -> (String, Vec<String>) {
    let spec = b.spec;
    let deployment = spec.name.as_str();
    let map_name = names::certificate_map(deployment);
    let map = b.add(
        ResourceKind::CertificateMap,
        map_name.clone(),
        json!({}),
        Vec::new(),
        None,
    );
    let entry_kind = ResourceKind::CertificateMapEntry { map: map_name };
    let mut entries = Vec::new();
    let mut first_certificate = None;
    for domain in &spec.frontend.domains {
        let domain = domain.trim_end_matches('.');
        let authorization = b.add(
            ResourceKind::DnsAuthorization,
            names::dns_authorization(deployment, domain),
            json!({ "domain": names::authorization_domain(domain) }),
            Vec::new(),
            None,
        );
        let certificate = b.add(
            ResourceKind::ManagedCertificate,
            names::cm_certificate(deployment, domain),
            json!({ "managed": { "domains": [domain], "dnsAuthorizations": [authorization] } }),
            vec![authorization],
            None,
        );
        first_certificate.get_or_insert_with(|| certificate.clone());
        entries.push(b.add(
            entry_kind.clone(),
            names::certificate_map_entry(deployment, domain),
            json!({ "hostname": domain, "certificates": [certificate] }),
            vec![map.clone(), certificate],
            None,
        ));
    }
    if let Some(certificate) = first_certificate {
        entries.push(b.add(
            entry_kind,
            names::primary_map_entry(deployment),
            json!({ "matcher": "PRIMARY", "certificates": [certificate] }),
            vec![map.clone(), certificate],
            None,
        ));
    }
    (map, entries)
}

/// A forwarding rule's body toward `target` on `port`, on `address` when the IP is reserved
/// (else Google assigns one), with the ids it needs first.
fn rule_body(target: &str, port: &str, address: Option<&String>) -> (Value, Vec<String>) {
    let mut body = json!({
        "IPProtocol": "TCP",
        "portRange": port,
        "loadBalancingScheme": "EXTERNAL_MANAGED",
        "target": target,
        "networkTier": "PREMIUM",
    });
    let mut deps = vec![target.to_string()];
    if let Some(address) = address {
        body["IPAddress"] = json!(address);
        deps.push(address.clone());
    }
    (body, deps)
}

/// Whether the frontend serves IPv6, and on which reserved address (`None` inside: ephemeral).
type Ipv6 = Option<Option<String>>;

/// `frontend.ipv6`: with a static IP, a second global address of `ipVersion: IPV6` beside the
/// IPv4 one, so the IPv6 rules survive being re-created as the IPv4 ones do.
fn ipv6_address(b: &mut Builder) -> Ipv6 {
    let f = &b.spec.frontend;
    if !f.ipv6 {
        return None;
    }
    Some(match f.ip {
        IpKind::Static => Some(b.add(
            ResourceKind::GlobalAddress,
            names::ipv6_address(&b.spec.name),
            json!({ "ipVersion": "IPV6", "addressType": "EXTERNAL" }),
            Vec::new(),
            None,
        )),
        IpKind::Ephemeral => None,
    })
}

/// The IPv6 twin of the IPv4 rule toward `proxy` on `port`: the same proxy, its own rule, so
/// turning IPv6 on or off never touches the IPv4 rules.
fn ipv6_rule(b: &mut Builder, ipv6: &Ipv6, proxy: &str, port: &str) {
    let Some(address) = ipv6 else { return };
    let (mut body, deps) = rule_body(proxy, port, address.as_ref());
    body["ipVersion"] = json!("IPV6");
    let deployment = b.spec.name.as_str();
    let name = if port == "443" {
        names::https_forwarding_rule_ipv6(deployment)
    } else {
        names::http_forwarding_rule_ipv6(deployment)
    };
    b.add(ResourceKind::GlobalForwardingRule, name, body, deps, None);
}

/// HTTP/3 and the SSL policy on the HTTPS proxy (`domain::frontend_options`): `quicOverride`
/// only when the spec chooses (absent is Google's `NONE`), and the policy as its own resource
/// the proxy waits for.
fn https_proxy_options(b: &mut Builder, body: &mut Value, deps: &mut Vec<String>) {
    let f = &b.spec.frontend;
    if f.http3.is_some() {
        body["quicOverride"] = json!(frontend_options::quic_override(f));
    }
    if let Some(policy) = f.ssl_policy.clone() {
        let id = b.add(
            ResourceKind::SslPolicy,
            named::ssl_policy(b.spec),
            policy.body(),
            Vec::new(),
            None,
        );
        body["sslPolicy"] = json!(id);
        deps.push(id);
    }
}

/// Every resource the spec keeps under its existing name, whether or not the spec still uses
/// it: one it replaced (a certificate for other domains) is deleted like any leftover.
fn kept_paths(spec: &Spec) -> Vec<String> {
    let n = &spec.names;
    let p = spec.project.as_str();
    let mut out: Vec<String> = [
        (&n.url_map, ResourceKind::UrlMap),
        (&n.redirect_url_map, ResourceKind::RedirectUrlMap),
        (&n.https_proxy, ResourceKind::TargetHttpsProxy),
        (&n.http_proxy, ResourceKind::TargetHttpProxy),
        (&n.address, ResourceKind::GlobalAddress),
        (&n.https_forwarding_rule, ResourceKind::GlobalForwardingRule),
        (&n.http_forwarding_rule, ResourceKind::GlobalForwardingRule),
        (&n.ssl_policy, ResourceKind::SslPolicy),
    ]
    .into_iter()
    .filter_map(|(name, kind)| Some(resource_path(p, &kind, name.as_deref()?)))
    .collect();
    if let Some(c) = &n.certificate {
        out.push(resource_path(p, &ResourceKind::SslCertificate, &c.name));
    }
    for (backend, b) in &n.backends {
        // An adopted backend keeps its names where the spec says it lives.
        let p = spec
            .backend(backend)
            .map_or(p, |bk| spec.backend_project(bk));
        if let Some(bs) = &b.backend_service {
            out.push(resource_path(p, &ResourceKind::BackendService, bs));
        }
        for (region, neg) in &b.negs {
            let kind = ResourceKind::ServerlessNeg {
                region: region.clone(),
            };
            out.push(resource_path(p, &kind, neg));
        }
        if let Some(neg) = &b.internet_neg {
            out.push(resource_path(p, &ResourceKind::InternetNeg, neg));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Path matchers of an adopted URL map keep their names (they are compared like any field), in
/// the order the map lists them; those beyond the kept names get the derived ones.
fn keep_path_matcher_names(spec: &Spec, mut body: Value) -> Value {
    let kept = &spec.names.path_matchers;
    for (i, name) in kept.iter().enumerate() {
        let derived = urlmap_body::path_matcher_name(i);
        if let Some(m) = body["pathMatchers"].get_mut(i) {
            m["name"] = json!(name);
        }
        if let Some(rules) = body["hostRules"].as_array_mut() {
            for r in rules
                .iter_mut()
                .filter(|r| r["pathMatcher"] == json!(derived))
            {
                r["pathMatcher"] = json!(name);
            }
        }
    }
    body
}

/// The resources `spec` needs, in creation order, for a spec whose backends follow no other
/// deployment (or when only the names matter). See [`compile_chained`].
pub fn compile(spec: &Spec) -> DesiredGraph {
    compile_chained(spec, &[])
}

/// The resources `spec` needs, in creation order, with `hops` saying where each backend that
/// follows another deployment points (`chain::resolve`). The spec is assumed valid (validation
/// runs first); a route naming an unknown backend still compiles, and the URL map check
/// catches it.
pub fn compile_chained(spec: &Spec, hops: &[Hop]) -> DesiredGraph {
    let deployment = spec.name.as_str();
    let project = spec.project.as_str();
    let mut b = Builder {
        spec,
        marker: names::owner_marker(deployment),
        resources: Vec::new(),
    };

    // Cloud Run services first: the serverless NEGs that front them wait for them. With a
    // canary region, every other region's deploy waits for the canary's to be Ready.
    let canary = spec.canary_region();
    for svc in &spec.services {
        if svc.multi_region {
            // One resource in `locations/global`, deployed by Cloud Run to every region.
            let kind = ResourceKind::RunService {
                region: MULTI_REGION.to_string(),
            };
            let id = resource_path(spec.service_project(&svc.name), &kind, &svc.name);
            let mut body = run_service_body(deployment, &b.marker, svc, &id);
            crate::domain::edge_security::run_service_fields(spec, svc, &mut body);
            body["launchStage"] = json!("BETA");
            body["multiRegionSettings"] = json!({ "regions": svc.regions });
            b.resources.push(DesiredResource {
                scope: kind.scope(),
                kind,
                name: svc.name.clone(),
                body,
                id,
                depends_on: Vec::new(),
                endpoint: None,
                public: Some(svc.allow_unauthenticated),
            });
            continue;
        }
        let ordered = canary
            .filter(|c| svc.regions.iter().any(|r| r == c))
            .into_iter()
            .map(str::to_string)
            .chain(
                svc.regions
                    .iter()
                    .filter(|r| Some(r.as_str()) != canary)
                    .cloned(),
            );
        let mut canary_id: Option<String> = None;
        for region in ordered {
            let kind = ResourceKind::RunService {
                region: region.clone(),
            };
            let id = resource_path(spec.service_project(&svc.name), &kind, &svc.name);
            let depends_on = canary_id.iter().cloned().collect();
            if Some(region.as_str()) == canary {
                canary_id = Some(id.clone());
            }
            b.resources.push(DesiredResource {
                scope: kind.scope(),
                kind,
                name: svc.name.clone(),
                body: {
                    let mut body = run_service_body(deployment, &b.marker, svc, &id);
                    crate::domain::edge_security::run_service_fields(spec, svc, &mut body);
                    body
                },
                id,
                depends_on,
                endpoint: None,
                public: Some(svc.allow_unauthenticated),
            });
        }
    }

    // NEGs and backend services, one backend service per spec backend.
    for backend in &spec.backends {
        // Cross-project service referencing: a serverless backend's NEGs and backend service
        // live with its Cloud Run service, which may be another project's.
        let backend_project = spec.backend_project(backend);
        let mut groups = Vec::new();
        let mut deps = Vec::new();
        let mut headers = Vec::new();
        let mut protocol = "HTTPS";
        match &backend.kind {
            BackendKind::Serverless { service, regions } => {
                for region in regions {
                    let kind = ResourceKind::ServerlessNeg {
                        region: region.clone(),
                    };
                    let name = named::serverless_neg(spec, backend, region);
                    // A service the spec deploys must exist before its NEG is worth creating.
                    let service_dep: Vec<String> = spec
                        .service(service)
                        .filter(|s| s.regions.contains(region))
                        .map(|s| {
                            let location = if s.multi_region {
                                MULTI_REGION
                            } else {
                                region.as_str()
                            };
                            resource_path(
                                backend_project,
                                &ResourceKind::RunService {
                                    region: location.to_string(),
                                },
                                service,
                            )
                        })
                        .into_iter()
                        .collect();
                    let id = b.add_in(
                        backend_project,
                        kind,
                        name,
                        json!({
                            "networkEndpointType": "SERVERLESS",
                            "cloudRun": { "service": service }
                        }),
                        service_dep,
                        None,
                    );
                    groups.push(json!({ "group": full_url(&id) }));
                    deps.push(id);
                }
            }
            BackendKind::Internet { .. } => {
                // A backend that follows a deployment nobody resolved gets no NEG: only the
                // planner's callers that never send the result (names, services) get here so.
                if let Some(t) = internet_target(backend, hops) {
                    let (kind, address) = match (&t.endpoint.fqdn, &t.endpoint.ip_address) {
                        (Some(fqdn), _) => ("INTERNET_FQDN_PORT", fqdn.as_str()),
                        (None, ip) => ("INTERNET_IP_PORT", ip.as_deref().unwrap_or_default()),
                    };
                    let name = named::internet_neg(spec, &backend.name, address, t.endpoint.port);
                    let id = b.add(
                        ResourceKind::InternetNeg,
                        name,
                        json!({
                            "networkEndpointType": kind,
                            "defaultPort": t.endpoint.port
                        }),
                        Vec::new(),
                        Some(t.endpoint),
                    );
                    groups.push(json!({ "group": full_url(&id) }));
                    deps.push(id);
                    headers.extend(t.host.map(|h| format!("Host: {h}")));
                    protocol = t.protocol;
                }
            }
        }
        let kept_protocol = spec
            .names
            .backends
            .get(&backend.name)
            .and_then(|n| n.protocol.as_deref());
        let mut body = json!({
            "loadBalancingScheme": "EXTERNAL_MANAGED",
            "protocol": kept_protocol.unwrap_or(protocol),
            "enableCDN": backend.cdn,
            "backends": groups,
        });
        if !headers.is_empty() {
            body["customRequestHeaders"] = json!(headers);
        }
        // The API does not support outlier detection on internet NEG backends; lint says so.
        if backend.outlier_detection && matches!(backend.kind, BackendKind::Serverless { .. }) {
            body["outlierDetection"] = outlier_detection();
        }
        crate::domain::edge_security::backend_service_fields(backend_project, backend, &mut body);
        b.add_in(
            backend_project,
            ResourceKind::BackendService,
            named::backend_service(spec, &backend.name),
            body,
            deps,
            None,
        );
    }

    let backend_id = |backend: &str| {
        let backend_project = spec
            .backend(backend)
            .map_or(project, |bk| spec.backend_project(bk));
        resource_path(
            backend_project,
            &ResourceKind::BackendService,
            &named::backend_service(spec, backend),
        )
    };
    // Another project's backend service is named by its full URL: a short form would resolve
    // in the URL map's own project (API-NOTES §16.3).
    let backend_link = |backend: &str| {
        let id = backend_id(backend);
        if id.starts_with(&format!("projects/{project}/")) {
            id
        } else {
            full_url(&id)
        }
    };
    let mut url_map_deps: Vec<String> = spec
        .backends
        .iter()
        .map(|bk| backend_id(&bk.name))
        .collect();
    url_map_deps.dedup();
    let url_map = b.add(
        ResourceKind::UrlMap,
        named::url_map(spec),
        keep_path_matcher_names(spec, urlmap_body::url_map_body(spec, &backend_link)),
        url_map_deps,
        None,
    );

    let address = match spec.frontend.ip {
        IpKind::Static => Some(b.add(
            ResourceKind::GlobalAddress,
            named::address(spec),
            json!({ "ipVersion": "IPV4", "addressType": "EXTERNAL" }),
            Vec::new(),
            None,
        )),
        IpKind::Ephemeral => None,
    };
    let ipv6 = ipv6_address(&mut b);

    let forwarding_rule = |target: &str, port: &str| rule_body(target, port, address.as_ref());

    match spec.frontend.protocol {
        Protocol::Https => {
            let (proxy_body, mut proxy_deps) = match spec.frontend.certificate {
                CertificateMode::Managed => {
                    let cert = b.add(
                        ResourceKind::SslCertificate,
                        named::certificate(spec),
                        json!({ "type": "MANAGED", "managed": { "domains": spec.frontend.domains } }),
                        Vec::new(),
                        None,
                    );
                    (
                        json!({ "urlMap": url_map, "sslCertificates": [cert] }),
                        vec![cert],
                    )
                }
                CertificateMode::CertificateManager => {
                    let (map, entries) = certificate_map(&mut b);
                    (
                        json!({ "urlMap": url_map, "certificateMap": certificate_manager_url(&map) }),
                        std::iter::once(map).chain(entries).collect(),
                    )
                }
            };
            proxy_deps.insert(0, url_map.clone());
            let mut proxy_body = proxy_body;
            https_proxy_options(&mut b, &mut proxy_body, &mut proxy_deps);
            let proxy = b.add(
                ResourceKind::TargetHttpsProxy,
                named::https_proxy(spec),
                proxy_body,
                proxy_deps,
                None,
            );
            let (body, deps) = forwarding_rule(&proxy, "443");
            b.add(
                ResourceKind::GlobalForwardingRule,
                named::https_forwarding_rule(spec),
                body,
                deps,
                None,
            );
            ipv6_rule(&mut b, &ipv6, &proxy, "443");
            if spec.frontend.http_redirect {
                let redirect = b.add(
                    ResourceKind::RedirectUrlMap,
                    named::redirect_url_map(spec),
                    urlmap_body::redirect_map_body(deployment),
                    Vec::new(),
                    None,
                );
                let proxy = b.add(
                    ResourceKind::TargetHttpProxy,
                    named::http_proxy(spec),
                    json!({ "urlMap": redirect }),
                    vec![redirect.clone()],
                    None,
                );
                let (body, deps) = forwarding_rule(&proxy, "80");
                b.add(
                    ResourceKind::GlobalForwardingRule,
                    named::http_forwarding_rule(spec),
                    body,
                    deps,
                    None,
                );
                ipv6_rule(&mut b, &ipv6, &proxy, "80");
            }
        }
        Protocol::Http => {
            let proxy = b.add(
                ResourceKind::TargetHttpProxy,
                named::http_proxy(spec),
                json!({ "urlMap": url_map }),
                vec![url_map.clone()],
                None,
            );
            let (body, deps) = forwarding_rule(&proxy, "80");
            b.add(
                ResourceKind::GlobalForwardingRule,
                named::http_forwarding_rule(spec),
                body,
                deps,
                None,
            );
            ipv6_rule(&mut b, &ipv6, &proxy, "80");
        }
    }

    // Resources kept under their existing names are the deployment's by adoption: the spec,
    // which the panel stores, is the record of it where no owner marker can be written.
    let adopted = kept_paths(spec);
    DesiredGraph {
        deployment: deployment.to_string(),
        project: project.to_string(),
        resources: b.resources,
        adopted,
    }
}
