//! Offer SQL, written once for both backends.

use uuid::Uuid;

use super::OfferRow;
use crate::db::{DbPool, rows_by_ids};
use crate::with_pool;

const UPSERT: &str = "insert into supplier_products (id, product_id, supplier_id, supplier_sku, cost_minor, currency, \
     stock, lead_time_days, is_available, last_seen_at, created_at, updated_at) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
     on conflict (supplier_id, supplier_sku) do update set product_id = excluded.product_id, \
     cost_minor = excluded.cost_minor, currency = excluded.currency, stock = excluded.stock, \
     lead_time_days = excluded.lead_time_days, is_available = excluded.is_available, \
     last_seen_at = excluded.last_seen_at, updated_at = excluded.updated_at \
     returning id, product_id, supplier_id, supplier_sku, cost_minor, currency, stock, lead_time_days, \
     is_available, last_seen_at, created_at, updated_at, not_taken, last_import_job_id";

const PRODUCT_OF: &str = "select product_id from supplier_products where supplier_id = $1 and supplier_sku = $2";

const PRODUCTS_OFFERED_AS: &str =
    "select distinct product_id from supplier_products where supplier_sku = $1 order by product_id limit $2";

const FOR_PRODUCTS: &str = "select id, product_id, supplier_id, supplier_sku, cost_minor, currency, stock, \
     lead_time_days, is_available, last_seen_at, created_at, updated_at, not_taken, last_import_job_id \
     from supplier_products \
     where product_id in ";

const FORGET_ROW_HASHES: &str = "update supplier_products set row_hash = null where product_id = $1";

const DELETE: &str = "delete from supplier_products where id = $1 returning product_id";

const WORDS_OF: &str = "select id, not_taken from supplier_products where product_id = $1 and supplier_id = $2";

const SET_WORDS: &str = "update supplier_products set not_taken = $2 where id = $1";

/// Inserts or updates the offer `(supplier_id, supplier_sku)`; returns it as stored.
pub(super) async fn upsert(pool: &DbPool, row: &OfferRow) -> Result<OfferRow, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(UPSERT)
        .bind(row.id)
        .bind(row.product_id)
        .bind(row.supplier_id)
        .bind(&row.supplier_sku)
        .bind(row.cost_minor)
        .bind(&row.currency)
        .bind(row.stock)
        .bind(row.lead_time_days)
        .bind(row.is_available)
        .bind(row.last_seen_at)
        .bind(row.updated_at)
        .fetch_one(p)
        .await)
}

/// The product an offer currently belongs to.
pub(super) async fn product_of(
    pool: &DbPool,
    supplier_id: Uuid,
    supplier_sku: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(PRODUCT_OF).bind(supplier_id).bind(supplier_sku).fetch_optional(p).await)
}

/// The products offered under this supplier SKU, by any supplier (at most `limit`).
pub(crate) async fn products_offered_as(
    pool: &DbPool,
    supplier_sku: &str,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(PRODUCTS_OFFERED_AS).bind(supplier_sku).bind(limit).fetch_all(p).await)
}

/// Sets `words` (field → value as shown; `None` removes the field) in what the offers of `supplier` on `product`
/// said and the product does not hold (`not_taken`).
pub(crate) async fn keep_words(
    pool: &DbPool,
    product: Uuid,
    supplier: Uuid,
    words: &std::collections::BTreeMap<String, Option<String>>,
) -> Result<(), sqlx::Error> {
    type Words = sqlx::types::Json<std::collections::BTreeMap<String, String>>;
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        let offers: Vec<(Uuid, Option<Words>)> =
            sqlx::query_as(WORDS_OF).bind(product).bind(supplier).fetch_all(&mut *tx).await?;
        for (id, said) in offers {
            let mut said = said.map(|json| json.0).unwrap_or_default();
            for (field, value) in words {
                match value {
                    Some(value) => said.insert(field.clone(), value.clone()),
                    None => said.remove(field),
                };
            }
            let said = (!said.is_empty()).then_some(sqlx::types::Json(said));
            sqlx::query(SET_WORDS).bind(id).bind(said).execute(&mut *tx).await?;
        }
        tx.commit().await
    }
    .await)
}

/// Every offer of these products, in one query.
pub(crate) async fn for_products(pool: &DbPool, ids: &[Uuid]) -> Result<Vec<OfferRow>, sqlx::Error> {
    rows_by_ids(pool, FOR_PRODUCTS, ids, "order by product_id, supplier_sku").await
}

/// Deletes an offer; returns its product, `None` when there was no such offer.
pub(super) async fn delete(pool: &DbPool, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(DELETE).bind(id).fetch_optional(p).await)
}

/// Forgets the row hashes of a product's offers, so that every supplier's next import applies its row again.
pub(crate) async fn forget_row_hashes(pool: &DbPool, product: Uuid) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(FORGET_ROW_HASHES).bind(product).execute(p).await.map(|_| ()))
}
