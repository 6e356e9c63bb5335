//! Product SQL, written once for both backends.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::model::{AttributeRow, ProductRow};
use super::query::{Cursor, CursorKey, ProductQuery, ProductSort};
use crate::catalog::PriceType;
use crate::catalog::provenance::FieldSource;
use crate::catalog::provenance::repo::record_in;
use crate::db::{DbPool, rows_by_ids};
use crate::with_pool;

const INSERT: &str = "insert into products (id, gtin, asin, sku, title, description, brand_id, status, version, \
     created_at, updated_at, origin_kind, origin_id, origin_job_id, availability) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

/// The columns of a product row, then `$where`.
macro_rules! product_select {
    ($where:literal) => {
        concat!(
            "select id, gtin, asin, sku, title, description, brand_id, status, availability, version, created_at, \
             updated_at, deleted_at from products ",
            $where
        )
    };
}

const MANY: &str = product_select!("where id in ");

const BY_ID: &str = product_select!("where id = $1");

const BY_GTIN: &str = product_select!("where gtin = $1 and deleted_at is null");

const BY_SKU: &str = product_select!("where sku = $1 and deleted_at is null");

const BY_ASIN: &str = product_select!("where asin = $1 and deleted_at is null");

/// Only a live product at the version the caller read is updated; the version moves on by one.
const UPDATE: &str = "update products set gtin = $2, asin = $3, sku = $4, title = $5, description = $6, \
     brand_id = $7, status = $8, availability = $11, version = version + 1, updated_at = $9 \
     where id = $1 and version = $10 and deleted_at is null";

const SOFT_DELETE: &str = "update products set deleted_at = $2, updated_at = $2, version = version + 1 \
     where id = $1 and deleted_at is null";

const PURGE: &str = "delete from products where id = $1 and deleted_at is not null";

const PURGE_BEFORE: &str = "delete from products where deleted_at is not null and deleted_at < $1";

const DELETE_ATTRIBUTES: &str = "delete from product_attributes where product_id = $1";

const INSERT_ATTRIBUTE: &str = "insert into product_attributes (id, product_id, name, kind, value_text, \
     value_number, value_unit, value_bool, value_json, position, created_at, updated_at) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)";

const ATTRIBUTES_OF: &str = "select product_id, name, kind, value_text, value_number, value_unit, value_bool, \
     value_json from product_attributes where product_id in ";

/// Replaces the attributes of a product inside the caller's transaction (`$tx`).
macro_rules! replace_attributes {
    ($tx:expr, $product_id:expr, $rows:expr, $at:expr) => {{
        sqlx::query(DELETE_ATTRIBUTES).bind($product_id).execute(&mut *$tx).await?;
        for (position, row) in $rows.iter().enumerate() {
            sqlx::query(INSERT_ATTRIBUTE)
                .bind(Uuid::now_v7())
                .bind($product_id)
                .bind(&row.name)
                .bind(&row.kind)
                .bind(&row.value_text)
                .bind(row.value_number)
                .bind(&row.value_unit)
                .bind(row.value_bool)
                .bind(&row.value_json)
                .bind(i32::try_from(position).unwrap_or(i32::MAX))
                .bind($at)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

/// Inserts a product and its attributes in one transaction.
/// Creates a product made by `origin`.
pub(super) async fn insert(
    pool: &DbPool,
    row: &ProductRow,
    attributes: &[AttributeRow],
    origin: FieldSource,
) -> Result<(), sqlx::Error> {
    let (origin_kind, origin_id, origin_job) = origin.to_columns();
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        sqlx::query(INSERT)
            .bind(row.id)
            .bind(&row.gtin)
            .bind(&row.asin)
            .bind(&row.sku)
            .bind(&row.title)
            .bind(&row.description)
            .bind(row.brand_id)
            .bind(&row.status)
            .bind(row.version)
            .bind(row.created_at)
            .bind(row.updated_at)
            .bind(origin_kind)
            .bind(origin_id)
            .bind(origin_job)
            .bind(&row.availability)
            .execute(&mut *tx)
            .await?;
        replace_attributes!(tx, row.id, attributes, row.updated_at);
        tx.commit().await
    }
    .await)
}

/// Writes every field and replaces the attributes, if the product is live and at `expected_version`, recording
/// `source` as the setter of the `changed` fields (with the values set: provenance and history); false otherwise
/// (nothing written).
pub(super) async fn update(
    pool: &DbPool,
    row: &ProductRow,
    attributes: &[AttributeRow],
    expected_version: i32,
    (changed, source): (&[(String, Option<String>)], FieldSource),
) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        let updated = sqlx::query(UPDATE)
            .bind(row.id)
            .bind(&row.gtin)
            .bind(&row.asin)
            .bind(&row.sku)
            .bind(&row.title)
            .bind(&row.description)
            .bind(row.brand_id)
            .bind(&row.status)
            .bind(row.updated_at)
            .bind(expected_version)
            .bind(&row.availability)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if updated != 1 {
            return Ok(false);
        }
        replace_attributes!(tx, row.id, attributes, row.updated_at);
        record_in!(tx, row.id, changed, source, row.updated_at);
        tx.commit().await?;
        Ok(true)
    }
    .await)
}

