//! [`Template`]: which column of a supplier file feeds which field of ours, as data (JSON), and [`Mapper`], a
//! template checked against a file's header and applied to its rows.

use serde::{Deserialize, Serialize};

use super::transform::{CompiledTransforms, Transform};
use crate::catalog::PriceType;
use crate::imports::ImportError;

/// How a supplier's columns become our fields. Stored as JSON in `mapping_templates.definition`.
///
/// ```
/// use productsmanager_core::imports::mapping::Template;
///
/// let template: Template = serde_json::from_str(r#"{
///     "columns": [
///         {"column": "Ref", "to": "supplier_sku"},
///         {"column": "EAN", "to": "gtin"},
///         {"column": "Designation", "to": "title", "transforms": [{"op": "trim"}]},
///         {"column": "Prix HT", "to": {"price": {"type": "purchase"}}, "transforms": [{"op": "decimal_comma"}]},
///         {"column": "Stock", "to": "stock"}
///     ],
///     "currency": "EUR",
///     "unmapped_columns": "ignore"
/// }"#)?;
/// let mapper = template.mapper(&["Ref".into(), "EAN".into(), "Designation".into(), "Prix HT".into(),
///                                "Stock".into(), "Couleur".into()])?;
/// let row = mapper.map(&["A-1".into(), "4006381333931".into(), " Pot ".into(), "12,50".into(), "3".into(),
///                        "rouge".into()]);
/// assert_eq!(row.title.as_ref().map(|c| c.value.as_str()), Some("Pot"));
/// assert_eq!(row.prices[0].2.value, "12.50");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub columns: Vec<ColumnMapping>,
    /// Currency of prices and costs that name none, when the row has no `currency` column either (then the
    /// supplier's default currency applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// What a column of the file that no mapping names means: refused by default (a renamed column would
    /// otherwise be dropped silently).
    #[serde(default)]
    pub unmapped_columns: UnmappedColumns,
    /// What an invalid GTIN does to its row: refused by default; `ignore` imports the row without it (exports of
    /// shops often carry placeholder barcodes).
    #[serde(default, skip_serializing_if = "is_default")]
    pub invalid_gtin: InvalidGtin,
    /// What a relative image path (`/m/h/a.jpg`) does when no base URL is known (on the mapping or the import's
    /// `image_base_url`): refused by default; `ignore` drops the path (a shop's export names its own media folder).
    #[serde(default, skip_serializing_if = "is_default")]
    pub relative_images: RelativeImages,
    /// The field groups an import with this template may change on products that exist (`["prices"]`: a price
    /// list that never touches titles); every group when not given. Products it creates get every field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes_only: Option<Vec<crate::catalog::FieldGroup>>,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// What an invalid GTIN does to its row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvalidGtin {
    /// The row is refused (`invalid_gtin`).
    #[default]
    Refuse,
    /// The row is imported without a GTIN.
    Ignore,
}

/// What a relative image path without a base URL does to its row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RelativeImages {
    /// The row is refused (`invalid_url`).
    #[default]
    Refuse,
    /// The path is dropped, the row imported.
    Ignore,
}

/// How a refusal of a file's header names the file's own cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderText {
    /// Quoted (`unexpected columns: "Colour"`): the caller gave the file.
    Quoted,
    /// By count and position only: a source took the file, whose text may not be the caller's to read.
    Withheld,
}

/// Whose catalog a file is: it decides what its SKUs and stock are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SourceCatalog {
    /// A supplier's price list: its SKUs and stock are the supplier's own (the offer's), the product's are left
    /// alone. The native preset's default.
    Supplier,
    /// An export of our own shop (WooCommerce, Shopify, PrestaShop, Magento): its stock is the product's own stock,
    /// its SKU also the product's SKU (the presets of WooCommerce and Magento, which keep SKUs unique, map it so).
    /// The shops' presets' default.
    Shop,
}

/// What to do with a column no mapping names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnmappedColumns {
    /// The file is refused before any row is written, naming the columns.
    #[default]
    Refuse,
    Ignore,
}

