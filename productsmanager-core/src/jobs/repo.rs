//! Queue SQL, one statement set per job table (`tasks`, `import_jobs`, `export_jobs`, `code2asin_jobs`,
//! `media_processing_jobs`: they share the queue columns). Everything is shared between the backends but claiming
//! (`// dialect:`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::JobState;
use super::model::JobRow;
use crate::db::DbPool;
use crate::with_pool;

macro_rules! job_columns {
    () => {
        "id, queue, kind, state, priority, run_at, attempts, max_attempts, last_error, lease_owner, \
         lease_expires_at, payload, progress, created_at, updated_at, started_at, finished_at, requested_by"
    };
}

/// The statements of one job table.
#[derive(Debug)]
pub(super) struct TableSql {
    insert: &'static str,
    by_dedup_key: &'static str,
    by_id: &'static str,
    list: &'static str,
    recent: &'static str,
    page: &'static str,
    claim_postgres: &'static str,
    claim_sqlite: &'static str,
    heartbeat: &'static str,
    progress: &'static str,
    complete: &'static str,
    retry_later: &'static str,
    release: &'static str,
    give_up: &'static str,
    reap: &'static str,
    take_over: &'static str,
    cancel: &'static str,
    pause: &'static str,
    resume: &'static str,
    retry: &'static str,
    stats: &'static str,
}

/// The next due job of a queue: lowest priority number, then oldest `run_at`.
macro_rules! claim_sql {
    ($table:literal, $lock:literal) => {
        concat!(
            "update ",
            $table,
            " set state = 'running', attempts = attempts + 1, lease_owner = $2, \
             lease_expires_at = $3, started_at = coalesce(started_at, $4), updated_at = $4 \
             where state = 'queued' and id = (select id from ",
            $table,
            " where queue = $1 and state = 'queued' \
             and run_at <= $4 order by priority, run_at, id limit 1",
            $lock,
            ") returning ",
            job_columns!()
        )
    };
}

macro_rules! table_sql {
    ($table:literal) => {
        TableSql {
            insert: concat!(
                "insert into ", $table, " (id, queue, kind, state, priority, run_at, max_attempts, dedup_key, payload, \
                 created_at, updated_at, requested_by) values ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9, $9, $10) \
                 on conflict (dedup_key) where dedup_key is not null do nothing returning ",
                job_columns!()
            ),
            by_dedup_key: concat!("select ", job_columns!(), " from ", $table, " where dedup_key = $1"),
            by_id: concat!("select ", job_columns!(), " from ", $table, " where id = $1"),
            list: concat!(
                "select ", job_columns!(), " from ", $table,
                " where queue = $1 and ($2 = '' or state = $2) order by created_at, id limit $3"
            ),
            // Every queue of the table, newest first.
            recent: concat!(
                "select ", job_columns!(), " from ", $table,
                " where ($1 = '' or state = $1) order by created_at desc, id desc limit $2"
            ),
            // Newest first, after the cursor (created_at, id) of the previous page's last job.
            page: concat!(
                "select ", job_columns!(), " from ", $table,
                " where queue = $1 and ($2 = '' or state = $2) and (created_at < $4 or (created_at = $4 and id < $5)) \
                 order by created_at desc, id desc limit $3"
            ),
            // dialect: PostgreSQL skips rows other workers hold; SQLite runs one writer at a time, so the
            // statement is atomic.
            claim_postgres: claim_sql!($table, " for update skip locked"),
            claim_sqlite: claim_sql!($table, ""),
            heartbeat: concat!(
                "update ", $table, " set lease_expires_at = $3, updated_at = $4 \
                 where id = $1 and state = 'running' and lease_owner = $2"
            ),
            progress: concat!(
                "update ", $table, " set progress = $3, updated_at = $4 \
                 where id = $1 and state = 'running' and lease_owner = $2"
            ),
            complete: concat!(
                "update ", $table, " set state = 'succeeded', finished_at = $3, updated_at = $3, lease_owner = null, \
                 lease_expires_at = null where id = $1 and state = 'running' and lease_owner = $2"
            ),
            retry_later: concat!(
                "update ", $table, " set state = 'queued', run_at = $3, last_error = $4, updated_at = $5, \
                 lease_owner = null, lease_expires_at = null where id = $1 and state = 'running' and lease_owner = $2"
            ),
            // Handed back unfinished at shutdown: not a failed attempt, and due at once for another worker.
            release: concat!(
                "update ", $table, " set state = 'queued', run_at = $3, updated_at = $3, \
                 attempts = case when attempts > 0 then attempts - 1 else 0 end, lease_owner = null, \
                 lease_expires_at = null where id = $1 and state = 'running' and lease_owner = $2"
            ),
            give_up: concat!(
                "update ", $table, " set state = $3, last_error = $4, finished_at = $5, updated_at = $5, \
                 lease_owner = null, lease_expires_at = null where id = $1 and state = 'running' and lease_owner = $2"
            ),
            // Jobs whose worker stopped renewing its lease go back to the queue (or are dead when out of attempts).
            reap: concat!(
                "update ", $table, " set state = case when attempts >= max_attempts then 'dead' else 'queued' end, \
                 last_error = 'lease expired: the worker stopped', lease_owner = null, lease_expires_at = null, \
                 updated_at = $1 where state = 'running' and lease_expires_at < $1"
            ),
            // An abandoned job (its lease expired, reaped dead or not yet, or its owner $5 known to be gone) taken by
            // a new owner, as it stands.
            take_over: concat!(
                "update ", $table, " set state = 'running', lease_owner = $2, lease_expires_at = $3, last_error = null, \
                 updated_at = $4 where id = $1 and ((state = 'running' and (lease_expires_at < $4 or lease_owner = $5)) \
                 or (state = 'dead' and last_error = 'lease expired: the worker stopped' and finished_at is null))"
            ),
            cancel: concat!(
                "update ", $table, " set state = 'cancelled', finished_at = $2, updated_at = $2, lease_owner = null, \
                 lease_expires_at = null where id = $1 and state in ('queued', 'paused', 'running')"
            ),
            pause: concat!("update ", $table, " set state = 'paused', updated_at = $2 where id = $1 and state = 'queued'"),
            resume: concat!("update ", $table, " set state = 'queued', updated_at = $2 where id = $1 and state = 'paused'"),
            retry: concat!(
                "update ", $table, " set state = 'queued', attempts = 0, run_at = $2, finished_at = null, \
                 updated_at = $2 where id = $1 and state in ('failed', 'dead', 'cancelled')"
            ),
            stats: concat!("select state, count(*), min(run_at) from ", $table, " where queue = $1 group by state"),
        }
    };
}

