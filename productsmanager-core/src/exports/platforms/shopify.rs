//! Shopify Admin GraphQL (API version 2025-01): products upserted with `productSet`, 25 to a document (aliased,
//! 250 points); a product not known to us yet is first looked up by its handle (made from its key, as in our
//! Shopify CSV), so a product made by hand or by a run whose answer was lost is updated rather than duplicated.
//! The list fields sent replace Shopify's (variants left out are deleted), so every variant and image is sent each
//! time. Calls wait for the points they need from the leaky bucket that every answer describes
//! (`extensions.cost.throttleStatus`), so a normal run is never answered `THROTTLED`; if it is anyway (another app
//! spent the points), the call waits for them and is sent again. Large pushes go as bulk operations instead
//! (`shopify_bulk.rs`): no points per product, Shopify works through a JSONL file at its own pace.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::{Mutex, OnceCell};
use url::Url;

use super::{ExportPlatform, PlatformError, PlatformProduct, PushOutcome, http_client, refusal, secure_endpoint, send};
use crate::catalog::{Availability, ProductStatus};
use crate::exports::ExportError;
use crate::exports::feed::decimal;
use crate::net::OutboundPolicy;

/// Products per document: 25 `productSet` mutations cost 250 points, an eighth of the Standard bucket.
pub(crate) const BATCH: usize = 25;
/// Products per bulk operation: one JSONL file of a few MB (Shopify takes up to 100 MB and 24 hours of work).
pub(crate) const BULK_BATCH: usize = 2_000;
/// Pushes of at least this many products go as a bulk operation unless the platform's settings say otherwise:
/// from here a bulk operation's fixed cost (upload, polling) is less than the points the documents would wait for.
pub(crate) const BULK_FROM: usize = 250;
/// What a mutation field costs.
pub(super) const MUTATION_COST: f64 = 10.0;
/// Shopify allows three options per product.
const MAX_OPTIONS: usize = 3;
/// Handles looked up per query (a point each; a query may cost 1,000).
const LOOKUP_BATCH: usize = 250;
/// `THROTTLED` answers in a row before the call gives up (only when another app keeps spending the points).
const MAX_THROTTLED: u32 = 20;
pub(super) const PLATFORM: &str = "Shopify";

/// The bucket as the last answer described it.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    available: f64,
    maximum: f64,
    restore_rate: f64,
    at: Instant,
}

impl Bucket {
    /// Seconds to wait until `cost` points are there.
    fn wait_for(&self, cost: f64) -> Duration {
        let now = (self.available + self.at.elapsed().as_secs_f64() * self.restore_rate).min(self.maximum);
        if now >= cost || self.restore_rate <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((cost - now) / self.restore_rate)
        }
    }
}

pub(crate) struct Shopify {
    pub(super) http: reqwest::Client,
    endpoint: Url,
    token: String,
    bucket: Mutex<Option<Bucket>>,
    location: OnceCell<String>,
    /// Pushes of at least this many products go as a bulk operation (0: never).
    bulk_from: usize,
    /// Checks the storage URLs Shopify hands out as it checked the shop's.
    pub(super) policy: OutboundPolicy,
}

impl Shopify {
    /// `endpoint`: `https://{shop}.myshopify.com/admin/api/2025-01/graphql.json`; pushes of `bulk_from` products
    /// or more go as bulk operations (0: never).
    pub fn new(
        endpoint: &str,
        token: &str,
        timeout: Duration,
        bulk_from: usize,
        policy: &OutboundPolicy,
    ) -> Result<Self, ExportError> {
        let endpoint = secure_endpoint(endpoint, "Shopify's Admin API is served over HTTPS", policy)?;
        if !endpoint.path().ends_with("/graphql.json") {
            return Err(ExportError::invalid(
                "endpoint",
                "the Admin GraphQL URL, e.g. https://shop.myshopify.com/admin/api/2025-01/graphql.json",
            ));
        }
        if token.is_empty() {
            return Err(ExportError::invalid("credentials", "Shopify needs the app's Admin API access token"));
        }
        Ok(Shopify {
            http: http_client(timeout, policy)?,
            endpoint,
            token: token.to_string(),
            bucket: Mutex::new(None),
            location: OnceCell::new(),
            bulk_from,
            policy: *policy,
        })
    }

