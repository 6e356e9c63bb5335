//! WooCommerce REST API v3 under `/wp-json/wc/v3`: products (`GET` with `sku`, `page`, `per_page` and the
//! `X-WP-Total`, `X-WP-TotalPages` and `Link` headers; `POST`; `GET/PUT/DELETE /products/{id}`),
//! `POST /products/batch` (create, update and delete together at most 100, else 413
//! `woocommerce_rest_request_entity_too_large`; per-item errors as `{"id": 0, "error": {…}}`), variations and their
//! batch. Basic authentication with the consumer key and secret (401 `woocommerce_rest_cannot_view` otherwise).
//! Prices must be strings (400 `rest_invalid_param`); a SKU or a `global_unique_id` already used is refused (400
//! `product_invalid_sku`, `product_invalid_global_unique_id`). Product categories: `GET /products/categories`
//! (`search`, `parent`, paged; names answered HTML-escaped, as WordPress stores them) and `POST` (a name taken under
//! the same parent: 400 `term_exists` naming the existing one in `data.resource_id`); a product's `categories`
//! given by id, unknown ids dropped (as WordPress does). Every request is recorded; faults can be injected for
//! the next requests or for the next writes of one SKU.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};

/// WooCommerce's default limit on the items of one batch request (`woocommerce_rest_batch_items_limit`).
pub const BATCH_LIMIT: usize = 100;

/// A failure the next request(s) meet instead of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 500 `internal_server_error` for the whole request.
    ServerError,
    /// 503 from the web server in front (maintenance, overload).
    Unavailable,
}

/// A request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, e.g. `/wp-json/wc/v3/products/batch`.
    pub uri: String,
    pub body: Value,
    pub status: u16,
}

#[derive(Debug, Default)]
struct Store {
    next_id: u64,
    /// `(field, value)` → the product holding that SKU or GTIN (kept with the products: the uniqueness checks
    /// must not slow down with the shop's size).
    unique: HashMap<(&'static str, String), u64>,
    /// Products by id (variations too, with `parent_id`).
    products: BTreeMap<u64, Value>,
    next_category: u64,
    /// Product categories by id, as answered.
    categories: BTreeMap<u64, Value>,
}

#[derive(Debug)]
struct Inner {
    key: String,
    secret: String,
    store: Mutex<Store>,
    requests: Mutex<Vec<Recorded>>,
    faults: Mutex<VecDeque<Fault>>,
    /// SKU → how many more writes of it fail (a per-item error in a batch).
    failing_skus: Mutex<HashMap<String, usize>>,
}

/// The running fake.
#[derive(Debug, Clone)]
pub struct FakeWooCommerce {
    /// `http://127.0.0.1:<port>/wp-json/wc/v3`.
    pub base_url: String,
    inner: Arc<Inner>,
}

const PREFIX: &str = "/wp-json/wc/v3";

impl FakeWooCommerce {
    /// Starts an empty shop on a free port of 127.0.0.1 accepting this consumer key and secret.
    pub async fn start(key: &str, secret: &str) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            key: key.to_string(),
            secret: secret.to_string(),
            store: Mutex::new(Store { next_id: 100, next_category: 10, ..Default::default() }),
            requests: Mutex::default(),
            faults: Mutex::default(),
            failing_skus: Mutex::default(),
        });
        let app = Router::new()
            .route(&format!("{PREFIX}/products"), get(list_products).post(create_product))
            .route(&format!("{PREFIX}/products/batch"), post(batch_products))
            .route(&format!("{PREFIX}/products/categories"), get(list_categories).post(create_category))
            .route(&format!("{PREFIX}/products/{{id}}"), get(get_product).put(update_product).delete(delete_product))
            .route(&format!("{PREFIX}/products/{{id}}/variations"), get(list_variations))
            .route(&format!("{PREFIX}/products/{{id}}/variations/batch"), post(batch_variations))
            .with_state(inner.clone());
        let address = crate::serve(app).await?;
        Ok(FakeWooCommerce { base_url: format!("http://{address}{PREFIX}"), inner })
    }

    /// The next requests meet these faults, one each, in order.
    pub fn inject(&self, faults: &[Fault]) {
        if let Ok(mut queue) = self.inner.faults.lock() {
            queue.extend(faults.iter().copied());
        }
    }

    /// The next `times` writes of the product or variation with this SKU fail (500 `woocommerce_rest_cannot_create`
    /// as the item's error in a batch).
    pub fn fail_sku(&self, sku: &str, times: usize) {
        if let Ok(mut failing) = self.inner.failing_skus.lock() {
            failing.insert(sku.to_string(), times);
        }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Every product and variation in the shop, by id.
    pub fn products(&self) -> BTreeMap<u64, Value> {
        self.inner.store.lock().map(|s| s.products.clone()).unwrap_or_default()
    }

    /// The product or variation with this SKU.
    pub fn by_sku(&self, sku: &str) -> Option<Value> {
        self.products().into_values().find(|p| p["sku"] == sku)
    }

    /// Every product category, as answered (names HTML-escaped).
    pub fn categories(&self) -> Vec<Value> {
        self.inner.store.lock().map(|s| s.categories.values().cloned().collect()).unwrap_or_default()
    }

    /// Adds a category as if made in the shop's back office; its id.
    pub fn add_category(&self, name: &str, parent: u64) -> u64 {
        self.inner.store.lock().ok().and_then(|mut s| s.create_category(name, parent).ok()?["id"].as_u64()).unwrap_or(0)
    }
}

