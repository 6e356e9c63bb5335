//! [`ExportService`].

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use uuid::Uuid;

use super::error::db_error;
use super::feed::{self, Channel, FeedColumns};
use super::model::{ExportJob, FeedFormat, FeedProgress, FeedRequest, FeedSummary};
use super::{ExportError, repo};
use crate::Result;
use crate::auth::SecretBox;
use crate::catalog::{ProductRecord, ProductService};
use crate::db::DbPool;
use crate::jobs::{JobQueues, NewJob};
use crate::media::MediaService;
use crate::net::OutboundPolicy;
use crate::storage::{ObjectStorage, ObjectStream};

/// Where export files are kept in the object store.
pub const EXPORT_FILES_PREFIX: &str = "exports";

/// How long an in-process feed job's lease lasts; renewed every third of it while the feed is written.
pub(super) const INLINE_LEASE: Duration = Duration::from_secs(60);

/// What a clean-up of export files did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FilesCleanup {
    /// Files looked at.
    pub examined: usize,
    /// Keys of the files removed.
    pub deleted: Vec<String>,
}

/// Exports the catalog: feed files (CSV, XLSX, Google Merchant) written locally or kept in the object store under
/// `exports/YYYY/MM/DD/`, export jobs, and the clean-up of files no job refers to.
///
/// ```no_run
/// # async fn demo(sdk: &productsmanager_core::Sdk) -> productsmanager_core::Result<()> {
/// use productsmanager_core::exports::{FeedFormat, FeedRequest};
///
/// let request = FeedRequest { format: FeedFormat::ShopifyCsv, filters: Default::default(), settings: Default::default() };
/// let summary = sdk.exports().write_feed(&request, "shopify.csv".as_ref(), |_| {}).await?;
/// println!("{} products, {} rows", summary.products, summary.items);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ExportService {
    pub(super) pool: DbPool,
    storage: ObjectStorage,
    pub(super) products: ProductService,
    pub(super) jobs: JobQueues,
    pub(super) secrets: Arc<SecretBox>,
    media: MediaService,
    /// What platform endpoints may be reached ([`crate::net`]).
    pub(super) outbound: OutboundPolicy,
}

impl ExportService {
    /// The service over the exports database `pool`, the object store, the catalog, the job queues and the box
    /// platform credentials are sealed in.
    pub fn new(
        pool: DbPool,
        storage: ObjectStorage,
        products: ProductService,
        jobs: JobQueues,
        secrets: Arc<SecretBox>,
        media: MediaService,
    ) -> Self {
        ExportService { pool, storage, products, jobs, secrets, media, outbound: OutboundPolicy::default() }
    }

    /// The same service reaching platforms under `policy` (public addresses only by default).
    pub fn with_outbound(mut self, policy: OutboundPolicy) -> Self {
        self.outbound = policy;
        self
    }

    /// With `media.public_base_url` set, the products of `page` that have stored images go out with those.
    pub(super) async fn with_stored_images(&self, page: &mut [ProductRecord]) -> Result<()> {
        let ids: Vec<Uuid> = page.iter().map(|r| r.product.id).collect();
        let mut stored = self.media.public_image_urls(&ids).await?;
        for record in page {
            if let Some(urls) = stored.remove(&record.product.id) {
                record.image_urls = urls;
            }
        }
        Ok(())
    }

    /// Writes a feed to the local file `out`, whole or not at all: it is written beside it under a temporary
    /// name and renamed when complete. `on_progress` hears after each page of products.
    pub async fn write_feed(
        &self,
        request: &FeedRequest,
        out: &Path,
        on_progress: impl Fn(FeedProgress) + Send + Sync,
    ) -> Result<FeedSummary> {
        let output_error = |reason: String| ExportError::Output { path: out.display().to_string(), reason };
        let folder = match out.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let temporary = for_the_user(tempfile::Builder::new().prefix(".export-"))
            .tempfile_in(&folder)
            .map_err(|e| output_error(format!("cannot write in {}: {e}", folder.display())))?;
        let file = temporary.reopen().map_err(|e| output_error(e.to_string()))?;
        let mut summary = self.feed_into(request, file, &on_progress).await?;
        temporary.persist(out).map_err(|e| output_error(e.error.to_string()))?;
        summary.bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
        Ok(summary)
    }

