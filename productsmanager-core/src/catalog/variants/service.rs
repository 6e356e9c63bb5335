//! [`VariantService`], [`BundleService`], [`SeoService`].

use std::collections::{BTreeMap, BTreeSet, HashSet};

use sqlx::types::Json;
use uuid::Uuid;

use super::{Bundle, BundleItem, NewBundleItem, NewSeo, NewVariant, Seo, Variant, repo};
use crate::Result;
use crate::catalog::common::{
    db_error, duplicate_or_db, name_text, named_missing, now, optional_text, required_text, slug_or_from,
};
use crate::catalog::{CatalogError, ProductService};
use crate::db::DbPool;

/// Parent products and their variants. A variant is one level deep: a parent is not itself a variant, a variant
/// has no variants; all variants of a parent share the same axes and differ in their values.
#[derive(Debug, Clone)]
pub struct VariantService {
    pool: DbPool,
    products: ProductService,
}

impl VariantService {
    pub(crate) fn new(pool: DbPool, products: ProductService) -> Self {
        VariantService { pool, products }
    }

    /// Makes a product a variant of a parent with these options, or changes its options.
    pub async fn set(&self, input: NewVariant) -> Result<Variant> {
        if input.parent_product_id == input.product_id {
            return Err(CatalogError::invalid("product_id", "a product cannot be a variant of itself").into());
        }
        if input.options.is_empty() {
            return Err(CatalogError::invalid("options", "give at least one axis, e.g. {\"size\": \"M\"}").into());
        }
        let mut options = BTreeMap::new();
        for (axis, value) in &input.options {
            let axis = name_text("options", axis, 50)?.to_lowercase();
            options.insert(axis.clone(), name_text(&format!("options.{axis}"), value, 100)?);
        }
        self.products.get(input.parent_product_id).await.map_err(|e| named_missing(e, "parent_product_id"))?;
        self.products.get(input.product_id).await.map_err(|e| named_missing(e, "product_id"))?;
        if repo::parent_of(&self.pool, input.parent_product_id).await.map_err(db_error)?.is_some() {
            return Err(
                CatalogError::invalid("parent_product_id", "is itself a variant; variants are one level deep").into()
            );
        }
        if repo::has_variants(&self.pool, input.product_id).await.map_err(db_error)? {
            return Err(
                CatalogError::invalid("product_id", "has variants of its own; variants are one level deep").into()
            );
        }
        let siblings: Vec<Variant> = repo::variants_of(&self.pool, input.parent_product_id)
            .await
            .map_err(db_error)?
            .into_iter()
            .filter(|v| v.product_id != input.product_id)
            .collect();
        if let Some(sibling) = siblings.first() {
            let axes: BTreeSet<&String> = sibling.options.0.keys().collect();
            if axes != options.keys().collect() {
                let expected: Vec<&str> = axes.iter().map(|a| a.as_str()).collect();
                return Err(CatalogError::invalid(
                    "options",
                    format!("the variants of this parent use the axes {expected:?}"),
                )
                .into());
            }
        }
        if siblings.iter().any(|v| v.options.0 == options) {
            return Err(
                CatalogError::Duplicate { entity: "variant", field: "options", value: format!("{options:?}") }.into()
            );
        }
        let variant = Variant {
            parent_product_id: input.parent_product_id,
            product_id: input.product_id,
            options: Json(options),
            position: input.position.unwrap_or(i32::try_from(siblings.len()).unwrap_or(i32::MAX)),
            updated_at: now(),
        };
        repo::upsert_variant(&self.pool, &variant).await.map_err(db_error)?;
        Ok(variant)
    }

    /// The variants of a parent, in order.
    pub async fn of(&self, parent_product_id: Uuid) -> Result<Vec<Variant>> {
        repo::variants_of(&self.pool, parent_product_id).await.map_err(db_error)
    }

    /// The parent of a variant, if it is one.
    pub async fn parent_of(&self, product_id: Uuid) -> Result<Option<Uuid>> {
        repo::parent_of(&self.pool, product_id).await.map_err(db_error)
    }

    /// Makes a variant a stand-alone product again.
    pub async fn remove(&self, product_id: Uuid) -> Result<()> {
        if repo::delete_variant(&self.pool, product_id).await.map_err(db_error)? {
            Ok(())
        } else {
            Err(CatalogError::not_found("variant", product_id).into())
        }
    }
}

/// Bundles: a product sold as a set of other products. A component cannot be a bundle itself, nor the bundle.
#[derive(Debug, Clone)]
pub struct BundleService {
    pool: DbPool,
    products: ProductService,
}

impl BundleService {
    pub(crate) fn new(pool: DbPool, products: ProductService) -> Self {
        BundleService { pool, products }
    }

