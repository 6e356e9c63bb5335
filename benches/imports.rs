//! The import engine at scale, beside SQL-only baselines in the same run, printing one table.
//!
//! A generated supplier file (`PM_BENCH_IMPORT_ROWS` rows, default 1,000,000; 16 semicolon-separated columns,
//! decimal commas, valid EAN-13s, 1 % rows with a wrong check digit) is imported through the SDK with a stored
//! template into fresh databases, then re-imported unchanged (forced past the same-file check). The baseline writes
//! what the import writes with SQL alone: the same rows into the same catalog tables (brands, products, offers, three
//! prices, four attributes, images, category links) — PostgreSQL `COPY` into a staging table plus one `INSERT …
//! SELECT … ON CONFLICT` per table, SQLite prepared multi-row inserts in one transaction — then the search documents
//! with the catalog's own rebuild statement (the import, too, writes them in one statement at its end); it checks
//! nothing and skips nothing. Its time without the search documents is printed too. Peak RSS of each import is the
//! process's high-water mark (`VmHWM`), reset before it (`/proc/self/clear_refs`). Last, a 100,000-row XLSX
//! (SQLite): our dry run (reading, mapping, checking, planning) beside calamine reading the same sheet alone, and
//! our import beside calamine alone and beside the same SQL-only baseline fed by calamine.
//! `PM_BENCH_BACKENDS=sqlite|postgres|none` runs one backend (or only the XLSX rows), `PM_BENCH_SKIP_XLSX=1` skips
//! the XLSX rows, `PM_BENCH_BATCH_ROWS` sets the import's rows per transaction (default 5,000),
//! `PM_BENCH_MEMORY_ONLY=1` runs only the first import of each backend (for the peak RSS of very large files).
//!
//! ```text
//! PM_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p productsmanager-benches --bench imports
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use productsmanager_benches::process::{cpu_ticks, peak_rss_mib, reset_peak_rss};
use productsmanager_benches::supplier_file::{self, COLUMNS};
use productsmanager_core::Sdk;
use productsmanager_core::catalog::NewSupplier;
use productsmanager_core::db::{Backend, Database, DbPool};
use productsmanager_core::imports::mapping::Template;
use productsmanager_core::imports::{ImportOptions, NewImport, NewMappingTemplate};
use productsmanager_core::testing::TestDatabases;
use sqlx::QueryBuilder;
use uuid::Uuid;

/// The supplier file's template: every column used.
fn template() -> Template {
    serde_json::from_value(serde_json::json!({
        "columns": [
            {"column": "ref", "to": "supplier_sku"},
            {"column": "ean", "to": "gtin"},
            {"column": "designation", "to": "title"},
            {"column": "description", "to": "description"},
            {"column": "marque", "to": "brand"},
            {"column": "categorie", "to": {"category": {}}},
            {"column": "prix_achat", "to": "cost", "transforms": [{"op": "decimal_comma"}]},
            {"column": "prix_vente", "to": {"price": {"type": "retail"}}, "transforms": [{"op": "decimal_comma"}]},
            {"column": "pvc", "to": {"price": {"type": "msrp"}}, "transforms": [{"op": "decimal_comma"}]},
            {"column": "prix_promo", "to": {"price": {"type": "sale"}}, "transforms": [{"op": "decimal_comma"}]},
            {"column": "stock", "to": "stock"},
            {"column": "poids_kg", "to": {"attribute": {"name": "weight_kg"}}, "transforms": [{"op": "decimal_comma"}]},
            {"column": "couleur", "to": {"attribute": {"name": "colour"}}},
            {"column": "taille", "to": {"attribute": {"name": "size"}}},
            {"column": "matiere", "to": {"attribute": {"name": "material"}}},
            {"column": "image", "to": {"image": {}}}
        ],
        "currency": "EUR"
    }))
    .unwrap()
}

