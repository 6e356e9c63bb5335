//! Attribute groups (`product_options`: multilingual `name` ≤ 128 and `public_name` ≤ 64, `group_type`
//! select|radio|color), their values (`product_option_values`: `id_attribute_group`, multilingual `name` ≤ 128) and
//! combinations (`combinations`: `id_product` and `minimal_quantity` required, `reference` ≤ 64, `ean13`, `price` as
//! an impact that may be negative, the option values under `associations`). `GET /api/{resource}` with any
//! `filter[field]=[a|b]` (exact, case-insensitive) and `display=[f,…]|full`; `POST`; `GET/PUT/DELETE
//! /api/{resource}/{id}`. A combination created gets its stock row; one deleted takes its row with it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use super::{Inner, Store, admit, cdata, errors, filter_values, record, write_to_store, xml};

/// The fields kept of each resource (those of the blank schemas the client uses).
pub const OPTION_FIELDS: [&str; 6] = ["id", "is_color_group", "group_type", "position", "name", "public_name"];
pub const OPTION_VALUE_FIELDS: [&str; 5] = ["id", "id_attribute_group", "color", "position", "name"];
pub const COMBINATION_FIELDS: [&str; 7] =
    ["id", "id_product", "reference", "ean13", "price", "minimal_quantity", "default_on"];

type Fields = BTreeMap<String, String>;

struct Resource {
    plural: &'static str,
    singular: &'static str,
    /// The class named in validation messages.
    class: &'static str,
    fields: &'static [&'static str],
    multilingual: &'static [&'static str],
    /// `(list, item)` of the associations it carries.
    associations: Option<(&'static str, &'static str)>,
}

const RESOURCES: [Resource; 3] = [
    Resource {
        plural: "product_options",
        singular: "product_option",
        class: "AttributeGroup",
        fields: &OPTION_FIELDS,
        multilingual: &["name", "public_name"],
        associations: None,
    },
    Resource {
        plural: "product_option_values",
        singular: "product_option_value",
        class: "Attribute",
        fields: &OPTION_VALUE_FIELDS,
        multilingual: &["name"],
        associations: None,
    },
    Resource {
        plural: "combinations",
        singular: "combination",
        class: "Combination",
        fields: &COMBINATION_FIELDS,
        multilingual: &[],
        associations: Some(("product_option_values", "product_option_value")),
    },
];

/// The resource named in the path, once the key is admitted.
fn admitted(inner: &Inner, headers: &HeaderMap, uri: &Uri, name: &str) -> Result<&'static Resource, Box<Response>> {
    admit(inner, headers, uri)?;
    RESOURCES.iter().find(|r| r.plural == name).ok_or_else(|| {
        let message = format!("Resource of type \"{name}\" does not exists. Did you mean: ?");
        Box::new(errors(StatusCode::BAD_REQUEST, 18, &message))
    })
}

fn invalid(resource: &Resource, field: &str, why: &str) -> String {
    format!("Validation error: \"Property {}->{field} {why}\"", resource.class)
}

