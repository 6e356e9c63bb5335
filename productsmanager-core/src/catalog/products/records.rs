//! The catalog read whole for feeds and platforms: each product with what a shop needs beside it (brand name,
//! category path, image URLs, variant parent and options), a page at a time, parents before their variants.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use uuid::Uuid;

use super::repo::{self, CategoryNameRow, VariantLinkRow};
use super::{Product, ProductQuery, ProductService, ProductSort};
use crate::Result;
use crate::catalog::common::db_error;
use crate::catalog::prices::{PriceRow, prices_for_products};
use crate::catalog::stock::stock_for_products;
use crate::catalog::{CatalogError, Price, PriceType};

/// A product as feeds and sales platforms see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductRecord {
    pub product: Product,
    /// The brand's name.
    pub brand: Option<String>,
    /// Names from the root down to the product's primary category (else its first category); empty when it has
    /// none.
    pub category_path: Vec<String>,
    /// Every category the product is in, each as names from the root down: the primary one first (else the first
    /// by position), then the others in their order.
    pub category_paths: Vec<Vec<String>>,
    /// Units on hand at each of the product's stock locations (`default` is the one imports set).
    pub stock_by_location: BTreeMap<String, i64>,
    /// Image URLs in their order, the main one first.
    pub image_urls: Vec<String>,
    /// Set when the product is a variant of another.
    pub variant_of: Option<VariantOf>,
    /// The option axes of a product that has variants, each with its values in the variants' order; empty
    /// otherwise.
    pub variant_axes: Vec<VariantAxis>,
    /// Every price of the product, open-ended and windowed, by type, currency and start (`product.prices` holds
    /// those that apply now): what a file that must restore the catalog writes.
    pub all_prices: Vec<Price>,
    /// SEO metadata in each locale it has some, by locale.
    pub seo: Vec<crate::catalog::Seo>,
    /// Every supplier offer of the product, by supplier code and supplier SKU (`product.best_offer` is one of
    /// them).
    pub offers: Vec<crate::catalog::SupplierOffer>,
}

/// An option axis of a product with variants and the values its variants take.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantAxis {
    /// `size`, `colour`.
    pub name: String,
    /// `S`, `M`, `L`, each once.
    pub values: Vec<String>,
}

/// The parent of a variant and the variant's option values.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantOf {
    pub parent_id: Uuid,
    /// Axis → value, e.g. `{"size": "M"}`.
    pub options: BTreeMap<String, String>,
}

impl ProductRecord {
    /// The key a shop knows the product by: its SKU, else its GTIN, else its id.
    pub fn key(&self) -> String {
        let p = &self.product;
        p.sku
            .as_ref()
            .map(|s| s.as_str().to_string())
            .or_else(|| p.gtin.as_ref().map(|g| g.to_string()))
            .unwrap_or_else(|| p.id.to_string())
    }

    /// Own stock available plus the best supplier offer's stock (what can be promised to a buyer).
    pub fn available_stock(&self) -> i64 {
        let offered = self.product.best_offer.as_ref().filter(|o| o.is_available).and_then(|o| o.stock).unwrap_or(0);
        self.product.stock.available.max(0).saturating_add(offered.max(0))
    }

    /// What a buyer is told: the available stock when there is some, else what the product's source stated when
    /// it keeps no stock of its own (or stated `backorder`, `preorder`), else out of stock (see
    /// [`Availability::resolve`](crate::catalog::Availability::resolve)).
    pub fn availability(&self) -> crate::catalog::Availability {
        crate::catalog::Availability::resolve(self.product.availability, self.stock_counted(), self.available_stock())
    }

    /// Whether a count says how many can be sold: the product's own stock levels, or, for a product whose source
    /// states no availability, its best offer's stock. A stated availability is not undone by a supplier's count
    /// (a supplier's 0 is its own stock, not the shop's).
    pub fn stock_counted(&self) -> bool {
        let offer_counts = || self.product.best_offer.as_ref().is_some_and(|o| o.is_available && o.stock.is_some());
        !self.stock_by_location.is_empty() || self.product.availability.is_none() && offer_counts()
    }