pub(super) static TASKS: TableSql = table_sql!("tasks");
pub(super) static IMPORT_JOBS: TableSql = table_sql!("import_jobs");
pub(super) static EXPORT_JOBS: TableSql = table_sql!("export_jobs");
pub(super) static CODE2ASIN_JOBS: TableSql = table_sql!("code2asin_jobs");
pub(super) static MEDIA_PROCESSING_JOBS: TableSql = table_sql!("media_processing_jobs");

pub(super) async fn insert(
    pool: &DbPool,
    sql: &'static TableSql,
    row: &JobRow,
    dedup_key: Option<&str>,
) -> Result<Option<JobRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(sql.insert)
        .bind(row.id)
        .bind(&row.queue)
        .bind(&row.kind)
        .bind(row.priority)
        .bind(row.run_at)
        .bind(row.max_attempts)
        .bind(dedup_key)
        .bind(&row.payload)
        .bind(row.created_at)
        .bind(row.requested_by)
        .fetch_optional(p)
        .await)
}

pub(super) async fn by_dedup_key(
    pool: &DbPool,
    sql: &'static TableSql,
    key: &str,
) -> Result<Option<JobRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(sql.by_dedup_key).bind(key).fetch_optional(p).await)
}

pub(super) async fn by_id(pool: &DbPool, sql: &'static TableSql, id: Uuid) -> Result<Option<JobRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(sql.by_id).bind(id).fetch_optional(p).await)
}

pub(super) async fn list(
    pool: &DbPool,
    sql: &'static TableSql,
    queue: &str,
    state: Option<JobState>,
    limit: i64,
) -> Result<Vec<JobRow>, sqlx::Error> {
    let state = state.map(JobState::as_str).unwrap_or("");
    with_pool!(pool, |p| sqlx::query_as(sql.list).bind(queue).bind(state).bind(limit).fetch_all(p).await)
}

/// The newest jobs of every queue of the table.
pub(super) async fn recent(
    pool: &DbPool,
    sql: &'static TableSql,
    state: Option<JobState>,
    limit: i64,
) -> Result<Vec<JobRow>, sqlx::Error> {
    let state = state.map(JobState::as_str).unwrap_or("");
    with_pool!(pool, |p| sqlx::query_as(sql.recent).bind(state).bind(limit).fetch_all(p).await)
}

