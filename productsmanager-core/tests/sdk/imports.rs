//! The import engine: files in our own layout and in a stored template's, loaded into the catalog, re-imported
//! for nothing, refused when broken (naming file, line and column, writing nothing), resumed after an
//! interruption, run by a worker.

use std::path::{Path, PathBuf};

use productsmanager_core::catalog::{NewSupplier, PriceType, ProductPatch};
use productsmanager_core::db::{Backend, Database};
use productsmanager_core::imports::mapping::{Preset, SourceCatalog, Template};
use productsmanager_core::imports::{ImportOptions, ImportOutcome, ImportSummary, NewImport, NewMappingTemplate};
use productsmanager_core::jobs::JobState;
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, Sdk, both_backends, with_pool};
use uuid::Uuid;

fn write(folder: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = folder.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// An import of `path` in our own layout (the native preset), named after the file.
pub(crate) fn native(supplier: Uuid, path: &Path) -> NewImport {
    NewImport {
        supplier_id: supplier,
        name: path.file_name().unwrap().to_string_lossy().into_owned(),
        path: path.to_path_buf(),
        template: None,
        preset: Some(Preset::Native),
        dry_run: false,
        force: false,
        options: ImportOptions::default(),
        requested_by: None,
    }
}

pub(crate) async fn supplier(sdk: &Sdk, code: &str) -> Uuid {
    let input = NewSupplier {
        code: code.into(),
        name: code.into(),
        default_currency: Some("EUR".into()),
        ..Default::default()
    };
    sdk.suppliers().create(input).await.unwrap().id
}

/// Every offer with its product and open prices, one line each, in SKU order: what an import leaves behind.
async fn snapshot(sdk: &Sdk) -> Vec<String> {
    const ROWS: &str = "select o.supplier_sku, coalesce(p.gtin, ''), p.title, coalesce(p.description, ''), \
         coalesce(b.name, ''), coalesce(o.cost_minor, -1), coalesce(o.currency, ''), coalesce(o.stock, -1), \
         o.is_available, p.status, p.id from supplier_products o join products p on p.id = o.product_id \
         left join brands b on b.id = p.brand_id order by o.supplier_sku";
    const PRICES: &str = "select price_type, currency, amount_minor from product_prices where product_id = $1 \
         order by price_type, currency";
    type Row = (String, String, String, String, String, i64, String, i64, bool, String, Uuid);
    let pool = sdk.pool(Database::Catalog);
    let rows: Vec<Row> = with_pool!(pool, |p| sqlx::query_as(ROWS).fetch_all(p).await).unwrap();
    let mut lines = Vec::new();
    for (sku, gtin, title, description, brand, cost, currency, stock, available, status, product) in rows {
        let prices: Vec<(String, String, i64)> =
            with_pool!(pool, |p| sqlx::query_as(PRICES).bind(product).fetch_all(p).await).unwrap();
        let prices: Vec<String> = prices.into_iter().map(|(t, c, a)| format!("{t}={a} {c}")).collect();
        lines.push(format!(
            "{sku}|{gtin}|{title}|{description}|{brand}|{cost} {currency}|{stock}|{available}|{status}|{}",
            prices.join(",")
        ));
    }
    lines
}

async fn count(sdk: &Sdk, db: Database, sql: &'static str) -> i64 {
    with_pool!(sdk.pool(db), |p| sqlx::query_scalar(sql).fetch_one(p).await).unwrap()
}

const CATALOG: &str = "\
sku,gtin,title,description,brand,category,price,cost,stock,image_url,attribute:Colour,parent_sku,option:size
POT-1,4006381333931,Clay pot,Terracotta,Acme,Garden > Pots,12.50,7.10,3,https://img.example/pot.jpg|https://img.example/pot-2.jpg,red,,
POT-1-S,,Clay pot S,,Acme,Garden > Pots,9.90,5,8,,red,POT-1,S
PAN-2,4006381333932,Frying pan,,Acme,,20,,1,,,,
LID-3,036000291452,Lid,,Other,Kitchen,4.5,2,0,,,,
SAW-4,,,,,,,3,4,,,,
";

/// Our own layout imports with no template: products, offers, prices, categories, images, attributes and variants
/// land; a bad GTIN and a new product without a title are refused with their line and column; the errors CSV says
/// so; the same file again is skipped by its hash, and forced it finds every row unchanged.
async fn native_file_lands_in_the_catalog(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "import_native").await else { return };
    let sdk = env.sdk().await;
    let acme = supplier(&sdk, "ACME").await;
    let path = write(env.folder(), "catalog.csv", CATALOG);
    let summary = sdk.imports().import_file(native(acme, &path), |_| {}).await.unwrap();
    assert_eq!(
        (summary.rows, summary.created, summary.updated, summary.unchanged, summary.invalid),
        (5, 3, 0, 0, 2),
        "{summary:?}"
    );
    assert!(summary.format.contains("','-separated"), "{}", summary.format);

    let errors = String::from_utf8(sdk.imports().errors_csv(summary.job_id).await.unwrap().to_vec()).unwrap();
    let lines: Vec<&str> = errors.lines().collect();
    assert_eq!(lines[0], "line,column,column_name,value,code,reason");
    assert_eq!(lines[1], "4,2,gtin,4006381333932,invalid_gtin,\"GTIN check digit is 2, expected 1\"");
    assert_eq!(lines[2], "6,,,,missing_field,a new product needs a title");
    assert_eq!(lines.len(), 3);

    let stored = snapshot(&sdk).await;
    assert_eq!(
        stored,
        [
            "LID-3|00036000291452|Lid||Other|200 EUR|0|true|active|retail=450 EUR",
            "POT-1|04006381333931|Clay pot|Terracotta|Acme|710 EUR|3|true|active|retail=1250 EUR",
            "POT-1-S||Clay pot S||Acme|500 EUR|8|true|active|retail=990 EUR",
        ]
    );
    let pot = sdk.products().find("4006381333931").await.unwrap();
    let variants = sdk.variants().of(pot.id).await.unwrap();
    assert_eq!(variants.len(), 1);
    assert_eq!(variants[0].options.get("size").map(String::as_str), Some("S"));
    let categories = sdk.categories().of_product(pot.id).await.unwrap();
    assert_eq!(categories.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Pots"]);
    assert_eq!(sdk.categories().breadcrumbs(categories[0].id).await.unwrap()[0].name, "Garden");
    assert_eq!(count(&sdk, Database::Catalog, "select count(*) from product_images").await, 2);
    assert_eq!(
        count(&sdk, Database::Catalog, "select count(*) from product_attributes where name = 'Colour'").await,
        2
    );
    let found = sdk.products().search("terracotta", &Default::default()).await.unwrap();
    assert_eq!(found.items.iter().map(|p| p.id).collect::<Vec<_>>(), [pot.id], "search documents are written");
    let found = sdk.products().search("POT-1-S", &Default::default()).await.unwrap();
    assert_eq!(found.items.len(), 1, "supplier SKUs are searchable");

    let job = sdk.imports().job(summary.job_id).await.unwrap();
    assert_eq!(job.state, JobState::Succeeded);
    assert_eq!((job.progress.rows_total, job.progress.rows_read, job.progress.invalid), (Some(5), 5, 2));
    assert_eq!(job.summary.as_ref().map(|s| s.created), Some(3));
    // Two of five rows refused: it ran to its end, but it is not a success. Three products, one of them a variant.
    assert_eq!(
        (summary.outcome, job.outcome),
        (ImportOutcome::CompletedWithErrors, ImportOutcome::CompletedWithErrors)
    );
    assert_eq!((summary.products_created, summary.variants_created, summary.products_updated), (3, 1, 0));
    assert_eq!(job.progress.products_created, 3);

    // The same content again: its first import refused rows, so it is read again (the fix may be made since) —
    // every good row unchanged, nothing rewritten.
    let again = write(env.folder(), "catalog-again.csv", CATALOG);
    let reread = sdk.imports().import_file(native(acme, &again), |_| {}).await.unwrap();
    assert_eq!(
        (reread.identical_to, reread.created, reread.updated, reread.unchanged, reread.invalid),
        (None, 0, 0, 3, 2)
    );
    assert_eq!(snapshot(&sdk).await, stored);
    // A file taken without a refusal: the same content again is skipped by its hash, naming the import it repeats,
    // unless forced.
    let clean: String = CATALOG
        .lines()
        .filter(|line| !line.starts_with("PAN-2") && !line.starts_with("SAW-4"))
        .map(|l| format!("{l}\n"))
        .collect();
    let first =
        sdk.imports().import_file(native(acme, &write(env.folder(), "clean.csv", &clean)), |_| {}).await.unwrap();
    assert_eq!((first.outcome, first.unchanged), (ImportOutcome::Succeeded, 3));
    let skipped =
        sdk.imports().import_file(native(acme, &write(env.folder(), "clean-again.csv", &clean)), |_| {}).await.unwrap();
    assert_eq!((skipped.identical_to, skipped.rows), (Some(first.job_id), 0));
    // Other options read the file otherwise: not the same import.
    let mut other = native(acme, &write(env.folder(), "clean-other.csv", &clean));
    other.options.image_base_url = Some("https://shop.example/media/".into());
    let other = sdk.imports().import_file(other, |_| {}).await.unwrap();
    assert_eq!((other.identical_to, other.unchanged), (None, 3), "{other:?}");
    let forced = NewImport { force: true, ..native(acme, &write(env.folder(), "clean-forced.csv", &clean)) };
    let forced = sdk.imports().import_file(forced, |_| {}).await.unwrap();
    assert_eq!((forced.created, forced.updated, forced.unchanged, forced.invalid), (0, 0, 3, 0), "{forced:?}");
    assert_eq!(snapshot(&sdk).await, stored);

    // Statistics: six jobs today for the supplier.
    let days = sdk.imports().statistics(acme, chrono::Utc::now().date_naive()).await.unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!((days[0].jobs, days[0].rows_created, days[0].rows_skipped), (6, 3, 12));

    // A product the import made without a GTIN or SKU of its own (known by its offer's supplier SKU) can still be
    // edited; a write cannot take away the last identifier a product has.
    let small = sdk.products().search("POT-1-S", &Default::default()).await.unwrap().items[0].id;
    let rename = ProductPatch { title: Some("Clay pot, small".into()), ..Default::default() };
    assert_eq!(sdk.products().patch(small, rename).await.unwrap().title, "Clay pot, small");
    let refused = sdk.products().patch(pot.id, ProductPatch { gtin: Some(None), ..Default::default() }).await;
    assert_eq!(refused.unwrap_err().field(), Some("gtin"));

    // Above the threshold the same file fails (a dry run judged as its real run would be).
    sdk.settings().set("imports.failed_above_refused_percent", serde_json::json!(30), None).await.unwrap();
    let strict = write(env.folder(), "catalog-strict.csv", CATALOG);
    let failed = sdk.imports().import_file(NewImport { dry_run: true, ..native(acme, &strict) }, |_| {}).await.unwrap();
    assert_eq!(failed.outcome, ImportOutcome::Failed);
    assert_eq!(sdk.imports().job(failed.job_id).await.unwrap().outcome, ImportOutcome::Failed);
    // Run for real, it counts as a failed import in the statistics and the supplier's scorecard, though its job
    // ran to its end.
    let real = sdk.imports().import_file(native(acme, &strict), |_| {}).await.unwrap();
    assert_eq!(real.outcome, ImportOutcome::Failed);
    let generic = sdk.jobs().for_queue("imports").get(real.job_id).await.unwrap();
    assert_eq!((generic.state.to_string(), generic.outcome.as_deref()), ("succeeded".into(), Some("failed")));
    let today = chrono::Utc::now().date_naive();
    let days = sdk.imports().statistics(acme, today).await.unwrap();
    assert_eq!(days[0].jobs_failed, 2, "the dry run and the real one: {days:?}");
    sdk.analytics().roll_up(today).await.unwrap();
    let cards = sdk.analytics().supplier_scorecards(Some(1)).await.unwrap();
    let card = cards.iter().find(|card| card.supplier_id == acme).unwrap();
    assert_eq!((card.imports_failed, card.imports_succeeded + 1), (1, card.imports), "{card:?}");
    sdk.settings().reset("imports.failed_above_refused_percent").await.unwrap();
}

/// A supplier without a default currency and a file whose prices name none: refused before the first row, saying
/// how to fix it, nothing written (each priced row was refused one by one, and the job shown green).
async fn prices_without_a_currency_are_refused_at_the_header(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "import_no_currency").await else { return };
    let sdk = env.sdk().await;
    let input = NewSupplier { code: "BARE".into(), name: "Bare".into(), ..Default::default() };
    let bare = sdk.suppliers().create(input).await.unwrap().id;
    let path = write(env.folder(), "prices.csv", "sku,title,price\nA-1,Pen,1.50\nA-2,Pad,\n");
    let error = sdk.imports().import_file(native(bare, &path), |_| {}).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Invalid);
    let message = error.to_string();
    assert!(message.contains("column 3 (\"price\") holds prices") && message.contains("default_currency"), "{message}");
    assert_eq!(count(&sdk, Database::Catalog, "select count(*) from supplier_products").await, 0);
    // With a currency column the same supplier's file is read.
    let path = write(env.folder(), "priced.csv", "sku,title,price,currency\nA-1,Pen,1.50,EUR\n");
    let summary = sdk.imports().import_file(native(bare, &path), |_| {}).await.unwrap();
    assert_eq!((summary.created, summary.outcome), (1, ImportOutcome::Succeeded));
}

