//! Cross-project service referencing needs a permission in the other project: the identity
//! that writes the URL map must hold `compute.backendServices.use` on each backend service it
//! names there (API-NOTES §16.2). Which checks a plan needs, and what a denied one says; the
//! caller asks the cloud (`testIamPermissions`) in between.

use super::{Conflict, DesiredGraph, LiveState, Plan, ResourceKind};

/// The permission a URL map's reference to a backend service takes (disc:ce, `defaultService`).
pub const USE_BACKEND_SERVICE: &str = "compute.backendServices.use";

/// The role that carries it, granted by an admin of the backend service's project.
pub const SERVICE_USER_ROLE: &str = "roles/compute.loadBalancerServiceUser";

/// One permission check before any mutation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessCheck {
    /// The backend service the URL map will reference (`projects/B/global/backendServices/N`).
    pub backend_service: String,
    /// Its project.
    pub project: String,
    /// What to ask about: the backend service itself once it exists, else its project
    /// (`projects/B`), whose policy is what a new backend service inherits.
    pub resource: String,
}

/// The checks `graph` needs: one per backend service outside the load balancer's project.
pub fn cross_project_checks(graph: &DesiredGraph, live: &LiveState) -> Vec<AccessCheck> {
    graph
        .resources
        .iter()
        .filter(|r| r.kind == ResourceKind::BackendService)
        .filter_map(|r| {
            let project = r.id.split('/').nth(1)?;
            (project != graph.project).then(|| {
                let exists = live.get(&r.id).is_some_and(Option::is_some);
                AccessCheck {
                    backend_service: r.id.clone(),
                    project: project.to_string(),
                    resource: if exists {
                        r.id.clone()
                    } else {
                        format!("projects/{project}")
                    },
                }
            })
        })
        .collect()
}

/// Blocks `plan` for every check the identity failed, saying which role to grant where: a
/// plan with conflicts yields no steps, so nothing is applied.
pub fn refuse_denied(plan: &mut Plan, denied: &[AccessCheck]) {
    for c in denied {
        plan.conflicts.push(Conflict {
            resource: c.backend_service.clone(),
            owner: format!("project {}", c.project),
            message: format!(
                "the panel's identity may not use {} from the URL map in project {}: it lacks \
                 {USE_BACKEND_SERVICE} in project {}. Ask an admin of {} to grant the panel's \
                 service account {SERVICE_USER_ROLE} on project {} (or on that backend service), \
                 then plan again",
                c.backend_service, plan.project, c.project, c.project, c.project
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::plan::{compile, diff, steps};
    use serde_json::json;

    fn graph() -> DesiredGraph {
        compile(
            &serde_json::from_value(json!({
              "name": "shop", "project": "lb-project",
              "frontend": { "protocol": "http", "ip": "ephemeral" },
              "backends": [
                { "name": "web", "type": "serverless", "service": "s", "regions": ["us-central1"],
                  "project": "run-project" },
                { "name": "home", "type": "serverless", "service": "h", "regions": ["us-central1"] }
              ],
              "routing": { "default": { "backend": "web" },
                           "rules": [ { "paths": ["/home"], "backend": "home" } ] }
            }))
            .unwrap(),
        )
    }

    const BS: &str = "projects/run-project/global/backendServices/shop-bs-web";

    #[test]
    fn only_other_projects_backend_services_are_checked_on_the_service_once_it_exists() {
        let g = graph();
        let mut live = LiveState::new();
        let checks = cross_project_checks(&g, &live);
        assert_eq!(
            checks,
            [AccessCheck {
                backend_service: BS.into(),
                project: "run-project".into(),
                resource: "projects/run-project".into(),
            }]
        );
        live.insert(BS.into(), Some(json!({})));
        assert_eq!(cross_project_checks(&g, &live)[0].resource, BS);
    }

    #[test]
    fn a_denied_check_blocks_the_plan_naming_the_role_and_the_project() {
        let g = graph();
        let live = LiveState::new();
        let mut plan = diff(&g, &live);
        let checks = cross_project_checks(&g, &live);
        refuse_denied(&mut plan, &checks);
        assert!(plan.is_blocked());
        let m = &plan.conflicts[0].message;
        assert!(
            m.contains("roles/compute.loadBalancerServiceUser on project run-project"),
            "{m}"
        );
        assert!(
            m.contains(BS) && m.contains("compute.backendServices.use"),
            "{m}"
        );
        assert!(steps(&plan).is_err(), "nothing is applied");
    }
}
