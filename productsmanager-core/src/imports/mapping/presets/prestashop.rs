//! PrestaShop's product and combination CSVs.

use super::{
    LIST_SEPARATOR, Shaper, append_own, field, find, map_first, position, price, shop_template, status_lookup, with_own,
};
use crate::catalog::PriceType;
use crate::imports::mapping::template::{SeoPart, Target, Template, WindowPart};
use crate::imports::mapping::transform::Transform;
use crate::imports::parse::Row;

// The PrestaShop shaper's own columns.
const PRESTASHOP_OWN: [&str; 4] = ["~key", "~parent", "~options", "~features"];

/// PrestaShop's columns kept as attributes (the first present of each list: versions name them differently), and
/// the attribute each makes (a feature of the same name takes `(feature)`).
const PRESTASHOP_ATTRIBUTE_COLUMNS: [(&[&str], &str); 11] = [
    (&["Width"], "width"),
    (&["Height"], "height"),
    (&["Depth"], "depth"),
    (&["Weight"], "weight"),
    (&["Impact on weight"], "weight_impact"),
    (&["UPC"], "upc"),
    (&["MPN"], "mpn"),
    (&["Ecotax"], "ecotax"),
    (&["Tags (x,y,z...)", "Tags (x,y,z,...)"], "tags"),
    (&["Summary", "Short description"], "summary"),
    (&["Condition"], "condition"),
];

/// The attributes the preset makes of other columns (`Reference #`, a combination's impact).
const PRESTASHOP_OTHER_ATTRIBUTES: [&str; 3] = ["reference", "supplier_reference", "price_impact"];

pub(super) fn prestashop(headers: &[String]) -> Template {
    let combination = find(headers, &["Product ID*"]).is_some();
    let mut columns = Vec::new();
    let mut add = |names: &[&str], to: Target, transforms: Vec<Transform>| {
        map_first(&mut columns, headers, names, to, transforms);
    };
    add(&["~key"], Target::SupplierSku, vec![]);
    add(&["~parent"], Target::ParentSku, vec![]);
    add(&["~options"], Target::VariantOptions { separator: LIST_SEPARATOR.into() }, vec![]);
    add(&["~features"], Target::Attributes { separator: LIST_SEPARATOR.into() }, vec![]);
    let reference: &[&str] = if combination { &["Reference"] } else { &["Reference #"] };
    add(reference, Target::Attribute { name: "reference".into() }, vec![]);
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
    // …and makes the combination's own retail price (its product's plus the impact).
    add(impact, Target::PriceImpact, vec![]);
    add(&["Wholesale price"], Target::Cost, vec![]);
    // A discount in percent is a sale price (between its dates, the last day included). A discount amount is not
    // read: PrestaShop takes it tax included by default, and our prices are without tax.
    add(&["Discount percent"], Target::SalePercent, vec![]);
    let (start, end) = (WindowPart::Start, WindowPart::End);
    let from: &[&str] = &["Discount from (yyyy-mm-dd)", "Discount from (yyy-mm-dd)"];
    add(from, Target::PriceWindow { price_type: PriceType::Sale, part: start }, vec![]);
    let to: &[&str] = &["Discount to (yyyy-mm-dd)", "Discount to (yyy-mm-dd)"];
    add(to, Target::PriceWindow { price_type: PriceType::Sale, part: end }, vec![]);
    // Facts about the product with no field of ours: attributes, named as PrestaShop's columns (lowercase).
    for (columns, name) in PRESTASHOP_ATTRIBUTE_COLUMNS {
        add(columns, Target::Attribute { name: name.into() }, vec![]);
    }
    // SEO metadata, in the import's SEO locale (the shop's language: the file does not say it).
    add(&["URL rewritten"], super::import_seo(SeoPart::Slug), vec![Transform::Slugify {}]);
    add(&["Meta title", "Meta-title"], super::import_seo(SeoPart::MetaTitle), vec![]);
    add(&["Meta description", "Meta-description"], super::import_seo(SeoPart::MetaDescription), vec![]);
    // A shop's export: the shop's stock is the product's own (not a supplier's offer, which would count it twice).
    add(&["Quantity"], Target::ProductStock, vec![]);
    let images = Target::Image { separator: Some(",".into()), base_url: None };
    add(&["Image URLs (x,y,z...)", "Image URLs (x,y,z,...)"], images, vec![]);
    shop_template(columns)
}

