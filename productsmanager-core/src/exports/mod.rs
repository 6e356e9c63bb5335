//! Exports: the catalog out to feed files and sales platforms. Feed files (our CSV, Shopify and WooCommerce CSV,
//! XLSX, Google Merchant XML and TSV) are written streaming, a page of products at a time, to a local file or
//! into the object store under `exports/YYYY/MM/DD/`; a daily task removes files no export job refers to. Sales
//! platforms (WooCommerce, Shopify) get the products that changed since their last run, each product's fate recorded.

mod error;
mod feed;
mod model;
mod platform_runs;
mod platforms;
mod repo;
mod service;

pub use error::ExportError;
pub use model::{
    ChannelSettings, ExportFilters, ExportItem, ExportJob, ExportMode, FeedFormat, FeedProgress, FeedRequest,
    FeedSummary, NewPlatform, Platform, PlatformRunCounts, PriceRule,
};
pub use platforms::{PlatformCredentials, PlatformKind, shopify_documents};
pub use service::{EXPORT_FILES_PREFIX, ExportService, FilesCleanup};
