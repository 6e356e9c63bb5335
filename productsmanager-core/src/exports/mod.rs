//! Exports: the catalog out to feed files and sales platforms. Feed files (our CSV, Shopify and WooCommerce CSV,
//! XLSX, Google Merchant XML and TSV) are written streaming, a page of products at a time, to a local file or
//! into the object store under `exports/YYYY/MM/DD/`; a daily task removes files no export job refers to.

mod error;
mod feed;
mod model;
mod repo;
mod service;

pub use error::ExportError;
pub use model::{
    ChannelSettings, ExportFilters, ExportJob, FeedFormat, FeedProgress, FeedRequest, FeedSummary, PriceRule,
};
pub use service::{EXPORT_FILES_PREFIX, ExportService, FilesCleanup};
