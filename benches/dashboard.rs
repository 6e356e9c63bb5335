//! The dashboard endpoints on a catalog of `PM_BENCH_DASHBOARD_PRODUCTS` products (1,000,000): p50/p95/p99 of each
//! `/api/v1/analytics/...` route through the real HTTP server on 127.0.0.1 (keep-alive client, one request at a
//! time), beside `GET /health` (the server's floor) and the hourly catalog snapshot they read.
//!
//! The catalog: the exports bench's generator (products with GTIN, brand, description, retail price and an offer),
//! plus 50 categories (every product in one), an image URL on every third product and an ASIN on every tenth.
//! The analytics tables: 30 days of 100,000 searches (5,000 distinct queries, 1 in 10 finding nothing), 50 suppliers'
//! daily figures, 3,000 import jobs, 100,000 activity entries, 30 days of figures for 10,000 products.
//!
//! ```text
//! PM_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p productsmanager-benches --bench dashboard
//! PM_BENCH_DASHBOARD_PRODUCTS=100000 PM_BENCH_BACKENDS=sqlite cargo bench … --bench dashboard   # quicker
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use productsmanager_benches::percentiles;
use productsmanager_benches::process::{cpu_ticks, print_stolen_since};
use productsmanager_benches::seed::generate_catalog;
use productsmanager_benches::selected_backends;
use productsmanager_core::auth::{NewApiKey, NewUser, PERMISSIONS};
use productsmanager_core::db::{Backend, Database};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{Sdk, with_pool};
use sqlx::QueryBuilder;
use tokio::runtime::Runtime;
use uuid::Uuid;

const CATEGORIES: usize = 50;
const REQUESTS: usize = 200;
const BATCH: usize = 1_000;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

