//! Jobs claimed and completed per second with no-op handlers, through `JobRunner`, with 1 and 4 workers, on
//! SQLite and (with `PM_TEST_DATABASE_URL`) PostgreSQL; beside it the raw rate of the claim statement alone
//! (claim + complete in a loop, no runner).
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
        let running = JobRunner::new(tasks.clone(), "bench")
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
    sdk.close().await;
    Some(rows)
}

fn main() {
    let runtime = Runtime::new().unwrap();
    println!("{:<9} {:<36} {:>12}", "backend", "no-op jobs", "jobs/s");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        match runtime.block_on(rates(backend)) {
            Some(rows) => {
                for (what, rate) in rows {
                    println!("{:<9} {what:<36} {rate:>12.0}", backend.to_string());
                }
            }
            None => println!("{backend:<9} NOT RUN (set PM_TEST_DATABASE_URL)"),
        }
    }
}
