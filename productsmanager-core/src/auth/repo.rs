//! Auth SQL on the core database, written once for both backends.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::User;
use crate::db::DbPool;
use crate::with_pool;

const INSERT_USER: &str = "insert into users (id, email, display_name, password_hash, is_active, \
     password_changed_at, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6, $6)";

const USER_BY_ID: &str =
    "select id, email, display_name, is_active, last_login_at, created_at, updated_at from users where id = $1";

const USER_BY_EMAIL: &str = "select id, email, display_name, is_active, last_login_at, created_at, updated_at \
     from users where lower(email) = lower($1)";

const ALL_USERS: &str = "select id, email, display_name, is_active, last_login_at, created_at, updated_at \
     from users order by lower(email)";

const COUNT_USERS: &str = "select count(*) from users";

const SIGN_IN_STATE: &str = "select id, password_hash, is_active, failed_login_count, locked_until \
     from users where lower(email) = lower($1)";

const SET_PASSWORD: &str =
    "update users set password_hash = $2, password_changed_at = $3, updated_at = $3 where id = $1";

const SET_ACTIVE: &str = "update users set is_active = $2, updated_at = $3 where id = $1";

const USER_FAILED: &str = "update users set failed_login_count = failed_login_count + 1 where id = $1 \
     returning failed_login_count";

const LOCK_USER: &str = "update users set locked_until = $2 where id = $1";

const USER_SIGNED_IN: &str =
    "update users set failed_login_count = 0, locked_until = null, last_login_at = $2 where id = $1";

// A failure more than an hour after the previous one starts the count again.
const ADDRESS_FAILED: &str = "insert into login_failures (address, failed_count, last_failed_at) values ($1, 1, $2) \
     on conflict (address) do update set failed_count = case when login_failures.last_failed_at < $3 then 1 \
     else login_failures.failed_count + 1 end, last_failed_at = excluded.last_failed_at returning failed_count";

const LOCK_ADDRESS: &str = "update login_failures set locked_until = $2 where address = $1";

const ADDRESS_LOCK: &str = "select locked_until from login_failures where address = $1";

const ADDRESS_SIGNED_IN: &str = "delete from login_failures where address = $1";

const INSERT_PERMISSION: &str = "insert into permissions (id, code, description, created_at, updated_at) \
     values ($1, $2, $3, $4, $4) on conflict (code) do update set description = excluded.description";

const INSERT_ROLE: &str = "insert into roles (id, name, description, is_builtin, created_at, updated_at) \
     values ($1, $2, $3, $4, $5, $5) on conflict (name) do nothing";

const ROLE_BY_NAME: &str = "select id, name, description, is_builtin from roles where name = $1";

const ALL_ROLES: &str = "select id, name, description, is_builtin from roles order by name";

const ROLE_PERMISSIONS: &str = "select r.name, p.code from role_permissions rp join roles r on r.id = rp.role_id \
     join permissions p on p.id = rp.permission_id order by r.name, p.code";

const GRANT_PERMISSION: &str = "insert into role_permissions (role_id, permission_id, created_at, updated_at) \
     select $1, id, $3, $3 from permissions where code = $2 on conflict do nothing";

const DELETE_ROLE: &str = "delete from roles where id = $1 and not is_builtin";

const GRANT_ROLE: &str = "insert into user_roles (user_id, role_id, granted_by, created_at, updated_at) \
     values ($1, $2, $3, $4, $4) on conflict do nothing";

const REVOKE_ROLE: &str = "delete from user_roles where user_id = $1 and role_id = $2";

const ROLES_OF_USER: &str =
    "select r.name from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = $1 order by r.name";

const ROLES_OF_EVERY_USER: &str =
    "select ur.user_id, r.name from user_roles ur join roles r on r.id = ur.role_id order by ur.user_id, r.name";

const PERMISSIONS_OF_USER: &str = "select distinct p.code from user_roles ur \
     join role_permissions rp on rp.role_id = ur.role_id join permissions p on p.id = rp.permission_id \
     where ur.user_id = $1";

const INSERT_REFRESH: &str = "insert into refresh_tokens (id, user_id, family_id, token_hash, expires_at, \
     user_agent, ip, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $8)";

const REFRESH_BY_HASH: &str = "select id, user_id, family_id, expires_at, replaced_by, revoked_at \
     from refresh_tokens where token_hash = $1";

const ROTATE_REFRESH: &str = "update refresh_tokens set replaced_by = $2, last_used_at = $3, updated_at = $3 \
     where id = $1 and replaced_by is null and revoked_at is null";

const REVOKE_FAMILY: &str = "update refresh_tokens set revoked_at = $2, revoked_reason = $3, updated_at = $2 \
     where family_id = $1 and revoked_at is null";

