//! Shared pieces of the benches in this folder (`cargo bench -p productsmanager-benches`): reading criterion's
//! estimates back to print our numbers beside their raw baselines, and percentiles for the bench binaries that
//! time single operations.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

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
