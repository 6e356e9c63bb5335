//! Analytics on both backends: known events and a known day of imports, writes, searches, latencies and platform
//! exports roll up into known daily figures (twice: the same figures); the catalog snapshot scores completeness
//! under the default rules and a channel's own; events recorded while the analytics database is down are dropped
//! and counted, and the work that recorded them goes on.

use std::net::TcpListener;
use std::path::Path;

use chrono::{DurationRound, TimeDelta, Utc};
use productsmanager_core::analytics::{AnalyticsEvent, CompletenessRules, EventKind, SearchEvent, TimingKind};
use productsmanager_core::catalog::{
    Money, NewPrice, NewStockLevel, NewSupplier, PriceType, ProductPatch, ProductQuery, ProductStatus,
};
use productsmanager_core::db::Backend;
use productsmanager_core::exports::{ChannelSettings, ExportMode};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{Sdk, both_backends};
use productsmanager_fakes::woocommerce::FakeWooCommerce;
use uuid::Uuid;

const CATALOG: &str = "\
sku,gtin,title,description,brand,category,price,cost,stock,image_url
POT-1,4006381333931,Clay pot,A terracotta pot fired at 1000 degrees; frost-proof and 30 cm wide.,Acme,Garden > Pots,12.50,7.10,3,https://img.example/pot.jpg
LID-3,036000291452,Lid,,Other,Kitchen,4.5,2,0,
SAW-4,,Saw,,,,,3,4,
BAD-5,4006381333932,Bad code,,Acme,,1,1,1,
";

async fn import(
    sdk: &Sdk,
    supplier: Uuid,
    folder: &Path,
    name: &str,
    content: &str,
) -> productsmanager_core::Result<Uuid> {
    let path = folder.join(name);
    std::fs::write(&path, content).unwrap();
    sdk.imports().import_file(super::imports::native(supplier, &path), |_| {}).await.map(|summary| summary.job_id)
}

fn at(event: EventKind, when: chrono::DateTime<Utc>) -> AnalyticsEvent {
    AnalyticsEvent { at: when, kind: event }
}

