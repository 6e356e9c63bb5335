//! WooCommerce REST API v3: products through `POST /products/batch` (create and update, at most 100 items per
//! request), variations through `POST /products/{id}/variations/batch`; a create refused for a duplicate SKU
//! (the product is there already, made by hand or by a run whose answer was lost) is found with
//! `GET /products?sku=` and updated instead. Prices are strings, the GTIN is `global_unique_id`, images go by URL.
//! Categories go by WooCommerce's ids: a channel category that is a number is taken as one; a path
//! (`Garden > Tools`) is found level by level (`GET /products/categories?search=&parent=`) or created, once a run.
//! Basic authentication with the consumer key and secret, over HTTPS (plain HTTP only to a loopback address).

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Mutex;
use url::Url;

use super::{
    ExportPlatform, PlatformError, PlatformProduct, PlatformVariant, PushOutcome, http_client, refusal,
    secure_endpoint, send,
};
use crate::catalog::{Availability, ProductStatus};
use crate::exports::ExportError;
use crate::exports::feed::decimal;
use crate::net::OutboundPolicy;

/// WooCommerce's limit on the items (create + update + delete) of one batch request.
pub(crate) const BATCH_LIMIT: usize = 100;
const PLATFORM: &str = "WooCommerce";

pub(crate) struct WooCommerce {
    http: reqwest::Client,
    /// `…/wp-json/wc/v3/`, ending with a slash.
    base: Url,
    key: String,
    secret: String,
    /// Category ids by path (`Garden > Tools`), as found or made during this run.
    categories: Mutex<HashMap<String, u64>>,
}

impl WooCommerce {
    pub fn new(
        endpoint: &str,
        key: &str,
        secret: &str,
        timeout: Duration,
        policy: &OutboundPolicy,
    ) -> Result<Self, ExportError> {
        let mut base = secure_endpoint(
            endpoint,
            "WooCommerce takes the consumer key and secret over HTTPS only (plain HTTP would need OAuth 1.0a)",
            policy,
        )?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        if key.is_empty() || secret.is_empty() {
            return Err(ExportError::invalid("credentials", "WooCommerce needs the consumer key and secret"));
        }
        Ok(WooCommerce {
            http: http_client(timeout, policy)?,
            base,
            key: key.to_string(),
            secret: secret.to_string(),
            categories: Mutex::default(),
        })
    }

    fn url(&self, path: &str) -> Result<Url, PlatformError> {
        self.base.join(path).map_err(|e| PlatformError::Refused { platform: PLATFORM, reason: e.to_string() })
    }

    /// Sends one request; a non-2xx answer is an error naming WooCommerce's code and message.
    async fn call(&self, method: reqwest::Method, url: Url, body: Option<&Value>) -> Result<Value, PlatformError> {
        let (status, value) = self.call_raw(method, url.clone(), body).await?;
        if status.is_success() {
            return Ok(value);
        }
        let reason = format!("{} {} ({status}): {}", url.path(), error_code(&value), error_message(&value));
        Err(refusal(PLATFORM, status, reason))
    }

