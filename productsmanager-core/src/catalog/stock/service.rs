//! [`StockService`].

use uuid::Uuid;

use super::{NewStockLevel, StockLevel, repo};
use crate::Result;
use crate::cache::TieredCache;
use crate::catalog::common::{db_error, named_missing, now, optional_text, product_changed};
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

    /// Sets the stock of a product at a location (`default` when none is given); no more may be reserved than is
    /// in stock.
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
        self.products.get(input.product_id).await.map_err(|e| named_missing(e, "product_id"))?;
        let at = now();
        let level =
            StockLevel { product_id: input.product_id, location, quantity: input.quantity, reserved, updated_at: at };
        // A stock-out: the product's own stock, over all locations, goes from some to none.
        let levels = repo::for_products(&self.pool, &[input.product_id]).await.map_err(db_error)?;
        let available = |l: &StockLevel| (l.quantity - l.reserved).max(0);
        let before: i64 = levels.iter().map(available).sum();
        let others: i64 = levels.iter().filter(|l| l.location != level.location).map(available).sum();
        let stored = repo::upsert(&self.pool, &level, at).await.map_err(db_error)?;
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