async fn rollups_turn_known_events_into_known_daily_figures(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "analytics_rollups").await else { return };
    let sdk = env.sdk().await;
    let acme = sdk
        .suppliers()
        .create(NewSupplier {
            code: "ACME".into(),
            name: "Acme supplies".into(),
            default_currency: Some("EUR".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;

    // Today's imports: one of 4 rows (3 products, 1 invalid GTIN), one refused for its header.
    let good = import(&sdk, acme, env.folder(), "catalog.csv", CATALOG).await.unwrap();
    import(&sdk, acme, env.folder(), "renamed.csv", "sku,titel\nA1,Pot\n").await.unwrap_err();
    let good_job = sdk.imports().job(good).await.unwrap();
    assert_eq!(good_job.summary.as_ref().map(|s| (s.rows, s.created, s.invalid)), Some((4, 3, 1)), "{good_job:?}");
    let products = sdk.products();
    let listed = products.list(&ProductQuery::default()).await.unwrap().items;
    let titled =
        |title: &str| listed.iter().find(|p| p.title == title).unwrap_or_else(|| panic!("{title}: {listed:?}")).clone();
    let (pot, lid, saw) = (titled("Clay pot"), titled("Lid"), titled("Saw"));

    // Yesterday's and today's raw events, as the API would record them.
    let events = sdk.analytics_events();
    let today = Utc::now().date_naive();
    let yesterday_noon = (today - TimeDelta::days(1)).and_hms_opt(12, 0, 0).unwrap().and_utc();
    for _ in 0..3 {
        events.record(at(EventKind::ProductViewed { product_id: pot.id }, yesterday_noon));
    }
    for _ in 0..2 {
        events.record(at(EventKind::PriceChanged { product_id: pot.id, supplier_id: Some(acme) }, yesterday_noon));
        events.record(AnalyticsEvent::now(EventKind::ProductViewed { product_id: pot.id }));
    }
    // The writers' own events: the same price again is no change, a new one is; LID's stock running out is one.
    let retail = |minor| NewPrice {
        product_id: pot.id,
        price_type: PriceType::Retail,
        amount: Money::new(minor, "EUR".parse().unwrap()),
        valid_from: None,
        valid_to: None,
    };
    sdk.prices().set(retail(1250)).await.unwrap();
    sdk.prices().set(retail(1300)).await.unwrap();
    for quantity in [2, 0, 0] {
        sdk.stock().set(NewStockLevel { product_id: lid.id, location: None, quantity, reserved: None }).await.unwrap();
    }
    // A new file of the supplier's: POT-1 costs more, the rest is the same.
    let repriced = CATALOG.replace(",12.50,7.10,3,", ",12.50,7.60,3,");
    import(&sdk, acme, env.folder(), "catalog-2.csv", &repriced).await.unwrap();
    // Searches: "clay" twice (one result each), "zzzz" twice (none); a second page is not another search.
    for text in ["clay", "  Clay ", "zzzz", "ZZZZ"] {
        products.search(text, &ProductQuery::default()).await.unwrap();
    }
    // With a filter that leaves nothing (every product is active).
    let filtered = ProductQuery { status: Some(ProductStatus::Draft), ..Default::default() };
    products.search("pot", &filtered).await.unwrap();
    // Request latencies of one route this hour: 90 × 1 ms, 9 × 10 ms, 1 × 250 ms.
    let hour = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap();
    for (ms, n) in [(1.0, 90), (10.0, 9), (250.0, 1)] {
        for _ in 0..n {
            let timing = EventKind::Timing {
                kind: TimingKind::Http,
                name: "GET /api/v1/products".into(),
                ms,
                error: ms > 100.0,
            };
            events.record(at(timing, hour + TimeDelta::minutes(5)));
        }
    }

    // Cache counts: reset, then one product read three times from an empty L1 (the first may come from Redis).
    sdk.record_counters();
    sdk.cache().clear_local();
    for _ in 0..3 {
        products.get(saw.id).await.unwrap();
    }
    sdk.record_counters();

    // Raw events older than the retention: the purge takes them, and nothing of today.
    let long_ago = Utc::now() - TimeDelta::days(100);
    events.record(at(
        EventKind::Search(SearchEvent {
            query: "old".into(),
            filters: None,
            result_count: 0,
            latency_ms: 1.0,
            user_id: None,
        }),
        long_ago,
    ));
    let old_timing = EventKind::Timing { kind: TimingKind::Http, name: "GET /old".into(), ms: 3.0, error: false };
    events.record(at(old_timing, long_ago));

    // Today's platform export: the three (active) products go to the shop.
    let shop = FakeWooCommerce::start("ck_test", "cs_test").await.unwrap();
    let asin_only = CompletenessRules {
        require_gtin: false,
        require_brand: false,
        require_category: false,
        require_asin: true,
        require_price: false,
        require_stock: false,
        min_images: 0,
        min_description_chars: 0,
    };
    let settings = ChannelSettings { completeness: Some(asin_only.clone()), ..Default::default() };
    super::export_platforms::add_shop_with(&sdk.exports(), "shop", &shop, settings).await;
    let platform = sdk.exports().platform("shop").await.unwrap();
    let run = sdk.exports().run_platform_now("shop", ExportMode::Full, None, |_| {}).await.unwrap();
    assert_eq!((run.state.as_str(), run.items_created), ("succeeded", 3), "{run:?}");

    events.flush().await;
    let analytics = sdk.analytics();
    assert_eq!(analytics.purge_raw(90).await.unwrap(), 2, "the old search and the old latency bucket");
    analytics.roll_up(today - TimeDelta::days(1)).await.unwrap();
    let first = analytics.roll_up(today).await.unwrap();
    let again = analytics.roll_up(today).await.unwrap();
    assert_eq!(first, again, "a rollup recomputes: the same figures again");
    assert_eq!((first.import_jobs, first.products_exported), (3, 3), "{first:?}");

    let days = |v: &[productsmanager_core::analytics::ProductDay]| {
        v.iter().map(|d| (d.day, d.views, d.exports, d.price_changes, d.stock_outs)).collect::<Vec<_>>()
    };
    let yesterday = today - TimeDelta::days(1);
    assert_eq!(
        days(&analytics.product_days(pot.id, Some(2)).await.unwrap()),
        [(yesterday, 3, 0, 2, 0), (today, 2, 1, 2, 0)]
    );
    assert_eq!(days(&analytics.product_days(lid.id, Some(2)).await.unwrap()), [(today, 0, 1, 0, 1)]);
    assert_eq!(days(&analytics.product_days(saw.id, Some(2)).await.unwrap()), [(today, 0, 1, 0, 0)]);

    let cards = analytics.supplier_scorecards(Some(2)).await.unwrap();
    assert_eq!(cards.len(), 1, "{cards:?}");
    let card = &cards[0];
    assert_eq!((card.code.as_deref(), card.name.as_deref()), (Some("ACME"), Some("Acme supplies")));
    assert_eq!((card.offers, card.offers_in_stock, card.price_changes), (3, 2, 3), "{card:?}");
    assert_eq!((card.imports, card.imports_succeeded, card.imports_failed), (3, 2, 1), "{card:?}");
    assert_eq!((card.import_success_rate, card.stock_coverage), (Some(2.0 / 3.0), Some(2.0 / 3.0)));

    let history = analytics.import_history(Some(2), None).await.unwrap();
    assert_eq!(history.days.len(), 1, "{history:?}");
    let day = &history.days[0];
    assert_eq!((day.day, day.jobs, day.jobs_failed, day.rows_processed, day.rows_failed), (today, 3, 1, 8, 2));
    assert_eq!(day.error_rate, Some(0.25));
    assert_eq!(history.jobs.len(), 3);
    let good_metrics = history.jobs.iter().find(|j| j.job_id == good).unwrap();
    let took = (good_job.finished_at.unwrap() - good_job.started_at.unwrap()).num_milliseconds();
    assert_eq!((good_metrics.failed, good_metrics.rows_processed, good_metrics.duration_ms), (false, 4, took));

    let searches = analytics.searches(Some(1), None).await.unwrap();
    let counted = |list: &[productsmanager_core::analytics::SearchCount]| {
        list.iter().map(|s| (s.query.clone(), s.searches, s.zero_result_searches)).collect::<Vec<_>>()
    };
    assert_eq!(
        counted(&searches.top),
        [("clay".to_string(), 2, 0), ("zzzz".to_string(), 2, 2), ("pot".to_string(), 1, 1)]
    );
    assert_eq!(counted(&searches.zero_results), [("zzzz".to_string(), 2, 2), ("pot".to_string(), 1, 1)]);

    let hourly = analytics.performance("hour", Some(1)).await.unwrap();
    let route = hourly.iter().find(|r| r.kind == "http" && r.name == "GET /api/v1/products").unwrap();
    let near = |got: Option<f64>, want: f64| got.is_some_and(|g| g >= want * 0.9999 && g <= want * 1.05);
    assert_eq!((route.period_start, route.samples, route.errors, route.max_ms), (hour, 100, 1, Some(250.0)));
    assert!(near(route.p50_ms, 1.0) && near(route.p95_ms, 10.0) && near(route.p99_ms, 10.0), "{route:?}");
    let queues: Vec<&str> = hourly.iter().filter(|r| r.kind == "queue").map(|r| r.name.as_str()).collect();
    assert_eq!(queues.len(), 5, "{queues:?}");
    let cache = hourly.iter().filter(|r| r.kind == "cache" && r.name == "products").collect::<Vec<_>>();
    assert_eq!(cache.len(), 1, "{hourly:?}");
    let (hits, misses) = (cache[0].hits.unwrap(), cache[0].misses.unwrap());
    assert!(hits >= 2 && hits + misses >= 3, "{cache:?}");
    let daily = analytics.performance("day", Some(1)).await.unwrap();
    let route_day = daily.iter().find(|r| r.name == "GET /api/v1/products").unwrap();
    assert_eq!((route_day.samples, route_day.period_start), (100, today.and_hms_opt(0, 0, 0).unwrap().and_utc()));

    // Completeness: POT has everything, LID lacks images and description, SAW nearly everything.
    let overview = analytics.take_catalog_snapshot().await.unwrap();
    assert_eq!(
        (overview.products, overview.with_gtin, overview.with_images, overview.in_stock, overview.complete),
        (3, 2, 1, 2, 1),
        "{overview:?}"
    );
    let mut by_category: Vec<(Option<String>, i64, i64, f64)> =
        overview.categories.iter().map(|c| (c.name.clone(), c.products, c.complete, c.mean_score)).collect();
    by_category.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        by_category,
        [(None, 1, 0, 0.0), (Some("Kitchen".into()), 1, 0, 67.0), (Some("Pots".into()), 1, 1, 100.0)]
    );
    assert_eq!(analytics.overview().await.unwrap(), overview, "the dashboard reads the latest snapshot");

    let defaults = CompletenessRules::default();
    let incomplete = analytics.incomplete_products(&defaults, None, None, Some(1)).await.unwrap();
    assert_eq!(incomplete.items.len(), 1);
    let rest =
        analytics.incomplete_products(&defaults, None, incomplete.next_cursor.as_deref(), Some(1)).await.unwrap();
    assert_eq!(rest.next_cursor, None);
    let mut listed: Vec<(Option<String>, u8, Vec<String>)> =
        incomplete.items.iter().chain(&rest.items).map(|c| (c.title.clone(), c.score, c.missing.clone())).collect();
    listed.sort();
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        listed,
        [
            (Some("Lid".into()), 67, names(&["images", "description"])),
            (Some("Saw".into()), 0, names(&["gtin", "brand", "category", "price", "images", "description"])),
        ]
    );
    // The shop's own rules want an ASIN, which none has.
    let channel = analytics.rules_of_channel(Some(&platform.id.to_string())).await.unwrap();
    assert_eq!(channel, asin_only);
    let for_shop = analytics.incomplete_products(&channel, None, None, None).await.unwrap();
    assert_eq!(for_shop.items.len(), 3);
    assert!(for_shop.items.iter().all(|c| c.score == 0 && c.missing == ["asin"]), "{for_shop:?}");
    // One product is scored live: a description added since the snapshot counts at once.
    let patch = ProductPatch { description: Some(Some("x".repeat(60))), ..Default::default() };
    products.patch(lid.id, patch).await.unwrap();
    let live = analytics.completeness(lid.id, &defaults).await.unwrap();
    assert_eq!((live.score, live.missing.clone(), live.title.as_deref()), (83, names(&["images"]), Some("Lid")));
    sdk.close().await;
}