/// A name as WordPress stores and answers it.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({"code": code, "message": message, "data": {"status": status.as_u16()}}))).into_response()
}

/// Checks the credentials and takes the next fault; `Err` is the answer to give instead.
fn admit(inner: &Inner, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let expected = format!("{}:{}", inner.key, inner.secret);
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok());
    if given.as_deref() != Some(expected.as_bytes()) {
        return Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_cannot_view",
            "Sorry, you cannot list resources.",
        )));
    }
    match inner.faults.lock().ok().and_then(|mut f| f.pop_front()) {
        Some(Fault::ServerError) => Err(Box::new(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_server_error",
            "There has been a critical error.",
        ))),
        Some(Fault::Unavailable) => {
            Err(Box::new((StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response()))
        }
        None => Ok(()),
    }
}

/// Records the request with the status of `response`.
fn record(inner: &Inner, method: &Method, uri: &Uri, body: Value, response: Response) -> Response {
    if let Ok(mut requests) = inner.requests.lock() {
        requests.push(Recorded {
            method: method.to_string(),
            uri: uri.to_string(),
            body,
            status: response.status().as_u16(),
        });
    }
    response
}

fn parse_body(bytes: &[u8]) -> Result<Value, Box<Response>> {
    if bytes.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(bytes)
        .map_err(|_| Box::new(error(StatusCode::BAD_REQUEST, "rest_invalid_json", "Invalid JSON body passed.")))
}

