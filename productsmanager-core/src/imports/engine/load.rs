//! [`Loader`]: a batch of checked rows planned against the catalog (which offers are new, changed or unchanged,
//! which product each row is about) and written in one transaction with the import's checkpoint.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::catalog_repo::{self, BatchWrites, Checkpoint, NewProductRow, OfferWrite, ProductUpdate, StoredOffer};
use super::validate::{ImportRow, RowError};
use crate::Result;
use crate::cache::{CacheKind, TieredCache};
use crate::catalog::CategoryService;
use crate::catalog::FieldGroup;
use crate::catalog::PriceType;
use crate::catalog::provenance::{CATEGORIES_FIELD, ChangeKind, FieldOwner, IMAGES_FIELD, Kept, Survivorship};
use crate::db::DbPool;
use crate::imports::error::catalog_db_error;
use crate::imports::mapping::DEFAULT_LOCATION;

/// How many changed rows a dry run describes field by field.
const DIFF_SAMPLE: usize = 10;

/// A row a dry run would change, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowDiff {
    pub line: u64,
    pub supplier_sku: String,
    /// `new` or `changed`.
    pub kind: String,
    /// Field → (stored, from the file); only the fields the file gives, named as a template's targets name them
    /// (`stock` the offer's, `product_stock` the product's own, a shop's).
    pub fields: BTreeMap<String, (Option<String>, Option<String>)>,
    /// Fields the file gives that the survivorship rules keep as they are, named as provenance names them (`stock`:
    /// the product's own) → the rule (`set_by_person`,
    /// `locked`, `supplier_priority`, `set_by_other_source`, `supplier_rule`, `template_rule`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kept: BTreeMap<String, String>,
}

/// A batch planned: what to write, what it counts, which rows were refused.
#[derive(Debug, Default)]
pub(crate) struct BatchPlan {
    pub writes: BatchWrites,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub errors: Vec<RowError>,
    /// Rows changing a stored offer: (row, stored offer), for a dry run's diffs.
    pub changed: Vec<(ImportRow, StoredOffer)>,
    pub new_rows: Vec<ImportRow>,
    /// Products whose offer of this supplier changed cost (for the analytics' price changes).
    pub price_changes: Vec<Uuid>,
    /// Products whose cached identifier lookups (GTIN, SKU) may have moved.
    pub identifier_keys: Vec<String>,
    /// Fields the rows gave that the survivorship rules kept as they were.
    pub fields_kept: u64,
    /// Rows that named, under another supplier SKU of the same supplier, a product another row of the supplier
    /// named, and agreed with it: each is one more offer of that product, its product fields left as they were.
    pub merged: u64,
    /// Per line: the fields kept and the rule that kept each (a dry run's diffs name them).
    pub kept: HashMap<u64, BTreeMap<String, String>>,
    /// Products the rows made (variants included).
    pub products_created: u64,
    /// Of them, variants of a parent.
    pub variants_created: u64,
    /// Stored products whose own fields (title, description, brand, status, SKU, GTIN, a price) the rows changed.
    pub products_updated: u64,
}

/// What a dry run's earlier batches decided, which a real run finds in the catalog (they were written): so that a
/// dry run plans each row exactly as the real run will.
#[derive(Debug, Default)]
struct Carried {
    gtins: HashMap<String, Uuid>,
    skus: HashMap<String, Uuid>,
    offers: HashMap<String, Uuid>,
    titles: HashMap<Uuid, String>,
    are_variants: HashSet<Uuid>,
    have_variants: HashSet<Uuid>,
    first_rows: HashMap<Uuid, FirstRow>,
    /// Retail prices the earlier batches gave: (product, currency) → minor units (a variant's price may be its
    /// parent's plus a difference).
    retail: HashMap<(Uuid, String), i64>,
    /// Slugs the earlier batches gave (`Some`: to that product) or freed (`None`), by (locale, slug).
    slugs: HashMap<(String, String), Option<Uuid>>,
}

/// The row that named a product first, as a later row naming it under another supplier SKU is compared with.
#[derive(Debug, Clone)]
struct FirstRow {
    /// In this file (unknown for an offer an earlier import made).
    line: Option<u64>,
    supplier_sku: String,
    title: Option<String>,
    /// Unknown for an offer an earlier import made.
    options: Option<BTreeMap<String, String>>,
}

impl FirstRow {
    /// Whether `row` says the same product: the same title once case, spacing and punctuation are set aside, and
    /// the same variant options (where known). A row without a title says nothing against it.
    fn agrees_with(&self, row: &ImportRow) -> bool {
        let titles = match (&self.title, &row.title) {
            (Some(first), Some(this)) => normalised(first) == normalised(this),
            _ => true,
        };
        titles && self.options.as_ref().is_none_or(|options| *options == row.variant_options)
    }
}

