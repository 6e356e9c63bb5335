//! Media SQL on the media database, written once for both backends.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::model::{MediaFile, MediaMetadata, QrCode, QrFormat, Thumbnail};
use crate::db::DbPool;
use crate::with_pool;

macro_rules! file_columns {
    () => {
        "id, product_id, sha256, object_key, content_type, size_bytes, width, height, original_filename, source_url, \
         alt_text, position, is_main, uploaded_by, created_at, updated_at"
    };
}

// Appended after the product's last image; the main one when the product has none. Two first images at once: the
// main-image index refuses one, which is then inserted again (no longer main).
const INSERT_FILE: &str = concat!(
    "insert into media_files (id, product_id, sha256, object_key, content_type, size_bytes, width, height, \
     original_filename, source_url, alt_text, uploaded_by, created_at, updated_at, position, is_main) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, \
     (select coalesce(max(position) + 1, 0) from media_files where product_id = $2), \
     (not exists (select 1 from media_files where product_id = $2 and is_main))) returning ",
    file_columns!()
);

const INSERT_METADATA: &str = "insert into media_metadata (id, media_file_id, width, height, format, color_space, \
     bit_depth, has_alpha, orientation, camera_make, camera_model, lens_model, taken_at, has_gps, exif, created_at, \
     updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)";

const FILE_BY_ID: &str = concat!("select ", file_columns!(), " from media_files where id = $1");

const FILE_BY_CONTENT: &str =
    concat!("select ", file_columns!(), " from media_files where product_id = $1 and sha256 = $2");

const FILES_OF_PRODUCT: &str =
    concat!("select ", file_columns!(), " from media_files where product_id = $1 order by position, id");

const THUMBNAILS_OF_FILE: &str = "select media_file_id, size, format, width, height, content_type, object_key, \
     size_bytes from media_thumbnails where media_file_id = $1 order by width";

const THUMBNAILS_OF_PRODUCT: &str = "select t.media_file_id, t.size, t.format, t.width, t.height, t.content_type, \
     t.object_key, t.size_bytes from media_thumbnails t join media_files f on f.id = t.media_file_id \
     where f.product_id = $1 order by t.width";

const UPSERT_THUMBNAIL: &str = "insert into media_thumbnails (id, media_file_id, size, format, width, height, \
     content_type, object_key, size_bytes, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
     $10) on conflict (media_file_id, size, format) do update set width = excluded.width, height = excluded.height, \
     content_type = excluded.content_type, object_key = excluded.object_key, size_bytes = excluded.size_bytes, \
     updated_at = excluded.updated_at";

const METADATA_OF_FILE: &str = "select media_file_id, width, height, format, color_space, bit_depth, has_alpha, \
     orientation, camera_make, camera_model, lens_model, taken_at, has_gps from media_metadata where media_file_id = $1";

const EXIF_OF_FILE: &str = "select exif from media_metadata where media_file_id = $1";

const DELETE_FILE: &str = "delete from media_files where id = $1";

const PROMOTE_FIRST: &str = "update media_files set is_main = true, updated_at = $2 where id = \
     (select id from media_files where product_id = $1 order by position, id limit 1)";

const DEMOTE_MAIN: &str = "update media_files set is_main = false, updated_at = $2 where product_id = $1 and is_main";

const MAKE_MAIN: &str = "update media_files set is_main = true, updated_at = $3 where id = $1 and product_id = $2";

const SET_POSITION: &str = "update media_files set position = $3, updated_at = $4 where id = $1 and product_id = $2";

const UPSERT_QR: &str = "insert into product_qrcodes (id, product_id, format, content, object_key, size_bytes, \
     created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $7) on conflict (product_id, format) do update set \
     content = excluded.content, object_key = excluded.object_key, size_bytes = excluded.size_bytes, \
     updated_at = excluded.updated_at";

const QR_OF_PRODUCT: &str =
    "select content, object_key, size_bytes from product_qrcodes where product_id = $1 and format = $2";

const ALL_KEYS: &str = "select object_key from media_files union all select object_key from media_thumbnails \
     union all select object_key from product_qrcodes";

