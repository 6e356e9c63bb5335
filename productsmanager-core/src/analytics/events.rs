//! [`AnalyticsEvents`]: raw analytics events (product views, price changes, stock-outs, searches, latencies),
//! summed in memory by a background task and merged into the analytics database in batches.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use super::batched::{BatchSink, BatchedWriter};
use crate::db::DbPool;
use crate::with_pool;

/// Events waiting to be written before new ones are dropped (and counted).
const QUEUE: usize = 20_000;
/// Events taken off the queue before a write.
const BATCH: usize = 5_000;
/// Rows per statement (at most 8 parameters each: well under SQLite's limit).
const ROWS: usize = 500;

/// Latency histogram buckets: bucket `b` holds samples up to `FIRST_BUCKET_MS × GROWTH^b` (5 % apart, so a
/// percentile read from them is at most 5 % above the true one).
const FIRST_BUCKET_MS: f64 = 0.01;
const GROWTH: f64 = 1.05;

/// The bucket of a latency.
pub fn bucket_of(ms: f64) -> i32 {
    if ms <= FIRST_BUCKET_MS || !ms.is_finite() {
        return 0;
    }
    ((ms / FIRST_BUCKET_MS).ln() / GROWTH.ln()).ceil().clamp(0.0, 1000.0) as i32
}

/// The upper bound of a bucket, in milliseconds.
pub(crate) fn bucket_limit_ms(bucket: i32) -> f64 {
    FIRST_BUCKET_MS * GROWTH.powi(bucket)
}

/// What a latency sample measured (the `kind` of `performance_metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimingKind {
    /// An HTTP request, named by its route pattern.
    Http,
    /// A database operation, named by the database.
    Db,
}

impl TimingKind {
    fn as_str(self) -> &'static str {
        match self {
            TimingKind::Http => "http",
            TimingKind::Db => "db",
        }
    }
}

/// One search of the catalog (first pages only: paging on is the same search).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchEvent {
    pub query: String,
    /// The filters given with it (brand, category, supplier…), as sent.
    pub filters: Option<serde_json::Value>,
    /// Results on the first page (so 0 is a zero-result search).
    pub result_count: u32,
    pub latency_ms: f64,
    pub user_id: Option<Uuid>,
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A product read through the API.
    ProductViewed {
        product_id: Uuid,
    },
    /// A product's price changed (by its own writer or an import); an offer's cost changed by a supplier's file
    /// also counts for that supplier.
    PriceChanged {
        product_id: Uuid,
        supplier_id: Option<Uuid>,
    },
    /// A supplier's file changed the cost of its offers of these products (one event for a whole batch).
    OffersRepriced {
        supplier_id: Uuid,
        product_ids: Vec<Uuid>,
    },
    /// A product's own stock went from available to none.
    StockOut {
        product_id: Uuid,
    },
    Search(SearchEvent),
    /// How long something took.
    Timing {
        kind: TimingKind,
        name: String,
        ms: f64,
        error: bool,
    },
    /// Operations of one kind and name (a database) counted per latency bucket since the last such event of this
    /// process: (bucket, count).
    LatencyBuckets {
        kind: TimingKind,
        name: String,
        buckets: Vec<(i32, u64)>,
    },
    /// Requests of one cache kind served from the cache (hits) and loaded from the source (misses) since the
    /// last such event of this process.
    CacheCounts {
        kind: String,
        hits: u64,
        misses: u64,
    },
}

/// An event and when it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticsEvent {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
}

impl AnalyticsEvent {
    /// `kind`, now.
    pub fn now(kind: EventKind) -> Self {
        AnalyticsEvent { at: Utc::now(), kind }
    }
}

