//! The import engine's SQL on the catalog database: lookups of a batch's offers and products, and the batch's
//! writes in one transaction.
//!
//! A batch's bulk writes take each backend's fast path: SQLite multi-row statements (`insert … values (…), (…) on
//! conflict …`, chunked under its bind-parameter limit), PostgreSQL one statement per table binding a column per
//! array (`insert … select … from unnest($1::uuid[], …) on conflict …`). What a row does to a stored one (the
//! `on conflict` clauses) and the other statements are shared; where the dialects differ it is marked `// dialect:`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use crate::catalog::prices::window::{WindowedAmount, windows_text};
use crate::db::DbPool;
use crate::with_pool;

/// Rows per multi-row statement: under SQLite's 32,766 and PostgreSQL's 65,535 bind parameters at 16 columns.
const ROWS_PER_STATEMENT: usize = 1000;

/// An offer as stored: (id, product id, row hash).
/// A stored offer: id, product, row hash, cost (minor units).
pub(crate) type StoredOffer = (Uuid, Uuid, Option<Vec<u8>>, Option<i64>);

/// `select <columns> from <table> where <filter> in (<keys>)`, chunked, into a map.
macro_rules! lookup {
    ($pool:expr, $prefix:expr, $keys:expr, $row:ty, $key_of:expr) => {{
        let mut found = HashMap::new();
        for chunk in $keys.chunks(ROWS_PER_STATEMENT) {
            if chunk.is_empty() {
                continue;
            }
            let rows: Vec<$row> = with_pool!($pool, |p| {
                let mut sql = QueryBuilder::new($prefix);
                let mut list = sql.separated(", ");
                for key in chunk {
                    list.push_bind(key.clone());
                }
                sql.push(")");
                sql.build_query_as().fetch_all(p).await
            })?;
            for row in rows {
                let (key, value) = $key_of(row);
                found.insert(key, value);
            }
        }
        found
    }};
}

/// The offers of `supplier` with these supplier SKUs.
pub(crate) async fn offers_by_sku(
    pool: &DbPool,
    supplier: Uuid,
    skus: &[String],
) -> Result<HashMap<String, StoredOffer>, sqlx::Error> {
    let mut found = HashMap::new();
    for chunk in skus.chunks(ROWS_PER_STATEMENT) {
        type OfferRow = (String, Uuid, Uuid, Option<Vec<u8>>, Option<i64>);
        let rows: Vec<OfferRow> = with_pool!(pool, |p| {
            let mut sql = QueryBuilder::new(
                "select supplier_sku, id, product_id, row_hash, cost_minor from supplier_products where supplier_id = ",
            );
            sql.push_bind(supplier).push(" and supplier_sku in (");
            let mut list = sql.separated(", ");
            for sku in chunk {
                list.push_bind(sku.clone());
            }
            sql.push(")");
            sql.build_query_as().fetch_all(p).await
        })?;
        found.extend(rows.into_iter().map(|(sku, id, product, hash, cost)| (sku, (id, product, hash, cost))));
    }
    Ok(found)
}

/// Live products by GTIN-14.
pub(crate) async fn products_by_gtin(pool: &DbPool, gtins: &[String]) -> Result<HashMap<String, Uuid>, sqlx::Error> {
    Ok(lookup!(
        pool,
        "select gtin, id from products where deleted_at is null and gtin in (",
        gtins,
        (String, Uuid),
        |row: (String, Uuid)| row
    ))
}

/// Live products by our SKU.
pub(crate) async fn products_by_sku(pool: &DbPool, skus: &[String]) -> Result<HashMap<String, Uuid>, sqlx::Error> {
    Ok(lookup!(
        pool,
        "select sku, id from products where deleted_at is null and sku in (",
        skus,
        (String, Uuid),
        |row: (String, Uuid)| row
    ))
}

/// What the survivorship rules read of a stored product: its fields' values, named as provenance names them
/// (`title`, `brand`, `price:retail:EUR`…), and its origin.
#[derive(Debug, Clone)]
pub(crate) struct StoredProduct {
    pub values: HashMap<String, Option<String>>,
    pub origin: crate::catalog::provenance::repo::OriginRow,
}

type ProductValuesRow = (
    Uuid,
    String,
    Option<String>,
    Option<Uuid>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Uuid>,
    Option<Uuid>,
    Option<String>,
);

/// Which of a stored product's collections a batch's rows give, so only those are read.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Collections {
    /// SEO metadata (`seo:<locale>`).
    pub seo: bool,
    pub stock: bool,
    pub categories: bool,
    pub images: bool,
}

