//! Products: the canonical catalog entry, identified by GTIN, SKU or ASIN, with typed attributes.

mod model;
mod query;
mod records;
mod repo;
pub(crate) mod search;
mod service;

pub use model::{Attribute, AttributeValue, NewProduct, Product, ProductPatch, ProductStatus};
pub use query::{DEFAULT_PAGE, Listed, MAX_PAGE, Page, ProductQuery, ProductSort};
pub use records::{ProductRecord, RecordReader, VariantAxis, VariantOf};
pub(crate) use repo::Identifier;
pub(crate) use service::MAX_BULK;
pub use service::ProductService;
