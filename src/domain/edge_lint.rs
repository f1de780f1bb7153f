//! Lints about a backend's edge security (API-NOTES §18.3, §20): what Google accepts but does
//! not protect as the spec suggests. Above all the run.app bypass: Cloud Armor and IAP on the
//! load balancer only see requests that come through it, so a Cloud Run service still
//! reachable on its own URL is reachable around them. The combinations Google refuses (IAP
//! with CDN, IAP with outlier detection) are validation errors (`edge_security::problems`).

use super::edge_security::Iap;
use super::lint::{Level, Warning};
use super::spec::{Backend, BackendKind, Ingress, Service, Spec};

fn warning(
    code: &'static str,
    level: Level,
    field: String,
    message: String,
    why: &str,
    fix: &str,
) -> Warning {
    Warning {
        code,
        level,
        field,
        message,
        why: why.to_string(),
        fix: fix.to_string(),
    }
}

/// Whether a service answers on run.app to anyone on the internet.
pub fn open_on_run_app(s: &Service) -> bool {
    s.ingress == Ingress::All && s.default_url
}

/// What the load balancer adds in front of `b` that a direct request would not pass through.
fn guards(b: &Backend) -> Vec<&'static str> {
    let mut g = Vec::new();
    if b.edge.security_policy.is_some() {
        g.push("the Cloud Armor policy");
    }
    if b.edge.edge_security_policy.is_some() {
        g.push("the Cloud Armor edge policy");
    }
    if b.edge.iap == Some(Iap::LoadBalancer) {
        g.push("IAP on the load balancer");
    }
    g
}

/// Services in `services` whose run.app URL bypasses Cloud Armor or IAP in front of them:
/// those get `run-app-bypasses-edge-security`, and the general ingress warning stays quiet.
pub fn bypassed(spec: &Spec) -> Vec<&str> {
    spec.backends
        .iter()
        .filter(|b| !guards(b).is_empty())
        .filter_map(|b| match &b.kind {
            BackendKind::Serverless { service, .. } => spec.service(service),
            BackendKind::Internet { .. } => None,
        })
        .filter(|s| open_on_run_app(s))
        .map(|s| s.name.as_str())
        .collect()
}

