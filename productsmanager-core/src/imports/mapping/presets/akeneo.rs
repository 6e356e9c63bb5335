//! Akeneo's flat CSV of product models and products.

use std::collections::{BTreeMap, HashMap};

use super::{
    LIST_SEPARATOR, Shaper, append_own, field, map_first, mapping, position, shop_template, status_lookup, with_own,
};
use crate::catalog::PriceType;
use crate::imports::mapping::template::{Target, Template};
use crate::imports::mapping::transform::Transform;
use crate::imports::mapping::vocabulary::{Vocabulary, VocabularyEntry};
use crate::imports::parse::Row;

// The Akeneo shaper's own columns.
const AKENEO_OWN: [&str; 8] =
    ["~key", "~title", "~description", "~parent", "~attributes", "~options", "~categories", "~brand"];
/// Separates the labels of a category's path in the shaper's `~categories` (no label holds it).
const CATEGORY_PATH: &str = "\u{1e}";
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

pub(super) fn akeneo(headers: &[String]) -> Template {
    let mut columns = Vec::new();
    let mut add = |names: &[&str], to: Target, transforms: Vec<Transform>| {
        map_first(&mut columns, headers, names, to, transforms);
    };
    add(&["~key"], Target::SupplierSku, vec![]);
    // A PIM's export: a product's `sku` is its SKU in the shop (a model's `code` is not a product's).
    add(&["sku"], Target::Sku, vec![]);
    add(&["~title"], Target::Title, vec![]);
    add(&["~description"], Target::Description, vec![]);
    add(&["~parent"], Target::ParentSku, vec![]);
    add(&["~attributes"], Target::Attributes { separator: LIST_SEPARATOR.into() }, vec![]);
    add(&["~options"], Target::VariantOptions { separator: LIST_SEPARATOR.into() }, vec![]);
    add(&["enabled"], Target::Status, status_lookup(&[("1", "active"), ("0", "draft")]));
    add(&["ean"], Target::Gtin, vec![]);
    // A simple select: its option's label once the options file was imported.
    add(&["~brand"], Target::Brand, vec![]);
    // A category is its path of labels when the supplier's categories file was imported, else its code.
    let categories = Target::Category { separator: CATEGORY_PATH.into(), list_separator: Some(LIST_SEPARATOR.into()) };
    add(&["~categories"], categories, vec![]);
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
pub(super) struct AkeneoShaper {
    headers: Vec<String>,
    /// `code` of a product-model file, else `sku`.
    key: Option<usize>,
    models: bool,
    parent: Option<usize>,
    family_variant: Option<usize>,
    categories: Option<usize>,
    /// Attribute code → its value columns, preferred first, and its unit column.
    values: BTreeMap<String, (Vec<usize>, Option<usize>)>,
    /// Attribute code in lowercase → the code as `values` has it (a family variant's axes are lowercase).
    codes: HashMap<String, String>,
    /// What the supplier's earlier files taught (family variants, models, options, categories).
    vocabulary: Vocabulary,
    /// Product models this file defines, for the supplier's next files (its products).
    learned: Vec<VocabularyEntry>,
    /// Sub-models of two-level family variants: their products are the root model's variants.
    sub_models: u64,
    /// Root models of this file (a sub-model is set aside only when its root is known).
    roots: std::collections::HashSet<String>,
}

impl AkeneoShaper {
    pub(super) fn new(headers: &[String], vocabulary: Vocabulary) -> Self {
        let at = |name: &str| position(headers, &[name]);
        let models = at("family_variant").is_some() && at("code").is_some();
        // Attribute code → (rank, column index) of its columns.
        type Ranked = BTreeMap<String, Vec<((u8, u8), usize)>>;
        let mut ranked = Ranked::new();
        let mut units: HashMap<String, usize> = HashMap::new();
        for (index, header) in headers.iter().enumerate() {
            let column = AkeneoColumn::parse(header);
            // Associations (`X_SELL-products`, `PACK-groups`): links to other products, not values. (An attribute
            // code may have capitals: `UGC_libEcommerce`.)
            // Quantified ones end in `-quantity` (`PACK-products-quantity`).
            let link = header.trim();
            let link = link.strip_suffix("-quantity").unwrap_or(link);
            let association =
                matches!(link.rsplit_once('-'), Some((_, "groups" | "products" | "product_models" | "product_uuids")));
            if column.code.is_empty() || association {
                continue;
            }
            if column.channel == Some("unit") && column.locale.is_none() {
                units.insert(column.code.to_string(), index);
                continue;
            }
            ranked.entry(column.code.to_string()).or_default().push((column.rank(), index));
        }
        let values: BTreeMap<String, (Vec<usize>, Option<usize>)> = ranked
            .into_iter()
            .map(|(code, mut columns)| {
                columns.sort();
                let unit = units.get(&code).copied();
                (code, (columns.into_iter().map(|(_, index)| index).collect(), unit))
            })
            .collect();
        AkeneoShaper {
            headers: with_own(headers, &AKENEO_OWN),
            key: if models { at("code") } else { at("sku") },
            models,
            parent: at("parent"),
            family_variant: at("family_variant"),
            categories: at("categories"),
            codes: values.keys().map(|code| (code.to_lowercase(), code.clone())).collect(),
            values,
            vocabulary,
            learned: Vec::new(),
            sub_models: 0,
            roots: std::collections::HashSet::new(),
        }
    }

    /// The value of an attribute named whatever its case (a family variant's axis against the header's code).
    fn value_of_code(&self, row: &Row, code: &str) -> Option<String> {
        self.value(row, self.codes.get(&code.to_lowercase())?)
    }

    /// An attribute's value as its option's label when the supplier's options file was imported (each of a
    /// multi-select's codes), else as the file has it.
    fn labelled(&self, attribute: &str, value: String) -> String {
        if self.vocabulary.attribute_options.is_empty() {
            return value;
        }
        value.split(',').map(|code| self.vocabulary.option_label(attribute, code)).collect::<Vec<&str>>().join(",")
    }

    /// The row's categories for `~categories`: each a path of labels when known, else its code.
    fn category_paths(&self, row: &Row) -> String {
        field(row, self.categories)
            .split(',')
            .map(str::trim)
            .filter(|code| !code.is_empty())
            .map(|code| match self.vocabulary.category_path(code) {
                Some(path) => path.join(CATEGORY_PATH),
                None => code.to_string(),
            })
            .collect::<Vec<String>>()
            .join(LIST_SEPARATOR)
    }

    /// The first value of the attribute among its columns, in order of preference, with its unit.
    fn value(&self, row: &Row, code: &str) -> Option<String> {
        let (columns, unit) = self.values.get(code)?;
        let value = columns.iter().filter_map(|c| row.fields.get(*c)).map(|v| v.trim()).find(|v| !v.is_empty())?;
        match unit.and_then(|c| row.fields.get(c)).map(|u| u.trim()).filter(|u| !u.is_empty()) {
            Some(unit) => Some(format!("{value} {}", unit_symbol(unit))),
            None => Some(value.to_string()),
        }
    }
}

/// The symbol of one of Akeneo's measurement units (`GRAM` → `g`, `INCH` → `in`), as shops show a measure; a unit
/// not listed keeps Akeneo's code.
fn unit_symbol(code: &str) -> &str {
    const SYMBOLS: [(&str, &str); 46] = [
        ("MILLIMETER", "mm"),
        ("CENTIMETER", "cm"),
        ("DECIMETER", "dm"),
        ("METER", "m"),
        ("KILOMETER", "km"),
        ("INCH", "in"),
        ("FEET", "ft"),
        ("FOOT", "ft"),
        ("YARD", "yd"),
        ("MILE", "mi"),
        ("MILLIGRAM", "mg"),
        ("GRAM", "g"),
        ("KILOGRAM", "kg"),
        ("TON", "t"),
        ("OUNCE", "oz"),
        ("POUND", "lb"),
        ("MILLILITER", "ml"),
        ("CENTILITER", "cl"),
        ("DECILITER", "dl"),
        ("LITER", "l"),
        ("CUBIC_CENTIMETER", "cm³"),
        ("CUBIC_METER", "m³"),
        ("SQUARE_CENTIMETER", "cm²"),
        ("SQUARE_METER", "m²"),
        ("WATT", "W"),
        ("KILOWATT", "kW"),
        ("MEGAWATT", "MW"),
        ("VOLT", "V"),
        ("MILLIVOLT", "mV"),
        ("AMPERE", "A"),
        ("MILLIAMPERE", "mA"),
        ("HERTZ", "Hz"),
        ("KILOHERTZ", "kHz"),
        ("MEGAHERTZ", "MHz"),
        ("GIGAHERTZ", "GHz"),
        ("CELSIUS", "°C"),
        ("FAHRENHEIT", "°F"),
        ("KELVIN", "K"),
        ("SECOND", "s"),
        ("MINUTE", "min"),
        ("HOUR", "h"),
        ("BYTE", "B"),
        ("KILOBYTE", "kB"),
        ("MEGABYTE", "MB"),
        ("GIGABYTE", "GB"),
        ("TERABYTE", "TB"),
    ];
    SYMBOLS.iter().find(|(known, _)| known.eq_ignore_ascii_case(code)).map_or(code, |(_, symbol)| symbol)
}

impl Shaper for AkeneoShaper {
    fn headers(&self) -> Vec<String> {
        self.headers.clone()
    }

    fn reads(&self) -> Vec<(usize, &'static str)> {
        let values = self.values.values().flat_map(|(columns, unit)| {
            columns
                .iter()
                .map(|c| (*c, "a value: title, description or an attribute (en_US and `ecommerce` first)"))
                .chain(unit.map(|c| (c, "the unit of a metric value")))
        });
        let key = if self.models { "the model's key `model:<code>`" } else { "the product's key" };
        super::present([
            (self.key, key),
            (self.parent, "the parent model (the row is its variant)"),
            (self.family_variant, "the model's family variant (its products' variant axes)"),
            (self.categories, "categories (paths of labels once Akeneo's categories file was imported)"),
        ])
        .chain(values)
        .collect()
    }

    fn shape(&mut self, mut row: Row) -> Vec<Row> {
        let get = |column: Option<usize>| field(&row, column);
        let (code, parent) = (get(self.key).to_string(), get(self.parent).to_lowercase());
        // A variant's axes and the model it belongs to, when the supplier's family variants and models are known.
        let variant_of = match self.models || parent.is_empty() {
            true => None,
            false => self.vocabulary.variant_axes(&parent),
        };
        if self.models {
            let family_variant = get(self.family_variant).to_lowercase();
            let parent = Some(parent.clone()).filter(|p| !p.is_empty());
            if !code.is_empty() && !family_variant.is_empty() {
                self.learned.push(VocabularyEntry::ProductModel {
                    code: code.to_lowercase(),
                    family_variant: family_variant.clone(),
                    parent: parent.clone(),
                });
            }
            let root_known = parent.as_ref().is_some_and(|root| {
                self.roots.contains(root) || self.vocabulary.product_models.get(root).is_some_and(|m| m.1.is_none())
            });
            if parent.is_none() && !code.is_empty() {
                self.roots.insert(code.to_lowercase());
            }
            if self.vocabulary.is_sub_model(&family_variant, parent.as_deref(), root_known) {
                self.sub_models += 1;
                return Vec::new();
            }
        }
        let axes: &[&str] = variant_of.as_ref().map(|(_, axes)| axes.as_slice()).unwrap_or_default();
        let mut options: Vec<String> = Vec::new();
        for axis in axes {
            if let Some(value) = self.value_of_code(&row, axis) {
                // Named as the shops name their options: by its label once the attributes file was imported.
                options.push(format!("{}={}", self.vocabulary.attribute_label(axis), self.labelled(axis, value)));
            }
        }
        let mut attributes: Vec<String> = Vec::new();
        for name in self.values.keys() {
            if AKENEO_MAPPED.contains(&name.as_str()) || axes.iter().any(|axis| axis.eq_ignore_ascii_case(name)) {
                continue;
            }
            if let Some(value) = self.value(&row, name) {
                attributes.push(format!("{name}={}", self.labelled(name, value)));
            }
        }
        let names: &[&str] = if self.models && !parent.is_empty() {
            &["variation_name", "name", "erp_name"]
        } else {
            &["name", "erp_name", "variation_name"]
        };
        let title = names.iter().find_map(|name| self.value(&row, name)).unwrap_or_default();
        // A sub-model is titled by its `variation_name`: the model's own `name` (the root's) stays, as an attribute.
        if let Some(name) = self.value(&row, "name").filter(|name| *name != title) {
            attributes.push(format!("name={name}"));
        }
        let description =
            ["description", "short_description"].iter().find_map(|name| self.value(&row, name)).unwrap_or_default();
        let (key, parent) = if self.models {
            if !parent.is_empty() {
                attributes.push(format!("parent_model={parent}"));
            }
            let key = if code.is_empty() { code } else { format!("model:{}", code.to_lowercase()) };
            (key, String::new())
        } else {
            let parent = match (&variant_of, parent.is_empty()) {
                (Some((root, _)), _) => format!("model:{root}"),
                (None, true) => parent,
                (None, false) => format!("model:{parent}"),
            };
            (code, parent)
        };
        let categories = self.category_paths(&row);
        let brand = self.value(&row, "brand").map(|brand| self.labelled("brand", brand)).unwrap_or_default();
        append_own(
            &mut row,
            self.headers.len() - AKENEO_OWN.len(),
            [
                key,
                title,
                description,
                parent,
                attributes.join(LIST_SEPARATOR),
                options.join(LIST_SEPARATOR),
                categories,
                brand,
            ],
        );
        vec![row]
    }

    fn set_aside(&self) -> Vec<(&'static str, u64)> {
        match self.sub_models {
            0 => Vec::new(),
            rows => vec![("sub_model", rows)],
        }
    }

    fn learned(&mut self) -> Vec<VocabularyEntry> {
        std::mem::take(&mut self.learned)
    }
}

/// Akeneo's structure files the preset reads into the supplier's vocabulary (its product files then name
/// options and categories by label and give variants their axes). Each has a `code` and `label-<locale>` columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AkeneoStructure {
    /// `code;family;label-…;variant-axes_1;variant-axes_2;variant-attributes_1;…`
    FamilyVariants,
    /// `code;label-…;…;group;…;type;…` (Akeneo's attributes: their labels name the variant axes)
    Attributes,
    /// `code;label-…;attribute;sort_order`
    AttributeOptions,
    /// `code;parent;label-…`
    Categories,
}