/// Lower-case words of letters and digits, one space apart.
fn normalised(title: &str) -> String {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Plans and writes batches of one import job.
#[derive(Debug)]
pub(crate) struct Loader {
    catalog: DbPool,
    categories: CategoryService,
    cache: TieredCache,
    supplier: Uuid,
    job: Uuid,
    /// Unchanged offers are marked seen too (when missing offers are to be marked unavailable).
    mark_seen: bool,
    dry_run: bool,
    brands: HashMap<String, Uuid>,
    category_paths: HashMap<Vec<String>, Uuid>,
    /// Diffs described so far (dry run).
    pub diffs: Vec<RowDiff>,
    /// Codes of the suppliers this job created (or a dry run would): our `offers` column named them and the
    /// catalog had none of that code.
    pub suppliers_created: Vec<String>,
    batches_written: u64,
    /// The counters of the last checkpoint written by this run (the rows counted in metrics so far).
    counted: Checkpoint,
    /// A dry run's decisions so far (a real run's are in the catalog).
    carried: Carried,
    /// The suppliers' ranks and rules, once a batch needed them.
    ranks: Option<crate::catalog::provenance::SupplierRanks>,
    /// How unranked suppliers stand among themselves (the `imports.unranked_suppliers` setting).
    unranked: crate::catalog::provenance::Unranked,
    /// The field groups the template lets this import change on stored products (`None`: all).
    changes_only: Option<Vec<crate::catalog::FieldGroup>>,
    /// Suppliers' ids by code, once a row listed offers (our `offers` column).
    supplier_codes: Option<HashMap<String, Uuid>>,
    /// A dry run's: the (supplier, supplier SKU) of the offers its rows listed so far, and their products (a real
    /// run finds them in the catalog): a later row listing one for another product is refused as in the real run.
    listed_given: HashMap<(Uuid, String), Uuid>,
}

/// 1, 10, 100, …
fn power_of_ten(mut n: u64) -> bool {
    while n >= 10 && n.is_multiple_of(10) {
        n /= 10;
    }
    n == 1
}

fn refuse(row: &ImportRow, code: &'static str, reason: String) -> RowError {
    RowError { line: row.line, column: None, column_name: None, raw_value: None, code, reason }
}

impl Loader {
    pub(crate) fn new(
        catalog: DbPool,
        categories: CategoryService,
        cache: TieredCache,
        supplier: Uuid,
        job: Uuid,
        mark_seen: bool,
        dry_run: bool,
    ) -> Self {
        Loader {
            catalog,
            categories,
            cache,
            supplier,
            job,
            mark_seen,
            dry_run,
            brands: HashMap::new(),
            category_paths: HashMap::new(),
            diffs: Vec::new(),
            suppliers_created: Vec::new(),
            batches_written: 0,
            counted: Checkpoint::default(),
            carried: Carried::default(),
            ranks: None,
            unranked: crate::catalog::provenance::Unranked::default(),
            changes_only: None,
            supplier_codes: None,
            listed_given: HashMap::new(),
        }
    }

    /// The survivorship rules of this import beyond the suppliers' own: how unranked suppliers stand, and the
    /// field groups its template lets it change on stored products.
    pub(crate) fn with_rules(
        mut self,
        unranked: crate::catalog::provenance::Unranked,
        changes_only: Option<Vec<crate::catalog::FieldGroup>>,
    ) -> Self {
        self.unranked = unranked;
        self.changes_only = changes_only;
        self
    }

    /// Brand ids by lower-case name, created when missing.
    async fn ensure_brands(&mut self, rows: &[&ImportRow]) -> Result<()> {
        let mut wanted: Vec<String> = Vec::new();
        let mut names: HashMap<String, String> = HashMap::new();
        for name in rows.iter().filter_map(|r| r.brand.as_ref()) {
            let key = name.to_lowercase();
            if !self.brands.contains_key(&key) && !names.contains_key(&key) {
                wanted.push(key.clone());
                names.insert(key, name.clone());
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let mut found = catalog_repo::brands_by_name(&self.catalog, &wanted).await.map_err(catalog_db_error)?;
        if !self.dry_run {
            let now = chrono::Utc::now();
            for attempt in 0..2 {
                let missing: Vec<(Uuid, String, String)> = wanted
                    .iter()
                    .filter(|key| !found.contains_key(*key))
                    .map(|key| {
                        let id = Uuid::now_v7();
                        let mut slug = slug::slugify(&names[key]);
                        if slug.is_empty() || attempt > 0 {
                            // A slug taken by a brand of another name: made unique with the id.
                            slug = format!(
                                "{}{}",
                                if slug.is_empty() { String::new() } else { slug + "-" },
                                &id.simple().to_string()[24..]
                            );
                        }
                        (id, names[key].clone(), slug)
                    })
                    .collect();
                if missing.is_empty() {
                    break;
                }
                catalog_repo::insert_brands(&self.catalog, &missing, now).await.map_err(catalog_db_error)?;
                found = catalog_repo::brands_by_name(&self.catalog, &wanted).await.map_err(catalog_db_error)?;
            }
            self.cache.invalidate(CacheKind::Brands, crate::catalog::ALL_BRANDS_KEY).await;
        } else {
            // A dry run creates no brand; an id of its own for each new one plans the rows as the real run will.
            for key in &wanted {
                found.entry(key.clone()).or_insert_with(Uuid::now_v7);
            }
        }
        self.brands.extend(found);
        Ok(())
    }

    /// The suppliers our `offers` column names, by code: one the catalog lacks is created (its code as its name,
    /// no settings), as brands and categories are — a dry run gives it an id of its own instead.
    async fn ensure_suppliers(&mut self, rows: &[ImportRow]) -> Result<()> {
        self.read_supplier_codes().await?;
        let known = self.supplier_codes.get_or_insert_with(HashMap::new);
        let mut missing: Vec<String> = rows
            .iter()
            .flat_map(|r| r.offers.iter().map(|o| &o.supplier))
            .filter(|code| !known.contains_key(*code))
            .cloned()
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        if self.dry_run {
            for code in &missing {
                known.insert(code.clone(), Uuid::now_v7());
            }
        } else {
            let suppliers = crate::catalog::SupplierService::new(self.catalog.clone(), self.cache.clone());
            for code in &missing {
                let input =
                    crate::catalog::NewSupplier { code: code.clone(), name: code.clone(), ..Default::default() };
                // Another job may have created it since: its id is read back below.
                if let Err(error) = suppliers.create(input).await
                    && error.kind() != crate::ErrorKind::Conflict
                {
                    return Err(error);
                }
            }
            let codes = crate::catalog::suppliers::ids_by_code(&self.catalog).await.map_err(catalog_db_error)?;
            self.supplier_codes = Some(codes);
        }
        self.suppliers_created.extend(missing);
        Ok(())
    }

    /// Reads the suppliers' codes once per job (the first batch that needs them).
    async fn read_supplier_codes(&mut self) -> Result<()> {
        if self.supplier_codes.is_none() {
            let codes = crate::catalog::suppliers::ids_by_code(&self.catalog).await.map_err(catalog_db_error)?;
            self.supplier_codes = Some(codes);
        }
        Ok(())
    }

    /// Marks seen unchanged rows' offers — `rows` (the offer, its row's key) and the importing supplier's among
    /// `listed` (supplier code, supplier SKU, available) — which marking its missing offers unavailable must
    /// leave as the rows' own: available, unless the row's `offers` list says not.
    async fn seen_listed_offers(
        &mut self,
        rows: &[(Uuid, String)],
        listed: &[(String, String, bool)],
        plan: &mut BatchPlan,
    ) -> Result<()> {
        self.read_supplier_codes().await?;
        let codes = self.supplier_codes.as_ref();
        let ours: HashMap<&str, bool> = listed
            .iter()
            .filter(|(code, ..)| codes.and_then(|c| c.get(code)) == Some(&self.supplier))
            .map(|(_, sku, available)| (sku.as_str(), *available))
            .collect();
        let mut seen = |offer: Uuid, available: bool| match available {
            true => plan.writes.seen_offers.push(offer),
            false => plan.writes.seen_unavailable_offers.push(offer),
        };
        for (offer, key) in rows {
            seen(*offer, ours.get(key.as_str()).copied().unwrap_or(true));
        }
        let keys: HashSet<&str> = rows.iter().map(|(_, key)| key.as_str()).collect();
        let others: Vec<String> = ours.keys().filter(|sku| !keys.contains(*sku)).map(|sku| sku.to_string()).collect();
        if !others.is_empty() {
            let found =
                catalog_repo::offers_by_sku(&self.catalog, self.supplier, &others).await.map_err(catalog_db_error)?;
            for (sku, offer) in &found {
                seen(offer.0, ours.get(sku.as_str()).copied().unwrap_or(true));
            }
        }
        Ok(())
    }

    async fn ensure_categories(&mut self, rows: &[&ImportRow]) -> Result<()> {
        for path in rows.iter().flat_map(|r| r.categories.iter()) {
            if !self.category_paths.contains_key(path) {
                // A dry run creates nothing: it finds the categories that exist, and gives one the real run would
                // create an id of its own (no product is in it), so its rules decide about links as the real run's.
                let id = match self.dry_run {
                    true => self.categories.find_path(path).await?.unwrap_or_else(Uuid::now_v7),
                    false => self.categories.ensure_path(path).await?,
                };
                self.category_paths.insert(path.clone(), id);
            }
        }
        Ok(())
    }

    /// Decides what each row of the batch does. Reads only (besides creating missing brands, categories and
    /// suppliers when not a dry run).
    pub(crate) async fn plan(&mut self, rows: Vec<ImportRow>) -> Result<BatchPlan> {
        let mut plan = BatchPlan::default();
        let mut keys: Vec<String> = rows.iter().map(|r| r.supplier_sku.clone()).collect();
        keys.extend(rows.iter().filter_map(|r| r.parent_sku.clone()));
        keys.extend(rows.iter().flat_map(|r| r.variants.iter().map(|(sku, _)| sku.clone())));
        keys.sort_unstable();
        keys.dedup();
        let stored =
            catalog_repo::offers_by_sku(&self.catalog, self.supplier, &keys).await.map_err(catalog_db_error)?;
        let mut to_write: Vec<ImportRow> = Vec::with_capacity(rows.len());
        // Unchanged rows priced as a difference from their parent: unchanged only while the parent's price is.
        let mut relative: Vec<ImportRow> = Vec::new();
        // Unchanged rows with an `offers` list (their offer, their key) and its entries, which may be the importing
        // supplier's too (seen, like the rows' own, and as available as the list says).
        let (mut unchanged_with_list, mut unchanged_listed) = (Vec::new(), Vec::new());
        for row in rows {
            match stored.get(&row.supplier_sku) {
                Some((_, _, Some(hash), _)) if hash.as_slice() == row.hash.as_slice() && row.price_impact.is_some() => {
                    relative.push(row);
                }
                Some((id, _, Some(hash), _)) if hash.as_slice() == row.hash.as_slice() => {
                    plan.unchanged += 1;
                    match (self.mark_seen, row.offers.is_empty()) {
                        (false, _) => {}
                        (true, true) => plan.writes.seen_offers.push(*id),
                        (true, false) => {
                            unchanged_with_list.push((*id, row.supplier_sku.clone()));
                            let listed = row.offers.iter().map(|o| (o.supplier.clone(), o.sku.clone(), o.available));
                            unchanged_listed.extend(listed);
                        }
                    }
                }
                _ => to_write.push(row),
            }
        }
        if !unchanged_with_list.is_empty() {
            self.seen_listed_offers(&unchanged_with_list, &unchanged_listed, &mut plan).await?;
        }
        if !relative.is_empty() {
            // The variant's retail price is its parent's plus the row's difference: a parent whose price moved
            // since makes the row a change.
            let products = |row: &ImportRow| {
                let variant = stored.get(&row.supplier_sku).map(|o| o.1);
                let parent = row.parent_sku.as_ref().and_then(|sku| stored.get(sku)).map(|o| o.1);
                (variant, parent)
            };
            let ids: Vec<Uuid> =
                relative.iter().flat_map(|row| <[Option<Uuid>; 2]>::from(products(row))).flatten().collect();
            let prices = catalog_repo::retail_prices(&self.catalog, &ids).await.map_err(catalog_db_error)?;
            // A parent this batch changes may change its price: its variants are written with it.
            let changing: HashSet<&str> = to_write.iter().map(|r| r.supplier_sku.as_str()).collect();
            let mut moved_rows = Vec::new();
            for row in relative {
                let (variant, parent) = products(&row);
                let priced_here =
                    |currency: &str| row.prices.iter().any(|(t, c, _)| *t == PriceType::Retail && *c == currency);
                let moved = match (row.price_impact, variant, parent) {
                    _ if row.parent_sku.as_deref().is_some_and(|sku| changing.contains(sku)) => true,
                    (Some((currency, _)), ..) if priced_here(currency) => false,
                    (Some((currency, impact)), Some(variant), Some(parent)) => {
                        match prices.get(&(parent, currency.to_string())) {
                            Some(base) => prices.get(&(variant, currency.to_string())) != Some(&(base + impact).max(0)),
                            None => false,
                        }
                    }
                    _ => false,
                };
                if moved {
                    moved_rows.push(row);
                } else {
                    plan.unchanged += 1;
                    if self.mark_seen
                        && let Some((id, ..)) = stored.get(&row.supplier_sku)
                    {
                        plan.writes.seen_offers.push(*id);
                    }
                }
            }
            to_write.extend(moved_rows);
        }
        if to_write.is_empty() {
            return Ok(plan);
        }
        let gtins: Vec<String> = to_write.iter().filter_map(|r| r.gtin.clone()).collect();
        let skus: Vec<String> = to_write.iter().filter_map(|r| r.sku.clone()).collect();
        let by_gtin = catalog_repo::products_by_gtin(&self.catalog, &gtins).await.map_err(catalog_db_error)?;
        let by_sku = catalog_repo::products_by_sku(&self.catalog, &skus).await.map_err(catalog_db_error)?;
        let refs: Vec<&ImportRow> = to_write.iter().collect();
        self.ensure_brands(&refs).await?;
        self.ensure_categories(&refs).await?;
        // A variant without a title of its own is named after its parent (PrestaShop's combinations have none).
        let untitled_parents: Vec<Uuid> = to_write
            .iter()
            .filter(|r| r.title.is_none())
            .filter_map(|r| stored.get(r.parent_sku.as_ref()?).map(|o| o.1))
            .collect();
        // A dry run starts from what its earlier batches decided; a real run finds it in the catalog.
        let carried = std::mem::take(&mut self.carried);
        let mut titles = carried.titles;
        titles.extend(catalog_repo::product_titles(&self.catalog, &untitled_parents).await.map_err(catalog_db_error)?);
        // Variants are one level deep: which stored products this batch links are variants already, or have some.
        let linked: Vec<Uuid> = to_write
            .iter()
            .filter(|r| r.parent_sku.is_some() || !r.variants.is_empty())
            .flat_map(|r| {
                std::iter::once(&r.supplier_sku).chain(r.parent_sku.iter()).chain(r.variants.iter().map(|(s, _)| s))
            })
            .filter_map(|sku| stored.get(sku).map(|o| o.1))
            .collect();
        let (mut are_variants, mut have_variants) = (carried.are_variants, carried.have_variants);
        if !linked.is_empty() {
            let (variants, parents) =
                catalog_repo::variant_roles(&self.catalog, &linked).await.map_err(catalog_db_error)?;
            are_variants.extend(variants);
            have_variants.extend(parents);
        }

        // The stored products rows may change, with who set each of their fields: the survivorship rules.
        let mut candidates: Vec<Uuid> =
            to_write.iter().filter_map(|r| stored.get(&r.supplier_sku).map(|o| o.1)).collect();
        candidates.extend(by_gtin.values().chain(by_sku.values()).copied());
        candidates.sort_unstable();
        candidates.dedup();
        let collections = catalog_repo::Collections {
            seo: to_write.iter().any(|r| !r.seo.is_empty()),
            stock: to_write.iter().any(|r| r.product_stock.is_some() || !r.location_stocks.is_empty()),
            categories: to_write.iter().any(|r| !r.categories.is_empty()),
            images: to_write.iter().any(|r| !r.images.is_empty()),
        };
        let mut survivorship = self.survivorship(&candidates, collections).await?;
        // Suppliers' ranks and rules, read once per job, at the first batch that changes stored products.
        if !survivorship.is_empty() && self.ranks.is_none() {
            let read = crate::catalog::suppliers::ranks(&self.catalog).await.map_err(catalog_db_error)?;
            self.ranks = Some(read);
        }
        let ranks = self.ranks.clone().unwrap_or_default();
        // Which of them this supplier offers already, under which supplier SKU: a new SKU landing on one of them is
        // the same GTIN twice in the supplier's catalog.
        let offered = catalog_repo::supplier_skus_on(&self.catalog, self.supplier, &candidates)
            .await
            .map_err(catalog_db_error)?;
        // The first row of this batch about each product: line, supplier SKU, title and variant options.
        let mut first_rows = carried.first_rows;
        // Variants priced as a difference from their parent's retail price: the parents' prices, stored or given
        // earlier in the batch (read only when a row has such a difference).
        let impacts = to_write.iter().any(|r| r.price_impact.is_some());
        let mut parent_prices: HashMap<(Uuid, String), i64> = if impacts {
            let parents: Vec<Uuid> = to_write
                .iter()
                .filter(|r| r.price_impact.is_some())
                .filter_map(|r| stored.get(r.parent_sku.as_ref()?).map(|o| o.1))
                .collect();
            catalog_repo::retail_prices(&self.catalog, &parents).await.map_err(catalog_db_error)?
        } else {
            HashMap::new()
        };
        // A dry run's earlier batches, which wrote nothing.
        parent_prices.extend(carried.retail);

        // Who has the slugs the rows give, in their locales: a slug names one product in a locale.
        let slugs: Vec<(String, String)> = to_write
            .iter()
            .flat_map(|r| r.seo.iter().map(|(locale, slug, ..)| (locale.clone(), slug.clone())))
            .collect();
        let mut slug_owners = if slugs.is_empty() {
            HashMap::new()
        } else {
            catalog_repo::slug_owners(&self.catalog, &slugs).await.map_err(catalog_db_error)?
        };
        // A dry run's earlier batches: the slugs they gave, and those they freed (not written, so not in the catalog).
        let mut slug_changes = carried.slugs;
        for (key, owner) in &slug_changes {
            match owner {
                Some(owner) => slug_owners.insert(key.clone(), *owner),
                None => slug_owners.remove(key),
            };
        }

        // The suppliers our `offers` column names, and which products their listed supplier SKUs are offers of.
        let listing = to_write.iter().any(|r| !r.offers.is_empty());
        if listing {
            self.ensure_suppliers(&to_write).await?;
        }
        let supplier_codes = self.supplier_codes.clone().unwrap_or_default();
        let mut listed_owners: HashMap<(Uuid, String), Uuid> = HashMap::new();
        if listing {
            let mut by_supplier: HashMap<Uuid, Vec<String>> = HashMap::new();
            for offer in to_write.iter().flat_map(|r| &r.offers) {
                if let Some(supplier) = supplier_codes.get(&offer.supplier) {
                    by_supplier.entry(*supplier).or_default().push(offer.sku.clone());
                }
            }
            for (supplier, skus) in by_supplier {
                let found =
                    catalog_repo::offers_by_sku(&self.catalog, supplier, &skus).await.map_err(catalog_db_error)?;
                listed_owners.extend(found.into_iter().map(|(sku, offer)| ((supplier, sku), offer.1)));
            }
        }

        // What this batch decided so far, so later rows of it see earlier ones.
        let mut batch_gtin = carried.gtins;
        let mut batch_sku = carried.skus;
        let mut batch_offers = carried.offers;
        let mut updates: HashMap<Uuid, usize> = HashMap::new();
        let mut touched: HashSet<Uuid> = HashSet::new();
        let mut changed_products: HashSet<Uuid> = HashSet::new();
        for row in to_write {
            let gtin_owner = row.gtin.as_ref().and_then(|g| batch_gtin.get(g).or_else(|| by_gtin.get(g)).copied());
            let sku_owner = row.sku.as_ref().and_then(|s| batch_sku.get(s).or_else(|| by_sku.get(s)).copied());
            let existing = stored.get(&row.supplier_sku);
            // The product: the offer's, else the one with the row's GTIN, else with its SKU, else a new one.
            let (offer_id, product_id, new_offer, new_product) = match existing {
                Some((offer, product, _, _)) => (*offer, *product, false, false),
                None => match gtin_owner.or(sku_owner) {
                    Some(product) => (Uuid::now_v7(), product, true, false),
                    None => (Uuid::now_v7(), Uuid::now_v7(), true, true),
                },
            };
            // Another supplier SKU of this supplier named this product before (earlier in the file, or in the
            // catalog): the rows are merged when they agree, the later one refused when they do not.
            let mut merged = false;
            if new_offer && !new_product {
                let first = first_rows.get(&product_id).cloned().or_else(|| {
                    let sku = offered.get(&product_id)?;
                    let title = survivorship.get(&product_id).and_then(|s| s.value("title")).map(str::to_string);
                    Some(FirstRow { line: None, supplier_sku: sku.clone(), title, options: None })
                });
                if let Some(first) = first.filter(|f| f.supplier_sku != row.supplier_sku) {
                    if first.agrees_with(&row) {
                        merged = true;
                    } else {
                        let (code, key) = match (&row.gtin, gtin_owner) {
                            (Some(gtin), Some(_)) => ("duplicate_gtin", format!("GTIN {gtin}")),
                            _ => ("duplicate_sku", format!("SKU {:?}", row.sku.clone().unwrap_or_default())),
                        };
                        let at =
                            first.line.map(|line| format!("line {line}")).unwrap_or_else(|| "an earlier import".into());
                        let reason = format!(
                            "{key} is already supplier SKU {:?}'s ({at}){}, and this row differs from it; one code \
                             names one product: give each variant its own GTIN",
                            first.supplier_sku,
                            first.title.as_deref().map(|t| format!(", titled {t:?}")).unwrap_or_default()
                        );
                        plan.errors.push(refuse(&row, code, reason));
                        continue;
                    }
                }
            }
            if let (Some(gtin), Some(owner)) = (&row.gtin, gtin_owner)
                && owner != product_id
            {
                let reason = format!(
                    "GTIN {gtin} belongs to product {owner}, but supplier SKU {:?} is linked to product {product_id}",
                    row.supplier_sku
                );
                plan.errors.push(refuse(&row, "gtin_conflict", reason));
                continue;
            }
            if let (Some(sku), Some(owner)) = (&row.sku, sku_owner)
                && owner != product_id
            {
                let reason = format!("SKU {sku:?} belongs to product {owner}, not to this row's product {product_id}");
                plan.errors.push(refuse(&row, "sku_conflict", reason));
                continue;
            }
            let parent = match &row.parent_sku {
                None => None,
                Some(parent) if *parent == row.supplier_sku => {
                    plan.errors.push(refuse(&row, "invalid_parent", "a product cannot be its own variant".into()));
                    continue;
                }
                Some(parent) => match batch_offers.get(parent).copied().or_else(|| stored.get(parent).map(|o| o.1)) {
                    Some(parent_product) if parent_product == product_id => {
                        let reason = format!("parent {parent:?} is the same product");
                        plan.errors.push(refuse(&row, "invalid_parent", reason));
                        continue;
                    }
                    Some(parent_product) => Some(parent_product),
                    None => {
                        let reason =
                            format!("parent supplier SKU {parent:?} is neither in the catalog nor earlier in the file");
                        plan.errors.push(refuse(&row, "parent_not_found", reason));
                        continue;
                    }
                },
            };
            if let Some(parent_product) = parent {
                let reason = if are_variants.contains(&parent_product) {
                    Some("the parent is itself a variant (variants are one level deep)")
                } else if have_variants.contains(&product_id) {
                    Some("this product has variants of its own (variants are one level deep)")
                } else {
                    None
                };
                if let Some(reason) = reason {
                    plan.errors.push(refuse(&row, "invalid_parent", reason.into()));
                    continue;
                }
            }
            let mut row = row;
            if let (Some((currency, impact)), Some(parent)) = (row.price_impact, parent)
                && !row.prices.iter().any(|(t, c, _)| *t == PriceType::Retail && *c == currency)
                && let Some(base) = parent_prices.get(&(parent, currency.to_string()))
            {
                row.prices.push((PriceType::Retail, currency, (base + impact).max(0)));
            }
            // A dry run writes nothing: its later batches find the parents' prices in what it carries.
            if impacts || self.dry_run {
                for (_, currency, minor) in row.prices.iter().filter(|(t, ..)| *t == PriceType::Retail) {
                    parent_prices.insert((product_id, currency.to_string()), *minor);
                }
            }
            if new_product && row.title.is_none() {
                match parent.and_then(|p| titles.get(&p)) {
                    Some(parent_title) => row.title = Some(variant_title(parent_title, &row.variant_options)),
                    None => {
                        plan.errors.push(refuse(&row, "missing_field", "a new product needs a title".into()));
                        continue;
                    }
                }
            }
            // Variants the row lists (Magento's configurable products list theirs, which come earlier).
            let mut listed = Vec::with_capacity(row.variants.len());
            let mut refused = None;
            if !row.variants.is_empty() && (are_variants.contains(&product_id) || parent.is_some()) {
                refused = Some(("invalid_parent", "a variant cannot have variants (they are one level deep)".into()));
            }
            for (sku, options) in &row.variants {
                if refused.is_some() {
                    break;
                }
                match batch_offers.get(sku).copied().or_else(|| stored.get(sku).map(|o| o.1)) {
                    Some(child) if child == product_id => {
                        refused = Some(("invalid_parent", format!("variant {sku:?} is this row's own product")));
                    }
                    Some(child) if have_variants.contains(&child) => {
                        let reason = format!("variant {sku:?} has variants of its own (they are one level deep)");
                        refused = Some(("invalid_parent", reason));
                    }
                    Some(child) => listed.push((child, options)),
                    None => {
                        let reason =
                            format!("variant supplier SKU {sku:?} is neither in the catalog nor earlier in the file");
                        refused = Some(("variant_not_found", reason));
                    }
                }
            }
            if let Some((code, reason)) = refused {
                plan.errors.push(refuse(&row, code, reason));
                continue;
            }
            // The offers our `offers` column lists, each its supplier's (found by code); one supplier SKU names one
            // product. The importing supplier's offer under the row's key holds what its entry says.
            let mut listed_offers = Vec::with_capacity(row.offers.len());
            let mut own_entry = None;
            let mut listing_refused = None;
            for offer in &row.offers {
                let at = |code: &'static str, reason: String| RowError {
                    column: row.offers_cell,
                    column_name: Some("offers".into()),
                    ..refuse(&row, code, reason)
                };
                let Some(supplier) = supplier_codes.get(&offer.supplier).copied() else {
                    // ensure_suppliers made every code known; kept as a refusal rather than a panic.
                    let reason = format!("supplier {:?} of the offers is unknown", offer.supplier);
                    listing_refused = Some(at("unknown_supplier", reason));
                    break;
                };
                if supplier == self.supplier && offer.sku == row.supplier_sku {
                    own_entry = Some(offer.clone());
                    continue;
                }
                let key = (supplier, offer.sku.clone());
                let owner =
                    self.listed_given.get(&key).or_else(|| listed_owners.get(&key)).copied().or_else(|| {
                        (supplier == self.supplier).then(|| batch_offers.get(&offer.sku).copied()).flatten()
                    });
                if let Some(owner) = owner.filter(|owner| *owner != product_id) {
                    let reason = format!(
                        "supplier {}'s SKU {:?} is the offer of another product ({owner}): one supplier SKU names one \
                         product",
                        offer.supplier, offer.sku
                    );
                    listing_refused = Some(at("offer_elsewhere", reason));
                    break;
                }
                listed_offers.push(catalog_repo::ListedOfferWrite {
                    product_id,
                    supplier_id: supplier,
                    supplier_sku: offer.sku.clone(),
                    cost_minor: offer.cost.map(|c| c.0),
                    currency: offer.cost.map(|c| c.1),
                    stock: offer.stock,
                    lead_time_days: offer.lead_time_days,
                    is_available: offer.available,
                });
            }
            if let Some(error) = listing_refused {
                plan.errors.push(error);
                continue;
            }
            if let Some(own) = own_entry {
                (row.cost, row.stock, row.lead_time_days) = (own.cost, own.stock, own.lead_time_days);
                row.available = own.available;
            }
            // A real run's later batches find these in the catalog; a dry run's, here.
            if self.dry_run {
                for offer in &listed_offers {
                    self.listed_given.insert((offer.supplier_id, offer.supplier_sku.clone()), product_id);
                }
            }
            plan.writes.listed_offers.extend(listed_offers);
            // Accepted: record what it decides.
            first_rows.entry(product_id).or_insert_with(|| FirstRow {
                line: Some(row.line),
                supplier_sku: row.supplier_sku.clone(),
                title: row.title.clone(),
                options: Some(row.variant_options.clone()),
            });
            if merged {
                // One more offer of the product; its fields stay those of the row that named it first.
                plan.merged += 1;
                batch_offers.insert(row.supplier_sku.clone(), product_id);
                plan.writes.offers.push(offer_of(&row, offer_id, product_id));
                if touched.insert(product_id) {
                    plan.writes.touched_products.push(product_id);
                }
                continue;
            }
            // A cached identifier lookup can only be stale for a product that existed (a lookup that found nothing is
            // not cached).
            if let Some(gtin) = &row.gtin {
                batch_gtin.insert(gtin.clone(), product_id);
                if !new_product {
                    plan.identifier_keys.push(format!("gtin:{gtin}"));
                }
            }
            if let Some(sku) = &row.sku {
                batch_sku.insert(sku.clone(), product_id);
                if !new_product {
                    plan.identifier_keys.push(format!("sku:{sku}"));
                }
            }
            batch_offers.insert(row.supplier_sku.clone(), product_id);
            if let Some(title) = &row.title {
                titles.insert(product_id, title.clone());
            }
            let brand_id = row.brand.as_ref().and_then(|b| self.brands.get(&b.to_lowercase()).copied());
            let mut allowed_attributes: Option<Vec<(String, String)>> = None;
            // What a stored product takes of the row's stock, categories and images (None: all of it).
            let mut allowed_stock: Option<Option<i64>> = None;
            let mut allowed_location_stocks: Option<Vec<(String, i64)>> = None;
            let mut allowed_links: Option<Vec<(Uuid, i32)>> = None;
            let mut allowed_images: Option<Vec<(String, i32)>> = None;
            // SEO metadata kept out for its slug: the row is looked at again by the next import (no hash kept), so
            // the metadata lands once the slug is free.
            let mut seo_waits = false;
            let writes = &mut plan.writes;
            if new_product {
                plan.products_created += 1;
                if parent.is_some() {
                    plan.variants_created += 1;
                }
                writes.new_products.push(NewProductRow {
                    id: product_id,
                    gtin: row.gtin.clone(),
                    sku: row.sku.clone(),
                    title: row.title.clone().unwrap_or_default(),
                    description: row.description.clone(),
                    brand_id,
                    status: row.status.unwrap_or("active"),
                    availability: row.availability.map(|a| a.as_str()),
                });
            } else if let Some(rules) = survivorship.get_mut(&product_id) {
                // A stored product: each field the row gives is written only when the rules let this supplier set
                // it and it changes.
                let by = (self.supplier, self.job, &ranks, self.unranked);
                let changes_only = self.changes_only.as_deref();
                // SEO metadata whose slug another product has stays out (not the row: its other fields go on).
                let title = row.title.clone().or_else(|| rules.value("title").map(str::to_string));
                let mut seo_offers = Vec::with_capacity(row.seo.len());
                let mut seo_clashes = Vec::new();
                for entry @ (locale, slug, meta_title, meta_description) in &row.seo {
                    let field = crate::catalog::provenance::seo_field(locale);
                    let stored = rules.value(&field).and_then(crate::catalog::provenance::parse_seo_value);
                    let stored_slug = stored.map(|(slug, ..)| slug);
                    let Some(slug) = slug_for(slug, stored_slug, meta_title.as_deref(), title.as_deref()) else {
                        seo_clashes.push((field, Kept::NoSlug, seo_text(entry)));
                        continue;
                    };
                    match slug_owners.get(&(locale.clone(), slug.clone())) {
                        Some(owner) if *owner != product_id => {
                            seo_clashes.push((field, Kept::SlugTaken(*owner), seo_text(entry)));
                        }
                        _ => {
                            let old_slug = rules
                                .value(&field)
                                .and_then(crate::catalog::provenance::parse_seo_value)
                                .map(|(old, ..)| old)
                                .filter(|old| *old != slug);
                            let entry = (locale.clone(), slug, meta_title.clone(), meta_description.clone());
                            seo_offers.push((field, entry, old_slug));
                        }
                    }
                }
                // The windows the row states: those it gives or clears, and with our `price_windows` column every
                // pair the product has windows of (a pair the file no longer lists is cleared).
                let mut window_groups = row.window_groups();
                if row.all_windows_stated {
                    for pair in rules.window_pairs() {
                        window_groups.entry(pair).or_default();
                    }
                }
                let mut window_offers = Vec::with_capacity(window_groups.len());
                for ((price_type, currency), group) in window_groups {
                    let Ok(code) = currency.parse::<crate::catalog::CurrencyCode>() else { continue };
                    let field = crate::catalog::provenance::price_windows_field(price_type.as_str(), currency);
                    let text = crate::catalog::prices::window::windows_text(code, &group);
                    if text.is_empty() && rules.value(&field).is_none_or(str::is_empty) {
                        continue; // no windows, and none to clear
                    }
                    window_offers.push((price_type, currency, field, text, group));
                }
                // A price the row gives in a window only: the open-ended one of that pair goes (through the rules).
                let open_offers: Vec<(PriceType, &'static str, String)> = row
                    .open_replaced
                    .iter()
                    .map(|(t, c)| (*t, *c, crate::catalog::provenance::price_field(t.as_str(), c)))
                    .filter(|(.., field)| rules.value(field).is_some_and(|v| !v.is_empty()))
                    .collect();
                let claims = &mut writes.field_sources;
                let history = &mut writes.history;
                let mut kept = BTreeMap::new();
                let mut not_taken = BTreeMap::new();
                let mut take = |field: &str, value: Option<String>| -> Option<String> {
                    let value = value?;
                    let offered = if changes_only.is_some_and(|groups| FieldGroup::of(field).kept_by(groups)) {
                        // The template changes other groups only: a value the product has stays, counted as kept.
                        if rules.value(field) == Some(value.as_str()) { Ok(false) } else { Err(Kept::TemplateRule) }
                    } else {
                        rules.offer(product_id, (field, &value), by, claims)
                    };
                    match offered {
                        Ok(true) => {
                            history.push((product_id, field.to_string(), ChangeKind::Set, value.clone()));
                            Some(value)
                        }
                        Ok(false) => None,
                        Err(rule) => {
                            kept.insert(field.to_string(), rule.rule().to_string());
                            not_taken.insert(field.to_string(), crate::catalog::provenance::shown_value(field, &value));
                            None
                        }
                    }
                };
                let update = ProductUpdate {
                    id: product_id,
                    gtin: take("gtin", row.gtin.clone()),
                    sku: take("sku", row.sku.clone()),
                    title: take("title", row.title.clone()),
                    description: take("description", row.description.clone()),
                    brand_id: take("brand", brand_id.map(|b| b.to_string())).and(brand_id),
                    status: take("status", row.status.map(str::to_string)).and(row.status),
                    availability: take("availability", row.availability.map(|a| a.to_string()))
                        .and(row.availability.map(|a| a.as_str())),
                };
                let mut prices = Vec::with_capacity(row.prices.len());
                for (price_type, currency, minor) in &row.prices {
                    let field = crate::catalog::provenance::price_field(price_type.as_str(), currency);
                    if take(&field, Some(minor.to_string())).is_some() {
                        prices.push((product_id, price_type.as_str(), *currency, *minor));
                    }
                }
                let mut windows = Vec::new();
                for (price_type, currency, field, text, group) in window_offers {
                    if take(&field, Some(text)).is_some() {
                        windows.push((product_id, price_type.as_str(), currency, group));
                    }
                }
                let mut seo = Vec::new();
                for (field, (locale, slug, meta_title, meta_description), old_slug) in seo_offers {
                    let value = crate::catalog::provenance::seo_value(
                        &slug,
                        meta_title.as_deref(),
                        meta_description.as_deref(),
                    );
                    if take(&field, Some(value)).is_some() {
                        // The slug is this product's from now on; the one it had is free from the next batch (a
                        // statement frees and takes no slug at once).
                        slug_owners.insert((locale.clone(), slug.clone()), product_id);
                        slug_changes.insert((locale.clone(), slug.clone()), Some(product_id));
                        if let Some(old) = old_slug {
                            slug_changes.insert((locale.clone(), old), None);
                        }
                        seo.push((product_id, locale, slug, meta_title, meta_description));
                    }
                }
                let mut open_removed = Vec::new();
                for (price_type, currency, field) in open_offers {
                    if take(&field, Some(String::new())).is_some() {
                        open_removed.push((product_id, price_type.as_str(), currency));
                    }
                }
                let changes_own =
                    !prices.is_empty() || !windows.is_empty() || !open_removed.is_empty() || !seo.is_empty();
                if (update.changes_anything() || changes_own) && changed_products.insert(product_id) {
                    plan.products_updated += 1;
                }
                // Attributes follow the same rules, each its own field (`attribute:color`).
                let attributes: Vec<(String, String)> = row
                    .attributes
                    .iter()
                    .filter_map(|(name, value)| {
                        let field = crate::catalog::provenance::attribute_field(name);
                        take(&field, Some(value.clone())).map(|value| (name.clone(), value))
                    })
                    .collect();
                allowed_attributes = Some(attributes);
                // The product's own stock (a shop's file): a person's count stays like any field of theirs.
                let stock = row.product_stock.and_then(|quantity| take("stock", Some(quantity.to_string())));
                allowed_stock = Some(stock.and_then(|quantity| quantity.parse().ok()));
                // At other locations, each its own field (`stock:shop`).
                let location_stocks = row.location_stocks.iter().filter_map(|(location, quantity)| {
                    let field = crate::catalog::provenance::stock_field(location);
                    let taken = take(&field, Some(quantity.to_string()))?;
                    Some((location.clone(), taken.parse().ok()?))
                });
                allowed_location_stocks = Some(location_stocks.collect());
                // Categories and image URLs are added, never removed: each new one is recorded in the history,
                // unless a lock or a rule keeps the collection as it is.
                // Whether this import may add to a collection at all: a lock, the supplier's or the template's rule.
                let open = |field: &str| match changes_only.is_some_and(|groups| FieldGroup::of(field).kept_by(groups))
                {
                    true => Err(Kept::TemplateRule),
                    false => rules.admits_members(field, self.supplier, &ranks),
                };
                let (links_open, images_open) = (open(CATEGORIES_FIELD), open(IMAGES_FIELD));
                let mut links = Vec::new();
                let mut refused_paths = Vec::new();
                for (position, path) in row.categories.iter().enumerate() {
                    let Some(category) = self.category_paths.get(path).copied() else { continue };
                    let member = format!("category:{category}");
                    if rules.has(&member) {
                        continue; // linked already: nothing to write, its source stays
                    }
                    match links_open {
                        Ok(()) => {
                            rules.add(member);
                            history.push((product_id, CATEGORIES_FIELD.to_string(), ChangeKind::Add, path.join(" > ")));
                            links.push((category, position as i32));
                        }
                        Err(rule) => {
                            kept.insert(CATEGORIES_FIELD.to_string(), rule.rule().to_string());
                            refused_paths.push(path.join(" > "));
                        }
                    }
                }
                if !refused_paths.is_empty() {
                    not_taken.insert(CATEGORIES_FIELD.to_string(), refused_paths.join("; "));
                }
                allowed_links = Some(links);
                let mut images = Vec::new();
                let mut refused_urls = Vec::new();
                for (position, url) in row.images.iter().enumerate() {
                    let member = format!("image:{url}");
                    let known = rules.has(&member);
                    match images_open {
                        // A URL it has takes its place in the supplier's list (not under a lock); its source stays.
                        Ok(()) if known => images.push((url.clone(), position as i32)),
                        Err(_) if known => {}
                        Ok(()) => {
                            rules.add(member);
                            history.push((product_id, IMAGES_FIELD.to_string(), ChangeKind::Add, url.clone()));
                            images.push((url.clone(), position as i32));
                        }
                        Err(rule) => {
                            kept.insert(IMAGES_FIELD.to_string(), rule.rule().to_string());
                            refused_urls.push(url.as_str());
                        }
                    }
                }
                if !refused_urls.is_empty() {
                    not_taken.insert(IMAGES_FIELD.to_string(), refused_urls.join(" "));
                }
                allowed_images = Some(images);
                seo_waits = !seo_clashes.is_empty();
                for (field, rule, given) in seo_clashes {
                    not_taken.insert(field.clone(), given);
                    kept.insert(field, rule.rule().to_string());
                }
                if !not_taken.is_empty() {
                    // The brand as the file named it, not its id.
                    if let (Some(name), Some(value)) = (&row.brand, not_taken.get_mut("brand")) {
                        value.clone_from(name);
                    }
                    writes.not_taken.push((row.supplier_sku.clone(), not_taken));
                }
                writes.prices.extend(prices);
                writes.price_windows.extend(windows);
                writes.open_price_removals.extend(open_removed);
                writes.seo.extend(seo);
                plan.fields_kept += kept.len() as u64;
                if !kept.is_empty() {
                    plan.kept.insert(row.line, kept);
                }
                if update.changes_anything() {
                    merge_update(&mut writes.product_updates, &mut updates, update);
                }
            } else {
                let update = ProductUpdate {
                    id: product_id,
                    gtin: row.gtin.clone(),
                    sku: row.sku.clone(),
                    title: row.title.clone(),
                    description: row.description.clone(),
                    brand_id,
                    status: row.status,
                    availability: row.availability.map(|a| a.as_str()),
                };
                merge_update(&mut writes.product_updates, &mut updates, update);
            }
            writes.offers.push(offer_of(&row, offer_id, product_id));
            if new_product || !survivorship.contains_key(&product_id) {
                for (price_type, currency, minor) in &row.prices {
                    writes.prices.push((product_id, price_type.as_str(), *currency, *minor));
                }
                for ((price_type, currency), group) in row.window_groups() {
                    // A new product has no windows to clear.
                    if !(new_product && group.is_empty()) {
                        writes.price_windows.push((product_id, price_type.as_str(), currency, group));
                    }
                }
                if !new_product {
                    let removals = row.open_replaced.iter().map(|(t, c)| (product_id, t.as_str(), *c));
                    writes.open_price_removals.extend(removals);
                }
                let mut seo_not_taken = BTreeMap::new();
                for entry @ (locale, slug, meta_title, meta_description) in &row.seo {
                    let field = crate::catalog::provenance::seo_field(locale);
                    let rule = match slug_for(slug, None, meta_title.as_deref(), row.title.as_deref()) {
                        None => Some(Kept::NoSlug),
                        Some(slug) => match slug_owners.get(&(locale.clone(), slug.clone())) {
                            Some(owner) if *owner != product_id => Some(Kept::SlugTaken(*owner)),
                            _ => {
                                slug_owners.insert((locale.clone(), slug.clone()), product_id);
                                slug_changes.insert((locale.clone(), slug.clone()), Some(product_id));
                                let entry =
                                    (product_id, locale.clone(), slug, meta_title.clone(), meta_description.clone());
                                writes.seo.push(entry);
                                None
                            }
                        },
                    };
                    if let Some(rule) = rule {
                        seo_waits = true;
                        plan.fields_kept += 1;
                        plan.kept.entry(row.line).or_default().insert(field.clone(), rule.rule().to_string());
                        seo_not_taken.insert(field, seo_text(entry));
                    }
                }
                if !seo_not_taken.is_empty() {
                    writes.not_taken.push((row.supplier_sku.clone(), seo_not_taken));
                }
            }
            if seo_waits && let Some(offer) = writes.offers.last_mut() {
                offer.row_hash.clear();
            }
            // A stored product takes only the attributes its rules let this supplier change.
            let attributes = allowed_attributes.as_ref().unwrap_or(&row.attributes);
            for (position, (name, value)) in attributes.iter().enumerate() {
                writes.attributes.push((product_id, name.clone(), value.clone(), position as i32));
            }
            match allowed_links {
                Some(links) => {
                    writes.category_links.extend(links.into_iter().map(|(category, at)| (product_id, category, at)));
                }
                None => {
                    for (position, path) in row.categories.iter().enumerate() {
                        if let Some(category) = self.category_paths.get(path) {
                            writes.category_links.push((product_id, *category, position as i32));
                        }
                    }
                }
            }
            match allowed_images {
                Some(images) => writes.images.extend(images.into_iter().map(|(url, at)| (product_id, url, at))),
                None => {
                    for (position, url) in row.images.iter().enumerate() {
                        writes.images.push((product_id, url.clone(), position as i32));
                    }
                }
            }
            if let Some(quantity) = allowed_stock.unwrap_or(row.product_stock) {
                writes.product_stocks.push((product_id, DEFAULT_LOCATION.to_string(), quantity));
                if allowed_stock.is_none() {
                    // A product this batch made (or its rules did not see): the stock's source is this import.
                    writes.field_sources.push((product_id, "stock".to_string()));
                }
            }
            match allowed_location_stocks {
                Some(stocks) => writes.product_stocks.extend(stocks.into_iter().map(|(l, q)| (product_id, l, q))),
                None => {
                    for (location, quantity) in &row.location_stocks {
                        writes.product_stocks.push((product_id, location.clone(), *quantity));
                        writes.field_sources.push((product_id, crate::catalog::provenance::stock_field(location)));
                    }
                }
            }
            if let Some(parent) = parent {
                let options = serde_json::to_value(&row.variant_options).unwrap_or_default();
                writes.variants.push((parent, product_id, options));
                are_variants.insert(product_id);
                have_variants.insert(parent);
            }
            for (child, options) in listed {
                writes.variants.push((product_id, child, serde_json::to_value(options).unwrap_or_default()));
                are_variants.insert(child);
                have_variants.insert(product_id);
            }
            if touched.insert(product_id) {
                writes.touched_products.push(product_id);
            }
            if new_offer {
                plan.created += 1;
                if self.dry_run {
                    plan.new_rows.push(row);
                }
            } else {
                plan.updated += 1;
                if let Some((_, _, _, cost_before)) = existing
                    && *cost_before != row.cost.map(|c| c.0)
                {
                    plan.price_changes.push(product_id);
                }
                if self.dry_run
                    && let Some(offer) = existing
                {
                    plan.changed.push((row, offer.clone()));
                }
            }
        }
        if self.dry_run {
            self.carried = Carried {
                gtins: batch_gtin,
                skus: batch_sku,
                offers: batch_offers,
                titles,
                are_variants,
                have_variants,
                first_rows,
                retail: parent_prices,
                slugs: slug_changes,
            };
        }
        dedup_last(&mut plan.writes.prices, |p| (p.0, p.1, p.2));
        dedup_last(&mut plan.writes.price_windows, |p| (p.0, p.1, p.2));
        dedup_last(&mut plan.writes.seo, |s| (s.0, s.1.clone()));
        dedup_last(&mut plan.writes.field_sources, |f| (f.0, f.1.clone()));
        dedup_last(&mut plan.writes.not_taken, |n| n.0.clone());
        dedup_last(&mut plan.writes.attributes, |a| (a.0, a.1.to_lowercase()));
        dedup_last(&mut plan.writes.category_links, |l| (l.0, l.1));
        dedup_last(&mut plan.writes.images, |i| (i.0, i.1.clone()));
        dedup_last(&mut plan.writes.variants, |v| v.1);
        dedup_last(&mut plan.writes.product_stocks, |s| (s.0, s.1.clone()));
        // Two rows of one product may list the same offer: one statement may write a key once (PostgreSQL).
        dedup_last(&mut plan.writes.listed_offers, |o| (o.supplier_id, o.supplier_sku.clone()));
        Ok(plan)
    }

    /// The survivorship state of these stored products: their values, origin and field owners.
    async fn survivorship(
        &self,
        products: &[Uuid],
        collections: catalog_repo::Collections,
    ) -> Result<HashMap<Uuid, Survivorship>> {
        if products.is_empty() {
            return Ok(HashMap::new());
        }
        let (stored, sources) = futures_util::try_join!(
            catalog_repo::stored_products(&self.catalog, products, collections),
            crate::catalog::provenance::repo::sources_of(&self.catalog, products),
        )
        .map_err(catalog_db_error)?;
        let mut states: HashMap<Uuid, Survivorship> = stored
            .into_iter()
            .map(|(id, product)| (id, Survivorship::new(product.origin.source(), product.values)))
            .collect();
        for row in sources {
            if let Some(state) = states.get_mut(&row.product_id) {
                state.set_owner(&row.field, FieldOwner { source: row.source(), locked: row.locked });
            }
        }
        Ok(states)
    }

    /// A resumed run: the rows before `checkpoint` were counted by the run that wrote them.
    pub(crate) fn resumed_from(&mut self, checkpoint: Checkpoint) {
        self.counted = checkpoint;
    }

    /// Adds the rows of this batch (since the last checkpoint counted) to `import_rows_total` by result: its rate
    /// is the import speed.
    fn count_rows(&mut self, checkpoint: Checkpoint) {
        for (result, now, before) in [
            ("created", checkpoint.rows_created, self.counted.rows_created),
            ("updated", checkpoint.rows_updated, self.counted.rows_updated),
            ("unchanged", checkpoint.rows_unchanged, self.counted.rows_unchanged),
            ("invalid", checkpoint.rows_invalid, self.counted.rows_invalid),
        ] {
            let rows = u64::try_from(now - before).unwrap_or(0);
            if rows > 0 {
                metrics::counter!("import_rows_total", "result" => result).increment(rows);
            }
        }
        self.counted = checkpoint;
    }

    /// Writes a planned batch with its checkpoint, then drops what the cache holds about its products.
    pub(crate) async fn write(&mut self, plan: &BatchPlan, checkpoint: Checkpoint) -> Result<()> {
        let now = chrono::Utc::now();
        catalog_repo::write_batch(&self.catalog, self.supplier, self.job, &plan.writes, checkpoint, now)
            .await
            .map_err(catalog_db_error)?;
        self.count_rows(checkpoint);
        // The tables grow fast under an import: the planner's statistics are refreshed after 1, 10, 100… batches
        // that wrote rows, so lookups keep using their indexes (PostgreSQL; SQLite plans without statistics).
        if !plan.writes.offers.is_empty() {
            self.batches_written += 1;
            if power_of_ten(self.batches_written) {
                catalog_repo::refresh_statistics(&self.catalog).await.map_err(catalog_db_error)?;
            }
        }
        // A cached product carries its prices and best offer: every stored product the batch wrote is dropped, not
        // only those whose own fields changed (a price- or offer-only change was read stale until the entry expired).
        let created: HashSet<Uuid> = plan.writes.new_products.iter().map(|p| p.id).collect();
        for product in plan.writes.touched_products.iter().filter(|id| !created.contains(id)) {
            self.cache.invalidate(CacheKind::Products, &product.to_string()).await;
        }
        for key in &plan.identifier_keys {
            self.cache.invalidate(CacheKind::Products, key).await;
        }
        if !plan.writes.touched_products.is_empty() {
            crate::catalog::common::catalog_changed(&self.cache).await;
        }
        Ok(())
    }

    /// Describes a dry run's changes, up to the sample size.
    pub(crate) async fn describe(&mut self, plan: &BatchPlan) -> Result<()> {
        for row in &plan.new_rows {
            if self.diffs.len() >= DIFF_SAMPLE {
                return Ok(());
            }
            let mut given = row_fields(row);
            with_slugs(&mut given, &HashMap::new(), row.title.as_deref());
            let fields = given
                .into_iter()
                .filter(|(_, value)| value.as_deref().is_some_and(|v| !v.is_empty()))
                .map(|(name, value)| (name, (None, value)))
                .collect();
            self.diffs.push(RowDiff {
                line: row.line,
                supplier_sku: row.supplier_sku.clone(),
                kind: "new".into(),
                fields,
                kept: plan.kept.get(&row.line).cloned().unwrap_or_default(),
            });
        }
        for (row, (offer, _, _, _)) in &plan.changed {
            if self.diffs.len() >= DIFF_SAMPLE {
                return Ok(());
            }
            let stored = catalog_repo::stored_fields(&self.catalog, *offer).await.map_err(catalog_db_error)?;
            let kept = plan.kept.get(&row.line).cloned().unwrap_or_default();
            let mut given = row_fields(row);
            let title = row.title.as_deref().or(stored.get("title").and_then(|t| t.as_deref()));
            with_slugs(&mut given, &stored, title);
            // Our `price_windows` column states every pair: a stored pair it does not list is cleared.
            if row.all_windows_stated {
                for name in stored.keys().filter(|name| name.starts_with("price_windows:")) {
                    if !given.iter().any(|(given, _)| given == name) {
                        given.push((name.clone(), Some(String::new())));
                    }
                }
            }
            let fields = given
                .into_iter()
                .map(|(name, value)| (name, value.filter(|v| !v.is_empty())))
                // The rules name the product's own stock `stock` (the offer's stock is never kept).
                .filter(|(name, _)| !kept.contains_key(if name == "product_stock" { "stock" } else { name }))
                .filter_map(|(name, value)| {
                    let before = stored.get(&name).cloned().flatten();
                    (before != value).then_some((name, (before, value)))
                })
                .collect();
            self.diffs.push(RowDiff {
                line: row.line,
                supplier_sku: row.supplier_sku.clone(),
                kind: "changed".into(),
                fields,
                kept,
            });
        }
        Ok(())
    }
}

/// The offer a row writes: the supplier's own data (cost, stock, lead time) and the row's hash.
fn offer_of(row: &ImportRow, id: Uuid, product_id: Uuid) -> OfferWrite {
    OfferWrite {
        id,
        product_id,
        supplier_sku: row.supplier_sku.clone(),
        cost_minor: row.cost.map(|c| c.0),
        currency: row.cost.map(|c| c.1),
        // A shop's row gives the product's own stock: its offer holds none besides (a stock it had from an import
        // before this reading is set to 0, else the available stock would add it). A file that has both (ours)
        // says each: an empty offer stock there is unknown.
        stock: if row.stock_column { row.stock } else { row.stock.or(row.product_stock.map(|_| 0)) },
        lead_time_days: row.lead_time_days,
        is_available: row.available,
        row_hash: row.hash.to_vec(),
    }
}

/// Adds `update` to a batch's product updates; two rows about one product: the later one's values win, field by
/// field.
fn merge_update(updates: &mut Vec<ProductUpdate>, index_of: &mut HashMap<Uuid, usize>, update: ProductUpdate) {
    match index_of.get(&update.id) {
        Some(&index) => {
            let merged = &mut updates[index];
            merged.gtin = update.gtin.or(merged.gtin.take());
            merged.sku = update.sku.or(merged.sku.take());
            merged.title = update.title.or(merged.title.take());
            merged.description = update.description.or(merged.description.take());
            merged.brand_id = update.brand_id.or(merged.brand_id.take());
            merged.status = update.status.or(merged.status.take());
            merged.availability = update.availability.or(merged.availability.take());
        }
        None => {
            index_of.insert(update.id, updates.len());
            updates.push(update);
        }
    }
}

/// `Parent - value, value`, or the parent's title when the variant has no options.
fn variant_title(parent: &str, options: &BTreeMap<String, String>) -> String {
    if options.is_empty() {
        return parent.to_string();
    }
    let values: Vec<&str> = options.values().map(String::as_str).collect();
    format!("{parent} - {}", values.join(", "))
}

/// The fields a row gives, as text, named as [`catalog_repo::stored_fields`] names them.
fn row_fields(row: &ImportRow) -> Vec<(String, Option<String>)> {
    let mut fields = Vec::new();
    let mut give = |name: &str, value: Option<String>| {
        if value.is_some() {
            fields.push((name.to_string(), value));
        }
    };
    give("gtin", row.gtin.clone());
    give("sku", row.sku.clone());
    give("title", row.title.clone());
    give("description", row.description.clone());
    give("cost", row.cost.map(|(minor, currency)| format!("{minor} {currency}")));
    give("stock", row.stock.map(|s| s.to_string()));
    give("product_stock", row.product_stock.map(|s| s.to_string()));
    for (location, quantity) in &row.location_stocks {
        give(&crate::imports::mapping::product_stock_column(location), Some(quantity.to_string()));
    }
    give("lead_time_days", row.lead_time_days.map(|d| d.to_string()));
    give("availability", row.availability.map(|a| a.to_string()));
    for (price_type, currency, minor) in &row.prices {
        give(&format!("price:{price_type}:{currency}"), Some(minor.to_string()));
    }
    // Windows, and open-ended prices the row gives in a window only: `""` says "none" (the diff leaves out a
    // field that had none either).
    for ((price_type, currency), group) in row.window_groups() {
        if let Ok(code) = currency.parse() {
            let field = crate::catalog::provenance::price_windows_field(price_type.as_str(), currency);
            give(&field, Some(crate::catalog::prices::window::windows_text(code, &group)));
        }
    }
    for (price_type, currency) in &row.open_replaced {
        give(&crate::catalog::provenance::price_field(price_type.as_str(), currency), Some(String::new()));
    }
    for entry in &row.seo {
        give(&crate::catalog::provenance::seo_field(&entry.0), Some(seo_text(entry)));
    }
    fields
}

/// A row's SEO metadata in a locale as provenance writes it (the file's words, its slug as given or made).
fn seo_text((_, slug, meta_title, meta_description): &super::validate::SeoMeta) -> String {
    crate::catalog::provenance::seo_value(slug, meta_title.as_deref(), meta_description.as_deref())
}

/// The slug a row's SEO metadata goes with: the one it gives; else the one the product has in that locale; else one
/// made from the row's meta title, else from the title (the row's, else the product's).
fn slug_for(given: &str, stored: Option<String>, meta_title: Option<&str>, title: Option<&str>) -> Option<String> {
    if !given.is_empty() {
        return Some(given.to_string());
    }
    if let Some(stored) = stored.filter(|slug| !slug.is_empty()) {
        return Some(stored);
    }
    [meta_title, title]
        .into_iter()
        .flatten()
        .find_map(|from| crate::catalog::common::slug_or_from("slug", None, from).ok())
}

/// A dry run's SEO fields with the slug the real run gives a row without one (the product's, else one made from
/// the meta title or title): a row that states no slug changes none.
fn with_slugs(given: &mut [(String, Option<String>)], stored: &HashMap<String, Option<String>>, title: Option<&str>) {
    use crate::catalog::provenance::{parse_seo_value, seo_value};
    for (name, value) in given.iter_mut().filter(|(name, _)| name.starts_with("seo:")) {
        let Some((slug, meta_title, meta_description)) = value.as_deref().and_then(parse_seo_value) else { continue };
        if !slug.is_empty() {
            continue;
        }
        let stored_slug = stored.get(name.as_str()).cloned().flatten().and_then(|v| parse_seo_value(&v)).map(|s| s.0);
        let slug = slug_for("", stored_slug, meta_title.as_deref(), title).unwrap_or_default();
        *value = Some(seo_value(&slug, meta_title.as_deref(), meta_description.as_deref()));
    }
}

/// Keeps the last item of each key, in the order of their first appearance.
fn dedup_last<T, K: std::hash::Hash + Eq>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
    let mut last: HashMap<K, usize> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        last.insert(key(item), index);
    }
    if last.len() == items.len() {
        return;
    }
    let mut index = 0;
    items.retain(|item| {
        let keep = last.get(&key(item)) == Some(&index);
        index += 1;
        keep
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_keeps_the_last_of_each_key() {
        let mut items = vec![(1, "a"), (2, "b"), (1, "c"), (3, "d"), (2, "e")];
        dedup_last(&mut items, |i| i.0);
        assert_eq!(items, [(1, "c"), (3, "d"), (2, "e")]);
    }

    #[test]
    fn statistics_are_refreshed_after_1_10_100_batches() {
        let refreshed: Vec<u64> = (1..=1000).filter(|n| power_of_ten(*n)).collect();
        assert_eq!(refreshed, [1, 10, 100, 1000]);
    }
}
