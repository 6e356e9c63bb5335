//! The domain job tables behind `JobQueues`, the worker registry and the wake-up of idle workers across SDKs.

use std::sync::Arc;
use std::time::Duration;

use productsmanager_core::db::{Backend, Database};
use productsmanager_core::jobs::{JobRunner, JobState, JobTable, NewJob, RetryPolicy, SystemClock};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, both_backends, with_pool};

const LEASE: Duration = Duration::from_secs(30);

/// Each queue's jobs live in its domain's table; a job id finds its table; operations follow it there.
async fn queues_route_to_their_domain_tables(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "job_tables_routing").await else { return };
    let sdk = env.sdk().await;
    let jobs = sdk.jobs();
    let export = jobs.enqueue(NewJob { queue: "exports".into(), kind: "export".into(), ..Default::default() }).await;
    let export = export.unwrap();
    let thumbnails =
        jobs.enqueue(NewJob { queue: "media".into(), kind: "thumbnails".into(), ..Default::default() }).await.unwrap();
    let reindex =
        jobs.enqueue(NewJob { queue: "catalog".into(), kind: "reindex".into(), ..Default::default() }).await.unwrap();

    // Rows are where the queue says, and nowhere else.
    for (table, id) in [(JobTable::Exports, export.id), (JobTable::Media, thumbnails.id), (JobTable::Tasks, reindex.id)]
    {
        assert_eq!(jobs.table(table).get(id).await.unwrap().id, id);
        for other in JobTable::ALL.into_iter().filter(|t| *t != table) {
            assert_eq!(jobs.table(other).get(id).await.unwrap_err().kind(), ErrorKind::NotFound, "{other:?}");
        }
    }
    assert_eq!(jobs.get(thumbnails.id).await.unwrap().queue, "media");
    assert_eq!(jobs.get(uuid::Uuid::now_v7()).await.unwrap_err().kind(), ErrorKind::NotFound);

    // Operations by id reach the right table.
    assert_eq!(jobs.pause(export.id).await.unwrap().state, JobState::Paused);
    assert!(jobs.for_queue("exports").claim("exports", "w", LEASE).await.unwrap().is_none());
    assert_eq!(jobs.resume(export.id).await.unwrap().state, JobState::Queued);
    let claimed = jobs.for_queue("exports").claim("exports", "w", LEASE).await.unwrap().unwrap();
    assert_eq!(claimed.id, export.id);
    assert!(
        jobs.table(JobTable::Exports).report_progress(export.id, "w", &serde_json::json!({"items": 7})).await.unwrap()
    );
    assert_eq!(jobs.get(export.id).await.unwrap().progress, Some(serde_json::json!({"items": 7})));
    assert_eq!(jobs.cancel(export.id).await.unwrap().state, JobState::Cancelled);
    assert_eq!(jobs.retry(export.id).await.unwrap().state, JobState::Queued);
    assert_eq!(jobs.list("exports", Some(JobState::Queued), 10).await.unwrap().len(), 1);
    assert_eq!(jobs.stats("media").await.unwrap().queued, 1);

    // Import jobs need their domain's columns: no bare job goes there, and the message says where it belongs.
    let refused = jobs.enqueue(NewJob { queue: "imports".into(), kind: "import".into(), ..Default::default() }).await;
    let refused = refused.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Invalid);
    assert!(refused.to_string().contains("import_jobs"), "{refused}");

    // An import job row written by its domain is claimed from `import_jobs` like any other.
    let import_id = uuid::Uuid::now_v7();
    let supplier_id = uuid::Uuid::now_v7();
    with_pool!(sdk.pool(Database::Imports), |p| sqlx::query(
        "insert into import_jobs (id, supplier_id, run_at) values ($1, $2, $3)"
    )
    .bind(import_id)
    .bind(supplier_id)
    .bind(chrono::Utc::now() - chrono::Duration::seconds(1))
    .execute(p)
    .await
    .map(|_| ())
    .unwrap());
    let import = jobs.for_queue("imports").claim("imports", "w", LEASE).await.unwrap().unwrap();
    assert_eq!((import.id, import.kind.as_str(), import.attempts), (import_id, "import", 1));
    assert!(jobs.for_queue("imports").complete(import_id, "w").await.unwrap());
    assert_eq!(jobs.get(import_id).await.unwrap().state, JobState::Succeeded);
    sdk.close().await;
}

/// A running `JobRunner` is seen in the worker registry (and in the queue's stats) until it shuts down.
async fn worker_registry_shows_live_workers(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "job_worker_registry").await else { return };
    let sdk = env.sdk().await;
    let jobs = sdk.jobs();
    assert_eq!(jobs.stats("catalog").await.unwrap().workers, 0);
    let running = JobRunner::new(jobs.clone(), "registry-test").queue("catalog", 3).queue("media", 1).start();
    // Each queue's workers register on their own: wait for both.
    super::jobs::eventually("the workers to register", async || {
        jobs.stats("catalog").await.unwrap().workers == 3 && jobs.stats("media").await.unwrap().workers == 1
    })
    .await;
    let catalog = jobs.stats("catalog").await.unwrap();
    assert_eq!((catalog.workers, catalog.worker_processes), (3, 1));
    assert_eq!(jobs.stats("media").await.unwrap().workers, 1);
    assert_eq!(jobs.stats("exports").await.unwrap().workers, 0);
    running.shutdown(Duration::from_secs(5)).await;
    assert_eq!(jobs.stats("catalog").await.unwrap().workers, 0, "unregistered at shutdown");
    sdk.close().await;
}

