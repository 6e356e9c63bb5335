//! The presets on the real exports in `../shared/datasets` (other people's files, never copied here: when the folder
//! is absent the tests say they were not run). Expected counts were checked once by hand, independently (Python's
//! csv module over the same files), and are asserted exactly.

use std::path::PathBuf;

use productsmanager_core::catalog::{AttributeValue, NewSupplier, PriceType};
use productsmanager_core::db::{Backend, Database};
use productsmanager_core::exports::{ChannelSettings, ExportFilters, FeedFormat, FeedRequest};
use productsmanager_core::imports::mapping::Preset;
use productsmanager_core::imports::{
    DEFAULT_FAILED_ABOVE_PERCENT, ImportOptions, ImportOutcome, ImportSummary, NewImport,
};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{Sdk, both_backends, with_pool};
use uuid::Uuid;

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

const PRODUCTS: &str = "select count(*) from products";
const OFFERS: &str = "select count(*) from supplier_products";

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
    import_with(backend, test, path, preset, ImportOptions::default()).await
}

/// A second file imported for the same supplier, after the one [`import`] set up.
async fn import_next(sdk: &Sdk, path: &str, preset: Preset) -> Option<ImportSummary> {
    let supplier = sdk.suppliers().find("SHOP").await.unwrap().id;
    Some(dry_then_real(sdk, new_import(supplier, path, preset, ImportOptions::default())?).await)
}

/// Imports `input` for real after a dry run of it, asserting that the dry run said exactly what the real run did
/// and that every row read has one outcome: created, updated, unchanged, merged or refused.
pub(crate) async fn dry_then_real(sdk: &Sdk, input: NewImport) -> ImportSummary {
    let dry = sdk.imports().import_file(NewImport { dry_run: true, ..input.clone() }, |_| {}).await.unwrap();
    let real = sdk.imports().import_file(input, |_| {}).await.unwrap();
    let outcomes = |s: &ImportSummary| {
        let rows = (s.rows, s.created, s.updated, s.unchanged, s.merged, s.invalid, s.fields_kept);
        (rows, s.products_created, s.variants_created, s.products_updated, s.outcome)
    };
    assert_eq!(outcomes(&dry), outcomes(&real), "dry run {dry:?}\nreal run {real:?}");
    assert_eq!(real.rows, real.created + real.updated + real.unchanged + real.merged + real.invalid, "{real:?}");
    real
}

/// The import of a dataset file for `supplier`; `None` when the file is not there.
fn new_import(supplier: Uuid, path: &str, preset: Preset, options: ImportOptions) -> Option<NewImport> {
    Some(NewImport {
        supplier_id: supplier,
        name: path.rsplit('/').next().unwrap().to_string(),
        path: dataset(path)?,
        template: None,
        preset: Some(preset),
        dry_run: false,
        force: false,
        options,
        requested_by: None,
    })
}

async fn import_with(
    backend: Backend,
    test: &str,
    path: &str,
    preset: Preset,
    options: ImportOptions,
) -> Option<(TestDatabases, Sdk, ImportSummary)> {
    dataset(path)?;
    let env = TestDatabases::named(backend, test).await?;
    let sdk = env.sdk().await;
    let supplier = NewSupplier {
        code: "SHOP".into(),
        name: "Shop".into(),
        default_currency: Some("EUR".into()),
        ..Default::default()
    };
    let supplier = sdk.suppliers().create(supplier).await.unwrap().id;
    let summary = dry_then_real(&sdk, new_import(supplier, path, preset, options)?).await;
    Some((env, sdk, summary))
}

