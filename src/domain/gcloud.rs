//! The gcloud commands that build the same load balancer as a spec, for people who want to see,
//! review or run by hand what the panel does. Resource names come from `names`, so the commands
//! and the panel describe the same resources.
//!
//! Where gcloud has no flags for what the spec asks (URL maps with rules, rewrites or splits;
//! redirects; outlier detection) the resource is written as a YAML file and imported, which is
//! also what `gcloud ... export` gives back.

use serde::Serialize;
use serde_json::{Value, json};

use super::names;
use super::plan;
use super::spec::{Backend, BackendKind, EnvSource, IpKind, Protocol, Spec, Target};

/// Base of the resource URLs written into imported files (the form Compute itself returns).
const COMPUTE: &str = "https://www.googleapis.com/compute/v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GcloudFile {
    pub name: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GcloudStep {
    /// One line saying what the step does and, where it matters, why it is done this way.
    pub comment: String,
    /// A file the command reads, written just before it.
    pub file: Option<GcloudFile>,
    /// Program and arguments, unquoted.
    pub args: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GcloudScript {
    pub steps: Vec<GcloudStep>,
}

impl GcloudStep {
    fn new(comment: impl Into<String>, args: &[&str]) -> Self {
        GcloudStep {
            comment: comment.into(),
            file: None,
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }

    fn with_file(mut self, name: &str, content: String) -> Self {
        self.file = Some(GcloudFile {
            name: name.into(),
            content,
        });
        self
    }

    /// The command as one shell line (arguments quoted where needed).
    pub fn command(&self) -> String {
        self.args
            .iter()
            .map(|a| sh_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl GcloudScript {
    /// A bash script: comments, heredocs for the files, one command per step with one flag per
    /// line.
    pub fn to_shell(&self) -> String {
        let mut s = String::from("#!/usr/bin/env bash\nset -euo pipefail\n");
        for step in &self.steps {
            s.push_str(&format!("\n# {}\n", step.comment));
            if let Some(f) = &step.file {
                s.push_str(&format!(
                    "cat > {} <<'EOF'\n{}EOF\n",
                    sh_quote(&f.name),
                    f.content
                ));
            }
            let mut line = String::new();
            for (i, a) in step.args.iter().enumerate() {
                if i > 0 && a.starts_with("--") {
                    line.push_str(" \\\n    ");
                } else if i > 0 {
                    line.push(' ');
                }
                line.push_str(&sh_quote(a));
            }
            s.push_str(&line);
            s.push('\n');
        }
        s
    }
}

/// Single-quotes an argument unless it only has characters the shell leaves alone; for
/// `--flag=value` only the value is quoted, which reads like hand-written gcloud.
fn sh_quote(a: &str) -> String {
    if let Some((flag, value)) = a.split_once('=')
        && flag.starts_with("--")
        && flag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return format!("{flag}={}", quote_word(value));
    }
    quote_word(a)
}

fn quote_word(a: &str) -> String {
    let plain = !a.is_empty()
        && a.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=./:,@%+".contains(&b));
    if plain {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', r"'\''"))
    }
}

/// Minimal block-style YAML for a JSON value; strings are written double-quoted (JSON escapes
/// are valid YAML), so nothing a user typed can change the structure.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    yaml(v, 0, &mut out);
    out
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) if o.is_empty() => Some("{}".into()),
        Value::Array(a) if a.is_empty() => Some("[]".into()),
        Value::Object(_) | Value::Array(_) => None,
        other => Some(other.to_string()),
    }
}

fn yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (k, val) in o {
                match scalar(val) {
                    Some(s) => out.push_str(&format!("{pad}{k}: {s}\n")),
                    None => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        yaml(val, indent + 2, out);
                    }
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for item in a {
                match scalar(item) {
                    Some(s) => out.push_str(&format!("{pad}- {s}\n")),
                    None => {
                        let mut inner = String::new();
                        yaml(item, indent + 2, &mut inner);
                        // The first line of the nested block moves up behind the dash.
                        out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                    }
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other).unwrap_or_default())),
    }
}

