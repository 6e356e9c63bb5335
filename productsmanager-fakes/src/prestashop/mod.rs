//! PrestaShop webservice under `/api`: products (`GET` with `filter[reference]` and `display`, `?schema=blank`;
//! `POST`; `GET/PUT /api/products/{id}`) and `stock_availables` (`GET` with `filter[id_product]`,
//! `filter[id_product_attribute]`, `display=full`; `PUT /api/stock_availables/{id}`), in XML. The key is the Basic
//! username (empty password) or `ws_key`. Writes are validated as the published resources say: `price` required and
//! a price, `reference` ≤ 64, `ean13` ≤ 13 digits, `name` ≤ 128, `quantity` an integer of ≤ 10 characters, the
//! required stock fields; errors as `<prestashop><errors><error><code/><message/></error></errors></prestashop>`. A
//! product created gets its stock row (`id_product_attribute` 0, quantity 0). `quantity` on a product is read-only.
//! Attribute groups, their values and combinations (`product_options`, `product_option_values`, `combinations`) are
//! in `attributes.rs`; a combination gets its own stock row, and the product's row is then the sum of its
//! combinations' (as PrestaShop keeps it).

mod attributes;

pub use attributes::{COMBINATION_FIELDS, OPTION_FIELDS, OPTION_VALUE_FIELDS};

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use quick_xml::Reader;
use quick_xml::events::Event;

/// The product fields the fake keeps (those of the blank schema we use), multilingual ones in language 1.
pub const PRODUCT_FIELDS: [&str; 12] = [
    "id",
    "reference",
    "ean13",
    "price",
    "active",
    "state",
    "available_for_order",
    "show_price",
    "minimal_quantity",
    "name",
    "description",
    "link_rewrite",
];
const MULTILINGUAL: [&str; 3] = ["name", "description", "link_rewrite"];

/// A failure the next request(s) meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500.
    ServerError,
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub uri: String,
    pub body: String,
    pub status: u16,
}

#[derive(Debug, Default)]
struct Store {
    next_product: u64,
    next_stock: u64,
    products: BTreeMap<u64, BTreeMap<String, String>>,
    /// Stock row id → (product id, combination id or 0, quantity).
    stock: BTreeMap<u64, (u64, u64, i64)>,
    next_resource: u64,
    /// The attribute resources by name (`combinations`…): id → fields (associations as `@<name>`: ids joined by
    /// commas).
    resources: HashMap<&'static str, BTreeMap<u64, BTreeMap<String, String>>>,
}

impl Store {
    /// The stock row of a product (`attribute` 0) or of one of its combinations.
    fn stock_row(&self, product: u64, attribute: u64) -> Option<u64> {
        self.stock.iter().find(|(_, (p, a, _))| *p == product && *a == attribute).map(|(id, _)| *id)
    }

    fn add_stock_row(&mut self, product: u64, attribute: u64) -> u64 {
        self.next_stock += 1;
        self.stock.insert(self.next_stock, (product, attribute, 0));
        self.next_stock
    }

    /// A product with combinations has, as its own stock, the sum of theirs.
    fn sum_combinations(&mut self, product: u64) {
        let rows: Vec<i64> =
            self.stock.values().filter(|(p, a, _)| *p == product && *a != 0).map(|(_, _, q)| *q).collect();
        if let Some(total) = self.stock_row(product, 0).and_then(|id| self.stock.get_mut(&id)) {
            total.2 = rows.iter().sum();
        }
    }
}

#[derive(Debug)]
struct Inner {
    key: String,
    store: Mutex<Store>,
    requests: Mutex<Vec<Recorded>>,
    faults: Mutex<VecDeque<Fault>>,
}

/// The running fake.
#[derive(Debug, Clone)]
pub struct FakePrestaShop {
    /// `http://127.0.0.1:<port>/api`.
    pub base_url: String,
    inner: Arc<Inner>,
}