/// WooCommerce's sample export: 25 rows, two `variation` rows under their `variable` parent (five `simple` rows that
/// also carry a `Parent` stay products), 22 regular and 7 sale prices, 28 image links to 22 images, 7 category paths.
async fn woocommerce_sample_products(backend: Backend) {
    let Some((env, sdk, summary)) =
        import(backend, "preset_woocommerce", "woocommerce/sample_products.csv", Preset::Woocommerce).await
    else {
        return;
    };
    assert_eq!((summary.rows, summary.created, summary.invalid), (25, 25, 0), "{summary:?}");
    assert_eq!(counts(&sdk).await, [25, 25, 2, 22, 7, 28, 22, 7, 7]);
    let hoodie = sdk.products().search("woo-hoodie-blue-logo", &Default::default()).await.unwrap();
    let parent = sdk.variants().parent_of(hoodie.items[0].id).await.unwrap();
    assert_eq!(sdk.products().get(parent.unwrap()).await.unwrap().title, "Hoodie");
    // Every column is imported or named: a variable product's attribute lists, weights, tax status are attributes;
    // the shop's own settings are listed as not imported.
    let tee = sdk.products().find("woo-vneck-tee").await.unwrap();
    assert_eq!(
        tee.sku.as_ref().map(|s| s.as_str()),
        Some("woo-vneck-tee"),
        "a shop's SKU is the product's SKU, not only the offer's"
    );
    let attributes: Vec<(String, String)> = tee.attributes.iter().map(|a| (a.name.clone(), a.value.shown())).collect();
    for expected in [("Color", "Blue, Green, Red"), ("Size", "Large, Medium, Small"), ("Weight (lbs)", ".5")] {
        assert!(attributes.iter().any(|(n, v)| (n.as_str(), v.as_str()) == expected), "{expected:?}: {attributes:?}");
    }
    assert!(attributes.iter().any(|(n, v)| n == "Tax status" && v == "taxable"), "{attributes:?}");
    let not_imported = &summary.columns_not_imported;
    for listed in ["Is featured?", "Visibility in catalog", "Sold individually?", "Attribute 1 visible"] {
        assert!(not_imported.iter().any(|c| c == listed), "{listed}: {not_imported:?}");
    }
    for imported in ["ID", "SKU", "Name", "Tags", "Weight (lbs)", "Attribute 1 name", "Short description", "Images"]
        .into_iter()
        .chain(["Date sale price starts", "Date sale price ends"])
    {
        assert!(!not_imported.iter().any(|c| c == imported), "{imported}: {not_imported:?}");
    }
    // Every row says `In stock?` 1 with an empty `Stock` (the shop counts none): Google's feed says in stock.
    let out = env.folder().join("feed.xml");
    let request = FeedRequest {
        format: FeedFormat::GoogleMerchantXml,
        filters: ExportFilters::default(),
        settings: ChannelSettings::default(),
    };
    let feed = sdk.exports().write_feed(&request, &out, |_| {}).await.unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!((feed.items, text.matches("<g:availability>in_stock</g:availability>").count()), (22, 22), "{text}");
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
    // A shop's export: its stock is the products' own; its offers hold none besides (0, not counted twice).
    assert_eq!(count(&sdk, "select count(*) from product_stocks").await, 4);
    assert_eq!(count(&sdk, "select count(*) from supplier_products where stock > 0").await, 0);

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
    // One sale price: product 1's `Discount percent` (5.5 % off between its dates); product 3's discount is an
    // amount (tax included in PrestaShop), not read.
    assert_eq!(counts(&sdk).await, [7, 7, 0, 7, 1, 8, 7, 3, 3]);
    assert_eq!(count(&sdk, "select count(*) from product_prices where valid_to is not null").await, 1);
    assert_eq!(count(&sdk, "select count(*) from products where gtin is not null").await, 0);
    assert_eq!(summary.gtins_dropped, 7, "every row's placeholder");
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

/// Shopify's import template: three handles over 17 rows. The shirt (12 variant rows) and the jeans (3, then an
/// image-only row) become a parent and its variants, the beanie (one `Default Title` variant) one product: 18
/// products and offers, 15 variants, 16 retail prices (the parents have none), 27 image links to 12 images (each
/// parent's `Image Src` images, each variant's `Variant Image`), 3 category paths of 9 categories. Only 2 of the
/// 16 barcodes have a valid check digit; the others are dropped, not refused.
async fn shopify_template(backend: Backend) {
    let Some((_env, sdk, summary)) =
        import(backend, "preset_shopify_template", "shopify/product_template.csv", Preset::Shopify).await
    else {
        return;
    };
    assert_eq!((summary.rows, summary.created, summary.invalid), (18, 18, 0), "{summary:?}");
    assert_eq!(counts(&sdk).await, [18, 18, 15, 16, 0, 27, 12, 3, 9]);
    assert_eq!(count(&sdk, "select count(*) from products where gtin is not null").await, 2);
    assert_eq!(count(&sdk, "select count(*) from product_prices where price_type = 'msrp'").await, 4);
    let shirt = sdk.products().search("Example T-Shirt - Green, M", &Default::default()).await.unwrap();
    let parent = sdk.variants().parent_of(shirt.items[0].id).await.unwrap().unwrap();
    let variants = sdk.variants().of(parent).await.unwrap();
    assert_eq!(variants.len(), 12);
    assert!(variants.iter().any(|v| v.options.get("Size").map(String::as_str) == Some("M")));
    assert_eq!(count(&sdk, "select count(*) from products where status = 'archived'").await, 1, "the beanie");

    // The same file after Excel: barcodes in scientific notation (`3.65275E+11`) lost their digits and are dropped.
    let Some((_env, sdk, summary)) =
        import(backend, "preset_shopify_excel", "shopify/product_template_excel_resaved.csv", Preset::Shopify).await
    else {
        return;
    };
    assert_eq!((summary.rows, summary.created, summary.invalid), (18, 18, 0), "{summary:?}");
    assert_eq!(counts(&sdk).await, [18, 18, 15, 16, 0, 26, 11, 3, 9]);
    assert_eq!(count(&sdk, "select count(*) from products where gtin is not null").await, 0);
}

/// A real store's export (84 handles over 565 rows, 120 of them image-only, most variant SKUs empty or repeated):
/// 50 handles with several variant rows (a parent and 411 variants) and 34 with one (one product each). Expected:
/// 495 products and offers, 411 variants, 445 retail prices, 386 image links to 300 images,
/// 3 category paths over 6 categories.
async fn shopify_store_export(backend: Backend) {
    let Some((_env, sdk, summary)) =
        import(backend, "preset_shopify_store", "shopify/products_export_1.csv", Preset::Shopify).await
    else {
        return;
    };
    assert_eq!((summary.rows, summary.created, summary.invalid), (495, 495, 0), "{summary:?}");
    assert_eq!(counts(&sdk).await, [495, 495, 411, 445, 0, 386, 300, 3, 6]);
}

/// Magento 2's sample catalog in its native export format: 1,847 `simple` rows, each before the `configurable`
/// row that lists it in `configurable_variations` (147 of them). Every row has a price; 3,364 image links (base
/// and additional images, relative paths joined to the base URL given) to 675 images; 20 category paths under
/// `Default Category/` (dropped) make 28 categories.
async fn magento_configurable_products(backend: Backend) {
    let options = ImportOptions {
        image_base_url: Some("https://shop.example/media/catalog/product".into()),
        ..Default::default()
    };
    let Some((_env, sdk, summary)) = import_with(
        backend,
        "preset_magento",
        "magento2-sample-data/ConfigurableSampleData__products.csv",
        Preset::Magento,
        options,
    )
    .await
    else {
        return;
    };
    assert_eq!((summary.rows, summary.created, summary.invalid), (1994, 1994, 0), "{summary:?}");
    assert_eq!(counts(&sdk).await, [1994, 1994, 1847, 1994, 0, 3364, 675, 20, 28]);
    let hoodie = sdk.products().search("MH01-XS-Black", &Default::default()).await.unwrap();
    let parent = sdk.variants().parent_of(hoodie.items[0].id).await.unwrap().unwrap();
    assert_eq!(sdk.products().get(parent).await.unwrap().title, "Chaz Kangeroo Hoodie");
    let variants = sdk.variants().of(parent).await.unwrap();
    let black_xs = variants.iter().find(|v| v.product_id == hoodie.items[0].id).unwrap();
    assert_eq!(black_xs.options.get("color").map(String::as_str), Some("Black"));
    // The five black sizes show the same picture.
    let image = "select count(*) from product_images \
                 where url = 'https://shop.example/media/catalog/product/m/h/mh01-black_main.jpg'";
    assert_eq!(count(&sdk, image).await, 5);

    // Without a base URL the relative image paths cannot be fetched: dropped, the rows imported.
    let Some((_env, sdk, summary)) = import(
        backend,
        "preset_magento_no_base",
        "magento2-sample-data/ConfigurableSampleData__products.csv",
        Preset::Magento,
    )
    .await
    else {
        return;
    };
    assert_eq!((summary.created, summary.invalid), (1994, 0), "{summary:?}");
    assert_eq!(count(&sdk, "select count(*) from product_images").await, 0);
    // …and the summary says so: each relative path of a base or additional image cell (counted by hand once).
    assert_eq!(summary.images_dropped, 3364, "{summary:?}");
}

/// PrestaShop 9.1's products, then their combinations (27 rows, variants of `id:<Product ID>`): two repeat an
/// earlier `Reference` (keyed by product and values instead). The sample's placeholder EAN13s that pass the check digit are shared by
/// combinations with different options (iPod shuffles, MacBook Airs, iPod touches): a GTIN is one product, so the
/// first combination of each keeps it and the five later ones that differ from it are refused `duplicate_gtin`
/// (they used to become extra offers of the first: "25 created" for 22 new products). 22 offers on 22 new
/// products, each a variant of its product, named after it. Every combination links the same image URL.
async fn prestashop_combinations(backend: Backend) {
    let Some((_env, sdk, _)) =
        import(backend, "preset_prestashop_combinations", "prestashop-9.1/products_import.csv", Preset::Prestashop)
            .await
    else {
        return;
    };
    let Some(summary) = import_next(&sdk, "prestashop-9.1/combinations_import.csv", Preset::Prestashop).await else {
        return;
    };
    assert_eq!((summary.rows, summary.created, summary.invalid, summary.merged), (27, 22, 5, 0), "{summary:?}");
    let errors = String::from_utf8(sdk.imports().errors_csv(summary.job_id).await.unwrap().to_vec()).unwrap();
    // The two rows that repeat a reference are keyed by their product and values, and then meet the placeholder
    // GTIN their reference's first row has.
    assert_eq!(errors.matches("duplicate_sku").count(), 0, "{errors}");
    assert_eq!(errors.matches("duplicate_gtin").count(), 5, "{errors}");
    // Each combination's retail price is its product's plus its impact on price.
    assert_eq!(counts(&sdk).await, [29, 29, 22, 29, 1, 30, 8, 3, 3]);
    let nano = sdk.products().search("RP-Nano-Blue-16GB", &Default::default()).await.unwrap();
    let nano = sdk.products().get(nano.items[0].id).await.unwrap();
    assert_eq!(nano.title, "iPod Nano - Blue, 16GB");
    let retail = nano.prices.iter().find(|p| p.price_type == PriceType::Retail).map(|p| p.amount.to_string());
    assert_eq!(retail.as_deref(), Some("140.00 EUR"), "100.00 + 40.00");
    assert_eq!(count(&sdk, "select count(*) from product_attributes where name = 'price_impact'").await, 22);
}

/// Akeneo's icecat demo: the 81 product models first (31 of them sub-models: products of their own), then the
/// 1,239 products, 240 of them variants of a model named in `parent` (18 of those names differ in case from the
/// model's code). 10 EANs pass the check digit (the 105 dummy `12345678901xx` do not, and are dropped); 62 + 200
/// `price-EUR`/`price-USD` values; 101 category codes; images are relative paths, dropped without a base URL.
async fn akeneo_models_and_products(backend: Backend) {
    let Some((_env, sdk, summary)) =
        import(backend, "preset_akeneo", "akeneo-icecat-demo-dev/product_models.csv", Preset::Akeneo).await
    else {
        return;
    };
    assert_eq!((summary.rows, summary.created, summary.invalid), (81, 81, 0), "{summary:?}");
    let Some(summary) = import_next(&sdk, "akeneo-icecat-demo-dev/products.csv", Preset::Akeneo).await else { return };
    assert_eq!((summary.rows, summary.created, summary.invalid), (1239, 1239, 0), "{summary:?}");
    assert_eq!(counts(&sdk).await, [1320, 1320, 240, 262, 0, 0, 0, 101, 101]);
    assert_eq!(count(&sdk, "select count(*) from products where gtin is not null").await, 10);
    assert_eq!(summary.gtins_dropped, 105);
    assert_eq!(count(&sdk, "select count(*) from product_prices where currency = 'USD'").await, 17);
    let jacket = sdk.products().search("Biker-jacket-polyester-xl", &Default::default()).await.unwrap();
    let parent = sdk.variants().parent_of(jacket.items[0].id).await.unwrap().unwrap();
    let jacket = sdk.products().get(jacket.items[0].id).await.unwrap();
    let size = jacket.attributes.iter().find(|a| a.name == "size").map(|a| a.value.clone());
    assert_eq!(size, Some(AttributeValue::Text { value: "xl".into() }), "{:?}", jacket.attributes);
    assert_eq!(sdk.products().get(parent).await.unwrap().title, "Biker jacket polyester", "the sub-model");
}

/// Google Merchant Center feeds as a supplier publishes them. The TSV: 22 items in 6 item groups (6, 6, 3, 2, 4
/// and 1 items), each group a product of its own with its items as variants (colour and size), 22 GTINs, prices in
/// EUR, 9 distinct image links, 5 product types (9 categories: `Apparel` and its branches). The Atom XML (a French shop's): 305 entries, no groups, no GTINs, a shipping block each.
async fn google_merchant_feeds(backend: Backend) {
    let Some((_env, sdk, summary)) =
        import(backend, "preset_google_tsv", "google-merchant-center/feed.tsv", Preset::GoogleMerchant).await
    else {
        return;
    };
    assert_eq!((summary.created, summary.invalid), (28, 0), "{summary:?}");
    assert_eq!((summary.products_created, summary.variants_created), (28, 22), "{summary:?}");
    assert_eq!(counts(&sdk).await, [28, 28, 22, 22, 0, 28, 9, 5, 9]);
    let jacket = sdk.products().find("glacier-pro-mens-crimson-l").await.unwrap();
    assert_eq!(jacket.title, "Glacier Pro Men's Ski Jacket — Crimson, Size L");
    assert_eq!(jacket.gtin.map(|g| g.to_string()).as_deref(), Some("8123456700057"));
    let retail = jacket.prices.iter().find(|p| p.price_type == PriceType::Retail).map(|p| p.amount.to_string());
    assert_eq!(retail.as_deref(), Some("349.00 EUR"));
    let parent = sdk.variants().parent_of(jacket.id).await.unwrap().unwrap();
    let parent = sdk.products().get(parent).await.unwrap();
    assert_eq!(parent.title, "Glacier Pro Men's Ski Jacket");
    let variant = sdk.variants().of(parent.id).await.unwrap().into_iter().find(|v| v.product_id == jacket.id).unwrap();
    let options: Vec<(&str, &str)> = variant.options.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(options, [("color", "Crimson"), ("size", "L")], "material stays an attribute");
    assert_eq!(count(&sdk, "select count(*) from products where gtin is not null").await, 22);
    assert_eq!(count(&sdk, "select count(*) from product_prices where currency <> 'EUR'").await, 0);
    let condition = jacket.attributes.iter().find(|a| a.name == "condition").map(|a| a.value.clone());
    assert_eq!(condition, Some(AttributeValue::Text { value: "new".into() }));

    let Some((_env, sdk, summary)) = import(
        backend,
        "preset_google_xml",
        "google-merchant-center/pallmann-store_google-merchant-feed.xml",
        Preset::Auto,
    )
    .await
    else {
        return;
    };
    assert_eq!((summary.created, summary.invalid, summary.variants_created), (305, 0, 0), "{summary:?}");
    assert_eq!(count(&sdk, "select count(*) from products where gtin is not null").await, 0, "no GTINs");
    assert_eq!(summary.format, "XML product feed; preset google_merchant");
    assert_eq!(sdk.imports().job(summary.job_id).await.unwrap().preset.as_deref(), Some("google_merchant"), "detected");
    let disc = sdk.products().search("041060", &Default::default()).await.unwrap();
    let disc = sdk.products().get(disc.items[0].id).await.unwrap();
    assert_eq!(disc.title, "Disque Ø150 - Grain 80 Carbure Silicium (Réf: 041060)");
    let retail = disc.prices.iter().find(|p| p.price_type == PriceType::Retail).map(|p| p.amount.to_string());
    assert_eq!(retail.as_deref(), Some("1.27 EUR"));
    let shipping = disc.attributes.iter().find(|a| a.name == "shipping").map(|a| a.value.clone());
    assert_eq!(shipping, Some(AttributeValue::Text { value: "FR:Standard:9.90 EUR".into() }));
}

both_backends!(
    google_merchant_feeds,
    akeneo_models_and_products,
    prestashop_combinations,
    magento_configurable_products,
    woocommerce_sample_products,
    woocommerce_experimental_samples,
    prestashop_products,
    shopify_template,
    shopify_store_export
);

/// Every file of `../shared/datasets`, folder by folder into one supplier each (models before products, products
/// before combinations), with the preset of its platform (the native layout elsewhere): a dry run plans exactly
/// what the real run then does — the same outcome per row, or the same refusal of the whole file — and every row
/// read has one outcome; each file's counts and five of its products, field by field, are what `dataset_products.txt`
/// says (see `dataset_products`). Then the catalog they made round trips through our CSV (see `round_trips`).
async fn every_dataset_file_plans_the_same_dry_and_real(backend: Backend) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets");
    if !root.is_dir() {
        eprintln!("NOT RUN: every dataset file dry and real ({} does not exist)", root.display());
        return;
    }
    let Some(env) = TestDatabases::named(backend, "every_dataset_file_plans_the_same_dry_and_real").await else {
        return;
    };
    let sdk = env.sdk().await;
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    folders.retain(|p| p.is_dir());
    folders.sort();
    let (mut files_seen, mut imported, mut rows) = (0, 0, 0);
    let mut expectations = super::dataset_products::Expectations::load(backend);
    for folder in folders {
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let preset = match name.split('-').next().unwrap() {
            "woocommerce" => Preset::Woocommerce,
            "shopify" => Preset::Shopify,
            "prestashop" => Preset::Prestashop,
            "magento2" => Preset::Magento,
            "akeneo" | "openfoodfacts" => Preset::Akeneo,
            "google" => Preset::GoogleMerchant,
            "classic" => Preset::Woocommerce,
            _ => Preset::Native,
        };
        let code: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).take(20).collect();
        let input =
            NewSupplier { code, name: name.clone(), default_currency: Some("EUR".into()), ..Default::default() };
        let supplier = sdk.suppliers().create(input).await.unwrap().id;
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().path()).collect();
        files.retain(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("csv" | "tsv" | "xlsx" | "xml")));
        // What other files refer to comes first.
        let rank = |p: &PathBuf| {
            let stem = p.file_stem().unwrap().to_string_lossy().to_string();
            // …and what adds to products (Magento's image lists) after them.
            // Akeneo's structure files first: its models and products read their codes.
            let order =
                if matches!(stem.as_str(), "attributes" | "family_variants" | "attribute_options" | "categories") {
                    0
                } else if stem.contains("model") || stem.starts_with("products_import") {
                    1
                } else if stem.contains("images") {
                    3
                } else {
                    2
                };
            (order, stem)
        };
        files.sort_by_key(rank);
        for file in files {
            files_seen += 1;
            let input = NewImport {
                supplier_id: supplier,
                name: file.file_name().unwrap().to_string_lossy().into_owned(),
                path: file.clone(),
                template: None,
                preset: Some(preset),
                dry_run: false,
                force: false,
                options: ImportOptions::default(),
                requested_by: None,
            };
            let dry = sdk.imports().import_file(NewImport { dry_run: true, ..input.clone() }, |_| {}).await;
            let (products_before, offers_before) = (count(&sdk, PRODUCTS).await, count(&sdk, OFFERS).await);
            let keys_before = super::dataset_products::Expectations::keys(&sdk, supplier).await;
            let real = sdk.imports().import_file(input, |_| {}).await;
            let shown = file.strip_prefix(&root).unwrap().display().to_string();
            let outcome = real.as_ref().cloned().map_err(ToString::to_string);
            expectations.check(&sdk, &shown, supplier, &outcome, &keys_before).await;
            match (dry, real) {
                (Ok(dry), Ok(real)) => {
                    let outcomes = |s: &ImportSummary| {
                        let rows = (s.rows, s.created, s.updated, s.unchanged, s.merged, s.invalid, s.fields_kept);
                        let aside = (
                            s.skipped_by.clone(),
                            s.images_dropped,
                            s.columns_not_imported.clone(),
                            s.codes_learned.clone(),
                        );
                        (rows, s.products_created, s.variants_created, s.products_updated, s.outcome, aside)
                    };
                    assert_eq!(outcomes(&dry), outcomes(&real), "{shown}: dry {dry:?}\nreal {real:?}");
                    // A structure file's rows are codes learned (Akeneo's family variants, options, categories).
                    let accounted = match real.format.contains("read into the supplier's vocabulary") {
                        true => real.codes_learned.values().sum::<u64>() + real.invalid,
                        false => real.created + real.updated + real.unchanged + real.merged + real.invalid,
                    };
                    assert_eq!(real.rows, accounted, "{shown}: {real:?}");
                    // The counts say what they count: the products and offers the catalog gained.
                    let products = count(&sdk, PRODUCTS).await - products_before;
                    let offers = count(&sdk, OFFERS).await - offers_before;
                    assert_eq!(products as u64, real.products_created, "{shown}: {real:?}");
                    assert_eq!(offers as u64, real.created + real.merged, "{shown}: {real:?}");
                    assert!(real.variants_created <= real.products_created, "{shown}: {real:?}");
                    assert_eq!(
                        real.outcome,
                        ImportOutcome::of_rows(real.invalid, real.rows, DEFAULT_FAILED_ABOVE_PERCENT),
                        "{shown}"
                    );
                    imported += 1;
                    rows += real.rows;
                }
                (Err(dry), Err(real)) => assert_eq!(dry.to_string(), real.to_string(), "{shown}"),
                (dry, real) => panic!("{shown}: the dry run and the real run disagree: {dry:?} / {real:?}"),
            }
        }
    }
    // (Platforms' files of other things than products are refused at the header, their rows not counted.)
    assert!(
        files_seen >= 50 && imported >= 25 && rows >= 4_000,
        "{files_seen} files, {imported} imported, {rows} rows"
    );
    expectations.finish();

    // The catalog all of them made, exported as our CSV and imported into an empty catalog: the same catalog.
    let expected = super::round_trips::catalog_lines(&sdk).await;
    let file = super::round_trips::export(&sdk, env.folder(), productsmanager_core::exports::FeedFormat::Csv).await;
    let (_target_env, target, summary) =
        super::round_trips::into_empty_catalog(backend, "every_dataset_file_round_trip", &file).await;
    assert_eq!((summary.created, summary.invalid), (expected.len() as u64, 0), "{summary:?}");
    let found = super::round_trips::catalog_lines(&target).await;
    if let Some(difference) = super::round_trips::difference(&expected, &found) {
        panic!("every dataset file's catalog through our CSV: not the same catalog\n{difference}");
    }
    target.close().await;
    sdk.close().await;
}

