//! [`Transform`]: one step applied to a cell's text, stored as data (JSON) in mapping templates.

use std::collections::BTreeMap;
use std::str::FromStr;

use regex::Regex;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::imports::ImportError;

/// One step applied to a cell's text. Steps run in order; the first that fails refuses the cell with its reason.
///
/// ```
/// use productsmanager_core::imports::mapping::{CompiledTransforms, Transform};
///
/// let steps: Vec<Transform> = serde_json::from_str(
///     r#"[{"op": "trim"}, {"op": "decimal_comma"}, {"op": "multiply", "factor": "1.2"}]"#,
/// )?;
/// let price = CompiledTransforms::compile(&steps)?;
/// assert_eq!(price.apply(" 1.234,50 ")?, "1481.4");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Transform {
    // The unit-like steps are empty structs: serde ignores unknown fields on unit variants of a tagged enum, and a
    // typo in a template must be refused.
    /// Spaces at both ends removed.
    Trim {},
    /// Upper case.
    Upper {},
    /// Lower case.
    Lower {},
    /// A slug: lower-case ASCII words joined by `-` (`iPod Nano` → `ipod-nano`), at most 200 characters (cut at a
    /// hyphen), as a shop's URL key written in words becomes one.
    Slugify {},
    /// The `index`-th (0-based) part between `separator`s, trimmed.
    Split { separator: String, index: usize },
    /// The first capture group of `pattern` (or the whole match when it has none).
    Extract { pattern: String },
    /// A number written the European way (`1.234,56`, `1 234,56`) in plain form (`1234.56`).
    DecimalComma {},
    /// The number times `factor` (exact decimals: a price × a coefficient).
    Multiply {
        #[serde(with = "rust_decimal::serde::str")]
        factor: Decimal,
    },
    /// A quantity from one unit to another of the same kind (g, kg, lb, oz; mm, cm, m, in; ml, cl, l).
    Unit { from: String, to: String },
    /// `value` when the cell is empty.
    Default { value: String },
    /// The `'` our CSV and XLSX exports put before a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
    /// return (so no spreadsheet runs it as a formula) taken off again: `'=SUM(A1)` → `=SUM(A1)`, `''=x` → `'=x`.
    /// Other text is left as it is. The `native` preset reads every column with it.
    Unguard {},
    /// The entry of `table` for the cell; `otherwise` when there is none (refused when that is absent too).
    Lookup {
        table: BTreeMap<String, String>,
        #[serde(default)]
        otherwise: Option<String>,
    },
}

/// Transforms checked once (patterns compiled, units known) and applied to many cells.
#[derive(Debug, Clone)]
pub struct CompiledTransforms {
    steps: Vec<Step>,
}

#[derive(Debug, Clone)]
enum Step {
    Plain(Transform),
    Extract(Regex),
    Scale(Decimal),
}

/// Units to their size in the base unit of their kind (gram, millimetre, millilitre).
fn unit(name: &str) -> Option<(&'static str, Decimal)> {
    let (kind, size) = match name.trim().to_ascii_lowercase().as_str() {
        "g" => ("mass", "1"),
        "kg" => ("mass", "1000"),
        "lb" => ("mass", "453.59237"),
        "oz" => ("mass", "28.349523125"),
        "mm" => ("length", "1"),
        "cm" => ("length", "10"),
        "m" => ("length", "1000"),
        "in" => ("length", "25.4"),
        "ml" => ("volume", "1"),
        "cl" => ("volume", "10"),
        "l" => ("volume", "1000"),
        _ => return None,
    };
    Decimal::from_str(size).ok().map(|size| (kind, size))
}

