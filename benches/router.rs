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
use std::path::PathBuf;

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
    group.finish();
    runtime.block_on(sdk.close());
    Some(env)
}

/// Time per iteration in nanoseconds as criterion reports it (the slope estimate; the mean where there is none).
fn time_ns(backend: Backend, function: &str) -> Option<f64> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    // criterion stores group `router/sqlite` under `router_sqlite`.
    let group = format!("{GROUP}_{backend}");
    let path = target.join("criterion").join(group).join(function).join("new/estimates.json");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["slope"]["point_estimate"].as_f64().or_else(|| json["mean"]["point_estimate"].as_f64())
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

    println!("\nacquire + release of a pooled connection (catalog database), criterion's estimate");
    println!("{:<10} {:>14} {:>14} {:>10}", "backend", "direct pool", "via router", "overhead");
    for backend in measured {
        match (time_ns(backend, "direct_pool"), time_ns(backend, "via_router")) {
            (Some(direct), Some(routed)) => println!(
                "{:<10} {:>11.0} ns {:>11.0} ns {:>+9.1}%",
                backend.to_string(),
                direct,
                routed,
                (routed - direct) / direct * 100.0
            ),
            _ => println!("{backend:<10} (no estimates: run without a filter)"),
        }
    }
}