    /// Writes a feed now, in this process, into the object store under `exports/YYYY/MM/DD/`, recorded as an
    /// export job (which no worker takes meanwhile). Returns the finished job; its file is [`ExportService::file`].
    pub async fn export_feed(
        &self,
        request: &FeedRequest,
        requested_by: Option<Uuid>,
        on_progress: impl Fn(FeedProgress) + Send + Sync,
    ) -> Result<ExportJob> {
        request.settings.check("settings")?;
        let owner = format!("inline-{}", Uuid::now_v7());
        let id = Uuid::now_v7();
        let now = self.jobs.now();
        let payload = serde_json::to_value(request).unwrap_or_default();
        let job = repo::RunningJob {
            id,
            kind: "feed",
            payload: &payload,
            format: Some(request.format.as_str()),
            platform_id: None,
            mode: "full",
            owner: &owner,
            lease_until: now + chrono::Duration::from_std(INLINE_LEASE).unwrap_or_default(),
            requested_by,
            now,
        };
        repo::insert_running(&self.pool, &job).await.map_err(db_error)?;
        self.inline(id, &owner, self.run_feed(id, request, &on_progress)).await?;
        self.job(id).await
    }

    /// Queues a feed for a worker (the `exports` queue, kind `feed`).
    pub async fn enqueue_feed(&self, request: &FeedRequest, requested_by: Option<Uuid>) -> Result<ExportJob> {
        request.settings.check("settings")?;
        self.enqueue("feed", serde_json::to_value(request).unwrap_or_default(), 3, requested_by).await
    }

    /// Queues a job of `kind` on the exports queue and answers it.
    pub(super) async fn enqueue(
        &self,
        kind: &str,
        payload: serde_json::Value,
        max_attempts: i32,
        requested_by: Option<Uuid>,
    ) -> Result<ExportJob> {
        let job = self
            .jobs
            .enqueue(NewJob {
                queue: "exports".into(),
                kind: kind.into(),
                payload,
                priority: 0,
                run_at: None,
                max_attempts: Some(max_attempts),
                dedup_key: None,
                requested_by,
            })
            .await?;
        self.job(job.id).await
    }

    /// The payload of queued job `id`, read as `T` (`what` names it in the error).
    pub(super) async fn payload_of<T: serde::de::DeserializeOwned>(&self, id: Uuid, what: &str) -> Result<T> {
        let job = self.jobs.for_queue("exports").get(id).await?;
        Ok(serde_json::from_value(job.payload)
            .map_err(|e| ExportError::invalid("payload", format!("not {what}: {e}")))?)
    }

    /// Runs a queued feed job (the worker's handler for kind `feed`).
    pub async fn run_feed_job(
        &self,
        id: Uuid,
        on_progress: impl Fn(FeedProgress) + Send + Sync,
    ) -> Result<FeedSummary> {
        let request: FeedRequest = self.payload_of(id, "a feed request").await?;
        self.run_feed(id, &request, &on_progress).await
    }

    async fn run_feed(
        &self,
        id: Uuid,
        request: &FeedRequest,
        on_progress: &(impl Fn(FeedProgress) + Send + Sync),
    ) -> Result<FeedSummary> {
        let now = self.jobs.now();
        repo::start_feed(&self.pool, id, request.format.as_str(), now).await.map_err(db_error)?;
        let temporary = tempfile::NamedTempFile::new().map_err(|e| ExportError::Output {
            path: std::env::temp_dir().display().to_string(),
            reason: e.to_string(),
        })?;
        let file = temporary
            .reopen()
            .map_err(|e| ExportError::Output { path: temporary.path().display().to_string(), reason: e.to_string() })?;
        let (pool, clock) = (self.pool.clone(), self.jobs.clone());
        let progress = |p: FeedProgress| {
            on_progress(p);
            let (pool, at) = (pool.clone(), clock.now());
            // Counters readable while it runs; a lost update is caught up by the next page.
            tokio::spawn(async move {
                let _ = repo::feed_progress(&pool, id, p.products as i64, p.items as i64, at).await;
            });
        };
        let mut summary = self.feed_into(request, file, &progress).await?;
        let key = format!(
            "{EXPORT_FILES_PREFIX}/{}/{id}-{}.{}",
            now.format("%Y/%m/%d"),
            request.format.as_str().replace('_', "-"),
            request.format.extension()
        );
        let (size, _) = self.storage.put_file(&key, temporary.path()).await.map_err(ExportError::from)?;
        summary.bytes = size;
        let counts = (summary.products as i64, summary.items as i64, summary.skipped as i64);
        if let Err(e) = repo::finish_feed(&self.pool, id, &key, counts, &summary.missing, self.jobs.now()).await {
            if let Err(cleanup) = self.storage.delete(&key).await {
                tracing::warn!(key = %key, error = %cleanup, "export file left behind (the daily clean-up removes it)");
            }
            return Err(db_error(e));
        }
        Ok(summary)
    }