impl AkeneoStructure {
    /// The structure file this header is, if any.
    pub(crate) fn of(headers: &[String]) -> Option<Self> {
        let has = |name: &str| headers.iter().any(|h| h.trim().eq_ignore_ascii_case(name));
        let labelled = headers.iter().any(|h| h.trim().starts_with("label-"));
        if !has("code") || !labelled || has("sku") || has("family_variant") {
            return None;
        }
        if headers.iter().any(|h| h.trim().starts_with("variant-axes_")) {
            Some(AkeneoStructure::FamilyVariants)
        } else if has("type") && has("group") {
            Some(AkeneoStructure::Attributes)
        } else if has("attribute") && !has("type") {
            Some(AkeneoStructure::AttributeOptions)
        } else if has("parent") && !has("family") {
            Some(AkeneoStructure::Categories)
        } else {
            None
        }
    }

    /// The file in words, as the summary's format line names it.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            AkeneoStructure::FamilyVariants => "Akeneo's family variants file",
            AkeneoStructure::Attributes => "Akeneo's attributes file",
            AkeneoStructure::AttributeOptions => "Akeneo's attribute options file",
            AkeneoStructure::Categories => "Akeneo's categories file",
        }
    }
}

/// Reads the rows of an Akeneo structure file into vocabulary entries.
pub(crate) struct StructureReader {
    kind: AkeneoStructure,
    code: Option<usize>,
    /// `parent` (categories) or `attribute` (options).
    owner: Option<usize>,
    /// `label-<locale>` columns, en_US first.
    labels: Vec<usize>,
    /// `variant-axes_<level>` columns, by level.
    axes: Vec<usize>,
}