/// Categories for every product, image URLs on every third, ASINs on every tenth (catalog database).
async fn enrich(sdk: &Sdk, ids: &[Uuid]) {
    let mut categories = Vec::new();
    for n in 0..CATEGORIES {
        let path = vec!["Bench".to_string(), format!("Category {n:02}")];
        categories.push(sdk.categories().ensure_path(&path).await.unwrap());
    }
    let at = Utc::now();
    let pool = sdk.pool(Database::Catalog);
    for (chunk_index, chunk) in ids.chunks(BATCH).enumerate() {
        let start = chunk_index * BATCH;
        with_pool!(pool, |p| {
            async {
            let mut tx = p.begin().await.unwrap();
            let mut links = QueryBuilder::new(
                "insert into product_categories (product_id, category_id, is_primary, position, created_at, updated_at) ",
            );
            links.push_values(chunk.iter().enumerate(), |mut row, (i, id)| {
                row.push_bind(*id).push_bind(categories[(start + i) % CATEGORIES]).push_bind(true).push_bind(0).push_bind(at).push_bind(at);
            });
            links.build().execute(&mut *tx).await.unwrap();
            let imaged: Vec<(usize, &Uuid)> = chunk.iter().enumerate().filter(|(i, _)| (start + i).is_multiple_of(3)).collect();
            if !imaged.is_empty() {
                let mut images =
                    QueryBuilder::new("insert into product_images (id, product_id, url, position, created_at, updated_at) ");
                images.push_values(&imaged, |mut row, (i, id)| {
                    row.push_bind(Uuid::now_v7())
                        .push_bind(**id)
                        .push_bind(format!("https://img.example/{}.jpg", start + i))
                        .push_bind(0)
                        .push_bind(at)
                        .push_bind(at);
                });
                images.build().execute(&mut *tx).await.unwrap();
            }
            for (i, id) in chunk.iter().enumerate().filter(|(i, _)| (start + i).is_multiple_of(10)) {
                sqlx::query("update products set asin = $1 where id = $2")
                    .bind(format!("B{:09}", start + i))
                    .bind(*id)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
            tx.commit().await.unwrap();
        }
        .await
        });
    }
    with_pool!(pool, |p| sqlx::query("analyze").execute(p).await.map(|_| ())).unwrap();
}

/// 30 days of analytics: searches, suppliers' and imports' daily figures, activity, product figures.
async fn history(sdk: &Sdk, products: &[Uuid]) {
    let pool = sdk.pool(Database::Analytics);
    let now = Utc::now();
    let today = now.date_naive();
    let searches: Vec<(String, i64, f64, chrono::DateTime<Utc>)> = (0..100_000usize)
        .map(|n| {
            let query = format!("query {}", (n * 7919) % 5_000);
            let results = if n.is_multiple_of(10) { 0 } else { (n % 40) as i64 + 1 };
            (query, results, 2.0 + (n % 50) as f64, now - TimeDelta::minutes((n % (30 * 24 * 60)) as i64))
        })
        .collect();
    for chunk in searches.chunks(BATCH) {
        with_pool!(pool, |p| {
            let mut sql = QueryBuilder::new(
                "insert into search_analytics (id, query, normalized_query, result_count, latency_ms, created_at) ",
            );
            sql.push_values(chunk, |mut row, (query, results, latency, at)| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(query.clone())
                    .push_bind(query.clone())
                    .push_bind(*results)
                    .push_bind(*latency)
                    .push_bind(*at);
            });
            sql.build().execute(p).await.unwrap();
        });
    }
    let suppliers: Vec<Uuid> = (0..50).map(|_| Uuid::now_v7()).collect();
    let days: Vec<chrono::NaiveDate> = (0..30).map(|d| today - TimeDelta::days(d)).collect();
    let supplier_days: Vec<(Uuid, chrono::NaiveDate)> =
        suppliers.iter().flat_map(|s| days.iter().map(move |d| (*s, *d))).collect();
    for chunk in supplier_days.chunks(BATCH) {
        with_pool!(pool, |p| {
            let mut sql = QueryBuilder::new(
                "insert into supplier_metrics (id, supplier_id, day, offers, offers_in_stock, price_changes, imports, \
                 imports_succeeded, imports_failed, import_duration_ms) ",
            );
            sql.push_values(chunk, |mut row, (supplier, day)| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(*supplier)
                    .push_bind(*day)
                    .push_bind(20_000_i64)
                    .push_bind(15_000_i64)
                    .push_bind(300_i64)
                    .push_bind(2_i64)
                    .push_bind(2_i64)
                    .push_bind(0_i64)
                    .push_bind(40_000_i64);
            });
            sql.build().execute(p).await.unwrap();
        });
    }
    let jobs: Vec<(Option<Uuid>, chrono::NaiveDate)> =
        (0..3_000usize).map(|n| (Some(Uuid::now_v7()), days[n % 30])).chain(days.iter().map(|d| (None, *d))).collect();
    for chunk in jobs.chunks(BATCH) {
        with_pool!(pool, |p| {
            let mut sql = QueryBuilder::new(
                "insert into import_metrics (id, job_id, supplier_id, day, jobs, jobs_failed, rows_processed, \
                 rows_failed, duration_ms) ",
            );
            sql.push_values(chunk, |mut row, (job, day)| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(*job)
                    .push_bind(suppliers[0])
                    .push_bind(*day)
                    .push_bind(if job.is_some() { 1_i64 } else { 100 })
                    .push_bind(0_i64)
                    .push_bind(50_000_i64)
                    .push_bind(500_i64)
                    .push_bind(20_000_i64);
            });
            sql.build().execute(p).await.unwrap();
        });
    }
    let activity: Vec<usize> = (0..100_000).collect();
    for chunk in activity.chunks(BATCH) {
        with_pool!(pool, |p| {
            let mut sql = QueryBuilder::new("insert into user_activity (id, action, route, status_code, created_at) ");
            sql.push_values(chunk, |mut row, n| {
                row.push_bind(Uuid::now_v7())
                    .push_bind("products_update")
                    .push_bind("/api/v1/products/{key}")
                    .push_bind(200)
                    .push_bind(now - TimeDelta::seconds(*n as i64));
            });
            sql.build().execute(p).await.unwrap();
        });
    }
    let product_days: Vec<(Uuid, chrono::NaiveDate)> =
        products.iter().take(10_000).flat_map(|id| days.iter().map(move |d| (*id, *d))).collect();
    for chunk in product_days.chunks(BATCH) {
        with_pool!(pool, |p| {
            let mut sql = QueryBuilder::new(
                "insert into product_metrics (id, product_id, day, views, exports, price_changes, stock_outs) ",
            );
            sql.push_values(chunk, |mut row, (id, day)| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(*id)
                    .push_bind(*day)
                    .push_bind(5_i64)
                    .push_bind(1_i64)
                    .push_bind(0_i64)
                    .push_bind(0_i64);
            });
            sql.build().execute(p).await.unwrap();
        });
    }
    with_pool!(pool, |p| sqlx::query("analyze").execute(p).await.map(|_| ())).unwrap();
}

