//! CSV feeds: ours (the `native` import preset's columns), Shopify's and WooCommerce's product CSV.

use std::io::Write;

use super::{FeedColumns, FeedItem, FeedWriter, attribute_text, decimal, neutralised};
use crate::catalog::prices::window::list_entry;
use crate::catalog::{Availability, CurrencyCode, Money, PriceType, ProductStatus};
use crate::exports::model::ChannelSettings;
use crate::imports::mapping::{DEFAULT_LOCATION, NATIVE_PRICE_COLUMNS, product_stock_column};

/// Our columns, before the per-currency, per-location (`product_stock:<location>`), SEO, `option:<axis>` and
/// `attribute:<name>` ones: what the `native` import
/// preset reads, so that our file imported into an empty catalog gives the same catalog. `sku` is the key a
/// supplier file carries (SKU, else GTIN, else id); `product_sku`, the product's own SKU; `category`, every
/// category path, the main one first, separated by `|`; the prices are the open-ended ones, in `currency`;
/// `price_windows`, the windowed prices (`sale 19.99 EUR 2026-12-01T00:00:00Z/2026-12-25T00:00:00Z`, separated by
/// `|`); `cost`, `stock` and `lead_time_days` are the best supplier offer's (for reading: an import reads
/// `offers`); `offers`, every offer as a JSON list of [`OfferListEntry`](crate::catalog::OfferListEntry);
/// `product_stock`, the product's own stock; `availability`, what its source stated when it keeps no count.
const NATIVE_COLUMNS: [&str; 22] = [
    "sku",
    "product_sku",
    "gtin",
    "title",
    "description",
    "brand",
    "category",
    "price",
    "sale_price",
    "msrp",
    "purchase_price",
    "price_windows",
    "currency",
    "cost",
    "stock",
    "product_stock",
    "availability",
    "lead_time_days",
    "offers",
    "image_url",
    "status",
    "parent_sku",
];

/// Our SEO columns, one of each per locale the catalog has metadata in (`slug:en`, `meta_title:en`…).
const SEO_COLUMNS: [&str; 3] = ["slug", "meta_title", "meta_description"];

