//! Re-deriving a released field at once: when a person hands a field back to the suppliers, it takes the value of
//! the supplier that comes first among those that gave it, without waiting for that supplier's next file.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::repo::HistoryRow;
use super::rules::SupplierOrder;
use super::{ChangeKind, FieldSource};
use crate::catalog::offers::OfferRow;

/// What one supplier last said of a field, as stored: a price in minor units, a brand by its id or (from a file
/// the product did not take) by its name, anything else as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Said {
    pub supplier: Uuid,
    /// The import that said it, when known.
    pub job: Option<Uuid>,
    pub value: String,
    pub at: DateTime<Utc>,
}

/// What each supplier last said of `field`: the value its offer's last file gave that the product did not take
/// (`not_taken`), else the value it last set on the product (its history). Suppliers that said nothing are absent.
pub(crate) fn said(field: &str, offers: &[OfferRow], history: &[HistoryRow]) -> Vec<Said> {
    let mut said: Vec<Said> = Vec::new();
    // The history, oldest first: a later entry of a supplier replaces its earlier one.
    for row in history.iter().filter(|r| r.field == field && ChangeKind::from_stored(&r.change) == ChangeKind::Set) {
        let (FieldSource::Supplier { supplier_id, job_id }, Some(value)) = (row.source(), &row.value) else {
            continue;
        };
        let entry = Said { supplier: supplier_id, job: job_id, value: value.clone(), at: row.changed_at };
        match said.iter_mut().find(|s| s.supplier == supplier_id) {
            Some(earlier) => *earlier = entry,
            None => said.push(entry),
        }
    }
    for offer in offers {
        let Some(value) = offer.not_taken.as_ref().and_then(|n| n.0.get(field)) else { continue };
        let Some(value) = stored_value(field, value) else { continue };
        let entry = Said { supplier: offer.supplier_id, job: offer.last_import_job_id, value, at: offer.updated_at };
        match said.iter_mut().find(|s| s.supplier == offer.supplier_id) {
            Some(earlier) if earlier.at <= entry.at => *earlier = entry,
            Some(_) => {}
            None => said.push(entry),
        }
    }
    said
}

/// A value as `not_taken` shows it (`12.50 EUR`) as the catalog stores it (`1250`).
fn stored_value(field: &str, shown: &str) -> Option<String> {
    let Some(currency) = field.strip_prefix("price:").and_then(|rest| rest.split(':').nth(1)) else {
        return Some(shown.to_string());
    };
    let currency: crate::catalog::CurrencyCode = currency.parse().ok()?;
    let amount = shown.trim().strip_suffix(currency.as_str())?.trim();
    currency.minor_units(field, amount).ok().map(|minor| minor.to_string())
}

/// The supplier whose word the field takes: the first in `order` among those whose rules let them change the
/// field's group; between two that neither comes before the other, the later word.
pub(crate) fn choose(said: Vec<Said>, order: SupplierOrder<'_>) -> Option<Said> {
    let mut best: Option<Said> = None;
    for candidate in said.into_iter().filter(|s| order.ranks.changes(s.supplier, order.group)) {
        best = Some(match best {
            None => candidate,
            Some(current) => {
                let (first, second) = (
                    order.before(candidate.supplier, current.supplier),
                    order.before(current.supplier, candidate.supplier),
                );
                if (first && !second) || (first == second && candidate.at > current.at) { candidate } else { current }
            }
        });
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::FieldGroup;
    use crate::catalog::provenance::{SupplierRanks, Unranked};

    fn said(supplier: Uuid, value: &str, minutes: i64) -> Said {
        let at = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::minutes(minutes);
        Said { supplier, job: None, value: value.into(), at }
    }

    #[test]
    fn the_first_supplier_in_order_then_the_latest_word() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let ranks = SupplierRanks { priority: [(b, 1)].into(), rules: Default::default() };
        let order = |origin| SupplierOrder {
            ranks: &ranks,
            group: FieldGroup::Content,
            origin,
            unranked: Unranked::CreatorFirst,
        };
        let words = || vec![said(a, "from a", 1), said(b, "from b", 2), said(c, "from c", 3)];
        assert_eq!(choose(words(), order(Some(a))).unwrap().value, "from b", "a ranked supplier first");
        let unranked = SupplierRanks::default();
        let creator_first = SupplierOrder {
            ranks: &unranked,
            group: FieldGroup::Content,
            origin: Some(a),
            unranked: Unranked::CreatorFirst,
        };
        assert_eq!(choose(words(), creator_first).unwrap().value, "from a", "then the creator");
        let latest = SupplierOrder { unranked: Unranked::LatestFile, ..creator_first };
        assert_eq!(choose(words(), latest).unwrap().value, "from c", "or the latest file");
        assert_eq!(choose(Vec::new(), latest), None);
    }

    #[test]
    fn a_price_not_taken_is_read_back_in_minor_units() {
        assert_eq!(stored_value("price:retail:EUR", "12.50 EUR").as_deref(), Some("1250"));
        assert_eq!(stored_value("price:retail:JPY", "1200 JPY").as_deref(), Some("1200"));
        assert_eq!(stored_value("title", "Drill").as_deref(), Some("Drill"));
        assert_eq!(stored_value("price:retail:EUR", "12.50 USD"), None);
    }
}
