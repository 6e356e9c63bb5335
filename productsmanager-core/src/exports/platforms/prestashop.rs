//! PrestaShop webservice (XML): a product is found by its `reference` (`GET /api/products?filter[reference]=[…]`),
//! then created (`POST /api/products`) or replaced (`PUT /api/products/{id}`), with the fields of the published
//! product resource (`reference` ≤ 64, `ean13`, `price` without tax, multilingual `name`, `description` and
//! `link_rewrite` in the shop's language 1, `active`, `state`); its stock is written on its `stock_availables` row
//! (`id_product_attribute` 0). The key is the Basic username with an empty password. Variants are combinations:
//! their axes are attribute groups (`product_options`) and values (`product_option_values`), found by name or
//! created once a run; each combination (found by `reference` under its product, else created) carries its price as
//! an impact on the product's (the lowest of its variants') and its stock on its own `stock_availables` row;
//! PrestaShop keeps the product's row as their sum. A combination of a variant removed here is deleted there.

use std::collections::HashMap;
use std::time::Duration;

use quick_xml::Writer;
use quick_xml::events::{BytesCData, BytesEnd, BytesStart, Event};
use tokio::sync::Mutex;
use url::Url;

use super::{
    ExportPlatform, PlatformError, PlatformProduct, PlatformVariant, PushOutcome, http_client, refusal,
    secure_endpoint, send,
};
use crate::catalog::{Availability, Money, ProductStatus};
use crate::exports::ExportError;
use crate::exports::feed::decimal;
use crate::net::OutboundPolicy;

const PLATFORM: &str = "PrestaShop";
/// The published limits of the product resource.
const MAX_REFERENCE: usize = 64;
const MAX_NAME: usize = 128;

pub(crate) struct PrestaShop {
    http: reqwest::Client,
    /// `…/api/`, ending with a slash.
    base: Url,
    key: String,
    /// Attribute group ids by name, and value ids by (group, value), as found or made during this run.
    groups: Mutex<HashMap<String, String>>,
    values: Mutex<HashMap<(String, String), String>>,
}

impl PrestaShop {
    pub fn new(endpoint: &str, key: &str, timeout: Duration, policy: &OutboundPolicy) -> Result<Self, ExportError> {
        let mut base = secure_endpoint(endpoint, "the webservice key goes over HTTPS only", policy)?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        if key.is_empty() {
            return Err(ExportError::invalid("credentials", "PrestaShop needs the webservice key"));
        }
        Ok(PrestaShop {
            http: http_client(timeout, policy)?,
            base,
            key: key.to_string(),
            groups: Mutex::default(),
            values: Mutex::default(),
        })
    }