const REVOKE_USER_TOKENS: &str = "update refresh_tokens set revoked_at = $2, revoked_reason = $3, updated_at = $2 \
     where user_id = $1 and revoked_at is null";

const FAMILY_LIVE: &str =
    "select count(*) from refresh_tokens where family_id = $1 and revoked_at is null and replaced_by is null";

const INSERT_AUDIT: &str = "insert into audit_log (id, actor_user_id, action, entity_type, entity_id, ip, \
     user_agent, details, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// What sign-in needs of a user: (id, password hash, active, failures in a row, locked until).
pub(super) type SignInState = (Uuid, String, bool, i32, Option<DateTime<Utc>>);

/// A stored refresh token: (id, user, family, expires at, replaced by, revoked at).
pub(super) type StoredRefresh = (Uuid, Uuid, Uuid, DateTime<Utc>, Option<Uuid>, Option<DateTime<Utc>>);

/// A new user row; false when the e-mail is taken (any case).
pub(super) async fn insert_user(
    pool: &DbPool,
    user: &User,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(INSERT_USER)
        .bind(user.id)
        .bind(&user.email)
        .bind(&user.display_name)
        .bind(password_hash)
        .bind(user.is_active)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))
}

pub(super) async fn user_by_id(pool: &DbPool, id: Uuid) -> Result<Option<User>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(USER_BY_ID).bind(id).fetch_optional(p).await)
}

pub(super) async fn user_by_email(pool: &DbPool, email: &str) -> Result<Option<User>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(USER_BY_EMAIL).bind(email).fetch_optional(p).await)
}

pub(super) async fn all_users(pool: &DbPool) -> Result<Vec<User>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ALL_USERS).fetch_all(p).await)
}

pub(super) async fn count_users(pool: &DbPool) -> Result<i64, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(COUNT_USERS).fetch_one(p).await)
}

pub(super) async fn sign_in_state(pool: &DbPool, email: &str) -> Result<Option<SignInState>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(SIGN_IN_STATE).bind(email).fetch_optional(p).await)
}

/// False when no user has the id.
pub(super) async fn set_password(pool: &DbPool, id: Uuid, hash: &str, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(SET_PASSWORD)
        .bind(id)
        .bind(hash)
        .bind(now)
        .execute(p)
        .await
        .map(|done| done.rows_affected() == 1))
}

/// False when no user has the id.
pub(super) async fn set_active(pool: &DbPool, id: Uuid, active: bool, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(SET_ACTIVE)
        .bind(id)
        .bind(active)
        .bind(now)
        .execute(p)
        .await
        .map(|done| done.rows_affected() == 1))
}

/// Counts a failed sign-in on the account; returns the failures in a row.
pub(super) async fn user_failed(pool: &DbPool, id: Uuid) -> Result<i64, sqlx::Error> {
    let count: i32 = with_pool!(pool, |p| sqlx::query_scalar(USER_FAILED).bind(id).fetch_one(p).await)?;
    Ok(i64::from(count))
}

pub(super) async fn lock_user(pool: &DbPool, id: Uuid, until: DateTime<Utc>) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(LOCK_USER).bind(id).bind(until).execute(p).await.map(|_| ()))
}

pub(super) async fn user_signed_in(pool: &DbPool, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(USER_SIGNED_IN).bind(id).bind(now).execute(p).await.map(|_| ()))
}

/// Counts a failed sign-in from the address; returns the failures within the hour.
pub(super) async fn address_failed(pool: &DbPool, address: &str, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    let window_start = now - chrono::Duration::hours(1);
    let count: i32 = with_pool!(pool, |p| sqlx::query_scalar(ADDRESS_FAILED)
        .bind(address)
        .bind(now)
        .bind(window_start)
        .fetch_one(p)
        .await)?;
    Ok(i64::from(count))
}

pub(super) async fn lock_address(pool: &DbPool, address: &str, until: DateTime<Utc>) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(LOCK_ADDRESS).bind(address).bind(until).execute(p).await.map(|_| ()))
}

pub(super) async fn address_lock(pool: &DbPool, address: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let row: Option<Option<DateTime<Utc>>> =
        with_pool!(pool, |p| sqlx::query_scalar(ADDRESS_LOCK).bind(address).fetch_optional(p).await)?;
    Ok(row.flatten())
}

pub(super) async fn address_signed_in(pool: &DbPool, address: &str) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(ADDRESS_SIGNED_IN).bind(address).execute(p).await.map(|_| ()))
}

