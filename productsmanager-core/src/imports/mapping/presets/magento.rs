//! Magento 2's `catalog_product` export.

use std::collections::{HashMap, HashSet};

use super::{
    LIST_SEPARATOR, Shaper, append_own, field, map_first, position, price, shop_template, status_lookup, with_own,
};
use crate::catalog::PriceType;
use crate::imports::mapping::template::{SeoPart, Target, Template, WindowPart};
use crate::imports::mapping::transform::Transform;
use crate::imports::parse::Row;

// The Magento shaper's own columns.
const MAGENTO_OWN: [&str; 5] = ["~categories", "~attributes", "~variants", "~parent", "~options"];
/// Magento's bookkeeping in `additional_attributes`, not facts about the product.
const MAGENTO_INTERNAL: [&str; 2] = ["has_options", "required_options"];

pub(super) fn magento(headers: &[String]) -> Template {
    let mut columns = Vec::new();
    let mut add = |names: &[&str], to: Target, transforms: Vec<Transform>| {
        map_first(&mut columns, headers, names, to, transforms);
    };
    add(&["sku"], Target::SupplierSku, vec![]);
    // A shop's export: its SKU is the product's SKU too (what the shop and our exports call it).
    add(&["sku"], Target::Sku, vec![]);
    add(&["name"], Target::Title, vec![]);
    add(&["description"], Target::Description, vec![]);
    add(&["product_online"], Target::Status, status_lookup(&[("1", "active"), ("2", "draft"), ("0", "draft")]));
    add(&["price"], price(PriceType::Retail), vec![]);
    add(&["special_price"], price(PriceType::Sale), vec![]);
    // The special price's dates (days, the last one included): it applies between them only.
    let (start, end) = (WindowPart::Start, WindowPart::End);
    add(&["special_price_from_date"], Target::PriceWindow { price_type: PriceType::Sale, part: start }, vec![]);
    add(&["special_price_to_date"], Target::PriceWindow { price_type: PriceType::Sale, part: end }, vec![]);
    add(&["msrp_price", "msrp"], price(PriceType::Msrp), vec![]);
    // A shop's export: the shop's stock is the product's own (not a supplier's offer, which would count it twice).
    add(&["qty"], Target::ProductStock, vec![]);
    // SEO metadata, in the import's SEO locale (the default store view's language: the file does not say it).
    add(&["url_key"], super::import_seo(SeoPart::Slug), vec![Transform::Slugify {}]);
    add(&["meta_title"], super::import_seo(SeoPart::MetaTitle), vec![]);
    add(&["meta_description"], super::import_seo(SeoPart::MetaDescription), vec![]);
    add(&["weight"], Target::Attribute { name: "weight".into() }, vec![]);
    // (`image`: the sample data's image lists, one image per row.)
    add(&["base_image", "image"], Target::Image { separator: None, base_url: None }, vec![]);
    add(&["additional_images"], Target::Image { separator: Some(",".into()), base_url: None }, vec![]);
    let categories = Target::Category { separator: "/".into(), list_separator: Some(LIST_SEPARATOR.into()) };
    add(&["~categories"], categories, vec![]);
    add(&["~attributes"], Target::Attributes { separator: LIST_SEPARATOR.into() }, vec![]);
    add(&["~variants"], Target::Variants { separator: LIST_SEPARATOR.into() }, vec![]);
    add(&["~parent"], Target::ParentSku, vec![]);
    add(&["~options"], Target::VariantOptions { separator: LIST_SEPARATOR.into() }, vec![]);
    shop_template(columns)
}

/// Column positions of a Magento export, and what its configurable rows said about rows still to come.
pub(super) struct MagentoShaper {
    headers: Vec<String>,
    sku: Option<usize>,
    store_view: Option<usize>,
    categories: Option<usize>,
    attributes: Option<usize>,
    variations: Option<usize>,
    /// Supplier SKUs read so far: a configurable row links the children read before it.
    seen: HashSet<String>,
    /// Children named by a configurable row before their own row: (parent SKU, `axis=value` options).
    pending: HashMap<String, (String, String)>,
    /// Rows of a store view set aside.
    store_view_rows: u64,
    /// Magento's sample-data layout (`category,name,sku,price,…,attribute_set`, not the export's): its columns the
    /// template does not map, each an attribute.
    sample_attributes: Vec<(usize, String)>,
}