/// The product with this id, deleted or not.
pub(super) async fn by_id(pool: &DbPool, id: Uuid) -> Result<Option<ProductRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(BY_ID).bind(id).fetch_optional(p).await)
}

/// The live product with this GTIN-14, SKU or ASIN.
pub(super) async fn by_identifier(
    pool: &DbPool,
    field: Identifier,
    value: &str,
) -> Result<Option<ProductRow>, sqlx::Error> {
    let sql = match field {
        Identifier::Gtin => BY_GTIN,
        Identifier::Sku => BY_SKU,
        Identifier::Asin => BY_ASIN,
    };
    with_pool!(pool, |p| sqlx::query_as(sql).bind(value).fetch_optional(p).await)
}

/// A unique identifier column of `products`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Identifier {
    Gtin,
    Sku,
    Asin,
}

/// The products with these ids (deleted ones included), in no particular order.
pub(super) async fn many(pool: &DbPool, ids: &[Uuid]) -> Result<Vec<ProductRow>, sqlx::Error> {
    rows_by_ids(pool, MANY, ids, "").await
}

/// The attributes of these products, in their order per product.
pub(super) async fn attributes_of(pool: &DbPool, ids: &[Uuid]) -> Result<Vec<AttributeRow>, sqlx::Error> {
    // An import writes the positions of the attributes its row has; one it does not name keeps its own, which may
    // equal a new one's: the name then decides, byte by byte on both backends.
    let order = match pool.backend() {
        // dialect: PostgreSQL compares text by the database's collation (en_US: case and punctuation ignored
        // first), SQLite byte by byte; "C" is PostgreSQL's byte order.
        crate::db::Backend::Postgres => r#"order by product_id, position, name collate "C""#,
        crate::db::Backend::Sqlite => "order by product_id, position, name",
    };
    rows_by_ids(pool, ATTRIBUTES_OF, ids, order).await
}

/// Marks a live product deleted; false when there is none.
pub(super) async fn soft_delete(pool: &DbPool, id: Uuid, at: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(SOFT_DELETE).bind(id).bind(at).execute(p).await.map(|d| d.rows_affected() == 1))
}

/// Removes a soft-deleted product for good (its attributes, prices, offers… go with it).
pub(super) async fn purge(pool: &DbPool, id: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(PURGE).bind(id).execute(p).await.map(|d| d.rows_affected() == 1))
}

/// Removes every product soft-deleted before `before`; returns how many.
pub(super) async fn purge_before(pool: &DbPool, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(PURGE_BEFORE).bind(before).execute(p).await.map(|d| d.rows_affected()))
}

