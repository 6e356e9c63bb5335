//! `SettingsService`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::repo::{self, Stored};
use super::{SETTINGS, SettingDefinition, SettingKind, SettingsError};
use crate::Result;
use crate::db::{Database, DbError, DbPool};
use crate::jobs::Clock;

fn db_error(error: sqlx::Error) -> crate::Error {
    DbError::from_sqlx(Database::Core, error).into()
}

/// A setting as it stands: what it is, its value, and whether an admin changed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Setting {
    pub key: String,
    pub description: String,
    pub kind: SettingKind,
    pub value: serde_json::Value,
    pub default: serde_json::Value,
    /// No value stored: the default applies.
    pub is_default: bool,
    pub updated_by: Option<Uuid>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Reads and changes the settings of [`SETTINGS`].
#[derive(Debug, Clone)]
pub struct SettingsService {
    pool: DbPool,
    clock: Arc<dyn Clock>,
}

impl SettingsService {
    pub fn new(pool: DbPool, clock: Arc<dyn Clock>) -> Self {
        SettingsService { pool, clock }
    }

    /// Every setting, in the order of [`SETTINGS`].
    pub async fn list(&self) -> Result<Vec<Setting>> {
        let stored = repo::all(&self.pool).await.map_err(db_error)?;
        Ok(SETTINGS
            .iter()
            .map(|definition| {
                let row = stored.iter().find(|(key, ..)| key == definition.key);
                setting(definition, row)
            })
            .collect())
    }

    /// One setting.
    pub async fn setting(&self, key: &str) -> Result<Setting> {
        let definition = SettingDefinition::of(key)?;
        let stored = repo::one(&self.pool, key).await.map_err(db_error)?;
        Ok(setting(definition, stored.as_ref()))
    }

    /// The value of `key` as `T`: the stored one, else the default.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<T> {
        let value = self.setting(key).await?.value;
        serde_json::from_value(value)
            .map_err(|e| SettingsError::Invalid { key: key.into(), reason: e.to_string() }.into())
    }

    /// Stores a value for `key` after checking it fits; `by` is the admin changing it.
    pub async fn set(&self, key: &str, value: serde_json::Value, by: Option<Uuid>) -> Result<Setting> {
        let definition = SettingDefinition::of(key)?;
        definition.check(&value)?;
        repo::upsert(&self.pool, key, &value, definition.description, by, self.clock.now()).await.map_err(db_error)?;
        self.setting(key).await
    }

    /// Forgets the stored value of `key`: the default applies again.
    pub async fn reset(&self, key: &str) -> Result<Setting> {
        let definition = SettingDefinition::of(key)?;
        repo::delete(&self.pool, key).await.map_err(db_error)?;
        Ok(setting(definition, None))
    }
}

/// The setting from its definition and stored row; a stored value that no longer fits (the definition changed)
/// gives way to the default.
fn setting(definition: &SettingDefinition, stored: Option<&Stored>) -> Setting {
    let default = definition.default_value();
    let usable = stored.filter(|(_, value, ..)| definition.check(&value.0).is_ok());
    if stored.is_some() && usable.is_none() {
        tracing::warn!(key = definition.key, "stored setting no longer fits its definition; using the default");
    }
    Setting {
        key: definition.key.to_string(),
        description: definition.description.to_string(),
        kind: definition.kind,
        value: usable.map_or_else(|| default.clone(), |(_, value, ..)| value.0.clone()),
        default,
        is_default: usable.is_none(),
        updated_by: usable.and_then(|(_, _, by, _)| *by),
        updated_at: usable.map(|(.., at)| *at),
    }
}
