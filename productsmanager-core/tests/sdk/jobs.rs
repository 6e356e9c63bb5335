//! The durable task queue on both backends, on an injected clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use productsmanager_core::db::{Backend, Database};
use productsmanager_core::jobs::{Clock, JobFailure, JobState, JobTable, NewJob, RetryPolicy, TaskQueue};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, Sdk, both_backends};

#[derive(Debug)]
pub(crate) struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(TestClock(Mutex::new(Utc::now().trunc_subsecs(6))))
    }
    pub(crate) fn advance(&self, seconds: i64) {
        *self.0.lock().unwrap() += chrono::Duration::seconds(seconds);
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

fn queue(sdk: &Sdk, clock: Arc<TestClock>) -> TaskQueue {
    TaskQueue::new(sdk.pool(Database::Catalog).clone(), clock, RetryPolicy::default())
}

fn job(kind: &str) -> NewJob {
    NewJob { queue: "catalog".into(), kind: kind.into(), ..Default::default() }
}

const LEASE: Duration = Duration::from_secs(30);

async fn queue_lifecycle(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "queue_lifecycle").await else { return };
    let sdk = env.sdk().await;
    let clock = TestClock::new();
    let tasks = queue(&sdk, clock.clone());

    // Order: priority, then run_at; nothing before its time.
    let later = tasks
        .enqueue(NewJob { run_at: Some(clock.now() + chrono::Duration::seconds(60)), ..job("later") })
        .await
        .unwrap();
    let low = tasks.enqueue(NewJob { priority: 5, ..job("low") }).await.unwrap();
    let high = tasks.enqueue(NewJob { priority: 1, ..job("high") }).await.unwrap();
    let first = tasks.claim("catalog", "w1", LEASE).await.unwrap().unwrap();
    assert_eq!((first.id, first.state, first.attempts), (high.id, JobState::Running, 1));
    assert_eq!(tasks.claim("catalog", "w1", LEASE).await.unwrap().unwrap().id, low.id);
    assert!(tasks.claim("catalog", "w1", LEASE).await.unwrap().is_none(), "`later` is not due");
    assert!(tasks.claim("other-queue", "w1", LEASE).await.unwrap().is_none());
    clock.advance(61);
    assert_eq!(tasks.claim("catalog", "w1", LEASE).await.unwrap().unwrap().id, later.id);
    assert!(tasks.complete(high.id, "w1").await.unwrap());
    assert!(!tasks.complete(high.id, "w1").await.unwrap(), "completed once only");
    assert!(tasks.complete(low.id, "w1").await.unwrap() && tasks.complete(later.id, "w1").await.unwrap());
    assert_eq!(tasks.get(high.id).await.unwrap().state, JobState::Succeeded);

    // The same dedup key gives back the same job.
    let a = tasks.enqueue(NewJob { dedup_key: Some("tick:12:00".into()), ..job("tick") }).await.unwrap();
    let b = tasks.enqueue(NewJob { dedup_key: Some("tick:12:00".into()), ..job("tick") }).await.unwrap();
    assert_eq!(a.id, b.id);

    // Retryable failures back off 1, 5, 15, 60, 240 minutes (+ up to 10 %), then the job is dead.
    tasks.cancel(a.id).await.unwrap();
    let flaky = tasks.enqueue(job("flaky")).await.unwrap();
    for (attempt, minutes) in [1_i64, 5, 15, 60, 240].into_iter().enumerate() {
        let claimed = tasks.claim("catalog", "w1", LEASE).await.unwrap().unwrap();
        assert_eq!((claimed.id, claimed.attempts), (flaky.id, attempt as i32 + 1));
        let state = tasks.fail(&claimed, "w1", JobFailure::Retryable(format!("boom {attempt}"))).await.unwrap();
        if attempt < 4 {
            assert_eq!(state, JobState::Queued);
            let due = tasks.get(flaky.id).await.unwrap().run_at - clock.now();
            assert!(
                due >= chrono::Duration::minutes(minutes) && due <= chrono::Duration::seconds(minutes * 66),
                "{due}"
            );
            clock.advance(minutes * 60 - 1);
            assert!(tasks.claim("catalog", "w1", LEASE).await.unwrap().is_none(), "not before its delay");
            clock.advance(minutes * 6 + 1);
        } else {
            assert_eq!(state, JobState::Dead);
        }
    }
    let dead = tasks.get(flaky.id).await.unwrap();
    assert_eq!((dead.state, dead.last_error.as_deref()), (JobState::Dead, Some("boom 4")));

    let bad = tasks.enqueue(job("bad_input")).await.unwrap();
    let claimed = tasks.claim("catalog", "w1", LEASE).await.unwrap().unwrap();
    assert_eq!(claimed.id, bad.id);
    assert_eq!(
        tasks.fail(&claimed, "w1", JobFailure::Permanent("no such file".into())).await.unwrap(),
        JobState::Failed
    );

    // A dead worker's lease expires: the job goes back and the old owner can no longer touch it.
    let orphan = tasks.enqueue(job("orphan")).await.unwrap();
    tasks.claim("catalog", "w-dead", LEASE).await.unwrap().unwrap();
    assert!(tasks.heartbeat(orphan.id, "w-dead", LEASE).await.unwrap());
    clock.advance(31);
    assert_eq!(tasks.reap_expired().await.unwrap(), 1);
    assert!(!tasks.heartbeat(orphan.id, "w-dead", LEASE).await.unwrap());
    let again = tasks.claim("catalog", "w2", LEASE).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (orphan.id, 2));
    assert!(!tasks.complete(orphan.id, "w-dead").await.unwrap());
    assert!(tasks.complete(orphan.id, "w2").await.unwrap());

    // Pause, resume, cancel (a running job's worker learns it at its next heartbeat).
    let held = tasks.enqueue(job("held")).await.unwrap();
    tasks.pause(held.id).await.unwrap();
    assert!(tasks.claim("catalog", "w1", LEASE).await.unwrap().is_none());
    assert_eq!(tasks.pause(held.id).await.unwrap_err().kind(), ErrorKind::Invalid);
    tasks.resume(held.id).await.unwrap();
    let running = tasks.claim("catalog", "w1", LEASE).await.unwrap().unwrap();
    tasks.cancel(running.id).await.unwrap();
    assert!(!tasks.heartbeat(running.id, "w1", LEASE).await.unwrap());
    assert_eq!(tasks.get(running.id).await.unwrap().state, JobState::Cancelled);
    assert_eq!(tasks.list("catalog", Some(JobState::Dead), 10).await.unwrap().len(), 1);

    // Queue and kind are names: text with spaces, quotes or capitals is refused, naming the field.
    for (queue, kind, field) in [("catalog", "Re index", "kind"), ("x'; drop table tasks; --", "reindex", "queue")] {
        let input = NewJob { queue: queue.into(), kind: kind.into(), ..Default::default() };
        let refused = sdk.jobs().enqueue(input).await.unwrap_err();
        assert_eq!((refused.kind(), refused.field()), (ErrorKind::Invalid, Some(field)), "{queue} / {kind}");
    }
    sdk.close().await;
}

