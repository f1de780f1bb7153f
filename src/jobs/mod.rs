//! The job runner: executes a job's steps in dependency order, independent steps in parallel,
//! records every transition in SQLite so a job survives a restart, and tells watchers about
//! progress.
//!
//! The runner does not know how a step talks to the cloud: an [`Executor`] does. Everything the
//! executor needs to be safe across restarts is in the step record (the requestId, fixed when
//! the job was created) and in [`StepContext`] (the operation name recorded by an earlier run).

use crate::db::Db;
use crate::db::jobs::{
    self as store, JobRow, JobWrite, JobsDbError, LogLine, NewJob, NewStep, StepRecord, StepWait,
};
use crate::domain::plan::{Call, StepSpec};
use async_trait::async_trait;
use journal::Journal;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};

pub mod certificate_wait;
pub mod cloud_executor;
mod journal;
pub mod rollout;
pub mod schedule;
pub mod waits;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("job {0} not found")]
    NotFound(i64),
    #[error("job {id} is {status}; only a failed or cancelled job can be resumed")]
    NotResumable { id: i64, status: String },
    #[error("job {id} is {status}; only a queued or running job can be cancelled")]
    NotCancellable { id: i64, status: String },
    #[error(transparent)]
    Db(#[from] JobsDbError),
    #[error("cannot store the step's call: {0}")]
    Json(#[from] serde_json::Error),
    /// A change to the job's records could not be committed.
    #[error("cannot record the job's progress: {0}")]
    Journal(String),
}

/// Why a step failed, in words fit for the job page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StepError(pub String);

/// What a step that returned reports (shown in the log).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepOutcome {
    pub summary: Option<String>,
    /// The step gave up waiting because the job is being cancelled: it did not finish, so the
    /// runner leaves it unfinished (skipped when the job ends) and a resume runs it again.
    pub stopped: bool,
}

impl StepOutcome {
    pub fn summary(summary: String) -> StepOutcome {
        StepOutcome {
            summary: Some(summary),
            stopped: false,
        }
    }

    pub fn stopped(reason: String) -> StepOutcome {
        StepOutcome {
            summary: Some(reason),
            stopped: true,
        }
    }
}

/// An operation a step started, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRef {
    pub name: String,
    /// `global` or a region.
    pub scope: String,
}

/// What a step's executor can do besides calling the cloud: see the operation an earlier run
/// started, record a new one at once, and write to the job log.
pub struct StepContext {
    journal: Journal,
    /// For what a waiting step reads between its polls (whether a cancel was asked for).
    db: Db,
    job_id: i64,
    /// Bumped whenever the job changes; a waiting step listens to wake early for a cancel.
    changes: watch::Sender<u64>,
    idx: i64,
    step_id: String,
    operation: Mutex<Option<OperationRef>>,
}

impl StepContext {
    /// The operation an earlier attempt of this step started, if any: poll it rather than
    /// sending the call again.
    pub fn operation(&self) -> Option<OperationRef> {
        self.operation.lock().expect("operation lock").clone()
    }

    /// Stores the operation name before waiting on it, so a crash while waiting leaves enough
    /// to resume by polling.
    pub async fn record_operation(&self, name: &str, scope: &str) -> Result<(), StepError> {
        self.journal
            .operation(self.idx, name, scope)
            .await
            .map_err(|e| StepError(format!("cannot record operation {name}: {e}")))?;
        *self.operation.lock().expect("operation lock") = Some(OperationRef {
            name: name.to_string(),
            scope: scope.to_string(),
        });
        Ok(())
    }

    /// Records what a long-running step has seen so far (the job page shows it). Like the log,
    /// it never fails the step.
    pub async fn set_progress(&self, progress: &str) {
        self.journal.progress(self.idx, progress);
    }

    /// Whether the job has been asked to stop. A step that waits a long time checks it, so a
    /// cancel does not have to wait for the step to finish on its own.
    pub async fn cancel_requested(&self) -> bool {
        store::cancel_requested(&self.db, self.job_id)
            .await
            .unwrap_or(false)
    }

