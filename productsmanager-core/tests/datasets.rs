//! Every CSV of the real third-party catalog exports in `../shared/datasets` (WooCommerce, Shopify, Akeneo,
//! PrestaShop, Magento, Open Food Facts…) read by the import parser. Those files are other people's and are not
//! copied here: when the folder is absent (a user's fresh clone) the test says it was not run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use productsmanager_core::imports::parse::{CsvOptions, CsvRows, ParseError, Row, TextEncoding};

fn datasets() -> Option<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets");
    if folder.is_dir() {
        Some(folder)
    } else {
        eprintln!("NOT RUN: real catalog files ({} does not exist)", folder.display());
        None
    }
}

fn csv_files(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Rows read and rows refused (each refusal printed).
fn tally(rows: impl Iterator<Item = Result<Row, ParseError>>) -> (usize, usize) {
    let (mut good, mut bad) = (0, 0);
    for row in rows {
        match row {
            Ok(_) => good += 1,
            Err(e) => {
                eprintln!("{e}");
                bad += 1;
            }
        }
    }
    (good, bad)
}

/// (file, delimiter, encoding, columns, data rows, rows refused)
fn read(path: &Path, root: &Path) -> (String, char, TextEncoding, usize, usize, usize) {
    let name = path.strip_prefix(root).unwrap().display().to_string();
    let file = std::fs::File::open(path).unwrap();
    let rows = CsvRows::open(&name, std::io::BufReader::new(file), &CsvOptions::default());
    let rows = rows.unwrap_or_else(|e| panic!("{e}"));
    let (sniffed, columns) = (rows.sniffed(), rows.headers().len());
    let (good, bad) = tally(rows);
    (name, sniffed.delimiter, sniffed.encoding, columns, good, bad)
}

#[test]
fn every_real_csv_is_read() {
    let Some(root) = datasets() else { return };
    let files = csv_files(&root);
    assert!(files.len() >= 40, "{} CSV files", files.len());
    let mut seen = std::collections::HashMap::new();
    for path in &files {
        let (name, delimiter, encoding, columns, good, bad) = read(path, &root);
        println!("{name}: {delimiter:?} {encoding:?} {columns} columns, {good} rows, {bad} refused");
        assert_eq!(bad, 0, "{name}: rows refused");
        seen.insert(name, (delimiter, columns, good));
    }
    // Checked once against Python's csv module (same columns and rows) and by eye.
    for (name, expected) in [
        ("akeneo-icecat-demo-dev/products.csv", (';', 111, 1239)),
        ("akeneo-icecat-demo-dev/group_types.csv", (',', 1, 1)),
        ("shopify/products_export_1.csv", (',', 63, 565)),
        ("openfoodfacts/openfoodfacts_search_export.csv", ('\t', 174, 1263)),
        ("woocommerce/sample_products.csv", (',', 51, 25)),
        ("magento2-sample-data/ConfigurableSampleData__products.csv", (',', 70, 1994)),
        ("prestashop-1.4/products_import.csv", (';', 39, 2)),
        ("prestashop-9.1/combinations_import.csv", (';', 23, 27)),
    ] {
        assert_eq!(seen.get(name), Some(&expected), "{name}");
    }
}

#[test]
fn real_spreadsheets_are_read() {
    use productsmanager_core::imports::parse::{SheetOptions, SheetRows};
    let Some(root) = datasets() else { return };
    // (file, sheet, header row, expected columns and rows: checked once against openpyxl)
    let spreadsheets = [
        ("xlsx-prom-ua-pricelist/pricelist.xlsx", None, Some(1), (20, 982)),
        // Akeneo's template: a title, blank rows, human labels on row 5, the codes on row 6.
        ("akeneo-excel-connector/init.xlsx", Some("attributes"), Some(6), (AKENEO_COLUMNS, AKENEO_ROWS)),
    ];
    for (name, sheet, header_row, expected) in spreadsheets {
        let bytes = std::fs::read(root.join(name)).unwrap();
        // Found, the header is the row given here, but for Akeneo's, whose labels (row 5) come before its codes.
        let found = SheetOptions { sheet: sheet.map(String::from), ..SheetOptions::default() };
        let found = SheetRows::open(name, bytes.clone(), &found).unwrap_or_else(|e| panic!("{e}"));
        let expected_found = if name.starts_with("akeneo") { 5 } else { header_row.map_or(1, u64::from) };
        assert_eq!(found.header_row(), expected_found, "{name}: the header found");
        let options = SheetOptions { sheet: sheet.map(String::from), header_row, ..SheetOptions::default() };
        let rows = SheetRows::open(name, bytes, &options).unwrap_or_else(|e| panic!("{e}"));
        let (sheet, columns) = (rows.sheet().to_string(), rows.headers().len());
        let (good, bad) = tally(rows);
        println!("{name} sheet {sheet:?}: {columns} columns, {good} rows, {bad} refused");
        assert_eq!((columns, good, bad), (expected.0, expected.1, 0), "{name}");
    }
}

const AKENEO_COLUMNS: usize = 25;
const AKENEO_ROWS: usize = 67;