/// Column positions of a PrestaShop product or combination file.
pub(super) struct PrestashopShaper {
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
    /// Combination references seen so far: PrestaShop lets combinations share one, a key may not.
    references: std::collections::HashSet<String>,
    /// A combination's price impact: empty is none (the product's price).
    impact: Option<usize>,
    /// Features: 9.x's `Feature(Name:Value:Position)` list, 1.4's `Feature:<name>` columns.
    features: Option<usize>,
    named_features: Vec<(usize, String)>,
    /// The attributes this header's columns make, and those the preset makes of its key columns (`reference`): a
    /// feature of the same name takes `(feature)`.
    column_attributes: Vec<&'static str>,
}

impl PrestashopShaper {
    pub(super) fn new(headers: &[String]) -> Self {
        let at = |names: &[&str]| position(headers, names);
        let combination = at(&["Product ID*"]).is_some();
        PrestashopShaper {
            headers: with_own(headers, &PRESTASHOP_OWN),
            id: at(&["Product ID*", "Product ID", "ID"]),
            reference: if combination { at(&["Reference"]) } else { at(&["Reference #", "Reference"]) },
            combination,
            attribute_names: at(&["Attribute (Name:Type:Position)*"]),
            attribute_values: at(&["Value (Value:Position)*"]),
            options: at(&["Options (Group:Value)*"]),
            references: std::collections::HashSet::new(),
            impact: if combination { at(&["Impact on price", "Price"]) } else { None },
            features: at(&["Feature(Name:Value:Position)"]),
            column_attributes: PRESTASHOP_ATTRIBUTE_COLUMNS
                .iter()
                .filter(|(columns, _)| at(columns).is_some())
                .map(|(_, name)| *name)
                .chain(PRESTASHOP_OTHER_ATTRIBUTES)
                .collect(),
            named_features: headers
                .iter()
                .enumerate()
                .filter_map(|(index, header)| Some((index, header.trim().strip_prefix("Feature:")?.trim().to_string())))
                .collect(),
        }
    }

    /// A combination's `axis=value` pairs.
    fn options(&self, row: &Row) -> Vec<(String, String)> {
        let get = |column: Option<usize>| field(row, column);
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

    fn reads(&self) -> Vec<(usize, &'static str)> {
        let (id, reference) = if self.combination {
            (
                "the combination's product (its parent, `id:<Product ID>`)",
                "a combination's key (the first with this reference; others: `id:<Product ID>/<values>`)",
            )
        } else {
            ("the product's key `id:<Product ID>`", "the product's key when it has no id")
        };
        let own = [
            (self.id, id),
            (self.reference, reference),
            (self.attribute_names, "variant axes"),
            (self.attribute_values, "variant option values"),
            (self.options, "variant axes and option values"),
            (self.features, "attributes, one per feature (`Name:Value:Position`)"),
        ];
        let named = self.named_features.iter().map(|(column, _)| (*column, "an attribute named as the feature"));
        super::present(own).chain(named).collect()
    }

    fn shape(&mut self, mut row: Row) -> Vec<Row> {
        if let Some(column) = self.impact {
            // No impact (an empty cell, or a row that stops before it): the combination sells at its product's price.
            if row.fields.len() <= column {
                row.fields.resize(column + 1, String::new());
            }
            if row.fields[column].trim().is_empty() {
                row.fields[column] = "0".to_string();
            }
        }
        let get = |column: Option<usize>| field(&row, column);
        let (id, reference) = (get(self.id).to_string(), get(self.reference).to_string());
        let mut features: Vec<(String, String)> = get(self.features)
            .split(',')
            .filter_map(|feature| {
                let mut parts = feature.split(':');
                let (name, value) = (parts.next()?.trim(), parts.next()?.trim());
                (!name.is_empty() && !value.is_empty()).then(|| (name.to_string(), value.to_string()))
            })
            .collect();
        for (column, name) in &self.named_features {
            match get(Some(*column)).trim() {
                "" => {}
                value => features.push((name.clone(), value.to_string())),
            }
        }
        // An attribute given twice refuses the row: a feature with several values (PrestaShop allows it) is one
        // attribute, its values joined; one named as an attribute the preset makes of a column (`Height` beside
        // the `Height` column, `Reference`) takes `(feature)`.
        let mut merged: Vec<(String, String)> = Vec::new();
        for (name, value) in features {
            let name = match self.column_attributes.iter().any(|a| a.eq_ignore_ascii_case(&name)) {
                true => format!("{name} (feature)"),
                false => name,
            };
            match merged.iter_mut().find(|(known, _)| known.eq_ignore_ascii_case(&name)) {
                Some((_, values)) => {
                    values.push_str(", ");
                    values.push_str(&value);
                }
                None => merged.push((name, value)),
            }
        }
        let features: Vec<String> = merged.iter().map(|(name, value)| format!("{name}={value}")).collect();
        let features = features.join(LIST_SEPARATOR);
        let own = if self.combination {
            let options: Vec<(String, String)> =
                self.options(&row).into_iter().filter(|(axis, value)| !axis.is_empty() && !value.is_empty()).collect();
            // Keyed by its reference, unless it has none or an earlier combination of the file has the same one
            // (PrestaShop allows that): then by its product and values (the reference stays an attribute).
            let first_with_reference = !reference.is_empty() && self.references.insert(reference.clone());
            let key = match reference.as_str() {
                _ if first_with_reference => reference.clone(),
                _ if id.is_empty() => String::new(),
                _ => {
                    let values: Vec<&str> = options.iter().map(|(_, v)| v.as_str()).collect();
                    format!("id:{id}/{}", values.join("/"))
                }
            };
            let parent = if id.is_empty() { String::new() } else { format!("id:{id}") };
            let options = options.iter().map(|(a, v)| format!("{a}={v}")).collect::<Vec<_>>().join(LIST_SEPARATOR);
            [key, parent, options, features]
        } else {
            let key = if id.is_empty() { reference } else { format!("id:{id}") };
            [key, String::new(), String::new(), features]
        };
        // Rows can be ragged (PrestaShop's own samples are): the own columns go after the header's.
        append_own(&mut row, self.headers.len() - PRESTASHOP_OWN.len(), own);
        vec![row]
    }
}

#[cfg(test)]
mod tests {
    use super::super::Preset;
    use super::super::testing::{shape, value};

