//! OpenAPI schemas of the types that serialise as plain strings through their own `Serialize` (identifiers and
//! ISO codes), so that the HTTP adapter can document every body. Built with the `openapi` feature.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use crate::catalog::{Asin, CountryCode, CurrencyCode, Gtin, Sku};

/// `impl ToSchema` for a type that is a string on the wire.
macro_rules! string_schema {
    ($type:ty, $pattern:expr, $description:expr, $example:expr) => {
        impl utoipa::PartialSchema for $type {
            fn schema() -> RefOr<Schema> {
                let builder =
                    ObjectBuilder::new().schema_type(Type::String).description(Some($description)).examples([$example]);
                let pattern: Option<&str> = $pattern;
                builder.pattern(pattern).into()
            }
        }
        impl utoipa::ToSchema for $type {}
    };
}

string_schema!(
    Gtin,
    None,
    "A GTIN (EAN-8, UPC-A, EAN-13, GTIN-14) with a valid check digit; answered as 8, 12, 13 or 14 digits",
    "4006381333931"
);
string_schema!(Asin, Some("^[A-Z0-9]{10}$"), "An Amazon Standard Identification Number", "B000000001");
string_schema!(Sku, None, "A stock-keeping unit: 1 to 100 characters, no control characters", "ACME-1001");
string_schema!(CurrencyCode, Some("^[A-Z]{3}$"), "An ISO 4217 currency code", "EUR");
string_schema!(CountryCode, Some("^[A-Z]{2}$"), "An ISO 3166-1 alpha-2 country code", "DE");