/// One column of the file and the field it feeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ColumnMapping {
    /// The header's name for it (matched ignoring case).
    pub column: String,
    pub to: Target,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<Transform>,
    /// The file may lack the column; otherwise a file without it is refused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// A field of ours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    /// The supplier's reference for the item: the key of its offer (required in every row).
    SupplierSku,
    /// GTIN (EAN, UPC): the key of the product across suppliers.
    Gtin,
    /// Our own SKU for the product.
    Sku,
    Title,
    Description,
    /// Brand name (created when new).
    Brand,
    /// `draft`, `active` or `archived` (new products are `active` without it).
    Status,
    /// What the supplier charges us (the offer's cost).
    Cost,
    /// Currency of the row's prices and cost that name none.
    Currency,
    /// The supplier's stock for the item.
    Stock,
    /// The product's own stock (at the `default` location), replaced by each row that gives it: what a shop's
    /// export says it holds, where the file is our own shop's catalog rather than a supplier's price list.
    ProductStock,
    /// The product's own stock at another location than `default` (our `product_stock:<location>`), replaced by
    /// each row that gives it.
    ProductStockAt {
        location: String,
    },
    /// Whether the product can be bought when it keeps no count: `in_stock`, `out_of_stock`, `backorder`,
    /// `preorder` (the shops' spellings too: `instock`, `onbackorder`…). A counted stock comes first (see
    /// [`Availability`](crate::catalog::Availability)).
    Availability,
    LeadTimeDays,
    /// A price of ours; its currency is the mapping's, else the row's.
    Price {
        #[serde(rename = "type")]
        price_type: PriceType,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        currency: Option<String>,
    },
    /// A text attribute.
    Attribute {
        name: String,
    },
    /// A category path, names separated by `separator` (`>` by default), in the default taxonomy; several paths in
    /// one cell when `list_separator` is set (`Clothing > Tops, Sale`).
    Category {
        #[serde(default = "default_category_separator")]
        separator: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        list_separator: Option<String>,
    },
    /// Image URLs; several in one cell when `separator` is set; a relative path is joined to `base_url` when set.
    Image {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        separator: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base_url: Option<String>,
    },
    /// The supplier SKU of the parent product: the row is one of its variants.
    ParentSku,
    /// The value of a variant axis (size, colour…).
    VariantOption {
        axis: String,
    },
    /// Several axes in one cell: `axis=value` pairs separated by `separator` (`size=M|colour=red`).
    VariantOptions {
        #[serde(default = "default_options_separator")]
        separator: String,
    },
    /// Several attributes in one cell: `name=value` pairs separated by `separator` (`material=Wool|fit=Slim`).
    Attributes {
        #[serde(default = "default_options_separator")]
        separator: String,
    },
    /// The row's variants, for files that list them on the parent (Magento's `configurable_variations`): records
    /// separated by `separator`, each `sku=<supplier SKU>,axis=value,…`. The variants' rows come earlier in the
    /// file or were imported before.
    Variants {
        #[serde(default = "default_options_separator")]
        separator: String,
    },
    /// A variant's price as a difference from its parent's retail price (`40`, `-5.50`: PrestaShop's "Impact on
    /// price"), in the row's currency: the variant's retail price is the parent's plus this, unless the row gives
    /// its own. A parent without a retail price in that currency gives none.
    PriceImpact,
    /// When the row's prices of `type` apply (WooCommerce's `Date sale price starts`/`ends`, Magento's
    /// `special_price_from_date`/`to_date`, Google's `sale_price_effective_date`): `part` says whether the cell is
    /// the window's `start`, its `end` or both (`interval`, `start/end`). A price with a window is stored windowed,
    /// not open-ended; the column given, the windows of that type that files set before are replaced by the row's
    /// (none when its cells are empty). A date without a time starts at the day's start, and ends after the day.
    PriceWindow {
        #[serde(rename = "type")]
        price_type: PriceType,
        #[serde(default)]
        part: WindowPart,
    },
    /// Windowed prices (our `price_windows` column): entries separated by `|`, each `type amount currency
    /// start/end` (`sale 19.99 EUR 2026-12-01T00:00:00Z/2026-12-25T00:00:00Z`, `..` for an open side). The column
    /// given, the product's windowed prices that files set are the row's (none when the cell is empty).
    PriceWindows,
    /// A sale price as a share off the row's retail price (PrestaShop's `Discount percent`: `5.5` is 5.5 % off),
    /// in each currency the row gives a retail price in, rounded to the currency's minor unit; windowed by a
    /// `price_window` column of the sale price when the file has one.
    SalePercent,
    /// SEO metadata in a locale (our `slug:<locale>`, `meta_title:<locale>`, `meta_description:<locale>`): a row
    /// giving any part of a locale states its metadata there (a slug made from the meta title, else the title,
    /// when the row gives none). A slug another product has in that locale refuses the row.
    Seo {
        locale: String,
        part: SeoPart,
    },
    /// Every offer of the product (our `offers` column): a JSON list, each entry `{"supplier": "<code>", "sku":
    /// "<supplier SKU>", "cost": "12.50 EUR", "stock": 5, "lead_time_days": 3, "available": false}` (only
    /// `supplier` and `sku` required). Each entry is written as that supplier's offer, as listed (a supplier the
    /// catalog lacks is created); the importing supplier's offer under the row's key takes its values from its
    /// entry (a new one holds none without one; a stored one keeps what the entry leaves empty, as with any file).
    /// With this column, the `cost`, `stock` and `lead_time_days` columns are not read: the list states them.
    Offers,
}

