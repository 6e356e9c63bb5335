//! [`ExportService`].

use std::collections::HashSet;
use std::time::Duration;

use serde::Serialize;

use super::repo;
use crate::Result;
use crate::db::{Database, DbError, DbPool};
use crate::storage::ObjectStorage;

/// Where export files are kept in the object store.
pub const EXPORT_FILES_PREFIX: &str = "exports";

/// What a clean-up of export files did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FilesCleanup {
    /// Files looked at.
    pub examined: usize,
    /// Keys of the files removed.
    pub deleted: Vec<String>,
}

/// Export files and (with the exports work) export jobs.
#[derive(Debug, Clone)]
pub struct ExportService {
    pool: DbPool,
    storage: ObjectStorage,
}

impl ExportService {
    /// The service over the exports database `pool` and the object store.
    pub fn new(pool: DbPool, storage: ObjectStorage) -> Self {
        ExportService { pool, storage }
    }

    /// Removes the files under `exports/` that no export job refers to and that are older than `min_age` (so a
    /// file being written by a running export, not yet recorded, is left alone).
    pub async fn clean_orphaned_files(&self, min_age: Duration) -> Result<FilesCleanup> {
        let files = self.storage.list(EXPORT_FILES_PREFIX).await?;
        let referenced: HashSet<String> = repo::referenced_files(&self.pool)
            .await
            .map_err(|e| DbError::from_sqlx(Database::Exports, e))?
            .into_iter()
            .collect();
        let cutoff = chrono::Utc::now() - chrono::Duration::from_std(min_age).unwrap_or(chrono::Duration::MAX);
        let mut cleanup = FilesCleanup { examined: files.len(), deleted: Vec::new() };
        for file in files {
            if referenced.contains(&file.key) || file.last_modified > cutoff {
                continue;
            }
            self.storage.delete(&file.key).await?;
            tracing::info!(key = %file.key, "orphaned export file removed");
            cleanup.deleted.push(file.key);
        }
        Ok(cleanup)
    }
}