    /// Sends one request; the status and the JSON answered, whatever the status.
    async fn call_raw(
        &self,
        method: reqwest::Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<(reqwest::StatusCode, Value), PlatformError> {
        let mut request = self.http.request(method, url.clone()).basic_auth(&self.key, Some(&self.secret));
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body).unwrap_or_default());
        }
        let (status, bytes) = send(PLATFORM, request, url.path()).await?;
        Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
    }

    /// The id of the category a product goes in: a number as it is, a path found or created level by level;
    /// `None` for no category.
    async fn category_id(&self, category: &str) -> Result<Option<u64>, PlatformError> {
        let category = category.trim();
        if let Ok(id) = category.parse::<u64>() {
            return Ok(Some(id));
        }
        let names: Vec<&str> = category.split('>').map(str::trim).filter(|n| !n.is_empty()).collect();
        if names.is_empty() {
            return Ok(None);
        }
        let mut known = self.categories.lock().await;
        let mut parent = 0;
        let mut path = String::new();
        for name in names {
            path = if path.is_empty() { name.to_string() } else { format!("{path} > {name}") };
            if let Some(id) = known.get(&path) {
                parent = *id;
                continue;
            }
            let id = match self.find_category(name, parent).await? {
                Some(id) => id,
                None => self.create_category(name, parent).await?,
            };
            known.insert(path.clone(), id);
            parent = id;
        }
        Ok(Some(parent))
    }

    /// The category named `name` under `parent` (0: top level). WooCommerce answers names HTML-escaped
    /// (`Home &amp; Garden`).
    async fn find_category(&self, name: &str, parent: u64) -> Result<Option<u64>, PlatformError> {
        let mut url = self.url("products/categories")?;
        url.query_pairs_mut()
            .append_pair("search", name)
            .append_pair("parent", &parent.to_string())
            .append_pair("per_page", "100");
        let found = self.call(reqwest::Method::GET, url, None).await?;
        Ok(found.as_array().into_iter().flatten().find_map(|c| {
            let shown = c["name"].as_str()?;
            let same = unescape_html(shown).to_lowercase() == name.to_lowercase();
            (same && c["parent"].as_u64() == Some(parent)).then(|| c["id"].as_u64()).flatten()
        }))
    }

    /// Creates the category; when WooCommerce says it exists already (`term_exists`), the id it names.
    async fn create_category(&self, name: &str, parent: u64) -> Result<u64, PlatformError> {
        let url = self.url("products/categories")?;
        let body = json!({"name": name, "parent": parent});
        let (status, answer) = self.call_raw(reqwest::Method::POST, url.clone(), Some(&body)).await?;
        let id = if status.is_success() {
            answer["id"].as_u64()
        } else if answer["code"] == "term_exists" {
            answer["data"]["resource_id"].as_u64()
        } else {
            let reason = format!("category {name:?}: {} ({status}): {}", error_code(&answer), error_message(&answer));
            return Err(refusal(PLATFORM, status, reason));
        };
        id.ok_or_else(|| PlatformError::Refused { platform: PLATFORM, reason: format!("category {name:?}: no id") })
    }

    /// The id of the product (or, under `parent`, the variation) with this SKU.
    async fn find_by_sku(&self, sku: &str, parent: Option<&str>) -> Result<Option<String>, PlatformError> {
        let path = match parent {
            Some(parent) => format!("products/{parent}/variations"),
            None => "products".to_string(),
        };
        let mut url = self.url(&path)?;
        url.query_pairs_mut().append_pair("sku", sku);
        let found = self.call(reqwest::Method::GET, url, None).await?;
        Ok(found.as_array().and_then(|list| list.first()).and_then(|p| id_of(&p["id"])))
    }

    /// One batch request: `(remote id or None, body)` per item, answered in order with `Ok(id)` or the error.
    async fn batch(
        &self,
        path: &str,
        items: &[(Option<String>, Value)],
    ) -> Result<Vec<Result<String, String>>, PlatformError> {
        let mut create = Vec::new();
        let mut update = Vec::new();
        for (remote_id, body) in items {
            match remote_id {
                Some(id) => {
                    let mut body = body.clone();
                    body["id"] = id.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::from(id.clone()));
                    update.push(body);
                }
                None => create.push(body.clone()),
            }
        }
        let answer = self
            .call(reqwest::Method::POST, self.url(path)?, Some(&json!({"create": create, "update": update})))
            .await?;
        let mut created = answer["create"].as_array().cloned().unwrap_or_default().into_iter();
        let mut updated = answer["update"].as_array().cloned().unwrap_or_default().into_iter();
        let mut out = Vec::with_capacity(items.len());
        for (remote_id, _) in items {
            let answer = if remote_id.is_some() { updated.next() } else { created.next() };
            out.push(match answer {
                Some(item) if item.get("error").is_some_and(|e| !e.is_null()) => {
                    Err(format!("{}: {}", error_code(&item["error"]), error_message(&item["error"])))
                }
                Some(item) => id_of(&item["id"]).ok_or_else(|| "no id in the answer".to_string()),
                None => Err("no answer for this item".to_string()),
            });
        }
        Ok(out)
    }

    /// Products in batches of [`BATCH_LIMIT`]; a create refused for a duplicate SKU becomes an update of the
    /// product found with that SKU.
    async fn push_products(
        &self,
        products: &[(PlatformProduct, Option<u64>)],
    ) -> Result<Vec<Result<(String, bool), String>>, PlatformError> {
        let bodies: Vec<(Option<String>, Value)> =
            products.iter().map(|(p, category)| (p.remote_id.clone(), product_body(p, *category))).collect();
        let mut results: Vec<Result<(String, bool), String>> = Vec::with_capacity(products.len());
        for chunk in bodies.chunks(BATCH_LIMIT) {
            for (answer, (remote_id, _)) in self.batch("products/batch", chunk).await?.into_iter().zip(chunk) {
                results.push(answer.map(|id| (id, remote_id.is_none())));
            }
        }
        for (index, (product, category)) in products.iter().enumerate() {
            let duplicate = matches!(&results[index], Err(e) if e.starts_with("product_invalid_sku"));
            if duplicate && let Some(id) = self.find_by_sku(&product.key, None).await? {
                let again =
                    self.batch("products/batch", &[(Some(id.clone()), product_body(product, *category))]).await?;
                results[index] =
                    again.into_iter().next().unwrap_or_else(|| Err("no answer".into())).map(|id| (id, false));
            }
        }
        Ok(results)
    }

    /// The variations of a variable product.
    async fn push_variations(
        &self,
        parent: &str,
        variants: &[PlatformVariant],
    ) -> Result<Vec<Result<String, String>>, PlatformError> {
        let path = format!("products/{parent}/variations/batch");
        let bodies: Vec<(Option<String>, Value)> =
            variants.iter().map(|v| (v.remote_id.clone(), variation_body(v))).collect();
        let mut results = Vec::with_capacity(variants.len());
        for chunk in bodies.chunks(BATCH_LIMIT) {
            results.extend(self.batch(&path, chunk).await?);
        }
        for (index, variant) in variants.iter().enumerate() {
            let duplicate = matches!(&results[index], Err(e) if e.starts_with("product_invalid_sku"));
            if duplicate && let Some(id) = self.find_by_sku(&variant.key, Some(parent)).await? {
                let again = self.batch(&path, &[(Some(id), variation_body(variant))]).await?;
                results[index] = again.into_iter().next().unwrap_or_else(|| Err("no answer".into()));
            }
        }
        Ok(results)
    }
}

