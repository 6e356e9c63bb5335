//! [`OfferService`].

use uuid::Uuid;

use super::{NewOffer, Offer, OfferRow, repo};
use crate::Result;
use crate::cache::TieredCache;
use crate::catalog::common::{db_error, name_text, named_missing, now, product_changed};
use crate::catalog::{CatalogError, ProductService, SupplierService};
use crate::db::DbPool;

/// Records what suppliers offer and lists the offers of a product. A change invalidates the cached product
/// (whose best offer it may change).
#[derive(Debug, Clone)]
pub struct OfferService {
    pool: DbPool,
    cache: TieredCache,
    products: ProductService,
    suppliers: SupplierService,
}

impl OfferService {
    pub(crate) fn new(pool: DbPool, cache: TieredCache, products: ProductService, suppliers: SupplierService) -> Self {
        OfferService { pool, cache, products, suppliers }
    }

    async fn forget_product(&self, id: Uuid) {
        product_changed(&self.cache, id).await;
    }

    /// Records an offer: creates it, or updates the supplier's offer with the same SKU (which may move it to
    /// another product).
    pub async fn record(&self, input: NewOffer) -> Result<Offer> {
        let supplier_sku = name_text("supplier_sku", &input.supplier_sku, 100)?;
        if let Some(cost) = input.cost {
            crate::catalog::codes::check_amount("cost.amount_minor", cost.amount_minor)?;
        }
        if input.stock.is_some_and(|s| s < 0) {
            return Err(CatalogError::invalid("stock", "must not be negative").into());
        }
        if input.lead_time_days.is_some_and(|d| d < 0) {
            return Err(CatalogError::invalid("lead_time_days", "must not be negative").into());
        }
        // Checked here rather than from the foreign-key error, which SQLite does not attribute to a column.
        self.products.get(input.product_id).await.map_err(|e| named_missing(e, "product_id"))?;
        self.suppliers.get(input.supplier_id).await.map_err(|e| named_missing(e, "supplier_id"))?;
        let previous = repo::product_of(&self.pool, input.supplier_id, &supplier_sku).await.map_err(db_error)?;
        let at = now();
        let row = OfferRow {
            id: Uuid::now_v7(),
            product_id: input.product_id,
            supplier_id: input.supplier_id,
            supplier_sku,
            cost_minor: input.cost.map(|c| c.amount_minor),
            currency: input.cost.map(|c| c.currency.as_str().to_string()),
            stock: input.stock,
            lead_time_days: input.lead_time_days,
            is_available: input.is_available.unwrap_or(true),
            last_seen_at: Some(input.last_seen_at.unwrap_or(at)),
            not_taken: None,
            last_import_job_id: None,
            created_at: at,
            updated_at: at,
        };
        let stored = repo::upsert(&self.pool, &row).await.map_err(db_error)?;
        self.forget_product(stored.product_id).await;
        self.products.refresh_search(stored.product_id).await;
        if let Some(previous) = previous.filter(|p| *p != stored.product_id) {
            self.forget_product(previous).await;
            self.products.refresh_search(previous).await;
        }
        Ok(stored.into_offer())
    }

    /// Every offer for a product, by supplier SKU.
    pub async fn for_product(&self, product_id: Uuid) -> Result<Vec<Offer>> {
        let rows = repo::for_products(&self.pool, &[product_id]).await.map_err(db_error)?;
        Ok(rows.into_iter().map(OfferRow::into_offer).collect())
    }

    /// Removes an offer.
    pub async fn delete(&self, id: Uuid) -> Result<()> {
        match repo::delete(&self.pool, id).await.map_err(db_error)? {
            Some(product_id) => {
                self.forget_product(product_id).await;
                self.products.refresh_search(product_id).await;
                Ok(())
            }
            None => Err(CatalogError::not_found("offer", id).into()),
        }
    }
}
