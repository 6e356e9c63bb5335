//! Shopify Admin GraphQL (`POST /admin/api/2025-01/graphql.json`, token in `X-Shopify-Access-Token`): the
//! documents are parsed as GraphQL, their cost computed (a mutation field 10 points, an object 1, a connection its
//! `first` times its node's cost) and taken from a leaky bucket (Standard plan: 2,000 points, 100 restored per
//! second; the caller can choose others). Every answer carries `extensions.cost` with the `throttleStatus`; a
//! document that costs more than the bucket holds is answered `THROTTLED` (HTTP 200), one over 1,000 points
//! `MAX_COST_EXCEEDED`. Fields served: `productSet(input, synchronous)` (create, or update by `input.id`; list
//! fields given replace the stored ones — variants left out are deleted, a variant without `id` is matched by its
//! option values; a taken handle on create gets `-1`, `-2`…), `productByHandle`, `locations`, `shop`, and the bulk
//! mutation path (`bulk.rs`: staged upload, `bulkOperationRunMutation`, `currentBulkOperation`, `node`, result
//! files). Answers hold only the fields selected, under their aliases (inline fragments included).

mod bulk;

pub use bulk::{BulkFault, MAX_UPLOAD_BYTES};

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use graphql_parser::query::{Definition, Field, OperationDefinition, Selection, SelectionSet, Value as GqlValue};
use serde_json::{Map, Value, json};

/// The API version served.
pub const API_VERSION: &str = "2025-01";
/// The one location of the fake shop.
pub const LOCATION_ID: &str = "gid://shopify/Location/1";
/// The shop's number (in staged upload keys).
const SHOP_NUMBER: u64 = 21_759_409;

/// A plan's bucket: its size and how many points come back each second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub maximum: f64,
    pub restore_rate: f64,
}

impl Plan {
    /// Standard Shopify: 2,000 points, 100 per second.
    pub const STANDARD: Plan = Plan { maximum: 2000.0, restore_rate: 100.0 };
}

/// A failure the next request(s) meet instead of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 503 (Shopify's "temporarily unavailable").
    Unavailable,
    /// Another app has just spent the whole bucket: this request finds it empty (answered `THROTTLED`).
    SpentBucket,
}

/// A request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub query: String,
    pub variables: Value,
    pub requested_cost: f64,
    /// Answered `THROTTLED`.
    pub throttled: bool,
}

#[derive(Debug, Default)]
struct Store {
    next_id: u64,
    next_variant: u64,
    /// Products by numeric id, as stored: `id`, `handle`, `title`, `descriptionHtml`, `vendor`, `productType`,
    /// `status`, `options` (`[{name, values}]`), `variants` (list), `files` (list of URLs).
    products: BTreeMap<u64, Value>,
}

#[derive(Debug)]
struct Inner {
    token: String,
    plan: Plan,
    bucket: Mutex<(f64, Instant)>,
    store: Mutex<Store>,
    requests: Mutex<Vec<Recorded>>,
    faults: Mutex<VecDeque<Fault>>,
    bulk: Arc<bulk::Bulk>,
    /// `http://127.0.0.1:<port>`, once bound.
    base: OnceLock<String>,
}

impl Inner {
    fn base(&self) -> String {
        self.base.get().cloned().unwrap_or_default()
    }
}

/// The running fake.
#[derive(Debug, Clone)]
pub struct FakeShopify {
    /// `http://127.0.0.1:<port>/admin/api/2025-01/graphql.json`.
    pub endpoint: String,
    inner: Arc<Inner>,
}

