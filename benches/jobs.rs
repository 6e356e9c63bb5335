//! Jobs claimed and completed per second with no-op handlers, through `JobRunner`, with 1 and 4 workers, on
//! SQLite and (with `PM_TEST_DATABASE_URL`) PostgreSQL; beside it the raw rate of the claim statement alone
//! (claim + complete in a loop, no runner). Then the latency from enqueue to the handler starting: with the
//! enqueuer in the same process (in-process wake) and, on PostgreSQL, in another SDK with its own pools, which
//! only `LISTEN pm_jobs` can wake (the workers' poll is set to 10 s, so a poll would show as seconds).
//!
//! ```text
//! PM_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p productsmanager-benches --bench jobs
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use productsmanager_core::db::Backend;
use productsmanager_core::jobs::{JobRunner, JobState, NewJob};
use productsmanager_core::testing::TestDatabases;
use tokio::runtime::Runtime;

const JOBS: usize = 2_000;

fn job() -> NewJob {
    NewJob { queue: "bench".into(), kind: "noop".into(), ..Default::default() }
}

async fn rates(backend: Backend) -> Option<Vec<(String, f64)>> {
    let mut env = TestDatabases::named(backend, "jobs bench").await?;
    // Enough connections for four workers and the reaper.
    env.config_mut().database.catalog.pool_size = 8;
    let sdk = env.sdk().await;
    let tasks = sdk.tasks();
    let mut rows = Vec::new();

    for _ in 0..JOBS {
        tasks.enqueue(job()).await.unwrap();
    }
    let started = Instant::now();
    while let Some(claimed) = tasks.claim("bench", "raw", Duration::from_secs(30)).await.unwrap() {
        tasks.complete(claimed.id, "raw").await.unwrap();
    }
    rows.push(("claim + complete, one loop (raw)".to_string(), JOBS as f64 / started.elapsed().as_secs_f64()));

    for workers in [1, 4] {
        for _ in 0..JOBS {
            tasks.enqueue(job()).await.unwrap();
        }
        let started = Instant::now();
        let running = JobRunner::new(sdk.jobs(), "bench")
            .queue("bench", workers)
            .timing(Duration::from_secs(30), Duration::from_millis(5))
            .handle("noop", |_job| async { Ok(()) })
            .start();
        loop {
            let stats = tasks.stats("bench").await.unwrap();
            if stats.queued == 0 && stats.running == 0 {
                break;
            }
            // Not more often: the check is a query on the same database, competing with the workers.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let rate = JOBS as f64 / started.elapsed().as_secs_f64();
        running.shutdown(Duration::from_secs(5)).await;
        rows.push((format!("JobRunner, {workers} worker(s)"), rate));
    }
    assert_eq!(tasks.list("bench", Some(JobState::Queued), 10).await.unwrap().len(), 0);

    // Enqueue → start latency, one job at a time.
    let (started_tx, mut started_rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let running = JobRunner::new(sdk.jobs(), "latency")
        .queue("latency", 1)
        .timing(Duration::from_secs(30), Duration::from_secs(10))
        .handle("noop", move |_job| {
            let started_tx = started_tx.clone();
            async move {
                let _ = started_tx.send(Instant::now());
                Ok(())
            }
        })
        .start();
    // Let the workers reach their wait (and the listener its LISTEN).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let other_process = env.sdk().await;
    let mut enqueuers = vec![("in-process wake", sdk.clone())];
    if backend == Backend::Postgres {
        enqueuers.push(("other SDK, LISTEN/NOTIFY", other_process.clone()));
    }
    for (label, enqueuer) in enqueuers {
        let mut latencies = Vec::new();
        for _ in 0..LATENCY_SAMPLES {
            let sent = Instant::now();
            enqueuer.tasks().enqueue(NewJob { queue: "latency".into(), ..job() }).await.unwrap();
            let began = tokio::time::timeout(Duration::from_secs(15), started_rx.recv()).await.unwrap().unwrap();
            latencies.push(began.duration_since(sent).as_secs_f64() * 1_000.0);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        latencies.sort_by(f64::total_cmp);
        let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
        rows.push((format!("enqueue→start ms p50, {label}"), p(0.5)));
        rows.push((format!("enqueue→start ms p95, {label}"), p(0.95)));
    }
    running.shutdown(Duration::from_secs(5)).await;
    other_process.close().await;
    sdk.close().await;
    Some(rows)
}

const LATENCY_SAMPLES: usize = 200;

fn main() {
    let runtime = Runtime::new().unwrap();
    println!("{:<9} {:<48} {:>12}", "backend", "no-op jobs", "jobs/s | ms");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        match runtime.block_on(rates(backend)) {
            Some(rows) => {
                for (what, rate) in rows {
                    println!("{:<9} {what:<48} {rate:>12.2}", backend.to_string());
                }
            }
            None => println!("{backend:<9} NOT RUN (set PM_TEST_DATABASE_URL)"),
        }
    }
}