#[async_trait::async_trait]
impl ExportPlatform for WooCommerce {
    fn max_batch(&self) -> usize {
        BATCH_LIMIT
    }

    async fn push(&self, products: &[PlatformProduct]) -> Result<Vec<PushOutcome>, PlatformError> {
        // Variations a product no longer has here are deleted there first (WooCommerce keeps what a batch does
        // not name), so that their SKUs are free for what they became.
        for product in products {
            let Some(parent) = &product.remote_id else { continue };
            let removed: Vec<Value> = product
                .removed_variants
                .iter()
                .map(|(_, id)| id.parse::<u64>().map(Value::from).unwrap_or_else(|_| json!(id)))
                .collect();
            for chunk in removed.chunks(BATCH_LIMIT) {
                let url = self.url(&format!("products/{parent}/variations/batch"))?;
                self.call(reqwest::Method::POST, url, Some(&json!({"delete": chunk}))).await?;
            }
        }
        // Categories first: a product whose category WooCommerce refuses fails alone.
        let mut categories: HashMap<&str, Result<Option<u64>, String>> = HashMap::new();
        for product in products {
            if !categories.contains_key(product.category.as_str()) {
                let id = match self.category_id(&product.category).await {
                    Ok(id) => Ok(id),
                    Err(PlatformError::Refused { reason, .. }) => Err(reason),
                    Err(unavailable) => return Err(unavailable),
                };
                categories.insert(&product.category, id);
            }
        }
        let category_of = |product: &PlatformProduct| categories.get(product.category.as_str()).cloned();
        let sendable: Vec<(PlatformProduct, Option<u64>)> = products
            .iter()
            .filter_map(|p| match category_of(p) {
                Some(Ok(category)) => Some((p.clone(), category)),
                _ => None,
            })
            .collect();
        let mut results = self.push_products(&sendable).await?.into_iter();
        let mut outcomes = Vec::with_capacity(products.len());
        for product in products {
            let result = match category_of(product) {
                Some(Err(reason)) => Err(reason),
                _ => results.next().unwrap_or_else(|| Err("no answer".into())),
            };
            let (remote_id, created) = match result {
                Ok(done) => done,
                Err(error) => {
                    outcomes.push(PushOutcome::failed(product.remote_id.clone(), error));
                    continue;
                }
            };
            let mut outcome =
                PushOutcome { remote_id: Some(remote_id.clone()), created, variant_ids: Vec::new(), error: None };
            if !product.variants.is_empty() {
                let answers = self.push_variations(&remote_id, &product.variants).await?;
                let mut errors = Vec::new();
                for (variant, answer) in product.variants.iter().zip(answers) {
                    match answer {
                        Ok(id) => outcome.variant_ids.push((variant.product_id, id)),
                        Err(e) => errors.push(format!("variation {}: {e}", variant.key)),
                    }
                }
                if !errors.is_empty() {
                    outcome.error = Some(errors.join("; "));
                }
            }
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }
}

fn status_of(status: ProductStatus) -> &'static str {
    match status {
        ProductStatus::Active => "publish",
        ProductStatus::Draft => "draft",
        ProductStatus::Archived => "private",
    }
}

