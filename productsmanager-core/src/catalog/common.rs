//! Small rules shared by the catalog services.

use std::future::Future;

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::CatalogError;
use crate::cache::{CacheKind, TieredCache};
use crate::db::{Database, DbError};
use crate::{Error, Result};

/// Now, to the microsecond: PostgreSQL keeps microseconds, so values read back compare equal on both backends.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A catalog database error as an SDK error.
pub(crate) fn db_error(error: sqlx::Error) -> Error {
    DbError::from_sqlx(Database::Catalog, error).into()
}

/// A unique violation as `Duplicate` when the broken constraint mentions one of `fields` (first match wins),
/// otherwise the plain database error.
pub(crate) fn duplicate_or_db(error: sqlx::Error, entity: &'static str, fields: &[(&'static str, &str)]) -> Error {
    if let Some(constraint) = DbError::unique_violation(&error)
        && let Some((field, value)) = fields.iter().find(|(field, _)| constraint.contains(field))
    {
        return CatalogError::Duplicate { entity, field, value: (*value).to_string() }.into();
    }
    db_error(error)
}

/// Cache key of the search-results generation: search results are cached under it, and every catalog write
/// drops it, so a search never serves results from before a write (see [`catalog_changed`]).
pub(crate) const SEARCH_GENERATION: &str = "generation";

/// After a write that can change search results (products, offers, prices, stock, brand names, category links):
/// drops the search-results generation here and, through Redis, on every instance.
pub(crate) async fn catalog_changed(cache: &TieredCache) {
    cache.invalidate(CacheKind::SearchResults, SEARCH_GENERATION).await;
}

/// After a write to a product or what hangs on it: drops the cached product and the search generation.
pub(crate) async fn product_changed(cache: &TieredCache, id: Uuid) {
    cache.invalidate(CacheKind::Products, &id.to_string()).await;
    catalog_changed(cache).await;
}

/// The row a lookup found, or `NotFound` naming the entity and key.
pub(crate) fn found<T>(entity: &'static str, key: impl ToString, row: Option<T>) -> Result<T> {
    row.ok_or_else(|| CatalogError::not_found(entity, key).into())
}

/// A row by id through the cache: `load` runs on a miss; a missing row is `NotFound` and is not cached.
pub(crate) async fn cached_by_id<T, F, Fut>(
    cache: &TieredCache,
    kind: CacheKind,
    entity: &'static str,
    id: Uuid,
    load: F,
) -> Result<T>
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let value = cache.get_or_load(kind, &id.to_string(), || async move { found(entity, id, load().await?) }).await?;
    Ok(T::clone(&value))
}

/// A missing referenced entity as an invalid field of the input.
pub(crate) fn named_missing(error: crate::Error, field: &str) -> crate::Error {
    match error.as_catalog() {
        Some(CatalogError::NotFound { entity, key }) => {
            CatalogError::invalid(field, format!("no {entity} with id {key}")).into()
        }
        _ => error,
    }
}

/// A required, trimmed, non-empty text of at most `max` characters.
pub(crate) fn required_text(field: &str, value: &str, max: usize) -> Result<String, CatalogError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(CatalogError::invalid(field, "must not be empty"));
    }
    optional_text(field, Some(trimmed), max).map(|v| v.unwrap_or_default())
}

/// A name people read (a title, a brand, a category, an attribute): [`required_text`] without bidirectional
/// overrides or isolates, which make a name display differently from what is stored (U+202E before `gpj.exe` shows `exe.jpg`).
pub(crate) fn name_text(field: &str, value: &str, max: usize) -> Result<String, CatalogError> {
    let name = required_text(field, value, max)?;
    if let Some((position, c)) = crate::input::bidi_override(&name) {
        let reason = format!(
            "holds the bidirectional control U+{:04X} at character {position}; it makes the name read otherwise",
            c as u32
        );
        return Err(CatalogError::invalid(field, reason));
    }
    Ok(name)
}

