//! Code2ASIN SQL: jobs, their items, results, statistics and logs on the code2asin database, Amazon API
//! configurations on the core database. Written once for both backends.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use crate::db::DbPool;
use crate::with_pool;

macro_rules! job_columns {
    () => {
        "id, state, source, marketplace, provider, amazon_config_id, supplier_id, confidence_threshold, codes_total, \
         codes_processed, codes_matched, codes_review, codes_not_found, codes_restricted, codes_invalid, \
         codes_cached, api_calls, rate_limited, attempts, last_error, requested_by, created_at, started_at, \
         finished_at, payload, checkpoint"
    };
}

macro_rules! result_columns {
    () => {
        "id, job_id, code, gtin14, marketplace, provider, asin, title, brand, sales_rank, image_url, confidence, \
         is_best, review_state, reviewed_by, reviewed_at, product_id, fetched_at, created_at, raw_response_key"
    };
}

macro_rules! config_columns {
    () => {
        "id, name, provider, marketplace, marketplace_id, endpoint, token_endpoint, client_id, partner_tag, \
         credentials_encrypted, rate_limit_per_second, rate_limit_burst, is_active, created_by, created_at, updated_at"
    };
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct JobRow {
    pub id: Uuid,
    pub state: String,
    pub source: String,
    pub marketplace: String,
    pub provider: Option<String>,
    pub amazon_config_id: Option<Uuid>,
    pub supplier_id: Option<Uuid>,
    pub confidence_threshold: f64,
    pub codes_total: Option<i64>,
    pub codes_processed: i64,
    pub codes_matched: i64,
    pub codes_review: i64,
    pub codes_not_found: i64,
    pub codes_restricted: i64,
    pub codes_invalid: i64,
    pub codes_cached: i64,
    pub api_calls: i64,
    pub rate_limited: i64,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub requested_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub payload: Json<serde_json::Value>,
    pub checkpoint: Option<Json<serde_json::Value>>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct ResultRow {
    pub id: Uuid,
    pub job_id: Option<Uuid>,
    pub code: String,
    pub gtin14: String,
    pub marketplace: String,
    pub provider: String,
    pub asin: Option<String>,
    pub title: Option<String>,
    pub brand: Option<String>,
    pub sales_rank: Option<i64>,
    pub image_url: Option<String>,
    pub confidence: Option<f64>,
    pub is_best: bool,
    pub review_state: Option<String>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub product_id: Option<Uuid>,
    pub fetched_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub raw_response_key: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct ItemRow {
    pub position: i64,
    pub code: String,
    pub gtin14: Option<String>,
    pub outcome: String,
    pub cached: bool,
    pub asin: Option<String>,
    pub confidence: Option<f64>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct ConfigRow {
    pub id: Uuid,
    pub name: String,
    pub provider: String,
    pub marketplace: String,
    pub marketplace_id: Option<String>,
    pub endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub client_id: Option<String>,
    pub partner_tag: Option<String>,
    pub credentials_encrypted: Vec<u8>,
    pub rate_limit_per_second: Option<f64>,
    pub rate_limit_burst: Option<i32>,
    pub is_active: bool,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct StatisticsRow {
    pub day: NaiveDate,
    pub marketplace: String,
    pub api_calls: i64,
    pub codes_looked_up: i64,
    pub hits: i64,
    pub misses: i64,
    pub cache_hits: i64,
    pub restricted: i64,
    pub rate_limited: i64,
    pub errors: i64,
    pub errors_by_kind: Json<BTreeMap<String, i64>>,
    pub duration_ms: i64,
}

// ---- configurations (core database) ----

const INSERT_CONFIG: &str = concat!(
    "insert into amazon_api_configs (id, name, provider, marketplace, marketplace_id, endpoint, token_endpoint, \
     client_id, partner_tag, credentials_encrypted, rate_limit_per_second, rate_limit_burst, created_by, created_at, \
     updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) returning ",
    config_columns!()
);
const CONFIG_BY_ID: &str = concat!("select ", config_columns!(), " from amazon_api_configs where id = $1");
const ALL_CONFIGS: &str = concat!("select ", config_columns!(), " from amazon_api_configs order by name");
const ACTIVE_CONFIGS_OF_MARKETPLACE: &str = concat!(
    "select ",
    config_columns!(),
    " from amazon_api_configs where marketplace = $1 and is_active order by case provider when 'sp_api' then 0 \
     else 1 end, created_at"
);
const SET_CONFIG_ACTIVE: &str =
    "update amazon_api_configs set is_active = $2, updated_at = $3 where id = $1 returning id";
const DELETE_CONFIG: &str = "delete from amazon_api_configs where id = $1";

pub(super) struct NewConfigRow<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub provider: &'a str,
    pub marketplace: &'a str,
    pub marketplace_id: &'a str,
    pub endpoint: Option<&'a str>,
    pub token_endpoint: Option<&'a str>,
    pub client_id: &'a str,
    pub partner_tag: Option<&'a str>,
    pub sealed: Vec<u8>,
    pub rate_limit_per_second: Option<f64>,
    pub rate_limit_burst: Option<i32>,
    pub created_by: Option<Uuid>,
    pub now: DateTime<Utc>,
}

pub(super) async fn insert_config(pool: &DbPool, row: NewConfigRow<'_>) -> Result<ConfigRow, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(INSERT_CONFIG)
        .bind(row.id)
        .bind(row.name)
        .bind(row.provider)
        .bind(row.marketplace)
        .bind(row.marketplace_id)
        .bind(row.endpoint)
        .bind(row.token_endpoint)
        .bind(row.client_id)
        .bind(row.partner_tag)
        .bind(row.sealed.clone())
        .bind(row.rate_limit_per_second)
        .bind(row.rate_limit_burst)
        .bind(row.created_by)
        .bind(row.now)
        .fetch_one(p)
        .await)
}

pub(super) async fn config_by_id(pool: &DbPool, id: Uuid) -> Result<Option<ConfigRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(CONFIG_BY_ID).bind(id).fetch_optional(p).await)
}

pub(super) async fn all_configs(pool: &DbPool) -> Result<Vec<ConfigRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ALL_CONFIGS).fetch_all(p).await)
}

