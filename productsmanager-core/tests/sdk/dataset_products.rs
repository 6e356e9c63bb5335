//! Five products of every file in `../shared/datasets`, field by field, as the import left them: the expected text
//! is in `dataset_products.txt` (each file's section: the import's counts, then each product under the key it was
//! found by). The expectations were written by the code once (`PM_BLESS=1`, on SQLite) and then checked by hand
//! against the files' rows; from then on both backends must give exactly that text. A change that moves any of
//! these fields shows as a difference naming the file and the product.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;

use productsmanager_core::catalog::{ProductQuery, ProductRecord};
use productsmanager_core::db::Backend;
use productsmanager_core::db::Database;
use productsmanager_core::imports::ImportSummary;
use productsmanager_core::{Sdk, with_pool};
use uuid::Uuid;

/// Where the expectations are kept (our own text, made from our import of the files).
fn expectations_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/dataset_products.txt")
}

/// How many products of a file are checked.
const PRODUCTS_PER_FILE: usize = 5;

/// The expectations file, one section per dataset file: `== <file>`, a `summary:` line, then `-- <key>` and the
/// product's lines.
pub(crate) struct Expectations {
    sections: BTreeMap<String, Section>,
    /// What this run found, in the same shape (written back with `PM_BLESS=1`).
    found: BTreeMap<String, Section>,
    /// The files whose section differs, with the difference.
    differences: Vec<String>,
    bless: bool,
}

#[derive(Clone, Default, PartialEq)]
struct Section {
    summary: String,
    /// Key → the product's lines.
    products: Vec<(String, String)>,
}

impl Expectations {
    /// Reads the expectations; blessing (writing what is found) only on SQLite, so that the PostgreSQL run of the
    /// same test compares against what SQLite wrote.
    pub(crate) fn load(backend: Backend) -> Self {
        let text = std::fs::read_to_string(expectations_path()).unwrap_or_default();
        let mut sections = BTreeMap::new();
        let mut current: Option<(String, Section)> = None;
        let mut product: Option<(String, String)> = None;
        for line in text.lines() {
            if let Some(file) = line.strip_prefix("== ") {
                if let Some((name, mut section)) = current.take() {
                    section.products.extend(product.take());
                    sections.insert(name, section);
                }
                current = Some((file.to_string(), Section::default()));
            } else if let Some(summary) = line.strip_prefix("summary: ") {
                if let Some((_, section)) = current.as_mut() {
                    section.summary = summary.to_string();
                }
            } else if let Some(key) = line.strip_prefix("-- ") {
                if let Some((_, section)) = current.as_mut() {
                    section.products.extend(product.take());
                }
                product = Some((key.to_string(), String::new()));
            } else if let Some((_, lines)) = product.as_mut()
                && !line.is_empty()
            {
                lines.push_str(line);
                lines.push('\n');
            }
        }
        if let Some((name, mut section)) = current.take() {
            section.products.extend(product.take());
            sections.insert(name, section);
        }
        let bless = std::env::var("PM_BLESS").is_ok_and(|v| v == "1") && backend == Backend::Sqlite;
        Expectations { sections, found: BTreeMap::new(), differences: Vec::new(), bless }
    }