/// A changed row is written, an unchanged one skipped; a dry run reports what would change (with a sample of
/// field diffs) and writes nothing to the catalog; offers missing from a full catalog are marked unavailable.
async fn changes_dry_runs_and_missing_offers(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "import_changes").await else { return };
    let sdk = env.sdk().await;
    let acme = supplier(&sdk, "ACME").await;
    let first = write(env.folder(), "v1.csv", "sku;title;price;stock\nA1;Pot;9,90;3\nA2;Pan;20;1\nA3;Lid;4;0\n");
    let summary = sdk.imports().import_file(native(acme, &first), |_| {}).await.unwrap();
    assert_eq!(summary.created, 3);
    let before = snapshot(&sdk).await;

    let second = write(env.folder(), "v2.csv", "sku;title;price;stock\nA1;Pot;10,50;3\nA2;Pan;20;1\nA4;Cup;2;9\n");
    let dry = sdk.imports().import_file(NewImport { dry_run: true, ..native(acme, &second) }, |_| {}).await.unwrap();
    assert_eq!((dry.created, dry.updated, dry.unchanged, dry.invalid), (1, 1, 1, 0), "{dry:?}");
    assert_eq!(snapshot(&sdk).await, before, "a dry run writes nothing");
    let changed = dry.diffs.iter().find(|d| d.kind == "changed").unwrap();
    assert_eq!(changed.supplier_sku, "A1");
    assert_eq!(changed.fields.get("price:retail:EUR"), Some(&(Some("990".into()), Some("1050".into()))));
    assert_eq!(changed.fields.len(), 1, "unchanged fields are not listed: {changed:?}");
    assert!(dry.diffs.iter().any(|d| d.kind == "new" && d.supplier_sku == "A4"));

    let options = ImportOptions { mark_missing_unavailable: true, ..Default::default() };
    let full = sdk.imports().import_file(NewImport { options, ..native(acme, &second) }, |_| {}).await.unwrap();
    assert_eq!((full.created, full.updated, full.unchanged, full.marked_unavailable), (1, 1, 1, 1), "{full:?}");
    let after = snapshot(&sdk).await;
    assert!(after[0].starts_with("A1|") && after[0].ends_with("retail=1050 EUR"), "{after:?}");
    assert!(after[2].starts_with("A3|") && after[2].contains("|false|"), "A3 is no longer offered: {after:?}");
    assert!(after[3].starts_with("A4||Cup"), "{after:?}");
}

