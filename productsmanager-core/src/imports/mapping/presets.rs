//! Built-in templates for files whose layout is known, so they import without writing a mapping. A preset builds
//! its [`Template`] from the file's header (the columns a platform writes vary with its version, settings and
//! plugins) and, where a platform spreads one fact over several columns or rows, a [`Shaper`] computes columns of
//! its own (named `~…`) before mapping.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::template::{ColumnMapping, InvalidGtin, Target, Template, UnmappedColumns};
use super::transform::Transform;
use crate::catalog::PriceType;
use crate::imports::ImportError;
use crate::imports::parse::Row;

/// Row-level work of a preset before mapping: columns computed from others (a key, a parent, variant options).
pub trait Shaper: Send {
    /// The shaped rows' columns: the file's, then the preset's own.
    fn headers(&self) -> Vec<String>;
    /// The shaped rows one file row gives.
    fn shape(&mut self, row: Row) -> Vec<Row>;
}

/// A known file layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Our own column names: `sku` (the supplier SKU, required), `gtin`, `title`, `description`, `brand`,
    /// `category` (`Home > Garden`), `price`, `sale_price`, `msrp`, `cost`, `currency`, `stock`, `lead_time_days`,
    /// `image_url` (several separated by `|`), `status`, `parent_sku`, `attribute:<name>`, `option:<axis>`.
    Native,
    /// WooCommerce's product CSV export: `SKU` (else `id:<ID>`) is the key; a `variation` row is a variant of its
    /// `Parent` with the `Attribute N name`/`value(s)` pairs as options; several categories and images per cell.
    Woocommerce,
    /// PrestaShop's product import/export CSV (1.4 to 9.x): `Reference #` is the key; `EAN13` placeholders are
    /// dropped; several categories and images per cell.
    Prestashop,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 3] = [Preset::Native, Preset::Woocommerce, Preset::Prestashop];

    /// Lowercase name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Native => "native",
            Preset::Woocommerce => "woocommerce",
            Preset::Prestashop => "prestashop",
        }
    }

    /// Parses a preset name.
    pub fn parse(text: &str) -> Result<Self, ImportError> {
        Self::ALL.into_iter().find(|p| p.as_str().eq_ignore_ascii_case(text.trim())).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|p| p.as_str()).collect();
            ImportError::invalid("preset", format!("{text:?} is not a preset ({})", names.join(", ")))
        })
    }

    /// The template for a file with this header (as its shaper gives it, when it has one).
    pub fn template(self, headers: &[String]) -> Template {
        match self {
            Preset::Native => native(headers),
            Preset::Woocommerce => woocommerce(headers),
            Preset::Prestashop => prestashop(headers),
        }
    }

    /// The row-level work the preset does before mapping, for a file with this header.
    pub fn shaper(self, headers: &[String]) -> Option<Box<dyn Shaper>> {
        match self {
            Preset::Native | Preset::Prestashop => None,
            Preset::Woocommerce => Some(Box::new(WoocommerceShaper::new(headers))),
        }
    }
}

fn mapping(column: &str, to: Target) -> ColumnMapping {
    ColumnMapping { column: column.to_string(), to, transforms: Vec::new(), optional: false }
}

/// Columns named as ours; any other column is refused (a typo must not drop data silently).
fn native(headers: &[String]) -> Template {
    let mut columns = Vec::new();
    for header in headers {
        let name = header.trim().to_ascii_lowercase();
        let to = match name.as_str() {
            "sku" => Target::SupplierSku,
            "gtin" => Target::Gtin,
            "title" => Target::Title,
            "description" => Target::Description,
            "brand" => Target::Brand,
            "category" => Target::Category { separator: ">".into(), list_separator: None },
            "price" => Target::Price { price_type: PriceType::Retail, currency: None },
            "sale_price" => Target::Price { price_type: PriceType::Sale, currency: None },
            "msrp" => Target::Price { price_type: PriceType::Msrp, currency: None },
            "cost" => Target::Cost,
            "currency" => Target::Currency,
            "stock" => Target::Stock,
            "lead_time_days" => Target::LeadTimeDays,
            "image_url" => Target::Image { separator: Some("|".into()), base_url: None },
            "status" => Target::Status,
            "parent_sku" => Target::ParentSku,
            _ => {
                // The name keeps its case: `attribute:Colour` is the attribute `Colour`.
                let original = header.trim();
                let (kind, rest) = original.split_once(':').unwrap_or(("", ""));
                match (kind.to_ascii_lowercase().as_str(), rest.trim()) {
                    (_, "") => continue,
                    ("attribute", rest) => Target::Attribute { name: rest.to_string() },
                    ("option", rest) => Target::VariantOption { axis: rest.to_string() },
                    _ => continue, // refused as unexpected by the header check
                }
            }
        };
        columns.push(mapping(header, to));
    }
    if !columns.iter().any(|c| c.to == Target::SupplierSku) {
        // Named in the header check as a missing column.
        columns.push(mapping("sku", Target::SupplierSku));
    }
    Template { columns, currency: None, unmapped_columns: UnmappedColumns::Refuse, invalid_gtin: Default::default() }
}

