//! Errors of the catalog services.

use uuid::Uuid;

/// Why a catalog operation was refused. Each names the field or entity at fault.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CatalogError {
    /// A value breaks a rule (bad GTIN, negative price, unknown currency, a category cycle…). HTTP 422.
    #[error("`{field}`: {reason}")]
    Invalid { field: String, reason: String },
    /// Nothing with that id or key. HTTP 404.
    #[error("{entity} `{key}` not found")]
    NotFound { entity: &'static str, key: String },
    /// A unique value is taken (SKU, GTIN, slug…). HTTP 409.
    #[error("`{field}` {value:?} is already used by another {entity}")]
    Duplicate { entity: &'static str, field: &'static str, value: String },
    /// Optimistic locking: the row changed since the caller read it. HTTP 409.
    #[error("{entity} {id} was changed meanwhile (expected version {expected}, it is at {actual}); reload and retry")]
    VersionConflict { entity: &'static str, id: Uuid, expected: i64, actual: i64 },
    /// The entity cannot be removed while others refer to it. HTTP 409.
    #[error("{entity} `{key}` is still used by {users}")]
    InUse { entity: &'static str, key: String, users: String },
    /// The operation cannot be done in the entity's present state (a merge undone already, or too old). HTTP 409.
    #[error("{entity} `{key}` {reason}")]
    Conflict { entity: &'static str, key: String, reason: String },
}

impl CatalogError {
    /// A rule broken by one field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        CatalogError::Invalid { field: field.into(), reason: reason.into() }
    }

    /// No such entity.
    pub fn not_found(entity: &'static str, key: impl ToString) -> Self {
        CatalogError::NotFound { entity, key: key.to_string() }
    }
}
