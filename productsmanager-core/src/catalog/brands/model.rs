//! Brand rows and inputs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A brand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Brand {
    pub id: Uuid,
    pub name: String,
    /// Unique, URL-safe; made from the name when not given.
    pub slug: String,
    pub description: Option<String>,
    pub website_url: Option<String>,
    pub logo_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new brand, or every field of a full update.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewBrand {
    pub name: String,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub website_url: Option<String>,
    #[serde(default)]
    pub logo_url: Option<String>,
}

/// A partial update: absent fields stay, `null` clears an optional field.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BrandPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub website_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub logo_url: Option<Option<String>>,
}

impl crate::catalog::Listed for Brand {
    fn listing_key(&self) -> (&str, Uuid) {
        (&self.name, self.id)
    }
}