#[derive(Debug, sqlx::FromRow)]
pub(super) struct FileRow {
    id: Uuid,
    product_id: Uuid,
    sha256: String,
    object_key: String,
    content_type: String,
    size_bytes: i64,
    width: Option<i32>,
    height: Option<i32>,
    original_filename: Option<String>,
    source_url: Option<String>,
    alt_text: Option<String>,
    position: i32,
    is_main: bool,
    uploaded_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl FileRow {
    pub(super) fn with(self, thumbnails: Vec<Thumbnail>) -> MediaFile {
        MediaFile {
            id: self.id,
            product_id: self.product_id,
            sha256: self.sha256,
            object_key: self.object_key,
            content_type: self.content_type,
            size_bytes: self.size_bytes,
            width: self.width,
            height: self.height,
            original_filename: self.original_filename,
            source_url: self.source_url,
            alt_text: self.alt_text,
            position: self.position,
            is_main: self.is_main,
            uploaded_by: self.uploaded_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
            thumbnails,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct MetadataRow {
    media_file_id: Uuid,
    width: Option<i32>,
    height: Option<i32>,
    format: Option<String>,
    color_space: Option<String>,
    bit_depth: Option<i32>,
    has_alpha: Option<bool>,
    orientation: Option<i32>,
    camera_make: Option<String>,
    camera_model: Option<String>,
    lens_model: Option<String>,
    taken_at: Option<DateTime<Utc>>,
    has_gps: bool,
}

/// A new original with its metadata.
pub(super) struct NewFile<'a> {
    pub id: Uuid,
    pub product_id: Uuid,
    pub sha256: &'a str,
    pub object_key: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub width: i32,
    pub height: i32,
    pub original_filename: Option<&'a str>,
    pub source_url: Option<&'a str>,
    pub alt_text: Option<&'a str>,
    pub uploaded_by: Option<Uuid>,
    pub now: DateTime<Utc>,
    pub metadata: &'a MediaMetadata,
    pub exif: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

/// Inserts the original and its metadata in one transaction.
pub(super) async fn insert_file(pool: &DbPool, file: &NewFile<'_>) -> Result<FileRow, sqlx::Error> {
    let m = file.metadata;
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        let row: FileRow = sqlx::query_as(INSERT_FILE)
            .bind(file.id)
            .bind(file.product_id)
            .bind(file.sha256)
            .bind(file.object_key)
            .bind(file.content_type)
            .bind(file.size_bytes)
            .bind(file.width)
            .bind(file.height)
            .bind(file.original_filename)
            .bind(file.source_url)
            .bind(file.alt_text)
            .bind(file.uploaded_by)
            .bind(file.now)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(INSERT_METADATA)
            .bind(Uuid::now_v7())
            .bind(file.id)
            .bind(m.width)
            .bind(m.height)
            .bind(m.format.as_deref())
            .bind(m.color_space.as_deref())
            .bind(m.bit_depth)
            .bind(m.has_alpha)
            .bind(m.orientation)
            .bind(m.camera_make.as_deref())
            .bind(m.camera_model.as_deref())
            .bind(m.lens_model.as_deref())
            .bind(m.taken_at)
            .bind(m.has_gps)
            .bind(file.exif.map(Json))
            .bind(file.now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(row)
    }
    .await)
}

pub(super) async fn file(pool: &DbPool, id: Uuid) -> Result<Option<FileRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(FILE_BY_ID).bind(id).fetch_optional(p).await)
}

pub(super) async fn file_by_content(
    pool: &DbPool,
    product: Uuid,
    sha256: &str,
) -> Result<Option<FileRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(FILE_BY_CONTENT).bind(product).bind(sha256).fetch_optional(p).await)
}

const ORIGINALS_OF: &str = "select product_id, object_key from media_files where product_id in ";

/// The object keys of these products' originals, in their order per product.
pub(super) async fn originals_of(pool: &DbPool, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    crate::db::rows_by_ids(pool, ORIGINALS_OF, ids, "order by product_id, position").await
}

pub(super) async fn files_of_product(pool: &DbPool, product: Uuid) -> Result<Vec<FileRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(FILES_OF_PRODUCT).bind(product).fetch_all(p).await)
}

pub(super) async fn thumbnails_of_file(pool: &DbPool, file: Uuid) -> Result<Vec<Thumbnail>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(THUMBNAILS_OF_FILE).bind(file).fetch_all(p).await)
}

pub(super) async fn thumbnails_of_product(pool: &DbPool, product: Uuid) -> Result<Vec<Thumbnail>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(THUMBNAILS_OF_PRODUCT).bind(product).fetch_all(p).await)
}

pub(super) async fn upsert_thumbnail(
    pool: &DbPool,
    thumbnail: &Thumbnail,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(UPSERT_THUMBNAIL)
        .bind(Uuid::now_v7())
        .bind(thumbnail.media_file_id)
        .bind(&thumbnail.size)
        .bind(&thumbnail.format)
        .bind(thumbnail.width)
        .bind(thumbnail.height)
        .bind(&thumbnail.content_type)
        .bind(&thumbnail.object_key)
        .bind(thumbnail.size_bytes)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))
}

pub(super) async fn metadata(pool: &DbPool, file: Uuid) -> Result<Option<MediaMetadata>, sqlx::Error> {
    let row: Option<MetadataRow> =
        with_pool!(pool, |p| sqlx::query_as(METADATA_OF_FILE).bind(file).fetch_optional(p).await)?;
    Ok(row.map(|r| MediaMetadata {
        media_file_id: r.media_file_id,
        width: r.width,
        height: r.height,
        format: r.format,
        color_space: r.color_space,
        bit_depth: r.bit_depth,
        has_alpha: r.has_alpha,
        orientation: r.orientation,
        camera_make: r.camera_make,
        camera_model: r.camera_model,
        lens_model: r.lens_model,
        taken_at: r.taken_at,
        has_gps: r.has_gps,
    }))
}