pub(super) async fn active_configs(pool: &DbPool, marketplace: &str) -> Result<Vec<ConfigRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ACTIVE_CONFIGS_OF_MARKETPLACE).bind(marketplace).fetch_all(p).await)
}

pub(super) async fn set_config_active(
    pool: &DbPool,
    id: Uuid,
    active: bool,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar::<_, Uuid>(SET_CONFIG_ACTIVE)
        .bind(id)
        .bind(active)
        .bind(now)
        .fetch_optional(p)
        .await
        .map(|r| r.is_some()))
}

pub(super) async fn delete_config(pool: &DbPool, id: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(DELETE_CONFIG).bind(id).execute(p).await.map(|d| d.rows_affected() == 1))
}

// ---- jobs ----

const INSERT_JOB: &str = concat!(
    "insert into code2asin_jobs (id, queue, kind, state, priority, run_at, max_attempts, dedup_key, payload, source, \
     marketplace, provider, amazon_config_id, supplier_id, confidence_threshold, requested_by, created_by, \
     created_at, updated_at, codes_total) values ($1, 'code2asin', 'code2asin', 'queued', 0, $2, 5, $3, $4, $5, $6, \
     $7, $8, $9, $10, $11, $11, $2, $2, $12) on conflict do nothing returning ",
    job_columns!()
);
const JOB_BY_ID: &str = concat!("select ", job_columns!(), " from code2asin_jobs where id = $1");
const JOB_BY_DEDUP_KEY: &str = concat!("select ", job_columns!(), " from code2asin_jobs where dedup_key = $1");
const JOBS_PAGE: &str = concat!(
    "select ",
    job_columns!(),
    " from code2asin_jobs where ($1 = '' or state = $1) and (created_at < $2 or (created_at = $2 and id < $3)) \
     order by created_at desc, id desc limit $4"
);
// A job run in this process (CLI): one queued, failed or dead, or running under a lease that expired (its process
// died); the attempt is counted like a worker's claim.
const TAKE_JOB: &str = concat!(
    "update code2asin_jobs set state = 'running', lease_owner = $2, lease_expires_at = $3, attempts = attempts + 1, \
     started_at = coalesce(started_at, $4), finished_at = null, updated_at = $4 where id = $1 \
     and (state in ('queued', 'failed', 'dead') or (state = 'running' and lease_expires_at < $4)) returning ",
    job_columns!()
);
const SET_CODES: &str = "update code2asin_jobs set payload = $2, codes_total = $3, updated_at = $4 \
     where id = $1 and lease_owner = $5 and state = 'running'";
