//! Google Merchant Center product feeds (RSS/Atom XML or tab-separated text), as many suppliers publish their
//! catalog: `id` is the key, `price` carries its currency (`349.00 EUR`), items sharing an `item_group_id` are
//! variants of one product made for the group (their `color` and `size` its axes).

use std::collections::HashSet;

use super::{LIST_SEPARATOR, Shaper, append_own, field, position, price, with_own};
use crate::catalog::PriceType;
use crate::imports::mapping::template::{
    ColumnMapping, InvalidGtin, RelativeImages, Target, Template, UnmappedColumns, WindowPart,
};
use crate::imports::mapping::transform::Transform;
use crate::imports::parse::Row;

const GOOGLE_OWN: [&str; 10] = [
    "~key",
    "~title",
    "~currency",
    "~images",
    "~parent",
    "~options",
    "~status",
    "~sale_price",
    "~availability",
    "~availability_other",
];

/// The attributes that tell an item group's variants apart. Google also allows `material`, `pattern`, `gender` and
/// `age_group`, but a group's items mostly share those (a feed read as it streams cannot know which vary): they stay
/// attributes.
const VARIANT_AXES: [&str; 2] = ["color", "size"];

/// The item's columns a product made for its group takes; the others are the item's own.
const GROUP_COLUMNS: [&str; 4] = ["description", "brand", "product_type", "google_product_category"];

/// Columns the preset maps to fields of ours (or reads); every other column becomes an attribute of its name.
const FIELDS: [&str; 13] = [
    "id",
    "availability",
    "title",
    "description",
    "brand",
    "gtin",
    "price",
    "sale_price",
    "sale_price_effective_date",
    "image_link",
    "additional_image_link",
    "product_type",
    "item_group_id",
];

pub(super) fn google(headers: &[String]) -> Template {
    let mut columns = Vec::new();
    let mut add = |column: &str, to: Target, transforms: Vec<Transform>| {
        if headers.iter().any(|h| h == column) {
            columns.push(ColumnMapping { column: column.to_string(), to, transforms, optional: false });
        }
    };
    add("~key", Target::SupplierSku, vec![]);
    add("~title", Target::Title, vec![]);
    add("~currency", Target::Currency, vec![]);
    add("~images", Target::Image { separator: Some(LIST_SEPARATOR.into()), base_url: None }, vec![]);
    add("~parent", Target::ParentSku, vec![]);
    add("~options", Target::VariantOptions { separator: LIST_SEPARATOR.into() }, vec![]);
    add("~status", Target::Status, vec![]);
    add("~sale_price", price(PriceType::Sale), vec![]);
    add("~availability", Target::Availability, vec![]);
    // A value Google does not know (`limited availability`) states nothing, and is kept as written.
    add("~availability_other", Target::Attribute { name: "availability".into() }, vec![]);
    add("description", Target::Description, vec![]);
    add("brand", Target::Brand, vec![]);
    add("gtin", Target::Gtin, vec![]);
    add("price", price(PriceType::Retail), vec![]);
    // `2026-12-01T00:00+0100/2026-12-24T23:59+0100`: the sale price applies then only.
    add(
        "sale_price_effective_date",
        Target::PriceWindow { price_type: PriceType::Sale, part: WindowPart::Interval },
        vec![],
    );
    // Several product types when an XML item repeats the element.
    let types = Some(LIST_SEPARATOR.into());
    add("product_type", Target::Category { separator: ">".into(), list_separator: types }, vec![]);
    // A supplier's feed says whether it has the item, not how many: out of stock is none, in stock is unknown (and
    // the product is stated in stock, or on backorder…: `~availability`).
    let none_left = [("out_of_stock", "0"), ("out of stock", "0")].map(|(k, v)| (k.to_string(), v.to_string()));
    add(
        "availability",
        Target::Stock,
        vec![Transform::Lower {}, Transform::Lookup { table: none_left.into(), otherwise: Some(String::new()) }],
    );
    for column in headers {
        if !column.starts_with('~') && !FIELDS.contains(&column.as_str()) {
            add(column, Target::Attribute { name: column.clone() }, vec![]);
        }
    }
    Template {
        columns,
        currency: None,
        unmapped_columns: UnmappedColumns::Ignore,
        // Feeds carry placeholder barcodes; image links are absolute.
        invalid_gtin: InvalidGtin::Ignore,
        relative_images: RelativeImages::Refuse,
        changes_only: None,
    }
}

