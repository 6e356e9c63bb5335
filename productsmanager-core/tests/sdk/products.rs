//! Products on both backends.

use std::time::{Duration, Instant};

use productsmanager_core::catalog::{
    Attribute, AttributeValue, CatalogError, NewBrand, NewProduct, ProductPatch, ProductStatus,
};
use productsmanager_core::db::Backend;
use productsmanager_core::input::parse_json;
use productsmanager_core::testing::{TestDatabases, redis_url};
use productsmanager_core::{Error, ErrorKind, both_backends};
use uuid::Uuid;

fn product(gtin: Option<&str>, sku: Option<&str>, title: &str) -> NewProduct {
    NewProduct {
        gtin: gtin.map(|g| g.parse().unwrap()),
        sku: sku.map(|s| s.parse().unwrap()),
        title: title.to_string(),
        ..Default::default()
    }
}

fn attributes() -> Vec<Attribute> {
    vec![
        Attribute { name: "colour".into(), value: AttributeValue::Text { value: "red".into() } },
        Attribute { name: "weight".into(), value: AttributeValue::Number { value: 1.25, unit: Some("kg".into()) } },
        Attribute { name: "cordless".into(), value: AttributeValue::Boolean { value: true } },
        Attribute { name: "sizes".into(), value: AttributeValue::List { values: vec!["S".into(), "M".into()] } },
    ]
}

