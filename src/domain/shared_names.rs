//! Names a deployment shares with the panel's other deployments: a domain, a Cloud Run service,
//! another deployment's address. Each deployment is valid on its own, so validation cannot see
//! these; together they fight over DNS or over a service's revisions, which is what the lint
//! warns about, naming the other deployment.

use super::draft::Draft;
use super::lint::{Level, Warning};
use super::spec::{BackendKind, Service};

/// Another deployment of the panel, as its latest version describes it.
pub struct Neighbour {
    pub name: String,
    pub draft: Draft,
}

/// The warnings for `this` against every other deployment (`others` may include `this` itself
/// under its own name: it is skipped).
pub fn shared_names(this: &Draft, others: &[Neighbour]) -> Vec<Warning> {
    let others: Vec<&Neighbour> = others.iter().filter(|n| n.name != this.name).collect();
    let mut out = Vec::new();
    domains(&mut out, this, &others);
    services(&mut out, this, &others);
    backends(&mut out, this, &others);
    out
}

fn same_host(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

fn domains(out: &mut Vec<Warning>, this: &Draft, others: &[&Neighbour]) {
    for (j, d) in this.frontend.domains.iter().enumerate() {
        let holders: Vec<&str> = others
            .iter()
            .filter(|n| n.draft.frontend.domains.iter().any(|o| same_host(o, d)))
            .map(|n| n.name.as_str())
            .collect();
        if holders.is_empty() {
            continue;
        }
        out.push(Warning {
            code: "shared-domain",
            level: Level::Warning,
            field: format!("frontend.domains[{j}]"),
            message: format!(
                "Domain {d} is also a domain of deployment {}.",
                quoted(&holders)
            ),
            why: "A domain's A record points at one load balancer only. The other load balancer never gets its traffic, and its Google-managed certificate for the domain stays FAILED_NOT_VISIBLE.".into(),
            fix: "Keep the domain in one deployment: remove it from Domains on the Frontend step here or there. To serve it through both, make one deployment a backend of the other.".into(),
        });
    }
}

/// Whether two service lists deploy one Cloud Run service (same project, id and a region).
fn overlap<'a>(s: &Service, project: &str, other: &'a Draft) -> Option<&'a str> {
    if other.project != project {
        return None;
    }
    other
        .services
        .iter()
        .find(|o| o.name == s.name)
        .and_then(|o| o.regions.iter().find(|r| s.regions.contains(r)))
        .map(String::as_str)
}

fn services(out: &mut Vec<Warning>, this: &Draft, others: &[&Neighbour]) {
    for (i, s) in this.services.iter().enumerate() {
        for n in others {
            let Some(region) = overlap(s, &this.project, &n.draft) else {
                continue;
            };
            out.push(Warning {
                code: "shared-service",
                level: Level::Warning,
                field: format!("services[{i}].name"),
                message: format!(
                    "Cloud Run service {} in {region} is also deployed by deployment “{}”.",
                    s.name, n.name
                ),
                why: "Each apply deploys its own image and settings to the service, so the two deployments overwrite each other's revisions: whichever was applied last wins, and the other reports drift.".into(),
                fix: format!(
                    "Deploy the service from one deployment only: remove it from the Services step of this one or of “{}”, and keep a serverless backend naming it where it is only routed to.",
                    n.name
                ),
            });
        }
    }
}

fn backends(out: &mut Vec<Warning>, this: &Draft, others: &[&Neighbour]) {
    for (i, b) in this.backends.iter().enumerate() {
        match &b.kind {
            BackendKind::Serverless { service, regions } => {
                // Deployed here too: `shared-service` has said it.
                if this.services.iter().any(|s| &s.name == service) {
                    continue;
                }
                let deployers: Vec<&str> = others
                    .iter()
                    .filter(|n| {
                        n.draft.project == this.project
                            && n.draft.services.iter().any(|s| {
                                &s.name == service && s.regions.iter().any(|r| regions.contains(r))
                            })
                    })
                    .map(|n| n.name.as_str())
                    .collect();
                if deployers.is_empty() {
                    continue;
                }
                out.push(Warning {
                    code: "service-of-another-deployment",
                    level: Level::Info,
                    field: format!("backends[{i}].service"),
                    message: format!(
                        "Backend “{}” sends traffic to Cloud Run service {service}, which deployment {} deploys.",
                        b.name,
                        quoted(&deployers)
                    ),
                    why: "Its image, scaling and ingress change when that deployment is applied, not this one; a rollout there reaches this load balancer's users too.".into(),
                    fix: "Nothing to change if that is intended; roll out through that deployment and watch this one's traffic as well.".into(),
                });
            }
            BackendKind::Internet {
                fqdn: None,
                deployment: Some(target),
                ..
            } => {
                if *target == this.name || others.iter().any(|n| n.name == *target) {
                    continue;
                }
                out.push(Warning {
                    code: "chained-deployment-missing",
                    level: Level::Warning,
                    field: format!("backends[{i}].deployment"),
                    message: format!(
                        "Backend “{}” follows deployment {target}, which is not in this panel.",
                        b.name
                    ),
                    why: "A plan points this backend at that deployment's domain or IP, so every plan is refused until a deployment of that name exists and has been applied.".into(),
                    fix: format!("Choose one of the panel's deployments for this backend, or create and apply {target} first."),
                });
            }
            BackendKind::Internet { fqdn: None, .. } => {}
            BackendKind::Internet {
                fqdn: Some(fqdn), ..
            } => {
                let owners: Vec<&str> = others
                    .iter()
                    .filter(|n| n.draft.frontend.domains.iter().any(|d| same_host(d, fqdn)))
                    .map(|n| n.name.as_str())
                    .collect();
                if owners.is_empty() {
                    continue;
                }
                out.push(Warning {
                    code: "backend-is-another-deployment",
                    level: Level::Info,
                    field: format!("backends[{i}].fqdn"),
                    message: format!(
                        "Backend “{}” reaches {fqdn}, a domain of deployment {}.",
                        b.name,
                        quoted(&owners)
                    ),
                    why: "This load balancer is chained in front of that one: requests pass through both, and that deployment's routing decides where they end.".into(),
                    fix: "Nothing to change if that is intended; keep that deployment's domain and certificate in place while this one depends on it.".into(),
                });
            }
        }
    }
}

