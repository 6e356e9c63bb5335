//! Exports SQL.

use crate::db::DbPool;
use crate::with_pool;

const REFERENCED_FILES: &str = "select output_object_key from export_jobs where output_object_key is not null";

/// The object keys export jobs refer to.
pub(super) async fn referenced_files(pool: &DbPool) -> Result<Vec<String>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(REFERENCED_FILES).fetch_all(p).await)
}
