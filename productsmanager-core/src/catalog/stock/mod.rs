//! Own stock levels per location.

mod model;
mod repo;
mod service;

pub use model::{Availability, NewStockLevel, StockLevel, StockTotal};
pub(crate) use repo::{for_products as stock_for_products, other_locations as other_stock_locations};
pub use service::StockService;
