//! Code2ASIN types: Amazon API configurations, jobs, per-code items, results and statistics.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::provider::{LookupError, ProviderKind};
use crate::jobs::JobState;

/// Why a Code2ASIN request was refused.
#[derive(Debug, thiserror::Error)]
pub enum Code2AsinError {
    /// A value breaks a rule (unknown marketplace, no codes, a threshold out of 0..1…). HTTP 422.
    #[error("`{field}`: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// No such job, result or configuration. HTTP 404.
    #[error("{what} {key} not found")]
    NotFound { what: &'static str, key: String },
    /// The request does not fit the current state (a finished job paused, a result reviewed twice…). HTTP 409.
    #[error("{reason}")]
    Conflict { reason: String },
    /// Amazon answered with an error that retrying will not mend (credentials, a malformed request).
    #[error(transparent)]
    Amazon(#[from] LookupError),
}

impl Code2AsinError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Code2AsinError::Invalid { field, reason: reason.into() }
    }

    pub(crate) fn not_found(what: &'static str, key: impl ToString) -> Self {
        Code2AsinError::NotFound { what, key: key.to_string() }
    }

    pub(crate) fn conflict(reason: impl Into<String>) -> Self {
        Code2AsinError::Conflict { reason: reason.into() }
    }
}

/// Credentials and settings of one Amazon API account for one marketplace (`amazon_api_configs`, core database).
/// The secrets are sealed under the master key and never returned.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AmazonApiConfig {
    pub id: Uuid,
    pub name: String,
    pub provider: ProviderKind,
    /// Country code (`FR`).
    pub marketplace: String,
    /// SP-API marketplace id (`A13V1IB3VIYZZH`).
    pub marketplace_id: String,
    /// The API's base URL (the region's host when not set).
    pub endpoint: Option<String>,
    /// The token endpoint (Login with Amazon when not set).
    pub token_endpoint: Option<String>,
    pub client_id: String,
    /// Creators API: the store id (`partnerTag`).
    pub partner_tag: Option<String>,
    /// Calls per second (the API's documented rate when not set).
    pub rate_limit_per_second: Option<f64>,
    pub rate_limit_burst: Option<i32>,
    pub is_active: bool,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What creates an [`AmazonApiConfig`].
#[derive(Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewAmazonApiConfig {
    pub name: String,
    /// `sp_api` (default) or `creators`.
    #[serde(default)]
    pub provider: Option<ProviderKind>,
    pub marketplace: String,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub token_endpoint: Option<String>,
    pub client_id: String,
    pub client_secret: String,
    /// SP-API: the seller authorisation's refresh token.
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub partner_tag: Option<String>,
    #[serde(default)]
    pub rate_limit_per_second: Option<f64>,
    #[serde(default)]
    pub rate_limit_burst: Option<i32>,
    #[serde(skip)]
    pub created_by: Option<Uuid>,
}

impl std::fmt::Debug for NewAmazonApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAmazonApiConfig")
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("marketplace", &self.marketplace)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The secret part of a configuration, sealed in `credentials_encrypted`.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Secrets {
    pub client_secret: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// Where a job's codes come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "source")]
pub enum CodeSource {
    /// These codes, in this order.
    Codes { codes: Vec<String> },
    /// A CSV or text file: the column named `gtin`, `ean`, `upc`, `isbn`, `code` or `barcode` (else the first).
    File { name: String, content: String },
    /// The catalog products offered by this supplier that have a GTIN and no ASIN.
    Supplier { supplier_id: Uuid },
    /// Every catalog product with a GTIN and no ASIN.
    CatalogMissingAsin,
}

impl CodeSource {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            CodeSource::Codes { .. } => "codes",
            CodeSource::File { .. } => "file",
            CodeSource::Supplier { .. } => "supplier",
            CodeSource::CatalogMissingAsin => "catalog_missing_asin",
        }
    }
}

/// What creates a Code2ASIN job.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewCode2AsinJob {
    #[serde(flatten)]
    pub source: CodeSource,
    /// Country code (`FR`) or SP-API marketplace id.
    pub marketplace: String,
    /// The configuration to use; by default the active one of the marketplace (SP-API first).
    #[serde(default)]
    pub amazon_config_id: Option<Uuid>,
    /// Matches at or above it are written to the catalog product; below it they wait for review. Default 0.85.
    #[serde(default)]
    pub confidence_threshold: Option<f64>,
    #[serde(skip)]
    pub requested_by: Option<Uuid>,
}

/// Counts of a job's codes so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Code2AsinCounts {
    /// Codes in the job (known once it started).
    pub total: Option<i64>,
    pub processed: i64,
    /// Best match at or above the threshold.
    pub matched: i64,
    /// Found, but waiting for review (below the threshold, or the product has another ASIN).
    pub review: i64,
    pub not_found: i64,
    /// Valid codes never sent to Amazon (in-store, coupon ranges).
    pub restricted: i64,
    pub invalid: i64,
    /// Codes answered from a result younger than the cache TTL (no call).
    pub cached: i64,
    pub api_calls: i64,
    /// 429 answers met (each retried).
    pub rate_limited: i64,
}

