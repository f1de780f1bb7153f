//! The runner against a real SQLite file and a test executor that behaves like the cloud:
//! it records the operation first, then "applies" the call once per requestId.

use super::*;
use crate::domain::plan::{Call, Scope, StepAction, Verb};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Default)]
struct TestExecutor {
    delay: Duration,
    running: AtomicUsize,
    max_running: AtomicUsize,
    fail: Mutex<HashSet<String>>,
    gates: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// step id → (start, finish) of its completed executions.
    spans: Mutex<HashMap<String, Vec<(Instant, Instant)>>>,
    /// requestIds the "cloud" applied, with how many times.
    applied: Mutex<HashMap<String, u32>>,
    /// Steps that found an operation from an earlier attempt and polled it.
    repolled: Mutex<Vec<String>>,
    /// Steps that tell the client's retry observer of a rate-limit wait before their gate.
    rate_limited: Mutex<HashSet<String>>,
}

impl TestExecutor {
    fn with_delay(ms: u64) -> TestExecutor {
        TestExecutor {
            delay: Duration::from_millis(ms),
            ..TestExecutor::default()
        }
    }

    fn gate(&self, step: &str) -> Arc<Semaphore> {
        self.gates
            .lock()
            .unwrap()
            .entry(step.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(0)))
            .clone()
    }

    fn completions(&self, step: &str) -> usize {
        self.spans.lock().unwrap().get(step).map_or(0, Vec::len)
    }

    fn span(&self, step: &str) -> (Instant, Instant) {
        self.spans.lock().unwrap()[step][0]
    }
}

#[async_trait]
impl Executor for TestExecutor {
    async fn execute(
        &self,
        step: &StepRecord,
        ctx: &StepContext,
    ) -> Result<StepOutcome, StepError> {
        let start = Instant::now();
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        if ctx.operation().is_some() {
            self.repolled.lock().unwrap().push(step.step_id.clone());
        } else {
            ctx.record_operation(&format!("operation-{}", step.request_id), "global")
                .await?;
        }
        ctx.log(
            Level::Info,
            &format!(
                "POST {} Authorization: Bearer ya29.secret-token {{\"access_token\":\"s3cr3t\"}}",
                step.resource
            ),
        )
        .await;
        if self.rate_limited.lock().unwrap().contains(&step.step_id) {
            // What the cloud client does before it sleeps on a 429.
            crate::cloud::retry_notice::notify(&crate::cloud::RetryWait {
                reason: crate::cloud::RetryReason::RateLimited,
                delay: Duration::from_secs(40),
                retry: 1,
                error: "rate limited by Google Cloud (retry later): Quota exceeded".into(),
            })
            .await;
        }
        let gate = self.gates.lock().unwrap().get(&step.step_id).cloned();
        if let Some(gate) = gate {
            gate.acquire().await.unwrap().forget();
        }
        tokio::time::sleep(self.delay).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        if self.fail.lock().unwrap().contains(&step.step_id) {
            return Err(StepError(format!("{} is invalid", step.resource)));
        }
        *self
            .applied
            .lock()
            .unwrap()
            .entry(step.request_id.clone())
            .or_default() += 1;
        self.spans
            .lock()
            .unwrap()
            .entry(step.step_id.clone())
            .or_default()
            .push((start, Instant::now()));
        Ok(StepOutcome::summary("DONE".into()))
    }
}

fn step(id: &str, deps: &[&str]) -> StepSpec {
    StepSpec {
        id: id.to_string(),
        action: StepAction::Create,
        resource: format!("projects/p/global/urlMaps/{id}"),
        depends_on: deps.iter().map(|d| d.to_string()).collect(),
        call: Call {
            api: crate::domain::plan::Api::Compute,
            verb: Verb::Post,
            path: "projects/p/global/urlMaps".into(),
            body: Some(serde_json::json!({ "name": id })),
            scope: Scope::Global,
            needs_fingerprint: false,
        },
    }
}

fn request(deployment: &str, steps: Vec<StepSpec>) -> JobRequest {
    JobRequest {
        deployment: deployment.to_string(),
        kind: JobKind::Apply,
        spec: serde_json::json!({ "name": deployment }),
        plan: serde_json::json!({ "entries": [] }),
        created_by: "alice".into(),
        steps,
    }
}

async fn step_row(db: &Db, job: i64, id: &str) -> StepRecord {
    store::job_steps(db, job)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.step_id == id)
        .unwrap()
}

