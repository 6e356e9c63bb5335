//! Feed files on both backends: each format's content, formula cells neutralised, the Google feeds' rules (only
//! active, sellable items; variants grouped), files kept in the object store under `exports/YYYY/MM/DD/` with a
//! job; and the round trip — our catalog exported as our CSV, Shopify CSV and WooCommerce CSV, imported back into
//! an empty catalog with the matching preset, gives the same products.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use calamine::{Data, Reader};
use futures_util::StreamExt;
use productsmanager_core::catalog::{NewSupplier, ProductQuery, ProductRecord};
use productsmanager_core::db::Backend;
use productsmanager_core::exports::{ChannelSettings, ExportFilters, FeedFormat, FeedRequest, PriceRule};
use productsmanager_core::imports::mapping::Preset;
use productsmanager_core::imports::{ImportOptions, ImportSummary, NewImport};
use productsmanager_core::media::NewImage;
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, Sdk, both_backends};

/// A GTIN-13 made valid from its first twelve digits.
fn ean13(first12: &str) -> String {
    let sum: u32 =
        first12.chars().rev().enumerate().map(|(i, c)| c.to_digit(10).unwrap() * if i % 2 == 0 { 3 } else { 1 }).sum();
    format!("{first12}{}", (10 - sum % 10) % 10)
}

/// Our catalog, as a file the `native` preset reads: lone products, a parent with three variants, a draft, a
/// product without a price, a product without a GTIN.
fn catalog_csv() -> String {
    let header = "sku,gtin,title,description,brand,category,price,currency,stock,image_url,status,parent_sku,\
                  option:size,attribute:material";
    let rows = [
        format!(
            "DRILL-1,{},Cordless drill 18V,Two batteries and a case,Bosch,Tools > Power tools,129.90,EUR,12,\
             https://img.example/drill-1.jpg|https://img.example/drill-2.jpg,active,,,steel",
            ean13("400638133390")
        ),
        format!(
            "SAW-1,{},Jigsaw,\"Cuts wood, metal\",Bosch,Tools > Power tools,89.00,EUR,0,https://img.example/saw.jpg,active,,,",
            ean13("400638133391")
        ),
        "TEE,,Organic T-shirt,Soft cotton,Acme,Clothing > Shirts,,,,https://img.example/tee.jpg,active,,,cotton"
            .to_string(),
        format!(
            "TEE-S,{},Organic T-shirt - S,,Acme,,19.99,EUR,5,https://img.example/tee-s.jpg,active,TEE,S,",
            ean13("400638133392")
        ),
        format!("TEE-M,{},Organic T-shirt - M,,Acme,,19.99,EUR,7,,active,TEE,M,", ean13("400638133393")),
        format!("TEE-L,{},Organic T-shirt - L,,Acme,,21.50,EUR,0,,active,TEE,L,", ean13("400638133394")),
        format!("LAMP-1,{},Desk lamp,Prototype,Lumen,Home > Lighting,45.00,EUR,3,,draft,,,", ean13("400638133395")),
        "GLUE-1,,Wood glue,No barcode on it,Pattex,Tools > Supplies,6.49,EUR,40,,active,,,".to_string(),
        format!("MUG-1,{},Mug,Price to come,Acme,Home > Kitchen,,,8,,active,,,", ean13("400638133396")),
    ];
    format!("{header}\n{}\n", rows.join("\n"))
}

async fn import(sdk: &Sdk, supplier_code: &str, path: PathBuf, preset: Preset) -> ImportSummary {
    let supplier = match sdk.suppliers().find(supplier_code).await {
        Ok(supplier) => supplier,
        Err(_) => sdk
            .suppliers()
            .create(NewSupplier {
                code: supplier_code.into(),
                name: supplier_code.into(),
                default_currency: Some("EUR".into()),
                ..Default::default()
            })
            .await
            .unwrap(),
    };
    let import = NewImport {
        supplier_id: supplier.id,
        name: path.file_name().unwrap().to_string_lossy().into_owned(),
        path,
        template: None,
        preset: Some(preset),
        dry_run: false,
        force: false,
        options: ImportOptions::default(),
        requested_by: None,
    };
    sdk.imports().import_file(import, |_| {}).await.unwrap()
}