/// Outlier detection Switchyard sets when a backend asks for it: eject a NEG after 5
/// consecutive 5xx (enforced 100 % — the API default enforces only gateway failures) for 30 s,
/// checked every 10 s, at most half the NEGs at once. Success-rate fields are left out: they are
/// not supported with serverless NEGs (docs/google-cloud.md §4).
pub fn outlier_detection() -> Value {
    json!({
        "consecutiveErrors": 5,
        "enforcingConsecutiveErrors": 100,
        "consecutiveGatewayFailure": 3,
        "enforcingConsecutiveGatewayFailure": 100,
        "interval": { "seconds": 10 },
        "baseEjectionTime": { "seconds": 30 },
        "maxEjectionPercent": 50
    })
}

fn neg_url(spec: &Spec, b: &Backend, region: Option<&str>) -> String {
    match (&b.kind, region) {
        (BackendKind::Serverless { service, .. }, Some(r)) => format!(
            "{COMPUTE}/projects/{}/regions/{r}/networkEndpointGroups/{}",
            spec.project,
            names::serverless_neg(&spec.name, &b.name, r, service)
        ),
        (BackendKind::Internet { fqdn, port, .. }, _) => format!(
            "{COMPUTE}/projects/{}/global/networkEndpointGroups/{}",
            spec.project,
            names::internet_neg(&spec.name, fqdn, *port)
        ),
        (BackendKind::Serverless { .. }, None) => String::new(),
    }
}

