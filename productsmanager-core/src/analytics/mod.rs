//! Analytics (analytics database): the activity log (every write through the API or the CLI), raw events
//! (product views, price changes, stock-outs, searches, latencies) recorded without making the caller wait, the
//! hourly rollups into daily and hourly figures, the catalog snapshot with each product's completeness, and the
//! dashboards' reads ([`AnalyticsService`]).

mod activity;
mod batched;
mod events;
mod model;
mod repo;
mod service;

pub use activity::{ActivityLog, UserActivity};
pub use events::{AnalyticsEvent, AnalyticsEvents, EventKind, SearchEvent, TimingKind, bucket_of, normalized_query};
pub use model::{
    CatalogOverview, CategoryCompleteness, Completeness, CompletenessRules, ImportDay, ImportJobMetrics,
    PerformanceRollup, ProductDay, ProductFacts, RollupReport, SearchCount, SearchReport, SupplierDay,
    SupplierScorecard,
};
pub use service::{AnalyticsService, ImportHistory};
