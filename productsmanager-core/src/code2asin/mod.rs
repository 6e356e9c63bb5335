//! Code2ASIN: supplier product codes (EAN, UPC, ISBN, GTIN) to Amazon ASINs. So far: codes checked and
//! normalised ([`check`]) and the SP-API Catalog Items client ([`sp_api`]); the service (jobs, rate limiting,
//! matching, results) builds on them.

mod code;
mod limiter;
pub mod sp_api;

pub use code::{CodeCheck, CodeKind, check};
pub use limiter::CallLimiter;
