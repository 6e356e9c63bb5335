//! Amazon Creators API (PA-API 5's successor, for affiliates): `searchItems` with the code as `keywords`, one code
//! per call, items kept only when their external ids (EANs, UPCs, ISBNs) hold the code. Tokens: OAuth2 client
//! credentials, from Login with Amazon with a JSON body (credential versions 3.x, the default) or from the
//! region's Cognito endpoint with a form body (versions 2.x, told apart by an `amazoncognito.com` token endpoint);
//! cached until a minute before they expire.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

use super::marketplace::{Marketplace, Region};
use super::provider::{Code2AsinProvider, Lookup, LookupError, ProviderKind};
use super::sp_api::CatalogItem;

/// The production API.
pub const DEFAULT_ENDPOINT: &str = "https://creatorsapi.amazon";

/// The resources a lookup asks for: title, brand, external ids, main image, sales rank.
const RESOURCES: [&str; 5] = [
    "itemInfo.title",
    "itemInfo.byLineInfo",
    "itemInfo.externalIds",
    "images.primary.large",
    "browseNodeInfo.websiteSalesRank",
];

/// The Login with Amazon token endpoint of a region (credential versions 3.x).
pub fn lwa_token_endpoint(region: Region) -> &'static str {
    match region {
        Region::Na => "https://api.amazon.com/auth/o2/token",
        Region::Eu => "https://api.amazon.co.uk/auth/o2/token",
        Region::Fe => "https://api.amazon.co.jp/auth/o2/token",
    }
}

/// Credentials of an affiliate's Creators API application.
#[derive(Clone)]
pub struct CreatorsCredentials {
    pub client_id: String,
    pub client_secret: String,
    /// The store id of the marketplace (`partnerTag`).
    pub partner_tag: String,
}

impl std::fmt::Debug for CreatorsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatorsCredentials")
            .field("client_id", &self.client_id)
            .field("partner_tag", &self.partner_tag)
            .finish_non_exhaustive()
    }
}

/// A client of one affiliate's credentials.
#[derive(Debug)]
pub struct CreatorsClient {
    http: reqwest::Client,
    api: Url,
    token_endpoint: Url,
    /// `2.1`/`2.2`/`2.3` for Cognito credentials (sent with the token), `None` for LWA ones.
    cognito_version: Option<&'static str>,
    credentials: CreatorsCredentials,
    token: Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default = "an_hour")]
    expires_in: u64,
}

