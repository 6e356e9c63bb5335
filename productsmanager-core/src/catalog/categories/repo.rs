//! Category SQL, written once for both backends.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Category;
use super::model::TaxonomyRow;
use crate::db::{DbPool, rows_by_ids};
use crate::with_pool;

const INSERT_TAXONOMY: &str = "insert into taxonomies (id, code, name, kind, locale, created_at, updated_at) \
     values ($1, $2, $3, $4, $5, $6, $6)";

/// Creates the taxonomy if its code is new; either way returns the stored one.
const ENSURE_TAXONOMY: &str = "insert into taxonomies (id, code, name, kind, locale, created_at, updated_at) \
     values ($1, $2, $3, $4, $5, $6, $6) on conflict (code) do update set code = excluded.code \
     returning id, code, name, kind, locale, created_at, updated_at";

const TAXONOMY_BY_CODE: &str =
    "select id, code, name, kind, locale, created_at, updated_at from taxonomies where code = $1";

const TAXONOMY_BY_ID: &str =
    "select id, code, name, kind, locale, created_at, updated_at from taxonomies where id = $1";

const TAXONOMIES: &str = "select id, code, name, kind, locale, created_at, updated_at from taxonomies order by code";

const INSERT: &str = "insert into categories (id, taxonomy_id, parent_id, name, slug, external_id, path, depth, \
     position, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)";

const BY_ID: &str = "select id, taxonomy_id, parent_id, name, slug, external_id, path, depth, position, \
     created_at, updated_at from categories where id = $1";

const CHILD_BY_SLUG: &str = "select id, taxonomy_id, parent_id, name, slug, external_id, path, depth, position, \
     created_at, updated_at from categories where taxonomy_id = $1 and parent_id is not distinct from $2 and slug = $3";

const OF_TAXONOMY: &str = "select id, taxonomy_id, parent_id, name, slug, external_id, path, depth, position, \
     created_at, updated_at from categories where taxonomy_id = $1 order by depth, position, name, id";

const UPDATE_FIELDS: &str = "update categories set name = $2, slug = $3, external_id = $4, position = $5, \
     updated_at = $6 where id = $1";

/// Re-roots a subtree: every path under `$1` (the old path, itself included) gets `$2` instead of that prefix.
const MOVE_SUBTREE: &str = "update categories set path = $2 || substr(path, length($1) + 1), \
     depth = depth + $3, updated_at = $4 where substr(path, 1, length($1)) = $1";

const SET_PARENT: &str = "update categories set parent_id = $2 where id = $1";

const HAS_CHILDREN: &str = "select exists (select 1 from categories where parent_id = $1)";

const HAS_PRODUCTS: &str = "select exists (select 1 from product_categories where category_id = $1)";

const DELETE: &str = "delete from categories where id = $1";

const BY_IDS: &str = "select id, taxonomy_id, parent_id, name, slug, external_id, path, depth, position, \
     created_at, updated_at from categories where id in ";

// A link made again keeps who made it first; only whether it is the primary one changes.
const LINK: &str = "insert into product_categories (product_id, category_id, is_primary, position, created_at, \
     updated_at, source_kind, source_id, job_id) values ($1, $2, $3, 0, $4, $4, $5, $6, $7) \
     on conflict (product_id, category_id) do update set is_primary = excluded.is_primary, \
     updated_at = excluded.updated_at";

const IS_LINKED: &str = "select count(*) from product_categories where product_id = $1 and category_id = $2";

const LINKS_OF: &str = "select category_id, source_kind, source_id, job_id, created_at from product_categories \
     where product_id in ";

const UNLINK: &str = "delete from product_categories where product_id = $1 and category_id = $2";

const OF_PRODUCT: &str = "select c.id, c.taxonomy_id, c.parent_id, c.name, c.slug, c.external_id, c.path, c.depth, \
     c.position, c.created_at, c.updated_at from categories c join product_categories pc on pc.category_id = c.id \
     where pc.product_id = $1 order by c.taxonomy_id, pc.is_primary desc, c.path";

pub(super) async fn insert_taxonomy(pool: &DbPool, row: &TaxonomyRow) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(INSERT_TAXONOMY)
        .bind(row.id)
        .bind(&row.code)
        .bind(&row.name)
        .bind(&row.kind)
        .bind(&row.locale)
        .bind(row.created_at)
        .execute(p)
        .await
        .map(|_| ()))
}

pub(super) async fn ensure_taxonomy(pool: &DbPool, row: &TaxonomyRow) -> Result<TaxonomyRow, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ENSURE_TAXONOMY)
        .bind(row.id)
        .bind(&row.code)
        .bind(&row.name)
        .bind(&row.kind)
        .bind(&row.locale)
        .bind(row.created_at)
        .fetch_one(p)
        .await)
}

pub(super) async fn taxonomy_by_code(pool: &DbPool, code: &str) -> Result<Option<TaxonomyRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(TAXONOMY_BY_CODE).bind(code).fetch_optional(p).await)
}

pub(super) async fn taxonomy_by_id(pool: &DbPool, id: Uuid) -> Result<Option<TaxonomyRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(TAXONOMY_BY_ID).bind(id).fetch_optional(p).await)
}

pub(super) async fn taxonomies(pool: &DbPool) -> Result<Vec<TaxonomyRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(TAXONOMIES).fetch_all(p).await)
}

