//! Listing products: filters, sorting, keyset pages — on both backends.

use std::collections::HashSet;

use productsmanager_core::catalog::{
    Money, NewBrand, NewOffer, NewPrice, NewProduct, NewStockLevel, NewSupplier, PriceType, ProductQuery, ProductSort,
    ProductStatus,
};
use productsmanager_core::db::Backend;
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, both_backends};
use uuid::Uuid;

async fn listing_filters_sorts_and_pages(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "listing_filters_sorts_and_pages").await else { return };
    let sdk = env.sdk().await;
    let acme = sdk.brands().create(NewBrand { name: "Acme".into(), ..Default::default() }).await.unwrap();
    let supplier =
        sdk.suppliers().create(NewSupplier { code: "S".into(), name: "S".into(), ..Default::default() }).await.unwrap();

    // 23 products: every third Acme, every fourth active; prices 100, 200, …; stock or offers on some.
    let mut ids = Vec::new();
    for i in 0..23_i64 {
        let product = sdk
            .products()
            .create(NewProduct {
                sku: Some(format!("SKU-{i:02}").parse().unwrap()),
                title: format!("Item {:02}", 22 - i),
                brand_id: (i % 3 == 0).then_some(acme.id),
                status: Some(if i % 4 == 0 { ProductStatus::Active } else { ProductStatus::Draft }),
                ..Default::default()
            })
            .await
            .unwrap();
        sdk.prices()
            .set(NewPrice {
                product_id: product.id,
                price_type: PriceType::Retail,
                amount: Money::new((i + 1) * 100, "EUR".parse().unwrap()),
                valid_from: None,
                valid_to: None,
            })
            .await
            .unwrap();
        if i % 5 == 0 {
            sdk.stock()
                .set(NewStockLevel { product_id: product.id, location: None, quantity: 3, reserved: None })
                .await
                .unwrap();
        }
        if i % 7 == 0 {
            sdk.offers()
                .record(NewOffer {
                    product_id: product.id,
                    supplier_id: supplier.id,
                    supplier_sku: format!("S-{i}"),
                    cost: None,
                    stock: Some(if i == 0 { 0 } else { 9 }),
                    lead_time_days: None,
                    is_available: None,
                    last_seen_at: None,
                })
                .await
                .unwrap();
        }
        ids.push(product.id);
    }

    // Keyset pages of 5 cover everything once, in order.
    let mut seen = Vec::new();
    let mut query = ProductQuery { limit: Some(5), ..Default::default() };
    loop {
        let page = sdk.products().list(&query).await.unwrap();
        assert!(page.items.len() <= 5);
        seen.extend(page.items.iter().map(|p| p.id));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, ids, "ascending by update time, the order of creation here");

    let by_title = ProductQuery { sort: ProductSort::Title, limit: Some(7), ..Default::default() };
    let first = sdk.products().list(&by_title).await.unwrap();
    let titles: Vec<&str> = first.items.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, ["Item 00", "Item 01", "Item 02", "Item 03", "Item 04", "Item 05", "Item 06"]);
    let second =
        sdk.products().list(&ProductQuery { cursor: first.next_cursor.clone(), ..by_title.clone() }).await.unwrap();
    assert_eq!(second.items[0].title, "Item 07");
    let newest =
        sdk.products().list(&ProductQuery { descending: true, limit: Some(1), ..Default::default() }).await.unwrap();
    assert_eq!(newest.items[0].id, *ids.last().unwrap());

    let count = |query: ProductQuery| {
        let products = sdk.products();
        async move {
            let page = products.list(&ProductQuery { limit: Some(500), ..query }).await.unwrap();
            page.items.iter().map(|p| p.id).collect::<HashSet<Uuid>>()
        }
    };
    let expect = |pick: &dyn Fn(i64) -> bool| {
        ids.iter().enumerate().filter(|(i, _)| pick(*i as i64)).map(|(_, id)| *id).collect::<HashSet<_>>()
    };
    assert_eq!(count(ProductQuery { brand_id: Some(acme.id), ..Default::default() }).await, expect(&|i| i % 3 == 0));
    assert_eq!(
        count(ProductQuery { status: Some(ProductStatus::Active), ..Default::default() }).await,
        expect(&|i| i % 4 == 0)
    );
    assert_eq!(
        count(ProductQuery { supplier_id: Some(supplier.id), ..Default::default() }).await,
        expect(&|i| i % 7 == 0)
    );
    // In stock: own stock (every fifth) or an offer with stock (every seventh but the first).
    let stocked = |i: i64| i % 5 == 0 || (i % 7 == 0 && i != 0);
    assert_eq!(count(ProductQuery { in_stock: Some(true), ..Default::default() }).await, expect(&stocked));
    assert_eq!(count(ProductQuery { in_stock: Some(false), ..Default::default() }).await, expect(&|i| !stocked(i)));
    let eur = Some("EUR".parse().unwrap());
    let ranged = ProductQuery { price_min: Some(500), price_max: Some(900), currency: eur, ..Default::default() };
    assert_eq!(count(ranged).await, expect(&|i| (4..=8).contains(&i)));
    let combined = ProductQuery { brand_id: Some(acme.id), price_max: Some(1000), currency: eur, ..Default::default() };
    assert_eq!(count(combined).await, expect(&|i| i % 3 == 0 && i <= 9));
    let later = sdk.products().get(ids[20]).await.unwrap().updated_at;
    assert_eq!(count(ProductQuery { updated_since: Some(later), ..Default::default() }).await, expect(&|i| i >= 20));

    // Every page carries prices, stock and the best offer.
    let page = sdk.products().list(&ProductQuery { limit: Some(500), ..Default::default() }).await.unwrap();
    assert!(page.items.iter().all(|p| p.prices.len() == 1));
    assert_eq!(page.items[5].stock.available, 3);
    assert_eq!(page.items[7].best_offer.as_ref().unwrap().supplier_sku, "S-7");

    for (query, field) in [
        (ProductQuery { limit: Some(0), ..Default::default() }, "limit"),
        (ProductQuery { limit: Some(501), ..Default::default() }, "limit"),
        (ProductQuery { price_min: Some(1), ..Default::default() }, "currency"),
        (ProductQuery { cursor: Some("garbage".into()), ..Default::default() }, "cursor"),
        (ProductQuery { cursor: first.next_cursor.clone(), ..Default::default() }, "cursor"),
    ] {
        let error = sdk.products().list(&query).await.unwrap_err();
        assert_eq!((error.kind(), error.field()), (ErrorKind::Invalid, Some(field)));
    }
    sdk.close().await;
}

both_backends!(listing_filters_sorts_and_pages);