/// Newest first, after `(created_at, id)`.
pub(super) async fn page(
    pool: &DbPool,
    sql: &'static TableSql,
    queue: &str,
    state: Option<JobState>,
    limit: i64,
    after: (DateTime<Utc>, Uuid),
) -> Result<Vec<JobRow>, sqlx::Error> {
    let state = state.map(JobState::as_str).unwrap_or("");
    with_pool!(pool, |p| sqlx::query_as(sql.page)
        .bind(queue)
        .bind(state)
        .bind(limit)
        .bind(after.0)
        .bind(after.1)
        .fetch_all(p)
        .await)
}

pub(super) async fn claim(
    pool: &DbPool,
    sql: &'static TableSql,
    queue: &str,
    owner: &str,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<JobRow>, sqlx::Error> {
    with_pool!(
        pool,
        sqlite
            | p
            | sqlx::query_as(sql.claim_sqlite)
                .bind(queue)
                .bind(owner)
                .bind(lease_until)
                .bind(now)
                .fetch_optional(p)
                .await,
        postgres
            | p
            | sqlx::query_as(sql.claim_postgres)
                .bind(queue)
                .bind(owner)
                .bind(lease_until)
                .bind(now)
                .fetch_optional(p)
                .await,
    )
}

pub(super) async fn heartbeat(
    pool: &DbPool,
    sql: &'static TableSql,
    id: Uuid,
    owner: &str,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(sql.heartbeat)
        .bind(id)
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .execute(p)
        .await
        .map(|d| d.rows_affected() == 1))
}

pub(super) async fn progress(
    pool: &DbPool,
    sql: &'static TableSql,
    id: Uuid,
    owner: &str,
    progress: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let progress = sqlx::types::Json(progress);
    with_pool!(pool, |p| sqlx::query(sql.progress)
        .bind(id)
        .bind(owner)
        .bind(progress)
        .bind(now)
        .execute(p)
        .await
        .map(|d| d.rows_affected() == 1))
}

pub(super) async fn complete(
    pool: &DbPool,
    sql: &'static TableSql,
    id: Uuid,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    owner_step(pool, sql.complete, id, owner, now).await
}

pub(super) async fn release(
    pool: &DbPool,
    sql: &'static TableSql,
    id: Uuid,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    owner_step(pool, sql.release, id, owner, now).await
}

/// Runs a `(id, owner, now)` statement that only the job's lease owner may apply; whether it applied.
async fn owner_step(
    pool: &DbPool,
    statement: &'static str,
    id: Uuid,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(statement)
        .bind(id)
        .bind(owner)
        .bind(now)
        .execute(p)
        .await
        .map(|d| d.rows_affected() == 1))
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn retry_later(
    pool: &DbPool,
    sql: &'static TableSql,
    id: Uuid,
    owner: &str,
    run_at: DateTime<Utc>,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(sql.retry_later)
        .bind(id)
        .bind(owner)
        .bind(run_at)
        .bind(error)
        .bind(now)
        .execute(p)
        .await
        .map(|d| d.rows_affected() == 1))
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn give_up(
    pool: &DbPool,
    sql: &'static TableSql,
    id: Uuid,
    owner: &str,
    state: JobState,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(sql.give_up)
        .bind(id)
        .bind(owner)
        .bind(state.as_str())
        .bind(error)
        .bind(now)
        .execute(p)
        .await
        .map(|d| d.rows_affected() == 1))
}

pub(super) async fn take_over(
    pool: &DbPool,
    sql: &'static TableSql,
    id: Uuid,
    owner: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
    gone: Option<&str>,
) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(sql.take_over)
        .bind(id)
        .bind(owner)
        .bind(until)
        .bind(now)
        .bind(gone)
        .execute(p)
        .await
        .map(|d| d.rows_affected() == 1))
}

pub(super) async fn reap(pool: &DbPool, sql: &'static TableSql, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(sql.reap).bind(now).execute(p).await.map(|d| d.rows_affected()))
}

/// Count and earliest `run_at` per state of a queue.
pub(super) async fn stats(
    pool: &DbPool,
    sql: &'static TableSql,
    queue: &str,
) -> Result<Vec<(String, i64, Option<DateTime<Utc>>)>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(sql.stats).bind(queue).fetch_all(p).await)
}