    /// Changes whenever the job does (a cancel among them): lets a waiting step wake early.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Appends a line to the job log, with credentials removed. Logging never fails a step, and
    /// never holds it up: the line is committed with the job's next batch of changes.
    pub async fn log(&self, level: Level, message: &str) {
        self.journal.log(Some(&self.step_id), level, message);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(&self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Removes bearer tokens and secret-looking JSON fields from a log line.
pub fn redact(message: &str) -> String {
    static PATTERNS: std::sync::OnceLock<[regex::Regex; 3]> = std::sync::OnceLock::new();
    let [bearer, fields, env] = PATTERNS.get_or_init(|| {
        [
            regex::Regex::new(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+").expect("valid regex"),
            regex::Regex::new(
                r#"(?i)("(?:access_token|refresh_token|id_token|private_key|client_secret|password|token)"\s*:\s*)"(?:[^"\\]|\\.)*""#,
            )
            .expect("valid regex"),
            // Cloud Run environment variables (`{"name": .., "value": ..}`) often carry
            // credentials: the log keeps the name and drops the value.
            regex::Regex::new(
                r#"("name"\s*:\s*"(?:[^"\\]|\\.)*"\s*,\s*"value"\s*:\s*)"(?:[^"\\]|\\.)*""#,
            )
            .expect("valid regex"),
        ]
    });
    let once = bearer.replace_all(message, "${1}[redacted]");
    let twice = fields.replace_all(&once, "${1}\"[redacted]\"");
    env.replace_all(&twice, "${1}\"[redacted]\"").into_owned()
}

/// Carries out one step. Called again for the same step after a crash (with
/// `ctx.operation()` set when the operation was recorded) and on resume; the step's
/// `request_id` stays the same across those calls so the API does not do the work twice.
#[async_trait]
pub trait Executor: Send + Sync + 'static {
    async fn execute(&self, step: &StepRecord, ctx: &StepContext)
    -> Result<StepOutcome, StepError>;
}

/// The call a stored step makes, as `plan::steps` described it.
pub fn call_of(step: &StepRecord) -> Result<Call, StepError> {
    serde_json::from_str(&step.request).map_err(|e| {
        StepError(format!(
            "step {} has an unreadable request: {e}",
            step.step_id
        ))
    })
}

/// A job read back for a page or the API.
#[derive(Debug, Clone)]
pub struct JobView {
    pub job: JobRow,
    pub steps: Vec<StepRecord>,
    pub log: Vec<LogLine>,
    /// The waits of running steps that are not over yet.
    pub waits: Vec<StepWait>,
}

pub async fn read_job(db: &Db, id: i64) -> Result<Option<JobView>, JobError> {
    let Some(job) = store::get_job(db, id).await? else {
        return Ok(None);
    };
    Ok(Some(JobView {
        steps: store::job_steps(db, id).await?,
        log: store::job_log(db, id, 0).await?,
        waits: store::step_waits(db, id).await?,
        job,
    }))
}

/// A step's wait in words, as the job page and the API show it: `waiting: rate limited by
/// Google, retry in 40 s`.
pub fn wait_words(wait: &StepWait) -> String {
    waits::waiting_words(&wait.note, wait.seconds_left)
}

/// What the caller asks for when starting a job.
#[derive(Debug, Clone)]
pub struct JobRequest {
    pub deployment: String,
    pub kind: JobKind,
    pub spec: serde_json::Value,
    pub plan: serde_json::Value,
    pub created_by: String,
    pub steps: Vec<StepSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Apply,
    Destroy,
}

impl JobKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            JobKind::Apply => "apply",
            JobKind::Destroy => "destroy",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Most steps of one job in flight at once (`--max-parallel-steps`). Compute's mutation
    /// quotas are per project and per minute: more at once meets more rate limits.
    pub concurrency: usize,
}

impl Default for RunnerOptions {
    /// Eight: more than the widest layer of a usual plan (its NEGs, the certificate, the
    /// address and the redirect beside them), far below Compute's per-minute write quota.
    fn default() -> Self {
        RunnerOptions { concurrency: 8 }
    }
}

struct Shared {
    db: Db,
    executor: Arc<dyn Executor>,
    options: RunnerOptions,
    /// Per job, a counter bumped on every change; pages re-read the job when it moves.
    watchers: Mutex<HashMap<i64, watch::Sender<u64>>>,
}

impl Shared {
    fn sender(&self, job_id: i64) -> watch::Sender<u64> {
        self.watchers
            .lock()
            .expect("watchers lock")
            .entry(job_id)
            .or_insert_with(|| watch::channel(0).0)
            .clone()
    }

    fn bump(&self, job_id: i64) {
        self.sender(job_id).send_modify(|v| *v += 1);
    }
}

/// Runs jobs on tokio tasks. Dropping the runner stops its jobs where they are, as a crash
/// would; [`Runner::recover`] on a new runner continues them.
pub struct Runner {
    shared: Arc<Shared>,
    tasks: Mutex<Vec<AbortHandle>>,
}

impl Drop for Runner {
    fn drop(&mut self) {
        for task in self.tasks.lock().expect("tasks lock").drain(..) {
            task.abort();
        }
    }
}

impl Runner {
    pub fn new(db: Db, executor: Arc<dyn Executor>, options: RunnerOptions) -> Runner {
        Runner {
            shared: Arc::new(Shared {
                db,
                executor,
                options,
                watchers: Mutex::new(HashMap::new()),
            }),
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// Stores the job with its steps and starts it. Fails with `DeploymentBusy` (naming the
    /// running job and who started it) while the deployment has another job in progress.
    pub async fn start(&self, request: JobRequest) -> Result<i64, JobError> {
        let steps = request
            .steps
            .iter()
            .map(|s| {
                Ok(NewStep {
                    step_id: s.id.clone(),
                    action: s.action.as_str().to_string(),
                    resource: s.resource.clone(),
                    depends_on: s.depends_on.clone(),
                    request: serde_json::to_value(&s.call)?,
                })
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        let id = store::create_job(
            &self.shared.db,
            &NewJob {
                deployment: request.deployment,
                kind: request.kind.as_str().to_string(),
                spec: request.spec,
                plan: request.plan,
                created_by: request.created_by,
                steps,
            },
        )
        .await?;
        self.spawn(id);
        Ok(id)
    }

    /// Stops a job: no new step starts, steps in flight finish, the job ends `cancelled`.
    pub async fn cancel(&self, id: i64) -> Result<(), JobError> {
        if !store::request_cancel(&self.shared.db, id).await? {
            let job = store::get_job(&self.shared.db, id)
                .await?
                .ok_or(JobError::NotFound(id))?;
            return Err(JobError::NotCancellable {
                id,
                status: job.status,
            });
        }
        self.shared.bump(id);
        Ok(())
    }

    /// Runs a failed or cancelled job again from where it stopped: succeeded steps stay done,
    /// failed and skipped ones run again with their original requestIds.
    pub async fn resume(&self, id: i64) -> Result<(), JobError> {
        if !store::requeue_for_resume(&self.shared.db, id).await? {
            let job = store::get_job(&self.shared.db, id)
                .await?
                .ok_or(JobError::NotFound(id))?;
            return Err(JobError::NotResumable {
                id,
                status: job.status,
            });
        }
        self.spawn(id);
        Ok(())
    }

    /// Continues every job a previous process left queued or running. Returns their ids.
    pub async fn recover(&self) -> Result<Vec<i64>, JobError> {
        let jobs = store::unfinished_jobs(&self.shared.db).await?;
        let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
        for id in &ids {
            self.spawn(*id);
        }
        Ok(ids)
    }

    /// A receiver that changes whenever the job, one of its steps or its log changes.
    pub fn subscribe(&self, id: i64) -> watch::Receiver<u64> {
        self.shared.sender(id).subscribe()
    }

    /// Waits until the job has finished and returns it.
    pub async fn wait(&self, id: i64) -> Result<JobRow, JobError> {
        let mut rx = self.subscribe(id);
        loop {
            let job = store::get_job(&self.shared.db, id)
                .await?
                .ok_or(JobError::NotFound(id))?;
            if job.is_finished() {
                return Ok(job);
            }
            // A change that lands between the read and this wait is not lost: the receiver
            // remembers it was not seen yet.
            if rx.changed().await.is_err() {
                return Ok(job);
            }
        }
    }

    fn spawn(&self, id: i64) {
        let shared = self.shared.clone();
        let handle = tokio::spawn(async move {
            if let Err(e) = run_job(&shared, id).await {
                tracing::error!(job = id, error = %e, "job runner stopped");
                let _ = store::finish_job(&shared.db, id, "failed", Some(&e.to_string())).await;
            }
            shared.bump(id);
        });
        let mut tasks = self.tasks.lock().expect("tasks lock");
        tasks.retain(|t| !t.is_finished());
        tasks.push(handle.abort_handle());
    }
}

/// Runs a job with its journal's writer beside it on the same task, so that stopping the task
/// (a dropped runner) stops both, as a crash would.
async fn run_job(shared: &Arc<Shared>, id: i64) -> Result<(), JobError> {
    let (journal, writer) = journal::open(shared.db.clone(), id, shared.sender(id));
    let (result, ()) = tokio::join!(run_steps(shared, id, journal), writer.run());
    result
}

/// How a step stands in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not started in this run (`pending`, or `running` when a crash cut it off: then it runs
    /// again, and the executor polls its operation if one was recorded).
    Waiting,
    Running,
    Succeeded,
    Failed,
}

async fn run_steps(shared: &Arc<Shared>, id: i64, journal: Journal) -> Result<(), JobError> {
    let db = &shared.db;
    // Read once: from here on this runner is the only writer of the job's steps, so it keeps
    // their states in memory instead of reading them back after every completion.
    let steps = store::job_steps(db, id).await?;
    let job = store::get_job(db, id)
        .await?
        .ok_or(JobError::NotFound(id))?;
    journal.job_running().await?;
    journal.log(None, Level::Info, "job started");

    let position: HashMap<&str, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.step_id.as_str(), i))
        .collect();
    // A dependency on a step the job does not have can never be met: usize::MAX stands for it.
    let depends_on: Vec<Vec<usize>> = steps
        .iter()
        .map(|s| {
            s.depends_on()
                .iter()
                .map(|d| position.get(d.as_str()).copied().unwrap_or(usize::MAX))
                .collect()
        })
        .collect();
    let chains = schedule::chain_lengths(&depends_on);
    let mut state: Vec<State> = steps
        .iter()
        .map(|s| match s.status.as_str() {
            "succeeded" => State::Succeeded,
            _ => State::Waiting,
        })
        .collect();

    let mut in_flight: JoinSet<(usize, Result<StepOutcome, StepError>)> = JoinSet::new();
    let mut finished: Vec<JobWrite> = Vec::new();
    let mut failure: Option<String> = None;
    let mut cancelled = job.cancel_requested;
    loop {
        let mut start = Vec::new();
        if failure.is_none() && !cancelled {
            let ready: Vec<usize> = (0..steps.len())
                .filter(|&i| state[i] == State::Waiting)
                .filter(|&i| {
                    depends_on[i]
                        .iter()
                        .all(|&d| state.get(d) == Some(&State::Succeeded))
                })
                .collect();
            let free = shared.options.concurrency.max(1) - in_flight.len();
            start = schedule::pick(ready, &chains, free);
        }
        // The last completions go with the job's end, in its one final commit.
        let last = start.is_empty() && in_flight.is_empty();
        if !last {
            let idxs = start.iter().map(|&i| steps[i].idx).collect();
            if !journal
                .transition(std::mem::take(&mut finished), idxs)
                .await?
            {
                cancelled = true;
                start.clear();
            }
        }
        for i in start {
            state[i] = State::Running;
            let step = steps[i].clone();
            let ctx = StepContext {
                journal: journal.clone(),
                db: db.clone(),
                job_id: id,
                changes: shared.sender(id),
                idx: step.idx,
                step_id: step.step_id.clone(),
                operation: Mutex::new(step.operation.clone().map(|name| OperationRef {
                    name,
                    scope: step.operation_scope.clone().unwrap_or_default(),
                })),
            };
            let observer: Arc<dyn crate::cloud::RetryObserver> = Arc::new(waits::StepWaits {
                journal: journal.clone(),
                idx: step.idx,
                step_id: step.step_id.clone(),
            });
            let executor = shared.executor.clone();
            in_flight.spawn(crate::cloud::observed(observer, async move {
                (i, executor.execute(&step, &ctx).await)
            }));
        }
        let Some(joined) = in_flight.join_next().await else {
            break;
        };
        let (i, result) = match joined {
            Ok(r) => r,
            Err(e) => {
                // A panicking executor fails the job; the step stays `running` so a resume
                // or restart runs it again.
                failure.get_or_insert(format!("a step's executor panicked: {e}"));
                continue;
            }
        };
        let step_id = steps[i].step_id.as_str();
        match result {
            Ok(outcome) if outcome.stopped => {
                // Left unfinished: the job's end marks it skipped, and a resume runs it again.
                cancelled = true;
                let reason = outcome.summary.unwrap_or_else(|| "job cancelled".into());
                journal.log(
                    Some(step_id),
                    Level::Warn,
                    &format!("{step_id} stopped: {reason}"),
                );
            }
            Ok(outcome) => {
                state[i] = State::Succeeded;
                let line = match outcome.summary {
                    Some(s) => format!("{step_id} succeeded: {s}"),
                    None => format!("{step_id} succeeded"),
                };
                journal.log(Some(step_id), Level::Info, &line);
                finished.push(JobWrite::StepFinished {
                    idx: steps[i].idx,
                    status: "succeeded",
                    error: None,
                });
            }
            Err(e) => {
                state[i] = State::Failed;
                let message = redact(&e.0);
                journal.log(Some(step_id), Level::Error, &message);
                finished.push(JobWrite::StepFinished {
                    idx: steps[i].idx,
                    status: "failed",
                    error: Some(message.clone()),
                });
                failure.get_or_insert(format!("step {step_id} failed: {message}"));
            }
        }
    }

    let all_done = state.iter().all(|s| *s == State::Succeeded);
    let (status, error) = if let Some(f) = failure {
        ("failed", Some(f))
    } else if all_done {
        ("succeeded", None)
    } else if cancelled
        || store::get_job(db, id)
            .await?
            .is_some_and(|j| j.cancel_requested)
    {
        ("cancelled", None)
    } else {
        // Cannot happen with a well-formed step graph; a dependency on an unknown step would.
        (
            "failed",
            Some("some steps can never run: their dependencies are missing".into()),
        )
    };
    journal.finish(finished, status, error).await
}

#[cfg(test)]
mod tests;