/// The stored fields and origins of these products, with their open-ended prices and their attributes, and those
/// of their stock (`default` location), category links and image URLs that `collections` asks for.
pub(crate) async fn stored_products(
    pool: &DbPool,
    ids: &[Uuid],
    collections: Collections,
) -> Result<HashMap<Uuid, StoredProduct>, sqlx::Error> {
    let mut found: HashMap<Uuid, StoredProduct> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<ProductValuesRow> = crate::db::rows_by_ids(
            pool,
            "select id, title, description, brand_id, status, sku, gtin, origin_kind, origin_id, origin_job_id, \
             availability from products where id in ",
            chunk,
            "",
        )
        .await?;
        for (
            id,
            title,
            description,
            brand_id,
            status,
            sku,
            gtin,
            origin_kind,
            origin_id,
            origin_job_id,
            availability,
        ) in rows
        {
            let values = HashMap::from([
                ("title".to_string(), Some(title)),
                ("description".to_string(), description),
                ("brand".to_string(), brand_id.map(|b| b.to_string())),
                ("status".to_string(), Some(status)),
                ("sku".to_string(), sku),
                ("gtin".to_string(), gtin),
                ("availability".to_string(), availability),
            ]);
            let origin = crate::catalog::provenance::repo::OriginRow { origin_kind, origin_id, origin_job_id };
            found.insert(id, StoredProduct { values, origin });
        }
        // Open-ended prices one field each; windowed ones one field per type and currency.
        let prices: Vec<StoredPriceRow> = crate::db::rows_by_ids(
            pool,
            "select product_id, price_type, currency, amount_minor, valid_from, valid_to from product_prices \
             where product_id in ",
            chunk,
            "",
        )
        .await?;
        for (product, fields) in price_values(prices) {
            if let Some(stored) = found.get_mut(&product) {
                stored.values.extend(fields.into_iter().map(|(field, value)| (field, Some(value))));
            }
        }
        // Attributes as imports write them (text); another kind reads as no text: its setter's rule decides.
        let attributes: Vec<(Uuid, String, Option<String>)> = crate::db::rows_by_ids(
            pool,
            "select product_id, name, value_text from product_attributes where product_id in ",
            chunk,
            "",
        )
        .await?;
        for (product, name, value) in attributes {
            if let Some(stored) = found.get_mut(&product) {
                stored.values.insert(crate::catalog::provenance::attribute_field(&name), value);
            }
        }
        // The product's own stock at each location, and the categories and image URLs the product has: an
        // import adds to these, and records in the history only what is new.
        if collections.stock {
            let stocks: Vec<(Uuid, String, i64)> = crate::db::rows_by_ids(
                pool,
                "select product_id, location, quantity from product_stocks where product_id in ",
                chunk,
                "",
            )
            .await?;
            for (product, location, quantity) in stocks {
                if let Some(stored) = found.get_mut(&product) {
                    let field = crate::catalog::provenance::stock_field(&location);
                    stored.values.insert(field, Some(quantity.to_string()));
                }
            }
        }
        if collections.seo {
            let seo: Vec<SeoRow> = crate::db::rows_by_ids(
                pool,
                "select product_id, locale, slug, meta_title, meta_description from product_seo where product_id in ",
                chunk,
                "",
            )
            .await?;
            for (product, locale, slug, meta_title, meta_description) in seo {
                if let Some(stored) = found.get_mut(&product) {
                    let value = crate::catalog::provenance::seo_value(
                        &slug,
                        meta_title.as_deref(),
                        meta_description.as_deref(),
                    );
                    stored.values.insert(crate::catalog::provenance::seo_field(&locale), Some(value));
                }
            }
        }
        if collections.categories {
            let links: Vec<(Uuid, Uuid)> = crate::db::rows_by_ids(
                pool,
                "select product_id, category_id from product_categories where product_id in ",
                chunk,
                "",
            )
            .await?;
            for (product, category) in links {
                if let Some(stored) = found.get_mut(&product) {
                    stored.values.insert(format!("category:{category}"), None);
                }
            }
        }
        if collections.images {
            let images: Vec<(Uuid, String)> = crate::db::rows_by_ids(
                pool,
                "select product_id, url from product_images where product_id in ",
                chunk,
                "",
            )
            .await?;
            for (product, url) in images {
                if let Some(stored) = found.get_mut(&product) {
                    stored.values.insert(format!("image:{url}"), None);
                }
            }
        }
    }
    Ok(found)
}

/// SEO metadata of a product: (product, locale, slug, meta title, meta description).
pub(crate) type SeoRow = (Uuid, String, String, Option<String>, Option<String>);

/// A stored price: (product, type, currency, minor units, start, end).
type StoredPriceRow = (Uuid, String, String, i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Prices as provenance names their fields, by product: `price:<type>:<currency>` (minor units) for an open-ended
/// price, `price_windows:<type>:<currency>` (every window of that pair as text) for windowed ones.
fn price_values(rows: Vec<StoredPriceRow>) -> HashMap<Uuid, Vec<(String, String)>> {
    let mut windows: BTreeMap<(Uuid, String, String), Vec<WindowedAmount>> = BTreeMap::new();
    let mut values: HashMap<Uuid, Vec<(String, String)>> = HashMap::new();
    for (product, price_type, currency, minor, from, to) in rows {
        if from.is_none() && to.is_none() {
            let field = crate::catalog::provenance::price_field(&price_type, &currency);
            values.entry(product).or_default().push((field, minor.to_string()));
        } else {
            windows.entry((product, price_type, currency)).or_default().push(WindowedAmount { from, to, minor });
        }
    }
    for ((product, price_type, currency), group) in windows {
        let Ok(code) = currency.parse::<crate::catalog::CurrencyCode>() else { continue };
        let field = crate::catalog::provenance::price_windows_field(&price_type, &currency);
        values.entry(product).or_default().push((field, windows_text(code, &group)));
    }
    values
}

/// The open-ended retail prices of these products: (product, currency) → minor units.
pub(crate) async fn retail_prices(pool: &DbPool, ids: &[Uuid]) -> Result<HashMap<(Uuid, String), i64>, sqlx::Error> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let prices: Vec<(Uuid, String, i64)> = crate::db::rows_by_ids(
            pool,
            "select product_id, currency, amount_minor from product_prices \
             where price_type = 'retail' and valid_from is null and valid_to is null and product_id in ",
            chunk,
            "",
        )
        .await?;
        found.extend(prices.into_iter().map(|(product, currency, minor)| ((product, currency), minor)));
    }
    Ok(found)
}

/// Of these products, those `supplier` offers, with one of its supplier SKUs for each.
pub(crate) async fn supplier_skus_on(
    pool: &DbPool,
    supplier: Uuid,
    products: &[Uuid],
) -> Result<HashMap<Uuid, String>, sqlx::Error> {
    let mut found = HashMap::new();
    for chunk in products.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(Uuid, String)> = with_pool!(pool, |p| {
            let mut sql =
                QueryBuilder::new("select product_id, supplier_sku from supplier_products where supplier_id = ");
            sql.push_bind(supplier).push(" and product_id in (");
            let mut list = sql.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            sql.push(") order by supplier_sku");
            sql.build_query_as().fetch_all(p).await
        })?;
        for (product, sku) in rows {
            found.entry(product).or_insert(sku);
        }
    }
    Ok(found)
}

