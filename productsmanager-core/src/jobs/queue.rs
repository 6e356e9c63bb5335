//! [`TaskQueue`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::types::Json;
use tokio::sync::Notify;
use uuid::Uuid;

use super::model::JobRow;
use super::repo::{self, Transition};
use super::{Clock, Job, JobFailure, JobState, JobTable, NewJob, RetryPolicy};
use crate::Result;
use crate::catalog::CatalogError;
use crate::db::{DbError, DbPool};

/// How one queue stands.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct QueueStats {
    pub queue: String,
    /// Worker tasks on this queue in processes seen within the last lease (see [`JobQueues`](super::JobQueues)).
    pub workers: u64,
    /// Processes running those workers.
    pub worker_processes: u64,
    pub queued: u64,
    /// Seconds the longest-waiting due job has waited (0 when none is due yet).
    pub oldest_queued_secs: f64,
    pub running: u64,
    pub paused: u64,
    pub failed: u64,
    pub dead: u64,
}

/// What on a queue needs an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueAlert {
    /// Jobs are waiting and no live worker serves the queue (none started, or every one stopped).
    NoWorkers,
    /// Jobs failed every attempt; they stay until retried or deleted.
    DeadJobs,
}

impl QueueStats {
    /// What needs an operator on this queue; empty when all is well.
    pub fn alerts(&self) -> Vec<QueueAlert> {
        let mut alerts = Vec::new();
        if self.queued > 0 && self.workers == 0 {
            alerts.push(QueueAlert::NoWorkers);
        }
        if self.dead > 0 {
            alerts.push(QueueAlert::DeadJobs);
        }
        alerts
    }
}

/// Wake-up signals per queue name, shared by every queue and worker of a process. Enqueueing notifies the
/// queue's signal; on PostgreSQL the `pm_jobs` listener does the same for jobs enqueued by other processes.
#[derive(Debug, Clone, Default)]
pub struct JobWakes {
    signals: Arc<Mutex<HashMap<String, Arc<Notify>>>>,
}

impl JobWakes {
    /// The signal of `queue`.
    pub fn signal(&self, queue: &str) -> Arc<Notify> {
        let mut signals = self.signals.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        signals.entry(queue.to_string()).or_default().clone()
    }

    /// Wakes the idle workers of `queue`.
    pub fn wake(&self, queue: &str) {
        self.signal(queue).notify_waiters();
    }

    /// Wakes every idle worker (after a lost listener connection, when notifications may have been missed).
    pub fn wake_all(&self) {
        let signals = self.signals.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        signals.values().for_each(|signal| signal.notify_waiters());
    }
}

/// One durable queue table: the generic `tasks` table (catalog database) or a domain's job table. Usually reached
/// through [`JobQueues`](super::JobQueues), which routes a queue name or a job id to its table.
///
/// ```no_run
/// # async fn demo(sdk: &productsmanager_core::Sdk) -> productsmanager_core::Result<()> {
/// use std::time::Duration;
/// use productsmanager_core::jobs::NewJob;
///
/// let tasks = sdk.tasks();
/// tasks.enqueue(NewJob { queue: "catalog".into(), kind: "reindex".into(), ..Default::default() }).await?;
/// if let Some(job) = tasks.claim("catalog", "worker-1", Duration::from_secs(30)).await? {
///     // … do the work, calling `heartbeat` within the lease …
///     tasks.complete(job.id, "worker-1").await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct TaskQueue {
    table: JobTable,
    pool: DbPool,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
    /// Wakes this process's idle workers when a job is enqueued (they poll as well).
    wakes: JobWakes,
}

/// A random number in `[0, 1)` for jitter, from the OS generator behind UUID v4 (no extra dependency).
fn random_unit() -> f64 {
    (Uuid::new_v4().as_u128() >> 75) as f64 / (1_u64 << 53) as f64
}

impl TaskQueue {
    /// The `tasks` queue over the catalog database `pool` with this clock and retry schedule.
    pub fn new(pool: DbPool, clock: Arc<dyn Clock>, policy: RetryPolicy) -> Self {
        Self::on_table(JobTable::Tasks, pool, clock, policy)
    }

