//! Where supplier files come from, each source turning a new file into an import job once: a watched folder
//! ([`FolderSource`]), FTP servers ([`FtpSource`]) and IMAP mailboxes ([`EmailSource`]).

mod email;
mod folder;
mod ftp;

pub use email::{EmailSettings, EmailSource};
pub use folder::{FolderSettings, FolderSource, RunningFolderSource};
pub use ftp::{FtpSettings, FtpSource};

use serde::de::DeserializeOwned;

use super::{ImportError, SourceKind};

/// File name extensions taken by default: the catalog formats and ZIP.
pub(crate) fn default_extensions() -> Vec<String> {
    ["csv", "tsv", "txt", "xlsx", "xls", "ods", "zip"].map(String::from).to_vec()
}

/// Whether a source takes the file `name`: not hidden, and one of `extensions` (case-insensitively).
pub(crate) fn wanted_file(extensions: &[String], name: &str) -> bool {
    let extension = std::path::Path::new(name).extension().and_then(|e| e.to_str()).unwrap_or_default();
    !name.starts_with('.') && extensions.iter().any(|wanted| wanted.eq_ignore_ascii_case(extension))
}

/// Source settings read from their JSON document, naming the setting at fault (`source_settings.port`).
pub(crate) fn settings_from_value<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, ImportError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "source_settings".to_string() } else { format!("source_settings.{path}") };
        ImportError::invalid(&field, e.into_inner().to_string())
    })
}

/// Checks `settings` fit the source `kind` (so a configuration with a typo is refused when created, not at its
/// first poll).
pub(crate) fn check_settings(kind: SourceKind, settings: &serde_json::Value) -> Result<(), ImportError> {
    match kind {
        SourceKind::Folder => FolderSettings::from_value(settings).map(|_| ()),
        SourceKind::Upload => Ok(()),
        SourceKind::Ftp | SourceKind::Ftps => FtpSettings::from_value(settings).map(|_| ()),
        SourceKind::Email => EmailSettings::from_value(settings).map(|_| ()),
    }
}