impl FakeShopify {
    /// Starts an empty shop accepting this access token, with this plan's bucket (full).
    pub async fn start(token: &str, plan: Plan) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            token: token.to_string(),
            plan,
            bucket: Mutex::new((plan.maximum, Instant::now())),
            store: Mutex::new(Store { next_id: 1000, next_variant: 5000, ..Default::default() }),
            requests: Mutex::default(),
            faults: Mutex::default(),
            bulk: Arc::default(),
            base: OnceLock::new(),
        });
        let path = format!("/admin/api/{API_VERSION}/graphql.json");
        let app = Router::new()
            .route(&path, post(graphql))
            // The storage service's side of staged uploads and result files.
            .route("/staged-uploads", post(bulk::upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 1024 * 1024)))
            .route("/bulk-results/{file}", get(bulk::result_file))
            .with_state(inner.clone());
        let address = crate::serve(app).await?;
        let _ = inner.base.set(format!("http://{address}"));
        Ok(FakeShopify { endpoint: format!("http://{address}{path}"), inner })
    }

    /// The next bulk operation meets this fault.
    pub fn inject_bulk(&self, fault: BulkFault) {
        self.inner.bulk.inject(fault);
    }

    /// A bulk mutation of this app (as left by an earlier, killed run) runs for `duration`: a new one is refused
    /// with `OPERATION_IN_PROGRESS` meanwhile.
    pub fn occupy(&self, duration: Duration) {
        self.inner.bulk.occupy(duration);
    }

    /// Bytes of each file uploaded to the staged upload URL, in order.
    pub fn uploads(&self) -> Vec<usize> {
        self.inner.bulk.uploads()
    }

    /// The next requests meet these faults, one each, in order.
    pub fn inject(&self, faults: &[Fault]) {
        if let Ok(mut queue) = self.inner.faults.lock() {
            queue.extend(faults.iter().copied());
        }
    }

    /// Empties the bucket (as if another app had spent it).
    pub fn drain(&self) {
        if let Ok(mut bucket) = self.inner.bucket.lock() {
            *bucket = (0.0, Instant::now());
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Every product as stored.
    pub fn products(&self) -> Vec<Value> {
        self.inner.store.lock().map(|s| s.products.values().cloned().collect()).unwrap_or_default()
    }

    pub fn by_handle(&self, handle: &str) -> Option<Value> {
        self.products().into_iter().find(|p| p["handle"] == handle)
    }
}

fn cost_of(field: &Field<'_, String>, mutation: bool) -> f64 {
    if mutation {
        return 10.0;
    }
    1.0 + selection_cost(&field.selection_set)
}

/// Objects count 1; a connection with `first: n` counts n times its node's cost.
fn selection_cost(set: &SelectionSet<'_, String>) -> f64 {
    let mut cost = 0.0;
    for selection in &set.items {
        let Selection::Field(field) = selection else { continue };
        if field.selection_set.items.is_empty() {
            continue; // a scalar
        }
        let first = field.arguments.iter().find(|(name, _)| name == "first").and_then(|(_, v)| match v {
            GqlValue::Int(n) => n.as_i64(),
            _ => None,
        });
        match first {
            Some(n) => cost += n as f64 * selection_cost(&field.selection_set).max(1.0),
            None => {
                cost += if field.name == "nodes" || field.name == "edges" { 0.0 } else { 1.0 }
                    + selection_cost(&field.selection_set)
            }
        }
    }
    cost
}

fn graphql_error(message: &str, code: Option<&str>) -> Value {
    match code {
        Some(code) => json!({"message": message, "extensions": {"code": code}}),
        None => json!({"message": message}),
    }
}

async fn graphql(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if headers.get("x-shopify-access-token").and_then(|v| v.to_str().ok()) != Some(inner.token.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(
                json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
            ),
        )
            .into_response();
    }
    match inner.faults.lock().ok().and_then(|mut f| f.pop_front()) {
        Some(Fault::Unavailable) => {
            return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"errors": "Service Unavailable"})))
                .into_response();
        }
        Some(Fault::SpentBucket) => {
            if let Ok(mut bucket) = inner.bucket.lock() {
                *bucket = (0.0, Instant::now());
            }
        }
        None => {}
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"errors": "Bad Request"}))).into_response();
    };
    let query = request["query"].as_str().unwrap_or_default().to_string();
    let variables = request.get("variables").cloned().unwrap_or(json!({}));
    let document = match graphql_parser::parse_query::<String>(&query) {
        Ok(document) => document,
        Err(e) => return axum::Json(json!({"errors": [graphql_error(&e.to_string(), None)]})).into_response(),
    };
    let operation = document.definitions.iter().find_map(|d| match d {
        Definition::Operation(op) => Some(op),
        Definition::Fragment(_) => None,
    });
    let (set, mutation) = match operation {
        Some(OperationDefinition::Mutation(m)) => (&m.selection_set, true),
        Some(OperationDefinition::Query(q)) => (&q.selection_set, false),
        Some(OperationDefinition::SelectionSet(s)) => (s, false),
        _ => return axum::Json(json!({"errors": [graphql_error("No operation", None)]})).into_response(),
    };
    let fields: Vec<&Field<'_, String>> = set
        .items
        .iter()
        .filter_map(|s| match s {
            Selection::Field(f) => Some(f),
            _ => None,
        })
        .collect();
    let requested: f64 = fields.iter().map(|f| cost_of(f, mutation)).sum();
    let (throttled, available) = {
        let Ok(mut bucket) = inner.bucket.lock() else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let now = Instant::now();
        let refilled =
            (bucket.0 + now.duration_since(bucket.1).as_secs_f64() * inner.plan.restore_rate).min(inner.plan.maximum);
        let throttled = requested <= 1000.0 && refilled < requested;
        let left = if throttled || requested > 1000.0 { refilled } else { refilled - requested };
        *bucket = (left, now);
        (throttled, left)
    };
    if let Ok(mut requests) = inner.requests.lock() {
        requests.push(Recorded {
            query: query.clone(),
            variables: variables.clone(),
            requested_cost: requested,
            throttled,
        });
    }
    let cost = |actual: Option<f64>| {
        json!({"cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": inner.plan.maximum,
                "currentlyAvailable": available,
                "restoreRate": inner.plan.restore_rate,
            },
        }})
    };
    if requested > 1000.0 {
        let message = format!("Query cost is {requested}, which exceeds the single query max cost limit (1000).");
        return axum::Json(
            json!({"errors": [graphql_error(&message, Some("MAX_COST_EXCEEDED"))], "extensions": cost(None)}),
        )
        .into_response();
    }
    if throttled {
        return axum::Json(
            json!({"errors": [graphql_error("Throttled", Some("THROTTLED"))], "extensions": cost(None)}),
        )
        .into_response();
    }
    let mut data = Map::new();
    let mut errors = Vec::new();
    for field in fields {
        let key = field.alias.clone().unwrap_or_else(|| field.name.clone());
        let arguments: Map<String, Value> =
            field.arguments.iter().map(|(name, value)| (name.clone(), resolve(value, &variables))).collect();
        let answer = match (mutation, field.name.as_str()) {
            (true, "stagedUploadsCreate") => Ok(bulk::staged_uploads_create(&inner, &arguments)),
            (true, "bulkOperationRunMutation") => Ok(bulk::run_mutation(&inner, &arguments)),
            (false, "currentBulkOperation") => Ok(bulk::current(&inner, &arguments)),
            (false, "node") => Ok(bulk::node(&inner, &arguments)),
            _ => resolve_field(&inner, mutation, &field.name, &arguments),
        };
        match answer {
            Ok(value) => {
                data.insert(key, project(&value, &field.selection_set));
            }
            Err(message) => errors.push(graphql_error(&message, Some("undefinedField"))),
        }
    }
    let mut answer = json!({"data": data, "extensions": cost(Some(requested))});
    if !errors.is_empty() {
        answer["errors"] = json!(errors);
    }
    axum::Json(answer).into_response()
}