impl StructureReader {
    pub(crate) fn new(kind: AkeneoStructure, headers: &[String]) -> Self {
        let at = |name: &str| position(headers, &[name]);
        let mut labels: Vec<(bool, usize)> = headers
            .iter()
            .enumerate()
            .filter_map(|(index, h)| h.trim().strip_prefix("label-").map(|locale| (locale != "en_US", index)))
            .collect();
        labels.sort();
        let mut axes: Vec<(u32, usize)> = headers
            .iter()
            .enumerate()
            .filter_map(|(index, h)| h.trim().strip_prefix("variant-axes_")?.parse().ok().map(|level| (level, index)))
            .collect();
        axes.sort();
        let owner = match kind {
            AkeneoStructure::Categories => at("parent"),
            AkeneoStructure::AttributeOptions => at("attribute"),
            AkeneoStructure::FamilyVariants | AkeneoStructure::Attributes => None,
        };
        StructureReader {
            kind,
            code: at("code"),
            owner,
            labels: labels.into_iter().map(|(_, index)| index).collect(),
            axes: axes.into_iter().map(|(_, index)| index).collect(),
        }
    }

    /// The columns it reads (0-based), with what for.
    pub(crate) fn reads(&self) -> Vec<usize> {
        let mut columns: Vec<usize> = self.code.into_iter().chain(self.owner).collect();
        match self.kind {
            AkeneoStructure::FamilyVariants => columns.extend(&self.axes),
            _ => columns.extend(&self.labels),
        }
        columns
    }

