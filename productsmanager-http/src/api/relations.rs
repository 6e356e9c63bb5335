//! Variants, bundles and SEO metadata.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, put};
use axum::{Json, Router};
use productsmanager_core::catalog::{NewBundleItem, NewSeo, NewVariant};
use productsmanager_core::input::parse_id;
use serde::Deserialize;

use super::ApiJson;
use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/variants", put(set_variant))
        .route("/api/v1/variants/{product_id}", delete(remove_variant))
        .route("/api/v1/products/{id}/variants", get(variants_of))
        .route("/api/v1/products/{id}/bundle", get(bundle_of).put(set_bundle).delete(remove_bundle))
        .route("/api/v1/seo", put(set_seo))
        .route("/api/v1/products/{id}/seo", get(seo_of))
}

async fn set_variant(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewVariant>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.variants().set(input).await?))
}

async fn remove_variant(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.sdk.variants().remove(parse_id("product_id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn variants_of(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.variants().of(parse_id("id", &id)?).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BundleBody {
    items: Vec<NewBundleItem>,
}

async fn bundle_of(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.bundles().get(parse_id("id", &id)?).await?))
}

async fn set_bundle(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<BundleBody>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.bundles().set(parse_id("id", &id)?, body.items).await?))
}

async fn remove_bundle(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.sdk.bundles().remove(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_seo(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewSeo>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.seo().set(input).await?))
}

async fn seo_of(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.seo().of(parse_id("id", &id)?).await?))
}
