//! Built-in templates for files whose layout is known, so they import without writing a mapping. A preset builds
//! its [`Template`] from the file's header (the columns a platform writes vary with its version, settings and
//! plugins) and, where a platform spreads one fact over several columns or rows, a [`Shaper`] computes columns of
//! its own (named `~…`) before mapping.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::template::{ColumnMapping, InvalidGtin, RelativeImages, Target, Template, UnmappedColumns};
use super::transform::Transform;
use crate::catalog::PriceType;
use crate::imports::ImportError;
use crate::imports::parse::Row;

/// Row-level work of a preset before mapping: columns computed from others (a key, a parent, variant options).
pub trait Shaper: Send {
    /// The shaped rows' columns: the file's, then the preset's own.
    fn headers(&self) -> Vec<String>;
    /// The shaped rows one file row gives (none while it gathers rows that belong together). Their lines never go
    /// back (a resumed import skips the rows up to its checkpoint's line; rows of one line share a batch).
    fn shape(&mut self, row: Row) -> Vec<Row>;
    /// The rows still gathered at the end of the file.
    fn finish(&mut self) -> Vec<Row> {
        Vec::new()
    }
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
    /// PrestaShop's product and combination CSVs (1.4 to 9.x). A product's key is `id:<Product ID>` (else its
    /// `Reference #`), its reference an attribute; `EAN13` placeholders are dropped; several categories and images
    /// per cell. A combination (told by its `Product ID*` column) is a variant of `id:<Product ID>`, keyed by its
    /// `Reference` (else `id:<Product ID>/<values>`), named after its product and options; its price impact is kept
    /// as an attribute. Import the products first.
    Prestashop,
    /// Shopify's product CSV: the rows of one `Handle` are one product, the first carrying the product's fields,
    /// the others variants (options) or only images. A product with several variants becomes a parent (key: the
    /// handle) and one variant per row (key: `handle/value/value`); a product with one variant stays one product.
    Shopify,
    /// Magento 2's product export (`catalog_product` CSV): `sku` is the key; a `configurable` row lists its
    /// children in `configurable_variations` (they come first, as Magento writes them, or later); categories are
    /// `Default Category/A/B` paths, several per cell; image paths are relative to the shop's media folder (give the
    /// import an image base URL to keep them); rows of a store view (translations) are skipped.
    Magento,
    /// Akeneo's flat CSV of products (`sku`) or of product models (`code`, `family_variant`): a value column is
    /// `attribute[-<locale>][-<channel>]` (en_US and `ecommerce` preferred, other locales as fallbacks), metric
    /// values have an `-unit` column, prices one `price-<currency>` column each. A model's key is `model:<code>`
    /// (codes ignore case, as in Akeneo); a product with a `parent` is a variant of it. A sub-model is a product of
    /// its own, not a variant (variants are one level deep), its root model kept as the attribute `parent_model`.
    /// Import the models first. Categories are codes; other values become attributes.
    Akeneo,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 6] =
        [Preset::Native, Preset::Woocommerce, Preset::Prestashop, Preset::Shopify, Preset::Magento, Preset::Akeneo];

    /// Lowercase name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Native => "native",
            Preset::Woocommerce => "woocommerce",
            Preset::Prestashop => "prestashop",
            Preset::Shopify => "shopify",
            Preset::Magento => "magento",
            Preset::Akeneo => "akeneo",
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
            Preset::Shopify => shopify(headers),
            Preset::Magento => magento(headers),
            Preset::Akeneo => akeneo(headers),
        }
    }

    /// The row-level work the preset does before mapping, for a file with this header.
    pub fn shaper(self, headers: &[String]) -> Option<Box<dyn Shaper>> {
        match self {
            Preset::Native => None,
            Preset::Prestashop => Some(Box::new(PrestashopShaper::new(headers))),
            Preset::Woocommerce => Some(Box::new(WoocommerceShaper::new(headers))),
            Preset::Shopify => Some(Box::new(ShopifyShaper::new(headers))),
            Preset::Magento => Some(Box::new(MagentoShaper::new(headers))),
            Preset::Akeneo => Some(Box::new(AkeneoShaper::new(headers))),
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
    Template {
        columns,
        currency: None,
        unmapped_columns: UnmappedColumns::Refuse,
        invalid_gtin: Default::default(),
        relative_images: Default::default(),
    }
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

/// A shop's export: its own columns are ignored unless mapped; placeholder barcodes and image paths relative to
/// the shop's media folder (when the import names no base URL) do not refuse a row.
fn shop_template(columns: Vec<ColumnMapping>) -> Template {
    Template {
        columns,
        currency: None,
        unmapped_columns: UnmappedColumns::Ignore,
        invalid_gtin: InvalidGtin::Ignore,
        relative_images: RelativeImages::Ignore,
    }
}

// The WooCommerce shaper's own columns.
const WOO_KEY: &str = "~key";
const WOO_TITLE: &str = "~title";
const WOO_DESCRIPTION: &str = "~description";
const WOO_PARENT: &str = "~parent";
const WOO_OPTIONS: &str = "~options";
const WOO_OWN: [&str; 5] = [WOO_KEY, WOO_TITLE, WOO_DESCRIPTION, WOO_PARENT, WOO_OPTIONS];

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
        shaped.extend(WOO_OWN.map(String::from));
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
        // The own columns go after the header's, whatever the row's length.
        row.fields.resize(self.headers.len() - WOO_OWN.len(), String::new());
        row.fields.extend([key, title, description, parent, options]);
        vec![row]
    }
}

