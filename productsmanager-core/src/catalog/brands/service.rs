//! [`BrandService`].

use std::sync::Arc;

use uuid::Uuid;

use super::{Brand, BrandPatch, NewBrand, repo};
use crate::Result;
use crate::cache::{CacheKind, TieredCache};
use crate::catalog::CatalogError;
use crate::catalog::common::{
    cached_by_id, catalog_changed, db_error, duplicate_or_db, found, name_text, now, optional_text, optional_url,
    slug_or_from,
};
use crate::db::DbPool;

const ENTITY: &str = "brand";
/// Cache key of the whole list (brands are few and read on every product page).
/// Cache key of the brand list; a new brand drops it (imports too).
pub(crate) const ALL_KEY: &str = "all";

/// Creates, reads, updates and deletes brands. Reads go through the cache (kind `brands`).
///
/// ```no_run
/// # async fn demo(sdk: &productsmanager_core::Sdk) -> productsmanager_core::Result<()> {
/// use productsmanager_core::catalog::NewBrand;
///
/// let brand = sdk.brands().create(NewBrand { name: "Acme Tools".into(), ..Default::default() }).await?;
/// assert_eq!(brand.slug, "acme-tools");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BrandService {
    pool: DbPool,
    cache: TieredCache,
}

/// The brand row a validated input describes.
fn validated(id: Uuid, input: &NewBrand, created_at: chrono::DateTime<chrono::Utc>) -> Result<Brand, CatalogError> {
    let name = name_text("name", &input.name, 200)?;
    Ok(Brand {
        id,
        slug: slug_or_from("slug", input.slug.as_deref(), &name)?,
        name,
        description: optional_text("description", input.description.as_deref(), 10_000)?,
        website_url: optional_url("website_url", input.website_url.as_deref())?,
        logo_url: optional_url("logo_url", input.logo_url.as_deref())?,
        created_at,
        updated_at: now(),
    })
}

impl BrandService {
    pub(crate) fn new(pool: DbPool, cache: TieredCache) -> Self {
        BrandService { pool, cache }
    }

    fn write_error(error: sqlx::Error, brand: &Brand) -> crate::Error {
        duplicate_or_db(error, ENTITY, &[("slug", &brand.slug), ("name", &brand.name)])
    }

    async fn forget(&self, id: Uuid) {
        self.cache.invalidate(CacheKind::Brands, &id.to_string()).await;
        self.cache.invalidate(CacheKind::Brands, ALL_KEY).await;
        catalog_changed(&self.cache).await;
    }

    /// Creates a brand; the slug is made from the name unless given. Name and slug are unique.
    pub async fn create(&self, input: NewBrand) -> Result<Brand> {
        let brand = validated(Uuid::now_v7(), &input, now())?;
        if let Err(e) = repo::insert(&self.pool, &brand).await {
            return Err(Self::write_error(e, &brand));
        }
        self.cache.invalidate(CacheKind::Brands, ALL_KEY).await;
        Ok(brand)
    }

    /// The brand with this id.
    pub async fn get(&self, id: Uuid) -> Result<Brand> {
        cached_by_id(&self.cache, CacheKind::Brands, ENTITY, id, || async move {
            repo::by_id(&self.pool, id).await.map_err(db_error)
        })
        .await
    }

    /// The brand with this id or slug.
    pub async fn find(&self, key: &str) -> Result<Brand> {
        if let Ok(id) = Uuid::parse_str(key) {
            return self.get(id).await;
        }
        found(ENTITY, key, repo::by_slug(&self.pool, key).await.map_err(db_error)?)
    }

    /// Every brand, by name.
    pub async fn list(&self) -> Result<Arc<Vec<Brand>>> {
        let pool = &self.pool;
        self.cache
            .get_or_load(CacheKind::Brands, ALL_KEY, || async move { repo::all(pool).await.map_err(db_error) })
            .await
    }

    /// Replaces every field of a brand.
    pub async fn update(&self, id: Uuid, input: NewBrand) -> Result<Brand> {
        let current = self.get(id).await?;
        let brand = validated(id, &input, current.created_at)?;
        self.store(brand).await
    }

    /// Changes the given fields of a brand.
    pub async fn patch(&self, id: Uuid, patch: BrandPatch) -> Result<Brand> {
        let current = self.get(id).await?;
        let input = NewBrand {
            // A new name without a new slug keeps the slug: links to the brand page stay valid.
            slug: Some(patch.slug.unwrap_or(current.slug)),
            name: patch.name.unwrap_or(current.name),
            description: patch.description.unwrap_or(current.description),
            website_url: patch.website_url.unwrap_or(current.website_url),
            logo_url: patch.logo_url.unwrap_or(current.logo_url),
        };
        let brand = validated(id, &input, current.created_at)?;
        self.store(brand).await
    }

    async fn store(&self, brand: Brand) -> Result<Brand> {
        match repo::update(&self.pool, &brand).await {
            Ok(true) => {}
            Ok(false) => return Err(CatalogError::not_found(ENTITY, brand.id).into()),
            Err(e) => return Err(Self::write_error(e, &brand)),
        }
        self.forget(brand.id).await;
        // Products are found by their brand's name.
        if let Err(e) = crate::catalog::products::search::refresh_brand(&self.pool, brand.id).await {
            tracing::error!(brand = %brand.id, error = %e, "search documents not refreshed; run `products reindex`");
        }
        Ok(brand)
    }

    /// Deletes a brand; its products keep existing without a brand.
    pub async fn delete(&self, id: Uuid) -> Result<()> {
        if !repo::delete(&self.pool, id).await.map_err(db_error)? {
            return Err(CatalogError::not_found(ENTITY, id).into());
        }
        self.forget(id).await;
        Ok(())
    }
}