impl FakePrestaShop {
    pub async fn start(key: &str) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            key: key.to_string(),
            store: Mutex::new(Store { next_product: 20, next_stock: 500, next_resource: 1, ..Default::default() }),
            requests: Mutex::default(),
            faults: Mutex::default(),
        });
        let app = Router::new()
            .route("/api/products", get(list_products).post(create_product))
            .route("/api/products/{id}", get(get_product).put(update_product))
            .route("/api/stock_availables", get(list_stock))
            .route("/api/stock_availables/{id}", axum::routing::put(update_stock))
            .route("/api/{resource}", get(attributes::list).post(attributes::create))
            .route("/api/{resource}/{id}", get(attributes::get_one).put(attributes::update).delete(attributes::delete))
            .with_state(inner.clone());
        let address = crate::serve(app).await?;
        Ok(FakePrestaShop { base_url: format!("http://{address}/api"), inner })
    }

    pub fn inject(&self, faults: &[Fault]) {
        if let Ok(mut queue) = self.inner.faults.lock() {
            queue.extend(faults.iter().copied());
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Every product's fields, by id.
    pub fn products(&self) -> BTreeMap<u64, BTreeMap<String, String>> {
        self.inner.store.lock().map(|s| s.products.clone()).unwrap_or_default()
    }

    /// The product with this reference.
    pub fn by_reference(&self, reference: &str) -> Option<BTreeMap<String, String>> {
        self.products().into_values().find(|p| p.get("reference").is_some_and(|r| r == reference))
    }

    /// The stock of a product (its row with `id_product_attribute` 0).
    pub fn stock_of(&self, product: u64) -> Option<i64> {
        self.stock_of_combination(product, 0)
    }

    /// The stock of a product's combination.
    pub fn stock_of_combination(&self, product: u64, combination: u64) -> Option<i64> {
        let store = self.inner.store.lock().ok()?;
        let row = store.stock_row(product, combination)?;
        store.stock.get(&row).map(|(_, _, q)| *q)
    }

    /// Every row of an attribute resource (`product_options`, `product_option_values`, `combinations`), by id.
    pub fn resource(&self, name: &str) -> BTreeMap<u64, BTreeMap<String, String>> {
        self.inner.store.lock().ok().and_then(|s| s.resources.get(name).cloned()).unwrap_or_default()
    }
}

fn cdata(value: &str) -> String {
    format!("<![CDATA[{}]]>", value.replace("]]>", "]]]]><![CDATA[>"))
}

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [("content-type", "text/xml;charset=utf-8")],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}"),
    )
        .into_response()
}

fn errors(status: StatusCode, code: u32, message: &str) -> Response {
    xml(
        status,
        format!(
            "<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\"><errors><error><code>{}</code><message>{}</message></error></errors></prestashop>",
            cdata(&code.to_string()),
            cdata(message)
        ),
    )
}

fn admit(inner: &Inner, headers: &HeaderMap, uri: &Uri) -> Result<(), Box<Response>> {
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .map(|v| String::from_utf8_lossy(&v).into_owned());
    let query_key =
        uri.query().and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("ws_key=")).map(str::to_string));
    let given = basic.as_deref().map(|b| b.split(':').next().unwrap_or("").to_string()).or(query_key);
    match given.as_deref() {
        None | Some("") => return Err(Box::new(errors(StatusCode::UNAUTHORIZED, 17, "Authentication key is empty"))),
        Some(key) if key != inner.key => {
            return Err(Box::new(errors(StatusCode::UNAUTHORIZED, 25, "No permission for this authentication key")));
        }
        _ => {}
    }
    if let Some(Fault::ServerError) = inner.faults.lock().ok().and_then(|mut f| f.pop_front()) {
        return Err(Box::new(errors(StatusCode::INTERNAL_SERVER_ERROR, 0, "Internal error")));
    }
    Ok(())
}

fn record(inner: &Inner, method: &str, uri: &Uri, body: &str, response: Response) -> Response {
    if let Ok(mut requests) = inner.requests.lock() {
        requests.push(Recorded {
            method: method.into(),
            uri: uri.to_string(),
            body: body.into(),
            status: response.status().as_u16(),
        });
    }
    response
}

