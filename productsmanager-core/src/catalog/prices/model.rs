//! Price rows and inputs, and current-price resolution.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::{CatalogError, CurrencyCode, Money};

/// What a price is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum PriceType {
    /// What we pay.
    Purchase,
    /// What the customer pays normally.
    Retail,
    /// A reduced retail price, usually for a window of time.
    Sale,
    /// The manufacturer's suggested retail price.
    Msrp,
}

impl PriceType {
    /// Lowercase name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            PriceType::Purchase => "purchase",
            PriceType::Retail => "retail",
            PriceType::Sale => "sale",
            PriceType::Msrp => "msrp",
        }
    }
}

impl fmt::Display for PriceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PriceType {
    type Err = CatalogError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "purchase" => Ok(PriceType::Purchase),
            "retail" => Ok(PriceType::Retail),
            "sale" => Ok(PriceType::Sale),
            "msrp" => Ok(PriceType::Msrp),
            _ => Err(CatalogError::invalid("price_type", format!("{s:?} is not purchase, retail, sale or msrp"))),
        }
    }
}

/// A price of a product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Price {
    pub id: Uuid,
    pub product_id: Uuid,
    pub price_type: PriceType,
    pub amount: Money,
    /// Start of validity (inclusive); open when `None`.
    pub valid_from: Option<DateTime<Utc>>,
    /// End of validity (exclusive); open when `None`.
    pub valid_to: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Price {
    /// Whether the price applies at `at`.
    pub fn is_valid_at(&self, at: DateTime<Utc>) -> bool {
        self.valid_from.is_none_or(|from| from <= at) && self.valid_to.is_none_or(|to| at < to)
    }

    /// Open-ended: no window (the price imports set, and whose setter provenance records).
    pub(crate) fn is_open_ended(&self) -> bool {
        self.valid_from.is_none() && self.valid_to.is_none()
    }
}

/// A price to set. Without a window it replaces the open-ended price of its type and currency; with one it is
/// added beside it (and wins while it is valid).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPrice {
    pub product_id: Uuid,
    pub price_type: PriceType,
    pub amount: Money,
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub valid_to: Option<DateTime<Utc>>,
}

/// A `product_prices` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct PriceRow {
    pub id: Uuid,
    pub product_id: Uuid,
    pub price_type: String,
    pub amount_minor: i64,
    pub currency: String,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PriceRow {
    /// The price; `None` for a row the schema's checks should have refused.
    pub(crate) fn into_price(self) -> Option<Price> {
        Some(Price {
            id: self.id,
            product_id: self.product_id,
            price_type: self.price_type.parse().ok()?,
            amount: Money::new(self.amount_minor, self.currency.parse::<CurrencyCode>().ok()?),
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The price that applies at `at` for each type and currency: a windowed price valid then (the one that started
/// last) beats the open-ended one. Sorted by type, then currency.
pub fn current_prices(prices: &[Price], at: DateTime<Utc>) -> Vec<Price> {
    let mut best: BTreeMap<(PriceType, &'static str), &Price> = BTreeMap::new();
    for price in prices.iter().filter(|p| p.is_valid_at(at)) {
        let key = (price.price_type, price.amount.currency.as_str());
        let wins = match best.get(&key) {
            None => true,
            Some(held) => match (held.is_open_ended(), price.is_open_ended()) {
                (true, false) => true,
                (false, true) => false,
                _ => price.valid_from > held.valid_from,
            },
        };
        if wins {
            best.insert(key, price);
        }
    }
    best.into_values().cloned().collect()
}