/// The fields answered from the product store.
fn resolve_field(inner: &Inner, mutation: bool, name: &str, arguments: &Map<String, Value>) -> Result<Value, String> {
    let Ok(mut store) = inner.store.lock() else { return Err("internal".into()) };
    match (mutation, name) {
        (true, "productSet") => Ok(store.product_set(arguments)),
        (false, "productByHandle") => {
            let handle = arguments.get("handle").and_then(Value::as_str).unwrap_or_default();
            Ok(store.products.values().find(|p| p["handle"] == handle).map(shown).unwrap_or(Value::Null))
        }
        (false, "locations") => Ok(json!({"nodes": [{"id": LOCATION_ID, "name": "Shop location"}]})),
        (false, "shop") => Ok(json!({"name": "Fake shop", "currencyCode": "EUR"})),
        (true, name) => Err(format!("Field '{name}' doesn't exist on type 'Mutation'")),
        (false, name) => Err(format!("Field '{name}' doesn't exist on type 'QueryRoot'")),
    }
}

/// A GraphQL value with its variables put in, as JSON.
fn resolve(value: &GqlValue<'_, String>, variables: &Value) -> Value {
    match value {
        GqlValue::Variable(name) => variables.get(name).cloned().unwrap_or(Value::Null),
        GqlValue::Int(n) => json!(n.as_i64()),
        GqlValue::Float(f) => json!(f),
        GqlValue::String(s) => json!(s),
        GqlValue::Boolean(b) => json!(b),
        GqlValue::Null => Value::Null,
        GqlValue::Enum(e) => json!(e),
        GqlValue::List(items) => Value::Array(items.iter().map(|v| resolve(v, variables)).collect()),
        GqlValue::Object(fields) => {
            Value::Object(fields.iter().map(|(k, v)| (k.clone(), resolve(v, variables))).collect())
        }
    }
}