/// A stored template maps a supplier's own columns (semicolons, Windows-1252, decimal commas, a coefficient) and
/// is versioned by name.
async fn stored_template_maps_a_supplier_layout(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "import_template").await else { return };
    let sdk = env.sdk().await;
    let acme = supplier(&sdk, "ACME").await;
    let definition: Template = serde_json::from_value(serde_json::json!({
        "columns": [
            {"column": "Référence", "to": "supplier_sku"},
            {"column": "EAN", "to": "gtin"},
            {"column": "Désignation", "to": "title", "transforms": [{"op": "trim"}]},
            {"column": "Prix achat", "to": "cost", "transforms": [{"op": "decimal_comma"}]},
            {"column": "Prix achat", "to": {"price": {"type": "retail"}},
             "transforms": [{"op": "decimal_comma"}, {"op": "multiply", "factor": "1.8"}]},
            {"column": "Qté", "to": "stock", "transforms": [{"op": "default", "value": "0"}]}
        ],
        "currency": "EUR",
        "unmapped_columns": "ignore"
    }))
    .unwrap();
    let input = NewMappingTemplate {
        name: "acme-v1".into(),
        description: "Acme price list".into(),
        definition: definition.clone(),
        supplier_id: Some(acme),
    };
    let v1 = sdk.imports().save_template(input.clone()).await.unwrap();
    let v2 = sdk.imports().save_template(NewMappingTemplate { description: "second".into(), ..input }).await.unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));
    assert_eq!(sdk.imports().template_named("acme-v1", None).await.unwrap().id, v2.id);
    assert_eq!(sdk.imports().template_named("acme-v1", Some(1)).await.unwrap().id, v1.id);
    assert_eq!(sdk.imports().templates().await.unwrap().len(), 1, "the latest version of each name");
    assert_eq!(sdk.imports().find_template("acme-v1@1").await.unwrap().id, v1.id);
    assert_eq!(sdk.imports().find_template("acme-v1").await.unwrap().id, v2.id);
    assert_eq!(sdk.imports().find_template(&v1.id.to_string()).await.unwrap().version, 1);
    assert_eq!(sdk.imports().find_template("acme-v1@x").await.unwrap_err().kind(), ErrorKind::Invalid);

    // Windows-1252: é is one byte (0xE9).
    let mut content = b"R\xe9f\xe9rence;EAN;D\xe9signation;Prix achat;Qt\xe9;Remarque\n".to_vec();
    content.extend_from_slice(b"B-1;4006381333931; Bol en gr\xe8s ;1.234,50;;fragile\n");
    let path = write(env.folder(), "acme.csv", content);
    let summary = sdk
        .imports()
        .import_file(NewImport { template: Some(v2.id), preset: None, ..native(acme, &path) }, |_| {})
        .await
        .unwrap();
    assert_eq!((summary.created, summary.invalid), (1, 0), "{summary:?}");
    assert!(summary.format.contains("Windows-1252"), "{}", summary.format);
    assert_eq!(snapshot(&sdk).await, ["B-1|04006381333931|Bol en grès|||123450 EUR|0|true|active|retail=222210 EUR"]);

    // A broken definition is refused, naming the field.
    let bad = serde_json::json!({"columns": [{"column": "a", "to": "title"}]});
    let error = sdk
        .imports()
        .save_template(NewMappingTemplate {
            name: "bad".into(),
            description: String::new(),
            definition: serde_json::from_value(bad).unwrap(),
            supplier_id: None,
        })
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Invalid);
    assert!(error.to_string().starts_with("definition.columns"), "{error}");
}