/// Polls until `check` holds (the runner works on other tasks).
async fn until<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn wait(runner: &Runner, id: i64) -> JobRow {
    tokio::time::timeout(Duration::from_secs(10), runner.wait(id))
        .await
        .expect("job finished in time")
        .unwrap()
}

#[tokio::test]
async fn independent_steps_overlap_and_dependents_wait() {
    let (_dir, db) = crate::db::test_db().await;
    let exec = Arc::new(TestExecutor::with_delay(60));
    let runner = Runner::new(db.clone(), exec.clone(), RunnerOptions { concurrency: 4 });
    let id = runner
        .start(request(
            "shop",
            vec![
                step("a", &[]),
                step("b", &[]),
                step("c", &[]),
                step("d", &["a", "b"]),
                step("e", &["d", "c"]),
            ],
        ))
        .await
        .unwrap();
    let job = wait(&runner, id).await;
    assert_eq!(job.status, "succeeded");
    assert!(job.started_at.is_some() && job.finished_at.is_some() && job.error.is_none());
    assert!(exec.max_running.load(Ordering::SeqCst) >= 2);
    for (later, earlier) in [("d", "a"), ("d", "b"), ("e", "d"), ("e", "c")] {
        assert!(
            exec.span(later).0 >= exec.span(earlier).1,
            "{later} started before {earlier} finished"
        );
    }
    let view = read_job(&db, id).await.unwrap().unwrap();
    assert_eq!(view.steps.len(), 5);
    for s in &view.steps {
        assert_eq!(s.status, "succeeded");
        assert!(s.started_at.is_some() && s.finished_at.is_some());
        assert_eq!(
            s.operation.as_deref(),
            Some(format!("operation-{}", s.request_id).as_str())
        );
        uuid::Uuid::parse_str(&s.request_id).unwrap();
    }
    assert_eq!(view.steps[3].depends_on(), vec!["a", "b"]);
    let log: Vec<&str> = view.log.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(log.first(), Some(&"job started"));
    assert_eq!(log.last(), Some(&"job succeeded"));
    assert!(log.iter().any(|l| l.contains("Bearer [redacted]")));
    assert!(
        !log.iter()
            .any(|l| l.contains("secret-token") || l.contains("s3cr3t"))
    );
    let seqs: Vec<i64> = view.log.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let (_dir, db) = crate::db::test_db().await;
    let exec = Arc::new(TestExecutor::with_delay(30));
    let runner = Runner::new(db, exec.clone(), RunnerOptions { concurrency: 2 });
    let steps = (0..6).map(|i| step(&format!("s{i}"), &[])).collect();
    let id = runner.start(request("shop", steps)).await.unwrap();
    assert_eq!(wait(&runner, id).await.status, "succeeded");
    assert_eq!(exec.max_running.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failed_step_stops_its_dependents_and_resume_reruns_it() {
    let (_dir, db) = crate::db::test_db().await;
    let exec = Arc::new(TestExecutor::with_delay(20));
    exec.fail.lock().unwrap().insert("b".into());
    // `d` is in flight when `b` fails: it may finish, but `e` after it must not start.
    let gate = exec.gate("d");
    let runner = Runner::new(db.clone(), exec.clone(), RunnerOptions::default());
    let id = runner
        .start(request(
            "shop",
            vec![
                step("a", &[]),
                step("b", &[]),
                step("c", &["b"]),
                step("d", &[]),
                step("e", &["d"]),
            ],
        ))
        .await
        .unwrap();
    until("b to fail", || async {
        step_row(&db, id, "b").await.status == "failed"
    })
    .await;
    gate.add_permits(1);
    let job = wait(&runner, id).await;
    assert_eq!(job.status, "failed");
    assert!(job.error.as_deref().unwrap().contains("step b failed"));
    let b = step_row(&db, id, "b").await;
    assert!(b.error.as_deref().unwrap().contains("is invalid"));
    assert_eq!(step_row(&db, id, "a").await.status, "succeeded");
    assert_eq!(step_row(&db, id, "d").await.status, "succeeded");
    assert_eq!(step_row(&db, id, "c").await.status, "skipped");
    assert_eq!(step_row(&db, id, "e").await.status, "skipped");
    assert!(matches!(
        runner.cancel(id).await,
        Err(JobError::NotCancellable { .. })
    ));

    exec.fail.lock().unwrap().clear();
    runner.resume(id).await.unwrap();
    let job = wait(&runner, id).await;
    assert_eq!(job.status, "succeeded");
    assert!(job.error.is_none());
    for s in ["a", "b", "c", "d", "e"] {
        assert_eq!(exec.completions(s), 1, "{s}");
    }
    // The failed step was sent again under the requestId it had from the start.
    assert_eq!(step_row(&db, id, "b").await.request_id, b.request_id);
    assert!(exec.applied.lock().unwrap().values().all(|n| *n == 1));
    assert!(matches!(
        runner.resume(id).await,
        Err(JobError::NotResumable { .. })
    ));
}

#[tokio::test]
async fn cancel_lets_the_step_in_flight_finish_and_starts_nothing_new() {
    let (_dir, db) = crate::db::test_db().await;
    let exec = Arc::new(TestExecutor::with_delay(1));
    let gate = exec.gate("a");
    let runner = Runner::new(db.clone(), exec.clone(), RunnerOptions::default());
    let id = runner
        .start(request("shop", vec![step("a", &[]), step("b", &["a"])]))
        .await
        .unwrap();
    until("a to run", || async {
        step_row(&db, id, "a").await.status == "running"
    })
    .await;
    runner.cancel(id).await.unwrap();
    gate.add_permits(1);
    let job = wait(&runner, id).await;
    assert_eq!(job.status, "cancelled");
    assert!(job.cancel_requested);
    assert_eq!(step_row(&db, id, "a").await.status, "succeeded");
    assert_eq!(step_row(&db, id, "b").await.status, "skipped");
    assert_eq!(exec.completions("b"), 0);
}

#[tokio::test]
async fn one_job_per_deployment_at_a_time() {
    let (_dir, db) = crate::db::test_db().await;
    let exec = Arc::new(TestExecutor::with_delay(1));
    let gate = exec.gate("a");
    let runner = Runner::new(db.clone(), exec.clone(), RunnerOptions::default());
    let first = runner
        .start(request("shop", vec![step("a", &[])]))
        .await
        .unwrap();
    let mut second = request("shop", vec![step("x", &[])]);
    second.created_by = "bob".into();
    match runner.start(second.clone()).await {
        Err(JobError::Db(JobsDbError::DeploymentBusy {
            job_id, created_by, ..
        })) => {
            assert_eq!(job_id, first);
            assert_eq!(created_by, "alice");
        }
        other => panic!("expected DeploymentBusy, got {other:?}"),
    }
    // Another deployment is not affected.
    let other = runner
        .start(request("blog", vec![step("y", &[])]))
        .await
        .unwrap();
    assert_eq!(wait(&runner, other).await.status, "succeeded");
    gate.add_permits(1);
    assert_eq!(wait(&runner, first).await.status, "succeeded");
    let next = runner.start(second).await.unwrap();
    assert_eq!(wait(&runner, next).await.status, "succeeded");

    let page = store::list_jobs(&db, Some("shop"), None, 1).await.unwrap();
    assert_eq!(page.iter().map(|j| j.id).collect::<Vec<_>>(), vec![next]);
    let last = &page[0];
    let rest = store::list_jobs(&db, Some("shop"), Some((&last.created_at, last.id)), 10)
        .await
        .unwrap();
    assert_eq!(rest.iter().map(|j| j.id).collect::<Vec<_>>(), vec![first]);
    assert_eq!(
        store::list_jobs(&db, None, None, 10).await.unwrap().len(),
        3
    );
}

#[tokio::test]
async fn a_new_runner_recovers_a_job_cut_off_mid_step() {
    let (t, db1) = crate::db::test_db().await;
    let exec = Arc::new(TestExecutor::with_delay(5));
    let gate = exec.gate("b");
    let runner = Runner::new(db1.clone(), exec.clone(), RunnerOptions::default());
    let id = runner
        .start(request(
            "shop",
            vec![step("a", &[]), step("b", &["a"]), step("c", &["b"])],
        ))
        .await
        .unwrap();
    until("b's operation to be recorded", || async {
        step_row(&db1, id, "b").await.operation.is_some()
    })
    .await;
    let before = step_row(&db1, id, "b").await;
    drop(runner);
    db1.close().await;

    // The process is gone: the job and the step are still marked running.
    let db2 = t.reopen().await;
    assert_eq!(
        store::get_job(&db2, id).await.unwrap().unwrap().status,
        "running"
    );
    assert_eq!(step_row(&db2, id, "b").await.status, "running");
    gate.add_permits(1);
    let runner = Runner::new(db2.clone(), exec.clone(), RunnerOptions::default());
    assert_eq!(runner.recover().await.unwrap(), vec![id]);
    assert_eq!(wait(&runner, id).await.status, "succeeded");
    for s in ["a", "b", "c"] {
        assert_eq!(exec.completions(s), 1, "{s} completed more than once");
    }
    assert_eq!(*exec.repolled.lock().unwrap(), vec!["b".to_string()]);
    let after = step_row(&db2, id, "b").await;
    assert_eq!(after.request_id, before.request_id);
    assert_eq!(after.operation, before.operation);
    assert!(runner.recover().await.unwrap().is_empty());
}

#[tokio::test]
async fn with_one_slot_the_longest_chain_starts_first() {
    let (_dir, db) = crate::db::test_db().await;
    let exec = Arc::new(TestExecutor::with_delay(1));
    let runner = Runner::new(db.clone(), exec.clone(), RunnerOptions { concurrency: 1 });
    // Plan order puts six short independent steps first and the chain of three last, as a plan
    // puts the certificate and the redirect before the NEGs the proxy waits for.
    let mut steps: Vec<StepSpec> = (0..6).map(|i| step(&format!("s{i}"), &[])).collect();
    steps.push(step("c1", &[]));
    steps.push(step("c2", &["c1"]));
    steps.push(step("c3", &["c2"]));
    let id = runner.start(request("shop", steps)).await.unwrap();
    assert_eq!(wait(&runner, id).await.status, "succeeded");
    let first = exec.span("c1").0;
    for i in 0..6 {
        assert!(
            first < exec.span(&format!("s{i}")).0,
            "s{i} started before c1"
        );
    }
    assert!(
        exec.span("c2").0 < exec.span("s0").0,
        "the chain goes on first"
    );
}

#[tokio::test]
async fn a_step_waiting_out_a_rate_limit_says_so_until_it_finishes() {
    let (_dir, db) = crate::db::test_db().await;
    let exec = Arc::new(TestExecutor::with_delay(1));
    exec.rate_limited.lock().unwrap().insert("a".into());
    let gate = exec.gate("a");
    let runner = Runner::new(db.clone(), exec.clone(), RunnerOptions::default());
    let id = runner
        .start(request("shop", vec![step("a", &[])]))
        .await
        .unwrap();
    until("a's wait to be recorded", || async {
        !store::step_waits(&db, id).await.unwrap().is_empty()
    })
    .await;
    let view = read_job(&db, id).await.unwrap().unwrap();
    let w = &view.waits[0];
    assert_eq!(w.idx, 0);
    assert_eq!(w.note, "rate limited by Google");
    let words = wait_words(w);
    assert!(
        words.starts_with("waiting: rate limited by Google, retry in ")
            && (words.ends_with(" 40 s") || words.ends_with(" 39 s")),
        "{words}"
    );
    assert!(
        view.log.iter().any(|l| l.level == "warn"
            && l.step.as_deref() == Some("a")
            && l.message
                .starts_with("waiting: rate limited by Google, retry in 40 s")),
        "{:?}",
        view.log
    );
    gate.add_permits(1);
    assert_eq!(wait(&runner, id).await.status, "succeeded");
    assert!(store::step_waits(&db, id).await.unwrap().is_empty());
}

#[test]
fn redaction_removes_tokens_and_secret_fields() {
    let line = r#"Authorization: Bearer ya29.a0AfH6 body {"private_key":"-----BEGIN","name":"x"}"#;
    let clean = redact(line);
    assert_eq!(
        clean,
        r#"Authorization: Bearer [redacted] body {"private_key":"[redacted]","name":"x"}"#
    );
}

#[test]
fn redaction_keeps_environment_variable_names_but_not_their_values() {
    let body = serde_json::json!({
        "template": { "containers": [{ "image": "img", "env": [
            { "name": "DATABASE_URL", "value": "postgres://app:s3cret@db/app" },
            { "name": "MODE", "value": "prod" }
        ]}]}
    });
    let clean = redact(&format!("PATCH services/x body={body}"));
    assert!(
        clean.contains("DATABASE_URL") && clean.contains("MODE"),
        "{clean}"
    );
    assert!(
        !clean.contains("s3cret") && !clean.contains("prod"),
        "{clean}"
    );
    assert!(clean.contains("\"img\""), "{clean}");
}
