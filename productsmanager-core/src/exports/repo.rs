//! Exports SQL.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::DbPool;
use crate::with_pool;

const REFERENCED_FILES: &str = "select output_object_key from export_jobs where output_object_key is not null";

/// A job run in-process: inserted running under `lease_owner`, so no worker claims it meanwhile.
const INSERT_RUNNING: &str = "insert into export_jobs (id, queue, kind, state, priority, run_at, attempts, \
     max_attempts, payload, mode, format, platform_id, lease_owner, lease_expires_at, started_at, created_by, \
     requested_by, created_at, updated_at) \
     values ($1, 'exports', $8, 'running', 0, $2, 1, 1, $3, $9, $4, $10, $5, $6, $2, $7, $7, $2, $2)";

const START_FEED: &str = "update export_jobs set format = $2, mode = 'full', items_processed = 0, items_created = 0, \
     items_skipped = 0, updated_at = $3 where id = $1";

// A page's counters are written by a task of their own: one that lands after the job finished (its file stored) or
// after a later page's is dropped, so the final counts stay (a stored feed once read 0 items of 8 this way).
const FEED_PROGRESS: &str = "update export_jobs set items_processed = $2, items_created = $3, updated_at = $4 \
     where id = $1 and output_object_key is null and items_processed <= $2";

const FINISH_FEED: &str = "update export_jobs set output_object_key = $2, items_total = $3, items_processed = $3, \
     items_created = $4, items_skipped = $5, updated_at = $6, progress = $7 where id = $1";

macro_rules! export_job_columns {
    () => {
        "id, state, platform_id, mode, format, output_object_key, items_total, items_processed, items_created, \
         items_updated, items_unchanged, items_failed, items_skipped, last_error, created_by, started_at, \
         finished_at, created_at, updated_at, progress"
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
    /// A platform run's counters, a finished feed's `missing` attributes.
    pub progress: Option<sqlx::types::Json<serde_json::Value>>,
}

/// A job about to run in this process: a feed (`kind` `feed`, a format) or a platform run (`platform`).
pub(super) struct RunningJob<'a> {
    pub id: Uuid,
    pub kind: &'a str,
    pub payload: &'a serde_json::Value,
    pub format: Option<&'a str>,
    pub platform_id: Option<Uuid>,
    pub mode: &'a str,
    pub owner: &'a str,
    pub lease_until: DateTime<Utc>,
    pub requested_by: Option<Uuid>,
    pub now: DateTime<Utc>,
}

/// The object keys export jobs refer to.
pub(super) async fn referenced_files(pool: &DbPool) -> Result<Vec<String>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(REFERENCED_FILES).fetch_all(p).await)
}