pub(super) async fn insert(pool: &DbPool, c: &Category) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(INSERT)
        .bind(c.id)
        .bind(c.taxonomy_id)
        .bind(c.parent_id)
        .bind(&c.name)
        .bind(&c.slug)
        .bind(&c.external_id)
        .bind(&c.path)
        .bind(c.depth)
        .bind(c.position)
        .bind(c.created_at)
        .execute(p)
        .await
        .map(|_| ()))
}

pub(super) async fn by_id(pool: &DbPool, id: Uuid) -> Result<Option<Category>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(BY_ID).bind(id).fetch_optional(p).await)
}

pub(super) async fn child_by_slug(
    pool: &DbPool,
    taxonomy_id: Uuid,
    parent_id: Option<Uuid>,
    slug: &str,
) -> Result<Option<Category>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(CHILD_BY_SLUG)
        .bind(taxonomy_id)
        .bind(parent_id)
        .bind(slug)
        .fetch_optional(p)
        .await)
}

pub(super) async fn of_taxonomy(pool: &DbPool, taxonomy_id: Uuid) -> Result<Vec<Category>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(OF_TAXONOMY).bind(taxonomy_id).fetch_all(p).await)
}

pub(super) async fn by_ids(pool: &DbPool, ids: &[Uuid]) -> Result<Vec<Category>, sqlx::Error> {
    rows_by_ids(pool, BY_IDS, ids, "order by depth").await
}

/// Writes name, slug, external id and position, and — when `moved` is given as (old path, new path, depth
/// change, new parent) — moves the subtree, all in one transaction.
pub(super) async fn update(
    pool: &DbPool,
    c: &Category,
    moved: Option<(&str, &str, i32)>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        sqlx::query(UPDATE_FIELDS)
            .bind(c.id)
            .bind(&c.name)
            .bind(&c.slug)
            .bind(&c.external_id)
            .bind(c.position)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        if let Some((old_path, new_path, depth_change)) = moved {
            sqlx::query(SET_PARENT).bind(c.id).bind(c.parent_id).execute(&mut *tx).await?;
            sqlx::query(MOVE_SUBTREE)
                .bind(old_path)
                .bind(new_path)
                .bind(depth_change)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }
    .await)
}

/// Whether the category has children, and whether products are linked to it.
pub(super) async fn usage(pool: &DbPool, id: Uuid) -> Result<(bool, bool), sqlx::Error> {
    with_pool!(pool, |p| {
        let children: bool = sqlx::query_scalar(HAS_CHILDREN).bind(id).fetch_one(p).await?;
        let products: bool = sqlx::query_scalar(HAS_PRODUCTS).bind(id).fetch_one(p).await?;
        Ok((children, products))
    })
}

pub(super) async fn delete(pool: &DbPool, id: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(DELETE).bind(id).execute(p).await.map(|d| d.rows_affected() == 1))
}

/// Links a product to a category, made by `by`; whether the link is new.
pub(super) async fn link(
    pool: &DbPool,
    (product_id, category_id, primary): (Uuid, Uuid, bool),
    by: crate::catalog::FieldSource,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let (kind, id, job) = by.to_columns();
    // Only the four setters are stored on a link (a writer is never "released" or "unknown").
    let kind = Some(kind).filter(|k| ["user", "supplier", "platform", "code2asin"].contains(k));
    with_pool!(pool, |p| async {
        let existing: i64 = sqlx::query_scalar(IS_LINKED).bind(product_id).bind(category_id).fetch_one(p).await?;
        sqlx::query(LINK)
            .bind(product_id)
            .bind(category_id)
            .bind(primary)
            .bind(at)
            .bind(kind)
            .bind(id)
            .bind(job)
            .execute(p)
            .await?;
        Ok(existing == 0)
    }
    .await)
}

/// A product's category link with who made it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct LinkSourceRow {
    pub category_id: Uuid,
    pub source_kind: Option<String>,
    pub source_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// The category links of a product, with who made each.
pub(crate) async fn links_of(pool: &DbPool, product_id: Uuid) -> Result<Vec<LinkSourceRow>, sqlx::Error> {
    rows_by_ids(pool, LINKS_OF, &[product_id], "order by created_at, category_id").await
}

/// Each category's path of names from its root (`Garden > Tools`), by id.
pub(crate) async fn name_paths(
    pool: &DbPool,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, String>, sqlx::Error> {
    let categories = by_ids(pool, ids).await?;
    let mut ancestors: Vec<Uuid> = categories.iter().flat_map(Category::ancestry).collect();
    ancestors.sort_unstable();
    ancestors.dedup();
    let names: std::collections::HashMap<Uuid, String> =
        by_ids(pool, &ancestors).await?.into_iter().map(|c| (c.id, c.name)).collect();
    Ok(categories
        .iter()
        .map(|c| {
            let path: Vec<&str> = c.ancestry().iter().map(|id| names.get(id).map_or("?", String::as_str)).collect();
            (c.id, path.join(" > "))
        })
        .collect())
}

pub(super) async fn unlink(pool: &DbPool, product_id: Uuid, category_id: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(UNLINK)
        .bind(product_id)
        .bind(category_id)
        .execute(p)
        .await
        .map(|d| d.rows_affected() == 1))
}

pub(super) async fn of_product(pool: &DbPool, product_id: Uuid) -> Result<Vec<Category>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(OF_PRODUCT).bind(product_id).fetch_all(p).await)
}