/// The commands for a spec (assumed valid), in the order the resources depend on each other:
/// NEGs, backend services, URL map, certificate, proxy, address, forwarding rules.
pub fn commands(spec: &Spec) -> GcloudScript {
    let d = &spec.name;
    let project = format!("--project={}", spec.project);
    let description = format!("--description={}", names::owner_marker(d));
    let mut steps: Vec<GcloudStep> = Vec::new();

    // Cloud Run services first (the canary region first when there is one): the NEGs name them.
    let canary = spec.canary_region();
    for svc in &spec.services {
        let mut regions: Vec<&String> = svc.regions.iter().collect();
        regions.sort_by_key(|r| Some(r.as_str()) != canary);
        for r in regions {
            let mut step = GcloudStep::new(
                if Some(r.as_str()) == canary {
                    format!("Cloud Run service {} in {r}, the canary region: check it is Ready before the others", svc.name)
                } else {
                    format!("Cloud Run service {} in {r}", svc.name)
                },
                &["gcloud", "run", "deploy"],
            )
            .arg(&svc.name)
            .arg(format!("--image={}", svc.image))
            .arg(format!("--region={r}"))
            .arg(format!("--min-instances={}", svc.min_instances))
            .arg(format!("--max-instances={}", svc.max_instances))
            .arg(format!("--memory={}", svc.memory))
            .arg(format!("--cpu={}", svc.cpu))
            .arg(format!("--concurrency={}", svc.concurrency))
            .arg(format!("--ingress={}", svc.ingress.as_str()))
            .arg(if svc.allow_unauthenticated {
                "--allow-unauthenticated"
            } else {
                "--no-allow-unauthenticated"
            })
            .arg(format!("--description={}", names::owner_marker(d)))
            .arg(format!(
                "--labels=managed-by=switchyard,switchyard-deployment={d}"
            ));
            let mut env = Vec::new();
            let mut secrets = Vec::new();
            for e in &svc.env {
                match e.source() {
                    EnvSource::Value(v) => env.push(format!("{}={v}", e.name)),
                    EnvSource::Secret { secret, version } => {
                        secrets.push(format!("{}={secret}:{version}", e.name))
                    }
                }
            }
            if !env.is_empty() {
                // `^@^` switches gcloud's list separator so values may contain commas.
                step = step.arg(format!("--set-env-vars=^@^{}", env.join("@")));
            }
            if !secrets.is_empty() {
                // Secret ids and versions have no commas: gcloud's default separator does.
                step = step.arg(format!("--set-secrets={}", secrets.join(",")));
            }
            steps.push(step.arg(&project));
        }
    }

    // NEGs. Backends with the same fqdn and port share one internet NEG.
    let mut internet_negs: Vec<String> = Vec::new();
    for b in &spec.backends {
        match &b.kind {
            BackendKind::Serverless { service, regions } => {
                for r in regions {
                    steps.push(
                        GcloudStep::new(
                            format!("Serverless NEG for Cloud Run service {service} in {r} (backend {})", b.name),
                            &["gcloud", "compute", "network-endpoint-groups", "create"],
                        )
                        .arg(names::serverless_neg(d, &b.name, r, service))
                        .arg(format!("--region={r}"))
                        .arg("--network-endpoint-type=serverless")
                        .arg(format!("--cloud-run-service={service}"))
                        .arg(&project),
                    );
                }
            }
            BackendKind::Internet { fqdn, port, .. } => {
                let neg = names::internet_neg(d, fqdn, *port);
                if internet_negs.contains(&neg) {
                    continue;
                }
                internet_negs.push(neg.clone());
                steps.push(
                    GcloudStep::new(
                        format!("Global internet NEG for {fqdn}:{port}"),
                        &["gcloud", "compute", "network-endpoint-groups", "create"],
                    )
                    .arg(&neg)
                    .arg("--global")
                    .arg("--network-endpoint-type=internet-fqdn-port")
                    .arg(format!("--default-port={port}"))
                    .arg(&project),
                );
                steps.push(
                    GcloudStep::new(
                        "Its one endpoint (an internet NEG holds exactly one)",
                        &["gcloud", "compute", "network-endpoint-groups", "update"],
                    )
                    .arg(&neg)
                    .arg("--global")
                    .arg(format!("--add-endpoint=fqdn={fqdn},port={port}"))
                    .arg(&project),
                );
            }
        }
    }

    // Backend services: no health checks, no balancing mode (both rejected for serverless and
    // internet NEGs).
    for b in &spec.backends {
        let bs = names::backend_service(d, &b.name);
        if b.outlier_detection {
            // gcloud has no flags for outlier detection: import the whole backend service.
            let mut body = json!({
                "name": bs,
                "description": names::owner_marker(d),
                "loadBalancingScheme": "EXTERNAL_MANAGED",
                "enableCDN": b.cdn,
                "outlierDetection": outlier_detection(),
            });
            let groups: Vec<Value> = match &b.kind {
                BackendKind::Serverless { regions, .. } => regions
                    .iter()
                    .map(|r| json!({ "group": neg_url(spec, b, Some(r)) }))
                    .collect(),
                BackendKind::Internet { host_header, .. } => {
                    body["protocol"] = json!("HTTPS");
                    if let Some(h) = host_header {
                        body["customRequestHeaders"] = json!([format!("Host: {h}")]);
                    }
                    vec![json!({ "group": neg_url(spec, b, None) })]
                }
            };
            body["backends"] = Value::Array(groups);
            steps.push(
                GcloudStep::new(
                    format!("Backend service for {} with outlier detection (no gcloud flags for it, so imported; no health check: serverless and internet NEGs reject them)", b.name),
                    &["gcloud", "compute", "backend-services", "import"],
                )
                .arg(&bs)
                .arg("--global")
                .arg(format!("--source={bs}.yaml"))
                .arg("--quiet")
                .arg(&project)
                .with_file(&format!("{bs}.yaml"), to_yaml(&body)),
            );
            continue;
        }
        let mut create = GcloudStep::new(
            format!("Backend service for {} (no health check: serverless and internet NEGs reject them)", b.name),
            &["gcloud", "compute", "backend-services", "create"],
        )
        .arg(&bs)
        .arg("--global")
        .arg("--load-balancing-scheme=EXTERNAL_MANAGED");
        if let BackendKind::Internet { host_header, .. } = &b.kind {
            create = create.arg("--protocol=HTTPS");
            if let Some(h) = host_header {
                create = create.arg(format!("--custom-request-header=Host: {h}"));
            }
        }
        if b.cdn {
            create = create.arg("--enable-cdn");
        }
        steps.push(create.arg(&description).arg(&project));
        match &b.kind {
            BackendKind::Serverless { regions, service } => {
                for r in regions {
                    steps.push(
                        GcloudStep::new(
                            format!("Add the {r} NEG (no --balancing-mode or --max-rate: serverless NEGs reject them)"),
                            &["gcloud", "compute", "backend-services", "add-backend"],
                        )
                        .arg(&bs)
                        .arg("--global")
                        .arg(format!("--network-endpoint-group={}", names::serverless_neg(d, &b.name, r, service)))
                        .arg(format!("--network-endpoint-group-region={r}"))
                        .arg(&project),
                    );
                }
            }
            BackendKind::Internet { fqdn, port, .. } => steps.push(
                GcloudStep::new(
                    "Add the internet NEG",
                    &["gcloud", "compute", "backend-services", "add-backend"],
                )
                .arg(&bs)
                .arg("--global")
                .arg("--global-network-endpoint-group")
                .arg(format!(
                    "--network-endpoint-group={}",
                    names::internet_neg(d, fqdn, *port)
                ))
                .arg(&project),
            ),
        }
    }

    // URL map.
    let um = names::url_map(d);
    match (&spec.routing.default, spec.routing.rules.is_empty()) {
        (Target::Backend { backend }, true) => steps.push(
            GcloudStep::new(
                "URL map: everything to the default backend",
                &["gcloud", "compute", "url-maps", "create"],
            )
            .arg(&um)
            .arg("--global")
            .arg(format!(
                "--default-service={}",
                names::backend_service(d, backend)
            ))
            .arg(&description)
            .arg(&project),
        ),
        _ => {
            let map = plan::url_map(spec, &|b| {
                format!(
                    "{COMPUTE}/projects/{}/global/backendServices/{}",
                    spec.project,
                    names::backend_service(d, b)
                )
            });
            let value = serde_json::to_value(&map).unwrap_or(Value::Null);
            steps.push(
                GcloudStep::new(
                    "URL map with the routing rules (rewrites and splits have no create flags, so imported)",
                    &["gcloud", "compute", "url-maps", "import"],
                )
                .arg(&um)
                .arg("--global")
                .arg(format!("--source={um}.yaml"))
                .arg("--quiet")
                .arg(&project)
                .with_file(&format!("{um}.yaml"), to_yaml(&value)),
            );
        }
    }

    let address = names::address(d);
    let address_arg = match spec.frontend.ip {
        IpKind::Static => {
            steps.push(
                GcloudStep::new(
                    "Reserved global IPv4 address (point the domains' DNS A records at it)",
                    &["gcloud", "compute", "addresses", "create"],
                )
                .arg(&address)
                .arg("--global")
                .arg("--ip-version=IPV4")
                .arg(&description)
                .arg(&project),
            );
            Some(format!("--address={address}"))
        }
        IpKind::Ephemeral => None,
    };

    match spec.frontend.protocol {
        Protocol::Https => {
            let cert = names::certificate(d, &spec.frontend.domains);
            steps.push(
                GcloudStep::new(
                    "Google-managed certificate (becomes ACTIVE once DNS points at the load balancer)",
                    &["gcloud", "compute", "ssl-certificates", "create"],
                )
                .arg(&cert)
                .arg("--global")
                .arg(format!("--domains={}", spec.frontend.domains.join(",")))
                .arg(&description)
                .arg(&project),
            );
            let proxy = names::https_proxy(d);
            steps.push(
                GcloudStep::new(
                    "HTTPS proxy",
                    &["gcloud", "compute", "target-https-proxies", "create"],
                )
                .arg(&proxy)
                .arg("--global")
                .arg(format!("--url-map={um}"))
                .arg(format!("--ssl-certificates={cert}"))
                .arg(&description)
                .arg(&project),
            );
            steps.push(forwarding_rule(
                names::https_forwarding_rule(d),
                format!("--target-https-proxy={proxy}"),
                "443",
                &address_arg,
                &description,
                &project,
            ));
            if spec.frontend.http_redirect {
                let redirect = names::redirect_url_map(d);
                let value = serde_json::to_value(plan::redirect_map(d)).unwrap_or(Value::Null);
                steps.push(
                    GcloudStep::new(
                        "URL map for port 80: 301 to https",
                        &["gcloud", "compute", "url-maps", "import"],
                    )
                    .arg(&redirect)
                    .arg("--global")
                    .arg(format!("--source={redirect}.yaml"))
                    .arg("--quiet")
                    .arg(&project)
                    .with_file(&format!("{redirect}.yaml"), to_yaml(&value)),
                );
                let http_proxy = names::http_proxy(d);
                steps.push(
                    GcloudStep::new(
                        "HTTP proxy for the redirect",
                        &["gcloud", "compute", "target-http-proxies", "create"],
                    )
                    .arg(&http_proxy)
                    .arg("--global")
                    .arg(format!("--url-map={redirect}"))
                    .arg(&description)
                    .arg(&project),
                );
                steps.push(forwarding_rule(
                    names::http_forwarding_rule(d),
                    format!("--target-http-proxy={http_proxy}"),
                    "80",
                    &address_arg,
                    &description,
                    &project,
                ));
            }
        }
        Protocol::Http => {
            let proxy = names::http_proxy(d);
            steps.push(
                GcloudStep::new(
                    "HTTP proxy",
                    &["gcloud", "compute", "target-http-proxies", "create"],
                )
                .arg(&proxy)
                .arg("--global")
                .arg(format!("--url-map={um}"))
                .arg(&description)
                .arg(&project),
            );
            steps.push(forwarding_rule(
                names::http_forwarding_rule(d),
                format!("--target-http-proxy={proxy}"),
                "80",
                &address_arg,
                &description,
                &project,
            ));
        }
    }
    GcloudScript { steps }
}

