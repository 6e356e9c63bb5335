//! Supplier offers (`supplier_products`): one product, many suppliers, each with its SKU, cost, stock and lead
//! time; and the rule that picks the best one.

mod model;
pub(crate) mod repo;
mod service;

pub(crate) use model::OfferRow;
pub use model::{NewOffer, Offer, OfferListEntry, SupplierOffer, best_offer};
pub(crate) use repo::{for_products as offers_for_products, forget_row_hashes, keep_words};
pub use service::OfferService;