    /// Makes a product a bundle of these components (replacing any it had).
    pub async fn set(&self, product_id: Uuid, items: Vec<NewBundleItem>) -> Result<Bundle> {
        if items.is_empty() {
            return Err(CatalogError::invalid("items", "a bundle needs at least one component").into());
        }
        self.products.get(product_id).await.map_err(|e| named_missing(e, "product_id"))?;
        let mut seen = HashSet::new();
        let mut clean = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let field = |name: &str| format!("items[{i}].{name}");
            if item.product_id == product_id {
                return Err(CatalogError::invalid(field("product_id"), "a bundle cannot contain itself").into());
            }
            if !seen.insert(item.product_id) {
                return Err(CatalogError::invalid(field("product_id"), "appears twice; give a quantity instead").into());
            }
            let quantity = item.quantity.unwrap_or(1);
            if quantity < 1 {
                return Err(CatalogError::invalid(field("quantity"), "must be at least 1").into());
            }
            self.products.get(item.product_id).await.map_err(|e| named_missing(e, &field("product_id")))?;
            if repo::is_bundle(&self.pool, item.product_id).await.map_err(db_error)? {
                return Err(
                    CatalogError::invalid(field("product_id"), "is a bundle itself; bundles are not nested").into()
                );
            }
            clean.push(BundleItem {
                product_id: item.product_id,
                quantity,
                position: i32::try_from(i).unwrap_or(i32::MAX),
            });
        }
        let at = now();
        repo::replace_bundle(&self.pool, product_id, &clean, at).await.map_err(db_error)?;
        Ok(Bundle { product_id, items: clean, updated_at: at })
    }

    /// The bundle a product is, if it is one.
    pub async fn of(&self, product_id: Uuid) -> Result<Option<Bundle>> {
        let found = repo::bundle_of(&self.pool, product_id).await.map_err(db_error)?;
        Ok(found.map(|(items, updated_at)| Bundle { product_id, items, updated_at }))
    }

    /// The bundle a product is; `NotFound` when it is not one.
    pub async fn get(&self, product_id: Uuid) -> Result<Bundle> {
        self.of(product_id).await?.ok_or_else(|| CatalogError::not_found("bundle", product_id).into())
    }

    /// Makes a bundle a plain product again.
    pub async fn remove(&self, product_id: Uuid) -> Result<()> {
        if repo::delete_bundle(&self.pool, product_id).await.map_err(db_error)? {
            Ok(())
        } else {
            Err(CatalogError::not_found("bundle", product_id).into())
        }
    }
}

/// SEO metadata per product and locale; a slug is unique within its locale.
#[derive(Debug, Clone)]
pub struct SeoService {
    pool: DbPool,
    products: ProductService,
}

impl SeoService {
    pub(crate) fn new(pool: DbPool, products: ProductService) -> Self {
        SeoService { pool, products }
    }

    /// The same service, its metadata recorded as set by `user` (the HTTP adapter passes the caller).
    pub fn on_behalf_of(mut self, user: Uuid) -> Self {
        self.products = self.products.on_behalf_of(user);
        self
    }

    /// Sets a product's metadata in a locale (the slug is made from the meta title, else the product title). It is
    /// one field with provenance, `seo:<locale>`: set by a person, no supplier file changes it; locked, no one does.
    pub async fn set(&self, input: NewSeo) -> Result<Seo> {
        let product = self.products.get(input.product_id).await.map_err(|e| named_missing(e, "product_id"))?;
        let locale = required_text("locale", &input.locale, 35)?;
        if !crate::catalog::provenance::is_locale(&locale) {
            return Err(
                CatalogError::invalid("locale", format!("{locale:?} is not a language tag like en or de-DE")).into()
            );
        }
        let meta_title = optional_text("meta_title", input.meta_title.as_deref(), super::META_TITLE_MAX)?;
        let seo = Seo {
            product_id: product.id,
            slug: slug_or_from("slug", input.slug.as_deref(), meta_title.as_deref().unwrap_or(&product.title))?,
            locale,
            meta_title,
            meta_description: optional_text(
                "meta_description",
                input.meta_description.as_deref(),
                super::META_DESCRIPTION_MAX,
            )?,
            updated_at: now(),
        };
        let field = crate::catalog::provenance::seo_field(&seo.locale);
        self.products.refuse_locked(product.id, std::slice::from_ref(&field)).await?;
        let value = crate::catalog::provenance::seo_value(
            &seo.slug,
            seo.meta_title.as_deref(),
            seo.meta_description.as_deref(),
        );
        let stored = repo::seo_of(&self.pool, product.id).await.map_err(db_error)?;
        let before = stored.iter().find(|s| s.locale == seo.locale).map(|b| {
            crate::catalog::provenance::seo_value(&b.slug, b.meta_title.as_deref(), b.meta_description.as_deref())
        });
        if let Some(old) = before.filter(|old| *old != value)
            && !matches!(self.products.writer(), crate::catalog::FieldSource::Supplier { .. })
        {
            // The value a supplier set goes to its offer: a release gives it back.
            let replaced = [(field.clone(), old)];
            crate::catalog::provenance::repo::keep_suppliers_word(&self.pool, product.id, &replaced)
                .await
                .map_err(db_error)?;
        }
        repo::upsert_seo(&self.pool, &seo).await.map_err(|e| duplicate_or_db(e, "product", &[("slug", &seo.slug)]))?;
        let fields = [(field, Some(value))];
        crate::catalog::provenance::repo::record(
            &self.pool,
            product.id,
            &fields,
            self.products.writer(),
            seo.updated_at,
        )
        .await
        .map_err(db_error)?;
        crate::catalog::common::product_changed(self.products.cache(), product.id).await;
        Ok(seo)
    }

    /// A product's metadata in every locale.
    pub async fn of(&self, product_id: Uuid) -> Result<Vec<Seo>> {
        repo::seo_of(&self.pool, product_id).await.map_err(db_error)
    }
}
