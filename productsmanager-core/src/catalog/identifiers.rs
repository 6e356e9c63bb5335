//! Product identifiers, parsed at the boundary: [`Gtin`], [`Asin`], [`Sku`].
//!
//! A value of these types is valid by construction, so services and repositories never re-check it. GTIN check
//! digits are computed here rather than with a crate: the rule is a few lines of GS1 arithmetic, and the only
//! crates for it are unmaintained (last release 2020) and do not normalise to GTIN-14 as we store it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Global Trade Item Number: GTIN-8 (EAN-8), GTIN-12 (UPC-A), GTIN-13 (EAN-13, ISBN-13) or GTIN-14, with a
/// verified check digit. Stored as 14 digits (left-padded with zeros, as GS1 prescribes); shown in its natural
/// length.
///
/// ```
/// use productsmanager_core::catalog::Gtin;
///
/// let upc: Gtin = "036000291452".parse()?;          // UPC-A
/// assert_eq!(upc.as_gtin14(), "00036000291452");
/// assert_eq!(upc.to_string(), "036000291452");
/// assert_eq!("4006381333931".parse::<Gtin>()?.to_string(), "4006381333931");
/// assert!("4006381333932".parse::<Gtin>().is_err()); // wrong check digit
/// # Ok::<(), productsmanager_core::catalog::GtinError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gtin([u8; 14]);

/// Why a text is not a GTIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GtinError {
    #[error("GTIN is empty")]
    Empty,
    #[error("GTIN contains `{found}` at position {position}; only digits are allowed")]
    NotADigit { position: usize, found: char },
    #[error("GTIN has {digits} digits; expected 8, 12, 13 or 14 (or an ISBN-10)")]
    Length { digits: usize },
    #[error("GTIN check digit is {found}, expected {expected}")]
    CheckDigit { expected: u8, found: u8 },
    #[error(
        "GTIN {shown:?} lost its last digits to scientific notation (a spreadsheet number cell); export the column as text"
    )]
    DigitsLost { shown: String },
    #[error("ISBN-10 check digit is {found}, expected {expected}")]
    Isbn10CheckDigit { expected: char, found: char },
}

/// What [`Gtin::repair`] had to undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GtinRepair {
    /// `4.006381333931E+12`: written out in full (every digit was still there).
    ScientificNotation,
    /// `4006381333931.0`: a whole number written as a decimal.
    TrailingDecimal,
    /// `36000291452` for `036000291452`: the leading zero of a UPC-A a number cell dropped, put back (the check
    /// digit confirms the rest). Only 11 digits are read so: a shorter number is not taken for a GTIN.
    LeadingZeros,
    /// `0-306-40615-2`: an ISBN-10, converted to its EAN-13 (`978` + its first nine digits + the GS1 check digit).
    Isbn10,
}