    /// The queue in `table`, whose database is `pool`.
    pub fn on_table(table: JobTable, pool: DbPool, clock: Arc<dyn Clock>, policy: RetryPolicy) -> Self {
        TaskQueue { table, pool, clock, policy, wakes: JobWakes::default() }
    }

    /// The same queue sharing `wakes` with others (the SDK gives all its queues one set).
    pub fn with_wakes(mut self, wakes: JobWakes) -> Self {
        self.wakes = wakes;
        self
    }

    /// The wake-up signals this queue notifies.
    pub fn wakes(&self) -> &JobWakes {
        &self.wakes
    }

    /// The table of this queue.
    pub fn table(&self) -> JobTable {
        self.table
    }

    /// The pool of the table's database.
    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// The clock the queue stamps jobs with.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    fn db_error(&self, error: sqlx::Error) -> crate::Error {
        DbError::from_sqlx(self.table.database(), error).into()
    }

    /// Inserts `row` unless its dedup key is taken; then the job that holds the key. Domain services build their
    /// own rows (with their domain's columns) and call [`TaskQueue::notify`] instead.
    async fn insert(&self, row: JobRow, dedup_key: Option<&str>) -> Result<Job> {
        let sql = self.table.sql();
        if let Some(stored) = repo::insert(&self.pool, sql, &row, dedup_key).await.map_err(|e| self.db_error(e))? {
            self.notify(&stored.queue);
            return Ok(stored.into_job());
        }
        let key = dedup_key.unwrap_or_default();
        repo::by_dedup_key(&self.pool, sql, key)
            .await
            .map_err(|e| self.db_error(e))?
            .map(JobRow::into_job)
            .ok_or_else(|| CatalogError::not_found("job", key).into())
    }

    /// Wakes this process's idle workers of `queue` (other processes learn it from PostgreSQL's `pm_jobs`).
    pub fn notify(&self, queue: &str) {
        self.wakes.wake(queue);
    }

    /// Adds a job; with a `dedup_key` already used, returns that job instead of adding another.
    pub async fn enqueue(&self, input: NewJob) -> Result<Job> {
        let queue = input.queue.trim();
        let kind = input.kind.trim();
        // Names, not text: they key workers, handlers, metrics and log lines.
        for (field, name) in [("queue", queue), ("kind", kind)] {
            let well_formed = (1..=64).contains(&name.len())
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.".contains(c));
            if !well_formed {
                return Err(CatalogError::invalid(
                    field,
                    format!("{name:?} is not a name: 1 to 64 of a-z, 0-9, `_`, `-`, `.`, starting with a letter"),
                )
                .into());
            }
        }
        if !self.table.takes_generic_jobs() || JobTable::for_queue(queue) != self.table {
            return Err(CatalogError::invalid(
                "queue",
                format!(
                    "jobs of queue {queue:?} are not created here: they belong to the {} table",
                    self.table.table_name()
                ),
            )
            .into());
        }
        let max_attempts = input.max_attempts.unwrap_or(5);
        if max_attempts < 1 {
            return Err(CatalogError::invalid("max_attempts", "must be at least 1").into());
        }
        let now = self.clock.now();
        let row = JobRow {
            id: Uuid::now_v7(),
            queue: queue.to_string(),
            kind: kind.to_string(),
            state: JobState::Queued.as_str().to_string(),
            priority: input.priority,
            run_at: input.run_at.unwrap_or(now),
            attempts: 0,
            max_attempts,
            last_error: None,
            lease_owner: None,
            lease_expires_at: None,
            payload: Json(input.payload.clone()),
            progress: None,
            created_at: now,
            updated_at: now,
            started_at: None,
            finished_at: None,
            requested_by: input.requested_by,
        };
        self.insert(row, input.dedup_key.as_deref()).await
    }

    /// Takes the next due job of `queue` for `owner`, leased for `lease`; `None` when none is due.
    pub async fn claim(&self, queue: &str, owner: &str, lease: Duration) -> Result<Option<Job>> {
        let now = self.clock.now();
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
        let row =
            repo::claim(&self.pool, self.table.sql(), queue, owner, until, now).await.map_err(|e| self.db_error(e))?;
        Ok(row.map(JobRow::into_job))
    }

    /// Extends the lease of a running job; false when the job is no longer this owner's (cancelled, or its lease
    /// expired and it went back to the queue): the worker should stop working on it.
    pub async fn heartbeat(&self, id: Uuid, owner: &str, lease: Duration) -> Result<bool> {
        let now = self.clock.now();
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
        repo::heartbeat(&self.pool, self.table.sql(), id, owner, until, now).await.map_err(|e| self.db_error(e))
    }

    /// Records what a running job has done so far; false when the job is no longer this owner's.
    pub async fn report_progress(&self, id: Uuid, owner: &str, progress: &serde_json::Value) -> Result<bool> {
        repo::progress(&self.pool, self.table.sql(), id, owner, progress, self.clock.now())
            .await
            .map_err(|e| self.db_error(e))
    }

    /// Marks a running job done; false when it was no longer this owner's.
    pub async fn complete(&self, id: Uuid, owner: &str) -> Result<bool> {
        repo::complete(&self.pool, self.table.sql(), id, owner, self.clock.now()).await.map_err(|e| self.db_error(e))
    }

    /// Hands a running job back unfinished (a worker shutting down): queued again at once, the attempt not counted.
    /// False when it was no longer this owner's.
    pub async fn release(&self, id: Uuid, owner: &str) -> Result<bool> {
        repo::release(&self.pool, self.table.sql(), id, owner, self.clock.now()).await.map_err(|e| self.db_error(e))
    }

    /// Records a failed attempt: a retryable failure goes back to the queue after the policy's delay, until the
    /// job has used its attempts (then it is dead); a permanent failure fails the job at once. Returns the state
    /// the job is in now.
    pub async fn fail(&self, job: &Job, owner: &str, failure: JobFailure) -> Result<JobState> {
        let now = self.clock.now();
        let (state, written) = match failure {
            JobFailure::Retryable(error) if job.attempts < job.max_attempts => {
                let delay = self.policy.delay(job.attempts, random_unit());
                let run_at = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(4));
                let written = repo::retry_later(&self.pool, self.table.sql(), job.id, owner, run_at, &error, now)
                    .await
                    .map_err(|e| self.db_error(e))?;
                (JobState::Queued, written)
            }
            JobFailure::Retryable(error) => {
                let written = repo::give_up(&self.pool, self.table.sql(), job.id, owner, JobState::Dead, &error, now)
                    .await
                    .map_err(|e| self.db_error(e))?;
                (JobState::Dead, written)
            }
            JobFailure::Permanent(error) => {
                let written = repo::give_up(&self.pool, self.table.sql(), job.id, owner, JobState::Failed, &error, now)
                    .await
                    .map_err(|e| self.db_error(e))?;
                (JobState::Failed, written)
            }
        };
        if written { Ok(state) } else { Ok(self.get(job.id).await?.state) }
    }

    /// Returns jobs whose lease expired (their worker died) to the queue, or marks them dead when they have no
    /// attempts left; returns how many.
    pub async fn reap_expired(&self) -> Result<u64> {
        repo::reap(&self.pool, self.table.sql(), self.clock.now()).await.map_err(|e| self.db_error(e))
    }

    /// Takes an abandoned job (running with an expired lease, or made dead by [`reap_expired`] for it, or still
    /// leased by `gone`, an owner the caller knows has stopped) as `owner`, running under a lease of `lease`, its
    /// attempts and progress as they stand; false when the job is not abandoned (finished, or taken by someone
    /// else first).
    ///
    /// [`reap_expired`]: Self::reap_expired
    pub async fn take_over(&self, id: Uuid, owner: &str, lease: Duration, gone: Option<&str>) -> Result<bool> {
        let now = self.clock.now();
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
        repo::take_over(&self.pool, self.table.sql(), id, owner, until, now, gone).await.map_err(|e| self.db_error(e))
    }

    /// A job by id.
    pub async fn get(&self, id: Uuid) -> Result<Job> {
        repo::by_id(&self.pool, self.table.sql(), id)
            .await
            .map_err(|e| self.db_error(e))?
            .map(JobRow::into_job)
            .ok_or_else(|| CatalogError::not_found("job", id).into())
    }

    /// Jobs of a queue, oldest first, optionally in one state.
    pub async fn list(&self, queue: &str, state: Option<JobState>, limit: u32) -> Result<Vec<Job>> {
        let rows = repo::list(&self.pool, self.table.sql(), queue, state, i64::from(limit.clamp(1, 1_000)))
            .await
            .map_err(|e| self.db_error(e))?;
        Ok(rows.into_iter().map(JobRow::into_job).collect())
    }

    /// The newest jobs of every queue stored in this table (of one state, or all).
    pub async fn recent(&self, state: Option<JobState>, limit: u32) -> Result<Vec<Job>> {
        let rows = repo::recent(&self.pool, self.table.sql(), state, i64::from(limit.clamp(1, 1_000)))
            .await
            .map_err(|e| self.db_error(e))?;
        Ok(rows.into_iter().map(JobRow::into_job).collect())
    }

    /// A page of the queue's jobs (of one state, or all), newest first; `cursor` is the previous page's
    /// `next_cursor`.
    pub async fn page(
        &self,
        queue: &str,
        state: Option<JobState>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<crate::catalog::Page<Job>> {
        let limit = limit.clamp(1, 1_000);
        let after = super::model::after_cursor(cursor)?;
        let rows = repo::page(&self.pool, self.table.sql(), queue, state, i64::from(limit) + 1, after)
            .await
            .map_err(|e| self.db_error(e))?;
        let jobs = rows.into_iter().map(JobRow::into_job).collect();
        Ok(crate::catalog::Page::from_extra(jobs, limit as usize, |j| super::model::cursor(j.created_at, j.id)))
    }

    /// Cancels a queued, paused or running job.
    pub async fn cancel(&self, id: Uuid) -> Result<()> {
        self.apply(id, Transition::Cancel, "queued, paused or running").await
    }

    /// Holds a queued job back.
    pub async fn pause(&self, id: Uuid) -> Result<()> {
        self.apply(id, Transition::Pause, "queued").await
    }

    /// Lets a paused job run again.
    pub async fn resume(&self, id: Uuid) -> Result<()> {
        self.apply(id, Transition::Resume, "paused").await
    }

    /// Queues a failed, dead or cancelled job again, with its attempts counted afresh.
    pub async fn retry(&self, id: Uuid) -> Result<()> {
        self.apply(id, Transition::Retry, "failed, dead or cancelled").await?;
        let job = self.get(id).await?;
        self.notify(&job.queue);
        Ok(())
    }

    /// How a queue stands: jobs per state and the age of the oldest due job.
    pub async fn stats(&self, queue: &str) -> Result<QueueStats> {
        let now = self.clock.now();
        let mut stats = QueueStats { queue: queue.to_string(), ..QueueStats::default() };
        for (state, count, earliest) in
            repo::stats(&self.pool, self.table.sql(), queue).await.map_err(|e| self.db_error(e))?
        {
            let count = u64::try_from(count).unwrap_or(0);
            match JobState::parse(&state) {
                Some(JobState::Queued) => {
                    stats.queued = count;
                    stats.oldest_queued_secs =
                        earliest.map(|at| (now - at).num_milliseconds().max(0) as f64 / 1000.0).unwrap_or(0.0);
                }
                Some(JobState::Running) => stats.running = count,
                Some(JobState::Dead) => stats.dead = count,
                Some(JobState::Failed) => stats.failed = count,
                Some(JobState::Paused) => stats.paused = count,
                _ => {}
            }
        }
        Ok(stats)
    }

    async fn apply(&self, id: Uuid, transition: Transition, needed: &str) -> Result<()> {
        if repo::transition(&self.pool, self.table.sql(), id, transition, self.clock.now())
            .await
            .map_err(|e| self.db_error(e))?
        {
            return Ok(());
        }
        let job = self.get(id).await?;
        Err(CatalogError::invalid("state", format!("job {id} is {}; this needs it {needed}", job.state)).into())
    }
}