pub fn lint(spec: &Spec) -> Vec<Warning> {
    let mut out = Vec::new();
    for (i, b) in spec.backends.iter().enumerate() {
        let BackendKind::Serverless { service, .. } = &b.kind else {
            continue;
        };
        let Some((j, s)) = spec
            .services
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == *service)
        else {
            continue;
        };
        let base = format!("backends[{i}]");
        let svc = format!("services[{j}]");
        let guards = guards(b);
        if !guards.is_empty() && open_on_run_app(s) {
            out.push(warning(
                "run-app-bypasses-edge-security",
                Level::Warning,
                format!("{svc}.ingress"),
                format!(
                    "Backend `{}` puts {} in front of service `{service}`, but the service still answers on its run.app URL to anyone.",
                    b.name,
                    guards.join(" and ")
                ),
                "Cloud Armor and IAP on the load balancer only see requests that come through the load balancer: a request sent straight to the service's run.app URL bypasses them.",
                "Close the direct path: set the service's ingress to `internal-and-cloud-load-balancing` and `default_url: false` (the serverless NEG still reaches it; run.app does not). Or put IAP on Cloud Run (`iap: \"cloud-run\"`), which guards run.app too.",
            ));
        }
        if b.edge.iap == Some(Iap::LoadBalancer) && (s.multi_region || s.readiness_probe.is_some())
        {
            out.push(warning(
                "iap-with-service-health",
                Level::Warning,
                format!("{base}.iap"),
                format!(
                    "Backend `{}` has IAP on the load balancer in front of service `{service}`, which uses {}.",
                    b.name,
                    if s.multi_region { "a multi-region deployment" } else { "readiness probes for service health" }
                ),
                "Google lists IAP on the load balancer among the limits of Cloud Run service health (automatic failover between regions); the documents read so far do not confirm it, so failover may not work behind this backend (API-NOTES §18.3, UNCONFIRMED).",
                "Put IAP on Cloud Run instead (`iap: \"cloud-run\"`), which Google recommends anyway, or test failover before relying on it.",
            ));
        }
        if b.edge.iap == Some(Iap::CloudRun) {
            if s.ingress == Ingress::Internal {
                out.push(warning(
                    "iap-cloud-run-pointless",
                    Level::Warning,
                    format!("{svc}.ingress"),
                    format!(
                        "Service `{service}` gets IAP on Cloud Run, but its ingress `internal` refuses the load balancer's requests before IAP sees them."
                    ),
                    "Ingress `internal` accepts only traffic from inside the VPC; requests from the external Application Load Balancer are refused, so nobody reaches the sign-in IAP would ask for.",
                    "Set the service's ingress to `internal-and-cloud-load-balancing`.",
                ));
            }
            if s.allow_unauthenticated {
                out.push(warning(
                    "iap-cloud-run-pointless",
                    Level::Warning,
                    format!("{svc}.allow_unauthenticated"),
                    format!(
                        "Service `{service}` gets IAP on Cloud Run and also lets allUsers invoke it."
                    ),
                    "A public invoker binding says anyone may call the service, which is what IAP is there to prevent; gcloud refuses `--public` together with `--iap` for this reason. IAP calls the service with its own service agent (`service-PROJECT_NUMBER@gcp-sa-iap.iam.gserviceaccount.com`), which needs roles/run.invoker.",
                    "Set `allow_unauthenticated: false` and grant the IAP service agent roles/run.invoker on the service.",
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::domain::lint::lint;
    use serde_json::{Value, json};

    fn spec(f: impl FnOnce(&mut Value)) -> crate::domain::spec::Spec {
        let mut v = json!({
            "name": "shop", "project": "acme-edge",
            "frontend": {"protocol": "http"},
            "backends": [
                {"name": "web", "type": "serverless", "service": "my-app", "regions": ["us-central1", "europe-west1"]}
            ],
            "services": [{"name": "my-app", "image": "us-docker.pkg.dev/p/r/app:v1",
                "regions": ["us-central1", "europe-west1"], "min_instances": 1,
                "allow_unauthenticated": false}],
            "routing": {"default": {"backend": "web"}}
        });
        f(&mut v);
        serde_json::from_value(v).unwrap()
    }

    fn codes(f: impl FnOnce(&mut Value)) -> Vec<(&'static str, String)> {
        lint(&spec(f))
            .into_iter()
            .filter(|w| {
                [
                    "run-app-bypasses-edge-security",
                    "ingress-all-behind-neg",
                    "iap-with-service-health",
                    "iap-cloud-run-pointless",
                ]
                .contains(&w.code)
            })
            .map(|w| (w.code, w.field))
            .collect()
    }

    #[test]
    fn armor_or_iap_in_front_of_an_open_run_app_url_is_a_bypass_with_the_fix() {
        let open = |v: &mut Value| v["services"][0]["ingress"] = json!("all");
        let got = codes(|v| {
            open(v);
            v["backends"][0]["security_policy"] = json!("armor");
        });
        assert_eq!(
            got,
            [(
                "run-app-bypasses-edge-security",
                "services[0].ingress".to_string()
            )]
        );
        let w = lint(&spec(|v| {
            open(v);
            v["backends"][0]["iap"] = json!("load-balancer");
        }))
        .into_iter()
        .find(|w| w.code == "run-app-bypasses-edge-security")
        .unwrap();
        assert!(
            w.message.contains("IAP on the load balancer"),
            "{}",
            w.message
        );
        assert!(w.why.contains("bypasses"), "{}", w.why);
        assert!(
            w.fix.contains("internal-and-cloud-load-balancing")
                && w.fix.contains("default_url: false"),
            "{}",
            w.fix
        );
        // Without Armor or IAP: the softer, general warning.
        assert_eq!(
            codes(open),
            [("ingress-all-behind-neg", "services[0].ingress".to_string())]
        );
        // The default URL off closes run.app even with ingress all.
        assert!(
            codes(|v| {
                open(v);
                v["services"][0]["default_url"] = json!(false);
                v["backends"][0]["security_policy"] = json!("armor");
            })
            .is_empty()
        );
        // Closed ingress: nothing to say.
        assert!(codes(|v| v["backends"][0]["edge_security_policy"] = json!("edge")).is_empty());
    }

    #[test]
    fn iap_on_the_load_balancer_with_service_health_is_a_warning() {
        assert_eq!(
            codes(|v| {
                v["backends"][0]["iap"] = json!("load-balancer");
                v["services"][0]["multi_region"] = json!(true);
            }),
            [("iap-with-service-health", "backends[0].iap".to_string())]
        );
        assert!(codes(|v| v["backends"][0]["iap"] = json!("load-balancer")).is_empty());
    }

    #[test]
    fn iap_on_cloud_run_behind_closed_ingress_or_a_public_invoker_is_pointless() {
        let got = codes(|v| {
            v["backends"][0]["iap"] = json!("cloud-run");
            v["services"][0]["ingress"] = json!("internal");
            v["services"][0]["allow_unauthenticated"] = json!(true);
        });
        assert_eq!(
            got,
            [
                ("iap-cloud-run-pointless", "services[0].ingress".to_string()),
                (
                    "iap-cloud-run-pointless",
                    "services[0].allow_unauthenticated".to_string()
                )
            ]
        );
        assert!(codes(|v| v["backends"][0]["iap"] = json!("cloud-run")).is_empty());
    }
}
