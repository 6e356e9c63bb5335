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
