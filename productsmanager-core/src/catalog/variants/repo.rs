//! Variant, bundle and SEO SQL, written once for both backends.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{BundleItem, Seo, Variant};
use crate::db::DbPool;
use crate::with_pool;

const UPSERT_VARIANT: &str = "insert into product_variants (id, parent_product_id, product_id, options, position, \
     created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6) on conflict (product_id) do update set \
     parent_product_id = excluded.parent_product_id, options = excluded.options, position = excluded.position, \
     updated_at = excluded.updated_at";

const VARIANTS_OF: &str = "select parent_product_id, product_id, options, position, updated_at from product_variants \
     where parent_product_id = $1 order by position, product_id";

const PARENT_OF: &str = "select parent_product_id from product_variants where product_id = $1";

const HAS_VARIANTS: &str = "select exists (select 1 from product_variants where parent_product_id = $1)";

const DELETE_VARIANT: &str = "delete from product_variants where product_id = $1";

const ENSURE_BUNDLE: &str = "insert into product_bundles (id, product_id, created_at, updated_at) values ($1, $2, $3, $3) \
     on conflict (product_id) do update set updated_at = excluded.updated_at returning id";

const DELETE_ITEMS: &str = "delete from product_bundle_items where bundle_id = $1";

const INSERT_ITEM: &str = "insert into product_bundle_items (id, bundle_id, product_id, quantity, position, \
     created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6)";

const ITEMS_OF: &str = "select i.product_id, i.quantity, i.position from product_bundle_items i \
     join product_bundles b on b.id = i.bundle_id where b.product_id = $1 order by i.position";

const BUNDLE_UPDATED: &str = "select updated_at from product_bundles where product_id = $1";

const IS_BUNDLE: &str = "select exists (select 1 from product_bundles where product_id = $1)";

const DELETE_BUNDLE: &str = "delete from product_bundles where product_id = $1";

const UPSERT_SEO: &str = "insert into product_seo (id, product_id, locale, slug, meta_title, meta_description, \
     created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $7) on conflict (product_id, locale) do update set \
     slug = excluded.slug, meta_title = excluded.meta_title, meta_description = excluded.meta_description, \
     updated_at = excluded.updated_at";

const SEO_OF_PRODUCTS: &str = "select product_id, locale, slug, meta_title, meta_description, updated_at \
     from product_seo where product_id in ";

const SEO_LOCALES: &str = "select distinct locale from product_seo order by locale";

const SEO_OF: &str = "select product_id, locale, slug, meta_title, meta_description, updated_at from product_seo \
     where product_id = $1 order by locale";

pub(super) async fn upsert_variant(pool: &DbPool, v: &Variant) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(UPSERT_VARIANT)
        .bind(Uuid::now_v7())
        .bind(v.parent_product_id)
        .bind(v.product_id)
        .bind(&v.options)
        .bind(v.position)
        .bind(v.updated_at)
        .execute(p)
        .await
        .map(|_| ()))
}

pub(super) async fn variants_of(pool: &DbPool, parent: Uuid) -> Result<Vec<Variant>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(VARIANTS_OF).bind(parent).fetch_all(p).await)
}

pub(super) async fn parent_of(pool: &DbPool, product: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(PARENT_OF).bind(product).fetch_optional(p).await)
}

pub(super) async fn has_variants(pool: &DbPool, product: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(HAS_VARIANTS).bind(product).fetch_one(p).await)
}

pub(super) async fn delete_variant(pool: &DbPool, product: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(DELETE_VARIANT).bind(product).execute(p).await.map(|d| d.rows_affected() == 1))
}

/// Replaces the components of a product's bundle (making it a bundle if it was not) in one transaction.
pub(super) async fn replace_bundle(
    pool: &DbPool,
    product: Uuid,
    items: &[BundleItem],
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        let bundle_id: Uuid =
            sqlx::query_scalar(ENSURE_BUNDLE).bind(Uuid::now_v7()).bind(product).bind(at).fetch_one(&mut *tx).await?;
        sqlx::query(DELETE_ITEMS).bind(bundle_id).execute(&mut *tx).await?;
        for item in items {
            sqlx::query(INSERT_ITEM)
                .bind(Uuid::now_v7())
                .bind(bundle_id)
                .bind(item.product_id)
                .bind(item.quantity)
                .bind(item.position)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }
    .await)
}

/// The components and last change of a product's bundle; `None` when it is not a bundle.
pub(super) async fn bundle_of(
    pool: &DbPool,
    product: Uuid,
) -> Result<Option<(Vec<BundleItem>, DateTime<Utc>)>, sqlx::Error> {
    with_pool!(pool, |p| {
        let updated: Option<DateTime<Utc>> = sqlx::query_scalar(BUNDLE_UPDATED).bind(product).fetch_optional(p).await?;
        match updated {
            None => Ok(None),
            Some(at) => Ok(Some((sqlx::query_as(ITEMS_OF).bind(product).fetch_all(p).await?, at))),
        }
    })
}

pub(super) async fn is_bundle(pool: &DbPool, product: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(IS_BUNDLE).bind(product).fetch_one(p).await)
}

pub(super) async fn delete_bundle(pool: &DbPool, product: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(DELETE_BUNDLE).bind(product).execute(p).await.map(|d| d.rows_affected() == 1))
}

pub(super) async fn upsert_seo(pool: &DbPool, seo: &Seo) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(UPSERT_SEO)
        .bind(Uuid::now_v7())
        .bind(seo.product_id)
        .bind(&seo.locale)
        .bind(&seo.slug)
        .bind(&seo.meta_title)
        .bind(&seo.meta_description)
        .bind(seo.updated_at)
        .execute(p)
        .await
        .map(|_| ()))
}

pub(super) async fn seo_of(pool: &DbPool, product: Uuid) -> Result<Vec<Seo>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(SEO_OF).bind(product).fetch_all(p).await)
}

/// The SEO metadata of these products, in one query per chunk, by product and locale.
pub(crate) async fn seo_of_products(pool: &DbPool, ids: &[Uuid]) -> Result<Vec<Seo>, sqlx::Error> {
    crate::db::rows_by_ids(pool, SEO_OF_PRODUCTS, ids, "order by product_id, locale").await
}

/// Every locale some product has SEO metadata in.
pub(crate) async fn seo_locales(pool: &DbPool) -> Result<Vec<String>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(SEO_LOCALES).fetch_all(p).await)
}
