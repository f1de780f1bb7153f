//! Compute resources: one gcloud command (or several) per compiled body. Where gcloud has flags
//! for every field the body sets, the command uses them; otherwise (URL maps with rules, rewrites,
//! splits or redirects; outlier detection) the body itself is written as YAML and imported.

use serde_json::Value;

use super::shell::to_yaml;
use super::{GcloudStep, last_segment, str_at};
use crate::domain::plan::{DesiredResource, ResourceKind};

fn base(r: &DesiredResource, comment: String, group: &str, verb: &str, p: &str) -> GcloudStep {
    GcloudStep::new(comment, &["gcloud", "compute", group, verb])
        .arg(&r.name)
        .arg(match &r.kind {
            ResourceKind::ServerlessNeg { region } => format!("--region={region}"),
            _ => "--global".to_string(),
        })
        .args_if(
            !is_neg(r),
            format!("--description={}", str_at(&r.body, "/description")),
        )
        .arg(format!("--project={p}"))
}

/// `network-endpoint-groups create` has no `--description` (gcloud refuses it), so a NEG made
/// from these commands lacks the owner marker the panel writes there.
pub(super) fn is_neg(r: &DesiredResource) -> bool {
    matches!(
        r.kind,
        ResourceKind::ServerlessNeg { .. } | ResourceKind::InternetNeg
    )
}

/// `gcloud compute <group> import` of exactly the body.
fn import(r: &DesiredResource, comment: String, group: &str, p: &str) -> GcloudStep {
    GcloudStep::new(comment, &["gcloud", "compute", group, "import"])
        .arg(&r.name)
        .arg("--global")
        .arg(format!("--source={}.yaml", r.name))
        .arg("--quiet")
        .arg(format!("--project={p}"))
        .with_file(&format!("{}.yaml", r.name), to_yaml(&r.body))
}

