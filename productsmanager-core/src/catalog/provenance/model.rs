//! Field sources as the SDK shows them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who set a field's current value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FieldSource {
    /// A person, through the API, the console or the command line (`user_id` unknown for the command line and
    /// for an embedding program that names none).
    User { user_id: Option<Uuid> },
    /// A supplier's import.
    Supplier { supplier_id: Uuid, job_id: Option<Uuid> },
    /// A pull from a sales platform.
    Platform { platform_id: Uuid, job_id: Option<Uuid> },
    /// An Amazon lookup.
    Code2Asin { job_id: Option<Uuid> },
    /// Released by a person: the next supplier that gives the field sets it.
    FollowSuppliers,
    /// Set before the catalog recorded provenance.
    Unknown,
}

impl FieldSource {
    /// `(source_kind, source_id, job_id)` as stored.
    pub(crate) fn to_columns(self) -> (&'static str, Option<Uuid>, Option<Uuid>) {
        match self {
            FieldSource::User { user_id } => ("user", user_id, None),
            FieldSource::Supplier { supplier_id, job_id } => ("supplier", Some(supplier_id), job_id),
            FieldSource::Platform { platform_id, job_id } => ("platform", Some(platform_id), job_id),
            FieldSource::Code2Asin { job_id } => ("code2asin", None, job_id),
            FieldSource::FollowSuppliers => ("follow_suppliers", None, None),
            FieldSource::Unknown => ("unknown", None, None),
        }
    }

    /// The source of stored columns (an unreadable one is `Unknown`).
    pub(crate) fn from_columns(kind: Option<&str>, id: Option<Uuid>, job: Option<Uuid>) -> Self {
        match (kind, id) {
            (Some("user"), _) => FieldSource::User { user_id: id },
            (Some("supplier"), Some(supplier_id)) => FieldSource::Supplier { supplier_id, job_id: job },
            (Some("platform"), Some(platform_id)) => FieldSource::Platform { platform_id, job_id: job },
            (Some("code2asin"), _) => FieldSource::Code2Asin { job_id: job },
            (Some("follow_suppliers"), _) => FieldSource::FollowSuppliers,
            _ => FieldSource::Unknown,
        }
    }
}

/// Where one field of a product got its current value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldProvenance {
    /// `title`, `description`, `brand`, `status`, `sku`, `gtin`, `asin`, `price:<type>:<currency>` (an open-ended
    /// price), `price_windows:<type>:<currency>` (the windowed prices of that pair), `seo:<locale>` (slug, meta
    /// title and description), `attribute:<name>`, `stock` (the `default` location; `stock:<location>` for
    /// another), `availability`; one entry per category link (`category:<path>`: who put the product there) and per
    /// image URL (`image:<url>`: who gave it); and `categories` or `images` when a person locked or released them (a
    /// lock keeps imports from adding any).
    pub field: String,
    pub source: FieldSource,
    /// The supplier's name for a supplier source (for display: "from ACME").
    pub source_name: Option<String>,
    /// When the source set it (the product's creation for a field its creator set).
    pub set_at: DateTime<Utc>,
    /// Locked: no source changes it until a person unlocks it.
    pub locked: bool,
}

impl FieldProvenance {
    /// The field whose rules (lock, release) apply to this entry: `categories` for a category link, `images` for
    /// an image URL, the field itself otherwise.
    pub fn rule_field(&self) -> &str {
        match self.field.split_once(':') {
            Some(("category", _)) => CATEGORIES_FIELD,
            Some(("image", _)) => IMAGES_FIELD,
            _ => &self.field,
        }
    }
}

/// What a person does to the rules of one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldAction {
    /// No source changes the field (people included, until unlocked).
    Lock,
    Unlock,
    /// The field follows the suppliers again: the next supplier import that gives it sets it.
    FollowSuppliers,
}

/// The fields with provenance besides prices, attributes and stock, as they are named.
const SCALAR_FIELDS: [&str; 10] =
    ["title", "description", "brand", "status", "availability", "sku", "gtin", "asin", CATEGORIES_FIELD, IMAGES_FIELD];

/// The field whose lock keeps imports from putting the product in more categories.
pub(crate) const CATEGORIES_FIELD: &str = "categories";
/// The field whose lock keeps imports from adding image URLs to the product.
pub(crate) const IMAGES_FIELD: &str = "images";

/// The provenance name of the stock at a location: `stock` for the `default` location (the one imports set),
/// `stock:<location>` for another.
pub(crate) fn stock_field(location: &str) -> String {
    if location == "default" { "stock".to_string() } else { format!("stock:{location}") }
}

/// The provenance name of an open-ended price: `price:retail:EUR`.
pub(crate) fn price_field(price_type: &str, currency: &str) -> String {
    format!("price:{price_type}:{currency}")
}

