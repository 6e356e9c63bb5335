//! Exports, one table: feed files of a large catalog (our CSV and Google Merchant XML, 1,000,000 products by
//! default) beside the raw baseline of the same run — one SQL join of the same products with their brand, retail
//! price and offer stock streamed into a CSV writer — with the peak RSS of each (`VmHWM`, reset before it);
//! then pushes of `PM_BENCH_PLATFORM_PRODUCTS` products (10,000) to the WooCommerce fake and of
//! `PM_BENCH_SHOPIFY_PRODUCTS` (2,000; 10,000 takes 16 minutes at the Standard plan's pace) to the Shopify fake with
//! a Standard-plan bucket (2,000 points, 100 per second), as a share of what each platform's limits allow — as
//! `productSet` documents, then the same products as bulk operations (which spend almost no points).
//!
//! ```text
//! cargo bench -p productsmanager-benches --bench exports
//! PM_BENCH_EXPORT_PRODUCTS=100000 PM_BENCH_SHOPIFY_PRODUCTS=0 cargo bench … --bench exports   # quicker
//! PM_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres PM_BENCH_BACKENDS=postgres …  # PostgreSQL
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::time::Instant;

use productsmanager_benches::process::{cpu_ticks, peak_rss_mib, print_stolen_since, reset_peak_rss};
use productsmanager_benches::seed::generate_catalog;
use productsmanager_benches::selected_backends;
use productsmanager_core::db::{Backend, Database};
use productsmanager_core::exports::{
    ChannelSettings, ExportMode, FeedFormat, FeedRequest, NewPlatform, PlatformCredentials, PlatformKind,
};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{Sdk, with_pool};
use productsmanager_fakes::shopify::{FakeShopify, Plan};
use productsmanager_fakes::woocommerce::{BATCH_LIMIT, FakeWooCommerce};
use sqlx::Row as _;
use tokio::runtime::Runtime;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}

struct Row {
    what: String,
    items: u64,
    seconds: f64,
    note: String,
}

fn print(rows: &[Row]) {
    println!("\n| | items | seconds | items/s | |");
    println!("|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {:.1} | {:.0} | {} |",
            row.what,
            row.items,
            row.seconds,
            row.items as f64 / row.seconds.max(1e-9),
            row.note
        );
    }
}

/// The raw baseline: one SQL join of the products with their brand, retail price and offer stock (the generated
/// catalog has one of each), streamed into a CSV writer.
async fn raw_csv(sdk: &Sdk, out: &std::path::Path) -> u64 {
    use futures_util::TryStreamExt;
    let file = std::fs::File::create(out).unwrap();
    let mut writer = csv::WriterBuilder::new().buffer_capacity(256 * 1024).from_writer(file);
    writer
        .write_record(["sku", "gtin", "title", "description", "brand", "price", "currency", "stock", "status"])
        .unwrap();
    let sql = "select p.sku, p.gtin, p.title, p.description, b.name, pr.amount_minor, pr.currency, o.stock, p.status \
               from products p left join brands b on b.id = p.brand_id \
               left join product_prices pr on pr.product_id = p.id and pr.price_type = 'retail' \
               left join supplier_products o on o.product_id = p.id \
               order by p.created_at, p.id";
    let rows = with_pool!(sdk.pool(Database::Catalog), |p| async {
        let mut stream = sqlx::query(sql).fetch(p);
        let mut n = 0_u64;
        while let Some(row) = stream.try_next().await.unwrap() {
            let text = |i: usize| row.get::<Option<String>, _>(i).unwrap_or_default();
            let number = |i: usize| row.get::<Option<i64>, _>(i).map(|n| n.to_string()).unwrap_or_default();
            let price = row.get::<Option<i64>, _>(5).map(|m| format!("{}.{:02}", m / 100, m % 100)).unwrap_or_default();
            writer
                .write_record([text(0), text(1), text(2), text(3), text(4), price, text(6), number(7), text(8)])
                .unwrap();
            n += 1;
        }
        n
    }
    .await);
    writer.flush().unwrap();
    rows
}

async fn files(backend: Backend, total: usize, rows: &mut Vec<Row>) -> bool {
    let Some(databases) = TestDatabases::named(backend, "bench_exports_files").await else { return false };
    let sdk = databases.sdk().await;
    let started = Instant::now();
    generate_catalog(&sdk, total).await;
    println!("{backend:?}: {total} products loaded in {:.1} s", started.elapsed().as_secs_f64());
    let folder = tempfile::tempdir().unwrap();

    reset_peak_rss();
    let started = Instant::now();
    let raw = raw_csv(&sdk, &folder.path().join("raw.csv")).await;
    let baseline = started.elapsed().as_secs_f64();
    rows.push(Row {
        what: format!(
            "{backend:?}: baseline, one SQL join (brand, retail price, offer stock) streamed into a CSV writer"
        ),
        items: raw,
        seconds: baseline,
        note: format!("peak RSS {:.0} MiB", peak_rss_mib()),
    });
    for format in [FeedFormat::Csv, FeedFormat::GoogleMerchantXml] {
        let out = folder.path().join(format!("feed.{}", format.extension()));
        let request = FeedRequest { format, filters: Default::default(), settings: Default::default() };
        reset_peak_rss();
        let started = Instant::now();
        let summary = sdk.exports().write_feed(&request, &out, |_| {}).await.unwrap();
        let seconds = started.elapsed().as_secs_f64();
        rows.push(Row {
            what: format!(
                "{backend:?}: our `{}` export (prices, offers, brands, categories, images)",
                format.cli_name()
            ),
            items: summary.items,
            seconds,
            note: format!(
                "{:.2}x the baseline; {} MB; peak RSS {:.0} MiB",
                seconds / baseline,
                summary.bytes / 1_000_000,
                peak_rss_mib()
            ),
        });
    }
    sdk.close().await;
    true
}

