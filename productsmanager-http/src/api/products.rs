//! `/api/v1/products`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use productsmanager_core::analytics::{AnalyticsEvent, EventKind};
use productsmanager_core::catalog::{
    CatalogError, FieldAction, FieldProvenance, NewProduct, Page, Product, ProductPatch, ProductQuery,
};
use productsmanager_core::input::{InputError, parse_id};
use serde::Deserialize;
use uuid::Uuid;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiQuery, Caller};
use crate::AppState;
use crate::error::{ApiError, Problem, precondition_failed};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(bulk_get))
        .routes(routes!(find, update, patch, delete))
        .routes(routes!(purge))
        .routes(routes!(provenance))
        .routes(routes!(set_field_rule))
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

/// The version a write expects: the body's `version`, else the `If-Match` header's. True when it came from the
/// header (a mismatch is then a failed precondition, 412).
fn expect_version(version: &mut Option<i32>, headers: &HeaderMap) -> Result<bool, InputError> {
    let precondition = if_match(headers)?;
    let from_header = version.is_none() && precondition.is_some();
    *version = version.or(precondition);
    Ok(from_header)
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

/// A version conflict on a write whose expected version came from `If-Match` is a failed precondition (412),
/// not a conflict in the body (409).
fn written(result: Result<Product, productsmanager_core::Error>, from_header: bool) -> Response {
    match result {
        Ok(product) => with_etag(StatusCode::OK, product),
        Err(error @ productsmanager_core::Error::Catalog(CatalogError::VersionConflict { .. })) if from_header => {
            precondition_failed(error.to_string())
        }
        Err(other) => ApiError(other).into_response(),
    }
}

#[utoipa::path(post, path = "/api/v1/products", tag = "products", security(("bearer" = ["catalog:write"])), request_body = NewProduct,
    responses((status = 201, description = "Created; `Location` names it, `ETag` is its version", body = Product),
        (status = 409, description = "The GTIN, SKU or ASIN belongs to another product", body = Problem,
            content_type = "application/problem+json")))]
async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(input): ApiJson<NewProduct>,
) -> Result<Response, ApiError> {
    // Its fields are recorded as set by the caller.
    let product = state.sdk.products().on_behalf_of(caller.user_id).create(input).await?;
    let location = format!("/api/v1/products/{}", product.id);
    let mut response = with_etag(StatusCode::CREATED, product);
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `?brand_id=&supplier_id=&category_id=&status=&in_stock=&price_min=&price_max=&currency=&price_type=
/// &updated_since=&sort=&descending=&limit=&cursor=`
#[utoipa::path(get, path = "/api/v1/products", tag = "products", security(("bearer" = ["catalog:read"])), params(ProductQuery),
    responses((status = 200, description = "A page of products; `next_cursor` fetches the next", body = Page<Product>)))]
async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(query): ApiQuery<ProductQuery>,
) -> Result<impl IntoResponse, ApiError> {
    // A search is recorded as the caller's.
    Ok(Json(state.sdk.products().on_behalf_of(caller.user_id).list(&query).await?))
}

/// By id, GTIN, SKU or ASIN.
#[utoipa::path(get, path = "/api/v1/products/{key}", tag = "products", security(("bearer" = ["catalog:read"])), params(("key" = String, Path, description = "Id, GTIN, SKU or ASIN (writes: the id)")),
    responses((status = 200, description = "The product; `ETag` is its version", body = Product)))]
async fn find(State(state): State<AppState>, Path(key): Path<String>) -> Result<Response, ApiError> {
    let product = state.sdk.products().find(&key).await?;
    // A view through the API, for the product's daily figures.
    state.sdk.analytics_events().record(AnalyticsEvent::now(EventKind::ProductViewed { product_id: product.id }));
    Ok(with_etag(StatusCode::OK, product))
}

#[utoipa::path(put, path = "/api/v1/products/{key}", tag = "products", security(("bearer" = ["catalog:write"])),
    params(("key" = Uuid, Path, description = "Id"), ("If-Match" = Option<String>, Header, description = "The `ETag` of the version read; refused with 412 if the product changed since")), request_body = NewProduct,
    responses((status = 200, description = "Replaced; `ETag` is the new version", body = Product),
        (status = 409, description = "The `version` in the body is not the current one", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names a version that is not the current one", body = Problem,
            content_type = "application/problem+json")))]