impl CompiledTransforms {
    /// Checks `steps`, naming the one at fault (`transforms[2].pattern`).
    pub fn compile(steps: &[Transform]) -> Result<Self, ImportError> {
        let mut compiled = Vec::with_capacity(steps.len());
        for (index, step) in steps.iter().enumerate() {
            let field = |name: &str| format!("transforms[{index}].{name}");
            compiled.push(match step {
                Transform::Extract { pattern } => Step::Extract(
                    Regex::new(pattern).map_err(|e| ImportError::invalid(&field("pattern"), e.to_string()))?,
                ),
                Transform::Unit { from, to } => {
                    let known = |name: &str, which: &str| {
                        unit(name).ok_or_else(|| {
                            ImportError::invalid(
                                &field(which),
                                format!("unknown unit {name:?} (g, kg, lb, oz, mm, cm, m, in, ml, cl, l)"),
                            )
                        })
                    };
                    let ((from_kind, from_size), (to_kind, to_size)) = (known(from, "from")?, known(to, "to")?);
                    if from_kind != to_kind {
                        return Err(ImportError::invalid(
                            &field("to"),
                            format!("{from} is a {from_kind}, {to} a {to_kind}"),
                        ));
                    }
                    Step::Scale(from_size / to_size)
                }
                Transform::Split { separator, .. } if separator.is_empty() => {
                    return Err(ImportError::invalid(&field("separator"), "must not be empty"));
                }
                other => Step::Plain(other.clone()),
            });
        }
        Ok(CompiledTransforms { steps: compiled })
    }

    /// The cell's text after every step, or why it is refused.
    pub fn apply(&self, value: &str) -> Result<String, String> {
        let mut text = value.to_string();
        for step in &self.steps {
            text = match step {
                Step::Extract(pattern) => {
                    let found = pattern
                        .captures(&text)
                        .ok_or_else(|| format!("{text:?} does not match {}", pattern.as_str()))?;
                    found.get(1).or_else(|| found.get(0)).map(|m| m.as_str().to_string()).unwrap_or_default()
                }
                Step::Scale(factor) => scale(&text, *factor)?,
                Step::Plain(transform) => apply_plain(transform, text)?,
            };
        }
        Ok(text)
    }
}

fn apply_plain(transform: &Transform, text: String) -> Result<String, String> {
    Ok(match transform {
        Transform::Trim {} => text.trim().to_string(),
        Transform::Upper {} => text.to_uppercase(),
        Transform::Lower {} => text.to_lowercase(),
        Transform::Slugify {} => crate::catalog::common::made_slug(&text),
        Transform::Split { separator, index } => match text.split(separator.as_str()).nth(*index) {
            Some(part) => part.trim().to_string(),
            None => return Err(format!("{text:?} has no part {index} between {separator:?}")),
        },
        Transform::DecimalComma {} => {
            let plain: String =
                text.trim().chars().filter(|c| !matches!(c, '.' | ' ' | '\u{a0}' | '\u{202f}')).collect();
            plain.replace(',', ".")
        }
        Transform::Multiply { factor } => scale(&text, *factor)?,
        Transform::Default { value } if text.trim().is_empty() => value.clone(),
        Transform::Default { .. } => text,
        Transform::Unguard {} => match text.strip_prefix('\'') {
            Some(rest) if crate::input::takes_formula_guard(rest) => rest.to_string(),
            _ => text,
        },
        Transform::Lookup { table, otherwise } => match (table.get(text.trim()), otherwise) {
            (Some(found), _) => found.clone(),
            (None, Some(otherwise)) => otherwise.clone(),
            (None, None) => return Err(format!("{text:?} is not in the lookup table")),
        },
        // Compiled into their own steps.
        Transform::Extract { .. } | Transform::Unit { .. } => text,
    })
}

