//! The SDK's error type.
//!
//! Every layer has its own `thiserror` enum carrying data (which database, which setting), and all of them fold
//! into [`Error`]. Adapters never look inside: they ask [`Error::kind`] and map the [`ErrorKind`] once — to an
//! HTTP status in `productsmanager-http`, to an exit code in the CLI.

use serde::Serialize;

use std::sync::Arc;

use crate::auth::AuthError;
use crate::cache::CacheError;
use crate::catalog::CatalogError;
use crate::config::ConfigError;
use crate::db::DbError;
use crate::exports::ExportError;
use crate::imports::ImportError;
use crate::input::InputError;
use crate::notifications::NotificationError;
use crate::settings::SettingsError;
use crate::storage::StorageError;

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, as far as a caller needs to know to react. Each variant names the HTTP status it maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The thing asked for does not exist. HTTP 404.
    NotFound,
    /// The request clashes with the current state (duplicate key, stale version). HTTP 409.
    Conflict,
    /// The input or the configuration is wrong; the message says which part. HTTP 422.
    Invalid,
    /// The input is over a size limit (bytes, pixels); the message names the limit and its setting. HTTP 413.
    TooLarge,
    /// The input is of a type not accepted (a text file sent as an image, an SVG). HTTP 415.
    Unsupported,
    /// No valid credentials. HTTP 401.
    Unauthorized,
    /// Valid credentials without the permission needed. HTTP 403.
    Forbidden,
    /// Too many requests; try again later. HTTP 429.
    RateLimited,
    /// A backing service (a database, Redis, the object store) cannot be reached. HTTP 503.
    Unavailable,
    /// A bug or an unexpected state; details are logged, never sent to a client. HTTP 500.
    Internal,
}

impl ErrorKind {
    /// Stable snake_case name, used in problem+json `type` URIs and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Invalid => "invalid",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }
}

