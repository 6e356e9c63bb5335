//! Pushing the catalog to PrestaShop (the local webservice fake, on both backends): products created by reference
//! with their stock on `stock_availables`, a delta run with no change sends nothing, a change replaces the product,
//! a product made in the shop by hand is found by reference, combinations are refused with their reason; and the
//! element names we write are those of the published blank schemas.

use productsmanager_core::db::Backend;
use productsmanager_core::exports::{ExportMode, NewPlatform, PlatformCredentials, PlatformKind};
use productsmanager_core::{Sdk, both_backends};
use productsmanager_fakes::prestashop::{FakePrestaShop, PRODUCT_FIELDS};
use serde_json::json;

use super::export_feeds::source;
use super::export_platforms::{counts, run};

async fn add_shop(sdk: &Sdk, name: &str, shop: &FakePrestaShop, key: &str) {
    let platform = NewPlatform {
        name: name.into(),
        platform: PlatformKind::Prestashop,
        endpoint: shop.base_url.clone(),
        credentials: PlatformCredentials { key: Some(key.into()), ..Default::default() },
        filters: Default::default(),
        settings: Default::default(),
        created_by: None,
    };
    sdk.exports().add_platform(platform).await.unwrap();
}

async fn prestashop_exports(backend: Backend) {
    let Some((_databases, sdk)) = source(backend, "export_prestashop").await else { return };
    let shop = FakePrestaShop::start("PSKEY").await.unwrap();
    add_shop(&sdk, "presta", &shop, "PSKEY").await;

    // Drill, saw, glue and mug created; the T-shirt has combinations (refused with the reason); the draft skipped.
    assert_eq!(run(&sdk, "presta", ExportMode::Delta).await, counts(6, 4, 0, 0, 1, 1));
    let drill = shop.by_reference("4006381333900").unwrap();
    assert_eq!(
        (drill["price"].as_str(), drill["ean13"].as_str(), drill["active"].as_str()),
        ("129.90", "4006381333900", "1")
    );
    assert_eq!(drill["name"], "Cordless drill 18V");
    assert_eq!(drill["link_rewrite"], "cordless-drill-18v");
    let drill_id = *shop.products().iter().find(|(_, p)| p["reference"] == "4006381333900").unwrap().0;
    assert_eq!(shop.stock_of(drill_id), Some(12), "stock set on stock_availables");
    let mug = shop.products().into_values().find(|p| p["name"] == "Mug").unwrap();
    assert_eq!(mug["active"], "0", "no price: not for sale");
    let job = sdk.exports().jobs_page(1, None).await.unwrap().items[0].id;
    let failed = sdk.exports().items(job, Some("failed"), None, 10).await.unwrap();
    assert!(failed[0].error.as_deref().unwrap().contains("combinations"), "{failed:?}");

    // Nothing changed but the T-shirt, which failed: only it is tried again (and fails the same way).
    let writes = shop.requests().iter().filter(|r| r.method != "GET").count();
    assert_eq!(run(&sdk, "presta", ExportMode::Delta).await, counts(6, 0, 0, 4, 1, 1));
    assert_eq!(shop.requests().iter().filter(|r| r.method != "GET").count(), writes);

    // A change: the product is replaced (PUT with its id), its stock written again.
    let saw = sdk.products().find("4006381333917").await.unwrap();
    sdk.products().patch(saw.id, serde_json::from_value(json!({"title": "Jigsaw Pro"})).unwrap()).await.unwrap();
    let counted = run(&sdk, "presta", ExportMode::Delta).await;
    assert_eq!((counted.updated, counted.created), (1, 0), "{counted:?}");
    assert_eq!(shop.by_reference("4006381333917").unwrap()["name"], "Jigsaw Pro");
    assert!(shop.requests().iter().any(|r| r.method == "PUT" && r.uri.contains("/api/products/")));

    // Another platform record: products found by reference, updated, not duplicated.
    add_shop(&sdk, "again", &shop, "PSKEY").await;
    let counted = run(&sdk, "again", ExportMode::Delta).await;
    assert_eq!((counted.created, counted.updated), (0, 4), "{counted:?}");
    assert_eq!(shop.products().len(), 4);

    // A wrong key fails the run naming the shop's answer.
    add_shop(&sdk, "wrong", &shop, "NOPE").await;
    let error = sdk.exports().run_platform_now("wrong", ExportMode::Delta, None, |_| {}).await.unwrap_err();
    assert!(error.to_string().contains("No permission for this authentication key"), "{error}");
}

both_backends!(prestashop_exports);

/// Element names of a blank schema in the published resource page (`../shared`); `None` (said) when absent.
fn blank_schema(resource_file: &str, resource: &str) -> Option<Vec<String>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/research/api-specs/prestashop-webservice")
        .join(resource_file);
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("NOT RUN: PrestaShop schema check ({} does not exist)", path.display());
        return None;
    };
    let start = text.find(&format!("<{resource}>"))?;
    let end = text.find(&format!("</{resource}>"))?;
    // Direct children of the resource: lines indented one level below it.
    let names = text[start..end]
        .lines()
        .skip(1)
        .filter(|line| line.starts_with("    <") && !line.starts_with("     "))
        .filter_map(|line| line.trim().strip_prefix('<')?.split(['>', ' ', '/']).next().map(str::to_string))
        .collect();
    Some(names)
}

/// Every element the client writes and the fake keeps is a field of the published product and stock_available
/// resources.
#[tokio::test]
async fn prestashop_documents_use_the_published_fields() {
    let Some(product) = blank_schema("webservice_resources_products.md", "product") else { return };
    let Some(stock) = blank_schema("webservice_resources_stock_availables.md", "stock_available") else { return };
    assert!(product.len() > 40 && stock.contains(&"quantity".to_string()), "{product:?} {stock:?}");
    for field in PRODUCT_FIELDS {
        assert!(product.contains(&field.to_string()), "product has no field {field}");
    }
    for field in ["id", "id_product", "id_product_attribute", "quantity", "depends_on_stock", "out_of_stock"] {
        assert!(stock.contains(&field.to_string()), "stock_available has no field {field}");
    }
    assert!(!product.contains(&"global_unique_id".to_string()));
}