fn an_hour() -> u64 {
    3600
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchAnswer {
    search_result: Option<SearchResult>,
}

#[derive(Deserialize)]
struct SearchResult {
    #[serde(default)]
    items: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    asin: String,
    item_info: Option<ItemInfo>,
    images: Option<Images>,
    browse_node_info: Option<BrowseNodeInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemInfo {
    title: Option<Shown>,
    by_line_info: Option<ByLine>,
    external_ids: Option<ExternalIds>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shown {
    display_value: Option<String>,
}

#[derive(Deserialize)]
struct ByLine {
    brand: Option<Shown>,
}

#[derive(Deserialize)]
struct ExternalIds {
    eans: Option<Listed>,
    upcs: Option<Listed>,
    isbns: Option<Listed>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    #[serde(default)]
    display_values: Vec<String>,
}

#[derive(Deserialize)]
struct Images {
    primary: Option<Sizes>,
}

#[derive(Deserialize)]
struct Sizes {
    large: Option<Image>,
}

#[derive(Deserialize)]
struct Image {
    url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BrowseNodeInfo {
    website_sales_rank: Option<SalesRank>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SalesRank {
    sales_rank: Option<u32>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(rename = "__type")]
    qualified: Option<String>,
    message: Option<String>,
}

impl CreatorsClient {
    /// A client of `api` (the production one: [`DEFAULT_ENDPOINT`]) getting tokens from `token_endpoint`;
    /// `timeout` bounds each HTTP exchange.
    pub fn new(
        api: Url,
        token_endpoint: Url,
        region: Region,
        credentials: CreatorsCredentials,
        timeout: Duration,
        policy: &crate::net::OutboundPolicy,
    ) -> Result<Self, LookupError> {
        let http = super::provider::http_client(policy, timeout)?;
        let cognito_version = token_endpoint
            .host_str()
            .is_some_and(|h| h.ends_with("amazoncognito.com") || token_endpoint.path().starts_with("/oauth2/"))
            .then_some(match region {
                Region::Na => "2.1",
                Region::Eu => "2.2",
                Region::Fe => "2.3",
            });
        Ok(CreatorsClient { http, api, token_endpoint, cognito_version, credentials, token: Mutex::new(None) })
    }

    async fn access_token(&self) -> Result<String, LookupError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let c = &self.credentials;
        let request = match self.cognito_version {
            Some(_) => {
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", c.client_id.as_str()),
                    ("client_secret", c.client_secret.as_str()),
                    ("scope", "creatorsapi/default"),
                ];
                // Built apart: the serializer is not `Send` and must not live across the await.
                let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
                self.http
                    .post(self.token_endpoint.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body)
            }
            None => {
                let body = serde_json::json!({
                    "grant_type": "client_credentials",
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "scope": "creatorsapi::default",
                });
                self.http
                    .post(self.token_endpoint.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string())
            }
        };
        let unavailable = |e: reqwest::Error| LookupError::Unavailable { message: format!("token endpoint: {e}") };
        let response = request.send().await.map_err(|e| LookupError::unreachable("token endpoint", &e))?;
        let status = response.status();
        let body = response.text().await.map_err(unavailable)?;
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

    /// The items whose external ids hold `gtin14` in `marketplace` (up to 10 candidates).
    pub async fn search(&self, marketplace: &Marketplace, gtin14: &str) -> Result<Lookup, LookupError> {
        // The code as suppliers print it: 13 digits for an EAN-13/UPC-A, 14 for a true GTIN-14.
        let keywords = gtin14.strip_prefix('0').unwrap_or(gtin14);
        let url =
            self.api.join("catalog/v1/searchItems").map_err(|e| LookupError::Invalid { message: e.to_string() })?;
        let body = serde_json::json!({
            "keywords": keywords,
            "searchIndex": "All",
            "itemCount": 10,
            "partnerTag": self.credentials.partner_tag,
            "resources": RESOURCES,
        })
        .to_string();
        let mut retried_token = false;
        loop {
            let token = self.access_token().await?;
            let authorization = match self.cognito_version {
                Some(version) => format!("Bearer {token}, Version {version}"),
                None => format!("Bearer {token}"),
            };
            let response = self
                .http
                .post(url.clone())
                .header(reqwest::header::AUTHORIZATION, authorization)
                .header("x-marketplace", marketplace.domain)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(reqwest::header::ACCEPT, "application/json")
                .body(body.clone())
                .send()
                .await
                .map_err(|e| LookupError::unreachable("getItems", &e))?;
            let status = response.status();
            let text = response.text().await.map_err(|e| LookupError::Unavailable { message: e.to_string() })?;
            if status.is_success() {
                let answer: SearchAnswer = serde_json::from_str(&text)
                    .map_err(|e| LookupError::Unavailable { message: format!("unreadable answer: {e}") })?;
                let items = answer.search_result.map(|r| r.items).unwrap_or_default();
                let items = items
                    .into_iter()
                    .map(CatalogItem::from)
                    .filter(|i| i.gtin14s.iter().any(|g| g == gtin14))
                    .collect();
                return Ok(Lookup { items, raw: bytes::Bytes::from(text) });
            }
            let message = serde_json::from_str::<ErrorAnswer>(&text)
                .ok()
                .map(|e| {
                    let kind = e.kind.or(e.qualified).unwrap_or_default();
                    let kind = kind.rsplit('#').next().unwrap_or_default().to_string();
                    format!("{} {kind}: {}", status.as_u16(), e.message.unwrap_or_default())
                })
                .unwrap_or_else(|| status.to_string());
            match status.as_u16() {
                // No result is a 404, not an empty answer.
                404 => return Ok(Lookup { items: Vec::new(), raw: bytes::Bytes::from(text) }),
                429 => return Err(LookupError::Throttled { limit: None }),
                401 if !retried_token => {
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

impl From<Item> for CatalogItem {
    fn from(item: Item) -> Self {
        let info = item.item_info;
        let ids = info.as_ref().and_then(|i| i.external_ids.as_ref());
        let gtin14s = super::sp_api::gtin14s_of(
            ids.into_iter()
                .flat_map(|ids| [&ids.eans, &ids.upcs, &ids.isbns])
                .flatten()
                .flat_map(|listed| listed.display_values.iter())
                .map(String::as_str),
        );
        CatalogItem {
            asin: item.asin,
            gtin14s,
            brand: info
                .as_ref()
                .and_then(|i| i.by_line_info.as_ref())
                .and_then(|b| b.brand.as_ref())
                .and_then(|b| b.display_value.clone()),
            title: info.as_ref().and_then(|i| i.title.as_ref()).and_then(|t| t.display_value.clone()),
            sales_rank: item.browse_node_info.and_then(|b| b.website_sales_rank).and_then(|r| r.sales_rank),
            image_url: item.images.and_then(|i| i.primary).and_then(|p| p.large).and_then(|l| l.url),
        }
    }
}

#[async_trait]
impl Code2AsinProvider for CreatorsClient {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Creators
    }

    /// `searchItems` takes one search phrase: one code.
    fn codes_per_call(&self) -> usize {
        1
    }

    async fn lookup(&self, marketplace: &Marketplace, gtin14s: &[String]) -> Result<Lookup, LookupError> {
        match gtin14s {
            [gtin14] => self.search(marketplace, gtin14).await,
            _ => Err(LookupError::Invalid { message: format!("{} codes; a call takes one", gtin14s.len()) }),
        }
    }
}