/// The products that have these (locale, slug) pairs.
pub(crate) async fn slug_owners(
    pool: &DbPool,
    pairs: &[(String, String)],
) -> Result<HashMap<(String, String), Uuid>, sqlx::Error> {
    let mut found = HashMap::new();
    for chunk in pairs.chunks(ROWS_PER_STATEMENT / 2) {
        let rows: Vec<(String, String, Uuid)> = with_pool!(pool, |p| {
            // A row value's list on the right of `in` is a `values` subquery: SQLite takes no other.
            let mut sql =
                QueryBuilder::new("select locale, slug, product_id from product_seo where (locale, slug) in (");
            sql.push_values(chunk, |mut row, (locale, slug)| {
                row.push_bind(locale.clone()).push_bind(slug.clone());
            });
            sql.push(")");
            sql.build_query_as().fetch_all(p).await
        })?;
        found.extend(rows.into_iter().map(|(locale, slug, product)| ((locale, slug), product)));
    }
    Ok(found)
}

/// Titles of products by id.
pub(crate) async fn product_titles(pool: &DbPool, ids: &[Uuid]) -> Result<HashMap<Uuid, String>, sqlx::Error> {
    Ok(lookup!(pool, "select id, title from products where id in (", ids, (Uuid, String), |row: (Uuid, String)| row))
}

/// Of these products, those that are variants, and those that have variants.
pub(crate) async fn variant_roles(pool: &DbPool, ids: &[Uuid]) -> Result<(HashSet<Uuid>, HashSet<Uuid>), sqlx::Error> {
    let variants: HashMap<Uuid, Uuid> = lookup!(
        pool,
        "select product_id, parent_product_id from product_variants where product_id in (",
        ids,
        (Uuid, Uuid),
        |row: (Uuid, Uuid)| row
    );
    let parents: HashMap<Uuid, Uuid> = lookup!(
        pool,
        "select parent_product_id, product_id from product_variants where parent_product_id in (",
        ids,
        (Uuid, Uuid),
        |row: (Uuid, Uuid)| row
    );
    Ok((variants.into_keys().collect(), parents.into_keys().collect()))
}

/// Brands by lower-case name.
pub(crate) async fn brands_by_name(pool: &DbPool, names: &[String]) -> Result<HashMap<String, Uuid>, sqlx::Error> {
    Ok(lookup!(pool, "select lower(name), id from brands where lower(name) in (", names, (String, Uuid), |row: (
        String,
        Uuid
    )| row))
}