pub(super) async fn exif(
    pool: &DbPool,
    file: Uuid,
) -> Result<Option<Option<Json<serde_json::Map<String, serde_json::Value>>>>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(EXIF_OF_FILE).bind(file).fetch_optional(p).await)
}

/// Deletes an original (its thumbnails and metadata go with it); when it was the main image, the first of the
/// others becomes main.
pub(super) async fn delete_file(pool: &DbPool, file: &MediaFile, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        let deleted = sqlx::query(DELETE_FILE).bind(file.id).execute(&mut *tx).await?.rows_affected() > 0;
        if deleted && file.is_main {
            sqlx::query(PROMOTE_FIRST).bind(file.product_id).bind(now).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }
    .await)
}

pub(super) async fn set_main(
    pool: &DbPool,
    product: Uuid,
    file: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        sqlx::query(DEMOTE_MAIN).bind(product).bind(now).execute(&mut *tx).await?;
        let made = sqlx::query(MAKE_MAIN).bind(file).bind(product).bind(now).execute(&mut *tx).await?.rows_affected();
        if made == 0 {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }
    .await)
}

/// Gives the images their position in `order` (ids of the product's images, each once).
pub(super) async fn reorder(
    pool: &DbPool,
    product: Uuid,
    order: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        for (position, id) in order.iter().enumerate() {
            let position = i32::try_from(position).unwrap_or(i32::MAX);
            sqlx::query(SET_POSITION).bind(id).bind(product).bind(position).bind(now).execute(&mut *tx).await?;
        }
        tx.commit().await
    }
    .await)
}

pub(super) async fn upsert_qr(pool: &DbPool, qr: &QrCode, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(UPSERT_QR)
        .bind(Uuid::now_v7())
        .bind(qr.product_id)
        .bind(qr.format.name())
        .bind(&qr.content)
        .bind(&qr.object_key)
        .bind(qr.size_bytes)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))
}

pub(super) async fn qr(pool: &DbPool, product: Uuid, format: QrFormat) -> Result<Option<QrCode>, sqlx::Error> {
    let row: Option<(String, String, i64)> =
        with_pool!(pool, |p| sqlx::query_as(QR_OF_PRODUCT).bind(product).bind(format.name()).fetch_optional(p).await)?;
    Ok(row.map(|(content, object_key, size_bytes)| QrCode {
        product_id: product,
        format,
        content,
        object_key,
        size_bytes,
    }))
}

/// Every object key a row refers to.
pub(super) async fn all_keys(pool: &DbPool) -> Result<Vec<String>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(ALL_KEYS).fetch_all(p).await)
}

// A merge of two products (catalog::merges): the merged product's images that the survivor does not hold already
// (same content) go to the survivor, after its own, none of them main.
const MOVABLE_FILES: &str = "select id, position, is_main from media_files m where product_id = $2 \
     and not exists (select 1 from media_files s where s.product_id = $1 and s.sha256 = m.sha256) \
     order by position, id";
const NEXT_POSITION: &str = "select coalesce(max(position) + 1, 0) from media_files where product_id = $1";
const MOVE_FILE: &str = "update media_files set product_id = $2, position = $3, is_main = $4, updated_at = $5 \
     where id = $1 and product_id = $6";

/// Moves the images of `from` whose content `to` does not hold to `to` (after its own images, not main); returns
/// each with where it was, to put it back ([`move_files_back`]).
pub(crate) async fn move_files(
    pool: &DbPool,
    to: Uuid,
    from: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<crate::catalog::MovedFile>, sqlx::Error> {
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        let files: Vec<(Uuid, i32, bool)> =
            sqlx::query_as(MOVABLE_FILES).bind(to).bind(from).fetch_all(&mut *tx).await?;
        let next: i32 = sqlx::query_scalar(NEXT_POSITION).bind(to).fetch_one(&mut *tx).await?;
        let mut moved = Vec::with_capacity(files.len());
        for (offset, (id, position, is_main)) in files.into_iter().enumerate() {
            let at = next.saturating_add(i32::try_from(offset).unwrap_or(i32::MAX));
            sqlx::query(MOVE_FILE)
                .bind(id)
                .bind(to)
                .bind(at)
                .bind(false)
                .bind(now)
                .bind(from)
                .execute(&mut *tx)
                .await?;
            moved.push(crate::catalog::MovedFile { id, position, is_main });
        }
        tx.commit().await?;
        Ok(moved)
    }
    .await)
}

/// Puts images that [`move_files`] moved from `to` back there, where they were (those still on `from`).
pub(crate) async fn move_files_back(
    pool: &DbPool,
    files: &[crate::catalog::MovedFile],
    to: Uuid,
    from: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        for file in files {
            sqlx::query(MOVE_FILE)
                .bind(file.id)
                .bind(to)
                .bind(file.position)
                .bind(file.is_main)
                .bind(now)
                .bind(from)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }
    .await)
}
