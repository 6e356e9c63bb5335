//! What the auth service takes and gives.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AuthError;

/// A user; the password hash never leaves the repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub is_active: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user to create.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub password: String,
    /// Role names granted at once.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A role and its permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Role {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub is_builtin: bool,
    pub permissions: Vec<String>,
}

/// A custom role to create.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewRole {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub permissions: Vec<String>,
}

/// What a successful sign-in or refresh hands out (the body of `POST /api/v1/auth/login`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds the access token is valid.
    pub expires_in: u64,
    /// Always `Bearer`.
    pub token_type: String,
}

/// Where a request comes from: recorded with sessions and security events, and the key of the per-address lockout.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// Who is calling, as established from a token, and what they may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub email: String,
    pub permissions: BTreeSet<String>,
    /// The API key used, when the caller is an integration rather than a signed-in user.
    pub api_key_id: Option<Uuid>,
}

impl Principal {
    /// Whether the caller holds `permission`.
    pub fn can(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }

    /// `Ok` when the caller holds `permission`, else [`AuthError::Forbidden`] naming it.
    pub fn require(&self, permission: &str) -> Result<(), AuthError> {
        if self.can(permission) { Ok(()) } else { Err(AuthError::Forbidden { permission: permission.to_string() }) }
    }
}

/// An API key for an integration, acting for its user within its scopes. The secret is shown once, at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// The key's first characters, stored in clear to recognise it (`pmk_ab12cd34`).
    pub prefix: String,
    /// Permission codes the key may use (and its user must hold).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub scopes: sqlx::types::Json<Vec<String>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// An API key to create.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    pub user_id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key just created: the only time its secret is seen.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    pub secret: String,
}

impl crate::catalog::Listed for User {
    fn listing_key(&self) -> (&str, Uuid) {
        (&self.email, self.id)
    }
}

impl crate::catalog::Listed for ApiKey {
    fn listing_key(&self) -> (&str, Uuid) {
        (&self.name, self.id)
    }
}
