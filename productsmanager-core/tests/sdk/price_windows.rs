//! Windowed prices through imports (issue 26): a shop's sale dates window its sale price, our `price_windows`
//! column states every window, a file replaces the windows files set before (never a person's), and the feeds say
//! when a sale applies.

use std::path::Path;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use productsmanager_core::catalog::{FieldAction, FieldSource, Money, NewPrice, Price, PriceType};
use productsmanager_core::db::Backend;
use productsmanager_core::exports::{ChannelSettings, ExportFilters, FeedFormat, FeedRequest};
use productsmanager_core::imports::mapping::Preset;
use productsmanager_core::imports::{ImportOptions, ImportSummary, NewImport};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{Sdk, both_backends};

use super::import_presets::dry_then_real;
use super::imports::supplier;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

/// A product's prices, one line each: `sale 15.00 EUR 2026-12-01T00:00:00+00:00..2026-12-25T00:00:00+00:00`.
async fn prices(sdk: &Sdk, sku: &str) -> Vec<String> {
    let product = sdk.products().find(sku).await.unwrap();
    let side = |at: Option<DateTime<Utc>>| at.map(|t| t.to_rfc3339()).unwrap_or_default();
    let mut lines: Vec<String> = sdk
        .prices()
        .for_product(product.id)
        .await
        .unwrap()
        .iter()
        .map(|p: &Price| match (p.valid_from, p.valid_to) {
            (None, None) => format!("{} {}", p.price_type, p.amount),
            (from, to) => format!("{} {} {}..{}", p.price_type, p.amount, side(from), side(to)),
        })
        .collect();
    lines.sort();
    lines
}

/// `content` written to `name` and imported for `supplier` with `preset` (a dry run first, which must agree), even
/// when a file of the same content was imported before (its rows are then unchanged).
pub(crate) async fn import(
    sdk: &Sdk,
    folder: &Path,
    supplier: Uuid,
    (name, content): (&str, &str),
    preset: Preset,
) -> ImportSummary {
    let path = folder.join(name);
    std::fs::write(&path, content).unwrap();
    let input = NewImport {
        supplier_id: supplier,
        name: name.into(),
        path,
        template: None,
        preset: Some(preset),
        dry_run: false,
        force: true,
        options: ImportOptions::default(),
        requested_by: None,
    };
    dry_then_real(sdk, input).await
}

const WOO_HEADER: &str = "ID,Type,SKU,Name,Regular price,Sale price,Date sale price starts,Date sale price ends\n";

