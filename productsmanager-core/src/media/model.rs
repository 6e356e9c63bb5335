//! Media types.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A product image as stored: the original, its place among the product's images, its thumbnails.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediaFile {
    pub id: Uuid,
    pub product_id: Uuid,
    /// SHA-256 of the original's bytes, lowercase hex; also its `ETag`.
    pub sha256: String,
    pub object_key: String,
    /// From the content, not from the file name.
    pub content_type: String,
    pub size_bytes: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub original_filename: Option<String>,
    pub source_url: Option<String>,
    pub alt_text: Option<String>,
    /// Order among the product's images, from 0.
    pub position: i32,
    /// The product's main image (exactly one per product that has images).
    pub is_main: bool,
    pub uploaded_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Made in the background after the upload: empty until then.
    pub thumbnails: Vec<Thumbnail>,
}

/// A derivative of an original, fitting a square box with the aspect kept; carries no EXIF.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Thumbnail {
    #[serde(skip)]
    pub media_file_id: Uuid,
    /// `small` (150 px), `medium` (300 px) or `large` (800 px).
    pub size: String,
    /// `jpeg` or `webp`.
    pub format: String,
    pub width: i32,
    pub height: i32,
    pub content_type: String,
    pub object_key: String,
    pub size_bytes: i64,
}

/// Technical metadata of an original and the usual camera fields of its EXIF. The whole EXIF (GPS included)
/// stays internal: [`MediaService::exif`](super::MediaService::exif).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediaMetadata {
    pub media_file_id: Uuid,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub format: Option<String>,
    /// Pixel layout as decoded: `rgb8`, `rgba8`, `l8`, `rgb16`…
    pub color_space: Option<String>,
    pub bit_depth: Option<i32>,
    pub has_alpha: Option<bool>,
    /// EXIF orientation (1 to 8); thumbnails are turned upright.
    pub orientation: Option<i32>,
    pub camera_make: Option<String>,
    pub camera_model: Option<String>,
    pub lens_model: Option<String>,
    /// When the photo was taken, as the camera wrote it (taken as UTC: EXIF rarely says the zone).
    pub taken_at: Option<DateTime<Utc>>,
    /// Whether the original carries a GPS position (never passed on).
    pub has_gps: bool,
}

/// An image to store for a product.
#[derive(Debug, Clone)]
pub struct NewImage {
    /// The product: id, GTIN or SKU.
    pub product: String,
    pub bytes: Bytes,
    pub filename: Option<String>,
    pub alt_text: Option<String>,
    /// Where it was downloaded from.
    pub source_url: Option<String>,
    pub uploaded_by: Option<Uuid>,
}

impl NewImage {
    pub fn new(product: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        NewImage {
            product: product.into(),
            bytes: bytes.into(),
            filename: None,
            alt_text: None,
            source_url: None,
            uploaded_by: None,
        }
    }
}

/// What an upload did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Upload {
    pub file: MediaFile,
    /// False when the product already had this very image: nothing new was stored.
    pub created: bool,
    /// The media job making the thumbnails, when a worker makes them; `None` when they were made at once.
    pub thumbnails_job: Option<Uuid>,
}

/// What a run over the image URLs imports found did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FetchReport {
    /// Downloaded and stored (or found already stored).
    pub fetched: u64,
    /// Refused or unreachable this time; tried again on later runs, three times in all.
    pub failed: u64,
    /// The first few failures, `url: why` (each failure is also kept on its URL).
    pub samples: Vec<String>,
}

/// Which rendition of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    Original,
    Small,
    Medium,
    Large,
}

impl Variant {
    pub(crate) fn size(self) -> Option<&'static str> {
        match self {
            Variant::Original => None,
            Variant::Small => Some("small"),
            Variant::Medium => Some("medium"),
            Variant::Large => Some("large"),
        }
    }
}

impl std::str::FromStr for Variant {
    type Err = super::MediaError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "original" => Ok(Variant::Original),
            "small" => Ok(Variant::Small),
            "medium" => Ok(Variant::Medium),
            "large" => Ok(Variant::Large),
            other => {
                Err(super::MediaError::invalid("variant", format!("{other:?} is not original, small, medium or large")))
            }
        }
    }
}

/// One rendition of an image as stored, with what a download needs before reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendition {
    pub object_key: String,
    pub content_type: String,
    /// Changes when the bytes change.
    pub etag: String,
    pub size_bytes: u64,
}

/// Bytes of one rendition, with what a download needs.
#[derive(Debug, Clone)]
pub struct Content {
    pub bytes: Bytes,
    pub content_type: String,
    /// Changes when the bytes change.
    pub etag: String,
    pub object_key: String,
}

/// Format of a QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum QrFormat {
    Png,
    Svg,
}

impl QrFormat {
    pub(crate) fn name(self) -> &'static str {
        match self {
            QrFormat::Png => "png",
            QrFormat::Svg => "svg",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            QrFormat::Png => "image/png",
            QrFormat::Svg => "image/svg+xml",
        }
    }
}

/// A product's QR code as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QrCode {
    pub product_id: Uuid,
    pub format: QrFormat,
    /// The text encoded (the product's URL).
    pub content: String,
    pub object_key: String,
    pub size_bytes: i64,
}
