//! `/console/products`: search with filters, a product's page, editing it and its prices.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use productsmanager_core::catalog::{
    Brand, ChangeKind, CurrencyCode, FieldProvenance, FieldSource, Money, NewPrice, Offer, Page, PriceType, Product,
    ProductChange, ProductMerge, ProductStatus, Supplier,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::is_htmx;
use super::layout::{self, Failure, Section, field};
use super::session::Client;

/// The filters of the product list, as the form sends them (an empty field is no filter). They go to the API as
/// they are: what it refuses is shown above the results.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct Filters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    brand_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    supplier_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    category_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    in_stock: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cursor: Option<String>,
}

impl Filters {
    fn parse(query: Option<&str>) -> Self {
        let mut filters: Filters = serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default();
        for value in [
            &mut filters.q,
            &mut filters.brand_id,
            &mut filters.supplier_id,
            &mut filters.category_id,
            &mut filters.status,
            &mut filters.in_stock,
            &mut filters.cursor,
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *value = None;
            }
        }
        filters
    }

    fn query(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }

    fn with_cursor(&self, cursor: Option<&str>) -> String {
        Filters { cursor: cursor.map(str::to_string), ..self.clone() }.query()
    }
}

/// The current price of `price_type`, shown as `12.99 EUR`.
fn price_of(product: &Product, price_type: PriceType) -> Option<Money> {
    product.prices.iter().find(|p| p.price_type == price_type).map(|p| p.amount)
}

fn select(name: &str, label: &str, current: Option<&str>, options: &[(String, String)]) -> Markup {
    html! {
        div.field {
            label for=(name) { (label) }
            select id=(name) name=(name) {
                option value="" { "Any" }
                @for (value, text) in options {
                    option value=(value) selected[current == Some(value.as_str())] { (text) }
                }
            }
        }
    }
}

fn results(filters: &Filters, page: Result<Page<Product>, Failure>) -> Markup {
    let page = match page {
        Ok(page) => page,
        Err(failure) => return failure.banner(),
    };
    html! {
        @if page.items.is_empty() {
            p.note { "No product matches." }
        } @else {
            div.table-scroll {
                table #product-table {
                    thead { tr { th { "Title" } th { "SKU" } th { "GTIN" } th { "Status" } th.num { "Retail price" }
                        th.num { "Stock" } } }
                    tbody {
                        @for product in &page.items {
                            tr {
                                td { a href={ "/console/products/" (product.id) } { (product.title) } }
                                td { (product.sku.as_ref().map_or("", |s| s.as_str())) }
                                td { (product.gtin.as_ref().map(ToString::to_string).unwrap_or_default()) }
                                td { span.badge.(product.status.as_str()) { (product.status) } }
                                td.num { (price_of(product, PriceType::Retail).map(|m| m.to_string()).unwrap_or_default()) }
                                td.num { (product.stock.available) }
                            }
                        }
                    }
                }
            }
        }
        nav.pages aria-label="Pages" {
            @if filters.cursor.is_some() { a href={ "/console/products?" (filters.with_cursor(None)) } { "First page" } }
            @if let Some(next) = &page.next_cursor {
                a href={ "/console/products?" (filters.with_cursor(Some(next))) } rel="next" { "Next page" }
            }
        }
    }
}

