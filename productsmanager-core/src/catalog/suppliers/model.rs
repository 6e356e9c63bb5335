//! Supplier rows and inputs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

/// A supplier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Supplier {
    pub id: Uuid,
    /// Short unique code used in files and commands, e.g. `ACME`.
    pub code: String,
    pub name: String,
    pub email: Option<String>,
    pub website_url: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// ISO 4217; the currency of its prices when a file does not say.
    pub default_currency: Option<String>,
    pub is_active: bool,
    pub notes: Option<String>,
    /// Free-form settings (import options and the like).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub settings: Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Where its values come among suppliers, for the fields of products several supply: 1 comes first. Unset
    /// (the default): after every ranked supplier, and among the unranked the product's creator comes first (or
    /// the latest file, by the `imports.unranked_suppliers` setting).
    pub priority: Option<i32>,
    /// Its rules per field group: a rank of its own for a group, groups it never changes.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::catalog::SupplierRules))]
    pub field_rules: Json<crate::catalog::SupplierRules>,
}

/// A new supplier, or every field of a full update.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSupplier {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub website_url: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub default_currency: Option<String>,
    /// Active unless said otherwise.
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub settings: Option<serde_json::Value>,
    /// 1 or more: where its values come among suppliers (1 first); unset: after every ranked supplier.
    #[serde(default)]
    pub priority: Option<i32>,
    /// Rules per field group: `{"priority": {"prices": 1}, "never_changes": ["content"]}`.
    #[serde(default)]
    pub field_rules: Option<crate::catalog::SupplierRules>,
}

/// A partial update: absent fields stay, `null` clears an optional field.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SupplierPatch {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub website_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub default_currency: Option<Option<String>>,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub notes: Option<Option<String>>,
    #[serde(default)]
    pub settings: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub priority: Option<Option<i32>>,
    #[serde(default)]
    pub field_rules: Option<crate::catalog::SupplierRules>,
}

impl crate::catalog::Listed for Supplier {
    fn listing_key(&self) -> (&str, Uuid) {
        (&self.name, self.id)
    }
}