    /// Checks one file's import: its counts (or its refusal) and its products as the catalog now has them. The
    /// products are those the file's section names; a file without a section (blessing) gets five of the products
    /// its import made, spread over their keys.
    pub(crate) async fn check(
        &mut self,
        sdk: &Sdk,
        file: &str,
        supplier: Uuid,
        outcome: &Result<ImportSummary, String>,
        before: &[String],
    ) {
        let summary = match outcome {
            Ok(s) => format!(
                "rows {}, created {}, updated {}, unchanged {}, merged {}, refused {}, products created {}, variants \
                 created {}, kept {}, GTINs dropped {}, images dropped {}, outcome {:?}",
                s.rows,
                s.created,
                s.updated,
                s.unchanged,
                s.merged,
                s.invalid,
                s.products_created,
                s.variants_created,
                s.fields_kept,
                s.gtins_dropped,
                s.images_dropped,
                s.outcome
            ),
            Err(refused) => format!("refused: {}", refused.replace('\n', " ")),
        };
        let offered = offered_keys(sdk, supplier).await;
        let listed: Option<Vec<String>> = match (self.sections.get(file), outcome) {
            (Some(section), _) if !self.bless || !section.products.is_empty() => {
                Some(section.products.iter().map(|(key, _)| key.clone()).collect())
            }
            // A file refused whole, or that changed no product, has none to show.
            (_, Err(_)) => Some(Vec::new()),
            (_, Ok(s)) if s.created + s.updated + s.merged == 0 => Some(Vec::new()),
            _ => None,
        };
        // The supplier's products are read only when some are shown.
        let records = match &listed {
            Some(keys) if keys.is_empty() => Vec::new(),
            _ => supplier_records(sdk, supplier).await,
        };
        let keys = listed.unwrap_or_else(|| pick(&records, &offered, before));
        let context = if keys.is_empty() { Context::default() } else { Context::of(sdk, &records).await };
        let mut products = Vec::new();
        for key in keys {
            // The key is the file's: this supplier's SKU, else the product's SKU or GTIN.
            let id = match offered.iter().find(|(sku, _)| *sku == key) {
                Some((_, id)) => Ok(*id),
                None => sdk.products().find(&key).await.map(|p| p.id).map_err(|e| e.to_string()),
            };
            let shown = match id {
                Ok(id) => match records.iter().find(|r| r.product.id == id) {
                    Some(record) => context.render(sdk, record).await,
                    None => "not offered by this folder's supplier\n".to_string(),
                },
                Err(error) => format!("not found: {error}\n"),
            };
            products.push((key, shown));
        }
        let found = Section { summary, products };
        match self.sections.get(file) {
            Some(expected) if *expected == found => {}
            Some(expected) => self.differences.push(section_difference(file, expected, &found)),
            None => self.differences.push(format!("{file}: no section in {}", expectations_path().display())),
        }
        self.found.insert(file.to_string(), found);
    }

    /// The supplier's SKUs now, to tell which ones a file then adds.
    pub(crate) async fn keys(sdk: &Sdk, supplier: Uuid) -> Vec<String> {
        offered_keys(sdk, supplier).await.into_iter().map(|(sku, _)| sku).collect()
    }

    /// Fails naming every file whose products differ; with `PM_BLESS=1` (SQLite) writes what was found instead.
    pub(crate) fn finish(self) {
        if self.bless {
            let mut text = String::from(
                "# Five products of each file of ../shared/datasets as our import leaves them (see dataset_products.rs).\n\
                 # Written by PM_BLESS=1, then checked by hand against the files' rows.\n",
            );
            for (file, section) in &self.found {
                let _ = write!(text, "\n== {file}\nsummary: {}\n", section.summary);
                for (key, lines) in &section.products {
                    let _ = write!(text, "-- {key}\n{lines}");
                }
            }
            std::fs::write(expectations_path(), text).unwrap();
            return;
        }
        let unmatched: Vec<&String> = self.sections.keys().filter(|f| !self.found.contains_key(*f)).collect();
        assert!(unmatched.is_empty(), "sections for files not imported: {unmatched:?}");
        assert!(
            self.differences.is_empty(),
            "{} dataset files' products differ from {} (PM_BLESS=1 rewrites it; check the new text by hand):\n{}",
            self.differences.len(),
            expectations_path().display(),
            self.differences.join("\n")
        );
    }
}

fn section_difference(file: &str, expected: &Section, found: &Section) -> String {
    let mut out = format!("== {file}\n");
    if expected.summary != found.summary {
        let _ = write!(out, "summary expected: {}\nsummary found:    {}\n", expected.summary, found.summary);
    }
    for (key, lines) in &found.products {
        match expected.products.iter().find(|(k, _)| k == key) {
            Some((_, wanted)) if wanted == lines => {}
            Some((_, wanted)) => {
                for (a, b) in wanted.lines().zip(lines.lines()).filter(|(a, b)| a != b) {
                    let _ = write!(out, "-- {key}\n  expected: {a}\n  found:    {b}\n");
                }
                if wanted.lines().count() != lines.lines().count() {
                    let _ = write!(out, "-- {key}\n  expected:\n{wanted}  found:\n{lines}");
                }
            }
            None => {
                let _ = writeln!(out, "-- {key}: not expected");
            }
        }
    }
    out
}

