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