/// Each broken file fails its job with the file, line and column named, and nothing reaches the catalog.
async fn broken_files_fail_whole(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "import_broken").await else { return };
    let sdk = env.sdk().await;
    let acme = supplier(&sdk, "ACME").await;
    let long_line = format!("sku,title\nA1,{}\n", "x".repeat(5 << 20));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.csv", Vec::new(), "empty.csv: the file is empty"),
        ("header.csv", b"sku,title\n".to_vec(), "header.csv: the file has a header but no data rows"),
        (
            "quote.csv",
            b"sku,title\nA1,Pot\nA2,\"Pan\nA3,Lid\n".to_vec(),
            "quote.csv, line 3, column 2: a quote opened here is never closed",
        ),
        (
            "twice.csv",
            b"sku,title,sku\nA1,Pot,A1\n".to_vec(),
            "twice.csv, line 1, column 3: column name \"sku\" repeats column 1",
        ),
        ("long.csv", long_line.into_bytes(), "long.csv: line 2 is longer than 4194304 bytes"),
        ("fake.xlsx", b"PK\x03\x04 not really a zip".to_vec(), "fake.xlsx: not a readable spreadsheet"),
        (
            "renamed.csv",
            b"sku,titel\nA1,Pot\n".to_vec(),
            "renamed.csv: header: the file does not match the template (unexpected columns: \"titel\")",
        ),
    ];
    for (name, content, expected) in cases {
        let path = write(env.folder(), name, content);
        let error = sdk.imports().import_file(native(acme, &path), |_| {}).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Invalid, "{name}: {error}");
        assert!(error.to_string().starts_with(expected), "{name}: {error}");
        let jobs = sdk.imports().jobs(Some(acme), 1).await.unwrap();
        assert_eq!(jobs[0].state, JobState::Failed, "{name}");
        assert!(
            jobs[0].last_error.as_deref().is_some_and(|e| e.starts_with(expected)),
            "{name}: {:?}",
            jobs[0].last_error
        );
    }
    assert_eq!(count(&sdk, Database::Catalog, "select count(*) from products").await, 0);
    assert_eq!(count(&sdk, Database::Catalog, "select count(*) from supplier_products").await, 0);

    // Row-level faults refuse their row only: ragged rows, invalid UTF-8, a repeated SKU, a formula-like cell
    // kept as text.
    let mut content = b"sku,title,price\nA1,Pot,1\nA2,Pan\nA3,Lid,2,extra\nA4,Caf\xe9,3\nA1,Again,4\n".to_vec();
    content.extend_from_slice(b"A5,=HYPERLINK(\"http://x\"),5\n");
    let path = write(env.folder(), "rows.csv", content);
    let options = ImportOptions {
        csv: productsmanager_core::imports::parse::CsvOptions {
            encoding: Some(productsmanager_core::imports::parse::TextEncoding::Utf8),
            ..Default::default()
        },
        ..Default::default()
    };
    let summary = sdk.imports().import_file(NewImport { options, ..native(acme, &path) }, |_| {}).await.unwrap();
    assert_eq!((summary.created, summary.invalid), (2, 4), "{summary:?}");
    let errors = String::from_utf8(sdk.imports().errors_csv(summary.job_id).await.unwrap().to_vec()).unwrap();
    let codes: Vec<String> =
        errors.lines().skip(1).map(|l| l.split(',').take(2).collect::<Vec<_>>().join(",")).collect();
    assert_eq!(codes, ["3,3", "4,4", "5,2", "6,1"], "{errors}");
    assert!(errors.contains("duplicate_sku"), "{errors}");
    // A5 is a supplier SKU, not ours: found through the search document.
    let found = sdk.products().search("A5", &Default::default()).await.unwrap();
    assert_eq!(found.items[0].title, "=HYPERLINK(\"http://x\")");
}

