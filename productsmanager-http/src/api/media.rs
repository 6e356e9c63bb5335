//! `/api/v1/products/{key}/images`, `/api/v1/images/{id}`, `/api/v1/products/{key}/qrcode`: product images.

use axum::Json;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use productsmanager_core::input::parse_id;
use productsmanager_core::media::{MediaError, MediaFile, MediaMetadata, NewImage, QrFormat, Upload, Variant};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{ApiJson, ApiQuery, Caller};
use crate::AppState;
use crate::error::{ApiError, Problem, problem};

/// Room for the multipart form around the largest image accepted.
const ENVELOPE: u64 = 1 << 20;

pub(super) fn routes(max_upload_bytes: u64) -> OpenApiRouter<AppState> {
    // The image limit itself is checked while reading the form.
    let limit = usize::try_from(max_upload_bytes.saturating_add(ENVELOPE)).unwrap_or(usize::MAX);
    let (schemas, paths, upload_router) = routes!(list, upload);
    OpenApiRouter::new()
        .routes((schemas, paths, upload_router.layer(DefaultBodyLimit::max(limit))))
        .routes(routes!(order))
        .routes(routes!(from_url))
        .routes(routes!(image, delete))
        .routes(routes!(metadata))
        .routes(routes!(content))
        .routes(routes!(make_main))
        .routes(routes!(thumbnails))
        .routes(routes!(qrcode))
}

#[utoipa::path(get, path = "/api/v1/products/{key}/images", tag = "media", security(("bearer" = ["media:read"])),
    params(("key" = String, Path, description = "Product id, GTIN or SKU")),
    responses((status = 200, description = "The product's images in order, with their thumbnails", body = Vec<MediaFile>)))]
async fn list(State(state): State<AppState>, Path(key): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.media().list(&key).await?))
}

/// The fields of the upload form (documentation only: the handler reads the stream field by field).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ImageForm {
    /// JPEG, PNG or WebP (judged from the content, not the name), within `media.max_upload_bytes` and
    /// `media.max_pixels`.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Text describing the image.
    alt_text: Option<String>,
}

/// `multipart/form-data`: `file` and optionally `alt_text`. 201 with the stored image; 200 when the product
/// already had this very image. Thumbnails follow in the background (`thumbnails_job`) or are already there.
#[utoipa::path(post, path = "/api/v1/products/{key}/images", tag = "media", security(("bearer" = ["media:write"])),
    params(("key" = String, Path, description = "Product id, GTIN or SKU")),
    request_body(content = ImageForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "Stored", body = Upload),
        (status = 200, description = "The product already had this image: nothing stored", body = Upload),
        (status = 415, description = "Not a JPEG, PNG or WebP image (an SVG, a text file…)", body = Problem,
            content_type = "application/problem+json")))]
async fn upload(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(key): Path<String>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    let max = state.sdk.config().media.max_upload_bytes;
    let too_large = || {
        ApiError(
            MediaError::TooLarge {
                reason: format!("the image is over the limit of {max} bytes (media.max_upload_bytes)"),
            }
            .into(),
        )
    };
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError(MediaError::invalid("file", e.body_text()).into())
        }
    };
    // A body announced larger than any image accepted (plus the form around it) is refused before it is read: a
    // client that asked `Expect: 100-continue` does not even send it.
    let announced =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > max.saturating_add(ENVELOPE)) {
        return Err(too_large());
    }
    let mut input = NewImage::new(key, Vec::new());
    let mut got_file = false;
    while let Some(mut field) = form.next_field().await.map_err(unreadable)? {
        match field.name().unwrap_or_default() {
            "file" => {
                input.filename = field.file_name().map(str::to_string);
                let mut bytes = BytesMut::new();
                while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                    // Refused as soon as it is over: the rest is never read into memory.
                    if (bytes.len() + chunk.len()) as u64 > max {
                        return Err(too_large());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                input.bytes = bytes.freeze();
                got_file = true;
            }
            "alt_text" => {
                let text = field.text().await.map_err(unreadable)?;
                if text.contains('\0') {
                    return Err(ApiError(MediaError::invalid("alt_text", "contains a NUL character").into()));
                }
                input.alt_text = Some(text);
            }
            other => {
                let reason = format!("unknown field {other:?} (file, alt_text)");
                return Err(ApiError(MediaError::invalid("form", reason).into()));
            }
        }
    }
    if !got_file {
        return Err(ApiError(MediaError::invalid("file", "no file field in the form").into()));
    }
    input.uploaded_by = Some(caller.user_id);
    Ok(stored(state.sdk.media().upload(input).await?))
}