both_backends!(every_dataset_file_plans_the_same_dry_and_real);

/// Every file of `../shared/datasets` read as a new user would with `--preset auto`: a platform's product file is
/// recognised as that platform's, and no file is taken for another platform's (a file that fits none stays with
/// the native layout).
#[test]
fn every_dataset_file_is_recognised_or_left_alone() {
    use productsmanager_core::imports::parse::{CsvOptions, CsvRows, SheetOptions, SheetRows, XmlFeedRows};
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets");
    if !root.is_dir() {
        eprintln!("NOT RUN: presets recognised on every dataset file ({} does not exist)", root.display());
        return;
    }
    let mut recognised = Vec::new();
    for folder in std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()) {
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let platform = match name.split('-').next().unwrap() {
            "woocommerce" | "classic" => Some(Preset::Woocommerce),
            "shopify" => Some(Preset::Shopify),
            "prestashop" => Some(Preset::Prestashop),
            "magento2" => Some(Preset::Magento),
            "akeneo" | "openfoodfacts" => Some(Preset::Akeneo),
            "google" => Some(Preset::GoogleMerchant),
            _ => None,
        };
        for file in std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().path()) {
            let shown = file.strip_prefix(&root).unwrap().display().to_string();
            let headers = match file.extension().and_then(|e| e.to_str()) {
                Some("csv" | "tsv") => {
                    let input = std::io::BufReader::new(std::fs::File::open(&file).unwrap());
                    match CsvRows::open(&shown, input, &CsvOptions::default()) {
                        Ok(rows) => rows.headers().to_vec(),
                        Err(_) => continue, // a file our reader refuses is another test's matter
                    }
                }
                Some("xlsx") => {
                    match SheetRows::open_file(&shown, std::fs::File::open(&file).unwrap(), &SheetOptions::default()) {
                        Ok(sheet) => sheet.headers().to_vec(),
                        Err(_) => continue,
                    }
                }
                Some("xml") => match XmlFeedRows::open_file(&shown, std::fs::File::open(&file).unwrap()) {
                    Ok(feed) => feed.headers().to_vec(),
                    Err(_) => continue,
                },
                _ => continue,
            };
            if let Some(found) = Preset::detect(&headers) {
                assert!(
                    Some(found) == platform || (platform.is_none() && found == Preset::Native),
                    "{shown} taken for {found}: {headers:?}"
                );
                recognised.push(shown);
            }
        }
    }
    recognised.sort();
    for product_file in [
        "woocommerce/sample_products.csv",
        "classic-commerce-importer-test/sample.csv",
        "shopify/products_export_1.csv",
        "prestashop-9.1/products_import.csv",
        "prestashop-9.1/combinations_import.csv",
        "prestashop-1.4/products_import.csv",
        "magento2-sample-data/ConfigurableSampleData__products.csv",
        "akeneo-icecat-demo-dev/products.csv",
        "akeneo-icecat-demo-dev/product_models.csv",
        "akeneo-icecat-demo-dev/family_variants.csv",
        "akeneo-icecat-demo-dev/attributes.csv",
        "akeneo-icecat-demo-dev/attribute_options.csv",
        "akeneo-icecat-demo-dev/categories.csv",
        "openfoodfacts/SUYQD_AKENEO_PU_02.csv",
        "google-merchant-center/feed.tsv",
        "google-merchant-center/pallmann-store_google-merchant-feed.xml",
    ] {
        assert!(recognised.iter().any(|f| f == product_file), "{product_file} not recognised: {recognised:?}");
    }
}