/// The fields of `<prestashop><{resource}>…`: element name → text (a multilingual field's language 1).
fn parse(body: &str, resource: &str) -> Result<BTreeMap<String, String>, String> {
    let mut reader = Reader::from_str(body);
    let mut path: Vec<String> = Vec::new();
    let mut fields = BTreeMap::new();
    let mut text = String::new();
    let mut seen_resource = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => {
                path.push(start.name().as_ref().to_string());
                if path.len() == 2 && path[1] == resource {
                    seen_resource = true;
                }
                text.clear();
            }
            Ok(Event::Empty(_)) => {}
            Ok(Event::CData(data)) => text.push_str(data.as_ref()),
            Ok(Event::Text(t)) => text.push_str(t.xml10_content().trim()),
            Ok(Event::GeneralRef(r)) => {
                let entity = format!("&{};", AsRef::<str>::as_ref(&r));
                text.push_str(&quick_xml::escape::unescape(&entity).map(|c| c.into_owned()).unwrap_or(entity));
            }
            Ok(Event::End(_)) => {
                // <prestashop><product><field> or <prestashop><product><field><language>
                match path.len() {
                    3 => {
                        fields.entry(path[2].clone()).or_insert_with(|| text.clone());
                    }
                    4 if path[3] == "language" => {
                        fields.insert(path[2].clone(), text.clone());
                    }
                    // <associations><product_option_values><product_option_value><id>
                    6 if path[2] == "associations" && path[5] == "id" => {
                        let ids = fields.entry(format!("@{}", path[3])).or_default();
                        if !ids.is_empty() {
                            ids.push(',');
                        }
                        ids.push_str(text.trim());
                    }
                    _ => {}
                }
                path.pop();
                text.clear();
            }
            Ok(Event::Eof) => break,
            Err(e) => return Err(format!("XML error at {}: {e}", reader.buffer_position())),
            _ => {}
        }
    }
    if !seen_resource {
        return Err(format!("no <{resource}> in the body"));
    }
    fields.remove("associations");
    Ok(fields)
}

/// Validates a product as the resource's validators do; `Err` is the message.
fn check_product(fields: &BTreeMap<String, String>) -> Result<(), String> {
    let get = |name: &str| fields.get(name).map(String::as_str).unwrap_or("");
    if let Some(unknown) = fields.keys().find(|k| !PRODUCT_FIELDS.contains(&k.as_str()) && *k != "quantity") {
        return Err(format!("parameter \"{unknown}\" not found"));
    }
    if fields.contains_key("quantity") {
        return Err("parameter \"quantity\" not writable. Please remove this attribute of this XML".into());
    }
    let price = get("price");
    if price.is_empty() {
        return Err("property Product->price is empty".into());
    }
    if price.parse::<f64>().map_or(true, |p| p < 0.0) || price.contains(',') {
        return Err("Validation error: \"Property Product->price is not valid\"".into());
    }
    if get("reference").chars().count() > 64 {
        return Err("Validation error: \"Property Product->reference is too long (64 chars max).\"".into());
    }
    let ean = get("ean13");
    if ean.len() > 13 || !ean.chars().all(|c| c.is_ascii_digit()) {
        return Err("Validation error: \"Property Product->ean13 is not valid\"".into());
    }
    if get("name").chars().count() > 128 {
        return Err("Validation error: \"Property Product->name is too long (128 chars max).\"".into());
    }
    if get("name").is_empty() {
        return Err("Validation error: \"Property Product->name is empty for default language.\"".into());
    }
    Ok(())
}

fn product_xml(id: u64, fields: &BTreeMap<String, String>, stock_id: Option<u64>) -> String {
    let mut out = String::from("<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\"><product>");
    for name in PRODUCT_FIELDS {
        let value = if name == "id" { id.to_string() } else { fields.get(name).cloned().unwrap_or_default() };
        if MULTILINGUAL.contains(&name) {
            out.push_str(&format!("<{name}><language id=\"1\">{}</language></{name}>", cdata(&value)));
        } else {
            out.push_str(&format!("<{name}>{}</{name}>", cdata(&value)));
        }
    }
    if let Some(stock) = stock_id {
        out.push_str(&format!(
            "<associations><stock_availables><stock_available><id>{}</id><id_product_attribute>{}</id_product_attribute></stock_available></stock_availables></associations>",
            cdata(&stock.to_string()),
            cdata("0")
        ));
    }
    out.push_str("</product></prestashop>");
    out
}

