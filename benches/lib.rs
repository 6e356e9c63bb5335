//! Shared pieces of the benches in this folder (`cargo bench -p productsmanager-benches`): reading criterion's
//! estimates back to print our numbers beside their raw baselines, and percentiles for the bench binaries that
//! time single operations.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

/// Every bench runs on the allocator of the product's binaries (productsmanager-cli's main.rs says why).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Time per iteration in nanoseconds as criterion reported it for `group/function` (its slope estimate, else
/// the mean); `None` when that benchmark did not run (filtered out).
pub fn criterion_time_ns(group: &str, function: &str) -> Option<f64> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    // criterion stores group `a/b` under `a_b`.
    let path = target.join("criterion").join(group.replace('/', "_")).join(function).join("new/estimates.json");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["slope"]["point_estimate"].as_f64().or_else(|| json["mean"]["point_estimate"].as_f64())
}

/// Prints `ours` beside `baseline` for each row: `(label, group, baseline function, our function)`.
pub fn print_comparison(title: &str, rows: &[(&str, &str, &str, &str)]) {
    println!("\n{title}");
    println!("{:<34} {:>14} {:>14} {:>8}", "", "baseline", "ours", "ratio");
    for (label, group, baseline, ours) in rows {
        match (criterion_time_ns(group, baseline), criterion_time_ns(group, ours)) {
            (Some(b), Some(o)) => println!("{label:<34} {:>14} {:>14} {:>7.2}x", human(b), human(o), o / b),
            _ => println!("{label:<34} (not run)"),
        }
    }
}

/// Nanoseconds as ns, µs or ms.
pub fn human(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.1} µs", ns / 1_000.0)
    } else {
        format!("{:.2} ms", ns / 1_000_000.0)
    }
}

/// The backends `PM_BENCH_BACKENDS` names (`sqlite` or `postgres`, any case); both when it is unset.
pub fn selected_backends() -> Vec<productsmanager_core::db::Backend> {
    use productsmanager_core::db::Backend;
    let only = std::env::var("PM_BENCH_BACKENDS").unwrap_or_default();
    [Backend::Sqlite, Backend::Postgres]
        .into_iter()
        .filter(|b| only.is_empty() || only.eq_ignore_ascii_case(&b.to_string()))
        .collect()
}

/// p50, p95 and p99 of a set of durations.
pub fn percentiles(samples: &mut [Duration]) -> (Duration, Duration, Duration) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.95), at(0.99))
}

/// The benchmark's supplier file: what a real supplier sends, at any size. 16 semicolon-separated columns, decimal
/// commas, valid EAN-13s except every hundredth row (a wrong check digit), 200 brands, 10 category paths; values
/// derive from the row number and a seed, so a file is the same every time.
pub mod supplier_file {
    use std::io::{BufWriter, Write};
    use std::path::Path;

    use productsmanager_core::catalog::Gtin;

    /// The header.
    pub const COLUMNS: [&str; 16] = [
        "ref",
        "ean",
        "designation",
        "description",
        "marque",
        "categorie",
        "prix_achat",
        "prix_vente",
        "pvc",
        "prix_promo",
        "stock",
        "poids_kg",
        "couleur",
        "taille",
        "matiere",
        "image",
    ];

    const COLOURS: [&str; 8] = ["rouge", "bleu", "vert", "noir", "blanc", "gris", "jaune", "rose"];
    const SIZES: [&str; 6] = ["XS", "S", "M", "L", "XL", "XXL"];
    const MATERIALS: [&str; 5] = ["coton", "acier", "bois", "verre", "grès"];

    /// An EAN-13 for row `n`: a valid check digit, or a wrong one when `valid` is false.
    fn ean(n: u64, valid: bool) -> String {
        let body = format!("{:012}", 400_000_000_000 + n);
        let good = (0..10).find(|d| Gtin::parse(&format!("{body}{d}")).is_ok()).unwrap_or(0);
        let digit = if valid { good } else { (good + 1) % 10 };
        format!("{body}{digit}")
    }

    /// The category path of a row, `Rayon r > Famille f`.
    fn category(mix: u64) -> String {
        format!("Rayon {} > Famille {}", mix % 10, mix % 5)
    }

    /// Every category path a file can hold, as written in its `categorie` column.
    pub fn category_paths() -> Vec<String> {
        (0..10).map(category).collect()
    }

    /// Cents as `12,34`.
    fn decimal_comma(cents: u64) -> String {
        format!("{},{:02}", cents / 100, cents % 100)
    }

