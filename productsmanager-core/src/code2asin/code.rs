//! Product codes as suppliers write them — EAN-13, EAN-8, UPC-A, GTIN-14, ISBN-10, ISBN-13 — checked, normalised
//! to GTIN-14, and judged: a code from a restricted GS1 range (in-store numbers, company-internal numbers, coupons,
//! refund receipts) names no product sold elsewhere and is never sent to Amazon.

use serde::Serialize;

use crate::catalog::{Gtin, GtinRepair};

/// The kind of code, from its length and prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CodeKind {
    #[serde(rename = "EAN-13")]
    Ean13,
    #[serde(rename = "EAN-8")]
    Ean8,
    #[serde(rename = "UPC-A")]
    UpcA,
    #[serde(rename = "GTIN-14")]
    Gtin14,
    #[serde(rename = "ISBN-10")]
    Isbn10,
    #[serde(rename = "ISBN-13")]
    Isbn13,
}

/// What [`check`] found.
///
/// ```
/// use productsmanager_core::code2asin::{CodeKind, check};
///
/// let isbn = check("0-306-40615-2");
/// assert!(isbn.valid && !isbn.restricted);
/// assert_eq!((isbn.kind, isbn.gtin14.as_deref()), (Some(CodeKind::Isbn10), Some("09780306406157")));
/// let in_store = check("2001234567893");
/// assert!(in_store.valid && in_store.restricted);
/// assert!(!check("4006381333932").valid);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeCheck {
    /// The code as given.
    pub input: String,
    /// Well formed with a correct check digit.
    pub valid: bool,
    /// The 14-digit form every comparison uses; `None` when not valid.
    pub gtin14: Option<String>,
    /// From the length and prefix; `None` when neither fits a kind.
    pub kind: Option<CodeKind>,
    /// From a GS1 range that names no product sold elsewhere: not looked up.
    pub restricted: bool,
    /// Why it is not valid, or why it is restricted.
    pub reason: Option<String>,
}

impl CodeCheck {
    /// The EAN-13 form (a GTIN-14 with indicator 0), for APIs that take EANs.
    pub fn ean13(&self) -> Option<&str> {
        self.gtin14.as_deref().and_then(|g| g.strip_prefix('0'))
    }

    /// Whether it can be looked up: valid and not restricted.
    pub fn usable(&self) -> bool {
        self.valid && !self.restricted
    }
}

/// Checks a code with the catalog's one reading of product codes ([`Gtin::repair`]: the import accepts exactly
/// these): hyphens and spaces between digit groups are ignored, an ISBN-10 may end in `X`, a spreadsheet's
/// unambiguous damage (scientific notation that kept every digit, `.0`, a UPC-A's dropped leading zero) is undone.
pub fn check(input: &str) -> CodeCheck {
    let bare: String = input.trim().chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let mut result =
        CodeCheck { input: input.to_string(), valid: false, gtin14: None, kind: None, restricted: false, reason: None };
    if bare.is_empty() {
        result.reason = Some("empty".into());
        return result;
    }
    let kind_of = |digits: &str| match digits.len() {
        8 => Some(CodeKind::Ean8),
        10 => Some(CodeKind::Isbn10),
        11 | 12 => Some(CodeKind::UpcA),
        13 if digits.starts_with("978") || digits.starts_with("979") => Some(CodeKind::Isbn13),
        13 => Some(CodeKind::Ean13),
        14 => Some(CodeKind::Gtin14),
        _ => None,
    };
    result.kind = kind_of(&bare);
    match Gtin::repair(input) {
        Ok((gtin, repair)) => {
            let gtin14 = gtin.as_gtin14();
            if repair.is_some_and(|r| r != GtinRepair::Isbn10) {
                // Read from a spreadsheet's damage: the kind is the repaired code's.
                result.kind = kind_of(&gtin.to_string());
            }
            if let Some(why) = restriction(&gtin14, result.kind) {
                result.restricted = true;
                result.reason = Some(why.to_string());
            }
            result.valid = true;
            result.gtin14 = Some(gtin14);
        }
        Err(e) => result.reason = Some(e.to_string()),
    }
    result
}

