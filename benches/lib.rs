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
