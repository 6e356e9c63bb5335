//! Tiered cache: L1 in process (moka, bounded, TTL ≤ 60 s) → L2 shared (Redis, TTL per kind) → the loader
//! (usually a database query). Cache-aside.
//!
//! - One load per key at a time: concurrent misses on a key wait for the same load (moka's `try_get_with`).
//! - [`TieredCache::invalidate`] drops the key from L1 and L2 and publishes it on a Redis channel; every instance
//!   subscribed drops it from its L1, so a write through one instance is seen by all at once, not after a TTL.
//! - Redis down: the first failure is logged, failures are counted, L2 is skipped for a second at a time, and
//!   requests are served from L1 and the loader. When the connection drops, L1 is emptied (invalidations may
//!   have been missed), and while Redis is down an L1 entry is trusted for `cache.degraded_l1_ttl_secs` (2 s)
//!   only, since other instances' invalidations cannot arrive: their writes are seen within that bound, not
//!   after a whole TTL. When Redis answers again, L1 is emptied once more, L2 is used again and the
//!   subscription is renewed, no restart.
//! - Hit and miss counters per tier and kind go to the `metrics` facade (`cache_requests_total`).
//!
//! ```no_run
//! # async fn demo(cache: &productsmanager_core::cache::TieredCache) -> productsmanager_core::Result<()> {
//! use productsmanager_core::cache::CacheKind;
//!
//! let name = cache.get_or_load(CacheKind::Brands, "acme", || async { Ok("ACME".to_string()) }).await?;
//! assert_eq!(name.as_str(), "ACME");
//! cache.invalidate(CacheKind::Brands, "acme").await;
//! # Ok(()) }
//! ```

mod redis_tier;

use std::any::Any;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::CacheConfig;
use crate::{Error, Result};
use redis_tier::RedisTier;

/// What is cached; each kind has its own lifetime in L2 (the seed's table, in seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheKind {
    Categories,
    Taxonomies,
    Brands,
    Products,
    Suppliers,
    EnrichmentStats,
    ImportJobs,
    ExportJobs,
    Code2AsinMappings,
    AmazonProductData,
    SearchResults,
    ApiRateLimits,
}

impl CacheKind {
    /// Every kind.
    pub const ALL: [CacheKind; 12] = [
        CacheKind::Categories,
        CacheKind::Taxonomies,
        CacheKind::Brands,
        CacheKind::Products,
        CacheKind::Suppliers,
        CacheKind::EnrichmentStats,
        CacheKind::ImportJobs,
        CacheKind::ExportJobs,
        CacheKind::Code2AsinMappings,
        CacheKind::AmazonProductData,
        CacheKind::SearchResults,
        CacheKind::ApiRateLimits,
    ];

    /// Name used in keys and metrics.
    pub fn name(self) -> &'static str {
        match self {
            CacheKind::Categories => "categories",
            CacheKind::Taxonomies => "taxonomies",
            CacheKind::Brands => "brands",
            CacheKind::Products => "products",
            CacheKind::Suppliers => "suppliers",
            CacheKind::EnrichmentStats => "enrichment_stats",
            CacheKind::ImportJobs => "import_jobs",
            CacheKind::ExportJobs => "export_jobs",
            CacheKind::Code2AsinMappings => "code2asin_mappings",
            CacheKind::AmazonProductData => "amazon_product_data",
            CacheKind::SearchResults => "search_results",
            CacheKind::ApiRateLimits => "api_rate_limits",
        }
    }

    /// Lifetime of an entry in L2.
    pub fn ttl(self) -> Duration {
        Duration::from_secs(match self {
            CacheKind::Categories | CacheKind::Brands => 3600,
            CacheKind::Taxonomies => 7200,
            CacheKind::Products | CacheKind::Suppliers => 1800,
            CacheKind::EnrichmentStats | CacheKind::ImportJobs | CacheKind::ExportJobs | CacheKind::SearchResults => {
                300
            }
            CacheKind::Code2AsinMappings => 86_400,
            CacheKind::AmazonProductData => 43_200,
            CacheKind::ApiRateLimits => 60,
        })
    }
}

/// Errors of the cache's own set-up (serving never fails because of the cache).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The Redis URL was rejected by the client.
    #[error("cache.redis_url: {0}")]
    RedisUrl(String),
    /// One key was used for values of two types: a bug in key naming.
    #[error("cache key `{key}` holds a value of another type")]
    TypeClash { key: String },
}

/// Hit and miss counts of one cache since it was made (for tests and diagnostics; `/metrics` has them by kind).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub l1_hits: u64,
    pub l1_misses: u64,
    pub l2_hits: u64,
    pub l2_misses: u64,
    pub l2_errors: u64,
    pub loads: u64,
}

