//! Import configurations, taken files and their inputs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use crate::jobs::Job;

/// Where a supplier's files come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Sent by a user (HTTP, CLI).
    Upload,
    /// Dropped into a watched folder.
    Folder,
    /// Polled from an FTP server.
    Ftp,
    /// Polled from an FTP server over TLS.
    Ftps,
    /// Attachments of e-mails in an IMAP mailbox.
    Email,
    /// A file or feed published at a URL, fetched conditionally at each poll.
    Http,
}

impl SourceKind {
    /// Lowercase name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Upload => "upload",
            SourceKind::Folder => "folder",
            SourceKind::Ftp => "ftp",
            SourceKind::Ftps => "ftps",
            SourceKind::Email => "email",
            SourceKind::Http => "http",
        }
    }

    pub(super) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "upload" => SourceKind::Upload,
            "folder" => SourceKind::Folder,
            "ftp" => SourceKind::Ftp,
            "ftps" => SourceKind::Ftps,
            "email" => SourceKind::Email,
            "http" => SourceKind::Http,
            _ => return None,
        })
    }
}

/// A login to a source. Never shown: `Debug` hides the password, the API returns only whether one is set.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).field("password", &"***").finish()
    }
}

/// How one supplier's files are taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportConfig {
    pub id: Uuid,
    pub name: String,
    pub supplier_id: Uuid,
    pub source_kind: SourceKind,
    /// Per kind: the folder source's [`FolderSettings`](super::sources::FolderSettings), …
    pub source_settings: serde_json::Value,
    /// Whether credentials are stored (they are never returned).
    pub has_credentials: bool,
    /// The mapping template its files import with…
    pub mapping_template_id: Option<Uuid>,
    /// …or the preset (neither: `native`).
    pub preset: Option<String>,
    /// [`ImportOptions`](super::ImportOptions) of its files.
    pub options: serde_json::Value,
    pub is_active: bool,
    pub last_polled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An import configuration to create.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewImportConfig {
    pub name: String,
    pub supplier_id: Uuid,
    pub source_kind: SourceKind,
    #[serde(default)]
    pub source_settings: serde_json::Value,
    #[serde(default)]
    pub credentials: Option<Credentials>,
    /// A stored mapping template (its id)…
    #[serde(default)]
    pub mapping_template_id: Option<Uuid>,
    /// …or a preset.
    #[serde(default)]
    pub preset: Option<super::mapping::Preset>,
    #[serde(default)]
    pub options: serde_json::Value,
}

/// A file taken from a source (or uploaded), kept in the object store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportFile {
    pub id: Uuid,
    pub import_config_id: Option<Uuid>,
    pub supplier_id: Option<Uuid>,
    pub name: String,
    pub size_bytes: i64,
    /// Lowercase hex.
    pub sha256: String,
    pub object_key: String,
    pub source_kind: String,
    /// What identifies the file at its source (name, size and modification time; message id and attachment).
    pub source_fingerprint: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// When a configuration's source is polled besides its periodic task: a cron expression (UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportSchedule {
    pub id: Uuid,
    pub import_config_id: Uuid,
    pub cron: String,
    /// `UTC` (the only one so far).
    pub timezone: String,
    pub is_active: bool,
    /// The next tick; the `run_import_schedules` task (every 5 minutes) runs schedules whose tick has come.
    pub next_run_at: Option<DateTime<Utc>>,
    pub last_run_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// One run of a schedule: the tick it ran for and the files its source gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleRun {
    pub schedule: Uuid,
    pub tick: DateTime<Utc>,
    pub taken: Vec<TakenFile>,
}

/// A file a source took, and the import job created for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TakenFile {
    pub file: ImportFile,
    pub job: Job,
}

/// An `import_configs` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct ConfigRow {
    pub id: Uuid,
    pub name: String,
    pub supplier_id: Uuid,
    pub source_kind: String,
    pub source_settings: Json<serde_json::Value>,
    pub credentials_encrypted: Option<Vec<u8>>,
    pub mapping_template_id: Option<Uuid>,
    pub preset: Option<String>,
    pub options: Json<serde_json::Value>,
    pub is_active: bool,
    pub last_polled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ConfigRow {
    pub(super) fn into_config(self) -> ImportConfig {
        ImportConfig {
            id: self.id,
            name: self.name,
            supplier_id: self.supplier_id,
            source_kind: SourceKind::parse(&self.source_kind).unwrap_or(SourceKind::Upload),
            source_settings: self.source_settings.0,
            has_credentials: self.credentials_encrypted.is_some(),
            mapping_template_id: self.mapping_template_id,
            preset: self.preset,
            options: self.options.0,
            is_active: self.is_active,
            last_polled_at: self.last_polled_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// An import job: what it imports, how far it got, what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportJob {
    pub id: Uuid,
    pub state: crate::jobs::JobState,
    /// What became of the rows: `succeeded`, `completed_with_errors` (rows refused, no more than the
    /// `imports.failed_above_refused_percent` setting), `failed` (more, or the job failed), `cancelled`, or `pending`
    /// while not over. A job that ran to its end refusing rows is `succeeded` in `state`, not here.
    pub outcome: super::ImportOutcome,
    pub supplier_id: Uuid,
    pub import_config_id: Option<Uuid>,
    pub file_id: Option<Uuid>,
    pub mapping_template_id: Option<Uuid>,
    pub preset: Option<String>,
    pub dry_run: bool,
    pub force: bool,
    /// [`ImportOptions`](super::ImportOptions), as given.
    pub options: serde_json::Value,
    /// Counters, updated after each batch.
    pub progress: super::ImportProgress,
    /// Object-store key of the errors CSV, once finished with refused rows.
    pub error_report_key: Option<String>,
    pub summary: Option<super::ImportSummary>,
    pub last_error: Option<String>,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The user who uploaded it (over the API), told when it ends.
    pub requested_by: Option<Uuid>,
}

/// A stored mapping template: one version of a named template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingTemplate {
    pub id: Uuid,
    pub name: String,
    /// 1 for the first; saving a template under an existing name adds the next version (jobs keep the version
    /// they ran with).
    pub version: i32,
    pub description: String,
    pub definition: super::mapping::Template,
    /// The supplier it was written for, if any (any supplier may use it).
    pub supplier_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// A mapping template to save (a new version when the name exists).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewMappingTemplate {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub definition: super::mapping::Template,
    #[serde(default)]
    pub supplier_id: Option<Uuid>,
}

/// A `mapping_templates` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct TemplateRow {
    pub id: Uuid,
    pub name: String,
    pub version: i32,
    pub description: String,
    pub definition: Json<serde_json::Value>,
    pub supplier_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl TemplateRow {
    pub(super) fn into_template(self) -> Result<MappingTemplate, super::ImportError> {
        let definition = serde_json::from_value(self.definition.0).map_err(|e| {
            super::ImportError::invalid(
                "definition",
                format!("stored template {} v{} is unreadable: {e}", self.name, self.version),
            )
        })?;
        Ok(MappingTemplate {
            id: self.id,
            name: self.name,
            version: self.version,
            description: self.description,
            definition,
            supplier_id: self.supplier_id,
            created_at: self.created_at,
        })
    }
}

impl crate::catalog::Listed for ImportConfig {
    fn listing_key(&self) -> (&str, Uuid) {
        (&self.name, self.id)
    }
}

impl crate::catalog::Listed for MappingTemplate {
    fn listing_key(&self) -> (&str, Uuid) {
        (&self.name, self.id)
    }
}
