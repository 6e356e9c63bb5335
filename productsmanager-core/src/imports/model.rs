//! Import configurations, taken files and their inputs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use crate::jobs::Job;

/// Where a supplier's files come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
        }
    }

    pub(super) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "upload" => SourceKind::Upload,
            "folder" => SourceKind::Folder,
            "ftp" => SourceKind::Ftp,
            "ftps" => SourceKind::Ftps,
            "email" => SourceKind::Email,
            _ => return None,
        })
    }
}

/// A login to a source. Never shown: `Debug` hides the password, the API returns only whether one is set.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct ImportConfig {
    pub id: Uuid,
    pub name: String,
    pub supplier_id: Uuid,
    pub source_kind: SourceKind,
    /// Per kind: the folder source's [`FolderSettings`](super::sources::FolderSettings), …
    pub source_settings: serde_json::Value,
    /// Whether credentials are stored (they are never returned).
    pub has_credentials: bool,
    /// Parsing options (encoding, delimiter, sheet…), for the import engine.
    pub options: serde_json::Value,
    pub is_active: bool,
    pub last_polled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An import configuration to create.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewImportConfig {
    pub name: String,
    pub supplier_id: Uuid,
    pub source_kind: SourceKind,
    #[serde(default)]
    pub source_settings: serde_json::Value,
    #[serde(default)]
    pub credentials: Option<Credentials>,
    #[serde(default)]
    pub options: serde_json::Value,
}

/// A file taken from a source (or uploaded), kept in the object store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
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
pub struct ScheduleRun {
    pub schedule: Uuid,
    pub tick: DateTime<Utc>,
    pub taken: Vec<TakenFile>,
}

/// A file a source took, and the import job created for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
            options: self.options.0,
            is_active: self.is_active,
            last_polled_at: self.last_polled_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}