    /// Writes `rows` rows to `path`.
    pub fn write(path: &Path, rows: u64, seed: u64) -> std::io::Result<()> {
        let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
        writeln!(out, "{}", COLUMNS.join(";"))?;
        for n in 0..rows {
            let mix = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(seed) >> 17;
            let cost = 100 + mix % 50_000;
            let retail = cost * 18 / 10;
            writeln!(
                out,
                "SUP-{n:08};{};Article {n} {};Description de l'article {n}, {} et {};Marque {};{};{};{};{};{};{};{};{};{};{};https://cdn.example.com/img/{n}.jpg",
                ean(n, n % 100 != 99),
                COLOURS[(mix % 8) as usize],
                COLOURS[(mix / 8 % 8) as usize],
                MATERIALS[(mix % 5) as usize],
                mix % 200,
                category(mix),
                decimal_comma(cost),
                decimal_comma(retail),
                decimal_comma(retail * 12 / 10),
                decimal_comma(retail * 9 / 10),
                mix % 500,
                decimal_comma(10 + mix % 5_000),
                COLOURS[(mix % 8) as usize],
                SIZES[(mix % 6) as usize],
                MATERIALS[(mix / 5 % 5) as usize],
            )?;
        }
        out.flush()
    }

    /// The same rows as an XLSX workbook (every cell as text, as suppliers' exports often are).
    pub fn to_xlsx(csv_path: &Path, xlsx_path: &Path) -> Result<(), Box<dyn std::error::Error>> {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        let mut reader = csv::ReaderBuilder::new().delimiter(b';').has_headers(false).from_path(csv_path)?;
        for (row, record) in reader.records().enumerate() {
            for (column, value) in record?.iter().enumerate() {
                sheet.write_string(u32::try_from(row)?, u16::try_from(column)?, value)?;
            }
        }
        workbook.save(xlsx_path)?;
        Ok(())
    }
}

/// A generated catalog, bulk-loaded straight into the tables (not through the SDK): `total` active products, each
/// with a GTIN, a SKU, a title of two words and its number, a brand (of 200), a retail price and one supplier offer,
/// then the search index. The catalog and exports benches start from it.
pub mod seed {
    use std::time::{Duration, Instant};

    use chrono::{SubsecRound, Utc};
    use productsmanager_core::catalog::Gtin;
    use productsmanager_core::db::Database;
    use productsmanager_core::{Sdk, with_pool};
    use sqlx::QueryBuilder;
    use uuid::Uuid;

    pub const ADJECTIVES: [&str; 20] = [
        "cordless",
        "compact",
        "heavy",
        "precision",
        "digital",
        "portable",
        "silent",
        "rugged",
        "smart",
        "mini",
        "pro",
        "classic",
        "modular",
        "wireless",
        "solar",
        "steel",
        "carbon",
        "magnetic",
        "foldable",
        "industrial",
    ];
    pub const NOUNS: [&str; 30] = [
        "drill",
        "driver",
        "saw",
        "sander",
        "grinder",
        "hammer",
        "wrench",
        "level",
        "clamp",
        "lamp",
        "ladder",
        "vacuum",
        "compressor",
        "router",
        "planer",
        "jigsaw",
        "multitool",
        "heater",
        "fan",
        "charger",
        "battery",
        "toolbox",
        "scanner",
        "meter",
        "tester",
        "blower",
        "pump",
        "welder",
        "cutter",
        "stapler",
    ];
    pub const BRANDS: usize = 200;
    const BATCH: usize = 1_000;

    /// A valid GTIN-13 for product number `n` (prefix 400, then the number, then the check digit).
    pub fn gtin_for(n: usize) -> String {
        let data = format!("400{n:09}");
        (0..10).map(|check| format!("{data}{check}")).find(|candidate| Gtin::parse(candidate).is_ok()).unwrap()
    }

    pub fn title_for(n: usize) -> String {
        format!("{} {} {}", ADJECTIVES[n % ADJECTIVES.len()], NOUNS[(n / ADJECTIVES.len()) % NOUNS.len()], n)
    }

    /// What [`generate_catalog`] loaded, and how long it took.
    #[derive(Debug)]
    pub struct Loaded {
        pub ids: Vec<Uuid>,
        pub brands: Vec<Uuid>,
        pub load: Duration,
        pub index: Duration,
    }

