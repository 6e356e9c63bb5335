//! The catalog's side of Code2ASIN: which products have a GTIN and no ASIN yet, and what the catalog knows of the
//! products of some GTINs (to judge a match). ASINs are written through [`ProductService`](super::ProductService),
//! so versions, history and caches stay right.

mod repo;

use uuid::Uuid;

use crate::Result;
use crate::db::{Database, DbError, DbPool};

/// A live product found by its GTIN, with what a match is judged against.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GtinProduct {
    pub id: Uuid,
    /// GTIN-14.
    pub gtin: String,
    pub asin: Option<String>,
    pub title: String,
    pub brand: Option<String>,
}

fn db_error(error: sqlx::Error) -> crate::Error {
    DbError::from_sqlx(Database::Catalog, error).into()
}

/// Catalog queries of Code2ASIN. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AsinService {
    pool: DbPool,
}

impl AsinService {
    pub fn new(pool: DbPool) -> Self {
        AsinService { pool }
    }

    /// The live products with these GTIN-14s (at most 1,000 per call).
    pub async fn products_by_gtin(&self, gtins: &[String]) -> Result<Vec<GtinProduct>> {
        let mut found = Vec::with_capacity(gtins.len());
        for page in gtins.chunks(1000) {
            found.extend(repo::by_gtins(&self.pool, page).await.map_err(db_error)?);
        }
        Ok(found)
    }

    /// GTIN-14s of the live products without an ASIN, in GTIN order; only those offered by `supplier` when given.
    pub async fn gtins_without_asin(&self, supplier: Option<Uuid>) -> Result<Vec<String>> {
        repo::gtins_without_asin(&self.pool, supplier).await.map_err(db_error)
    }
}
