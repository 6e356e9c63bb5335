//! WooCommerce's product CSV export.

use std::collections::HashMap;

use super::{Shaper, append_own, field, map_first, position, price, shop_template, status_lookup, with_own};
use crate::catalog::PriceType;
use crate::imports::mapping::template::{Target, Template, WindowPart};
use crate::imports::mapping::transform::Transform;
use crate::imports::parse::Row;

// The WooCommerce shaper's own columns.
const WOO_KEY: &str = "~key";
const WOO_TITLE: &str = "~title";
const WOO_DESCRIPTION: &str = "~description";
const WOO_PARENT: &str = "~parent";
const WOO_OPTIONS: &str = "~options";
const WOO_ATTRIBUTES: &str = "~attributes";
const WOO_OWN: [&str; 6] = [WOO_KEY, WOO_TITLE, WOO_DESCRIPTION, WOO_PARENT, WOO_OPTIONS, WOO_ATTRIBUTES];

/// WooCommerce columns with no field of ours that describe the product: kept as attributes named as the column
/// (`Weight (kg)`: `0.5`), whichever units the shop's settings put in the names.
const WOO_AS_ATTRIBUTES: [&str; 13] = [
    "Weight (kg)",
    "Weight (lbs)",
    "Length (cm)",
    "Length (in)",
    "Width (cm)",
    "Width (in)",
    "Height (cm)",
    "Height (in)",
    "Tags",
    "Shipping class",
    "Tax status",
    "Tax class",
    "Backorders allowed?",
];

pub(super) fn woocommerce(headers: &[String]) -> Template {
    let mut columns = Vec::new();
    let mut add = |names: &[&str], to: Target, transforms: Vec<Transform>| {
        map_first(&mut columns, headers, names, to, transforms);
    };
    add(&[WOO_KEY], Target::SupplierSku, vec![]);
    // A shop's export: its SKU is the product's SKU too (what the shop and our exports call it).
    add(&["SKU"], Target::Sku, vec![]);
    add(&[WOO_TITLE], Target::Title, vec![]);
    add(&[WOO_DESCRIPTION], Target::Description, vec![]);
    add(&[WOO_PARENT], Target::ParentSku, vec![]);
    add(&[WOO_OPTIONS], Target::VariantOptions { separator: "|".into() }, vec![]);
    add(&[WOO_ATTRIBUTES], Target::Attributes { separator: "|".into() }, vec![]);
    for name in WOO_AS_ATTRIBUTES {
        add(&[name], Target::Attribute { name: name.into() }, vec![]);
    }
    add(&["Published"], Target::Status, status_lookup(&[("1", "active"), ("0", "draft"), ("-1", "draft")]));
    add(&["GTIN, UPC, EAN, or ISBN", "GTIN", "EAN"], Target::Gtin, vec![]);
    add(&["Brands", "Brand"], Target::Brand, vec![Transform::Split { separator: ",".into(), index: 0 }]);
    add(&["Categories"], Target::Category { separator: ">".into(), list_separator: Some(",".into()) }, vec![]);
    add(&["Regular price"], price(PriceType::Retail), vec![]);
    add(&["Sale price"], price(PriceType::Sale), vec![]);
    // The sale's dates: the sale price applies between them only.
    add(
        &["Date sale price starts"],
        Target::PriceWindow { price_type: PriceType::Sale, part: WindowPart::Start },
        vec![],
    );
    add(&["Date sale price ends"], Target::PriceWindow { price_type: PriceType::Sale, part: WindowPart::End }, vec![]);
    // A shop's export: the shop's stock is the product's own (not a supplier's offer, which would count it twice).
    add(&["Stock"], Target::ProductStock, vec![]);
    // `1`, `0` or `backorder`: what the shop says of a product whose stock it does not count (an empty `Stock`); a
    // count, when given, comes first.
    add(&["In stock?"], Target::Availability, vec![]);
    add(&["Images"], Target::Image { separator: Some(",".into()), base_url: None }, vec![]);
    shop_template(columns)
}

