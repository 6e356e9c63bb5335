//! Google Merchant Center feeds: RSS 2.0 with the `g:` namespace, and the tab-separated form. Each sellable
//! product is one item; a product with variants is not an item itself, its variants are, grouped by
//! `item_group_id`. A product without a price is left out (Google refuses an item without one).

use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::{FeedItem, FeedWriter, attribute_text};
use crate::exports::model::ChannelSettings;

/// Google's limits (characters) on the text attributes we send.
const MAX_ID: usize = 50;
const MAX_TITLE: usize = 150;
const MAX_DESCRIPTION: usize = 5000;
/// At most ten additional images.
const MAX_ADDITIONAL_IMAGES: usize = 10;

/// The attributes of one item, in the order they are written, `(name, value)`; additional images repeat.
fn attributes(item: &FeedItem<'_>, settings: &ChannelSettings) -> Option<Vec<(&'static str, String)>> {
    let price = item.price.as_ref()?;
    let product = item.product();
    let mut out: Vec<(&'static str, String)> = Vec::with_capacity(20);
    out.push(("id", truncated(&item.key, MAX_ID)));
    if let Some(parent) = &item.parent_key {
        out.push(("item_group_id", truncated(parent, MAX_ID)));
    }
    out.push(("title", truncated(&item.title, MAX_TITLE)));
    out.push(("description", truncated(item.description.as_deref().unwrap_or(&item.title), MAX_DESCRIPTION)));
    if let Some(template) = &settings.link_template {
        out.push(("link", template.replace("{key}", &urlencoded(&item.key)).replace("{id}", &product.id.to_string())));
    }
    let mut images = item.record.image_urls.iter();
    if let Some(main) = images.next() {
        out.push(("image_link", main.clone()));
    }
    for url in images.take(MAX_ADDITIONAL_IMAGES) {
        out.push(("additional_image_link", url.clone()));
    }
    out.push(("availability", item.availability.as_str().to_string()));
    out.push(("price", price.to_string()));
    if let Some(sale) = &item.sale_price {
        out.push(("sale_price", sale.to_string()));
        // Google wants both ends; a window open at its start has applied since it was set.
        if let Some(window) = item.sale_window
            && let Some(to) = window.to
        {
            let from = window.from.unwrap_or(window.set_at);
            let at = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            out.push(("sale_price_effective_date", format!("{}/{}", at(from), at(to))));
        }
    }
    out.push(("condition", settings.condition.clone().unwrap_or_else(|| "new".to_string())));
    if let Some(brand) = &item.brand {
        out.push(("brand", brand.clone()));
    }
    let gtin = item.gtin();
    // The manufacturer's part number a feed or a shop gave (the attribute `mpn`), else our SKU.
    let mpn = product
        .attributes
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case("mpn"))
        .map(|a| attribute_text(&a.value))
        .filter(|mpn| !mpn.trim().is_empty())
        .or_else(|| product.sku.as_ref().map(|s| s.as_str().to_string()));
    if !gtin.is_empty() {
        out.push(("gtin", gtin));
    } else if let Some(mpn) = &mpn {
        out.push(("mpn", mpn.clone()));
    }
    if item.gtin().is_empty() && (mpn.is_none() || item.brand.is_none()) {
        // Neither a GTIN nor brand + MPN: Google asks to say so rather than leave the item unidentified.
        out.push(("identifier_exists", "no".to_string()));
    }
    if !item.category.is_empty() {
        out.push(("product_type", item.category.clone()));
        if item.channel_category != item.category {
            out.push(("google_product_category", item.channel_category.clone()));
        }
    }
    if let Some(of) = &item.record.variant_of {
        for (axis, value) in &of.options {
            match axis.to_ascii_lowercase().as_str() {
                "color" | "colour" => out.push(("color", value.clone())),
                "size" => out.push(("size", value.clone())),
                "material" => out.push(("material", value.clone())),
                "pattern" => out.push(("pattern", value.clone())),
                _ => {}
            }
        }
    }
    if let Some(weight) = product.attributes.iter().find(|a| a.name.eq_ignore_ascii_case("weight")) {
        out.push(("shipping_weight", attribute_text(&weight.value)));
    }
    Some(out)
}

/// The attributes Merchant Center requires of an item that we may lack (besides those every item has): `link` (no
/// link template), `image_link`, `brand`, and `gtin` standing for a product identifier (a GTIN, else an MPN).
const CHECKED: [&str; 4] = ["link", "image_link", "brand", "gtin"];