/// Checks `fields` as the resource's validators do; `Err` is the message.
fn check(store: &Store, resource: &Resource, fields: &Fields) -> Result<(), String> {
    let get = |name: &str| fields.get(name).map(String::as_str).unwrap_or("");
    let association = resource.associations.map(|(list, _)| format!("@{list}"));
    if let Some(unknown) =
        fields.keys().find(|k| !resource.fields.contains(&k.as_str()) && Some(k.as_str()) != association.as_deref())
    {
        return Err(format!("parameter \"{unknown}\" not found"));
    }
    let too_long = |field: &str, max: usize| -> Result<(), String> {
        if get(field).chars().count() > max {
            return Err(invalid(resource, field, &format!("is too long ({max} chars max).")));
        }
        Ok(())
    };
    let unsigned = |field: &str| -> Result<(), String> {
        if get(field).parse::<u64>().is_err() {
            return Err(invalid(resource, field, "is not valid"));
        }
        Ok(())
    };
    match resource.plural {
        "product_options" => {
            for (field, max) in [("name", 128), ("public_name", 64)] {
                if get(field).is_empty() {
                    return Err(invalid(resource, field, "is empty for default language."));
                }
                too_long(field, max)?;
            }
            if !["select", "radio", "color"].contains(&get("group_type")) {
                return Err(invalid(resource, "group_type", "is not valid"));
            }
        }
        "product_option_values" => {
            unsigned("id_attribute_group")?;
            let group = get("id_attribute_group").parse::<u64>().unwrap_or(0);
            if !store.resources.get("product_options").is_some_and(|g| g.contains_key(&group)) {
                return Err(format!("AttributeGroup #{group} does not exist"));
            }
            if get("name").is_empty() {
                return Err(invalid(resource, "name", "is empty for default language."));
            }
            too_long("name", 128)?;
        }
        _ => {
            unsigned("id_product")?;
            unsigned("minimal_quantity")?;
            let product = get("id_product").parse::<u64>().unwrap_or(0);
            if !store.products.contains_key(&product) {
                return Err(format!("Product #{product} does not exist"));
            }
            too_long("reference", 64)?;
            let ean = get("ean13");
            if ean.len() > 13 || !ean.chars().all(|c| c.is_ascii_digit()) {
                return Err(invalid(resource, "ean13", "is not valid"));
            }
            let price = get("price");
            if !price.is_empty() && (price.parse::<f64>().is_err() || price.contains(',')) {
                return Err(invalid(resource, "price", "is not valid"));
            }
            let values = store.resources.get("product_option_values");
            for id in get("@product_option_values").split(',').filter(|i| !i.is_empty()) {
                let known = id.parse::<u64>().ok().is_some_and(|id| values.is_some_and(|v| v.contains_key(&id)));
                if !known {
                    return Err(format!("Attribute #{id} does not exist"));
                }
            }
        }
    }
    Ok(())
}

/// The resource's XML, with the fields asked for (all when `only` is `None`).
fn item_xml(resource: &Resource, id: u64, fields: &Fields, only: Option<&[String]>) -> String {
    let mut out = format!("<{}>", resource.singular);
    for name in resource.fields {
        if only.is_some_and(|only| !only.iter().any(|o| o == name)) {
            continue;
        }
        let value = if *name == "id" { id.to_string() } else { fields.get(*name).cloned().unwrap_or_default() };
        if resource.multilingual.contains(name) {
            out.push_str(&format!("<{name}><language id=\"1\">{}</language></{name}>", cdata(&value)));
        } else {
            out.push_str(&format!("<{name}>{}</{name}>", cdata(&value)));
        }
    }
    if let (Some((list, item)), None) = (resource.associations, only) {
        out.push_str(&format!("<associations><{list}>"));
        for value in fields.get(&format!("@{list}")).into_iter().flat_map(|ids| ids.split(',')) {
            if !value.is_empty() {
                out.push_str(&format!("<{item}><id>{}</id></{item}>", cdata(value)));
            }
        }
        out.push_str(&format!("</{list}></associations>"));
    }
    out.push_str(&format!("</{}>", resource.singular));
    out
}