/// Column positions of a WooCommerce export.
pub(super) struct WoocommerceShaper {
    headers: Vec<String>,
    id: Option<usize>,
    kind: Option<usize>,
    sku: Option<usize>,
    name: Option<usize>,
    description: Option<usize>,
    short_description: Option<usize>,
    parent: Option<usize>,
    /// (`Attribute N name`, `Attribute N value(s)`)
    attributes: Vec<(usize, usize)>,
    /// (`Attribute N name`, `Attribute N default`): a variable product's default variation.
    defaults: Vec<(usize, usize)>,
    /// `id:<ID>` references resolved to the row's key, and titles by key (a variation without a name is called
    /// after its parent); both only grow with the rows of the file.
    keys_by_id: HashMap<String, String>,
    titles: HashMap<String, String>,
}

impl WoocommerceShaper {
    pub(super) fn new(headers: &[String]) -> Self {
        let at = |names: &[&str]| position(headers, names);
        let (mut attributes, mut defaults) = (Vec::new(), Vec::new());
        for n in 1..=20 {
            let Some(name) = at(&[&format!("Attribute {n} name")]) else { continue };
            attributes.extend(at(&[&format!("Attribute {n} value(s)")]).map(|value| (name, value)));
            defaults.extend(at(&[&format!("Attribute {n} default")]).map(|default| (name, default)));
        }
        WoocommerceShaper {
            headers: with_own(headers, &WOO_OWN),
            id: at(&["ID"]),
            kind: at(&["Type"]),
            sku: at(&["SKU"]),
            name: at(&["Name"]),
            description: at(&["Description"]),
            short_description: at(&["Short description"]),
            parent: at(&["Parent"]),
            attributes,
            defaults,
            keys_by_id: HashMap::new(),
            titles: HashMap::new(),
        }
    }
}

impl Shaper for WoocommerceShaper {
    fn headers(&self) -> Vec<String> {
        self.headers.clone()
    }

    fn reads(&self) -> Vec<(usize, &'static str)> {
        let own = [
            (self.id, "the key `id:<ID>` of a row without SKU; `id:` references in `Parent`"),
            (self.kind, "whether the row is a variation"),
            (self.sku, "the key (the offer's supplier SKU)"),
            (
                self.name,
                "title (a variation without one: its parent's, with its options); the key `name:<Name>` of a row without SKU or ID",
            ),
            (self.description, "description"),
            (self.short_description, "description, when `Description` is empty"),
            (self.parent, "a variation's parent"),
        ];
        let attributes = self.attributes.iter().flat_map(|(name, value)| {
            [
                (*name, "a variation's axis, another row's attribute name"),
                (*value, "its option value, or the attribute's value"),
            ]
        });
        let defaults = self
            .defaults
            .iter()
            .map(|(_, default)| (*default, "attribute `<name> (default)`: the default variation's value"));
        super::present(own).chain(attributes).chain(defaults).collect()
    }

    fn shape(&mut self, mut row: Row) -> Vec<Row> {
        let get = |column: Option<usize>| field(&row, column);
        let id = get(self.id).to_string();
        // Only a variation has a parent: WooCommerce also fills `Parent` on simple rows it grouped.
        let variation = get(self.kind).split(',').any(|t| t.trim().eq_ignore_ascii_case("variation"));
        let parent = match get(self.parent) {
            parent if !variation || parent.is_empty() => String::new(),
            parent => match parent.strip_prefix("id:") {
                Some(id) => self.keys_by_id.get(id).cloned().unwrap_or_else(|| parent.to_string()),
                None => parent.to_string(),
            },
        };
        // A variation's attribute pairs are its options; another row's (`Color`: `Blue, Red`) are attributes.
        let pairs: Vec<(String, String)> = self
            .attributes
            .iter()
            .map(|(name, value)| (get(Some(*name)).to_string(), get(Some(*value)).to_string()))
            .filter(|(name, value)| !name.is_empty() && !value.is_empty())
            .collect();
        let (options, mut attributes) = if variation { (pairs, Vec::new()) } else { (Vec::new(), pairs) };
        if !variation {
            for (name, default) in &self.defaults {
                let (name, default) = (get(Some(*name)), get(Some(*default)));
                if !name.is_empty() && !default.is_empty() {
                    attributes.push((format!("{name} (default)"), default.to_string()));
                }
            }
        }
        // A row without SKU or ID (WooCommerce's importer makes a new product of it): a variation is its parent's
        // with these values, another product is known by its name (a file naming two products alike refuses the
        // second as a duplicate, saying so).
        let key = match (get(self.sku), id.as_str()) {
            ("", "") if variation && !parent.is_empty() && !options.is_empty() => {
                let values: Vec<&str> = options.iter().map(|(_, v)| v.as_str()).collect();
                format!("{parent}/{}", values.join("/"))
            }
            ("", "") if !variation && !get(self.name).is_empty() => format!("name:{}", get(self.name)),
            ("", "") => String::new(),
            ("", id) => format!("id:{id}"),
            (sku, _) => sku.to_string(),
        };
        if !id.is_empty() {
            self.keys_by_id.insert(id, key.clone());
        }
        let title = match get(self.name) {
            "" if !parent.is_empty() => match self.titles.get(&parent) {
                Some(parent_title) => {
                    let values: Vec<&str> = options.iter().map(|(_, v)| v.as_str()).collect();
                    format!("{parent_title} - {}", values.join(", "))
                }
                None => String::new(),
            },
            name => name.to_string(),
        };
        if !key.is_empty() && !title.is_empty() {
            self.titles.insert(key.clone(), title.clone());
        }
        let description = match get(self.description) {
            "" => get(self.short_description).to_string(),
            text => text.to_string(),
        };
        let joined =
            |pairs: &[(String, String)]| pairs.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("|");
        let (options, attributes) = (joined(&options), joined(&attributes));
        // The own columns go after the header's, whatever the row's length.
        append_own(
            &mut row,
            self.headers.len() - WOO_OWN.len(),
            [key, title, description, parent, options, attributes],
        );
        vec![row]
    }
}

