//! [`CategoryService`].

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::model::TaxonomyRow;
use super::{Category, CategoryNode, CategoryPatch, NewCategory, NewTaxonomy, Taxonomy, TaxonomyKind, repo};
use crate::Result;
use crate::cache::{CacheKind, TieredCache};
use crate::catalog::common::{
    catalog_changed, code_text, db_error, duplicate_or_db, found, name_text, named_missing, now, optional_text,
    slug_or_from,
};
use crate::catalog::provenance::{CATEGORIES_FIELD, ChangeKind};
use crate::catalog::{CatalogError, ProductService};
use crate::db::DbPool;

const ENTITY: &str = "category";
/// The own taxonomy used when a category names none.
pub const DEFAULT_TAXONOMY: &str = "default";

/// Category trees in several taxonomies, and product links. Trees are read through the cache (kind
/// `categories`); any change to a taxonomy's categories drops its cached tree.
#[derive(Debug, Clone)]
pub struct CategoryService {
    pool: DbPool,
    cache: TieredCache,
    products: ProductService,
}

impl CategoryService {
    /// The product service it links products through.
    pub(crate) fn products(&self) -> &ProductService {
        &self.products
    }

    pub(crate) fn new(pool: DbPool, cache: TieredCache, products: ProductService) -> Self {
        CategoryService { pool, cache, products }
    }

    fn tree_key(taxonomy_id: Uuid) -> String {
        format!("tree:{taxonomy_id}")
    }

    async fn forget_tree(&self, taxonomy_id: Uuid) {
        self.cache.invalidate(CacheKind::Categories, &Self::tree_key(taxonomy_id)).await;
        // Category filters of cached searches may change.
        catalog_changed(&self.cache).await;
    }

    /// Creates a taxonomy; its code is unique.
    pub async fn create_taxonomy(&self, input: NewTaxonomy) -> Result<Taxonomy> {
        let at = now();
        let row = TaxonomyRow {
            id: Uuid::now_v7(),
            code: code_text("code", &input.code, 50)?,
            name: name_text("name", &input.name, 200)?,
            kind: input.kind.as_str().to_string(),
            locale: optional_text("locale", input.locale.as_deref(), 20)?,
            created_at: at,
            updated_at: at,
        };
        repo::insert_taxonomy(&self.pool, &row)
            .await
            .map_err(|e| duplicate_or_db(e, "taxonomy", &[("code", &row.code)]))?;
        Ok(row.into_taxonomy())
    }

    /// Every taxonomy, by code.
    pub async fn taxonomies(&self) -> Result<Vec<Taxonomy>> {
        Ok(repo::taxonomies(&self.pool).await.map_err(db_error)?.into_iter().map(TaxonomyRow::into_taxonomy).collect())
    }

    /// The taxonomy with this id or code; the `default` own taxonomy is made on first use. Cached (kind
    /// `taxonomies`): every tree read starts here.
    pub async fn taxonomy(&self, key: Option<&str>) -> Result<Taxonomy> {
        let key = key.map(str::trim).filter(|k| !k.is_empty()).unwrap_or(DEFAULT_TAXONOMY);
        let pool = &self.pool;
        let taxonomy = self
            .cache
            .get_or_load(CacheKind::Taxonomies, key, || async move {
                let row = match Uuid::parse_str(key) {
                    Ok(id) => repo::taxonomy_by_id(pool, id).await,
                    Err(_) => repo::taxonomy_by_code(pool, key).await,
                }
                .map_err(db_error)?;
                match row {
                    Some(row) => Ok(row.into_taxonomy()),
                    None if key == DEFAULT_TAXONOMY => {
                        let at = now();
                        let row = TaxonomyRow {
                            id: Uuid::now_v7(),
                            code: DEFAULT_TAXONOMY.into(),
                            name: "Default".into(),
                            kind: TaxonomyKind::Own.as_str().into(),
                            locale: None,
                            created_at: at,
                            updated_at: at,
                        };
                        Ok(repo::ensure_taxonomy(pool, &row).await.map_err(db_error)?.into_taxonomy())
                    }
                    None => Err(CatalogError::not_found("taxonomy", key).into()),
                }
            })
            .await?;
        Ok(Taxonomy::clone(&taxonomy))
    }