/// The locale a preset's [`Target::Seo`] names for a shop's own SEO columns (a stored template may name it too): the
/// import's SEO locale (its `seo_locale` option, else the `imports.seo_locale` setting) takes its place when the
/// file is read.
pub const IMPORT_SEO_LOCALE: &str = "~import";

/// The SEO locale of an import whose options name none (the `imports.seo_locale` setting's default; a job runs
/// with the setting's value, so this serves only a job read without it).
pub(crate) const DEFAULT_SEO_LOCALE: &str = "en";

/// Which part of a product's SEO metadata a [`Target::Seo`] cell gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SeoPart {
    Slug,
    MetaTitle,
    MetaDescription,
}

/// Which side of a price's window a [`Target::PriceWindow`] cell gives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WindowPart {
    /// `start/end` in one cell (ISO 8601 interval; `..` or nothing for an open side).
    #[default]
    Interval,
    Start,
    End,
}

impl Target {
    /// What it is, in a few words (the README's tables of where each column of a platform's export goes).
    pub fn describe(&self) -> String {
        match self {
            Target::SupplierSku => "the key (the offer's supplier SKU)".into(),
            Target::Gtin => "GTIN".into(),
            Target::Sku => "the product's SKU".into(),
            Target::Title => "title".into(),
            Target::Description => "description".into(),
            Target::Brand => "brand".into(),
            Target::Status => "status".into(),
            Target::Cost => "the offer's cost".into(),
            Target::Currency => "the currency of the row's amounts".into(),
            Target::Stock => "the offer's stock".into(),
            Target::ProductStock => "the product's own stock".into(),
            Target::ProductStockAt { location } => format!("the product's own stock at `{location}`"),
            Target::Availability => "availability (in stock, out of stock, backorder, preorder)".into(),
            Target::LeadTimeDays => "the offer's lead time (days)".into(),
            Target::Price { price_type, currency: Some(currency) } => format!("{price_type} price in {currency}"),
            Target::Price { price_type, currency: None } => format!("{price_type} price"),
            Target::Attribute { name } => format!("attribute `{name}`"),
            Target::Category { .. } => "category paths".into(),
            Target::Image { .. } => "image URLs".into(),
            Target::ParentSku => "the parent (the row is its variant)".into(),
            Target::VariantOption { axis } => format!("variant option `{axis}`"),
            Target::VariantOptions { .. } => "variant options".into(),
            Target::Attributes { .. } => "attributes (`name=value` pairs)".into(),
            Target::Variants { .. } => "the row's variants".into(),
            Target::PriceImpact => "a variant's retail price: its parent's plus this".into(),
            Target::PriceWindow { price_type, part: WindowPart::Interval } => {
                format!("when the {price_type} price applies (start/end)")
            }
            Target::PriceWindow { price_type, part: WindowPart::Start } => {
                format!("when the {price_type} price starts")
            }
            Target::PriceWindow { price_type, part: WindowPart::End } => format!("when the {price_type} price ends"),
            Target::PriceWindows => {
                "windowed prices (`type amount currency start/end`, several separated by `|`)".into()
            }
            Target::SalePercent => "a sale price: the retail price less this percentage".into(),
            Target::Seo { locale, part } => {
                let what = match part {
                    SeoPart::Slug => "the slug",
                    SeoPart::MetaTitle => "the meta title",
                    SeoPart::MetaDescription => "the meta description",
                };
                match locale.as_str() {
                    IMPORT_SEO_LOCALE => format!("{what} in the import's SEO locale (`imports.seo_locale`)"),
                    locale => format!("{what} in `{locale}`"),
                }
            }
            Target::Offers => "every offer: supplier, supplier SKU, cost, stock, lead time (a JSON list)".into(),
        }
    }
}

fn default_options_separator() -> String {
    "|".into()
}

fn default_category_separator() -> String {
    ">".into()
}

