//! Price windows as text: how files (our own `price_windows` column, the shops' sale dates) and provenance write a
//! windowed price, and how they are read back.
//!
//! A window is an ISO 8601 interval, `start/end`, each side an RFC 3339 instant or `..` when open
//! (`2026-12-01T00:00:00Z/2026-12-25T00:00:00Z`, `2026-12-01T00:00:00Z/..`); the end is exclusive, as in
//! [`Price::valid_to`](super::Price::valid_to).

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, SubsecRound, Utc};

use super::PriceType;
use crate::catalog::{CurrencyCode, Money};

/// A window's start (inclusive) and end (exclusive), either open.
pub(crate) type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// One windowed price of a type and currency: minor units, start (inclusive) and end (exclusive), either open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct WindowedAmount {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub minor: i64,
}

/// `start/end`, `..` for an open side.
pub(crate) fn window_text(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> String {
    let side = |at: Option<DateTime<Utc>>| match at {
        Some(at) => at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => "..".to_string(),
    };
    format!("{}/{}", side(from), side(to))
}

/// Which side of a window a date stands for: a date without a time means the start of that day as a start, and
/// the end of it (the next day's start, exclusive) as an end — shops' "to" dates include their day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Start,
    End,
}

/// An instant as files write one: RFC 3339 (`2026-12-01T00:00:00Z`), ISO 8601 with a compact offset and minutes
/// only (`2026-12-01T11:07+0100`, Google's), a date and time without offset (`2026-12-01 00:00:00`, taken as UTC:
/// the shops write their own time zone, which the file does not say) or a date alone (`2026-12-01`, see [`Side`]).
pub(crate) fn parse_instant(text: &str, side: Side) -> Result<DateTime<Utc>, String> {
    // Microseconds at most: what PostgreSQL keeps (the stored window must read back as the file wrote it).
    parse_any_instant(text, side).map(|at| at.trunc_subsecs(6))
}

fn parse_any_instant(text: &str, side: Side) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    // `Z` as an offset of zero, for the formats chrono reads with `%z`.
    let zoned = match text.strip_suffix(['Z', 'z']) {
        Some(rest) => format!("{rest}+0000"),
        None => text.to_string(),
    };
    for format in ["%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M%z"] {
        if let Ok(at) = DateTime::parse_from_str(&zoned, format) {
            return Ok(at.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(at.and_utc());
        }
    }
    // A day alone; with slashes, month first (`12/1/26`: Magento's export in its default en_US locale).
    let day = ["%Y-%m-%d", "%m/%d/%y", "%m/%d/%Y"].iter().find_map(|f| NaiveDate::parse_from_str(text, f).ok());
    if let Some(day) = day {
        let day = match side {
            Side::Start => Some(day),
            Side::End => day.succ_opt(),
        };
        if let Some(at) = day.and_then(|d| d.and_hms_opt(0, 0, 0)) {
            return Ok(at.and_utc());
        }
    }
    Err(format!(
        "{text:?} is not a date (2026-12-01, 12/1/2026 month first, 2026-12-01 00:00:00 or 2026-12-01T00:00:00Z)"
    ))
}

/// A window `start/end` (`..` or nothing for an open side); refused when it ends before it starts.
pub(crate) fn parse_window(text: &str) -> Result<Window, String> {
    let Some((start, end)) = text.trim().split_once('/') else {
        return Err(format!(
            "{:?} is not a window: start/end (2026-12-01T00:00:00Z/2026-12-25T00:00:00Z)",
            text.trim()
        ));
    };
    let side = |text: &str, side: Side| match text.trim() {
        "" | ".." => Ok(None),
        text => parse_instant(text, side).map(Some),
    };
    let (from, to) = (side(start, Side::Start)?, side(end, Side::End)?);
    check_window(from, to)?;
    Ok((from, to))
}

