//! `compile`: the Compute resources a spec needs, with their insert bodies and references.

use super::{
    DesiredGraph, DesiredResource, NetworkEndpoint, ResourceKind, full_url, resource_path,
    urlmap_body,
};
use crate::domain::names;
use crate::domain::spec::{BackendKind, EnvSource, EnvVar, IpKind, Protocol, Service, Spec};
use serde_json::{Value, json};

struct Builder<'a> {
    spec: &'a Spec,
    marker: String,
    resources: Vec<DesiredResource>,
}

impl Builder<'_> {
    fn path(&self, kind: &ResourceKind, name: &str) -> String {
        resource_path(&self.spec.project, kind, name)
    }

    /// Adds a resource unless one with the same id is already there (shared internet NEGs).
    /// Returns its id.
    fn add(
        &mut self,
        kind: ResourceKind,
        name: String,
        mut body: Value,
        depends_on: Vec<String>,
        endpoint: Option<NetworkEndpoint>,
    ) -> String {
        let id = self.path(&kind, &name);
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

/// The resources `spec` needs, in creation order. The spec is assumed valid (validation runs
/// first); a route naming an unknown backend still compiles, and the URL map check catches it.
pub fn compile(spec: &Spec) -> DesiredGraph {
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
            let id = resource_path(project, &kind, &svc.name);
            let depends_on = canary_id.iter().cloned().collect();
            if Some(region.as_str()) == canary {
                canary_id = Some(id.clone());
            }
            b.resources.push(DesiredResource {
                scope: kind.scope(),
                kind,
                name: svc.name.clone(),
                body: run_service_body(deployment, &b.marker, svc, &id),
                id,
                depends_on,
                endpoint: None,
                public: Some(svc.allow_unauthenticated),
            });
        }
    }

    // NEGs and backend services, one backend service per spec backend.
    for backend in &spec.backends {
        let mut groups = Vec::new();
        let mut deps = Vec::new();
        let mut headers = Vec::new();
        match &backend.kind {
            BackendKind::Serverless { service, regions } => {
                for region in regions {
                    let kind = ResourceKind::ServerlessNeg {
                        region: region.clone(),
                    };
                    let name = names::serverless_neg(deployment, &backend.name, region, service);
                    // A service the spec deploys must exist before its NEG is worth creating.
                    let service_dep: Vec<String> = spec
                        .service(service)
                        .filter(|s| s.regions.contains(region))
                        .map(|_| {
                            resource_path(
                                project,
                                &ResourceKind::RunService {
                                    region: region.clone(),
                                },
                                service,
                            )
                        })
                        .into_iter()
                        .collect();
                    let id = b.add(
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
            BackendKind::Internet {
                fqdn,
                port,
                host_header,
            } => {
                let name = names::internet_neg(deployment, fqdn, *port);
                let id = b.add(
                    ResourceKind::InternetNeg,
                    name,
                    json!({
                        "networkEndpointType": "INTERNET_FQDN_PORT",
                        "defaultPort": port
                    }),
                    Vec::new(),
                    Some(NetworkEndpoint {
                        fqdn: fqdn.clone(),
                        port: *port,
                    }),
                );
                groups.push(json!({ "group": full_url(&id) }));
                deps.push(id);
                // Cloud Run routes on Host, and an internet NEG's origin is usually a run.app
                // host that differs from the domain clients asked for.
                headers.push(format!(
                    "Host: {}",
                    host_header.as_deref().unwrap_or(fqdn.as_str())
                ));
            }
        }
        let mut body = json!({
            "loadBalancingScheme": "EXTERNAL_MANAGED",
            "protocol": "HTTPS",
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
        b.add(
            ResourceKind::BackendService,
            names::backend_service(deployment, &backend.name),
            body,
            deps,
            None,
        );
    }

    let backend_link = |backend: &str| {
        resource_path(
            project,
            &ResourceKind::BackendService,
            &names::backend_service(deployment, backend),
        )
    };
    let mut url_map_deps: Vec<String> = spec
        .backends
        .iter()
        .map(|bk| backend_link(&bk.name))
        .collect();
    url_map_deps.dedup();
    let url_map = b.add(
        ResourceKind::UrlMap,
        names::url_map(deployment),
        urlmap_body::url_map_body(spec, &backend_link),
        url_map_deps,
        None,
    );

    let address = match spec.frontend.ip {
        IpKind::Static => Some(b.add(
            ResourceKind::GlobalAddress,
            names::address(deployment),
            json!({ "ipVersion": "IPV4", "addressType": "EXTERNAL" }),
            Vec::new(),
            None,
        )),
        IpKind::Ephemeral => None,
    };

    let forwarding_rule = |target: &str, port: &str| {
        let mut body = json!({
            "IPProtocol": "TCP",
            "portRange": port,
            "loadBalancingScheme": "EXTERNAL_MANAGED",
            "target": target,
            "networkTier": "PREMIUM",
        });
        let mut deps = vec![target.to_string()];
        if let Some(address) = &address {
            body["IPAddress"] = json!(address);
            deps.push(address.clone());
        }
        (body, deps)
    };

    match spec.frontend.protocol {
        Protocol::Https => {
            let cert = b.add(
                ResourceKind::SslCertificate,
                names::certificate(deployment, &spec.frontend.domains),
                json!({ "type": "MANAGED", "managed": { "domains": spec.frontend.domains } }),
                Vec::new(),
                None,
            );
            let proxy = b.add(
                ResourceKind::TargetHttpsProxy,
                names::https_proxy(deployment),
                json!({ "urlMap": url_map, "sslCertificates": [cert] }),
                vec![url_map.clone(), cert.clone()],
                None,
            );
            let (body, deps) = forwarding_rule(&proxy, "443");
            b.add(
                ResourceKind::GlobalForwardingRule,
                names::https_forwarding_rule(deployment),
                body,
                deps,
                None,
            );
            if spec.frontend.http_redirect {
                let redirect = b.add(
                    ResourceKind::RedirectUrlMap,
                    names::redirect_url_map(deployment),
                    urlmap_body::redirect_map_body(deployment),
                    Vec::new(),
                    None,
                );
                let proxy = b.add(
                    ResourceKind::TargetHttpProxy,
                    names::http_proxy(deployment),
                    json!({ "urlMap": redirect }),
                    vec![redirect.clone()],
                    None,
                );
                let (body, deps) = forwarding_rule(&proxy, "80");
                b.add(
                    ResourceKind::GlobalForwardingRule,
                    names::http_forwarding_rule(deployment),
                    body,
                    deps,
                    None,
                );
            }
        }
        Protocol::Http => {
            let proxy = b.add(
                ResourceKind::TargetHttpProxy,
                names::http_proxy(deployment),
                json!({ "urlMap": url_map }),
                vec![url_map.clone()],
                None,
            );
            let (body, deps) = forwarding_rule(&proxy, "80");
            b.add(
                ResourceKind::GlobalForwardingRule,
                names::http_forwarding_rule(deployment),
                body,
                deps,
                None,
            );
        }
    }

    DesiredGraph {
        deployment: deployment.to_string(),
        project: project.to_string(),
        resources: b.resources,
    }
}