/// The provenance name of a price's windows of one type and currency: `price_windows:sale:EUR`, whose value is
/// every windowed price of that type and currency (`19.99 EUR 2026-12-01T00:00:00Z/2026-12-25T00:00:00Z; …`): a
/// file that gives them replaces them whole, unless a person set them.
pub(crate) fn price_windows_field(price_type: &str, currency: &str) -> String {
    format!("price_windows:{price_type}:{currency}")
}

/// The provenance name of a product's SEO metadata in a locale: `seo:en`, whose value is its slug, meta title and
/// meta description as one JSON array (`["blue-mug","Blue mug",null]`, see [`seo_value`]).
pub(crate) fn seo_field(locale: &str) -> String {
    format!("seo:{locale}")
}

/// The value of a `seo:<locale>` field: `[slug, meta title, meta description]` as JSON.
pub(crate) fn seo_value(slug: &str, meta_title: Option<&str>, meta_description: Option<&str>) -> String {
    serde_json::json!([slug, meta_title, meta_description]).to_string()
}

/// Reads [`seo_value`] back: (slug, meta title, meta description).
pub(crate) fn parse_seo_value(value: &str) -> Option<(String, Option<String>, Option<String>)> {
    serde_json::from_str(value).ok()
}

/// Whether `locale` is a language tag as SEO metadata takes one (`en`, `de-DE`).
pub(crate) fn is_locale(locale: &str) -> bool {
    !locale.is_empty()
        && locale.len() <= 35
        && locale.split('-').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// A stored field value as people read it: an open-ended price (`price:retail:EUR`, minor units) as `12.50 EUR`;
/// anything else as it is.
pub(crate) fn shown_value(field: &str, value: &str) -> String {
    if let Some(currency) = field.strip_prefix("price:").and_then(|rest| rest.split(':').nth(1))
        && let (Ok(minor), Ok(currency)) = (value.parse::<i64>(), currency.parse::<crate::catalog::CurrencyCode>())
    {
        return crate::catalog::Money::new(minor, currency).to_string();
    }
    value.to_string()
}

/// The provenance name of an attribute: `attribute:color` (names are compared without case).
pub(crate) fn attribute_field(name: &str) -> String {
    format!("attribute:{}", name.to_lowercase())
}

/// Whether `field` names a field with provenance.
pub(crate) fn is_provenance_field(field: &str) -> bool {
    if SCALAR_FIELDS.contains(&field) {
        return true;
    }
    if let Some(name) = field.strip_prefix("attribute:") {
        return !name.trim().is_empty() && name.chars().count() <= 100 && *name == name.to_lowercase();
    }
    if field == "stock" {
        return true;
    }
    if let Some(locale) = field.strip_prefix("seo:") {
        return is_locale(locale);
    }
    if let Some(location) = field.strip_prefix("stock:") {
        return !location.trim().is_empty() && location != "default" && location.chars().count() <= 100;
    }
    let mut parts = field.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("price" | "price_windows"), Some(kind), Some(currency), None) => {
            kind.parse::<crate::catalog::PriceType>().is_ok()
                && currency.parse::<crate::catalog::CurrencyCode>().is_ok_and(|code| code.as_str() == currency)
        }
        _ => false,
    }
}

/// What a history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The field took a new value.
    Set,
    /// A person locked the field.
    Lock,
    Unlock,
    /// A person released the field: the next supplier that gives it sets it.
    FollowSuppliers,
    /// Another product was merged into this one (`value`: the merged product's title and id).
    Merge,
    /// A merge was undone (`value`: the product that is itself again).
    Unmerge,
    /// One more of a collection: the product put in a category (`field` `categories`, `value` its path) or given
    /// an image URL (`images`, the URL).
    Add,
    /// One less of a collection: the product taken out of a category (`value` its path).
    Remove,
}

impl ChangeKind {
    /// As stored.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Set => "set",
            ChangeKind::Lock => "lock",
            ChangeKind::Unlock => "unlock",
            ChangeKind::FollowSuppliers => "follow_suppliers",
            ChangeKind::Merge => "merge",
            ChangeKind::Unmerge => "unmerge",
            ChangeKind::Add => "add",
            ChangeKind::Remove => "remove",
        }
    }

    /// The kind stored as `text` (an unknown one reads as `Set`).
    pub(crate) fn from_stored(text: &str) -> Self {
        match text {
            "lock" => ChangeKind::Lock,
            "unlock" => ChangeKind::Unlock,
            "follow_suppliers" => ChangeKind::FollowSuppliers,
            "merge" => ChangeKind::Merge,
            "unmerge" => ChangeKind::Unmerge,
            "add" => ChangeKind::Add,
            "remove" => ChangeKind::Remove,
            _ => ChangeKind::Set,
        }
    }
}

impl From<FieldAction> for ChangeKind {
    fn from(action: FieldAction) -> Self {
        match action {
            FieldAction::Lock => ChangeKind::Lock,
            FieldAction::Unlock => ChangeKind::Unlock,
            FieldAction::FollowSuppliers => ChangeKind::FollowSuppliers,
        }
    }
}

