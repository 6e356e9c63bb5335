//! [`SupplierService`].

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::{NewSupplier, Supplier, SupplierPatch, repo};
use crate::Result;
use crate::cache::{CacheKind, TieredCache};
use crate::catalog::common::{
    cached_by_id, code_text, db_error, duplicate_or_db, found, name_text, now, optional_text, optional_url,
};
use crate::catalog::{CatalogError, CountryCode, CurrencyCode};
use crate::db::{DbError, DbPool};

const ENTITY: &str = "supplier";
const ALL_KEY: &str = "all";

/// Creates, reads, updates and deletes suppliers. Reads go through the cache (kind `suppliers`).
#[derive(Debug, Clone)]
pub struct SupplierService {
    pool: DbPool,
    cache: TieredCache,
}

fn valid_code(code: &str) -> Result<String, CatalogError> {
    code_text("code", code, 50)
}

/// A plausible e-mail address: one `@`, no spaces, a dot in the domain. Delivery is what really validates one.
fn valid_email(email: Option<&str>) -> Result<Option<String>, CatalogError> {
    let Some(email) = optional_text("email", email, 254)? else { return Ok(None) };
    let plausible = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.contains('@') && !email.contains(char::is_whitespace)
        }
        None => false,
    };
    if plausible {
        Ok(Some(email))
    } else {
        Err(CatalogError::invalid("email", format!("{email:?} is not an e-mail address")))
    }
}

fn validated(id: Uuid, input: &NewSupplier, created_at: DateTime<Utc>) -> Result<Supplier, CatalogError> {
    Ok(Supplier {
        id,
        code: valid_code(&input.code)?,
        name: name_text("name", &input.name, 200)?,
        email: valid_email(input.email.as_deref())?,
        website_url: optional_url("website_url", input.website_url.as_deref())?,
        country: match optional_text("country", input.country.as_deref(), 2)? {
            Some(c) => Some(CountryCode::parse_field("country", &c)?.as_str().to_string()),
            None => None,
        },
        default_currency: match optional_text("default_currency", input.default_currency.as_deref(), 3)? {
            Some(c) => Some(CurrencyCode::parse_field("default_currency", &c)?.as_str().to_string()),
            None => None,
        },
        is_active: input.is_active.unwrap_or(true),
        notes: optional_text("notes", input.notes.as_deref(), 10_000)?,
        settings: Json(match &input.settings {
            None | Some(serde_json::Value::Null) => serde_json::json!({}),
            Some(value @ serde_json::Value::Object(_)) => value.clone(),
            Some(_) => return Err(CatalogError::invalid("settings", "must be a JSON object")),
        }),
        priority: match input.priority {
            Some(rank) if rank < 1 => {
                return Err(CatalogError::invalid("priority", "must be 1 or more (1 comes first)"));
            }
            rank => rank,
        },
        field_rules: Json(match &input.field_rules {
            Some(rules) => {
                rules.check()?;
                rules.clone()
            }
            None => crate::catalog::SupplierRules::default(),
        }),
        created_at,
        updated_at: now(),
    })
}

impl SupplierService {
    pub(crate) fn new(pool: DbPool, cache: TieredCache) -> Self {
        SupplierService { pool, cache }
    }

    fn write_error(error: sqlx::Error, supplier: &Supplier) -> crate::Error {
        duplicate_or_db(error, ENTITY, &[("code", &supplier.code)])
    }

    async fn forget(&self, id: Uuid) {
        self.cache.invalidate(CacheKind::Suppliers, &id.to_string()).await;
        self.cache.invalidate(CacheKind::Suppliers, ALL_KEY).await;
    }

    /// Creates a supplier; its code is unique.
    pub async fn create(&self, input: NewSupplier) -> Result<Supplier> {
        let supplier = validated(Uuid::now_v7(), &input, now())?;
        repo::insert(&self.pool, &supplier).await.map_err(|e| Self::write_error(e, &supplier))?;
        self.cache.invalidate(CacheKind::Suppliers, ALL_KEY).await;
        Ok(supplier)
    }

    /// The supplier with this id.
    pub async fn get(&self, id: Uuid) -> Result<Supplier> {
        cached_by_id(&self.cache, CacheKind::Suppliers, ENTITY, id, || async move {
            repo::by_id(&self.pool, id).await.map_err(db_error)
        })
        .await
    }

    /// The supplier with this id or code.
    pub async fn find(&self, key: &str) -> Result<Supplier> {
        if let Ok(id) = Uuid::parse_str(key) {
            return self.get(id).await;
        }
        found(ENTITY, key, repo::by_code(&self.pool, key.trim()).await.map_err(db_error)?)
    }

    /// Every supplier, by name.
    pub async fn list(&self) -> Result<Arc<Vec<Supplier>>> {
        let pool = &self.pool;
        self.cache
            .get_or_load(CacheKind::Suppliers, ALL_KEY, || async move { repo::all(pool).await.map_err(db_error) })
            .await
    }

    /// Replaces every field of a supplier.
    pub async fn update(&self, id: Uuid, input: NewSupplier) -> Result<Supplier> {
        let current = self.get(id).await?;
        self.store(validated(id, &input, current.created_at)?).await
    }

    /// Changes the given fields of a supplier.
    pub async fn patch(&self, id: Uuid, patch: SupplierPatch) -> Result<Supplier> {
        let current = self.get(id).await?;
        let input = NewSupplier {
            code: patch.code.unwrap_or(current.code),
            name: patch.name.unwrap_or(current.name),
            email: patch.email.unwrap_or(current.email),
            website_url: patch.website_url.unwrap_or(current.website_url),
            country: patch.country.unwrap_or(current.country),
            default_currency: patch.default_currency.unwrap_or(current.default_currency),
            is_active: Some(patch.is_active.unwrap_or(current.is_active)),
            notes: patch.notes.unwrap_or(current.notes),
            settings: Some(patch.settings.unwrap_or(current.settings.0)),
            priority: patch.priority.unwrap_or(current.priority),
            field_rules: Some(patch.field_rules.unwrap_or(current.field_rules.0)),
        };
        self.store(validated(id, &input, current.created_at)?).await
    }

    async fn store(&self, supplier: Supplier) -> Result<Supplier> {
        match repo::update(&self.pool, &supplier).await {
            Ok(true) => {}
            Ok(false) => return Err(CatalogError::not_found(ENTITY, supplier.id).into()),
            Err(e) => return Err(Self::write_error(e, &supplier)),
        }
        self.forget(supplier.id).await;
        Ok(supplier)
    }

    /// Deletes a supplier that has no offers left (deactivate it instead to keep its history).
    pub async fn delete(&self, id: Uuid) -> Result<()> {
        match repo::delete(&self.pool, id).await {
            Ok(true) => {}
            Ok(false) => return Err(CatalogError::not_found(ENTITY, id).into()),
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                return Err(CatalogError::InUse { entity: ENTITY, key: id.to_string(), users: "offers".into() }.into());
            }
            Err(e) => return Err(DbError::from_sqlx(crate::db::Database::Catalog, e).into()),
        }
        self.forget(id).await;
        Ok(())
    }
}