const PAUSE_JOB: &str = "update code2asin_jobs set state = 'paused', lease_owner = null, lease_expires_at = null, \
     updated_at = $2 where id = $1 and state in ('queued', 'running')";
const FREE_DEDUP_KEY: &str = "update code2asin_jobs set dedup_key = null where id = $1";
const ADVANCE_JOB: &str = "update code2asin_jobs set codes_processed = $3, codes_matched = codes_matched + $4, \
     codes_review = codes_review + $5, codes_not_found = codes_not_found + $6, \
     codes_restricted = codes_restricted + $7, codes_invalid = codes_invalid + $8, codes_cached = codes_cached + $9, \
     api_calls = api_calls + $10, rate_limited = rate_limited + $11, checkpoint = $12, progress = $12, \
     updated_at = $13 where id = $1 and lease_owner = $2 and state = 'running' and codes_processed < $3";

pub(super) struct NewJobRow<'a> {
    pub id: Uuid,
    pub now: DateTime<Utc>,
    pub dedup_key: Option<&'a str>,
    pub payload: &'a serde_json::Value,
    pub source: &'a str,
    pub marketplace: &'a str,
    pub provider: Option<&'a str>,
    pub amazon_config_id: Option<Uuid>,
    pub supplier_id: Option<Uuid>,
    pub confidence_threshold: f64,
    pub requested_by: Option<Uuid>,
    pub codes_total: Option<i64>,
}

/// The new job, or `None` when the dedup key is taken.
pub(super) async fn insert_job(pool: &DbPool, row: NewJobRow<'_>) -> Result<Option<JobRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(INSERT_JOB)
        .bind(row.id)
        .bind(row.now)
        .bind(row.dedup_key)
        .bind(Json(row.payload))
        .bind(row.source)
        .bind(row.marketplace)
        .bind(row.provider)
        .bind(row.amazon_config_id)
        .bind(row.supplier_id)
        .bind(row.confidence_threshold)
        .bind(row.requested_by)
        .bind(row.codes_total)
        .fetch_optional(p)
        .await)
}

pub(super) async fn job(pool: &DbPool, id: Uuid) -> Result<Option<JobRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(JOB_BY_ID).bind(id).fetch_optional(p).await)
}

pub(super) async fn job_by_dedup_key(pool: &DbPool, key: &str) -> Result<Option<JobRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(JOB_BY_DEDUP_KEY).bind(key).fetch_optional(p).await)
}

pub(super) async fn jobs_page(
    pool: &DbPool,
    state: &str,
    after: (DateTime<Utc>, Uuid),
    fetch: i64,
) -> Result<Vec<JobRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(JOBS_PAGE)
        .bind(state)
        .bind(after.0)
        .bind(after.1)
        .bind(fetch)
        .fetch_all(p)
        .await)
}

pub(super) async fn take_job(
    pool: &DbPool,
    id: Uuid,
    owner: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<JobRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(TAKE_JOB).bind(id).bind(owner).bind(until).bind(now).fetch_optional(p).await)
}

pub(super) async fn set_codes(
    pool: &DbPool,
    id: Uuid,
    owner: &str,
    payload: &serde_json::Value,
    total: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(SET_CODES)
        .bind(id)
        .bind(Json(payload))
        .bind(total)
        .bind(now)
        .bind(owner)
        .execute(p)
        .await
        .map(|d| d.rows_affected() == 1))
}

