//! A mapped row checked and typed ([`ImportRow`]), or the reason it is refused ([`RowError`]).

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use chrono::{DateTime, Utc};

use crate::catalog::prices::window::{
    Side, WindowedAmount, check_window, parse_instant, parse_window, split_list_entry,
};
use crate::catalog::{CurrencyCode, Gtin, PriceType};
use crate::imports::mapping::{Cell, InvalidGtin, MappedRow, RelativeImages, SeoPart, WindowPart};

/// A windowed price of a row: (type, currency, minor units, start, end).
pub type WindowedPrice = (PriceType, &'static str, i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// SEO metadata of a row in a locale: (locale, slug, meta title, meta description).
pub type SeoMeta = (String, String, Option<String>, Option<String>);

/// An offer our `offers` column lists: its supplier by code (found when the row is loaded), its values checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedOffer {
    pub supplier: String,
    pub sku: String,
    /// (minor units, currency).
    pub cost: Option<(i64, &'static str)>,
    pub stock: Option<i64>,
    pub lead_time_days: Option<i32>,
    pub available: bool,
}

/// A row ready to load: every value checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportRow {
    /// 1-based physical line (spreadsheet row) in the file.
    #[serde(skip)]
    pub line: u64,
    pub supplier_sku: String,
    /// GTIN-14.
    pub gtin: Option<String>,
    pub sku: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub brand: Option<String>,
    pub status: Option<&'static str>,
    /// (minor units, currency) of the offer's cost.
    pub cost: Option<(i64, &'static str)>,
    pub stock: Option<i64>,
    pub lead_time_days: Option<i32>,
    /// (type, currency, minor units), one per type and currency.
    pub prices: Vec<(PriceType, &'static str, i64)>,
    pub attributes: Vec<(String, String)>,
    pub categories: Vec<Vec<String>>,
    pub images: Vec<String>,
    pub parent_sku: Option<String>,
    pub variant_options: BTreeMap<String, String>,
    /// Variants listed on this row: (supplier SKU, axis → value).
    pub variants: Vec<(String, BTreeMap<String, String>)>,
    /// The product's own stock, as a shop's export gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_stock: Option<i64>,
    /// The product's own stock at other locations than `default`: (location, quantity).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub location_stocks: Vec<(String, i64)>,
    /// Whether the product can be bought when it keeps no count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability: Option<crate::catalog::Availability>,
    /// The difference from the parent's retail price: (currency, signed minor units).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_impact: Option<(&'static str, i64)>,
    /// Its GTIN was invalid and dropped (the template ignores invalid GTINs).
    #[serde(skip)]
    pub gtin_dropped: bool,
    /// Relative image paths dropped (the template ignores them without an image base URL).
    #[serde(skip)]
    pub images_dropped: u32,
    /// The file has a column for the offer's stock (see [`MappedRow::stock_column`]).
    #[serde(skip)]
    pub stock_column: bool,
    /// Windowed prices: (type, currency, minor units, start, end).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub price_windows: Vec<WindowedPrice>,
    /// The (type, currency) pairs whose windowed prices the row states in full: those it gives, or none. (Not
    /// hashed, nor the two below: what they say shows in `price_windows` and `prices`, and a file's rows without
    /// windows keep the hash they had.)
    #[serde(skip)]
    pub windows_stated: Vec<(PriceType, &'static str)>,
    /// The row states every windowed price of the product in full (our `price_windows` column).
    #[serde(skip)]
    pub all_windows_stated: bool,
    /// SEO metadata by locale: (locale, slug, meta title, meta description).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub seo: Vec<SeoMeta>,
    /// Every offer of the product, from our `offers` column (empty without it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offers: Vec<ListedOffer>,
    /// The importing supplier's offer is available: false only when our `offers` list says so (set when the row is
    /// loaded).
    #[serde(skip)]
    pub available: bool,
    /// The column (1-based) of the row's `offers` cell, for refusals.
    #[serde(skip)]
    pub offers_cell: Option<usize>,
    /// The (type, currency) pairs whose price the row gives with a window only: it has no open-ended price of
    /// that pair (a shop's sale applies in its dates, not after them).
    #[serde(skip)]
    pub open_replaced: Vec<(PriceType, &'static str)>,
    /// What the row says, hashed: an offer whose stored hash is the same is unchanged.
    #[serde(skip)]
    pub hash: [u8; 16],
}

impl ImportRow {
    /// The row's windowed prices by type and currency, with an empty list for each pair it states without a window:
    /// what each pair's windows become.
    pub(crate) fn window_groups(&self) -> BTreeMap<(PriceType, &'static str), Vec<WindowedAmount>> {
        let mut groups: BTreeMap<(PriceType, &'static str), Vec<WindowedAmount>> = BTreeMap::new();
        for pair in &self.windows_stated {
            groups.entry(*pair).or_default();
        }
        for (price_type, currency, minor, from, to) in &self.price_windows {
            groups.entry((*price_type, *currency)).or_default().push(WindowedAmount {
                from: *from,
                to: *to,
                minor: *minor,
            });
        }
        groups
    }
}

/// Why a row is refused: one per bad input row, kept in `import_errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub line: u64,
    /// 1-based column number.
    pub column: Option<usize>,
    pub column_name: Option<String>,
    pub raw_value: Option<String>,
    /// Machine-readable kind: `invalid_gtin`, `missing_field`, `invalid_number`, …
    pub code: &'static str,
    pub reason: String,
}

/// What a row's values are checked against.
#[derive(Debug, Clone)]
pub(crate) struct RowRules {
    /// The template's currency, else the supplier's default.
    pub default_currency: Option<CurrencyCode>,
    pub headers: Vec<String>,
    pub invalid_gtin: InvalidGtin,
    pub relative_images: RelativeImages,
}

/// Changing what is hashed (or how rows are loaded) changes this, so the next import rewrites every offer.
const HASH_VERSION: &[u8] = b"pm-import-row-v2";

impl RowRules {
    fn error(&self, line: u64, cell: &Cell, code: &'static str, reason: String) -> RowError {
        RowError {
            line,
            column: Some(cell.column),
            column_name: self.headers.get(cell.column - 1).cloned(),
            raw_value: Some(cell.value.clone()),
            code,
            reason,
        }
    }

    /// Checks a mapped row; the first fault refuses it.
    pub(crate) fn check(&self, line: u64, row: MappedRow) -> Result<ImportRow, RowError> {
        if let Some(refused) = row.errors.into_iter().next() {
            return Err(RowError {
                line,
                column: Some(refused.column),
                column_name: Some(refused.column_name),
                raw_value: Some(refused.raw_value),
                code: "transform_failed",
                reason: refused.reason,
            });
        }
        let fail = |cell: &Cell, code: &'static str, reason: String| self.error(line, cell, code, reason);
        let Some(supplier_sku) = row.supplier_sku else {
            return Err(RowError {
                line,
                column: None,
                column_name: None,
                raw_value: None,
                code: "missing_field",
                reason: "the supplier SKU is empty".into(),
            });
        };
        if supplier_sku.value.chars().count() > 200 {
            return Err(fail(&supplier_sku, "too_long", "a supplier SKU has at most 200 characters".into()));
        }
        // A key Excel rewrote as a number in scientific notation has lost its digits: imported, it would name
        // another offer or product than the one it stood for.
        for key in [Some(&supplier_sku), row.sku.as_ref(), row.parent_sku.as_ref()].into_iter().flatten() {
            if excel_scientific(&key.value) {
                let reason = format!(
                    "{:?} is a number Excel wrote in scientific notation: its digits are lost (export the file \
                     again with the column formatted as text)",
                    key.value
                );
                return Err(fail(key, "excel_number", reason));
            }
        }
        let mut gtin_dropped = false;
        let gtin = match &row.gtin {
            None => None,
            Some(cell) => match Gtin::repair(&cell.value) {
                Ok((gtin, _)) => Some(gtin.as_gtin14()),
                Err(_) if self.invalid_gtin == InvalidGtin::Ignore => {
                    gtin_dropped = true;
                    None
                }
                Err(e) => return Err(fail(cell, "invalid_gtin", e.to_string())),
            },
        };
        let row_currency = match &row.currency {
            None => None,
            Some(cell) => Some(CurrencyCode::parse_field("currency", &cell.value).map_err(|_| {
                fail(cell, "invalid_currency", format!("{:?} is not an ISO 4217 currency code", cell.value))
            })?),
        };
        let currency_of = |cell: &Cell, named: Option<&str>| -> Result<CurrencyCode, RowError> {
            match named {
                Some(code) => CurrencyCode::parse_field("currency", code)
                    .map_err(|e| fail(cell, "invalid_currency", e.to_string())),
                None => row_currency.or(self.default_currency).ok_or_else(|| {
                    fail(
                        cell,
                        "missing_currency",
                        "no currency: map a currency column, or set one on the template or the supplier".into(),
                    )
                }),
            }
        };
        let amount = |cell: &Cell, currency: CurrencyCode| -> Result<i64, RowError> {
            let written = written_amount(&cell.value, currency).map_err(|why| fail(cell, "invalid_amount", why))?;
            let minor = currency
                .minor_units("amount", &plain_decimal(&written))
                .map_err(|e| fail(cell, "invalid_amount", reason_of(e)))?;
            if minor < 0 {
                return Err(fail(cell, "invalid_amount", "an amount must not be negative".into()));
            }
            Ok(minor)
        };
        let cost = match &row.cost {
            None => None,
            Some(cell) => {
                let currency = currency_of(cell, None)?;
                Some((amount(cell, currency)?, currency.as_str()))
            }
        };
        let mut prices: Vec<(PriceType, &'static str, i64)> = Vec::with_capacity(row.prices.len());
        for (price_type, named, cell) in &row.prices {
            let currency = currency_of(cell, named.as_deref())?;
            let minor = amount(cell, currency)?;
            if prices.iter().any(|(t, c, _)| t == price_type && *c == currency.as_str()) {
                return Err(fail(
                    cell,
                    "duplicate_price",
                    format!("a second {price_type} price in {}", currency.as_str()),
                ));
            }
            prices.push((*price_type, currency.as_str(), minor));
        }
        // A share off the retail price makes the sale price (unless the row gives one), in each retail currency.
        if let Some(cell) = &row.sale_percent {
            let per_million = percent_per_million(&cell.value).ok_or_else(|| {
                fail(cell, "invalid_number", format!("{:?} is not a percentage between 0 and 100", cell.value))
            })?;
            let retail: Vec<(&'static str, i64)> =
                prices.iter().filter(|(t, ..)| *t == PriceType::Retail).map(|(_, c, minor)| (*c, *minor)).collect();
            for (currency, minor) in retail {
                if !prices.iter().any(|(t, c, _)| *t == PriceType::Sale && *c == currency) {
                    // Rounded half up to the minor unit: 100.00 at 5.5 % off is 94.50.
                    let kept = i128::from(minor) * i128::from(1_000_000 - per_million);
                    let sale = i64::try_from((kept + 500_000) / 1_000_000).unwrap_or(minor);
                    prices.push((PriceType::Sale, currency, sale));
                }
            }
        }
        // A price of a type the file gives a window for is stored windowed (a shop's sale dates); the file states
        // the windows of that type in the row's currencies, so an empty window clears those it set before.
        let mut price_windows = Vec::new();
        let mut windows_stated = Vec::new();
        let mut open_replaced = Vec::new();
        for price_type in &row.window_types {
            let (mut from, mut to, mut first) = (None, None, None);
            for (_, part, cell) in row.price_windows.iter().filter(|(t, ..)| t == price_type) {
                let date =
                    |side| parse_instant(&cell.value, side).map(Some).map_err(|why| fail(cell, "invalid_date", why));
                match part {
                    WindowPart::Interval => {
                        (from, to) = parse_window(&cell.value).map_err(|why| fail(cell, "invalid_date", why))?;
                    }
                    WindowPart::Start => from = date(Side::Start)?,
                    WindowPart::End => to = date(Side::End)?,
                }
                first.get_or_insert(cell);
            }
            if let Some(cell) = first
                && (from.is_some() || to.is_some())
            {
                check_window(from, to).map_err(|why| fail(cell, "invalid_date", why))?;
            }
            let of_type: Vec<(&'static str, i64)> =
                prices.iter().filter(|(t, ..)| t == price_type).map(|(_, c, minor)| (*c, *minor)).collect();
            if of_type.is_empty()
                && let Some(currency) = row_currency.or(self.default_currency)
            {
                windows_stated.push((*price_type, currency.as_str()));
            }
            for (currency, minor) in of_type {
                windows_stated.push((*price_type, currency));
                if from.is_some() || to.is_some() {
                    prices.retain(|(t, c, _)| !(t == price_type && *c == currency));
                    price_windows.push((*price_type, currency, minor, from, to));
                    open_replaced.push((*price_type, currency));
                }
            }
        }
        if let Some(cell) = &row.windows_list {
            for entry in cell.value.split('|').map(str::trim).filter(|e| !e.is_empty()) {
                let invalid = |why: String| fail(cell, "invalid_price_window", why);
                let (price_type, written, code, window) = split_list_entry(entry).map_err(invalid)?;
                let currency = CurrencyCode::parse_field("currency", code).map_err(|e| invalid(reason_of(e)))?;
                let minor = amount(&Cell { value: written.to_string(), column: cell.column }, currency)?;
                let (from, to) = parse_window(window).map_err(|why| invalid(format!("{entry:?}: {why}")))?;
                let key = (price_type, currency.as_str(), from, to);
                if price_windows.iter().any(|(t, c, _, f, w)| (*t, *c, *f, *w) == key) {
                    return Err(invalid(format!(
                        "{entry:?}: a second {price_type} price in {currency} for that window"
                    )));
                }
                price_windows.push((price_type, currency.as_str(), minor, from, to));
            }
        }
        // SEO metadata by locale; a slug made from the meta title, else the row's title, when the row gives none.
        let mut by_locale: BTreeMap<&str, [Option<&Cell>; 3]> = BTreeMap::new();
        for (locale, part, cell) in &row.seo {
            let max = match part {
                SeoPart::Slug => 200,
                SeoPart::MetaTitle => crate::catalog::META_TITLE_MAX,
                SeoPart::MetaDescription => crate::catalog::META_DESCRIPTION_MAX,
            };
            if cell.value.chars().count() > max {
                return Err(fail(cell, "too_long", format!("at most {max} characters")));
            }
            by_locale.entry(locale.as_str()).or_default()[*part as usize] = Some(cell);
        }
        let mut seo = Vec::with_capacity(by_locale.len());
        for (locale, [slug, meta_title, meta_description]) in by_locale {
            if slug.or(meta_title).or(meta_description).is_none() {
                continue;
            }
            // A slug the row does not give is chosen when the row is loaded: a stored product keeps the one it has
            // (a file without slugs must not move a product's URL), a new one gets one made from the meta title.
            let given = match slug {
                None => String::new(),
                Some(cell) => crate::catalog::common::slug_or_from("slug", Some(&cell.value), "")
                    .map_err(|e| fail(cell, "invalid_slug", reason_of(e)))?,
            };
            let text = |cell: Option<&Cell>| cell.map(|c| c.value.clone());
            seo.push((locale.to_string(), given, text(meta_title), text(meta_description)));
        }
        let mut offers: Vec<ListedOffer> = Vec::new();
        if let Some(cell) = &row.offers {
            let invalid = |why: String| fail(cell, "invalid_offers", why);
            let entries: Vec<crate::catalog::OfferListEntry> = serde_json::from_str(&cell.value).map_err(|e| {
                invalid(format!(
                    "not a list of offers ({e}); each is {{\"supplier\": \"<code>\", \"sku\": \"<supplier SKU>\", \
                     \"cost\": \"12.50 EUR\", \"stock\": 5, \"lead_time_days\": 3, \"available\": true}}"
                ))
            })?;
            for (index, entry) in entries.into_iter().enumerate() {
                let at = |why: String| invalid(format!("offer {}: {why}", index + 1));
                let supplier = crate::catalog::common::code_text("supplier", &entry.supplier, 50)
                    .map_err(|e| at(format!("supplier: {}", reason_of(e))))?;
                let sku = entry.sku.trim().to_string();
                if sku.is_empty() || sku.chars().count() > 200 {
                    return Err(at("a supplier SKU has 1 to 200 characters".into()));
                }
                let cost = match entry.cost.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                    None => None,
                    Some(text) => {
                        let (written, code) = text
                            .rsplit_once(' ')
                            .ok_or_else(|| at(format!("cost {text:?} is not an amount and a currency (12.50 EUR)")))?;
                        let currency = CurrencyCode::parse_field("cost", code)
                            .map_err(|e| at(format!("cost: {}", reason_of(e))))?;
                        let minor = amount(&Cell { value: written.to_string(), column: cell.column }, currency)
                            .map_err(|e| at(format!("cost: {}", e.reason)))?;
                        Some((minor, currency.as_str()))
                    }
                };
                if entry.stock.is_some_and(|n| n < 0) {
                    return Err(at("a stock is 0 or more".into()));
                }
                if entry.lead_time_days.is_some_and(|n| n < 0) {
                    return Err(at("a lead time is 0 days or more".into()));
                }
                if offers.iter().any(|o| o.supplier == supplier && o.sku == sku) {
                    return Err(at(format!("supplier {supplier}'s SKU {sku:?} is listed twice")));
                }
                offers.push(ListedOffer {
                    supplier,
                    sku,
                    cost,
                    stock: entry.stock,
                    lead_time_days: entry.lead_time_days,
                    available: entry.available,
                });
            }
        }
        // Signed: a variant may cost less than its parent.
        let price_impact = match &row.price_impact {
            None => None,
            Some(cell) => {
                let currency = currency_of(cell, None)?;
                let written = cell.value.trim();
                let (sign, magnitude) = match written.strip_prefix('-').or_else(|| written.strip_prefix('\u{2212}')) {
                    Some(rest) => (-1, rest),
                    None => (1, written.strip_prefix('+').unwrap_or(written)),
                };
                let unsigned = Cell { value: magnitude.trim().to_string(), column: cell.column };
                Some((currency.as_str(), sign * amount(&unsigned, currency)?))
            }
        };
        // A supplier's stock is 0 or more; our own may be below 0 (a shop that sold more than it had: WooCommerce's
        // `-2` of a product on backorder).
        let quantity = |cell: &Option<Cell>, own: bool| -> Result<Option<i64>, RowError> {
            match cell {
                None => Ok(None),
                Some(cell) => Ok(Some(whole_number(&cell.value).filter(|n| own || *n >= 0).ok_or_else(|| {
                    let what = if own { "a whole number" } else { "a whole number, 0 or more" };
                    fail(cell, "invalid_number", format!("{:?} is not a stock quantity ({what})", cell.value))
                })?)),
            }
        };
        let stock = quantity(&row.stock, false)?;
        let product_stock = quantity(&row.product_stock, true)?;
        let mut location_stocks = Vec::with_capacity(row.location_stocks.len());
        for (location, cell) in &row.location_stocks {
            if location.chars().count() > 100 || crate::input::control_character(location).is_some() {
                return Err(fail(cell, "invalid_location", format!("{location:?} is not a stock location's name")));
            }
            if let Some(quantity) = quantity(&Some(cell.clone()), true)? {
                location_stocks.push((location.clone(), quantity));
            }
        }
        let lead_time_days = match &row.lead_time_days {
            None => None,
            Some(cell) => Some(
                whole_number(&cell.value)
                    .and_then(|n| i32::try_from(n).ok())
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| fail(cell, "invalid_number", format!("{:?} is not a number of days", cell.value)))?,
            ),
        };
        let status = match &row.status {
            None => None,
            Some(cell) => Some(match cell.value.to_ascii_lowercase().as_str() {
                "draft" => "draft",
                "active" => "active",
                "archived" => "archived",
                _ => {
                    return Err(fail(
                        cell,
                        "invalid_status",
                        format!("{:?} is not draft, active or archived", cell.value),
                    ));
                }
            }),
        };
        let availability =
            match &row.availability {
                None => None,
                Some(cell) => Some(cell.value.parse().map_err(|_| {
                    fail(cell, "invalid_availability", crate::catalog::Availability::not_one(&cell.value))
                })?),
            };
        let text = |cell: &Option<Cell>, max: usize, what: &str| -> Result<Option<String>, RowError> {
            match cell {
                Some(cell) if cell.value.chars().count() > max => {
                    Err(fail(cell, "too_long", format!("a {what} has at most {max} characters")))
                }
                Some(cell) => Ok(Some(cell.value.clone())),
                None => Ok(None),
            }
        };
        let mut attributes: Vec<(String, String)> = Vec::with_capacity(row.attributes.len());
        for (name, cell) in row.attributes {
            if attributes.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                return Err(fail(&cell, "duplicate_attribute", format!("attribute {name:?} is given twice")));
            }
            attributes.push((name, cell.value));
        }
        let mut images: Vec<String> = Vec::with_capacity(row.images.len());
        let mut images_dropped = 0;
        for cell in row.images {
            match url::Url::parse(&cell.value) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => {}
                Err(url::ParseError::RelativeUrlWithoutBase) if self.relative_images == RelativeImages::Ignore => {
                    images_dropped += 1;
                    continue;
                }
                Err(url::ParseError::RelativeUrlWithoutBase) => {
                    let reason = format!("{:?} is a relative path: give the import an image base URL", cell.value);
                    return Err(fail(&cell, "invalid_url", reason));
                }
                _ => return Err(fail(&cell, "invalid_url", format!("{:?} is not an http(s) URL", cell.value))),
            }
            if !images.contains(&cell.value) {
                images.push(cell.value);
            }
        }
        let mut checked = ImportRow {
            line,
            supplier_sku: supplier_sku.value,
            gtin,
            // The product's SKU as the catalog reads it back (a longer one would be stored and then fail to parse).
            sku: text(&row.sku, crate::catalog::Sku::MAX_LEN, "SKU")?,
            title: text(&row.title, 500, "title")?,
            description: text(&row.description, 100_000, "description")?,
            brand: text(&row.brand, 200, "brand")?,
            status,
            cost,
            stock,
            lead_time_days,
            prices,
            attributes,
            categories: row.categories.into_iter().map(|(names, _)| names).collect(),
            images,
            parent_sku: row.parent_sku.map(|c| c.value),
            variant_options: row.variant_options.into_iter().map(|(axis, cell)| (axis, cell.value)).collect(),
            variants: row.variants.into_iter().map(|(sku, options)| (sku, options.into_iter().collect())).collect(),
            price_impact,
            product_stock,
            location_stocks,
            availability,
            gtin_dropped,
            images_dropped,
            stock_column: row.stock_column,
            price_windows,
            windows_stated,
            all_windows_stated: row.windows_list_column,
            open_replaced,
            seo,
            offers,
            available: true,
            offers_cell: row.offers.as_ref().map(|c| c.column),
            hash: [0; 16],
        };
        checked.hash = row_hash(&checked);
        Ok(checked)
    }
}

/// A percentage (`5.5`, `5,5`, `5.5 %`) in millionths of the whole (5.5 % → 55,000), at most four decimals; `None`
/// when it is not a number from 0 to 100.
fn percent_per_million(text: &str) -> Option<i64> {
    let text = text.trim().trim_end_matches('%').trim().replace(',', ".");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(fraction.is_empty() || digits(fraction)) || fraction.len() > 4 {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<4}").parse().ok()?;
    let per_million = whole.checked_mul(10_000)?.checked_add(fraction)?;
    (0..=1_000_000).contains(&per_million).then_some(per_million)
}

/// The reason alone: the row error names the column already.
fn reason_of(error: crate::catalog::CatalogError) -> String {
    match error {
        crate::catalog::CatalogError::Invalid { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// The hash of what a row says (not its line).
fn row_hash(row: &ImportRow) -> [u8; 16] {
    let mut hasher = Sha256::new();
    hasher.update(HASH_VERSION);
    // Serialising a struct of plain values cannot fail.
    hasher.update(serde_json::to_vec(row).unwrap_or_default());
    let digest = hasher.finalize();
    let mut hash = [0; 16];
    hash.copy_from_slice(&digest[..16]);
    hash
}

/// Currency symbols people write beside amounts, and the currencies each may stand for.
const CURRENCY_SIGNS: [(&str, &[&str]); 10] = [
    ("€", &["EUR"]),
    ("£", &["GBP"]),
    ("$", &["USD", "CAD", "AUD", "NZD", "HKD", "SGD", "MXN"]),
    ("US$", &["USD"]),
    ("¥", &["JPY", "CNY"]),
    ("₹", &["INR"]),
    ("zł", &["PLN"]),
    ("kr", &["SEK", "NOK", "DKK", "ISK"]),
    ("Fr", &["CHF"]),
    ("R$", &["BRL"]),
];

/// Spaces that group digits (`1 234,56`): plain, no-break, narrow no-break, thin.
const GROUP_SPACES: [char; 4] = [' ', '\u{a0}', '\u{202f}', '\u{2009}'];

/// An amount as people and spreadsheets write it, reduced to digits and at most one decimal point: a currency
/// code or symbol before or after it (`12,99 €`, `EUR 12.99`, `$5`) is taken off once checked against `currency`;
/// digits grouped by spaces or apostrophes (`1 234,56`, `1'234.50`), or by the separator that is not the last one
/// when both appear (`1.234,56`, `1,234.56`), lose their grouping. Groups must be of three digits, so `1.23,4` is
/// refused rather than guessed; `1,234` alone stays ambiguous (refused later).
fn written_amount(text: &str, currency: CurrencyCode) -> Result<String, String> {
    let trimmed = text.trim();
    let code = currency.as_str();
    let mut number = trimmed;
    let sign_matches = |sign: &str| {
        sign.eq_ignore_ascii_case(code)
            || CURRENCY_SIGNS.iter().any(|(symbol, codes)| *symbol == sign && codes.contains(&code))
    };
    let known_sign = |sign: &str| {
        (sign.len() == 3 && sign.bytes().all(|b| b.is_ascii_alphabetic()))
            || CURRENCY_SIGNS.iter().any(|(symbol, _)| *symbol == sign)
    };
    let is_number_char =
        |c: char| c.is_ascii_digit() || matches!(c, '.' | ',' | '-' | '\'' | '’') || GROUP_SPACES.contains(&c);
    let start = number.find(is_number_char).unwrap_or(number.len());
    let end = number.rfind(|c: char| c.is_ascii_digit()).map_or(number.len(), |at| at + 1);
    let (before, after) = (number[..start].trim(), number[end.max(start)..].trim());
    for sign in [before, after] {
        if sign.is_empty() {
            continue;
        }
        if !known_sign(sign) {
            return Err(format!("{text:?} is not a decimal amount like 12.50"));
        }
        if !sign_matches(sign) {
            return Err(format!("{text:?} is written in {sign}, but the price's currency is {code}"));
        }
    }
    if !before.is_empty() && !after.is_empty() {
        return Err(format!("{text:?} names its currency twice"));
    }
    number = number[start..end.max(start)].trim();
    let negative = number.starts_with('-');
    let digits = number.trim_start_matches('-');
    // Spaces and apostrophes only ever group digits.
    let spaced = digits.contains(|c: char| GROUP_SPACES.contains(&c) || c == '\'' || c == '’');
    let mut compact: String = digits.chars().filter(|c| !GROUP_SPACES.contains(c) && *c != '\'' && *c != '’').collect();
    if spaced {
        let whole = digits.split(['.', ',']).next().unwrap_or_default();
        if !grouped_by_three(
            &whole.split(|c: char| GROUP_SPACES.contains(&c) || c == '\'' || c == '’').collect::<Vec<_>>(),
        ) {
            return Err(format!("{text:?} groups its digits unevenly"));
        }
    }
    let (points, commas) = (compact.matches('.').count(), compact.matches(',').count());
    let ungroup = |compact: &str, grouping: char, decimal: Option<char>| -> Result<String, String> {
        let whole_end = decimal.and_then(|d| compact.rfind(d)).unwrap_or(compact.len());
        let (whole, fraction) = compact.split_at(whole_end);
        if !grouped_by_three(&whole.split(grouping).collect::<Vec<_>>()) {
            return Err(format!("{text:?} groups its digits unevenly"));
        }
        Ok(format!("{}{}", whole.replace(grouping, ""), fraction.replacen(decimal.unwrap_or('.'), ".", 1)))
    };
    compact = match (points, commas) {
        // Both: the last one is the decimal separator, the other groups.
        (1.., 1..) => {
            let (decimal, grouping) = if compact.rfind('.') > compact.rfind(',') { ('.', ',') } else { (',', '.') };
            if compact.matches(decimal).count() > 1 {
                return Err(format!("{text:?} is not a decimal amount like 12.50"));
            }
            ungroup(&compact, grouping, Some(decimal))?
        }
        (2.., 0) => ungroup(&compact, '.', None)?,
        (0, 2..) => ungroup(&compact, ',', None)?,
        // One comma after grouping spaces is a decimal comma, whatever follows it.
        (0, 1) if spaced => compact.replacen(',', ".", 1),
        _ => compact,
    };
    Ok(if negative { format!("-{compact}") } else { compact })
}

/// Whether digit groups are a first group of one to three digits, then groups of exactly three (one group alone
/// may be any length).
fn grouped_by_three(groups: &[&str]) -> bool {
    let digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    let Some((first, rest)) = groups.split_first() else { return false };
    if rest.is_empty() {
        return digits(first);
    }
    digits(first) && first.len() <= 3 && rest.iter().all(|g| digits(g) && g.len() == 3)
}

/// `12,50` (a decimal comma, unambiguous with one or two decimals and no point) as `12.50`, and trailing zeros
/// after the point dropped (`100.000000`, as shops export prices); anything else as is.
fn plain_decimal(text: &str) -> String {
    let text = text.trim();
    if let Some((whole, fraction)) = text.split_once('.')
        && fraction.ends_with('0')
        && fraction.bytes().all(|b| b.is_ascii_digit())
    {
        let fraction = fraction.trim_end_matches('0');
        return if fraction.is_empty() { whole.to_string() } else { format!("{whole}.{fraction}") };
    }
    if !text.contains('.')
        && let Some((whole, fraction)) = text.split_once(',')
        && (1..=2).contains(&fraction.len())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !whole.contains(',')
    {
        return format!("{whole}.{fraction}");
    }
    text.to_string()
}

/// A whole number, allowing a zero fraction (`12.0`, `12,00`: spreadsheets write counts as decimals).
fn whole_number(text: &str) -> Option<i64> {
    let text = text.trim();
    let whole = match text.split_once(['.', ',']) {
        Some((whole, fraction)) if !fraction.is_empty() && fraction.bytes().all(|b| b == b'0') => whole,
        Some(_) => return None,
        None => text,
    };
    whole.parse().ok()
}

/// Whether `text` is how Excel shows a long number in a General cell: `1.22328E+11`, `3E+12` — one digit, maybe a
/// fraction, `E+`, the exponent.
fn excel_scientific(text: &str) -> bool {
    let Some((mantissa, exponent)) = text.trim().split_once(['E', 'e']) else { return false };
    let Some(exponent) = exponent.strip_prefix('+') else { return false };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, "0"));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    whole.len() == 1 && digits(whole) && digits(fraction) && digits(exponent) && exponent.len() <= 3
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::imports::mapping::{Preset, Template};

    fn check(headers: &[&str], fields: &[&str]) -> Result<ImportRow, RowError> {
        let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        let template: Template = Preset::Native.template(&headers);
        let mapper = template.mapper(&headers).unwrap();
        let rules = RowRules {
            default_currency: Some("EUR".parse().unwrap()),
            headers,
            invalid_gtin: InvalidGtin::Refuse,
            relative_images: RelativeImages::Refuse,
        };
        rules.check(7, mapper.map(&fields.iter().map(|f| f.to_string()).collect::<Vec<_>>()))
    }

    #[test]
    fn good_rows_are_typed() {
        let row = check(
            &["sku", "gtin", "title", "price", "cost", "stock", "currency"],
            &["A1", "4006381333931", "Pot", "12,50", "7.1", "3.0", "usd"],
        )
        .unwrap();
        assert_eq!(row.gtin.as_deref(), Some("04006381333931"));
        assert_eq!(row.prices, [(PriceType::Retail, "USD", 1250)]);
        assert_eq!(row.cost, Some((710, "USD")));
        assert_eq!(row.stock, Some(3));
        let same = check(
            &["sku", "gtin", "title", "price", "cost", "stock", "currency"],
            &["A1", "4006381333931", "Pot", "12.50", "7.10", "3", "USD"],
        )
        .unwrap();
        assert_eq!(row.hash, same.hash, "the same values hash the same, however written");
    }

    #[test]
    fn a_discount_in_percent_makes_a_windowed_sale_price() {
        assert_eq!(percent_per_million("5.5"), Some(55_000));
        assert_eq!(percent_per_million("12,25 %"), Some(122_500));
        assert_eq!(percent_per_million("100"), Some(1_000_000));
        for bad in ["101", "-5", "five", "1.23456", ""] {
            assert_eq!(percent_per_million(bad), None, "{bad}");
        }
        let headers: Vec<String> = [
            "Product ID",
            "Name",
            "Price tax excl.",
            "Discount percent",
            "Discount from (yyyy-mm-dd)",
            "Discount to (yyyy-mm-dd)",
        ]
        .map(String::from)
        .to_vec();
        let mut shaper = Preset::Prestashop.shaper(&headers).expect("PrestaShop shapes its rows");
        let shaped = shaper.headers();
        let template = Preset::Prestashop.template(&shaped);
        let mapper = template.mapper(&shaped).unwrap();
        let rules = RowRules {
            default_currency: Some("EUR".parse().unwrap()),
            headers: shaped,
            invalid_gtin: InvalidGtin::Refuse,
            relative_images: RelativeImages::Refuse,
        };
        let mut row = |fields: &[&str]| {
            let raw = crate::imports::parse::Row { line: 2, fields: fields.iter().map(|f| f.to_string()).collect() };
            let shaped = shaper.shape(raw).remove(0);
            rules.check(2, mapper.map(&shaped.fields)).unwrap()
        };
        let dated = row(&["1", "Pot", "100", "5.5", "2013-06-01", "2018-12-31"]);
        assert_eq!(dated.prices, [(PriceType::Retail, "EUR", 10_000)]);
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
        let window =
            (PriceType::Sale, "EUR", 9_450, Some(at("2013-06-01T00:00:00Z")), Some(at("2019-01-01T00:00:00Z")));
        assert_eq!(dated.price_windows, [window], "5.5 % off, the last day included");
        let open = row(&["2", "Cup", "9.99", "33.3333", "", ""]);
        assert_eq!(open.prices, [(PriceType::Retail, "EUR", 999), (PriceType::Sale, "EUR", 666)], "rounded half up");
        let none = row(&["3", "Bowl", "10", "", "2013-06-01", "2018-12-31"]);
        assert_eq!((none.prices.len(), none.price_windows.len()), (1, 0), "dates without a discount: no sale");
    }

    #[test]
    fn bad_rows_name_the_column_and_the_reason() {
        let bad = |headers: &[&str], fields: &[&str]| check(headers, fields).unwrap_err();
        let gtin = bad(&["sku", "gtin"], &["A1", "4006381333932"]);
        assert_eq!((gtin.line, gtin.column, gtin.code), (7, Some(2), "invalid_gtin"));
        assert!(gtin.reason.contains("check digit"), "{}", gtin.reason);
        assert_eq!(bad(&["sku", "price"], &["A1", "1,234"]).code, "invalid_amount", "ambiguous comma");
        assert_eq!(bad(&["sku", "price"], &["A1", "-3"]).code, "invalid_amount");
        let long_sku = "S".repeat(101);
        assert_eq!(bad(&["sku", "product_sku"], &["A1", &long_sku]).reason, "a SKU has at most 100 characters");
        assert_eq!(bad(&["sku", "price"], &["A1", "1.999"]).reason, "\"1.999\" has more than 2 decimals for EUR");
        assert_eq!(check(&["sku", "price"], &["A1", "100.000000"]).unwrap().prices[0].2, 10_000, "zeros are exact");
        assert_eq!(bad(&["sku", "stock"], &["A1", "2.5"]).code, "invalid_number");
        assert_eq!(bad(&["sku", "currency", "price"], &["A1", "EUX", "1"]).code, "invalid_currency");
        assert_eq!(bad(&["sku", "title"], &["", "Pot"]).code, "missing_field");
        assert_eq!(bad(&["sku", "image_url"], &["A1", "ftp://x/a.jpg"]).code, "invalid_url");
        assert_eq!(bad(&["sku", "status"], &["A1", "live"]).code, "invalid_status");
        let excel = bad(&["sku", "title"], &["8.12346E+12", "Pot"]);
        assert_eq!((excel.code, excel.column), ("excel_number", Some(1)), "{}", excel.reason);
        assert_eq!(bad(&["sku", "product_sku"], &["A1", "3E+12"]).code, "excel_number");
        assert!(
            check(&["sku", "title"], &["E+1", "Pot"]).is_ok() && check(&["sku", "title"], &["12E+3A", "Pot"]).is_ok()
        );
    }

    #[test]
    fn amounts_are_read_as_people_write_them() {
        let price = |written: &str| check(&["sku", "price"], &["A1", written]).map(|row| row.prices[0].2);
        for (written, minor) in [
            ("1 234,56 €", 123_456),
            ("1\u{a0}234,56\u{a0}€", 123_456),
            ("1\u{202f}234,5", 123_450),
            ("€12.99", 1299),
            ("EUR 12,99", 1299),
            ("12.99 eur", 1299),
            ("1.234,56", 123_456),
            ("1,234.56", 123_456),
            ("1.234.567", 123_456_700),
            ("1,234,567.5", 123_456_750),
            ("1'234.50", 123_450),
            ("12,5", 1250),
            ("0,99 €", 99),
        ] {
            assert_eq!(price(written).map_err(|e| e.reason), Ok(minor), "{written:?}");
        }
        let refused = |written: &str| check(&["sku", "price"], &["A1", written]).unwrap_err();
        for written in ["1,234", "1.23,4", "12 34,5", "1.234,5.6", "€ 12 EUR", "12 zz", "1 2"] {
            assert_eq!(refused(written).code, "invalid_amount", "{written:?}");
        }
        let wrong = refused("$12.99");
        assert!(wrong.reason.contains("written in $, but the price's currency is EUR"), "{}", wrong.reason);
        assert!(refused("12.99 GBP").reason.contains("GBP"));
    }
}
