//! Pushing the catalog to Shopify (the local GraphQL fake with a Standard-plan bucket, on both backends): products
//! and variants upserted with `productSet`, a delta run with no change sends nothing, a changed product is updated
//! in place, a variant removed here is deleted there (list fields replace), a drained bucket is waited for, a
//! product already in the shop is found by handle; large pushes go as bulk operations (staged JSONL upload,
//! `bulkOperationRunMutation`, polling, result JSONL), an operation failing midway leaves failed items that the next
//! run retries, one already running is waited for; and our documents checked against Shopify's published schema.

use std::collections::HashMap;
use std::path::PathBuf;

use graphql_parser::query::{Definition, OperationDefinition, Selection, SelectionSet, Type, TypeCondition};
use productsmanager_core::db::Backend;
use productsmanager_core::exports::{
    ChannelSettings, ExportMode, NewPlatform, PlatformCredentials, PlatformKind, shopify_documents,
};
use productsmanager_core::{Sdk, both_backends};
use productsmanager_fakes::shopify::{BulkFault, FakeShopify, Fault, Plan};
use serde_json::{Value, json};

use super::export_feeds::source;
use super::export_platforms::{counts, run};

async fn add_shop(sdk: &Sdk, name: &str, shop: &FakeShopify) {
    add_shop_with(sdk, name, shop, ChannelSettings::default()).await;
}

async fn add_shop_with(sdk: &Sdk, name: &str, shop: &FakeShopify, settings: ChannelSettings) {
    let platform = NewPlatform {
        name: name.into(),
        platform: PlatformKind::Shopify,
        endpoint: shop.endpoint.clone(),
        credentials: PlatformCredentials { access_token: Some("shpat_test".into()), ..Default::default() },
        filters: Default::default(),
        settings,
        created_by: None,
    };
    sdk.exports().add_platform(platform).await.unwrap();
}

fn bulk_runs(shop: &FakeShopify) -> usize {
    shop.requests().iter().filter(|r| r.query.contains("bulkOperationRunMutation(")).count()
}

fn product_sets(shop: &FakeShopify) -> usize {
    shop.requests().iter().filter(|r| r.query.contains("productSet(")).count()
}