/// A fresh catalog holding [`catalog_csv`].
pub(crate) async fn source(backend: Backend, test: &str) -> Option<(TestDatabases, Sdk)> {
    let databases = TestDatabases::named(backend, test).await?;
    let sdk = loaded(&databases).await;
    Some((databases, sdk))
}

/// An SDK on `databases` with our catalog imported.
async fn loaded(databases: &TestDatabases) -> Sdk {
    let sdk = databases.sdk().await;
    let file = databases.folder().join("catalog.csv");
    std::fs::write(&file, catalog_csv()).unwrap();
    let summary = import(&sdk, "SRC", file, Preset::Native).await;
    assert_eq!(summary.invalid, 0, "{summary:?}");
    assert_eq!(summary.created, 9);
    sdk
}

async fn feed(sdk: &Sdk, folder: &Path, format: FeedFormat, settings: ChannelSettings) -> (PathBuf, u64) {
    let out = folder.join(format!("feed.{}", format.extension()));
    let request = FeedRequest { format, filters: ExportFilters::default(), settings };
    let summary = sdk.exports().write_feed(&request, &out, |_| {}).await.unwrap();
    assert_eq!(summary.products, 9, "{format}: {summary:?}");
    assert_eq!(summary.bytes, std::fs::metadata(&out).unwrap().len());
    (out, summary.items)
}

/// Each record as what must survive a round trip: title, GTIN, description, brand, category, retail price, stock,
/// images, status, and for a variant its parent's title and its options.
async fn fingerprints(sdk: &Sdk) -> Vec<String> {
    let mut reader = sdk.products().records(ProductQuery::default()).await.unwrap();
    let mut records: Vec<ProductRecord> = Vec::new();
    while let Some(page) = reader.next_page().await.unwrap() {
        records.extend(page);
    }
    let titles: BTreeMap<_, _> = records.iter().map(|r| (r.product.id, r.product.title.clone())).collect();
    let mut out: Vec<String> = records
        .iter()
        .map(|r| {
            let p = &r.product;
            let retail = r.price(productsmanager_core::catalog::PriceType::Retail).map(|m| m.to_string());
            let variant = r.variant_of.as_ref().map(|v| (titles.get(&v.parent_id).cloned(), v.options.clone()));
            format!(
                "{} | {:?} | {:?} | {:?} | {:?} | {:?} | stock {} | {:?} | {} | {:?}",
                p.title,
                p.gtin.as_ref().map(|g| g.to_string()),
                p.description,
                r.brand,
                r.category_path,
                retail,
                r.available_stock(),
                r.image_urls,
                p.status,
                variant
            )
        })
        .collect();
    out.sort();
    out
}

async fn round_trip(backend: Backend) {
    let Some((databases, sdk)) = source(backend, "export_round_trip").await else { return };
    // A product with an SKU of its own (besides its supplier's): our CSV carries it back.
    let drill = sdk.products().find(&ean13("400638133390")).await.unwrap();
    sdk.products()
        .patch(drill.id, serde_json::from_value(serde_json::json!({"sku": "DRILL-OWN"})).unwrap())
        .await
        .unwrap();
    let expected = fingerprints(&sdk).await;
    assert_eq!(expected.len(), 9);
    for (format, preset, rows) in [
        (FeedFormat::Csv, Preset::Native, 9),
        // Shopify: the parent's first row carries its first variant; a lone product is its own variant.
        (FeedFormat::ShopifyCsv, Preset::Shopify, 8),
        (FeedFormat::WoocommerceCsv, Preset::Woocommerce, 9),
    ] {
        let (file, items) = feed(&sdk, databases.folder(), format, ChannelSettings::default()).await;
        assert_eq!(items, rows, "{format}");
        let target_databases = TestDatabases::named(backend, &format!("export_round_trip_{format}")).await.unwrap();
        let target = target_databases.sdk().await;
        let summary = import(&target, "SHOP", file.clone(), preset).await;
        assert_eq!(summary.invalid, 0, "{format}: {summary:?}\n{}", std::fs::read_to_string(&file).unwrap());
        assert_eq!(fingerprints(&target).await, expected, "{format}:\n{}", std::fs::read_to_string(&file).unwrap());
        if format == FeedFormat::Csv {
            let drill = target.products().find(&ean13("400638133390")).await.unwrap();
            assert_eq!(drill.sku.map(|s| s.to_string()).as_deref(), Some("DRILL-OWN"));
        }
    }
}