// The Shopify shaper's own columns: a product's fields, given on its first row, for every row it makes.
const SHOPIFY_OWN: [&str; 11] = [
    "~key",
    "~title",
    "~description",
    "~brand",
    "~category",
    "~status",
    "~parent",
    "~options",
    "~images",
    "~type",
    "~tags",
];
/// Separates the URLs of `~images` (a URL cannot hold it).
const LIST_SEPARATOR: &str = "\u{1f}";

fn shopify(headers: &[String]) -> Template {
    let mut columns = Vec::new();
    let mut add = |names: &[&str], to: Target| map_first(&mut columns, headers, names, to, vec![]);
    add(&["~key"], Target::SupplierSku);
    add(&["~title"], Target::Title);
    add(&["~description"], Target::Description);
    add(&["~brand"], Target::Brand);
    add(&["~category"], Target::Category { separator: ">".into(), list_separator: None });
    add(&["~status"], Target::Status);
    add(&["~parent"], Target::ParentSku);
    add(&["~options"], Target::VariantOptions { separator: LIST_SEPARATOR.into() });
    add(&["~images"], Target::Image { separator: Some(LIST_SEPARATOR.into()), base_url: None });
    add(&["~type"], Target::Attribute { name: "type".into() });
    add(&["~tags"], Target::Attribute { name: "tags".into() });
    // A variant's own columns, mapped as they are (so an error names the file's column).
    add(&["Variant SKU"], Target::Attribute { name: "variant_sku".into() });
    add(&["Variant Barcode"], Target::Gtin);
    add(&["Variant Price"], price(PriceType::Retail));
    add(&["Variant Compare At Price"], price(PriceType::Msrp));
    add(&["Cost per item"], Target::Cost);
    add(&["Variant Inventory Qty"], Target::Stock);
    shop_template(columns)
}

/// Column positions of a Shopify export, and the rows of the handle being read.
struct ShopifyShaper {
    headers: Vec<String>,
    handle: Option<usize>,
    title: Option<usize>,
    body: Option<usize>,
    vendor: Option<usize>,
    category: Option<usize>,
    kind: Option<usize>,
    tags: Option<usize>,
    published: Option<usize>,
    status: Option<usize>,
    /// (`OptionN Name`, `OptionN Value`)
    options: Vec<(Option<usize>, usize)>,
    image: Option<usize>,
    image_position: Option<usize>,
    variant_image: Option<usize>,
    /// Columns only a variant fills: a row with none of them (and no option value) carries only an image.
    variant_columns: Vec<usize>,
    group: Vec<Row>,
}

impl ShopifyShaper {
    fn new(headers: &[String]) -> Self {
        let at = |name: &str| find(headers, &[name]).and_then(|h| headers.iter().position(|x| x == h));
        let options: Vec<(Option<usize>, usize)> =
            (1..=3).filter_map(|n| Some((at(&format!("Option{n} Name")), at(&format!("Option{n} Value"))?))).collect();
        let variant_columns = [
            "Variant SKU",
            "Variant Barcode",
            "Variant Price",
            "Variant Compare At Price",
            "Cost per item",
            "Variant Inventory Qty",
            "Variant Image",
            "Variant Grams",
        ]
        .iter()
        .filter_map(|name| at(name))
        .chain(options.iter().map(|(_, value)| *value))
        .collect();
        let mut shaped = headers.to_vec();
        shaped.extend(SHOPIFY_OWN.map(String::from));
        ShopifyShaper {
            headers: shaped,
            handle: at("Handle"),
            title: at("Title"),
            body: at("Body (HTML)"),
            vendor: at("Vendor"),
            category: at("Product Category"),
            kind: at("Type"),
            tags: at("Tags"),
            published: at("Published"),
            status: at("Status"),
            options,
            image: at("Image Src"),
            image_position: at("Image Position"),
            variant_image: at("Variant Image"),
            variant_columns,
            group: Vec::new(),
        }
    }

