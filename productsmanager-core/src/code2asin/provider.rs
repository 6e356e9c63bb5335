//! [`Code2AsinProvider`]: an Amazon API that finds catalog items by product code. The service batches codes, keeps
//! to the rate limit and retries; a provider makes exactly one call per [`Code2AsinProvider::lookup`].

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::marketplace::Marketplace;
use super::sp_api::{CatalogItem, IdentifierType, SpApiClient};

/// Which API a configuration uses (`amazon_api_configs.provider`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Selling Partner API, Catalog Items 2022-04-01 `searchCatalogItems` (20 codes per call, 2 calls/s).
    SpApi,
    /// Creators API (PA-API's successor, for affiliates).
    Creators,
}

/// Counts one call to Amazon in `code2asin_calls_total` by provider and outcome (`ok`, `throttled` — a 429 —,
/// `unauthorized`, `invalid`, `unavailable`).
pub(crate) fn count_call(kind: ProviderKind, outcome: &Result<Lookup, LookupError>) {
    let outcome = match outcome {
        Ok(_) => "ok",
        Err(error) => error.kind(),
    };
    metrics::counter!("code2asin_calls_total", "provider" => kind.as_str(), "outcome" => outcome).increment(1);
}

impl ProviderKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::SpApi => "sp_api",
            ProviderKind::Creators => "creators",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "sp_api" => Some(ProviderKind::SpApi),
            "creators" => Some(ProviderKind::Creators),
            _ => None,
        }
    }
}

/// Why a call did not answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LookupError {
    /// 429 (`QuotaExceeded`, `TooManyRequests`): try again later (`x-amzn-RateLimit-Limit` says the rate, when
    /// sent).
    #[error("Amazon rate limit reached (limit {limit:?}/s)")]
    Throttled { limit: Option<f64> },
    /// The credentials or the token were refused.
    #[error("Amazon refused the credentials: {message}")]
    Unauthorized { message: String },
    /// The request was refused as malformed: a bug on our side, not worth a retry.
    #[error("Amazon refused the request: {message}")]
    Invalid { message: String },
    /// 5xx, a timeout or no connection: worth a retry.
    #[error("Amazon unavailable: {message}")]
    Unavailable { message: String },
}

impl LookupError {
    /// The kind, as counted in statistics (`throttled`, `unauthorized`, `invalid`, `unavailable`).
    pub fn kind(&self) -> &'static str {
        match self {
            LookupError::Throttled { .. } => "throttled",
            LookupError::Unauthorized { .. } => "unauthorized",
            LookupError::Invalid { .. } => "invalid",
            LookupError::Unavailable { .. } => "unavailable",
        }
    }

    /// Whether the same call may succeed later.
    pub fn is_transient(&self) -> bool {
        matches!(self, LookupError::Throttled { .. } | LookupError::Unavailable { .. })
    }
}

/// One call's answer: the items, and the response body as received (kept as the results' raw response).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lookup {
    pub items: Vec<CatalogItem>,
    /// The JSON body Amazon answered (empty when there was none, e.g. a 404 meaning no result).
    pub raw: bytes::Bytes,
}

/// An Amazon API that finds catalog items by GTIN. One [`lookup`](Code2AsinProvider::lookup) is one call to the
/// API: the caller keeps to the rate limit and retries.
#[async_trait]
pub trait Code2AsinProvider: Send + Sync + std::fmt::Debug {
    /// Which API this is.
    fn kind(&self) -> ProviderKind;

    /// How many codes one call takes.
    fn codes_per_call(&self) -> usize;

    /// Codes that may share a call have the same batch class (SP-API: one `identifiersType` per call).
    fn batch_class(&self, gtin14: &str) -> u8 {
        let _ = gtin14;
        0
    }

    /// The catalog items found for these GTIN-14s (at most [`codes_per_call`](Code2AsinProvider::codes_per_call),
    /// all of one batch class) in `marketplace`. Items are returned with their identifiers; the caller matches
    /// them to the codes.
    async fn lookup(&self, marketplace: &Marketplace, gtin14s: &[String]) -> Result<Lookup, LookupError>;
}

#[async_trait]
impl Code2AsinProvider for SpApiClient {
    fn kind(&self) -> ProviderKind {
        ProviderKind::SpApi
    }

    fn codes_per_call(&self) -> usize {
        super::sp_api::MAX_IDENTIFIERS
    }

    /// EAN-13, UPC-A and EAN-8 (a GTIN-14 starting with 0) go as `EAN` in 13 digits, true GTIN-14s as `GTIN`.
    fn batch_class(&self, gtin14: &str) -> u8 {
        u8::from(!gtin14.starts_with('0'))
    }

    async fn lookup(&self, marketplace: &Marketplace, gtin14s: &[String]) -> Result<Lookup, LookupError> {
        let as_gtin = gtin14s.first().is_some_and(|g| self.batch_class(g) == 1);
        if as_gtin {
            return self.search(marketplace.id, IdentifierType::Gtin, gtin14s).await;
        }
        let eans: Vec<String> = gtin14s.iter().map(|g| g.get(1..).unwrap_or(g).to_string()).collect();
        self.search(marketplace.id, IdentifierType::Ean, &eans).await
    }
}

/// The HTTP client of an Amazon API: over HTTPS, hosts and redirects checked by `policy`, `timeout` per exchange.
pub(crate) fn http_client(
    policy: &crate::net::OutboundPolicy,
    timeout: std::time::Duration,
) -> Result<reqwest::Client, LookupError> {
    policy
        .http_client(crate::net::HTTPS_ONLY, timeout)
        .build()
        .map_err(|e| LookupError::Invalid { message: format!("HTTP client: {e}") })
}

impl LookupError {
    /// A call that could not be made: refused by the outbound policy (not worth retrying, said as is), else
    /// unavailable, `what` naming the call.
    pub(crate) fn unreachable(what: &str, error: &reqwest::Error) -> Self {
        match crate::net::refusal_in(error) {
            Some(refused) => LookupError::Invalid { message: format!("{what}: {refused}") },
            None => LookupError::Unavailable { message: format!("{what}: {error}") },
        }
    }
}