/// `GET /console/products`: the whole page, or (for htmx, as the user types) only the results.
pub(crate) async fn list(Client(api): Client, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let filters = Filters::parse(query.as_deref());
    let page = api.get::<Page<Product>>(&format!("/api/v1/products?{}", filters.query())).await.map_err(Failure::from);
    if is_htmx(&headers) {
        return results(&filters, page).into_response();
    }
    let (brands, suppliers, categories) = tokio::join!(
        api.get::<Page<Brand>>("/api/v1/brands?limit=500"),
        api.get::<Page<Supplier>>("/api/v1/suppliers?limit=500"),
        category_choices(&api),
    );
    let categories: Vec<(String, String)> =
        categories.into_iter().map(|c| (c.id.to_string(), format!("{}{}", "— ".repeat(c.depth), c.name))).collect();
    let brands: Vec<(String, String)> =
        brands.map(|p| p.items).unwrap_or_default().into_iter().map(|b| (b.id.to_string(), b.name)).collect();
    let suppliers: Vec<(String, String)> =
        suppliers.map(|p| p.items).unwrap_or_default().into_iter().map(|s| (s.id.to_string(), s.name)).collect();
    let statuses: Vec<(String, String)> = [ProductStatus::Draft, ProductStatus::Active, ProductStatus::Archived]
        .into_iter()
        .map(|s| (s.as_str().to_string(), s.as_str().to_string()))
        .collect();
    let stock = [("true".to_string(), "In stock".to_string()), ("false".to_string(), "Out of stock".to_string())];
    layout::page(
        "Products",
        Some(Section::Products),
        html! {
            h1 { "Products" }
            p { a #duplicates-link href="/console/products/duplicates" { "Probable duplicates" } }
            form.filters role="search" method="get" action="/console/products" hx-get="/console/products"
                hx-target="#results" hx-trigger="input delay:300ms, change, submit" hx-replace-url="true" {
                div.field.search {
                    label for="q" { "Search" }
                    input #q type="search" name="q" value=(filters.q.as_deref().unwrap_or(""))
                        placeholder="Title, SKU, GTIN, brand…" autocomplete="off" autofocus;
                }
                (select("brand_id", "Brand", filters.brand_id.as_deref(), &brands))
                (select("supplier_id", "Supplier", filters.supplier_id.as_deref(), &suppliers))
                (select("category_id", "Category", filters.category_id.as_deref(), &categories))
                (select("status", "Status", filters.status.as_deref(), &statuses))
                (select("in_stock", "Stock", filters.in_stock.as_deref(), &stock))
                button type="submit" { "Search" }
            }
            div #results aria-live="polite" { (results(&filters, page)) }
        },
    )
    .into_response()
}

/// The edit form's fields, as posted: each with the value the page showed (`*_was`), so only what the user
/// changed is sent (a field left alone is never overwritten with an older value).
#[derive(Debug, Deserialize)]
pub(crate) struct ProductForm {
    title: String,
    title_was: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    description_was: String,
    status: String,
    status_was: String,
    #[serde(default)]
    sku: String,
    #[serde(default)]
    sku_was: String,
    #[serde(default)]
    gtin: String,
    #[serde(default)]
    gtin_was: String,
    version: i32,
}

impl ProductForm {
    /// The API's patch: the changed fields (an emptied optional one as `null`, which clears it) and the version.
    fn patch(&self) -> serde_json::Value {
        let mut patch = serde_json::Map::new();
        let fields = [
            ("title", &self.title, &self.title_was),
            ("description", &self.description, &self.description_was),
            ("status", &self.status, &self.status_was),
            ("sku", &self.sku, &self.sku_was),
            ("gtin", &self.gtin, &self.gtin_was),
        ];
        for (name, now, was) in fields {
            if now.trim() != was.trim() {
                let value = if now.trim().is_empty() { serde_json::Value::Null } else { now.trim().into() };
                patch.insert(name.to_string(), value);
            }
        }
        patch.insert("version".to_string(), self.version.into());
        serde_json::Value::Object(patch)
    }
}

/// The price form's fields, as posted.
#[derive(Debug, Deserialize)]
pub(crate) struct PriceForm {
    price_type: String,
    amount: String,
    currency: String,
}

/// The stock form, as posted: the quantity on hand at the default location.
#[derive(Debug, Deserialize)]
pub(crate) struct StockForm {
    quantity: String,
}

fn stock_form(product: &Product, attempt: &Attempt) -> Markup {
    let failure = attempt.stock_failure.as_ref();
    let typed = attempt.stock.as_ref().map(|f| f.quantity.clone());
    let quantity = typed.unwrap_or_else(|| product.stock.quantity.to_string());
    html! {
        form #set-stock method="post" action={ "/console/products/" (product.id) "/stock" } {
            @if let Some(failure) = failure.filter(|f| f.field.as_deref() != Some("quantity")) { (failure.banner()) }
            (field("On hand", "quantity", &quantity, "text", failure))
            button type="submit" { "Set stock" }
        }
    }
}