    fn get(row: &Row, column: Option<usize>) -> &str {
        column.and_then(|c| row.fields.get(c)).map(|v| v.trim()).unwrap_or("")
    }

    /// The rows one product (the rows of one handle) makes.
    fn product(&self, rows: Vec<Row>) -> Vec<Row> {
        let Some(first) = rows.first().cloned() else { return Vec::new() };
        let get = |column: Option<usize>| Self::get(&first, column).to_string();
        let handle = get(self.handle);
        let title = get(self.title);
        let status = match get(self.status).to_ascii_lowercase().as_str() {
            "" => match get(self.published).to_ascii_lowercase().as_str() {
                "true" => "active".to_string(),
                "" => String::new(),
                _ => "draft".to_string(),
            },
            status => status.to_string(),
        };
        let mut images: Vec<(u64, String)> = Vec::new();
        for (index, row) in rows.iter().enumerate() {
            let url = Self::get(row, self.image);
            if !url.is_empty() && !images.iter().any(|(_, known)| known == url) {
                let position = Self::get(row, self.image_position).parse().unwrap_or(u64::MAX / 2 + index as u64);
                images.push((position, url.to_string()));
            }
        }
        images.sort_by_key(|(position, _)| *position);
        let images: Vec<String> = images.into_iter().map(|(_, url)| url).collect();
        // Option names are given on the first row only.
        let axes: Vec<String> = self.options.iter().map(|(name, _)| get(*name)).collect();
        let options_of = |row: &Row| -> Vec<(String, String)> {
            self.options
                .iter()
                .zip(&axes)
                .map(|((_, value), axis)| (axis.clone(), Self::get(row, Some(*value)).to_string()))
                // Shopify's one-variant products have the option `Title: Default Title`: no option at all.
                .filter(|(axis, value)| !(value.is_empty() || axis == "Title" && value == "Default Title"))
                .collect()
        };
        let variants: Vec<Row> = rows
            .into_iter()
            .filter(|row| self.variant_columns.iter().any(|c| row.fields.get(*c).is_some_and(|v| !v.trim().is_empty())))
            .collect();
        let own = |row: &mut Row, key: String, title: String, parent: String, options: String, images: String| {
            // A variant's description, category, type and tags are its parent's.
            let variant = !parent.is_empty();
            let pick = |value: String| if variant { String::new() } else { value };
            row.fields.resize(self.headers.len() - SHOPIFY_OWN.len(), String::new());
            row.fields.extend([
                key,
                title,
                pick(get(self.body)),
                get(self.vendor),
                pick(get(self.category)),
                status.clone(),
                parent,
                options,
                images,
                pick(get(self.kind)),
                pick(get(self.tags)),
            ]);
        };
        if variants.len() <= 1 {
            // One product: the variant row (or the first, for a product without one) with every image.
            let mut row = variants.into_iter().next().unwrap_or_else(|| first.clone());
            own(&mut row, handle, title, String::new(), String::new(), images.join(LIST_SEPARATOR));
            return vec![row];
        }
        // A parent on the first row's line, without the variant's columns, then the variants.
        let mut parent = Row { line: variants[0].line.min(first.line), fields: first.fields.clone() };
        for column in &self.variant_columns {
            if let Some(value) = parent.fields.get_mut(*column) {
                value.clear();
            }
        }
        own(&mut parent, handle.clone(), title.clone(), String::new(), String::new(), images.join(LIST_SEPARATOR));
        let mut shaped = vec![parent];
        for mut row in variants {
            let options = options_of(&row);
            let values: Vec<&str> = options.iter().map(|(_, v)| v.as_str()).collect();
            let key = format!("{handle}/{}", values.join("/"));
            let variant_title =
                if values.is_empty() { title.clone() } else { format!("{title} - {}", values.join(", ")) };
            let image = Self::get(&row, self.variant_image).to_string();
            let options = options.iter().map(|(a, v)| format!("{a}={v}")).collect::<Vec<_>>().join(LIST_SEPARATOR);
            own(&mut row, key, variant_title, handle.clone(), options, image);
            shaped.push(row);
        }
        shaped
    }
}

impl Shaper for ShopifyShaper {
    fn headers(&self) -> Vec<String> {
        self.headers.clone()
    }

    fn shape(&mut self, row: Row) -> Vec<Row> {
        let same =
            self.group.first().is_some_and(|first| Self::get(first, self.handle) == Self::get(&row, self.handle));
        if same || self.group.is_empty() {
            self.group.push(row);
            return Vec::new();
        }
        let rows = std::mem::replace(&mut self.group, vec![row]);
        self.product(rows)
    }

    fn finish(&mut self) -> Vec<Row> {
        let rows = std::mem::take(&mut self.group);
        self.product(rows)
    }
}