/// A mapped cell: its value after the transforms, and where it came from (for errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub value: String,
    /// 1-based column number in the file.
    pub column: usize,
}

/// A cell whose transforms refused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    pub column: usize,
    pub column_name: String,
    pub raw_value: String,
    pub reason: String,
}

/// A row in our terms: the non-empty values of the mapped columns. Checked further by the import engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappedRow {
    pub supplier_sku: Option<Cell>,
    pub gtin: Option<Cell>,
    pub sku: Option<Cell>,
    pub title: Option<Cell>,
    pub description: Option<Cell>,
    pub brand: Option<Cell>,
    pub status: Option<Cell>,
    pub cost: Option<Cell>,
    pub currency: Option<Cell>,
    pub stock: Option<Cell>,
    pub product_stock: Option<Cell>,
    /// (location, cell) of the product's own stock at other locations than `default`.
    pub location_stocks: Vec<(String, Cell)>,
    pub availability: Option<Cell>,
    pub lead_time_days: Option<Cell>,
    /// The difference from the parent's retail price.
    pub price_impact: Option<Cell>,
    /// (type, currency named by the mapping, amount)
    pub prices: Vec<(PriceType, Option<String>, Cell)>,
    pub attributes: Vec<(String, Cell)>,
    /// Each path split into names.
    pub categories: Vec<(Vec<String>, Cell)>,
    pub images: Vec<Cell>,
    pub parent_sku: Option<Cell>,
    pub variant_options: Vec<(String, Cell)>,
    /// Variants listed on this row: (supplier SKU, axis → value).
    pub variants: Vec<(String, Vec<(String, String)>)>,
    /// Cells the transforms refused.
    pub errors: Vec<CellError>,
    /// The file has a column for the offer's stock: an empty cell there is a stock the supplier does not know.
    pub stock_column: bool,
    /// (type, part, cell) of the windows of the row's prices.
    pub price_windows: Vec<(PriceType, WindowPart, Cell)>,
    /// Price types whose windows the file has a column for: the row states them in full (none when empty).
    pub window_types: Vec<PriceType>,
    /// Our `price_windows` list.
    pub windows_list: Option<Cell>,
    /// The file has the `price_windows` column: the row states every windowed price in full.
    pub windows_list_column: bool,
    /// (locale, part, cell) of SEO metadata.
    pub seo: Vec<(String, SeoPart, Cell)>,
    /// A share off the retail price that makes the sale price.
    pub sale_percent: Option<Cell>,
    /// Our `offers` list.
    pub offers: Option<Cell>,
}

/// A template checked against a header: which field index feeds which target.
#[derive(Debug, Clone)]
pub struct Mapper {
    columns: Vec<(usize, String, Target, CompiledTransforms)>,
    currency: Option<String>,
    invalid_gtin: InvalidGtin,
    relative_images: RelativeImages,
    /// A column feeds the offer's stock.
    stock_column: bool,
    /// Price types a column gives the windows of.
    window_types: Vec<PriceType>,
    /// A column lists windowed prices.
    windows_list_column: bool,
    /// A column lists every offer (the offer's own columns are then not read).
    offers_column: bool,
}

/// A field a row holds once: two columns feeding it are refused.
fn single_valued(target: &Target) -> bool {
    !matches!(
        target,
        Target::Price { .. }
            | Target::ProductStockAt { .. }
            | Target::Attribute { .. }
            | Target::Category { .. }
            | Target::Image { .. }
            | Target::VariantOption { .. }
            | Target::VariantOptions { .. }
            | Target::Attributes { .. }
    )
}

