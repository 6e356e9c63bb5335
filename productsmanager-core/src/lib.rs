//! # ProductsManager SDK
//!
//! The whole product-information-management domain as a library: suppliers' catalogs imported into one clean
//! catalog, enriched, and exported to sales platforms. The HTTP server and the CLI are thin adapters over this
//! crate; a Rust service can embed it the same way.
//!
//! ```no_run
//! # async fn demo() -> productsmanager_core::Result<()> {
//! use productsmanager_core::{Config, Sdk};
//!
//! // Embedded defaults: seven SQLite files and the object store under ./data, no server needed.
//! let sdk = Sdk::builder(Config::load(None)?).build().await?;
//! for db in sdk.health().await.databases {
//!     println!("{}: {:?} in {:.1} ms", db.database, db.status, db.latency_ms);
//! }
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - [`sdk`]: [`Sdk::builder`]`(config).build().await`, the one entry point; wires pools, migrations, services.
//! - [`config`]: [`Config`] with embedded defaults, a TOML file and `PM_*` variables layered on top.
//! - [`error`]: [`Error`] and the [`ErrorKind`] adapters map to HTTP statuses and exit codes.
//! - [`db`]: the seven logical databases ([`db::Database`]), the [`db::DbPool`] enum over SQLite and
//!   PostgreSQL, the [`db::DatabaseRouter`] trait, the [`with_pool!`] dispatch macro, migrations and health.
//! - [`auth`]: users, roles and permissions, sign-in with lockout, access and refresh tokens.
//! - [`cache`]: [`cache::TieredCache`], moka L1 in front of a Redis L2, with cross-instance invalidation.
//! - [`catalog`]: products and their identifiers ([`catalog::Gtin`], [`catalog::Asin`], [`catalog::Sku`]).
//! - [`jobs`]: durable queues in the databases themselves (claim with a lease, retries with back-off).
//! - `testing` (feature `testing`): fresh per-test databases on both backends, for this crate's and the
//!   adapters' tests.

#![forbid(unsafe_code)]

pub mod analytics;
pub mod auth;
pub mod cache;
pub mod catalog;
pub mod code2asin;
pub mod config;
pub mod db;
pub mod doctor;
pub mod error;
pub mod exports;
mod files;
pub mod imports;
pub mod input;
pub mod jobs;
pub mod media;
pub mod net;
pub mod notifications;
#[cfg(feature = "openapi")]
mod openapi;
pub mod sdk;
pub mod settings;
pub mod storage;
#[cfg(feature = "testing")]
pub mod testing;

pub use config::Config;
pub use error::{Error, ErrorKind, Result};
pub use sdk::{Background, Readiness, ReadinessStatus, Sdk, SdkBuilder};
