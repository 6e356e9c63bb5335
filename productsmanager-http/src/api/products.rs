//! `/api/v1/products`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use productsmanager_core::catalog::{NewProduct, Product, ProductPatch, ProductQuery};
use productsmanager_core::input::{InputError, parse_id};
use serde::Deserialize;
use uuid::Uuid;

use super::{ApiJson, ApiQuery};
use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/products", get(list).post(create))
        .route("/api/v1/products/bulk-get", post(bulk_get))
        .route("/api/v1/products/{key}", get(find).put(update).patch(patch).delete(delete))
        .route("/api/v1/products/{id}/purge", post(purge))
}

/// A product with its version as `ETag`, for `If-Match` on the next write.
fn with_etag(status: StatusCode, product: Product) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", product.version)).ok();
    let mut response = (status, Json(product)).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// The version an `If-Match` header names (`"3"` or `3`), if one was sent.
fn if_match(headers: &HeaderMap) -> Result<Option<i32>, InputError> {
    let Some(value) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = value.to_str().unwrap_or("").trim().trim_start_matches("W/").trim_matches('"');
    text.parse().map(Some).map_err(|_| InputError {
        field: "If-Match".to_string(),
        reason: format!("{text:?} is not a product version (the ETag of a GET)"),
        line: 1,
        column: 1,
    })
}

async fn create(State(state): State<AppState>, ApiJson(input): ApiJson<NewProduct>) -> Result<Response, ApiError> {
    let product = state.sdk.products().create(input).await?;
    let location = format!("/api/v1/products/{}", product.id);
    let mut response = with_etag(StatusCode::CREATED, product);
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `?brand_id=&supplier_id=&category_id=&status=&in_stock=&price_min=&price_max=&currency=&price_type=
/// &updated_since=&sort=&descending=&limit=&cursor=`
async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ProductQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.products().list(&query).await?))
}

/// By id, GTIN, SKU or ASIN.
async fn find(State(state): State<AppState>, Path(key): Path<String>) -> Result<Response, ApiError> {
    Ok(with_etag(StatusCode::OK, state.sdk.products().find(&key).await?))
}

async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(mut input): ApiJson<NewProduct>,
) -> Result<Response, ApiError> {
    let id = parse_id("id", &id)?;
    input.version = input.version.or(if_match(&headers)?);
    Ok(with_etag(StatusCode::OK, state.sdk.products().update(id, input).await?))
}

async fn patch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(mut input): ApiJson<ProductPatch>,
) -> Result<Response, ApiError> {
    let id = parse_id("id", &id)?;
    input.version = input.version.or(if_match(&headers)?);
    Ok(with_etag(StatusCode::OK, state.sdk.products().patch(id, input).await?))
}

/// Soft delete.
async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.sdk.products().delete(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn purge(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.sdk.products().purge(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkGet {
    ids: Vec<Uuid>,
}

async fn bulk_get(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<BulkGet>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.products().get_many(&input.ids).await?))
}