    /// The row's entry, or the column (0-based) and reason it is refused for.
    pub(crate) fn entry(&self, row: &Row) -> Result<VocabularyEntry, (Option<usize>, String)> {
        let code = field(row, self.code).to_lowercase();
        if code.is_empty() {
            return Err((self.code, "the code is empty".into()));
        }
        let owner = field(row, self.owner).to_lowercase();
        // Its label in English, else in the first locale that has one, else its code (as Akeneo shows it).
        let label = || {
            self.labels
                .iter()
                .map(|column| field(row, Some(*column)))
                .find(|label| !label.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| field(row, self.code).to_string())
        };
        Ok(match self.kind {
            AkeneoStructure::FamilyVariants => {
                let axes: Vec<Vec<String>> = self
                    .axes
                    .iter()
                    .map(|column| {
                        field(row, Some(*column))
                            .split(',')
                            .map(|axis| axis.trim().to_lowercase())
                            .filter(|axis| !axis.is_empty())
                            .collect::<Vec<String>>()
                    })
                    .filter(|level| !level.is_empty())
                    .collect();
                if axes.is_empty() {
                    return Err((self.axes.first().copied(), "the family variant has no axis".into()));
                }
                VocabularyEntry::FamilyVariant { code, axes }
            }
            AkeneoStructure::Attributes => VocabularyEntry::Attribute { code, label: label() },
            AkeneoStructure::AttributeOptions => {
                if owner.is_empty() {
                    return Err((self.owner, "the option names no attribute".into()));
                }
                VocabularyEntry::AttributeOption { attribute: owner, code, label: label() }
            }
            AkeneoStructure::Categories => {
                VocabularyEntry::Category { code, label: label(), parent: Some(owner).filter(|p| !p.is_empty()) }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Preset;
    use super::super::testing::{shape, shape_knowing, strings, value};
    use super::{AkeneoShaper, AkeneoStructure, StructureReader, unit_symbol};
    use crate::imports::mapping::presets::Shaper;
    use crate::imports::mapping::{Vocabulary, VocabularyEntry};
    use crate::imports::parse::Row;

    /// Akeneo's structure files, as its own fixtures spell them, read into a vocabulary.
    fn learned(files: &[(&[&str], &[&[&str]])]) -> Vocabulary {
        let mut vocabulary = Vocabulary::default();
        for (headers, rows) in files {
            let headers = strings(headers);
            let kind = AkeneoStructure::of(&headers).expect("a structure file");
            let reader = StructureReader::new(kind, &headers);
            for (index, fields) in rows.iter().enumerate() {
                let row = Row { line: index as u64 + 2, fields: strings(fields) };
                vocabulary.learn(reader.entry(&row).expect("a good row"));
            }
        }
        vocabulary
    }

    #[test]
    fn measures_take_their_units_symbol() {
        assert_eq!((unit_symbol("INCH"), unit_symbol("kilogram"), unit_symbol("CELSIUS")), ("in", "kg", "°C"));
        assert_eq!(unit_symbol("FURLONG"), "FURLONG", "a unit not listed keeps its code");
    }

    #[test]
    fn structure_files_are_told_apart_and_read() {
        let kind = |headers: &[&str]| AkeneoStructure::of(&strings(headers));
        let family_variants =
            ["code", "family", "label-en_US", "variant-axes_1", "variant-axes_2", "variant-attributes_1"];
        assert_eq!(kind(&family_variants), Some(AkeneoStructure::FamilyVariants));
        assert_eq!(
            kind(&["code", "label-de_DE", "label-en_US", "attribute", "sort_order"]),
            Some(AkeneoStructure::AttributeOptions)
        );
        assert_eq!(kind(&["code", "parent", "label-en_US"]), Some(AkeneoStructure::Categories));
        assert_eq!(kind(&["code", "label-en_US", "type", "group", "localizable"]), Some(AkeneoStructure::Attributes));
        assert_eq!(kind(&["code", "label-en_US", "attributes", "attribute_as_label"]), None, "families");
        assert_eq!(kind(&["code", "family_variant", "parent", "categories"]), None, "product models");
        assert_eq!(kind(&["code", "parent"]), None, "no label: not Akeneo's");
        let headers = strings(&family_variants);
        let reader = StructureReader::new(AkeneoStructure::FamilyVariants, &headers);
        let row = |fields: &[&str]| Row { line: 2, fields: strings(fields) };
        assert_eq!(
            reader.entry(&row(&["Clothing_ColorSize", "clothing", "", "color, material", "size", "sku"])),
            Ok(VocabularyEntry::FamilyVariant {
                code: "clothing_colorsize".into(),
                axes: vec![vec!["color".into(), "material".into()], vec!["size".into()]],
            })
        );
        let refused = reader.entry(&row(&["tv", "led_tvs", "TV", "", "", ""])).unwrap_err();
        assert_eq!(refused, (Some(3), "the family variant has no axis".to_string()));
        let options = strings(&["code", "label-de_DE", "label-en_US", "attribute"]);
        let reader = StructureReader::new(AkeneoStructure::AttributeOptions, &options);
        assert_eq!(
            reader.entry(&row(&["navy", "Marine", "", "Color"])),
            Ok(VocabularyEntry::AttributeOption {
                attribute: "color".into(),
                code: "navy".into(),
                label: "Marine".into()
            }),
            "no English label: the first locale's"
        );
        assert!(reader.entry(&row(&["", "x", "y", "color"])).is_err(), "a row without a code is refused");
    }

    #[test]
    fn a_known_family_variant_gives_variants_their_axes_under_the_root_model() {
        let vocabulary = learned(&[
            (
                &["code", "family", "label-en_US", "variant-axes_1", "variant-axes_2"],
                &[
                    &["clothing_color_size", "clothing", "By color and size", "color", "size"],
                    &["shoes_size", "shoes", "", "eu_shoes_size", ""],
                ],
            ),
            (
                &["code", "label-en_US", "attribute"],
                &[
                    &["white", "White", "color"],
                    &["xl", "XL", "size"],
                    &["cotton", "Cotton", "material"],
                    &["wool", "Wool", "material"],
                ],
            ),
            (
                &["code", "parent", "label-en_US"],
                &[&["master", "", "Master catalog"], &["master_men", "master", "Men"]],
            ),
        ]);
        // The models file: the sub-model is set aside (its products are the root's variants), both are learned.
        let model_headers = strings(&["code", "family_variant", "parent", "categories", "name", "color"]);
        let mut models = AkeneoShaper::new(&model_headers, vocabulary.clone());
        let model_row = |fields: &[&str]| Row { line: 2, fields: strings(fields) };
        assert_eq!(
            models.shape(model_row(&["Jacket", "clothing_color_size", "", "master_men", "Jacket", ""])).len(),
            1
        );
        assert!(
            models
                .shape(model_row(&["jacket_white", "clothing_color_size", "Jacket", "", "Jacket", "white"]))
                .is_empty()
        );
        assert_eq!(models.set_aside(), [("sub_model", 1)]);
        // A sub-model whose root is neither known nor in the file stays a product.
        let orphan = models.shape(model_row(&["coat_red", "clothing_color_size", "coat", "", "Coat", "red"]));
        assert_eq!((orphan.len(), models.set_aside()), (1, vec![("sub_model", 1)]));
        let mut vocabulary = vocabulary;
        for entry in models.learned() {
            vocabulary.learn(entry);
        }
        assert!(models.learned().is_empty(), "taken once");
        let mapped = shape_knowing(
            Preset::Akeneo,
            &["sku", "family", "parent", "categories", "Color", "size", "material", "eu_shoes_size"],
            &[
                &["J-XL", "clothing", "jacket_white", "master_men,print", "white", "xl", "cotton,wool", ""],
                &["J-L", "clothing", "unknown_model", "", "white", "l", "", ""],
            ],
            vocabulary,
        );
        assert_eq!(value(&mapped[0].parent_sku), "model:jacket", "the root model's variant");
        let options: Vec<(&str, &str)> =
            mapped[0].variant_options.iter().map(|(axis, c)| (axis.as_str(), c.value.as_str())).collect();
        assert_eq!(options, [("color", "White"), ("size", "XL")], "every level's axes, labelled, whatever their case");
        let attributes: Vec<(&str, &str)> =
            mapped[0].attributes.iter().map(|(n, c)| (n.as_str(), c.value.as_str())).collect();
        assert_eq!(
            attributes,
            [("family", "clothing"), ("material", "Cotton,Wool")],
            "axes are options, not attributes; a list labelled"
        );
        let categories: Vec<Vec<String>> = mapped[0].categories.iter().map(|(path, _)| path.clone()).collect();
        assert_eq!(categories, [vec!["Master catalog".to_string(), "Men".to_string()], vec!["print".to_string()]]);
        assert_eq!(value(&mapped[1].parent_sku), "model:unknown_model", "an unknown model: as before, no axes");
        assert!(mapped[1].variant_options.is_empty());
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
            "UGC_libMarque",
            "PACK-products-quantity",
        ];
        let rows: [&[&str]; 2] = [
            &[
                "J-XL",
                "Model-Jacket",
                "Jacke",
                "Jacket",
                "Veste",
                "print",
                "web",
                "500",
                "GRAM",
                "9.90",
                "J-L",
                "1",
                "Acme",
                "J-L|2",
            ],
            &["J-L", "", "Jacke", "", "", "", "", "", "", "", "", "0", "", ""],
        ];
        let mapped = shape(Preset::Akeneo, &headers, &rows);
        assert_eq!(value(&mapped[0].title), "Jacket");
        assert_eq!(value(&mapped[0].description), "web");
        assert_eq!(value(&mapped[0].parent_sku), "model:model-jacket", "model codes ignore case");
        assert_eq!(mapped[0].prices[0].1.as_deref(), Some("EUR"));
        let attributes: Vec<(&str, &str)> =
            mapped[0].attributes.iter().map(|(n, c)| (n.as_str(), c.value.as_str())).collect();
        assert_eq!(
            attributes,
            [("UGC_libMarque", "Acme"), ("weight", "500 g")],
            "associations are links, not values; a code may have capitals"
        );
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
        let name = models[1].attributes.iter().find(|(name, _)| name == "name").map(|(_, c)| c.value.as_str());
        assert_eq!(name, Some("Jacket"), "the model's name, beside its variation name");
        let root = models[1].attributes.iter().find(|(name, _)| name == "parent_model").map(|(_, c)| c.value.as_str());
        assert_eq!(root, Some("jacket"));
    }
}
