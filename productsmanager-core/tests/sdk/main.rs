//! The SDK's integration tests: one binary, one module per area. Database tests run on SQLite and on
//! PostgreSQL (`PM_TEST_DATABASE_URL`), cache tests against a real Redis (`PM_TEST_REDIS_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod akeneo_vocabulary;
mod analytics;
mod auth;
mod availability;
mod brands;
mod cache;
mod categories;
mod code2asin;
mod commerce;
mod databases;
mod dataset_products;
mod doctor;
mod export_feeds;
mod export_platforms;
mod export_prestashop;
mod export_shopify;
mod import_presets;
mod import_sources;
mod imports;
mod job_processes;
mod job_tables;
mod jobs;
mod listing;
mod media;
mod merges;
mod notifications;
mod price_windows;
mod products;
mod provenance;
mod relations;
mod round_trips;
mod search;
mod seo_imports;
mod servers;
mod settings;
mod storage;
mod suppliers;
