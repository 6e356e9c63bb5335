//! Printing: JSON for scripts (`--json`), aligned tables for people.

use comfy_table::presets::NOTHING;
use comfy_table::{ContentArrangement, Table};
use serde::Serialize;

/// Pretty JSON on stdout.
pub(crate) fn json(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("error: cannot render JSON: {e}"),
    }
}

/// A borderless table with a header row on stdout.
pub(crate) fn table<const N: usize>(header: [&str; N], rows: impl IntoIterator<Item = [String; N]>) {
    let mut table = Table::new();
    table.load_style(NOTHING).set_content_arrangement(ContentArrangement::Disabled).set_header(header);
    for row in rows {
        table.add_row(row);
    }
    println!("{}", table.trim_fmt());
}

/// `items` as JSON (`--json`), else as a table with a row per item.
pub(crate) fn list<T: Serialize, const N: usize>(
    json: bool,
    items: &[T],
    header: [&str; N],
    row: impl Fn(&T) -> [String; N],
) {
    if json { self::json(&items) } else { table(header, items.iter().map(row)) }
}

/// `-` for absent values in tables.
pub(crate) fn or_dash(value: Option<&str>) -> String {
    value.unwrap_or("-").to_string()
}
