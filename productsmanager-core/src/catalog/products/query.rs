//! Listing products: filters, sorting and keyset (cursor) pagination.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ProductStatus;
use crate::catalog::{CatalogError, CurrencyCode, PriceType};

/// Largest page.
pub const MAX_PAGE: u32 = 500;
/// Page size when none is asked for.
pub const DEFAULT_PAGE: u32 = 50;

/// Order of a listing; ties are broken by id, so every order is total and pages never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProductSort {
    /// Last changed first with `descending` (the default listing), else oldest change first.
    #[default]
    UpdatedAt,
    CreatedAt,
    Title,
}

/// Which products to list, in what order, which page.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ProductQuery {
    /// Full-text search words; with them the listing is a search, ranked by relevance (sort is ignored and the
    /// cursor is an offset).
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub brand_id: Option<Uuid>,
    /// Products offered by this supplier.
    #[serde(default)]
    pub supplier_id: Option<Uuid>,
    /// Products in this category or any category below it.
    #[serde(default)]
    pub category_id: Option<Uuid>,
    #[serde(default)]
    pub status: Option<ProductStatus>,
    /// `true`: own stock available or an available supplier offer in stock; `false`: neither.
    #[serde(default)]
    pub in_stock: Option<bool>,
    /// Price range (minor units) of the current price of `price_type` (retail by default) in `currency`.
    #[serde(default)]
    pub price_min: Option<i64>,
    #[serde(default)]
    pub price_max: Option<i64>,
    #[serde(default)]
    pub price_type: Option<PriceType>,
    /// Required with a price range.
    #[serde(default)]
    pub currency: Option<CurrencyCode>,
    /// Changed at or after this instant.
    #[serde(default)]
    pub updated_since: Option<DateTime<Utc>>,
    #[serde(default)]
    pub sort: ProductSort,
    #[serde(default)]
    pub descending: bool,
    /// Page size, 1 to [`MAX_PAGE`]; [`DEFAULT_PAGE`] when not given.
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass it back as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The page from `items` fetched with one more than `limit`: that extra one only says a next page exists,
    /// whose cursor `cursor_of` makes from the last item kept.
    pub(crate) fn from_extra(mut items: Vec<T>, limit: usize, cursor_of: impl Fn(&T) -> Option<String>) -> Self {
        let more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = if more { items.last().and_then(cursor_of) } else { None };
        Page { items, next_cursor }
    }
}

/// Where a page ends: the sort key and id of its last product.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Cursor {
    /// The sort the cursor was made for (a cursor does not carry over to another order).
    pub sort: ProductSort,
    pub descending: bool,
    pub key: CursorKey,
    pub id: Uuid,
}

/// The last product's value of the sort column.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub(super) enum CursorKey {
    Instant(DateTime<Utc>),
    Text(String),
}

impl Cursor {
    pub(super) fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub(super) fn decode(text: &str, query: &ProductQuery) -> Result<Self, CatalogError> {
        let invalid = || CatalogError::invalid("cursor", "not a cursor of this listing; start again without one");
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| invalid())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        let key_fits = matches!(
            (cursor.sort, &cursor.key),
            (ProductSort::Title, CursorKey::Text(_))
                | (ProductSort::UpdatedAt | ProductSort::CreatedAt, CursorKey::Instant(_))
        );
        if cursor.sort != query.sort || cursor.descending != query.descending || !key_fits {
            return Err(invalid());
        }
        Ok(cursor)
    }
}

impl ProductQuery {
    /// The page size asked for, checked.
    pub(super) fn page_size(&self) -> Result<u32, CatalogError> {
        match self.limit {
            None => Ok(DEFAULT_PAGE),
            Some(n @ 1..=MAX_PAGE) => Ok(n),
            Some(n) => Err(CatalogError::invalid("limit", format!("{n} is not between 1 and {MAX_PAGE}"))),
        }
    }

    /// Checks the combination of filters.
    pub(super) fn check(&self) -> Result<(), CatalogError> {
        let ranged = self.price_min.is_some() || self.price_max.is_some();
        if ranged && self.currency.is_none() {
            return Err(CatalogError::invalid("currency", "a price range needs a currency"));
        }
        if self.price_min.is_some_and(|m| m < 0) {
            return Err(CatalogError::invalid("price_min", "must not be negative"));
        }
        if let (Some(min), Some(max)) = (self.price_min, self.price_max)
            && max < min
        {
            return Err(CatalogError::invalid("price_max", "must not be below price_min"));
        }
        Ok(())
    }
}
