//! Shopify's product CSV (variants as rows, grouped by handle).

use super::{LIST_SEPARATOR, Shaper, append_own, field, map_first, position, price, shop_template, with_own};
use crate::catalog::PriceType;
use crate::imports::mapping::template::{SeoPart, Target, Template};
use crate::imports::mapping::transform::Transform;
use crate::imports::parse::Row;

// The Shopify shaper's own columns: a product's fields, given on its first row, for every row it makes.
const SHOPIFY_OWN: [&str; 14] = [
    "~key",
    "~slug",
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
    "~attributes",
    "~availability",
];

/// The product's columns kept as attributes, and the attribute each makes: the parent's, not its variants'.
const SHOPIFY_PRODUCT_ATTRIBUTES: [(&str, &str); 13] = [
    ("Google Shopping / Google Product Category", "google_product_category"),
    ("Google Shopping / MPN", "mpn"),
    ("Google Shopping / Condition", "condition"),
    ("Google Shopping / Gender", "gender"),
    ("Google Shopping / Age Group", "age_group"),
    ("Google Shopping / Custom Product", "custom_product"),
    ("Google Shopping / AdWords Grouping", "adwords_grouping"),
    ("Google Shopping / AdWords Labels", "adwords_labels"),
    ("Google Shopping / Custom Label 0", "custom_label_0"),
    ("Google Shopping / Custom Label 1", "custom_label_1"),
    ("Google Shopping / Custom Label 2", "custom_label_2"),
    ("Google Shopping / Custom Label 3", "custom_label_3"),
    ("Google Shopping / Custom Label 4", "custom_label_4"),
];

/// The product's SEO columns, in the import's SEO locale (its slug is the handle, its variants have none).
const SHOPIFY_SEO: [(&str, SeoPart); 2] =
    [("SEO Title", SeoPart::MetaTitle), ("SEO Description", SeoPart::MetaDescription)];

/// The other attributes the template names (a metafield or an option of the same name takes a qualifier).
const SHOPIFY_OTHER_ATTRIBUTES: [&str; 4] = ["type", "tags", "variant_sku", "weight_grams"];

/// Whether the template makes an attribute of this name itself.
fn preset_attribute(name: &str) -> bool {
    let mut names = SHOPIFY_PRODUCT_ATTRIBUTES.iter().map(|(_, attribute)| *attribute).chain(SHOPIFY_OTHER_ATTRIBUTES);
    names.any(|n| n.eq_ignore_ascii_case(name))
}

pub(super) fn shopify(headers: &[String]) -> Template {
    let mut columns = Vec::new();
    let mut add_with = |names: &[&str], to: Target, transforms| map_first(&mut columns, headers, names, to, transforms);
    // The handle is the product's slug (a variant's key is not).
    add_with(&["~slug"], super::import_seo(SeoPart::Slug), vec![Transform::Slugify {}]);
    let mut add = |names: &[&str], to: Target| add_with(names, to, vec![]);
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
    add(&["~attributes"], Target::Attributes { separator: LIST_SEPARATOR.into() });
    // A variant's own columns, mapped as they are (so an error names the file's column).
    // Not the product's SKU: Shopify does not keep SKUs unique (a real store's export gives `ROUTEINS` to 76
    // variants), and one SKU names one product here.
    add(&["Variant SKU"], Target::Attribute { name: "variant_sku".into() });
    add(&["Variant Barcode"], Target::Gtin);
    // Facts about the product with no field of ours: attributes.
    add(&["Variant Grams"], Target::Attribute { name: "weight_grams".into() });
    for (column, name) in SHOPIFY_PRODUCT_ATTRIBUTES {
        add(&[column], Target::Attribute { name: name.into() });
    }
    for (column, part) in SHOPIFY_SEO {
        add(&[column], super::import_seo(part));
    }
    add(&["Variant Price"], price(PriceType::Retail));
    add(&["Variant Compare At Price"], price(PriceType::Msrp));
    add(&["Cost per item"], Target::Cost);
    // A shop's export: the shop's stock is the product's own (not a supplier's offer, which would count it twice).
    add(&["Variant Inventory Qty"], Target::ProductStock);
    add(&["~availability"], Target::Availability);
    shop_template(columns)
}