/// 201 with `Location` for a new image; 200 when the product already had it.
fn stored(upload: Upload) -> Response {
    let status = if upload.created { StatusCode::CREATED } else { StatusCode::OK };
    let location = format!("/api/v1/images/{}", upload.file.id);
    (status, [(header::LOCATION, location)], Json(upload)).into_response()
}

/// An image to fetch.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct FromUrl {
    /// `http` or `https`; a public address unless `PM_ALLOW_PRIVATE_NETWORK` (or `media.allow_private_downloads`).
    url: String,
}

/// Downloads the image (within `media.download_timeout_secs` and `media.max_upload_bytes`, redirects checked one
/// by one) and stores it like an upload.
#[utoipa::path(post, path = "/api/v1/products/{key}/images/from-url", tag = "media", security(("bearer" = ["media:write"])),
    params(("key" = String, Path, description = "Product id, GTIN or SKU")), request_body = FromUrl,
    responses((status = 201, description = "Downloaded and stored", body = Upload),
        (status = 200, description = "The product already had this image", body = Upload),
        (status = 415, description = "The URL does not hold a JPEG, PNG or WebP image", body = Problem,
            content_type = "application/problem+json")))]
async fn from_url(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<FromUrl>,
) -> Result<Response, ApiError> {
    Ok(stored(state.sdk.media().upload_from_url(&key, &input.url, Some(caller.user_id)).await?))
}

/// The new order of a product's images.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Order {
    /// Every image id of the product, once, in the order wanted.
    order: Vec<Uuid>,
}

#[utoipa::path(put, path = "/api/v1/products/{key}/images/order", tag = "media", security(("bearer" = ["media:write"])),
    params(("key" = String, Path, description = "Product id, GTIN or SKU")), request_body = Order,
    responses((status = 200, description = "The images in their new order", body = Vec<MediaFile>)))]
async fn order(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<Order>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.media().reorder(&key, &input.order).await?))
}

#[utoipa::path(get, path = "/api/v1/images/{id}", tag = "media", security(("bearer" = ["media:read"])),
    params(("id" = Uuid, Path)), responses((status = 200, description = "The image and its thumbnails", body = MediaFile)))]
async fn image(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.media().get(parse_id("id", &id)?).await?))
}

