//! Pushing the catalog to WooCommerce (the local fake, on both backends): a first run creates, a delta run with no
//! change sends nothing, one changed product sends one item, an injected per-item failure ends as a failed item
//! and goes through on the next run, a product already in the shop is found by SKU and updated, batches stay
//! within WooCommerce's 100 items, and a shop that is down fails the run without losing what went through.

use productsmanager_core::catalog::{Money, NewPrice, NewProduct, PriceType, ProductStatus};
use productsmanager_core::db::Backend;
use productsmanager_core::exports::{
    ChannelSettings, ExportMode, ExportService, NewPlatform, PlatformCredentials, PlatformKind, PlatformRunCounts,
};
use productsmanager_core::{ErrorKind, Sdk, both_backends};
use productsmanager_fakes::woocommerce::{FakeWooCommerce, Fault};
use serde_json::json;

use super::export_feeds::source;

pub(crate) fn counts(
    processed: u64,
    created: u64,
    updated: u64,
    unchanged: u64,
    failed: u64,
    skipped: u64,
) -> PlatformRunCounts {
    PlatformRunCounts { processed, created, updated, unchanged, failed, skipped }
}

async fn add_shop(exports: &ExportService, name: &str, shop: &FakeWooCommerce) {
    add_shop_with(exports, name, shop, ChannelSettings::default()).await;
}

/// Adds the fake shop as a WooCommerce platform named `name`.
pub(crate) async fn add_shop_with(
    exports: &ExportService,
    name: &str,
    shop: &FakeWooCommerce,
    settings: ChannelSettings,
) {
    let platform = NewPlatform {
        name: name.into(),
        platform: PlatformKind::Woocommerce,
        endpoint: shop.base_url.clone(),
        credentials: PlatformCredentials {
            key: Some("ck_test".into()),
            secret: Some("cs_test".into()),
            access_token: None,
        },
        filters: Default::default(),
        settings,
        created_by: None,
    };
    exports.add_platform(platform).await.unwrap();
}

/// Runs the platform now and returns the job's counters as run counts.
pub(crate) async fn run(sdk: &Sdk, platform: &str, mode: ExportMode) -> PlatformRunCounts {
    let job = sdk.exports().run_platform_now(platform, mode, None, |_| {}).await.unwrap();
    assert_eq!(job.state, "succeeded", "{job:?}");
    let n = |v: i64| v as u64;
    counts(
        n(job.items_processed),
        n(job.items_created),
        n(job.items_updated),
        n(job.items_unchanged),
        n(job.items_failed),
        n(job.items_skipped),
    )
}

fn writes(shop: &FakeWooCommerce) -> usize {
    shop.requests().iter().filter(|r| r.method != "GET").count()
}

