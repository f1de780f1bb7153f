//! Deploying: the application service that joins a saved deployment, the planner, the live
//! cloud and the job runner. The web pages and the JSON API both call these functions, so a
//! plan shown in the browser and one fetched by a script are made the same way.

use crate::db::{self, Db, deployments::DeploymentRow, jobs::JobRow};
use crate::domain::parse;
use crate::domain::plan::{self, DesiredGraph, Plan, PlanError};
use crate::domain::spec::Spec;
use crate::domain::validate::{self, FieldError};
use crate::jobs::{JobError, JobKind, JobRequest, Runner};
use std::sync::Arc;

mod adopt;
pub mod chain;
pub mod cloud_reader;
pub mod discover;
mod forget;
pub mod live;
pub mod neighbours;
mod pinned;
pub mod rollout;
pub mod traffic;

pub use adopt::{Adoption, Discovered};
pub use cloud_reader::CloudLiveReader;
pub use forget::refuse_moving_applied;
use live::{Leftovers, LiveError, LiveReader, read_live};
pub use pinned::{PinnedPlan, PlanKind};

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The draft is not a valid spec yet: nothing can be planned from it.
    #[error("the deployment's spec is not valid: {}", first_error(.0))]
    Invalid(Vec<FieldError>),
    #[error("cannot read the live cloud: {0}")]
    Live(#[from] LiveError),
    /// Resources with our names that belong to someone else.
    #[error("{0}")]
    Blocked(PlanError),
    /// Another job holds the deployment.
    #[error(
        "job {job_id} (started by {created_by}) is still running for this deployment; wait for it or cancel it"
    )]
    Busy { job_id: i64, created_by: String },
    #[error("nothing is deployed for this deployment")]
    NothingDeployed,
    /// The plan no longer describes what applying would do: say what moved.
    #[error("{0}")]
    PlanStale(String),
    /// The plan has risks and the caller did not accept them.
    #[error("the plan has risks; review them and confirm (accept_risks): {}", .0.join("; "))]
    RisksNotAccepted(Vec<String>),
    #[error("no plan {0} for this deployment")]
    PlanNotFound(String),
    #[error("plan is a {plan} plan; it cannot be used to {asked}")]
    PlanKind { plan: String, asked: String },
    /// Deleting the deployment would orphan what it has in the cloud.
    #[error(
        "{name} has resources in Google Cloud (from apply job {job_id}): destroy it first, then delete it; or forget it and leave its resources running"
    )]
    Deployed { name: String, job_id: i64 },
    /// Forgetting needs the deployment's name typed.
    #[error("type the deployment's name, {0}, to confirm")]
    NotConfirmed(String),
    #[error(
        "nothing of {0} is in Google Cloud, so there is nothing to leave running: delete it instead"
    )]
    NothingToForget(String),
    /// A save would move an applied deployment to other resource names (`field` is `name` or
    /// `project`), leaving what it has in the cloud to nobody.
    #[error("{message}")]
    Moved {
        field: &'static str,
        message: String,
    },
    #[error("deployment not found")]
    NotFound,
    /// The load balancer to adopt is already managed.
    #[error("{lb} is already managed by deployment {deployment}")]
    Adopted { lb: String, deployment: i64 },
    #[error("{lb} cannot be adopted: {reasons}")]
    NotAdoptable { lb: String, reasons: String },
    #[error("a deployment named `{0}` already exists; rename it before adopting")]
    NameTaken(String),
    /// The draft cannot be rolled out in gated stages.
    #[error("{0}")]
    Rollout(#[from] crate::domain::rollout::RolloutError),
    #[error(transparent)]
    Job(JobError),
    #[error(transparent)]
    Db(#[from] db::jobs::JobsDbError),
}

fn first_error(errors: &[FieldError]) -> String {
    errors
        .first()
        .map(|e| format!("{}: {}", e.field, e.message))
        .unwrap_or_default()
}

impl From<JobError> for DeployError {
    fn from(e: JobError) -> Self {
        match e {
            JobError::Db(db::jobs::JobsDbError::DeploymentBusy {
                job_id, created_by, ..
            }) => DeployError::Busy { job_id, created_by },
            other => DeployError::Job(other),
        }
    }
}

/// A plan together with what it was made from.
pub struct Planned {
    pub spec: Spec,
    pub graph: DesiredGraph,
    pub plan: Plan,
    /// SHA-256 of the live resources the plan read (a record of what it saw).
    pub live_digest: String,
}

/// A stable digest of what was read from the cloud.
fn digest(live: &plan::LiveState) -> String {
    use sha2::{Digest, Sha256};
    let text = serde_json::to_string(live).expect("live state always serialises");
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The spec as the deployment's draft holds it, validated.
pub fn valid_spec(row: &DeploymentRow) -> Result<Spec, DeployError> {
    let spec = parse::parse(&row.spec).map_err(|e| {
        DeployError::Invalid(vec![FieldError {
            field: e.field.unwrap_or_default(),
            message: e.message,
        }])
    })?;
    validate::validate(&spec).map_err(DeployError::Invalid)?;
    Ok(spec)
}

/// The spec of the deployment's last successful apply, if what it applied is still deployed.
pub async fn applied_spec(db: &Db, deployment_id: i64) -> Result<Option<Spec>, DeployError> {
    let last = db::jobs::applied_job(db, deployment_id)
        .await
        .map_err(db::jobs::JobsDbError::from)?;
    Ok(last.and_then(|job| serde_json::from_str(&job.spec).ok()))
}

/// The draft version the deployment's last successful apply put in the cloud; `None` when
/// nothing is applied (never applied, or destroyed since).
pub async fn applied_version(db: &Db, deployment_id: i64) -> Result<Option<i64>, DeployError> {
    let last = db::jobs::applied_job(db, deployment_id)
        .await
        .map_err(db::jobs::JobsDbError::from)?;
    Ok(last.and_then(|job| {
        serde_json::from_str::<serde_json::Value>(&job.plan)
            .ok()?
            .get("version")?
            .as_i64()
    }))
}

pub struct Deployer {
    db: Db,
    live: Arc<dyn LiveReader>,
    runner: Arc<Runner>,
    /// How long a pinned plan may be applied after it was made.
    plan_ttl_secs: u64,
}

/// A pinned plan may be applied for a day unless configured otherwise (`--plan-ttl`).
pub const DEFAULT_PLAN_TTL_SECS: u64 = 24 * 3600;

impl Deployer {
    pub fn new(db: Db, live: Arc<dyn LiveReader>, runner: Arc<Runner>) -> Self {
        Deployer {
            db,
            live,
            runner,
            plan_ttl_secs: DEFAULT_PLAN_TTL_SECS,
        }
    }

    pub fn with_plan_ttl(mut self, secs: u64) -> Self {
        self.plan_ttl_secs = secs;
        self
    }

    /// What plans and drift checks read the cloud through.
    pub fn reader(&self) -> &Arc<dyn LiveReader> {
        &self.live
    }

    pub fn runner(&self) -> &Arc<Runner> {
        &self.runner
    }

    /// Reads the live cloud and diffs it against the deployment's current spec.
    pub async fn plan(&self, row: &DeploymentRow) -> Result<Planned, DeployError> {
        let spec = valid_spec(row)?;
        // Backends that follow another deployment point where it is now.
        let hops = chain::resolve(&self.db, self.live.as_ref(), &spec).await?;
        let graph = plan::compile_chained(&spec, &hops);
        // Regions the last apply used are searched too, so a dropped region is cleaned up.
        let previous = applied_spec(&self.db, row.id).await?;
        let extra = previous.as_ref().map(Leftovers::of).unwrap_or_default();
        // Saves refuse this; a draft renamed before they did must not plan a second load
        // balancer and leave the applied one to nobody.
        if let Some(previous) = &previous {
            forget::refuse_move(&previous.name, &previous.project, &spec.name, &spec.project)?;
        }
        let mut live = read_live(self.live.as_ref(), &graph, &extra).await?;
        self.read_adopted(&graph, &mut live).await?;
        let live_digest = digest(&live);
        let mut plan = plan::diff(&graph, &live);
        plan.chains = hops;
        plan.canary = crate::domain::rollout::CanaryGate::of(&spec);
        plan::claim_others(&mut plan, &live, &self.others(row, &spec.project).await?);
        self.check_access(&graph, &live, &mut plan).await?;
        self.check_policies(&spec, &mut plan).await?;
        // Apply never deletes a Cloud Run service (it may serve on its own URL): say so when
        // the spec stopped deploying one that the last apply deployed.
        if let Some(previous) = &previous {
            for r in plan::compile(previous).resources {
                if matches!(r.kind, plan::ResourceKind::RunService { .. })
                    && graph.get(&r.id).is_none()
                {
                    plan.warnings.push(format!(
                        "{} is no longer in the spec; apply leaves it running (destroy with the services option deletes it)",
                        r.id
                    ));
                }
            }
        }
        Ok(Planned {
            spec,
            graph,
            plan,
            live_digest,
        })
    }

    /// Plans and starts an apply job. An unchanged deployment gets a job with no steps: the
    /// history shows the apply, and no mutating call is made.
    pub async fn apply(&self, row: &DeploymentRow, user: &str) -> Result<i64, DeployError> {
        self.refuse_if_busy(row.id).await?;
        let planned = self.plan(row).await?;
        let steps = plan::steps(&planned.plan).map_err(DeployError::Blocked)?;
        let mut stored_plan = planned.plan.api_json();
        // Which draft version this apply puts in the cloud (shown as the applied version).
        stored_plan["version"] = serde_json::json!(row.version);
        self.start(row, JobKind::Apply, &planned, stored_plan, steps, user)
            .await
    }

    /// Starts the job that carries out `planned`, with its stored plan and its steps.
    async fn start(
        &self,
        row: &DeploymentRow,
        kind: JobKind,
        planned: &Planned,
        stored_plan: serde_json::Value,
        steps: Vec<plan::StepSpec>,
        user: &str,
    ) -> Result<i64, DeployError> {
        let id = self
            .runner
            .start(JobRequest {
                deployment: db::jobs::deployment_key(row.id),
                kind,
                spec: serde_json::to_value(&planned.spec).expect("a spec always serialises"),
                plan: stored_plan,
                created_by: user.to_string(),
                steps,
            })
            .await?;
        Ok(id)
    }

    /// Deletes everything the deployment owns, in reverse dependency order. The Cloud Run
    /// services the spec deploys are deleted only with `services`: they may serve traffic on
    /// their own URLs, so taking the load balancer down must not take them with it by default.
    pub async fn destroy(
        &self,
        row: &DeploymentRow,
        user: &str,
        services: bool,
    ) -> Result<i64, DeployError> {
        self.refuse_if_busy(row.id).await?;
        let planned = self.destroy_plan(row, services).await?;
        let steps = plan::steps(&planned.plan).map_err(DeployError::Blocked)?;
        self.start(
            row,
            JobKind::Destroy,
            &planned,
            planned.plan.api_json(),
            steps,
            user,
        )
        .await
    }

    /// The plan that deletes what the deployment owns: whatever the draft says now, it searches
    /// where the draft and the last apply put things.
    pub async fn destroy_plan(
        &self,
        row: &DeploymentRow,
        services: bool,
    ) -> Result<Planned, DeployError> {
        let draft = valid_spec(row).ok();
        let previous = applied_spec(&self.db, row.id).await?;
        let Some(basis) = previous.clone().or(draft.clone()) else {
            return Err(DeployError::NothingDeployed);
        };
        let extra = [draft.as_ref(), previous.as_ref()]
            .into_iter()
            .flatten()
            .map(Leftovers::of)
            .fold(Leftovers::default(), Leftovers::and);
        let mut graph = DesiredGraph {
            resources: Vec::new(),
            ..plan::compile(&basis)
        };
        if previous.is_none() {
            // An adoption claims the resources it kept once an apply has recorded it; before
            // that they are still the team's, and destroying the draft leaves them alone.
            graph.adopted.clear();
        }
        let mut live = read_live(self.live.as_ref(), &graph, &extra).await?;
        if services {
            let mut ids: Vec<String> = [draft.as_ref(), previous.as_ref()]
                .into_iter()
                .flatten()
                .flat_map(|s| plan::compile(s).resources)
                .filter(|r| matches!(r.kind, plan::ResourceKind::RunService { .. }))
                .map(|r| r.id)
                .collect();
            ids.sort();
            ids.dedup();
            for id in ids {
                let found = self.live.get(&id).await?;
                live.insert(id, found);
            }
        }
        self.read_adopted(&graph, &mut live).await?;
        let mut plan = plan::destroy_adopted(&basis.name, &basis.project, &graph.adopted, &live);
        plan::claim_others(&mut plan, &live, &self.others(row, &basis.project).await?);
        if let Some(warning) =
            chain::destroy_warning(&self.db, self.live.as_ref(), &row.name).await?
        {
            plan.risks
                .push(plan::Risk::chained_front(&row.name, warning));
        }
        Ok(Planned {
            spec: basis,
            graph,
            plan,
            live_digest: digest(&live),
        })
    }

    /// Resumes a failed or cancelled job. For an apply, the Cloud Run deploys that did not
    /// succeed are brought up to date with the deployment's spec first: a region that failed on
    /// a broken image is fixed by editing `image` and resuming, without a new job. Everything
    /// else is resumed exactly as planned.
    pub async fn resume(&self, job_id: i64) -> Result<(), DeployError> {
        if let Some(job) = db::jobs::get_job(&self.db, job_id).await?
            && job.kind == "apply"
            && matches!(job.status.as_str(), "failed" | "cancelled")
            && let Ok(deployment_id) = job.deployment.parse::<i64>()
            && let Ok(Some(row)) = db::deployments::get(&self.db, deployment_id).await
            && let Ok(spec) = valid_spec(&row)
        {
            let graph = plan::compile(&spec);
            for step in db::jobs::job_steps(&self.db, job_id).await? {
                if step.status == "succeeded" {
                    continue;
                }
                let Ok(mut call) = serde_json::from_str::<plan::Call>(&step.request) else {
                    continue;
                };
                if call.api != plan::Api::Run || call.verb != plan::Verb::Patch {
                    continue;
                }
                let Some(desired) = graph.get(&step.resource) else {
                    continue;
                };
                if call.body.as_ref() == Some(&desired.body) {
                    continue;
                }
                call.body = Some(desired.body.clone());
                let request = serde_json::to_string(&call).expect("a call always serialises");
                db::jobs::refresh_step_request(&self.db, job_id, step.idx, &request).await?;
            }
        }
        self.runner.resume(job_id).await?;
        Ok(())
    }

    /// Before any mutation: the identity must be allowed to use every backend service the URL
    /// map references in another project; a denied one blocks the plan, naming the role.
    async fn check_access(
        &self,
        graph: &DesiredGraph,
        live: &plan::LiveState,
        plan: &mut Plan,
    ) -> Result<(), DeployError> {
        let mut denied = Vec::new();
        for check in plan::access::cross_project_checks(graph, live) {
            let held = self
                .live
                .test_permissions(&check.resource, &[plan::access::USE_BACKEND_SERVICE])
                .await?;
            if !held.iter().any(|p| p == plan::access::USE_BACKEND_SERVICE) {
                denied.push(check);
            }
        }
        plan::access::refuse_denied(plan, &denied);
        Ok(())
    }

    /// Before any mutation: every Cloud Armor policy the spec names must exist with the type
    /// its field takes (the panel attaches policies, it does not create them).
    async fn check_policies(&self, spec: &Spec, plan: &mut Plan) -> Result<(), DeployError> {
        for check in crate::domain::edge_security::policy_checks(spec) {
            let found = self.live.get(&check.path).await?;
            plan.conflicts.extend(check.conflict(found.as_ref()));
        }
        Ok(())
    }

    /// Adopted resources keep names outside the deployment's prefix, so listing missed those
    /// the spec no longer uses (a replaced certificate): read them, to be deleted.
    async fn read_adopted(
        &self,
        graph: &DesiredGraph,
        live: &mut plan::LiveState,
    ) -> Result<(), DeployError> {
        for id in &graph.adopted {
            if let std::collections::btree_map::Entry::Vacant(e) = live.entry(id.clone()) {
                e.insert(self.live.get(id).await?);
            }
        }
        Ok(())
    }

    async fn refuse_if_busy(&self, deployment_id: i64) -> Result<(), DeployError> {
        if let Some(JobRow { id, created_by, .. }) =
            db::jobs::active_job_for(&self.db, &db::jobs::deployment_key(deployment_id)).await?
        {
            return Err(DeployError::Busy {
                job_id: id,
                created_by,
            });
        }
        Ok(())
    }
}
