//! Feed files: the catalog's [`ProductRecord`]s as CSV (ours, Shopify's, WooCommerce's), XLSX and Google Merchant
//! feeds. Writers are synchronous and stream: they run on a blocking thread fed a page at a time, so memory stays
//! flat whatever the catalog's size.

mod csv;
mod merchant;
mod xlsx;

use std::collections::BTreeSet;
use std::io::Write;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::model::{ChannelSettings, FeedFormat};
use crate::catalog::prices::window::Window;
use crate::catalog::{AttributeValue, Availability, Money, PriceType, ProductRecord, ProductStatus};

/// A product as a channel is sent it: the record with the channel's prices and category applied.
#[derive(Debug)]
pub(crate) struct FeedItem<'a> {
    pub record: &'a ProductRecord,
    pub key: String,
    /// The parent's key, for a variant.
    pub parent_key: Option<String>,
    /// The price sold at (the channel's price type, currency and rule).
    pub price: Option<Money>,
    /// A current sale price below it.
    pub sale_price: Option<Money>,
    /// The window of that sale price, when it has one.
    pub sale_window: Option<SaleWindow>,
    pub msrp: Option<Money>,
    /// Every open-ended price of the product (in the channel's currency when it has one), retail and sale prices
    /// with the channel's rule applied: what our own formats write in their price columns.
    pub prices: Vec<(PriceType, Money)>,
    /// Every windowed price, likewise: (type, amount, start, end), by type, currency and start.
    pub price_windows: Vec<(PriceType, Money, Window)>,
    /// Own stock available plus the best offer's ([`ProductRecord::available_stock`]).
    pub stock: i64,
    /// Whether a count says how many can be sold ([`ProductRecord::stock_counted`]): a shop's file writes the
    /// count only then, and says the availability otherwise.
    pub stock_counted: bool,
    /// What a buyer is told ([`ProductRecord::availability`]).
    pub availability: Availability,
    /// Our category path, `A > B > C`.
    pub category: String,
    /// The channel's category for it (mapped), else our path.
    pub channel_category: String,
    /// Title, description and brand as the channel gets them (the field mapping applied).
    pub title: String,
    pub description: Option<String>,
    pub brand: Option<String>,
}

impl FeedItem<'_> {
    pub fn product(&self) -> &crate::catalog::Product {
        &self.record.product
    }

    pub fn gtin(&self) -> String {
        self.record.product.gtin.as_ref().map(|g| g.to_string()).unwrap_or_default()
    }

    pub fn is_variant(&self) -> bool {
        self.record.variant_of.is_some()
    }

    pub fn has_variants(&self) -> bool {
        !self.record.variant_axes.is_empty()
    }
}

/// When the sale price a feed sends applies: its window, and when it was set (a window open at its start has
/// applied since then, as far as the catalog knows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SaleWindow {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub set_at: DateTime<Utc>,
}

/// Makes [`FeedItem`]s from records, in the order the reader gives them (a parent before its variants).
pub(crate) struct Channel {
    settings: ChannelSettings,
    /// The last parent seen: its id and key.
    parent: Option<(Uuid, String)>,
}

impl Channel {
    pub fn new(settings: ChannelSettings) -> Self {
        Channel { settings, parent: None }
    }