    /// Writes the feed into `file` from a blocking thread, fed a page of records at a time by this task.
    async fn feed_into(
        &self,
        request: &FeedRequest,
        file: std::fs::File,
        on_progress: &(impl Fn(FeedProgress) + Send + Sync),
    ) -> Result<FeedSummary> {
        request.settings.check("settings")?;
        let mut reader = self.products.records(request.filters.query()).await?;
        let columns = FeedColumns {
            attributes: reader.attribute_names().clone(),
            axes: reader.variant_axes().clone(),
            currencies: match &request.settings.currency {
                Some(currency) => std::iter::once(currency.to_string()).collect(),
                None => reader.currencies().clone(),
            },
            currency: request.settings.currency,
            seo_locales: reader.seo_locales().clone(),
            stock_locations: reader.stock_locations().clone(),
        };
        let (format, settings) = (request.format, request.settings.clone());
        let counters = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
        let (pages, mut received) = tokio::sync::mpsc::channel::<Vec<ProductRecord>>(2);
        let writer_counters = counters.clone();
        let writing = tokio::task::spawn_blocking(move || -> std::io::Result<FeedSummary> {
            let out: Box<dyn Write + Send> = Box::new(file);
            let mut writer = feed::writer(format, out, &columns, &settings)?;
            let mut channel = Channel::new(settings);
            let mut summary = FeedSummary::default();
            while let Some(page) = received.blocking_recv() {
                for record in &page {
                    let item = channel.item(record);
                    summary.products += 1;
                    let written = if feed::wanted(format, &item) { writer.write(&item)? } else { 0 };
                    summary.items += written;
                    if written == 0 && !item.has_variants() {
                        summary.skipped += 1;
                    }
                }
                writer_counters.0.store(summary.products, Ordering::Relaxed);
                writer_counters.1.store(summary.items, Ordering::Relaxed);
            }
            summary.missing = writer.missing().into_iter().map(|(name, items)| (name.to_string(), items)).collect();
            writer.finish()?;
            Ok(summary)
        });
        let mut read_error = None;
        loop {
            let page = match reader.next_page().await {
                Ok(Some(mut page)) => self.with_stored_images(&mut page).await.map(|()| Some(page)),
                other => other,
            };
            match page {
                Ok(Some(page)) => {
                    if pages.send(page).await.is_err() {
                        break; // the writer stopped: its error is reported below
                    }
                    on_progress(FeedProgress {
                        products: counters.0.load(Ordering::Relaxed),
                        items: counters.1.load(Ordering::Relaxed),
                    });
                }
                Ok(None) => break,
                Err(e) => {
                    read_error = Some(e);
                    break;
                }
            }
        }
        drop(pages);
        let written = writing.await.map_err(|e| ExportError::Output { path: "feed".into(), reason: e.to_string() })?;
        if let Some(e) = read_error {
            return Err(e);
        }
        let summary = written.map_err(|e| ExportError::Output { path: "feed".into(), reason: e.to_string() })?;
        on_progress(FeedProgress { products: summary.products, items: summary.items });
        Ok(summary)
    }

    /// An export job.
    pub async fn job(&self, id: Uuid) -> Result<ExportJob> {
        let row = repo::job(&self.pool, id)
            .await
            .map_err(db_error)?
            .ok_or_else(|| ExportError::NotFound { entity: "export job", id: id.to_string() })?;
        Ok(into_job(row))
    }

