//! [`ImportError`].

use crate::storage::StorageError;

/// Why an import operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A field of the input is unusable.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The value is already used where it must be unique.
    #[error("{field}: {value:?} is already used")]
    Duplicate { field: &'static str, value: String },
    /// No such import configuration (or file).
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    /// A source (folder, FTP server, mailbox) could not be read.
    #[error("import source {config:?}: {reason}")]
    Source { config: String, reason: String },
    /// The file cannot be imported: unreadable, or broken at the line and column named.
    #[error(transparent)]
    File(#[from] crate::imports::parse::ParseError),
    /// The file could not be stored.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ImportError {
    /// A field of the input is unusable.
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        ImportError::Invalid { field: field.to_string(), reason: reason.into() }
    }
}

/// A failed query on the imports database, named.
pub(super) fn db_error(error: sqlx::Error) -> crate::Error {
    crate::db::DbError::from_sqlx(crate::db::Database::Imports, error).into()
}

/// A failed query on the catalog database (where imports write), named.
pub(super) fn catalog_db_error(error: sqlx::Error) -> crate::Error {
    crate::db::DbError::from_sqlx(crate::db::Database::Catalog, error).into()
}
