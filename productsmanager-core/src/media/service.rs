//! `MediaService`.

use std::collections::HashSet;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::budget::{self, DecodeBudget};
use super::download::Downloader;
use super::model::{
    Content, FetchReport, MediaFile, MediaMetadata, NewImage, QrCode, QrFormat, Rendition, Thumbnail, Upload, Variant,
};
use super::picture::{self, Format, Header, Technical};
use super::{MediaError, repo};
use crate::Result;
use crate::catalog::{ImageUrlService, PendingImage, Product, ProductService};
use crate::config::{MediaConfig, ThumbnailFormat};
use crate::db::{Database, DbError, DbPool};
use crate::jobs::{JobQueues, NewJob};
use crate::storage::{ObjectStorage, StorageError};

/// The media queue and the kind of its thumbnail jobs.
pub(crate) const QUEUE: &str = "media";
pub(crate) const THUMBNAILS_JOB: &str = "thumbnails";
pub(crate) const FETCH_JOB: &str = "fetch_images";

/// Tries at an image URL before it is left alone.
const MAX_FETCH_ATTEMPTS: i32 = 3;

/// Image URLs downloaded at once by a fetch run.
const PARALLEL_DOWNLOADS: usize = 4;

/// Failures a fetch run names in its one log line.
const FAILURE_SAMPLES: usize = 3;

fn db_error(error: sqlx::Error) -> crate::Error {
    DbError::from_sqlx(Database::Media, error).into()
}

/// Product images over the object store and the media database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct MediaService {
    pool: DbPool,
    products: ProductService,
    image_urls: ImageUrlService,
    storage: ObjectStorage,
    jobs: JobQueues,
    config: MediaConfig,
    decodes: DecodeBudget,
}

impl MediaService {
    pub fn new(
        pool: DbPool,
        products: ProductService,
        image_urls: ImageUrlService,
        storage: ObjectStorage,
        jobs: JobQueues,
        config: MediaConfig,
    ) -> Self {
        let decodes = DecodeBudget::new(u32::try_from(config.decode_memory_mib).unwrap_or(u32::MAX));
        MediaService { pool, products, image_urls, storage, jobs, config, decodes }
    }

    /// The same service decoding under `budget`, shared with every other user of it (the SDK shares one per
    /// process; by default each service has its own, of `media.decode_memory_mib`).
    pub fn with_decode_budget(mut self, budget: DecodeBudget) -> Self {
        self.decodes = budget;
        self
    }

    /// The memory image decodes may take at once, and what of it is free now.
    pub fn decode_budget(&self) -> &DecodeBudget {
        &self.decodes
    }

    /// The public URLs of these products' stored images (originals, in their order), by product; empty when
    /// `media.public_base_url` is not set (the store is not public).
    pub async fn public_image_urls(&self, products: &[Uuid]) -> Result<std::collections::HashMap<Uuid, Vec<String>>> {
        let mut urls: std::collections::HashMap<Uuid, Vec<String>> = std::collections::HashMap::new();
        let Some(base) = &self.config.public_base_url else { return Ok(urls) };
        let base = base.trim_end_matches('/');
        for (product, key) in repo::originals_of(&self.pool, products).await.map_err(db_error)? {
            urls.entry(product).or_default().push(format!("{base}/{key}"));
        }
        Ok(urls)
    }

    fn downloader(&self) -> Downloader {
        Downloader {
            timeout: std::time::Duration::from_secs(self.config.download_timeout_secs),
            max_bytes: self.config.max_upload_bytes,
            policy: if self.config.allow_private_downloads {
                crate::net::OutboundPolicy::allowing_private()
            } else {
                crate::net::OutboundPolicy::public_only()
            },
        }
    }

    /// Downloads an image (http or https; public addresses only unless `media.allow_private_downloads`; the size
    /// and time limits of the configuration) and stores it for a product like [`upload`](Self::upload), with
    /// the URL as its source.
    pub async fn upload_from_url(&self, product: &str, url: &str, uploaded_by: Option<Uuid>) -> Result<Upload> {
        self.download_and_store(product, url, uploaded_by, Some(budget::UPLOAD_WAIT)).await
    }

