//! Sales platforms the catalog is pushed to, behind [`ExportPlatform`]: what one product (with its variants) is
//! sent as, and what became of it.

mod prestashop;
mod shopify;
mod shopify_bulk;
mod woocommerce;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ExportError;
use super::feed::FeedItem;
use crate::catalog::{Availability, Money, ProductStatus, VariantAxis};
use crate::net::{HTTPS_ONLY, OutboundPolicy};

pub(crate) use prestashop::PrestaShop;
pub(crate) use shopify::{BULK_FROM as SHOPIFY_BULK_FROM, Shopify};
pub(crate) use woocommerce::WooCommerce;

/// Every GraphQL document our Shopify client sends (`productSet` documents of 3 products), for the tests that
/// check them against Shopify's published schema.
pub fn shopify_documents() -> Vec<String> {
    vec![
        shopify::product_set_document(3),
        shopify::bulk_product_set_document(),
        shopify::LOCATION_DOCUMENT.to_string(),
        shopify::by_handle_document(2),
        shopify_bulk::STAGED_UPLOADS_DOCUMENT.to_string(),
        shopify_bulk::RUN_DOCUMENT.to_string(),
        shopify_bulk::OPERATION_DOCUMENT.to_string(),
        shopify_bulk::CURRENT_DOCUMENT.to_string(),
    ]
}

/// A sales platform's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PlatformKind {
    /// WooCommerce REST API v3 (`https://shop.example/wp-json/wc/v3/`), a consumer key and secret.
    Woocommerce,
    /// Shopify Admin GraphQL (`https://shop.myshopify.com/admin/api/2025-01/graphql.json`), an access token.
    Shopify,
    /// PrestaShop webservice (`https://shop.example/api/`), the webservice key (as `key`).
    Prestashop,
}

impl PlatformKind {
    /// Name as stored (`export_platforms.platform`).
    pub fn as_str(self) -> &'static str {
        match self {
            PlatformKind::Woocommerce => "woocommerce",
            PlatformKind::Shopify => "shopify",
            PlatformKind::Prestashop => "prestashop",
        }
    }
}

impl fmt::Display for PlatformKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PlatformKind {
    type Err = ExportError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "woocommerce" => Ok(PlatformKind::Woocommerce),
            "shopify" => Ok(PlatformKind::Shopify),
            "prestashop" => Ok(PlatformKind::Prestashop),
            other => Err(ExportError::invalid(
                "platform",
                format!("{other:?} is not a platform this version pushes to (woocommerce, shopify, prestashop)"),
            )),
        }
    }
}

/// The credentials of a platform, sealed when stored and never answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlatformCredentials {
    /// WooCommerce: the consumer key (`ck_…`); PrestaShop: the webservice key.
    #[serde(default)]
    pub key: Option<String>,
    /// WooCommerce: the consumer secret (`cs_…`).
    #[serde(default)]
    pub secret: Option<String>,
    /// Shopify: the app's Admin API access token (`shpat_…`).
    #[serde(default)]
    pub access_token: Option<String>,
}

/// A product's stated availability when its stock does not say it: nothing counts the stock (in stock, out of stock
/// as stated), or it is sold while none are left (backorder, preorder). `None` for a product its count describes (or
/// that states nothing): a shop then counts its stock as sent.
fn sold_as(item: &FeedItem<'_>) -> Option<Availability> {
    let stated = item.product().availability?;
    if stated.sells_without_stock() {
        // Sold when none are left, whatever the count says now (the shop sells the last units between runs).
        return Some(stated);
    }
    let counted = if item.stock > 0 { Availability::InStock } else { Availability::OutOfStock };
    (!item.stock_counted || item.availability != counted).then_some(item.availability)
}

/// One product as sent to a platform: the product, and its variants when it has some. Remote ids are those the
/// platform gave on an earlier run (`None`: not there yet, as far as we know).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct PlatformProduct {
    pub product_id: Uuid,
    #[serde(skip)]
    pub remote_id: Option<String>,
    /// SKU, else GTIN, else id: what the platform finds it by.
    pub key: String,
    pub title: String,
    pub description: Option<String>,
    pub status: ProductStatus,
    pub gtin: Option<String>,
    pub brand: Option<String>,
    pub price: Option<Money>,
    pub sale_price: Option<Money>,
    pub stock: i64,
    /// What its source stated that `stock` alone does not say (see [`sold_as`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sold_as: Option<Availability>,
    /// The channel's category (mapped), empty when the product has none.
    pub category: String,
    pub images: Vec<String>,
    pub axes: Vec<PlatformAxis>,
    pub variants: Vec<PlatformVariant>,
    /// Remote ids of variants it had on the platform that it has no more (`(product id, remote id)`): removed
    /// there too.
    #[serde(skip)]
    pub removed_variants: Vec<(Uuid, String)>,
}

/// An option axis and its values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct PlatformAxis {
    pub name: String,
    pub values: Vec<String>,
}

impl From<&VariantAxis> for PlatformAxis {
    fn from(axis: &VariantAxis) -> Self {
        PlatformAxis { name: axis.name.clone(), values: axis.values.clone() }
    }
}

/// A variant as sent with its parent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct PlatformVariant {
    pub product_id: Uuid,
    #[serde(skip)]
    pub remote_id: Option<String>,
    pub key: String,
    pub gtin: Option<String>,
    pub price: Option<Money>,
    pub sale_price: Option<Money>,
    pub stock: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sold_as: Option<Availability>,
    pub status: ProductStatus,
    pub options: BTreeMap<String, String>,
    pub image: Option<String>,
}

