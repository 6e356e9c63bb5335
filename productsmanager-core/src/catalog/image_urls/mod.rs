//! Image URLs found in supplier files (`product_images`, written by imports), and whether the media service has
//! fetched each one yet.

mod repo;

pub(crate) use repo::sources_of;

use chrono::Utc;
use uuid::Uuid;

use crate::Result;
use crate::db::{Database, DbError, DbPool};

/// An image URL of a product waiting to be fetched.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingImage {
    pub id: Uuid,
    pub product_id: Uuid,
    pub url: String,
    pub fetch_attempts: i32,
}

fn db_error(error: sqlx::Error) -> crate::Error {
    DbError::from_sqlx(Database::Catalog, error).into()
}

/// The catalog's side of image fetching. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ImageUrlService {
    pool: DbPool,
}

impl ImageUrlService {
    pub fn new(pool: DbPool) -> Self {
        ImageUrlService { pool }
    }

    /// Up to `limit` URLs not fetched yet, tried fewer than `max_attempts` times, after `after` (an id; `None`
    /// from the start), in id order.
    pub async fn pending(&self, after: Option<Uuid>, max_attempts: i32, limit: i64) -> Result<Vec<PendingImage>> {
        repo::pending(&self.pool, after.unwrap_or_default(), max_attempts, limit).await.map_err(db_error)
    }

    /// Records that the URL was fetched into the image `media_file_id`.
    pub async fn fetched(&self, id: Uuid, media_file_id: Uuid) -> Result<()> {
        repo::fetched(&self.pool, id, media_file_id, Utc::now()).await.map_err(db_error)
    }

    /// Records a failed try and why; after `max_attempts` the URL is no longer pending.
    pub async fn failed(&self, id: Uuid, error: &str) -> Result<()> {
        let error: String = error.chars().take(1000).collect();
        repo::failed(&self.pool, id, &error, Utc::now()).await.map_err(db_error)
    }

    /// How many URLs wait to be fetched (tried fewer than `max_attempts` times).
    pub async fn count_pending(&self, max_attempts: i32) -> Result<i64> {
        repo::count_pending(&self.pool, max_attempts).await.map_err(db_error)
    }
}