    /// [`upload_from_url`](Self::upload_from_url), waiting for room in the decode budget at most `wait` (`None`:
    /// a background fetch, which waits its turn).
    async fn download_and_store(
        &self,
        product: &str,
        url: &str,
        uploaded_by: Option<Uuid>,
        wait: Option<std::time::Duration>,
    ) -> Result<Upload> {
        // The product first: no download for a product that does not exist.
        let product = self.products.find(product).await?;
        let bytes = self.downloader().fetch(url).await?;
        let filename = url::Url::parse(url)
            .ok()
            .and_then(|u| u.path_segments().and_then(|mut s| s.next_back().map(str::to_string)))
            .filter(|name| !name.is_empty());
        let input = NewImage {
            filename,
            source_url: Some(url.to_string()),
            uploaded_by,
            ..NewImage::new(product.id.to_string(), bytes)
        };
        self.store(input, wait).await
    }

    /// Fetches the image URLs imports found that are not fetched yet (each tried up to three times over
    /// successive runs), four downloads at a time, each stored as an image of its product. A URL that fails is
    /// recorded with why; only the databases or the object store being down stop the run (it is then retried).
    pub async fn fetch_pending(&self) -> Result<FetchReport> {
        use futures_util::StreamExt;
        let mut report = FetchReport::default();
        let mut after = None;
        loop {
            let batch = self.image_urls.pending(after, MAX_FETCH_ATTEMPTS, 50).await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.id);
            let mut outcomes = futures_util::stream::iter(batch)
                .map(|pending| self.fetch_one(pending))
                .buffer_unordered(PARALLEL_DOWNLOADS);
            while let Some(outcome) = outcomes.next().await {
                match outcome? {
                    None => report.fetched += 1,
                    Some(failure) => {
                        report.failed += 1;
                        if report.samples.len() < FAILURE_SAMPLES {
                            report.samples.push(failure);
                        }
                    }
                }
            }
        }
        // One line per run, not one per URL (a supplier file can name thousands that are gone); each failure is
        // kept on its URL, and logged one by one at debug level.
        if report.failed > 0 {
            tracing::warn!(
                fetched = report.fetched,
                failed = report.failed,
                samples = %report.samples.join("; "),
                "image URLs not fetched"
            );
        } else if report.fetched > 0 {
            tracing::info!(fetched = report.fetched, "image URLs fetched");
        }
        Ok(report)
    }

    /// `None` when fetched, `url: why` when this URL failed (recorded on it); an error when the service itself is
    /// down.
    async fn fetch_one(&self, pending: PendingImage) -> Result<Option<String>> {
        // In the background: waits for room in the decode budget rather than failing the run as busy.
        match self.download_and_store(&pending.product_id.to_string(), &pending.url, None, None).await {
            Ok(upload) => {
                self.image_urls.fetched(pending.id, upload.file.id).await?;
                Ok(None)
            }
            Err(e) if e.kind() == crate::ErrorKind::Unavailable => Err(e),
            Err(e) => {
                tracing::debug!(url = %pending.url, product = %pending.product_id, error = %e, "image not fetched");
                self.image_urls.failed(pending.id, &e.to_string()).await?;
                Ok(Some(format!("{}: {e}", pending.url)))
            }
        }
    }

    /// Queues a run of [`fetch_pending`](Self::fetch_pending) on the media queue, once per `reason` (an import
    /// job's id).
    pub async fn fetch_later(&self, reason: Uuid) -> Result<Uuid> {
        let job = NewJob {
            queue: QUEUE.into(),
            kind: FETCH_JOB.into(),
            dedup_key: Some(format!("{FETCH_JOB}:{reason}")),
            ..Default::default()
        };
        Ok(self.jobs.enqueue(job).await?.id)
    }

    /// Stores an image for a product. The bytes decide the type (JPEG, PNG or WebP; anything else, SVG included,
    /// is refused), the size and pixel limits are checked before decoding, and the whole image is decoded once so
    /// a truncated file is refused. The same image stored again for the same product is not stored twice
    /// (`created: false`). Thumbnails are made by a media job when a worker serves the media queue, else before
    /// this returns. Nothing is left behind when it fails.
    pub async fn upload(&self, input: NewImage) -> Result<Upload> {
        self.store(input, Some(budget::UPLOAD_WAIT)).await
    }

    /// [`upload`](Self::upload), waiting for room in the decode budget at most `wait` (`None`: as long as it takes).
    async fn store(&self, input: NewImage, wait: Option<std::time::Duration>) -> Result<Upload> {
        let size = input.bytes.len() as u64;
        if size > self.config.max_upload_bytes {
            return Err(MediaError::TooLarge {
                reason: format!(
                    "{size} bytes is over the limit of {} bytes (media.max_upload_bytes)",
                    self.config.max_upload_bytes
                ),
            }
            .into());
        }
        let product = self.products.find(&input.product).await?;
        let (header, technical) = self.inspect(input.bytes.clone(), wait).await?;
        let sha256 = format!("{:x}", Sha256::digest(&input.bytes));
        if let Some(existing) = repo::file_by_content(&self.pool, product.id, &sha256).await.map_err(db_error)? {
            let file = self.with_thumbnails(existing).await?;
            return Ok(Upload { file, created: false, thumbnails_job: None });
        }
        let object_key = original_key(product.id, &sha256, header.format);
        self.storage.put(&object_key, input.bytes.clone()).await?;
        let file = match self.insert(&input, &product, &header, &technical, &sha256, &object_key).await {
            Ok(file) => file,
            Err(e) => {
                // Another upload of the same image may have won the race: its row owns the object then.
                if let Ok(Some(existing)) = repo::file_by_content(&self.pool, product.id, &sha256).await {
                    let file = self.with_thumbnails(existing).await?;
                    return Ok(Upload { file, created: false, thumbnails_job: None });
                }
                if let Err(cleanup) = self.storage.delete(&object_key).await {
                    tracing::warn!(key = %object_key, error = %cleanup, "stored image left behind after a failed upload");
                }
                return Err(e);
            }
        };
        let thumbnails_job = self.thumbnails_later_or_now(file.id, input.uploaded_by).await?;
        let file = self.get(file.id).await?;
        Ok(Upload { file, created: true, thumbnails_job })
    }

    async fn insert(
        &self,
        input: &NewImage,
        product: &Product,
        header: &Header,
        technical: &Technical,
        sha256: &str,
        object_key: &str,
    ) -> Result<MediaFile> {
        let dimension = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        let id = Uuid::now_v7();
        let metadata = MediaMetadata {
            media_file_id: id,
            width: Some(dimension(header.width)),
            height: Some(dimension(header.height)),
            format: Some(header.format.name().to_string()),
            color_space: Some(technical.color_space.clone()),
            bit_depth: Some(i32::from(technical.bit_depth)),
            has_alpha: Some(technical.has_alpha),
            orientation: technical.orientation.map(i32::from),
            camera_make: technical.camera_make.clone(),
            camera_model: technical.camera_model.clone(),
            lens_model: technical.lens_model.clone(),
            taken_at: technical.taken_at.map(|t| t.and_utc()),
            has_gps: technical.has_gps,
        };
        fn clean(text: &Option<String>) -> Option<&str> {
            text.as_deref().map(str::trim).filter(|t| !t.is_empty())
        }
        let row = repo::NewFile {
            id,
            product_id: product.id,
            sha256,
            object_key,
            content_type: header.format.content_type(),
            size_bytes: i64::try_from(input.bytes.len()).unwrap_or(i64::MAX),
            width: dimension(header.width),
            height: dimension(header.height),
            original_filename: clean(&input.filename),
            source_url: clean(&input.source_url),
            alt_text: clean(&input.alt_text),
            uploaded_by: input.uploaded_by,
            now: chrono::Utc::now(),
            metadata: &metadata,
            exif: technical.exif.as_ref(),
        };
        let inserted = match repo::insert_file(&self.pool, &row).await {
            // Two first images of a product at once: the main-image index refused this one; it is not main.
            Err(e) if DbError::unique_violation(&e).is_some_and(|c| !c.contains("sha256")) => {
                repo::insert_file(&self.pool, &row).await
            }
            other => other,
        };
        Ok(inserted.map_err(db_error)?.with(Vec::new()))
    }

    /// Queues the thumbnails when a worker serves the media queue; makes them now otherwise.
    async fn thumbnails_later_or_now(&self, file: Uuid, requested_by: Option<Uuid>) -> Result<Option<Uuid>> {
        if self.jobs.stats(QUEUE).await?.workers > 0 {
            let job = NewJob {
                queue: QUEUE.into(),
                kind: THUMBNAILS_JOB.into(),
                payload: serde_json::json!({ "media_file_id": file }),
                requested_by,
                ..Default::default()
            };
            return Ok(Some(self.jobs.enqueue(job).await?.id));
        }
        self.make_thumbnails(file).await?;
        Ok(None)
    }

    /// The header (over the pixel limit: refused), then the whole image decoded (so a truncated one fails here)
    /// and its metadata, off the runtime, once the decode budget has room (waiting at most `wait`, then answered
    /// 503). The reservation lives as long as the decode, even when the caller gives up first.
    async fn inspect(&self, bytes: Bytes, wait: Option<std::time::Duration>) -> Result<(Header, Technical)> {
        let header = picture::header(&bytes, self.config.max_pixels)?;
        let reservation = self.decodes.reserve(budget::decode_cost_mib(&header), wait).await?;
        let checked = tokio::task::spawn_blocking(move || {
            let _reservation = reservation;
            let image = picture::decode(&bytes, header)?;
            Ok::<_, MediaError>((header, picture::technical(&bytes, &image)))
        })
        .await
        .map_err(|e| MediaError::Processing { reason: e.to_string() })??;
        Ok(checked)
    }

    /// Makes (again) the small, medium and large thumbnails of an image, in the configured format; what a
    /// thumbnails job runs.
    pub async fn make_thumbnails(&self, id: Uuid) -> Result<Vec<Thumbnail>> {
        let file = self.get(id).await?;
        let bytes = self.storage.get(&file.object_key).await?;
        let (format, quality) = (self.config.thumbnail_format, u8::try_from(self.config.jpeg_quality).unwrap_or(85));
        let header = picture::header(&bytes, self.config.max_pixels)?;
        // A job waits its turn for the memory its decode takes.
        let reservation = self.decodes.reserve(budget::decode_cost_mib(&header), None).await?;
        let made = tokio::task::spawn_blocking(move || {
            let _reservation = reservation;
            let image = picture::decode(&bytes, header)?;
            picture::thumbnails(&image, format, quality)
        })
        .await
        .map_err(|e| MediaError::Processing { reason: e.to_string() })??;
        let (extension, content_type, format_name) = match format {
            ThumbnailFormat::Jpeg => ("jpg", "image/jpeg", "jpeg"),
            ThumbnailFormat::Webp => ("webp", "image/webp", "webp"),
        };
        let now = chrono::Utc::now();
        let mut thumbnails = Vec::with_capacity(made.len());
        for encoded in made {
            let object_key = format!(
                "{}-{}.{extension}",
                file.object_key.rsplit_once('.').map_or(&*file.object_key, |(stem, _)| stem),
                encoded.size
            );
            let size_bytes = i64::try_from(encoded.bytes.len()).unwrap_or(i64::MAX);
            self.storage.put(&object_key, Bytes::from(encoded.bytes)).await?;
            let thumbnail = Thumbnail {
                media_file_id: file.id,
                size: encoded.size.to_string(),
                format: format_name.to_string(),
                width: i32::try_from(encoded.width).unwrap_or(i32::MAX),
                height: i32::try_from(encoded.height).unwrap_or(i32::MAX),
                content_type: content_type.to_string(),
                object_key,
                size_bytes,
            };
            repo::upsert_thumbnail(&self.pool, &thumbnail, now).await.map_err(db_error)?;
            thumbnails.push(thumbnail);
        }
        Ok(thumbnails)
    }

    /// An image with its thumbnails.
    pub async fn get(&self, id: Uuid) -> Result<MediaFile> {
        let row =
            repo::file(&self.pool, id).await.map_err(db_error)?.ok_or_else(|| MediaError::not_found("image", id))?;
        self.with_thumbnails(row).await
    }

    async fn with_thumbnails(&self, row: repo::FileRow) -> Result<MediaFile> {
        let file = row.with(Vec::new());
        let thumbnails = repo::thumbnails_of_file(&self.pool, file.id).await.map_err(db_error)?;
        Ok(MediaFile { thumbnails, ..file })
    }

    /// A product's images (id, GTIN or SKU), in order, with their thumbnails; two queries.
    pub async fn list(&self, product: &str) -> Result<Vec<MediaFile>> {
        let product = self.products.find(product).await?;
        self.of_product(product.id).await
    }

    async fn of_product(&self, product: Uuid) -> Result<Vec<MediaFile>> {
        let rows = repo::files_of_product(&self.pool, product).await.map_err(db_error)?;
        let mut thumbnails = repo::thumbnails_of_product(&self.pool, product).await.map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let file = row.with(Vec::new());
                let (mine, rest): (Vec<_>, Vec<_>) = thumbnails.drain(..).partition(|t| t.media_file_id == file.id);
                thumbnails = rest;
                MediaFile { thumbnails: mine, ..file }
            })
            .collect())
    }

    /// Technical metadata and camera fields of an image.
    pub async fn metadata(&self, id: Uuid) -> Result<MediaMetadata> {
        repo::metadata(&self.pool, id).await.map_err(db_error)?.ok_or_else(|| MediaError::not_found("image", id).into())
    }

    /// Every EXIF field of the original (GPS included): internal, never served by the HTTP API.
    pub async fn exif(&self, id: Uuid) -> Result<Option<serde_json::Map<String, serde_json::Value>>> {
        let found =
            repo::exif(&self.pool, id).await.map_err(db_error)?.ok_or_else(|| MediaError::not_found("image", id))?;
        Ok(found.map(|json| json.0))
    }

    /// A URL downloading an image or one of its thumbnails straight from the store, valid for
    /// `media.presigned_url_secs`, where the store signs URLs (S3); `None` on the local store (serve
    /// [`content`](Self::content) instead).
    pub async fn presigned_url(&self, id: Uuid, variant: Variant) -> Result<Option<url::Url>> {
        let file = self.get(id).await?;
        let (object_key, _) = rendition_of(&file, variant)?;
        let valid_for = std::time::Duration::from_secs(self.config.presigned_url_secs);
        Ok(self.storage.presigned_get(&object_key, valid_for).await?)
    }

    /// Where an image or one of its thumbnails is stored, its type, size and `ETag`, without reading it: what a
    /// download route needs to answer 304, a range or a stream ([`ObjectStorage::stream`](crate::storage::ObjectStorage::stream)).
    pub async fn rendition(&self, id: Uuid, variant: Variant) -> Result<Rendition> {
        let file = self.get(id).await?;
        let (object_key, content_type) = rendition_of(&file, variant)?;
        let size_bytes = match variant.size() {
            None => file.size_bytes,
            Some(size) => file.thumbnails.iter().find(|t| t.size == size).map_or(0, |t| t.size_bytes),
        };
        // Keys hold the original's hash, and a thumbnail's its size and format: the key names the bytes.
        let etag = format!("\"{:x}\"", Sha256::digest(object_key.as_bytes()));
        Ok(Rendition { object_key, content_type, etag, size_bytes: u64::try_from(size_bytes).unwrap_or(0) })
    }

    /// The bytes of an image or one of its thumbnails.
    pub async fn content(&self, id: Uuid, variant: Variant) -> Result<Content> {
        let Rendition { object_key, content_type, etag, .. } = self.rendition(id, variant).await?;
        let bytes = self.storage.get(&object_key).await?;
        Ok(Content { bytes, content_type, etag, object_key })
    }

    /// Deletes an image: its row, thumbnails and metadata, then its objects. When it was the main image, the next
    /// one in order becomes main.
    pub async fn delete(&self, id: Uuid) -> Result<()> {
        let file = self.get(id).await?;
        if !repo::delete_file(&self.pool, &file, chrono::Utc::now()).await.map_err(db_error)? {
            return Err(MediaError::not_found("image", id).into());
        }
        for key in std::iter::once(&file.object_key).chain(file.thumbnails.iter().map(|t| &t.object_key)) {
            // The rows are gone: an object that stays is an orphan, which `remove_orphans` takes later.
            if let Err(e) = self.storage.delete(key).await {
                tracing::warn!(key = %key, error = %e, "image object not deleted; left to the orphan cleanup");
            }
        }
        Ok(())
    }

    /// Makes an image its product's main one.
    pub async fn set_main(&self, id: Uuid) -> Result<MediaFile> {
        let file = self.get(id).await?;
        if !repo::set_main(&self.pool, file.product_id, id, chrono::Utc::now()).await.map_err(db_error)? {
            return Err(MediaError::not_found("image", id).into());
        }
        self.get(id).await
    }

    /// Orders a product's images: `order` holds each of its images' ids once.
    pub async fn reorder(&self, product: &str, order: &[Uuid]) -> Result<Vec<MediaFile>> {
        let product = self.products.find(product).await?;
        let current = self.of_product(product.id).await?;
        let theirs: HashSet<Uuid> = current.iter().map(|f| f.id).collect();
        let given: HashSet<Uuid> = order.iter().copied().collect();
        if given.len() != order.len() || given != theirs {
            return Err(MediaError::invalid(
                "order",
                format!("must list each of the product's {} images once, and only those", theirs.len()),
            )
            .into());
        }
        repo::reorder(&self.pool, product.id, order, chrono::Utc::now()).await.map_err(db_error)?;
        self.of_product(product.id).await
    }

    /// A product's QR code (PNG or SVG) encoding `media.qr_url_pattern` for it; made, or made again when the
    /// product's URL changed, and stored.
    pub async fn qr_code(&self, product: &str, format: QrFormat) -> Result<(QrCode, Bytes)> {
        let product = self.products.find(product).await?;
        let content = qr_content(&self.config.qr_url_pattern, &product)?;
        if let Some(stored) = repo::qr(&self.pool, product.id, format).await.map_err(db_error)?
            && stored.content == content
        {
            match self.storage.get(&stored.object_key).await {
                Ok(bytes) => return Ok((stored, bytes)),
                Err(StorageError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let text = content.clone();
        let (png, svg) = tokio::task::spawn_blocking(move || picture::qr_code(&text))
            .await
            .map_err(|e| MediaError::Processing { reason: e.to_string() })??;
        let bytes = match format {
            QrFormat::Png => Bytes::from(png),
            QrFormat::Svg => Bytes::from(svg),
        };
        let id = product.id.to_string();
        let object_key = format!("products/{}/{id}/qrcode.{}", &id[..2], format.name());
        self.storage.put(&object_key, bytes.clone()).await?;
        let size_bytes = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let qr = QrCode { product_id: product.id, format, content, object_key, size_bytes };
        repo::upsert_qr(&self.pool, &qr, chrono::Utc::now()).await.map_err(db_error)?;
        Ok((qr, bytes))
    }

    /// Deletes objects under `products/` that no row refers to and that are older than `older_than` (left by a
    /// delete whose object removal failed, or by a process that died mid-upload; the daily task gives an hour,
    /// since an upload stores its object a moment before its row). Returns how many.
    pub async fn remove_orphans(&self, older_than: std::time::Duration) -> Result<u64> {
        let known: HashSet<String> = repo::all_keys(&self.pool).await.map_err(db_error)?.into_iter().collect();
        let before = chrono::Utc::now() - chrono::Duration::from_std(older_than).unwrap_or(chrono::Duration::MAX);
        let mut removed = 0;
        for object in self.storage.list("products/").await? {
            if object.last_modified < before && !known.contains(&object.key) {
                self.storage.delete(&object.key).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// The object key and content type of one rendition of an image.
fn rendition_of(file: &MediaFile, variant: Variant) -> Result<(String, String)> {
    match variant.size() {
        None => Ok((file.object_key.clone(), file.content_type.clone())),
        Some(size) => {
            let thumbnail = file.thumbnails.iter().find(|t| t.size == size).ok_or_else(|| {
                MediaError::not_found("thumbnail", format!("{size} of image {} (not made yet?)", file.id))
            })?;
            Ok((thumbnail.object_key.clone(), thumbnail.content_type.clone()))
        }
    }
}

/// `products/{id[0:2]}/{product id}/{sha256}.{ext}`.
fn original_key(product: Uuid, sha256: &str, format: Format) -> String {
    let id = product.to_string();
    format!("products/{}/{id}/{sha256}.{}", &id[..2], format.extension())
}

/// The pattern with the product's values in; a value the pattern needs and the product lacks is an error naming it.
fn qr_content(pattern: &str, product: &Product) -> Result<String> {
    let mut content = pattern.replace("{id}", &product.id.to_string());
    for (placeholder, value, what) in [
        ("{gtin14}", product.gtin.as_ref().map(|g| g.as_gtin14()), "GTIN"),
        ("{gtin}", product.gtin.as_ref().map(|g| g.to_string()), "GTIN"),
        ("{sku}", product.sku.as_ref().map(|s| s.as_str().to_string()), "SKU"),
    ] {
        if content.contains(placeholder) {
            let value = value.ok_or_else(|| {
                MediaError::invalid(
                    "product",
                    format!("product {} has no {what}, which media.qr_url_pattern needs ({placeholder})", product.id),
                )
            })?;
            content = content.replace(placeholder, &url_escape(&value));
        }
    }
    Ok(content)
}

/// Percent-encodes what is not unreserved in a URL path segment (a SKU may hold anything).
fn url_escape(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>().replace('+', "%20")
}
