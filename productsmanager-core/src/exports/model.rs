//! Export formats, channel settings, filters, jobs.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ExportError;
use crate::catalog::{CurrencyCode, PriceType, ProductQuery, ProductStatus};

/// A feed file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeedFormat {
    /// Our own columns (`sku`, `gtin`, `title`, … — the `native` import preset reads them back).
    Csv,
    /// The same columns in a workbook.
    Xlsx,
    /// Shopify's product CSV: variants as rows under their product's handle.
    ShopifyCsv,
    /// WooCommerce's product CSV: a `variable` product followed by its `variation` rows.
    WoocommerceCsv,
    /// Google Merchant Center RSS 2.0 feed.
    GoogleMerchantXml,
    /// Google Merchant Center tab-separated feed.
    GoogleMerchantTsv,
}

impl FeedFormat {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [FeedFormat; 6] = [
        FeedFormat::Csv,
        FeedFormat::Xlsx,
        FeedFormat::ShopifyCsv,
        FeedFormat::WoocommerceCsv,
        FeedFormat::GoogleMerchantXml,
        FeedFormat::GoogleMerchantTsv,
    ];

    /// Name as stored (`export_jobs.format`).
    pub fn as_str(self) -> &'static str {
        match self {
            FeedFormat::Csv => "csv",
            FeedFormat::Xlsx => "xlsx",
            FeedFormat::ShopifyCsv => "shopify_csv",
            FeedFormat::WoocommerceCsv => "woocommerce_csv",
            FeedFormat::GoogleMerchantXml => "google_merchant_xml",
            FeedFormat::GoogleMerchantTsv => "google_merchant_tsv",
        }
    }

    /// Name on the command line (`shopify-csv`).
    pub fn cli_name(self) -> &'static str {
        match self {
            FeedFormat::Csv => "csv",
            FeedFormat::Xlsx => "xlsx",
            FeedFormat::ShopifyCsv => "shopify-csv",
            FeedFormat::WoocommerceCsv => "woocommerce-csv",
            FeedFormat::GoogleMerchantXml => "google-merchant-xml",
            FeedFormat::GoogleMerchantTsv => "google-merchant-tsv",
        }
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            FeedFormat::Csv | FeedFormat::ShopifyCsv | FeedFormat::WoocommerceCsv => "csv",
            FeedFormat::Xlsx => "xlsx",
            FeedFormat::GoogleMerchantXml => "xml",
            FeedFormat::GoogleMerchantTsv => "tsv",
        }
    }

    /// The media type of the file.
    pub fn content_type(self) -> &'static str {
        match self {
            FeedFormat::Csv | FeedFormat::ShopifyCsv | FeedFormat::WoocommerceCsv => "text/csv; charset=utf-8",
            FeedFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FeedFormat::GoogleMerchantXml => "application/rss+xml; charset=utf-8",
            FeedFormat::GoogleMerchantTsv => "text/tab-separated-values; charset=utf-8",
        }
    }

    /// Whether the feed lists only what is for sale (Google reads a feed as the shop's offer: a draft must not be
    /// in it).
    pub fn only_active(self) -> bool {
        matches!(self, FeedFormat::GoogleMerchantXml | FeedFormat::GoogleMerchantTsv)
    }
}

impl fmt::Display for FeedFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FeedFormat {
    type Err = ExportError;
    /// Accepts the stored names and the CLI's (`shopify-csv`, `google-merchant-xml`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase().replace('-', "_");
        FeedFormat::ALL.into_iter().find(|f| f.as_str() == name).ok_or_else(|| {
            let known = FeedFormat::ALL.map(FeedFormat::cli_name);
            ExportError::invalid("format", format!("{s:?} is not one of {}", known.join(", ")))
        })
    }
}

/// How a channel's prices are made from the catalog's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PriceRule {
    /// Added to the price, in percent (`20` sells at 1.2 times the catalog price; negative lowers it).
    #[serde(default)]
    pub markup_percent: Option<f64>,
    /// The minor units every price ends with, rounding up (`99`: 12.34 → 12.99, 13.00 → 13.99; `0`: whole units).
    #[serde(default)]
    pub ending_minor: Option<i64>,
}

