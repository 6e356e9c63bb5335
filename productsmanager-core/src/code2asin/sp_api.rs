//! Amazon SP-API Catalog Items 2022-04-01 `searchCatalogItems` by identifiers, with Login with Amazon access tokens
//! (refresh-token grant, cached until a minute before they expire, sent in `x-amz-access-token`; no SigV4 since
//! October 2023). One call: one marketplace, one identifier type, at most 20 identifiers.

use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

use super::provider::{Lookup, LookupError};

/// Identifiers per `searchCatalogItems` call.
pub const MAX_IDENTIFIERS: usize = 20;

/// Where the API and the token endpoint are (the fakes of the tests put both on 127.0.0.1).
#[derive(Debug, Clone)]
pub struct SpApiEndpoints {
    /// `https://sellingpartnerapi-eu.amazon.com` (or `-na`, `-fe`).
    pub api: Url,
    /// `https://api.amazon.com/auth/o2/token`.
    pub token: Url,
}

/// Login with Amazon credentials of a seller application. `Debug` shows the client id only.
#[derive(Clone)]
pub struct LwaCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
}

impl std::fmt::Debug for LwaCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LwaCredentials").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

/// The identifier type of a call (`identifiersType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierType {
    Ean,
    Upc,
    Gtin,
    Isbn,
}

impl IdentifierType {
    fn as_str(self) -> &'static str {
        match self {
            IdentifierType::Ean => "EAN",
            IdentifierType::Upc => "UPC",
            IdentifierType::Gtin => "GTIN",
            IdentifierType::Isbn => "ISBN",
        }
    }
}

/// One catalog item answered for a call.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogItem {
    pub asin: String,
    /// Its identifiers in the marketplace, as GTIN-14 (Amazon pads them per type; compared in this form).
    pub gtin14s: Vec<String>,
    pub brand: Option<String>,
    pub title: Option<String>,
    /// The best (lowest) sales rank shown.
    pub sales_rank: Option<u32>,
    /// The main image.
    pub image_url: Option<String>,
}