/// `[a|b]` or `[a]` filter values.
fn filter_values(value: &str) -> Vec<String> {
    value.trim_start_matches('[').trim_end_matches(']').split('|').map(str::to_string).collect()
}

async fn list_products(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let answer = match admit(&inner, &headers, &uri) {
        Err(refused) => *refused,
        Ok(()) if query.get("schema").is_some_and(|s| s == "blank") => xml(
            StatusCode::OK,
            product_xml(0, &BTreeMap::new(), None).replace("<id><![CDATA[0]]></id>", "<id><![CDATA[]]></id>"),
        ),
        Ok(()) => {
            let store = match inner.store.lock() {
                Ok(store) => store,
                Err(_) => return errors(StatusCode::INTERNAL_SERVER_ERROR, 0, "lock"),
            };
            let wanted = query.get("filter[reference]").map(|f| filter_values(f));
            let full = query.get("display").is_some_and(|d| d == "full");
            let mut out = String::from("<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\"><products>");
            for (id, fields) in &store.products {
                if wanted.as_ref().is_some_and(|w| !w.iter().any(|r| fields.get("reference") == Some(r))) {
                    continue;
                }
                if full {
                    let inner_xml = product_xml(*id, fields, None);
                    let start = inner_xml.find("<product>").unwrap_or(0);
                    let end = inner_xml.rfind("</prestashop>").unwrap_or(inner_xml.len());
                    out.push_str(&inner_xml[start..end]);
                } else {
                    out.push_str(&format!("<product><id>{}</id></product>", cdata(&id.to_string())));
                }
            }
            out.push_str("</products></prestashop>");
            xml(StatusCode::OK, out)
        }
    };
    record(&inner, "GET", &uri, "", answer)
}

async fn get_product(State(inner): State<Arc<Inner>>, headers: HeaderMap, uri: Uri, Path(id): Path<u64>) -> Response {
    let answer = match admit(&inner, &headers, &uri) {
        Err(refused) => *refused,
        Ok(()) => {
            let store = inner.store.lock().ok();
            let found = store.as_ref().and_then(|s| {
                let fields = s.products.get(&id)?;
                Some(product_xml(id, fields, s.stock_row(id, 0)))
            });
            match found {
                Some(body) => xml(StatusCode::OK, body),
                None => errors(StatusCode::NOT_FOUND, 87, &format!("Product #{id} does not exist")),
            }
        }
    };
    record(&inner, "GET", &uri, "", answer)
}

/// A write: `body` parsed as `<resource>`, then `apply` on the store; an unreadable body is answered 400.
fn write_to_store(
    inner: &Inner,
    body: &str,
    resource: &str,
    apply: impl FnOnce(&mut Store, BTreeMap<String, String>) -> Response,
) -> Response {
    match (parse(body, resource), inner.store.lock()) {
        (Err(message), _) => errors(StatusCode::BAD_REQUEST, 85, &message),
        (_, Err(_)) => errors(StatusCode::INTERNAL_SERVER_ERROR, 0, "lock"),
        (Ok(fields), Ok(mut store)) => apply(&mut store, fields),
    }
}

async fn create_product(State(inner): State<Arc<Inner>>, headers: HeaderMap, uri: Uri, body: String) -> Response {
    let answer = match admit(&inner, &headers, &uri) {
        Err(refused) => *refused,
        Ok(()) => write_to_store(&inner, &body, "product", |store, mut fields| {
            if let Err(message) = check_product(&fields) {
                return errors(StatusCode::BAD_REQUEST, 85, &message);
            }
            store.next_product += 1;
            let id = store.next_product;
            fields.remove("id");
            store.products.insert(id, fields.clone());
            let stock = store.add_stock_row(id, 0);
            xml(StatusCode::CREATED, product_xml(id, &fields, Some(stock)))
        }),
    };
    record(&inner, "POST", &uri, &body, answer)
}