impl PriceRule {
    /// Applies the rule to an amount in minor units (`minor_per_unit`: 100 for EUR). The arithmetic is checked: a
    /// result that would not fit is `None`, never a wrapped amount (a price of 0.00 for a huge one).
    pub fn apply(&self, amount_minor: i64, minor_per_unit: i64) -> Option<i64> {
        let mut amount = amount_minor;
        if let Some(percent) = self.markup_percent {
            // Rounded half away from zero to the minor unit.
            let marked = (amount as f64 * (1.0 + percent / 100.0)).round();
            if !marked.is_finite() || marked.abs() >= i64::MAX as f64 {
                return None;
            }
            amount = marked as i64;
        }
        if let Some(ending) = self.ending_minor
            && minor_per_unit > 1
            && (0..minor_per_unit).contains(&ending)
        {
            let whole = amount.div_euclid(minor_per_unit);
            let candidate = whole.checked_mul(minor_per_unit)?.checked_add(ending)?;
            amount = if candidate >= amount { candidate } else { candidate.checked_add(minor_per_unit)? };
        }
        Some(amount.max(0))
    }
}

/// What one sales channel (a platform or a feed) is sent: which price, in which currency, with which rule, under
/// which categories.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelSettings {
    /// The catalog price sold at (retail by default); a current `sale` price is sent beside it as the sale price.
    #[serde(default)]
    pub price_type: Option<PriceType>,
    /// Only prices in this currency are sent; without it, each product's first current price.
    #[serde(default)]
    pub currency: Option<CurrencyCode>,
    #[serde(default)]
    pub price_rule: PriceRule,
    /// Our category path (`Garden > Tools`) → the channel's category (a Google product category, a Shopify
    /// taxonomy path); unmapped paths are sent as they are.
    #[serde(default)]
    pub category_mapping: BTreeMap<String, String>,
    /// Which of our values fill the channel's title, description and brand — a marketplace title kept in an
    /// attribute, say: channel field (`title`, `description`, `brand`) → source (`title`, `description`, `brand`,
    /// `sku`, `gtin`, `category` or `attribute:<name>`). A product whose source is empty keeps its own value.
    #[serde(default)]
    pub field_mapping: BTreeMap<String, String>,
    /// The product page URL, with `{key}` (SKU, else GTIN, else id) and `{id}` replaced: Google Merchant's `link`.
    #[serde(default)]
    pub link_template: Option<String>,
    /// Google Merchant's `condition` (`new` when not set).
    #[serde(default)]
    pub condition: Option<String>,
    /// Platform runs to Shopify: a push of at least this many products goes as a bulk operation (a JSONL file
    /// Shopify works through by itself, 2,000 products a time, instead of 25 products to a rate-limited
    /// document). 250 when not set; 0: never.
    #[serde(default)]
    pub bulk_from: Option<u32>,
    /// What a product needs to count as complete for this channel (the analytics' completeness listing); the
    /// catalog's default rules when not set.
    #[serde(default)]
    pub completeness: Option<crate::analytics::CompletenessRules>,
}

/// The first `{…}` of a link template that is neither `{key}` nor `{id}` (it would be written as it is).
fn unknown_placeholder(template: &str) -> Option<&str> {
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').map_or(rest.len(), |end| start + end + 1);
        let placeholder = &rest[start..end];
        if !matches!(placeholder, "{key}" | "{id}") {
            return Some(placeholder);
        }
        rest = &rest[end..];
    }
    None
}

/// The channel fields [`ChannelSettings::field_mapping`] can fill, and our values it can fill them with (besides
/// `attribute:<name>`).
pub const MAPPED_FIELDS: [&str; 3] = ["title", "description", "brand"];
pub const MAPPING_SOURCES: [&str; 6] = ["title", "description", "brand", "sku", "gtin", "category"];

