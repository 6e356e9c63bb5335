//! Akeneo's flat CSV of product models and products.

use std::collections::{BTreeMap, HashMap};

use super::{
    LIST_SEPARATOR, Shaper, append_own, field, map_first, mapping, position, shop_template, status_lookup, with_own,
};
use crate::catalog::PriceType;
use crate::imports::mapping::template::{Target, Template};
use crate::imports::mapping::transform::Transform;
use crate::imports::parse::Row;

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
pub(super) struct AkeneoShaper {
    headers: Vec<String>,
    /// `code` of a product-model file, else `sku`.
    key: Option<usize>,
    models: bool,
    parent: Option<usize>,
    /// Attribute code → its value columns, preferred first, and its unit column.
    values: BTreeMap<String, (Vec<usize>, Option<usize>)>,
}

impl AkeneoShaper {
    pub(super) fn new(headers: &[String]) -> Self {
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
        let values = ranked
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

    fn reads(&self) -> Vec<(usize, &'static str)> {
        let values = self.values.values().flat_map(|(columns, unit)| {
            columns
                .iter()
                .map(|c| (*c, "a value: title, description or an attribute (en_US and `ecommerce` first)"))
                .chain(unit.map(|c| (c, "the unit of a metric value")))
        });
        let key = if self.models { "the model's key `model:<code>`" } else { "the product's key" };
        super::present([(self.key, key), (self.parent, "the parent model (the row is its variant)")])
            .chain(values)
            .collect()
    }

    fn shape(&mut self, mut row: Row) -> Vec<Row> {
        let get = |column: Option<usize>| field(&row, column);
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
            let parent = if parent.is_empty() { parent } else { format!("model:{parent}") };
            (code, parent)
        };
        append_own(
            &mut row,
            self.headers.len() - AKENEO_OWN.len(),
            [key, title, description, parent, attributes.join(LIST_SEPARATOR)],
        );
        vec![row]
    }
}

#[cfg(test)]
mod tests {
    use super::super::Preset;
    use super::super::testing::{shape, value};

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
            [("UGC_libMarque", "Acme"), ("weight", "500 GRAM")],
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
