//! [`PriceService`].

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::window::{WindowedAmount, windows_text};
use super::{NewPrice, Price, PriceRow, PriceType, current_prices, repo};
use crate::Result;
use crate::analytics::EventKind;
use crate::cache::TieredCache;
use crate::catalog::common::{db_error, named_missing, now, product_changed};
use crate::catalog::{CatalogError, CurrencyCode, ProductService};
use crate::db::DbPool;

/// Sets, lists and resolves prices. A change invalidates the cached product.
#[derive(Debug, Clone)]
pub struct PriceService {
    pool: DbPool,
    cache: TieredCache,
    products: ProductService,
}

impl PriceService {
    pub(crate) fn new(pool: DbPool, cache: TieredCache, products: ProductService) -> Self {
        PriceService { pool, cache, products }
    }

    /// The same service, its prices recorded as set by `user` (the HTTP adapter passes the caller).
    pub fn on_behalf_of(mut self, user: Uuid) -> Self {
        self.products = self.products.on_behalf_of(user);
        self
    }

    /// Sets a price: without a window it replaces the open-ended price of its type and currency, with one it is
    /// added. Amounts are never negative; a window ends after it starts.
    pub async fn set(&self, input: NewPrice) -> Result<Price> {
        crate::catalog::codes::check_amount("amount.amount_minor", input.amount.amount_minor)?;
        if let (Some(from), Some(to)) = (input.valid_from, input.valid_to)
            && to <= from
        {
            return Err(CatalogError::invalid("valid_to", "must be after valid_from").into());
        }
        // A merged product's id names its survivor: the price, its lock and its source are the survivor's.
        let product_id = self.products.get(input.product_id).await.map_err(|e| named_missing(e, "product_id"))?.id;
        let input = NewPrice { product_id, ..input };
        let at = now();
        let row = PriceRow {
            id: Uuid::now_v7(),
            product_id: input.product_id,
            price_type: input.price_type.as_str().to_string(),
            amount_minor: input.amount.amount_minor,
            currency: input.amount.currency.as_str().to_string(),
            valid_from: input.valid_from,
            valid_to: input.valid_to,
            created_at: at,
            updated_at: at,
        };
        let open = row.valid_from.is_none() && row.valid_to.is_none();
        // An open-ended price is one field (`price:retail:EUR`); the windows of a type and currency another
        // (`price_windows:sale:EUR`): each has its setter recorded, and a lock keeps it.
        let field = crate::catalog::provenance::price_field(&row.price_type, &row.currency);
        let windows_field = crate::catalog::provenance::price_windows_field(&row.price_type, &row.currency);
        let guarded = if open { &field } else { &windows_field };
        self.products.refuse_locked(input.product_id, std::slice::from_ref(guarded)).await?;
        // Replacing an open price by the same amount is not a price change; a new price or window is.
        let before = if open {
            repo::for_products(&self.pool, &[input.product_id]).await.map_err(db_error)?.into_iter().find(|old| {
                old.valid_from.is_none()
                    && old.valid_to.is_none()
                    && old.price_type == row.price_type
                    && old.currency == row.currency
            })
        } else {
            None
        };
        let unchanged = before.as_ref().is_some_and(|old| old.amount_minor == row.amount_minor);
        if let Some(old) = before.as_ref().filter(|_| !unchanged)
            && !matches!(self.products.writer(), crate::catalog::FieldSource::Supplier { .. })
        {
            // The value a supplier set goes to its offer: a release gives it back.
            let shown = crate::catalog::provenance::shown_value(&field, &old.amount_minor.to_string());
            crate::catalog::provenance::repo::keep_suppliers_word(
                &self.pool,
                input.product_id,
                &[(field.clone(), shown)],
            )
            .await
            .map_err(db_error)?;
        }
        let stored = if open {
            repo::upsert_open(&self.pool, &row).await
        } else {
            repo::insert_windowed(&self.pool, &row).await
        }
        .map_err(db_error)?;
        if open && !unchanged {
            let fields = [(field, Some(row.amount_minor.to_string()))];
            crate::catalog::provenance::repo::record(&self.pool, input.product_id, &fields, self.products.writer(), at)
                .await
                .map_err(db_error)?;
        }
        if !open {
            self.record_windows(input.product_id, input.price_type, input.amount.currency, at).await?;
        }
        product_changed(&self.cache, input.product_id).await;
        if !unchanged {
            self.products.record(EventKind::PriceChanged { product_id: input.product_id, supplier_id: None });
        }
        stored.into_price().ok_or_else(|| CatalogError::invalid("price_type", "stored price does not parse").into())
    }