    /// A page of export jobs, newest first; `cursor` is the previous page's `next_cursor`.
    pub async fn jobs_page(&self, limit: u32, cursor: Option<&str>) -> Result<crate::catalog::Page<ExportJob>> {
        let limit = limit.clamp(1, 1000);
        let after = crate::jobs::after_cursor(cursor)?;
        let rows = repo::recent_jobs(&self.pool, i64::from(limit) + 1, after).await.map_err(db_error)?;
        let jobs = rows.into_iter().map(into_job).collect();
        Ok(crate::catalog::Page::from_extra(jobs, limit as usize, |j| crate::jobs::cursor(j.created_at, j.id)))
    }

    /// The file of a feed job: its format, size and bytes as a stream.
    pub async fn file(&self, id: Uuid) -> Result<(FeedFormat, u64, ObjectStream)> {
        let job = self.job(id).await?;
        let (Some(format), Some(key)) = (job.format, job.output_object_key) else {
            return Err(ExportError::NotFound { entity: "export file of job", id: id.to_string() }.into());
        };
        let (size, stream) = self.storage.stream(&key).await.map_err(ExportError::from)?;
        Ok((format, size, stream))
    }

    /// Saves the file of a feed job to the local file `out` (whole or not at all). Returns its size.
    pub async fn save_file(&self, id: Uuid, out: &Path) -> Result<u64> {
        use futures_util::StreamExt;
        let output_error = |reason: String| ExportError::Output { path: out.display().to_string(), reason };
        let (_, _, mut stream) = self.file(id).await?;
        let folder = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let temporary = for_the_user(tempfile::Builder::new().prefix(".download-"))
            .tempfile_in(folder)
            .map_err(|e| output_error(format!("cannot write in {}: {e}", folder.display())))?;
        let mut file = tokio::fs::File::from_std(temporary.reopen().map_err(|e| output_error(e.to_string()))?);
        let mut size = 0_u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(ExportError::from)?;
            size += chunk.len() as u64;
            tokio::io::AsyncWriteExt::write_all(&mut file, &chunk).await.map_err(|e| output_error(e.to_string()))?;
        }
        tokio::io::AsyncWriteExt::flush(&mut file).await.map_err(|e| output_error(e.to_string()))?;
        temporary.persist(out).map_err(|e| output_error(e.error.to_string()))?;
        Ok(size)
    }

    /// Removes the files under `exports/` that no export job refers to and that are older than `min_age` (so a
    /// file being written by a running export, not yet recorded, is left alone).
    pub async fn clean_orphaned_files(&self, min_age: Duration) -> Result<FilesCleanup> {
        let files = self.storage.list(EXPORT_FILES_PREFIX).await?;
        let referenced: HashSet<String> =
            repo::referenced_files(&self.pool).await.map_err(db_error)?.into_iter().collect();
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

fn into_job(row: repo::ExportJobRow) -> ExportJob {
    ExportJob {
        id: row.id,
        state: row.state,
        platform_id: row.platform_id,
        mode: row.mode,
        format: row.format.and_then(|f| f.parse().ok()),
        output_object_key: row.output_object_key,
        items_total: row.items_total,
        items_processed: row.items_processed,
        items_created: row.items_created,
        items_updated: row.items_updated,
        items_unchanged: row.items_unchanged,
        items_failed: row.items_failed,
        items_skipped: row.items_skipped,
        missing: row
            .progress
            .and_then(|progress| serde_json::from_value(progress.0.get("missing")?.clone()).ok())
            .unwrap_or_default(),
        last_error: row.last_error,
        created_by: row.created_by,
        started_at: row.started_at,
        finished_at: row.finished_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// A temporary file that becomes a file of the user's (a feed, a download) by its rename: created with the mode any
/// new file of theirs gets (0666 less the umask, 0644 usually), not a temporary file's owner-only 0600, which the
/// rename would keep.
fn for_the_user<'b, 'p, 's>(builder: &'b mut tempfile::Builder<'p, 's>) -> &'b mut tempfile::Builder<'p, 's> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666))
    }
    #[cfg(not(unix))]
    {
        builder
    }
}
