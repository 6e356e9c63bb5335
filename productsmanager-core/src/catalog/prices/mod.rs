//! Prices: several types (purchase, retail, sale, MSRP) and currencies per product, each open-ended or valid in
//! a window; and the rule that resolves the current one.

mod model;
mod repo;
mod service;
pub(crate) mod window;

pub(crate) use model::PriceRow;
pub use model::{NewPrice, Price, PriceType, current_prices};
pub(crate) use repo::for_products as prices_for_products;
pub use service::PriceService;