    /// Sends a document costing about `cost` points once they are in the bucket; `data` of the answer.
    pub(super) async fn call(&self, query: &str, variables: &Value, cost: f64) -> Result<Value, PlatformError> {
        let body = serde_json::to_vec(&json!({"query": query, "variables": variables})).unwrap_or_default();
        let mut throttled = 0;
        loop {
            let wait = self.bucket.lock().await.map(|b| b.wait_for(cost)).unwrap_or_default();
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let request = self
                .http
                .post(self.endpoint.clone())
                .header("X-Shopify-Access-Token", &self.token)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
            let (status, bytes) = send(PLATFORM, request, self.endpoint.path()).await?;
            let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if !status.is_success() {
                return Err(refusal(PLATFORM, status, format!("HTTP {status}: {}", answer["errors"])));
            }
            let throttle = &answer["extensions"]["cost"]["throttleStatus"];
            if let (Some(available), Some(maximum), Some(restore_rate)) = (
                throttle["currentlyAvailable"].as_f64(),
                throttle["maximumAvailable"].as_f64(),
                throttle["restoreRate"].as_f64(),
            ) {
                *self.bucket.lock().await = Some(Bucket { available, maximum, restore_rate, at: Instant::now() });
            }
            let errors = answer["errors"].as_array().cloned().unwrap_or_default();
            if errors.iter().any(|e| e["extensions"]["code"] == "THROTTLED") {
                throttled += 1;
                if throttled > MAX_THROTTLED {
                    return Err(PlatformError::Unavailable { platform: PLATFORM, reason: "throttled".into() });
                }
                tracing::warn!(cost, "Shopify answered THROTTLED: waiting for the points");
                continue;
            }
            if !errors.is_empty() {
                let messages: Vec<String> =
                    errors.iter().map(|e| e["message"].as_str().unwrap_or("error").to_string()).collect();
                return Err(PlatformError::Refused { platform: PLATFORM, reason: messages.join("; ") });
            }
            return Ok(answer["data"].clone());
        }
    }

    /// The shop's first location (where stock is set).
    async fn location(&self) -> Result<String, PlatformError> {
        self.location
            .get_or_try_init(|| async {
                let data = self.call(LOCATION_DOCUMENT, &json!({}), 2.0).await?;
                data["locations"]["nodes"][0]["id"].as_str().map(str::to_string).ok_or_else(|| PlatformError::Refused {
                    platform: PLATFORM,
                    reason: "the shop has no location to keep stock at".into(),
                })
            })
            .await
            .cloned()
    }

    /// Fills in the remote ids of the products not known to us yet that the shop has under their handle (made
    /// by hand, or by a run whose answer was lost), a query of up to 250 handles (250 points) at a time.
    async fn find_by_handle(&self, products: &mut [PlatformProduct]) -> Result<(), PlatformError> {
        let unknown: Vec<usize> = (0..products.len()).filter(|i| products[*i].remote_id.is_none()).collect();
        for chunk in unknown.chunks(LOOKUP_BATCH) {
            let handles: Vec<String> = chunk.iter().map(|i| handle_of(&products[*i])).collect();
            for (index, id) in chunk.iter().zip(self.ids_by_handle(&handles).await?) {
                products[*index].remote_id = id;
            }
        }
        Ok(())
    }

    /// The ids of the products with these handles (`None` where there is none).
    async fn ids_by_handle(&self, handles: &[String]) -> Result<Vec<Option<String>>, PlatformError> {
        if handles.is_empty() {
            return Ok(Vec::new());
        }
        let query = by_handle_document(handles.len());
        let variables: serde_json::Map<String, Value> =
            handles.iter().enumerate().map(|(i, h)| (format!("h{i}"), json!(h))).collect();
        let data = self.call(&query, &Value::Object(variables), handles.len() as f64).await?;
        Ok((0..handles.len()).map(|i| data[format!("h{i}")]["id"].as_str().map(str::to_string)).collect())
    }
}

/// The shop's first location.
pub(crate) const LOCATION_DOCUMENT: &str = "query location { locations(first: 1) { nodes { id } } }";