    /// Bulk-loads brands, one supplier, products with a retail price and an offer each, then the search index.
    pub async fn generate_catalog(sdk: &Sdk, total: usize) -> Loaded {
        let started = Instant::now();
        let pool = sdk.pool(Database::Catalog);
        let at = Utc::now().trunc_subsecs(6);
        let brands: Vec<Uuid> = (0..BRANDS).map(|_| Uuid::now_v7()).collect();
        let supplier = Uuid::now_v7();
        with_pool!(pool, |p| async {
            let mut sql = QueryBuilder::new("insert into brands (id, name, slug, created_at, updated_at) ");
            sql.push_values(brands.iter().enumerate(), |mut row, (i, id)| {
                row.push_bind(*id)
                    .push_bind(format!("Brand {i}"))
                    .push_bind(format!("brand-{i}"))
                    .push_bind(at)
                    .push_bind(at);
            });
            sql.build().execute(p).await.unwrap();
            sqlx::query(
                "insert into suppliers (id, code, name, created_at, updated_at) values ($1, 'BENCH', 'Bench', $2, $2)",
            )
            .bind(supplier)
            .bind(at)
            .execute(p)
            .await
            .unwrap();
        }
        .await);
        let mut ids = Vec::with_capacity(total);
        for start in (0..total).step_by(BATCH) {
            let batch: Vec<(usize, Uuid)> = (start..(start + BATCH).min(total)).map(|n| (n, Uuid::now_v7())).collect();
            ids.extend(batch.iter().map(|(_, id)| *id));
            with_pool!(pool, |p| {
                async {
                let mut tx = p.begin().await.unwrap();
                let mut products = QueryBuilder::new(
                    "insert into products (id, gtin, sku, title, description, brand_id, status, version, created_at, updated_at) ",
                );
                products.push_values(&batch, |mut row, (n, id)| {
                    row.push_bind(*id)
                        .push_bind(format!("0{}", gtin_for(*n)))
                        .push_bind(format!("SKU{n:08}"))
                        .push_bind(title_for(*n))
                        .push_bind(format!("Generated product number {n} for the catalog benchmark."))
                        .push_bind(brands[n % BRANDS])
                        .push_bind("active")
                        .push_bind(1_i32)
                        .push_bind(at)
                        .push_bind(at);
                });
                products.build().execute(&mut *tx).await.unwrap();
                let mut prices = QueryBuilder::new(
                    "insert into product_prices (id, product_id, price_type, amount_minor, currency, created_at, updated_at) ",
                );
                prices.push_values(&batch, |mut row, (n, id)| {
                    row.push_bind(Uuid::now_v7())
                        .push_bind(*id)
                        .push_bind("retail")
                        .push_bind(i64::try_from(100 + n % 10_000).unwrap())
                        .push_bind("EUR")
                        .push_bind(at)
                        .push_bind(at);
                });
                prices.build().execute(&mut *tx).await.unwrap();
                let mut offers = QueryBuilder::new(
                    "insert into supplier_products (id, product_id, supplier_id, supplier_sku, cost_minor, currency, stock, \
                     lead_time_days, is_available, last_seen_at, created_at, updated_at) ",
                );
                offers.push_values(&batch, |mut row, (n, id)| {
                    row.push_bind(Uuid::now_v7())
                        .push_bind(*id)
                        .push_bind(supplier)
                        .push_bind(format!("B-{n}"))
                        .push_bind(i64::try_from(50 + n % 5_000).unwrap())
                        .push_bind("EUR")
                        .push_bind(i64::try_from(n % 7).unwrap())
                        .push_bind(i32::try_from(n % 14).unwrap())
                        .push_bind(true)
                        .push_bind(at)
                        .push_bind(at)
                        .push_bind(at);
                });
                offers.build().execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
            }
            .await
            });
        }
        // Fresh statistics, as after any bulk load (autovacuum would get there later): without them the planners
        // still think the tables are empty.
        with_pool!(pool, |p| sqlx::query("analyze").execute(p).await.map(|_| ())).unwrap();
        let load = started.elapsed();
        let started = Instant::now();
        let indexed = sdk.products().reindex().await.unwrap();
        assert_eq!(indexed as usize, total);
        Loaded { ids, brands, load, index: started.elapsed() }
    }
}

/// This process's resources, from `/proc` (Linux).
pub mod process {
    /// (stolen, total) CPU ticks since boot, from `/proc/stat` (zeros where it cannot be read): on a virtual machine
    /// the host may take CPU time from it, which slows whatever runs then and makes single runs incomparable.
    pub fn cpu_ticks() -> (u64, u64) {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        // cpu user nice system idle iowait irq softirq steal …
        let fields: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .skip(1)
            .take(8)
            .filter_map(|f| f.parse().ok())
            .collect();
        (fields.get(7).copied().unwrap_or(0), fields.iter().sum())
    }

    /// Prints the share of CPU time the host took since `before` (a [`cpu_ticks`] reading).
    pub fn print_stolen_since(before: (u64, u64)) {
        let after = cpu_ticks();
        let stolen = (after.0 - before.0) as f64 / (after.1 - before.1).max(1) as f64 * 100.0;
        println!("\nCPU time stolen by the host during the run: {stolen:.1} %");
    }

    /// Peak resident memory of this process since the last [`reset_peak_rss`], in MiB.
    pub fn peak_rss_mib() -> f64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kib: f64 = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(f64::NAN);
        kib / 1024.0
    }

    /// Resets the peak resident memory to the current one.
    pub fn reset_peak_rss() {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
}
