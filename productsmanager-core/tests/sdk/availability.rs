//! A product's availability as its source states it without a count (issue 26): WooCommerce's `In stock?` with an
//! empty `Stock`, Shopify's untracked inventory and `continue` policy. Imported with provenance, filtered on, and
//! told the same way by the Google feed, our CSV and the shops' CSVs; a count, when there is one, comes first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use productsmanager_core::catalog::{Availability, FieldSource, ProductQuery};
use productsmanager_core::db::Backend;
use productsmanager_core::exports::{ChannelSettings, ExportFilters, FeedFormat, FeedRequest, FeedSummary};
use productsmanager_core::imports::ImportSummary;
use productsmanager_core::imports::mapping::Preset;
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{Sdk, both_backends};

/// A WooCommerce export: a product whose stock the shop does not count, in and out of stock; one on backorder with
/// none left; one counted (its count says 5 whatever `In stock?` says); one oversold on backorder (a count below 0);
/// one with a status WooCommerce never writes.
const WOO_FILE: &str = "ID,Type,SKU,Name,Published,In stock?,Stock,Regular price\n\
    1,simple,W-UNCOUNTED,Beanie,1,1,,18\n\
    2,simple,W-OUT,Cap,1,0,,16\n\
    3,simple,W-BACK,Scarf,1,backorder,0,20\n\
    4,simple,W-COUNTED,Belt,1,0,5,25\n\
    5,simple,W-ODD,Gloves,1,maybe,,12\n\
    6,simple,W-OVERSOLD,Socks,1,backorder,-2,5\n";

/// A Shopify export: an untracked variant (its quantity is no count), a tracked one sold when none are left, a
/// tracked one with none.
const SHOPIFY_FILE: &str = "Handle,Title,Variant SKU,Variant Price,Variant Inventory Tracker,Variant Inventory Qty,\
    Variant Inventory Policy,Status\n\
    mug,Mug,S-MUG,9.00,,0,deny,active\n\
    pot,Pot,S-POT,12.00,shopify,0,continue,active\n\
    vase,Vase,S-VASE,30.00,shopify,0,deny,active\n";

/// `text` imported as `name` for the supplier `SHOP` (made on first use), a dry run first.
async fn import(sdk: &Sdk, folder: &Path, name: &str, text: &str, preset: Preset) -> ImportSummary {
    let shop = match sdk.suppliers().find("SHOP").await {
        Ok(shop) => shop.id,
        Err(_) => crate::imports::supplier(sdk, "SHOP").await,
    };
    crate::price_windows::import(sdk, folder, shop, (name, text), preset).await
}

async fn feed(sdk: &Sdk, folder: &Path, format: FeedFormat) -> PathBuf {
    feed_with_summary(sdk, folder, format).await.0
}

async fn feed_with_summary(sdk: &Sdk, folder: &Path, format: FeedFormat) -> (PathBuf, FeedSummary) {
    let out = folder.join(format!("feed.{}", format.extension()));
    let settings = ChannelSettings { link_template: Some("https://shop.example/p/{key}".into()), ..Default::default() };
    let request = FeedRequest { format, filters: ExportFilters::default(), settings };
    let summary = sdk.exports().write_feed(&request, &out, |_| {}).await.unwrap();
    (out, summary)
}

/// Each Merchant item's `availability` by its `key` element (`id`, `title`).
fn merchant_availability(xml: &Path, key: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(xml).unwrap();
    let between = |item: &str, tag: &str| {
        let open = format!("<g:{tag}>");
        let start = item.find(&open).map(|at| at + open.len())?;
        Some(item[start..].split('<').next()?.to_string())
    };
    text.split("<item>")
        .skip(1)
        .filter_map(|item| Some((between(item, key)?, between(item, "availability")?)))
        .collect()
}