/// Many jobs, four concurrent workers: every job completes exactly once.
async fn every_job_completes_exactly_once(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "every_job_completes_exactly_once").await else { return };
    let sdk = env.sdk().await;
    let tasks = sdk.tasks();
    const JOBS: usize = 1_000;
    for i in 0..JOBS {
        tasks.enqueue(NewJob { payload: serde_json::json!({ "n": i }), ..job("count") }).await.unwrap();
    }
    let done: Arc<Mutex<HashMap<uuid::Uuid, usize>>> = Arc::default();
    let mut workers = Vec::new();
    for w in 0..4 {
        let (tasks, done) = (tasks.clone(), done.clone());
        workers.push(tokio::spawn(async move {
            let owner = format!("worker-{w}");
            let mut idle = 0;
            while idle < 20 {
                // A busy SQLite writer can refuse a claim; that is a retry, not a failure.
                let Ok(claimed) = tasks.claim("catalog", &owner, LEASE).await else {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                };
                let Some(job) = claimed else {
                    idle += 1;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                };
                idle = 0;
                *done.lock().unwrap().entry(job.id).or_default() += 1;
                loop {
                    match tasks.complete(job.id, &owner).await {
                        Ok(completed) => {
                            assert!(completed, "{owner} lost job {}", job.id);
                            break;
                        }
                        Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                    }
                }
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let runs: Vec<usize> = done.lock().unwrap().values().copied().collect();
    assert_eq!(runs.len(), JOBS);
    assert!(runs.iter().all(|n| *n == 1), "a job ran twice");
    assert_eq!(tasks.list("catalog", Some(JobState::Succeeded), 1_000).await.unwrap().len(), JOBS);
    sdk.close().await;
}

both_backends!(queue_lifecycle, every_job_completes_exactly_once);

/// Waits until `check` holds, up to 20 s.
pub(crate) async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn runner_runs_each_job_once_retries_and_shuts_down_gracefully(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "runner").await else { return };
    let sdk = env.sdk().await;
    let policy = RetryPolicy { delays: vec![Duration::from_millis(10)], jitter: 0.0 };
    let jobs = sdk.jobs_with(Arc::new(productsmanager_core::jobs::SystemClock), policy);
    let tasks = jobs.table(JobTable::Tasks).clone();
    let runs: Arc<Mutex<HashMap<uuid::Uuid, usize>>> = Arc::default();
    let counted = runs.clone();
    let running = productsmanager_core::jobs::JobRunner::new(jobs.clone(), "test")
        .queue("catalog", 4)
        .timing(Duration::from_secs(30), Duration::from_millis(20))
        .handle("count", move |job| {
            let counted = counted.clone();
            async move {
                *counted.lock().unwrap().entry(job.id).or_default() += 1;
                Ok(())
            }
        })
        .handle("flaky", |job| async move {
            if job.attempts < 2 { Err(JobFailure::Retryable("first try fails".into())) } else { Ok(()) }
        })
        .handle("slow", |_job| async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok(())
        })
        .start();

    for _ in 0..100 {
        tasks.enqueue(job("count")).await.unwrap();
    }
    let flaky = tasks.enqueue(job("flaky")).await.unwrap();
    let unknown = tasks.enqueue(job("no-such-kind")).await.unwrap();
    eventually("100 jobs done", async || {
        tasks.list("catalog", Some(JobState::Succeeded), 1_000).await.unwrap().len() >= 101
    })
    .await;
    let counts: Vec<usize> = runs.lock().unwrap().values().copied().collect();
    assert_eq!(counts.len(), 100);
    assert!(counts.iter().all(|n| *n == 1), "a job ran twice");
    let flaky = tasks.get(flaky.id).await.unwrap();
    assert_eq!((flaky.state, flaky.attempts), (JobState::Succeeded, 2));
    let unknown = tasks.get(unknown.id).await.unwrap();
    assert_eq!(unknown.state, JobState::Failed);
    assert!(unknown.last_error.unwrap().contains("no handler"));

    // Shutdown lets the running job finish.
    let slow = tasks.enqueue(job("slow")).await.unwrap();
    eventually("the slow job to start", async || tasks.get(slow.id).await.unwrap().state == JobState::Running).await;
    running.shutdown(Duration::from_secs(5)).await;
    assert_eq!(tasks.get(slow.id).await.unwrap().state, JobState::Succeeded);
    sdk.close().await;
}

both_backends!(runner_runs_each_job_once_retries_and_shuts_down_gracefully);