#[utoipa::path(delete, path = "/api/v1/images/{id}", tag = "media", security(("bearer" = ["media:write"])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted with its thumbnails; the next image became main if it was")))]
async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    state.sdk.media().delete(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/images/{id}/metadata", tag = "media", security(("bearer" = ["media:read"])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Dimensions, format, colour, camera fields (never the GPS position)", body = MediaMetadata)))]
async fn metadata(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.media().metadata(parse_id("id", &id)?).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ContentQuery {
    /// `original` (default), `small`, `medium` or `large`.
    #[serde(default)]
    variant: Option<String>,
}

/// The bytes of the image or a thumbnail. Where the store signs URLs (S3), a 307 to a presigned URL; otherwise
/// the bytes, with `ETag` (`If-None-Match` answers 304), a long `Cache-Control` (a key never changes content)
/// and single `Range` requests (206; 416 outside the image); always with the stored type, `nosniff` and a
/// sandboxing CSP, and for the original `Content-Disposition: attachment`.
#[utoipa::path(get, path = "/api/v1/images/{id}/content", tag = "media", security(("bearer" = ["media:read"])),
    params(("id" = Uuid, Path), ContentQuery),
    responses((status = 200, description = "The bytes", content_type = "image/*", body = Vec<u8>),
        (status = 206, description = "The range asked for", content_type = "image/*", body = Vec<u8>),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`"),
        (status = 307, description = "Download from the presigned URL in `Location`"),
        (status = 416, description = "The range is outside the image", body = Problem,
            content_type = "application/problem+json")))]
async fn content(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ContentQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = parse_id("id", &id)?;
    let variant: Variant =
        query.variant.as_deref().unwrap_or("original").parse().map_err(|e: MediaError| ApiError(e.into()))?;
    let media = state.sdk.media();
    if let Some(url) = media.presigned_url(id, variant).await? {
        return Ok((StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, url.to_string())]).into_response());
    }
    let rendition = media.rendition(id, variant).await?;
    let mut response_headers = HeaderMap::new();
    let etag = HeaderValue::from_str(&rendition.etag).unwrap_or(HeaderValue::from_static("\"\""));
    response_headers.insert(header::ETAG, etag);
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    response_headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let content_type =
        HeaderValue::from_str(&rendition.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    response_headers.insert(header::CONTENT_TYPE, content_type);
    // An original is what someone uploaded (a PNG can also parse as HTML): its stored type only, never rendered
    // as a page of this site, and saved rather than shown when opened directly. Thumbnails are our own encodings.
    response_headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response_headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    if variant == Variant::Original {
        let extension = rendition.object_key.rsplit_once('.').map_or("bin", |(_, extension)| extension);
        if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{id}.{extension}\"")) {
            response_headers.insert(header::CONTENT_DISPOSITION, value);
        }
    }
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == rendition.etag || tag.trim() == "*"));
    if not_modified {
        return Ok((StatusCode::NOT_MODIFIED, response_headers).into_response());
    }
    let storage = state.sdk.storage();
    let total = rendition.size_bytes;
    let single = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).map(|range| {
        let ranges = http_range_header::parse_range_header(range).and_then(|parsed| parsed.validate(total));
        (range.to_string(), ranges)
    });
    match single {
        Some((_, Ok(ranges))) if ranges.len() == 1 => {
            let (start, end) = (*ranges[0].start(), *ranges[0].end());
            let part =
                storage.get_range(&rendition.object_key, start..end + 1).await.map_err(|e| ApiError(e.into()))?;
            let content_range = format!("bytes {start}-{end}/{total}");
            if let Ok(value) = HeaderValue::from_str(&content_range) {
                response_headers.insert(header::CONTENT_RANGE, value);
            }
            Ok((StatusCode::PARTIAL_CONTENT, response_headers, Body::from(part)).into_response())
        }
        Some((range, Err(_))) => {
            let mut refused = problem(
                productsmanager_core::ErrorKind::Invalid,
                format!("range {range:?} is not within the image's {total} bytes"),
            );
            *refused.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{total}")) {
                refused.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            Ok(refused)
        }
        // No range, or several (a server may answer those with the whole): the bytes, streamed from the store.
        _ => {
            let (size, chunks) = storage.stream(&rendition.object_key).await.map_err(|e| ApiError(e.into()))?;
            response_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
            Ok((response_headers, Body::from_stream(chunks)).into_response())
        }
    }
}

#[utoipa::path(put, path = "/api/v1/images/{id}/main", tag = "media", security(("bearer" = ["media:write"])),
    params(("id" = Uuid, Path)), responses((status = 200, description = "Now the product's main image", body = MediaFile)))]
async fn make_main(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.media().set_main(parse_id("id", &id)?).await?))
}

#[utoipa::path(post, path = "/api/v1/images/{id}/thumbnails", tag = "media", security(("bearer" = ["media:write"])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Made again, in the configured format", body = MediaFile)))]
async fn thumbnails(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let media = state.sdk.media();
    media.make_thumbnails(id).await?;
    Ok(Json(media.get(id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct QrQuery {
    /// `png` (default) or `svg`.
    #[serde(default)]
    format: Option<QrFormat>,
}

#[utoipa::path(get, path = "/api/v1/products/{key}/qrcode", tag = "media", security(("bearer" = ["media:read"])),
    params(("key" = String, Path, description = "Product id, GTIN or SKU"), QrQuery),
    responses((status = 200, description = "The product's QR code (`media.qr_url_pattern`)", content_type = "image/png", body = Vec<u8>)))]
async fn qrcode(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiQuery(query): ApiQuery<QrQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let format = query.format.unwrap_or(QrFormat::Png);
    let (_, bytes) = state.sdk.media().qr_code(&key, format).await?;
    Ok(([(header::CONTENT_TYPE, format.content_type())], Body::from(bytes)))
}