/// Column positions of a Google feed, and the item groups already given a product.
pub(super) struct GoogleShaper {
    headers: Vec<String>,
    file_columns: usize,
    id: Option<usize>,
    title: Option<usize>,
    price: Option<usize>,
    sale_price: Option<usize>,
    image: Option<usize>,
    additional_images: Option<usize>,
    availability: Option<usize>,
    group: Option<usize>,
    axes: Vec<(&'static str, usize)>,
    group_columns: Vec<usize>,
    groups: HashSet<String>,
}

impl GoogleShaper {
    pub(super) fn new(headers: &[String]) -> Self {
        let at = |name: &str| position(headers, &[name]);
        GoogleShaper {
            headers: with_own(headers, &GOOGLE_OWN),
            file_columns: headers.len(),
            id: at("id"),
            title: at("title"),
            price: at("price"),
            sale_price: at("sale_price"),
            image: at("image_link"),
            additional_images: at("additional_image_link"),
            availability: at("availability"),
            group: at("item_group_id"),
            axes: VARIANT_AXES.iter().filter_map(|axis| Some((*axis, at(axis)?))).collect(),
            group_columns: GROUP_COLUMNS.iter().filter_map(|name| at(name)).collect(),
            groups: HashSet::new(),
        }
    }
}

/// The currency an amount names (`349.00 EUR` → `EUR`), empty when it names none.
fn currency_of(amount: &str) -> String {
    let code = amount.rsplit(' ').next().unwrap_or_default();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) { code.to_string() } else { String::new() }
}

/// A group's product's title from one of its item's: cut before the separator (` — `, ` - `, `, `…) that precedes
/// the first of the item's option values (`Ski Jacket — Black, Size M` → `Ski Jacket`); the whole title when none
/// appears in it.
fn group_title(title: &str, values: &[&str]) -> String {
    let first_value = values.iter().filter_map(|value| word_at(title, value)).filter(|at| *at > 0).min();
    let Some(first_value) = first_value else { return title.to_string() };
    let cut = [" — ", " – ", " - ", ", ", " / ", " | ", " ("]
        .iter()
        .filter_map(|separator| title[..first_value].rfind(separator))
        .max();
    match cut {
        Some(at) if !title[..at].trim().is_empty() => title[..at].trim().to_string(),
        _ => title.to_string(),
    }
}

/// Where `word` first stands as a word of its own in `text` (`M` in `Size M`, not in `Men's`), ignoring case.
fn word_at(text: &str, word: &str) -> Option<usize> {
    if word.is_empty() {
        return None;
    }
    let (text_lower, word_lower) = (text.to_lowercase(), word.to_lowercase());
    // Lowercasing may change lengths: only texts it leaves the same length are searched (others: not found).
    if text_lower.len() != text.len() {
        return None;
    }
    // An apostrophe belongs to its word (the `s` of `Women's` is no size S).
    let is_word_char = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '\'' || c == '’');
    text_lower.match_indices(&word_lower).map(|(at, _)| at).find(|at| {
        let before = text_lower[..*at].chars().next_back();
        let after = text_lower[at + word_lower.len()..].chars().next();
        !is_word_char(before) && !is_word_char(after)
    })
}

impl Shaper for GoogleShaper {
    fn headers(&self) -> Vec<String> {
        self.headers.clone()
    }

