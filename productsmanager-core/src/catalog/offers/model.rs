//! Offer rows and inputs, and the best-offer rule.

use std::cmp::Ordering;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::{CurrencyCode, Money};

/// What one supplier offers for one product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Offer {
    pub id: Uuid,
    pub product_id: Uuid,
    pub supplier_id: Uuid,
    /// The supplier's own code for the product; unique per supplier.
    pub supplier_sku: String,
    pub cost: Option<Money>,
    /// Units the supplier has; unknown when `None`.
    pub stock: Option<i64>,
    pub lead_time_days: Option<i32>,
    /// False when the supplier's last full catalog no longer listed it.
    pub is_available: bool,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the supplier's last file gave that the product did not take because a rule kept the product's value (a
    /// person's value, a lock, a supplier that comes first, a supplier or template rule): field → the file's value
    /// (`{"title": "Pot v2", "price:retail:EUR": "12.50 EUR"}`). Empty when the product took everything.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub not_taken: std::collections::BTreeMap<String, String>,
}

impl Offer {
    /// Available with at least one unit.
    pub fn in_stock(&self) -> bool {
        self.is_available && self.stock.unwrap_or(0) > 0
    }
}

/// An offer with its supplier's code (a catalog export's records carry every offer so).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupplierOffer {
    pub supplier_code: String,
    #[serde(flatten)]
    pub offer: Offer,
}

/// An offer as our files list it (the `offers` column of our CSV and XLSX, a JSON list of these): the supplier by
/// its code, the cost as `12.50 EUR`; `available` written only when false.
///
/// ```
/// # use productsmanager_core::catalog::OfferListEntry;
/// let entry: OfferListEntry = serde_json::from_str(r#"{"supplier": "ACME", "sku": "A-1", "cost": "12.50 EUR"}"#).unwrap();
/// assert!(entry.available && entry.stock.is_none());
/// assert_eq!(serde_json::to_string(&entry).unwrap(), r#"{"supplier":"ACME","sku":"A-1","cost":"12.50 EUR"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferListEntry {
    /// The supplier's code.
    pub supplier: String,
    /// The supplier's SKU.
    pub sku: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_time_days: Option<i32>,
    #[serde(default = "available", skip_serializing_if = "Clone::clone")]
    pub available: bool,
}

fn available() -> bool {
    true
}

impl OfferListEntry {
    /// `offer` of the supplier whose code is `supplier`.
    pub fn of(supplier: &str, offer: &Offer) -> Self {
        OfferListEntry {
            supplier: supplier.to_string(),
            sku: offer.supplier_sku.clone(),
            cost: offer.cost.map(|m| m.to_string()),
            stock: offer.stock,
            lead_time_days: offer.lead_time_days,
            available: offer.is_available,
        }
    }
}

/// An offer to record; `(supplier_id, supplier_sku)` identifies it, so recording it again updates it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewOffer {
    pub product_id: Uuid,
    pub supplier_id: Uuid,
    pub supplier_sku: String,
    #[serde(default)]
    pub cost: Option<Money>,
    #[serde(default)]
    pub stock: Option<i64>,
    #[serde(default)]
    pub lead_time_days: Option<i32>,
    #[serde(default)]
    pub is_available: Option<bool>,
    /// When the supplier last listed it; now when not given.
    #[serde(default)]
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// A `supplier_products` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct OfferRow {
    pub id: Uuid,
    pub product_id: Uuid,
    pub supplier_id: Uuid,
    pub supplier_sku: String,
    pub cost_minor: Option<i64>,
    pub currency: Option<String>,
    pub stock: Option<i64>,
    pub lead_time_days: Option<i32>,
    pub is_available: bool,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub not_taken: Option<sqlx::types::Json<std::collections::BTreeMap<String, String>>>,
    /// The import that last wrote it (what `not_taken` holds is that import's word).
    pub last_import_job_id: Option<Uuid>,
}

impl OfferRow {
    pub(crate) fn into_offer(self) -> Offer {
        let cost = match (self.cost_minor, self.currency.as_deref().map(|c| c.parse::<CurrencyCode>())) {
            (Some(amount), Some(Ok(currency))) => Some(Money::new(amount, currency)),
            _ => None,
        };
        Offer {
            id: self.id,
            product_id: self.product_id,
            supplier_id: self.supplier_id,
            supplier_sku: self.supplier_sku,
            cost,
            stock: self.stock,
            lead_time_days: self.lead_time_days,
            is_available: self.is_available,
            last_seen_at: self.last_seen_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            not_taken: self.not_taken.map(|json| json.0).unwrap_or_default(),
        }
    }
}