struct Row {
    label: String,
    rows: u64,
    seconds: f64,
    baseline: Option<f64>,
    rss_mib: Option<f64>,
}

async fn new_sdk(backend: Backend, name: &str) -> Option<(TestDatabases, Sdk, Uuid)> {
    let mut env = TestDatabases::named(backend, name).await?;
    env.config_mut().database.catalog.pool_size = 4;
    let sdk = env.sdk().await;
    let supplier = NewSupplier { code: "BENCH".into(), name: "Bench".into(), ..Default::default() };
    let supplier = sdk.suppliers().create(supplier).await.unwrap().id;
    Some((env, sdk, supplier))
}

/// The template saved, and the import of `file` with it.
async fn import_input(sdk: &Sdk, supplier: Uuid, file: &Path) -> NewImport {
    let saved = sdk
        .imports()
        .save_template(NewMappingTemplate {
            name: "bench".into(),
            description: String::new(),
            definition: template(),
            supplier_id: None,
        })
        .await
        .unwrap();
    let mut options = ImportOptions::default();
    if let Some(rows) = std::env::var("PM_BENCH_BATCH_ROWS").ok().and_then(|v| v.parse().ok()) {
        options.batch_rows = rows;
    }
    NewImport {
        supplier_id: supplier,
        name: file.file_name().unwrap().to_string_lossy().into_owned(),
        path: file.to_path_buf(),
        template: Some(saved.id),
        preset: None,
        dry_run: false,
        force: false,
        options,
        requested_by: None,
    }
}

async fn ours(backend: Backend, file: &Path, rows: u64, table: &mut Vec<Row>) {
    let Some((_env, sdk, supplier)) = new_sdk(backend, "imports bench").await else { return };
    let input = import_input(&sdk, supplier, file).await;
    reset_peak_rss();
    let started = Instant::now();
    let first = sdk.imports().import_file(input.clone(), |_| {}).await.unwrap();
    let first_seconds = started.elapsed().as_secs_f64();
    let first_rss = peak_rss_mib();
    assert_eq!(first.rows, rows);
    eprintln!("{backend}: first import {first:?}");
    if std::env::var("PM_BENCH_MEMORY_ONLY").is_ok() {
        table.push(Row {
            label: format!("{backend}: import, new catalog"),
            rows,
            seconds: first_seconds,
            baseline: None,
            rss_mib: Some(first_rss),
        });
        return;
    }
    reset_peak_rss();
    let started = Instant::now();
    let again = sdk.imports().import_file(NewImport { force: true, ..input }, |_| {}).await.unwrap();
    let again_seconds = started.elapsed().as_secs_f64();
    assert_eq!(again.unchanged, first.created);
    eprintln!("{backend}: import {first_seconds:.1} s, re-import {again_seconds:.1} s");
    let baseline = baseline(backend, file).await;
    if let Some((seconds, search)) = baseline {
        eprintln!("{backend}: baseline {seconds:.1} s, of which {search:.1} s the search documents");
    }
    let baseline = baseline.map(|(seconds, _)| seconds);
    table.push(Row {
        label: format!("{backend}: import, new catalog"),
        rows,
        seconds: first_seconds,
        baseline,
        rss_mib: Some(first_rss),
    });
    table.push(Row {
        label: format!("{backend}: re-import, unchanged"),
        rows,
        seconds: again_seconds,
        baseline: Some(first_seconds),
        rss_mib: Some(peak_rss_mib()),
    });
}