fn document(body: &str) -> String {
    format!("<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">{body}</prestashop>")
}

pub(super) async fn list(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let answer = match admitted(&inner, &headers, &uri, &name) {
        Err(refused) => *refused,
        Ok(resource) if query.get("schema").is_some_and(|s| s == "blank") => xml(
            StatusCode::OK,
            document(&item_xml(resource, 0, &Fields::new(), None))
                .replace("<id><![CDATA[0]]></id>", "<id><![CDATA[]]></id>"),
        ),
        Ok(resource) => {
            let filters: Vec<(String, Vec<String>)> = query
                .iter()
                .filter_map(|(k, v)| {
                    let field = k.strip_prefix("filter[")?.strip_suffix(']')?;
                    Some((field.to_string(), filter_values(v)))
                })
                .collect();
            if let Some((unknown, _)) = filters.iter().find(|(f, _)| !resource.fields.contains(&f.as_str())) {
                let message = format!("This filter does not exist for this linked table ({unknown})");
                errors(StatusCode::BAD_REQUEST, 32, &message)
            } else {
                let only: Option<Vec<String>> = match query.get("display").map(String::as_str) {
                    Some("full") => None,
                    Some(list) => Some(filter_values(list)),
                    None => Some(vec!["id".to_string()]),
                };
                let rows =
                    inner.store.lock().ok().and_then(|s| s.resources.get(resource.plural).cloned()).unwrap_or_default();
                let mut out = format!("<{}>", resource.plural);
                for (id, fields) in &rows {
                    let matches = filters.iter().all(|(field, wanted)| {
                        let value =
                            if field == "id" { id.to_string() } else { fields.get(field).cloned().unwrap_or_default() };
                        wanted.iter().any(|w| w.to_lowercase() == value.to_lowercase())
                    });
                    if matches {
                        out.push_str(&item_xml(resource, *id, fields, only.as_deref()));
                    }
                }
                out.push_str(&format!("</{}>", resource.plural));
                xml(StatusCode::OK, document(&out))
            }
        }
    };
    record(&inner, "GET", &uri, "", answer)
}

pub(super) async fn get_one(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    Path((name, id)): Path<(String, u64)>,
) -> Response {
    let answer = match admitted(&inner, &headers, &uri, &name) {
        Err(refused) => *refused,
        Ok(resource) => {
            let found = inner.store.lock().ok().and_then(|s| s.resources.get(resource.plural)?.get(&id).cloned());
            match found {
                Some(fields) => xml(StatusCode::OK, document(&item_xml(resource, id, &fields, None))),
                None => errors(StatusCode::NOT_FOUND, 87, &format!("{} #{id} does not exist", resource.class)),
            }
        }
    };
    record(&inner, "GET", &uri, "", answer)
}

/// A write (`POST` or `PUT`): the key admitted, the body parsed as the resource, then `apply` on the store.
fn write(
    inner: &Inner,
    method: &str,
    (headers, uri, name, body): (&HeaderMap, &Uri, &str, &str),
    apply: impl FnOnce(&'static Resource, &mut Store, Fields) -> Response,
) -> Response {
    let answer = match admitted(inner, headers, uri, name) {
        Err(refused) => *refused,
        Ok(resource) => write_to_store(inner, body, resource.singular, |store, fields| apply(resource, store, fields)),
    };
    record(inner, method, uri, body, answer)
}

pub(super) async fn create(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    Path(name): Path<String>,
    body: String,
) -> Response {
    write(&inner, "POST", (&headers, &uri, &name, &body), |resource, store, mut fields| {
        fields.remove("id");
        if let Err(message) = check(store, resource, &fields) {
            return errors(StatusCode::BAD_REQUEST, 85, &message);
        }
        store.next_resource += 1;
        let id = store.next_resource;
        store.resources.entry(resource.plural).or_default().insert(id, fields.clone());
        if resource.plural == "combinations" {
            let product = fields.get("id_product").and_then(|p| p.parse::<u64>().ok()).unwrap_or(0);
            store.add_stock_row(product, id);
        }
        xml(StatusCode::CREATED, document(&item_xml(resource, id, &fields, None)))
    })
}

pub(super) async fn update(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    Path((name, id)): Path<(String, u64)>,
    body: String,
) -> Response {
    write(&inner, "PUT", (&headers, &uri, &name, &body), |resource, store, mut fields| {
        if fields.remove("id") != Some(id.to_string()) {
            return errors(StatusCode::BAD_REQUEST, 90, "id is required when modifying a resource");
        }
        if !store.resources.get(resource.plural).is_some_and(|rows| rows.contains_key(&id)) {
            return errors(StatusCode::NOT_FOUND, 87, &format!("{} #{id} does not exist", resource.class));
        }
        if let Err(message) = check(store, resource, &fields) {
            return errors(StatusCode::BAD_REQUEST, 85, &message);
        }
        // A PUT replaces the resource: fields left out are emptied.
        store.resources.entry(resource.plural).or_default().insert(id, fields.clone());
        xml(StatusCode::OK, document(&item_xml(resource, id, &fields, None)))
    })
}

pub(super) async fn delete(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    Path((name, id)): Path<(String, u64)>,
) -> Response {
    let answer = match admitted(&inner, &headers, &uri, &name) {
        Err(refused) => *refused,
        Ok(resource) => match inner.store.lock() {
            Err(_) => errors(StatusCode::INTERNAL_SERVER_ERROR, 0, "lock"),
            Ok(mut store) => match store.resources.get_mut(resource.plural).and_then(|rows| rows.remove(&id)) {
                None => errors(StatusCode::NOT_FOUND, 87, &format!("{} #{id} does not exist", resource.class)),
                Some(fields) => {
                    if resource.plural == "combinations" {
                        let product = fields.get("id_product").and_then(|p| p.parse::<u64>().ok()).unwrap_or(0);
                        store.stock.retain(|_, (p, a, _)| !(*p == product && *a == id));
                        store.sum_combinations(product);
                    }
                    xml(StatusCode::OK, String::new())
                }
            },
        },
    };
    record(&inner, "DELETE", &uri, "", answer)
}