/// Refuses a window that ends before or when it starts, and one open on both sides (that is no window: an
/// open-ended price).
pub(crate) fn check_window(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Result<(), String> {
    match (from, to) {
        (None, None) => Err("a window needs a start or an end".into()),
        (Some(from), Some(to)) if to <= from => Err(format!(
            "the window ends ({}) before it starts ({})",
            window_text(Some(to), None),
            window_text(Some(from), None)
        )),
        _ => Ok(()),
    }
}

/// The windows of one type and currency as provenance records them: each `19.99 EUR start/end`, ordered by start,
/// then end, then amount, separated by `; ` (empty: none).
pub(crate) fn windows_text(currency: CurrencyCode, windows: &[WindowedAmount]) -> String {
    let mut sorted = windows.to_vec();
    sorted.sort();
    sorted
        .iter()
        .map(|w| format!("{} {}", Money::new(w.minor, currency), window_text(w.from, w.to)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads [`windows_text`] back.
pub(crate) fn parse_windows_text(currency: CurrencyCode, text: &str) -> Result<Vec<WindowedAmount>, String> {
    let mut windows = Vec::new();
    for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let mut parts = entry.split_whitespace();
        let (Some(amount), Some(code), Some(window), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("{entry:?} is not `amount currency start/end`"));
        };
        if !code.eq_ignore_ascii_case(currency.as_str()) {
            return Err(format!("{entry:?} is not in {currency}"));
        }
        let minor = currency.minor_units("amount", amount).map_err(|e| e.to_string())?;
        let (from, to) = parse_window(window)?;
        windows.push(WindowedAmount { from, to, minor });
    }
    Ok(windows)
}

/// One entry of our `price_windows` column: `sale 19.99 EUR 2026-12-01T00:00:00Z/2026-12-25T00:00:00Z`.
pub(crate) fn list_entry(
    price_type: PriceType,
    amount: Money,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> String {
    format!("{price_type} {amount} {}", window_text(from, to))
}

/// An entry of our `price_windows` column, split: (type, amount as written, currency as written, window).
pub(crate) fn split_list_entry(entry: &str) -> Result<(PriceType, &str, &str, &str), String> {
    let mut parts = entry.split_whitespace();
    match (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(kind), Some(amount), Some(currency), Some(window), None) => {
            let price_type = kind
                .parse::<PriceType>()
                .map_err(|_| format!("{kind:?} is not a price type (retail, sale, msrp, purchase)"))?;
            Ok((price_type, amount, currency, window))
        }
        _ => Err(format!(
            "{:?} is not `type amount currency start/end` (sale 19.99 EUR 2026-12-01T00:00:00Z/2026-12-25T00:00:00Z)",
            entry.trim()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn files_dates_are_read_and_a_days_end_includes_it() {
        let start = |t| parse_instant(t, Side::Start).unwrap();
        assert_eq!(start("2026-12-01T00:00:00Z"), at("2026-12-01T00:00:00Z"));
        assert_eq!(start("2016-02-24T11:07+0100"), at("2016-02-24T10:07:00Z"), "Google's compact offset");
        assert_eq!(start("2016-02-24T11:07+01:00"), at("2016-02-24T10:07:00Z"));
        assert_eq!(start("2026-12-01T00:00Z"), at("2026-12-01T00:00:00Z"));
        assert_eq!(start("2017-01-01"), at("2017-01-01T00:00:00Z"));
        assert_eq!(start("2030-01-01 0:00:00"), at("2030-01-01T00:00:00Z"), "WooCommerce's sample");
        assert_eq!(parse_instant("2018-12-31", Side::End).unwrap(), at("2019-01-01T00:00:00Z"), "the day included");
        assert_eq!(parse_instant("2018-12-31 23:59:59", Side::End).unwrap(), at("2018-12-31T23:59:59Z"));
        assert!(parse_instant("31/12/2018", Side::Start).is_err(), "no 31st month");
        assert_eq!(start("12/1/26"), at("2026-12-01T00:00:00Z"), "Magento's en_US short date");
        assert_eq!(parse_instant("12/24/2026", Side::End).unwrap(), at("2026-12-25T00:00:00Z"));
        assert_eq!(start("2026-12-01T00:00:00.123456789Z"), at("2026-12-01T00:00:00.123456Z"), "microseconds kept");
    }

    #[test]
    fn windows_read_back_as_written() {
        let eur: CurrencyCode = "EUR".parse().unwrap();
        let windows = [
            WindowedAmount { from: Some(at("2026-12-08T00:00:00Z")), to: None, minor: 1500 },
            WindowedAmount {
                from: Some(at("2026-12-01T00:00:00.250Z")),
                to: Some(at("2026-12-25T00:00:00Z")),
                minor: 1999,
            },
        ];
        let text = windows_text(eur, &windows);
        assert_eq!(text, "19.99 EUR 2026-12-01T00:00:00.250Z/2026-12-25T00:00:00Z; 15.00 EUR 2026-12-08T00:00:00Z/..");
        let mut back = parse_windows_text(eur, &text).unwrap();
        back.sort();
        let mut expected = windows.to_vec();
        expected.sort();
        assert_eq!(back, expected);
        assert!(parse_windows_text(eur, "").unwrap().is_empty());
        assert!(parse_window("2026-12-25/2026-12-01").is_err(), "ends before it starts");
        assert!(parse_window("../..").is_err(), "no window");
        assert_eq!(parse_window("2026-12-01/2026-12-24").unwrap().1, Some(at("2026-12-25T00:00:00Z")));
        let entry = list_entry(PriceType::Sale, Money::new(1999, eur), windows[1].from, windows[1].to);
        assert_eq!(
            split_list_entry(&entry).unwrap(),
            (PriceType::Sale, "19.99", "EUR", "2026-12-01T00:00:00.250Z/2026-12-25T00:00:00Z")
        );
        assert!(split_list_entry("sale 19.99 EUR").is_err());
    }
}