/// A cell of our columns: text (neutralised against formulas where it is written) or a number.
pub(super) enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl Cell {
    fn text(value: impl Into<String>) -> Cell {
        let value = value.into();
        if value.is_empty() { Cell::Empty } else { Cell::Text(value) }
    }

    /// As CSV text.
    pub(super) fn to_csv(&self) -> String {
        match self {
            Cell::Text(text) => neutralised(text).into_owned(),
            Cell::Number(n) => n.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// The currencies with columns of their own: every currency of a catalog that has more than one (a row's own
/// currency is in `currency`, its prices in the others in these).
fn other_currencies(columns: &FeedColumns) -> impl Iterator<Item = &String> {
    columns.currencies.iter().filter(move |_| columns.currencies.len() > 1)
}

/// The header of our columns for this catalog.
pub(super) fn native_header(columns: &FeedColumns) -> Vec<String> {
    let per_currency =
        other_currencies(columns).flat_map(|c| NATIVE_PRICE_COLUMNS.iter().map(move |(_, name)| format!("{name}:{c}")));
    NATIVE_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain(per_currency)
        .chain(columns.stock_locations.iter().map(|l| product_stock_column(l)))
        .chain(columns.seo_locales.iter().flat_map(|l| SEO_COLUMNS.map(|part| format!("{part}:{l}"))))
        .chain(columns.axes.iter().map(|a| format!("option:{a}")))
        .chain(columns.attributes.iter().map(|a| format!("attribute:{a}")))
        .collect()
}

/// One row of our columns: the product's own values (the channel's price type does not apply: `price` is the
/// retail price), its prices with the channel's rule.
pub(super) fn native_row(item: &FeedItem<'_>, columns: &FeedColumns) -> Vec<Cell> {
    let product = item.product();
    let offer = product.best_offer.as_ref();
    let money = |m: Option<&Money>| m.map(|m| Cell::text(decimal(m))).unwrap_or(Cell::Empty);
    let offer_cost = offer.and_then(|o| o.cost.as_ref());
    // The row's currency: the channel's, else the offer's cost's (the cost has one column, read in the row's
    // currency), else the retail price's, else any price's.
    let currency = columns
        .currency
        .or_else(|| offer_cost.map(|m| m.currency))
        .or_else(|| item.prices.iter().find(|(t, _)| *t == PriceType::Retail).map(|(_, m)| m.currency))
        .or_else(|| item.prices.first().map(|(_, m)| m.currency));
    let priced = |price_type: PriceType, in_currency: Option<CurrencyCode>| {
        item.prices.iter().find(|(t, m)| *t == price_type && Some(m.currency) == in_currency).map(|(_, m)| m)
    };
    let cost = offer_cost.filter(|m| Some(m.currency) == currency);
    // The `default` location's (the one an import sets); other locations are not written.
    let own_stock = item.record.stock_by_location.get(DEFAULT_LOCATION).copied();
    let mut row = vec![
        Cell::text(item.key.clone()),
        Cell::text(product.sku.as_ref().map(|s| s.to_string()).unwrap_or_default()),
        Cell::text(item.gtin()),
        Cell::text(item.title.clone()),
        Cell::text(item.description.clone().unwrap_or_default()),
        Cell::text(item.brand.clone().unwrap_or_default()),
        Cell::text(item.record.category_paths.iter().map(|path| path.join(" > ")).collect::<Vec<_>>().join("|")),
        money(priced(PriceType::Retail, currency)),
        money(priced(PriceType::Sale, currency)),
        money(priced(PriceType::Msrp, currency)),
        money(priced(PriceType::Purchase, currency)),
        Cell::text(
            item.price_windows
                .iter()
                .map(|(price_type, amount, (from, to))| list_entry(*price_type, *amount, *from, *to))
                .collect::<Vec<_>>()
                .join("|"),
        ),
        Cell::text(currency.map(|c| c.to_string()).unwrap_or_default()),
        money(cost),
        offer.and_then(|o| o.stock).map(|n| Cell::Number(n as f64)).unwrap_or(Cell::Empty),
        own_stock.map(|n| Cell::Number(n as f64)).unwrap_or(Cell::Empty),
        Cell::text(product.availability.map(|a| a.as_str()).unwrap_or_default()),
        offer.and_then(|o| o.lead_time_days).map(|n| Cell::Number(n as f64)).unwrap_or(Cell::Empty),
        Cell::text(offers_list(&item.record.offers)),
        Cell::text(item.record.image_urls.join("|")),
        Cell::text(product.status.as_str()),
        Cell::text(item.parent_key.clone().unwrap_or_default()),
    ];
    for other in other_currencies(columns) {
        let other: Option<CurrencyCode> = other.parse().ok().filter(|c| Some(*c) != currency);
        for (price_type, _) in NATIVE_PRICE_COLUMNS {
            row.push(money(other.and_then(|c| priced(price_type, Some(c)))));
        }
    }
    // One column per location whatever its case (`Shop` and `shop` are one column, as attributes are).
    let same = |a: &str, b: &str| a == b || a.to_lowercase() == b.to_lowercase();
    for location in &columns.stock_locations {
        let quantity = item.record.stock_by_location.iter().find(|(at, _)| same(at, location)).map(|(_, n)| *n);
        row.push(quantity.map(|n| Cell::Number(n as f64)).unwrap_or(Cell::Empty));
    }
    for locale in &columns.seo_locales {
        let seo = item.record.seo.iter().find(|s| s.locale == *locale);
        row.push(Cell::text(seo.map(|s| s.slug.clone()).unwrap_or_default()));
        row.push(Cell::text(seo.and_then(|s| s.meta_title.clone()).unwrap_or_default()));
        row.push(Cell::text(seo.and_then(|s| s.meta_description.clone()).unwrap_or_default()));
    }
    let options = item.record.variant_of.as_ref().map(|v| &v.options);
    // The columns name each axis and attribute once whatever its case (`Color` of one product, `color` of another).
    let same = |a: &str, b: &str| a == b || a.to_lowercase() == b.to_lowercase();
    for axis in &columns.axes {
        let value = options.and_then(|o| o.iter().find(|(name, _)| same(name, axis))).map(|(_, v)| v.clone());
        row.push(Cell::text(value.unwrap_or_default()));
    }
    for name in &columns.attributes {
        let value = product.attributes.iter().find(|a| same(&a.name, name)).map(|a| attribute_text(&a.value));
        row.push(Cell::text(value.unwrap_or_default()));
    }
    row
}

/// Every offer as our `offers` cell: a JSON list, empty text for none.
fn offers_list(offers: &[crate::catalog::SupplierOffer]) -> String {
    if offers.is_empty() {
        return String::new();
    }
    let entries: Vec<crate::catalog::OfferListEntry> =
        offers.iter().map(|o| crate::catalog::OfferListEntry::of(&o.supplier_code, &o.offer)).collect();
    // A list of plain values serialises.
    serde_json::to_string(&entries).unwrap_or_default()
}

fn csv_writer(out: Box<dyn Write + Send>) -> ::csv::Writer<Box<dyn Write + Send>> {
    ::csv::WriterBuilder::new().buffer_capacity(256 * 1024).from_writer(out)
}

fn io_error(error: ::csv::Error) -> std::io::Error {
    match error.into_kind() {
        ::csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// Our columns as CSV.
pub(crate) struct NativeCsv {
    out: ::csv::Writer<Box<dyn Write + Send>>,
    columns: FeedColumns,
}

impl NativeCsv {
    pub fn new(out: Box<dyn Write + Send>, columns: &FeedColumns) -> std::io::Result<Self> {
        let mut out = csv_writer(out);
        out.write_record(native_header(columns)).map_err(io_error)?;
        Ok(NativeCsv { out, columns: columns.clone() })
    }
}

impl FeedWriter for NativeCsv {
    fn write(&mut self, item: &FeedItem<'_>) -> std::io::Result<u64> {
        let row: Vec<String> = native_row(item, &self.columns).iter().map(Cell::to_csv).collect();
        self.out.write_record(&row).map_err(io_error)?;
        Ok(1)
    }

    fn finish(self: Box<Self>) -> std::io::Result<()> {
        let mut out = self.out;
        out.flush()
    }
}

/// Shopify's product CSV columns we fill, in the order of Shopify's own template (its gender, age group, weight
/// unit, tax code and market price columns are left out: we hold nothing for them).
const SHOPIFY_COLUMNS: [&str; 38] = [
    "Handle",
    "Title",
    "Body (HTML)",
    "Vendor",
    "Product Category",
    "Type",
    "Tags",
    "Published",
    "Option1 Name",
    "Option1 Value",
    "Option2 Name",
    "Option2 Value",
    "Option3 Name",
    "Option3 Value",
    "Variant SKU",
    "Variant Grams",
    "Variant Inventory Tracker",
    "Variant Inventory Qty",
    "Variant Inventory Policy",
    "Variant Fulfillment Service",
    "Variant Price",
    "Variant Compare At Price",
    "Variant Requires Shipping",
    "Variant Taxable",
    "Variant Barcode",
    "Image Src",
    "Image Position",
    "Image Alt Text",
    "Gift Card",
    "SEO Title",
    "SEO Description",
    "Google Shopping / Google Product Category",
    "Google Shopping / MPN",
    "Google Shopping / Condition",
    "Google Shopping / Custom Product",
    "Variant Image",
    "Cost per item",
    "Status",
];

/// Shopify's limits on search-engine listings (characters).
const SHOPIFY_SEO_TITLE: usize = 70;
const SHOPIFY_SEO_DESCRIPTION: usize = 320;

/// `text` cut to at most `max` characters, on a word boundary when there is one in its second half.
fn shortened(text: &str, max: usize) -> String {
    let text = text.trim();
    let Some((end, _)) = text.char_indices().nth(max) else { return text.to_string() };
    let cut = &text[..end];
    match cut.rfind(' ') {
        Some(space) if space > end / 2 => cut[..space].trim_end().to_string(),
        _ => cut.to_string(),
    }
}

/// HTML as the words a search engine's snippet shows: tags dropped (a `<` that opens no tag stays, as in
/// `kids < 3 years`), the common entities decoded, whitespace collapsed.
fn plain_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let opens_tag = after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!');
        match after.find('>') {
            Some(close) if opens_tag => {
                text.push(' ');
                rest = &after[close + 1..];
            }
            _ => {
                text.push('<');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    let text = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A product's Shopify handle (Shopify updates a product by it, and shows it in the product's URL): its SKU's or
/// GTIN's slug, the same at each export; for a product with neither, its title's slug made unique by the end of its
/// id (the random part of a v7 id: products created together share the start).
fn shopify_handle(item: &FeedItem<'_>) -> String {
    let product = item.product();
    let id = product.id.simple().to_string();
    let key = slug::slugify(&item.key);
    if !key.is_empty() && item.key != product.id.to_string() {
        return key;
    }
    match slug::slugify(&item.title) {
        title if title.is_empty() => id,
        title => format!("{title}-{}", &id[id.len() - 8..]),
    }
}

/// Column positions in [`SHOPIFY_COLUMNS`].
mod shopify_at {
    pub const HANDLE: usize = 0;
    pub const TITLE: usize = 1;
    pub const BODY: usize = 2;
    pub const VENDOR: usize = 3;
    pub const CATEGORY: usize = 4;
    pub const TYPE: usize = 5;
    pub const TAGS: usize = 6;
    pub const PUBLISHED: usize = 7;
    pub const OPTION1_NAME: usize = 8;
    pub const VARIANT_SKU: usize = 14;
    pub const INVENTORY_TRACKER: usize = 16;
    pub const INVENTORY_QTY: usize = 17;
    pub const INVENTORY_POLICY: usize = 18;
    pub const FULFILLMENT: usize = 19;
    pub const PRICE: usize = 20;
    pub const COMPARE_AT: usize = 21;
    pub const REQUIRES_SHIPPING: usize = 22;
    pub const TAXABLE: usize = 23;
    pub const BARCODE: usize = 24;
    pub const IMAGE_SRC: usize = 25;
    pub const IMAGE_POSITION: usize = 26;
    pub const GIFT_CARD: usize = 28;
    pub const SEO_TITLE: usize = 29;
    pub const SEO_DESCRIPTION: usize = 30;
    pub const GOOGLE_CATEGORY: usize = 31;
    pub const MPN: usize = 32;
    pub const CONDITION: usize = 33;
    pub const CUSTOM_PRODUCT: usize = 34;
    pub const VARIANT_IMAGE: usize = 35;
    pub const STATUS: usize = 37;
}

/// Shopify allows three options per product.
const SHOPIFY_MAX_OPTIONS: usize = 3;

/// A product being written: its first row waits for its first variant (Shopify puts both on one line).
struct ShopifyProduct {
    handle: String,
    /// The product's columns (handle to published, status), the rest empty.
    first_row: Vec<String>,
    axes: Vec<String>,
    images: Vec<String>,
    first_row_written: bool,
    /// Counted as an item already (a product without variants is counted when it arrives).
    counted: bool,
}

/// Shopify's product CSV: a product's first row carries the product and its first variant, further variants
/// follow with only the handle and the variant's columns, then one row per further image.
pub(crate) struct ShopifyCsv {
    out: ::csv::Writer<Box<dyn Write + Send>>,
    pending: Option<ShopifyProduct>,
    /// Google Shopping's condition (`new` unless the channel says otherwise).
    condition: String,
}

impl ShopifyCsv {
    pub fn new(out: Box<dyn Write + Send>, settings: &ChannelSettings) -> std::io::Result<Self> {
        let mut out = csv_writer(out);
        out.write_record(SHOPIFY_COLUMNS).map_err(io_error)?;
        let condition = settings.condition.clone().unwrap_or_else(|| "new".into());
        Ok(ShopifyCsv { out, pending: None, condition })
    }

    fn row(&mut self, row: &[String]) -> std::io::Result<()> {
        self.out.write_record(row.iter().map(|c| neutralised(c).into_owned())).map_err(io_error)
    }

    /// Writes what is left of the pending product: its first row if no variant came, then its further images.
    fn flush_product(&mut self) -> std::io::Result<u64> {
        let Some(product) = self.pending.take() else { return Ok(0) };
        let mut written = 0;
        let mut images = product.images.iter().enumerate();
        if !product.first_row_written {
            let mut row = product.first_row.clone();
            if let Some((_, url)) = images.next() {
                row[shopify_at::IMAGE_SRC] = url.clone();
                row[shopify_at::IMAGE_POSITION] = "1".into();
            }
            self.row(&row)?;
            written += u64::from(!product.counted);
        } else {
            images.next(); // on the first row already
        }
        for (index, url) in images {
            let mut row = vec![String::new(); SHOPIFY_COLUMNS.len()];
            row[shopify_at::HANDLE] = product.handle.clone();
            row[shopify_at::IMAGE_SRC] = url.clone();
            row[shopify_at::IMAGE_POSITION] = (index + 1).to_string();
            self.row(&row)?;
        }
        Ok(written)
    }

    /// Fills a row's variant columns from `item`.
    fn variant_columns(row: &mut [String], item: &FeedItem<'_>) {
        let product = item.product();
        row[shopify_at::VARIANT_SKU] = product.sku.as_ref().map(|s| s.as_str().to_string()).unwrap_or_default();
        // Shopify sells an untracked variant always, and a tracked one with the policy `continue` when none are
        // left: a product in stock without a count is untracked; one on backorder or preorder, `continue`.
        let sold_without_stock = item.product().availability.is_some_and(Availability::sells_without_stock);
        if item.stock_counted || item.availability != Availability::InStock {
            row[shopify_at::INVENTORY_TRACKER] = "shopify".into();
        }
        // A quantity only where something counts the stock (none is no count of 0).
        if item.stock_counted {
            row[shopify_at::INVENTORY_QTY] = item.stock.to_string();
        }
        row[shopify_at::INVENTORY_POLICY] = if sold_without_stock { "continue" } else { "deny" }.into();
        row[shopify_at::FULFILLMENT] = "manual".into();
        // Shopify sells at `Variant Price`; `Compare At` is the crossed-out price beside it.
        let (price, compare_at) = match (&item.sale_price, &item.price) {
            (Some(sale), Some(regular)) => (Some(sale), Some(regular)),
            (_, price) => {
                (price.as_ref(), item.msrp.as_ref().filter(|m| price.is_some_and(|p| m.amount_minor > p.amount_minor)))
            }
        };
        row[shopify_at::PRICE] = price.map(decimal).unwrap_or_default();
        row[shopify_at::COMPARE_AT] = compare_at.map(decimal).unwrap_or_default();
        row[shopify_at::REQUIRES_SHIPPING] = "TRUE".into();
        row[shopify_at::TAXABLE] = "TRUE".into();
        row[shopify_at::BARCODE] = item.gtin();
        row[shopify_at::MPN] = row[shopify_at::VARIANT_SKU].clone();
    }
}

impl FeedWriter for ShopifyCsv {
    fn write(&mut self, item: &FeedItem<'_>) -> std::io::Result<u64> {
        let product = item.product();
        if item.is_variant() {
            let Some(pending) = self.pending.as_mut() else { return Ok(0) };
            let options = item.record.variant_of.as_ref().map(|v| &v.options);
            let mut row = if pending.first_row_written {
                let mut row = vec![String::new(); SHOPIFY_COLUMNS.len()];
                row[shopify_at::HANDLE] = pending.handle.clone();
                row
            } else {
                let mut row = pending.first_row.clone();
                for (n, axis) in pending.axes.iter().enumerate() {
                    row[shopify_at::OPTION1_NAME + 2 * n] = axis.clone();
                }
                if let Some(url) = pending.images.first() {
                    row[shopify_at::IMAGE_SRC] = url.clone();
                    row[shopify_at::IMAGE_POSITION] = "1".into();
                }
                pending.first_row_written = true;
                row
            };
            for (n, axis) in pending.axes.iter().enumerate() {
                row[shopify_at::OPTION1_NAME + 2 * n + 1] =
                    options.and_then(|o| o.get(axis)).cloned().unwrap_or_default();
            }
            Self::variant_columns(&mut row, item);
            row[shopify_at::VARIANT_IMAGE] = item.record.image_urls.first().cloned().unwrap_or_default();
            self.row(&row)?;
            return Ok(1);
        }
        let written = self.flush_product()?;
        let handle = shopify_handle(item);
        let mut first_row = vec![String::new(); SHOPIFY_COLUMNS.len()];
        first_row[shopify_at::HANDLE] = handle.clone();
        first_row[shopify_at::TITLE] = item.title.clone();
        first_row[shopify_at::BODY] = item.description.clone().unwrap_or_default();
        first_row[shopify_at::VENDOR] = item.brand.clone().unwrap_or_default();
        first_row[shopify_at::CATEGORY] = item.channel_category.clone();
        let attribute = |name: &str| {
            product.attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name)).map(|a| attribute_text(&a.value))
        };
        first_row[shopify_at::TYPE] = attribute("type").unwrap_or_default();
        first_row[shopify_at::TAGS] = attribute("tags").unwrap_or_default();
        first_row[shopify_at::PUBLISHED] =
            if product.status == ProductStatus::Active { "TRUE" } else { "FALSE" }.to_string();
        first_row[shopify_at::GIFT_CARD] = "FALSE".into();
        first_row[shopify_at::SEO_TITLE] = shortened(&item.title, SHOPIFY_SEO_TITLE);
        let description = plain_text(item.description.as_deref().unwrap_or_default());
        first_row[shopify_at::SEO_DESCRIPTION] = shortened(&description, SHOPIFY_SEO_DESCRIPTION);
        // Google's category only when the channel maps ours to one (our own path is no Google category).
        if item.channel_category != item.category {
            first_row[shopify_at::GOOGLE_CATEGORY] = item.channel_category.clone();
        }
        first_row[shopify_at::CONDITION] = self.condition.clone();
        // A product sold as itself with neither a GTIN nor a SKU (as MPN): Google Shopping is told it is custom. A
        // product with variants is identified by its variants: left unsaid.
        if !item.has_variants() {
            let identified = !item.gtin().is_empty() || product.sku.is_some();
            first_row[shopify_at::CUSTOM_PRODUCT] = if identified { "FALSE" } else { "TRUE" }.into();
        }
        first_row[shopify_at::STATUS] = product.status.as_str().to_string();
        let axes: Vec<String> =
            item.record.variant_axes.iter().take(SHOPIFY_MAX_OPTIONS).map(|a| a.name.clone()).collect();
        let mut pending = ShopifyProduct {
            handle,
            first_row,
            axes,
            images: item.record.image_urls.clone(),
            first_row_written: false,
            counted: !item.has_variants(),
        };
        if !item.has_variants() {
            // A product without variants is its own one variant, `Title: Default Title`.
            let row = &mut pending.first_row;
            row[shopify_at::OPTION1_NAME] = "Title".into();
            row[shopify_at::OPTION1_NAME + 1] = "Default Title".into();
            Self::variant_columns(row, item);
        }
        self.pending = Some(pending);
        Ok(written + u64::from(!item.has_variants()))
    }

    fn finish(mut self: Box<Self>) -> std::io::Result<()> {
        self.flush_product()?;
        self.out.flush()
    }
}

/// WooCommerce's product CSV columns (those of its exporter) before the attribute columns.
const WOO_COLUMNS: [&str; 21] = [
    "ID",
    "Type",
    "SKU",
    "GTIN, UPC, EAN, or ISBN",
    "Name",
    "Published",
    "Is featured?",
    "Visibility in catalog",
    "Short description",
    "Description",
    "Date sale price starts",
    "Date sale price ends",
    "In stock?",
    "Stock",
    "Sale price",
    "Regular price",
    "Categories",
    "Tags",
    "Images",
    "Parent",
    "Brands",
];

/// WooCommerce's product CSV: a `variable` product with its attributes and all their values, then its
/// `variation` rows naming it as `Parent` by SKU.
pub(crate) struct WoocommerceCsv {
    out: ::csv::Writer<Box<dyn Write + Send>>,
    /// Attribute columns: one pair per variant axis the catalog has.
    slots: usize,
    /// The last variable product's axes (a variation fills the slots in the same order).
    axes: Vec<String>,
}

impl WoocommerceCsv {
    pub fn new(out: Box<dyn Write + Send>, columns: &FeedColumns) -> std::io::Result<Self> {
        let mut out = csv_writer(out);
        let slots = columns.axes.len();
        let mut header: Vec<String> = WOO_COLUMNS.iter().map(|c| c.to_string()).collect();
        for n in 1..=slots {
            header.extend([
                format!("Attribute {n} name"),
                format!("Attribute {n} value(s)"),
                format!("Attribute {n} visible"),
                format!("Attribute {n} global"),
            ]);
        }
        out.write_record(&header).map_err(io_error)?;
        Ok(WoocommerceCsv { out, slots, axes: Vec::new() })
    }
}

impl FeedWriter for WoocommerceCsv {
    fn write(&mut self, item: &FeedItem<'_>) -> std::io::Result<u64> {
        let product = item.product();
        let kind = match (item.is_variant(), item.has_variants()) {
            (true, _) => "variation",
            (false, true) => "variable",
            (false, false) => "simple",
        };
        let published = match product.status {
            ProductStatus::Active => "1",
            ProductStatus::Draft => "0",
            ProductStatus::Archived => "-1",
        };
        let mut row = vec![
            String::new(),
            kind.to_string(),
            item.key.clone(),
            item.gtin(),
            item.title.clone(),
            published.to_string(),
            "0".into(),
            "visible".into(),
            String::new(),
            item.description.clone().unwrap_or_default(),
            // WooCommerce's days, the last one included (our end is exclusive).
            item.sale_window.and_then(|w| w.from).map(|at| at.format("%Y-%m-%d").to_string()).unwrap_or_default(),
            item.sale_window
                .and_then(|w| w.to)
                .map(|at| (at - chrono::Duration::seconds(1)).format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            // WooCommerce's stock status: `1`, `0` or `backorder` (none for a variable product that states none: its
            // variations say theirs); its stock, when something counts it.
            match (item.availability, kind == "variable" && product.availability.is_none()) {
                (_, true) => "",
                (Availability::InStock, _) => "1",
                (Availability::OutOfStock, _) => "0",
                (Availability::Backorder | Availability::Preorder, _) => "backorder",
            }
            .to_string(),
            if item.stock_counted { item.stock.to_string() } else { String::new() },
            item.sale_price.as_ref().map(decimal).unwrap_or_default(),
            item.price.as_ref().map(decimal).unwrap_or_default(),
            // WooCommerce separates categories with commas: a comma inside a name is escaped.
            item.channel_category.replace(',', "\\,"),
            String::new(),
            item.record.image_urls.join(", "),
            item.parent_key.clone().unwrap_or_default(),
            item.brand.clone().unwrap_or_default(),
        ];
        if kind == "variable" {
            self.axes = item.record.variant_axes.iter().map(|a| a.name.clone()).collect();
        }
        for slot in 0..self.slots {
            let (name, values) = match kind {
                "variable" => match item.record.variant_axes.get(slot) {
                    Some(axis) => (axis.name.clone(), axis.values.join(", ")),
                    None => (String::new(), String::new()),
                },
                "variation" => match self.axes.get(slot) {
                    Some(axis) => {
                        let options = item.record.variant_of.as_ref().map(|v| &v.options);
                        (axis.clone(), options.and_then(|o| o.get(axis)).cloned().unwrap_or_default())
                    }
                    None => (String::new(), String::new()),
                },
                _ => (String::new(), String::new()),
            };
            let used = !name.is_empty();
            row.extend([name, values, if used { "1" } else { "" }.into(), if used { "0" } else { "" }.into()]);
        }
        self.out.write_record(row.iter().map(|c| neutralised(c).into_owned())).map_err(io_error)?;
        Ok(1)
    }

    fn finish(self: Box<Self>) -> std::io::Result<()> {
        let mut out = self.out;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::{plain_text, shortened};

    #[test]
    fn seo_text_is_plain_and_short() {
        assert_eq!(plain_text("<p>Two <b>batteries</b>&nbsp;&amp; a case</p>"), "Two batteries & a case");
        assert_eq!(plain_text("Ideal for kids < 3 years"), "Ideal for kids < 3 years");
        assert_eq!(plain_text("a <3 b <br/>c"), "a <3 b c");
        assert_eq!(shortened("Cordless drill 18V with two batteries", 20), "Cordless drill 18V");
        assert_eq!(shortened("Short", 20), "Short");
    }
}