    /// Creates a category under its parent, or as a root of its taxonomy. Slugs are unique among siblings.
    pub async fn create(&self, input: NewCategory) -> Result<Category> {
        let name = name_text("name", &input.name, 200)?;
        let slug = slug_or_from("slug", input.slug.as_deref(), &name)?;
        let id = Uuid::now_v7();
        let (taxonomy_id, path, depth) = match input.parent_id {
            Some(parent_id) => {
                let parent = self.get(parent_id).await.map_err(|e| named_missing(e, "parent_id"))?;
                if let Some(key) = input.taxonomy.as_deref() {
                    let taxonomy = self.taxonomy(Some(key)).await?;
                    if taxonomy.id != parent.taxonomy_id {
                        return Err(CatalogError::invalid("parent_id", "the parent is in another taxonomy").into());
                    }
                }
                (parent.taxonomy_id, format!("{}{id}/", parent.path), parent.depth + 1)
            }
            None => (self.taxonomy(input.taxonomy.as_deref()).await?.id, format!("/{id}/"), 0),
        };
        let at = now();
        let category = Category {
            id,
            taxonomy_id,
            parent_id: input.parent_id,
            name,
            slug,
            external_id: optional_text("external_id", input.external_id.as_deref(), 200)?,
            path,
            depth,
            position: input.position.unwrap_or(0),
            created_at: at,
            updated_at: at,
        };
        repo::insert(&self.pool, &category).await.map_err(|e| self.write_error(e, &category))?;
        self.forget_tree(taxonomy_id).await;
        Ok(category)
    }

    fn write_error(&self, error: sqlx::Error, category: &Category) -> crate::Error {
        let external = category.external_id.clone().unwrap_or_default();
        duplicate_or_db(error, ENTITY, &[("slug", &category.slug), ("external_id", &external)])
    }

    /// The category at the end of `names` (a path from a root) in the default taxonomy if it exists, each level
    /// found by its slug under its parent; nothing is created (a dry run's view of [`CategoryService::ensure_path`]).
    pub(crate) async fn find_path(&self, names: &[String]) -> Result<Option<Uuid>> {
        let taxonomy = self.taxonomy(None).await?;
        let mut parent: Option<Uuid> = None;
        for name in names {
            let slug = slug_or_from("category", None, name)?;
            match repo::child_by_slug(&self.pool, taxonomy.id, parent, &slug).await.map_err(db_error)? {
                Some(category) => parent = Some(category.id),
                None => return Ok(None),
            }
        }
        Ok(parent)
    }