/// `POST /console/products/{id}/stock`: the quantity on hand at the default location.
pub(crate) async fn set_stock(
    Client(api): Client,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<StockForm>,
) -> Response {
    // A whole number goes as a number; anything else as typed, for the API to name what is wrong with it.
    let quantity =
        form.quantity.trim().parse::<i64>().map_or_else(|_| serde_json::json!(form.quantity), |n| serde_json::json!(n));
    let body = serde_json::json!({ "product_id": id, "quantity": quantity });
    match api.call(Method::PUT, "/api/v1/stock", &body, HeaderMap::new()).await {
        Ok(_) => layout::see_other(&format!("/console/products/{id}?saved=stock")),
        Err(failure) => {
            respond(&api, &id, Attempt { stock: Some(form), stock_failure: Some(failure.into()), ..Attempt::default() })
                .await
        }
    }
}

/// What the product page shows besides the product: what the user typed and the API refused.
#[derive(Debug, Default)]
struct Attempt {
    edit: Option<ProductForm>,
    edit_failure: Option<Failure>,
    price: Option<PriceForm>,
    price_failure: Option<Failure>,
    image_failure: Option<Failure>,
    stock: Option<StockForm>,
    stock_failure: Option<Failure>,
    provenance_failure: Option<Failure>,
    saved: Option<&'static str>,
}

/// Where a value came from, as a sentence: "from ACME, import of 6 Dec 2026".
fn source_text(field: &FieldProvenance) -> String {
    source_sentence(field.source, field.source_name.as_deref(), field.set_at)
}

/// A source as a sentence: "from ACME, import of 6 Dec 2026", "set by a person, 6 Dec 2026".
fn source_sentence(source: FieldSource, name: Option<&str>, at: chrono::DateTime<chrono::Utc>) -> String {
    let when = at.format("%-d %b %Y").to_string();
    match source {
        FieldSource::Supplier { job_id: Some(_), .. } => {
            format!("from {}, import of {when}", name.unwrap_or("a supplier"))
        }
        FieldSource::Supplier { .. } => format!("from {}, {when}", name.unwrap_or("a supplier")),
        FieldSource::User { .. } => format!("set by a person, {when}"),
        FieldSource::Platform { .. } => format!("from a sales platform, {when}"),
        FieldSource::Code2Asin { .. } => format!("from Amazon (Code2ASIN), {when}"),
        FieldSource::FollowSuppliers => "follows the suppliers: the next supplier file sets it".to_string(),
        FieldSource::Unknown => "set before the catalog kept sources".to_string(),
    }
}

/// The latest changes of the product's fields, newest first, each with its source.
fn history_section(changes: Result<Vec<ProductChange>, Failure>) -> Markup {
    html! {
        section aria-labelledby="history" {
            h2 #history { "History" }
            @match changes {
                Err(failure) => (failure.banner()),
                Ok(changes) if changes.is_empty() => p.note { "No change since it was created." },
                Ok(changes) => div.table-scroll {
                    table #history-table {
                        thead { tr { th { "When" } th { "Field" } th { "Change" } th { "By" } } }
                        tbody {
                            @for change in &changes {
                                tr data-field=(change.field) {
                                    td { (change.changed_at.format("%Y-%m-%d %H:%M")) }
                                    td { code { (change.field) } }
                                    td {
                                        @match change.change {
                                            ChangeKind::Set => {
                                                @if let Some(before) = &change.previous { (before) " → " }
                                                (change.value.as_deref().unwrap_or("(empty)"))
                                            }
                                            ChangeKind::Lock => "locked",
                                            ChangeKind::Unlock => "unlocked",
                                            ChangeKind::FollowSuppliers => "released to the suppliers",
                                            ChangeKind::Merge => { "merged in: " (change.value.as_deref().unwrap_or("")) }
                                            ChangeKind::Unmerge => { "merge undone: " (change.value.as_deref().unwrap_or("")) }
                                            ChangeKind::Add => { "added: " (change.value.as_deref().unwrap_or("")) }
                                            ChangeKind::Remove => { "removed: " (change.value.as_deref().unwrap_or("")) }
                                        }
                                    }
                                    td { (source_sentence(change.source, change.source_name.as_deref(), change.changed_at)) }
                                }
                            }
                        }
                    }
                },
            }
        }
    }
}