/// A product's body: everything we own of it is set (a field left out stays as it is in the shop).
fn product_body(product: &PlatformProduct, category: Option<u64>) -> Value {
    let variable = !product.variants.is_empty();
    let mut body = json!({
        "name": product.title,
        "type": if variable { "variable" } else { "simple" },
        "status": status_of(product.status),
        "sku": product.key,
        "global_unique_id": product.gtin.clone().unwrap_or_default(),
        "description": product.description.clone().unwrap_or_default(),
        "images": product.images.iter().map(|src| json!({"src": src})).collect::<Vec<_>>(),
    });
    if variable {
        body["manage_stock"] = json!(false);
        body["attributes"] = product
            .axes
            .iter()
            .map(|axis| json!({"name": axis.name, "visible": true, "variation": true, "options": axis.values}))
            .collect();
    } else {
        body["regular_price"] = json!(product.price.as_ref().map(decimal).unwrap_or_default());
        body["sale_price"] = json!(product.sale_price.as_ref().map(decimal).unwrap_or_default());
        stock_fields(&mut body, product.stock, product.sold_as);
    }
    // Without a category of ours, the shop's (set by hand, or `Uncategorized`) stays.
    if let Some(id) = category {
        body["categories"] = json!([{"id": id}]);
    }
    if let Some(brand) = &product.brand {
        body["meta_data"] = json!([{"key": "_brand", "value": brand}]);
    }
    body
}

fn variation_body(variant: &PlatformVariant) -> Value {
    let mut body = json!({
        "sku": variant.key,
        "global_unique_id": variant.gtin.clone().unwrap_or_default(),
        "status": if variant.status == ProductStatus::Active { "publish" } else { "private" },
        "regular_price": variant.price.as_ref().map(decimal).unwrap_or_default(),
        "sale_price": variant.sale_price.as_ref().map(decimal).unwrap_or_default(),
        "attributes": variant.options.iter().map(|(name, option)| json!({"name": name, "option": option})).collect::<Vec<_>>(),
    });
    stock_fields(&mut body, variant.stock, variant.sold_as);
    if let Some(image) = &variant.image {
        body["image"] = json!({"src": image});
    }
    body
}

/// WooCommerce's stock fields: a count it manages; a product in or out of stock without a count, by its status; one
/// sold when none are left, with backorders allowed (`notify`: the buyer is told).
fn stock_fields(body: &mut Value, stock: i64, sold_as: Option<Availability>) {
    let fields = match sold_as {
        Some(Availability::InStock) => json!({"manage_stock": false, "backorders": "no", "stock_status": "instock"}),
        Some(Availability::OutOfStock) => {
            json!({"manage_stock": false, "backorders": "no", "stock_status": "outofstock"})
        }
        Some(Availability::Backorder | Availability::Preorder) => json!({
            "manage_stock": true,
            "stock_quantity": stock,
            "backorders": "notify",
            "stock_status": if stock > 0 { "instock" } else { "onbackorder" },
        }),
        None => json!({
            "manage_stock": true,
            "stock_quantity": stock,
            "backorders": "no",
            "stock_status": if stock > 0 { "instock" } else { "outofstock" },
        }),
    };
    if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), fields) {
        body.extend(fields);
    }
}

fn id_of(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) if n.as_u64().is_some_and(|n| n > 0) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// A name as WordPress answers it (`&amp;`, `&#8217;`…) as typed.
fn unescape_html(text: &str) -> String {
    quick_xml::escape::unescape(text).map(|t| t.into_owned()).unwrap_or_else(|_| text.to_string())
}

fn error_code(value: &Value) -> &str {
    value["code"].as_str().unwrap_or("error")
}

fn error_message(value: &Value) -> &str {
    value["message"].as_str().unwrap_or("no message")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_carries_the_secret() {
        let timeout = Duration::from_secs(5);
        let local = OutboundPolicy::allowing_private();
        assert!(WooCommerce::new("https://shop.example/wp-json/wc/v3", "ck", "cs", timeout, &local).is_ok());
        assert!(WooCommerce::new("http://127.0.0.1:8080/wp-json/wc/v3/", "ck", "cs", timeout, &local).is_ok());
        let error = WooCommerce::new("http://shop.example/wp-json/wc/v3", "ck", "cs", timeout, &local).err().unwrap();
        assert!(error.to_string().contains("HTTPS"), "{error}");
        assert!(WooCommerce::new("https://shop.example/", "", "cs", timeout, &local).is_err());
        let client = WooCommerce::new("https://shop.example/wp-json/wc/v3", "ck", "cs", timeout, &local).unwrap();
        assert_eq!(client.url("products/batch").unwrap().as_str(), "https://shop.example/wp-json/wc/v3/products/batch");
    }

    #[test]
    fn category_names_are_read_as_typed() {
        assert_eq!(unescape_html("Home &amp; Garden"), "Home & Garden");
        assert_eq!(unescape_html("Kids&#8217; toys"), "Kids\u{2019} toys");
        assert_eq!(unescape_html("Tools"), "Tools");
    }
}