/// A change of state asked for by an operator.
#[derive(Debug, Clone, Copy)]
pub(super) enum Transition {
    /// queued, paused or running → cancelled (a running job's worker learns it at its next heartbeat).
    Cancel,
    /// queued → paused.
    Pause,
    /// paused → queued.
    Resume,
    /// failed, dead or cancelled → queued, with its attempts counted afresh.
    Retry,
}

/// Applies a transition; false when the job was not in a state it applies to.
pub(super) async fn transition(
    pool: &DbPool,
    sql: &'static TableSql,
    id: Uuid,
    transition: Transition,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let statement = match transition {
        Transition::Cancel => sql.cancel,
        Transition::Pause => sql.pause,
        Transition::Resume => sql.resume,
        Transition::Retry => sql.retry,
    };
    with_pool!(pool, |p| sqlx::query(statement).bind(id).bind(now).execute(p).await.map(|d| d.rows_affected() == 1))
}

// Worker registry (`job_workers`, catalog database): who is working which queue, seen when.

const REGISTER_WORKER: &str = "insert into job_workers (worker, queue, concurrency, host, pid, started_at, seen_at) \
     values ($1, $2, $3, $4, $5, $6, $6) on conflict (worker, queue) do update set concurrency = excluded.concurrency, \
     seen_at = excluded.seen_at";

const TOUCH_WORKER: &str = "update job_workers set seen_at = $2 where worker = $1";

const UNREGISTER_WORKER: &str = "delete from job_workers where worker = $1";

const LIVE_WORKERS: &str = "select count(*), coalesce(sum(concurrency), 0) from job_workers \
     where queue = $1 and seen_at >= $2";

/// Forgets workers not seen for a long time (a process killed without unregistering).
const FORGET_WORKERS: &str = "delete from job_workers where seen_at < $1";

pub(super) async fn register_worker(
    pool: &DbPool,
    worker: &str,
    queue: &str,
    concurrency: i32,
    host: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let pid = i64::from(std::process::id());
    with_pool!(pool, |p| sqlx::query(REGISTER_WORKER)
        .bind(worker)
        .bind(queue)
        .bind(concurrency)
        .bind(host)
        .bind(pid)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))
}

pub(super) async fn touch_worker(pool: &DbPool, worker: &str, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(TOUCH_WORKER).bind(worker).bind(now).execute(p).await.map(|_| ()))
}

pub(super) async fn unregister_worker(pool: &DbPool, worker: &str) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(UNREGISTER_WORKER).bind(worker).execute(p).await.map(|_| ()))
}

pub(super) async fn forget_workers(pool: &DbPool, before: DateTime<Utc>) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(FORGET_WORKERS).bind(before).execute(p).await.map(|_| ()))
}

/// Worker processes and worker tasks on `queue` seen since `since`.
pub(super) async fn live_workers(pool: &DbPool, queue: &str, since: DateTime<Utc>) -> Result<(i64, i64), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(LIVE_WORKERS).bind(queue).bind(since).fetch_one(p).await)
}

// Schedules (`schedule_state`, catalog database): the last tick each schedule fired.

const SCHEDULE_LAST_TICK: &str = "select last_tick from schedule_state where schedule = $1";

const SCHEDULE_INIT: &str = "insert into schedule_state (schedule, last_tick, updated_at) values ($1, $2, $3) \
     on conflict (schedule) do nothing";

/// Compare-and-set: only a tick later than the one stored moves it, so of several schedulers one advances it.
const SCHEDULE_ADVANCE: &str = "update schedule_state set last_tick = $2, last_job_id = $3, updated_at = $4 \
     where schedule = $1 and last_tick < $2";

pub(super) async fn schedule_last_tick(pool: &DbPool, schedule: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(SCHEDULE_LAST_TICK).bind(schedule).fetch_optional(p).await)
}

pub(super) async fn schedule_init(
    pool: &DbPool,
    schedule: &str,
    tick: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(SCHEDULE_INIT).bind(schedule).bind(tick).bind(now).execute(p).await.map(|_| ()))
}

pub(super) async fn schedule_advance(
    pool: &DbPool,
    schedule: &str,
    tick: DateTime<Utc>,
    job: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(SCHEDULE_ADVANCE)
        .bind(schedule)
        .bind(tick)
        .bind(job)
        .bind(now)
        .execute(p)
        .await
        .map(|d| d.rows_affected() == 1))
}
