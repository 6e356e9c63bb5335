//! Category and taxonomy rows and inputs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who a taxonomy belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TaxonomyKind {
    /// Our own category tree.
    Own,
    /// A shop's tree, mirrored for exports.
    Shop,
    /// Google's product taxonomy.
    Google,
}

impl TaxonomyKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TaxonomyKind::Own => "own",
            TaxonomyKind::Shop => "shop",
            TaxonomyKind::Google => "google",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "own" => Some(TaxonomyKind::Own),
            "shop" => Some(TaxonomyKind::Shop),
            "google" => Some(TaxonomyKind::Google),
            _ => None,
        }
    }
}

/// A category tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Taxonomy {
    pub id: Uuid,
    /// Unique short name, e.g. `default`, `shopify-main`, `google`.
    pub code: String,
    pub name: String,
    pub kind: TaxonomyKind,
    pub locale: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new taxonomy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTaxonomy {
    pub code: String,
    pub name: String,
    pub kind: TaxonomyKind,
    #[serde(default)]
    pub locale: Option<String>,
}

/// A category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Category {
    pub id: Uuid,
    pub taxonomy_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    /// Unique among its siblings.
    pub slug: String,
    /// Id in the shop's or Google's taxonomy.
    pub external_id: Option<String>,
    /// `/<root id>/…/<own id>/`.
    pub path: String,
    /// 0 for a root.
    pub depth: i32,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Category {
    /// Ids from the root down to this category.
    pub fn ancestry(&self) -> Vec<Uuid> {
        self.path.split('/').filter_map(|part| Uuid::parse_str(part).ok()).collect()
    }
}

/// A category with its subtree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryNode {
    #[serde(flatten)]
    pub category: Category,
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub children: Vec<CategoryNode>,
}

/// A new category: under `parent_id`, or a root of `taxonomy` (code or id; the `default` own taxonomy, made on
/// first use, when neither is given).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    pub name: String,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    #[serde(default)]
    pub taxonomy: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub position: Option<i32>,
}

/// Changes to a category: rename, re-slug, reorder, or move (with its subtree) under another parent
/// (`"parent_id": null` makes it a root).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub parent_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub external_id: Option<Option<String>>,
    #[serde(default)]
    pub position: Option<i32>,
}

/// A `taxonomies` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct TaxonomyRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub locale: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TaxonomyRow {
    pub(super) fn into_taxonomy(self) -> Taxonomy {
        Taxonomy {
            id: self.id,
            code: self.code,
            name: self.name,
            kind: TaxonomyKind::parse(&self.kind).unwrap_or(TaxonomyKind::Own),
            locale: self.locale,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl crate::catalog::Listed for Taxonomy {
    fn listing_key(&self) -> (&str, Uuid) {
        (&self.code, self.id)
    }
}