/// The query of the products with `count` handles (`$h0`…).
pub(crate) fn by_handle_document(count: usize) -> String {
    let declarations: Vec<String> = (0..count).map(|i| format!("$h{i}: String!")).collect();
    let fields: Vec<String> = (0..count).map(|i| format!("h{i}: productByHandle(handle: $h{i}) {{ id }}")).collect();
    format!("query byHandle({}) {{ {} }}", declarations.join(", "), fields.join(" "))
}

/// The handle of a product: its key as a slug (as in our Shopify CSV).
pub(crate) fn handle_of(product: &PlatformProduct) -> String {
    let handle = slug::slugify(&product.key);
    if handle.is_empty() { product.product_id.to_string() } else { handle }
}

fn status_of(status: ProductStatus) -> &'static str {
    match status {
        ProductStatus::Active => "ACTIVE",
        ProductStatus::Draft => "DRAFT",
        ProductStatus::Archived => "ARCHIVED",
    }
}

/// `(price, compareAtPrice)`: Shopify sells at `price`; with a sale, the regular price is the one crossed out.
fn prices(price: &Option<crate::catalog::Money>, sale: &Option<crate::catalog::Money>) -> (Value, Value) {
    match (sale, price) {
        (Some(sale), Some(regular)) => (json!(decimal(sale)), json!(decimal(regular))),
        (_, Some(price)) => (json!(decimal(price)), Value::Null),
        _ => (Value::Null, Value::Null),
    }
}

/// The `ProductSetInput` of a product; `Err` when Shopify cannot take it.
pub(super) fn product_input(product: &PlatformProduct, location: &str) -> Result<Value, String> {
    let stock = |quantity: i64| json!([{"locationId": location, "name": "available", "quantity": quantity.max(0)}]);
    let mut input = json!({
        "title": product.title,
        "descriptionHtml": product.description.clone().unwrap_or_default(),
        "vendor": product.brand.clone().unwrap_or_default(),
        "handle": handle_of(product),
        "status": status_of(product.status),
        "files": product.images.iter().map(|url| json!({"originalSource": url, "contentType": "IMAGE"})).collect::<Vec<_>>(),
    });
    if let Some(id) = &product.remote_id {
        input["id"] = json!(id);
    }
    if product.variants.is_empty() {
        // A product without variants is its own one variant, `Title: Default Title`.
        let (price, compare_at) = prices(&product.price, &product.sale_price);
        if price.is_null() && product.status == ProductStatus::Active {
            // Never on sale at 0.00: a product without a price waits as a draft.
            input["status"] = json!("DRAFT");
        }
        input["productOptions"] = json!([{"name": "Title", "values": [{"name": "Default Title"}]}]);
        input["variants"] = json!([{
            "optionValues": [{"optionName": "Title", "name": "Default Title"}],
            "sku": product.key,
            "barcode": product.gtin,
            "price": price,
            "compareAtPrice": compare_at,
            "inventoryPolicy": inventory_policy(product.sold_as),
            "inventoryItem": {"tracked": tracked(product.sold_as)},
            "inventoryQuantities": stock(product.stock),
        }]);
        return Ok(input);
    }
    if product.axes.len() > MAX_OPTIONS {
        return Err(format!("{} options; Shopify allows {MAX_OPTIONS}", product.axes.len()));
    }
    input["productOptions"] = json!(
        product
            .axes
            .iter()
            .map(|axis| json!({
                "name": axis.name,
                "values": axis.values.iter().map(|v| json!({"name": v})).collect::<Vec<_>>(),
            }))
            .collect::<Vec<_>>()
    );
    let mut variants = Vec::with_capacity(product.variants.len());
    for variant in &product.variants {
        let (price, compare_at) = prices(&variant.price, &variant.sale_price);
        // Sent at 0.00 when it has no price: tracked, denied, with none in stock, so that nobody buys it.
        let sellable = variant.price.is_some() && variant.status == ProductStatus::Active;
        let sold_as = if sellable { variant.sold_as } else { None };
        let mut body = json!({
            "optionValues": product.axes.iter().map(|axis| json!({
                "optionName": axis.name,
                "name": variant.options.get(&axis.name).cloned().unwrap_or_default(),
            })).collect::<Vec<_>>(),
            "sku": variant.key,
            "barcode": variant.gtin,
            "price": if price.is_null() { json!("0.00") } else { price },
            "compareAtPrice": compare_at,
            "inventoryPolicy": inventory_policy(sold_as),
            "inventoryItem": {"tracked": tracked(sold_as)},
            // A variant without a price, or not active, cannot be bought: no stock is offered.
            "inventoryQuantities": stock(if sellable { variant.stock } else { 0 }),
        });
        if let Some(id) = &variant.remote_id {
            body["id"] = json!(id);
        }
        variants.push(body);
    }
    input["variants"] = json!(variants);
    Ok(input)
}

