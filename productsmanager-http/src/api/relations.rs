//! Variants, bundles and SEO metadata.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use productsmanager_core::catalog::{Bundle, NewBundleItem, NewSeo, NewVariant, Seo, Variant};
use productsmanager_core::input::parse_id;
use serde::Deserialize;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, Caller};
use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_variant))
        .routes(routes!(remove_variant))
        .routes(routes!(variants_of))
        .routes(routes!(bundle_of, set_bundle, remove_bundle))
        .routes(routes!(set_seo))
        .routes(routes!(seo_of))
}

#[utoipa::path(put, path = "/api/v1/variants", tag = "relations", security(("bearer" = ["catalog:write"])), request_body = NewVariant,
    responses((status = 200, description = "The product is now a variant of the parent", body = Variant)))]
async fn set_variant(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewVariant>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.variants().set(input).await?))
}

#[utoipa::path(delete, path = "/api/v1/variants/{product_id}", tag = "relations", security(("bearer" = ["catalog:write"])),
    params(("product_id" = Uuid, Path)),
    responses((status = 204, description = "The product stands alone again")))]
async fn remove_variant(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.sdk.variants().remove(parse_id("product_id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/products/{id}/variants", tag = "relations", security(("bearer" = ["catalog:read"])), params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 200, description = "The parent's variants", body = Vec<Variant>)))]
async fn variants_of(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.variants().of(parse_id("id", &id)?).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct BundleBody {
    items: Vec<NewBundleItem>,
}

#[utoipa::path(get, path = "/api/v1/products/{id}/bundle", tag = "relations", security(("bearer" = ["catalog:read"])), params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 200, description = "The bundle's items", body = Bundle)))]
async fn bundle_of(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.bundles().get(parse_id("id", &id)?).await?))
}

#[utoipa::path(put, path = "/api/v1/products/{id}/bundle", tag = "relations", security(("bearer" = ["catalog:write"])), params(("id" = Uuid, Path, description = "Product id")),
    request_body = BundleBody,
    responses((status = 200, description = "The bundle as stored", body = Bundle)))]
async fn set_bundle(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<BundleBody>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.bundles().set(parse_id("id", &id)?, body.items).await?))
}

#[utoipa::path(delete, path = "/api/v1/products/{id}/bundle", tag = "relations", security(("bearer" = ["catalog:write"])), params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 204, description = "No longer a bundle")))]
async fn remove_bundle(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.sdk.bundles().remove(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/seo", tag = "relations", security(("bearer" = ["catalog:write"])), request_body = NewSeo,
    responses((status = 200, description = "The SEO metadata as stored", body = Seo)))]
async fn set_seo(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(input): ApiJson<NewSeo>,
) -> Result<impl IntoResponse, ApiError> {
    // Recorded as set by the caller: a supplier file then keeps it (the product's provenance).
    Ok(Json(state.sdk.seo().on_behalf_of(caller.user_id).set(input).await?))
}

#[utoipa::path(get, path = "/api/v1/products/{id}/seo", tag = "relations", security(("bearer" = ["catalog:read"])), params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 200, description = "The product's SEO metadata, per locale", body = Vec<Seo>)))]
async fn seo_of(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.seo().of(parse_id("id", &id)?).await?))
}
