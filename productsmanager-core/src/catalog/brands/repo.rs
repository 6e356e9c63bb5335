//! Brand SQL, written once for both backends.

use uuid::Uuid;

use super::Brand;
use crate::db::DbPool;
use crate::with_pool;

const INSERT: &str = "insert into brands (id, name, slug, description, website_url, logo_url, created_at, updated_at) \
     values ($1, $2, $3, $4, $5, $6, $7, $8)";

const BY_ID: &str = "select id, name, slug, description, website_url, logo_url, created_at, updated_at \
     from brands where id = $1";

const BY_SLUG: &str = "select id, name, slug, description, website_url, logo_url, created_at, updated_at \
     from brands where slug = $1";

const ALL: &str = "select id, name, slug, description, website_url, logo_url, created_at, updated_at \
     from brands order by lower(name), id";

const UPDATE: &str = "update brands set name = $2, slug = $3, description = $4, website_url = $5, logo_url = $6, \
     updated_at = $7 where id = $1";

const DELETE: &str = "delete from brands where id = $1";

pub(super) async fn insert(pool: &DbPool, brand: &Brand) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(INSERT)
        .bind(brand.id)
        .bind(&brand.name)
        .bind(&brand.slug)
        .bind(&brand.description)
        .bind(&brand.website_url)
        .bind(&brand.logo_url)
        .bind(brand.created_at)
        .bind(brand.updated_at)
        .execute(p)
        .await
        .map(|_| ()))
}

pub(super) async fn by_id(pool: &DbPool, id: Uuid) -> Result<Option<Brand>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(BY_ID).bind(id).fetch_optional(p).await)
}

pub(super) async fn by_slug(pool: &DbPool, slug: &str) -> Result<Option<Brand>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(BY_SLUG).bind(slug).fetch_optional(p).await)
}

pub(super) async fn all(pool: &DbPool) -> Result<Vec<Brand>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ALL).fetch_all(p).await)
}

/// Writes every field of `brand`; false when no row has its id.
pub(super) async fn update(pool: &DbPool, brand: &Brand) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(UPDATE)
        .bind(brand.id)
        .bind(&brand.name)
        .bind(&brand.slug)
        .bind(&brand.description)
        .bind(&brand.website_url)
        .bind(&brand.logo_url)
        .bind(brand.updated_at)
        .execute(p)
        .await
        .map(|done| done.rows_affected() == 1))
}

/// False when no row has the id.
pub(super) async fn delete(pool: &DbPool, id: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(DELETE).bind(id).execute(p).await.map(|done| done.rows_affected() == 1))
}

/// The names of these brands (unknown ids left out).
pub(crate) async fn names_of(
    pool: &DbPool,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, String>, sqlx::Error> {
    let rows: Vec<(Uuid, String)> =
        crate::db::rows_by_ids(pool, "select id, name from brands where id in ", ids, "").await?;
    Ok(rows.into_iter().collect())
}