/// Why an item is refused, as WooCommerce says it: `(status, code, message)`.
type Refusal = (u16, &'static str, String);

/// Validates a product or variation body against the documented types: prices and weight are strings, the stock an
/// integer, `type` and `status` from their lists.
fn check_types(body: &Value) -> Result<(), Refusal> {
    for field in ["regular_price", "sale_price", "weight"] {
        if body.get(field).is_some_and(|v| !v.is_string()) {
            return Err((
                400,
                "rest_invalid_param",
                format!("Invalid parameter(s): {field} ({field} is not of type string.)"),
            ));
        }
    }
    if body.get("stock_quantity").is_some_and(|v| !(v.is_i64() || v.is_null())) {
        return Err((400, "rest_invalid_param", "Invalid parameter(s): stock_quantity".into()));
    }
    if let Some(kind) = body.get("type").and_then(Value::as_str)
        && !["simple", "grouped", "external", "variable"].contains(&kind)
    {
        return Err((400, "rest_invalid_param", "Invalid parameter(s): type".into()));
    }
    if let Some(status) = body.get("status").and_then(Value::as_str)
        && !["draft", "pending", "private", "publish"].contains(&status)
    {
        return Err((400, "rest_invalid_param", "Invalid parameter(s): status".into()));
    }
    for (field, allowed) in
        [("stock_status", &["instock", "outofstock", "onbackorder"]), ("backorders", &["no", "notify", "yes"])]
    {
        if body.get(field).is_some_and(|v| !v.as_str().is_some_and(|v| allowed.contains(&v))) {
            return Err((400, "rest_invalid_param", format!("Invalid parameter(s): {field}")));
        }
    }
    Ok(())
}

impl Store {
    /// Refuses a SKU or GTIN another product or variation has.
    fn check_unique(&self, body: &Value, own_id: Option<u64>) -> Result<(), Refusal> {
        for (field, code, message) in [
            ("sku", "product_invalid_sku", "Invalid or duplicated SKU."),
            ("global_unique_id", "product_invalid_global_unique_id", "Invalid or duplicated GTIN, UPC, EAN or ISBN."),
        ] {
            let Some(value) = body.get(field).and_then(Value::as_str).filter(|v| !v.is_empty()) else { continue };
            if self.unique.get(&(field, value.to_string())).is_some_and(|id| Some(*id) != own_id) {
                return Err((400, code, message.to_string()));
            }
        }
        Ok(())
    }

    /// Removes (`add` false) or records the SKU and GTIN of product `id` in the uniqueness index.
    fn index(&mut self, id: u64, add: bool) {
        for field in ["sku", "global_unique_id"] {
            let Some(value) = self.products.get(&id).and_then(|p| p[field].as_str()).filter(|v| !v.is_empty()) else {
                continue;
            };
            let key = (field, value.to_string());
            if add {
                self.unique.insert(key, id);
            } else if self.unique.get(&key) == Some(&id) {
                self.unique.remove(&key);
            }
        }
    }

    /// Removes a product and its index entries.
    fn remove(&mut self, id: u64) -> Option<Value> {
        self.index(id, false);
        self.products.remove(&id)
    }

    /// A category named `name` (as typed) under `parent` (0: top level); `Err(Ok(id))` when that name is taken
    /// there by category `id`.
    fn create_category(&mut self, name: &str, parent: u64) -> Result<Value, Result<u64, Refusal>> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Err((400, "rest_missing_callback_param", "Missing parameter(s): name".into())));
        }
        if parent != 0 && !self.categories.contains_key(&parent) {
            return Err(Err((400, "woocommerce_rest_term_invalid", "Parent resource does not exist.".into())));
        }
        let shown = escape_html(name);
        let taken = self.categories.values().find(|c| {
            c["parent"] == parent && c["name"].as_str().is_some_and(|n| n.to_lowercase() == shown.to_lowercase())
        });
        if let Some(taken) = taken {
            return Err(Ok(taken["id"].as_u64().unwrap_or(0)));
        }
        self.next_category += 1;
        let id = self.next_category;
        let slug: String = name.to_lowercase().chars().map(|c| if c.is_alphanumeric() { c } else { '-' }).collect();
        let category = json!({
            "id": id, "name": shown, "slug": slug, "parent": parent, "description": "", "display": "default",
            "image": null, "menu_order": 0, "count": 0,
        });
        self.categories.insert(id, category.clone());
        Ok(category)
    }

    /// Creates a product (or, with `parent`, a variation) from `body`.
    fn create(&mut self, body: &Value, parent: Option<u64>) -> Result<Value, Refusal> {
        check_types(body)?;
        self.check_unique(body, None)?;
        if parent.is_none() && body.get("name").and_then(Value::as_str).is_none_or(str::is_empty) {
            // WooCommerce names an unnamed product "Product"; we refuse it to catch a client that forgets it.
            return Err((400, "rest_missing_callback_param", "Missing parameter(s): name".into()));
        }
        self.next_id += 1;
        let id = self.next_id;
        let mut product = json!({
            "id": id, "name": "", "slug": "", "type": "simple", "status": "publish", "sku": "",
            "global_unique_id": "", "description": "", "short_description": "", "price": "", "regular_price": "",
            "sale_price": "", "manage_stock": false, "stock_quantity": null, "stock_status": "instock",
            "backorders": "no",
            "categories": [], "images": [], "attributes": [], "variations": [], "meta_data": [],
            "date_created": "2026-01-01T00:00:00", "date_modified": "2026-01-01T00:00:00",
        });
        if let Some(parent) = parent {
            product["parent_id"] = json!(parent);
            product["type"] = json!("variation");
        }
        merge(&mut product, body, &self.categories);
        if let Some(parent) = parent.and_then(|p| self.products.get_mut(&p))
            && let Some(variations) = parent["variations"].as_array_mut()
        {
            variations.push(json!(id));
        }
        self.products.insert(id, product.clone());
        self.index(id, true);
        Ok(product)
    }

    fn update(&mut self, id: u64, body: &Value, parent: Option<u64>) -> Result<Value, Refusal> {
        let exists = self.products.get(&id).is_some_and(|p| parent.is_none_or(|parent| p["parent_id"] == parent));
        if !exists {
            return Err((404, "woocommerce_rest_product_invalid_id", "Invalid ID.".into()));
        }
        check_types(body)?;
        self.check_unique(body, Some(id))?;
        self.index(id, false);
        let product =
            self.products.get_mut(&id).ok_or((404, "woocommerce_rest_product_invalid_id", "Invalid ID.".into()))?;
        merge(product, body, &self.categories);
        let product = product.clone();
        self.index(id, true);
        Ok(product)
    }
}