/// Appends the filters of a [`ProductQuery`] as `and …` clauses to a query over `products p` (shared by listing
/// and search). `exists` subqueries, so a product matching through several offers or prices comes once.
macro_rules! push_filters {
    ($sql:expr, $query:expr, $at:expr) => {{
        let sql = &mut $sql;
        let query: &ProductQuery = $query;
        let at: DateTime<Utc> = $at;
        if let Some(brand_id) = query.brand_id {
            sql.push(" and p.brand_id = ").push_bind(brand_id);
        }
        if let Some(status) = query.status {
            sql.push(" and p.status = ").push_bind(status.as_str());
        }
        if let Some(since) = query.updated_since {
            sql.push(" and p.updated_at >= ").push_bind(since);
        }
        if let Some(is_variant) = query.is_variant {
            sql.push(if is_variant { " and exists" } else { " and not exists" })
                .push(" (select 1 from product_variants v where v.product_id = p.id)");
        }
        if let Some(supplier_id) = query.supplier_id {
            sql.push(" and exists (select 1 from supplier_products o where o.product_id = p.id and o.supplier_id = ")
                .push_bind(supplier_id)
                .push(")");
        }
        if let Some(category_id) = query.category_id {
            sql.push(
                " and exists (select 1 from product_categories pc join categories c on c.id = pc.category_id \
                 join categories r on r.id = ",
            )
            .push_bind(category_id)
            .push(" where pc.product_id = p.id and substr(c.path, 1, length(r.path)) = r.path)");
        }
        if let Some(in_stock) = query.in_stock {
            sql.push(if in_stock { " and (" } else { " and not (" }).push(IN_STOCK).push(")");
        }
        if let Some(currency) = query.currency
            && (query.price_min.is_some() || query.price_max.is_some())
        {
            sql.push(" and exists (select 1 from product_prices pr where pr.product_id = p.id and pr.price_type = ")
                .push_bind(query.price_type.unwrap_or(PriceType::Retail).as_str())
                .push(" and pr.currency = ")
                .push_bind(currency.as_str())
                .push(" and (pr.valid_from is null or pr.valid_from <= ")
                .push_bind(at)
                .push(") and (pr.valid_to is null or pr.valid_to > ")
                .push_bind(at)
                .push(")");
            if let Some(min) = query.price_min {
                sql.push(" and pr.amount_minor >= ").push_bind(min);
            }
            if let Some(max) = query.price_max {
                sql.push(" and pr.amount_minor <= ").push_bind(max);
            }
            sql.push(")");
        }
    }};
}
pub(super) use push_filters;

/// One page of live products matching `query`, after `cursor`, at most `limit` of them (ask for one more than
/// the page to learn whether another page follows). Filters are `exists` subqueries, so a product matching
/// through several offers or prices still comes once.
pub(super) async fn list(
    pool: &DbPool,
    query: &ProductQuery,
    cursor: Option<&Cursor>,
    limit: u32,
    at: DateTime<Utc>,
) -> Result<Vec<ProductRow>, sqlx::Error> {
    let (column, direction, comparison) = match (query.sort, query.descending) {
        (ProductSort::UpdatedAt, false) => ("p.updated_at", "asc", ">"),
        (ProductSort::UpdatedAt, true) => ("p.updated_at", "desc", "<"),
        (ProductSort::CreatedAt, false) => ("p.created_at", "asc", ">"),
        (ProductSort::CreatedAt, true) => ("p.created_at", "desc", "<"),
        (ProductSort::Title, false) => ("p.title", "asc", ">"),
        (ProductSort::Title, true) => ("p.title", "desc", "<"),
    };
    with_pool!(pool, |p| {
        let mut sql = QueryBuilder::new(LIST);
        push_filters!(sql, query, at);
        if let Some(cursor) = cursor {
            sql.push(format_args!(" and ({column}, p.id) {comparison} ("));
            match &cursor.key {
                CursorKey::Instant(instant) => sql.push_bind(*instant),
                CursorKey::Text(text) => sql.push_bind(text.clone()),
            };
            sql.push(", ").push_bind(cursor.id).push(")");
        }
        sql.push(format_args!(" order by {column} {direction}, p.id {direction} limit ")).push_bind(i64::from(limit));
        sql.build_query_as().fetch_all(p).await
    })
}

const LIST: &str = "select p.id, p.gtin, p.asin, p.sku, p.title, p.description, p.brand_id, p.status, \
     p.availability, p.version, p.created_at, p.updated_at, p.deleted_at from products p where p.deleted_at is null";