pub(super) async fn pause_job(pool: &DbPool, id: Uuid, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(PAUSE_JOB).bind(id).bind(now).execute(p).await.map(|d| d.rows_affected() == 1))
}

pub(super) async fn free_dedup_key(pool: &DbPool, id: Uuid) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(FREE_DEDUP_KEY).bind(id).execute(p).await.map(|_| ()))
}

/// What one window of a job adds: its items, counters, statistics and log lines, with the new checkpoint.
#[derive(Debug, Default)]
pub(super) struct Window {
    pub items: Vec<ItemRow>,
    pub processed: i64,
    pub matched: i64,
    pub review: i64,
    pub not_found: i64,
    pub restricted: i64,
    pub invalid: i64,
    pub cached: i64,
    pub api_calls: i64,
    pub rate_limited: i64,
    pub looked_up: i64,
    pub errors_by_kind: BTreeMap<String, i64>,
    pub duration_ms: i64,
    /// (level, code, message).
    pub logs: Vec<(&'static str, Option<String>, String)>,
}

/// Commits a window in one transaction; false (and nothing written) when the job is no longer this owner's or the
/// window was already committed.
pub(super) async fn commit_window(
    pool: &DbPool,
    job: Uuid,
    owner: &str,
    marketplace: &str,
    window: &Window,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let checkpoint = serde_json::json!({ "position": window.processed });
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        let advanced = sqlx::query(ADVANCE_JOB)
            .bind(job)
            .bind(owner)
            .bind(window.processed)
            .bind(window.matched)
            .bind(window.review)
            .bind(window.not_found)
            .bind(window.restricted)
            .bind(window.invalid)
            .bind(window.cached)
            .bind(window.api_calls)
            .bind(window.rate_limited)
            .bind(Json(&checkpoint))
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if advanced != 1 {
            tx.rollback().await?;
            return Ok::<_, sqlx::Error>(false);
        }
        if !window.items.is_empty() {
            let mut insert = sqlx::QueryBuilder::new(
                "insert into code2asin_job_items (job_id, position, code, gtin14, outcome, cached, asin, confidence, \
                 reason, created_at) ",
            );
            insert.push_values(&window.items, |mut row, item| {
                row.push_bind(job)
                    .push_bind(item.position)
                    .push_bind(&item.code)
                    .push_bind(&item.gtin14)
                    .push_bind(&item.outcome)
                    .push_bind(item.cached)
                    .push_bind(&item.asin)
                    .push_bind(item.confidence)
                    .push_bind(&item.reason)
                    .push_bind(now);
            });
            insert.push(" on conflict (job_id, position) do nothing");
            insert.build().execute(&mut *tx).await?;
        }
        let errors = window.errors_by_kind.values().sum::<i64>();
        let hits = window.matched + window.review;
        for (job_id, sql) in [(Some(job), UPSERT_JOB_STATISTICS), (None, UPSERT_DAY_STATISTICS)] {
            sqlx::query(sql)
                .bind(Uuid::now_v7())
                .bind(job_id)
                .bind(now.date_naive())
                .bind(marketplace)
                .bind(window.api_calls)
                .bind(window.looked_up)
                .bind(hits)
                .bind(window.not_found)
                .bind(window.cached)
                .bind(window.restricted)
                .bind(window.rate_limited)
                .bind(errors)
                .bind(window.duration_ms)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        if !window.errors_by_kind.is_empty() {
            let merge = |stored: Option<Json<BTreeMap<String, i64>>>| {
                let mut merged = stored.map(|s| s.0).unwrap_or_default();
                for (kind, n) in &window.errors_by_kind {
                    *merged.entry(kind.clone()).or_default() += n;
                }
                Json(merged)
            };
            let stored = sqlx::query_scalar(JOB_ERRORS).bind(job).fetch_optional(&mut *tx).await?;
            sqlx::query(SET_JOB_ERRORS).bind(job).bind(merge(stored)).execute(&mut *tx).await?;
            let stored = sqlx::query_scalar(DAY_ERRORS)
                .bind(now.date_naive())
                .bind(marketplace)
                .fetch_optional(&mut *tx)
                .await?;
            sqlx::query(SET_DAY_ERRORS)
                .bind(now.date_naive())
                .bind(marketplace)
                .bind(merge(stored))
                .execute(&mut *tx)
                .await?;
        }
        for (level, code, message) in &window.logs {
            sqlx::query(INSERT_LOG)
                .bind(Uuid::now_v7())
                .bind(job)
                .bind(*level)
                .bind(code.as_deref())
                .bind(message)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
    .await)
}

// errors_by_kind is a JSON object: merged by the caller (JOB_ERRORS…), the one part the dialects spell apart.
macro_rules! statistics_upsert {
    ($target:literal) => {
        concat!(
            "insert into code2asin_statistics (id, job_id, day, marketplace, api_calls, codes_looked_up, hits, misses, \
             cache_hits, restricted, rate_limited, errors, errors_by_kind, duration_ms, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, '{}', $13, $14, $14) on conflict ",
            $target,
            " do update set api_calls = code2asin_statistics.api_calls + excluded.api_calls, \
             codes_looked_up = code2asin_statistics.codes_looked_up + excluded.codes_looked_up, \
             hits = code2asin_statistics.hits + excluded.hits, misses = code2asin_statistics.misses + excluded.misses, \
             cache_hits = code2asin_statistics.cache_hits + excluded.cache_hits, \
             restricted = code2asin_statistics.restricted + excluded.restricted, \
             rate_limited = code2asin_statistics.rate_limited + excluded.rate_limited, \
             errors = code2asin_statistics.errors + excluded.errors, \
             duration_ms = code2asin_statistics.duration_ms + excluded.duration_ms, updated_at = excluded.updated_at"
        )
    };
}

const UPSERT_JOB_STATISTICS: &str = statistics_upsert!("(job_id) where job_id is not null");
const UPSERT_DAY_STATISTICS: &str = statistics_upsert!("(day, marketplace) where job_id is null");

const INSERT_LOG: &str =
    "insert into code2asin_logs (id, job_id, level, code, message, created_at) values ($1, $2, $3, $4, $5, $6)";

const ITEMS_PAGE: &str = "select position, code, gtin14, outcome, cached, asin, confidence, reason \
     from code2asin_job_items where job_id = $1 and ($2 = '' or outcome = $2) and position > $3 \
     order by position limit $4";

pub(super) async fn items_page(
    pool: &DbPool,
    job: Uuid,
    outcome: &str,
    after: i64,
    fetch: i64,
) -> Result<Vec<ItemRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ITEMS_PAGE).bind(job).bind(outcome).bind(after).bind(fetch).fetch_all(p).await)
}

