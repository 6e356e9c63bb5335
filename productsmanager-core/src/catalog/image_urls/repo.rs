//! `product_images` fetch state, written once for both backends.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::PendingImage;
use crate::db::DbPool;
use crate::with_pool;

const PENDING: &str = "select id, product_id, url, fetch_attempts from product_images \
     where fetched_at is null and fetch_attempts < $2 and id > $1 order by id limit $3";

const FETCHED: &str = "update product_images set fetched_at = $3, media_file_id = $2, fetch_error = null, \
     updated_at = $3 where id = $1";

const FAILED: &str = "update product_images set fetch_attempts = fetch_attempts + 1, fetch_error = $2, \
     updated_at = $3 where id = $1";

const COUNT_PENDING: &str = "select count(*) from product_images where fetched_at is null and fetch_attempts < $1";

const SOURCES_OF: &str =
    "select url, source_kind, source_id, job_id, created_at from product_images where product_id in ";

/// An image URL of a product with who gave it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ImageSourceRow {
    pub url: String,
    pub source_kind: Option<String>,
    pub source_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// The image URLs of a product, in its order, with who gave each.
pub(crate) async fn sources_of(pool: &DbPool, product: Uuid) -> Result<Vec<ImageSourceRow>, sqlx::Error> {
    crate::db::rows_by_ids(pool, SOURCES_OF, &[product], "order by position, url").await
}

pub(super) async fn pending(
    pool: &DbPool,
    after: Uuid,
    max_attempts: i32,
    limit: i64,
) -> Result<Vec<PendingImage>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(PENDING).bind(after).bind(max_attempts).bind(limit).fetch_all(p).await)
}

pub(super) async fn fetched(pool: &DbPool, id: Uuid, file: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(FETCHED).bind(id).bind(file).bind(now).execute(p).await.map(|_| ()))
}

pub(super) async fn failed(pool: &DbPool, id: Uuid, error: &str, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(FAILED).bind(id).bind(error).bind(now).execute(p).await.map(|_| ()))
}

pub(super) async fn count_pending(pool: &DbPool, max_attempts: i32) -> Result<i64, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(COUNT_PENDING).bind(max_attempts).fetch_one(p).await)
}