/// Creates or refreshes the built-in permissions and roles, and gives each built-in role its permissions.
pub(super) async fn seed(
    pool: &DbPool,
    permissions: &[(&str, &str)],
    roles: &[(&str, &str, Vec<&str>)],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        for (code, description) in permissions {
            sqlx::query(INSERT_PERMISSION)
                .bind(Uuid::now_v7())
                .bind(*code)
                .bind(*description)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        for (name, description, granted) in roles {
            sqlx::query(INSERT_ROLE)
                .bind(Uuid::now_v7())
                .bind(*name)
                .bind(*description)
                .bind(true)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let (role_id,): (Uuid,) =
                sqlx::query_as("select id from roles where name = $1").bind(*name).fetch_one(&mut *tx).await?;
            for code in granted {
                sqlx::query(GRANT_PERMISSION).bind(role_id).bind(*code).bind(now).execute(&mut *tx).await?;
            }
        }
        tx.commit().await
    }
    .await)
}

/// (id, name, description, built in).
pub(super) type RoleRow = (Uuid, String, String, bool);

pub(super) async fn role_by_name(pool: &DbPool, name: &str) -> Result<Option<RoleRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ROLE_BY_NAME).bind(name).fetch_optional(p).await)
}

pub(super) async fn all_roles(pool: &DbPool) -> Result<Vec<RoleRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ALL_ROLES).fetch_all(p).await)
}

/// (role name, permission code), every grant.
pub(super) async fn role_permissions(pool: &DbPool) -> Result<Vec<(String, String)>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ROLE_PERMISSIONS).fetch_all(p).await)
}

/// A custom role with its permissions, in one transaction; false when the name is taken.
pub(super) async fn insert_role(
    pool: &DbPool,
    id: Uuid,
    name: &str,
    description: &str,
    permissions: &[String],
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        let inserted = sqlx::query(INSERT_ROLE)
            .bind(id)
            .bind(name)
            .bind(description)
            .bind(false)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        for code in permissions {
            sqlx::query(GRANT_PERMISSION).bind(id).bind(code).bind(now).execute(&mut *tx).await?;
        }
        tx.commit().await.map(|_| true)
    }
    .await)
}

/// False when there is no such custom role.
pub(super) async fn delete_role(pool: &DbPool, id: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(DELETE_ROLE).bind(id).execute(p).await.map(|done| done.rows_affected() == 1))
}

pub(super) async fn grant_role(
    pool: &DbPool,
    user: Uuid,
    role: Uuid,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(GRANT_ROLE).bind(user).bind(role).bind(by).bind(now).execute(p).await.map(|_| ()))
}

/// False when the user did not have the role.
pub(super) async fn revoke_role(pool: &DbPool, user: Uuid, role: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(REVOKE_ROLE)
        .bind(user)
        .bind(role)
        .execute(p)
        .await
        .map(|done| done.rows_affected() == 1))
}

pub(super) async fn roles_of_user(pool: &DbPool, user: Uuid) -> Result<Vec<String>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(ROLES_OF_USER).bind(user).fetch_all(p).await)
}

pub(super) async fn roles_of_every_user(pool: &DbPool) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ROLES_OF_EVERY_USER).fetch_all(p).await)
}

pub(super) async fn permissions_of_user(pool: &DbPool, user: Uuid) -> Result<Vec<String>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(PERMISSIONS_OF_USER).bind(user).fetch_all(p).await)
}

/// The insert of a refresh token, ready to execute on a pool or in a transaction.
macro_rules! insert_refresh_query {
    ($token:expr, $now:expr) => {
        sqlx::query(INSERT_REFRESH)
            .bind($token.id)
            .bind($token.user)
            .bind($token.family)
            .bind($token.hash)
            .bind($token.expires_at)
            .bind($token.user_agent)
            .bind($token.address)
            .bind($now)
    };
}

/// A refresh token to store: (id, user, family, hash, expires at).
pub(super) struct NewRefresh<'a> {
    pub id: Uuid,
    pub user: Uuid,
    pub family: Uuid,
    pub hash: &'a [u8],
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<&'a str>,
    pub address: Option<&'a str>,
}

pub(super) async fn insert_refresh(
    pool: &DbPool,
    token: &NewRefresh<'_>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| insert_refresh_query!(token, now).execute(p).await.map(|_| ()))
}

pub(super) async fn refresh_by_hash(pool: &DbPool, hash: &[u8]) -> Result<Option<StoredRefresh>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(REFRESH_BY_HASH).bind(hash).fetch_optional(p).await)
}