const JOB_STATISTICS: &str = "select day, marketplace, api_calls, codes_looked_up, hits, misses, cache_hits, \
     restricted, rate_limited, errors, errors_by_kind, duration_ms from code2asin_statistics where job_id = $1";
const DAY_STATISTICS: &str = "select day, marketplace, api_calls, codes_looked_up, hits, misses, cache_hits, \
     restricted, rate_limited, errors, errors_by_kind, duration_ms from code2asin_statistics \
     where job_id is null and day >= $1 order by day, marketplace";

pub(super) async fn job_statistics(pool: &DbPool, job: Uuid) -> Result<Option<StatisticsRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(JOB_STATISTICS).bind(job).fetch_optional(p).await)
}

pub(super) async fn day_statistics(pool: &DbPool, from: NaiveDate) -> Result<Vec<StatisticsRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(DAY_STATISTICS).bind(from).fetch_all(p).await)
}

const JOB_ERRORS: &str = "select errors_by_kind from code2asin_statistics where job_id = $1";
const SET_JOB_ERRORS: &str = "update code2asin_statistics set errors_by_kind = $2 where job_id = $1";
const DAY_ERRORS: &str =
    "select errors_by_kind from code2asin_statistics where job_id is null and day = $1 and marketplace = $2";
const SET_DAY_ERRORS: &str =
    "update code2asin_statistics set errors_by_kind = $3 where job_id is null and day = $1 and marketplace = $2";