async fn platforms(products: usize, shopify_products: usize, rows: &mut Vec<Row>) {
    let databases = TestDatabases::named(Backend::Sqlite, "bench_exports_platforms").await.unwrap();
    let sdk = databases.sdk().await;
    generate_catalog(&sdk, products).await;
    let exports = sdk.exports();

    let woo = FakeWooCommerce::start("ck_bench", "cs_bench").await.unwrap();
    let platform = NewPlatform {
        name: "woo".into(),
        platform: PlatformKind::Woocommerce,
        endpoint: woo.base_url.clone(),
        credentials: PlatformCredentials {
            key: Some("ck_bench".into()),
            secret: Some("cs_bench".into()),
            access_token: None,
        },
        filters: Default::default(),
        settings: Default::default(),
        created_by: None,
    };
    exports.add_platform(platform).await.unwrap();
    let started = Instant::now();
    let job = exports.run_platform_now("woo", ExportMode::Delta, None, |_| {}).await.unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let batches: Vec<usize> = woo
        .requests()
        .iter()
        .filter(|r| r.uri.ends_with("/products/batch"))
        .map(|r| r.body["create"].as_array().map_or(0, Vec::len) + r.body["update"].as_array().map_or(0, Vec::len))
        .collect();
    let mean = batches.iter().sum::<usize>() as f64 / batches.len().max(1) as f64;
    rows.push(Row {
        what: "WooCommerce fake: first run (creates)".into(),
        items: job.items_created as u64,
        seconds,
        note: format!(
            "{} batch requests of {mean:.1} products on average = {:.2} of the {BATCH_LIMIT}-item limit",
            batches.len(),
            mean / BATCH_LIMIT as f64
        ),
    });
    let started = Instant::now();
    let job = exports.run_platform_now("woo", ExportMode::Delta, None, |_| {}).await.unwrap();
    rows.push(Row {
        what: "WooCommerce fake: delta run, nothing changed".into(),
        items: job.items_processed as u64,
        seconds: started.elapsed().as_secs_f64(),
        note: format!("{} sent", job.items_created + job.items_updated),
    });

    if shopify_products == 0 {
        return;
    }
    let databases = TestDatabases::named(Backend::Sqlite, "bench_exports_shopify").await.unwrap();
    let sdk = databases.sdk().await;
    generate_catalog(&sdk, shopify_products).await;
    // The same products twice, each time to an empty shop: as productSet documents (bulk switched off), then
    // as bulk operations (the default for a push of 250 products or more).
    for (name, bulk_from) in [("documents", 0), ("bulk", 250)] {
        let shop = FakeShopify::start("shpat_bench", Plan::STANDARD).await.unwrap();
        let platform = NewPlatform {
            name: name.into(),
            platform: PlatformKind::Shopify,
            endpoint: shop.endpoint.clone(),
            credentials: PlatformCredentials { access_token: Some("shpat_bench".into()), ..Default::default() },
            filters: Default::default(),
            settings: ChannelSettings { bulk_from: Some(bulk_from), ..Default::default() },
            created_by: None,
        };
        sdk.exports().add_platform(platform).await.unwrap();
        let started = Instant::now();
        let job = sdk.exports().run_platform_now(name, ExportMode::Delta, None, |_| {}).await.unwrap();
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(shop.products().len() as i64, job.items_created, "{job:?}");
        let points: f64 = shop.requests().iter().filter(|r| !r.throttled).map(|r| r.requested_cost).sum();
        let throttled = shop.requests().iter().filter(|r| r.throttled).count();
        // The fastest the plan allows for these points: the full bucket at once, then 100 points a second.
        let plan = Plan::STANDARD;
        let fastest = ((points - plan.maximum) / plan.restore_rate).max(0.0);
        let (what, note) = if bulk_from == 0 {
            (
                "Shopify fake, Standard plan (2,000 points, 100/s): first run, productSet documents (10 points each)",
                format!(
                    "{points:.0} points; the plan allows it in {fastest:.1} s at best = {:.2} of the limit; {throttled} THROTTLED",
                    fastest / seconds
                ),
            )
        } else {
            (
                "Shopify fake, Standard plan: first run, bulk operations (2,000 products each)",
                format!(
                    "{points:.0} points (handle lookups, uploads, polls); {} JSONL uploads; {throttled} THROTTLED",
                    shop.uploads().len()
                ),
            )
        };
        rows.push(Row { what: what.into(), items: job.items_created as u64, seconds, note });
    }
}

fn main() {
    let runtime = Runtime::new().unwrap();
    let total = env_number("PM_BENCH_EXPORT_PRODUCTS", 1_000_000);
    let products = env_number("PM_BENCH_PLATFORM_PRODUCTS", 10_000);
    let shopify_products = env_number("PM_BENCH_SHOPIFY_PRODUCTS", 2_000);
    let ticks_before = cpu_ticks();
    let mut rows = Vec::new();
    runtime.block_on(async {
        for backend in selected_backends() {
            if !files(backend, total, &mut rows).await {
                println!("{backend:?}: not run (set PM_TEST_DATABASE_URL)");
            }
        }
        platforms(products, shopify_products, &mut rows).await;
    });
    print(&rows);
    print_stolen_since(ticks_before);
    let _ = std::io::stdout().flush();
}
