//! Code2ASIN: supplier product codes (EAN, UPC, ISBN, GTIN) to Amazon ASINs.
//!
//! - [`check`] validates and normalises a code (GS1 check digit, GTIN-14, ISBN-10 → EAN-13, restricted prefixes).
//! - [`Code2AsinProvider`] is an Amazon API that finds items by code; [`sp_api::SpApiClient`] is the Catalog Items
//!   one (20 codes per call), [`creators::CreatorsClient`] the Creators API one (one code per call).
//! - [`CallLimiter`] keeps each credential and marketplace at Amazon's rate in a process; [`SharedLimiter`] adds
//!   the same bucket in Redis for every process.
//! - [`Code2AsinService`] runs jobs in windows of codes with a checkpoint after each, reuses answers younger than
//!   the cache TTL, judges matches ([`score`]) and writes confident ones to the catalog; the rest wait for review.

mod code;
pub mod creators;
mod limiter;
mod marketplace;
mod matching;
mod model;
mod provider;
mod repo;
mod service;
pub mod sp_api;

pub use code::{CodeCheck, CodeKind, check};
pub use limiter::{CallLimiter, SharedLimiter};
pub use marketplace::{MARKETPLACES, Marketplace, Region};
pub use matching::{CatalogSide, score};
pub use model::{
    AmazonApiConfig, Code2AsinCounts, Code2AsinError, Code2AsinJob, Code2AsinLog, Code2AsinResult, Code2AsinStatistics,
    CodeOutcome, CodeSource, JobItem, NewAmazonApiConfig, NewCode2AsinJob, NewSupplierSettings, ReviewState,
    SupplierSettings,
};
pub use provider::{Code2AsinProvider, Lookup, LookupError, ProviderKind};
pub use service::{Code2AsinDeps, Code2AsinRuntime, Code2AsinService};