/// A client of one seller application's credentials.
#[derive(Debug)]
pub struct SpApiClient {
    http: reqwest::Client,
    endpoints: SpApiEndpoints,
    credentials: LwaCredentials,
    token: Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct SearchAnswer {
    #[serde(default)]
    items: Vec<ItemAnswer>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemAnswer {
    asin: String,
    #[serde(default)]
    identifiers: Vec<MarketplaceIdentifiers>,
    #[serde(default)]
    summaries: Vec<Summary>,
    #[serde(default)]
    sales_ranks: Vec<SalesRanks>,
    #[serde(default)]
    images: Vec<MarketplaceImages>,
}

#[derive(Deserialize)]
struct MarketplaceImages {
    #[serde(default)]
    images: Vec<Image>,
}

#[derive(Deserialize)]
struct Image {
    #[serde(default)]
    variant: String,
    link: String,
}

#[derive(Deserialize)]
struct MarketplaceIdentifiers {
    #[serde(default)]
    identifiers: Vec<Identifier>,
}

#[derive(Deserialize)]
struct Identifier {
    identifier: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    brand: Option<String>,
    item_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SalesRanks {
    #[serde(default)]
    classification_ranks: Vec<Rank>,
    #[serde(default)]
    display_group_ranks: Vec<Rank>,
}

#[derive(Deserialize)]
struct Rank {
    rank: u32,
}

#[derive(Deserialize)]
struct ErrorsAnswer {
    #[serde(default)]
    errors: Vec<ErrorAnswer>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl SpApiClient {
    /// A client; `timeout` bounds each HTTP exchange; hosts and redirects are checked by `policy` (the endpoints
    /// themselves by whoever made them: [`crate::net::OutboundPolicy::check_url`]).
    pub fn new(
        endpoints: SpApiEndpoints,
        credentials: LwaCredentials,
        timeout: Duration,
        policy: &crate::net::OutboundPolicy,
    ) -> Result<Self, LookupError> {
        let http = super::provider::http_client(policy, timeout)?;
        Ok(SpApiClient { http, endpoints, credentials, token: Mutex::new(None) })
    }

    /// The current access token, asked for again a minute before it expires.
    async fn access_token(&self) -> Result<String, LookupError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", self.credentials.refresh_token.as_str()),
            ("client_id", self.credentials.client_id.as_str()),
            ("client_secret", self.credentials.client_secret.as_str()),
        ];
        // Built apart: the serializer is not `Send` and must not live across the await.
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let response = self
            .http
            .post(self.endpoints.token.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| LookupError::unreachable("token endpoint", &e))?;
        let status = response.status();
        let body =
            response.text().await.map_err(|e| LookupError::Unavailable { message: format!("token endpoint: {e}") })?;
        if status.is_server_error() {
            return Err(LookupError::Unavailable { message: format!("token endpoint answered {status}") });
        }
        if !status.is_success() {
            return Err(LookupError::Unauthorized { message: format!("token endpoint answered {status}: {body}") });
        }
        let answer: TokenAnswer = serde_json::from_str(&body)
            .map_err(|e| LookupError::Unavailable { message: format!("token endpoint answered no token: {e}") })?;
        let until = Instant::now() + Duration::from_secs(answer.expires_in.saturating_sub(60));
        *cached = Some((answer.access_token.clone(), until));
        Ok(answer.access_token)
    }

    /// Catalog items of up to 20 identifiers of one type in one marketplace (`identifiers` as Amazon wants them
    /// for the type: 13 digits for EAN, 12 for UPC, 14 for GTIN).
    pub async fn search(
        &self,
        marketplace_id: &str,
        identifiers_type: IdentifierType,
        identifiers: &[String],
    ) -> Result<Lookup, LookupError> {
        if identifiers.is_empty() || identifiers.len() > MAX_IDENTIFIERS {
            return Err(LookupError::Invalid {
                message: format!("{} identifiers; a call takes 1 to {MAX_IDENTIFIERS}", identifiers.len()),
            });
        }
        let mut url = self
            .endpoints
            .api
            .join("catalog/2022-04-01/items")
            .map_err(|e| LookupError::Invalid { message: e.to_string() })?;
        url.query_pairs_mut()
            .append_pair("identifiers", &identifiers.join(","))
            .append_pair("identifiersType", identifiers_type.as_str())
            .append_pair("marketplaceIds", marketplace_id)
            .append_pair("includedData", "identifiers,summaries,salesRanks,images");
        let mut retried_token = false;
        loop {
            let token = self.access_token().await?;
            let response = self
                .http
                .get(url.clone())
                .header("x-amz-access-token", token)
                .send()
                .await
                .map_err(|e| LookupError::unreachable("catalog items", &e))?;
            let status = response.status();
            let limit = response
                .headers()
                .get("x-amzn-RateLimit-Limit")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<f64>().ok());
            let body = response.text().await.map_err(|e| LookupError::Unavailable { message: e.to_string() })?;
            if status.is_success() {
                let answer: SearchAnswer = serde_json::from_str(&body)
                    .map_err(|e| LookupError::Unavailable { message: format!("unreadable answer: {e}") })?;
                let items = answer.items.into_iter().map(CatalogItem::from).collect();
                return Ok(Lookup { items, raw: bytes::Bytes::from(body) });
            }
            let message = serde_json::from_str::<ErrorsAnswer>(&body)
                .ok()
                .and_then(|e| e.errors.into_iter().next())
                .map(|e| format!("{} {}: {}", status.as_u16(), e.code, e.message))
                .unwrap_or_else(|| format!("{status}"));
            match status.as_u16() {
                429 => return Err(LookupError::Throttled { limit }),
                // A token revoked or expired early: ask for a new one, once.
                401 | 403 if !retried_token => {
                    retried_token = true;
                    *self.token.lock().await = None;
                }
                401 | 403 => return Err(LookupError::Unauthorized { message }),
                500.. => return Err(LookupError::Unavailable { message }),
                _ => return Err(LookupError::Invalid { message }),
            }
        }
    }
}

/// Identifiers as Amazon answers them (padded per type: 12 digits for UPC, 13 for EAN, 14 for GTIN) as sorted,
/// distinct GTIN-14s; anything not made of at most 14 digits is left out.
pub(crate) fn gtin14s_of<'a>(identifiers: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut gtin14s: Vec<String> = identifiers
        .into_iter()
        .map(str::trim)
        .filter(|i| !i.is_empty() && i.len() <= 14 && i.chars().all(|c| c.is_ascii_digit()))
        .map(|i| format!("{i:0>14}"))
        .collect();
    gtin14s.sort();
    gtin14s.dedup();
    gtin14s
}

impl From<ItemAnswer> for CatalogItem {
    fn from(item: ItemAnswer) -> Self {
        let gtin14s =
            gtin14s_of(item.identifiers.iter().flat_map(|m| m.identifiers.iter()).map(|i| i.identifier.as_str()));
        let summary = item.summaries.into_iter().next();
        let sales_rank = item
            .sales_ranks
            .iter()
            .flat_map(|r| r.classification_ranks.iter().chain(r.display_group_ranks.iter()))
            .map(|r| r.rank)
            .min();
        let images = || item.images.iter().flat_map(|m| m.images.iter());
        let image_url = images().find(|i| i.variant == "MAIN").or_else(|| images().next()).map(|i| i.link.clone());
        CatalogItem {
            image_url,
            asin: item.asin,
            gtin14s,
            brand: summary.as_ref().and_then(|s| s.brand.clone()),
            title: summary.and_then(|s| s.item_name),
            sales_rank,
        }
    }
}
