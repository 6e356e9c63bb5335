//! Product rows and inputs.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use crate::catalog::{Asin, Availability, CatalogError, Gtin, Offer, Price, Sku, StockTotal};

/// Where a product is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ProductStatus {
    /// Being prepared; not exported.
    #[default]
    Draft,
    /// For sale; exported to the shops.
    Active,
    /// Kept for history; not exported.
    Archived,
}

impl ProductStatus {
    /// Lowercase name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Draft => "draft",
            ProductStatus::Active => "active",
            ProductStatus::Archived => "archived",
        }
    }
}

impl fmt::Display for ProductStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProductStatus {
    type Err = CatalogError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "draft" => Ok(ProductStatus::Draft),
            "active" => Ok(ProductStatus::Active),
            "archived" => Ok(ProductStatus::Archived),
            _ => Err(CatalogError::invalid("status", format!("{s:?} is not draft, active or archived"))),
        }
    }
}

impl AttributeValue {
    /// The value as one line of text, as imports read it and the history shows it: `red`, `1.5 kg`, `true`,
    /// `S, M, L`.
    pub fn shown(&self) -> String {
        match self {
            AttributeValue::Text { value } => value.clone(),
            AttributeValue::Number { value, unit: Some(unit) } => format!("{value} {unit}"),
            AttributeValue::Number { value, unit: None } => value.to_string(),
            AttributeValue::Boolean { value } => value.to_string(),
            AttributeValue::List { values } => values.join(", "),
        }
    }
}

/// A typed attribute value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum AttributeValue {
    Text {
        value: String,
    },
    /// A number with an optional unit (`kg`, `mm`, `W`).
    Number {
        value: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
    },
    Boolean {
        value: bool,
    },
    List {
        values: Vec<String>,
    },
}

/// A named specification of a product, e.g. `{"name": "weight", "kind": "number", "value": 1.5, "unit": "kg"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attribute {
    pub name: String,
    #[serde(flatten)]
    pub value: AttributeValue,
}

/// A product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    pub id: Uuid,
    /// Shown in its natural length; stored as GTIN-14.
    pub gtin: Option<Gtin>,
    pub asin: Option<Asin>,
    pub sku: Option<Sku>,
    pub title: String,
    pub description: Option<String>,
    pub brand_id: Option<Uuid>,
    pub status: ProductStatus,
    /// Incremented by every change; give it back (`version` or `If-Match`) to update safely.
    pub version: i32,
    pub attributes: Vec<Attribute>,
    /// The prices that apply now, one per type and currency.
    pub prices: Vec<Price>,
    /// Own stock over all locations.
    pub stock: StockTotal,
    /// Whether it can be bought, as its source stated it without a count (see [`Availability`]); none: its stock
    /// alone decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<Availability>,
    /// The supplier offer to buy from (see [`best_offer`](crate::catalog::best_offer)).
    pub best_offer: Option<Offer>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// What a product row is assembled with.
#[derive(Debug, Default)]
pub(super) struct ProductParts {
    pub attributes: Vec<Attribute>,
    pub prices: Vec<Price>,
    pub stock: StockTotal,
    pub best_offer: Option<Offer>,
}

/// A new product, or every field of a full update. At least one of GTIN and SKU identifies it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    #[serde(default)]
    pub gtin: Option<Gtin>,
    #[serde(default)]
    pub asin: Option<Asin>,
    #[serde(default)]
    pub sku: Option<Sku>,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub brand_id: Option<Uuid>,
    #[serde(default)]
    pub status: Option<ProductStatus>,
    /// Whether it can be bought when it keeps no count (see [`Availability`]).
    #[serde(default)]
    pub availability: Option<Availability>,
    #[serde(default)]
    pub attributes: Vec<Attribute>,
    /// For a full update: the version the caller read (optimistic locking). Ignored on create.
    #[serde(default)]
    pub version: Option<i32>,
}