/// Creates brands (id, name, slug) that do not exist yet (by name or slug); existing ones are left alone.
pub(crate) async fn insert_brands(
    pool: &DbPool,
    brands: &[(Uuid, String, String)],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for chunk in brands.chunks(ROWS_PER_STATEMENT) {
        with_pool!(pool, |p| {
            let mut sql = QueryBuilder::new("insert into brands (id, name, slug, created_at, updated_at) ");
            sql.push_values(chunk, |mut row, (id, name, slug)| {
                row.push_bind(*id).push_bind(name.clone()).push_bind(slug.clone()).push_bind(now).push_bind(now);
            });
            sql.push(" on conflict do nothing");
            sql.build().execute(p).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// A product to create.
#[derive(Debug, Clone)]
pub(crate) struct NewProductRow {
    pub id: Uuid,
    pub gtin: Option<String>,
    pub sku: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub brand_id: Option<Uuid>,
    pub status: &'static str,
    pub availability: Option<&'static str>,
}

/// What a row changes on an existing product: each `None` keeps the stored value.
#[derive(Debug, Clone)]
pub(crate) struct ProductUpdate {
    pub id: Uuid,
    pub gtin: Option<String>,
    pub sku: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub brand_id: Option<Uuid>,
    pub status: Option<&'static str>,
    pub availability: Option<&'static str>,
}

impl ProductUpdate {
    /// Whether it writes any field (an update keeping every value is left out of the batch).
    pub(crate) fn changes_anything(&self) -> bool {
        self.gtin.is_some()
            || self.sku.is_some()
            || self.title.is_some()
            || self.description.is_some()
            || self.brand_id.is_some()
            || self.status.is_some()
            || self.availability.is_some()
    }
}

/// An offer to write (created or replaced by its supplier SKU).
#[derive(Debug, Clone)]
pub(crate) struct OfferWrite {
    pub id: Uuid,
    pub product_id: Uuid,
    pub supplier_sku: String,
    pub cost_minor: Option<i64>,
    pub currency: Option<&'static str>,
    pub stock: Option<i64>,
    pub lead_time_days: Option<i32>,
    /// False only when our `offers` list says the importing supplier's offer is not available.
    pub is_available: bool,
    pub row_hash: Vec<u8>,
}

/// An offer of a supplier our `offers` column names, as listed (not the importing supplier's offer under the row's
/// key: that one is an [`OfferWrite`]).
#[derive(Debug, Clone)]
pub(crate) struct ListedOfferWrite {
    pub product_id: Uuid,
    pub supplier_id: Uuid,
    pub supplier_sku: String,
    pub cost_minor: Option<i64>,
    pub currency: Option<&'static str>,
    pub stock: Option<i64>,
    pub lead_time_days: Option<i32>,
    pub is_available: bool,
}

/// The checkpoint written with a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct Checkpoint {
    pub line: i64,
    pub rows_read: i64,
    pub rows_created: i64,
    pub rows_updated: i64,
    pub rows_unchanged: i64,
    pub rows_invalid: i64,
    pub gtins_dropped: i64,
    pub fields_kept: i64,
    pub rows_merged: i64,
    pub products_created: i64,
    pub products_updated: i64,
    pub variants_created: i64,
    pub images_dropped: i64,
}

/// Everything one batch writes to the catalog.
#[derive(Debug, Default)]
pub(crate) struct BatchWrites {
    pub new_products: Vec<NewProductRow>,
    pub product_updates: Vec<ProductUpdate>,
    pub offers: Vec<OfferWrite>,
    /// (product, type, currency, minor units)
    pub prices: Vec<(Uuid, &'static str, &'static str, i64)>,
    /// (product, type, currency, windows): every windowed price of that type and currency replaced by these.
    pub price_windows: Vec<(Uuid, &'static str, &'static str, Vec<WindowedAmount>)>,
    /// (product, type, currency) of open-ended prices removed: the row gives that price in a window only.
    pub open_price_removals: Vec<(Uuid, &'static str, &'static str)>,
    /// (product, locale, slug, meta title, meta description): SEO metadata set.
    pub seo: Vec<SeoRow>,
    /// (product, name, value, position)
    pub attributes: Vec<(Uuid, String, String, i32)>,
    /// (product, category, position)
    pub category_links: Vec<(Uuid, Uuid, i32)>,
    /// (product, url, position)
    pub images: Vec<(Uuid, String, i32)>,
    /// (parent product, variant product, options)
    pub variants: Vec<(Uuid, Uuid, serde_json::Value)>,
    /// (product, location, quantity) of the products' own stock (a shop's export: the `default` location; our
    /// file: each location).
    pub product_stocks: Vec<(Uuid, String, i64)>,
    /// Unchanged offers seen by this import (kept available when missing offers are marked unavailable).
    pub seen_offers: Vec<Uuid>,
    /// Unchanged offers seen by this import whose row says they are not available (our `offers` list): seen, and
    /// left unavailable.
    pub seen_unavailable_offers: Vec<Uuid>,
    /// Products written (their search documents are refreshed when the import ends).
    pub touched_products: Vec<Uuid>,
    /// (product, field) whose value this supplier's job set: their provenance.
    pub field_sources: Vec<(Uuid, String)>,
    /// (product, field, change, value) of each change of a stored product's field: its history.
    pub history: Vec<(Uuid, String, crate::catalog::provenance::ChangeKind, String)>,
    /// (supplier SKU, field → the file's value) of the rows whose values the product did not take (the offers'
    /// `not_taken`; an offer written without is cleared).
    pub not_taken: Vec<(String, std::collections::BTreeMap<String, String>)>,
    /// Offers of the suppliers our `offers` column lists, each written as listed.
    pub listed_offers: Vec<ListedOfferWrite>,
}

// What a batch's rows do to rows already stored, the same on both paths.
macro_rules! offer_conflict {
    () => {
        " on conflict (supplier_id, supplier_sku) do update set product_id = excluded.product_id, \
         cost_minor = coalesce(excluded.cost_minor, supplier_products.cost_minor), \
         currency = case when excluded.cost_minor is null then supplier_products.currency \
         else excluded.currency end, stock = coalesce(excluded.stock, supplier_products.stock), \
         lead_time_days = coalesce(excluded.lead_time_days, supplier_products.lead_time_days), \
         is_available = excluded.is_available, last_seen_at = excluded.last_seen_at, \
         row_hash = excluded.row_hash, last_import_job_id = excluded.last_import_job_id, not_taken = null, \
         updated_at = excluded.updated_at"
    };
}

macro_rules! price_conflict {
    () => {
        " on conflict (product_id, price_type, currency) where valid_from is null and valid_to is null \
         do update set amount_minor = excluded.amount_minor, updated_at = excluded.updated_at"
    };
}

macro_rules! attribute_conflict {
    () => {
        " on conflict (product_id, name) do update set kind = excluded.kind, value_text = excluded.value_text, \
         value_number = null, value_unit = null, value_bool = null, value_json = null, \
         position = excluded.position, updated_at = excluded.updated_at"
    };
}

macro_rules! image_conflict {
    () => {
        " on conflict (product_id, url) do update set position = excluded.position"
    };
}

macro_rules! link_conflict {
    () => {
        " on conflict (product_id, category_id) do nothing"
    };
}

// dialect: PostgreSQL's batch statements, one array per column.
const UNNEST_PRODUCTS: &str = "insert into products (id, gtin, sku, title, description, brand_id, status, version, \
     created_at, updated_at, origin_kind, origin_id, origin_job_id, availability) select id, gtin, sku, title, \
     description, brand_id, status, 1, $8, $8, 'supplier', $9, $10, availability \
     from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[], $11::text[]) \
     as t (id, gtin, sku, title, description, brand_id, status, availability)";
const UNNEST_OFFERS: &str = concat!(
    "insert into supplier_products (id, product_id, supplier_id, supplier_sku, cost_minor, currency, stock, \
     lead_time_days, is_available, last_seen_at, row_hash, last_import_job_id, created_at, updated_at) \
     select id, product_id, $9, supplier_sku, cost_minor, currency, stock, lead_time_days, is_available, $11, \
     row_hash, $10, $11, $11 from unnest($1::uuid[], $2::uuid[], $3::text[], $4::int8[], $5::text[], $6::int8[], \
     $7::int4[], $8::bytea[], $12::bool[]) \
     as t (id, product_id, supplier_sku, cost_minor, currency, stock, lead_time_days, row_hash, is_available)",
    offer_conflict!()
);
const UNNEST_PRICES: &str = concat!(
    "insert into product_prices (id, product_id, price_type, amount_minor, currency, created_at, updated_at) \
     select id, product_id, price_type, amount_minor, currency, $6, $6 \
     from unnest($1::uuid[], $2::uuid[], $3::text[], $4::int8[], $5::text[]) \
     as t (id, product_id, price_type, amount_minor, currency)",
    price_conflict!()
);
const UNNEST_ATTRIBUTES: &str = concat!(
    "insert into product_attributes (id, product_id, name, kind, value_text, position, created_at, updated_at) \
     select id, product_id, name, 'text', value_text, position, $6, $6 \
     from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int4[]) \
     as t (id, product_id, name, value_text, position)",
    attribute_conflict!()
);
const UNNEST_CATEGORY_LINKS: &str = concat!(
    "insert into product_categories (product_id, category_id, is_primary, position, created_at, updated_at, \
     source_kind, source_id, job_id) select product_id, category_id, false, position, $4, $4, 'supplier', $5, $6 \
     from unnest($1::uuid[], $2::uuid[], $3::int4[]) as t (product_id, category_id, position)",
    link_conflict!()
);
const UNNEST_IMAGES: &str = concat!(
    "insert into product_images (id, product_id, url, position, created_at, updated_at, source_kind, source_id, \
     job_id) select id, product_id, url, position, $5, $5, 'supplier', $6, $7 \
     from unnest($1::uuid[], $2::uuid[], $3::text[], $4::int4[]) as t (id, product_id, url, position)",
    image_conflict!()
);

const DELETE_OPEN_PRICE: &str = "delete from product_prices where product_id = $1 and price_type = $2 \
     and currency = $3 and valid_from is null and valid_to is null";
const DELETE_WINDOWS: &str = "delete from product_prices where product_id = $1 and price_type = $2 \
     and currency = $3 and (valid_from is not null or valid_to is not null)";
const INSERT_WINDOW: &str = "insert into product_prices (id, product_id, price_type, amount_minor, currency, \
     valid_from, valid_to, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $8)";

const UPSERT_CHECKPOINT: &str = "insert into import_progress (job_id, line, rows_read, rows_created, rows_updated, \
     rows_unchanged, rows_invalid, gtins_dropped, updated_at, fields_kept, rows_merged, products_created, \
     products_updated, variants_created, images_dropped) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     on conflict (job_id) do update set line = excluded.line, rows_read = excluded.rows_read, \
     rows_created = excluded.rows_created, rows_updated = excluded.rows_updated, \
     rows_unchanged = excluded.rows_unchanged, rows_invalid = excluded.rows_invalid, \
     gtins_dropped = excluded.gtins_dropped, updated_at = excluded.updated_at, fields_kept = excluded.fields_kept, \
     rows_merged = excluded.rows_merged, products_created = excluded.products_created, \
     products_updated = excluded.products_updated, variants_created = excluded.variants_created, \
     images_dropped = excluded.images_dropped";

const CHECKPOINT_OF_JOB: &str = "select line, rows_read, rows_created, rows_updated, rows_unchanged, rows_invalid, \
     gtins_dropped, fields_kept, rows_merged, products_created, products_updated, variants_created, images_dropped \
     from import_progress where job_id = $1";

const MARK_MISSING_UNAVAILABLE: &str = "update supplier_products set is_available = false, updated_at = $3 \
     where supplier_id = $1 and is_available and (last_import_job_id is null or last_import_job_id <> $2)";

/// Whether an offer of `supplier` has no row hash: made outside imports, or its product had a field released.
pub(crate) async fn has_unhashed_offers(pool: &DbPool, supplier: Uuid) -> Result<bool, sqlx::Error> {
    const SQL: &str = "select exists (select 1 from supplier_products where supplier_id = $1 and row_hash is null)";
    with_pool!(pool, |p| sqlx::query_scalar(SQL).bind(supplier).fetch_one(p).await)
}

/// The checkpoint of a job, when a batch of it was committed.
pub(crate) async fn checkpoint(pool: &DbPool, job: Uuid) -> Result<Option<Checkpoint>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(CHECKPOINT_OF_JOB).bind(job).fetch_optional(p).await)
}

/// Marks the supplier's offers this job did not see as unavailable; returns how many.
pub(crate) async fn mark_missing_unavailable(
    pool: &DbPool,
    supplier: Uuid,
    job: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(MARK_MISSING_UNAVAILABLE)
        .bind(supplier)
        .bind(job)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
}

/// Writes a batch and its checkpoint in one transaction.
pub(crate) async fn write_batch(
    pool: &DbPool,
    supplier: Uuid,
    job: Uuid,
    writes: &BatchWrites,
    checkpoint: Checkpoint,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    macro_rules! chunked {
        ($tx:expr, $items:expr, $head:expr, $tail:expr, |$row:ident, $item:pat_param| $push:expr) => {
            for chunk in $items.chunks(ROWS_PER_STATEMENT) {
                if chunk.is_empty() {
                    continue;
                }
                let mut sql = QueryBuilder::new($head);
                sql.push_values(chunk, |mut $row, $item| {
                    $push;
                });
                sql.push($tail);
                sql.build().execute(&mut *$tx).await?;
            }
        };
    }
    // Multi-row `insert … values`, chunked under the bind-parameter limits (SQLite).
    macro_rules! values_products {
        ($tx:ident) => {{
            chunked!(
                $tx,
                writes.new_products,
                "insert into products (id, gtin, sku, title, description, brand_id, status, version, created_at, \
                 updated_at, origin_kind, origin_id, origin_job_id, availability) ",
                "",
                |row, product| {
                    row.push_bind(product.id)
                        .push_bind(product.gtin.clone())
                        .push_bind(product.sku.clone())
                        .push_bind(product.title.clone())
                        .push_bind(product.description.clone())
                        .push_bind(product.brand_id)
                        .push_bind(product.status)
                        .push_bind(1_i32)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind("supplier")
                        .push_bind(supplier)
                        .push_bind(job)
                        .push_bind(product.availability)
                }
            );
        }};
    }
    macro_rules! values_rest {
        ($tx:ident) => {{
            chunked!(
                $tx,
                writes.offers,
                "insert into supplier_products (id, product_id, supplier_id, supplier_sku, cost_minor, currency, \
                 stock, lead_time_days, is_available, last_seen_at, row_hash, last_import_job_id, created_at, \
                 updated_at) ",
                offer_conflict!(),
                |row, offer| {
                    row.push_bind(offer.id)
                        .push_bind(offer.product_id)
                        .push_bind(supplier)
                        .push_bind(offer.supplier_sku.clone())
                        .push_bind(offer.cost_minor)
                        .push_bind(offer.currency)
                        .push_bind(offer.stock)
                        .push_bind(offer.lead_time_days)
                        .push_bind(offer.is_available)
                        .push_bind(now)
                        .push_bind(offer.row_hash.clone())
                        .push_bind(job)
                        .push_bind(now)
                        .push_bind(now)
                }
            );
            chunked!(
                $tx,
                writes.prices,
                "insert into product_prices (id, product_id, price_type, amount_minor, currency, created_at, \
                 updated_at) ",
                price_conflict!(),
                |row, (product, price_type, currency, minor)| {
                    row.push_bind(Uuid::now_v7())
                        .push_bind(*product)
                        .push_bind(*price_type)
                        .push_bind(*minor)
                        .push_bind(*currency)
                        .push_bind(now)
                        .push_bind(now)
                }
            );
            chunked!(
                $tx,
                writes.attributes,
                "insert into product_attributes (id, product_id, name, kind, value_text, position, created_at, \
                 updated_at) ",
                attribute_conflict!(),
                |row, (product, name, value, position)| {
                    row.push_bind(Uuid::now_v7())
                        .push_bind(*product)
                        .push_bind(name.clone())
                        .push_bind("text")
                        .push_bind(value.clone())
                        .push_bind(*position)
                        .push_bind(now)
                        .push_bind(now)
                }
            );
            chunked!(
                $tx,
                writes.category_links,
                "insert into product_categories (product_id, category_id, is_primary, position, created_at, \
                 updated_at, source_kind, source_id, job_id) ",
                link_conflict!(),
                |row, (product, category, position)| {
                    row.push_bind(*product)
                        .push_bind(*category)
                        .push_bind(false)
                        .push_bind(*position)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind("supplier")
                        .push_bind(supplier)
                        .push_bind(job)
                }
            );
            chunked!(
                $tx,
                writes.images,
                "insert into product_images (id, product_id, url, position, created_at, updated_at, source_kind, \
                 source_id, job_id) ",
                image_conflict!(),
                |row, (product, url, position)| {
                    row.push_bind(Uuid::now_v7())
                        .push_bind(*product)
                        .push_bind(url.clone())
                        .push_bind(*position)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind("supplier")
                        .push_bind(supplier)
                        .push_bind(job)
                }
            );
        }};
    }
    // dialect: PostgreSQL binds each column as one array and `unnest`s them: one statement per table and batch,
    // parsed and planned once whatever the batch's size.
    macro_rules! unnest_products {
        ($tx:ident) => {{
            let products = &writes.new_products;
            if !products.is_empty() {
                sqlx::query(UNNEST_PRODUCTS)
                    .bind(products.iter().map(|p| p.id).collect::<Vec<_>>())
                    .bind(products.iter().map(|p| p.gtin.clone()).collect::<Vec<_>>())
                    .bind(products.iter().map(|p| p.sku.clone()).collect::<Vec<_>>())
                    .bind(products.iter().map(|p| p.title.clone()).collect::<Vec<_>>())
                    .bind(products.iter().map(|p| p.description.clone()).collect::<Vec<_>>())
                    .bind(products.iter().map(|p| p.brand_id).collect::<Vec<_>>())
                    .bind(products.iter().map(|p| p.status).collect::<Vec<_>>())
                    .bind(now)
                    .bind(supplier)
                    .bind(job)
                    .bind(products.iter().map(|p| p.availability).collect::<Vec<_>>())
                    .execute(&mut *$tx)
                    .await?;
            }
        }};
    }
    macro_rules! unnest_rest {
        ($tx:ident) => {{
            let offers = &writes.offers;
            if !offers.is_empty() {
                sqlx::query(UNNEST_OFFERS)
                    .bind(offers.iter().map(|o| o.id).collect::<Vec<_>>())
                    .bind(offers.iter().map(|o| o.product_id).collect::<Vec<_>>())
                    .bind(offers.iter().map(|o| o.supplier_sku.clone()).collect::<Vec<_>>())
                    .bind(offers.iter().map(|o| o.cost_minor).collect::<Vec<_>>())
                    .bind(offers.iter().map(|o| o.currency).collect::<Vec<_>>())
                    .bind(offers.iter().map(|o| o.stock).collect::<Vec<_>>())
                    .bind(offers.iter().map(|o| o.lead_time_days).collect::<Vec<_>>())
                    .bind(offers.iter().map(|o| o.row_hash.clone()).collect::<Vec<_>>())
                    .bind(supplier)
                    .bind(job)
                    .bind(now)
                    .bind(offers.iter().map(|o| o.is_available).collect::<Vec<_>>())
                    .execute(&mut *$tx)
                    .await?;
            }
            let prices = &writes.prices;
            if !prices.is_empty() {
                sqlx::query(UNNEST_PRICES)
                    .bind(prices.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
                    .bind(prices.iter().map(|p| p.0).collect::<Vec<_>>())
                    .bind(prices.iter().map(|p| p.1).collect::<Vec<_>>())
                    .bind(prices.iter().map(|p| p.3).collect::<Vec<_>>())
                    .bind(prices.iter().map(|p| p.2).collect::<Vec<_>>())
                    .bind(now)
                    .execute(&mut *$tx)
                    .await?;
            }
            let attributes = &writes.attributes;
            if !attributes.is_empty() {
                sqlx::query(UNNEST_ATTRIBUTES)
                    .bind(attributes.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
                    .bind(attributes.iter().map(|a| a.0).collect::<Vec<_>>())
                    .bind(attributes.iter().map(|a| a.1.clone()).collect::<Vec<_>>())
                    .bind(attributes.iter().map(|a| a.2.clone()).collect::<Vec<_>>())
                    .bind(attributes.iter().map(|a| a.3).collect::<Vec<_>>())
                    .bind(now)
                    .execute(&mut *$tx)
                    .await?;
            }
            let links = &writes.category_links;
            if !links.is_empty() {
                sqlx::query(UNNEST_CATEGORY_LINKS)
                    .bind(links.iter().map(|l| l.0).collect::<Vec<_>>())
                    .bind(links.iter().map(|l| l.1).collect::<Vec<_>>())
                    .bind(links.iter().map(|l| l.2).collect::<Vec<_>>())
                    .bind(now)
                    .bind(supplier)
                    .bind(job)
                    .execute(&mut *$tx)
                    .await?;
            }
            let images = &writes.images;
            if !images.is_empty() {
                sqlx::query(UNNEST_IMAGES)
                    .bind(images.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
                    .bind(images.iter().map(|i| i.0).collect::<Vec<_>>())
                    .bind(images.iter().map(|i| i.1.clone()).collect::<Vec<_>>())
                    .bind(images.iter().map(|i| i.2).collect::<Vec<_>>())
                    .bind(now)
                    .bind(supplier)
                    .bind(job)
                    .execute(&mut *$tx)
                    .await?;
            }
        }};
    }
    macro_rules! body {
        ($p:ident, $products:ident, $rest:ident) => {{
            let mut tx = $p.begin().await?;
            $products!(tx);
            for chunk in writes.product_updates.chunks(ROWS_PER_STATEMENT) {
                let mut sql = QueryBuilder::new(
                    "with v (id, gtin, sku, title, description, brand_id, status, availability) as (",
                );
                sql.push_values(chunk, |mut row, update| {
                    row.push_bind(update.id)
                        .push_bind(update.gtin.clone())
                        .push_bind(update.sku.clone())
                        .push_bind(update.title.clone())
                        .push_bind(update.description.clone())
                        .push_bind(update.brand_id)
                        .push_bind(update.status)
                        .push_bind(update.availability);
                });
                sql.push(
                    ") update products set gtin = coalesce(v.gtin, products.gtin), sku = coalesce(v.sku, products.sku), \
                     title = coalesce(v.title, products.title), \
                     description = coalesce(v.description, products.description), \
                     brand_id = coalesce(v.brand_id, products.brand_id), status = coalesce(v.status, products.status), \
                     availability = coalesce(v.availability, products.availability), \
                     version = products.version + 1, updated_at = ",
                );
                sql.push_bind(now).push(" from v where products.id = v.id");
                sql.build().execute(&mut *tx).await?;
            }
            $rest!(tx);
            for (product, price_type, currency) in &writes.open_price_removals {
                sqlx::query(DELETE_OPEN_PRICE)
                    .bind(*product)
                    .bind(*price_type)
                    .bind(*currency)
                    .execute(&mut *tx)
                    .await?;
            }
            chunked!(
                tx,
                writes.seo,
                "insert into product_seo (id, product_id, locale, slug, meta_title, meta_description, created_at, \
                 updated_at) ",
                " on conflict (product_id, locale) do update set slug = excluded.slug, \
                 meta_title = excluded.meta_title, meta_description = excluded.meta_description, \
                 updated_at = excluded.updated_at",
                |row, (product, locale, slug, meta_title, meta_description)| {
                    row.push_bind(Uuid::now_v7())
                        .push_bind(*product)
                        .push_bind(locale.clone())
                        .push_bind(slug.clone())
                        .push_bind(meta_title.clone())
                        .push_bind(meta_description.clone())
                        .push_bind(now)
                        .push_bind(now)
                }
            );
            // Windowed prices replace a pair's windows whole (few rows: one statement each, on both backends).
            for (product, price_type, currency, windows) in &writes.price_windows {
                sqlx::query(DELETE_WINDOWS)
                    .bind(*product)
                    .bind(*price_type)
                    .bind(*currency)
                    .execute(&mut *tx)
                    .await?;
                for window in windows {
                    sqlx::query(INSERT_WINDOW)
                        .bind(Uuid::now_v7())
                        .bind(*product)
                        .bind(*price_type)
                        .bind(window.minor)
                        .bind(*currency)
                        .bind(window.from)
                        .bind(window.to)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            // After the offers: what their rows gave that the products did not take.
            for chunk in writes.not_taken.chunks(ROWS_PER_STATEMENT) {
                let mut sql = QueryBuilder::new("with v (supplier_sku, not_taken) as (");
                sql.push_values(chunk, |mut row, (sku, values)| {
                    row.push_bind(sku.clone()).push_bind(Json(values.clone()));
                });
                sql.push(") update supplier_products set not_taken = v.not_taken from v where supplier_products.supplier_id = ");
                sql.push_bind(supplier).push(" and supplier_products.supplier_sku = v.supplier_sku");
                sql.build().execute(&mut *tx).await?;
            }
            // The offers our `offers` column lists, as listed; a supplier SKU another product has stays that
            // product's (checked when planned; the condition keeps it so if it moved since).
            chunked!(
                tx,
                writes.listed_offers,
                "insert into supplier_products (id, product_id, supplier_id, supplier_sku, cost_minor, currency, \
                 stock, lead_time_days, is_available, last_import_job_id, created_at, updated_at) ",
                // The supplier's next file is compared with these values, not with its own last one (its row
                // hash is forgotten); the importing supplier's listed offers are this job's, so marking its missing
                // offers unavailable leaves them.
                " on conflict (supplier_id, supplier_sku) do update set cost_minor = excluded.cost_minor, \
                 currency = excluded.currency, stock = excluded.stock, lead_time_days = excluded.lead_time_days, \
                 is_available = excluded.is_available, row_hash = null, \
                 last_import_job_id = coalesce(excluded.last_import_job_id, supplier_products.last_import_job_id), \
                 updated_at = excluded.updated_at where supplier_products.product_id = excluded.product_id",
                |row, offer| {
                    row.push_bind(Uuid::now_v7())
                        .push_bind(offer.product_id)
                        .push_bind(offer.supplier_id)
                        .push_bind(offer.supplier_sku.clone())
                        .push_bind(offer.cost_minor)
                        .push_bind(offer.currency)
                        .push_bind(offer.stock)
                        .push_bind(offer.lead_time_days)
                        .push_bind(offer.is_available)
                        .push_bind((offer.supplier_id == supplier).then_some(job))
                        .push_bind(now)
                        .push_bind(now)
                }
            );
            chunked!(
                tx,
                writes.field_sources,
                crate::catalog::provenance::repo::UPSERT_SOURCES_HEAD,
                crate::catalog::provenance::repo::UPSERT_SOURCES_TAIL,
                |row, (product, field)| {
                    row.push_bind(*product)
                        .push_bind(field.clone())
                        .push_bind("supplier")
                        .push_bind(supplier)
                        .push_bind(job)
                        .push_bind(false)
                        .push_bind(now)
                }
            );
            chunked!(
                tx,
                writes.history,
                crate::catalog::provenance::repo::INSERT_HISTORY_HEAD,
                "",
                |row, (product, field, change, value)| {
                    row.push_bind(Uuid::now_v7())
                        .push_bind(*product)
                        .push_bind(field.clone())
                        .push_bind(change.as_str())
                        .push_bind(value.clone())
                        .push_bind("supplier")
                        .push_bind(supplier)
                        .push_bind(job)
                        .push_bind(now)
                }
            );
            chunked!(
                tx,
                writes.product_stocks,
                "insert into product_stocks (id, product_id, location, quantity, reserved, created_at, updated_at) ",
                // Never fewer on hand than promised to orders: the reservations are capped at the new quantity.
                " on conflict (product_id, location) do update set quantity = excluded.quantity, \
                 reserved = case when product_stocks.reserved > excluded.quantity then excluded.quantity \
                 else product_stocks.reserved end, updated_at = excluded.updated_at",
                |row, (product, location, quantity)| {
                    row.push_bind(Uuid::now_v7())
                        .push_bind(*product)
                        .push_bind(location.clone())
                        .push_bind(*quantity)
                        .push_bind(0_i64)
                        .push_bind(now)
                        .push_bind(now)
                }
            );
            chunked!(
                tx,
                writes.variants,
                "insert into product_variants (id, parent_product_id, product_id, options, position, created_at, \
                 updated_at) ",
                " on conflict (product_id) do update set parent_product_id = excluded.parent_product_id, \
                 options = excluded.options, updated_at = excluded.updated_at",
                |row, (parent, product, options)| {
                    row.push_bind(Uuid::now_v7())
                        .push_bind(*parent)
                        .push_bind(*product)
                        .push_bind(Json(options.clone()))
                        .push_bind(0_i32)
                        .push_bind(now)
                        .push_bind(now)
                }
            );
            let seen = [("is_available = true, ", &writes.seen_offers), ("", &writes.seen_unavailable_offers)];
            for (available, offers) in seen {
                for chunk in offers.chunks(ROWS_PER_STATEMENT) {
                    let mut sql = QueryBuilder::new("update supplier_products set ");
                    sql.push(available).push("last_seen_at = ").push_bind(now);
                    sql.push(", last_import_job_id = ").push_bind(job).push(" where id in (");
                    let mut list = sql.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    sql.push(")");
                    sql.build().execute(&mut *tx).await?;
                }
            }
            sqlx::query(UPSERT_CHECKPOINT)
                .bind(job)
                .bind(checkpoint.line)
                .bind(checkpoint.rows_read)
                .bind(checkpoint.rows_created)
                .bind(checkpoint.rows_updated)
                .bind(checkpoint.rows_unchanged)
                .bind(checkpoint.rows_invalid)
                .bind(checkpoint.gtins_dropped)
                .bind(now)
                .bind(checkpoint.fields_kept)
                .bind(checkpoint.rows_merged)
                .bind(checkpoint.products_created)
                .bind(checkpoint.products_updated)
                .bind(checkpoint.variants_created)
                .bind(checkpoint.images_dropped)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }};
    }
    with_pool!(
        pool,
        sqlite | p | body!(p, values_products, values_rest),
        postgres | p | body!(p, unnest_products, unnest_rest),
    )
}

const STORED_OFFER_FIELDS: &str = "select p.gtin, p.sku, p.title, p.description, o.cost_minor, o.currency, o.stock, \
     o.lead_time_days, p.id, p.availability from supplier_products o join products p on p.id = o.product_id where o.id = $1";

const PRICES_OF_PRODUCT: &str = "select product_id, price_type, currency, amount_minor, valid_from, valid_to \
     from product_prices where product_id = $1";

const SEO_OF_PRODUCT: &str = "select locale, slug, meta_title, meta_description from product_seo where product_id = $1";

const OWN_STOCK: &str = "select location, quantity from product_stocks where product_id = $1";

type OfferFieldsRow = (
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i32>,
    Uuid,
    Option<String>,
);

/// What is stored for an offer and its product, named as a dry run's diffs name the row's fields.
pub(crate) async fn stored_fields(pool: &DbPool, offer: Uuid) -> Result<HashMap<String, Option<String>>, sqlx::Error> {
    let row: Option<OfferFieldsRow> =
        with_pool!(pool, |p| sqlx::query_as(STORED_OFFER_FIELDS).bind(offer).fetch_optional(p).await)?;
    let mut fields = HashMap::new();
    let Some((gtin, sku, title, description, cost, currency, stock, lead_time, product, availability)) = row else {
        return Ok(fields);
    };
    fields.insert("gtin".to_string(), gtin);
    fields.insert("sku".to_string(), sku);
    fields.insert("title".to_string(), Some(title));
    fields.insert("description".to_string(), description);
    fields.insert("cost".to_string(), cost.zip(currency).map(|(minor, currency)| format!("{minor} {currency}")));
    fields.insert("stock".to_string(), stock.map(|s| s.to_string()));
    fields.insert("lead_time_days".to_string(), lead_time.map(|d| d.to_string()));
    fields.insert("availability".to_string(), availability);
    let prices: Vec<StoredPriceRow> =
        with_pool!(pool, |p| sqlx::query_as(PRICES_OF_PRODUCT).bind(product).fetch_all(p).await)?;
    for (field, value) in price_values(prices).into_values().flatten() {
        fields.insert(field, Some(value));
    }
    let seo: Vec<(String, String, Option<String>, Option<String>)> =
        with_pool!(pool, |p| sqlx::query_as(SEO_OF_PRODUCT).bind(product).fetch_all(p).await)?;
    for (locale, slug, meta_title, meta_description) in seo {
        let value = crate::catalog::provenance::seo_value(&slug, meta_title.as_deref(), meta_description.as_deref());
        fields.insert(crate::catalog::provenance::seo_field(&locale), Some(value));
    }
    // The product's own stock at each location (a shop's file sets it at `default`), beside the offer's.
    let own: Vec<(String, i64)> = with_pool!(pool, |p| sqlx::query_as(OWN_STOCK).bind(product).fetch_all(p).await)?;
    fields.insert("product_stock".to_string(), None);
    for (location, quantity) in own {
        fields.insert(crate::imports::mapping::product_stock_column(&location), Some(quantity.to_string()));
    }
    Ok(fields)
}

/// Refreshes the planner's statistics of the tables an import looks up (PostgreSQL: a fresh table's statistics say
/// it is empty, and a lookup of 1,000 keys then scans it whole; SQLite plans by its indexes alone).
pub(crate) async fn refresh_statistics(pool: &DbPool) -> Result<(), sqlx::Error> {
    with_pool!(
        pool,
        sqlite | _p | Ok(()),
        postgres | p | sqlx::query("analyze products, supplier_products").execute(p).await.map(|_| ()),
    )
}
