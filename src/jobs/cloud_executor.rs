//! The job runner's hands on the cloud: an [`Executor`] that sends each step's stored call
//! through the REST client, and a [`LiveReader`] that reads live resources for the planner.
//!
//! Safety across crashes comes from three rules: the requestId is the step's own (fixed when the
//! job was created), so a re-sent mutation is deduplicated by Google; an operation is recorded
//! before it is waited on, so a restart polls it instead of sending again; and a create told
//! "already exists" adopts the resource only when this deployment's owner marker is on it.

use super::certificate_wait::{CertificatePoll, wait_until_active};
use super::{Executor, Level, StepContext, StepError, StepOutcome, call_of};
use crate::cloud::types::{IamPolicy, RunOperation, RunService};
use crate::cloud::{Client, CloudError, OperationRef, ResourceRef};
use crate::db::jobs::StepRecord;
use crate::domain::plan::{Api, Call, INVOKER_ROLE, PUBLIC_MEMBER, StepAction, Verb};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;
use std::sync::Arc;
use uuid::Uuid;

/// How many times an update is re-read and re-sent when its fingerprint went stale meanwhile.
const STALE_FINGERPRINT_ATTEMPTS: usize = 3;

/// How many times an IAM read-modify-write is redone when the policy changed in between (a stale
/// etag answers 409 ABORTED, which asks for exactly that).
const STALE_ETAG_ATTEMPTS: usize = 5;

pub struct CloudExecutor {
    client: Arc<Client>,
    certificate_poll: CertificatePoll,
}

impl CloudExecutor {
    pub fn new(client: Arc<Client>) -> Self {
        CloudExecutor {
            client,
            certificate_poll: CertificatePoll::default(),
        }
    }

    /// How often a `wait` step reads the certificate it waits for.
    pub fn with_certificate_poll(mut self, poll: CertificatePoll) -> Self {
        self.certificate_poll = poll;
        self
    }

    async fn wait(&self, op: &OperationRef, ctx: &StepContext) -> Result<(), CloudError> {
        ctx.log(Level::Info, &format!("waiting for operation {op}"))
            .await;
        self.client.wait(op).await?;
        ctx.log(Level::Info, &format!("operation {op} done")).await;
        Ok(())
    }

    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    /// Sends the call once (the client retries transient failures with the same requestId) and
    /// waits for its operation.
    pub(super) async fn send(
        &self,
        step: &StepRecord,
        call: &Call,
        request_id: Uuid,
        ctx: &StepContext,
    ) -> Result<(), CloudError> {
        let mut body = call.body.clone();
        if call.needs_fingerprint {
            // Updates need the fingerprint of the resource as it is now, not at plan time.
            let current: Option<Value> = self.client.get(&resource_ref(&step.resource)?).await?;
            let fingerprint = current
                .as_ref()
                .and_then(|v| v.get("fingerprint"))
                .cloned()
                .ok_or_else(|| CloudError::NotFound {
                    resource: step.resource.clone(),
                    message: format!("{} disappeared before its update", step.resource),
                })?;
            if let Some(Value::Object(b)) = body.as_mut() {
                b.insert("fingerprint".into(), fingerprint);
            }
        }
        ctx.log(
            Level::Info,
            &format!(
                "{} {} requestId={request_id}{}",
                verb_name(call.verb),
                call.path,
                body.as_ref()
                    .map(|b| format!(" body={b}"))
                    .unwrap_or_default()
            ),
        )
        .await;
        let op = self
            .client
            .mutate_path(method(call.verb), &call.path, body, request_id)
            .await?;
        let reference = op.reference().ok_or_else(|| {
            CloudError::Decode(format!("operation {} has no usable selfLink", op.name))
        })?;
        ctx.log(
            Level::Info,
            &format!("→ operation {reference} {:?}", op.status),
        )
        .await;
        ctx.record_operation(&reference.path(), &scope_name(&reference))
            .await
            .map_err(|e| CloudError::Decode(e.0))?;
        self.wait(&reference, ctx).await
    }