/// `auto` reads the WooCommerce sample as the woocommerce preset does, saying so; the Magento preset given to it is
/// refused at the header, naming WooCommerce, before any row (it refused every row, "supplier SKU empty").
async fn auto_preset_and_a_wrong_one(backend: Backend) {
    if dataset("woocommerce/sample_products.csv").is_none() {
        return;
    }
    let Some(env) = TestDatabases::named(backend, "auto_preset").await else { return };
    let sdk = env.sdk().await;
    let input =
        NewSupplier { code: "W".into(), name: "W".into(), default_currency: Some("EUR".into()), ..Default::default() };
    let supplier = sdk.suppliers().create(input).await.unwrap().id;
    let import =
        |preset| new_import(supplier, "woocommerce/sample_products.csv", preset, ImportOptions::default()).unwrap();
    let explicit =
        sdk.imports().import_file(NewImport { dry_run: true, ..import(Preset::Woocommerce) }, |_| {}).await.unwrap();
    let auto = sdk.imports().import_file(NewImport { dry_run: true, ..import(Preset::Auto) }, |_| {}).await.unwrap();
    assert_eq!(sdk.imports().job(auto.job_id).await.unwrap().preset.as_deref(), Some("woocommerce"));
    assert_eq!((auto.rows, auto.created, auto.invalid), (explicit.rows, explicit.created, explicit.invalid));
    let wrong = sdk.imports().import_file(import(Preset::Magento), |_| {}).await.unwrap_err().to_string();
    assert!(wrong.contains("it is a woocommerce export") && wrong.contains("Regular price"), "{wrong}");
    sdk.close().await;
}

