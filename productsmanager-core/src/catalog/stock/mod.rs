//! Own stock levels per location.

mod model;
mod repo;
mod service;

pub use model::{NewStockLevel, StockLevel, StockTotal};
pub(crate) use repo::for_products as stock_for_products;
pub use service::StockService;