async fn admin_key(sdk: &Sdk) -> String {
    let user = NewUser {
        email: "bench-admin@example.com".into(),
        display_name: None,
        password: "bench admin password".into(),
        roles: vec!["admin".into()],
    };
    let user = sdk.auth().create_user(user).await.unwrap();
    let scopes = PERMISSIONS.iter().map(|(code, _)| code.to_string()).collect();
    let key = NewApiKey { user_id: user.id, name: "bench".into(), scopes, expires_at: None };
    sdk.auth().create_api_key(key, None).await.unwrap().secret
}

struct Row {
    what: String,
    p50: Duration,
    p95: Duration,
    p99: Duration,
    bytes: usize,
}

async fn run(backend: Backend, total: usize, rows: &mut Vec<Row>) -> bool {
    let Some(databases) = TestDatabases::named(backend, "bench_dashboard").await else { return false };
    let sdk = databases.sdk().await;
    let started = Instant::now();
    let loaded = generate_catalog(&sdk, total).await;
    enrich(&sdk, &loaded.ids).await;
    history(&sdk, &loaded.ids).await;
    println!(
        "{backend:?}: {total} products and 30 days of analytics loaded in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let overview = sdk.analytics().take_catalog_snapshot().await.unwrap();
    let snapshot = started.elapsed();
    println!(
        "{backend:?}: catalog snapshot (the hourly job) in {:.1} s: {} products, {} with GTIN, {} with ASIN, {} with images, {} in stock, {} complete",
        snapshot.as_secs_f64(),
        overview.products,
        overview.with_gtin,
        overview.with_asin,
        overview.with_images,
        overview.in_stock,
        overview.complete
    );
    let started = Instant::now();
    sdk.analytics().roll_up(Utc::now().date_naive()).await.unwrap();
    println!("{backend:?}: rollup of today in {:.2} s", started.elapsed().as_secs_f64());

    let key = admin_key(&sdk).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(productsmanager_http::serve(listener, sdk.clone(), async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let product = loaded.ids[1];
    let paths = [
        "/health".to_string(),
        "/api/v1/analytics/overview".into(),
        "/api/v1/analytics/completeness?limit=50".into(),
        format!("/api/v1/analytics/products/{product}/completeness"),
        format!("/api/v1/analytics/products/{}/metrics", loaded.ids[0]),
        "/api/v1/analytics/suppliers".into(),
        "/api/v1/analytics/imports".into(),
        "/api/v1/analytics/searches".into(),
        "/api/v1/analytics/performance".into(),
        "/api/v1/analytics/activity".into(),
    ];
    for path in paths {
        let mut samples = Vec::with_capacity(REQUESTS);
        let mut bytes = 0;
        for i in 0..REQUESTS + 10 {
            let started = Instant::now();
            let response = client.get(format!("{base}{path}")).bearer_auth(&key).send().await.unwrap();
            let status = response.status();
            let body = response.bytes().await.unwrap();
            assert!(status.is_success(), "{path}: {status} {}", String::from_utf8_lossy(&body));
            // The first ten warm the connection and the caches of the caller's credentials.
            if i >= 10 {
                samples.push(started.elapsed());
            }
            bytes = body.len();
        }
        let (p50, p95, p99) = percentiles(&mut samples);
        rows.push(Row { what: format!("{backend:?}: GET {path}"), p50, p95, p99, bytes });
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    rows.push(Row {
        what: format!("{backend:?}: catalog snapshot job (reads {total} products)"),
        p50: snapshot,
        p95: snapshot,
        p99: snapshot,
        bytes: 0,
    });
    sdk.close().await;
    true
}

fn main() {
    let runtime = Runtime::new().unwrap();
    let total = env_number("PM_BENCH_DASHBOARD_PRODUCTS", 1_000_000);
    let ticks_before = cpu_ticks();
    let mut rows = Vec::new();
    runtime.block_on(async {
        for backend in selected_backends() {
            if !run(backend, total, &mut rows).await {
                println!("{backend:?}: not run (set PM_TEST_DATABASE_URL)");
            }
        }
    });
    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
    println!(
        "\n{:<78} {:>9} {:>9} {:>9} {:>9}",
        format!("{total} products, {REQUESTS} requests each"),
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "bytes"
    );
    for row in &rows {
        println!("{:<78} {:>9} {:>9} {:>9} {:>9}", row.what, ms(row.p50), ms(row.p95), ms(row.p99), row.bytes);
    }
    print_stolen_since(ticks_before);
    let _ = std::io::stdout().flush();
}
