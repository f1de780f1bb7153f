//! Adopting a hand-built load balancer, for the adopt page and the JSON API alike: what a
//! project holds (read through the deployer's live reader, as plans and drift read it), which
//! deployment already manages each load balancer, and the draft that takes one over.

use super::{DeployError, Deployer};
use crate::db::adoptions::Kept;
use crate::db::{self, deployments::DeploymentRow};
use crate::domain::adopt::{LoadBalancer, Outcome};
use crate::domain::{parse, plan};

/// A load balancer found in a project, with the deployment that manages any of its resources
/// (under a derived or a kept name).
#[derive(Debug, Clone)]
pub struct Discovered {
    pub lb: LoadBalancer,
    pub managed_by: Option<i64>,
}

impl Discovered {
    pub fn adoptable(&self) -> bool {
        self.lb.spec.is_some() && self.managed_by.is_none()
    }
}

impl Deployer {
    /// The global external Application Load Balancers of `project`.
    pub async fn load_balancers(&self, project: &str) -> Result<Vec<Discovered>, DeployError> {
        let lbs = super::discover::discover(self.live.as_ref(), project).await?;
        let mut owned: Vec<(i64, Vec<String>)> = Vec::new();
        for row in db::deployments::list(&self.db)
            .await
            .map_err(|e| DeployError::Db(e.into()))?
        {
            let Ok(parsed) = parse::parse(&row.spec) else {
                continue;
            };
            let graph = plan::compile(&parsed);
            let mut ids: Vec<String> = graph.resources.into_iter().map(|r| r.id).collect();
            ids.extend(graph.adopted);
            owned.push((row.id, ids));
        }
        Ok(lbs
            .into_iter()
            .map(|lb| {
                let managed_by = owned
                    .iter()
                    .find(|(_, ids)| lb.resources.iter().any(|r| ids.contains(r)))
                    .map(|(id, _)| *id);
                Discovered { lb, managed_by }
            })
            .collect())
    }

    /// Creates the draft that adopts load balancer `lb_id` of `project`: its spec keeps every
    /// existing name, and its first plan is all noop (`domain::adopt` checked that).
    pub async fn adopt(
        &self,
        project: &str,
        lb_id: &str,
        user: &str,
    ) -> Result<DeploymentRow, DeployError> {
        let found = self
            .load_balancers(project)
            .await?
            .into_iter()
            .find(|d| d.lb.id == lb_id)
            .ok_or(DeployError::NotFound)?;
        if let Some(id) = found.managed_by {
            return Err(DeployError::Adopted {
                lb: lb_id.to_string(),
                deployment: id,
            });
        }
        let Some(spec) = &found.lb.spec else {
            return Err(DeployError::NotAdoptable {
                lb: lb_id.to_string(),
                reasons: found.lb.refusals().join("; "),
            });
        };
        let text = serde_json::to_string_pretty(spec).expect("a spec always serialises");
        match db::deployments::create(&self.db, &spec.name, &text, user).await {
            Ok(row) => {
                let kept: Vec<Kept> = found
                    .lb
                    .unexpressible
                    .iter()
                    .filter(|u| u.outcome == Outcome::Kept)
                    .map(|u| Kept {
                        resource: u.resource.clone(),
                        what: u.what.clone(),
                        meaning: u.meaning.clone(),
                    })
                    .collect();
                db::adoptions::record(&self.db, row.id, project, lb_id, &kept, user)
                    .await
                    .map_err(|e| DeployError::Db(e.into()))?;
                Ok(row)
            }
            Err(db::deployments::SaveError::NameTaken(name)) => Err(DeployError::NameTaken(name)),
            Err(db::deployments::SaveError::Db(e)) => Err(DeployError::Db(e.into())),
            // A create answers nothing else; were it to, it is a fault of the store all the same.
            Err(e) => Err(DeployError::Db(sqlx::Error::Protocol(e.to_string()).into())),
        }
    }
}