async fn product_story(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "product_story").await else { return };
    let sdk = env.sdk().await;
    let products = sdk.products();
    let brand = sdk.brands().create(NewBrand { name: "Acme".into(), ..Default::default() }).await.unwrap();

    let drill = products
        .create(NewProduct {
            asin: Some("B08N5WRWNW".parse().unwrap()),
            brand_id: Some(brand.id),
            attributes: attributes(),
            description: Some("18 V".into()),
            ..product(Some("036000291452"), Some("DRILL-1"), "Cordless drill")
        })
        .await
        .unwrap();
    assert_eq!(drill.gtin.unwrap().to_string(), "036000291452");
    assert_eq!((drill.status, drill.version), (ProductStatus::Draft, 1));
    assert_eq!(drill.attributes, attributes());
    let fetched = products.get(drill.id).await.unwrap();
    assert_eq!(fetched, drill);
    for key in ["036000291452", "00036000291452", "DRILL-1", "B08N5WRWNW", &drill.id.to_string()] {
        assert_eq!(products.find(key).await.unwrap().id, drill.id, "{key}");
    }
    assert_eq!(products.find("nothing-like-it").await.unwrap_err().kind(), ErrorKind::NotFound);

    // Duplicates and bad input name the field.
    let error = products.create(product(Some("0036000291452"), None, "Same GTIN")).await.unwrap_err();
    assert_eq!((error.kind(), error.field()), (ErrorKind::Conflict, Some("gtin")));
    let error = products.create(product(None, Some("DRILL-1"), "Same SKU")).await.unwrap_err();
    assert_eq!((error.kind(), error.field()), (ErrorKind::Conflict, Some("sku")));
    let error = products.create(product(None, None, "Nameless")).await.unwrap_err();
    assert_eq!((error.kind(), error.field()), (ErrorKind::Invalid, Some("gtin")));
    let error = products
        .create(NewProduct { brand_id: Some(Uuid::now_v7()), ..product(None, Some("X1"), "Unknown brand") })
        .await
        .unwrap_err();
    assert_eq!((error.kind(), error.field()), (ErrorKind::Invalid, Some("brand_id")));
    let mut twice = attributes();
    twice.push(Attribute { name: "Colour".into(), value: AttributeValue::Text { value: "blue".into() } });
    let error = products.create(NewProduct { attributes: twice, ..product(None, Some("X2"), "t") }).await.unwrap_err();
    assert_eq!(error.field(), Some("attributes[4].name"));
    let error = parse_json::<NewProduct>(r#"{"gtin": "4006381333932", "title": "Bad check digit"}"#).unwrap_err();
    assert_eq!(error.field, "gtin");
    assert!(error.reason.contains("check digit"), "{error}");

    // Optimistic locking: a patch at the read version moves it on; a stale one is refused.
    let renamed = products
        .patch(
            drill.id,
            ProductPatch { title: Some("Cordless drill 18 V".into()), version: Some(1), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!((renamed.version, renamed.title.as_str()), (2, "Cordless drill 18 V"));
    assert_eq!(renamed.attributes, attributes(), "a patch without attributes keeps them");
    let stale = products
        .patch(drill.id, ProductPatch { title: Some("Lost update".into()), version: Some(1), ..Default::default() });
    match stale.await.unwrap_err() {
        Error::Catalog(CatalogError::VersionConflict { expected: 1, actual: 2, .. }) => {}
        other => panic!("expected a version conflict, got {other:?}"),
    }
    let active = products
        .patch(
            drill.id,
            ProductPatch {
                status: Some(ProductStatus::Active),
                attributes: Some(vec![Attribute {
                    name: "voltage".into(),
                    value: AttributeValue::Number { value: 18.0, unit: Some("V".into()) },
                }]),
                asin: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((active.status, active.version, active.asin.clone()), (ProductStatus::Active, 3, None));
    assert_eq!(products.get(drill.id).await.unwrap(), active);
    assert_eq!(products.find("B08N5WRWNW").await.unwrap_err().kind(), ErrorKind::NotFound);
    let replaced = products.update(drill.id, product(Some("036000291452"), None, "Drill")).await.unwrap();
    assert_eq!((replaced.sku.clone(), replaced.attributes.len(), replaced.version), (None, 0, 4));

    // Bulk read: order kept, unknown ids left out; two queries however many.
    let pen = products.create(product(Some("4006381333931"), Some("PEN"), "Pen")).await.unwrap();
    let many = products.get_many(&[pen.id, Uuid::now_v7(), drill.id]).await.unwrap();
    assert_eq!(many.iter().map(|p| p.id).collect::<Vec<_>>(), vec![pen.id, drill.id]);

    // Soft delete frees the identifiers; purge removes for good.
    products.delete(pen.id).await.unwrap();
    assert_eq!(products.get(pen.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(products.find("4006381333931").await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(products.delete(pen.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert!(products.get_many(&[pen.id]).await.unwrap().is_empty());
    let again = products.create(product(Some("4006381333931"), Some("PEN"), "Pen again")).await.unwrap();
    assert_ne!(again.id, pen.id);
    assert_eq!(products.purge(again.id).await.unwrap_err().kind(), ErrorKind::NotFound, "live products are not purged");
    products.purge(pen.id).await.unwrap();
    assert_eq!(products.purge(pen.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    products.delete(again.id).await.unwrap();
    assert_eq!(products.purge_deleted_before(chrono::Utc::now() + chrono::Duration::seconds(1)).await.unwrap(), 1);
    sdk.close().await;
}

/// Two SDK instances on the same databases and Redis: a write through one is read through the other at once.
async fn update_through_one_instance_is_seen_by_another(backend: Backend) {
    let Some(redis) = redis_url("update_through_one_instance_is_seen_by_another") else { return };
    let Some(mut env) = TestDatabases::named(backend, "update_through_one_instance_is_seen_by_another").await else {
        return;
    };
    env.config_mut().cache.redis_url = Some(redis);
    let one = env.sdk().await;
    let other = env.sdk().await;
    let created = one.products().create(product(None, Some("SHARED-1"), "Before")).await.unwrap();
    // The other instance caches it (L1 and L2).
    assert_eq!(other.products().get(created.id).await.unwrap().title, "Before");
    assert_eq!(other.products().get(created.id).await.unwrap().title, "Before");
    tokio::time::sleep(Duration::from_millis(300)).await; // subscriptions are up

    one.products().patch(created.id, ProductPatch { title: Some("After".into()), ..Default::default() }).await.unwrap();
    let started = Instant::now();
    loop {
        let seen = other.products().get(created.id).await.unwrap();
        if seen.title == "After" {
            break;
        }
        assert!(started.elapsed() < Duration::from_millis(200), "still {:?} after 200 ms", seen.title);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Cached search results follow writes made through another instance, too.
    let titles = |sdk: productsmanager_core::Sdk| async move {
        let page = sdk.products().search("shared", &Default::default()).await.unwrap();
        page.items.into_iter().map(|p| p.title).collect::<Vec<_>>()
    };
    assert_eq!(titles(other.clone()).await, ["After"]);
    assert_eq!(titles(other.clone()).await, ["After"]); // now served from the cache
    one.products().create(product(None, Some("SHARED-2"), "Second")).await.unwrap();
    let started = Instant::now();
    while titles(other.clone()).await.len() != 2 {
        assert!(started.elapsed() < Duration::from_millis(200), "cached search still without the new product");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(other.cache().stats().l1_hits > 0);
    one.close().await;
    other.close().await;
}

both_backends!(product_story, update_through_one_instance_is_seen_by_another);
