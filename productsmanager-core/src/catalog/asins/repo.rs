//! Code2ASIN's catalog SQL, written once for both backends.

use uuid::Uuid;

use super::GtinProduct;
use crate::db::{DbPool, rows_by_ids};
use crate::with_pool;

const BY_GTINS: &str = "select p.id, p.gtin, p.asin, p.title, b.name as brand from products p \
     left join brands b on b.id = p.brand_id where p.deleted_at is null and p.gtin in ";

const WITHOUT_ASIN: &str = "select gtin from products where deleted_at is null and gtin is not null and asin is null \
     order by gtin";

const WITHOUT_ASIN_OF_SUPPLIER: &str = "select p.gtin from products p where p.deleted_at is null \
     and p.gtin is not null and p.asin is null \
     and exists (select 1 from supplier_products s where s.product_id = p.id and s.supplier_id = $1) order by p.gtin";

pub(super) async fn by_gtins(pool: &DbPool, gtins: &[String]) -> Result<Vec<GtinProduct>, sqlx::Error> {
    rows_by_ids(pool, BY_GTINS, gtins, "").await
}

pub(super) async fn gtins_without_asin(pool: &DbPool, supplier: Option<Uuid>) -> Result<Vec<String>, sqlx::Error> {
    match supplier {
        Some(supplier) => {
            with_pool!(pool, |p| sqlx::query_scalar(WITHOUT_ASIN_OF_SUPPLIER).bind(supplier).fetch_all(p).await)
        }
        None => with_pool!(pool, |p| sqlx::query_scalar(WITHOUT_ASIN).fetch_all(p).await),
    }
}