/// Shopify sells a variant whose inventory it does not track always: a product in stock without a count.
fn tracked(sold_as: Option<Availability>) -> bool {
    sold_as != Some(Availability::InStock)
}

/// `CONTINUE`: sold when none are left (on backorder, on preorder).
fn inventory_policy(sold_as: Option<Availability>) -> &'static str {
    if sold_as.is_some_and(Availability::sells_without_stock) { "CONTINUE" } else { "DENY" }
}

/// What a `productSet` answers with (in documents and in bulk operations alike).
const PRODUCT_SET_SELECTION: &str =
    "{ product { id handle variants(first: 250) { nodes { id sku } } } userErrors { field message code } }";

/// The mutation document of `count` aliased `productSet`s.
pub(crate) fn product_set_document(count: usize) -> String {
    let declarations: Vec<String> = (0..count).map(|i| format!("$p{i}: ProductSetInput!")).collect();
    let fields: Vec<String> = (0..count)
        .map(|i| format!("p{i}: productSet(input: $p{i}, synchronous: true) {PRODUCT_SET_SELECTION}"))
        .collect();
    format!("mutation push({}) {{ {} }}", declarations.join(", "), fields.join(" "))
}

/// The mutation a bulk operation runs once per line of its file (each line: `{"input": ProductSetInput}`).
pub(crate) fn bulk_product_set_document() -> String {
    format!(
        "mutation call($input: ProductSetInput!) {{ productSet(input: $input, synchronous: true) \
         {PRODUCT_SET_SELECTION} }}"
    )
}

/// What became of `product` from its `productSet` answer.
pub(super) fn outcome_of(product: &PlatformProduct, answer: &Value) -> PushOutcome {
    let errors = answer["userErrors"].as_array().cloned().unwrap_or_default();
    let remote_id = answer["product"]["id"].as_str().map(str::to_string);
    if !errors.is_empty() || remote_id.is_none() {
        let messages: Vec<String> =
            errors.iter().map(|e| format!("{} ({})", e["message"].as_str().unwrap_or("error"), e["field"])).collect();
        let reason = if messages.is_empty() { "no product in the answer".to_string() } else { messages.join("; ") };
        return PushOutcome::failed(product.remote_id.clone(), reason);
    }
    let nodes = answer["product"]["variants"]["nodes"].as_array().cloned().unwrap_or_default();
    let variant_ids = product
        .variants
        .iter()
        .filter_map(|v| {
            let node = nodes.iter().find(|n| n["sku"] == v.key.as_str())?;
            Some((v.product_id, node["id"].as_str()?.to_string()))
        })
        .collect();
    PushOutcome { remote_id, created: product.remote_id.is_none(), variant_ids, error: None }
}

impl Shopify {
    /// Up to [`BATCH`] products in one document.
    async fn push_document(
        &self,
        products: &[PlatformProduct],
        location: &str,
    ) -> Result<Vec<PushOutcome>, PlatformError> {
        let mut outcomes: Vec<Option<PushOutcome>> = vec![None; products.len()];
        let mut sent: Vec<usize> = Vec::new();
        let mut variables = serde_json::Map::new();
        for (index, product) in products.iter().enumerate() {
            match product_input(product, location) {
                Ok(input) => {
                    variables.insert(format!("p{}", sent.len()), input);
                    sent.push(index);
                }
                Err(reason) => outcomes[index] = Some(PushOutcome::failed(product.remote_id.clone(), reason)),
            }
        }
        if !sent.is_empty() {
            let document = product_set_document(sent.len());
            let data = self.call(&document, &Value::Object(variables), MUTATION_COST * sent.len() as f64).await?;
            for (n, index) in sent.iter().enumerate() {
                outcomes[*index] = Some(outcome_of(&products[*index], &data[format!("p{n}")]));
            }
        }
        Ok(outcomes.into_iter().map(|o| o.unwrap_or_else(|| PushOutcome::failed(None, "not sent"))).collect())
    }
}

