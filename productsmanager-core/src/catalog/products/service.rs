//! [`ProductService`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::model::{AttributeRow, ProductParts, ProductRow};
use super::query::{Cursor, CursorKey, Page, ProductQuery, ProductSort};
use super::repo::{self, Identifier};
use super::search::{self, Exact};
use super::{Attribute, AttributeValue, NewProduct, Product, ProductPatch};
use crate::Result;
use crate::cache::{CacheKind, TieredCache};
use crate::catalog::common::{
    SEARCH_GENERATION, cached_by_id, catalog_changed, db_error, duplicate_or_db, found, name_text, now, optional_text,
    product_changed, required_text,
};
use crate::catalog::offers::{OfferRow, offers_for_products};
use crate::catalog::prices::{PriceRow, prices_for_products};
use crate::catalog::provenance::{
    self, ChangeKind, FieldAction, FieldProvenance, FieldSource, ProductChange, is_provenance_field, price_field,
};
use crate::catalog::stock::stock_for_products;
use crate::catalog::{Asin, CatalogError, Gtin, Offer, Price, Sku, StockTotal, best_offer, current_prices};
use crate::db::DbPool;

const ENTITY: &str = "product";
/// Most attributes one product may carry.
const MAX_ATTRIBUTES: usize = 500;
/// Most ids one bulk read may ask for.
pub const MAX_BULK: usize = 1_000;

/// Creates, reads, updates and deletes products. Reads by id go through the cache (kind `products`).
///
/// ```no_run
/// # async fn demo(sdk: &productsmanager_core::Sdk) -> productsmanager_core::Result<()> {
/// use productsmanager_core::catalog::NewProduct;
///
/// let product = sdk
///     .products()
///     .create(NewProduct { gtin: "4006381333931".parse().ok(), title: "Stabilo pen".into(), ..Default::default() })
///     .await?;
/// assert_eq!(sdk.products().find("4006381333931").await?.id, product.id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ProductService {
    pool: DbPool,
    cache: TieredCache,
    /// Where searches, price changes and stock-outs are told (none: not recorded).
    events: Option<crate::analytics::AnalyticsEvents>,
    /// Whose searches these are, for search analytics; the person its writes are recorded as made by.
    user: Option<Uuid>,
    /// The source its writes are recorded as (a person, unless set: Code2ASIN).
    source: Option<FieldSource>,
    /// Where `imports.unranked_suppliers` is read when a released field is re-derived (none: its default).
    settings: Option<crate::settings::SettingsService>,
}

fn validated_attributes(attributes: &[Attribute]) -> Result<Vec<Attribute>, CatalogError> {
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(CatalogError::invalid("attributes", format!("at most {MAX_ATTRIBUTES} attributes")));
    }
    let mut seen = std::collections::HashSet::new();
    let mut clean = Vec::with_capacity(attributes.len());
    for (i, attribute) in attributes.iter().enumerate() {
        let field = |name: &str| format!("attributes[{i}].{name}");
        let name = name_text(&field("name"), &attribute.name, 100)?;
        if !seen.insert(name.to_lowercase()) {
            return Err(CatalogError::invalid(field("name"), format!("{name:?} appears twice")));
        }
        let value = match &attribute.value {
            AttributeValue::Text { value } => {
                AttributeValue::Text { value: required_text(&field("value"), value, 10_000)? }
            }
            AttributeValue::Number { value, unit } => {
                if !value.is_finite() {
                    return Err(CatalogError::invalid(field("value"), "must be a finite number"));
                }
                AttributeValue::Number { value: *value, unit: optional_text(&field("unit"), unit.as_deref(), 20)? }
            }
            AttributeValue::Boolean { value } => AttributeValue::Boolean { value: *value },
            AttributeValue::List { values } => AttributeValue::List {
                values: values
                    .iter()
                    .enumerate()
                    .map(|(j, v)| required_text(&format!("attributes[{i}].values[{j}]"), v, 1_000))
                    .collect::<Result<_, _>>()?,
            },
        };
        clean.push(Attribute { name, value });
    }
    Ok(clean)
}

/// The row and attribute rows a validated input describes. `needs_identifier`: the input must keep a GTIN or a
/// SKU (a new product, or one that has one: a write may not remove the last). A product an import made from a
/// supplier's file may have neither (it is known by its offers' supplier SKUs); it stays editable.
fn validated(
    id: Uuid,
    input: &NewProduct,
    version: i32,
    created_at: DateTime<Utc>,
    needs_identifier: bool,
) -> Result<(ProductRow, Vec<AttributeRow>), CatalogError> {
    if needs_identifier && input.gtin.is_none() && input.sku.is_none() {
        return Err(CatalogError::invalid("gtin", "a product needs a GTIN or a SKU"));
    }
    let attributes = validated_attributes(&input.attributes)?;
    let row = ProductRow {
        id,
        gtin: input.gtin.map(|g| g.as_gtin14()),
        asin: input.asin.as_ref().map(|a| a.as_str().to_string()),
        sku: input.sku.as_ref().map(|s| s.as_str().to_string()),
        title: name_text("title", &input.title, 500)?,
        description: optional_text("description", input.description.as_deref(), 100_000)?,
        brand_id: input.brand_id,
        status: input.status.unwrap_or_default().as_str().to_string(),
        availability: input.availability.map(|a| a.as_str().to_string()),
        version,
        created_at,
        updated_at: now(),
        deleted_at: None,
    };
    let attribute_rows = attributes.iter().map(|a| AttributeRow::from_attribute(id, a)).collect();
    Ok((row, attribute_rows))
}

/// Cache keys of a product's identifier lookups (`gtin:…`, `sku:…`, `asin:…` → id).
fn identifier_keys(product: &Product) -> Vec<String> {
    let mut keys = Vec::with_capacity(3);
    if let Some(gtin) = product.gtin {
        keys.push(format!("gtin:{}", gtin.as_gtin14()));
    }
    if let Some(sku) = &product.sku {
        keys.push(format!("sku:{sku}"));
    }
    if let Some(asin) = &product.asin {
        keys.push(format!("asin:{asin}"));
    }
    keys
}

/// Deepest result offset a search pages to.
const MAX_SEARCH_OFFSET: u32 = 10_000;