    /// "Already exists" on a create: ours (owner marker present) means an earlier attempt whose
    /// reply was lost made it, so the step is done; anyone else's is a conflict to report.
    async fn adopt(&self, step: &StepRecord, ctx: &StepContext) -> Result<StepOutcome, StepError> {
        let existing: Option<Value> = self
            .client
            .get(&resource_ref(&step.resource).map_err(step_error)?)
            .await
            .map_err(step_error)?;
        let deployment_marker = call_of(step)?
            .body
            .as_ref()
            .and_then(|b| b.get("description"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let description = existing
            .as_ref()
            .and_then(|v| v.get("description"))
            .and_then(Value::as_str);
        match (deployment_marker, description) {
            (Some(marker), Some(found)) if found == marker => {
                ctx.log(
                    Level::Info,
                    &format!(
                        "{} already exists and is ours: adopted it (an earlier attempt created it)",
                        step.resource
                    ),
                )
                .await;
                Ok(StepOutcome::summary("adopted existing resource".into()))
            }
            _ => Err(StepError(format!(
                "{} already exists and is not owned by this deployment ({}); rename the deployment or remove that resource",
                step.resource,
                description.unwrap_or("no description")
            ))),
        }
    }
}

#[async_trait]
impl Executor for CloudExecutor {
    async fn execute(
        &self,
        step: &StepRecord,
        ctx: &StepContext,
    ) -> Result<StepOutcome, StepError> {
        let call = call_of(step)?;
        if step.action == StepAction::Wait.as_str() {
            return wait_until_active(&self.client, self.certificate_poll, step, ctx).await;
        }
        if step.action == StepAction::Soak.as_str() {
            return self.soak(step, ctx).await;
        }
        if call.api == Api::Run {
            return self.execute_run(step, &call, ctx).await;
        }
        if call.api == Api::CertificateManager {
            return match self.certificate_manager_mutation(&call, ctx).await {
                Ok(outcome) => Ok(outcome),
                Err(CloudError::AlreadyExists { .. }) if step.action == "create" => {
                    self.adopt_certificate_manager(step, &call, ctx).await
                }
                Err(e) => self.failed(step, &call, e, ctx).await,
            };
        }
        if let Some(previous) = ctx.operation() {
            // An earlier run started this step's operation: poll it rather than send again.
            let reference = OperationRef::parse(&previous.name).ok_or_else(|| {
                StepError(format!("stored operation {} is unreadable", previous.name))
            })?;
            ctx.log(
                Level::Info,
                &format!("resuming: polling operation {reference} started earlier"),
            )
            .await;
            return match self.wait(&reference, ctx).await {
                Ok(()) => Ok(StepOutcome::default()),
                Err(e) => self.failed(step, &call, e, ctx).await,
            };
        }
        let request_id = Uuid::parse_str(&step.request_id)
            .map_err(|e| StepError(format!("step has an invalid requestId: {e}")))?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            // A stale-fingerprint retry is a new logical mutation, so it gets a new requestId.
            let rid = if attempt == 1 {
                request_id
            } else {
                Uuid::new_v4()
            };
            match self.send(step, &call, rid, ctx).await {
                Ok(()) => return Ok(StepOutcome::default()),
                Err(CloudError::StaleFingerprint { .. })
                    if attempt < STALE_FINGERPRINT_ATTEMPTS =>
                {
                    ctx.log(
                        Level::Warn,
                        "the resource changed meanwhile (stale fingerprint): reading it again",
                    )
                    .await;
                }
                Err(e) => return self.failed(step, &call, e, ctx).await,
            }
        }
    }
}

/// `path?k=v&k2=v2` → (`path`, query pairs).
fn split_query(path: &str) -> (&str, Vec<(String, String)>) {
    match path.split_once('?') {
        Some((p, q)) => (
            p,
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        None => (path, Vec::new()),
    }
}

impl CloudExecutor {
    /// A Cloud Run step: deploy (patch with allowMissing, then wait for the revision to be
    /// Ready), set the invoker binding, or delete.
    async fn execute_run(
        &self,
        step: &StepRecord,
        call: &Call,
        ctx: &StepContext,
    ) -> Result<StepOutcome, StepError> {
        let result = if call.path.ends_with(":setIamPolicy") {
            self.set_invoker(step, call, ctx).await
        } else {
            self.run_mutation(step, call, ctx).await
        };
        match result {
            Ok(outcome) => Ok(outcome),
            Err(e) => self.failed(step, call, e, ctx).await,
        }
    }

    pub(super) async fn run_mutation(
        &self,
        step: &StepRecord,
        call: &Call,
        ctx: &StepContext,
    ) -> Result<StepOutcome, CloudError> {
        let reference = self.long_running(call, ctx).await?;
        self.wait(&reference, ctx).await?;
        if call.verb == Verb::Delete {
            return Ok(StepOutcome::default());
        }
        // The operation can succeed while the revision is still not serving (or the service
        // kept the previous one): Ready is the service's own verdict.
        let service: Option<RunService> = self.client.run_get(&step.resource).await?;
        let service = service.ok_or_else(|| CloudError::NotFound {
            resource: step.resource.clone(),
            message: format!("{} is gone after its deploy", step.resource),
        })?;
        if !service.is_ready() {
            let reason = service
                .terminal_condition
                .as_ref()
                .and_then(|c| c.message.clone())
                .unwrap_or_else(|| "the service is not Ready".into());
            return Err(CloudError::OperationFailed {
                operation: reference.path(),
                code: "NOT_READY".into(),
                message: reason,
                http_status: None,
            });
        }
        let summary = format!(
            "revision {} at {}",
            service.latest_ready_revision.as_deref().unwrap_or("(none)"),
            service.uri.as_deref().unwrap_or("(no URL yet)")
        );
        ctx.log(
            Level::Info,
            &format!("{} is Ready: {summary}", step.resource),
        )
        .await;
        Ok(StepOutcome::summary(summary))
    }

    /// A Certificate Manager create, patch or delete: send it once (or poll the operation an
    /// earlier run recorded), then wait for the operation's `done`.
    async fn certificate_manager_mutation(
        &self,
        call: &Call,
        ctx: &StepContext,
    ) -> Result<StepOutcome, CloudError> {
        let reference = self.long_running(call, ctx).await?;
        self.wait(&reference, ctx).await?;
        Ok(StepOutcome::default())
    }

    /// A Cloud Run or Certificate Manager call, both answered with a google.longrunning
    /// operation: polls the one an earlier run of the step recorded, or sends the call once and
    /// records its operation before anything waits on it.
    async fn long_running(
        &self,
        call: &Call,
        ctx: &StepContext,
    ) -> Result<OperationRef, CloudError> {
        let reference = |name: String| match call.api {
            Api::CertificateManager => OperationRef::CertificateManager { name },
            _ => OperationRef::Run { name },
        };
        if let Some(previous) = ctx.operation() {
            ctx.log(
                Level::Info,
                &format!(
                    "resuming: polling operation {} started earlier",
                    previous.name
                ),
            )
            .await;
            return Ok(reference(previous.name));
        }
        let (path, query) = split_query(&call.path);
        ctx.log(
            Level::Info,
            &format!(
                "{} {}{}",
                verb_name(call.verb),
                call.path,
                call.body
                    .as_ref()
                    .map(|b| format!(" body={b}"))
                    .unwrap_or_default()
            ),
        )
        .await;
        let (verb, body) = (method(call.verb), call.body.clone());
        let op: RunOperation = match call.api {
            Api::CertificateManager => {
                self.client
                    .certificate_manager_call(verb, path, &query, body)
                    .await?
            }
            _ => self.client.run_call(verb, path, &query, body).await?,
        };
        let reference = reference(op.name);
        ctx.log(Level::Info, &format!("→ operation {reference}"))
            .await;
        ctx.record_operation(&reference.path(), &scope_name(&reference))
            .await
            .map_err(|e| CloudError::Decode(e.0))?;
        Ok(reference)
    }

    /// "Already exists" on a Certificate Manager create: ours when its description holds this
    /// deployment's marker (an earlier attempt made it), a conflict otherwise.
    async fn adopt_certificate_manager(
        &self,
        step: &StepRecord,
        call: &Call,
        ctx: &StepContext,
    ) -> Result<StepOutcome, StepError> {
        let existing = self
            .client
            .certificate_manager_get(&step.resource)
            .await
            .map_err(step_error)?;
        let marker = call.body.as_ref().and_then(|b| b.get("description"));
        let found = existing.as_ref().and_then(|v| v.get("description"));
        if marker.is_some() && marker == found {
            ctx.log(
                Level::Info,
                &format!(
                    "{} already exists and is ours: adopted it (an earlier attempt created it)",
                    step.resource
                ),
            )
            .await;
            return Ok(StepOutcome::summary("adopted existing resource".into()));
        }
        Err(StepError(format!(
            "{} already exists and is not owned by this deployment ({}); rename the deployment or remove that resource",
            step.resource,
            found.and_then(Value::as_str).unwrap_or("no description")
        )))
    }

    /// Get, modify, set with the etag just read. A 409 means someone changed the policy in
    /// between: read it again and redo the change on top of theirs, so neither edit is lost.
    async fn set_invoker(
        &self,
        step: &StepRecord,
        call: &Call,
        ctx: &StepContext,
    ) -> Result<StepOutcome, CloudError> {
        let body = call.body.clone().unwrap_or_default();
        let role = body["role"].as_str().unwrap_or(INVOKER_ROLE);
        let member = body["member"].as_str().unwrap_or(PUBLIC_MEMBER);
        let present = body["present"].as_bool().unwrap_or(true);
        let resource = step.resource.as_str();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut policy: IamPolicy = self
                .client
                .run_call(Method::GET, &format!("{resource}:getIamPolicy"), &[], None)
                .await?;
            let changed = if present {
                policy.grant(role, member)
            } else {
                policy.revoke(role, member)
            };
            if !changed {
                let summary = format!(
                    "{member} {} {role} already",
                    if present { "has" } else { "does not have" }
                );
                ctx.log(Level::Info, &summary).await;
                return Ok(StepOutcome::summary(summary));
            }
            ctx.log(
                Level::Info,
                &format!(
                    "setIamPolicy {resource}: {} {member} {} {role} (etag {})",
                    if present { "grant" } else { "revoke" },
                    if present { "to" } else { "from" },
                    policy.etag.as_deref().unwrap_or("none")
                ),
            )
            .await;
            let request = serde_json::json!({ "policy": policy });
            let sent: Result<IamPolicy, CloudError> = self
                .client
                .run_call(
                    Method::POST,
                    &format!("{resource}:setIamPolicy"),
                    &[],
                    Some(request),
                )
                .await;
            match sent {
                Ok(_) => {
                    return Ok(StepOutcome::summary(format!(
                        "{} {member} {role}",
                        if present { "granted" } else { "revoked" }
                    )));
                }
                Err(CloudError::Conflict { message }) if attempt < STALE_ETAG_ATTEMPTS => {
                    ctx.log(
                        Level::Warn,
                        &format!(
                            "the IAM policy changed since it was read ({message}): reading it again"
                        ),
                    )
                    .await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Turns the errors that mean "already in the state we want" into success.
    async fn failed(
        &self,
        step: &StepRecord,
        call: &Call,
        error: CloudError,
        ctx: &StepContext,
    ) -> Result<StepOutcome, StepError> {
        match (&error, call.verb) {
            (CloudError::AlreadyExists { .. }, Verb::Post) if step.action == "create" => {
                self.adopt(step, ctx).await
            }
            (CloudError::NotFound { .. }, Verb::Delete) => {
                ctx.log(Level::Info, &format!("{} is already gone", step.resource))
                    .await;
                Ok(StepOutcome::summary("already deleted".into()))
            }
            _ => {
                ctx.log(Level::Error, &error.to_string()).await;
                Err(step_error(error))
            }
        }
    }
}

fn step_error(e: CloudError) -> StepError {
    StepError(e.to_string())
}

fn resource_ref(path: &str) -> Result<ResourceRef, CloudError> {
    ResourceRef::parse(path)
        .ok_or_else(|| CloudError::Decode(format!("not a resource path: {path}")))
}

fn method(verb: Verb) -> Method {
    match verb {
        Verb::Get => Method::GET,
        Verb::Post => Method::POST,
        Verb::Put => Method::PUT,
        Verb::Patch => Method::PATCH,
        Verb::Delete => Method::DELETE,
    }
}

fn verb_name(verb: Verb) -> &'static str {
    match verb {
        Verb::Get => "GET",
        Verb::Post => "POST",
        Verb::Put => "PUT",
        Verb::Patch => "PATCH",
        Verb::Delete => "DELETE",
    }
}

fn scope_name(op: &OperationRef) -> String {
    match op {
        OperationRef::Compute {
            scope: crate::cloud::Scope::Region(r),
            ..
        } => r.clone(),
        OperationRef::Run { .. } => "run".into(),
        OperationRef::CertificateManager { .. } => "certificatemanager".into(),
        _ => "global".into(),
    }
}