impl Gtin {
    /// Parses a GTIN; spaces and hyphens between digit groups (as printed under barcodes) are ignored.
    pub fn parse(text: &str) -> Result<Self, GtinError> {
        let mut digits = Vec::with_capacity(14);
        for (position, c) in text.trim().chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c as u8 - b'0'),
                ' ' | '-' => {}
                found => return Err(GtinError::NotADigit { position: position + 1, found }),
            }
        }
        if digits.is_empty() {
            return Err(GtinError::Empty);
        }
        if !matches!(digits.len(), 8 | 12 | 13 | 14) {
            return Err(GtinError::Length { digits: digits.len() });
        }
        let mut padded = [0_u8; 14];
        padded[14 - digits.len()..].copy_from_slice(&digits);
        let expected = check_digit(&padded[..13]);
        let found = padded[13];
        if expected != found {
            return Err(GtinError::CheckDigit { expected, found });
        }
        Ok(Gtin(padded))
    }

    /// Parses a GTIN from a spreadsheet or a file that went through one, undoing the damage that is unambiguous:
    /// scientific notation that kept every digit, a trailing `.0`, leading zeros a number cell dropped. Scientific
    /// notation that lost digits is refused (they cannot be guessed).
    ///
    /// ```
    /// use productsmanager_core::catalog::{Gtin, GtinRepair};
    ///
    /// let (gtin, repair) = Gtin::repair("4,006381333931E+12")?;
    /// assert_eq!((gtin.to_string().as_str(), repair), ("4006381333931", Some(GtinRepair::ScientificNotation)));
    /// assert_eq!(Gtin::repair("36000291452")?.1, Some(GtinRepair::LeadingZeros));
    /// assert!(Gtin::repair("4.00638E+12").is_err());
    /// # Ok::<(), productsmanager_core::catalog::GtinError>(())
    /// ```
    ///
    /// This is the one reading of a product code from outside: imports, `gtin check` and Code2ASIN all use it,
    /// so a code is accepted everywhere or nowhere. Besides the GTIN lengths (8, 12, 13, 14) it reads an ISBN-10
    /// (converted) and 11 digits (a UPC-A whose leading zero a number cell dropped); any other length is refused,
    /// even when its check digit happens to pass (one number in ten does).
    pub fn repair(text: &str) -> Result<(Self, Option<GtinRepair>), GtinError> {
        let trimmed = text.trim();
        let (digits, repair) = if let Some((mantissa, exponent)) = trimmed.split_once(['E', 'e']) {
            let (digits, zeros_added) = expand_scientific(trimmed, mantissa, exponent)?;
            // Zeros written in place of digits the cell did not show: the check digit passes by chance one time in
            // ten, so a shortened mantissa is refused whatever the check says (`5.56156E+11` is not 556156000000).
            if zeros_added > 0 {
                return Err(GtinError::DigitsLost { shown: trimmed.to_string() });
            }
            (digits, Some(GtinRepair::ScientificNotation))
        } else if let Some(whole) = trimmed.strip_suffix(".0").or_else(|| trimmed.strip_suffix(",0")) {
            (whole.to_string(), Some(GtinRepair::TrailingDecimal))
        } else {
            (trimmed.to_string(), None)
        };
        let bare: String = digits.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if bare.len() == 10 && repair.is_none() {
            return Ok((isbn10(&bare)?, Some(GtinRepair::Isbn10)));
        }
        if bare.len() == 11 && bare.chars().all(|c| c.is_ascii_digit()) {
            return Ok((Gtin::parse(&format!("0{bare}"))?, repair.or(Some(GtinRepair::LeadingZeros))));
        }
        Ok((Gtin::parse(&digits)?, repair))
    }

    /// The 14-digit form, as stored.
    pub fn as_gtin14(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// Digits in its natural length: GTIN-8 when padded with six zeros, UPC-A (12) with two, EAN-13 with one.
    pub fn natural_len(&self) -> usize {
        let zeros = self.0.iter().take_while(|d| **d == 0).count();
        match zeros {
            6.. => 8,
            2..=5 => 12,
            1 => 13,
            _ => 14,
        }
    }
}

/// The digits of `mantissa × 10^exponent` when the mantissa kept them all (`4.006381333931E+12`).
fn expand_scientific(shown: &str, mantissa: &str, exponent: &str) -> Result<(String, usize), GtinError> {
    let lost = || GtinError::DigitsLost { shown: shown.to_string() };
    let exponent: usize = exponent.trim_start_matches('+').parse().map_err(|_| lost())?;
    let (whole, fraction) = mantissa.split_once(['.', ',']).unwrap_or((mantissa, ""));
    if whole.is_empty() || !whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit()) {
        return Err(lost());
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > exponent {
        return Err(lost()); // not a whole number
    }
    // Fewer fraction digits than the exponent: the rest were rounded away, unless the number really ends in zeros,
    // which no one can tell (the caller refuses it).
    let zeros = exponent - fraction.len();
    Ok((format!("{whole}{fraction}{}", "0".repeat(zeros)), zeros))
}

/// `0306406152` → `9780306406157`: the ISBN-10 check (mod 11, `X` = 10), then `978` + its nine digits + the GS1
/// check digit.
fn isbn10(isbn: &str) -> Result<Gtin, GtinError> {
    let chars: Vec<char> = isbn.chars().collect();
    let mut digits = Vec::with_capacity(13);
    digits.extend([9, 7, 8]);
    let mut sum = 0;
    for (position, c) in chars.iter().enumerate() {
        let value = match c.to_digit(10) {
            Some(digit) => digit,
            None if position == 9 && matches!(c, 'X' | 'x') => 10,
            None => return Err(GtinError::NotADigit { position: position + 1, found: *c }),
        };
        sum += value * (10 - position as u32);
        if position < 9 {
            digits.push(value as u8);
        }
    }
    if !sum.is_multiple_of(11) {
        let last = if matches!(chars[9], 'X' | 'x') { 10 } else { chars[9].to_digit(10).unwrap_or(0) };
        let wanted = (11 - (sum - last) % 11) % 11;
        let expected = if wanted == 10 { 'X' } else { char::from_digit(wanted, 10).unwrap_or('?') };
        return Err(GtinError::Isbn10CheckDigit { expected, found: chars[9] });
    }
    digits.push(check_digit(&digits));
    let mut padded = [0_u8; 14];
    padded[1..].copy_from_slice(&digits);
    Ok(Gtin(padded))
}

