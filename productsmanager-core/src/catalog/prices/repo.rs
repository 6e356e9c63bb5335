//! Price SQL, written once for both backends.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::PriceRow;
use crate::db::{DbPool, rows_by_ids};
use crate::with_pool;

/// The open-ended price of a type and currency is unique (partial index), so setting it again updates it.
const UPSERT_OPEN: &str = "insert into product_prices (id, product_id, price_type, amount_minor, currency, \
     valid_from, valid_to, created_at, updated_at) values ($1, $2, $3, $4, $5, null, null, $6, $6) \
     on conflict (product_id, price_type, currency) where valid_from is null and valid_to is null \
     do update set amount_minor = excluded.amount_minor, updated_at = excluded.updated_at \
     returning id, product_id, price_type, amount_minor, currency, valid_from, valid_to, created_at, updated_at";

const INSERT_WINDOWED: &str = "insert into product_prices (id, product_id, price_type, amount_minor, currency, \
     valid_from, valid_to, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
     returning id, product_id, price_type, amount_minor, currency, valid_from, valid_to, created_at, updated_at";

const FOR_PRODUCTS: &str = "select id, product_id, price_type, amount_minor, currency, valid_from, valid_to, \
     created_at, updated_at from product_prices where product_id in ";

const DELETE: &str = "delete from product_prices where id = $1 returning product_id";

const BY_ID: &str = "select id, product_id, price_type, amount_minor, currency, valid_from, valid_to, created_at, \
     updated_at from product_prices where id = $1";

const DELETE_WINDOWS: &str = "delete from product_prices where product_id = $1 and price_type = $2 and currency = $3 \
     and (valid_from is not null or valid_to is not null)";

pub(super) async fn upsert_open(pool: &DbPool, row: &PriceRow) -> Result<PriceRow, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(UPSERT_OPEN)
        .bind(row.id)
        .bind(row.product_id)
        .bind(&row.price_type)
        .bind(row.amount_minor)
        .bind(&row.currency)
        .bind(row.updated_at)
        .fetch_one(p)
        .await)
}

pub(super) async fn insert_windowed(pool: &DbPool, row: &PriceRow) -> Result<PriceRow, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(INSERT_WINDOWED)
        .bind(row.id)
        .bind(row.product_id)
        .bind(&row.price_type)
        .bind(row.amount_minor)
        .bind(&row.currency)
        .bind(row.valid_from)
        .bind(row.valid_to)
        .bind(row.updated_at)
        .fetch_one(p)
        .await)
}

/// Every price of these products, in one query.
pub(crate) async fn for_products(pool: &DbPool, ids: &[Uuid]) -> Result<Vec<PriceRow>, sqlx::Error> {
    rows_by_ids(pool, FOR_PRODUCTS, ids, "order by product_id, price_type, currency, valid_from").await
}

/// A price by its id.
pub(super) async fn by_id(pool: &DbPool, id: Uuid) -> Result<Option<PriceRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(BY_ID).bind(id).fetch_optional(p).await)
}

/// Replaces the windowed prices of a product's type and currency by `windows`, in one transaction.
pub(super) async fn replace_windows(
    pool: &DbPool,
    product: Uuid,
    (price_type, currency): (&str, &str),
    windows: &[super::window::WindowedAmount],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        sqlx::query(DELETE_WINDOWS).bind(product).bind(price_type).bind(currency).execute(&mut *tx).await?;
        for window in windows {
            sqlx::query(INSERT_WINDOWED)
                .bind(Uuid::now_v7())
                .bind(product)
                .bind(price_type)
                .bind(window.minor)
                .bind(currency)
                .bind(window.from)
                .bind(window.to)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }
    .await)
}

/// Deletes a price; returns its product, `None` when there was no such price.
pub(super) async fn delete(pool: &DbPool, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(DELETE).bind(id).fetch_optional(p).await)
}