    #[test]
    fn prestashop_combinations_are_variants_of_their_product_id() {
        let headers = ["Product ID*", "Attribute (Name:Type:Position)*", "Value (Value:Position)*", "Reference"];
        let rows: [&[&str]; 3] = [
            &["1", "Color:color:0, Disk space:select:1", "Blue:0, 16GB:1", "NANO-B16"],
            &["1", "Color:color:0, Disk space:select:1", "Pink:0, 8GB:1", ""],
            &["1", "Color:color:0, Disk space:select:1", "Blue:0, 8GB:1", "NANO-B16"],
        ];
        let mapped = shape(Preset::Prestashop, &headers, &rows);
        assert_eq!(value(&mapped[0].supplier_sku), "NANO-B16");
        assert_eq!(value(&mapped[1].supplier_sku), "id:1/Pink/8GB", "no reference: the product and the values");
        assert_eq!(value(&mapped[2].supplier_sku), "id:1/Blue/8GB", "a reference seen before: the same");
        assert_eq!(mapped[2].attributes[0].1.value, "NANO-B16", "the reference stays");
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

    /// Features are attributes (9.x's list, 1.4's columns); 1.4's tags and short description are read; a
    /// combination without a price impact sells at its product's price.
    #[test]
    fn features_tags_and_an_empty_impact() {
        let products = shape(
            Preset::Prestashop,
            &["id", "Name*", "Price tax excl.", "Tags (x,y,z,...)", "Short description", "Feature:Height"],
            &[&["1", "iPod", "49", "apple, music", "Small", "5 cm"]],
        );
        let attributes: Vec<(&str, &str)> =
            products[0].attributes.iter().map(|(n, c)| (n.as_str(), c.value.as_str())).collect();
        for expected in [("tags", "apple, music"), ("summary", "Small"), ("Height", "5 cm")] {
            assert!(attributes.contains(&expected), "{expected:?}: {attributes:?}");
        }
        let listed = shape(
            Preset::Prestashop,
            &["Product ID", "Name *", "Price tax excluded", "Height", "Feature(Name:Value:Position)"],
            &[&[
                "2",
                "Mac",
                "900",
                "3",
                "Height:2 cm:1, Battery Life:10 h:2, Color:Silver:3, Color:Gold:3, Reference:A1:4",
            ]],
        );
        let attributes: Vec<(&str, &str)> =
            listed[0].attributes.iter().map(|(n, c)| (n.as_str(), c.value.as_str())).collect();
        let expected = [
            ("height", "3"),
            ("Height (feature)", "2 cm"),
            ("Battery Life", "10 h"),
            ("Color", "Silver, Gold"),
            ("Reference (feature)", "A1"),
        ];
        for expected in expected {
            assert!(
                attributes.contains(&expected),
                "{expected:?}: {attributes:?} (a name given twice refuses the row)"
            );
        }
        let combinations = shape(
            Preset::Prestashop,
            &["Product ID*", "Options (Group:Value)*", "Reference", "Price"],
            &[&["1", "Color:Pink", "", ""], &["1", "Color:Blue", "R-B"]],
        );
        assert_eq!(combinations[0].price_impact.as_ref().map(|c| c.value.as_str()), Some("0"));
        assert_eq!(combinations[1].price_impact.as_ref().map(|c| c.value.as_str()), Some("0"), "a row that stops");
    }
}