#[derive(Debug, Default)]
struct Counters {
    l1_hits: AtomicU64,
    l1_misses: AtomicU64,
    l2_hits: AtomicU64,
    l2_misses: AtomicU64,
    l2_errors: AtomicU64,
    loads: AtomicU64,
    /// Per kind (in [`CacheKind::ALL`] order): served from a tier, loaded from the source. Taken (and reset) by
    /// the analytics sampler.
    by_kind: [[AtomicU64; 2]; 12],
}

/// A value in L1: typed (no decoding on a hit) with its own lifetime.
#[derive(Clone)]
struct L1Entry {
    value: Arc<dyn Any + Send + Sync>,
    ttl: Duration,
    /// When it was loaded: while Redis is down, an entry older than the degraded lifetime is loaded again.
    loaded: Instant,
}

struct PerEntryTtl;

impl moka::Expiry<String, L1Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, entry: &L1Entry, _created_at: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// Whether the Redis L2 answers.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedisHealth {
    pub status: RedisStatus,
    /// Round trip of a `PING`, when up.
    pub latency_ms: Option<f64>,
    /// Why it is down.
    pub error: Option<String>,
}

/// `up`, `down`, or `not_configured` (L1 only: nothing to check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RedisStatus {
    Up,
    Down,
    NotConfigured,
}

/// The tiered cache. Cheap to clone; clones share both tiers.
#[derive(Clone)]
pub struct TieredCache {
    inner: Arc<Inner>,
}

struct Inner {
    l1: moka::future::Cache<String, L1Entry>,
    l1_ttl: Duration,
    /// How long an L1 entry is trusted while Redis is down.
    degraded_ttl: Duration,
    l2: Option<RedisTier>,
    counters: Counters,
}

impl std::fmt::Debug for TieredCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TieredCache")
            .field("l1_entries", &self.inner.l1.entry_count())
            .field("l1_ttl", &self.inner.l1_ttl)
            .field("l2", &self.inner.l2.is_some())
            .finish()
    }
}

fn count(counter: &AtomicU64, tier: &'static str, kind: CacheKind, result: &'static str) {
    counter.fetch_add(1, Ordering::Relaxed);
    metrics::counter!("cache_requests_total", "tier" => tier, "kind" => kind.name(), "result" => result).increment(1);
}

impl TieredCache {
    /// L1 sized and timed by `config`; L2 on `config.redis_url` when set. `namespace` prefixes every Redis key
    /// and the invalidation channel, so several deployments (or tests) can share one Redis.
    ///
    /// Must be called inside a Tokio runtime when Redis is configured (it starts the invalidation listener).
    pub fn new(config: &CacheConfig, namespace: &str) -> Result<Self, CacheError> {
        let l1_ttl = Duration::from_secs(config.l1_ttl_secs);
        let l1 = moka::future::Cache::builder().max_capacity(config.l1_capacity).expire_after(PerEntryTtl).build();
        let l2 = match &config.redis_url {
            Some(url) => Some(RedisTier::connect(url, namespace, l1.clone())?),
            None => None,
        };
        let degraded_ttl = Duration::from_secs(config.degraded_l1_ttl_secs);
        Ok(TieredCache { inner: Arc::new(Inner { l1, l1_ttl, degraded_ttl, l2, counters: Counters::default() }) })
    }

    /// Whether a Redis L2 is configured.
    pub fn has_l2(&self) -> bool {
        self.inner.l2.is_some()
    }

    /// Whether the Redis L2 answers (a `PING`, within the cache's deadline), and how fast.
    pub async fn redis_health(&self) -> RedisHealth {
        match &self.inner.l2 {
            None => RedisHealth { status: RedisStatus::NotConfigured, latency_ms: None, error: None },
            Some(l2) => match l2.ping().await {
                Ok(took) => {
                    RedisHealth { status: RedisStatus::Up, latency_ms: Some(took.as_secs_f64() * 1000.0), error: None }
                }
                Err(error) => RedisHealth { status: RedisStatus::Down, latency_ms: None, error: Some(error) },
            },
        }
    }