// The Magento shaper's own columns.
const MAGENTO_OWN: [&str; 5] = ["~categories", "~attributes", "~variants", "~parent", "~options"];
/// Magento's bookkeeping in `additional_attributes`, not facts about the product.
const MAGENTO_INTERNAL: [&str; 2] = ["has_options", "required_options"];

fn magento(headers: &[String]) -> Template {
    let mut columns = Vec::new();
    let mut add = |names: &[&str], to: Target, transforms: Vec<Transform>| {
        map_first(&mut columns, headers, names, to, transforms);
    };
    add(&["sku"], Target::SupplierSku, vec![]);
    add(&["name"], Target::Title, vec![]);
    add(&["description"], Target::Description, vec![]);
    add(&["product_online"], Target::Status, status_lookup(&[("1", "active"), ("2", "draft"), ("0", "draft")]));
    add(&["price"], price(PriceType::Retail), vec![]);
    add(&["special_price"], price(PriceType::Sale), vec![]);
    add(&["msrp_price"], price(PriceType::Msrp), vec![]);
    add(&["qty"], Target::Stock, vec![]);
    add(&["weight"], Target::Attribute { name: "weight".into() }, vec![]);
    add(&["base_image"], Target::Image { separator: None, base_url: None }, vec![]);
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
struct MagentoShaper {
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
}

impl MagentoShaper {
    fn new(headers: &[String]) -> Self {
        let at = |name: &str| find(headers, &[name]).and_then(|h| headers.iter().position(|x| x == h));
        let mut shaped = headers.to_vec();
        shaped.extend(MAGENTO_OWN.map(String::from));
        MagentoShaper {
            headers: shaped,
            sku: at("sku"),
            store_view: at("store_view_code"),
            categories: at("categories"),
            attributes: at("additional_attributes"),
            variations: at("configurable_variations"),
            seen: HashSet::new(),
            pending: HashMap::new(),
        }
    }
}

impl Shaper for MagentoShaper {
    fn headers(&self) -> Vec<String> {
        self.headers.clone()
    }

    fn shape(&mut self, mut row: Row) -> Vec<Row> {
        let get = |column: Option<usize>| column.and_then(|c| row.fields.get(c)).map(|v| v.trim()).unwrap_or("");
        if !get(self.store_view).is_empty() {
            // A store view's values (translations) of a product given on its default row.
            return Vec::new();
        }
        let sku = get(self.sku).to_string();
        let categories: Vec<&str> = get(self.categories)
            .split(',')
            .map(|path| path.trim())
            .map(|path| path.strip_prefix("Default Category").map(|p| p.trim_start_matches('/')).unwrap_or(path))
            .filter(|path| !path.is_empty())
            .collect();
        let attributes: Vec<&str> = get(self.attributes)
            .split(',')
            .filter(|pair| {
                let name = pair.split('=').next().unwrap_or("").trim();
                !MAGENTO_INTERNAL.contains(&name)
            })
            .collect();
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
        row.fields.resize(self.headers.len() - MAGENTO_OWN.len(), String::new());
        row.fields.extend(own);
        vec![row]
    }
}

// The Akeneo shaper's own columns.
const AKENEO_OWN: [&str; 5] = ["~key", "~title", "~description", "~parent", "~attributes"];
/// Columns the Akeneo preset maps itself (by attribute code), not as attributes.
const AKENEO_MAPPED: [&str; 17] = [
    "sku",
    "code",
    "parent",
    "family_variant",
    "categories",
    "enabled",
    "groups",
    "ean",
    "name",
    "description",
    "short_description",
    "brand",
    "image",
    "picture",
    "variation_image",
    "price",
    "weight-unit",
];

fn akeneo(headers: &[String]) -> Template {
    let mut columns = Vec::new();
    let mut add = |names: &[&str], to: Target, transforms: Vec<Transform>| {
        map_first(&mut columns, headers, names, to, transforms);
    };
    add(&["~key"], Target::SupplierSku, vec![]);
    add(&["~title"], Target::Title, vec![]);
    add(&["~description"], Target::Description, vec![]);
    add(&["~parent"], Target::ParentSku, vec![]);
    add(&["~attributes"], Target::Attributes { separator: LIST_SEPARATOR.into() }, vec![]);
    add(&["enabled"], Target::Status, status_lookup(&[("1", "active"), ("0", "draft")]));
    add(&["ean"], Target::Gtin, vec![]);
    add(&["brand"], Target::Brand, vec![]);
    let categories = Target::Category { separator: "\u{0}".into(), list_separator: Some(",".into()) };
    add(&["categories"], categories, vec![]);
    for name in ["image", "picture", "variation_image"] {
        add(&[name], Target::Image { separator: None, base_url: None }, vec![]);
    }
    for header in headers {
        if let Some(currency) = header.trim().strip_prefix("price-") {
            let to = Target::Price { price_type: PriceType::Retail, currency: Some(currency.to_string()) };
            columns.push(mapping(header, to));
        }
    }
    shop_template(columns)
}

/// An Akeneo column name: `code[-locale][-channel]` (or `code-unit`, `code-<currency>`).
struct AkeneoColumn<'a> {
    code: &'a str,
    locale: Option<&'a str>,
    channel: Option<&'a str>,
}