/// Sets the fields of `body` on `product` (lists replaced whole, as WooCommerce does), and the derived fields.
fn merge(product: &mut Value, body: &Value, categories: &BTreeMap<u64, Value>) {
    let Some(fields) = body.as_object() else { return };
    for (name, value) in fields {
        if name == "id" {
            continue;
        }
        let value = match name.as_str() {
            // Images get the shop's ids; categories, its names.
            "images" => json!(
                value
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                    .map(|(i, image)| json!({"id": 1000 + i, "src": image["src"], "name": "", "alt": ""}))
                    .collect::<Vec<_>>()
            ),
            "image" => json!({"id": 1000, "src": value["src"], "name": "", "alt": ""}),
            // Categories by id, shown with their names; ids the shop does not have are dropped.
            "categories" => json!(
                value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| categories.get(&c["id"].as_u64()?))
                    .map(|c| json!({"id": c["id"], "name": c["name"], "slug": c["slug"]}))
                    .collect::<Vec<_>>()
            ),
            _ => value.clone(),
        };
        product[name] = value;
    }
    let sale = product["sale_price"].as_str().unwrap_or("").to_string();
    let regular = product["regular_price"].as_str().unwrap_or("").to_string();
    product["price"] = json!(if sale.is_empty() { regular } else { sale });
    // A stock WooCommerce manages sets the status (`validate_props`): in stock with units, else on backorder when
    // backorders are allowed, else out of stock. An unmanaged stock keeps the status given.
    if product["manage_stock"] == json!(true) {
        let units = product["stock_quantity"].as_i64().unwrap_or(0);
        let status = match (units > 0, product["backorders"].as_str()) {
            (true, _) => "instock",
            (false, Some("notify" | "yes")) => "onbackorder",
            (false, _) => "outofstock",
        };
        product["stock_status"] = json!(status);
    }
    if let Some(name) = product["name"].as_str() {
        let slug: String = name.to_lowercase().chars().map(|c| if c.is_alphanumeric() { c } else { '-' }).collect();
        product["slug"] = json!(slug);
    }
}

impl Inner {
    /// Takes one planned failure of this SKU's write.
    fn failing(&self, body: &Value) -> Option<Refusal> {
        let sku = body.get("sku").and_then(Value::as_str)?;
        let mut failing = self.failing_skus.lock().ok()?;
        let left = failing.get_mut(sku)?;
        if *left == 0 {
            return None;
        }
        *left -= 1;
        Some((500, "woocommerce_rest_cannot_create", "The product cannot be saved.".into()))
    }
}

