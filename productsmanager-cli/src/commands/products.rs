//! `products create|get|history|field|update|list|search|reindex|delete|purge|duplicates|merge|merges|unmerge`.

use clap::Subcommand;
use productsmanager_core::Sdk;
use productsmanager_core::catalog::{
    CatalogError, CurrencyCode, DuplicateCandidate, DuplicateQuery, DuplicateSide, FieldAction, FieldProvenance,
    FieldSource, NewProduct, Page, PriceType, Product, ProductChange, ProductMerge, ProductPatch, ProductQuery,
    ProductSort, ProductStatus,
};
use productsmanager_core::exports::ExportFilters;
use productsmanager_core::input::{parse_id, parse_json};

use crate::{Failure, output};

#[derive(Debug, Subcommand)]
pub(crate) enum ProductCommand {
    /// Create a product from JSON (`{"gtin"?, "sku"?, "title", "description"?, "brand_id"?, "status"?,
    /// "attributes"?}`); prints it as JSON.
    Create {
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// Show one product by id, GTIN, SKU or ASIN.
    Get {
        key: String,
        /// Show where each field's value came from (a person, a supplier's import, …), when, and its lock.
        #[arg(long)]
        provenance: bool,
        #[arg(long)]
        json: bool,
    },
    /// Show the changes of a product's fields since it was created, newest first: value, value before, source.
    History {
        /// Id, GTIN, SKU, ASIN or supplier SKU.
        key: String,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Lock a field (no import or person changes it), unlock it, or make it follow the suppliers again (it takes
    /// the first supplier's value at once); fields: title, description, brand, status, availability, sku, gtin, asin,
    /// price:<type>:<CUR>, price_windows:<type>:<CUR>, seo:<locale>, attribute:<name>, stock (stock:<location>),
    /// categories, images (a lock: imports add none).
    Field {
        /// Id, GTIN, SKU or ASIN.
        key: String,
        field: String,
        #[arg(value_enum)]
        action: FieldRuleArg,
        #[arg(long)]
        json: bool,
    },
    /// Change the fields given in JSON (others stay; `null` clears; `"version"` guards against lost updates).
    Update {
        #[arg(value_name = "PRODUCT")]
        id: String,
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// List products, filtered, one page at a time.
    List {
        #[command(flatten)]
        filters: Box<ListFilters>,
        #[arg(long)]
        json: bool,
    },
    /// Full-text search (title, description, brand, SKU, GTIN, supplier SKU) with the list filters.
    Search {
        query: String,
        #[command(flatten)]
        filters: Box<ListFilters>,
        #[arg(long)]
        json: bool,
    },
    /// Rebuild the search index of every product (repairs; writes keep it current).
    Reindex,
    /// Delete a product (softly: `purge` removes it for good).
    Delete {
        /// Id, GTIN, SKU or ASIN.
        #[arg(value_name = "PRODUCT")]
        id: String,
    },
    /// Remove a deleted product for good.
    Purge { id: String },
    /// List products that are probably one (brand and title alike, one of the two without a GTIN), best first,
    /// with the suggested survivor.
    Duplicates {
        /// Pairs scoring at least this (0 to 1: the weighted share of title words in common).
        #[arg(long, default_value_t = 0.8)]
        min_score: f64,
        /// At most this many pairs.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Merge DUPLICATE into SURVIVOR: offers, prices, attributes, categories, images, stock, SEO and variants move;
    /// the survivor's own values win; DUPLICATE's id and keys then answer with SURVIVOR. `unmerge` undoes it.
    Merge {
        /// The product that stays: id, GTIN, SKU, ASIN or supplier SKU.
        survivor: String,
        /// The product merged into it (deleted softly).
        duplicate: String,
        #[arg(long)]
        json: bool,
    },
    /// List merges, newest first (undone ones too).
    Merges {
        /// Only the merges into or of this product.
        #[arg(long)]
        product: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Undo a merge (within 30 days): what moved goes back, the merged product is live again.
    Unmerge {
        /// The merge's id (`products merges` lists them).
        merge: String,
        #[arg(long)]
        json: bool,
    },
}

/// What `products field` does.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum FieldRuleArg {
    Lock,
    Unlock,
    FollowSuppliers,
}

impl From<FieldRuleArg> for FieldAction {
    fn from(arg: FieldRuleArg) -> Self {
        match arg {
            FieldRuleArg::Lock => FieldAction::Lock,
            FieldRuleArg::Unlock => FieldAction::Unlock,
            FieldRuleArg::FollowSuppliers => FieldAction::FollowSuppliers,
        }
    }
}

/// Which products: the filters `products list`, `products search` and `export file` share.
#[derive(Debug, clap::Args)]
pub(crate) struct ProductSelection {
    /// Only this brand (id or slug).
    #[arg(long)]
    brand: Option<String>,
    /// Only products offered by this supplier (id or code).
    #[arg(long)]
    supplier: Option<String>,
    /// Only this category (id, path or slug) and those below it.
    #[arg(long)]
    category: Option<String>,
    /// Only draft, active or archived products.
    #[arg(long)]
    status: Option<String>,
    /// Only products in stock (own or at a supplier, or stated in stock by a product that counts none).
    #[arg(long, conflicts_with = "out_of_stock")]
    in_stock: bool,
    /// Only products in stock nowhere (those on backorder or preorder, and parents of variants, among them).
    #[arg(long)]
    out_of_stock: bool,
    /// Only products changed at or after this RFC 3339 instant.
    #[arg(long)]
    updated_since: Option<String>,
}

impl ProductSelection {
    /// The filters (the SDK's product selection), brand and supplier keys looked up.
    pub(crate) async fn resolve(&self, sdk: &Sdk) -> Result<ExportFilters, Failure> {
        Ok(ExportFilters {
            brand_id: match &self.brand {
                Some(key) => Some(sdk.brands().find(key).await?.id),
                None => None,
            },
            supplier_id: match &self.supplier {
                Some(key) => Some(sdk.suppliers().find(key).await?.id),
                None => None,
            },
            category_id: match &self.category {
                Some(key) => Some(sdk.categories().find(key).await?.id),
                None => None,
            },
            status: self.status.as_deref().map(str::parse::<ProductStatus>).transpose()?,
            in_stock: match (self.in_stock, self.out_of_stock) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            updated_since: match &self.updated_since {
                Some(text) => Some(chrono::DateTime::parse_from_rfc3339(text).map(|t| t.to_utc()).map_err(|e| {
                    CatalogError::invalid("updated_since", format!("{text:?} is not an RFC 3339 instant: {e}"))
                })?),
                None => None,
            },
        })
    }
}

/// Filters and paging of `products list` (and `products search`).
#[derive(Debug, clap::Args)]
pub(crate) struct ListFilters {
    #[command(flatten)]
    selection: ProductSelection,
    /// Lowest current price, e.g. 9.99 (needs --currency).
    #[arg(long)]
    price_min: Option<String>,
    /// Highest current price, e.g. 49.90 (needs --currency).
    #[arg(long)]
    price_max: Option<String>,
    #[arg(long)]
    currency: Option<String>,
    /// Price type the range applies to: retail (default), sale, purchase or msrp.
    #[arg(long)]
    price_type: Option<String>,
    /// updated (default), created or title.
    #[arg(long, default_value = "updated")]
    sort: String,
    /// Newest or last first.
    #[arg(long)]
    desc: bool,
    #[arg(long)]
    limit: Option<u32>,
    /// The cursor printed under the previous page.
    #[arg(long)]
    cursor: Option<String>,
}

impl ListFilters {
    /// The query these filters describe; brand and supplier keys are looked up.
    pub(crate) async fn query(self, sdk: &Sdk) -> Result<ProductQuery, Failure> {
        let currency = self.currency.as_deref().map(|c| CurrencyCode::parse_field("currency", c)).transpose()?;
        let amount = |field: &str, text: Option<String>| -> Result<Option<i64>, Failure> {
            let Some(text) = text else { return Ok(None) };
            let currency =
                currency.ok_or_else(|| CatalogError::invalid("currency", "a price range needs a currency"))?;
            Ok(Some(currency.minor_units(field, &text)?))
        };
        let selected = self.selection.resolve(sdk).await?;
        Ok(ProductQuery {
            q: None,
            brand_id: selected.brand_id,
            supplier_id: selected.supplier_id,
            category_id: selected.category_id,
            status: selected.status,
            in_stock: selected.in_stock,
            price_min: amount("price_min", self.price_min)?,
            price_max: amount("price_max", self.price_max)?,
            price_type: self.price_type.as_deref().map(str::parse::<PriceType>).transpose()?,
            currency,
            updated_since: selected.updated_since,
            is_variant: None,
            sort: match self.sort.as_str() {
                "updated" => ProductSort::UpdatedAt,
                "created" => ProductSort::CreatedAt,
                "title" => ProductSort::Title,
                other => {
                    return Err(
                        CatalogError::invalid("sort", format!("{other:?} is not updated, created or title")).into()
                    );
                }
            },
            descending: self.desc,
            limit: self.limit,
            cursor: self.cursor,
        })
    }
}

/// A page as a table, with the command-line cursor of the next page under it.
pub(crate) fn print_page(page: &Page<Product>) {
    table(&page.items);
    if let Some(cursor) = &page.next_cursor {
        println!("\nmore: --cursor {cursor}");
    }
}

pub(crate) async fn run(sdk: &Sdk, command: ProductCommand) -> Result<(), Failure> {
    let products = sdk.products();
    match command {
        ProductCommand::Create { json } => output::json(&products.create(parse_json::<NewProduct>(&json)?).await?),
        ProductCommand::Get { key, provenance: false, json } => {
            let product = products.find(&key).await?;
            if json { output::json(&product) } else { table(std::slice::from_ref(&product)) }
        }
        ProductCommand::Get { key, provenance: true, json } => {
            let product = products.find(&key).await?;
            let fields = products.provenance(product.id).await?;
            if json {
                output::json(&serde_json::json!({ "product": product, "provenance": fields }));
            } else {
                table(std::slice::from_ref(&product));
                println!();
                provenance_table(&fields);
            }
        }
        ProductCommand::History { key, limit, json } => {
            let product = products.find(&key).await?;
            let changes = products.history(product.id, limit).await?;
            if json {
                output::json(&changes);
            } else if changes.is_empty() {
                println!("no change since it was created (`products get {key} --provenance` shows who set each field)");
            } else {
                history_table(&changes);
            }
        }
        ProductCommand::Field { key, field, action, json } => {
            let product = products.find(&key).await?;
            let fields = products.set_field_rule(product.id, &field, action.into()).await?;
            if json { output::json(&fields) } else { provenance_table(&fields) }
        }
        ProductCommand::Update { id, json } => {
            let product = products.find(&id).await?;
            output::json(&products.patch(product.id, parse_json::<ProductPatch>(&json)?).await?);
        }
        ProductCommand::List { filters, json } => {
            let page = products.list(&filters.query(sdk).await?).await?;
            if json { output::json(&page) } else { print_page(&page) }
        }
        ProductCommand::Search { query, filters, json } => {
            let page = products.search(&query, &filters.query(sdk).await?).await?;
            if json { output::json(&page) } else { print_page(&page) }
        }
        ProductCommand::Reindex => println!("{} products indexed", products.reindex().await?),
        ProductCommand::Delete { id } => {
            let id = products.find(&id).await?.id;
            products.delete(id).await?;
            println!("deleted product {id} (purge removes it for good)");
        }
        ProductCommand::Purge { id } => {
            let id = parse_id("id", &id)?;
            products.purge(id).await?;
            println!("purged product {id}");
        }
        ProductCommand::Duplicates { min_score, limit, json } => {
            let pairs = sdk.merges().duplicates(DuplicateQuery { min_score, limit }).await?;
            if json {
                output::json(&pairs);
            } else if pairs.is_empty() {
                println!("no probable duplicates scoring {min_score} or more");
            } else {
                duplicates_table(&pairs);
            }
        }
        ProductCommand::Merge { survivor, duplicate, json } => {
            let merge = sdk.merges().merge(&survivor, &duplicate).await?;
            if json {
                output::json(&merge);
            } else {
                println!(
                    "merged {:?} ({}) into {}: moved {}",
                    merge.merged_title, merge.merged_id, merge.survivor_id, merge.moved
                );
                if !merge.filled.is_empty() {
                    println!("filled from it: {}", merge.filled.join(", "));
                }
                if !merge.kept_by_survivor.is_empty() {
                    println!("kept the survivor's own: {}", merge.kept_by_survivor.join(", "));
                }
                println!("undo (within 30 days): productsmanager products unmerge {}", merge.id);
            }
        }
        ProductCommand::Merges { product, limit, json } => {
            let merges = sdk.merges().list(product.as_deref(), limit).await?;
            if json { output::json(&merges) } else { merges_table(&merges) }
        }
        ProductCommand::Unmerge { merge, json } => {
            let merge = sdk.merges().undo(parse_id("merge", &merge)?).await?;
            if json {
                output::json(&merge);
            } else {
                println!("undone: {:?} ({}) is a product of its own again", merge.merged_title, merge.merged_id);
            }
        }
    }
    Ok(())
}

fn duplicates_table(pairs: &[DuplicateCandidate]) {
    output::table(
        ["score", "survivor", "survivor title", "duplicate", "duplicate title"],
        pairs.iter().map(|pair| {
            let key =
                |side: &DuplicateSide| side.gtin.clone().or_else(|| side.sku.clone()).unwrap_or(side.id.to_string());
            [
                format!("{:.2}", pair.score),
                key(&pair.survivor),
                pair.survivor.title.clone(),
                pair.duplicate.id.to_string(),
                pair.duplicate.title.clone(),
            ]
        }),
    );
}

fn merges_table(merges: &[ProductMerge]) {
    output::table(
        ["merge", "at", "survivor", "merged", "merged title", "moved", "undone"],
        merges.iter().map(|m| {
            [
                m.id.to_string(),
                m.created_at.format("%Y-%m-%d %H:%M").to_string(),
                m.survivor_id.to_string(),
                m.merged_id.to_string(),
                m.merged_title.clone(),
                m.moved.to_string(),
                m.undone_at.map(|at| at.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
            ]
        }),
    );
}

/// Who a source is, for people: `ACME (supplier), import 01a2…`, `person 01b3…`.
fn source_text(source: FieldSource, source_name: Option<&str>) -> String {
    match source {
        FieldSource::User { user_id: Some(user) } => format!("person {user}"),
        FieldSource::User { user_id: None } => "a person (command line or program)".to_string(),
        FieldSource::Supplier { supplier_id, job_id } => format!(
            "{} (supplier){}",
            source_name.map_or_else(|| supplier_id.to_string(), str::to_string),
            job_id.map(|job| format!(", import {job}")).unwrap_or_default()
        ),
        FieldSource::Platform { platform_id, .. } => format!("platform {platform_id}"),
        FieldSource::Code2Asin { .. } => "Code2ASIN".to_string(),
        FieldSource::FollowSuppliers => "released: the next supplier import".to_string(),
        FieldSource::Unknown => "unknown (before provenance was recorded)".to_string(),
    }
}

/// The changes, newest first: `2026-12-01 10:00  title  set  Clay pot  (was Pot)  person 01b3…`.
fn history_table(changes: &[ProductChange]) {
    output::table(
        ["at", "field", "change", "value", "before", "by"],
        changes.iter().map(|c| {
            let change = serde_json::to_value(c.change).ok().and_then(|v| v.as_str().map(str::to_string));
            [
                c.changed_at.format("%Y-%m-%d %H:%M").to_string(),
                c.field.clone(),
                change.unwrap_or_default(),
                output::or_dash(c.value.as_deref()),
                output::or_dash(c.previous.as_deref()),
                source_text(c.source, c.source_name.as_deref()),
            ]
        }),
    );
}

/// Each field, who set it and when: `title  ACME (supplier), import 01a2…  2026-12-01 10:00  locked`.
fn provenance_table(fields: &[FieldProvenance]) {
    output::table(
        ["field", "set by", "at", "locked"],
        fields.iter().map(|f| {
            let by = source_text(f.source, f.source_name.as_deref());
            [
                f.field.clone(),
                by,
                f.set_at.format("%Y-%m-%d %H:%M").to_string(),
                if f.locked { "locked".to_string() } else { String::new() },
            ]
        }),
    );
}

pub(crate) fn table(products: &[Product]) {
    output::table(
        ["id", "gtin", "sku", "title", "status", "price", "stock", "best offer"],
        products.iter().map(|p| {
            let retail = p.prices.iter().find(|price| price.price_type == PriceType::Retail);
            [
                p.id.to_string(),
                output::or_dash(p.gtin.map(|g| g.to_string()).as_deref()),
                output::or_dash(p.sku.as_ref().map(|s| s.as_str())),
                p.title.clone(),
                p.status.to_string(),
                output::or_dash(retail.map(|price| price.amount.to_string()).as_deref()),
                match p.availability {
                    // What its source stated beside the count (the count comes first).
                    Some(stated) => format!("{} ({stated} stated)", p.stock.available),
                    None => p.stock.available.to_string(),
                },
                output::or_dash(p.best_offer.as_ref().and_then(|o| o.cost).map(|c| c.to_string()).as_deref()),
            ]
        }),
    );
}