const JOB_LOGS: &str = "select level, code, message, created_at from code2asin_logs where job_id = $1 \
     order by created_at, id limit $2";

pub(super) async fn job_logs(
    pool: &DbPool,
    job: Uuid,
    limit: i64,
) -> Result<Vec<super::model::Code2AsinLog>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(JOB_LOGS).bind(job).bind(limit).fetch_all(p).await)
}

pub(super) async fn log(
    pool: &DbPool,
    job: Uuid,
    level: &str,
    message: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(INSERT_LOG)
        .bind(Uuid::now_v7())
        .bind(job)
        .bind(level)
        .bind(None::<String>)
        .bind(message)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))
}

// ---- results ----

/// Results of these GTIN-14s in `marketplace` fetched at or after `since`.
pub(super) async fn fresh_results(
    pool: &DbPool,
    marketplace: &str,
    gtin14s: &[String],
    since: DateTime<Utc>,
) -> Result<Vec<ResultRow>, sqlx::Error> {
    if gtin14s.is_empty() {
        return Ok(Vec::new());
    }
    with_pool!(pool, |p| {
        let mut query = sqlx::QueryBuilder::new(concat!(
            "select ",
            result_columns!(),
            " from code2asin_results where marketplace = "
        ));
        query.push_bind(marketplace).push(" and fetched_at >= ").push_bind(since).push(" and gtin14 in (");
        let mut list = query.separated(", ");
        for gtin in gtin14s {
            list.push_bind(gtin.clone());
        }
        query.push(") order by gtin14, is_best desc, confidence desc");
        query.build_query_as().fetch_all(p).await
    })
}

// A result fetched again keeps the review a person gave it.
const UPSERT_FOUND: &str = concat!(
    "insert into code2asin_results (id, job_id, code, gtin14, marketplace, provider, status, asin, title, brand, \
     sales_rank, image_url, confidence, is_best, review_state, product_id, fetched_at, created_at, updated_at, \
     raw_response_key) values ($1, $2, $3, $4, $5, $6, 'matched', $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, \
     $16, $17) \
     on conflict (gtin14, marketplace, asin) where asin is not null do update set job_id = excluded.job_id, \
     code = excluded.code, provider = excluded.provider, title = excluded.title, brand = excluded.brand, \
     sales_rank = excluded.sales_rank, image_url = excluded.image_url, confidence = excluded.confidence, \
     is_best = excluded.is_best, product_id = excluded.product_id, fetched_at = excluded.fetched_at, \
     raw_response_key = excluded.raw_response_key, updated_at = excluded.updated_at, review_state = case when code2asin_results.review_state in \
     ('accepted', 'rejected') then code2asin_results.review_state else excluded.review_state end returning ",
    result_columns!()
);
const UPSERT_NOT_FOUND: &str = concat!(
    "insert into code2asin_results (id, job_id, code, gtin14, marketplace, provider, status, fetched_at, created_at, \
     updated_at, raw_response_key) values ($1, $2, $3, $4, $5, $6, 'not_found', $7, $7, $7, $8) \
     on conflict (gtin14, marketplace) where asin is null do update set job_id = excluded.job_id, \
     code = excluded.code, provider = excluded.provider, fetched_at = excluded.fetched_at, \
     raw_response_key = excluded.raw_response_key, updated_at = excluded.updated_at returning ",
    result_columns!()
);
const DROP_NOT_FOUND: &str = "delete from code2asin_results where gtin14 = $1 and marketplace = $2 and asin is null";
// Older ASINs of the code that this answer no longer lists stop being the best.
const UNMARK_OLDER: &str =
    "update code2asin_results set is_best = false where gtin14 = $1 and marketplace = $2 and fetched_at < $3";

/// The call the answers come from.
#[derive(Debug, Clone, Copy)]
pub(super) struct Call<'a> {
    pub marketplace: &'a str,
    pub provider: &'a str,
    /// Where the response body was kept in the object store.
    pub raw_key: Option<&'a str>,
}