/// The words of a search: letters and digits, lower-cased; at most ten, each at most 50 characters.
fn search_terms(text: &str) -> Result<Vec<String>, CatalogError> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(50).collect::<String>().to_lowercase())
        .take(10)
        .collect();
    if terms.is_empty() {
        return Err(CatalogError::invalid("q", "give at least one word or number to search for"));
    }
    Ok(terms)
}

/// The fields of `current` that `row` changes, named as provenance names them, each with the value it takes (a
/// brand by id).
fn changed_fields(current: &Product, row: &ProductRow) -> Vec<(String, Option<String>)> {
    let mut changed = Vec::new();
    let mut compare = |field: &str, before: Option<String>, after: Option<&str>| {
        if before.as_deref() != after {
            changed.push((field.to_string(), after.map(str::to_string)));
        }
    };
    compare("gtin", current.gtin.as_ref().map(Gtin::as_gtin14), row.gtin.as_deref());
    compare("asin", current.asin.as_ref().map(|a| a.as_str().to_string()), row.asin.as_deref());
    compare("sku", current.sku.as_ref().map(|s| s.as_str().to_string()), row.sku.as_deref());
    compare("title", Some(current.title.clone()), Some(&row.title));
    compare("description", current.description.clone(), row.description.as_deref());
    compare("brand", current.brand_id.map(|b| b.to_string()), row.brand_id.map(|b| b.to_string()).as_deref());
    compare("status", Some(current.status.as_str().to_string()), Some(&row.status));
    compare("availability", current.availability.map(|a| a.as_str().to_string()), row.availability.as_deref());
    changed
}

/// The attributes of `current` that `rows` add, change or remove, named as provenance names them (`attribute:color`),
/// each with the value it takes (`None`: removed).
fn changed_attributes(current: &Product, rows: &[AttributeRow]) -> Vec<(String, Option<String>)> {
    let before: HashMap<String, String> =
        current.attributes.iter().map(|a| (a.name.to_lowercase(), a.value.shown())).collect();
    let after: HashMap<String, String> = rows
        .iter()
        .filter_map(|row| row.clone().into_attribute())
        .map(|a| (a.name.to_lowercase(), a.value.shown()))
        .collect();
    let mut changed: Vec<(String, Option<String>)> = after
        .iter()
        .filter(|(name, value)| before.get(*name) != Some(*value))
        .map(|(name, value)| (provenance::attribute_field(name), Some(value.clone())))
        .chain(
            before
                .keys()
                .filter(|name| !after.contains_key(*name))
                .map(|name| (provenance::attribute_field(name), None)),
        )
        .collect();
    changed.sort();
    changed
}

/// Maps a failed write: a taken identifier is `Duplicate`, an unknown brand is `Invalid`.
fn write_error(error: sqlx::Error, row: &ProductRow) -> crate::Error {
    if let sqlx::Error::Database(e) = &error
        && e.is_foreign_key_violation()
    {
        return CatalogError::invalid("brand_id", format!("no brand with id {}", row.brand_id.unwrap_or_default()))
            .into();
    }
    let fields = [
        ("gtin", row.gtin.as_deref().unwrap_or("")),
        ("sku", row.sku.as_deref().unwrap_or("")),
        ("asin", row.asin.as_deref().unwrap_or("")),
    ];
    duplicate_or_db(error, ENTITY, &fields)
}

impl ProductService {
    pub(crate) fn new(pool: DbPool, cache: TieredCache) -> Self {
        ProductService { pool, cache, events: None, user: None, source: None, settings: None }
    }

    /// The same service, reading the settings a released field's re-derivation needs from `settings`.
    pub(crate) fn with_settings(mut self, settings: crate::settings::SettingsService) -> Self {
        self.settings = Some(settings);
        self
    }

    /// The same service, telling `events` about searches, price changes and stock-outs.
    pub(crate) fn with_events(mut self, events: crate::analytics::AnalyticsEvents) -> Self {
        self.events = Some(events);
        self
    }

    /// The same service, its searches recorded as `user`'s and its writes as made by `user` (the HTTP adapter
    /// passes the caller).
    pub fn on_behalf_of(mut self, user: Uuid) -> Self {
        self.user = Some(user);
        self
    }

    /// The same service, its writes recorded as made by `source` rather than by a person (Code2ASIN's ASINs).
    pub fn as_source(mut self, source: FieldSource) -> Self {
        self.source = Some(source);
        self
    }

    /// Who this service's writes are recorded as made by: a person unless [`ProductService::as_source`] said
    /// otherwise.
    pub(crate) fn writer(&self) -> FieldSource {
        self.source.unwrap_or(FieldSource::User { user_id: self.user })
    }

    /// Tells the analytics recorder, if there is one.
    pub(crate) fn record(&self, kind: crate::analytics::EventKind) {
        if let Some(events) = &self.events {
            events.record(crate::analytics::AnalyticsEvent::now(kind));
        }
    }

    /// Rows to products: attributes, prices, offers and stock of all of them in one query each, so a page
    /// costs the same five queries (with the rows' own) whatever its size.
    /// The catalog pool (for the reads of sibling modules).
    pub(super) fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// The catalog pool, for the catalog's other services (merges).
    pub(crate) fn catalog_pool(&self) -> &DbPool {
        &self.pool
    }

    /// The cache, for the catalog's other services (merges).
    pub(crate) fn cache(&self) -> &TieredCache {
        &self.cache
    }