/// Every product the supplier offers, as feeds read them.
pub(crate) async fn supplier_records(sdk: &Sdk, supplier: Uuid) -> Vec<ProductRecord> {
    let query = ProductQuery { supplier_id: Some(supplier), ..Default::default() };
    let mut reader = sdk.products().records(query).await.unwrap();
    let mut records = Vec::new();
    while let Some(page) = reader.next_page().await.unwrap() {
        records.extend(page);
    }
    records
}

/// The supplier's SKUs and the products they are offers for.
async fn offered_keys(sdk: &Sdk, supplier: Uuid) -> Vec<(String, Uuid)> {
    const OFFERED: &str = "select supplier_sku, product_id from supplier_products where supplier_id = $1";
    let rows: Vec<(String, Uuid)> =
        with_pool!(sdk.pool(Database::Catalog), |p| sqlx::query_as(OFFERED).bind(supplier).fetch_all(p).await).unwrap();
    rows
}

/// Five of the products a file added (of all the supplier's when it added none), by the supplier's SKU: a variant
/// and a product with variants when there are any, the others spread evenly over the keys.
fn pick(records: &[ProductRecord], offered: &[(String, Uuid)], before: &[String]) -> Vec<String> {
    let mut keys: Vec<(String, Uuid)> = offered.to_vec();
    keys.sort();
    let added: Vec<(String, Uuid)> = keys.iter().filter(|(k, _)| !before.contains(k)).cloned().collect();
    let keys = if added.is_empty() { keys } else { added };
    let record = |id: &Uuid| records.iter().find(|r| r.product.id == *id);
    let spread = |from: Vec<&(String, Uuid)>, count: usize| -> Vec<String> {
        match from.len() {
            0 => Vec::new(),
            n if n <= count => from.iter().map(|(k, _)| k.clone()).collect(),
            n => (0..count).map(|i| from[i * (n - 1) / (count - 1).max(1)].0.clone()).collect(),
        }
    };
    let mut chosen = Vec::new();
    let variants: Vec<&(String, Uuid)> =
        keys.iter().filter(|(_, id)| record(id).is_some_and(|r| r.variant_of.is_some())).collect();
    chosen.extend(spread(variants, 1));
    let parents: Vec<&(String, Uuid)> =
        keys.iter().filter(|(_, id)| record(id).is_some_and(|r| !r.variant_axes.is_empty())).collect();
    chosen.extend(spread(parents, 1));
    let rest: Vec<&(String, Uuid)> = keys.iter().filter(|(k, _)| !chosen.contains(k)).collect();
    let wanted = PRODUCTS_PER_FILE - chosen.len();
    chosen.extend(spread(rest, wanted));
    chosen.sort();
    chosen
}

/// Names the catalog's ids stand for: suppliers' codes, products' titles.
#[derive(Default)]
struct Context {
    suppliers: HashMap<Uuid, String>,
    titles: HashMap<Uuid, String>,
}

impl Context {
    async fn of(sdk: &Sdk, records: &[ProductRecord]) -> Self {
        let suppliers = sdk.suppliers().list().await.unwrap().iter().map(|s| (s.id, s.code.to_string())).collect();
        let mut titles: HashMap<Uuid, String> =
            records.iter().map(|r| (r.product.id, r.product.title.clone())).collect();
        for record in records {
            if let Some(variant) = &record.variant_of
                && !titles.contains_key(&variant.parent_id)
            {
                let parent = sdk.products().get(variant.parent_id).await.unwrap();
                titles.insert(parent.id, parent.title);
            }
        }
        Context { suppliers, titles }
    }

