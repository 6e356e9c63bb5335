//! [`StockService`].

use uuid::Uuid;

use super::{NewStockLevel, StockLevel, repo};
use crate::Result;
use crate::cache::TieredCache;
use crate::catalog::common::{db_error, named_missing, now, optional_text, product_changed};
use crate::catalog::provenance::stock_field;
use crate::catalog::{CatalogError, ProductService};
use crate::db::DbPool;

/// Sets and reads own stock levels. A change invalidates the cached product.
#[derive(Debug, Clone)]
pub struct StockService {
    pool: DbPool,
    cache: TieredCache,
    products: ProductService,
}

impl StockService {
    pub(crate) fn new(pool: DbPool, cache: TieredCache, products: ProductService) -> Self {
        StockService { pool, cache, products }
    }

    /// The same service, its stock recorded as set by `user` (the HTTP adapter passes the caller).
    pub fn on_behalf_of(mut self, user: Uuid) -> Self {
        self.products = self.products.on_behalf_of(user);
        self
    }

    /// Sets the stock of a product at a location (`default` when none is given); no more may be reserved than is
    /// in stock. A new quantity is recorded as set by this service's writer (field `stock`, or
    /// `stock:<location>`), so a supplier's or shop's next file leaves it until a person releases it; refused
    /// while that field is locked.
    pub async fn set(&self, input: NewStockLevel) -> Result<StockLevel> {
        let reserved = input.reserved.unwrap_or(0);
        if reserved < 0 {
            return Err(CatalogError::invalid("reserved", "must not be negative").into());
        }
        // Reserved units are units on hand promised to orders: never more than there are.
        if reserved > 0 && reserved > input.quantity {
            let reason = format!("{reserved} reserved is more than the {} in stock", input.quantity);
            return Err(CatalogError::invalid("reserved", reason).into());
        }
        let location = optional_text("location", input.location.as_deref(), 100)?.unwrap_or_else(|| "default".into());
        // A merged product's id names its survivor: the stock, its lock and its source are the survivor's.
        let product_id = self.products.get(input.product_id).await.map_err(|e| named_missing(e, "product_id"))?.id;
        let input = NewStockLevel { product_id, ..input };
        let field = stock_field(&location);
        self.products.refuse_locked(input.product_id, std::slice::from_ref(&field)).await?;
        let at = now();
        let level =
            StockLevel { product_id: input.product_id, location, quantity: input.quantity, reserved, updated_at: at };
        // A stock-out: the product's own stock, over all locations, goes from some to none.
        let levels = repo::for_products(&self.pool, &[input.product_id]).await.map_err(db_error)?;
        let available = |l: &StockLevel| (l.quantity - l.reserved).max(0);
        let before: i64 = levels.iter().map(available).sum();
        let others: i64 = levels.iter().filter(|l| l.location != level.location).map(available).sum();
        let quantity_before = levels.iter().find(|l| l.location == level.location).map(|l| l.quantity);
        if let Some(before) = quantity_before.filter(|q| *q != level.quantity)
            && !matches!(self.products.writer(), crate::catalog::FieldSource::Supplier { .. })
        {
            // The count a shop's file set goes to its offer: a release gives it back.
            let replaced = [(field.clone(), before.to_string())];
            crate::catalog::provenance::repo::keep_suppliers_word(&self.pool, input.product_id, &replaced)
                .await
                .map_err(db_error)?;
        }
        let stored = repo::upsert(&self.pool, &level, at).await.map_err(db_error)?;
        if quantity_before != Some(stored.quantity) {
            let fields = [(field, Some(stored.quantity.to_string()))];
            crate::catalog::provenance::repo::record(&self.pool, input.product_id, &fields, self.products.writer(), at)
                .await
                .map_err(db_error)?;
        }
        product_changed(&self.cache, input.product_id).await;
        if before > 0 && others + available(&stored) == 0 {
            self.products.record(crate::analytics::EventKind::StockOut { product_id: input.product_id });
        }
        Ok(stored)
    }

    /// Every location's level for a product.
    pub async fn levels(&self, product_id: Uuid) -> Result<Vec<StockLevel>> {
        repo::for_products(&self.pool, &[product_id]).await.map_err(db_error)
    }
}