impl Template {
    /// Checks the template on its own: transforms compile, a single-valued field is fed once, names are set.
    pub fn check(&self) -> Result<(), ImportError> {
        if self.columns.is_empty() {
            return Err(ImportError::invalid("columns", "a template maps at least one column"));
        }
        if !self.columns.iter().any(|c| c.to == Target::SupplierSku) {
            return Err(ImportError::invalid("columns", "no column is mapped to supplier_sku (the key of every row)"));
        }
        for (index, mapping) in self.columns.iter().enumerate() {
            let field = |name: &str| format!("columns[{index}].{name}");
            if mapping.column.trim().is_empty() {
                return Err(ImportError::invalid(&field("column"), "must not be empty"));
            }
            CompiledTransforms::compile(&mapping.transforms)
                .map_err(|e| ImportError::invalid(&field(""), e.to_string()))?;
            if single_valued(&mapping.to)
                && let Some(first) = self.columns[..index].iter().position(|other| other.to == mapping.to)
            {
                return Err(ImportError::invalid(
                    &field("to"),
                    format!("{:?} is already fed by columns[{first}] ({:?})", mapping.to, self.columns[first].column),
                ));
            }
            match &mapping.to {
                Target::Attribute { name } | Target::VariantOption { axis: name } if name.trim().is_empty() => {
                    return Err(ImportError::invalid(&field("to"), "the name must not be empty"));
                }
                // `~import`: the import's SEO locale (a template may name it as the shops' presets do).
                Target::Seo { locale, .. }
                    if locale != IMPORT_SEO_LOCALE && !crate::catalog::provenance::is_locale(locale) =>
                {
                    return Err(ImportError::invalid(
                        &field("to.locale"),
                        format!("{locale:?} is not a language tag like en or de-DE, nor `{IMPORT_SEO_LOCALE}`"),
                    ));
                }
                Target::Category { separator, .. }
                | Target::VariantOptions { separator }
                | Target::Attributes { separator }
                | Target::Variants { separator }
                    if separator.is_empty() =>
                {
                    return Err(ImportError::invalid(&field("to.separator"), "must not be empty"));
                }
                Target::Category { list_separator: Some(separator), .. } if separator.is_empty() => {
                    return Err(ImportError::invalid(&field("to.list_separator"), "must not be empty"));
                }
                Target::Image { separator: Some(separator), .. } if separator.is_empty() => {
                    return Err(ImportError::invalid(&field("to.separator"), "must not be empty"));
                }
                Target::Image { base_url: Some(base), .. } if url::Url::parse(base).is_err() => {
                    return Err(ImportError::invalid(&field("to.base_url"), format!("{base:?} is not a URL")));
                }
                Target::Price { currency: Some(code), .. } => {
                    crate::catalog::CurrencyCode::parse_field(&field("to.currency"), code)
                        .map_err(|e| ImportError::invalid(&field("to.currency"), e.to_string()))?;
                }
                _ => {}
            }
        }
        if let Some(code) = &self.currency {
            crate::catalog::CurrencyCode::parse_field("currency", code)
                .map_err(|e| ImportError::invalid("currency", e.to_string()))?;
        }
        Ok(())
    }

    /// The template read as a file of `catalog`: a supplier's stock is its offer's, and it names no product's SKU;
    /// a shop's stock is the product's own (never an offer's too: the available stock adds them), and its key is also
    /// the product's SKU when no mapping names one.
    pub fn read_as(&mut self, catalog: SourceCatalog) {
        let (from, to) = match catalog {
            SourceCatalog::Supplier => {
                self.columns.retain(|m| m.to != Target::Sku);
                (Target::ProductStock, Target::Stock)
            }
            SourceCatalog::Shop => {
                // A key a preset makes (`~key`: `id:12`, `handle/S`) is no SKU of anyone's.
                if !self.columns.iter().any(|m| m.to == Target::Sku)
                    && let Some(key) =
                        self.columns.iter().find(|m| m.to == Target::SupplierSku && !m.column.starts_with('~'))
                {
                    let sku = ColumnMapping { to: Target::Sku, ..key.clone() };
                    self.columns.push(sku);
                }
                (Target::Stock, Target::ProductStock)
            }
        };
        if self.columns.iter().any(|m| m.to == to) {
            self.columns.retain(|m| m.to != from);
        } else {
            for mapping in self.columns.iter_mut().filter(|m| m.to == from) {
                mapping.to = to.clone();
            }
        }
    }

    /// Gives the SEO columns named in [`IMPORT_SEO_LOCALE`] (the shops' presets') the import's SEO locale; true
    /// when there were some.
    pub fn set_seo_locale(&mut self, locale: &str) -> bool {
        let mut named_some = false;
        for mapping in &mut self.columns {
            if let Target::Seo { locale: named, .. } = &mut mapping.to
                && named == IMPORT_SEO_LOCALE
            {
                *named = locale.to_string();
                named_some = true;
            }
        }
        named_some
    }

    /// Joins relative image paths to `base` in every image mapping that names no base of its own.
    pub fn set_image_base(&mut self, base: &str) {
        for mapping in &mut self.columns {
            if let Target::Image { base_url: base_url @ None, .. } = &mut mapping.to {
                *base_url = Some(base.to_string());
            }
        }
    }

