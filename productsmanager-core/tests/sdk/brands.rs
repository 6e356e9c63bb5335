//! Brands on both backends.

use productsmanager_core::catalog::{BrandPatch, CatalogError, NewBrand};
use productsmanager_core::db::Backend;
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{Error, ErrorKind, both_backends};

fn new_brand(name: &str) -> NewBrand {
    NewBrand { name: name.to_string(), ..Default::default() }
}

async fn brand_story(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "brand_story").await else { return };
    let sdk = env.sdk().await;
    let brands = sdk.brands();

    let acme = brands
        .create(NewBrand {
            name: "  Acme Tools ".into(),
            website_url: Some("https://acme.example".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((acme.name.as_str(), acme.slug.as_str()), ("Acme Tools", "acme-tools"));
    assert_eq!(acme.website_url.as_deref(), Some("https://acme.example/"));
    assert_eq!(brands.get(acme.id).await.unwrap(), acme);
    assert_eq!(brands.find("acme-tools").await.unwrap(), acme);
    assert_eq!(brands.find(&acme.id.to_string()).await.unwrap(), acme);

    let zeta = brands.create(new_brand("Zeta")).await.unwrap();
    let beta = brands.create(new_brand("beta")).await.unwrap();
    let names: Vec<String> = brands.list().await.unwrap().iter().map(|b| b.name.clone()).collect();
    assert_eq!(names, ["Acme Tools", "beta", "Zeta"]);

    // A rename keeps the slug; the list and the cached brand follow at once.
    let renamed = brands
        .patch(
            zeta.id,
            BrandPatch { name: Some("Zeta Works".into()), description: Some(Some("d".into())), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!((renamed.name.as_str(), renamed.slug.as_str()), ("Zeta Works", "zeta"));
    assert_eq!(brands.get(zeta.id).await.unwrap(), renamed);
    assert!(brands.list().await.unwrap().iter().any(|b| b.name == "Zeta Works"));
    let cleared = brands.patch(zeta.id, BrandPatch { description: Some(None), ..Default::default() }).await.unwrap();
    assert_eq!(cleared.description, None);
    assert_eq!(cleared.created_at, zeta.created_at);

    let replaced = brands.update(beta.id, new_brand("Beta Brand")).await.unwrap();
    assert_eq!(replaced.slug, "beta-brand");

    // Duplicates are conflicts naming the field; bad values are invalid naming the field.
    let duplicate =
        brands.create(NewBrand { name: "Other".into(), slug: Some("acme-tools".into()), ..Default::default() });
    match duplicate.await.unwrap_err() {
        Error::Catalog(CatalogError::Duplicate { field, .. }) => assert_eq!(field, "slug"),
        other => panic!("expected a duplicate slug, got {other:?}"),
    }
    let same_name =
        brands.create(NewBrand { name: "ACME TOOLS".into(), slug: Some("acme-2".into()), ..Default::default() });
    let error = same_name.await.unwrap_err();
    assert_eq!((error.kind(), error.field()), (ErrorKind::Conflict, Some("name")));
    let bad_url = brands.create(NewBrand {
        name: "X".into(),
        logo_url: Some("javascript:alert(1)".into()),
        ..Default::default()
    });
    let error = bad_url.await.unwrap_err();
    assert_eq!((error.kind(), error.field()), (ErrorKind::Invalid, Some("logo_url")));
    let error = brands.create(new_brand("   ")).await.unwrap_err();
    assert_eq!((error.kind(), error.field()), (ErrorKind::Invalid, Some("name")));

    brands.delete(acme.id).await.unwrap();
    assert_eq!(brands.get(acme.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(brands.delete(acme.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(brands.find("acme-tools").await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(brands.list().await.unwrap().len(), 2);
    sdk.close().await;
}

both_backends!(brand_story);
