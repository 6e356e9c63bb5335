//! Who may do what: users, roles and `domain:action` permissions, passwords, sign-in with lockout, and tokens —
//! [`AuthService`].
//!
//! - Passwords are argon2id PHC strings with OWASP's parameters (19 MiB, 2 passes, 1 lane), hashed off the async
//!   threads. An unknown e-mail is checked against a dummy hash, so a guesser cannot tell it from a wrong password by
//!   the time the answer takes.
//! - Sign-in is refused for a while after repeated failures on one account or from one client address (the
//!   address gets four times the account's allowance: an office shares one); each further failure doubles the wait,
//!   up to an hour.
//! - Access tokens are short-lived JWTs (HS256) naming the user; the permissions are read when a token is checked,
//!   so a revoked role takes effect at once. Refresh tokens are random, stored only as SHA-256, and replaced at each
//!   use; presenting a replaced one again means it was stolen, and revokes its whole family.
//! - API keys (`pmk_…`) act for their user within their scopes; only their SHA-256 is stored.
//! - [`SecretBox`] seals the credentials the product keeps (AES-256-GCM under the master key).
//!
//! ```no_run
//! # async fn demo(sdk: productsmanager_core::Sdk) -> productsmanager_core::Result<()> {
//! use productsmanager_core::auth::{ClientInfo, NewUser};
//!
//! let auth = sdk.auth();
//! auth.create_user(NewUser {
//!     email: "ana@example.com".into(),
//!     display_name: Some("Ana".into()),
//!     password: "correct horse battery".into(),
//!     roles: vec!["catalog_manager".into()],
//! })
//! .await?;
//! let tokens = auth.login("ana@example.com", "correct horse battery", &ClientInfo::default()).await?;
//! let who = auth.authenticate(&tokens.access_token).await?;
//! assert!(who.can("catalog:write"));
//! # Ok(()) }
//! ```

mod error;
mod model;
mod password;
mod permissions;
mod repo;
mod secrets;
mod service;
mod token;

pub use error::AuthError;
pub use model::{ApiKey, ClientInfo, CreatedApiKey, NewApiKey, NewRole, NewUser, Principal, Role, TokenPair, User};
pub use permissions::{BUILTIN_ROLES, PERMISSIONS};
pub use secrets::SecretBox;
pub use service::{AuthService, CallerCache, FirstAdmin};
pub use token::TokenKey;

/// A random password of 24 characters (144 bits), for a first admin or a reset.
pub fn generate_password() -> Result<String, AuthError> {
    token::random_text(18)
}