/// Idle workers polling only every 60 s start a new job at once: on PostgreSQL even when it is enqueued by
/// another SDK (another process, as far as the workers can tell), through `LISTEN pm_jobs`; on SQLite, where
/// there is no such channel, when it is enqueued in their own process.
async fn idle_workers_wake_on_enqueue(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "job_wake").await else { return };
    let workers_sdk = env.sdk().await;
    let enqueuer = match backend {
        Backend::Postgres => env.sdk().await,
        Backend::Sqlite => workers_sdk.clone(),
    };
    let (started_tx, mut started_rx) = tokio::sync::mpsc::unbounded_channel();
    let jobs = workers_sdk.jobs_with(Arc::new(SystemClock), RetryPolicy::default());
    let running = JobRunner::new(jobs, "wake-test")
        .queue("exports", 1)
        .timing(LEASE, Duration::from_secs(60))
        .handle("export", move |job| {
            let started_tx = started_tx.clone();
            async move {
                let _ = started_tx.send(job.id);
                Ok(())
            }
        })
        .start();
    // Past the first (immediate) claim, into the wait.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..3 {
        let job = enqueuer
            .jobs()
            .enqueue(NewJob { queue: "exports".into(), kind: "export".into(), ..Default::default() })
            .await
            .unwrap();
        let started = tokio::time::timeout(Duration::from_secs(10), started_rx.recv()).await;
        assert_eq!(started.expect("the idle worker was not woken").unwrap(), job.id);
    }
    running.shutdown(Duration::from_secs(5)).await;
    enqueuer.close().await;
    workers_sdk.close().await;
}

both_backends!(queues_route_to_their_domain_tables, worker_registry_shows_live_workers, idle_workers_wake_on_enqueue);

/// Two schedulers (each with its own SDK and pools, as two `serve` processes would have) on one clock: a
/// per-minute schedule fires once per minute, and after an outage only the latest missed tick fires.
async fn two_schedulers_fire_each_tick_once(backend: Backend) {
    use productsmanager_core::jobs::Scheduler;
    let Some(env) = TestDatabases::named(backend, "job_schedulers").await else { return };
    let (first_sdk, second_sdk) = (env.sdk().await, env.sdk().await);
    let clock = super::jobs::TestClock::new();
    let template = NewJob { queue: "catalog".into(), kind: "minutely".into(), ..Default::default() };
    let scheduler = |sdk: &productsmanager_core::Sdk| {
        Scheduler::new(sdk.jobs_with(clock.clone(), RetryPolicy::default()))
            .schedule("minutely", "* * * * *", template.clone())
            .unwrap()
    };
    let (first, second) = (scheduler(&first_sdk), scheduler(&second_sdk));
    let bad = Scheduler::new(first_sdk.jobs()).schedule("broken", "61 * * * *", template.clone()).unwrap_err();
    assert!(bad.to_string().contains("broken"), "{bad}");

    // First sight: the schedule starts from now, nothing fires.
    let (a, b) = tokio::join!(first.tick(), second.tick());
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 0);
    let tasks = first_sdk.tasks();
    let jobs_so_far = async || tasks.list("catalog", None, 1_000).await.unwrap().len();
    for minute in 1..=5 {
        clock.advance(60);
        // Both schedulers tick twice within the minute.
        let (a, b) = tokio::join!(first.tick(), second.tick());
        let (c, d) = tokio::join!(first.tick(), second.tick());
        let fired = [a, b, c, d].into_iter().map(|r| r.unwrap().len()).sum::<usize>();
        assert_eq!(fired, 1, "minute {minute}");
        assert_eq!(jobs_so_far().await, minute, "one job per minute");
    }
    // Ten minutes with nothing running: one firing, for the latest tick.
    clock.advance(600);
    let (a, b) = tokio::join!(first.tick(), second.tick());
    let fired: Vec<_> = a.unwrap().into_iter().chain(b.unwrap()).collect();
    assert_eq!(fired.len(), 1);
    assert_eq!(jobs_so_far().await, 6);
    let (a, b) = tokio::join!(first.tick(), second.tick());
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 0, "the missed ticks do not come back one by one");
    assert_eq!(jobs_so_far().await, 6);
    first_sdk.close().await;
    second_sdk.close().await;
}

both_backends!(two_schedulers_fire_each_tick_once);

/// A job still running at the shutdown deadline is stopped and handed back: queued again at once, its attempt not
/// counted, and another worker takes it without waiting for the lease to expire.
async fn shutdown_hands_back_unfinished_jobs(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "job_shutdown_release").await else { return };
    let sdk = env.sdk().await;
    let jobs = sdk.jobs();
    let stubborn = jobs.enqueue(NewJob { queue: "catalog".into(), kind: "stubborn".into(), ..Default::default() });
    let stubborn = stubborn.await.unwrap();
    let running = JobRunner::new(jobs.clone(), "leaving")
        .queue("catalog", 1)
        .handle("stubborn", |_job| async {
            tokio::time::sleep(Duration::from_secs(3_600)).await;
            Ok(())
        })
        .start();
    super::jobs::eventually("the job to start", async || {
        jobs.get(stubborn.id).await.unwrap().state == JobState::Running
    })
    .await;
    running.shutdown(Duration::from_millis(200)).await;
    let handed_back = jobs.get(stubborn.id).await.unwrap();
    assert_eq!((handed_back.state, handed_back.attempts, handed_back.lease_owner), (JobState::Queued, 0, None));
    let next = jobs.for_queue("catalog").claim("catalog", "arriving", LEASE).await.unwrap().unwrap();
    assert_eq!((next.id, next.attempts), (stubborn.id, 1), "taken at once, first attempt");
    sdk.close().await;
}

both_backends!(shutdown_hands_back_unfinished_jobs);
