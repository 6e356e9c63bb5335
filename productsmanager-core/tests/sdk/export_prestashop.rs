//! Pushing the catalog to PrestaShop (the local webservice fake, on both backends): products created by reference
//! with their stock on `stock_availables`, a delta run with no change sends nothing, a change replaces the product,
//! a product made in the shop by hand is found by reference; variants become combinations (attribute groups and
//! values found or made, price impacts, stock per combination, a removed variant's combination deleted); and the
//! element names we write are those of the published blank schemas.

use productsmanager_core::db::Backend;
use productsmanager_core::exports::{ExportMode, NewPlatform, PlatformCredentials, PlatformKind};
use productsmanager_core::{Sdk, both_backends};
use productsmanager_fakes::prestashop::{COMBINATION_FIELDS, FakePrestaShop, PRODUCT_FIELDS};
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

    // Drill, saw, glue, mug and the T-shirt created; the draft skipped.
    assert_eq!(run(&sdk, "presta", ExportMode::Delta).await, counts(6, 5, 0, 0, 0, 1));
    let drill = shop.by_reference("4006381333900").unwrap();
    assert_eq!(
        (drill["price"].as_str(), drill["ean13"].as_str(), drill["active"].as_str()),
        ("129.90", "4006381333900", "1")
    );
    assert_eq!(drill["name"], "Cordless drill 18V");
    assert_eq!(drill["link_rewrite"], "cordless-drill-18v");
    let id_of = |name: &str| *shop.products().iter().find(|(_, p)| p["name"] == name).unwrap().0;
    assert_eq!(shop.stock_of(id_of("Cordless drill 18V")), Some(12), "stock set on stock_availables");
    let mug = shop.products().into_values().find(|p| p["name"] == "Mug").unwrap();
    assert_eq!(mug["active"], "0", "no price: not for sale");

    // The T-shirt: its price the lowest of its variants', three combinations with their impacts and stock, one
    // attribute group `size` with three values.
    let tee = id_of("Organic T-shirt");
    let tee_fields = &shop.products()[&tee];
    assert_eq!((tee_fields["price"].as_str(), tee_fields["active"].as_str()), ("19.99", "1"));
    let combinations = shop.resource("combinations");
    assert_eq!(combinations.len(), 3);
    let groups = shop.resource("product_options");
    assert_eq!(groups.len(), 1);
    let size = groups.values().next().unwrap();
    assert_eq!((size["name"].as_str(), size["group_type"].as_str()), ("size", "select"));
    let values = shop.resource("product_option_values");
    let named: Vec<&str> = values.values().map(|v| v["name"].as_str()).collect();
    assert_eq!(named, ["S", "M", "L"]);
    let combination_of = |option: &str| {
        let value = values.iter().find(|(_, v)| v["name"] == option).unwrap().0.to_string();
        let (id, fields) = shop
            .resource("combinations")
            .into_iter()
            .find(|(_, c)| c["@product_option_values"] == value)
            .unwrap_or_else(|| panic!("no combination of {option}"));
        (id, fields)
    };
    let (small, small_fields) = combination_of("S");
    let (large, large_fields) = combination_of("L");
    assert_eq!(small_fields["id_product"], tee.to_string());
    assert_eq!((small_fields["price"].as_str(), large_fields["price"].as_str()), ("0.00", "1.51"));
    assert_eq!(large_fields["minimal_quantity"], "1");
    assert_eq!(shop.stock_of_combination(tee, small), Some(5));
    assert_eq!(shop.stock_of_combination(tee, large), Some(0));
    assert_eq!(shop.stock_of(tee), Some(12), "the product's stock is the sum of its combinations'");

    // Nothing changed: nothing written.
    let writes = shop.requests().iter().filter(|r| r.method != "GET").count();
    assert_eq!(run(&sdk, "presta", ExportMode::Delta).await, counts(6, 0, 0, 5, 0, 1));
    assert_eq!(shop.requests().iter().filter(|r| r.method != "GET").count(), writes);

    // A variant removed here: its combination is deleted there, and it is created as a product of its own.
    let large_variant = sdk.products().find(large_fields["reference"].as_str()).await.unwrap();
    sdk.variants().remove(large_variant.id).await.unwrap();
    let counted = run(&sdk, "presta", ExportMode::Delta).await;
    assert_eq!((counted.created, counted.updated, counted.failed), (1, 1, 0), "{counted:?}");
    assert_eq!(shop.resource("combinations").len(), 2);
    assert!(!shop.resource("combinations").contains_key(&large));
    assert_eq!(shop.stock_of(tee), Some(12), "5 + 7");
    assert!(shop.by_reference(large_fields["reference"].as_str()).is_some());

    // A change: the product is replaced (PUT with its id), its stock written again.
    let saw = sdk.products().find("4006381333917").await.unwrap();
    sdk.products().patch(saw.id, serde_json::from_value(json!({"title": "Jigsaw Pro"})).unwrap()).await.unwrap();
    let counted = run(&sdk, "presta", ExportMode::Delta).await;
    assert_eq!((counted.updated, counted.created), (1, 0), "{counted:?}");
    assert_eq!(shop.by_reference("4006381333917").unwrap()["name"], "Jigsaw Pro");
    assert!(shop.requests().iter().any(|r| r.method == "PUT" && r.uri.contains("/api/products/")));

    // Another platform record: products and combinations found by reference, groups and values by name; updated,
    // nothing duplicated.
    add_shop(&sdk, "again", &shop, "PSKEY").await;
    let counted = run(&sdk, "again", ExportMode::Delta).await;
    assert_eq!((counted.created, counted.updated, counted.failed), (0, 6, 0), "{counted:?}");
    assert_eq!(shop.products().len(), 6);
    assert_eq!(
        (
            shop.resource("combinations").len(),
            shop.resource("product_options").len(),
            shop.resource("product_option_values").len()
        ),
        (2, 1, 3)
    );

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
    let Some(combination) = blank_schema("webservice_resources_combinations.md", "combination") else { return };
    for field in COMBINATION_FIELDS {
        assert!(combination.contains(&field.to_string()), "combination has no field {field}");
    }
    assert!(combination.contains(&"associations".to_string()));
    assert!(product.len() > 40 && stock.contains(&"quantity".to_string()), "{product:?} {stock:?}");
    for field in PRODUCT_FIELDS {
        assert!(product.contains(&field.to_string()), "product has no field {field}");
    }
    for field in ["id", "id_product", "id_product_attribute", "quantity", "depends_on_stock", "out_of_stock"] {
        assert!(stock.contains(&field.to_string()), "stock_available has no field {field}");
    }
    assert!(!product.contains(&"global_unique_id".to_string()));
}