    /// The current price of `price_type` in the product's prices (the first currency when several).
    pub fn price(&self, price_type: PriceType) -> Option<&crate::catalog::Money> {
        self.product.prices.iter().find(|p| p.price_type == price_type).map(|p| &p.amount)
    }
}

/// Reads [`ProductRecord`]s page by page. Made by [`ProductService::records`].
///
/// ```no_run
/// # async fn demo(sdk: &productsmanager_core::Sdk) -> productsmanager_core::Result<()> {
/// use productsmanager_core::catalog::ProductQuery;
///
/// let mut reader = sdk.products().records(ProductQuery::default()).await?;
/// while let Some(page) = reader.next_page().await? {
///     for record in page {
///         println!("{} {}", record.key(), record.product.title);
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RecordReader {
    products: ProductService,
    query: ProductQuery,
    brands: HashMap<Uuid, String>,
    categories: HashMap<Uuid, CategoryNameRow>,
    attribute_names: BTreeSet<String>,
    axes: BTreeSet<String>,
    currencies: BTreeSet<String>,
    seo_locales: BTreeSet<String>,
    /// Suppliers' codes by id.
    supplier_codes: HashMap<Uuid, String>,
    stock_locations: BTreeSet<String>,
    done: bool,
}

/// What a page's queries found of its products, each taken by its record.
struct Found<'a> {
    categories_of: &'a HashMap<Uuid, Vec<Uuid>>,
    images_of: &'a mut HashMap<Uuid, Vec<String>>,
    stock_of: &'a mut HashMap<Uuid, BTreeMap<String, i64>>,
    prices_of: &'a mut HashMap<Uuid, Vec<Price>>,
    seo_of: &'a mut HashMap<Uuid, Vec<crate::catalog::Seo>>,
    offers_of: &'a mut HashMap<Uuid, Vec<crate::catalog::SupplierOffer>>,
}

/// Products per page of [`RecordReader`] (variants come on top of them).
const RECORD_PAGE: u32 = 500;

impl ProductService {
    /// A reader of the products matching `query` (its `q`, `sort`, `limit`, `cursor` and `is_variant` are set by
    /// the reader: products in order of creation, then each page's variants after their parents).
    pub async fn records(&self, mut query: ProductQuery) -> Result<RecordReader> {
        if query.q.is_some() {
            return Err(CatalogError::invalid("q", "a catalog export does not take search words").into());
        }
        query.sort = ProductSort::CreatedAt;
        query.descending = false;
        query.limit = Some(RECORD_PAGE);
        query.cursor = None;
        query.is_variant = Some(false);
        let (brands, categories, attribute_names, option_sets, currencies, seo_locales, supplier_codes, locations) =
            futures_util::try_join!(
                repo::brand_names(self.pool()),
                repo::category_names(self.pool()),
                repo::attribute_names(self.pool()),
                repo::variant_option_sets(self.pool()),
                repo::currencies(self.pool()),
                crate::catalog::variants::seo_locales(self.pool()),
                crate::catalog::suppliers::ids_by_code(self.pool()),
                crate::catalog::stock::other_stock_locations(self.pool()),
            )
            .map_err(db_error)?;
        Ok(RecordReader {
            products: self.clone(),
            query,
            brands: brands.into_iter().collect(),
            categories: categories.into_iter().map(|c| (c.id, c)).collect(),
            attribute_names: one_per_case(attribute_names),
            axes: one_per_case(option_sets.into_iter().flat_map(|set| set.0.into_keys())),
            currencies: currencies.into_iter().collect(),
            seo_locales: seo_locales.into_iter().collect(),
            supplier_codes: supplier_codes.into_iter().map(|(code, id)| (id, code)).collect(),
            stock_locations: one_per_case(locations),
            done: false,
        })
    }
}

