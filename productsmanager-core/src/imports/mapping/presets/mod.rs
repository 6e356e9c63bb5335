//! Built-in templates for files whose layout is known, so they import without writing a mapping. A preset builds
//! its [`Template`] from the file's header (the columns a platform writes vary with its version, settings and
//! plugins) and, where a platform spreads one fact over several columns or rows, a [`Shaper`] computes columns of
//! its own (named `~…`) before mapping.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod akeneo;
mod google;
mod magento;
mod prestashop;
mod shopify;
mod woocommerce;

use self::akeneo::{AkeneoShaper, akeneo};
pub(crate) use self::akeneo::{AkeneoStructure, StructureReader};
use self::google::{GoogleShaper, google};
use self::magento::{MagentoShaper, magento};
use self::prestashop::{PrestashopShaper, prestashop};
use self::shopify::{ShopifyShaper, shopify};
use self::woocommerce::{WoocommerceShaper, woocommerce};
use super::template::{ColumnMapping, InvalidGtin, RelativeImages, SeoPart, Target, Template, UnmappedColumns};
use super::transform::Transform;
use super::vocabulary::{Vocabulary, VocabularyEntry};
use crate::catalog::{CurrencyCode, PriceType};
use crate::imports::ImportError;
use crate::imports::parse::Row;

