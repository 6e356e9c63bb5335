//! Products: the canonical catalog entry, identified by GTIN, SKU or ASIN, with typed attributes.

mod model;
mod repo;
mod service;

pub use model::{Attribute, AttributeValue, NewProduct, Product, ProductPatch, ProductStatus};
pub use service::ProductService;
