//! A running job's bookkeeping, written off the critical path.
//!
//! Every change to a job's records (log lines, operation names, waits, step transitions) goes
//! through the job's [`Journal`] to one [`Writer`], which commits whatever has queued up since
//! its last commit as one transaction. So a step's completion, the log lines before it and the
//! start of its dependents cost one commit between an operation reaching DONE and the next
//! request, and a log line costs the step that writes it nothing at all: it is queued, not
//! awaited. One writer also keeps the log in the order the lines were written.
//!
//! What must be stored before the job goes on is awaited: an operation name before it is
//! waited on (a restarted runner polls it instead of sending the call again) and a transition
//! before the steps it starts are run (it also tells whether a cancel came first).

use super::{JobError, Level, redact};
use crate::db::Db;
use crate::db::jobs::{self as store, JobWrite};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

type Reply = oneshot::Sender<Result<bool, String>>;

struct Entry {
    write: JobWrite,
    done: Option<Reply>,
}

/// Where a job's changes are sent. Cheap to clone: every step of the job holds one.
#[derive(Clone)]
pub struct Journal {
    tx: mpsc::UnboundedSender<Entry>,
}

/// Commits a job's changes in batches, in the order they were sent. Runs until every
/// [`Journal`] of the job is dropped.
pub struct Writer {
    db: Db,
    job_id: i64,
    rx: mpsc::UnboundedReceiver<Entry>,
    /// Bumped after every commit, so pages watching the job re-read it.
    notify: watch::Sender<u64>,
}

pub fn open(db: Db, job_id: i64, notify: watch::Sender<u64>) -> (Journal, Writer) {
    let (tx, rx) = mpsc::unbounded_channel();
    (
        Journal { tx },
        Writer {
            db,
            job_id,
            rx,
            notify,
        },
    )
}

impl Journal {
    /// Queues a log line (credentials removed). Never fails a step: a line that cannot be
    /// written is reported in the server's log.
    pub fn log(&self, step: Option<&str>, level: Level, message: &str) {
        self.queue(JobWrite::Log {
            step: step.map(str::to_string),
            level: level.as_str(),
            message: redact(message),
        });
    }

    /// Queues a step's wait before its next attempt.
    pub fn waiting(&self, idx: i64, note: &str, delay: Duration) {
        self.queue(JobWrite::Waiting {
            idx,
            note: note.to_string(),
            seconds: delay.as_secs_f64(),
        });
    }

    /// Queues what a long-running step has seen so far (the job page shows it).
    pub fn progress(&self, idx: i64, progress: &str) {
        self.queue(JobWrite::Progress {
            idx,
            progress: progress.to_string(),
        });
    }

    /// Stores the operation a step started, and returns once it is committed.
    pub async fn operation(&self, idx: i64, name: &str, scope: &str) -> Result<(), JobError> {
        self.send(JobWrite::Operation {
            idx,
            name: name.to_string(),
            scope: scope.to_string(),
        })
        .await
        .map(|_| ())
    }

    pub async fn job_running(&self) -> Result<(), JobError> {
        self.send(JobWrite::JobRunning).await.map(|_| ())
    }

    /// Records finished steps and starts `start` in one commit, returning once it is made.
    /// Returns false, starting nothing, when a cancel was asked for first. With nothing to
    /// start, the finished steps are only queued: they commit with the next batch.
    pub async fn transition(
        &self,
        finished: Vec<JobWrite>,
        start: Vec<i64>,
    ) -> Result<bool, JobError> {
        for f in finished {
            self.queue(f);
        }
        if start.is_empty() {
            return Ok(true);
        }
        self.send(JobWrite::StepsStarted { idxs: start }).await
    }

    /// Records the last finished steps and the job's end with its closing log line, in one
    /// commit.
    pub async fn finish(
        &self,
        finished: Vec<JobWrite>,
        status: &'static str,
        error: Option<String>,
    ) -> Result<(), JobError> {
        for f in finished {
            self.queue(f);
        }
        let level = if error.is_some() {
            Level::Error
        } else {
            Level::Info
        };
        self.log(None, level, &format!("job {status}"));
        self.send(JobWrite::JobFinished { status, error })
            .await
            .map(|_| ())
    }

    fn queue(&self, write: JobWrite) {
        // The writer lives as long as any journal of the job, so a send fails only while the
        // job's task is being torn down; nothing is left to record then.
        let _ = self.tx.send(Entry { write, done: None });
    }

    async fn send(&self, write: JobWrite) -> Result<bool, JobError> {
        let (done, reply) = oneshot::channel();
        self.tx
            .send(Entry {
                write,
                done: Some(done),
            })
            .map_err(|_| JobError::Journal("the job's writer has stopped".into()))?;
        reply
            .await
            .map_err(|_| JobError::Journal("the job's writer has stopped".into()))?
            .map_err(JobError::Journal)
    }
}

impl Writer {
    pub async fn run(mut self) {
        while let Some(first) = self.rx.recv().await {
            let mut batch = vec![first];
            while let Ok(next) = self.rx.try_recv() {
                batch.push(next);
            }
            let (writes, replies): (Vec<JobWrite>, Vec<Option<Reply>>) =
                batch.into_iter().map(|e| (e.write, e.done)).unzip();
            let result = store::write(&self.db, self.job_id, &writes)
                .await
                .map_err(|e| e.to_string());
            if let Err(e) = &result {
                tracing::warn!(job = self.job_id, error = %e, writes = writes.len(),
                    "cannot record the job's progress");
            }
            for reply in replies.into_iter().flatten() {
                let _ = reply.send(result.clone());
            }
            self.notify.send_modify(|v| *v += 1);
        }
    }
}