/// WooCommerce's sale dates: the sale price applies between them (the end day included); the same file again
/// changes nothing; new dates replace the old window; no dates make the sale open-ended; a window a person set is
/// theirs; the CSV and Google exports say when the current sale ends.
async fn a_shops_sale_dates_window_its_sale_price(backend: Backend) {
    let Some(databases) = TestDatabases::named(backend, "price_windows_shop").await else { return };
    let sdk = databases.sdk().await;
    let folder = databases.folder();
    let shop = supplier(&sdk, "SHOP").await;
    let first = format!("{WOO_HEADER}1,simple,MUG,Mug,20,15,2026-12-01,2026-12-24\n2,simple,CUP,Cup,10,8,,\n");
    let summary = import(&sdk, folder, shop, ("first.csv", &first), Preset::Woocommerce).await;
    assert_eq!((summary.created, summary.invalid), (2, 0), "{summary:?}");
    assert_eq!(
        prices(&sdk, "MUG").await,
        ["retail 20.00 EUR", "sale 15.00 EUR 2026-12-01T00:00:00+00:00..2026-12-25T00:00:00+00:00"]
    );
    assert_eq!(prices(&sdk, "CUP").await, ["retail 10.00 EUR", "sale 8.00 EUR"]);

    let again = import(&sdk, folder, shop, ("again.csv", &first), Preset::Woocommerce).await;
    assert_eq!((again.unchanged, again.products_updated), (2, 0), "{again:?}");

    let moved = format!("{WOO_HEADER}1,simple,MUG,Mug,20,12,2026-12-08 00:00:00,2026-12-31 23:59:59\n");
    let summary = import(&sdk, folder, shop, ("moved.csv", &moved), Preset::Woocommerce).await;
    assert_eq!((summary.updated, summary.products_updated), (1, 1), "{summary:?}");
    assert_eq!(
        prices(&sdk, "MUG").await,
        ["retail 20.00 EUR", "sale 12.00 EUR 2026-12-08T00:00:00+00:00..2026-12-31T23:59:59+00:00"],
        "the file's window replaces the one it set before"
    );

    let open = format!("{WOO_HEADER}1,simple,MUG,Mug,20,12,,\n");
    import(&sdk, folder, shop, ("open.csv", &open), Preset::Woocommerce).await;
    assert_eq!(prices(&sdk, "MUG").await, ["retail 20.00 EUR", "sale 12.00 EUR"], "no dates: no window left");
    // Dates again: the sale applies in them only (an open sale left beside would apply after them).
    let dated = format!("{WOO_HEADER}1,simple,MUG,Mug,20,12,2026-12-01,2026-12-24\n");
    let summary = import(&sdk, folder, shop, ("dated.csv", &dated), Preset::Woocommerce).await;
    assert_eq!(summary.products_updated, 1, "{summary:?}");
    assert_eq!(
        prices(&sdk, "MUG").await,
        ["retail 20.00 EUR", "sale 12.00 EUR 2026-12-01T00:00:00+00:00..2026-12-25T00:00:00+00:00"]
    );
    // Evaluated again (the row hash forgotten, as a released field does): the stored windows read back as the
    // file wrote them, so nothing changes.
    let mug = sdk.products().find("MUG").await.unwrap();
    let released = sdk.products().set_field_rule(mug.id, "title", FieldAction::FollowSuppliers).await.unwrap();
    assert!(!released.is_empty());
    let summary = import(&sdk, folder, shop, ("dated-again.csv", &dated), Preset::Woocommerce).await;
    assert_eq!((summary.updated, summary.products_updated), (1, 0), "{summary:?}");

    // A person's window: the supplier's next dates are not taken, and say so.
    let person = NewPrice {
        product_id: mug.id,
        price_type: PriceType::Sale,
        amount: Money::new(900, "EUR".parse().unwrap()),
        valid_from: Some(at("2027-01-10T00:00:00Z")),
        valid_to: Some(at("2027-01-20T00:00:00Z")),
    };
    sdk.prices().on_behalf_of(Uuid::now_v7()).set(person).await.unwrap();
    let provenance = sdk.products().provenance(mug.id).await.unwrap();
    let windows = provenance.iter().find(|f| f.field == "price_windows:sale:EUR").expect("the windows' setter");
    assert!(matches!(windows.source, FieldSource::User { .. }), "{windows:?}");
    let summary = import(&sdk, folder, shop, ("first-again.csv", &first), Preset::Woocommerce).await;
    assert_eq!(summary.fields_kept, 1, "{summary:?}");
    assert_eq!(
        prices(&sdk, "MUG").await,
        [
            "retail 20.00 EUR",
            "sale 12.00 EUR 2026-12-01T00:00:00+00:00..2026-12-25T00:00:00+00:00",
            "sale 9.00 EUR 2027-01-10T00:00:00+00:00..2027-01-20T00:00:00+00:00"
        ],
        "the windows are the person's since they added one: the file's dates are not taken"
    );

    // A sale that applies now whatever the day this runs: the exports name its window.
    let long = format!("{WOO_HEADER}3,simple,BOWL,Bowl,30,25,2020-01-01,2099-12-30\n");
    import(&sdk, folder, shop, ("long.csv", &long), Preset::Woocommerce).await;
    let feed = |format| FeedRequest { format, filters: ExportFilters::default(), settings: ChannelSettings::default() };
    let woo = folder.join("woo.csv");
    sdk.exports().write_feed(&feed(FeedFormat::WoocommerceCsv), &woo, |_| {}).await.unwrap();
    let woo = std::fs::read_to_string(&woo).unwrap();
    let bowl_row = woo.lines().find(|l| l.contains("BOWL")).unwrap();
    assert!(bowl_row.contains(",2020-01-01,2099-12-30,"), "WooCommerce's days, the last one included: {woo}");
    let google = folder.join("google.tsv");
    sdk.exports().write_feed(&feed(FeedFormat::GoogleMerchantTsv), &google, |_| {}).await.unwrap();
    let google = std::fs::read_to_string(&google).unwrap();
    let header: Vec<&str> = google.lines().next().unwrap().split('\t').collect();
    let item: Vec<&str> = google.lines().find(|l| l.starts_with("BOWL\t")).unwrap().split('\t').collect();
    let cell = |name: &str| item[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(cell("sale_price"), "25.00 EUR");
    assert_eq!(cell("sale_price_effective_date"), "2020-01-01T00:00:00Z/2099-12-31T00:00:00Z");
    sdk.close().await;
}

/// Our `price_windows` column: every windowed price of the row, any type and currency; the same file again
/// changes nothing; an empty cell clears them; a malformed entry refuses its row, naming the cell.
async fn our_price_windows_column_states_every_window(backend: Backend) {
    let Some(databases) = TestDatabases::named(backend, "price_windows_native").await else { return };
    let sdk = databases.sdk().await;
    let folder = databases.folder();
    let source = supplier(&sdk, "SRC").await;
    let file = "sku,product_sku,title,price,currency,price_windows\n\
        A,A,Thing,10.00,EUR,sale 8.00 EUR 2026-12-01T00:00:00Z/2026-12-25T00:00:00Z|msrp 12.00 USD 2026-01-01T00:00:00Z/..\n\
        B,B,Other,5.00,EUR,sale 4.00 EUR 2026-12-25T00:00:00Z/2026-12-01T00:00:00Z\n\
        C,C,Third,5.00,EUR,sale 4.00 EUR\n";
    let summary = import(&sdk, folder, source, ("ours.csv", file), Preset::Native).await;
    assert_eq!((summary.created, summary.invalid), (1, 2), "{summary:?}");
    assert_eq!(
        prices(&sdk, "A").await,
        [
            "msrp 12.00 USD 2026-01-01T00:00:00+00:00..",
            "retail 10.00 EUR",
            "sale 8.00 EUR 2026-12-01T00:00:00+00:00..2026-12-25T00:00:00+00:00"
        ]
    );
    let errors = String::from_utf8(sdk.imports().errors_csv(summary.job_id).await.unwrap().to_vec()).unwrap();
    let lines: Vec<&str> = errors.lines().collect();
    assert!(lines[1].starts_with("3,6,price_windows,") && lines[1].contains("invalid_price_window"), "{errors}");
    assert!(lines[1].contains("before it starts"), "{errors}");
    assert!(lines[2].starts_with("4,6,price_windows,") && lines[2].contains("type amount currency"), "{errors}");

    let again = import(&sdk, folder, source, ("again.csv", file), Preset::Native).await;
    assert_eq!((again.unchanged, again.invalid), (1, 2), "{again:?}");
    let cleared = "sku,title,price,currency,price_windows\nA,Thing,10.00,EUR,\n";
    let summary = import(&sdk, folder, source, ("cleared.csv", cleared), Preset::Native).await;
    assert_eq!(summary.products_updated, 1, "{summary:?}");
    assert_eq!(prices(&sdk, "A").await, ["retail 10.00 EUR"], "an empty cell: no windowed price left");
    sdk.close().await;
}

both_backends!(a_shops_sale_dates_window_its_sale_price, our_price_windows_column_states_every_window);