/// Own stock available, an available supplier offer with stock, or stated in stock by a product that keeps no count
/// of its own ([`Availability::resolve`](crate::catalog::Availability::resolve)).
pub(super) const IN_STOCK: &str = "exists (select 1 from product_stocks s where s.product_id = p.id \
     and s.quantity - s.reserved > 0) \
     or exists (select 1 from supplier_products o where o.product_id = p.id and o.is_available and o.stock > 0) \
     or (coalesce(p.availability, '') = 'in_stock' \
         and not exists (select 1 from product_stocks s where s.product_id = p.id))";

// ---- what feeds and platforms read beside the product (`records`) ----

const ATTRIBUTE_NAMES: &str = "select distinct name from product_attributes";

const VARIANT_OPTION_SETS: &str = "select distinct options from product_variants";

const CURRENCIES: &str = "select currency from product_prices \
     union select currency from supplier_products where currency is not null";

const BRAND_NAMES: &str = "select id, name from brands";

const CATEGORY_NAMES: &str = "select id, parent_id, name from categories";

const CATEGORY_LINKS_OF: &str = "select pc.product_id, pc.category_id from product_categories pc \
     join categories c on c.id = pc.category_id where pc.product_id in ";

const IMAGE_URLS_OF: &str = "select product_id, url from product_images where product_id in ";

const VARIANTS_OF_PARENTS: &str =
    "select parent_product_id, product_id, options from product_variants where parent_product_id in ";

/// A category's name and parent.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct CategoryNameRow {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct CategoryLinkRow {
    pub product_id: Uuid,
    pub category_id: Uuid,
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct ImageUrlRow {
    pub product_id: Uuid,
    pub url: String,
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct VariantLinkRow {
    pub parent_product_id: Uuid,
    pub product_id: Uuid,
    pub options: sqlx::types::Json<std::collections::BTreeMap<String, String>>,
}

/// Every currency the catalog's prices and offers' costs are in.
pub(super) async fn currencies(pool: &DbPool) -> Result<Vec<String>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(CURRENCIES).fetch_all(p).await)
}

/// Every brand's id and name.
pub(super) async fn brand_names(pool: &DbPool) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(BRAND_NAMES).fetch_all(p).await)
}

/// Every category's id, parent and name (a catalog has thousands at most).
pub(super) async fn category_names(pool: &DbPool) -> Result<Vec<CategoryNameRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(CATEGORY_NAMES).fetch_all(p).await)
}

/// The category links of these products, per product the primary one first, then in their order (an import
/// keeps its file's: the first path a supplier gives is the product's main category).
pub(super) async fn category_links_of(pool: &DbPool, ids: &[Uuid]) -> Result<Vec<CategoryLinkRow>, sqlx::Error> {
    rows_by_ids(
        pool,
        CATEGORY_LINKS_OF,
        ids,
        "order by pc.product_id, pc.is_primary desc, pc.position, c.taxonomy_id, c.path",
    )
    .await
}

/// The image URLs of these products, in their order per product.
pub(super) async fn image_urls_of(pool: &DbPool, ids: &[Uuid]) -> Result<Vec<ImageUrlRow>, sqlx::Error> {
    rows_by_ids(pool, IMAGE_URLS_OF, ids, "order by product_id, position, url").await
}

/// The variants of these parents, in their order per parent.
pub(super) async fn variants_of_parents(pool: &DbPool, ids: &[Uuid]) -> Result<Vec<VariantLinkRow>, sqlx::Error> {
    rows_by_ids(pool, VARIANTS_OF_PARENTS, ids, "order by parent_product_id, position, product_id").await
}

/// Every attribute name used in the catalog.
pub(super) async fn attribute_names(pool: &DbPool) -> Result<Vec<String>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(ATTRIBUTE_NAMES).fetch_all(p).await)
}

/// Every distinct set of variant options (axis → value) in the catalog.
pub(super) async fn variant_option_sets(
    pool: &DbPool,
) -> Result<Vec<sqlx::types::Json<std::collections::BTreeMap<String, String>>>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(VARIANT_OPTION_SETS).fetch_all(p).await)
}