/// Column positions of a Shopify export, and the rows of the handle being read.
pub(super) struct ShopifyShaper {
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
    /// `Variant Inventory Tracker` (empty: Shopify does not count the variant's stock), `Variant Inventory Policy`
    /// (`continue`: sold when none are left) and `Variant Inventory Qty`.
    tracker: Option<usize>,
    policy: Option<usize>,
    quantity: Option<usize>,
    /// Columns only a variant fills: a row with none of them (and no option value) carries only an image.
    variant_columns: Vec<usize>,
    /// The product's own columns the preset maps as they are (SEO, Google Shopping): its variants do not take them.
    product_columns: Vec<usize>,
    /// A product's metafield columns (`Density (product.metafields.custom.density)`), the attribute each makes
    /// (`Density`) and its key (`custom.density`, for a name given twice).
    metafields: Vec<(usize, String, String)>,
    group: Vec<Row>,
}

impl ShopifyShaper {
    pub(super) fn new(headers: &[String]) -> Self {
        let at = |name: &str| position(headers, &[name]);
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
        ShopifyShaper {
            headers: with_own(headers, &SHOPIFY_OWN),
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
            tracker: at("Variant Inventory Tracker"),
            policy: at("Variant Inventory Policy"),
            quantity: at("Variant Inventory Qty"),
            variant_columns,
            product_columns: SHOPIFY_PRODUCT_ATTRIBUTES
                .iter()
                .map(|(column, _)| *column)
                .chain(SHOPIFY_SEO.iter().map(|(column, _)| *column))
                .filter_map(at)
                .collect(),
            metafields: headers
                .iter()
                .enumerate()
                .filter_map(|(index, header)| {
                    let (name, key) = header.trim().split_once(" (product.metafields.")?;
                    Some((index, name.trim().to_string(), key.trim_end_matches(')').to_string()))
                })
                .collect(),
            group: Vec::new(),
        }
    }

    /// Whether a row fills a variant's columns (one without any carries only an image).
    fn is_variant(&self, row: &Row) -> bool {
        self.variant_columns.iter().any(|c| row.fields.get(*c).is_some_and(|v| !v.trim().is_empty()))
    }

    /// A variant row's availability, for `~availability`: an untracked variant is always sold (its quantity is no
    /// count, and is cleared); a tracked one is on backorder when sold with none left (`continue`), else out of stock
    /// when its count says none (a count comes first: stating it replaces a backorder stated before).
    fn availability(&self, row: &mut Row) -> String {
        let untracked = self.tracker.is_some() && field(row, self.tracker).is_empty();
        if untracked {
            if let Some(quantity) = self.quantity.and_then(|c| row.fields.get_mut(c)) {
                quantity.clear();
            }
            return "in_stock".to_string();
        }
        match field(row, self.policy).eq_ignore_ascii_case("continue") {
            true => "backorder".to_string(),
            false => "out_of_stock".to_string(),
        }
    }

