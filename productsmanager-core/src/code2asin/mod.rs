//! Code2ASIN: supplier product codes (EAN, UPC, ISBN, GTIN) to Amazon ASINs. This first part checks and
//! normalises the codes ([`check`]); the lookups against the SP-API Catalog Items and Creators APIs build on it.

mod code;

pub use code::{CodeCheck, CodeKind, check};
