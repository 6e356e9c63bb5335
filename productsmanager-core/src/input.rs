//! Parsing caller input (JSON bodies, `--json` arguments) into the SDK's input types, with errors that name the
//! field — `title: missing field` or `prices[2].currency: unknown currency "EUX"` — and where in the text it is.
//!
//! ```
//! use productsmanager_core::input::parse_json;
//! #[derive(serde::Deserialize, Debug)]
//! struct Input { count: u32 }
//! let error = parse_json::<Input>(r#"{"count": -1}"#).unwrap_err();
//! assert!(error.to_string().starts_with("`count`"));
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// Input that does not parse or does not have the expected shape.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{field}`: {reason} (line {line}, column {column})")]
pub struct InputError {
    /// Path of the offending field (`prices[0].amount`), or `body` for the document as a whole.
    pub field: String,
    pub reason: String,
    pub line: usize,
    pub column: usize,
}

/// Parses JSON text into `T`, naming the field at fault when it does not fit.
pub fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, InputError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // A syntax error has no field: the document itself is broken.
        let whole_body = inner.is_syntax() || inner.is_eof() || path.is_empty() || path == "." || path == "?";
        InputError {
            field: if whole_body { "body".to_string() } else { path },
            reason: strip_position(&inner.to_string()),
            line: inner.line(),
            column: inner.column(),
        }
    })?;
    deserializer.end().map_err(|e| InputError {
        field: "body".to_string(),
        reason: strip_position(&e.to_string()),
        line: e.line(),
        column: e.column(),
    })?;
    Ok(value)
}

/// Parses a UUID given as text (a path segment, a CLI argument), naming `field` when it is not one.
pub fn parse_id(field: &str, text: &str) -> Result<uuid::Uuid, InputError> {
    uuid::Uuid::parse_str(text.trim()).map_err(|e| InputError {
        field: field.to_string(),
        reason: format!("{text:?} is not a UUID: {e}"),
        line: 1,
        column: 1,
    })
}

/// serde_json appends " at line L column C"; we report those separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// For patch fields: absent → `None` (leave as is), `null` → `Some(None)` (clear), value → `Some(Some(v))`.
/// Use with `#[serde(default, deserialize_with = "crate::input::double_option")]`.
pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The fields exist to be parsed; the tests look at the errors only.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        #[serde(default)]
        prices: Vec<Price>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Price {
        amount: u32,
    }

    #[derive(Debug, Deserialize)]
    struct Patch {
        #[serde(default, deserialize_with = "double_option")]
        note: Option<Option<String>>,
    }

    #[test]
    fn errors_name_the_field_and_position() {
        let e =
            parse_json::<Item>("{\"name\": \"x\",\n \"prices\": [{\"amount\": 1}, {\"amount\": \"2\"}]}").unwrap_err();
        assert_eq!(e.field, "prices[1].amount");
        assert_eq!(e.line, 2);
        assert!(e.reason.contains("expected u32"), "{e}");
        let e = parse_json::<Item>("{}").unwrap_err();
        assert_eq!(e.field, "body");
        assert!(e.reason.contains("missing field `name`"), "{e}");
        let e = parse_json::<Item>("{\"name\": \"x\", \"colour\": 1}").unwrap_err();
        assert!(e.reason.contains("unknown field `colour`"), "{e}");
        assert_eq!(parse_json::<Item>("{\"name\": \"x\"} trailing").unwrap_err().field, "body");
        assert_eq!(parse_json::<Item>("{\"name\": ").unwrap_err().field, "body");
        assert_eq!(parse_json::<Item>("{not json").unwrap_err().field, "body");
    }

    #[test]
    fn double_option_tells_absent_from_null() {
        assert_eq!(parse_json::<Patch>("{}").unwrap().note, None);
        assert_eq!(parse_json::<Patch>("{\"note\": null}").unwrap().note, Some(None));
        assert_eq!(parse_json::<Patch>("{\"note\": \"x\"}").unwrap().note, Some(Some("x".to_string())));
    }
}