async fn shopify_exports(backend: Backend) {
    let Some((_databases, sdk)) = source(backend, "export_shopify").await else { return };
    let shop = FakeShopify::start("shpat_test", Plan::STANDARD).await.unwrap();
    add_shop(&sdk, "shopify", &shop).await;

    assert_eq!(run(&sdk, "shopify", ExportMode::Delta).await, counts(6, 5, 0, 0, 0, 1));
    assert_eq!(shop.products().len(), 5);
    let drill = shop.by_handle("4006381333900").unwrap();
    assert_eq!(drill["title"], "Cordless drill 18V");
    assert_eq!(drill["vendor"], "Bosch");
    assert_eq!(drill["variants"][0]["price"], "129.90");
    assert_eq!(drill["variants"][0]["barcode"], "4006381333900");
    assert_eq!(drill["variants"][0]["inventoryQuantity"], 12);
    assert_eq!(drill["files"].as_array().unwrap().len(), 2);
    let tee = shop.products().into_iter().find(|p| p["title"] == "Organic T-shirt").unwrap();
    let sizes: Vec<&str> = tee["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["selectedOptions"][0]["value"].as_str().unwrap())
        .collect();
    assert_eq!(sizes, ["S", "M", "L"]);
    assert_eq!(tee["options"][0]["name"], "size");
    let mug = shop.products().into_iter().find(|p| p["title"] == "Mug").unwrap();
    assert_eq!(mug["status"], "DRAFT", "no price: never on sale at 0.00");
    assert!(shop.requests().iter().all(|r| !r.throttled), "a normal run is never throttled");

    // No change: nothing sent.
    let sent = product_sets(&shop);
    assert_eq!(run(&sdk, "shopify", ExportMode::Delta).await, counts(6, 0, 0, 5, 0, 1));
    assert_eq!(product_sets(&shop), sent);

    // A changed title: the product updated in place (by id), nothing duplicated.
    let drill_id = sdk.products().find("4006381333900").await.unwrap().id;
    sdk.products().patch(drill_id, serde_json::from_value(json!({"title": "Drill Pro"})).unwrap()).await.unwrap();
    assert_eq!(run(&sdk, "shopify", ExportMode::Delta).await, counts(6, 0, 1, 4, 0, 1));
    assert_eq!(shop.products().len(), 5);
    assert_eq!(shop.by_handle("4006381333900").unwrap()["title"], "Drill Pro");
    let last = shop.requests().into_iter().rev().find(|r| r.query.contains("productSet(")).unwrap();
    assert_eq!(last.variables["p0"]["id"], drill["id"], "an update names the product's id");
    // The saw, none left, sold on backorder from now on: Shopify goes on selling it (`CONTINUE`), counted.
    let saw = sdk.products().find("4006381333917").await.unwrap();
    sdk.products().patch(saw.id, serde_json::from_value(json!({"availability": "backorder"})).unwrap()).await.unwrap();
    assert_eq!(run(&sdk, "shopify", ExportMode::Delta).await, counts(6, 0, 1, 4, 0, 1));
    let saw_variant = shop.by_handle("4006381333917").unwrap()["variants"][0].clone();
    let inventory = (&saw_variant["inventoryPolicy"], &saw_variant["inventoryItem"]["tracked"]);
    assert_eq!(inventory, (&json!("CONTINUE"), &json!(true)), "{saw_variant}");
    let drill_now = shop.by_handle("4006381333900").unwrap();
    assert_eq!(
        (&drill_now["variants"][0]["inventoryPolicy"], &drill_now["variants"][0]["inventoryItem"]["tracked"]),
        (&json!("DENY"), &json!(true))
    );

    // A variant removed here: the parent is sent with two variants, and Shopify deletes the third (list fields
    // replace); the former variant becomes a product of its own.
    let large = sdk.products().find("4006381333948").await.unwrap();
    sdk.variants().remove(large.id).await.unwrap();
    let counted = run(&sdk, "shopify", ExportMode::Delta).await;
    assert_eq!((counted.created, counted.updated), (1, 1), "{counted:?}");
    let tee = shop.products().into_iter().find(|p| p["title"] == "Organic T-shirt").unwrap();
    assert_eq!(tee["variants"].as_array().unwrap().len(), 2);
    assert_eq!(shop.products().len(), 6);

    // The bucket nearly empty (spent by another app before the run): the client reads it from the first answer and
    // waits for the points the mutation needs instead of being throttled.
    shop.drain();
    let before = shop.requests().len();
    let counted = run(&sdk, "shopify", ExportMode::Full).await;
    assert_eq!((counted.updated, counted.failed), (6, 0), "{counted:?}");
    assert!(shop.requests()[before..].iter().all(|r| !r.throttled));
    // Spent by another app between two of our calls: answered THROTTLED once, the client waits and sends again.
    shop.inject(&[Fault::SpentBucket]);
    let before = shop.requests().len();
    let counted = run(&sdk, "shopify", ExportMode::Full).await;
    assert_eq!((counted.updated, counted.failed), (6, 0), "{counted:?}");
    let throttled = shop.requests()[before..].iter().filter(|r| r.throttled).count();
    assert_eq!(throttled, 1, "one THROTTLED answer, then the client waits for the bucket");

    // A second platform record on the same shop knows no ids: products are found by handle and updated.
    add_shop(&sdk, "same-shop", &shop).await;
    let counted = run(&sdk, "same-shop", ExportMode::Delta).await;
    assert_eq!((counted.created, counted.updated), (0, 6), "{counted:?}");
    assert_eq!(shop.products().len(), 6);

    // A refused token fails the run naming Shopify's answer.
    let wrong = NewPlatform {
        name: "wrong".into(),
        platform: PlatformKind::Shopify,
        endpoint: shop.endpoint.clone(),
        credentials: PlatformCredentials { access_token: Some("shpat_wrong".into()), ..Default::default() },
        filters: Default::default(),
        settings: Default::default(),
        created_by: None,
    };
    sdk.exports().add_platform(wrong).await.unwrap();
    let error = sdk.exports().run_platform_now("wrong", ExportMode::Delta, None, |_| {}).await.unwrap_err();
    assert!(error.to_string().contains("Invalid API key or access token"), "{error}");
}

both_backends!(shopify_exports);

async fn shopify_bulk_exports(backend: Backend) {
    let Some((_databases, sdk)) = source(backend, "export_shopify_bulk").await else { return };
    let shop = FakeShopify::start("shpat_test", Plan::STANDARD).await.unwrap();
    // Every push of 3 products or more goes as a bulk operation (250 by default).
    add_shop_with(&sdk, "bulk", &shop, ChannelSettings { bulk_from: Some(3), ..Default::default() }).await;

    // The first run: one staged upload, one bulk operation, no productSet document; the same products as the
    // document path makes (the fake answers the result lines last first: matched by __lineNumber).
    assert_eq!(run(&sdk, "bulk", ExportMode::Delta).await, counts(6, 5, 0, 0, 0, 1));
    assert_eq!(shop.uploads().len(), 1);
    assert_eq!(bulk_runs(&shop), 1);
    assert_eq!(product_sets(&shop), 0);
    assert_eq!(shop.products().len(), 5);
    let drill = shop.by_handle("4006381333900").unwrap();
    assert_eq!(drill["title"], "Cordless drill 18V");
    assert_eq!(drill["variants"][0]["price"], "129.90");
    assert_eq!(drill["variants"][0]["inventoryQuantity"], 12);
    let tee = shop.products().into_iter().find(|p| p["title"] == "Organic T-shirt").unwrap();
    assert_eq!(tee["variants"].as_array().unwrap().len(), 3);
    assert!(shop.requests().iter().all(|r| !r.throttled));

    // No change: nothing staged, nothing run.
    assert_eq!(run(&sdk, "bulk", ExportMode::Delta).await, counts(6, 0, 0, 5, 0, 1));
    assert_eq!(shop.uploads().len(), 1);

    // One changed product is below the bulk threshold: one productSet document, by id.
    let drill_id = sdk.products().find("4006381333900").await.unwrap().id;
    sdk.products().patch(drill_id, serde_json::from_value(json!({"title": "Drill Pro"})).unwrap()).await.unwrap();
    assert_eq!(run(&sdk, "bulk", ExportMode::Delta).await, counts(6, 0, 1, 4, 0, 1));
    assert_eq!((shop.uploads().len(), product_sets(&shop)), (1, 1));
    assert_eq!(shop.by_handle("4006381333900").unwrap()["title"], "Drill Pro");

    // The operation fails after its first line: that product is updated, the four others are failed items saying
    // why; the next run sends those four again (by id: nothing duplicated).
    shop.inject_bulk(BulkFault::FailAfter(1));
    let job = sdk.exports().run_platform_now("bulk", ExportMode::Full, None, |_| {}).await.unwrap();
    assert_eq!((job.items_updated, job.items_failed), (1, 4), "{job:?}");
    let failed = sdk.exports().items(job.id, Some("failed"), None, 10).await.unwrap();
    assert_eq!(failed.len(), 4);
    assert!(
        failed.iter().all(|i| i.error.as_deref().is_some_and(|e| e.contains("FAILED (INTERNAL_SERVER_ERROR)"))),
        "{failed:?}"
    );
    let counted = run(&sdk, "bulk", ExportMode::Delta).await;
    assert_eq!((counted.updated, counted.unchanged, counted.failed), (4, 1, 0), "{counted:?}");
    assert_eq!(shop.products().len(), 5);

    // A bulk mutation left running (by a run that was killed): ours waits for it to end, then runs.
    shop.occupy(std::time::Duration::from_millis(700));
    let started = std::time::Instant::now();
    let counted = run(&sdk, "bulk", ExportMode::Full).await;
    assert_eq!((counted.updated, counted.failed), (5, 0), "{counted:?}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(600));
    assert!(shop.requests().iter().any(|r| r.query.contains("currentBulkOperation(")));
    assert_eq!(shop.products().len(), 5);

    // The channel's field mapping reaches the platform: the vendor from the category.
    let settings = ChannelSettings {
        bulk_from: Some(3),
        field_mapping: [("brand".to_string(), "category".to_string())].into(),
        ..Default::default()
    };
    add_shop_with(&sdk, "mapped", &shop, settings).await;
    let counted = run(&sdk, "mapped", ExportMode::Delta).await;
    assert_eq!((counted.created, counted.updated), (0, 5), "{counted:?}");
    assert_eq!(shop.by_handle("4006381333900").unwrap()["vendor"], "Tools > Power tools");
}

both_backends!(shopify_bulk_exports);

/// Shopify's Admin schema (2025-01 introspection, gzipped) from `../shared`; `None` (said) when absent.
fn schema() -> Option<HashMap<String, Value>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/research/api-specs/shopify-admin-graphql/admin_schema_2025-01.json.gz");
    let Ok(file) = std::fs::File::open(&path) else {
        eprintln!("NOT RUN: Shopify schema check ({} does not exist)", path.display());
        return None;
    };
    let document: Value = serde_json::from_reader(flate2::read::GzDecoder::new(file)).unwrap();
    let root = document.get("data").unwrap_or(&document);
    let types = root["__schema"]["types"].as_array().unwrap();
    Some(types.iter().map(|t| (t["name"].as_str().unwrap().to_string(), t.clone())).collect())
}

/// The named type under NON_NULL and LIST wrappers.
fn named(type_ref: &Value) -> String {
    match type_ref["name"].as_str() {
        Some(name) => name.to_string(),
        None => named(&type_ref["ofType"]),
    }
}

/// Every field selected exists on its type, with the arguments given; returns the problems found.
fn check_selection(
    types: &HashMap<String, Value>,
    type_name: &str,
    set: &SelectionSet<'_, String>,
    out: &mut Vec<String>,
) {
    let Some(fields) = types.get(type_name).and_then(|t| t["fields"].as_array()) else {
        out.push(format!("no type {type_name}"));
        return;
    };
    for selection in &set.items {
        let field = match selection {
            Selection::Field(field) => field,
            Selection::InlineFragment(fragment) => {
                // `... on Type`: its fields checked on that type, which must implement this one.
                let Some(TypeCondition::On(name)) = &fragment.type_condition else { continue };
                let implements = types
                    .get(name)
                    .and_then(|t| t["interfaces"].as_array())
                    .is_some_and(|interfaces| interfaces.iter().any(|i| i["name"] == type_name));
                if !implements && name != type_name {
                    out.push(format!("{name} is not a {type_name}"));
                }
                check_selection(types, name, &fragment.selection_set, out);
                continue;
            }
            Selection::FragmentSpread(_) => continue,
        };
        let Some(definition) = fields.iter().find(|f| f["name"] == field.name.as_str()) else {
            out.push(format!("{type_name}.{} does not exist", field.name));
            continue;
        };
        for (argument, _) in &field.arguments {
            let known = definition["args"].as_array().unwrap().iter().any(|a| a["name"] == argument.as_str());
            if !known {
                out.push(format!("{type_name}.{}({argument}:) does not exist", field.name));
            }
        }
        if !field.selection_set.items.is_empty() {
            check_selection(types, &named(&definition["type"]), &field.selection_set, out);
        }
    }
}

fn variable_type(t: &Type<'_, String>) -> String {
    match t {
        Type::NamedType(name) => name.clone(),
        Type::ListType(inner) | Type::NonNullType(inner) => variable_type(inner),
    }
}

/// The documents our Shopify client sends: every field, argument and variable type exists in the 2025-01 schema,
/// and every field of the `ProductSetInput` we build is an input field of it.
#[test]
fn shopify_documents_match_the_published_schema() {
    let Some(types) = schema() else { return };
    let documents = shopify_documents();
    for text in &documents {
        let document = graphql_parser::parse_query::<String>(text).unwrap();
        let mut problems = Vec::new();
        for definition in &document.definitions {
            let Definition::Operation(operation) = definition else { continue };
            let (root, set, variables) = match operation {
                OperationDefinition::Mutation(m) => ("Mutation", &m.selection_set, &m.variable_definitions),
                OperationDefinition::Query(q) => ("QueryRoot", &q.selection_set, &q.variable_definitions),
                _ => panic!("unexpected operation"),
            };
            for variable in variables {
                let name = variable_type(&variable.var_type);
                if !types.contains_key(&name) {
                    problems.push(format!("variable type {name} does not exist"));
                }
            }
            check_selection(&types, root, set, &mut problems);
        }
        assert!(problems.is_empty(), "{text}: {problems:?}");
    }
    // The input fields we set.
    let input_fields = |name: &str| -> Vec<String> {
        types[name]["inputFields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_string()).collect()
    };
    let product = input_fields("ProductSetInput");
    for field in ["title", "descriptionHtml", "vendor", "handle", "status", "files", "id", "productOptions", "variants"]
    {
        assert!(product.contains(&field.to_string()), "ProductSetInput.{field}");
    }
    let variant = input_fields("ProductVariantSetInput");
    for field in [
        "optionValues",
        "sku",
        "barcode",
        "price",
        "compareAtPrice",
        "inventoryPolicy",
        "inventoryItem",
        "inventoryQuantities",
        "id",
    ] {
        assert!(variant.contains(&field.to_string()), "ProductVariantSetInput.{field}");
    }
    let staged = input_fields("StagedUploadInput");
    for field in ["resource", "filename", "mimeType", "httpMethod"] {
        assert!(staged.contains(&field.to_string()), "StagedUploadInput.{field}");
    }
    let resources = types["StagedUploadTargetGenerateUploadResource"]["enumValues"].as_array().unwrap();
    assert!(resources.iter().any(|v| v["name"] == "BULK_MUTATION_VARIABLES"));
    let quantity = input_fields("ProductSetInventoryInput");
    for field in ["locationId", "name", "quantity"] {
        assert!(quantity.contains(&field.to_string()), "ProductSetInventoryInput.{field}");
    }
    let file = input_fields("FileSetInput");
    for field in ["originalSource", "contentType"] {
        assert!(file.contains(&field.to_string()), "FileSetInput.{field}");
    }
}
