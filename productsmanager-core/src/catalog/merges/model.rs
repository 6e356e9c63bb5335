//! Merges and duplicate candidates as the SDK shows them, and what a merge moved as it is stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One merge of a duplicate product into the product that survives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductMerge {
    pub id: Uuid,
    /// The product that stays, with everything that moved.
    pub survivor_id: Uuid,
    /// The product merged into it: deleted softly; its id and identifiers answer with the survivor.
    pub merged_id: Uuid,
    pub merged_title: String,
    pub merged_gtin: Option<String>,
    pub merged_sku: Option<String>,
    pub merged_asin: Option<String>,
    /// How many rows of each kind moved to the survivor.
    pub moved: MergeCounts,
    /// The survivor's fields that were empty and took the merged product's value (`description`, `brand`,
    /// `gtin`, `sku`, `asin`).
    pub filled: Vec<String>,
    /// What stayed with the merged product because the survivor has its own: fields both have with different
    /// values (`title`, `description`, …) and rows (`price:retail:EUR`, `attribute:Color`, `stock:default`,
    /// `seo:fr`, …). The survivor's value wins; undoing the merge gives them back. (A category link or image URL
    /// both have is one value and is not listed.)
    pub kept_by_survivor: Vec<String>,
    /// The person who merged (none: the command line or an embedding program).
    pub merged_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// When the merge was undone (then the merged product is live again with what it had).
    pub undone_at: Option<DateTime<Utc>>,
}

/// Rows that moved to the survivor, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergeCounts {
    pub offers: usize,
    pub prices: usize,
    pub attributes: usize,
    pub categories: usize,
    pub image_urls: usize,
    pub images: usize,
    pub stock_levels: usize,
    pub seo: usize,
    pub variants: usize,
    pub bundles: usize,
    pub field_sources: usize,
}

impl std::fmt::Display for MergeCounts {
    /// What moved, for people: `1 offer, 2 prices, 1 image` (kinds with none left out), `nothing` when none.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds = [
            (self.offers, "offer", "offers"),
            (self.prices, "price", "prices"),
            (self.attributes, "attribute", "attributes"),
            (self.categories, "category link", "category links"),
            (self.image_urls, "image URL", "image URLs"),
            (self.images, "image", "images"),
            (self.stock_levels, "stock level", "stock levels"),
            (self.seo, "SEO entry", "SEO entries"),
            (self.variants, "variant", "variants"),
            (self.bundles, "bundle place", "bundle places"),
        ];
        let parts: Vec<String> = kinds
            .iter()
            .filter(|(n, _, _)| *n > 0)
            .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
            .collect();
        if parts.is_empty() { f.write_str("nothing") } else { f.write_str(&parts.join(", ")) }
    }
}

/// Two products that are probably one: brand and title alike, at least one of them without a GTIN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuplicateCandidate {
    /// 0 to 1: the weighted share of title words the two have in common (words with digits count twice), brand
    /// words aside.
    pub score: f64,
    /// The suggested survivor: the one with a GTIN, else the older.
    pub survivor: DuplicateSide,
    pub duplicate: DuplicateSide,
}

/// One side of a [`DuplicateCandidate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuplicateSide {
    pub id: Uuid,
    pub title: String,
    pub brand: Option<String>,
    pub gtin: Option<String>,
    pub sku: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What the duplicates report looks for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct DuplicateQuery {
    /// Pairs scoring at least this (0 to 1; default 0.8).
    pub min_score: f64,
    /// At most this many pairs, best first (default 50, at most 1,000).
    pub limit: usize,
}

impl Default for DuplicateQuery {
    fn default() -> Self {
        DuplicateQuery { min_score: 0.8, limit: 50 }
    }
}

/// A media file (media database) that moved, with where it was, to put it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MovedFile {
    pub id: Uuid,
    pub position: i32,
    pub is_main: bool,
}

/// Everything a merge moved or wrote, stored with it so that it can be undone row by row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Moved {
    pub offers: Vec<Uuid>,
    pub prices: Vec<Uuid>,
    pub attributes: Vec<Uuid>,
    /// Category links: the category and whether the link was the merged product's primary one.
    pub categories: Vec<(Uuid, bool)>,
    pub image_urls: Vec<Uuid>,
    pub stock_levels: Vec<Uuid>,
    pub seo: Vec<Uuid>,
    /// Variant rows whose parent was the merged product.
    pub variants: Vec<Uuid>,
    /// Bundle items naming the merged product as a component, and the merged product's own bundle.
    pub bundle_items: Vec<Uuid>,
    pub bundles: Vec<Uuid>,
    pub media: Vec<MovedFile>,
    /// The survivor's empty fields that took the merged product's value.
    pub filled: Vec<String>,
    /// The survivor's field-source rows the merge wrote (for the fields that came with the merged product).
    pub field_sources: Vec<String>,
    pub kept_by_survivor: Vec<String>,
}

impl Moved {
    pub(crate) fn counts(&self) -> MergeCounts {
        MergeCounts {
            offers: self.offers.len(),
            prices: self.prices.len(),
            attributes: self.attributes.len(),
            categories: self.categories.len(),
            image_urls: self.image_urls.len(),
            images: self.media.len(),
            stock_levels: self.stock_levels.len(),
            seo: self.seo.len(),
            variants: self.variants.len(),
            bundles: self.bundle_items.len() + self.bundles.len(),
            field_sources: self.field_sources.len(),
        }
    }
}
