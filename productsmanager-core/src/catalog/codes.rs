//! ISO codes: [`CurrencyCode`] (ISO 4217) and [`CountryCode`] (ISO 3166-1 alpha-2), checked against the
//! standards' lists (through the `iso_currency` and `iso_country` crates).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::CatalogError;

/// An ISO 4217 currency, e.g. `EUR`; knows how many minor units it has (EUR 2, JPY 0, KWD 3).
///
/// ```
/// use productsmanager_core::catalog::CurrencyCode;
/// let yen: CurrencyCode = "jpy".parse()?;
/// assert_eq!((yen.as_str(), yen.minor_digits()), ("JPY", 0));
/// assert!("EUX".parse::<CurrencyCode>().is_err());
/// # Ok::<(), productsmanager_core::catalog::CatalogError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CurrencyCode(iso_currency::Currency);

impl CurrencyCode {
    /// Parses a currency code (case-insensitive); `field` names the input in the error.
    pub fn parse_field(field: &str, text: &str) -> Result<Self, CatalogError> {
        iso_currency::Currency::from_code(&text.trim().to_ascii_uppercase())
            .map(CurrencyCode)
            .ok_or_else(|| CatalogError::invalid(field, format!("{text:?} is not an ISO 4217 currency code")))
    }

    /// The three-letter code.
    pub fn as_str(&self) -> &'static str {
        self.0.code()
    }

    /// Minor units of a decimal amount written with a point (`12.5` EUR → 1250); more decimals than the
    /// currency has are refused rather than rounded. `field` names the input in the error.
    pub fn minor_units(&self, field: &str, text: &str) -> Result<i64, CatalogError> {
        let invalid = |why: &str| CatalogError::invalid(field, format!("{text:?} {why}"));
        let trimmed = text.trim();
        let (negative, digits) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(invalid("is not a decimal amount like 12.50"));
        }
        let scale = self.minor_digits();
        if fraction.len() > scale as usize {
            return Err(invalid(&format!("has more than {scale} decimals for {}", self.as_str())));
        }
        let padded = format!("{whole}{fraction:0<width$}", width = scale as usize);
        let amount: i64 = padded.parse().map_err(|_| invalid("is too large"))?;
        if amount > MAX_AMOUNT_MINOR {
            return Err(invalid(&format!("is more than the largest amount, {MAX_AMOUNT_MINOR} minor units")));
        }
        Ok(if negative { -amount } else { amount })
    }

    /// Digits after the decimal point: amounts are stored as integers of 10^-digits units.
    pub fn minor_digits(&self) -> u32 {
        self.0.exponent().map(u32::from).unwrap_or(0)
    }
}

/// The largest amount the catalog takes, in minor units (999,999,999,999: almost ten billion euros). Every price
/// rule's arithmetic on amounts up to it fits in an `i64` many times over, so it cannot wrap.
pub const MAX_AMOUNT_MINOR: i64 = 999_999_999_999;

/// Refuses an amount below zero or above [`MAX_AMOUNT_MINOR`], naming `field`.
pub(crate) fn check_amount(field: &str, amount_minor: i64) -> Result<(), CatalogError> {
    if amount_minor < 0 {
        return Err(CatalogError::invalid(field, "must not be negative"));
    }
    if amount_minor > MAX_AMOUNT_MINOR {
        return Err(CatalogError::invalid(
            field,
            format!("is more than the largest amount, {MAX_AMOUNT_MINOR} minor units"),
        ));
    }
    Ok(())
}

/// An amount of money: integer minor units (cents) and a currency. Never a float.
///
/// ```
/// use productsmanager_core::catalog::Money;
/// let price = Money::new(1299, "eur".parse()?);
/// assert_eq!(price.to_string(), "12.99 EUR");
/// # Ok::<(), productsmanager_core::catalog::CatalogError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Money {
    /// Amount in the currency's minor unit (cents for EUR, yen for JPY).
    pub amount_minor: i64,
    pub currency: CurrencyCode,
}

impl Money {
    /// An amount in minor units of `currency`.
    pub fn new(amount_minor: i64, currency: CurrencyCode) -> Self {
        Money { amount_minor, currency }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.currency.minor_digits();
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let abs = self.amount_minor.unsigned_abs();
        if digits == 0 {
            return write!(f, "{sign}{abs} {}", self.currency);
        }
        let scale = 10_u64.pow(digits);
        write!(f, "{sign}{}.{:0width$} {}", abs / scale, abs % scale, self.currency, width = digits as usize)
    }
}

/// An ISO 3166-1 alpha-2 country, e.g. `DE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CountryCode(String);

impl CountryCode {
    /// Parses a two-letter country code (case-insensitive); `field` names the input in the error.
    pub fn parse_field(field: &str, text: &str) -> Result<Self, CatalogError> {
        let upper = text.trim().to_ascii_uppercase();
        match (upper.len(), upper.parse::<iso_country::Country>()) {
            (2, Ok(_)) => Ok(CountryCode(upper)),
            _ => Err(CatalogError::invalid(field, format!("{text:?} is not an ISO 3166 two-letter country code"))),
        }
    }

    /// The two-letter code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! code_text {
    ($type:ty, $field:literal) => {
        impl FromStr for $type {
            type Err = CatalogError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$type>::parse_field($field, s)
            }
        }
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                <$type>::parse_field($field, &text).map_err(serde::de::Error::custom)
            }
        }
    };
}

code_text!(CurrencyCode, "currency");
code_text!(CountryCode, "country");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_and_countries() {
        assert_eq!("eur".parse::<CurrencyCode>().unwrap().minor_digits(), 2);
        assert_eq!("KWD".parse::<CurrencyCode>().unwrap().minor_digits(), 3);
        assert!("EURO".parse::<CurrencyCode>().is_err());
        assert_eq!("de".parse::<CountryCode>().unwrap().as_str(), "DE");
        assert!("XX".parse::<CountryCode>().is_err());
        assert!("DEU".parse::<CountryCode>().is_err());
        let json = serde_json::to_string(&"usd".parse::<CurrencyCode>().unwrap()).unwrap();
        assert_eq!(json, "\"USD\"");
        assert!(serde_json::from_str::<CurrencyCode>("\"ABC\"").is_err());
    }

    #[test]
    fn decimal_amounts_to_minor_units() {
        let eur: CurrencyCode = "EUR".parse().unwrap();
        assert_eq!(eur.minor_units("p", "12.5").unwrap(), 1250);
        assert_eq!(eur.minor_units("p", "12").unwrap(), 1200);
        assert_eq!(eur.minor_units("p", "-0.05").unwrap(), -5);
        assert!(eur.minor_units("p", "1.234").is_err());
        assert!(eur.minor_units("p", "1,5").is_err());
        assert!(eur.minor_units("p", ".5").is_err());
        assert_eq!("JPY".parse::<CurrencyCode>().unwrap().minor_units("p", "500").unwrap(), 500);
    }

    #[test]
    fn money_displays_in_its_currency() {
        assert_eq!(Money::new(1299, "EUR".parse().unwrap()).to_string(), "12.99 EUR");
        assert_eq!(Money::new(-5, "EUR".parse().unwrap()).to_string(), "-0.05 EUR");
        assert_eq!(Money::new(500, "JPY".parse().unwrap()).to_string(), "500 JPY");
        assert_eq!(Money::new(1234, "KWD".parse().unwrap()).to_string(), "1.234 KWD");
    }
}