    /// The category at the end of `names` (a path from a root, e.g. `["Home", "Garden"]`) in the default taxonomy,
    /// each level found by its slug under its parent and created when missing (imports name categories this way).
    /// Safe against a concurrent creation of the same level.
    pub async fn ensure_path(&self, names: &[String]) -> Result<Uuid> {
        let taxonomy = self.taxonomy(None).await?;
        let mut parent: Option<Uuid> = None;
        for name in names {
            let slug = slug_or_from("category", None, name)?;
            let found = repo::child_by_slug(&self.pool, taxonomy.id, parent, &slug).await.map_err(db_error)?;
            let id = match found {
                Some(category) => category.id,
                None => {
                    let input = NewCategory {
                        name: name.clone(),
                        slug: Some(slug.clone()),
                        parent_id: parent,
                        taxonomy: None,
                        external_id: None,
                        position: None,
                    };
                    match self.create(input).await {
                        Ok(category) => category.id,
                        // Created meanwhile by another import.
                        Err(crate::Error::Catalog(CatalogError::Duplicate { .. })) => {
                            repo::child_by_slug(&self.pool, taxonomy.id, parent, &slug)
                                .await
                                .map_err(db_error)?
                                .ok_or_else(|| CatalogError::not_found(ENTITY, &slug))?
                                .id
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            parent = Some(id);
        }
        parent.ok_or_else(|| CatalogError::invalid("category", "an empty path").into())
    }

    /// The category with this id.
    pub async fn get(&self, id: Uuid) -> Result<Category> {
        found(ENTITY, id, repo::by_id(&self.pool, id).await.map_err(db_error)?)
    }

    /// The whole tree of a taxonomy (id or code; `default` when `None`), children by position then name.
    pub async fn tree(&self, taxonomy: Option<&str>) -> Result<Arc<Vec<CategoryNode>>> {
        let taxonomy_id = self.taxonomy(taxonomy).await?.id;
        let pool = &self.pool;
        self.cache
            .get_or_load(CacheKind::Categories, &Self::tree_key(taxonomy_id), || async move {
                let all = repo::of_taxonomy(pool, taxonomy_id).await.map_err(db_error)?;
                Ok(build_tree(all))
            })
            .await
    }

    /// The category a person names in the `default` taxonomy: its id, its path of names or slugs from the root
    /// (`Tools > Drills`, `tools/drills`), or a slug or name found once in the tree. Names are matched ignoring
    /// case; a key naming several categories is refused, listing their paths.
    pub async fn find(&self, key: &str) -> Result<Category> {
        let key = key.trim();
        if let Ok(id) = Uuid::parse_str(key) {
            return self.get(id).await;
        }
        let separator = if key.contains('>') { '>' } else { '/' };
        let wanted: Vec<String> =
            key.split(separator).map(|part| part.trim().to_lowercase()).filter(|part| !part.is_empty()).collect();
        let names = |category: &Category, part: &str| category.slug == part || category.name.to_lowercase() == part;
        let tree = self.tree(None).await?;
        let mut found: Vec<(Vec<&Category>, &Category)> = Vec::new();
        let mut stack: Vec<(Vec<&Category>, &CategoryNode)> = tree.iter().map(|node| (Vec::new(), node)).collect();
        while let Some((mut trail, node)) = stack.pop() {
            trail.push(&node.category);
            let by_path = wanted.len() == trail.len() && trail.iter().zip(&wanted).all(|(c, part)| names(c, part));
            let by_own_key = wanted.len() == 1 && names(&node.category, &wanted[0]);
            if by_path || by_own_key {
                found.push((trail.clone(), &node.category));
            }
            stack.extend(node.children.iter().map(|child| (trail.clone(), child)));
        }
        match found.as_slice() {
            [] => Err(CatalogError::not_found(ENTITY, key).into()),
            [(_, category)] => Ok((*category).clone()),
            several => {
                let paths: Vec<String> = several
                    .iter()
                    .map(|(trail, _)| trail.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(" > "))
                    .collect();
                let reason =
                    format!("{key:?} names {} categories ({}): give its path or id", paths.len(), paths.join("; "));
                Err(CatalogError::invalid("category", reason).into())
            }
        }
    }

    /// The categories from the root down to this one.
    pub async fn breadcrumbs(&self, id: Uuid) -> Result<Vec<Category>> {
        let category = self.get(id).await?;
        repo::by_ids(&self.pool, &category.ancestry()).await.map_err(db_error)
    }

    /// Renames, re-slugs, reorders or moves a category. A move takes the subtree along and is refused when the
    /// new parent is the category itself or below it (a cycle) or in another taxonomy.
    pub async fn update(&self, id: Uuid, patch: CategoryPatch) -> Result<Category> {
        let mut category = self.get(id).await?;
        if let Some(name) = patch.name {
            category.name = name_text("name", &name, 200)?;
        }
        if let Some(slug) = patch.slug {
            category.slug = slug_or_from("slug", Some(&slug), &category.name)?;
        }
        if let Some(external_id) = patch.external_id {
            category.external_id = optional_text("external_id", external_id.as_deref(), 200)?;
        }
        if let Some(position) = patch.position {
            category.position = position;
        }
        let mut moved = None;
        if let Some(new_parent) = patch.parent_id
            && new_parent != category.parent_id
        {
            let (new_path, new_depth) = match new_parent {
                Some(parent_id) => {
                    let parent = self.get(parent_id).await.map_err(|e| named_missing(e, "parent_id"))?;
                    if parent.path.starts_with(&category.path) {
                        return Err(CatalogError::invalid(
                            "parent_id",
                            "category cycle: the new parent is the category itself or below it",
                        )
                        .into());
                    }
                    if parent.taxonomy_id != category.taxonomy_id {
                        return Err(CatalogError::invalid("parent_id", "the new parent is in another taxonomy").into());
                    }
                    (format!("{}{id}/", parent.path), parent.depth + 1)
                }
                None => (format!("/{id}/"), 0),
            };
            moved = Some((category.path.clone(), new_path.clone(), new_depth - category.depth));
            category.parent_id = new_parent;
            category.path = new_path;
            category.depth = new_depth;
        }
        let at = now();
        category.updated_at = at;
        let move_args = moved.as_ref().map(|(old, new, change)| (old.as_str(), new.as_str(), *change));
        repo::update(&self.pool, &category, move_args, at).await.map_err(|e| self.write_error(e, &category))?;
        self.forget_tree(category.taxonomy_id).await;
        Ok(category)
    }

    /// Deletes a category with no children and no products.
    pub async fn delete(&self, id: Uuid) -> Result<()> {
        let category = self.get(id).await?;
        let (children, products) = repo::usage(&self.pool, id).await.map_err(db_error)?;
        if children || products {
            let users = if children { "sub-categories" } else { "products" };
            return Err(CatalogError::InUse { entity: ENTITY, key: id.to_string(), users: users.into() }.into());
        }
        if !repo::delete(&self.pool, id).await.map_err(db_error)? {
            return Err(CatalogError::not_found(ENTITY, id).into());
        }
        self.forget_tree(category.taxonomy_id).await;
        Ok(())
    }

    /// The same service, its links recorded as made by `user` (the HTTP adapter passes the caller).
    pub fn on_behalf_of(mut self, user: Uuid) -> Self {
        self.products = self.products.on_behalf_of(user);
        self
    }

    /// Puts a product in a category (again: updates whether it is the primary one). The link records who made it
    /// and the product's history the change; refused while the product's `categories` are locked.
    pub async fn link(&self, product_id: Uuid, category_id: Uuid, primary: bool) -> Result<()> {
        let product_id = self.products.get(product_id).await.map_err(|e| named_missing(e, "product_id"))?.id;
        self.get(category_id).await.map_err(|e| named_missing(e, "category_id"))?;
        self.products.refuse_locked(product_id, &[CATEGORIES_FIELD.to_string()]).await?;
        let (by, at) = (self.products.writer(), now());
        let added = repo::link(&self.pool, (product_id, category_id, primary), by, at).await.map_err(db_error)?;
        if added {
            self.log_link(product_id, category_id, ChangeKind::Add, at).await?;
        }
        catalog_changed(&self.cache).await;
        Ok(())
    }

    /// Takes a product out of a category (refused while its `categories` are locked); the history records it.
    pub async fn unlink(&self, product_id: Uuid, category_id: Uuid) -> Result<()> {
        let product_id = self.products.get(product_id).await.map_err(|e| named_missing(e, "product_id"))?.id;
        self.products.refuse_locked(product_id, &[CATEGORIES_FIELD.to_string()]).await?;
        if repo::unlink(&self.pool, product_id, category_id).await.map_err(db_error)? {
            self.log_link(product_id, category_id, ChangeKind::Remove, now()).await?;
            catalog_changed(&self.cache).await;
            Ok(())
        } else {
            Err(CatalogError::not_found("category link", format!("{product_id} in {category_id}")).into())
        }
    }

    /// Records a link's change in the product's history, the category named by its path.
    async fn log_link(&self, product_id: Uuid, category_id: Uuid, change: ChangeKind, at: DateTime<Utc>) -> Result<()> {
        let paths = repo::name_paths(&self.pool, &[category_id]).await.map_err(db_error)?;
        let path = paths.get(&category_id).cloned().unwrap_or_else(|| category_id.to_string());
        let entry = (CATEGORIES_FIELD, change, Some(path.as_str()));
        crate::catalog::provenance::repo::log(&self.pool, product_id, entry, self.products.writer(), at)
            .await
            .map_err(db_error)
    }

    /// The categories a product is in, every taxonomy, primary first.
    pub async fn of_product(&self, product_id: Uuid) -> Result<Vec<Category>> {
        repo::of_product(&self.pool, product_id).await.map_err(db_error)
    }
}

/// Nests categories (ordered by depth, then position) under their parents.
fn build_tree(all: Vec<Category>) -> Vec<CategoryNode> {
    let mut children: HashMap<Option<Uuid>, Vec<Category>> = HashMap::new();
    for category in all {
        children.entry(category.parent_id).or_default().push(category);
    }
    fn attach(parent: Option<Uuid>, children: &mut HashMap<Option<Uuid>, Vec<Category>>) -> Vec<CategoryNode> {
        let own = children.remove(&parent).unwrap_or_default();
        own.into_iter()
            .map(|category| {
                let nested = attach(Some(category.id), children);
                CategoryNode { category, children: nested }
            })
            .collect()
    }
    attach(None, &mut children)
}