pub fn steps(r: &DesiredResource, p: &str) -> Vec<GcloudStep> {
    let b = &r.body;
    match &r.kind {
        ResourceKind::ServerlessNeg { region } => vec![
            base(
                r,
                format!(
                    "Serverless NEG for Cloud Run service {} in {region} (gcloud cannot set its description, where the panel marks what it owns)",
                    str_at(b, "/cloudRun/service")
                ),
                "network-endpoint-groups",
                "create",
                p,
            )
            .arg("--network-endpoint-type=serverless")
            .arg(format!(
                "--cloud-run-service={}",
                str_at(b, "/cloudRun/service")
            )),
        ],
        ResourceKind::InternetNeg => {
            let mut v = vec![
                base(
                    r,
                    "Global internet NEG (gcloud cannot set its description, where the panel marks what it owns)".into(),
                    "network-endpoint-groups",
                    "create",
                    p,
                )
                .arg(match str_at(b, "/networkEndpointType") {
                    "INTERNET_IP_PORT" => "--network-endpoint-type=internet-ip-port",
                    _ => "--network-endpoint-type=internet-fqdn-port",
                })
                .arg(format!("--default-port={}", b["defaultPort"])),
            ];
            if let Some(e) = &r.endpoint {
                v.push(
                    GcloudStep::new(
                        format!(
                            "Its one endpoint, {}:{} (an internet NEG holds exactly one)",
                            e.fqdn.as_deref().or(e.ip_address.as_deref()).unwrap_or_default(),
                            e.port
                        ),
                        &["gcloud", "compute", "network-endpoint-groups", "update"],
                    )
                    .arg(&r.name)
                    .arg("--global")
                    .arg(format!("--add-endpoint={}", e.gcloud_arg()))
                    .arg(format!("--project={p}")),
                );
            }
            v
        }
        ResourceKind::BackendService => backend_service(r, p),
        ResourceKind::UrlMap | ResourceKind::RedirectUrlMap => {
            let only_default = b.as_object().is_some_and(|o| {
                o.keys()
                    .all(|k| ["name", "description", "defaultService"].contains(&k.as_str()))
            });
            if only_default {
                vec![
                    base(
                        r,
                        "URL map: everything to the default backend".into(),
                        "url-maps",
                        "create",
                        p,
                    )
                    .arg(format!(
                        "--default-service={}",
                        last_segment(str_at(b, "/defaultService"))
                    )),
                ]
            } else if r.kind == ResourceKind::RedirectUrlMap {
                vec![import(r, "URL map for port 80: 301 to https (no create flags for a redirect, so imported)".into(), "url-maps", p)]
            } else {
                vec![import(r, "URL map with the routing rules (rules, rewrites, splits and redirects have no create flags, so imported)".into(), "url-maps", p)]
            }
        }
        ResourceKind::SslCertificate => {
            let domains: Vec<&str> = b["managed"]["domains"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            // `--domains` is what makes the certificate Google-managed (type MANAGED).
            vec![
                base(r, "Google-managed certificate (becomes ACTIVE once DNS points at the load balancer)".into(), "ssl-certificates", "create", p)
                    .arg(format!("--domains={}", domains.join(","))),
            ]
        }
        ResourceKind::TargetHttpsProxy => {
            let certs: Vec<&str> = b["sslCertificates"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(last_segment)
                .collect();
            let step = base(r, "HTTPS proxy".into(), "target-https-proxies", "create", p)
                .arg(format!("--url-map={}", last_segment(str_at(b, "/urlMap"))))
                .args_if(
                    b.get("quicOverride").is_some(),
                    format!("--quic-override={}", str_at(b, "/quicOverride")),
                )
                .args_if(
                    b.get("sslPolicy").is_some(),
                    format!("--ssl-policy={}", last_segment(str_at(b, "/sslPolicy"))),
                );
            match b["certificateMap"].as_str() {
                // The map's own name; gcloud looks it up in location global.
                Some(map) => vec![step.arg(format!("--certificate-map={}", last_segment(map)))],
                None => vec![step.arg(format!("--ssl-certificates={}", certs.join(",")))],
            }
        }
        ResourceKind::TargetHttpProxy => vec![
            base(r, "HTTP proxy".into(), "target-http-proxies", "create", p)
                .arg(format!("--url-map={}", last_segment(str_at(b, "/urlMap")))),
        ],
        ResourceKind::GlobalAddress => vec![
            // A global address without --subnet is EXTERNAL, the only type a global one has here.
            base(
                r,
                if str_at(b, "/ipVersion") == "IPV6" {
                    "Reserved global IPv6 address (point the domains' DNS AAAA records at it)"
                } else {
                    "Reserved global IPv4 address (point the domains' DNS A records at it)"
                }
                .into(),
                "addresses",
                "create",
                p,
            )
            .arg(format!("--ip-version={}", str_at(b, "/ipVersion"))),
        ],
        ResourceKind::GlobalForwardingRule => {
            let target = str_at(b, "/target");
            let target_flag = if target.contains("/targetHttpsProxies/") {
                "--target-https-proxy"
            } else {
                "--target-http-proxy"
            };
            let mut s = base(
                r,
                format!("Forwarding rule on port {} (the scheme must be EXTERNAL_MANAGED like the backend services; gcloud's default EXTERNAL fails)", str_at(b, "/portRange")),
                "forwarding-rules",
                "create",
                p,
            )
            .arg(format!("--load-balancing-scheme={}", str_at(b, "/loadBalancingScheme")))
            .arg(format!("{target_flag}={}", last_segment(target)))
            .arg(format!("--ports={}", str_at(b, "/portRange")))
            .arg(format!("--ip-protocol={}", str_at(b, "/IPProtocol")))
            .arg(format!("--network-tier={}", str_at(b, "/networkTier")));
            if let Some(a) = b["IPAddress"].as_str() {
                s = s.arg(format!("--address={}", last_segment(a)));
            }
            if let Some(v) = b["ipVersion"].as_str() {
                s = s.arg(format!("--ip-version={v}"));
            }
            vec![s]
        }
        ResourceKind::SslPolicy => {
            let tls = str_at(b, "/minTlsVersion")
                .trim_start_matches("TLS_")
                .replace('_', ".");
            vec![
                base(r, "SSL policy of the HTTPS proxy (minimum TLS version and profile)".into(), "ssl-policies", "create", p)
                    .arg(format!("--profile={}", str_at(b, "/profile")))
                    .arg(format!("--min-tls-version={tls}")),
            ]
        }
        ResourceKind::RunService { .. } => Vec::new(),
        // Made by `certificate_manager::steps`.
        _ => Vec::new(),
    }
}

/// Fields `backend-services create` has flags for; anything else in the body means import.
const BACKEND_SERVICE_FLAGS: &[&str] = &[
    "name",
    "description",
    "loadBalancingScheme",
    "protocol",
    "enableCDN",
    "customRequestHeaders",
    "backends",
];

fn backend_service(r: &DesiredResource, p: &str) -> Vec<GcloudStep> {
    // Cloud Armor policies are output-only in the resource: attached by `update` once it
    // exists, as the plan's setSecurityPolicy calls do.
    let mut attach = GcloudStep::new(
        "Attach the Cloud Armor policies (made outside the panel)",
        &["gcloud", "compute", "backend-services", "update"],
    )
    .arg(&r.name)
    .arg("--global");
    let mut attached = false;
    for (field, flag) in [
        ("securityPolicy", "--security-policy"),
        ("edgeSecurityPolicy", "--edge-security-policy"),
    ] {
        if let Some(link) = r.body.get(field).and_then(Value::as_str) {
            attach = attach.arg(format!("{flag}={}", last_segment(link)));
            attached = true;
        }
    }
    let mut r = r.clone();
    if let Some(o) = r.body.as_object_mut() {
        o.remove("securityPolicy");
        o.remove("edgeSecurityPolicy");
    }
    let mut v = backend_service_made(&r, p);
    if attached {
        v.push(attach.arg(format!("--project={p}")));
    }
    v
}

fn backend_service_made(r: &DesiredResource, p: &str) -> Vec<GcloudStep> {
    let b = &r.body;
    let flags_suffice = b.as_object().is_some_and(|o| {
        o.keys()
            .all(|k| BACKEND_SERVICE_FLAGS.contains(&k.as_str()))
    });
    if !flags_suffice {
        return vec![import(
            r,
            format!(
                "Backend service {} with outlier detection, IAP, CDN cache settings or logging (imported as one resource; no health check: serverless and internet NEGs reject them)",
                r.name
            ),
            "backend-services",
            p,
        )];
    }
    let mut create = base(
        r,
        format!(
            "Backend service {} (no health check: serverless and internet NEGs reject them)",
            r.name
        ),
        "backend-services",
        "create",
        p,
    )
    .arg(format!(
        "--load-balancing-scheme={}",
        str_at(b, "/loadBalancingScheme")
    ))
    .arg(format!("--protocol={}", str_at(b, "/protocol")))
    .arg(if b["enableCDN"].as_bool() == Some(true) {
        "--enable-cdn"
    } else {
        "--no-enable-cdn"
    });
    for h in b["customRequestHeaders"].as_array().into_iter().flatten() {
        create = create.arg(format!(
            "--custom-request-header={}",
            h.as_str().unwrap_or_default()
        ));
    }
    let mut v = vec![create];
    for g in b["backends"].as_array().into_iter().flatten() {
        let group = str_at(g, "/group");
        let parts: Vec<&str> = group.split('/').collect();
        let mut add = GcloudStep::new(
            "Add a NEG (no --balancing-mode or --max-rate: serverless and internet NEGs reject them)",
            &["gcloud", "compute", "backend-services", "add-backend"],
        )
        .arg(&r.name)
        .arg("--global")
        .arg(format!("--network-endpoint-group={}", last_segment(group)));
        add = match parts.iter().position(|s| *s == "regions") {
            Some(i) => add.arg(format!(
                "--network-endpoint-group-region={}",
                parts.get(i + 1).copied().unwrap_or_default()
            )),
            None => add.arg("--global-network-endpoint-group"),
        };
        v.push(add.arg(format!("--project={p}")));
    }
    v
}