/// Each field's source, with its lock and, for a person's value, the way back to the suppliers' values.
fn provenance_section(id: Uuid, fields: Result<Vec<FieldProvenance>, Failure>, failure: Option<&Failure>) -> Markup {
    html! {
        section aria-labelledby="provenance" {
            h2 #provenance { "Where the values come from" }
            p.note { "A value a person set stays when supplier files come in, until it follows the suppliers again; a locked value changes only once unlocked." }
            @if let Some(failure) = failure { (failure.banner()) }
            @match fields {
                Err(failure) => (failure.banner()),
                Ok(fields) => div.table-scroll {
                    table #provenance-table {
                        thead { tr { th { "Field" } th { "Value from" } th { "Rule" } } }
                        tbody {
                            @for field in &fields {
                                tr data-field=(field.field) {
                                    td { code { (field.field) } }
                                    td { (source_text(field)) @if field.locked { " " span.badge { "locked" } } }
                                    td {
                                        // A category link or an image URL takes the rule of its collection.
                                        @let rule_field = field.rule_field();
                                        @let member = rule_field != field.field;
                                        form method="post" action={ "/console/products/" (id) "/provenance" } {
                                            input type="hidden" name="field" value=(rule_field);
                                            @if field.locked {
                                                button type="submit" name="action" value="unlock" { "Unlock" @if member { " all " (rule_field) } }
                                            } @else {
                                                button type="submit" name="action" value="lock" { "Lock" @if member { " all " (rule_field) } }
                                            }
                                            @if !member && matches!(field.source, FieldSource::User { .. }) {
                                                " " button type="submit" name="action" value="follow_suppliers" { "Follow suppliers" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                },
            }
        }
    }
}

/// The provenance form, as posted.
#[derive(Debug, Deserialize)]
pub(crate) struct FieldRuleForm {
    field: String,
    action: String,
}

/// `POST /console/products/{id}/provenance`: lock, unlock or release one field.
pub(crate) async fn set_field_rule(
    Client(api): Client,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<FieldRuleForm>,
) -> Response {
    // The field goes into the API's path as one segment, encoded; the API says whether it names a field.
    let field: String = form_urlencoded::byte_serialize(form.field.as_bytes()).collect();
    let path = format!("/api/v1/products/{id}/provenance/{field}");
    let body = serde_json::json!({ "action": form.action });
    match api.call(Method::PUT, &path, &body, HeaderMap::new()).await {
        Ok(_) => layout::see_other(&format!("/console/products/{id}?saved=provenance#provenance")),
        Err(failure) => {
            respond(&api, &id, Attempt { provenance_failure: Some(failure.into()), ..Attempt::default() }).await
        }
    }
}

fn edit_form(product: &Product, attempt: &Attempt) -> Markup {
    let typed = attempt.edit.as_ref();
    let failure = attempt.edit_failure.as_ref();
    let stale = failure.is_some_and(Failure::is_stale_version);
    let title = typed.map_or(product.title.as_str(), |f| f.title.as_str());
    let description = typed.map_or(product.description.as_deref().unwrap_or(""), |f| f.description.as_str());
    let sku = typed.map_or(product.sku.as_ref().map_or("", |s| s.as_str()), |f| f.sku.as_str());
    let gtin_stored = product.gtin.as_ref().map(ToString::to_string).unwrap_or_default();
    let gtin = typed.map_or(gtin_stored.as_str(), |f| f.gtin.as_str());
    let status = typed.map_or(product.status.as_str(), |f| f.status.as_str());
    html! {
        form #edit method="post" action={ "/console/products/" (product.id) } {
            @if stale {
                div.problem role="alert" {
                    strong { "Someone else changed this product since you opened it." }
                    " Your changes were not saved; they are still in the form below. The values shown elsewhere on "
                    "this page are the current ones (version " (product.version) "): check them, then save again."
                }
            } @else if let Some(failure) = failure {
                @if failure.field.as_deref().is_none_or(|f| !["title", "description", "status", "sku", "gtin"].contains(&f)) {
                    (failure.banner())
                }
            }
            input type="hidden" name="version" value=(product.version);
            input type="hidden" name="title_was" value=(product.title);
            input type="hidden" name="description_was" value=(product.description.as_deref().unwrap_or(""));
            input type="hidden" name="status_was" value=(product.status.as_str());
            input type="hidden" name="sku_was" value=(product.sku.as_ref().map_or("", |s| s.as_str()));
            input type="hidden" name="gtin_was" value=(gtin_stored);
            (field("Title", "title", title, "text", failure))
            div.field {
                label for="description" { "Description" }
                textarea #description name="description" rows="4" { (description) }
                @if let Some(message) = failure.and_then(|f| f.about("description")) { span.field-error { (message) } }
            }
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    @for option in [ProductStatus::Draft, ProductStatus::Active, ProductStatus::Archived] {
                        option value=(option.as_str()) selected[status == option.as_str()] { (option.as_str()) }
                    }
                }
            }
            (field("SKU", "sku", sku, "text", failure))
            (field("GTIN", "gtin", gtin, "text", failure))
            button type="submit" { "Save" }
        }
    }
}

fn price_form(product: &Product, attempt: &Attempt) -> Markup {
    let typed = attempt.price.as_ref();
    let failure = attempt.price_failure.as_ref();
    let current = price_of(product, PriceType::Retail);
    let default_currency = current.map_or("EUR", |m| m.currency.as_str());
    let amount = typed.map(|f| f.amount.clone()).unwrap_or_default();
    let currency = typed.map_or(default_currency, |f| f.currency.as_str());
    let price_type = typed.map_or("retail", |f| f.price_type.as_str());
    html! {
        form #set-price method="post" action={ "/console/products/" (product.id) "/prices" } {
            @if let Some(failure) = failure {
                @if failure.field.as_deref().is_none_or(|f| !["amount", "currency", "price_type"].contains(&f)) {
                    (failure.banner())
                }
            }
            div.field {
                label for="price_type" { "Price" }
                select #price_type name="price_type" {
                    @for option in [PriceType::Retail, PriceType::Sale, PriceType::Msrp, PriceType::Purchase] {
                        option value=(option.as_str()) selected[price_type == option.as_str()] { (option.as_str()) }
                    }
                }
            }
            (field("Amount", "amount", &amount, "text", failure))
            (field("Currency", "currency", currency, "text", failure))
            button type="submit" { "Set price" }
        }
    }
}

async fn product_page(api: &super::client::Api, id: &str, attempt: Attempt) -> Result<Markup, Failure> {
    let product: Product = api.get(&format!("/api/v1/products/{id}")).await?;
    let offers_path = format!("/api/v1/products/{}/offers", product.id);
    let (seo_path, variants_path) =
        (format!("/api/v1/products/{}/seo", product.id), format!("/api/v1/products/{}/variants", product.id));
    let provenance_path = format!("/api/v1/products/{}/provenance", product.id);
    let merges_path = format!("/api/v1/product-merges?product={}&limit=20", product.id);
    let history_path = format!("/api/v1/products/{}/history?limit=20", product.id);
    let (offers, suppliers, images, categories, seo, variants, choices, provenance, merges, history) = tokio::join!(
        api.get::<Vec<Offer>>(&offers_path),
        api.get::<Page<Supplier>>("/api/v1/suppliers?limit=500"),
        super::media::images_of(api, product.id),
        category_trails(api, product.id),
        api.get::<Vec<SeoView>>(&seo_path),
        api.get::<Vec<VariantView>>(&variants_path),
        category_choices(api),
        api.get::<Vec<FieldProvenance>>(&provenance_path),
        api.get::<Vec<ProductMerge>>(&merges_path),
        api.get::<Vec<ProductChange>>(&history_path),
    );
    let offers = offers.unwrap_or_default();
    let suppliers: HashMap<Uuid, String> =
        suppliers.map(|p| p.items).unwrap_or_default().into_iter().map(|s| (s.id, s.name)).collect();
    let best = product.best_offer.as_ref().map(|o| o.id);
    Ok(layout::page(
        &product.title,
        Some(Section::Products),
        html! {
            p { a href="/console/products" { "← Products" } }
            h1 { (product.title) }
            @if product.id.to_string() != id.trim() && id.parse::<Uuid>().is_ok() {
                p #merged-away.note role="status" { "The product " code { (id) } " was merged into this one." }
            }
            @if let Some(saved) = attempt.saved { p.saved role="status" { (saved) } }
            div.columns {
                section aria-labelledby="details" {
                    h2 #details { "Details" }
                    (edit_form(&product, &attempt))
                }
                section aria-labelledby="prices" {
                    h2 #prices { "Prices" }
                    @if product.prices.is_empty() { p.note { "No price yet." } } @else {
                        table #price-table {
                            thead { tr { th { "Type" } th.num { "Amount" } th { "Valid" } } }
                            tbody {
                                @for price in &product.prices {
                                    tr {
                                        td { (price.price_type) }
                                        td.num { (price.amount) }
                                        td { (price.valid_from.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "always".into()))
                                            @if let Some(to) = price.valid_to { " to " (to.format("%Y-%m-%d")) } }
                                    }
                                }
                            }
                        }
                    }
                    (price_form(&product, &attempt))
                    h2 { "Stock" }
                    p #stock { (product.stock.available) " available (" (product.stock.quantity) " on hand, "
                        (product.stock.reserved) " reserved)" }
                    @if let Some(stated) = product.availability {
                        p #availability { "Stated by its source: " (stated.as_str().replace('_', " "))
                            " (what buyers are told when no stock is counted; a count comes first)" }
                    }
                    (stock_form(&product, &attempt))
                }
            }
            (super::media::section(product.id, images.map_err(Failure::from), attempt.image_failure.as_ref()))
            section aria-labelledby="offers" {
                h2 #offers { "Supplier offers" }
                @if offers.is_empty() { p.note { "No supplier offers this product." } } @else {
                    div.table-scroll {
                        table {
                            thead { tr { th { "Supplier" } th { "Supplier SKU" } th.num { "Cost" } th.num { "Stock" }
                                th.num { "Lead time" } th { "Available" } th { "Its values the product kept out" } } }
                            tbody {
                                @for offer in &offers {
                                    tr.best[best == Some(offer.id)] {
                                        td { (suppliers.get(&offer.supplier_id).map_or("–", String::as_str))
                                            @if best == Some(offer.id) { " " span.badge.best { "best offer" } } }
                                        td { (offer.supplier_sku) }
                                        td.num { (offer.cost.map(|m| m.to_string()).unwrap_or_default()) }
                                        td.num { (offer.stock.map(|s| s.to_string()).unwrap_or_default()) }
                                        td.num { (offer.lead_time_days.map(|d| format!("{d} d")).unwrap_or_default()) }
                                        td { (if offer.is_available { "yes" } else { "no" }) }
                                        td.not-taken {
                                            @for (field, value) in &offer.not_taken {
                                                code { (field) } ": " (value) br;
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (provenance_section(product.id, provenance.map_err(Failure::from), attempt.provenance_failure.as_ref()))
            (history_section(history.map_err(Failure::from)))
            (super::merges::section(product.id, merges.map_err(Failure::from)))
            (relations(product.id, categories, &choices, seo.map_err(Failure::from), variants.map_err(Failure::from)))
            section aria-labelledby="attributes" {
                h2 #attributes { "Attributes" }
                @if product.attributes.is_empty() { p.note { "No attributes." } } @else {
                    dl.attributes {
                        @for attribute in &product.attributes {
                            div { dt { (attribute.name) } dd { (serde_json::to_value(&attribute.value).ok()
                                .and_then(|v| v.get("value").or_else(|| v.get("values")).map(|v| match v {
                                    serde_json::Value::String(s) => s.clone(),
                                    other => other.to_string(),
                                })).unwrap_or_default()) } }
                        }
                    }
                }
            }
        },
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ShowQuery {
    /// Set by the redirect after a form was saved: which one.
    #[serde(default)]
    saved: Option<String>,
}

/// A category of the product, as the API answers it (the fields shown).
#[derive(Debug, Deserialize)]
struct CategoryView {
    id: Uuid,
    name: String,
}

/// A category of the tree, with its subtree (for the add-to-category choice).
#[derive(Debug, Deserialize)]
struct CategoryNodeView {
    id: Uuid,
    name: String,
    children: Vec<CategoryNodeView>,
}

/// A category the product could be put in, with its depth in the tree.
#[derive(Debug)]
struct Choice {
    id: Uuid,
    name: String,
    depth: usize,
}

/// A category the product is in, with its names from the root.
#[derive(Debug)]
struct Trail {
    id: Uuid,
    names: String,
}

/// The default taxonomy's categories in tree order, each with its depth.
async fn category_choices(api: &super::client::Api) -> Vec<Choice> {
    fn walk(nodes: &[CategoryNodeView], depth: usize, out: &mut Vec<Choice>) {
        for node in nodes {
            out.push(Choice { id: node.id, name: node.name.clone(), depth });
            walk(&node.children, depth + 1, out);
        }
    }
    let mut choices = Vec::new();
    if let Ok(tree) = api.get::<Vec<CategoryNodeView>>("/api/v1/categories").await {
        walk(&tree, 0, &mut choices);
    }
    choices
}

/// Each category of the product as its names from the root (`Garden > Pots`).
async fn category_trails(api: &super::client::Api, product: Uuid) -> Result<Vec<Trail>, Failure> {
    let categories: Vec<CategoryView> = api.get(&format!("/api/v1/products/{product}/categories")).await?;
    let mut trails = Vec::with_capacity(categories.len());
    for category in categories {
        let path = format!("/api/v1/categories/{}/breadcrumbs", category.id);
        let trail = match api.get::<Vec<CategoryView>>(&path).await {
            Ok(crumbs) => crumbs.into_iter().map(|c| c.name).collect::<Vec<_>>().join(" > "),
            Err(_) => category.name,
        };
        trails.push(Trail { id: category.id, names: trail });
    }
    Ok(trails)
}

/// The product's SEO metadata in one locale.
#[derive(Debug, Deserialize)]
struct SeoView {
    locale: String,
    slug: String,
    meta_title: Option<String>,
    meta_description: Option<String>,
}

/// A variant of the product (when it is a parent).
#[derive(Debug, Deserialize)]
struct VariantView {
    product_id: Uuid,
    options: std::collections::BTreeMap<String, String>,
}

/// Categories, SEO per locale and variants; each part shows the API's refusal in its place.
fn relations(
    product: Uuid,
    categories: Result<Vec<Trail>, Failure>,
    choices: &[Choice],
    seo: Result<Vec<SeoView>, Failure>,
    variants: Result<Vec<VariantView>, Failure>,
) -> Markup {
    html! {
        section aria-labelledby="categories" {
            h2 #categories { "Categories" }
            @match categories {
                Err(failure) => (failure.banner()),
                Ok(categories) if categories.is_empty() => p.note { "In no category." },
                Ok(trails) => ul #category-list { @for trail in &trails { li {
                    (trail.names) " "
                    form.inline method="post" action={ "/console/products/" (product) "/categories/" (trail.id) "/remove" } {
                        button.link type="submit" { "Remove" }
                    }
                } } },
            }
            @if !choices.is_empty() {
                form #add-category method="post" action={ "/console/products/" (product) "/categories" } {
                    div.field {
                        label for="category_id" { "Add to category" }
                        select #category_id name="category_id" {
                            @for choice in choices { option value=(choice.id) { ("— ".repeat(choice.depth)) (choice.name) } }
                        }
                    }
                    button type="submit" { "Add" }
                }
            }
            h2 { "SEO" }
            @match seo {
                Err(failure) => (failure.banner()),
                Ok(entries) if entries.is_empty() => p.note { "No SEO metadata." },
                Ok(entries) => div.table-scroll { table {
                    thead { tr { th { "Locale" } th { "Slug" } th { "Title" } th { "Description" } } }
                    tbody { @for entry in &entries { tr { td { (entry.locale) } td { (entry.slug) }
                        td { (entry.meta_title.as_deref().unwrap_or("")) } td { (entry.meta_description.as_deref().unwrap_or("")) } } } }
                } },
            }
            @match variants {
                Err(failure) => { h2 { "Variants" } (failure.banner()) },
                Ok(variants) if variants.is_empty() => {},
                Ok(variants) => {
                    h2 { "Variants" }
                    ul #variants { @for variant in &variants {
                        li { a href={ "/console/products/" (variant.product_id) } {
                            (variant.options.iter().map(|(axis, value)| format!("{axis}: {value}")).collect::<Vec<_>>().join(", "))
                        } }
                    } }
                },
            }
        }
    }
}

/// `GET /console/products/{id}`.
pub(crate) async fn show(
    Client(api): Client,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<ShowQuery>,
) -> Result<Markup, Failure> {
    let saved = match query.saved.as_deref() {
        Some("details") => Some("Saved."),
        Some("price") => Some("Price saved."),
        Some("stock") => Some("Stock saved."),
        Some("provenance") => Some("Rule saved."),
        Some("merged") => Some("Merged: what moved is listed under “Merged into this product”."),
        Some("unmerged") => Some("Merge undone: this product is itself again."),
        _ => None,
    };
    product_page(&api, &id, Attempt { saved, ..Attempt::default() }).await
}

/// `POST /console/products/{id}`: the edit form as a patch with the version read (optimistic locking). A refusal
/// shows the page again with what was typed and the API's message next to its field.
pub(crate) async fn edit(
    Client(api): Client,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ProductForm>,
) -> Response {
    let result = api.call(Method::PATCH, &format!("/api/v1/products/{id}"), &form.patch(), HeaderMap::new()).await;
    match result {
        Ok(_) => layout::see_other(&format!("/console/products/{id}?saved=details")),
        Err(failure) => {
            respond(&api, &id, Attempt { edit: Some(form), edit_failure: Some(failure.into()), ..Attempt::default() })
                .await
        }
    }
}

/// `POST /console/products/{id}/prices`: sets the price of a type (the amount read in the currency's decimals).
pub(crate) async fn set_price(
    Client(api): Client,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<PriceForm>,
) -> Response {
    let result = async {
        let product_id = Uuid::parse_str(&id).map_err(|_| Failure::invalid("id", "not a product id"))?;
        let price_type: PriceType = form.price_type.parse().map_err(productsmanager_core::Error::from)?;
        let currency =
            CurrencyCode::parse_field("currency", &form.currency).map_err(productsmanager_core::Error::from)?;
        let amount = currency.minor_units("amount", &form.amount).map_err(productsmanager_core::Error::from)?;
        let price =
            NewPrice { product_id, price_type, amount: Money::new(amount, currency), valid_from: None, valid_to: None };
        api.call(Method::POST, "/api/v1/prices", &price, HeaderMap::new()).await.map_err(Failure::from)
    }
    .await;
    match result {
        Ok(_) => layout::see_other(&format!("/console/products/{id}?saved=price")),
        Err(failure) => {
            respond(&api, &id, Attempt { price: Some(form), price_failure: Some(failure), ..Attempt::default() }).await
        }
    }
}

/// The product page again after a refused form, with the refusal's status and the form as typed.
async fn respond(api: &super::client::Api, id: &str, attempt: Attempt) -> Response {
    let status = attempt
        .edit_failure
        .as_ref()
        .or(attempt.price_failure.as_ref())
        .or(attempt.image_failure.as_ref())
        .or(attempt.stock_failure.as_ref())
        .or(attempt.provenance_failure.as_ref())
        .map_or(StatusCode::UNPROCESSABLE_ENTITY, |failure| failure.status);
    match product_page(api, id, attempt).await {
        Ok(page) => (status, page).into_response(),
        Err(failure) => failure.into_response(),
    }
}

/// The product page again after an image action the API refused, with its reason above the images.
pub(crate) async fn with_image_failure(api: &super::client::Api, id: &str, failure: Failure) -> Response {
    respond(api, id, Attempt { image_failure: Some(failure), ..Attempt::default() }).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct CategoryForm {
    category_id: String,
}

/// `POST /console/products/{id}/categories`: puts the product in a category.
pub(crate) async fn add_category(
    Client(api): Client,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<CategoryForm>,
) -> Response {
    let path = format!("/api/v1/products/{id}/categories/{}", form.category_id);
    category_change(&api, &id, api.send(Method::PUT, &path, HeaderMap::new(), axum::body::Body::empty()).await).await
}

/// `POST /console/products/{id}/categories/{category}/remove`: takes the product out of a category.
pub(crate) async fn remove_category(Client(api): Client, Path((id, category)): Path<(String, String)>) -> Response {
    let path = format!("/api/v1/products/{id}/categories/{category}");
    category_change(&api, &id, api.send(Method::DELETE, &path, HeaderMap::new(), axum::body::Body::empty()).await).await
}

async fn category_change(
    api: &super::client::Api,
    id: &str,
    result: Result<super::client::Answer, super::client::ApiFailure>,
) -> Response {
    match result {
        Ok(_) => layout::see_other(&format!("/console/products/{id}#categories")),
        Err(failure) => respond(api, id, Attempt { edit_failure: Some(failure.into()), ..Attempt::default() }).await,
    }
}
