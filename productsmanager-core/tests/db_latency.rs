//! Database latencies: every operation through `with_pool!` is counted per database and latency bucket, handed to
//! the analytics by `Sdk::record_counters`, and rolled up into percentiles per database. Alone in its binary: the
//! counts are process-wide, so another test's SDK would take them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use productsmanager_core::db::{Backend, Database};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::with_pool;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_latencies_roll_up_per_database() {
    let Some(env) = TestDatabases::named(Backend::Sqlite, "db_latency").await else { return };
    let sdk = env.sdk().await;
    // What start-up counted (migrations, roles) goes now; then five queries of the catalog.
    productsmanager_core::db::take_latency_buckets();
    let ping = || async {
        with_pool!(sdk.pool(Database::Catalog), |p| sqlx::query("select 1").execute(p).await.map(|_| ())).unwrap()
    };
    for _ in 0..5 {
        ping().await;
    }
    let counted = productsmanager_core::db::take_latency_buckets();
    let catalog: u64 =
        counted.iter().filter(|(db, _)| *db == "catalog").flat_map(|(_, b)| b.iter().map(|(_, n)| n)).sum();
    assert!(catalog >= 5, "{counted:?}");
    assert!(counted.iter().all(|(db, _)| *db != "other"), "every pool is named: {counted:?}");

    for _ in 0..5 {
        ping().await;
    }
    sdk.record_counters();
    sdk.analytics_events().flush().await;
    let analytics = sdk.analytics();
    analytics.roll_up(Utc::now().date_naive()).await.unwrap();
    let hourly = analytics.performance("hour", Some(1)).await.unwrap();
    let row = hourly.iter().find(|r| r.kind == "db" && r.name == "catalog").unwrap();
    assert!(row.samples >= 5 && row.p50_ms.is_some() && row.p95_ms >= row.p50_ms, "{row:?}");
    sdk.close().await;
}