/// The first header among `names` (ignoring case).
fn find<'a>(headers: &'a [String], names: &[&str]) -> Option<&'a String> {
    names.iter().find_map(|name| headers.iter().find(|h| h.trim().eq_ignore_ascii_case(name)))
}

/// Maps the first of `names` the header has to `to`, with `transforms`.
fn map_first(
    columns: &mut Vec<ColumnMapping>,
    headers: &[String],
    names: &[&str],
    to: Target,
    transforms: Vec<Transform>,
) {
    if let Some(column) = find(headers, names) {
        columns.push(ColumnMapping { column: column.clone(), to, transforms, optional: false });
    }
}

fn status_lookup(pairs: &[(&str, &str)]) -> Vec<Transform> {
    let table: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    vec![Transform::Lookup { table, otherwise: Some("draft".into()) }]
}

fn price(price_type: PriceType) -> Target {
    Target::Price { price_type, currency: None }
}

/// A shop's export: its own columns are ignored unless mapped; placeholder barcodes do not refuse a row.
fn shop_template(columns: Vec<ColumnMapping>) -> Template {
    Template { columns, currency: None, unmapped_columns: UnmappedColumns::Ignore, invalid_gtin: InvalidGtin::Ignore }
}

// The WooCommerce shaper's own columns.
const WOO_KEY: &str = "~key";
const WOO_TITLE: &str = "~title";
const WOO_DESCRIPTION: &str = "~description";
const WOO_PARENT: &str = "~parent";
const WOO_OPTIONS: &str = "~options";

fn woocommerce(headers: &[String]) -> Template {
    let mut columns = Vec::new();
    let mut add = |names: &[&str], to: Target, transforms: Vec<Transform>| {
        map_first(&mut columns, headers, names, to, transforms);
    };
    add(&[WOO_KEY], Target::SupplierSku, vec![]);
    add(&[WOO_TITLE], Target::Title, vec![]);
    add(&[WOO_DESCRIPTION], Target::Description, vec![]);
    add(&[WOO_PARENT], Target::ParentSku, vec![]);
    add(&[WOO_OPTIONS], Target::VariantOptions { separator: "|".into() }, vec![]);
    add(&["Published"], Target::Status, status_lookup(&[("1", "active"), ("0", "draft"), ("-1", "draft")]));
    add(&["GTIN, UPC, EAN, or ISBN", "GTIN", "EAN"], Target::Gtin, vec![]);
    add(&["Brands", "Brand"], Target::Brand, vec![Transform::Split { separator: ",".into(), index: 0 }]);
    add(&["Categories"], Target::Category { separator: ">".into(), list_separator: Some(",".into()) }, vec![]);
    add(&["Regular price"], price(PriceType::Retail), vec![]);
    add(&["Sale price"], price(PriceType::Sale), vec![]);
    add(&["Stock"], Target::Stock, vec![]);
    add(&["Images"], Target::Image { separator: Some(",".into()), base_url: None }, vec![]);
    shop_template(columns)
}

/// Column positions of a WooCommerce export.
struct WoocommerceShaper {
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
    /// `id:<ID>` references resolved to the row's key, and titles by key (a variation without a name is called
    /// after its parent); both only grow with the rows of the file.
    keys_by_id: HashMap<String, String>,
    titles: HashMap<String, String>,
}

impl WoocommerceShaper {
    fn new(headers: &[String]) -> Self {
        let at = |names: &[&str]| find(headers, names).and_then(|h| headers.iter().position(|x| x == h));
        let attributes = (1..=20)
            .filter_map(|n| {
                let name = at(&[&format!("Attribute {n} name")])?;
                let value = at(&[&format!("Attribute {n} value(s)")])?;
                Some((name, value))
            })
            .collect();
        let mut shaped = headers.to_vec();
        shaped.extend([WOO_KEY, WOO_TITLE, WOO_DESCRIPTION, WOO_PARENT, WOO_OPTIONS].map(String::from));
        WoocommerceShaper {
            headers: shaped,
            id: at(&["ID"]),
            kind: at(&["Type"]),
            sku: at(&["SKU"]),
            name: at(&["Name"]),
            description: at(&["Description"]),
            short_description: at(&["Short description"]),
            parent: at(&["Parent"]),
            attributes,
            keys_by_id: HashMap::new(),
            titles: HashMap::new(),
        }
    }
}

impl Shaper for WoocommerceShaper {
    fn headers(&self) -> Vec<String> {
        self.headers.clone()
    }

