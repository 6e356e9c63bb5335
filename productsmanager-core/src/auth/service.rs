//! [`AuthService`].

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::repo::{self, AuditEvent, NewRefresh, Sessions};
use super::token::{self, AccessClaims, TokenKey};
use super::{
    ApiKey, AuthError, ClientInfo, CreatedApiKey, NewApiKey, NewRole, NewUser, Principal, Role, TokenPair, User,
    password, permissions,
};
use crate::Result;
use crate::config::AuthConfig;
use crate::db::{Database, DbError, DbPool};
use crate::jobs::Clock;

/// The longest lockout, however many failures.
const MAX_LOCKOUT_SECS: u64 = 3600;

/// What every API key starts with: tells it from an access token, and makes a leaked one recognisable.
const API_KEY_PREFIX: &str = "pmk_";

/// An API key's last use is recorded at most this often (seconds): not a write per request.
const KEY_USE_RESOLUTION_SECS: i64 = 60;

/// An address gets this many times an account's allowance of failures (an office, a mobile carrier's NAT).
const ADDRESS_ALLOWANCE: i64 = 4;

fn db_error(error: sqlx::Error) -> crate::Error {
    DbError::from_sqlx(Database::Core, error).into()
}

/// The first admin, created when no user existed.
#[derive(Debug, Clone)]
pub struct FirstAdmin {
    pub user: User,
    /// The password generated for it (when none was configured): shown once, never stored in clear.
    pub generated_password: Option<String>,
}

/// Users, roles, sign-in and tokens, on the core database. See the [module documentation](super).
#[derive(Debug, Clone)]
pub struct AuthService {
    pool: DbPool,
    key: Arc<TokenKey>,
    settings: AuthConfig,
    clock: Arc<dyn Clock>,
    callers: CallerCache,
}

/// Callers recently authenticated, by the SHA-256 of their credential, with the credential's expiry: spares
/// [`AuthService::authenticate`] its lookups (session, user, permissions) on every request. An entry lives
/// `auth.caller_cache_secs`; any change to sessions, API keys, users or roles made through this process empties
/// the cache, so it takes effect here at once, and on other processes within that time. Shared by the services
/// of one SDK.
#[derive(Debug, Clone, Default)]
pub struct CallerCache(Option<moka::future::Cache<[u8; 32], Remembered>>);

/// A remembered caller and when its credential expires.
type Remembered = (Principal, Option<DateTime<Utc>>);

impl CallerCache {
    /// A cache keeping callers `secs` seconds (0: no cache).
    pub fn new(secs: u64) -> Self {
        CallerCache((secs > 0).then(|| {
            moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_secs(secs))
                .build()
        }))
    }

    fn forget_all(&self) {
        if let Some(cache) = &self.0 {
            cache.invalidate_all();
        }
    }
}

/// A trimmed, plausible e-mail address (delivery is what really validates one).
fn valid_email(email: &str) -> std::result::Result<String, AuthError> {
    let email = email.trim();
    let plausible = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !email.contains(char::is_whitespace)
        }
        None => false,
    };
    if !plausible || email.len() > 320 {
        return Err(AuthError::invalid("email", format!("{email:?} is not an e-mail address")));
    }
    Ok(email.to_string())
}

/// Seconds to wait after `failures` in a row, past `threshold`: the first lockout, doubled at each further failure.
fn lockout_secs(failures: i64, threshold: i64, first: u64) -> Option<u64> {
    if failures < threshold {
        return None;
    }
    let doublings = u32::try_from(failures - threshold).unwrap_or(u32::MAX).min(20);
    Some(first.saturating_mul(1_u64 << doublings).min(MAX_LOCKOUT_SECS))
}

/// Whole seconds until `until`, rounded up (a client told to come back sooner would be refused again).
fn retry_after(until: DateTime<Utc>, now: DateTime<Utc>) -> Option<u64> {
    let millis = (until - now).num_milliseconds();
    (millis > 0).then(|| u64::try_from((millis + 999) / 1000).unwrap_or(1))
}

/// Runs argon2 on a blocking thread: it takes tens of milliseconds of CPU and 19 MiB by design.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AuthError::Key { path: "(password hashing)".into(), reason: e.to_string() }.into())
}