/// A code other records, files and URLs refer to (a supplier's, a taxonomy's): letters, digits, `-`, `_` and `.`,
/// never `..` (a code can end up in a file name or a path).
pub(crate) fn code_text(field: &str, value: &str, max: usize) -> Result<String, CatalogError> {
    let code = required_text(field, value, max)?;
    if !code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Err(CatalogError::invalid(field, format!("{code:?} may hold only letters, digits, '-', '_' and '.'")));
    }
    if code.contains("..") {
        return Err(CatalogError::invalid(field, format!("{code:?} must not hold '..'")));
    }
    Ok(code)
}

/// An optional trimmed text of at most `max` characters; blank counts as absent.
pub(crate) fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, CatalogError> {
    let Some(trimmed) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    if let Some((position, c)) = crate::input::control_character(trimmed) {
        let reason = format!("holds the control character U+{:04X} at character {position}; it is not text", c as u32);
        return Err(CatalogError::invalid(field, reason));
    }
    let len = trimmed.chars().count();
    if len > max {
        return Err(CatalogError::invalid(field, format!("is {len} characters long; at most {max} are allowed")));
    }
    Ok(Some(trimmed.to_string()))
}

/// A slug made from `source` (`iPod Nano` → `ipod-nano`): at most 200 characters, cut at a hyphen (a slug of a long
/// or non-Latin text grows); empty when `source` has nothing to make one from.
pub(crate) fn made_slug(source: &str) -> String {
    let mut made = slug::slugify(source);
    if made.len() > 200 {
        let cut = made[..=200].rfind('-').unwrap_or(200);
        made.truncate(cut);
    }
    made
}

/// A slug: given (checked) or made from `source`.
pub(crate) fn slug_or_from(field: &str, given: Option<&str>, source: &str) -> Result<String, CatalogError> {
    match given.map(str::trim).filter(|s| !s.is_empty()) {
        Some(slug) => {
            let valid = slug.len() <= 200
                && slug.split('-').all(|part| !part.is_empty())
                && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if valid {
                Ok(slug.to_string())
            } else {
                Err(CatalogError::invalid(field, format!("{slug:?} is not a slug (a-z, 0-9, single hyphens)")))
            }
        }
        None => {
            let made = made_slug(source);
            if made.is_empty() {
                Err(CatalogError::invalid(field, format!("cannot make a slug from {source:?}; give one")))
            } else {
                Ok(made)
            }
        }
    }
}

/// An optional http(s) URL.
pub(crate) fn optional_url(field: &str, value: Option<&str>) -> Result<Option<String>, CatalogError> {
    let Some(text) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(Some(url.to_string())),
        Ok(url) => Err(CatalogError::invalid(field, format!("scheme {:?} is not http or https", url.scheme()))),
        Err(e) => Err(CatalogError::invalid(field, format!("not a URL: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_checked_or_made() {
        assert_eq!(slug_or_from("slug", None, "Ünïcode & Co.").unwrap(), "unicode-co");
        assert_eq!(slug_or_from("slug", Some("acme-2"), "x").unwrap(), "acme-2");
        for bad in ["Acme", "a--b", "-a", "a b", "é"] {
            assert!(slug_or_from("slug", Some(bad), "x").is_err(), "{bad}");
        }
        assert!(slug_or_from("slug", None, "!!!").is_err());
    }

    #[test]
    fn texts_and_urls() {
        assert_eq!(required_text("name", "  A  ", 5).unwrap(), "A");
        assert!(required_text("name", "   ", 5).is_err());
        assert!(required_text("name", "abcdef", 5).is_err());
        assert_eq!(optional_text("d", Some("  "), 5).unwrap(), None);
        assert_eq!(optional_url("u", Some("https://acme.example/x")).unwrap().unwrap(), "https://acme.example/x");
        assert!(optional_url("u", Some("ftp://acme.example")).is_err());
        assert!(optional_url("u", Some("acme")).is_err());
    }
}