    /// One call; a non-2xx answer is an error with PrestaShop's message.
    async fn call(&self, method: reqwest::Method, url: Url, body: Option<String>) -> Result<String, PlatformError> {
        let mut request = self.http.request(method, url.clone()).basic_auth(&self.key, Some(""));
        if let Some(body) = body {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/xml").body(body);
        }
        let (status, bytes) = send(PLATFORM, request, url.path()).await?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if status.is_success() {
            return Ok(text);
        }
        let message = elements(&text, "message").join("; ");
        let reason = format!("{} ({status}): {}", url.path(), if message.is_empty() { text.trim() } else { &message });
        Err(refusal(PLATFORM, status, reason))
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, PlatformError> {
        let mut url =
            self.base.join(path).map_err(|e| PlatformError::Refused { platform: PLATFORM, reason: e.to_string() })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// The id of the first `resource` matching these filters (`(field, value)`: `filter[field]=[value]`).
    async fn find_in(&self, resource: &str, filters: &[(&str, &str)]) -> Result<Option<String>, PlatformError> {
        let mut query: Vec<(String, String)> =
            filters.iter().map(|(field, value)| (format!("filter[{field}]"), format!("[{value}]"))).collect();
        query.push(("display".into(), "[id]".into()));
        let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let url = self.url(resource, &pairs)?;
        Ok(elements(&self.call(reqwest::Method::GET, url, None).await?, "id").into_iter().next())
    }

    /// The id of the product with this reference.
    async fn find(&self, reference: &str) -> Result<Option<String>, PlatformError> {
        self.find_in("products", &[("reference", reference)]).await
    }

    /// Creates (POST) or replaces (PUT, with `id`) a resource; its id.
    async fn write(&self, resource: &str, id: Option<&str>, body: String) -> Result<String, PlatformError> {
        let answer = match id {
            Some(id) => {
                self.call(reqwest::Method::PUT, self.url(&format!("{resource}/{id}"), &[])?, Some(body)).await?
            }
            None => self.call(reqwest::Method::POST, self.url(resource, &[])?, Some(body)).await?,
        };
        match id {
            Some(id) => Ok(id.to_string()),
            None => elements(&answer, "id").into_iter().next().ok_or_else(|| PlatformError::Refused {
                platform: PLATFORM,
                reason: format!("no id in PrestaShop's answer to a new {resource}"),
            }),
        }
    }

    /// The attribute group named `name` (found, or created as a drop-down list).
    async fn group_id(&self, name: &str) -> Result<String, PlatformError> {
        let mut groups = self.groups.lock().await;
        if let Some(id) = groups.get(name) {
            return Ok(id.clone());
        }
        let id = match self.find_in("product_options", &[("name", name)]).await? {
            Some(id) => id,
            None => {
                let label: String = name.chars().take(64).collect();
                let body = document("product_option", |xml| {
                    field(xml, "is_color_group", "0")?;
                    field(xml, "group_type", "select")?;
                    field_language(xml, "name", name)?;
                    field_language(xml, "public_name", &label)
                })
                .map_err(|e| PlatformError::Refused { platform: PLATFORM, reason: e.to_string() })?;
                self.write("product_options", None, body).await?
            }
        };
        groups.insert(name.to_string(), id.clone());
        Ok(id)
    }

    /// The value `value` of attribute group `group` (found, or created).
    async fn value_id(&self, group: &str, value: &str) -> Result<String, PlatformError> {
        let key = (group.to_string(), value.to_string());
        let mut values = self.values.lock().await;
        if let Some(id) = values.get(&key) {
            return Ok(id.clone());
        }
        let id = match self.find_in("product_option_values", &[("id_attribute_group", group), ("name", value)]).await? {
            Some(id) => id,
            None => {
                let body = document("product_option_value", |xml| {
                    field(xml, "id_attribute_group", group)?;
                    field_language(xml, "name", value)
                })
                .map_err(|e| PlatformError::Refused { platform: PLATFORM, reason: e.to_string() })?;
                self.write("product_option_values", None, body).await?
            }
        };
        values.insert(key, id.clone());
        Ok(id)
    }

    /// Sets the stock of a product (`combination` 0) or of one of its combinations on its `stock_availables` row.
    /// PrestaShop counts every stock: a product sold without one (in stock without a count, on backorder) allows
    /// orders when none are left (`out_of_stock` 1); others follow the shop's setting (2).
    async fn set_stock(
        &self,
        product: &str,
        combination: &str,
        (quantity, sold_as): (i64, Option<Availability>),
    ) -> Result<(), String> {
        let out_of_stock = match sold_as {
            Some(Availability::InStock | Availability::Backorder | Availability::Preorder) => "1",
            Some(Availability::OutOfStock) | None => "2",
        };
        let url = self
            .url(
                "stock_availables",
                &[
                    ("filter[id_product]", &format!("[{product}]")),
                    ("filter[id_product_attribute]", &format!("[{combination}]")),
                    ("display", "full"),
                ],
            )
            .map_err(|e| e.to_string())?;
        let listed = self.call(reqwest::Method::GET, url, None).await.map_err(|e| e.to_string())?;
        let Some(id) = elements(&listed, "id").into_iter().next() else {
            return Err(format!("product {product} has no stock row for {combination}"));
        };
        let body = document("stock_available", |xml| {
            field(xml, "id", &id)?;
            field(xml, "id_product", product)?;
            field(xml, "id_product_attribute", combination)?;
            field(xml, "quantity", &quantity.to_string())?;
            field(xml, "depends_on_stock", "0")?;
            field(xml, "out_of_stock", out_of_stock)
        })
        .map_err(|e| e.to_string())?;
        let url = self.url(&format!("stock_availables/{id}"), &[]).map_err(|e| e.to_string())?;
        self.call(reqwest::Method::PUT, url, Some(body)).await.map_err(|e| e.to_string())?;
        Ok(())
    }

    /// One variant as a combination of product `parent` (its price an impact on `base`); the combination's id.
    async fn push_combination(
        &self,
        product: &PlatformProduct,
        parent: &str,
        variant: &PlatformVariant,
        base: Option<&Money>,
    ) -> Result<String, String> {
        let refused = |e: PlatformError| e.to_string();
        if variant.key.chars().count() > MAX_REFERENCE {
            return Err(format!("reference {:?} is over {MAX_REFERENCE} characters", variant.key));
        }
        let mut values = Vec::with_capacity(product.axes.len());
        for axis in &product.axes {
            let Some(value) = variant.options.get(&axis.name) else { continue };
            let group = self.group_id(&axis.name).await.map_err(refused)?;
            values.push(self.value_id(&group, value).await.map_err(refused)?);
        }
        let id = match &variant.remote_id {
            Some(id) => Some(id.clone()),
            None => self
                .find_in("combinations", &[("id_product", parent), ("reference", &variant.key)])
                .await
                .map_err(refused)?,
        };
        let impact = match (&variant.price, base) {
            // The base is the lowest price: impacts are never negative.
            (Some(price), Some(base)) => decimal(&Money::new(price.amount_minor - base.amount_minor, price.currency)),
            _ => "0".to_string(),
        };
        let ean13 = variant.gtin.as_deref().filter(|g| g.len() <= 13).unwrap_or("");
        let body = document("combination", |xml| {
            if let Some(id) = &id {
                field(xml, "id", id)?;
            }
            field(xml, "id_product", parent)?;
            field(xml, "reference", &variant.key)?;
            field(xml, "ean13", ean13)?;
            field(xml, "price", &impact)?;
            field(xml, "minimal_quantity", "1")?;
            xml.write_event(Event::Start(BytesStart::new("associations")))?;
            xml.write_event(Event::Start(BytesStart::new("product_option_values")))?;
            for value in &values {
                xml.write_event(Event::Start(BytesStart::new("product_option_value")))?;
                field(xml, "id", value)?;
                xml.write_event(Event::End(BytesEnd::new("product_option_value")))?;
            }
            xml.write_event(Event::End(BytesEnd::new("product_option_values")))?;
            xml.write_event(Event::End(BytesEnd::new("associations")))
        })
        .map_err(|e| e.to_string())?;
        let id = self.write("combinations", id.as_deref(), body).await.map_err(refused)?;
        // A variant without a price, or not active, cannot be bought: no stock is offered.
        let sellable = variant.price.is_some() && variant.status == ProductStatus::Active;
        let stock = if sellable { (variant.stock, variant.sold_as) } else { (0, None) };
        self.set_stock(parent, &id, stock).await.map_err(|e| format!("stock: {e}"))?;
        Ok(id)
    }

    async fn push_one(&self, product: &PlatformProduct) -> Result<PushOutcome, PlatformError> {
        if product.key.chars().count() > MAX_REFERENCE {
            return Ok(PushOutcome::failed(
                None,
                format!("reference {:?} is over {MAX_REFERENCE} characters", product.key),
            ));
        }
        let remote_id = match &product.remote_id {
            Some(id) => Some(id.clone()),
            None => self.find(&product.key).await?,
        };
        // A product with combinations costs the lowest of their prices; each adds its difference.
        let base = product.variants.iter().filter_map(|v| v.price).min_by_key(|m| m.amount_minor);
        let body = match product_document(product, remote_id.as_deref(), base.as_ref()) {
            Ok(body) => body,
            Err(e) => return Ok(PushOutcome::failed(remote_id, e.to_string())),
        };
        let answer = match &remote_id {
            Some(id) => self.call(reqwest::Method::PUT, self.url(&format!("products/{id}"), &[])?, Some(body)).await,
            None => self.call(reqwest::Method::POST, self.url("products", &[])?, Some(body)).await,
        };
        let answer = match answer {
            Ok(answer) => answer,
            Err(PlatformError::Refused { reason, .. }) => return Ok(PushOutcome::failed(remote_id, reason)),
            Err(e) => return Err(e),
        };
        let Some(id) = remote_id.clone().or_else(|| elements(&answer, "id").into_iter().next()) else {
            return Ok(PushOutcome::failed(None, "no id in PrestaShop's answer"));
        };
        let mut outcome = PushOutcome {
            remote_id: Some(id.clone()),
            created: remote_id.is_none(),
            variant_ids: Vec::new(),
            error: None,
        };
        if product.variants.is_empty() {
            outcome.error =
                self.set_stock(&id, "0", (product.stock, product.sold_as)).await.err().map(|e| format!("stock: {e}"));
            return Ok(outcome);
        }
        // Combinations of variants removed here go first, so that their references are free.
        let mut errors = Vec::new();
        for (_, combination) in &product.removed_variants {
            let url = self.url(&format!("combinations/{combination}"), &[])?;
            match self.call(reqwest::Method::DELETE, url, None).await {
                Ok(_) => {}
                // Deleted in the shop already.
                Err(PlatformError::Refused { reason, .. }) if reason.contains("404") => {}
                Err(PlatformError::Refused { reason, .. }) => {
                    errors.push(format!("combination {combination}: {reason}"))
                }
                Err(unavailable) => return Err(unavailable),
            }
        }
        for variant in &product.variants {
            match self.push_combination(product, &id, variant, base.as_ref()).await {
                Ok(combination) => outcome.variant_ids.push((variant.product_id, combination)),
                Err(e) => errors.push(format!("combination {}: {e}", variant.key)),
            }
        }
        if !errors.is_empty() {
            outcome.error = Some(errors.join("; "));
        }
        Ok(outcome)
    }
}

#[async_trait::async_trait]
impl ExportPlatform for PrestaShop {
    fn max_batch(&self) -> usize {
        // The webservice writes one product per request.
        20
    }

    async fn push(&self, products: &[PlatformProduct]) -> Result<Vec<PushOutcome>, PlatformError> {
        let mut outcomes = Vec::with_capacity(products.len());
        for product in products {
            outcomes.push(self.push_one(product).await?);
        }
        Ok(outcomes)
    }
}

/// `<prestashop><{resource}>…</{resource}></prestashop>` with the fields `write` adds.
fn document(
    resource: &str,
    write: impl FnOnce(&mut Writer<Vec<u8>>) -> std::io::Result<()>,
) -> std::io::Result<String> {
    let mut xml = Writer::new(Vec::new());
    xml.write_event(Event::Start(
        BytesStart::new("prestashop").with_attributes([("xmlns:xlink", "http://www.w3.org/1999/xlink")]),
    ))?;
    xml.write_event(Event::Start(BytesStart::new(resource)))?;
    write(&mut xml)?;
    xml.write_event(Event::End(BytesEnd::new(resource)))?;
    xml.write_event(Event::End(BytesEnd::new("prestashop")))?;
    Ok(String::from_utf8_lossy(&xml.into_inner()).into_owned())
}

/// `<name><![CDATA[value]]></name>` (a `]]>` inside is split across two sections).
fn field(xml: &mut Writer<Vec<u8>>, name: &str, value: &str) -> std::io::Result<()> {
    xml.write_event(Event::Start(BytesStart::new(name)))?;
    for part in BytesCData::escaped(value) {
        xml.write_event(Event::CData(part))?;
    }
    xml.write_event(Event::End(BytesEnd::new(name)))
}

/// A multilingual field in language 1.
fn field_language(xml: &mut Writer<Vec<u8>>, name: &str, value: &str) -> std::io::Result<()> {
    xml.write_event(Event::Start(BytesStart::new(name)))?;
    xml.write_event(Event::Start(BytesStart::new("language").with_attributes([("id", "1")])))?;
    for part in BytesCData::escaped(value) {
        xml.write_event(Event::CData(part))?;
    }
    xml.write_event(Event::End(BytesEnd::new("language")))?;
    xml.write_event(Event::End(BytesEnd::new(name)))
}

/// The product resource; `base`: the price of a product with combinations (the lowest of theirs).
fn product_document(product: &PlatformProduct, id: Option<&str>, base: Option<&Money>) -> std::io::Result<String> {
    let price = match base {
        Some(base) => decimal(base),
        None => product.sale_price.as_ref().or(product.price.as_ref()).map(decimal).unwrap_or_else(|| "0".into()),
    };
    let ean13 = product.gtin.as_deref().filter(|g| g.len() <= 13).unwrap_or("");
    let name: String = product.title.chars().take(MAX_NAME).collect();
    let link = {
        let slug = slug::slugify(&product.title);
        if slug.is_empty() { "product".to_string() } else { slug.chars().take(128).collect() }
    };
    // Never on sale at 0: a product without a price stays inactive.
    let active = product.status == ProductStatus::Active && (product.price.is_some() || base.is_some());
    document("product", |xml| {
        if let Some(id) = id {
            field(xml, "id", id)?;
        }
        field(xml, "reference", &product.key)?;
        field(xml, "ean13", ean13)?;
        field(xml, "price", &price)?;
        field(xml, "active", if active { "1" } else { "0" })?;
        field(xml, "state", "1")?;
        field(xml, "available_for_order", "1")?;
        field(xml, "show_price", "1")?;
        field(xml, "minimal_quantity", "1")?;
        field_language(xml, "name", &name)?;
        field_language(xml, "description", product.description.as_deref().unwrap_or_default())?;
        field_language(xml, "link_rewrite", &link)
    })
}

/// The text of every `<name>` element (CDATA or text), in document order.
pub(crate) fn elements(xml: &str, name: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut found = Vec::new();
    let mut inside = false;
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) if start.name().as_ref() == name => {
                inside = true;
                text.clear();
            }
            Ok(Event::CData(data)) if inside => text.push_str(data.as_ref()),
            Ok(Event::Text(t)) if inside => text.push_str(&t.xml10_content()),
            // `&amp;` and the like come as events of their own.
            Ok(Event::GeneralRef(r)) if inside => {
                let entity = format!("&{};", AsRef::<str>::as_ref(&r));
                text.push_str(&quick_xml::escape::unescape(&entity).map(|c| c.into_owned()).unwrap_or(entity));
            }
            Ok(Event::End(end)) if inside && end.name().as_ref() == name => {
                inside = false;
                found.push(text.trim().to_string());
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_carry_cdata_and_languages() {
        let body = document("product", |xml| {
            field(xml, "reference", "A&B ]]> C")?;
            field_language(xml, "name", "Pot <large>")
        })
        .unwrap();
        assert!(body.starts_with("<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\"><product><reference>"));
        assert_eq!(elements(&body, "reference"), ["A&B ]]> C"]);
        assert_eq!(elements(&body, "language"), ["Pot <large>"]);
        assert!(
            PrestaShop::new(
                "http://shop.example/api",
                "KEY",
                Duration::from_secs(1),
                &OutboundPolicy::allowing_private()
            )
            .is_err()
        );
        assert!(
            PrestaShop::new(
                "https://shop.example/api",
                "",
                Duration::from_secs(1),
                &OutboundPolicy::allowing_private()
            )
            .is_err()
        );
    }
}
