//! Suppliers on both backends.

use productsmanager_core::catalog::{NewSupplier, SupplierPatch};
use productsmanager_core::db::Backend;
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, both_backends};

fn new_supplier(code: &str, name: &str) -> NewSupplier {
    NewSupplier { code: code.to_string(), name: name.to_string(), ..Default::default() }
}

async fn supplier_story(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "supplier_story").await else { return };
    let sdk = env.sdk().await;
    let suppliers = sdk.suppliers();

    let acme = suppliers
        .create(NewSupplier {
            country: Some("de".into()),
            default_currency: Some("eur".into()),
            email: Some("orders@acme.example".into()),
            settings: Some(serde_json::json!({"delimiter": ";"})),
            ..new_supplier("ACME", "Acme Distribution")
        })
        .await
        .unwrap();
    assert_eq!((acme.country.as_deref(), acme.default_currency.as_deref()), (Some("DE"), Some("EUR")));
    assert!(acme.is_active);
    assert_eq!(acme.settings.0["delimiter"], ";");
    assert_eq!(suppliers.get(acme.id).await.unwrap(), acme);
    assert_eq!(suppliers.find("ACME").await.unwrap(), acme);

    suppliers.create(new_supplier("B2", "Beta Wholesale")).await.unwrap();
    let codes: Vec<String> = suppliers.list().await.unwrap().iter().map(|s| s.code.clone()).collect();
    assert_eq!(codes, ["ACME", "B2"]);

    let paused = suppliers
        .patch(acme.id, SupplierPatch { is_active: Some(false), email: Some(None), ..Default::default() })
        .await
        .unwrap();
    assert!(!paused.is_active);
    assert_eq!(paused.email, None);
    assert_eq!(paused.country.as_deref(), Some("DE"));
    assert_eq!(suppliers.get(acme.id).await.unwrap(), paused);

    let cases: Vec<(NewSupplier, ErrorKind, &str)> = vec![
        (new_supplier("ACME", "Again"), ErrorKind::Conflict, "code"),
        (
            NewSupplier { default_currency: Some("EUX".into()), ..new_supplier("C", "C") },
            ErrorKind::Invalid,
            "default_currency",
        ),
        (NewSupplier { country: Some("XX".into()), ..new_supplier("C", "C") }, ErrorKind::Invalid, "country"),
        (NewSupplier { email: Some("not-an-address".into()), ..new_supplier("C", "C") }, ErrorKind::Invalid, "email"),
        (new_supplier("has space", "C"), ErrorKind::Invalid, "code"),
        (
            NewSupplier { settings: Some(serde_json::json!([1])), ..new_supplier("C", "C") },
            ErrorKind::Invalid,
            "settings",
        ),
    ];
    for (input, kind, field) in cases {
        let error = suppliers.create(input).await.unwrap_err();
        assert_eq!((error.kind(), error.field()), (kind, Some(field)), "{error}");
    }

    suppliers.delete(acme.id).await.unwrap();
    assert_eq!(suppliers.get(acme.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(suppliers.list().await.unwrap().len(), 1);
    sdk.close().await;
}

both_backends!(supplier_story);
