//! No N+1: listing a page of products with their prices, stock and best offer costs the same number of SQL
//! statements whatever the page size.
//!
//! The count is of the statements sqlx actually sends (its `sqlx::query` events), through a process-wide
//! subscriber; that is why this test has a binary of its own: no other test's queries may be counted with it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use productsmanager_core::catalog::{
    Money, NewOffer, NewPrice, NewProduct, NewStockLevel, NewSupplier, PriceType, ProductQuery,
};
use productsmanager_core::db::Backend;
use productsmanager_core::testing::TestDatabases;
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, Registry};

static STATEMENTS: AtomicUsize = AtomicUsize::new(0);

struct CountStatements;

/// The text of a `sqlx::query` event's statement.
#[derive(Default)]
struct Statement(String);

impl tracing::field::Visit for Statement {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "db.statement" || field.name() == "summary" {
            self.0.push_str(&format!("{value:?} "));
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "db.statement" || field.name() == "summary" {
            self.0.push_str(value);
            self.0.push(' ');
        }
    }
}

impl<S: Subscriber> Layer<S> for CountStatements {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        // Only reads of the catalog's product tables: the SDK's background tasks (the analytics writer, the job
        // workers' claims) run their own statements meanwhile, and a busy machine can put one inside the window.
        let mut statement = Statement::default();
        event.record(&mut statement);
        let text = statement.0.to_lowercase();
        let reads_products =
            ["from products", "from product_", "from supplier_products"].iter().any(|t| text.contains(t));
        if text.trim_start().trim_start_matches('"').starts_with("select") && reads_products {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn statements_per_page(backend: Backend) -> Option<Vec<(u32, usize)>> {
    let env = TestDatabases::named(backend, "query count").await?;
    let sdk = env.sdk().await;
    let supplier =
        sdk.suppliers().create(NewSupplier { code: "S".into(), name: "S".into(), ..Default::default() }).await.unwrap();
    for i in 0..60 {
        let product = sdk
            .products()
            .create(NewProduct {
                sku: Some(format!("P{i}").parse().unwrap()),
                title: format!("P{i}"),
                ..Default::default()
            })
            .await
            .unwrap();
        let price = NewPrice {
            product_id: product.id,
            price_type: PriceType::Retail,
            amount: Money::new(100 + i, "EUR".parse().unwrap()),
            valid_from: None,
            valid_to: None,
        };
        sdk.prices().set(price).await.unwrap();
        sdk.stock()
            .set(NewStockLevel { product_id: product.id, location: None, quantity: i, reserved: None })
            .await
            .unwrap();
        let offer = NewOffer {
            product_id: product.id,
            supplier_id: supplier.id,
            supplier_sku: format!("S{i}"),
            cost: Some(Money::new(50, "EUR".parse().unwrap())),
            stock: Some(1),
            lead_time_days: Some(2),
            is_available: None,
            last_seen_at: None,
        };
        sdk.offers().record(offer).await.unwrap();
    }
    let mut counts = Vec::new();
    for size in [1, 10, 50] {
        let before = STATEMENTS.load(Ordering::SeqCst);
        let page = sdk.products().list(&ProductQuery { limit: Some(size), ..Default::default() }).await.unwrap();
        counts.push((size, STATEMENTS.load(Ordering::SeqCst) - before));
        assert_eq!(page.items.len(), size as usize);
        assert!(page.items.iter().all(|p| p.best_offer.is_some() && p.prices.len() == 1));
    }
    sdk.close().await;
    Some(counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_costs_a_fixed_number_of_queries() {
    let subscriber = Registry::default().with(
        CountStatements
            .with_filter(tracing_subscriber::filter::Targets::new().with_target("sqlx::query", tracing::Level::TRACE)),
    );
    tracing::subscriber::set_global_default(subscriber).unwrap();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(counts) = statements_per_page(backend).await else { continue };
        println!("{backend}: statements per page size {counts:?}");
        // The page, then attributes, prices, offers and stock: five, for 1 product or 50.
        assert!(counts.iter().all(|(_, n)| *n == 5), "{backend}: {counts:?}");
    }
}