    /// The cached value of `key`, else the value `load` produces, stored in both tiers. Concurrent callers
    /// missing the same key share one load. An error of `load` is returned (to every caller that waited for
    /// that load) and nothing is cached.
    pub async fn get_or_load<T, F, Fut>(&self, kind: CacheKind, key: &str, load: F) -> Result<Arc<T>>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let full_key = format!("{}:{key}", kind.name());
        let counters = &self.inner.counters;
        if let Some(entry) = self.inner.l1.get(&full_key).await {
            if self.distrusted(&entry) {
                // Redis is down and the entry may predate another instance's write: loaded again.
                self.inner.l1.invalidate(&full_key).await;
            } else if let Ok(value) = entry.value.downcast::<T>() {
                count(&counters.l1_hits, "l1", kind, "hit");
                counters.by_kind[kind as usize][0].fetch_add(1, Ordering::Relaxed);
                return Ok(value);
            }
        }
        count(&counters.l1_misses, "l1", kind, "miss");
        let ttl = kind.ttl().min(self.inner.l1_ttl);
        let fill = async {
            let value = Arc::new(self.load_through_l2(kind, &full_key, load).await?);
            Ok::<_, Error>(L1Entry { value, ttl, loaded: Instant::now() })
        };
        let entry = self
            .inner
            .l1
            .try_get_with(full_key.clone(), fill)
            .await
            .map_err(|shared| Arc::try_unwrap(shared).unwrap_or_else(Error::Shared))?;
        entry.value.downcast::<T>().map_err(|_| CacheError::TypeClash { key: full_key }.into())
    }

    /// An L1 entry not to be served: Redis is down (other instances' invalidations cannot reach us) and it was
    /// loaded longer ago than the degraded lifetime.
    fn distrusted(&self, entry: &L1Entry) -> bool {
        self.inner.l2.as_ref().is_some_and(|l2| l2.is_down()) && entry.loaded.elapsed() > self.inner.degraded_ttl
    }

    async fn load_through_l2<T, F, Fut>(&self, kind: CacheKind, full_key: &str, load: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let counters = &self.inner.counters;
        if let Some(l2) = &self.inner.l2 {
            match l2.get(full_key).await {
                Ok(Some(bytes)) => match serde_json::from_slice::<T>(&bytes) {
                    Ok(value) => {
                        count(&counters.l2_hits, "l2", kind, "hit");
                        counters.by_kind[kind as usize][0].fetch_add(1, Ordering::Relaxed);
                        return Ok(value);
                    }
                    // Written by an older release with another shape: treat as a miss and overwrite.
                    Err(e) => tracing::debug!(key = full_key, error = %e, "undecodable L2 entry"),
                },
                Ok(None) => count(&counters.l2_misses, "l2", kind, "miss"),
                Err(()) => count(&counters.l2_errors, "l2", kind, "error"),
            }
        }
        counters.loads.fetch_add(1, Ordering::Relaxed);
        counters.by_kind[kind as usize][1].fetch_add(1, Ordering::Relaxed);
        let value = load().await?;
        if let Some(l2) = &self.inner.l2 {
            match serde_json::to_vec(&value) {
                Ok(bytes) => {
                    if l2.set(full_key, &bytes, kind.ttl()).await.is_err() {
                        counters.l2_errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(e) => tracing::warn!(key = full_key, error = %e, "value cannot be encoded for L2"),
            }
        }
        Ok(value)
    }

    /// Drops `key` from L1 here and, through Redis, from L2 and from the L1 of every other instance. Call after
    /// the write that made it stale has committed.
    pub async fn invalidate(&self, kind: CacheKind, key: &str) {
        let full_key = format!("{}:{key}", kind.name());
        self.inner.l1.invalidate(&full_key).await;
        if let Some(l2) = &self.inner.l2
            && l2.invalidate(&full_key).await.is_err()
        {
            self.inner.counters.l2_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Hit and miss counts so far.
    pub fn stats(&self) -> CacheStats {
        let c = &self.inner.counters;
        CacheStats {
            l1_hits: c.l1_hits.load(Ordering::Relaxed),
            l1_misses: c.l1_misses.load(Ordering::Relaxed),
            l2_hits: c.l2_hits.load(Ordering::Relaxed),
            l2_misses: c.l2_misses.load(Ordering::Relaxed),
            l2_errors: c.l2_errors.load(Ordering::Relaxed),
            loads: c.loads.load(Ordering::Relaxed),
        }
    }

    /// Per kind, the requests served from a tier (hits) and those loaded from the source (misses) since the last
    /// call, which resets them; kinds without any are left out.
    pub fn take_counts_by_kind(&self) -> Vec<(CacheKind, u64, u64)> {
        let by_kind = &self.inner.counters.by_kind;
        CacheKind::ALL
            .into_iter()
            .map(|kind| {
                let [hits, misses] = &by_kind[kind as usize];
                (kind, hits.swap(0, Ordering::Relaxed), misses.swap(0, Ordering::Relaxed))
            })
            .filter(|(_, hits, misses)| hits + misses > 0)
            .collect()
    }

    /// Empties L1 of this instance only (L2 and other instances are untouched).
    pub fn clear_local(&self) {
        self.inner.l1.invalidate_all();
    }
}