#[cfg(test)]
mod tests {
    use super::super::Preset;
    use super::*;

    #[test]
    fn variations_get_their_parent_options_and_a_title() {
        let headers: Vec<String> = ["ID", "Type", "SKU", "Name", "Parent", "Attribute 1 name", "Attribute 1 value(s)"]
            .map(String::from)
            .to_vec();
        let mut shaper = Preset::Woocommerce.shaper(&headers).unwrap();
        let shaped = shaper.headers();
        let mapper = Preset::Woocommerce.template(&shaped).mapper(&shaped).unwrap();
        let mut map = |fields: [&str; 7]| {
            let row = Row { line: 2, fields: fields.map(String::from).to_vec() };
            mapper.map(&shaper.shape(row).remove(0).fields)
        };
        let parent = map(["10", "variable", "", "Hoodie", "", "Color", "Blue, Red"]);
        assert_eq!(parent.supplier_sku.unwrap().value, "id:10");
        assert!(parent.variant_options.is_empty(), "a parent's attribute lists are not options");
        let attributes: Vec<(&str, &str)> =
            parent.attributes.iter().map(|(n, c)| (n.as_str(), c.value.as_str())).collect();
        assert_eq!(attributes, [("Color", "Blue, Red")], "but attributes");
        let variation = map(["11", "variation", "H-BLUE", "", "id:10", "Color", "Blue"]);
        assert_eq!(variation.parent_sku.unwrap().value, "id:10");
        assert_eq!(variation.title.unwrap().value, "Hoodie - Blue");
        assert_eq!(variation.variant_options[0].0, "Color");
        let grouped = map(["12", "simple", "BAG", "Bag", "id:10", "", ""]);
        assert!(grouped.parent_sku.is_none(), "a simple row is never a variant");
        // Rows with neither SKU nor ID (WooCommerce's importer's own test file has four).
        let variation = map(["", "variation", "", "", "id:10", "Color", "Red"]);
        assert_eq!(variation.supplier_sku.unwrap().value, "id:10/Red", "its parent's, with its values");
        assert_eq!(variation.title.unwrap().value, "Hoodie - Red");
        let external = map(["", "external", "", "WooCommerce Product CSV Suite", "", "", ""]);
        assert_eq!(external.supplier_sku.unwrap().value, "name:WooCommerce Product CSV Suite");
    }

    #[test]
    fn a_variable_products_default_variation_is_an_attribute() {
        let mapped = super::super::testing::shape(
            Preset::Woocommerce,
            &["Type", "SKU", "Name", "Attribute 1 Name", "Attribute 1 Value(s)", "Attribute 1 default"],
            &[&["variable", "IDEA", "Idea", "Color", "Black, Green", "Green"]],
        );
        let attributes: Vec<(&str, &str)> =
            mapped[0].attributes.iter().map(|(n, c)| (n.as_str(), c.value.as_str())).collect();
        assert_eq!(attributes, [("Color", "Black, Green"), ("Color (default)", "Green")]);
    }
}
