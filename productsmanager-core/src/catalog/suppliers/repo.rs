//! Supplier SQL, written once for both backends.

use uuid::Uuid;

use super::Supplier;
use crate::db::DbPool;
use crate::with_pool;

const INSERT: &str = "insert into suppliers (id, code, name, email, website_url, country, default_currency, \
     is_active, notes, settings, created_at, updated_at, priority, field_rules) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

const BY_ID: &str = "select id, code, name, email, website_url, country, default_currency, is_active, notes, \
     settings, created_at, updated_at, priority, field_rules from suppliers where id = $1";

const BY_CODE: &str = "select id, code, name, email, website_url, country, default_currency, is_active, notes, \
     settings, created_at, updated_at, priority, field_rules from suppliers where code = $1";

const ALL: &str = "select id, code, name, email, website_url, country, default_currency, is_active, notes, \
     settings, created_at, updated_at, priority, field_rules from suppliers order by lower(name), id";

const UPDATE: &str = "update suppliers set code = $2, name = $3, email = $4, website_url = $5, country = $6, \
     default_currency = $7, is_active = $8, notes = $9, settings = $10, updated_at = $11, priority = $12, \
     field_rules = $13 where id = $1";

const DELETE: &str = "delete from suppliers where id = $1";

const IDS_BY_CODE: &str = "select code, id from suppliers";

pub(super) async fn insert(pool: &DbPool, s: &Supplier) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(INSERT)
        .bind(s.id)
        .bind(&s.code)
        .bind(&s.name)
        .bind(&s.email)
        .bind(&s.website_url)
        .bind(&s.country)
        .bind(&s.default_currency)
        .bind(s.is_active)
        .bind(&s.notes)
        .bind(&s.settings)
        .bind(s.created_at)
        .bind(s.updated_at)
        .bind(s.priority)
        .bind(&s.field_rules)
        .execute(p)
        .await
        .map(|_| ()))
}

pub(super) async fn by_id(pool: &DbPool, id: Uuid) -> Result<Option<Supplier>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(BY_ID).bind(id).fetch_optional(p).await)
}

pub(super) async fn by_code(pool: &DbPool, code: &str) -> Result<Option<Supplier>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(BY_CODE).bind(code).fetch_optional(p).await)
}

/// Every supplier's id by its code (what our files name suppliers by).
pub(crate) async fn ids_by_code(pool: &DbPool) -> Result<std::collections::HashMap<String, Uuid>, sqlx::Error> {
    let rows: Vec<(String, Uuid)> = with_pool!(pool, |p| sqlx::query_as(IDS_BY_CODE).fetch_all(p).await)?;
    Ok(rows.into_iter().collect())
}

pub(super) async fn all(pool: &DbPool) -> Result<Vec<Supplier>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ALL).fetch_all(p).await)
}

/// Writes every field; false when no row has the id.
pub(super) async fn update(pool: &DbPool, s: &Supplier) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(UPDATE)
        .bind(s.id)
        .bind(&s.code)
        .bind(&s.name)
        .bind(&s.email)
        .bind(&s.website_url)
        .bind(&s.country)
        .bind(&s.default_currency)
        .bind(s.is_active)
        .bind(&s.notes)
        .bind(&s.settings)
        .bind(s.updated_at)
        .bind(s.priority)
        .bind(&s.field_rules)
        .execute(p)
        .await
        .map(|done| done.rows_affected() == 1))
}

/// False when no row has the id; a foreign-key error when offers still refer to it.
pub(super) async fn delete(pool: &DbPool, id: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(DELETE).bind(id).execute(p).await.map(|done| done.rows_affected() == 1))
}

/// Supplier names by id, for those of `ids` that exist.
pub(crate) async fn names_of(
    pool: &DbPool,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, String>, sqlx::Error> {
    let rows: Vec<(Uuid, String)> =
        crate::db::rows_by_ids(pool, "select id, name from suppliers where id in ", ids, "").await?;
    Ok(rows.into_iter().collect())
}

/// Every supplier's rank and rules, for those that have either.
pub(crate) async fn ranks(pool: &DbPool) -> Result<crate::catalog::provenance::SupplierRanks, sqlx::Error> {
    let rows: Vec<(Uuid, Option<i32>, sqlx::types::Json<crate::catalog::SupplierRules>)> =
        with_pool!(pool, |p| { sqlx::query_as("select id, priority, field_rules from suppliers").fetch_all(p).await })?;
    let mut ranks = crate::catalog::provenance::SupplierRanks::default();
    for (id, priority, rules) in rows {
        if let Some(rank) = priority {
            ranks.priority.insert(id, rank);
        }
        if rules.0 != crate::catalog::SupplierRules::default() {
            ranks.rules.insert(id, rules.0);
        }
    }
    Ok(ranks)
}