/// An import interrupted after some batches resumes from its checkpoint: the catalog ends as after an
/// uninterrupted run, and no row is counted or reported twice.
async fn interrupted_import_resumes(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "import_resume").await else { return };
    let sdk = env.sdk().await;
    let acme = supplier(&sdk, "ACME").await;
    let mut content = String::from("sku,title,price,stock\n");
    for n in 0..40 {
        if n % 7 == 3 {
            content.push_str(&format!("R{n},,1,1\n")); // no title: refused
        } else {
            content.push_str(&format!("R{n},Item {n},{n}.5,{}\n", n * 2));
        }
    }
    let path = write(env.folder(), "big.csv", &content);
    let options = ImportOptions { batch_rows: 5, ..Default::default() };
    let input = NewImport { options, ..native(acme, &path) };

    // Reference: the same file, uninterrupted, into another database.
    let Some(reference_env) = TestDatabases::named(backend, "import_resume_ref").await else { return };
    let reference = reference_env.sdk().await;
    let reference_supplier = supplier(&reference, "ACME").await;
    let full = reference
        .imports()
        .import_file(NewImport { supplier_id: reference_supplier, ..input.clone() }, |_| {})
        .await
        .unwrap();

    // Queue it, run it until three batches are in, then stop it as a killed process would be.
    let job = sdk.imports().upload(input).await.unwrap();
    let (batches, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let imports = sdk.imports();
    let running = tokio::spawn(async move {
        imports
            .run_job(job.id, move |progress| {
                let _ = batches.send(progress.rows_read);
                // Slow enough for the test to stop it between batches.
                std::thread::sleep(std::time::Duration::from_millis(50));
            })
            .await
    });
    for _ in 0..3 {
        seen.recv().await.unwrap();
    }
    running.abort();
    let _ = running.await;
    // A killed process writes nothing more; an aborted task's last commit may still be under way on its
    // connection: the SDK closed (its connections done), a new one resumes, as a restarted process would.
    sdk.close().await;
    let sdk = env.sdk().await;
    let partial = count(&sdk, Database::Catalog, "select count(*) from supplier_products").await;
    assert!(partial > 0 && partial < 34, "{partial} offers after the interruption");

    let resumed: ImportSummary = sdk.imports().run_job(job.id, |_| {}).await.unwrap();
    assert!(resumed.resumed_after_line.is_some_and(|line| line >= 16), "{resumed:?}");
    assert_eq!(
        (resumed.rows, resumed.created, resumed.updated, resumed.unchanged, resumed.invalid),
        (full.rows, full.created, 0, 0, full.invalid),
        "{resumed:?} vs {full:?}"
    );
    assert_eq!((full.rows, full.created, full.invalid), (40, 34, 6));
    // The products counted before the interruption are counted once.
    assert_eq!((resumed.products_created, full.products_created), (34, 34));
    assert_eq!(snapshot(&sdk).await, snapshot(&reference).await);
    let errors = String::from_utf8(sdk.imports().errors_csv(job.id).await.unwrap().to_vec()).unwrap();
    assert_eq!(errors.lines().count(), 1 + 6, "each refused row reported once: {errors}");
}

