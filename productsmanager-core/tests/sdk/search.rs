//! Full-text product search — FTS5 on SQLite, tsvector on PostgreSQL — with the listing's filters.

use productsmanager_core::catalog::{
    BrandPatch, NewBrand, NewOffer, NewProduct, NewSupplier, ProductPatch, ProductQuery,
};
use productsmanager_core::db::Backend;
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, Sdk, both_backends};

async fn titles(sdk: &Sdk, text: &str, query: ProductQuery) -> Vec<String> {
    let page = sdk.products().search(text, &query).await.unwrap();
    page.items.into_iter().map(|p| p.title).collect()
}

async fn product_search(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "product_search").await else { return };
    let sdk = env.sdk().await;
    let bosch = sdk.brands().create(NewBrand { name: "Bosch".into(), ..Default::default() }).await.unwrap();
    let create = |gtin: Option<&str>, sku: &str, title: &str, description: &str, brand| {
        let products = sdk.products();
        let input = NewProduct {
            gtin: gtin.map(|g| g.parse().unwrap()),
            sku: Some(sku.parse().unwrap()),
            title: title.into(),
            description: Some(description.into()),
            brand_id: brand,
            ..Default::default()
        };
        async move { products.create(input).await.unwrap() }
    };
    let drill =
        create(Some("4006381333931"), "BO-DRILL-18", "Cordless drill 18 V", "Two batteries", Some(bosch.id)).await;
    let driver = create(None, "MK-IMPACT", "Impact driver", "Cordless, brushless motor", None).await;
    let screwdriver = create(None, "SC-1", "Screwdriver set", "Six pieces, drill bits included", None).await;
    let supplier =
        sdk.suppliers().create(NewSupplier { code: "S".into(), name: "S".into(), ..Default::default() }).await.unwrap();
    sdk.offers()
        .record(NewOffer {
            product_id: driver.id,
            supplier_id: supplier.id,
            supplier_sku: "SUP-777".into(),
            cost: None,
            stock: None,
            lead_time_days: None,
            is_available: None,
            last_seen_at: None,
        })
        .await
        .unwrap();
    let all = ProductQuery::default;

    // Words match anywhere (title before description), as prefixes, all of them.
    assert_eq!(titles(&sdk, "cordless", all()).await, ["Cordless drill 18 V", "Impact driver"]);
    let mut prefix = titles(&sdk, "dri", all()).await;
    prefix.sort();
    // "dri" starts "drill" and "driver"; "Screwdriver" has no word starting with it, but its description's "drill" does.
    assert_eq!(prefix, ["Cordless drill 18 V", "Impact driver", "Screwdriver set"]);
    assert_eq!(titles(&sdk, "bosch drill", all()).await, ["Cordless drill 18 V"]);
    // Only the last word is a prefix: the ones before it are finished words.
    assert_eq!(titles(&sdk, "impact dri", all()).await, ["Impact driver"]);
    assert!(titles(&sdk, "dri impact", all()).await.is_empty());
    assert_eq!(titles(&sdk, "drill bits", all()).await, ["Screwdriver set"]);
    assert!(titles(&sdk, "hammer", all()).await.is_empty());

    // Identifiers: GTIN in any length, SKU, supplier SKU — exact matches first.
    assert_eq!(titles(&sdk, "4006381333931", all()).await, ["Cordless drill 18 V"]);
    assert_eq!(titles(&sdk, "04006381333931", all()).await, ["Cordless drill 18 V"]);
    assert_eq!(titles(&sdk, "MK-IMPACT", all()).await, ["Impact driver"]);
    assert_eq!(titles(&sdk, "SUP-777", all()).await, ["Impact driver"]);

    // The listing's filters apply.
    let bosch_only = ProductQuery { brand_id: Some(bosch.id), ..Default::default() };
    assert_eq!(titles(&sdk, "cordless", bosch_only).await, ["Cordless drill 18 V"]);
    let by_supplier = ProductQuery { supplier_id: Some(supplier.id), ..Default::default() };
    assert_eq!(titles(&sdk, "cordless", by_supplier).await, ["Impact driver"]);

    // Writes are searchable at once: a new title, a renamed brand, a deleted product.
    sdk.products()
        .patch(screwdriver.id, ProductPatch { title: Some("Precision screwdriver set".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(titles(&sdk, "precision", all()).await, ["Precision screwdriver set"]);
    sdk.brands()
        .patch(bosch.id, BrandPatch { name: Some("Bosch Professional".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(titles(&sdk, "professional", all()).await, ["Cordless drill 18 V"]);
    sdk.products().delete(drill.id).await.unwrap();
    assert_eq!(titles(&sdk, "cordless", all()).await, ["Impact driver"]);

    // Pages by offset.
    let first = sdk.products().search("s", &ProductQuery { limit: Some(1), ..Default::default() }).await;
    let first = first.unwrap();
    assert_eq!(first.items.len(), 1);
    assert_eq!(first.next_cursor.as_deref(), Some("1"));
    let error = sdk.products().search("  -- ", &all()).await.unwrap_err();
    assert_eq!((error.kind(), error.field()), (ErrorKind::Invalid, Some("q")));
    assert_eq!(sdk.products().reindex().await.unwrap(), 2);
    assert_eq!(titles(&sdk, "cordless", all()).await, ["Impact driver"]);
    sdk.close().await;
}

both_backends!(product_search);
