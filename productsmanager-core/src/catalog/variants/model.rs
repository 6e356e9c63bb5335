//! Variant, bundle and SEO rows and inputs.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

/// A child product of a parent, told apart from its siblings by its options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Variant {
    pub parent_product_id: Uuid,
    pub product_id: Uuid,
    /// Axis → value, e.g. `{"size": "M", "colour": "red"}`; every variant of a parent has the same axes.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub options: Json<BTreeMap<String, String>>,
    pub position: i32,
    pub updated_at: DateTime<Utc>,
}

/// Makes `product_id` a variant of `parent_product_id` (again: updates its options).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewVariant {
    pub parent_product_id: Uuid,
    pub product_id: Uuid,
    pub options: BTreeMap<String, String>,
    #[serde(default)]
    pub position: Option<i32>,
}

/// One component of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BundleItem {
    pub product_id: Uuid,
    pub quantity: i32,
    pub position: i32,
}

/// A component to put in a bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewBundleItem {
    pub product_id: Uuid,
    /// 1 when not given.
    #[serde(default)]
    pub quantity: Option<i32>,
}

/// A product sold as a set of others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bundle {
    /// The sellable bundle product.
    pub product_id: Uuid,
    pub items: Vec<BundleItem>,
    pub updated_at: DateTime<Utc>,
}

/// SEO metadata of a product in one locale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Seo {
    pub product_id: Uuid,
    /// BCP 47 tag, e.g. `en`, `de-DE`.
    pub locale: String,
    /// Unique within the locale.
    pub slug: String,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// SEO metadata to set for a product in a locale; the slug is made from the title when not given.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSeo {
    pub product_id: Uuid,
    pub locale: String,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub meta_title: Option<String>,
    #[serde(default)]
    pub meta_description: Option<String>,
}
