//! [`ExportError`].

use crate::storage::StorageError;

/// Why an export operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A field of the input is unusable.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// No such export job, platform or file.
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    /// The name is taken (a platform's).
    #[error("{reason}")]
    Conflict { reason: String },
    /// A sales platform cannot be reached or is down: the run is retried later.
    #[error("{reason}")]
    Unavailable { reason: String },
    /// The feed could not be written where it was asked to go.
    #[error("{path}: {reason}")]
    Output { path: String, reason: String },
    /// The file could not be stored or read back.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ExportError {
    /// A field of the input is unusable.
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        ExportError::Invalid { field: field.to_string(), reason: reason.into() }
    }
}

/// A failed query on the exports database, named.
pub(super) fn db_error(error: sqlx::Error) -> crate::Error {
    crate::db::DbError::from_sqlx(crate::db::Database::Exports, error).into()
}
