//! The catalog at scale: a generator bulk-loads `PM_BENCH_PRODUCTS` products (1,000,000 by default) with a
//! price and a supplier offer each into fresh databases, then times single operations through the SDK and prints
//! p50/p95/p99 per backend: get by id (cold, then cached), a page of 50 with prices and offers, and a two-word
//! search with a brand filter.
//!
//! ```text
//! PM_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p productsmanager-benches --bench catalog
//! PM_BENCH_PRODUCTS=100000 cargo bench -p productsmanager-benches --bench catalog   # quicker
//! PM_BENCH_BACKENDS=postgres …                                                        # one backend
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use productsmanager_benches::percentiles;
use productsmanager_benches::seed::{ADJECTIVES, BRANDS, NOUNS, generate_catalog};
use productsmanager_core::catalog::ProductQuery;
use productsmanager_core::db::Backend;
use productsmanager_core::testing::TestDatabases;
use tokio::runtime::Runtime;
use uuid::Uuid;

const SAMPLES: usize = 300;

/// Times `samples` runs of `op`, each with its sample number.
async fn time<F, Fut>(samples: usize, mut op: F) -> (Duration, Duration, Duration)
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples {
        let started = Instant::now();
        op(i).await;
        times.push(started.elapsed());
    }
    percentiles(&mut times)
}

fn row(backend: Backend, what: &str, (p50, p95, p99): (Duration, Duration, Duration)) {
    let us = |d: Duration| format!("{:.1} µs", d.as_secs_f64() * 1e6);
    println!("{:<9} {:<44} {:>12} {:>12} {:>12}", backend.to_string(), what, us(p50), us(p95), us(p99));
}

async fn bench(backend: Backend, total: usize) -> bool {
    let Some(env) = TestDatabases::named(backend, "catalog bench").await else { return false };
    let sdk = env.sdk().await;
    let loaded = generate_catalog(&sdk, total).await;
    println!(
        "{backend}: loaded {total} products (+ {total} prices, {total} offers) in {:.1} s; search index built in {:.1} s",
        loaded.load.as_secs_f64(),
        loaded.index.as_secs_f64()
    );
    let products = sdk.products();
    // Spread over the whole catalog, each id read once cold.
    let step = (total / SAMPLES).max(1);
    let sample: Vec<Uuid> = loaded.ids.iter().step_by(step).take(SAMPLES).copied().collect();
    let cold = time(sample.len(), |i| {
        let (products, id) = (products.clone(), sample[i]);
        async move {
            products.get(id).await.unwrap();
        }
    })
    .await;
    row(backend, "get by id, cold (database, 5 queries)", cold);
    let cached = time(sample.len(), |i| {
        let (products, id) = (products.clone(), sample[i]);
        async move {
            products.get(id).await.unwrap();
        }
    })
    .await;
    row(backend, "get by id, cached (L1)", cached);
    let brands = loaded.brands.clone();
    let page = time(SAMPLES, |i| {
        let query = ProductQuery { brand_id: Some(brands[i % brands.len()]), limit: Some(50), ..Default::default() };
        let products = products.clone();
        async move {
            let page = products.list(&query).await.unwrap();
            assert_eq!(page.items.len(), 50);
            assert!(page.items.iter().all(|p| !p.prices.is_empty() && p.best_offer.is_some()));
        }
    })
    .await;
    row(backend, "list page of 50, brand filter, prices + offers", page);
    let search = time(SAMPLES, |i| {
        // Distinct queries, so none is served from the search cache; the brand is one these products have.
        let base = i % ADJECTIVES.len() + ADJECTIVES.len() * ((i / ADJECTIVES.len()) % NOUNS.len());
        let words = format!("{} {}", ADJECTIVES[i % ADJECTIVES.len()], NOUNS[(i / ADJECTIVES.len()) % NOUNS.len()]);
        let query = ProductQuery { brand_id: Some(brands[base % BRANDS]), limit: Some(20), ..Default::default() };
        let products = products.clone();
        async move {
            assert!(!products.search(&words, &query).await.unwrap().items.is_empty(), "{words}");
        }
    })
    .await;
    row(backend, "search two words + brand filter (uncached)", search);
    sdk.close().await;
    true
}

fn main() {
    let total: usize = std::env::var("PM_BENCH_PRODUCTS").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    // `cargo bench` passes `--bench`; run directly (or by `cargo test --benches`) it is a quick smoke run.
    let total = if std::env::args().any(|a| a == "--bench") { total } else { 2_000 };
    let runtime = Runtime::new().unwrap();
    println!("{:<9} {:<44} {:>12} {:>12} {:>12}", "backend", "operation", "p50", "p95", "p99");
    // PM_BENCH_BACKENDS=sqlite or =postgres runs one of them.
    for backend in productsmanager_benches::selected_backends() {
        if !runtime.block_on(bench(backend, total)) {
            println!("{backend:<9} NOT RUN (set PM_TEST_DATABASE_URL)");
        }
    }
}
