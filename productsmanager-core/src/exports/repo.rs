//! Exports SQL.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::DbPool;
use crate::with_pool;

const REFERENCED_FILES: &str = "select output_object_key from export_jobs where output_object_key is not null";

/// A feed job run in-process: inserted running under `lease_owner`, so no worker claims it meanwhile.
const INSERT_RUNNING_FEED: &str = "insert into export_jobs (id, queue, kind, state, priority, run_at, attempts, \
     max_attempts, payload, mode, format, lease_owner, lease_expires_at, started_at, created_by, requested_by, \
     created_at, updated_at) \
     values ($1, 'exports', 'feed', 'running', 0, $2, 1, 1, $3, 'full', $4, $5, $6, $2, $7, $7, $2, $2)";

const START_FEED: &str = "update export_jobs set format = $2, mode = 'full', items_processed = 0, items_created = 0, \
     items_skipped = 0, updated_at = $3 where id = $1";

const FEED_PROGRESS: &str = "update export_jobs set items_processed = $2, items_created = $3, updated_at = $4 \
     where id = $1";

const FINISH_FEED: &str = "update export_jobs set output_object_key = $2, items_total = $3, items_processed = $3, \
     items_created = $4, items_skipped = $5, updated_at = $6 where id = $1";

macro_rules! export_job_columns {
    () => {
        "id, state, platform_id, mode, format, output_object_key, items_total, items_processed, items_created, \
         items_updated, items_unchanged, items_failed, items_skipped, last_error, created_by, started_at, \
         finished_at, created_at, updated_at"
    };
}

const JOB: &str = concat!("select ", export_job_columns!(), " from export_jobs where id = $1");

const RECENT_JOBS: &str = concat!(
    "select ",
    export_job_columns!(),
    " from export_jobs where created_at < $2 or (created_at = $2 and id < $3) order by created_at desc, id desc limit $1"
);

/// An export job row.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct ExportJobRow {
    pub id: Uuid,
    pub state: String,
    pub platform_id: Option<Uuid>,
    pub mode: String,
    pub format: Option<String>,
    pub output_object_key: Option<String>,
    pub items_total: Option<i64>,
    pub items_processed: i64,
    pub items_created: i64,
    pub items_updated: i64,
    pub items_unchanged: i64,
    pub items_failed: i64,
    pub items_skipped: i64,
    pub last_error: Option<String>,
    pub created_by: Option<Uuid>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A feed job about to run in this process.
pub(super) struct RunningFeed<'a> {
    pub id: Uuid,
    pub payload: &'a serde_json::Value,
    pub format: &'a str,
    pub owner: &'a str,
    pub lease_until: DateTime<Utc>,
    pub requested_by: Option<Uuid>,
    pub now: DateTime<Utc>,
}

/// The object keys export jobs refer to.
pub(super) async fn referenced_files(pool: &DbPool) -> Result<Vec<String>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(REFERENCED_FILES).fetch_all(p).await)
}

pub(super) async fn insert_running_feed(pool: &DbPool, job: &RunningFeed<'_>) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(INSERT_RUNNING_FEED)
        .bind(job.id)
        .bind(job.now)
        .bind(sqlx::types::Json(job.payload))
        .bind(job.format)
        .bind(job.owner)
        .bind(job.lease_until)
        .bind(job.requested_by)
        .execute(p)
        .await
        .map(drop))
}

/// Marks a feed job started (counters back to zero: a retried job starts over).
pub(super) async fn start_feed(pool: &DbPool, id: Uuid, format: &str, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(START_FEED).bind(id).bind(format).bind(at).execute(p).await.map(drop))
}

pub(super) async fn feed_progress(
    pool: &DbPool,
    id: Uuid,
    products: i64,
    items: i64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(FEED_PROGRESS)
        .bind(id)
        .bind(products)
        .bind(items)
        .bind(at)
        .execute(p)
        .await
        .map(drop))
}

pub(super) async fn finish_feed(
    pool: &DbPool,
    id: Uuid,
    key: &str,
    (products, items, skipped): (i64, i64, i64),
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(FINISH_FEED)
        .bind(id)
        .bind(key)
        .bind(products)
        .bind(items)
        .bind(skipped)
        .bind(at)
        .execute(p)
        .await
        .map(drop))
}

pub(super) async fn job(pool: &DbPool, id: Uuid) -> Result<Option<ExportJobRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(JOB).bind(id).fetch_optional(p).await)
}

/// Jobs created before `(at, id)`, newest first.
pub(super) async fn recent_jobs(
    pool: &DbPool,
    limit: i64,
    (at, id): (DateTime<Utc>, Uuid),
) -> Result<Vec<ExportJobRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(RECENT_JOBS).bind(limit).bind(at).bind(id).fetch_all(p).await)
}