/// Counts, into `missing`, the checked attributes an item's `attributes` lack.
fn count_missing(
    item: &FeedItem<'_>,
    attributes: &[(&'static str, String)],
    missing: &mut std::collections::BTreeMap<&'static str, u64>,
) {
    for wanted in CHECKED {
        let has = |name: &str| attributes.iter().any(|(n, _)| *n == name);
        if !(has(wanted) || wanted == "gtin" && has("mpn")) {
            *missing.entry(wanted).or_default() += 1;
        }
    }
    // Google wants the date an item on backorder or preorder ships; the catalog keeps none.
    if item.availability.sells_without_stock() {
        *missing.entry("availability_date").or_default() += 1;
    }
}

/// Whether `item` is an item of the feed (a parent of variants is not).
fn is_item(item: &FeedItem<'_>) -> bool {
    !item.has_variants()
}

fn truncated(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => text[..end].to_string(),
        None => text.to_string(),
    }
}

fn urlencoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The RSS 2.0 feed.
pub(crate) struct MerchantXml {
    xml: Writer<std::io::BufWriter<Box<dyn Write + Send>>>,
    settings: ChannelSettings,
    missing: std::collections::BTreeMap<&'static str, u64>,
}

impl MerchantXml {
    pub fn new(out: Box<dyn Write + Send>, settings: ChannelSettings) -> std::io::Result<Self> {
        let mut xml = Writer::new_with_indent(std::io::BufWriter::with_capacity(256 * 1024, out), b' ', 1);
        xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        xml.write_event(Event::Start(
            BytesStart::new("rss").with_attributes([("version", "2.0"), ("xmlns:g", "http://base.google.com/ns/1.0")]),
        ))?;
        xml.write_event(Event::Start(BytesStart::new("channel")))?;
        xml.create_element("title").write_text_content(BytesText::new("ProductsManager catalog"))?;
        xml.create_element("description").write_text_content(BytesText::new("Products exported by ProductsManager"))?;
        if let Some(template) = &settings.link_template
            && let Ok(url) = url::Url::parse(&template.replace("{key}", "").replace("{id}", ""))
        {
            xml.create_element("link")
                .write_text_content(BytesText::new(url.origin().ascii_serialization().as_str()))?;
        }
        Ok(MerchantXml { xml, settings, missing: Default::default() })
    }
}

impl FeedWriter for MerchantXml {
    fn write(&mut self, item: &FeedItem<'_>) -> std::io::Result<u64> {
        if !is_item(item) {
            return Ok(0);
        }
        let Some(attributes) = attributes(item, &self.settings) else { return Ok(0) };
        count_missing(item, &attributes, &mut self.missing);
        self.xml.write_event(Event::Start(BytesStart::new("item")))?;
        for (name, value) in attributes {
            let tag = format!("g:{name}");
            self.xml.create_element(tag.as_str()).write_text_content(BytesText::new(&value))?;
        }
        self.xml.write_event(Event::End(BytesEnd::new("item")))?;
        Ok(1)
    }

    fn missing(&self) -> std::collections::BTreeMap<&'static str, u64> {
        self.missing.clone()
    }

    fn finish(self: Box<Self>) -> std::io::Result<()> {
        let mut xml = self.xml;
        xml.write_event(Event::End(BytesEnd::new("channel")))?;
        xml.write_event(Event::End(BytesEnd::new("rss")))?;
        xml.get_mut().write_all(b"\n")?;
        xml.into_inner().flush()
    }
}

/// The columns of the tab-separated feed (an attribute with several values — additional images — takes them
/// comma-separated, as Google reads them).
const TSV_COLUMNS: [&str; 22] = [
    "id",
    "item_group_id",
    "title",
    "description",
    "link",
    "image_link",
    "additional_image_link",
    "availability",
    "price",
    "sale_price",
    "sale_price_effective_date",
    "condition",
    "brand",
    "gtin",
    "mpn",
    "identifier_exists",
    "product_type",
    "google_product_category",
    "color",
    "size",
    "material",
    "pattern",
];

/// The tab-separated feed: UTF-8, a header of attribute names, no quoting (tabs and line breaks inside values
/// become spaces).
pub(crate) struct MerchantTsv {
    out: std::io::BufWriter<Box<dyn Write + Send>>,
    settings: ChannelSettings,
    missing: std::collections::BTreeMap<&'static str, u64>,
}

impl MerchantTsv {
    pub fn new(out: Box<dyn Write + Send>, settings: ChannelSettings) -> std::io::Result<Self> {
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, out);
        writeln!(out, "{}\tshipping_weight", TSV_COLUMNS.join("\t"))?;
        Ok(MerchantTsv { out, settings, missing: Default::default() })
    }
}

impl FeedWriter for MerchantTsv {
    fn write(&mut self, item: &FeedItem<'_>) -> std::io::Result<u64> {
        if !is_item(item) {
            return Ok(0);
        }
        let Some(attributes) = attributes(item, &self.settings) else { return Ok(0) };
        count_missing(item, &attributes, &mut self.missing);
        let mut cells = vec![String::new(); TSV_COLUMNS.len() + 1];
        for (name, value) in attributes {
            let at = TSV_COLUMNS.iter().position(|c| *c == name).unwrap_or(TSV_COLUMNS.len());
            let value: String = value.chars().map(|c| if matches!(c, '\t' | '\n' | '\r') { ' ' } else { c }).collect();
            let cell = &mut cells[at];
            if !cell.is_empty() {
                cell.push(',');
            }
            cell.push_str(&value);
        }
        writeln!(self.out, "{}", cells.join("\t"))?;
        Ok(1)
    }

    fn missing(&self) -> std::collections::BTreeMap<&'static str, u64> {
        self.missing.clone()
    }

    fn finish(self: Box<Self>) -> std::io::Result<()> {
        let mut out = self.out;
        out.flush()
    }
}