/// An uploaded file is imported by a worker of the `imports` queue.
async fn uploads_are_imported_by_workers(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "import_worker").await else { return };
    let sdk = env.sdk().await;
    let acme = supplier(&sdk, "ACME").await;
    let path = write(env.folder(), "drop.csv", "sku,title,price\nW1,Widget,3\nW2,Gadget,4\n");
    let job = sdk.imports().upload(native(acme, &path)).await.unwrap();
    assert_eq!(job.state, JobState::Queued);
    let workers = sdk.job_runner("imports-test", &["imports".to_string()]).unwrap().start();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let done = loop {
        let current = sdk.imports().job(job.id).await.unwrap();
        if current.state == JobState::Succeeded || std::time::Instant::now() > deadline {
            break current;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    workers.shutdown(std::time::Duration::from_secs(5)).await;
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");
    assert_eq!(done.progress.created, 2);
    assert_eq!(snapshot(&sdk).await.len(), 2);
}

/// On PostgreSQL `import_logs` gets a partition per month, made ahead by the daily task; log rows already in the
/// default partition move into their month's. SQLite has no partitions.
async fn import_logs_are_partitioned_by_month(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "import_log_partitions").await else { return };
    let sdk = env.sdk().await;
    let acme = supplier(&sdk, "ACME").await;
    let path = write(env.folder(), "one.csv", "sku,title\nL1,Logged\n");
    sdk.imports().import_file(native(acme, &path), |_| {}).await.unwrap();
    let logs = count(&sdk, Database::Imports, "select count(*) from import_logs").await;
    assert_eq!(logs, 1, "one line per finished import");
    let made = sdk.imports().ensure_log_partitions().await.unwrap();
    match backend {
        Backend::Sqlite => assert!(made.is_empty()),
        Backend::Postgres => {
            let month = chrono::Utc::now().format("import_logs_%Y_%m").to_string();
            assert_eq!(made.len(), 3, "{made:?}");
            assert_eq!(made[0], month);
            assert!(sdk.imports().ensure_log_partitions().await.unwrap().is_empty(), "made once");
            assert_eq!(count(&sdk, Database::Imports, "select count(*) from import_logs_default").await, 0);
            assert_eq!(
                count(&sdk, Database::Imports, "select count(*) from import_logs").await,
                logs,
                "moved, not lost"
            );
        }
    }
}

/// Variants are one level deep, in an import as through the API: a variant of a variant is refused (within the
/// batch and against the stored catalog), and so is a parent made a variant. A variant without a title is named
/// after its parent and options.
async fn variants_stay_one_level_deep(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "import_variant_depth").await else { return };
    let sdk = env.sdk().await;
    let acme = supplier(&sdk, "ACME").await;
    let first = "sku,title,parent_sku,option:size\nA,Pot,,\nB,Pot S,A,S\nC,Pot S mini,B,XS\nD,Lid,,\nE,,A,L\n";
    let path = write(env.folder(), "first.csv", first);
    let summary = sdk.imports().import_file(native(acme, &path), |_| {}).await.unwrap();
    assert_eq!((summary.rows, summary.created, summary.invalid), (5, 4, 1), "{summary:?}");
    let errors = String::from_utf8(sdk.imports().errors_csv(summary.job_id).await.unwrap().to_vec()).unwrap();
    assert!(errors.contains("4,,,,invalid_parent,the parent is itself a variant"), "{errors}");
    let large = sdk.products().search("Pot - L", &Default::default()).await.unwrap();
    assert_eq!(sdk.products().get(large.items[0].id).await.unwrap().title, "Pot - L");

    let second = "sku,title,parent_sku,option:size\nA,Pot,D,M\nF,Lid S,B,S\n";
    let path = write(env.folder(), "second.csv", second);
    let summary = sdk.imports().import_file(native(acme, &path), |_| {}).await.unwrap();
    assert_eq!((summary.rows, summary.created, summary.invalid), (2, 0, 2), "{summary:?}");
    let errors = String::from_utf8(sdk.imports().errors_csv(summary.job_id).await.unwrap().to_vec()).unwrap();
    assert!(errors.contains("2,,,,invalid_parent,this product has variants of its own"), "{errors}");
    assert!(errors.contains("3,,,,invalid_parent,the parent is itself a variant"), "{errors}");
    assert_eq!(count(&sdk, Database::Catalog, "select count(*) from product_variants").await, 2);
}