async fn csv_flavours(backend: Backend) {
    let Some((databases, sdk)) = source(backend, "export_csv_flavours").await else { return };
    // A title a spreadsheet would run as a formula is written so that it cannot.
    let lamp = sdk.products().find(&ean13("400638133395")).await.unwrap();
    sdk.products()
        .patch(lamp.id, serde_json::from_value(serde_json::json!({"title": "=HYPERLINK(\"http://evil\")"})).unwrap())
        .await
        .unwrap();
    let (native, _) = feed(&sdk, databases.folder(), FeedFormat::Csv, ChannelSettings::default()).await;
    let text = std::fs::read_to_string(&native).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "sku,product_sku,gtin,title,description,brand,category,price,sale_price,msrp,purchase_price,price_windows,\
         currency,cost,stock,product_stock,availability,lead_time_days,offers,image_url,status,parent_sku,option:size,attribute:material"
    );
    assert!(text.contains(r#""'=HYPERLINK(""http://evil"")""#), "{text}");
    assert!(
        text.contains("Cordless drill 18V,Two batteries and a case,Bosch,Tools > Power tools,129.90,,,,,EUR,,12,,")
    );
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let tee_key = rows.iter().find(|r| &r[3] == "Organic T-shirt").unwrap()[0].to_string();
    let medium = rows.iter().find(|r| &r[3] == "Organic T-shirt - M").unwrap();
    assert_eq!((&medium[21], &medium[22]), (tee_key.as_str(), "M"), "a variant names its parent and its option");

    let (shopify, _) = feed(&sdk, databases.folder(), FeedFormat::ShopifyCsv, ChannelSettings::default()).await;
    let mut reader = csv::Reader::from_path(&shopify).unwrap();
    let header = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    // Handles are made from the key: SKU, else GTIN, else the title and the end of the id (the T-shirt has neither).
    let handle_of =
        |title: &str| rows.iter().find(|r| &r[column("Title")] == title).unwrap()[column("Handle")].to_string();
    let tee_handle = handle_of("Organic T-shirt");
    assert!(tee_handle.starts_with("organic-t-shirt-") && tee_handle.len() == 24, "{tee_handle}");
    let tee: Vec<&csv::StringRecord> = rows.iter().filter(|r| r[column("Handle")] == *tee_handle).collect();
    assert_eq!(tee.len(), 3, "three variants, the first on the product's row");
    assert_eq!(&tee[0][column("Title")], "Organic T-shirt");
    assert_eq!(&tee[0][column("Option1 Name")], "size");
    let sizes: Vec<&str> = tee.iter().map(|r| &r[column("Option1 Value")]).collect();
    assert_eq!(sizes, ["S", "M", "L"]);
    assert_eq!(&tee[0][column("Variant Image")], "https://img.example/tee-s.jpg");
    let drill_handle = handle_of("Cordless drill 18V");
    assert_eq!(drill_handle, ean13("400638133390"));
    let drill: Vec<&csv::StringRecord> = rows.iter().filter(|r| r[column("Handle")] == *drill_handle).collect();
    assert_eq!(drill.len(), 2, "the second image on a row of its own");
    assert_eq!(&drill[0][column("Option1 Value")], "Default Title");
    assert_eq!(&drill[0][column("Variant Price")], "129.90");
    assert_eq!(&drill[1][column("Image Position")], "2");
    assert_eq!(&drill[1][column("Variant Price")], "");
    // The search-engine and Google Shopping columns of Shopify's template.
    assert_eq!(&drill[0][column("SEO Title")], "Cordless drill 18V");
    assert_eq!(&drill[0][column("SEO Description")], "Two batteries and a case");
    assert_eq!(&drill[0][column("Google Shopping / Condition")], "new");
    assert_eq!(&drill[0][column("Google Shopping / Custom Product")], "FALSE");
    // Every column is one of Shopify's own template, in its order.
    let template = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/shopify/product_template.csv");
    match csv::Reader::from_path(&template) {
        Ok(mut shopify) => {
            let theirs: Vec<String> = shopify.headers().unwrap().iter().map(String::from).collect();
            let places: Vec<Option<usize>> = header.iter().map(|ours| theirs.iter().position(|t| t == ours)).collect();
            assert!(places.iter().all(Option::is_some), "{header:?} not all in {theirs:?}");
            assert!(places.windows(2).all(|w| w[0] < w[1]), "in Shopify's order: {places:?}");
        }
        Err(_) => eprintln!("NOT RUN: Shopify columns against Shopify's template ({} is missing)", template.display()),
    }

    // Channel price rule: 10 % markup, ending in .99; the XLSX keeps GTINs as text and neutralises formulas.
    let settings = ChannelSettings {
        price_rule: PriceRule { markup_percent: Some(10.0), ending_minor: Some(99) },
        ..Default::default()
    };
    let (xlsx, rows) = feed(&sdk, databases.folder(), FeedFormat::Xlsx, settings).await;
    assert_eq!(rows, 9);
    let mut workbook = calamine::open_workbook_auto(&xlsx).unwrap();
    let sheet = workbook.worksheet_range("Products").unwrap();
    assert_eq!(sheet.height(), 10);
    let header: Vec<String> = sheet.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let drill_row = sheet.rows().find(|r| r[at("title")] == "Cordless drill 18V").unwrap();
    assert_eq!(drill_row[at("gtin")], Data::String(ean13("400638133390")));
    assert_eq!(drill_row[at("price")].to_string(), "142.99", "129.90 × 1.1 = 142.89 → 142.99");
    assert_eq!(drill_row[at("stock")], Data::Float(12.0));
    assert!(sheet.rows().any(|r| r[at("title")] == "'=HYPERLINK(\"http://evil\")"));
}

async fn google_merchant(backend: Backend) {
    let Some((databases, sdk)) = source(backend, "export_google_merchant").await else { return };
    let settings = ChannelSettings {
        link_template: Some("https://shop.example/p/{key}".into()),
        category_mapping: [("Tools > Power tools".to_string(), "Hardware > Tools > Drills".to_string())].into(),
        ..Default::default()
    };
    // Items: the drill, the saw, three T-shirt variants, the glue; not the T-shirt parent, the draft lamp, or the
    // mug without a price.
    let (xml, items) = feed(&sdk, databases.folder(), FeedFormat::GoogleMerchantXml, settings.clone()).await;
    assert_eq!(items, 6);
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(text.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\">"
    ));
    assert_eq!(text.matches("<item>").count(), 6);
    assert!(!text.contains("Desk lamp") && !text.contains("<g:title>Mug</g:title>"));
    let drill_gtin = ean13("400638133390");
    assert!(text.contains(&format!("<g:id>{drill_gtin}</g:id>")), "{text}");
    assert!(text.contains(&format!("<g:link>https://shop.example/p/{drill_gtin}</g:link>")));
    assert!(text.contains("<g:price>129.90 EUR</g:price>"));
    assert!(text.contains("<g:additional_image_link>https://img.example/drill-2.jpg</g:additional_image_link>"));
    assert!(text.contains("<g:google_product_category>Hardware &gt; Tools &gt; Drills</g:google_product_category>"));
    assert!(text.contains("<g:availability>out_of_stock</g:availability>"), "the saw has none");
    assert_eq!(text.matches("<g:size>").count(), 3);
    assert_eq!(text.matches("<g:item_group_id>").count(), 3);
    assert!(text.contains("<g:identifier_exists>no</g:identifier_exists>"), "the glue has no GTIN and no SKU");
    assert!(text.contains("<g:description>Cuts wood, metal</g:description>"));

    // Checked as Merchant Center checks them: without a link template no item has its `link`, and the summary
    // says so by attribute (a stored job too); a placeholder the template does not know is refused.
    let unlinked = FeedRequest {
        format: FeedFormat::GoogleMerchantXml,
        filters: ExportFilters::default(),
        settings: ChannelSettings::default(),
    };
    let out = databases.folder().join("unlinked.xml");
    let summary = sdk.exports().write_feed(&unlinked, &out, |_| {}).await.unwrap();
    assert_eq!(summary.missing.get("link"), Some(&6), "{summary:?}");
    assert_eq!(summary.missing.get("gtin"), Some(&1), "the glue has neither a GTIN nor a SKU: {summary:?}");
    let job = sdk.exports().export_feed(&unlinked, None, |_| {}).await.unwrap();
    assert_eq!(job.missing, summary.missing);
    let typo = ChannelSettings { link_template: Some("https://shop.example/p/{sku}".into()), ..Default::default() };
    assert!(typo.check("settings").unwrap_err().to_string().contains("{sku} is not a placeholder"));

    let (tsv, items) = feed(&sdk, databases.folder(), FeedFormat::GoogleMerchantTsv, settings).await;
    assert_eq!(items, 6);
    let text = std::fs::read_to_string(&tsv).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 7);
    assert!(lines.iter().all(|l| l.len() == lines[0].len()), "every line has every column");
    let at = |name: &str| lines[0].iter().position(|c| *c == name).unwrap();
    let drill = lines.iter().find(|l| l[at("id")] == drill_gtin).unwrap();
    assert_eq!(drill[at("additional_image_link")], "https://img.example/drill-2.jpg");
    assert_eq!(drill[at("price")], "129.90 EUR");

    // A field mapping: the title from an attribute, the brand from the category; a product without that attribute
    // keeps its own title. Mappings of fields that cannot be mapped, or from unknown sources, are refused.
    let mapped = ChannelSettings {
        field_mapping: [
            ("title".to_string(), "attribute:material".to_string()),
            ("brand".to_string(), "category".to_string()),
        ]
        .into(),
        ..settings_for_mapping()
    };
    let (xml, _) = feed(&sdk, databases.folder(), FeedFormat::GoogleMerchantXml, mapped).await;
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(text.contains("<g:title>steel</g:title>"), "{text}");
    assert!(text.contains("<g:title>Jigsaw</g:title>"));
    assert!(text.contains("<g:brand>Tools &gt; Power tools</g:brand>"));
    for (target, source) in [("price", "title"), ("title", "colour"), ("title", "attribute:")] {
        let wrong = ChannelSettings { field_mapping: [(target.into(), source.into())].into(), ..Default::default() };
        let error = wrong.check("settings").unwrap_err().to_string();
        assert!(error.contains("field_mapping"), "{error}");
    }
}