fn item_error((status, code, message): Refusal) -> Value {
    json!({"id": 0, "error": {"code": code, "message": message, "data": {"status": status}}})
}

fn refusal_response((status, code, message): Refusal) -> Response {
    error(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), code, &message)
}

#[derive(Debug, serde::Deserialize)]
struct ListQuery {
    sku: Option<String>,
    page: Option<usize>,
    per_page: Option<usize>,
}

/// A page of `all` with WooCommerce's pagination headers.
fn paged(all: Vec<Value>, page: Option<usize>, per_page: Option<usize>, uri: &Uri) -> Response {
    let per_page = per_page.unwrap_or(10);
    if !(1..=100).contains(&per_page) {
        return error(StatusCode::BAD_REQUEST, "rest_invalid_param", "Invalid parameter(s): per_page");
    }
    let page = page.unwrap_or(1).max(1);
    let total = all.len();
    let pages = total.div_ceil(per_page);
    let items: Vec<Value> = all.into_iter().skip((page - 1) * per_page).take(per_page).collect();
    let mut response = axum::Json(items).into_response();
    let headers = response.headers_mut();
    headers.insert("X-WP-Total", HeaderValue::from(total));
    headers.insert("X-WP-TotalPages", HeaderValue::from(pages));
    let base = uri.path();
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("<{base}?page={}&per_page={per_page}>; rel=\"prev\"", page - 1));
    }
    if page < pages {
        links.push(format!("<{base}?page={}&per_page={per_page}>; rel=\"next\"", page + 1));
    }
    if let Ok(value) = HeaderValue::from_str(&links.join(", "))
        && !links.is_empty()
    {
        headers.insert("Link", value);
    }
    response
}

#[derive(Debug, serde::Deserialize)]
struct CategoryQuery {
    search: Option<String>,
    parent: Option<u64>,
    page: Option<usize>,
    per_page: Option<usize>,
}