/// A partial update: absent fields stay, `null` clears an optional field; `attributes`, when given, replaces
/// the whole set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub gtin: Option<Option<Gtin>>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub asin: Option<Option<Asin>>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub sku: Option<Option<Sku>>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub brand_id: Option<Option<Uuid>>,
    #[serde(default)]
    pub status: Option<ProductStatus>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub availability: Option<Option<Availability>>,
    #[serde(default)]
    pub attributes: Option<Vec<Attribute>>,
    /// The version the caller read (optimistic locking).
    #[serde(default)]
    pub version: Option<i32>,
}

/// A `products` row as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct ProductRow {
    pub id: Uuid,
    pub gtin: Option<String>,
    pub asin: Option<String>,
    pub sku: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub brand_id: Option<Uuid>,
    pub status: String,
    pub availability: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A `product_attributes` row as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct AttributeRow {
    pub product_id: Uuid,
    pub name: String,
    pub kind: String,
    pub value_text: Option<String>,
    pub value_number: Option<f64>,
    pub value_unit: Option<String>,
    pub value_bool: Option<bool>,
    pub value_json: Option<Json<Vec<String>>>,
}

impl AttributeRow {
    pub(super) fn from_attribute(product_id: Uuid, attribute: &Attribute) -> Self {
        let mut row = AttributeRow {
            product_id,
            name: attribute.name.clone(),
            kind: String::new(),
            value_text: None,
            value_number: None,
            value_unit: None,
            value_bool: None,
            value_json: None,
        };
        match &attribute.value {
            AttributeValue::Text { value } => {
                row.kind = "text".into();
                row.value_text = Some(value.clone());
            }
            AttributeValue::Number { value, unit } => {
                row.kind = "number".into();
                row.value_number = Some(*value);
                row.value_unit = unit.clone();
            }
            AttributeValue::Boolean { value } => {
                row.kind = "boolean".into();
                row.value_bool = Some(*value);
            }
            AttributeValue::List { values } => {
                row.kind = "list".into();
                row.value_json = Some(Json(values.clone()));
            }
        }
        row
    }

    /// The attribute; `None` for a row whose kind and columns disagree (the schema's checks prevent it).
    pub(super) fn into_attribute(self) -> Option<Attribute> {
        let value = match self.kind.as_str() {
            "text" => AttributeValue::Text { value: self.value_text? },
            "number" => AttributeValue::Number { value: self.value_number?, unit: self.value_unit },
            "boolean" => AttributeValue::Boolean { value: self.value_bool? },
            "list" => AttributeValue::List { values: self.value_json?.0 },
            _ => return None,
        };
        Some(Attribute { name: self.name, value })
    }
}

impl ProductRow {
    /// The product, with its attributes. Stored identifiers were valid when written; one that no longer parses
    /// (edited by hand in the database) is dropped with a warning rather than failing every read.
    pub(super) fn into_product(self, parts: ProductParts) -> Product {
        fn parsed<T: FromStr>(id: Uuid, field: &str, value: Option<String>) -> Option<T> {
            let text = value?;
            match text.parse() {
                Ok(parsed) => Some(parsed),
                Err(_) => {
                    tracing::warn!(product = %id, field, value = %text, "stored identifier does not parse; ignored");
                    None
                }
            }
        }
        Product {
            gtin: parsed(self.id, "gtin", self.gtin),
            asin: parsed(self.id, "asin", self.asin),
            sku: parsed(self.id, "sku", self.sku),
            status: self.status.parse().unwrap_or_default(),
            availability: self.availability.and_then(|a| a.parse().ok()),
            id: self.id,
            title: self.title,
            description: self.description,
            brand_id: self.brand_id,
            version: self.version,
            attributes: parts.attributes,
            prices: parts.prices,
            stock: parts.stock,
            best_offer: parts.best_offer,
            created_at: self.created_at,
            updated_at: self.updated_at,
            deleted_at: self.deleted_at,
        }
    }
}
