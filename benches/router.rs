//! Cost of the router: a pooled connection through `Sdk::pool(db)` + `with_pool!` vs straight from the same
//! sqlx pool, on SQLite and (when `PM_TEST_DATABASE_URL` is set) PostgreSQL. Ends with a side-by-side table.
//! `test_before_acquire` is off for the measured pool: with it, each acquire pings the server and the ping
//! (tens of µs) hides everything else.
//!
//! ```text
//! cargo bench -p productsmanager-benches --bench router
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::Criterion;
use productsmanager_core::db::{Backend, Database, DbPool};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{Sdk, with_pool};
use tokio::runtime::Runtime;

const GROUP: &str = "router";

async fn via_router(sdk: &Sdk) {
    with_pool!(sdk.pool(Database::Catalog), |p| drop(black_box(p.acquire().await.unwrap())));
}

fn bench_backend(c: &mut Criterion, runtime: &Runtime, backend: Backend) -> Option<TestDatabases> {
    let mut env = runtime.block_on(TestDatabases::named(backend, "router bench"))?;
    // Without the ping before each acquire, what is left is the pool hand-off, where the router's cost would show.
    env.config_mut().database.catalog.test_before_acquire = false;
    let sdk = runtime.block_on(env.sdk());
    let direct = sdk.pool(Database::Catalog).clone();
    let mut group = c.benchmark_group(format!("{GROUP}/{backend}"));
    group.bench_function("direct_pool", |b| {
        b.to_async(runtime).iter(|| async {
            match &direct {
                DbPool::Sqlite(pool) => drop(black_box(pool.acquire().await.unwrap())),
                DbPool::Postgres(pool) => drop(black_box(pool.acquire().await.unwrap())),
            }
        })
    });
    group.bench_function("via_router", |b| b.to_async(runtime).iter(|| via_router(&sdk)));
    // The routing step alone: a reference held by the caller vs the router's lookup.
    group.bench_function("pool_reference", |b| b.iter(|| black_box(black_box(&direct).backend())));
    group.bench_function("router_lookup", |b| b.iter(|| black_box(sdk.pool(black_box(Database::Catalog)).backend())));
    group.finish();
    runtime.block_on(sdk.close());
    Some(env)
}

fn main() {
    let runtime = Runtime::new().unwrap();
    let mut criterion = Criterion::default().configure_from_args();
    let mut measured = Vec::new();
    let mut kept = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if let Some(env) = bench_backend(&mut criterion, &runtime, backend) {
            measured.push(backend);
            kept.push(env);
        }
    }
    criterion.final_summary();
    drop(kept);

    let groups: Vec<(String, String, String)> = measured
        .iter()
        .map(|b| (format!("acquire + release, {b}"), format!("lookup only, {b}"), format!("{GROUP}/{b}")))
        .collect();
    let mut rows: Vec<(&str, &str, &str, &str)> = Vec::new();
    for (acquire, lookup, group) in &groups {
        rows.push((acquire.as_str(), group.as_str(), "direct_pool", "via_router"));
        rows.push((lookup.as_str(), group.as_str(), "pool_reference", "router_lookup"));
    }
    productsmanager_benches::print_comparison(
        "pooled connection of the catalog database: pool directly vs through the router",
        &rows,
    );
}