#[async_trait::async_trait]
impl ExportPlatform for Shopify {
    fn max_batch(&self) -> usize {
        if self.bulk_from > 0 { BULK_BATCH.max(self.bulk_from) } else { BATCH }
    }

    async fn push(&self, products: &[PlatformProduct]) -> Result<Vec<PushOutcome>, PlatformError> {
        let location = self.location().await?;
        let mut products = products.to_vec();
        self.find_by_handle(&mut products).await?;
        if self.bulk_from > 0 && products.len() >= self.bulk_from {
            return self.push_bulk(&products, &location).await;
        }
        let mut outcomes = Vec::with_capacity(products.len());
        for chunk in products.chunks(BATCH) {
            outcomes.extend(self.push_document(chunk, &location).await?);
        }
        Ok(outcomes)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{PlatformAxis, PlatformVariant};
    use super::*;
    use crate::catalog::Money;

    #[test]
    fn buckets_say_how_long_to_wait() {
        let bucket = Bucket { available: 50.0, maximum: 2000.0, restore_rate: 100.0, at: Instant::now() };
        assert!(bucket.wait_for(40.0).is_zero());
        let wait = bucket.wait_for(250.0).as_secs_f64();
        assert!((1.9..=2.0).contains(&wait), "{wait}");
    }

    #[test]
    fn a_variant_that_cannot_be_bought_stays_tracked_and_denied() {
        let variant = |price: Option<Money>, status: ProductStatus| PlatformVariant {
            product_id: uuid::Uuid::nil(),
            remote_id: None,
            key: "K".into(),
            gtin: None,
            price,
            sale_price: None,
            stock: 3,
            sold_as: Some(Availability::Backorder),
            status,
            options: [("size".to_string(), "M".to_string())].into(),
            image: None,
        };
        let eur = Some(Money::new(1000, "EUR".parse().unwrap()));
        let product = PlatformProduct {
            product_id: uuid::Uuid::nil(),
            remote_id: None,
            key: "P".into(),
            title: "Pot".into(),
            description: None,
            status: ProductStatus::Active,
            gtin: None,
            brand: None,
            price: None,
            sale_price: None,
            stock: 0,
            sold_as: None,
            category: String::new(),
            images: Vec::new(),
            axes: vec![PlatformAxis { name: "size".into(), values: vec!["M".into()] }],
            variants: vec![
                variant(eur, ProductStatus::Active),
                variant(None, ProductStatus::Active),
                variant(eur, ProductStatus::Draft),
            ],
            removed_variants: Vec::new(),
        };
        let input = product_input(&product, "gid://shopify/Location/1").unwrap();
        let sent: Vec<(Value, Value, Value)> = input["variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["inventoryPolicy"].clone(),
                    v["inventoryItem"]["tracked"].clone(),
                    v["inventoryQuantities"][0]["quantity"].clone(),
                )
            })
            .collect();
        assert_eq!(
            sent,
            [
                (json!("CONTINUE"), json!(true), json!(3)),
                (json!("DENY"), json!(true), json!(0)),
                (json!("DENY"), json!(true), json!(0)),
            ]
        );
    }

    #[test]
    fn documents_alias_each_product() {
        let document = product_set_document(2);
        assert!(document.starts_with("mutation push($p0: ProductSetInput!, $p1: ProductSetInput!)"));
        assert!(document.contains("p1: productSet(input: $p1, synchronous: true)"));
        assert!(
            Shopify::new(
                "http://shop.example/admin/api/2025-01/graphql.json",
                "t",
                Duration::from_secs(1),
                0,
                &OutboundPolicy::allowing_private()
            )
            .is_err()
        );
        assert!(
            Shopify::new(
                "https://s.myshopify.com/admin/api/2025-01/graphql.json",
                "",
                Duration::from_secs(1),
                0,
                &OutboundPolicy::allowing_private()
            )
            .is_err()
        );
    }
}
