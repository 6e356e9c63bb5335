//! `/api/v1/products`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use productsmanager_core::analytics::{AnalyticsEvent, EventKind};
use productsmanager_core::catalog::{
    CatalogError, DuplicateCandidate, DuplicateQuery, FieldAction, FieldProvenance, NewProduct, Page, Product,
    ProductChange, ProductMerge, ProductPatch, ProductQuery,
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
        .routes(routes!(history))
        .routes(routes!(set_field_rule))
        .routes(routes!(duplicates))
        .routes(routes!(merge))
        .routes(routes!(merges))
        .routes(routes!(get_merge))
        .routes(routes!(undo_merge))
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
    let merged_away = Uuid::parse_str(key.trim()).is_ok_and(|id| id != product.id);
    let location = format!("/api/v1/products/{}", product.id);
    let mut response = with_etag(StatusCode::OK, product);
    // The id of a product merged into another answers with the survivor, and says where it lives now.
    if merged_away && let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::CONTENT_LOCATION, location);
    }
    Ok(response)
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

/// `?limit=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    /// At most this many changes, newest first (1 to 1,000; default 50).
    limit: Option<u32>,
}

/// Each change of the product's fields since it was created, newest first: the value set, the value before, the
/// source (a person, a supplier's import with its job, Code2ASIN), locks and releases, merges — with the history of
/// the products merged into it.
#[utoipa::path(get, path = "/api/v1/products/{key}/history", tag = "products", security(("bearer" = ["catalog:read"])),
    params(("key" = String, Path, description = "Id, GTIN, SKU or ASIN"), HistoryQuery),
    responses((status = 200, description = "The changes, newest first", body = Vec<ProductChange>)))]
async fn history(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let products = state.sdk.products();
    let product = products.find(&key).await?;
    Ok(Json(products.history(product.id, query.limit.unwrap_or(50)).await?))
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
        ("field" = String, Path, description = "title, description, brand, status, sku, gtin, asin, price:<type>:<currency>, price_windows:<type>:<currency>, seo:<locale>, attribute:<name>, stock (stock:<location>), categories or images")),
    request_body = FieldRule,
    responses((status = 200, description = "The product's provenance afterwards", body = Vec<FieldProvenance>)))]
async fn set_field_rule(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((key, field)): Path<(String, String)>,
    ApiJson(rule): ApiJson<FieldRule>,
) -> Result<impl IntoResponse, ApiError> {
    // The lock or release is the caller's in the history.
    let products = state.sdk.products().on_behalf_of(caller.user_id);
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

/// Products that are probably one: brand and title alike, at least one without a GTIN, no attribute differing.
/// Best first, with the suggested survivor (the one with a GTIN, else the older). `?min_score=0.8&limit=50`
#[utoipa::path(get, path = "/api/v1/products/duplicates", tag = "products", security(("bearer" = ["catalog:read"])),
    params(DuplicateQuery),
    responses((status = 200, description = "Pairs of probable duplicates, best first", body = Vec<DuplicateCandidate>)))]
async fn duplicates(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DuplicateQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.merges().duplicates(query).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MergeRequest {
    /// The product merged into this one: id, GTIN, SKU, ASIN or supplier SKU.
    duplicate: String,
}

/// Merges a duplicate into this product: its offers, prices, attributes, categories, images, stock, SEO and
/// variants move here (where this product has its own, this product's stays); its empty fields are filled; the
/// duplicate is deleted softly and its id and identifiers answer with this product. Undone with
/// `POST /api/v1/product-merges/{id}/undo`.
#[utoipa::path(post, path = "/api/v1/products/{key}/merge", tag = "products", security(("bearer" = ["catalog:write"])),
    params(("key" = String, Path, description = "The survivor: id, GTIN, SKU or ASIN")),
    request_body = MergeRequest,
    responses((status = 201, description = "Merged; `Location` names the merge", body = ProductMerge),
        (status = 409, description = "A product changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "One product named twice, or a variant", body = Problem,
            content_type = "application/problem+json")))]
async fn merge(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<MergeRequest>,
) -> Result<Response, ApiError> {
    let merge = state.sdk.merges().on_behalf_of(caller.user_id).merge(&key, &input.duplicate).await?;
    let location = format!("/api/v1/product-merges/{}", merge.id);
    let mut response = (StatusCode::CREATED, Json(merge)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `?product=&limit=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct MergeFilter {
    /// Only the merges into or of this product (id, GTIN, SKU, ASIN or supplier SKU).
    product: Option<String>,
    /// At most this many, newest first (1 to 1,000; default 50).
    limit: Option<u32>,
}

/// The latest merges, newest first (undone ones included, with `undone_at`).
#[utoipa::path(get, path = "/api/v1/product-merges", tag = "products", security(("bearer" = ["catalog:read"])),
    params(MergeFilter),
    responses((status = 200, description = "Merges, newest first", body = Vec<ProductMerge>)))]
async fn merges(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<MergeFilter>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.merges().list(filter.product.as_deref(), filter.limit.unwrap_or(50)).await?))
}

#[utoipa::path(get, path = "/api/v1/product-merges/{id}", tag = "products", security(("bearer" = ["catalog:read"])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "One merge: what moved, what the survivor kept of its own", body = ProductMerge)))]
async fn get_merge(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.merges().get(parse_id("id", &id)?).await?))
}

/// Undoes a merge: what moved goes back, the merged product is live again.
#[utoipa::path(post, path = "/api/v1/product-merges/{id}/undo", tag = "products", security(("bearer" = ["catalog:write"])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Undone", body = ProductMerge),
        (status = 409, description = "Undone already, older than 30 days, its survivor merged or deleted since, or \
            one of the merged product's identifiers taken since", body = Problem,
            content_type = "application/problem+json")))]
async fn undo_merge(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.merges().undo(parse_id("id", &id)?).await?))
}
