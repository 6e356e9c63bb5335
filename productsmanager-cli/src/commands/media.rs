//! `media upload|list|qrcode|delete`: product images (what `/api/v1/products/{key}/images` does).

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use productsmanager_core::Sdk;
use productsmanager_core::jobs::JobState;
use productsmanager_core::media::{MediaError, MediaFile, NewImage, QrFormat};

use crate::{Failure, output};

#[derive(Debug, Subcommand)]
pub(crate) enum MediaCommand {
    /// Store an image for a product (id, GTIN or SKU): JPEG, PNG or WebP.
    Upload {
        product: String,
        file: PathBuf,
        /// Text describing the image.
        #[arg(long)]
        alt: Option<String>,
        /// Return once the thumbnails exist, listing them.
        #[arg(long)]
        wait: bool,
        #[arg(long)]
        json: bool,
    },
    /// A product's images in order, with their thumbnails.
    List {
        product: String,
        #[arg(long)]
        json: bool,
    },
    /// Write a product's QR code (`media.qr_url_pattern`) to a file.
    Qrcode {
        product: String,
        #[arg(long)]
        out: PathBuf,
        /// `png` or `svg`; from the file's extension when absent.
        #[arg(long)]
        format: Option<String>,
    },
    /// Delete an image (by id) with its thumbnails.
    Delete { id: String },
}

/// How long `--wait` waits for a worker to make the thumbnails.
const WAIT_AT_MOST: Duration = Duration::from_secs(300);

pub(crate) async fn run(sdk: &Sdk, command: MediaCommand) -> Result<(), Failure> {
    let media = sdk.media();
    match command {
        MediaCommand::Upload { product, file, alt, wait, json } => {
            let text = file.to_string_lossy().into_owned();
            let upload = if text.starts_with("http://") || text.starts_with("https://") {
                media.upload_from_url(&product, &text, None).await?
            } else {
                upload_file(sdk, product, &file, alt).await?
            };
            let mut stored = upload.file.clone();
            if wait && let Some(job) = upload.thumbnails_job {
                let deadline = tokio::time::Instant::now() + WAIT_AT_MOST;
                loop {
                    let state = sdk.jobs().get(job).await?;
                    match state.state {
                        JobState::Succeeded => break,
                        JobState::Failed | JobState::Dead | JobState::Cancelled => {
                            let why = state.last_error.unwrap_or_default();
                            return Err(
                                MediaError::Processing { reason: format!("thumbnails job {job}: {why}") }.into()
                            );
                        }
                        _ if tokio::time::Instant::now() > deadline => {
                            return Err(MediaError::Processing {
                                reason: format!(
                                    "thumbnails job {job} not done after {} s; is a media worker running?",
                                    WAIT_AT_MOST.as_secs()
                                ),
                            }
                            .into());
                        }
                        _ => tokio::time::sleep(Duration::from_millis(200)).await,
                    }
                }
                stored = media.get(stored.id).await?;
            }
            if json {
                output::json(
                    &serde_json::json!({ "file": stored, "created": upload.created, "thumbnails_job": upload.thumbnails_job }),
                );
            } else {
                let what = if upload.created { "stored" } else { "already stored" };
                println!(
                    "{what}: image {} ({}, {} bytes) for product {}",
                    stored.id, stored.content_type, stored.size_bytes, stored.product_id
                );
                print_thumbnails(&stored);
            }
        }
        MediaCommand::List { product, json } => {
            let files = media.list(&product).await?;
            output::list(json, &files, ["position", "id", "main", "type", "size", "pixels", "thumbnails"], |f| {
                [
                    f.position.to_string(),
                    f.id.to_string(),
                    if f.is_main { "yes".into() } else { String::new() },
                    f.content_type.clone(),
                    f.size_bytes.to_string(),
                    format!("{}x{}", f.width.unwrap_or(0), f.height.unwrap_or(0)),
                    f.thumbnails.iter().map(|t| t.size.as_str()).collect::<Vec<_>>().join(","),
                ]
            });
        }
        MediaCommand::Qrcode { product, out, format } => {
            let format = match format.or_else(|| out.extension().map(|e| e.to_string_lossy().to_lowercase())).as_deref()
            {
                Some("svg") => QrFormat::Svg,
                Some("png") | None => QrFormat::Png,
                Some(other) => {
                    return Err(MediaError::invalid("format", format!("{other:?} is not png or svg")).into());
                }
            };
            let (qr, bytes) = media.qr_code(&product, format).await?;
            std::fs::write(&out, &bytes)
                .map_err(|e| MediaError::invalid("out", format!("cannot write {}: {e}", out.display())))?;
            println!("wrote {} ({} bytes) encoding {}", out.display(), bytes.len(), qr.content);
        }
        MediaCommand::Delete { id } => {
            let id = productsmanager_core::input::parse_id("id", &id)?;
            media.delete(id).await?;
            println!("deleted image {id}");
        }
    }
    Ok(())
}

/// Reads and stores a local file; one over the size limit is refused before it is read.
async fn upload_file(
    sdk: &Sdk,
    product: String,
    file: &std::path::Path,
    alt: Option<String>,
) -> Result<productsmanager_core::media::Upload, Failure> {
    let unreadable = |e: std::io::Error| MediaError::invalid("file", format!("cannot read {}: {e}", file.display()));
    let size = std::fs::metadata(file).map_err(unreadable)?.len();
    let limit = sdk.config().media.max_upload_bytes;
    if size > limit {
        let reason =
            format!("{}: {size} bytes is over the limit of {limit} bytes (media.max_upload_bytes)", file.display());
        return Err(MediaError::TooLarge { reason }.into());
    }
    let bytes = std::fs::read(file).map_err(unreadable)?;
    let filename = file.file_name().map(|n| n.to_string_lossy().into_owned());
    Ok(sdk.media().upload(NewImage { filename, alt_text: alt, ..NewImage::new(product, bytes) }).await?)
}

fn print_thumbnails(file: &MediaFile) {
    for thumbnail in &file.thumbnails {
        println!(
            "  {} {}x{} {} ({} bytes)",
            thumbnail.size, thumbnail.width, thumbnail.height, thumbnail.object_key, thumbnail.size_bytes
        );
    }
}