/// The analytics event recorder. [`AnalyticsEvents::record`] never waits and never fails: events queue for a
/// background task that sums them (per product and day, per supplier and day, per route and hour) and merges the
/// sums into the analytics database; when the queue is full or the database cannot take a write, the events are
/// dropped, logged and counted (`analytics_events_dropped_total` by kind) and the caller goes on.
///
/// ```no_run
/// # async fn demo(sdk: &productsmanager_core::Sdk, product_id: uuid::Uuid) {
/// use productsmanager_core::analytics::{AnalyticsEvent, EventKind};
/// sdk.analytics_events().record(AnalyticsEvent::now(EventKind::ProductViewed { product_id }));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AnalyticsEvents {
    queue: BatchedWriter<AnalyticsEvent>,
    dropped: Arc<AtomicU64>,
}

impl AnalyticsEvents {
    /// Starts the writer on the analytics pool (it ends when the last handle is dropped).
    pub(crate) fn start(pool: DbPool) -> Self {
        let dropped = Arc::new(AtomicU64::new(0));
        let queue = BatchedWriter::start(QUEUE, BATCH, EventsWriter { pool, dropped: dropped.clone() });
        AnalyticsEvents { queue, dropped }
    }

    /// Queues an event.
    pub fn record(&self, event: AnalyticsEvent) {
        let kind = event.kind.label();
        let count = EventsWriter::weight(&event);
        if !self.queue.try_record(event) {
            dropped(&self.dropped, kind, count, "the analytics queue is full");
        }
    }

    /// Events dropped by this process so far (queue full, or the analytics database not taking a write).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits until every event queued before the call is written (or dropped): for shutdown and tests.
    pub async fn flush(&self) {
        self.queue.flush().await;
    }
}

impl EventKind {
    /// The `kind` label of each variant on `analytics_events_dropped_total` (what [`EventKind`]'s `label` gives),
    /// so that an exporter can start every series at 0. Kept beside `label`: one per variant.
    pub const LABELS: [&'static str; 8] = [
        "product_viewed",
        "price_changed",
        "stock_out",
        "offers_repriced",
        "search",
        "timing",
        "cache_counts",
        "latency_buckets",
    ];

    fn label(&self) -> &'static str {
        match self {
            EventKind::ProductViewed { .. } => Self::LABELS[0],
            EventKind::PriceChanged { .. } => Self::LABELS[1],
            EventKind::StockOut { .. } => Self::LABELS[2],
            EventKind::OffersRepriced { .. } => Self::LABELS[3],
            EventKind::Search(_) => Self::LABELS[4],
            EventKind::Timing { .. } => Self::LABELS[5],
            EventKind::CacheCounts { .. } => Self::LABELS[6],
            EventKind::LatencyBuckets { .. } => Self::LABELS[7],
        }
    }
}

fn dropped(total: &AtomicU64, kind: &'static str, count: usize, reason: &str) {
    total.fetch_add(count as u64, Ordering::Relaxed);
    tracing::warn!(kind, count, reason, "analytics events not recorded");
    metrics::counter!("analytics_events_dropped_total", "kind" => kind).increment(count as u64);
}

#[derive(Debug, Default, Clone, Copy)]
struct ProductCounts {
    views: i64,
    price_changes: i64,
    stock_outs: i64,
}

#[derive(Debug, Default, Clone, Copy)]
struct BucketCounts {
    samples: i64,
    errors: i64,
    max_ms: f64,
}

/// What the writer has summed since its last write.
#[derive(Debug, Default)]
struct Pending {
    products: HashMap<(Uuid, NaiveDate), ProductCounts>,
    suppliers: HashMap<(Uuid, NaiveDate), i64>,
    searches: Vec<(DateTime<Utc>, SearchEvent)>,
    buckets: HashMap<(TimingKind, String, DateTime<Utc>, i32), BucketCounts>,
    cache: HashMap<(String, DateTime<Utc>), (i64, i64)>,
    events: usize,
}