async fn woocommerce_delta_exports(backend: Backend) {
    let Some((_databases, sdk)) = source(backend, "export_woocommerce").await else { return };
    let shop = FakeWooCommerce::start("ck_test", "cs_test").await.unwrap();
    let exports = sdk.exports();
    add_shop(&exports, "shop", &shop).await;
    let listed = exports.platforms().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(!serde_json::to_string(&listed).unwrap().contains("cs_test"), "credentials are never answered");

    // A category the shop has already (made by hand).
    let tools = shop.add_category("Tools", 0);

    // First run: five products created (the T-shirt with its three variations); the draft lamp is not created.
    assert_eq!(run(&sdk, "shop", ExportMode::Delta).await, counts(6, 5, 0, 0, 0, 1));
    // Their categories found or made level by level: Tools (found) > Power tools, Supplies; Clothing > Shirts;
    // Home > Kitchen (the lamp's Home > Lighting is not made: the lamp is not sent).
    let categories = shop.categories();
    let named = |name: &str| categories.iter().find(|c| c["name"] == name).unwrap().clone();
    assert_eq!(categories.len(), 7, "{categories:?}");
    assert_eq!(named("Power tools")["parent"], tools);
    assert_eq!(named("Shirts")["parent"], named("Clothing")["id"]);
    let products = shop.products();
    assert_eq!(products.len(), 8, "4 simple + 1 variable + 3 variations");
    let drill = shop.by_sku("4006381333900").unwrap();
    assert_eq!(drill["regular_price"], "129.90", "prices are strings");
    assert_eq!(drill["global_unique_id"], "4006381333900");
    assert_eq!((drill["stock_quantity"].as_i64(), drill["stock_status"].as_str()), (Some(12), Some("instock")));
    assert_eq!(drill["images"].as_array().unwrap().len(), 2);
    assert_eq!(
        drill["categories"],
        json!([{"id": named("Power tools")["id"], "name": "Power tools", "slug": "power-tools"}])
    );
    let tee = products.values().find(|p| p["name"] == "Organic T-shirt").unwrap();
    assert_eq!(tee["type"], "variable");
    assert_eq!(tee["attributes"][0]["options"], json!(["S", "M", "L"]));
    assert_eq!(tee["variations"].as_array().unwrap().len(), 3);
    let large = products.values().find(|p| p["attributes"][0]["option"] == "L").unwrap();
    assert_eq!((large["regular_price"].as_str(), large["stock_status"].as_str()), (Some("21.50"), Some("outofstock")));
    let items =
        exports.items(exports.jobs_page(1, None).await.unwrap().items[0].id, Some("skipped"), None, 10).await.unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0].error.as_deref().unwrap().contains("draft"), "{items:?}");

    // Nothing changed: a delta run sends nothing.
    let before = writes(&shop);
    assert_eq!(run(&sdk, "shop", ExportMode::Delta).await, counts(6, 0, 0, 5, 0, 1));
    assert_eq!(writes(&shop), before, "no write request at all");

    // One product changed: one item sent, as an update of the product already there.
    let drill_id = sdk.products().find("4006381333900").await.unwrap().id;
    let patch = serde_json::from_value(json!({"title": "Cordless drill 18V Pro"})).unwrap();
    sdk.products().patch(drill_id, patch).await.unwrap();
    let before = shop.requests().len();
    assert_eq!(run(&sdk, "shop", ExportMode::Delta).await, counts(6, 0, 1, 4, 0, 1));
    // One write (and the lookups of its category, a run's first).
    let sent: Vec<_> = shop.requests()[before..].iter().filter(|r| r.method != "GET").cloned().collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0].body["create"].as_array().unwrap().len(), sent[0].body["update"].as_array().unwrap().len()),
        (0, 1)
    );
    assert_eq!(shop.by_sku("4006381333900").unwrap()["name"], "Cordless drill 18V Pro");
    assert_eq!(shop.products().len(), 8);

    // A new price for the saw.
    let saw = sdk.products().find("4006381333917").await.unwrap();
    let price = NewPrice {
        product_id: saw.id,
        price_type: PriceType::Retail,
        amount: Money::new(7900, "EUR".parse().unwrap()),
        valid_from: None,
        valid_to: None,
    };
    sdk.prices().set(price).await.unwrap();
    // The shop fails that product once: a failed item, the job still succeeds.
    shop.fail_sku("4006381333917", 1);
    assert_eq!(run(&sdk, "shop", ExportMode::Delta).await, counts(6, 0, 0, 4, 1, 1));
    let job = exports.jobs_page(1, None).await.unwrap().items[0].clone();
    let failed = exports.items(job.id, Some("failed"), None, 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].product_id, saw.id);
    assert!(failed[0].error.as_deref().unwrap().contains("woocommerce_rest_cannot_create"), "{failed:?}");
    assert_eq!(shop.by_sku("4006381333917").unwrap()["regular_price"], "89.00", "not changed in the shop");
    // The next run retries it (the first retry comes at once) and it goes through.
    assert_eq!(run(&sdk, "shop", ExportMode::Delta).await, counts(6, 0, 1, 4, 0, 1));
    assert_eq!(shop.by_sku("4006381333917").unwrap()["regular_price"], "79.00");

    // A full run sends everything again, as updates.
    assert_eq!(run(&sdk, "shop", ExportMode::Full).await, counts(6, 0, 5, 0, 0, 1));
    assert_eq!(shop.products().len(), 8);

    // Another platform record on the same shop knows no remote ids: the creates are refused for their SKUs, the
    // products found by SKU and updated — nothing is duplicated. Its categories are found again (none made twice),
    // and one it maps to a name WordPress answers escaped (`Home &amp; Garden`, made by hand) is found too.
    let garden = shop.add_category("Home & Garden", 0);
    let mapping = [("Home > Kitchen".to_string(), "Home & Garden > Kitchen".to_string())].into();
    add_shop_with(&exports, "same-shop", &shop, ChannelSettings { category_mapping: mapping, ..Default::default() })
        .await;
    assert_eq!(run(&sdk, "same-shop", ExportMode::Delta).await, counts(6, 0, 5, 0, 0, 1));
    assert_eq!(shop.products().len(), 8);
    let categories = shop.categories();
    assert_eq!(categories.len(), 9, "Home & Garden > Kitchen made, nothing else: {categories:?}");
    let mug = shop.by_sku("4006381333962").unwrap();
    let kitchen = categories.iter().find(|c| c["id"] == mug["categories"][0]["id"]).unwrap();
    assert_eq!((kitchen["name"].as_str(), &kitchen["parent"]), (Some("Kitchen"), &json!(garden)));

    // The shop down: the run fails (retryable), what went through before is kept.
    let patch = serde_json::from_value(json!({"title": "Jigsaw 2"})).unwrap();
    sdk.products().patch(saw.id, patch).await.unwrap();
    shop.inject(&[Fault::ServerError]);
    let error = exports.run_platform_now("shop", ExportMode::Delta, None, |_| {}).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");
    assert!(error.to_string().contains("internal_server_error"), "{error}");
    assert_eq!(exports.jobs_page(1, None).await.unwrap().items[0].state, "failed");
    assert_eq!(run(&sdk, "shop", ExportMode::Delta).await, counts(6, 0, 1, 4, 0, 1));
    assert_eq!(shop.by_sku("4006381333917").unwrap()["name"], "Jigsaw 2");

    // The saw, none left, sold on backorder from now on: one update, backorders allowed in the shop.
    let patch = serde_json::from_value(json!({"availability": "backorder"})).unwrap();
    sdk.products().patch(saw.id, patch).await.unwrap();
    assert_eq!(run(&sdk, "shop", ExportMode::Delta).await, counts(6, 0, 1, 4, 0, 1));
    let saw_there = shop.by_sku("4006381333917").unwrap();
    let stock =
        |p: &serde_json::Value| (p["stock_quantity"].as_i64(), p["backorders"].clone(), p["stock_status"].clone());
    assert_eq!(stock(&saw_there), (Some(0), json!("notify"), json!("onbackorder")));
    // And no longer: backorders refused again in the shop.
    let patch = serde_json::from_value(json!({"availability": null})).unwrap();
    sdk.products().patch(saw.id, patch).await.unwrap();
    assert_eq!(run(&sdk, "shop", ExportMode::Delta).await, counts(6, 0, 1, 4, 0, 1));
    let saw_there = shop.by_sku("4006381333917").unwrap();
    assert_eq!(stock(&saw_there), (Some(0), json!("no"), json!("outofstock")));

    // A variant removed here: its variation is deleted in the shop, and it is created as a product of its own.
    let large = sdk.products().find("4006381333948").await.unwrap();
    sdk.variants().remove(large.id).await.unwrap();
    let counted = run(&sdk, "shop", ExportMode::Delta).await;
    assert_eq!((counted.created, counted.updated, counted.failed), (1, 1, 0), "{counted:?}");
    let tee = shop.products().into_values().find(|p| p["name"] == "Organic T-shirt").unwrap();
    assert_eq!(tee["variations"].as_array().unwrap().len(), 2);
    let large_there = shop.by_sku("4006381333948").unwrap();
    assert_eq!(large_there["type"], "simple");
    assert_eq!(shop.products().len(), 8, "one variation gone, one product more");
}