/// One code's answer to store.
pub(super) struct Answer<'a> {
    pub code: &'a str,
    pub gtin14: &'a str,
    pub product_id: Option<Uuid>,
    /// (item, confidence, is_best, review state) per ASIN; empty: not found.
    pub found: Vec<(&'a super::sp_api::CatalogItem, f64, bool, Option<&'static str>)>,
}

/// Stores the answers of one call in one transaction; the stored rows.
pub(super) async fn store_answers(
    pool: &DbPool,
    job: Option<Uuid>,
    call: &Call<'_>,
    answers: &[Answer<'_>],
    now: DateTime<Utc>,
) -> Result<Vec<ResultRow>, sqlx::Error> {
    let Call { marketplace, provider, raw_key } = *call;
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        let mut stored = Vec::new();
        for answer in answers {
            sqlx::query(UNMARK_OLDER).bind(answer.gtin14).bind(marketplace).bind(now).execute(&mut *tx).await?;
            if answer.found.is_empty() {
                let row: ResultRow = sqlx::query_as(UPSERT_NOT_FOUND)
                    .bind(Uuid::now_v7())
                    .bind(job)
                    .bind(answer.code)
                    .bind(answer.gtin14)
                    .bind(marketplace)
                    .bind(provider)
                    .bind(now)
                    .bind(raw_key)
                    .fetch_one(&mut *tx)
                    .await?;
                stored.push(row);
                continue;
            }
            sqlx::query(DROP_NOT_FOUND).bind(answer.gtin14).bind(marketplace).execute(&mut *tx).await?;
            for (item, confidence, is_best, review) in &answer.found {
                let row: ResultRow = sqlx::query_as(UPSERT_FOUND)
                    .bind(Uuid::now_v7())
                    .bind(job)
                    .bind(answer.code)
                    .bind(answer.gtin14)
                    .bind(marketplace)
                    .bind(provider)
                    .bind(&item.asin)
                    .bind(item.title.as_deref())
                    .bind(item.brand.as_deref())
                    .bind(item.sales_rank.map(i64::from))
                    .bind(item.image_url.as_deref())
                    .bind(*confidence)
                    .bind(*is_best)
                    .bind(*review)
                    .bind(answer.product_id)
                    .bind(now)
                    .bind(raw_key)
                    .fetch_one(&mut *tx)
                    .await?;
                stored.push(row);
            }
        }
        tx.commit().await?;
        Ok(stored)
    }
    .await)
}

const RESULT_BY_ID: &str = concat!("select ", result_columns!(), " from code2asin_results where id = $1");
const RESULTS_PAGE: &str = concat!(
    "select ",
    result_columns!(),
    " from code2asin_results where asin is not null and ($1 = '' or review_state = $1) \
     and ($2 = '' or marketplace = $2) and (created_at < $3 or (created_at = $3 and id < $4)) \
     order by created_at desc, id desc limit $5"
);
const RESULTS_OF_GTIN: &str = concat!(
    "select ",
    result_columns!(),
    " from code2asin_results where gtin14 = $1 and marketplace = $2 order by is_best desc, confidence desc, asin"
);
const SET_REVIEW: &str = concat!(
    "update code2asin_results set review_state = $2, reviewed_by = $3, reviewed_at = $4, updated_at = $4 \
     where id = $1 and asin is not null returning ",
    result_columns!()
);
const SET_AUTO_ACCEPTED: &str =
    "update code2asin_results set review_state = $2, updated_at = $3 where id = $1 and review_state = 'pending'";

pub(super) async fn result(pool: &DbPool, id: Uuid) -> Result<Option<ResultRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(RESULT_BY_ID).bind(id).fetch_optional(p).await)
}

pub(super) async fn results_page(
    pool: &DbPool,
    review: &str,
    marketplace: &str,
    after: (DateTime<Utc>, Uuid),
    fetch: i64,
) -> Result<Vec<ResultRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(RESULTS_PAGE)
        .bind(review)
        .bind(marketplace)
        .bind(after.0)
        .bind(after.1)
        .bind(fetch)
        .fetch_all(p)
        .await)
}