async fn update(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(mut input): ApiJson<NewProduct>,
) -> Result<Response, ApiError> {
    let id = parse_id("id", &id)?;
    let from_header = expect_version(&mut input.version, &headers)?;
    Ok(written(state.sdk.products().on_behalf_of(caller.user_id).update(id, input).await, from_header))
}

#[utoipa::path(patch, path = "/api/v1/products/{key}", tag = "products", security(("bearer" = ["catalog:write"])),
    params(("key" = Uuid, Path, description = "Id"), ("If-Match" = Option<String>, Header, description = "The `ETag` of the version read; refused with 412 if the product changed since")), request_body = ProductPatch,
    responses((status = 200, description = "Changed; `ETag` is the new version", body = Product),
        (status = 409, description = "The `version` in the body is not the current one", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names a version that is not the current one", body = Problem,
            content_type = "application/problem+json")))]
async fn patch(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(mut input): ApiJson<ProductPatch>,
) -> Result<Response, ApiError> {
    let id = parse_id("id", &id)?;
    let from_header = expect_version(&mut input.version, &headers)?;
    Ok(written(state.sdk.products().on_behalf_of(caller.user_id).patch(id, input).await, from_header))
}

/// Soft delete.
#[utoipa::path(delete, path = "/api/v1/products/{key}", tag = "products", security(("bearer" = ["catalog:write"])),
    params(("key" = Uuid, Path, description = "Id")),
    responses((status = 204, description = "Soft-deleted: gone from reads, its GTIN, SKU and ASIN freed")))]
async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.sdk.products().delete(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/products/{id}/purge", tag = "products", security(("bearer" = ["catalog:write"])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "A soft-deleted product removed for good, with everything that hangs on it"),
        (status = 409, description = "Not soft-deleted first, or a bundle contains it", body = Problem,
            content_type = "application/problem+json")))]
async fn purge(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.sdk.products().purge(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where each field's value came from: a person, a supplier's import, a platform, Code2ASIN; when; locked or not.
#[utoipa::path(get, path = "/api/v1/products/{key}/provenance", tag = "products", security(("bearer" = ["catalog:read"])),
    params(("key" = String, Path, description = "Id, GTIN, SKU or ASIN")),
    responses((status = 200, description = "Every field of the product with its source", body = Vec<FieldProvenance>)))]
async fn provenance(State(state): State<AppState>, Path(key): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let products = state.sdk.products();
    let product = products.find(&key).await?;
    Ok(Json(products.provenance(product.id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct FieldRule {
    /// `lock` (no source changes it), `unlock`, or `follow_suppliers` (the next supplier import sets it).
    action: FieldAction,
}

/// Locks or unlocks a field, or makes it follow the suppliers again.
#[utoipa::path(put, path = "/api/v1/products/{key}/provenance/{field}", tag = "products", security(("bearer" = ["catalog:write"])),
    params(("key" = String, Path, description = "Id, GTIN, SKU or ASIN"),
        ("field" = String, Path, description = "title, description, brand, status, sku, gtin, asin or price:<type>:<currency>")),
    request_body = FieldRule,
    responses((status = 200, description = "The product's provenance afterwards", body = Vec<FieldProvenance>)))]
async fn set_field_rule(
    State(state): State<AppState>,
    Path((key, field)): Path<(String, String)>,
    ApiJson(rule): ApiJson<FieldRule>,
) -> Result<impl IntoResponse, ApiError> {
    let products = state.sdk.products();
    let product = products.find(&key).await?;
    Ok(Json(products.set_field_rule(product.id, &field, rule.action).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct BulkGet {
    ids: Vec<Uuid>,
}

#[utoipa::path(post, path = "/api/v1/products/bulk-get", tag = "products", security(("bearer" = ["catalog:read"])), request_body = BulkGet,
    responses((status = 200, description = "The products found, in the order asked; unknown ids are left out",
        body = Vec<Product>)))]
async fn bulk_get(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<BulkGet>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.products().get_many(&input.ids).await?))
}