fn forwarding_rule(
    name: String,
    target: String,
    port: &str,
    address: &Option<String>,
    description: &str,
    project: &str,
) -> GcloudStep {
    let mut step = GcloudStep::new(
        format!("Forwarding rule on port {port} (the scheme must be EXTERNAL_MANAGED like the backend services; gcloud's default EXTERNAL fails)"),
        &["gcloud", "compute", "forwarding-rules", "create"],
    )
    .arg(name)
    .arg("--global")
    .arg("--load-balancing-scheme=EXTERNAL_MANAGED")
    .arg(target)
    .arg(format!("--ports={port}"));
    if let Some(a) = address {
        step = step.arg(a);
    }
    step.arg(description).arg(project)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Value) -> Spec {
        serde_json::from_value(v).unwrap()
    }

    fn contract() -> Spec {
        spec(json!({
            "name": "shop", "project": "acme-edge",
            "frontend": { "protocol": "https", "domains": ["shop.example.com"], "ip": "static", "http_redirect": true },
            "backends": [
                { "name": "web", "type": "serverless", "service": "my-app",
                  "regions": ["us-central1", "europe-west1"], "cdn": false, "outlier_detection": false },
                { "name": "hello2", "type": "internet", "fqdn": "hello2-3qx7k2dz6a-uc.a.run.app",
                  "port": 443, "host_header": "hello2-3qx7k2dz6a-uc.a.run.app" },
                { "name": "hello3", "type": "internet", "fqdn": "hello2-3qx7k2dz6a-uc.a.run.app",
                  "port": 443, "host_header": "hello3-3qx7k2dz6a-uc.a.run.app", "outlier_detection": true }
            ],
            "routing": {
                "default": { "backend": "web" },
                "rules": [ { "hosts": ["*"], "paths": ["/hello2", "/hello2/*"], "backend": "hello2", "prefix_rewrite": "/" } ]
            }
        }))
    }

    fn lines(s: &GcloudScript) -> Vec<String> {
        s.steps.iter().map(GcloudStep::command).collect()
    }

    #[test]
    fn serverless_and_internet_negs_with_correct_flags() {
        let l = lines(&commands(&contract()));
        assert!(l.contains(&"gcloud compute network-endpoint-groups create shop-web-us-central1-0a51fc --region=us-central1 --network-endpoint-type=serverless --cloud-run-service=my-app --project=acme-edge".to_string()), "{l:#?}");
        let neg = names::internet_neg("shop", "hello2-3qx7k2dz6a-uc.a.run.app", 443);
        // One NEG for the two backends sharing fqdn and port.
        assert_eq!(
            l.iter()
                .filter(|c| c.contains("network-endpoint-groups create")
                    && c.contains("internet-fqdn-port"))
                .count(),
            1
        );
        assert!(l.contains(&format!("gcloud compute network-endpoint-groups create {neg} --global --network-endpoint-type=internet-fqdn-port --default-port=443 --project=acme-edge")));
        assert!(l.contains(&format!("gcloud compute network-endpoint-groups update {neg} --global --add-endpoint=fqdn=hello2-3qx7k2dz6a-uc.a.run.app,port=443 --project=acme-edge")));
    }

    #[test]
    fn backend_services_have_no_health_checks_and_set_host() {
        let s = commands(&contract());
        let l = lines(&s);
        assert!(l.iter().all(|c| !c.contains("health")
            && !c.contains("max-rate")
            && !c.contains("balancing-mode")));
        assert!(l.iter().any(|c| c.starts_with("gcloud compute backend-services create shop-bs-hello2 --global --load-balancing-scheme=EXTERNAL_MANAGED --protocol=HTTPS --custom-request-header='Host: hello2-3qx7k2dz6a-uc.a.run.app'")), "{l:#?}");
        assert!(l.contains(&"gcloud compute backend-services add-backend shop-bs-web --global --network-endpoint-group=shop-web-europe-west1-0a51fc --network-endpoint-group-region=europe-west1 --project=acme-edge".to_string()));
        // Outlier detection goes through import with the whole resource.
        let imp = s
            .steps
            .iter()
            .find(|st| {
                st.command()
                    .starts_with("gcloud compute backend-services import shop-bs-hello3")
            })
            .unwrap();
        let yaml = &imp.file.as_ref().unwrap().content;
        assert!(
            yaml.contains("outlierDetection:\n") && yaml.contains("\n  consecutiveErrors: 5\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("customRequestHeaders:\n  - \"Host: hello3-3qx7k2dz6a-uc.a.run.app\"\n"),
            "{yaml}"
        );
        assert!(yaml.contains("backends:\n  - group: \"https://www.googleapis.com/compute/v1/projects/acme-edge/global/networkEndpointGroups/shop-ineg-"), "{yaml}");
    }

    #[test]
    fn url_map_import_carries_the_rewrite_and_frontend_is_complete() {
        let s = commands(&contract());
        let imp = s
            .steps
            .iter()
            .find(|st| {
                st.command().starts_with(
                    "gcloud compute url-maps import shop-urlmap --global --source=shop-urlmap.yaml",
                )
            })
            .unwrap();
        let yaml = &imp.file.as_ref().unwrap().content;
        assert!(yaml.contains("defaultService: \"https://www.googleapis.com/compute/v1/projects/acme-edge/global/backendServices/shop-bs-web\"\n"), "{yaml}");
        assert!(
            yaml.contains("        routeAction:\n          urlRewrite:\n            pathPrefixRewrite: \"/\"\n"),
            "{yaml}"
        );
        assert!(yaml.contains("    pathRules:\n      - paths:\n"), "{yaml}");
        let l = lines(&s);
        let cert = names::certificate("shop", &["shop.example.com".into()]);
        assert!(l.contains(&format!("gcloud compute ssl-certificates create {cert} --global --domains=shop.example.com --description=switchyard:deployment=shop --project=acme-edge")));
        assert!(l.contains(&"gcloud compute forwarding-rules create shop-https-fr --global --load-balancing-scheme=EXTERNAL_MANAGED --target-https-proxy=shop-https-proxy --ports=443 --address=shop-ip --description=switchyard:deployment=shop --project=acme-edge".to_string()), "{l:#?}");
        assert!(
            l.iter()
                .any(|c| c.starts_with("gcloud compute url-maps import shop-redirect"))
        );
        assert!(l.iter().any(|c| {
            c.starts_with("gcloud compute forwarding-rules create shop-http-fr")
                && c.contains("--ports=80")
                && c.contains("--target-http-proxy=shop-http-proxy")
        }));
        let sh = s.to_shell();
        assert!(sh.starts_with("#!/usr/bin/env bash\nset -euo pipefail\n"));
        assert!(sh.contains("cat > shop-urlmap.yaml <<'EOF'\n"));
        assert!(sh.contains(" \\\n    --global"));
    }

    #[test]
    fn simple_http_spec_uses_create_and_no_address_when_ephemeral() {
        let s = spec(json!({
            "name": "app", "project": "acme-edge",
            "frontend": { "protocol": "http", "ip": "ephemeral" },
            "backends": [{ "name": "web", "type": "serverless", "service": "my-app", "regions": ["us-central1"] }],
            "routing": { "default": { "backend": "web" } }
        }));
        let l = lines(&commands(&s));
        assert!(l.contains(&"gcloud compute url-maps create app-urlmap --global --default-service=app-bs-web --description=switchyard:deployment=app --project=acme-edge".to_string()));
        assert!(
            l.iter()
                .all(|c| !c.contains("addresses create") && !c.contains("--address="))
        );
        assert!(l.iter().any(|c| c.starts_with(
            "gcloud compute target-http-proxies create app-http-proxy --global --url-map=app-urlmap"
        )));
        assert!(l.iter().all(|c| !c.contains("ssl-certificates")));
    }

    #[test]
    fn yaml_of_nested_values() {
        let y = to_yaml(&json!({"a": [{"b": 1, "c": ["x"]}, 2], "d": {}, "e": "it's \"q\""}));
        assert_eq!(
            y,
            "a:\n  - b: 1\n    c:\n      - \"x\"\n  - 2\nd: {}\ne: \"it's \\\"q\\\"\"\n"
        );
    }

    #[test]
    fn services_are_deployed_first_canary_region_first() {
        let mut v = serde_json::to_value(contract()).unwrap();
        v["services"] = json!([{ "name": "my-app", "image": "gcr.io/p/app:v1",
            "regions": ["us-central1", "europe-west1"], "env": { "A": "1,2" } }]);
        v["rollout"] = json!({ "canary_region": "europe-west1" });
        let s = commands(&spec(v));
        let l = lines(&s);
        assert!(l[0].starts_with("gcloud run deploy my-app"), "{l:?}");
        assert!(l[0].contains("--region=europe-west1"), "{}", l[0]);
        assert!(l[1].contains("--region=us-central1"));
        assert!(l[0].contains("--ingress=internal-and-cloud-load-balancing"));
        assert!(l[0].contains("--allow-unauthenticated"));
        assert!(l[0].contains("^@^A=1,2"), "{}", l[0]);
        assert!(!l[0].contains("--set-secrets"), "{}", l[0]);
    }

    #[test]
    fn secret_references_are_set_with_set_secrets() {
        let mut v = serde_json::to_value(contract()).unwrap();
        v["services"] = json!([{ "name": "my-app", "image": "gcr.io/p/app:v1",
            "regions": ["us-central1"], "env": [
                { "name": "MODE", "value": "prod" },
                { "name": "DB_PASS", "secret": "db-pass", "version": "3" },
                { "name": "API_KEY", "secret": "projects/other-proj/secrets/api-key" }
            ] }]);
        let l = lines(&commands(&spec(v)));
        assert!(l[0].contains("--set-env-vars='^@^MODE=prod' "), "{}", l[0]);
        assert!(
            l[0].contains(
                "--set-secrets=DB_PASS=db-pass:3,API_KEY=projects/other-proj/secrets/api-key:latest "
            ),
            "{}",
            l[0]
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("--x=a,b"), "--x=a,b");
        assert_eq!(sh_quote("Host: a"), "'Host: a'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote("--h=Host: a"), "--h='Host: a'");
    }
}