    /// Every price of a product, windows included.
    pub async fn for_product(&self, product_id: Uuid) -> Result<Vec<Price>> {
        let rows = repo::for_products(&self.pool, &[product_id]).await.map_err(db_error)?;
        Ok(rows.into_iter().filter_map(PriceRow::into_price).collect())
    }

    /// The prices that apply at `at`, one per type and currency.
    pub async fn current(&self, product_id: Uuid, at: DateTime<Utc>) -> Result<Vec<Price>> {
        Ok(current_prices(&self.for_product(product_id).await?, at))
    }

    /// Removes a price. A windowed price is one of its type and currency's windows: removed by a person, the
    /// windows are theirs from then on (a supplier file does not bring it back).
    pub async fn delete(&self, id: Uuid) -> Result<()> {
        let Some(price) = repo::by_id(&self.pool, id).await.map_err(db_error)?.and_then(PriceRow::into_price) else {
            return Err(CatalogError::not_found("price", id).into());
        };
        let (price_type, currency) = (price.price_type, price.amount.currency);
        let guarded = match price.is_open_ended() {
            true => crate::catalog::provenance::price_field(price_type.as_str(), currency.as_str()),
            false => crate::catalog::provenance::price_windows_field(price_type.as_str(), currency.as_str()),
        };
        self.products.refuse_locked(price.product_id, std::slice::from_ref(&guarded)).await?;
        match repo::delete(&self.pool, id).await.map_err(db_error)? {
            Some(product_id) => {
                if !price.is_open_ended() {
                    self.record_windows(product_id, price_type, currency, now()).await?;
                }
                product_changed(&self.cache, product_id).await;
                Ok(())
            }
            None => Err(CatalogError::not_found("price", id).into()),
        }
    }

    /// Replaces every windowed price of a type and currency by `windows` (a released field taking a supplier's
    /// word back), recorded as this service's writer.
    pub(crate) async fn replace_windows(
        &self,
        product_id: Uuid,
        price_type: PriceType,
        currency: CurrencyCode,
        windows: &[WindowedAmount],
    ) -> Result<()> {
        let at = now();
        repo::replace_windows(&self.pool, product_id, (price_type.as_str(), currency.as_str()), windows, at)
            .await
            .map_err(db_error)?;
        self.record_windows(product_id, price_type, currency, at).await?;
        product_changed(&self.cache, product_id).await;
        self.products.record(EventKind::PriceChanged { product_id, supplier_id: None });
        Ok(())
    }

    /// Records this service's writer as the setter of the product's windows of a type and currency, with their
    /// value now.
    async fn record_windows(
        &self,
        product_id: Uuid,
        price_type: PriceType,
        currency: CurrencyCode,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let windows: Vec<WindowedAmount> = self
            .for_product(product_id)
            .await?
            .into_iter()
            .filter(|p| p.price_type == price_type && p.amount.currency == currency && !p.is_open_ended())
            .map(|p| WindowedAmount { from: p.valid_from, to: p.valid_to, minor: p.amount.amount_minor })
            .collect();
        let field = crate::catalog::provenance::price_windows_field(price_type.as_str(), currency.as_str());
        let fields = [(field, Some(windows_text(currency, &windows)))];
        crate::catalog::provenance::repo::record(&self.pool, product_id, &fields, self.products.writer(), at)
            .await
            .map_err(db_error)
    }
}
