//! Media: product images in the object store — checked from their content, stored once per product and content
//! (`products/{id[0:2]}/{product id}/{sha256}.{ext}`), with thumbnails (150, 300, 800 px, made by a job of the
//! media queue, or at once when no worker serves it), technical metadata and EXIF (read from the original, never
//! carried into a thumbnail), ordering and a main image per product, and a QR code per product.
//!
//! ```no_run
//! # async fn demo(sdk: &productsmanager_core::Sdk) -> productsmanager_core::Result<()> {
//! use productsmanager_core::media::{NewImage, Variant};
//!
//! let bytes = std::fs::read("shoe.jpg").map_err(|e| productsmanager_core::media::MediaError::invalid("file", e.to_string()))?;
//! let upload = sdk.media().upload(NewImage::new("4006381333931", bytes)).await?;
//! let small = sdk.media().content(upload.file.id, Variant::Small).await?;
//! assert_eq!(small.content_type, "image/jpeg");
//! # Ok(()) }
//! ```

mod budget;
mod download;
mod model;
pub(crate) mod picture;
pub(crate) mod repo;
mod service;

pub use budget::{DecodeBudget, DecodeReservation};
pub use model::{
    Content, FetchReport, MediaFile, MediaMetadata, NewImage, QrCode, QrFormat, Rendition, Thumbnail, Upload, Variant,
};
pub use service::MediaService;

/// Why a media operation was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MediaError {
    /// A value breaks a rule, or the file is not a readable image. HTTP 422.
    #[error("`{field}`: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// Not a type of image accepted (the content decides, not the name). HTTP 415.
    #[error("{reason}")]
    Unsupported { reason: String },
    /// Over a size limit, in bytes or in pixels. HTTP 413.
    #[error("{reason}")]
    TooLarge { reason: String },
    /// No such image (or thumbnail, or QR code). HTTP 404.
    #[error("{what} {key} not found")]
    NotFound { what: &'static str, key: String },
    /// Decoding would go over the memory images may take at once, now; worth retrying shortly. HTTP 503.
    #[error("{reason}")]
    Busy { reason: String, retry_after_secs: u64 },
    /// Making a derivative failed on an image that was accepted: a bug or a resource limit. HTTP 500.
    #[error("image processing: {reason}")]
    Processing { reason: String },
}

impl MediaError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        MediaError::Invalid { field, reason: reason.into() }
    }

    pub(crate) fn not_found(what: &'static str, key: impl ToString) -> Self {
        MediaError::NotFound { what, key: key.to_string() }
    }
}