/// Why a valid code is from a range that names no product sold elsewhere (GS1 General Specifications, prefix
/// allocation), judged on its GS1 prefix.
fn restriction(gtin14: &str, kind: Option<CodeKind>) -> Option<&'static str> {
    if kind == Some(CodeKind::Ean8) {
        // EAN-8 numbers starting 0 or 2 are restricted-circulation numbers.
        return match gtin14.as_bytes()[6] {
            b'0' => Some("EAN-8 starting with 0: a restricted-circulation number within a company"),
            b'2' => Some("EAN-8 starting with 2: an in-store number"),
            _ => None,
        };
    }
    // The GS1 prefix: the first three digits after the indicator.
    let prefix: u16 = gtin14.get(1..4)?.parse().ok()?;
    match prefix {
        20..=29 => Some("GS1 prefix 02: a restricted-circulation number (in-store, variable weight)"),
        40..=49 => Some("GS1 prefix 04: a restricted-circulation number within a company"),
        50..=59 => Some("GS1 prefix 05: a coupon"),
        200..=299 => Some("GS1 prefix 2: an in-store number"),
        980 => Some("GS1 prefix 980: a refund receipt"),
        981..=984 => Some("GS1 prefix 981-984: a coupon"),
        990..=999 => Some("GS1 prefix 99: a coupon"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {

    /// The import reads a GTIN cell with `Gtin::repair`; `gtin check` must accept exactly the same codes, with the
    /// same GTIN-14, and refuse the same ones for the same reason.
    #[test]
    fn check_accepts_exactly_what_an_import_accepts() {
        let codes = [
            "4006381333931",
            "4006381333932",
            "036000291452",
            "36000291452",
            "4905707",
            "04905707",
            "490570",
            "12345678901",
            "123456789",
            "96385074",
            "0-306-40615-2",
            "080442957X",
            "0306406153",
            "4,006381333931E+12",
            "4.00638E+12",
            "4006381333931.0",
            "10012345678902",
            "400638133393",
            "abc",
            "",
            "4006 3813 3393 1",
            "5901234123457",
            "978-0-306-40615-7",
            "3,6000291452E+10",
        ];
        for code in codes {
            let checked = check(code);
            let imported = Gtin::repair(code);
            assert_eq!(checked.valid, imported.is_ok(), "{code:?}: check {checked:?}, import {imported:?}");
            match imported {
                Ok((gtin, _)) => assert_eq!(checked.gtin14, Some(gtin.as_gtin14()), "{code:?}"),
                Err(e) if !code.is_empty() => assert_eq!(checked.reason, Some(e.to_string()), "{code:?}"),
                Err(_) => {}
            }
        }
        for refused in ["4905707", "490570", "123456789", "12345"] {
            assert!(!check(refused).valid, "{refused} is no GTIN, whatever its last digit says");
        }
        assert_eq!(check("36000291452").gtin14.as_deref(), Some("00036000291452"), "a UPC-A's dropped zero");
        assert_eq!(check("080442957X").gtin14.as_deref(), Some("09780804429573"), "ISBN-10 with X");
    }
    use super::*;

    #[test]
    fn kinds_and_the_gtin14_form() {
        let cases = [
            ("4006381333931", CodeKind::Ean13, "04006381333931"),
            ("036000291452", CodeKind::UpcA, "00036000291452"),
            ("96385074", CodeKind::Ean8, "00000096385074"),
            ("10036000291459", CodeKind::Gtin14, "10036000291459"),
            ("978-0-306-40615-7", CodeKind::Isbn13, "09780306406157"),
            ("0-306-40615-2", CodeKind::Isbn10, "09780306406157"),
            ("080442957X", CodeKind::Isbn10, "09780804429573"),
        ];
        for (code, kind, gtin14) in cases {
            let checked = check(code);
            assert!(checked.usable(), "{code}: {checked:?}");
            assert_eq!((checked.kind, checked.gtin14.as_deref()), (Some(kind), Some(gtin14)), "{code}");
        }
        assert_eq!(check("036000291452").ean13(), Some("0036000291452"));
    }

    #[test]
    fn bad_codes_say_why() {
        for (code, says) in [
            ("4006381333932", "check digit is 2, expected 1"),
            ("0306406153", "ISBN-10 check digit is 3, expected 2"),
            ("12345", "5 digits"),
            ("40063813339A1", "contains `A` at position 12"),
            ("4905707", "7 digits"),
            ("", "empty"),
        ] {
            let checked = check(code);
            assert!(!checked.valid && checked.gtin14.is_none(), "{code}");
            assert!(checked.reason.as_deref().unwrap_or("").contains(says), "{code}: {checked:?}");
        }
    }

    #[test]
    fn restricted_ranges_are_valid_but_not_looked_up() {
        for code in ["2001234567893", "0212345678909", "0412345678903", "9812345678902", "9912345678909", "20123451"] {
            let checked = check(code);
            assert!(checked.valid, "{code}: {checked:?}");
            assert!(checked.restricted && !checked.usable(), "{code}: {checked:?}");
        }
        // A UPC-A with number system 2 (variable-weight items) is GS1 prefix 02.
        let upc = check("212345678909");
        assert!(upc.restricted, "{upc:?}");
        assert!(!check("4006381333931").restricted);
    }
}
