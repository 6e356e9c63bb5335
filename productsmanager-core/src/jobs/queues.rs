//! [`JobQueues`]: every job table of the SDK behind one handle, routed by queue name or job id.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use uuid::Uuid;

use super::{Clock, Job, JobState, JobTable, JobWakes, NewJob, QueueStats, RetryPolicy, TaskQueue, repo};
use crate::Result;
use crate::catalog::CatalogError;
use crate::db::{Database, DbError, DbPool};

/// How long a worker process stays "live" in the registry after its last sign of life.
pub(super) const WORKER_LIVENESS: Duration = Duration::from_secs(30);

/// The five job tables (`tasks`, `import_jobs`, `export_jobs`, `code2asin_jobs`, `media_processing_jobs`), each in
/// its own database, behind one handle: a queue name picks its table, a job id is looked up in all of them.
///
/// ```no_run
/// # async fn demo(sdk: &productsmanager_core::Sdk) -> productsmanager_core::Result<()> {
/// use productsmanager_core::jobs::NewJob;
///
/// let jobs = sdk.jobs();
/// let job = jobs.enqueue(NewJob { queue: "exports".into(), kind: "export".into(), ..Default::default() }).await?;
/// assert_eq!(jobs.get(job.id).await?.queue, "exports");
/// println!("{:?}", jobs.stats("exports").await?);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct JobQueues {
    /// Indexed like [`JobTable::ALL`].
    tables: Arc<[TaskQueue; 5]>,
}

impl JobQueues {
    /// Queues over the pools `pool_of` gives for each job table's database.
    pub fn new(
        pool_of: impl Fn(Database) -> DbPool,
        clock: Arc<dyn Clock>,
        policy: RetryPolicy,
        wakes: JobWakes,
    ) -> Self {
        let tables = JobTable::ALL.map(|table| {
            TaskQueue::on_table(table, pool_of(table.database()), clock.clone(), policy.clone())
                .with_wakes(wakes.clone())
        });
        JobQueues { tables: Arc::new(tables) }
    }

    /// The queue stored in `table`.
    pub fn table(&self, table: JobTable) -> &TaskQueue {
        let index = JobTable::ALL.iter().position(|t| *t == table).unwrap_or(0);
        &self.tables[index]
    }

    /// The table holding the jobs of `queue`.
    pub fn for_queue(&self, queue: &str) -> &TaskQueue {
        self.table(JobTable::for_queue(queue))
    }

    /// The wake-up signals shared by all tables.
    pub fn wakes(&self) -> &JobWakes {
        self.tables[0].wakes()
    }

    fn clock(&self) -> &Arc<dyn Clock> {
        self.tables[0].clock()
    }

    /// The catalog database, which holds `tasks` and the worker registry.
    fn registry(&self) -> &DbPool {
        self.table(JobTable::Tasks).pool()
    }

    /// Adds a job to its queue's table (see [`TaskQueue::enqueue`]).
    pub async fn enqueue(&self, input: NewJob) -> Result<Job> {
        self.for_queue(input.queue.trim()).enqueue(input).await
    }

    /// The queue table holding job `id`.
    async fn locate(&self, id: Uuid) -> Result<(&TaskQueue, Job)> {
        let found = join_all(self.tables.iter().map(|queue| async move { (queue, queue.get(id).await) })).await;
        let mut first_error = None;
        for (queue, result) in found {
            match result {
                Ok(job) => return Ok((queue, job)),
                Err(e) if e.kind() == crate::ErrorKind::NotFound => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| CatalogError::not_found("job", id).into()))
    }

    /// A job by id, whichever table holds it.
    pub async fn get(&self, id: Uuid) -> Result<Job> {
        Ok(self.locate(id).await?.1)
    }

    /// Jobs of a queue, oldest first, optionally in one state.
    pub async fn list(&self, queue: &str, state: Option<JobState>, limit: u32) -> Result<Vec<Job>> {
        self.for_queue(queue).list(queue, state, limit).await
    }