impl ChannelSettings {
    /// Checks the settings (`field` prefixes the names in errors).
    pub fn check(&self, field: &str) -> Result<(), ExportError> {
        if let Some(percent) = self.price_rule.markup_percent
            && !(percent.is_finite() && percent > -100.0 && percent <= 10_000.0)
        {
            return Err(ExportError::invalid(
                &format!("{field}.price_rule.markup_percent"),
                format!("{percent} is not above -100 and at most 10000"),
            ));
        }
        if let Some(ending) = self.price_rule.ending_minor
            && !(0..100).contains(&ending)
        {
            return Err(ExportError::invalid(
                &format!("{field}.price_rule.ending_minor"),
                format!("{ending} is not between 0 and 99"),
            ));
        }
        if let Some(template) = &self.link_template
            && let Some(unknown) = unknown_placeholder(template)
        {
            return Err(ExportError::invalid(
                &format!("{field}.link_template"),
                format!("{unknown} is not a placeholder it knows: {{key}} (SKU, else GTIN, else id) and {{id}}"),
            ));
        }
        if let Some(template) = &self.link_template
            && !url::Url::parse(&template.replace("{key}", "k").replace("{id}", "i"))
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            return Err(ExportError::invalid(
                &format!("{field}.link_template"),
                format!("{template:?} is not an http(s) URL"),
            ));
        }
        for (target, source) in &self.field_mapping {
            if !MAPPED_FIELDS.contains(&target.as_str()) {
                return Err(ExportError::invalid(
                    &format!("{field}.field_mapping"),
                    format!("{target:?} is not a field that can be mapped ({})", MAPPED_FIELDS.join(", ")),
                ));
            }
            let attribute = source.strip_prefix("attribute:").is_some_and(|name| !name.trim().is_empty());
            if !attribute && !MAPPING_SOURCES.contains(&source.as_str()) {
                return Err(ExportError::invalid(
                    &format!("{field}.field_mapping.{target}"),
                    format!("{source:?} is not {} or attribute:<name>", MAPPING_SOURCES.join(", ")),
                ));
            }
        }
        if let Some(condition) = &self.condition
            && !["new", "refurbished", "used"].contains(&condition.as_str())
        {
            return Err(ExportError::invalid(
                &format!("{field}.condition"),
                format!("{condition:?} is not new, refurbished or used"),
            ));
        }
        Ok(())
    }
}

/// Which products an export takes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExportFilters {
    #[serde(default)]
    pub brand_id: Option<Uuid>,
    #[serde(default)]
    pub supplier_id: Option<Uuid>,
    /// This category or any below it.
    #[serde(default)]
    pub category_id: Option<Uuid>,
    #[serde(default)]
    pub status: Option<ProductStatus>,
    #[serde(default)]
    pub in_stock: Option<bool>,
    #[serde(default)]
    pub updated_since: Option<DateTime<Utc>>,
}

impl ExportFilters {
    /// The catalog query these filters make.
    pub(crate) fn query(&self) -> ProductQuery {
        ProductQuery {
            brand_id: self.brand_id,
            supplier_id: self.supplier_id,
            category_id: self.category_id,
            status: self.status,
            in_stock: self.in_stock,
            updated_since: self.updated_since,
            ..Default::default()
        }
    }
}

/// A feed file to write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FeedRequest {
    pub format: FeedFormat,
    #[serde(default)]
    pub filters: ExportFilters,
    #[serde(default)]
    pub settings: ChannelSettings,
}

/// What writing a feed did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedSummary {
    /// Catalog products read.
    pub products: u64,
    /// Items (rows, feed entries) written.
    pub items: u64,
    /// Products left out (a draft in a Google feed, a product without a price where one is required).
    pub skipped: u64,
    /// Size of the file.
    pub bytes: u64,
    /// Items written without an attribute the channel requires, by attribute, as Merchant Center's diagnostics
    /// count them (`link` without a link template, `image_link`, `brand`, `gtin` for neither a GTIN nor an MPN):
    /// the platform would refuse or limit them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub missing: std::collections::BTreeMap<String, u64>,
}

/// Progress of a feed being written, after each page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FeedProgress {
    pub products: u64,
    pub items: u64,
}

/// An export job: a feed file or a run to a platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportJob {
    pub id: Uuid,
    /// `queued`, `running`, `succeeded`, `failed`, `dead`, `cancelled`, `paused`.
    pub state: String,
    pub platform_id: Option<Uuid>,
    /// `full` or `delta`.
    pub mode: String,
    pub format: Option<FeedFormat>,
    /// Where the file is in the object store (a feed job that succeeded).
    pub output_object_key: Option<String>,
    pub items_total: Option<i64>,
    pub items_processed: i64,
    pub items_created: i64,
    pub items_updated: i64,
    pub items_unchanged: i64,
    pub items_failed: i64,
    pub items_skipped: i64,
    /// A finished feed's items without an attribute the channel requires, by attribute (see
    /// [`FeedSummary::missing`]).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub missing: std::collections::BTreeMap<String, u64>,
    pub last_error: Option<String>,
    pub created_by: Option<Uuid>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Whether a platform run sends every product or only those changed since they were last sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExportMode {
    /// Products whose content changed since the last time they went through, and those that failed.
    #[default]
    Delta,
    /// Every product.
    Full,
}

impl ExportMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportMode::Delta => "delta",
            ExportMode::Full => "full",
        }
    }
}