/// Any error the SDK returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration was rejected (a setting is named in the message).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A database could not be reached, migrated or queried.
    #[error(transparent)]
    Database(#[from] DbError),
    /// Input that does not parse or does not have the expected shape.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A catalog rule refused the operation.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The cache was misconfigured or misused.
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Import(#[from] ImportError),
    /// An export refused, or its output unwritable.
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Sign-in, a token or a permission refused; an access-control change refused.
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Notification(#[from] NotificationError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// An image refused (type, size, pixels, corrupt) or missing.
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    /// A Code2ASIN request refused, or Amazon's answer to one.
    #[error(transparent)]
    Code2Asin(#[from] crate::code2asin::Code2AsinError),
    /// One error reported to several callers (they all waited for the same load).
    #[error(transparent)]
    Shared(Arc<Error>),
}

impl Error {
    /// The kind of failure, for adapters to map to a status or exit code.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) => ErrorKind::Invalid,
            Error::Database(e) => e.kind(),
            Error::Cache(CacheError::RedisUrl(_)) => ErrorKind::Invalid,
            Error::Cache(CacheError::TypeClash { .. }) => ErrorKind::Internal,
            Error::Shared(e) => e.kind(),
            Error::Input(_) => ErrorKind::Invalid,
            Error::Import(ImportError::Storage(e)) | Error::Storage(e) => storage_kind(e),
            Error::Import(ImportError::Invalid { .. } | ImportError::File(_)) => ErrorKind::Invalid,
            Error::Import(ImportError::NotFound { .. }) => ErrorKind::NotFound,
            Error::Import(ImportError::Duplicate { .. }) => ErrorKind::Conflict,
            Error::Import(ImportError::Source { .. }) => ErrorKind::Unavailable,
            Error::Export(ExportError::Storage(e)) => storage_kind(e),
            Error::Export(ExportError::Invalid { .. } | ExportError::Output { .. }) => ErrorKind::Invalid,
            Error::Export(ExportError::NotFound { .. }) => ErrorKind::NotFound,
            Error::Export(ExportError::Conflict { .. }) => ErrorKind::Conflict,
            Error::Export(ExportError::Unavailable { .. }) => ErrorKind::Unavailable,
            Error::Auth(e) => match e {
                AuthError::InvalidCredentials | AuthError::InvalidToken { .. } | AuthError::RefreshReused => {
                    ErrorKind::Unauthorized
                }
                AuthError::Locked { .. } => ErrorKind::RateLimited,
                AuthError::Forbidden { .. } => ErrorKind::Forbidden,
                AuthError::Invalid { .. } => ErrorKind::Invalid,
                AuthError::Duplicate { .. } | AuthError::BuiltinRole { .. } => ErrorKind::Conflict,
                AuthError::NotFound { .. } => ErrorKind::NotFound,
                AuthError::Key { .. } => ErrorKind::Internal,
            },
            Error::Notification(NotificationError::NotFound { .. }) => ErrorKind::NotFound,
            Error::Notification(NotificationError::Invalid { .. }) => ErrorKind::Invalid,
            Error::Settings(SettingsError::Unknown { .. }) => ErrorKind::NotFound,
            Error::Settings(SettingsError::Invalid { .. }) => ErrorKind::Invalid,
            Error::Media(e) => match e {
                crate::media::MediaError::Invalid { .. } => ErrorKind::Invalid,
                crate::media::MediaError::Unsupported { .. } => ErrorKind::Unsupported,
                crate::media::MediaError::TooLarge { .. } => ErrorKind::TooLarge,
                crate::media::MediaError::NotFound { .. } => ErrorKind::NotFound,
                crate::media::MediaError::Processing { .. } => ErrorKind::Internal,
                crate::media::MediaError::Busy { .. } => ErrorKind::Unavailable,
            },
            Error::Code2Asin(e) => {
                use crate::code2asin::{Code2AsinError as C, LookupError as L};
                match e {
                    C::Invalid { .. } => ErrorKind::Invalid,
                    C::NotFound { .. } => ErrorKind::NotFound,
                    C::Conflict { .. } => ErrorKind::Conflict,
                    C::Amazon(L::Throttled { .. }) => ErrorKind::RateLimited,
                    C::Amazon(L::Unavailable { .. }) => ErrorKind::Unavailable,
                    // Our stored credentials were refused: a setting to fix, not the caller's login.
                    C::Amazon(L::Unauthorized { .. }) => ErrorKind::Invalid,
                    C::Amazon(L::Invalid { .. }) => ErrorKind::Internal,
                }
            }
            Error::Catalog(e) => match e {
                CatalogError::Invalid { .. } => ErrorKind::Invalid,
                CatalogError::NotFound { .. } => ErrorKind::NotFound,
                CatalogError::Duplicate { .. }
                | CatalogError::VersionConflict { .. }
                | CatalogError::InUse { .. }
                | CatalogError::Conflict { .. } => ErrorKind::Conflict,
            },
        }
    }

    /// The catalog error inside, looking through [`Error::Shared`].
    pub fn as_catalog(&self) -> Option<&CatalogError> {
        match self {
            Error::Catalog(e) => Some(e),
            Error::Shared(e) => e.as_catalog(),
            _ => None,
        }
    }

    /// Seconds after which the same call may succeed, when the error says (a locked sign-in, a busy decode budget):
    /// HTTP's `Retry-After`.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Error::Auth(crate::auth::AuthError::Locked { retry_after_secs })
            | Error::Media(crate::media::MediaError::Busy { retry_after_secs, .. }) => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The input field the error is about, when there is one (for clients to show the message beside it).
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Input(e) => Some(&e.field),
            Error::Catalog(CatalogError::Invalid { field, .. }) => Some(field),
            Error::Catalog(CatalogError::Duplicate { field, .. }) => Some(field),
            // The version given is not the stored one: the client's copy is stale.
            Error::Catalog(CatalogError::VersionConflict { .. }) => Some("version"),
            Error::Import(ImportError::Invalid { field, .. }) => Some(field),
            Error::Import(ImportError::Duplicate { field, .. }) => Some(field),
            Error::Export(ExportError::Invalid { field, .. }) => Some(field),
            Error::Config(ConfigError::Setting { key, .. }) => Some(key),
            Error::Auth(crate::auth::AuthError::Invalid { field, .. }) => Some(field),
            Error::Notification(NotificationError::Invalid { field, .. }) => Some(field),
            Error::Settings(SettingsError::Invalid { .. }) => Some("value"),
            Error::Media(crate::media::MediaError::Invalid { field, .. }) => Some(field),
            Error::Code2Asin(crate::code2asin::Code2AsinError::Invalid { field, .. }) => Some(field),
            Error::Code2Asin(crate::code2asin::Code2AsinError::Amazon(
                crate::code2asin::LookupError::Unauthorized { .. },
            )) => Some("credentials"),
            Error::Media(crate::media::MediaError::TooLarge { .. } | crate::media::MediaError::Unsupported { .. }) => {
                Some("file")
            }
            Error::Shared(e) => e.field(),
            _ => None,
        }
    }
}

fn storage_kind(error: &StorageError) -> ErrorKind {
    match error {
        StorageError::NotFound { .. } => ErrorKind::NotFound,
        StorageError::InvalidKey { .. } => ErrorKind::Invalid,
        StorageError::Unavailable { .. } => ErrorKind::Unavailable,
    }
}