impl PlatformProduct {
    /// The product of a feed item (a parent or a lone product); its variants are added after.
    pub fn of(item: &FeedItem<'_>) -> Self {
        let product = item.product();
        PlatformProduct {
            product_id: product.id,
            remote_id: None,
            key: item.key.clone(),
            title: item.title.clone(),
            description: item.description.clone(),
            status: product.status,
            gtin: product.gtin.as_ref().map(|g| g.to_string()),
            brand: item.brand.clone(),
            price: item.price,
            sale_price: item.sale_price,
            stock: item.stock,
            sold_as: sold_as(item),
            category: item.channel_category.clone(),
            images: item.record.image_urls.clone(),
            axes: item.record.variant_axes.iter().map(PlatformAxis::from).collect(),
            variants: Vec::new(),
            removed_variants: Vec::new(),
        }
    }

    /// A variant's item added to its parent.
    pub fn add_variant(&mut self, item: &FeedItem<'_>) {
        let product = item.product();
        self.variants.push(PlatformVariant {
            product_id: product.id,
            remote_id: None,
            key: item.key.clone(),
            gtin: product.gtin.as_ref().map(|g| g.to_string()),
            price: item.price,
            sale_price: item.sale_price,
            stock: item.stock,
            sold_as: sold_as(item),
            status: product.status,
            options: item.record.variant_of.as_ref().map(|v| v.options.clone()).unwrap_or_default(),
            image: item.record.image_urls.first().cloned(),
        });
    }

    /// SHA-256 of what is sent (remote ids left out): a delta export sends a product only when this changed.
    pub fn content_hash(&self) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        let document = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(&document).to_vec()
    }
}

/// What became of one product pushed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PushOutcome {
    /// The platform's id of the product (also after a failure of a variant: the product exists there).
    pub remote_id: Option<String>,
    /// Whether it was created (not updated).
    pub created: bool,
    /// Remote ids of the variants that went through.
    pub variant_ids: Vec<(Uuid, String)>,
    /// Why it (or one of its variants) failed; `None` when it all went through.
    pub error: Option<String>,
}

impl PushOutcome {
    pub fn failed(remote_id: Option<String>, error: impl Into<String>) -> Self {
        PushOutcome { remote_id, created: false, variant_ids: Vec::new(), error: Some(error.into()) }
    }
}

/// A failure of a whole call: the platform unreachable, down, or refusing our credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PlatformError {
    /// Worth another try later (network, 5xx, 429).
    #[error("{platform} unavailable: {reason}")]
    Unavailable { platform: &'static str, reason: String },
    /// Our credentials or settings are refused: retrying will not help.
    #[error("{platform} refused the request: {reason}")]
    Refused { platform: &'static str, reason: String },
}

/// A platform's endpoint: a URL over HTTPS to a host the outbound policy allows (plain HTTP only to this machine
/// when the private network is allowed: the local fakes), so credentials are never sent in the clear.
pub(crate) fn secure_endpoint(endpoint: &str, why: &str, policy: &OutboundPolicy) -> Result<url::Url, ExportError> {
    let url = url::Url::parse(endpoint)
        .map_err(|e| ExportError::invalid("endpoint", format!("{endpoint:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(ExportError::invalid("endpoint", why));
    }
    policy.check_url(&url, HTTPS_ONLY).map_err(|refused| {
        let on_this_machine = url.host().is_some_and(|host| crate::net::is_this_machine(&host));
        let reason = match url.scheme() {
            "http" if on_this_machine && !policy.allows_private() => {
                format!(
                    "{why}; a shop on this machine may be reached over plain HTTP with PM_ALLOW_PRIVATE_NETWORK=true"
                )
            }
            "http" => why.to_string(),
            _ => refused.0,
        };
        ExportError::invalid("endpoint", reason)
    })?;
    Ok(url)
}

/// The HTTP client of a platform: hosts and redirects checked by the outbound policy, `timeout` per exchange.
pub(crate) fn http_client(
    timeout: std::time::Duration,
    policy: &OutboundPolicy,
) -> Result<reqwest::Client, ExportError> {
    policy
        .http_client(HTTPS_ONLY, timeout)
        .build()
        .map_err(|e| ExportError::invalid("endpoint", format!("HTTP client: {e}")))
}

/// Sends `request` to `platform`: the status and body, or Unavailable when it cannot be reached.
pub(crate) async fn send(
    platform: &'static str,
    request: reqwest::RequestBuilder,
    path: &str,
) -> Result<(reqwest::StatusCode, bytes::Bytes), PlatformError> {
    let unreachable = |e: reqwest::Error| PlatformError::Unavailable { platform, reason: format!("{path}: {e}") };
    // Refused by the outbound policy: said as is, and not retried.
    let response = request.send().await.map_err(|e| match crate::net::refusal_in(&e) {
        Some(refused) => PlatformError::Refused { platform, reason: format!("{path}: {refused}") },
        None => unreachable(e),
    })?;
    let status = response.status();
    let body = response.bytes().await.map_err(unreachable)?;
    Ok((status, body))
}

/// A refused answer as an error: worth retrying later (5xx, 429) or not.
pub(crate) fn refusal(platform: &'static str, status: reqwest::StatusCode, reason: String) -> PlatformError {
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        PlatformError::Unavailable { platform, reason }
    } else {
        PlatformError::Refused { platform, reason }
    }
}

/// A platform products are pushed to.
#[async_trait::async_trait]
pub(crate) trait ExportPlatform: Send + Sync {
    /// Most products per [`ExportPlatform::push`].
    fn max_batch(&self) -> usize;

    /// Creates or updates these products (and their variants); one outcome per product, in order.
    async fn push(&self, products: &[PlatformProduct]) -> Result<Vec<PushOutcome>, PlatformError>;
}