fn settings_for_mapping() -> ChannelSettings {
    ChannelSettings { link_template: Some("https://shop.example/p/{key}".into()), ..Default::default() }
}

async fn stored_feed_jobs(backend: Backend) {
    let Some((_databases, sdk)) = source(backend, "export_stored_feeds").await else { return };
    let request = FeedRequest {
        format: FeedFormat::WoocommerceCsv,
        filters: ExportFilters {
            status: Some(productsmanager_core::catalog::ProductStatus::Active),
            ..Default::default()
        },
        settings: ChannelSettings::default(),
    };
    let job = sdk.exports().export_feed(&request, None, |_| {}).await.unwrap();
    assert_eq!(job.state, "succeeded");
    assert_eq!(job.format, Some(FeedFormat::WoocommerceCsv));
    assert_eq!(job.items_processed, 8, "the draft lamp is filtered out");
    let key = job.output_object_key.clone().unwrap();
    let today = chrono::Utc::now().format("%Y/%m/%d").to_string();
    assert!(key.starts_with(&format!("exports/{today}/{}", job.id)), "{key}");
    assert!(key.ends_with(".csv"));
    let (format, size, mut stream) = sdk.exports().file(job.id).await.unwrap();
    assert_eq!(format, FeedFormat::WoocommerceCsv);
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(bytes.len() as u64, size);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with("ID,Type,SKU,\"GTIN, UPC, EAN, or ISBN\",Name,Published"));
    assert_eq!(text.lines().count(), 9);
    // The file is referenced: the clean-up keeps it.
    let cleanup = sdk.exports().clean_orphaned_files(std::time::Duration::ZERO).await.unwrap();
    assert!(cleanup.deleted.is_empty());
    let page = sdk.exports().jobs_page(10, None).await.unwrap();
    assert_eq!(page.items[0].id, job.id);

    // Queued for a worker: the job holds the request; running it writes the file.
    let queued = sdk.exports().enqueue_feed(&request, None).await.unwrap();
    assert_eq!(queued.state, "queued");
    let summary = sdk.exports().run_feed_job(queued.id, |_| {}).await.unwrap();
    assert_eq!(summary.items, 8);
    assert!(sdk.exports().job(queued.id).await.unwrap().output_object_key.is_some());

    // Wrong settings are refused before anything is written; an unknown job is a 404.
    let mut wrong = request.clone();
    wrong.settings.price_rule.ending_minor = Some(150);
    let error = sdk.exports().export_feed(&wrong, None, |_| {}).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Invalid);
    assert_eq!(error.field(), Some("settings.price_rule.ending_minor"));
    let Err(missing) = sdk.exports().file(uuid::Uuid::now_v7()).await else { panic!("a file for no job") };
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    // A destination that cannot be written names itself; nothing is left there.
    let error = sdk.exports().write_feed(&request, Path::new("/nonexistent-folder/x.csv"), |_| {}).await.unwrap_err();
    assert!(error.to_string().contains("/nonexistent-folder"), "{error}");
}