/// The best of one product's offers: in stock first; then the cheapest, costs being compared within the
/// currency most of the offers use (there are no exchange rates, so offers in other currencies come after
/// those); then the shortest lead time. Unknown costs and lead times count as worst. `None` when no offer is
/// available at all.
///
/// ```
/// # use productsmanager_core::catalog::{best_offer, Offer, Money};
/// # fn offer(sku: &str, cost: i64, stock: i64, lead: i32) -> Offer {
/// #     let now = chrono::Utc::now();
/// #     Offer { id: uuid::Uuid::now_v7(), product_id: uuid::Uuid::nil(), supplier_id: uuid::Uuid::nil(),
/// #         supplier_sku: sku.into(), cost: Some(Money::new(cost, "EUR".parse().unwrap())), stock: Some(stock),
/// #         lead_time_days: Some(lead), is_available: true, last_seen_at: None, created_at: now, updated_at: now,
/// #         not_taken: Default::default() }
/// # }
/// let offers = [offer("cheap-but-out", 900, 0, 1), offer("in-stock", 1000, 5, 7), offer("same-price-faster", 1000, 2, 2)];
/// assert_eq!(best_offer(&offers).unwrap().supplier_sku, "same-price-faster");
/// ```
pub fn best_offer(offers: &[Offer]) -> Option<&Offer> {
    let mut currencies: HashMap<CurrencyCode, usize> = HashMap::new();
    for offer in offers.iter().filter(|o| o.is_available) {
        if let Some(cost) = offer.cost {
            *currencies.entry(cost.currency).or_default() += 1;
        }
    }
    // Most used currency; ties broken by code so the choice is stable.
    let reference =
        currencies.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.as_str().cmp(a.0.as_str()))).map(|c| c.0);
    let cost_in_reference = |o: &Offer| o.cost.filter(|c| Some(c.currency) == reference).map(|c| c.amount_minor);
    offers.iter().filter(|o| o.is_available).min_by(|a, b| {
        b.in_stock()
            .cmp(&a.in_stock())
            .then_with(|| compare_missing_last(cost_in_reference(a), cost_in_reference(b)))
            .then_with(|| compare_missing_last(a.lead_time_days, b.lead_time_days))
            .then_with(|| a.supplier_sku.cmp(&b.supplier_sku))
    })
}

fn compare_missing_last<T: Ord>(a: Option<T>, b: Option<T>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(sku: &str, cost: Option<(i64, &str)>, stock: Option<i64>, lead: Option<i32>) -> Offer {
        let now = Utc::now();
        Offer {
            id: Uuid::now_v7(),
            product_id: Uuid::nil(),
            supplier_id: Uuid::now_v7(),
            supplier_sku: sku.to_string(),
            cost: cost.map(|(amount, currency)| Money::new(amount, currency.parse().unwrap())),
            stock,
            lead_time_days: lead,
            is_available: true,
            last_seen_at: None,
            created_at: now,
            updated_at: now,
            not_taken: Default::default(),
        }
    }

    #[test]
    fn in_stock_beats_cheaper_out_of_stock() {
        let offers =
            [offer("out", Some((100, "EUR")), Some(0), Some(1)), offer("in", Some((500, "EUR")), Some(3), Some(9))];
        assert_eq!(best_offer(&offers).unwrap().supplier_sku, "in");
    }

    #[test]
    fn cheapest_then_shortest_lead_time() {
        let offers = [
            offer("dear", Some((600, "EUR")), Some(9), Some(1)),
            offer("cheap-slow", Some((500, "EUR")), Some(1), Some(10)),
            offer("cheap-fast", Some((500, "EUR")), Some(1), Some(3)),
        ];
        assert_eq!(best_offer(&offers).unwrap().supplier_sku, "cheap-fast");
    }

    #[test]
    fn other_currencies_and_unknowns_come_last() {
        let offers = [
            offer("usd", Some((1, "USD")), Some(5), Some(1)),
            offer("eur-a", Some((900, "EUR")), Some(5), Some(1)),
            offer("eur-b", Some((800, "EUR")), Some(5), None),
            offer("no-cost", None, Some(5), Some(1)),
        ];
        assert_eq!(best_offer(&offers).unwrap().supplier_sku, "eur-b");
        let mut unavailable = offer("gone", Some((1, "EUR")), Some(9), Some(1));
        unavailable.is_available = false;
        assert!(best_offer(&[unavailable.clone()]).is_none());
        let with_gone = [unavailable, offer("slow", Some((5, "EUR")), None, Some(30))];
        assert_eq!(best_offer(&with_gone).unwrap().supplier_sku, "slow", "out of stock but available still counts");
    }
}
