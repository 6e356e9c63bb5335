//! `gtin check`: one product code checked, normalised and judged (no database needed).

use productsmanager_core::code2asin::check as check_code;

use crate::{Failure, output};

pub(crate) fn check(code: &str, json: bool) -> Result<(), Failure> {
    let checked = check_code(code);
    if json {
        output::json(&checked);
    } else {
        let kind = checked.kind.map(|k| serde_json::to_value(k).unwrap_or_default());
        let kind = kind.as_ref().and_then(|k| k.as_str()).unwrap_or("unknown kind");
        match (&checked.gtin14, checked.restricted) {
            (Some(gtin14), false) => println!("{code}: valid {kind}, GTIN-14 {gtin14}"),
            (Some(gtin14), true) => println!(
                "{code}: valid {kind}, GTIN-14 {gtin14}, restricted: {}",
                checked.reason.as_deref().unwrap_or("")
            ),
            (None, _) => {}
        }
    }
    if checked.valid {
        return Ok(());
    }
    let reason = checked.reason.unwrap_or_default();
    Err(Failure {
        code: crate::exit_code(productsmanager_core::ErrorKind::Invalid),
        message: format!("{code:?} is not a valid product code: {reason}"),
    })
}