/// With `media.public_base_url` set, a product's stored images go out (their public URLs, in their order) instead of
/// the catalog's URLs; a product without stored images keeps its URLs.
async fn stored_images_go_out_when_the_store_is_public(backend: Backend) {
    let Some(mut databases) = TestDatabases::named(backend, "export_stored_images").await else { return };
    databases.config_mut().media.public_base_url = Some("https://cdn.example.com/pm/".into());
    let sdk = loaded(&databases).await;
    let drill = ean13("400638133390");
    let mut keys = Vec::new();
    for (width, height) in [(64, 48), (48, 64)] {
        let image = NewImage::new(drill.clone(), super::media::photo(width, height, 1));
        keys.push(sdk.media().upload(image).await.unwrap().file.object_key);
    }
    let (csv, _) = feed(&sdk, databases.folder(), FeedFormat::Csv, ChannelSettings::default()).await;
    let mut reader = csv::Reader::from_path(&csv).unwrap();
    let header = reader.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|c| c == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let drill_row = rows.iter().find(|r| r[at("gtin")] == drill).unwrap();
    let expected: Vec<String> = keys.iter().map(|k| format!("https://cdn.example.com/pm/{k}")).collect();
    assert_eq!(drill_row[at("image_url")], expected.join("|"));
    let saw_row = rows.iter().find(|r| r[at("gtin")] == ean13("400638133391")).unwrap();
    assert_eq!(&saw_row[at("image_url")], "https://img.example/saw.jpg");
}