    /// The rows one product (the rows of one handle) makes.
    fn product(&self, rows: Vec<Row>) -> Vec<Row> {
        let Some(first) = rows.first().cloned() else { return Vec::new() };
        let get = |column: Option<usize>| field(&first, column).to_string();
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
            let url = field(row, self.image);
            if !url.is_empty() && !images.iter().any(|(_, known)| known == url) {
                let position = field(row, self.image_position).parse().unwrap_or(u64::MAX / 2 + index as u64);
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
                .map(|((_, value), axis)| (axis.clone(), field(row, Some(*value)).to_string()))
                // Shopify's one-variant products have the option `Title: Default Title`: no option at all.
                .filter(|(axis, value)| !(value.is_empty() || axis == "Title" && value == "Default Title"))
                .collect()
        };
        let variants: Vec<Row> = rows.into_iter().filter(|row| self.is_variant(row)).collect();
        // The product's metafields, as attributes (given on the first row); a name given twice (by two metafields,
        // or by an option of a product with one variant: `Color`) takes the metafield's key.
        let metafields = |taken: &[(String, String)]| -> Vec<(String, String)> {
            let mut named: Vec<(String, String)> = Vec::new();
            for (column, name, key) in &self.metafields {
                let value = field(&first, Some(*column));
                if value.is_empty() {
                    continue;
                }
                let used = |name: &str| {
                    taken.iter().chain(&named).any(|(n, _)| n.eq_ignore_ascii_case(name)) || preset_attribute(name)
                };
                let name = if used(name) { format!("{name} ({key})") } else { name.clone() };
                named.push((name, value.to_string()));
            }
            named
        };
        let pairs = |pairs: &[(String, String)]| {
            pairs.iter().map(|(a, v)| format!("{a}={v}")).collect::<Vec<_>>().join(LIST_SEPARATOR)
        };
        let own = |row: &mut Row,
                   key: String,
                   title: String,
                   parent: String,
                   options: String,
                   images: String,
                   attributes: String,
                   availability: String| {
            // A variant's description, category, type, tags and metafields are its parent's.
            let variant = !parent.is_empty();
            let pick = |value: String| if variant { String::new() } else { value };
            append_own(
                row,
                self.headers.len() - SHOPIFY_OWN.len(),
                [
                    key.clone(),
                    pick(key),
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
                    attributes,
                    availability,
                ],
            );
        };
        if variants.len() <= 1 {
            // One product: the variant row (or the first, for a product without one) with every image.
            let mut row = variants.into_iter().next().unwrap_or_else(|| first.clone());
            // Its options (`Length: 20`) are facts about it: attributes (named `… (option)` when the preset names
            // an attribute so: `Condition`).
            let mut attributes: Vec<(String, String)> = options_of(&row)
                .into_iter()
                .map(|(axis, value)| match preset_attribute(&axis) {
                    true => (format!("{axis} (option)"), value),
                    false => (axis, value),
                })
                .collect();
            attributes.extend(metafields(&attributes));
            let attributes = pairs(&attributes);
            // A product without a variant row has no stock of its own to state.
            let availability = if self.is_variant(&row) { self.availability(&mut row) } else { String::new() };
            let images = images.join(LIST_SEPARATOR);
            own(&mut row, handle, title, String::new(), String::new(), images, attributes, availability);
            return vec![row];
        }
        // A parent on the first row's line, without the variant's columns, then the variants.
        let mut parent = Row { line: variants[0].line.min(first.line), fields: first.fields.clone() };
        for column in &self.variant_columns {
            if let Some(value) = parent.fields.get_mut(*column) {
                value.clear();
            }
        }
        let images = images.join(LIST_SEPARATOR);
        let metafields = pairs(&metafields(&[]));
        own(
            &mut parent,
            handle.clone(),
            title.clone(),
            String::new(),
            String::new(),
            images,
            metafields,
            String::new(),
        );
        let mut shaped = vec![parent];
        for mut row in variants {
            for column in &self.product_columns {
                if let Some(value) = row.fields.get_mut(*column) {
                    value.clear();
                }
            }
            let options = options_of(&row);
            let values: Vec<&str> = options.iter().map(|(_, v)| v.as_str()).collect();
            let key = format!("{handle}/{}", values.join("/"));
            let variant_title =
                if values.is_empty() { title.clone() } else { format!("{title} - {}", values.join(", ")) };
            let image = field(&row, self.variant_image).to_string();
            let availability = self.availability(&mut row);
            own(&mut row, key, variant_title, handle.clone(), pairs(&options), image, String::new(), availability);
            shaped.push(row);
        }
        shaped
    }
}

impl Shaper for ShopifyShaper {
    fn headers(&self) -> Vec<String> {
        self.headers.clone()
    }