/// A supplier's price list as a spreadsheet saves it: a title line above the header, a delimiter after the last
/// name, amounts with grouped digits and a currency sign, blank rows and a totals line at the bottom. The header is
/// found, the blank rows and the totals line are set aside and counted as skipped (not refused), the dry run says
/// what the real run does.
async fn a_price_list_with_a_title_and_a_totals_line(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "import_dialect").await else { return };
    let sdk = env.sdk().await;
    let acme = supplier(&sdk, "ACME").await;
    let file = "Tarifs ACME, janvier 2026;;;;\n\
                sku;title;price;stock;\n\
                A1;Pot;1 234,56 €;3;\n\
                A2;Pan;9,90;1;\n\
                A3;;;;\n\
                ;;;;\n\
                TOTAL;;1 244,46 €;4;\n";
    let path = write(env.folder(), "tarifs.csv", file);
    let dry = sdk.imports().import_file(NewImport { dry_run: true, ..native(acme, &path) }, |_| {}).await.unwrap();
    let real = sdk.imports().import_file(native(acme, &path), |_| {}).await.unwrap();
    for summary in [&dry, &real] {
        assert_eq!(
            (summary.rows, summary.created, summary.invalid, summary.skipped),
            (3, 2, 1, 2),
            "A3 (no title) refused; the blank row and the totals line set aside: {summary:?}"
        );
        let by: Vec<(&str, u64)> = summary.skipped_by.iter().map(|(why, n)| (why.as_str(), *n)).collect();
        assert_eq!(by, [("empty", 1), ("totals", 1)]);
        assert!(summary.format.contains("header on line 2; preset native"), "{}", summary.format);
        assert_eq!(summary.outcome, ImportOutcome::CompletedWithErrors);
    }
    let errors = String::from_utf8(sdk.imports().errors_csv(real.job_id).await.unwrap().to_vec()).unwrap();
    let lines: Vec<&str> = errors.lines().skip(1).collect();
    assert!(lines.len() == 1 && lines[0].starts_with("5,"), "lines keep their numbers in the file: {errors}");
    let progress = sdk.imports().job(real.job_id).await.unwrap().progress;
    assert_eq!((progress.rows_read, progress.rows_total), (3, Some(3)), "the rows set aside are not to be read");
    let snapshot = snapshot(&sdk).await;
    assert!(snapshot[0].starts_with("A1||Pot|") && snapshot[0].ends_with("retail=123456 EUR"), "{snapshot:?}");

    // Named instead of found: the same rows (a forced re-import of the same file).
    let mut named = NewImport { force: true, ..native(acme, &path) };
    named.options.csv.header_line = Some(2);
    let again = sdk.imports().import_file(named, |_| {}).await.unwrap();
    assert_eq!((again.rows, again.unchanged, again.skipped), (3, 2, 2), "{again:?}");

    // A file of nothing but rows set aside is as empty as a header alone (it would mark every offer missing).
    let nothing = write(env.folder(), "nothing.csv", "sku;title;price\n;;\nTOTAL;;12,00\n");
    let error = sdk.imports().import_file(native(acme, &nothing), |_| {}).await.unwrap_err();
    assert!(error.to_string().contains("no product rows, only rows set aside (1 empty, 1 totals)"), "{error}");

    // Our own shop's file in our layout: its SKU and stock are also the product's (a supplier's are the offer's).
    let shop = write(env.folder(), "shop.csv", "sku;title;price;stock\nS1;Mug;4,50;7\n");
    let mut input = native(acme, &shop);
    input.options.catalog = Some(SourceCatalog::Shop);
    sdk.imports().import_file(input, |_| {}).await.unwrap();
    let mug = sdk.products().find("S1").await.unwrap();
    assert_eq!((mug.sku.as_ref().map(|s| s.as_str()), mug.stock.quantity), (Some("S1"), 7));
    let pot = sdk.products().find("A1").await.unwrap();
    assert_eq!((pot.sku, pot.stock.quantity), (None, 0), "a supplier's SKU and stock stay the offer's");
}