impl<'a> AkeneoColumn<'a> {
    fn parse(header: &'a str) -> Self {
        let mut parts = header.trim().split('-');
        let code = parts.next().unwrap_or("");
        let (mut locale, mut channel) = (None, None);
        for part in parts {
            let is_locale = part.len() == 5 && part.as_bytes()[2] == b'_';
            if is_locale { locale = Some(part) } else { channel = Some(part) }
        }
        AkeneoColumn { code, locale, channel }
    }

    /// Lower is preferred: en_US (else no locale, else others), `ecommerce` (or no channel) before other channels.
    fn rank(&self) -> (u8, u8) {
        let locale = match self.locale {
            Some("en_US") => 0,
            None => 1,
            Some(_) => 2,
        };
        let channel = match self.channel {
            None | Some("ecommerce") => 0,
            Some(_) => 1,
        };
        (locale, channel)
    }
}

/// Column positions of an Akeneo export, each attribute's columns by preference.
struct AkeneoShaper {
    headers: Vec<String>,
    /// `code` of a product-model file, else `sku`.
    key: Option<usize>,
    models: bool,
    parent: Option<usize>,
    /// Attribute code → its value columns, preferred first, and its unit column.
    values: BTreeMap<String, (Vec<usize>, Option<usize>)>,
}

impl AkeneoShaper {
    fn new(headers: &[String]) -> Self {
        let at = |name: &str| find(headers, &[name]).and_then(|h| headers.iter().position(|x| x == h));
        let models = at("family_variant").is_some() && at("code").is_some();
        // Attribute code → (rank, column index) of its columns.
        type Ranked = BTreeMap<String, Vec<((u8, u8), usize)>>;
        let mut ranked = Ranked::new();
        let mut units: HashMap<String, usize> = HashMap::new();
        for (index, header) in headers.iter().enumerate() {
            let column = AkeneoColumn::parse(header);
            // Associations (`X_SELL-products`, `PACK-groups`): links to other products, not values.
            let association = column.code.bytes().any(|b| b.is_ascii_uppercase());
            if column.code.is_empty() || association {
                continue;
            }
            if column.channel == Some("unit") && column.locale.is_none() {
                units.insert(column.code.to_string(), index);
                continue;
            }
            ranked.entry(column.code.to_string()).or_default().push((column.rank(), index));
        }
        let values = ranked
            .into_iter()
            .map(|(code, mut columns)| {
                columns.sort();
                let unit = units.get(&code).copied();
                (code, (columns.into_iter().map(|(_, index)| index).collect(), unit))
            })
            .collect();
        let mut shaped = headers.to_vec();
        shaped.extend(AKENEO_OWN.map(String::from));
        AkeneoShaper {
            headers: shaped,
            key: if models { at("code") } else { at("sku") },
            models,
            parent: at("parent"),
            values,
        }
    }

    /// The first value of the attribute among its columns, in order of preference, with its unit.
    fn value(&self, row: &Row, code: &str) -> Option<String> {
        let (columns, unit) = self.values.get(code)?;
        let value = columns.iter().filter_map(|c| row.fields.get(*c)).map(|v| v.trim()).find(|v| !v.is_empty())?;
        match unit.and_then(|c| row.fields.get(c)).map(|u| u.trim()).filter(|u| !u.is_empty()) {
            Some(unit) => Some(format!("{value} {unit}")),
            None => Some(value.to_string()),
        }
    }
}

impl Shaper for AkeneoShaper {
    fn headers(&self) -> Vec<String> {
        self.headers.clone()
    }

