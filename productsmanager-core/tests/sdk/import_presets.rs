//! The presets on the real exports in `../shared/datasets` (other people's files, never copied here: when the folder
//! is absent the tests say they were not run). Expected counts were checked once by hand, independently (Python's
//! csv module over the same files), and are asserted exactly.

use std::path::PathBuf;

use productsmanager_core::catalog::NewSupplier;
use productsmanager_core::db::{Backend, Database};
use productsmanager_core::imports::mapping::Preset;
use productsmanager_core::imports::{ImportOptions, ImportSummary, NewImport};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{Sdk, both_backends, with_pool};

fn dataset(path: &str) -> Option<PathBuf> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets").join(path);
    if file.is_file() {
        Some(file)
    } else {
        eprintln!("NOT RUN: preset test on real files ({} does not exist)", file.display());
        None
    }
}

async fn count(sdk: &Sdk, sql: &'static str) -> i64 {
    with_pool!(sdk.pool(Database::Catalog), |p| sqlx::query_scalar(sql).fetch_one(p).await).unwrap()
}

/// What an import left in the catalog, in the order of [`COUNTS`].
async fn counts(sdk: &Sdk) -> Vec<i64> {
    let mut found = Vec::new();
    for sql in COUNTS {
        found.push(count(sdk, sql).await);
    }
    found
}

const COUNTS: [&str; 9] = [
    "select count(*) from products",
    "select count(*) from supplier_products",
    "select count(*) from product_variants",
    "select count(*) from product_prices where price_type = 'retail'",
    "select count(*) from product_prices where price_type = 'sale'",
    "select count(*) from product_images",
    "select count(distinct url) from product_images",
    "select count(distinct category_id) from product_categories",
    "select count(*) from categories",
];

async fn import(
    backend: Backend,
    test: &str,
    path: &str,
    preset: Preset,
) -> Option<(TestDatabases, Sdk, ImportSummary)> {
    let file = dataset(path)?;
    let env = TestDatabases::named(backend, test).await?;
    let sdk = env.sdk().await;
    let supplier = NewSupplier {
        code: "SHOP".into(),
        name: "Shop".into(),
        default_currency: Some("EUR".into()),
        ..Default::default()
    };
    let supplier = sdk.suppliers().create(supplier).await.unwrap().id;
    let input = NewImport {
        supplier_id: supplier,
        name: path.rsplit('/').next().unwrap().to_string(),
        path: file,
        template: None,
        preset: Some(preset),
        dry_run: false,
        force: false,
        options: ImportOptions::default(),
    };
    let summary = sdk.imports().import_file(input, |_| {}).await.unwrap();
    Some((env, sdk, summary))
}

/// WooCommerce's sample export: 25 rows, two `variation` rows under their `variable` parent (five `simple` rows that
/// also carry a `Parent` stay products), 22 regular and 7 sale prices, 28 image links to 22 images, 7 category paths.
async fn woocommerce_sample_products(backend: Backend) {
    let Some((_env, sdk, summary)) =
        import(backend, "preset_woocommerce", "woocommerce/sample_products.csv", Preset::Woocommerce).await
    else {
        return;
    };
    assert_eq!((summary.rows, summary.created, summary.invalid), (25, 25, 0), "{summary:?}");
    assert_eq!(counts(&sdk).await, [25, 25, 2, 22, 7, 28, 22, 7, 7]);
    let hoodie = sdk.products().search("woo-hoodie-blue-logo", &Default::default()).await.unwrap();
    let parent = sdk.variants().parent_of(hoodie.items[0].id).await.unwrap();
    assert_eq!(sdk.products().get(parent.unwrap()).await.unwrap().title, "Hoodie");
}

/// The two other WooCommerce exports (no `ID` column; multi-line descriptions in the fashion file).
async fn woocommerce_experimental_samples(backend: Backend) {
    let Some((_env, sdk, summary)) = import(
        backend,
        "preset_woocommerce_fashion",
        "woocommerce/experimental_fashion_sample_9_products.csv",
        Preset::Woocommerce,
    )
    .await
    else {
        return;
    };
    assert_eq!((summary.rows, summary.created, summary.invalid), (9, 9, 0), "{summary:?}");
    assert_eq!(counts(&sdk).await, [9, 9, 0, 8, 3, 10, 10, 4, 5]);
    assert_eq!(count(&sdk, "select count(*) from supplier_products where stock is not null").await, 4);

    let Some((_env, sdk, summary)) = import(
        backend,
        "preset_woocommerce_sample9",
        "woocommerce/experimental_sample_9_products.csv",
        Preset::Woocommerce,
    )
    .await
    else {
        return;
    };
    assert_eq!((summary.rows, summary.created, summary.invalid), (9, 9, 0), "{summary:?}");
    assert_eq!(counts(&sdk).await, [9, 9, 0, 6, 3, 17, 16, 4, 4]);
}

/// PrestaShop 9.1 and 1.4 product exports: every `EAN13` of 9.1 is the placeholder 1234567890123 (wrong check
/// digit), dropped without refusing the row; categories are names, several per cell.
async fn prestashop_products(backend: Backend) {
    let Some((_env, sdk, summary)) =
        import(backend, "preset_prestashop_91", "prestashop-9.1/products_import.csv", Preset::Prestashop).await
    else {
        return;
    };
    assert_eq!((summary.rows, summary.created, summary.invalid), (7, 7, 0), "{summary:?}");
    assert_eq!(counts(&sdk).await, [7, 7, 0, 7, 0, 8, 7, 3, 3]);
    assert_eq!(count(&sdk, "select count(*) from products where gtin is not null").await, 0);
    assert_eq!(count(&sdk, "select count(*) from supplier_products where cost_minor is not null").await, 7);
    assert_eq!(count(&sdk, "select count(*) from brands").await, 3);

    let Some((_env, sdk, summary)) =
        import(backend, "preset_prestashop_14", "prestashop-1.4/products_import.csv", Preset::Prestashop).await
    else {
        return;
    };
    assert_eq!((summary.rows, summary.created, summary.invalid), (2, 2, 0), "{summary:?}");
    assert_eq!(counts(&sdk).await, [2, 2, 0, 2, 0, 4, 4, 2, 2]);
    assert_eq!(count(&sdk, "select count(*) from supplier_products where cost_minor is not null").await, 1);
}

both_backends!(woocommerce_sample_products, woocommerce_experimental_samples, prestashop_products);
