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

/// A count for people, grouped by thousands: `1,234,567` (tables and summaries; `--json` keeps the number).
pub(crate) fn count(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let magnitude = indicatif::HumanCount(u64::try_from(n.unsigned_abs()).unwrap_or(u64::MAX));
    if n < 0 { format!("-{magnitude}") } else { magnitude.to_string() }
}

/// Progress for people: `1,200/1,500`, or `1,200` when the total is not known.
pub(crate) fn count_of<N: Into<i128>>(done: N, total: Option<N>) -> String {
    match total {
        Some(total) => format!("{}/{}", count(done), count(total)),
        None => count(done),
    }
}

/// A rate for people: `23,793/s` (whole units: a fraction of a row per second tells nobody anything).
pub(crate) fn rate(per_second: f64) -> String {
    let whole = if per_second.is_finite() { per_second.round().max(0.0) } else { 0.0 };
    // Rounded and bounded above: the conversion keeps the value.
    #[allow(clippy::cast_possible_truncation)]
    let whole = whole.min(1e15) as i64;
    format!("{}/s", count(whole))
}

/// A progress bar style from `template`, whose `{rate}` is the items per second for people (`23,793/s`) and whose
/// `{human_pos}`/`{human_len}` are grouped by thousands.
pub(crate) fn progress_style(template: &str) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .with_key("rate", |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
            let _ = out.write_str(&rate(state.per_sec()));
        })
}

/// A value as one line of JSON (a string without its quotes), for a table cell.
pub(crate) fn compact(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        Ok(other) => other.to_string(),
        Err(_) => "?".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{count, rate};

    #[test]
    fn counts_and_rates_are_grouped_by_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(-1_234_567), "-1,234,567");
        assert_eq!(count(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!(rate(23_793.040_7), "23,793/s");
        assert_eq!(rate(f64::NAN), "0/s");
    }
}