/// A sales platform to push the catalog to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPlatform {
    /// Unique; the CLI and routes find the platform by it.
    pub name: String,
    pub platform: super::PlatformKind,
    /// The API's base URL (WooCommerce: `https://shop.example/wp-json/wc/v3`).
    pub endpoint: String,
    /// Sealed under the master key when stored; never answered.
    pub credentials: super::PlatformCredentials,
    /// Which products go there.
    #[serde(default)]
    pub filters: ExportFilters,
    /// Price type, currency, price rule, category mapping.
    #[serde(default)]
    pub settings: ChannelSettings,
    /// Set by the adapter from the caller.
    #[serde(skip)]
    pub created_by: Option<Uuid>,
}

/// A sales platform (its credentials are never shown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Platform {
    pub id: Uuid,
    pub name: String,
    pub platform: super::PlatformKind,
    pub endpoint: String,
    pub filters: ExportFilters,
    pub settings: ChannelSettings,
    pub is_active: bool,
    /// When a run last ended well.
    pub last_success_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What became of one product in a platform run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportItem {
    pub product_id: Uuid,
    /// `created`, `updated`, `unchanged`, `failed` or `skipped`.
    pub status: String,
    /// The platform's id of the product.
    pub remote_id: Option<String>,
    pub error: Option<String>,
    /// Failed attempts in a row (a failed product is retried on the next runs, spaced out).
    pub attempts: i32,
    pub updated_at: DateTime<Utc>,
}

/// What a platform run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlatformRunCounts {
    pub processed: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    pub skipped: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_by_stored_and_cli_names() {
        for format in FeedFormat::ALL {
            assert_eq!(format.as_str().parse::<FeedFormat>().unwrap(), format);
            assert_eq!(format.cli_name().parse::<FeedFormat>().unwrap(), format);
        }
        let error = "pdf".parse::<FeedFormat>().unwrap_err().to_string();
        assert!(error.contains("google-merchant-xml"), "{error}");
    }

    #[test]
    fn price_rules_mark_up_then_round_to_the_ending() {
        let rule = PriceRule { markup_percent: Some(20.0), ending_minor: Some(99) };
        assert_eq!(rule.apply(1000, 100), Some(1299)); // 12.00 → 12.99
        assert_eq!(rule.apply(1083, 100), Some(1399)); // 13.00 → 13.99 (1083 × 1.2 = 1299.6 → 1300)
        let ending = PriceRule { markup_percent: None, ending_minor: Some(0) };
        assert_eq!(ending.apply(1201, 100), Some(1300));
        assert_eq!(ending.apply(1200, 100), Some(1200));
        assert_eq!(PriceRule::default().apply(1234, 100), Some(1234));
        // A currency without minor units ignores the ending.
        assert_eq!(PriceRule { markup_percent: None, ending_minor: Some(99) }.apply(1234, 1), Some(1234));
        let discount = PriceRule { markup_percent: Some(-10.0), ending_minor: None };
        assert_eq!(discount.apply(1000, 100), Some(900));
        // The probe's case: the largest i64 marked up by half and ended in .99 used to wrap to 0.00.
        let probe = PriceRule { markup_percent: Some(50.0), ending_minor: Some(99) };
        assert_eq!(probe.apply(i64::MAX, 100), None);
        assert_eq!(probe.apply(i64::MAX - 50, 100), None);
        let largest = crate::catalog::MAX_AMOUNT_MINOR;
        assert_eq!(probe.apply(largest, 100), Some(1_499_999_999_999));
    }

    #[test]
    fn settings_are_checked_with_their_field_named() {
        let mut settings = ChannelSettings::default();
        assert!(settings.check("settings").is_ok());
        settings.price_rule.ending_minor = Some(100);
        let error = settings.check("settings").unwrap_err().to_string();
        assert!(error.starts_with("settings.price_rule.ending_minor"), "{error}");
        settings.price_rule.ending_minor = None;
        settings.link_template = Some("ftp://x/{key}".into());
        assert!(settings.check("s").unwrap_err().to_string().contains("link_template"));
        settings.link_template = Some("https://shop.example/p/{sku}".into());
        let unknown = settings.check("s").unwrap_err().to_string();
        assert!(unknown.contains("{sku} is not a placeholder"), "{unknown}");
        settings.link_template = Some("https://shop.example/p/{key}".into());
        settings.condition = Some("mint".into());
        assert!(settings.check("s").unwrap_err().to_string().contains("condition"));
    }
}