/// `“a”`, or `“a”, “b”` for several.
fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("“{n}”"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::spec::Spec;

    fn draft(json: &str) -> Draft {
        Draft::from_spec(&serde_json::from_str::<Spec>(json).expect("spec"))
    }

    fn shop() -> Draft {
        draft(
            r#"{"name": "shop", "project": "acme-edge",
                "frontend": {"protocol": "https", "domains": ["shop.example.com"]},
                "backends": [{"name": "web", "type": "serverless", "service": "web", "regions": ["europe-west1"]}],
                "routing": {"default": {"backend": "web"}},
                "services": [{"name": "web", "image": "us-docker.pkg.dev/cloudrun/container/hello", "regions": ["europe-west1"]}]}"#,
        )
    }

    fn codes(w: &[Warning]) -> Vec<(&str, &str)> {
        w.iter().map(|w| (w.code, w.field.as_str())).collect()
    }

    #[test]
    fn a_domain_or_service_of_another_deployment_is_named() {
        let mut other = shop();
        other.name = "shop-copy".into();
        other.frontend.domains = vec!["SHOP.example.com.".into()];
        let w = shared_names(
            &shop(),
            &[Neighbour {
                name: "shop-copy".into(),
                draft: other,
            }],
        );
        assert_eq!(
            codes(&w),
            [
                ("shared-domain", "frontend.domains[0]"),
                ("shared-service", "services[0].name")
            ]
        );
        assert!(w[0].message.contains("“shop-copy”"), "{}", w[0].message);
        assert!(w[1].message.contains("europe-west1"), "{}", w[1].message);
    }

    #[test]
    fn itself_other_projects_and_other_regions_share_nothing() {
        let mut elsewhere = shop();
        elsewhere.name = "elsewhere".into();
        elsewhere.project = "acme-other".into();
        elsewhere.frontend.domains.clear();
        let mut west = shop();
        west.name = "west".into();
        west.frontend.domains = vec!["west.example.com".into()];
        west.services[0].regions = vec!["us-west1".into()];
        let others = [
            Neighbour {
                name: "shop".into(),
                draft: shop(),
            },
            Neighbour {
                name: "elsewhere".into(),
                draft: elsewhere,
            },
            Neighbour {
                name: "west".into(),
                draft: west,
            },
        ];
        assert_eq!(codes(&shared_names(&shop(), &others)), []);
    }

    #[test]
    fn routing_to_what_another_deployment_deploys_or_serves_is_said() {
        let front = draft(
            r#"{"name": "front", "project": "acme-edge",
                "frontend": {"protocol": "https", "domains": ["www.example.com"]},
                "backends": [
                  {"name": "web", "type": "serverless", "service": "web", "regions": ["europe-west1", "us-east1"]},
                  {"name": "legacy", "type": "internet", "fqdn": "shop.example.com"}],
                "routing": {"default": {"backend": "web"}}}"#,
        );
        let w = shared_names(
            &front,
            &[Neighbour {
                name: "shop".into(),
                draft: shop(),
            }],
        );
        assert_eq!(
            codes(&w),
            [
                ("service-of-another-deployment", "backends[0].service"),
                ("backend-is-another-deployment", "backends[1].fqdn")
            ]
        );
        assert!(w.iter().all(|w| w.level == Level::Info));
    }

    #[test]
    fn following_a_deployment_the_panel_lacks_is_a_warning() {
        let front = |target: &str| {
            draft(&format!(
                r#"{{"name": "front", "project": "acme-edge",
                    "frontend": {{"protocol": "http"}},
                    "backends": [{{"name": "back", "type": "internet", "deployment": "{target}"}}],
                    "routing": {{"default": {{"backend": "back"}}}}}}"#
            ))
        };
        let others = [Neighbour {
            name: "shop".into(),
            draft: shop(),
        }];
        assert_eq!(codes(&shared_names(&front("shop"), &others)), []);
        let w = shared_names(&front("gone"), &others);
        assert_eq!(
            codes(&w),
            [("chained-deployment-missing", "backends[0].deployment")]
        );
        assert!(
            w[0].message.contains("follows deployment gone"),
            "{:?}",
            w[0]
        );
    }
}