/// The names, one per spelling that differs only by case (`Color` and `color` are one attribute, one column; the
/// first in sort order is kept, so the choice is the same at every export).
fn one_per_case(names: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    let sorted: BTreeSet<String> = names.into_iter().collect();
    let mut seen = std::collections::HashSet::new();
    sorted.into_iter().filter(|name| seen.insert(name.to_lowercase())).collect()
}

impl RecordReader {
    /// Every attribute name in the catalog, one per spelling that differs only by case (a feed with a column per
    /// attribute makes its header from them; match them with `eq_ignore_case`).
    pub fn attribute_names(&self) -> &BTreeSet<String> {
        &self.attribute_names
    }

    /// Every variant axis in the catalog, one per spelling that differs only by case.
    pub fn variant_axes(&self) -> &BTreeSet<String> {
        &self.axes
    }

    /// Every currency the catalog's prices and offers' costs are in (a feed with a column per currency makes its
    /// header from them).
    pub fn currencies(&self) -> &BTreeSet<String> {
        &self.currencies
    }

    /// Every locale some product has SEO metadata in (a feed with columns per locale makes its header from them).
    pub fn seo_locales(&self) -> &BTreeSet<String> {
        &self.seo_locales
    }

    /// Every location some product has stock at besides `default` (a feed with a column per location makes its
    /// header from them).
    pub fn stock_locations(&self) -> &BTreeSet<String> {
        &self.stock_locations
    }

    /// The next page (parents and lone products, each followed by its variants), `None` after the last.
    pub async fn next_page(&mut self) -> Result<Option<Vec<ProductRecord>>> {
        if self.done {
            return Ok(None);
        }
        let page = self.products.list(&self.query).await?;
        self.query.cursor = page.next_cursor.clone();
        self.done = page.next_cursor.is_none();
        if page.items.is_empty() {
            return Ok(if self.done { None } else { Some(Vec::new()) });
        }
        let pool = self.products.pool();
        let parent_ids: Vec<Uuid> = page.items.iter().map(|p| p.id).collect();
        let links = repo::variants_of_parents(pool, &parent_ids).await.map_err(db_error)?;
        let mut variants: HashMap<Uuid, Product> = HashMap::with_capacity(links.len());
        let variant_ids: Vec<Uuid> = links.iter().map(|l| l.product_id).collect();
        for chunk in variant_ids.chunks(super::service::MAX_BULK) {
            variants.extend(self.products.get_many(chunk).await?.into_iter().map(|p| (p.id, p)));
        }
        let all_ids: Vec<Uuid> = parent_ids.iter().chain(variants.keys()).copied().collect();
        let (category_links, images, stock_levels, price_rows, seo_rows, offer_rows) = futures_util::try_join!(
            repo::category_links_of(pool, &all_ids),
            repo::image_urls_of(pool, &all_ids),
            stock_for_products(pool, &all_ids),
            prices_for_products(pool, &all_ids),
            crate::catalog::variants::seo_of_products(pool, &all_ids),
            crate::catalog::offers::offers_for_products(pool, &all_ids),
        )
        .map_err(db_error)?;
        // A supplier created since the reader began: its code is read again.
        if offer_rows.iter().any(|o| !self.supplier_codes.contains_key(&o.supplier_id)) {
            let codes = crate::catalog::suppliers::ids_by_code(pool).await.map_err(db_error)?;
            self.supplier_codes = codes.into_iter().map(|(code, id)| (id, code)).collect();
        }
        let mut offers_of: HashMap<Uuid, Vec<crate::catalog::SupplierOffer>> = HashMap::new();
        for row in offer_rows {
            let offer = row.into_offer();
            let supplier_code = self.supplier_codes.get(&offer.supplier_id).cloned().unwrap_or_default();
            offers_of.entry(offer.product_id).or_default().push(crate::catalog::SupplierOffer { supplier_code, offer });
        }
        for offers in offers_of.values_mut() {
            offers.sort_by(|a, b| {
                (&a.supplier_code, &a.offer.supplier_sku).cmp(&(&b.supplier_code, &b.offer.supplier_sku))
            });
        }
        let mut seo_of: HashMap<Uuid, Vec<crate::catalog::Seo>> = HashMap::new();
        for seo in seo_rows {
            seo_of.entry(seo.product_id).or_default().push(seo);
        }
        let mut prices_of: HashMap<Uuid, Vec<Price>> = HashMap::new();
        for price in price_rows.into_iter().filter_map(PriceRow::into_price) {
            prices_of.entry(price.product_id).or_default().push(price);
        }
        let mut stock_of: HashMap<Uuid, BTreeMap<String, i64>> = HashMap::new();
        for level in stock_levels {
            stock_of.entry(level.product_id).or_default().insert(level.location, level.quantity);
        }
        let mut categories_of: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for link in category_links {
            // Primary first, then by position: the first of each product is its main one.
            categories_of.entry(link.product_id).or_default().push(link.category_id);
        }
        let mut images_of: HashMap<Uuid, Vec<String>> = HashMap::new();
        for image in images {
            images_of.entry(image.product_id).or_default().push(image.url);
        }
        let mut links_of: HashMap<Uuid, Vec<VariantLinkRow>> = HashMap::new();
        for link in links {
            links_of.entry(link.parent_product_id).or_default().push(link);
        }
        let mut records = Vec::with_capacity(all_ids.len());
        let mut found = Found {
            categories_of: &categories_of,
            images_of: &mut images_of,
            stock_of: &mut stock_of,
            prices_of: &mut prices_of,
            seo_of: &mut seo_of,
            offers_of: &mut offers_of,
        };
        for product in page.items {
            let children = links_of.remove(&product.id).unwrap_or_default();
            let mut axes: Vec<VariantAxis> = Vec::new();
            for link in &children {
                for (axis, value) in &link.options.0 {
                    let at = match axes.iter().position(|a| a.name == *axis) {
                        Some(at) => at,
                        None => {
                            axes.push(VariantAxis { name: axis.clone(), values: Vec::new() });
                            axes.len() - 1
                        }
                    };
                    if !axes[at].values.contains(value) {
                        axes[at].values.push(value.clone());
                    }
                }
            }
            let parent_id = product.id;
            records.push(self.record(product, None, axes, &mut found));
            for link in children {
                if let Some(variant) = variants.remove(&link.product_id) {
                    let of = VariantOf { parent_id, options: link.options.0 };
                    records.push(self.record(variant, Some(of), Vec::new(), &mut found));
                }
            }
        }
        Ok(Some(records))
    }