pub(super) async fn insert_running(pool: &DbPool, job: &RunningJob<'_>) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(INSERT_RUNNING)
        .bind(job.id)
        .bind(job.now)
        .bind(sqlx::types::Json(job.payload))
        .bind(job.format)
        .bind(job.owner)
        .bind(job.lease_until)
        .bind(job.requested_by)
        .bind(job.kind)
        .bind(job.mode)
        .bind(job.platform_id)
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
    missing: &std::collections::BTreeMap<String, u64>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(FINISH_FEED)
        .bind(id)
        .bind(key)
        .bind(products)
        .bind(items)
        .bind(skipped)
        .bind(at)
        // The last progress (as a feed's progress reads) with what its items lack.
        .bind(sqlx::types::Json(serde_json::json!({ "products": products, "items": items, "missing": missing })))
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

// ---- platforms ----

const INSERT_PLATFORM: &str = "insert into export_platforms (id, name, platform, endpoint, credentials_encrypted, \
     settings, is_active, created_by, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)";

macro_rules! platform_columns {
    () => {
        "id, name, platform, endpoint, credentials_encrypted, settings, is_active, last_success_at, created_by, \
         created_at, updated_at"
    };
}

const PLATFORM: &str = concat!("select ", platform_columns!(), " from export_platforms where id = $1");
const PLATFORM_NAMED: &str = concat!("select ", platform_columns!(), " from export_platforms where name = $1");
const PLATFORMS: &str = concat!("select ", platform_columns!(), " from export_platforms order by name, id");
const DELETE_PLATFORM: &str = "delete from export_platforms where id = $1";
const PLATFORM_SUCCEEDED: &str = "update export_platforms set last_success_at = $2, updated_at = $2 where id = $1";

const START_PLATFORM_RUN: &str = "update export_jobs set platform_id = $2, mode = $3, items_total = null, \
     items_processed = 0, items_created = 0, items_updated = 0, items_unchanged = 0, items_failed = 0, \
     items_skipped = 0, updated_at = $4 where id = $1";

const ADD_COUNTS: &str = "update export_jobs set items_processed = items_processed + $2, \
     items_created = items_created + $3, items_updated = items_updated + $4, items_unchanged = items_unchanged + $5, \
     items_failed = items_failed + $6, items_skipped = items_skipped + $7, updated_at = $8 where id = $1";

/// The counters also go into `progress`: the job's notification reads them there, as for any queue.
const FINISH_PLATFORM_RUN: &str = "update export_jobs set items_total = items_processed, progress = $3, \
     updated_at = $2 where id = $1";

const STATES_OF: &str = "select product_id, parent_product_id, remote_id, content_hash, last_status, \
     failed_attempts, retry_after from export_product_states where platform_id = ";

/// Only a variant's state (a product's own state written in the same batch stays).
const DELETE_VARIANT_STATE: &str = "delete from export_product_states where platform_id = $1 and product_id = $2 \
     and parent_product_id = $3";

const UPSERT_STATE: &str = "insert into export_product_states (id, platform_id, product_id, remote_id, content_hash, \
     last_status, last_error, failed_attempts, retry_after, last_exported_at, last_job_id, parent_product_id, \
     created_at, updated_at) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $10, $10) \
     on conflict (platform_id, product_id) do update set remote_id = excluded.remote_id, \
     parent_product_id = excluded.parent_product_id, \
     content_hash = excluded.content_hash, last_status = excluded.last_status, last_error = excluded.last_error, \
     failed_attempts = excluded.failed_attempts, retry_after = excluded.retry_after, \
     last_exported_at = excluded.last_exported_at, last_job_id = excluded.last_job_id, updated_at = excluded.updated_at";

const UPSERT_ITEM: &str = "insert into export_job_items (id, job_id, product_id, status, remote_id, content_hash, \
     error, attempts, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
     on conflict (job_id, product_id) do update set status = excluded.status, remote_id = excluded.remote_id, \
     content_hash = excluded.content_hash, error = excluded.error, attempts = excluded.attempts, \
     updated_at = excluded.updated_at";

const ITEMS: &str = "select product_id, status, remote_id, error, attempts, updated_at from export_job_items \
     where job_id = $1 and (status = $2 or $2 is null) and product_id > $3 order by product_id limit $4";

#[derive(Debug, sqlx::FromRow)]
pub(super) struct PlatformRow {
    pub id: Uuid,
    pub name: String,
    pub platform: String,
    pub endpoint: Option<String>,
    pub credentials_encrypted: Option<Vec<u8>>,
    pub settings: sqlx::types::Json<serde_json::Value>,
    pub is_active: bool,
    pub last_success_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A product's state on a platform.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct StateRow {
    pub product_id: Uuid,
    /// Set for the state of a variant: its remote id is a variant's, not a product's.
    pub parent_product_id: Option<Uuid>,
    pub remote_id: Option<String>,
    pub content_hash: Option<Vec<u8>>,
    pub last_status: Option<String>,
    pub failed_attempts: i32,
    pub retry_after: Option<DateTime<Utc>>,
}

/// What one product's push did: its state on the platform and its item in the job.
pub(super) struct Pushed {
    pub product_id: Uuid,
    /// `created`, `updated`, `unchanged`, `failed` or `skipped`.
    pub status: &'static str,
    pub remote_id: Option<String>,
    /// The new state's hash: what was sent when it went through, the previous one otherwise.
    pub content_hash: Option<Vec<u8>>,
    pub error: Option<String>,
    pub failed_attempts: i32,
    pub retry_after: Option<DateTime<Utc>>,
    /// Whether the state is written (an unchanged or skipped product keeps its state).
    pub write_state: bool,
}

/// A variant's state after its parent's push: its remote id, or `None` when it was removed there.
pub(super) struct VariantState {
    pub product_id: Uuid,
    pub parent_id: Uuid,
    pub remote_id: Option<String>,
}

/// An item of an export job.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct ItemRow {
    pub product_id: Uuid,
    pub status: String,
    pub remote_id: Option<String>,
    pub error: Option<String>,
    pub attempts: i32,
    pub updated_at: DateTime<Utc>,
}

pub(super) struct NewPlatformRow<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub platform: &'a str,
    pub endpoint: &'a str,
    pub sealed: Vec<u8>,
    pub settings: serde_json::Value,
    pub created_by: Option<Uuid>,
    pub now: DateTime<Utc>,
}

pub(super) async fn insert_platform(pool: &DbPool, row: &NewPlatformRow<'_>) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(INSERT_PLATFORM)
        .bind(row.id)
        .bind(row.name)
        .bind(row.platform)
        .bind(row.endpoint)
        .bind(&row.sealed)
        .bind(sqlx::types::Json(&row.settings))
        .bind(true)
        .bind(row.created_by)
        .bind(row.now)
        .execute(p)
        .await
        .map(drop))
}