/// With the analytics database down, recording costs the caller nothing: searches, price writes and views go on,
/// their events are dropped and counted.
async fn events_are_dropped_and_counted_while_analytics_is_down(backend: Backend) {
    let Some(mut env) = TestDatabases::named(backend, "analytics_down").await else { return };
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    env.config_mut().database.analytics.url = Some(format!("postgres://pm@127.0.0.1:{port}/pm_analytics"));
    env.config_mut().database.analytics.acquire_timeout_secs = 1;
    let sdk = env.sdk().await;
    let events = sdk.analytics_events();
    let started = std::time::Instant::now();
    for _ in 0..1000 {
        events.record(AnalyticsEvent::now(EventKind::Search(SearchEvent {
            query: "pot".into(),
            filters: None,
            result_count: 0,
            latency_ms: 1.0,
            user_id: None,
        })));
    }
    assert!(started.elapsed().as_millis() < 500, "recording waited: {:?}", started.elapsed());
    let page = sdk.products().search("pot", &ProductQuery::default()).await.unwrap();
    assert!(page.items.is_empty());
    events.flush().await;
    // 1,000 + the search; the SDK's minute sampler may add its own by then.
    assert!(events.dropped() >= 1001, "every event counted as dropped: {}", events.dropped());
    // The dashboards say the database is unavailable, naming it.
    let error = sdk.analytics().searches(None, None).await.unwrap_err();
    assert_eq!(error.kind(), productsmanager_core::ErrorKind::Unavailable, "{error}");
    assert!(error.to_string().contains("analytics"), "{error}");
    sdk.close().await;
}

both_backends!(
    rollups_turn_known_events_into_known_daily_figures,
    events_are_dropped_and_counted_while_analytics_is_down
);