/// Each row's `columns` by the value in `key`.
fn csv_columns(file: &Path, key: &str, columns: &[&str]) -> BTreeMap<String, Vec<String>> {
    let mut reader = csv::Reader::from_path(file).unwrap();
    let header = reader.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name}: {header:?}"));
    reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| !r[at(key)].is_empty())
        .map(|r| (r[at(key)].to_string(), columns.iter().map(|c| r[at(c)].to_string()).collect()))
        .collect()
}

async fn stated_availability_reaches_every_feed(backend: Backend) {
    let Some(databases) = TestDatabases::named(backend, "availability_feeds").await else { return };
    let sdk = databases.sdk().await;
    let folder = databases.folder();
    let summary = import(&sdk, folder, "woo.csv", WOO_FILE, Preset::Woocommerce).await;
    assert_eq!((summary.created, summary.invalid), (5, 1), "`maybe` is no availability: {summary:?}");
    let stated = |sku: &'static str| {
        let products = sdk.products();
        async move { products.find(sku).await.unwrap().availability }
    };
    assert_eq!(stated("W-UNCOUNTED").await, Some(Availability::InStock));
    assert_eq!(stated("W-OUT").await, Some(Availability::OutOfStock));
    assert_eq!(stated("W-BACK").await, Some(Availability::Backorder));
    assert_eq!(stated("W-COUNTED").await, Some(Availability::OutOfStock), "stated as the file says");

    // Google: stated without a count, else the count (5 of the belt), backorder with none left.
    let (xml, summary) = feed_with_summary(&sdk, folder, FeedFormat::GoogleMerchantXml).await;
    let merchant = merchant_availability(&xml, "id");
    let expected: BTreeMap<String, String> = [
        ("W-UNCOUNTED", "in_stock"),
        ("W-OUT", "out_of_stock"),
        ("W-BACK", "backorder"),
        ("W-COUNTED", "in_stock"),
        ("W-OVERSOLD", "backorder"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .into();
    assert_eq!(merchant, expected);
    // Google wants a shipping date for an item on backorder: the summary counts the one without.
    assert_eq!(summary.missing.get("availability_date"), Some(&2), "{summary:?}");

    // The catalog's "in stock" filter agrees with the feed.
    let in_stock = sdk.products().list(&ProductQuery { in_stock: Some(true), ..Default::default() }).await.unwrap();
    let mut skus: Vec<String> = in_stock.items.iter().filter_map(|p| p.sku.as_ref().map(|s| s.to_string())).collect();
    skus.sort();
    assert_eq!(skus, ["W-COUNTED", "W-UNCOUNTED"]);

    // WooCommerce's CSV: the status, and the stock only where something counts it.
    let woo = csv_columns(&feed(&sdk, folder, FeedFormat::WoocommerceCsv).await, "SKU", &["In stock?", "Stock"]);
    let row = |sku: &str| woo[sku].iter().map(String::as_str).collect::<Vec<_>>();
    assert_eq!(row("W-UNCOUNTED"), ["1", ""]);
    assert_eq!(row("W-OUT"), ["0", ""]);
    assert_eq!(row("W-BACK"), ["backorder", "0"]);
    assert_eq!(row("W-COUNTED"), ["1", "5"]);
    assert_eq!(row("W-OVERSOLD"), ["backorder", "0"], "none available");

    // Shopify's CSV: untracked in stock, `continue` on backorder.
    let columns = ["Variant Inventory Tracker", "Variant Inventory Qty", "Variant Inventory Policy"];
    let shopify = csv_columns(&feed(&sdk, folder, FeedFormat::ShopifyCsv).await, "Variant SKU", &columns);
    let row = |sku: &str| shopify[sku].iter().map(String::as_str).collect::<Vec<_>>();
    assert_eq!(row("W-UNCOUNTED"), ["", "", "deny"]);
    assert_eq!(row("W-OUT"), ["shopify", "", "deny"], "tracked, no count given");
    assert_eq!(row("W-BACK"), ["shopify", "0", "continue"]);
    assert_eq!(row("W-COUNTED"), ["shopify", "5", "deny"]);

    // Our CSV carries the statement back into an empty catalog.
    let ours = feed(&sdk, folder, FeedFormat::Csv).await;
    let target_databases = TestDatabases::named(backend, "availability_feeds_back").await.unwrap();
    let target = target_databases.sdk().await;
    let text = std::fs::read_to_string(&ours).unwrap();
    let back = import(&target, target_databases.folder(), "ours.csv", &text, Preset::Native).await;
    assert_eq!(back.invalid, 0, "{back:?}");
    for sku in ["W-UNCOUNTED", "W-OUT", "W-BACK", "W-COUNTED", "W-OVERSOLD"] {
        assert_eq!(target.products().find(sku).await.unwrap().availability, stated(sku).await, "{sku}");
    }
    target.close().await;

    // A person's word stays against the next file, with its provenance.
    let cap = sdk.products().find("W-OUT").await.unwrap();
    let patch = serde_json::from_value(serde_json::json!({"availability": "in_stock"})).unwrap();
    sdk.products().patch(cap.id, patch).await.unwrap();
    // The shop's next file: the cap's price changed, its status not.
    let next = WOO_FILE.replace("Cap,1,0,,16", "Cap,1,0,,17");
    let again = import(&sdk, folder, "woo-next.csv", &next, Preset::Woocommerce).await;
    assert_eq!((again.updated, again.fields_kept), (1, 1), "{again:?}");
    assert_eq!(stated("W-OUT").await, Some(Availability::InStock));
    let provenance = sdk.products().provenance(cap.id).await.unwrap();
    let field = provenance.iter().find(|f| f.field == "availability").unwrap();
    assert!(matches!(field.source, FieldSource::User { .. }), "{field:?}");

    // The shop that made the products set their availability: another supplier's word does not replace it.
    let scarf = sdk.products().find("W-BACK").await.unwrap();
    let provenance = sdk.products().provenance(scarf.id).await.unwrap();
    let field = provenance.iter().find(|f| f.field == "availability").unwrap();
    assert!(matches!(field.source, FieldSource::Supplier { .. }), "the creator's: {field:?}");
    let other = crate::imports::supplier(&sdk, "OTHER").await;
    let file = "ID,Type,SKU,Name,Published,In stock?,Stock,Regular price\n3,simple,W-BACK,Scarf,1,0,,20\n";
    let theirs = crate::price_windows::import(&sdk, folder, other, ("other.csv", file), Preset::Woocommerce).await;
    assert_eq!(theirs.fields_kept, 1, "{theirs:?}");
    assert_eq!(stated("W-BACK").await, Some(Availability::Backorder));
    sdk.close().await;
}

async fn shopify_inventory_tracking(backend: Backend) {
    let Some(databases) = TestDatabases::named(backend, "availability_shopify").await else { return };
    let sdk = databases.sdk().await;
    let folder = databases.folder();
    let summary = import(&sdk, folder, "shopify.csv", SHOPIFY_FILE, Preset::Shopify).await;
    assert_eq!((summary.created, summary.invalid), (3, 0), "{summary:?}");
    assert!(!summary.columns_not_imported.iter().any(|c| c.starts_with("Variant Inventory")), "{summary:?}");
    let mug = sdk.products().search("Mug", &Default::default()).await.unwrap().items.remove(0);
    assert_eq!(mug.availability, Some(Availability::InStock));
    let levels = sdk.stock().levels(mug.id).await.unwrap();
    assert!(levels.is_empty(), "an untracked quantity is no count: {levels:?}");
    let merchant = merchant_availability(&feed(&sdk, folder, FeedFormat::GoogleMerchantXml).await, "title");
    let expected: BTreeMap<String, String> =
        [("Mug", "in_stock"), ("Pot", "backorder"), ("Vase", "out_of_stock")].map(|(k, v)| (k.into(), v.into())).into();
    assert_eq!(merchant, expected);

    // The pot tracked and no longer sold when none are left: no longer on backorder.
    let next = SHOPIFY_FILE.replace("0,continue", "0,deny");
    let summary = import(&sdk, folder, "shopify-next.csv", &next, Preset::Shopify).await;
    assert_eq!(summary.updated, 1, "{summary:?}");
    let merchant = merchant_availability(&feed(&sdk, folder, FeedFormat::GoogleMerchantXml).await, "title");
    assert_eq!(merchant["Pot"], "out_of_stock");
    sdk.close().await;
}

/// A Google feed's `availability`: Google's values (schema.org's URLs too); another is kept as an attribute. Its
/// `mpn` goes back out as the item's MPN.
async fn a_feeds_availability(backend: Backend) {
    let Some(databases) = TestDatabases::named(backend, "availability_google").await else { return };
    let sdk = databases.sdk().await;
    let feed_file = "id\ttitle\tprice\tavailability\tbrand\tmpn\n\
        A\tLamp\t10.00 EUR\tin stock\tLumen\tLU-100\n\
        B\tVase\t12.00 EUR\tlimited availability\t\t\n\
        C\tBowl\t8.00 EUR\thttps://schema.org/PreOrder\t\t\n";
    let summary = import(&sdk, databases.folder(), "feed.tsv", feed_file, Preset::GoogleMerchant).await;
    assert_eq!((summary.created, summary.invalid), (3, 0), "{summary:?}");
    let product = |title: &'static str| {
        let products = sdk.products();
        async move { products.search(title, &Default::default()).await.unwrap().items.remove(0) }
    };
    assert_eq!(product("Lamp").await.availability, Some(Availability::InStock));
    assert_eq!(product("Bowl").await.availability, Some(Availability::Preorder));
    let vase = product("Vase").await;
    assert_eq!(vase.availability, None);
    let kept: Vec<(String, String)> = vase.attributes.iter().map(|a| (a.name.clone(), a.value.shown())).collect();
    assert_eq!(kept, [("availability".to_string(), "limited availability".to_string())]);
    // Brand and MPN identify the lamp (no `identifier_exists = no`).
    let text = std::fs::read_to_string(feed(&sdk, databases.folder(), FeedFormat::GoogleMerchantXml).await).unwrap();
    let lamp = text.split("<item>").find(|item| item.contains("<g:title>Lamp</g:title>")).unwrap();
    assert!(lamp.contains("<g:mpn>LU-100</g:mpn>") && !lamp.contains("identifier_exists"), "{lamp}");
    sdk.close().await;
}

/// A merge fills the survivor's availability when it states none, and its undo takes it back.
async fn a_merge_fills_the_availability(backend: Backend) {
    let Some(databases) = TestDatabases::named(backend, "availability_merge").await else { return };
    let sdk = databases.sdk().await;
    let new = |sku: &str, availability: Option<&str>| {
        let mut json = serde_json::json!({"sku": sku, "title": "Lantern"});
        if let Some(availability) = availability {
            json["availability"] = availability.into();
        }
        serde_json::from_value(json).unwrap()
    };
    let survivor = sdk.products().create(new("LANTERN", None)).await.unwrap();
    sdk.products().create(new("LANTERN-2", Some("preorder"))).await.unwrap();
    let merge = sdk.merges().merge("LANTERN", "LANTERN-2").await.unwrap();
    assert_eq!(sdk.products().get(survivor.id).await.unwrap().availability, Some(Availability::Preorder));
    sdk.merges().undo(merge.id).await.unwrap();
    assert_eq!(sdk.products().get(survivor.id).await.unwrap().availability, None);
    sdk.close().await;
}

both_backends!(
    stated_availability_reaches_every_feed,
    shopify_inventory_tracking,
    a_feeds_availability,
    a_merge_fills_the_availability
);