    /// The template applied to a file with this header. Refuses a header that lacks a mapped column (unless
    /// optional) or, unless the template ignores them, has columns the template does not map, naming them all.
    pub fn mapper(&self, headers: &[String]) -> Result<Mapper, ImportError> {
        self.mapper_naming(headers, HeaderText::Quoted)
    }

    /// [`Template::mapper`], saying how a refusal names the file's own header cells: quoted for a file the caller
    /// gave, by count and position only for a file a source took (its text is not the caller's to read).
    pub fn mapper_naming(&self, headers: &[String], naming: HeaderText) -> Result<Mapper, ImportError> {
        self.check()?;
        let position = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name.trim()));
        let mut missing = Vec::new();
        let mut columns = Vec::new();
        for mapping in &self.columns {
            match position(&mapping.column) {
                Some(index) => {
                    let transforms = CompiledTransforms::compile(&mapping.transforms)?;
                    columns.push((index, headers[index].clone(), mapping.to.clone(), transforms));
                }
                None if mapping.optional => {}
                None => missing.push(mapping.column.clone()),
            }
        }
        let unexpected: Vec<(usize, &String)> = match self.unmapped_columns {
            UnmappedColumns::Ignore => Vec::new(),
            UnmappedColumns::Refuse => headers
                .iter()
                .enumerate()
                .filter(|(index, _)| !columns.iter().any(|(used, ..)| used == index))
                .collect(),
        };
        if !missing.is_empty() || !unexpected.is_empty() {
            let mut reasons = Vec::new();
            if !missing.is_empty() {
                reasons.push(format!("missing columns: {}", quoted(missing.iter())));
            }
            match (unexpected.first(), naming) {
                (None, _) => {}
                (Some(_), HeaderText::Quoted) => {
                    reasons.push(format!("unexpected columns: {}", quoted(unexpected.iter().map(|(_, name)| *name))));
                }
                (Some((first, _)), HeaderText::Withheld) => reasons.push(format!(
                    "{} unexpected column(s), the first at column {} of {}",
                    unexpected.len(),
                    first + 1,
                    headers.len()
                )),
            }
            return Err(ImportError::invalid(
                "header",
                format!("the file does not match the template ({})", reasons.join("; ")),
            ));
        }
        if !columns.iter().any(|(.., target, _)| *target == Target::SupplierSku) {
            return Err(ImportError::invalid("header", "no column of the file gives the supplier SKU"));
        }
        let mut window_types = Vec::new();
        for (.., target, _) in &columns {
            if let Target::PriceWindow { price_type, .. } = target
                && !window_types.contains(price_type)
            {
                window_types.push(*price_type);
            }
        }
        Ok(Mapper {
            // The offers list states the offer's stock too.
            stock_column: columns.iter().any(|(.., target, _)| matches!(target, Target::Stock | Target::Offers)),
            window_types,
            windows_list_column: columns.iter().any(|(.., target, _)| *target == Target::PriceWindows),
            offers_column: columns.iter().any(|(.., target, _)| *target == Target::Offers),
            columns,
            currency: self.currency.clone(),
            invalid_gtin: self.invalid_gtin,
            relative_images: self.relative_images,
        })
    }
}

/// `name=value` pairs separated by `separator`, trimmed, empty names and values left out.
fn pairs<'a>(text: &'a str, separator: &'a str) -> impl Iterator<Item = (String, String)> + 'a {
    text.split(separator).filter_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        let (name, value) = (name.trim(), value.trim());
        (!name.is_empty() && !value.is_empty()).then(|| (name.to_string(), value.to_string()))
    })
}

fn quoted<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names.map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
}

impl Mapper {
    /// The template's default currency.
    pub fn currency(&self) -> Option<&str> {
        self.currency.as_deref()
    }

    /// The first column (1-based) of prices or costs whose currency no column of the row, the column's mapping or
    /// the template gives: each of its values needs a default currency (the supplier's).
    pub fn price_column_without_currency(&self) -> Option<usize> {
        if self.currency.is_some() || self.columns.iter().any(|(.., target, _)| *target == Target::Currency) {
            return None;
        }
        self.columns
            .iter()
            .filter(|(.., target, _)| {
                matches!(target, Target::Cost | Target::PriceImpact | Target::Price { currency: None, .. })
                    && !self.superseded(target)
            })
            .map(|(index, ..)| index + 1)
            .min()
    }

    /// What an invalid GTIN does to its row.
    pub fn invalid_gtin(&self) -> InvalidGtin {
        self.invalid_gtin
    }

    /// What a relative image path without a base URL does to its row.
    pub fn relative_images(&self) -> RelativeImages {
        self.relative_images
    }

