//! Stock rows and inputs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Units of a product at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockLevel {
    pub product_id: Uuid,
    pub location: String,
    /// Units on hand (negative when oversold).
    pub quantity: i64,
    /// Units promised to orders.
    pub reserved: i64,
    pub updated_at: DateTime<Utc>,
}

/// Whether a product can be bought, as its source states it: a shop that keeps no count (WooCommerce without stock
/// management, Shopify's untracked inventory) or a feed that says whether, not how many (Google's `availability`).
///
/// A counted stock comes first: units available make a product in stock whatever was stated; none make it out of
/// stock unless the statement is `backorder` or `preorder` (sold while none are left). The statement decides alone
/// only for a product with no count of its own (see [`Availability::resolve`]).
///
/// ```
/// # use productsmanager_core::catalog::Availability;
/// assert_eq!("instock".parse::<Availability>().unwrap(), Availability::InStock);
/// assert_eq!("on backorder".parse::<Availability>().unwrap(), Availability::Backorder);
/// assert_eq!(Availability::OutOfStock.as_str(), "out_of_stock");
/// // Counted, none left, stated in stock: the count wins.
/// assert_eq!(Availability::resolve(Some(Availability::InStock), true, 0), Availability::OutOfStock);
/// // Not counted: the statement decides.
/// assert_eq!(Availability::resolve(Some(Availability::InStock), false, 0), Availability::InStock);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    InStock,
    OutOfStock,
    /// Sold now, delivered when stock comes in.
    Backorder,
    /// Sold before its release.
    Preorder,
}

impl Availability {
    /// Google's name, as stored: `in_stock`, `out_of_stock`, `backorder`, `preorder`.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::InStock => "in_stock",
            Availability::OutOfStock => "out_of_stock",
            Availability::Backorder => "backorder",
            Availability::Preorder => "preorder",
        }
    }

    /// Sold while none are left: on backorder or preorder.
    pub fn sells_without_stock(self) -> bool {
        matches!(self, Availability::Backorder | Availability::Preorder)
    }

    /// What a product's buyer is told: `stated` by its source, whether a count says how many can be sold (its own
    /// stock levels; see [`ProductRecord::stock_counted`](crate::catalog::ProductRecord::stock_counted)) and the
    /// units available (own and offered).
    pub fn resolve(stated: Option<Availability>, counted: bool, available: i64) -> Availability {
        match stated {
            _ if available > 0 => Availability::InStock,
            Some(stated) if stated.sells_without_stock() || !counted => stated,
            _ => Availability::OutOfStock,
        }
    }
}

impl Availability {
    /// Why `text` is no availability (an import's refused cell says it too).
    pub(crate) fn not_one(text: &str) -> String {
        format!("{text:?} is not in_stock, out_of_stock, backorder or preorder (nor 1, 0, yes or no)")
    }
}

impl std::fmt::Display for Availability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Availability {
    type Err = crate::catalog::CatalogError;

    /// Google's names and the shops' spellings of them, in any case: `in stock`, `instock`, `onbackorder`,
    /// `pre-order`, schema.org's `https://schema.org/InStock`; an in-stock flag's `1`/`0`, `yes`/`no`, `true`/`false`
    /// (WooCommerce's `In stock?`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // schema.org's URLs, as structured data and some feeds write them: `https://schema.org/InStock`.
        let name = s.trim().rsplit('/').next().unwrap_or_default();
        let words: String = name.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect();
        match words.as_str() {
            "instock" | "available" | "1" | "yes" | "true" => Ok(Availability::InStock),
            "outofstock" | "soldout" | "unavailable" | "0" | "no" | "false" => Ok(Availability::OutOfStock),
            "backorder" | "onbackorder" => Ok(Availability::Backorder),
            "preorder" => Ok(Availability::Preorder),
            _ => Err(crate::catalog::CatalogError::invalid("availability", Availability::not_one(s))),
        }
    }
}

/// Stock of a product over all locations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockTotal {
    pub quantity: i64,
    pub reserved: i64,
    /// `quantity - reserved`: what can still be sold.
    pub available: i64,
}

impl StockTotal {
    /// Sums levels.
    pub fn of<'a>(levels: impl IntoIterator<Item = &'a StockLevel>) -> Self {
        let (quantity, reserved) = levels
            .into_iter()
            .fold((0_i64, 0_i64), |(q, r), level| (q.saturating_add(level.quantity), r.saturating_add(level.reserved)));
        StockTotal { quantity, reserved, available: quantity.saturating_sub(reserved) }
    }
}

/// A stock level to set (it replaces the level of that product and location).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewStockLevel {
    pub product_id: Uuid,
    /// `default` when not given.
    #[serde(default)]
    pub location: Option<String>,
    pub quantity: i64,
    #[serde(default)]
    pub reserved: Option<i64>,
}