    fn reads(&self) -> Vec<(usize, &'static str)> {
        let own = [
            (self.id, "the key (the offer's supplier SKU)"),
            (self.title, "title (an item group's product: the first item's, before its option values)"),
            (self.price, "the currency of the row's amounts"),
            (self.sale_price, "the sale price (in its window when `sale_price_effective_date` gives one)"),
            (self.image, "image URLs"),
            (self.additional_images, "image URLs"),
            (self.group, "the parent: a product made for the item group (key `group:<id>`)"),
            (self.availability, "availability (another value than Google's four: attribute `availability`)"),
        ];
        let axes = self.axes.iter().map(|(_, at)| (*at, "a variant option, in an item group"));
        super::present(own).chain(axes).collect()
    }

    fn shape(&mut self, mut row: Row) -> Vec<Row> {
        let get = |column: Option<usize>| field(&row, column).to_string();
        let (key, title, group) = (get(self.id), get(self.title), get(self.group));
        let currency = match currency_of(&get(self.price)) {
            code if code.is_empty() => currency_of(&get(self.sale_price)),
            code => code,
        };
        // `image_link` is one URL (a comma may be part of it); `additional_image_link` lists several, repeated in
        // XML, comma-separated in text feeds.
        let additional = get(self.additional_images);
        let images: Vec<String> = get(self.image)
            .split(LIST_SEPARATOR)
            .chain(additional.split([',', '\u{1f}']))
            .map(|url| url.trim().to_string())
            .filter(|url| !url.is_empty())
            .collect();
        let images = images.join(LIST_SEPARATOR);
        let sale_price = get(self.sale_price);
        // Google's four values; another states nothing and is kept as an attribute.
        let (availability, other) = match get(self.availability) {
            stated if stated.is_empty() => (String::new(), String::new()),
            stated => match stated.parse::<crate::catalog::Availability>() {
                Ok(known) => (known.as_str().to_string(), String::new()),
                Err(_) => (String::new(), stated),
            },
        };
        if group.is_empty() {
            let none = String::new;
            let own = [key, title, currency, images, none(), none(), none(), sale_price, availability, other];
            append_own(&mut row, self.file_columns, own);
            return vec![row];
        }
        let options: Vec<(&str, String)> =
            self.axes.iter().map(|(axis, at)| (*axis, get(Some(*at)))).filter(|(_, v)| !v.is_empty()).collect();
        let parent_key = format!("group:{group}");
        let mut rows = Vec::new();
        if self.groups.insert(group.clone()) {
            // The group's product: the item's shared columns, a title without the item's options, its first image.
            let values: Vec<&str> = options.iter().map(|(_, v)| v.as_str()).collect();
            let mut parent = Row { line: row.line, fields: vec![String::new(); self.file_columns] };
            for at in &self.group_columns {
                parent.fields[*at] = field(&row, Some(*at)).to_string();
            }
            let first_image = images.split(LIST_SEPARATOR).next().unwrap_or_default().to_string();
            let title = group_title(&title, &values);
            let own = [
                parent_key.clone(),
                title,
                String::new(),
                first_image,
                String::new(),
                String::new(),
                "active".into(),
                String::new(),
                String::new(),
                String::new(),
            ];
            append_own(&mut parent, self.file_columns, own);
            rows.push(parent);
        }
        let options = options.iter().map(|(axis, value)| format!("{axis}={value}")).collect::<Vec<_>>();
        append_own(
            &mut row,
            self.file_columns,
            [
                key,
                title,
                currency,
                images,
                parent_key,
                options.join(LIST_SEPARATOR),
                String::new(),
                sale_price,
                availability,
                other,
            ],
        );
        rows.push(row);
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::super::Preset;
    use super::super::testing::{shape, value};
    use super::*;

    #[test]
    fn item_groups_become_a_product_with_variants() {
        let headers = [
            "id",
            "title",
            "price",
            "availability",
            "image_link",
            "additional_image_link",
            "item_group_id",
            "color",
            "size",
            "brand",
            "condition",
            "sale_price",
            "sale_price_effective_date",
        ];
        let rows = shape(
            Preset::GoogleMerchant,
            &headers,
            &[
                &[
                    "J-B-M",
                    "Ski Jacket — Black, Size M",
                    "349.00 EUR",
                    "in stock",
                    "https://i/b.jpg",
                    "https://i/b2.jpg,https://i/b3.jpg",
                    "J",
                    "Black",
                    "M",
                    "North",
                    "new",
                    "299.00 EUR",
                    "",
                ],
                &[
                    "J-B-L",
                    "Ski Jacket — Black, Size L",
                    "349.00 EUR",
                    "out_of_stock",
                    "https://i/b.jpg",
                    "",
                    "J",
                    "Black",
                    "L",
                    "North",
                    "new",
                    "299.00 EUR",
                    "2026-12-01T00:00Z/2026-12-24T00:00Z",
                ],
                &[
                    "MUG",
                    "Mug",
                    "9.90 USD",
                    "in_stock",
                    "https://i/w_400,h_400/m.jpg",
                    "",
                    "",
                    "",
                    "",
                    "Acme",
                    "used",
                    "",
                    "",
                ],
            ],
        );
        assert_eq!(rows.len(), 4, "the group's product, its two items, the mug");
        assert_eq!((value(&rows[0].supplier_sku), value(&rows[0].title)), ("group:J", "Ski Jacket"));
        assert_eq!(value(&rows[0].brand), "North");
        assert!(rows[0].prices.is_empty() && rows[0].gtin.is_none(), "the item's own fields stay the item's");
        assert_eq!(rows[0].images.len(), 1);
        assert_eq!(value(&rows[1].parent_sku), "group:J");
        assert_eq!(rows[1].variant_options.len(), 2);
        assert_eq!(value(&rows[1].currency), "EUR");
        assert_eq!(rows[1].images.len(), 3);
        assert_eq!(rows[1].stock, None, "in stock: how many is unknown");
        assert_eq!(value(&rows[2].stock), "0");
        assert_eq!((value(&rows[3].parent_sku), value(&rows[3].currency)), ("", "USD"));
        assert_eq!(rows[3].images[0].value, "https://i/w_400,h_400/m.jpg", "one URL, its comma kept");
        let sales =
            |row: &crate::imports::mapping::MappedRow| row.prices.iter().filter(|p| p.0 == PriceType::Sale).count();
        assert_eq!((sales(&rows[1]), sales(&rows[2])), (1, 1), "a sale with dates is a price too");
        assert!(rows[1].price_windows.is_empty(), "without dates: open-ended");
        let window = rows[2].price_windows.iter().map(|(t, part, c)| (*t, *part, c.value.as_str())).next();
        assert!(matches!(window, Some((PriceType::Sale, WindowPart::Interval, dates)) if dates.contains('/')));
        assert!(!rows[2].attributes.iter().any(|(name, _)| name.starts_with("sale_price")), "no attribute besides");
        let condition = rows[3].attributes.iter().find(|(name, _)| name == "condition").map(|(_, c)| c.value.as_str());
        assert_eq!(condition, Some("used"));
    }

    #[test]
    fn a_group_title_drops_the_options() {
        assert_eq!(
            group_title("Glacier Pro Men's Ski Jacket — Black, Size M", &["Black", "M"]),
            "Glacier Pro Men's Ski Jacket"
        );
        assert_eq!(group_title("T-Shirt - Red / XL", &["Red", "XL"]), "T-Shirt");
        assert_eq!(group_title("Red mug", &["Red"]), "Red mug", "a value at the start cuts nothing");
        assert_eq!(group_title("Women's Jacket — Sapphire, Size S", &["Sapphire", "S"]), "Women's Jacket");
        assert_eq!(group_title("Mug", &["Blue"]), "Mug");
        assert_eq!(currency_of("349.00 EUR"), "EUR");
        assert_eq!(currency_of("349.00"), "");
    }
}