    /// The columns (0-based) some mapping reads.
    pub fn columns_used(&self) -> impl Iterator<Item = usize> + '_ {
        self.columns.iter().filter(|(.., target, _)| !self.superseded(target)).map(|(index, ..)| *index)
    }

    /// A target the file gives in another column too, which is the one read: an offer's cost, stock and lead time
    /// when the `offers` list states every offer.
    fn superseded(&self, target: &Target) -> bool {
        self.offers_column && matches!(target, Target::Cost | Target::Stock | Target::LeadTimeDays)
    }

    /// The index (0-based) of the column feeding the supplier SKU.
    pub fn supplier_sku_column(&self) -> Option<usize> {
        self.columns.iter().find(|(.., target, _)| *target == Target::SupplierSku).map(|(index, ..)| *index)
    }

    /// The supplier SKU of a row, transformed (what identifies the row's offer), or `None` when empty or refused.
    pub fn supplier_sku(&self, fields: &[String]) -> Option<String> {
        let (index, _, _, transforms) = self.columns.iter().find(|(.., target, _)| *target == Target::SupplierSku)?;
        let value = transforms.apply(fields.get(*index)?).ok()?;
        let value = value.trim();
        (!value.is_empty()).then(|| value.to_string())
    }

    /// Maps one row's fields (in header order). Empty values are absent; refused cells are in `errors`.
    pub fn map(&self, fields: &[String]) -> MappedRow {
        let mut row = MappedRow {
            stock_column: self.stock_column,
            window_types: self.window_types.clone(),
            windows_list_column: self.windows_list_column,
            ..MappedRow::default()
        };
        for (index, name, target, transforms) in &self.columns {
            if self.superseded(target) {
                continue;
            }
            let raw = fields.get(*index).map(String::as_str).unwrap_or("");
            let value = match transforms.apply(raw) {
                Ok(value) => value.trim().to_string(),
                Err(reason) => {
                    row.errors.push(CellError {
                        column: index + 1,
                        column_name: name.clone(),
                        raw_value: raw.to_string(),
                        reason,
                    });
                    continue;
                }
            };
            if value.is_empty() {
                continue;
            }
            let cell = |value: String| Cell { value, column: index + 1 };
            match target {
                Target::SupplierSku => row.supplier_sku = Some(cell(value)),
                Target::Gtin => row.gtin = Some(cell(value)),
                Target::Sku => row.sku = Some(cell(value)),
                Target::Title => row.title = Some(cell(value)),
                Target::Description => row.description = Some(cell(value)),
                Target::Brand => row.brand = Some(cell(value)),
                Target::Status => row.status = Some(cell(value)),
                Target::Cost => row.cost = Some(cell(value)),
                Target::PriceImpact => row.price_impact = Some(cell(value)),
                Target::Currency => row.currency = Some(cell(value)),
                Target::Stock => row.stock = Some(cell(value)),
                Target::ProductStock => row.product_stock = Some(cell(value)),
                Target::Availability => row.availability = Some(cell(value)),
                Target::ProductStockAt { location } => {
                    row.location_stocks.push((location.trim().to_string(), cell(value)))
                }
                Target::LeadTimeDays => row.lead_time_days = Some(cell(value)),
                Target::Price { price_type, currency } => row.prices.push((*price_type, currency.clone(), cell(value))),
                Target::Attribute { name } => row.attributes.push((name.trim().to_string(), cell(value))),
                Target::Category { separator, list_separator } => {
                    let paths: Vec<&str> = match list_separator {
                        Some(list) => value.split(list.as_str()).collect(),
                        None => vec![value.as_str()],
                    };
                    for path in paths {
                        let names: Vec<String> = path
                            .split(separator.as_str())
                            .map(|n| n.trim().to_string())
                            .filter(|n| !n.is_empty())
                            .collect();
                        if !names.is_empty() && !row.categories.iter().any(|(known, _)| *known == names) {
                            row.categories.push((names, cell(path.trim().to_string())));
                        }
                    }
                }
                Target::Image { separator, base_url } => {
                    let urls: Vec<&str> = match separator {
                        Some(separator) => value.split(separator.as_str()).collect(),
                        None => vec![value.as_str()],
                    };
                    for url in urls.into_iter().map(str::trim).filter(|u| !u.is_empty()) {
                        let joined = match base_url {
                            Some(base) if !url.contains("://") => {
                                format!("{}/{}", base.trim_end_matches('/'), url.trim_start_matches('/'))
                            }
                            _ => url.to_string(),
                        };
                        row.images.push(cell(joined));
                    }
                }
                Target::PriceWindow { price_type, part } => row.price_windows.push((*price_type, *part, cell(value))),
                Target::PriceWindows => row.windows_list = Some(cell(value)),
                Target::Seo { locale, part } => row.seo.push((locale.clone(), *part, cell(value))),
                Target::SalePercent => row.sale_percent = Some(cell(value)),
                Target::Offers => row.offers = Some(cell(value)),
                Target::ParentSku => row.parent_sku = Some(cell(value)),
                Target::VariantOption { axis } => row.variant_options.push((axis.trim().to_string(), cell(value))),
                Target::VariantOptions { separator } => {
                    for (axis, option) in pairs(&value, separator) {
                        row.variant_options.push((axis, cell(option)));
                    }
                }
                Target::Attributes { separator } => {
                    for (name, text) in pairs(&value, separator) {
                        row.attributes.push((name, cell(text)));
                    }
                }
                Target::Variants { separator } => {
                    for record in value.split(separator.as_str()) {
                        let mut sku = None;
                        let mut options = Vec::new();
                        for (key, text) in pairs(record, ",") {
                            if key.eq_ignore_ascii_case("sku") {
                                sku = Some(text);
                            } else {
                                options.push((key, text));
                            }
                        }
                        if let Some(sku) = sku {
                            row.variants.push((sku, options));
                        }
                    }
                }
            }
        }
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn template(json: &str) -> Template {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn header_mismatch_names_missing_and_unexpected_columns() {
        let t = template(
            r#"{"columns": [{"column": "sku", "to": "supplier_sku"}, {"column": "EAN", "to": "gtin"},
                {"column": "Notes", "to": {"attribute": {"name": "notes"}}, "optional": true}]}"#,
        );
        let error = t.mapper(&headers(&["SKU", "Price", "Colour"])).unwrap_err().to_string();
        assert!(error.contains(r#"missing columns: "EAN""#), "{error}");
        assert!(error.contains(r#"unexpected columns: "Price", "Colour""#), "{error}");
        assert!(t.mapper(&headers(&["Sku", "ean"])).is_ok(), "case is ignored, optional columns may be absent");
    }

    #[test]
    fn bad_templates_are_named() {
        let no_key = template(r#"{"columns": [{"column": "EAN", "to": "gtin"}]}"#);
        assert!(no_key.check().unwrap_err().to_string().contains("supplier_sku"));
        let twice = template(
            r#"{"columns": [{"column": "a", "to": "supplier_sku"}, {"column": "b", "to": "title"},
                {"column": "c", "to": "title"}]}"#,
        );
        assert!(twice.check().unwrap_err().to_string().starts_with("columns[2].to"));
        let bad_currency = template(r#"{"columns": [{"column": "a", "to": "supplier_sku"}], "currency": "EUX"}"#);
        assert!(bad_currency.check().is_err());
        let typo = serde_json::from_str::<Template>(r#"{"columns": [{"column": "a", "to": "supplier_skus"}]}"#);
        assert!(typo.is_err());
    }

    #[test]
    fn rows_are_mapped_with_their_columns() {
        let t = template(
            r#"{"columns": [{"column": "ref", "to": "supplier_sku"},
                {"column": "cat", "to": {"category": {"list_separator": ","}}},
                {"column": "img", "to": {"image": {"separator": "|"}}},
                {"column": "price", "to": {"price": {"type": "retail", "currency": "USD"}},
                 "transforms": [{"op": "multiply", "factor": "2"}]}],
                "unmapped_columns": "ignore"}"#,
        );
        let mapper = t.mapper(&headers(&["x", "ref", "cat", "img", "price"])).unwrap();
        let row = mapper.map(&headers(&["", "A1", "Home > Garden >, Sale", "a.jpg | b.jpg|", "abc"]));
        assert_eq!(row.supplier_sku, Some(Cell { value: "A1".into(), column: 2 }));
        assert_eq!(row.categories[0].0, ["Home", "Garden"]);
        assert_eq!(row.categories[1].0, ["Sale"]);
        assert_eq!(row.images.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(), ["a.jpg", "b.jpg"]);
        assert_eq!(row.errors.len(), 1);
        assert_eq!((row.errors[0].column, row.errors[0].raw_value.as_str()), (5, "abc"));
        assert_eq!(mapper.supplier_sku(&headers(&["", " A1 ", "", "", ""])), Some("A1".into()));
    }
}
