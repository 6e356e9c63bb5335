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

use chrono::{SubsecRound, Utc};
use productsmanager_benches::percentiles;
use productsmanager_core::catalog::{Gtin, ProductQuery};
use productsmanager_core::db::{Backend, Database};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{Sdk, with_pool};
use sqlx::QueryBuilder;
use tokio::runtime::Runtime;
use uuid::Uuid;

const ADJECTIVES: [&str; 20] = [
    "cordless",
    "compact",
    "heavy",
    "precision",
    "digital",
    "portable",
    "silent",
    "rugged",
    "smart",
    "mini",
    "pro",
    "classic",
    "modular",
    "wireless",
    "solar",
    "steel",
    "carbon",
    "magnetic",
    "foldable",
    "industrial",
];
const NOUNS: [&str; 30] = [
    "drill",
    "driver",
    "saw",
    "sander",
    "grinder",
    "hammer",
    "wrench",
    "level",
    "clamp",
    "lamp",
    "ladder",
    "vacuum",
    "compressor",
    "router",
    "planer",
    "jigsaw",
    "multitool",
    "heater",
    "fan",
    "charger",
    "battery",
    "toolbox",
    "scanner",
    "meter",
    "tester",
    "blower",
    "pump",
    "welder",
    "cutter",
    "stapler",
];
const BRANDS: usize = 200;
const BATCH: usize = 1_000;
const SAMPLES: usize = 300;

/// A valid GTIN-13 for product number `n` (prefix 400, then the number, then the check digit).
fn gtin_for(n: usize) -> String {
    let data = format!("400{n:09}");
    (0..10).map(|check| format!("{data}{check}")).find(|candidate| Gtin::parse(candidate).is_ok()).unwrap()
}

fn title_for(n: usize) -> String {
    format!("{} {} {}", ADJECTIVES[n % ADJECTIVES.len()], NOUNS[(n / ADJECTIVES.len()) % NOUNS.len()], n)
}

struct Loaded {
    ids: Vec<Uuid>,
    brands: Vec<Uuid>,
    load: Duration,
    index: Duration,
}

/// Bulk-loads brands, one supplier, products with a retail price and an offer each, then the search index.
async fn generate(sdk: &Sdk, total: usize) -> Loaded {
    let started = Instant::now();
    let pool = sdk.pool(Database::Catalog);
    let at = Utc::now().trunc_subsecs(6);
    let brands: Vec<Uuid> = (0..BRANDS).map(|_| Uuid::now_v7()).collect();
    let supplier = Uuid::now_v7();
    with_pool!(pool, |p| async {
        let mut sql = QueryBuilder::new("insert into brands (id, name, slug, created_at, updated_at) ");
        sql.push_values(brands.iter().enumerate(), |mut row, (i, id)| {
            row.push_bind(*id)
                .push_bind(format!("Brand {i}"))
                .push_bind(format!("brand-{i}"))
                .push_bind(at)
                .push_bind(at);
        });
        sql.build().execute(p).await.unwrap();
        sqlx::query(
            "insert into suppliers (id, code, name, created_at, updated_at) values ($1, 'BENCH', 'Bench', $2, $2)",
        )
        .bind(supplier)
        .bind(at)
        .execute(p)
        .await
        .unwrap();
    }
    .await);
    let mut ids = Vec::with_capacity(total);
    for start in (0..total).step_by(BATCH) {
        let batch: Vec<(usize, Uuid)> = (start..(start + BATCH).min(total)).map(|n| (n, Uuid::now_v7())).collect();
        ids.extend(batch.iter().map(|(_, id)| *id));
        with_pool!(pool, |p| {
            async {
            let mut tx = p.begin().await.unwrap();
            let mut products = QueryBuilder::new(
                "insert into products (id, gtin, sku, title, description, brand_id, status, version, created_at, updated_at) ",
            );
            products.push_values(&batch, |mut row, (n, id)| {
                row.push_bind(*id)
                    .push_bind(format!("0{}", gtin_for(*n)))
                    .push_bind(format!("SKU{n:08}"))
                    .push_bind(title_for(*n))
                    .push_bind(format!("Generated product number {n} for the catalog benchmark."))
                    .push_bind(brands[n % BRANDS])
                    .push_bind("active")
                    .push_bind(1_i32)
                    .push_bind(at)
                    .push_bind(at);
            });
            products.build().execute(&mut *tx).await.unwrap();
            let mut prices = QueryBuilder::new(
                "insert into product_prices (id, product_id, price_type, amount_minor, currency, created_at, updated_at) ",
            );
            prices.push_values(&batch, |mut row, (n, id)| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(*id)
                    .push_bind("retail")
                    .push_bind(i64::try_from(100 + n % 10_000).unwrap())
                    .push_bind("EUR")
                    .push_bind(at)
                    .push_bind(at);
            });
            prices.build().execute(&mut *tx).await.unwrap();
            let mut offers = QueryBuilder::new(
                "insert into supplier_products (id, product_id, supplier_id, supplier_sku, cost_minor, currency, stock, \
                 lead_time_days, is_available, last_seen_at, created_at, updated_at) ",
            );
            offers.push_values(&batch, |mut row, (n, id)| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(*id)
                    .push_bind(supplier)
                    .push_bind(format!("B-{n}"))
                    .push_bind(i64::try_from(50 + n % 5_000).unwrap())
                    .push_bind("EUR")
                    .push_bind(i64::try_from(n % 7).unwrap())
                    .push_bind(i32::try_from(n % 14).unwrap())
                    .push_bind(true)
                    .push_bind(at)
                    .push_bind(at)
                    .push_bind(at);
            });
            offers.build().execute(&mut *tx).await.unwrap();
            tx.commit().await.unwrap();
        }
        .await
        });
    }
    // Fresh statistics, as after any bulk load (autovacuum would get there later): without them the planners
    // still think the tables are empty.
    with_pool!(pool, |p| sqlx::query("analyze").execute(p).await.map(|_| ())).unwrap();
    let load = started.elapsed();
    let started = Instant::now();
    let indexed = sdk.products().reindex().await.unwrap();
    assert_eq!(indexed as usize, total);
    Loaded { ids, brands, load, index: started.elapsed() }
}

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
    let loaded = generate(&sdk, total).await;
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
    let only = std::env::var("PM_BENCH_BACKENDS").unwrap_or_default();
    for backend in [Backend::Sqlite, Backend::Postgres].into_iter().filter(|b| only.is_empty() || only == b.to_string())
    {
        if !runtime.block_on(bench(backend, total)) {
            println!("{backend:<9} NOT RUN (set PM_TEST_DATABASE_URL)");
        }
    }
}