/// Columns of the sample-data layout that are not attributes, besides those the template maps: `category` — a walk
/// through Magento's category tree (`Gear`, `Bags`, `Collections`, `Erin Recommends`: two paths, which only the tree
/// tells apart), left unread rather than read as one wrong path — and the store view the shaper reads.
const SAMPLE_UNREAD: [&str; 2] = ["category", "store_view_code"];

impl MagentoShaper {
    pub(super) fn new(headers: &[String]) -> Self {
        let at = |name: &str| position(headers, &[name]);
        let sample = at("product_type").is_none() && at("categories").is_none() && at("sku").is_some();
        let sample_attributes = if sample {
            // The template's own columns are read as it says; every other one is an attribute.
            let template = magento(headers);
            let mapped = |name: &str| {
                template.columns.iter().any(|c| c.column.eq_ignore_ascii_case(name))
                    || SAMPLE_UNREAD.iter().any(|n| n.eq_ignore_ascii_case(name))
            };
            let names = headers.iter().map(|h| h.trim()).enumerate();
            names.filter(|(_, name)| !mapped(name)).map(|(i, name)| (i, name.to_string())).collect()
        } else {
            Vec::new()
        };
        MagentoShaper {
            headers: with_own(headers, &MAGENTO_OWN),
            sku: at("sku"),
            store_view: at("store_view_code"),
            categories: at("categories"),
            attributes: at("additional_attributes"),
            variations: at("configurable_variations"),
            seen: HashSet::new(),
            pending: HashMap::new(),
            store_view_rows: 0,
            sample_attributes,
        }
    }
}

impl Shaper for MagentoShaper {
    fn headers(&self) -> Vec<String> {
        self.headers.clone()
    }

    fn reads(&self) -> Vec<(usize, &'static str)> {
        let own = [
            (self.sku, "links a variant to the configurable row that lists it"),
            (self.store_view, "a store view's row (translations) is skipped, counted"),
            (self.categories, "category paths (`Default Category/` dropped)"),
            (self.attributes, "attributes (`name=value`; Magento's own bookkeeping left out)"),
            (self.variations, "a configurable row's variants and their options"),
        ];
        let attributes =
            self.sample_attributes.iter().map(|(column, _)| (*column, "an attribute (the sample-data layout)"));
        super::present(own).chain(attributes).collect()
    }

    fn set_aside(&self) -> Vec<(&'static str, u64)> {
        if self.store_view_rows == 0 { Vec::new() } else { vec![("store_view", self.store_view_rows)] }
    }

    fn shape(&mut self, mut row: Row) -> Vec<Row> {
        let get = |column: Option<usize>| field(&row, column);
        if !get(self.store_view).is_empty() {
            // A store view's values (translations) of a product given on its default row.
            self.store_view_rows += 1;
            return Vec::new();
        }
        let sku = get(self.sku).to_string();
        let categories: Vec<String> = get(self.categories)
            .split(',')
            .map(|path| path.trim())
            .map(|path| path.strip_prefix("Default Category").map(|p| p.trim_start_matches('/')).unwrap_or(path))
            .filter(|path| !path.is_empty())
            .map(str::to_string)
            .collect();
        let mut attributes: Vec<String> = get(self.attributes)
            .split(',')
            .filter(|pair| {
                let name = pair.split('=').next().unwrap_or("").trim();
                !MAGENTO_INTERNAL.contains(&name)
            })
            .map(str::to_string)
            .collect();
        for (column, name) in &self.sample_attributes {
            let value = get(Some(*column)).trim();
            let lines: Vec<&str> = value.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            // A multiselect's values, one per line (`Nylon`, `Polyester`), are a list; text that spans lines (HTML,
            // a bundle's options) stays as written.
            let list = lines.len() > 1 && lines.iter().all(|l| l.chars().count() <= 60 && !l.contains([',', '<']));
            match value {
                "" => {}
                _ if list => attributes.push(format!("{name}={}", lines.join(", "))),
                _ => attributes.push(format!("{name}={value}")),
            }
        }
        let mut variants = Vec::new();
        for record in get(self.variations).split('|').filter(|r| !r.trim().is_empty()) {
            let mut child = None;
            let mut options = Vec::new();
            for pair in record.split(',') {
                match pair.split_once('=') {
                    Some((key, value)) if key.trim() == "sku" => child = Some(value.trim().to_string()),
                    Some(_) => options.push(pair.trim()),
                    None => {}
                }
            }
            match child {
                Some(child) if self.seen.contains(&child) => variants.push(record.trim().to_string()),
                Some(child) => {
                    self.pending.insert(child, (sku.clone(), options.join(LIST_SEPARATOR)));
                }
                None => {}
            }
        }
        let (parent, options) = self.pending.remove(&sku).unwrap_or_default();
        let own = [
            categories.join(LIST_SEPARATOR),
            attributes.join(LIST_SEPARATOR),
            variants.join(LIST_SEPARATOR),
            parent,
            options,
        ];
        if !sku.is_empty() {
            self.seen.insert(sku);
        }
        append_own(&mut row, self.headers.len() - MAGENTO_OWN.len(), own);
        vec![row]
    }
}