    /// Every field of a product, one line each, in a fixed order.
    async fn render(&self, sdk: &Sdk, record: &ProductRecord) -> String {
        let p = &record.product;
        let none = || "-".to_string();
        let mut out = String::new();
        let _ = writeln!(out, "title: {}", p.title.replace('\n', "\\n").replace('\r', "\\r"));
        let _ = writeln!(
            out,
            "sku: {} | gtin: {} | asin: {} | status: {}",
            p.sku.as_ref().map_or_else(none, |s| s.to_string()),
            p.gtin.as_ref().map_or_else(none, |g| g.to_string()),
            p.asin.as_ref().map_or_else(none, |a| a.to_string()),
            p.status
        );
        let _ = writeln!(out, "brand: {}", record.brand.clone().unwrap_or_else(none));
        let description = p.description.as_deref().map_or_else(none, |d| {
            let start: String = d.chars().take(60).collect::<String>().replace('\n', "\\n").replace('\r', "\\r");
            format!("{start}… ({} characters)", d.chars().count())
        });
        let _ = writeln!(out, "description: {description}");
        let categories: Vec<String> = record.category_paths.iter().map(|path| path.join(" > ")).collect();
        let _ = writeln!(out, "categories: {}", if categories.is_empty() { none() } else { categories.join(" | ") });
        let mut prices: Vec<String> = sdk
            .prices()
            .for_product(p.id)
            .await
            .unwrap()
            .iter()
            .map(|price| {
                let mut shown = format!("{} {}", price.price_type, price.amount);
                if let Some(from) = price.valid_from {
                    let _ = write!(shown, " from {}", from.format("%Y-%m-%d %H:%M"));
                }
                if let Some(to) = price.valid_to {
                    let _ = write!(shown, " to {}", to.format("%Y-%m-%d %H:%M"));
                }
                shown
            })
            .collect();
        prices.sort();
        let _ = writeln!(out, "prices: {}", if prices.is_empty() { none() } else { prices.join("; ") });
        let stock: Vec<String> = record.stock_by_location.iter().map(|(at, units)| format!("{at} {units}")).collect();
        let _ = writeln!(out, "own stock: {}", if stock.is_empty() { none() } else { stock.join("; ") });
        // As stated by the file, then as a feed tells a buyer.
        let stated = p.availability.map(|a| a.to_string()).unwrap_or_else(none);
        let _ = writeln!(out, "availability: stated {stated}, sold as {}", record.availability());
        let mut offers: Vec<String> = sdk
            .offers()
            .for_product(p.id)
            .await
            .unwrap()
            .iter()
            .map(|o| {
                format!(
                    "{} {:?} cost {} stock {} lead {}{}",
                    self.suppliers.get(&o.supplier_id).cloned().unwrap_or_else(|| o.supplier_id.to_string()),
                    o.supplier_sku,
                    o.cost.map_or_else(none, |c| c.to_string()),
                    o.stock.map_or_else(none, |s| s.to_string()),
                    o.lead_time_days.map_or_else(none, |d| format!("{d} days")),
                    if o.is_available { "" } else { " (not available)" }
                )
            })
            .collect();
        offers.sort();
        let _ = writeln!(out, "offers: {}", if offers.is_empty() { none() } else { offers.join("; ") });
        let _ = writeln!(
            out,
            "images: {}",
            if record.image_urls.is_empty() { none() } else { record.image_urls.join(" ") }
        );
        for attribute in &p.attributes {
            let kind = match &attribute.value {
                productsmanager_core::catalog::AttributeValue::Text { .. } => String::new(),
                other => format!(" ({})", serde_json::to_value(other).unwrap()["kind"].as_str().unwrap_or("?")),
            };
            let value = attribute.value.shown().replace('\n', "\\n");
            let _ = writeln!(out, "attribute {}: {value}{kind}", attribute.name);
        }
        if let Some(variant) = &record.variant_of {
            let options: Vec<String> = variant.options.iter().map(|(axis, value)| format!("{axis}={value}")).collect();
            let parent = self.titles.get(&variant.parent_id).cloned().unwrap_or_else(none);
            let _ = writeln!(out, "variant of: {parent} ({})", options.join(", "));
        }
        for axis in &record.variant_axes {
            let _ = writeln!(out, "axis {}: {}", axis.name, axis.values.join(", "));
        }
        for seo in sdk.seo().of(p.id).await.unwrap() {
            let _ = writeln!(
                out,
                "seo {}: slug {} | title {} | description {}",
                seo.locale,
                seo.slug,
                seo.meta_title.unwrap_or_else(none),
                seo.meta_description.unwrap_or_else(none)
            );
        }
        out
    }
}