/// The SQL-only load of the same file into fresh databases, then its search documents; (seconds, of which the
/// search documents).
async fn baseline(backend: Backend, file: &Path) -> Option<(f64, f64)> {
    let (_env, sdk, supplier) = new_sdk(backend, "imports bench baseline").await?;
    let pool = sdk.pool(Database::Catalog).clone();
    let started = Instant::now();
    // The file's category paths, created as the import creates them (a few small writes).
    let mut categories = HashMap::new();
    for path in supplier_file::category_paths() {
        let names: Vec<String> = path.split('>').map(|name| name.trim().to_string()).collect();
        let id = sdk.categories().ensure_path(&names).await.unwrap();
        categories.insert(path, id);
    }
    match &pool {
        DbPool::Postgres(pg) => postgres_baseline(pg, file, supplier, &categories).await,
        DbPool::Sqlite(lite) => sqlite_baseline(lite, file, supplier, &categories).await,
    }
    let indexing = Instant::now();
    sdk.products().reindex().await.unwrap();
    Some((started.elapsed().as_secs_f64(), indexing.elapsed().as_secs_f64()))
}

async fn postgres_baseline(pool: &sqlx::PgPool, file: &Path, supplier: Uuid, categories: &HashMap<String, Uuid>) {
    let mut tx = pool.begin().await.unwrap();
    let columns: Vec<String> = COLUMNS.iter().map(|c| format!("{c} text")).collect();
    let staging = format!("create temporary table staging ({}) on commit drop", columns.join(", "));
    // Our own column names and uuid: nothing from outside goes into these statements.
    sqlx::raw_sql(sqlx::AssertSqlSafe(staging)).execute(&mut *tx).await.unwrap();
    let mut copy =
        tx.copy_in_raw("copy staging from stdin with (format csv, delimiter ';', header true)").await.unwrap();
    let mut reader = std::fs::File::open(file).unwrap();
    let mut buffer = vec![0_u8; 1 << 20];
    loop {
        use std::io::Read;
        let n = reader.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        copy.send(buffer[..n].to_vec()).await.unwrap();
    }
    copy.finish().await.unwrap();
    let money = |column: &str| format!("(replace({column}, ',', '.')::numeric * 100)::bigint");
    let statements = [
        "insert into brands (id, name, slug) select gen_random_uuid(), marque, lower(marque) from \
         (select distinct marque from staging) b on conflict do nothing"
            .to_string(),
        "insert into products (id, gtin, title, description, brand_id, status) select gen_random_uuid(), \
         lpad(s.ean, 14, '0'), s.designation, s.description, b.id, 'active' from staging s \
         left join brands b on b.name = s.marque on conflict (gtin) where deleted_at is null do update \
         set title = excluded.title, description = excluded.description, brand_id = excluded.brand_id"
            .to_string(),
        format!(
            "insert into supplier_products (id, product_id, supplier_id, supplier_sku, cost_minor, currency, stock) \
             select gen_random_uuid(), p.id, '{supplier}', s.ref, {}, 'EUR', s.stock::bigint from staging s \
             join products p on p.gtin = lpad(s.ean, 14, '0') on conflict (supplier_id, supplier_sku) do update \
             set cost_minor = excluded.cost_minor, stock = excluded.stock",
            money("s.prix_achat")
        ),
        format!(
            "insert into product_prices (id, product_id, price_type, amount_minor, currency) \
             select gen_random_uuid(), p.id, t.price_type, t.amount, 'EUR' from staging s \
             join products p on p.gtin = lpad(s.ean, 14, '0') cross join lateral (values ('retail', {}), \
             ('msrp', {}), ('sale', {})) as t(price_type, amount) \
             on conflict (product_id, price_type, currency) where valid_from is null and valid_to is null \
             do update set amount_minor = excluded.amount_minor",
            money("s.prix_vente"),
            money("s.pvc"),
            money("s.prix_promo")
        ),
        "insert into product_attributes (id, product_id, name, kind, value_text) \
         select gen_random_uuid(), p.id, t.name, 'text', t.value from staging s \
         join products p on p.gtin = lpad(s.ean, 14, '0') cross join lateral (values ('weight_kg', s.poids_kg), \
         ('colour', s.couleur), ('size', s.taille), ('material', s.matiere)) as t(name, value) \
         on conflict (product_id, name) do update set value_text = excluded.value_text"
            .to_string(),
        "insert into product_images (id, product_id, url) select gen_random_uuid(), p.id, s.image from staging s \
         join products p on p.gtin = lpad(s.ean, 14, '0') on conflict (product_id, url) do nothing"
            .to_string(),
    ];
    for statement in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement)).execute(&mut *tx).await.unwrap();
    }
    let (paths, ids): (Vec<String>, Vec<Uuid>) = categories.iter().map(|(path, id)| (path.clone(), *id)).unzip();
    sqlx::query(
        "insert into product_categories (product_id, category_id) select p.id, c.id from staging s \
         join products p on p.gtin = lpad(s.ean, 14, '0') join unnest($1::text[], $2::uuid[]) as c (path, id) \
         on c.path = s.categorie on conflict do nothing",
    )
    .bind(paths)
    .bind(ids)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn sqlite_baseline(pool: &sqlx::SqlitePool, file: &Path, supplier: Uuid, categories: &HashMap<String, Uuid>) {
    let mut records = records(file);
    let mut tx = pool.begin().await.unwrap();
    let mut brands: HashMap<String, Uuid> = HashMap::new();
    let mut chunk: Vec<csv::StringRecord> = Vec::with_capacity(500);
    let money = |text: &str| -> i64 { (text.replace(',', ".").parse::<f64>().unwrap_or(0.0) * 100.0).round() as i64 };
    loop {
        chunk.clear();
        chunk.extend(records.by_ref().take(500));
        if chunk.is_empty() {
            break;
        }
        for record in &chunk {
            if !brands.contains_key(&record[4]) {
                let id = Uuid::now_v7();
                sqlx::query("insert into brands (id, name, slug) values ($1, $2, $3)")
                    .bind(id)
                    .bind(&record[4])
                    .bind(record[4].to_lowercase())
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                brands.insert(record[4].to_string(), id);
            }
        }
        let ids: Vec<Uuid> = chunk.iter().map(|_| Uuid::now_v7()).collect();
        let mut products = QueryBuilder::new("insert into products (id, gtin, title, description, brand_id, status) ");
        products.push_values(chunk.iter().zip(&ids), |mut row, (record, id)| {
            row.push_bind(*id)
                .push_bind(format!("{:0>14}", &record[1]))
                .push_bind(record[2].to_string())
                .push_bind(record[3].to_string())
                .push_bind(brands[&record[4]])
                .push_bind("active");
        });
        products.build().execute(&mut *tx).await.unwrap();
        let mut offers = QueryBuilder::new(
            "insert into supplier_products (id, product_id, supplier_id, supplier_sku, cost_minor, currency, stock) ",
        );
        offers.push_values(chunk.iter().zip(&ids), |mut row, (record, id)| {
            row.push_bind(Uuid::now_v7())
                .push_bind(*id)
                .push_bind(supplier)
                .push_bind(record[0].to_string())
                .push_bind(money(&record[6]))
                .push_bind("EUR")
                .push_bind(record[10].parse::<i64>().unwrap_or(0));
        });
        offers.build().execute(&mut *tx).await.unwrap();
        let mut prices =
            QueryBuilder::new("insert into product_prices (id, product_id, price_type, amount_minor, currency) ");
        let price_rows = chunk.iter().zip(&ids).flat_map(|(record, id)| {
            [("retail", &record[7]), ("msrp", &record[8]), ("sale", &record[9])].map(|(t, a)| (*id, t, money(a)))
        });
        prices.push_values(price_rows, |mut row, (id, price_type, amount)| {
            row.push_bind(Uuid::now_v7()).push_bind(id).push_bind(price_type).push_bind(amount).push_bind("EUR");
        });
        prices.build().execute(&mut *tx).await.unwrap();
        let mut attributes =
            QueryBuilder::new("insert into product_attributes (id, product_id, name, kind, value_text) ");
        let attribute_rows = chunk.iter().zip(&ids).flat_map(|(record, id)| {
            [("weight_kg", &record[11]), ("colour", &record[12]), ("size", &record[13]), ("material", &record[14])]
                .map(|(n, v)| (*id, n, v.to_string()))
        });
        attributes.push_values(attribute_rows, |mut row, (id, name, value)| {
            row.push_bind(Uuid::now_v7()).push_bind(id).push_bind(name).push_bind("text").push_bind(value);
        });
        attributes.build().execute(&mut *tx).await.unwrap();
        let mut images = QueryBuilder::new("insert into product_images (id, product_id, url) ");
        images.push_values(chunk.iter().zip(&ids), |mut row, (record, id)| {
            row.push_bind(Uuid::now_v7()).push_bind(*id).push_bind(record[15].to_string());
        });
        images.build().execute(&mut *tx).await.unwrap();
        let mut links = QueryBuilder::new("insert into product_categories (product_id, category_id) ");
        links.push_values(chunk.iter().zip(&ids), |mut row, (record, id)| {
            row.push_bind(*id).push_bind(categories[&record[5]]);
        });
        links.build().execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// The data rows of a supplier file: CSV through the csv crate, XLSX through calamine (the first sheet, read whole
/// as calamine reads it).
fn records(file: &Path) -> Box<dyn Iterator<Item = csv::StringRecord>> {
    if file.extension().is_some_and(|e| e == "xlsx") {
        use calamine::Reader;
        let mut workbook = calamine::open_workbook_auto(file).unwrap();
        let sheet = workbook.sheet_names()[0].clone();
        let range = workbook.worksheet_range(&sheet).unwrap();
        let rows: Vec<csv::StringRecord> =
            range.rows().skip(1).map(|row| row.iter().map(|cell| cell.to_string()).collect()).collect();
        Box::new(rows.into_iter())
    } else {
        let reader = csv::ReaderBuilder::new().delimiter(b';').from_path(file).unwrap();
        Box::new(reader.into_records().map(Result::unwrap))
    }
}

/// 100,000 rows as XLSX (SQLite): calamine reading the sheet alone beside our dry run (the reading half of an
/// import), then our import beside calamine reading it plus the SQL-only writes of its rows.
async fn spreadsheet(folder: &Path, table: &mut Vec<Row>) {
    let rows = 100_000_u64;
    let csv_path = folder.join("sheet-source.csv");
    supplier_file::write(&csv_path, rows, 7).unwrap();
    let xlsx = folder.join("supplier.xlsx");
    // Writing the workbook (rust_xlsxwriter holds it whole) and calamine's reading (the sheet whole) run in a child
    // process: memory they leave to this process's allocator would count in the import's peak RSS.
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .env(XLSX_CHILD, format!("{}\n{}", csv_path.display(), xlsx.display()))
        .output()
        .unwrap();
    assert!(child.status.success(), "{}", String::from_utf8_lossy(&child.stderr));
    let calamine_seconds: f64 = String::from_utf8_lossy(&child.stdout).trim().parse().unwrap();

    let Some((_env, sdk, supplier)) = new_sdk(Backend::Sqlite, "imports bench xlsx").await else { return };
    let input = import_input(&sdk, supplier, &xlsx).await;
    // A dry run reads, maps, checks and plans every row against the (empty) catalog and writes nothing: the
    // reading half of the import beside calamine's reading alone.
    let started = Instant::now();
    let dry = sdk.imports().import_file(NewImport { dry_run: true, ..input.clone() }, |_| {}).await.unwrap();
    let dry_seconds = started.elapsed().as_secs_f64();
    assert_eq!(dry.rows, rows);
    table.push(Row {
        label: "XLSX: dry run (SQLite) vs calamine reading alone".into(),
        rows,
        seconds: dry_seconds,
        baseline: Some(calamine_seconds),
        rss_mib: None,
    });
    reset_peak_rss();
    let started = Instant::now();
    let summary = sdk.imports().import_file(input, |_| {}).await.unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(summary.rows, rows);
    let rss_mib = peak_rss_mib();
    table.push(Row {
        label: "XLSX: import (SQLite) vs calamine reading alone".into(),
        rows,
        seconds,
        baseline: Some(calamine_seconds),
        rss_mib: Some(rss_mib),
    });
    let baseline = baseline(Backend::Sqlite, &xlsx).await.map(|(seconds, _)| seconds);
    table.push(Row {
        label: "XLSX: import (SQLite) vs calamine + SQL-only writes".into(),
        rows,
        seconds,
        baseline,
        rss_mib: Some(rss_mib),
    });
}

/// Set for the child process that writes the XLSX file and times calamine reading it: `<csv path>\n<xlsx path>`.
const XLSX_CHILD: &str = "PM_BENCH_XLSX_CHILD";

/// The child's work: the CSV file as a workbook, then calamine reading its sheet, timed (seconds on stdout).
fn xlsx_child(paths: &str) {
    let (csv_path, xlsx) = paths.split_once('\n').unwrap();
    supplier_file::to_xlsx(Path::new(csv_path), Path::new(xlsx)).unwrap();
    let started = Instant::now();
    let mut workbook = calamine::open_workbook_auto(xlsx).unwrap();
    use calamine::Reader;
    let sheet = workbook.sheet_names()[0].clone();
    let range = workbook.worksheet_range(&sheet).unwrap();
    let cells: usize = range.rows().map(|r| r.iter().filter(|c| **c != calamine::Data::Empty).count()).sum();
    let seconds = started.elapsed().as_secs_f64();
    assert!(cells > 100_000 * 15);
    println!("{seconds}");
}

fn main() {
    if let Ok(paths) = std::env::var(XLSX_CHILD) {
        return xlsx_child(&paths);
    }
    let rows: u64 = std::env::var("PM_BENCH_IMPORT_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let backends = productsmanager_benches::selected_backends();
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("supplier.csv");
    let started = Instant::now();
    supplier_file::write(&file, rows, 42).unwrap();
    let bytes = std::fs::metadata(&file).unwrap().len();
    eprintln!("generated {rows} rows ({:.0} MB) in {:.1} s", bytes as f64 / 1e6, started.elapsed().as_secs_f64());

    let ticks_before = cpu_ticks();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut table = Vec::new();
    runtime.block_on(async {
        for backend in backends {
            ours(backend, &file, rows, &mut table).await;
        }
        if std::env::var("PM_BENCH_SKIP_XLSX").is_err() {
            spreadsheet(folder.path(), &mut table).await;
        }
    });
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "\n{:<48} {:>10} {:>9} {:>10} {:>11} {:>7} {:>9}",
        "", "rows", "seconds", "rows/s", "baseline s", "ratio", "peak RSS"
    )
    .unwrap();
    for row in table {
        let (baseline, ratio) = match row.baseline {
            Some(b) => (format!("{b:.1}"), format!("{:.2}x", row.seconds / b)),
            None => ("(not run)".into(), String::new()),
        };
        let rss = row.rss_mib.map(|m| format!("{m:.0} MiB")).unwrap_or_default();
        writeln!(
            out,
            "{:<48} {:>10} {:>9.1} {:>10.0} {:>11} {:>7} {:>9}",
            row.label,
            row.rows,
            row.seconds,
            row.rows as f64 / row.seconds,
            baseline,
            ratio,
            rss
        )
        .unwrap();
    }
    let ticks_after = cpu_ticks();
    let (stolen, total) = (ticks_after.0 - ticks_before.0, ticks_after.1 - ticks_before.1);
    writeln!(
        out,
        "\nCPU time stolen by the host during the run: {:.1} % (/proc/stat; above a few per cent the run is noisy: \
         compare ratios within one run, and repeat)",
        100.0 * stolen as f64 / total.max(1) as f64
    )
    .unwrap();
}