pub(super) async fn results_of_gtin(
    pool: &DbPool,
    gtin14: &str,
    marketplace: &str,
) -> Result<Vec<ResultRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(RESULTS_OF_GTIN).bind(gtin14).bind(marketplace).fetch_all(p).await)
}

pub(super) async fn set_review(
    pool: &DbPool,
    id: Uuid,
    state: &str,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Option<ResultRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(SET_REVIEW).bind(id).bind(state).bind(by).bind(now).fetch_optional(p).await)
}

/// A pending result whose write-back happened after all (a later job, the product created since).
pub(super) async fn promote_pending(
    pool: &DbPool,
    id: Uuid,
    state: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(SET_AUTO_ACCEPTED).bind(id).bind(state).bind(now).execute(p).await.map(|_| ()))
}

// ---- per-supplier settings ----

macro_rules! supplier_columns {
    () => {
        "supplier_id, marketplace, provider, amazon_config_id, is_active, confidence_threshold, updated_at"
    };
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct SupplierRow {
    pub supplier_id: Uuid,
    pub marketplace: String,
    pub provider: Option<String>,
    pub amazon_config_id: Option<Uuid>,
    pub is_active: bool,
    pub confidence_threshold: Option<f64>,
    pub updated_at: DateTime<Utc>,
}

const UPSERT_SUPPLIER: &str = concat!(
    "insert into code2asin_suppliers (id, supplier_id, marketplace, provider, amazon_config_id, is_active, \
     confidence_threshold, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
     on conflict (supplier_id, marketplace) do update set provider = excluded.provider, \
     amazon_config_id = excluded.amazon_config_id, is_active = excluded.is_active, \
     confidence_threshold = excluded.confidence_threshold, updated_at = excluded.updated_at returning ",
    supplier_columns!()
);
const SUPPLIER_SETTINGS: &str =
    concat!("select ", supplier_columns!(), " from code2asin_suppliers where supplier_id = $1 order by marketplace");
const SUPPLIER_MARKETPLACE: &str =
    concat!("select ", supplier_columns!(), " from code2asin_suppliers where supplier_id = $1 and marketplace = $2");
const DELETE_SUPPLIER: &str = "delete from code2asin_suppliers where supplier_id = $1 and marketplace = $2";

pub(super) struct SupplierSettingsRow<'a> {
    pub supplier_id: Uuid,
    pub marketplace: &'a str,
    pub provider: Option<&'a str>,
    pub amazon_config_id: Option<Uuid>,
    pub is_active: bool,
    pub confidence_threshold: Option<f64>,
    pub now: DateTime<Utc>,
}

pub(super) async fn upsert_supplier(pool: &DbPool, row: SupplierSettingsRow<'_>) -> Result<SupplierRow, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(UPSERT_SUPPLIER)
        .bind(Uuid::now_v7())
        .bind(row.supplier_id)
        .bind(row.marketplace)
        .bind(row.provider)
        .bind(row.amazon_config_id)
        .bind(row.is_active)
        .bind(row.confidence_threshold)
        .bind(row.now)
        .fetch_one(p)
        .await)
}

pub(super) async fn supplier_settings(pool: &DbPool, supplier: Uuid) -> Result<Vec<SupplierRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(SUPPLIER_SETTINGS).bind(supplier).fetch_all(p).await)
}

pub(super) async fn supplier_marketplace(
    pool: &DbPool,
    supplier: Uuid,
    marketplace: &str,
) -> Result<Option<SupplierRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(SUPPLIER_MARKETPLACE).bind(supplier).bind(marketplace).fetch_optional(p).await)
}

pub(super) async fn delete_supplier(pool: &DbPool, supplier: Uuid, marketplace: &str) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(DELETE_SUPPLIER)
        .bind(supplier)
        .bind(marketplace)
        .execute(p)
        .await
        .map(|d| d.rows_affected() == 1))
}
