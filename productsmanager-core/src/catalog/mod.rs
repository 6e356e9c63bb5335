//! The catalog domain: products identified by GTIN, supplier offers, categories, brands, prices and stock.

mod identifiers;

pub use identifiers::{Asin, Gtin, GtinError, IdentifierError, Sku};