/// A Code2ASIN job.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Code2AsinJob {
    pub id: Uuid,
    pub state: JobState,
    /// `codes`, `file`, `supplier` or `catalog_missing_asin`.
    pub source: String,
    pub marketplace: String,
    pub provider: Option<ProviderKind>,
    pub amazon_config_id: Option<Uuid>,
    pub supplier_id: Option<Uuid>,
    pub confidence_threshold: f64,
    pub counts: Code2AsinCounts,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub requested_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// What became of one code of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CodeOutcome {
    Matched,
    Review,
    NotFound,
    Restricted,
    Invalid,
}

impl CodeOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeOutcome::Matched => "matched",
            CodeOutcome::Review => "review",
            CodeOutcome::NotFound => "not_found",
            CodeOutcome::Restricted => "restricted",
            CodeOutcome::Invalid => "invalid",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "matched" => CodeOutcome::Matched,
            "review" => CodeOutcome::Review,
            "not_found" => CodeOutcome::NotFound,
            "restricted" => CodeOutcome::Restricted,
            "invalid" => CodeOutcome::Invalid,
            _ => return None,
        })
    }
}

/// One input code of a job, in input order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobItem {
    /// From 0, in input order.
    pub position: i64,
    pub code: String,
    pub gtin14: Option<String>,
    pub outcome: CodeOutcome,
    /// Answered from the cache (no call).
    pub cached: bool,
    /// The best ASIN found.
    pub asin: Option<String>,
    pub confidence: Option<f64>,
    pub reason: Option<String>,
}

/// A line of a job's log.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Code2AsinLog {
    /// `info`, `warn` or `error`.
    pub level: String,
    /// The code concerned, if any.
    pub code: Option<String>,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

/// Review of a match (`code2asin_results.review_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Below the threshold: waiting for a person.
    Pending,
    Accepted,
    Rejected,
    /// At or above the threshold: written to the catalog without review.
    AutoAccepted,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Pending => "pending",
            ReviewState::Accepted => "accepted",
            ReviewState::Rejected => "rejected",
            ReviewState::AutoAccepted => "auto_accepted",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => ReviewState::Pending,
            "accepted" => ReviewState::Accepted,
            "rejected" => ReviewState::Rejected,
            "auto_accepted" => ReviewState::AutoAccepted,
            _ => return None,
        })
    }
}

/// One ASIN found for a code in a marketplace (or, with `asin` empty, the record that none was). Results are the
/// lookup cache: younger than the TTL, a code costs no call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Code2AsinResult {
    pub id: Uuid,
    pub job_id: Option<Uuid>,
    pub code: String,
    pub gtin14: String,
    pub marketplace: String,
    pub provider: ProviderKind,
    pub asin: Option<String>,
    pub title: Option<String>,
    pub brand: Option<String>,
    pub sales_rank: Option<i64>,
    pub image_url: Option<String>,
    /// 0 to 1: how surely this ASIN is the product of the code.
    pub confidence: Option<f64>,
    /// The best of the code's ASINs.
    pub is_best: bool,
    pub review_state: Option<ReviewState>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTime<Utc>>,
    /// The catalog product with this GTIN when the result was made.
    pub product_id: Option<Uuid>,
    pub fetched_at: DateTime<Utc>,
    /// Object-store key of Amazon's response the result was read from (`code2asin-cache/YYYY/MM/DD/…`).
    pub raw_response_key: Option<String>,
}

/// Figures of one job, or of one day and marketplace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Code2AsinStatistics {
    pub day: Option<chrono::NaiveDate>,
    pub marketplace: String,
    pub api_calls: i64,
    /// Codes sent to Amazon.
    pub codes_looked_up: i64,
    /// Codes with at least one ASIN (looked up or cached).
    pub hits: i64,
    pub misses: i64,
    pub cache_hits: i64,
    pub restricted: i64,
    pub rate_limited: i64,
    pub errors: i64,
    /// Failed calls by kind (`throttled`, `unavailable`…).
    pub errors_by_kind: std::collections::BTreeMap<String, i64>,
    pub duration_ms: i64,
    /// Codes per second over the duration.
    pub codes_per_second: f64,
    /// Hits over codes answered.
    pub hit_rate: f64,
}

/// How a supplier's codes are looked up in one marketplace (`code2asin_suppliers`): the defaults of its jobs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupplierSettings {
    pub supplier_id: Uuid,
    pub marketplace: String,
    pub provider: Option<ProviderKind>,
    /// The configuration its jobs use (else the marketplace's active one).
    pub amazon_config_id: Option<Uuid>,
    /// False: no Code2ASIN job of this supplier in this marketplace.
    pub is_active: bool,
    /// Its jobs' threshold (else 0.85).
    pub confidence_threshold: Option<f64>,
    pub updated_at: DateTime<Utc>,
}

/// What sets a supplier's settings for one marketplace.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSupplierSettings {
    #[serde(default)]
    pub amazon_config_id: Option<Uuid>,
    #[serde(default)]
    pub confidence_threshold: Option<f64>,
    /// True unless said otherwise.
    #[serde(default)]
    pub is_active: Option<bool>,
}