    fn shape(&mut self, mut row: Row) -> Vec<Row> {
        let get = |column: Option<usize>| column.and_then(|c| row.fields.get(c)).map(|v| v.trim()).unwrap_or("");
        let (code, parent) = (get(self.key).to_string(), get(self.parent).to_lowercase());
        let mut attributes: Vec<String> = Vec::new();
        for name in self.values.keys() {
            if AKENEO_MAPPED.contains(&name.as_str()) {
                continue;
            }
            if let Some(value) = self.value(&row, name) {
                attributes.push(format!("{name}={value}"));
            }
        }
        let names: &[&str] = if self.models && !parent.is_empty() {
            &["variation_name", "name", "erp_name"]
        } else {
            &["name", "erp_name", "variation_name"]
        };
        let title = names.iter().find_map(|name| self.value(&row, name)).unwrap_or_default();
        let description =
            ["description", "short_description"].iter().find_map(|name| self.value(&row, name)).unwrap_or_default();
        let (key, parent) = if self.models {
            if !parent.is_empty() {
                attributes.push(format!("parent_model={parent}"));
            }
            let key = if code.is_empty() { code } else { format!("model:{}", code.to_lowercase()) };
            (key, String::new())
        } else {
            let parent = if parent.is_empty() { parent } else { format!("model:{parent}") };
            (code, parent)
        };
        row.fields.resize(self.headers.len() - AKENEO_OWN.len(), String::new());
        row.fields.extend([key, title, description, parent, attributes.join(LIST_SEPARATOR)]);
        vec![row]
    }
}

// The PrestaShop shaper's own columns.
const PRESTASHOP_OWN: [&str; 3] = ["~key", "~parent", "~options"];

fn prestashop(headers: &[String]) -> Template {
    let combination = find(headers, &["Product ID*"]).is_some();
    let mut columns = Vec::new();
    let mut add = |names: &[&str], to: Target, transforms: Vec<Transform>| {
        map_first(&mut columns, headers, names, to, transforms);
    };
    add(&["~key"], Target::SupplierSku, vec![]);
    add(&["~parent"], Target::ParentSku, vec![]);
    add(&["~options"], Target::VariantOptions { separator: LIST_SEPARATOR.into() }, vec![]);
    add(&["Reference #"], Target::Attribute { name: "reference".into() }, vec![]);
    add(
        &["Supplier reference #", "Supplier reference"],
        Target::Attribute { name: "supplier_reference".into() },
        vec![],
    );
    add(&["Name *", "Name*", "Name"], Target::Title, vec![]);
    add(&["Description"], Target::Description, vec![]);
    add(&["Manufacturer"], Target::Brand, vec![]);
    add(&["EAN13"], Target::Gtin, vec![]);
    add(&["Active (0/1)"], Target::Status, status_lookup(&[("1", "active"), ("0", "draft")]));
    // Category names (or ids), each its own category: no path separator inside a name.
    let categories = Target::Category { separator: "\u{0}".into(), list_separator: Some(",".into()) };
    add(&["Categories (x,y,z...)", "Categories (x,y,z,...)"], categories, vec![]);
    add(&["Price tax excluded", "Price tax excl."], price(PriceType::Retail), vec![]);
    // A combination's price is relative to its product's (1.4 calls it `Price`).
    let impact: &[&str] = if combination { &["Impact on price", "Price"] } else { &["Impact on price"] };
    add(impact, Target::Attribute { name: "price_impact".into() }, vec![]);
    add(&["Wholesale price"], Target::Cost, vec![]);
    add(&["Quantity"], Target::Stock, vec![]);
    let images = Target::Image { separator: Some(",".into()), base_url: None };
    add(&["Image URLs (x,y,z...)", "Image URLs (x,y,z,...)"], images, vec![]);
    shop_template(columns)
}

/// Column positions of a PrestaShop product or combination file.
struct PrestashopShaper {
    headers: Vec<String>,
    /// The product's id (a product file's `Product ID`/`id`, a combination's `Product ID*`).
    id: Option<usize>,
    reference: Option<usize>,
    /// A combination file: `Attribute (Name:Type:Position)*` and `Value (Value:Position)*` (9.x), or
    /// `Options (Group:Value)*` (1.4).
    combination: bool,
    attribute_names: Option<usize>,
    attribute_values: Option<usize>,
    options: Option<usize>,
}

impl PrestashopShaper {
    fn new(headers: &[String]) -> Self {
        let at = |names: &[&str]| find(headers, names).and_then(|h| headers.iter().position(|x| x == h));
        let combination = at(&["Product ID*"]).is_some();
        let mut shaped = headers.to_vec();
        shaped.extend(PRESTASHOP_OWN.map(String::from));
        PrestashopShaper {
            headers: shaped,
            id: at(&["Product ID*", "Product ID", "ID"]),
            reference: if combination { at(&["Reference"]) } else { at(&["Reference #", "Reference"]) },
            combination,
            attribute_names: at(&["Attribute (Name:Type:Position)*"]),
            attribute_values: at(&["Value (Value:Position)*"]),
            options: at(&["Options (Group:Value)*"]),
        }
    }