    pub fn item<'a>(&mut self, record: &'a ProductRecord) -> FeedItem<'a> {
        let key = record.key();
        let parent_key = match (&record.variant_of, &self.parent) {
            (Some(of), Some((id, key))) if of.parent_id == *id => Some(key.clone()),
            (Some(of), _) => Some(of.parent_id.to_string()),
            (None, _) => None,
        };
        if record.variant_of.is_none() {
            self.parent = Some((record.product.id, key.clone()));
        }
        let price_type = self.settings.price_type.unwrap_or(PriceType::Retail);
        let price = self.current(record, price_type).and_then(|m| self.ruled(m));
        let sale_price = match price_type {
            PriceType::Sale => None,
            _ => self.current(record, PriceType::Sale).and_then(|m| self.ruled(m)),
        }
        .filter(|sale| {
            price.as_ref().is_some_and(|p| sale.currency == p.currency && sale.amount_minor < p.amount_minor)
        });
        let sale_window = sale_price.as_ref().and_then(|sale| {
            let price = record.product.prices.iter().find(|p| {
                p.price_type == PriceType::Sale && p.amount.currency == sale.currency && !p.is_open_ended()
            })?;
            Some(SaleWindow { from: price.valid_from, to: price.valid_to, set_at: price.created_at })
        });
        let msrp = self.current(record, PriceType::Msrp).cloned();
        let mut prices = Vec::new();
        let mut price_windows = Vec::new();
        for price in record.all_prices.iter().filter(|p| self.settings.currency.is_none_or(|c| c == p.amount.currency))
        {
            let amount = match price.price_type {
                PriceType::Retail | PriceType::Sale => self.ruled(&price.amount),
                PriceType::Msrp | PriceType::Purchase => Some(price.amount),
            };
            let Some(amount) = amount else { continue };
            match (price.valid_from, price.valid_to) {
                (None, None) => prices.push((price.price_type, amount)),
                window => price_windows.push((price.price_type, amount, window)),
            }
        }
        let category = record.category_path.join(" > ");
        let channel_category =
            self.settings.category_mapping.get(&category).cloned().unwrap_or_else(|| category.clone());
        let title = self.mapped("title", record, &category).unwrap_or_else(|| record.product.title.clone());
        let description = self.mapped("description", record, &category).or_else(|| record.product.description.clone());
        let brand = self.mapped("brand", record, &category).or_else(|| record.brand.clone());
        FeedItem {
            record,
            key,
            parent_key,
            price,
            sale_price,
            sale_window,
            msrp,
            prices,
            price_windows,
            stock: record.available_stock(),
            stock_counted: record.stock_counted(),
            availability: record.availability(),
            category,
            channel_category,
            title,
            description,
            brand,
        }
    }

    /// The value the field mapping gives `field` of this record; `None` when unmapped or empty (the record's own
    /// value is kept).
    fn mapped(&self, field: &str, record: &ProductRecord, category: &str) -> Option<String> {
        let source = self.settings.field_mapping.get(field)?;
        let product = &record.product;
        let value = match source.as_str() {
            "title" => Some(product.title.clone()),
            "description" => product.description.clone(),
            "brand" => record.brand.clone(),
            "sku" => product.sku.as_ref().map(|s| s.to_string()),
            "gtin" => product.gtin.as_ref().map(|g| g.to_string()),
            "category" => Some(category.to_string()),
            other => {
                let name = other.strip_prefix("attribute:")?;
                product.attributes.iter().find(|a| a.name == name).map(|a| attribute_text(&a.value))
            }
        };
        value.filter(|v| !v.trim().is_empty())
    }

    /// The current price of `price_type`, in the channel's currency when it has one.
    fn current<'r>(&self, record: &'r ProductRecord, price_type: PriceType) -> Option<&'r Money> {
        record
            .product
            .prices
            .iter()
            .filter(|p| p.price_type == price_type)
            .map(|p| &p.amount)
            .find(|m| self.settings.currency.as_ref().is_none_or(|c| *c == m.currency))
    }

    /// The price the channel's rule makes; `None` when it would be out of range (the product is then not sent
    /// with a wrong price: its price is left out).
    fn ruled(&self, money: &Money) -> Option<Money> {
        let per_unit = 10_i64.pow(money.currency.minor_digits());
        let amount = self.settings.price_rule.apply(money.amount_minor, per_unit)?;
        (amount <= crate::catalog::MAX_AMOUNT_MINOR).then(|| Money::new(amount, money.currency))
    }
}

/// An amount as a decimal number without the currency: `19.99` (shops want prices as plain decimals).
pub(crate) fn decimal(money: &Money) -> String {
    let text = money.to_string();
    text.rsplit_once(' ').map(|(amount, _)| amount.to_string()).unwrap_or(text)
}

/// An attribute's value as one cell of text.
pub(crate) fn attribute_text(value: &AttributeValue) -> String {
    match value {
        AttributeValue::Text { value } => value.clone(),
        AttributeValue::Number { value, unit: Some(unit) } => format!("{value} {unit}"),
        AttributeValue::Number { value, unit: None } => value.to_string(),
        AttributeValue::Boolean { value } => value.to_string(),
        AttributeValue::List { values } => values.join(", "),
    }
}

