//! Offers, prices and stock, and how they show on the product — on both backends.

use chrono::{Duration, Utc};
use productsmanager_core::catalog::{
    Money, NewOffer, NewPrice, NewProduct, NewStockLevel, NewSupplier, PriceType, StockTotal,
};
use productsmanager_core::db::Backend;
use productsmanager_core::input::parse_json;
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, Sdk, both_backends};
use uuid::Uuid;

fn eur(amount_minor: i64) -> Money {
    Money::new(amount_minor, "EUR".parse().unwrap())
}

async fn supplier(sdk: &Sdk, code: &str) -> Uuid {
    sdk.suppliers().create(NewSupplier { code: code.into(), name: code.into(), ..Default::default() }).await.unwrap().id
}

fn offer(product_id: Uuid, supplier_id: Uuid, sku: &str, cost: i64, stock: i64, lead: i32) -> NewOffer {
    NewOffer {
        product_id,
        supplier_id,
        supplier_sku: sku.into(),
        cost: Some(eur(cost)),
        stock: Some(stock),
        lead_time_days: Some(lead),
        is_available: None,
        last_seen_at: None,
    }
}

async fn offers_and_best_offer(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "offers_and_best_offer").await else { return };
    let sdk = env.sdk().await;
    let product = sdk
        .products()
        .create(NewProduct { sku: Some("DRILL".parse().unwrap()), title: "Drill".into(), ..Default::default() })
        .await
        .unwrap();
    let (a, b) = (supplier(&sdk, "A").await, supplier(&sdk, "B").await);
    assert_eq!(sdk.products().get(product.id).await.unwrap().best_offer, None);

    let from_a = sdk.offers().record(offer(product.id, a, "A-1", 1000, 5, 7)).await.unwrap();
    sdk.offers().record(offer(product.id, b, "B-1", 900, 0, 1)).await.unwrap();
    let best = sdk.products().get(product.id).await.unwrap().best_offer.unwrap();
    assert_eq!(best.id, from_a.id, "cheaper B is out of stock");

    // Recording the same supplier SKU again updates it; the cached product follows.
    let restocked = sdk.offers().record(offer(product.id, b, "B-1", 900, 3, 1)).await.unwrap();
    assert_eq!(sdk.offers().for_product(product.id).await.unwrap().len(), 2);
    let best = sdk.products().get(product.id).await.unwrap().best_offer.unwrap();
    assert_eq!((best.id, best.stock, best.cost), (restocked.id, Some(3), Some(eur(900))));

    let cases = [
        (offer(Uuid::now_v7(), a, "X", 1, 1, 1), "product_id"),
        (offer(product.id, Uuid::now_v7(), "X", 1, 1, 1), "supplier_id"),
        (offer(product.id, a, "X", -1, 1, 1), "cost.amount_minor"),
        (offer(product.id, a, "  ", 1, 1, 1), "supplier_sku"),
        (offer(product.id, a, "X", 1, -2, 1), "stock"),
    ];
    for (input, field) in cases {
        let error = sdk.offers().record(input).await.unwrap_err();
        assert_eq!((error.kind(), error.field()), (ErrorKind::Invalid, Some(field)), "{error}");
    }
    let error = sdk.suppliers().delete(a).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conflict, "{error}");

    sdk.offers().delete(restocked.id).await.unwrap();
    assert_eq!(sdk.products().get(product.id).await.unwrap().best_offer.unwrap().id, from_a.id);
    assert_eq!(sdk.offers().delete(restocked.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    sdk.close().await;
}

async fn prices_resolve_to_the_current_one(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "prices_resolve_to_the_current_one").await else { return };
    let sdk = env.sdk().await;
    let product = sdk
        .products()
        .create(NewProduct { sku: Some("PEN".parse().unwrap()), title: "Pen".into(), ..Default::default() })
        .await
        .unwrap();
    let price = |price_type, amount, from: Option<i64>, to: Option<i64>| NewPrice {
        product_id: product.id,
        price_type,
        amount: eur(amount),
        valid_from: from.map(|h| Utc::now() + Duration::hours(h)),
        valid_to: to.map(|h| Utc::now() + Duration::hours(h)),
    };
    sdk.prices().set(price(PriceType::Retail, 1999, None, None)).await.unwrap();
    sdk.prices().set(price(PriceType::Retail, 2499, None, None)).await.unwrap();
    assert_eq!(sdk.prices().for_product(product.id).await.unwrap().len(), 1, "the open-ended price was replaced");
    sdk.prices().set(price(PriceType::Sale, 1499, Some(-1), Some(24))).await.unwrap();
    sdk.prices().set(price(PriceType::Sale, 999, Some(48), Some(72))).await.unwrap(); // future
    sdk.prices().set(price(PriceType::Retail, 2199, Some(-2), Some(1))).await.unwrap();
    sdk.prices()
        .set(NewPrice { amount: Money::new(2900, "USD".parse().unwrap()), ..price(PriceType::Retail, 0, None, None) })
        .await
        .unwrap();

    let shown: Vec<(PriceType, String)> = sdk
        .products()
        .get(product.id)
        .await
        .unwrap()
        .prices
        .iter()
        .map(|p| (p.price_type, p.amount.to_string()))
        .collect();
    assert_eq!(
        shown,
        vec![
            (PriceType::Retail, "21.99 EUR".to_string()),
            (PriceType::Retail, "29.00 USD".to_string()),
            (PriceType::Sale, "14.99 EUR".to_string()),
        ]
    );
    let later = sdk.prices().current(product.id, Utc::now() + Duration::hours(50)).await.unwrap();
    let later: Vec<String> = later.iter().map(|p| format!("{} {}", p.price_type, p.amount)).collect();
    assert_eq!(later, ["retail 24.99 EUR", "retail 29.00 USD", "sale 9.99 EUR"]);

    let error = sdk.prices().set(price(PriceType::Retail, -1, None, None)).await.unwrap_err();
    assert_eq!((error.kind(), error.field()), (ErrorKind::Invalid, Some("amount.amount_minor")));
    let error = sdk.prices().set(price(PriceType::Sale, 1, Some(5), Some(1))).await.unwrap_err();
    assert_eq!(error.field(), Some("valid_to"));
    let json = format!(
        r#"{{"product_id": "{}", "price_type": "retail", "amount": {{"amount_minor": 1, "currency": "EUX"}}}}"#,
        product.id
    );
    assert_eq!(parse_json::<NewPrice>(&json).unwrap_err().field, "amount.currency");
    sdk.close().await;
}

async fn stock_sums_over_locations(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "stock_sums_over_locations").await else { return };
    let sdk = env.sdk().await;
    let product = sdk
        .products()
        .create(NewProduct { sku: Some("BOX".parse().unwrap()), title: "Box".into(), ..Default::default() })
        .await
        .unwrap();
    let level = |location: Option<&str>, quantity, reserved| NewStockLevel {
        product_id: product.id,
        location: location.map(str::to_string),
        quantity,
        reserved,
    };
    sdk.stock().set(level(None, 4, None)).await.unwrap();
    sdk.stock().set(level(None, 10, Some(2))).await.unwrap();
    sdk.stock().set(level(Some("warehouse-b"), 5, None)).await.unwrap();
    assert_eq!(sdk.stock().levels(product.id).await.unwrap().len(), 2);
    assert_eq!(
        sdk.products().get(product.id).await.unwrap().stock,
        StockTotal { quantity: 15, reserved: 2, available: 13 }
    );
    let error = sdk.stock().set(level(None, 1, Some(-1))).await.unwrap_err();
    assert_eq!(error.field(), Some("reserved"));
    sdk.close().await;
}

both_backends!(offers_and_best_offer, prices_resolve_to_the_current_one, stock_sums_over_locations);