/// A variant priced as a difference from its parent (PrestaShop's "impact on price") follows its parent's price:
/// the same variants file imported again after the parent's price moved gives the variants their new prices, and
/// counts them as updated; while the parent's price stays, the file is unchanged.
async fn a_variant_priced_from_its_parent_follows_the_parents_price(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "variant_price_impact").await else { return };
    let sdk = env.sdk().await;
    let acme = supplier(&sdk, "ACME").await;
    let definition: Template = serde_json::from_value(serde_json::json!({
        "columns": [
            {"column": "ref", "to": "supplier_sku"},
            {"column": "parent", "to": "parent_sku"},
            {"column": "title", "to": "title"},
            {"column": "price", "to": {"price": {"type": "retail"}}},
            {"column": "impact", "to": "price_impact"},
            {"column": "size", "to": {"variant_option": {"axis": "size"}}}
        ],
        "currency": "EUR"
    }))
    .unwrap();
    let input = NewMappingTemplate {
        name: "combinations".into(),
        description: String::new(),
        definition,
        supplier_id: Some(acme),
    };
    let template = sdk.imports().save_template(input).await.unwrap().id;
    let run = |name: &str, content: &str| {
        let path = write(env.folder(), name, content);
        let input = NewImport { template: Some(template), preset: None, force: true, ..native(acme, &path) };
        let sdk = sdk.clone();
        async move { sdk.imports().import_file(input, |_| {}).await.unwrap() }
    };
    run("parents.csv", "ref,parent,title,price,impact,size\nP,,Shirt,100.00,,\n").await;
    let variants = "ref,parent,title,price,impact,size\nP-M,P,Shirt M,,5.00,M\nP-L,P,Shirt L,,-10.00,L\n";
    run("variants.csv", variants).await;
    let price_of = |title: &'static str| {
        let sdk = sdk.clone();
        async move {
            let found = sdk.products().search(title, &Default::default()).await.unwrap();
            let product = found.items.iter().find(|p| p.title == title).unwrap().id;
            let product = sdk.products().get(product).await.unwrap();
            let retail = product.prices.iter().find(|p| p.price_type == PriceType::Retail);
            retail.map(|p| p.amount.amount_minor)
        }
    };
    assert_eq!((price_of("Shirt M").await, price_of("Shirt L").await), (Some(10_500), Some(9_000)));
    let same = run("variants.csv", variants).await;
    assert_eq!((same.unchanged, same.updated), (2, 0), "the parent's price stayed: {same:?}");
    run("parents.csv", "ref,parent,title,price,impact,size\nP,,Shirt,120.00,,\n").await;
    let again = run("variants.csv", variants).await;
    assert_eq!((again.unchanged, again.updated), (0, 2), "the parent's price moved: {again:?}");
    assert_eq!((price_of("Shirt M").await, price_of("Shirt L").await), (Some(12_500), Some(11_000)));

    // A dry run of parent and variant in one file, one row per batch: the variant's price comes from the parent's
    // row of an earlier batch, which the dry run did not write.
    let path = write(
        env.folder(),
        "new.csv",
        "ref,parent,title,price,impact,size\nQ,,Coat,200.00,,\nQ-S,Q,Coat S,,-20.00,S\n",
    );
    let mut dry = NewImport { template: Some(template), preset: None, dry_run: true, ..native(acme, &path) };
    dry.options.batch_rows = 1;
    let dry = sdk.imports().import_file(dry, |_| {}).await.unwrap();
    let variant = dry.diffs.iter().find(|d| d.supplier_sku == "Q-S").expect("the variant's diff");
    assert_eq!(variant.fields.get("price:retail:EUR").and_then(|f| f.1.as_deref()), Some("18000"), "{variant:?}");
}

both_backends!(
    a_variant_priced_from_its_parent_follows_the_parents_price,
    a_price_list_with_a_title_and_a_totals_line,
    prices_without_a_currency_are_refused_at_the_header,
    variants_stay_one_level_deep,
    import_logs_are_partitioned_by_month,
    native_file_lands_in_the_catalog,
    changes_dry_runs_and_missing_offers,
    stored_template_maps_a_supplier_layout,
    broken_files_fail_whole,
    interrupted_import_resumes,
    uploads_are_imported_by_workers,
);

/// Import jobs list newest first, a page at a time, each job once; a cursor that is not one is refused.
async fn import_jobs_page_newest_first(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "import_jobs_page").await else { return };
    let sdk = env.sdk().await;
    let acme = supplier(&sdk, "ACME").await;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("acme.csv");
    std::fs::write(&path, "sku,title\nA-1,Pen\n").unwrap();
    let mut uploaded = Vec::new();
    for _ in 0..3 {
        uploaded.push(sdk.imports().upload(native(acme, &path)).await.unwrap().id);
    }
    uploaded.reverse();
    let (mut seen, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let page = sdk.imports().jobs_page(Some(acme), 1, cursor.as_deref()).await.unwrap();
        seen.extend(page.items.iter().map(|j| j.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, uploaded);
    assert_eq!(sdk.imports().jobs(None, 2).await.unwrap().len(), 2);
    let refused = sdk.imports().jobs_page(None, 1, Some("yesterday")).await.unwrap_err();
    assert_eq!((refused.kind(), refused.field()), (ErrorKind::Invalid, Some("cursor")));
    sdk.close().await;
}

both_backends!(import_jobs_page_newest_first);