/// Stores the successor and marks `old` replaced by it, in one transaction; false (nothing written) when `old` was
/// replaced or revoked meanwhile — a concurrent use of the same token.
pub(super) async fn rotate_refresh(
    pool: &DbPool,
    old: Uuid,
    next: &NewRefresh<'_>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        insert_refresh_query!(next, now).execute(&mut *tx).await?;
        let rotated = sqlx::query(ROTATE_REFRESH).bind(old).bind(next.id).bind(now).execute(&mut *tx).await?;
        if rotated.rows_affected() != 1 {
            return Ok(false);
        }
        tx.commit().await.map(|_| true)
    }
    .await)
}

/// Which refresh tokens to revoke.
pub(super) enum Sessions {
    /// One sign-in (refresh-token family).
    Family(Uuid),
    /// Every sign-in of a user.
    OfUser(Uuid),
}

/// Revokes the live refresh tokens of one sign-in or of a user; returns how many.
pub(super) async fn revoke(
    pool: &DbPool,
    sessions: Sessions,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let (sql, id) = match sessions {
        Sessions::Family(id) => (REVOKE_FAMILY, id),
        Sessions::OfUser(id) => (REVOKE_USER_TOKENS, id),
    };
    with_pool!(pool, |p| sqlx::query(sql)
        .bind(id)
        .bind(now)
        .bind(reason)
        .execute(p)
        .await
        .map(|done| done.rows_affected()))
}

/// Whether the sign-in (refresh family) still has a usable token: an access token of a signed-out or revoked
/// sign-in is refused before it expires.
pub(super) async fn family_live(pool: &DbPool, family: Uuid) -> Result<bool, sqlx::Error> {
    let live: i64 = with_pool!(pool, |p| sqlx::query_scalar(FAMILY_LIVE).bind(family).fetch_one(p).await)?;
    Ok(live > 0)
}

/// A security event.
pub(super) struct AuditEvent<'a> {
    pub actor: Option<Uuid>,
    pub action: &'a str,
    pub entity: Option<(&'a str, Uuid)>,
    pub address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub details: Option<serde_json::Value>,
}

pub(super) async fn audit(pool: &DbPool, event: &AuditEvent<'_>, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let details = event.details.clone().map(sqlx::types::Json);
    with_pool!(pool, |p| sqlx::query(INSERT_AUDIT)
        .bind(Uuid::now_v7())
        .bind(event.actor)
        .bind(event.action)
        .bind(event.entity.map(|e| e.0))
        .bind(event.entity.map(|e| e.1))
        .bind(event.address)
        .bind(event.user_agent)
        .bind(&details)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))
}

const INSERT_API_KEY: &str = "insert into api_keys (id, user_id, name, prefix, key_hash, scopes, expires_at, \
     created_by, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)";

const API_KEYS: &str = "select id, user_id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_at \
     from api_keys order by created_at, id";

const API_KEYS_OF_USER: &str = "select id, user_id, name, prefix, scopes, expires_at, last_used_at, revoked_at, \
     created_at from api_keys where user_id = $1 order by created_at, id";

const API_KEY_BY_HASH: &str = "select id, user_id, name, prefix, scopes, expires_at, last_used_at, revoked_at, \
     created_at from api_keys where key_hash = $1";

const REVOKE_API_KEY: &str =
    "update api_keys set revoked_at = $2, updated_at = $2 where id = $1 and revoked_at is null";

const API_KEY_USED: &str = "update api_keys set last_used_at = $2 where id = $1";

pub(super) async fn insert_api_key(
    pool: &DbPool,
    key: &super::ApiKey,
    hash: &[u8],
    created_by: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(INSERT_API_KEY)
        .bind(key.id)
        .bind(key.user_id)
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(hash)
        .bind(&key.scopes)
        .bind(key.expires_at)
        .bind(created_by)
        .bind(key.created_at)
        .execute(p)
        .await
        .map(|_| ()))
}

pub(super) async fn api_keys(pool: &DbPool, user: Option<Uuid>) -> Result<Vec<super::ApiKey>, sqlx::Error> {
    match user {
        Some(user) => with_pool!(pool, |p| sqlx::query_as(API_KEYS_OF_USER).bind(user).fetch_all(p).await),
        None => with_pool!(pool, |p| sqlx::query_as(API_KEYS).fetch_all(p).await),
    }
}

pub(super) async fn api_key_by_hash(pool: &DbPool, hash: &[u8]) -> Result<Option<super::ApiKey>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(API_KEY_BY_HASH).bind(hash).fetch_optional(p).await)
}

/// False when there is no such key or it was already revoked.
pub(super) async fn revoke_api_key(pool: &DbPool, id: Uuid, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(REVOKE_API_KEY)
        .bind(id)
        .bind(now)
        .execute(p)
        .await
        .map(|done| done.rows_affected() == 1))
}

pub(super) async fn api_key_used(pool: &DbPool, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(API_KEY_USED).bind(id).bind(now).execute(p).await.map(|_| ()))
}
