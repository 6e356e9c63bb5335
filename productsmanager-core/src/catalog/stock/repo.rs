//! Stock SQL, written once for both backends.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StockLevel;
use crate::db::{DbPool, rows_by_ids};
use crate::with_pool;

const UPSERT: &str = "insert into product_stocks (id, product_id, location, quantity, reserved, created_at, \
     updated_at) values ($1, $2, $3, $4, $5, $6, $6) on conflict (product_id, location) do update set \
     quantity = excluded.quantity, reserved = excluded.reserved, updated_at = excluded.updated_at \
     returning product_id, location, quantity, reserved, updated_at";

const FOR_PRODUCTS: &str = "select product_id, location, quantity, reserved, updated_at from product_stocks \
     where product_id in ";

pub(super) async fn upsert(pool: &DbPool, level: &StockLevel, at: DateTime<Utc>) -> Result<StockLevel, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(UPSERT)
        .bind(Uuid::now_v7())
        .bind(level.product_id)
        .bind(&level.location)
        .bind(level.quantity)
        .bind(level.reserved)
        .bind(at)
        .fetch_one(p)
        .await)
}

/// Every location some product has stock at besides `default`.
pub(crate) async fn other_locations(pool: &DbPool) -> Result<Vec<String>, sqlx::Error> {
    const SQL: &str = "select distinct location from product_stocks where location <> 'default' order by location";
    crate::with_pool!(pool, |p| sqlx::query_scalar(SQL).fetch_all(p).await)
}

/// Every level of these products, in one query.
pub(crate) async fn for_products(pool: &DbPool, ids: &[Uuid]) -> Result<Vec<StockLevel>, sqlx::Error> {
    rows_by_ids(pool, FOR_PRODUCTS, ids, "order by product_id, location").await
}