/// Row-level work of a preset before mapping: columns computed from others (a key, a parent, variant options).
pub trait Shaper: Send {
    /// The shaped rows' columns: the file's, then the preset's own.
    fn headers(&self) -> Vec<String>;
    /// The file's columns (0-based) it reads into its own, with what for: imported though no mapping names them.
    fn reads(&self) -> Vec<(usize, &'static str)>;
    /// The shaped rows one file row gives (none while it gathers rows that belong together). Their lines never go
    /// back (a resumed import skips the rows up to its checkpoint's line; rows of one line share a batch).
    fn shape(&mut self, row: Row) -> Vec<Row>;
    /// The rows still gathered at the end of the file.
    fn finish(&mut self) -> Vec<Row> {
        Vec::new()
    }
    /// Rows of the file it set aside on purpose (not gathered into another), by why: the summary counts them as
    /// skipped.
    fn set_aside(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
    /// Codes the rows shaped so far defined for the supplier's next files (Akeneo's product models), taken once.
    fn learned(&mut self) -> Vec<VocabularyEntry> {
        Vec::new()
    }
}

/// Where one column of a file goes, as a preset reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnUse {
    /// The column as the file names it.
    pub column: String,
    /// The fields it feeds (`title`, `attribute \`Tags\``, `the key (the offer's supplier SKU)`), or `not imported`.
    pub goes_to: String,
}

/// A known file layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Our own column names: `sku` (the supplier SKU, required), `product_sku`, `gtin`, `title`, `description`,
    /// `brand`, `category` (`Home > Garden`, several separated by `|`, the main one first), `price`, `sale_price`,
    /// `msrp`, `purchase_price`, `currency`, `cost`, `stock` (the supplier's), `product_stock` (our own),
    /// `product_stock:<location>` (our own stock at another location), `lead_time_days`, `offers` (every offer as
    /// a JSON list, see [`Target::Offers`]: with it, `cost`, `stock` and `lead_time_days` are not read),
    /// `image_url` (several separated by `|`), `status`, `parent_sku`,
    /// `price_windows` (windowed
    /// prices: `sale 19.99 EUR 2026-12-01T00:00:00Z/2026-12-25T00:00:00Z`, several separated by `|`; the column
    /// given, they replace the windowed prices files set), `slug:<locale>`, `meta_title:<locale>`,
    /// `meta_description:<locale>` (SEO metadata), `price:<currency>` (and
    /// `sale_price:`, `msrp:`, `purchase_price:`) for a price in another currency than the row's,
    /// `attribute:<name>`, `option:<axis>`. Our CSV and XLSX exports write these columns.
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
    /// (codes ignore case, as in Akeneo); a product with a `parent` is a variant of it. Akeneo's structure files
    /// (attributes, family variants, attribute options, categories) are read into the supplier's vocabulary, and so are the
    /// models' family variants: import them first, then the models, then the products. With them a product is a
    /// variant of its root model, its options the axes of every level of the family variant (a sub-model of a
    /// two-level one is set aside), option codes become labels and category codes paths of labels; without them a
    /// sub-model is a product of its own (variants are one level deep), its root model kept as the attribute
    /// `parent_model`, and codes stay codes. Other values become attributes.
    Akeneo,
    /// A Google Merchant Center product feed (RSS 2.0 or Atom XML, or tab-separated text), as suppliers publish
    /// their catalogs: `id` is the key (the supplier's), `price` and `sale_price` name their currency (`349.00
    /// EUR`; a sale with `sale_price_effective_date` stays an attribute), `image_link` and `additional_image_link`
    /// are the images, `product_type` the category; items sharing an `item_group_id` are variants of a product made
    /// for the group (key `group:<id>`, titled after the first item without its option values), `color` and `size`
    /// their options; `availability` `out_of_stock` is a stock of 0 (in stock: unknown); every other column is an
    /// attribute of its name.
    #[serde(rename = "google_merchant")]
    GoogleMerchant,
    /// The preset whose export the header is, told by the columns only that platform writes (`Handle` and `Variant
    /// SKU` for Shopify, `store_view_code` for Magento…; see [`Preset::detect`]); `native` when none stands out.
    Auto,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 8] = [
        Preset::Native,
        Preset::Woocommerce,
        Preset::Prestashop,
        Preset::Shopify,
        Preset::Magento,
        Preset::Akeneo,
        Preset::GoogleMerchant,
        Preset::Auto,
    ];

    /// Lowercase name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Native => "native",
            Preset::Woocommerce => "woocommerce",
            Preset::Prestashop => "prestashop",
            Preset::Shopify => "shopify",
            Preset::Magento => "magento",
            Preset::Akeneo => "akeneo",
            Preset::GoogleMerchant => "google_merchant",
            Preset::Auto => "auto",
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
            Preset::GoogleMerchant => google(headers),
            Preset::Auto => Self::detect(headers).unwrap_or(Preset::Native).template(headers),
        }
    }

    /// Where each column of a file with this header goes: the fields its mappings feed and what the preset's row
    /// shaping reads it for, or `not imported` (the summary of an import names those too). The README's tables
    /// of each platform's export are made from it.
    ///
    /// ```
    /// use productsmanager_core::imports::mapping::Preset;
    ///
    /// let headers: Vec<String> = ["SKU", "Name", "Weight (kg)", "Is featured?"].map(String::from).to_vec();
    /// let uses = Preset::Woocommerce.column_uses(&headers);
    /// assert_eq!(uses[2].goes_to, "attribute `Weight (kg)`");
    /// assert_eq!(uses[3].goes_to, "not imported");
    /// ```
    pub fn column_uses(self, headers: &[String]) -> Vec<ColumnUse> {
        let shaper = self.shaper(headers);
        let reads = shaper.as_ref().map(|s| s.reads()).unwrap_or_default();
        let shaped = shaper.as_ref().map(|s| s.headers()).unwrap_or_else(|| headers.to_vec());
        let template = self.template(&shaped);
        headers
            .iter()
            .enumerate()
            .map(|(index, column)| {
                let mut uses: Vec<String> = template
                    .columns
                    .iter()
                    .filter(|mapping| mapping.column.trim().eq_ignore_ascii_case(column.trim()))
                    .map(|mapping| mapping.to.describe())
                    .collect();
                uses.extend(reads.iter().filter(|(read, _)| *read == index).map(|(_, what)| what.to_string()));
                uses.dedup();
                let goes_to = if uses.is_empty() { "not imported".to_string() } else { uses.join("; ") };
                ColumnUse { column: column.clone(), goes_to }
            })
            .collect()
    }

    /// The row-level work the preset does before mapping, for a file with this header.
    pub fn shaper(self, headers: &[String]) -> Option<Box<dyn Shaper>> {
        self.shaper_knowing(headers, Vocabulary::default())
    }

    /// The shaper, knowing what the supplier's earlier files taught (Akeneo's family variants, models, options and
    /// categories).
    pub(crate) fn shaper_knowing(self, headers: &[String], vocabulary: Vocabulary) -> Option<Box<dyn Shaper>> {
        match self {
            Preset::Native => None,
            Preset::Prestashop => Some(Box::new(PrestashopShaper::new(headers))),
            Preset::Woocommerce => Some(Box::new(WoocommerceShaper::new(headers))),
            Preset::Shopify => Some(Box::new(ShopifyShaper::new(headers))),
            Preset::Magento => Some(Box::new(MagentoShaper::new(headers))),
            Preset::Akeneo => Some(Box::new(AkeneoShaper::new(headers, vocabulary))),
            Preset::GoogleMerchant => Some(Box::new(GoogleShaper::new(headers))),
            Preset::Auto => Self::detect(headers).unwrap_or(Preset::Native).shaper_knowing(headers, vocabulary),
        }
    }

    /// Columns only this platform's export has, as it spells them (`Categories` is WooCommerce's, `categories`
    /// Magento's and Akeneo's): how a header is recognised.
    fn signature(self) -> &'static [&'static str] {
        match self {
            Preset::Woocommerce => &[
                "Type",
                "Published",
                "Is featured?",
                "Visibility in catalog",
                "Short description",
                "Tax status",
                "In stock?",
                "Backorders allowed?",
                "Regular price",
                "Parent",
            ],
            Preset::Shopify => &[
                "Handle",
                "Body (HTML)",
                "Vendor",
                "Variant SKU",
                "Variant Price",
                "Variant Grams",
                "Variant Barcode",
                "Variant Inventory Qty",
                "Option1 Name",
                "Image Src",
            ],
            Preset::Prestashop => &[
                "Product ID",
                "Product ID*",
                "Active (0/1)",
                "Name *",
                "Name*",
                "Reference #",
                "Price tax excluded",
                "Price tax excl.",
                "Impact on price",
                "Options (Group:Value)*",
                "Attribute (Name:Type:Position)*",
                "EAN13",
            ],
            Preset::Magento => &[
                "store_view_code",
                "attribute_set_code",
                "attribute_set",
                "product_type",
                "product_websites",
                "product_online",
                "configurable_variations",
                "additional_attributes",
                "base_image",
                "url_key",
                "qty",
                "visibility",
            ],
            Preset::Akeneo => &["family", "family_variant", "enabled", "groups", "parent", "categories"],
            Preset::GoogleMerchant => &[
                "link",
                "image_link",
                "additional_image_link",
                "availability",
                "condition",
                "google_product_category",
                "product_type",
                "item_group_id",
                "identifier_exists",
                "mpn",
            ],
            Preset::Native => &[
                "product_sku",
                "gtin",
                "title",
                "parent_sku",
                "image_url",
                "sale_price",
                "currency",
                "lead_time_days",
                "stock",
            ],
            Preset::Auto => &[],
        }
    }

    /// How many of this preset's signature columns the header has (ours also counts `attribute:` and `option:`
    /// columns, and needs a `sku`).
    fn fit(self, headers: &[String]) -> usize {
        let found = self.signature().iter().filter(|name| headers.iter().any(|h| h.trim() == **name)).count();
        if self != Preset::Native {
            return found;
        }
        if !headers.iter().any(|h| h.trim().eq_ignore_ascii_case("sku")) {
            return 0;
        }
        let prefixed = |prefix: &str| headers.iter().any(|h| h.trim().to_ascii_lowercase().starts_with(prefix));
        found + usize::from(prefixed("attribute:")) + usize::from(prefixed("option:"))
    }

    /// The preset whose export this header is: the one with the most of its signature columns, at least two and
    /// more than any other; `None` when none stands out.
    ///
    /// ```
    /// use productsmanager_core::imports::mapping::Preset;
    ///
    /// let shopify: Vec<String> = ["Handle", "Title", "Variant SKU", "Variant Price"].map(String::from).into();
    /// assert_eq!(Preset::detect(&shopify), Some(Preset::Shopify));
    /// let plain: Vec<String> = ["Ref", "Price"].map(String::from).into();
    /// assert_eq!(Preset::detect(&plain), None);
    /// ```
    pub fn detect(headers: &[String]) -> Option<Preset> {
        // Akeneo's structure files, and its other files (families, channels…: `code` and `label-<locale>`
        // columns), are Akeneo's: read, or refused naming what they are.
        let akeneo_labelled =
            headers.iter().any(|h| h.trim() == "code") && headers.iter().any(|h| h.trim().starts_with("label-"));
        if akeneo_labelled || AkeneoStructure::of(headers).is_some() {
            return Some(Preset::Akeneo);
        }
        let mut fits: Vec<(usize, Preset)> =
            Self::ALL.into_iter().filter(|p| *p != Preset::Auto).map(|p| (p.fit(headers), p)).collect();
        fits.sort_by_key(|fit| std::cmp::Reverse(fit.0));
        match fits[..] {
            [(best, preset), (second, _), ..] if best >= 2 && best > second => Some(preset),
            _ => None,
        }
    }

    /// This preset for a file with this header: `Auto` becomes the detected preset (or `native`), and a preset
    /// none of whose columns the header has, while it is plainly another platform's export, is refused, naming
    /// the one that fits (else every row would be refused one by one, "supplier SKU empty"); so is a platform's
    /// file of something other than products.
    pub fn fitted(self, headers: &[String]) -> Result<Preset, ImportError> {
        let detected = Self::detect(headers);
        match (self, detected) {
            (Preset::Auto, detected) => detected.unwrap_or(Preset::Native).products_or_refused(headers),
            (given, Some(other)) if other != given && given.fit(headers) == 0 => {
                let columns: Vec<&str> =
                    other.signature().iter().copied().filter(|c| headers.iter().any(|h| h.trim() == *c)).collect();
                // Akeneo's structure files are told by their layout, not by a product file's columns.
                let what = match AkeneoStructure::of(headers) {
                    Some(structure) => structure.describe().to_string(),
                    None => format!("a {other} export (it has {})", columns.join(", ")),
                };
                Err(ImportError::invalid(
                    "preset",
                    format!(
                        "the header has none of the {given} preset's columns; it is {what}: import it with the \
                         {other} preset (`--preset {other}`, or `auto`)"
                    ),
                ))
            }
            (given, _) => given.products_or_refused(headers),
        }
    }

    /// This preset when the header is a product file of its platform; a platform's other exports (PrestaShop's
    /// categories, brands and suppliers, Akeneo's attributes and families, WooCommerce's tax rates, a WordPress
    /// XML export) are refused at the header, saying what the file is. Their columns overlap a product file's
    /// (`ID`, `Name *`, `Active (0/1)`, `code`): read as products, a categories file updated the products whose
    /// ids its categories have, and an attributes file was refused row by row.
    fn products_or_refused(self, headers: &[String]) -> Result<Preset, ImportError> {
        // Header names as the presets read them: whatever their case.
        let has = |names: &[&str]| headers.iter().any(|h| names.iter().any(|n| n.eq_ignore_ascii_case(h.trim())));
        let (product_columns, what): (&[&str], Option<&str>) = match self {
            Preset::Prestashop => (
                &[
                    "Product ID",
                    "Product ID*",
                    "Reference #",
                    "Reference",
                    "Price tax excluded",
                    "Price tax excl.",
                    "Price tax included",
                    "Tax rules ID",
                    "Wholesale price",
                    "On sale (0/1)",
                    "EAN13",
                    "Quantity",
                    "Impact on price",
                    "Categories (x,y,z...)",
                    "Categories (x,y,z,...)",
                    "Image URLs (x,y,z...)",
                    "Image URLs (x,y,z,...)",
                    "Feature(Name:Value:Position)",
                ],
                if has(&["Parent category"]) {
                    Some("PrestaShop's categories file")
                } else if has(&["Customer email *", "Address 1 *"]) {
                    Some("PrestaShop's addresses file")
                } else if has(&["Alias *", "Alias"]) {
                    Some("PrestaShop's search aliases file")
                } else if has(&["Name *", "Name*"]) && has(&["Active (0/1)"]) {
                    // What brands, manufacturers and suppliers files have, and nothing of a product's.
                    Some("a PrestaShop file of another kind (brands, manufacturers, suppliers…)")
                } else {
                    None
                },
            ),
            // Its attributes, family variants, attribute options and categories are read into the supplier's vocabulary.
            Preset::Akeneo if AkeneoStructure::of(headers).is_some() => return Ok(self),
            Preset::Akeneo => (
                &["sku", "family_variant"],
                if has(&["type"]) && has(&["group", "localizable", "metric_family"]) {
                    Some("Akeneo's attributes file")
                } else if has(&["attributes", "attribute_as_label"]) {
                    Some("Akeneo's families file")
                } else if has(&["parent"]) && !has(&["family"]) {
                    Some("Akeneo's categories file without its `label-<locale>` columns")
                } else if headers.iter().any(|h| h.trim().starts_with("label-")) {
                    Some("an Akeneo file of another kind (channels, attribute groups, association types, groups…)")
                } else {
                    None
                },
            ),
            Preset::Woocommerce => (
                &["SKU", "Name", "Regular price", "Type", "ID"],
                if has(&["Rate %", "Tax Name", "Tax Class"]) {
                    Some("WooCommerce's tax rates file")
                } else if has(&["post_id", "post_type", "guid"]) {
                    Some("a WordPress XML export (WXR; WooCommerce's product CSV export is the file to import)")
                } else {
                    None
                },
            ),
            Preset::Shopify => (&["Handle", "Variant SKU", "Title"], None),
            _ => return Ok(self),
        };
        if has(product_columns) {
            return Ok(self);
        }
        // The product columns in a few words (the full list is long for PrestaShop).
        let columns = match self {
            Preset::Prestashop => "a product ID, a reference, a price, an EAN13, a quantity or categories".to_string(),
            _ => product_columns.join(", "),
        };
        let reason = match what {
            Some(what) => format!(
                "this is {what}, not a product file (the {self} preset reads product files, which have at least one \
                 of {columns}){}",
                match self {
                    Preset::Akeneo => {
                        "; its attributes, family variants, attribute options and categories files are read (the supplier's \
                         vocabulary for its product files)"
                    }
                    _ => "; products bring their categories, brands and suppliers in their own columns",
                }
            ),
            None => format!("this is not a product file for the {self} preset: it has none of {columns}"),
        };
        Err(ImportError::invalid("preset", reason))
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Separates the values of a list a shaper writes into one cell (no value holds it).
const LIST_SEPARATOR: &str = "\u{1f}";

fn mapping(column: &str, to: Target) -> ColumnMapping {
    ColumnMapping { column: column.to_string(), to, transforms: Vec::new(), optional: false }
}

/// Columns named as ours; any other column is refused (a typo must not drop data silently).
fn native(headers: &[String]) -> Template {
    let mut columns = Vec::new();
    for header in headers {
        let name = header.trim().to_ascii_lowercase();
        let to = match (native_price_type(&name), name.as_str()) {
            (Some(price_type), _) => price(price_type),
            (None, "sku") => Target::SupplierSku,
            (None, "product_sku") => Target::Sku,
            (None, "gtin") => Target::Gtin,
            (None, "title") => Target::Title,
            (None, "description") => Target::Description,
            (None, "brand") => Target::Brand,
            (None, "category") => Target::Category { separator: ">".into(), list_separator: Some("|".into()) },
            (None, "cost") => Target::Cost,
            (None, "currency") => Target::Currency,
            (None, "stock") => Target::Stock,
            (None, "product_stock") => Target::ProductStock,
            (None, "lead_time_days") => Target::LeadTimeDays,
            (None, "image_url") => Target::Image { separator: Some("|".into()), base_url: None },
            (None, "status") => Target::Status,
            (None, "availability") => Target::Availability,
            (None, "parent_sku") => Target::ParentSku,
            (None, "price_windows") => Target::PriceWindows,
            (None, "offers") => Target::Offers,
            _ => {
                // The name keeps its case: `attribute:Colour` is the attribute `Colour`.
                let original = header.trim();
                let (kind, rest) = original.split_once(':').unwrap_or(("", ""));
                match (kind.to_ascii_lowercase().as_str(), rest.trim()) {
                    (_, "") => continue,
                    ("attribute", rest) => Target::Attribute { name: rest.to_string() },
                    // `product_stock:shop`: our own stock at that location.
                    ("product_stock", DEFAULT_LOCATION) => Target::ProductStock,
                    ("product_stock", location) => Target::ProductStockAt { location: location.to_string() },
                    ("option", rest) => Target::VariantOption { axis: rest.to_string() },
                    // `slug:en`, `meta_title:en`, `meta_description:en`: SEO metadata in a locale.
                    ("slug" | "meta_title" | "meta_description", locale)
                        if crate::catalog::provenance::is_locale(locale) =>
                    {
                        let part = match kind.to_ascii_lowercase().as_str() {
                            "slug" => SeoPart::Slug,
                            "meta_title" => SeoPart::MetaTitle,
                            _ => SeoPart::MetaDescription,
                        };
                        Target::Seo { locale: locale.to_string(), part }
                    }
                    // `price:USD`: a price in a currency other than the row's.
                    (kind, code) => match (native_price_type(kind), code.parse::<CurrencyCode>()) {
                        (Some(price_type), Ok(currency)) => {
                            Target::Price { price_type, currency: Some(currency.to_string()) }
                        }
                        _ => continue, // refused as unexpected by the header check
                    },
                }
            }
        };
        // Our exports guard cells that a spreadsheet would run as formulas with a `'`: read back as written.
        columns.push(ColumnMapping { transforms: vec![Transform::Unguard {}], ..mapping(header, to) });
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
        changes_only: None,
    }
}

/// The stock location imports set (a shop's stock, our `product_stock` column).
pub(crate) const DEFAULT_LOCATION: &str = "default";

/// Our column of the product's own stock at `location`: `product_stock` at the `default` one,
/// `product_stock:<location>` at another.
pub(crate) fn product_stock_column(location: &str) -> String {
    match location {
        DEFAULT_LOCATION => "product_stock".to_string(),
        other => format!("product_stock:{other}"),
    }
}

/// Our price columns, by type: `price` holds the row's retail price; `price:USD`, the retail price in USD.
pub(crate) const NATIVE_PRICE_COLUMNS: [(PriceType, &str); 4] = [
    (PriceType::Retail, "price"),
    (PriceType::Sale, "sale_price"),
    (PriceType::Msrp, "msrp"),
    (PriceType::Purchase, "purchase_price"),
];

/// The price type our column `name` (lowercase, without a currency) holds.
fn native_price_type(name: &str) -> Option<PriceType> {
    NATIVE_PRICE_COLUMNS.iter().find(|(_, column)| *column == name).map(|(price_type, _)| *price_type)
}

/// Of a shaper's `(column, what for)` pairs, those whose column the file has (a preset's [`Shaper::reads`]).
fn present<const N: usize>(known: [(Option<usize>, &'static str); N]) -> impl Iterator<Item = (usize, &'static str)> {
    known.into_iter().filter_map(|(column, what)| Some((column?, what)))
}

/// The first header among `names` (ignoring case).
fn find<'a>(headers: &'a [String], names: &[&str]) -> Option<&'a String> {
    names.iter().find_map(|name| headers.iter().find(|h| h.trim().eq_ignore_ascii_case(name)))
}

/// The index of the first header among `names` (ignoring case).
fn position(headers: &[String], names: &[&str]) -> Option<usize> {
    find(headers, names).and_then(|h| headers.iter().position(|x| x == h))
}

/// A row's value in `column` (trimmed; empty when the column is absent or the row short).
fn field(row: &Row, column: Option<usize>) -> &str {
    column.and_then(|c| row.fields.get(c)).map(|v| v.trim()).unwrap_or("")
}

/// A shaper's header: the file's columns, then its own.
fn with_own(headers: &[String], own: &[&str]) -> Vec<String> {
    headers.iter().cloned().chain(own.iter().map(|c| c.to_string())).collect()
}

/// A shaped row: the file's `columns` fields (a ragged row padded or cut), then the shaper's own values.
fn append_own<const N: usize>(row: &mut Row, columns: usize, own: [String; N]) {
    row.fields.resize(columns, String::new());
    row.fields.extend(own);
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

/// A shop's SEO column: metadata in the import's SEO locale (the file does not name its language).
fn import_seo(part: SeoPart) -> Target {
    Target::Seo { locale: super::IMPORT_SEO_LOCALE.to_string(), part }
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
        changes_only: None,
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

    /// A platform's files of other things than products are refused at the header, named (the headers are those
    /// of PrestaShop's, Akeneo's and WooCommerce's own sample files); its product files are taken.
    #[test]
    fn a_platforms_other_files_are_refused_saying_what_they_are() {
        let header = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<String>>();
        let cases: [(Preset, &[&str], &str); 6] = [
            (
                Preset::Prestashop,
                &["Address ID", "Alias *", "Active (0/1)", "Customer email *", "Manufacturer", "Address 1 *"],
                "addresses",
            ),
            (
                Preset::Prestashop,
                &["Category ID", "Active (0/1)", "Name *", "Parent category", "Root category (0/1)"],
                "PrestaShop's categories file",
            ),
            (Preset::Auto, &["id", "Active (0/1)", "Name*", "Parent Category", "Description"], "categories"),
            (Preset::Prestashop, &["ID", "Active (0/1)", "Name *", "Description", "Meta title"], "brands"),
            (Preset::Akeneo, &["code", "label-en_US", "attributes", "attribute_as_label"], "families"),
            (Preset::Woocommerce, &["Country Code", "State Code", "Rate %", "Tax Name"], "tax rates"),
        ];
        let families = header(&["code", "label-en_US", "attributes", "attribute_as_label"]);
        let error = Preset::Auto.fitted(&families).unwrap_err().to_string();
        assert!(error.contains("Akeneo's families file"), "auto names Akeneo's other files: {error}");
        let error = Preset::Woocommerce.fitted(&header(&["code", "parent", "label-en_US"])).unwrap_err().to_string();
        assert!(error.contains("it is Akeneo's categories file: import it with the akeneo preset"), "{error}");
        for (preset, names, said) in cases {
            let error = preset.fitted(&header(names)).unwrap_err().to_string();
            assert!(error.contains(said) && error.contains("not a product file"), "{names:?}: {error}");
        }
        // Akeneo's categories, attribute options and family variants are read into the supplier's vocabulary.
        let products: [(Preset, &[&str]); 9] = [
            (Preset::Akeneo, &["code", "parent", "label-en_US"]),
            (Preset::Akeneo, &["code", "label-en_US", "type", "group", "localizable"]),
            (Preset::Prestashop, &["ID", "Active (0/1)", "Name *", "Price tax excluded", "Reference #"]),
            (Preset::Prestashop, &["Product ID", "Active (0/1)", "Name *", "Categories (x,y,z...)"]),
            (Preset::Woocommerce, &["sku", "name", "regular price"]),
            (Preset::Akeneo, &["SKU", "family", "categories"]),
            (Preset::Prestashop, &["Product ID*", "Attribute (Name:Type:Position)*", "Value (Value:Position)*"]),
            (Preset::Akeneo, &["code", "family_variant", "parent", "categories"]),
            (Preset::Akeneo, &["sku", "family", "parent", "categories", "enabled"]),
        ];
        for (preset, names) in products {
            assert_eq!(preset.fitted(&header(names)).unwrap(), preset, "{names:?}");
        }
    }
}

/// Shaping rows as an import does, for the presets' tests.
#[cfg(test)]
mod testing {
    use super::{Preset, Row, Vocabulary};
    use crate::imports::mapping::{Cell, MappedRow};

    pub(super) fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    /// Shapes `rows` (fields in `headers` order) with the preset and maps them.
    pub(super) fn shape(preset: Preset, headers: &[&str], rows: &[&[&str]]) -> Vec<MappedRow> {
        shape_knowing(preset, headers, rows, Vocabulary::default())
    }

    /// [`shape`], the supplier's vocabulary known.
    pub(super) fn shape_knowing(
        preset: Preset,
        headers: &[&str],
        rows: &[&[&str]],
        vocabulary: Vocabulary,
    ) -> Vec<MappedRow> {
        let headers = strings(headers);
        let mut shaper = preset.shaper_knowing(&headers, vocabulary).unwrap();
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

    pub(super) fn value(cell: &Option<Cell>) -> &str {
        cell.as_ref().map(|c| c.value.as_str()).unwrap_or("")
    }
}