    async fn assemble(&self, rows: Vec<ProductRow>) -> Result<Vec<Product>> {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let (attribute_rows, price_rows, offer_rows, levels) = futures_util::try_join!(
            repo::attributes_of(&self.pool, &ids),
            prices_for_products(&self.pool, &ids),
            offers_for_products(&self.pool, &ids),
            stock_for_products(&self.pool, &ids),
        )
        .map_err(db_error)?;
        let mut parts: HashMap<Uuid, ProductParts> = HashMap::with_capacity(ids.len());
        for row in attribute_rows {
            let product_id = row.product_id;
            if let Some(attribute) = row.into_attribute() {
                parts.entry(product_id).or_default().attributes.push(attribute);
            }
        }
        let mut prices: HashMap<Uuid, Vec<Price>> = HashMap::new();
        for price in price_rows.into_iter().filter_map(PriceRow::into_price) {
            prices.entry(price.product_id).or_default().push(price);
        }
        let at = now();
        for (product_id, all) in prices {
            parts.entry(product_id).or_default().prices = current_prices(&all, at);
        }
        let mut offers: HashMap<Uuid, Vec<Offer>> = HashMap::new();
        for offer in offer_rows.into_iter().map(OfferRow::into_offer) {
            offers.entry(offer.product_id).or_default().push(offer);
        }
        for (product_id, all) in offers {
            parts.entry(product_id).or_default().best_offer = best_offer(&all).cloned();
        }
        let mut by_product: HashMap<Uuid, Vec<_>> = HashMap::new();
        for level in levels {
            by_product.entry(level.product_id).or_default().push(level);
        }
        for (product_id, levels) in by_product {
            parts.entry(product_id).or_default().stock = StockTotal::of(&levels);
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                let own = parts.remove(&row.id).unwrap_or_default();
                row.into_product(own)
            })
            .collect())
    }

    async fn load(&self, id: Uuid) -> Result<Option<Product>> {
        let Some(row) = repo::by_id(&self.pool, id).await.map_err(db_error)? else { return Ok(None) };
        if row.deleted_at.is_some() {
            return Ok(None);
        }
        Ok(self.assemble(vec![row]).await?.pop())
    }

    /// Drops the cached product, its identifier lookups (as they were and as they are) and the search generation.
    pub(crate) async fn forget(&self, id: Uuid, identifiers: &[&Product]) {
        for product in identifiers {
            for key in identifier_keys(product) {
                self.cache.invalidate(CacheKind::Products, &key).await;
            }
        }
        product_changed(&self.cache, id).await;
    }

    /// Creates a product (status `draft` unless given). GTIN, SKU and ASIN are unique among live products.
    pub async fn create(&self, input: NewProduct) -> Result<Product> {
        let (row, attributes) = validated(Uuid::now_v7(), &input, 1, now(), true)?;
        repo::insert(&self.pool, &row, &attributes, self.writer()).await.map_err(|e| write_error(e, &row))?;
        self.refresh_search(row.id).await;
        catalog_changed(&self.cache).await;
        let attributes = attributes.into_iter().filter_map(AttributeRow::into_attribute).collect();
        Ok(row.into_product(ProductParts { attributes, ..Default::default() }))
    }

    /// The live product with this id; for a product merged into another, the product it was merged into (its
    /// `id` says which).
    pub async fn get(&self, id: Uuid) -> Result<Product> {
        match cached_by_id(&self.cache, CacheKind::Products, ENTITY, id, || self.load(id)).await {
            Err(e) if e.kind() == crate::ErrorKind::NotFound => self.survivor(id, e).await,
            other => other,
        }
    }

    /// The live product that a merged product (`merged`) now is, following merges of merges; `not_found` when it
    /// was not merged.
    async fn survivor(&self, merged: Uuid, not_found: crate::Error) -> Result<Product> {
        let mut id = merged;
        // A chain of merges is short; a bound keeps a corrupt loop from spinning.
        for _ in 0..16 {
            let Some(next) = crate::catalog::merges::repo::survivor_of(&self.pool, id).await.map_err(db_error)? else {
                break;
            };
            match cached_by_id(&self.cache, CacheKind::Products, ENTITY, next, || self.load(next)).await {
                Err(e) if e.kind() == crate::ErrorKind::NotFound => id = next,
                other => return other,
            }
        }
        Err(not_found)
    }

    /// The live product with this GTIN (any length).
    pub async fn get_by_gtin(&self, gtin: &Gtin) -> Result<Product> {
        self.by_identifier(Identifier::Gtin, &gtin.as_gtin14(), &gtin.to_string()).await
    }

    /// The live product with this SKU.
    pub async fn get_by_sku(&self, sku: &Sku) -> Result<Product> {
        self.by_identifier(Identifier::Sku, sku.as_str(), sku.as_str()).await
    }

    /// The live product with this ASIN.
    pub async fn get_by_asin(&self, asin: &Asin) -> Result<Product> {
        self.by_identifier(Identifier::Asin, asin.as_str(), asin.as_str()).await
    }

    async fn by_identifier(&self, field: Identifier, stored: &str, shown: &str) -> Result<Product> {
        let key = match field {
            Identifier::Gtin => format!("gtin:{stored}"),
            Identifier::Sku => format!("sku:{stored}"),
            Identifier::Asin => format!("asin:{stored}"),
        };
        let pool = &self.pool;
        let id = self
            .cache
            .get_or_load(CacheKind::Products, &key, || async move {
                let row = repo::by_identifier(pool, field, stored).await.map_err(db_error)?;
                if let Some(row) = row {
                    return Ok(row.id);
                }
                // A product merged into another: its identifiers lead to the survivor.
                let survivor = crate::catalog::merges::repo::survivor_by_identifier(pool, field, stored)
                    .await
                    .map_err(db_error)?;
                found(ENTITY, shown, survivor)
            })
            .await?;
        self.get(*id).await
    }

    /// The live product a key names: an id, else a GTIN, else a SKU, else an ASIN, else a supplier's SKU (the SKU
    /// of a shop's export, a supplier's reference) when it names one live product; one that several products are
    /// offered under is refused, naming them.
    pub async fn find(&self, key: &str) -> Result<Product> {
        let key = key.trim();
        if let Ok(id) = Uuid::parse_str(key) {
            return self.get(id).await;
        }
        if let Ok(gtin) = key.parse::<Gtin>() {
            match self.get_by_gtin(&gtin).await {
                Err(e) if e.kind() == crate::ErrorKind::NotFound => {}
                other => return other,
            }
        }
        if let Ok(sku) = key.parse::<Sku>() {
            match self.get_by_sku(&sku).await {
                Err(e) if e.kind() == crate::ErrorKind::NotFound => {}
                other => return other,
            }
        }
        if let Ok(asin) = key.parse::<Asin>() {
            match self.get_by_asin(&asin).await {
                Err(e) if e.kind() == crate::ErrorKind::NotFound => {}
                other => return other,
            }
        }
        self.offered_as(key).await
    }

    /// The one live product offered under this supplier SKU.
    async fn offered_as(&self, supplier_sku: &str) -> Result<Product> {
        let not_found = || CatalogError::not_found(ENTITY, supplier_sku);
        if supplier_sku.is_empty() || supplier_sku.len() > 255 {
            return Err(not_found().into());
        }
        let ids =
            crate::catalog::offers::repo::products_offered_as(&self.pool, supplier_sku, 11).await.map_err(db_error)?;
        let mut live = self.get_many(&ids).await?;
        match live.len() {
            0 => Err(not_found().into()),
            1 => Ok(live.remove(0)),
            n => {
                let more = if ids.len() > 10 { " and more" } else { "" };
                let skus: Vec<String> = live
                    .iter()
                    .take(10)
                    .map(|p| p.sku.as_ref().map_or_else(|| p.id.to_string(), ToString::to_string))
                    .collect();
                let reason = format!(
                    "{supplier_sku:?} is a supplier SKU of {n} products ({}{more}): name one by its id, GTIN or SKU",
                    skus.join(", ")
                );
                Err(CatalogError::invalid("product", reason).into())
            }
        }
    }

    /// The live products among these ids, in the order asked; unknown or deleted ids are left out. Two queries
    /// whatever the number of ids (at most [`MAX_BULK`]).
    pub async fn get_many(&self, ids: &[Uuid]) -> Result<Vec<Product>> {
        if ids.len() > MAX_BULK {
            return Err(CatalogError::invalid("ids", format!("at most {MAX_BULK} ids per call")).into());
        }
        let rows = repo::many(&self.pool, ids).await.map_err(db_error)?;
        let live: Vec<ProductRow> = rows.into_iter().filter(|r| r.deleted_at.is_none()).collect();
        let mut by_id: HashMap<Uuid, Product> = self.assemble(live).await?.into_iter().map(|p| (p.id, p)).collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// One page of live products matching `query`, each with attributes, current prices, stock and best offer.
    /// Always five queries (the page, then one each for attributes, prices, offers and stock), whatever the page
    /// size; `tests/query_count.rs` counts them.
    ///
    /// With `query.q`, this is [`ProductService::search`].
    pub async fn list(&self, query: &ProductQuery) -> Result<Page<Product>> {
        if let Some(text) = query.q.as_deref() {
            return self.search(text, query).await;
        }
        query.check()?;
        let limit = query.page_size()?;
        let cursor = query.cursor.as_deref().map(|c| Cursor::decode(c, query)).transpose()?;
        let mut rows = repo::list(&self.pool, query, cursor.as_ref(), limit + 1, now()).await.map_err(db_error)?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = match rows.last() {
            Some(last) if more => Some(
                Cursor {
                    sort: query.sort,
                    descending: query.descending,
                    key: match query.sort {
                        ProductSort::UpdatedAt => CursorKey::Instant(last.updated_at),
                        ProductSort::CreatedAt => CursorKey::Instant(last.created_at),
                        ProductSort::Title => CursorKey::Text(last.title.clone()),
                    },
                    id: last.id,
                }
                .encode(),
            ),
            _ => None,
        };
        Ok(Page { items: self.assemble(rows).await?, next_cursor })
    }

    /// Full-text search over title, description, brand, SKU, GTIN, ASIN and supplier SKUs, with the listing's
    /// filters. Every word must match, the last one as a prefix (`cordless dri` finds "cordless drill"); an
    /// exact GTIN, SKU or supplier SKU
    /// comes first, then the most relevant. Pages by offset: `next_cursor` is the offset of the next page.
    pub async fn search(&self, text: &str, query: &ProductQuery) -> Result<Page<Product>> {
        let started = std::time::Instant::now();
        query.check()?;
        let terms = search_terms(text)?;
        let limit = query.page_size()?;
        let offset = match query.cursor.as_deref() {
            None => 0,
            Some(cursor) => cursor.parse::<u32>().ok().filter(|o| *o <= MAX_SEARCH_OFFSET).ok_or_else(|| {
                CatalogError::invalid("cursor", "not a cursor of this search; start again without one")
            })?,
        };
        let exact = Exact { gtin: text.parse::<Gtin>().ok().map(|g| g.as_gtin14()), code: text.trim().to_string() };
        // Results are cached under the current generation, which every catalog write replaces: a search never
        // shows the catalog as it was before a write.
        let generation = self
            .cache
            .get_or_load(CacheKind::SearchResults, SEARCH_GENERATION, || async { Ok(Uuid::now_v7()) })
            .await?;
        // Keyed by a digest of the request: the request itself can be long and holds user text.
        let request = serde_json::to_vec(&(&terms, &exact.code, query, offset)).unwrap_or_default();
        let key = format!("{generation}:{:x}", Sha256::digest(&request));
        let page = self
            .cache
            .get_or_load(CacheKind::SearchResults, &key, || async {
                let mut rows = search::search(&self.pool, &terms, &exact, query, limit + 1, offset, now())
                    .await
                    .map_err(db_error)?;
                let more = rows.len() > limit as usize;
                rows.truncate(limit as usize);
                let next_cursor = (more && offset + limit <= MAX_SEARCH_OFFSET).then(|| (offset + limit).to_string());
                Ok(Page { items: self.assemble(rows).await?, next_cursor })
            })
            .await?;
        // A first page is a search; the next pages are the same search read on.
        if offset == 0 {
            self.record(crate::analytics::EventKind::Search(crate::analytics::SearchEvent {
                query: text.to_string(),
                filters: search_filters(query),
                result_count: u32::try_from(page.items.len()).unwrap_or(u32::MAX),
                latency_ms: started.elapsed().as_secs_f64() * 1000.0,
                user_id: self.user,
            }));
        }
        Ok(Page::clone(&page))
    }

    /// Rebuilds the search index of every live product; returns how many were indexed. For repairs: writes keep
    /// it current.
    pub async fn reindex(&self) -> Result<u64> {
        search::rebuild(&self.pool).await.map_err(db_error)
    }

    /// Rewrites a product's search document after a write. A failure leaves the document stale, not the write
    /// undone (the write has committed): it is logged and counted, and `reindex` repairs it.
    pub(crate) async fn refresh_search(&self, id: Uuid) {
        if let Err(e) = search::refresh(&self.pool, id).await {
            metrics::counter!("search_index_errors_total").increment(1);
            tracing::error!(product = %id, error = %e, "search document not refreshed; run `products reindex`");
        }
    }

    /// Replaces every field of a product. With `input.version`, refuses if the product changed since.
    pub async fn update(&self, id: Uuid, input: NewProduct) -> Result<Product> {
        let current = self.get(id).await?;
        let id = current.id; // a merged product's id names its survivor
        let expected = input.version.unwrap_or(current.version);
        let has_identifier = current.gtin.is_some() || current.sku.is_some();
        let (row, attributes) = validated(id, &input, expected + 1, current.created_at, has_identifier)?;
        self.store(&current, row, attributes, expected).await
    }

    /// Changes the given fields of a product. With `patch.version`, refuses if the product changed since.
    pub async fn patch(&self, id: Uuid, patch: ProductPatch) -> Result<Product> {
        let current = self.get(id).await?;
        let id = current.id; // a merged product's id names its survivor
        let expected = patch.version.unwrap_or(current.version);
        let input = NewProduct {
            gtin: patch.gtin.unwrap_or(current.gtin),
            asin: patch.asin.unwrap_or_else(|| current.asin.clone()),
            sku: patch.sku.unwrap_or_else(|| current.sku.clone()),
            title: patch.title.unwrap_or_else(|| current.title.clone()),
            description: patch.description.unwrap_or_else(|| current.description.clone()),
            brand_id: patch.brand_id.unwrap_or(current.brand_id),
            status: Some(patch.status.unwrap_or(current.status)),
            availability: patch.availability.unwrap_or(current.availability),
            attributes: patch.attributes.unwrap_or_else(|| current.attributes.clone()),
            version: Some(expected),
        };
        let has_identifier = current.gtin.is_some() || current.sku.is_some();
        let (row, attributes) = validated(id, &input, expected + 1, current.created_at, has_identifier)?;
        self.store(&current, row, attributes, expected).await
    }

    async fn store(
        &self,
        current: &Product,
        row: ProductRow,
        attributes: Vec<AttributeRow>,
        expected: i32,
    ) -> Result<Product> {
        let id = row.id;
        let mut changed = changed_fields(current, &row);
        changed.extend(changed_attributes(current, &attributes));
        let names: Vec<String> = changed.iter().map(|(field, _)| field.clone()).collect();
        self.refuse_locked(id, &names).await?;
        self.keep_suppliers_word(current, &names).await?;
        let provenance = (changed.as_slice(), self.writer());
        let written = repo::update(&self.pool, &row, &attributes, expected, provenance)
            .await
            .map_err(|e| write_error(e, &row))?;
        self.forget(id, &[current]).await;
        if written {
            self.refresh_search(id).await;
        }
        if !written {
            // Deleted meanwhile, or changed by someone else.
            let now_stored = repo::by_id(&self.pool, id).await.map_err(db_error)?;
            return Err(match now_stored {
                Some(stored) if stored.deleted_at.is_none() => CatalogError::VersionConflict {
                    entity: ENTITY,
                    id,
                    expected: i64::from(expected),
                    actual: i64::from(stored.version),
                }
                .into(),
                _ => CatalogError::not_found(ENTITY, id).into(),
            });
        }
        // Re-read: prices, stock and offers are not part of the write.
        self.get(id).await
    }

    /// Before this service's writer replaces `fields` of `current`, the values suppliers set go to their offers (a
    /// supplier's own writes, a re-derived field, replace nothing of another's).
    async fn keep_suppliers_word(&self, current: &Product, fields: &[String]) -> Result<()> {
        if matches!(self.writer(), FieldSource::Supplier { .. }) || fields.is_empty() {
            return Ok(());
        }
        let brands = match current.brand_id {
            Some(brand) if fields.iter().any(|f| f == "brand") => {
                crate::catalog::brands::names_of(&self.pool, &[brand]).await.map_err(db_error)?
            }
            _ => HashMap::new(),
        };
        let before = |field: &str| -> Option<String> {
            match field {
                "gtin" => current.gtin.as_ref().map(Gtin::as_gtin14),
                "asin" => current.asin.as_ref().map(|a| a.as_str().to_string()),
                "sku" => current.sku.as_ref().map(|s| s.as_str().to_string()),
                "title" => Some(current.title.clone()),
                "description" => current.description.clone(),
                "brand" => current.brand_id.and_then(|b| brands.get(&b).cloned()),
                "status" => Some(current.status.as_str().to_string()),
                "availability" => current.availability.map(|a| a.as_str().to_string()),
                _ => {
                    let name = field.strip_prefix("attribute:")?;
                    current.attributes.iter().find(|a| a.name.to_lowercase() == name).map(|a| a.value.shown())
                }
            }
        };
        let replaced: Vec<(String, String)> =
            fields.iter().filter_map(|field| before(field).map(|value| (field.clone(), value))).collect();
        provenance::repo::keep_suppliers_word(&self.pool, current.id, &replaced).await.map_err(db_error)
    }

    /// Refuses a write of `fields` of `product` when one of them is locked.
    pub(crate) async fn refuse_locked(&self, product: Uuid, fields: &[String]) -> Result<()> {
        if fields.is_empty() {
            return Ok(());
        }
        let rows = provenance::repo::sources_of(&self.pool, &[product]).await.map_err(db_error)?;
        match rows.iter().find(|r| r.locked && fields.contains(&r.field)) {
            Some(locked) => Err(CatalogError::invalid(
                &locked.field,
                "is locked: unlock it (`provenance` of the product) before changing it",
            )
            .into()),
            None => Ok(()),
        }
    }

    /// Where each field of the product got its current value: a person, a supplier's import (with the job), a
    /// platform, Code2ASIN; when; and whether it is locked. Every field the product has is listed, and every field
    /// with a rule of its own.
    ///
    /// ```no_run
    /// # async fn demo(sdk: &productsmanager_core::Sdk, id: uuid::Uuid) -> productsmanager_core::Result<()> {
    /// use productsmanager_core::catalog::FieldSource;
    ///
    /// for field in sdk.products().provenance(id).await? {
    ///     if let FieldSource::Supplier { .. } = field.source {
    ///         println!("{} from {:?}, {}", field.field, field.source_name, field.set_at);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn provenance(&self, id: Uuid) -> Result<Vec<FieldProvenance>> {
        let product = self.get(id).await?;
        let id = product.id;
        let ids = [id];
        let (origins, rows) = futures_util::try_join!(
            provenance::repo::origins_of(&self.pool, &ids),
            provenance::repo::sources_of(&self.pool, &ids),
        )
        .map_err(db_error)?;
        let origin = origins.first().map(|o| o.source()).unwrap_or(FieldSource::Unknown);
        let mut fields: Vec<String> = ["title", "status"].map(String::from).to_vec();
        for (field, present) in [
            ("description", product.description.is_some()),
            ("brand", product.brand_id.is_some()),
            ("sku", product.sku.is_some()),
            ("gtin", product.gtin.is_some()),
            ("asin", product.asin.is_some()),
            ("availability", product.availability.is_some()),
        ] {
            if present {
                fields.push(field.to_string());
            }
        }
        let (levels, links, images, prices, seo) = futures_util::try_join!(
            stock_for_products(&self.pool, &ids),
            crate::catalog::categories::links_of(&self.pool, id),
            crate::catalog::image_urls::sources_of(&self.pool, id),
            prices_for_products(&self.pool, &ids),
            crate::catalog::variants::seo_of_products(&self.pool, &ids),
        )
        .map_err(db_error)?;
        fields.extend(seo.iter().map(|s| provenance::seo_field(&s.locale)));
        // Every price, not only those that apply now: an open-ended one is a field, a pair's windows another.
        for price in &prices {
            let field = match price.valid_from.is_none() && price.valid_to.is_none() {
                true => price_field(&price.price_type, &price.currency),
                false => provenance::price_windows_field(&price.price_type, &price.currency),
            };
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
        for attribute in &product.attributes {
            fields.push(provenance::attribute_field(&attribute.name));
        }
        for level in &levels {
            fields.push(provenance::stock_field(&level.location));
        }
        for row in &rows {
            if !fields.contains(&row.field) {
                fields.push(row.field.clone());
            }
        }
        // Category links and image URLs: each with who added it (no lock of its own: the collection's applies).
        let category_ids: Vec<Uuid> = links.iter().map(|l| l.category_id).collect();
        let paths = crate::catalog::categories::name_paths(&self.pool, &category_ids).await.map_err(db_error)?;
        let locked = |field: &str| rows.iter().any(|r| r.field == field && r.locked);
        let members: Vec<(String, FieldSource, DateTime<Utc>, bool)> = links
            .iter()
            .map(|l| {
                let path = paths.get(&l.category_id).cloned().unwrap_or_else(|| l.category_id.to_string());
                let source = FieldSource::from_columns(l.source_kind.as_deref(), l.source_id, l.job_id);
                (format!("category:{path}"), source, l.created_at, locked(provenance::CATEGORIES_FIELD))
            })
            .chain(images.iter().map(|i| {
                let source = FieldSource::from_columns(i.source_kind.as_deref(), i.source_id, i.job_id);
                (format!("image:{}", i.url), source, i.created_at, locked(provenance::IMAGES_FIELD))
            }))
            .collect();
        let suppliers: Vec<Uuid> = rows
            .iter()
            .map(|r| r.source())
            .chain(members.iter().map(|m| m.1))
            .chain([origin])
            .filter_map(|source| match source {
                FieldSource::Supplier { supplier_id, .. } => Some(supplier_id),
                _ => None,
            })
            .collect();
        let names = crate::catalog::suppliers::names_of(&self.pool, &suppliers).await.map_err(db_error)?;
        Ok(fields
            .into_iter()
            .map(|field| {
                let row = rows.iter().find(|r| r.field == field);
                let source =
                    row.map(|r| r.source()).unwrap_or_else(|| provenance::implicit_source(&field, true, origin));
                let source_name = match source {
                    FieldSource::Supplier { supplier_id, .. } => names.get(&supplier_id).cloned(),
                    _ => None,
                };
                // A stock level without a source of its own: when it last changed.
                let level_at =
                    levels.iter().find(|l| provenance::stock_field(&l.location) == field).map(|l| l.updated_at);
                FieldProvenance {
                    set_at: row.map(|r| r.set_at).or(level_at).unwrap_or(product.created_at),
                    locked: row.is_some_and(|r| r.locked),
                    field,
                    source,
                    source_name,
                }
            })
            .chain(members.into_iter().map(|(field, source, set_at, locked)| FieldProvenance {
                source_name: match source {
                    FieldSource::Supplier { supplier_id, .. } => names.get(&supplier_id).cloned(),
                    _ => None,
                },
                field,
                source,
                set_at,
                locked,
            }))
            .collect())
    }

    /// The product's history, newest first (at most `limit`, 1 to 1,000): each change of a field with the source
    /// that made it and the value before, locks and releases, merges — with the history of every product merged
    /// into it. The values it was created with are its origin's ([`ProductService::provenance`]) and not listed.
    ///
    /// ```no_run
    /// # async fn demo(sdk: &productsmanager_core::Sdk) -> productsmanager_core::Result<()> {
    /// let product = sdk.products().find("4006381333931").await?;
    /// for change in sdk.products().history(product.id, 20).await? {
    ///     println!("{} {} {:?} → {:?} by {:?}", change.changed_at, change.field, change.previous, change.value, change.source);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn history(&self, id: Uuid, limit: u32) -> Result<Vec<ProductChange>> {
        if !(1..=1_000).contains(&limit) {
            return Err(CatalogError::invalid("limit", "must be between 1 and 1000").into());
        }
        let product = self.get(id).await?;
        let mut ids = vec![product.id];
        ids.extend(crate::catalog::merges::repo::merged_into(&self.pool, product.id).await.map_err(db_error)?);
        let rows = provenance::repo::history_of(&self.pool, &ids).await.map_err(db_error)?;
        let (mut suppliers, mut brands) = (Vec::new(), Vec::new());
        for row in &rows {
            if let FieldSource::Supplier { supplier_id, .. } = row.source() {
                suppliers.push(supplier_id);
            }
            if row.field == "brand"
                && let Some(brand) = row.value.as_deref().and_then(|v| Uuid::parse_str(v).ok())
            {
                brands.push(brand);
            }
        }
        suppliers.sort_unstable();
        suppliers.dedup();
        brands.sort_unstable();
        brands.dedup();
        let (supplier_names, brand_names) = futures_util::try_join!(
            crate::catalog::suppliers::names_of(&self.pool, &suppliers),
            crate::catalog::brands::names_of(&self.pool, &brands),
        )
        .map_err(db_error)?;
        // Oldest first: each entry's previous value is its field's entry before it (of the same product).
        let mut last: HashMap<(Uuid, String), Option<String>> = HashMap::new();
        let mut changes: Vec<ProductChange> = rows
            .into_iter()
            .map(|row| {
                let source = row.source();
                let change = ChangeKind::from_stored(&row.change);
                let value = row.value.as_deref().map(|v| shown_value(&row.field, v, &brand_names));
                let previous = if change == ChangeKind::Set {
                    last.insert((row.product_id, row.field.clone()), value.clone()).flatten()
                } else {
                    None
                };
                ProductChange {
                    id: row.id,
                    product_id: row.product_id,
                    source_name: match source {
                        FieldSource::Supplier { supplier_id, .. } => supplier_names.get(&supplier_id).cloned(),
                        _ => None,
                    },
                    field: row.field,
                    change,
                    value,
                    previous,
                    source,
                    changed_at: row.changed_at,
                }
            })
            .collect();
        changes.reverse();
        changes.truncate(limit as usize);
        Ok(changes)
    }

    /// Locks or unlocks a field of a product, or makes it follow the suppliers again: it takes at once the value of
    /// the supplier that comes first among those that gave it (the value its last file gave that the product did
    /// not take, else the value it last set), and the next supplier import that gives it sets it, even from a file
    /// it took before. `field` as [`ProductService::provenance`] names it; `categories` and `images` take locks
    /// (imports add none while locked) and are not re-derived.
    pub async fn set_field_rule(&self, id: Uuid, field: &str, action: FieldAction) -> Result<Vec<FieldProvenance>> {
        let id = self.get(id).await?.id;
        if !is_provenance_field(field) {
            return Err(CatalogError::invalid(
                "field",
                format!(
                    "{field:?} is not a field with provenance: title, description, brand, status, availability, sku, gtin, asin, \
                     price:<type>:<currency> (price:retail:EUR), price_windows:<type>:<currency> (the windowed \
                     prices of a type and currency), seo:<locale> (seo:en), attribute:<name in lower case> (attribute:color), \
                     stock (stock:<location> for another than `default`), categories or images"
                ),
            )
            .into());
        }
        provenance::repo::apply(&self.pool, id, field, action, (self.writer(), now())).await.map_err(db_error)?;
        if action != FieldAction::Lock {
            // The supplier files taken before are applied again: an unchanged row is otherwise skipped.
            crate::catalog::offers::forget_row_hashes(&self.pool, id).await.map_err(db_error)?;
        }
        if action == FieldAction::FollowSuppliers {
            self.rederive(id, field).await?;
        }
        product_changed(&self.cache, id).await;
        self.provenance(id).await
    }

    /// Gives a released field the value of the supplier that comes first among those that said one. A value that
    /// can no longer be written (a GTIN another product took since) leaves the field following the suppliers, as
    /// its provenance then shows, with a warning in the log.
    async fn rederive(&self, id: Uuid, field: &str) -> Result<()> {
        if matches!(field, provenance::CATEGORIES_FIELD | provenance::IMAGES_FIELD) {
            return Ok(());
        }
        let ids = [id];
        let (offers, history, origins) = futures_util::try_join!(
            offers_for_products(&self.pool, &ids),
            provenance::repo::history_of(&self.pool, &ids),
            provenance::repo::origins_of(&self.pool, &ids),
        )
        .map_err(db_error)?;
        let said = provenance::rederive::said(field, &offers, &history);
        if said.is_empty() {
            return Ok(());
        }
        let ranks = crate::catalog::suppliers::ranks(&self.pool).await.map_err(db_error)?;
        let unranked = match &self.settings {
            Some(settings) if settings.get::<String>("imports.unranked_suppliers").await? == "latest_file" => {
                provenance::Unranked::LatestFile
            }
            _ => provenance::Unranked::CreatorFirst,
        };
        let origin = match origins.first().map(|o| o.source()) {
            Some(FieldSource::Supplier { supplier_id, .. }) => Some(supplier_id),
            _ => None,
        };
        let group = provenance::FieldGroup::of(field);
        let order = provenance::SupplierOrder { ranks: &ranks, group, origin, unranked };
        let Some(chosen) = provenance::rederive::choose(said, order) else { return Ok(()) };
        let source = FieldSource::Supplier { supplier_id: chosen.supplier, job_id: chosen.job };
        match self.clone().as_source(source).write_field(id, field, &chosen.value).await {
            Ok(()) => {}
            // The supplier's value no longer fits (a GTIN another product took since, a value now refused): the
            // field stays released, as its provenance says, and the next supplier file that gives it sets it.
            Err(error) if matches!(error.kind(), crate::ErrorKind::Invalid | crate::ErrorKind::Conflict) => {
                tracing::warn!(product = %id, field, %error, "a released field keeps its value: the supplier's cannot be written");
                return Ok(());
            }
            Err(error) => return Err(error),
        }
        // The product holds the supplier's word now: its offer no longer lists it as not taken.
        let taken = std::collections::BTreeMap::from([(field.to_string(), None)]);
        crate::catalog::offers::keep_words(&self.pool, id, chosen.supplier, &taken).await.map_err(db_error)?;
        Ok(())
    }

    /// Writes one field with provenance (`title`, `price:retail:EUR`, `attribute:color`, `stock`…) from its stored
    /// form (minor units, a brand's id or name), as this service's writer.
    async fn write_field(&self, id: Uuid, field: &str, value: &str) -> Result<()> {
        let invalid = |error: &dyn std::fmt::Display| CatalogError::invalid(field, error.to_string());
        let mut patch = ProductPatch::default();
        match field {
            "title" => patch.title = Some(value.to_string()),
            "description" => patch.description = Some(Some(value.to_string())),
            "status" => patch.status = Some(value.parse()?),
            "availability" => patch.availability = Some(Some(value.parse()?)),
            "sku" => patch.sku = Some(Some(Sku::parse(value).map_err(|e| invalid(&e))?)),
            "gtin" => patch.gtin = Some(Some(Gtin::parse(value).map_err(|e| invalid(&e))?)),
            "asin" => patch.asin = Some(Some(Asin::parse(value).map_err(|e| invalid(&e))?)),
            "brand" => patch.brand_id = Some(Some(self.brand_named(value).await?)),
            _ if field.starts_with("seo:") => {
                let locale = field.trim_start_matches("seo:").to_string();
                let (slug, meta_title, meta_description) =
                    provenance::parse_seo_value(value).ok_or_else(|| invalid(&"not SEO metadata"))?;
                let input =
                    crate::catalog::NewSeo { product_id: id, locale, slug: Some(slug), meta_title, meta_description };
                crate::catalog::SeoService::new(self.pool.clone(), self.clone()).set(input).await?;
                return Ok(());
            }
            _ if field.starts_with("price_windows:") => {
                let mut parts = field.split(':').skip(1);
                let (Some(price_type), Some(currency)) = (parts.next(), parts.next()) else {
                    return Err(invalid(&"not a price windows field").into());
                };
                let currency: crate::catalog::CurrencyCode = currency.parse()?;
                let windows =
                    crate::catalog::prices::window::parse_windows_text(currency, value).map_err(|e| invalid(&e))?;
                crate::catalog::PriceService::new(self.pool.clone(), self.cache.clone(), self.clone())
                    .replace_windows(id, price_type.parse()?, currency, &windows)
                    .await?;
                return Ok(());
            }
            _ if field.starts_with("price:") => {
                let mut parts = field.split(':').skip(1);
                let (Some(price_type), Some(currency)) = (parts.next(), parts.next()) else {
                    return Err(invalid(&"not a price field").into());
                };
                let amount_minor = value.parse().map_err(|e| invalid(&e))?;
                let amount = crate::catalog::Money::new(amount_minor, currency.parse()?);
                let price = crate::catalog::NewPrice {
                    product_id: id,
                    price_type: price_type.parse()?,
                    amount,
                    valid_from: None,
                    valid_to: None,
                };
                crate::catalog::PriceService::new(self.pool.clone(), self.cache.clone(), self.clone())
                    .set(price)
                    .await?;
                return Ok(());
            }
            _ if field == "stock" || field.starts_with("stock:") => {
                let location = field.strip_prefix("stock:").unwrap_or("default").to_string();
                let quantity: i64 = value.parse().map_err(|e| invalid(&e))?;
                let levels = stock_for_products(&self.pool, &[id]).await.map_err(db_error)?;
                let reserved = levels.iter().find(|l| l.location == location).map_or(0, |l| l.reserved.min(quantity));
                let level = crate::catalog::NewStockLevel {
                    product_id: id,
                    location: Some(location),
                    quantity,
                    reserved: Some(reserved.max(0)),
                };
                crate::catalog::StockService::new(self.pool.clone(), self.cache.clone(), self.clone())
                    .set(level)
                    .await?;
                return Ok(());
            }
            _ => {
                let Some(name) = field.strip_prefix("attribute:") else {
                    return Err(invalid(&"not a field with provenance").into());
                };
                let mut attributes = self.get(id).await?.attributes;
                let text = AttributeValue::Text { value: value.to_string() };
                match attributes.iter_mut().find(|a| a.name.to_lowercase() == name) {
                    Some(attribute) => attribute.value = text,
                    None => attributes.push(Attribute { name: name.to_string(), value: text }),
                }
                patch.attributes = Some(attributes);
            }
        }
        self.patch(id, patch).await.map(|_| ())
    }

    /// A brand's id from a stored value: its id, or its name (a supplier's file names brands), made when no brand
    /// has that name, as an import would.
    async fn brand_named(&self, value: &str) -> Result<Uuid> {
        if let Ok(id) = Uuid::parse_str(value) {
            return Ok(id);
        }
        let brands = crate::catalog::BrandService::new(self.pool.clone(), self.cache.clone());
        let wanted = value.trim().to_lowercase();
        if let Some(brand) = brands.list().await?.iter().find(|b| b.name.to_lowercase() == wanted) {
            return Ok(brand.id);
        }
        let brand = brands.create(crate::catalog::NewBrand { name: value.trim().to_string(), ..Default::default() });
        Ok(brand.await?.id)
    }

    /// Deletes a product softly: it disappears from reads and frees its GTIN/SKU/ASIN; [`ProductService::purge`]
    /// removes it for good.
    pub async fn delete(&self, id: Uuid) -> Result<()> {
        let current = self.get(id).await?;
        let deleted = repo::soft_delete(&self.pool, id, now()).await.map_err(db_error)?;
        self.forget(id, &[&current]).await;
        self.refresh_search(id).await;
        if deleted { Ok(()) } else { Err(CatalogError::not_found(ENTITY, id).into()) }
    }

    /// Removes a soft-deleted product and everything that hangs on it. Refused while a bundle contains it.
    pub async fn purge(&self, id: Uuid) -> Result<()> {
        match repo::purge(&self.pool, id).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(CatalogError::not_found("deleted product", id).into()),
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                Err(CatalogError::InUse { entity: ENTITY, key: id.to_string(), users: "a bundle".into() }.into())
            }
            Err(e) => Err(db_error(e)),
        }
    }

    /// Removes every product soft-deleted before `before`; returns how many went.
    pub async fn purge_deleted_before(&self, before: DateTime<Utc>) -> Result<u64> {
        repo::purge_before(&self.pool, before).await.map_err(db_error)
    }
}

/// A stored history value as people read it: a price (`price:retail:EUR`, minor units) as `12.50 EUR`, a brand by
/// its name (its id when the brand is gone).
fn shown_value(field: &str, value: &str, brands: &HashMap<Uuid, String>) -> String {
    if field == "brand"
        && let Some(name) = Uuid::parse_str(value).ok().and_then(|id| brands.get(&id))
    {
        return name.clone();
    }
    provenance::shown_value(field, value)
}

/// The filters of a search as given (no paging, no text, nothing unset), for search analytics.
fn search_filters(query: &ProductQuery) -> Option<serde_json::Value> {
    let serde_json::Value::Object(mut fields) = serde_json::to_value(query).ok()? else { return None };
    fields.retain(|name, value| !value.is_null() && !matches!(name.as_str(), "q" | "cursor" | "limit" | "sort"));
    (!fields.is_empty()).then_some(serde_json::Value::Object(fields))
}