    fn record(
        &self,
        product: Product,
        variant_of: Option<VariantOf>,
        variant_axes: Vec<VariantAxis>,
        found: &mut Found<'_>,
    ) -> ProductRecord {
        let category_paths: Vec<Vec<String>> =
            found.categories_of.get(&product.id).into_iter().flatten().map(|c| self.path_of(*c)).collect();
        let (images_of, stock_of) = (&mut found.images_of, &mut found.stock_of);
        ProductRecord {
            all_prices: found.prices_of.remove(&product.id).unwrap_or_default(),
            seo: found.seo_of.remove(&product.id).unwrap_or_default(),
            offers: found.offers_of.remove(&product.id).unwrap_or_default(),
            brand: product.brand_id.and_then(|b| self.brands.get(&b).cloned()),
            category_path: category_paths.first().cloned().unwrap_or_default(),
            category_paths,
            stock_by_location: stock_of.remove(&product.id).unwrap_or_default(),
            image_urls: images_of.remove(&product.id).unwrap_or_default(),
            variant_of,
            variant_axes,
            product,
        }
    }

    /// Names from the root to `category`.
    fn path_of(&self, category: Uuid) -> Vec<String> {
        let mut names = Vec::new();
        let mut next = Some(category);
        while let Some(id) = next {
            let Some(row) = self.categories.get(&id) else { break };
            names.push(row.name.clone());
            next = row.parent_id;
            if names.len() > 64 {
                break; // a cycle cannot be stored (checked on write); this only bounds the walk
            }
        }
        names.reverse();
        names
    }
}