    fn shape(&mut self, mut row: Row) -> Vec<Row> {
        let get = |column: Option<usize>| column.and_then(|c| row.fields.get(c)).map(|v| v.trim()).unwrap_or("");
        let id = get(self.id).to_string();
        let key = match (get(self.sku), id.as_str()) {
            ("", "") => String::new(),
            ("", id) => format!("id:{id}"),
            (sku, _) => sku.to_string(),
        };
        if !id.is_empty() {
            self.keys_by_id.insert(id, key.clone());
        }
        // Only a variation has a parent: WooCommerce also fills `Parent` on simple rows it grouped.
        let variation = get(self.kind).split(',').any(|t| t.trim().eq_ignore_ascii_case("variation"));
        let parent = match get(self.parent) {
            parent if !variation || parent.is_empty() => String::new(),
            parent => match parent.strip_prefix("id:") {
                Some(id) => self.keys_by_id.get(id).cloned().unwrap_or_else(|| parent.to_string()),
                None => parent.to_string(),
            },
        };
        let options: Vec<(String, String)> = if variation {
            self.attributes
                .iter()
                .map(|(name, value)| (get(Some(*name)).to_string(), get(Some(*value)).to_string()))
                .filter(|(name, value)| !name.is_empty() && !value.is_empty())
                .collect()
        } else {
            Vec::new()
        };
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
        let options = options.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("|");
        row.fields.extend([key, title, description, parent, options]);
        vec![row]
    }
}

fn prestashop(headers: &[String]) -> Template {
    let mut columns = Vec::new();
    let mut add = |names: &[&str], to: Target, transforms: Vec<Transform>| {
        map_first(&mut columns, headers, names, to, transforms);
    };
    add(&["Reference #", "Reference"], Target::SupplierSku, vec![]);
    add(&["Name *", "Name*", "Name"], Target::Title, vec![]);
    add(&["Description"], Target::Description, vec![]);
    add(&["Manufacturer"], Target::Brand, vec![]);
    add(&["EAN13"], Target::Gtin, vec![]);
    add(&["Active (0/1)"], Target::Status, status_lookup(&[("1", "active"), ("0", "draft")]));
    // Category names (or ids), each its own category: no path separator inside a name.
    let categories = Target::Category { separator: "\u{0}".into(), list_separator: Some(",".into()) };
    add(&["Categories (x,y,z...)", "Categories (x,y,z,...)"], categories, vec![]);
    add(&["Price tax excluded", "Price tax excl."], price(PriceType::Retail), vec![]);
    add(&["Wholesale price"], Target::Cost, vec![]);
    add(&["Quantity"], Target::Stock, vec![]);
    let images = Target::Image { separator: Some(",".into()), base_url: None };
    add(&["Image URLs (x,y,z...)", "Image URLs (x,y,z,...)"], images, vec![]);
    shop_template(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_maps_our_names_and_refuses_others() {
        let headers: Vec<String> =
            ["SKU", "gtin", "title", "price", "currency", "attribute:Colour", "option:size", "image_url"]
                .map(String::from)
                .to_vec();
        let mapper = Preset::Native.template(&headers).mapper(&headers).unwrap();
        let row = mapper.map(&["A1", "", "Pot", "9.90", "EUR", "red", "M", "a.jpg|b.jpg"].map(String::from));
        assert_eq!(row.attributes[0].0, "Colour");
        assert_eq!(row.variant_options[0].0, "size");
        assert_eq!(row.images.len(), 2);
        let typo: Vec<String> = ["sku", "titel"].map(String::from).to_vec();
        let error = Preset::Native.template(&typo).mapper(&typo).unwrap_err().to_string();
        assert!(error.contains(r#"unexpected columns: "titel""#), "{error}");
        let no_sku: Vec<String> = ["title"].map(String::from).to_vec();
        let error = Preset::Native.template(&no_sku).mapper(&no_sku).unwrap_err().to_string();
        assert!(error.contains(r#"missing columns: "sku""#), "{error}");
        assert!(Preset::parse("NATIVE").is_ok());
        assert_eq!(Preset::parse("WooCommerce").unwrap(), Preset::Woocommerce);
        assert!(Preset::parse("csv").unwrap_err().to_string().contains("native"));
    }
}

#[cfg(test)]
mod woocommerce_tests {
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
        let variation = map(["11", "variation", "H-BLUE", "", "id:10", "Color", "Blue"]);
        assert_eq!(variation.parent_sku.unwrap().value, "id:10");
        assert_eq!(variation.title.unwrap().value, "Hoodie - Blue");
        assert_eq!(variation.variant_options[0].0, "Color");
        let grouped = map(["12", "simple", "BAG", "Bag", "id:10", "", ""]);
        assert!(grouped.parent_sku.is_none(), "a simple row is never a variant");
    }
}