async fn woocommerce_batches_of_100(backend: Backend) {
    let Some(databases) =
        productsmanager_core::testing::TestDatabases::named(backend, "export_woocommerce_batches").await
    else {
        return;
    };
    let sdk = databases.sdk().await;
    for n in 0..230 {
        let product = sdk
            .products()
            .create(NewProduct {
                sku: Some(format!("BULK-{n:03}").parse().unwrap()),
                title: format!("Bulk product {n}"),
                status: Some(ProductStatus::Active),
                ..Default::default()
            })
            .await
            .unwrap();
        let price = NewPrice {
            product_id: product.id,
            price_type: PriceType::Retail,
            amount: Money::new(100 + n, "EUR".parse().unwrap()),
            valid_from: None,
            valid_to: None,
        };
        sdk.prices().set(price).await.unwrap();
    }
    let shop = FakeWooCommerce::start("ck_test", "cs_test").await.unwrap();
    add_shop(&sdk.exports(), "shop", &shop).await;
    assert_eq!(run(&sdk, "shop", ExportMode::Delta).await, counts(230, 230, 0, 0, 0, 0));
    let batches: Vec<usize> = shop
        .requests()
        .iter()
        .filter(|r| r.uri.ends_with("/products/batch"))
        .map(|r| r.body["create"].as_array().unwrap().len() + r.body["update"].as_array().unwrap().len())
        .collect();
    assert!(batches.iter().all(|n| *n <= 100), "{batches:?}");
    assert_eq!(batches.iter().sum::<usize>(), 230);
    assert_eq!(shop.by_sku("BULK-229").unwrap()["regular_price"], "3.29");

    // The shop's own limit: 101 items are refused as a whole with 413.
    let body = json!({"create": (0..101).map(|n| json!({"name": format!("x{n}")})).collect::<Vec<_>>()});
    let response = reqwest::Client::new()
        .post(format!("{}/products/batch", shop.base_url))
        .basic_auth("ck_test", Some("cs_test"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let answer: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(answer["code"], "woocommerce_rest_request_entity_too_large");
    // Wrong credentials: the run fails naming the shop's refusal, not retried.
    let wrong = NewPlatform {
        name: "wrong".into(),
        platform: PlatformKind::Woocommerce,
        endpoint: shop.base_url.clone(),
        credentials: PlatformCredentials {
            key: Some("ck_test".into()),
            secret: Some("cs_wrong".into()),
            access_token: None,
        },
        filters: Default::default(),
        settings: Default::default(),
        created_by: None,
    };
    sdk.exports().add_platform(wrong).await.unwrap();
    let error = sdk.exports().run_platform_now("wrong", ExportMode::Delta, None, |_| {}).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Invalid, "{error}");
    assert!(error.to_string().contains("woocommerce_rest_cannot_view"), "{error}");
    // A plain-HTTP shop elsewhere than this machine is refused when stored.
    let insecure = NewPlatform {
        name: "insecure".into(),
        platform: PlatformKind::Woocommerce,
        endpoint: "http://shop.example/wp-json/wc/v3".into(),
        credentials: PlatformCredentials { key: Some("ck".into()), secret: Some("cs".into()), access_token: None },
        filters: Default::default(),
        settings: Default::default(),
        created_by: None,
    };
    let error = sdk.exports().add_platform(insecure).await.unwrap_err();
    assert_eq!((error.kind(), error.field()), (ErrorKind::Invalid, Some("endpoint")));
}

both_backends!(woocommerce_delta_exports, woocommerce_batches_of_100);

/// The community OpenAPI description of WooCommerce's `wc/v3` (../shared), as JSON; says so when it is absent.
fn woocommerce_contract() -> Option<serde_json::Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/research/api-specs/woocommerce/woocommerce-openapi-3.0.x.yml");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(yaml_serde::from_str(&text).unwrap()),
        Err(e) => {
            eprintln!("NOT RUN: the WooCommerce contract check needs {} ({e})", path.display());
            None
        }
    }
}

