//! Application settings: defaults, checked changes, reset; the default import preset and the notification
//! retention read them; on both backends.

use chrono::Utc;
use productsmanager_core::catalog::NewSupplier;
use productsmanager_core::db::Backend;
use productsmanager_core::imports::{ImportOptions, NewImport};
use productsmanager_core::notifications::{NewNotification, NotificationQuery};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, both_backends};
use serde_json::json;

async fn settings_have_defaults_and_checked_values(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "settings_defaults").await else { return };
    let sdk = env.sdk().await;
    let settings = sdk.settings();
    let all = settings.list().await.unwrap();
    assert_eq!(
        all.iter().map(|s| (s.key.as_str(), s.value.clone(), s.is_default)).collect::<Vec<_>>(),
        [
            ("analytics.raw_retention_days", json!(90), true),
            ("imports.default_preset", json!("native"), true),
            ("imports.failed_above_refused_percent", json!(50), true),
            ("imports.seo_locale", json!("en"), true),
            ("imports.unranked_suppliers", json!("creator_first"), true),
            ("notifications.retention_days", json!(90), true)
        ]
    );
    assert_eq!(settings.get::<u32>("notifications.retention_days").await.unwrap(), 90);

    let changed = settings.set("notifications.retention_days", json!(30), None).await.unwrap();
    assert_eq!((changed.value, changed.is_default, changed.default), (json!(30), false, json!(90)));
    assert!(changed.updated_at.is_some());
    assert_eq!(settings.get::<u32>("notifications.retention_days").await.unwrap(), 30);

    for (key, value, kind) in [
        ("notifications.retention_days", json!(0), ErrorKind::Invalid),
        ("notifications.retention_days", json!("30"), ErrorKind::Invalid),
        ("imports.default_preset", json!("excel"), ErrorKind::Invalid),
        ("imports.default_preset'; drop table app_settings; --", json!("native"), ErrorKind::NotFound),
    ] {
        assert_eq!(settings.set(key, value.clone(), None).await.unwrap_err().kind(), kind, "{key} = {value}");
    }
    assert_eq!(settings.get::<u32>("notifications.retention_days").await.unwrap(), 30, "a refused value wrote nothing");
    let reset = settings.reset("notifications.retention_days").await.unwrap();
    assert_eq!((reset.value, reset.is_default), (json!(90), true));
    assert_eq!(settings.setting("nope").await.unwrap_err().kind(), ErrorKind::NotFound);
    sdk.close().await;
}

async fn the_default_preset_reads_files_without_a_template(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "default_preset").await else { return };
    let sdk = env.sdk().await;
    let supplier = NewSupplier {
        code: "WOO".into(),
        name: "Woo".into(),
        default_currency: Some("EUR".into()),
        ..Default::default()
    };
    let supplier = sdk.suppliers().create(supplier).await.unwrap().id;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("woo.csv");
    std::fs::write(&path, "ID,Type,SKU,Name,Regular price\n1,simple,W-1,Woo pen,2.50\n").unwrap();
    let input = || NewImport {
        supplier_id: supplier,
        name: "woo.csv".into(),
        path: path.clone(),
        template: None,
        preset: None,
        dry_run: true,
        force: true,
        options: ImportOptions::default(),
        requested_by: None,
    };
    // The built-in default, `native`, has no `title` column here: nothing importable.
    let native = sdk.imports().import_file(input(), |_| {}).await;
    assert!(native.as_ref().map_or(true, |s| s.created == 0), "{native:?}");
    sdk.settings().set("imports.default_preset", json!("woocommerce"), None).await.unwrap();
    let woo = sdk.imports().import_file(NewImport { dry_run: false, ..input() }, |_| {}).await.unwrap();
    let errors = sdk.imports().errors_csv(woo.job_id).await.unwrap();
    assert_eq!((woo.created, woo.invalid), (1, 0), "{}", String::from_utf8_lossy(&errors));
    let products = sdk.products().list(&Default::default()).await.unwrap();
    assert_eq!(products.items.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), ["Woo pen"]);
    sdk.close().await;
}

async fn read_notifications_are_purged_after_the_retention(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "notification_retention").await else { return };
    let sdk = env.sdk().await;
    let user = productsmanager_core::auth::NewUser {
        email: "ana@example.com".into(),
        display_name: None,
        password: "correct horse battery".into(),
        roles: vec![],
    };
    let ana = sdk.auth().create_user(user).await.unwrap().id;
    let notifications = sdk.notifications();
    let read = notifications.notify(NewNotification::new(ana, "job_finished", "read")).await.unwrap();
    notifications.notify(NewNotification::new(ana, "job_finished", "unread")).await.unwrap();
    notifications.mark_read(ana, read.id).await.unwrap();
    // Read just now: within any retention.
    assert_eq!(notifications.purge_read(1).await.unwrap(), 0);
    // A retention of 0 days is refused by the setting; the service itself takes "older than now".
    assert_eq!(notifications.purge_read(0).await.unwrap(), 1);
    let left = notifications.list(ana, &NotificationQuery::default()).await.unwrap();
    assert_eq!(left.items.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(), ["unread"]);
    assert!(left.items[0].created_at <= Utc::now());
    sdk.close().await;
}

both_backends!(
    settings_have_defaults_and_checked_values,
    the_default_preset_reads_files_without_a_template,
    read_notifications_are_purged_after_the_retention
);