/// Two suppliers spelling one axis and one attribute differently (`Color`/`color`, `Material`/`material`): our CSV
/// has one column for each (no case twins), and imports back into an empty catalog with every value in place — the
/// cells our export guarded against formulas (`'=…`) included.
async fn case_twins_round_trip(backend: Backend) {
    let Some(databases) = TestDatabases::named(backend, "export_case_twins").await else { return };
    let sdk = databases.sdk().await;
    let files = [
        (
            "WOO",
            "sku,title,price,currency,parent_sku,option:Color,attribute:Material\n\
                 TEE,T-shirt,,,,,cotton\nTEE-R,T-shirt red,10,EUR,TEE,Red,\nTEE-B,T-shirt blue,10,EUR,TEE,Blue,\n",
        ),
        (
            "MAG",
            "sku,title,description,price,currency,parent_sku,option:color,attribute:material\n\
                 CAP,Cap,-20 % in store,,,,,wool\nCAP-G,Cap green,=cotton twill,8,EUR,CAP,Green,\n",
        ),
    ];
    for (supplier, content) in files {
        let file = databases.folder().join(format!("{supplier}.csv"));
        std::fs::write(&file, content).unwrap();
        let summary = import(&sdk, supplier, file, Preset::Native).await;
        assert_eq!((summary.created, summary.invalid), (content.lines().count() as u64 - 1, 0), "{summary:?}");
    }
    let (file, _) = feed_of(&sdk, databases.folder(), FeedFormat::Csv).await;
    let text = std::fs::read_to_string(&file).unwrap();
    let header = text.lines().next().unwrap().to_lowercase();
    assert_eq!(header.matches("option:color").count(), 1, "{header}");
    assert_eq!(header.matches("attribute:material").count(), 1, "{header}");
    assert!(text.contains("'-20 % in store") && text.contains("'=cotton twill"), "{text}");

    let target_databases = TestDatabases::named(backend, "export_case_twins_target").await.unwrap();
    let target = target_databases.sdk().await;
    let summary = import(&target, "SHOP", file.clone(), Preset::Native).await;
    assert_eq!((summary.created, summary.invalid), (5, 0), "{summary:?}\n{text}");
    // Every value back, under one spelling of its name.
    let folded = |sdk: Sdk| async move {
        let mut reader = sdk.products().records(ProductQuery::default()).await.unwrap();
        let mut out = Vec::new();
        while let Some(page) = reader.next_page().await.unwrap() {
            for record in page {
                let options = record.variant_of.map(|v| {
                    v.options.into_iter().map(|(k, v)| format!("{}={v}", k.to_lowercase())).collect::<Vec<_>>()
                });
                let attributes: Vec<String> = record
                    .product
                    .attributes
                    .iter()
                    .map(|a| format!("{}={:?}", a.name.to_lowercase(), a.value))
                    .collect();
                // The descriptions starting with - and = went out guarded (`'-20 %`) and came back as they were.
                out.push(format!(
                    "{} {:?} {options:?} {attributes:?}",
                    record.product.title, record.product.description
                ));
            }
        }
        out.sort();
        out
    };
    assert_eq!(folded(target.clone()).await, folded(sdk.clone()).await, "{text}");
    target.close().await;
    sdk.close().await;
}

/// A feed of `format` with the default settings, whatever the catalog's size.
async fn feed_of(sdk: &Sdk, folder: &Path, format: FeedFormat) -> (PathBuf, u64) {
    let out = folder.join(format!("feed.{}", format.extension()));
    let request = FeedRequest { format, filters: ExportFilters::default(), settings: ChannelSettings::default() };
    let summary = sdk.exports().write_feed(&request, &out, |_| {}).await.unwrap();
    (out, summary.items)
}

both_backends!(
    case_twins_round_trip,
    round_trip,
    csv_flavours,
    google_merchant,
    stored_feed_jobs,
    stored_images_go_out_when_the_store_is_public
);