async fn list_categories(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<CategoryQuery>,
) -> Response {
    let answer = match admit(&inner, &headers) {
        Err(refused) => *refused,
        Ok(()) => {
            let mut all: Vec<Value> = inner
                .store
                .lock()
                .map(|s| {
                    s.categories
                        .values()
                        .filter(|c| query.parent.is_none_or(|p| c["parent"] == p))
                        .filter(|c| {
                            // WordPress searches names and slugs, as stored (escaped), case-insensitively.
                            query.search.as_deref().is_none_or(|wanted| {
                                let wanted = escape_html(wanted).to_lowercase();
                                c["name"].as_str().is_some_and(|n| n.to_lowercase().contains(&wanted))
                                    || c["slug"].as_str().is_some_and(|n| n.contains(&wanted))
                            })
                        })
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            // Ordered by name, WooCommerce's default.
            all.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
            paged(all, query.page, query.per_page, &uri)
        }
    };
    record(&inner, &Method::GET, &uri, Value::Null, answer)
}

async fn create_category(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    body: axum::body::Bytes,
) -> Response {
    let (body, answer) = match admit(&inner, &headers).and_then(|()| parse_body(&body)) {
        Err(refused) => (Value::Null, *refused),
        Ok(body) => {
            let name = body["name"].as_str().unwrap_or_default();
            let parent = body["parent"].as_u64().unwrap_or(0);
            let created = match inner.store.lock() {
                Ok(mut store) => store.create_category(name, parent),
                Err(_) => Err(Err((500, "internal_server_error", "lock".into()))),
            };
            let answer = match created {
                Ok(category) => (StatusCode::CREATED, axum::Json(category)).into_response(),
                Err(Ok(id)) => {
                    // WordPress names the term that exists.
                    let message = "A term with the name provided already exists with this parent.";
                    let body =
                        json!({"code": "term_exists", "message": message, "data": {"status": 400, "resource_id": id}});
                    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
                }
                Err(Err(refusal)) => refusal_response(refusal),
            };
            (body, answer)
        }
    };
    record(&inner, &Method::POST, &uri, body, answer)
}

async fn list_products(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<ListQuery>,
) -> Response {
    let answer = match admit(&inner, &headers) {
        Err(refused) => *refused,
        Ok(()) => {
            let all: Vec<Value> = inner
                .store
                .lock()
                .map(|s| s.products.values().filter(|p| p["type"] != "variation").cloned().collect())
                .unwrap_or_default();
            let all = match &query.sku {
                // WooCommerce takes several SKUs separated by commas.
                Some(skus) => {
                    let wanted: Vec<&str> = skus.split(',').map(str::trim).collect();
                    all.into_iter().filter(|p| p["sku"].as_str().is_some_and(|s| wanted.contains(&s))).collect()
                }
                None => all,
            };
            paged(all, query.page, query.per_page, &uri)
        }
    };
    record(&inner, &Method::GET, &uri, Value::Null, answer)
}

async fn list_variations(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    Path(parent): Path<u64>,
    Query(query): Query<ListQuery>,
) -> Response {
    let answer = match admit(&inner, &headers) {
        Err(refused) => *refused,
        Ok(()) => {
            let all: Vec<Value> = inner
                .store
                .lock()
                .map(|s| {
                    s.products
                        .values()
                        .filter(|p| p["parent_id"] == parent)
                        .filter(|p| query.sku.as_deref().is_none_or(|sku| p["sku"] == sku))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            paged(all, query.page, query.per_page, &uri)
        }
    };
    record(&inner, &Method::GET, &uri, Value::Null, answer)
}

async fn get_product(State(inner): State<Arc<Inner>>, headers: HeaderMap, uri: Uri, Path(id): Path<u64>) -> Response {
    let answer = match admit(&inner, &headers) {
        Err(refused) => *refused,
        Ok(()) => match inner.store.lock().ok().and_then(|s| s.products.get(&id).cloned()) {
            Some(product) => axum::Json(product).into_response(),
            None => error(StatusCode::NOT_FOUND, "woocommerce_rest_product_invalid_id", "Invalid ID."),
        },
    };
    record(&inner, &Method::GET, &uri, Value::Null, answer)
}

async fn create_product(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    body: axum::body::Bytes,
) -> Response {
    let (body, answer) = match admit(&inner, &headers).and_then(|()| parse_body(&body)) {
        Err(refused) => (Value::Null, *refused),
        Ok(body) => {
            let created = match inner.failing(&body) {
                Some(refusal) => Err(refusal),
                None => match inner.store.lock() {
                    Ok(mut store) => store.create(&body, None),
                    Err(_) => Err((500, "internal_server_error", "lock".into())),
                },
            };
            let answer = match created {
                Ok(product) => (StatusCode::CREATED, axum::Json(product)).into_response(),
                Err(refusal) => refusal_response(refusal),
            };
            (body, answer)
        }
    };
    record(&inner, &Method::POST, &uri, body, answer)
}

async fn update_product(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<u64>,
    body: axum::body::Bytes,
) -> Response {
    let (body, answer) = match admit(&inner, &headers).and_then(|()| parse_body(&body)) {
        Err(refused) => (Value::Null, *refused),
        Ok(body) => {
            let updated = match inner.store.lock() {
                Ok(mut store) => store.update(id, &body, None),
                Err(_) => Err((500, "internal_server_error", "lock".into())),
            };
            let answer = match updated {
                Ok(product) => axum::Json(product).into_response(),
                Err(refusal) => refusal_response(refusal),
            };
            (body, answer)
        }
    };
    record(&inner, &Method::PUT, &uri, body, answer)
}

#[derive(Debug, serde::Deserialize)]
struct DeleteQuery {
    force: Option<bool>,
}

async fn delete_product(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<u64>,
    Query(query): Query<DeleteQuery>,
) -> Response {
    let answer = match admit(&inner, &headers) {
        Err(refused) => *refused,
        Ok(()) => {
            let mut store = match inner.store.lock() {
                Ok(store) => store,
                Err(_) => return error(StatusCode::INTERNAL_SERVER_ERROR, "internal_server_error", "lock"),
            };
            match (store.products.get(&id).cloned(), query.force.unwrap_or(false)) {
                (None, _) => error(StatusCode::NOT_FOUND, "woocommerce_rest_product_invalid_id", "Invalid ID."),
                (Some(product), true) => {
                    store.remove(id);
                    axum::Json(product).into_response()
                }
                // Without `force`, WooCommerce moves it to the trash.
                (Some(_), false) => {
                    let product = store.products.get_mut(&id).map(|p| {
                        p["status"] = json!("trash");
                        p.clone()
                    });
                    axum::Json(product).into_response()
                }
            }
        }
    };
    record(&inner, &Method::DELETE, &uri, Value::Null, answer)
}

/// One batch: create, update and delete, at most [`BATCH_LIMIT`] together.
fn batch(inner: &Inner, body: &Value, parent: Option<u64>) -> Response {
    let list = |name: &str| body.get(name).and_then(Value::as_array).cloned().unwrap_or_default();
    let (create, update, delete) = (list("create"), list("update"), list("delete"));
    if create.len() + update.len() + delete.len() > BATCH_LIMIT {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "woocommerce_rest_request_entity_too_large",
            &format!("Unable to accept more than {BATCH_LIMIT} items for this request."),
        );
    }
    if let Some(parent) = parent {
        let known = inner.store.lock().is_ok_and(|s| s.products.get(&parent).is_some_and(|p| p["type"] == "variable"));
        if !known {
            return error(StatusCode::NOT_FOUND, "woocommerce_rest_product_invalid_id", "Invalid ID.");
        }
    }
    let mut created = Vec::new();
    for item in &create {
        let answer = match inner.failing(item) {
            Some(refusal) => Err(refusal),
            None => match inner.store.lock() {
                Ok(mut store) => store.create(item, parent),
                Err(_) => Err((500, "internal_server_error", "lock".into())),
            },
        };
        created.push(answer.unwrap_or_else(item_error));
    }
    let mut updated = Vec::new();
    for item in &update {
        let Some(id) = item.get("id").and_then(Value::as_u64) else {
            updated.push(item_error((400, "woocommerce_rest_product_invalid_id", "Invalid ID.".into())));
            continue;
        };
        let answer = match inner.failing(item) {
            Some(refusal) => Err(refusal),
            None => match inner.store.lock() {
                Ok(mut store) => store.update(id, item, parent),
                Err(_) => Err((500, "internal_server_error", "lock".into())),
            },
        };
        updated.push(answer.unwrap_or_else(item_error));
    }
    let mut deleted = Vec::new();
    for id in delete.iter().filter_map(Value::as_u64) {
        let removed = inner.store.lock().ok().and_then(|mut s| {
            let removed = s.remove(id)?;
            if let Some(variations) =
                parent.and_then(|p| s.products.get_mut(&p)).and_then(|p| p["variations"].as_array_mut())
            {
                variations.retain(|v| *v != id);
            }
            Some(removed)
        });
        deleted.push(
            removed.unwrap_or_else(|| item_error((404, "woocommerce_rest_product_invalid_id", "Invalid ID.".into()))),
        );
    }
    axum::Json(json!({"create": created, "update": updated, "delete": deleted})).into_response()
}

async fn batch_products(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    body: axum::body::Bytes,
) -> Response {
    let (body, answer) = match admit(&inner, &headers).and_then(|()| parse_body(&body)) {
        Err(refused) => (Value::Null, *refused),
        Ok(body) => {
            let answer = batch(&inner, &body, None);
            (body, answer)
        }
    };
    record(&inner, &Method::POST, &uri, body, answer)
}

async fn batch_variations(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    Path(parent): Path<u64>,
    body: axum::body::Bytes,
) -> Response {
    let (body, answer) = match admit(&inner, &headers).and_then(|()| parse_body(&body)) {
        Err(refused) => (Value::Null, *refused),
        Ok(body) => {
            let answer = batch(&inner, &body, Some(parent));
            (body, answer)
        }
    };
    record(&inner, &Method::POST, &uri, body, answer)
}