/// GS1 check digit of the data digits: weights 3 and 1 alternating from the rightmost data digit.
pub(crate) fn check_digit(data: &[u8]) -> u8 {
    let sum: u32 = data.iter().rev().enumerate().map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 3 } else { 1 }).sum();
    // `sum % 10` is below 10, so the result fits in a u8.
    ((10 - sum % 10) % 10) as u8
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0[14 - self.natural_len()..] {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl FromStr for Gtin {
    type Err = GtinError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Gtin::parse(s)
    }
}

/// An Amazon Standard Identification Number: 10 characters, uppercase letters and digits (`B0…` for most
/// products, the ISBN-10 for books).
///
/// ```
/// use productsmanager_core::catalog::Asin;
///
/// assert_eq!("b08n5wrwnw".parse::<Asin>()?.as_str(), "B08N5WRWNW");
/// assert!("B08N5".parse::<Asin>().is_err());
/// # Ok::<(), productsmanager_core::catalog::IdentifierError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Asin(String);

/// A stock-keeping unit: the seller's own product code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(String);

/// Why a text is not an ASIN or SKU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("ASIN must be 10 letters or digits, got {0:?}")]
    Asin(String),
    #[error("SKU must not be empty")]
    EmptySku,
    #[error("SKU is {0} characters long; at most {max} are allowed", max = Sku::MAX_LEN)]
    SkuTooLong(usize),
    #[error("SKU contains a control character at position {0}")]
    SkuControlCharacter(usize),
    #[error("SKU contains a bidirectional control at position {0}; it makes the code read otherwise")]
    SkuBidiControl(usize),
}

impl Asin {
    /// Parses an ASIN, upper-casing it.
    pub fn parse(text: &str) -> Result<Self, IdentifierError> {
        let upper = text.trim().to_ascii_uppercase();
        if upper.len() == 10 && upper.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
            Ok(Asin(upper))
        } else {
            Err(IdentifierError::Asin(text.to_string()))
        }
    }

    /// The ASIN as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Sku {
    /// Longest SKU accepted (platforms limit it: Shopify 255, WooCommerce 100, Amazon 40; 100 covers the shops
    /// we export to without truncation).
    pub const MAX_LEN: usize = 100;

    /// Parses a SKU: trimmed, non-empty, no control characters or bidirectional controls, at most [`Sku::MAX_LEN`] characters.
    pub fn parse(text: &str) -> Result<Self, IdentifierError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(IdentifierError::EmptySku);
        }
        let len = trimmed.chars().count();
        if len > Self::MAX_LEN {
            return Err(IdentifierError::SkuTooLong(len));
        }
        if let Some(position) = trimmed.chars().position(char::is_control) {
            return Err(IdentifierError::SkuControlCharacter(position + 1));
        }
        if let Some((position, _)) = crate::input::bidi_override(trimmed) {
            return Err(IdentifierError::SkuBidiControl(position));
        }
        Ok(Sku(trimmed.to_string()))
    }

    /// The SKU as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! text_identifier {
    ($type:ty, $error:ty) => {
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl FromStr for $type {
            type Err = $error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$type>::parse(s)
            }
        }
    };
}

text_identifier!(Asin, IdentifierError);
text_identifier!(Sku, IdentifierError);

/// Identifiers travel as their display text in JSON and parse (with the same errors) on the way in.
macro_rules! serde_as_text {
    ($($type:ty),+) => {$(
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    )+};
}

