//! What the analytics service answers: completeness, overview, scorecards, histories, searches, rollups.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a product needs to count as complete. The defaults are the catalog's own rules; an export channel may
/// carry its own (`completeness` in its settings): a marketplace that needs an ASIN, a feed that needs two images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct CompletenessRules {
    pub require_gtin: bool,
    pub require_brand: bool,
    pub require_category: bool,
    pub require_asin: bool,
    pub require_price: bool,
    pub require_stock: bool,
    /// Images at least (catalog image URLs and uploaded images together).
    pub min_images: u32,
    /// Characters of description at least.
    pub min_description_chars: u32,
}

impl Default for CompletenessRules {
    fn default() -> Self {
        CompletenessRules {
            require_gtin: true,
            require_brand: true,
            require_category: true,
            require_asin: false,
            require_price: true,
            require_stock: false,
            min_images: 1,
            min_description_chars: 50,
        }
    }
}

/// The facts a completeness score is computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ProductFacts {
    pub product_id: Uuid,
    /// The primary (else first) category.
    pub category_id: Option<Uuid>,
    pub has_gtin: bool,
    pub has_asin: bool,
    pub has_brand: bool,
    pub has_category: bool,
    pub has_price: bool,
    /// Own stock available, or an available supplier offer with stock.
    pub in_stock: bool,
    pub image_count: i64,
    pub description_chars: i64,
}

impl CompletenessRules {
    /// The score (0–100: the share of this rule set's checks passed) and the names of the checks failed
    /// (`gtin`, `brand`, `category`, `asin`, `price`, `stock`, `images`, `description`).
    ///
    /// ```
    /// use productsmanager_core::analytics::{CompletenessRules, ProductFacts};
    /// let facts = ProductFacts { product_id: uuid::Uuid::nil(), category_id: None, has_gtin: true, has_asin: false,
    ///     has_brand: true, has_category: false, has_price: true, in_stock: false, image_count: 2,
    ///     description_chars: 10 };
    /// let (score, missing) = CompletenessRules::default().evaluate(&facts);
    /// assert_eq!((score, missing), (67, vec!["category", "description"]));
    /// ```
    pub fn evaluate(&self, facts: &ProductFacts) -> (u8, Vec<&'static str>) {
        let checks = [
            (self.require_gtin, facts.has_gtin, "gtin"),
            (self.require_brand, facts.has_brand, "brand"),
            (self.require_category, facts.has_category, "category"),
            (self.require_asin, facts.has_asin, "asin"),
            (self.require_price, facts.has_price, "price"),
            (self.require_stock, facts.in_stock, "stock"),
            (self.min_images > 0, facts.image_count >= i64::from(self.min_images), "images"),
            (
                self.min_description_chars > 0,
                facts.description_chars >= i64::from(self.min_description_chars),
                "description",
            ),
        ];
        let applied = checks.iter().filter(|(on, _, _)| *on).count();
        let missing: Vec<&'static str> =
            checks.iter().filter(|(on, ok, _)| *on && !ok).map(|(_, _, name)| *name).collect();
        if applied == 0 {
            return (100, missing);
        }
        let score = ((applied - missing.len()) as f64 * 100.0 / applied as f64).round() as u8;
        (score, missing)
    }
}

/// One product's completeness under a rule set.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Completeness {
    pub product_id: Uuid,
    pub sku: Option<String>,
    pub title: Option<String>,
    pub score: u8,
    /// The checks failed (`gtin`, `brand`, `category`, `asin`, `price`, `stock`, `images`, `description`).
    pub missing: Vec<String>,
    /// When the facts were read (now for a single product; the last catalog snapshot for listings).
    pub computed_at: DateTime<Utc>,
}

/// Completeness of the products of one category (primary category; `category_id` none: uncategorised).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryCompleteness {
    pub category_id: Option<Uuid>,
    pub name: Option<String>,
    pub products: i64,
    /// Products scoring 100.
    pub complete: i64,
    pub mean_score: f64,
}

/// The catalog at a glance, as of `taken_at` (the catalog snapshot job takes one every hour).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogOverview {
    pub taken_at: DateTime<Utc>,
    /// How long taking it took.
    pub duration_ms: i64,
    pub products: i64,
    pub with_gtin: i64,
    pub with_asin: i64,
    pub with_images: i64,
    pub in_stock: i64,
    /// Products scoring 100 under the default rules.
    pub complete: i64,
    pub mean_score: f64,
    /// Largest categories first.
    pub categories: Vec<CategoryCompleteness>,
}

/// A supplier over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupplierScorecard {
    pub supplier_id: Uuid,
    pub code: Option<String>,
    pub name: Option<String>,
    /// Offers and offers in stock on the latest day measured.
    pub offers: i64,
    pub offers_in_stock: i64,
    /// offers_in_stock / offers (none without offers).
    pub stock_coverage: Option<f64>,
    pub price_changes: i64,
    pub imports: i64,
    pub imports_succeeded: i64,
    pub imports_failed: i64,
    pub import_success_rate: Option<f64>,
    pub mean_import_ms: Option<f64>,
}

/// Imports of one day (all suppliers).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportDay {
    pub day: NaiveDate,
    pub jobs: i64,
    pub jobs_failed: i64,
    pub rows_processed: i64,
    pub rows_failed: i64,
    /// rows_failed / rows_processed.
    pub error_rate: Option<f64>,
    pub duration_ms: i64,
    /// rows_processed per second of import time.
    pub rows_per_sec: Option<f64>,
}

/// One import job's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportJobMetrics {
    pub job_id: Uuid,
    pub supplier_id: Option<Uuid>,
    pub day: NaiveDate,
    pub failed: bool,
    pub rows_processed: i64,
    pub rows_failed: i64,
    pub duration_ms: i64,
    pub rows_per_sec: Option<f64>,
}

/// A query as searched over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchCount {
    /// Trimmed, lower case, single spaces.
    pub query: String,
    pub searches: i64,
    pub zero_result_searches: i64,
    pub mean_latency_ms: f64,
}

/// Top and zero-result searches over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchReport {
    pub since: NaiveDate,
    pub top: Vec<SearchCount>,
    pub zero_results: Vec<SearchCount>,
}

/// One product's figures for one day.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductDay {
    pub day: NaiveDate,
    pub views: i64,
    pub exports: i64,
    pub price_changes: i64,
    pub stock_outs: i64,
}

/// One supplier's figures for one day.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupplierDay {
    pub supplier_id: Uuid,
    pub day: NaiveDate,
    pub offers: i64,
    pub offers_in_stock: i64,
    pub price_changes: i64,
    pub imports: i64,
    pub imports_succeeded: i64,
    pub imports_failed: i64,
    pub import_duration_ms: i64,
}

/// A rollup: `kind` http (name: method and route; latency percentiles), queue (name: queue; `queue_length`),
/// cache (name: cache kind; `hits`, `misses`).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PerformanceRollup {
    pub kind: String,
    pub name: String,
    /// `hour` or `day`.
    pub period: String,
    pub period_start: DateTime<Utc>,
    pub samples: i64,
    pub errors: i64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// `queue`: jobs waiting when measured.
    pub queue_length: Option<i64>,
    /// `cache` (name: the cache kind): requests served from the cache, and loaded from the source.
    pub hits: Option<i64>,
    pub misses: Option<i64>,
}

/// What a rollup of one day wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RollupReport {
    pub day: Option<NaiveDate>,
    pub import_jobs: u64,
    pub suppliers: u64,
    pub products_exported: u64,
    pub performance_rows: u64,
}