async fn update_product(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<u64>,
    body: String,
) -> Response {
    let answer = match admit(&inner, &headers, &uri) {
        Err(refused) => *refused,
        Ok(()) => write_to_store(&inner, &body, "product", |store, mut fields| {
            if let Err(message) = check_product(&fields) {
                return errors(StatusCode::BAD_REQUEST, 85, &message);
            }
            if fields.remove("id") != Some(id.to_string()) {
                return errors(StatusCode::BAD_REQUEST, 90, "id is required when modifying a resource");
            }
            if !store.products.contains_key(&id) {
                return errors(StatusCode::NOT_FOUND, 87, &format!("Product #{id} does not exist"));
            }
            // A PUT replaces the resource: fields left out are emptied.
            store.products.insert(id, fields.clone());
            xml(StatusCode::OK, product_xml(id, &fields, store.stock_row(id, 0)))
        }),
    };
    record(&inner, "PUT", &uri, &body, answer)
}

async fn list_stock(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let answer = match admit(&inner, &headers, &uri) {
        Err(refused) => *refused,
        Ok(()) => {
            let products = query.get("filter[id_product]").map(|f| filter_values(f));
            let attributes = query.get("filter[id_product_attribute]").map(|f| filter_values(f));
            let mut out = String::from("<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\"><stock_availables>");
            if let Ok(store) = inner.store.lock() {
                for (id, (product, attribute, quantity)) in &store.stock {
                    if products.as_ref().is_some_and(|p| !p.contains(&product.to_string()))
                        || attributes.as_ref().is_some_and(|a| !a.contains(&attribute.to_string()))
                    {
                        continue;
                    }
                    out.push_str(&format!(
                        "<stock_available><id>{}</id><id_product>{}</id_product><id_product_attribute>{}</id_product_attribute><quantity>{}</quantity><depends_on_stock>{}</depends_on_stock><out_of_stock>{}</out_of_stock></stock_available>",
                        cdata(&id.to_string()),
                        cdata(&product.to_string()),
                        cdata(&attribute.to_string()),
                        cdata(&quantity.to_string()),
                        cdata("0"),
                        cdata("2")
                    ));
                }
            }
            out.push_str("</stock_availables></prestashop>");
            xml(StatusCode::OK, out)
        }
    };
    record(&inner, "GET", &uri, "", answer)
}

async fn update_stock(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<u64>,
    body: String,
) -> Response {
    let answer = match admit(&inner, &headers, &uri) {
        Err(refused) => *refused,
        Ok(()) => write_to_store(&inner, &body, "stock_available", |store, fields| {
            let get = |name: &str| fields.get(name).map(String::as_str).unwrap_or("");
            let missing = ["id_product", "id_product_attribute", "quantity", "depends_on_stock", "out_of_stock"]
                .into_iter()
                .find(|f| get(f).is_empty());
            let quantity = get("quantity");
            match (missing, quantity.parse::<i64>()) {
                (Some(field), _) => {
                    errors(StatusCode::BAD_REQUEST, 41, &format!("property StockAvailable->{field} is empty"))
                }
                (None, Err(_)) => errors(
                    StatusCode::BAD_REQUEST,
                    85,
                    "Validation error: \"Property StockAvailable->quantity is not valid\"",
                ),
                (None, Ok(_)) if quantity.len() > 10 => errors(
                    StatusCode::BAD_REQUEST,
                    85,
                    "Validation error: \"Property StockAvailable->quantity is too long (10 chars max).\"",
                ),
                (None, Ok(quantity)) => match store.stock.get_mut(&id) {
                    Some(row)
                        if row.0.to_string() == get("id_product")
                            && row.1.to_string() == get("id_product_attribute") =>
                    {
                        row.2 = quantity;
                        let (product, attribute) = (row.0, row.1);
                        if attribute != 0 {
                            store.sum_combinations(product);
                        }
                        xml(StatusCode::OK, body.clone())
                    }
                    _ => errors(StatusCode::NOT_FOUND, 87, &format!("StockAvailable #{id} does not exist")),
                },
            }
        }),
    };
    record(&inner, "PUT", &uri, &body, answer)
}