serde_as_text!(Gtin, Asin, Sku);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreadsheet_damage_is_repaired_when_unambiguous() {
        let repaired = |text: &str| Gtin::repair(text).map(|(g, r)| (g.to_string(), r));
        assert_eq!(repaired("4006381333931").unwrap(), ("4006381333931".into(), None));
        assert_eq!(
            repaired("4.006381333931E+12").unwrap(),
            ("4006381333931".into(), Some(GtinRepair::ScientificNotation))
        );
        assert_eq!(repaired("4,006381333931e12").unwrap().1, Some(GtinRepair::ScientificNotation));
        assert_eq!(repaired("4006381333931.0").unwrap().1, Some(GtinRepair::TrailingDecimal));
        // UPC-A 036000291452 typed into a number cell; a shorter number is no GTIN, whatever its last digit says
        // (an EAN-8 starting with 0 is a restricted-circulation number anyway).
        assert_eq!(repaired("36000291452").unwrap(), ("036000291452".into(), Some(GtinRepair::LeadingZeros)));
        assert_eq!(Gtin::repair("123457"), Err(GtinError::Length { digits: 6 }));
        assert_eq!(Gtin::repair("4905707"), Err(GtinError::Length { digits: 7 }));
        assert_eq!(repaired("0-306-40615-2").unwrap(), ("9780306406157".into(), Some(GtinRepair::Isbn10)));
        assert!(matches!(Gtin::repair("4.00638E+12"), Err(GtinError::DigitsLost { .. })));
        // Padded with zeros, 556156000000 passes the check digit by chance: still refused.
        assert!(matches!(Gtin::repair("5.56156E+11"), Err(GtinError::DigitsLost { .. })));
        assert!(
            matches!(Gtin::repair("36000291453"), Err(GtinError::CheckDigit { .. })),
            "the check digit still rules"
        );
        assert!(Gtin::repair("4.5E-3").is_err());
        assert!(Gtin::repair("12345678901234567").is_err());
    }

    #[test]
    fn accepts_every_gtin_length_and_normalises_to_14_digits() {
        let cases = [
            ("96385074", "00000096385074", "96385074"),             // EAN-8
            ("036000291452", "00036000291452", "036000291452"),     // UPC-A
            ("4006381333931", "04006381333931", "4006381333931"),   // EAN-13
            ("9780306406157", "09780306406157", "9780306406157"),   // ISBN-13
            ("10012345678902", "10012345678902", "10012345678902"), // GTIN-14
            ("00012345600012", "00012345600012", "012345600012"),   // GTIN-14 of a UPC-A, shown as UPC-A
        ];
        for (input, gtin14, shown) in cases {
            let gtin = Gtin::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(gtin.as_gtin14(), gtin14, "{input}");
            assert_eq!(gtin.to_string(), shown, "{input}");
            assert_eq!(Gtin::parse(&gtin.as_gtin14()).unwrap(), gtin, "{input} round trip");
        }
    }

    #[test]
    fn the_same_product_in_any_length_is_one_gtin() {
        let upc = Gtin::parse("036000291452").unwrap();
        assert_eq!(Gtin::parse("0036000291452").unwrap(), upc);
        assert_eq!(Gtin::parse("00036000291452").unwrap(), upc);
        assert_eq!(Gtin::parse(" 0 36000-29145 2 ").unwrap(), upc);
    }

    #[test]
    fn rejects_bad_gtins_with_the_reason() {
        assert_eq!(Gtin::parse("4006381333932"), Err(GtinError::CheckDigit { expected: 1, found: 2 }));
        assert_eq!(Gtin::parse("400638133393"), Err(GtinError::CheckDigit { expected: 0, found: 3 }));
        assert_eq!(Gtin::parse("12345"), Err(GtinError::Length { digits: 5 }));
        assert_eq!(Gtin::parse("   "), Err(GtinError::Empty));
        assert_eq!(Gtin::parse("40063813339E1"), Err(GtinError::NotADigit { position: 12, found: 'E' }));
        assert!(Gtin::parse("4.006381333931E12").is_err());
    }

    #[test]
    fn asin_and_sku_rules() {
        assert_eq!(Asin::parse(" B08N5WRWNW ").unwrap().as_str(), "B08N5WRWNW");
        assert_eq!(Asin::parse("0306406152").unwrap().as_str(), "0306406152");
        assert!(Asin::parse("B08N5WRWN").is_err());
        assert!(Asin::parse("B08N5WRWN!").is_err());
        assert_eq!(Sku::parse("  AB-12/x ").unwrap().as_str(), "AB-12/x");
        assert_eq!(Sku::parse(""), Err(IdentifierError::EmptySku));
        assert_eq!(Sku::parse("a\tb"), Err(IdentifierError::SkuControlCharacter(2)));
        assert_eq!(Sku::parse(&"x".repeat(101)), Err(IdentifierError::SkuTooLong(101)));
    }

    #[test]
    fn identifiers_are_json_strings_that_parse_on_the_way_in() {
        let gtin = Gtin::parse("4006381333931").unwrap();
        assert_eq!(serde_json::to_string(&gtin).unwrap(), "\"4006381333931\"");
        assert_eq!(serde_json::from_str::<Gtin>("\"04006381333931\"").unwrap(), gtin);
        let error = serde_json::from_str::<Gtin>("\"4006381333932\"").unwrap_err().to_string();
        assert!(error.contains("check digit"), "{error}");
        assert!(serde_json::from_str::<Asin>("\"short\"").is_err());
    }
}