    /// A combination's `axis=value` pairs.
    fn options(&self, row: &Row) -> Vec<(String, String)> {
        let get = |column: Option<usize>| column.and_then(|c| row.fields.get(c)).map(|v| v.trim()).unwrap_or("");
        if let Some(column) = self.options {
            // `Color:Blue, Disk Space:16GO`
            return get(Some(column))
                .split(',')
                .filter_map(|pair| pair.split_once(':'))
                .map(|(axis, value)| (axis.trim().to_string(), value.trim().to_string()))
                .collect();
        }
        // `Color:color:0, Disk space:select:1` with `Blue:0, 16GB:1`: names and values in the same order.
        let names = get(self.attribute_names).split(',').map(|n| n.split(':').next().unwrap_or("").trim());
        let values = get(self.attribute_values)
            .split(',')
            .map(|v| v.rsplit_once(':').map(|(value, _)| value).unwrap_or(v).trim());
        names.zip(values).map(|(axis, value)| (axis.to_string(), value.to_string())).collect()
    }
}

impl Shaper for PrestashopShaper {
    fn headers(&self) -> Vec<String> {
        self.headers.clone()
    }

    fn shape(&mut self, mut row: Row) -> Vec<Row> {
        let get = |column: Option<usize>| column.and_then(|c| row.fields.get(c)).map(|v| v.trim()).unwrap_or("");
        let (id, reference) = (get(self.id).to_string(), get(self.reference).to_string());
        let own = if self.combination {
            let options: Vec<(String, String)> =
                self.options(&row).into_iter().filter(|(axis, value)| !axis.is_empty() && !value.is_empty()).collect();
            let key = match reference.as_str() {
                "" if id.is_empty() => String::new(),
                "" => {
                    let values: Vec<&str> = options.iter().map(|(_, v)| v.as_str()).collect();
                    format!("id:{id}/{}", values.join("/"))
                }
                reference => reference.to_string(),
            };
            let parent = if id.is_empty() { String::new() } else { format!("id:{id}") };
            let options = options.iter().map(|(a, v)| format!("{a}={v}")).collect::<Vec<_>>().join(LIST_SEPARATOR);
            [key, parent, options]
        } else {
            let key = if id.is_empty() { reference } else { format!("id:{id}") };
            [key, String::new(), String::new()]
        };
        // Rows can be ragged (PrestaShop's own samples are): the own columns go after the header's.
        row.fields.resize(self.headers.len() - PRESTASHOP_OWN.len(), String::new());
        row.fields.extend(own);
        vec![row]
    }
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

#[cfg(test)]
mod shaper_tests {
    use super::*;
    use crate::imports::mapping::{Cell, MappedRow};

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    /// Shapes `rows` (fields in `headers` order) with the preset and maps them.
    fn shape(preset: Preset, headers: &[&str], rows: &[&[&str]]) -> Vec<MappedRow> {
        let headers = strings(headers);
        let mut shaper = preset.shaper(&headers).unwrap();
        let shaped_headers = shaper.headers();
        let mapper = preset.template(&shaped_headers).mapper(&shaped_headers).unwrap();
        let mut shaped = Vec::new();
        for (index, fields) in rows.iter().enumerate() {
            shaped.extend(shaper.shape(Row { line: index as u64 + 2, fields: strings(fields) }));
        }
        shaped.extend(shaper.finish());
        let lines: Vec<u64> = shaped.iter().map(|r| r.line).collect();
        assert!(lines.windows(2).all(|w| w[0] <= w[1]), "lines never go back: {lines:?}");
        shaped.iter().map(|row| mapper.map(&row.fields)).collect()
    }

    fn value(cell: &Option<Cell>) -> &str {
        cell.as_ref().map(|c| c.value.as_str()).unwrap_or("")
    }

    #[test]
    fn shopify_handles_become_a_parent_and_variants_or_one_product() {
        let headers = [
            "Handle",
            "Title",
            "Option1 Name",
            "Option1 Value",
            "Variant SKU",
            "Variant Price",
            "Image Src",
            "Image Position",
            "Variant Image",
            "Status",
        ];
        let rows: [&[&str]; 5] = [
            &["tee", "Tee", "Size", "S", "T-S", "10", "https://x/a.jpg", "1", "https://x/s.jpg", "active"],
            &["tee", "", "", "M", "T-M", "11", "", "", "", ""],
            &["tee", "", "", "", "", "", "https://x/b.jpg", "2", "", ""],
            &["cap", "Cap", "Title", "Default Title", "CAP", "5", "https://x/c.jpg", "1", "", "archived"],
            &["mug", "Mug", "Title", "Default Title", "", "7", "", "", "", "draft"],
        ];
        let mapped = shape(Preset::Shopify, &headers, &rows);
        let keys: Vec<&str> = mapped.iter().map(|r| value(&r.supplier_sku)).collect();
        assert_eq!(keys, ["tee", "tee/S", "tee/M", "cap", "mug"]);
        let parent = &mapped[0];
        assert!(parent.prices.is_empty() && parent.parent_sku.is_none());
        let images: Vec<&str> = parent.images.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(images, ["https://x/a.jpg", "https://x/b.jpg"], "the image-only row's image is the product's");
        let medium = &mapped[2];
        assert_eq!((value(&medium.title), value(&medium.parent_sku)), ("Tee - M", "tee"));
        assert_eq!(value(&medium.status), "active", "the product's status, given on its first row");
        assert_eq!(medium.variant_options[0].0, "Size");
        let cap = &mapped[3];
        assert!(cap.parent_sku.is_none() && cap.variant_options.is_empty(), "one `Default Title` variant: a product");
        assert_eq!(value(&cap.status), "archived");
    }

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