impl AuthService {
    /// The service over the core database's pool, signing with `key`, on `clock`.
    pub fn new(pool: DbPool, key: Arc<TokenKey>, settings: AuthConfig, clock: Arc<dyn Clock>) -> Self {
        AuthService { pool, key, settings, clock, callers: CallerCache::default() }
    }

    /// The same service remembering authenticated callers in `callers`.
    pub fn with_caller_cache(mut self, callers: CallerCache) -> Self {
        self.callers = callers;
        self
    }

    /// Creates the permissions and built-in roles that are missing (run on every start; idempotent).
    pub async fn ensure_builtin_roles(&self) -> Result<()> {
        let roles: Vec<(&str, &str, Vec<&str>)> = permissions::BUILTIN_ROLES
            .iter()
            .map(|(name, description, granted)| (*name, *description, permissions::builtin_permissions(granted)))
            .collect();
        repo::seed(&self.pool, permissions::PERMISSIONS, &roles, self.clock.now()).await.map_err(db_error)
    }

    /// When no user exists, creates the admin of `auth.admin_email` with `auth.admin_password`, or with a generated
    /// password returned once. `None` when users exist.
    pub async fn bootstrap_admin(&self) -> Result<Option<FirstAdmin>> {
        self.ensure_builtin_roles().await?;
        if repo::count_users(&self.pool).await.map_err(db_error)? > 0 {
            return Ok(None);
        }
        let (password, generated) = match &self.settings.admin_password {
            Some(password) => (password.clone(), None),
            None => {
                let password = super::generate_password()?;
                (password.clone(), Some(password))
            }
        };
        let input = NewUser {
            email: self.settings.admin_email.clone(),
            display_name: Some("Administrator".into()),
            password,
            roles: vec!["admin".into()],
        };
        match self.create_user(input).await {
            Ok(user) => Ok(Some(FirstAdmin { user, generated_password: generated })),
            // Another process bootstrapped meanwhile.
            Err(crate::Error::Auth(AuthError::Duplicate { .. })) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates a user with the given roles. The e-mail is unique whatever its case.
    pub async fn create_user(&self, input: NewUser) -> Result<User> {
        let email = valid_email(&input.email)?;
        password::check_strength(&input.password, self.settings.password_min_length)?;
        let display_name = input.display_name.unwrap_or_default().trim().to_string();
        if display_name.chars().count() > 200 {
            return Err(AuthError::invalid("display_name", "must be at most 200 characters").into());
        }
        let mut roles = Vec::with_capacity(input.roles.len());
        for name in &input.roles {
            roles.push(self.role_id(name).await?);
        }
        let secret = input.password;
        let hash = blocking(move || password::hash(&secret)).await??;
        let now = self.clock.now();
        let user = User {
            id: Uuid::now_v7(),
            email: email.clone(),
            display_name,
            is_active: true,
            last_login_at: None,
            created_at: now,
            updated_at: now,
        };
        repo::insert_user(&self.pool, &user, &hash, now).await.map_err(|e| {
            if DbError::unique_violation(&e).is_some() {
                AuthError::Duplicate { entity: "user", value: email.clone() }.into()
            } else {
                db_error(e)
            }
        })?;
        for role in roles {
            repo::grant_role(&self.pool, user.id, role, None, now).await.map_err(db_error)?;
        }
        self.audit(AuditEvent {
            actor: None,
            action: "user_created",
            entity: Some(("user", user.id)),
            address: None,
            user_agent: None,
            details: Some(serde_json::json!({ "email": user.email, "roles": input.roles })),
        })
        .await;
        Ok(user)
    }

    /// Every user, by e-mail.
    pub async fn users(&self) -> Result<Vec<User>> {
        repo::all_users(&self.pool).await.map_err(db_error)
    }

    /// The user with this id.
    pub async fn user(&self, id: Uuid) -> Result<User> {
        repo::user_by_id(&self.pool, id).await.map_err(db_error)?.ok_or_else(|| AuthError::not_found("user", id).into())
    }

    /// The user with this id or e-mail (any case): what the CLI takes.
    pub async fn find_user(&self, id_or_email: &str) -> Result<User> {
        let found = match Uuid::parse_str(id_or_email.trim()) {
            Ok(id) => repo::user_by_id(&self.pool, id).await,
            Err(_) => repo::user_by_email(&self.pool, id_or_email.trim()).await,
        };
        found.map_err(db_error)?.ok_or_else(|| AuthError::not_found("user", id_or_email).into())
    }

    /// Sets a new password and signs the user out everywhere.
    pub async fn set_password(&self, user: Uuid, new_password: &str) -> Result<()> {
        password::check_strength(new_password, self.settings.password_min_length)?;
        let secret = new_password.to_string();
        let hash = blocking(move || password::hash(&secret)).await??;
        let now = self.clock.now();
        if !repo::set_password(&self.pool, user, &hash, now).await.map_err(db_error)? {
            return Err(AuthError::not_found("user", user).into());
        }
        repo::revoke(&self.pool, Sessions::OfUser(user), "password changed", now).await.map_err(db_error)?;
        self.callers.forget_all();
        self.audit(self.event(None, "password_changed", user)).await;
        Ok(())
    }

    /// Activates or deactivates a user; deactivating signs them out everywhere.
    pub async fn set_active(&self, user: Uuid, active: bool) -> Result<()> {
        let now = self.clock.now();
        if !repo::set_active(&self.pool, user, active, now).await.map_err(db_error)? {
            return Err(AuthError::not_found("user", user).into());
        }
        if !active {
            repo::revoke(&self.pool, Sessions::OfUser(user), "user deactivated", now).await.map_err(db_error)?;
            self.callers.forget_all();
        }
        self.audit(self.event(None, if active { "user_activated" } else { "user_deactivated" }, user)).await;
        Ok(())
    }

    /// Every role with its permissions, by name.
    pub async fn roles(&self) -> Result<Vec<Role>> {
        let rows = repo::all_roles(&self.pool).await.map_err(db_error)?;
        let mut granted: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (role, code) in repo::role_permissions(&self.pool).await.map_err(db_error)? {
            granted.entry(role).or_default().push(code);
        }
        Ok(rows
            .into_iter()
            .map(|(id, name, description, is_builtin)| Role {
                id,
                permissions: granted.remove(&name).unwrap_or_default(),
                name,
                description,
                is_builtin,
            })
            .collect())
    }

    /// Creates a custom role from known permissions.
    pub async fn create_role(&self, input: NewRole) -> Result<Role> {
        let name = input.name.trim().to_string();
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !name_ok {
            return Err(AuthError::invalid("name", "1 to 64 characters among a-z, 0-9, '_' and '-'").into());
        }
        let mut codes: Vec<String> = input.permissions.iter().map(|c| c.trim().to_string()).collect();
        codes.sort();
        codes.dedup();
        if let Some(unknown) = codes.iter().find(|c| !permissions::is_permission(c)) {
            return Err(AuthError::invalid("permissions", format!("unknown permission {unknown:?}")).into());
        }
        let id = Uuid::now_v7();
        let description = input.description.trim().to_string();
        let now = self.clock.now();
        if !repo::insert_role(&self.pool, id, &name, &description, &codes, now).await.map_err(db_error)? {
            return Err(AuthError::Duplicate { entity: "role", value: name }.into());
        }
        self.audit(AuditEvent {
            details: Some(serde_json::json!({ "name": name, "permissions": codes })),
            ..self.event(None, "role_created", id)
        })
        .await;
        Ok(Role { id, name, description, is_builtin: false, permissions: codes })
    }

    /// Deletes a custom role (users holding it lose it).
    pub async fn delete_role(&self, name: &str) -> Result<()> {
        let (id, name, _, builtin) = self.role(name).await?;
        if builtin {
            return Err(AuthError::BuiltinRole { role: name }.into());
        }
        repo::delete_role(&self.pool, id).await.map_err(db_error)?;
        self.callers.forget_all();
        self.audit(self.event(None, "role_deleted", id)).await;
        Ok(())
    }

    /// Gives a user a role (no change when they have it).
    pub async fn grant(&self, user: Uuid, role: &str, by: Option<Uuid>) -> Result<()> {
        let role_id = self.role_id(role).await?;
        self.user(user).await?;
        repo::grant_role(&self.pool, user, role_id, by, self.clock.now()).await.map_err(db_error)?;
        self.callers.forget_all();
        self.audit(AuditEvent {
            details: Some(serde_json::json!({ "role": role })),
            ..self.event(by, "role_granted", user)
        })
        .await;
        Ok(())
    }

    /// Takes a role from a user; `NotFound` when they did not have it.
    pub async fn revoke(&self, user: Uuid, role: &str, by: Option<Uuid>) -> Result<()> {
        let role_id = self.role_id(role).await?;
        if !repo::revoke_role(&self.pool, user, role_id).await.map_err(db_error)? {
            return Err(AuthError::not_found("role grant", format!("{role} of user {user}")).into());
        }
        self.callers.forget_all();
        self.audit(AuditEvent {
            details: Some(serde_json::json!({ "role": role })),
            ..self.event(by, "role_revoked", user)
        })
        .await;
        Ok(())
    }

    /// The names of a user's roles.
    pub async fn roles_of(&self, user: Uuid) -> Result<Vec<String>> {
        repo::roles_of_user(&self.pool, user).await.map_err(db_error)
    }

    /// The role names of every user who has any, in one query (a listing of users with their roles).
    pub async fn roles_of_every_user(&self) -> Result<std::collections::HashMap<Uuid, Vec<String>>> {
        let pairs = repo::roles_of_every_user(&self.pool).await.map_err(db_error)?;
        let mut roles: std::collections::HashMap<Uuid, Vec<String>> = std::collections::HashMap::new();
        for (user, role) in pairs {
            roles.entry(user).or_default().push(role);
        }
        Ok(roles)
    }

    /// Everything a user's roles allow.
    pub async fn permissions_of(&self, user: Uuid) -> Result<BTreeSet<String>> {
        Ok(repo::permissions_of_user(&self.pool, user).await.map_err(db_error)?.into_iter().collect())
    }

    /// Signs in with e-mail and password: a new access token and the first refresh token of a new family.
    pub async fn login(&self, email: &str, password: &str, client: &ClientInfo) -> Result<TokenPair> {
        let now = self.clock.now();
        let address = client.address.as_deref();
        if let Some(address) = address
            && let Some(until) = repo::address_lock(&self.pool, address).await.map_err(db_error)?
            && let Some(retry_after_secs) = retry_after(until, now)
        {
            return Err(AuthError::Locked { retry_after_secs }.into());
        }
        let state = repo::sign_in_state(&self.pool, email.trim()).await.map_err(db_error)?;
        let Some((user, hash, active, _, locked_until)) = state else {
            // An address no account has is answered as a known one would be — the same refusal, the same work,
            // locked after as many failures — so that sign-in does not tell which accounts exist.
            let key = format!("account:{}", email.trim().to_lowercase());
            if let Some(until) = repo::address_lock(&self.pool, &key).await.map_err(db_error)?
                && let Some(retry_after_secs) = retry_after(until, now)
            {
                return Err(AuthError::Locked { retry_after_secs }.into());
            }
            let attempt = password.to_string();
            blocking(move || password::verify_nothing(&attempt)).await?;
            let failures = repo::address_failed(&self.pool, &key, now).await.map_err(db_error)?;
            if let Some(secs) = lockout_secs(failures, self.threshold(), self.settings.lockout_secs) {
                repo::lock_address(&self.pool, &key, now + Duration::seconds(secs as i64)).await.map_err(db_error)?;
            }
            self.address_failed(address, now).await?;
            return Err(AuthError::InvalidCredentials.into());
        };
        if let Some(retry_after_secs) = locked_until.and_then(|until| retry_after(until, now)) {
            return Err(AuthError::Locked { retry_after_secs }.into());
        }
        let attempt = password.to_string();
        let matches = blocking(move || password::verify(&attempt, &hash)).await?;
        if !matches {
            let failures = repo::user_failed(&self.pool, user).await.map_err(db_error)?;
            let threshold = self.threshold();
            if let Some(secs) = lockout_secs(failures, threshold, self.settings.lockout_secs) {
                repo::lock_user(&self.pool, user, now + Duration::seconds(secs as i64)).await.map_err(db_error)?;
                self.audit(AuditEvent {
                    details: Some(serde_json::json!({ "failures": failures, "seconds": secs })),
                    ..self.event_from(client, Some(user), "account_locked", user)
                })
                .await;
            }
            self.address_failed(address, now).await?;
            self.audit(self.event_from(client, Some(user), "login_failed", user)).await;
            return Err(AuthError::InvalidCredentials.into());
        }
        if !active {
            self.audit(self.event_from(client, Some(user), "login_inactive", user)).await;
            return Err(AuthError::InvalidCredentials.into());
        }
        repo::user_signed_in(&self.pool, user, now).await.map_err(db_error)?;
        if let Some(address) = address {
            repo::address_signed_in(&self.pool, address).await.map_err(db_error)?;
        }
        let (refresh_token, hash) = token::new_refresh_token()?;
        let family = Uuid::now_v7();
        let stored = self.new_refresh(user, family, &hash, client, now);
        repo::insert_refresh(&self.pool, &stored, now).await.map_err(db_error)?;
        self.audit(self.event_from(client, Some(user), "login", user)).await;
        self.pair(user, family, refresh_token, now)
    }

    /// Trades a refresh token for a new pair. The old one is spent; spent once more, it revokes the family.
    pub async fn refresh(&self, refresh_token: &str, client: &ClientInfo) -> Result<TokenPair> {
        let now = self.clock.now();
        let hash = token::digest(refresh_token.trim());
        let stored = repo::refresh_by_hash(&self.pool, &hash).await.map_err(db_error)?;
        let Some((id, user, family, expires_at, replaced_by, revoked_at)) = stored else {
            return Err(AuthError::InvalidToken { reason: "unknown refresh token" }.into());
        };
        if replaced_by.is_some() {
            return Err(self.reused(user, family, client, now).await);
        }
        if revoked_at.is_some() {
            return Err(AuthError::InvalidToken { reason: "revoked" }.into());
        }
        if expires_at <= now {
            return Err(AuthError::InvalidToken { reason: "expired" }.into());
        }
        match repo::user_by_id(&self.pool, user).await.map_err(db_error)? {
            Some(found) if found.is_active => {}
            _ => return Err(AuthError::InvalidToken { reason: "the user is inactive" }.into()),
        }
        let (next_token, next_hash) = token::new_refresh_token()?;
        let next = self.new_refresh(user, family, &next_hash, client, now);
        if !repo::rotate_refresh(&self.pool, id, &next, now).await.map_err(db_error)? {
            // Used twice at the same moment: one of the two holders is not the user.
            return Err(self.reused(user, family, client, now).await);
        }
        self.pair(user, family, next_token, now)
    }

    /// Signs out the sign-in a refresh token belongs to (its access tokens stop working too).
    pub async fn logout(&self, refresh_token: &str) -> Result<()> {
        let now = self.clock.now();
        let stored = repo::refresh_by_hash(&self.pool, &token::digest(refresh_token.trim())).await.map_err(db_error)?;
        let Some((_, user, family, ..)) = stored else {
            return Err(AuthError::InvalidToken { reason: "unknown refresh token" }.into());
        };
        repo::revoke(&self.pool, Sessions::Family(family), "signed out", now).await.map_err(db_error)?;
        self.callers.forget_all();
        self.audit(self.event(Some(user), "logout", user)).await;
        Ok(())
    }

    /// Creates an API key acting for a user within `scopes` (permission codes); its secret is returned this once
    /// and only its SHA-256 is stored.
    pub async fn create_api_key(&self, input: NewApiKey, by: Option<Uuid>) -> Result<CreatedApiKey> {
        let name = input.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AuthError::invalid("name", "1 to 100 characters").into());
        }
        let mut scopes: Vec<String> = input.scopes.iter().map(|s| s.trim().to_string()).collect();
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(AuthError::invalid("scopes", "name at least one permission").into());
        }
        if let Some(unknown) = scopes.iter().find(|s| !permissions::is_permission(s)) {
            return Err(AuthError::invalid("scopes", format!("unknown permission {unknown:?}")).into());
        }
        let now = self.clock.now();
        if input.expires_at.is_some_and(|at| at <= now) {
            return Err(AuthError::invalid("expires_at", "must be in the future").into());
        }
        let user = self.user(input.user_id).await?;
        let prefix = format!("{API_KEY_PREFIX}{}", token::random_text(6)?);
        let secret = format!("{prefix}.{}", token::random_text(32)?);
        let key = ApiKey {
            id: Uuid::now_v7(),
            user_id: user.id,
            name,
            prefix,
            scopes: sqlx::types::Json(scopes),
            expires_at: input.expires_at,
            last_used_at: None,
            revoked_at: None,
            created_at: now,
        };
        repo::insert_api_key(&self.pool, &key, &token::digest(&secret), by).await.map_err(db_error)?;
        self.audit(AuditEvent {
            details: Some(serde_json::json!({ "api_key": key.id, "prefix": key.prefix, "scopes": key.scopes.0 })),
            ..self.event(by, "api_key_created", user.id)
        })
        .await;
        Ok(CreatedApiKey { key, secret })
    }

    /// The API keys of a user, or of everyone; never their secrets.
    pub async fn api_keys(&self, user: Option<Uuid>) -> Result<Vec<ApiKey>> {
        repo::api_keys(&self.pool, user).await.map_err(db_error)
    }

    /// Revokes an API key at once; `NotFound` when there is no such live key.
    pub async fn revoke_api_key(&self, id: Uuid, by: Option<Uuid>) -> Result<()> {
        if !repo::revoke_api_key(&self.pool, id, self.clock.now()).await.map_err(db_error)? {
            return Err(AuthError::not_found("API key", id).into());
        }
        self.callers.forget_all();
        self.audit(AuditEvent { entity: Some(("api_key", id)), ..self.event(by, "api_key_revoked", id) }).await;
        Ok(())
    }

    /// Who a bearer credential belongs to and what they may do: an access token (refused when forged, expired or
    /// signed out) or an API key (refused when unknown, revoked or expired; it may do what its scopes name and its
    /// user still holds). Refused too when the user is inactive.
    pub async fn authenticate(&self, bearer: &str) -> Result<Principal> {
        let bearer = bearer.trim();
        let Some(cache) = &self.callers.0 else { return self.look_up(bearer).await.map(|(caller, _)| caller) };
        let key: [u8; 32] = Sha256::digest(bearer.as_bytes()).into();
        if let Some((caller, expires)) = cache.get(&key).await
            && expires.is_none_or(|at| at > self.clock.now())
        {
            return Ok(caller);
        }
        let (caller, expires) = self.look_up(bearer).await?;
        cache.insert(key, (caller.clone(), expires)).await;
        Ok(caller)
    }

    /// [`AuthService::authenticate`] from the database: the caller, and when the credential expires.
    async fn look_up(&self, bearer: &str) -> Result<(Principal, Option<DateTime<Utc>>)> {
        if bearer.starts_with(API_KEY_PREFIX) {
            return self.authenticate_api_key(bearer).await;
        }
        let now = self.clock.now();
        let claims = self.key.verify(bearer, now)?;
        if !repo::family_live(&self.pool, claims.sid).await.map_err(db_error)? {
            return Err(AuthError::InvalidToken { reason: "signed out or revoked" }.into());
        }
        let user = match repo::user_by_id(&self.pool, claims.sub).await.map_err(db_error)? {
            Some(user) if user.is_active => user,
            _ => return Err(AuthError::InvalidToken { reason: "the user is inactive" }.into()),
        };
        let permissions = self.permissions_of(user.id).await?;
        let expires = DateTime::from_timestamp(claims.exp, 0);
        Ok((Principal { user_id: user.id, email: user.email, permissions, api_key_id: None }, expires))
    }

    async fn authenticate_api_key(&self, secret: &str) -> Result<(Principal, Option<DateTime<Utc>>)> {
        let now = self.clock.now();
        let Some(key) = repo::api_key_by_hash(&self.pool, &token::digest(secret)).await.map_err(db_error)? else {
            return Err(AuthError::InvalidToken { reason: "unknown API key" }.into());
        };
        if key.revoked_at.is_some() {
            return Err(AuthError::InvalidToken { reason: "revoked" }.into());
        }
        if key.expires_at.is_some_and(|at| at <= now) {
            return Err(AuthError::InvalidToken { reason: "expired" }.into());
        }
        let user = match repo::user_by_id(&self.pool, key.user_id).await.map_err(db_error)? {
            Some(user) if user.is_active => user,
            _ => return Err(AuthError::InvalidToken { reason: "the user is inactive" }.into()),
        };
        if key.last_used_at.is_none_or(|at| at < now - Duration::seconds(KEY_USE_RESOLUTION_SECS)) {
            repo::api_key_used(&self.pool, key.id, now).await.map_err(db_error)?;
        }
        let held = self.permissions_of(user.id).await?;
        let permissions = key.scopes.0.iter().filter(|scope| held.contains(*scope)).cloned().collect();
        Ok((Principal { user_id: user.id, email: user.email, permissions, api_key_id: Some(key.id) }, key.expires_at))
    }

    fn threshold(&self) -> i64 {
        i64::try_from(self.settings.lockout_threshold).unwrap_or(i64::MAX)
    }

    async fn address_failed(&self, address: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        let Some(address) = address else { return Ok(()) };
        let failures = repo::address_failed(&self.pool, address, now).await.map_err(db_error)?;
        let threshold = self.threshold().saturating_mul(ADDRESS_ALLOWANCE);
        if let Some(secs) = lockout_secs(failures, threshold, self.settings.lockout_secs) {
            repo::lock_address(&self.pool, address, now + Duration::seconds(secs as i64)).await.map_err(db_error)?;
        }
        Ok(())
    }

    /// Revokes the family of a reused refresh token and says so.
    async fn reused(&self, user: Uuid, family: Uuid, client: &ClientInfo, now: DateTime<Utc>) -> crate::Error {
        if let Err(e) = repo::revoke(&self.pool, Sessions::Family(family), "refresh token reused", now).await {
            return db_error(e);
        }
        self.callers.forget_all();
        self.audit(AuditEvent {
            details: Some(serde_json::json!({ "family": family })),
            ..self.event_from(client, None, "refresh_reused", user)
        })
        .await;
        AuthError::RefreshReused.into()
    }

    fn new_refresh<'a>(
        &self,
        user: Uuid,
        family: Uuid,
        hash: &'a [u8],
        client: &'a ClientInfo,
        now: DateTime<Utc>,
    ) -> NewRefresh<'a> {
        let ttl = i64::try_from(self.settings.refresh_token_ttl_secs).unwrap_or(i64::MAX);
        NewRefresh {
            id: Uuid::now_v7(),
            user,
            family,
            hash,
            expires_at: now + Duration::seconds(ttl),
            user_agent: client.user_agent.as_deref(),
            address: client.address.as_deref(),
        }
    }

    fn pair(&self, user: Uuid, family: Uuid, refresh_token: String, now: DateTime<Utc>) -> Result<TokenPair> {
        let ttl = self.settings.access_token_ttl_secs;
        let claims = AccessClaims {
            sub: user,
            sid: family,
            iat: now.timestamp(),
            exp: now.timestamp() + i64::try_from(ttl).unwrap_or(i64::MAX / 2),
        };
        Ok(TokenPair {
            access_token: self.key.sign(&claims)?,
            refresh_token,
            expires_in: ttl,
            token_type: "Bearer".into(),
        })
    }

    async fn role(&self, name: &str) -> Result<repo::RoleRow> {
        repo::role_by_name(&self.pool, name.trim())
            .await
            .map_err(db_error)?
            .ok_or_else(|| AuthError::not_found("role", name).into())
    }

    async fn role_id(&self, name: &str) -> Result<Uuid> {
        Ok(self.role(name).await?.0)
    }

    fn event<'a>(&self, actor: Option<Uuid>, action: &'a str, user: Uuid) -> AuditEvent<'a> {
        AuditEvent { actor, action, entity: Some(("user", user)), address: None, user_agent: None, details: None }
    }

    fn event_from<'a>(
        &self,
        client: &'a ClientInfo,
        actor: Option<Uuid>,
        action: &'a str,
        user: Uuid,
    ) -> AuditEvent<'a> {
        AuditEvent {
            address: client.address.as_deref(),
            user_agent: client.user_agent.as_deref(),
            ..self.event(actor, action, user)
        }
    }

    /// Records a security event; a failure to record is logged, never fails the operation.
    async fn audit(&self, event: AuditEvent<'_>) {
        if let Err(e) = repo::audit(&self.pool, &event, self.clock.now()).await {
            tracing::warn!(action = event.action, error = %e, "security event not recorded");
            metrics::counter!("audit_events_dropped_total").increment(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_double_up_to_an_hour() {
        assert_eq!(lockout_secs(4, 5, 60), None);
        assert_eq!(lockout_secs(5, 5, 60), Some(60));
        assert_eq!(lockout_secs(6, 5, 60), Some(120));
        assert_eq!(lockout_secs(8, 5, 60), Some(480));
        assert_eq!(lockout_secs(12, 5, 60), Some(3600));
        assert_eq!(lockout_secs(i64::MAX, 5, 60), Some(3600));
    }

    #[test]
    fn emails_are_trimmed_and_checked() {
        assert_eq!(valid_email("  Ana@Example.com ").unwrap(), "Ana@Example.com");
        for bad in ["", "ana", "@example.com", "ana@", "a b@example.com", "a@b@c"] {
            assert!(valid_email(bad).is_err(), "{bad:?}");
        }
        assert!(valid_email("admin@localhost").is_ok());
    }
}