/// `text` × `factor`, exact, then rounded.
fn scale(text: &str, factor: Decimal) -> Result<String, String> {
    let number = Decimal::from_str(text.trim()).map_err(|_| format!("{text:?} is not a number"))?;
    let product = number.checked_mul(factor).ok_or_else(|| format!("{text:?} × {factor} is out of range"))?;
    // Rounded half away from zero to the input's precision (at least cents): 9.99 × 1.2 = 11.99; 5 × 2 = 10.
    let places = number.scale().max(2);
    let rounded = product.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    Ok(rounded.normalize().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(json: &str, value: &str) -> Result<String, String> {
        let steps: Vec<Transform> = serde_json::from_str(json).unwrap();
        CompiledTransforms::compile(&steps).unwrap().apply(value)
    }

    #[test]
    fn the_formula_guard_of_our_exports_comes_off() {
        for (cell, read) in
            [("'=SUM(A1)", "=SUM(A1)"), ("'-12", "-12"), ("'@home", "@home"), ("'quoted'", "'quoted'"), ("''=x", "'=x")]
        {
            assert_eq!(run(r#"[{"op": "unguard"}]"#, cell), Ok(read.into()), "{cell}");
        }
    }

    #[test]
    fn each_step() {
        assert_eq!(run(r#"[{"op": "trim"}, {"op": "upper"}]"#, "  acme "), Ok("ACME".into()));
        assert_eq!(run(r#"[{"op": "lower"}]"#, "ÉCRAN"), Ok("écran".into()));
        assert_eq!(run(r#"[{"op": "slugify"}]"#, "Sprite Stasis Ball 55 cm"), Ok("sprite-stasis-ball-55-cm".into()));
        assert_eq!(run(r#"[{"op": "slugify"}]"#, "iPod-Nano"), Ok("ipod-nano".into()));
        assert_eq!(
            run(r#"[{"op": "split", "separator": ">", "index": 1}]"#, "Home > Garden > Pots"),
            Ok("Garden".into())
        );
        assert!(run(r#"[{"op": "split", "separator": ">", "index": 5}]"#, "a > b").unwrap_err().contains("no part 5"));
        assert_eq!(
            run(r#"[{"op": "extract", "pattern": "EAN:(\\d+)"}]"#, "ref 12 EAN:4006381333931"),
            Ok("4006381333931".into())
        );
        assert!(run(r#"[{"op": "extract", "pattern": "EAN:(\\d+)"}]"#, "none").unwrap_err().contains("does not match"));
        assert_eq!(run(r#"[{"op": "decimal_comma"}]"#, "1.234,56"), Ok("1234.56".into()));
        assert_eq!(run(r#"[{"op": "decimal_comma"}]"#, "1\u{a0}234,5"), Ok("1234.5".into()));
        assert_eq!(run(r#"[{"op": "multiply", "factor": "1.2"}]"#, "9.99"), Ok("11.99".into()));
        assert_eq!(run(r#"[{"op": "multiply", "factor": "0.5"}]"#, "0.05"), Ok("0.03".into()), "half away from zero");
        assert_eq!(run(r#"[{"op": "multiply", "factor": "2"}]"#, "5"), Ok("10".into()));
        assert!(run(r#"[{"op": "multiply", "factor": "2"}]"#, "five").unwrap_err().contains("not a number"));
        assert_eq!(run(r#"[{"op": "unit", "from": "g", "to": "kg"}]"#, "1250"), Ok("1.25".into()));
        assert_eq!(run(r#"[{"op": "unit", "from": "in", "to": "cm"}]"#, "10"), Ok("25.4".into()));
        assert_eq!(run(r#"[{"op": "default", "value": "EUR"}]"#, " "), Ok("EUR".into()));
        assert_eq!(run(r#"[{"op": "default", "value": "EUR"}]"#, "USD"), Ok("USD".into()));
        let lookup = r#"[{"op": "lookup", "table": {"Y": "true", "N": "false"}}]"#;
        assert_eq!(run(lookup, "Y"), Ok("true".into()));
        assert!(run(lookup, "maybe").unwrap_err().contains("not in the lookup table"));
        let lookup_otherwise = r#"[{"op": "lookup", "table": {"Y": "true"}, "otherwise": "false"}]"#;
        assert_eq!(run(lookup_otherwise, "maybe"), Ok("false".into()));
    }

    #[test]
    fn bad_steps_are_named_when_compiled() {
        let compile = |json: &str| {
            let steps: Vec<Transform> = serde_json::from_str(json).unwrap();
            CompiledTransforms::compile(&steps).unwrap_err()
        };
        let pattern = compile(r#"[{"op": "trim"}, {"op": "extract", "pattern": "(unclosed"}]"#);
        assert!(pattern.to_string().starts_with("transforms[1].pattern:"), "{pattern}");
        assert!(compile(r#"[{"op": "unit", "from": "g", "to": "cm"}]"#).to_string().contains("a mass, cm a length"));
        assert!(compile(r#"[{"op": "unit", "from": "stone", "to": "kg"}]"#).to_string().contains("unknown unit"));
        assert!(serde_json::from_str::<Vec<Transform>>(r#"[{"op": "explode"}]"#).is_err());
        assert!(serde_json::from_str::<Vec<Transform>>(r#"[{"op": "trim", "extra": 1}]"#).is_err());
    }
}
