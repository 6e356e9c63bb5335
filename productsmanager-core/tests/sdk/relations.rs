//! Variants, bundles and SEO metadata — on both backends.

use std::collections::BTreeMap;

use productsmanager_core::catalog::{NewBundleItem, NewProduct, NewSeo, NewVariant};
use productsmanager_core::db::Backend;
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, Sdk, both_backends};
use uuid::Uuid;

async fn product(sdk: &Sdk, sku: &str) -> Uuid {
    sdk.products()
        .create(NewProduct { sku: Some(sku.parse().unwrap()), title: format!("Product {sku}"), ..Default::default() })
        .await
        .unwrap()
        .id
}

fn options(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

async fn variants_bundles_and_seo(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "variants_bundles_and_seo").await else { return };
    let sdk = env.sdk().await;
    let (shirt, small, large, other) = (
        product(&sdk, "SHIRT").await,
        product(&sdk, "SHIRT-S").await,
        product(&sdk, "SHIRT-L").await,
        product(&sdk, "X").await,
    );
    let variant = |child, pairs: &[(&str, &str)]| NewVariant {
        parent_product_id: shirt,
        product_id: child,
        options: options(pairs),
        position: None,
    };

    sdk.variants().set(variant(small, &[("Size", "S"), ("colour", "red")])).await.unwrap();
    sdk.variants().set(variant(large, &[("size", "L"), ("colour", "red")])).await.unwrap();
    let listed = sdk.variants().of(shirt).await.unwrap();
    assert_eq!(listed.iter().map(|v| v.product_id).collect::<Vec<_>>(), vec![small, large]);
    assert_eq!(listed[0].options.0, options(&[("colour", "red"), ("size", "S")]), "axes are lower-cased");
    assert_eq!(sdk.variants().parent_of(large).await.unwrap(), Some(shirt));

    let cases = [
        (variant(other, &[("size", "S"), ("colour", "red")]), ErrorKind::Conflict, "options"),
        (variant(other, &[("size", "M")]), ErrorKind::Invalid, "options"),
        (variant(shirt, &[("size", "M"), ("colour", "red")]), ErrorKind::Invalid, "product_id"),
        (
            NewVariant { parent_product_id: small, ..variant(other, &[("size", "M")]) },
            ErrorKind::Invalid,
            "parent_product_id",
        ),
        (variant(Uuid::now_v7(), &[("size", "M"), ("colour", "red")]), ErrorKind::Invalid, "product_id"),
    ];
    for (input, kind, field) in cases {
        let error = sdk.variants().set(input).await.unwrap_err();
        assert_eq!((error.kind(), error.field()), (kind, Some(field)), "{error}");
    }
    // Options of an existing variant can change.
    sdk.variants().set(variant(large, &[("size", "XL"), ("colour", "red")])).await.unwrap();
    sdk.variants().remove(large).await.unwrap();
    assert_eq!(sdk.variants().of(shirt).await.unwrap().len(), 1);
    assert_eq!(sdk.variants().remove(large).await.unwrap_err().kind(), ErrorKind::NotFound);

    // Bundles.
    let kit = product(&sdk, "KIT").await;
    let item = |product_id, quantity| NewBundleItem { product_id, quantity };
    let bundle = sdk.bundles().set(kit, vec![item(small, Some(2)), item(other, None)]).await.unwrap();
    assert_eq!(
        bundle.items.iter().map(|i| (i.product_id, i.quantity)).collect::<Vec<_>>(),
        vec![(small, 2), (other, 1)]
    );
    assert_eq!(sdk.bundles().of(kit).await.unwrap().unwrap().items, bundle.items);
    assert_eq!(sdk.bundles().of(other).await.unwrap(), None);
    let replaced = sdk.bundles().set(kit, vec![item(other, Some(3))]).await.unwrap();
    assert_eq!(sdk.bundles().of(kit).await.unwrap().unwrap().items, replaced.items);
    for (items, field) in [
        (vec![item(kit, None)], "items[0].product_id"),
        (vec![item(other, None), item(other, None)], "items[1].product_id"),
        (vec![item(other, Some(0))], "items[0].quantity"),
        (vec![], "items"),
    ] {
        let error = sdk.bundles().set(kit, items).await.unwrap_err();
        assert_eq!((error.kind(), error.field()), (ErrorKind::Invalid, Some(field)), "{error}");
    }
    let super_kit = product(&sdk, "SUPER").await;
    let error = sdk.bundles().set(super_kit, vec![item(kit, None)]).await.unwrap_err();
    assert_eq!(error.field(), Some("items[0].product_id"));
    // A component cannot be purged while bundled.
    sdk.products().delete(other).await.unwrap();
    assert_eq!(sdk.products().purge(other).await.unwrap_err().kind(), ErrorKind::Conflict);
    sdk.bundles().remove(kit).await.unwrap();
    sdk.products().purge(other).await.unwrap();

    // SEO per locale; slugs unique per locale.
    let seo = sdk
        .seo()
        .set(NewSeo {
            product_id: shirt,
            locale: "en".into(),
            slug: None,
            meta_title: Some("Red Shirt".into()),
            meta_description: None,
        })
        .await
        .unwrap();
    assert_eq!(seo.slug, "red-shirt");
    sdk.seo()
        .set(NewSeo {
            product_id: shirt,
            locale: "de-DE".into(),
            slug: Some("rotes-hemd".into()),
            meta_title: None,
            meta_description: Some("Ein Hemd".into()),
        })
        .await
        .unwrap();
    let clash = NewSeo {
        product_id: small,
        locale: "en".into(),
        slug: Some("red-shirt".into()),
        meta_title: None,
        meta_description: None,
    };
    let error = sdk.seo().set(clash.clone()).await.unwrap_err();
    assert_eq!((error.kind(), error.field()), (ErrorKind::Conflict, Some("slug")));
    sdk.seo().set(NewSeo { locale: "fr".into(), ..clash }).await.unwrap();
    let error = sdk
        .seo()
        .set(NewSeo {
            product_id: small,
            locale: "en_US!".into(),
            slug: None,
            meta_title: None,
            meta_description: None,
        })
        .await
        .unwrap_err();
    assert_eq!(error.field(), Some("locale"));
    assert_eq!(
        sdk.seo().of(shirt).await.unwrap().iter().map(|s| s.locale.as_str()).collect::<Vec<_>>(),
        ["de-DE", "en"]
    );
    sdk.close().await;
}

both_backends!(variants_bundles_and_seo);