    #[test]
    fn prestashop_combinations_are_variants_of_their_product_id() {
        let headers = ["Product ID*", "Attribute (Name:Type:Position)*", "Value (Value:Position)*", "Reference"];
        let rows: [&[&str]; 2] = [
            &["1", "Color:color:0, Disk space:select:1", "Blue:0, 16GB:1", "NANO-B16"],
            &["1", "Color:color:0, Disk space:select:1", "Pink:0, 8GB:1", ""],
        ];
        let mapped = shape(Preset::Prestashop, &headers, &rows);
        assert_eq!(value(&mapped[0].supplier_sku), "NANO-B16");
        assert_eq!(value(&mapped[1].supplier_sku), "id:1/Pink/8GB", "no reference: the product and the values");
        assert_eq!(value(&mapped[1].parent_sku), "id:1");
        let options: Vec<(&str, &str)> =
            mapped[1].variant_options.iter().map(|(a, c)| (a.as_str(), c.value.as_str())).collect();
        assert_eq!(options, [("Color", "Pink"), ("Disk space", "8GB")]);
        let old = shape(
            Preset::Prestashop,
            &["Product ID*", "Options (Group:Value)*", "Reference"],
            &[&["2", "Color:Blue, Disk Space:16GO", ""]],
        );
        assert_eq!(value(&old[0].supplier_sku), "id:2/Blue/16GO");
        let products = shape(Preset::Prestashop, &["Product ID", "Name *", "Reference #"], &[&["7", "Pod", "RP-7"]]);
        assert_eq!(value(&products[0].supplier_sku), "id:7");
        assert_eq!(products[0].attributes[0].1.value, "RP-7");
    }

    #[test]
    fn akeneo_prefers_english_and_ecommerce_and_keys_models_by_code() {
        let headers = [
            "sku",
            "parent",
            "name-de_DE",
            "name-en_US",
            "description-fr_FR-ecommerce",
            "description-en_US-print",
            "description-en_US-ecommerce",
            "weight",
            "weight-unit",
            "price-EUR",
            "X_SELL-products",
            "enabled",
        ];
        let rows: [&[&str]; 2] = [
            &["J-XL", "Model-Jacket", "Jacke", "Jacket", "Veste", "print", "web", "500", "GRAM", "9.90", "J-L", "1"],
            &["J-L", "", "Jacke", "", "", "", "", "", "", "", "", "0"],
        ];
        let mapped = shape(Preset::Akeneo, &headers, &rows);
        assert_eq!(value(&mapped[0].title), "Jacket");
        assert_eq!(value(&mapped[0].description), "web");
        assert_eq!(value(&mapped[0].parent_sku), "model:model-jacket", "model codes ignore case");
        assert_eq!(mapped[0].prices[0].1.as_deref(), Some("EUR"));
        let attributes: Vec<(&str, &str)> =
            mapped[0].attributes.iter().map(|(n, c)| (n.as_str(), c.value.as_str())).collect();
        assert_eq!(attributes, [("weight", "500 GRAM")], "associations are links, not values");
        assert_eq!(value(&mapped[1].title), "Jacke", "another locale rather than nothing");
        assert_eq!(value(&mapped[1].status), "draft");
        let models = shape(
            Preset::Akeneo,
            &["code", "family_variant", "parent", "variation_name-en_US", "name"],
            &[
                &["Jacket", "clothing_size", "", "", "Jacket"],
                &["jacket_blue", "clothing_size", "Jacket", "Jacket blue", "Jacket"],
            ],
        );
        assert_eq!(value(&models[0].supplier_sku), "model:jacket");
        assert_eq!((value(&models[1].supplier_sku), value(&models[1].title)), ("model:jacket_blue", "Jacket blue"));
        assert!(models[1].parent_sku.is_none(), "a sub-model is not a variant: variants are one level deep");
        let root = models[1].attributes.iter().find(|(name, _)| name == "parent_model").map(|(_, c)| c.value.as_str());
        assert_eq!(root, Some("jacket"));
    }
}