/// One change in a product's history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductChange {
    pub id: Uuid,
    /// The product changed: this one, or one merged into it since (its history comes with it).
    pub product_id: Uuid,
    /// `title`, `description`, `brand`, `status`, `sku`, `gtin`, `asin`, `price:<type>:<currency>` (an open-ended
    /// price), `price_windows:<type>:<currency>` (the windowed prices of that pair), `seo:<locale>` (slug, meta
    /// title and description), `attribute:<name>`, `stock`, `categories` and `images` (a link or URL added or removed), or `product` for a
    /// merge.
    pub field: String,
    pub change: ChangeKind,
    /// The value set, as shown (a price as `12.50 EUR`, a brand by its name).
    pub value: Option<String>,
    /// The value before, from the field's previous entry; `None` for the first change after the product was created
    /// (then it was the creator's).
    pub previous: Option<String>,
    pub source: FieldSource,
    /// The supplier's name for a supplier source.
    pub source_name: Option<String>,
    pub changed_at: DateTime<Utc>,
}

/// Groups of product fields that survivorship rules name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldGroup {
    /// Title, description, brand.
    Content,
    /// GTIN, SKU, ASIN.
    Identifiers,
    Status,
    /// Every open-ended price (`price:<type>:<currency>`).
    Prices,
    /// Every attribute (`attribute:<name>`).
    Attributes,
    /// The product's own stock (`stock`, `stock:<location>`) and its stated availability.
    Stock,
    /// The categories it is in (imports add links, never remove one).
    Categories,
    /// Its image URLs (imports add them, never remove one).
    Images,
}

impl FieldGroup {
    /// The group of a field as provenance names it.
    pub fn of(field: &str) -> FieldGroup {
        match field {
            "gtin" | "sku" | "asin" => FieldGroup::Identifiers,
            "status" => FieldGroup::Status,
            CATEGORIES_FIELD => FieldGroup::Categories,
            IMAGES_FIELD => FieldGroup::Images,
            "stock" | "availability" => FieldGroup::Stock,
            _ if field.starts_with("stock:") => FieldGroup::Stock,
            _ if field.starts_with("price:") || field.starts_with("price_windows:") => FieldGroup::Prices,
            _ if field.starts_with("attribute:") => FieldGroup::Attributes,
            _ => FieldGroup::Content,
        }
    }

    /// Whether a template's `changes_only` list keeps this group from changing products that exist. Stock,
    /// categories and images, groups added after such lists were written, are kept only by a list that names one
    /// of them: a template written before goes on updating them.
    pub(crate) fn kept_by(self, changes_only: &[FieldGroup]) -> bool {
        const LATER: [FieldGroup; 3] = [FieldGroup::Stock, FieldGroup::Categories, FieldGroup::Images];
        if LATER.contains(&self) && !changes_only.iter().any(|group| LATER.contains(group)) {
            return false;
        }
        !changes_only.contains(&self)
    }

    /// As a rule names it.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldGroup::Content => "content",
            FieldGroup::Identifiers => "identifiers",
            FieldGroup::Status => "status",
            FieldGroup::Prices => "prices",
            FieldGroup::Attributes => "attributes",
            FieldGroup::Stock => "stock",
            FieldGroup::Categories => "categories",
            FieldGroup::Images => "images",
        }
    }
}

/// A supplier's survivorship rules, per field group: data on the supplier (`field_rules`), edited like its other
/// fields. Empty (the default): the supplier's `priority` applies to every group and it may change every field.
///
/// ```
/// use productsmanager_core::catalog::{FieldGroup, SupplierRules};
///
/// // A price list: its prices come first, its titles never replace anyone's.
/// let rules: SupplierRules =
///     serde_json::from_str(r#"{"priority": {"prices": 1}, "never_changes": ["content"]}"#).unwrap();
/// assert_eq!(rules.priority_for(FieldGroup::Prices, None), Some(1));
/// assert!(!rules.changes(FieldGroup::Content));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SupplierRules {
    /// Its place among suppliers for a group (1 first), instead of its `priority`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub priority: std::collections::BTreeMap<FieldGroup, i32>,
    /// Groups whose fields this supplier never changes on a product that exists (it still fills the products it
    /// creates).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub never_changes: Vec<FieldGroup>,
}

impl SupplierRules {
    /// Its rank for `group`: the group's own, else the supplier's `priority`.
    pub fn priority_for(&self, group: FieldGroup, priority: Option<i32>) -> Option<i32> {
        self.priority.get(&group).copied().or(priority)
    }

    /// Whether it may change the fields of `group` on a product that exists.
    pub fn changes(&self, group: FieldGroup) -> bool {
        !self.never_changes.contains(&group)
    }

    /// Refuses a rank below 1.
    pub(crate) fn check(&self) -> Result<(), crate::catalog::CatalogError> {
        match self.priority.iter().find(|(_, rank)| **rank < 1) {
            Some((group, _)) => Err(crate::catalog::CatalogError::invalid(
                format!("field_rules.priority.{}", group.as_str()),
                "must be 1 or more (1 comes first)",
            )),
            None => Ok(()),
        }
    }
}
