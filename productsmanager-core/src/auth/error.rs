//! Errors of the auth service.

/// Why sign-in, a token or an access-control change was refused. Messages never say whether an e-mail exists.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// Unknown e-mail, wrong password or inactive user: one answer for all three. HTTP 401.
    #[error("wrong e-mail or password")]
    InvalidCredentials,
    /// Too many failed sign-ins on the account or from the address. HTTP 429 with `Retry-After`.
    #[error("too many failed sign-ins; try again in {retry_after_secs} s")]
    Locked { retry_after_secs: u64 },
    /// A token that is malformed, forged, expired, revoked or of an inactive user. HTTP 401.
    #[error("invalid token: {reason}")]
    InvalidToken { reason: &'static str },
    /// A refresh token used after it was replaced: its family is revoked, the user must sign in again. HTTP 401.
    #[error("refresh token reused after rotation; every session of that sign-in was revoked")]
    RefreshReused,
    /// Authenticated, without the permission the operation needs. HTTP 403.
    #[error("permission `{permission}` is needed")]
    Forbidden { permission: String },
    /// A value breaks a rule (short password, malformed e-mail, unknown permission). HTTP 422.
    #[error("`{field}`: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The e-mail or role name is taken. HTTP 409.
    #[error("{entity} {value:?} already exists")]
    Duplicate { entity: &'static str, value: String },
    /// No such user or role. HTTP 404.
    #[error("{entity} `{key}` not found")]
    NotFound { entity: &'static str, key: String },
    /// Built-in roles are fixed. HTTP 409.
    #[error("role `{role}` is built in and cannot be changed")]
    BuiltinRole { role: String },
    /// The token signing key cannot be read or created. HTTP 500.
    #[error("token signing key {path}: {reason}")]
    Key { path: String, reason: String },
}

impl AuthError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        AuthError::Invalid { field, reason: reason.into() }
    }

    pub(crate) fn not_found(entity: &'static str, key: impl ToString) -> Self {
        AuthError::NotFound { entity, key: key.to_string() }
    }
}