pub(super) async fn platform(pool: &DbPool, id: Uuid) -> Result<Option<PlatformRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(PLATFORM).bind(id).fetch_optional(p).await)
}

pub(super) async fn platform_named(pool: &DbPool, name: &str) -> Result<Option<PlatformRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(PLATFORM_NAMED).bind(name).fetch_optional(p).await)
}

pub(super) async fn platforms(pool: &DbPool) -> Result<Vec<PlatformRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(PLATFORMS).fetch_all(p).await)
}

pub(super) async fn delete_platform(pool: &DbPool, id: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(DELETE_PLATFORM).bind(id).execute(p).await.map(|r| r.rows_affected() > 0))
}

pub(super) async fn platform_succeeded(pool: &DbPool, id: Uuid, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(PLATFORM_SUCCEEDED).bind(id).bind(at).execute(p).await.map(drop))
}

pub(super) async fn start_platform_run(
    pool: &DbPool,
    id: Uuid,
    platform: Uuid,
    mode: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(START_PLATFORM_RUN)
        .bind(id)
        .bind(platform)
        .bind(mode)
        .bind(at)
        .execute(p)
        .await
        .map(drop))
}

pub(super) async fn finish_platform_run(
    pool: &DbPool,
    id: Uuid,
    counts: &serde_json::Value,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(FINISH_PLATFORM_RUN)
        .bind(id)
        .bind(at)
        .bind(sqlx::types::Json(counts))
        .execute(p)
        .await
        .map(drop))
}

/// The states on a platform of these products (`by_parent`: of the variants of these parents).
pub(super) async fn states_of(
    pool: &DbPool,
    platform: Uuid,
    ids: &[Uuid],
    by_parent: bool,
) -> Result<Vec<StateRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    with_pool!(pool, |p| {
        let mut query = sqlx::QueryBuilder::new(STATES_OF);
        query.push_bind(platform).push(if by_parent { " and parent_product_id in (" } else { " and product_id in (" });
        let mut list = query.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        query.push(")");
        query.build_query_as().fetch_all(p).await
    })
}

/// Records what a batch of pushes did, in one transaction: product states, job items, job counters.
pub(super) async fn record_pushes(
    pool: &DbPool,
    platform: Uuid,
    job: Uuid,
    pushed: &[Pushed],
    variant_states: &[VariantState],
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let count = |status: &str| pushed.iter().filter(|p| p.status == status).count() as i64;
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        for push in pushed {
            if push.write_state {
                sqlx::query(UPSERT_STATE)
                    .bind(Uuid::now_v7())
                    .bind(platform)
                    .bind(push.product_id)
                    .bind(&push.remote_id)
                    .bind(&push.content_hash)
                    .bind(push.status)
                    .bind(&push.error)
                    .bind(push.failed_attempts)
                    .bind(push.retry_after)
                    .bind(at)
                    .bind(job)
                    .bind(None::<Uuid>)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(UPSERT_ITEM)
                .bind(Uuid::now_v7())
                .bind(job)
                .bind(push.product_id)
                .bind(push.status)
                .bind(&push.remote_id)
                .bind(&push.content_hash)
                .bind(&push.error)
                .bind(push.failed_attempts)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        for variant in variant_states {
            let Some(remote_id) = &variant.remote_id else {
                // Removed from its parent on the platform: nothing is known of it there any more.
                sqlx::query(DELETE_VARIANT_STATE)
                    .bind(platform)
                    .bind(variant.product_id)
                    .bind(variant.parent_id)
                    .execute(&mut *tx)
                    .await?;
                continue;
            };
            sqlx::query(UPSERT_STATE)
                .bind(Uuid::now_v7())
                .bind(platform)
                .bind(variant.product_id)
                .bind(remote_id)
                .bind(None::<Vec<u8>>)
                .bind("updated")
                .bind(None::<String>)
                .bind(0_i32)
                .bind(None::<DateTime<Utc>>)
                .bind(at)
                .bind(job)
                .bind(variant.parent_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(ADD_COUNTS)
            .bind(job)
            .bind(pushed.len() as i64)
            .bind(count("created"))
            .bind(count("updated"))
            .bind(count("unchanged"))
            .bind(count("failed"))
            .bind(count("skipped"))
            .bind(at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
    .await)
}

/// Items of a job after `after` (product id order), of one status or all.
pub(super) async fn items(
    pool: &DbPool,
    job: Uuid,
    status: Option<&str>,
    after: Uuid,
    limit: i64,
) -> Result<Vec<ItemRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ITEMS).bind(job).bind(status).bind(after).bind(limit).fetch_all(p).await)
}
