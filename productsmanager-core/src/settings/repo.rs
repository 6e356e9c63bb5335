//! Settings SQL on the core database, written once for both backends.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use crate::db::DbPool;
use crate::with_pool;

const ALL: &str = "select key, value, updated_by, updated_at from app_settings";

const ONE: &str = "select key, value, updated_by, updated_at from app_settings where key = $1";

const UPSERT: &str = "insert into app_settings (id, key, value, description, updated_by, created_at, updated_at) \
     values ($1, $2, $3, $4, $5, $6, $6) on conflict (key) do update set value = excluded.value, \
     description = excluded.description, updated_by = excluded.updated_by, updated_at = excluded.updated_at";

const DELETE: &str = "delete from app_settings where key = $1";

/// A stored value: key, value, who set it, when.
pub(super) type Stored = (String, Json<serde_json::Value>, Option<Uuid>, DateTime<Utc>);

pub(super) async fn all(pool: &DbPool) -> Result<Vec<Stored>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ALL).fetch_all(p).await)
}

pub(super) async fn one(pool: &DbPool, key: &str) -> Result<Option<Stored>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ONE).bind(key).fetch_optional(p).await)
}

pub(super) async fn upsert(
    pool: &DbPool,
    key: &str,
    value: &serde_json::Value,
    description: &str,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(UPSERT)
        .bind(Uuid::now_v7())
        .bind(key)
        .bind(Json(value))
        .bind(description)
        .bind(by)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))
}

pub(super) async fn delete(pool: &DbPool, key: &str) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(DELETE).bind(key).execute(p).await.map(|_| ()))
}