/// `value` without its null members: the description predates `nullable`, yet WooCommerce answers `null` for an
/// unset `stock_quantity` or `date_on_sale_from`.
fn without_nulls(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(fields) => {
            fields.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect()
        }
        serde_json::Value::Array(items) => items.iter().map(without_nulls).collect(),
        other => other.clone(),
    }
}

/// Our client and the fake held against the published description: every field we send is a property of
/// `product` / `product_variation` (`global_unique_id`, WooCommerce 9.2, postdates the file) or of a category
/// created, the query parameters we look products and categories up with are declared, and the fake's product and
/// category bodies conform to `product` and `product_cat`.
async fn woocommerce_contract_holds(backend: Backend) {
    let Some(contract) = woocommerce_contract() else { return };
    let Some((_databases, sdk)) = source(backend, "export_woocommerce_contract").await else { return };
    let shop = FakeWooCommerce::start("ck_test", "cs_test").await.unwrap();
    add_shop(&sdk.exports(), "shop", &shop).await;
    add_shop(&sdk.exports(), "again", &shop).await;
    run(&sdk, "shop", ExportMode::Delta).await;
    run(&sdk, "again", ExportMode::Delta).await; // adopts by SKU: lookups and updates
    let schemas = &contract["components"]["schemas"];
    let properties =
        |name: &str| -> Vec<String> { schemas[name]["properties"].as_object().unwrap().keys().cloned().collect() };
    let (product, variation) = (properties("product"), properties("product_variation"));
    let mut checked = 0;
    for request in shop.requests() {
        if request.method == "GET" {
            let path = request.uri.split('?').next().unwrap().to_string();
            let declared = if path.ends_with("/variations") {
                &contract["paths"]["/products/{product_id}/variations"]["get"]["parameters"]
            } else if path.ends_with("/categories") {
                &contract["paths"]["/products/categories"]["get"]["parameters"]
            } else {
                &contract["paths"]["/products"]["get"]["parameters"]
            };
            let names: Vec<&str> = declared.as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
            for (name, _) in
                url::form_urlencoded::parse(request.uri.split_once('?').map(|(_, q)| q).unwrap_or("").as_bytes())
            {
                assert!(names.contains(&name.as_ref()), "GET {} sends {name}, not declared", request.uri);
            }
            continue;
        }
        if request.uri.ends_with("/products/categories") {
            let body = &contract["paths"]["/products/categories"]["post"]["requestBody"]["content"]["application/json"];
            let declared = body["schema"]["properties"].as_object().unwrap();
            for field in request.body.as_object().unwrap().keys() {
                assert!(declared.contains_key(field), "POST {} sends {field:?}", request.uri);
                checked += 1;
            }
            continue;
        }
        let known = if request.uri.contains("/variations/") { &variation } else { &product };
        for list in ["create", "update"] {
            for item in request.body[list].as_array().into_iter().flatten() {
                for field in item.as_object().unwrap().keys() {
                    assert!(field == "global_unique_id" || known.contains(field), "{} sends {field:?}", request.uri);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 50, "{checked} fields checked");
    let validator = |name: &str| {
        let schema =
            serde_json::json!({"$ref": format!("#/components/schemas/{name}"), "components": contract["components"]});
        jsonschema::draft4::new(&schema).unwrap()
    };
    let (products, variations) = (validator("product"), validator("product_variation"));
    let categories = validator("product_cat");
    assert!(!shop.categories().is_empty());
    for body in shop.categories() {
        let errors: Vec<String> =
            categories.iter_errors(&without_nulls(&body)).map(|e| format!("{}: {e}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{body}: {errors:?}");
    }
    for body in shop.products().values() {
        let schema = if body.get("parent_id").is_some() { &variations } else { &products };
        let errors: Vec<String> =
            schema.iter_errors(&without_nulls(body)).map(|e| format!("{}: {e}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{body}: {errors:?}");
    }
}

both_backends!(woocommerce_contract_holds);