/// `value` cut down to the fields selected, under their aliases (lists projected item by item).
fn project(value: &Value, set: &SelectionSet<'_, String>) -> Value {
    if set.items.is_empty() {
        return value.clone();
    }
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| project(v, set)).collect()),
        Value::Object(fields) => {
            let mut out = Map::new();
            for selection in &set.items {
                let field = match selection {
                    Selection::Field(field) => field,
                    Selection::InlineFragment(fragment) => {
                        // `... on Type { … }`: its fields, when the object is of that type.
                        let of_type = fragment
                            .type_condition
                            .as_ref()
                            .map(|graphql_parser::query::TypeCondition::On(name)| name.as_str());
                        if of_type.is_none_or(|t| fields.get("__typename").is_none_or(|n| n == t))
                            && let Value::Object(more) = project(value, &fragment.selection_set)
                        {
                            out.extend(more);
                        }
                        continue;
                    }
                    Selection::FragmentSpread(_) => continue,
                };
                let key = field.alias.clone().unwrap_or_else(|| field.name.clone());
                let value = if field.name == "__typename" {
                    fields.get("__typename").cloned().unwrap_or(json!("Product"))
                } else {
                    fields.get(&field.name).cloned().unwrap_or(Value::Null)
                };
                out.insert(key, project(&value, &field.selection_set));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// A stored product as the API shows it: variants as a connection.
fn shown(product: &Value) -> Value {
    let mut shown = product.clone();
    shown["variants"] = json!({"nodes": product["variants"].clone()});
    shown["media"] = json!({"nodes": product["files"].as_array().cloned().unwrap_or_default().iter()
        .map(|url| json!({"preview": {"image": {"url": url}}})).collect::<Vec<_>>()});
    shown
}

fn user_error(field: &[&str], message: &str, code: &str) -> Value {
    json!({"field": field, "message": message, "code": code})
}

fn payload(product: Option<Value>, errors: Vec<Value>) -> Value {
    json!({"product": product.as_ref().map(shown), "productSetOperation": null, "userErrors": errors})
}

fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.to_lowercase().chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// A decimal given as the `Money`/`Decimal` scalars want it: a string.
fn money_ok(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.parse::<f64>().is_ok_and(|n| n >= 0.0),
        _ => false,
    }
}

impl Store {
    fn product_set(&mut self, arguments: &Map<String, Value>) -> Value {
        let Some(input) = arguments.get("input").and_then(Value::as_object) else {
            return payload(None, vec![user_error(&["input"], "Input is required", "INVALID")]);
        };
        let variants = input.get("variants").and_then(Value::as_array).cloned();
        let options = input.get("productOptions").and_then(Value::as_array).cloned();
        // Input arrays hold at most 250 items.
        if variants.as_ref().is_some_and(|v| v.len() > 250) {
            return payload(
                None,
                vec![user_error(&["input", "variants"], "Too many variants (at most 250)", "INVALID")],
            );
        }
        if let Some(variants) = &variants {
            for (index, variant) in variants.iter().enumerate() {
                let at = index.to_string();
                for field in ["price", "compareAtPrice"] {
                    if !money_ok(variant.get(field).unwrap_or(&Value::Null)) {
                        let message = format!("{field} must be a decimal string");
                        return payload(
                            None,
                            vec![user_error(&["input", "variants", &at, field], &message, "INVALID")],
                        );
                    }
                }
                let names: Vec<&str> = options.iter().flatten().filter_map(|o| o["name"].as_str()).collect();
                let given = variant["optionValues"].as_array().cloned().unwrap_or_default();
                if given.is_empty() || given.iter().any(|v| !names.contains(&v["optionName"].as_str().unwrap_or(""))) {
                    let message = "Each variant needs a value for each product option";
                    return payload(
                        None,
                        vec![user_error(&["input", "variants", &at, "optionValues"], message, "INVALID_VARIANT")],
                    );
                }
                for quantity in variant["inventoryQuantities"].as_array().into_iter().flatten() {
                    if quantity["locationId"] != LOCATION_ID {
                        let message = "Location does not exist";
                        return payload(
                            None,
                            vec![user_error(&["input", "variants", &at, "inventoryQuantities"], message, "INVALID")],
                        );
                    }
                }
            }
        }
        let existing_id = input.get("id").and_then(Value::as_str).map(str::to_string);
        let id = match &existing_id {
            Some(gid) => {
                let number = gid.rsplit('/').next().and_then(|n| n.parse::<u64>().ok());
                match number.filter(|n| self.products.contains_key(n)) {
                    Some(n) => n,
                    None => {
                        return payload(
                            None,
                            vec![user_error(&["input", "id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")],
                        );
                    }
                }
            }
            None => {
                if input.get("title").and_then(Value::as_str).is_none_or(str::is_empty) {
                    return payload(None, vec![user_error(&["input", "title"], "Title can't be blank", "BLANK")]);
                }
                self.next_id += 1;
                let id = self.next_id;
                let title = input["title"].as_str().unwrap_or_default();
                let wanted =
                    input.get("handle").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| slug(title));
                // A taken handle gets a number, as Shopify does: a create can never overwrite another product.
                let mut handle = wanted.clone();
                let mut n = 0;
                while self.products.values().any(|p| p["handle"] == handle.as_str()) {
                    n += 1;
                    handle = format!("{wanted}-{n}");
                }
                self.products.insert(
                    id,
                    json!({
                        "id": format!("gid://shopify/Product/{id}"), "handle": handle, "title": title,
                        "descriptionHtml": "", "vendor": "", "productType": "", "status": "ACTIVE",
                        "options": [], "variants": [], "files": [],
                    }),
                );
                id
            }
        };
        let mut next_variant = self.next_variant;
        let Some(product) = self.products.get_mut(&id) else {
            return payload(None, vec![user_error(&["input"], "internal", "INVALID")]);
        };
        for field in ["title", "descriptionHtml", "vendor", "productType", "status", "tags"] {
            if let Some(value) = input.get(field) {
                product[field] = value.clone();
            }
        }
        if existing_id.is_some()
            && let Some(handle) = input.get("handle")
        {
            product["handle"] = handle.clone();
        }
        if let Some(options) = &options {
            product["options"] = json!(options.iter().map(|o| json!({
                "name": o["name"],
                "values": o["values"].as_array().cloned().unwrap_or_default().iter().map(|v| v["name"].clone()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>());
        }
        if let Some(files) = input.get("files").and_then(Value::as_array) {
            product["files"] = json!(files.iter().map(|f| f["originalSource"].clone()).collect::<Vec<_>>());
        }
        if let Some(variants) = variants {
            // The list replaces the stored one: a variant is kept by id or by its option values, others go.
            let stored = product["variants"].as_array().cloned().unwrap_or_default();
            let key = |v: &Value| -> Vec<(String, String)> {
                let mut pairs: Vec<(String, String)> = v["optionValues"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| {
                        (
                            o["optionName"].as_str().unwrap_or("").to_string(),
                            o["name"].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect();
                pairs.sort();
                pairs
            };
            let mut kept = Vec::new();
            for input_variant in &variants {
                let matched = stored.iter().find(|s| match input_variant.get("id").and_then(Value::as_str) {
                    Some(id) => s["id"] == id,
                    None => key(s) == key(input_variant),
                });
                let id = match matched {
                    Some(m) => m["id"].as_str().unwrap_or_default().to_string(),
                    None => {
                        next_variant += 1;
                        format!("gid://shopify/ProductVariant/{next_variant}")
                    }
                };
                let quantity = input_variant["inventoryQuantities"]
                    .as_array()
                    .and_then(|q| q.first())
                    .map(|q| q["quantity"].clone())
                    .unwrap_or(Value::Null);
                kept.push(json!({
                    "id": id,
                    "sku": input_variant.get("sku").cloned().unwrap_or(Value::Null),
                    "barcode": input_variant.get("barcode").cloned().unwrap_or(Value::Null),
                    "price": input_variant.get("price").cloned().unwrap_or(json!("0.00")),
                    "compareAtPrice": input_variant.get("compareAtPrice").cloned().unwrap_or(Value::Null),
                    "inventoryPolicy": input_variant.get("inventoryPolicy").cloned().unwrap_or(json!("DENY")),
                    "inventoryItem": {
                        "tracked": input_variant.pointer("/inventoryItem/tracked").cloned().unwrap_or(json!(false)),
                    },
                    "inventoryQuantity": quantity,
                    "optionValues": input_variant["optionValues"],
                    "selectedOptions": input_variant["optionValues"].as_array().into_iter().flatten()
                        .map(|o| json!({"name": o["optionName"], "value": o["name"]})).collect::<Vec<_>>(),
                }));
            }
            product["variants"] = json!(kept);
        }
        let product = product.clone();
        self.next_variant = next_variant;
        payload(Some(product), Vec::new())
    }
}
