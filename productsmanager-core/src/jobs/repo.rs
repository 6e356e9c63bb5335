//! `tasks` SQL. Everything is shared between the backends but claiming (`// dialect:`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::JobState;
use super::model::JobRow;
use crate::db::DbPool;
use crate::with_pool;

macro_rules! job_columns {
    () => {
        "id, queue, kind, state, priority, run_at, attempts, max_attempts, last_error, lease_owner, \
         lease_expires_at, payload, created_at, updated_at, started_at, finished_at"
    };
}

const INSERT: &str = concat!(
    "insert into tasks (id, queue, kind, state, priority, run_at, max_attempts, dedup_key, payload, created_at, \
     updated_at) values ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9, $9) \
     on conflict (dedup_key) where dedup_key is not null do nothing returning ",
    job_columns!()
);

const BY_DEDUP_KEY: &str = concat!("select ", job_columns!(), " from tasks where dedup_key = $1");

const BY_ID: &str = concat!("select ", job_columns!(), " from tasks where id = $1");

const LIST: &str = concat!(
    "select ",
    job_columns!(),
    " from tasks where queue = $1 and ($2 = '' or state = $2) order by created_at, id limit $3"
);

/// The next due job of a queue: lowest priority number, then oldest `run_at`.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "update tasks set state = 'running', attempts = attempts + 1, lease_owner = $2, lease_expires_at = $3, \
             started_at = coalesce(started_at, $4), updated_at = $4 \
             where state = 'queued' and id = (select id from tasks where queue = $1 and state = 'queued' \
             and run_at <= $4 order by priority, run_at, id limit 1",
            $lock,
            ") returning ",
            job_columns!()
        )
    };
}
// dialect: PostgreSQL skips rows other workers hold; SQLite runs one writer at a time, so the statement is atomic.
const CLAIM_POSTGRES: &str = claim_sql!(" for update skip locked");
const CLAIM_SQLITE: &str = claim_sql!("");

const HEARTBEAT: &str = "update tasks set lease_expires_at = $3, updated_at = $4 \
     where id = $1 and state = 'running' and lease_owner = $2";

const COMPLETE: &str = "update tasks set state = 'succeeded', finished_at = $3, updated_at = $3, lease_owner = null, \
     lease_expires_at = null where id = $1 and state = 'running' and lease_owner = $2";

const RETRY_LATER: &str = "update tasks set state = 'queued', run_at = $3, last_error = $4, updated_at = $5, \
     lease_owner = null, lease_expires_at = null where id = $1 and state = 'running' and lease_owner = $2";

const GIVE_UP: &str = "update tasks set state = $3, last_error = $4, finished_at = $5, updated_at = $5, \
     lease_owner = null, lease_expires_at = null where id = $1 and state = 'running' and lease_owner = $2";

/// Jobs whose worker stopped renewing its lease go back to the queue (or are dead when out of attempts).
const REAP: &str = "update tasks set state = case when attempts >= max_attempts then 'dead' else 'queued' end, \
     last_error = 'lease expired: the worker stopped', lease_owner = null, lease_expires_at = null, updated_at = $1 \
     where state = 'running' and lease_expires_at < $1";

const CANCEL: &str = "update tasks set state = 'cancelled', finished_at = $2, updated_at = $2, lease_owner = null, \
     lease_expires_at = null where id = $1 and state in ('queued', 'paused', 'running')";

const PAUSE: &str = "update tasks set state = 'paused', updated_at = $2 where id = $1 and state = 'queued'";

const RESUME: &str = "update tasks set state = 'queued', updated_at = $2 where id = $1 and state = 'paused'";

pub(super) async fn insert(
    pool: &DbPool,
    row: &JobRow,
    dedup_key: Option<&str>,
) -> Result<Option<JobRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(INSERT)
        .bind(row.id)
        .bind(&row.queue)
        .bind(&row.kind)
        .bind(row.priority)
        .bind(row.run_at)
        .bind(row.max_attempts)
        .bind(dedup_key)
        .bind(&row.payload)
        .bind(row.created_at)
        .fetch_optional(p)
        .await)
}

pub(super) async fn by_dedup_key(pool: &DbPool, key: &str) -> Result<Option<JobRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(BY_DEDUP_KEY).bind(key).fetch_optional(p).await)
}

pub(super) async fn by_id(pool: &DbPool, id: Uuid) -> Result<Option<JobRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(BY_ID).bind(id).fetch_optional(p).await)
}

pub(super) async fn list(
    pool: &DbPool,
    queue: &str,
    state: Option<JobState>,
    limit: i64,
) -> Result<Vec<JobRow>, sqlx::Error> {
    let state = state.map(JobState::as_str).unwrap_or("");
    with_pool!(pool, |p| sqlx::query_as(LIST).bind(queue).bind(state).bind(limit).fetch_all(p).await)
}

pub(super) async fn claim(
    pool: &DbPool,
    queue: &str,
    owner: &str,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<JobRow>, sqlx::Error> {
    with_pool!(
        pool,
        sqlite
            | p
            | sqlx::query_as(CLAIM_SQLITE).bind(queue).bind(owner).bind(lease_until).bind(now).fetch_optional(p).await,
        postgres
            | p
            | sqlx::query_as(CLAIM_POSTGRES)
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
    id: Uuid,
    owner: &str,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(HEARTBEAT)
        .bind(id)
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .execute(p)
        .await
        .map(|d| d.rows_affected() == 1))
}

pub(super) async fn complete(pool: &DbPool, id: Uuid, owner: &str, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(COMPLETE)
        .bind(id)
        .bind(owner)
        .bind(now)
        .execute(p)
        .await
        .map(|d| d.rows_affected() == 1))
}

pub(super) async fn retry_later(
    pool: &DbPool,
    id: Uuid,
    owner: &str,
    run_at: DateTime<Utc>,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(RETRY_LATER)
        .bind(id)
        .bind(owner)
        .bind(run_at)
        .bind(error)
        .bind(now)
        .execute(p)
        .await
        .map(|d| d.rows_affected() == 1))
}

pub(super) async fn give_up(
    pool: &DbPool,
    id: Uuid,
    owner: &str,
    state: JobState,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(GIVE_UP)
        .bind(id)
        .bind(owner)
        .bind(state.as_str())
        .bind(error)
        .bind(now)
        .execute(p)
        .await
        .map(|d| d.rows_affected() == 1))
}

pub(super) async fn reap(pool: &DbPool, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(REAP).bind(now).execute(p).await.map(|d| d.rows_affected()))
}

const RETRY: &str = "update tasks set state = 'queued', attempts = 0, run_at = $2, finished_at = null, updated_at = $2 \
     where id = $1 and state in ('failed', 'dead', 'cancelled')";

const STATS: &str = "select state, count(*), min(run_at) from tasks where queue = $1 group by state";

/// Count and earliest `run_at` per state of a queue.
pub(super) async fn stats(
    pool: &DbPool,
    queue: &str,
) -> Result<Vec<(String, i64, Option<DateTime<Utc>>)>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(STATS).bind(queue).fetch_all(p).await)
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
    id: Uuid,
    transition: Transition,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let sql = match transition {
        Transition::Cancel => CANCEL,
        Transition::Pause => PAUSE,
        Transition::Resume => RESUME,
        Transition::Retry => RETRY,
    };
    with_pool!(pool, |p| sqlx::query(sql).bind(id).bind(now).execute(p).await.map(|d| d.rows_affected() == 1))
}
