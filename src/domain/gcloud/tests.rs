use super::*;
use serde_json::json;

fn spec(v: Value) -> Spec {
    serde_json::from_value(v).unwrap()
}

fn contract() -> Spec {
    spec(json!({
        "name": "shop", "project": "acme-edge",
        "frontend": { "protocol": "https", "domains": ["shop.example.com"], "ip": "static", "http_redirect": true },
        "backends": [
            { "name": "web", "type": "serverless", "service": "my-app",
              "regions": ["us-central1", "europe-west1"], "cdn": false, "outlier_detection": true },
            { "name": "hello2", "type": "internet", "fqdn": "hello2-3qx7k2dz6a-uc.a.run.app",
              "port": 443, "host_header": "hello2-3qx7k2dz6a-uc.a.run.app" }
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
fn services_are_enabled_first() {
    let l = lines(&commands(&contract()));
    assert_eq!(
        l[0],
        "gcloud services enable compute.googleapis.com run.googleapis.com --project=acme-edge"
    );
}

#[test]
fn outlier_detection_import_carries_the_interval_the_job_sends() {
    let s = commands(&contract());
    let imp = s
        .steps
        .iter()
        .find(|st| {
            st.command()
                .starts_with("gcloud compute backend-services import shop-bs-web")
        })
        .expect("imported");
    let yaml = &imp.file.as_ref().unwrap().content;
    let graph = plan::compile(&contract());
    let sent = &graph
        .resources
        .iter()
        .find(|r| r.name == "shop-bs-web")
        .unwrap()
        .body["outlierDetection"]["interval"]["seconds"];
    assert!(
        yaml.contains(&format!("  interval:\n    seconds: {sent}\n")),
        "{yaml}"
    );
    let l = lines(&s);
    assert!(l.iter().any(|c| c.starts_with("gcloud compute backend-services create shop-bs-hello2 --global --description=switchyard:deployment=shop --project=acme-edge --load-balancing-scheme=EXTERNAL_MANAGED --protocol=HTTPS --no-enable-cdn --custom-request-header='Host: hello2-3qx7k2dz6a-uc.a.run.app'")), "{l:#?}");
    assert!(
        l.iter()
            .all(|c| !c.contains("health") && !c.contains("max-rate"))
    );
}

#[test]
fn env_values_with_at_and_commas_and_secrets() {
    let mut v = serde_json::to_value(contract()).unwrap();
    v["services"] = json!([{ "name": "my-app", "image": "gcr.io/p/app:v1",
        "regions": ["us-central1", "europe-west1"], "env": [
            { "name": "MAIL", "value": "ops@example.com" },
            { "name": "LIST", "value": "a,b" },
            { "name": "DB_PASS", "secret": "db-pass", "version": "3" }
        ] }]);
    v["rollout"] = json!({ "canary_region": "europe-west1" });
    let l = lines(&commands(&spec(v)));
    let run: Vec<&String> = l
        .iter()
        .filter(|c| c.starts_with("gcloud run deploy"))
        .collect();
    assert!(run[0].contains("--region=europe-west1"), "{}", run[0]);
    assert!(
        run[0].contains("--set-env-vars='^|^MAIL=ops@example.com|LIST=a,b'"),
        "{}",
        run[0]
    );
    assert!(
        run[0].contains("--set-secrets=DB_PASS=db-pass:3 "),
        "{}",
        run[0]
    );
}

/// A spec using every feature the commands cover.
/// A spec using every feature the commands cover (also read by `examples/gcloud_check.rs`).
fn everything() -> Spec {
    crate::domain::parse::parse(include_str!("../../../tests/data/specs/everything.json")).unwrap()
}

/// Leaf fields of a JSON body as (path, value).
fn leaves(v: &Value, path: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            leaves(
                x,
                if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                },
                out,
            )
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| leaves(x, format!("{path}[{i}]"), out)),
        other => out.push((path, other.clone())),
    }
}

/// How a leaf value reads in a command: resource links by their last segment, API enums in
/// gcloud's lower-case flag form, booleans as the flag that sets them.
fn renderings(path: &str, v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => {
            let last = s.rsplit('/').next().unwrap_or(s).to_string();
            let mut r = vec![
                s.clone(),
                last.clone(),
                last.to_lowercase().replace('_', "-"),
            ];
            if path == "ingress" {
                r.push(match s.as_str() {
                    "INGRESS_TRAFFIC_INTERNAL_ONLY" => "--ingress=internal".into(),
                    "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" => {
                        "--ingress=internal-and-cloud-load-balancing".into()
                    }
                    _ => "--ingress=all".into(),
                });
            }
            match (path, s.as_str()) {
                // Implied by the flags: `--domains` makes a managed certificate, a global address
                // without `--subnet` is external.
                ("type", "MANAGED") => r.push("--domains=".into()),
                ("addressType", "EXTERNAL") => r.push("--global".into()),
                _ => {}
            }
            r
        }
        Value::Bool(b) => match path.rsplit('.').next().unwrap_or(path) {
            "enableCDN" => vec![
                if *b {
                    "--enable-cdn"
                } else {
                    "--no-enable-cdn"
                }
                .into(),
            ],
            "cpuIdle" => vec![
                if *b {
                    "--cpu-throttling"
                } else {
                    "--no-cpu-throttling"
                }
                .into(),
            ],
            _ => vec![v.to_string()],
        },
        other => vec![other.to_string()],
    }
}

fn seeds_and_everything() -> Vec<(String, Spec)> {
    let mut v: Vec<(String, Spec)> = crate::domain::tests::SEEDS
        .iter()
        .map(|(n, j)| (n.to_string(), crate::domain::parse::parse(j).unwrap()))
        .collect();
    v.push(("everything".into(), everything()));
    v
}

#[test]
fn every_leaf_of_every_body_is_in_its_command_or_imported_yaml() {
    for (name, spec) in seeds_and_everything() {
        let graph = plan::compile(&spec);
        let script = from_graph(&graph, spec.canary_region());
        for r in &graph.resources {
            let mine: Vec<&GcloudStep> = script
                .steps
                .iter()
                .filter(|s| s.resource.as_deref() == Some(r.id.as_str()))
                .collect();
            assert!(!mine.is_empty(), "{name}: no command for {}", r.id);
            let text: String = mine
                .iter()
                .map(|s| s.args.join(" ").to_lowercase())
                .collect::<Vec<_>>()
                .join("\n");
            let yaml: Option<&str> = mine
                .iter()
                .find_map(|s| s.file.as_ref().map(|f| f.content.as_str()));
            let mut ls = Vec::new();
            leaves(&r.body, String::new(), &mut ls);
            for (path, value) in ls {
                if let Some(y) = yaml {
                    let key = path.rsplit(['.', ']']).next().unwrap_or(&path);
                    let line = format!("{}: {value}", key);
                    let item = format!("- {value}");
                    assert!(
                        y.contains(&line) || y.contains(&item),
                        "{name}: {} field {path} ({value}) missing from the imported YAML",
                        r.id
                    );
                    continue;
                }
                // The Run service's full name is its region and name flags.
                if r.kind.collection() == "services" && path == "name" {
                    continue;
                }
                // gcloud has no flag for a NEG's description (compute::is_neg).
                if super::compute::is_neg(r) && path == "description" {
                    continue;
                }
                assert!(
                    renderings(&path, &value)
                        .iter()
                        .any(|x| text.contains(&x.to_lowercase())),
                    "{name}: {} field {path} ({value}) missing from {text}",
                    r.id
                );
            }
        }
    }
}

#[test]
fn internet_neg_backends_get_no_outlier_detection() {
    let graph = plan::compile(&everything());
    let ext = graph
        .resources
        .iter()
        .find(|r| r.name == "all-bs-ext")
        .unwrap();
    assert!(ext.body.get("outlierDetection").is_none(), "{}", ext.body);
    let web = graph
        .resources
        .iter()
        .find(|r| r.name == "all-bs-web")
        .unwrap();
    assert!(web.body.get("outlierDetection").is_some());
    let w = crate::domain::lint::lint(&everything());
    assert!(
        w.iter().any(|w| w.code == "internet-neg-outlier-detection"
            && w.field == "backends[1].outlier_detection"),
        "{w:?}"
    );
}

#[test]
fn an_ip_backend_is_an_internet_ip_port_neg_with_an_ip_endpoint() {
    let s = spec(json!({
        "name": "front-lb", "project": "front-project",
        "frontend": { "protocol": "http", "ip": "static" },
        "backends": [ { "name": "multi", "type": "internet", "ip": "34.120.1.2" } ],
        "routing": { "default": { "backend": "multi" } }
    }));
    let l = lines(&commands(&s));
    let neg = crate::domain::names::internet_neg("front-lb", "34.120.1.2", 443);
    assert!(
        l.contains(&format!(
            "gcloud compute network-endpoint-groups create {neg} --global --project=front-project --network-endpoint-type=internet-ip-port --default-port=443"
        )),
        "{l:#?}"
    );
    assert!(
        l.contains(&format!(
            "gcloud compute network-endpoint-groups update {neg} --global --add-endpoint=ip=34.120.1.2,port=443 --project=front-project"
        )),
        "{l:#?}"
    );
}

#[test]
fn certificate_manager_commands_for_seed_000() {
    let mut spec: crate::domain::spec::Spec =
        serde_json::from_str(include_str!("../../../tests/data/seeds/seed-000.json")).unwrap();
    spec.frontend.certificate = crate::domain::spec::CertificateMode::CertificateManager;
    spec.frontend.domains = vec!["your-domain.com".into(), "*.your-domain.com".into()];
    let script = super::commands(&spec);
    let lines: Vec<String> = script.steps.iter().map(|s| s.command()).collect();
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(has("certificatemanager.googleapis.com"), "{lines:#?}");
    assert!(has(
        "gcloud certificate-manager dns-authorizations create global-app-dnsauth-"
    ));
    assert!(has("--domain=your-domain.com"));
    assert!(has(
        "gcloud certificate-manager certificates create global-app-cmcert-"
    ));
    assert!(has("--domains='*.your-domain.com'"), "{lines:#?}");
    assert!(has(
        "gcloud certificate-manager maps create global-app-certmap"
    ));
    assert!(has("--hostname=your-domain.com"));
    assert!(has("--set-primary"));
    assert!(has("--certificate-map=global-app-certmap"));
    assert!(!has("ssl-certificates"));
    if std::env::var("GCLOUD_COMMANDS_OUT").is_ok() {
        std::fs::write("/tmp/cm-commands.txt", lines.join("\n")).unwrap();
    }
}

#[test]
fn a_multi_region_service_with_a_readiness_probe_is_one_alpha_deploy() {
    let spec =
        crate::domain::parse::parse(include_str!("../../../tests/data/specs/multi-region.json"))
            .unwrap();
    let l = lines(&commands(&spec));
    let run: Vec<&String> = l.iter().filter(|c| c.contains(" run deploy ")).collect();
    assert_eq!(run.len(), 1, "{run:#?}");
    assert!(
        run[0].starts_with("gcloud alpha run deploy my-app --image=us-docker.pkg.dev/cloudrun/container/hello --regions=us-central1,europe-west1,asia-east1 --readiness-probe=httpGet.path=/ready,periodSeconds=5,timeoutSeconds=2,failureThreshold=3 "),
        "{}",
        run[0]
    );
}

#[test]
fn frontend_options_have_their_flags() {
    let mut v = serde_json::to_value(contract()).unwrap();
    v["frontend"]["ipv6"] = json!(true);
    v["frontend"]["http3"] = json!(true);
    v["frontend"]["ssl_policy"] = json!({ "min_tls_version": "1.2", "profile": "MODERN" });
    let l = lines(&commands(&spec(v)));
    let has = |start: &str, flags: &[&str]| {
        let line = l
            .iter()
            .find(|c| c.starts_with(start))
            .unwrap_or_else(|| panic!("no {start}: {l:#?}"));
        for f in flags {
            assert!(line.contains(f), "{line} lacks {f}");
        }
    };
    has(
        "gcloud compute ssl-policies create shop-ssl-policy --global",
        &["--profile=MODERN", "--min-tls-version=1.2"],
    );
    has(
        "gcloud compute target-https-proxies create shop-https-proxy",
        &["--quic-override=ENABLE", "--ssl-policy=shop-ssl-policy"],
    );
    has(
        "gcloud compute addresses create shop-ipv6",
        &["--ip-version=IPV6"],
    );
    has(
        "gcloud compute forwarding-rules create shop-https-fr-ipv6",
        &["--address=shop-ipv6", "--ip-version=IPV6", "--ports=443"],
    );
    has(
        "gcloud compute forwarding-rules create shop-http-fr-ipv6",
        &["--target-http-proxy=shop-http-proxy", "--ports=80"],
    );
    let policy = l
        .iter()
        .position(|c| c.contains("ssl-policies create"))
        .unwrap();
    let proxy = l
        .iter()
        .position(|c| c.contains("target-https-proxies create"))
        .unwrap();
    assert!(policy < proxy);
    if std::env::var("PRINT_GCLOUD").is_ok() {
        for c in &l {
            println!("{c}");
        }
    }
}

#[test]
fn cloud_armor_is_attached_after_the_import_and_iap_and_the_default_url_are_flags() {
    let s = commands(&spec(json!({
        "name": "shop", "project": "p",
        "frontend": { "protocol": "http", "ip": "ephemeral" },
        "services": [ { "name": "app", "image": "us-docker.pkg.dev/p/r/app:1",
                        "regions": ["us-central1"], "default_url": false } ],
        "backends": [
            { "name": "web", "type": "serverless", "service": "app", "regions": ["us-central1"],
              "security_policy": "armor", "edge_security_policy": "edge", "iap": "cloud-run",
              "logging": { "sample_rate": 0.5 } }
        ],
        "routing": { "default": { "backend": "web" } }
    })));
    let l = lines(&s);
    let import = l
        .iter()
        .position(|c| c.starts_with("gcloud compute backend-services import shop-bs-web"))
        .expect("imported for its logConfig");
    let attach = l
        .iter()
        .position(|c| {
            c == "gcloud compute backend-services update shop-bs-web --global --security-policy=armor --edge-security-policy=edge --project=p"
        })
        .unwrap_or_else(|| panic!("{l:#?}"));
    assert!(attach > import);
    let file = s
        .steps
        .iter()
        .filter_map(|st| st.file.as_ref())
        .find(|f| f.content.contains("logConfig"))
        .unwrap();
    assert!(!file.content.contains("securityPolicy"), "{}", file.content);
    let deploy = l.iter().find(|c| c.contains(" run deploy app ")).unwrap();
    // Both flags are beta in gcloud 528 (`cargo run --example gcloud_check` parses it).
    assert!(
        deploy.starts_with("gcloud beta run deploy app "),
        "{deploy}"
    );
    assert!(
        deploy.contains(" --iap ") && deploy.contains(" --no-default-url "),
        "{deploy}"
    );
}