    /// The newest jobs of every queue and table (of one state, or all), newest first: what `jobs list` shows
    /// when no queue is named.
    pub async fn recent(&self, state: Option<JobState>, limit: u32) -> Result<Vec<Job>> {
        let found = join_all(self.tables.iter().map(|queue| queue.recent(state, limit))).await;
        let mut jobs = Vec::new();
        for table in found {
            jobs.extend(table?);
        }
        jobs.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        jobs.truncate(usize::try_from(limit.clamp(1, 1_000)).unwrap_or(1_000));
        Ok(jobs)
    }

    /// A page of a queue's jobs, newest first ([`TaskQueue::page`]).
    pub async fn page(
        &self,
        queue: &str,
        state: Option<JobState>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<crate::catalog::Page<Job>> {
        self.for_queue(queue).page(queue, state, limit, cursor).await
    }

    /// Cancels a queued, paused or running job.
    pub async fn cancel(&self, id: Uuid) -> Result<Job> {
        let (queue, _) = self.locate(id).await?;
        queue.cancel(id).await?;
        queue.get(id).await
    }

    /// Holds a queued job back.
    pub async fn pause(&self, id: Uuid) -> Result<Job> {
        let (queue, _) = self.locate(id).await?;
        queue.pause(id).await?;
        queue.get(id).await
    }

    /// Lets a paused job run again.
    pub async fn resume(&self, id: Uuid) -> Result<Job> {
        let (queue, job) = self.locate(id).await?;
        queue.resume(id).await?;
        queue.notify(&job.queue);
        queue.get(id).await
    }

    /// Queues a failed, dead or cancelled job again.
    pub async fn retry(&self, id: Uuid) -> Result<Job> {
        let (queue, _) = self.locate(id).await?;
        queue.retry(id).await?;
        queue.get(id).await
    }

    /// Returns jobs whose lease expired to their queue in every table; how many.
    pub async fn reap_expired(&self) -> Result<u64> {
        let mut total = 0;
        for queue in self.tables.iter() {
            total += queue.reap_expired().await?;
        }
        Ok(total)
    }

    /// How a queue stands: jobs per state, the oldest due job's wait, and the live workers serving it.
    pub async fn stats(&self, queue: &str) -> Result<QueueStats> {
        let mut stats = self.for_queue(queue).stats(queue).await?;
        let since = self.clock().now() - chrono::Duration::from_std(WORKER_LIVENESS).unwrap_or_default();
        let (processes, workers) = repo::live_workers(self.registry(), queue, since).await.map_err(registry_error)?;
        stats.worker_processes = u64::try_from(processes).unwrap_or(0);
        stats.workers = u64::try_from(workers).unwrap_or(0);
        Ok(stats)
    }

    /// Records that worker process `worker` serves `queues` (name, concurrency).
    pub(super) async fn register_worker(&self, worker: &str, queues: &[(String, usize)]) -> Result<()> {
        let now = self.clock().now();
        let host = hostname();
        for (queue, concurrency) in queues {
            let concurrency = i32::try_from(*concurrency).unwrap_or(i32::MAX);
            repo::register_worker(self.registry(), worker, queue, concurrency, &host, now)
                .await
                .map_err(registry_error)?;
        }
        // Rows of processes gone for a day are noise in the registry.
        repo::forget_workers(self.registry(), now - chrono::Duration::days(1)).await.map_err(registry_error)
    }

    /// Renews worker process `worker`'s sign of life.
    pub(super) async fn touch_worker(&self, worker: &str) -> Result<()> {
        repo::touch_worker(self.registry(), worker, self.clock().now()).await.map_err(registry_error)
    }

    /// Removes worker process `worker` from the registry (graceful shutdown).
    pub(super) async fn unregister_worker(&self, worker: &str) -> Result<()> {
        repo::unregister_worker(self.registry(), worker).await.map_err(registry_error)
    }

    /// Now, on the queues' clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock().now()
    }
}

fn registry_error(error: sqlx::Error) -> crate::Error {
    DbError::from_sqlx(Database::Catalog, error).into()
}

/// A worker process name unique across machines: host and process id.
pub fn worker_name() -> String {
    format!("{}-{}", hostname(), std::process::id())
}

/// This machine's name, for the worker registry (`HOSTNAME`, else `/etc/hostname`, else "unknown").
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}