/// A text cell a spreadsheet will not read as a formula: one starting with `=`, `+`, `-` or `@` (or a tab or
/// carriage return, which some programs skip before them) gets a leading `'` (OWASP's advice for CSV injection).
/// A plain number (`-1`, `+2.5`) is kept: a spreadsheet reads it as the number it is. A text starting with `'` and
/// one of those gets its `'` as well, so that our import, taking one `'` off, reads it as it was.
pub(crate) fn neutralised(text: &str) -> std::borrow::Cow<'_, str> {
    if text.parse::<f64>().is_ok_and(f64::is_finite) {
        return std::borrow::Cow::Borrowed(text);
    }
    if crate::input::takes_formula_guard(text) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// What the columns of a feed depend on beyond the format: the catalog's attribute names, variant axes and
/// currencies.
#[derive(Debug, Clone, Default)]
pub(crate) struct FeedColumns {
    pub attributes: BTreeSet<String>,
    pub axes: BTreeSet<String>,
    /// Every currency the catalog's prices and costs are in (only the channel's when it has one).
    pub currencies: BTreeSet<String>,
    /// The channel's currency, when it has one: every row of our formats is in it.
    pub currency: Option<crate::catalog::CurrencyCode>,
    /// Every locale some product has SEO metadata in.
    pub seo_locales: BTreeSet<String>,
    /// Every location some product has own stock at besides `default`.
    pub stock_locations: BTreeSet<String>,
}

/// Writes one format.
pub(crate) trait FeedWriter: Send {
    /// Writes one product (a format may write several rows, or none: a Google feed leaves a parent out).
    /// Returns how many items were written.
    fn write(&mut self, item: &FeedItem<'_>) -> std::io::Result<u64>;
    /// Writes what ends the file and flushes it.
    fn finish(self: Box<Self>) -> std::io::Result<()>;
    /// Items written without an attribute the channel requires, by attribute (Merchant Center's diagnostics).
    fn missing(&self) -> std::collections::BTreeMap<&'static str, u64> {
        std::collections::BTreeMap::new()
    }
}

/// The writer of `format` into `out`.
pub(crate) fn writer(
    format: FeedFormat,
    out: Box<dyn Write + Send>,
    columns: &FeedColumns,
    settings: &ChannelSettings,
) -> std::io::Result<Box<dyn FeedWriter>> {
    Ok(match format {
        FeedFormat::Csv => Box::new(csv::NativeCsv::new(out, columns)?),
        FeedFormat::ShopifyCsv => Box::new(csv::ShopifyCsv::new(out, settings)?),
        FeedFormat::WoocommerceCsv => Box::new(csv::WoocommerceCsv::new(out, columns)?),
        FeedFormat::Xlsx => Box::new(xlsx::NativeXlsx::new(out, columns)?),
        FeedFormat::GoogleMerchantXml => Box::new(merchant::MerchantXml::new(out, settings.clone())?),
        FeedFormat::GoogleMerchantTsv => Box::new(merchant::MerchantTsv::new(out, settings.clone())?),
    })
}

/// Whether a product is written at all in `format`.
pub(crate) fn wanted(format: FeedFormat, item: &FeedItem<'_>) -> bool {
    !format.only_active() || item.product().status == ProductStatus::Active
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_neutralised_and_the_rest_kept() {
        assert_eq!(neutralised("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralised("+1"), "+1");
        assert_eq!(neutralised("-1"), "-1");
        assert_eq!(neutralised("-1+cmd|' /C calc'!A0"), "'-1+cmd|' /C calc'!A0");
        assert_eq!(neutralised("-inf"), "'-inf");
        assert_eq!(neutralised("-2+3"), "'-2+3");
        assert_eq!(neutralised("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralised("\t=1"), "'\t=1");
        assert_eq!(neutralised("Drill 18V"), "Drill 18V");
        assert_eq!(neutralised("'=quoted"), "''=quoted", "read back as written");
        assert_eq!(neutralised("'quoted"), "'quoted");
        assert_eq!(neutralised("''-x"), "'''-x");
        assert_eq!(neutralised(""), "");
    }

    #[test]
    fn decimals_drop_the_currency() {
        let eur: crate::catalog::CurrencyCode = "EUR".parse().unwrap();
        assert_eq!(decimal(&Money::new(1999, eur)), "19.99");
        assert_eq!(decimal(&Money::new(5, eur)), "0.05");
        assert_eq!(decimal(&Money::new(1200, "JPY".parse().unwrap())), "1200");
    }
}