#[cfg(test)]
mod tests {
    use super::super::Preset;
    use super::super::testing::{shape, strings, value};

    #[test]
    fn magento_links_children_listed_before_or_after_their_row() {
        let headers =
            ["sku", "store_view_code", "name", "categories", "additional_attributes", "configurable_variations"];
        let rows: [&[&str]; 5] = [
            &["H-S", "", "Hoodie S", "Default Category/Men/Tops", "has_options=0,size=S", ""],
            &[
                "H",
                "",
                "Hoodie",
                "Default Category/Men/Tops,Default Category/Sale",
                "material=Wool",
                "sku=H-S,size=S|sku=H-M,size=M",
            ],
            &["H", "fr", "Sweat", "", "", ""],
            &["H-M", "", "Hoodie M", "", "size=M", ""],
            &["BAG", "", "Bag", "Gear", "", ""],
        ];
        let mapped = shape(Preset::Magento, &headers, &rows);
        assert_eq!(mapped.len(), 4, "the store view's row is a translation, skipped");
        let parent = &mapped[1];
        assert_eq!(parent.variants, [("H-S".to_string(), vec![("size".to_string(), "S".to_string())])]);
        let categories: Vec<&Vec<String>> = parent.categories.iter().map(|(names, _)| names).collect();
        assert_eq!(categories, [&strings(&["Men", "Tops"]), &strings(&["Sale"])]);
        assert_eq!(parent.attributes[0].0, "material");
        let later_child = &mapped[2];
        assert_eq!(value(&later_child.parent_sku), "H");
        assert_eq!(later_child.variant_options[0].1.value, "M");
        assert!(mapped[0].attributes.iter().all(|(name, _)| name != "has_options"), "Magento's bookkeeping");
    }

    /// Magento's sample-data layout: its columns are attributes (lists joined, text as written); `msrp` is the
    /// MSRP.
    #[test]
    fn magento_sample_data_layout() {
        let headers = ["category", "name", "sku", "price", "material", "new", "short_description", "weight", "msrp"];
        let rows: [&[&str]; 1] =
            [&["Gear\nBags", "Duffle", "24-MB01", "34", "Nylon\nPolyester", "", "<p>\nBig, light\n</p>", "1", "40"]];
        let mapped = shape(Preset::Magento, &headers, &rows);
        assert!(mapped[0].categories.is_empty(), "a walk through the category tree: not read without the tree");
        let attributes: Vec<(&str, &str)> =
            mapped[0].attributes.iter().map(|(n, c)| (n.as_str(), c.value.as_str())).collect();
        let expected =
            [("weight", "1"), ("material", "Nylon, Polyester"), ("short_description", "<p>\nBig, light\n</p>")];
        assert_eq!(attributes, expected, "a list joined, text as written, `weight` once");
        assert_eq!(mapped[0].prices.len(), 2, "retail and MSRP: {:?}", mapped[0].prices);
        assert_eq!(value(&mapped[0].title), "Duffle");
    }
}