impl Pending {
    fn add(&mut self, event: AnalyticsEvent) {
        self.events += 1;
        let day = event.at.date_naive();
        match event.kind {
            EventKind::ProductViewed { product_id } => self.products.entry((product_id, day)).or_default().views += 1,
            EventKind::PriceChanged { product_id, supplier_id } => {
                self.products.entry((product_id, day)).or_default().price_changes += 1;
                if let Some(supplier) = supplier_id {
                    *self.suppliers.entry((supplier, day)).or_default() += 1;
                }
            }
            EventKind::OffersRepriced { supplier_id, product_ids } => {
                self.events += product_ids.len().saturating_sub(1);
                *self.suppliers.entry((supplier_id, day)).or_default() += product_ids.len() as i64;
                for product_id in product_ids {
                    self.products.entry((product_id, day)).or_default().price_changes += 1;
                }
            }
            EventKind::StockOut { product_id } => self.products.entry((product_id, day)).or_default().stock_outs += 1,
            EventKind::Search(search) => self.searches.push((event.at, search)),
            EventKind::Timing { kind, name, ms, error } => {
                let hour = event.at.duration_trunc(TimeDelta::hours(1)).unwrap_or(event.at);
                let counts = self.buckets.entry((kind, name, hour, bucket_of(ms))).or_default();
                counts.samples += 1;
                counts.errors += i64::from(error);
                counts.max_ms = counts.max_ms.max(ms);
            }
            EventKind::LatencyBuckets { kind, name, buckets } => {
                let hour = event.at.duration_trunc(TimeDelta::hours(1)).unwrap_or(event.at);
                for (bucket, count) in buckets {
                    let counts = self.buckets.entry((kind, name.clone(), hour, bucket)).or_default();
                    counts.samples += i64::try_from(count).unwrap_or(i64::MAX);
                    // Single durations are not kept: the bucket's bound is the largest it can hold.
                    counts.max_ms = counts.max_ms.max(bucket_limit_ms(bucket));
                }
            }
            EventKind::CacheCounts { kind, hits, misses } => {
                let hour = event.at.duration_trunc(TimeDelta::hours(1)).unwrap_or(event.at);
                let counts = self.cache.entry((kind, hour)).or_default();
                counts.0 += i64::try_from(hits).unwrap_or(i64::MAX);
                counts.1 += i64::try_from(misses).unwrap_or(i64::MAX);
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.events == 0
    }
}

/// Sums a batch and merges the sums.
struct EventsWriter {
    pool: DbPool,
    dropped: Arc<AtomicU64>,
}

#[async_trait::async_trait]
impl BatchSink for EventsWriter {
    type Item = AnalyticsEvent;

    /// An import batch's repriced offers count one event per product.
    fn weight(event: &AnalyticsEvent) -> usize {
        match &event.kind {
            EventKind::OffersRepriced { product_ids, .. } => product_ids.len().max(1),
            _ => 1,
        }
    }

    async fn write(&mut self, batch: Vec<AnalyticsEvent>) {
        let mut pending = Pending::default();
        for event in batch {
            pending.add(event);
        }
        if !pending.is_empty() {
            let events = pending.events;
            if let Err(e) = store(&self.pool, pending).await {
                dropped(&self.dropped, "batch", events, &e.to_string());
            }
        }
    }
}

/// Merges the sums into the analytics tables, in one transaction (all of a batch or none of it).
async fn store(pool: &DbPool, pending: Pending) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let products: Vec<_> = pending.products.into_iter().collect();
    let suppliers: Vec<_> = pending.suppliers.into_iter().collect();
    let buckets: Vec<_> = pending.buckets.into_iter().collect();
    let cache: Vec<_> = pending.cache.into_iter().collect();
    with_pool!(pool, |p| {
        let mut tx = p.begin().await?;
        for chunk in products.chunks(ROWS) {
            let mut sql = QueryBuilder::new(
                "insert into product_metrics (id, product_id, day, views, price_changes, stock_outs, created_at, \
                 updated_at) ",
            );
            sql.push_values(chunk, |mut row, ((product, day), counts)| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(*product)
                    .push_bind(*day)
                    .push_bind(counts.views)
                    .push_bind(counts.price_changes)
                    .push_bind(counts.stock_outs)
                    .push_bind(now)
                    .push_bind(now);
            });
            sql.push(
                " on conflict (product_id, day) do update set views = product_metrics.views + excluded.views, \
                 price_changes = product_metrics.price_changes + excluded.price_changes, \
                 stock_outs = product_metrics.stock_outs + excluded.stock_outs, updated_at = excluded.updated_at",
            );
            sql.build().execute(&mut *tx).await?;
        }
        for chunk in suppliers.chunks(ROWS) {
            let mut sql = QueryBuilder::new(
                "insert into supplier_metrics (id, supplier_id, day, price_changes, created_at, updated_at) ",
            );
            sql.push_values(chunk, |mut row, ((supplier, day), changes)| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(*supplier)
                    .push_bind(*day)
                    .push_bind(*changes)
                    .push_bind(now)
                    .push_bind(now);
            });
            sql.push(
                " on conflict (supplier_id, day) do update set \
                 price_changes = supplier_metrics.price_changes + excluded.price_changes, updated_at = excluded.updated_at",
            );
            sql.build().execute(&mut *tx).await?;
        }
        for chunk in pending.searches.chunks(ROWS) {
            let mut sql = QueryBuilder::new(
                "insert into search_analytics (id, query, normalized_query, filters, result_count, latency_ms, user_id, \
                 created_at) ",
            );
            sql.push_values(chunk, |mut row, (at, search)| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(search.query.clone())
                    .push_bind(normalized_query(&search.query))
                    .push_bind(search.filters.clone().map(Json))
                    .push_bind(i64::from(search.result_count))
                    .push_bind(search.latency_ms.max(0.0))
                    .push_bind(search.user_id)
                    .push_bind(*at);
            });
            sql.build().execute(&mut *tx).await?;
        }
        for chunk in buckets.chunks(ROWS) {
            let mut sql = QueryBuilder::new(
                "insert into performance_buckets (kind, name, hour, bucket, samples, errors, max_ms) ",
            );
            sql.push_values(chunk, |mut row, ((kind, name, hour, bucket), counts)| {
                row.push_bind(kind.as_str())
                    .push_bind(name.clone())
                    .push_bind(*hour)
                    .push_bind(*bucket)
                    .push_bind(counts.samples)
                    .push_bind(counts.errors)
                    .push_bind(counts.max_ms);
            });
            sql.push(
                " on conflict (kind, name, hour, bucket) do update set \
                 samples = performance_buckets.samples + excluded.samples, \
                 errors = performance_buckets.errors + excluded.errors, \
                 max_ms = case when excluded.max_ms > performance_buckets.max_ms then excluded.max_ms \
                 else performance_buckets.max_ms end",
            );
            sql.build().execute(&mut *tx).await?;
        }
        for chunk in cache.chunks(ROWS) {
            let mut sql = QueryBuilder::new("insert into cache_counts (kind, hour, hits, misses) ");
            sql.push_values(chunk, |mut row, ((kind, hour), (hits, misses))| {
                row.push_bind(kind.clone()).push_bind(*hour).push_bind(*hits).push_bind(*misses);
            });
            sql.push(
                " on conflict (kind, hour) do update set hits = cache_counts.hits + excluded.hits, \
                 misses = cache_counts.misses + excluded.misses",
            );
            sql.build().execute(&mut *tx).await?;
        }
        tx.commit().await
    })
}

/// A query as it is counted: trimmed, lower case, inner whitespace as single spaces (so `USB  Cable ` and
/// `usb cable` are one query).
pub fn normalized_query(query: &str) -> String {
    query.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_five_percent_apart_and_cover_every_latency() {
        assert_eq!(bucket_of(0.0), 0);
        assert_eq!(bucket_of(f64::NAN), 0);
        for ms in [0.02, 0.5, 1.0, 12.5, 99.0, 1_000.0, 60_000.0] {
            let bucket = bucket_of(ms);
            assert!(bucket_limit_ms(bucket) >= ms * 0.999_999, "{ms} above its bucket");
            assert!(bucket_limit_ms(bucket) <= ms * GROWTH * 1.000_001, "{ms}'s bucket too wide");
        }
    }

    #[test]
    fn queries_are_counted_case_and_space_blind() {
        assert_eq!(normalized_query("  USB   Cable "), "usb cable");
        assert_eq!(normalized_query("Čaj"), "čaj");
    }
}
