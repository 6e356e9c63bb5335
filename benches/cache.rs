//! The tiered cache against its raw parts, in one run:
//! - L1 hit vs a raw `moka::future::Cache::get` of the same value;
//! - L2 hit (L1 emptied before each read) vs a raw Redis `GET` of the same bytes;
//! - miss → load → fill, L1 only and with L2.
//!
//! ```text
//! PM_TEST_REDIS_URL=redis://127.0.0.1:6379/ cargo bench -p productsmanager-benches --bench cache
//! ```
//! Without `PM_TEST_REDIS_URL` the Redis rows are not run, and say so.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{BatchSize, Criterion};
use productsmanager_core::Config;
use productsmanager_core::cache::{CacheKind, TieredCache};
use productsmanager_core::config::CacheConfig;
use serde::{Deserialize, Serialize};
use tokio::runtime::Runtime;

const GROUP: &str = "cache";

/// About the size of a cached product: a few identifiers, a title, a description, some attributes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Value {
    id: String,
    title: String,
    description: String,
    attributes: Vec<(String, String)>,
    price_minor: i64,
}

fn value() -> Value {
    Value {
        id: "01a2b3c4-d5e6-7f80-9a0b-1c2d3e4f5a6b".into(),
        title: "Cordless drill 18 V with two batteries".into(),
        description: "A compact drill driver. ".repeat(20),
        attributes: (0..10).map(|i| (format!("attribute {i}"), format!("value {i}"))).collect(),
        price_minor: 12_999,
    }
}

fn config(redis: Option<String>) -> CacheConfig {
    CacheConfig { redis_url: redis, ..Config::default().cache }
}

fn namespace() -> String {
    format!("pm_bench_{}_", std::process::id())
}

fn l1(c: &mut Criterion, runtime: &Runtime) {
    let cache = runtime.block_on(async { TieredCache::new(&config(None), &namespace()).unwrap() });
    runtime.block_on(cache.get_or_load(CacheKind::Products, "p1", || async { Ok(value()) })).unwrap();
    let raw: moka::future::Cache<String, Arc<Value>> = moka::future::Cache::builder().max_capacity(100_000).build();
    runtime.block_on(raw.insert("products:p1".to_string(), Arc::new(value())));
    let loads = AtomicU64::new(0);

    let mut group = c.benchmark_group(format!("{GROUP}/l1"));
    group.bench_function("raw_moka_get", |b| {
        b.to_async(runtime).iter(|| async { black_box(raw.get("products:p1").await.unwrap()) })
    });
    group.bench_function("tiered_l1_hit", |b| {
        b.to_async(runtime).iter(|| async {
            black_box(cache.get_or_load(CacheKind::Products, "p1", || async { Ok(value()) }).await.unwrap())
        })
    });
    group.bench_function("miss_load_fill_l1_only", |b| {
        b.to_async(runtime).iter(|| async {
            let key = format!("m{}", loads.fetch_add(1, Ordering::Relaxed));
            black_box(cache.get_or_load(CacheKind::Products, &key, || async { Ok(value()) }).await.unwrap())
        })
    });
    group.finish();
}

fn l2(c: &mut Criterion, runtime: &Runtime, url: &str) {
    let cache = runtime.block_on(async { TieredCache::new(&config(Some(url.to_string())), &namespace()).unwrap() });
    runtime.block_on(cache.get_or_load(CacheKind::Products, "p1", || async { Ok(value()) })).unwrap();
    let bytes = serde_json::to_vec(&value()).unwrap();
    let mut raw = runtime.block_on(async {
        let client = redis::Client::open(url).unwrap();
        redis::aio::ConnectionManager::new(client).await.unwrap()
    });
    let raw_key = format!("{}raw:p1", namespace());
    runtime.block_on(async {
        let _: () = redis::cmd("SET").arg(&raw_key).arg(&bytes).query_async(&mut raw).await.unwrap();
    });
    let loads = AtomicU64::new(0);

    let mut group = c.benchmark_group(format!("{GROUP}/l2"));
    group.bench_function("raw_redis_get", |b| {
        b.to_async(runtime).iter(|| {
            let mut raw = raw.clone();
            let raw_key = raw_key.clone();
            async move {
                let got: Vec<u8> = redis::cmd("GET").arg(&raw_key).query_async(&mut raw).await.unwrap();
                black_box(got)
            }
        })
    });
    group.bench_function("tiered_l2_hit", |b| {
        b.to_async(runtime).iter_batched(
            || cache.clear_local(),
            |()| async {
                black_box(cache.get_or_load(CacheKind::Products, "p1", || async { Ok(value()) }).await.unwrap())
            },
            // One set-up per read: with batches, every read after the first of a batch would be an L1 hit.
            BatchSize::PerIteration,
        )
    });
    group.bench_function("miss_load_fill_with_l2", |b| {
        b.to_async(runtime).iter(|| async {
            let key = format!("m{}", loads.fetch_add(1, Ordering::Relaxed));
            black_box(cache.get_or_load(CacheKind::Products, &key, || async { Ok(value()) }).await.unwrap())
        })
    });
    group.finish();
    let stats = cache.stats();
    assert_eq!(stats.l2_errors, 0, "Redis errors during the bench: {stats:?}");
}

fn main() {
    let runtime = Runtime::new().unwrap();
    let mut criterion = Criterion::default().configure_from_args();
    l1(&mut criterion, &runtime);
    let redis = std::env::var("PM_TEST_REDIS_URL").ok().filter(|u| !u.is_empty());
    match &redis {
        Some(url) => l2(&mut criterion, &runtime, url),
        None => eprintln!("NOT RUN: Redis rows (set PM_TEST_REDIS_URL)"),
    }
    criterion.final_summary();
    productsmanager_benches::print_comparison(
        "tiered cache vs its raw parts (criterion's estimate per operation)",
        &[
            ("L1 hit vs raw moka get", "cache/l1", "raw_moka_get", "tiered_l1_hit"),
            ("L2 hit vs raw Redis GET", "cache/l2", "raw_redis_get", "tiered_l2_hit"),
            ("miss→load→fill (L1 only) vs moka get", "cache/l1", "raw_moka_get", "miss_load_fill_l1_only"),
            ("miss→load→fill (with L2) vs Redis GET", "cache/l2", "raw_redis_get", "miss_load_fill_with_l2"),
        ],
    );
}
