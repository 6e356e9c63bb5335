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
    /// `false`: only products that are not a variant of another (a feed lists variants under their parent);
    /// `true`: only variants.
    #[serde(default)]
    pub is_variant: Option<bool>,
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

/// An item of a listing held whole in memory (a cached or naturally small set: brands, suppliers, users…), paged by
/// [`Page::of_listing`] in the order of its key, compared without case, then by id.
pub trait Listed {
    /// The key the listing is ordered by (a name, an e-mail) and the id that breaks ties.
    fn listing_key(&self) -> (&str, Uuid);
}

impl<T: Listed + Clone> Page<T> {
    /// One page of `whole`: `limit` items (1 to [`MAX_PAGE`], [`DEFAULT_PAGE`] when not given) after `cursor`.
    ///
    /// The order is made here, not taken from the database, so it is the same on SQLite and PostgreSQL whatever
    /// their collations.
    ///
    /// ```
    /// use productsmanager_core::catalog::{Listed, Page};
    /// use uuid::Uuid;
    ///
    /// #[derive(Clone)]
    /// struct Tag(String, Uuid);
    /// impl Listed for Tag {
    ///     fn listing_key(&self) -> (&str, Uuid) {
    ///         (&self.0, self.1)
    ///     }
    /// }
    /// let tags: Vec<Tag> = ["b", "A", "c"].iter().map(|n| Tag(n.to_string(), Uuid::new_v4())).collect();
    /// let first = Page::of_listing(&tags, Some(2), None)?;
    /// assert_eq!(first.items.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(), ["A", "b"]);
    /// let second = Page::of_listing(&tags, Some(2), first.next_cursor.as_deref())?;
    /// assert_eq!(second.items[0].0, "c");
    /// assert_eq!(second.next_cursor, None);
    /// # Ok::<(), productsmanager_core::catalog::CatalogError>(())
    /// ```
    pub fn of_listing(whole: &[T], limit: Option<u32>, cursor: Option<&str>) -> Result<Self, CatalogError> {
        let limit = match limit {
            None => DEFAULT_PAGE,
            Some(n @ 1..=MAX_PAGE) => n,
            Some(n) => return Err(CatalogError::invalid("limit", format!("{n} is not between 1 and {MAX_PAGE}"))),
        } as usize;
        let order = |item: &T| {
            let (key, id) = item.listing_key();
            (key.to_lowercase(), key.to_string(), id)
        };
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(text) => {
                let decoded = URL_SAFE_NO_PAD.decode(text.trim()).ok();
                let (key, id): (String, Uuid) =
                    decoded.and_then(|bytes| serde_json::from_slice(&bytes).ok()).ok_or_else(|| {
                        CatalogError::invalid("cursor", "not a cursor of this listing; start again without one")
                    })?;
                Some((key.to_lowercase(), key, id))
            }
        };
        let mut rest: Vec<(_, &T)> = whole
            .iter()
            .map(|item| (order(item), item))
            .filter(|(key, _)| after.as_ref().is_none_or(|a| key > a))
            .collect();
        rest.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let items: Vec<T> = rest.into_iter().take(limit + 1).map(|(_, item)| item.clone()).collect();
        Ok(Page::from_extra(items, limit, |last| {
            let (key, id) = last.listing_key();
            serde_json::to_vec(&(key, id)).ok().map(|bytes| URL_SAFE_NO_PAD.encode(bytes))
        }))
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
