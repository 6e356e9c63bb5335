//! Application settings (`app_settings`, core database): typed values with defaults that admins change while the
//! product runs (`admin:settings`), unlike the configuration, which is read at start. Each setting is declared in
//! [`SETTINGS`] with its type and default; a stored value is checked against it.
//!
//! ```no_run
//! # async fn demo(sdk: &productsmanager_core::Sdk) -> productsmanager_core::Result<()> {
//! let days: u64 = sdk.settings().get("notifications.retention_days").await?;
//! sdk.settings().set("imports.default_preset", serde_json::json!("shopify"), None).await?;
//! # let _ = days; Ok(()) }
//! ```

mod repo;
mod service;

use serde::Serialize;

pub use service::{Setting, SettingsService};

/// The type of a setting's value, and what is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SettingKind {
    /// One of the listed words.
    Choice { choices: &'static [&'static str] },
    /// A whole number within the bounds.
    Integer { min: i64, max: i64 },
}

/// A setting: its key, what it does, what it accepts, its value when none is stored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SettingDefinition {
    pub key: &'static str,
    pub description: &'static str,
    pub kind: SettingKind,
    /// JSON text of the default value.
    pub default: &'static str,
}

/// Every setting.
pub const SETTINGS: &[SettingDefinition] = &[
    SettingDefinition {
        key: "analytics.raw_retention_days",
        description: "Days raw analytics are kept (searches, the activity log, latency and cache counts per hour); \
                      the hourly `analytics_rollup` task removes older ones. Daily figures and rollups stay",
        kind: SettingKind::Integer { min: 1, max: 3650 },
        default: "90",
    },
    SettingDefinition {
        key: "imports.default_preset",
        description: "How a file is read when its import names no mapping template or preset and its source \
                      configuration neither",
        kind: SettingKind::Choice {
            choices: &["native", "woocommerce", "shopify", "prestashop", "magento", "akeneo", "auto"],
        },
        default: "\"native\"",
    },
    SettingDefinition {
        key: "imports.failed_above_refused_percent",
        description: "An import that ran to its end but refused more than this share of its rows ends `failed` \
                      (red; the CLI exits 3); one that refused fewer ends `completed_with_errors` (amber; exit 9). \
                      Its rows were imported either way",
        kind: SettingKind::Integer { min: 0, max: 100 },
        default: "50",
    },
    SettingDefinition {
        key: "imports.seo_locale",
        description: "The language of the SEO metadata in a shop's export (Shopify's SEO title, description and \
                      handle; Magento's url_key, meta_title and meta_description; PrestaShop's meta title, meta \
                      description and rewritten URL): the locale it is stored under. An import's `seo_locale` option \
                      (`--seo-locale`) names another, any language tag",
        kind: SettingKind::Choice { choices: SEO_LOCALES },
        default: "\"en\"",
    },
    SettingDefinition {
        key: "imports.unranked_suppliers",
        description: "Among suppliers without a priority for a field's group, whose value a product keeps: \
                      `creator_first` (the supplier that created the product; another supplier fills only what it \
                      left empty) or `latest_file` (the latest supplier file that gives the field sets it). A \
                      person's value and a locked field stay either way",
        kind: SettingKind::Choice { choices: &["creator_first", "latest_file"] },
        default: "\"creator_first\"",
    },
    SettingDefinition {
        key: "notifications.retention_days",
        description: "Days a read notification is kept; the daily `purge_notifications` task removes older ones",
        kind: SettingKind::Integer { min: 1, max: 3650 },
        default: "90",
    },
];

/// The languages the `imports.seo_locale` setting offers (an import's option takes any language tag).
const SEO_LOCALES: &[&str] = &[
    "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "hr", "hu", "it", "ja", "ko", "lt", "lv", "nb", "nl", "pl",
    "pt", "ro", "ru", "sk", "sl", "sv", "tr", "uk", "zh",
];

/// Why a settings operation was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SettingsError {
    /// No such setting. HTTP 404.
    #[error("no setting `{key}`")]
    Unknown { key: String },
    /// The value does not fit the setting. HTTP 422.
    #[error("`{key}`: {reason}")]
    Invalid { key: String, reason: String },
}

impl SettingDefinition {
    /// The definition of `key`.
    pub fn of(key: &str) -> Result<&'static SettingDefinition, SettingsError> {
        SETTINGS.iter().find(|s| s.key == key).ok_or_else(|| SettingsError::Unknown { key: key.to_string() })
    }

    /// The default value.
    pub fn default_value(&self) -> serde_json::Value {
        serde_json::from_str(self.default).unwrap_or(serde_json::Value::Null)
    }

    /// `Ok` when `value` fits this setting.
    pub fn check(&self, value: &serde_json::Value) -> Result<(), SettingsError> {
        let invalid = |reason: String| SettingsError::Invalid { key: self.key.to_string(), reason };
        match self.kind {
            SettingKind::Choice { choices } => match value.as_str() {
                Some(word) if choices.contains(&word) => Ok(()),
                _ => Err(invalid(format!("{value} is not one of {}", choices.join(", ")))),
            },
            SettingKind::Integer { min, max } => match value.as_i64() {
                Some(n) if (min..=max).contains(&n) => Ok(()),
                _ => Err(invalid(format!("{value} is not a whole number from {min} to {max}"))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_fit_their_settings_and_values_are_checked() {
        for setting in SETTINGS {
            setting.check(&setting.default_value()).unwrap_or_else(|e| panic!("{}: {e}", setting.key));
        }
        let seo = SettingDefinition::of("imports.seo_locale").unwrap();
        assert_eq!(seo.default_value(), json!(crate::imports::mapping::DEFAULT_SEO_LOCALE));
        let preset = SettingDefinition::of("imports.default_preset").unwrap();
        assert!(preset.check(&json!("shopify")).is_ok());
        assert!(preset.check(&json!("excel")).unwrap_err().to_string().contains("not one of"));
        assert!(preset.check(&json!(3)).is_err());
        let days = SettingDefinition::of("notifications.retention_days").unwrap();
        assert!(days.check(&json!(30)).is_ok());
        assert!(
            days.check(&json!(0)).is_err() && days.check(&json!(1.5)).is_err() && days.check(&json!("30")).is_err()
        );
        assert!(matches!(SettingDefinition::of("nope"), Err(SettingsError::Unknown { .. })));
    }

    #[test]
    fn readme_documents_every_setting() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
        for setting in SETTINGS {
            let row = format!("| `{}` | `{}` |", setting.key, setting.default.trim_matches('"'));
            assert!(readme.contains(&row), "README.md does not document {} (with its default)", setting.key);
        }
    }
}