both_backends!(auto_preset_and_a_wrong_one);

/// The README's tables of where each column of a platform's export goes are made from the presets themselves
/// ([`Preset::column_uses`]) on the platforms' real exports: they say what the code does. `PM_BLESS=1` writes them
/// after a change to a preset; otherwise a difference fails, showing the new tables.
#[test]
fn the_readme_says_where_each_column_of_a_platform_export_goes() {
    use productsmanager_core::imports::parse::{CsvOptions, CsvRows};
    const BEGIN: &str =
        "<!-- preset columns: made by the test the_readme_says_where_each_column_of_a_platform_export_goes -->";
    const END: &str = "<!-- end of preset columns -->";
    let files = [
        (Preset::Woocommerce, "woocommerce/sample_products.csv", "WooCommerce's product export"),
        (Preset::Shopify, "shopify/product_template.csv", "Shopify's product CSV template"),
        (Preset::Prestashop, "prestashop-9.1/products_import.csv", "PrestaShop 9.1's product import file"),
        (Preset::Prestashop, "prestashop-9.1/combinations_import.csv", "PrestaShop 9.1's combination import file"),
        (Preset::Magento, "magento2-sample-data/ConfigurableSampleData__products.csv", "Magento 2's product export"),
        (
            Preset::GoogleMerchant,
            "google-merchant-center/feed.tsv",
            "a Google Merchant Center feed (the XML's elements are the same columns)",
        ),
    ];
    let mut tables = String::new();
    for (preset, path, what) in files {
        let Some(file) = dataset(path) else { return };
        let input = std::io::BufReader::new(std::fs::File::open(&file).unwrap());
        let headers = CsvRows::open(path, input, &CsvOptions::default()).unwrap().headers().to_vec();
        tables.push_str(&format!("\n`{preset}` — {what}:\n\n| column | goes to |\n|---|---|\n"));
        for used in preset.column_uses(&headers) {
            let cell = |text: &str| text.replace('|', "\\|");
            tables.push_str(&format!("| `{}` | {} |\n", cell(&used.column), cell(&used.goes_to)));
        }
    }
    let readme_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (Some(start), Some(end)) = (readme.find(BEGIN), readme.find(END)) else {
        panic!("README.md has no section between {BEGIN:?} and {END:?}");
    };
    let current = &readme[start + BEGIN.len()..end];
    let wanted = format!("{tables}\n");
    if current != wanted {
        if std::env::var_os("PM_BLESS").is_some() {
            let written = format!("{}{BEGIN}{wanted}{}", &readme[..start], &readme[end..]);
            std::fs::write(&readme_path, written).unwrap();
        } else {
            panic!("README.md's preset tables are not what the presets do; run with PM_BLESS=1 to write:\n{wanted}");
        }
    }
}
