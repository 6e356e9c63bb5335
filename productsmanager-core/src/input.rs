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

/// The first characters that make a spreadsheet run a cell as a formula: our exports (and errors CSVs) write a `'`
/// before such a cell, and the native preset takes it off again.
pub const FORMULA_LEADS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether a text takes the `'` guard: after any `'` it starts with, a formula's first character. Counting the
/// `'`s already there makes the guard reversible: `'=x` goes out as `''=x` and comes back as `'=x`.
pub(crate) fn takes_formula_guard(text: &str) -> bool {
    text.trim_start_matches('\'').starts_with(FORMULA_LEADS)
}

/// The first character no text of the catalog may hold, with its position (1-based, in characters): NUL and the
/// other control characters (C0 but tab, line feed and carriage return; DEL; C1). One rule for every way text
/// comes in — API, command line, supplier files — so both databases store the same (PostgreSQL refuses NUL,
/// SQLite would keep it).
///
/// ```
/// use productsmanager_core::input::control_character;
///
/// assert_eq!(control_character("iPod\u{0}8GB"), Some((5, '\u{0}')));
/// assert_eq!(control_character("two\nlines\tand a tab"), None);
/// ```
pub fn control_character(text: &str) -> Option<(usize, char)> {
    text.chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        .map(|(position, c)| (position + 1, c))
}

/// The first bidirectional override or isolate (U+202A–U+202E, U+2066–U+2069), with its position: they make a
/// name read differently from what is stored, so names and codes refuse them.
pub fn bidi_override(text: &str) -> Option<(usize, char)> {
    text.chars()
        .enumerate()
        .find(|(_, c)| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .map(|(position, c)| (position + 1, c))
}

/// Parses JSON text into `T`, naming the field at fault when it does not fit. A string holding a NUL character
/// (`\u0000`) is refused: no database we store text in accepts one (PostgreSQL fails the statement).
pub fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, InputError> {
    // JSON can carry NUL only escaped; look closer only when the escape appears at all.
    if text.contains("\\u0000")
        && let Ok(document) = serde_json::from_str::<serde_json::Value>(text)
        && let Some(field) = nul_path(&document, String::new())
    {
        let field = if field.is_empty() { "body".to_string() } else { field };
        return Err(InputError { field, reason: "contains a NUL character".into(), line: 1, column: 1 });
    }
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

/// Path (`items[2].title`, `title` for a key; a key holding NUL is named by its parent) of the first string in
/// `value` that contains a NUL character.
fn nul_path(value: &serde_json::Value, path: String) -> Option<String> {
    let join = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
    match value {
        serde_json::Value::String(text) => text.contains('\0').then_some(path),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, item)| nul_path(item, format!("{path}[{i}]")))
        }
        serde_json::Value::Object(fields) => fields
            .iter()
            .find_map(|(key, item)| if key.contains('\0') { Some(path.clone()) } else { nul_path(item, join(key)) }),
        _ => None,
    }
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

    #[test]
    fn nul_characters_are_refused_naming_the_field() {
        let error = parse_json::<serde_json::Value>(r#"{"items": [{"title": "a\u0000b"}]}"#).unwrap_err();
        assert_eq!((error.field.as_str(), error.reason.as_str()), ("items[0].title", "contains a NUL character"));
        assert_eq!(parse_json::<serde_json::Value>(r#""\u0000""#).unwrap_err().field, "body");
        // An escaped backslash followed by `u0000` is six ordinary characters.
        let text = parse_json::<String>(r#""\\u0000""#).unwrap();
        assert_eq!(text, "\\u0000");
    }

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