    fn reads(&self) -> Vec<(usize, &'static str)> {
        let own = [
            (self.handle, "the product's key and slug (its variants' key: `handle/value/value`)"),
            (self.title, "title (a variant's: `Title - value, value`)"),
            (self.body, "description"),
            (self.vendor, "brand"),
            (self.category, "category"),
            (self.kind, "attribute `type`"),
            (self.tags, "attribute `tags`"),
            (self.published, "status, when `Status` is empty"),
            (self.status, "status"),
            (self.image, "image URLs (every row of the handle)"),
            (self.image_position, "the images' order"),
            (self.variant_image, "a variant's image"),
            (self.tracker, "availability: empty, the stock is not counted (the quantity is not read) and always sold"),
            (self.policy, "availability: `continue`, on backorder when no stock is left"),
        ];
        let options = self.options.iter().flat_map(|(name, value)| {
            [
                (*name, "a variant axis (named on the first row)"),
                (Some(*value), "a variant's option value (an attribute of a product with one variant)"),
            ]
        });
        let metafields = self
            .metafields
            .iter()
            .map(|(column, ..)| (*column, "an attribute named as the metafield (before its `(`)"));
        super::present(own)
            .chain(options.filter_map(|(column, what)| Some((column?, what))))
            .chain(metafields)
            .collect()
    }

    fn shape(&mut self, row: Row) -> Vec<Row> {
        let same = self.group.first().is_some_and(|first| field(first, self.handle) == field(&row, self.handle));
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

#[cfg(test)]
mod tests {
    use super::super::Preset;
    use super::super::testing::{shape, value};
    use crate::imports::mapping::{MappedRow, SeoPart};

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
        // The handle is the product's slug (in the import's SEO locale), not its variants'.
        let slug =
            |row: &MappedRow| row.seo.iter().map(|(_, part, cell)| (*part, cell.value.clone())).collect::<Vec<_>>();
        assert_eq!(slug(parent), [(SeoPart::Slug, "tee".to_string())]);
        assert_eq!(slug(cap), [(SeoPart::Slug, "cap".to_string())]);
        assert!(slug(medium).is_empty(), "{medium:?}");
    }

    /// A product with one real variant keeps its option as an attribute; metafields and Google Shopping columns are
    /// attributes of the product (the parent's when it has variants).
    #[test]
    fn one_variant_options_and_metafields_are_attributes() {
        let headers = [
            "Handle",
            "Title",
            "Option1 Name",
            "Option1 Value",
            "Variant Price",
            "Google Shopping / Condition",
            "Density (product.metafields.custom.density)",
            "Length (product.metafields.custom.length)",
        ];
        let rows: [&[&str]; 3] = [
            &["wig", "Wig", "Length", "20 Inches", "99", "new", "180%", "20"],
            &["tee", "Tee", "Size", "S", "10", "used", "light", ""],
            &["tee", "", "", "M", "11", "", "", ""],
        ];
        let mapped = shape(Preset::Shopify, &headers, &rows);
        let attributes = |i: usize| -> Vec<(String, String)> {
            let mut found: Vec<(String, String)> =
                mapped[i].attributes.iter().map(|(n, c)| (n.clone(), c.value.clone())).collect();
            found.sort();
            found
        };
        let wig = attributes(0);
        let expected =
            [("Density", "180%"), ("Length", "20 Inches"), ("Length (custom.length)", "20"), ("condition", "new")];
        assert_eq!(wig, expected.map(|(n, v)| (n.to_string(), v.to_string())), "{wig:?}");
        assert!(mapped[0].variant_options.is_empty() && mapped[0].parent_sku.is_none());
        let parent = attributes(1);
        assert_eq!(parent, [("Density", "light"), ("condition", "used")].map(|(n, v)| (n.to_string(), v.to_string())));
        assert!(attributes(2).is_empty(), "a variant's are its parent's");
        // An option named as one of the preset's attributes, beside its column: both kept, the option qualified.
        let headers =
            ["Handle", "Title", "Option1 Name", "Option1 Value", "Variant Price", "Google Shopping / Condition"];
        let mapped = shape(Preset::Shopify, &headers, &[&["hat", "Hat", "Condition", "Used", "5", "refurbished"]]);
        let mut found: Vec<(&str, &str)> =
            mapped[0].attributes.iter().map(|(n, c)| (n.as_str(), c.value.as_str())).collect();
        found.sort();
        assert_eq!(found, [("Condition (option)", "Used"), ("condition", "refurbished")]);
    }
}
